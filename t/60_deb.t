# The Debian package: `make deb` builds libapache2-mod-matomo-mcp with
# debhelper and dh_apache2, lintian finds no error; installed with dpkg -i
# it puts the module and its two files where Debian's Apache looks,
# `a2enmod matomo_mcp` enables it and `apache2ctl -t` accepts a minimal
# configuration that loads it (nothing is started or restarted); the module
# exports only its module record; dependencies come from the libraries it
# links; `dpkg --purge` leaves the machine as it was.  And the one version
# number (debian/changelog) is the package's, serverInfo's and
# CHANGELOG.md's.
#
# Installing needs root (CI runs as root).  The test refuses to touch a
# machine where the package is already installed (an admin's own) or where
# the system's Apache runs (the package's scripts would reload it).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Cwd qw(abs_path);
use File::Find ();
use File::Temp qw(tempdir);
use JSON::PP;

use lib Apache::Test::vars('serverroot') . '/lib';
use McpTest;

plan tests => 26;

my $top = abs_path(Apache::Test::vars('serverroot') . '/..');
my $PKG = 'libapache2-mod-matomo-mcp';
# What the suite's own environment adds (a sanitizer preload, make's
# flags) must not reach the package build.
delete @ENV{qw(LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS MAKEFLAGS MFLAGS MAKELEVEL)};

sub run_out { my $cmd = shift; my $out = `$cmd 2>&1`; return ($? >> 8, $out) }
sub slurp { my $f = shift; open my $fh, '<', $f or die "$f: $!"; local $/; <$fh> }

# --- one version --------------------------------------------------------------
my ($rc, $version) = run_out("dpkg-parsechangelog -l '$top/debian/changelog' -S Version");
chomp $version;
ok($rc == 0 && $version =~ /^\d+\.\d+\.\d+$/, "debian/changelog: version $version");
my ($first) = slurp("$top/CHANGELOG.md") =~ /^## (\S+)/m;
is($first, $version, 'CHANGELOG.md starts with this release');
my ($res, $body) = rpc_body('/mcp', 1, 'initialize',
    { protocolVersion => '2025-11-25', capabilities => {},
      clientInfo => { name => 't60', version => '1' } });
is($body->{result}{serverInfo}{version}, $version, 'serverInfo.version is it');

chomp(my $arch = `dpkg --print-architecture`);
my $deb = "${PKG}_${version}_${arch}.deb";

SKIP: {
    skip 'installing a package needs root', 23 if $> != 0;
    skip "$PKG is installed on this machine: not touching an admin's install", 23
        if `dpkg-query -W -f='\${db:Status-Status}' $PKG 2>/dev/null` =~ /installed|config-files/;
    skip 'the system Apache runs: the package scripts would reload it', 23
        if -r '/var/run/apache2/apache2.pid'
           && kill 0, (slurp('/var/run/apache2/apache2.pid') =~ /(\d+)/)[0];

    my $before = machine_state();

    # --- build ----------------------------------------------------------------
    unlink "$top/$deb";
    ($rc, my $out) = run_out("make -C '$top' --no-print-directory deb");
    is($rc, 0, 'make deb') or diag($out);
    ok(-f "$top/$deb", "it made $deb");
    my $lintian = -r "$top/build/deb/lintian.txt" ? slurp("$top/build/deb/lintian.txt") : undef;
    ok(defined $lintian && $lintian !~ /^E: /m, 'lintian: no error')
        or diag($lintian // 'no lintian report');
    my %field = map { $_ => scalar `dpkg-deb -f '$top/$deb' $_` } qw(Package Version Depends);
    chomp %field;
    is($field{Version}, $version, 'the package has that version');

    my @files = map { m{^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\.(/\S*)} ? $1 : () }
                split /\n/, `dpkg-deb -c '$top/$deb'`;
    my %has = map { $_ => 1 } @files;
    ok($has{'/usr/lib/apache2/modules/mod_matomo_mcp.so'}, 'it holds the module');
    ok($has{'/etc/apache2/mods-available/matomo_mcp.load'}
       && $has{'/etc/apache2/mods-available/matomo_mcp.conf'},
       'and mods-available/matomo_mcp.load and .conf');
    ok((grep { m{^/usr/share/doc/$PKG/(README\.md(\.gz)?|changelog\.gz|copyright)$} } @files) == 3,
       'README, changelog and copyright in its doc directory');

    # Dependencies: the package of every library the module links.
    my $dir = tempdir(CLEANUP => 1);
    system("dpkg-deb -x '$top/$deb' '$dir'") == 0 or die 'dpkg-deb -x';
    my @needed = `readelf -d '$dir/usr/lib/apache2/modules/mod_matomo_mcp.so'` =~ /\(NEEDED\).*\[(.+?)\]/g;
    my @missing;
    for my $lib (@needed) {
        my ($owner) = `dpkg -S '*/$lib' 2>/dev/null` =~ /^([^:,\s]+)/;
        push @missing, "$lib ($owner)" unless $owner && $field{Depends} =~ /(^|[ ,|])\Q$owner\E\b/;
    }
    ok(@needed >= 2 && !@missing,
       "Depends ($field{Depends}) names the package of each library linked: @needed")
        or diag("missing: @missing");
    like($field{Depends}, qr/apache2-api-\d+/, 'and the Apache module API (dh_apache2)');

    # --- install, enable, check ---------------------------------------------------
    ($rc, $out) = run_out("dpkg -i '$top/$deb'");
    is($rc, 0, 'dpkg -i') or diag($out);
    my $so = '/usr/lib/apache2/modules/mod_matomo_mcp.so';
    ok(-f $so && -f '/etc/apache2/mods-available/matomo_mcp.load', 'the files are in place');
    ok(!-e '/etc/apache2/mods-enabled/matomo_mcp.load', 'installed, not enabled');
    my @exported = grep { !/^\s*$/ } map { /\s[A-Za-z]\s+(\S+)$/ ? $1 : () }
                   split /\n/, `nm -D --defined-only $so`;
    is("@exported", 'matomo_mcp_module', 'the module exports its module record only');

    ($rc, $out) = run_out('a2enmod matomo_mcp');
    is($rc, 0, 'a2enmod matomo_mcp') or diag($out);
    is(readlink('/etc/apache2/mods-enabled/matomo_mcp.load'), '../mods-available/matomo_mcp.load',
       'mods-enabled links the .load');
    ok(-l '/etc/apache2/mods-enabled/matomo_mcp.conf', 'and the .conf');

    my $conf = "$dir/minimal.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh <<CONF;
# The least an Apache needs, plus what a2enmod enabled.
ServerName localhost
Listen 127.0.0.1:1
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
Mutex file:$dir
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
Include /etc/apache2/mods-enabled/matomo_mcp.load
Include /etc/apache2/mods-enabled/matomo_mcp.conf
CONF
    close $fh;
    ($rc, $out) = run_out("APACHE_ARGUMENTS='-f $conf' apache2ctl -t");
    ok($rc == 0 && $out =~ /Syntax OK/, 'apache2ctl -t accepts it') or diag($out);
    ($rc, $out) = run_out("APACHE_ARGUMENTS='-f $conf -D DUMP_MODULES' apache2ctl -t");
    like($out, qr/matomo_mcp_module \(shared\)/, '... with the module loaded');
    ok(!-e "$dir/httpd.pid", 'and nothing was started');

    # The packaged configuration with its backend gone must be refused: the
    # check ran the module's own configuration checks.
    (my $broken = slurp('/etc/apache2/mods-available/matomo_mcp.conf')) =~ s/^\s*MatomoMcpBackend .*$//m;
    open $fh, '>', "$dir/broken.conf" or die;
    print $fh $broken;
    close $fh;
    (my $min = slurp($conf)) =~ s{/etc/apache2/mods-enabled/matomo_mcp\.conf}{$dir/broken.conf};
    open $fh, '>', "$dir/minimal-broken.conf" or die;
    print $fh $min;
    close $fh;
    ($rc, $out) = run_out("APACHE_ARGUMENTS='-f $dir/minimal-broken.conf' apache2ctl -t");
    ok($rc != 0 && $out =~ /MatomoMcpBackend/, 'a SetHandler without MatomoMcpBackend is refused')
        or diag($out);

    # --- purge ---------------------------------------------------------------------
    ($rc, $out) = run_out("dpkg --purge $PKG");
    is($rc, 0, 'dpkg --purge') or diag($out);
    ok(!-e $so && !-e '/etc/apache2/mods-enabled/matomo_mcp.load', 'the module and its link are gone');
    # a2enmod and a2dismod keep their state in /var/lib/apache2/module/*,
    # making those directories the first time: the test's own a2enmod
    # made them if they were not there, and the test removes them (empty).
    for my $d (grep { !exists $before->{$_} } map { "/var/lib/apache2/module/$_" }
               qw(enabled_by_admin disabled_by_admin enabled_by_maint disabled_by_maint)) {
        rmdir $d;
    }
    my $after = machine_state();
    my @diff = grep { ($before->{$_} // '') ne ($after->{$_} // '') }
               sort(keys %{ { %$before, %$after } });
    ok(!@diff, 'the machine is back as it was (/etc/apache2, /var/lib/apache2, '
               . 'the modules, the doc directory, dpkg)')
        or diag(join "\n", map { "$_: " . ($before->{$_} // 'absent') . ' -> '
                                 . ($after->{$_} // 'absent') } @diff);
}

# What installing could change: every entry under Apache's configuration,
# its state and module directories and the package's doc directory, and
# dpkg's record of the package.
sub machine_state {
    my %s;
    for my $root ('/etc/apache2', '/var/lib/apache2', '/usr/lib/apache2/modules',
                  "/usr/share/doc/$PKG") {
        next unless -e $root;
        File::Find::find({ no_chdir => 1, wanted => sub {
            my $p = $File::Find::name;
            $s{$p} = -l $p ? 'link ' . readlink($p)
                   : -d $p ? 'dir'
                   : 'file ' . (-s $p) . ' ' . ((stat $p)[9]);
        } }, $root);
    }
    $s{dpkg} = `dpkg-query -W -f='\${db:Status-Status}' $PKG 2>/dev/null`;
    return \%s;
}
