package FakeMatomo::Params;
# Request parameters as PHP builds $_GET and $_POST for Matomo: a query
# string or form body decoded ('+' and %XX), UTF-8 text, names like
# "compareDates[]" or "urls[0]" collected into arrays that keep insertion
# order (PHP arrays do; API.getBulkRequest answers in that order).
#
# A value is either a string or an array: a list of [key, value] pairs.
use strict;
use warnings;
use Encode ();

sub new { return bless { order => [], vals => {} }, shift }

# Decodes one application/x-www-form-urlencoded component.
sub url_decode {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    # PHP keeps bytes; Matomo treats them as UTF-8.  Invalid bytes become
    # U+FFFD rather than failing the request.
    return Encode::decode('UTF-8', $s, Encode::FB_DEFAULT);
}

sub from_string {
    my ($class, $string) = @_;
    my $self = $class->new;
    for my $pair (split /[&]/, $string // '') {
        next if $pair eq '';
        my ($name, $value) = split /=/, $pair, 2;
        $self->add(url_decode($name), url_decode($value // ''));
    }
    return $self;
}

# [[name, value], ...] as stored in the recorded files.
sub from_pairs {
    my ($class, $pairs) = @_;
    my $self = $class->new;
    $self->add(@$_) for @$pairs;
    return $self;
}

# Adds one decoded name/value the way PHP's parse_str does (one level of
# brackets is all Matomo's API uses).
sub add {
    my ($self, $name, $value) = @_;
    $name =~ s/^\s+//;
    my ($base, $sub);
    if ($name =~ /^([^\[]+)\[([^\]]*)\]/) {
        ($base, $sub) = ($1, $2);
    } else {
        $base = $name;
    }
    # PHP turns '.' and ' ' in names into '_'.
    $base =~ tr/. /__/;
    return if $base eq '';
    if (!defined $sub) {
        $self->_set($base, $value);
        return;
    }
    my $array = $self->{vals}{$base};
    $array = $self->_set($base, []) unless ref $array;
    if ($sub eq '') {
        my @ints = grep { /^-?\d+$/ } map { $_->[0] } @$array;
        my $next = 0;
        for (@ints) { $next = $_ + 1 if $_ + 1 > $next }
        push @$array, [ $next, $value ];
    } elsif (my ($slot) = grep { $_->[0] eq $sub } @$array) {
        $slot->[1] = $value;    # PHP overwrites in place, keeping the position
    } else {
        push @$array, [ $sub, $value ];
    }
    return;
}

sub _set {
    my ($self, $name, $value) = @_;
    push @{ $self->{order} }, $name unless exists $self->{vals}{$name};
    $self->{vals}{$name} = $value;
    return $value;
}

sub names  { @{ $_[0]{order} } }
sub has    { exists $_[0]{vals}{ $_[1] } }
sub is_array { ref $_[0]{vals}{ $_[1] } eq 'ARRAY' }

# The string value, or undef when absent or an array.
sub get {
    my ($self, $name) = @_;
    my $v = $self->{vals}{$name};
    return ref $v ? undef : $v;
}

# The values of an array parameter in order, or () when not an array.
sub get_array {
    my ($self, $name) = @_;
    my $v = $self->{vals}{$name};
    return ref $v ? map { $_->[1] } @$v : ();
}

# Raw stored value: a string or the [key, value] pair list.
sub raw_value { $_[0]{vals}{ $_[1] } }

sub set {
    my ($self, $name, $value) = @_;
    $self->_set($name, $value);
    return $self;
}

sub delete {
    my ($self, $name) = @_;
    return unless exists $self->{vals}{$name};
    delete $self->{vals}{$name};
    $self->{order} = [ grep { $_ ne $name } @{ $self->{order} } ];
    return;
}

sub clone {
    my ($self) = @_;
    my $copy = ref($self)->new;
    for my $name ($self->names) {
        my $v = $self->{vals}{$name};
        $copy->_set($name, ref $v ? [ map { [@$_] } @$v ] : $v);
    }
    return $copy;
}

# $_GET + $_POST: PHP's array union keeps the left side, so a name present
# in the query string wins over the same name in the body.
sub union {
    my ($self, $other) = @_;
    my $merged = $self->clone;
    for my $name ($other->names) {
        next if $merged->has($name);
        my $v = $other->raw_value($name);
        $merged->_set($name, ref $v ? [ map { [@$_] } @$v ] : $v);
    }
    return $merged;
}

# A plain structure for the request log: arrays become {key: value}.
sub as_plain {
    my ($self, $skip) = @_;
    my %plain;
    for my $name ($self->names) {
        next if $skip && $skip->{$name};
        my $v = $self->{vals}{$name};
        $plain{$name} = ref $v ? { map { ($_->[0] => $_->[1]) } @$v } : $v;
    }
    return \%plain;
}

# One "name=value" string per parameter (arrays as name[key]=value), for
# keys and messages.
sub flat_pairs {
    my ($self, @names) = @_;
    @names = $self->names unless @names;
    my @out;
    for my $name (@names) {
        next unless exists $self->{vals}{$name};
        my $v = $self->{vals}{$name};
        if (ref $v) {
            push @out, map { "$name\[$_->[0]\]=$_->[1]" } @$v;
        } else {
            push @out, "$name=$v";
        }
    }
    return @out;
}

1;
