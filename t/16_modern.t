# MCP 2026-07-28 on /mcp beside the 2025 revisions (issue 10): the
# server/discover probe as Claude sends it; the envelope errors (-32020,
# -32022, -32602, 404 -32601) with their HTTP status and the request's id;
# resultType, serverInfo and cache hints; the 2025 era unchanged;
# subscriptions/listen within its bound and over its limit; progress and
# log notifications on the tools/call stream; a client that hangs up
# cancelling its Matomo call.
#
# No clock: what is asserted is content, the order of events, and the fake
# Matomo's request log (t/logs/fake_matomo.jsonl) and the module's error_log.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use B ();
use IO::Select ();
use HTTP::Response ();
use IO::Socket::INET ();
use JSON::PP ();
use MIME::Base64 ();
use Time::HiRes ();
use McpTest;

my $JSON   = JSON::PP->new->canonical;
my $MODERN = '2026-07-28';
my @VERSIONS = ($MODERN, '2025-11-25', '2025-06-18', '2025-03-26');
my $SERVER = 'mod_matomo_mcp';

my $V_KEY    = 'io.modelcontextprotocol/protocolVersion';
my $INFO_KEY = 'io.modelcontextprotocol/clientInfo';
my $CAPS_KEY = 'io.modelcontextprotocol/clientCapabilities';
my $LOG_KEY  = 'io.modelcontextprotocol/logLevel';
my $SRV_KEY  = 'io.modelcontextprotocol/serverInfo';
my $SUB_KEY  = 'io.modelcontextprotocol/subscriptionId';

# What a 2026-07-28 client puts in every request's params._meta.
sub client_meta {
    return { $V_KEY => $MODERN,
             $INFO_KEY => { name => 'claude-ai', version => '0.1.0' },
             $CAPS_KEY => {} };
}

# The members of params named by Mcp-Name.
my %NAMED = ('tools/call' => 'name', 'prompts/get' => 'name',
             'resources/read' => 'uri');

# modern(PATH, ID, METHOD, PARAMS, HEADER => VALUE...): a request as a
# 2026-07-28 client sends it: client_meta() merged into params._meta (a key
# given as undef there is removed; a _meta that is no hash is sent as
# given), MCP-Protocol-Version, Mcp-Method and, for the methods that name
# something, Mcp-Name.  _meta => undef sends no _meta; a header given as
# undef is not sent.  Returns
# (response, decoded body).
sub modern {
    my ($path, $id, $method, $params, %hdr) = @_;
    my %p = %{ $params // {} };
    if (exists $p{_meta} && !defined $p{_meta}) {
        delete $p{_meta};
    }
    elsif (!exists $p{_meta} || ref $p{_meta} eq 'HASH') {
        my %m = (%{ client_meta() }, %{ $p{_meta} // {} });
        delete @m{ grep { !defined $m{$_} } keys %m };
        $p{_meta} = \%m;
    }
    my $member = $NAMED{$method};
    return rpc_body($path, $id, $method, \%p,
                    'MCP-Protocol-Version' => $MODERN,
                    'Mcp-Method' => $method,
                    ($member && defined $p{$member}
                         ? ('Mcp-Name' => $p{$member}) : ()),
                    %hdr);
}

# --- ids: a number stays a number, a string a string ----------------------

# Read from the flags, without stringifying (which would add a string form).
sub is_num {
    my $f = B::svref_2object(\$_[0])->FLAGS;
    return !($f & B::SVp_POK()) && ($f & (B::SVp_IOK() | B::SVp_NOK())) ? 1 : 0;
}
sub same_id {
    my ($got, $want) = @_;
    return 0 unless defined $got && !ref $got;
    return 0 unless is_num($got) == is_num($want);
    return is_num($want) ? $got == $want : $got eq $want;
}

# refused(RES, BODY, STATUS, CODE, ID, NAME): an error answer with that HTTP
# status and JSON-RPC code, the request's id (same JSON type), no result.
sub refused {
    my ($res, $body, $status, $code, $id, $name) = @_;
    my $ok = $res->code == $status
          && ($res->header('Content-Type') // '') =~ m{^application/json\b}i
          && ref $body eq 'HASH' && !exists $body->{result}
          && ref $body->{error} eq 'HASH'
          && defined $body->{error}{code} && $body->{error}{code} == $code
          && length($body->{error}{message} // '')
          && exists $body->{id} && same_id($body->{id}, $id);
    ok($ok, $name) or diag($res->as_string);
    return $body && ref $body->{error} eq 'HASH' ? $body->{error} : {};
}

sub result_ok {
    my ($res, $body, $id, $name) = @_;
    ok($res->code == 200 && ref $body eq 'HASH'
       && ref $body->{result} eq 'HASH' && same_id($body->{id}, $id), $name)
        or diag($res->as_string);
    return $body && ref $body->{result} eq 'HASH' ? $body->{result} : {};
}

# The modern fields of a result: resultType, serverInfo in _meta, and the
# cache hint (undef scope: none).
sub modern_fields {
    my ($r, $ttl, $scope, $name) = @_;
    is($r->{resultType}, 'complete', "$name: resultType complete");
    my $info = ref $r->{_meta} eq 'HASH' ? $r->{_meta}{$SRV_KEY} : undef;
    ok(ref $info eq 'HASH' && ($info->{name} // '') eq $SERVER
       && length($info->{version} // ''),
       "$name: _meta serverInfo names $SERVER and its version")
        or diag($JSON->encode($r));
    if (defined $scope) {
        ok(defined $r->{ttlMs} && is_num($r->{ttlMs}) && $r->{ttlMs} == $ttl
           && ($r->{cacheScope} // '') eq $scope,
           "$name: ttlMs $ttl, cacheScope $scope")
            or diag($JSON->encode({ ttlMs => $r->{ttlMs},
                                    cacheScope => $r->{cacheScope} }));
    } else {
        ok(!exists $r->{ttlMs} && !exists $r->{cacheScope},
           "$name: no cache hint");
    }
}

# The same result without the fields the modern era adds.
sub without_modern_fields {
    my %r = %{ shift // {} };
    delete @r{qw(resultType _meta ttlMs cacheScope)};
    return \%r;
}

# --- event streams -----------------------------------------------------------

# (events, comments) of an SSE body: each "data:" event decoded (undef when
# it is not JSON), each comment line as written.
sub sse {
    my $text = shift // '';
    my (@events, @comments);
    for my $block (split /\n\n/, $text) {
        my @data;
        for my $line (split /\n/, $block) {
            if ($line =~ /^:/) { push @comments, $line }
            elsif ($line =~ /^data: ?(.*)\z/) { push @data, $1 }
        }
        push @events, eval { JSON::PP->new->decode(join "\n", @data) }
            if @data;
    }
    return (\@events, \@comments);
}

sub is_stream {
    my $res = shift;
    return $res->code == 200
        && ($res->header('Content-Type') // '') =~ m{^text/event-stream\b}i;
}

sub is_json_answer {
    my $res = shift;
    return ($res->header('Content-Type') // '') =~ m{^application/json\b}i;
}

# The messages of the notifications/progress events, in order.
sub progress_of {
    my ($events, $method) = @_;
    return grep { ref $_ eq 'HASH' && ($_->{method} // '') eq $method } @$events;
}

# Each progress message as one letter: S (start), H (heartbeat while
# Matomo computes), A<n> (round trip n answered); anything else X.
sub shape {
    return join ' ', map {
        my $m = $_->{params}{message} // '';
        $m =~ /^Waiting for Matomo\b/                ? 'H'
      : $m =~ /^Matomo answered \(round trip (\d+)\)\z/ ? "A$1"
      : $m =~ /^Started matomo_\w+\z/                ? 'S'
      :                                                'X'
    } @_;
}

# progress strictly increasing by one from 1, the token echoed with its
# JSON type, no total (how many round trips there are is not known).
sub progress_counts_ok {
    my ($token, $notes, $name) = @_;
    my @p = map { $_->{params} } @$notes;
    ok(@p && !grep({ !same_id($_->{progressToken}, $token) } @p),
       "$name: every notification echoes the progress token")
        or diag($JSON->encode(\@p));
    is_deeply([map { $_->{progress} } @p], [1 .. scalar @p],
              "$name: progress is 1, 2, 3, ...");
    ok(!grep({ exists $_->{total} } @p), "$name: no total");
}

# --- the fake Matomo's log and the module's error_log -------------------------

# The fake's request log since MARK, read until WANT(@entries) holds (at
# most 20 s: the fake writes its lines from its own threads).
sub fake_until {
    my ($mark, $want, $secs) = @_;
    my @seen;
    for (1 .. ($secs // 20) * 10) {
        @seen = fake_log_since($mark);
        return @seen if $want->(@seen);
        Time::HiRes::sleep(0.1);
    }
    return @seen;
}

my $ERROR_LOG = Apache::Test::vars('t_logs') . '/error_log';
sub error_log_mark { -s $ERROR_LOG // 0 }
sub error_log_since {
    my $mark = shift;
    open my $fh, '<', $ERROR_LOG or return ();
    seek $fh, $mark, 0;
    return <$fh>;
}
# The module's error_log lines since MARK, read until one matches RE (at
# most 20 s).
sub error_log_until {
    my ($mark, $re) = @_;
    my @lines;
    for (1 .. 200) {
        @lines = error_log_since($mark);
        return @lines if grep { /$re/ } @lines;
        Time::HiRes::sleep(0.1);
    }
    return @lines;
}
my $ERROR_LEVEL = qr{\[[\w.-]*:(?:error|crit|alert|emerg)\]};

# --- raw HTTP on a socket of our own ----------------------------------------

# A POST of a JSON-RPC message as bytes on a fresh socket (Connection:
# close); the socket is returned unread.
sub open_post {
    my ($path, $msg, %hdr) = @_;
    my $body = $JSON->encode($msg);
    my %h = ('Content-Type' => 'application/json',
             Accept => 'application/json, text/event-stream',
             Authorization => 'Bearer ' . token('superuser'), %hdr);
    my $sock = IO::Socket::INET->new(PeerAddr => hostport(), Proto => 'tcp',
                                     Timeout => 10)
        or die "cannot connect to the test server: $@";
    $sock->autoflush(1);
    print {$sock} "POST $path HTTP/1.1\r\nHost: " . hostport() . "\r\n"
        . join('', map { "$_: $h{$_}\r\n" } grep { defined $h{$_} } sort keys %h)
        . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n"
        . $body;
    return $sock;
}

# Whatever the socket has within SECS, appended to $$buf: 1 when something
# came, -1 when nothing did, 0 at EOF.
sub read_some {
    my ($sock, $buf, $secs) = @_;
    return -1 unless IO::Select->new($sock)->can_read($secs);
    my $n = sysread($sock, my $chunk, 65536);
    return 0 unless $n;
    $$buf .= $chunk;
    return 1;
}

# An HTTP::Response from the raw bytes of one answer (chunked decoded).
sub parse_raw {
    my $raw = shift // '';
    return HTTP::Response->new(599, 'no answer') unless length $raw;
    return McpTest::parse_http($raw);
}

# Reads the socket to its end (the server closes it: Connection: close),
# or until it stays silent for a minute.
sub read_to_end {
    my $sock = shift;
    my $raw = '';
    1 while read_some($sock, \$raw, 60) == 1;
    close $sock;
    return parse_raw($raw);
}

# =============================================================================
# The probe exactly as Claude sends it: server/discover, 2026-07-28 in the
# header and in _meta, Mcp-Method, both media types accepted, a bearer token.
# =============================================================================
{
    my ($res, $body) = modern('/mcp', 'discover-1', 'server/discover', {},
                              Accept => 'application/json, text/event-stream');
    is($res->code, 200, 'probe: 200');
    ok(is_json_answer($res), 'probe: answered as application/json')
        or diag($res->as_string);
    ok(!defined $res->header('Mcp-Session-Id'), 'probe: no session');
    my $r = result_ok($res, $body, 'discover-1', 'probe: a result for id "discover-1"');
    is_deeply($r->{supportedVersions}, \@VERSIONS,
              'probe: supportedVersions are 2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26');
    is_deeply($r->{capabilities},
              { tools => { listChanged => JSON::PP::false },
                resources => { listChanged => JSON::PP::false },
                prompts => { listChanged => JSON::PP::false },
                completions => {}, logging => {} },
              'probe: capabilities tools, resources, prompts (lists fixed), completions, logging');
    modern_fields($r, 3600000, 'public', 'probe');
    like($r->{instructions} // '', qr/matomo_list_sites/,
         'probe: instructions for the model');
    is($r->{_meta}{$SRV_KEY}{title}, 'Matomo analytics (mod_matomo_mcp)',
       'probe: serverInfo has a title');

    # initialize and server/discover describe one server.
    my (undef, $init) = rpc_body('/mcp', 1, 'initialize',
        { protocolVersion => '2025-11-25', capabilities => {},
          clientInfo => { name => 't', version => '0' } });
    is_deeply($init->{result}{capabilities}, $r->{capabilities},
              'probe: the same capabilities as initialize (2025-11-25)');
    is($init->{result}{instructions}, $r->{instructions},
       'probe: the same instructions as initialize');

    # A number id, and a client that sends no clientInfo (it is optional).
    ($res, $body) = modern('/mcp', 77, 'server/discover',
                           { _meta => { $INFO_KEY => undef } });
    result_ok($res, $body, 77, 'probe with id 77 and no clientInfo: a result for 77');

    # Before the user has signed in: the challenge that starts OAuth.
    ($res, $body) = modern('/mcp', 'discover-2', 'server/discover', {},
                           Authorization => undef);
    is($res->code, 401, 'probe without a token: 401');
    like($res->header('WWW-Authenticate') // '',
         qr{^Bearer resource_metadata="[^"]+/\.well-known/oauth-protected-resource/mcp"},
         'probe without a token: the challenge names the metadata');
    refused($res, $body, 401, -32000, 'discover-2',
            'probe without a token: a JSON-RPC error for the probe\'s id');
    ($res, $body) = modern('/mcp', 78, 'server/discover', {}, Authorization => undef);
    refused($res, $body, 401, -32000, 78, 'probe without a token, id 78: the error for 78');

    # A token Matomo does not know (expired): 401 invalid_token, with the id.
    ($res, $body) = modern('/mcp', 'discover-3', 'server/discover', {},
                           Authorization => 'Bearer ' . ('0' x 32));
    is($res->code, 401, 'probe with a token Matomo refuses: 401');
    like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
         'probe with a token Matomo refuses: invalid_token');
    ok($body && same_id($body->{id}, 'discover-3'),
       'probe with a token Matomo refuses: the error carries the id')
        or diag($res->as_string);
}

# The capabilities are what the server serves: each one's methods answer
# in the modern era.
{
    my ($res, $body) = modern('/mcp', 1, 'tools/list');
    ok(@{ result_ok($res, $body, 1, 'tools capability: tools/list answers')->{tools} // [] },
       'tools capability: tools listed');
    ($res, $body) = modern('/mcp', 2, 'resources/list');
    ok(@{ result_ok($res, $body, 2, 'resources capability: resources/list answers')->{resources} // [] },
       'resources capability: resources listed');
    ($res, $body) = modern('/mcp', 3, 'prompts/list');
    ok(@{ result_ok($res, $body, 3, 'prompts capability: prompts/list answers')->{prompts} // [] },
       'prompts capability: prompts listed');
    ($res, $body) = modern('/mcp', 4, 'completion/complete',
        { ref => { type => 'ref/prompt', name => 'matomo_traffic_exploration' },
          argument => { name => 'idSite', value => '' } });
    ok(ref result_ok($res, $body, 4, 'completions capability: completion/complete answers')
           ->{completion}{values} eq 'ARRAY',
       'completions capability: values');
}

# =============================================================================
# Results: resultType, serverInfo, cache hints; the rest as in 2025-11-25.
# =============================================================================
{
    my @cases = (
        ['tools/list', {}, 3600000, 'public'],
        ['prompts/list', {}, 3600000, 'public'],
        ['resources/templates/list', {}, 3600000, 'public'],
        ['resources/list', {}, 60000, 'private'],
        ['resources/read', { uri => 'matomo://sites/1' }, 60000, 'private'],
        ['tools/call', { name => 'matomo_list_sites', arguments => {} }],
        ['prompts/get', { name => 'matomo_traffic_exploration',
                          arguments => { idSite => '1' } }],
        ['completion/complete',
         { ref => { type => 'ref/prompt', name => 'matomo_traffic_exploration' },
           argument => { name => 'idSite', value => '' } }],
    );
    for my $c (@cases) {
        my ($method, $params, $ttl, $scope) = @$c;
        my ($res, $body) = modern('/mcp', "r-$method", $method, $params);
        my $r = result_ok($res, $body, "r-$method", "$method (2026-07-28): a result");
        ok(is_json_answer($res), "$method (2026-07-28): plain JSON");
        modern_fields($r, $ttl, $scope, "$method (2026-07-28)");
        my (undef, $old) = rpc_body('/mcp', "r-$method", $method, $params,
                                    'MCP-Protocol-Version' => '2025-11-25');
        is_deeply(without_modern_fields($r), $old->{result},
                  "$method: the same result as in 2025-11-25, fields added only");
    }
    my (undef, $body) = modern('/mcp', 1, 'server/discover');
    modern_fields($body->{result} // {}, 3600000, 'public', 'server/discover');
}

# --- the 2025 era, unchanged ----------------------------------------------------
{
    my ($res, $body) = rpc_body('/mcp', 1, 'initialize',
        { protocolVersion => '2025-11-25', capabilities => {},
          clientInfo => { name => 't', version => '0' } },
        'MCP-Protocol-Version' => undef);
    is($body->{result}{protocolVersion}, '2025-11-25',
       '2025: initialize echoes 2025-11-25');
    ok(!exists $body->{result}{resultType} && !exists $body->{result}{_meta},
       '2025: initialize has no resultType and no _meta');
    is($body->{result}{serverInfo}{name}, $SERVER, '2025: serverInfo in the result');
    (undef, $body) = rpc_body('/mcp', 1, 'initialize',
        { protocolVersion => $MODERN, capabilities => {},
          clientInfo => { name => 't', version => '0' } });
    is($body->{result}{protocolVersion}, '2025-11-25',
       '2025: initialize asking for 2026-07-28 (which has none) gets 2025-11-25');
    for my $v ('2025-11-25', '2025-06-18', '2025-03-26', undef) {
        ($res, $body) = rpc_body('/mcp', 2, 'tools/list', undef,
                                 'MCP-Protocol-Version' => $v);
        my $r = $body->{result} // {};
        ok($res->code == 200 && ref $r->{tools} eq 'ARRAY' && @{ $r->{tools} }
           && !exists $r->{resultType} && !exists $r->{ttlMs}
           && !exists $r->{cacheScope} && !exists $r->{_meta},
           '2025: tools/list under ' . ($v // 'no header')
           . ': tools, without resultType, cache hint or _meta')
            or diag($res->as_string);
    }
    ($res, $body) = rpc_body('/mcp', 3, 'ping', undef,
                             'MCP-Protocol-Version' => '2025-11-25');
    is_deeply($body->{result}, {}, '2025: ping answers {}');
    # The modern headers mean nothing to the 2025 era.
    ($res, $body) = rpc_body('/mcp', 4, 'tools/list', undef,
                             'MCP-Protocol-Version' => '2025-11-25',
                             'Mcp-Method' => 'ping');
    ok($res->code == 200 && ref $body->{result}{tools} eq 'ARRAY',
       '2025: a mismatched Mcp-Method header is ignored');
    # server/discover and subscriptions/listen exist only in 2026-07-28.
    for my $m ('server/discover', 'subscriptions/listen') {
        ($res, $body) = rpc_body('/mcp', 5, $m, {},
                                 'MCP-Protocol-Version' => '2025-11-25');
        refused($res, $body, 200, -32601, 5, "2025: $m is an unknown method (200, -32601)");
    }
}

# =============================================================================
# -32020 HeaderMismatch: 400 with the request's id.
# =============================================================================
{
    my $LIST = { name => 'matomo_list_sites', arguments => {} };
    my ($res, $body);

    ($res, $body) = modern('/mcp', 'h-1', 'tools/list', {},
                           'MCP-Protocol-Version' => undef);
    refused($res, $body, 400, -32020, 'h-1',
            '_meta names 2026-07-28, no MCP-Protocol-Version header: 400 -32020');
    ($res, $body) = modern('/mcp', 12, 'tools/list', {},
                           'MCP-Protocol-Version' => '2025-11-25');
    refused($res, $body, 400, -32020, 12,
            'header 2025-11-25, _meta 2026-07-28: 400 -32020 (number id)');
    ($res, $body) = modern('/mcp', 'h-3', 'tools/list',
                           { _meta => { $V_KEY => '2025-11-25' } });
    refused($res, $body, 400, -32020, 'h-3',
            'header 2026-07-28, _meta 2025-11-25: 400 -32020');

    ($res, $body) = modern('/mcp', 'h-4', 'tools/list', {}, 'Mcp-Method' => undef);
    refused($res, $body, 400, -32020, 'h-4', 'no Mcp-Method: 400 -32020');
    ($res, $body) = modern('/mcp', 15, 'tools/list', {}, 'Mcp-Method' => 'TOOLS/LIST');
    refused($res, $body, 400, -32020, 15,
            'Mcp-Method TOOLS/LIST for tools/list (values are case-sensitive): 400 -32020');
    ($res, $body) = modern('/mcp', 'h-6', 'tools/list', {}, 'Mcp-Method' => 'tools/call');
    refused($res, $body, 400, -32020, 'h-6',
            'Mcp-Method tools/call for tools/list: 400 -32020');
    # The body decides what runs, the header what a proxy saw: a removed
    # method in the body with a harmless header is still a mismatch.
    ($res, $body) = modern('/mcp', 'h-7', 'initialize', {}, 'Mcp-Method' => 'tools/list');
    refused($res, $body, 400, -32020, 'h-7',
            'Mcp-Method tools/list for initialize: 400 -32020');

    ($res, $body) = modern('/mcp', 'h-8', 'tools/call', $LIST, 'Mcp-Name' => undef);
    refused($res, $body, 400, -32020, 'h-8', 'tools/call without Mcp-Name: 400 -32020');
    ($res, $body) = modern('/mcp', 19, 'tools/call', $LIST,
                           'Mcp-Name' => 'matomo_traffic_summary');
    refused($res, $body, 400, -32020, 19,
            'tools/call, Mcp-Name names another tool: 400 -32020');
    ($res, $body) = modern('/mcp', 'h-10', 'tools/call', $LIST,
                           'Mcp-Name' => 'MATOMO_LIST_SITES');
    refused($res, $body, 400, -32020, 'h-10',
            'tools/call, Mcp-Name in other case: 400 -32020');
    ($res, $body) = modern('/mcp', 'h-11', 'prompts/get',
                           { name => 'matomo_traffic_exploration',
                             arguments => { idSite => '1' } },
                           'Mcp-Name' => undef);
    refused($res, $body, 400, -32020, 'h-11', 'prompts/get without Mcp-Name: 400 -32020');
    ($res, $body) = modern('/mcp', 'h-12', 'resources/read',
                           { uri => 'matomo://sites/1' },
                           'Mcp-Name' => 'matomo://sites/2');
    refused($res, $body, 400, -32020, 'h-12',
            'resources/read, Mcp-Name another URI: 400 -32020');
    ($res, $body) = modern('/mcp', 'h-13', 'resources/read',
                           { uri => 'matomo://sites/1' }, 'Mcp-Name' => undef);
    refused($res, $body, 400, -32020, 'h-13', 'resources/read without Mcp-Name: 400 -32020');

    # SEP-2243 value encoding: =?base64?...?= is decoded before comparing.
    my $b64 = sub { '=?base64?' . MIME::Base64::encode_base64(shift, '') . '?=' };
    ($res, $body) = modern('/mcp', 'h-14', 'tools/call', $LIST,
                           'Mcp-Name' => $b64->('matomo_list_sites'));
    my $r = result_ok($res, $body, 'h-14',
                      'tools/call, Mcp-Name base64 of the tool name: decoded and accepted');
    ok(ref $r->{structuredContent} eq 'HASH', '... and the tool ran');
    ($res, $body) = modern('/mcp', 'h-15', 'resources/read',
                           { uri => 'matomo://sites/1' },
                           'Mcp-Name' => $b64->('matomo://sites/1'));
    result_ok($res, $body, 'h-15', 'resources/read, Mcp-Name base64 of the URI: accepted');
    ($res, $body) = modern('/mcp', 'h-16', 'tools/call', $LIST,
                           'Mcp-Name' => $b64->('matomo_traffic_summary'));
    refused($res, $body, 400, -32020, 'h-16',
            'tools/call, Mcp-Name base64 of another name: 400 -32020');
    ($res, $body) = modern('/mcp', 'h-17', 'tools/call', $LIST,
                           'Mcp-Name' => '=?base64?not*base64?=');
    refused($res, $body, 400, -32020, 'h-17',
            'tools/call, Mcp-Name with a broken base64 value: 400 -32020');
    # A name with a character no header may hold arrives only encoded: the
    # raw bytes (UTF-8 of "é", past httpd, which lets obs-text through)
    # are refused, the encoded form compared.
    ($res, $body) = modern('/mcp', 'h-18', 'tools/call',
                           { name => "matomo_list_sites\xc3\xa9", arguments => {} },
                           'Mcp-Name' => "matomo_list_sites\xc3\xa9");
    refused($res, $body, 400, -32020, 'h-18',
            'Mcp-Name with non-ASCII bytes: 400 -32020');
    ($res, $body) = modern('/mcp', 'h-19', 'tools/call',
                           { name => "matomo_list_sites\xc3\xa9", arguments => {} },
                           'Mcp-Name' => $b64->("matomo_list_sites\xc3\xa9"));
    my $err = refused($res, $body, 200, -32602, 'h-19',
                      'the same name base64-encoded: past the header check, '
                      . 'an unknown tool (200, -32602)');
    is($err->{data}{tool}, "matomo_list_sites\xc3\xa9", '... data.tool names it');
}

# =============================================================================
# -32022 UnsupportedProtocolVersion: 400, data.supported and data.requested.
# =============================================================================
{
    my ($res, $body) = rpc_body('/mcp', 'v-1', 'tools/list', undef,
                                'MCP-Protocol-Version' => '2027-01-01');
    my $err = refused($res, $body, 400, -32022, 'v-1',
                      'MCP-Protocol-Version 2027-01-01: 400 -32022 with the id');
    is_deeply($err->{data}{supported}, \@VERSIONS, '-32022: data.supported, the four revisions');
    is($err->{data}{requested}, '2027-01-01', '-32022: data.requested');

    ($res, $body) = modern('/mcp', 32, 'server/discover',
                           { _meta => { $V_KEY => '1999-01-01' } },
                           'MCP-Protocol-Version' => '1999-01-01');
    $err = refused($res, $body, 400, -32022, 32,
                   'header and _meta agree on 1999-01-01: 400 -32022 (number id)');
    is($err->{data}{requested}, '1999-01-01', '... data.requested 1999-01-01');

    ($res, $body) = rpc_body('/mcp', 'v-3', 'ping', undef, 'MCP-Protocol-Version' => 'bogus');
    refused($res, $body, 400, -32022, 'v-3',
            'a 2025-style ping with an unknown revision: -32022 with the id (not id null)');
}

# =============================================================================
# -32602 for an incomplete _meta or a bad logLevel: 400 with the id.
# =============================================================================
{
    my @cases = (
        ['no _meta at all', 'm-1', { _meta => undef }],
        ['_meta a string', 41, { _meta => 'x' }],
        ['_meta an array', 'm-3', { _meta => [] }],
        ['no clientCapabilities', 'm-4', { _meta => { $CAPS_KEY => undef } }],
        ['clientCapabilities an array', 'm-5', { _meta => { $CAPS_KEY => [] } }],
        ['clientCapabilities a string', 46, { _meta => { $CAPS_KEY => 'all' } }],
        ['no protocolVersion in _meta', 'm-7', { _meta => { $V_KEY => undef } }],
        ['logLevel verbose', 'm-8', { _meta => { $LOG_KEY => 'verbose' } }],
        ['logLevel DEBUG', 49, { _meta => { $LOG_KEY => 'DEBUG' } }],
        ['logLevel a number', 'm-10', { _meta => { $LOG_KEY => 7 } }],
    );
    for my $c (@cases) {
        my ($what, $id, $params) = @$c;
        my ($res, $body) = modern('/mcp', $id, 'tools/list', $params);
        refused($res, $body, 400, -32602, $id, "$what: 400 -32602 with the id");
    }
    for my $level (qw(debug info notice warning error critical alert emergency)) {
        my ($res, $body) = modern('/mcp', 'lv', 'tools/list', { _meta => { $LOG_KEY => $level } });
        result_ok($res, $body, 'lv', "logLevel $level: accepted");
    }
}

# =============================================================================
# Methods 2026-07-28 removed, and unknown ones: 404 -32601 with the id.
# =============================================================================
{
    my @gone = (['initialize', 'g-1', { protocolVersion => '2025-11-25', capabilities => {},
                                        clientInfo => { name => 't', version => '0' } }],
                ['ping', 52, {}],
                ['logging/setLevel', 'g-3', { level => 'debug' }],
                ['resources/subscribe', 54, { uri => 'matomo://sites/1' }],
                ['resources/unsubscribe', 'g-5', { uri => 'matomo://sites/1' }],
                ['tools/frobnicate', 56, {}]);
    for my $g (@gone) {
        my ($method, $id, $params) = @$g;
        my ($res, $body) = modern('/mcp', $id, $method, $params);
        my $err = refused($res, $body, 404, -32601, $id,
                          "$method in a 2026-07-28 request: 404 -32601 with the id");
        is($err->{data}{method}, $method, "$method: data.method names it");
    }
    # A legacy unknown method keeps HTTP 200.
    my ($res, $body) = rpc_body('/mcp', 'g-8', 'tools/frobnicate', {},
                                'MCP-Protocol-Version' => '2025-11-25');
    refused($res, $body, 200, -32601, 'g-8', '2025: an unknown method stays 200 -32601');
}

# =============================================================================
# Errors a method returns keep HTTP 200; resource not found is -32602 now.
# =============================================================================
{
    for my $uri ('matomo://sites/999', 'matomo://nothing', 'https://example.org/') {
        my ($res, $body) = modern('/mcp', 'nf', 'resources/read', { uri => $uri });
        my $err = refused($res, $body, 200, -32602, 'nf',
                          "resources/read $uri (2026-07-28): 200, -32602");
        is($err->{data}{uri}, $uri, "resources/read $uri (2026-07-28): data.uri");
        ($res, $body) = rpc_body('/mcp', 61, 'resources/read', { uri => $uri },
                                 'MCP-Protocol-Version' => '2025-11-25');
        $err = refused($res, $body, 200, -32002, 61,
                       "resources/read $uri (2025-11-25): still -32002");
        is($err->{data}{uri}, $uri, "resources/read $uri (2025-11-25): data.uri");
    }
    my ($res, $body) = modern('/mcp', 'u-1', 'tools/call',
                              { name => 'matomo_nope', arguments => {} });
    my $err = refused($res, $body, 200, -32602, 'u-1', 'unknown tool (2026-07-28): 200, -32602');
    is($err->{data}{tool}, 'matomo_nope', 'unknown tool: data.tool');
    ($res, $body) = modern('/mcp', 'u-2', 'tools/list', { cursor => 'nonsense' });
    refused($res, $body, 200, -32602, 'u-2', 'bad cursor (2026-07-28): 200, -32602');
    ($res, $body) = modern('/mcp', 'u-3', 'prompts/get',
                           { name => 'matomo_traffic_exploration', arguments => {} });
    refused($res, $body, 200, -32602, 'u-3',
            'prompt without its required argument (2026-07-28): 200, -32602');
}

# --- notifications and batches ----------------------------------------------------
{
    my $cancel = { jsonrpc => '2.0', method => 'notifications/cancelled',
                   params => { requestId => 5, reason => 'user pressed stop' } };
    for my $v ('2025-11-25', '2025-03-26') {
        my $res = mcp_post('/mcp', $cancel, 'MCP-Protocol-Version' => $v);
        is($res->code, 202, "notifications/cancelled ($v): 202");
        is($res->content, '', "notifications/cancelled ($v): no body");
    }
    my $res = mcp_post('/mcp', { %$cancel, params => { %{ $cancel->{params} },
                                                        _meta => client_meta() } },
                       'MCP-Protocol-Version' => $MODERN,
                       'Mcp-Method' => 'notifications/cancelled');
    is($res->code, 202, 'notifications/cancelled (2026-07-28): 202');
    is($res->content, '', 'notifications/cancelled (2026-07-28): no body');
    my ($r2, $body) = rpc_body('/mcp', 5, 'tools/list', undef);
    ok($r2->code == 200 && ref $body->{result}{tools} eq 'ARRAY',
       'after a cancellation of nothing: served as before');

    $res = mcp_post('/mcp', [ { jsonrpc => '2.0', id => 1, method => 'tools/list',
                                params => { _meta => client_meta() } } ],
                    'MCP-Protocol-Version' => $MODERN, 'Mcp-Method' => 'tools/list');
    $body = json_body($res);
    ok($res->code == 400 && $body && ($body->{error}{code} // 0) == -32600,
       'a batch under 2026-07-28: 400 -32600') or diag($res->as_string);
}

# --- CORS: a browser client of 2026-07-28 sends Mcp-Method and Mcp-Name -------
{
    my $res = mcp_request(OPTIONS => '/mcp-limits', undef,
        Origin => 'https://claude.ai',
        'Access-Control-Request-Method' => 'POST',
        'Access-Control-Request-Headers' =>
            'authorization,content-type,mcp-protocol-version,mcp-method,mcp-name',
        Authorization => undef, 'Content-Type' => undef);
    my %allowed = map { lc($_) => 1 }
                  split /\s*,\s*/, $res->header('Access-Control-Allow-Headers') // '';
    ok($res->code == 204 && $allowed{'mcp-method'} && $allowed{'mcp-name'},
       'preflight: Mcp-Method and Mcp-Name allowed') or diag($res->as_string);
}

# =============================================================================
# subscriptions/listen on /mcp-listen (MatomoMcpListenTimeout 2,
# MatomoMcpListenMax 1).
# =============================================================================

# A listen request as a 2026-07-28 client sends it.
sub listen_msg {
    my ($id, $filter) = @_;
    return { jsonrpc => '2.0', id => $id, method => 'subscriptions/listen',
             params => { _meta => client_meta(),
                         notifications => $filter // { toolsListChanged => JSON::PP::true } } };
}
my %LISTEN_HDR = ('MCP-Protocol-Version' => $MODERN,
                  'Mcp-Method' => 'subscriptions/listen');

# A listen stream that opened: acknowledged first, closed by its result,
# nothing in between but comments.  Returns the acknowledgement's params.
sub listen_stream_ok {
    my ($res, $id, $name) = @_;
    ok(is_stream($res), "$name: 200, an event stream") or diag($res->as_string);
    my ($events, $comments) = sse($res->content);
    my ($ack, $close) = @$events;
    ok(@$events == 2, "$name: two events, the acknowledgement and the closing result")
        or diag($res->content);
    ok(ref $ack eq 'HASH' && ($ack->{method} // '') eq 'notifications/subscriptions/acknowledged'
       && !exists $ack->{id},
       "$name: first, notifications/subscriptions/acknowledged");
    ok(same_id($ack->{params}{_meta}{$SUB_KEY}, $id),
       "$name: the acknowledgement's subscriptionId is the request id")
        or diag($JSON->encode($ack // {}));
    ok(ref $close eq 'HASH' && same_id($close->{id}, $id) && !exists $close->{error}
       && ($close->{result}{resultType} // '') eq 'complete',
       "$name: then the closing result for the id, resultType complete")
        or diag($JSON->encode($close // {}));
    ok(same_id($close->{result}{_meta}{$SUB_KEY}, $id),
       "$name: the closing result carries the subscriptionId");
    is($close->{result}{_meta}{$SRV_KEY}{name}, $SERVER,
       "$name: and serverInfo, as every modern result");
    ok(!grep({ !/^: ?keep-alive$/ } @$comments), "$name: no other comment than keep-alives")
        or diag(join "\n", @$comments);
    # Keep-alives come every 15 s: a stream bounded to 2 s has room for
    # one at most (dozens would be the stream's end spinning on the clock).
    ok(@$comments <= 1, "$name: at most one keep-alive in a 2 s stream")
        or diag(scalar(@$comments) . ' keep-alive comments');
    return ref $ack eq 'HASH' ? $ack->{params} : {};
}

{
    # One listener: acknowledged, then closed by the server within its bound
    # (LWP reads until the answer ends: a stream that never ended would
    # never come back with its closing result).
    my $res = mcp_post('/mcp-listen', listen_msg('listen-1', {
        toolsListChanged => JSON::PP::true, promptsListChanged => JSON::PP::true,
        resourcesListChanged => JSON::PP::false,
        resourceSubscriptions => ['matomo://sites/1'] }), %LISTEN_HDR);
    my $ack = listen_stream_ok($res, 'listen-1', 'listen');
    # The capabilities say listChanged: false, and a resource is the
    # caller's view of Matomo, changing without the module knowing: it can
    # promise none of these, and the acknowledgement omits what the server
    # does not support (subscriptions.mdx, "Acknowledgment").
    is_deeply($ack->{notifications}, {},
              'listen: nothing granted (lists never change, no resource updates)');

    $res = mcp_post('/mcp-listen', listen_msg(7), %LISTEN_HDR);
    listen_stream_ok($res, 7, 'listen with id 7');

    $res = mcp_post('/mcp-listen', listen_msg('listen-3', {}), %LISTEN_HDR);
    $ack = listen_stream_ok($res, 'listen-3', 'listen asking for nothing');
    is_deeply($ack->{notifications}, {}, 'listen asking for nothing: nothing granted');

    # The filter is required (schema: SubscriptionsListenRequest).
    {
        my $msg = listen_msg('listen-5');
        delete $msg->{params}{notifications};
        $res = mcp_post('/mcp-listen', $msg, %LISTEN_HDR);
        refused($res, json_body($res), 200, -32602, 'listen-5',
                'listen without params.notifications: -32602 with the id');
    }

    # A client that takes no event stream cannot listen.
    $res = mcp_post('/mcp-listen', listen_msg('listen-4'), %LISTEN_HDR,
                    Accept => 'application/json');
    refused($res, json_body($res), 406, -32600, 'listen-4',
            'listen accepting application/json only: 406 -32600 with the id');
    # The envelope applies to listen as to any request.
    $res = mcp_post('/mcp-listen', listen_msg('listen-5'), %LISTEN_HDR,
                    'Mcp-Method' => undef);
    refused($res, json_body($res), 400, -32020, 'listen-5',
            'listen without Mcp-Method: 400 -32020');
}

{
    # Over the limit.  MatomoMcpListenMax counts per child process, and the
    # test Apache has two children (t/conf/mpm.conf.in: ServerLimit 2), with
    # no way to choose which one takes a connection.  So three listeners
    # are opened at once: they are all open together (each stays open 2 s,
    # far longer than sending three requests takes), two children hold at
    # most one each, so at least one of the three must be refused; and the
    # ones that opened must be ordinary listen streams.  (One listener
    # alone could never show the limit, two could land on different
    # children.)
    my @ids = ('over-1', 'over-2', 'over-3');
    my %sock = map { $_ => open_post('/mcp-listen', listen_msg($_), %LISTEN_HDR) } @ids;
    my %res = map { $_ => read_to_end($sock{$_}) } @ids;
    my @open    = grep { $res{$_}->code == 200 } @ids;
    my @refused = grep { $res{$_}->code == 503 } @ids;
    ok(@refused >= 1, 'three listeners at once, at most one per child: at least one refused')
        or diag(join "\n", map { $res{$_}->as_string } @ids);
    ok(@open >= 1 && @open <= 2, 'three listeners at once: one or two opened (two children)')
        or diag(join "\n", map { "$_: " . $res{$_}->status_line } @ids);
    is(@open + @refused, 3, 'three listeners at once: each either opened or refused with 503');
    for my $id (@refused) {
        my $res = $res{$id};
        like($res->header('Retry-After') // '', qr/^\d+$/, "$id refused: Retry-After");
        my $err = refused($res, json_body($res), 503, -32000, $id,
                          "$id refused: a JSON-RPC error with its own id");
        like($err->{message} // '', qr{subscriptions/listen}, "$id refused: the message says why");
    }
    listen_stream_ok($res{$_}, $_, "$_ opened") for @open;

    # Once they have ended, a listener opens again.
    my $res = mcp_post('/mcp-listen', listen_msg('after-1'), %LISTEN_HDR);
    listen_stream_ok($res, 'after-1', 'after the streams ended: a listener opens again');
}

{
    # A client that closes its stream: the module notices at once and lets
    # the worker go (its debug line names the client's port).
    my $mark = error_log_mark();
    my $sock = open_post('/mcp-listen', listen_msg('hangup-1'), %LISTEN_HDR);
    my $port = $sock->sockport;
    my $raw = '';
    for (1 .. 50) {
        last if $raw =~ /subscriptions\/acknowledged/;
        last unless read_some($sock, \$raw, 0.2);
    }
    like($raw, qr{notifications/subscriptions/acknowledged},
         'listener that will hang up: acknowledged first');
    close $sock;
    my @lines = error_log_until($mark,
        qr/\[client [^\]]*:$port\] subscriptions\/listen: the client closed the stream/);
    ok(scalar(grep { /:$port\] subscriptions\/listen: the client closed the stream/ } @lines),
       'listener that hung up: the module saw it close the stream')
        or diag(join '', @lines);
    ok(!grep({ /$ERROR_LEVEL/ } @lines), 'listener that hung up: no error logged')
        or diag(join '', grep { /$ERROR_LEVEL/ } @lines);
}

# =============================================================================
# Progress.  /mcp-progress: a Matomo that takes 1.5 s per answer, a
# heartbeat every 200 ms (MatomoMcpProgressInterval 200ms).
# =============================================================================
{
    my $call = { name => 'matomo_list_sites', arguments => {} };
    my $plain_body;
    {
        my ($res, $body) = modern('/mcp-progress', 'plain', 'tools/call', $call);
        ok(is_json_answer($res) && $res->code == 200,
           'slow Matomo, no progress token: plain JSON') or diag($res->as_string);
        $plain_body = $body;
        ok(ref $body->{result}{structuredContent} eq 'HASH' && !$body->{result}{isError},
           'slow Matomo, no progress token: the sites, after waiting')
            or diag($res->as_string);
    }
    for my $case (['2026-07-28', 'tok-1'], ['2025-11-25', 42], ['2025-03-26', 'tok-3']) {
        my ($era, $token) = @$case;
        my $mark = fake_log_mark();
        my ($res, $body) = $era eq $MODERN
            ? modern('/mcp-progress', 'prog', 'tools/call',
                     { %$call, _meta => { progressToken => $token } })
            : rpc_body('/mcp-progress', 'prog', 'tools/call',
                       { %$call, _meta => { progressToken => $token } },
                       'MCP-Protocol-Version' => $era);
        my $name = "slow Matomo, progress token ($era)";
        ok(is_stream($res), "$name: an event stream") or diag($res->as_string);
        my ($events) = sse($res->content);
        my @notes = progress_of($events, 'notifications/progress');
        my $last = $events->[-1];
        ok(@$events == @notes + 1 && ref $last eq 'HASH' && same_id($last->{id}, 'prog'),
           "$name: progress notifications, then the answer last") or diag($res->content);
        progress_counts_ok($token, \@notes, $name);
        like(shape(@notes), qr/^S(?: H)+ A1$/,
             "$name: started, heartbeats while Matomo computes, then Matomo answered (round trip 1)")
            or diag(join "\n", map { $_->{params}{message} // '' } @notes);
        my @trips = grep { ($_->{path} // '') =~ m{^/matomo-fault/slow/1500/}
                           && !$_->{outcome} && ($_->{method} // '') ne 'API.getMatomoVersion' }
                    fake_log_since($mark);
        is(scalar @trips, 1, "$name: one round trip to Matomo");
        is_deeply(without_modern_fields($last->{result}), without_modern_fields($plain_body->{result}),
                  "$name: the same tool result as without progress");
        is($last->{result}{resultType}, $era eq $MODERN ? 'complete' : undef,
           "$name: resultType as the era has it");
    }
    {
        # A token must be a string or an integer: anything else asks for
        # nothing.
        my ($res, $body) = modern('/mcp-progress', 'float', 'tools/call',
                                  { %$call, _meta => { progressToken => 1.5 } });
        ok(is_json_answer($res) && $body && same_id($body->{id}, 'float')
           && $body->{result}{structuredContent},
           'slow Matomo, progress token 1.5 (not a token): plain JSON')
            or diag($res->as_string);
    }
    {
        my ($res, $body) = modern('/mcp-progress', 'json', 'tools/call',
                                  { %$call, _meta => { progressToken => 'tok-4' } },
                                  Accept => 'application/json');
        ok(is_json_answer($res) && $res->code == 200 && $body && same_id($body->{id}, 'json'),
           'slow Matomo, progress token, Accept application/json only: plain JSON')
            or diag($res->as_string);
        is_deeply($body->{result}, $plain_body->{result},
                  '... the very answer given without a token');
        unlike($res->content, qr{notifications/progress}, '... no progress in it');
    }
}

# Progress from a tool that makes two round trips (matomo_tracking_health
# over all sites: the site list, then one bulk request), on /mcp.
{
    my $mark = fake_log_mark();
    my ($res, $body) = modern('/mcp', 'health', 'tools/call',
        { name => 'matomo_tracking_health',
          arguments => { period => 'day', date => '2026-11-26', limit => 200 },
          _meta => { progressToken => 9 } });
    my $name = 'tracking health over all sites, progress token 9';
    ok(is_stream($res), "$name: an event stream") or diag($res->as_string);
    my ($events) = sse($res->content);
    my @notes = progress_of($events, 'notifications/progress');
    progress_counts_ok(9, \@notes, $name);
    my @trips = grep { ($_->{method} // '') ne 'API.getMatomoVersion' && !$_->{outcome} }
                fake_log_since($mark);
    is(scalar @trips, 2, "$name: two round trips reached Matomo");
    my @answered = grep { /^A/ } split / /, shape(@notes);
    is_deeply(\@answered, ['A1', 'A2'],
              "$name: one 'Matomo answered (round trip N)' per round trip, in order")
        or diag(join "\n", map { $_->{params}{message} // '' } @notes);
    like(shape(@notes), qr/^S\b/, "$name: the first says the tool started");
    my $last = $events->[-1];
    ok(ref $last eq 'HASH' && same_id($last->{id}, 'health')
       && ref $last->{result}{structuredContent}{sites} eq 'ARRAY',
       "$name: the result last") or diag($res->content);
}

# =============================================================================
# Log messages: only to a modern request that carries a logLevel.
# =============================================================================
{
    my $call = { name => 'matomo_list_sites', arguments => {} };
    my ($res, $body) = modern('/mcp', 'log-1', 'tools/call',
                              { %$call, _meta => { $LOG_KEY => 'debug' } });
    ok(is_stream($res), 'logLevel debug: an event stream') or diag($res->as_string);
    my ($events) = sse($res->content);
    my @msgs = progress_of($events, 'notifications/message');
    ok(@msgs >= 1, 'logLevel debug: notifications/message') or diag($res->content);
    ok(!grep({ ($_->{params}{level} // '') ne 'debug' || ($_->{params}{logger} // '') ne $SERVER
               || !defined $_->{params}{data} } @msgs),
       "logLevel debug: level debug, logger $SERVER, data") or diag($res->content);
    like($msgs[0]{params}{data} // '', qr/\b\d+ ms\b/, 'logLevel debug: how long Matomo took');
    ok(!progress_of($events, 'notifications/progress'), 'logLevel debug: no progress without a token');
    ok(same_id($events->[-1]{id}, 'log-1') && $events->[-1]{result}{structuredContent},
       'logLevel debug: the result last');

    ($res, $body) = modern('/mcp', 'log-2', 'tools/call', $call);
    ok(is_json_answer($res) && $body && $body->{result}{structuredContent},
       'no logLevel: plain JSON') or diag($res->as_string);
    unlike($res->content, qr{notifications/message}, 'no logLevel: no log message');

    ($res, $body) = modern('/mcp', 'log-3', 'tools/call',
                           { %$call, _meta => { $LOG_KEY => 'error' } });
    ok(is_json_answer($res) && $body && $body->{result}{structuredContent},
       'logLevel error, nothing failed: plain JSON, no message') or diag($res->as_string);

    ($res, $body) = modern('/mcp-fault-error', 'log-4', 'tools/call',
                           { %$call, _meta => { $LOG_KEY => 'error' } });
    ($events) = sse($res->content);
    @msgs = progress_of($events, 'notifications/message');
    ok(is_stream($res) && @msgs == 1 && ($msgs[0]{params}{level} // '') eq 'error',
       'logLevel error, Matomo fails: one error message') or diag($res->as_string);
    like($msgs[0]{params}{data} // '', qr/Mysql error/, '... with Matomo\'s message');
    ok($events->[-1]{result}{isError}, '... then the tool error');

    # The 2025 era has logging/setLevel, and nowhere to keep it.
    ($res, $body) = rpc_body('/mcp', 'log-5', 'logging/setLevel', { level => 'debug' },
                             'MCP-Protocol-Version' => '2025-11-25');
    is_deeply($body->{result}, {}, '2025: logging/setLevel accepted');
    ($res, $body) = rpc_body('/mcp', 'log-6', 'tools/call',
                             { %$call, _meta => { $LOG_KEY => 'debug' } },
                             'MCP-Protocol-Version' => '2025-11-25');
    ok(is_json_answer($res) && $body->{result}{structuredContent},
       '2025: a tools/call after setLevel (even with a _meta logLevel): plain JSON, no message')
        or diag($res->as_string);
}

# =============================================================================
# Cancellation: a client that hangs up mid-call.
# =============================================================================

# The fake's log entries of a slow request on PATH (its request line), and
# the aborted line that names it.
sub slow_line {
    my ($path, $method) = @_;
    return sub { grep { ($_->{path} // '') eq $path && $_->{fault}
                        && (!$method || ($_->{method} // '') eq $method) } @_ };
}
sub aborted_line {
    my $rid = shift;
    return sub { grep { ($_->{outcome} // '') eq 'aborted'
                        && ($_->{request_id} // '') eq $rid } @_ };
}

{
    # /mcp-cancel: Matomo would answer after 60 s, the module waits 30 s.
    # The client hangs up once its call is at Matomo.  The first Matomo
    # call of a request is the token check (API.getMatomoVersion), which no
    # answer ever ends on this endpoint: that is the call cancelled here.
    my $path = '/matomo-fault/slow/60000/index.php';
    my $mark = fake_log_mark();
    my $emark = error_log_mark();
    my $sock = open_post('/mcp-cancel', { jsonrpc => '2.0', id => 'c-1', method => 'tools/call',
                                          params => { name => 'matomo_list_sites', arguments => {} } },
                         'MCP-Protocol-Version' => '2025-11-25');
    my $port = $sock->sockport;
    my ($req) = slow_line($path)->(fake_until($mark, slow_line($path)));
    ok($req, 'hang-up: the call reached Matomo') or diag($JSON->encode([fake_log_since($mark)]));
    Time::HiRes::sleep(0.3);
    close $sock;
    my $rid = $req ? $req->{request_id} : 'none';
    my ($out) = aborted_line($rid)->(fake_until($mark, aborted_line($rid)));
    ok($out, 'hang-up: the fake Matomo saw the module abandon the call')
        or diag($JSON->encode([fake_log_since($mark)]));
    $out //= {};
    # 30 s is when the module would have given up on its own; the fake
    # notices a closed connection within 50 ms.
    cmp_ok($out->{aborted_after_ms} // 1e9, '<', 15_000,
           'hang-up: abandoned long before the 30 s backend timeout, so by the cancellation');
    note("aborted_after_ms: " . ($out->{aborted_after_ms} // 'none'));
    my @lines = error_log_until($emark, qr/:$port\] the client went away/);
    ok(scalar(grep { /:$port\] the client went away/ } @lines),
       'hang-up: the module logged that the client went away, and returned')
        or diag(join '', @lines);
    ok(!grep({ /$ERROR_LEVEL/ } @lines), 'hang-up: no error logged for it')
        or diag(join '', grep { /$ERROR_LEVEL/ } @lines);
    my ($res, $body) = rpc_body('/mcp', 'c-2', 'tools/call',
                                { name => 'matomo_list_sites', arguments => {} });
    ok($res->code == 200 && $body->{result}{structuredContent},
       'hang-up: a request sent right after is answered') or diag($res->as_string);
}

{
    # /mcp-cancel-tool: 8 s per Matomo answer.  The token check passes (8 s,
    # once per child and minute), then the tool's own call starts, with a
    # progress stream; the client reads the stream until its call is at
    # Matomo and closes it.  Closing the stream is the cancellation
    # (2026-07-28 cancellation.mdx): the call must end before Matomo's
    # answer was due.
    my $path = '/matomo-fault/slow/8000/index.php';
    my $method = 'SitesManager.getSitesWithAtLeastViewAccess';
    my $mark = fake_log_mark();
    my $emark = error_log_mark();
    my $sock = open_post('/mcp-cancel-tool',
        { jsonrpc => '2.0', id => 'c-3', method => 'tools/call',
          params => { name => 'matomo_list_sites', arguments => {},
                      _meta => { %{ client_meta() }, progressToken => 'c-3' } } },
        %LISTEN_HDR, 'Mcp-Method' => 'tools/call', 'Mcp-Name' => 'matomo_list_sites');
    my $port = $sock->sockport;
    my $raw = '';
    my $req;
    my $until = Time::HiRes::time() + 40;
    while (Time::HiRes::time() < $until) {
        ($req) = slow_line($path, $method)->(fake_log_since($mark));
        last if $req && $raw =~ /"Started matomo_list_sites"/;
        last unless read_some($sock, \$raw, 0.1);
    }
    ok($req, 'stream closed mid-call: the tool\'s call reached Matomo')
        or diag($JSON->encode([fake_log_since($mark)]));
    like($raw, qr{^HTTP/1\.1 200\b.*text/event-stream.*"notifications/progress"}s,
         'stream closed mid-call: the stream was open, with progress')
        or diag($raw);
    close $sock;
    my $rid = $req ? $req->{request_id} : 'none';
    my ($out) = aborted_line($rid)->(fake_until($mark, aborted_line($rid)));
    ok($out, 'stream closed mid-call: the fake Matomo saw the tool\'s call abandoned')
        or diag($JSON->encode([fake_log_since($mark)]));
    $out //= {};
    is($out->{method}, $method, 'stream closed mid-call: the abandoned call is the tool\'s');
    cmp_ok($out->{aborted_after_ms} // 1e9, '<', 8000,
           'stream closed mid-call: abandoned before Matomo\'s answer was due');
    note("aborted_after_ms: " . ($out->{aborted_after_ms} // 'none'));
    my @lines = error_log_until($emark, qr/:$port\] the client went away/);
    ok(scalar(grep { /:$port\] the client went away/ } @lines),
       'stream closed mid-call: the module logged that the client went away')
        or diag(join '', @lines);
    ok(!grep({ /$ERROR_LEVEL/ } @lines), 'stream closed mid-call: no error logged')
        or diag(join '', grep { /$ERROR_LEVEL/ } @lines);
    my ($res, $body) = modern('/mcp', 'c-4', 'tools/call',
                              { name => 'matomo_list_sites', arguments => {} });
    ok($res->code == 200 && $body->{result}{structuredContent},
       'stream closed mid-call: a request sent right after is answered')
        or diag($res->as_string);
}

done_testing();
