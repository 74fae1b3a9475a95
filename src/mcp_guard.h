/*
 * Who may make Matomo check a token, and when Matomo must not be asked.
 *
 * Every token check of an unknown token is a login attempt on Matomo, and
 * Matomo's brute-force protection counts a refused one against the address
 * that made it: the module's own, shared by every user (Matomo 5: 20
 * failures in 60 minutes lock that address out, valid tokens included).
 * So refused checks are budgeted, per client address and in total.  A
 * check is let through while the budgets, less the checks still in
 * flight, hold a whole unit: concurrent guesses cannot overshoot them,
 * and a check that only waits for others in flight waits (briefly)
 * rather than being refused.  A check that comes back refused spends its
 * unit.  Past a budget an unverified token is refused at once (429),
 * without a Matomo call; a token known good never asks, nor waits.
 * Budgets refill steadily, so a guesser gets its units back at the
 * budget's own rate and no sooner.
 *
 * When Matomo answers with its lock-out anyway (an admin's lower
 * threshold, another client of Matomo on the same address), no token is
 * checked until a back-off has passed: each check would extend the lock.
 * Whose lock it is decides whose checks wait.  Without X-Forwarded-For,
 * Matomo sees only the module's address: the lock is everyone's, and no
 * unverified token is checked until a back-off has passed.  With it,
 * Matomo (when it reads the header) may be blocking that one client: its
 * checks wait; only when a second client meets a lock-out soon after is
 * the lock taken for everyone's (the module's own address, Matomo not
 * reading the header).
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

/* Asks to check client's token now.  Returns 0 when the check may go
 * (it is then in flight: mcp_guard_settle when it is over), after
 * waiting up to max_wait for checks in flight to settle when only they
 * stand in the way; else the time until one more check would be let
 * through, because client spent its budget, everyone together spent
 * theirs, or Matomo's lock-out back-off is running (*locked set). */
apr_interval_time_t mcp_guard_admit(mcp_guard *g, const mcp_guard_budget *b,
                                    const char *client,
                                    apr_interval_time_t max_wait,
                                    int *locked);

/* A check of client's token is over: admitted says whether
 * mcp_guard_admit let it through (a token known good skips that), refused
 * whether Matomo refused the token, which spends a unit of both budgets. */
void mcp_guard_settle(mcp_guard *g, const mcp_guard_budget *b,
                      const char *client, int admitted, int refused);

/* Matomo answered client with its lock-out; forwarded: the call carried
 * the client's address in X-Forwarded-For.  Starts (or extends) the
 * back-off, client's or everyone's (see above); returns 1 when a lock-out
 * of everyone starts a new incident (worth one error-log line). */
int mcp_guard_locked_out(mcp_guard *g, const char *client, int forwarded,
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
