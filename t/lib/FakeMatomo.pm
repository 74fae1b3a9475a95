package FakeMatomo;
# The fake Matomo: a mod_perl2 response handler that answers Matomo 5.1.2's
# Reporting API (POST or GET to /matomo/index.php) from answers recorded on
# a real Matomo 5.1.2, inside the same Apache as mod_matomo_mcp, as Matomo
# and the module share one Apache in production.  It is the only stand-in
# for Matomo in the tests, and the demo Matomo of `make run`.
# t/matomo/README.md says all of it; in short:
#
#   /matomo/index.php                   the API (t/matomo/fake-matomo.conf)
#   (ImageGraph.get on the 5.1.2 mounts: recorded PNGs by shape,
#    FakeMatomo::ImageGraph)
#   /matomo4/index.php                  Matomo 4.16.1's API, from its own
#                                       recordings (t/matomo/recorded-4.16.1/):
#                                       every error HTTP 200, an unknown token
#                                       the anonymous user, Bearer not read
#   /matomo-bf/index.php and the other /matomo-bf*/ mounts
#                                       Matomo 5.1.2 with its brute-force
#                                       detection (FakeMatomo::BruteForce): more
#                                       than N unknown tokens from one client
#                                       address in the window, and every request
#                                       with a token from it gets the recorded
#                                       HTTP 500 "Too many failed logins"
#       /matomo-bf/           20 in 60 min, the connecting address counts
#       /matomo-bf-trusted/   20 in 60 min, X-Forwarded-For counts when
#                             127.0.0.1 connects
#       /matomo-bf3/, /matomo-bf3-trusted/   the same with a limit of 3
#       /matomo-bf3-xff/      3, X-Forwarded-For from anyone (Matomo's own rule)
#   /matomo-fault/<kind>/index.php      a broken Matomo, one kind per path:
#       500        HTTP 500 with an HTML page
#       html       HTTP 200, an HTML page instead of JSON
#       truncated  HTTP 200, JSON cut in half
#       oversized  HTTP 200, ~40 MB of valid JSON, streamed
#       slow       the normal answer after 5 s
#       slow/<ms>  the normal answer after <ms> milliseconds
#                  (/matomo-fault/slow/1500/index.php: 1.5 s)
#       busy/<ms>  the same, each call counted while in flight, across
#                  children (FakeMatomo::Busy): in_flight, max_in_flight
#       error      HTTP 200, {"result":"error",...}
#       matomo4    not broken: Matomo 4's API.getBulkRequest, which decodes
#                  each urls[i] whole before splitting it at '&'
#   /matomo-control/                    for tests, never a Matomo URL:
#       GET  state               the brute-force counts and busy counts
#       POST bruteforce/reset    forgets the failed logins (?mount=...: one mount's)
#       POST busy/reset          max_in_flight back to in_flight, calls to 0
#
# What it does with a request: FakeMatomo::Params reads the query string and
# form body as PHP would ($_GET wins over $_POST), FakeMatomo::Auth decides
# who asks, FakeMatomo::BruteForce (on its mounts) whether the client's
# address is locked out, FakeMatomo::Api answers, and every request goes to
# the request log (FakeMatomo::Log) without its token.
#
# A slow (or busy) answer watches its caller while it waits: every 50 ms it
# polls the caller's socket and peeks at it, and a readable socket with
# nothing to read (EOF) or a reset means the caller hung up.  The wait then
# ends at once, nothing is answered, and a second log line says what became
# of the request:
#   {"outcome":"aborted","request_id":<as on the request's line>,
#    "aborted_after_ms":<ms since the request arrived>,"status":499,...}
# That line has no "fault", so a count of slow requests counts requests.  A
# caller that waits gets the answer, and no second line.
#
# The request log's fields beyond the usual ones: "matomo" ("4.16.1" on
# /matomo4/), on brute-force mounts "remote_addr" (the TCP peer),
# "client_ip" (the address as Matomo saw it), "blocked", "failed_login"
# (this request counted), "failed_logins" (the address's failures in the
# window); on busy/<ms> "in_flight" and "max_in_flight" at the call's
# arrival; and a line with "control" for each /matomo-control/ request.
#
# Settings (PerlSetVar, else environment):
#   FakeMatomoLog / FAKE_MATOMO_LOG              request log path
#                                                (default <ServerRoot>/logs/fake_matomo.jsonl)
#   FakeMatomoStateDir / FAKE_MATOMO_STATE_DIR   where the shared counts live
#                                                (default: the request log's directory)
#   FakeMatomoSlowSeconds / FAKE_MATOMO_SLOW_SECONDS      default 5 (slow/ only)
#   FakeMatomoOversizedMB / FAKE_MATOMO_OVERSIZED_MB      default 40
# and per mount (PerlSetVar in its <Location>): FakeMatomoVersion (5.1.2 or
# 4.16.1), FakeMatomoBruteForceMax, FakeMatomoBruteForceMinutes,
# FakeMatomoProxyClientHeaders, FakeMatomoProxyIps, FakeMatomoProxyIpReadLast,
# FakeMatomoTrustedProxies (FakeMatomo::BruteForce).
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use Time::HiRes ();
use POSIX ();
use IO::Poll ();
use Socket qw(MSG_PEEK MSG_DONTWAIT);

use Apache2::RequestRec ();
use Apache2::RequestIO ();
use Apache2::Response ();
use Apache2::Access ();
use Apache2::RequestUtil ();
use Apache2::Connection ();
use Apache2::ServerRec ();
use Apache2::ServerUtil ();
use Apache2::Log ();
use APR::Table ();
use APR::SockAddr ();
use APR::Socket ();
use APR::UUID ();
use Apache2::Const -compile => qw(OK NOT_FOUND HTTP_METHOD_NOT_ALLOWED);

use JSON::PP ();
use FakeMatomo::Api;
use FakeMatomo::Auth;
use FakeMatomo::BruteForce;
use FakeMatomo::Busy;
use FakeMatomo::Log;
use FakeMatomo::Params;

use constant JSON_TYPE => 'application/json; charset=utf-8';
use constant HTML_TYPE => 'text/html; charset=utf-8';
# PHP's post_max_size: a larger form body reaches Matomo as no body at all.
use constant MAX_BODY  => 8 * 1024 * 1024;

# t/ of the source tree: t/lib/FakeMatomo.pm -> t/matomo/.
our $HOME = File::Spec->rel2abs(File::Spec->catdir(dirname(__FILE__), '..', 'matomo'));

# Loaded once, when Apache preloads this module (PerlModule): every Perl
# interpreter of every child starts from this copy.  One API per recorded
# Matomo version (FakeMatomo::Api::versions); $API is 5.1.2's.
our (%API, $API, $AUTH, $BLOCKED_PAGE);

sub init {
    return if $API;
    %API = map { $_ => FakeMatomo::Api->new(home => $HOME, version => $_) } FakeMatomo::Api::versions();
    $API = $API{'5.1.2'};
    my $page = $API->store->recording('err-bad-token.json')
        or die "fake Matomo: err-bad-token.json is missing from $HOME/recorded\n";
    $AUTH = FakeMatomo::Auth->new(home => $HOME, bad_token_page => $page->{body});
    # Matomo 5.1.2's lock-out page (the same for every request with a token).
    my $file = "$HOME/recorded-5.1.2-bruteforce/blocked-admin-version.json";
    open my $fh, '<:raw', $file or die "fake Matomo: cannot read $file: $!\n";
    my $blocked = JSON::PP->new->decode(do { local $/; <$fh> });
    $BLOCKED_PAGE = { status => $blocked->{status}, ctype => $blocked->{content_type},
                      body => $blocked->{body}, answer => 'blocked' };
    return;
}
init();

# --- settings --------------------------------------------------------------

sub _setting {
    my ($r_or_s, $var, $env, $default) = @_;
    my $v = $r_or_s ? $r_or_s->dir_config($var) : undef;
    $v = $ENV{$env} if !defined $v || $v eq '';
    return defined $v && $v ne '' ? $v : $default;
}

sub log_path {
    my ($r_or_s) = @_;
    my $default = File::Spec->catfile(Apache2::ServerUtil::server_root(), 'logs', 'fake_matomo.jsonl');
    return _setting($r_or_s, 'FakeMatomoLog', 'FAKE_MATOMO_LOG', $default);
}

# The files the children share (FakeMatomo::Shared): 'bruteforce', 'busy'.
sub state_path {
    my ($r_or_s, $what) = @_;
    my $dir = _setting($r_or_s, 'FakeMatomoStateDir', 'FAKE_MATOMO_STATE_DIR', dirname(log_path($r_or_s)));
    return File::Spec->catfile($dir, "fake_matomo_$what.json");
}

# PerlPostConfigHandler: runs as root before the children start.  Each
# server start begins an empty request log and empty shared state (no
# failed logins, no calls in flight), writable by the children's user.
sub post_config {
    my ($conf_pool, $log_pool, $temp_pool, $s) = @_;
    for my $path (log_path($s), map { state_path($s, $_) } qw(bruteforce busy)) {
        my $dir = dirname($path);
        make_path($dir) unless -d $dir;
        if (open my $fh, '>', $path) {
            close $fh;
            if ($> == 0) {
                my ($uid, $gid) = (Apache2::ServerUtil->user_id, Apache2::ServerUtil->group_id);
                chown $uid, $gid, $path;
            }
        } else {
            $s->log_error("fake Matomo: cannot create $path: $!");
        }
    }
    return Apache2::Const::OK;
}

# --- the handler -------------------------------------------------------------

# How often a slow answer looks whether its caller is still there.
use constant WATCH_STEP => 0.05;
# The longest delay /matomo-fault/slow/<ms>/ and busy/<ms>/ accept: 10 minutes.
use constant MAX_SLOW_MS => 600_000;

# Whether $uri is the API of the mount it is under (<Location /matomo/>:
# /matomo/ or /matomo/index.php).
sub _is_api_path {
    my ($r, $uri) = @_;
    my $loc = $r->location // return 0;
    $loc .= '/' unless $loc =~ m{/$};
    return 0 if $loc eq '/' || $loc =~ m{^/matomo-(?:fault|control)/};
    return $uri eq $loc || $uri eq "${loc}index.php";
}

sub handler {
    my ($r) = @_;
    my $started = Time::HiRes::time();
    my $uri = $r->uri;
    return _control($r, $uri) if $uri =~ m{^/matomo-control/};
    my ($fault, $slow_ms);
    if ($uri =~ m{^/matomo-fault/(slow|busy)/([0-9]{1,6})/(?:index\.php)?$}) {
        ($fault, $slow_ms) = ($1, 0 + $2);
        return Apache2::Const::NOT_FOUND if $slow_ms > MAX_SLOW_MS;
    } elsif ($uri =~ m{^/matomo-fault/([a-z0-9]+)/(?:index\.php)?$}) {
        $fault = $1;
        return Apache2::Const::NOT_FOUND
            unless $fault =~ /^(?:500|html|truncated|oversized|slow|error|matomo4)$/;
    } elsif (!_is_api_path($r, $uri)) {
        return Apache2::Const::NOT_FOUND;
    }
    my $http_method = $r->method;
    if ($http_method !~ /^(?:GET|POST|HEAD)$/) {
        $r->allow_methods(1, qw(GET POST));
        return Apache2::Const::HTTP_METHOD_NOT_ALLOWED;
    }
    # Busy: this call counts as in flight from now until its answer is sent
    # (or the handler ends another way).
    my $busy = $fault && $fault eq 'busy' ? FakeMatomo::Busy->enter(state_path($r, 'busy')) : undef;

    # The mount's Matomo (PerlSetVar FakeMatomoVersion; the fault paths are 5.1.2).
    my $version = $fault ? '5.1.2' : $r->dir_config('FakeMatomoVersion') || '5.1.2';
    my $api = $API{$version} or die "fake Matomo: FakeMatomoVersion $version: no such recorded Matomo\n";

    my $query = FakeMatomo::Params->from_string($r->args // '');
    my $post  = FakeMatomo::Params->from_string(_form_body($r));
    my $req   = $query->union($post);

    my $entry = {
        path => $uri, http_method => $http_method, method => $req->get('method'),
        token_in_query => defined $query->get('token_auth') && $query->get('token_auth') ne '' ? 1 : 0,
        params => _loggable_params($req),
        time => POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime),
    };
    $entry->{fault} = $fault if $fault;
    $entry->{matomo} = $version unless $version eq '5.1.2';
    @$entry{qw(in_flight max_in_flight)} = @$busy{qw(in_flight max_in_flight)} if $busy;

    my $auth = _authenticate($r, $query, $post, $api->matomo4);
    $entry->{auth} = $auth->{auth};
    $entry->{who}  = $auth->{who} // $auth->{user}{who};
    $entry->{write_attempt} = FakeMatomo::Api::is_write_method($req->get('method'));

    # Brute-force detection, on the mounts that turn it on: before anything
    # else Matomo does with a token.
    my $blocked = 0;
    if (!$fault && (my $bf = FakeMatomo::BruteForce->config(sub { $r->dir_config($_[0]) }, $version))) {
        my $remote = $r->connection->client_ip;
        my ($ip) = $bf->client_ip($remote, sub { $r->headers_in->{ $_[0] } });
        my $token = _token_param($req);
        my $attempt = defined $token && $token ne '' && $token ne 'anonymous';
        my $seen = $bf->login_attempt(state_path($r, 'bruteforce'), $r->location, $ip,
                                      attempt => $attempt, failed => $attempt && !$AUTH->known_token($token));
        @$entry{qw(remote_addr client_ip)} = ($remote, $ip);
        @$entry{qw(blocked failed_login failed_logins)} = @$seen{qw(blocked failed_login failed_logins)};
        $blocked = $seen->{blocked};
    }

    my $res;
    if ($blocked) {
        $res = { %$BLOCKED_PAGE };
    } elsif ($fault && $fault =~ /^(?:500|html|oversized|error)$/) {
        # A broken Matomo breaks before it looks at the request.
        $res = _fault_answer($r, $fault);
    } else {
        $res = _api_answer($api, $req, $auth, $entry,
                           ($fault // '') eq 'matomo4' ? (matomo4 => 1) : ());
        if ($fault && $fault eq 'truncated') {
            $res->{body}   = substr($res->{body}, 0, int(length($res->{body}) / 2));
            $res->{status} = 200;
            $res->{ctype}  = JSON_TYPE;
        }
    }

    $entry->{status} = $res->{status};
    $entry->{answer} = $res->{answer} if $res->{answer};
    $entry->{recording} = $res->{recording} if $res->{recording};
    # Slow and busy: the seconds the answer waits, logged so tests need no
    # clock, and an id the outcome line (if any) repeats.
    if ($fault && ($fault eq 'slow' || $fault eq 'busy')) {
        $entry->{delay} = defined $slow_ms ? $slow_ms / 1000
                        : 0 + _setting($r, 'FakeMatomoSlowSeconds', 'FAKE_MATOMO_SLOW_SECONDS', 5);
        $entry->{request_id} = APR::UUID->new->format;
    }
    _log($r, $entry, $query, $post);
    # The answer waits after the log line, so no test that reads the log
    # later meets a request of an earlier test finishing late.
    if ($entry->{delay} && _wait_for_caller($r, $started + $entry->{delay}) eq 'gone') {
        my %aborted = map { exists $entry->{$_} ? ($_ => $entry->{$_}) : () }
                      qw(request_id path http_method method auth who token_in_query write_attempt delay);
        _log($r, { %aborted, outcome => 'aborted', status => 499,
                   aborted_after_ms => int((Time::HiRes::time() - $started) * 1000),
                   time => POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime) }, $query, $post);
        return Apache2::Const::OK;
    }
    # Counted out before the first byte of the answer leaves: a caller that
    # has its answer never finds its call still in flight.
    undef $busy;
    if ($entry->{write_attempt}) {
        my @writes = $entry->{bulk} ? map { "$_->{method} (in API.getBulkRequest)" } grep { $_->{write} } @{ $entry->{bulk} }
                   : ($entry->{method});
        $r->log->warn("fake Matomo: write method @writes attempted by $entry->{who}");
    }
    return _send($r, $res);
}

# /matomo-control/: what tests use to look at and reset the shared state.
# Never under a mount's index.php, so nothing mod_matomo_mcp sends to a
# Matomo reaches it.
#   GET  /matomo-control/state             {"bruteforce":{mount:{ip:failures}},"busy":{...}}
#   POST /matomo-control/bruteforce/reset  forgets every mount's failures
#                                          (mount=/matomo-bf/ in the query: that mount's)
#   POST /matomo-control/busy/reset        max_in_flight back to in_flight, calls to 0
sub _control {
    my ($r, $uri) = @_;
    my ($what) = $uri =~ m{^/matomo-control/(state|bruteforce/reset|busy/reset)$}
        or return Apache2::Const::NOT_FOUND;
    my $want = $what eq 'state' ? 'GET' : 'POST';
    if ($r->method ne $want && !($want eq 'GET' && $r->method eq 'HEAD')) {
        $r->allow_methods(1, $want);
        return Apache2::Const::HTTP_METHOD_NOT_ALLOWED;
    }
    _form_body($r);
    my $query = FakeMatomo::Params->from_string($r->args // '');
    my $out;
    if ($what eq 'state') {
        $out = { bruteforce => FakeMatomo::BruteForce->counts(state_path($r, 'bruteforce')),
                 busy       => FakeMatomo::Busy->state(state_path($r, 'busy')) };
    } elsif ($what eq 'bruteforce/reset') {
        my $mount = $query->get('mount');
        $out = { reset => 'bruteforce', cleared => FakeMatomo::BruteForce->reset(state_path($r, 'bruteforce'), $mount) };
        $out->{mount} = $mount if defined $mount;
    } else {
        $out = { reset => 'busy', %{ FakeMatomo::Busy->reset(state_path($r, 'busy')) } };
    }
    my $body = JSON::PP->new->canonical->encode($out);
    _log($r, { control => $what, path => $uri, http_method => $r->method, method => '',
               status => 200, answer => 'control', time => POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime),
               ($what eq 'state' ? () : (result => $out)) });
    return _send($r, { status => 200, ctype => JSON_TYPE, body => $body });
}

# Waits until $until (a Time::HiRes time) while the caller stays: returns
# 'waited', or 'gone' as soon as the caller has closed its connection or
# reset it.  Every WATCH_STEP the caller's socket is polled for reading; a
# readable socket whose peek (MSG_PEEK, so nothing is taken from Apache)
# gives 0 bytes is at EOF, one that fails with anything but EAGAIN/EINTR was
# reset.  A caller that sends more meanwhile (a pipelined request) is there:
# its bytes stay where they are, and the wait sleeps out the step.  Without
# a socket to look at (not expected), it just sleeps.
sub _wait_for_caller {
    my ($r, $until) = @_;
    # A dup of the connection's descriptor: closing it leaves Apache's alone.
    my $fd = eval { $r->connection->client_socket->fileno };
    my $peer;
    if (defined $fd && $fd >= 0) {
        open($peer, '+<&', $fd) or undef $peer;
    }
    unless ($peer) {
        my $left = $until - Time::HiRes::time();
        Time::HiRes::sleep($left) if $left > 0;
        return 'waited';
    }
    my $poll = IO::Poll->new;
    $poll->mask($peer => IO::Poll::POLLIN());
    my $outcome = 'waited';
    while ((my $left = $until - Time::HiRes::time()) > 0) {
        my $step = $left < WATCH_STEP ? $left : WATCH_STEP;
        my $ready = $poll->poll($step);
        next unless $ready && $ready > 0;
        my $got = recv $peer, my $buf, 1, MSG_PEEK | MSG_DONTWAIT;
        if (!defined $got) {
            next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
            $outcome = 'gone';
            last;
        }
        if (!length $buf) {
            $outcome = 'gone';
            last;
        }
        Time::HiRes::sleep($step);
    }
    close $peer;
    return $outcome;
}

# The form body, as PHP fills $_POST: only for
# application/x-www-form-urlencoded, and not at all beyond post_max_size.
sub _form_body {
    my ($r) = @_;
    return '' unless $r->method eq 'POST';
    my $type = $r->headers_in->{'Content-Type'} // '';
    my $body = '';
    my $too_big = 0;
    # A client that hangs up mid-body makes read() die: what arrived is used.
    eval {
        while (1) {
            my $n = $r->read(my $buf, 65536);
            last unless $n;
            $too_big = 1 if length($body) + $n > MAX_BODY;
            $body .= $buf unless $too_big;
        }
        1;
    };
    return '' if $too_big || $type !~ m{^\s*application/x-www-form-urlencoded\s*(?:;|$)}i;
    return $body;
}

sub _loggable_params {
    my ($req) = @_;
    my $plain = $req->as_plain({ token_auth => 1 });
    if (ref $plain->{urls} eq 'HASH') {
        $_ = FakeMatomo::Log::without_token_pairs($_) for values %{ $plain->{urls} };
    }
    return $plain;
}

sub _authenticate {
    my ($r, $query, $post, $matomo4) = @_;
    my $force = grep { my $v = $_->get('force_api_session'); defined $v && $v =~ /^\s*[1-9]/ } $query, $post;
    return $AUTH->authenticate(
        query_token       => _token_param($query),
        post_token        => _token_param($post),
        authorization     => $r->headers_in->{Authorization},
        force_api_session => $force,
        matomo4           => $matomo4,
    );
}

sub _api_answer {
    my ($api, $req, $auth, $entry, %opt) = @_;
    return { %{ $auth->{error} }, answer => 'auth' } if $auth->{error};

    # index.php without module=API is Matomo's web interface, HTML.
    my $module = $req->get('module') // '';
    return { status => 200, ctype => HTML_TYPE, body => _ui_page(), answer => 'ui' }
        unless $module eq 'API';

    my $res = $api->process($req, $auth->{user}, %opt);
    $entry->{write_attempt} = $res->{write} ? 1 : 0;
    $entry->{bulk} = $res->{bulk} if $res->{bulk};
    # Matomo prints the caller's token into some answers (imageGraphUrl).
    $res->{body} =~ s/\@TOKEN_AUTH\@/$auth->{token}/g;
    return $res;
}

# token_auth as Common::getRequestVar('token_auth', '', 'string') reads it.
sub _token_param {
    my ($params) = @_;
    return undef if $params->is_array('token_auth');
    return $params->get('token_auth');
}

sub _log {
    my ($r, $entry, $query, $post) = @_;
    my @presented = grep { defined } map { _token_param($_) } grep { defined } $query, $post;
    if (($r->headers_in->{Authorization} // '') =~ /^\s*\S+\s+(\S+)/) {
        push @presented, $1;
    }
    # Which TCP connection carried the call: lets tests see connection reuse.
    $entry->{client_port} = $r->connection->client_addr->port;
    my $err = FakeMatomo::Log::append(log_path($r), $entry, $AUTH->secrets, @presented);
    $r->log_error("fake Matomo: request log: $err") if $err;
    return;
}

sub _send {
    my ($r, $res) = @_;
    $r->status($res->{status});
    $r->content_type($res->{ctype});
    if ($res->{stream}) {
        $res->{stream}->($r);
        return Apache2::Const::OK;
    }
    my $body = $res->{body};
    utf8::encode($body) if utf8::is_utf8($body);
    $r->set_content_length(length $body);
    # A client that went away (a gateway timeout) is not a server error.
    eval { $r->print($body) unless $r->header_only; 1 };
    return Apache2::Const::OK;
}

# --- pages and faults --------------------------------------------------------

sub _ui_page {
    return <<'HTML';
<!DOCTYPE html>
<html id="ng-app">
<head>
    <meta charset="utf-8">
    <title>Sign in - Matomo</title>
    <meta name="robots" content="noindex,nofollow">
</head>
<body id="loginPage" class="nav-collapsed">
<div id="logo"><img alt="Matomo" src="plugins/Morpheus/images/logo.svg"/></div>
<section class="loginSection">
    <h1>Sign in</h1>
    <form id="login_form" method="post" action="index.php?module=Login">
        <input type="text" name="form_login" id="login_form_login" placeholder="Username or e-mail"/>
        <input type="password" name="form_password" id="login_form_password" placeholder="Password"/>
        <input type="submit" value="Sign in" id="login_form_submit"/>
    </form>
</section>
</body>
</html>
HTML
}

sub _fault_answer {
    my ($r, $fault) = @_;
    if ($fault eq '500') {
        return { status => 500, ctype => HTML_TYPE, answer => 'fault', body => <<'HTML' };
<!DOCTYPE html>
<html>
<head><title>Matomo &rsaquo; Error</title></head>
<body>
<h1>An error occurred</h1>
<p>SQLSTATE[HY000] [2002] Connection refused (fake Matomo: /matomo-fault/500/)</p>
</body>
</html>
HTML
    }
    if ($fault eq 'html') {
        return { status => 200, ctype => HTML_TYPE, answer => 'fault', body => _ui_page() };
    }
    if ($fault eq 'error') {
        return { status => 200, ctype => JSON_TYPE, answer => 'fault',
                 body => FakeMatomo::Api::error_body(
                     'Mysql error: SQLSTATE[HY000] [2002] Connection refused '
                   . '(fake Matomo: /matomo-fault/error/)') };
    }
    my $mb = _setting($r, 'FakeMatomoOversizedMB', 'FAKE_MATOMO_OVERSIZED_MB', 40);
    return { status => 200, ctype => JSON_TYPE, answer => 'fault',
             stream => sub { _stream_oversized($_[0], $mb * 1024 * 1024) } };
}

# A valid JSON list of report rows, about $bytes long, written 64 KB at a
# time so it is never held whole.  The reader may hang up any time (that is
# the point): writing then fails, quietly.
sub _stream_oversized {
    my ($r, $bytes) = @_;
    return if $r->header_only;
    my $sent = 0;
    my $row  = 0;
    eval {
        $r->print('[');
        while ($sent < $bytes) {
            my $chunk = '';
            while (length $chunk < 65536) {
                $row++;
                $chunk .= ($row > 1 ? ',' : '')
                    . sprintf('{"label":"\/oversized\/page-%08d","nb_visits":%d,"nb_hits":%d,'
                            . '"sum_time_spent":%d,"bounce_rate":0.5,"url":"https:\/\/shop.example.test'
                            . '\/oversized\/page-%08d"}', $row, $row % 97 + 1, $row % 89 + 2,
                              $row % 1000, $row);
            }
            $r->print($chunk);
            $r->rflush;
            $sent += length $chunk;
            last if $r->connection->aborted;
        }
        $r->print(']');
        1;
    };
    return;
}

1;
