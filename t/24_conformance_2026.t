# The official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in package.json) against the endpoint, for exactly what revision
# 2026-07-28 requires (`--requirements 2026-07-28`: stateless, per-request
# _meta, server/discover), with t/conformance/expected-failures-2026-07-28.yml
# as the baseline; t/21_conformance.t does the same for 2025-11-25.  See
# t/lib/MatomoMcp/Conformance.pm for what is asserted besides the suite's
# exit status: here notably http-header-validation, which 2026-07-28 runs
# without scoring (pending), and every wire-schema-valid check.
#
# Against /mcp-conformance, where the test server adds the superuser token
# (t/21_conformance.t shows that endpoint is /mcp plus the token).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use MatomoMcp::Conformance qw(run_requirements);
use McpTest ();

# The 2026-07-28 probe the way the suite (and Claude's clients) send it gets
# in on /mcp-conformance without credentials: the suite's requests are
# served, not refused at the door.
my $META = { 'io.modelcontextprotocol/protocolVersion'    => '2026-07-28',
             'io.modelcontextprotocol/clientInfo'         => { name => 't', version => '0' },
             'io.modelcontextprotocol/clientCapabilities' => {} };
my $res = McpTest::mcp_post('/mcp-conformance',
    { jsonrpc => '2.0', id => 1, method => 'server/discover', params => { _meta => $META } },
    Authorization => undef, 'MCP-Protocol-Version' => '2026-07-28',
    'Mcp-Method' => 'server/discover');
my $j = McpTest::json_body($res);
ok($res->code == 200 && $j && ref $j->{result}{supportedVersions} eq 'ARRAY',
   '/mcp-conformance: server/discover at 2026-07-28 without credentials gets a discover result')
    or diag('HTTP ' . $res->code . ' ' . substr($res->decoded_content // '', 0, 300));

run_requirements(
    revision  => '2026-07-28',
    # Never in the baseline as a whole and checked here from checks.json
    # (server-stateless may have its fixture-only "Not testable" checks in
    # the baseline, nothing else).  http-header-validation is run unscored
    # by the suite (pending), so only this file makes it count.
    must_pass => [qw(server-stateless caching sep-2164-resource-not-found
                     tools-list resources-list prompts-list completion-complete
                     dns-rebinding-protection http-header-validation)],
    # (server-stateless sends its requests unrecorded: no such check.)
    wire_in   => [qw(caching sep-2164-resource-not-found
                     tools-list resources-list prompts-list completion-complete
                     http-header-validation)],
    skip_ok   => {
        # Skipped by the suite when the server does not declare listChanged
        # in server/discover: the module's lists never change at run time,
        # so it declares listChanged: false.
        'server-stateless' => {
            'sep-2575-server-sends-tools-list-changed-on-subscription'   => 'tools.listChanged is false',
            'sep-2575-server-sends-prompts-list-changed-on-subscription' => 'prompts.listChanged is false',
        },
    },
);

done_testing();
