# Charts in tool results (issue 15): the chart argument of matomo_get_trend,
# matomo_get_report and matomo_traffic_summary adds Matomo's own PNG
# (ImageGraph.get) as an image block, or a text block saying why there is
# none; the text block and structuredContent stay exactly as without it.
# The PNGs expected are the fake Matomo's recordings
# (t/matomo/recorded-imagegraph/, served by shape: t/matomo/README.md,
# "Charts"), compared byte for byte after base64; each call is shown in the
# fake's request log with the recording that served it.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use MIME::Base64 ();
use McpTest;

my $SUPER  = token('superuser');
my $VIEWER = token('viewer');
my @ANSWERS;

sub recorded_png {
    my ($name) = @_;
    my $file = Apache::Test::vars('serverroot') . "/matomo/recorded-imagegraph/$name.json";
    open my $fh, '<:raw', $file or die "$file: $!";
    my $rec = JSON::PP->new->decode(do { local $/; <$fh> });
    return MIME::Base64::decode_base64($rec->{body_base64});
}

# (result, the fake's request lines of the call) of one tools/call.
sub call_tool {
    my ($name, $args, %o) = @_;
    my $mark = fake_log_mark();
    my ($res, $body) = rpc_body($o{path} // '/mcp', 1, 'tools/call',
                                { name => $name, arguments => $args },
                                Authorization => 'Bearer ' . ($o{token} // $SUPER));
    push @ANSWERS, $res->as_string;
    return ($body->{result} // {}, [ tool_requests_since($mark) ]);
}

sub image_of { my ($r) = @_; return (grep { ($_->{type} // '') eq 'image' } @{ $r->{content} // [] })[0] }
sub charts_in { my ($lines) = @_; return grep { ($_->{method} // '') eq 'ImageGraph.get' } @$lines }

# Asserts the chart is the recorded PNG and the data are those of the same
# call without chart.
sub has_chart {
    my ($tool, $args, $recording, $what, %o) = @_;
    my ($plain) = call_tool($tool, $args, %o);
    my ($r, $lines) = call_tool($tool, { %$args, chart => $o{chart} // 'auto' }, %o);
    ok(!$r->{isError}, "$what: data") or diag(JSON::PP->new->encode($r->{content}));
    is(scalar @{ $r->{content} // [] }, 2, "$what: two content blocks");
    is_deeply($r->{content}[0], $plain->{content}[0], "$what: the text block is as without chart");
    is_deeply($r->{structuredContent}, $plain->{structuredContent}, "$what: structuredContent too");
    is(scalar @{ $plain->{content} // [] }, 1, "$what: without chart, no image (off by default)");
    my $img = image_of($r) // {};
    is($img->{mimeType}, 'image/png', "$what: an image/png block");
    my $png = MIME::Base64::decode_base64($img->{data} // '');
    ok($png eq recorded_png($recording), "$what: Matomo's PNG, byte for byte ($recording, "
       . length($png) . ' bytes)');
    my @charts = charts_in($lines);
    is(scalar @charts, 1, "$what: one ImageGraph.get call");
    is($charts[0]{recording}, "$recording.json", "$what: served by $recording.json");
    is($charts[0]{auth}, 'post', "$what: the token in the POST body");
    is($charts[0]{token_in_query}, 0, "$what: never in the URL");
    is($charts[0]{params}{width} . 'x' . $charts[0]{params}{height}, '800x400', "$what: 800x400");
    return $charts[0]{params};
}

# Asserts the data come whole with a note and returns the note.
sub no_chart {
    my ($tool, $args, $what, %o) = @_;
    my ($plain) = call_tool($tool, $args, %o);
    my ($r, $lines) = call_tool($tool, { %$args, chart => $o{chart} // 'auto' }, %o);
    ok(!$r->{isError}, "$what: data all the same");
    is_deeply($r->{content}[0], $plain->{content}[0], "$what: the text block is as without chart");
    is_deeply($r->{structuredContent}, $plain->{structuredContent}, "$what: structuredContent too");
    ok(!image_of($r), "$what: no image");
    my $note = $r->{content}[1] // {};
    is($note->{type}, 'text', "$what: a second text block");
    like($note->{text} // '', qr/^No chart: /, "$what: saying there is no chart");
    is(scalar charts_in($lines), $o{asked} // 0, "$what: " . ($o{asked} // 0) . ' ImageGraph.get call(s)');
    return $note->{text} // '';
}

# --- the shapes Matomo drew -------------------------------------------------
# Reports: data set 1 answers them for a month and a range, the shapes of
# the recorded bar and pie charts.
my $p = has_chart('matomo_get_report', { idSite => 1, report => 'DevicesDetection_getType', period => 'month', date => 'today' },
                  'bar-devicetype-month', 'device types of the month');
is_deeply([ @$p{qw(apiModule apiAction graphType columns period date)} ],
          [ 'DevicesDetection', 'getType', 'horizontalBar', 'nb_visits', 'month', 'today' ],
          'a report: bars of nb_visits by default (a ranking), the same period');
has_chart('matomo_get_report', { idSite => 1, report => 'DevicesDetection_getType', period => 'month', date => 'today' },
          'vbar-devicetype-month', 'device types, vertical bars', chart => 'verticalBar');
has_chart('matomo_get_report', { idSite => 1, report => 'UserCountry_getCountry', period => 'month', date => 'today' },
          'bar-country-month', 'countries of the month');

# Trends: the recorded evolutions are of 30 days and 12 weeks of the other
# data set, and data set 1 answers trends of 14 days, 4 weeks and 3 months
# only; so no trend gets both its data and a recorded picture here.  What
# the module asks is shown in the fake's log, and the fake's answer (no
# picture of that shape) comes back as the note.
sub asked_chart {
    my ($tool, $args, $what) = @_;
    my ($plain) = call_tool($tool, $args);
    my ($r, $lines) = call_tool($tool, { %$args, chart => 'auto' });
    ok(!$r->{isError}, "$what: data");
    is_deeply($r->{structuredContent}, $plain->{structuredContent}, "$what: structuredContent as without chart");
    like($r->{content}[1]{text} // '', qr/^No chart: Matomo answered: fake Matomo 5\.1\.2: no recorded answer for ImageGraph\.get/,
         "$what: the note gives Matomo's answer");
    my @charts = charts_in($lines);
    is(scalar @charts, 1, "$what: one ImageGraph.get call");
    is($charts[0]{auth}, 'post', "$what: the token in the POST body");
    return $charts[0]{params} // {};
}
$p = asked_chart('matomo_get_trend', { idSite => 1, period => 'day', last => 14 }, 'trend of visits, 14 days');
is_deeply([ @$p{qw(apiModule apiAction graphType columns period date width height)} ],
          [ 'VisitsSummary', 'get', 'evolution', 'nb_visits', 'day', 'last14', 800, 400 ],
          'trend: VisitsSummary.get drawn as an evolution of nb_visits over the same days');
$p = asked_chart('matomo_get_trend', { idSite => 1, period => 'week', last => 4, metrics => ['nb_visits', 'nb_conversions', 'nb_actions'] },
                 'trend of metrics of two methods');
is_deeply([ @$p{qw(apiModule apiAction columns)} ], [ 'VisitsSummary', 'get', 'nb_visits,nb_actions' ],
          'trend: the metrics of the first metric\'s method (one report per chart)');
$p = asked_chart('matomo_traffic_summary', { idSite => 1, period => 'day', date => '2026-11-25' }, 'summary of one day');
is_deeply([ @$p{qw(apiModule graphType period date)} ], [ 'VisitsSummary', 'evolution', 'day', '2026-11-12,2026-11-25' ],
          'summary of one day: the 14 days ending with it');
$p = asked_chart('matomo_traffic_summary', { idSite => 1, period => 'range', date => '2026-11-12,2026-11-26' }, 'summary of a range');
is_deeply([ @$p{qw(period date)} ], [ 'day', '2026-11-12,2026-11-26' ], 'summary of a range: its days');

# --- no chart: the data whole, and why --------------------------------------
like(no_chart('matomo_get_report', { idSite => 1, report => 'DevicesDetection_getType', period => 'month', date => 'today' },
              'an evolution of one period', chart => 'evolution'),
     qr/several periods/, '... refused before any call, saying it needs several periods');
like(no_chart('matomo_get_report', { idSite => 1, report => 'Goals_get', period => 'year', date => '2026-11-26' },
              'bars of a report without rows'),
     qr/no rows/, '... refused before any call');
like(no_chart('matomo_get_report', { idSite => 1, report => 'UserCountry_getCountry', period => 'month', date => 'today' },
              'a chart over MatomoMcpMaxChartSize', path => '/mcp-small-chart', asked => 1),
     qr/larger than the 4096 bytes allowed/, '... the cap named');

like(no_chart('matomo_get_report', { idSite => 1, report => 'UserCountry_getCountry', period => 'month', date => 'today' },
              'a chart beyond MatomoMcpResultBudget', path => '/mcp-small-budget', asked => 1),
     qr/does not fit this endpoint's result budget of 6144 bytes/, '... the budget named');

# --- bad chart values are the model's to fix --------------------------------
# (A one-element list, ["pie"], is read as its value: forgiving arguments.)
for my $bad ('spiral', 'Pie', 1, JSON::PP::true, 'true', [ 'pie', 'auto' ]) {
    my ($r, $lines) = call_tool('matomo_get_trend', { idSite => 1, chart => $bad });
    ok($r->{isError}, 'chart ' . JSON::PP->new->allow_nonref->encode($bad) . ': a tool error');
    is(scalar @$lines, 0, '... before any Matomo call');
}

# --- tools/list: the argument and the MCP App ---------------------------------
{
    my (undef, $body) = rpc_body('/mcp', 2, 'tools/list', {}, Authorization => "Bearer $SUPER");
    my %tool = map { $_->{name} => $_ } @{ $body->{result}{tools} // [] };
    for my $name (qw(matomo_get_trend matomo_get_report matomo_traffic_summary)) {
        is_deeply([ @{ $tool{$name}{inputSchema}{properties}{chart} // {} }{qw(type enum)} ],
                  [ 'string', [ qw(auto evolution horizontalBar verticalBar pie) ] ],
                  "$name: chart is auto or a graph type, a string");
    }
    for my $name (qw(matomo_get_trend matomo_get_report)) {
        is_deeply($tool{$name}{_meta}, { ui => { resourceUri => 'ui://matomo/chart' },
                                         'ui/resourceUri' => 'ui://matomo/chart' },
                  "$name: declares the view (_meta.ui.resourceUri, and the older flat key)");
    }
    ok(!exists $tool{matomo_traffic_summary}{_meta}, 'matomo_traffic_summary: no view (not a table to chart)');
}

# --- never a token ------------------------------------------------------------
my $all = join "\n", @ANSWERS;
unlike($all, qr/\Q$SUPER\E/, 'no answer holds the superuser token');
unlike($all, qr/\Q$VIEWER\E/, 'no answer holds the viewer token');

done_testing();
