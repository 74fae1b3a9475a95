# matomo_api_read (issue 17) and the tool sets of MatomoMcpTools: the raw
# read-only API tool is not offered unless an endpoint names it (/mcp-raw:
# every group, raw included; /mcp-pick: two tools by name,
# t/conf/extra.conf.in); it
# answers an allow-listed method as a table from Matomo's own rows (the
# recordings), pages them, and refuses a write method, a bulk request,
# reserved parameters and a forbidden site, the refusals before any Matomo
# call, the site refusal by Matomo with the caller's own token.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;

my $JSON = JSON::PP->new->canonical;

sub names_at {
    my ($path) = @_;
    my (undef, $body) = rpc_body($path, 1, 'tools/list', {});
    return [map { $_->{name} } @{ $body->{result}{tools} // [] }];
}

sub call_at {
    my ($path, $name, $args, @hdr) = @_;
    my (undef, $body) = rpc_body($path, 1, 'tools/call',
                                 { name => $name, arguments => $args }, @hdr);
    return $body;
}

sub raw {
    my ($args, @hdr) = @_;
    return call_at('/mcp-raw', 'matomo_api_read', $args, @hdr)->{result} // {};
}

sub text { $_[0]{content}[0]{text} // '' }

# --- offered only where named ----------------------------------------------
my $default = names_at('/mcp');
ok(@$default >= 12, 'the default endpoint lists its tools');
ok(!grep({ $_ eq 'matomo_api_read' } @$default), 'matomo_api_read: not offered by default');
{
    my $b = call_at('/mcp', 'matomo_api_read', { method => 'API.getMatomoVersion' });
    is($b->{error}{code}, -32602, 'not offered: a call is the usual unknown-tool error');
    like($b->{error}{message}, qr/^Unknown tool/, '... with its message');
}
is_deeply(names_at('/mcp-raw'), [@$default, 'matomo_api_read'],
          'every group and raw: every default tool, then matomo_api_read');
is_deeply(names_at('/mcp-pick'), ['matomo_list_sites', 'matomo_api_read'],
          'two tools by name: those two, in catalog order');
{
    my $b = call_at('/mcp-pick', 'matomo_get_report',
                    { idSite => 1, report => 'VisitsSummary_get' });
    is($b->{error}{code}, -32602, 'a tool the endpoint does not offer is unknown there');
    my $r = call_at('/mcp-pick', 'matomo_list_sites', {})->{result};
    ok(!$r->{isError} && @{ $r->{structuredContent}{sites}{rows} // [] },
       'a tool it offers answers');
}
{
    my (undef, $b) = rpc_body('/mcp-raw', 1, 'tools/list', {});
    my ($t) = grep { $_->{name} eq 'matomo_api_read' } @{ $b->{result}{tools} };
    like($t->{description}, qr/^Prefer the purpose-built/,
         'its description tells a model to prefer the purpose-built tools');
    ok($t->{annotations}{readOnlyHint}, 'read-only hint');
    is_deeply([sort keys %{ $t->{inputSchema}{properties} }],
              [qw(limit method offset parameters)], 'method, parameters, limit, offset');
}

# --- an allow-listed method: Matomo's rows as a table ----------------------
my %SKU = (idSite => 1, period => 'month', date => '2026-11-26', format_metrics => 0);
{
    my $rec = recorded('ecommerce-items-sku.json');
    my $mark = fake_log_mark();
    my $r = raw({ method => 'Goals.getItemsSku', parameters => \%SKU });
    ok(!$r->{isError}, 'Goals.getItemsSku answers') or diag text($r);
    my $sc = $r->{structuredContent};
    is($sc->{method}, 'Goals.getItemsSku', 'the method is named');
    my %at = map { $sc->{columns}[$_] => $_ } 0 .. $#{ $sc->{columns} };
    is_deeply([map { $_->[$at{label}] } @{ $sc->{rows} }],
              [map { $_->{label} } @$rec], 'the rows are Matomo\'s, in its order');
    is_deeply([map { $_->[$at{revenue}] } @{ $sc->{rows} }],
              [map { $_->{revenue} } @$rec], 'with Matomo\'s figures');
    ok(!$sc->{has_more}, 'all of them: has_more false');
    is_deeply([sort keys %{ $rec->[0] }], [sort @{ $sc->{columns} }],
              'the columns are the rows\' members, each once');
    my @q = tool_requests_since($mark);
    is(scalar @q, 1, 'one Matomo request, no bulk request');
    is($q[0]{params}{method}, 'Goals.getItemsSku', '... of that method');
    is($q[0]{who}, 'superuser', '... with the caller\'s own token');
    unlike($JSON->encode($r), qr/\Q${\ token('superuser') }\E/, 'the token is not in the result');

    $sc = raw({ method => 'Goals.getItemsSku', parameters => \%SKU, limit => 2 })
          ->{structuredContent};
    is_deeply([map { $_->[$at{label}] } @{ $sc->{rows} }],
              [map { $_->{label} } @$rec[0, 1]], 'limit 2: the first two rows');
    ok($sc->{has_more} && $sc->{next_offset} == 2, '... has_more, next_offset 2');
    $sc = raw({ method => 'Goals.getItemsSku', parameters => \%SKU, limit => 2, offset => 2 })
          ->{structuredContent};
    is_deeply([map { $_->[0] } @{ $sc->{rows} }],
              [map { $_->{ $sc->{columns}[0] } } @$rec[2, 3]], 'offset 2: the next two');
}
{
    my $rec = recorded('site-1.json');
    my $sc = raw({ method => 'SitesManager.getSiteFromId', parameters => { idSite => '1' } })
             ->{structuredContent};
    is_deeply($sc->{value}, $rec, 'an answer that is no list comes back whole, as value');
}

# --- refusals --------------------------------------------------------------
for my $case (
    [ { method => 'SitesManager.addSite', parameters => { siteName => 'x', urls => 'https://x' } },
      qr/^method: SitesManager\.addSite is not on the module's read-only allow-list/, 'a write method' ],
    [ { method => 'UsersManager.getTokenAuth' }, qr/^method: .*not on the/, 'a method that reads a secret' ],
    [ { method => 'API.getBulkRequest', parameters => { 'urls[0]' => 'method=API.get&idSite=1' } },
      qr/^method: API\.getBulkRequest is not on/, 'a bulk request' ],
    [ { method => 'API.get', parameters => { %SKU, 'urls[0]' => 'method=SitesManager.addSite' } },
      qr/^parameters\.urls\[0\]: not a parameter a call may set/, 'bulk urls on another method' ],
    (map { [ { method => 'API.get', parameters => { %SKU, $_ => 'x' } },
             qr/^parameters\.\Q$_\E: not a parameter a call may set/, "reserved parameter $_" ] }
     qw(token_auth format module method force_api_session jsoncallback token_auth[0] format[])),
    [ { method => 'API.get', parameters => { %SKU, filter_limit => 5 } },
      qr/^parameters\.filter_limit: set by the tool: use limit and offset/, 'filter_limit' ],
    [ { method => 'API.get', parameters => { %SKU, segment => ['a'] } },
      qr/^parameters\.segment: must be a string or a number/, 'a list as a value' ],
    [ { method => 'API.get', parameters => { %SKU, 'a b' => 1 } },
      qr/^parameters\.a b: not a parameter/, 'a name with a space' ],
    [ { method => 'api.get' }, qr/^method: 'api\.get' is not valid/, 'a method not shaped Module.action' ],
    [ { parameters => {} }, qr/^method: required/, 'no method' ],
) {
    my ($args, $re, $what) = @$case;
    my $mark = fake_log_mark();
    my $r = raw($args);
    ok($r->{isError}, "$what: refused");
    like(text($r), $re, "$what: the error says why") or diag text($r);
    is(scalar(tool_requests_since($mark)), 0, "$what: nothing sent to Matomo");
}

# --- never a forbidden site: the caller's own token decides ----------------
{
    my @viewer = (Authorization => 'Bearer ' . token('viewer'));
    my $mark = fake_log_mark();
    my $r = raw({ method => 'Goals.getItemsSku', parameters => \%SKU }, @viewer);
    ok($r->{isError}, 'view-only token, site 1: refused');
    like(text($r), qr/Access denied|access/i, '... as Matomo refuses it');
    my @q = tool_requests_since($mark);
    ok(@q >= 1 && !grep({ ($_->{who} // '') ne 'viewer' } @q),
       '... asked with the viewer\'s own token, never another');
    $r = raw({ method => 'SitesManager.getSiteFromId', parameters => { idSite => 2 } }, @viewer);
    ok(!$r->{isError}, 'view-only token, its own site 2: answered') or diag text($r);
}

done_testing();
