# matomo_page_performance and matomo_tracking_health against the fake
# Matomo: expected figures are computed here from the recorded answers
# (t/matomo/recorded/), never copied from the module's output; every call
# for one site is one backend round trip; argument errors name the
# argument; the view-only token never sees site 1.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP ();
use McpTest;

my $JSON     = JSON::PP->new->canonical;
my $VIEWER   = token('viewer');

sub call_tool {
    my ($name, $args, @hdr) = @_;
    my ($res, $body) = rpc_body('/mcp', 7, 'tools/call',
                                { name => $name, arguments => $args // {} }, @hdr);
    return $body->{result} // {};
}

sub tool_text { my $r = shift; return $r->{content}[0]{text} // '' }

# Seconds as the tools print them: to the millisecond.
sub ms { my $v = shift; return defined $v ? sprintf('%.3f', $v) : 'null' }

my %output_schema;
{
    my ($res, $body) = rpc_body('/mcp', 1, 'tools/list', {});
    my @tools = @{ $body->{result}{tools} || [] };
    my @names = map { $_->{name} } @tools;
    my %at = map { $names[$_] => $_ } 0 .. $#names;
    ok(defined $at{matomo_page_performance} && defined $at{matomo_tracking_health},
       'tools/list has both health tools');
    ok(($at{matomo_page_performance} // 0) < ($at{matomo_tracking_health} // 0),
       'in the order of the issue');
    for my $t (grep { $_->{name} =~ /^matomo_(page_performance|tracking_health)$/ } @tools) {
        $output_schema{ $t->{name} } = $t->{outputSchema};
        is($t->{inputSchema}{additionalProperties}, JSON::PP::false,
           "$t->{name}: no argument beyond the schema's");
        ok($t->{annotations}{readOnlyHint}, "$t->{name}: read-only");
        like($t->{description}, qr/timezone/, "$t->{name}: says dates are in the site's timezone");
    }
}

sub conforms {
    my ($name, $result, $what) = @_;
    my @err = schema_errors($output_schema{$name}, $result->{structuredContent}, '$');
    ok(!@err, "$what: structuredContent conforms to the outputSchema")
        or diag join "\n", @err;
    is_deeply($JSON->decode(tool_text($result)), $result->{structuredContent},
              "$what: the text block holds the same data");
}

# ===========================================================================
# matomo_page_performance
# ===========================================================================
my @TIMING = qw(avg_page_load_time avg_time_network avg_time_server avg_time_transfer
                avg_time_dom_processing avg_time_dom_completion avg_time_on_load);

# The site's timings, one row.
{
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_page_performance',
                      { idSite => 1, period => 'day', date => '2026-11-26' });
    ok(!$r->{isError}, 'page performance, site: no error') or diag tool_text($r);
    my $sc = $r->{structuredContent};
    conforms('matomo_page_performance', $r, 'page performance, site');
    is_deeply($sc->{columns},
              [qw(segment page_load_s network_s server_s transfer_s dom_processing_s
                  dom_completion_s on_load_s)],
              'site: columns name the unit (seconds)');
    my $exp = recorded('full/p-PagePerformance.get-day-2026-11-26.json')->{reportData};
    my $plain = recorded('pageperf-day.json');
    is_deeply([ map { ms($_) } @{ $sc->{rows}[0] }[1 .. 7] ],
              [ map { ms($exp->{$_}) } @TIMING ],
              'site: the timings Matomo reports for the day');
    is_deeply([ map { ms($_) } @{ $sc->{rows}[0] }[1 .. 7] ],
              [ map { ms($plain->{$_}) } @TIMING ],
              '... the same as PagePerformance.get answers');
    is($sc->{rows}[0][0], 'all visits', 'site: one row, all visits');
    is_deeply([ @{ $sc->{period} }{qw(start end)} ], [ '2026-11-26', '2026-11-26' ],
              'site: the resolved period');
    my @req = tool_requests_since($mark);
    is(scalar @req, 1, 'site: one backend round trip');
}

# Mobile against desktop: one call, one round trip.
for my $case (['day', '2026-11-26'], ['month', '2026-11-26'], ['week', '2026-11-25']) {
    my ($period, $date) = @$case;
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_page_performance',
                      { idSite => 1, period => $period, date => $date,
                        compare_segments => [ 'deviceType==smartphone', 'deviceType==desktop',
                                              'deviceType==tablet' ] });
    ok(!$r->{isError}, "compare segments, $period: no error") or diag tool_text($r);
    conforms('matomo_page_performance', $r, "compare segments, $period");
    my $rows = $r->{structuredContent}{rows};
    is_deeply([ map { $_->[0] } @$rows ],
              [ 'deviceType==smartphone', 'deviceType==desktop', 'deviceType==tablet' ],
              "compare segments, $period: one row per segment, in order");
    for my $i (0 .. 2) {
        my $seg = (qw(smartphone desktop tablet))[$i];
        my $exp = recorded("full/s-$seg-PagePerformance.get-$period-$date.json")->{reportData};
        is_deeply([ map { ms($_) } @{ $rows->[$i] }[1 .. 7] ],
                  [ map { ms($exp->{$_}) } @TIMING ],
                  "compare segments, $period: $seg as Matomo reports it");
    }
    if ($period eq 'month') {
        is(ms($rows->[0][1]), ms(recorded('pageperf-smartphone.json')->{avg_page_load_time}),
           'month: smartphone page load time as PagePerformance.get answers it');
        is(ms($rows->[1][1]), ms(recorded('pageperf-desktop.json')->{avg_page_load_time}),
           'month: desktop page load time as PagePerformance.get answers it');
    }
    my @req = tool_requests_since($mark);
    is(scalar @req, 1, "compare segments, $period: one backend round trip");
    is($req[0]{method}, 'API.getBulkRequest', '... a bulk request');
    is(scalar @{ $req[0]{bulk} || [] }, 3, '... of the three segments');
}

# A relative date: the site's today comes in the same round trip.
{
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_page_performance',
                      { idSite => 1, period => 'day', date => 'today',
                        compare_segments => [ 'deviceType==smartphone', 'deviceType==desktop' ] });
    ok(!$r->{isError}, 'today: no error') or diag tool_text($r);
    is_deeply([ @{ $r->{structuredContent}{period} }{qw(date start end)} ],
              [ 'today', '2026-11-26', '2026-11-26' ], 'today: resolved in the site\'s timezone');
    is(ms($r->{structuredContent}{rows}[1][1]),
       ms(recorded('full/s-desktop-PagePerformance.get-day-2026-11-26.json')
              ->{reportData}{avg_page_load_time}),
       'today: desktop page load time');
    is(scalar(my @req = tool_requests_since($mark)), 1, 'today: one backend round trip');
}

# The slowest pages of today.
{
    my $rows = recorded('full/m-Actions.getPageUrls-day-2026-11-26.json');
    my @slow = sort {
        (defined $b->{avg_page_load_time} <=> defined $a->{avg_page_load_time})
        || (($b->{avg_page_load_time} // 0) <=> ($a->{avg_page_load_time} // 0))
    } @$rows;
    my $matomo_order = recorded('pageurls-sorted-slow.json');    # Matomo's own sort, 10 rows

    my $mark = fake_log_mark();
    my $r = call_tool('matomo_page_performance',
                      { idSite => 1, period => 'day', date => '2026-11-26', by => 'page' });
    ok(!$r->{isError}, 'by page: no error') or diag tool_text($r);
    conforms('matomo_page_performance', $r, 'by page');
    my $sc = $r->{structuredContent};
    is_deeply($sc->{columns},
              [qw(label url hits page_load_s network_s server_s transfer_s dom_processing_s
                  dom_completion_s on_load_s)], 'by page: columns');
    my $seg = $sc->{segments}[0];
    is($seg->{segment}, 'all visits', 'by page: all visits');
    is(scalar @{ $seg->{rows} }, 10, 'by page: 10 pages by default');
    is_deeply([ map { $_->[0] } @{ $seg->{rows} } ],
              [ map { $_->{label} } @$matomo_order ],
              'by page: slowest first, in the order Matomo sorts them');
    is_deeply([ map { ms($_->[3]) } @{ $seg->{rows} } ],
              [ map { ms($_->{avg_page_load_time}) } @slow[0 .. 9] ],
              'by page: average page load times from the page report');
    is_deeply([ map { [ $_->[1], $_->[2] ] } @{ $seg->{rows} } ],
              [ map { [ $_->{url}, $_->{nb_hits} ] } @slow[0 .. 9] ],
              'by page: URL and pageviews of each page');
    is_deeply([ map { ms($_) } @{ $seg->{rows}[0] }[3 .. 9] ],
              [ map { ms($slow[0]{$_}) } @TIMING ], 'by page: every timing of the slowest page');
    ok($seg->{has_more}, 'by page: has_more (13 pages)');
    is($seg->{next_offset}, 10, 'by page: next_offset');
    like($sc->{note} // '', qr/visitors/, 'by page: URLs are marked as untrusted data');
    my @req = tool_requests_since($mark);
    is(scalar @req, 1, 'by page: one backend round trip');

    $r = call_tool('matomo_page_performance',
                   { idSite => 1, period => 'day', date => '2026-11-26', by => 'page',
                     limit => 10, offset => 10 });
    $seg = $r->{structuredContent}{segments}[0];
    is_deeply([ map { $_->[0] } @{ $seg->{rows} } ],
              [ map { $_->{label} } @slow[10 .. $#slow] ], 'by page, offset 10: the rest');
    ok(!$seg->{has_more}, '... and no more');
    ok(!exists $seg->{next_offset}, '... no next_offset');

    $r = call_tool('matomo_page_performance',
                   { idSite => 1, period => 'day', date => '2026-11-26', by => 'page',
                     limit => 1 });
    is_deeply([ map { $_->[0] } @{ $r->{structuredContent}{segments}[0]{rows} } ],
              [ $slow[0]{label} ], 'by page, limit 1: the slowest page');
}

# Pages per segment: a segment Matomo cannot answer is named.
{
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_page_performance',
                      { idSite => 1, date => '2026-11-26', by => 'page',
                        compare_segments => [ 'deviceType==smartphone', 'deviceType==desktop' ] });
    my @req = tool_requests_since($mark);
    is(scalar @req, 1, 'pages per segment: one round trip');
    is_deeply([ map { $_->{method} } @{ $req[0]{bulk} || [] } ],
              [ 'Actions.getPageUrls', 'Actions.getPageUrls' ], '... asking each segment');
    # The recordings have no per-segment page timings: the fake's "not
    # recorded", named by the segment that failed.
    ok($r->{isError}, 'pages per segment: isError (nothing recorded)');
    like(tool_text($r), qr/^segment deviceType==smartphone: fake Matomo [\d.]+: no recorded answer for Actions\.getPageUrls with idSite=1, period=day, date=2026-11-26, segment=deviceType==smartphone, /,
         'pages per segment: a failure names its segment and passes the fake\'s error on');
}

# Argument errors: each names its argument, before any backend call.
for my $case (
    [ {}, qr/^idSite: required/, 'idSite missing' ],
    [ { idSite => 0 }, qr/^idSite: /, 'idSite 0' ],
    [ { idSite => 'one' }, qr/^idSite: must be an integer/, 'idSite as a word' ],
    [ { idSite => 1, period => 'fortnight' }, qr/^period: must be one of /, 'unknown period' ],
    [ { idSite => 1, date => 'tomorrow' }, qr/^date: 'tomorrow' is not valid/, 'bad date' ],
    [ { idSite => 1, date => 'last7' }, qr/^date: .*period range/, 'lastN with period day' ],
    [ { idSite => 1, period => 'range', date => 'last0' }, qr/^date: 'last0' is not valid/,
      'last0 (Matomo reads it as last1)' ],
    [ { idSite => 1, period => 'range', date => '2026-11-26' }, qr/^date: period range takes YYYY-MM-DD,YYYY-MM-DD/, 'range with one date' ],
    [ { idSite => 1, period => 'day', date => '2026-11-20,2026-11-26' }, qr/^date: YYYY-MM-DD,YYYY-MM-DD needs period range/, 'a date pair without range' ],
    [ { idSite => 1, segment => 'nosuchoperator' }, qr/^segment: 'nosuchoperator' is not valid/, 'bad segment' ],
    [ { idSite => 1, by => 'country' }, qr/^by: must be one of site, page/, 'by not site or page' ],
    [ { idSite => 1, compare_segments => { deviceType => 'smartphone' } }, qr/^compare_segments: must be an array/, 'compare_segments an object' ],
    [ { idSite => 1, compare_segments => [] }, qr/^compare_segments: /, 'compare_segments empty' ],
    [ { idSite => 1, compare_segments => [ map { "deviceType==$_" } qw(a b c d e) ] },
      qr/^compare_segments: at most 4/, 'five segments to compare' ],
    [ { idSite => 1, compare_segments => [ 'deviceType==smartphone', 'x' ] },
      qr/^compare_segments\[1\]: 'x' is not valid/, 'a bad segment to compare' ],
    [ { idSite => 1, by => 'page', limit => 0 }, qr/^limit: must be from 1 to 100/, 'limit 0' ],
    [ { idSite => 1, by => 'page', limit => 101 }, qr/^limit: must be from 1 to 100/, 'limit over 100' ],
    [ { idSite => 1, offset => -1 }, qr/^offset: /, 'negative offset' ],
    [ { idSite => 1, format => 'xml' }, qr/^format: unknown argument/, 'an argument the tool does not take' ],
) {
    my ($args, $re, $what) = @$case;
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_page_performance', $args);
    ok($r->{isError}, "page performance, $what: isError");
    like(tool_text($r), $re, "page performance, $what: names the argument");
    is(scalar(my @req = tool_requests_since($mark)), 0, "page performance, $what: no backend call");
}

# The view-only token and site 1.
{
    my $r = call_tool('matomo_page_performance', { idSite => 1, date => '2026-11-26' },
                      bearer($VIEWER));
    ok($r->{isError}, 'viewer, site 1: isError');
    like(tool_text($r), qr/access/i, 'viewer, site 1: access denied');
    unlike(tool_text($r), qr/\d+\.\d+/, 'viewer, site 1: no figure leaks');
    $r = call_tool('matomo_page_performance',
                   { idSite => 1, date => '2026-11-26', by => 'page',
                     compare_segments => [ 'deviceType==smartphone' ] }, bearer($VIEWER));
    ok($r->{isError}, 'viewer, site 1 by page and segment: isError');
    like(tool_text($r), qr/access/i, '... access denied');
}

# ===========================================================================
# matomo_tracking_health
# ===========================================================================

# Pages with hits in the previous period and none in this one, computed from
# the recorded page reports: [label, url, hits_before], most viewed first.
sub stopped_expected {
    my ($before_file, $now_file) = @_;
    my $now = recorded($now_file);
    my $before = recorded($before_file);
    my %now = map { $_->{label} => 1 } @{ $now->{reportData} };
    my @rows;
    for my $i (0 .. $#{ $before->{reportData} }) {
        my $row = $before->{reportData}[$i];
        next if $now{ $row->{label} } || !$row->{nb_hits};
        push @rows, [ $row->{label}, $before->{reportMetadata}[$i]{url}, $row->{nb_hits} ];
    }
    return [ sort { $b->[2] <=> $a->[2] || $a->[0] cmp $b->[0] } @rows ];
}

sub by_hits_then_label { [ sort { $b->[2] <=> $a->[2] || $a->[0] cmp $b->[0] } @{ $_[0] } ] }

sub last_hit_expected {
    my ($site) = @_;
    my $visits = recorded("full/x-site$site-Live.getLastVisitsDetails-day-2026-11-26.json");
    return undef unless @$visits;
    my @t = gmtime $visits->[0]{lastActionTimestamp};
    return sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ', $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0];
}

sub non_increasing {
    my @h = map { $_->[2] } @{ $_[0] };
    return !grep { $h[$_] > $h[$_ - 1] } 1 .. $#h;
}

my %PAIR = (
    day   => [ '2026-11-26', 'day-2026-11-25',  'day-2026-11-26',  [ '2026-11-26', '2026-11-26' ], [ '2026-11-25', '2026-11-25' ] ],
    week  => [ '2026-11-25', 'week-2026-11-18', 'week-2026-11-25', [ '2026-11-23', '2026-11-29' ], [ '2026-11-16', '2026-11-22' ] ],
    month => [ '2026-11-26', 'month-2026-10-26', 'month-2026-11-26', [ '2026-11-01', '2026-11-30' ], [ '2026-10-01', '2026-10-31' ] ],
);

for my $period (qw(day week month)) {
    my ($date, $before, $now, $span, $prev) = @{ $PAIR{$period} };
    my $exp = stopped_expected("full/p-Actions.getPageUrls-$before.json",
                               "full/p-Actions.getPageUrls-$now.json");
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_tracking_health',
                      { idSite => 1, period => $period, date => $date, limit => 200 });
    ok(!$r->{isError}, "tracking health, site 1, $period: no error") or diag tool_text($r);
    conforms('matomo_tracking_health', $r, "tracking health, $period");
    my $sc = $r->{structuredContent};
    is_deeply([ @{ $sc->{period} }{qw(start end)} ], $span, "$period: this period");
    is_deeply([ @{ $sc->{previous_period} }{qw(start end)} ], $prev, "$period: the previous period");
    is(scalar @{ $sc->{sites} }, 1, "$period: one site");
    my $site = $sc->{sites}[0];
    is($site->{idSite}, 1, "$period: site 1");
    is($site->{name}, 'Demo Shop', "$period: its name");
    is_deeply($site->{pages_stopped}{columns}, [qw(label url hits_before)], "$period: columns");
    my $rows = $site->{pages_stopped}{rows};
    is_deeply(by_hits_then_label($rows), $exp,
              "$period: the pages seen in the previous period and not in this one ("
              . scalar(@$exp) . ')');
    ok(non_increasing($rows), "$period: most viewed first");
    is($site->{stopped_total}, scalar @$exp, "$period: stopped_total");
    is($site->{pages_before},
       scalar @{ recorded("full/p-Actions.getPageUrls-$before.json")->{reportData} },
       "$period: pages with hits before");
    is($site->{pages_now},
       scalar @{ recorded("full/p-Actions.getPageUrls-$now.json")->{reportData} },
       "$period: pages with hits now");
    is($site->{last_hit}, last_hit_expected(1), "$period: the last hit (UTC)");
    ok(!$site->{has_more}, "$period: all of them");
    like($sc->{note} // '', qr/visitors/, "$period: URLs are marked as untrusted data");
    my @req = tool_requests_since($mark);
    is(scalar @req, 1, "$period: one backend round trip");
    is_deeply([ map { $_->{method} } @{ $req[0]{bulk} || [] } ],
              [ 'API.getProcessedReport', 'API.getProcessedReport', 'Live.getLastVisitsDetails' ],
              "$period: both periods and the last hit in one bulk request");
}
ok(scalar @{ stopped_expected('full/p-Actions.getPageUrls-day-2026-11-25.json',
                              'full/p-Actions.getPageUrls-day-2026-11-26.json') } > 1,
   'the recordings do have stopped pages to find');

# Paging through the stopped pages.
{
    my $exp = stopped_expected('full/p-Actions.getPageUrls-day-2026-11-25.json',
                               'full/p-Actions.getPageUrls-day-2026-11-26.json');
    my $r = call_tool('matomo_tracking_health', { idSite => 1, date => '2026-11-26', limit => 2 });
    my $site = $r->{structuredContent}{sites}[0];
    is(scalar @{ $site->{pages_stopped}{rows} }, 2, 'limit 2: two pages');
    ok($site->{has_more}, 'limit 2: has_more');
    is($site->{next_offset}, 2, 'limit 2: next_offset');
    is($site->{stopped_total}, scalar @$exp, 'limit 2: stopped_total counts them all');
    my @all = @{ $site->{pages_stopped}{rows} };
    my $offset = $site->{next_offset};
    while (defined $offset) {
        $r = call_tool('matomo_tracking_health',
                       { idSite => 1, date => '2026-11-26', limit => 2, offset => $offset });
        $site = $r->{structuredContent}{sites}[0];
        push @all, @{ $site->{pages_stopped}{rows} };
        $offset = $site->{next_offset};
        last if @all > 100;
    }
    is_deeply(by_hits_then_label(\@all), $exp, 'the pages, page after page, are all of them');
    ok(non_increasing(\@all), '... in order');
}

# today: the site's today and the day before, still one round trip.
{
    my $exp = stopped_expected('full/p-Actions.getPageUrls-day-2026-11-25.json',
                               'full/p-Actions.getPageUrls-day-2026-11-26.json');
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_tracking_health', { idSite => 1, date => 'today', limit => 200 });
    ok(!$r->{isError}, 'today: no error') or diag tool_text($r);
    my $sc = $r->{structuredContent};
    is_deeply([ @{ $sc->{period} }{qw(date start)} ], [ 'today', '2026-11-26' ], 'today: resolved');
    is($sc->{previous_period}{start}, '2026-11-25', 'today: compared with the day before');
    is_deeply(by_hits_then_label($sc->{sites}[0]{pages_stopped}{rows}), $exp,
              'today: the stopped pages');
    my @req = tool_requests_since($mark);
    is(scalar @req, 1, 'today: one backend round trip');
    is(scalar @{ $req[0]{bulk} || [] }, 4, '... with the site\'s today in it');
}

# yesterday with weeks: the week holding yesterday and the one before it,
# from the two weeks before today's (previous2) once today is known, all
# in one request.  (No multi-period processed report was recorded: the
# fake cannot answer it, so only the request is checked here.)
{
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_tracking_health', { idSite => 1, period => 'week', date => 'yesterday' });
    my @req = tool_requests_since($mark);
    is(scalar @req, 1, 'yesterday, week: one backend round trip');
    my %urls = %{ $req[0]{params}{urls} || {} };
    my @urls = map { $urls{$_} } sort { $a <=> $b } keys %urls;
    is(scalar @urls, 4, 'yesterday, week: four calls');
    like($urls[0] // '', qr/^method=VisitsSummary\.get&idSite=1&period=day&date=last2&/,
         '... the site\'s today');
    like($urls[1] // '', qr/apiAction=getPageUrls.*&date=yesterday|date=yesterday.*apiAction=getPageUrls/,
         '... the week holding yesterday');
    like($urls[2] // '', qr/period=week&date=previous2&/, '... the two weeks before this one');
    like($urls[3] // '', qr/^method=Live\.getLastVisitsDetails&idSite=1&filter_limit=1&/,
         '... the latest visit of all time');
    unlike($urls[3] // '', qr/period=|date=/, '... whatever its date');
    ok($r->{isError}, 'yesterday, week: isError (the fake has no multi-period report)');
    like(tool_text($r), qr/^fake Matomo [\d.]+: no recorded answer for API\.getProcessedReport with idSite=1, period=week, date=previous2, apiModule=Actions, apiAction=getPageUrls, /,
         'yesterday, week: the fake\'s "not recorded" for the two weeks before, passed on');
}

# Every visible site: the list of sites, then one bulk request.
{
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_tracking_health', { period => 'day', date => '2026-11-26', limit => 200 });
    ok(!$r->{isError}, 'all sites: no error') or diag tool_text($r);
    conforms('matomo_tracking_health', $r, 'all sites');
    my $sc = $r->{structuredContent};
    is_deeply([ map { $_->{idSite} } @{ $sc->{sites} } ], [ 1, 2, 3 ],
              'all sites: the superuser\'s three sites');
    is($sc->{sites_total}, 3, 'all sites: sites_total');
    ok(!$sc->{sites_has_more}, 'all sites: all checked');
    my %site = map { $_->{idSite} => $_ } @{ $sc->{sites} };
    is_deeply(by_hits_then_label($site{1}{pages_stopped}{rows}),
              stopped_expected('full/p-Actions.getPageUrls-day-2026-11-25.json',
                               'full/p-Actions.getPageUrls-day-2026-11-26.json'),
              'all sites: site 1\'s stopped pages');
    is_deeply(by_hits_then_label($site{2}{pages_stopped}{rows}),
              stopped_expected('full/p-site2-Actions.getPageUrls-day-2026-11-25.json',
                               'full/p-site2-Actions.getPageUrls-day-2026-11-26.json'),
              'all sites: site 2\'s stopped pages');
    is($site{2}{name}, 'Company Blog', 'all sites: names');
    is($site{1}{last_hit}, last_hit_expected(1), 'all sites: site 1\'s last hit');
    is($site{2}{last_hit}, last_hit_expected(2), 'all sites: site 2\'s last hit');
    # Site 3 has no visits; the fake has no page report recorded for it, so
    # it shows as that site's error (a real Matomo answers an empty report).
    like($site{3}{error} // '', qr/^fake Matomo [\d.]+: no recorded answer for API\.getProcessedReport with idSite=3, period=day, date=2026-11-26, apiModule=Actions, apiAction=getPageUrls, /,
         'all sites: site 3 is there, with its error (the fake\'s "not recorded")');
    ok(!exists $site{3}{stopped_total}, 'all sites: site 3 has no figures beside its error');
    ok(!defined $site{3}{last_hit}, 'all sites: site 3 never had a hit');
    my @req = tool_requests_since($mark);
    is(scalar @req, 2, 'all sites: two round trips (the site ids are needed first)');
    is($req[0]{method}, 'SitesManager.getSitesWithAtLeastViewAccess', '... the sites');
    is($req[1]{method}, 'API.getBulkRequest', '... then one bulk request');
    is(scalar @{ $req[1]{bulk} || [] }, 9, '... three calls per site');
}

# The view-only token.
{
    my $r = call_tool('matomo_tracking_health', { date => '2026-11-26', limit => 200 },
                      bearer($VIEWER));
    ok(!$r->{isError}, 'viewer, all sites: no error') or diag tool_text($r);
    conforms('matomo_tracking_health', $r, 'viewer, all sites');
    my $sc = $r->{structuredContent};
    is_deeply([ map { $_->{idSite} } @{ $sc->{sites} } ], [2], 'viewer: only site 2');
    is($sc->{sites_total}, 1, 'viewer: sites_total 1');
    is_deeply(by_hits_then_label($sc->{sites}[0]{pages_stopped}{rows}),
              stopped_expected('full/p-site2-Actions.getPageUrls-day-2026-11-25.json',
                               'full/p-site2-Actions.getPageUrls-day-2026-11-26.json'),
              'viewer: site 2\'s stopped pages');
    unlike(tool_text($r), qr/Demo Shop|shop\.example/, 'viewer: nothing of site 1');

    $r = call_tool('matomo_tracking_health', { idSite => 1, date => '2026-11-26' },
                   bearer($VIEWER));
    ok($r->{isError}, 'viewer, site 1: isError');
    like(tool_text($r), qr/access/i, 'viewer, site 1: access denied');
    unlike(tool_text($r), qr/shop\.example|Demo Shop/, 'viewer, site 1: nothing of it');

    $r = call_tool('matomo_tracking_health', { idSite => 2, period => 'week', date => '2026-11-25',
                                               limit => 200 }, bearer($VIEWER));
    ok(!$r->{isError}, 'viewer, site 2, week: no error') or diag tool_text($r);
    is_deeply(by_hits_then_label($r->{structuredContent}{sites}[0]{pages_stopped}{rows}),
              stopped_expected('full/p-site2-Actions.getPageUrls-week-2026-11-18.json',
                               'full/p-site2-Actions.getPageUrls-week-2026-11-25.json'),
              'viewer, site 2, week: the stopped pages');
}

for my $case (
    [ { idSite => 0 }, qr/^idSite: /, 'idSite 0' ],
    [ { period => 'year' }, qr/^period: must be one of day, week, month\z/, 'period year' ],
    [ { period => 'range' }, qr/^period: must be one of day, week, month\z/, 'period range' ],
    [ { date => 'last7' }, qr/^date: 'last7' is not valid/, 'date lastN' ],
    [ { date => '2026-11-25,2026-11-26' }, qr/^date: /, 'a date pair' ],
    [ { date => 'soon' }, qr/^date: 'soon' is not valid/, 'a word for a date' ],
    [ { limit => 0 }, qr/^limit: must be from 1 to 200/, 'limit 0' ],
    [ { limit => 201 }, qr/^limit: must be from 1 to 200/, 'limit over 200' ],
    [ { offset => -1 }, qr/^offset: /, 'negative offset' ],
    [ { segment => 'deviceType==smartphone' }, qr/^segment: unknown argument/, 'an argument the tool does not take' ],
) {
    my ($args, $re, $what) = @$case;
    my $mark = fake_log_mark();
    my $r = call_tool('matomo_tracking_health', $args);
    ok($r->{isError}, "tracking health, $what: isError");
    like(tool_text($r), $re, "tracking health, $what: names the argument");
    is(scalar(my @req = tool_requests_since($mark)), 0, "tracking health, $what: no backend call");
}

done_testing();
