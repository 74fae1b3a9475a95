# Extra servers for the shared-cache tests (t/18_cache.t): module Apaches
# ("nodes") with their own configuration, an Apache with mod_proxy_balancer
# in front of them, and a real redis-server or memcached from Debian, all
# on loopback ports of their own, started and stopped by the test itself.
# The nodes call the test server's fake Matomo, so its request log
# (McpTest::fake_log_since) sees every Matomo call any node makes.
package MatomoMcp::Nodes;
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use File::Path qw(make_path remove_tree);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes ();

our @EXPORT_OK = qw(free_port start_daemon stop_daemon start_apache
                    stop_apache apache_check node_conf balancer_conf
                    error_lines access_pids stop_all);

my $TOP = do { my $d = __FILE__; $d =~ s{/t/lib/MatomoMcp/Nodes\.pm$}{}; $d };
$TOP = POSIX::getcwd() . "/$TOP" unless $TOP =~ m{^/};
my $MODULES = '/usr/lib/apache2/modules';

sub apxs { my $v = `apxs -q $_[0]`; chomp $v; die "apxs -q $_[0] failed\n" unless $v; $v }
my $HTTPD = apxs('SBINDIR') . '/' . apxs('TARGET');

sub spew { my ($f, $t) = @_; open my $fh, '>', $f or die "$f: $!\n"; print $fh $t; close $fh }
sub slurp { my $f = shift; open my $fh, '<', $f or return ''; local $/; <$fh> }

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "no free port: $!\n";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub wait_port {
    my ($port, $up) = @_;
    for (1 .. 200) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                      Proto => 'tcp', Timeout => 1);
        return 1 if ($s ? 1 : 0) == $up;
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

# --- redis-server, memcached: foreground children of the test ---------------
my %daemons;   # pid => name

# start_daemon(NAME, PORT, COMMAND...): runs it with its output in LOG,
# returns its pid once PORT accepts connections.
sub start_daemon {
    my ($log, $port, @cmd) = @_;
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDOUT, '>>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec @cmd or POSIX::_exit(127);
    }
    $daemons{$pid} = $cmd[0];
    wait_port($port, 1) or die "$cmd[0] did not listen on $port (see $log)\n";
    return $pid;
}

sub stop_daemon {
    my ($pid, $port) = @_;
    return unless $pid && delete $daemons{$pid};
    kill 'TERM', $pid;
    waitpid $pid, 0;
    wait_port($port, 0) if $port;
}

# --- Apaches -----------------------------------------------------------------
my %apaches;   # pid file => conf

# The part every one of these Apaches shares: the test server's base
# configuration (event MPM, the few modules), its own directory, and
# CHILDREN children of 8 threads (pinned, so that tests know how many
# processes keep per-child state).
sub common {
    my ($dir, $name, $port, $children) = @_;
    my $user = $> == 0 ? "User www-data\nGroup www-data\n" : '';
    my $workers = $children * 8;
    return <<CONF;
ServerRoot "$dir"
ServerName 127.0.0.1
Mutex file:$dir
DefaultRuntimeDir "$dir"
${user}Include $TOP/t/conf/base.conf
TypesConfig /etc/mime.types
Listen 127.0.0.1:$port
PidFile "$dir/$name.pid"
ErrorLog "$dir/${name}_error_log"
LogLevel info
LogFormat "%P %>s %m %U" node
CustomLog "$dir/${name}_access_log" node
DocumentRoot "$dir"
StartServers $children
ServerLimit $children
ThreadsPerChild 8
ThreadLimit 8
MaxRequestWorkers $workers
MinSpareThreads 1
MaxSpareThreads $workers
MaxConnectionsPerChild 0
CONF
}

# A module node: the module, an socache provider module (LOAD: its name,
# e.g. "redis"; none when undef) and EXTRA directives (MatomoMcpCache...),
# /mcp calling the fake Matomo at FAKE (host:port), /mcp-slow its 1.5 s
# answers, /mcp-error its Matomo error; each answer names the node in
# X-Mcp-Node.
sub node_conf {
    my (%o) = @_;
    my $load = defined $o{load}
        ? "LoadModule socache_$o{load}_module $MODULES/mod_socache_$o{load}.so\n" : '';
    return common(@o{qw(dir name port children)}) . <<CONF;
LoadModule matomo_mcp_module $TOP/.libs/mod_matomo_mcp.so
$load$o{extra}
Header always set X-Mcp-Node $o{name}
<Location /server-status>
    SetHandler server-status
</Location>
<Location /mcp>
    SetHandler matomo-mcp
    MatomoMcpBackend http://$o{fake}/matomo/index.php
</Location>
<Location /mcp-slow>
    SetHandler matomo-mcp
    MatomoMcpBackend http://$o{fake}/matomo-fault/slow/1500/index.php
</Location>
<Location /mcp-error>
    SetHandler matomo-mcp
    MatomoMcpBackend http://$o{fake}/matomo-fault/error/index.php
</Location>
CONF
}

# The front: mod_proxy_balancer over MEMBERS (ports), round robin by
# requests, one child (so the round robin is one sequence).
sub balancer_conf {
    my (%o) = @_;
    my $members = join '', map { "    BalancerMember http://127.0.0.1:$_\n" } @{ $o{members} };
    return common(@o{qw(dir name port)}, 1) . <<CONF;
LoadModule proxy_module $MODULES/mod_proxy.so
LoadModule proxy_http_module $MODULES/mod_proxy_http.so
LoadModule proxy_balancer_module $MODULES/mod_proxy_balancer.so
LoadModule slotmem_shm_module $MODULES/mod_slotmem_shm.so
LoadModule lbmethod_byrequests_module $MODULES/mod_lbmethod_byrequests.so
<Proxy balancer://nodes>
$members    ProxySet lbmethod=byrequests
</Proxy>
ProxyPass /mcp balancer://nodes/mcp
CONF
}

# httpd -t on a configuration: (exit code, output).
sub apache_check {
    my ($dir, $name, $conf) = @_;
    make_path($dir);
    spew("$dir/$name.conf", $conf);
    my $out = `$HTTPD -t -f $dir/$name.conf 2>&1`;
    return ($? >> 8, $out);
}

sub start_apache {
    my ($dir, $name, $conf, $port) = @_;
    make_path($dir);
    chmod 0755, $dir;
    spew("$dir/$name.conf", $conf);
    my $pidfile = "$dir/$name.pid";
    $apaches{$pidfile} = 1;
    system($HTTPD, '-f', "$dir/$name.conf", '-k', 'start') == 0
        or die "$name did not start: " . slurp("$dir/${name}_error_log");
    wait_port($port, 1) or die "$name does not listen on $port\n";
    return $pidfile;
}

sub pid_of { my $p = slurp(shift); $p =~ /(\d+)/ ? $1 : undef }

sub stop_apache {
    my $pidfile = shift;
    return unless delete $apaches{$pidfile};
    my $pid;
    for (1 .. 100) { last if $pid = pid_of($pidfile); Time::HiRes::sleep(0.05) }
    return unless $pid;
    kill 'TERM', $pid;
    for (1 .. 200) { last unless kill 0, $pid; Time::HiRes::sleep(0.05) }
    kill 'KILL', $pid if kill 0, $pid;
}

sub stop_all {
    stop_apache($_) for keys %apaches;
    stop_daemon($_) for keys %daemons;
}

# The [error]/[crit]/[alert]/[emerg] lines of a node's error log, and any
# line of a crashed child.
sub error_lines {
    my $file = shift;
    return grep { /\[(?:[\w_]+:)?(?:error|crit|alert|emerg)\]/ || /exit signal|segfault|AddressSanitizer|runtime error/ }
           split /\n/, slurp($file);
}

# The child pid that answered each request of a node, in order.
sub access_pids {
    my $file = shift;
    return map { (split ' ')[0] } grep { /\S/ } split /\n/, slurp($file);
}

END { stop_all() }

1;
