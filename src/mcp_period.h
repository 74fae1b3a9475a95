/*
 * Matomo periods as calendar dates: the first and last day a (period, date)
 * pair covers, so every result can state what it is about.  Weeks run
 * Monday to Sunday, as in Matomo.  Relative dates (today, yesterday,
 * lastN, previousN) depend on the site's timezone: they are resolved from
 * the date keys Matomo answers with, not from this machine's clock.
 *
 * httpd-free: APR only.
 */
#ifndef MCP_PERIOD_H
#define MCP_PERIOD_H

#include <apr_pools.h>

typedef struct {
    int y, m, d;
} mcp_day;

/* Parses YYYY-MM-DD strictly (a real calendar day, years 1991-9999). */
int mcp_day_parse(const char *s, mcp_day *out);

/* YYYY-MM-DD */
const char *mcp_day_format(apr_pool_t *p, mcp_day d);

/* The days period covers around day: day itself, its Monday-Sunday week,
 * its month or its year.  0 for an unknown period. */
int mcp_period_bounds(const char *period, mcp_day day, mcp_day *start,
                      mcp_day *end);

/* Start and end of one entry of a Matomo date-keyed answer: "2026-11-25"
 * (day), "2026-11-23,2026-11-29" (week or range), "2026-11" (month),
 * "2026" (year). */
int mcp_period_from_key(const char *period, const char *key, mcp_day *start,
                        mcp_day *end);

/* Start and end of (period, date) when date is absolute (YYYY-MM-DD, or a
 * range start,end); 0 for relative dates. */
int mcp_period_resolve(const char *period, const char *date, mcp_day *start,
                       mcp_day *end);

#endif
