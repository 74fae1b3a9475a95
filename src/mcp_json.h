/*
 * JSON helpers shared by the protocol core: bounded parsing of untrusted
 * input and json-c trees whose lifetime is tied to an APR pool.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_JSON_H
#define MCP_JSON_H

#include <apr_pools.h>
#include <json-c/json.h>

/* Nesting limit for anything a client sends: MCP messages are shallow, and a
 * small limit bounds the parser's stack and memory on hostile input. */
#define MCP_JSON_MAX_DEPTH 32

typedef enum {
    MCP_JSON_OK = 0,
    MCP_JSON_ERR_SYNTAX,    /* not JSON, or not valid UTF-8 */
    MCP_JSON_ERR_DEPTH,     /* nested deeper than allowed */
    MCP_JSON_ERR_TRAILING,  /* a value followed by more than whitespace */
    MCP_JSON_ERR_SIZE,      /* longer than json-c can address */
    MCP_JSON_ERR_RANGE      /* a number beyond a double (1e400): json-c
                             * would read it as inf, which JSON cannot
                             * write back */
} mcp_json_status;

/* Parses exactly one JSON value from buf (strict RFC 8259, UTF-8 checked,
 * nesting limited to max_depth).  On success *out is owned by pool p. */
mcp_json_status mcp_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                               int max_depth, json_object **out);

/* From now until p is cleared, each thread keeps its parser state from one
 * parse to the next (see mcp_json.c).  Called once, before the threads
 * that parse start: Apache's child_init. */
apr_status_t mcp_json_cache_enable(apr_pool_t *p);

/* Hands obj to pool p: the reference is dropped when p is cleared. */
json_object *mcp_json_pool_own(apr_pool_t *p, json_object *obj);

/* Serialises compactly into a string allocated from p. */
const char *mcp_json_to_string(apr_pool_t *p, json_object *obj,
                               apr_size_t *len);

/* From now on obj serialises as text, which must be obj's own compact
 * serialisation: a parent's serialisation then copies it instead of
 * walking obj again.  obj must be owned by p (or a pool p outlives), where
 * text lives too. */
void mcp_json_set_text(apr_pool_t *p, json_object *obj, const char *text,
                       apr_size_t len);

/* s cut to at most max bytes without splitting a UTF-8 sequence (s is
 * valid UTF-8), for messages that quote what they were given. */
const char *mcp_json_clip(apr_pool_t *p, const char *s, apr_size_t max);

/* The string member key of obj, or NULL when absent or not a string. */
const char *mcp_json_get_string(json_object *obj, const char *key);

/* The member key of obj when it has the given type, else NULL. */
json_object *mcp_json_get_typed(json_object *obj, const char *key,
                                json_type type);

/* Array readers for JSON of any origin (Matomo's answers, a client's
 * arguments).  Debian's json-c keeps its assert()s: json_object_array_length()
 * and json_object_array_get_idx() abort the process, an httpd child, when
 * given anything but an array (NULL included).  Read arrays only with these.
 *
 * The number of elements of a, or 0 when a is not an array. */
size_t mcp_json_array_length(const json_object *a);

/* Element i of a, or NULL when a is not an array or has no element i (or
 * that element is JSON null). */
json_object *mcp_json_array_get(const json_object *a, size_t i);

#endif
