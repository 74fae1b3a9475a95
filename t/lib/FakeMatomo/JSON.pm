package FakeMatomo::JSON;
# Reads and writes JSON the way the fake Matomo needs it: key order kept and
# every scalar kept as the exact text Matomo printed.  JSON::PP cannot do
# that: it loses key order and reprints floats (3091.1299999999997 comes
# back as 3091.13), and a filtered answer must be Matomo's own bytes minus
# the rows and columns the filters removed.
#
# Values: an object is a FakeMatomo::JSON::Object, an array a plain array
# reference, anything else a FakeMatomo::JSON::Raw (the token's text).
use strict;
use warnings;
use Exporter 'import';

our @EXPORT_OK = qw(parse encode str raw php_string);

sub parse {
    my ($text) = @_;
    local $_ = $text;
    pos($_) = 0;
    my $value = _value(0);
    /\G\s*/gc;
    die sprintf("JSON: trailing data at offset %d\n", pos($_)) if pos($_) < length $_;
    return $value;
}

# Deep enough for any Matomo answer; protects the stack from odd input.
use constant MAX_DEPTH => 64;

sub _value {
    my ($depth) = @_;
    die "JSON: nested too deeply\n" if $depth > MAX_DEPTH;
    /\G\s*/gc;
    return _object($depth) if /\G\{/gc;
    return _array($depth)  if /\G\[/gc;
    return raw($1) if /\G("(?:[^"\\]++|\\.)*+")/gcs;
    return raw($1) if /\G(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null)/gc;
    die sprintf("JSON: unexpected input at offset %d\n", pos($_) // 0);
}

sub _object {
    my ($depth) = @_;
    my $obj = FakeMatomo::JSON::Object->new;
    /\G\s*/gc;
    return $obj->_mark_braces if /\G\}/gc;
    while (1) {
        /\G\s*/gc;
        /\G("(?:[^"\\]++|\\.)*+")/gcs
            or die sprintf("JSON: object key expected at offset %d\n", pos($_));
        my $raw_key = $1;
        /\G\s*:/gc or die sprintf("JSON: ':' expected at offset %d\n", pos($_));
        $obj->_push(decode_string($raw_key), $raw_key, _value($depth + 1));
        /\G\s*/gc;
        next if /\G,/gc;
        return $obj->_mark_braces if /\G\}/gc;
        die sprintf("JSON: ',' or '}' expected at offset %d\n", pos($_));
    }
}

sub _array {
    my ($depth) = @_;
    my @items;
    /\G\s*/gc;
    return \@items if /\G\]/gc;
    while (1) {
        push @items, _value($depth + 1);
        /\G\s*/gc;
        next if /\G,/gc;
        return \@items if /\G\]/gc;
        die sprintf("JSON: ',' or ']' expected at offset %d\n", pos($_));
    }
}

my %UNESCAPE = ('"' => '"', '\\' => '\\', '/' => '/', b => "\b", f => "\f",
                n => "\n", r => "\r", t => "\t");

# The text of a JSON string token (with its quotes) as a Perl string.
sub decode_string {
    my ($token) = @_;
    my $s = substr($token, 1, -1);
    return $s unless $s =~ /\\/;
    $s =~ s{\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})}
           {chr(0x10000 + ((hex($1) - 0xD800) << 10) + (hex($2) - 0xDC00))}ge;
    $s =~ s{\\(?:u([0-9a-fA-F]{4})|(.))}{defined $1 ? chr(hex $1) : ($UNESCAPE{$2} // $2)}ge;
    return $s;
}

# A Perl string as PHP's json_encode prints it by default (Matomo's JSON
# renderer): '/' escaped, everything outside ASCII as \uXXXX.
sub php_string {
    my ($s) = @_;
    $s =~ s{([\x00-\x1f"\\/]|[^\x00-\x7f])}{_php_escape($1)}ge;
    return qq{"$s"};
}

my %ESCAPE = ("\b" => '\b', "\f" => '\f', "\n" => '\n', "\r" => '\r',
              "\t" => '\t', '"' => '\"', '\\' => '\\\\', '/' => '\/');

sub _php_escape {
    my ($c) = @_;
    return $ESCAPE{$c} if exists $ESCAPE{$c};
    my $cp = ord $c;
    return sprintf('\u%04x', $cp) if $cp < 0x10000;
    $cp -= 0x10000;
    return sprintf('\u%04x\u%04x', 0xD800 + ($cp >> 10), 0xDC00 + ($cp & 0x3FF));
}

sub raw { my ($text) = @_; return bless \$text, 'FakeMatomo::JSON::Raw' }

# A new string value, encoded like Matomo would.
sub str { return raw(php_string($_[0])) }

sub encode {
    my ($v) = @_;
    my $ref = ref $v;
    return $$v if $ref eq 'FakeMatomo::JSON::Raw';
    return '[' . join(',', map { encode($_) } @$v) . ']' if $ref eq 'ARRAY';
    return $v->encode if $ref eq 'FakeMatomo::JSON::Object';
    die "JSON: cannot encode a '$ref'\n";
}

package FakeMatomo::JSON::Raw;
# One scalar token, kept as Matomo printed it.

sub text      { ${ $_[0] } }
sub is_string { substr(${ $_[0] }, 0, 1) eq '"' }
sub is_null   { ${ $_[0] } eq 'null' }
sub is_false  { ${ $_[0] } eq 'false' }
sub is_number { ${ $_[0] } =~ /^-?[0-9]/ }

# The value as PHP would hold it: a string, a number, or undef for null and
# false (both read as "no value" by Matomo's DataTable::Row::getColumn).
sub value {
    my ($self) = @_;
    my $t = $$self;
    return FakeMatomo::JSON::decode_string($t) if substr($t, 0, 1) eq '"';
    return undef if $t eq 'null' || $t eq 'false';
    return 1 if $t eq 'true';
    return 0 + $t;
}

# The value as a PHP string conversion would print it (for regexes).
sub as_string {
    my ($self) = @_;
    my $t = $$self;
    return FakeMatomo::JSON::decode_string($t) if substr($t, 0, 1) eq '"';
    return '' if $t eq 'null' || $t eq 'false';
    return '1' if $t eq 'true';
    return $t;
}

package FakeMatomo::JSON::Object;
# A JSON object with its key order and each key's original spelling.

sub new { return bless { keys => [], vals => {}, raw => {}, braces => 0 }, shift }

sub _push {
    my ($self, $key, $raw_key, $value) = @_;
    push @{ $self->{keys} }, $key unless exists $self->{vals}{$key};
    $self->{vals}{$key} = $value;
    $self->{raw}{$key}  = $raw_key;
    return;
}

# "{}" in the original stays "{}"; an object emptied by a filter prints as
# PHP prints an empty array, "[]".
sub _mark_braces { my ($self) = @_; $self->{braces} = !@{ $self->{keys} }; return $self }

sub keys   { @{ $_[0]{keys} } }
sub count  { scalar @{ $_[0]{keys} } }
sub has    { exists $_[0]{vals}{ $_[1] } }
sub get    { $_[0]{vals}{ $_[1] } }

sub set {
    my ($self, $key, $value) = @_;
    $self->_push($key, $self->{raw}{$key} // FakeMatomo::JSON::php_string($key), $value);
    return $self;
}

sub delete {
    my ($self, $key) = @_;
    return unless exists $self->{vals}{$key};
    delete $self->{vals}{$key};
    delete $self->{raw}{$key};
    $self->{keys} = [ grep { $_ ne $key } @{ $self->{keys} } ];
    return;
}

# Keeps only the keys for which $keep->($key) is true, in order.
sub retain {
    my ($self, $keep) = @_;
    $self->delete($_) for grep { !$keep->($_) } $self->keys;
    return $self;
}

sub encode {
    my ($self) = @_;
    return $self->{braces} ? '{}' : '[]' unless @{ $self->{keys} };
    return '{' . join(',', map {
        $self->{raw}{$_} . ':' . FakeMatomo::JSON::encode($self->{vals}{$_})
    } @{ $self->{keys} }) . '}';
}

1;
