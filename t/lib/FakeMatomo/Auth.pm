package FakeMatomo::Auth;
# Who is asking, decided the way Matomo 5.1.2 (plus its OAuth2 plugin)
# decides it, from the token_auth parameter and the Authorization header.
#
#   token_auth (query string or POST body)   a known token -> its user;
#                                            unknown -> 401 HTML error page
#   Authorization: Bearer <registered JWT>   the view-only user (OAuth2 plugin)
#   Authorization: Bearer <anything else>    ignored: anonymous (5.1.2 core)
#   two token sources with different values  400, conflicting parameters
#   force_api_session=1 with a token_auth    401 (scoped tokens are refused)
#
# and, with matomo4 => 1, the way Matomo 4.16.1 decides it: token_auth as
# PHP reads it ($_GET + $_POST: the query string's wins), a known token ->
# its user, anything else -> the anonymous user (logged as who "unknown"),
# no error of its own; the Authorization header is not read at all.
#
# The tokens live in t/matomo/tokens.json, the one place tests read too.
use strict;
use warnings;
use JSON::PP ();
use FakeMatomo::JSON qw(php_string);
use FakeMatomo::Store ();

use constant JSON_TYPE => 'application/json; charset=utf-8';
use constant HTML_TYPE => 'text/html; charset=utf-8';

# The recorded Matomo's users: a superuser, and a user with view access to
# site 2 only (see t/matomo/recorded/INDEX.md).
my %USERS = (
    superuser  => { who => 'superuser',  login => 'admin',  superuser => 1 },
    viewer     => { who => 'viewer',     login => 'viewer', sites => [@FakeMatomo::Store::VIEWER_SITES] },
    viewer_jwt => { who => 'viewer_jwt', login => 'viewer', sites => [@FakeMatomo::Store::VIEWER_SITES] },
    anonymous  => { who => 'anonymous',  login => 'anonymous', sites => [] },
);

sub new {
    my ($class, %opt) = @_;
    my $file = "$opt{home}/tokens.json";
    open my $fh, '<:raw', $file or die "fake Matomo: cannot read $file: $!\n";
    my $tokens = JSON::PP->new->decode(do { local $/; <$fh> });
    for my $name (qw(superuser viewer)) {
        die "fake Matomo: $file: '$name' must be 32 hex characters\n"
            unless ($tokens->{$name} // '') =~ /^[0-9a-f]{32}$/;
    }
    die "fake Matomo: $file: 'viewer_jwt' must look like a JWT\n"
        unless ($tokens->{viewer_jwt} // '') =~ /^[\w-]+\.[\w-]+\.[\w-]*$/;
    return bless {
        token_auth => { $tokens->{superuser} => 'superuser', $tokens->{viewer} => 'viewer' },
        jwt        => { $tokens->{viewer_jwt} => 'viewer_jwt' },
        bad_token_page => $opt{bad_token_page},
        tokens     => $tokens,
    }, $class;
}

# Every known credential, so logs can be scrubbed of them.
sub secrets { my ($self) = @_; return values %{ $self->{tokens} } }

sub anonymous { return { %{ $USERS{anonymous} } } }

# %in: query_token, post_token (undef when absent), authorization (header),
# force_api_session (true when sent as 1).  Returns
#   { user => {...}, auth => 'post|query|bearer|none', token => ... }
# or { error => { status, ctype, body }, who => ..., auth => ... }.
sub authenticate {
    my ($self, %in) = @_;
    return $self->_authenticate4(%in) if $in{matomo4};
    my $bearer;
    if (defined $in{authorization} && $in{authorization} =~ /^\s*Bearer\s+(\S+)\s*$/i) {
        $bearer = $1;
    }
    my @given = grep { defined && $_ ne '' } $in{query_token}, $in{post_token}, $bearer;
    my %distinct = map { $_ => 1 } @given;
    my $auth = defined $in{post_token} && $in{post_token} ne '' ? 'post'
             : defined $in{query_token} && $in{query_token} ne '' ? 'query'
             : defined $bearer ? 'bearer' : 'none';

    if (keys %distinct > 1) {
        return { auth => $auth, who => 'unknown', error => _json(400,
            'Authentication failed: conflicting authentication parameters. The token was sent '
          . 'more than once (Authorization header, token_auth in the POST body or in the query '
          . 'string) with different values; send it once.') };
    }

    my $token = $auth eq 'post' ? $in{post_token} : $auth eq 'query' ? $in{query_token} : undef;
    # The same JWT in the header and in token_auth: the header decides.
    if (defined $token && defined $bearer && $self->{jwt}{$bearer}) {
        ($token, $auth) = (undef, 'bearer');
    }
    if (defined $token) {
        # Matomo's own name for "no token".
        return { auth => $auth, user => anonymous(), token => 'anonymous' } if $token eq 'anonymous';
        if ($in{force_api_session}) {
            return { auth => $auth, who => $self->_who($token), error => _json(401,
                "You can't access this resource with this token_auth: force_api_session=1 "
              . 'asks for a browser session, and app-specific and scoped tokens are refused with it.') };
        }
        my $name = $self->{token_auth}{$token};
        return { auth => $auth, who => 'unknown', error => {
            status => 401, ctype => HTML_TYPE, body => $self->{bad_token_page},
        } } unless $name;
        return { auth => $auth, user => { %{ $USERS{$name} } }, token => $token };
    }

    if (defined $bearer) {
        my $name = $self->{jwt}{$bearer};
        return { auth => 'bearer', user => { %{ $USERS{$name} } }, token => $bearer } if $name;
        # Matomo 5.1.2 core does not read the header; the OAuth2 plugin
        # falls back to the normal flow for a token it cannot validate.
        return { auth => 'bearer', user => anonymous(), token => 'anonymous' };
    }
    return { auth => 'none', user => anonymous(), token => 'anonymous' };
}

# Matomo 4.16.1: FrontController reloads the access with token_auth when
# one is sent; an unknown token leaves the anonymous user in place.
sub _authenticate4 {
    my ($self, %in) = @_;
    my $token = defined $in{query_token} ? $in{query_token} : $in{post_token};
    my $auth = defined $in{query_token} && $in{query_token} ne '' ? 'query'
             : defined $in{post_token} && $in{post_token} ne '' ? 'post'
             : defined $in{authorization} && $in{authorization} =~ /^\s*Bearer\s+\S/i ? 'bearer'
             : 'none';
    return { auth => $auth, user => anonymous(), token => 'anonymous' }
        if !defined $token || $token eq '' || $token eq 'anonymous';
    my $name = $self->{token_auth}{$token};
    return { auth => $auth, user => { %{ $USERS{$name} } }, token => $token } if $name;
    return { auth => $auth, user => anonymous(), token => 'anonymous', who => 'unknown' };
}

# Whether a token_auth is one of the recorded Matomo's (brute-force
# detection counts the others as failed logins).
sub known_token { my ($self, $token) = @_; return defined $token && $self->{token_auth}{$token} ? 1 : 0 }

sub _who {
    my ($self, $token) = @_;
    return $self->{token_auth}{$token} // 'unknown';
}

sub _json {
    my ($status, $message) = @_;
    return { status => $status, ctype => JSON_TYPE,
             body => '{"result":"error","message":' . php_string($message) . '}' };
}

# The sites a user may view, given all the sites there are.
sub viewable {
    my ($user, @all) = @_;
    return @all if $user->{superuser};
    my %has = map { $_ => 1 } @{ $user->{sites} || [] };
    return grep { $has{$_} } @all;
}

1;
