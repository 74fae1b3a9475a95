# MCP resources (issue 5): every site the caller can see as
# matomo://sites/{idSite}, its report catalog (/reports) and its segment
# dictionary (/segments).  resources/list and resources/templates/list, and
# resources/read compared with the recorded Matomo 5.1.2 answers; the
# errors (-32002 with the URI in data, -32602, -32603) and the caller's
# rights: a view-only token never lists or reads a site it cannot see.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;

my $JSON     = JSON::PP->new->canonical;
my $SUPER    = token('superuser');
my $VIEWER   = token('viewer');
my @VIEWER   = (Authorization => "Bearer $VIEWER");

# Every answer of this file, to look for tokens at the end.
my @ANSWERS;

# (response, body) of one JSON-RPC call on /mcp (or PATH), answers kept.
sub call {
    my ($method, $params, @hdr) = @_;
    return call_at('/mcp', $method, $params, @hdr);
}
sub call_at {
    my ($path, $method, $params, @hdr) = @_;
    my ($res, $body) = rpc_body($path, 7, $method, $params, @hdr);
    push @ANSWERS, $res->as_string;
    return ($res, $body);
}

sub read_uri {
    my ($uri, @hdr) = @_;
    my (undef, $body) = call('resources/read', { uri => $uri }, @hdr);
    return $body;
}

# The decoded JSON of contents[0].text of a resources/read answer.
sub content_json {
    my $body = shift;
    my $text = $body->{result}{contents}[0]{text};
    return undef unless defined $text;
    return eval { JSON::PP->new->decode($text) };
}

# A site's JSON resource read: its URI and type checked, its idSite too;
# the decoded object (or {}).
sub site_resource {
    my ($uri, $id) = @_;
    my $body = read_uri($uri);
    is($body->{result}{contents}[0]{uri}, $uri, "$uri: contents[0].uri");
    is($body->{result}{contents}[0]{mimeType}, 'application/json', "$uri: application/json");
    my $d = content_json($body);
    ok(ref $d eq 'HASH', "$uri: text is a JSON object");
    $d //= {};
    is($d->{idSite}, $id, "$uri: idSite");
    return $d;
}

# A column of a {"columns":[...],"rows":[[...]]} table, by name.
sub col {
    my ($t, $name) = @_;
    return undef unless ref $t eq 'HASH' && ref $t->{columns} eq 'ARRAY';
    my ($i) = grep { $t->{columns}[$_] eq $name } 0 .. $#{ $t->{columns} };
    return defined $i ? [map { $_->[$i] } @{ $t->{rows} // [] }] : undef;
}

# A JSON-RPC error with CODE; for -32002, data.uri must be URI.
sub is_error {
    my ($body, $code, $uri, $what) = @_;
    my $err = $body->{error};
    ok(!exists $body->{result}, "$what: no result");
    is($err->{code}, $code, "$what: error $code")
        or diag($JSON->encode($body // {}));
    ok(defined $err->{message} && length $err->{message}, "$what: a message");
    is(ref $err->{data} eq 'HASH' ? $err->{data}{uri} : undef, $uri,
       "$what: data.uri is the asked URI") if defined $uri;
}

my @SITES  = @{ recorded('sites-view.json') };          # the superuser's
my @VSITES = @{ recorded('sites-view-viewer.json') };   # the viewer's
my %SITE   = map { $_->{idsite} => $_ } @SITES;

# --- capabilities ------------------------------------------------------------
{
    my (undef, $body) = call('initialize', {
        protocolVersion => '2025-11-25', capabilities => {},
        clientInfo => { name => 't', version => '1' } });
    my $caps = $body->{result}{capabilities} // {};
    is_deeply($caps->{resources}, { listChanged => JSON::PP::false },
              'initialize: resources capability, listChanged false');
    ok($caps->{tools}, 'initialize: tools still declared');
}

# --- resources/list ----------------------------------------------------------
# Three resources per site, in Matomo's order of the sites.
sub expected_list {
    my @want;
    for my $s (@_) {
        push @want, ["matomo://sites/$s->{idsite}", $s->{name}],
                    ["matomo://sites/$s->{idsite}/reports", "$s->{name}: reports"],
                    ["matomo://sites/$s->{idsite}/segments", "$s->{name}: segments"];
    }
    return \@want;
}

{
    my ($res, $body) = call('resources/list', {});
    is($res->code, 200, 'resources/list: 200');
    my $list = $body->{result}{resources} // [];
    is_deeply([map { [$_->{uri}, $_->{name}] } @$list], expected_list(@SITES),
              'superuser: three resources per site (site, reports, segments), '
              . 'in Matomo\'s order, named after the recorded sites');
    ok(!grep({ ($_->{mimeType} // '') ne 'application/json' } @$list),
       'every resource is application/json');
    ok(!grep({ !defined $_->{description} || !length $_->{description} } @$list),
       'every resource has a description');
    my %title = map { $_->{uri} => $_->{title} } @$list;
    for my $s (@SITES) {
        is($title{"matomo://sites/$s->{idsite}"}, "$s->{name} (site $s->{idsite})",
           "site $s->{idsite}: title");
    }
    ok(!exists $body->{result}{nextCursor},
       'nine resources fit one page: no nextCursor');

    # The same without params at all.
    (undef, $body) = call('resources/list');
    is_deeply([map { $_->{uri} } @{ $body->{result}{resources} // [] }],
              [map { $_->[0] } @{ expected_list(@SITES) }],
              'resources/list without params: the same list');
}
{
    my (undef, $body) = call('resources/list', {}, @VIEWER);
    my $list = $body->{result}{resources} // [];
    is_deeply([map { [$_->{uri}, $_->{name}] } @$list], expected_list(@VSITES),
              'view-only token: only site 2\'s three resources');
    ok(!grep({ $_->{uri} !~ m{^matomo://sites/2(/|$)} } @$list),
       'view-only token: no other site listed');
}
for my $cursor ('bogus', 'page:abc') {
    my (undef, $body) = call('resources/list', { cursor => $cursor });
    is_error($body, -32602, undef, "resources/list with unknown cursor '$cursor'");
}

# --- resources/templates/list --------------------------------------------------
{
    my (undef, $body) = call('resources/templates/list', {});
    my $t = $body->{result}{resourceTemplates} // [];
    is_deeply([map { [$_->{uriTemplate}, $_->{name}] } @$t],
              [['matomo://sites/{idSite}', 'site'],
               ['matomo://sites/{idSite}/reports', 'site-reports'],
               ['matomo://sites/{idSite}/segments', 'site-segments']],
              'three RFC 6570 templates: site, site-reports, site-segments');
    is($t->[0]{mimeType}, 'application/json', 'the site template is application/json');
    ok(!grep({ defined $_->{mimeType} && $_->{mimeType} ne 'application/json' } @$t),
       'no template announces another type');
}

# --- resources/read ----------------------------------------------------------
for my $s (@SITES) {
    my $id   = $s->{idsite};
    my $site = recorded("full/x-site$id-SitesManager.getSiteFromId.json");
    my $goals = recorded("full/x-site$id-Goals.getGoals.json");

    my $uri  = "matomo://sites/$id";
    my $mark = fake_log_mark();
    my $body = read_uri($uri);
    my @seen = tool_requests_since($mark);
    my $c    = $body->{result}{contents} // [];
    is(scalar @$c, 1, "$uri: one content");
    is($c->[0]{uri}, $uri, "$uri: contents[0].uri is the asked URI");
    is($c->[0]{mimeType}, 'application/json', "$uri: application/json");
    my $d = content_json($body);
    ok(ref $d eq 'HASH', "$uri: text is a JSON object") or diag($JSON->encode($body // {}));
    $d //= {};
    is($d->{id}, $site->{idsite}, "$uri: id");
    is($d->{name}, $site->{name}, "$uri: name from SitesManager.getSiteFromId");
    is($d->{url}, $site->{main_url}, "$uri: url (main_url)");
    is($d->{timezone}, $site->{timezone}, "$uri: timezone");
    is($d->{currency}, $site->{currency}, "$uri: currency");
    ok(defined $d->{ecommerce} && !!$d->{ecommerce} == !!$site->{ecommerce},
       "$uri: ecommerce " . ($site->{ecommerce} ? 'on' : 'off'));
    is_deeply(col($d->{goals}, 'name'), [map { $_->{name} } @$goals],
              "$uri: goal names from Goals.getGoals (" . scalar(@$goals) . ')');
    is(scalar @seen, 1, "$uri: one request to Matomo");
    is_deeply([sort map { $_->{method} } @{ $seen[0]{bulk} // [] }],
              ['Goals.getGoals', 'SitesManager.getSiteFromId'],
              "$uri: a bulk request of getSiteFromId and getGoals");

    my $meta = recorded("full/x-site$id-API.getReportMetadata.json");
    $uri  = "matomo://sites/$id/reports";
    $d = site_resource($uri, $id);
    is_deeply($d->{reports}{columns},
              [qw(id name category subcategory dimension metrics)], "$uri: columns");
    is_deeply(col($d->{reports}, 'id'), [map { $_->{uniqueId} } @$meta],
              "$uri: every report id of API.getReportMetadata, in order ("
              . scalar(@$meta) . ')');
    is_deeply(col($d->{reports}, 'name'), [map { $_->{name} } @$meta],
              "$uri: report names");
    is_deeply(col($d->{reports}, 'category'), [map { $_->{category} } @$meta],
              "$uri: categories");

    my $segs  = recorded("full/x-site$id-API.getSegmentsMetadata.json");
    my $saved = recorded("full/x-site$id-SegmentEditor.getAll.json");
    $uri  = "matomo://sites/$id/segments";
    $d = site_resource($uri, $id);
    # The dimensions' id column: "segment" as Matomo names it, or "id".
    my $ids = col($d->{dimensions}, 'segment') // col($d->{dimensions}, 'id');
    is_deeply([sort @{ $ids // [] }], [sort map { $_->{segment} } @$segs],
              "$uri: every segment id of API.getSegmentsMetadata ("
              . scalar(@$segs) . ')');
    is_deeply(col($d->{saved}, 'name'), [map { $_->{name} } @$saved],
              "$uri: saved segment names from SegmentEditor.getAll ("
              . scalar(@$saved) . ')');
}

# Site 1 in detail, as the brief's example.
{
    my $d = content_json(read_uri('matomo://sites/1')) // {};
    is($d->{name}, 'Demo Shop', 'site 1 is the Demo Shop');
    ok(grep({ $_ eq 'Newsletter signup' } @{ col($d->{goals}, 'name') // [] }),
       'site 1: its goal "Newsletter signup"');
    $d = content_json(read_uri('matomo://sites/1/segments')) // {};
    ok(grep({ $_ eq 'deviceType' } @{ (col($d->{dimensions}, 'segment')
                                       // col($d->{dimensions}, 'id')) // [] }),
       'site 1: deviceType among the segment dimensions');
}

# --- errors ------------------------------------------------------------------
for my $uri ('http://example.com/sites/1', 'test://static-text',
             'matomo://sites/abc', 'matomo://sites/0', 'matomo://sites/-1',
             'matomo://sites/999', 'matomo://sites/999/reports',
             'matomo://sites/1/nope', 'matomo://sites/', 'matomo://sites',
             'matomo://sites/1/reports/x', 'matomo://goals/1',
             'matomo://sites/1/', 'matomo://sites/99999999999999999999',
             'matomo://sites/1?x=1', 'matomo://sites/1 ', '') {
    my ($res, $body) = call('resources/read', { uri => $uri });
    is($res->code, 200, "read $uri: HTTP 200");
    is_error($body, -32002, $uri, "read $uri");
}
for my $case ([{}, 'no uri'], [{ uri => 42 }, 'a number as uri'],
              [{ uri => undef }, 'uri null'], [{ uri => ['matomo://sites/1'] }, 'uri a list']) {
    my (undef, $body) = call('resources/read', $case->[0]);
    is_error($body, -32602, undef, "read with $case->[1]");
}
{
    my (undef, $body) = call('resources/read');
    is_error($body, -32602, undef, 'read without params');
}

# --- the MCP App's view (ui://, the io.modelcontextprotocol/ui extension) -------
# Read as the extension requires (one content, text/html;profile=mcp-app,
# the HTML as text): the page of the source tree, byte for byte, the same
# for every caller, with no Matomo call; not listed (the extension lets UI
# resources be found through the tools' _meta only).
{
    my $page = do {
        open my $fh, '<:raw', Apache::Test::vars('top_dir') . '/src/app/chart.html' or die "chart.html: $!";
        local $/;
        <$fh>;
    };
    for my $who ([ 'superuser' ], [ 'view-only token', @VIEWER ]) {
        my ($name, @hdr) = @$who;
        my $mark = fake_log_mark();
        my $body = read_uri('ui://matomo/chart', @hdr);
        my @c = @{ $body->{result}{contents} // [] };
        is(scalar @c, 1, "$name: ui://matomo/chart has one content");
        is($c[0]{uri}, 'ui://matomo/chart', "$name: its uri");
        is($c[0]{mimeType}, 'text/html;profile=mcp-app', "$name: the extension's MIME type");
        my $text = $c[0]{text} // '';
        utf8::downgrade($text, 1) or utf8::encode($text);    # bytes as the page is
        ok($text eq $page, "$name: the text is src/app/chart.html ("
           . length($page) . ' bytes, got ' . length($text) . ')');
        is_deeply($c[0]{_meta}, { ui => { prefersBorder => JSON::PP::true } },
                  "$name: _meta.ui asks for a border and declares no origin (the host's strictest CSP)");
        is_deeply([ tool_requests_since($mark) ], [], "$name: no Matomo call for it");
    }
    for my $uri ('ui://matomo/other', 'ui://matomo/chart/', 'ui://matomo/Chart', 'ui://matomo') {
        is_error(read_uri($uri), -32002, $uri, "read $uri");
    }
}

# Matomo unreachable or failing: an internal error naming the cause.
for my $case (['down', qr/cannot be reached/], ['500', qr/HTTP 500/]) {
    my (undef, $body) = call_at("/mcp-fault-$case->[0]", 'resources/read',
                                { uri => 'matomo://sites/1' });
    is_error($body, -32603, undef, "read with Matomo $case->[0]");
    like($body->{error}{message} // '', $case->[1], "Matomo $case->[0]: the message names the cause");
}

# --- access: the caller's token and rights -----------------------------------
for my $uri ('matomo://sites/1', 'matomo://sites/1/reports',
             'matomo://sites/1/segments', 'matomo://sites/3') {
    my $body = read_uri($uri, @VIEWER);
    is_error($body, -32002, $uri, "view-only token reads $uri");
}
{
    my $site = recorded('full/x-site2-SitesManager.getSiteFromId.json');
    my $mark = fake_log_mark();
    my $body = read_uri('matomo://sites/2', @VIEWER);
    my @seen = tool_requests_since($mark);
    is($body->{result}{contents}[0]{uri}, 'matomo://sites/2',
       'view-only token reads its own site 2');
    is((content_json($body) // {})->{name}, $site->{name}, '... Company Blog');
    ok(@seen && !grep({ ($_->{who} // '') ne 'viewer' } @seen),
       '... with its own token (Matomo saw the viewer)');

    my $meta = recorded('full/x-site2-API.getReportMetadata.json');
    my $d = content_json(read_uri('matomo://sites/2/reports', @VIEWER)) // {};
    is_deeply(col($d->{reports}, 'id'), [map { $_->{uniqueId} } @$meta],
              'view-only token: site 2\'s reports');
    my $segs = recorded('full/x-site2-API.getSegmentsMetadata.json');
    ok(@$segs > 0, 'full/x-site2-API.getSegmentsMetadata.json: segments recorded');
    $d = content_json(read_uri('matomo://sites/2/segments', @VIEWER)) // {};
    is_deeply(col($d->{dimensions}, 'segment'), [map { $_->{segment} } @$segs],
              'view-only token: site 2\'s segment ids, as API.getSegmentsMetadata lists them ('
              . scalar(@$segs) . ')');
}

# --- no token in any answer ----------------------------------------------------
{
    my $all = join "\n", @ANSWERS;
    ok(@ANSWERS >= 40, 'answers collected: ' . scalar @ANSWERS);
    unlike($all, qr/\Q$SUPER\E/, 'no answer carries the superuser token');
    unlike($all, qr/\Q$VIEWER\E/, 'no answer carries the viewer token');
}

done_testing();
