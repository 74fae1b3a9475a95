/* The helpers of fuzz.h. */
#include "fuzz.h"

#include <math.h>

#include <apr_strings.h>

apr_pool_t *fuzz_global;
mcp_catalog *fuzz_catalog;

void fuzz_fail(const char *what, const char *text, size_t len)
{
    fprintf(stderr, "\nFUZZ ORACLE: %s\n%.*s\n", what,
            (int)(len > 4000 ? 4000 : len), text != NULL ? text : "(null)");
    abort();
}

/* At exit, before LeakSanitizer's final check (registered earlier, so run
 * later): the process pool's json-c trees go with it.  APR's allocator
 * may take its blocks from mmap, which LeakSanitizer does not scan, so a
 * tree reachable only through a live pool would count as leaked. */
static void fuzz_teardown(void)
{
    apr_pool_destroy(fuzz_global);
    fuzz_global = NULL;
    apr_terminate();
}

void fuzz_setup(void)
{
    const char *err;

    if (fuzz_global != NULL) {
        return;
    }
    apr_initialize();
    apr_pool_create(&fuzz_global, NULL);
    atexit(fuzz_teardown);
    err = mcp_catalog_build(fuzz_global, &mcp_tool_definitions, mcp_tools,
                            mcp_tools_count, 50, &fuzz_catalog);
    if (err != NULL) {
        fuzz_fail("the module's catalog does not build", err, strlen(err));
    }
}

/* A pool for one input, owning its allocator: apr_pool_destroy() frees
 * everything it ever held, so nothing lingers in a shared free list. */
apr_pool_t *fuzz_pool(void)
{
    apr_allocator_t *a = NULL;
    apr_pool_t *p = NULL;

    if (apr_allocator_create(&a) != APR_SUCCESS
        || apr_pool_create_ex(&p, NULL, NULL, a) != APR_SUCCESS) {
        abort();
    }
    apr_allocator_owner_set(a, p);
    return p;
}

int fuzz_contains(const char *hay, size_t len, const char *needle)
{
    return hay != NULL && memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* 1 when a number in the tree is inf: JSON has none, yet "1e400" parses,
 * and every client reads it as infinity. */
static int has_infinite(json_object *obj)
{
    if (json_object_is_type(obj, json_type_object)) {
        json_object_object_foreach(obj, key, val) {
            (void)key;
            if (has_infinite(val)) {
                return 1;
            }
        }
    }
    else if (json_object_is_type(obj, json_type_array)) {
        size_t i, n = json_object_array_length(obj);

        for (i = 0; i < n; i++) {
            if (has_infinite(json_object_array_get_idx(obj, i))) {
                return 1;
            }
        }
    }
    else if (json_object_is_type(obj, json_type_double)) {
        return !isfinite(json_object_get_double(obj));
    }
    return 0;
}

/* Everything the server writes must be strict JSON (valid UTF-8 included)
 * with finite numbers only: a client parses it. */
json_object *fuzz_reparse(apr_pool_t *p, const char *text, size_t len,
                          const char *what)
{
    json_object *obj = NULL;

    if (text == NULL
        || mcp_json_parse(p, text, len, 1000, &obj) != MCP_JSON_OK) {
        fuzz_fail(what, text, text != NULL ? len : 0);
    }
    if (has_infinite(obj)) {
        fuzz_fail(apr_pstrcat(p, what, ": a number out of double range",
                              NULL),
                  text, len);
    }
    return obj;
}


int fuzz_tree_has(apr_pool_t *p, json_object *obj, const char *needle)
{
    if (json_object_is_type(obj, json_type_object)) {
        json_object_object_foreach(obj, key, val) {
            if (strstr(key, needle) != NULL || fuzz_tree_has(p, val, needle)) {
                return 1;
            }
        }
    }
    else if (json_object_is_type(obj, json_type_array)) {
        size_t i, n = json_object_array_length(obj);

        for (i = 0; i < n; i++) {
            if (fuzz_tree_has(p, json_object_array_get_idx(obj, i), needle)) {
                return 1;
            }
        }
    }
    else if (json_object_is_type(obj, json_type_string)) {
        const char *s = json_object_get_string(obj);
        size_t len = (size_t)json_object_get_string_len(obj);
        json_object *inner = NULL;

        if (!fuzz_contains(s, len, needle)) {
            return 0;
        }
        if (mcp_json_parse(p, s, len, 1000, &inner) == MCP_JSON_OK
            && (json_object_is_type(inner, json_type_object)
                || json_object_is_type(inner, json_type_array))) {
            return fuzz_tree_has(p, inner, needle);
        }
        return 1;
    }
    return 0;
}
