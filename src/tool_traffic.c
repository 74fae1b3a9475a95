/*
 * Tools about a site's traffic: the headline figures of a period (with a
 * comparison) and the evolution of metrics over the last N periods.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_charts.h"
#include "mcp_json.h"
#include "mcp_period.h"
#include "mcp_shape.h"
#include "mcp_segments.h"
#include "mcp_toolkit.h"

#include <string.h>

#include <apr_strings.h>

/* --- shared helpers -------------------------------------------------- */

static long day_num(mcp_day d)
{
    return d.y * 10000L + d.m * 100L + d.d;
}

static int is_number(json_object *v)
{
    return json_object_is_type(v, json_type_int)
           || json_object_is_type(v, json_type_double);
}

/* The start and end of a span object, when it has them. */
static int span_days(json_object *span, mcp_day *start, mcp_day *end)
{
    const char *s = mcp_json_get_string(span, "start");
    const char *e = mcp_json_get_string(span, "end");

    return s != NULL && e != NULL && mcp_day_parse(s, start)
           && mcp_day_parse(e, end);
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
 * change in percent of before (null when before is 0, which *zeros then
 * names, comma-separated)}; a metric whose change is out of double range
 * is left out, as a missing one. */
static json_object *change_of(apr_pool_t *p, json_object *now,
                              json_object *before, const char **zeros)
{
    json_object *out = json_object_new_object();
    const char *found = NULL;

    json_object_object_foreach(now, key, val) {
        json_object *prev = NULL, *c, *diff;
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
        json_object_object_add(c, "pct", mcp_change_pct(a, b));
        if (b == 0) {
            found = found == NULL ? apr_pstrdup(p, key)
                                  : apr_pstrcat(p, found, ", ", key, NULL);
        }
        json_object_object_add(out, key, c);
    }
    *zeros = found;
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
    int back = !strncmp(date, "previous", 8) || !strcmp(date, "yesterday");

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
                        !strncmp(date, "last", 4) ? "last" : "previous",
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

/* A traffic_summary question, and how it is asked of Matomo. */
typedef struct {
    int id_site;
    const char *period, *date, *segment;
    const char *compare_to;    /* NULL: no comparison */
    /* lastN/previousN of days, weeks...: one entry per period (a table);
     * with period range they are one aggregate. */
    int table;
    int n;                     /* periods asked for (1 unless table) */
    /* 1: a relative date compared with previous_period/previous_year, so
     * Matomo is asked for one window of periods (asked_date = lastK)
     * holding both, picked apart once the site's today is known. */
    int window;
    const char *asked_date;
    const char *cdate;         /* the comparison's own date, or NULL */
    mcp_day cs, ce;            /* the comparison's days */
} summary_query;

static void summary_read(json_object *args, summary_query *q)
{
    memset(q, 0, sizeof(*q));
    q->id_site = mcp_arg_int(args, "idSite", 0);
    q->period = mcp_arg_string(args, "period", "day");
    q->date = q->asked_date = mcp_arg_string(args, "date", "yesterday");
    q->segment = mcp_arg_string(args, "segment", NULL);
    q->compare_to = mcp_arg_string(args, "compare_to", NULL);
    q->table = strcmp(q->period, "range") != 0
               && mcp_period_count(q->date) > 0;
    q->n = q->table ? mcp_period_count(q->date) : 1;
}

/* The comparison's dates.  Absolute dates: computed here, and the
 * comparison's calls ride in the same bulk request.  A relative date
 * (today, yesterday, lastN, previousN) depends on the site's today, which
 * Matomo only tells in the answer (mcp_call_dated asks for it in the same
 * round trip); asking first and then comparing would be a second round
 * trip.  So:
 *   - compare_to a day: the comparison is absolute anyway (N periods
 *     ending with the one holding that day);
 *   - previous_period/previous_year: ask for one window of periods ending
 *     with today's (date=lastK) that holds both the asked periods and
 *     their comparison whatever today is, then pick both out of it by
 *     their dates once today is known.  Exact Matomo figures per period,
 *     one round trip; a previous_year window of days is long (about 370
 *     days) but still one request;
 *   - a relative range (period range, lastN/previousN) is one aggregate
 *     that no window can hold: refused, with the way out. */
static const char *summary_plan(apr_pool_t *p, summary_query *q)
{
    mcp_day s, e, d;
    const char *err;

    if (q->compare_to == NULL) {
        return NULL;
    }
    if (strcmp(q->compare_to, "previous_period") != 0
        && strcmp(q->compare_to, "previous_year") != 0
        && !mcp_day_parse(q->compare_to, &d)) {
        return "compare_to: not a calendar day (previous_period, "
               "previous_year or YYYY-MM-DD)";
    }
    if (!mcp_period_is_relative(q->date)) {
        mcp_period_resolve(q->period, q->date, &s, &e);
        if (!compare_days(q->period, s, e, q->compare_to, &q->cs, &q->ce)) {
            return "compare_to: no comparison period for this date";
        }
        q->cdate = date_for(p, !strcmp(q->period, "range"), q->cs, q->ce);
        return NULL;
    }
    if (!strcmp(q->period, "range")) {
        return "compare_to: with period range, give date as "
               "YYYY-MM-DD,YYYY-MM-DD (a lastN/previousN range ends on the "
               "site's today, unknown before the call; period "
               "day/week/month/year take lastN)";
    }
    if (mcp_day_parse(q->compare_to, &d)) {
        periods_ending(q->period, d, q->n, &q->cs, &q->ce);
        q->cdate = date_for(p, q->table, q->cs, q->ce);
        return NULL;
    }
    if ((err = check_window(p, q->period, q->date, q->n, q->compare_to))
        != NULL) {
        return err;
    }
    q->window = 1;
    q->asked_date = apr_psprintf(p, "last%d", window_size(q->period, q->date,
                                                          q->n,
                                                          q->compare_to));
    return NULL;
}

/* VisitsSummary.get and Goals.get for the asked date, and for the
 * comparison's own date when it has one: one round trip.  The number of
 * calls made. */
static int summary_call(mcp_request *req, const summary_query *q,
                        mcp_matomo_answer *answers, json_object **span)
{
    apr_pool_t *p = req->pool;
    mcp_matomo_request calls[4];
    int n = 2;

    calls[0] = dated_call(p, "VisitsSummary.get", q->id_site, q->period,
                          q->asked_date, q->segment, NULL);
    calls[1] = dated_call(p, "Goals.get", q->id_site, q->period,
                          q->asked_date, q->segment, NULL);
    if (q->cdate != NULL) {
        calls[2] = dated_call(p, "VisitsSummary.get", q->id_site, q->period,
                              q->cdate, q->segment, NULL);
        calls[3] = dated_call(p, "Goals.get", q->id_site, q->period,
                              q->cdate, q->segment, NULL);
        n = 4;
    }
    mcp_call_dated(req, q->id_site, q->period, q->date, calls, n, answers,
                   span);
    return n;
}

/* The asked figures into result; from a window, the periods span says,
 * and then the comparison's days too (known only now). */
static const char *summary_figures(summary_query *q, json_object *span,
                                   const mcp_matomo_answer *answers,
                                   json_object *result)
{
    json_object *goals = goals_or_null(&answers[1]);
    mcp_day s, e;

    if (!q->window) {
        return put_figures(result, answers[0].json, goals, q->table,
                           q->period, NULL, NULL);
    }
    if (!span_days(span, &s, &e)
        || !compare_days(q->period, s, e, q->compare_to, &q->cs, &q->ce)) {
        return "Matomo did not tell the site's today: give date as "
               "YYYY-MM-DD to compare";
    }
    return put_figures(result, answers[0].json, goals, q->table, q->period,
                       &s, &e);
}

/* Conversions and revenue come from Goals.get: when it failed, the result
 * says why instead of showing no goals. */
static void note_missing_goals(apr_pool_t *p, const mcp_matomo_answer *goals,
                               json_object *result)
{
    mcp_note_add(result, apr_pstrcat(p, "conversions and revenue "
                                         "unavailable: ",
                                      goals->message
                                          ? goals->message
                                          : "Goals.get gave no figures",
                                      NULL));
}

/* compare {period, metrics or columns/rows, change} into result. */
static const char *summary_compare(apr_pool_t *p, const summary_query *q,
                                   const mcp_matomo_answer *answers,
                                   json_object *result)
{
    json_object *goals = goals_or_null(&answers[1]);
    json_object *compare = json_object_new_object();
    int several = q->table || !strcmp(q->period, "range");
    const char *err;

    json_object_object_add(result, "compare", compare);
    json_object_object_add(compare, "period", mcp_span_days(
        p, q->period, date_for(p, several, q->cs, q->ce), &q->cs, &q->ce));
    if (q->window) {
        err = put_figures(compare, answers[0].json, goals, q->table,
                          q->period, &q->cs, &q->ce);
    }
    else if (answers[2].status != MCP_MATOMO_OK) {
        return apr_pstrcat(p, "compare_to: Matomo did not answer for ",
                           mcp_day_format(p, q->cs), " to ",
                           mcp_day_format(p, q->ce), ": ",
                           answers[2].message ? answers[2].message
                                              : "no answer", NULL);
    }
    else {
        err = put_figures(compare, answers[2].json,
                          goals != NULL ? goals_or_null(&answers[3]) : NULL,
                          q->table, q->period, NULL, NULL);
    }
    if (err == NULL && !q->table) {
        const char *zeros;

        json_object_object_add(compare, "change", change_of(
            p, json_object_object_get(result, "metrics"),
            json_object_object_get(compare, "metrics"), &zeros));
        if (zeros != NULL) {
            mcp_note_zero_baseline(p, result, zeros);
        }
    }
    return err;
}

static void summary_chart(mcp_request *req, const summary_query *q,
                          json_object *span, const char *type,
                          mcp_tool_result *res);

void mcp_tool_traffic_summary(mcp_request *req, json_object *args,
                              mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    mcp_matomo_answer answers[4];
    json_object *span = NULL, *result;
    summary_query q;

    summary_read(args, &q);
    if ((res->error = mcp_period_check(p, "date", q.period, q.date,
                                       MCP_COUNTS_PER_PERIOD)) != NULL
        || (res->error = summary_plan(p, &q)) != NULL) {
        return;
    }
    summary_call(req, &q, answers, &span);
    if (!mcp_answered(&answers[0], res)) {
        return;
    }
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "idSite", json_object_new_int(q.id_site));
    json_object_object_add(result, "period", json_object_get(span));
    if ((res->error = summary_figures(&q, span, answers, result)) != NULL) {
        return;
    }
    if (goals_or_null(&answers[1]) == NULL) {
        note_missing_goals(p, &answers[1], result);
    }
    if (q.compare_to != NULL
        && (res->error = summary_compare(p, &q, answers, result)) != NULL) {
        return;
    }
    mcp_segment_check(req, result, q.id_site, q.period, q.asked_date,
                      q.segment, answers, 2);
    res->structured = result;
    summary_chart(req, &q, span, mcp_chart_asked(args, "evolution"), res);
}

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

/* Visits over time, as Matomo draws them: the periods of a table, the
 * days of a range, or a single period with the ones before it (as many as
 * a trend shows by default), ending with it. */
static void summary_chart(mcp_request *req, const summary_query *q,
                          json_object *span, const char *type,
                          mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    const char *start = mcp_json_get_string(span, "start");
    const char *end = mcp_json_get_string(span, "end");
    mcp_chart_spec s;
    mcp_day first, last;

    if (type == NULL) {
        return;
    }
    memset(&s, 0, sizeof(s));
    s.id_site = q->id_site;
    s.module = "VisitsSummary";
    s.action = "get";
    s.columns = "nb_visits";
    s.segment = q->segment;
    s.period = q->period;
    s.date = q->date;
    s.periods = 1;
    if (q->table) {
        /* lastN/previousN: the periods asked, as they are */
    }
    else if (start == NULL || end == NULL || !mcp_day_parse(start, &first)
             || !mcp_day_parse(end, &last)) {
        s.periods = 0;      /* refused below, with the reason */
    }
    else if (!strcmp(q->period, "range")) {
        s.period = "day";
        s.date = apr_pstrcat(p, start, ",", end, NULL);
    }
    else {
        first = mcp_period_shift(q->period, last,
                                 1 - default_last(q->period));
        s.date = apr_pstrcat(p, mcp_day_format(p, first), ",", end, NULL);
    }
    mcp_chart_draw(req, &s, type, res);
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

/* A get_trend question. */
typedef struct {
    int id_site;
    const char *period, *segment;
    const char *report, *label;    /* both or neither: a row evolution */
    int last;
    const char *date;              /* lastN */
    const char *names[MAX_TREND_METRICS];
    int n;
} trend_query;

static const char *trend_read(apr_pool_t *p, json_object *args,
                              trend_query *q)
{
    json_object *list = mcp_json_get_typed(args, "metrics", json_type_array);
    const char *err;
    int i;

    q->id_site = mcp_arg_int(args, "idSite", 0);
    q->period = mcp_arg_string(args, "period", "day");
    q->segment = mcp_arg_string(args, "segment", NULL);
    q->report = mcp_arg_string(args, "report", NULL);
    q->label = mcp_arg_string(args, "label", NULL);
    q->last = mcp_arg_int(args, "last", default_last(q->period));
    q->date = apr_psprintf(p, "last%d", q->last);
    q->n = 0;
    for (i = 0; list != NULL && i < (int)mcp_json_array_length(list)
                && i < MAX_TREND_METRICS; i++) {
        q->names[q->n++] = json_object_get_string(mcp_json_array_get(list,
                                                                     i));
    }
    if (list == NULL) {
        q->names[q->n++] = "nb_visits";
    }
    if (q->n == 0) {
        return "metrics: give at least one metric id, e.g. [\"nb_visits\"]";
    }
    if ((err = mcp_period_check_count(p, "last", q->period, q->last))
        != NULL || (q->report == NULL) == (q->label == NULL)) {
        return err;
    }
    return q->report == NULL
               ? "report: label needs the report it is a row of (e.g. "
                 "Actions_getPageUrls)"
               : "label: report needs the label of the row to follow (as "
                 "matomo_get_report shows it)";
}

/* NULL when every metric asked for is one the report has (its metadata
 * lists them; a report without the list is taken at its word). */
static const char *trend_row_metrics(apr_pool_t *p, const trend_query *q,
                                     json_object *answer)
{
    json_object *meta = mcp_json_get_typed(
        mcp_json_get_typed(answer, "metadata", json_type_object), "metrics",
        json_type_object);
    int i;

    for (i = 0; meta != NULL && json_object_object_length(meta) > 0
                && i < q->n; i++) {
        if (!json_object_object_get_ex(meta, q->names[i], NULL)) {
            return apr_psprintf(p, "metrics: '%s' is not a metric of this "
                                "report (it has: %s)", q->names[i],
                                metric_names(p, meta));
        }
    }
    return NULL;
}

/* One row of a report over time: API.getRowEvolution.  Adds report and
 * label to result; *rows are the periods. */
static int trend_of_row(mcp_request *req, const trend_query *q,
                        json_object *result, json_object **rows,
                        json_object **span, mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    apr_array_header_t *params;
    const char *module, *action;
    mcp_matomo_request call;
    mcp_matomo_answer a;
    json_object *maps[1];
    int which[MAX_TREND_METRICS] = { 0 };
    int found[MAX_TREND_METRICS] = { 0 }, data[MAX_TREND_METRICS] = { 0 };

    if (!report_parts(p, q->report, &module, &action)) {
        res->error = "report: not a readable report id (matomo_list_reports "
                     "lists them, e.g. Actions_getPageUrls)";
        return 0;
    }
    params = dated_params(p, q->id_site, q->period, q->date, q->segment,
                          NULL);
    mcp_matomo_param_add(params, "apiModule", module);
    mcp_matomo_param_add(params, "apiAction", action);
    mcp_matomo_param_add(params, "label", q->label);
    call.method = "API.getRowEvolution";
    call.params = params;
    mcp_call_dated(req, q->id_site, q->period, q->date, &call, 1, &a, span);
    if (!mcp_answered(&a, res)) {
        return 0;
    }
    maps[0] = mcp_json_get_typed(a.json, "reportData", json_type_object);
    if (maps[0] == NULL) {
        res->error = "Matomo's row evolution has no periods";
        return 0;
    }
    if ((res->error = trend_row_metrics(p, q, a.json)) != NULL) {
        return 0;
    }
    *rows = trend_rows(maps, which, q->n, q->names, found, data);
    json_object_object_add(result, "report", json_object_new_string(
                               apr_pstrcat(p, module, ".", action, NULL)));
    if (mcp_json_get_string(a.json, "label") != NULL) {
        json_object_object_add(result, "label", json_object_get(
            json_object_object_get(a.json, "label")));
    }
    mcp_segment_check(req, result, q->id_site, q->period, q->date, q->segment,
                      &a, 1);
    mcp_mark_untrusted(result);
    return 1;
}

/* Each metric from the cheapest method that has it (trend_sources), one
 * call per method used, showColumns keeping Matomo's answers small.
 * call_of[s]: the call of source s, or -1.  The number of calls. */
static int trend_calls(apr_pool_t *p, const trend_query *q,
                       mcp_matomo_request *calls, int *call_of)
{
    const char *columns[N_SOURCES] = { NULL };
    int i, s, ncalls = 0;

    for (i = 0; i < q->n; i++) {
        s = source_of(q->names[i]);
        columns[s] = columns[s] ? apr_pstrcat(p, columns[s], ",",
                                              q->names[i], NULL)
                                : q->names[i];
    }
    /* API.get: with nb_visits alongside, a period with data always has a
     * column, so a metric Matomo does not know is told apart from a
     * period without data. */
    if (columns[N_SOURCES - 1] != NULL) {
        columns[N_SOURCES - 1] = apr_pstrcat(p, columns[N_SOURCES - 1],
                                             ",nb_visits", NULL);
    }
    for (s = 0; s < N_SOURCES; s++) {
        call_of[s] = columns[s] != NULL ? ncalls : -1;
        if (columns[s] != NULL) {
            calls[ncalls++] = dated_call(p, trend_sources[s].method,
                                         q->id_site, q->period, q->date,
                                         q->segment, columns[s]);
        }
    }
    return ncalls;
}

/* Metrics of the site over time: *rows are the periods. */
static int trend_of_metrics(mcp_request *req, const trend_query *q,
                            json_object *result, json_object **rows,
                            json_object **span, mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    mcp_matomo_request calls[N_SOURCES];
    mcp_matomo_answer answers[N_SOURCES];
    json_object *maps[N_SOURCES];
    int call_of[N_SOURCES], which[MAX_TREND_METRICS] = { 0 };
    int found[MAX_TREND_METRICS] = { 0 }, data[MAX_TREND_METRICS] = { 0 };
    int i, ncalls = trend_calls(p, q, calls, call_of);

    mcp_call_dated(req, q->id_site, q->period, q->date, calls, ncalls,
                   answers, span);
    for (i = 0; i < ncalls; i++) {
        if (!mcp_answered(&answers[i], res)) {
            return 0;
        }
        if (!json_object_is_type(answers[i].json, json_type_object)) {
            res->error = "Matomo's evolution answer is not a date-keyed map";
            return 0;
        }
        maps[i] = answers[i].json;
    }
    for (i = 0; i < q->n; i++) {
        which[i] = call_of[source_of(q->names[i])];
    }
    *rows = trend_rows(maps, which, q->n, q->names, found, data);
    for (i = 0; i < q->n; i++) {
        if (data[i] && !found[i]) {
            json_object_put(*rows);
            res->error = apr_psprintf(
                p, "metrics: Matomo has no metric '%s' for this site (e.g. "
                "nb_visits, nb_uniq_visitors, nb_actions, bounce_rate, "
                "avg_time_on_site, nb_conversions, conversion_rate, revenue, "
                "nb_pageviews, avg_page_load_time)", q->names[i]);
            return 0;
        }
    }
    mcp_segment_check(req, result, q->id_site, q->period, q->date, q->segment,
                      answers, ncalls);
    return 1;
}

/* The trend as Matomo draws it: the metrics that come from the first
 * metric's method (one report per chart), or the row of the report. */
static void trend_chart(mcp_request *req, const trend_query *q,
                        const char *type, mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    mcp_chart_spec s;
    int i, first;

    if (type == NULL) {
        return;
    }
    memset(&s, 0, sizeof(s));
    s.id_site = q->id_site;
    s.period = q->period;
    s.date = q->date;
    s.segment = q->segment;
    s.periods = 1;
    if (q->report != NULL) {
        report_parts(p, q->report, &s.module, &s.action);
        s.labels = q->label;
        s.dimension = 1;
        s.columns = q->names[0];
    }
    else {
        char *method = apr_pstrdup(p, trend_sources[source_of(q->names[0])]
                                          .method);

        first = source_of(q->names[0]);
        *strchr(method, '.') = '\0';
        s.module = method;
        s.action = method + strlen(method) + 1;
        for (i = 0; i < q->n; i++) {
            if (source_of(q->names[i]) == first) {
                s.columns = s.columns ? apr_pstrcat(p, s.columns, ",",
                                                    q->names[i], NULL)
                                      : q->names[i];
            }
        }
    }
    mcp_chart_draw(req, &s, type, res);
}

void mcp_tool_get_trend(mcp_request *req, json_object *args,
                        mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    json_object *result, *cols, *rows = NULL, *span = NULL;
    trend_query q;
    int i;

    if ((res->error = trend_read(p, args, &q)) != NULL) {
        return;
    }
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "idSite", json_object_new_int(q.id_site));
    if (q.report != NULL ? !trend_of_row(req, &q, result, &rows, &span, res)
                         : !trend_of_metrics(req, &q, result, &rows, &span, res)) {
        return;
    }
    json_object_object_add(result, "period", json_object_get(span));
    cols = json_object_new_array();
    json_object_array_add(cols, json_object_new_string("date"));
    for (i = 0; i < q.n; i++) {
        json_object_array_add(cols, json_object_new_string(q.names[i]));
    }
    json_object_object_add(result, "columns", cols);
    json_object_object_add(result, "rows", rows);
    res->structured = result;
    trend_chart(req, &q, mcp_chart_asked(args, "evolution"), res);
}
