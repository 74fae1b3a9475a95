# The shared cache (issue 14, README "Caching and scaling out"), for real:
# module Apaches of their own ("nodes", t/lib/MatomoMcp/Nodes.pm) calling
# the test server's fake Matomo, whose request log counts every Matomo
# call any node makes, with httpd's own socache providers:
#
#   1. apachectl -t names an unknown provider, an unloaded provider
#      module, a provider's own refusal and a bad TTL;
#   2. shmcb across the two children of one Apache: an answer stored by
#      one child is another's (one Matomo call), the token checked once;
#      with MatomoMcpCacheTTL 1h 0, a question about today is asked each
#      time, one about a complete past period once; errors never stored;
#   3. redis-server (Debian's) shared by two nodes behind a third Apache
#      with mod_proxy_balancer: asked through node A, asked again through
#      node B, answered from the cache; a token checked on A (accepted or
#      refused) is not checked on B; five identical questions at once in
#      one child make one Matomo call; with redis stopped mid-run every
#      call is still answered (from Matomo), and each node says so once;
#   4. memcached shared by two nodes, with a size cap: small answers
#      shared, an answer over MatomoMcpCacheMaxEntry never stored.
#
# No assertion is on timing: what is counted is Matomo calls, from the
# fake's log, and where answers came from, from the results.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use File::Path ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();
use McpTest;
use MatomoMcp::Nodes qw(free_port start_daemon stop_daemon start_apache
                        stop_apache apache_check node_conf balancer_conf
                        error_lines access_pids);

my $JSON  = JSON::PP->new->canonical;
my $FAKE  = '127.0.0.1:' . Apache::Test::vars('port');
my $DIR   = Apache::Test::vars('t_logs') . '/cache-nodes';
my $SUPER = token('superuser');
my $VIEWER = token('viewer');
my $SECRET = 'shared-secret-of-the-test-nodes';

# A question about a complete past period (its week ends 2026-11-29, days
# before this machine's today) that the fake Matomo has recorded: one bulk
# request of VisitsSummary.get and Goals.get.
my @PAST  = (matomo_traffic_summary => { idSite => 1, period => 'week', date => '2026-11-25' });
my @TODAY = (matomo_traffic_summary => { idSite => 1, period => 'day', date => 'today' });

my $UA = LWP::UserAgent->new(timeout => 60, keep_alive => 0);

# One tools/call (or METHOD) on its own connection: (response, body).
sub rpc_to {
    my ($url, $method, $params, $token) = @_;
    my $req = HTTP::Request->new(POST => $url);
    $req->header('Content-Type' => 'application/json');
    $req->header('Accept' => 'application/json, text/event-stream');
    $req->header('Authorization' => 'Bearer ' . ($token // $SUPER));
    $req->content($JSON->encode({ jsonrpc => '2.0', id => 1, method => $method,
                                  params => $params }));
    my $res = $UA->request($req);
    return ($res, eval { $JSON->decode($res->content) });
}

sub call_tool {
    my ($url, $name, $args, $token) = @_;
    return rpc_to($url, 'tools/call', { name => $name, arguments => $args }, $token);
}

sub initialize {
    my ($url, $token) = @_;
    return rpc_to($url, 'initialize', { protocolVersion => '2025-11-25',
        capabilities => {}, clientInfo => { name => 't', version => '1' } }, $token);
}

# structuredContent without the cache's note: what Matomo's answer made.
sub content_of {
    my $body = shift;
    my %s = %{ $body->{result}{structuredContent} // {} };
    delete $s{cache};
    return $JSON->encode(\%s);
}

sub from_cache { ($_[0]{result}{structuredContent}{cache} // {})->{from_cache} ? 1 : 0 }

# Matomo calls since MARK: token checks, and the calls of tools.
sub checks_since { scalar grep { ($_->{method} // '') eq 'API.getMatomoVersion' } fake_log_since(shift) }
sub calls_since  { scalar tool_requests_since(shift) }

sub cache_lines {
    my ($file, $what) = @_;
    return scalar grep { /MatomoMcpCache .*\Q$what\E/ } error_lines($file);
}

File::Path::remove_tree($DIR);

# --- 1. the configuration is checked -------------------------------------------
{
    my $dir = "$DIR/check";
    my $base = sub { node_conf(dir => $dir, name => 'check', port => 1, children => 1,
                               fake => $FAKE, @_) };
    my ($rc, $out) = apache_check($dir, 'check',
        $base->(load => undef, extra => 'MatomoMcpCache redis:127.0.0.1:6379'));
    ok($rc != 0 && $out =~ /no cache provider 'redis' is loaded \(LoadModule socache_redis_module/,
       'apachectl -t: a provider whose module is not loaded is named, with the LoadModule it needs')
        or diag $out;
    ($rc, $out) = apache_check($dir, 'check',
        $base->(load => 'shmcb', extra => 'MatomoMcpCache nosuch:x'));
    ok($rc != 0 && $out =~ /no cache provider 'nosuch'.*loaded: .*shmcb/,
       'apachectl -t: an unknown provider is named, with the loaded ones') or diag $out;
    ($rc, $out) = apache_check($dir, 'check',
        $base->(load => 'shmcb', extra => "MatomoMcpCache shmcb:$dir/x(100)"));
    ok($rc != 0 && $out =~ /MatomoMcpCache: .*size/,
       "apachectl -t: the provider's own refusal of its arguments") or diag $out;
    ($rc, $out) = apache_check($dir, 'check',
        $base->(load => 'shmcb', extra => "MatomoMcpCache shmcb\nMatomoMcpCacheTTL 1h soon"));
    ok($rc != 0 && $out =~ /MatomoMcpCacheTTL: 'soon' must be a duration/,
       'apachectl -t: a TTL that is no duration') or diag $out;
    ($rc, $out) = apache_check($dir, 'check',
        $base->(load => 'shmcb', extra => "MatomoMcpCache shmcb\nMatomoMcpCacheSecret short"));
    ok($rc != 0 && $out =~ /MatomoMcpCacheSecret: the secret must be 16/,
       'apachectl -t: a secret too short to salt anything') or diag $out;
    ($rc, $out) = apache_check($dir, 'check',
        $base->(load => 'shmcb', extra => "MatomoMcpCache shmcb:$dir/ok(2097152)\nMatomoMcpCacheTTL 1h 0 5mi"));
    is($rc, 0, 'apachectl -t: a good cache configuration passes') or diag $out;
}

# --- 2. shmcb across the children of one Apache -------------------------------
{
    my $dir  = "$DIR/shmcb";
    my $port = free_port();
    my $url  = "http://127.0.0.1:$port/mcp";
    my $pid  = start_apache($dir, 'one', node_conf(
        dir => $dir, name => 'one', port => $port, children => 2, fake => $FAKE,
        load => 'shmcb',
        extra => "MatomoMcpCache shmcb:$dir/cache(8388608)\nMatomoMcpCacheTTL 1h 0 5mi"), $port);

    my $mark = fake_log_mark();
    my ($res, $first) = call_tool($url, @PAST);
    ok(!$first->{result}{isError} && $first->{result}{structuredContent},
       'shmcb: a question about a past week is answered') or diag $res->as_string;
    ok(!from_cache($first), 'the first answer came from Matomo (no cache note)');
    # Which child answered request N (the access log's line is written
    # after the answer is sent: waited for).
    my $pid_of = sub {
        my $n = shift;
        for (1 .. 200) {
            my @pids = access_pids("$dir/one_access_log");
            return $pids[$n - 1] if @pids >= $n;
            select undef, undef, undef, 0.05;
        }
        return 0;
    };
    my $first_pid = $pid_of->(1);
    my ($other, $again);
    # New connections until the other child answers.
    for my $n (2 .. 61) {
        ($res, $again) = call_tool($url, @PAST);
        my $pid = $pid_of->($n);
        if ($pid && $pid != $first_pid) { $other = $pid; last }
    }
    ok($first_pid && defined $other, "another child of the same Apache answered ($first_pid, then "
                       . ($other // 'none') . ')');
    ok(from_cache($again), "the other child's answer came from the shared memory");
    is(content_of($again), content_of($first), 'the cached answer is the answer Matomo gave');
    my $cache = $again->{result}{structuredContent}{cache};
    is($cache->{answers_from_cache}, 2, 'both calls of the bulk request (VisitsSummary.get, '
       . 'Goals.get) came from the cache');
    ok(defined $cache->{age_seconds} && $cache->{age_seconds} >= 0,
       'the result says how old the cached answer is');
    like($again->{result}{content}[0]{text}, qr/"from_cache":true/,
         'the text block says so too (a model reads it)');
    {
        my (undef, $list) = rpc_to($url, 'tools/list', {});
        my ($def) = grep { $_->{name} eq $PAST[0] } @{ $list->{result}{tools} // [] };
        my @err = schema_errors($def->{outputSchema}, $again->{result}{structuredContent}, $PAST[0]);
        ok($def && !@err, "the cached result, its cache member included, is valid against the tool's outputSchema")
            or diag join "\n", @err;
    }
    is(calls_since($mark), 1, 'one Matomo call for the question, whichever child asked');
    is(checks_since($mark), 1, 'the token was checked once for both children');

    # Two other questions built on the same Matomo call (the report
    # catalog): the second is answered from the first one's answer.
    $mark = fake_log_mark();
    my ($c1, $cb1) = call_tool($url, matomo_list_reports => { idSite => 1, search => 'entry' });
    my ($c2, $cb2) = call_tool($url, matomo_list_reports => { idSite => 1, category => 'Referrers' });
    ok(!$cb1->{result}{isError} && !$cb2->{result}{isError} && !from_cache($cb1),
       'two questions about the report catalog');
    ok(from_cache($cb2) && $cb2->{result}{structuredContent}{cache}{answers_from_cache} == 1,
       "the second is built on the first one's cached Matomo answer");
    is(calls_since($mark), 1, 'one Matomo call (API.getReportMetadata) for both');
    my $table = $cb2->{result}{structuredContent}{reports} // {};
    my ($ci) = grep { ($table->{columns}[$_] // '') eq 'category' } 0 .. $#{ $table->{columns} // [] };
    my @rows = @{ $table->{rows} // [] };
    ok(defined $ci && @rows && !grep({ $_->[$ci] ne 'Referrers' } @rows),
       'and it answers its own question (only the Referrers category: '
       . scalar(@rows) . ' rows)');

    $mark = fake_log_mark();
    my ($r1, $t1) = call_tool($url, @TODAY);
    my ($r2, $t2) = call_tool($url, @TODAY);
    ok(!$t1->{result}{isError} && !$t2->{result}{isError}, 'a question about today is answered');
    ok(!from_cache($t2), 'with a RECENT TTL of 0 a question about today never comes from the cache');
    is(calls_since($mark), 2, 'each asking of it is a Matomo call');

    $mark = fake_log_mark();
    my ($e1, $b1) = call_tool("http://127.0.0.1:$port/mcp-error", @PAST);
    my ($e2, $b2) = call_tool("http://127.0.0.1:$port/mcp-error", @PAST);
    ok($b1->{result}{isError} && $b2->{result}{isError}, "Matomo's error is a tool error");
    is(scalar(grep { ($_->{fault} // '') eq 'error' && ($_->{method} // '') ne 'API.getMatomoVersion' }
              fake_log_since($mark)), 2, 'an error is never cached: asked twice, called twice');

    $mark = fake_log_mark();
    my ($v1, $vb) = call_tool($url, matomo_traffic_summary => { idSite => 1, period => 'week',
                                                                 date => '2026-11-25' }, $VIEWER);
    ok($vb->{result}{isError}, "the viewer gets no answer about site 1, cached or not");
    ok(!from_cache($vb) && $vb->{result}{content}[0]{text} !~ /nb_visits/,
       "the superuser's cached answer never reaches a caller with other rights");
    is(calls_since($mark), 1, "the viewer's question went to Matomo (its own key)");

    # /server-status counts the lookups (issue 16's section): the
    # questions above that found their answers, and those that did not.
    my $status = $UA->get("http://127.0.0.1:$port/server-status?auto")->content;
    my ($hits)   = $status =~ /^MatomoMcpCacheHits: (\d+)$/m;
    my ($misses) = $status =~ /^MatomoMcpCacheMisses: (\d+)$/m;
    ok(defined $hits && $hits >= 3 && defined $misses && $misses >= 4,
       '/server-status shows the cache\'s hits and misses (' . ($hits // 'none')
       . ' and ' . ($misses // 'none') . ')') or diag $status;
    is_deeply([error_lines("$dir/one_error_log")], [], 'shmcb: no error in the error log');
    stop_apache($pid);
}

# --- 3. redis shared by two nodes behind mod_proxy_balancer --------------------
SKIP: {
    my $redis_bin = `sh -c 'command -v redis-server'`;
    chomp $redis_bin;
    # make test installs it (Makefile DEB_PKGS): missing is a failure.
    ok($redis_bin, 'redis-server is installed (Debian package redis-server)')
        or skip 'no redis-server', 1;
    my $dir = "$DIR/redis";
    my $rport = free_port();
    File::Path::make_path($dir);
    chmod 0777, $dir;
    my @redis_cmd = ($redis_bin, '--port', $rport, '--bind', '127.0.0.1',
                     '--save', '', '--appendonly', 'no', '--dir', $dir);
    my $redis = start_daemon("$dir/redis.log", $rport, @redis_cmd);
    my ($pa, $pb, $pc) = (free_port(), free_port(), free_port());
    my %node;
    for my $n (['a', $pa], ['b', $pb]) {
        $node{$n->[0]} = start_apache($dir, $n->[0], node_conf(
            dir => $dir, name => $n->[0], port => $n->[1], children => 1,
            fake => $FAKE, load => 'redis',
            extra => "MatomoMcpCache redis:127.0.0.1:$rport\n"
                   . "MatomoMcpCacheSecret $SECRET"), $n->[1]);
    }
    my $front = start_apache($dir, 'front', balancer_conf(
        dir => $dir, name => 'front', port => $pc, members => [$pa, $pb]), $pc);
    my $url = "http://127.0.0.1:$pc/mcp";

    my $mark = fake_log_mark();
    my ($r1, $b1) = initialize($url);
    my $x = $r1->header('X-Mcp-Node') // '';
    is($r1->code, 200, "initialize through the balancer (node $x)");
    is(checks_since($mark), 1, "the token was checked on node $x");
    my ($r2, $b2) = call_tool($url, @PAST);
    my $y = $r2->header('X-Mcp-Node') // '';
    ok($x && $y && $x ne $y, "the question went to the other node ($x, then $y)");
    ok(!$b2->{result}{isError} && !from_cache($b2), "node $y asked Matomo");
    is(checks_since($mark), 1, "node $y did not check the token again (the shared verdict)");
    my ($r3, $b3) = call_tool($url, @PAST);
    is($r3->header('X-Mcp-Node'), $x, "asked again, through node $x");
    ok(from_cache($b3), "node $x answered from redis");
    is(content_of($b3), content_of($b2), 'with the answer node ' . $y . ' got from Matomo');
    is(calls_since($mark), 1, 'one Matomo call for the question across both nodes');

    # A refused token: checked once, refused everywhere.
    my $bad = 'f' x 32;
    $mark = fake_log_mark();
    my ($u1) = initialize($url, $bad);
    my ($u2) = initialize($url, $bad);
    ok($u1->code == 401 && $u2->code == 401, 'an unknown token gets 401 from both nodes');
    isnt($u1->header('X-Mcp-Node'), $u2->header('X-Mcp-Node'), 'one from each node');
    is(checks_since($mark), 1, "the refused verdict was shared: one check, no budget spent twice");

    # Identical questions at once in one child: one Matomo call (1.5 s
    # each).  First a token nobody has checked on this endpoint yet, from
    # five connections at once: one check.
    my $slow = "http://127.0.0.1:$pa/mcp-slow";
    $mark = fake_log_mark();
    my @first;
    for my $i (1 .. 5) {
        my $kid = fork // die "fork: $!";
        if ($kid == 0) {
            my ($res) = initialize($slow, $VIEWER);
            POSIX::_exit($res->code == 200 ? 0 : 1);
        }
        push @first, $kid;
    }
    my $inits = 0;
    for (@first) { waitpid $_, 0; $inits++ if $? == 0 }
    is($inits, 5, 'five initialize at once with a new token: all accepted');
    is(scalar(grep { ($_->{method} // '') eq 'API.getMatomoVersion' && ($_->{who} // '') eq 'viewer' }
              fake_log_since($mark)), 1, 'one token check for the five');
    initialize($slow);      # the superuser's verdict for this endpoint
    $mark = fake_log_mark();
    my @kids;
    for my $i (1 .. 5) {
        my $kid = fork // die "fork: $!";
        if ($kid == 0) {
            my ($res, $body) = call_tool($slow, @PAST);
            POSIX::_exit($res->code == 200 && !$body->{result}{isError} ? 0 : 1);
        }
        push @kids, $kid;
    }
    my $ok = 0;
    for (@kids) { waitpid $_, 0; $ok++ if $? == 0 }
    is($ok, 5, 'five identical questions at once: all answered');
    is(scalar(grep { ($_->{fault} // '') eq 'slow' && ($_->{method} // '') ne 'API.getMatomoVersion' }
              fake_log_since($mark)), 1, 'one Matomo call for the five (one child, one flight)');

    # redis stops mid-run: every call still answered, from Matomo.
    stop_daemon($redis, $rport);
    $mark = fake_log_mark();
    my $answered = 0;
    my %seen;
    for my $date ('2026-11-25', '2026-11-18', '2026-11-25', '2026-11-18', '2026-11-25', '2026-11-18') {
        my ($res, $body) = call_tool($url, matomo_traffic_summary =>
                                     { idSite => 1, period => 'week', date => $date });
        $seen{ $res->header('X-Mcp-Node') // '' }++;
        $answered++ if $res->code == 200 && !$body->{result}{isError}
                       && $body->{result}{structuredContent};
    }
    is($answered, 6, 'redis stopped: all six calls answered');
    is(join(',', sort keys %seen), 'a,b', 'by both nodes');
    is(calls_since($mark), 6, 'each from Matomo');
    for my $n ('a', 'b') {
        is(cache_lines("$dir/${n}_error_log", 'failed'), 1,
           "node $n: one error-log line for the incident, not one per request");
        is(scalar(error_lines("$dir/${n}_error_log")), 1, "node $n: no other error");
    }
    stop_apache($front);
    stop_apache($node{$_}) for keys %node;
}

# --- 4. memcached, with a size cap ----------------------------------------------
SKIP: {
    my $mc_bin = `sh -c 'command -v memcached'`;
    chomp $mc_bin;
    ok($mc_bin, 'memcached is installed (Debian package memcached)') or skip 'no memcached', 1;
    my $dir = "$DIR/memcache";
    File::Path::make_path($dir);
    my $mport = free_port();
    my $mc = start_daemon("$dir/memcached.log", $mport, $mc_bin, '-l', '127.0.0.1',
                          '-p', $mport, '-U', '0', '-u', 'nobody', '-m', '16');
    my ($pa, $pb) = (free_port(), free_port());
    my %node;
    for my $n (['a', $pa], ['b', $pb]) {
        $node{$n->[0]} = start_apache($dir, $n->[0], node_conf(
            dir => $dir, name => $n->[0], port => $n->[1], children => 1,
            fake => $FAKE, load => 'memcache',
            extra => "MatomoMcpCache memcache:127.0.0.1:$mport\n"
                   . "MatomoMcpCacheSecret $SECRET\nMatomoMcpCacheMaxEntry 16K"), $n->[1]);
    }
    my $mark = fake_log_mark();
    my ($r1, $b1) = call_tool("http://127.0.0.1:$pa/mcp", @PAST);
    my ($r2, $b2) = call_tool("http://127.0.0.1:$pb/mcp", @PAST);
    ok(!from_cache($b1) && from_cache($b2), 'memcached: asked on node a, answered from the cache on node b');
    is(content_of($b2), content_of($b1), 'the same answer');
    is(calls_since($mark), 1, 'one Matomo call');
    is(checks_since($mark), 1, 'one token check');

    # API.getReportMetadata of site 1 is far over 16K: never stored, so
    # another question built on it asks Matomo again.
    $mark = fake_log_mark();
    my ($l1, $lb1) = call_tool("http://127.0.0.1:$pa/mcp", matomo_list_reports =>
                               { idSite => 1, search => 'entry' });
    my ($l2, $lb2) = call_tool("http://127.0.0.1:$pb/mcp", matomo_list_reports =>
                               { idSite => 1, category => 'Referrers' });
    ok(!$lb1->{result}{isError} && !$lb2->{result}{isError}, 'the report catalog is answered');
    ok(!from_cache($lb2), 'an answer over MatomoMcpCacheMaxEntry is not cached');
    is(calls_since($mark), 2, 'so each node asked Matomo');
    for my $n ('a', 'b') {
        is_deeply([error_lines("$dir/${n}_error_log")], [], "node $n: no error in the error log");
    }
    stop_apache($node{$_}) for keys %node;
    stop_daemon($mc, $mport);
}

done_testing();
