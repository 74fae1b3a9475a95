# The official MCP TypeScript SDK client against /mcp: runs
# t/js/sdk.test.mjs under `node --test` (Debian's Node 20) and turns each of
# its tests into one here.  Node's own output comes back as TAP comments.
# The script authenticates with the fake Matomo's superuser token and, for
# the access-control tests, its view-only token (t/matomo/tokens.json),
# handed over in MCP_TOKEN and MCP_VIEWER_TOKEN, never on a command line.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use MatomoMcp::Clients qw(top_dir mcp_url node20 node_major run_tool as_comments
                          token);

# As many tests as t/js/sdk.test.mjs has: fewer passing means some vanished.
my $MIN_PASS = 35;

my $top  = top_dir();
my $node = node20();
my $url  = mcp_url('/mcp');

ok(node_major($node) >= 20, 'node >= 20 on PATH')
    or diag('node not found on PATH: `make deps` installs nodejs');
ok(-f "$top/node_modules/\@modelcontextprotocol/sdk/package.json",
   '@modelcontextprotocol/sdk installed in node_modules')
    or diag('run `make deps` (npm ci) first');

my ($status, @out) = defined $node
    ? run_tool(
        timeout => 120,
        env     => { MCP_URL => $url, MCP_TOKEN => token('superuser'),
                     MCP_VIEWER_TOKEN => token('viewer'),
                     NODE_OPTIONS => '', NO_COLOR => 1 },
        cmd     => [$node, '--test', '--test-reporter=tap',
                    '--test-timeout=30000', 't/js/sdk.test.mjs'])
    : (-1, 'node: not found');

# Node's top-level test points, as tests of this file.
my (%summary, $points);
for (@out) {
    if (/^(not )?ok \d+ - (.*?)(?:\s+#\s*(SKIP|TODO)\b.*)?$/) {
        $points++;
        ok(!$1 || $3, "sdk: $2");
    }
    $summary{$1} = $2 if /^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/;
}

is($status, 0, "node --test t/js/sdk.test.mjs exits 0 (MCP_URL=$url)");
cmp_ok($summary{pass} // 0, '>=', $MIN_PASS, "node reports at least $MIN_PASS passing tests");
is($summary{fail} // -1, 0, 'node reports no failing test');
is($summary{cancelled} // -1, 0, 'node reports no cancelled test');

# "# pass 10" is node's closing line: reworded, it cannot pass for ours.
my $comments = as_comments('node', \@out,
                           sub { s/^# (tests|pass|fail|cancelled|skipped|todo|suites|duration_ms) /node $1=/ });
Test::More->builder->is_passing ? print $comments : print STDERR $comments;

done_testing();
