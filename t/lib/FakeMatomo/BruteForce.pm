package FakeMatomo::BruteForce;
# Matomo's brute-force detection (plugins/Login, Security/BruteForceDetection)
# for the mounts that turn it on, and the client address it counts, picked
# as core/IP.php picks it.
#
# What Matomo does (5.1.2, the same in 4.16.1), and so the fake:
#
#   - A request with a token_auth (as PHP reads it, $_GET + $_POST; not
#     empty, not "anonymous") reloads the access with that token in
#     FrontController::init.  Before that, Login::beforeLoginCheckBruteForce
#     asks BruteForceDetection::isAllowedToLogin(IP::getIpFromHeader()):
#     allowed while the failures of that address within the window
#     (attempted_at > now - allowedRetriesTimeRange) number at most
#     maxAllowedRetries; otherwise the request ends in an exception, which
#     Matomo renders as its HTML error page with HTTP 500, "Too many failed
#     logins" (recorded-5.1.2-bruteforce/), whatever the token, valid ones
#     included.
#   - When the token is unknown, API.Request.authenticate.failed records one
#     failed attempt for that address (at most one per request).  A blocked
#     request records nothing: it never gets that far.  So the (max+1)th
#     failure is still answered as an unknown token, and every request with
#     a token after it is blocked until the oldest failures leave the window.
#   - A request without a token is not checked at all: it is answered as the
#     anonymous user, as always (the recorded 401 JSON).  Neither is the
#     Authorization header (5.1.2 core does not read it).
#
# The address (IP::getIpFromHeader, IP::getNonProxyIpFromHeader): REMOTE_ADDR,
# unless a header named in [General] proxy_client_headers[] is there; then
# the first (4.16.1's default) or last (5.x's default,
# proxy_ip_read_last_in_list = 1) address of its comma-separated list that
# is not in [General] proxy_ips[] (with "first", REMOTE_ADDR is skipped as
# well; a value without a comma is taken as it is).  Matomo reads the header
# whoever connects: proxy_ips[] is a list of addresses to skip inside the
# header, not a list of proxies to trust.  A mount that should believe the
# header only from some addresses (what a front proxy or mod_remoteip's
# RemoteIPTrustedProxy in front of Matomo does) says so with
# FakeMatomoTrustedProxies, which is not a Matomo setting.
#
# Settings, PerlSetVar in the mount's <Location> (fake-matomo.conf):
#   FakeMatomoBruteForceMax N        maxAllowedRetries; turns detection on (Matomo: 20)
#   FakeMatomoBruteForceMinutes M    allowedRetriesTimeRange (Matomo: 60; decimals allowed)
#   FakeMatomoProxyClientHeaders H.. proxy_client_headers[]: X-Forwarded-For or HTTP_X_FORWARDED_FOR
#   FakeMatomoProxyIps R..           proxy_ips[]: addresses, CIDR ranges, 1.2.3.*
#   FakeMatomoProxyIpReadLast 0|1    proxy_ip_read_last_in_list (5.x: 1, 4.x: 0)
#   FakeMatomoTrustedProxies R..     read the headers only when REMOTE_ADDR is one of these
#
# REMOTE_ADDR is the address of the TCP connection (the connection's
# client_ip), not useragent_ip: a mod_remoteip set up for mod_matomo_mcp's
# callers does not change what the fake counts (but it does remove from
# X-Forwarded-For the entries it consumed, on the whole virtual host).
#
# Each mount counts for itself, as a Matomo of its own would.  The counters
# live in a file shared by every child (FakeMatomo::Shared).
use strict;
use warnings;
use Socket qw(AF_INET AF_INET6 inet_pton);
use Time::HiRes ();
use FakeMatomo::Shared;

# The mount's settings, or undef when brute-force detection is off there.
# $get->($name) reads one setting; $version is the mount's Matomo.
sub config {
    my ($class, $get, $version) = @_;
    my $max = $get->('FakeMatomoBruteForceMax');
    return undef unless defined $max && $max ne '';
    die "fake Matomo: FakeMatomoBruteForceMax must be a number\n" unless $max =~ /^\d+$/;
    my $minutes = $get->('FakeMatomoBruteForceMinutes') // '';
    $minutes = 60 if $minutes eq '';
    die "fake Matomo: FakeMatomoBruteForceMinutes must be a number\n" unless $minutes =~ /^\d+(?:\.\d+)?$/;
    my $read_last = $get->('FakeMatomoProxyIpReadLast') // '';
    $read_last = ($version // '5') =~ /^4\./ ? 0 : 1 if $read_last eq '';
    my $list = sub { [ grep { length } split /[\s,]+/, $get->($_[0]) // '' ] };
    my $trusted = $get->('FakeMatomoTrustedProxies');
    return bless {
        max       => 0 + $max,
        window    => 60 * $minutes,
        headers   => [ map { _header_name($_) } @{ $list->('FakeMatomoProxyClientHeaders') } ],
        proxy_ips => $list->('FakeMatomoProxyIps'),
        read_last => $read_last ? 1 : 0,
        trusted   => defined $trusted ? $list->('FakeMatomoTrustedProxies') : undef,
    }, $class;
}

sub max    { $_[0]{max} }
sub window { $_[0]{window} }

# HTTP_X_FORWARDED_FOR (a $_SERVER key, as Matomo's config names it) or
# X-Forwarded-For: the request header's name.
sub _header_name {
    my ($name) = @_;
    return $name unless $name =~ /^HTTP_/i;
    (my $h = substr $name, 5) =~ tr/_/-/;
    return join '-', map { ucfirst lc } split /-/, $h;
}

# --- the client address ------------------------------------------------------

# (address, where it came from: "connection" or the header's name).
# $header->($name) gives a request header's value.
sub client_ip {
    my ($self, $remote_addr, $header) = @_;
    my $default = defined $remote_addr && $remote_addr ne '' ? $remote_addr : '0.0.0.0';
    my @headers = @{ $self->{headers} };
    @headers = () if $self->{trusted} && !in_ranges($default, $self->{trusted});
    my @skip = @{ $self->{proxy_ips} };
    push @skip, $default unless $self->{read_last};
    for my $name (@headers) {
        my $value = $header->($name);
        next if !defined $value || $value eq '' || $value eq '0';    # PHP's empty()
        my $ip = _pick($value, \@skip, $self->{read_last});
        return (sanitize_ip($ip), $name) if length $ip && $ip !~ /unknown/i;
    }
    return (sanitize_ip($default), 'connection');
}

# IP::getFirstIpFromList / getLastIpFromList.
sub _pick {
    my ($csv, $skip, $last) = @_;
    return _trim($csv) unless $csv =~ /,/;
    my @ips = grep {
        my $ip = $_;
        length $ip && $ip ne '0' && !(grep { $_ eq $ip } @$skip) && !in_ranges(sanitize_ip($ip), $skip)
    } map { _trim($_) } split /,/, $csv, -1;
    return ($last ? $ips[-1] : $ips[0]) // '';
}

sub _trim { my ($s) = @_; $s =~ s/^\s+|\s+$//g; return $s }

# IPUtils::sanitizeIp: without a port, brackets or CIDR suffix.
sub sanitize_ip {
    my ($s) = @_;
    $s = _trim($s);
    $s =~ s{/[^/]*$}{};
    my $colon = rindex $s, ':';
    my $dot   = rindex $s, '.';
    if ($colon >= 0) {
        my $rbrac = rindex $s, ']';
        $s = substr($s, 1, $rbrac - 1) if $rbrac >= 0 && substr($s, 0, 1) eq '[';
        if ($dot >= 0) {
            $s = substr($s, 0, $colon) if $colon > $dot;
        } elsif (index($s, ':') == $colon) {
            $s = substr($s, 0, $colon);
        }
    }
    return $s;
}

sub _pton {
    my ($s) = @_;
    return undef unless defined $s;
    my $ip = $s =~ /:/ ? eval { inet_pton(AF_INET6, $s) } : eval { inet_pton(AF_INET, $s) };
    return $ip;
}

# IPUtils::getIpsForRange: "1.2.3.4", "1.2.3.0/24", "1.2.3.*", IPv6 too.
sub _range {
    my ($r) = @_;
    $r = _trim($r);
    my $bits;
    if ($r =~ /\*/) {
        return undef if $r =~ /(?:^|\.)\*\.\d+(?:\.|$)/;
        $bits = 32 - 8 * (() = $r =~ /\*/g);
        $r =~ s/\*/0/g;
    }
    ($r, $bits) = ($1, $2) if $r =~ m{^(.*)/(\d+)$};
    my $ip = _pton($r) // return undef;
    my $max = 8 * length $ip;
    $bits //= $max;
    return undef if $bits > $max;
    my $b = unpack 'B*', $ip;
    my $net = substr $b, 0, $bits;
    return [ pack('B*', $net . '0' x ($max - $bits)), pack('B*', $net . '1' x ($max - $bits)) ];
}

# Whether the address is in one of the ranges (IP::isInRanges).
sub in_ranges {
    my ($addr, $ranges) = @_;
    my $ip = _pton($addr) // return 0;
    for my $r (@{ $ranges || [] }) {
        my $range = _range($r) or next;
        next unless length $range->[0] == length $ip;
        return 1 if $ip ge $range->[0] && $ip le $range->[1];
    }
    return 0;
}

# --- the counters --------------------------------------------------------------

# One request at $mount from $ip: $attempt when it has a token_auth Matomo
# checks, $failed when that token is unknown.  Returns
#   { blocked => 0|1, failed_login => 0|1, failed_logins => N }
# where N counts the address's failures in the window, this one included.
sub login_attempt {
    my ($self, $path, $mount, $ip, %req) = @_;
    my $now = Time::HiRes::time();
    return FakeMatomo::Shared::update($path, sub {
        my ($state) = @_;
        my $m = $state->{$mount} //= {};
        @$m{qw(max window)} = ($self->{max}, $self->{window});
        my $since = $now - $self->{window};
        my $list = [ grep { $_ > $since } @{ $m->{failures}{$ip} || [] } ];
        my %out = (blocked => 0, failed_login => 0);
        if ($req{attempt}) {
            if (@$list > $self->{max}) {
                $out{blocked} = 1;
            } elsif ($req{failed}) {
                push @$list, $now;
                $out{failed_login} = 1;
            }
        }
        if (@$list) { $m->{failures}{$ip} = $list } else { delete $m->{failures}{$ip} }
        $out{failed_logins} = scalar @$list;
        return \%out;
    });
}

# Forgets the failures of every mount, or of one: how many were forgotten.
sub reset {
    my ($class, $path, $mount) = @_;
    return FakeMatomo::Shared::update($path, sub {
        my ($state) = @_;
        my $n = 0;
        for my $m (defined $mount ? ($mount) : keys %$state) {
            next unless $state->{$m};
            $n += @$_ for values %{ $state->{$m}{failures} || {} };
            $state->{$m}{failures} = {};
        }
        return $n;
    });
}

# { mount => { ip => failures in the window } }, for tests to read.
sub counts {
    my ($class, $path) = @_;
    my $state = FakeMatomo::Shared::read_state($path);
    my $now = Time::HiRes::time();
    my %out;
    for my $mount (keys %$state) {
        my $m = $state->{$mount};
        my $since = $now - ($m->{window} // 3600);
        for my $ip (keys %{ $m->{failures} || {} }) {
            my $n = grep { $_ > $since } @{ $m->{failures}{$ip} };
            $out{$mount}{$ip} = $n if $n;
        }
        $out{$mount} //= {};
    }
    return \%out;
}

1;
