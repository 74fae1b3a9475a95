# The gateway between MCP clients and Matomo: who may call (bearer tokens,
# 401 challenges, RFC 9728 metadata), how the caller's token reaches the
# (fake) Matomo, Matomo's access rules passed through, every backend fault,
# and that nothing can write to Matomo.
#
# Everything that reaches Matomo runs against both Matomo versions the fake
# answers (t/matomo/README.md): 5.1.2 on /mcp (the fake's /matomo/) and
# 4.16.1 on /mcp-m4 (its /matomo4/), each with its forced-forwarding
# endpoints (t/conf/extra.conf.in).  Where the expectations differ, the
# comment cites how Matomo 4 differs (../shared/matomo-4.16.1/INDEX.md, as
# recorded in t/matomo/recorded-4.16.1/).  The backend faults are the
# fake's fault paths, which have no version.
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

sub site_ids {
    my $body = shift;
    return [map { $_->[0] }
            @{ (($body // {})->{result}{structuredContent}{sites} // {})->{rows} // [] }];
}

# A token no Matomo knows, new on each run and for each use, so that no
# verdict remembered from another test can stand in for a Matomo answer.
sub random_token { join '', map { sprintf '%x', int rand 16 } 1 .. 32 }

# The Matomo versions, their endpoints, and what each version's fake sees.
# path: the URL the endpoints call, as the fake's log names it; version:
# the log's "matomo" field (left out for 5.1.2).
my @VERSIONS = (
    { name => '5.1.2', mcp => '/mcp', path => '/matomo/index.php',
      forward_bearer => '/mcp-forward-bearer',
      forward_token_auth => '/mcp-forward-token-auth',
      version => undef,
      matomo_base => "$BASE/matomo/", date => '2026-11-25' },
    { name => '4.16.1', mcp => '/mcp-m4', path => '/matomo4/index.php',
      forward_bearer => '/mcp-m4-forward-bearer',
      forward_token_auth => '/mcp-m4-forward-token-auth',
      version => '4.16.1',
      matomo_base => "$BASE/matomo4/", date => '2026-11-25' },
);
my %V = map { $_->{name} => $_ } @VERSIONS;

# The fake's log lines since $mark that reached version $v's URL $path.
sub seen_at {
    my ($v, $path, $mark) = @_;
    return grep { ($_->{path} // '') eq $path
                  && ($_->{matomo} // '') eq ($v->{version} // '') }
           fake_log_since($mark);
}

# --- 401 challenges --------------------------------------------------------
# None of these reaches Matomo: the same on both versions' endpoints.
for my $v (@VERSIONS) {
my $mcp = $v->{mcp};
my $meta_url = "$BASE/.well-known/oauth-protected-resource$mcp";
{
    my $mark = fake_log_mark();
    my $res = rpc($mcp, 1, 'ping', undef, Authorization => undef);
    is($res->code, 401, "$mcp: no Authorization: 401");
    is($res->header('WWW-Authenticate'),
       qq{Bearer resource_metadata="$meta_url"},
       "$mcp: no Authorization: challenge names the metadata, no error");
    my $j = McpTest::json_body($res);
    ok($j && defined $j->{id} && $j->{id} eq '1' && $j->{error}{code} == -32000,
       "$mcp: no Authorization: the 401 body answers the request (its id, -32000)");
    $res = rpc($mcp, 'probe-1', 'server/discover', undef,
               Authorization => undef);
    $j = McpTest::json_body($res);
    ok($res->code == 401 && $j && ($j->{id} // '') eq 'probe-1',
       "$mcp: no Authorization: a string id comes back as sent");
    for my $case (['Bearer', 'empty bearer'], ['Bearer a b', 'space in token'],
                  ['Bearer tok%26en', 'percent sign'],
                  ['Bearer ' . ('a' x 5000), 'over-long token']) {
        my $res = rpc($mcp, 1, 'ping', undef, Authorization => $case->[0]);
        is($res->code, 401, "$mcp: $case->[1]: 401");
        like($res->header('WWW-Authenticate') // '',
             qr/^Bearer resource_metadata="\Q$meta_url\E", error="invalid_token"$/,
             "$mcp: $case->[1]: invalid_token");
    }
    $res = rpc($mcp, 1, 'ping', undef, Authorization => 'Basic dXNlcjpwYXNz');
    is($res->code, 401, "$mcp: Basic scheme: 401");
    unlike($res->header('WWW-Authenticate') // '', qr/error=/,
           "$mcp: Basic scheme: plain challenge (no bearer token was given)");
    is(scalar(() = fake_log_since($mark)), 0,
       "$mcp: none of these asked Matomo");
}
}

# --- a token Matomo does not know: refused at initialize, and remembered ----
# 5.1.2 answers an unknown token with 401 and its HTML page; 4.16.1 with
# HTTP 200 and the same access error as no token at all ("requires view
# access for at least one website": INDEX.md, "unknown token",
# probe-version-bad.json).  The module must read both as a refusal.
for my $v (@VERSIONS) {
    my $mcp = $v->{mcp};
    my $unknown = random_token();
    my $mark = fake_log_mark();
    my $res = rpc($mcp, 1, 'initialize', $INIT, bearer($unknown));
    is($res->code, 401, "$v->{name}: unknown token: 401 at initialize");
    like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
         "$v->{name}: unknown token: invalid_token");
    my @codes = map { rpc($mcp, $_, 'tools/list', undef, bearer($unknown))->code }
                1 .. 6;
    is_deeply(\@codes, [(401) x 6],
              "$v->{name}: unknown token: every later request 401");
    my @all = fake_log_since($mark);
    my @asked = grep { $_->{method} eq 'API.getMatomoVersion' }
                seen_at($v, $v->{path}, $mark);
    is(scalar @asked, scalar @all,
       "$v->{name}: only token checks, all at Matomo $v->{name}");
    # The verdict is remembered per child process: the test Apache has
    # exactly two (ServerLimit 2 in t/conf/extra.conf.in).
    ok(@asked >= 1 && @asked <= 2,
       "$v->{name}: the verdict is remembered: Matomo is asked once per "
       . 'child, not per request (' . scalar(@asked) . ')');
    ok(@asked && !grep({ $_->{auth} ne 'post' || $_->{who} ne 'unknown' } @asked),
       "$v->{name}: the unknown token went as token_auth");
    # What Matomo answered: the difference the module had to read.
    my $status = $v->{name} eq '4.16.1' ? 200 : 401;
    ok(@asked && !grep({ $_->{status} != $status } @asked),
       "$v->{name}: Matomo's own answer was HTTP $status");
}

# --- valid tokens ----------------------------------------------------------
# The same on both: 4.16.1 answers the viewer's forbidden site with HTTP
# 200 and its JSON error, 5.1.2 with 401 (INDEX.md, "view-only token on a
# forbidden site"); the module makes both the same tool error.
for my $v (@VERSIONS) {
    my $mcp = $v->{mcp};
    my $mark = fake_log_mark();
    my ($res, $body) = rpc_body($mcp, 1, 'initialize', $INIT);
    is($res->code, 200, "$v->{name}: superuser token: initialize 200");
    is($body->{result}{serverInfo}{name}, 'mod_matomo_mcp',
       "$v->{name}: and answered");

    ($res, $body) = call_tool($mcp, 'matomo_list_sites');
    is_deeply(site_ids($body), [1, 2, 3],
              "$v->{name}: superuser sees sites 1, 2, 3");
    my @seen = fake_log_since($mark);
    is(scalar(seen_at($v, $v->{path}, $mark)), scalar @seen,
       "$v->{name}: every call went to Matomo $v->{name}");
    ok(grep({ $_->{method} eq 'SitesManager.getSitesWithAtLeastViewAccess'
              && $_->{who} eq 'superuser' } @seen),
       "$v->{name}: ... the sites came from it, as the superuser");
}
for my $v (@VERSIONS) {
    my $mcp = $v->{mcp};
    my $mark = fake_log_mark();
    my ($res, $body) = call_tool($mcp, 'matomo_list_sites', {},
                                 bearer($VIEWER));
    is_deeply(site_ids($body), [2],
              "$v->{name}: view-only token sees site 2 only");
    my @seen = fake_log_since($mark);
    is(scalar(seen_at($v, $v->{path}, $mark)), scalar @seen,
       "$v->{name}: every call went to Matomo $v->{name}");
    ok(@seen && !grep({ $_->{auth} ne 'post' } @seen),
       "$v->{name}: a token_auth travels in the POST body");
    ok(!grep({ $_->{token_in_query} } @seen),
       "$v->{name}: ... never in the URL");

    $mark = fake_log_mark();
    ($res, $body) = call_tool($mcp, 'matomo_traffic_summary',
                              { idSite => 1, period => 'day',
                                date => $v->{date} }, bearer($VIEWER));
    is($res->code, 200, "$v->{name}: view-only token, forbidden site: HTTP 200");
    ok($body->{result}{isError}, "$v->{name}: ... a tool error");
    like(tool_text($body), qr/^Access denied: the token has no view access/,
         "$v->{name}: ... that says access is missing");
    # Matomo's own refusal (the tool's calls travel as one bulk request,
    # each sub-request with its status).
    my $status = $v->{name} eq '4.16.1' ? 200 : 401;
    my @refusals = map { @{ $_->{bulk} // [$_] } }
                   grep { $_->{who} eq 'viewer'
                          && $_->{method} ne 'API.getMatomoVersion' }
                   seen_at($v, $v->{path}, $mark);
    ok(@refusals && !grep({ $_->{answer} ne 'error' || $_->{status} != $status }
                         @refusals),
       "$v->{name}: ... from Matomo's own refusal, HTTP $status");

    ($res, $body) = call_tool($mcp, 'matomo_traffic_summary',
                              { idSite => 2, period => 'day',
                                date => $v->{date} }, bearer($VIEWER));
    ok(!$body->{result}{isError}, "$v->{name}: view-only token, its own site: data")
        or diag(tool_text($body));
    ok(defined $body->{result}{structuredContent}{metrics}{nb_visits},
       "$v->{name}: ... with visits");
}

# An OAuth access token (JWT) goes in the Authorization header.  Matomo
# 5.1.2's OAuth2 plugin knows it; Matomo 4.16.1 reads no Authorization
# header at all (INDEX.md, "Authorization: Bearer ... ignored"), so there
# the JWT is the anonymous user: refused, 401 invalid_token.
for my $v (@VERSIONS) {
    my $mcp = $v->{mcp};
    my $m4 = $v->{name} eq '4.16.1';
    my $mark = fake_log_mark();
    my ($res, $body) = rpc_body($mcp, 1, 'initialize', $INIT, bearer($JWT));
    if ($m4) {
        is($res->code, 401, "4.16.1: JWT: initialize 401 (Matomo 4 reads no Bearer)");
        like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
             '4.16.1: JWT: invalid_token');
    } else {
        is($res->code, 200, "5.1.2: JWT: initialize 200 (Matomo's OAuth2 plugin knows it)");
    }
    ($res, $body) = call_tool($mcp, 'matomo_list_sites', {}, bearer($JWT));
    if ($m4) {
        is($res->code, 401, '4.16.1: JWT: a tool call 401 too');
    } else {
        is_deeply(site_ids($body), [2],
                  "5.1.2: JWT: the view-only user's sites");
    }
    my @seen = fake_log_since($mark);
    is(scalar(seen_at($v, $v->{path}, $mark)), scalar @seen,
       "$v->{name}: JWT: every call went to Matomo $v->{name}");
    ok(@seen && !grep({ $_->{auth} ne 'bearer' } @seen),
       "$v->{name}: JWT: forwarded in the Authorization header, not as token_auth");
}

# Forwarding forced by MatomoMcpTokenForwarding.  A JWT forced into
# token_auth is unknown to either version (5.1.2: 401 HTML; 4.16.1: the
# anonymous user).  A token_auth forced into the header: Matomo 5.1.2 core
# reads no Bearer but its OAuth2 plugin's JWTs, Matomo 4.16.1 no Bearer at
# all (INDEX.md), so only 5.1.2 knows a JWT there.
for my $v (@VERSIONS) {
    my $m4 = $v->{name} eq '4.16.1';
    my $fta = $v->{forward_token_auth};
    my $fb  = $v->{forward_bearer};
    my $mark = fake_log_mark();
    my $res = rpc($fta, 1, 'initialize', $INIT, bearer($JWT));
    is($res->code, 401,
       "$v->{name}: forced token_auth: a JWT as token_auth is unknown to Matomo: 401");
    like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
         "$v->{name}: ... invalid_token");
    my @seen = seen_at($v, $v->{path}, $mark);
    ok(@seen && $seen[0]{auth} eq 'post' && $seen[0]{who} eq 'unknown',
       "$v->{name}: ... it was sent as token_auth, to Matomo $v->{name}");

    $mark = fake_log_mark();
    my $body;
    ($res, $body) = call_tool($fta, 'matomo_list_sites', {}, bearer($VIEWER));
    is_deeply(site_ids($body), [2],
              "$v->{name}: forced token_auth: a token_auth works");
    @seen = seen_at($v, $v->{path}, $mark);
    ok(@seen && !grep({ $_->{auth} ne 'post' } @seen),
       "$v->{name}: ... sent as token_auth");

    $mark = fake_log_mark();
    $res = rpc($fb, 1, 'initialize', $INIT, bearer($SUPER));
    @seen = seen_at($v, $v->{path}, $mark);
    ok(@seen && $seen[0]{auth} eq 'bearer',
       "$v->{name}: forced bearer: a token_auth goes in the header");
    is($res->code, 401,
       "$v->{name}: ... which Matomo $v->{name} ignores (anonymous): 401");
    like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
         "$v->{name}: ... invalid_token");

    $mark = fake_log_mark();
    ($res, $body) = rpc_body($fb, 1, 'initialize', $INIT, bearer($JWT));
    @seen = seen_at($v, $v->{path}, $mark);
    ok(@seen && $seen[0]{auth} eq 'bearer',
       "$v->{name}: forced bearer: a JWT goes in the header");
    if ($m4) {
        is($res->code, 401, '4.16.1: ... which Matomo 4 ignores too: 401');
        like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
             '4.16.1: ... invalid_token');
    } else {
        is($res->code, 200, '5.1.2: ... which its OAuth2 plugin knows: 200');
    }
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

    $res = Apache::TestRequest::GET('/.well-known/oauth-protected-resource/mcp-m4');
    $doc = eval { $JSON->decode($res->content) } // {};
    is($doc->{resource}, "$BASE/mcp-m4", 'Matomo 4\'s endpoint: its own metadata');
    is_deeply($doc->{authorization_servers}, [$V{'4.16.1'}{matomo_base}],
              '... naming its Matomo as the authorization server');

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
for my $v (@VERSIONS) {
    my $mark = fake_log_mark();
    call_tool($v->{mcp}, 'matomo_list_sites') for 1 .. 300;
    # Only these calls: a slow fault from above may still finish meanwhile.
    my @ports = map { $_->{client_port} }
                grep { $_->{method} eq 'SitesManager.getSitesWithAtLeastViewAccess' }
                seen_at($v, $v->{path}, $mark);
    is(scalar @ports, 300, "$v->{name}: 300 tool calls, 300 Matomo calls");
    # One libcurl handle per worker thread, each keeping its connection: once
    # the threads have warmed up, calls ride connections opened before.
    # (Requests land on any of the test server's 50 threads, so a few new
    # connections still appear; one per call would make 100.)
    my %warm = map { $_ => 1 } @ports[0 .. 199];
    my $fresh = grep { !$warm{$_} } @ports[200 .. 299];
    cmp_ok($fresh, '<', 50,
           "$v->{name}: steady state: $fresh new connections for the last 100 calls");
}

# --- read-only by construction ---------------------------------------------
for my $v (@VERSIONS) {
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
        my ($res, $body) = call_tool($v->{mcp}, @$a);
        is($res->code, 200, "$v->{name}: injection attempt $a->[0] "
                            . join(',', sort keys %{ $a->[1] }) . ': answered');
    }
    my @seen = fake_log_since($mark);
    is(scalar(seen_at($v, $v->{path}, $mark)), scalar @seen,
       "$v->{name}: every call went to Matomo $v->{name}");
    ok(@seen && !grep({ $_->{write_attempt} } @seen),
       "$v->{name}: no write method ever reached Matomo");
    # A tool's calls may travel as one API.getBulkRequest: its sub-requests
    # count, not the envelope.
    my @called = map { $_->{bulk} ? map({ $_->{method} } @{ $_->{bulk} })
                                  : $_->{method} // '' } @seen;
    ok(!grep({ !/^(SitesManager\.getSitesWithAtLeastViewAccess|VisitsSummary\.get|Goals\.get|API\.getMatomoVersion)$/ } @called),
       "$v->{name}: only the tools' own read methods were called");
}

# --- a value holding '&' never travels in a bulk request ------------------
# Matomo 4 decodes each sub-request of API.getBulkRequest whole before
# splitting it at '&' (the fake's matomo4 path does too), so such a value
# would become parameters of its own there, method= included.  The module
# sends such calls alone, where both versions read the value whole: on the
# fake Matomo 4.16.1 (/mcp-m4), on 5.1.2 reading bulk requests as Matomo 4
# does (/mcp-matomo4), and on 5.1.2 (/mcp).
for my $path ('/mcp-m4', '/mcp-matomo4', '/mcp') {
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
for my $path ('/mcp-m4', '/mcp-matomo4') {
    # Without '&', the same calls still share one bulk request.
    my $mark = fake_log_mark();
    call_tool($path, 'matomo_traffic_summary',
              { idSite => 1, date => 'yesterday', segment => 'pageTitle==QA' });
    my @bulk = grep { $_->{bulk} } fake_log_since($mark);
    is(scalar @bulk, 1, "$path: no '&': one bulk request, also on Matomo 4");
}

# --- no token anywhere -------------------------------------------------------
{
    my @bodies;
    for my $path ('/mcp', '/mcp-m4', '/mcp-fault-error', '/mcp-fault-html') {
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
