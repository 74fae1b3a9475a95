package MatomoMcp::ProxyEnv;
# The proxy variables the test Apache runs with (t/TEST.PL), and that
# t/15_proxy_env.t finds in its processes: every one libcurl reads, each
# pointing at a closed port, with no no_proxy exception.  A Matomo call
# that honoured them would fail, so the whole suite shows that the module
# goes straight to MatomoMcpBackend.  Only httpd gets them: LWP, node and
# npm in the test scripts keep the environment they were given.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
our @EXPORT_OK = qw(%PROXY_ENV @NO_PROXY_ENV httpd_env_prefix);

# Port 9 (discard) on loopback, as for /mcp-fault-down: nothing listens.
our %PROXY_ENV = map { $_ => 'http://127.0.0.1:9' }
                 qw(http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY);
our @NO_PROXY_ENV = qw(no_proxy NO_PROXY);

# A prefix for a shell command line: env(1) with those settings.
sub httpd_env_prefix {
    return join ' ', 'env', (map { "-u $_" } @NO_PROXY_ENV),
                     map { "$_=$PROXY_ENV{$_}" } sort keys %PROXY_ENV;
}

1;
