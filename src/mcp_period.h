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

/* The forms of date every tool takes, by their spelling alone (the
 * schemas' date pattern): YYYY-MM-DD; today or yesterday; lastN or
 * previousN with N from 1 to 999; YYYY-MM-DD,YYYY-MM-DD. */
typedef enum {
    MCP_DATE_INVALID = 0,
    MCP_DATE_DAY,
    MCP_DATE_TODAY,
    MCP_DATE_COUNT,
    MCP_DATE_RANGE
} mcp_date_form;

mcp_date_form mcp_period_date_form(const char *date);

/* 1 when date depends on the site's today (today, yesterday, lastN,
 * previousN). */
int mcp_period_is_relative(const char *date);

/* What a tool makes of lastN/previousN with period day, week, month or
 * year.  (With period range they are always the last or previous N days,
 * one aggregate.) */
typedef enum {
    /* One entry per period, or the span the periods cover. */
    MCP_COUNTS_PER_PERIOD,
    /* Refused: the tool answers for one period (or one range). */
    MCP_COUNTS_REFUSED,
    /* Matomo's visitor log (Live API) reads lastN as the last N days
     * whatever the period, and previousN with no end: lastN with period
     * day only, no previousN. */
    MCP_COUNTS_LIVE_DAYS
} mcp_count_use;

/* The one set of rules for a tool's period and date arguments; arg names
 * the date argument in messages ("date", "compare_dates[1]").  NULL when
 * they go together, else the message for the model:
 *   - date is one of the forms above (the schema says so first);
 *   - period range takes YYYY-MM-DD,YYYY-MM-DD, lastN or previousN, and a
 *     date pair needs period range;
 *   - lastN/previousN with the other periods as use says;
 *   - dates are calendar days, a range's first not after its last;
 *   - N within what Matomo gives for one call (mcp_period_check_count). */
const char *mcp_period_check(apr_pool_t *p, const char *arg,
                             const char *period, const char *date,
                             mcp_count_use use);

/* NULL when n periods of period are within what Matomo gives for one
 * lastN/previousN (mcp_period_max_n); else the error for argument arg,
 * naming the cap.  Matomo would cut n without a word, and the result
 * would state a span it did not cover. */
const char *mcp_period_check_count(apr_pool_t *p, const char *arg,
                                   const char *period, int n);

/* N of a lastN or previousN date (1 to 9999), else 0. */
int mcp_period_count(const char *date);

/* The largest N Matomo 5.1.2 gives for lastN/previousN with period
 * (core/Period/Range.php, getMaxN: 5 * 365 days, 10 * 52 weeks, 10 * 12
 * months, 10 years); it cuts a larger N to this without a word.  0 when
 * there is no cap (period range: N days, any N). */
int mcp_period_max_n(const char *period);

/* 1 when today lies within [start, end], a period still in progress, and
 * then *share is the part of it already over: its days before today over
 * all its days (0 for a period of today alone).  Today itself is not
 * counted, as the module knows the site's date but not its hour: the
 * share is what is certainly over.  0 otherwise. */
int mcp_period_partial(mcp_day start, mcp_day end, mcp_day today,
                       double *share);

/* The number of days from a to b (b - a; negative when b is earlier). */
long mcp_day_diff(mcp_day a, mcp_day b);

/* The day n periods after day (n may be negative). */
mcp_day mcp_period_shift(const char *period, mcp_day day, int n);

#endif
