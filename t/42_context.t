# The context tools (src/tool_context.c): matomo_list_goals,
# matomo_list_segments, matomo_annotations and matomo_visitor_log against
# the fake Matomo.  Expected values come from the recorded answers
# (t/matomo/recorded/), never from the module's own output; each tool call
# must be one round trip to Matomo (one line of the fake's request log).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use POSIX ();
use McpTest;

my $JSON     = JSON::PP->new->canonical;
my $RECORDED = "$FindBin::Bin/matomo/recorded";
my $VIEWER   = token('viewer');
my %OUT;     # tool name => outputSchema

sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or die "$f: $!"; local $/; return scalar <$fh> }

# Calls a tool; returns (result, [requests Matomo saw for it]).  The
# module's token check (API.getMatomoVersion, once per child and minute)
# is not part of the tool call.
sub call {
    my ($name, $args, @hdr) = @_;
    my $mark = fake_log_mark();
    my (undef, $body) = rpc_body('/mcp', 7, 'tools/call',
                                 { name => $name, arguments => $args }, @hdr);
    if (my $sc = $body->{result}{structuredContent}) {
        ok($OUT{$name}, "$name: tools/list gives an outputSchema");
        my @bad = schema_errors($OUT{$name} // {}, $sc, 'structuredContent');
        ok(!@bad, "$name: structuredContent conforms to the outputSchema")
            or diag join "\n", @bad;
        is_deeply($JSON->decode(text_of($body->{result})), $sc,
                  "$name: the text block holds the same data");
    }
    return ($body->{result} // {},
            [grep { $_->{method} ne 'API.getMatomoVersion' }
             fake_log_since($mark)]);
}

sub text_of { $_[0]{content}[0]{text} // '' }

# The tools' output schemas, from tools/list.
{
    my (undef, $body) = rpc_body('/mcp', 1, 'tools/list');
    $OUT{ $_->{name} } = $_->{outputSchema} for @{ $body->{result}{tools} // [] };
}

# The sub-calls of a bulk request as "Method" strings, or the one method.
sub methods_of {
    my $req = shift;
    return ($req->{method}) unless $req->{method} eq 'API.getBulkRequest';
    my $urls = $req->{params}{urls} // {};
    return map { $urls->{$_} =~ /(?:^|&)method=([^&]+)/ ? $1 : '?' }
           sort { $a <=> $b } keys %$urls;
}

sub sub_call {
    my ($req, $method) = @_;
    my $urls = $req->{params}{urls} // {};
    for my $k (sort { $a <=> $b } keys %$urls) {
        return $urls->{$k} if $urls->{$k} =~ /(?:^|&)method=\Q$method\E(?:&|$)/;
    }
    return '';
}

sub one_round_trip {
    my ($seen, $what, @methods) = @_;
    is(scalar @$seen, 1, "$what: one request to Matomo");
    my @got = @$seen ? methods_of($seen->[0]) : ();
    for my $m (@methods) {
        ok((grep { $_ eq $m } @got), "$what: $m in that request");
    }
}

sub column { my ($table, $name) = @_;
    my %i; @i{ @{ $table->{columns} } } = 0 .. $#{ $table->{columns} };
    die "no column $name" unless exists $i{$name};
    return [ map { $_->[ $i{$name} ] } @{ $table->{rows} } ];
}

sub arg_error {
    my ($name, $args, $arg, $what) = @_;
    my ($r, $seen) = call($name, $args);
    ok($r->{isError}, "$name $what: isError");
    # An argument's name, then ':' or '[': or the message's first words.
    like(text_of($r), $arg =~ /^\w+$/ ? qr/^\Q$arg\E[:\[]/ : qr/^\Q$arg\E/,
         "$name $what: names $arg");
    is(scalar @$seen, 0, "$name $what: Matomo not asked");
}

sub access_denied {
    my ($name, $args) = @_;
    my ($r) = call($name, $args, bearer($VIEWER));
    ok($r->{isError}, "$name: view-only token, site 1: isError");
    like(text_of($r), qr/access/i, "$name: ... says access is missing");
    unlike(text_of($r), qr/Demo Shop|Black Friday|Mobile visitors/,
           "$name: ... and shows nothing of site 1");
}

# --- tools/list ------------------------------------------------------------
{
    my (undef, $body) = rpc_body('/mcp', 1, 'tools/list');
    my @tools = @{ $body->{result}{tools} // [] };
    my %pos; @pos{ map { $_->{name} } @tools } = 0 .. $#tools;
    for my $n (qw(matomo_list_goals matomo_list_segments matomo_visitor_log
                  matomo_annotations)) {
        my ($t) = grep { $_->{name} eq $n } @tools;
        ok($t, "tools/list has $n");
        next unless $t;
        ok(length $t->{title} && length $t->{description} > 80,
           "$n: title and a description");
        is($t->{inputSchema}{additionalProperties}, JSON::PP::false,
           "$n: no other arguments");
        is_deeply($t->{inputSchema}{required}, ['idSite'], "$n: idSite required");
        ok($t->{outputSchema}, "$n: outputSchema");
        ok($t->{annotations}{readOnlyHint} && !$t->{annotations}{destructiveHint},
           "$n: read-only");
    }
    ok($pos{matomo_list_goals} < $pos{matomo_list_segments}
       && $pos{matomo_list_segments} < $pos{matomo_visitor_log}
       && $pos{matomo_visitor_log} < $pos{matomo_annotations},
       'in the order of the issue\'s table');
}

# --- matomo_list_goals -----------------------------------------------------
for my $site (1, 2, 3) {
    my ($r, $seen) = call('matomo_list_goals', { idSite => $site });
    ok(!$r->{isError}, "list_goals site $site: ok") or diag text_of($r);
    my $s = $r->{structuredContent};
    my @goals = @{ recorded("full/x-site$site-Goals.getGoals.json") };
    my $site_rec = recorded("full/x-site$site-SitesManager.getSiteFromId.json");
    is_deeply(column($s->{goals}, 'id'), [map { $_->{idgoal} } @goals],
              "list_goals site $site: the recorded goal ids");
    is_deeply(column($s->{goals}, 'name'), [map { $_->{name} } @goals],
              "list_goals site $site: names");
    is_deeply(column($s->{goals}, 'pattern'), [map { $_->{pattern} } @goals],
              "list_goals site $site: patterns");
    is_deeply(column($s->{goals}, 'match'),
              [map { $_->{match_attribute} } @goals],
              "list_goals site $site: match attributes");
    is_deeply(column($s->{goals}, 'revenue'), [map { $_->{revenue} + 0 } @goals],
              "list_goals site $site: revenues as numbers");
    is_deeply(column($s->{goals}, 'allow_multiple'),
              [map { $_->{allow_multiple} ? JSON::PP::true : JSON::PP::false } @goals],
              "list_goals site $site: allow_multiple as booleans");
    is(!!$s->{ecommerce}{enabled}, !!$site_rec->{ecommerce},
       "list_goals site $site: ecommerce as SitesManager says");
    is($s->{ecommerce}{currency}, $site_rec->{currency},
       "list_goals site $site: currency");
    if ($site_rec->{ecommerce}) {
        is_deeply($s->{ecommerce}{goal_ids},
                  ['ecommerceOrder', 'ecommerceAbandonedCart'],
                  "list_goals site $site: the special ecommerce goal ids");
    }
    else {
        ok(!exists $s->{ecommerce}{goal_ids},
           "list_goals site $site: no ecommerce goal ids");
    }
    ok(length $s->{note}, "list_goals site $site: untrusted-text note");
    one_round_trip($seen, "list_goals site $site", 'Goals.getGoals',
                   'SitesManager.getSiteFromId');
}
{
    # The summary file and the full/ recording agree: the two sources match.
    my @g = @{ recorded('goals-list.json') };
    my @full = @{ recorded('full/x-site1-Goals.getGoals.json') };
    ok(@g >= 2, 'goals-list.json: goals recorded');
    is_deeply([map { [ $_->{idgoal}, $_->{name} ] } @g],
              [map { [ $_->{idgoal}, $_->{name} ] } @full],
              'goals-list.json and full/x-site1-Goals.getGoals.json: the same goals, ids and names');
    access_denied('matomo_list_goals', { idSite => 1 });
    my ($r) = call('matomo_list_goals', { idSite => 2 }, bearer($VIEWER));
    ok(!$r->{isError}, 'list_goals: view-only token, site 2: allowed');
    is_deeply(column($r->{structuredContent}{goals}, 'name'),
              [map { $_->{name} } @{ recorded('full/x-site2-Goals.getGoals.json') }],
              '... with site 2\'s goals');
    arg_error('matomo_list_goals', {}, 'idSite', 'without idSite');
    arg_error('matomo_list_goals', { idSite => 0 }, 'idSite', 'idSite 0');
    arg_error('matomo_list_goals', { idSite => 'one' }, 'idSite', 'idSite text');
    arg_error('matomo_list_goals', { idSite => 1, period => 'day' }, 'period',
              'unknown argument');
}

# --- matomo_list_segments --------------------------------------------------
{
    my $meta = recorded('full/x-site1-API.getSegmentsMetadata.json');
    my $saved = recorded('full/x-site1-SegmentEditor.getAll.json');

    my ($r, $seen) = call('matomo_list_segments', { idSite => 1, limit => 10 });
    ok(!$r->{isError}, 'list_segments: ok') or diag text_of($r);
    my $s = $r->{structuredContent};
    is_deeply(column($s->{saved}, 'name'), [map { $_->{name} } @$saved],
              'list_segments: saved segment names');
    is_deeply(column($s->{saved}, 'definition'),
              [map { $_->{definition} } @$saved],
              'list_segments: saved segment definitions');
    is_deeply(column($s->{saved}, 'all_users'),
              [map { $_->{enable_all_users} ? JSON::PP::true : JSON::PP::false } @$saved],
              'list_segments: who can use them');
    is($s->{total}, scalar @$meta, 'list_segments: every dimension and metric counted');
    is_deeply(column($s->{dimensions}, 'segment'),
              [map { $_->{segment} } @$meta[0 .. 9]],
              'list_segments: the first 10, in Matomo\'s order');
    is_deeply(column($s->{dimensions}, 'type'),
              [map { $_->{type} } @$meta[0 .. 9]], 'list_segments: types');
    is_deeply(column($s->{dimensions}, 'category'),
              [map { $_->{category} } @$meta[0 .. 9]], 'list_segments: categories');
    ok($s->{has_more} && $s->{next_offset} == 10, 'list_segments: has_more, next_offset 10');
    ok(!exists $s->{suggested}, 'list_segments: no suggestions without dimension');
    ok(length $s->{note}, 'list_segments: untrusted-text note');
    is_deeply($s->{dimensions}{columns}, [qw(segment name type category accepts)],
              'list_segments: compact columns only');
    one_round_trip($seen, 'list_segments', 'SegmentEditor.getAll',
                   'API.getSegmentsMetadata');

    ($r) = call('matomo_list_segments', { idSite => 1, limit => 200 });
    my $all = $r->{structuredContent}{dimensions};
    is(scalar @{ $all->{rows} }, scalar @$meta, 'list_segments: limit 200 gives all');
    ok(!$r->{structuredContent}{has_more}, '... and has_more false');
    my $text = text_of($r);
    unlike($text, qr/sqlSegment|sqlFilter|unionOfSegments|suggestedValuesCallback/,
           'list_segments: no metadata a model cannot use');
    my @accepts = grep { defined } @{ column($all, 'accepts') };
    ok(!grep({ /<\/?[a-z]+\/?>/i } @accepts), 'list_segments: accepted values without HTML');
    ok(!grep({ length > 130 } @accepts), 'list_segments: accepted values cut short');
    my ($brand) = grep { $_->[0] eq 'deviceBrand' } @{ $all->{rows} };
    my ($brand_rec) = grep { $_->{segment} eq 'deviceBrand' } @$meta;
    ok($brand && length($brand_rec->{acceptedValues}) > 1000
       && index($brand_rec->{acceptedValues}, substr($brand->[4], 0, 50)) == 0,
       'list_segments: a long hint is its beginning');
    cmp_ok(length($text), '<', length(slurp("$RECORDED/full/x-site1-API.getSegmentsMetadata.json")),
           'list_segments: smaller than Matomo\'s metadata alone');

    ($r) = call('matomo_list_segments', { idSite => 1, limit => 3, offset => 3 });
    is_deeply(column($r->{structuredContent}{dimensions}, 'segment'),
              [map { $_->{segment} } @$meta[3 .. 5]], 'list_segments: offset 3');

    my @device = grep { join(' ', @$_{qw(segment name category)}) =~ /device/i } @$meta;
    ($r, $seen) = call('matomo_list_segments',
                       { idSite => 1, search => 'Device', dimension => 'deviceType' });
    ok(!$r->{isError}, 'list_segments search+dimension: ok') or diag text_of($r);
    $s = $r->{structuredContent};
    is_deeply(column($s->{dimensions}, 'segment'), [map { $_->{segment} } @device],
              'list_segments: search filters ids, names and categories');
    is($s->{total}, scalar @device, '... total counts the matches');
    is($s->{suggested}{dimension}, 'deviceType', 'list_segments: suggestions for deviceType');
    is_deeply($s->{suggested}{values}, recorded('full/x-suggested-deviceType.json'),
              '... the recorded values');
    ok(!$s->{suggested}{has_more}, '... all of them');
    one_round_trip($seen, 'list_segments with dimension', 'SegmentEditor.getAll',
                   'API.getSegmentsMetadata', 'API.getSuggestedValuesForSegment');
    like(sub_call($seen->[0], 'API.getSuggestedValuesForSegment'),
         qr/segmentName=deviceType/, '... segmentName=deviceType');

    ($r) = call('matomo_list_segments', { idSite => 1, dimension => 'referrerType' });
    is_deeply($r->{structuredContent}{suggested}{values},
              recorded('full/x-suggested-referrerType.json'),
              'list_segments: suggested referrer types');

    ($r, $seen) = call('matomo_list_segments', { idSite => 1, dimension => 'noSuchThing' });
    ok($r->{isError}, 'list_segments: unknown dimension: isError');
    like(text_of($r), qr/dimension/, '... names dimension');
    is(scalar @$seen, 1, '... still one round trip');

    access_denied('matomo_list_segments', { idSite => 1 });
    ($r) = call('matomo_list_segments', { idSite => 2, limit => 200 }, bearer($VIEWER));
    ok(!$r->{isError}, 'list_segments: view-only token, site 2: allowed')
        or diag text_of($r);
    is($r->{structuredContent}{total},
       scalar @{ recorded('full/x-site2-API.getSegmentsMetadata.json') },
       '... site 2\'s dimensions');
    is_deeply($r->{structuredContent}{saved}{rows},
              recorded('full/x-site2-SegmentEditor.getAll.json'),
              '... site 2\'s saved segments (none)');

    arg_error('matomo_list_segments', {}, 'idSite', 'without idSite');
    arg_error('matomo_list_segments', { idSite => 1, dimension => '1abc' },
              'dimension', 'dimension starting with a digit');
    arg_error('matomo_list_segments', { idSite => 1, dimension => 'device Type' },
              'dimension', 'dimension with a space');
    arg_error('matomo_list_segments', { idSite => 1, dimension => 'a==b' },
              'dimension', 'dimension with an operator');
    arg_error('matomo_list_segments', { idSite => 1, dimension => 'x' x 65 },
              'dimension', 'over-long dimension');
    arg_error('matomo_list_segments', { idSite => 1, search => '' },
              'search', 'empty search');
    arg_error('matomo_list_segments', { idSite => 1, limit => 0 }, 'limit', 'limit 0');
    arg_error('matomo_list_segments', { idSite => 1, limit => 201 }, 'limit', 'limit 201');
    arg_error('matomo_list_segments', { idSite => 1, offset => -1 }, 'offset', 'offset -1');
    arg_error('matomo_list_segments', { idSite => 1, segment => 'x==1' }, 'segment',
              'unknown argument');
}

# --- matomo_annotations ----------------------------------------------------
{
    my @notes = map { @$_ } @{ recorded('annotations-all.json') };
    my ($r, $seen) = call('matomo_annotations',
                          { idSite => 1, period => 'month', date => '2026-11-26' });
    ok(!$r->{isError}, 'annotations month: ok') or diag text_of($r);
    my $s = $r->{structuredContent};
    is_deeply($s->{period}, { period => 'month', date => '2026-11-26',
                              start => '2026-11-01', end => '2026-11-30' },
              'annotations: the span');
    is_deeply(column($s->{annotations}, 'date'), [map { $_->{date} } @notes],
              'annotations: dates');
    is_deeply(column($s->{annotations}, 'note'), [map { $_->{note} } @notes],
              'annotations: notes');
    is_deeply(column($s->{annotations}, 'starred'),
              [map { $_->{starred} ? JSON::PP::true : JSON::PP::false } @notes],
              'annotations: starred as booleans');
    is($s->{total}, scalar @notes, 'annotations: total');
    ok(!$s->{has_more}, 'annotations: nothing more');
    ok(length $s->{note}, 'annotations: untrusted-text note');
    my %logins = map { $_->{user} => 1 } @notes;
    ok(!grep({ text_of($r) =~ /"\Q$_\E"/ } keys %logins),
       'annotations: the creator\'s login is not returned');
    one_round_trip($seen, 'annotations month', 'Annotations.getAll');

    my @range = map { @$_ } @{ recorded('full/x-site1-Annotations.getAll.json') };
    ($r, $seen) = call('matomo_annotations',
                       { idSite => 1, period => 'range', date => '2026-10-01,2026-11-26' });
    is_deeply(column($r->{structuredContent}{annotations}, 'note'),
              [map { $_->{note} } @range], 'annotations range: notes');
    is($r->{structuredContent}{period}{start}, '2026-10-01', 'annotations range: start');
    is($r->{structuredContent}{period}{end}, '2026-11-26', 'annotations range: end');

    ($r, $seen) = call('matomo_annotations', { idSite => 1 });
    ok(!$r->{isError}, 'annotations default (this month): ok') or diag text_of($r);
    is($r->{structuredContent}{period}{start}, '2026-11-01',
       'annotations default: this month of the site\'s today');
    is_deeply(column($r->{structuredContent}{annotations}, 'note'),
              [map { $_->{note} } @notes], '... its notes');
    one_round_trip($seen, 'annotations relative date', 'Annotations.getAll');

    access_denied('matomo_annotations',
                  { idSite => 1, period => 'range', date => '2026-10-01,2026-11-26' });
    ($r) = call('matomo_annotations',
                { idSite => 2, period => 'range', date => '2026-10-01,2026-11-26' },
                bearer($VIEWER));
    ok(!$r->{isError}, 'annotations: view-only token, site 2: allowed')
        or diag text_of($r);
    is($r->{structuredContent}{total},
       scalar(map { ref $_ eq 'ARRAY' ? @$_ : $_ }
              @{ recorded('full/x-site2-Annotations.getAll.json') }),
       '... site 2\'s annotations (none)');

    arg_error('matomo_annotations', { period => 'month' }, 'idSite', 'without idSite');
    arg_error('matomo_annotations', { idSite => 1, period => 'quarter' }, 'period',
              'period quarter');
    arg_error('matomo_annotations', { idSite => 1, date => '26.11.2026' }, 'date',
              'date in another format');
    arg_error('matomo_annotations', { idSite => 1, period => 'range', date => '2026-11-01' },
              'date', 'range with one date');
    arg_error('matomo_annotations', { idSite => 1, period => 'day',
                                      date => '2026-11-01,2026-11-26' },
              'date', 'date pair with period day');
    arg_error('matomo_annotations', { idSite => 1, limit => 501 }, 'limit', 'limit 501');
    # Matomo reads last0 as last1, and cuts lastN to its cap.
    arg_error('matomo_annotations', { idSite => 1, period => 'range', date => 'last0' },
              "date: 'last0' is not valid", 'last0');
    arg_error('matomo_annotations', { idSite => 1, period => 'day', date => 'previous0' },
              "date: 'previous0' is not valid", 'previous0');
    arg_error('matomo_annotations', { idSite => 1, period => 'year', date => 'last11' },
              'date: with period year Matomo gives at most 10 years', 'last11 years');
}

# --- matomo_visitor_log ----------------------------------------------------
{
    my @visits = @{ recorded('full/x-site1-Live.getLastVisitsDetails-day-2026-11-26.json') };
    my $c30 = recorded('full/x-site1-Live.getCounters-30.json')->[0];

    my ($r, $seen) = call('matomo_visitor_log',
                          { idSite => 1, period => 'day', date => '2026-11-26', limit => 3 });
    ok(!$r->{isError}, 'visitor_log: ok') or diag text_of($r);
    my $s = $r->{structuredContent};
    my $t = $s->{visits};
    is_deeply($s->{period}, { period => 'day', date => '2026-11-26',
                              start => '2026-11-26', end => '2026-11-26' },
              'visitor_log: the span');
    is_deeply(column($t, 'id'), [map { $_->{idVisit} } @visits[0 .. 2]],
              'visitor_log: the 3 latest visits');
    is_deeply(column($t, 'actions'), [map { $_->{actions} } @visits[0 .. 2]],
              'visitor_log: actions per visit');
    is_deeply(column($t, 'duration_s'), [map { $_->{visitDuration} } @visits[0 .. 2]],
              'visitor_log: durations');
    is_deeply(column($t, 'country'), [map { $_->{country} } @visits[0 .. 2]],
              'visitor_log: countries');
    is_deeply(column($t, 'device'), [map { $_->{deviceType} } @visits[0 .. 2]],
              'visitor_log: devices');
    is_deeply(column($t, 'browser'), [map { $_->{browserName} } @visits[0 .. 2]],
              'visitor_log: browsers');
    is_deeply(column($t, 'visitor_type'), [map { $_->{visitorType} } @visits[0 .. 2]],
              'visitor_log: visitor types');
    is_deeply(column($t, 'referrer_type'), [map { $_->{referrerType} } @visits[0 .. 2]],
              'visitor_log: referrer types');
    is_deeply(column($t, 'referrer_name'), [map { $_->{referrerName} } @visits[0 .. 2]],
              'visitor_log: referrer names');
    is_deeply(column($t, 'goal_conversions'), [map { $_->{goalConversions} } @visits[0 .. 2]],
              'visitor_log: goal conversions');
    is_deeply(column($t, 'revenue'), [map { $_->{totalEcommerceRevenue} } @visits[0 .. 2]],
              'visitor_log: ecommerce revenue');
    is_deeply(column($t, 'last_action'),
              [map { POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_->{lastActionTimestamp}) }
               @visits[0 .. 2]],
              'visitor_log: last action in UTC, from its timestamp');
    is_deeply($t->{action_columns}, [qw(type url title time_spent_s revenue)],
              'visitor_log: action columns once');
    my $lists = column($t, 'action_list');
    is_deeply([map { scalar @$_ } @$lists],
              [map { scalar @{ $_->{actionDetails} } } @visits[0 .. 2]],
              'visitor_log: every action of these visits (fewer than 20)');
    is_deeply([map { [ @$_[0 .. 3] ] } @{ $lists->[1] }],
              [map { [ $_->{type}, $_->{url}, $_->{pageTitle}, $_->{timeSpent} ] }
               @{ $visits[1]{actionDetails} }],
              'visitor_log: pageviews with url, title, time spent');
    my ($goal) = grep { $_->[0] eq 'goal' } map { @$_ } @$lists;
    my ($goal_rec) = grep { $_->{type} eq 'goal' }
                     map { @{ $_->{actionDetails} } } @visits[0 .. 2];
    is($goal && $goal->[2], $goal_rec->{goalName}, 'visitor_log: a goal step names the goal');
    ok(!grep({ $_ } @{ column($t, 'actions_cut') }), 'visitor_log: nothing cut');
    ok($s->{has_more} && $s->{next_offset} == 3, 'visitor_log: has_more, next_offset 3');
    is_deeply($s->{counters}, { minutes => 30, visits => $c30->{visits},
                                actions => $c30->{actions}, visitors => $c30->{visitors},
                                visits_converted => $c30->{visitsConverted} },
              'visitor_log: counters of the last 30 minutes');
    ok(length $s->{note}, 'visitor_log: untrusted-data note');
    my $text = text_of($r);
    for my $v (@visits[0 .. 2]) {
        unlike($text, qr/\Q$v->{visitIp}\E|\Q$v->{visitorId}\E|\Q$v->{fingerprint}\E/,
               "visitor_log: no IP, visitor id or fingerprint of visit $v->{idVisit}");
    }
    one_round_trip($seen, 'visitor_log', 'Live.getLastVisitsDetails', 'Live.getCounters');
    like(sub_call($seen->[0], 'Live.getLastVisitsDetails'), qr/filter_limit=4(&|$)/,
         'visitor_log: asks for limit + 1 visits');
    like(sub_call($seen->[0], 'Live.getCounters'), qr/lastMinutes=30(&|$)/,
         'visitor_log: counters over 30 minutes by default');
    unlike(sub_call($seen->[0], 'Live.getLastVisitsDetails'), qr/doNotFetchActions/,
           'visitor_log: actions fetched by default');

    # Every step of the 20 recorded visits, as Matomo recorded it.
    ($r) = call('matomo_visitor_log', { idSite => 1, date => '2026-11-26', limit => 20 });
    my @steps = map { @$_ } @{ column($r->{structuredContent}{visits}, 'action_list') };
    my @want = map {
        my $a = $_;
        my $title = $a->{type} eq 'event'
                        ? join(' / ', grep { defined && length }
                                   @$a{qw(eventCategory eventAction eventName)})
                  : $a->{type} eq 'search' ? $a->{siteSearchKeyword}
                  : $a->{type} eq 'goal' ? $a->{goalName}
                  : $a->{type} eq 'ecommerceOrder' ? $a->{orderId}
                  : $a->{type} =~ /^(action|download|outlink)$/ ? $a->{pageTitle}
                  : $a->{type} =~ /^ecommerce/ ? undef
                  : $a->{title};
        [ $a->{type}, $a->{url}, $title, $a->{timeSpent}, $a->{revenue} ]
    } map { @{ $_->{actionDetails} } } @visits[0 .. 19];
    is(scalar @steps, scalar @want, 'visitor_log: every step of 20 visits');
    is_deeply(\@steps, \@want,
              'visitor_log: steps (pageviews, events, searches, downloads, goals, '
              . 'orders, carts) with url, title, time spent and revenue');
    my %types = map { $_->[0] => 1 } @steps;
    ok($types{event} && $types{search} && $types{download} && $types{ecommerceOrder}
       && $types{ecommerceAbandonedCart} && $types{goal},
       '... which hold every kind of step');

    ($r, $seen) = call('matomo_visitor_log',
                       { idSite => 1, date => '2026-11-26', limit => 3, offset => 15 });
    is_deeply(column($r->{structuredContent}{visits}, 'id'),
              [map { $_->{idVisit} } @visits[15 .. 17]], 'visitor_log: offset 15');
    like(sub_call($seen->[0], 'Live.getLastVisitsDetails'), qr/filter_offset=15(&|$)/,
         '... sent as filter_offset');

    my @noact = @{ recorded('live-last2-noactions.json') };
    ($r, $seen) = call('matomo_visitor_log',
                       { idSite => 1, date => '2026-11-26', limit => 1,
                         with_actions => JSON::PP::false });
    ok(!$r->{isError}, 'visitor_log without actions: ok') or diag text_of($r);
    $t = $r->{structuredContent}{visits};
    is_deeply(column($t, 'id'), [$noact[0]{idVisit}], 'visitor_log without actions: the latest visit');
    ok(!grep({ $_ eq 'action_list' } @{ $t->{columns} }) && !exists $t->{action_columns},
       'visitor_log without actions: no action columns');
    like(sub_call($seen->[0], 'Live.getLastVisitsDetails'), qr/doNotFetchActions=1/,
         'visitor_log without actions: doNotFetchActions=1');
    ok($r->{structuredContent}{has_more}, '... has_more');

    ($r, $seen) = call('matomo_visitor_log', { idSite => 1, limit => 2 });
    ok(!$r->{isError}, 'visitor_log default date (today): ok') or diag text_of($r);
    is($r->{structuredContent}{period}{start}, '2026-11-26',
       'visitor_log: today is the site\'s today');
    one_round_trip($seen, 'visitor_log today', 'Live.getLastVisitsDetails',
                   'Live.getCounters');

    access_denied('matomo_visitor_log', { idSite => 1, date => '2026-11-26' });

    my @v2 = @{ recorded('full/x-site2-Live.getLastVisitsDetails-day-2026-11-26.json') };
    my $c2 = recorded('full/x-site2-Live.getCounters-2880.json')->[0];
    ($r, $seen) = call('matomo_visitor_log',
                       { idSite => 2, date => '2026-11-26', limit => 5, minutes => 2880 },
                       bearer($VIEWER));
    ok(!$r->{isError}, 'visitor_log: view-only token, site 2: allowed') or diag text_of($r);
    $s = $r->{structuredContent};
    is_deeply(column($s->{visits}, 'id'), [map { $_->{idVisit} } @v2[0 .. 4]],
              '... site 2\'s visits');
    is_deeply(column($s->{visits}, 'revenue'), [map { undef } @v2[0 .. 4]],
              '... no ecommerce revenue on a site without ecommerce');
    is_deeply([@{ $s->{counters} }{qw(minutes visits actions visitors visits_converted)}],
              [2880, @$c2{qw(visits actions visitors visitsConverted)}],
              '... counters of the last 2880 minutes');
    one_round_trip($seen, 'visitor_log site 2', 'Live.getLastVisitsDetails',
                   'Live.getCounters');

    ($r) = call('matomo_visitor_log', { idSite => 3, date => '2026-11-26' });
    ok(!$r->{isError}, 'visitor_log: site without data: ok') or diag text_of($r);
    is_deeply($r->{structuredContent}{visits}{rows}, [], '... no visits');
    ok(!$r->{structuredContent}{has_more}, '... and nothing more');

    arg_error('matomo_visitor_log', {}, 'idSite', 'without idSite');
    # Matomo's Live API reads lastN as days whatever the period, and
    # previousN with no end: only what it reads as stated passes.
    arg_error('matomo_visitor_log', { idSite => 1, period => 'range', date => 'last0' },
              "date: 'last0' is not valid", 'last0');
    arg_error('matomo_visitor_log', { idSite => 1, period => 'range', date => 'previous7' },
              "date: 'previous7' is not valid", 'previousN');
    arg_error('matomo_visitor_log', { idSite => 1, period => 'week', date => 'last4' },
              'date: Matomo\'s visitor log reads lastN as the last N days', 'lastN weeks');
    arg_error('matomo_visitor_log', { idSite => 1, limit => 0 }, 'limit', 'limit 0');
    arg_error('matomo_visitor_log', { idSite => 1, limit => 101 }, 'limit', 'limit 101');
    arg_error('matomo_visitor_log', { idSite => 1, offset => -1 }, 'offset', 'offset -1');
    arg_error('matomo_visitor_log', { idSite => 1, minutes => 0 }, 'minutes', 'minutes 0');
    arg_error('matomo_visitor_log', { idSite => 1, minutes => 2881 }, 'minutes',
              'minutes 2881');
    arg_error('matomo_visitor_log', { idSite => 1, with_actions => 'yes' },
              'with_actions', 'with_actions as text');
    arg_error('matomo_visitor_log', { idSite => 1, segment => 'deviceType~smartphone' },
              'segment', 'segment without an operator');
    arg_error('matomo_visitor_log', { idSite => 1, period => 'hour' }, 'period',
              'period hour');
    arg_error('matomo_visitor_log', { idSite => 1, date => 'tomorrow' }, 'date',
              'date tomorrow');
    arg_error('matomo_visitor_log', { idSite => 1, period => 'range', date => 'today' },
              'date', 'range with one date');
    arg_error('matomo_visitor_log', { idSite => 1, token_auth => 'x' }, 'token_auth',
              'a reserved Matomo parameter');
}

done_testing();
