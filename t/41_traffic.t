# The traffic tools against the fake Matomo: matomo_traffic_summary (with
# compare_to), matomo_sites_overview and matomo_get_trend.  Expected numbers
# come from the recorded answers of the real Matomo (t/matomo/recorded/),
# never from the module; each call must be one backend round trip (one line
# of the fake's request log, a bulk request being one line); every argument
# error is a tool error naming the argument, with no backend call; the
# view-only token sees site 2 only; every result conforms to the tool's own
# outputSchema (ajv).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use File::Temp ();
use JSON::PP ();
use McpTest;
use MatomoMcp::Clients qw(node20 node_major run_tool top_dir);

my $JSON     = JSON::PP->new->canonical;
my $VIEWER   = token('viewer');

# --- helpers ----------------------------------------------------------------

# The query strings of a logged request: the bulk's urls, or its own.
sub sub_requests {
    my $entry = shift;
    my $urls = $entry->{params}{urls};
    my @q = ref $urls eq 'HASH' ? map({ $urls->{$_} } sort { $a <=> $b } keys %$urls)
          : ref $urls eq 'ARRAY' ? @$urls
          : join('&', map { "$_=$entry->{params}{$_}" } sort keys %{ $entry->{params} });
    s/%([0-9A-Fa-f]{2})/chr hex $1/ge for @q;    # values are form-encoded
    return @q;
}

my @checked;   # [tool, structuredContent] for the schema check at the end

# call(tool, args, token): (structuredContent or undef, error text or undef,
# the fake's log entries of this call).
sub call {
    my ($tool, $args, $tok) = @_;
    my $mark = fake_log_mark();
    my $res = rpc('/mcp', 7, 'tools/call', { name => $tool, arguments => $args },
                  $tok ? (Authorization => "Bearer $tok") : ());
    my $body = eval { JSON::PP->new->utf8->decode($res->content) };   # UTF-8
    my @seen = tool_requests_since($mark);
    my $r = $body && $body->{result} or return (undef, 'no result', \@seen);
    if ($r->{isError}) {
        return (undef, $r->{content}[0]{text} // '', \@seen);
    }
    push @checked, [$tool, $r->{structuredContent}];
    is_deeply(JSON::PP->new->decode($r->{content}[0]{text}), $r->{structuredContent},
              "$tool: the text block holds the same data");
    return ($r->{structuredContent}, undef, \@seen);
}

# One backend round trip: one request line; a bulk with n sub-requests.
sub one_trip {
    my ($seen, $what, $subs) = @_;
    is(scalar @$seen, 1, "$what: one backend round trip");
    if (defined $subs) {
        is(scalar(@{ $seen->[0]{bulk} // [] }), $subs,
           "$what: ... one bulk request of $subs calls");
    }
}

sub pct { my ($a, $b) = @_; return 0 + sprintf('%.1f', ($a - $b) / $b * 100) }
sub num { my $v = shift; return defined $v ? 0 + $v : undef }

# A metrics object from recorded VisitsSummary.get and Goals.get answers.
my @VISIT = qw(nb_visits nb_uniq_visitors nb_actions nb_actions_per_visit
               bounce_rate avg_time_on_site);
my @GOAL  = qw(nb_conversions conversion_rate revenue);
sub expected_metrics {
    my ($v, $g) = @_;
    my %m;
    for my $k (@VISIT) { $m{$k} = num($v->{$k}) if exists $v->{$k} }
    for my $k (@GOAL)  { $m{$k} = num($g->{$k}) if $g && exists $g->{$k} }
    return \%m;
}

sub numeric { my $m = shift; return { map { $_ => num($m->{$_}) } keys %$m } }

# --- tools/list ---------------------------------------------------------------
{
    my ($res, $body) = rpc_body('/mcp', 1, 'tools/list', {});
    my @names = map { $_->{name} } @{ $body->{result}{tools} };
    my %at;
    @at{@names} = 0 .. $#names;
    ok(defined $at{$_}, "tools/list has $_")
        for qw(matomo_sites_overview matomo_traffic_summary matomo_get_trend);
    ok($at{matomo_list_sites} < $at{matomo_sites_overview}
       && $at{matomo_sites_overview} < $at{matomo_traffic_summary}
       && $at{matomo_get_report} < $at{matomo_get_trend},
       'in the order of the issue\'s table');
}

# --- matomo_traffic_summary ---------------------------------------------------

my $week     = recorded('visits-week.json');
my $prevweek = recorded('visits-prevweek.json');
my $gweek    = recorded('full/m-Goals.get-week-2026-11-25.json');
my $gprev    = recorded('full/m-Goals.get-week-2026-11-18.json');
my $apiweek  = recorded('api-get-week.json');
# Matomo's own comparison of the two weeks (compare=1): its "change_from".
my $matomo_cmp = recorded('visits-compare-week.json')->{comparisons}[1];

# "Explain the change in visits this week compared with last week."
for my $date ('2026-11-25', 'today') {
    my ($sc, $err, $seen) = call('matomo_traffic_summary',
        { idSite => 1, period => 'week', date => $date,
          compare_to => 'previous_period' });
    ok(!$err, "summary week $date vs previous_period: answered")
        or diag($err);
    one_trip($seen, "summary week $date vs previous week",
             $date eq 'today' ? 3 : 4);
    is_deeply([@{ $sc->{period} }{qw(start end)}], ['2026-11-23', '2026-11-29'],
              "week $date: resolved to Monday 23 - Sunday 29 November");
    is_deeply([@{ $sc->{compare}{period} }{qw(start end)}],
              ['2026-11-16', '2026-11-22'], "... compared with the week before");
    is_deeply(numeric($sc->{metrics}), expected_metrics($week, $gweek),
              "... this week's figures are Matomo's (visits-week.json, Goals.get)");
    is($sc->{metrics}{nb_visits}, $apiweek->{nb_visits},
       '... the visits API.get gives for the week');
    is_deeply(numeric($sc->{compare}{metrics}), expected_metrics($prevweek, $gprev),
              "... last week's are Matomo's (visits-prevweek.json)");
    my $ch = $sc->{compare}{change};
    for my $k (@VISIT, @GOAL) {
        my ($a, $b) = ($sc->{metrics}{$k}, $sc->{compare}{metrics}{$k});
        ok(abs($ch->{$k}{abs} - ($a - $b)) < 1e-9, "... change of $k: abs");
        is($ch->{$k}{pct}, pct($a, $b), "... change of $k: pct");
    }
    for my $k (@VISIT) {
        (my $from = $matomo_cmp->{"${k}_change_from"}) =~ s/%$//;
        is($ch->{$k}{pct}, 0 + $from,
           "... $k: the same percentage as Matomo's own comparison ($from%)");
    }
    if ($date eq 'today') {
        my ($today, $window) = (sub_requests($seen->[0]))[0, 1];
        like($window, qr/period=week&date=last2\b/,
             '... a relative date: both weeks from one window (date=last2)');
    }
    else {
        my @q = sub_requests($seen->[0]);
        like($q[2], qr/VisitsSummary\.get.*period=week&date=2026-11-16/,
             '... the previous week in the same bulk request');
    }
}

# Yesterday against the day before, from one window of days.
{
    my $v = recorded('full/e-VisitsSummary.get-day-last14.json');
    my $g = recorded('full/e-Goals.get-day-last14.json');
    my ($sc, $err, $seen) = call('matomo_traffic_summary',
        { idSite => 1, period => 'day', date => 'yesterday',
          compare_to => 'previous_period' });
    ok(!$err, 'summary yesterday vs the day before') or diag($err);
    one_trip($seen, 'summary yesterday vs previous_period', 3);
    is($sc->{period}{start}, '2026-11-25', '... yesterday is 2026-11-25');
    is($sc->{compare}{period}{start}, '2026-11-24', '... compared with the 24th');
    is_deeply(numeric($sc->{metrics}),
              expected_metrics($v->{'2026-11-25'}, $g->{'2026-11-25'}),
              '... figures of the 25th');
    is_deeply(numeric($sc->{compare}{metrics}),
              expected_metrics($v->{'2026-11-24'}, $g->{'2026-11-24'}),
              '... figures of the 24th');
}

# A change from zero: November against an October with no data.  The
# change in percent is undefined, so null, and the note names the metrics.
{
    my $oct = recorded('full/m-VisitsSummary.get-month-2026-10-26.json');
    my ($sc, $err) = call('matomo_traffic_summary',
        { idSite => 1, period => 'month', date => '2026-11-26',
          compare_to => 'previous_period' });
    ok(!$err, 'summary November vs October (no data)') or diag($err);
    my $ch = $sc->{compare}{change};
    my @zero = grep { exists $ch->{$_} && ($sc->{compare}{metrics}{$_} // 1) == 0 } sort keys %$ch;
    ok(exists $oct->{nb_visits} && $oct->{nb_visits} == 0 && grep({ $_ eq 'nb_visits' } @zero),
       '... October had no visits (m-VisitsSummary.get-month-2026-10-26.json)');
    for my $k (@zero) {
        ok(exists $ch->{$k}{pct} && !defined $ch->{$k}{pct}, "... change of $k from 0: pct null");
        is($ch->{$k}{abs}, $sc->{metrics}{$k}, "... abs is the whole figure");
    }
    like($sc->{note} // '', qr/null for [^:]*\bnb_visits\b.*previous period had no data.*undefined/,
         '... and the note says the previous period had no data');
}

# compare_to a date: the same kind of period holding it.
{
    my ($sc, $err, $seen) = call('matomo_traffic_summary',
        { idSite => 1, period => 'week', date => 'today',
          compare_to => '2026-11-18' });
    ok(!$err, 'summary this week vs the week of 2026-11-18') or diag($err);
    one_trip($seen, 'summary compare_to a date', 5);
    is_deeply([@{ $sc->{compare}{period} }{qw(start end)}],
              ['2026-11-16', '2026-11-22'], '... that week, Monday to Sunday');
    is_deeply(numeric($sc->{compare}{metrics}), expected_metrics($prevweek, $gprev),
              '... with its figures');
    is($sc->{compare}{change}{nb_visits}{abs},
       $week->{nb_visits} - $prevweek->{nb_visits}, '... and the change');
}

# Comparison periods computed from the calendar: what the bulk asks for.
for my $case (
    [ { period => 'week',  date => '2026-11-25', compare_to => 'previous_year' },
      'period=week&date=2025-11-24', '52 weeks earlier (same weekdays)' ],
    [ { period => 'month', date => '2026-11-26', compare_to => 'previous_year' },
      'period=month&date=2025-11-01', 'the same month a year earlier' ],
    [ { period => 'month', date => '2026-03-31', compare_to => 'previous_period' },
      'period=month&date=2026-02-01', 'the month before' ],
    [ { period => 'day', date => '2024-02-29', compare_to => 'previous_year' },
      'period=day&date=2023-02-28', '29 February a year earlier is the 28th' ],
    [ { period => 'year', date => '2026-11-26', compare_to => 'previous_period' },
      'period=year&date=2025-01-01', 'the year before' ],
    [ { period => 'range', date => '2026-11-12,2026-11-26',
        compare_to => 'previous_period' },
      'period=range&date=2026-10-28,2026-11-11', 'the 15 days before' ],
    [ { period => 'range', date => '2026-11-12,2026-11-26',
        compare_to => 'previous_year' },
      'period=range&date=2025-11-12,2025-11-26', 'the same dates a year earlier' ],
    [ { period => 'range', date => '2026-11-12,2026-11-26',
        compare_to => '2026-10-01' },
      'period=range&date=2026-10-01,2026-10-15', 'as many days from that date' ],
    [ { period => 'week', date => 'today', compare_to => 'previous_year' },
      'period=week&date=last53', 'relative: one window reaching 52 weeks back' ],
    [ { period => 'year', date => 'last5', compare_to => 'previous_period' },
      'period=year&date=last10', 'the largest window Matomo gives: 10 years' ],
) {
    my ($args, $want, $what) = @$case;
    my (undef, undef, $seen) = call('matomo_traffic_summary',
                                    { idSite => 1, %$args });
    one_trip($seen, "compare_to $args->{compare_to} of $args->{period} $args->{date}");
    my @q = sub_requests($seen->[0] // {});
    ok((grep { /method=VisitsSummary\.get&.*\Q$want\E(&|$)/ } @q)
       && (grep { /method=Goals\.get&.*\Q$want\E(&|$)/ } @q),
       "... asks for $want: $what") or diag(join "\n", @q);
}
{
    my (undef, $err) = call('matomo_traffic_summary',
        { idSite => 1, period => 'week', date => '2026-11-25',
          compare_to => 'previous_year' });
    like($err // '', qr/^compare_to: .*2025-11-24 to 2025-11-30/,
         'no figures for the comparison: an error naming compare_to and its dates');
}

# lastN: one row per period.
{
    my $v = recorded('full/e-VisitsSummary.get-week-last4.json');
    my $g = recorded('full/e-Goals.get-week-last4.json');
    my ($sc, $err, $seen) = call('matomo_traffic_summary',
        { idSite => 1, period => 'week', date => 'last4' });
    ok(!$err, 'summary of the last 4 weeks') or diag($err);
    one_trip($seen, 'summary last4 weeks', 3);
    is_deeply($sc->{columns}, ['date', @VISIT, @GOAL], '... a table: date, metrics');
    is_deeply([map { $_->[0] } @{ $sc->{rows} }], [sort keys %$v],
              '... one row per week, oldest first');
    my @want = map {
        my $k = $_;
        [ $k, map { ref $v->{$k} eq 'HASH' ? num($v->{$k}{$_}) : 0 } @VISIT ]
    } sort keys %$v;
    is_deeply([map { [ $_->[0], map { num($_) } @$_[1 .. @VISIT] ] } @{ $sc->{rows} }],
              \@want, '... visit figures per week as recorded (an empty week: 0)');
    is_deeply([map { num($_->[-1]) } @{ $sc->{rows} }],
              [map { ref $g->{$_} eq 'HASH' ? num($g->{$_}{revenue}) : 0 } sort keys %$v],
              '... revenue per week as recorded');
    is_deeply([@{ $sc->{period} }{qw(start end)}], ['2026-11-02', '2026-11-29'],
              '... period covers the four weeks');
    ok(!exists $sc->{metrics}, '... no single-period metrics');
}
{
    my $v = recorded('full/e-VisitsSummary.get-day-last14.json');
    my ($sc, $err, $seen) = call('matomo_traffic_summary',
        { idSite => 1, period => 'day', date => 'last3',
          compare_to => 'previous_period' });
    ok(!$err, 'summary of the last 3 days vs the 3 before') or diag($err);
    one_trip($seen, 'summary last3 days vs previous_period', 3);
    is_deeply([map { $_->[0] } @{ $sc->{rows} }],
              ['2026-11-24', '2026-11-25', '2026-11-26'], '... rows of the last 3 days');
    is_deeply([map { [ $_->[0], num($_->[1]) ] } @{ $sc->{compare}{rows} }],
              [map { [ $_, $v->{$_}{nb_visits} ] } qw(2026-11-21 2026-11-22 2026-11-23)],
              '... compare.rows: the 3 days before, with their visits');
}

# A segment; Goals.get unavailable: the visit figures with a note.
{
    my $seg = recorded('visits-segment-smartphone.json');
    my ($sc, $err, $seen) = call('matomo_traffic_summary',
        { idSite => 1, period => 'range', date => '2026-11-12,2026-11-26',
          segment => 'deviceType==smartphone' });
    ok(!$err, 'summary of a range for smartphones') or diag($err);
    one_trip($seen, 'summary with a segment', 2);
    ok(!grep({ !/segment=deviceType(==|%3D%3D)smartphone/ } sub_requests($seen->[0])),
       '... every call carries the segment');
    is_deeply(numeric($sc->{metrics}), expected_metrics($seg),
              '... figures as recorded (no unique visitors for a range)');
    like($sc->{note} // '', qr/conversions and revenue unavailable/,
         '... Goals.get not answered: said in a note, not hidden');
}

# The view-only token: site 2 yes, site 1 no.
{
    my $site2 = recorded('full/m-site2-VisitsSummary.get-day-2026-11-25.json');
    my ($sc, $err) = call('matomo_traffic_summary',
        { idSite => 2, period => 'day', date => '2026-11-25' }, $VIEWER);
    ok(!$err, 'view-only token: summary of site 2') or diag($err);
    is($sc->{metrics}{nb_visits}, $site2->{nb_visits}, '... its visits');
    ($sc, $err) = call('matomo_traffic_summary',
        { idSite => 1, period => 'week', date => '2026-11-25',
          compare_to => 'previous_period' }, $VIEWER);
    ok(!$sc, 'view-only token: no summary of site 1');
    like($err // '', qr/access/i, '... an access error');
}

# Argument errors: named, and Matomo never called.
for my $case (
    [ {}, 'idSite' ],
    [ { idSite => 0 }, 'idSite' ],
    [ { idSite => 1, period => 'fortnight' }, 'period' ],
    [ { idSite => 1, date => 'tomorrow' }, 'date' ],
    [ { idSite => 1, date => '2026-02-30' }, 'date' ],
    [ { idSite => 1, period => 'range', date => '2026-11-25' }, 'date' ],
    [ { idSite => 1, period => 'day', date => '2026-11-01,2026-11-25' }, 'date' ],
    [ { idSite => 1, period => 'range', date => '2026-11-25,2026-11-01' }, 'date' ],
    [ { idSite => 1, period => 'week', date => 'last0' }, 'date' ],
    [ { idSite => 1, period => 'range', date => 'previous0' }, 'date' ],
    [ { idSite => 1, segment => 'deviceType' }, 'segment' ],
    [ { idSite => 1, compare_to => 'last_week' }, 'compare_to' ],
    [ { idSite => 1, compare_to => '2026-02-30' }, 'compare_to' ],
    [ { idSite => 1, period => 'range', date => 'last7',
        compare_to => 'previous_period' }, 'compare_to' ],
    [ { idSite => 1, token_auth => 'x' }, 'token_auth' ],
) {
    my ($args, $name) = @$case;
    my ($sc, $err, $seen) = call('matomo_traffic_summary', $args);
    like($err // '', qr/^\Q$name\E[:\[]/,
         'summary ' . $JSON->encode($args) . ": error names $name");
    is(scalar @$seen, 0, '... and Matomo is not called');
}

# Matomo cuts lastN to 1825 days, 520 weeks, 120 months or 10 years without
# a word (core/Period/Range.php, getMaxN; the fake does too): more is
# refused, naming the cap, before any call.  A comparison's window counts:
# Matomo would cut its oldest periods, the comparison's.
for my $case (
    [ 'matomo_traffic_summary',
      { period => 'year', date => 'last6', compare_to => 'previous_period' },
      qr/^date: last6 with compare_to previous_period takes 12 years from Matomo in one call, and it gives at most 10; ask for last5 or fewer/ ],
    [ 'matomo_traffic_summary',
      { period => 'year', date => 'previous5', compare_to => 'previous_period' },
      qr/^date: previous5 with compare_to previous_period takes 11 years .* at most 10; ask for previous4 or fewer/ ],
    [ 'matomo_traffic_summary',
      { period => 'month', date => 'last110', compare_to => 'previous_year' },
      qr/^date: last110 with compare_to previous_year takes 122 months .* at most 120; ask for last108 or fewer/ ],
    [ 'matomo_traffic_summary', { period => 'year', date => 'last11' },
      qr/^date: with period year Matomo gives at most 10 years \(it would cut 11 to 10 without saying so\)/ ],
    [ 'matomo_traffic_summary', { period => 'week', date => 'previous521' },
      qr/^date: with period week Matomo gives at most 520 weeks/ ],
    [ 'matomo_get_trend', { period => 'year', last => 365 },
      qr/^last: with period year Matomo gives at most 10 years \(it would cut 365 to 10 without saying so\); ask for 10 or fewer/ ],
    [ 'matomo_get_trend', { period => 'month', last => 121 },
      qr/^last: with period month Matomo gives at most 120 months/ ],
) {
    my ($tool, $args, $re) = @$case;
    my ($sc, $err, $seen) = call($tool, { idSite => 1, %$args });
    like($err // '', $re, "$tool " . $JSON->encode($args) . ': refused, naming Matomo\'s cap');
    ok(!$sc, '... no result states a span Matomo would not cover');
    is(scalar @$seen, 0, '... and Matomo is not called');
}

# --- matomo_sites_overview ----------------------------------------------------

# A change from a previous figure of 0 is undefined: null, whatever
# Matomo's evolution says (it says 100% for 0 -> 390).
sub change_from {
    my ($s, $evolution, $previous) = @_;
    return $s->{$previous} == 0 ? undef : 0 + sprintf('%.1f', $s->{$evolution} * 100);
}
sub overview_rows {
    my ($list, $by) = @_;
    my @sorted = sort { $b->{$by} <=> $a->{$by} } @$list;
    return [ map {
        my $s = $_;
        [ $s->{idsite}, $s->{label},
          map({ num($s->{$_}) } qw(nb_visits previous_nb_visits)),
          change_from($s, 'visits_evolution', 'previous_nb_visits'),
          map({ num($s->{$_}) } qw(nb_pageviews previous_Actions_nb_pageviews)),
          change_from($s, 'pageviews_evolution', 'previous_Actions_nb_pageviews'),
          map({ num($s->{$_}) } qw(revenue previous_Goal_revenue)),
          change_from($s, 'revenue_evolution', 'previous_Goal_revenue'),
          $s->{currencySymbol} ]
    } @sorted ];
}
sub numeric_rows {
    my $rows = shift;
    return [ map { [ map { defined && /^-?[\d.]+$/ ? 0 + $_ : $_ } @$_ ] } @$rows ];
}

# "Which site had the most traffic last month?"
for my $case (['month', '2026-10-26', '2026-10-01', '2026-10-31'],
              ['month', '2026-11-26', '2026-11-01', '2026-11-30'],
              ['week',  '2026-11-25', '2026-11-23', '2026-11-29']) {
    my ($period, $date, $start, $end) = @$case;
    my $all = recorded("full/m-all-MultiSites.getAll-$period-$date.json");
    my ($sc, $err, $seen) = call('matomo_sites_overview',
                                 { period => $period, date => $date });
    ok(!$err, "overview $period $date") or diag($err);
    one_trip($seen, "overview $period $date");
    is($seen->[0]{method}, 'MultiSites.getAll', '... MultiSites.getAll');
    is_deeply([@{ $seen->[0]{params} }{qw(enhanced filter_sort_column filter_sort_order filter_limit)}],
              [1, 'nb_visits', 'desc', 21],
              '... enhanced, sorted by visits by Matomo, 20+1 rows asked');
    is_deeply([@{ $sc->{period} }{qw(start end)}], [$start, $end], "... $start to $end");
    is_deeply($sc->{sites}{columns},
              [qw(idSite name visits visits_previous visits_change_pct pageviews
                  pageviews_previous pageviews_change_pct revenue revenue_previous
                  revenue_change_pct currency)], '... columns');
    my @got = map { $_->[0] } @{ $sc->{sites}{rows} };
    my ($most) = sort { $b <=> $a } map { $_->{nb_visits} } @$all;
    is($sc->{sites}{rows}[0][2], $most, '... the site with the most visits first');
    is_deeply([map { $_->[2] } @{ $sc->{sites}{rows} }],
              [sort { $b <=> $a } map { $_->[2] } @{ $sc->{sites}{rows} }],
              '... then fewer and fewer');
    is_deeply([sort { $a <=> $b } @got], [1, 2, 3], '... every site');
    my %by_id = map { $_->[0] => $_ } @{ numeric_rows($sc->{sites}{rows}) };
    is_deeply(\%by_id, { map { $_->[0] => $_ } @{ overview_rows($all, 'nb_visits') } },
              '... figures, previous figures and changes as Matomo recorded them');
    is($sc->{has_more}, JSON::PP::false, '... nothing more');
    my @from_zero = grep { $_->{previous_nb_visits} == 0 } @$all;
    if (grep { $_->{previous_nb_visits} == 0 && $_->{nb_visits} > 0 } @$all) {
        # The issue's case: November after an October with no data, where
        # Matomo says visits_evolution 1 (100%).
        like($sc->{note} // '', qr/null for visits_change_pct.*previous period had no data.*undefined/,
             '... a change from a previous 0 is null, and the note says why');
    }
    if (!@from_zero && !grep { $_->{previous_Actions_nb_pageviews} == 0
                               || $_->{previous_Goal_revenue} == 0 } @$all) {
        ok(!exists $sc->{note}, '... every previous figure non-zero: no note');
    }
    my $ratio = $all->[0]{ratio};
    if ($ratio < 1) {
        is($sc->{elapsed_share}, $ratio,
           "... elapsed_share $ratio: the previous period scaled as Matomo does");
    }
    else {
        ok(!exists $sc->{elapsed_share}, '... a finished period: no elapsed_share');
    }
}
{
    my $all = recorded('full/m-all-MultiSites.getAll-week-2026-11-25.json');
    my ($sc, $err, $seen) = call('matomo_sites_overview',
        { period => 'week', date => '2026-11-25', sort_by => 'revenue' });
    is_deeply(numeric_rows($sc->{sites}{rows}), overview_rows($all, 'revenue'),
              'overview sorted by revenue: highest first');
    is($seen->[0]{params}{filter_sort_column}, 'revenue', '... sorted by Matomo');
    ($sc, $err, $seen) = call('matomo_sites_overview',
        { period => 'week', date => '2026-11-25', sort_by => 'pageviews',
          limit => 1 });
    is_deeply([map { $_->[0] } @{ $sc->{sites}{rows} }], [1], 'limit 1: one site');
    ok($sc->{has_more} && $sc->{next_offset} == 1, '... has_more, next_offset 1');
    is($seen->[0]{params}{filter_limit}, 2, '... Matomo asked for 2 rows');
    ($sc) = call('matomo_sites_overview',
        { period => 'week', date => '2026-11-25', limit => 2, offset => 2 });
    is_deeply([map { $_->[0] } @{ $sc->{sites}{rows} }], [3], 'offset 2: the last site');
    ok(!$sc->{has_more} && !exists $sc->{next_offset}, '... no more');
}
{
    my $v = recorded('full/v-all-MultiSites.getAll-month-2026-11-26.json');
    my ($sc, $err, $seen) = call('matomo_sites_overview',
        { period => 'month', date => '2026-11-26' }, $VIEWER);
    ok(!$err, 'view-only token: overview') or diag($err);
    is_deeply([map { $_->[0] } @{ $sc->{sites}{rows} }], [2],
              '... only site 2');
    is_deeply(numeric_rows($sc->{sites}{rows}), overview_rows($v, 'nb_visits'),
              '... with its figures');
    is($seen->[0]{who}, 'viewer', '... asked with the view-only token');
}
{
    my $all = recorded('full/m-all-MultiSites.getAll-day-2026-11-25.json');
    my ($sc, $err, $seen) = call('matomo_sites_overview',
                                 { period => 'day', date => 'yesterday' });
    ok(!$err, 'overview yesterday') or diag($err);
    is($seen->[0]{params}{date}, 'yesterday', '... Matomo resolves yesterday');
    is_deeply(numeric_rows($sc->{sites}{rows}), overview_rows($all, 'nb_visits'),
              '... the 25th\'s figures');
    is_deeply($sc->{period}, { period => 'day', date => 'yesterday' },
              '... period says what was asked');
}
for my $case (
    [ { sort_by => 'bounce_rate' }, 'sort_by' ],
    [ { limit => 0 }, 'limit' ],
    [ { limit => 101 }, 'limit' ],
    [ { offset => -1 }, 'offset' ],
    [ { period => 'month', date => 'last3' }, 'date' ],
    [ { period => 'month', date => '2026-10-01,2026-10-31' }, 'date' ],
    [ { period => 'range', date => '2026-10-01' }, 'date' ],
    [ { period => 'range', date => 'previous00' }, 'date' ],
    [ { period => 'range', date => '2026-10-31,2026-10-01' }, 'date' ],
    [ { period => 'day', date => '2026-13-01' }, 'date' ],
    [ { idSite => 1 }, 'idSite' ],
) {
    my ($args, $name) = @$case;
    my ($sc, $err, $seen) = call('matomo_sites_overview', $args);
    like($err // '', qr/^\Q$name\E:/,
         'overview ' . $JSON->encode($args) . ": error names $name");
    is(scalar @$seen, 0, '... and Matomo is not called');
}

# --- matomo_get_trend ---------------------------------------------------------
{
    my $v = recorded('full/e-VisitsSummary.get-day-last14.json');
    my ($sc, $err, $seen) = call('matomo_get_trend', { idSite => 1 });
    ok(!$err, 'trend: defaults') or diag($err);
    one_trip($seen, 'trend defaults', 2);
    is_deeply($sc->{columns}, ['date', 'nb_visits'], '... nb_visits per day');
    is_deeply([map { [ $_->[0], num($_->[1]) ] } @{ $sc->{rows} }],
              [map { [ $_, $v->{$_}{nb_visits} ] } sort keys %$v],
              '... the last 14 days as recorded');
    is_deeply([@{ $sc->{period} }{qw(period date start end)}],
              ['day', 'last14', '2026-11-13', '2026-11-26'], '... period resolved');
}
{
    my $v = recorded('full/e-VisitsSummary.get-day-last14.json');
    my $g = recorded('full/e-Goals.get-day-last14.json');
    my $s = recorded('full/e-PagePerformance.get-day-last14.json');
    my @days = (sort keys %$v)[-7 .. -1];
    my ($sc, $err, $seen) = call('matomo_get_trend',
        { idSite => 1, last => 7,
          metrics => ['nb_visits', 'revenue', 'avg_page_load_time', 'bounce_rate'] });
    ok(!$err, 'trend of 4 metrics over 7 days') or diag($err);
    one_trip($seen, 'trend of metrics from three methods', 4);
    is_deeply([map { (/method=([\w.]+)/)[0] } (sub_requests($seen->[0]))[1 .. 3]],
              ['VisitsSummary.get', 'Goals.get', 'PagePerformance.get'],
              '... each metric from its method');
    like((sub_requests($seen->[0]))[1], qr/showColumns=nb_visits(,|%2C)bounce_rate/,
         '... only the columns asked for');
    is_deeply([map { [ $_->[0], map { num($_) } @$_[1 .. 4] ] } @{ $sc->{rows} }],
              [map { [ $_, num($v->{$_}{nb_visits}), num($g->{$_}{revenue}),
                       num($s->{$_}{avg_page_load_time}), num($v->{$_}{bounce_rate}) ] } @days],
              '... values of the last 7 days as recorded');
}
{
    my $api = recorded('full/e-API.get-week-last4.json');
    my ($sc, $err, $seen) = call('matomo_get_trend',
        { idSite => 1, period => 'week', last => 4,
          metrics => ['nb_pageviews', 'nb_downloads'] });
    ok(!$err, 'trend of API.get metrics over 4 weeks') or diag($err);
    one_trip($seen, 'trend from API.get', 2);
    is_deeply([map { [ $_->[0], num($_->[1]), num($_->[2]) ] } @{ $sc->{rows} }],
              [map { my $w = $api->{$_};
                     [ $_, ref $w eq 'HASH' ? (num($w->{nb_pageviews}), num($w->{nb_downloads}))
                                            : (0, 0) ] } sort keys %$api],
              '... pageviews and downloads per week as recorded');
}
{
    my $v = recorded('full/e-VisitsSummary.get-month-last3.json');
    my $g = recorded('full/e-Goals.get-month-last3.json');
    my ($sc, $err) = call('matomo_get_trend',
        { idSite => 1, period => 'month', last => 3,
          metrics => ['nb_visits', 'conversion_rate'] });
    is_deeply([map { [ $_->[0], num($_->[1]), num($_->[2]) ] } @{ $sc->{rows} }],
              [map { [ $_, ref $v->{$_} eq 'HASH' ? num($v->{$_}{nb_visits}) : 0,
                       ref $g->{$_} eq 'HASH' ? num($g->{$_}{conversion_rate}) : 0 ] }
               sort keys %$v],
              'trend of 3 months: visits and conversion rate as recorded');
}
{
    my $r = recorded('full/r-rowevolution-pageurl-%2Fshipping.json');
    my ($sc, $err, $seen) = call('matomo_get_trend',
        { idSite => 1, report => 'Actions_getPageUrls', label => '/shipping',
          metrics => ['nb_hits', 'exit_rate'] });
    ok(!$err, 'trend of one page (row evolution)') or diag($err);
    one_trip($seen, 'row evolution', 2);
    like((sub_requests($seen->[0]))[1],
         qr/method=API\.getRowEvolution&.*apiModule=Actions&apiAction=getPageUrls&label=(%2F|\/)shipping/,
         '... API.getRowEvolution of that label');
    is($sc->{label}, $r->{label}, '... the row\'s label');
    is($sc->{report}, 'Actions.getPageUrls', '... the report');
    like($sc->{note} // '', qr/visitors/, '... labels marked as untrusted');
    my $d = $r->{reportData};
    is_deeply([map { [ $_->[0], num($_->[1]), num($_->[2]) ] } @{ $sc->{rows} }],
              [map { [ $_, num($d->{$_}[0]{nb_hits}), num($d->{$_}[0]{exit_rate}) ] }
               sort keys %$d],
              '... pageviews and exit rate per day as recorded');
    (undef, $err) = call('matomo_get_trend',
        { idSite => 1, report => 'Actions.getPageUrls', label => '/shipping',
          metrics => ['revenue'] });
    like($err // '', qr/^metrics: 'revenue' is not a metric of this report.*nb_hits/,
         'row evolution of a metric the report lacks: named, with the report\'s metrics');
}
{
    my ($sc, $err) = call('matomo_get_trend',
        { idSite => 1, period => 'week', last => 4, metrics => ['nb_nonsense'] });
    like($err // '', qr/^metrics: .*'nb_nonsense'/, 'an unknown metric: named');
}
{
    my @d = map { recorded("full/m-site2-VisitsSummary.get-day-$_.json") }
            qw(2026-11-25 2026-11-26);
    my ($sc, $err) = call('matomo_get_trend', { idSite => 2, last => 2 }, $VIEWER);
    ok(!$err, 'view-only token: trend of site 2') or diag($err);
    is_deeply([map { num($_->[1]) } @{ $sc->{rows} }], [map { $_->{nb_visits} } @d],
              '... its visits of the last 2 days');
    ($sc, $err) = call('matomo_get_trend', { idSite => 1 }, $VIEWER);
    like($err // '', qr/access/i, 'view-only token: no trend of site 1');
    ($sc, $err) = call('matomo_get_trend',
        { idSite => 1, report => 'Actions_getPageUrls', label => '/shipping' },
        $VIEWER);
    like($err // '', qr/access/i, '... nor of a row of its reports');
}
{
    my (undef, undef, $seen) = call('matomo_get_trend',
        { idSite => 1, last => 7, segment => 'deviceType==tablet' });
    one_trip($seen, 'trend with a segment');
    like((sub_requests($seen->[0]))[1], qr/segment=deviceType(==|%3D%3D)tablet/,
         '... the segment is passed on');
}
for my $case (
    [ { }, 'idSite' ],
    [ { idSite => 1, metrics => [] }, 'metrics' ],
    # (a lone 'nb_visits' is read as ['nb_visits']: t/47_forgiving.t)
    [ { idSite => 1, metrics => { nb_visits => 1 } }, 'metrics' ],
    [ { idSite => 1, metrics => ['nb-visits'] }, 'metrics[0]' ],
    [ { idSite => 1, metrics => ['nb_visits&method=UsersManager.deleteUser'] }, 'metrics[0]' ],
    [ { idSite => 1, metrics => [('nb_visits') x 11] }, 'metrics' ],
    [ { idSite => 1, period => 'range' }, 'period' ],
    [ { idSite => 1, last => 0 }, 'last' ],
    [ { idSite => 1, last => 366 }, 'last' ],
    [ { idSite => 1, report => 'Actions_getPageUrls' }, 'label' ],
    [ { idSite => 1, label => '/shipping' }, 'report' ],
    [ { idSite => 1, report => 'actions', label => '/' }, 'report' ],
    [ { idSite => 1, report => 'UsersManager_getUsers', label => 'x' }, 'report' ],
    [ { idSite => 1, segment => 'a==b;' }, 'segment' ],
    [ { idSite => 1, date => 'today' }, 'date' ],
) {
    my ($args, $name) = @$case;
    my ($sc, $err, $seen) = call('matomo_get_trend', $args);
    like($err // '', qr/^\Q$name\E:/,
         'trend ' . $JSON->encode($args) . ": error names $name");
    is(scalar @$seen, 0, '... and Matomo is not called');
}

# --- every result against its tool's outputSchema (ajv) -----------------------
{
    # A missing node or ajv fails here (`make deps` installs both): a skip
    # would hide the check.
    my $node = node20();
    ok(node_major($node) >= 20, 'node >= 20 on PATH') or diag('run `make deps`');
    ok(-f top_dir() . '/node_modules/ajv/package.json', 'ajv installed in node_modules')
        or diag('run `make deps` (npm ci)');
    cmp_ok(scalar @checked, '>=', 1, 'tool results were collected for the schema check');
    my ($res, $body) = rpc_body('/mcp', 2, 'tools/list', {});
    my %schema = map { $_->{name} => $_->{outputSchema} } @{ $body->{result}{tools} };
    my $tmp = File::Temp->new(SUFFIX => '.json');
    print $tmp JSON::PP->new->utf8->encode([ map { { tool => $_->[0], schema => $schema{ $_->[0] },
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
    is($status, 0, 'every structuredContent (' . scalar(@checked)
                   . ') conforms to its tool\'s outputSchema (ajv)')
        or diag(join "\n", @out);
    my ($validated) = map { /^validated (\d+), invalid \d+$/ ? $1 : () } @out;
    is($validated, scalar @checked, 'ajv validated every collected result');
}

done_testing();
