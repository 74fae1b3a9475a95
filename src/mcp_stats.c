#include "mcp_stats.h"

#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>

/* One process's counters.  Written by its owner's threads only, with
 * atomic adds (lock-free where the platform has 64-bit atomics, as every
 * 64-bit one Debian supports does); read by anyone, a counter at a time. */
struct mcp_stats_slot {
    volatile apr_uint32_t owner;          /* pid; 0: free */
    volatile apr_uint32_t streams;        /* gauge: event streams open */
    volatile apr_uint64_t requests;
    volatile apr_uint64_t messages[MCP_STATS_ERAS][MCP_STATS_METHODS_MAX];
    volatile apr_uint64_t tool_calls[MCP_STATS_TOOLS_MAX];
    volatile apr_uint64_t tool_errors[MCP_STATS_TOOLS_MAX];
    /* 32 bits a bucket: four billion calls of one tool in one latency
     * bucket before it wraps. */
    volatile apr_uint32_t tool_latency[MCP_STATS_TOOLS_MAX][MCP_STATS_BUCKETS];
    volatile apr_uint64_t failures[MCP_FAIL_CLASSES];
    volatile apr_uint64_t tokens[MCP_TOKEN_EVENTS];
    volatile apr_uint64_t cache_hits, cache_misses;
};

#define STATS_MAGIC 0x4d634d53u   /* "McMS" */

struct mcp_stats {
    apr_uint32_t magic;
    apr_uint32_t slot_size;         /* this build's layout */
    apr_uint32_t nslots;
    mcp_stats_slot slots[];
};

apr_size_t mcp_stats_size(int slots)
{
    return sizeof(mcp_stats) + (apr_size_t)slots * sizeof(mcp_stats_slot);
}

mcp_stats *mcp_stats_init(void *mem, int slots)
{
    mcp_stats *s = mem;

    memset(s, 0, mcp_stats_size(slots));
    s->magic = STATS_MAGIC;
    s->slot_size = (apr_uint32_t)sizeof(mcp_stats_slot);
    s->nslots = (apr_uint32_t)slots;
    return s;
}

mcp_stats *mcp_stats_attach(void *mem, apr_size_t size)
{
    mcp_stats *s = mem;

    if (size < sizeof(*s) || s->magic != STATS_MAGIC
        || s->slot_size != sizeof(mcp_stats_slot)
        || size < mcp_stats_size((int)s->nslots)) {
        return NULL;
    }
    return s;
}

void mcp_stats_reset(mcp_stats *stats)
{
    mcp_stats_init(stats, (int)stats->nslots);
}

int mcp_stats_fits(int tools, int methods)
{
    /* The methods, then "other", "notification", "invalid". */
    return tools <= MCP_STATS_TOOLS_MAX
           && methods + 3 <= MCP_STATS_METHODS_MAX;
}

mcp_stats_slot *mcp_stats_claim(mcp_stats *stats, apr_uint32_t pid,
                                int (*alive)(apr_uint32_t pid))
{
    apr_uint32_t i, last = stats->nslots - 1;

    for (i = 0; i <= last; i++) {
        mcp_stats_slot *slot = &stats->slots[i];
        apr_uint32_t owner = apr_atomic_read32(&slot->owner);

        if ((owner == 0 || (owner != pid && !alive(owner)))
            && apr_atomic_cas32(&slot->owner, pid, owner) == owner) {
            /* The streams of a crashed owner died with it. */
            apr_atomic_set32(&slot->streams, 0);
            return slot;
        }
    }
    return &stats->slots[last];
}

void mcp_stats_release(mcp_stats_slot *slot, apr_uint32_t pid)
{
    apr_atomic_cas32(&slot->owner, 0, pid);
}

/* --- recording -------------------------------------------------------- */

void mcp_stats_request(mcp_stats_slot *slot)
{
    if (slot != NULL) {
        apr_atomic_inc64(&slot->requests);
    }
}

void mcp_stats_message(mcp_stats_slot *slot, int era, int method)
{
    if (slot != NULL && era >= 0 && era < MCP_STATS_ERAS && method >= 0
        && method < MCP_STATS_METHODS_MAX) {
        apr_atomic_inc64(&slot->messages[era][method]);
    }
}

int mcp_stats_bucket(apr_interval_time_t us)
{
    int e = 0, b;
    apr_uint64_t v = us > 0 ? (apr_uint64_t)us : 0;

    if (v < 256) {
        return 0;
    }
    while ((v >> e) > 1) {
        e++;
    }
    b = (e - 8) * 4 + (int)((v >> (e - 2)) & 3) + 1;
    return b < MCP_STATS_BUCKETS ? b : MCP_STATS_BUCKETS - 1;
}

apr_interval_time_t mcp_stats_bucket_bound(int bucket)
{
    int e, m;

    if (bucket <= 0) {
        return 256;
    }
    e = (bucket - 1) / 4 + 8;
    m = (bucket - 1) % 4;
    return (apr_interval_time_t)(4 + m + 1) << (e - 2);
}

void mcp_stats_tool(mcp_stats_slot *slot, int tool, int error,
                    int backend_calls, apr_interval_time_t backend_time)
{
    if (slot == NULL || tool < 0 || tool >= MCP_STATS_TOOLS_MAX) {
        return;
    }
    apr_atomic_inc64(&slot->tool_calls[tool]);
    if (error) {
        apr_atomic_inc64(&slot->tool_errors[tool]);
    }
    if (backend_calls > 0) {
        apr_atomic_inc32(
            &slot->tool_latency[tool][mcp_stats_bucket(backend_time)]);
    }
}

void mcp_stats_failure(mcp_stats_slot *slot, int failure_class)
{
    if (slot != NULL && failure_class >= 0
        && failure_class < MCP_FAIL_CLASSES) {
        apr_atomic_inc64(&slot->failures[failure_class]);
    }
}

void mcp_stats_token(mcp_stats_slot *slot, mcp_token_event event)
{
    if (slot != NULL) {
        apr_atomic_inc64(&slot->tokens[event]);
    }
}

void mcp_stats_cache(mcp_stats_slot *slot, int hit)
{
    if (slot != NULL) {
        apr_atomic_inc64(hit ? &slot->cache_hits : &slot->cache_misses);
    }
}

void mcp_stats_stream(mcp_stats_slot *slot, int delta)
{
    if (slot == NULL) {
        return;
    }
    if (delta > 0) {
        apr_atomic_inc32(&slot->streams);
    }
    else {
        apr_atomic_dec32(&slot->streams);
    }
}

/* --- classes ----------------------------------------------------------- */

int mcp_stats_failure_class(const mcp_matomo_answer *a)
{
    switch (a->status) {
    case MCP_MATOMO_TIMEOUT:
        return MCP_FAIL_TIMEOUT;
    case MCP_MATOMO_UNREACHABLE:
        return MCP_FAIL_REFUSED;
    case MCP_MATOMO_BAD_TOKEN:
        return MCP_FAIL_401;
    case MCP_MATOMO_TOO_LARGE:
        return MCP_FAIL_OVER_CAP;
    case MCP_MATOMO_BAD_ANSWER:
        return MCP_FAIL_INVALID_JSON;
    case MCP_MATOMO_LOCKED_OUT:
        return MCP_FAIL_LOCKED_OUT;
    case MCP_MATOMO_BUSY:
        return MCP_FAIL_BUSY;
    case MCP_MATOMO_UNAVAILABLE:
        return MCP_FAIL_BREAKER_OPEN;
    case MCP_MATOMO_HTTP_ERROR:
        return a->http_status >= 500 && a->http_status < 600
                   ? MCP_FAIL_5XX : MCP_FAIL_OTHER_HTTP;
    default:
        /* Data, Matomo's own error or access refusal (an answer, not a
         * failure: the caller asked for something it may not have), a
         * call the client cancelled, or one never allowed. */
        return -1;
    }
}

const char *mcp_stats_failure_name(int failure_class)
{
    static const char *const names[MCP_FAIL_CLASSES] = {
        "timeout", "refused", "5xx", "401", "over_cap", "invalid_json",
        "other_http", "locked_out", "busy", "breaker_open"
    };

    return failure_class >= 0 && failure_class < MCP_FAIL_CLASSES
               ? names[failure_class] : NULL;
}

/* --- reading ----------------------------------------------------------- */

static void add_slot(const mcp_stats_slot *s, mcp_stats_totals *t)
{
    /* The reader's loads need no atomicity beyond the counter's own
     * width: a slot may be a few increments ahead of another, never torn
     * on the 64-bit platforms Debian builds for. */
    int i, j;

    t->requests += s->requests;
    for (i = 0; i < MCP_STATS_ERAS; i++) {
        for (j = 0; j < MCP_STATS_METHODS_MAX; j++) {
            t->messages[i][j] += s->messages[i][j];
        }
    }
    for (i = 0; i < MCP_STATS_TOOLS_MAX; i++) {
        t->tool_calls[i] += s->tool_calls[i];
        t->tool_errors[i] += s->tool_errors[i];
        for (j = 0; j < MCP_STATS_BUCKETS; j++) {
            t->tool_latency[i][j] += s->tool_latency[i][j];
        }
    }
    for (i = 0; i < MCP_FAIL_CLASSES; i++) {
        t->failures[i] += s->failures[i];
    }
    for (i = 0; i < MCP_TOKEN_EVENTS; i++) {
        t->tokens[i] += s->tokens[i];
    }
    t->cache_hits += s->cache_hits;
    t->cache_misses += s->cache_misses;
    /* A gauge read while its owner moves it may be one off, never
     * below zero once summed. */
    t->streams += (apr_int32_t)s->streams;
    t->slots_in_use += s->owner != 0;
}

void mcp_stats_sum(const mcp_stats *stats, mcp_stats_totals *totals)
{
    apr_uint32_t i;

    memset(totals, 0, sizeof(*totals));
    for (i = 0; i < stats->nslots; i++) {
        add_slot(&stats->slots[i], totals);
    }
    if (totals->streams < 0) {
        totals->streams = 0;
    }
}

double mcp_stats_quantile_ms(const apr_uint64_t *histogram, double q)
{
    apr_uint64_t n = 0, rank, seen = 0;
    int b;

    for (b = 0; b < MCP_STATS_BUCKETS; b++) {
        n += histogram[b];
    }
    if (n == 0) {
        return -1;
    }
    /* The smallest value with at least q of the values at or below it. */
    rank = (apr_uint64_t)(q * (double)n);
    if ((double)rank < q * (double)n || rank == 0) {
        rank++;
    }
    for (b = 0; b < MCP_STATS_BUCKETS; b++) {
        seen += histogram[b];
        if (seen >= rank) {
            break;
        }
    }
    return (double)mcp_stats_bucket_bound(b) / 1000.0;
}

/* --- notes ------------------------------------------------------------- */

const char *mcp_notes_join(apr_pool_t *p, const char *list, const char *name)
{
    return list == NULL ? name : apr_pstrcat(p, list, ",", name, NULL);
}
