package FakeMatomo::Dates;
# Periods and dates as Matomo 5.1.2 reads them (core/Period/Factory.php,
# core/Period/Range.php, core/Date.php), reduced to what picks a recorded
# answer: every date inside one week names the same week, "today" is the
# recordings' today, "last7" is the seven days ending today, "last12" with
# period year the ten years Matomo caps it to.
#
# normalize() returns one of
#   { error => message }                       Matomo's error text
#   { kind => 'single', period => p, key => k } one period
#   { kind => 'multi',  period => p, keys => [k, ...] } date-keyed answer
#   { kind => 'range',  period => 'range', key => 'A,B' }
# where a key is spelled as Matomo spells it in date-keyed answers:
# day 2026-11-25, week 2026-11-23,2026-11-29, month 2026-11, year 2026.
use strict;
use warnings;
use Time::Local qw(timegm);

# "Today" in every recorded answer (see t/matomo/recorded/INDEX.md).  The
# Matomo 4.16.1 recordings were made on another day: FakeMatomo::Api sets
# it (local) for the data set it answers from.
our $TODAY = '2026-11-26';
sub TODAY () { return $TODAY }

my @PERIODS = qw(day week month year range);

# Range::getMaxN: the most periods lastN/previousN give; a larger N is cut
# to it without a word.  None for period=range (N days, any N).
my %MAX_N = (day => 5 * 365, week => 10 * 52, month => 10 * 12, year => 10);
my %IS_PERIOD = map { $_ => 1 } @PERIODS;

sub bad_period_message {
    my ($period) = @_;
    return "The period '$period' is not supported. Try any of the following instead: "
        . join(', ', @PERIODS);
}

# Date::factory's message; the value is var_export(strtotime(...)), false.
sub bad_date_message {
    return "Date format must be: YYYY-MM-DD, or 'today' or 'yesterday' or any keyword "
        . "supported by the strtotime function (see http://php.net/strtotime for more "
        . "information): false";
}

sub bad_range_message {
    my ($date) = @_;
    return "The date '$date' is not a correct date range. It should have the following "
        . "format:  'lastN', 'previousN', 'YYYY-MM-DD,YYYY-MM-DD'.";
}

# Days since 1970-01-01 <-> (y, m, d).
sub _days { my ($y, $m, $d) = @_; return int(timegm(0, 0, 0, 1, $m - 1, $y) / 86400) + $d - 1 }

sub _ymd {
    my ($days) = @_;
    my (undef, undef, undef, $d, $m, $y) = gmtime($days * 86400);
    return ($y + 1900, $m + 1, $d);
}

sub _iso { sprintf '%04d-%02d-%02d', _ymd($_[0]) }

sub today { my ($y, $m, $d) = split /-/, $TODAY; return _days($y, $m, $d) }

# One date as Date::factory accepts it (the forms a client really sends),
# as a day number; undef when Matomo would refuse it.
sub parse_day {
    my ($s) = @_;
    return undef unless defined $s;
    my $today = today();
    return $today     if $s eq 'today' || $s eq 'now';
    return $today - 1 if $s eq 'yesterday' || $s eq 'yesterdaySameTime';
    return $today + 1 if $s eq 'tomorrow';
    return $today - 7 if $s =~ /last[ -]?week/i;
    if ($s =~ /last[ -]?month/i) {
        my ($y, $m, $d) = _ymd($today);
        ($y, $m) = $m == 1 ? ($y - 1, 12) : ($y, $m - 1);
        return _days($y, $m, 1) + $d - 1;
    }
    if ($s =~ /last[ -]?year/i) {
        my ($y, $m, $d) = _ymd($today);
        return _days($y - 1, $m, 1) + $d - 1;
    }
    # strtotime takes any day 1-31 in any month (and rolls over).
    if ($s =~ /^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$/) {
        my ($y, $m, $d) = ($1, $2, $3);
        return undef if $m < 1 || $m > 12 || $d < 1 || $d > 31 || $y < 1970;
        return _days($y, $m, 1) + $d - 1;
    }
    return undef;
}

# The period of kind $period holding day $day: (key, first day, last day).
sub period_of {
    my ($period, $day) = @_;
    return (_iso($day), $day, $day) if $period eq 'day';
    if ($period eq 'week') {
        my $dow   = ($day + 3) % 7;          # 1970-01-01 was a Thursday; 0 = Monday
        my $start = $day - $dow;
        return (_iso($start) . ',' . _iso($start + 6), $start, $start + 6);
    }
    my ($y, $m) = _ymd($day);
    if ($period eq 'month') {
        my ($ny, $nm) = $m == 12 ? ($y + 1, 1) : ($y, $m + 1);
        return (sprintf('%04d-%02d', $y, $m), _days($y, $m, 1), _days($ny, $nm, 1) - 1);
    }
    return (sprintf('%04d', $y), _days($y, 1, 1), _days($y + 1, 1, 1) - 1);
}

# The keys of every $period from the one holding $from to the one holding $to.
sub _period_keys {
    my ($period, $from, $to) = @_;
    my @keys;
    my $day = $from;
    while (1) {
        my ($key, undef, $end) = period_of($period, $day);
        push @keys, $key;
        last if $end >= $to || @keys > 5000;
        $day = $end + 1;
    }
    return \@keys;
}

# The first day of the period $n periods before the one holding $day.
sub _periods_back {
    my ($period, $day, $n) = @_;
    for (1 .. $n) {
        my (undef, $start) = period_of($period, $day);
        $day = $start - 1;
    }
    return (period_of($period, $day))[1];
}

sub normalize {
    my ($period, $date) = @_;
    return { error => bad_period_message($period) } unless $IS_PERIOD{$period};

    # period=range over a single day is a day (Period\Factory).
    if ($period eq 'range' && $date =~ /^([^,]+),([^,]+)$/ && $1 eq $2) {
        ($period, $date) = ('day', $1);
    }

    my $today = today();
    if ($date =~ /^(last|previous)(\d+)$/) {
        my ($which, $n) = ($1, $2);
        $n = $MAX_N{$period} if $MAX_N{$period} && $n > $MAX_N{$period};
        $n = 1 if $n < 1;    # Range: last0 is treated as last1
        my $unit = $period eq 'range' ? 'day' : $period;
        my $end  = $which eq 'last' ? $today : _periods_back($unit, $today, 1);
        my $start = _periods_back($unit, $end, $n - 1);
        return { kind => 'range', period => 'range', key => _iso($start) . ',' . _iso($end) }
            if $period eq 'range';
        return { kind => 'multi', period => $period, keys => _period_keys($period, $start, $end) };
    }

    if ($date =~ /^\s*((?:\d{4}-\d{1,2}-\d{1,2})|last[ -]?(?:week|month|year)),((?:\d{4}-\d{1,2}-\d{1,2})|today|now|yesterday|last[ -]?(?:week|month|year))\s*$/i) {
        my ($from, $to) = (parse_day($1), parse_day($2));
        return { error => bad_date_message() } unless defined $from && defined $to;
        return { kind => 'range', period => 'range', key => _iso($from) . ',' . _iso($to) }
            if $period eq 'range';
        return { kind => 'multi', period => $period, keys => _period_keys($period, $from, $to) };
    }

    return { error => bad_range_message($date) } if $period eq 'range';

    my $day = parse_day($date);
    return { error => bad_date_message() } unless defined $day;
    my ($key) = period_of($period, $day);
    return { kind => 'single', period => $period, key => $key };
}

# A short canonical spelling of a normalized date, for index keys.
sub spec_key {
    my ($spec) = @_;
    return "$spec->{period}:$spec->{key}" if $spec->{kind} ne 'multi';
    return "$spec->{period}:multi:" . join('|', @{ $spec->{keys} });
}

1;
