# Every tool of tools/list against Matomo 4.16.1: /mcp-m4 (t/conf/extra.conf.in)
# fronts the fake Matomo's 4.16.1 mount (/matomo4/, answers recorded on a
# real Matomo 4.16.1, t/matomo/recorded-4.16.1/: another data set, sites 1
# "Northwind Outfitters", 2 "Field Notes", 3 "Staff Portal", "today"
# 2026-12-04).  Each tool is asked questions those recordings hold; the
# expected figures are read from the recordings, never from the module;
# the fake's request log shows that every call reached the 4.16.1 mount
# and which recorded answer served it; every data answer is checked
# against its tool's outputSchema (ajv).
#
# Matomo 4's differences as the tools meet them: its HTTP-200 errors (a
# view-only token on a forbidden site, an unknown site, an unknown segment)
# give the same tool errors as Matomo 5.1.2's answers to the same mistake
# on /mcp; the view-only user sees its own site and nothing else.
#
# matomo_tracking_health cannot be answered from these recordings: the
# test shows which recording it lacks (the fake's "no recorded answer",
# passed on as Matomo's error).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use File::Temp ();
use JSON::PP ();
use POSIX ();
use McpTest;
use MatomoMcp::Clients qw(node20 node_major run_tool top_dir);

my $EP     = '/mcp-m4';
my $M4DIR  = "$FindBin::Bin/matomo/recorded-4.16.1";
my $VIEWER = token('viewer');
my $JSON   = JSON::PP->new->canonical;

# --- helpers ----------------------------------------------------------------

# A 4.16.1 recording: (answer, its request parameters as a hash).
sub m4_file {
    my $file = shift;
    open my $fh, '<:raw', "$M4DIR/$file" or die "$M4DIR/$file: $!";
    my $wrap = JSON::PP->new->decode(do { local $/; <$fh> });
    return ($wrap, { map { @$_ } @{ $wrap->{params} } });
}
sub m4 { my ($wrap) = m4_file(shift); return JSON::PP->new->decode($wrap->{body}) }
sub m4_params { my (undef, $p) = m4_file(shift); return $p }

my @checked;     # [tool, structuredContent]: the schema check at the end
my %answered;    # tool => data answers from /mcp-m4

# call(tool, args, token => ..., path => ...): (structuredContent or undef,
# error text or undef, the fake's log lines of this call).
sub call {
    my ($tool, $args, %o) = @_;
    my $path = $o{path} // $EP;
    my $mark = fake_log_mark();
    my $res = rpc($path, 7, 'tools/call', { name => $tool, arguments => $args },
                  $o{token} ? (Authorization => "Bearer $o{token}") : ());
    my $body = eval { JSON::PP->new->utf8->decode($res->content) };
    my @seen = tool_requests_since($mark);
    my $r = $body && $body->{result} or return (undef, 'no result: HTTP ' . $res->code, \@seen);
    return (undef, $r->{content}[0]{text} // '', \@seen) if $r->{isError};
    push @checked, [ $tool, $r->{structuredContent} ];
    $answered{$tool}++ if $path eq $EP;
    is_deeply(JSON::PP->new->decode($r->{content}[0]{text}), $r->{structuredContent},
              "$tool: the text block holds the same data");
    return ($r->{structuredContent}, undef, \@seen);
}

# The Matomo calls behind a tool call, a bulk request opened:
# { method, status, answer } each.
sub matomo_calls {
    my $seen = shift;
    return map { $_->{bulk} ? @{ $_->{bulk} } : $_ } @$seen;
}

# Every request of the call went to the fake's 4.16.1 mount, and Matomo
# answered exactly these calls ("Method:data" or "Method:error"), each
# with HTTP 200.
# Whether mcp_call_dated asks for the site's today with an absolute date:
# when the period's days come within a day of this machine's UTC date
# (src/mcp_toolkit.c, mcp_span_may_hold_today).
sub may_hold_today {
    my ($period, $date) = @_;
    require Time::Local;
    my @t = gmtime;
    my $now = Time::Local::timegm(0, 0, 0, $t[3], $t[4], $t[5]) / 86400;
    my $day = sub { my ($y, $m, $d) = split /-/, shift; Time::Local::timegm(0, 0, 0, $d, $m - 1, $y) / 86400 };
    my ($s, $e);
    if ($period eq 'range') { ($s, $e) = map { $day->($_) } split /,/, $date }
    elsif ($period eq 'year') { my ($y) = $date =~ /^(\d{4})/; ($s, $e) = ($day->("$y-01-01"), $day->("$y-12-31")) }
    elsif ($period eq 'month') {
        my ($y, $m) = $date =~ /^(\d{4})-(\d\d)/;
        $s = $day->("$y-$m-01");
        $e = ($m == 12 ? $day->(($y + 1) . '-01-01') : $day->(sprintf('%d-%02d-01', $y, $m + 1))) - 1;
    }
    elsif ($period eq 'week') { $s = $day->($date); $s -= ($s + 3) % 7; $e = $s + 6 }
    else { $s = $e = $day->($date) }
    return $e >= $now - 1 && $s <= $now + 1;
}
sub reached_m4 {
    my ($seen, $what, @want) = @_;
    ok(@$seen && !grep({ ($_->{path} // '') ne '/matomo4/index.php'
                         || ($_->{matomo} // '') ne '4.16.1' } @$seen),
       "$what: every request went to the fake's Matomo 4.16.1 (/matomo4/)");
    my @calls = matomo_calls($seen);
    is_deeply([ sort map { "$_->{method}:" . ($_->{answer} eq 'error' ? 'error' : 'data') } @calls ],
              [ sort @want ], "$what: Matomo 4.16.1 answered @want");
    ok(!grep({ $_->{status} != 200 } @calls), "$what: ... each with HTTP 200");
    return @calls;
}

# The rows of a {columns, rows} table as hashes.
sub rows_of {
    my $t = shift // {};
    my @c = @{ $t->{columns} // [] };
    return [ map { my $r = $_; +{ map { $c[$_] => $r->[$_] } 0 .. $#c } } @{ $t->{rows} // [] } ];
}
sub column {
    my ($t, $name) = @_;
    return [ map { $_->{$name} } @{ rows_of($t) } ];
}
sub num { my $v = shift; return defined $v ? 0 + $v : undef }
sub nums { return [ map { num($_) } @_ ] }
sub close_to {
    my ($got, $want, $what) = @_;
    my $ok = @$got == @$want
          && !grep { !defined $got->[$_] || abs($got->[$_] - $want->[$_]) > 1e-9 } 0 .. $#$want;
    ok($ok, $what) or diag('got ' . $JSON->encode($got) . ', want ' . $JSON->encode($want));
}

# --- tools/list: twelve tools, each met below ----------------------------------

my ($list_res, $list) = rpc_body($EP, 1, 'tools/list', {});
my %tool = map { $_->{name} => $_ } @{ $list->{result}{tools} // [] };
is(scalar keys %tool, 12, '/mcp-m4 lists the twelve tools');

# --- matomo_list_sites ------------------------------------------------------------
{
    my $sites = m4('sites-view.json');
    my $want = sub {
        [ map { [ @$_{qw(idsite name main_url timezone currency)}, $_->{ecommerce} ? 1 : 0 ] } @_ ];
    };
    my $got = sub { [ map { [ @$_[0 .. 4], $_->[5] ? 1 : 0 ] } @{ $_[0]{sites}{rows} // [] } ] };
    my ($sc, $err, $seen) = call('matomo_list_sites', {});
    ok(!$err, 'list_sites: data') or diag($err);
    reached_m4($seen, 'list_sites', 'SitesManager.getSitesWithAtLeastViewAccess:data');
    is_deeply($sc->{sites}{columns}, [qw(id name url timezone currency ecommerce)], 'list_sites: columns');
    is_deeply($got->($sc), $want->(@$sites), 'list_sites: the three sites of the 4.16.1 set (sites-view.json)');
    is($sc->{total}, scalar @$sites, 'list_sites: total');

    ($sc) = call('matomo_list_sites', { search => 'notes' });
    is_deeply($got->($sc), $want->(grep { "$_->{name} $_->{main_url}" =~ /notes/i } @$sites),
              'list_sites: search "notes" finds Field Notes only');

    my @all = grep { "$_->{name} $_->{main_url}" =~ /example\.test/i } @$sites;
    ($sc) = call('matomo_list_sites', { search => 'example.test', limit => 1, offset => 1 });
    is_deeply($got->($sc), $want->($all[1]), 'list_sites: limit 1, offset 1: the second match');
    ok($sc->{has_more} && $sc->{next_offset} == 2, 'list_sites: has_more, next_offset 2');

    ($sc, $err, $seen) = call('matomo_list_sites', {}, token => $VIEWER);
    is_deeply($got->($sc), $want->(@{ m4('sites-view-viewer.json') }),
              'list_sites, the view-only user: its site 2 only (sites-view-viewer.json)');
    is_deeply([ map { $_->{who} } @$seen ], ['viewer'], '... asked with the viewer\'s token');
}

# --- matomo_sites_overview --------------------------------------------------------
# The tool always asks MultiSites.getAll with enhanced=1: the 4.16.1 set has
# that answer for October 2026 as a range (before its traffic: zeros), and
# the fake sorts and cuts that complete answer as Matomo does.
{
    my $file = 'multisites-lastmonth-enhanced.json';
    my $all = m4($file);
    my $rec = m4_params($file);
    my $pct = sub { my $v = shift; defined $v ? 0 + sprintf('%.1f', $v * 100) : undef };
    # A change from a previous 0 is undefined: null (and a note says so).
    my $from = sub { my ($s, $ev, $prev) = @_; ($s->{$prev} // 0) == 0 ? undef : $pct->($s->{$ev}) };
    my $row = sub {
        my $s = shift;
        [ num($s->{idsite}), $s->{label}, num($s->{nb_visits}), num($s->{previous_nb_visits}),
          $from->($s, 'visits_evolution', 'previous_nb_visits'), num($s->{nb_pageviews}),
          num($s->{previous_Actions_nb_pageviews}),
          $from->($s, 'pageviews_evolution', 'previous_Actions_nb_pageviews'),
          num($s->{revenue}), num($s->{previous_Goal_revenue}),
          $from->($s, 'revenue_evolution', 'previous_Goal_revenue'),
          $s->{currencySymbol} ];
    };
    # core/Metrics/Sorter.php: most first; ties by label (A-Z) when sorting
    # by nb_visits, else by nb_visits; then the order of the answer (PHP 8's
    # stable sort).
    my $sorted = sub {
        my ($col) = @_;
        my @i = sort {
            $all->[$b]{$col} <=> $all->[$a]{$col}
            || ($col eq 'nb_visits' ? $all->[$a]{label} cmp $all->[$b]{label}
                                    : $all->[$b]{nb_visits} <=> $all->[$a]{nb_visits})
            || $a <=> $b
        } 0 .. $#$all;
        return @{$all}[@i];
    };
    my $args = { period => 'range', date => '2026-10-01,2026-10-31' };
    my ($sc, $err, $seen) = call('matomo_sites_overview', $args);
    ok(!$err, 'sites_overview October (range): data') or diag($err);
    my ($c) = reached_m4($seen, 'sites_overview', 'MultiSites.getAll:data');
    is_deeply([ map { $seen->[0]{params}{$_} } qw(period date enhanced) ],
              [ map { $rec->{$_} } qw(period date enhanced) ],
              'sites_overview: asks exactly the recorded question (period, date, enhanced=1)');
    is($c->{answer} // $seen->[0]{answer}, 'filtered', '... answered from that complete answer, filtered');
    is_deeply($sc->{sites}{columns},
              [qw(idSite name visits visits_previous visits_change_pct pageviews pageviews_previous
                  pageviews_change_pct revenue revenue_previous revenue_change_pct currency)],
              'sites_overview: columns');
    is_deeply($sc->{sites}{rows}, [ map { $row->($_) } $sorted->('nb_visits') ],
              "sites_overview: every site's figures from $file, most visits first");
    is_deeply($sc->{period}, { period => 'range', date => '2026-10-01,2026-10-31',
                               start => '2026-10-01', end => '2026-10-31' }, 'sites_overview: the span');
    ok(!$sc->{has_more} && !exists $sc->{elapsed_share},
       'sites_overview: no more sites; a whole period (ratio 1): no elapsed_share');

    ($sc) = call('matomo_sites_overview', { %$args, sort_by => 'pageviews', limit => 2 });
    is_deeply($sc->{sites}{rows}, [ map { $row->($_) } ($sorted->('nb_pageviews'))[0, 1] ],
              'sites_overview: by pageviews, 2 of 3');
    ok($sc->{has_more} && $sc->{next_offset} == 2, '... has_more, next_offset 2');
    ($sc) = call('matomo_sites_overview', { %$args, sort_by => 'revenue', limit => 1, offset => 1 });
    is_deeply($sc->{sites}{rows}, [ $row->(($sorted->('revenue'))[1]) ],
              'sites_overview: by revenue, the second');

    ($sc, $err, $seen) = call('matomo_sites_overview', $args, token => $VIEWER);
    is_deeply($sc->{sites}{rows}, [ map { $row->($_) } grep { $_->{idsite} == 2 } @$all ],
              'sites_overview, the view-only user: its site 2 only');
    reached_m4($seen, 'sites_overview (viewer)', 'MultiSites.getAll:data');
}

# --- matomo_traffic_summary -------------------------------------------------------
# The 4.16.1 set holds no Goals.get without idGoal for these periods: the
# figures of VisitsSummary.get come with a note naming the missing answer.
{
    my @VISIT = qw(nb_visits nb_uniq_visitors nb_actions nb_actions_per_visit bounce_rate avg_time_on_site);
    my $metrics = sub { my $v = shift; +{ map { $_ => num($v->{$_}) } grep { exists $v->{$_} } @VISIT } };
    my $got = sub { my $m = shift // {}; +{ map { $_ => num($m->{$_}) } keys %$m } };
    my $goals_note = qr/^conversions and revenue unavailable: fake Matomo 4\.16\.1: no recorded answer for Goals\.get /;

    my ($sc, $err, $seen) = call('matomo_traffic_summary', { idSite => 1, period => 'day', date => '2026-11-25' });
    ok(!$err, 'traffic_summary day: data') or diag($err);
    reached_m4($seen, 'traffic_summary day', 'VisitsSummary.get:data', 'Goals.get:error');
    is_deeply($got->($sc->{metrics}), $metrics->(m4('visits-day.json')),
              'traffic_summary 2026-11-25: Matomo 4.16.1\'s figures (visits-day.json)');
    like($sc->{note} // '', qr/${goals_note}with idSite=1, period=day, date=2026-11-25/,
         '... and a note naming the Goals.get answer the set lacks');

    my $last7 = m4('visits-last7.json');
    my @days = sort keys %$last7;
    ($sc, $err, $seen) = call('matomo_traffic_summary', { idSite => 1, period => 'day', date => 'today' });
    is_deeply([ @{ $sc->{period} }{qw(start end)} ], [ $days[-1], $days[-1] ],
              "traffic_summary today: the set's today, $days[-1]");
    is_deeply($got->($sc->{metrics}), $metrics->($last7->{ $days[-1] }), '... its figures (visits-last7.json)');
    reached_m4($seen, 'traffic_summary today', 'VisitsSummary.get:data', 'VisitsSummary.get:data',
               'Goals.get:error');

    my $week = m4('visits-week.json');
    my $prev = m4('visits-prevweek.json');
    my $matomo_cmp = m4('visits-compare-week.json')->{comparisons}[1];
    ($sc, $err, $seen) = call('matomo_traffic_summary', { idSite => 1, period => 'week', date => '2026-11-25',
                                                         compare_to => 'previous_period' });
    reached_m4($seen, 'traffic_summary week vs previous', 'VisitsSummary.get:data', 'VisitsSummary.get:data',
               'Goals.get:error', 'Goals.get:error');
    is_deeply([ @{ $sc->{period} }{qw(start end)} ], [ '2026-11-23', '2026-11-29' ], 'traffic_summary week: Monday to Sunday');
    is_deeply([ @{ $sc->{compare}{period} }{qw(start end)} ], [ '2026-11-16', '2026-11-22' ], '... against the week before');
    is_deeply($got->($sc->{metrics}), $metrics->($week), '... this week (visits-week.json)');
    is_deeply($got->($sc->{compare}{metrics}), $metrics->($prev), '... last week (visits-prevweek.json)');
    for my $k (@VISIT) {
        my ($a, $b) = ($week->{$k}, $prev->{$k});
        my $ch = $sc->{compare}{change}{$k} // {};
        ok(abs(($ch->{abs} // 'inf') - ($a - $b)) < 1e-9, "... change of $k: abs");
        (my $from = $matomo_cmp->{"${k}_change_from"} // '') =~ s/%$//;
        is($ch->{pct}, 0 + $from, "... change of $k: $from%, as Matomo 4.16.1's own comparison");
    }

    ($sc, $err, $seen) = call('matomo_traffic_summary', { idSite => 1, period => 'day', date => 'yesterday',
                                                         compare_to => 'previous_period' });
    is_deeply([ $sc->{period}{start}, $sc->{compare}{period}{start} ], [ @days[-2, -3] ],
              'traffic_summary yesterday vs the day before: resolved in the set\'s days');
    is_deeply([ $got->($sc->{metrics}), $got->($sc->{compare}{metrics}) ],
              [ map { $metrics->($last7->{$_}) } @days[-2, -3] ], '... their figures (visits-last7.json)');

    ($sc, $err, $seen) = call('matomo_traffic_summary', { idSite => 1, period => 'day', date => 'last7' });
    is_deeply(column($sc, 'date'), \@days, 'traffic_summary last7: a row per day');
    for my $k (@VISIT) {
        is_deeply(nums(@{ column($sc, $k) }), nums(map { $last7->{$_}{$k} } @days), "... $k per day");
    }

    ($sc, $err, $seen) = call('matomo_traffic_summary', { idSite => 1, period => 'range', date => '2026-11-12,2026-11-26',
                                                         segment => 'deviceType==smartphone' });
    is_deeply($got->($sc->{metrics}), $metrics->(m4('visits-segment-smartphone.json')),
              'traffic_summary range, smartphones (visits-segment-smartphone.json)');
    reached_m4($seen, 'traffic_summary range, smartphones', 'VisitsSummary.get:data', 'Goals.get:error');

    ($sc, $err) = call('matomo_traffic_summary', { idSite => 3, period => 'month', date => '2026-11-26' });
    is_deeply($got->($sc->{metrics}), $metrics->(m4('visits-empty-site.json')),
              'traffic_summary of the empty site 3: zeros (visits-empty-site.json)');

    ($sc, $err, $seen) = call('matomo_traffic_summary', { idSite => 2, period => 'day', date => '2026-11-25' },
                              token => $VIEWER);
    ok(!$err, 'traffic_summary, the view-only user on its site 2: data') or diag($err);
    is_deeply($got->($sc->{metrics}), $metrics->(m4('ok-viewer-site2.json')),
              '... Matomo 4.16.1\'s answer to the viewer (ok-viewer-site2.json)');
}

# --- matomo_list_reports ----------------------------------------------------------
{
    my $meta = m4('reportmeta-1.json');
    my ($sc, $err, $seen) = call('matomo_list_reports', { idSite => 1, limit => 200 });
    ok(!$err, 'list_reports: data') or diag($err);
    reached_m4($seen, 'list_reports', 'API.getReportMetadata:data');
    is($sc->{total}, scalar @$meta, 'list_reports: every report of the catalog (reportmeta-1.json)');
    is_deeply(column($sc->{reports}, 'id'), [ map { $_->{uniqueId} } @$meta ], 'list_reports: ids in Matomo\'s order');
    is_deeply(column($sc->{reports}, 'name'), [ map { $_->{name} } @$meta ], 'list_reports: names');

    my $hay = sub { join "\n", map { $_ // '' } @{ $_[0] }{qw(uniqueId name category subcategory dimension)} };
    ($sc) = call('matomo_list_reports', { idSite => 1, search => 'entry' });
    is_deeply(column($sc->{reports}, 'id'), [ map { $_->{uniqueId} } grep { $hay->($_) =~ /entry/i } @$meta ],
              'list_reports: search "entry"');

    my @ref = grep { lc $_->{category} eq 'referrers' } @$meta;
    ($sc) = call('matomo_list_reports', { idSite => 1, category => 'Referrers', limit => 5, offset => 2 });
    is_deeply(column($sc->{reports}, 'id'), [ map { $_->{uniqueId} } @ref[2 .. 6] ],
              'list_reports: category Referrers, 5 from the third');
    is($sc->{has_more} ? 1 : 0, @ref > 7 ? 1 : 0, '... has_more as the catalog says');
}

# --- matomo_get_report ------------------------------------------------------------
# The 4.16.1 set's processed reports (API.getProcessedReport): entry pages
# and page URLs of 2026-11-25 (cut at 10 rows), goals of 2026, visits of a
# range.
{
    my $check = sub {
        my ($file, $args, $first, $n, $what) = @_;
        my $rec = m4($file);
        my ($sc, $err, $seen) = call('matomo_get_report', $args);
        ok(!$err, "get_report $what: data") or return diag($err);
        # A period that may hold the site's today (this machine's UTC date
        # within a day of it: the year 2026 while it lasts) also asks for
        # the site's today, to say whether the period is partial.
        my @today = may_hold_today($args->{period}, $args->{date}) ? ('VisitsSummary.get:data') : ();
        my ($c) = reached_m4($seen, "get_report $what", 'API.getProcessedReport:data', @today);
        my @data = ref $rec->{reportData} eq 'ARRAY' ? @{ $rec->{reportData} } : ($rec->{reportData});
        my @meta = ref $rec->{reportMetadata} eq 'ARRAY' ? @{ $rec->{reportMetadata} } : ();
        my @cols = grep { $_ ne 'url' } @{ $sc->{columns} // [] };
        is_deeply([ sort @cols ], [ sort grep { exists $data[$first]{$_} } @cols ],
                  "get_report $what: every column is one of the report's");
        my @want = map { my $i = $_; [ map { $_ eq 'label' ? $data[$i]{$_} : num($data[$i]{$_}) } @cols ] }
                   $first .. $first + $n - 1;
        my @got = map { my $r = $_; [ map { $_ eq 'label' ? $r->{$_} : num($r->{$_}) } @cols ] } @{ rows_of($sc) };
        is_deeply(\@got, \@want, "get_report $what: rows $first.." . ($first + $n - 1) . " of $file");
        if (@meta && grep { $_ eq 'url' } @{ $sc->{columns} }) {
            is_deeply(column($sc, 'url'), [ map { $_->{url} } @meta[$first .. $first + $n - 1] ],
                      "get_report $what: each row's URL");
        }
        return $sc;
    };
    my $sc = $check->('processed-entrypages-day.json',
                      { idSite => 1, report => 'Actions_getEntryPageUrls', period => 'day', date => '2026-11-25', limit => 5 },
                      0, 5, 'entry pages');
    ok($sc->{has_more} && $sc->{next_offset} == 5, 'get_report entry pages: has_more, next_offset 5');
    is_deeply($sc->{report}, { id => 'Actions_getEntryPageUrls',
                               name => m4('processed-entrypages-day.json')->{metadata}{name},
                               dimension => m4('processed-entrypages-day.json')->{metadata}{dimension} },
              'get_report: which report, as Matomo 4.16.1 names it');
    $sc = $check->('processed-entrypages-day.json',
                   { idSite => 1, report => 'Actions.getEntryPageUrls', period => 'day', date => '2026-11-25',
                     limit => 4, offset => 5 }, 5, 4, 'entry pages, offset 5');
    ok($sc->{has_more} && $sc->{next_offset} == 9, '... has_more, next_offset 9');
    $check->('processed-pageurls-day.json',
             { idSite => 1, report => 'Actions_getPageUrls', period => 'day', date => '2026-11-25', limit => 5 },
             0, 5, 'page URLs');
    $sc = $check->('processed-goals-year.json',
                   { idSite => 1, report => 'Goals_get', period => 'year', date => '2026-11-26' }, 0, 1, 'goals of 2026');
    is_deeply([ @{ $sc->{period} // {} }{qw(start end)} ], [ '2026-01-01', '2026-12-31' ], '... the year');
    $check->('processed-visits-range.json',
             { idSite => 1, report => 'VisitsSummary_get', period => 'range', date => '2026-11-12,2026-11-26' },
             0, 1, 'visits of a range');
}

# --- matomo_get_trend -------------------------------------------------------------
{
    my $last7 = m4('visits-last7.json');
    my @days = sort keys %$last7;
    my ($sc, $err, $seen) = call('matomo_get_trend', { idSite => 1, period => 'day', last => 7 });
    ok(!$err, 'get_trend last 7 days: data') or diag($err);
    # A relative date: the site's today asked in the same bulk request.
    reached_m4($seen, 'get_trend', 'VisitsSummary.get:data', 'VisitsSummary.get:data');
    is_deeply($sc->{rows}, [ map { [ $_, num($last7->{$_}{nb_visits}) ] } @days ],
              'get_trend: visits per day (visits-last7.json)');
    is_deeply([ @{ $sc->{period} }{qw(start end)} ], [ @days[0, -1] ], 'get_trend: the span');

    my @m = qw(nb_visits nb_actions bounce_rate);
    ($sc) = call('matomo_get_trend', { idSite => 1, period => 'day', last => 7, metrics => \@m });
    is_deeply($sc->{columns}, [ 'date', @m ], 'get_trend: the asked metrics');
    is_deeply($sc->{rows}, [ map { my $d = $_; [ $d, map { num($last7->{$d}{$_}) } @m ] } @days ],
              'get_trend: each from visits-last7.json');

    my $evo = m4('rowevolution-pageurl.json');
    ($sc, $err, $seen) = call('matomo_get_trend', { idSite => 1, period => 'day', last => 7,
                                                   report => 'Actions_getPageUrls', label => '/products' });
    ok(!$err, 'get_trend row evolution: data') or diag($err);
    reached_m4($seen, 'get_trend row evolution', 'API.getRowEvolution:data', 'VisitsSummary.get:data');
    is($sc->{label}, $evo->{label}, 'get_trend row evolution: Matomo\'s label for the row');
    is_deeply($sc->{rows}, [ map { my $r = $evo->{reportData}{$_}; [ $_, @$r ? num($r->[0]{nb_visits}) : 0 ] }
                             sort keys %{ $evo->{reportData} } ],
              'get_trend row evolution: a day without the row is 0 visits (rowevolution-pageurl.json)');
}

# --- matomo_list_goals ------------------------------------------------------------
{
    my $goals = m4('goals-list.json');
    my $site = m4('site-1.json');
    my ($sc, $err, $seen) = call('matomo_list_goals', { idSite => 1 });
    ok(!$err, 'list_goals: data') or diag($err);
    reached_m4($seen, 'list_goals', 'Goals.getGoals:data', 'SitesManager.getSiteFromId:data');
    my $rows = rows_of($sc->{goals});
    is_deeply([ map { [ num($_->{id}), $_->{name}, $_->{match}, num($_->{revenue}) ] } @$rows ],
              [ map { [ num($_->{idgoal}), $_->{name}, $_->{match_attribute}, num($_->{revenue}) ] } @$goals ],
              'list_goals: id, name, match, revenue of each goal (goals-list.json)');
    is_deeply([ map { $_->{pattern} } @$rows ], [ map { $_->{pattern} } @$goals ],
              'list_goals: patterns (none for the manual goal)');
    is_deeply([ @{ $sc->{ecommerce} // {} }{qw(enabled currency)} ],
              [ $site->{ecommerce} ? JSON::PP::true : JSON::PP::false, $site->{currency} ],
              'list_goals: ecommerce on, in the site\'s currency (site-1.json)');
}

# --- matomo_list_segments ---------------------------------------------------------
{
    my $saved = m4('segments-all.json');
    my $meta = m4('segmentsmeta-1.json');
    my %name = map { $_->{segment} => $_->{name} } @$meta;
    my ($sc, $err, $seen) = call('matomo_list_segments', { idSite => 1, dimension => 'deviceType' });
    ok(!$err, 'list_segments: data') or diag($err);
    reached_m4($seen, 'list_segments', 'SegmentEditor.getAll:data', 'API.getSegmentsMetadata:data',
               'API.getSuggestedValuesForSegment:data');
    is_deeply([ map { [ num($_->{id}), $_->{name}, $_->{definition} ] } @{ rows_of($sc->{saved}) } ],
              [ map { [ num($_->{idsegment}), $_->{name}, $_->{definition} ] } @$saved ],
              'list_segments: the saved segment (segments-all.json)');
    is($sc->{total}, scalar @$meta, 'list_segments: every dimension and metric counted (segmentsmeta-1.json)');
    my $dims = rows_of($sc->{dimensions});
    ok(@$dims && !grep({ ($name{ $_->{segment} } // "\0") ne $_->{name} } @$dims),
       'list_segments: each listed one is Matomo\'s, with its name');
    is_deeply($sc->{suggested}{values}, m4('suggested-devicetype.json'),
              'list_segments: suggested device types (suggested-devicetype.json)');

    ($sc) = call('matomo_list_segments', { idSite => 1, search => 'device', limit => 5 });
    my @match = grep { join("\n", map { $_ // '' } @$_{qw(segment name category)}) =~ /device/i } @$meta;
    is_deeply(column($sc->{dimensions}, 'segment'), [ map { $_->{segment} } @match[0 .. ($#match < 4 ? $#match : 4)] ],
              'list_segments: search "device"');
}

# --- matomo_visitor_log -----------------------------------------------------------
# Live.getLastVisitsDetails of 2026-11-26 (5 visits, and 2 without actions)
# and Live.getCounters of 2880 minutes are recorded: the tool's limit + 1
# and minutes=2880 ask exactly those.
{
    my $visits = m4('live-last5.json');
    my $counters = m4('live-counters.json')->[0];
    my $utc = sub { POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime shift) };
    my ($sc, $err, $seen) = call('matomo_visitor_log', { idSite => 1, date => '2026-11-26', limit => 4, minutes => 2880 });
    ok(!$err, 'visitor_log: data') or diag($err);
    my @c = reached_m4($seen, 'visitor_log', 'Live.getLastVisitsDetails:data', 'Live.getCounters:data');
    is_deeply([ sort map { $_->{answer} } @c ], [ 'exact', 'exact' ], 'visitor_log: both recorded answers, exactly');
    my $t = $sc->{visits};
    is_deeply(column($t, 'id'), nums(map { $_->{idVisit} } @{$visits}[0 .. 3]), 'visitor_log: the 4 latest visits (live-last5.json)');
    is_deeply(column($t, 'actions'), nums(map { $_->{actions} } @{$visits}[0 .. 3]), 'visitor_log: actions');
    is_deeply(column($t, 'referrer_name'), [ map { $_->{referrerName} } @{$visits}[0 .. 3] ], 'visitor_log: referrers');
    is_deeply(column($t, 'last_action'), [ map { $utc->($_->{lastActionTimestamp}) } @{$visits}[0 .. 3] ],
              'visitor_log: last actions in UTC, from their timestamps');
    # The first visit ended at 23:41 on the 26th in New York, 04:41 on the
    # 27th in UTC: Matomo's serverDate is the UTC date, serverTimePretty the
    # site's time.  The module once joined the two (a day off).
    my $late = $visits->[0];
    is("$late->{serverDate} $late->{serverTimePretty}", '2026-11-27 23:41:14',
       'visitor_log: (the recording: serverDate in UTC beside the site\'s local time)');
    is($t->{rows}[0][1], '2026-11-27T04:41:14Z', 'visitor_log: that visit\'s last action, 04:41:14 UTC');
    is_deeply([ map { scalar @$_ } @{ column($t, 'action_list') } ],
              [ map { my $n = @{ $_->{actionDetails} }; $n > 20 ? 20 : $n } @{$visits}[0 .. 3] ],
              'visitor_log: each visit\'s steps');
    ok($sc->{has_more} && $sc->{next_offset} == 4, 'visitor_log: a fifth visit: has_more, next_offset 4');
    is_deeply($sc->{counters}, { minutes => 2880, visits => $counters->{visits}, actions => $counters->{actions},
                                 visitors => $counters->{visitors}, visits_converted => $counters->{visitsConverted} },
              'visitor_log: counters of 2880 minutes (live-counters.json)');

    ($sc, $err, $seen) = call('matomo_visitor_log', { idSite => 1, date => '2026-11-26', limit => 2, offset => 2, minutes => 2880 });
    is_deeply(column($sc->{visits}, 'id'), nums(map { $_->{idVisit} } @{$visits}[2, 3]),
              'visitor_log: offset 2, limit 2: the third and fourth visits');
    ok($sc->{has_more} && $sc->{next_offset} == 4, '... has_more, next_offset 4');

    my $bare = m4('live-last2-noactions.json');
    ($sc, $err, $seen) = call('matomo_visitor_log', { idSite => 1, date => '2026-11-26', limit => 1, minutes => 2880,
                                                     with_actions => JSON::PP::false });
    @c = reached_m4($seen, 'visitor_log without actions', 'Live.getLastVisitsDetails:data', 'Live.getCounters:data');
    is_deeply([ sort map { $_->{answer} } @c ], [ 'exact', 'exact' ], '... both recorded answers, exactly');
    is_deeply(column($sc->{visits}, 'id'), nums($bare->[0]{idVisit}), 'visitor_log without actions: the latest visit');
    ok(!grep({ $_ eq 'action_list' } @{ $sc->{visits}{columns} }), '... without its steps');
    ok($sc->{has_more}, '... and more (live-last2-noactions.json holds 2)');
}

# --- matomo_page_performance ------------------------------------------------------
{
    my $slow = m4('pageurls-sorted-slow.json');
    my %field = (hits => 'nb_hits', page_load_s => 'avg_page_load_time', network_s => 'avg_time_network',
                 server_s => 'avg_time_server', transfer_s => 'avg_time_transfer',
                 dom_processing_s => 'avg_time_dom_processing', dom_completion_s => 'avg_time_dom_completion',
                 on_load_s => 'avg_time_on_load');
    my $rows = sub { my $seg = shift; rows_of({ columns => $_[0]{columns}, rows => $seg->{rows} }) };
    for my $case ([ 9, 0 ], [ 4, 5 ]) {
        my ($limit, $offset) = @$case;
        my ($sc, $err, $seen) = call('matomo_page_performance', { idSite => 1, by => 'page', period => 'day',
                                                                  date => '2026-11-26', limit => $limit,
                                                                  $offset ? (offset => $offset) : () });
        ok(!$err, "page_performance by page, limit $limit offset $offset: data") or diag($err);
        reached_m4($seen, "page_performance by page ($limit/$offset)", 'Actions.getPageUrls:data');
        my $seg = $sc->{segments}[0] // {};
        my $got = $rows->($seg, $sc);
        my @want = @{$slow}[$offset .. $offset + $limit - 1];
        is_deeply([ map { $_->{label} } @$got ], [ map { $_->{label} } @want ],
                  "... the slowest pages from row " . ($offset + 1) . ' (pageurls-sorted-slow.json)');
        is_deeply([ map { $_->{url} } @$got ], [ map { $_->{url} } @want ], '... their URLs');
        for my $col (sort keys %field) {
            close_to([ map { $_->{$col} } @$got ], [ map { 0 + sprintf('%.3f', $_->{ $field{$col} }) } @want ],
                     "... $col from $field{$col}");
        }
        ok($seg->{has_more} && $seg->{next_offset} == $offset + $limit, '... has_more, next_offset');
    }

    # The site's timings (PagePerformance.get as a processed report): the
    # set has the plain PagePerformance.get only.
    my ($sc, $err, $seen) = call('matomo_page_performance', { idSite => 1, period => 'day', date => '2026-11-26' });
    like($err // '', qr/^fake Matomo 4\.16\.1: no recorded answer for API\.getProcessedReport with idSite=1, period=day, date=2026-11-26, apiModule=PagePerformance, apiAction=get/,
         'page_performance of the site: the 4.16.1 set lacks the processed PagePerformance.get (Matomo\'s error passed on)');
    reached_m4($seen, 'page_performance of the site', 'API.getProcessedReport:error');
    is(m4_params('pageperf-day.json')->{method}, 'PagePerformance.get', '... (it holds the plain PagePerformance.get)');
}

# --- matomo_annotations -----------------------------------------------------------
{
    my $rec = m4('annotations-all.json');
    my @notes = grep { ref $_ eq 'HASH' } map { ref $_ eq 'ARRAY' ? @$_ : $_ } @$rec;    # [[ {note} ]]
    my ($sc, $err, $seen) = call('matomo_annotations', { idSite => 1, period => 'month', date => '2026-11-26' });
    ok(!$err, 'annotations: data') or diag($err);
    reached_m4($seen, 'annotations', 'Annotations.getAll:data');
    is_deeply([ map { [ $_->{date}, $_->{note}, $_->{starred} ? 1 : 0 ] } @{ rows_of($sc->{annotations}) } ],
              [ map { [ $_->{date}, $_->{note}, $_->{starred} ? 1 : 0 ] } @notes ],
              'annotations: November\'s (annotations-all.json)');
    is($sc->{total}, scalar @notes, 'annotations: total');
    is_deeply([ @{ $sc->{period} }{qw(start end)} ], [ '2026-11-01', '2026-11-30' ], 'annotations: the month');
}

# --- matomo_tracking_health: not in the 4.16.1 recordings ---------------------------
# It compares every page of two periods: API.getProcessedReport of
# Actions.getPageUrls (flat, sorted by nb_hits, 5000 rows) for the period
# and the one before.  The set holds that report for 2026-11-25 only, cut
# at 10 rows of more (its plain Actions.getPageUrls shows 20), and for no
# day before it: the fake has no answer, and says which it lacks.
{
    my @processed = grep { $_->[1]{method} eq 'API.getProcessedReport' && ($_->[1]{apiAction} // '') eq 'getPageUrls' }
                    map { [ $_, m4_params($_) ] } map { s{.*/}{}r } glob("$M4DIR/*.json");
    is_deeply([ map { "$_->[1]{period} $_->[1]{date}" } @processed ], [ 'day 2026-11-25' ],
              'tracking_health: the set\'s only processed page list is of 2026-11-25');
    my $cut = $processed[0] ? m4($processed[0][0]) : { reportData => [] };
    is(scalar @{ $cut->{reportData} }, $processed[0] ? $processed[0][1]{filter_limit} : -1,
       '... and it is cut at its filter_limit (more pages existed: pageurls-flat.json has ' .
       scalar(@{ m4('pageurls-flat.json') }) . ')');
    my $spec = JSON::PP->new->decode(do {
        open my $fh, '<', "$FindBin::Bin/tools/samples-4.16.1.json" or die $!; local $/; <$fh>
    })->{_not_recorded}{matomo_tracking_health};
    my ($sc, $err, $seen) = call('matomo_tracking_health', $spec->{arguments});
    like($err // '', qr/^\Q$spec->{error}\E/,
         'tracking_health 2026-11-25: the fake\'s "no recorded answer" for the page list, passed on as Matomo\'s error');
    like($err // '', qr/filter_sort_column=nb_hits/, '... (sorted by nb_hits: the cut recording cannot serve it)');
    reached_m4($seen, 'tracking_health', 'API.getProcessedReport:error', 'API.getProcessedReport:error',
               'Live.getLastVisitsDetails:error');
    my @dates = map { /date=([\d-]+)/ ? $1 : () } grep { /getProcessedReport/ }
                map { my $u = $_; $u =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $u }
                map { ref $_->{params}{urls} eq 'HASH' ? values %{ $_->{params}{urls} } : () } @$seen;
    is_deeply([ sort @dates ], [ '2026-11-24', '2026-11-25' ], '... it needs 2026-11-25 and the day before, whole');
}

# --- Matomo 4's HTTP-200 errors: the same tool errors as on 5.1.2 -------------------
# The same mistake on /mcp (Matomo 5.1.2) and /mcp-m4 (4.16.1): the same
# tool error, although Matomo 4.16.1 answers each with HTTP 200.
{
    my $samples = JSON::PP->new->decode(do {
        open my $fh, '<', "$FindBin::Bin/tools/samples-4.16.1.json" or die $!; local $/; <$fh>
    });
    my %on_site1;
    for my $name (sort keys %tool) {
        my ($args) = grep { ($_->{idSite} // 0) == 1 } @{ $samples->{$name} // [] };
        $args //= ($samples->{_not_recorded}{$name} // {})->{arguments};
        $on_site1{$name} = $args if $args && exists $tool{$name}{inputSchema}{properties}{idSite};
    }
    is(scalar keys %on_site1, 10, 'ten tools take idSite, each with a site-1 question');

    my $both = sub {
        my ($name, $args, $what, %o) = @_;
        my (undef, $e5, $s5) = call($name, $args, %o, path => '/mcp');
        my (undef, $e4, $s4) = call($name, $args, %o);
        ok(defined $e4 && defined $e5 && $e4 eq $e5, "$name, $what: the same tool error on 4.16.1 as on 5.1.2")
            or diag("5.1.2: " . ($e5 // 'data') . "\n4.16.1: " . ($e4 // 'data'));
        return ($e4, $s4, $s5);
    };
    for my $name (sort keys %on_site1) {
        my ($err, $s4, $s5) = $both->($name, $on_site1{$name}, 'the viewer on site 1', token => $VIEWER);
        like($err // '', qr/^Access denied: the token has no view access/, "$name, the viewer on site 1: Access denied");
        my @c4 = matomo_calls($s4);
        ok(@c4 && !grep({ $_->{status} != 200 } @c4) && grep({ $_->{answer} eq 'error' } @c4),
           "... Matomo 4.16.1 refused with HTTP 200");
        ok(!grep({ ($_->{path} // '') ne '/matomo4/index.php' } @$s4), '... (the 4.16.1 mount)');
        ok(grep({ $_->{status} == 401 } matomo_calls($s5)), '... Matomo 5.1.2 with 401');

        ($err) = $both->($name, { %{ $on_site1{$name} }, idSite => 999 }, 'site 999');
        like($err // '', qr/website id was set to '999'/, "$name, site 999: Matomo's unknown-site error");
    }
    for my $name (sort grep { exists $tool{$_}{inputSchema}{properties}{segment} } keys %on_site1) {
        my ($err, $s4) = $both->($name, { %{ $on_site1{$name} }, segment => 'nosuchdim==x' }, 'an unknown segment');
        like($err // '', qr/Segment 'nosuchdim' is not a supported segment/, "$name, unknown segment: Matomo's error");
        ok(!grep({ $_->{status} != 200 } matomo_calls($s4)), '... (HTTP 200 on 4.16.1)');
    }
    # A date that is none: refused by the module before any call, or by
    # Matomo (err-bad-date.json, HTTP 200 on 4.16.1).
    my $bad_date = m4('err-bad-date.json')->{message};
    for my $name (sort grep { exists $tool{$_}{inputSchema}{properties}{date} && exists $on_site1{$_} } keys %tool) {
        my ($err, $s4, $s5) = $both->($name, { %{ $on_site1{$name} }, date => '2026-13-45' }, 'the 45th of the 13th month');
        if (($err // '') =~ /^date: /) {
            is(scalar(@$s4) + scalar(@$s5), 0, "$name, a date that is none: refused before any Matomo");
        } else {
            like($err // '', qr/\Q$bad_date\E/, "$name, a date that is none: Matomo's own error (err-bad-date.json)");
            ok(@$s4 && !grep({ $_->{status} != 200 } matomo_calls($s4)), '... (HTTP 200 on 4.16.1)');
        }
    }
}

# --- every tool got data from the 4.16.1 recordings, but tracking_health ------------
is_deeply([ sort grep { !$answered{$_} } keys %tool ], [ 'matomo_tracking_health' ],
          'every tool but matomo_tracking_health answered with data from Matomo 4.16.1');

# --- every result against its tool's outputSchema (ajv) -----------------------
{
    my $node = node20();
    ok(node_major($node) >= 20, 'node >= 20 on PATH') or diag('run `make deps`');
    ok(-f top_dir() . '/node_modules/ajv/package.json', 'ajv installed in node_modules')
        or diag('run `make deps` (npm ci)');
    my $tmp = File::Temp->new(SUFFIX => '.json');
    print $tmp JSON::PP->new->utf8->encode([ map { { tool => $_->[0], schema => $tool{ $_->[0] }{outputSchema},
                                                     data => $_->[1] } } @checked ]);
    close $tmp;
    my ($status, @out) = defined $node
        ? run_tool(timeout => 60, cmd => [ $node, '-e', <<'JS', $tmp->filename ])
const Ajv = require('ajv');
const cases = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
const ajv = new Ajv({ strict: false, allErrors: true });
let bad = 0;
for (const c of cases) {
  const ok = ajv.validate(c.schema, c.data);
  if (!ok) { bad++; console.log(c.tool + ': ' + ajv.errorsText()); }
}
console.log('validated ' + cases.length + ', invalid ' + bad);
process.exit(bad ? 1 : 0);
JS
        : (-1, 'node: not found');
    is($status, 0, 'every structuredContent (' . scalar(@checked) . ') conforms to its tool\'s outputSchema (ajv)')
        or diag(join "\n", @out);
    my ($validated) = map { /^validated (\d+), invalid \d+$/ ? $1 : () } @out;
    is($validated, scalar @checked, 'ajv validated every collected result');
}

done_testing();
