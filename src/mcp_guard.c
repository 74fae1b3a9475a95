#include "mcp_guard.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

/* Client addresses remembered at once.  An address pushed out forgets
 * what it spent; the total budget still holds, whatever the number of
 * addresses a guesser has. */
#define CLIENT_SLOTS 512
#define PROBES       8
#define ADDRESS_MAX  64     /* an IPv6 address with zone fits */

typedef struct {
    double units;           /* refused checks it may still cause */
    apr_time_t at;          /* when units was last brought up to date */
    int in_flight;          /* checks let through, not settled yet */
} bucket;

typedef struct {
    char address[ADDRESS_MAX];
    bucket b;
    apr_time_t blocked_until;   /* Matomo blocks this client alone */
} client_slot;

struct mcp_guard {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *settled;
    bucket total;
    client_slot clients[CLIENT_SLOTS];
    apr_time_t locked_until;        /* back-off after Matomo's lock-out */
    apr_interval_time_t backoff;
    apr_time_t last_lockout;
    char last_client[ADDRESS_MAX];  /* the last one a lock-out met alone */
    apr_time_t last_client_at;
};

mcp_guard *mcp_guard_create(apr_pool_t *p)
{
    mcp_guard *g = apr_pcalloc(p, sizeof(*g));

    if (apr_thread_mutex_create(&g->lock, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS
        || apr_thread_cond_create(&g->settled, p) != APR_SUCCESS) {
        return NULL;
    }
    g->total.at = -1;
    return g;
}

/* Brings b up to now: full at first sight, then cap units per window. */
static void refill(bucket *b, int cap, apr_interval_time_t window,
                   apr_time_t now)
{
    if (b->at < 0) {
        b->units = cap;
    }
    else if (now > b->at) {
        b->units += (double)(now - b->at) * cap / (double)window;
        if (b->units > cap) {
            b->units = cap;
        }
    }
    b->at = now;
}

/* How long until b holds one unit. */
static apr_interval_time_t wait_for_one(const bucket *b, int cap,
                                        apr_interval_time_t window)
{
    return b->units >= 1.0
               ? 0
               : (apr_interval_time_t)((1.0 - b->units) * (double)window
                                       / cap) + 1;
}

/* client's slot, claimed when it has none: a free one, else the one of
 * the probed slots with the most units (the least spent, so the cheapest
 * to forget). */
static client_slot *client_of(mcp_guard *g, const char *client)
{
    unsigned int h = 0;
    apr_ssize_t len = (apr_ssize_t)strlen(client);
    client_slot *pick = NULL;
    int i;

    h = apr_hashfunc_default(client, &len);
    for (i = 0; i < PROBES; i++) {
        client_slot *s = &g->clients[(h + (unsigned int)i) % CLIENT_SLOTS];

        if (!strcmp(s->address, client)) {
            return s;
        }
        if (pick == NULL || s->address[0] == '\0'
            || (pick->address[0] != '\0' && s->b.units > pick->b.units)) {
            pick = s;
        }
    }
    apr_cpystrn(pick->address, client, sizeof(pick->address));
    pick->b.at = -1;
    pick->b.in_flight = 0;
    pick->blocked_until = 0;
    return pick;
}

/* What stands between client and a check now: 0 when nothing does, -1
 * when only checks in flight do, else the time until a unit comes back.
 * Called with the lock held. */
static apr_interval_time_t obstacle(mcp_guard *g, const mcp_guard_budget *b,
                                    client_slot *slot, apr_time_t now,
                                    int *locked)
{
    apr_interval_time_t wait;

    if (now < g->locked_until || now < slot->blocked_until) {
        *locked = 1;
        return (now < g->locked_until ? g->locked_until
                                      : slot->blocked_until) - now;
    }
    refill(&slot->b, b->per_client, b->window, now);
    refill(&g->total, b->total, b->window, now);
    wait = wait_for_one(&slot->b, b->per_client, b->window);
    if (wait == 0) {
        wait = wait_for_one(&g->total, b->total, b->window);
    }
    if (wait > 0) {
        return wait;
    }
    return slot->b.units - slot->b.in_flight >= 1.0
                   && g->total.units - g->total.in_flight >= 1.0
               ? 0 : -1;
}

apr_interval_time_t mcp_guard_admit(mcp_guard *g, const mcp_guard_budget *b,
                                    const char *client,
                                    apr_interval_time_t max_wait,
                                    int *locked)
{
    apr_time_t deadline = apr_time_now() + max_wait;
    apr_interval_time_t wait;
    client_slot *slot;

    *locked = 0;
    apr_thread_mutex_lock(g->lock);
    for (;;) {
        slot = client_of(g, client);
        wait = obstacle(g, b, slot, apr_time_now(), locked);
        if (wait != -1) {
            break;
        }
        if (apr_time_now() >= deadline) {
            wait = apr_time_from_sec(1);    /* still in flight: soon */
            break;
        }
        apr_thread_cond_timedwait(g->settled, g->lock,
                                  deadline - apr_time_now());
    }
    if (wait == 0) {
        slot->b.in_flight++;
        g->total.in_flight++;
    }
    apr_thread_mutex_unlock(g->lock);
    return wait;
}

void mcp_guard_settle(mcp_guard *g, const mcp_guard_budget *b,
                      const char *client, int admitted, int refused)
{
    apr_time_t now = apr_time_now();
    client_slot *slot;

    apr_thread_mutex_lock(g->lock);
    slot = client_of(g, client);
    refill(&slot->b, b->per_client, b->window, now);
    refill(&g->total, b->total, b->window, now);
    if (admitted) {
        /* An evicted slot lost its count: never below zero. */
        slot->b.in_flight -= slot->b.in_flight > 0;
        g->total.in_flight -= g->total.in_flight > 0;
    }
    if (refused) {
        slot->b.units -= 1.0;
        g->total.units -= 1.0;
    }
    apr_thread_cond_broadcast(g->settled);
    apr_thread_mutex_unlock(g->lock);
}

/* A lock-out met by client, with its address forwarded: everyone's when
 * another client met one within the first back-off.  Called with the
 * lock held. */
static int everyones(mcp_guard *g, const char *client, apr_time_t now)
{
    int other = g->last_client[0] != '\0'
                && now - g->last_client_at < MCP_GUARD_LOCKOUT_FIRST
                && strncmp(g->last_client, client, ADDRESS_MAX - 1) != 0;

    apr_cpystrn(g->last_client, client, sizeof(g->last_client));
    g->last_client_at = now;
    return other;
}

int mcp_guard_locked_out(mcp_guard *g, const char *client, int forwarded,
                         apr_time_t now)
{
    int new_incident = 0;

    apr_thread_mutex_lock(g->lock);
    if (forwarded && !everyones(g, client, now)) {
        client_of(g, client)->blocked_until = now + MCP_GUARD_CLIENT_LOCKOUT;
        apr_thread_mutex_unlock(g->lock);
        return 0;
    }
    new_incident = g->last_lockout == 0
                   || now - g->last_lockout > MCP_GUARD_LOCKOUT_MAX;
    if (new_incident) {
        g->backoff = MCP_GUARD_LOCKOUT_FIRST;
    }
    else if (now >= g->locked_until) {
        /* Asked again after the back-off, and still locked: wait longer. */
        g->backoff = g->backoff * 2 > MCP_GUARD_LOCKOUT_MAX
                         ? MCP_GUARD_LOCKOUT_MAX : g->backoff * 2;
    }
    if (now + g->backoff > g->locked_until) {
        g->locked_until = now + g->backoff;
    }
    g->last_lockout = now;
    apr_thread_mutex_unlock(g->lock);
    return new_incident;
}
