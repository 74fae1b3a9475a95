# MatomoMcpBackendSocket: Matomo reached through a Unix socket.  This file
# relays a socket to the fake Matomo on the test server's own port, so the
# answers are the fake Matomo's, tokens and all; the endpoint's host name
# does not resolve (.invalid), so an answer can only come through the
# socket.  The relay notes each request line and Host it carries (never a
# body: the token travels there).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use IO::Select ();
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use POSIX ();
use Socket qw(SOCK_STREAM);
use McpTest;

plan tests => 14;

my $PORT   = Apache::Test::vars('port');
my $SOCKET = "/tmp/mod_matomo_mcp-test-$PORT.sock";
my $SEEN   = Apache::Test::vars('t_logs') . '/socket_relay.log';

sub list_sites {
    my (@hdr) = @_;
    return rpc_body('/mcp-socket', 1, 'tools/call',
                    { name => 'matomo_list_sites', arguments => {} }, @hdr);
}

sub site_ids {
    my $j = shift;
    my $t = $j && $j->{result} && $j->{result}{structuredContent}
          && $j->{result}{structuredContent}{sites} or return '';
    my ($col) = grep { $t->{columns}[$_] eq 'id' } 0 .. $#{ $t->{columns} };
    return join ',', sort { $a <=> $b } map { $_->[$col] } @{ $t->{rows} };
}

sub tool_error {
    my $j = shift;
    return '' unless $j && $j->{result} && $j->{result}{isError};
    return $j->{result}{content}[0]{text} // '';
}

# --- the relay ------------------------------------------------------------

# One connection: bytes both ways until either side closes; the module's
# request lines and Host headers go to $SEEN.
sub relay_one {
    my ($client) = @_;
    my $server = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                       PeerPort => $PORT, Proto => 'tcp')
        or return;
    my $sel = IO::Select->new($client, $server);
    while (my @ready = $sel->can_read(30)) {
        for my $from (@ready) {
            my $n = sysread($from, my $buf, 65536);
            return unless $n;
            my $to = $from == $client ? $server : $client;
            if ($from == $client && $buf =~ m{^(\w+) (\S+) HTTP/1\.[01]\r\n}) {
                my ($method, $path) = ($1, $2);
                my ($host) = $buf =~ /^Host: *(\S+)\r$/mi;
                open my $log, '>>', $SEEN or die "$SEEN: $!";
                print $log "$method $path $host\n";
                close $log;
            }
            my $off = 0;
            while ($off < $n) {
                my $w = syswrite($to, $buf, $n - $off, $off);
                return unless $w;
                $off += $w;
            }
        }
    }
}

sub start_relay {
    unlink $SOCKET, $SEEN;
    my $listen = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $SOCKET,
                                       Listen => 16)
        or die "cannot listen on $SOCKET: $!";
    chmod 0777, $SOCKET;    # the children run as another user
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        setpgrp(0, 0);      # stop_relay ends every connection with it
        $SIG{CHLD} = 'IGNORE';
        while (my $c = $listen->accept) {
            my $kid = fork;
            if (defined $kid && $kid == 0) {
                relay_one($c);
                POSIX::_exit(0);
            }
            close $c;
        }
        POSIX::_exit(0);
    }
    close $listen;
    return $pid;
}

# The relay and every connection it carries: the module's kept-alive
# connections end too, as when Matomo's web server stops.
sub stop_relay {
    my $pid = shift;
    kill 'TERM', -$pid;
    waitpid $pid, 0;
    unlink $SOCKET;
}

sub seen {
    open my $fh, '<', $SEEN or return ();
    return map { [split ' '] } <$fh>;
}

# --- no socket yet: Matomo cannot be reached --------------------------------
unlink $SOCKET;
{
    my ($res, $j) = list_sites();
    is($res->code, 200, 'no socket: HTTP 200');
    like(tool_error($j), qr/^Matomo cannot be reached/,
         'no socket: the tool says Matomo cannot be reached');
}

# --- through the socket -----------------------------------------------------
my $relay = start_relay();
{
    my (undef, $j) = list_sites();
    is(site_ids($j), join(',', sort { $a <=> $b } map { $_->{idsite} }
                                  @{ recorded('sites-view.json') }),
       "the superuser's sites, as Matomo recorded them, came through the socket");
    my @seen = seen();
    ok(scalar @seen, 'the relay carried the calls');
    is(scalar(grep { $_->[0] eq 'POST' } @seen), scalar @seen,
       'every call a POST');
    is(scalar(grep { $_->[1] eq '/matomo/index.php' } @seen), scalar @seen,
       "every call to the URL's path, with no query (no token in a URL)");
    is(scalar(grep { $_->[2] eq 'matomo.socket.invalid' } @seen), scalar @seen,
       "every call with the URL's host as Host");
}
{
    my (undef, $j) = list_sites(bearer(token('viewer')));
    is(site_ids($j), join(',', sort { $a <=> $b } map { $_->{idsite} }
                                  @{ recorded('sites-view-viewer.json') }),
       "a viewer sees its own sites only: Matomo's rules apply through the socket");
}
{
    my ($res) = list_sites(bearer('0' x 32));
    is($res->code, 401, 'an unknown token: 401, as Matomo refused it');
    like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
         'an unknown token: invalid_token');
}

# --- the socket goes away ---------------------------------------------------
stop_relay($relay);
{
    my ($res, $j) = list_sites(bearer(token('viewer')));
    is($res->code, 200, 'socket gone: HTTP 200');
    # The viewer's verdict is remembered: the tool call itself finds no Matomo.
    like(tool_error($j), qr/^Matomo cannot be reached/,
         'socket gone: the tool says Matomo cannot be reached');
}
{
    my (undef, $j) = rpc_body('/mcp', 1, 'tools/call',
                              { name => 'matomo_list_sites', arguments => {} });
    ok($j && $j->{result} && !$j->{result}{isError},
       'the server still serves /mcp over TCP');
    ok(!-e $SOCKET, 'the socket is removed');
}
