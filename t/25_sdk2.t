# The official TypeScript SDK v2 client (@modelcontextprotocol/client 2.x)
# against /mcp on revision 2026-07-28: runs t/js/sdk2.test.mjs under
# `node --test` (Debian's Node 20) and turns each of its tests into one here.
# Pinned to 2026-07-28 and in 'auto' mode (the server/discover probe, then
# discovery), the client lists and calls every tool with the samples of
# t/tools/samples.json (each structuredContent validated against the tool's
# outputSchema with ajv), reads a resource, gets a prompt, completes an
# argument, gets progress, listens (pinned), and what it sent and got is
# checked on the wire.  The superuser token is handed over in MCP_TOKEN,
# never on a command line.  The v1 SDK client stays in t/20_sdk.t and
# t/23_tools_schema.t.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP ();
use MatomoMcp::Clients qw(top_dir node_test);

my $top = top_dir();

# Per mode: connect, tools/list, one per sample, resources, prompts,
# completion, progress, the wire; listen once (pinned).  Fewer passing
# means some vanished.
my $samples = do {
    open my $fh, '<', "$top/t/tools/samples.json" or die "t/tools/samples.json: $!\n";
    local $/;
    JSON::PP->new->decode(<$fh>);
};
my $n_samples = 0;
$n_samples += @{ $samples->{$_} } for grep { ref $samples->{$_} eq 'ARRAY' } keys %$samples;
my $MIN_PASS = 2 * (7 + $n_samples) + 1;
note("expecting at least $MIN_PASS passing node tests ($n_samples samples, two modes)");

for my $pkg ('@modelcontextprotocol/client', 'ajv', 'ajv-formats') {
    ok(-f "$top/node_modules/$pkg/package.json", "$pkg installed in node_modules")
        or diag('run `make deps` (npm ci) first');
}
my $pkg = eval {
    open my $fh, '<', "$top/node_modules/\@modelcontextprotocol/client/package.json" or die;
    local $/;
    JSON::PP->new->decode(<$fh>);
} // {};
like($pkg->{version} // '', qr/^2\./, '@modelcontextprotocol/client is 2.x (' . ($pkg->{version} // 'none') . ')');

# /mcp-raw offers every tool of samples.json, matomo_api_read included.
node_test(tag => 'sdk2', script => 't/js/sdk2.test.mjs', min_pass => $MIN_PASS,
          path => '/mcp-raw', timeout => 300);

done_testing();
