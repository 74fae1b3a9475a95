# The MCP App view (ui://matomo/chart) in a real headless browser: runs
# t/js/app.test.mjs under `node --test`, which reads the view and two tool
# results from this server, shows them in Debian's chromium through a small
# MCP Apps host (t/js/app-host.html), checks what the view draws against
# the results, every bridge message against the extension's JSON Schema, and
# that nothing but the host page and the view was fetched; the screenshots
# stay in t/logs/app-*.png.  Chromium comes from `make deps` (Debian's
# package): missing, this fails, it is not skipped.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use MatomoMcp::Clients qw(top_dir node_test);

my $top = top_dir();
ok(-x '/usr/bin/chromium', 'Debian\'s chromium is installed') or diag('run `make deps`');
ok(-f "$top/node_modules/\@modelcontextprotocol/ext-apps/dist/src/generated/schema.json",
   '@modelcontextprotocol/ext-apps (its JSON Schema) is installed') or diag('run `make deps` (npm ci)');

# 7 tests in the node file.
node_test(tag => 'app', script => 't/js/app.test.mjs', min_pass => 7, timeout => 240,
          test_timeout => 180000);

done_testing();
