# The acceptance questions of issue 4 (t/tools/acceptance.json): each
# question as the tool calls (at most two) a model would make, answered with
# the numbers Matomo itself recorded (t/matomo/recorded/).  The expected
# values are read from the recorded files by a JSON pointer or a row
# selector, never taken from the module's output.
#
# A call whose tool is not in tools/list, or that uses an argument the
# tool's inputSchema does not have, is a failure: every question's tools are
# in the catalog now, so losing one (or one of its arguments) is a regression.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;
use MatomoMcp::Acceptance qw(questions tools_listed pending call_tool
                             check_expected run_check describe_call
                             alterations);

my @questions = questions();
my $tools = tools_listed();

is(scalar @questions, 12, 'acceptance.json has the 12 questions of issue 4');
is_deeply([map { $_->{id} } @questions], [map { "Q$_" } 1 .. 12], '... Q1 to Q12, in order');

my (@todo, @done);
for my $q (@questions) {
    my @calls = @{ $q->{calls} // [] };
    ok(@calls >= 1 && @calls <= 2, "$q->{id}: answered in 1 or 2 tool calls ("
                                   . scalar(@calls) . ')');
    # The expectations are data of the recordings: they must resolve now,
    # whether or not the tool exists yet.
    for my $i (0 .. $#calls) {
        for my $c (@{ $calls[$i]{checks} // [] }) {
            my $exp = eval { check_expected($c) };
            ok($exp, "$q->{id} call " . ($i + 1) . ": the recorded answer has the expected data for: $c->{what}")
                or diag($@);
            ok($exp->{kind} ne 'table' || $exp->{n} > 0 || $c->{what} =~ /\(none\)/,
               "$q->{id}: '$c->{what}' expects rows") if $exp;
        }
        ok(@{ $calls[$i]{checks} // [] }, "$q->{id} call " . ($i + 1) . ': has checks');
    }

    my $status = 'done';
    for my $i (0 .. $#calls) {
        my $call = $calls[$i];
        my $name = "$q->{id} call " . ($i + 1) . " ($call->{tool})";
        if (my $why = pending($tools, $call)) {
            $status = 'todo';
            fail("$name: \"$q->{question}\" needs " . describe_call($call) . " ($why)");
            next;
        }
        my ($res, $body) = call_tool($call);
        my $result = $body && $body->{result};
        ok($result && !$result->{isError}, "$name: answered with data")
            or diag(describe_call($call) . ' -> '
                    . ($result ? ($result->{content}[0]{text} // '') : $res->status_line));
        next unless $result && $result->{structuredContent};
        for my $c (@{ $call->{checks} }) {
            my ($pass, $why) = run_check($c, $result->{structuredContent});
            ok($pass, "$q->{id}: $c->{what}") or diag("$q->{id} " . describe_call($call) . "\n$why");
            # A check that passes whatever the numbers would prove nothing.
            for my $alt (alterations($c)) {
                my ($still) = run_check($c, $alt->[1]->($result->{structuredContent}));
                ok(!$still, "$q->{id}: '$c->{what}' fails with $alt->[0]");
            }
        }
    }
    push @{ $status eq 'todo' ? \@todo : \@done }, $q->{id};
}

diag('acceptance questions answered by the catalog: ' . (join(' ', @done) || 'none'));
diag('acceptance questions waiting for tools: ' . (join(' ', @todo) || 'none'));
is_deeply(\@todo, [], 'every acceptance question has its tools and arguments in tools/list');

done_testing();
