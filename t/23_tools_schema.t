# Every tool of the catalog through the official MCP TypeScript SDK client:
# runs t/js/tools.test.mjs under `node --test` (Debian's Node 20) and turns
# each of its tests into one here.  For every tool it checks the definition
# (title, description, closed and typed inputSchema, outputSchema, read-only
# annotations, stable tools/list order) and, for every sample argument
# object of t/tools/samples.json, that the answer is data conforming to the
# tool's own outputSchema (ajv), that the text block is the same data, that
# the view-only user gets an access error for site 1 and that no answer
# carries a token.  A listed tool without samples fails.  The tokens are
# handed over in the environment, never on a command line.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use MatomoMcp::Clients qw(top_dir mcp_url node20 node_major run_tool as_comments
                          token);

# Today's catalog makes 58 passing tests (4 about tools/list, 3 per tool,
# 2 per sample for 4 tools and 21 samples): fewer means some vanished.
my $MIN_PASS = 58;

my $top  = top_dir();
my $node = node20();
my $url  = mcp_url('/mcp');

ok(node_major($node) >= 20, 'node >= 20 on PATH')
    or diag('node not found on PATH: `make deps` installs nodejs');
for my $pkg ('@modelcontextprotocol/sdk', 'ajv', 'ajv-formats') {
    ok(-f "$top/node_modules/$pkg/package.json", "$pkg installed in node_modules")
        or diag('run `make deps` (npm ci) first');
}
ok(-f "$top/t/tools/samples.json", 't/tools/samples.json exists');

my ($status, @out) = defined $node
    ? run_tool(
        timeout => 300,
        env     => { MCP_URL => $url, MCP_TOKEN => token('superuser'),
                     MCP_VIEWER_TOKEN => token('viewer'),
                     NODE_OPTIONS => '', NO_COLOR => 1 },
        cmd     => [$node, '--test', '--test-reporter=tap',
                    '--test-timeout=30000', 't/js/tools.test.mjs'])
    : (-1, 'node: not found');

# Node's top-level test points, as tests of this file; node's TODO tests
# (samples of tools not in tools/list yet) stay TODO here.
my (%summary, $points);
for (@out) {
    if (/^(not )?ok \d+ - (.*?)(?:\s+#\s*(SKIP|TODO)\b\s*(.*))?$/) {
        $points++;
        my ($failed, $what, $directive, $why) = ($1, $2, $3 // '', $4 // '');
        if ($directive eq 'TODO') {
            TODO: {
                local $TODO = $why || 'TODO in node';
                ok(!$failed, "tools: $what");
            }
        } else {
            ok(!$failed || $directive eq 'SKIP', "tools: $what");
        }
    }
    $summary{$1} = $2 if /^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/;
}

ok($points, 'node ran tests') or diag('no test points in the output of node');
is($status, 0, "node --test t/js/tools.test.mjs exits 0 (MCP_URL=$url)");
cmp_ok($summary{pass} // 0, '>=', $MIN_PASS, "node reports at least $MIN_PASS passing tests");
is($summary{fail} // -1, 0, 'node reports no failing test');
is($summary{cancelled} // -1, 0, 'node reports no cancelled test');

# "# pass 10" is node's closing line: reworded, it cannot pass for ours.
my $comments = as_comments('node', \@out,
                           sub { s/^# (tests|pass|fail|cancelled|skipped|todo|suites|duration_ms) /node $1=/ });
Test::More->builder->is_passing ? print $comments : print STDERR $comments;

done_testing();
