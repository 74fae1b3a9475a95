# Helpers for the Apache::Test suite: JSON-RPC over POST through
# Apache::TestRequest's user agent, and raw HTTP for what LWP will not send
# (chunked bodies, odd framing).
package McpTest;
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use Apache::Test ();
use Apache::TestRequest ();
use B ();
use HTTP::Request ();
use HTTP::Response ();
use JSON::PP ();

our @EXPORT = qw(mcp_request mcp_post rpc json_body rpc_body raw_http
                 hostport token auth_line bearer recorded
                 fake_log_mark fake_log_since tool_requests_since
                 schema_errors);

my $JSON = JSON::PP->new->canonical;
my $UA;

sub hostport { Apache::TestRequest::hostport() }

# The fake Matomo's tokens (t/matomo/tokens.json): token('superuser'),
# token('viewer'), ...
my $TOKENS;
sub token {
    my $who = shift;
    unless ($TOKENS) {
        my $file = Apache::Test::vars('serverroot') . '/matomo/tokens.json';
        open my $fh, '<', $file or die "cannot read $file: $!";
        local $/;
        $TOKENS = JSON::PP->new->decode(<$fh>);
    }
    return $TOKENS->{$who} // die "no token for $who";
}

# An Authorization header line for raw requests.
sub auth_line { "Authorization: Bearer " . token(shift // 'superuser') . "\r\n" }

# The Authorization header of a token, as (name => value) for mcp_request.
sub bearer { (Authorization => 'Bearer ' . shift) }

# The JSON answer a real Matomo gave in a recording (t/matomo/recorded/FILE),
# decoded anew on each call so that no test sees another's changes.
sub recorded {
    my $file = Apache::Test::vars('serverroot') . '/matomo/recorded/' . shift;
    open my $fh, '<:raw', $file or die "cannot read $file: $!";
    my $wrap = JSON::PP->new->decode(do { local $/; <$fh> });
    return JSON::PP->new->decode($wrap->{body});
}

# What the fake Matomo saw (its request log, t/logs/fake_matomo.jsonl):
# take a mark, do something, then read the requests made since.
sub fake_log { Apache::Test::vars('t_logs') . '/fake_matomo.jsonl' }
sub fake_log_mark { -s fake_log() // 0 }
sub fake_log_since {
    my $mark = shift;
    open my $fh, '<', fake_log() or return ();
    seek $fh, $mark, 0;
    return map { $JSON->decode($_) } grep { /\S/ } <$fh>;
}

# The same without the module's token checks (API.getMatomoVersion, once
# per child and minute), without the slow fault's outcome lines (a caller
# hung up: no second request) and without a test's own /matomo-control/
# requests: the requests a tool call made.
sub tool_requests_since {
    return grep { ($_->{method} // '') ne 'API.getMatomoVersion'
                  && !exists $_->{outcome} && !exists $_->{control} }
           fake_log_since(@_);
}

# The headers a conforming MCP client sends; a caller's undef removes one.
my @DEFAULT = ('Content-Type' => 'application/json',
               'Accept'       => 'application/json, text/event-stream');

# mcp_request(METHOD, PATH, BODY, HEADER => VALUE, ...): BODY is bytes, or a
# Perl structure sent as JSON, or undef for none.  Returns HTTP::Response.
sub mcp_request {
    my ($method, $path, $body, %hdr) = @_;
    my %h = (@DEFAULT, Authorization => 'Bearer ' . token('superuser'),
             %hdr);
    my $req = HTTP::Request->new($method,
                                 Apache::TestRequest::resolve_url($path));
    for my $k (sort keys %h) {
        $req->header($k => $h{$k}) if defined $h{$k};
    }
    if (defined $body) {
        $body = $JSON->encode($body) if ref $body;
        $req->content($body);
        $req->header('Content-Length' => length $body);
    }
    $UA ||= Apache::TestRequest->new;   # LWP::UserAgent, test timeouts
    return $UA->request($req);
}

sub mcp_post { my $path = shift; mcp_request(POST => $path, @_) }

# rpc(PATH, ID, METHOD, PARAMS, HEADERS...): one JSON-RPC request.
sub rpc {
    my ($path, $id, $method, $params, %hdr) = @_;
    my %msg = (jsonrpc => '2.0', id => $id, method => $method);
    $msg{params} = $params if defined $params;
    return mcp_post($path, \%msg, %hdr);
}

# The decoded JSON body, or undef when it is not JSON.
sub json_body {
    my $res = shift;
    my $v = eval { JSON::PP->new->decode($res->content) };
    return $v;
}

# rpc() and decode in one: (response, decoded body).
sub rpc_body { my $res = rpc(@_); return ($res, json_body($res)) }

# Sends TEXT (a whole HTTP/1.1 request, "Connection: close" advised) on a
# fresh socket, reads until EOF, returns HTTP::Response (chunked answers
# decoded), or undef when the server sent nothing.
sub raw_http {
    my $text = shift;
    my $sock = Apache::TestRequest::vhost_socket()
        or die "cannot connect to the test server: $!";
    $sock->autoflush(1);
    print $sock $text;
    local $/;
    my $raw = <$sock>;
    close $sock;
    return undef unless defined $raw && length $raw;
    return parse_http($raw);
}

# An HTTP/1.1 answer as read off a socket, as HTTP::Response (a chunked
# body decoded).
sub parse_http {
    my $raw = shift;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my $res = HTTP::Response->parse($head);
    $body = '' unless defined $body;
    if (lc($res->header('Transfer-Encoding') // '') eq 'chunked') {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }
    $res->content($body);
    return $res;
}


# --- a small JSON Schema check (the keywords the output schemas use) -------
# schema_errors(SCHEMA, VALUE, PATH): the places where VALUE does not conform
# (type, enum, required, properties, additionalProperties false, items).
sub schema_errors {
    my ($s, $v, $path) = @_;
    my @err;
    # JSON::PP gives numbers as IV/NV and strings as PV: read the flags,
    # without stringifying the value (that would add a PV).
    my $flags = sub { B::svref_2object(\$_[0])->FLAGS };
    my $num = sub { defined $_[0] && !ref $_[0] && !($flags->($_[0]) & B::SVp_POK())
                    && ($flags->($_[0]) & (B::SVp_IOK() | B::SVp_NOK())) };
    my %is = (
        object  => sub { ref $_[0] eq 'HASH' },
        array   => sub { ref $_[0] eq 'ARRAY' },
        string  => sub { defined $_[0] && !ref $_[0] && ($flags->($_[0]) & B::SVp_POK()) },
        integer => sub { $num->($_[0]) && int($_[0]) == $_[0] },
        number  => $num,
        boolean => sub { JSON::PP::is_bool($_[0]) },
    );
    if (my $t = $s->{type}) {
        return ("$path: not $t") unless $is{$t} && $is{$t}->($v);
    }
    if ($s->{enum}) {
        push @err, "$path: not in enum" unless grep { $_ eq $v } @{ $s->{enum} };
    }
    if (ref $v eq 'HASH') {
        for my $k (@{ $s->{required} || [] }) {
            push @err, "$path: $k missing" unless exists $v->{$k};
        }
        for my $k (sort keys %$v) {
            if (my $ps = ($s->{properties} || {})->{$k}) {
                push @err, schema_errors($ps, $v->{$k}, "$path.$k");
            } elsif (exists $s->{additionalProperties} && !$s->{additionalProperties}) {
                push @err, "$path: $k not allowed";
            }
        }
    }
    if (ref $v eq 'ARRAY' && $s->{items}) {
        push @err, schema_errors($s->{items}, $v->[$_], "$path\[$_]") for 0 .. $#$v;
    }
    return @err;
}

1;
