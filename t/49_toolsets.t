# A tool set per endpoint (MatomoMcpTools, issue 13): /mcp offers every
# tool; /mcp-marketing four by name (over two directive lines);
# /mcp-traffic the group traffic.  tools/list lists exactly those, as /mcp
# defines them; a call to a tool not offered gets the unknown-tool error
# /mcp gives a name it never had; prompts (and completions of their
# arguments) that lead to a tool not offered are not offered either.
# Unknown names are refused at start-up: t/12_config.t.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;

# Every tool of an endpoint, following nextCursor.
sub tools_of {
    my $path = shift;
    my (@tools, $cursor);
    for (1 .. 20) {
        my (undef, $body) = rpc_body($path, 1, 'tools/list', $cursor ? { cursor => $cursor } : {});
        push @tools, @{ $body->{result}{tools} // [] };
        $cursor = $body->{result}{nextCursor} or last;
    }
    return @tools;
}

my @all = tools_of('/mcp');
my %def = map { $_->{name} => $_ } @all;
my @order = map { $_->{name} } @all;
cmp_ok(scalar @all, '>=', 12, '/mcp offers every tool (' . scalar(@all) . ')');

# The group as src/mcp_catalog.c defines it is what README.md documents:
# read the README's table row for it.
my %group;
{
    open my $fh, '<', "$FindBin::Bin/../README.md" or die $!;
    while (<$fh>) {
        my ($name) = /^\| `(traffic|reports|technical)` \|/ or next;
        $group{$name} = [ /`(matomo_[a-z_]+)`/g ];
    }
}
ok($group{traffic} && @{ $group{traffic} }, 'README lists the traffic group: ' . join(' ', @{ $group{traffic} || [] }));

my %offer = (
    '/mcp-marketing' => [qw(matomo_list_sites matomo_sites_overview matomo_traffic_summary matomo_get_report)],
    '/mcp-traffic'   => $group{traffic} // [],
);

# The prompts /mcp has, with the tools their messages call for.
my %prompt_tools;
{
    my (undef, $body) = rpc_body('/mcp', 2, 'prompts/list', {});
    for my $p (@{ $body->{result}{prompts} }) {
        my %args = map { $_->{name} => ($_->{name} eq 'idSite' ? '1' : undef) } grep { $_->{required} } @{ $p->{arguments} };
        my (undef, $got) = rpc_body('/mcp', 3, 'prompts/get', { name => $p->{name}, arguments => \%args });
        my $text = join ' ', map { $_->{content}{text} // '' } @{ $got->{result}{messages} // [] };
        $prompt_tools{ $p->{name} } = [ grep { exists $def{$_} } $text =~ /\b(matomo_[a-z_]+)\b/g ];
    }
}
cmp_ok(scalar keys %prompt_tools, '>=', 4, '/mcp offers every prompt');

my (undef, $unknown) = rpc_body('/mcp', 4, 'tools/call', { name => 'matomo_never_was', arguments => {} });
ok($unknown->{error}, '/mcp: a name it never had is an error') or diag(explain($unknown));

for my $path (sort keys %offer) {
    my %want = map { $_ => 1 } @{ $offer{$path} };
    my @got = tools_of($path);
    is_deeply([ map { $_->{name} } @got ], [ grep { $want{$_} } @order ],
              "$path: tools/list lists exactly @{[ join ' ', sort keys %want ]}, in /mcp's order");
    is_deeply(\@got, [ map { $def{$_} } grep { $want{$_} } @order ], "$path: ... each defined as /mcp defines it");

    my ($hidden) = grep { !$want{$_} } @order;
    my (undef, $body) = rpc_body($path, 5, 'tools/call', { name => $hidden, arguments => { idSite => 1 } });
    is_deeply([ $body->{error}{code}, $body->{error}{message} ],
              [ $unknown->{error}{code}, $unknown->{error}{message} ],
              "$path: calling $hidden gives the unknown-tool error");
    is($body->{error}{data}{tool}, $hidden, '... naming it');

    my ($shown) = grep { $want{$_} } @order;
    (undef, $body) = rpc_body($path, 6, 'tools/call', { name => 'matomo_list_sites', arguments => {} });
    ok($body->{result} && !$body->{result}{isError}, "$path: matomo_list_sites answers");

    my @want_prompts = sort grep { !grep { !$want{$_} } @{ $prompt_tools{$_} } } keys %prompt_tools;
    (undef, $body) = rpc_body($path, 7, 'prompts/list', {});
    is_deeply([ sort map { $_->{name} } @{ $body->{result}{prompts} } ], \@want_prompts,
              "$path: prompts/list offers the prompts whose tools are all offered (@want_prompts)");
    for my $p (grep { my $n = $_; !grep { $_ eq $n } @want_prompts } sort keys %prompt_tools) {
        (undef, $body) = rpc_body($path, 8, 'prompts/get', { name => $p, arguments => { idSite => '1' } });
        my (undef, $never) = rpc_body('/mcp', 8, 'prompts/get', { name => 'matomo_never_was', arguments => { idSite => '1' } });
        is_deeply([ $body->{error}{code}, $body->{error}{message} ], [ $never->{error}{code}, $never->{error}{message} ],
                  "$path: prompts/get $p (it needs a tool not offered) is an unknown prompt");
        (undef, $body) = rpc_body($path, 9, 'completion/complete',
                                  { ref => { type => 'ref/prompt', name => $p }, argument => { name => 'idSite', value => '' } });
        (undef, $never) = rpc_body('/mcp', 9, 'completion/complete',
                                  { ref => { type => 'ref/prompt', name => 'matomo_never_was' }, argument => { name => 'idSite', value => '' } });
        is_deeply($body->{error} // $body->{result}, $never->{error} // $never->{result},
                  "$path: ... and completing its arguments answers as for a prompt it never had");
    }
}

done_testing();
