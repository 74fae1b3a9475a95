# mod_matomo_mcp — build, run, test.
#
#   make            build .libs/mod_matomo_mcp.so
#   make run        serve /mcp on 127.0.0.1:$(PORT) (MATOMO_URL=… for a real Matomo)
#   make test       install what is missing, build, run every suite
#                   (TESTS="t/13_gateway.t ..." runs only those)
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

CORE_SRC  := src/mcp_json.c src/mcp_jsonrpc.c src/mcp_server.c src/mcp_tools.c \
             src/mcp_auth.c src/mcp_matomo.c src/mcp_schema.c \
             src/mcp_shape.c src/mcp_catalog.c src/mcp_period.c \
             src/mcp_toolkit.c src/tool_sites.c src/tool_traffic.c \
             src/tool_reports.c src/tool_context.c src/tool_health.c \
             src/mcp_resources.c src/mcp_prompts.c
HTTPD_SRC := src/mcp_config.c src/mcp_transport.c
SOURCES   := mod_matomo_mcp.c $(HTTPD_SRC) $(CORE_SRC)
HEADERS   := $(wildcard src/*.h)
MODULE    := .libs/mod_matomo_mcp.so

SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PKGS  := apache2 apache2-dev libapache2-mod-perl2 libcurl4-openssl-dev \
             libjson-c-dev libapr1-dev libaprutil1-dev pkg-config gcc make

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

.PHONY: all install run test deps bench clean FORCE

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

$(UNIT_BIN): t/unit/core_tests.c $(CORE_SRC) $(HEADERS) Makefile .build-flags
	@echo "  CC    $@"
	@$(CC) $(WARNINGS) -g -O1 $(CFLAGS_EXTRA) $(CORE_CFLAGS) -o $@ \
	    t/unit/core_tests.c $(CORE_SRC) $(CORE_LIBS) $(LDFLAGS_EXTRA)

# Installs what a fresh Debian 12 lacks: Debian packages system-wide, npm
# packages (MCP SDK, conformance suite, Node 22) into ./node_modules.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done; command -v node >/dev/null || echo nodejs npm); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@if [ -f package-lock.json ] && \
	    ! [ node_modules/.package-lock.json -nt package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error; \
	fi

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) SANITIZE=$(SANITIZE)
	@$(if $(TEST_USER),t/bin/grant-www-data)
	@perl t/TEST.PL -clean >/dev/null 2>&1
	$(SAN_ENV) perl t/TEST.PL $(TEST_ARGS) $(TESTS)

run: deps
	@$(MAKE) --no-print-directory all
	@PORT=$(PORT) t/bin/serve

# make bench: the load tool (wrk) and ab from Debian, besides what make
# test needs; then bench/run, a few minutes on a 2-core machine.
BENCH_PKGS := wrk apache2-utils

bench: deps
	@missing=$$(for p in $(BENCH_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@$(MAKE) --no-print-directory all
	@$(if $(TEST_USER),t/bin/grant-www-data)
	@APXS=$(APXS) bench/run

# apxs has no DESTDIR: move its LIBEXECDIR under DESTDIR instead.
install: $(MODULE)
	@mkdir -p "$(DESTDIR)$$($(APXS) -q LIBEXECDIR)"
	$(APXS) -i -S LIBEXECDIR="$(DESTDIR)$$($(APXS) -q LIBEXECDIR)" \
	    -n matomo_mcp mod_matomo_mcp.la

clean:
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs .build-flags \
	    t/unit/core_tests
	-[ -f t/TEST.PL ] && perl t/TEST.PL -clean >/dev/null 2>&1 || true
