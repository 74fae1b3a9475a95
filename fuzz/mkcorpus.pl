#!/usr/bin/env perl
# Writes the seed corpora of the fuzz targets under fuzz/corpus/ (checked
# in; run again after a tool or a recording changes, then review the diff):
#
#   perl fuzz/mkcorpus.pl        (after `make fuzz-build`)
#
#   jsonrpc/  MCP messages: every method, every tool with the sample
#             arguments of t/tools/samples.json and with bad ones, and
#             malformed messages.
#   schema/   a tool index byte + arguments, valid and invalid, per tool.
#   answer/   Matomo answer bodies from t/matomo/recorded/ (the small ones)
#             and the ImageGraph.get answers of recorded-imagegraph/ (PNGs
#             and their errors), "NNN\n" first when the status is not 200.
#   tools/    a message + the Matomo answers its calls get: each call the
#             fuzz_tools binary asks for (FUZZ_TRACE) is answered by the
#             fake Matomo's own code (t/lib/FakeMatomo) as the superuser,
#             or as another user where a seed says so.
#
# @TOKEN_AUTH@ in a recording becomes the token the targets use
# (FUZZ_TOKEN in fuzz/fuzz.h, the superuser's).
use strict;
use warnings;
use FindBin;
use File::Path qw(make_path remove_tree);
use JSON::PP ();

my $ROOT;
BEGIN { $ROOT = "$FindBin::Bin/.." }
use lib "$ROOT/t/lib";
use FakeMatomo::Api;
use FakeMatomo::Auth;
use FakeMatomo::Params;

my $OUT  = "$ROOT/fuzz/corpus";
my $HOME = "$ROOT/t/matomo";
my $SEP  = "\n--\n";
my $JSON = JSON::PP->new->canonical;
my $tokens = read_json("$HOME/tokens.json");
my $TOKEN = $tokens->{superuser};
my $samples = read_json("$ROOT/t/tools/samples.json");
my @TOOLS = tool_order();

sub read_json {
    my ($file) = @_;
    open my $fh, '<:raw', $file or die "$file: $!\n";
    return JSON::PP->new->decode(do { local $/; <$fh> });
}

sub write_seed {
    my ($dir, $name, $bytes) = @_;
    make_path("$OUT/$dir");
    $name =~ s/[^A-Za-z0-9_.-]+/_/g;
    open my $fh, '>:raw', "$OUT/$dir/$name" or die "$OUT/$dir/$name: $!\n";
    print $fh $bytes;
    close $fh;
}

# The catalog's order (src/mcp_catalog.c): fuzz_schema's first byte.
sub tool_order {
    open my $fh, '<', "$ROOT/src/mcp_catalog.c" or die $!;
    my %name = map { $_ => "matomo_$_" } qw(list_sites sites_overview traffic_summary
        list_reports get_report get_trend list_goals list_segments visitor_log
        page_performance tracking_health annotations);
    my @order;
    while (<$fh>) {
        push @order, $name{$1} // die "unknown tool $1\n" if /&mcp_tool_(\w+),/;
    }
    die "no tools in src/mcp_catalog.c\n" unless @order;
    for (@order) { die "no samples for $_\n" unless $samples->{$_} }
    return @order;
}

sub rpc {
    my ($id, $method, $params) = @_;
    my %m = (jsonrpc => '2.0', method => $method);
    $m{id} = $id if defined $id;
    $m{params} = $params if defined $params;
    return $JSON->encode(\%m);
}

# --- jsonrpc --------------------------------------------------------------

sub jsonrpc_seeds {
    my %s = (
        'initialize' => rpc(1, 'initialize', { protocolVersion => '2025-11-25',
            capabilities => {}, clientInfo => { name => 'fuzz', version => '1' } }),
        'initialize-old' => rpc(1, 'initialize', { protocolVersion => '2024-11-05',
            capabilities => { roots => { listChanged => JSON::PP::true } },
            clientInfo => { name => 'x', version => '0' } }),
        'initialize-noversion' => rpc('a', 'initialize', {}),
        'initialized' => rpc(undef, 'notifications/initialized'),
        'cancelled' => rpc(undef, 'notifications/cancelled', { requestId => 3, reason => 'x' }),
        'ping' => rpc(7, 'ping'),
        'ping-string-id' => rpc('req-1', 'ping', {}),
        'tools-list' => rpc(2, 'tools/list'),
        'tools-list-cursor' => rpc(2, 'tools/list', { cursor => 'bogus' }),
        'tools-list-cursor-type' => rpc(2, 'tools/list', { cursor => 5 }),
        'resources-list' => rpc(3, 'resources/list'),
        'resources-templates' => rpc(3, 'resources/templates/list'),
        'resources-read' => rpc(3, 'resources/read', { uri => 'matomo://sites/1' }),
        'resources-read-reports' => rpc(3, 'resources/read', { uri => 'matomo://sites/2/reports' }),
        'resources-read-segments' => rpc(3, 'resources/read', { uri => 'matomo://sites/1/segments' }),
        'resources-read-bad' => rpc(3, 'resources/read', { uri => 'matomo://sites/01/x' }),
        'resources-read-nouri' => rpc(3, 'resources/read', {}),
        'prompts-list' => rpc(4, 'prompts/list'),
        'prompts-get-nope' => rpc(4, 'prompts/get', { name => 'nope' }),
        'prompts-get-noargs' => rpc(4, 'prompts/get', { name => 'matomo_technical_checks' }),
        'prompts-get-badsite' => rpc(4, 'prompts/get', { name => 'matomo_technical_checks',
            arguments => { idSite => '1;x' } }),
        'complete-period' => rpc(5, 'completion/complete', {
            ref => { type => 'ref/prompt', name => 'matomo_traffic_exploration' },
            argument => { name => 'period', value => 'm' } }),
        'complete-date' => rpc(5, 'completion/complete', {
            ref => { type => 'ref/prompt', name => 'matomo_report_interpretation' },
            argument => { name => 'date', value => 'last' } }),
        'complete-site' => rpc(5, 'completion/complete', {
            ref => { type => 'ref/resource', uri => 'matomo://sites/{idSite}' },
            argument => { name => 'idSite', value => '1' } }),
        'complete-report' => rpc(5, 'completion/complete', {
            ref => { type => 'ref/prompt', name => 'matomo_report_interpretation' },
            argument => { name => 'report', value => 'Ref' },
            context => { arguments => { idSite => '1' } } }),
        'complete-dimension' => rpc(5, 'completion/complete', {
            ref => { type => 'ref/prompt', name => 'matomo_segment_analysis' },
            argument => { name => 'dimension', value => 'dev' },
            context => { arguments => { idSite => '2' } } }),
        'complete-bad' => rpc(5, 'completion/complete', { ref => {} }),
        'set-level' => rpc(6, 'logging/setLevel', { level => 'warning' }),
        'set-level-bad' => rpc(6, 'logging/setLevel', { level => 'loud' }),
        'unknown-method' => rpc(8, 'sampling/createMessage', {}),
        'tools-call-unknown' => rpc(9, 'tools/call', { name => 'nope', arguments => {} }),
        'tools-call-noname' => rpc(9, 'tools/call', { arguments => {} }),
        'tools-call-args-array' => rpc(9, 'tools/call', { name => 'matomo_list_sites', arguments => [] }),
        'response' => '{"jsonrpc":"2.0","id":3,"result":{}}',
        'error-response' => '{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"x"}}',
        'malformed-open' => '{',
        'malformed-batch' => '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
        'batch-mixed' => '[{"jsonrpc":"2.0","id":1,"method":"ping"},'
            . '{"jsonrpc":"2.0","method":"notifications/initialized"},'
            . '{"jsonrpc":"2.0","id":"t","method":"tools/list"},7,[],'
            . '{"jsonrpc":"2.0","id":2,"method":"initialize","params":{}},'
            . '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"matomo_list_sites","arguments":{}}}]',
        'batch-notifications' => '[{"jsonrpc":"2.0","method":"notifications/initialized"},'
            . '{"jsonrpc":"2.0","id":3,"result":{}}]',
        'batch-empty' => '[]',
        'malformed-version' => '{"jsonrpc":"1.0","id":4,"method":"ping"}',
        'malformed-id-float' => '{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
        'malformed-id-null' => '{"jsonrpc":"2.0","id":null,"method":"ping"}',
        'malformed-method-nul' => '{"jsonrpc":"2.0","id":1,"method":"pi\u0000ng"}',
        'malformed-params-array' => '{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}',
        'malformed-trailing' => '{"jsonrpc":"2.0","id":1,"method":"ping"} {',
        'malformed-utf8' => qq({"jsonrpc":"2.0","id":1,"method":"p\xc3\x28"}),
        'malformed-deep' => ('[' x 40) . (']' x 40),
        'malformed-escapes' => '{"jsonrpc":"2.0","id":"\ud83d\ude00","method":"ping","params":{"_meta":{"progressToken":"\u00e9\/"}}}',
        'scalar' => '42',
    );
    for my $tool (@TOOLS) {
        my $n = 0;
        for my $args (@{ $samples->{$tool} }) {
            $s{"call-$tool-" . $n++} = rpc(10 + $n, 'tools/call', { name => $tool, arguments => $args });
        }
        $s{"call-$tool-noargs"} = rpc(20, 'tools/call', { name => $tool });
        $s{"call-$tool-extra"} = rpc(21, 'tools/call', { name => $tool,
            arguments => { %{ $samples->{$tool}[0] }, token_auth => 'x' } });
        $s{"call-$tool-types"} = rpc(22, 'tools/call', { name => $tool,
            arguments => { map { $_ => ref $samples->{$tool}[0]{$_} ? 'x' : [1] } keys %{ $samples->{$tool}[0] } } });
    }
    for my $p (qw(matomo_traffic_exploration matomo_report_interpretation
                  matomo_segment_analysis matomo_technical_checks)) {
        $s{"prompts-get-$p"} = rpc(4, 'prompts/get', { name => $p,
            arguments => { idSite => '3', period => 'week' } });
    }
    write_seed('jsonrpc', $_, $s{$_}) for keys %s;
    return scalar keys %s;
}

# --- schema ---------------------------------------------------------------

sub schema_seeds {
    my $count = 0;
    for my $i (0 .. $#TOOLS) {
        my $tool = $TOOLS[$i];
        my @args = @{ $samples->{$tool} };
        my $first = $args[0];
        push @args, {}, { %$first, nope => 1 },
            { map { $_ => (ref $first->{$_} || $first->{$_} !~ /^\d+$/ ? 0 : 'x') } keys %$first },
            { map { $_ => ('x' x 300) } keys %$first },
            { map { $_ => -1 } keys %$first };
        my $n = 0;
        for my $a (@args) {
            write_seed('schema', sprintf('%s-%d', $tool, $n++), chr($i) . $JSON->encode($a));
            $count++;
        }
    }
    write_seed('schema', 'none', chr(0) . 'null');
    write_seed('schema', 'array', chr(2) . '[1]');
    return $count + 2;
}

# --- answer ---------------------------------------------------------------

sub recorded_body {
    my ($rec) = @_;
    (my $body = $rec->{body}) =~ s/\@TOKEN_AUTH\@/$TOKEN/g;
    return ($rec->{status} == 200 ? '' : "$rec->{status}\n") . $body;
}

sub answer_seeds {
    my $count = 0;
    for my $file (sort glob "$HOME/recorded/*.json") {
        my $rec = read_json($file);
        my $bytes = recorded_body($rec);
        next if length($bytes) > 12000;
        (my $name = $file) =~ s{.*/}{};
        write_seed('answer', $name, $bytes);
        $count++;
    }
    # Charts: the small PNGs and the error answers.
    require MIME::Base64;
    for my $file (sort glob "$HOME/recorded-imagegraph/*.json") {
        my $rec = read_json($file);
        my $bytes = ($rec->{status} == 200 ? '' : "$rec->{status}\n")
                  . MIME::Base64::decode_base64($rec->{body_base64});
        next if length($bytes) > 12000;
        (my $name = $file) =~ s{.*/}{imagegraph-};
        write_seed('answer', $name, $bytes);
        $count++;
    }
    # What no recording shows: answers that echo the token elsewhere.
    my %extra = (
        'token-in-value' => qq({"url":"https://m.test/?token_auth=$TOKEN&x=1","ok":1}),
        'token-in-array' => qq([["$TOKEN",1],{"a":["x","y $TOKEN"]}]),
        'token-error' => qq({"result":"error","message":"bad token_auth=$TOKEN here"}),
        'token-401' => qq(401\n{"result":"error","message":"no access for $TOKEN"}),
        'html-401' => "401\n<html><body>Error: token</body></html>",
        'http-500' => "500\n<h1>Internal Server Error</h1>",
        'empty' => '',
        'truncated' => '[{"label":"a","nb_visits":3},{"lab',
    );
    write_seed('answer', $_, $extra{$_}) for keys %extra;
    return $count + keys %extra;
}

# --- tools ----------------------------------------------------------------

my ($API, $AUTH);

sub matomo_answer {
    my ($form, $who) = @_;
    $API //= FakeMatomo::Api->new(home => $HOME);
    $AUTH //= FakeMatomo::Auth->new(home => $HOME,
        bad_token_page => $API->store->recording('err-bad-token.json')->{body});
    my $token = $who eq 'bad' ? '0' x 32 : $tokens->{$who};
    my $auth = $AUTH->authenticate(post_token => $token);
    my $res = $auth->{error} // $API->process(FakeMatomo::Params->from_string($form), $auth->{user});
    (my $body = $res->{body}) =~ s/\@TOKEN_AUTH\@/$TOKEN/g;
    return ($res->{status} == 200 ? '' : "$res->{status}\n") . $body;
}

# Runs the message through fuzz_tools until no call lacks an answer.
sub with_answers {
    my ($msg, $who) = @_;
    my $bin = "$ROOT/fuzz/build/fuzz_tools";
    die "$bin is missing: run make fuzz-build first\n" unless -x $bin;
    my $input = $msg;
    for (1 .. 20) {
        my $tmp = "$OUT/.seed.tmp";
        open my $fh, '>:raw', $tmp or die $!;
        print $fh $input;
        close $fh;
        my $trace = `FUZZ_TRACE=1 $bin $tmp 2>&1`;
        unlink $tmp;
        die "fuzz_tools failed on a seed:\n$trace\n" if $?;
        my ($need) = $trace =~ /^NEED (.*)$/m;
        return $input unless defined $need;
        $input .= $SEP . matomo_answer($need, $who);
    }
    die "more than 20 calls for $msg\n";
}

sub tools_seeds {
    my @seeds;
    for my $tool (@TOOLS) {
        my $n = 0;
        for my $args (@{ $samples->{$tool} }) {
            push @seeds, ["$tool-" . $n++, rpc(1, 'tools/call', { name => $tool, arguments => $args }), 'superuser'];
        }
        # Site 1 as the viewer (site 2 only): Matomo's 401 JSON.
        my ($one) = grep { ($_->{idSite} // 0) == 1 } @{ $samples->{$tool} };
        push @seeds, ["$tool-viewer", rpc(1, 'tools/call', { name => $tool, arguments => $one }), 'viewer']
            if $one;
    }
    push @seeds,
        ['list-sites-bad-token', rpc(1, 'tools/call', { name => 'matomo_list_sites', arguments => {} }), 'bad'],
        (map { ["resources-read-$_->[0]", rpc(2, 'resources/read', { uri => $_->[1] }), 'superuser'] }
            ['site', 'matomo://sites/1'], ['reports', 'matomo://sites/1/reports'],
            ['segments', 'matomo://sites/2/segments'], ['viewer-site', 'matomo://sites/2']),
        ['resources-list', rpc(2, 'resources/list'), 'superuser'],
        ['resources-list-viewer', rpc(2, 'resources/list'), 'viewer'],
        ['complete-site', rpc(3, 'completion/complete', {
            ref => { type => 'ref/prompt', name => 'matomo_technical_checks' },
            argument => { name => 'idSite', value => 'D' } }), 'superuser'],
        ['complete-report', rpc(3, 'completion/complete', {
            ref => { type => 'ref/prompt', name => 'matomo_report_interpretation' },
            argument => { name => 'report', value => 'Ref' },
            context => { arguments => { idSite => '1' } } }), 'superuser'],
        ['complete-dimension', rpc(3, 'completion/complete', {
            ref => { type => 'ref/prompt', name => 'matomo_segment_analysis' },
            argument => { name => 'dimension', value => '' },
            context => { arguments => { idSite => '1' } } }), 'superuser'];
    for my $s (@seeds) {
        my ($name, $msg, $who) = @$s;
        write_seed('tools', $name, with_answers($msg, $who));
    }
    return scalar @seeds;
}

remove_tree("$OUT/$_") for qw(jsonrpc schema answer tools);
printf "%-8s %d seeds\n", 'jsonrpc', jsonrpc_seeds();
printf "%-8s %d seeds\n", 'schema', schema_seeds();
printf "%-8s %d seeds\n", 'answer', answer_seeds();
printf "%-8s %d seeds\n", 'tools', tools_seeds();
