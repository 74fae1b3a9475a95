# Protecting Matomo (issue 11, README "Protecting Matomo"), through the
# real Apache and the fake Matomo's brute-force, busy and 4.16.1 modes:
#
#   1. a burst of 2,000 random tokens, from one client address and from
#      several: the token-check budgets keep Matomo's checks few, nothing
#      locks Matomo, a valid token keeps working, the guesser gets 429;
#   2. Matomo's lock-out of the module's own address: recognised (the
#      lock-out's own tool error, no verdict on any token, tools/list still
#      served, one error-log line), and no unknown token checked meanwhile;
#   3. X-Forwarded-For: Matomo blocks the guessing client, not the module;
#      with MatomoMcpForwardClientAddress Off it sees the module only;
#   4. the cap on calls in flight per child;
#   5. the circuit breaker opening, staying open after a failed probe, and
#      closing after a good one;
#   6. Matomo 4.16.1's verdicts and every tool sample against its data.
#
# The test Apache runs 2 children (t/conf/mpm.conf.in), and every budget
# and limit is per child: assertions hold whichever child answers (at most
# twice a child's budget), and what must happen in one child runs on one
# keep-alive connection, which this file checks it kept.  Client addresses
# come from X-Test-Client-IP (mod_remoteip, t/conf/extra.conf.in).  No
# assertion is on how long anything took: where the breaker's pause must
# pass, the test waits it out, then asserts what happened.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use IO::Select ();
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use JSON::PP ();
use POSIX ();
use Socket qw(SOCK_STREAM);
use Time::HiRes ();
use McpTest;

my $JSON    = JSON::PP->new->canonical;
my $PORT    = Apache::Test::vars('port');
my $LOGS    = Apache::Test::vars('t_logs');
my $SUPER   = token('superuser');
my $VIEWER  = token('viewer');
my $JWT     = token('viewer_jwt');
my $ERROR_LOG = "$LOGS/error_log";

# A write to a connection the server has closed fails (and the request is
# sent again on a new one) instead of killing the test.
$SIG{PIPE} = 'IGNORE';

my $INIT = { protocolVersion => '2025-11-25', capabilities => {},
             clientInfo => { name => 't', version => '1' } };

# --- a keep-alive HTTP/1.1 client on raw sockets -----------------------------
# LWP would reconnect silently; here a test knows whether its requests kept
# to one connection (so to one child).  new(strict => 1): a connection the
# server closes is an error, not a reconnect.

package Conn {
    sub new {
        my ($class, %o) = @_;
        return bless { strict => $o{strict} // 0, opened => 0, sock => undef,
                       buf => '', error => undef }, $class;
    }
    sub opened { $_[0]{opened} }
    sub error  { $_[0]{error} }

    sub _connect {
        my $s = shift;
        $s->{sock} = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $PORT,
                                           Proto => 'tcp', Timeout => 30)
            or die "cannot connect to 127.0.0.1:$PORT: $!";
        $s->{sock}->autoflush(1);
        $s->{buf} = '';
        $s->{opened}++;
    }

    sub close { my $s = shift; close $s->{sock} if $s->{sock}; $s->{sock} = undef }

    # More bytes into buf; 0 at EOF.
    sub _fill {
        my $s = shift;
        my $sel = IO::Select->new($s->{sock});
        $sel->can_read(60) or die "no answer within 60 s";
        my $n = sysread($s->{sock}, my $chunk, 65536);
        return 0 unless $n;
        $s->{buf} .= $chunk;
        return 1;
    }

    # request(METHOD, PATH, BODY, HEADER => VALUE...): a hash
    # { code, h => { lc name => value }, body }, or undef when a strict
    # connection was closed under it (error() says so).
    sub request {
        my ($s, $method, $path, $body, @hdr) = @_;
        $body //= '';
        my $text = "$method $path HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\n";
        while (my ($k, $v) = splice @hdr, 0, 2) {
            $text .= "$k: $v\r\n" if defined $v;
        }
        $text .= 'Content-Length: ' . length($body) . "\r\n\r\n$body";
        for my $attempt (1, 2) {
            if (!$s->{sock}) {
                if ($s->{strict} && $s->{opened}) {
                    $s->{error} = 'the server closed the connection';
                    return undef;
                }
                $s->_connect;
            }
            print { $s->{sock} } $text;
            my $res = $s->_response;
            return $res if $res;
            # Closed before any byte of an answer: a kept-alive connection
            # the server let go (keep-alive timeout).
            $s->close;
            if ($s->{strict}) {
                $s->{error} = 'the server closed the connection';
                return undef;
            }
        }
        die "$method $path: no answer on a fresh connection";
    }

    sub _response {
        my $s = shift;
        while (index($s->{buf}, "\r\n\r\n") < 0) {
            return undef unless $s->_fill;
        }
        my $end  = index($s->{buf}, "\r\n\r\n");
        my $head = substr($s->{buf}, 0, $end + 4, '');
        my ($code) = $head =~ m{^HTTP/1\.[01] (\d{3})} or die "bad status line: $head";
        my %h;
        for my $line (split /\r\n/, $head) {
            $h{ lc $1 } = $2 if $line =~ /^([^:]+):\s*(.*)$/;
        }
        my $body = '';
        if (lc($h{'transfer-encoding'} // '') eq 'chunked') {
            for (;;) {
                $s->_fill or die 'EOF in a chunked answer' while $s->{buf} !~ /\r\n/;
                $s->{buf} =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n// or die 'bad chunk';
                my $n = hex $1;
                while (length($s->{buf}) < $n + 2) { $s->_fill or die 'EOF in a chunk' }
                $body .= substr($s->{buf}, 0, $n, '');
                substr($s->{buf}, 0, 2, '');
                if ($n == 0) { last }
            }
        } else {
            my $len = $h{'content-length'} // 0;
            while (length($s->{buf}) < $len) { $s->_fill or die 'EOF in an answer' }
            $body = substr($s->{buf}, 0, $len, '');
        }
        $s->close if lc($h{connection} // '') eq 'close';
        return { code => $code, h => \%h, body => $body };
    }
}

my $NEXT_ID = 0;

# rpc(CONN, PATH, METHOD, PARAMS, token => ..., from => ADDRESS):
# (answer, decoded body, the request's id).  An event-stream answer is
# reduced to its last event's data.
sub rpc_on {
    my ($conn, $path, $method, $params, %o) = @_;
    my $id = ++$NEXT_ID;
    my %msg = (jsonrpc => '2.0', id => $id, method => $method);
    $msg{params} = $params if defined $params;
    my $res = $conn->request(POST => $path, $JSON->encode(\%msg),
        'Content-Type'     => 'application/json',
        'Accept'           => 'application/json, text/event-stream',
        'Authorization'    => exists $o{token} ? (defined $o{token} ? "Bearer $o{token}" : undef)
                                               : "Bearer $SUPER",
        'X-Test-Client-IP' => $o{from});
    return (undef, undef, $id) unless $res;
    my $data = $res->{body};
    if (($res->{h}{'content-type'} // '') =~ m{^text/event-stream}) {
        my @data = $data =~ /^data: ?(.*)$/mg;
        $data = $data[-1] // '';
    }
    my $j = eval { JSON::PP->new->decode($data) };
    return ($res, $j, $id);
}

sub tool_on {
    my ($conn, $path, $name, $args, %o) = @_;
    return rpc_on($conn, $path, 'tools/call', { name => $name, arguments => $args // {} }, %o);
}

sub tool_text { my $j = shift; return ($j && $j->{result} && $j->{result}{content}[0]{text}) // '' }
sub is_tool_error { my $j = shift; return $j && $j->{result} && $j->{result}{isError} }

# The site ids of a matomo_list_sites answer, or '' when it is no data.
sub site_ids {
    my $j = shift;
    my $t = $j && $j->{result} && !$j->{result}{isError} && $j->{result}{structuredContent}
            && $j->{result}{structuredContent}{sites} or return '';
    my ($col) = grep { $t->{columns}[$_] eq 'id' } 0 .. $#{ $t->{columns} };
    return join ',', sort { $a <=> $b } map { $_->[$col] } @{ $t->{rows} };
}

my $tok_n = 0;
sub random_token { return sprintf '%08x%08x%08x%08x', ++$tok_n, map { int rand 0xffffffff } 1 .. 3 }

# The fake Matomo's controls (t/matomo/README.md).
my $CONTROL = Conn->new;
sub control {
    my ($what, $query) = @_;
    my $path = "/matomo-control/$what" . (defined $query ? "?$query" : '');
    my $res = $CONTROL->request($what eq 'state' ? 'GET' : 'POST', $path, '');
    return JSON::PP->new->decode($res->{body});
}

# The fake's request log lines for one Matomo URL path since a mark.
sub fake_lines {
    my ($mark, $path) = @_;
    return grep { !exists $_->{control} && !exists $_->{outcome}
                  && (!defined $path || ($_->{path} // '') eq $path) } fake_log_since($mark);
}
sub unknown_checks { return grep { $_->{method} eq 'API.getMatomoVersion' && $_->{who} eq 'unknown' } @_ }

sub error_log_mark { return -s $ERROR_LOG // 0 }
sub error_log_since {
    my $mark = shift;
    open my $fh, '<', $ERROR_LOG or die "$ERROR_LOG: $!";
    seek $fh, $mark, 0;
    return <$fh>;
}
my $LOCKOUT_LINE = qr/\[matomo_mcp:error\].*refuses every request of this server/;

# ============================================================================
# 1. A burst of random tokens against Matomo's default lock-out
# ============================================================================
# /mcp-protect-burst: MatomoMcpTokenCheckBudget 2 8 1h against /matomo-bf/
# (20 failed logins lock the connecting address, i.e. the module's).  Per
# child: 2 refused checks per client address, 8 / 2 children = 4 in all.

my $BURST      = '/mcp-protect-burst';
my $BURST_BF   = '/matomo-bf/index.php';
my $PER_CLIENT = 2;
my $TOTAL      = 4;     # per child
my $CHILDREN   = 2;
my $HONEST     = '192.0.2.10';

# Guesses, each with a new random token, initialize and tools/list by
# turns, from the addresses given in turn; every connection (MaxKeepAlive-
# Requests ends one every 100 requests) starts with a valid token's tool
# call from another address, and every 50th request is one too: a child
# meets the valid token before any guess (so it is a token known good
# there, which no guessing may slow: README), and the token is used all
# through the burst.
sub burst {
    my ($n, @from) = @_;
    my $conn = Conn->new;
    my (%status, @valid, @r429, @r401, %by_addr);
    my $opened = -1;
    for my $i (1 .. $n) {
        if ($conn->opened != $opened || $i % 50 == 0) {
            my ($res, $j) = tool_on($conn, $BURST, 'matomo_list_sites', {}, from => $HONEST);
            push @valid, [ $res->{code}, site_ids($j) ];
            $opened = $conn->opened;
        }
        my $from = $from[ $i % @from ];
        my ($method, $params) = $i % 2 ? ('initialize', $INIT) : ('tools/list', undef);
        my ($res, $j, $id) = rpc_on($conn, $BURST, $method, $params, token => random_token(), from => $from);
        $status{ $res->{code} }++;
        $by_addr{$from}{ $res->{code} }++;
        push @r429, [ $res, $j, $id ] if $res->{code} == 429;
        push @r401, [ $res, $j, $id ] if $res->{code} == 401;
    }
    $conn->close;
    return { status => \%status, valid => \@valid, r429 => \@r429, r401 => \@r401,
             by_addr => \%by_addr, connections => $conn->opened };
}

# What every answer of a burst must be.
sub burst_answers_ok {
    my ($b, $what) = @_;
    my $meta = qr{^Bearer resource_metadata="http://[^"]+/\.well-known/oauth-protected-resource\Q$BURST\E"$};
    my @bad429 = grep {
        my ($res, $j, $id) = @$_;
        !(($res->{h}{'retry-after'} // '') =~ /^[1-9][0-9]*$/
          && ($res->{h}{'www-authenticate'} // '') =~ $meta
          && $j && defined $j->{id} && $j->{id} eq $id && !exists $j->{result}
          && $j->{error} && $j->{error}{code} == -32000
          && $j->{error}{message} =~ /Too many unknown tokens/)
    } @{ $b->{r429} };
    is(scalar @bad429, 0, "$what: every 429 has Retry-After (a positive integer), the plain challenge "
       . '(resource_metadata, no error=) and a JSON-RPC error with the request\'s id')
        or diag($JSON->encode([ map { [ $_->[0]{h}, $_->[0]{body} ] } @bad429[0 .. 2] ]));
    my @bad401 = grep { ($_->[0]{h}{'www-authenticate'} // '') !~ /error="invalid_token"/ } @{ $b->{r401} };
    is(scalar @bad401, 0, "$what: every 401 says invalid_token");
    my @valid_bad = grep { $_->[0] != 200 || $_->[1] ne '1,2,3' } @{ $b->{valid} };
    ok(@{ $b->{valid} } >= 2 && !@valid_bad,
       "$what: the valid token's " . scalar(@{ $b->{valid} }) . ' tool calls during the burst all answered (sites 1,2,3)')
        or diag($JSON->encode(\@valid_bad));
}

subtest '2,000 random tokens: the budget holds, nothing locks Matomo' => sub {
    control('bruteforce/reset', 'mount=/matomo-bf/');
    my $mark = fake_log_mark();

    # From one address.
    my $one = burst(1000, '198.51.100.23');
    my @seen1   = fake_lines($mark, $BURST_BF);
    my @checks1 = unknown_checks(@seen1);
    note(sprintf 'one address: %d requests on %d connections: %s; %d unknown tokens reached Matomo',
         1000, $one->{connections}, $JSON->encode($one->{status}), scalar @checks1);
    is_deeply([ sort keys %{ $one->{status} } ], [ 401, 429 ], 'one address: every guess got 401 or 429');
    cmp_ok(scalar @checks1, '>=', 1, 'one address: its first guesses were checked (401)');
    cmp_ok(scalar @checks1, '<=', $PER_CLIENT * $CHILDREN,
           "one address: at most $PER_CLIENT checks per child reached Matomo");
    is($one->{status}{401} // 0, scalar @checks1, 'one address: a 401 for each check, nothing else judged');
    burst_answers_ok($one, 'one address');

    # From several addresses: the total budget holds, whatever their number.
    my $mark2 = fake_log_mark();
    my @addrs = map { "203.0.113.$_" } 1 .. 8;
    my $many = burst(1000, @addrs);
    my @seen2   = fake_lines($mark2, $BURST_BF);
    my @checks2 = unknown_checks(@seen2);
    note(sprintf 'eight addresses: %d requests on %d connections: %s; %d unknown tokens reached Matomo',
         1000, $many->{connections}, $JSON->encode($many->{status}), scalar @checks2);
    is_deeply([ sort keys %{ $many->{status} } ], [ 401, 429 ], 'eight addresses: every guess got 401 or 429');
    cmp_ok(scalar @checks2, '>=', 1, 'eight addresses: new addresses were checked while the total lasted');
    cmp_ok(@checks1 + @checks2, '<=', $TOTAL * $CHILDREN,
           "both bursts together: at most the total budget ($TOTAL per child) reached Matomo");
    is($many->{status}{401} // 0, scalar @checks2, 'eight addresses: a 401 for each check');
    my @over = grep { ($many->{by_addr}{$_}{401} // 0) > $PER_CLIENT * $CHILDREN } @addrs;
    is(scalar @over, 0, 'eight addresses: none had more than its own budget checked');
    burst_answers_ok($many, 'eight addresses');

    # Nothing locked Matomo: no lock-out answer, failed logins far below 20.
    my @all = fake_lines($mark, $BURST_BF);
    is(scalar(grep { $_->{blocked} } @all), 0, 'the fake Matomo never answered with its lock-out');
    my $state = control('state')->{bruteforce}{'/matomo-bf/'} // {};
    is_deeply($state, { '127.0.0.1' => @checks1 + @checks2 },
              'the fake Matomo counts exactly those failed logins, all from the module\'s address, below its 20');
    my @valid_checks = grep { $_->{method} eq 'API.getMatomoVersion' && $_->{who} eq 'superuser' } @all;
    cmp_ok(scalar @valid_checks, '<=', $CHILDREN, 'the valid token was checked once per child at most');

    # After: the valid token still works, on a new connection; the guessers
    # still get 429 there.
    my $after = Conn->new;
    my ($res, $j) = tool_on($after, $BURST, 'matomo_list_sites', {}, from => $HONEST);
    is(site_ids($j), '1,2,3', 'after the burst: the valid token works');
    ($res) = rpc_on($after, $BURST, 'tools/list', undef, token => random_token(), from => '198.51.100.23');
    is($res->{code}, 429, 'after the burst: the guesser still gets 429');
    $after->close;
};

# ============================================================================
# 2. Matomo locks the module's own address out
# ============================================================================
# /mcp-protect-lockout against /matomo-bf3/ (3 failed logins from the
# connecting address, the module's), budgets out of the way.  On one
# connection, so in one child: the valid token is known good there first.

my $LOCK    = '/mcp-protect-lockout';
my $LOCK_BF = '/matomo-bf3/index.php';

subtest 'Matomo\'s lock-out of the module\'s address is recognised' => sub {
    control('bruteforce/reset', 'mount=/matomo-bf3/');
    my $c = Conn->new(strict => 1);
    my ($res, $j) = tool_on($c, $LOCK, 'matomo_list_sites', {}, from => '192.0.2.20');
    is(site_ids($j), '1,2,3', 'before: the valid token works (and is known good in this child)');

    my $mark = fake_log_mark();
    my @codes = map { (rpc_on($c, $LOCK, 'tools/list', undef, token => random_token(), from => '198.51.100.30'))[0]{code} } 1 .. 4;
    is_deeply(\@codes, [ (401) x 4 ], 'four unknown tokens: 401 each');
    my @seen = fake_lines($mark, $LOCK_BF);
    is_deeply([ map { [ @$_{qw(client_ip failed_login blocked)} ] } @seen ], [ ([ '127.0.0.1', 1, 0 ]) x 4 ],
              'the fake counted four failed logins, all against the module\'s address');
    is_deeply(control('state')->{bruteforce}{'/matomo-bf3/'}, { '127.0.0.1' => 4 }, 'Matomo now blocks the module');

    my $emark = error_log_mark();
    $mark = fake_log_mark();
    ($res, $j) = tool_on($c, $LOCK, 'matomo_traffic_summary',
                         { idSite => 1, period => 'day', date => '2026-11-25' }, from => '192.0.2.20');
    is($res->{code}, 200, 'valid token, tool call: HTTP 200 (no verdict on the token: not 401)');
    ok(is_tool_error($j), '... a tool error');
    like(tool_text($j), qr/too many failed logins.*brute-force protection/i, '... naming Matomo\'s lock-out');
    unlike(tool_text($j), qr/HTTP 500/, '... not "Matomo answered HTTP 500"');
    my @blocked = fake_lines($mark, $LOCK_BF);
    is_deeply([ map { [ @$_{qw(who blocked)} ] } @blocked ], [ [ 'superuser', 1 ] ],
              'the tool\'s call reached Matomo and met the lock-out');

    ($res, $j) = tool_on($c, $LOCK, 'matomo_list_sites', {}, from => '192.0.2.20');
    ok($res->{code} == 200 && tool_text($j) =~ /too many failed logins/i,
       'valid token again: the same tool error, not a 401');
    ($res, $j) = rpc_on($c, $LOCK, 'tools/list', undef, from => '192.0.2.20');
    ok($res->{code} == 200 && $j->{result} && @{ $j->{result}{tools} || [] },
       'valid token, tools/list: still served');

    # Tokens without a verdict: neither checked nor refused meanwhile.
    my $cmark = fake_log_mark();
    ($res, $j) = rpc_on($c, $LOCK, 'initialize', $INIT, token => $VIEWER, from => '192.0.2.21');
    ok($res->{code} == 200 && $j->{result}{serverInfo}, 'a valid token not known yet: initialize 200, not 401');
    ($res, $j) = tool_on($c, $LOCK, 'matomo_list_sites', {}, token => $VIEWER, from => '192.0.2.21');
    like(tool_text($j), qr/too many failed logins/i, '... its tool call: the lock-out\'s tool error');
    my @unknown = map { [ rpc_on($c, $LOCK, 'tools/list', undef, token => random_token(), from => '198.51.100.31') ] } 1 .. 3;
    is_deeply([ map { $_->[0]{code} } @unknown ], [ 200, 200, 200 ],
              'unknown tokens during the back-off: not judged (no 401), tools/list served');
    ($res, $j) = rpc_on($c, $LOCK, 'initialize', $INIT, token => random_token(), from => '198.51.100.30');
    is($res->{code}, 200, 'the earlier guesser, a new token: initialize 200 (not judged)');
    # The module forwards each caller's address, and this Matomo ignores
    # it: the first lock-out could have been 192.0.2.20's own, so one more
    # check (the viewer's, from another client) meets it before the module
    # takes the lock for everyone's; after that, none.
    my @checks = grep { $_->{method} eq 'API.getMatomoVersion' } fake_lines($cmark, $LOCK_BF);
    is_deeply([ map { [ @$_{qw(who blocked)} ] } @checks ], [ [ 'viewer', 1 ] ],
              'during the back-off one token check reached Matomo: the second client\'s, which showed the lock is everyone\'s');

    my @elog = grep { $_ =~ $LOCKOUT_LINE } error_log_since($emark);
    is(scalar @elog, 1, 'one error-log line for the incident')
        or diag(@elog);
    like($elog[0] // '', qr{Matomo \(http://127\.0\.0\.1:\d+\Q$LOCK_BF\E\) refuses every request of this server.*proxy_client_headers}, '... naming the Matomo and the fix');

    # Matomo's admin clears the block: the valid token works again.
    control('bruteforce/reset', 'mount=/matomo-bf3/');
    ($res, $j) = tool_on($c, $LOCK, 'matomo_list_sites', {}, from => '192.0.2.20');
    is(site_ids($j), '1,2,3', 'after Matomo\'s block is cleared, the valid token works again');
    ok(!$c->error && $c->opened == 1, 'all on one connection (one child)') or diag($c->error);
    $c->close;
};

# ============================================================================
# 3. X-Forwarded-For: Matomo blocks the guesser, not the module
# ============================================================================

my $XFF      = '/mcp-protect-xff';
my $XFF_BF   = '/matomo-bf3-trusted/index.php';
my $NOXFF    = '/mcp-protect-noxff';
my $NOXFF_BF = '/matomo-bf-trusted/index.php';

subtest 'X-Forwarded-For: Matomo blocks the guessing client only' => sub {
    control('bruteforce/reset', 'mount=/matomo-bf3-trusted/');
    control('bruteforce/reset', 'mount=/matomo-bf-trusted/');
    my $emark = error_log_mark();
    my $c = Conn->new;
    my $mark = fake_log_mark();
    my $GUESSER = '198.51.100.40';
    my @codes = map { (rpc_on($c, $XFF, 'tools/list', undef, token => random_token(), from => $GUESSER))[0]{code} } 1 .. 4;
    is_deeply(\@codes, [ (401) x 4 ], 'four unknown tokens from one client: 401 each');
    my @seen = fake_lines($mark, $XFF_BF);
    is_deeply([ map { [ @$_{qw(remote_addr client_ip failed_login)} ] } @seen ], [ ([ '127.0.0.1', $GUESSER, 1 ]) x 4 ],
              'Matomo counted them against the guesser\'s address (from X-Forwarded-For), not the module\'s');
    is_deeply(control('state')->{bruteforce}{'/matomo-bf3-trusted/'}, { $GUESSER => 4 },
              'Matomo blocks the guesser');

    $mark = fake_log_mark();
    my ($res, $j) = rpc_on($c, $XFF, 'tools/list', undef, token => random_token(), from => $GUESSER);
    isnt($res->{code}, 401, 'the guesser\'s next token: not judged by the lock-out');
    my @blocked = fake_lines($mark, $XFF_BF);
    is_deeply([ map { [ @$_{qw(client_ip blocked)} ] } @blocked ], [ [ $GUESSER, 1 ] ],
              '... Matomo answered it with its lock-out, for the guesser\'s address');

    # Another client: a token known good and one not checked yet both work.
    my $other = Conn->new;
    $mark = fake_log_mark();
    ($res, $j) = tool_on($other, $XFF, 'matomo_list_sites', {}, from => '192.0.2.30');
    is(site_ids($j), '1,2,3', 'another client\'s valid token works');
    ($res, $j) = rpc_on($other, $XFF, 'initialize', $INIT, token => $VIEWER, from => '192.0.2.31');
    is($res->{code}, 200, 'another client\'s token not known yet: checked and accepted');
    ($res, $j) = tool_on($other, $XFF, 'matomo_list_sites', {}, token => $VIEWER, from => '192.0.2.31');
    is(site_ids($j), '2', '... and its tool call answered');
    ($res) = rpc_on($other, $XFF, 'tools/list', undef, token => random_token(), from => '192.0.2.32');
    is($res->{code}, 401, 'a third client\'s unknown token is still checked (401): no back-off for everyone');
    @seen = fake_lines($mark, $XFF_BF);
    my %ips = map { $_->{client_ip} => 1 } @seen;
    ok(!grep({ $_->{blocked} } @seen) && join(',', sort keys %ips) eq '192.0.2.30,192.0.2.31,192.0.2.32',
       'Matomo saw each client\'s own address, none blocked')
        or diag($JSON->encode(\@seen));
    is(scalar(grep { $_ =~ $LOCKOUT_LINE } error_log_since($emark)), 0,
       'no error-log line: the module\'s address was never blocked');

    # The guesser also holds a valid token, known good in this child: its
    # tool call meets Matomo's block of its own address.  That is the
    # guesser's lock, not the module's: no error line, and other clients'
    # new tokens are still checked.
    my $known = Conn->new;
    ($res, $j) = tool_on($known, $XFF, 'matomo_list_sites', {}, from => '192.0.2.34');
    is(site_ids($j), '1,2,3', 'a valid token, known good in this child');
    $emark = error_log_mark();
    ($res, $j) = tool_on($known, $XFF, 'matomo_list_sites', {}, from => $GUESSER);
    like(tool_text($j), qr/too many failed logins/i,
         'the same valid token from the blocked guesser: the lock-out\'s tool error');
    $mark = fake_log_mark();
    ($res) = rpc_on($known, $XFF, 'tools/list', undef, token => random_token(), from => '192.0.2.35');
    is($res->{code}, 401, '... another client\'s unknown token is still checked (401): the guesser\'s lock stops nobody else');
    is(scalar(grep { $_->{method} eq 'API.getMatomoVersion' } fake_lines($mark, $XFF_BF)), 1,
       '... that check reached Matomo');
    is(scalar(grep { $_ =~ $LOCKOUT_LINE } error_log_since($emark)), 0,
       '... and no error-log line: the module\'s address is not blocked');
    $known->close;

    # MatomoMcpForwardClientAddress Off: Matomo sees the module only.
    $mark = fake_log_mark();
    ($res, $j) = tool_on($other, $NOXFF, 'matomo_list_sites', {}, from => '192.0.2.33');
    is(site_ids($j), '1,2,3', 'Off: the valid token works') or diag(tool_text($j));
    ($res) = rpc_on($other, $NOXFF, 'tools/list', undef, token => random_token(), from => '198.51.100.41');
    is($res->{code}, 401, 'Off: an unknown token, 401');
    @seen = fake_lines($mark, $NOXFF_BF);
    ok(@seen >= 2 && !grep({ $_->{client_ip} ne '127.0.0.1' || $_->{remote_addr} ne '127.0.0.1' } @seen),
       'Off: Matomo saw only the module\'s address (' . scalar(@seen) . ' calls)')
        or diag($JSON->encode(\@seen));
    is_deeply(control('state')->{bruteforce}{'/matomo-bf-trusted/'}, { '127.0.0.1' => 1 },
              'Off: the failed login counts against the module');
    $c->close;
    $other->close;
    control('bruteforce/reset', 'mount=/matomo-bf3-trusted/');
    control('bruteforce/reset', 'mount=/matomo-bf-trusted/');
};

# ============================================================================
# 4. At most so many calls in flight per child
# ============================================================================
# /mcp-protect-busy: MatomoMcpBackendConcurrency 2 100ms against a Matomo
# taking 1.5 s per call (busy mode counts the calls in flight across both
# children; it can hold 10 at once).

my $BUSY    = '/mcp-protect-busy';
my $BUSY_MT = '/matomo-fault/busy/1500/index.php';

subtest 'the concurrency cap holds' => sub {
    control('busy/reset');
    my $mark = fake_log_mark();
    my $N = 8;
    my @conns = map { Conn->new } 1 .. $N;
    my $body = sub {
        $JSON->encode({ jsonrpc => '2.0', id => $_[0], method => 'tools/call',
                        params => { name => 'matomo_list_sites', arguments => {} } });
    };
    # All sent before any answer is read.
    for my $i (0 .. $N - 1) {
        my $c = $conns[$i];
        $c->_connect;
        my $b = $body->($i + 1);
        print { $c->{sock} } "POST $BUSY HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\n"
            . "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            . "Authorization: Bearer $SUPER\r\nX-Test-Client-IP: 192.0.2.4$i\r\n"
            . 'Content-Length: ' . length($b) . "\r\n\r\n$b";
    }
    my @answers = map {
        my $res = $conns[$_]->_response;
        my $j = $res && eval { JSON::PP->new->decode($res->{body}) };
        $conns[$_]->close;
        [ $res ? $res->{code} : 0, $j ];
    } 0 .. $N - 1;
    my @data = grep { $_->[0] == 200 && site_ids($_->[1]) eq '1,2,3' } @answers;
    my @busy = grep { $_->[0] == 200 && tool_text($_->[1]) =~ /^Matomo is busy: 2 calls of this server are already waiting/ } @answers;
    note(sprintf '%d concurrent tool calls: %d answered, %d told Matomo is busy', $N, scalar @data, scalar @busy);
    is(@data + @busy, $N, 'every call was answered with data or the busy tool error')
        or diag($JSON->encode([ map { $_->[1] } @answers ]));
    cmp_ok(scalar @busy, '>=', 1, 'some callers were told Matomo is busy');
    cmp_ok(scalar @data, '>=', 1, 'some got their data');
    my $state = control('state')->{busy};
    my @lines = fake_lines($mark, $BUSY_MT);
    note("busy state: " . $JSON->encode($state) . '; calls in flight at each arrival: '
         . join(',', map { $_->{in_flight} } @lines));
    cmp_ok($state->{max_in_flight}, '<=', 2 * $CHILDREN, 'the fake never had more than 2 calls per child in flight');
    cmp_ok($state->{max_in_flight}, '>=', 1, '... and did have calls in flight');
    is(scalar(grep { $_->{in_flight} > 2 * $CHILDREN } @lines), 0, '... on any call\'s arrival (log)');
    is($state->{calls}, scalar @lines, 'the calls counted are those logged');
    cmp_ok(scalar @lines, '<=', 2 * @data + @busy,
           'no more calls reached Matomo than a token check and a tool call per answered caller, one per busy one');
};

# ============================================================================
# 5. The circuit breaker
# ============================================================================
# /mcp-protect-breaker: MatomoMcpCircuitBreaker 3 10s, Matomo through a
# Unix socket relayed here to the fake Matomo.  The relay reads each
# request whole and, while the flag file exists, sends it to the fake's
# HTTP 500 fault instead of its API; it notes each request it carries.

my $SOCKET = "/tmp/mod_matomo_mcp-breaker-$PORT.sock";
my $FAIL   = "$LOGS/breaker_fail";
my $CARRIED = "$LOGS/breaker_relay.log";
my $BREAKER = '/mcp-protect-breaker';

sub write_all {
    my ($to, $buf) = @_;
    my $off = 0;
    while ($off < length $buf) {
        my $w = syswrite($to, $buf, length($buf) - $off, $off);
        return 0 unless $w;
        $off += $w;
    }
    return 1;
}

sub breaker_relay_one {
    my ($client) = @_;
    my $server = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $PORT, Proto => 'tcp')
        or return;
    my $sel = IO::Select->new($client, $server);
    my $in = '';
    while (my @ready = $sel->can_read(60)) {
        for my $from (@ready) {
            my $n = sysread($from, my $buf, 65536);
            return unless $n;
            if ($from == $server) {
                write_all($client, $buf) or return;
                next;
            }
            $in .= $buf;
            while ((my $end = index($in, "\r\n\r\n")) >= 0) {
                my $head = substr($in, 0, $end + 4);
                my ($len) = $head =~ /^Content-Length: *(\d+)\r$/mi;
                return if $head =~ /^Transfer-Encoding:/mi;    # never from libcurl here
                last if length($in) < $end + 4 + ($len // 0);
                my $req = substr($in, 0, $end + 4 + ($len // 0), '');
                my $fail = -e $FAIL;
                $req =~ s{^(\w+) /matomo/index\.php }{$1 /matomo-fault/500/index.php } if $fail;
                open my $log, '>>', $CARRIED or die "$CARRIED: $!";
                print $log ($fail ? 'fail' : 'pass'), "\n";
                close $log;
                write_all($server, $req) or return;
            }
        }
    }
}

sub start_breaker_relay {
    unlink $SOCKET, $CARRIED, $FAIL;
    my $listen = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $SOCKET, Listen => 16)
        or die "cannot listen on $SOCKET: $!";
    chmod 0777, $SOCKET;    # the children run as another user
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        setpgrp(0, 0);
        $SIG{CHLD} = 'IGNORE';
        while (my $c = $listen->accept) {
            my $kid = fork;
            if (defined $kid && $kid == 0) {
                breaker_relay_one($c);
                POSIX::_exit(0);
            }
            close $c;
        }
        POSIX::_exit(0);
    }
    close $listen;
    return $pid;
}

my $RELAY_PID;
sub stop_breaker_relay {
    my $pid = shift;
    kill 'TERM', -$pid;
    waitpid $pid, 0;
    unlink $SOCKET, $FAIL;
    $RELAY_PID = undef;
}
# A subtest that dies leaves no relay behind.
END { stop_breaker_relay($RELAY_PID) if $RELAY_PID }

sub carried {
    open my $fh, '<', $CARRIED or return ();
    chomp(my @l = <$fh>);
    return @l;
}

sub failing { my $on = shift; if ($on) { open my $fh, '>', $FAIL or die "$FAIL: $!"; close $fh } else { unlink $FAIL } }

# Waits SECONDS, keeping the connection alive with requests that never
# reach Matomo (no token: 401 from the module itself).
sub wait_on {
    my ($c, $seconds) = @_;
    my $until = Time::HiRes::time() + $seconds;
    while ((my $left = $until - Time::HiRes::time()) > 0) {
        Time::HiRes::sleep($left < 1 ? $left : 1);
        rpc_on($c, $BREAKER, 'ping', undef, token => undef);
    }
}

subtest 'the circuit breaker opens, stays open after a failed probe, closes after a good one' => sub {
    my $relay = $RELAY_PID = start_breaker_relay();
    my $c = Conn->new(strict => 1);
    my $list = sub { my ($res, $j) = tool_on($c, $BREAKER, 'matomo_list_sites', {}, from => '192.0.2.50'); return $j };
    my $since = sub { my $n = shift; my @l = carried(); return @l[$n .. $#l] };

    is(site_ids($list->()), '1,2,3', 'through the relay: the sites (the token is now known good in this child)');
    my $n = carried();

    failing(1);
    my $mark = fake_log_mark();
    my @fails = map { tool_text($list->()) } 1 .. 3;
    is_deeply([ map { /HTTP 500/ ? 'HTTP 500' : $_ } @fails ], [ ('HTTP 500') x 3 ],
              'Matomo failing: three tool errors saying HTTP 500');
    is_deeply([ $since->($n) ], [ ('fail') x 3 ], '... each a call that reached Matomo');
    is(scalar(grep { ($_->{fault} // '') eq '500' } fake_lines($mark)), 3, '... (the fake\'s log: three HTTP 500)');
    $n = carried();
    $mark = fake_log_mark();

    my @open = map { tool_text($list->()) } 1 .. 2;
    like($open[0], qr/^Matomo failed 3 times in a row .* sends it no work for the next (\d+) s/,
         'then the breaker is open: the tool error says why, at once');
    is($open[1], $open[0], '... for the next call too');
    my ($first_pause) = $open[0] =~ /for the next (\d+) s/;
    my @none = $since->($n);
    is(scalar @none, 0, '... and no call went to Matomo');
    is(scalar(fake_lines($mark)), 0, '... (the fake\'s log: nothing)');

    # The pause (2 s) passes; Matomo still fails: one probe, then open again,
    # for longer.
    wait_on($c, 2.3);
    $n = carried();
    $mark = fake_log_mark();
    like(tool_text($list->()), qr/HTTP 500/, 'after the pause: one call probes Matomo (HTTP 500)');
    my $again = tool_text($list->());
    like($again, qr/^Matomo failed 3 times in a row/, 'the probe failed: open again');
    my ($second_pause) = $again =~ /for the next (\d+) s/;
    cmp_ok($second_pause // 0, '>', $first_pause // 99, "... for longer ($first_pause s, then $second_pause s)");
    is_deeply([ $since->($n) ], [ 'fail' ], 'exactly one call (the probe) reached Matomo');

    # Matomo recovers; after the longer pause one probe closes the breaker.
    failing(0);
    wait_on($c, 4.3);
    $n = carried();
    $mark = fake_log_mark();
    is(site_ids($list->()), '1,2,3', 'Matomo recovered: the probe gets the sites');
    is(site_ids($list->()), '1,2,3', 'the breaker is closed: the next call too');
    is(site_ids($list->()), '1,2,3', '... and the next');
    is_deeply([ $since->($n) ], [ ('pass') x 3 ], 'each of them a call to Matomo');
    ok(!$c->error && $c->opened == 1, 'all on one connection (one child)') or diag($c->error);
    $c->close;
    stop_breaker_relay($relay);
};

# ============================================================================
# 6. Matomo 4.16.1
# ============================================================================

my $M4 = '/mcp-protect-m4';

sub m4_recorded {
    my $file = "$FindBin::Bin/matomo/recorded-4.16.1/" . shift;
    open my $fh, '<:raw', $file or die "$file: $!";
    my $wrap = JSON::PP->new->decode(do { local $/; <$fh> });
    return JSON::PP->new->decode($wrap->{body});
}

subtest 'Matomo 4.16.1: the same verdicts as 5.x' => sub {
    my $c = Conn->new;
    my ($res, $j) = rpc_on($c, $M4, 'initialize', $INIT, token => '0' x 32);
    is($res->{code}, 401, 'an unknown token: 401 at initialize');
    like($res->{h}{'www-authenticate'} // '', qr/error="invalid_token"/, '... invalid_token');
    ($res) = rpc_on($c, $M4, 'tools/list', undef, token => random_token());
    is($res->{code}, 401, 'another unknown token, tools/list: 401');
    ($res, $j) = rpc_on($c, $M4, 'initialize', $INIT, token => $JWT);
    is($res->{code}, 401, 'a JWT (Matomo 4 reads no Bearer): 401');
    like($res->{h}{'www-authenticate'} // '', qr/error="invalid_token"/, '... invalid_token');

    ($res, $j) = rpc_on($c, $M4, 'initialize', $INIT);
    is($res->{code}, 200, 'the superuser token: initialize 200');
    ($res, $j) = tool_on($c, $M4, 'matomo_list_sites');
    my $sites = m4_recorded('sites-view.json');
    is(site_ids($j), join(',', sort { $a <=> $b } map { $_->{idsite} } @$sites),
       'the superuser\'s sites, from the 4.16.1 recordings');
    my $t = ($j->{result}{structuredContent} // {})->{sites} // { columns => [], rows => [] };
    my ($name) = grep { $t->{columns}[$_] eq 'name' } 0 .. $#{ $t->{columns} };
    my $names = defined $name ? join(',', map { $_->[$name] } @{ $t->{rows} }) : '';
    like($names, qr/Northwind Outfitters/, '... (4.16.1\'s data set)');

    ($res, $j) = rpc_on($c, $M4, 'initialize', $INIT, token => $VIEWER);
    is($res->{code}, 200, 'the viewer: initialize 200');
    ($res, $j) = tool_on($c, $M4, 'matomo_list_sites', {}, token => $VIEWER);
    is(site_ids($j), '2', 'the viewer sees site 2 only');
    ($res, $j) = tool_on($c, $M4, 'matomo_traffic_summary',
                         { idSite => 1, period => 'day', date => '2026-12-03' }, token => $VIEWER);
    is($res->{code}, 200, 'the viewer on site 1: HTTP 200');
    like(tool_text($j), qr/^Access denied: the token has no view access/, '... the "Access denied" tool error');
    unlike(tool_text($j), qr/requires 'view' access/, '... not Matomo\'s own message');
    $c->close;
};

# t/tools/samples-4.16.1.json: questions the 4.16.1 recordings hold, for
# every tool (t/46_tools_m4.t checks their figures); a tool they cannot
# answer is listed under _not_recorded with the fake's error naming the
# answer it lacks.
subtest 'Matomo 4.16.1: every tool answers its 4.16.1 samples with data conforming to its output schema' => sub {
    my $samples = do {
        open my $fh, '<', "$FindBin::Bin/tools/samples-4.16.1.json" or die "samples-4.16.1.json: $!";
        local $/;
        JSON::PP->new->decode(<$fh>);
    };
    my $missing = delete $samples->{_not_recorded} // {};
    my $c = Conn->new;
    my (%tools, $cursor);
    do {
        my (undef, $j) = rpc_on($c, $M4, 'tools/list', defined $cursor ? { cursor => $cursor } : undef);
        $tools{ $_->{name} } = $_ for @{ $j->{result}{tools} };
        $cursor = $j->{result}{nextCursor};
    } while (defined $cursor);
    is(scalar keys %tools, 12, 'twelve tools listed');
    is_deeply([ sort keys %tools ], [ sort keys %$samples, keys %$missing ],
              'every listed tool has 4.16.1 samples or is named as not recorded, and nothing else is');
    ok(!grep({ ref $samples->{$_} ne 'ARRAY' || !@{ $samples->{$_} } } keys %$samples),
       '... each with at least one sample');
    is_deeply([ sort keys %$missing ], [ 'matomo_tracking_health' ],
              'the one tool the 4.16.1 recordings cannot answer: matomo_tracking_health');
    my (@failed, @invalid, %data);
    for my $name (sort keys %$samples) {
        for my $args (@{ $samples->{$name} }) {
            my ($res, $j) = tool_on($c, $M4, $name, $args);
            my $what = "$name " . $JSON->encode($args);
            if (!$res || $res->{code} != 200 || !$j || !$j->{result}) {
                push @failed, "$what: " . ($res ? "$res->{code} $res->{body}" : 'no answer');
            } elsif ($j->{result}{isError}) {
                push @failed, "$what: " . tool_text($j);
            } else {
                $data{$name}++;
                my @err = schema_errors($tools{$name}{outputSchema}, $j->{result}{structuredContent}, $name);
                push @invalid, "$what: @err" if @err;
            }
        }
    }
    is_deeply(\@failed, [], 'every sample answered with data (no tool or protocol error)');
    is_deeply([ sort grep { $data{$_} } keys %tools ], [ sort keys %$samples ],
              'data from every tool with samples: ' . scalar(keys %$samples) . ' of 12');
    is(scalar @invalid, 0, 'every data answer conforms to its tool\'s outputSchema') or diag(join "\n", @invalid);
    for my $name (sort keys %$missing) {
        my ($res, $j) = tool_on($c, $M4, $name, $missing->{$name}{arguments});
        like(tool_text($j), qr/^\Q$missing->{$name}{error}\E/,
             "$name: the fake's \"no recorded answer\" for what it lacks, passed on as Matomo's error");
    }
    $c->close;
};

done_testing();
