package FakeMatomo::Store;
# The recorded answers of a real Matomo, indexed by what decides an answer,
# and the facts the fake reads from them: which API methods exist, which
# sites, reports and segments the recorded Matomo had.  One store per data
# set: Matomo 5.1.2 (t/matomo/recorded/, api-methods-5.1.2.json, the
# default) and Matomo 4.16.1 (recorded-4.16.1/, api-methods-4.16.1.json;
# new(recorded => ..., catalogue => ..., today => ...)).
#
# A request and a recording are compared by their identity: the method, the
# site(s), the period and date as Matomo resolves them (FakeMatomo::Dates),
# and the method's own parameters plus the few global ones that change an
# answer (flat, idGoal, compare...).  Token, format, format_metrics and the
# generic filters are not part of it: those the fake applies itself.
#
# Besides whole answers the store keeps "cells": one period of a date-keyed
# answer (date=last14) or one site of a site-keyed answer (idSite=all), so
# that date=last7, a single day inside last14, or idSite=2,3 can be put
# together from what was recorded.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use JSON::PP ();
use FakeMatomo::JSON;
use FakeMatomo::Params;
use FakeMatomo::Dates;

use constant SEP => "\x1f";

# The recorded Matomo's view-only user could view site 2 only (INDEX.md).
our @VIEWER_SITES = (2);

# Never part of an identity: credentials, output format, and the generic
# filters the fake applies on top of a complete answer.
my %NOT_IDENTITY = map { $_ => 1 } qw(
    token_auth force_api_session format module action format_metrics language
    filter_limit filter_offset filter_sort_column filter_sort_order
    filter_pattern filter_column showColumns hideColumns keep_summary_row
    hideColumnsRecursively showTimer serialize totals urls
);

# Request-wide parameters Matomo reads whatever the method (DataTable post
# processing, goal views, comparisons): part of an identity when sent.
my %GLOBAL_IDENTITY = map { $_ => 1 } qw(
    flat expanded idSubtable label idGoal idDimension compare compareDates
    comparePeriods compareSegments filter_update_columns_when_show_all_goals
    filter_show_goal_columns_process_goals filter_add_columns_when_show_all_columns
    pivotBy pivotByColumn pivotByColumnLimit disable_generic_filters
    disable_queued_filters filter_truncate filter_excludelowpop
    filter_excludelowpop_value filter_column_recursive filter_pattern_recursive
    include_aggregate_rows showRawMetrics translateColumnNames jsoncallback
    callback apiParameters enhanced
);

# Metadata whose period and date only show in the URLs it prints
# (imageGraphUrl...): any period and date get the recorded answer.
my %DATE_FREE = map { $_ => 1 } qw(API.getReportMetadata);

# Flags whose "0" means the same as leaving them out.
my %FLAG = map { $_ => 1 } qw(
    flat expanded hideMetricsDoc showSubtableReports enhanced abandonedCarts
    doNotFetchActions compare filter_update_columns_when_show_all_goals
    showRawMetrics include_aggregate_rows disable_generic_filters
    disable_queued_filters translateColumnNames
);

sub new {
    my ($class, %opt) = @_;
    my $home = $opt{home} // File::Spec->catdir(dirname(__FILE__), '..', '..', 'matomo');
    my $self = bless {
        home       => $home,
        recorded   => $opt{recorded}  // 'recorded',
        facts      => $opt{facts}     // [],
        catalogue  => $opt{catalogue} // 'api-methods-5.1.2.json',
        recordings => [],
        by_key     => {},
        date_cells => {},
        site_cells => {},
    }, $class;
    # Dates in the index resolve against the data set's own "today".
    local $FakeMatomo::Dates::TODAY = $opt{today} if $opt{today};
    $self->_load_catalogue;
    $self->_load_recordings;
    $self->_load_site_facts;
    $self->_index($_) for grep { _indexable($_) } @{ $self->{recordings} };
    $self->_build_cells;
    return $self;
}

sub home { $_[0]{home} }

# What may answer a question: a JSON answer (format is not part of an
# identity, so an XML recording would answer a JSON question) with status
# 200, asked by a real user.  A viewer's error is an access error, which
# the fake works out itself: Matomo 4 answers those with 200, and such a
# recording must not answer the superuser's same question.
sub _indexable {
    my ($rec) = @_;
    return 0 unless $rec->{status} == 200 && $rec->{who} =~ /^(?:admin|viewer)$/;
    return 0 unless lc($rec->{params}->get('format') // '') eq 'json';
    return 0 if $rec->{who} eq 'viewer' && $rec->{body} =~ /^\{"result":"error"/;
    return 1;
}

sub _slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "fake Matomo: cannot read $path: $!\n";
    local $/;
    return scalar <$fh>;
}

# --- the API method catalogue ----------------------------------------------

sub _load_catalogue {
    my ($self) = @_;
    my $cat = JSON::PP->new->decode(_slurp("$self->{home}/$self->{catalogue}"));
    $self->{plugins} = $cat->{plugins};
    return;
}

sub plugin_active { my ($self, $module) = @_; return exists $self->{plugins}{$module} }

# { params => [...], required => [...] } or undef.
sub method_info {
    my ($self, $module, $action) = @_;
    return $self->{plugins}{$module} && $self->{plugins}{$module}{$action};
}

sub _declares {
    my ($self, $method, $param) = @_;
    my ($module, $action) = split /\./, $method, 2;
    my $info = $self->method_info($module, $action // '') or return 0;
    return scalar grep { $_ eq $param } @{ $info->{params} };
}

# --- recordings ------------------------------------------------------------

sub _load_recordings {
    my ($self) = @_;
    my $dir = "$self->{home}/$self->{recorded}";
    # Samples first: for the same question a sample is preferred.
    my @files = (sort(glob("$dir/*.json")), sort(glob("$dir/full/*.json")));
    die "fake Matomo: no recorded answers under $dir\n" unless @files;
    $self->_load_files($dir, \@files);
    # Facts a data set lacks, from recordings of the same data set or
    # Matomo version (new(facts => [[dir, methods...], ...])): only those
    # methods' answers, named dir/file.
    for my $facts (@{ $self->{facts} }) {
        my ($from, @methods) = @$facts;
        my %want = map { $_ => 1 } @methods;
        my $fdir = "$self->{home}/$from";
        my @more = sort(glob("$fdir/*.json"));
        die "fake Matomo: no recorded answers under $fdir\n" unless @more;
        $self->_load_files($fdir, \@more, \%want, "$from/");
    }
    return;
}

sub _load_files {
    my ($self, $dir, $files, $want, $prefix) = @_;
    for my $path (@$files) {
        my $wrap = FakeMatomo::JSON::parse(_slurp($path));
        my $params = FakeMatomo::Params->from_pairs(
            [ map { [ map { $_->value } @$_ ] } @{ $wrap->get('params') } ]);
        next if $want && !$want->{ $params->get('method') // '' };
        my $rec = {
            file   => ($prefix // '') . File::Spec->abs2rel($path, $dir),
            name   => $wrap->get('name')->value,
            who    => $wrap->get('who')->value,
            status => 0 + $wrap->get('status')->value,
            ctype  => $wrap->get('content_type')->value,
            body   => $wrap->get('body')->value,
            params => $params,
        };
        utf8::encode($rec->{body}) if utf8::is_utf8($rec->{body});
        # Reports recorded flattened are the hierarchical ones.
        $self->{hierarchical}{ _report_of($rec->{params}) } = 1
            if ($rec->{params}->get('flat') // '') eq '1';
        $self->{by_file}{ $rec->{file} } = $rec;
        push @{ $self->{recordings} }, $rec;
    }
    return;
}

sub recording { my ($self, $file) = @_; return $self->{by_file}{$file} }

# A recorded API.getBulkRequest answering the same urls[] (in order) and the
# same other parameters, asked by the same kind of user ($who: admin or
# viewer), or undef.  Its sub-requests may ask for what no other recording
# holds (the 4.16.1 set: site 2 on 2026-12-03).
sub bulk_recording {
    my ($self, $req, $who) = @_;
    my $want = _bulk_signature($req);
    for my $rec (@{ $self->{recordings} }) {
        next unless $rec->{who} eq $who && ($rec->{params}->get('method') // '') eq 'API.getBulkRequest';
        next unless lc($rec->{params}->get('format') // '') eq 'json';
        return $rec if _bulk_signature($rec->{params}) eq $want;
    }
    return undef;
}

sub _bulk_signature {
    my ($p) = @_;
    # Names sorted, an array's entries in their own order (the answer's).
    # filter_limit=100 is what Matomo reads when none is sent.
    my @names = sort grep { $_ ne 'token_auth'
                            && !($_ eq 'filter_limit' && ($p->get($_) // '') eq '100') } $p->names;
    return join SEP, map { /^format=(.*)$/s ? 'format=' . lc $1 : $_ } $p->flat_pairs(@names);
}

# The report a request is about: the method, or for a processed report its
# apiModule.apiAction.
sub _report_of {
    my ($p) = @_;
    my $method = $p->get('method') // '';
    return $method eq 'API.getProcessedReport'
        ? ($p->get('apiModule') // '') . '.' . ($p->get('apiAction') // '')
        : $method;
}

sub _index {
    my ($self, $rec) = @_;
    my $p = $rec->{params};
    my $sites = $rec->{who} eq 'viewer' ? [@VIEWER_SITES] : [ $self->site_ids ];
    my $id = $self->identity($p, $sites) or return;
    return if $id->{error};
    $rec->{id}      = $id;
    $rec->{filters} = filter_signature($p);
    $rec->{fm}      = format_metrics($p);
    # Whether formatting shows in it: a rate printed as "4%".
    $rec->{formatted} = $rec->{fm} ne '0' && $rec->{body} =~ /"[^"]*":"-?[\d,.]+%"/ ? 1 : 0;
    $rec->{error}   = $rec->{body} =~ /^\{"result":"error"/ ? 1 : 0;
    $rec->{limit}   = _recorded_limit($p);
    $rec->{filtered} = $rec->{filters} =~ /(?:^|\x1f)(?:filter_sort_column|filter_pattern|showColumns|hideColumns|filter_offset)=/ ? 1 : 0;
    # Which rows, in which order: a cut answer serves only requests that
    # ask the same order and search (its rows are their first ones).
    @$rec{qw(sorted_by searched)} = order_signature($p);
    # Columns or leading rows left out: nothing to build another answer on.
    $rec->{trimmed} = $rec->{filters} =~ /(?:^|\x1f)(?:showColumns|hideColumns|filter_offset)=/ ? 1 : 0;
    # Complete: every row Matomo had (a limit the answer did not reach).
    $rec->{complete} = $rec->{limit} < 0 || _max_rows($rec->{body}) < $rec->{limit} ? 1 : 0;
    push @{ $self->{by_key}{ $id->{key} } }, $rec;
    return;
}

sub _recorded_limit {
    my ($p) = @_;
    my $v = $p->get('filter_limit');
    return 100 unless defined $v && $v =~ /^-?\d+$/;
    return 0 + $v;
}

# The largest number of rows of any table in an answer (lists of rows,
# maps of lists, processed reports).
sub _max_rows {
    my ($body) = @_;
    return 0 unless $body =~ /^\s*[\[{]/;
    my $v = eval { FakeMatomo::JSON::parse($body) } // return 0;
    my $max = 0;
    my $walk;
    $walk = sub {
        my ($x, $depth) = @_;
        return if $depth > 3;
        if (ref $x eq 'ARRAY') {
            $max = @$x if @$x > $max;
        } elsif (ref $x eq 'FakeMatomo::JSON::Object') {
            my $data = $x->get('reportData');
            return $walk->($data, $depth + 1) if defined $data;
            $walk->($x->get($_), $depth + 1) for $x->keys;
        }
    };
    $walk->($v, 0);
    undef $walk;
    return $max;
}

# --- identities --------------------------------------------------------------

# The site part of an identity: (spelling, [ids], is_multi).  "all" means
# the sites the asker can view, listed.
sub site_spec {
    my ($self, $raw, $viewable) = @_;
    return ('', [], 0) unless defined $raw;
    if ($raw eq 'all') {
        my @ids = @$viewable;
        return ('m:' . join(',', @ids), \@ids, 1);
    }
    my (@ids, %seen);
    for my $part (split /,/, $raw) {
        $part =~ s/^\s+|\s+$//g;
        next unless $part =~ /^\d+$/ && $part > 0;
        push @ids, 0 + $part unless $seen{ 0 + $part }++;
    }
    my $multi = $raw =~ /,/ ? 1 : 0;
    return (($multi ? 'm:' : 's:') . join(',', @ids), \@ids, $multi);
}

# Everything that decides an answer, as index keys:
#   key      the whole answer
#   site_key everything but the site   (for site cells)
#   date_key everything but the date   (for date cells)
sub identity {
    my ($self, $p, $viewable) = @_;
    my $method = $p->get('method') // return undef;

    my ($site, $sites, $site_multi) = ('', [], 0);
    if ($self->_declares($method, 'idSite') && $p->has('idSite')) {
        ($site, $sites, $site_multi) = $self->site_spec($p->get('idSite') // '', $viewable);
    }

    my ($date, $spec) = ('', undef);
    if ($self->_declares($method, 'period') || $self->_declares($method, 'date')) {
        my ($period, $d) = ($p->get('period'), $p->get('date'));
        if (defined $period && defined $d && $period ne '' && $d ne '') {
            $spec = FakeMatomo::Dates::normalize($period, $d);
            return { error => $spec->{error} } if $spec->{error};
            $date = FakeMatomo::Dates::spec_key($spec);
            ($date, $spec) = ('', undef) if $DATE_FREE{$method};
        } elsif ((defined $period || defined $d) && !$DATE_FREE{$method}) {
            $date = 'raw:' . ($period // '') . ':' . ($d // '');
        }
    }

    my @rest;
    for my $name (sort $p->names) {
        next if $NOT_IDENTITY{$name} || $name eq 'method' || $name eq 'idSite'
             || $name eq 'period' || $name eq 'date' || $name =~ /^_/;
        next unless $GLOBAL_IDENTITY{$name} || $self->_declares($method, $name);
        my $v = $p->raw_value($name);
        if (ref $v) {
            push @rest, $p->flat_pairs($name);
            next;
        }
        next if $v eq '';
        $v = '1' if $FLAG{$name} && $v eq 'true';
        next if $FLAG{$name} && ($v eq '0' || $v eq 'false');
        # As in Matomo, flat changes nothing in a report without subtables.
        next if $name eq 'flat' && $self->{hierarchical}
             && !$self->{hierarchical}{ _report_of($p) };
        $v = _normal_segment($v) if $name eq 'segment';
        push @rest, "$name=$v";
    }
    my $rest = join SEP, @rest;
    return {
        method     => $method,
        site       => $site,
        sites      => $sites,
        site_multi => $site_multi,
        date       => $date,
        spec       => $spec,
        rest       => $rest,
        key        => join(SEP, $method, "site=$site", "date=$date", $rest),
        site_key   => join(SEP, $method, "date=$date", $rest),
        date_key   => join(SEP, $method, "site=$site", $rest),
    };
}

# Matomo takes a segment URL-encoded as a whole ("deviceType%3D%3Dsmartphone")
# or not; compare it decoded.  A segment that already shows its operators
# keeps its %XX: those encode the values (pageUrl=@%2Fshop).
sub _normal_segment {
    my ($s) = @_;
    $s = FakeMatomo::Params::url_decode($s) if $s =~ /%[0-9A-Fa-f]{2}/ && $s !~ /[=!<>]/;
    return $s;
}

# The generic filter parameters as sent, with Matomo's HTTP default limit.
sub filter_signature {
    my ($p) = @_;
    my %f;
    for my $name (qw(filter_offset filter_sort_column filter_sort_order filter_pattern
                     filter_column showColumns hideColumns)) {
        next unless $p->has($name);
        my $v = $p->raw_value($name);
        $f{$name} = ref $v ? join(',', map { "$_->[0]:$_->[1]" } @$v) : $v;
        delete $f{$name} if $f{$name} eq '';
    }
    delete $f{filter_offset} if defined $f{filter_offset} && $f{filter_offset} eq '0';
    $f{filter_limit} = $p->get('filter_limit') // '100';
    return join SEP, map { "$_=$f{$_}" } sort keys %f;
}

# (sort, search) a request asks for, '' for none: Matomo's defaults made
# explicit (filter_sort_order desc, filter_column label).
sub order_signature {
    my ($p) = @_;
    my $column = $p->get('filter_sort_column') // '';
    my $sort = $column eq '' ? '' : $column . ':' . lc($p->get('filter_sort_order') || 'desc');
    my $pattern = $p->get('filter_pattern') // '';
    my $search = $pattern eq '' ? ''
               : $pattern . SEP . ($p->is_array('filter_column')
                                   ? join(',', $p->get_array('filter_column'))
                                   : ($p->get('filter_column') || 'label'));
    return ($sort, $search);
}

sub format_metrics {
    my ($p) = @_;
    my $v = $p->get('format_metrics');
    return defined $v && $v ne '' ? lc $v : 'bc';
}

sub recordings_for { my ($self, $key) = @_; return @{ $self->{by_key}{$key} || [] } }

# Recordings of the same method and site(s), any date or parameters: what a
# "no recorded answer" message can point at.
sub variants {
    my ($self, $method) = @_;
    return grep { $_->{id} && $_->{id}{method} eq $method } @{ $self->{recordings} };
}

# --- sites, reports, segments of the recorded Matomo -------------------------

sub _load_site_facts {
    my ($self) = @_;
    my (%sites, %reports, %segments);
    for my $rec (@{ $self->{recordings} }) {
        next unless $rec->{who} eq 'admin' && $rec->{status} == 200;
        my $m = $rec->{params}->get('method') // '';
        if ($m eq 'SitesManager.getSiteFromId') {
            my $site = FakeMatomo::JSON::parse($rec->{body});
            $sites{ $site->get('idsite')->value } = $site->get('name')->value;
        } elsif ($m eq 'SitesManager.getSitesWithAtLeastViewAccess') {
            # The superuser's list names every site (the 4.16.1 set has
            # getSiteFromId of site 1 only).
            for my $site (@{ FakeMatomo::JSON::parse($rec->{body}) }) {
                $sites{ $site->get('idsite')->value } //= $site->get('name')->value;
            }
        } elsif ($m eq 'API.getReportMetadata') {
            my $id = $rec->{params}->get('idSite');
            for my $r (@{ FakeMatomo::JSON::parse($rec->{body}) }) {
                $reports{$id}{ $r->get('module')->value . '.' . $r->get('action')->value } = 1;
            }
        } elsif ($m eq 'API.getSegmentsMetadata') {
            for my $s (@{ FakeMatomo::JSON::parse($rec->{body}) }) {
                $segments{ $s->get('segment')->value } = 1;
            }
        }
    }
    die "fake Matomo: no site recorded\n" unless %sites;
    $self->{sites}    = \%sites;
    $self->{reports}  = \%reports;
    $self->{segments} = \%segments;
    return;
}

sub site_ids     { my ($self) = @_; return sort { $a <=> $b } keys %{ $self->{sites} } }
sub site_exists  { my ($self, $id) = @_; return exists $self->{sites}{$id} }
sub segment_known { my ($self, $name) = @_; return $self->{segments}{$name} }

# Whether API.getReportMetadata of site $id lists Module.action.
sub report_exists {
    my ($self, $id, $report) = @_;
    my $list = $self->{reports}{$id} or return 1;    # no metadata recorded: do not judge
    return $list->{$report};
}

# --- cells -------------------------------------------------------------------

# An answer that reads as "nothing recorded for this period": a date-keyed
# answer shows such a period as [] while a single-period answer of a simple
# report is an object of zeros, so those two cannot stand in for each other.
sub _is_empty_answer {
    my ($text) = @_;
    return 1 if $text eq '[]';
    return 0 unless $text =~ /^\{/;
    my $obj = eval { FakeMatomo::JSON::parse($text) } or return 0;
    return 0 unless ref $obj eq 'FakeMatomo::JSON::Object';
    for my $k ($obj->keys) {
        my $v = $obj->get($k);
        return 0 unless ref $v eq 'FakeMatomo::JSON::Raw' && $v->is_number && $v->value == 0;
    }
    return 1;
}

sub _build_cells {
    my ($self) = @_;
    for my $recs (values %{ $self->{by_key} }) {
        for my $rec (@$recs) {
            next if $rec->{error} || $rec->{filtered} || !$rec->{complete} || $rec->{fm} ne '0';
            next unless $rec->{who} eq 'admin';
            next if ($rec->{params}->get('method') // '') eq 'API.getProcessedReport';
            my $id = $rec->{id};
            my $spec = $id->{spec};
            if ($spec && $spec->{kind} eq 'multi' && !$id->{site_multi}) {
                my $map = FakeMatomo::JSON::parse($rec->{body});
                next unless ref $map eq 'FakeMatomo::JSON::Object';
                for my $k ($map->keys) {
                    $self->{date_cells}{ $id->{date_key} }{"$spec->{period}:$k"}
                        //= FakeMatomo::JSON::encode($map->get($k));
                }
            } elsif ($spec && $spec->{kind} eq 'single' && !$id->{site_multi}
                     && !_is_empty_answer($rec->{body})) {
                $self->{date_cells}{ $id->{date_key} }{"$spec->{period}:$spec->{key}"} //= $rec->{body};
            }
            if ($id->{site_multi} && !($spec && $spec->{kind} eq 'multi')) {
                my $map = FakeMatomo::JSON::parse($rec->{body});
                next unless ref $map eq 'FakeMatomo::JSON::Object';
                $self->{site_cells}{ $id->{site_key} }{$_} //= FakeMatomo::JSON::encode($map->get($_))
                    for $map->keys;
            } elsif (!$id->{site_multi} && @{ $id->{sites} } == 1 && !_is_empty_answer($rec->{body})
                     && !($spec && $spec->{kind} eq 'multi')) {
                $self->{site_cells}{ $id->{site_key} }{ $id->{sites}[0] } //= $rec->{body};
            }
        }
    }
    return;
}

# One period of a date-keyed answer, as JSON text, or undef.
sub date_cell {
    my ($self, $id, $period, $key) = @_;
    return $self->{date_cells}{ $id->{date_key} }{"$period:$key"};
}

# One site of a site-keyed answer, as JSON text, or undef.
sub site_cell {
    my ($self, $id, $site) = @_;
    return $self->{site_cells}{ $id->{site_key} }{$site};
}

1;
