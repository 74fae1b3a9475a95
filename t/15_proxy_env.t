# Matomo is called directly, never through a proxy from httpd's environment:
# the caller's token travels in each call.  t/TEST.PL starts the test Apache
# with every proxy variable libcurl reads pointing at a closed port
# (t/lib/MatomoMcp/ProxyEnv.pm); this file checks that the server's
# processes really carry them, as libcurl would read them (getenv, so the
# process environment, which mod_env's SetEnv and PassEnv never touch), and
# that tool calls still reach the fake Matomo.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use McpTest;
use MatomoMcp::ProxyEnv qw(%PROXY_ENV @NO_PROXY_ENV);

plan tests => 2 + 2 * 2;

# A process's environment as it was exec'd: /proc/PID/environ.  httpd's
# children are forked, never exec'd, and nothing in httpd changes environ,
# so this is what getenv() returns in them.
sub environ_of {
    my $pid = shift;
    open my $fh, '<:raw', "/proc/$pid/environ" or return undef;
    my $text = do { local $/; <$fh> };
    return { map { /^([^=]*)=(.*)$/s ? ($1 => $2) : () } split /\0/, $text };
}

sub children_of {
    my $parent = shift;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        push @kids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $parent;
    }
    return @kids;
}

sub carries_proxy_env {
    my $env = shift or return 0;
    for my $k (keys %PROXY_ENV) {
        return 0 unless ($env->{$k} // '') eq $PROXY_ENV{$k};
    }
    return !grep { exists $env->{$_} } @NO_PROXY_ENV;
}

my $pid_file = Apache::Test::vars('t_pid_file');
open my $pf, '<', $pid_file or die "$pid_file: $!";
chomp(my $parent = <$pf>);
my @kids = children_of($parent);

ok(carries_proxy_env(environ_of($parent)),
   "httpd ($parent) runs with " . join(', ', sort keys %PROXY_ENV)
   . " at a closed port, and no no_proxy");
ok(@kids >= 1 && !grep({ !carries_proxy_env(environ_of($_)) } @kids),
   'so do its children (' . join(', ', @kids) . '), where libcurl runs');

sub site_count {
    my $j = shift;
    return -1 unless $j && $j->{result} && !$j->{result}{isError};
    return scalar @{ $j->{result}{structuredContent}{sites}{rows} // [] };
}

# The token as the token_auth POST field (the path the defect exposed) and
# in the Authorization header (a JWT-shaped OAuth token).
for my $case (['/mcp-forward-token-auth', token('superuser'), 'token_auth'],
              ['/mcp-forward-bearer', token('viewer_jwt'), 'bearer']) {
    my ($path, $tok, $how) = @$case;
    my $mark = fake_log_mark();
    my ($res, $j) = rpc_body($path, 1, 'tools/call',
                             { name => 'matomo_list_sites', arguments => {} },
                             bearer($tok));
    cmp_ok(site_count($j), '>=', 1, "$how: the tool call lists sites")
        or diag($res->as_string);
    ok(scalar(grep { ($_->{method} // '') eq
                     'SitesManager.getSitesWithAtLeastViewAccess' }
              fake_log_since($mark)),
       "$how: the call reached the fake Matomo directly");
}
