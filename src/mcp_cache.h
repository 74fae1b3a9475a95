/*
 * The shared cache (MatomoMcpCache): what may be remembered of Matomo's
 * answers and token verdicts, under which key and for how long, on top
 * of a store the glue provides (httpd's socache providers: shmcb on one
 * machine, redis or memcache across machines).
 *
 * Keys never hold a token: a token is hashed with a secret salt (the
 * same on every node that shares the store), and an answer's key is a
 * hash of the backend, that token hash and the canonical request
 * (method and sorted parameters), so one caller's answer can never reach
 * a caller with other rights.  Only whole, successful answers are
 * stored; a store that fails or is full costs a Matomo call, never a
 * failed tool call, and says so once per incident.  Concurrent identical
 * misses in one process wait for the first one's Matomo call.
 *
 * httpd-free: APR, json-c.  Per child process, thread-safe.
 */
#ifndef MCP_CACHE_H
#define MCP_CACHE_H

#include <apr_pools.h>
#include <apr_sha1.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "mcp_auth.h"
#include "mcp_matomo.h"

/* What the glue gives: a key/value store with expiry.  get copies at
 * most *len bytes into buf and sets *len, returning APR_SUCCESS, or
 * APR_NOTFOUND on a miss; anything else is a failure of the store. */
typedef struct {
    void *baton;
    apr_status_t (*get)(void *baton, const unsigned char *id,
                        unsigned int idlen, unsigned char *buf,
                        unsigned int *len, apr_pool_t *p);
    apr_status_t (*put)(void *baton, const unsigned char *id,
                        unsigned int idlen, apr_time_t expiry,
                        unsigned char *value, unsigned int len,
                        apr_pool_t *p);
    /* An incident starts (down is 1: what happened, a sentence, and the
     * store's status) or ends (0): the glue writes one error-log line for
     * each. */
    void (*incident)(void *baton, int down, const char *what,
                     apr_status_t rv);
} mcp_cache_store;

/* How long each kind of entry is kept; 0: not cached. */
typedef struct {
    apr_interval_time_t past;     /* answers about complete past periods */
    apr_interval_time_t recent;   /* answers about periods that may include
                                   * today (relative dates too) */
    apr_interval_time_t facts;    /* per-site facts: sites, goals, report
                                   * and segment catalogs */
    apr_interval_time_t verdict;  /* what Matomo said of a token */
} mcp_cache_ttl;

#define MCP_CACHE_KEY_SIZE APR_SHA1_DIGESTSIZE

typedef struct mcp_cache mcp_cache;

/* Counters for this process (server-status reads them, issue 16): the one
 * place where cache hits and misses are counted. */
typedef struct {
    apr_uint32_t hits;          /* answers served from the store */
    apr_uint32_t misses;        /* answers the store did not have */
    apr_uint32_t result_hits;   /* whole tool results served from it */
    apr_uint32_t stores;        /* answers stored */
    apr_uint32_t too_large;     /* answers over the size cap, not stored */
    apr_uint32_t failures;      /* store operations that failed */
    apr_uint32_t coalesced;     /* misses answered by another request's
                                 * Matomo call (same key, same process) */
    apr_uint32_t verdict_hits;  /* token verdicts found in the store */
} mcp_cache_stats;

/* salt: the deployment's secret (every node sharing the store must have
 * the same); max_entry: the largest value stored. */
mcp_cache *mcp_cache_create(apr_pool_t *p, const mcp_cache_store *store,
                            const unsigned char *salt, apr_size_t salt_len,
                            apr_size_t max_entry);

void mcp_cache_stats_get(mcp_cache *c, mcp_cache_stats *out);

/* The salted hash a token is known by, for one Matomo reached one way
 * (scope).  Never reveals the token. */
void mcp_cache_token_key(const mcp_cache *c, const char *scope,
                         const char *token,
                         unsigned char out[MCP_CACHE_KEY_SIZE]);

/* --- token verdicts ----------------------------------------------- */

/* *stored_at: when the verdict was given (it expires its TTL later). */
mcp_verdict mcp_cache_verdict_get(mcp_cache *c, apr_pool_t *p,
                                  const unsigned char *token_key,
                                  apr_time_t *stored_at);
void mcp_cache_verdict_put(mcp_cache *c, apr_pool_t *p,
                           const unsigned char *token_key, mcp_verdict v,
                           apr_interval_time_t ttl);
/* A token Matomo accepted within the last day (it skips the token-check
 * budget on any node); put clears it for a refused token. */
int mcp_cache_known_good(mcp_cache *c, apr_pool_t *p,
                         const unsigned char *token_key);

/* --- Matomo answers ------------------------------------------------ */

/* How long an answer to method with params may be kept, now being the
 * current time (0: never).  A period is past when its last day is before
 * today in every timezone (UTC-12 to UTC+14): the site's own today is at
 * most a day behind UTC's. */
apr_interval_time_t mcp_cache_ttl_for(const mcp_cache_ttl *ttl,
                                      const char *method,
                                      const apr_array_header_t *params,
                                      apr_time_t now);

/* The key of one call: backend scope, token key, method, sorted
 * parameters. */
void mcp_cache_answer_key(apr_pool_t *p, const char *scope,
                          const unsigned char *token_key, const char *method,
                          const apr_array_header_t *params,
                          unsigned char out[MCP_CACHE_KEY_SIZE]);

/* 1 and *out (owned by p) when the store holds the answer; *stored_at
 * says when Matomo gave it. */
int mcp_cache_answer_get(mcp_cache *c, apr_pool_t *p,
                         const unsigned char *key, mcp_matomo_answer *out,
                         apr_time_t *stored_at);

/* Stores a, when it is a whole successful answer within the size cap. */
void mcp_cache_answer_put(mcp_cache *c, apr_pool_t *p,
                          const unsigned char *key,
                          const mcp_matomo_answer *a,
                          apr_interval_time_t ttl);

/* --- whole tool results ------------------------------------------- */

/* The key of a tool's result: scope (backend, forwarding, the module's
 * version), token key, tool name, arguments as JSON text. */
void mcp_cache_result_key(apr_pool_t *p, const char *scope,
                          const unsigned char *token_key, const char *tool,
                          const char *arguments,
                          unsigned char out[MCP_CACHE_KEY_SIZE]);

/* 1 with the result's structuredContent text (owned by p), *origin: when
 * Matomo gave the oldest answer it was built from, *answers: how many
 * answers it was built from. */
int mcp_cache_result_get(mcp_cache *c, apr_pool_t *p,
                         const unsigned char *key, const char **text,
                         apr_size_t *len, apr_time_t *origin, int *answers);

/* Stores a result for ttl (nothing when ttl is not positive). */
void mcp_cache_result_put(mcp_cache *c, apr_pool_t *p,
                          const unsigned char *key, const char *text,
                          apr_size_t len, apr_time_t origin, int answers,
                          apr_interval_time_t ttl);

/* --- one Matomo call for concurrent identical misses --------------- */

typedef struct mcp_cache_flight mcp_cache_flight;

/* Joins the flight for key: returns it with *leader set when nobody in
 * this process is calling Matomo for key (the caller calls, then
 * mcp_cache_flight_land), else the one in the air (the caller waits with
 * mcp_cache_flight_wait).  NULL: no flight (out of memory). */
mcp_cache_flight *mcp_cache_flight_join(mcp_cache *c,
                                        const unsigned char *key,
                                        int *leader);

/* The leader's answers (n of them), handed to everyone waiting. */
void mcp_cache_flight_land(mcp_cache *c, mcp_cache_flight *f,
                           const mcp_matomo_answer *answers, int n);

/* Waits up to max_wait for the leader's n answers: 1 with answers (owned
 * by p) when they came, 0 when the caller must call Matomo itself (the
 * leader's client went away, or the wait ran out). */
int mcp_cache_flight_wait(mcp_cache *c, mcp_cache_flight *f, apr_pool_t *p,
                          apr_interval_time_t max_wait,
                          mcp_matomo_answer *answers, int n);

#endif
