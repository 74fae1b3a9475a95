# Tokens never appear in any log: the server's error and access logs, the
# fake Matomo's request log, anything under t/logs.  Runs after the other
# suites (before the error_log check).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use File::Find ();
use JSON::PP ();

my $dir = Apache::Test::vars('t_logs');
my $file = Apache::Test::vars('serverroot') . '/matomo/tokens.json';
open my $fh, '<', $file or die "cannot read $file: $!";
my $tokens = JSON::PP->new->decode(do { local $/; <$fh> });

my @logs;
File::Find::find(sub { push @logs, $File::Find::name if -f $_ }, $dir);

plan tests => 2 + @logs * keys %$tokens;

ok(scalar(grep { m{/error_log$} } @logs), 'the error log is there');
ok(scalar(grep { m{/fake_matomo\.jsonl$} } @logs),
   'the fake Matomo\'s request log is there');
for my $log (sort @logs) {
    open my $lf, '<:raw', $log or die "cannot read $log: $!";
    my $text = do { local $/; <$lf> } // '';
    for my $who (sort keys %$tokens) {
        my $tok = $tokens->{$who};
        ok(index($text, $tok) < 0, "$log holds no $who token");
    }
}
