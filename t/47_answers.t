# Answers a model can trust (issue 13) against the fake Matomo: every dated
# result whose period holds the site's today says so, with the share of the
# period over; a change from a previous figure of 0 is null with a note.
# The fake's today is 2026-11-26 (t/matomo/README.md); expected shares come
# from the calendar, the days of the period before that day over all its
# days.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use Time::Local qw(timegm);
use McpTest;

my $TODAY = '2026-11-26';

sub day_number {
    my ($y, $m, $d) = split /-/, shift;
    return timegm(0, 0, 12, $d, $m - 1, $y) / 86400;
}

my (%schema, @checked);
{
    my ($res, $body) = rpc_body('/mcp', 1, 'tools/list', {});
    $schema{ $_->{name} } = $_->{outputSchema} for @{ $body->{result}{tools} };
}

sub call {
    my ($tool, $args) = @_;
    my ($res, $body) = rpc_body('/mcp', 7, 'tools/call', { name => $tool, arguments => $args });
    my $r = $body && $body->{result} or return (undef, 'no result');
    return (undef, $r->{content}[0]{text} // '') if $r->{isError};
    push @checked, [$tool, $r->{structuredContent}];
    return ($r->{structuredContent}, undef);
}

# --- today is partial -------------------------------------------------------
my @in_progress = (
    [ matomo_traffic_summary  => { idSite => 1, period => 'day',   date => 'today' } ],
    [ matomo_traffic_summary  => { idSite => 1, period => 'week',  date => 'today' } ],
    [ matomo_traffic_summary  => { idSite => 1, period => 'month', date => 'today' } ],
    [ matomo_get_report       => { idSite => 1, period => 'week',  date => 'today',
                                   report => 'Referrers_getReferrerType' } ],
    [ matomo_get_trend        => { idSite => 1, period => 'day',   last => 7 } ],
    [ matomo_visitor_log      => { idSite => 1 } ],
    [ matomo_page_performance => { idSite => 1, period => 'day',   date => 'today' } ],
    [ matomo_annotations      => { idSite => 1 } ],
);
for my $case (@in_progress) {
    my ($tool, $args) = @$case;
    my $what = "$tool " . JSON::PP->new->canonical->encode($args);
    my ($sc, $err) = call($tool, $args);
    ok(!$err, "$what: answered") or diag($err), next;
    my $p = $sc->{period};
    ok(day_number($p->{start}) <= day_number($TODAY) && day_number($TODAY) <= day_number($p->{end}),
       "... $p->{start} to $p->{end} holds today ($TODAY)");
    ok(JSON::PP::is_bool($p->{partial}) && $p->{partial}, '... period.partial is true');
    my $days = day_number($p->{end}) - day_number($p->{start}) + 1;
    my $over = day_number($TODAY) - day_number($p->{start});
    is($p->{elapsed_share}, 0 + sprintf('%.3f', $over / $days),
       "... elapsed_share: $over of $days days over");
}

my @finished = (
    [ matomo_traffic_summary  => { idSite => 1, period => 'day',   date => 'yesterday' } ],
    [ matomo_traffic_summary  => { idSite => 1, period => 'week',  date => '2026-11-18' } ],
    [ matomo_get_report       => { idSite => 1, period => 'day',   date => 'yesterday',
                                   report => 'Referrers_getReferrerType' } ],
    [ matomo_sites_overview   => { period => 'month', date => '2026-10-26' } ],
);
for my $case (@finished) {
    my ($tool, $args) = @$case;
    my $what = "$tool " . JSON::PP->new->canonical->encode($args);
    my ($sc, $err) = call($tool, $args);
    ok(!$err, "$what: answered") or diag($err), next;
    ok(day_number($sc->{period}{end}) < day_number($TODAY), "... ends before today");
    ok(!exists $sc->{period}{partial} && !exists $sc->{period}{elapsed_share},
       '... a finished period: neither partial nor elapsed_share');
}

# The all-websites dashboard states Matomo's own share (its ratio, which
# counts today's hours too), in the period as everywhere else.
{
    my $all = recorded('full/m-all-MultiSites.getAll-week-2026-11-25.json');
    my ($sc, $err) = call('matomo_sites_overview', { period => 'week', date => '2026-11-25' });
    ok(!$err, 'overview this week') or diag($err);
    ok($sc->{period}{partial}, '... period.partial');
    is($sc->{period}{elapsed_share}, 0 + sprintf('%.3f', $all->[0]{ratio}),
       "... elapsed_share is Matomo's ratio ($all->[0]{ratio})");
}

# --- every result conforms to its outputSchema ------------------------------
for my $c (@checked) {
    my @err = schema_errors($schema{ $c->[0] }, $c->[1], '');
    ok(!@err, "$c->[0]: conforms to its outputSchema") or diag(join "\n", @err);
}

done_testing();
