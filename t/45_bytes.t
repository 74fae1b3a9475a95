# What a model pays for: for each acceptance question (t/tools/acceptance.json)
# the bytes of the tool results (the structuredContent JSON, and the whole
# tools/call answer) against the bytes of Matomo's raw answer for the same
# rows (the fake Matomo asked directly with the equivalent plain API request:
# the same filter_limit, format_metrics=0).  The table goes to the TAP
# output as comments and to t/logs/bytes.md (the README quotes it);
# t/bin/measure-bytes runs this file alone and prints the table.
use strict;
use warnings FATAL => 'all';
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;
use MatomoMcp::Acceptance qw(questions tools_listed pending call_tool raw_matomo);

# Numbers as Matomo and the module wrote them (581.4100000000001 stays so),
# compact, UTF-8: the bytes of the structuredContent JSON.
my $EXACT = JSON::PP->new->utf8->allow_bignum->canonical;

my $tools = tools_listed();
my (@table, @notes);
my ($sum_sc, $sum_answer, $sum_raw) = (0, 0, 0);

sub md { my $s = shift; $s =~ s/\|/\\|/g; $s }

sub call_text {
    my $call = shift;
    my $a = $call->{arguments} // {};
    return "$call->{tool}(" . join(', ', map {
        my $v = $a->{$_};
        "$_=" . (ref $v eq 'ARRAY' ? '[' . join(',', @$v) . ']'
                 : JSON::PP::is_bool($v) ? ($v ? 'true' : 'false') : $v)
    } sort keys %$a) . ')';
}

for my $q (questions()) {
    my ($sc, $answer, $raw, $missing) = (0, 0, 0, 0);
    my @calls;
    for my $call (@{ $q->{calls} }) {
        my $why = pending($tools, $call);
        push @calls, md(call_text($call)) . ($why ? ' *(' . md($why) . ')*' : '');
        for my $r (@{ $call->{raw} // [] }) {
            my ($status, $bytes) = raw_matomo($r);
            my $error = $bytes =~ /^\{"result":"error"/;
            ok($status == 200 && !$error,
               "$q->{id}: Matomo answers $r->{method} (" . length($bytes) . ' bytes)')
                or diag(substr($bytes, 0, 300));
            $raw += length $bytes;
            push @notes, "$q->{id}: raw $r->{method}: $r->{note}" if $r->{note};
        }
        # t/44_acceptance.t fails on it too; here the row would be empty.
        if ($why) { fail("$q->{id}: $call->{tool} can be called ($why)"); $missing++; next }
        my ($res, $body) = call_tool($call);
        my $result = $body && $body->{result};
        ok($result && !$result->{isError} && $result->{structuredContent},
           "$q->{id}: $call->{tool} answers with data")
            or diag($result ? ($result->{content}[0]{text} // '') : $res->status_line);
        next unless $result && $result->{structuredContent};
        my $exact = $EXACT->decode($res->content);
        $sc += length $EXACT->encode($exact->{result}{structuredContent});
        $answer += length $res->content;
    }
    if ($missing) {
        push @table, [$q->{id}, join('<br>', @calls), '—', '—', $raw, '—'];
    } else {
        push @table, [$q->{id}, join('<br>', @calls), $sc, $answer, $raw,
                      $raw ? sprintf('%.0f%%', 100 * $sc / $raw) : '—'];
        ($sum_sc, $sum_answer, $sum_raw) = ($sum_sc + $sc, $sum_answer + $answer, $sum_raw + $raw);
    }
}

cmp_ok($sum_sc, '<', $sum_raw,
       "the answered questions' tool results ($sum_sc bytes) are smaller than Matomo's raw answers ($sum_raw bytes)");

my @md = (
    '| question | tool call(s) | structuredContent bytes | tools/call answer bytes | raw Matomo bytes | structuredContent ÷ raw |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    (map { '| ' . join(' | ', @$_) . ' |' } @table),
    sprintf('| **answered questions** | | **%d** | **%d** | **%d** | **%s** |', $sum_sc, $sum_answer, $sum_raw,
            $sum_raw ? sprintf('%.0f%%', 100 * $sum_sc / $sum_raw) : '—'),
    '',
    'Raw Matomo bytes: the fake Matomo 5.1.2 (recorded answers) asked directly with the plain API requests of '
    . 't/tools/acceptance.json ("raw"), format=JSON, format_metrics=0, the same filter_limit. The tools/call '
    . 'answer carries the data twice (structuredContent and the text block). "—": a call of the question cannot be made yet (its tool or argument is not in the catalog).',
    (@notes ? ('', map { "- $_" } @notes) : ()),
);

my $file = Apache::Test::vars('t_logs') . '/bytes.md';
if (open my $fh, '>:encoding(UTF-8)', $file) {
    print $fh "$_\n" for @md;
    close $fh;
    pass("the table is in $file");
} else {
    fail("cannot write $file: $!");
}
binmode Test::More->builder->output, ':encoding(UTF-8)';
note($_) for @md;

done_testing();
