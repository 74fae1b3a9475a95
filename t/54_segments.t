# Segments Matomo did not process (issue 13, item 2), against the fake's
# Matomo 5.1.2 with browser archiving disabled for segments
# (/matomo-unprocessed/, recorded-5.1.2-unprocessed-segment/, its INDEX.md):
# a segment never pre-processed answers zeros exactly as a segment matching
# nobody does.  Expected figures come from those recordings: December has 88
# visits without a segment (visits-month), the range 580 (range-unsegmented);
# "Desktop visitors" and "Nobody" are saved with auto_archive 1
# (segments-all).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use McpTest;

my $EP = '/mcp-unprocessed';
my $JSON = JSON::PP->new->canonical;

sub unprocessed_recording {
    my $file = Apache::Test::vars('serverroot')
             . '/matomo/recorded-5.1.2-unprocessed-segment/' . shift() . '.json';
    open my $fh, '<:raw', $file or die "cannot read $file: $!";
    my $wrap = JSON::PP->new->decode(do { local $/; <$fh> });
    return JSON::PP->new->decode($wrap->{body});
}

my %schema;
{
    my ($res, $body) = rpc_body($EP, 1, 'tools/list', {});
    $schema{ $_->{name} } = $_->{outputSchema} for @{ $body->{result}{tools} };
}

# The result, and the fake's requests it made (bulk sub-calls as text).
sub call {
    my ($tool, $args) = @_;
    my $mark = fake_log_mark();
    my ($res, $body) = rpc_body($EP, 7, 'tools/call', { name => $tool, arguments => $args });
    my @seen = tool_requests_since($mark);
    my $r = $body && $body->{result};
    return (undef, \@seen, $r ? $r->{content}[0]{text} : 'no result') if !$r || $r->{isError};
    my @errors = schema_errors($r->{structuredContent}, $schema{$tool});
    ok(!@errors, "$tool: the result is valid against its outputSchema") or diag("@errors");
    return ($r->{structuredContent}, \@seen, undef);
}

sub asked_for { my ($seen, $what) = @_; return scalar grep { $JSON->encode($_) =~ /\Q$what\E/ } @$seen }

my $NOTE = qr/this segment has not been processed for this period; ask a Matomo admin to enable pre-processing for it/;
my $month = unprocessed_recording('visits-month');
my $range = unprocessed_recording('range-unsegmented');

# --- never processed: flagged ------------------------------------------------
for my $case (
    [ 'December, LIN (not saved)', { period => 'month', date => '2026-12-04' },
      'visits-month-adhoc-unprocessed', $month->{nb_visits} ],
    [ 'a range, LIN (not saved)', { period => 'range', date => '2026-11-13,2026-12-03' },
      'range-adhoc-unprocessed', $range->{nb_visits} ],
) {
    my ($what, $when, $file, $visits) = @$case;
    my $zeros = unprocessed_recording($file);
    ok(!grep({ $_ != 0 } values %$zeros), "$what: Matomo answered only zeros ($file)");
    my ($sc, $seen, $err) = call(matomo_traffic_summary => {
        idSite => 1, %$when, segment => 'operatingSystemCode==LIN' });
    ok(!$err, "$what: answered") or diag($err), next;
    is($sc->{metrics}{nb_visits}, 0, "$what: the figures are Matomo's zeros, as they came")
        or diag($JSON->encode($sc));
    note("note: " . ($sc->{note} // "")) if $sc;
    like($sc->{note} // '', $NOTE, "$what: the note says the segment was not processed");
    like($sc->{note} // '', qr/has \Q$visits\E visits without it/,
         "$what: ... beside the $visits visits of the period without the segment");
    ok(asked_for($seen, 'SegmentEditor.getAll'), "$what: the module asked for the saved segments");
}

# --- pre-processed and matching nobody: a real zero, not flagged ------------
{
    my $what = 'December, browserCode==ZZ (saved "Nobody", auto_archive 1)';
    my ($sc, $seen, $err) = call(matomo_traffic_summary => {
        idSite => 1, period => 'month', date => '2026-12-04', segment => 'browserCode==ZZ' });
    ok(!$err, "$what: answered") or diag($err);
    is($sc && $sc->{metrics}{nb_visits}, 0, "$what: zero visits");
    unlike(($sc && $sc->{note}) // '', qr/not been processed/, "$what: not flagged");
    ok(asked_for($seen, 'SegmentEditor.getAll'), "$what: decided from the saved segments");
}

# --- a segment with figures: no extra question at all -----------------------
{
    my $what = 'December, deviceType==desktop (pre-processed)';
    my $want = unprocessed_recording('visits-month-saved-processed')->{nb_visits};
    my ($sc, $seen, $err) = call(matomo_traffic_summary => {
        idSite => 1, period => 'month', date => '2026-12-04', segment => 'deviceType==desktop' });
    ok(!$err, "$what: answered") or diag($err);
    is($sc && $sc->{metrics}{nb_visits}, $want, "$what: $want visits (the recording's)");
    unlike(($sc && $sc->{note}) // '', qr/not been processed/, "$what: not flagged");
    ok(!asked_for($seen, 'SegmentEditor.getAll'), "$what: no extra round trip");
}

# --- no segment: never checked ------------------------------------------------
{
    my ($sc, $seen, $err) = call(matomo_traffic_summary => {
        idSite => 1, period => 'month', date => '2026-12-04' });
    ok(!$err, 'December without a segment: answered') or diag($err);
    is($sc && $sc->{metrics}{nb_visits}, $month->{nb_visits}, "... $month->{nb_visits} visits");
    ok(!asked_for($seen, 'SegmentEditor.getAll'), '... no extra round trip');
}

done_testing();
