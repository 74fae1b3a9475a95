# The access log's %{mcp-...}n fields: the test Apache logs them
# (t/conf/extra.conf.in, the LogFormat of conf/matomo_mcp.conf plus the
# test's X-Test-Id) and each request's line says what that request was:
# era, method, tool, Matomo round trips (as many as the fake Matomo saw),
# the time spent on them (within the request's own time), and the error
# (the JSON-RPC code, or the tool error's class).  Never a token, a made-up
# method name or an argument value.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP;
use Time::HiRes qw(sleep time);

use lib Apache::Test::vars('serverroot') . '/lib';
use McpTest;

plan tests => 52;

my $LOG    = Apache::Test::vars('t_logs') . '/mcp_notes_log';
my $MODERN = '2026-07-28';
my $META   = { 'io.modelcontextprotocol/protocolVersion' => $MODERN,
               'io.modelcontextprotocol/clientCapabilities' => {} };
my $RUN    = sprintf '%08x', int rand 2**32;
my $n      = 0;

# The log line of the request tagged $id: its fields as a hash.  Apache
# writes it once the answer is sent, so it may come a moment after.
sub line_of {
    my ($id) = @_;
    for (1 .. 100) {
        if (open my $fh, '<', $LOG) {
            for (<$fh>) {
                next unless /^\Q$id\E (\S+) (\d+) (.*)$/;
                my ($path, $status, $rest, $line) = ($1, $2, $3, $_);
                my %f = (path => $path, status => $status, line => $line);
                $f{$1} = $2 while $rest =~ /\G ?(\w+)=(\S+)/gc;
                return \%f;
            }
        }
        sleep 0.05;
    }
    return {};
}

# Sends one request tagged with a fresh id; returns (its log fields, the
# decoded answer, the Matomo calls the fake saw meanwhile, seconds taken).
sub logged {
    my ($path, $body, %hdr) = @_;
    my $id = "t19-$RUN-" . ++$n;
    my $mark = fake_log_mark();
    my $t0 = time;
    my $res = mcp_post($path, $body, 'X-Test-Id' => $id, %hdr);
    my $took = time - $t0;
    my @calls = grep { !exists $_->{outcome} } fake_log_since($mark);
    return (line_of($id), json_body($res), scalar @calls, $took);
}

sub call {
    my ($name, $args) = @_;
    return { jsonrpc => '2.0', id => 1, method => 'tools/call',
             params => { name => $name, arguments => $args // {} } };
}

# --- the example in conf/matomo_mcp.conf names the six notes -------------
{
    my $conf = Apache::Test::vars('serverroot') . '/../conf/matomo_mcp.conf';
    open my $fh, '<', $conf or die "$conf: $!";
    my ($format) = grep { /^\s*#\s*LogFormat\b/ } <$fh>;
    my @notes = ($format // '') =~ /%\{(mcp-[\w-]+)\}n/g;
    is_deeply([sort @notes],
              [sort qw(mcp-method mcp-tool mcp-era mcp-backend-calls mcp-backend-ms mcp-error)],
              'conf/matomo_mcp.conf: a commented LogFormat with the six notes');

    # Uncommented, the example is a configuration httpd accepts.
    seek $fh, 0, 0;
    my @example = map { s/^\s*#//r } grep { /^\s*#\s*(?:LogFormat|CustomLog)\b/ } <$fh>;
    my $dir = Apache::Test::vars('t_logs');
    my $test_conf = "$dir/lognotes-example.conf";
    open my $out, '>', $test_conf or die "$test_conf: $!";
    print $out "ServerName localhost\nListen 127.0.0.1:1\nPidFile $dir/example.pid\n"
        . "ErrorLog $dir/example_error_log\nDefine APACHE_LOG_DIR $dir\n"
        . "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
        . "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
        . join('', @example);
    close $out;
    my $httpd = Apache::Test::vars('httpd');
    my $said = `'$httpd' -t -f '$test_conf' 2>&1`;
    ok(@example == 2 && $? == 0, 'the example LogFormat and CustomLog, uncommented: httpd -t accepts them')
        or diag($said);
}

# --- a legacy initialize ---------------------------------------------------
{
    my ($f, $body, $calls) = logged('/mcp-status',
        { jsonrpc => '2.0', id => 1, method => 'initialize',
          params => { protocolVersion => '2025-11-25', capabilities => {},
                      clientInfo => { name => 't19', version => '1' } } });
    is($f->{path}, '/mcp-status', 'initialize: its line is found');
    is($f->{era}, 'legacy', 'initialize: mcp-era legacy');
    is($f->{method}, 'initialize', 'initialize: mcp-method initialize');
    is($f->{tool}, '-', 'initialize: no mcp-tool');
    is($f->{calls}, $calls, "initialize: mcp-backend-calls $calls, the Matomo calls made");
    is($f->{error}, '-', 'initialize: no mcp-error');
}

# --- a modern tool call ------------------------------------------------------
{
    my $msg = call('matomo_list_sites');
    $msg->{params}{_meta} = $META;
    my ($f, $body, $calls, $took) = logged('/mcp-status', $msg,
        'MCP-Protocol-Version' => $MODERN, 'Mcp-Method' => 'tools/call',
        'Mcp-Name' => 'matomo_list_sites');
    ok($body->{result} && !$body->{result}{isError}, 'modern tools/call: answered');
    is($f->{era}, 'modern', 'modern tools/call: mcp-era modern');
    is($f->{method}, 'tools/call', 'modern tools/call: mcp-method tools/call');
    is($f->{tool}, 'matomo_list_sites', 'modern tools/call: mcp-tool matomo_list_sites');
    ok($calls >= 1, "the fake Matomo saw $calls calls");
    is($f->{calls}, $calls, 'modern tools/call: mcp-backend-calls as many');
    ok($f->{ms} =~ /^\d+\.\d{3}$/ && $f->{ms} > 0 && $f->{ms} <= $took * 1000,
       "mcp-backend-ms $f->{ms}: more than 0, within the request's "
       . sprintf('%.1f ms', $took * 1000));
    is($f->{error}, '-', 'modern tools/call: no mcp-error');
}

# --- errors ------------------------------------------------------------------
{
    my ($f) = logged('/mcp-status', call('matomo_no_such_tool'));
    is($f->{method}, 'tools/call', 'unknown tool: mcp-method tools/call');
    is($f->{tool}, '-', 'unknown tool: no mcp-tool (a name the client made up)');
    is($f->{error}, '-32602', 'unknown tool: mcp-error -32602');

    my $secret = "x/t19-secret-$RUN";
    ($f) = logged('/mcp-status', { jsonrpc => '2.0', id => 2, method => $secret });
    is($f->{method}, 'unknown', 'a made-up method: mcp-method unknown');
    is($f->{error}, '-32601', 'a made-up method: mcp-error -32601');
    ok(index($f->{line} // '', $secret) < 0, 'its name is not in the line');

    ($f) = logged('/mcp-status', '{"jsonrpc": "2.0", "id": 3, "method": ');
    is($f->{era}, '-', 'not JSON: no era');
    is($f->{method}, '-', 'not JSON: no method');
    is($f->{error}, '-32700', 'not JSON: mcp-error -32700');

    my $value = "t19-value-$RUN";
    my ($g, $body, $calls) = logged('/mcp-status',
        call('matomo_get_report', { idSite => 1, segment => "pageUrl=\@$value" }));
    ok($body->{result}{isError}, 'get_report without report: a tool error');
    is($g->{tool}, 'matomo_get_report', '... mcp-tool matomo_get_report');
    is($g->{error}, 'arguments', '... mcp-error arguments');
    is($g->{calls}, $calls, "... mcp-backend-calls $calls (no call of the tool's own)");
    ok(index($g->{line} // '', $value) < 0, '... no argument value in the line');

    ($f, $body) = logged('/mcp-status',
        call('matomo_traffic_summary', { idSite => 1, period => 'day', date => '2026-11-26' }),
        bearer(token('viewer')));
    ok($body->{result}{isError}, "the viewer on site 1: a tool error");
    is($f->{error}, 'denied', '... mcp-error denied (Matomo refused the site)');

    ($f, $body, $calls) = logged('/mcp-status-slow', call('matomo_list_sites'));
    ok($body->{result}{isError}, 'a Matomo slower than the limit: a tool error');
    is($f->{error}, 'timeout', '... mcp-error timeout');
    is($f->{calls}, 1, '... after one call (the token check; the tool gets its answer)');

    ($f, $body) = logged('/mcp-status-down', call('matomo_list_sites'));
    is($f->{error}, 'refused', 'a Matomo nobody listens for: mcp-error refused');

    ($f, $body) = logged('/mcp-status-500', call('matomo_list_sites'));
    is($f->{error}, '5xx', 'a Matomo answering 500: mcp-error 5xx');

    ($f, $body) = logged('/mcp-status-html', call('matomo_list_sites'));
    is($f->{error}, 'invalid_json', 'a Matomo answering HTML: mcp-error invalid_json');

    ($f, $body) = logged('/mcp-status-oversized', call('matomo_list_sites'));
    is($f->{error}, 'over_cap', 'a Matomo answering too much: mcp-error over_cap');
}

# --- refused before the core, and 401 ----------------------------------------
{
    my ($f) = logged('/mcp-status', call('matomo_list_sites'), Authorization => undef);
    is($f->{status}, 401, 'no token: 401');
    is($f->{error}, '-32000', 'no token: mcp-error -32000');
    is($f->{calls}, 0, 'no token: no Matomo call');

    my $unknown = join '', map { sprintf '%02x', int rand 256 } 1 .. 16;
    ($f) = logged('/mcp-status', call('matomo_list_sites'), bearer($unknown));
    is($f->{status}, 401, 'an unknown token: 401');
    is($f->{error}, '-32000', 'an unknown token: mcp-error -32000');
    is($f->{method}, 'tools/call', 'an unknown token: the method it asked for');
    is($f->{calls}, 1, 'an unknown token: one call, the check');
    ok(index($f->{line} // '', $unknown) < 0, 'the token is not in the line');

    ($f) = logged('/mcp-status', call('matomo_list_sites'), 'Content-Type' => 'text/plain');
    is($f->{status}, 415, 'a text/plain body: 415');
    is($f->{error}, '-32000', '... mcp-error -32000');
}

# --- a batch (2025-03-26) -------------------------------------------------------
{
    my ($f) = logged('/mcp-status', [ { jsonrpc => '2.0', id => 1, method => 'ping' },
                                      { jsonrpc => '2.0', id => 2, method => 'tools/list' } ]);
    is($f->{method}, 'ping,tools/list', 'a batch: its methods in order');
    is($f->{era}, 'legacy', 'a batch: legacy');
}

# --- no token anywhere in the notes log ---------------------------------------
{
    open my $fh, '<', $LOG or die "$LOG: $!";
    my $all = do { local $/; <$fh> };
    ok(!grep({ index($all, token($_)) >= 0 } qw(superuser viewer viewer_jwt)),
       'no test token in the notes log');
}
