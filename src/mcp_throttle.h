/*
 * Load Matomo can carry: at most so many calls in flight per child (the
 * rest wait a bounded time, then are told Matomo is busy), and a circuit
 * breaker: after so many failures in a row (timeouts, connection refused,
 * 5xx) no call is sent for a while, growing while the failures go on; then
 * one call probes, and its success closes the breaker again.  A Matomo
 * that is down or drowning then gets no more work from the module, and
 * callers get the reason at once instead of a timeout each.
 *
 * Per child process; httpd-free: APR only.
 */
#ifndef MCP_THROTTLE_H
#define MCP_THROTTLE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct mcp_throttle mcp_throttle;

typedef struct {
    int max_in_flight;              /* per child */
    apr_interval_time_t max_wait;   /* for a free slot */
    int failures;                   /* in a row that open the breaker;
                                     * 0: no breaker */
    apr_interval_time_t max_open;   /* the longest it stays open */
} mcp_throttle_limits;

typedef enum {
    MCP_THROTTLE_GO,        /* a slot is taken: call, then mcp_throttle_done */
    MCP_THROTTLE_BUSY,      /* no slot within max_wait */
    MCP_THROTTLE_OPEN       /* the breaker is open: *retry says how long */
} mcp_throttle_verdict;

mcp_throttle *mcp_throttle_create(apr_pool_t *p);

mcp_throttle_verdict mcp_throttle_enter(mcp_throttle *t,
                                        const mcp_throttle_limits *lim,
                                        apr_interval_time_t *retry);

typedef enum {
    MCP_THROTTLE_ANSWERED,  /* Matomo answered (data or its own error):
                             * closes the breaker */
    MCP_THROTTLE_FAILED,    /* no answer in time, no connection, 5xx:
                             * counts towards opening it */
    MCP_THROTTLE_NEITHER    /* the client left, or the module stopped the
                             * call: says nothing about Matomo */
} mcp_throttle_outcome;

/* The call that mcp_throttle_enter let go is over. */
void mcp_throttle_done(mcp_throttle *t, const mcp_throttle_limits *lim,
                       mcp_throttle_outcome outcome);

/* Calls in flight in this process now (for tests and status). */
int mcp_throttle_in_flight(mcp_throttle *t);

/* How long the breaker stays open the first time; it doubles while the
 * probes fail. */
#define MCP_THROTTLE_OPEN_FIRST apr_time_from_sec(2)

#endif
