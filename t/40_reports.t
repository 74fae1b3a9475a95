# matomo_list_reports and matomo_get_report against the fake Matomo: the
# numbers must be Matomo's own (read from the recorded answers), shaped as
# tables, with has_more, the resolved period, and checked arguments.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;

sub call {
    my ($name, $args, @hdr) = @_;
    my (undef, $body) = rpc_body('/mcp', 1, 'tools/call',
                                 { name => $name, arguments => $args }, @hdr);
    return $body->{result} // {};
}

sub text { $_[0]{content}[0]{text} // '' }

# Column by name from a shaped table.
sub col {
    my ($sc, $name) = @_;
    my ($i) = grep { $sc->{columns}[$_] eq $name } 0 .. $#{ $sc->{columns} };
    return defined $i ? [map { $_->[$i] } @{ $sc->{rows} }] : undef;
}

# --- matomo_list_reports ------------------------------------------------------
{
    my $meta = recorded('full/x-site1-API.getReportMetadata.json');
    my $r = call('matomo_list_reports', { idSite => 1, limit => 200 });
    my $sc = $r->{structuredContent};
    is($sc->{total}, scalar @$meta, 'every report of the catalog is counted');
    is_deeply($sc->{reports}{columns},
              [qw(id name category subcategory dimension metrics)],
              'catalog columns');
    is_deeply([map { $_->[0] } @{ $sc->{reports}{rows} }],
              [map { $_->{uniqueId} } @$meta], 'ids in Matomo\'s order');
    my ($campaigns) = grep { $_->{uniqueId} eq 'Referrers_getCampaigns' } @$meta;
    my ($row) = grep { $_->[0] eq 'Referrers_getCampaigns' } @{ $sc->{reports}{rows} };
    is_deeply([sort @{ $row->[5] }],
              [sort(keys %{ $campaigns->{metrics} }, keys %{ $campaigns->{processedMetrics} })],
              'metric ids are the report\'s metrics and processed metrics');
    unlike(JSON::PP->new->encode($r), qr/token_auth|imageGraph|documentation/,
           'no graph URLs (they carry the token) and no documentation');

    $sc = call('matomo_list_reports', { idSite => 1, search => 'campaign' })
          ->{structuredContent};
    ok(scalar(grep { $_->[0] eq 'Referrers_getCampaigns' } @{ $sc->{reports}{rows} }),
       'search finds the campaigns report');
    ok(!grep({ ($_->[1] . $_->[0] . $_->[2] . $_->[3] . ($_->[4] // ''))
               !~ /campaign/i } @{ $sc->{reports}{rows} }),
       'search keeps matching reports only');

    $sc = call('matomo_list_reports', { idSite => 1, category => 'goals' })
          ->{structuredContent};
    my @cats = map { $_->[2] } @{ $sc->{reports}{rows} };
    ok(@cats && !grep({ lc ne 'goals' } @cats), 'category filters exactly');

    $sc = call('matomo_list_reports', { idSite => 1, limit => 5, offset => 5 })
          ->{structuredContent};
    is(scalar @{ $sc->{reports}{rows} }, 5, 'limit');
    is($sc->{reports}{rows}[0][0], $meta->[5]{uniqueId}, 'offset');
    ok($sc->{has_more} && $sc->{next_offset} == 10, 'has_more and next_offset');

    $r = call('matomo_list_reports', { idSite => 1 }, Authorization => 'Bearer ' . token('viewer'));
    ok($r->{isError}, 'view-only token: site 1 refused');
    $r = call('matomo_list_reports', { idSite => 2 }, Authorization => 'Bearer ' . token('viewer'));
    ok(!$r->{isError} && $r->{structuredContent}{total} > 0,
       'view-only token: its own site 2 listed');
}

# --- matomo_get_report ----------------------------------------------------------
# Q9: device types by bounce rate, lowest first.
{
    my $rec = recorded('full/p-DevicesDetection.getType-month-2026-11-26.json');
    my @want = sort { $a->{bounce_rate} <=> $b->{bounce_rate} } @{ $rec->{reportData} };
    my $r = call('matomo_get_report', { idSite => 1, report => 'DevicesDetection_getType',
                                        period => 'month', date => '2026-11-26',
                                        sort_by => 'bounce_rate', sort_order => 'asc' });
    my $sc = $r->{structuredContent};
    ok(!$r->{isError}, 'device types: data') or diag text($r);
    is_deeply([sort @{ $sc->{columns} }], [sort keys %{ $rec->{columns} }],
              'the report\'s own columns');
    is_deeply(col($sc, 'label'), [map { $_->{label} } @want],
              'sorted by bounce rate, lowest first');
    is_deeply(col($sc, 'bounce_rate'), [map { $_->{bounce_rate} } @want],
              'bounce rates are Matomo\'s, as numbers');
    is_deeply(col($sc, 'nb_visits'), [map { $_->{nb_visits} } @want], 'visits');
    is_deeply($sc->{period}, { period => 'month', date => '2026-11-26',
                               start => '2026-11-01', end => '2026-11-30' },
              'the resolved period');
    is_deeply($sc->{report}, { id => 'DevicesDetection_getType',
                               name => $rec->{metadata}{name},
                               dimension => $rec->{metadata}{dimension} },
              'which report');
    like($sc->{note} // '', qr/visitors/, 'marked as visitor-supplied data');
    my $text = JSON::PP->new->decode(text($r));
    is_deeply($text, $sc, 'the text block carries the same data');
}

# Q2: landing pages yesterday, in pages, with URLs; numbers as numbers.
{
    my $rec = recorded('full/p-Actions.getEntryPageUrls-day-2026-11-25.json');
    my $r = call('matomo_get_report', { idSite => 1, report => 'Actions.getEntryPageUrls',
                                        date => 'yesterday', limit => 3 });
    my $sc = $r->{structuredContent};
    is_deeply(col($sc, 'label'), [map { $_->{label} } @{ $rec->{reportData} }[0 .. 2]],
              'entry pages: the first three, in Matomo\'s order');
    is_deeply(col($sc, 'entry_nb_visits'),
              [map { 0 + $_->{entry_nb_visits} } @{ $rec->{reportData} }[0 .. 2]],
              'entry visits');
    my $raw = JSON::PP->new->encode($sc->{rows});
    unlike($raw, qr/"\d+"/, 'metrics Matomo sent as strings arrive as numbers');
    is_deeply(col($sc, 'url'), [map { $_->{url} } @{ $rec->{reportMetadata} }[0 .. 2]],
              'each row\'s URL');
    ok($sc->{has_more} && $sc->{next_offset} == 3, 'has_more, next_offset 3');
    is_deeply([@{ $sc->{period} }{qw(start end)}], ['2026-11-25', '2026-11-25'],
              'yesterday resolved in the site\'s timezone: 2026-11-25');

    $sc = call('matomo_get_report', { idSite => 1, report => 'Actions_getEntryPageUrls',
                                      date => '2026-11-25', limit => 3, offset => 3 })
          ->{structuredContent};
    is_deeply(col($sc, 'label'), [map { $_->{label} } @{ $rec->{reportData} }[3 .. 5]],
              'the next page of rows');

    $sc = call('matomo_get_report', { idSite => 1, report => 'Actions_getEntryPageUrls',
                                      date => '2026-11-25', filter => 'jackets' })
          ->{structuredContent};
    is_deeply(col($sc, 'label'),
              [map { $_->{label} } grep { $_->{label} =~ /jackets/i } @{ $rec->{reportData} }],
              'filter keeps matching labels');
}

# Q3: campaigns with goal metrics; Q8: countries of new visitors (segment).
{
    my $rec = recorded('full/g-Referrers.getCampaigns-year-2026-11-26.json');
    my $sc = call('matomo_get_report', { idSite => 1, report => 'Referrers_getCampaigns',
                                         period => 'year', date => '2026-11-26',
                                         goal_metrics => JSON::PP::true,
                                         sort_by => 'conversion_rate' })->{structuredContent};
    my @want = sort { $b->{conversion_rate} <=> $a->{conversion_rate} } @{ $rec->{reportData} };
    is_deeply(col($sc, 'label'), [map { $_->{label} } @want],
              'campaigns by conversion rate');
    is_deeply(col($sc, 'conversion_rate'), [map { $_->{conversion_rate} } @want],
              'conversion rates from the goal view');

    $rec = recorded('full/s-new-UserCountry.getCountry-month-2026-11-26.json');
    $sc = call('matomo_get_report', { idSite => 1, report => 'UserCountry_getCountry',
                                      period => 'month', date => '2026-11-26',
                                      segment => 'visitorType==new' })->{structuredContent};
    is_deeply(col($sc, 'label'), [map { $_->{label} } @{ $rec->{reportData} }],
              'countries of new visitors (segment)');
    is_deeply(col($sc, 'nb_visits'), [map { $_->{nb_visits} } @{ $rec->{reportData} }],
              'their visits');
}

# Comparisons: the same rows' figures for other dates and segments, side by
# side, in one call (one bulk request).
{
    my $now  = recorded('full/p-Referrers.getCampaigns-week-2026-11-25.json');
    my $then = recorded('full/p-Referrers.getCampaigns-week-2026-11-18.json');
    my $sc = call('matomo_get_report', { idSite => 1, report => 'Referrers_getCampaigns',
                                         period => 'week', date => '2026-11-25',
                                         compare_dates => ['2026-11-18'] })->{structuredContent};
    my @labels = @{ col($sc, 'label') // [] };
    is_deeply(\@labels, [map { $_->{label} } @{ $now->{reportData} }],
              'compare: the main rows are this week\'s');
    my $cmp = $sc->{compare}[0] // {};
    is_deeply([@{ $cmp->{period} // {} }{qw(start end)}], ['2026-11-16', '2026-11-22'],
              'compare: the compared week, resolved');
    my %then = map { $_->{label} => $_->{nb_visits} } @{ $then->{reportData} };
    is_deeply(col($cmp, 'nb_visits'), [map { $then{$_} } @labels],
              'compare: last week\'s visits for the same campaigns, in the same order');

    my %seg = map { $_ => recorded("full/s-$_-DevicesDetection.getType-month-2026-11-26.json") }
              qw(new returning);
    $sc = call('matomo_get_report', { idSite => 1, report => 'DevicesDetection_getType',
                                      period => 'month', date => '2026-11-26',
                                      compare_segments => ['visitorType==new',
                                                           'visitorType==returning'] })
          ->{structuredContent};
    @labels = @{ col($sc, 'label') // [] };
    for my $i (0, 1) {
        my $which = (qw(new returning))[$i];
        my %v = map { $_->{label} => $_->{bounce_rate} } @{ $seg{$which}{reportData} };
        is($sc->{compare}[$i]{segment}, "visitorType==$which", "compare segment $which");
        is_deeply(col($sc->{compare}[$i], 'bounce_rate'), [map { $v{$_} } @labels],
                  "compare segment $which: its bounce rates per device type");
    }
    my $mark = -s Apache::Test::vars('t_logs') . '/fake_matomo.jsonl';
    call('matomo_get_report', { idSite => 1, report => 'DevicesDetection_getType',
                                period => 'month', date => '2026-11-26',
                                compare_segments => ['visitorType==new'] });
    open my $fh, '<', Apache::Test::vars('t_logs') . '/fake_matomo.jsonl' or die $!;
    seek $fh, $mark, 0;
    my @calls = grep { !/API\.getMatomoVersion/ } <$fh>;
    is(scalar @calls, 1, 'a report and its comparison: one backend request');

    for my $case (
        [{ compare_dates => ['2026-11-18'], compare_periods => ['week', 'month'] },
         qr/^compare_periods: /, 'compare_periods not matching compare_dates'],
        [{ compare_dates => ['2026-11-18,2026-11-20'] },
         qr/^compare_dates\[0\]: YYYY-MM-DD,YYYY-MM-DD needs period range/,
         'a date pair without period range'],
        [{ compare_dates => ['2026-11-31'] }, qr/^compare_dates\[0\]: not a calendar day/,
         'a compared day that is no calendar day'],
        [{ compare_dates => ['2026-11-18', '2026-11-20,2026-11-19'], compare_periods => ['day', 'range'] },
         qr/^compare_dates\[1\]: the range must be two calendar days/, 'a compared range backwards'],
        [{ compare_dates => ['yesterday'] }, qr/^compare_dates\[0\]: /, 'a relative date'],
        [{ compare_dates => ['2026-11-18', '2026-11-11'],
           compare_segments => ['a==1', 'b==2', 'c==3'] }, qr/at most 4/, 'five comparisons'],
        [{ compare_segments => ['nosuch'] }, qr/^compare_segments\[0\]: /, 'a bad segment'],
    ) {
        my $r = call('matomo_get_report', { idSite => 1, report => 'Referrers_getCampaigns',
                                            period => 'week', date => '2026-11-25',
                                            %{ $case->[0] } });
        ok($r->{isError} && text($r) =~ $case->[1], "$case->[2]: isError naming it")
            or diag text($r);
    }
}

# A single-row report (no dimension): one row of Matomo's metrics.
{
    my $rec = recorded('processed-goals-year.json');
    my $sc = call('matomo_get_report', { idSite => 1, report => 'Goals_get',
                                         period => 'year', date => '2026-11-26' })
             ->{structuredContent};
    is(scalar @{ $sc->{rows} // [] }, 1, 'Goals_get: one row');
    is_deeply({ map { $sc->{columns}[$_] => $sc->{rows}[0][$_] } 0 .. $#{ $sc->{columns} } },
              $rec->{reportData}, 'Goals_get: the year\'s goal metrics');
}

# Checked arguments: nothing reaches Matomo that is not a readable report.
{
    for my $case (
        [{ idSite => 1, report => 'SitesManager_addSite' }, qr/^report: /, 'a write method as report'],
        [{ idSite => 1, report => 'UsersManager.getUsers' }, qr/^report: /, 'a module outside the reports'],
        [{ idSite => 1, report => 'Actions_getPageUrls;x' }, qr/^report: /, 'junk in the id'],
        [{ idSite => 1, report => 'Actions_getPageUrls_segment--abc' }, qr/^report: /,
         'a report parameter that is not an id'],
        [{ idSite => 1 }, qr/^report: required/, 'report missing'],
        [{ idSite => 1, report => 'Actions_getPageUrls', sort_by => 'a b' }, qr/^sort_by: /, 'sort_by with a space'],
        [{ idSite => 1, report => 'Actions_getPageUrls', sort_order => 'up' }, qr/^sort_order: must be one of asc, desc/, 'sort_order'],
        [{ idSite => 1, report => 'Actions_getPageUrls', limit => 501 }, qr/^limit: /, 'limit over the maximum'],
        [{ idSite => 1, report => 'Actions_getPageUrls', columns => ['nb_hits&x=1'] }, qr/^columns\[0\]: /, 'a bad column'],
        [{ idSite => 1, report => 'Actions_getPageUrls', period => 'range', date => '2026-11-25' },
         qr/^date: period range takes YYYY-MM-DD,YYYY-MM-DD /, 'range with one date'],
        # Matomo reads last0 as last1, and cuts lastN to its cap.
        [{ idSite => 1, report => 'Actions_getPageUrls', period => 'range', date => 'last0' },
         qr/^date: 'last0' is not valid: .*N from 1/, 'last0'],
        [{ idSite => 1, report => 'Actions_getPageUrls', period => 'range', date => 'previous0' },
         qr/^date: 'previous0' is not valid: /, 'previous0'],
        # One table per call: lastN of days, weeks... would be one per
        # period (Matomo's answer could not be shown), whatever N.
        [{ idSite => 1, report => 'Actions_getPageUrls', period => 'month', date => 'last121' },
         qr/^date: lastN\/previousN with period month would give one entry per period; use period range/,
         'last121 months'],
        [{ idSite => 1, report => 'Actions_getPageUrls', period => 'day', date => 'last7' },
         qr/^date: lastN\/previousN with period day would give one entry per period/, 'last7 days'],
        [{ idSite => 1, report => 'Actions_getPageUrls', period => 'week', date => '2026-11-20,2026-11-26' },
         qr/^date: YYYY-MM-DD,YYYY-MM-DD needs period range/, 'a date pair with period week'],
        [{ idSite => 1, report => 'Actions_getPageUrls', period => 'day', date => '2026-02-29' },
         qr/^date: not a calendar day/, '29 February of a common year'],
    ) {
        my $mark = fake_log_mark();
        my $r = call('matomo_get_report', $case->[0]);
        ok($r->{isError}, "$case->[2]: isError");
        like(text($r), $case->[1], "$case->[2]: says what is wrong");
        is_deeply([map { $_->{method} } tool_requests_since($mark)], [],
                  "$case->[2]: refused before Matomo");
    }
    my $r = call('matomo_get_report', { idSite => 1, report => 'DevicesDetection_getType',
                                        period => 'month', date => '2026-11-26' },
                 Authorization => 'Bearer ' . token('viewer'));
    ok($r->{isError} && text($r) =~ /access/i, 'view-only token: site 1 refused');
}

done_testing();
