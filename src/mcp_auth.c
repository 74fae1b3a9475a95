#include "mcp_auth.h"
#include "mcp_json.h"

#include <string.h>

#include <apr_general.h>
#include <apr_sha1.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

static int is_b64token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~' || c == '+' || c == '/';
}

/* RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" /
 * "~" / "+" / "/" ) *"=" */
static int is_b64token(const char *t)
{
    size_t n = 0;

    while (t[n] != '\0' && is_b64token_char(t[n])) {
        n++;
    }
    if (n == 0) {
        return 0;
    }
    while (t[n] == '=') {
        n++;
    }
    return t[n] == '\0' && n <= MCP_AUTH_MAX_TOKEN;
}

mcp_auth_status mcp_auth_parse_bearer(const char *header, const char **token)
{
    const char *t;

    *token = NULL;
    if (header == NULL) {
        return MCP_AUTH_MISSING;
    }
    if (strncasecmp(header, "Bearer ", 7) != 0) {
        return MCP_AUTH_MALFORMED;
    }
    for (t = header + 7; *t == ' '; t++) {
    }
    if (!is_b64token(t)) {
        return MCP_AUTH_MALFORMED;
    }
    *token = t;
    return MCP_AUTH_OK;
}

int mcp_auth_looks_like_jwt(const char *token)
{
    const char *allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789-_";
    size_t first = strspn(token, allowed), second;

    /* base64url("{\"") starts "eyJ": a JSON object header. */
    if (first < 4 || strncmp(token, "eyJ", 3) != 0 || token[first] != '.') {
        return 0;
    }
    second = strspn(token + first + 1, allowed);
    if (second == 0 || token[first + 1 + second] != '.') {
        return 0;
    }
    token += first + 1 + second + 1;
    /* The signature may be empty (unsigned JWTs), never anything else. */
    return strspn(token, allowed) == strlen(token);
}

static json_object *string_array(const apr_array_header_t *list)
{
    json_object *a = json_object_new_array();
    int i;

    for (i = 0; i < list->nelts; i++) {
        json_object_array_add(a, json_object_new_string(
            APR_ARRAY_IDX(list, i, const char *)));
    }
    return a;
}

const char *mcp_auth_resource_metadata(apr_pool_t *p, const char *resource,
                                       const apr_array_header_t *servers,
                                       const char *resource_name,
                                       const apr_array_header_t *scopes)
{
    json_object *doc = mcp_json_pool_own(p, json_object_new_object());
    json_object *methods = json_object_new_array();

    json_object_object_add(doc, "resource", json_object_new_string(resource));
    json_object_object_add(doc, "authorization_servers",
                           string_array(servers));
    json_object_array_add(methods, json_object_new_string("header"));
    json_object_object_add(doc, "bearer_methods_supported", methods);
    json_object_object_add(doc, "resource_name",
                           json_object_new_string(resource_name));
    if (scopes != NULL && scopes->nelts > 0) {
        json_object_object_add(doc, "scopes_supported", string_array(scopes));
    }
    return mcp_json_to_string(p, doc, NULL);
}

/* --- verdict cache ------------------------------------------------- */

typedef struct {
    unsigned char key[APR_SHA1_DIGESTSIZE];
    mcp_verdict verdict;
    apr_time_t expires;
} verdict_entry;

/* Tokens Matomo accepted, remembered apart and longer than verdicts: a
 * guesser's flood of refused tokens pushes verdicts out, never these
 * (only a token Matomo accepts gets in), and a token known good skips the
 * token-check budget (src/mcp_guard.h) when its verdict is checked again. */
#define KNOWN_GOOD_TTL apr_time_from_sec(24 * 3600)

struct mcp_verdict_cache {
    apr_thread_mutex_t *lock;
    unsigned char salt[16];
    apr_interval_time_t ttl;
    int capacity;
    int next;               /* round-robin replacement */
    verdict_entry *entries;
    int next_good;
    verdict_entry *good;    /* capacity entries too */
};

apr_status_t mcp_verdict_cache_create(apr_pool_t *p, int capacity,
                                      apr_interval_time_t ttl,
                                      mcp_verdict_cache **out)
{
    mcp_verdict_cache *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv;

    /* A random salt per process: the keys mean nothing outside it. */
    if ((rv = apr_generate_random_bytes(c->salt, sizeof(c->salt)))
            != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT,
                                         p)) != APR_SUCCESS) {
        return rv;
    }
    c->ttl = ttl;
    c->capacity = capacity > 0 ? capacity : 1;
    c->entries = apr_pcalloc(p, sizeof(*c->entries) * (apr_size_t)c->capacity);
    c->good = apr_pcalloc(p, sizeof(*c->good) * (apr_size_t)c->capacity);
    *out = c;
    return APR_SUCCESS;
}

static void token_key(const mcp_verdict_cache *c, const char *scope,
                      const char *token,
                      unsigned char key[APR_SHA1_DIGESTSIZE])
{
    apr_sha1_ctx_t ctx;

    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, c->salt, sizeof(c->salt));
    /* The NUL keeps scope "a" + token "bc" apart from "ab" + "c". */
    apr_sha1_update_binary(&ctx, (const unsigned char *)scope,
                           (unsigned int)strlen(scope) + 1);
    apr_sha1_update(&ctx, token, (unsigned int)strlen(token));
    apr_sha1_final(key, &ctx);
}

static verdict_entry *find_in(verdict_entry *table, int capacity,
                              const unsigned char *key)
{
    int i;

    for (i = 0; i < capacity; i++) {
        if (table[i].verdict != MCP_VERDICT_UNKNOWN
            && memcmp(table[i].key, key, APR_SHA1_DIGESTSIZE) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

static verdict_entry *find(mcp_verdict_cache *c, const unsigned char *key)
{
    return find_in(c->entries, c->capacity, key);
}

/* The entry for key in table, taking the oldest one round robin when it
 * has none.  Called with the lock held. */
static verdict_entry *slot_for(verdict_entry *table, int capacity, int *next,
                               const unsigned char *key)
{
    verdict_entry *e = find_in(table, capacity, key);

    if (e == NULL) {
        e = &table[*next];
        *next = (*next + 1) % capacity;
        memcpy(e->key, key, APR_SHA1_DIGESTSIZE);
    }
    return e;
}

int mcp_verdict_cache_known_good(mcp_verdict_cache *c, const char *scope,
                                 const char *token, apr_time_t now)
{
    unsigned char key[APR_SHA1_DIGESTSIZE];
    verdict_entry *e;
    int good;

    token_key(c, scope, token, key);
    apr_thread_mutex_lock(c->lock);
    e = find_in(c->good, c->capacity, key);
    good = e != NULL && e->expires > now;
    apr_thread_mutex_unlock(c->lock);
    return good;
}

mcp_verdict mcp_verdict_cache_get(mcp_verdict_cache *c, const char *scope,
                                  const char *token, apr_time_t now)
{
    unsigned char key[APR_SHA1_DIGESTSIZE];
    mcp_verdict v = MCP_VERDICT_UNKNOWN;
    verdict_entry *e;

    token_key(c, scope, token, key);
    apr_thread_mutex_lock(c->lock);
    if ((e = find(c, key)) != NULL && e->expires > now) {
        v = e->verdict;
    }
    apr_thread_mutex_unlock(c->lock);
    return v;
}

void mcp_verdict_cache_put(mcp_verdict_cache *c, const char *scope,
                           const char *token, mcp_verdict verdict,
                           apr_time_t now)
{
    unsigned char key[APR_SHA1_DIGESTSIZE];
    verdict_entry *e;

    token_key(c, scope, token, key);
    apr_thread_mutex_lock(c->lock);
    e = slot_for(c->entries, c->capacity, &c->next, key);
    e->verdict = verdict;
    e->expires = now + c->ttl;
    if (verdict == MCP_VERDICT_VALID) {
        e = slot_for(c->good, c->capacity, &c->next_good, key);
        e->verdict = verdict;
        e->expires = now + KNOWN_GOOD_TTL;
    }
    else if ((e = find_in(c->good, c->capacity, key)) != NULL) {
        e->verdict = MCP_VERDICT_UNKNOWN;   /* revoked: known good no more */
    }
    apr_thread_mutex_unlock(c->lock);
}
