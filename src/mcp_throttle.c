#include "mcp_throttle.h"

#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

struct mcp_throttle {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *freed;
    int in_flight;
    int failures;                   /* in a row */
    apr_time_t open_until;          /* 0: closed */
    apr_interval_time_t open_for;   /* the last time it opened */
    int probing;                    /* the one call sent while half-open */
};

mcp_throttle *mcp_throttle_create(apr_pool_t *p)
{
    mcp_throttle *t = apr_pcalloc(p, sizeof(*t));

    if (apr_thread_mutex_create(&t->lock, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS
        || apr_thread_cond_create(&t->freed, p) != APR_SUCCESS) {
        return NULL;
    }
    return t;
}

/* Open, half-open (one probe goes, the rest wait it out) or closed.
 * Called with the lock held. */
static int breaker_holds(mcp_throttle *t, apr_time_t now,
                         apr_interval_time_t *retry)
{
    if (t->open_until == 0) {
        return 0;
    }
    if (now < t->open_until) {
        *retry = t->open_until - now;
        return 1;
    }
    if (t->probing) {
        *retry = MCP_THROTTLE_OPEN_FIRST;
        return 1;
    }
    t->probing = 1;
    return 0;
}

mcp_throttle_verdict mcp_throttle_enter(mcp_throttle *t,
                                        const mcp_throttle_limits *lim,
                                        apr_interval_time_t *retry)
{
    apr_time_t deadline = apr_time_now() + lim->max_wait;
    mcp_throttle_verdict v = MCP_THROTTLE_GO;

    apr_thread_mutex_lock(t->lock);
    while (t->in_flight >= lim->max_in_flight) {
        apr_interval_time_t left = deadline - apr_time_now();

        if (left <= 0) {
            v = MCP_THROTTLE_BUSY;
            break;
        }
        apr_thread_cond_timedwait(t->freed, t->lock, left);
    }
    if (v == MCP_THROTTLE_GO && lim->failures > 0
        && breaker_holds(t, apr_time_now(), retry)) {
        v = MCP_THROTTLE_OPEN;
    }
    if (v == MCP_THROTTLE_GO) {
        t->in_flight++;
    }
    apr_thread_mutex_unlock(t->lock);
    return v;
}

void mcp_throttle_done(mcp_throttle *t, const mcp_throttle_limits *lim,
                       mcp_throttle_outcome outcome)
{
    apr_thread_mutex_lock(t->lock);
    t->in_flight--;
    if (outcome == MCP_THROTTLE_NEITHER) {
        /* A probe that said nothing lets the next call probe. */
    }
    else if (outcome == MCP_THROTTLE_ANSWERED) {
        t->failures = 0;
        t->open_until = 0;
        t->open_for = 0;
    }
    else if (lim->failures > 0 && ++t->failures >= lim->failures
             && (t->open_until == 0 || t->probing)) {
        /* Opens, or stays open longer after a failed probe. */
        t->open_for = t->open_for == 0 ? MCP_THROTTLE_OPEN_FIRST
                                       : t->open_for * 2;
        if (t->open_for > lim->max_open) {
            t->open_for = lim->max_open;
        }
        t->open_until = apr_time_now() + t->open_for;
    }
    t->probing = 0;
    apr_thread_cond_signal(t->freed);
    apr_thread_mutex_unlock(t->lock);
}

int mcp_throttle_in_flight(mcp_throttle *t)
{
    int n;

    apr_thread_mutex_lock(t->lock);
    n = t->in_flight;
    apr_thread_mutex_unlock(t->lock);
    return n;
}
