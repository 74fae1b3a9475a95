#include "mcp_cache.h"
#include "mcp_json.h"
#include "mcp_period.h"

#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

/* Matomo answers nest deeper than MCP messages (as in mcp_matomo.c). */
#define ANSWER_MAX_DEPTH 64

/* Tokens Matomo accepted are remembered this long as known good (as the
 * per-process memory of src/mcp_auth.c does). */
#define KNOWN_GOOD_TTL apr_time_from_sec(24 * 3600)

/* A value: a header (magic, kind, when Matomo answered, the key again,
 * so that a provider's mix-up can never hand one entry for another),
 * then the payload. */
#define MAGIC      "MCP1"
#define MAGIC_LEN  4
#define HEADER_LEN (MAGIC_LEN + 1 + 8 + MCP_CACHE_KEY_SIZE)

typedef enum {
    KIND_ANSWER = 'a',
    KIND_VERDICT = 'v',
    KIND_KNOWN_GOOD = 'g',
    KIND_RESULT = 'r'
} entry_kind;

struct mcp_cache {
    mcp_cache_store store;
    unsigned char salt[64];
    apr_size_t salt_len;
    apr_size_t max_entry;
    apr_uint32_t down;              /* an incident is running */
    apr_uint32_t said_too_large;    /* logged once per process */
    mcp_cache_stats stats;
    apr_thread_mutex_t *lock;       /* the flights */
    apr_hash_t *flights;            /* in a pool of its own */
};

struct mcp_cache_flight {
    apr_pool_t *pool;               /* the flight's own */
    unsigned char key[MCP_CACHE_KEY_SIZE];
    apr_thread_cond_t *landed_cond;
    int riders;                     /* the leader and those waiting */
    int landed;                     /* 1: the answers are in; -1: none
                                     * for others (the call was dropped) */
    int n;
    mcp_matomo_answer *answers;     /* copies, their JSON as text */
    const char **texts;
};

mcp_cache *mcp_cache_create(apr_pool_t *p, const mcp_cache_store *store,
                            const unsigned char *salt, apr_size_t salt_len,
                            apr_size_t max_entry)
{
    mcp_cache *c = apr_pcalloc(p, sizeof(*c));
    apr_allocator_t *allocator = NULL;
    apr_pool_t *own;

    /* The flights' table grows in a pool of its own, with an allocator of
     * its own, touched only under the lock: p is the child's, which other
     * threads allocate from under other locks. */
    if (apr_allocator_create(&allocator) != APR_SUCCESS) {
        return NULL;
    }
    if (apr_pool_create_ex(&own, p, NULL, allocator) != APR_SUCCESS) {
        apr_allocator_destroy(allocator);
        return NULL;
    }
    apr_allocator_owner_set(allocator, own);
    if (apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p)
        != APR_SUCCESS) {
        return NULL;
    }
    c->store = *store;
    c->salt_len = salt_len < sizeof(c->salt) ? salt_len : sizeof(c->salt);
    memcpy(c->salt, salt, c->salt_len);
    c->max_entry = max_entry;
    c->flights = apr_hash_make(own);
    return c;
}

void mcp_cache_stats_get(mcp_cache *c, mcp_cache_stats *out)
{
    out->hits = apr_atomic_read32(&c->stats.hits);
    out->misses = apr_atomic_read32(&c->stats.misses);
    out->result_hits = apr_atomic_read32(&c->stats.result_hits);
    out->stores = apr_atomic_read32(&c->stats.stores);
    out->too_large = apr_atomic_read32(&c->stats.too_large);
    out->failures = apr_atomic_read32(&c->stats.failures);
    out->coalesced = apr_atomic_read32(&c->stats.coalesced);
    out->verdict_hits = apr_atomic_read32(&c->stats.verdict_hits);
}

/* --- the store, and its incidents --------------------------------- */

/* A store operation's outcome.  A failure starts an incident (one line);
 * a success ends it (one line).  A miss proves nothing either way: some
 * providers answer "not found" while their only server is marked dead.
 * A store that cannot hold a value that size (shmcb's subcaches) is no
 * outage: said once per process, the value is not cached. */
static void outcome(mcp_cache *c, apr_status_t rv, int storing)
{
    if (rv == APR_SUCCESS) {
        if (apr_atomic_cas32(&c->down, 0, 1) == 1) {
            c->store.incident(c->store.baton, 0, NULL, rv);
        }
        return;
    }
    if (!storing && rv == APR_NOTFOUND) {
        return;
    }
    if (storing && rv == APR_ENOSPC) {
        apr_atomic_inc32(&c->stats.too_large);
        if (apr_atomic_cas32(&c->said_too_large, 1, 0) == 0) {
            c->store.incident(c->store.baton, 1, "the cache cannot hold "
                              "an answer this large: such answers are not "
                              "cached (make the cache larger, or "
                              "MatomoMcpCacheMaxEntry smaller)", rv);
        }
        return;
    }
    apr_atomic_inc32(&c->stats.failures);
    if (apr_atomic_cas32(&c->down, 1, 0) == 0) {
        c->store.incident(c->store.baton, 1, storing
                          ? "storing in the cache failed; answers come from "
                            "Matomo meanwhile"
                          : "reading from the cache failed; answers come "
                            "from Matomo meanwhile", rv);
    }
}

static void put_be64(unsigned char *b, apr_uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static apr_uint64_t get_be64(const unsigned char *b)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

/* The id an entry is stored under: its kind and key. */
static void entry_id(entry_kind kind, const unsigned char *key,
                     unsigned char id[1 + MCP_CACHE_KEY_SIZE])
{
    id[0] = (unsigned char)kind;
    memcpy(id + 1, key, MCP_CACHE_KEY_SIZE);
}

static void put_entry(mcp_cache *c, apr_pool_t *p, entry_kind kind,
                      const unsigned char *key, const void *payload,
                      apr_size_t len, apr_interval_time_t ttl)
{
    unsigned char id[1 + MCP_CACHE_KEY_SIZE], *value;
    apr_time_t now = apr_time_now();

    if (len > c->max_entry) {
        apr_atomic_inc32(&c->stats.too_large);
        return;
    }
    value = apr_palloc(p, HEADER_LEN + len);
    memcpy(value, MAGIC, MAGIC_LEN);
    value[MAGIC_LEN] = (unsigned char)kind;
    put_be64(value + MAGIC_LEN + 1, (apr_uint64_t)now);
    memcpy(value + MAGIC_LEN + 9, key, MCP_CACHE_KEY_SIZE);
    memcpy(value + HEADER_LEN, payload, len);
    entry_id(kind, key, id);
    outcome(c, c->store.put(c->store.baton, id, sizeof(id), now + ttl, value,
                            (unsigned int)(HEADER_LEN + len), p),
            1);
}

/* The payload of the entry (kind, key) into buf (size bytes), or -1. */
static apr_ssize_t get_entry(mcp_cache *c, apr_pool_t *p, entry_kind kind,
                             const unsigned char *key, unsigned char *buf,
                             apr_size_t size, apr_time_t *stored_at)
{
    unsigned char id[1 + MCP_CACHE_KEY_SIZE];
    unsigned int len = (unsigned int)size;
    apr_status_t rv;

    entry_id(kind, key, id);
    rv = c->store.get(c->store.baton, id, sizeof(id), buf, &len, p);
    outcome(c, rv, 0);
    if (rv != APR_SUCCESS || len < HEADER_LEN || len > size
        || memcmp(buf, MAGIC, MAGIC_LEN) != 0 || buf[MAGIC_LEN] != kind
        || memcmp(buf + MAGIC_LEN + 9, key, MCP_CACHE_KEY_SIZE) != 0) {
        return -1;
    }
    *stored_at = (apr_time_t)get_be64(buf + MAGIC_LEN + 1);
    memmove(buf, buf + HEADER_LEN, len - HEADER_LEN);
    return (apr_ssize_t)(len - HEADER_LEN);
}

/* --- keys --------------------------------------------------------- */

/* Each field followed by a NUL: "a" + "bc" never hashes as "ab" + "c". */
static void hash_field(apr_sha1_ctx_t *ctx, const char *s)
{
    apr_sha1_update_binary(ctx, (const unsigned char *)s,
                           (unsigned int)strlen(s) + 1);
}

void mcp_cache_token_key(const mcp_cache *c, const char *scope,
                         const char *token,
                         unsigned char out[MCP_CACHE_KEY_SIZE])
{
    apr_sha1_ctx_t ctx;

    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, c->salt, (unsigned int)c->salt_len);
    hash_field(&ctx, "token");
    hash_field(&ctx, scope);
    hash_field(&ctx, token);
    apr_sha1_final(out, &ctx);
}

/* By name; equal names keep their order (a list parameter's order may
 * matter).  Insertion sort: a call has a dozen parameters at most. */
static const mcp_param **sorted_params(apr_pool_t *p,
                                       const apr_array_header_t *params,
                                       int *n)
{
    const mcp_param **s;
    int i, j;

    *n = params != NULL ? params->nelts : 0;
    s = apr_palloc(p, sizeof(*s) * (apr_size_t)(*n + 1));
    for (i = 0; i < *n; i++) {
        const mcp_param *x = &APR_ARRAY_IDX(params, i, mcp_param);

        for (j = i; j > 0 && strcmp(s[j - 1]->name, x->name) > 0; j--) {
            s[j] = s[j - 1];
        }
        s[j] = x;
    }
    return s;
}

void mcp_cache_answer_key(apr_pool_t *p, const char *scope,
                          const unsigned char *token_key, const char *method,
                          const apr_array_header_t *params,
                          unsigned char out[MCP_CACHE_KEY_SIZE])
{
    apr_sha1_ctx_t ctx;
    const mcp_param **s;
    int n, i;

    s = sorted_params(p, params, &n);
    apr_sha1_init(&ctx);
    hash_field(&ctx, "answer");
    hash_field(&ctx, scope);
    apr_sha1_update_binary(&ctx, token_key, MCP_CACHE_KEY_SIZE);
    hash_field(&ctx, method);
    for (i = 0; i < n; i++) {
        hash_field(&ctx, s[i]->name);
        hash_field(&ctx, s[i]->value);
    }
    apr_sha1_final(out, &ctx);
}

/* --- what may be kept, and how long -------------------------------- */

/* Matomo's answers that change as visits arrive, whatever the date. */
static const char *const never_kept[] = {
    "Live.", "API.getMatomoVersion", "API.getSuggestedValuesForSegment",
    NULL
};

/* Per-site facts: they change only when an admin changes them. */
static const char *const facts[] = {
    "SitesManager.getSiteFromId", "SitesManager.getSitesWithAtLeastViewAccess",
    "SitesManager.getSitesIdWithAtLeastViewAccess", "API.getReportMetadata",
    "API.getReportPagesMetadata", "API.getSegmentsMetadata",
    "SegmentEditor.getAll", "Goals.getGoals", NULL
};

static int listed(const char *const *list, const char *method)
{
    int i;

    for (i = 0; list[i] != NULL; i++) {
        size_t n = strlen(list[i]);

        if (list[i][n - 1] == '.' ? !strncmp(method, list[i], n)
                                  : !strcmp(method, list[i])) {
            return 1;
        }
    }
    return 0;
}

static const char *param_value(const apr_array_header_t *params,
                               const char *name)
{
    int i;

    for (i = 0; params != NULL && i < params->nelts; i++) {
        const mcp_param *x = &APR_ARRAY_IDX(params, i, mcp_param);

        if (!strcmp(x->name, name)) {
            return x->value;
        }
    }
    return NULL;
}

/* Days since 1970-01-01 of a calendar day (proleptic Gregorian). */
static long day_number(mcp_day d)
{
    long y = d.m <= 2 ? d.y - 1 : d.y;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (d.m + (d.m > 2 ? -3 : 9)) + 2) / 5 + d.d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

/* 1 when (period, date) is absolute and ends before today wherever the
 * site is: its last day at least two days before UTC's today (a site at
 * UTC-12 is at most one day behind). */
static int period_is_past(const char *period, const char *date,
                          apr_time_t now)
{
    mcp_day start, end, utc;
    apr_time_exp_t t;

    if (period == NULL || date == NULL
        || !mcp_period_resolve(period, date, &start, &end)
        || apr_time_exp_gmt(&t, now) != APR_SUCCESS) {
        return 0;
    }
    utc.y = t.tm_year + 1900;
    utc.m = t.tm_mon + 1;
    utc.d = t.tm_mday;
    return day_number(end) <= day_number(utc) - 2;
}

apr_interval_time_t mcp_cache_ttl_for(const mcp_cache_ttl *ttl,
                                      const char *method,
                                      const apr_array_header_t *params,
                                      apr_time_t now)
{
    const char *date = param_value(params, "date");

    if (listed(never_kept, method)) {
        return 0;
    }
    if (listed(facts, method)) {
        return ttl->facts;
    }
    return period_is_past(param_value(params, "period"), date, now)
               ? ttl->past : ttl->recent;
}

/* --- answers ------------------------------------------------------ */

/* One buffer per pool for reading answers: a tool's several lookups
 * reuse it. */
static unsigned char *read_buffer(mcp_cache *c, apr_pool_t *p)
{
    void *buf = NULL;

    apr_pool_userdata_get(&buf, "mcp_cache_buffer", p);
    if (buf == NULL) {
        buf = apr_palloc(p, HEADER_LEN + c->max_entry + 1);
        apr_pool_userdata_setn(buf, "mcp_cache_buffer", NULL, p);
    }
    return buf;
}

int mcp_cache_answer_get(mcp_cache *c, apr_pool_t *p,
                         const unsigned char *key, mcp_matomo_answer *out,
                         apr_time_t *stored_at)
{
    unsigned char *buf = read_buffer(c, p);
    apr_ssize_t len = get_entry(c, p, KIND_ANSWER, key, buf,
                                HEADER_LEN + c->max_entry, stored_at);
    json_object *json = NULL;

    if (len < 0 || mcp_json_parse(p, (const char *)buf, (apr_size_t)len,
                                  ANSWER_MAX_DEPTH, &json) != MCP_JSON_OK) {
        apr_atomic_inc32(&c->stats.misses);
        return 0;
    }
    apr_atomic_inc32(&c->stats.hits);
    memset(out, 0, sizeof(*out));
    out->status = MCP_MATOMO_OK;
    out->http_status = 200;
    out->json = json;
    return 1;
}

void mcp_cache_answer_put(mcp_cache *c, apr_pool_t *p,
                          const unsigned char *key,
                          const mcp_matomo_answer *a,
                          apr_interval_time_t ttl)
{
    apr_size_t len = 0;
    const char *text;

    if (ttl <= 0 || a->status != MCP_MATOMO_OK || a->json == NULL) {
        return;
    }
    text = mcp_json_to_string(p, a->json, &len);
    put_entry(c, p, KIND_ANSWER, key, text, len, ttl);
    if (len <= c->max_entry) {
        apr_atomic_inc32(&c->stats.stores);
    }
}

/* --- whole results ------------------------------------------------- */

void mcp_cache_result_key(apr_pool_t *p, const char *scope,
                          const unsigned char *token_key, const char *tool,
                          const char *arguments,
                          unsigned char out[MCP_CACHE_KEY_SIZE])
{
    apr_sha1_ctx_t ctx;

    (void)p;
    apr_sha1_init(&ctx);
    hash_field(&ctx, "result");
    hash_field(&ctx, scope);
    apr_sha1_update_binary(&ctx, token_key, MCP_CACHE_KEY_SIZE);
    hash_field(&ctx, tool);
    hash_field(&ctx, arguments);
    apr_sha1_final(out, &ctx);
}

/* The payload: origin (8 bytes), answers (4), then the text. */
#define RESULT_HEADER 12

int mcp_cache_result_get(mcp_cache *c, apr_pool_t *p,
                         const unsigned char *key, const char **text,
                         apr_size_t *len, apr_time_t *origin, int *answers)
{
    unsigned char *buf = read_buffer(c, p);
    apr_time_t at;
    apr_ssize_t n = get_entry(c, p, KIND_RESULT, key, buf,
                              HEADER_LEN + c->max_entry, &at);

    if (n < RESULT_HEADER) {
        return 0;
    }
    *origin = (apr_time_t)get_be64(buf);
    *answers = (int)(((apr_uint32_t)buf[8] << 24) | ((apr_uint32_t)buf[9] << 16)
                     | ((apr_uint32_t)buf[10] << 8) | buf[11]);
    *len = (apr_size_t)n - RESULT_HEADER;
    *text = apr_pstrmemdup(p, (const char *)buf + RESULT_HEADER, *len);
    apr_atomic_inc32(&c->stats.result_hits);
    return 1;
}

void mcp_cache_result_put(mcp_cache *c, apr_pool_t *p,
                          const unsigned char *key, const char *text,
                          apr_size_t len, apr_time_t origin, int answers,
                          apr_interval_time_t ttl)
{
    unsigned char *payload;

    if (ttl <= 0 || len > c->max_entry) {
        return;
    }
    payload = apr_palloc(p, RESULT_HEADER + len);
    put_be64(payload, (apr_uint64_t)origin);
    payload[8] = (unsigned char)((apr_uint32_t)answers >> 24);
    payload[9] = (unsigned char)((apr_uint32_t)answers >> 16);
    payload[10] = (unsigned char)((apr_uint32_t)answers >> 8);
    payload[11] = (unsigned char)answers;
    memcpy(payload + RESULT_HEADER, text, len);
    put_entry(c, p, KIND_RESULT, key, payload, RESULT_HEADER + len, ttl);
}

/* --- verdicts ------------------------------------------------------ */

mcp_verdict mcp_cache_verdict_get(mcp_cache *c, apr_pool_t *p,
                                  const unsigned char *token_key,
                                  apr_time_t *stored_at)
{
    unsigned char buf[HEADER_LEN + 1];

    if (get_entry(c, p, KIND_VERDICT, token_key, buf, sizeof(buf), stored_at)
            != 1
        || (buf[0] != MCP_VERDICT_VALID && buf[0] != MCP_VERDICT_INVALID)) {
        return MCP_VERDICT_UNKNOWN;
    }
    apr_atomic_inc32(&c->stats.verdict_hits);
    return (mcp_verdict)buf[0];
}

void mcp_cache_verdict_put(mcp_cache *c, apr_pool_t *p,
                           const unsigned char *token_key, mcp_verdict v,
                           apr_interval_time_t ttl)
{
    unsigned char byte = (unsigned char)v;
    unsigned char good = v == MCP_VERDICT_VALID;

    if (ttl > 0) {
        put_entry(c, p, KIND_VERDICT, token_key, &byte, 1, ttl);
    }
    /* A refused token is known good no more: overwritten, not removed
     * (the providers' remove is not on every path of the interface). */
    put_entry(c, p, KIND_KNOWN_GOOD, token_key, &good, 1,
              good ? KNOWN_GOOD_TTL : ttl > 0 ? ttl : apr_time_from_sec(60));
}

int mcp_cache_known_good(mcp_cache *c, apr_pool_t *p,
                         const unsigned char *token_key)
{
    unsigned char buf[HEADER_LEN + 1];
    apr_time_t at;

    return get_entry(c, p, KIND_KNOWN_GOOD, token_key, buf, sizeof(buf),
                     &at) == 1
           && buf[0] == 1;
}

/* --- flights ------------------------------------------------------ */

/* Each flight lives in a pool of its own, gone with its last rider. */
mcp_cache_flight *mcp_cache_flight_join(mcp_cache *c,
                                        const unsigned char *key,
                                        int *leader)
{
    mcp_cache_flight *f;
    apr_pool_t *fp;

    apr_thread_mutex_lock(c->lock);
    f = apr_hash_get(c->flights, key, MCP_CACHE_KEY_SIZE);
    *leader = f == NULL;
    if (f == NULL) {
        if (apr_pool_create(&fp, NULL) != APR_SUCCESS) {
            apr_thread_mutex_unlock(c->lock);
            return NULL;
        }
        f = apr_pcalloc(fp, sizeof(*f));
        f->pool = fp;
        if (apr_thread_cond_create(&f->landed_cond, fp) != APR_SUCCESS) {
            apr_pool_destroy(fp);
            apr_thread_mutex_unlock(c->lock);
            return NULL;
        }
        memcpy(f->key, key, MCP_CACHE_KEY_SIZE);
        apr_hash_set(c->flights, f->key, MCP_CACHE_KEY_SIZE, f);
    }
    f->riders++;
    apr_thread_mutex_unlock(c->lock);
    return f;
}

/* Leaves f, freeing it with the last rider.  Called with the lock held. */
static void leave(mcp_cache_flight *f)
{
    if (--f->riders == 0) {
        apr_pool_destroy(f->pool);
    }
}

void mcp_cache_flight_land(mcp_cache *c, mcp_cache_flight *f,
                           const mcp_matomo_answer *answers, int n)
{
    int i, kept = 1;

    /* Copied out of the leader's pool, which goes with its request, into
     * the flight's (nobody else touches it before landed is set); a
     * cancelled call is no answer for anyone else. */
    f->answers = apr_pcalloc(f->pool, sizeof(*f->answers) * (apr_size_t)n);
    f->texts = apr_pcalloc(f->pool, sizeof(*f->texts) * (apr_size_t)n);
    for (i = 0; i < n; i++) {
        f->answers[i] = answers[i];
        f->answers[i].json = NULL;
        f->answers[i].message = answers[i].message != NULL
            ? apr_pstrdup(f->pool, answers[i].message) : NULL;
        if (answers[i].status == MCP_MATOMO_CANCELLED) {
            kept = 0;
        }
        if (answers[i].status == MCP_MATOMO_OK && answers[i].json != NULL) {
            f->texts[i] = mcp_json_to_string(f->pool, answers[i].json, NULL);
        }
    }
    apr_thread_mutex_lock(c->lock);
    f->n = n;
    f->landed = kept ? 1 : -1;
    apr_hash_set(c->flights, f->key, MCP_CACHE_KEY_SIZE, NULL);
    apr_thread_cond_broadcast(f->landed_cond);
    leave(f);
    apr_thread_mutex_unlock(c->lock);
}

/* The copies of the leader's answers, into p. */
static int take_answers(apr_pool_t *p, const mcp_cache_flight *f,
                        mcp_matomo_answer *answers, int n)
{
    int i;

    if (f->landed != 1 || f->n != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        answers[i] = f->answers[i];
        answers[i].message = f->answers[i].message != NULL
                                 ? apr_pstrdup(p, f->answers[i].message)
                                 : NULL;
        if (f->texts[i] != NULL
            && mcp_json_parse(p, f->texts[i], strlen(f->texts[i]),
                              ANSWER_MAX_DEPTH, &answers[i].json)
                   != MCP_JSON_OK) {
            return 0;
        }
    }
    return 1;
}

int mcp_cache_flight_wait(mcp_cache *c, mcp_cache_flight *f, apr_pool_t *p,
                          apr_interval_time_t max_wait,
                          mcp_matomo_answer *answers, int n)
{
    apr_time_t deadline = apr_time_now() + max_wait;
    int got = 0;

    apr_thread_mutex_lock(c->lock);
    while (!f->landed && apr_time_now() < deadline) {
        apr_thread_cond_timedwait(f->landed_cond, c->lock,
                                  deadline - apr_time_now());
    }
    if (f->landed) {
        got = take_answers(p, f, answers, n);
    }
    leave(f);
    apr_thread_mutex_unlock(c->lock);
    if (got) {
        apr_atomic_inc32(&c->stats.coalesced);
    }
    return got;
}
