package FakeMatomo::Log;
# The fake Matomo's request log: one JSON object per line, for tests to
# read back (which method the gateway called, how it authenticated,
# whether it ever tried a write).  No credential is ever written: token_auth
# is left out of the parameters, and every known or presented token is
# masked wherever else it shows up (a bulk request's urls, a segment...).
use strict;
use warnings;
use Fcntl qw(:flock O_WRONLY O_APPEND O_CREAT);
use JSON::PP ();

use constant MASK => '[token]';

my $JSON = JSON::PP->new->canonical->ascii;

# Removes "token_auth=..." pairs from a query string (a bulk request's urls).
sub without_token_pairs {
    my ($query) = @_;
    return join '&', grep { !/^token_auth(?:=|$)/ } split /&/, $query;
}

# Masks every secret in a line; returns (line, whether one was found).
sub mask {
    my ($line, @secrets) = @_;
    my $found = 0;
    for my $secret (sort { length $b <=> length $a } grep { defined && length >= 8 } @secrets) {
        $found += $line =~ s/\Q$secret\E/MASK/ge;
    }
    return ($line, $found);
}

# Appends $entry (a hash) to $path.  Several processes and threads write:
# one write() per line under an exclusive lock keeps lines whole.
sub append {
    my ($path, $entry, @secrets) = @_;
    my ($line, $found) = mask($JSON->encode($entry), @secrets);
    if ($found) {
        # A token outside token_auth: say so (masked) so tests can notice.
        $entry->{token_elsewhere} = 1;
        ($line) = mask($JSON->encode($entry), @secrets);
    }
    sysopen my $fh, $path, O_WRONLY | O_APPEND | O_CREAT, 0644 or return "cannot open $path: $!";
    flock $fh, LOCK_EX or return "cannot lock $path: $!";
    my $data = "$line\n";
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite $fh, $data, length($data) - $off, $off;
        return "cannot write $path: $!" unless defined $n;
        $off += $n;
    }
    close $fh;
    return undef;
}

1;
