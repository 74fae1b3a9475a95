# Start-up validation: every bad MatomoMcp* value stops "httpd -t" with the
# file and line, and a SetHandler matomo-mcp without a backend stops a real
# start.  Each case is a small stand-alone configuration in a temp dir; the
# test server Apache::Test started is not involved.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

plan tests => 168 + 2 * 6 + 2 * 6 + 3 + 2 * 7 + 2;

my $httpd  = Apache::Test::vars('httpd');
my $root   = Apache::Test::vars('serverroot');          # t/
my $module = "$root/../.libs/mod_matomo_mcp.so";
my $tmp    = tempdir('mcp-config-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tmp;

# A missing build must fail the suite, not skip it.
ok(-x $httpd, "httpd found ($httpd)");
ok(-f $module, "module built ($module)");

# A port nobody listens on, for the configurations that really start.
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1) or die $!;
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Writes a configuration: the fixed head, then @body.  Returns the file name
# and the line number of the first body line matching $at (or 0).
my $n = 0;
sub write_conf {
    my ($at, @body) = @_;
    my $dir = "$tmp/" . ++$n;
    mkdir $dir or die "$dir: $!";
    my $port = free_port();
    my @head = (
        "ServerRoot $root",
        "Listen 127.0.0.1:$port",
        'LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so',
        'LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so',
        "LoadModule matomo_mcp_module $module",
        'ServerName localhost',
        "DocumentRoot $dir",
        "ErrorLog $dir/error_log",
        "PidFile $dir/httpd.pid",
        "DefaultRuntimeDir $dir",
        'User www-data',
        'Group www-data',
    );
    my $line = 0;
    for my $i (0 .. $#body) {
        if (defined $at && $body[$i] =~ $at) { $line = @head + $i + 1; last }
    }
    my $file = "$dir/httpd.conf";
    open my $fh, '>', $file or die "$file: $!";
    print $fh map { "$_\n" } @head, @body;
    close $fh;
    return ($file, $line, $port, $dir);
}

sub slurp { my $f = shift; open my $fh, '<', $f or return ''; local $/; <$fh> }

# httpd -t: (exit status, all output).
sub config_test {
    my $file = shift;
    my $out = `'$httpd' -t -f '$file' 2>&1`;
    return ($? >> 8, $out);
}

# A real start in the foreground (-X): 'refused' with the exit status and
# what httpd said (stderr and its ErrorLog), or 'started' once the port
# answers (then the server is stopped again).
sub real_start {
    my ($file, $port, $dir) = @_;
    my $out = "$dir/start.out";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', $out or die;
        open STDERR, '>&', \*STDOUT or die;
        exec $httpd, '-X', '-f', $file;
        exit 127;
    }
    my $deadline = time + 20;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            return ('refused', $? >> 8,
                    slurp($out) . slurp("$dir/error_log"));
        }
        if (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 1)) {
            kill TERM => $pid;
            waitpid($pid, 0);
            return ('started', 0, slurp("$dir/error_log"));
        }
        sleep 0.1;
    }
    kill KILL => $pid;
    waitpid($pid, 0);
    return ('hung', -1, slurp($out));
}

# --- each bad value stops "httpd -t" at its line -----------------------------
my @bad = (
    'MatomoMcpBackend ftp://x/',
    'MatomoMcpBackend not-a-url',
    'MatomoMcpBackend /matomo/index.php',
    'MatomoMcpBackend http:///index.php',
    'MatomoMcpBackend http://user:pw@host/',     # credentials
    'MatomoMcpBackend http://user@host/',
    'MatomoMcpBackend http://host/index.php?module=API',
    'MatomoMcpBackend http://host/index.php#x',
    # apr_uri_parse passes these; libcurl refuses them or can only fail.
    'MatomoMcpBackend http://127.0.0.1:99999/',   # port out of range
    'MatomoMcpBackend http://host:/x',            # empty port
    'MatomoMcpBackend http://host:0/',
    'MatomoMcpBackend http://host/a%zz/',         # not a %-escape
    'MatomoMcpBackend http://host/a%',
    'MatomoMcpBackend "http://host/a b/"',        # libcurl: bad path
    'MatomoMcpBackend "http://ho st/"',           # libcurl: bad host name
    'MatomoMcpMaxRequestBody 10',                 # below the minimum
    'MatomoMcpMaxRequestBody abc',
    'MatomoMcpMaxRequestBody 100G',               # above the maximum
    'MatomoMcpMaxRequestBody -1',
    'MatomoMcpMaxRequestBody 2KB',                # trailing junk
    'MatomoMcpMaxRequestBody 65M',
    # 2^54+1 K is 2^64+1024 bytes: wraps to 1K if the multiply overflows.
    'MatomoMcpMaxRequestBody 18014398509481985K',
    # 2^44+1 M likewise wraps to 1M.
    'MatomoMcpMaxRequestBody 17592186044417M',
    'MatomoMcpMaxBackendResponse 1K',
    'MatomoMcpMaxChartSize 1000',                 # below 1K
    'MatomoMcpMaxChartSize 17M',                  # above 16M
    'MatomoMcpMaxChartSize big',
    'MatomoMcpBackendTimeout 0',
    'MatomoMcpBackendTimeout 9999',
    'MatomoMcpBackendTimeout 601',
    'MatomoMcpBackendTimeout -5',
    'MatomoMcpBackendTimeout soon',
    # 18446744073710 s is 2^64 us + 0.45 s: wraps into range on overflow.
    'MatomoMcpBackendTimeout 18446744073710',
    'MatomoMcpBackendConnectTimeout 61',
    'MatomoMcpAllowedOrigins https://x/path',
    'MatomoMcpAllowedOrigins https://ok.example.com ftp://x',
    'MatomoMcpAllowedOrigins claude.ai',
    'MatomoMcpAllowedOrigins https://x:',         # no port after ':'
    'MatomoMcpAllowedOrigins https://x:99999',
    'MatomoMcpAllowedOrigins https://x:0443',     # browsers send no zeros
    'MatomoMcpAllowedHosts "bad host/"',
    'MatomoMcpAllowedHosts https://x',
    'MatomoMcpAllowedHosts [::1',
    'MatomoMcpAllowedHosts [mcp.example.org]',
    'MatomoMcpAllowedHosts 2001:db8::zz',
    'MatomoMcpWebsiteUrl javascript:alert(1)',
    'MatomoMcpProgressInterval 0',
    'MatomoMcpProgressInterval 301',
    'MatomoMcpProgressInterval often',
    'MatomoMcpListenTimeout 3601',
    'MatomoMcpListenTimeout 0',
    'MatomoMcpListenMax 0',
    'MatomoMcpListenMax 65',
    'MatomoMcpListenMax -1',
    'MatomoMcpListenMax 4x',
    'MatomoMcpListenMax " 4"',
    'MatomoMcpListenMax 18446744073709551620',   # wraps to 4 on overflow
    'MatomoMcpTokenCheckBudget 0 10',
    'MatomoMcpTokenCheckBudget 5 4',
    'MatomoMcpTokenCheckBudget 5',
    'MatomoMcpTokenCheckBudget 5 10 0',
    'MatomoMcpTokenCheckBudget 5 10 8d',
    'MatomoMcpTokenCheckBudget five 10',
    'MatomoMcpBackendConcurrency 0',
    'MatomoMcpBackendConcurrency 1001',
    'MatomoMcpBackendConcurrency 10 601',
    'MatomoMcpCircuitBreaker 0',
    'MatomoMcpCircuitBreaker off 60',
    'MatomoMcpCircuitBreaker 5 0',
    'MatomoMcpForwardClientAddress maybe',
    'MatomoMcpTools matomo_no_such_tool',         # unknown names: refused
    'MatomoMcpTools traffic marketing',           # an unknown group
    'MatomoMcpTools MATOMO_GET_REPORT',           # names are exact
    'MatomoMcpResultBudget 1K',                   # below the minimum
    'MatomoMcpResultBudget 65M',
    'MatomoMcpResultBudget lots',
);
# One directive in an endpoint's <Location>, checked with "httpd -t":
# (directive name, file, line of the directive, exit code, output).
sub test_in_location {
    my ($directive) = @_;
    my ($name) = $directive =~ /^(\S+)/;
    my ($file, $line) = write_conf(qr/^\s*\Q$name\E/,
        '<Location /mcp>',
        '    SetHandler matomo-mcp',
        '    MatomoMcpBackend http://127.0.0.1/matomo/',
        "    $directive",
        '</Location>');
    return ($name, $file, $line, config_test($file));
}

for my $directive (@bad) {
    my ($name, $file, $line, $rc, $out) = test_in_location($directive);
    # The first MatomoMcpBackend line is valid: the bad line is the second.
    $line++ if $name eq 'MatomoMcpBackend';
    isnt($rc, 0, "refused: $directive");
    ok($out =~ /line (\d+) of \Q$file\E/ && $1 == $line
       && $out =~ /\Q$name\E/,
       "  the error names $name at $file:$line") or diag($out);
}

# --- values that could never match: refused, saying what to write ------------
# r->hostname never has a port, and a browser's Origin never has its scheme's
# default port.
for my $case (
    [ 'MatomoMcpAllowedHosts mcp.example.org:8443', q{'mcp.example.org'} ],
    [ 'MatomoMcpAllowedHosts ok.example.org *.example.net:443',
      q{'*.example.net'} ],
    [ 'MatomoMcpAllowedHosts [2001:db8::1]:8080', q{'[2001:db8::1]'} ],
    [ 'MatomoMcpAllowedOrigins https://app.example.com:443',
      q{'https://app.example.com'} ],
    [ 'MatomoMcpAllowedOrigins http://app.example.com:80',
      q{'http://app.example.com'} ],
    [ 'MatomoMcpAllowedOrigins http://[2001:db8::1]:80',
      q{'http://[2001:db8::1]'} ],
) {
    my ($directive, $instead) = @$case;
    my ($name, $file, $line, $rc, $out) = test_in_location($directive);
    isnt($rc, 0, "refused: $directive");
    ok($out =~ /line (\d+) of \Q$file\E/ && $1 == $line
       && $out =~ /\Q$name\E/ && $out =~ /write \Q$instead\E/,
       "  the error names $name at $file:$line and says to write $instead")
        or diag($out);
}

# --- good values pass "httpd -t" ---------------------------------------------
for my $directive (
    'MatomoMcpBackend http://h/matomo/',          # a base URL
    'MatomoMcpBackend https://h',
    'MatomoMcpBackend http://[::1]:8080/index.php',
    'MatomoMcpBackend http://h:65535/a%20b/',
    # Not a host name by RFC 1123, but DNS and libcurl take it, and Docker
    # Compose names services so.
    'MatomoMcpBackend http://matomo_app/',
    'MatomoMcpMaxRequestBody 1024',
    'MatomoMcpMaxRequestBody 64M',
    'MatomoMcpMaxBackendResponse 1G',
    'MatomoMcpMaxChartSize 1K',
    'MatomoMcpMaxChartSize 16M',
    'MatomoMcpBackendTimeout 600',
    'MatomoMcpBackendTimeout 1500ms',
    'MatomoMcpBackendConnectTimeout 1',
    'MatomoMcpAllowedOrigins https://claude.ai http://a.example.com:8443',
    # Another scheme's default port is not this one's.
    'MatomoMcpAllowedOrigins http://a.example.com:443 https://b.example.com:80',
    'MatomoMcpAllowedOrigins http://[2001:db8::1] http://[2001:db8::1]:8080',
    'MatomoMcpAllowedHosts mcp.example.org *.example.net [::1]',
    'MatomoMcpAllowedHosts 2001:db8::1 [2001:DB8::2] ::ffff:192.0.2.1',
    'MatomoMcpWebsiteUrl https://analytics.example.org/',
    'MatomoMcpProgressInterval 200ms',
    'MatomoMcpProgressInterval 300',
    'MatomoMcpListenTimeout 3600',
    'MatomoMcpListenTimeout 1500ms',
    'MatomoMcpListenMax 1',
    'MatomoMcpListenMax 64',
    'MatomoMcpTokenCheckBudget 5 10',
    'MatomoMcpTokenCheckBudget 1 1 30s',
    'MatomoMcpBackendConcurrency 1',
    'MatomoMcpBackendConcurrency 50 0',
    'MatomoMcpCircuitBreaker Off',
    'MatomoMcpCircuitBreaker 3 10s',
    'MatomoMcpForwardClientAddress Off',
    'MatomoMcpTools traffic raw',                 # matomo_api_read by group
    'MatomoMcpTools matomo_list_sites matomo_api_read',
) {
    my (undef, undef, undef, $rc, $out) = test_in_location($directive);
    ok($rc == 0 && $out =~ /Syntax OK/, "accepted: $directive") or diag($out);
}

# --- SetHandler without a backend: refused at start-up -----------------------
# The check runs in post_config, after "httpd -t" has already stopped, so
# only a real start shows it.
{
    my ($file, $line, $port, $dir) = write_conf(qr/SetHandler/,
        '<Location /mcp>',
        '    SetHandler matomo-mcp',
        '</Location>');
    my ($rc, $out) = config_test($file);
    diag('note: httpd -t ' . ($rc ? 'refuses' : 'accepts')
         . ' a SetHandler matomo-mcp without backend (post_config check)');
    my ($how, $code, $said) = real_start($file, $port, $dir);
    is($how, 'refused', 'no backend anywhere: start-up refused');
    isnt($code, 0, '  with a non-zero exit status');
    like($said, qr/\Q$file\E:$line\b/, "  naming the SetHandler at $file:$line");
}

# Where the backend may and may not be, relative to the SetHandler.
my @scopes = (
    [ 'started', 'backend at server scope',
      'MatomoMcpBackend http://127.0.0.1/matomo/',
      '<Location /mcp>', '    SetHandler matomo-mcp', '</Location>' ],
    [ 'started', 'backend in the enclosing <VirtualHost>',
      '<VirtualHost *:*>',
      '    ServerName v.example.org',
      '    MatomoMcpBackend http://127.0.0.1/matomo/',
      '    <Location /mcp>', '        SetHandler matomo-mcp', '    </Location>',
      '</VirtualHost>' ],
    [ 'started', 'backend inside <IfModule> at server scope',
      '<IfModule matomo_mcp_module>',
      '    MatomoMcpBackend http://127.0.0.1/matomo/',
      '</IfModule>',
      '<Location /mcp>', '    SetHandler matomo-mcp', '</Location>' ],
    [ 'started', 'backend and SetHandler in the same <Location>',
      '<Location /mcp>', '    SetHandler matomo-mcp',
      '    MatomoMcpBackend http://127.0.0.1/matomo/', '</Location>' ],
    [ 'refused', 'backend only in a sibling <Location>',
      '<Location /other>', '    MatomoMcpBackend http://127.0.0.1/matomo/',
      '</Location>',
      '<Location /mcp>', '    SetHandler matomo-mcp', '</Location>' ],
    [ 'refused', 'backend only in another <VirtualHost>',
      '<VirtualHost *:*>', '    ServerName a.example.org',
      '    MatomoMcpBackend http://127.0.0.1/matomo/', '</VirtualHost>',
      '<VirtualHost *:*>', '    ServerName b.example.org',
      '    <Location /mcp>', '        SetHandler matomo-mcp', '    </Location>',
      '</VirtualHost>' ],
);
for my $case (@scopes) {
    my ($want, $name, @body) = @$case;
    my ($file, $line, $port, $dir) = write_conf(qr/SetHandler/, @body);
    my ($how, $code, $said) = real_start($file, $port, $dir);
    is($how, $want, "$name: $want") or diag($said);
    if ($want eq 'refused') {
        like($said, qr/\Q$file\E:$line\b/, "  naming $file:$line");
    }
}
