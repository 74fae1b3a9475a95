# The module's section of /server-status (mod_status, ExtendedStatus On by
# default): the ?auto lines move by exactly what the test's own requests
# should count (messages by era and method, tool calls and tool errors,
# Matomo failures by class, token verdicts, open event streams), every
# child's counts summed; the HTML section; nothing that names a token, a
# site or what a client typed; counters kept across a graceful restart and
# zeroed by a full one.  Expected counts come from the requests sent and
# from the fake Matomo's own request log, never from the module.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET_BODY);
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(sleep);

use lib Apache::Test::vars('serverroot') . '/lib';
use McpTest;

plan tests => 59;

my $JSON   = JSON::PP->new->canonical;
my $MODERN = '2026-07-28';
my $META   = { 'io.modelcontextprotocol/protocolVersion' => $MODERN,
               'io.modelcontextprotocol/clientCapabilities' => {} };

# The MatomoMcp lines of /server-status?auto, and the server's generation.
sub status {
    my %s;
    for (split /\n/, GET_BODY('/server-status?auto')) {
        $s{$1} = $2 if /^(MatomoMcp\S+|ParentServerConfigGeneration): (\S+)$/;
    }
    return \%s;
}
sub delta {
    my ($before, $after, $key) = @_;
    return ($after->{$key} // 0) - ($before->{$key} // 0);
}

sub call_tool {
    my ($path, $name, $args, @hdr) = @_;
    return rpc_body($path, "t-$name", 'tools/call',
                    { name => $name, arguments => $args // {} }, @hdr);
}

# POSTs on one keep-alive connection (one child: verdicts are per child);
# returns the status codes, and whether the connection stayed open.
sub keepalive_posts {
    my ($path, $token, @bodies) = @_;
    my $sock = Apache::TestRequest::vhost_socket() or die "connect: $!";
    my @codes;
    for my $body (@bodies) {
        my $json = $JSON->encode($body);
        print $sock "POST $path HTTP/1.1\r\nHost: localhost\r\n"
            . "Authorization: Bearer $token\r\n"
            . "Content-Type: application/json\r\nAccept: application/json\r\n"
            . "Content-Length: " . length($json) . "\r\n\r\n$json";
        my ($head, $len) = ('', 0);
        while (defined(my $line = <$sock>)) {
            $head .= $line;
            $len = $1 if $line =~ /^Content-Length: (\d+)/i;
            last if $line eq "\r\n";
        }
        read($sock, my $content, $len) if $len;
        push @codes, $head =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
    }
    close $sock;
    return @codes;
}

my $token = token('superuser');
my $init  = { protocolVersion => '2025-11-25', capabilities => {},
              clientInfo => { name => 't18', version => '1' } };

# --- the section is there --------------------------------------------------
my $s0 = status();
ok(defined $s0->{MatomoMcpRequests}, '?auto has MatomoMcpRequests');
for my $k (qw(timeout refused 5xx 401 over_cap invalid_json)) {
    ok(defined $s0->{"MatomoMcpBackendFailures.$k"},
       "?auto has the failure class $k");
}

# --- messages by era and method, requests ---------------------------------
{
    my $before = status();
    my $secret = sprintf 'x/%08x%08x', int(rand 2**32), int(rand 2**32);
    rpc('/mcp-status', 1, 'initialize', $init);
    rpc('/mcp-status', 2, 'tools/list');
    mcp_post('/mcp-status', { jsonrpc => '2.0', method => 'notifications/initialized' });
    mcp_post('/mcp-status', 'not json at all');
    rpc('/mcp-status', 3, $secret);
    rpc('/mcp-status', 4, 'server/discover', { _meta => $META },
        'MCP-Protocol-Version' => $MODERN, 'Mcp-Method' => 'server/discover');
    rpc('/mcp-status', 5, 'tools/list', { _meta => $META },
        'MCP-Protocol-Version' => $MODERN, 'Mcp-Method' => 'tools/list');
    # A batch of two (2025-03-26: no MCP-Protocol-Version header).
    mcp_post('/mcp-status', [ { jsonrpc => '2.0', id => 6, method => 'ping' },
                              { jsonrpc => '2.0', id => 7, method => 'tools/list' } ]);
    my $after = status();
    is(delta($before, $after, 'MatomoMcpRequests'), 8,
       'eight POSTs: eight requests (the status requests are not counted)');
    is(delta($before, $after, 'MatomoMcpMessages.legacy.initialize'), 1, 'legacy initialize: 1');
    is(delta($before, $after, 'MatomoMcpMessages.legacy.tools/list'), 2,
       'legacy tools/list: 2 (one alone, one in the batch)');
    is(delta($before, $after, 'MatomoMcpMessages.legacy.ping'), 1, 'legacy ping in the batch: 1');
    is(delta($before, $after, 'MatomoMcpMessages.legacy.notification'), 1, 'a notification: 1');
    is(delta($before, $after, 'MatomoMcpMessages.none.invalid'), 1,
       'a body that is not JSON: 1, under no era');
    is(delta($before, $after, 'MatomoMcpMessages.legacy.unknown'), 1,
       'a method nobody knows: 1, as "unknown"');
    is(delta($before, $after, 'MatomoMcpMessages.modern.server/discover'), 1, 'modern server/discover: 1');
    is(delta($before, $after, 'MatomoMcpMessages.modern.tools/list'), 1, 'modern tools/list: 1');
    my $page = GET_BODY('/server-status?auto') . GET_BODY('/server-status');
    ok(index($page, $secret) < 0, 'the made-up method name appears nowhere in the status');
}

# --- tool calls, tool errors, latency --------------------------------------
{
    my $before = status();
    call_tool('/mcp-status', 'matomo_list_sites');
    call_tool('/mcp-status', 'matomo_list_sites');
    my (undef, $bad) = call_tool('/mcp-status', 'matomo_get_report', { idSite => 1 });
    ok($bad->{result}{isError}, 'matomo_get_report without report: a tool error');
    my $after = status();
    is(delta($before, $after, 'MatomoMcpToolCalls.matomo_list_sites'), 2, 'matomo_list_sites: 2 calls');
    is(delta($before, $after, 'MatomoMcpToolErrors.matomo_list_sites'), 0, '... no tool error');
    is(delta($before, $after, 'MatomoMcpToolCalls.matomo_get_report'), 1, 'matomo_get_report: 1 call');
    is(delta($before, $after, 'MatomoMcpToolErrors.matomo_get_report'), 1, '... 1 tool error');
    my ($p50, $p95) = map { $after->{"MatomoMcpToolBackendP${_}Ms.matomo_list_sites"} } 50, 95;
    ok(defined $p50 && $p50 > 0 && defined $p95 && $p95 >= $p50,
       "matomo_list_sites: Matomo latency p50 $p50 ms <= p95 $p95 ms")
        or diag($JSON->encode($after));
}

# --- Matomo failures by class ---------------------------------------------
# Each fault endpoint calls a Matomo URL of its own; the failures it
# counts are the calls the fake Matomo saw on that path (the token check
# and the tool's own call: neither an HTML page nor a 500 proves the token
# wrong, so the tool still tries).
for my $case (['500', '5xx'], ['html', 'invalid_json'],
              ['oversized', 'over_cap']) {
    my ($fault, $class) = @$case;
    my $before = status();
    my $mark = fake_log_mark();
    my (undef, $body) = call_tool("/mcp-status-$fault", 'matomo_list_sites');
    my $after = status();
    my $calls = grep { ($_->{path} // '') =~ m{^/matomo-fault/\Q$fault\E/} }
                fake_log_since($mark);
    ok($body->{result}{isError}, "$fault: a tool error");
    ok($calls >= 1, "$fault: the fake Matomo saw $calls calls");
    is(delta($before, $after, "MatomoMcpBackendFailures.$class"), $calls,
       "$fault: $class counted once per call Matomo got");
}
{
    # A Matomo too slow for the 1 s limit: the token check times out, and
    # the tool call gets that answer without waiting again (README).
    my $before = status();
    my (undef, $body) = call_tool('/mcp-status-slow', 'matomo_list_sites');
    my $after = status();
    ok($body->{result}{isError}, 'slow: a tool error');
    is(delta($before, $after, 'MatomoMcpBackendFailures.timeout'), 1, 'slow: one timeout');

    $before = $after;
    (undef, $body) = call_tool('/mcp-status-down', 'matomo_list_sites');
    $after = status();
    ok($body->{result}{isError}, 'down: a tool error');
    is(delta($before, $after, 'MatomoMcpBackendFailures.refused'), 1,
       'down: one refused connection');
}

# --- token verdicts ----------------------------------------------------------
{
    # A token never sent to /mcp-status's Matomo before (the viewer's), in
    # one child: checked once, then remembered (README: once per child and
    # minute).
    my $before = status();
    my $mark = fake_log_mark();
    my @codes = keepalive_posts('/mcp-status', token('viewer'),
        map { { jsonrpc => '2.0', id => $_, method => 'tools/list' } } 1 .. 3);
    my $after = status();
    is("@codes", '200 200 200', 'three tools/list on one connection: 200 each');
    my $checks = grep { ($_->{method} // '') eq 'API.getMatomoVersion' } fake_log_since($mark);
    is($checks, 1, 'the fake Matomo saw one token check');
    is(delta($before, $after, 'MatomoMcpTokenChecks'), 1, 'one token check counted');
    is(delta($before, $after, 'MatomoMcpTokenVerdictsRemembered'), 2,
       'the two requests after it took the remembered verdict');
    is(delta($before, $after, 'MatomoMcpTokenChecksRefused'), 0, 'none refused');

    $before = $after;
    my $unknown = join '', map { sprintf '%02x', int rand 256 } 1 .. 16;
    my $res = rpc('/mcp-status', 1, 'tools/list', undef, bearer($unknown));
    $after = status();
    is($res->code, 401, 'an unknown token: 401');
    is(delta($before, $after, 'MatomoMcpTokenChecks'), 1, '... one check');
    is(delta($before, $after, 'MatomoMcpTokenChecksRefused'), 1, '... refused');
    is(delta($before, $after, 'MatomoMcpBackendFailures.401'), 1,
       '... Matomo 5 answered it with 401 (a failure of class 401)');
    my $page = GET_BODY('/server-status?auto') . GET_BODY('/server-status');
    ok(index($page, $unknown) < 0 && index($page, $token) < 0
       && index($page, token('viewer')) < 0, 'no token in the status pages');
    my $sites = recorded('sites-view.json');
    my @names = grep { length > 3 } map { $_->{name} } @$sites;
    ok(@names && !grep({ index($page, $_) >= 0 } @names),
       'no site name in the status pages (' . join(', ', @names) . ')');
}

# --- open event streams --------------------------------------------------------
{
    my $before = status();
    my $sock = Apache::TestRequest::vhost_socket() or die "connect: $!";
    my $json = $JSON->encode({ jsonrpc => '2.0', id => 'l1', method => 'subscriptions/listen',
                               params => { _meta => $META, notifications => {} } });
    print $sock "POST /mcp-listen HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . "Authorization: Bearer $token\r\nContent-Type: application/json\r\n"
        . "Accept: text/event-stream\r\nMCP-Protocol-Version: $MODERN\r\n"
        . "Mcp-Method: subscriptions/listen\r\n"
        . "Content-Length: " . length($json) . "\r\n\r\n$json";
    my $seen = '';
    while (defined(my $line = <$sock>)) {
        $seen .= $line;
        last if $line =~ m{notifications/subscriptions/acknowledged};
    }
    my $open = status();
    is(delta($before, $open, 'MatomoMcpOpenStreams'), 1, 'a listen stream open: counted open');
    1 while <$sock>;        # the stream ends at its 2 s bound
    close $sock;
    my $after;
    for (1 .. 100) {
        $after = status();
        last if delta($before, $after, 'MatomoMcpOpenStreams') == 0;
        sleep 0.1;
    }
    is(delta($before, $after, 'MatomoMcpOpenStreams'), 0, 'closed: no longer counted');
}

# --- the HTML page ---------------------------------------------------------
{
    my $html = GET_BODY('/server-status');
    like($html, qr{<h2>Matomo MCP</h2>}, 'the HTML page has the section');
    like($html, qr{<td>matomo_list_sites</td><td>[1-9]\d*</td>},
         '... with a row per tool and its calls');
    like(GET_BODY('/server-status?notable'), qr{<pre>MatomoMcpRequests: \d+},
         'the table-less page has the lines');
}

# --- restarts ------------------------------------------------------------------
my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
sub parent_pid {
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    chomp(my $pid = <$fh>);
    return $pid;
}
# Signals the parent, then waits for the next configuration generation.
sub restart {
    my ($signal) = @_;
    my $gen = status()->{ParentServerConfigGeneration};
    kill $signal, parent_pid() or die "kill $signal: $!";
    for (1 .. 300) {
        sleep 0.1;
        my $s = eval { status() };
        return $s if $s && ($s->{ParentServerConfigGeneration} // $gen) > $gen;
    }
    die "no new generation after SIG$signal";
}
{
    call_tool('/mcp-status', 'matomo_list_sites');
    my $before = status();
    ok($before->{MatomoMcpRequests} > 0, 'counters before the graceful restart');
    my $after = restart('USR1');
    is($after->{MatomoMcpRequests}, $before->{MatomoMcpRequests},
       'a graceful restart keeps MatomoMcpRequests');
    is($after->{'MatomoMcpToolCalls.matomo_list_sites'},
       $before->{'MatomoMcpToolCalls.matomo_list_sites'}, '... and the tool counts');
    call_tool('/mcp-status', 'matomo_list_sites');
    is(delta($after, status(), 'MatomoMcpRequests'), 1, 'the new children count on');

    my $full = restart('HUP');
    is($full->{MatomoMcpRequests}, 0, 'a full restart zeroes the counters');
    is($full->{'MatomoMcpToolCalls.matomo_list_sites'}, 0, '... every one of them');
    call_tool('/mcp-status', 'matomo_list_sites');
    is(status()->{MatomoMcpRequests}, 1, 'and counting starts again');
}
