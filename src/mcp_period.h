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

/* Start and end of (period, date) for any date the tools accept, with
 * today being the site's current day (Matomo resolves relative dates in
 * the site's timezone; the caller learns today from Matomo).  today and
 * yesterday name the period holding that day; lastN the N periods ending
 * with today's; previousN the N periods before today's, N cut to
 * mcp_period_max_n as Matomo cuts it.  With period range, lastN and
 * previousN count days.  0 when date is not one of these,
 * or is relative and today is not a valid day (unknown: {0, 0, 0}). */
int mcp_period_span(const char *period, const char *date, mcp_day today,
                    mcp_day *start, mcp_day *end);

/* N of a lastN or previousN date (1 to 9999), else 0. */
int mcp_period_count(const char *date);

/* The largest N Matomo 5.1.2 gives for lastN/previousN with period
 * (core/Period/Range.php, getMaxN: 5 * 365 days, 10 * 52 weeks, 10 * 12
 * months, 10 years); it cuts a larger N to this without a word.  0 when
 * there is no cap (period range: N days, any N). */
int mcp_period_max_n(const char *period);

/* The day n periods after day (n may be negative). */
mcp_day mcp_period_shift(const char *period, mcp_day day, int n);

#endif
