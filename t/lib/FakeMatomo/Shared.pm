package FakeMatomo::Shared;
# State every process and thread of the test Apache sees alike (the event
# MPM runs two children, each with its own Perl interpreters): a small JSON
# file, read and rewritten under an exclusive flock(2) by whoever changes
# it.  The brute-force counters and the busy mode's calls in flight live
# here.  FakeMatomo::post_config empties the files at each server start.
use strict;
use warnings;
use Fcntl qw(:flock O_RDWR O_CREAT);
use JSON::PP ();

my $JSON = JSON::PP->new->canonical;

# update($path, sub { my ($state) = @_; ...; return @result }): runs the
# sub on the decoded state (a hash, {} when the file is empty) with the
# lock held, writes the state back, returns what the sub returned.  Dies
# when the file cannot be opened or locked.
sub update {
    my ($path, $change) = @_;
    sysopen my $fh, $path, O_RDWR | O_CREAT, 0644 or die "fake Matomo: cannot open $path: $!\n";
    flock $fh, LOCK_EX or die "fake Matomo: cannot lock $path: $!\n";
    my $text = '';
    while (sysread $fh, my $buf, 65536) { $text .= $buf }
    my $state = $text =~ /\S/ ? eval { $JSON->decode($text) } : undef;
    $state = {} unless ref $state eq 'HASH';
    my @result = $change->($state);
    my $out = $JSON->encode($state);
    sysseek $fh, 0, 0;
    truncate $fh, 0;
    my $off = 0;
    while ($off < length $out) {
        my $n = syswrite $fh, $out, length($out) - $off, $off;
        die "fake Matomo: cannot write $path: $!\n" unless defined $n;
        $off += $n;
    }
    close $fh;
    return wantarray ? @result : $result[0];
}

# The state as it is now (read under a shared lock), {} when none.
sub read_state {
    my ($path) = @_;
    open my $fh, '<', $path or return {};
    flock $fh, LOCK_SH or return {};
    local $/;
    my $text = <$fh> // '';
    close $fh;
    my $state = $text =~ /\S/ ? eval { $JSON->decode($text) } : undef;
    return ref $state eq 'HASH' ? $state : {};
}

1;
