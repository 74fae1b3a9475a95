# Forgiving arguments (issue 17): near-misses whose meaning is unambiguous
# are read as their canonical form, for every tool; what is still
# ambiguous gets the very error the canonical form's violation gets.  Each
# accepted shape must give exactly what the canonical call gives (same
# structuredContent, same request to Matomo); each refused near-miss the
# error a plainly wrong value of that argument gets, and no Matomo call.
# The inputSchema clients see stays the strict, canonical one.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;

my $JSON = JSON::PP->new->canonical;

sub call {
    my ($name, $args) = @_;
    my (undef, $body) = rpc_body('/mcp', 1, 'tools/call',
                                 { name => $name, arguments => $args });
    return $body->{result} // {};
}

sub text { $_[0]{content}[0]{text} // '' }

# (result, the Matomo requests the call made)
sub traced {
    my $mark = fake_log_mark();
    my $r = call(@_);
    return ($r, [map { $JSON->encode([$_->{path}, $_->{params}]) }
                 tool_requests_since($mark)]);
}

# The forgiving call answers as the canonical one, asking Matomo the same.
sub same_as {
    my ($tool, $forgiving, $canonical, $what) = @_;
    my ($want, $want_q) = traced($tool, $canonical);
    my ($got, $got_q) = traced($tool, $forgiving);
    ok(!$want->{isError}, "$what: the canonical call answers")
        or diag text($want);
    ok(!$got->{isError}, "$what: accepted") or diag text($got);
    is($JSON->encode($got->{structuredContent} // {}),
       $JSON->encode($want->{structuredContent} // {}),
       "$what: the same answer as the canonical form");
    is_deeply($got_q, $want_q, "$what: the same Matomo requests");
}

# The near-miss is refused as the plainly wrong value is (or, where the
# message quotes the value, with the message given), before Matomo.
sub refused_as {
    my ($tool, $near, $wrong, $what) = @_;
    my $mark = fake_log_mark();
    my $got = call($tool, $near);
    ok($got->{isError}, "$what: refused");
    if (ref $wrong eq 'Regexp') {
        like(text($got), $wrong, "$what: the argument error");
    } else {
        my $want = call($tool, $wrong);
        ok($want->{isError}, "$what: (the plainly wrong value is refused)");
        is(text($got), text($want), "$what: the same argument error as today");
    }
    is(scalar(tool_requests_since($mark)), 0, "$what: Matomo not called");
}
my $BAD_DATE = qr/^date: '[^']*' is not valid: YYYY-MM-DD/;

my $REPORT = { report => 'DevicesDetection_getType', period => 'month',
               date => '2026-11-26' };

# --- accepted shapes -------------------------------------------------------
same_as('matomo_get_report', { %$REPORT, idSite => '1' },
        { %$REPORT, idSite => 1 }, 'integer as a numeric string');
same_as('matomo_get_report', { %$REPORT, idSite => 1, limit => '3', offset => '1' },
        { %$REPORT, idSite => 1, limit => 3, offset => 1 },
        'limit and offset as numeric strings');
same_as('matomo_get_report', { %$REPORT, idSite => 1, flat => 'false',
                               goal_metrics => 'true' },
        { %$REPORT, idSite => 1, flat => JSON::PP::false,
          goal_metrics => JSON::PP::true }, 'booleans as "true"/"false"');
same_as('matomo_get_report', { %$REPORT, idSite => 1,
                               report => 'DevicesDetection.getType' },
        { %$REPORT, idSite => 1 }, 'report id as Module.action');
same_as('matomo_get_trend', { idSite => '1', report => 'Actions.getPageUrls',
                              label => '/shipping', metrics => 'nb_hits' },
        { idSite => 1, report => 'Actions_getPageUrls', label => '/shipping',
          metrics => ['nb_hits'] },
        'trend: report id as Module.action, one metric for the list');
same_as('matomo_get_report', { %$REPORT, idSite => [1] },
        { %$REPORT, idSite => 1 }, 'a one-element list for a single value');
same_as('matomo_get_report', { %$REPORT, idSite => ['1'] },
        { %$REPORT, idSite => 1 }, 'a one-element list of a numeric string');
same_as('matomo_get_report', { %$REPORT, idSite => 1, columns => 'nb_visits' },
        { %$REPORT, idSite => 1, columns => ['nb_visits'] },
        'a single value for a list');
same_as('matomo_get_trend', { idSite => 1, metrics => 'nb_visits', period => 'day',
                              last => '7' },
        { idSite => 1, metrics => ['nb_visits'], period => 'day', last => 7 },
        'a single metric for the metrics list, last as a string');
same_as('matomo_visitor_log', { idSite => '1', limit => '2', with_actions => 'false',
                                date => '2026-11-26' },
        { idSite => 1, limit => 2, with_actions => JSON::PP::false,
          date => '2026-11-26' }, 'visitor log: strings for integer and boolean');
same_as('matomo_traffic_summary', { idSite => '1', period => 'year', date => '2026' },
        { idSite => 1, period => 'year', date => '2026-01-01' },
        'period year with date "2026": that year');
same_as('matomo_get_report', { idSite => 1, report => 'Referrers_getCampaigns',
                               period => 'year', date => '2026' },
        { idSite => 1, report => 'Referrers_getCampaigns', period => 'year',
          date => '2026-01-01' }, 'get_report: period year with date "2026"');
{
    # The year is the recorded year: the answer is the one Matomo gave for
    # the year of 2026-11-26.
    my $rec = recorded('full/g-Referrers.getCampaigns-year-2026-11-26.json');
    my $sc = call('matomo_get_report', { idSite => 1, report => 'Referrers_getCampaigns',
                                         period => 'year', date => '2026',
                                         limit => 500 })->{structuredContent};
    my ($i) = grep { $sc->{columns}[$_] eq 'label' } 0 .. $#{ $sc->{columns} // [] };
    is_deeply([map { $_->[$i] } @{ $sc->{rows} // [] }],
              [map { $_->{label} } @{ $rec->{reportData} }],
              'date "2026" with period year reads Matomo\'s year 2026');
    is($sc->{period}{start}, '2026-01-01', 'the span starts on 1 January');
    is($sc->{period}{end}, '2026-12-31', 'and ends on 31 December');
}

# Every tool that takes idSite takes it as a numeric string.
{
    my (undef, $list) = rpc_body('/mcp', 1, 'tools/list', {});
    for my $t (@{ $list->{result}{tools} }) {
        next unless $t->{inputSchema}{properties}{idSite};
        my $canonical = { idSite => 3 };
        $canonical->{report} = 'VisitsSummary_get' if $t->{name} eq 'matomo_get_report';
        my $want = call($t->{name}, $canonical);
        my $got = call($t->{name}, { %$canonical, idSite => '3' });
        is(!!$got->{isError}, !!$want->{isError},
           "$t->{name}: idSite \"3\" answers as idSite 3");
        unlike(text($got), qr/idSite: must be/, "$t->{name}: idSite \"3\" accepted");
    }
}

# --- refused near-misses ---------------------------------------------------
for my $near ('1.0', ' 1', '1 ', '01', '1e0', '+1', '0x1', 'one', '', '1,2') {
    refused_as('matomo_get_report', { %$REPORT, idSite => $near },
               { %$REPORT, idSite => JSON::PP::true }, "idSite \"$near\"");
}
refused_as('matomo_get_report', { %$REPORT, idSite => 1, limit => '5000' },
           { %$REPORT, idSite => 1, limit => 5000 },
           'a numeric string still meets the schema\'s maximum');
for my $near ('yes', '1', 'True', 'FALSE', '') {
    refused_as('matomo_get_report', { %$REPORT, idSite => 1, flat => $near },
               { %$REPORT, idSite => 1, flat => 7 }, "flat \"$near\"");
}
refused_as('matomo_get_report', { %$REPORT, idSite => [1, 2] },
           { %$REPORT, idSite => 'x' }, 'a two-element list for one value');
refused_as('matomo_get_report', { %$REPORT, idSite => [] },
           { %$REPORT, idSite => 'x' }, 'an empty list for one value');
refused_as('matomo_get_report', { %$REPORT, idSite => [[1]] },
           { %$REPORT, idSite => 'x' }, 'a nested list for one value');
refused_as('matomo_get_report', { %$REPORT, idSite => { id => 1 } },
           { %$REPORT, idSite => 'x' }, 'an object for one value');
refused_as('matomo_get_report', { %$REPORT, idSite => 1, columns => { a => 1 } },
           qr/^columns: must be an array$/, 'an object for a list');
refused_as('matomo_traffic_summary', { idSite => 1, period => 'month', date => '2026' },
           $BAD_DATE,
           'date "2026" with period month');
refused_as('matomo_traffic_summary', { idSite => 1, date => '2026' },
           $BAD_DATE, 'date "2026" with the default period day');
refused_as('matomo_traffic_summary', { idSite => 1, period => 'year', date => '26' },
           $BAD_DATE,
           'date "26" with period year');
refused_as('matomo_traffic_summary', { idSite => 1, period => 'Year', date => '2026' },
           qr/^(date: '2026' is not valid|period: must be one of day, week)/,
           'period "Year" is not period year');
refused_as('matomo_get_report', { %$REPORT, idSite => 1, report => 'DevicesDetection-getType' },
           qr/^report: 'DevicesDetection-getType' is not valid/, 'report id with a dash');

# --- the schema clients see is the canonical one ----------------------------
{
    my (undef, $list) = rpc_body('/mcp', 1, 'tools/list', {});
    my ($gr) = grep { $_->{name} eq 'matomo_get_report' } @{ $list->{result}{tools} };
    is($gr->{inputSchema}{properties}{idSite}{type}, 'integer', 'idSite: integer only');
    is($gr->{inputSchema}{properties}{flat}{type}, 'boolean', 'flat: boolean only');
    is($gr->{inputSchema}{properties}{columns}{type}, 'array', 'columns: array only');
    my $inputs = $JSON->encode([map { $_->{inputSchema} } @{ $list->{result}{tools} }]);
    unlike($inputs, qr/"(anyOf|oneOf)"/, 'no alternative forms in any inputSchema');
    my $file = do {
        local $/;
        open my $fh, '<', "$FindBin::Bin/../src/tools/matomo_get_report.json" or die $!;
        JSON::PP->new->decode(<$fh>);
    };
    is($gr->{inputSchema}{properties}{report}{pattern},
       $file->{inputSchema}{properties}{report}{pattern},
       'the report pattern is the definition file\'s');
}

done_testing();
