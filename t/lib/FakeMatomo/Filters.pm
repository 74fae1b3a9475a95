package FakeMatomo::Filters;
# Matomo 5.1.2's generic API filters, applied to a complete recorded answer
# the way Matomo applies them to its DataTable before rendering:
#
#   core/API/DataTableGenericFilter.php   Pattern -> Sort -> Limit, per table
#   core/Metrics/Sorter.php                sort columns, flags, secondary sort
#   core/API/DataTablePostProcessor.php    then showColumns / hideColumns
#   core/DataTable/Filter/ColumnDelete.php label and metadata always stay
#   core/API/ResponseBuilder.php           plain PHP arrays: filter_column[]
#                                          pattern, offset/limit, columns
#   plugins/API/ProcessedReport.php        API.getProcessedReport
#
# Parameters are read with PHP's Common::getRequestVar rules: an empty value
# is a missing one, a filter whose parameter has no default and is missing
# (or has the wrong type) is not applied at all.
use strict;
use warnings;
use sort 'stable';
use FakeMatomo::JSON;

# Keys Matomo keeps as row metadata (not columns) in report rows: what the
# recorded API.getProcessedReport answers list under reportMetadata, plus
# the All Websites dashboard's.  showColumns/hideColumns never remove them.
my %METADATA = map { $_ => 1 } qw(
    segment url logo logoWidth logoHeight code idsubdatatable subtable
    Actions_PageUrl Actions_PageTitle Actions_EntryPageUrl Actions_ExitPageUrl
    Actions_DownloadUrl Actions_ClickedUrl Actions_SiteSearchKeyword
    Referrers_Keyword Referrers_SearchEngine Referrers_Referrer
    Referrers_WebsitePage Referrers_SocialNetwork Referrers_Campaign
    Referrers_Website referer_type referrer_type idvisitor day_of_week
    Events_EventAction Events_EventName Events_EventCategory
    idsite group main_url currencySymbol ratio periodName previousRange
    html_label_prefix html_label_suffix
);

sub is_metadata { my ($key) = @_; return $METADATA{$key} || $key =~ /^previous_/ }

# --- PHP request-variable rules --------------------------------------------

sub _is_numeric { defined $_[0] && $_[0] =~ /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/ }

# getRequestVar($name, $default, 'string'): (1, value) or (0) when it throws.
sub string_param {
    my ($req, $name, $default) = @_;
    my $v = $req->get($name);
    return (1, $v) if defined $v && $v ne '';
    return (0) unless defined $default;
    return (1, $default);
}

# getRequestVar($name, $default, 'integer').
sub int_param {
    my ($req, $name, $default) = @_;
    my $v = $req->get($name);
    if (!$req->is_array($name) && defined $v && $v ne '') {
        return (1, int($v + 0)) if _is_numeric($v) && $v + 0 == int($v + 0);
    }
    return (0) unless defined $default;
    return (1, $default);
}

sub _column_list {
    my ($req, $name) = @_;
    my (undef, $v) = string_param($req, $name, '');
    return [ grep { $_ ne '' } split /,/, $v // '' ];
}

# --- reading row values ----------------------------------------------------

# DataTable\Row::getColumn as the sorter sees it: undef for a missing
# column, null, false, or an array.
sub _sort_value {
    my ($row, $col) = @_;
    return undef unless ref $row eq 'FakeMatomo::JSON::Object' && $row->has($col);
    my $v = $row->get($col);
    return undef unless ref $v eq 'FakeMatomo::JSON::Raw';
    return $v->value;
}

sub _text_value {
    my ($row, $col) = @_;
    return undef unless ref $row eq 'FakeMatomo::JSON::Object' && $row->has($col);
    my $v = $row->get($col);
    return ref $v eq 'FakeMatomo::JSON::Raw' ? $v->as_string : 'Array';
}

# --- Pattern ---------------------------------------------------------------

# Pattern::getPatternQuoted + preg_match(...'i'): a pattern PCRE refuses
# matches nothing (preg_match returns false), so every row goes.
sub _matcher {
    my ($pattern) = @_;
    my $re = eval { qr/$pattern/i };
    return $re ? sub { defined $_[0] && $_[0] =~ $re } : sub { 0 };
}

# Returns the indexes of the rows kept.
sub _pattern_keep {
    my ($rows, $meta, $req) = @_;
    my ($ok, $pattern) = string_param($req, 'filter_pattern');
    return [ 0 .. $#$rows ] unless $ok && !$req->is_array('filter_pattern');
    my (undef, $column) = string_param($req, 'filter_column', 'label');
    $column = 'label' if $req->is_array('filter_column');
    my $match = _matcher($pattern);
    my @keep;
    for my $i (0 .. $#$rows) {
        # getColumn(), then getMetadata() (a processed report keeps that
        # apart, in reportMetadata), then PHP's false, printed as "".
        my $text = _text_value($rows->[$i], $column);
        $text //= _text_value($meta->[$i], $column) if $meta;
        push @keep, $i if $match->($text // '');
    }
    return \@keep;
}

# --- Sort (core/Metrics/Sorter.php) ----------------------------------------

# strnatcasecmp: digit runs compare as numbers, the rest case-insensitively.
sub natcasecmp {
    my ($x, $y) = (lc $_[0], lc $_[1]);
    s/^\s+// for $x, $y;
    my @a = $x =~ /(\d+|\D)/g;
    my @b = $y =~ /(\d+|\D)/g;
    while (@a && @b) {
        my ($p, $q) = (shift @a, shift @b);
        my $c;
        if ($p =~ /^\d/ && $q =~ /^\d/) {
            if ($p =~ /^0/ || $q =~ /^0/) {
                $c = $p cmp $q;            # "fractional" parts compare left-aligned
            } else {
                $c = length($p) <=> length($q) || $p cmp $q;
            }
        } else {
            $c = $p cmp $q;
        }
        return $c if $c;
    }
    return @a <=> @b;
}

sub _numeric_flag {
    my ($rows, $col) = @_;
    return 0 if !defined $col || $col eq 'label';
    for my $row (@$rows) {
        my $v = _sort_value($row, $col);
        next unless defined $v;
        my $raw = $row->get($col);
        return $raw->is_number || _is_numeric($v) ? 1 : 0;
    }
    return 0;
}

# SORT_NUMERIC compares numbers (a non-numeric string counts as 0);
# SORT_NATURAL | SORT_FLAG_CASE compares with strnatcasecmp.
sub _compare {
    my ($numeric, $x, $y) = @_;
    return (_is_numeric($x) ? $x : 0) <=> (_is_numeric($y) ? $y : 0) if $numeric;
    return natcasecmp($x // '', $y // '');
}

sub sort_rows {
    my ($rows, $column, $order, $meta) = @_;
    return $rows unless @$rows && defined $column && $column ne '';
    my $first = $rows->[0];
    return $rows unless ref $first eq 'FakeMatomo::JSON::Object';

    # Sorter::getPrimaryColumnToSort: fall back to nb_visits.
    my $primary = $first->has($column) ? $column
                : $first->has('nb_visits') ? 'nb_visits' : $column;
    my $desc = lc($order // 'desc') ne 'asc';

    # Sorter::getSecondaryColumnToSort.
    my $secondary;
    if ($primary eq 'nb_visits') {
        $secondary = 'label' if $first->has('label');
    } else {
        ($secondary) = grep { $_ ne $primary && $first->has($_) } qw(nb_visits label);
    }
    my $sec_desc = defined $secondary && $secondary eq 'label' ? !$desc : $desc;

    my $p_num = _numeric_flag($rows, $primary);
    my $s_num = _numeric_flag($rows, $secondary);
    # Secondary sorting only helps a numeric primary (labels are unique).
    my $use_secondary = defined $secondary && $p_num;

    my (@with, @without);
    for my $i (0 .. $#$rows) {
        my $v = _sort_value($rows->[$i], $primary);
        if (defined $v) { push @with, [ $i, $v ] } else { push @without, [ $i ] }
    }
    my $sec = sub { defined $secondary ? _sort_value($rows->[ $_[0] ], $secondary) : undef };

    @with = sort {
        my $c = _compare($p_num, $a->[1], $b->[1]);
        $c = -$c if $desc;
        if (!$c && $use_secondary) {
            $c = _compare($s_num, $sec->($a->[0]), $sec->($b->[0]));
            $c = -$c if $sec_desc;
        }
        $c;
    } @with;
    if (defined $secondary) {
        @without = sort {
            my $c = _compare($s_num, $sec->($a->[0]), $sec->($b->[0]));
            $sec_desc ? -$c : $c;
        } @without;
    }
    my @order = map { $_->[0] } @with, @without;

    # Sort::filter sorts subtables too (expanded=1 answers carry them).
    for my $row (@$rows) {
        next unless ref $row eq 'FakeMatomo::JSON::Object' && ref $row->get('subtable') eq 'ARRAY';
        $row->set('subtable', sort_rows($row->get('subtable'), $column, $order));
    }
    @$meta = @{$meta}[@order] if $meta && @$meta == @$rows;
    return [ @{$rows}[@order] ];
}

# --- ColumnDelete ----------------------------------------------------------

sub _delete_columns {
    my ($row, $hide, $show, %opt) = @_;
    return unless ref $row eq 'FakeMatomo::JSON::Object';
    my %hide = map { $_ => 1 } @$hide;
    my @show = @$show;
    my %show = map { $_ => 1 } @show;
    $row->retain(sub {
        my ($k) = @_;
        return 1 if !$opt{all_columns} && is_metadata($k);
        return 0 if $hide{$k};
        return 1 unless @show;
        return 1 if $k eq 'label' || $show{$k};
        return scalar grep { index($k, "${_}__") == 0 } @show;
    });
    if ($opt{recursive}) {
        # Live answers (hideColumnsRecursively) also lose the columns in
        # the lists they nest, such as actionDetails.
        for my $k ($row->keys) {
            my $v = $row->get($k);
            next unless ref $v eq 'ARRAY';
            _delete_columns($_, $hide, [], %opt) for @$v;
        }
    }
    if (ref $row->get('subtable') eq 'ARRAY') {
        _delete_columns($_, $hide, $show, %opt) for @{ $row->get('subtable') };
    }
    return;
}

# --- the generic filters on one table --------------------------------------

# One DataTable: a list of rows, or a Simple table (one object of metrics).
# $opt{meta} is a processed report's reportMetadata rows, kept in step.
sub filter_table {
    my ($table, $req, %opt) = @_;
    my $simple = ref $table eq 'FakeMatomo::JSON::Object';
    my $rows = $simple ? [$table] : $table;
    return $table unless ref $rows eq 'ARRAY';
    my $meta = $opt{meta} && @{ $opt{meta} } == @$rows ? [ @{ $opt{meta} } ] : undef;

    my $keep = _pattern_keep($rows, $meta, $req);
    if (@$keep != @$rows) {
        $rows = [ @{$rows}[@$keep] ];
        $meta = [ @{$meta}[@$keep] ] if $meta;
    }

    unless ($simple) {
        my ($has_col, $col) = string_param($req, 'filter_sort_column');
        my ($has_ord, $ord) = string_param($req, 'filter_sort_order', 'desc');
        # An order without a column sorts by the report's default column,
        # which is nb_visits for nearly every report.
        $col = 'nb_visits' if !$has_col && defined $req->get('filter_sort_order');
        $rows = sort_rows($rows, $col, $ord, $meta) if defined $col;
    }

    # A label=... request disables Limit (DataTablePostProcessor).
    unless (defined $req->get('label') || $simple) {
        my ($ok_off, $offset) = int_param($req, 'filter_offset', 0);
        my ($ok_lim, $limit)  = int_param($req, 'filter_limit');
        if ($ok_off && $ok_lim) {
            my $end = $limit >= 0 ? $offset + $limit : scalar @$rows;
            $end = @$rows if $end > @$rows;
            my $start = $offset > 0 ? $offset : 0;
            $start = @$rows if $start > @$rows;
            $rows = [ @{$rows}[ $start .. $end - 1 ] ];
            $meta = [ @{$meta}[ $start .. $end - 1 ] ] if $meta;
        }
    }

    my ($hide, $show) = (_column_list($req, 'hideColumns'), _column_list($req, 'showColumns'));
    if (@$hide || @$show) {
        _delete_columns($_, $hide, $show, recursive => $opt{live}) for @$rows;
    }

    @{ $opt{meta} } = @$meta if $meta;
    return $simple ? ($rows->[0] // []) : $rows;
}

# A report answer: one table, or a map (by date or by site) of tables
# nested $depth levels deep.
sub filter_report {
    my ($value, $req, $depth, %opt) = @_;
    return filter_table($value, $req, %opt) unless $depth;
    return $value unless ref $value eq 'FakeMatomo::JSON::Object';
    for my $key ($value->keys) {
        $value->set($key, filter_report($value->get($key), $req, $depth - 1, %opt));
    }
    return $value;
}

# ResponseBuilder::handleArray, for API methods that return PHP arrays
# (sites, goals, segments, metadata): pattern only with filter_column[],
# offset/limit, then showColumns/hideColumns on lists of rows.
sub filter_array {
    my ($value, $req) = @_;
    return $value unless ref $value eq 'ARRAY';
    my @rows = @$value;

    my @columns = $req->get_array('filter_column');
    my ($has_pattern, $pattern) = string_param($req, 'filter_pattern', '');
    if (@columns && $has_pattern && $pattern ne '' && !$req->is_array('filter_pattern')) {
        my $match = _matcher($pattern);
        @rows = grep {
            my $row = $_;
            grep { my $t = _text_value($row, $_); defined $t && $match->($t) } @columns;
        } @rows;
    }

    my (undef, $limit)  = int_param($req, 'filter_limit', -1);
    my (undef, $offset) = int_param($req, 'filter_offset', 0);
    if ($limit >= 0 || $offset > 0) {
        my $start = $offset > @rows ? scalar @rows : ($offset > 0 ? $offset : 0);
        my $end = $limit >= 0 ? $start + $limit : scalar @rows;
        $end = @rows if $end > @rows;
        @rows = @rows[ $start .. $end - 1 ];
    }

    my ($hide, $show) = (_column_list($req, 'hideColumns'), _column_list($req, 'showColumns'));
    my $assoc = ref $value->[0] eq 'FakeMatomo::JSON::Object';
    if ($assoc && (@$hide || @$show)) {
        _delete_columns($_, $hide, $show, all_columns => 1) for @rows;
    }
    return \@rows;
}

# API.getProcessedReport: the inner report request gets the generic
# filters (reportMetadata rows follow their reportData rows); showColumns
# and hideColumns also trim "columns" (label always kept); reportTotal is
# computed before any filter and stays.
sub filter_processed {
    my ($answer, $req) = @_;
    return $answer unless ref $answer eq 'FakeMatomo::JSON::Object' && $answer->has('reportData');
    my $data = $answer->get('reportData');
    my $meta = $answer->get('reportMetadata');

    my $one = sub {
        my ($table, $meta_rows) = @_;
        my $m = ref $meta_rows eq 'ARRAY' ? $meta_rows : undef;
        my $res = filter_table($table, _without_columns($req), meta => $m);
        return ($res, $m // $meta_rows);
    };
    if (ref $data eq 'FakeMatomo::JSON::Object' && _is_map_of_tables($data)) {
        for my $key ($data->keys) {
            my $mrows = ref $meta eq 'FakeMatomo::JSON::Object' ? $meta->get($key) : undef;
            my ($t, $m) = $one->($data->get($key), $mrows);
            $data->set($key, $t);
            $meta->set($key, $m) if ref $meta eq 'FakeMatomo::JSON::Object' && defined $m;
        }
    } else {
        my ($t, $m) = $one->($data, $meta);
        $answer->set('reportData', $t);
        $answer->set('reportMetadata', $m) if defined $m;
    }

    my ($hide, $show) = (_column_list($req, 'hideColumns'), _column_list($req, 'showColumns'));
    return $answer unless @$hide || @$show;
    my %hide = map { $_ => 1 } @$hide;
    my %show = map { $_ => 1 } @$show, 'label';
    my $columns = $answer->get('columns');
    if (ref $columns eq 'FakeMatomo::JSON::Object') {
        $columns->retain(sub { !$hide{ $_[0] } && (!@$show || $show{ $_[0] }) });
    }
    my %shown = ref $columns eq 'FakeMatomo::JSON::Object' ? map { $_ => 1 } $columns->keys : ();
    my $trim = sub {
        my ($row) = @_;
        return unless ref $row eq 'FakeMatomo::JSON::Object';
        $row->retain(sub { $shown{ $_[0] } || ($_[0] =~ /^goal_\d+_/ && !$hide{ $_[0] } && !@$show) });
    };
    my $tables = $answer->get('reportData');
    my @tables = ref $tables eq 'FakeMatomo::JSON::Object' && _is_map_of_tables($tables)
        ? map { $tables->get($_) } $tables->keys : ($tables);
    for my $t (@tables) {
        if (ref $t eq 'ARRAY') { $trim->($_) for @$t } else { $trim->($t) }
    }
    return $answer;
}

# The generic filters of the inner request, without the column deletion
# that filter_processed does itself.
sub _without_columns {
    my ($req) = @_;
    my $copy = $req->clone;
    $copy->delete($_) for qw(showColumns hideColumns);
    return $copy;
}

# --- format_metrics=bc --------------------------------------------------------

# Matomo's default, format_metrics=bc, formats only the percentage metrics
# (core/API/Inconsistencies.php, Formatter::getPrettyPercentFromQuotient):
# 0.04 -> "4%".  The complete recordings are format_metrics=0, so a request
# that leaves format_metrics out gets them formatted here.
my $PERCENT = qr/^(?:bounce_rate|conversion_rate|abandoned_rate|interaction_rate|exit_rate|
    bounce_rate_returning|nb_visits_percentage|.*_evolution|step_.*_rate|funnel_.*_rate|
    form_.*_rate|field_.*_rate|Referrers.*_percent)$/x;

sub percent_text {
    my ($quotient) = @_;
    my $s = sprintf '%.4f', $quotient * 100;
    $s =~ s/\.?0+$// if $s =~ /\./;
    $s = '0' if $s eq '-0';
    1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/;
    return "$s%";
}

sub format_bc {
    my ($value) = @_;
    if (ref $value eq 'ARRAY') {
        format_bc($_) for @$value;
    } elsif (ref $value eq 'FakeMatomo::JSON::Object') {
        for my $key ($value->keys) {
            my $v = $value->get($key);
            if (ref $v eq 'FakeMatomo::JSON::Raw') {
                $value->set($key, FakeMatomo::JSON::str(percent_text($v->value)))
                    if $key =~ $PERCENT && $v->is_number;
            } else {
                format_bc($v);    # maps, subtables, comparisons
            }
        }
    }
    return $value;
}

# A processed report over several periods has reportData keyed by period.
sub _is_map_of_tables {
    my ($obj) = @_;
    my @keys = $obj->keys;
    return 0 unless @keys;
    for my $k (@keys) {
        my $v = $obj->get($k);
        return 0 if ref $v eq 'FakeMatomo::JSON::Raw';
    }
    return 1;
}

1;
