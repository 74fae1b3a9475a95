# The size budget per tool result (issue 13): the largest answers the tools
# can give, against the fake Matomo, stay under MatomoMcpResultBudget; a
# result over it keeps the first rows that fit, says has_more (and
# next_offset where the tool pages) and names in its note the arguments
# that narrow the question; never a truncated document.  The whole answers
# come from /mcp-unbudgeted (the same endpoint, a 64M budget); /mcp has the
# default, /mcp-budget-8k 8K.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;

# The default, as the module states it (src/mcp_budget.h).
my ($DEFAULT) = do {
    open my $fh, '<', "$FindBin::Bin/../src/mcp_budget.h" or die $!;
    map { /^#define MCP_DEFAULT_RESULT_BUDGET (\d+)/ ? $1 : () } <$fh>;
};
ok($DEFAULT, "the default budget: $DEFAULT bytes");

# (structuredContent or undef, error text or undef, the text block's bytes)
sub call {
    my ($path, $tool, $args) = @_;
    my $res = rpc($path, 7, 'tools/call', { name => $tool, arguments => $args });
    my $body = JSON::PP->new->utf8->decode($res->content);
    my $r = $body->{result} or return (undef, 'no result', 0);
    my $text = $r->{content}[0]{text};
    utf8::encode(my $bytes = $text);
    return (undef, $text, length $bytes) if $r->{isError};
    is_deeply(JSON::PP->new->utf8->decode($bytes), $r->{structuredContent},
              "... $path: the text is whole JSON, the same as structuredContent");
    return ($r->{structuredContent}, undef, length $bytes);
}

sub rows_of {
    my ($tool, $sc) = @_;
    return $tool eq 'matomo_visitor_log'  ? $sc->{visits}{rows}
         : $tool eq 'matomo_list_reports' ? $sc->{reports}{rows}
         :                                  $sc->{rows};
}

# The largest answers: flat page URLs over a year with every column
# (goal metrics too) at the largest limit; the visitor log at its maximum.
my @largest = (
    [ matomo_get_report => { idSite => 1, report => 'Actions_getPageUrls', period => 'year',
                             date => '2026-11-26', flat => JSON::PP::true, limit => 500 } ],
    [ matomo_visitor_log => { idSite => 1, period => 'day', date => '2026-11-26', limit => 100 } ],
    [ matomo_list_reports => { idSite => 1, limit => 200 } ],
);

for my $case (@largest) {
    my ($tool, $args) = @$case;
    my $what = "$tool " . JSON::PP->new->canonical->encode($args);
    my ($full, $ferr, $fsize) = call('/mcp-unbudgeted', $tool, $args);
    ok($full, "$what: the whole answer ($fsize bytes)") or diag($ferr), next;
    diag("$what: $fsize bytes whole");
    for my $ep ([ '/mcp', $DEFAULT ], [ '/mcp-budget-8k', 8192 ]) {
        my ($path, $budget) = @$ep;
        my ($sc, $err, $size) = call($path, $tool, $args);
        ok($sc, "$path: answered") or diag($err), next;
        cmp_ok($size, '<=', $budget, "$path: $size bytes, within the $budget-byte budget");
        my ($got, $all) = (rows_of($tool, $sc), rows_of($tool, $full));
        if ($fsize <= $budget) {
            is_deeply($sc, $full, "$path: the whole answer fits: unchanged");
            next;
        }
        cmp_ok(scalar @$got, '<', scalar @$all, "$path: fewer rows (" . scalar(@$got) . ' of ' . scalar(@$all) . ')');
        cmp_ok(scalar @$got, '>', 0, "$path: but some");
        is_deeply($got, [ @{$all}[0 .. $#$got] ], "$path: the first rows of the whole answer");
        ok($sc->{has_more}, "$path: has_more");
        is($sc->{next_offset}, ($args->{offset} // 0) + @$got, "$path: next_offset after them");
        like($sc->{note}, qr/only the first ${\ scalar @$got} of \d+ rows fit this server's result budget \($budget bytes\).*offset=next_offset.*narrow the question with limit/,
             "$path: the note says so, and names limit");
        # The rest, page by page, gives the whole answer.
        my @rows = @$got;
        my $next = $sc->{next_offset};
        my $pages = 1;
        while (defined $next && $pages < 100) {
            my ($page) = call($path, $tool, { %$args, offset => $next });
            last unless $page;
            push @rows, @{ rows_of($tool, $page) };
            $next = $page->{has_more} ? $page->{next_offset} : undef;
            $pages++;
        }
        cmp_ok(scalar @rows, '>=', scalar @$all, "$path: offset=next_offset, $pages pages, give every row");
        is_deeply([ @rows[0 .. $#$all] ], $all, "$path: ... in order");
    }
}

done_testing();
