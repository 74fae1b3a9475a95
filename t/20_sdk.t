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
use MatomoMcp::Clients qw(top_dir node_test);

# As many tests as t/js/sdk.test.mjs has: fewer passing means some vanished.
my $MIN_PASS = 37;

my $top = top_dir();
ok(-f "$top/node_modules/\@modelcontextprotocol/sdk/package.json",
   '@modelcontextprotocol/sdk installed in node_modules')
    or diag('run `make deps` (npm ci) first');

node_test(tag => 'sdk', script => 't/js/sdk.test.mjs', min_pass => $MIN_PASS,
          timeout => 120);

done_testing();
