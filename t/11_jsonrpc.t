# JSON-RPC 2.0 and the MCP lifecycle over /mcp: initialize, ping, ids,
# method dispatch, and every way a body can be malformed.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use McpTest;

plan tests => 262;

# The JSON-RPC error an answer carries: (HTTP status, code, decoded body).
sub error_of {
    my $res = shift;
    my $j = json_body($res);
    my $code = $j && ref $j->{error} eq 'HASH' ? $j->{error}{code} : undef;
    return ($res->code, $code, $j);
}

# A request the server must refuse: HTTP $http, JSON-RPC $code, a message,
# no result, and (when $want_null_id) id null.
sub rejects {
    my ($body, $http, $code, $name, $want_null_id, %hdr) = @_;
    my ($status, $got, $j) = error_of(mcp_post('/mcp', $body, %hdr));
    is($status, $http, "$name: HTTP $http");
    is($got, $code, "$name: JSON-RPC $code");
    ok($j && $j->{jsonrpc} eq '2.0' && !exists $j->{result}
       && defined $j->{error}{message} && length $j->{error}{message},
       "$name: a JSON-RPC error with a message, no result");
    # The message opens with JSON-RPC's name for the code, then the detail.
    my %prefix = (-32700 => 'Parse error: ', -32600 => 'Invalid Request: ',
                  -32602 => 'Invalid params: ');
    if (my $want = $prefix{$code}) {
        is($j && substr($j->{error}{message} // '', 0, length $want), $want,
           "$name: the message opens with '$want'");
    }
    if ($want_null_id) {
        ok($j && exists $j->{id} && !defined $j->{id}, "$name: id null");
    }
}

my $PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

# --- batches: revision 2025-03-26 (also when no MCP-Protocol-Version says) ---
# That revision requires servers to receive JSON-RPC batches; later ones
# removed them.  Answers come in one array, in order; initialize stays out.
for my $hdr ([], ['MCP-Protocol-Version' => '2025-03-26']) {
    my $label = @$hdr ? '2025-03-26' : 'no version header';
    my $res = mcp_post('/mcp', '[' . join(',',
        $PING,
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        '{"jsonrpc":"2.0","id":"sites","method":"tools/call","params":'
          . '{"name":"matomo_list_sites","arguments":{}}}',
        '{"jsonrpc":"2.0","id":3,"method":"initialize","params":{}}',
        '{"jsonrpc":"2.0","id":4,"method":"nope"}',
        '42') . ']', @$hdr);
    my $j = json_body($res);
    is($res->code, 200, "$label: a batch gets 200");
    like($res->header('Content-Type') // '', qr{^application/json},
         "$label: as JSON");
    is(ref $j eq 'ARRAY' ? scalar @$j : -1, 5,
       "$label: one answer per request, none for the notification");
    $j = [] unless ref $j eq 'ARRAY';
    is_deeply([map { $_->{id} } @$j], [1, 'sites', 3, 4, undef],
              "$label: in order, with their ids");
    is_deeply($j->[0]{result}, {}, "$label: ping answered");
    is_deeply([map { $_->[0] } @{ $j->[1]{result}{structuredContent}{sites}{rows} // [] }],
              [1, 2, 3], "$label: tools/call answered from Matomo");
    is_deeply([map { $_->{error}{code} } @$j[2 .. 4]], [-32600, -32601, -32600],
              "$label: initialize refused, unknown method, a non-message");
}
{
    my $res = mcp_post('/mcp', '[{"jsonrpc":"2.0","method":"notifications/initialized"},'
                               . '{"jsonrpc":"2.0","id":9,"result":{}}]');
    is($res->code, 202, 'a batch without requests: 202');
    is($res->content, '', '... and no body');
    $res = mcp_post('/mcp', "[$PING]", Authorization => 'Bearer ' . ('0' x 32));
    is($res->code, 401, 'a batch with a token Matomo refuses: 401');
    like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
         '... invalid_token');
    rejects('[' . join(',', ($PING) x 17) . ']', 400, -32600,
            'a batch of 17 messages (at most 16)', 1);
}

# --- initialize -------------------------------------------------------------
for my $v (qw(2025-11-25 2025-06-18 2025-03-26)) {
    my ($res, $j) = rpc_body('/mcp', 1, initialize => {
        protocolVersion => $v, capabilities => {},
        clientInfo => { name => 't', version => '0' } });
    is($j && $j->{result}{protocolVersion}, $v,
       "initialize $v: the supported revision is echoed");
}
{
    my ($res, $j) = rpc_body('/mcp', 1, initialize => {
        protocolVersion => '2024-01-01', capabilities => {},
        clientInfo => { name => 't', version => '0' } });
    # The spec: an unsupported revision gets the server's latest.
    is($j && $j->{result}{protocolVersion}, '2025-11-25',
       'initialize 2024-01-01: answered with the latest revision');
    my $r = $j ? $j->{result} : {};
    is(ref $r->{capabilities}{tools}, 'HASH', 'capabilities.tools is an object');
    is_deeply([sort keys %{ $r->{capabilities} }],
              [qw(completions logging prompts resources tools)],
              'exactly the capabilities served');
    is_deeply([map { $r->{capabilities}{$_}{listChanged} ? 1 : 0 } qw(tools resources prompts)],
              [0, 0, 0], 'lists do not change during a session (listChanged false)');
    for my $k (qw(name version title websiteUrl)) {
        ok(defined $r->{serverInfo}{$k} && !ref $r->{serverInfo}{$k}
           && length $r->{serverInfo}{$k}, "serverInfo.$k is a non-empty string");
    }
    like($r->{serverInfo}{websiteUrl} // '', qr{^http://[^/]+/$},
         'serverInfo.websiteUrl defaults to this server\'s root URL');
    ok(defined $r->{instructions} && !ref $r->{instructions}
       && length $r->{instructions} > 0, 'instructions: non-empty string');
    like($r->{instructions} // '', qr/timezone/i,
         'instructions explain the timezone of dates');
}
{
    my ($res, $j) = rpc_body('/mcp', 1, initialize => { capabilities => {} });
    is($j && $j->{error}{code}, -32602, 'initialize without protocolVersion: -32602');
    ($res, $j) = rpc_body('/mcp', 1, initialize => { protocolVersion => 20250618 });
    is($j && $j->{error}{code}, -32602, 'initialize with a numeric protocolVersion: -32602');
}
{
    my ($res, $j) = rpc_body('/mcp-limits', 1, initialize => {
        protocolVersion => '2025-11-25', capabilities => {},
        clientInfo => { name => 't', version => '0' } });
    is($j && $j->{result}{serverInfo}{websiteUrl}, 'https://analytics.example.org/',
       '/mcp-limits: serverInfo.websiteUrl from MatomoMcpWebsiteUrl');
}

# --- ping and ids -------------------------------------------------------------
{
    my $res = mcp_post('/mcp', $PING);
    is($res->code, 200, 'ping: 200');
    like($res->content, qr/"result":\{\}/, 'ping: result is exactly {}');
    my $j = json_body($res);
    is($j && $j->{jsonrpc}, '2.0', 'ping: jsonrpc 2.0');
    ok($j && !exists $j->{error}, 'ping: no error member');
}
for my $case ([ '"abc"', 'a string id' ], [ '7', 'an integer id' ],
              [ '0', 'id 0' ], [ '-3', 'a negative id' ],
              [ '""', 'an empty string id' ],
              [ '9007199254740993', 'an integer id beyond 2^53' ]) {
    my ($id, $name) = @$case;
    my $res = mcp_post('/mcp', qq({"jsonrpc":"2.0","id":$id,"method":"ping"}));
    is($res->code, 200, "$name: 200");
    # The raw text: a string stays a string, a number stays that number.
    like($res->content, qr/"id":\Q$id\E[,}]/, "$name: comes back as $id");
}

# --- methods --------------------------------------------------------------------
{
    my ($res, $j) = rpc_body('/mcp', 2, 'no/such/method', {});
    is($res->code, 200, 'unknown method: HTTP 200 (a JSON-RPC error)');
    is($j && $j->{error}{code}, -32601, 'unknown method: -32601');
    is($j && $j->{id}, 2, 'unknown method: the id is kept');

    ($res, $j) = rpc_body('/mcp', 3, 'tools/list');
    is(ref($j && $j->{result}{tools}), 'ARRAY', 'tools/list: result.tools is an array');
    ok($j && !exists $j->{result}{nextCursor}, 'tools/list: one page, no nextCursor');

    ($res, $j) = rpc_body('/mcp', 3, 'tools/list', {});
    is(ref($j && $j->{result}{tools}), 'ARRAY', 'tools/list with empty params: ok');

    ($res, $j) = rpc_body('/mcp', 4, 'tools/list', { cursor => 'bogus' });
    is($j && $j->{error}{code}, -32602, 'tools/list cursor "bogus": -32602');
    ($res, $j) = rpc_body('/mcp', 4, 'tools/list', { cursor => 7 });
    is($j && $j->{error}{code}, -32602, 'tools/list numeric cursor: -32602');

    ($res, $j) = rpc_body('/mcp', 5, 'tools/call',
                          { name => 'no_such_tool', arguments => {} });
    is($j && $j->{error}{code}, -32602, 'tools/call unknown tool: -32602');
    is($j && ref $j->{error}{data} eq 'HASH' && $j->{error}{data}{tool},
       'no_such_tool', 'tools/call unknown tool: error.data.tool names it');

    ($res, $j) = rpc_body('/mcp', 6, 'tools/call', { arguments => {} });
    is($j && $j->{error}{code}, -32602, 'tools/call without name: -32602');
    ($res, $j) = rpc_body('/mcp', 6, 'tools/call');
    is($j && $j->{error}{code}, -32602, 'tools/call without params: -32602');
    ($res, $j) = rpc_body('/mcp', 7, 'tools/call',
                          { name => 'no_such_tool', arguments => [1] });
    is($j && $j->{error}{code}, -32602, 'tools/call arguments an array: -32602');
    ($res, $j) = rpc_body('/mcp', 7, 'tools/call',
                          { name => 'no_such_tool', arguments => 'x' });
    is($j && $j->{error}{code}, -32602, 'tools/call arguments a string: -32602');
}

# --- Parse error: HTTP 400, -32700, id null ----------------------------------
my $nest = 40;
for my $case (
    [ '{', 'truncated JSON' ],
    [ 'not json', 'not JSON' ],
    [ '', 'empty body' ],
    [ $PING . ' x', 'trailing data' ],
    [ $PING . $PING, 'two messages' ],
    [ qq({"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"\xff\xfe"}}),
      'invalid UTF-8 in a string' ],
    # json-c's UTF-8 check only counts continuation bytes: these three are
    # the classes of invalid UTF-8 (RFC 3629) that it lets through.
    [ qq({"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"\xc0\xaf"}}),
      'overlong UTF-8 (C0 AF) in a string' ],
    [ qq({"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"\xed\xa0\x80"}}),
      'UTF-8-encoded surrogate (ED A0 80) in a string' ],
    [ qq({"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"\xf5\x80\x80\x80"}}),
      'UTF-8 beyond U+10FFFF (F5 80 80 80) in a string' ],
    [ '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":'
      . ('[' x $nest) . (']' x $nest) . '}}', "$nest nested arrays" ],
    [ '{"jsonrpc":"2.0",/* c */"id":1,"method":"ping"}', 'a comment' ],
    [ q({'jsonrpc':'2.0','id':1,'method':'ping'}), 'single quotes' ],
    [ '{"jsonrpc":"2.0","id":1,"method":"ping",}', 'a trailing comma' ],
    # json-c would read it as inf, which no JSON answer could carry back.
    [ '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":1e400}}',
      'a number beyond a double (1e400)' ],
) {
    rejects($case->[0], 400, -32700, "parse error ($case->[1])", 1);
}
{
    # The depth limit is not a general refusal of nesting: 20 levels pass.
    my $res = mcp_post('/mcp', '{"jsonrpc":"2.0","id":1,"method":"ping",'
                       . '"params":{"a":' . ('[' x 20) . (']' x 20) . '}}');
    like($res->content, qr/"result":\{\}/, '20 nested arrays: accepted');
    $res = mcp_post('/mcp', "\r\n\t $PING \n");
    like($res->content, qr/"result":\{\}/, 'white space around the JSON: accepted');
}

# --- Invalid Request: HTTP 400, -32600 -----------------------------------------
rejects('{"jsonrpc":"1.0","id":1,"method":"ping"}', 400, -32600, 'jsonrpc "1.0"');
rejects('{"jsonrpc":2.0,"id":1,"method":"ping"}', 400, -32600, 'jsonrpc a number');
rejects('{"id":1,"method":"ping"}', 400, -32600, 'jsonrpc missing');
# Batches exist in revision 2025-03-26 only (see below).
rejects("[$PING]", 400, -32600, 'a batch under 2025-06-18', 1,
        'MCP-Protocol-Version' => '2025-06-18');
rejects("[$PING]", 400, -32600, 'a batch under 2025-11-25', 1,
        'MCP-Protocol-Version' => '2025-11-25');
rejects('[]', 400, -32600, 'an empty batch', 1);
rejects('"ping"', 400, -32600, 'a JSON string', 1);
# Valid JSON that is not an object: Invalid Request, not Parse error, with or
# without white space after it.
rejects('42', 400, -32600, 'a JSON number', 1);
rejects('42 ', 400, -32600, 'a JSON number and a space', 1);
rejects('true', 400, -32600, 'JSON true', 1);
rejects('null', 400, -32600, 'JSON null', 1);
# Integers beyond 64 bits: json-c would clamp them, answering another id.
for my $id ('true', '1.5', 'null', '{}', '[1]', '99999999999999999999',
            '-99999999999999999999') {
    rejects(qq({"jsonrpc":"2.0","id":$id,"method":"ping"}), 400, -32600,
            "id $id", 1);
}
# A lone surrogate escape: json-c would make it U+FFFD, and UTF-8 has none.
rejects('{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}', 400, -32700,
        'a string id with a lone surrogate escape', 1);
{
    # The largest ids json-c holds exactly come back as sent.
    for my $id ('18446744073709551614', '-9223372036854775807') {
        my $res = mcp_post('/mcp', qq({"jsonrpc":"2.0","id":$id,"method":"ping"}));
        like($res->content, qr/"id":\Q$id\E[,}]/, "id $id comes back as sent");
    }
}
rejects('{"jsonrpc":"2.0","id":1,"method":42}', 400, -32600, 'method a number');
rejects('{"jsonrpc":"2.0","id":1,"method":null}', 400, -32600, 'method null');
rejects('{"jsonrpc":"2.0","id":1}', 400, -32600, 'method missing, no result/error');
rejects('{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}', 400, -32600,
        'params a string');
rejects('{"jsonrpc":"2.0","id":1,"method":"ping","params":[]}', 400, -32602,
        'params an array');
rejects('{"jsonrpc":"2.0","id":1,"method":"ping\u0000x"}', 400, -32600,
        'method name with U+0000');
{
    # An id the server could read comes back with the refusal.
    my ($status, $code, $j) = error_of(
        mcp_post('/mcp', '{"jsonrpc":"2.0","id":"k","method":"ping","params":[]}'));
    is($j && $j->{id}, 'k', 'a refusal keeps a usable id');
}

# --- still serving ---------------------------------------------------------------
{
    my $res = mcp_post('/mcp', $PING);
    ok($res->code == 200 && $res->content =~ /"result":\{\}/,
       'after all of these the server still answers ping');
}
