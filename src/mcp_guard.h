/*
 * Who may make Matomo check a token, and when Matomo must not be asked.
 *
 * Every token check of an unknown token is a login attempt on Matomo, and
 * Matomo's brute-force protection counts a refused one against the address
 * that made it: the module's own, shared by every user (Matomo 5: 20
 * failures in 60 minutes lock that address out, valid tokens included).
 * So checks are budgeted, per client address and in total: a check takes
 * one unit of both budgets before it is made, and gives it back when the
 * token turns out good (or Matomo did not judge it).  Past a budget an
 * unverified token is refused at once (429), without a Matomo call; a
 * token already known good never asks.  Budgets refill steadily, so a
 * guesser gets its units back at the budget's own rate and no sooner.
 *
 * When Matomo answers with its lock-out anyway (an admin's lower
 * threshold, another client of Matomo on the same address), no token is
 * checked until a back-off has passed: each check would extend the lock.
 * Whose lock it is decides whose checks wait: a lock-out met by a token
 * known to be good means Matomo blocks an address everybody shares (the
 * module's), so every unverified token waits; one met by an unverified
 * token may be Matomo blocking that client alone (when it reads the
 * client's address from X-Forwarded-For), so that client waits.
 *
 * Per child process (a mutex guards the state); httpd-free: APR only.
 */
#ifndef MCP_GUARD_H
#define MCP_GUARD_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct mcp_guard mcp_guard;

/* A budget: so many checks per window, refilled steadily. */
typedef struct {
    int per_client;
    int total;
    apr_interval_time_t window;
} mcp_guard_budget;

/* NULL: out of memory, or no threads to guard against (APR without
 * threads). */
mcp_guard *mcp_guard_create(apr_pool_t *p);

/* Asks to check client's token now.  Returns 0 with both units taken, or
 * the time until one more check would be admitted (and takes nothing):
 * because client spent its budget, everyone together spent theirs, or
 * Matomo's lock-out back-off is running (*locked set). */
apr_interval_time_t mcp_guard_admit(mcp_guard *g, const mcp_guard_budget *b,
                                    const char *client, apr_time_t now,
                                    int *locked);

/* The check admitted for client came back without a refusal: its units
 * are returned. */
void mcp_guard_refund(mcp_guard *g, const mcp_guard_budget *b,
                      const char *client, apr_time_t now);

/* Matomo answered with its lock-out.  shared: the lock is the module's
 * (see above), so every unverified token waits; else client's alone.
 * Starts (or extends) the back-off; returns 1 when a shared lock-out
 * starts a new incident (worth one error-log line). */
int mcp_guard_locked_out(mcp_guard *g, const char *client, int shared,
                         apr_time_t now);

/* The back-off after a shared lock-out: Matomo 5 blocks for as long as
 * its window of failures lasts (60 minutes by default) or until an admin
 * clears it; the module asks again after a minute, then doubling up to an
 * hour, and forgets the incident after an hour without one.  A client
 * Matomo blocks alone waits ten minutes a time. */
#define MCP_GUARD_LOCKOUT_FIRST  apr_time_from_sec(60)
#define MCP_GUARD_LOCKOUT_MAX    apr_time_from_sec(3600)
#define MCP_GUARD_CLIENT_LOCKOUT apr_time_from_sec(600)

#endif
