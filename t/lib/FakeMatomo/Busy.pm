package FakeMatomo::Busy;
# The busy mode's count of calls in flight (/matomo-fault/busy/<ms>/),
# across every child and thread of the test Apache: a shared file
# (FakeMatomo::Shared) holding
#   { "in_flight": calls being answered now, "max_in_flight": the most seen
#     since the server started or the last reset, "calls": calls since then }
#
#   my $guard = FakeMatomo::Busy->enter($path);   # counts this call in
#   $guard->{in_flight}, $guard->{max_in_flight}  # as of its arrival
#   undef $guard;                                  # (or leaving scope) counts it out
use strict;
use warnings;
use FakeMatomo::Shared;

sub enter {
    my ($class, $path) = @_;
    my $seen = FakeMatomo::Shared::update($path, sub {
        my ($s) = @_;
        $s->{in_flight}++;
        $s->{calls}++;
        $s->{max_in_flight} = $s->{in_flight} if ($s->{max_in_flight} // 0) < $s->{in_flight};
        return { %$s };
    });
    return bless { path => $path, %$seen }, $class;
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{path};
    eval {
        FakeMatomo::Shared::update($self->{path}, sub {
            my ($s) = @_;
            $s->{in_flight}-- if ($s->{in_flight} // 0) > 0;
            return;
        });
        1;
    };
    return;
}

# The counts now.
sub state {
    my ($class, $path) = @_;
    my $s = FakeMatomo::Shared::read_state($path);
    return { in_flight => $s->{in_flight} // 0, max_in_flight => $s->{max_in_flight} // 0,
             calls => $s->{calls} // 0 };
}

# A new start for max_in_flight and calls (the calls in flight stay counted).
sub reset {
    my ($class, $path) = @_;
    return FakeMatomo::Shared::update($path, sub {
        my ($s) = @_;
        $s->{in_flight} //= 0;
        $s->{max_in_flight} = $s->{in_flight};
        $s->{calls} = 0;
        return { %$s };
    });
}

1;
