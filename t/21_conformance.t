# The official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in package.json) against the endpoint, for exactly what revision
# 2025-11-25 requires (`--requirements 2025-11-25`: the initialize
# lifecycle), with t/conformance/expected-failures-2025-11-25.yml as the
# baseline; t/24_conformance_2026.t does the same for 2026-07-28.  See
# t/lib/MatomoMcp/Conformance.pm for what is asserted besides the suite's
# exit status.
#
# The suite sends no credentials and cannot be told to, so it runs against
# /mcp-conformance, where the test server adds the fake Matomo's superuser
# token (RequestHeader in t/conf/extra.conf.in); the first tests here show
# that endpoint is /mcp plus the token and nothing else.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use MatomoMcp::Clients qw(top_dir);
use MatomoMcp::Conformance qw(run_requirements);
use McpTest ();

my $top = top_dir();

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

run_requirements(
    revision  => '2025-11-25',
    # What every 2025 server must do, the rebinding guard, and the
    # catalog's own lists: never in the baseline, and checked here from
    # checks.json too.
    must_pass => [qw(server-initialize ping logging-set-level tools-list
                     resources-list prompts-list completion-complete
                     dns-rebinding-protection)],
    wire_in   => [qw(server-initialize ping tools-list resources-list
                     prompts-list completion-complete)],
);

done_testing();
