# Runs last: the test server's error_log must hold no error-level lines and
# no sign of a crash.  A child that dies shows up elsewhere as one failed
# request at most; here it fails the suite.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

plan tests => 5;

# Lines that mean trouble: httpd 2.4 writes the level as [module:level]
# (or [:level] for third-party messages without a module); a crashed child
# is reported by the parent as "exit signal ...".
my $BAD = qr{
    \[ [\w.-]* : (?:error|crit|alert|emerg) \]
  | \[ (?:error|crit|alert|emerg) \]
  | Segmentation\ fault
  | AddressSanitizer
  | exit\ signal
}x;

# Errors the suite provokes on purpose, each with the test that does it.
my @EXPECTED = (
    # t/17_protect.t: Matomo's brute-force protection locks the module's own
    # address out (the fake's /matomo-bf3/), and the module says so once.
    qr{\[matomo_mcp:error\] .*Matomo \(http://127\.0\.0\.1:\d+/matomo-bf3/index\.php\) refuses every request of this server after too many failed logins: },
);

# The pattern itself must work, or this test could never fail.
my @bad_samples = (
    '[Thu Nov 26 12:00:00.000000 2026] [matomo_mcp:error] [pid 1:tid 2] boom',
    '[Thu Nov 26 12:00:00.000000 2026] [core:notice] [pid 1:tid 1] AH00052: child pid 7 exit signal Segmentation fault (11)',
    '[Thu Nov 26 12:00:00.000000 2026] [:crit] [pid 1] x',
    '==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x1',
);
my @good_samples = (
    '[Thu Nov 26 12:00:00.000000 2026] [matomo_mcp:debug] [pid 1:tid 2] mod_matomo_mcp_transport.c(28): [client 127.0.0.1:1] answering 403: Forbidden',
    '[Thu Nov 26 12:00:00.000000 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4 configured -- resuming normal operations',
);
ok(!(grep { !/$BAD/ } @bad_samples) && !(grep { /$BAD/ } @good_samples),
   'the pattern flags error, crit, crashes and ASan, and nothing milder');

my $log = Apache::Test::vars('t_logs') . '/error_log';
open my $fh, '<', $log or die "$log: $!";
my @lines = <$fh>;
close $fh;

# An empty or foreign log would make the checks below pass for nothing.
ok(scalar(grep { /resuming normal operations/ } @lines),
   "$log is the test server's log");
ok(scalar(grep { /\[matomo_mcp:debug\]/ } @lines),
   'the module logged into it (the requests reached it)');

my @bad = grep { /$BAD/ } @lines;
my @unexpected = grep { my $l = $_; !grep { $l =~ $_ } @EXPECTED } @bad;
is(scalar @unexpected, 0, 'no unexpected error-level lines in error_log')
    or diag(join '', @unexpected[0 .. ($#unexpected < 19 ? $#unexpected : 19)]);
ok(!(grep { /Segmentation fault|exit signal|AddressSanitizer/ } @lines),
   'no child crashed');
