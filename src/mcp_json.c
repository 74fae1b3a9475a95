#include "mcp_json.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <json-c/printbuf.h>

static apr_status_t json_release(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

json_object *mcp_json_pool_own(apr_pool_t *p, json_object *obj)
{
    if (obj != NULL) {
        apr_pool_cleanup_register(p, obj, json_release,
                                  apr_pool_cleanup_null);
    }
    return obj;
}

static int only_whitespace(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return 0;
        }
    }
    return 1;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0.  json-c's own check
 * only counts continuation bytes. */
static apr_size_t utf8_sequence(const unsigned char *s, apr_size_t left)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    apr_size_t n, i;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    }
    else {
        return 0;
    }
    if (left < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

/* The code unit of the \uXXXX escape at s (len bytes left), or -1. */
static long escaped_unit(const char *s, apr_size_t len)
{
    char hex[5];
    char *end;
    long unit;

    if (len < 6 || s[0] != '\\' || s[1] != 'u') {
        return -1;
    }
    memcpy(hex, s + 2, 4);
    hex[4] = '\0';
    unit = strtol(hex, &end, 16);
    return end == hex + 4 && hex[0] != '-' && hex[0] != '+' ? unit : -1;
}

/* Bytes taken by the escape at s: a \u escape of a UTF-16 surrogate must
 * be a high one followed by a low one (json-c turns a lone one into
 * U+FFFD, so a string id would not come back as sent; UTF-8 has no lone
 * surrogates either).  0 when refused; other escapes are json-c's to
 * check. */
static apr_size_t escape_length(const char *s, apr_size_t len)
{
    long unit = escaped_unit(s, len);

    if (unit < 0xD800 || unit > 0xDFFF) {
        return 2;
    }
    if (unit <= 0xDBFF) {
        long low = escaped_unit(s + 6, len - 6);

        return low >= 0xDC00 && low <= 0xDFFF ? 12 : 0;
    }
    return 0;
}

/* Length of the number token at s, and whether it is finite as a double.
 * Only an exponent or hundreds of digits can leave a double's range
 * (integer tokens json-c keeps as 64-bit integers, clamping), so strtod
 * runs for those alone. */
static apr_size_t number_length(const char *s, apr_size_t len, int *finite)
{
    apr_size_t n = 0;
    int exponent = 0;
    char buf[512];

    while (n < len && s[n] != '\0' && strchr("0123456789+-.eE", s[n])) {
        exponent |= s[n] == 'e' || s[n] == 'E';
        n++;
    }
    *finite = 1;
    if (exponent || n > 300) {
        if (n >= sizeof(buf)) {
            *finite = 0;    /* 500 characters of number: no real figure */
        }
        else {
            memcpy(buf, s, n);
            buf[n] = '\0';
            *finite = isfinite(strtod(buf, NULL));
        }
    }
    return n;
}

/* "1." and "1.e5": RFC 8259 wants a digit after the point, json-c not. */
static int fraction_digits_follow(const char *s, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '.' && (i + 1 == n || s[i + 1] < '0' || s[i + 1] > '9')) {
            return 0;
        }
    }
    return 1;
}

/* json-c's strict mode still takes some forms RFC 8259 forbids: single
 * quotes, NaN and Infinity, "1.", raw control characters in strings, and
 * malformed UTF-8 (lone surrogate escapes included).  One pass over the
 * text refuses them first, and numbers no double holds. */
static mcp_json_status lexically_strict(const char *s, apr_size_t len)
{
    static const char outside[] = " \t\r\n{}[],:0123456789+-.eE"
                                  "truefalsn";
    const unsigned char *u = (const unsigned char *)s;
    int in_string = 0;
    apr_size_t i = 0;

    while (i < len) {
        unsigned char c = u[i];

        if (in_string) {
            apr_size_t n = utf8_sequence(u + i, len - i);

            if (n == 0 || c < 0x20) {
                return MCP_JSON_ERR_SYNTAX;
            }
            if (c == '"') {
                in_string = 0;
            }
            else if (c == '\\' && i + 1 < len
                     && (n = escape_length(s + i, len - i)) == 0) {
                return MCP_JSON_ERR_SYNTAX;
            }
            i += n;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            int finite;
            apr_size_t n = number_length(s + i, len - i, &finite);

            if (!finite) {
                return MCP_JSON_ERR_RANGE;
            }
            if (!fraction_digits_follow(s + i, n)) {
                return MCP_JSON_ERR_SYNTAX;
            }
            i += n;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        }
        else if (c == '\0' || strchr(outside, c) == NULL) {
            return MCP_JSON_ERR_SYNTAX;
        }
        i++;
    }
    return MCP_JSON_OK;
}

/* A tokener is reused by its thread: a fresh one costs a zeroed calloc of
 * its parse stack on every parse, which was ~6% of a tools/call in make
 * bench's profile (mostly glibc consolidating the heap for that block).
 * One slot per nesting limit, as json-c fixes the limit at creation.  After
 * a text longer than REUSE_MAX_TEXT the tokener is freed, not kept: its
 * string buffer may have grown to the longest string in the text, and a
 * thread keeps at most two small buffers for its life (32 kB, so 2 MB for
 * 64 threads at worst; a few hundred bytes each in practice).
 *
 * Only where mcp_json_cache_enable turned it on: Apache's children.  Their
 * worker threads run the key's destructor as they end, while the module is
 * loaded; the parent reloads the module on each restart, and a key left
 * behind by an unloaded copy would point its destructor at nothing. */
#define TOKENER_SLOTS 2
#define REUSE_MAX_TEXT 16384

typedef struct {
    json_tokener *tok[TOKENER_SLOTS];
    int depth[TOKENER_SLOTS];
} tokener_cache;

static pthread_key_t tokener_key;
static int tokener_key_ok;

static void tokener_cache_free(void *data)
{
    tokener_cache *c = data;
    int i;

    for (i = 0; i < TOKENER_SLOTS; i++) {
        if (c->tok[i] != NULL) {
            json_tokener_free(c->tok[i]);
        }
    }
    free(c);
}

static apr_status_t tokener_key_delete(void *data)
{
    (void)data;
    if (tokener_key_ok) {
        tokener_key_ok = 0;
        pthread_key_delete(tokener_key);
    }
    return APR_SUCCESS;
}

apr_status_t mcp_json_cache_enable(apr_pool_t *p)
{
    int rc;

    if (tokener_key_ok) {
        return APR_SUCCESS;
    }
    rc = pthread_key_create(&tokener_key, tokener_cache_free);
    if (rc != 0) {
        return rc;
    }
    tokener_key_ok = 1;
    apr_pool_cleanup_register(p, NULL, tokener_key_delete,
                              apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* The calling thread's cache, or NULL when there is none to be had. */
static tokener_cache *tokener_cache_get(void)
{
    tokener_cache *c;

    if (!tokener_key_ok) {
        return NULL;
    }
    c = pthread_getspecific(tokener_key);
    if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL
        && pthread_setspecific(tokener_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

/* A tokener for max_depth: the thread's own, reset, or a new one. */
static json_tokener *tokener_take(int max_depth)
{
    tokener_cache *c = tokener_cache_get();
    int i;

    for (i = 0; c != NULL && i < TOKENER_SLOTS; i++) {
        if (c->tok[i] != NULL && c->depth[i] == max_depth) {
            json_tokener *tok = c->tok[i];

            c->tok[i] = NULL;
            json_tokener_reset(tok);
            return tok;
        }
    }
    return json_tokener_new_ex(max_depth);
}

/* Gives tok, used on a text of len bytes, back to the thread, or frees it. */
static void tokener_give_back(json_tokener *tok, int max_depth,
                              apr_size_t len)
{
    tokener_cache *c = len <= REUSE_MAX_TEXT ? tokener_cache_get() : NULL;
    int i;

    for (i = 0; c != NULL && i < TOKENER_SLOTS; i++) {
        if (c->tok[i] == NULL) {
            c->tok[i] = tok;
            c->depth[i] = max_depth;
            return;
        }
    }
    json_tokener_free(tok);
}

mcp_json_status mcp_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                               int max_depth, json_object **out)
{
    json_tokener *tok;
    json_object *obj;
    enum json_tokener_error err;
    mcp_json_status st;
    size_t end;

    *out = NULL;
    if (len >= INT_MAX) {
        return MCP_JSON_ERR_SIZE;
    }
    if ((st = lexically_strict(buf, len)) != MCP_JSON_OK) {
        return st;
    }
    tok = tokener_take(max_depth);
    if (tok == NULL) {
        return MCP_JSON_ERR_SYNTAX;
    }
    /* Trailing data is told apart below, for a precise error. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                                | JSON_TOKENER_VALIDATE_UTF8
                                | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    err = json_tokener_get_error(tok);
    if (err == json_tokener_continue && len > 0) {
        /* A top-level number or literal has no closing delimiter: json-c
         * waits for more digits.  White space ends it without changing the
         * meaning of a complete text, or the error for an incomplete one. */
        obj = json_tokener_parse_ex(tok, " ", 1);
        err = json_tokener_get_error(tok);
        end = len;
    }
    else {
        end = json_tokener_get_parse_end(tok);
    }
    tokener_give_back(tok, max_depth, len);

    /* A JSON null is a NULL object with success. */
    if (err != json_tokener_success) {
        json_object_put(obj);
        return err == json_tokener_error_depth ? MCP_JSON_ERR_DEPTH
                                               : MCP_JSON_ERR_SYNTAX;
    }
    if (!only_whitespace(buf + end, len - end)) {
        json_object_put(obj);
        return MCP_JSON_ERR_TRAILING;
    }
    *out = mcp_json_pool_own(p, obj);
    return MCP_JSON_OK;
}

const char *mcp_json_to_string(apr_pool_t *p, json_object *obj,
                               apr_size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

    /* json-c keeps the text inside obj; copy it so it outlives obj. */
    if (len != NULL) {
        *len = n;
    }
    return apr_pstrmemdup(p, s, n);
}

typedef struct {
    const char *text;
    int len;
} known_text;

static int print_known_text(json_object *obj, struct printbuf *pb,
                            int level, int flags)
{
    const known_text *t = json_object_get_userdata(obj);

    (void)level;
    (void)flags;
    return printbuf_memappend(pb, t->text, t->len) < 0 ? -1 : 0;
}

void mcp_json_set_text(apr_pool_t *p, json_object *obj, const char *text,
                       apr_size_t len)
{
    known_text *t;

    /* printbuf counts in int: a text that long keeps the ordinary walk. */
    if (obj == NULL || len > INT_MAX) {
        return;
    }
    t = apr_palloc(p, sizeof(*t));
    t->text = text;
    t->len = (int)len;
    /* No delete function: t is the pool's, and json-c only prints through
     * it, never when it frees obj. */
    json_object_set_serializer(obj, print_known_text, t, NULL);
}

const char *mcp_json_clip(apr_pool_t *p, const char *s, apr_size_t max)
{
    apr_size_t n = strlen(s);

    if (n <= max) {
        return s;
    }
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    return apr_pstrndup(p, s, n);
}

json_object *mcp_json_get_typed(json_object *obj, const char *key,
                                json_type type)
{
    json_object *val = NULL;

    if (obj == NULL || !json_object_object_get_ex(obj, key, &val)
        || !json_object_is_type(val, type)) {
        return NULL;
    }
    return val;
}

const char *mcp_json_get_string(json_object *obj, const char *key)
{
    json_object *val = mcp_json_get_typed(obj, key, json_type_string);

    return val != NULL ? json_object_get_string(val) : NULL;
}

size_t mcp_json_array_length(const json_object *a)
{
    return json_object_is_type(a, json_type_array)
               ? json_object_array_length(a)
               : 0;
}

json_object *mcp_json_array_get(const json_object *a, size_t i)
{
    return i < mcp_json_array_length(a) ? json_object_array_get_idx(a, i)
                                        : NULL;
}
