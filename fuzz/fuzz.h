/*
 * What the libFuzzer targets share: APR set up once, the module's real
 * tool catalog, one APR pool per input (with its own allocator, so that
 * destroying it frees every byte and LeakSanitizer sees only real leaks),
 * and the oracles.
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined;
 * never part of the module.
 */
#ifndef MCP_FUZZ_H
#define MCP_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_allocator.h>
#include <apr_general.h>
#include <apr_pools.h>

#include "../src/mcp_json.h"
#include "../src/mcp_tools.h"

/* The caller's token in every target: the superuser's token_auth of
 * t/matomo/tokens.json, which the seed answers (with @TOKEN_AUTH@ put
 * back) echo in imageGraphUrl members. */
#define FUZZ_TOKEN "feedc0defeedc0defeedc0defeedc0de"

/* Separates the parts of an input made of several (a message and Matomo
 * answers, see fuzz_tools.c). */
#define FUZZ_SEP "\n--\n"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set up by fuzz_setup(): read-only afterwards. */
extern apr_pool_t *fuzz_global;
extern mcp_catalog *fuzz_catalog;

/* APR, a process pool and the real catalog, as the module builds it. */
void fuzz_setup(void);

/* A pool for one input, owning its allocator: apr_pool_destroy() frees
 * everything it ever held, so nothing lingers in a shared free list. */
apr_pool_t *fuzz_pool(void);

/* Prints what broke and aborts: libFuzzer saves the input. */
void fuzz_fail(const char *what, const char *text, size_t len);

/* 1 when needle occurs in the len bytes at hay. */
int fuzz_contains(const char *hay, size_t len, const char *needle);

/* 1 when a member name or string value in the tree holds needle: what a
 * client reading the JSON gets, not how it is spelt (a serialisation may
 * spell "\\f" + "eedc..." where the value holds a form feed).  A string
 * that is itself JSON text (a tool result's text content) is looked into
 * the same way. */
int fuzz_tree_has(apr_pool_t *p, json_object *obj, const char *needle);

/* Everything the server writes must be strict JSON (valid UTF-8 included)
 * whose numbers are all finite ("1e400" parses, as infinity): a client
 * parses it.  Aborts otherwise. */
json_object *fuzz_reparse(apr_pool_t *p, const char *text, size_t len,
                          const char *what);

#endif
