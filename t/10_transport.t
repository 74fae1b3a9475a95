# Streamable HTTP as the module serves it on /mcp: status codes, headers,
# the Host/Origin guards, content negotiation, body limits, .htaccess.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use McpTest;

plan tests => 116 + 3 * 3 + 2;

my $PING = { jsonrpc => '2.0', id => 1, method => 'ping' };
my $PING_TEXT = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
my $INIT = { jsonrpc => '2.0', id => 1, method => 'initialize',
             params => { protocolVersion => '2025-11-25', capabilities => {},
                         clientInfo => { name => 't', version => '0' } } };
my ($port) = hostport() =~ /:(\d+)$/;

# A ping that worked: HTTP 200 and {"result":{}} for the id sent.
sub ping_ok {
    my ($res, $name) = @_;
    my $j = json_body($res);
    ok($res->code == 200 && $j && defined $j->{id} && $j->{id} == 1
       && ref $j->{result} eq 'HASH' && !%{ $j->{result} }, $name)
        or diag($res->as_string);
}

# A transport refusal: the status, and no JSON-RPC result smuggled along.
sub refused {
    my ($res, $code, $name) = @_;
    my $j = json_body($res);
    ok($res->code == $code && !($j && exists $j->{result}), $name)
        or diag($res->as_string);
}

# The methods in an Allow header, sorted.
sub allow_set {
    join ',', sort map { uc } split /\s*,\s*/, shift->header('Allow') // '';
}

# --- initialize --------------------------------------------------------
{
    my $res = mcp_post('/mcp', $INIT);
    is($res->code, 200, 'initialize: 200');
    like($res->header('Content-Type'), qr{^application/json\b}i,
         'initialize: Content-Type application/json');
    ok(!defined $res->header('Mcp-Session-Id'),
       'initialize: stateless, no Mcp-Session-Id');
    like($res->header('Cache-Control') // '', qr/\bno-store\b/,
         'initialize: Cache-Control no-store');
    my $j = json_body($res);
    is($j && $j->{id}, 1, 'initialize: answer carries the id');
    ok($j && ref $j->{result} eq 'HASH', 'initialize: a result object');
}

# --- messages that need no answer ---------------------------------------
for my $case (
    [ notification => { jsonrpc => '2.0', method => 'notifications/initialized' } ],
    [ 'JSON-RPC response' => '{"jsonrpc":"2.0","id":5,"result":{}}' ],
    [ 'JSON-RPC error response' =>
      '{"jsonrpc":"2.0","id":5,"error":{"code":-1,"message":"x"}}' ],
) {
    my ($name, $body) = @$case;
    my $res = mcp_post('/mcp', $body);
    is($res->code, 202, "$name: 202 Accepted");
    is($res->content, '', "$name: empty body");
}

# --- methods --------------------------------------------------------------
for my $m (qw(GET DELETE HEAD)) {
    my $res = mcp_request($m => '/mcp', undef);
    is($res->code, 405, "$m: 405");
    is(allow_set($res), 'OPTIONS,POST', "$m: Allow lists POST and OPTIONS");
}
{
    my $res = mcp_request(OPTIONS => '/mcp', undef);
    is($res->code, 204, 'OPTIONS: 204');
    is(allow_set($res), 'OPTIONS,POST', 'OPTIONS: Allow lists POST and OPTIONS');
    is($res->content, '', 'OPTIONS: no body');
}

# --- Host (DNS rebinding) -------------------------------------------------
refused(mcp_post('/mcp', $PING, Host => 'evil.example.com'), 403,
        'Host evil.example.com: 403');
refused(mcp_post('/mcp', $PING, Host => "evil.example.com:$port"), 403,
        'Host evil.example.com:port: 403');
for my $h ('localhost', '127.0.0.1', '[::1]') {
    ping_ok(mcp_post('/mcp', $PING, Host => $h), "Host $h: 200");
    ping_ok(mcp_post('/mcp', $PING, Host => "$h:$port"), "Host $h:$port: 200");
}
ping_ok(mcp_post('/mcp', $PING, Host => 'LOCALHOST'), 'Host is case-insensitive');
# MatomoMcpAllowedHosts mcp.example.org *.example.net on /mcp-limits only.
ping_ok(mcp_post('/mcp-limits', $PING, Host => 'mcp.example.org'),
        '/mcp-limits: listed host passes');
ping_ok(mcp_post('/mcp-limits', $PING, Host => "a.example.net:$port"),
        '/mcp-limits: wildcard *.example.net matches a.example.net');
refused(mcp_post('/mcp-limits', $PING, Host => 'other.org'), 403,
        '/mcp-limits: unlisted host other.org: 403');
refused(mcp_post('/mcp-limits', $PING, Host => 'example.net.evil.com'), 403,
        '/mcp-limits: wildcard does not match a longer name');
refused(mcp_post('/mcp', $PING, Host => 'mcp.example.org'), 403,
        '/mcp: the /mcp-limits host list does not leak into /mcp');
# IPv6 literals listed with brackets ([2001:db8::1]) and without
# (2001:db8::2): httpd's r->hostname has none, an Origin's URL has them.
for my $h ('[2001:db8::1]', '[2001:DB8::1]', '[2001:db8::2]') {
    ping_ok(mcp_post('/mcp-limits', $PING, Host => $h),
            "/mcp-limits: listed IPv6 Host $h passes");
    ping_ok(mcp_post('/mcp-limits', $PING, Host => "$h:$port"),
            "/mcp-limits: listed IPv6 Host $h:$port passes");
    ping_ok(mcp_post('/mcp-limits', $PING, Origin => "http://$h:8080"),
            "/mcp-limits: Origin of a listed IPv6 host http://$h:8080 passes");
}
refused(mcp_post('/mcp-limits', $PING, Host => '[2001:db8::3]'), 403,
        '/mcp-limits: unlisted IPv6 Host [2001:db8::3]: 403');
refused(mcp_post('/mcp-limits', $PING, Origin => 'http://[2001:db8::3]'), 403,
        '/mcp-limits: Origin of an unlisted IPv6 host: 403');

# --- Origin (browsers) ----------------------------------------------------
ping_ok(mcp_post('/mcp', $PING), 'no Origin: ok');
refused(mcp_post('/mcp', $PING, Origin => 'http://evil.example.com'), 403,
        'Origin http://evil.example.com: 403');
refused(mcp_post('/mcp', $PING, Origin => 'null'), 403, 'Origin null: 403');
ping_ok(mcp_post('/mcp', $PING, Origin => "http://localhost:$port"),
        'Origin of this server: ok');
refused(mcp_post('/mcp', $PING, Origin => 'https://claude.ai'), 403,
        '/mcp: an origin listed only for /mcp-limits: 403');
ping_ok(mcp_post('/mcp-limits', $PING, Origin => 'https://claude.ai'),
        '/mcp-limits: listed https://claude.ai passes');
ping_ok(mcp_post('/mcp-limits', $PING, Origin => 'http://app.example.com:8443'),
        '/mcp-limits: listed http://app.example.com:8443 passes');
refused(mcp_post('/mcp-limits', $PING, Origin => 'https://claude.ai.evil.com'),
        403, '/mcp-limits: https://claude.ai.evil.com: 403');
refused(mcp_post('/mcp-limits', $PING, Origin => 'http://app.example.com'),
        403, '/mcp-limits: listed host on another port: 403');
refused(mcp_post('/mcp-limits', $PING, Origin => 'http://claude.ai'),
        403, '/mcp-limits: listed host with another scheme: 403');

# --- Accept ---------------------------------------------------------------
refused(mcp_post('/mcp', $PING, Accept => 'text/plain'), 406,
        'Accept text/plain: 406');
refused(mcp_post('/mcp', $PING, Accept => 'application/json;q=0, text/plain'),
        406, 'Accept application/json;q=0, text/plain: 406');
for my $acc ('application/json', '*/*', undef) {
    # Without Accept: a raw request, so no client library adds one.
    my $res = defined $acc ? mcp_post('/mcp', $PING, Accept => $acc)
            : raw_http("POST /mcp HTTP/1.1\r\nHost: " . hostport() . "\r\n"
                       . auth_line()
                       . "Content-Type: application/json\r\n"
                       . "Content-Length: " . length($PING_TEXT) . "\r\n"
                       . "Connection: close\r\n\r\n$PING_TEXT");
    my $name = 'Accept ' . ($acc // '(none)');
    like($res->header('Content-Type') // '', qr{^application/json\b}i,
         "$name: answered as JSON");
    ping_ok($res, "$name: ping answered");
}
{
    my $res = mcp_post('/mcp', $PING, Accept => 'text/event-stream');
    is($res->code, 200, 'Accept text/event-stream: 200');
    like($res->header('Content-Type') // '', qr{^text/event-stream\b}i,
         'Accept text/event-stream: an event stream');
    my ($json) = $res->content =~ /\Aevent: message\ndata: (.*)\n\n\z/;
    ok(defined $json, 'event stream: one "message" event, framed per SSE')
        or diag($res->content);
    my $j = eval { JSON::PP->new->decode($json // '') };
    ok($j && $j->{id} == 1 && ref $j->{result} eq 'HASH'
       && !%{ $j->{result} }, 'event stream: data is the JSON-RPC answer');
}

# --- Content-Type ---------------------------------------------------------
refused(mcp_post('/mcp', $PING, 'Content-Type' => undef), 415,
        'no Content-Type: 415');
refused(mcp_post('/mcp', $PING, 'Content-Type' => 'text/plain'), 415,
        'Content-Type text/plain: 415');
refused(mcp_post('/mcp', $PING,
                 'Content-Type' => 'application/json; charset=latin1'), 415,
        'Content-Type application/json; charset=latin1: 415');
ping_ok(mcp_post('/mcp', $PING,
                 'Content-Type' => 'application/json; charset=utf-8'),
        'Content-Type application/json; charset=utf-8: ok');
ping_ok(mcp_post('/mcp', $PING,
                 'Content-Type' => 'Application/JSON; Charset="UTF-8"'),
        'Content-Type matched case-insensitively, quoted charset');

# --- MCP-Protocol-Version -------------------------------------------------
ping_ok(mcp_post('/mcp', $PING), 'no MCP-Protocol-Version: ok');
for my $v (qw(2025-11-25 2025-06-18 2025-03-26)) {
    ping_ok(mcp_post('/mcp', $PING, 'MCP-Protocol-Version' => $v),
            "MCP-Protocol-Version $v: ok");
}
refused(mcp_post('/mcp', $PING, 'MCP-Protocol-Version' => '1999-01-01'), 400,
        'MCP-Protocol-Version 1999-01-01: 400');

# --- body size (MatomoMcpMaxRequestBody 2K on /mcp-limits) -----------------
# A ping padded to exactly $n bytes (it dies otherwise: the limit tests
# below are only about the cap if the sizes are exact).
sub ping_of_size {
    my $n = shift;
    my $head = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"';
    my $tail = '"}}';
    my $ping = $head . ('x' x ($n - length($head) - length($tail))) . $tail;
    die "ping_of_size($n) made " . length($ping) . " bytes\n" unless length $ping == $n;
    return $ping;
}

# A raw HTTP/1.1 POST with a chunked body cut into pieces of $size bytes.
sub chunked_post {
    my ($path, $body, $size) = @_;
    my $req = "POST $path HTTP/1.1\r\nHost: " . hostport() . "\r\n"
            . "Content-Type: application/json\r\n"
            . "Accept: application/json, text/event-stream\r\n"
            . auth_line()
            . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    for (my $i = 0; $i < length $body; $i += $size) {
        my $piece = substr($body, $i, $size);
        $req .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
    }
    return raw_http($req . "0\r\n\r\n");
}

ping_ok(mcp_post('/mcp-limits', ping_of_size(2048)),
        'Content-Length 2048 = the 2K cap: accepted');
refused(mcp_post('/mcp-limits', ping_of_size(2049)), 413,
        'Content-Length 2049: 413');
refused(mcp_post('/mcp-limits', ping_of_size(3000)), 413,
        'Content-Length 3000: 413');
ping_ok(mcp_post('/mcp-limits', $PING), 'after a 413: still serving');
ping_ok(mcp_post('/mcp', ping_of_size(3000)),
        '/mcp (default cap): 3000 bytes accepted');
{
    my $res = chunked_post('/mcp-limits', ping_of_size(3000), 1000);
    ok($res, 'chunked 3000 bytes: an answer') or diag('connection closed');
    refused($res // HTTP::Response->new(599), 413, 'chunked 3000 bytes: 413');
    ping_ok(mcp_post('/mcp-limits', $PING), 'after a chunked 413: still serving');

    $res = chunked_post('/mcp-limits', ping_of_size(2049), 700);
    refused($res // HTTP::Response->new(599), 413, 'chunked 2049 bytes: 413');

    $res = chunked_post('/mcp-limits', ping_of_size(2048), 700);
    ping_ok($res // HTTP::Response->new(599), 'chunked 2048 bytes: accepted');

    $res = chunked_post('/mcp-limits',
        '{"jsonrpc":"2.0","id":"chunky","method":"tools/list"}', 7);
    my $j = $res && json_body($res);
    ok($res && $res->code == 200 && $j && $j->{id} eq 'chunky'
       && ref $j->{result}{tools} eq 'ARRAY',
       'small chunked body in 7-byte chunks: read whole and answered')
        or diag($res ? $res->as_string : 'no answer');
    my $cl = $res && $res->header('Content-Length');
    ok(defined $cl, 'chunked request: the answer has a Content-Length')
        or diag($res ? $res->status_line . "\n" . $res->headers->as_string : 'no answer');
    is($cl, $res && length $res->content,
       'chunked request: Content-Length of the answer matches its body');
}

# --- CORS (MatomoMcpAllowedOrigins https://claude.ai on /mcp-limits) -------
my $SITE = 'https://claude.ai';

# A browser's preflight of a POST from $origin.
sub preflight {
    my ($path, $origin) = @_;
    return mcp_request(OPTIONS => $path, undef, Origin => $origin,
                       'Access-Control-Request-Method' => 'POST',
                       'Access-Control-Request-Headers' =>
                           'authorization,content-type,mcp-protocol-version',
                       Authorization => undef, 'Content-Type' => undef);
}

# The names in a list header, lower-cased.
sub header_set {
    my ($res, $name) = @_;
    return { map { lc($_) => 1 } split /\s*,\s*/, $res->header($name) // '' };
}

# An answer a page of $SITE may read: its origin echoed, never "*".
sub readable_by_site {
    my ($res, $name) = @_;
    my $ok = ($res->header('Access-Control-Allow-Origin') // '') eq $SITE
             && header_set($res, 'Vary')->{origin}
             && header_set($res, 'Access-Control-Expose-Headers')
                    ->{'www-authenticate'};
    ok($ok, $name) or diag($res->as_string);
}
{
    my $res = preflight('/mcp-limits', $SITE);
    is($res->code, 204, 'preflight from a listed origin: 204');
    is($res->header('Access-Control-Allow-Origin'), $SITE,
       'preflight: Access-Control-Allow-Origin is that origin');
    ok(header_set($res, 'Vary')->{origin}, 'preflight: Vary: Origin');
    my $m = header_set($res, 'Access-Control-Allow-Methods');
    ok($m->{post}, 'preflight: POST allowed')
        or diag($res->as_string);
    my $h = header_set($res, 'Access-Control-Allow-Headers');
    is_deeply([grep { !$h->{$_} } qw(authorization content-type accept
                                     mcp-protocol-version mcp-session-id
                                     last-event-id)], [],
              'preflight: every header an MCP client sends is allowed');
    cmp_ok($res->header('Access-Control-Max-Age') // 0, '>', 0,
           'preflight: Access-Control-Max-Age');
    ok(!defined $res->header('Access-Control-Allow-Credentials'),
       'preflight: no credentials mode (the token is a header, no cookie)');
    is($res->content, '', 'preflight: no body');

    $res = preflight('/mcp-limits', 'https://claude.ai.evil.com');
    is($res->code, 403, 'preflight from an unlisted origin: 403');
    ok(!defined $res->header('Access-Control-Allow-Origin'),
       'preflight from an unlisted origin: no Access-Control-Allow-Origin');
    # The Origin check lets pages of this server's host names through on
    # any port; they get no CORS unless listed.
    for my $o ("http://localhost:$port", 'http://localhost:3000') {
        $res = preflight('/mcp-limits', $o);
        ok(!defined $res->header('Access-Control-Allow-Origin')
           && !defined $res->header('Access-Control-Allow-Methods'),
           "preflight from $o (loopback, not listed): no CORS")
            or diag($res->as_string);
    }
    $res = preflight('/mcp', $SITE);
    is($res->code, 403, '/mcp: an origin listed for /mcp-limits only: 403');
}
{
    my $res = mcp_post('/mcp-limits', $PING, Origin => $SITE);
    ping_ok($res, 'POST from a listed origin: 200');
    readable_by_site($res, 'POST 200: readable by the listed origin');

    $res = mcp_post('/mcp-limits', { jsonrpc => '2.0',
                                     method => 'notifications/initialized' },
                    Origin => $SITE);
    is($res->code, 202, 'notification from a listed origin: 202');
    readable_by_site($res, '202: readable by the listed origin');

    $res = mcp_post('/mcp-limits', $PING, Origin => $SITE,
                    Authorization => undef);
    is($res->code, 401, 'no token from a listed origin: 401');
    like($res->header('WWW-Authenticate') // '', qr/resource_metadata=/,
         '401: the challenge');
    readable_by_site($res, '401: the challenge is readable by the listed origin');

    $res = mcp_post('/mcp-limits', $PING, Origin => $SITE,
                    'Content-Type' => 'text/plain');
    is($res->code, 415, 'wrong Content-Type from a listed origin: 415');
    readable_by_site($res, '415: readable by the listed origin');

    $res = mcp_request(GET => '/mcp-limits', undef, Origin => $SITE);
    is($res->code, 405, 'GET from a listed origin: 405');
    readable_by_site($res, '405: readable by the listed origin');

    $res = mcp_post('/mcp-limits', ping_of_size(3000), Origin => $SITE);
    is($res->code, 413, 'body over the cap from a listed origin: 413');
    readable_by_site($res, '413: readable by the listed origin');

    for my $o (undef, "http://localhost:$port") {
        $res = mcp_post('/mcp-limits', $PING, defined $o ? (Origin => $o) : ());
        my $name = 'POST ' . ($o ? "from $o (not listed)" : 'without Origin');
        ping_ok($res, "$name: 200");
        ok(!defined $res->header('Access-Control-Allow-Origin'),
           "$name: no Access-Control-Allow-Origin");
    }
    $res = mcp_post('/mcp-limits', $PING, Origin => 'http://evil.example.com');
    refused($res, 403, 'POST from an unlisted origin: 403');
    ok(!defined $res->header('Access-Control-Allow-Origin'),
       'POST from an unlisted origin: no Access-Control-Allow-Origin');
}

# --- .htaccess (MatomoMcpMaxRequestBody 1K there) -------------------------
ping_ok(mcp_post('/htaccess/', $PING), '.htaccess location: ping answered');
refused(mcp_post('/htaccess/', ping_of_size(1500)), 413,
        '.htaccess: 1500 bytes over its 1K cap: 413');
ping_ok(mcp_post('/htaccess/', ping_of_size(1024)),
        '.htaccess: 1024 bytes at the cap: accepted');
ping_ok(mcp_post('/mcp', $PING), 'after everything: still serving');
