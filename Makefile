# mod_matomo_mcp — build, run, test.
#
#   make            build .libs/mod_matomo_mcp.so
#   make run        serve /mcp on 127.0.0.1:$(PORT) (MATOMO_URL=… for a real Matomo)
#   make test       install what is missing, build, run every suite
#   make install    install the module with apxs (DESTDIR-aware)

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

CORE_SRC  := src/mcp_json.c src/mcp_jsonrpc.c src/mcp_server.c src/mcp_tools.c
HTTPD_SRC := src/mcp_config.c src/mcp_transport.c
SOURCES   := mod_matomo_mcp.c $(HTTPD_SRC) $(CORE_SRC)
HEADERS   := $(wildcard src/*.h)
MODULE    := .libs/mod_matomo_mcp.so

.PHONY: all install run test deps clean unit

all: $(MODULE)

$(MODULE): $(SOURCES) $(HEADERS) Makefile
	@echo "  APXS  $@"
	@$(APXS) -c -o mod_matomo_mcp.la \
	    $(foreach f,$(WARNINGS) -fvisibility=hidden $(CFLAGS_EXTRA),-Wc,$(f)) \
	    $(shell pkg-config --cflags $(PKGS)) \
	    $(foreach f,$(LDFLAGS_EXTRA),-Wl,$(f)) \
	    $(shell pkg-config --libs $(PKGS)) $(SOURCES) >/dev/null

install: $(MODULE)
	$(APXS) -i -S DESTDIR=$(DESTDIR) -n matomo_mcp mod_matomo_mcp.la

clean:
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs \
	    t/unit/core_tests
	-[ -f t/TEST.PL ] && perl t/TEST.PL -clean >/dev/null 2>&1 || true
