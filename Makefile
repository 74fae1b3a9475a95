# mod_matomo_mcp — build, run, test.
#
#   make            build .libs/mod_matomo_mcp.so
#   make run        serve /mcp on 127.0.0.1:$(PORT) (MATOMO_URL=… for a real Matomo)
#   make test       install what is missing, build, run every suite
#                   (TESTS="t/13_gateway.t ..." runs only those)
#   make soak       60 s of mixed good and bad requests at 64 connections
#                   while the fake Matomo misbehaves (SOAK_SECONDS=…)
#   make install    install the module with apxs (DESTDIR-aware)
#   make bench      the benchmarks of the README's "Performance" section:
#                   ratios against a static file, a direct Matomo call and
#                   the TypeScript SDK, and RSS per child (bench/results.md)

APXS      ?= apxs
PKGS      := libcurl json-c
PORT      ?= 8080

# The strict set httpd's maintainer mode and mod_h2 use, plus -Werror.
WARNINGS  := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
             -Wmissing-declarations -Wdeclaration-after-statement \
             -Wpointer-arith -Wformat=2 -Wformat-security -Wshadow \
             -Wcast-align -Wwrite-strings -Wundef -Wvla
CFLAGS_EXTRA ?=
LDFLAGS_EXTRA ?=

# (Apache::Test waits up to 300 s for the server: a sanitizer build loading
# the fake Matomo's recordings starts slowly on a busy machine.)
#
# make test SANITIZE=1: module and unit tests built with AddressSanitizer
# and UndefinedBehaviorSanitizer; httpd gets the runtimes preloaded, and a
# report lands in t/logs/error_log, which t/99_error_log.t fails on.
ifeq ($(SANITIZE),1)
SAN_FLAGS     := -fsanitize=address,undefined -fno-omit-frame-pointer
CFLAGS_EXTRA  += $(SAN_FLAGS) -fno-sanitize-recover=undefined
LDFLAGS_EXTRA += $(SAN_FLAGS)
SAN_ENV       := LD_PRELOAD="$$(gcc -print-file-name=libasan.so):$$(gcc -print-file-name=libubsan.so)" \
                 ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1
endif

# The MCP App's page (src/app/chart.html) becomes C by src/app/embed-app,
# which refuses a page that could fetch anything.
APP_HTML_C := build/app_chart.c
CORE_SRC  := src/mcp_json.c src/mcp_jsonrpc.c src/mcp_server.c src/mcp_tools.c \
             src/mcp_auth.c src/mcp_matomo.c src/mcp_schema.c \
             src/mcp_shape.c src/mcp_catalog.c src/mcp_period.c \
             src/mcp_toolkit.c src/tool_sites.c src/tool_traffic.c \
             src/tool_reports.c src/tool_context.c src/tool_health.c \
             src/mcp_resources.c src/mcp_prompts.c src/mcp_era.c \
             src/mcp_guard.c src/mcp_throttle.c src/mcp_apps.c $(APP_HTML_C)
HTTPD_SRC := src/mod_matomo_mcp_config.c src/mod_matomo_mcp_transport.c
SOURCES   := mod_matomo_mcp.c $(HTTPD_SRC) $(CORE_SRC)
HEADERS   := $(wildcard src/*.h)
MODULE    := .libs/mod_matomo_mcp.so

SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PKGS  := apache2 apache2-dev libapache2-mod-perl2 libcurl4-openssl-dev \
             libjson-c-dev libapr1-dev libaprutil1-dev pkg-config gcc make
# Only the suite needs these: the browser that shows the MCP App
# (t/52_app.t, over its DevTools pipe, no other driver) and a font for it.
TEST_DEB_PKGS := chromium fonts-dejavu-core

# The httpd-free core is also built alone, without httpd's include path:
# that is what keeps it free of httpd.
UNIT_BIN  := t/unit/core_tests
CORE_CFLAGS = $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null) \
              $(shell apu-1-config --includes 2>/dev/null) \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CORE_LIBS = $(shell apu-1-config --link-ld 2>/dev/null) \
            $(shell apr-1-config --link-ld --libs 2>/dev/null) \
            $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Apache::Test: a hermetic server (only t/conf/base.conf is inherited) on a
# free port; as root the children run as www-data.
TEST_USER := $(shell [ "$$(id -u)" = 0 ] && echo "-user www-data -group www-data")
TEST_ARGS = -apxs $(shell command -v $(APXS)) \
             -httpd_conf $(CURDIR)/t/conf/base.conf -port select $(TEST_USER)

.PHONY: all install run test soak bench deps clean FORCE

all: $(MODULE)

# Rebuild when the extra flags change (a sanitizer build and a plain one).
.build-flags: FORCE
	@echo '$(CFLAGS_EXTRA) $(LDFLAGS_EXTRA)' | cmp -s - $@ 2>/dev/null || \
	    echo '$(CFLAGS_EXTRA) $(LDFLAGS_EXTRA)' > $@

FORCE:

$(MODULE): $(SOURCES) $(HEADERS) Makefile .build-flags
	@echo "  APXS  $@"
	@$(APXS) -c -o mod_matomo_mcp.la \
	    $(foreach f,$(WARNINGS) -fvisibility=hidden $(CFLAGS_EXTRA),-Wc,$(f)) \
	    $(shell pkg-config --cflags $(PKGS)) \
	    $(foreach f,$(LDFLAGS_EXTRA),-Wl,$(f)) \
	    $(shell pkg-config --libs $(PKGS)) $(SOURCES) >.build.log 2>&1 || \
	    { cat .build.log; rm -f .build.log; exit 1; }
	@rm -f .build.log

$(APP_HTML_C): src/app/chart.html src/app/embed-app
	@mkdir -p $(@D)
	@echo "  EMBED $@"
	@perl src/app/embed-app $@ src/app/chart.html

$(UNIT_BIN): t/unit/core_tests.c $(CORE_SRC) $(HEADERS) Makefile .build-flags
	@echo "  CC    $@"
	@$(CC) $(WARNINGS) -g -O1 $(CFLAGS_EXTRA) $(CORE_CFLAGS) -o $@ \
	    t/unit/core_tests.c $(CORE_SRC) $(CORE_LIBS) $(LDFLAGS_EXTRA)

# Installs what a fresh Debian 12 lacks: Debian packages system-wide, npm
# packages (MCP SDK, conformance suite, Node 22) into ./node_modules.
# $(call apt_install,PACKAGES): installs those of PACKAGES that are missing.
define apt_install
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(DEB_PKGS) $(if $(shell command -v node),,nodejs npm))
	@if [ -f package-lock.json ] && \
	    ! [ node_modules/.package-lock.json -nt package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error; \
	fi

test: deps
	$(call apt_install,$(TEST_DEB_PKGS))
	@$(MAKE) --no-print-directory all $(UNIT_BIN) SANITIZE=$(SANITIZE)
	@$(if $(TEST_USER),t/bin/grant-www-data)
	@perl t/TEST.PL -clean >/dev/null 2>&1
	APACHE_TEST_STARTUP_TIMEOUT=300 $(SAN_ENV) perl t/TEST.PL $(TEST_ARGS) $(TESTS)

# make soak: t/bin/soak starts the module's Apache and the fake Matomo's
# (both on loopback, in ./soak/), runs wrk for SOAK_SECONDS at
# SOAK_CONNECTIONS, and checks: no crashed child, no 5xx, every answer as
# its request kind expects, no leak (heap in use per child flat), RSS per
# child bounded, still serving at the end.
# SANITIZE=1 as for make test (the preload goes to the module's Apache).
SOAK_SECONDS     ?= 60
SOAK_CONNECTIONS ?= 64
soak:
	$(call apt_install,$(DEB_PKGS) wrk)
	@$(MAKE) --no-print-directory all t/bin/heap-probe.so SANITIZE=$(SANITIZE)
	@$(if $(TEST_USER),t/bin/grant-www-data)
	$(SAN_ENV) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CONNECTIONS=$(SOAK_CONNECTIONS) t/bin/soak

# The soak's heap probe, preloaded into its Apache (see t/bin/heap-probe.c).
t/bin/heap-probe.so: t/bin/heap-probe.c
	@echo "  CC    $@"
	@$(CC) $(WARNINGS) -O2 -shared -fPIC -o $@ $< -lpthread

run: deps
	@$(MAKE) --no-print-directory all
	@PORT=$(PORT) t/bin/serve

# make bench: the load tool (wrk) from Debian, besides what make test
# needs; the fast Matomo (bench/fast-matomo.c, libc only, built with the
# module's warnings); then bench/run, a few minutes on a 2-core machine.
BENCH_PKGS   := wrk
FAST_MATOMO  := bench/build/fast-matomo

$(FAST_MATOMO): bench/fast-matomo.c Makefile
	@mkdir -p $(@D)
	@echo "  CC    $@"
	@$(CC) -std=gnu99 $(WARNINGS) -O2 -g -o $@ $<

bench: deps
	$(call apt_install,$(BENCH_PKGS))
	@$(MAKE) --no-print-directory all $(FAST_MATOMO)
	@$(if $(TEST_USER),t/bin/grant-www-data)
	@APXS=$(APXS) bench/run

# apxs has no DESTDIR: move its LIBEXECDIR under DESTDIR instead.
install: $(MODULE)
	@mkdir -p "$(DESTDIR)$$($(APXS) -q LIBEXECDIR)"
	$(APXS) -i -S LIBEXECDIR="$(DESTDIR)$$($(APXS) -q LIBEXECDIR)" \
	    -n matomo_mcp mod_matomo_mcp.la

clean:
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs .build-flags build \
	    t/unit/core_tests t/bin/heap-probe.so soak bench/build
	-[ -f t/TEST.PL ] && perl t/TEST.PL -clean >/dev/null 2>&1 || true

# --- fuzzing -------------------------------------------------------------
#
#   make fuzz       build the libFuzzer targets of fuzz/ (clang from Debian,
#                   AddressSanitizer + UndefinedBehaviorSanitizer, leak
#                   detection) and run each for FUZZ_SECONDS (default 60);
#                   fails on any crash, leak, timeout or oracle failure.
#                   New inputs go to fuzz/work/<target>/, crash inputs to
#                   fuzz/artifacts/ (both ignored by git).
#   make fuzz-ci    the same, 20 s per target (CI).
#   make fuzz-merge minimise fuzz/work/<target>/ into the checked-in seeds.
#
# Only the httpd-free core is fuzzed: CORE_SRC, built by clang with the
# core's flags and warnings.  fuzz_tools replaces mcp_server.c's two Matomo
# entry points with a test double (see fuzz/fuzz_tools.c), so it builds
# every core file but that one, which it includes itself.
FUZZ_CC       ?= clang-14
FUZZ_PKGS     := clang-14 libclang-rt-14-dev libcurl4-openssl-dev \
                 libjson-c-dev libapr1-dev libaprutil1-dev pkg-config
FUZZ_SECONDS  ?= 60
FUZZ_RSS_MB   ?= 2048
FUZZ_TARGETS  := jsonrpc schema answer tools
FUZZ_BINS     := $(FUZZ_TARGETS:%=fuzz/build/fuzz_%)
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
# clang's -Wcast-align fires on every APR_ARRAY_IDX (gcc's checks only
# strict-alignment targets): left out here, kept in the gcc builds.
FUZZ_CFLAGS   := $(filter-out -Wcast-align,$(WARNINGS)) -g -O1 $(FUZZ_SAN) \
                 -fsanitize=fuzzer-no-link
FUZZ_LDFLAGS  := $(FUZZ_SAN) -fsanitize=fuzzer
# Longest input per target: MCP messages and tool arguments are small;
# Matomo answers and a message with its answers (seeds up to ~128 KB) not.
FUZZ_MAX_LEN_jsonrpc := 4096
FUZZ_MAX_LEN_schema  := 2048
FUZZ_MAX_LEN_answer  := 16384
FUZZ_MAX_LEN_tools   := 131072
FUZZ_ENV      := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                 LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZ_OBJ      := fuzz/build/obj
FUZZ_CORE_OBJ := $(patsubst build/%.c,$(FUZZ_OBJ)/%.o,$(CORE_SRC:src/%.c=$(FUZZ_OBJ)/%.o))
FUZZ_TOOLS_OBJ := $(filter-out $(FUZZ_OBJ)/mcp_server.o,$(FUZZ_CORE_OBJ))

.PHONY: fuzz fuzz-ci fuzz-deps fuzz-build fuzz-merge fuzz-clean
.PRECIOUS: $(FUZZ_OBJ)/%.o $(FUZZ_OBJ)/fuzz_%.o

fuzz-deps:
	$(call apt_install,$(FUZZ_PKGS))

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory -j$$(nproc) $(FUZZ_BINS)

$(FUZZ_OBJ)/%.o: src/%.c $(HEADERS) Makefile
	@mkdir -p $(@D)
	@echo "  CC    $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

$(FUZZ_OBJ)/%.o: build/%.c
	@mkdir -p $(@D)
	@echo "  CC    $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

$(FUZZ_OBJ)/fuzz_%.o: fuzz/fuzz_%.c fuzz/fuzz.h $(HEADERS) Makefile
	@mkdir -p $(@D)
	@echo "  CC    $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

# fuzz_tools.c includes src/mcp_server.c (see there).
$(FUZZ_OBJ)/fuzz_tools.o: src/mcp_server.c

fuzz/build/fuzz_tools: $(FUZZ_OBJ)/fuzz_tools.o $(FUZZ_OBJ)/fuzz_common.o $(FUZZ_TOOLS_OBJ)
	@echo "  LD    $@"
	@$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(CORE_LIBS)

fuzz/build/fuzz_%: $(FUZZ_OBJ)/fuzz_%.o $(FUZZ_OBJ)/fuzz_common.o $(FUZZ_CORE_OBJ)
	@echo "  LD    $@"
	@$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(CORE_LIBS)

# One target for FUZZ_SECONDS: the seeds (and regressions) first, then
# mutations.  libFuzzer exits non-zero on a crash, a leak, a timeout, an
# out-of-memory or an oracle's abort.
fuzz-run-%: fuzz/build/fuzz_%
	@mkdir -p fuzz/work/$* fuzz/artifacts
	@echo "  FUZZ  $* for $(FUZZ_SECONDS) s (log: fuzz/artifacts/$*.log)"
	@$(FUZZ_ENV) fuzz/build/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$(FUZZ_MAX_LEN_$*) -timeout=5 -rss_limit_mb=$(FUZZ_RSS_MB) \
	    -detect_leaks=1 -dict=fuzz/json.dict -print_final_stats=1 \
	    -artifact_prefix=fuzz/artifacts/$*- \
	    fuzz/work/$* fuzz/corpus/$* \
	    $(wildcard fuzz/corpus/regressions/$*) >fuzz/artifacts/$*.log 2>&1 || \
	  { tail -n 80 fuzz/artifacts/$*.log; echo "FUZZ  $*: FAILED (input in fuzz/artifacts/)"; exit 1; }
	@grep -E '^#[0-9]+.*DONE' fuzz/artifacts/$*.log | tail -n 1 | sed 's/^/        /'
	@grep -E 'stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
	    fuzz/artifacts/$*.log | tr '\n' ' ' | sed 's/^/        /; s/$$/\n/'

fuzz: fuzz-build
	@fail=; for t in $(FUZZ_TARGETS); do \
	  $(MAKE) --no-print-directory fuzz-run-$$t FUZZ_SECONDS=$(FUZZ_SECONDS) || fail="$$fail $$t"; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzzing failed:$$fail"; exit 1; fi; \
	echo "fuzzing: no crash, leak or timeout in $(FUZZ_TARGETS)"

fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20

fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  $(MAKE) --no-print-directory fuzz-merge-$$t || exit 1; \
	done

fuzz-merge-%: fuzz/build/fuzz_%
	@mkdir -p fuzz/work/$*
	@$(FUZZ_ENV) fuzz/build/fuzz_$* -merge=1 -max_len=$(FUZZ_MAX_LEN_$*) \
	    fuzz/corpus/$* fuzz/work/$* 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' | sed 's/^/  $*: /'

fuzz-clean:
	rm -rf fuzz/build fuzz/work fuzz/artifacts

clean: fuzz-clean
