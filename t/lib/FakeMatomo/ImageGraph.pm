package FakeMatomo::ImageGraph;
# ImageGraph.get: Matomo's PNG charts, answered from the PNGs a real
# Matomo 5.1.2 drew (t/matomo/recorded-imagegraph/, copied from the shared
# reference set; its INDEX.md lists them).  Never a picture drawn here.
#
# Those PNGs come from another data set than t/matomo/recorded/ (the one of
# the Matomo 4.16.1 recordings: "today" 2026-12-04, other numbers), so no
# request of the 5.1.2 mounts could ever match one by its exact identity
# (date=last30 resolves to other days).  They are matched by shape instead:
# what decides what a picture looks like, not which days it shows.
#
#   site          idSite, as it is (sites 1, 2, 3 have the same roles in
#                 both data sets: a shop with goals, a blog, an empty site)
#   report        apiModule, apiAction, idGoal, idSubtable, idDimension
#   metric        columns; none means Matomo's default, nb_visits
#                 (ImageGraph\API::get: DEFAULT_ORDINATE_METRIC when the
#                 report has it), so columns=nb_visits is the same picture
#   segment       decoded as FakeMatomo::Store compares segments
#   picture       graphType, width, height and every other drawing
#                 parameter sent (labels, showLegend, colors, fontSize, ...)
#   period shape  the period, and how many of them: several periods (lastN,
#                 previousN, A,B with period=day...) match the same period
#                 and the same count, as each is one point of an evolution
#                 graph; one period (today, a date) matches one period of
#                 the same kind, and a range any range, as a bar or pie
#                 chart shows one total whatever the days
#
# A shape that was not recorded gets the fake's "no recorded answer" error
# (FakeMatomo::Api), never a picture of something else.  The pictures show
# data set 2's numbers and dates: tests compare their bytes with the
# recording, not with the JSON answers of the same mount.
#
# Renderer errors (an unknown report or graph type) were recorded as Matomo
# sends them, HTTP 200 image/png with the message drawn in: the same shape
# gets those bytes.  Access errors are not read from here: FakeMatomo::Api
# checks access as for any method, and its XML error (no format sent means
# XML) is byte for byte the recorded 401 (t/30_fake_matomo.t shows it).
use strict;
use warnings;
use File::Basename qw(basename);
use JSON::PP ();
use MIME::Base64 ();
use FakeMatomo::Params;
use FakeMatomo::Dates;

use constant PNG_TYPE => 'image/png';

# ImageGraph.get's own parameters (api-methods-5.1.2.json) that draw the
# picture; those the shape reads its own way are left out.  Anything else
# (token, format, generic filters) is not part of a shape.
my @DRAWING = qw(
    apiModule apiAction graphType outputType labels showLegend width height
    fontSize legendFontSize aliasedGraph idGoal colors textColor
    backgroundColor gridColor idSubtable legendAppendMetric idDimension
);

sub new {
    my ($class, %opt) = @_;
    my $dir = "$opt{home}/recorded-imagegraph";
    my @files = sort glob("$dir/*.json");
    die "fake Matomo: no ImageGraph recordings under $dir\n" unless @files;
    my $self = bless { by_shape => {}, recordings => [] }, $class;
    for my $path (@files) {
        open my $fh, '<:raw', $path or die "fake Matomo: cannot read $path: $!\n";
        my $wrap = JSON::PP->new->decode(do { local $/; <$fh> });
        # Only pictures answer; the recorded access errors are what
        # FakeMatomo::Api answers by itself.
        next unless $wrap->{status} == 200 && $wrap->{content_type} eq PNG_TYPE;
        my $params = FakeMatomo::Params->from_pairs($wrap->{params});
        my $shape = shape($params);
        die "fake Matomo: $path: $shape->{error}\n" if $shape->{error};
        my $rec = { file => basename($path), shape => $shape->{key}, params => $params,
                    body => MIME::Base64::decode_base64($wrap->{body_base64}) };
        push @{ $self->{recordings} }, $rec;
        # The viewer's picture of site 2 is the superuser's, byte for byte:
        # who asked does not decide a picture, access does (checked before).
        $self->{by_shape}{ $shape->{key} } //= $rec;
    }
    return $self;
}

# The PNG answer for a request whose access was checked, or undef.
sub answer {
    my ($self, $req) = @_;
    my $shape = shape($req);
    return undef if $shape->{error};
    my $rec = $self->{by_shape}{ $shape->{key} } or return undef;
    return { status => 200, ctype => PNG_TYPE, body => $rec->{body},
             answer => 'shape', recording => $rec->{file} };
}

# What was recorded, for the "no recorded answer" message.
sub recorded_shapes { my ($self) = @_; return map { $_->{params} } @{ $self->{recordings} } }

# { key => ... } or { error => Matomo's message for the period or date }.
sub shape {
    my ($p) = @_;
    my ($period, $date) = ($p->get('period') // '', $p->get('date') // '');
    my $spec = FakeMatomo::Dates::normalize($period, $date);
    return { error => $spec->{error} } if $spec->{error};
    my $when = $spec->{kind} eq 'multi' ? "$spec->{period} x" . scalar @{ $spec->{keys} }
             : $spec->{kind} eq 'range' ? 'range'
             : "one $spec->{period}";
    my $columns = $p->get('columns') // '';
    $columns = '' if $columns eq 'nb_visits';
    my $segment = $p->get('segment') // '';
    $segment = FakeMatomo::Params::url_decode($segment)
        if $segment =~ /%[0-9A-Fa-f]{2}/ && $segment !~ /[=!<>]/;
    my @rest = map { "$_=" . $p->get($_) } grep { ($p->get($_) // '') ne '' } @DRAWING;
    return { key => join("\x1f", 'site=' . ($p->get('idSite') // ''), "when=$when",
                         "columns=$columns", "segment=$segment", @rest) };
}

1;
