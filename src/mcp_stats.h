/*
 * What the module tells the server's administrator about its work: the
 * counters behind the "Matomo MCP" section of /server-status, and the
 * per-request notes behind the access log's %{mcp-...}n fields.
 *
 * Counters live in one block of memory shared by every child process (the
 * glue, src/mod_matomo_mcp_status.c, maps it): one slot per process, which
 * only that process writes, with atomic adds, so no lock is ever taken on
 * the request path and processes never write each other's cache lines; the
 * reader sums the slots.  Nothing counted names a token, a site, a query
 * or an argument value: counters are keyed by the module's own method and
 * tool names and by failure classes only.
 *
 * httpd-free: APR only.  Every recording function takes a slot that may be
 * NULL (no counters configured, the unit tests, the fuzzers): then it does
 * nothing.
 */
#ifndef MCP_STATS_H
#define MCP_STATS_H

#include <apr_pools.h>
#include <apr_time.h>

#include "mcp_matomo.h"

/* Tools and JSON-RPC methods a slot has room for; the start-up check
 * (mcp_stats_fits) refuses a catalog or method table that outgrew them. */
#define MCP_STATS_TOOLS_MAX    32
#define MCP_STATS_METHODS_MAX  24
/* Backend latency per tool: log-scale buckets, four per doubling from
 * 256 us (each at most 25% wide) up to 2^31 us (35 minutes). */
#define MCP_STATS_BUCKETS      96

/* Eras a message is counted under: the two of src/mcp_era.h, and "none"
 * for a body refused before any era was decided (not JSON, not
 * JSON-RPC). */
#define MCP_STATS_ERA_LEGACY 0
#define MCP_STATS_ERA_MODERN 1
#define MCP_STATS_ERA_NONE   2
#define MCP_STATS_ERAS       3

/* Message kinds besides the methods of the dispatch table, which take the
 * indexes 0 .. methods-1 (mcp_server_method_name). */
#define MCP_STATS_OTHER_METHOD(methods)  (methods)      /* unknown name */
#define MCP_STATS_NOTIFICATION(methods)  ((methods) + 1) /* or a response */
#define MCP_STATS_INVALID(methods)       ((methods) + 2) /* not a message */

/* Why a Matomo call gave no answer to use (src/mcp_matomo.h's statuses,
 * grouped as an administrator acts on them). */
typedef enum {
    MCP_FAIL_TIMEOUT = 0,     /* no answer within MatomoMcpBackendTimeout */
    MCP_FAIL_REFUSED,         /* no connection (refused, unreachable) */
    MCP_FAIL_5XX,             /* HTTP 5xx (Matomo's lock-out apart) */
    MCP_FAIL_401,             /* HTTP 401: a token Matomo does not know */
    MCP_FAIL_OVER_CAP,        /* over MatomoMcpMaxBackendResponse */
    MCP_FAIL_INVALID_JSON,    /* not JSON, empty, or cut short */
    MCP_FAIL_OTHER_HTTP,      /* any other HTTP status */
    MCP_FAIL_LOCKED_OUT,      /* Matomo's brute-force lock-out */
    MCP_FAIL_BUSY,            /* never sent: MatomoMcpBackendConcurrency */
    MCP_FAIL_BREAKER_OPEN,    /* never sent: MatomoMcpCircuitBreaker */
    MCP_FAIL_CLASSES
} mcp_failure_class;

/* The class of a failed answer, or -1 for an answer that is no failure of
 * Matomo's (data, Matomo's own error message, a cancelled call). */
int mcp_stats_failure_class(const mcp_matomo_answer *answer);
const char *mcp_stats_failure_name(int failure_class);

/* Token verdict events. */
typedef enum {
    MCP_TOKEN_CHECKED = 0,    /* a check sent to Matomo */
    MCP_TOKEN_REFUSED,        /* ... that Matomo refused */
    MCP_TOKEN_REMEMBERED,     /* a verdict taken from the verdict cache */
    MCP_TOKEN_EVENTS
} mcp_token_event;

typedef struct mcp_stats mcp_stats;            /* the shared block */
typedef struct mcp_stats_slot mcp_stats_slot;  /* one process's part */

/* --- the shared block (the glue maps it; these lay it out) ----------- */

apr_size_t mcp_stats_size(int slots);
/* Lays out a zeroed block of mcp_stats_size(slots) bytes. */
mcp_stats *mcp_stats_init(void *mem, int slots);
/* The block at mem when it was laid out by this build (a module upgraded
 * across a graceful restart may lay it out differently), else NULL. */
mcp_stats *mcp_stats_attach(void *mem, apr_size_t size);
/* Every counter back to zero, every slot free: only while no process
 * writes (before children start). */
void mcp_stats_reset(mcp_stats *stats);

/* A slot for process pid: a free one, or one whose owner is gone (alive()
 * says so; a process that crashed never freed its slot).  Its gauges
 * start at zero, its counters keep what earlier owners counted.  When
 * every slot is held, the last one is shared (atomic adds keep it exact).
 * Never NULL. */
mcp_stats_slot *mcp_stats_claim(mcp_stats *stats, apr_uint32_t pid,
                                int (*alive)(apr_uint32_t pid));
void mcp_stats_release(mcp_stats_slot *slot, apr_uint32_t pid);

/* 1 when the catalog and the method table fit a slot. */
int mcp_stats_fits(int tools, int methods);

/* --- recording (slot may be NULL) ------------------------------------ */

void mcp_stats_request(mcp_stats_slot *slot);
void mcp_stats_message(mcp_stats_slot *slot, int era, int method);
/* One tools/call of catalog tool index tool: whether its result was a tool
 * error, and the time it spent waiting for Matomo (backend_calls 0: it
 * never called Matomo, no latency is recorded). */
void mcp_stats_tool(mcp_stats_slot *slot, int tool, int error,
                    int backend_calls, apr_interval_time_t backend_time);
void mcp_stats_failure(mcp_stats_slot *slot, int failure_class);
void mcp_stats_token(mcp_stats_slot *slot, mcp_token_event event);
/* The interface of the shared cache (issue 14): one lookup, hit or miss. */
void mcp_stats_cache(mcp_stats_slot *slot, int hit);
/* Event streams open now: +1 when one opens, -1 when it ends. */
void mcp_stats_stream(mcp_stats_slot *slot, int delta);

/* --- reading: every slot summed ------------------------------------- */

typedef struct {
    apr_uint64_t requests;
    apr_uint64_t messages[MCP_STATS_ERAS][MCP_STATS_METHODS_MAX];
    apr_uint64_t tool_calls[MCP_STATS_TOOLS_MAX];
    apr_uint64_t tool_errors[MCP_STATS_TOOLS_MAX];
    apr_uint64_t tool_latency[MCP_STATS_TOOLS_MAX][MCP_STATS_BUCKETS];
    apr_uint64_t failures[MCP_FAIL_CLASSES];
    apr_uint64_t tokens[MCP_TOKEN_EVENTS];
    apr_uint64_t cache_hits, cache_misses;
    apr_int64_t streams;            /* open now */
    int slots_in_use;               /* processes counting now */
} mcp_stats_totals;

void mcp_stats_sum(const mcp_stats *stats, mcp_stats_totals *totals);

/* The q-quantile (0 < q <= 1) of a latency histogram, in milliseconds:
 * the upper bound of the bucket that holds it, so never below the true
 * value and at most 25% above it.  -1 when the histogram is empty. */
double mcp_stats_quantile_ms(const apr_uint64_t *histogram, double q);

/* The bucket a latency falls into, and its upper bound (exposed for the
 * unit tests). */
int mcp_stats_bucket(apr_interval_time_t us);
apr_interval_time_t mcp_stats_bucket_bound(int bucket);

/* --- one request, for the access log ---------------------------------- */

/* What the %{mcp-...}n notes show of one HTTP request: the module's own
 * names and numbers only, never a token or an argument value. */
typedef struct {
    const char *era;            /* "legacy", "modern"; NULL: none decided */
    const char *methods;        /* known method names, ','-joined (a
                                 * batch has several); "unknown" for a name
                                 * not in the table */
    const char *tools;          /* catalog tool names, ','-joined */
    int backend_calls;          /* round trips to Matomo, token check too */
    apr_interval_time_t backend_time;
    const char *error;          /* the first error answered: a JSON-RPC
                                 * code ("-32602") or a tool-error class */
} mcp_notes;

/* Appends name to a ','-joined list (NULL: empty). */
const char *mcp_notes_join(apr_pool_t *p, const char *list, const char *name);

#endif
