package MatomoMcp::Acceptance;
# The acceptance questions of issue 4 (t/tools/acceptance.json) as data:
# which tool calls answer each question, where the expected numbers are in
# the answers recorded from a real Matomo (t/matomo/recorded/), and how to
# find them in a tool's structuredContent.  Shared by t/44_acceptance.t (the
# checks) and t/45_bytes.t (bytes of tool results against raw Matomo
# answers).  The format is described in t/tools/README.md.
#
# Expected values always come from the recorded files, never from the
# module's own output.
use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestRequest ();
use HTTP::Request ();
use JSON::PP ();
use URI::Escape qw(uri_escape_utf8);
use Exporter 'import';
use McpTest qw(rpc rpc_body json_body token);

our @EXPORT_OK = qw(questions tools_listed pending call_tool recorded_body
                    pointer check_expected run_check raw_matomo describe_call
                    alterations);

my $JSON = JSON::PP->new->canonical->allow_nonref;

sub t_dir { Apache::Test::vars('serverroot') }

sub read_json {
    my $file = shift;
    open my $fh, '<', $file or die "cannot read $file: $!";
    local $/;
    my $text = <$fh>;
    return JSON::PP->new->decode($text);
}

# The questions of t/tools/acceptance.json, in order.
sub questions { @{ read_json(t_dir() . '/tools/acceptance.json')->{questions} } }

# tools/list as name => tool (superuser), following nextCursor.
sub tools_listed {
    my %tools;
    my ($cursor, $id) = (undef, 1);
    do {
        my (undef, $body) = rpc_body('/mcp', $id++, 'tools/list',
                                     defined $cursor ? { cursor => $cursor } : undef);
        die "tools/list did not answer\n" unless $body && $body->{result};
        $tools{ $_->{name} } = $_ for @{ $body->{result}{tools} };
        $cursor = $body->{result}{nextCursor};
    } while (defined $cursor);
    return \%tools;
}

# Why a call cannot be made, or undef: its tool is not in tools/list,
# or an argument it uses is not in the tool's inputSchema.
sub pending {
    my ($tools, $call) = @_;
    my $tool = $tools->{ $call->{tool} }
        or return "$call->{tool} is not in tools/list";
    my $props = $tool->{inputSchema}{properties} // {};
    my @missing = grep { !exists $props->{$_} } sort keys %{ $call->{arguments} // {} };
    return @missing
        ? "$call->{tool} has no argument " . join(', ', @missing)
        : undef;
}

sub describe_call {
    my $call = shift;
    return "$call->{tool} " . $JSON->encode($call->{arguments} // {});
}

# (HTTP::Response, decoded body) of a tools/call, as the given user.
sub call_tool {
    my ($call, $who) = @_;
    return rpc_body('/mcp', 7, 'tools/call',
                    { name => $call->{tool}, arguments => $call->{arguments} // {} },
                    Authorization => 'Bearer ' . token($who // 'superuser'));
}

# The decoded "body" of a recorded answer (t/matomo/recorded/FILE).
my %BODY;
sub recorded_body {
    my $file = shift;
    return $BODY{$file} //= do {
        my $rec = read_json(t_dir() . "/matomo/recorded/$file");
        JSON::PP->new->decode($rec->{body});
    };
}

# RFC 6901 JSON pointer; dies when it does not resolve.
sub pointer {
    my ($data, $ptr) = @_;
    return $data if !defined $ptr || $ptr eq '';
    die "bad JSON pointer '$ptr'\n" unless $ptr =~ m{^/};
    my $here = $data;
    for my $tok (map { s/~1/\//gr =~ s/~0/~/gr } split m{/}, substr($ptr, 1), -1) {
        if (ref $here eq 'HASH' && exists $here->{$tok}) {
            $here = $here->{$tok};
        } elsif (ref $here eq 'ARRAY' && $tok =~ /^(0|[1-9][0-9]*)$/ && $tok < @$here) {
            $here = $here->[$tok];
        } else {
            die "JSON pointer '$ptr' does not resolve (at '$tok')\n";
        }
    }
    return $here;
}

# --- comparing values --------------------------------------------------------

sub is_num { defined $_[0] && !ref $_[0] && $_[0] =~ /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/ }

# Matomo sends some numbers as strings ("10"); json-c may print a double
# with fewer digits (581.41 for 581.4100000000001): equal within 1e-9.
sub same {
    my ($a, $b) = @_;
    return 0 unless defined $a && defined $b;
    $a = $a ? 1 : 0 if JSON::PP::is_bool($a);
    $b = $b ? 1 : 0 if JSON::PP::is_bool($b);
    return 0 if ref $a || ref $b;
    if (is_num($a) && is_num($b)) {
        my $scale = 1;
        $scale = abs($a) if abs($a) > $scale;
        $scale = abs($b) if abs($b) > $scale;
        return abs($a - $b) <= 1e-9 * $scale;
    }
    return "$a" eq "$b";
}

sub show { my $v = shift; defined $v ? (ref $v ? $JSON->encode($v) : "$v") : 'null' }

# --- the recorded side -------------------------------------------------------

# Recorded rows: an array of row objects (a single-row report's object
# counts as one row), filtered by "where".
sub recorded_rows {
    my ($file, $ptr, $where) = @_;
    my $rows = pointer(recorded_body($file), $ptr);
    $rows = [$rows] if ref $rows eq 'HASH';
    die "$file$ptr is not a list of rows\n" unless ref $rows eq 'ARRAY';
    my @rows = grep { ref $_ eq 'HASH' } @$rows;
    for my $col (sort keys %{ $where // {} }) {
        @rows = grep { same($_->{$col}, $where->{$col}) } @rows;
    }
    return \@rows;
}

# Rows without the value sort last, as Matomo's sorter puts them.
sub sort_rows {
    my ($rows, $by, $order) = @_;
    my @with = grep { is_num($_->{$by}) } @$rows;
    my @without = grep { !is_num($_->{$by}) } @$rows;
    @with = $order eq 'asc' ? sort { $a->{$by} <=> $b->{$by} } @with
                            : sort { $b->{$by} <=> $a->{$by} } @with;
    return [@with, @without];
}

# What a check expects, from the recordings alone: a hash with
#   kind => 'table', rows => [...], n => N (rows to compare), top => {...}
#   kind => 'set',   rows => [...] (the rows that must be listed)
#   kind => 'value', value => V
# Dies with a message when the data is not where the check says.
sub check_expected {
    my $c = shift;
    if (exists $c->{literal}) {
        return { kind => 'value', value => $c->{literal} };
    }
    if ($c->{stopped}) {
        my ($b, $a) = @{ $c->{stopped} }{qw(before after)};
        my $key = $c->{key} // 'label';
        my @before = grep { is_num($_->{ $b->{metric} }) && $_->{ $b->{metric} } > 0 }
                     @{ recorded_rows($b->{recorded}, $b->{rows}, $b->{where}) };
        my %after = map { ($_->{$key} // '') => 1 }
                    grep { is_num($_->{ $a->{metric} }) && $_->{ $a->{metric} } > 0 }
                    @{ recorded_rows($a->{recorded}, $a->{rows}, $a->{where}) };
        return { kind => 'set', rows => [grep { !$after{ $_->{$key} // '' } } @before] };
    }
    if (defined $c->{value}) {
        return { kind => 'value', value => pointer(recorded_body($c->{recorded}), $c->{value}) };
    }
    my $rows = recorded_rows($c->{recorded}, $c->{rows}, $c->{where});
    if (defined $c->{column}) {
        die "$c->{recorded}: " . scalar(@$rows) . " rows match, not 1\n" unless @$rows == 1;
        die "$c->{recorded}: no $c->{column} in the row\n" unless exists $rows->[0]{ $c->{column} };
        return { kind => 'value', value => $rows->[0]{ $c->{column} } };
    }
    if (my $top = $c->{top}) {
        my $sorted = sort_rows($rows, $top->{by}, $top->{order} // 'desc');
        my $n = $top->{n} < @$sorted ? $top->{n} : scalar @$sorted;
        return { kind => 'table', rows => $rows, sorted => $sorted, n => $n,
                 all => $top->{n} >= @$sorted };
    }
    my $n = defined $c->{n} && $c->{n} < @$rows ? $c->{n} : scalar @$rows;
    return { kind => 'table', rows => $rows, sorted => $rows, n => $n,
             all => !defined $c->{n} || $c->{n} >= @$rows };
}

# --- the tool side -----------------------------------------------------------

# column (recorded name) => [tool names to try]
sub column_map {
    my $cols = shift // [];
    return ref $cols eq 'HASH'
        ? { map { ($_ => (ref $cols->{$_} ? $cols->{$_} : [$cols->{$_}])) } keys %$cols }
        : { map { ($_ => [$_]) } @$cols };
}

# Every table in a structuredContent: {columns:[...], rows:[[...]]} objects
# (the shape the conventions ask for; rows may sit below the object that
# names the columns once, e.g. one rows list per compared segment) and lists
# of row objects, each as { path, rows => [ {column => value} ] }, in a
# stable order.
sub tables {
    my ($node, $path, $out, $inherited) = @_;
    $out //= [];
    $path //= '';
    if (ref $node eq 'HASH') {
        my $named = ref $node->{columns} eq 'ARRAY'
                    && !(grep { ref $_ } @{ $node->{columns} });
        my $cols = $named ? $node->{columns} : $inherited;
        if ($cols && ref $node->{rows} eq 'ARRAY') {
            my @cols = @$cols;
            my @rows;
            for my $r (@{ $node->{rows} }) {
                if (ref $r eq 'ARRAY') {
                    push @rows, { map { ($cols[$_] => $r->[$_]) } 0 .. $#cols };
                } elsif (ref $r eq 'HASH') {
                    push @rows, $r;
                }
            }
            push @$out, { path => $path eq '' ? '(root)' : $path, rows => \@rows,
                          columns => \@cols };
        }
        tables($node->{$_}, "$path/$_", $out, $cols) for sort keys %$node;
    } elsif (ref $node eq 'ARRAY') {
        if (@$node && !grep { ref $_ ne 'HASH' } @$node) {
            my %cols = map { %$_ } @$node;
            push @$out, { path => $path, rows => $node, columns => [sort keys %cols] };
        }
        tables($node->[$_], "$path/$_", $out, $inherited) for 0 .. $#$node;
    }
    return $out;
}

sub first_present {
    my ($names, $have) = @_;
    for my $n (@$names) { return $n if $have->{$n} }
    return undef;
}

# The candidate tables for a check: at "table" when given, else every
# table with a key column and every compared column.
sub candidate_tables {
    my ($c, $structured) = @_;
    my $all = defined $c->{table}
        ? tables(pointer($structured, $c->{table}), $c->{table})
        : tables($structured);
    @$all = grep { $_->{path} eq ($c->{table} eq '' ? '(root)' : $c->{table}) } @$all
        if defined $c->{table};
    my $keys = $c->{tool_key} // [$c->{key} // 'label'];
    my $map = column_map($c->{columns});
    my @found;
    for my $t (@$all) {
        my %have = map { ($_ => 1) } @{ $t->{columns} };
        my $key = first_present($keys, \%have) // next;
        my %col;
        for my $rc (keys %$map) {
            $col{$rc} = first_present($map->{$rc}, \%have) // last;
        }
        next if keys %col != keys %$map;
        push @found, { %$t, key => $key, col => \%col };
    }
    return \@found;
}

# The recorded row a tool row stands for: by key, or by a key_also field
# (e.g. the URL where the tool shows URLs).
sub match_row {
    my ($c, $rows, $value) = @_;
    my @fields = ($c->{key} // 'label', @{ $c->{key_also} // [] });
    for my $f (@fields) {
        my @m = grep { same($_->{$f}, $value) } @$rows;
        return $m[0] if @m;
    }
    return undef;
}

# One table against the expectation: () when it fits, else the reasons.
sub table_misfits {
    my ($c, $exp, $t) = @_;
    my @why;
    my $rows = $t->{rows};
    my $n = $exp->{n};
    if ($exp->{kind} eq 'set') {
        my %want = map { (($_->{ $c->{key} // 'label' } // '') => $_) } @{ $exp->{rows} };
        my %seen;
        for my $r (@$rows) {
            my $m = match_row($c, $exp->{rows}, $r->{ $t->{key} });
            if (!$m) { push @why, "lists $t->{key}=" . show($r->{ $t->{key} }) . ', which is not expected'; next }
            push @why, 'lists ' . show($r->{ $t->{key} }) . ' twice' if $seen{ $m->{ $c->{key} // 'label' } }++;
        }
        push @why, "does not list $_" for grep { !$seen{$_} } sort keys %want;
        return @why;
    }
    if ($exp->{all} ? @$rows != $n : @$rows < $n) {
        push @why, scalar(@$rows) . ' rows, expected ' . ($exp->{all} ? '' : 'at least ') . $n;
        return @why if @$rows < $n;
    }
    my (@got, %seen);
    for my $i (0 .. $n - 1) {
        my $r = $rows->[$i];
        my $kv = $r->{ $t->{key} };
        my $m = match_row($c, $exp->{rows}, $kv);
        if (!$m) { push @why, "row $i: $t->{key}=" . show($kv) . ' is not in the recorded answer'; next }
        push @why, "row $i: " . show($kv) . ' listed twice' if $seen{ 0 + $m }++;
        for my $rc (sort keys %{ $t->{col} }) {
            my $tc = $t->{col}{$rc};
            push @why, "row $i " . show($kv) . ": $tc=" . show($r->{$tc})
                       . ", recorded $rc=" . show($m->{$rc})
                unless same($r->{$tc}, $m->{$rc})
                       || (!defined $m->{$rc} && (!defined $r->{$tc} || same($r->{$tc}, 0)));
        }
        push @got, $m;
    }
    if (my $top = $c->{top}) {
        my ($by, $order) = ($top->{by}, $top->{order} // 'desc');
        my @tv = map { $_->{$by} } @got;
        for my $i (1 .. $#tv) {
            next unless is_num($tv[$i - 1]) && is_num($tv[$i]);
            push @why, "rows not in $order order of $by at row $i (" . show($tv[$i - 1]) . ', ' . show($tv[$i]) . ')'
                if $order eq 'asc' ? $tv[$i] < $tv[$i - 1] : $tv[$i] > $tv[$i - 1];
        }
        # The first n rows are a top n: ties at the cut may be either row.
        my @want = map { show($_->{$by}) } @{ $exp->{sorted} }[0 .. $n - 1];
        my @have = map { show($_) } @tv;
        my $w = join ',', sort @want;
        my $h = join ',', sort @have;
        push @why, "the $by values of the first $n rows are [" . join(',', @have)
                   . '], the recorded top ' . $n . ' has [' . join(',', @want) . ']'
            if $w ne $h;
    } elsif (($c->{order} // 'any') eq 'recorded') {
        for my $i (0 .. $n - 1) {
            push @why, "row $i is not the recorded row $i"
                if $got[$i] && $got[$i] != $exp->{rows}[$i];
        }
    }
    return @why;
}

# Every value in structuredContent under one of the key names, with a
# context: its path, and the texts of the objects/rows around it (not the
# root's), which "under" is matched against.
sub find_values {
    my ($node, $keys, $path, $context, $out, $depth) = @_;
    $out //= [];
    $path //= '';
    $context //= '';
    $depth //= 0;
    my %k = map { ($_ => 1) } @$keys;
    if (ref $node eq 'HASH') {
        my $here = $depth == 0 ? '' : join ' ', map { $node->{$_} }
                   grep { defined $node->{$_} && !ref $node->{$_} } sort keys %$node;
        my $ctx = "$context $here";
        for my $key (sort keys %$node) {
            my $v = $node->{$key};
            push @$out, { path => "$path/$key", value => $v, context => "$ctx $path/$key" }
                if $k{$key} && (!ref $v || JSON::PP::is_bool($v));
        }
        # Table cells: the row's texts are its context.
        if (ref $node->{columns} eq 'ARRAY' && ref $node->{rows} eq 'ARRAY') {
            my @cols = @{ $node->{columns} };
            for my $i (0 .. $#{ $node->{rows} }) {
                my $r = $node->{rows}[$i];
                next unless ref $r eq 'ARRAY';
                my $rtext = join ' ', grep { defined && !ref } @$r;
                for my $ci (grep { defined $cols[$_] && !ref $cols[$_] && $k{ $cols[$_] } } 0 .. $#cols) {
                    push @$out, { path => "$path/rows/$i/$cols[$ci]", value => $r->[$ci],
                                  context => "$ctx $rtext $path/rows/$i/$cols[$ci]" };
                }
            }
        }
        find_values($node->{$_}, $keys, "$path/$_", $ctx, $out, $depth + 1)
            for grep { ref $node->{$_} } sort keys %$node;
    } elsif (ref $node eq 'ARRAY') {
        find_values($node->[$_], $keys, "$path/$_", $context, $out, $depth + 1)
            for grep { ref $node->[$_] } 0 .. $#$node;
    }
    return $out;
}

# Runs one check on a structuredContent: (1, '') or (0, diagnostics).
sub run_check {
    my ($c, $structured) = @_;
    my $exp = eval { check_expected($c) } or return (0, "expected value: $@");
    if ($exp->{kind} eq 'value') {
        if (defined $c->{at}) {
            my $v = eval { pointer($structured, $c->{at}) };
            return (0, "structuredContent$c->{at}: $@") if $@;
            return same($v, $exp->{value})
                ? (1, '')
                : (0, "structuredContent$c->{at} is " . show($v) . ', recorded ' . show($exp->{value}));
        }
        my $f = $c->{find} // {};
        my $keys = ref $f->{key} ? $f->{key} : [$f->{key} // die "check without at or find\n"];
        my @cand = @{ find_values($structured, $keys) };
        @cand = grep { $_->{context} =~ /$f->{under}/i } @cand if defined $f->{under};
        return (1, '') if grep { same($_->{value}, $exp->{value}) } @cand;
        my $list = join '; ', map { "$_->{path}=" . show($_->{value}) } @cand[0 .. ($#cand < 9 ? $#cand : 9)];
        return (0, 'no ' . join('/', @$keys)
                   . (defined $f->{under} ? " near /$f->{under}/i" : '')
                   . ' equal to the recorded ' . show($exp->{value})
                   . (@cand ? " (found: $list)" : ' (none found)'));
    }
    my $cands = eval { candidate_tables($c, $structured) }
        or return (0, "structuredContent: $@");
    unless (@$cands) {
        my $map = column_map($c->{columns});
        return (0, 'no table with a key column ['
                   . join(',', @{ $c->{tool_key} // [$c->{key} // 'label'] }) . ']'
                   . (keys %$map ? ' and the columns ' . join(' ', map { '[' . join(',', @{ $map->{$_} }) . ']' } sort keys %$map) : '')
                   . (defined $c->{table} ? " at '$c->{table}'" : '') . ' in structuredContent; tables: '
                   . join('; ', map { "$_->{path} [" . join(',', @{ $_->{columns} }) . ']' } @{ tables($structured) }));
    }
    my @diag;
    for my $t (@$cands) {
        my @why = table_misfits($c, $exp, $t);
        return (1, '') unless @why;
        splice @why, 8, @why - 8, '...' if @why > 8;
        push @diag, "table $t->{path}: " . join('; ', @why);
    }
    return (0, join "\n", @diag);
}

# --- the checks can fail ----------------------------------------------------

# A copy of a structure with every number (or every string) changed.
sub altered {
    my ($node, $what) = @_;
    return { map { ($_ => altered($node->{$_}, $what)) } keys %$node } if ref $node eq 'HASH';
    return [map { altered($_, $what) } @$node] if ref $node eq 'ARRAY';
    return $node if !defined $node || ref $node;    # null, booleans
    return is_num($node) ? ($what eq 'numbers' ? $node + 1 : $node)
                         : ($what eq 'strings' ? "$node~" : $node);
}

# The alterations of a structuredContent a check must notice: its numbers
# when it compares numbers, its strings when it compares texts (labels,
# dates, keys).  Each as [name, coderef making the altered copy].
sub alterations {
    my $c = shift;
    my $exp = eval { check_expected($c) } or return ();
    my ($nums, $strs);
    if ($exp->{kind} eq 'value') {
        is_num($exp->{value}) ? $nums++ : $strs++;
    } elsif ($exp->{kind} eq 'set') {
        $strs++ if @{ $exp->{rows} };
    } elsif ($exp->{n} > 0) {
        $strs++;
        $nums++ if keys %{ column_map($c->{columns}) };
    }
    return (($nums ? ['every number + 1', sub { altered($_[0], 'numbers') }] : ()),
            ($strs ? ['every text changed', sub { altered($_[0], 'strings') }] : ()));
}

# --- Matomo's raw answer -----------------------------------------------------

# The fake Matomo's answer to a plain API request (format JSON,
# format_metrics=0, the superuser's token in the POST body): (HTTP status,
# body bytes).  "note" is a comment of acceptance.json, not a parameter.
sub raw_matomo {
    my $params = shift;
    my %p = (module => 'API', format => 'JSON', format_metrics => '0',
             %$params, token_auth => token('superuser'));
    delete $p{note};
    my $body = join '&', map { uri_escape_utf8($_) . '=' . uri_escape_utf8($p{$_}) } sort keys %p;
    my $req = HTTP::Request->new(POST => Apache::TestRequest::resolve_url('/matomo/index.php'));
    $req->header('Content-Type' => 'application/x-www-form-urlencoded');
    $req->content($body);
    my $res = Apache::TestRequest->new->request($req);
    return ($res->code, $res->content);
}

1;
