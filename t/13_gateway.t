# The gateway between MCP clients and Matomo: who may call (bearer tokens,
# 401 challenges, RFC 9728 metadata), how the caller's token reaches the
# (fake) Matomo, Matomo's access rules passed through, every backend fault,
# and that nothing can write to Matomo.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP ();
use McpTest;

my $JSON   = JSON::PP->new->canonical;
my $SUPER  = token('superuser');
my $VIEWER = token('viewer');
my $JWT    = token('viewer_jwt');
my $UNKNOWN = '0' x 32;
my $BASE   = 'http://' . hostport();

my $INIT = { protocolVersion => '2025-11-25', capabilities => {},
             clientInfo => { name => 't', version => '1' } };

sub call_tool {
    my ($path, $name, $args, @hdr) = @_;
    return rpc_body($path, 9, 'tools/call',
                    { name => $name, arguments => $args // {} }, @hdr);
}

sub tool_text {
    my $body = shift;
    return $body->{result}{content}[0]{text} // '';
}

# --- 401 challenges --------------------------------------------------------
my $meta_url = "$BASE/.well-known/oauth-protected-resource/mcp";
{
    my $res = rpc('/mcp', 1, 'ping', undef, Authorization => undef);
    is($res->code, 401, 'no Authorization: 401');
    is($res->header('WWW-Authenticate'),
       qq{Bearer resource_metadata="$meta_url"},
       'no Authorization: challenge names the metadata, no error');
    my $j = McpTest::json_body($res);
    ok($j && defined $j->{id} && $j->{id} eq '1' && $j->{error}{code} == -32000,
       'no Authorization: the 401 body answers the request (its id, -32000)');
    $res = rpc('/mcp', 'probe-1', 'server/discover', undef,
               Authorization => undef);
    $j = McpTest::json_body($res);
    ok($res->code == 401 && $j && ($j->{id} // '') eq 'probe-1',
       "no Authorization: a string id comes back as sent");
}
for my $case (['Bearer', 'empty bearer'], ['Bearer a b', 'space in token'],
              ['Bearer tok%26en', 'percent sign'],
              ['Bearer ' . ('a' x 5000), 'over-long token']) {
    my $res = rpc('/mcp', 1, 'ping', undef, Authorization => $case->[0]);
    is($res->code, 401, "$case->[1]: 401");
    like($res->header('WWW-Authenticate') // '',
         qr/^Bearer resource_metadata="\Q$meta_url\E", error="invalid_token"$/,
         "$case->[1]: invalid_token");
}
{
    my $res = rpc('/mcp', 1, 'ping', undef,
                  Authorization => 'Basic dXNlcjpwYXNz');
    is($res->code, 401, 'Basic scheme: 401');
    unlike($res->header('WWW-Authenticate') // '', qr/error=/,
           'Basic scheme: plain challenge (no bearer token was given)');
}

# A token Matomo does not know: refused at initialize, and remembered.
{
    my $res = rpc('/mcp', 1, 'initialize', $INIT, bearer($UNKNOWN));
    is($res->code, 401, 'unknown token: 401 at initialize');
    like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
         'unknown token: invalid_token');
    my $mark = fake_log_mark();
    my @codes = map { rpc('/mcp', $_, 'tools/list', undef, bearer($UNKNOWN))->code }
                1 .. 6;
    is_deeply(\@codes, [(401) x 6], 'unknown token: every later request 401');
    my @asked = grep { $_->{method} eq 'API.getMatomoVersion' }
                fake_log_since($mark);
    # The verdict is remembered per child process: the test Apache has
    # exactly two (ServerLimit 2 in t/conf/extra.conf.in).
    cmp_ok(scalar @asked, '<=', 2,
           'the verdict is remembered: Matomo is asked once per child, not '
           . 'per request');
}

# --- valid tokens ----------------------------------------------------------
{
    my ($res, $body) = rpc_body('/mcp', 1, 'initialize', $INIT);
    is($res->code, 200, 'superuser token: initialize 200');
    is($body->{result}{serverInfo}{name}, 'mod_matomo_mcp', 'and answered');

    ($res, $body) = call_tool('/mcp', 'matomo_list_sites');
    is_deeply([map { $_->[0] } @{ $body->{result}{structuredContent}{sites}{rows} }],
              [1, 2, 3], 'superuser sees sites 1, 2, 3');
}
{
    my $mark = fake_log_mark();
    my ($res, $body) = call_tool('/mcp', 'matomo_list_sites', {},
                                 bearer($VIEWER));
    is_deeply([map { $_->[0] } @{ $body->{result}{structuredContent}{sites}{rows} }],
              [2], 'view-only token sees site 2 only');
    my @seen = fake_log_since($mark);
    ok(@seen && !grep({ $_->{auth} ne 'post' } @seen),
       'a token_auth travels in the POST body');
    ok(!grep({ $_->{token_in_query} } @seen), '... never in the URL');

    ($res, $body) = call_tool('/mcp', 'matomo_traffic_summary',
                              { idSite => 1, period => 'day',
                                date => '2026-11-25' }, bearer($VIEWER));
    is($res->code, 200, 'view-only token, forbidden site: HTTP 200');
    ok($body->{result}{isError}, '... a tool error');
    like(tool_text($body), qr/access/i, '... that says access is missing');

    ($res, $body) = call_tool('/mcp', 'matomo_traffic_summary',
                              { idSite => 2, period => 'day',
                                date => '2026-11-25' }, bearer($VIEWER));
    ok(!$body->{result}{isError}, 'view-only token, its own site: data');
    ok(defined $body->{result}{structuredContent}{metrics}{nb_visits},
       '... with visits');
}

# An OAuth access token (JWT) goes in the Authorization header.
{
    my $mark = fake_log_mark();
    my ($res, $body) = rpc_body('/mcp', 1, 'initialize', $INIT, bearer($JWT));
    is($res->code, 200, 'JWT: initialize 200 (Matomo\'s OAuth2 plugin knows it)');
    ($res, $body) = call_tool('/mcp', 'matomo_list_sites', {}, bearer($JWT));
    is_deeply([map { $_->[0] } @{ $body->{result}{structuredContent}{sites}{rows} }],
              [2], 'JWT: the view-only user\'s sites');
    my @seen = fake_log_since($mark);
    ok(@seen && !grep({ $_->{auth} ne 'bearer' } @seen),
       'JWT: forwarded in the Authorization header, not as token_auth');
}

# Forwarding forced by MatomoMcpTokenForwarding.
{
    my $mark = fake_log_mark();
    my $res = rpc('/mcp-forward-token-auth', 1, 'initialize', $INIT,
                  bearer($JWT));
    is($res->code, 401,
       'forced token_auth: a JWT as token_auth is unknown to Matomo: 401');
    my @seen = fake_log_since($mark);
    ok(@seen && $seen[0]{auth} eq 'post', '... it was sent as token_auth');

    $mark = fake_log_mark();
    $res = rpc('/mcp-forward-bearer', 1, 'initialize', $INIT,
               bearer($SUPER));
    @seen = fake_log_since($mark);
    ok(@seen && $seen[0]{auth} eq 'bearer',
       'forced bearer: a token_auth goes in the header');
    is($res->code, 401,
       '... which Matomo 5.1.2 ignores (anonymous): 401 invalid_token');
}

# --- protected resource metadata --------------------------------------------
{
    my $res = Apache::TestRequest::GET('/.well-known/oauth-protected-resource/mcp');
    is($res->code, 200, 'metadata: 200');
    like($res->header('Content-Type'), qr{^application/json}, 'metadata: JSON');
    my $doc = eval { $JSON->decode($res->content) } // {};
    is($doc->{resource}, "$BASE/mcp", 'metadata: resource is the MCP URL');
    is_deeply($doc->{authorization_servers}, ["$BASE/matomo/"],
              'metadata: Matomo\'s base URL is the authorization server');
    is_deeply($doc->{bearer_methods_supported}, ['header'],
              'metadata: bearer tokens in the header only');
    ok(length($doc->{resource_name} // ''), 'metadata: resource_name');
    ok(!exists $doc->{scopes_supported}, 'metadata: no scopes unless set');

    # Public and token-free, so any page may read it.
    is($res->header('Access-Control-Allow-Origin'), '*',
       'metadata: Access-Control-Allow-Origin: *');
    my @same = map { Apache::TestRequest::GET(
                         '/.well-known/oauth-protected-resource/mcp', @$_)
                         ->content }
               [], [Authorization => "Bearer $SUPER"],
               [Authorization => "Bearer $VIEWER"];
    ok($same[0] eq $same[1] && $same[0] eq $same[2],
       'metadata: the same document with any token or none');
    $res = Apache::TestRequest::OPTIONS(
        '/.well-known/oauth-protected-resource/mcp',
        Origin => 'https://client.example',
        'Access-Control-Request-Method' => 'GET',
        'Access-Control-Request-Headers' => 'mcp-protocol-version');
    ok($res->code == 204
       && ($res->header('Access-Control-Allow-Origin') // '') eq '*'
       && ($res->header('Access-Control-Allow-Methods') // '') =~ /\bGET\b/
       && ($res->header('Access-Control-Allow-Headers') // '')
              =~ /\bmcp-protocol-version\b/i,
       'metadata: a preflight with MCP-Protocol-Version (as the SDK sends '
       . 'it) is granted') or diag($res->as_string);

    $res = Apache::TestRequest::GET('/.well-known/oauth-protected-resource');
    $doc = eval { $JSON->decode($res->content) } // {};
    is($doc->{resource}, "$BASE/mcp", 'root form: describes /mcp');

    $res = Apache::TestRequest::GET('/.well-known/oauth-protected-resource/mcp-meta');
    $doc = eval { $JSON->decode($res->content) } // {};
    is_deeply($doc->{authorization_servers},
              ['https://auth.example.org/', 'https://login.example.net/oauth'],
              'MatomoMcpAuthorizationServers');
    is_deeply($doc->{scopes_supported}, ['matomo:read', 'openid'],
              'MatomoMcpScopes');
    is($doc->{resource_name}, 'Shop analytics', 'MatomoMcpResourceName');

    $res = Apache::TestRequest::GET('/.well-known/oauth-protected-resource/nothing-here');
    is($res->code, 404, 'metadata for a path without MCP endpoint: 404');
    # The path is looked up as itself: decoded once, never cut at '?'.
    for my $tail ('mc%2570', 'mcp%3Fjunk') {
        $res = Apache::TestRequest::GET("/.well-known/oauth-protected-resource/$tail");
        is($res->code, 404, "metadata for /$tail (no such endpoint): 404")
            or diag($res->as_string);
    }
    $res = Apache::TestRequest::GET('/.well-known/oauth-protected-resource/htaccess/');
    $doc = eval { $JSON->decode($res->content) } // {};
    is($doc->{resource}, "$BASE/htaccess/",
       'metadata for an endpoint set up in .htaccess');
    $res = rpc('/mcp-meta', 1, 'ping', undef, Authorization => undef);
    like($res->header('WWW-Authenticate') // '',
         qr{resource_metadata="\Q$BASE\E/\.well-known/oauth-protected-resource/mcp-meta"},
         'each endpoint\'s challenge points to its own metadata');
}

# --- backend faults: a clear tool error, and the server serves on ---------
# No clock here: the slow fault sleeps 5 s, and only the module's limit
# (MatomoMcpBackendTimeout 1) words it "did not answer within 1000 ms"; a
# hung worker would fail the request itself.
my %fault = (
    '500'       => qr/HTTP 500/,
    'html'      => qr/not complete JSON/,
    'truncated' => qr/not complete JSON|closed the connection/,
    'oversized' => qr/larger than/,
    'slow'      => qr/did not answer within 1000 ms/,
    'error'     => qr/^\QMysql error: SQLSTATE[HY000] [2002] Connection refused (fake Matomo: \/matomo-fault\/error\/)\E\z/,
    'down'      => qr/cannot be reached/,
);
for my $f (sort keys %fault) {
    my $mark = fake_log_mark();
    my ($res, $body) = call_tool("/mcp-fault-$f", 'matomo_list_sites');
    if ($f eq 'slow') {
        # The token check meets the slow Matomo first; the tool call must
        # not wait for it a second time.
        my @asked = grep { ($_->{fault} // '') eq 'slow' } fake_log_since($mark);
        is(scalar @asked, 1, 'a slow Matomo is waited for once per request');
    }
    is($res->code, 200, "fault $f: HTTP 200");
    ok($body->{result}{isError}, "fault $f: isError");
    like(tool_text($body), $fault{$f}, "fault $f: names the cause");
}
{
    my ($res, $body) = call_tool('/mcp-fault-error', 'matomo_list_sites');
    is(tool_text($body), 'Mysql error: SQLSTATE[HY000] [2002] Connection refused '
                       . '(fake Matomo: /matomo-fault/error/)',
       'Matomo\'s own error message is passed on, word for word');
    ($res, $body) = call_tool('/mcp', 'matomo_list_sites');
    ok(!$body->{result}{isError}, 'after every fault, the server serves on');
}

# --- connections to Matomo are reused ---------------------------------------
{
    my $mark = fake_log_mark();
    call_tool('/mcp', 'matomo_list_sites') for 1 .. 300;
    # Only these calls: a slow fault from above may still finish meanwhile.
    my @ports = map { $_->{client_port} }
                grep { $_->{method} eq 'SitesManager.getSitesWithAtLeastViewAccess'
                       && $_->{path} eq '/matomo/index.php' }
                fake_log_since($mark);
    is(scalar @ports, 300, '300 tool calls, 300 Matomo calls');
    # One libcurl handle per worker thread, each keeping its connection: once
    # the threads have warmed up, calls ride connections opened before.
    # (Requests land on any of the test server's 50 threads, so a few new
    # connections still appear; one per call would make 100.)
    my %warm = map { $_ => 1 } @ports[0 .. 199];
    my $fresh = grep { !$warm{$_} } @ports[200 .. 299];
    cmp_ok($fresh, '<', 50,
           "steady state: $fresh new connections for the last 100 calls");
}

# --- read-only by construction ---------------------------------------------
{
    my $mark = fake_log_mark();
    my @attempts = (
        ['matomo_list_sites', { search => 'x&method=SitesManager.addSite' }],
        ['matomo_list_sites', { method => 'SitesManager.addSite' }],
        ['matomo_traffic_summary', { idSite => 1, date => 'today',
                                     segment => 'a==b&method=UsersManager.deleteUser' }],
        ['matomo_traffic_summary', { idSite => 1, token_auth => $VIEWER }],
        ['matomo_traffic_summary', { idSite => 1,
                                     date => 'today&module=API&method=SitesManager.deleteSite' }],
    );
    for my $a (@attempts) {
        my ($res, $body) = call_tool('/mcp', @$a);
        is($res->code, 200, "injection attempt $a->[0] "
                            . join(',', sort keys %{ $a->[1] }) . ': answered');
    }
    my @seen = fake_log_since($mark);
    ok(!grep({ $_->{write_attempt} } @seen),
       'no write method ever reached Matomo');
    # A tool's calls may travel as one API.getBulkRequest: its sub-requests
    # count, not the envelope.
    my @called = map { $_->{bulk} ? map({ $_->{method} } @{ $_->{bulk} })
                                  : $_->{method} // '' } @seen;
    ok(!grep({ !/^(SitesManager\.getSitesWithAtLeastViewAccess|VisitsSummary\.get|Goals\.get|API\.getMatomoVersion)$/ } @called),
       'only the tools\' own read methods were called');
}

# --- a value holding '&' never travels in a bulk request ------------------
# Matomo 4 decodes each sub-request of API.getBulkRequest whole before
# splitting it at '&' (the fake's matomo4 path does too), so such a value
# would become parameters of its own there, method= included.  The module
# sends such calls alone, where both versions read the value whole.
for my $path ('/mcp-matomo4', '/mcp') {
    my %tries = (
        filter  => ['matomo_get_report',
                    { idSite => 1, report => 'Actions_getPageUrls',
                      filter => 'x&method=SitesManager.deleteSite&idSite=3' },
                    filter_pattern => 'x&method=SitesManager.deleteSite&idSite=3'],
        segment => ['matomo_traffic_summary',
                    { idSite => 1, date => 'yesterday',
                      segment => 'pageTitle==Q&A&method=UsersManager.deleteUser' },
                    segment => 'pageTitle==Q&A&method=UsersManager.deleteUser'],
    );
    for my $what (sort keys %tries) {
        my ($tool, $args, $param, $value) = @{ $tries{$what} };
        my $mark = fake_log_mark();
        my ($res, $body) = call_tool($path, $tool, $args);
        is($res->code, 200, "$path, '&' in the $what: answered");
        my @seen = grep { ($_->{method} // '') ne 'API.getMatomoVersion' }
                   fake_log_since($mark);
        ok(@seen && !grep({ $_->{write_attempt} } @seen),
           "$path, '&' in the $what: no write method reached Matomo");
        ok(!grep({ $_->{bulk} } @seen),
           "$path, '&' in the $what: no bulk request");
        ok(grep({ ($_->{params}{$param} // '') eq $value } @seen),
           "$path, '&' in the $what: Matomo got the value whole");
    }
}
{
    # Without '&', the same calls still share one bulk request.
    my $mark = fake_log_mark();
    call_tool('/mcp-matomo4', 'matomo_traffic_summary',
              { idSite => 1, date => 'yesterday', segment => 'pageTitle==QA' });
    my @bulk = grep { $_->{bulk} } fake_log_since($mark);
    is(scalar @bulk, 1, 'no \'&\': one bulk request, also on Matomo 4');
}

# --- no token anywhere -------------------------------------------------------
{
    my @bodies;
    for my $path ('/mcp', '/mcp-fault-error', '/mcp-fault-html') {
        for my $tok ($SUPER, $VIEWER, $JWT) {
            my ($res) = call_tool($path, 'matomo_traffic_summary',
                                { idSite => 1, date => 'yesterday' },
                                bearer($tok));
            push @bodies, $res->as_string;
        }
    }
    my $all = join "\n", @bodies;
    for my $tok ($SUPER, $VIEWER, $JWT) {
        unlike($all, qr/\Q$tok\E/, 'no answer carries a test token');
    }
}
done_testing();
