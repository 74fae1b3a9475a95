# The fake Matomo itself (t/lib/FakeMatomo.pm), through real HTTP: it must
# answer as the real Matomo 5.1.2 answered (t/matomo/recorded/), as the
# real Matomo 4.16.1 answered (recorded-4.16.1/, on /matomo4/), and lock
# callers out as Matomo 5.1.2's brute-force detection did
# (recorded-5.1.2-bruteforce/), or these tests fail.  Expected answers are
# read from the recorded files, never copied here.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request::Common ();
use JSON::PP ();
use IO::Socket::INET ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes ();
use FindBin;
use lib "$FindBin::Bin/lib";
use LWP::UserAgent ();
use FakeMatomo::Api ();
use FakeMatomo::BruteForce ();
use FakeMatomo::Dates ();
use FakeMatomo::Params ();
use FakeMatomo::JSON ();

my $T        = $FindBin::Bin;
my $RECORDED = "$T/matomo/recorded";
my $JSON     = JSON::PP->new->canonical;

sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or die "$f: $!"; local $/; return scalar <$fh> }

my $tokens = $JSON->decode(slurp("$T/matomo/tokens.json"));
my ($SU, $VIEWER, $JWT) = @$tokens{qw(superuser viewer viewer_jwt)};
my $UNKNOWN = '0' x 32;

# A recorded answer: { who, params, status, content_type, body }.
my %recorded;
sub rec {
    my ($file) = @_;
    return $recorded{$file} //= $JSON->decode(slurp("$RECORDED/$file"));
}
sub body_of { my ($file, $token) = @_; my $b = rec($file)->{body}; $b =~ s/\@TOKEN_AUTH\@/$token/g if $token; return $b }
sub json_of { return JSON::PP->new->decode(body_of(@_)) }

# --- HTTP ------------------------------------------------------------------

my $BASE = 'http://' . Apache::TestRequest::hostport();
my $UA   = Apache::TestRequest::user_agent(keep_alive => 1, timeout => 60);

# call(form => [...], token => ..., query => '...', path => ..., headers => [...], get => 1)
sub call {
    my (%o) = @_;
    my @form = @{ $o{form} || [] };
    push @form, token_auth => $o{token} if defined $o{token};
    my $url = $BASE . ($o{path} // '/matomo/index.php');
    $url .= "?$o{query}" if defined $o{query};
    my $req = $o{get}
        ? HTTP::Request::Common::GET($url, @{ $o{headers} || [] })
        : HTTP::Request::Common::POST($url, \@form, @{ $o{headers} || [] });
    return $UA->request($req);
}

# An API call: module=API&format=JSON plus the given pairs.
sub api {
    my ($token, @pairs) = @_;
    my %o;
    %o = %{ pop @pairs } if ref $pairs[-1] eq 'HASH';
    return call(%o, token => $token, form => [ module => 'API', format => 'JSON', @pairs ]);
}

# The same request as a recorded file, with the given token.
sub api_like {
    my ($file, $token, %extra) = @_;
    my @pairs = map { @$_ } @{ rec($file)->{params} };
    return call(%extra, token => $token, form => \@pairs);
}

sub decoded { my ($res) = @_; return eval { JSON::PP->new->decode($res->content) } }

sub is_json_type { like $_[0]->header('Content-Type'), qr{^application/json; charset=utf-8$}, "$_[1]: JSON content type" }

# Asserts status and exact body of an answer against a recorded file.
sub same_as {
    my ($res, $file, $name, $token) = @_;
    is $res->code, rec($file)->{status}, "$name: status $file";
    is $res->content, body_of($file, $token), "$name: body is $file";
}

# --- authentication --------------------------------------------------------

subtest 'authentication' => sub {
    same_as(api_like('full/x-admin-API.getMatomoVersion.json', $SU), 'full/x-admin-API.getMatomoVersion.json', 'superuser token (POST)');
    is_json_type(api_like('version.json', $SU), 'version');
    same_as(api_like('full/x-viewer-API.getMatomoVersion.json', $VIEWER), 'full/x-viewer-API.getMatomoVersion.json', 'viewer token');
    my $none = api_like('full/x-none-API.getMatomoVersion.json', undef);
    same_as($none, 'full/x-none-API.getMatomoVersion.json', 'no token');
    is_json_type($none, 'no token');
    my $bad = api_like('full/x-bad-API.getMatomoVersion.json', $UNKNOWN);
    same_as($bad, 'full/x-bad-API.getMatomoVersion.json', 'unknown token');
    like $bad->header('Content-Type'), qr{^text/html}, 'unknown token: an HTML page, even with format=JSON';
    same_as(api_like('err-bad-token.json', $UNKNOWN), 'err-bad-token.json', 'unknown token on a report');
    same_as(api_like('err-no-token.json', undef), 'err-no-token.json', 'no token on a report');

    # A token in the query string works (not in Matomo's "secure only" mode).
    # It is sent percent-encoded so that Apache's access_log, which records
    # the request line, never holds a test token.
    my $q = call(query => 'module=API&method=API.getMatomoVersion&format=JSON&token_auth=' . _pct1($SU), get => 1);
    is $q->code, 200, 'token_auth in the query string (GET)';
    is $q->content, '{"value":"5.1.2"}', 'query string token answer';

    # OAuth2: the registered JWT in the Authorization header is the viewer.
    my $bearer = [ Authorization => "Bearer $JWT" ];
    same_as(api_like('ok-viewer-site2.json', undef, headers => $bearer), 'ok-viewer-site2.json', 'Bearer JWT, site 2');
    same_as(api_like('err-viewer-site1.json', undef, headers => $bearer), 'err-viewer-site1.json', 'Bearer JWT, site 1');
    # ...only there: as token_auth it is an unknown token.
    same_as(api_like('err-bad-token.json', $JWT), 'err-bad-token.json', 'JWT as token_auth');
    # Matomo 5.1.2 ignores a Bearer that is a token_auth: anonymous.
    same_as(api_like('full/x-none-API.getMatomoVersion.json', undef, headers => [ Authorization => "Bearer $SU" ]),
            'full/x-none-API.getMatomoVersion.json', 'Bearer token_auth is anonymous');
    # The same token twice is not a conflict.
    is api_like('version.json', $SU, headers => [ Authorization => "Bearer $SU" ])->code, 200, 'same token in header and body';

    my $conflict = api_like('version.json', $VIEWER, headers => $bearer);
    is $conflict->code, 400, 'Bearer and token_auth differ: 400';
    is_json_type($conflict, 'conflict');
    like decoded($conflict)->{message}, qr/conflicting authentication parameters/, 'conflict message';
    is decoded($conflict)->{result}, 'error', 'conflict is a Matomo error';
    my $both = call(query => 'token_auth=' . _pct1($VIEWER),
                    form => [ module => 'API', method => 'API.getMatomoVersion', format => 'JSON', token_auth => $SU ]);
    is $both->code, 400, 'token_auth in query and body differ: 400';

    my $forced = api($SU, method => 'API.getMatomoVersion', force_api_session => 1);
    is $forced->code, 401, 'force_api_session=1 with a token_auth: 401';
    is decoded($forced)->{result}, 'error', 'force_api_session refusal is a JSON error';
    is api($SU, method => 'API.getMatomoVersion', force_api_session => 0)->code, 200, 'force_api_session=0 is fine';
};

# Every character percent-encoded: the token never appears as itself.
sub _pct1 { my ($t) = @_; return join '', map { sprintf '%%%02X', ord } split //, $t }

# --- site access -----------------------------------------------------------

subtest 'site access' => sub {
    same_as(api_like('err-viewer-site1.json', $VIEWER), 'err-viewer-site1.json', 'viewer asks site 1');
    same_as(api_like('err-unknown-site.json', $SU), 'err-unknown-site.json', 'superuser asks site 999');
    my $v999 = api($VIEWER, method => 'VisitsSummary.get', idSite => 999, period => 'day', date => '2026-11-25');
    is $v999->code, 401, 'viewer asks site 999: no access';
    is decoded($v999)->{message}, "You can't access this resource as it requires 'view' access for the website id = 999.",
        'viewer asks site 999: message';

    same_as(api_like('visits-all-month.json', $SU), 'visits-all-month.json', 'superuser idSite=all');
    my $all = api_like('visits-all-month.json', $VIEWER);
    is $all->code, 200, 'viewer idSite=all';
    my $rec_all = json_of('visits-all-month.json');
    is_deeply decoded($all), { 2 => $rec_all->{2} }, 'viewer idSite=all: only site 2, keyed by site';
    same_as(api_like('visits-1-2-month.json', $SU), 'visits-1-2-month.json', 'superuser idSite=1,2');
    # Matomo checks every listed site: the viewer gets no partial answer.
    same_as(api_like('visits-1-2-month.json', $VIEWER), 'err-viewer-site1.json', 'viewer idSite=1,2');
    my $two_three = api($SU, method => 'VisitsSummary.get', idSite => '3,2', period => 'month', date => '2026-11-26', format_metrics => 0);
    my $site2_text = FakeMatomo::JSON::encode(FakeMatomo::JSON::parse(body_of('visits-all-month.json'))->get('2'));
    is $two_three->content, qq({"3":[],"2":$site2_text}),
        'idSite=3,2 put together from the recorded idSite=all, in the order asked';

    same_as(api_like('multisites-viewer.json', $VIEWER), 'multisites-viewer.json', 'viewer MultiSites.getAll');
    same_as(api_like('multisites-month.json', $SU), 'multisites-month.json', 'superuser MultiSites.getAll');
    same_as(api_like('sites-view-viewer.json', $VIEWER), 'sites-view-viewer.json', 'viewer getSitesWithAtLeastViewAccess');
    same_as(api_like('sites-view.json', $SU), 'sites-view.json', 'superuser getSitesWithAtLeastViewAccess');
    same_as(api_like('site-ids-viewer.json', $VIEWER), 'site-ids-viewer.json', 'viewer getSitesIdWithAtLeastViewAccess');
    is api_like('site-ids-viewer.json', $SU)->content, '[1,2,3]', 'superuser site ids';
    my $anon = api_like('site-ids-viewer.json', undef);
    is $anon->code . ' ' . $anon->content, '200 []', 'anonymous site ids: 200 [] (not a proof of a valid token)';

    my $anon_all = api(undef, method => 'VisitsSummary.get', idSite => 'all', period => 'day', date => '2026-11-25');
    is $anon_all->code, 401, 'anonymous idSite=all: 401';
};

# --- write methods ---------------------------------------------------------

subtest 'write methods are refused' => sub {
    same_as(api_like('err-write-as-viewer.json', $VIEWER), 'err-write-as-viewer.json', 'viewer addSite');
    my $su = api_like('err-write-as-viewer.json', $SU);
    is $su->code, 200, 'superuser addSite: 200';
    is decoded($su)->{message}, 'fake Matomo: write methods are never recorded', 'superuser addSite: refused';
    for my $m (qw(UsersManager.getUsers Goals.addGoal Annotations.delete SitesManager.updateSite
                  SegmentEditor.add Goals.setGoal)) {
        my $res = api($SU, method => $m, idSite => 1, idGoal => 1, idNote => 1, name => 'x',
                      matchAttribute => 'url', pattern => 'x', patternType => 'contains',
                      definition => 'deviceType==desktop', date => '2026-11-20', note => 'x');
        is decoded($res)->{result}, 'error', "$m is refused";
    }
};

# --- every recorded answer, asked again --------------------------------------

subtest 'recorded samples come back exactly' => sub {
    opendir my $dh, $RECORDED or die $!;
    my @files = sort grep { /\.json$/ } readdir $dh;
    my $n = 0;
    for my $file (@files) {
        my $r = rec($file);
        my $token = { admin => $SU, viewer => $VIEWER, bad => $UNKNOWN, none => undef }->{ $r->{who} };
        my $res = api_like($file, $token);
        is $res->code . ' ' . $res->content, $r->{status} . ' ' . body_of($file, $token // 'anonymous'),
            "$file ($r->{who})";
        $n++;
    }
    cmp_ok $n, '>=', 100, 'all samples asked';
};

subtest 'a sample of full/ answers come back exactly' => sub {
    opendir my $dh, "$RECORDED/full" or die $!;
    my @files = sort grep { /\.json$/ } readdir $dh;
    my $i = 0;
    for my $file (grep { $i++ % 7 == 0 } @files) {
        my $r = rec("full/$file");
        next if $r->{who} eq 'bad' || $r->{who} eq 'none';
        my $token = $r->{who} eq 'viewer' ? $VIEWER : $SU;
        my $res = api_like("full/$file", $token);
        is $res->code . ' ' . $res->content, $r->{status} . ' ' . body_of("full/$file", $token), "full/$file";
    }
};

# --- generic filters ---------------------------------------------------------

my @PAGES = (method => 'Actions.getPageUrls', idSite => 1, period => 'day', date => '2026-11-25',
             flat => 1, format_metrics => 0);

subtest 'generic filters on a complete answer' => sub {
    my $full = json_of('full/m-Actions.getPageUrls-day-2026-11-25.json');
    cmp_ok scalar @$full, '>', 8, 'enough rows recorded';

    is_deeply decoded(api($SU, @PAGES, filter_limit => 3)), [ @{$full}[0 .. 2] ],
        'filter_limit=3: the first 3 rows in Matomo\'s order';
    is_deeply decoded(api($SU, @PAGES, filter_limit => 3, filter_offset => 2)), [ @{$full}[2 .. 4] ],
        'filter_offset=2&filter_limit=3';
    is_deeply decoded(api($SU, @PAGES)), $full, 'no filter_limit: Matomo\'s 100 rows (all of these)';
    is_deeply decoded(api($SU, @PAGES, filter_limit => -1)), $full, 'filter_limit=-1: all rows';
    is_deeply decoded(api($SU, @PAGES, filter_limit => 'x')), $full, 'filter_limit=x: Matomo skips the limit';

    # Real Matomo's own filtering, recorded: a shorter limit of the same
    # request must give the first rows of Matomo's filtered answer.
    my $flat20 = json_of('pageurls-flat.json');
    is_deeply decoded(api($SU, @PAGES, filter_limit => 7)), [ @{$flat20}[0 .. 6] ],
        'filter_limit=7 agrees with Matomo\'s filter_limit=20 answer';
    my $slow = json_of('pageurls-sorted-slow.json');
    is_deeply decoded(api($SU, method => 'Actions.getPageUrls', idSite => 1, period => 'day', date => '2026-11-26',
                         flat => 1, format_metrics => 0, filter_sort_column => 'avg_page_load_time',
                         filter_sort_order => 'desc', filter_limit => 6)),
        [ @{$slow}[0 .. 5] ], 'sort by avg_page_load_time desc agrees with Matomo\'s own sort';
    my $cols = json_of('pageurls-show-columns.json');
    is_deeply decoded(api($SU, method => 'Actions.getPageUrls', idSite => 1, period => 'month', date => '2026-11-26',
                         flat => 1, format_metrics => 0, showColumns => 'nb_visits,nb_hits,avg_page_load_time',
                         filter_limit => 4)),
        [ @{$cols}[0 .. 3] ], 'showColumns agrees with Matomo (label and row metadata kept)';

    my $asc = decoded(api($SU, @PAGES, filter_sort_column => 'nb_visits', filter_sort_order => 'asc', filter_limit => -1));
    is scalar @$asc, scalar @$full, 'sort keeps every row';
    my @v = map { $_->{nb_visits} } @$asc;
    is_deeply \@v, [ sort { $a <=> $b } @v ], 'sorted by nb_visits ascending';
    my $ties_ok = 1;
    for my $i (1 .. $#$asc) {
        next unless $asc->[$i]{nb_visits} == $asc->[ $i - 1 ]{nb_visits};
        $ties_ok = 0 if lc $asc->[$i]{label} gt lc $asc->[ $i - 1 ]{label};
    }
    ok $ties_ok, 'equal visits: label descending (Matomo\'s secondary sort flips with asc)';
    my $by_label = decoded(api($SU, @PAGES, filter_sort_column => 'label', filter_sort_order => 'asc', filter_limit => -1));
    is_deeply [ map { $_->{label} } @$by_label ], [ sort { lc $a cmp lc $b } map { $_->{label} } @$full ],
        'sort by label: natural, case-insensitive';

    my $pat = decoded(api($SU, @PAGES, filter_pattern => '^/CATEGORY', filter_limit => -1));
    is_deeply $pat, [ grep { $_->{label} =~ m{^/category}i } @$full ], 'filter_pattern: case-insensitive regex on label';
    ok scalar @$pat, 'filter_pattern matched rows';
    my $url = decoded(api($SU, @PAGES, filter_column => 'url', filter_pattern => 'mtm_source=google', filter_limit => -1));
    is_deeply $url, [ grep { ($_->{url} // '') =~ /mtm_source=google/i } @$full ], 'filter_column=url (row metadata)';
    is_deeply decoded(api($SU, @PAGES, filter_pattern => '(', filter_limit => -1)), [], 'a broken regex matches nothing';

    my $hide = decoded(api($SU, @PAGES, hideColumns => 'nb_hits,url', filter_limit => 2));
    ok !exists $hide->[0]{nb_hits}, 'hideColumns removes a column';
    ok exists $hide->[0]{url} && exists $hide->[0]{label}, 'hideColumns keeps label and metadata';
    is_deeply decoded(api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'day', date => '2026-11-25',
                         format_metrics => 0, showColumns => 'nb_visits,bounce_rate')),
        { nb_visits => json_of('visits-day.json')->{nb_visits}, bounce_rate => json_of('visits-day.json')->{bounce_rate} },
        'showColumns on a single-row report';

    # format_metrics left out: Matomo's "bc" prints rates as percentages.
    my $bc = decoded(api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'week', date => '2026-11-25'));
    like $bc->{bounce_rate}, qr/^\d+(?:\.\d+)?%$/, 'format_metrics=bc: bounce_rate as a percentage';
    is $bc->{nb_visits}, json_of('visits-week.json')->{nb_visits}, 'format_metrics=bc: counts stay numbers';
};

subtest 'filters on date-keyed and site-keyed answers' => sub {
    # period=day over seven days, put together from the recorded last14.
    my $range = api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'day',
                    date => '2026-11-20,2026-11-26', format_metrics => 0);
    is $range->content, body_of('visits-last7.json'), 'date=A,B equals Matomo\'s last7 answer';
    my $last3 = decoded(api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'day', date => 'last3',
                            format_metrics => 0, showColumns => 'nb_visits'));
    my $l7 = json_of('visits-last7.json');
    is_deeply $last3, { map { $_ => { nb_visits => $l7->{$_}{nb_visits} } } (sort keys %$l7)[4 .. 6] },
        'date=last3 with showColumns: filtered inside each period';
    my $one = decoded(api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'day', date => '2026-11-20', format_metrics => 0));
    is_deeply $one, $l7->{'2026-11-20'}, 'one day out of a recorded date-keyed answer';
    my $week = api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'week', date => '2026-11-27', format_metrics => 0);
    is $week->content, body_of('visits-week.json'), 'any day of a week names that week';
    my $today = api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'day', date => 'today', format_metrics => 0);
    is $today->content, body_of('full/m-VisitsSummary.get-day-2026-11-26.json'), 'today is the recordings\' today (2026-11-26)';

    my $sites = decoded(api($SU, method => 'VisitsSummary.get', idSite => 'all', period => 'month', date => '2026-11-26',
                            format_metrics => 0, showColumns => 'nb_visits'));
    my $all = json_of('visits-all-month.json');
    is_deeply $sites, { 1 => { nb_visits => $all->{1}{nb_visits} }, 2 => { nb_visits => $all->{2}{nb_visits} }, 3 => [] },
        'idSite=all with showColumns: filtered inside each site';

    my $ms = decoded(api($SU, method => 'MultiSites.getAll', period => 'month', date => '2026-11-26', enhanced => 1,
                         format_metrics => 0, filter_limit => 1, filter_sort_column => 'nb_visits', filter_sort_order => 'asc'));
    my ($fewest) = sort { $a->{nb_visits} <=> $b->{nb_visits} }
                   @{ json_of('full/m-all-MultiSites.getAll-month-2026-11-26.json') };
    is scalar @$ms, 1, 'MultiSites.getAll filter_limit=1';
    is $ms->[0]{label}, $fewest->{label}, 'MultiSites.getAll sorted by visits ascending';
};

subtest 'lastN cut to Matomo\'s caps (Range::getMaxN)' => sub {
    # The periods the fake resolves a date to (it answers only recorded
    # ones, so most of these have no answer to compare).
    my $keys = sub { FakeMatomo::Dates::normalize(@_)->{keys} };
    is_deeply $keys->('year', 'last12'), [map { 2017 + $_ } 0 .. 9],
        'period=year&date=last12: the last 10 years';
    is_deeply $keys->('year', 'previous365'), [map { 2016 + $_ } 0 .. 9],
        'previous365 years: the 10 before this one';
    my $months = $keys->('month', 'last121');
    is scalar @$months, 120, 'last121 months: 120';
    is $months->[0], '2016-12', '... from 2016-12';
    is scalar @{ $keys->('week', 'last521') }, 520, 'last521 weeks: 520';
    is scalar @{ $keys->('day', 'last1826') }, 1825, 'last1826 days: 1825';
    is scalar @{ $keys->('week', 'last3') }, 3, 'under the cap: as asked';
    is_deeply $keys->('year', 'last0'), ['2026'], 'last0: one period, as last1';
    is FakeMatomo::Dates::normalize('range', 'last2000')->{key}, '2021-06-06,2026-11-26',
        'period=range: N days, no cap';

    # Through the API: a cut window still answers (from the recordings).
    my $w = decoded(api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'week', date => 'last3',
                        format_metrics => 0, showColumns => 'nb_visits'));
    is scalar(keys %$w), 3, 'date=last3 weeks through the API: 3 weeks';
};

subtest 'API.getProcessedReport: filters on reportData and reportMetadata together' => sub {
    my @p = (method => 'API.getProcessedReport', idSite => 1, period => 'day', date => '2026-11-25',
             apiModule => 'Actions', apiAction => 'getPageUrls', flat => 1, format_metrics => 0, hideMetricsDoc => 1);
    my $full = json_of('full/p-Actions.getPageUrls-day-2026-11-25.json', $SU);
    my $got = decoded(api($SU, @p, filter_limit => 3));
    is_deeply $got->{reportData}, [ @{ $full->{reportData} }[0 .. 2] ], 'reportData: first 3 rows';
    is_deeply $got->{reportMetadata}, [ @{ $full->{reportMetadata} }[0 .. 2] ], 'reportMetadata in step';
    is_deeply $got->{reportTotal}, $full->{reportTotal}, 'reportTotal untouched';
    is_deeply $got->{columns}, $full->{columns}, 'columns untouched';

    my $matomo10 = json_of('processed-pageurls-day.json', $SU);
    my $six = decoded(api($SU, @p, filter_limit => 6));
    is_deeply $six->{reportData}, [ @{ $matomo10->{reportData} }[0 .. 5] ], 'agrees with Matomo\'s filter_limit=10 answer';

    my $sorted = decoded(api($SU, @p, filter_limit => -1, filter_sort_column => 'nb_hits', filter_sort_order => 'asc'));
    my @hits = map { $_->{nb_hits} } @{ $sorted->{reportData} };
    is_deeply \@hits, [ sort { $a <=> $b } @hits ], 'sorted reportData';
    my %url_of = map { $full->{reportData}[$_]{label} => $full->{reportMetadata}[$_]{url} } 0 .. $#{ $full->{reportData} };
    is_deeply [ map { $_->{url} } @{ $sorted->{reportMetadata} } ], [ map { $url_of{ $_->{label} } } @{ $sorted->{reportData} } ],
        'reportMetadata follows the sort';

    my $cols = decoded(api($SU, @p, showColumns => 'nb_visits', filter_limit => 2));
    is_deeply [ sort keys %{ $cols->{columns} } ], [qw(label nb_visits)], 'showColumns trims columns (label kept)';
    is_deeply [ sort keys %{ $cols->{reportData}[0] } ], [qw(label nb_visits)], 'showColumns trims reportData rows';
};

# --- bulk requests -----------------------------------------------------------

subtest 'API.getBulkRequest' => sub {
    same_as(api_like('bulk-two.json', $SU), 'bulk-two.json', 'two sub-requests, format_metrics=bc');
    same_as(api_like('full/x-bulk-visits-3-sites.json', $SU), 'full/x-bulk-visits-3-sites.json', 'three sites');
    my $mixed = api($VIEWER, method => 'API.getBulkRequest',
                    'urls[0]' => 'method=VisitsSummary.get&idSite=1&period=day&date=2026-11-25&format_metrics=0',
                    'urls[1]' => 'method=VisitsSummary.get&idSite=2&period=day&date=2026-11-25&format_metrics=0');
    is $mixed->code, 200, 'viewer bulk: 200 even with a refused sub-request';
    is $mixed->content, '[' . body_of('err-viewer-site1.json') . ',' . body_of('ok-viewer-site2.json') . ']',
        'viewer bulk: each sub-request with the viewer\'s rights, in order';
    my $order = decoded(api($SU, method => 'API.getBulkRequest',
                            'urls[1]' => 'method=API.getMatomoVersion',
                            'urls[0]' => 'method=Nope.get'));
    is $order->[0]{value}, '5.1.2', 'answers in the order the urls were sent (PHP array order)';
    is $order->[1]{result}, 'error', 'a failing sub-request answers in place';
    is api($SU, method => 'API.getBulkRequest', 'urls[0]' => 'method=SitesManager.deleteSite&idSite=3')->code, 200,
        'bulk with a write sub-request';

    # A value holding an encoded '&': Matomo 5 decodes it after splitting
    # (x is one value), Matomo 4 before (method is given twice, the last wins).
    my @amp = (method => 'API.getBulkRequest',
               'urls[0]' => 'method=API.getMatomoVersion&x=a%26method%3DNope.get');
    is decoded(api($SU, @amp))->[0]{value}, '5.1.2',
        'Matomo 5: a value holding & stays one value';
    is decoded(api($SU, @amp, { path => '/matomo-fault/matomo4/index.php' }))->[0]{result}, 'error',
        'matomo4: the value is split at & (method=Nope.get wins)';
};

# --- @TOKEN_AUTH@ --------------------------------------------------------------

subtest 'the caller\'s token is echoed where Matomo echoes it' => sub {
    my $su = api_like('reportmeta-1.json', $SU);
    like $su->content, qr/token_auth=\Q$SU\E&/, 'superuser token in imageGraphUrl';
    unlike $su->content, qr/\@TOKEN_AUTH\@/, 'no placeholder left';
    my $jwt = api($VIEWER, method => 'API.getReportMetadata', idSite => 2, period => 'day', date => '2026-11-25',
                  hideMetricsDoc => 1, { headers => [] });
    like $jwt->content, qr/token_auth=\Q$VIEWER\E&/, 'viewer token in site 2 metadata';
    my $nodate = api($SU, method => 'API.getReportMetadata', idSite => 1, hideMetricsDoc => 1, filter_limit => -1);
    is $nodate->content, body_of('reportmeta-1.json', $SU), 'report metadata without period and date';
    my $b = call(headers => [ Authorization => "Bearer $JWT" ],
                 form => [ module => 'API', format => 'JSON', method => 'API.getProcessedReport', idSite => 2,
                           period => 'month', date => '2026-11-26', apiModule => 'Actions', apiAction => 'getPageUrls',
                           flat => 1, format_metrics => 0, hideMetricsDoc => 1, filter_limit => 1 ]);
    is $b->code, 200, 'processed report with the JWT';
    unlike $b->content, qr/\@TOKEN_AUTH\@/, 'no placeholder left (JWT)';
};

# --- what was not recorded ---------------------------------------------------

subtest 'unknown methods and unrecorded questions are errors' => sub {
    for my $f (qw(err-bad-method.json err-bad-module.json err-bad-period.json err-bad-date.json
                  err-bad-segment.json err-missing-idsite.json)) {
        same_as(api_like($f, $SU), $f, $f);
    }
    for my $q ([ date => '2026-01-05' ], [ segment => 'browserCode==FF' ], [ period => 'year', date => '2025-06-01' ]) {
        my $res = api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'day', date => '2026-11-25',
                      format_metrics => 0, @$q);
        is $res->code, 200, "unrecorded @$q: 200 like Matomo's errors";
        my $d = decoded($res);
        is ref $d, 'HASH', "unrecorded @$q: an object";
        is $d->{result}, 'error', "unrecorded @$q: an error, not an empty success";
        like $d->{message}, qr/no recorded answer for VisitsSummary\.get/, "unrecorded @$q: names the method";
    }
    my $nomethod = api($SU, idSite => 1);
    is decoded($nomethod)->{result}, 'error', 'no method: error';
    my $bad = api($SU, method => 'VisitsSummary', idSite => 1);
    like decoded($bad)->{message}, qr/Expected 'module.methodName'/, 'malformed method name';
    my $seg = api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'day', date => '2026-11-25', segment => 'deviceType');
    like decoded($seg)->{message}, qr/segment condition 'deviceType' is not valid/, 'segment without operator';
    my $xml = call(token => $SU, form => [ module => 'API', method => 'API.getMatomoVersion' ]);
    like $xml->header('Content-Type'), qr{^text/xml}, 'no format: Matomo\'s default XML, not JSON';
    my $ui = call(token => $SU, form => [ method => 'API.getMatomoVersion', format => 'JSON' ]);
    like $ui->header('Content-Type'), qr{^text/html}, 'no module=API: the web interface (HTML)';
};

# --- parameters ------------------------------------------------------------------

subtest 'parameters as PHP reads them' => sub {
    same_as(api_like('visits-compare-week.json', $SU), 'visits-compare-week.json', 'compareDates[] / comparePeriods[]');
    my $get = call(get => 1, query => 'module=API&format=JSON&method=VisitsSummary.get&idSite=1&period=day&date=2026-11-25'
                                    . '&format_metrics=0&token_auth=' . _pct1($SU));
    is $get->content, body_of('visits-day.json'), 'everything in the query string (GET)';
    # $_GET + $_POST: a name in the query string wins over the body.
    my $mixed = call(query => 'idSite=2', token => $SU,
                     form => [ module => 'API', format => 'JSON', method => 'VisitsSummary.get', idSite => 1,
                               period => 'day', date => '2026-11-25', format_metrics => 0 ]);
    is $mixed->content, body_of('ok-viewer-site2.json'), 'query string idSite wins over POST idSite';
    my $plus = api($SU, method => 'API.getSuggestedValuesForSegment', segmentName => 'deviceType', idSite => 1,
                   filter_column => 'x');
    is $plus->content, body_of('suggested-devicetype.json'), 'suggested values';
    my $enc = call(token => $SU, form => [ module => 'API', format => 'JSON', method => 'VisitsSummary.get', idSite => 1,
                                           period => 'range', date => '2026-11-12,2026-11-26',
                                           segment => 'deviceType==smartphone', format_metrics => 0 ]);
    is $enc->content, body_of('visits-segment-smartphone.json'), 'a segment (form-encoded "==")';
    my $enc2 = api($SU, method => 'VisitsSummary.get', idSite => 1, period => 'range', date => '2026-11-12,2026-11-26',
                   segment => 'deviceType%3D%3Dsmartphone', format_metrics => 0);
    is $enc2->content, body_of('visits-segment-smartphone.json'), 'a segment URL-encoded once more, as Matomo\'s UI sends it';
    my $put = $UA->request(HTTP::Request->new(PUT => "$BASE/matomo/index.php"));
    is $put->code, 405, 'PUT: 405';
    is call(path => '/matomo/other.php', form => [])->code, 404, 'only index.php';
};

# --- faults --------------------------------------------------------------------

subtest 'fault switches' => sub {
    my @v = (module => 'API', format => 'JSON', method => 'VisitsSummary.get', idSite => 1, period => 'day',
             date => '2026-11-25', format_metrics => 0, token_auth => $SU);
    my $e500 = call(path => '/matomo-fault/500/index.php', form => \@v);
    is $e500->code, 500, '500: status';
    like $e500->header('Content-Type'), qr{^text/html}, '500: HTML';
    my $html = call(path => '/matomo-fault/html/index.php', form => \@v);
    is $html->code, 200, 'html: 200';
    like $html->header('Content-Type'), qr{^text/html}, 'html: HTML';
    ok !decoded($html), 'html: not JSON';
    my $trunc = call(path => '/matomo-fault/truncated/index.php', form => \@v);
    is $trunc->code, 200, 'truncated: 200';
    like $trunc->header('Content-Type'), qr{^application/json}, 'truncated: says JSON';
    my $whole = body_of('visits-day.json');
    is $trunc->content, substr($whole, 0, int(length($whole) / 2)), 'truncated: the first half of the real answer';
    ok !decoded($trunc), 'truncated: does not parse';
    my $err = call(path => '/matomo-fault/error/index.php', form => \@v);
    is $err->code, 200, 'error: 200';
    is decoded($err)->{result}, 'error', 'error: a Matomo error object';
    my $big = call(path => '/matomo-fault/oversized/index.php', form => \@v);
    is $big->code, 200, 'oversized: 200';
    like $big->header('Content-Type'), qr{^application/json}, 'oversized: JSON';
    cmp_ok length($big->content), '>', 39 * 1024 * 1024, 'oversized: about 40 MB';
    like substr($big->content, 0, 40), qr/^\[\{"label":/, 'oversized: a list of rows';
    is substr($big->content, -3), '"}]', 'oversized: complete';
    my $log = "$T/logs/fake_matomo.jsonl";
    my $mark = -s $log // 0;
    my $slow = call(path => '/matomo-fault/slow/index.php', form => \@v);
    my @slow = grep { ($_->{fault} // '') eq 'slow' } map { JSON::PP->new->decode($_) }
               grep { /\S/ } split /\n/, substr(slurp($log), $mark);
    is scalar @slow, 1, 'slow: one request logged';
    is $slow[0]{delay}, 5, 'slow: the answer waits 5 s (its log entry)';
    is $slow->content, $whole, 'slow: then the normal answer';
    ok !(grep { $_->{outcome} } map { JSON::PP->new->decode($_) } grep { /\S/ } split /\n/, substr(slurp($log), $mark)),
       'slow: the caller waited, no outcome line';
    is call(path => '/matomo-fault/nope/index.php', form => \@v)->code, 404, 'unknown fault: 404';
};

# --- a slow Matomo and a caller that hangs up ---------------------------------------

# The request log's entries written after byte $mark.
my $LOG = "$T/logs/fake_matomo.jsonl";
sub log_mark { return -s $LOG // 0 }
sub log_since {
    my ($mark) = @_;
    return map { JSON::PP->new->decode($_) } grep { /\S/ } split /\n/, substr(slurp($LOG), $mark);
}
# Reads the log until $want->(@entries) holds (at most 20 s): the fake
# writes its lines from another thread, at its own pace.
sub log_until {
    my ($mark, $want) = @_;
    my @seen;
    for (1 .. 200) {
        @seen = log_since($mark);
        last if $want->(@seen);
        Time::HiRes::sleep(0.1);
    }
    return @seen;
}

# A caller on a plain socket: sends a form POST to $path, then either hangs
# up after $o{hang_up} seconds (a FIN; with $o{reset}, a RST) or reads the
# whole answer, which it returns as (status, body).
sub raw_post {
    my ($path, $form, %o) = @_;
    my $body = HTTP::Request::Common::POST("$BASE$path", $form)->content;
    my $sock = IO::Socket::INET->new(PeerAddr => Apache::TestRequest::hostport(), Proto => 'tcp',
                                     Timeout => 10) or die "connect: $@";
    print {$sock} "POST $path HTTP/1.1\r\nHost: " . Apache::TestRequest::hostport() . "\r\n"
                . "Content-Type: application/x-www-form-urlencoded\r\n"
                . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n$body";
    if (defined $o{hang_up}) {
        Time::HiRes::sleep($o{hang_up});
        setsockopt($sock, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) or die "SO_LINGER: $!" if $o{reset};
        close $sock;
        return;
    }
    my $answer = do { local $/; <$sock> } // '';
    close $sock;
    my ($head, $content) = split /\r\n\r\n/, $answer, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})};
    return ($status, $content);
}

# --- ImageGraph.get: Matomo's PNG charts, matched by shape -------------------------

# The ImageGraph recordings (recorded-imagegraph/): { who, params, status,
# content_type, body_base64 }.  A second data set: the fake serves them by
# shape (FakeMatomo::ImageGraph), so the recorded parameters are asked again
# as they are, and with other dates of the same shape.
my $CHARTS = "$T/matomo/recorded-imagegraph";
sub chart_rec {
    my ($name) = @_;
    my $r = $JSON->decode(slurp("$CHARTS/$name.json"));
    require MIME::Base64;
    $r->{body} = MIME::Base64::decode_base64($r->{body_base64});
    return $r;
}
sub chart_call {
    my ($name, $token, %change) = @_;
    my $path = delete $change{path};
    my @pairs = map { [ @$_ ] } @{ chart_rec($name)->{params} };
    for my $pair (@pairs) {
        $pair->[1] = delete $change{ $pair->[0] } if exists $change{ $pair->[0] };
    }
    push @pairs, map { [ $_ => $change{$_} ] } grep { defined $change{$_} } sort keys %change;
    return call(token => $token, path => $path,
                form => [ map { @$_ } grep { defined $_->[1] } @pairs ]);
}
sub is_recorded_png {
    my ($res, $name, $what) = @_;
    my $want = chart_rec($name);
    is $res->code, 200, "$what: 200";
    is $res->header('Content-Type'), 'image/png', "$what: image/png";
    ok $res->content eq $want->{body}, "$what: the bytes of $name.png ("
       . length($want->{body}) . ' bytes, got ' . length($res->content) . ')';
}
sub is_no_chart {
    my ($res, $what) = @_;
    is $res->code, 200, "$what: 200, as Matomo's errors";
    unlike $res->header('Content-Type') // '', qr{^image/}, "$what: no picture";
    like $res->content, qr/no recorded answer for ImageGraph\.get/, "$what: the fake's 'no recorded answer'";
}

subtest 'ImageGraph.get: the recorded pictures, by shape' => sub {
    opendir my $dh, $CHARTS or die "$CHARTS: $!";
    my @names = sort map { /^(.+)\.json$/ ? $1 : () } readdir $dh;
    cmp_ok scalar @names, '>=', 19, 'the recordings are there';
    my %token = (admin => $SU, viewer => $VIEWER, bad => $UNKNOWN, none => undef);
    for my $name (@names) {
        my $rec = chart_rec($name);
        my $res = chart_call($name, $token{ $rec->{who} });
        is $res->code, $rec->{status}, "$name asked again: status $rec->{status}";
        is $res->header('Content-Type'), $rec->{content_type}, "$name: $rec->{content_type}";
        ok $res->content eq $rec->{body}, "$name: the recorded bytes";
    }

    # Shapes: the recorded picture answers the same kind of question on other
    # days; Matomo's default metric is nb_visits (ImageGraph\API::get).
    my $mark = log_mark();
    is_recorded_png(chart_call('evolution-visits-day-last30', $SU, columns => 'nb_visits'),
                    'evolution-visits-day-last30', 'columns=nb_visits, the default metric');
    is_recorded_png(chart_call('evolution-visits-day-last30', $SU, date => '2026-10-28,2026-11-26'),
                    'evolution-visits-day-last30', '30 days as A,B');
    is_recorded_png(chart_call('evolution-visits-week-last12', $SU, date => 'previous12'),
                    'evolution-visits-week-last12', 'previous12 weeks');
    is_recorded_png(chart_call('bar-devicetype-month', $SU, date => '2026-10-05'),
                    'bar-devicetype-month', 'another month');
    is_recorded_png(chart_call('bar-browsers-range', $SU, date => '2026-11-01,2026-11-20'),
                    'bar-browsers-range', 'another range');
    is_recorded_png(chart_call('evolution-segment-mobile', $SU, segment => 'deviceType%3D%3Dsmartphone'),
                    'evolution-segment-mobile', 'the segment URL-encoded as a whole');
    is_recorded_png(chart_call('evolution-visits-day-last30', $SU, format => 'JSON'),
                    'evolution-visits-day-last30', 'format=JSON: still the PNG');
    my @lines = grep { ($_->{method} // '') eq 'ImageGraph.get' } log_until($mark, sub { scalar(grep { ($_->{method} // '') eq 'ImageGraph.get' } @_) >= 7 });
    is scalar @lines, 7, 'seven ImageGraph.get lines in the request log';
    is_deeply [ map { $_->{answer} } @lines ], [ ('shape') x 7 ], '... each answered by shape';
    is $lines[0]{recording}, 'evolution-visits-day-last30.json', '... naming the recording that served it';

    # Another shape: never a picture of something else.
    is_no_chart(chart_call('evolution-visits-day-last30', $SU, date => 'last7'), 'last7 days (30 recorded)');
    is_no_chart(chart_call('evolution-visits-day-last30', $SU, period => 'week'), 'last30 weeks');
    is_no_chart(chart_call('evolution-visits-day-last30', $SU, columns => 'nb_actions'), 'another metric');
    is_no_chart(chart_call('evolution-visits-day-last30', $SU, width => 640), 'another width');
    is_no_chart(chart_call('evolution-visits-day-last30', $SU, idSite => 3), 'another site');
    is_no_chart(chart_call('bar-devicetype-month', $SU, graphType => 'pie'), 'another graph type');
    is_no_chart(chart_call('bar-devicetype-month', $SU, period => 'range', date => '2026-11-01,2026-11-20'),
                'a range where a month was recorded');

    # Access is Matomo's, whatever the shape: the recorded 401s, byte for byte.
    for my $case ([ 'evolution-visits-day-last30', $VIEWER, 'err-viewer-site1', 'the viewer on site 1' ],
                  [ 'bar-devicetype-month', $VIEWER, 'err-viewer-site1', 'the viewer on site 1 (another report)' ],
                  [ 'evolution-visits-day-last30', undef, 'err-no-token', 'no token' ],
                  [ 'evolution-visits-day-last30', $UNKNOWN, 'err-bad-token', 'an unknown token' ]) {
        my ($name, $token, $err, $what) = @$case;
        my $res = chart_call($name, $token);
        my $want = chart_rec($err);
        is $res->code, 401, "$what: 401";
        is $res->header('Content-Type'), $want->{content_type}, "$what: $want->{content_type}";
        is $res->content, $want->{body}, "$what: the body of $err.json";
    }
    is_recorded_png(chart_call('evolution-visits-day-last30-site2', $VIEWER),
                    'evolution-viewer-site2', 'the viewer on site 2');

    # Matomo 4.16.1: no ImageGraph.get was recorded there.
    my $m4 = chart_call('evolution-visits-day-last30', $SU, path => '/matomo4/index.php');
    is $m4->code, 200, '4.16.1: 200';
    like $m4->content, qr/fake Matomo 4\.16\.1: no recorded answer for ImageGraph\.get/, '4.16.1: nothing recorded';
};

subtest 'a slow answer: the caller waits, or hangs up' => sub {
    my @v = (module => 'API', format => 'JSON', method => 'VisitsSummary.get', idSite => 1, period => 'day',
             date => '2026-11-25', format_metrics => 0, token_auth => $SU);
    my $whole = body_of('visits-day.json');

    # "Matomo is still computing": 1.5 s, then the answer.
    my $path = '/matomo-fault/slow/1500/index.php';
    my $mark = log_mark();
    my ($status, $content) = raw_post($path, \@v);
    is $status, 200, 'slow/1500, the caller waits: 200';
    is $content, $whole, 'slow/1500, the caller waits: the normal answer';
    my @seen = log_since($mark);
    my @req = grep { $_->{path} eq $path } @seen;
    is scalar @req, 1, 'slow/1500: one line';
    is $req[0]{fault}, 'slow', 'slow/1500: logged as the slow fault';
    is $req[0]{delay}, 1.5, 'slow/1500: the answer waits 1.5 s (its log entry)';
    is $req[0]{status}, 200, 'slow/1500: status 200';
    like $req[0]{request_id} // '', qr/^[0-9a-f-]{36}$/, 'slow/1500: a request id';
    ok !(grep { $_->{outcome} } @seen), 'slow/1500, the caller waited: no outcome line';

    # "Matomo takes very long": 60 s; the caller hangs up after 0.3 s, with
    # a FIN, then with a RST.
    for my $how ('close', 'reset') {
        $path = '/matomo-fault/slow/60000/index.php';
        $mark = log_mark();
        raw_post($path, \@v, hang_up => 0.3, reset => $how eq 'reset');
        my $aborted = sub { grep { ($_->{outcome} // '') eq 'aborted' } @_ };
        @seen = log_until($mark, $aborted);
        @req = grep { $_->{path} eq $path && $_->{fault} } @seen;
        my @out = $aborted->(@seen);
        is scalar @req, 1, "slow/60000, $how: one request line";
        is $req[0]{delay}, 60, "slow/60000, $how: the answer was to wait 60 s";
        is scalar @out, 1, "slow/60000, $how: one aborted line";
        my $out = $out[0] // {};
        is $out->{request_id}, $req[0]{request_id}, "slow/60000, $how: the aborted line names the request";
        is_deeply [ @$out{qw(path method who status delay)} ],
                  [ $path, 'VisitsSummary.get', 'superuser', 499, 60 ],
                  "slow/60000, $how: path, method, who, status 499, delay";
        ok !exists $out->{fault} && !exists $out->{params},
           "slow/60000, $how: no fault or params on it (it is no second request)";
        cmp_ok $out->{aborted_after_ms} // 1e9, '<', 60_000,
               "slow/60000, $how: stopped before the answer was due";
        my $line = JSON::PP->new->encode($out);
        unlike $line, qr/\Q$SU\E/, "slow/60000, $how: no token on the aborted line";
        is api($SU, method => 'API.getMatomoVersion')->code, 200, "slow/60000, $how: the next request is answered";
    }

    is call(path => '/matomo-fault/slow/abc/index.php', form => \@v)->code, 404, 'slow/abc: 404';
    is call(path => '/matomo-fault/slow/600001/index.php', form => \@v)->code, 404, 'slow over 10 min: 404';
    is call(path => '/matomo-fault/slow/1500/other.php', form => \@v)->code, 404, 'slow/1500/other.php: 404';
};

# --- brute-force detection ------------------------------------------------------------

# Requests from a chosen local address (127.0.0.2 is another client on the
# loopback), to the server's IPv4 address so that the fake sees that address.
my $PORT = Apache::Test::vars('port');
my $IP4  = "http://127.0.0.1:$PORT";
my %UA_FROM;
sub ua_from {
    my ($addr) = @_;
    return $UA_FROM{$addr} //= LWP::UserAgent->new(local_address => $addr, keep_alive => 1, timeout => 60);
}
my $OTHER_CLIENT = IO::Socket::INET->new(LocalAddr => '127.0.0.2', PeerAddr => "127.0.0.1:$PORT",
                                         Proto => 'tcp', Timeout => 5) ? 1 : 0;

# One API call to a brute-force mount: (response, its request log line).
# bf_call($path, token => ..., from => '127.0.0.2', xff => '...', method => ..., form => [...])
sub bf_call {
    my ($path, %o) = @_;
    my @form = (module => 'API', format => 'JSON', method => $o{method} // 'API.getMatomoVersion', @{ $o{form} || [] });
    push @form, token_auth => $o{token} if defined $o{token};
    my @h = defined $o{xff} ? ('X-Forwarded-For' => $o{xff}) : ();
    my $mark = log_mark();
    my $res = ua_from($o{from} // '127.0.0.1')->request(HTTP::Request::Common::POST("$IP4$path", \@form, @h));
    my @lines = grep { ($_->{path} // '') eq $path } log_since($mark);
    return ($res, $lines[-1] // {});
}
sub control {
    my ($what, $query) = @_;
    my $url = "$BASE/matomo-control/$what" . (defined $query ? "?$query" : '');
    return $UA->request($what eq 'state' ? HTTP::Request::Common::GET($url) : HTTP::Request::Common::POST($url));
}
sub failures { return decoded(control('state'))->{bruteforce}{ $_[0] } // {} }

# The lock-out answers of a real Matomo 5.1.2 (recorded-5.1.2-bruteforce/).
my %LOCKOUT = map { $_ => $JSON->decode(slurp("$T/matomo/recorded-5.1.2-bruteforce/$_.json")) }
              qw(blocked-admin-version blocked-admin-report blocked-bad-token blocked-no-token);
sub is_lockout {
    my ($res, $file, $name) = @_;
    is $res->code . ' ' . $res->content, "$LOCKOUT{$file}{status} $LOCKOUT{$file}{body}", "$name: $file as recorded";
}
my $BAD_TOKEN_PAGE = body_of('full/x-bad-API.getMatomoVersion.json');

subtest 'brute-force detection: failed logins per client address' => sub {
    is control('bruteforce/reset')->code, 200, 'reset: 200';
    is control('bruteforce/reset', undef)->code, 200, 'reset twice: still 200';
    is $UA->get("$BASE/matomo-control/bruteforce/reset")->code, 405, 'reset by GET: 405';
    is $UA->get("$BASE/matomo-control/nope")->code, 404, 'unknown control: 404';

    # /matomo-bf3/: 3 failures allowed in the window.  Matomo lets a login
    # through while the failures number at most the limit, and counts the
    # one that fails: the 4th unknown token is still answered as unknown.
    my $path = '/matomo-bf3/index.php';
    my @seen;
    for (1 .. 4) {
        my ($res, $line) = bf_call($path, token => $UNKNOWN);
        push @seen, [ $res->code, $res->content eq $BAD_TOKEN_PAGE ? 'bad token page' : $res->content,
                      @$line{qw(client_ip blocked failed_login failed_logins)} ];
    }
    is_deeply \@seen, [ map { [ 401, 'bad token page', '127.0.0.1', 0, 1, $_ ] } 1 .. 4 ],
        'limit 3: four unknown tokens answered as unknown tokens, each counted for 127.0.0.1';

    my ($res, $line) = bf_call($path, token => $UNKNOWN);
    is_lockout($res, 'blocked-bad-token', 'the 5th unknown token');
    like $res->header('Content-Type'), qr{^text/html}, 'the lock-out is an HTML page, whatever format';
    is_deeply [ @$line{qw(client_ip blocked failed_login failed_logins status answer)} ],
              [ '127.0.0.1', 1, 0, 4, 500, 'blocked' ], 'log: blocked, and not counted again';
    ($res, $line) = bf_call($path, token => $SU);
    is_lockout($res, 'blocked-admin-version', 'a valid superuser token from the locked address');
    is $line->{who}, 'superuser', 'log: the superuser was the one blocked';
    ($res) = bf_call($path, token => $SU, method => 'VisitsSummary.get',
                     form => [ idSite => 1, period => 'day', date => '2026-12-03' ]);
    is_lockout($res, 'blocked-admin-report', 'a report with a valid token');
    ($res) = bf_call($path, token => $VIEWER);
    is_lockout($res, 'blocked-admin-version', 'the viewer\'s valid token');
    ($res, $line) = bf_call($path);
    is_lockout($res, 'blocked-no-token', 'no token: not a login, answered as anonymous');
    is $line->{blocked}, 0, 'no token: not blocked (log)';
    ($res) = bf_call($path, token => 'anonymous');
    is $res->content, $LOCKOUT{'blocked-no-token'}{body}, 'token_auth=anonymous: not a login either';
    is_deeply failures('/matomo-bf3/'), { '127.0.0.1' => 4 }, 'state: 4 failures of 127.0.0.1 in the window';

    # Each mount is a Matomo of its own; /matomo/ has no detection at all.
    ($res) = bf_call('/matomo-bf/index.php', token => $SU);
    is $res->code . ' ' . $res->content, '200 {"value":"5.1.2"}', '/matomo-bf/ counts for itself';
    call(token => $UNKNOWN, form => [ module => 'API', method => 'API.getMatomoVersion', format => 'JSON' ]) for 1 .. 6;
    is api($SU, method => 'API.getMatomoVersion')->content, '{"value":"5.1.2"}', '/matomo/ never locks anyone out';

    # Resets: one mount, then all.
    is decoded(control('bruteforce/reset', 'mount=/matomo-bf-trusted/'))->{cleared}, 0, 'reset of another mount';
    is +(bf_call($path, token => $SU))[0]->code, 500, '... leaves this one locked';
    my $cleared = decoded(control('bruteforce/reset'));
    is_deeply $cleared, { reset => 'bruteforce', cleared => 4 }, 'reset: the 4 failures forgotten';
    ($res, $line) = bf_call($path, token => $SU);
    is $res->code . ' ' . $res->content, '200 {"value":"5.1.2"}', 'after the reset a valid token works again';
    is $line->{failed_logins}, 0, 'log: no failures left';
    is_deeply failures('/matomo-bf3/'), {}, 'state: none';

    # Matomo's defaults on /matomo-bf/: 20 in 60 minutes, so 21 failures are
    # answered as unknown tokens and the 22nd request with a token is blocked.
    my %codes;
    $codes{ (bf_call('/matomo-bf/index.php', token => $UNKNOWN))[0]->code }++ for 1 .. 21;
    is_deeply \%codes, { 401 => 21 }, '/matomo-bf/: 21 unknown tokens answered 401';
    ($res, $line) = bf_call('/matomo-bf/index.php', token => $SU);
    is_lockout($res, 'blocked-admin-version', '/matomo-bf/: then a valid token');
    is $line->{failed_logins}, 21, '/matomo-bf/: 21 failures in the window';
    control('bruteforce/reset');
    is +(bf_call('/matomo-bf/index.php', token => $SU))[0]->code, 200, '/matomo-bf/: reset';
};

subtest 'brute-force detection: which address counts (X-Forwarded-For)' => sub {
    control('bruteforce/reset');
    # /matomo-bf3-trusted/: X-Forwarded-For is read when 127.0.0.1 connects.
    my $path = '/matomo-bf3-trusted/index.php';
    my @ips = map { (bf_call($path, token => $UNKNOWN, xff => '198.51.100.7'))[1]{client_ip} } 1 .. 4;
    is_deeply \@ips, [ ('198.51.100.7') x 4 ], 'from the trusted proxy: the forwarded address counts';
    my ($res, $line) = bf_call($path, token => $SU, xff => '198.51.100.7');
    is_lockout($res, 'blocked-admin-version', 'the locked forwarded address, valid token');
    ($res, $line) = bf_call($path, token => $SU, xff => '198.51.100.8');
    is $res->code, 200, 'another forwarded address: not locked';
    ($res, $line) = bf_call($path, token => $SU);
    is $res->code, 200, 'the proxy itself (no X-Forwarded-For): not locked';
    is $line->{client_ip}, '127.0.0.1', 'log: without the header, the connecting address';
    ($res, $line) = bf_call($path, token => $SU, xff => '192.0.2.1, 198.51.100.7');
    is $line->{client_ip}, '198.51.100.7', 'a list: the last address (Matomo 5: proxy_ip_read_last_in_list = 1)';
    is $res->code, 500, '... which is the locked one';
    ($res, $line) = bf_call($path, token => $SU, xff => '198.51.100.7, 127.0.0.1');
    is $line->{client_ip}, '198.51.100.7', 'proxy_ips[] 127.0.0.1 is skipped in the list';
    is_deeply failures('/matomo-bf3-trusted/'), { '198.51.100.7' => 4 }, 'state: the forwarded address\'s failures';

    # /matomo-bf3/: nothing trusted, the header is never read.
    ($res, $line) = bf_call('/matomo-bf3/index.php', token => $UNKNOWN, xff => '198.51.100.20');
    is_deeply [ @$line{qw(client_ip remote_addr)} ], [ '127.0.0.1', '127.0.0.1' ],
        '/matomo-bf3/: X-Forwarded-For ignored, the failure counts against the caller';

    SKIP: {
        skip 'no second loopback address (127.0.0.2) to call from', 9 unless $OTHER_CLIENT;
        # From 127.0.0.2, which is not trusted: its own address counts,
        # whatever it forwards.
        my @from = map { (bf_call($path, token => $UNKNOWN, from => '127.0.0.2', xff => "198.51.100.1$_"))[1] } 1 .. 4;
        is_deeply [ map { $_->{client_ip} } @from ], [ ('127.0.0.2') x 4 ],
            'from an untrusted address: X-Forwarded-For ignored';
        is $from[-1]{failed_logins}, 4, '... all four failures counted against 127.0.0.2';
        ($res) = bf_call($path, token => $SU, from => '127.0.0.2', xff => '198.51.100.30');
        is_lockout($res, 'blocked-admin-version', '127.0.0.2 is locked, whatever it forwards');
        ($res) = bf_call($path, token => $SU, xff => '198.51.100.11');
        is $res->code, 200, 'the addresses it forwarded were never counted';
        ($res) = bf_call($path, token => $SU, from => '127.0.0.2', xff => '198.51.100.7');
        is $res->code, 500, 'nor can it borrow an address to get through';

        # /matomo-bf3-xff/: Matomo's own rule, the header believed whoever connects.
        ($res, $line) = bf_call('/matomo-bf3-xff/index.php', token => $UNKNOWN, from => '127.0.0.2', xff => '203.0.113.5');
        is_deeply [ @$line{qw(remote_addr client_ip failed_logins)} ], [ '127.0.0.2', '203.0.113.5', 1 ],
            'Matomo itself reads X-Forwarded-For from any caller (proxy_ips[] is no trust list)';
        ($res, $line) = bf_call('/matomo-bf3-xff/index.php', token => $SU, from => '127.0.0.2', xff => '127.0.0.1');
        is $line->{client_ip}, '127.0.0.1', 'a single address is taken as it is, even one of proxy_ips[]';
        ($res, $line) = bf_call('/matomo-bf3-xff/index.php', token => $SU, from => '127.0.0.2', xff => 'unknown');
        is $line->{client_ip}, '127.0.0.2', '"unknown": the connecting address';
        ($res, $line) = bf_call('/matomo-bf3-xff/index.php', token => $SU, from => '127.0.0.2', xff => '[2001:db8::7]:443');
        is $line->{client_ip}, '2001:db8::7', 'an IPv6 address with a port: the address';
    }
    control('bruteforce/reset');
};

subtest 'brute-force detection: Matomo\'s address rules (core/IP.php), in-process' => sub {
    my $cfg = sub {
        my %set = @_;
        return FakeMatomo::BruteForce->config(sub { $set{ $_[0] } }, $set{version});
    };
    ok !defined $cfg->(), 'no FakeMatomoBruteForceMax: detection off';
    my $last = $cfg->(FakeMatomoBruteForceMax => 20, FakeMatomoProxyClientHeaders => 'HTTP_X_FORWARDED_FOR',
                      FakeMatomoProxyIps => '10.0.0.0/8 192.168.1.*');
    my $first = $cfg->(FakeMatomoBruteForceMax => 20, FakeMatomoProxyClientHeaders => 'HTTP_X_FORWARDED_FOR',
                       FakeMatomoProxyIps => '10.0.0.0/8 192.168.1.*', version => '4.16.1');
    is_deeply [ $last->max, $last->window ], [ 20, 3600 ], 'Matomo\'s defaults: 20 in 60 minutes';
    my $pick = sub { my ($c, $remote, $xff) = @_; return join ' ', $c->client_ip($remote, sub { $_[0] eq 'X-Forwarded-For' ? $xff : undef }) };
    is $pick->($last, '127.0.0.9', '1.1.1.1, 2.2.2.2, 10.1.2.3'), '2.2.2.2 X-Forwarded-For', '5.x: the last address not in proxy_ips[] (CIDR)';
    is $pick->($last, '127.0.0.9', '1.1.1.1, 192.168.1.20'), '1.1.1.1 X-Forwarded-For', '5.x: 192.168.1.* skipped';
    is $pick->($first, '127.0.0.9', '127.0.0.9, 10.0.0.1, 3.3.3.3, 4.4.4.4'), '3.3.3.3 X-Forwarded-For',
        '4.x (read first): the first one not in proxy_ips[] nor the connecting address';
    is $pick->($last, '127.0.0.9', '10.0.0.1, 10.0.0.2'), '127.0.0.9 connection', 'every listed address skipped: the connecting one';
    is $pick->($last, '127.0.0.9', undef), '127.0.0.9 connection', 'no header: the connecting address';
    is $pick->($last, '127.0.0.9', '5.5.5.5:8080'), '5.5.5.5 X-Forwarded-For', 'a port is cut off';
    my $gated = $cfg->(FakeMatomoBruteForceMax => 3, FakeMatomoProxyClientHeaders => 'X-Forwarded-For',
                       FakeMatomoTrustedProxies => '127.0.0.1');
    is $pick->($gated, '127.0.0.1', '6.6.6.6'), '6.6.6.6 X-Forwarded-For', 'FakeMatomoTrustedProxies: read from a trusted address';
    is $pick->($gated, '127.0.0.2', '6.6.6.6'), '127.0.0.2 connection', '... and not from another';
};

# --- busy mode ------------------------------------------------------------------------

# A request on its own socket, sent whole; raw_answer() reads its answer.
sub raw_send {
    my ($path, $form) = @_;
    my $body = HTTP::Request::Common::POST("$BASE$path", $form)->content;
    my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$PORT", Proto => 'tcp', Timeout => 10)
        or die "connect: $@";
    print {$sock} "POST $path HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\n"
                . "Content-Type: application/x-www-form-urlencoded\r\n"
                . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n$body";
    return $sock;
}
sub raw_answer {
    my ($sock) = @_;
    my $answer = do { local $/; <$sock> } // '';
    close $sock;
    my ($head, $content) = split /\r\n\r\n/, $answer, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})};
    return [ $status, $content ];
}
# The busy counts once nothing is in flight any more (at most 20 s).
sub busy_settled {
    my $busy;
    for (1 .. 200) {
        $busy = decoded(control('state'))->{busy};
        last unless $busy->{in_flight};
        Time::HiRes::sleep(0.1);
    }
    return $busy;
}

subtest 'busy mode: calls in flight' => sub {
    my @v = (module => 'API', format => 'JSON', method => 'VisitsSummary.get', idSite => 1, period => 'day',
             date => '2026-11-25', format_metrics => 0, token_auth => $SU);
    my $whole = body_of('visits-day.json');
    my $reset = decoded(control('busy/reset'));
    is_deeply $reset, { reset => 'busy', in_flight => 0, max_in_flight => 0, calls => 0 }, 'reset: nothing in flight';

    # One after the other: never two in flight.
    my $mark = log_mark();
    my @one = map { call(path => '/matomo-fault/busy/0/index.php', form => \@v) } 1 .. 3;
    is_deeply [ map { $_->code . ' ' . ($_->content eq $whole ? 'answer' : $_->content) } @one ],
              [ ('200 answer') x 3 ], 'busy/0: the normal answer';
    my @lines = grep { ($_->{fault} // '') eq 'busy' } log_since($mark);
    is_deeply [ map { [ $_->{in_flight}, $_->{max_in_flight} ] } @lines ], [ [1, 1], [1, 1], [1, 1] ],
        'one at a time: each call alone in flight (log)';
    is_deeply busy_settled(), { in_flight => 0, max_in_flight => 1, calls => 3 }, 'state: max 1, 3 calls';

    # Three at once, each held 3 s: all three in flight together.
    control('busy/reset');
    $mark = log_mark();
    my @socks = map { raw_send('/matomo-fault/busy/3000/index.php', \@v) } 1 .. 3;
    my @answers = map { raw_answer($_) } @socks;
    is_deeply [ map { "$_->[0] " . (($_->[1] // '') eq $whole ? 'answer' : $_->[1] // '') } @answers ],
              [ ('200 answer') x 3 ], 'busy/3000 x 3: three normal answers';
    @lines = grep { ($_->{fault} // '') eq 'busy' } log_since($mark);
    is_deeply [ sort map { $_->{in_flight} } @lines ], [ 1, 2, 3 ], 'log: in_flight 1, 2, 3 as they arrived';
    is_deeply [ map { $_->{delay} } @lines ], [ 3, 3, 3 ], 'log: each held 3 s';
    is_deeply busy_settled(), { in_flight => 0, max_in_flight => 3, calls => 3 }, 'state: max 3 in flight, none left';

    # A caller that hangs up is counted out too.
    control('busy/reset');
    $mark = log_mark();
    raw_post('/matomo-fault/busy/60000/index.php', \@v, hang_up => 0.5);
    my @seen = log_until($mark, sub { grep { ($_->{outcome} // '') eq 'aborted' } @_ });
    is scalar(grep { ($_->{outcome} // '') eq 'aborted' } @seen), 1, 'busy/60000, hung up: aborted';
    is_deeply busy_settled(), { in_flight => 0, max_in_flight => 1, calls => 1 }, 'hung up: no longer in flight';

    is call(path => '/matomo-fault/busy/index.php', form => \@v)->code, 404, 'busy without <ms>: 404';
    is call(path => '/matomo-fault/busy/600001/index.php', form => \@v)->code, 404, 'busy over 10 min: 404';
};

# --- Matomo 4.16.1 ----------------------------------------------------------------------

my $M4 = "$T/matomo/recorded-4.16.1";
sub m4 { my ($file) = @_; return $JSON->decode(slurp("$M4/$file")) }
sub m4_call { my (%o) = @_; return call(%o, path => '/matomo4/index.php') }

subtest 'Matomo 4.16.1 (/matomo4/): every recording comes back exactly' => sub {
    opendir my $dh, $M4 or die $!;
    my @files = sort grep { /\.json$/ } readdir $dh;
    my $n = 0;
    for my $file (@files) {
        my $r = m4($file);
        my $token = { admin => $SU, viewer => $VIEWER, bad => $UNKNOWN, none => undef }->{ $r->{who} };
        my $res = m4_call(token => $token, form => [ map { @$_ } @{ $r->{params} } ]);
        (my $body = $r->{body}) =~ s{\@TOKEN_AUTH\@}{$token // 'anonymous'}ge;
        is $res->code . ' ' . $res->content, "$r->{status} $body", "4.16.1 $file ($r->{who})";
        $n++;
    }
    cmp_ok $n, '>=', 100, 'all 4.16.1 recordings asked';
};

subtest 'Matomo 4.16.1: errors are 200, an unknown token is the anonymous user' => sub {
    my @version = (module => 'API', method => 'API.getMatomoVersion', format => 'JSON');
    my $none = m4('probe-version-none.json')->{body};
    like $none, qr/requires view access for at least one website/, 'recorded: no token on API.getMatomoVersion';
    is m4('probe-version-bad.json')->{body}, $none, 'recorded: an unknown token, the same';
    my $bad = m4_call(token => $UNKNOWN, form => \@version);
    is $bad->code . ' ' . $bad->content, "200 $none", 'unknown token: 200, the anonymous user\'s error';
    is_json_type($bad, 'unknown token (4.16.1)');
    is m4_call(token => $JWT, form => \@version)->content, $none, 'the JWT as token_auth: unknown, anonymous';
    my $jwt = m4_call(form => \@version, headers => [ Authorization => "Bearer $JWT" ]);
    is $jwt->code . ' ' . $jwt->content, "200 $none", 'Authorization: Bearer is not read (the JWT)';
    is m4_call(form => \@version, headers => [ Authorization => "Bearer $SU" ])->content, $none,
        'Authorization: Bearer is not read (a token_auth)';
    is m4_call(token => $SU, form => [ @version, force_api_session => 1 ])->content, '{"value":"4.16.1"}',
        'force_api_session=1: Matomo 4 falls back to the token';
    is m4_call(token => $VIEWER, form => \@version, headers => [ Authorization => "Bearer $SU" ])->code, 200,
        'a Bearer beside token_auth: no conflict (the header is not read)';
    # $_GET + $_POST: the query string's token wins, without a word.
    my $both = call(path => '/matomo4/index.php', query => 'token_auth=' . _pct1($VIEWER), token => $SU,
                    form => [ map { @$_ } @{ m4('err-viewer-site1.json')->{params} } ]);
    is $both->code . ' ' . $both->content, '200 ' . m4('err-viewer-site1.json')->{body},
        'token_auth in query and body differ: the query\'s (the viewer\'s) is used, 200';
    my $anon_site = m4_call(form => [ map { @$_ } @{ m4('err-no-token.json')->{params} } ]);
    is $anon_site->code . ' ' . $anon_site->content, '200 ' . m4('err-no-token.json')->{body}, 'no token on a report: 200';
    my $v999 = m4_call(token => $VIEWER, form => [ module => 'API', format => 'JSON', method => 'VisitsSummary.get',
                                                   idSite => 999, period => 'day', date => '2026-11-25' ]);
    is $v999->code, 200, 'viewer asks site 999: 200 (401 on Matomo 5)';
    like decoded($v999)->{message}, qr/requires 'view' access for the website id = 999/, 'viewer asks site 999: message';

    # The data set's own today (2026-12-04), and Matomo 4's bulk parsing.
    my $last7 = m4('visits-last7.json');
    my $today = m4_call(token => $SU, form => [ module => 'API', format => 'JSON', method => 'VisitsSummary.get',
                                                idSite => 1, period => 'day', date => 'today', format_metrics => 0 ]);
    is_deeply decoded($today), JSON::PP->new->decode($last7->{body})->{'2026-12-04'}, 'today is 2026-12-04 in the 4.16.1 set';
    my $amp = decoded(m4_call(token => $SU, form => [ module => 'API', format => 'JSON', method => 'API.getBulkRequest',
                                                      'urls[0]' => 'method=API.getMatomoVersion&x=a%26method%3DNope.get' ]));
    is $amp->[0]{result}, 'error', 'bulk: each urls[i] decoded whole, then split (method=Nope.get wins)';

    # No full/ answers here: a cut answer (filter_limit=N) serves only its
    # own order.  Sorted the same way, fewer rows and fewer columns come out
    # of it; sorted otherwise, its rows would not be the first ones.
    my $slow = JSON::PP->new->decode(m4('pageurls-sorted-slow.json')->{body});
    my @slow_q = (module => 'API', format => 'JSON', method => 'Actions.getPageUrls', idSite => 1,
                  period => 'day', date => '2026-11-26', flat => 1, format_metrics => 0);
    my $fewer = decoded(m4_call(token => $SU, form => [ @slow_q, filter_sort_column => 'avg_page_load_time',
                                                        filter_limit => 4, showColumns => 'nb_hits,avg_page_load_time' ]));
    is_deeply [ map { [ @$_{qw(label nb_hits avg_page_load_time)} ] } @{ $fewer // [] } ],
              [ map { [ @$_{qw(label nb_hits avg_page_load_time)} ] } @{$slow}[0 .. 3] ],
        '4.16.1: the same sort, 4 rows, 2 columns: out of Matomo\'s sorted answer';
    ok !(grep { exists $_->{nb_visits} } @{ $fewer // [] }), '... showColumns applied';
    my $other = m4_call(token => $SU, form => [ @slow_q, filter_sort_column => 'nb_hits', filter_limit => 5 ]);
    like decoded($other)->{message} // '', qr/^fake Matomo 4\.16\.1: no recorded answer for Actions\.getPageUrls/,
        '4.16.1: another sort of a cut answer (20 of more rows): no recorded answer, not a re-sorted cut';

    my $mark = log_mark();
    m4_call(token => $UNKNOWN, form => \@version);
    my ($line) = grep { ($_->{path} // '') eq '/matomo4/index.php' } log_since($mark);
    is_deeply [ @$line{qw(matomo who auth status)} ], [ '4.16.1', 'unknown', 'post', 200 ],
        'log: matomo 4.16.1, who unknown (answered as anonymous)';
};

# --- the request log ---------------------------------------------------------------

subtest 'request log' => sub {
    my $path = "$T/logs/fake_matomo.jsonl";
    ok -s $path, 'the request log exists';
    my @lines = split /\n/, slurp($path);
    my @entries = map { JSON::PP->new->decode($_) } @lines;
    is scalar @entries, scalar @lines, 'one JSON object per line';
    ok !(grep { exists $_->{params}{token_auth} } @entries), 'token_auth is never logged';
    ok((grep { $_->{method} && $_->{method} eq 'SitesManager.addSite' && $_->{write_attempt} == 1
                 && $_->{who} eq 'superuser' } @entries), 'a write attempt is flagged');
    ok((grep { $_->{method} && $_->{method} eq 'API.getBulkRequest' && $_->{write_attempt} == 1 } @entries),
       'a write inside a bulk request is flagged');
    ok((grep { $_->{auth} && $_->{auth} eq 'query' && $_->{token_in_query} == 1 } @entries), 'a query-string token is flagged');
    ok((grep { $_->{auth} && $_->{auth} eq 'bearer' && $_->{who} eq 'viewer_jwt' } @entries), 'Bearer JWT logged as viewer_jwt');
    ok((grep { $_->{who} && $_->{who} eq 'unknown' && $_->{status} == 401 } @entries), 'unknown token logged');
    ok((grep { $_->{fault} && $_->{fault} eq 'oversized' } @entries), 'faults logged');
    my ($entry) = grep { $_->{method} && $_->{method} eq 'VisitsSummary.get' && $_->{status} == 200 } @entries;
    ok $entry && $entry->{params}{idSite}, 'parameters logged';
    my ($bulk) = grep { $_->{method} && $_->{method} eq 'API.getBulkRequest' } @entries;
    ok ref $bulk->{params}{urls} eq 'HASH', 'bulk urls logged';

    # No log of this test server holds a test token.
    opendir my $dh, "$T/logs" or die $!;
    for my $file (grep { -f "$T/logs/$_" } readdir $dh) {
        my $text = slurp("$T/logs/$file");
        for my $name (qw(superuser viewer viewer_jwt)) {
            unlike $text, qr/\Q$tokens->{$name}\E/, "logs/$file holds no $name token";
        }
        unlike $text, qr/\Q$UNKNOWN\E/, "logs/$file holds no presented unknown token";
    }
    my @errors = grep { /\[(?:\w+:)?(?:error|crit|alert|emerg)\]/ && /perl|FakeMatomo|fake Matomo/i }
                 split /\n/, slurp("$T/logs/error_log");
    is_deeply \@errors, [], 'no fake Matomo error in error_log';
};

# --- in-process: the filters against every complete recording -------------------

subtest 'filters reproduce Matomo on every filtered sample (leave-one-out)' => sub {
    # Each sample answered without itself: from full/ answers and the
    # filters.  Where the fake can build it, it must be Matomo's bytes.
    my $api = FakeMatomo::Api->new(no_exact => 1);
    my $store = $api->store;
    my %user = (admin => { who => 'superuser', login => 'admin', superuser => 1 },
                viewer => { who => 'viewer', login => 'viewer', sites => [2] });
    my $built = 0;
    for my $rec (grep { $_->{id} && $_->{file} !~ m{/} && $user{ $_->{who} } } @{ $store->{recordings} }) {
        next if ($rec->{params}->get('method') // '') eq 'API.getBulkRequest';
        next if $rec->{file} eq 'live-counters.json';    # recorded again later, other numbers
        my $list = $store->{by_key}{ $rec->{id}{key} };
        my @kept = @$list;
        @$list = grep { $_ != $rec } @kept;
        my $res = $api->process($rec->{params}, $user{ $rec->{who} });
        @$list = @kept;
        next if $res->{answer} eq 'error' && $res->{body} =~ /no recorded answer/;
        (my $want = $rec->{body}) =~ s/"timerMillis":"\d+"//;
        (my $got  = $res->{body}) =~ s/"timerMillis":"\d+"//;
        is $got, $want, "$rec->{file} built by the fake ($res->{answer})";
        $built++;
    }
    cmp_ok $built, '>=', 60, 'most samples can be built from full/';
};

done_testing();
