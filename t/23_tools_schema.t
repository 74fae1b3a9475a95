# Every tool of the catalog through the official MCP TypeScript SDK client:
# runs t/js/tools.test.mjs under `node --test` (Debian's Node 20) and turns
# each of its tests into one here.  For every tool it checks the definition
# (title, description, closed and typed inputSchema, outputSchema, read-only
# annotations, stable tools/list order) and, for every sample argument
# object of t/tools/samples.json, that the answer is data conforming to the
# tool's own outputSchema (ajv), that the text block is the same data, that
# the view-only user gets an access error for site 1 and that no answer
# carries a token.  A listed tool without samples fails, and so does a
# tool with samples that is not listed.  The tokens are handed over in the
# environment, never on a command line.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP ();
use MatomoMcp::Clients qw(top_dir node_test);

my $top = top_dir();

# Every tool of samples.json must be listed (a sampled tool missing from
# tools/list fails in node), so node passes 4 tests about tools/list, 3 per
# tool and 2 per sample: fewer means some vanished.
my $samples = do {
    open my $fh, '<', "$top/t/tools/samples.json"
        or die "t/tools/samples.json: $!\n";
    local $/;
    JSON::PP->new->decode(<$fh>);
};
my @sampled = grep { ref $samples->{$_} eq 'ARRAY' } keys %$samples;
my $n_samples = 0;
$n_samples += @{ $samples->{$_} } for @sampled;
my $MIN_PASS = 4 + 3 * @sampled + 2 * $n_samples;
note("expecting at least $MIN_PASS passing node tests: "
     . scalar(@sampled) . " tools, $n_samples samples");
for my $pkg ('@modelcontextprotocol/sdk', 'ajv', 'ajv-formats') {
    ok(-f "$top/node_modules/$pkg/package.json", "$pkg installed in node_modules")
        or diag('run `make deps` (npm ci) first');
}
ok(-f "$top/t/tools/samples.json", 't/tools/samples.json exists');

# /mcp-raw offers every tool, matomo_api_read included (MatomoMcpTools
# default raw, t/conf/extra.conf.in): each definition file is checked
# against what an endpoint serves.
node_test(tag => 'tools', script => 't/js/tools.test.mjs', path => '/mcp-raw',
          min_pass => $MIN_PASS, timeout => 300);

done_testing();
