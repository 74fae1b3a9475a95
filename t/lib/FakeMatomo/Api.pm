package FakeMatomo::Api;
# One Reporting API request, answered as Matomo 5.1.2's index.php?module=API
# answers it, from the recorded answers.  No Apache in here: FakeMatomo.pm
# reads the HTTP request and authenticates; this decides the answer.
#
# new(version => '4.16.1') answers as Matomo 4.16.1 from its own recordings
# (t/matomo/recorded-4.16.1/, another data set with its own "today",
# 2026-12-04): every error, access errors included, is HTTP 200, and
# API.getBulkRequest decodes each urls[i] whole before splitting it.
#
# The checks run in Matomo's order (core/API/Request.php, core/API/Proxy.php,
# the API methods, core/Archive): format, method name, plugin, method,
# required parameters, write refusal, access, site, period, date, segment,
# report; then the answer:
#
#   exact     a recording with the same identity, filters and format_metrics
#   filtered  a complete recording of the same identity + the generic filters
#   partial   the same from a recording cut by its own filter_limit (asked for
#             more rows than were recorded; no sort or pattern asked)
#   derived   put together from recorded periods/sites (date=last7 out of
#             last14, one day out of last14, idSite=2 out of idSite=all,
#             the view-only user's rows out of the superuser's)
#
# and a request with no such answer gets a Matomo-style error naming what is
# missing, never an empty success.
use strict;
use warnings;
use sort 'stable';
use FakeMatomo::JSON qw(php_string);
use FakeMatomo::Params;
use FakeMatomo::Store;
use FakeMatomo::Filters;
use FakeMatomo::Auth;
use FakeMatomo::Dates;
use FakeMatomo::ImageGraph;

use constant JSON_TYPE => 'application/json; charset=utf-8';
use constant XML_TYPE  => 'text/xml; charset=utf-8';

# The recorded Matomo versions: where their answers are, and their "today".
my %DATA_SET = (
    '5.1.2'  => { recorded => 'recorded',        catalogue => 'api-methods-5.1.2.json',  today => '2026-11-26' },
    '4.16.1' => { recorded => 'recorded-4.16.1', catalogue => 'api-methods-4.16.1.json', today => '2026-12-04' },
    # Matomo 5.1.2 with browser archiving disabled for segments: the
    # segmented answers recorded there, and the facts that set lacks taken
    # from recordings of the same data set (recorded-4.16.1: its sites and
    # segment dictionary, figures identical) and of the same Matomo version
    # (recorded/: its version answer).  See t/matomo/README.md.
    '5.1.2-unprocessed-segment' => {
        recorded => 'recorded-5.1.2-unprocessed-segment', catalogue => 'api-methods-5.1.2.json',
        today => '2026-12-04',
        facts => [
            [ 'recorded-4.16.1' => qw(SitesManager.getSiteFromId SitesManager.getSitesWithAtLeastViewAccess
                                      SitesManager.getSitesIdWithAtLeastViewAccess API.getSegmentsMetadata) ],
            [ 'recorded' => qw(API.getMatomoVersion) ],
        ],
    },
);
sub versions { return sort keys %DATA_SET }

# API methods whose answer is a DataTable (generic filters apply); every
# other method returns a PHP array (ResponseBuilder::handleArray).
my %REPORT_MODULE = map { $_ => 1 } qw(
    Actions Referrers DevicesDetection UserCountry UserLanguage VisitsSummary
    VisitFrequency VisitTime VisitorInterest Events Contents Resolution
    DevicePlugins UserId PagePerformance MultiSites Ecommerce
);
my %REPORT_METHOD = map { $_ => 1 } qw(
    API.get Goals.get Goals.getMetrics Goals.getItemsSku Goals.getItemsName
    Goals.getItemsCategory Goals.getDaysToConversion Goals.getVisitsUntilConversion
    CustomDimensions.getCustomDimension Live.getLastVisitsDetails
);
my %NOT_A_REPORT = map { $_ => 1 } qw(UserCountry.getLocationFromIP UserCountry.getCountryCodeMapping);

# Answers that list the asker's own sites.
my %USER_SITES = map { $_ => 1 } qw(
    MultiSites.getAll SitesManager.getSitesWithAtLeastViewAccess
);

# Methods Matomo runs without any access check.
my %NO_ACCESS_CHECK = map { $_ => 1 } qw(
    SitesManager.getSitesWithAtLeastViewAccess SitesManager.getSitesIdWithAtLeastViewAccess
);

# Anything that changes Matomo.  The gateway must never send one.
my $WRITE_ACTION = qr/^(?:add|update|delete|remove|set|create|edit|save|change|rename|
    invalidate|regenerate|generate|reset|send|insert|import|anonymize|activate|deactivate|
    install|uninstall|mark|unmark|clear|move|copy|enable|disable|star|unstar|block|unblock|
    revoke|approve|deny|upload|purge|run|trigger|archive|configure|execute|initiate|request|
    validate|dismiss|skip|register|whatIsNewMark)/x;

sub is_write_method {
    my ($method) = @_;
    my ($module, $action) = split /\./, $method // '', 2;
    return 0 unless defined $action;
    return 1 if $module eq 'UsersManager';
    return $action =~ $WRITE_ACTION ? 1 : 0;
}

sub new {
    my ($class, %opt) = @_;
    my $version = $opt{version} // '5.1.2';
    my $set = $DATA_SET{$version} or die "fake Matomo: no recorded Matomo $version\n";
    my $store = $opt{store} // FakeMatomo::Store->new(%$set, %opt);
    # ImageGraph.get's pictures were recorded on a Matomo 5.1.2 only.
    my $charts = $version eq '5.1.2' ? FakeMatomo::ImageGraph->new(home => $store->home) : undef;
    return bless { store => $store, no_exact => $opt{no_exact}, version => $version, charts => $charts,
                   today => $set->{today}, matomo4 => ($version =~ /^4\./ ? 1 : 0) }, $class;
}

sub version { $_[0]{version} }
sub today   { $_[0]{today} }
sub matomo4 { $_[0]{matomo4} }

sub store { $_[0]{store} }

# --- errors ------------------------------------------------------------------

package FakeMatomo::Api::Error {
    sub new { my ($class, %e) = @_; return bless {%e}, $class }
}

# Matomo's exception rendering: the message through
# Renderer::formatValueXml (HTML-escaped), newlines turned into spaces.
sub _fail {
    my ($message, $status) = @_;
    die FakeMatomo::Api::Error->new(status => $status // 200, message => $message);
}

sub _escaped_message {
    my ($message) = @_;
    my %esc = ('&' => '&amp;', '<' => '&lt;', '>' => '&gt;', '"' => '&quot;');
    $message =~ s/([&<>"])/$esc{$1}/g;
    $message =~ s/\r?\n/ /g;
    return $message;
}

sub error_body {
    my ($message) = @_;
    return '{"result":"error","message":' . php_string(_escaped_message($message)) . '}';
}

# The same error as Matomo's XML renderer writes it (format=xml, and
# Matomo's default when no format is sent).
sub xml_error_body {
    my ($message) = @_;
    return qq{<?xml version="1.0" encoding="utf-8" ?>\n<result>\n\t<error message="}
         . _escaped_message($message) . qq{" />\n</result>};
}

sub _is_xml { my ($req) = @_; return lc($req->get('format') // 'xml') eq 'xml' }

# --- the request -----------------------------------------------------------

# $req: FakeMatomo::Params ($_GET + $_POST); $user from FakeMatomo::Auth.
# Returns { status, ctype, body, method, write, answer, bulk }.
sub process {
    my ($self, $req, $user, %opt) = @_;
    local $FakeMatomo::Dates::TODAY = $self->{today};
    $opt{matomo4} = 1 if $self->{matomo4};
    $req = $req->clone;
    # API\Controller: over HTTP, no filter_limit means 100 (sub-requests of
    # a bulk request inherit the outer request's).
    $req->set(filter_limit => '100') unless $opt{nested} || $req->has('filter_limit');
    my $method = $req->get('method');
    my $res = eval { $self->_dispatch($req, $user, %opt) };
    unless ($res) {
        my $err = $@;
        die $err unless ref $err eq 'FakeMatomo::Api::Error';
        # Matomo 4 answers every API error with 200, access errors too.
        my $status = $self->{matomo4} ? 200 : $err->{status};
        $res = $err->{xml} ? $err->{xml}
             : _is_xml($req) ? { status => $status, ctype => XML_TYPE,
                                 body => xml_error_body($err->{message}), answer => 'error' }
             : { status => $status, ctype => JSON_TYPE,
                 body => error_body($err->{message}), answer => 'error' };
    }
    $res->{method} //= $method;
    $res->{write}  //= is_write_method($method);
    return $res;
}

sub _dispatch {
    my ($self, $req, $user, %opt) = @_;
    my $store = $self->{store};

    # Matomo's default format is XML.  Only JSON answers were recorded: an
    # XML request gets Matomo's own errors as XML (the checks below), and
    # otherwise, like any other format, an XML error document saying so,
    # which a JSON client cannot read, as it could not read Matomo's XML.
    my $format = lc($req->get('format') // 'xml');
    if ($format ne 'json' && $format ne 'xml') {
        die FakeMatomo::Api::Error->new(xml => _only_json($format));
    }
    my $res = $self->_checked_answer($req, $user, %opt);
    die FakeMatomo::Api::Error->new(xml => _only_json($format))
        if $format ne 'json' && $res->{ctype} eq JSON_TYPE;
    return $res;
}

sub _only_json {
    my ($format) = @_;
    return { status => 200, ctype => XML_TYPE, answer => 'error',
             body => xml_error_body("fake Matomo: only format=JSON answers are recorded (format=$format)") };
}

sub _checked_answer {
    my ($self, $req, $user, %opt) = @_;
    my $store = $self->{store};

    my $method = $req->get('method');
    _fail("The parameter 'method' isn't set in the Request, and a default value wasn't provided.")
        unless defined $method && $method ne '';
    my @parts = split /\./, $method, -1;
    _fail("The method name is invalid. Expected 'module.methodName'") unless @parts == 2;
    my ($module, $action) = @parts;
    _fail("The plugin $module is not enabled. You can activate the plugin on Settings > Plugins page in Matomo.")
        unless $store->plugin_active($module);
    my $info = $store->method_info($module, $action)
        or _fail("The method '$action' does not exist or is not available in the module '\\Piwik\\Plugins\\$module\\API'.");
    for my $name (@{ $info->{required} }) {
        _fail("Please specify a value for '$name'.") unless $req->has($name);
    }

    if (is_write_method($method)) {
        _fail("You can't access this resource as it requires a 'superuser' access.", 401)
            unless $user->{superuser};
        _fail('fake Matomo: write methods are never recorded');
    }

    return $self->_bulk($req, $user, %opt) if $method eq 'API.getBulkRequest';

    my @viewable = FakeMatomo::Auth::viewable($user, $store->site_ids);
    $self->_check_access($req, $user, $info, \@viewable, $method);

    if ($method eq 'SitesManager.getSitesIdWithAtLeastViewAccess') {
        my $list = FakeMatomo::Filters::filter_array(
            [ map { FakeMatomo::JSON::raw($_) } @viewable ], $req);
        return _ok('[' . join(',', map { $$_ } @$list) . ']', 'derived');
    }

    return $self->_image_graph($req) if $method eq 'ImageGraph.get';

    my $id = $store->identity($req, \@viewable);
    _fail("fake Matomo: cannot read this request") unless $id;
    _fail($id->{error}) if $id->{error};
    _check_segment($store, $req->get('segment'));
    if ($method eq 'API.getProcessedReport') {
        my $report = ($req->get('apiModule') // '') . '.' . ($req->get('apiAction') // '');
        my ($site) = @{ $id->{sites} };
        _fail("Requested report $report for Website id=$site not found in the list of available reports. \n")
            if defined $site && !$store->report_exists($site, $report);
    }

    my $answer = $self->_answer($req, $user, $id, \@viewable)
        or _fail($self->_no_recording_message($req, $id));
    return $answer;
}

sub _ok {
    my ($body, $mode, $status) = @_;
    return { status => $status // 200, ctype => JSON_TYPE, body => $body, answer => $mode };
}

# --- access ----------------------------------------------------------------

sub _check_access {
    my ($self, $req, $user, $info, $viewable, $method) = @_;
    return if $NO_ACCESS_CHECK{$method};
    my %declared = map { $_ => 1 } @{ $info->{params} };
    for my $name (qw(idSite idSites)) {
        next unless $declared{$name} && $req->has($name);
        my $value = $req->get($name) // '';
        next if $name eq 'idSites' && $value eq '';
        return $self->_check_view($value, $user, $viewable);
    }
    # Everything else needs view access to at least one site.
    _fail("You can't access this resource as it requires view access for at least one website.", 401)
        unless $user->{superuser} || @$viewable;
    return;
}

# Access::checkUserHasViewAccess, then the site's existence (Site).
sub _check_view {
    my ($self, $raw, $user, $viewable) = @_;
    my $store = $self->{store};
    my (undef, $ids) = $store->site_spec($raw, $viewable);
    if (!$user->{superuser}) {
        _fail("The parameter 'idSite=' is missing from the request.", 401) unless @$ids;
        my %can = map { $_ => 1 } @$viewable;
        for my $id (@$ids) {
            _fail("You can't access this resource as it requires 'view' access for the website id = $id.", 401)
                unless $can{$id};
        }
        return;
    }
    return if $raw eq 'all';
    my @check = @$ids ? @$ids : ($raw);
    for my $id (@check) {
        _fail("An unexpected website was found in the request: website id was set to '$id' .")
            unless $store->site_exists($id);
    }
    return;
}

# SegmentExpression::parseOperand, then Segment's name check.
sub _check_segment {
    my ($store, $segment) = @_;
    return unless defined $segment && $segment ne '';
    for my $operand (split /[;,]/, $segment) {
        my $decoded = FakeMatomo::Params::url_decode($operand);
        $decoded =~ /^(.+?)(==|!=|>=|>|<=|<|=@|!@|=\^|=\$)(.*)$/s
            or _fail("The segment condition '$decoded' is not valid.");
        my ($name, $op, $value) = ($1, $2, $3);
        _fail("The segment '$decoded' has no value specified. You can leave this value empty only "
            . "when you use the operators: != (is not) or == (is)")
            if $value eq '' && $op ne '==' && $op ne '!=';
        _fail("Segment '$name' is not a supported segment.") unless $store->segment_known($name);
    }
    return;
}

# --- finding the answer ----------------------------------------------------

sub _int {
    my ($req, $name, $default) = @_;
    my ($ok, $v) = FakeMatomo::Filters::int_param($req, $name, $default);
    return $ok ? $v : undef;
}

sub _answer {
    my ($self, $req, $user, $id, $viewable) = @_;
    my $store  = $self->{store};
    my $method = $id->{method};
    my $sig    = FakeMatomo::Store::filter_signature($req);
    my $fm     = FakeMatomo::Store::format_metrics($req);

    # The asker's own site list: a superuser's recording answers a
    # superuser, a viewer's a viewer; anyone else gets the superuser's
    # answer cut down to the sites they can view.
    my $own_sites = $USER_SITES{$method};
    my $mine = sub {
        my ($rec) = @_;
        return 1 unless $own_sites;
        return $rec->{who} eq 'admin' if $user->{superuser};
        return $rec->{who} eq 'viewer' && $user->{login} eq 'viewer';
    };
    my @recs = $store->recordings_for($id->{key});

    unless ($self->{no_exact}) {
        for my $rec (grep { $mine->($_) } @recs) {
            return _ok($rec->{body}, 'exact', $rec->{status})
                if $rec->{filters} eq $sig && $rec->{fm} eq $fm;
        }
    }
    # Matomo's own error for this question (a report that does not exist...).
    if (my ($err) = grep { $_->{error} } @recs) {
        return _ok($err->{body}, 'exact', $err->{status});
    }

    my $ordered = grep { defined $req->get($_) && $req->get($_) ne '' }
                  qw(filter_sort_column filter_sort_order filter_pattern);
    my $offset = _int($req, 'filter_offset', 0) // 0;
    my $limit  = _int($req, 'filter_limit');
    my $needed = !defined $limit || $limit < 0 ? 9**9 : $offset + $limit;

    # Numbers (format_metrics=0) can be formatted as asked; a formatted
    # answer serves only the same formatting, unless nothing in it was
    # formatted (no rates) or the method's answer is never formatted.
    # A complete answer serves any order (the fake sorts it as Matomo
    # would), a searched one only the same search; a cut one only the same
    # order and search, as its rows are then the first rows asked for (a
    # re-sorted cut answer would miss rows beyond its cut).
    my $report = _is_report($method) || $method eq 'API.getProcessedReport';
    my ($sorted_by, $searched) = FakeMatomo::Store::order_signature($req);
    my @base = sort {
        $b->{complete} <=> $a->{complete}
        || ($b->{fm} eq $fm) <=> ($a->{fm} eq $fm)
    } grep {
        !$_->{trimmed} && !$_->{error}
        && ($_->{searched} eq '' || $_->{searched} eq $searched)
        && ($_->{complete} || ($_->{sorted_by} eq $sorted_by && $_->{searched} eq $searched))
        && ($_->{fm} eq '0' || $_->{fm} eq $fm || !$_->{formatted} || !$report)
    } @recs;

    # Whole answers first, then cut ones that hold every row asked for,
    # then (no sort, no search asked) cut ones that hold fewer.
    my @mine = grep { $mine->($_) } @base;
    my @others = $own_sites && !$user->{superuser} ? grep { $_->{who} eq 'admin' } @base : ();
    my @usable;
    for my $rec (@mine, @others) {
        my $mode = $rec->{complete} || $needed <= $rec->{limit} ? 'filtered' : 'partial';
        next if $mode eq 'partial' && $ordered;
        push @usable, [ $rec, $mode ];
    }
    @usable = sort {
        ($a->[1] eq 'partial') <=> ($b->[1] eq 'partial')
        || ($a->[1] eq 'partial' ? $b->[0]{limit} <=> $a->[0]{limit} : 0)
    } @usable;
    if (my $use = $usable[0]) {
        my ($rec, $mode) = @$use;
        my $value = FakeMatomo::JSON::parse($rec->{body});
        unless ($mine->($rec)) {
            $value = _only_sites($value, $viewable);
            $mode = 'derived';
        }
        return _ok($self->_filtered($value, $req, $id, $rec->{fm}), $mode);
    }

    if (my $latest = $self->_latest_visits($req, $user, $id, $viewable)) {
        return $latest;
    }
    my $derived = $self->_derive($id) // return undef;
    return _ok($self->_filtered(FakeMatomo::JSON::parse($derived), $req, $id, '0'), 'derived');
}

# Live.getLastVisitsDetails without period and date lists the latest visits
# of all time (Live\Model::queryLogVisits without a date range).  The
# recorded visits end today, so those are the latest visits of today's
# recording as far as it holds as many as asked; a site without a single
# visit in the whole recorded span answers [].
sub _latest_visits {
    my ($self, $req, $user, $id, $viewable) = @_;
    return undef unless $id->{method} eq 'Live.getLastVisitsDetails' && $id->{date} eq ''
        && !$id->{site_multi} && @{ $id->{sites} } == 1;
    my $store = $self->{store};
    my $day = $req->clone;
    $day->set(period => 'day');
    $day->set(date => FakeMatomo::Dates::TODAY);
    my $day_id = $store->identity($day, $viewable) or return undef;
    my $res = $self->_answer($day, $user, $day_id, $viewable) or return undef;
    my $visits = FakeMatomo::JSON::parse($res->{body});
    return undef unless ref $visits eq 'ARRAY';
    my $limit = _int($req, 'filter_limit', 100) // return undef;
    return _ok($res->{body}, 'derived') if $limit >= 0 && @$visits >= $limit;
    return undef if @$visits;
    my $all = FakeMatomo::Params->from_pairs([
        [ method => 'VisitsSummary.get' ], [ idSite => $id->{sites}[0] ],
        [ period => 'range' ], [ date => '2026-10-01,' . FakeMatomo::Dates::TODAY ],
        [ format_metrics => '0' ], [ filter_limit => '-1' ] ]);
    my $all_id = $store->identity($all, $viewable) or return undef;
    my $sum = $self->_answer($all, $user, $all_id, $viewable) or return undef;
    my $obj = FakeMatomo::JSON::parse($sum->{body});
    return undef unless ref $obj eq 'FakeMatomo::JSON::Object' && $obj->has('nb_visits');
    return $obj->get('nb_visits')->value == 0 ? _ok('[]', 'derived') : undef;
}

# The rows of a site list that belong to the given sites.
sub _only_sites {
    my ($value, $sites) = @_;
    return $value unless ref $value eq 'ARRAY';
    my %keep = map { $_ => 1 } @$sites;
    return [ grep {
        ref $_ eq 'FakeMatomo::JSON::Object' && $_->has('idsite') && $keep{ $_->get('idsite')->value }
    } @$value ];
}

# API.get's Referrers_*_percent columns are shares of the whole answer:
# a date-keyed API.get shows other values than single periods (seen in the
# recordings), so its periods cannot be cut out or put together.
my %WHOLE_ANSWER_ONLY = ('API.get' => 1);

# Put an answer together from recorded periods or sites.
sub _derive {
    my ($self, $id) = @_;
    my $store = $self->{store};
    my $spec  = $id->{spec};
    return undef if $WHOLE_ANSWER_ONLY{ $id->{method} };
    if ($id->{site_multi}) {
        return undef if $spec && $spec->{kind} eq 'multi';
        my @parts;
        for my $site (@{ $id->{sites} }) {
            my $cell = $store->site_cell($id, $site) // return undef;
            push @parts, php_string("$site") . ':' . $cell;
        }
        return '{' . join(',', @parts) . '}';
    }
    return undef unless $spec;
    if ($spec->{kind} eq 'multi') {
        my @parts;
        for my $key (@{ $spec->{keys} }) {
            my $cell = $store->date_cell($id, $spec->{period}, $key) // return undef;
            push @parts, php_string($key) . ':' . $cell;
        }
        return '{' . join(',', @parts) . '}';
    }
    if ($spec->{kind} eq 'single') {
        my $cell = $store->date_cell($id, $spec->{period}, $spec->{key});
        # A period a date-keyed answer shows as [] has no single-period
        # spelling we could trust (a simple report answers zeros).
        return defined $cell && $cell ne '[]' ? $cell : undef;
    }
    return undef;
}

sub _is_report {
    my ($method) = @_;
    my ($module) = split /\./, $method;
    return 0 if $NOT_A_REPORT{$method};
    return $REPORT_METHOD{$method} || $REPORT_MODULE{$module} ? 1 : 0;
}

# The generic filters, as Matomo applies them to this kind of answer.
# $fm is the format_metrics of the recording the value comes from.
sub _filtered {
    my ($self, $value, $req, $id, $fm) = @_;
    my $method = $id->{method};
    if ($method eq 'API.getProcessedReport') {
        # Not emulated: without format_metrics=0 Matomo pretty-prints every
        # metric of a processed report ("7 min 46s", "$8,579.68").
        $value = FakeMatomo::Filters::filter_processed($value, $req);
    } elsif (_is_report($method)) {
        my $depth = ($id->{site_multi} ? 1 : 0) + ($id->{spec} && $id->{spec}{kind} eq 'multi' ? 1 : 0);
        $value = FakeMatomo::Filters::filter_report($value, $req, $depth,
                                                    live => ($method =~ /^Live\./ ? 1 : 0));
        # format_metrics=1/all (money, durations) is not emulated: numbers.
        FakeMatomo::Filters::format_bc($value)
            if FakeMatomo::Store::format_metrics($req) eq 'bc' && $fm eq '0';
    } else {
        $value = FakeMatomo::Filters::filter_array($value, $req);
    }
    return FakeMatomo::JSON::encode($value);
}

# ImageGraph.get, once access was checked: a recorded picture of the same
# shape (FakeMatomo::ImageGraph), whatever format was asked (Matomo sends
# the PNG whatever it is), or the "no recorded answer" error.
sub _image_graph {
    my ($self, $req) = @_;
    _check_segment($self->{store}, $req->get('segment'));
    if ($self->{charts}) {
        my $res = $self->{charts}->answer($req);
        return $res if $res;
    }
    _fail($self->_no_recording_message($req, { method => 'ImageGraph.get' },
                                       $self->{charts} ? [ $self->{charts}->recorded_shapes ] : []));
}

# "No recorded answer": what was asked, and what was recorded instead
# (the store's recordings of the method, or the given request parameters).
sub _no_recording_message {
    my ($self, $req, $id, $recorded_params) = @_;
    my @asked = grep { !/^(?:module|method|format|format_metrics|token_auth|filter_limit)=/ }
                $req->flat_pairs;
    my %seen;
    my @recorded = grep { !$seen{$_}++ } map {
        join ' ', grep { !/^(?:module|method|format|format_metrics|filter_limit)=/ }
                  $_->{params}->flat_pairs
    } $recorded_params ? map { +{ params => $_ } } @$recorded_params
                       : grep { !$_->{error} } $self->{store}->variants($id->{method});
    my $more = @recorded > 8 ? sprintf(' and %d more', @recorded - 8) : '';
    $#recorded = 7 if @recorded > 8;
    return "fake Matomo $self->{version}: no recorded answer for $id->{method}"
         . (@asked ? ' with ' . join(', ', @asked) : '')
         . (@recorded ? '. Recorded: ' . join('; ', map { $_ eq '' ? '(no parameters)' : $_ } @recorded) . $more
                      : '. Nothing was recorded for this method')
         . '.';
}

# --- API.getBulkRequest ------------------------------------------------------

# Each urls[i] is a query string run as its own request with the caller's
# rights; the outer parameters fill in what it leaves out, format is JSON,
# and a nested bulk request is skipped (plugins/API/API.php).  Errors of a
# sub-request appear in place; the HTTP status stays 200.
#
# Matomo 5 parses each urls[i] with parse_str: split at '&', then each value
# decoded.  Matomo 4 (4.16.1's API.php) urldecodes the whole urls[i] first,
# then splits it and leaves the values as they are; with matomo4 the fake
# does that, so a value holding '&' splits as it would there.
sub _bulk {
    my ($self, $req, $user, %opt) = @_;
    my @urls = $req->get_array('urls');
    my $outer = $req->clone;
    $outer->delete('urls');
    my (@bodies, @subs);
    for my $url (@urls) {
        my $sub = $opt{matomo4} ? _matomo4_query($url)
                                : FakeMatomo::Params->from_string($url);
        $sub->set(format => 'json');
        $sub = $sub->union($outer);
        my $method = $sub->get('method') // '';
        next if $method eq 'API.getBulkRequest';
        my $res = $self->process($sub, $user, nested => 1);
        push @bodies, $res->{body};
        push @subs, { method => $method, write => $res->{write}, status => $res->{status},
                      answer => $res->{answer} };
    }
    my $res = _ok('[' . join(',', @bodies) . ']', 'bulk');
    # The same bulk request recorded: its bytes (its sub-requests may ask
    # what nothing else recorded answers).
    my @who = $user->{superuser} ? ('admin') : $user->{login} eq 'anonymous' ? ('none', 'bad') : ($user->{login});
    for my $who (@who) {
        my $rec = $self->{store}->bulk_recording($req, $who) or next;
        $res->{body} = $rec->{body};
        $res->{status} = $rec->{status};
        last;
    }
    $res->{bulk}  = \@subs;
    $res->{write} = (grep { $_->{write} } @subs) ? 1 : 0;
    return $res;
}

sub _matomo4_query {
    my ($url) = @_;
    my $whole = FakeMatomo::Params::url_decode($url);
    return FakeMatomo::Params->from_pairs(
        [ map { my ($name, $value) = split /=/, $_, 2; [ $name, $value // '' ] }
          grep { $_ ne '' } split /&/, $whole ]);
}

1;
