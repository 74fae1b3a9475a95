/*
 * Tools about a site's traffic: the headline figures of a period (with a
 * comparison) and the evolution of metrics over the last N periods.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_json.h"
#include "mcp_period.h"
#include "mcp_shape.h"
#include "mcp_toolkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

/* --- shared helpers -------------------------------------------------- */

static long day_num(mcp_day d)
{
    return d.y * 10000L + d.m * 100L + d.d;
}

/* N of "lastN" / "previousN" (prefix included in s), else 0. */
static int count_of(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(s, prefix, n) != 0 || s[n] == '\0'
        || strspn(s + n, "0123456789") != strlen(s + n)) {
        return 0;
    }
    return atoi(s + n);
}

static int is_number(json_object *v)
{
    return json_object_is_type(v, json_type_int)
           || json_object_is_type(v, json_type_double);
}

/* {"period","date","start","end"} for days we computed ourselves. */
static json_object *span_of(apr_pool_t *p, const char *period,
                            const char *date, mcp_day start, mcp_day end)
{
    json_object *span = json_object_new_object();

    json_object_object_add(span, "period", json_object_new_string(period));
    json_object_object_add(span, "date", json_object_new_string(date));
    json_object_object_add(span, "start", json_object_new_string(
                                              mcp_day_format(p, start)));
    json_object_object_add(span, "end", json_object_new_string(
                                            mcp_day_format(p, end)));
    return span;
}

/* The start and end of a span object, when it has them. */
static int span_days(json_object *span, mcp_day *start, mcp_day *end)
{
    const char *s = mcp_json_get_string(span, "start");
    const char *e = mcp_json_get_string(span, "end");

    return s != NULL && e != NULL && mcp_day_parse(s, start)
           && mcp_day_parse(e, end);
}

/* Cross-field rules of period and date the schema cannot say. */
static const char *check_period_date(apr_pool_t *p, const char *period,
                                     const char *date)
{
    int range = !strcmp(period, "range");
    int pair = strchr(date, ',') != NULL;
    int counted = count_of(date, "last") > 0 || count_of(date, "previous") > 0;
    const char *error;
    mcp_day s, e;

    if (!counted
        && (!strncmp(date, "last", 4) || !strncmp(date, "previous", 8))) {
        return "date: lastN and previousN need N of 1 or more";
    }
    if ((error = mcp_check_range_date(period, date)) != NULL) {
        return error;
    }
    if (!range && pair) {
        return "date: YYYY-MM-DD,YYYY-MM-DD needs period range (a single "
               "date, today, yesterday, lastN or previousN go with day, "
               "week, month or year)";
    }
    if (pair && !mcp_period_resolve(period, date, &s, &e)) {
        return "date: the range must be two calendar days, the first not "
               "after the second";
    }
    if (!pair && !mcp_date_is_relative(date) && !mcp_day_parse(date, &s)) {
        return "date: not a calendar day (YYYY-MM-DD)";
    }
    return mcp_check_date_count(p, period, date);
}

/* The parameters of a dated call: idSite, period, date, segment, numbers
 * as numbers. */
static apr_array_header_t *dated_params(apr_pool_t *p, int id_site,
                                        const char *period, const char *date,
                                        const char *segment,
                                        const char *show_columns)
{
    apr_array_header_t *params = mcp_matomo_params(p);

    mcp_matomo_param_add(params, "idSite", apr_itoa(p, id_site));
    mcp_matomo_param_add(params, "period", period);
    mcp_matomo_param_add(params, "date", date);
    mcp_matomo_param_add(params, "format_metrics", "0");
    if (segment != NULL) {
        mcp_matomo_param_add(params, "segment", segment);
    }
    if (show_columns != NULL) {
        mcp_matomo_param_add(params, "showColumns", show_columns);
    }
    return params;
}

static mcp_matomo_request dated_call(apr_pool_t *p, const char *method,
                                     int id_site, const char *period,
                                     const char *date, const char *segment,
                                     const char *show_columns)
{
    mcp_matomo_request call;

    call.method = method;
    call.params = dated_params(p, id_site, period, date, segment,
                               show_columns);
    return call;
}

/* The entry of a date-keyed answer for the period starting on start; NULL
 * when map is no object (Goals.get may answer [], and json-c's object walk
 * would read through a NULL table). */
static json_object *entry_starting(json_object *map, const char *period,
                                   mcp_day start)
{
    if (json_object_is_type(map, json_type_object)) {
        json_object_object_foreach(map, key, val) {
            mcp_day s, e;

            if (mcp_period_from_key(period, key, &s, &e)
                && day_num(s) == day_num(start)) {
                return val;
            }
        }
    }
    return NULL;
}

/* --- matomo_traffic_summary ------------------------------------------ */

/* The headline metrics, as Matomo names them (VisitsSummary.get, then
 * Goals.get).  Matomo leaves out unique visitors for most ranges. */
static const char *const visit_metrics[] = {
    "nb_visits", "nb_uniq_visitors", "nb_actions", "nb_actions_per_visit",
    "bounce_rate", "avg_time_on_site"
};
static const char *const goal_metrics[] = {
    "nb_conversions", "conversion_rate", "revenue"
};
#define N_VISIT (sizeof(visit_metrics) / sizeof(visit_metrics[0]))
#define N_GOAL (sizeof(goal_metrics) / sizeof(goal_metrics[0]))

/* Copies names from one period's answer; [] (a period without data in a
 * date-keyed answer) counts as zeros, as Matomo's single-period answer
 * says. */
static void add_metrics(json_object *dst, json_object *src,
                        const char *const *names, size_t n)
{
    int empty = json_object_is_type(src, json_type_array);
    size_t i;

    for (i = 0; i < n; i++) {
        json_object *v = NULL;

        if (empty) {
            json_object_object_add(dst, names[i], json_object_new_int(0));
        }
        else if (json_object_is_type(src, json_type_object)
                 && json_object_object_get_ex(src, names[i], &v)
                 && v != NULL) {
            json_object_object_add(dst, names[i], mcp_shape_number(v));
        }
    }
}

/* goals NULL: Goals.get did not answer; its metrics are left out. */
static json_object *metrics_of(json_object *visits, json_object *goals,
                               int with_goals)
{
    json_object *m = json_object_new_object();

    add_metrics(m, visits, visit_metrics, N_VISIT);
    if (with_goals && goals != NULL) {
        add_metrics(m, goals, goal_metrics, N_GOAL);
    }
    return m;
}

static json_object *summary_columns(int with_goals)
{
    json_object *cols = json_object_new_array();
    size_t i;

    json_object_array_add(cols, json_object_new_string("date"));
    for (i = 0; i < N_VISIT; i++) {
        json_object_array_add(cols, json_object_new_string(visit_metrics[i]));
    }
    for (i = 0; with_goals && i < N_GOAL; i++) {
        json_object_array_add(cols, json_object_new_string(goal_metrics[i]));
    }
    return cols;
}

static void add_cell(json_object *row, json_object *metrics, const char *name)
{
    json_object *v = NULL;

    json_object_object_get_ex(metrics, name, &v);
    json_object_array_add(row, json_object_get(v));
}

static json_object *summary_row(const char *key, json_object *visits,
                                json_object *goals, int with_goals)
{
    json_object *m = metrics_of(visits, goals, with_goals);
    json_object *row = json_object_new_array();
    size_t i;

    json_object_array_add(row, json_object_new_string(key));
    for (i = 0; i < N_VISIT; i++) {
        add_cell(row, m, visit_metrics[i]);
    }
    for (i = 0; with_goals && i < N_GOAL; i++) {
        add_cell(row, m, goal_metrics[i]);
    }
    json_object_put(m);
    return row;
}

/* One row per period of a date-keyed answer, in Matomo's (chronological)
 * order; only periods starting within [from, to] when from is given. */
static json_object *summary_rows(json_object *vmap, json_object *gmap,
                                 int with_goals, const char *period,
                                 const mcp_day *from, const mcp_day *to)
{
    json_object *rows = json_object_new_array();

    json_object_object_foreach(vmap, key, val) {
        json_object *g = NULL;
        mcp_day s, e;

        if (from != NULL
            && (!mcp_period_from_key(period, key, &s, &e)
                || day_num(s) < day_num(*from) || day_num(s) > day_num(*to))) {
            continue;
        }
        if (gmap != NULL) {
            json_object_object_get_ex(gmap, key, &g);
        }
        json_object_array_add(rows, summary_row(key, val, g, with_goals));
    }
    return rows;
}

/* Per metric of now also in before: {"abs": now - before, "pct": the
 * change in percent of before (left out when before is 0)}; a metric
 * whose change is out of double range is left out, as a missing one. */
static json_object *change_of(json_object *now, json_object *before)
{
    json_object *out = json_object_new_object();

    json_object_object_foreach(now, key, val) {
        json_object *prev = NULL, *c, *diff, *pct;
        double a, b;

        if (!json_object_object_get_ex(before, key, &prev)
            || !is_number(val) || !is_number(prev)) {
            continue;
        }
        a = json_object_get_double(val);
        b = json_object_get_double(prev);
        diff = mcp_shape_rounded(a - b, 4);
        if (diff == NULL) {
            /* 1e308 - -1e308: no change to tell, as for a missing figure */
            continue;
        }
        c = json_object_new_object();
        json_object_object_add(c, "abs", diff);
        pct = b != 0 ? mcp_shape_rounded((a - b) / b * 100.0, 1) : NULL;
        if (pct != NULL) {
            json_object_object_add(c, "pct", pct);
        }
        json_object_object_add(out, key, c);
    }
    return out;
}

static int count_periods(const char *unit, mcp_day start, mcp_day end)
{
    int n = 0;
    mcp_day d = start;

    while (day_num(d) <= day_num(end) && n < 100000) {
        n++;
        d = mcp_period_shift(unit, d, 1);
    }
    return n;
}

static mcp_day year_earlier(mcp_day d)
{
    d.y--;
    if (d.m == 2 && d.d == 29) {
        d.d = 28;
    }
    return d;
}

/* n periods (days for a range) ending with the one holding day. */
static int periods_ending(const char *period, mcp_day day, int n,
                          mcp_day *cs, mcp_day *ce)
{
    mcp_day ignored;

    if (!strcmp(period, "range")) {
        *cs = day;
        *ce = mcp_period_shift("day", day, n - 1);
        return 1;
    }
    return mcp_period_bounds(period, mcp_period_shift(period, day, -(n - 1)),
                             cs, &ignored)
           && mcp_period_bounds(period, day, &ignored, ce);
}

/* The comparison of the asked days [start, end] (whole periods, or a
 * range of days):
 *   previous_period  the same number of periods (days) just before;
 *   previous_year    the same periods a year earlier: the same day, the
 *                    week 52 weeks earlier (same weekdays), the same
 *                    month or the year before; a range's dates a year
 *                    earlier (29 February becomes the 28th);
 *   YYYY-MM-DD       the same number of periods ending with the one
 *                    holding that day; a range of the same length
 *                    starting on it. */
static int compare_days(const char *period, mcp_day start, mcp_day end,
                        const char *compare_to, mcp_day *cs, mcp_day *ce)
{
    int range = !strcmp(period, "range");
    const char *unit = range ? "day" : period;
    int n = count_periods(unit, start, end);
    mcp_day first, ignored, d;

    if (!strcmp(compare_to, "previous_period")) {
        first = mcp_period_shift(unit, start, -n);
    }
    else if (!strcmp(compare_to, "previous_year")) {
        if (range) {
            *cs = year_earlier(start);
            *ce = year_earlier(end);
            return 1;
        }
        first = !strcmp(period, "day") ? year_earlier(start)
                : !strcmp(period, "week") ? mcp_period_shift("week", start, -52)
                : !strcmp(period, "month") ? mcp_period_shift("month", start,
                                                              -12)
                : mcp_period_shift("year", start, -1);
    }
    else if (mcp_day_parse(compare_to, &d)) {
        return periods_ending(period, d, n, cs, ce);
    }
    else {
        return 0;
    }
    if (range) {
        *cs = first;
        *ce = mcp_period_shift("day", first, n - 1);
        return 1;
    }
    return mcp_period_bounds(unit, first, cs, &ignored)
           && mcp_period_bounds(unit, mcp_period_shift(unit, *cs, n - 1),
                                &ignored, ce);
}

/* How many periods back a window ending with today's must reach to hold
 * both the asked periods (n of them) and their comparison, whatever today
 * is. */
static int window_size(const char *period, const char *date, int n,
                       const char *compare_to)
{
    /* previousN, and yesterday's period (today's or the one before) */
    int back = count_of(date, "previous") > 0 || !strcmp(date, "yesterday");

    if (!strcmp(compare_to, "previous_period")) {
        return back + 2 * n;
    }
    return back + n + (!strcmp(period, "day") ? 366
                       : !strcmp(period, "week") ? 52
                       : !strcmp(period, "month") ? 12 : 1);
}

/* NULL when the window for date fits in what Matomo gives for one lastN;
 * else the error, with the largest N that fits.  A window Matomo cut
 * would lose the oldest periods: the comparison's. */
static const char *check_window(apr_pool_t *p, const char *period,
                                const char *date, int n,
                                const char *compare_to)
{
    int cap = mcp_period_max_n(period);
    int size = window_size(period, date, n, compare_to);
    int fits;

    if (size <= cap) {
        return NULL;
    }
    fits = (cap - window_size(period, date, 0, compare_to))
           / (!strcmp(compare_to, "previous_period") ? 2 : 1);
    return apr_psprintf(p, "date: %s with compare_to %s takes %d %ss from "
                        "Matomo in one call, and it gives at most %d; ask "
                        "for %s%d or fewer, or give date and compare_to as "
                        "YYYY-MM-DD", date, compare_to, size, period, cap,
                        count_of(date, "last") > 0 ? "last" : "previous",
                        fits);
}

/* The date to ask Matomo for days [s, e] of period: a single period's
 * first day, or the pair (a date-keyed answer, or one range). */
static const char *date_for(apr_pool_t *p, int several, mcp_day s, mcp_day e)
{
    return several ? apr_pstrcat(p, mcp_day_format(p, s), ",",
                                 mcp_day_format(p, e), NULL)
                   : mcp_day_format(p, s);
}

/* The asked figures, or the comparison's: metrics for one period, rows
 * for several.  from/to pick periods out of a window answer. */
static const char *put_figures(json_object *dst, json_object *visits,
                               json_object *goals, int table,
                               const char *period, const mcp_day *from,
                               const mcp_day *to)
{
    int with_goals = goals != NULL;

    if (!json_object_is_type(visits, json_type_object)
        && !json_object_is_type(visits, json_type_array)) {
        return "Matomo's VisitsSummary.get answer is not an object";
    }
    if (table) {
        json_object *rows = json_object_is_type(visits, json_type_object)
                                ? summary_rows(visits, goals, with_goals,
                                               period, from, to)
                                : json_object_new_array();

        if (from != NULL && mcp_json_array_length(rows)
                                != (size_t)count_periods(period, *from, *to)) {
            json_object_put(rows);
            return "Matomo's answer does not cover every period asked for "
                   "(the site's day may just have changed): try again";
        }
        json_object_object_add(dst, "columns", summary_columns(with_goals));
        json_object_object_add(dst, "rows", rows);
        return NULL;
    }
    if (from != NULL) {
        visits = json_object_is_type(visits, json_type_object)
                     ? entry_starting(visits, period, *from) : NULL;
        goals = goals != NULL ? entry_starting(goals, period, *from) : NULL;
        if (visits == NULL) {
            return "Matomo's answer does not cover the period asked for "
                   "(the site's day may just have changed): try again";
        }
    }
    json_object_object_add(dst, "metrics",
                           metrics_of(visits, goals, with_goals));
    return NULL;
}

static json_object *goals_or_null(const mcp_matomo_answer *a)
{
    return a->status == MCP_MATOMO_OK
                   && (json_object_is_type(a->json, json_type_object)
                       || json_object_is_type(a->json, json_type_array))
               ? a->json : NULL;
}

static void run_traffic_summary(mcp_request *req, json_object *args,
                                mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    int id_site = mcp_arg_int(args, "idSite", 0);
    const char *period = mcp_arg_string(args, "period", "day");
    const char *date = mcp_arg_string(args, "date", "yesterday");
    const char *segment = mcp_arg_string(args, "segment", NULL);
    const char *compare_to = mcp_arg_string(args, "compare_to", NULL);
    int relative = mcp_date_is_relative(date);
    /* lastN/previousN of days, weeks...: one entry per period; with
     * period range they are one aggregate. */
    int table = strcmp(period, "range") != 0
                && (count_of(date, "last") > 0
                    || count_of(date, "previous") > 0);
    int window = 0, ncalls = 2;
    const char *asked_date = date, *cdate = NULL, *err;
    mcp_matomo_request calls[4];
    mcp_matomo_answer answers[4];
    json_object *span = NULL, *result, *compare = NULL, *goals, *cgoals;
    mcp_day s, e, cs, ce, d;

    if ((err = check_period_date(p, period, date)) != NULL) {
        res->error = err;
        return;
    }
    if (compare_to != NULL && strcmp(compare_to, "previous_period") != 0
        && strcmp(compare_to, "previous_year") != 0
        && !mcp_day_parse(compare_to, &d)) {
        res->error = "compare_to: not a calendar day (previous_period, "
                     "previous_year or YYYY-MM-DD)";
        return;
    }
    /* The comparison's dates.  Absolute dates: computed here, and the
     * comparison's calls ride in the same bulk request.  A relative date
     * (today, yesterday, lastN, previousN) depends on the site's today,
     * which Matomo only tells in the answer (mcp_call_dated asks for it in
     * the same round trip); asking first and then comparing would be a
     * second round trip.  So:
     *   - compare_to a day: the comparison is absolute anyway (N periods
     *     ending with the one holding that day);
     *   - previous_period/previous_year: ask for one window of periods
     *     ending with today's (date=lastK) that holds both the asked
     *     periods and their comparison whatever today is, then pick both
     *     out of it by their dates once today is known.  Exact Matomo
     *     figures per period, one round trip; a previous_year window of
     *     days is long (about 370 days) but still one request;
     *   - a relative range (period range, lastN/previousN) is one
     *     aggregate that no window can hold: refused, with the way out. */
    if (compare_to != NULL) {
        int n = table ? (count_of(date, "last") + count_of(date, "previous"))
                      : 1;

        if (!relative) {
            mcp_period_resolve(period, date, &s, &e);
            if (!compare_days(period, s, e, compare_to, &cs, &ce)) {
                res->error = "compare_to: no comparison period for this date";
                return;
            }
            cdate = date_for(p, !strcmp(period, "range"), cs, ce);
        }
        else if (!strcmp(period, "range")) {
            res->error = "compare_to: with period range, give date as "
                         "YYYY-MM-DD,YYYY-MM-DD (a lastN/previousN range "
                         "ends on the site's today, unknown before the "
                         "call; period day/week/month/year take lastN)";
            return;
        }
        else if (mcp_day_parse(compare_to, &d)) {
            periods_ending(period, d, n, &cs, &ce);
            cdate = date_for(p, table, cs, ce);
        }
        else {
            if ((err = check_window(p, period, date, n, compare_to))
                != NULL) {
                res->error = err;
                return;
            }
            window = 1;
            asked_date = apr_psprintf(p, "last%d",
                                      window_size(period, date, n,
                                                  compare_to));
        }
    }
    calls[0] = dated_call(p, "VisitsSummary.get", id_site, period, asked_date,
                          segment, NULL);
    calls[1] = dated_call(p, "Goals.get", id_site, period, asked_date,
                          segment, NULL);
    if (cdate != NULL) {
        calls[2] = dated_call(p, "VisitsSummary.get", id_site, period, cdate,
                              segment, NULL);
        calls[3] = dated_call(p, "Goals.get", id_site, period, cdate, segment,
                              NULL);
        ncalls = 4;
    }
    mcp_call_dated(req, id_site, period, date, calls, ncalls, answers, &span);
    if (!mcp_answered(&answers[0], res)) {
        return;
    }
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "idSite", json_object_new_int(id_site));
    json_object_object_add(result, "period", json_object_get(span));
    goals = goals_or_null(&answers[1]);
    if (window) {
        if (!span_days(span, &s, &e)
            || !compare_days(period, s, e, compare_to, &cs, &ce)) {
            res->error = "Matomo did not tell the site's today: give date as "
                         "YYYY-MM-DD to compare";
            return;
        }
        err = put_figures(result, answers[0].json, goals, table, period, &s,
                          &e);
    }
    else {
        err = put_figures(result, answers[0].json, goals, table, period, NULL,
                          NULL);
    }
    if (err != NULL) {
        res->error = err;
        return;
    }
    if (goals == NULL) {
        json_object_object_add(result, "note", json_object_new_string(
            apr_pstrcat(p, "conversions and revenue unavailable: ",
                        answers[1].message ? answers[1].message
                                           : "Goals.get gave no figures",
                        NULL)));
    }
    if (compare_to != NULL) {
        int several = table || !strcmp(period, "range");

        compare = json_object_new_object();
        json_object_object_add(result, "compare", compare);
        json_object_object_add(compare, "period", span_of(
            p, period, date_for(p, several, cs, ce), cs, ce));
        if (window) {
            err = put_figures(compare, answers[0].json, goals, table, period,
                              &cs, &ce);
        }
        else {
            if (answers[2].status != MCP_MATOMO_OK) {
                res->error = apr_pstrcat(
                    p, "compare_to: Matomo did not answer for ",
                    mcp_day_format(p, cs), " to ", mcp_day_format(p, ce),
                    ": ", answers[2].message ? answers[2].message : "no answer",
                    NULL);
                return;
            }
            cgoals = goals_or_null(&answers[3]);
            err = put_figures(compare, answers[2].json,
                              goals != NULL ? cgoals : NULL, table, period,
                              NULL, NULL);
        }
        if (err != NULL) {
            res->error = err;
            return;
        }
        if (!table) {
            json_object_object_add(compare, "change", change_of(
                json_object_object_get(result, "metrics"),
                json_object_object_get(compare, "metrics")));
        }
    }
    res->structured = result;
}

#define METRICS_TEXT                                                          \
    "nb_visits, nb_uniq_visitors (left out for most ranges), nb_actions, "    \
    "nb_actions_per_visit, bounce_rate, avg_time_on_site (seconds), "         \
    "nb_conversions, conversion_rate, revenue (site currency)"

const mcp_tool mcp_tool_traffic_summary = {
    "matomo_traffic_summary",
    "Traffic summary of a site",
    "Headline figures of one site for a period: " METRICS_TEXT ". Rates are "
    "fractions (0.06 is 6%). compare_to adds the same figures for another "
    "period and their change, in the same call: previous_period (the period "
    "before, e.g. last week for this week), previous_year (same day, the "
    "week 52 weeks earlier, same month or previous year; a range's dates a "
    "year earlier) or YYYY-MM-DD (the same kind of period holding that "
    "day). Result: metrics {metric: value}, compare {period, metrics, "
    "change {metric: {abs, pct}}} where pct is the change in percent of "
    "the comparison (-57.8 means -57.8%; absent when the comparison is 0). "
    "date lastN/previousN with period day/week/month/year gives a table "
    "(columns, rows: one row per period, date first) instead of metrics, "
    "and compare.rows for the comparison periods (Matomo gives at most "
    "10 years, 120 months, 520 weeks in one call, and a relative date's "
    "comparison rides in that call: with compare_to previous_period, "
    "years take last5 at most); period range with "
    "YYYY-MM-DD,YYYY-MM-DD (or lastN days) gives one aggregate. Dates are "
    "in the site's timezone; 'today' is partial, so compare it with care. "
    "segment narrows to matching visits. period tells the dates covered.",
    "{\"type\":\"object\",\"properties\":{" MCP_PROP_ID_SITE ","
    MCP_PROP_PERIOD "," MCP_PROP_DATE "," MCP_PROP_SEGMENT ","
    "\"compare_to\":{\"type\":\"string\",\"maxLength\":15,\"pattern\":"
    "\"^(previous_period|previous_year|[0-9]{4}-[0-9]{2}-[0-9]{2})$\","
    "\"description\":\"previous_period, previous_year, or YYYY-MM-DD: a "
    "day of the period to compare with\"}},"
    "\"required\":[\"idSite\"],\"additionalProperties\":false}",
    "{\"type\":\"object\",\"properties\":{"
    "\"idSite\":{\"type\":\"integer\"},"
    "\"period\":" MCP_SCHEMA_SPAN ","
    "\"metrics\":{\"type\":\"object\"},"
    "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"array\"}},"
    "\"compare\":{\"type\":\"object\",\"properties\":{"
    "\"period\":" MCP_SCHEMA_SPAN ","
    "\"metrics\":{\"type\":\"object\"},"
    "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"array\"}},"
    "\"change\":{\"type\":\"object\",\"additionalProperties\":{"
    "\"type\":\"object\",\"properties\":{\"abs\":{\"type\":\"number\"},"
    "\"pct\":{\"type\":\"number\"}},\"required\":[\"abs\"]}}},"
    "\"required\":[\"period\"]},"
    "\"note\":{\"type\":\"string\"}},"
    "\"required\":[\"idSite\",\"period\"]}",
    run_traffic_summary
};

/* --- matomo_get_trend ------------------------------------------------ */

/* Which method answers a metric cheaply; anything else comes from API.get,
 * which has every core metric (pageviews, downloads, referrer types...). */
static const char *const trend_visits[] = {
    "nb_visits", "nb_uniq_visitors", "nb_users", "nb_actions",
    "nb_visits_converted", "bounce_count", "sum_visit_length", "max_actions",
    "bounce_rate", "nb_actions_per_visit", "avg_time_on_site", NULL
};
static const char *const trend_goals[] = {
    "nb_conversions", "revenue", "conversion_rate",
    "nb_conversions_new_visit", "nb_visits_converted_new_visit",
    "revenue_new_visit", "conversion_rate_new_visit",
    "nb_conversions_returning_visit", "nb_visits_converted_returning_visit",
    "revenue_returning_visit", "conversion_rate_returning_visit", NULL
};
static const char *const trend_speed[] = {
    "avg_time_network", "avg_time_server", "avg_time_transfer",
    "avg_time_dom_processing", "avg_time_dom_completion", "avg_time_on_load",
    "avg_page_load_time", NULL
};

typedef struct {
    const char *method;
    const char *const *metrics;   /* NULL: any other metric */
} trend_source;

static const trend_source trend_sources[] = {
    { "VisitsSummary.get", trend_visits },
    { "Goals.get", trend_goals },
    { "PagePerformance.get", trend_speed },
    { "API.get", NULL },
};
#define N_SOURCES ((int)(sizeof(trend_sources) / sizeof(trend_sources[0])))
#define MAX_TREND_METRICS 10

static int source_of(const char *metric)
{
    int s;
    size_t i;

    for (s = 0; s < N_SOURCES; s++) {
        for (i = 0; trend_sources[s].metrics != NULL
                    && trend_sources[s].metrics[i] != NULL; i++) {
            if (!strcmp(trend_sources[s].metrics[i], metric)) {
                return s;
            }
        }
    }
    return N_SOURCES - 1;
}

static int default_last(const char *period)
{
    return !strcmp(period, "day") ? 14 : !strcmp(period, "week") ? 8
           : !strcmp(period, "month") ? 12 : 5;
}

/* The value of metric in one period's entry: an object (a metric row), a
 * list holding one (row evolution), or [] (no data that period: 0). */
static json_object *trend_cell(json_object *entry, const char *metric,
                               int *had_data)
{
    json_object *v = NULL;

    if (json_object_is_type(entry, json_type_array)) {
        if (mcp_json_array_length(entry) == 0) {
            return json_object_new_int(0);
        }
        entry = mcp_json_array_get(entry, 0);
    }
    if (!json_object_is_type(entry, json_type_object)) {
        return NULL;
    }
    *had_data = 1;
    if (!json_object_object_get_ex(entry, metric, &v) || v == NULL) {
        return NULL;
    }
    return mcp_shape_number(v);
}

/* Rows [key, metric...] over the periods of the first map; metric i comes
 * from maps[which[i]].  found[i] says whether metric i was ever there in a
 * period with data; data[i] whether its map had any data at all. */
static json_object *trend_rows(json_object **maps, const int *which, int n,
                               const char *const *names, int *found,
                               int *data)
{
    json_object *rows = json_object_new_array();

    json_object_object_foreach(maps[which[0]], key, val) {
        json_object *row = json_object_new_array();
        int i;

        (void)val;
        json_object_array_add(row, json_object_new_string(key));
        for (i = 0; i < n; i++) {
            json_object *entry = NULL, *cell = NULL;
            int had = 0;

            if (json_object_object_get_ex(maps[which[i]], key, &entry)) {
                cell = trend_cell(entry, names[i], &had);
            }
            data[i] |= had;
            found[i] |= had && cell != NULL;
            json_object_array_add(row, cell);
        }
        json_object_array_add(rows, row);
    }
    return rows;
}

/* A report id (Module_getAction or Module.getAction) as apiModule and
 * apiAction, read through the same allow-list as any call. */
static int report_parts(apr_pool_t *p, const char *id, const char **module,
                        const char **action)
{
    char *copy = apr_pstrdup(p, id);
    char *sep = strpbrk(copy, "._");

    if (sep == NULL) {
        return 0;
    }
    *sep = '\0';
    *module = copy;
    *action = sep + 1;
    return mcp_matomo_method_allowed(apr_pstrcat(p, copy, ".", sep + 1,
                                                 NULL));
}

/* "a, b, c" of the metric ids a row evolution's metadata lists. */
static const char *metric_names(apr_pool_t *p, json_object *metrics)
{
    const char *text = "";

    json_object_object_foreach(metrics, key, val) {
        (void)val;
        text = apr_pstrcat(p, text, *text ? ", " : "", key, NULL);
    }
    return text;
}

static void run_get_trend(mcp_request *req, json_object *args,
                          mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    int id_site = mcp_arg_int(args, "idSite", 0);
    const char *period = mcp_arg_string(args, "period", "day");
    const char *segment = mcp_arg_string(args, "segment", NULL);
    const char *report = mcp_arg_string(args, "report", NULL);
    const char *label = mcp_arg_string(args, "label", NULL);
    int last = mcp_arg_int(args, "last", default_last(period));
    const char *date = apr_psprintf(p, "last%d", last);
    json_object *list = mcp_json_get_typed(args, "metrics", json_type_array);
    const char *names[MAX_TREND_METRICS];
    const char *columns[N_SOURCES];
    int which[MAX_TREND_METRICS], call_of[N_SOURCES];
    int found[MAX_TREND_METRICS], data[MAX_TREND_METRICS];
    mcp_matomo_request calls[N_SOURCES];
    mcp_matomo_answer answers[N_SOURCES];
    json_object *maps[N_SOURCES], *span = NULL, *result, *cols, *rows;
    int n = 0, ncalls = 0, i, s;

    for (i = 0; list != NULL && i < (int)mcp_json_array_length(list)
                && i < MAX_TREND_METRICS; i++) {
        names[n++] = json_object_get_string(mcp_json_array_get(list, i));
    }
    if (list == NULL) {
        names[n++] = "nb_visits";
    }
    if (n == 0) {
        res->error = "metrics: give at least one metric id, e.g. "
                     "[\"nb_visits\"]";
        return;
    }
    if ((res->error = mcp_check_count(p, "last", period, last)) != NULL) {
        return;
    }
    if ((report == NULL) != (label == NULL)) {
        res->error = report == NULL
                         ? "report: label needs the report it is a row of "
                           "(e.g. Actions_getPageUrls)"
                         : "label: report needs the label of the row to "
                           "follow (as matomo_get_report shows it)";
        return;
    }
    memset(found, 0, sizeof(found));
    memset(data, 0, sizeof(data));
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "idSite", json_object_new_int(id_site));

    if (report != NULL) {
        /* One row of a report over time: API.getRowEvolution. */
        apr_array_header_t *params;
        const char *module, *action;
        json_object *ev, *meta;

        if (!report_parts(p, report, &module, &action)) {
            res->error = "report: not a readable report id (matomo_list_"
                         "reports lists them, e.g. Actions_getPageUrls)";
            return;
        }
        params = dated_params(p, id_site, period, date, segment, NULL);
        mcp_matomo_param_add(params, "apiModule", module);
        mcp_matomo_param_add(params, "apiAction", action);
        mcp_matomo_param_add(params, "label", label);
        calls[0].method = "API.getRowEvolution";
        calls[0].params = params;
        mcp_call_dated(req, id_site, period, date, calls, 1, answers, &span);
        if (!mcp_answered(&answers[0], res)) {
            return;
        }
        ev = mcp_json_get_typed(answers[0].json, "reportData",
                                json_type_object);
        if (ev == NULL) {
            res->error = "Matomo's row evolution has no periods";
            return;
        }
        meta = mcp_json_get_typed(mcp_json_get_typed(answers[0].json,
                                                     "metadata",
                                                     json_type_object),
                                  "metrics", json_type_object);
        for (i = 0; meta != NULL && json_object_object_length(meta) > 0
                    && i < n; i++) {
            if (!json_object_object_get_ex(meta, names[i], NULL)) {
                res->error = apr_psprintf(
                    p, "metrics: '%s' is not a metric of this report (it "
                    "has: %s)", names[i], metric_names(p, meta));
                return;
            }
        }
        maps[0] = ev;
        memset(which, 0, sizeof(which));
        rows = trend_rows(maps, which, n, names, found, data);
        json_object_object_add(result, "report", json_object_new_string(
                                                     apr_pstrcat(p, module,
                                                                 ".", action,
                                                                 NULL)));
        if (mcp_json_get_string(answers[0].json, "label") != NULL) {
            json_object_object_add(result, "label", json_object_get(
                json_object_object_get(answers[0].json, "label")));
        }
        mcp_mark_untrusted(result);
    }
    else {
        /* Each metric from the cheapest method that has it, all in one
         * round trip; showColumns keeps Matomo's answers small. */
        for (s = 0; s < N_SOURCES; s++) {
            columns[s] = NULL;
            call_of[s] = -1;
        }
        for (i = 0; i < n; i++) {
            s = source_of(names[i]);
            columns[s] = columns[s] ? apr_pstrcat(p, columns[s], ",",
                                                  names[i], NULL)
                                    : names[i];
        }
        /* API.get: with nb_visits alongside, a period with data always has
         * a column, so a metric Matomo does not know is told apart from a
         * period without data. */
        if (columns[N_SOURCES - 1] != NULL) {
            columns[N_SOURCES - 1] = apr_pstrcat(p, columns[N_SOURCES - 1],
                                                 ",nb_visits", NULL);
        }
        for (s = 0; s < N_SOURCES; s++) {
            if (columns[s] != NULL) {
                call_of[s] = ncalls;
                calls[ncalls++] = dated_call(p, trend_sources[s].method,
                                             id_site, period, date, segment,
                                             columns[s]);
            }
        }
        mcp_call_dated(req, id_site, period, date, calls, ncalls, answers,
                       &span);
        for (s = 0; s < ncalls; s++) {
            if (!mcp_answered(&answers[s], res)) {
                return;
            }
            if (!json_object_is_type(answers[s].json, json_type_object)) {
                res->error = "Matomo's evolution answer is not a date-keyed "
                             "map";
                return;
            }
            maps[s] = answers[s].json;
        }
        for (i = 0; i < n; i++) {
            which[i] = call_of[source_of(names[i])];
        }
        rows = trend_rows(maps, which, n, names, found, data);
        for (i = 0; i < n; i++) {
            if (data[i] && !found[i]) {
                json_object_put(rows);
                res->error = apr_psprintf(
                    p, "metrics: Matomo has no metric '%s' for this site "
                    "(e.g. nb_visits, nb_uniq_visitors, nb_actions, "
                    "bounce_rate, avg_time_on_site, nb_conversions, "
                    "conversion_rate, revenue, nb_pageviews, "
                    "avg_page_load_time)", names[i]);
                return;
            }
        }
    }
    json_object_object_add(result, "period", json_object_get(span));
    cols = json_object_new_array();
    json_object_array_add(cols, json_object_new_string("date"));
    for (i = 0; i < n; i++) {
        json_object_array_add(cols, json_object_new_string(names[i]));
    }
    json_object_object_add(result, "columns", cols);
    json_object_object_add(result, "rows", rows);
    res->structured = result;
}

const mcp_tool mcp_tool_get_trend = {
    "matomo_get_trend",
    "Trend of metrics over time",
    "Metrics of one site over the last N periods ending with the current "
    "one (today's, which is partial): a table with columns [date, "
    "metrics...] and one row per period, oldest first (a period without "
    "data shows 0). metrics are Matomo metric ids: nb_visits, "
    "nb_uniq_visitors, nb_actions, bounce_rate, avg_time_on_site, "
    "nb_actions_per_visit, nb_conversions, conversion_rate, revenue, "
    "nb_pageviews, nb_downloads, avg_page_load_time, ... (rates are "
    "fractions: 0.06 is 6%). With report and label, the metrics of one row "
    "of a report over time (row evolution), e.g. report "
    "Actions_getPageUrls and label /shipping with metrics [\"nb_hits\", "
    "\"nb_visits\"]; the report's metric ids are those matomo_list_reports "
    "shows. last defaults to 14 days, 8 weeks, 12 months or 5 years; "
    "Matomo gives at most 120 months or 10 years in one call, so a larger "
    "last is refused rather than cut. Dates are in the site's timezone; "
    "period tells the dates covered. For one aggregate over a span use "
    "matomo_traffic_summary with period range.",
    "{\"type\":\"object\",\"properties\":{" MCP_PROP_ID_SITE ","
    "\"metrics\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":10,"
    "\"items\":{\"type\":\"string\",\"maxLength\":64,\"pattern\":"
    "\"^[A-Za-z0-9_]+$\"},\"default\":[\"nb_visits\"],\"description\":"
    "\"metric ids, e.g. [\\\"nb_visits\\\",\\\"conversion_rate\\\"]\"},"
    "\"period\":{\"type\":\"string\",\"enum\":[\"day\",\"week\",\"month\","
    "\"year\"],\"default\":\"day\"},"
    "\"last\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":365,"
    "\"description\":\"how many periods, ending with the current one "
    "(default 14 days, 8 weeks, 12 months, 5 years; at most 120 months, "
    "10 years)\"},"
    MCP_PROP_SEGMENT ","
    "\"report\":{\"type\":\"string\",\"maxLength\":120,\"pattern\":"
    "\"^[A-Z][A-Za-z0-9]*[._]get[A-Za-z0-9]*$\",\"description\":\"with "
    "label: a report id from matomo_list_reports, e.g. "
    "Actions_getPageUrls\"},"
    "\"label\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000,"
    "\"description\":\"with report: the row's label as matomo_get_report "
    "shows it\"}},"
    "\"required\":[\"idSite\"],\"additionalProperties\":false}",
    "{\"type\":\"object\",\"properties\":{"
    "\"idSite\":{\"type\":\"integer\"},"
    "\"period\":" MCP_SCHEMA_SPAN ","
    "\"report\":{\"type\":\"string\"},\"label\":{\"type\":\"string\"},"
    "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"array\"}},"
    "\"note\":{\"type\":\"string\"}},"
    "\"required\":[\"idSite\",\"period\",\"columns\",\"rows\"]}",
    run_get_trend
};
