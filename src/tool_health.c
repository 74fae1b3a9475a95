/*
 * Tools about a site's technical health: how fast its pages load, and
 * whether its pages (and the site) still send tracking data.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_json.h"
#include "mcp_period.h"
#include "mcp_shape.h"
#include "mcp_toolkit.h"

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

/* A number of seconds rounded to the millisecond (Matomo sends per-page
 * averages such as 1.5189999999999997); null stays null.  Strings are read
 * as every metric is (mcp_shape_number): "nan" or "inf" is no time. */
static json_object *seconds(json_object *v)
{
    json_object *n = mcp_shape_number(v);
    double d;

    if (!json_object_is_type(n, json_type_int)
        && !json_object_is_type(n, json_type_double)) {
        json_object_put(n);
        return NULL;
    }
    d = json_object_get_double(n);
    json_object_put(n);
    return mcp_shape_rounded(d, 3);
}

/* --- matomo_page_performance ---------------------------------------- */

/* Matomo's timing metrics, total first, and their names in results. */
static const mcp_column timing_columns[] = {
    { "page_load_s", "avg_page_load_time", MCP_COL_AS_IS },
    { "network_s", "avg_time_network", MCP_COL_AS_IS },
    { "server_s", "avg_time_server", MCP_COL_AS_IS },
    { "transfer_s", "avg_time_transfer", MCP_COL_AS_IS },
    { "dom_processing_s", "avg_time_dom_processing", MCP_COL_AS_IS },
    { "dom_completion_s", "avg_time_dom_completion", MCP_COL_AS_IS },
    { "on_load_s", "avg_time_on_load", MCP_COL_AS_IS },
};
#define NTIMINGS ((int)(sizeof(timing_columns) / sizeof(timing_columns[0])))

#define ALL_VISITS "all visits"

typedef struct {
    const char *label;     /* as the caller wrote it, or ALL_VISITS */
    const char *segment;   /* sent to Matomo; NULL: none */
} perf_segment;

static void add_timings(json_object *row, json_object *figures)
{
    int c;

    for (c = 0; c < NTIMINGS; c++) {
        json_object *v = NULL;

        json_object_object_get_ex(figures, timing_columns[c].field, &v);
        json_object_array_add(row, seconds(v));
    }
}

static json_object *perf_columns(int by_page)
{
    json_object *cols = json_object_new_array();
    int c;

    if (by_page) {
        json_object_array_add(cols, json_object_new_string("label"));
        json_object_array_add(cols, json_object_new_string("url"));
        json_object_array_add(cols, json_object_new_string("hits"));
    }
    else {
        json_object_array_add(cols, json_object_new_string("segment"));
    }
    for (c = 0; c < NTIMINGS; c++) {
        json_object_array_add(cols,
                              json_object_new_string(timing_columns[c].name));
    }
    return cols;
}

static const char *timing_fields(apr_pool_t *p)
{
    const char *s = "nb_hits";
    int c;

    for (c = 0; c < NTIMINGS; c++) {
        s = apr_pstrcat(p, s, ",", timing_columns[c].field, NULL);
    }
    return s;
}

/* One call: the site's timings (PagePerformance.get as a processed report,
 * which Matomo answers under any segment), or its pages slowest first
 * (Actions.getPageUrls: only the plain method carries the per-page timing
 * columns; API.getProcessedReport drops them). */
static mcp_matomo_request perf_call(apr_pool_t *p, json_object *args,
                                    int by_page, const char *segment,
                                    size_t limit, size_t offset)
{
    apr_array_header_t *params = mcp_matomo_params(p);
    mcp_matomo_request call;

    mcp_matomo_param_add(params, "idSite",
                         apr_itoa(p, mcp_arg_int(args, "idSite", 0)));
    mcp_matomo_param_add(params, "period",
                         mcp_arg_string(args, "period", "day"));
    mcp_matomo_param_add(params, "date",
                         mcp_arg_string(args, "date", "yesterday"));
    if (segment != NULL) {
        mcp_matomo_param_add(params, "segment", segment);
    }
    mcp_matomo_param_add(params, "format_metrics", "0");
    if (by_page) {
        call.method = "Actions.getPageUrls";
        mcp_matomo_param_add(params, "flat", "1");
        mcp_matomo_param_add(params, "filter_sort_column",
                             "avg_page_load_time");
        mcp_matomo_param_add(params, "filter_sort_order", "desc");
        mcp_paged_params(p, params, limit, offset);
        mcp_matomo_param_add(params, "showColumns", timing_fields(p));
    }
    else {
        call.method = "API.getProcessedReport";
        mcp_matomo_param_add(params, "apiModule", "PagePerformance");
        mcp_matomo_param_add(params, "apiAction", "get");
        mcp_matomo_param_add(params, "hideMetricsDoc", "1");
    }
    call.params = params;
    return call;
}

/* The segments to report on: each of compare_segments (ANDed with segment
 * when both are given), else segment alone, else all visits. */
static int perf_segments(apr_pool_t *p, json_object *args, perf_segment **out,
                         const char **error)
{
    json_object *cmp = mcp_json_get_typed(args, "compare_segments",
                                          json_type_array);
    const char *segment = mcp_arg_string(args, "segment", NULL);
    perf_segment *segs;
    size_t i, n;

    if (cmp == NULL) {
        segs = apr_pcalloc(p, sizeof(*segs));
        segs[0].label = segment ? segment : ALL_VISITS;
        segs[0].segment = segment;
        *out = segs;
        return 1;
    }
    n = mcp_json_array_length(cmp);
    if (n == 0) {
        *error = "compare_segments: give 1 to 4 segment expressions, e.g. "
                 "[\"deviceType==smartphone\",\"deviceType==desktop\"]";
        return 0;
    }
    segs = apr_pcalloc(p, sizeof(*segs) * n);
    for (i = 0; i < n; i++) {
        const char *s = json_object_get_string(
            mcp_json_array_get(cmp, i));

        segs[i].label = apr_pstrdup(p, s);
        /* ; (AND) binds loosest in Matomo's segments: a plain join. */
        segs[i].segment = segment ? apr_pstrcat(p, segment, ";", s, NULL)
                                  : segs[i].label;
    }
    *out = segs;
    return (int)n;
}

static json_object *perf_site_row(const perf_segment *seg, json_object *answer)
{
    json_object *figures = mcp_json_get_typed(answer, "reportData",
                                              json_type_object);
    json_object *row;

    if (figures == NULL) {
        return NULL;
    }
    row = json_object_new_array();
    json_object_array_add(row, json_object_new_string(seg->label));
    add_timings(row, figures);
    return row;
}

static json_object *perf_pages(const perf_segment *seg, json_object *answer,
                               size_t limit, size_t offset)
{
    json_object *entry, *rows;
    size_t i, n;

    if (!json_object_is_type(answer, json_type_array)) {
        return NULL;
    }
    n = mcp_json_array_length(answer);
    entry = json_object_new_object();
    rows = json_object_new_array();
    for (i = 0; i < n && i < limit; i++) {
        json_object *page = mcp_json_array_get(answer, i);
        json_object *row = json_object_new_array();
        json_object *v = NULL;

        json_object_object_get_ex(page, "label", &v);
        json_object_array_add(row, json_object_get(v));
        v = NULL;
        json_object_object_get_ex(page, "url", &v);
        json_object_array_add(row, json_object_get(v));
        v = NULL;
        json_object_object_get_ex(page, "nb_hits", &v);
        json_object_array_add(row, mcp_shape_number(v));
        add_timings(row, page);
        json_object_array_add(rows, row);
    }
    json_object_object_add(entry, "segment",
                           json_object_new_string(seg->label));
    json_object_object_add(entry, "rows", rows);
    mcp_paged_result(entry, n, limit, offset);
    return entry;
}

/* Each segment's answer shaped (a row of the site's timings, or its
 * pages), in segment order; NULL when one failed (res says why). */
static json_object *perf_items(apr_pool_t *p, const perf_segment *segs,
                               int n, const mcp_matomo_answer *answers,
                               int by_page, size_t limit, size_t offset,
                               mcp_tool_result *res)
{
    json_object *list = mcp_json_pool_own(p, json_object_new_array());
    int i;

    for (i = 0; i < n; i++) {
        json_object *item;

        if (!mcp_answered(&answers[i], res)) {
            if (n > 1 && answers[i].status != MCP_MATOMO_DENIED) {
                res->error = apr_psprintf(p, "segment %s: %s", segs[i].label,
                                          res->error);
            }
            return NULL;
        }
        item = by_page ? perf_pages(&segs[i], answers[i].json, limit, offset)
                       : perf_site_row(&segs[i], answers[i].json);
        if (item == NULL) {
            res->error = "Matomo's page performance answer has an "
                         "unexpected shape";
            return NULL;
        }
        json_object_array_add(list, item);
    }
    return list;
}

void mcp_tool_page_performance(mcp_request *req, json_object *args,
                               mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    int id_site = mcp_arg_int(args, "idSite", 0);
    const char *period = mcp_arg_string(args, "period", "day");
    const char *date = mcp_arg_string(args, "date", "yesterday");
    int by_page = !strcmp(mcp_arg_string(args, "by", "site"), "page");
    size_t limit = (size_t)mcp_arg_int(args, "limit", 10);
    size_t offset = (size_t)mcp_arg_int(args, "offset", 0);
    mcp_matomo_request *calls;
    mcp_matomo_answer *answers;
    perf_segment *segs = NULL;
    json_object *result, *list, *span = NULL;
    int n, i;

    if ((res->error = mcp_period_check(p, "date", period, date,
                                       MCP_COUNTS_REFUSED)) != NULL
        || !(n = perf_segments(p, args, &segs, &res->error))) {
        return;
    }
    /* One call per segment, all in one round trip. */
    calls = apr_pcalloc(p, sizeof(*calls) * (apr_size_t)n);
    answers = apr_pcalloc(p, sizeof(*answers) * (apr_size_t)n);
    for (i = 0; i < n; i++) {
        calls[i] = perf_call(p, args, by_page, segs[i].segment, limit, offset);
    }
    mcp_call_dated(req, id_site, period, date, calls, n, answers, &span);
    if ((list = perf_items(p, segs, n, answers, by_page, limit, offset, res))
        == NULL) {
        return;
    }
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "idSite", json_object_new_int(id_site));
    json_object_object_add(result, "period", json_object_get(span));
    json_object_object_add(result, "by", json_object_new_string(
                                             by_page ? "page" : "site"));
    json_object_object_add(result, "columns", perf_columns(by_page));
    json_object_object_add(result, by_page ? "segments" : "rows",
                           json_object_get(list));
    if (by_page) {
        mcp_mark_untrusted(result);
    }
    res->structured = result;
}

/* --- matomo_tracking_health ----------------------------------------- */

/* Pages compared per period (most viewed first); beyond it the comparison
 * says it is capped rather than guessing. */
#define HEALTH_PAGE_CAP 5000
/* Sites checked in one call when idSite is left out (by id). */
#define HEALTH_SITE_CAP 50

typedef struct {
    int id;
    const char *name;
    int first;          /* its first call in the bulk request */
    int today_call;     /* whether calls[first] asks for the site's today */
} health_site;

static const mcp_column stopped_columns[] = {
    { "label", "label", MCP_COL_AS_IS },
    { "url", "url", MCP_COL_AS_IS },
    { "hits_before", "nb_hits", MCP_COL_AS_IS },
};

static mcp_matomo_request pages_call(apr_pool_t *p, int id_site,
                                     const char *period, const char *date)
{
    apr_array_header_t *params = mcp_matomo_params(p);
    mcp_matomo_request call;

    mcp_matomo_param_add(params, "idSite", apr_itoa(p, id_site));
    mcp_matomo_param_add(params, "period", period);
    mcp_matomo_param_add(params, "date", date);
    mcp_matomo_param_add(params, "apiModule", "Actions");
    mcp_matomo_param_add(params, "apiAction", "getPageUrls");
    mcp_matomo_param_add(params, "flat", "1");
    mcp_matomo_param_add(params, "format_metrics", "0");
    mcp_matomo_param_add(params, "hideMetricsDoc", "1");
    mcp_matomo_param_add(params, "showColumns", "nb_hits");
    mcp_matomo_param_add(params, "filter_sort_column", "nb_hits");
    mcp_matomo_param_add(params, "filter_sort_order", "desc");
    mcp_matomo_param_add(params, "filter_limit",
                         apr_itoa(p, HEALTH_PAGE_CAP));
    call.method = "API.getProcessedReport";
    call.params = params;
    return call;
}

/* The latest visit of all time: Live without period and date. */
static mcp_matomo_request last_hit_call(apr_pool_t *p, int id_site)
{
    apr_array_header_t *params = mcp_matomo_params(p);
    mcp_matomo_request call;

    mcp_matomo_param_add(params, "idSite", apr_itoa(p, id_site));
    mcp_matomo_param_add(params, "filter_limit", "1");
    mcp_matomo_param_add(params, "showColumns",
                         "lastActionTimestamp,lastActionDateTime");
    call.method = "Live.getLastVisitsDetails";
    call.params = params;
    return call;
}

/* The date that names the previous period.  An absolute date: the day one
 * period earlier.  today (day): yesterday.  Otherwise previous2, the two
 * periods before today's, of which the tool picks one (prev_index). */
static const char *previous_date(apr_pool_t *p, const char *period,
                                 const char *date)
{
    mcp_day d;

    if (mcp_day_parse(date, &d)) {
        return mcp_day_format(p, mcp_period_shift(period, d, -1));
    }
    if (!strcmp(date, "today") && !strcmp(period, "day")) {
        return "yesterday";
    }
    return "previous2";
}

/* Which of previous2's two periods is the one before date's period. */
static int prev_index(const char *period, const char *date, mcp_day today)
{
    mcp_day yesterday = mcp_period_shift("day", today, -1);
    mcp_day s1, e1, s2, e2;

    if (!strcmp(date, "today")) {
        return 1;
    }
    /* yesterday: in today's period, or in the one before */
    return mcp_period_bounds(period, yesterday, &s1, &e1)
                   && mcp_period_bounds(period, today, &s2, &e2)
                   && s1.y == s2.y && s1.m == s2.m && s1.d == s2.d
               ? 1
               : 0;
}

/* This period's span and the previous one's, for a site whose today is
 * *today (NULL: unknown). */
static void health_spans(apr_pool_t *p, const char *period, const char *date,
                         const mcp_day *today, json_object **now,
                         json_object **before)
{
    mcp_day none = { 0, 0, 0 }, s, e, ps = none, pe = none;
    int known = mcp_period_span(period, date, today ? *today : none, &s, &e);

    *now = mcp_span_days(p, period, date, known ? &s : NULL,
                         known ? &e : NULL);
    if (known && today != NULL) {
        mcp_span_partial(*now, s, e, *today);
    }
    if (known) {
        known = mcp_period_bounds(period, mcp_period_shift(period, s, -1),
                                  &ps, &pe);
    }
    *before = mcp_span_days(p, period,
                            known ? mcp_day_format(p, ps) : "previous",
                            known ? &ps : NULL, known ? &pe : NULL);
}

/* The member of a date-keyed object at position index (Matomo keeps the
 * periods in order). */
static json_object *nth_member(json_object *map, int n)
{
    int i = 0;

    json_object_object_foreach(map, key, val) {
        (void)key;
        if (i++ == n) {
            return val;
        }
    }
    return NULL;
}

/* The rows and row metadata of a processed report; of a date-keyed one
 * (several periods), its index-th period. */
static int report_rows(json_object *answer, int n, json_object **rows,
                       json_object **meta)
{
    json_object *data = NULL, *m = NULL;

    json_object_object_get_ex(answer, "reportData", &data);
    json_object_object_get_ex(answer, "reportMetadata", &m);
    if (json_object_is_type(data, json_type_object)) {
        data = nth_member(data, n);
        m = json_object_is_type(m, json_type_object) ? nth_member(m, n)
                                                     : NULL;
    }
    if (!json_object_is_type(data, json_type_array)) {
        return 0;
    }
    *rows = data;
    *meta = json_object_is_type(m, json_type_array) ? m : NULL;
    return 1;
}

/* Pages of the previous period (most viewed first) without a hit in this
 * one, as Matomo rows {label, url, nb_hits}.  Rows without row metadata
 * are Matomo's summary row ("Others"), not a page: left out. */
static json_object *stopped_pages(apr_pool_t *p, json_object *now,
                                  json_object *before, json_object *before_meta)
{
    apr_hash_t *seen = apr_hash_make(p);
    json_object *out = json_object_new_array();
    size_t i, n = mcp_json_array_length(now);
    size_t nmeta;

    for (i = 0; i < n; i++) {
        const char *label = mcp_json_get_string(
            mcp_json_array_get(now, i), "label");

        if (label != NULL) {
            apr_hash_set(seen, label, APR_HASH_KEY_STRING, label);
        }
    }
    n = mcp_json_array_length(before);
    nmeta = before_meta ? mcp_json_array_length(before_meta) : n;
    for (i = 0; i < n && i < nmeta; i++) {
        json_object *row = mcp_json_array_get(before, i);
        json_object *hits = NULL, *page;
        const char *label = mcp_json_get_string(row, "label");
        const char *url = before_meta == NULL ? NULL : mcp_json_get_string(
            mcp_json_array_get(before_meta, i), "url");

        json_object_object_get_ex(row, "nb_hits", &hits);
        if (label == NULL || apr_hash_get(seen, label, APR_HASH_KEY_STRING)
            || json_object_get_double(hits) <= 0) {
            continue;
        }
        page = json_object_new_object();
        json_object_object_add(page, "label", json_object_new_string(label));
        if (url != NULL) {
            json_object_object_add(page, "url", json_object_new_string(url));
        }
        json_object_object_add(page, "nb_hits", mcp_shape_number(hits));
        json_object_array_add(out, page);
    }
    return out;
}

/* "2026-11-26T10:17:35Z" from the latest visit's last action, or NULL. */
static const char *last_hit(apr_pool_t *p, json_object *visits)
{
    return mcp_shape_last_action(p, json_object_is_type(visits,
                                                        json_type_array)
                                        ? mcp_json_array_get(visits, 0)
                                        : NULL);
}

/* A tracking_health question. */
typedef struct {
    const char *period, *date;
    const char *before_date;    /* names the previous period */
    size_t limit, offset;
    int one;                    /* the site asked for; 0: every visible */
    int relative;               /* date depends on each site's today */
} health_query;

/* The site's today, when its calls start with that question (*a then moves
 * past its answer), and which of previous2's periods is the previous one. */
static const char *site_today(apr_pool_t *p, const health_query *q,
                              const health_site *s,
                              const mcp_matomo_answer **a, mcp_day *today,
                              int *which)
{
    int known;

    *which = 0;
    if (!s->today_call) {
        return NULL;
    }
    known = mcp_today_from(*a, today);
    if (!known && !q->relative) {
        /* Asked only to tell a period in progress: dates do without */
        today->y = today->m = today->d = 0;
    }
    else if (!known) {
        return (*a)->status != MCP_MATOMO_OK
                   ? (*a)->message
                   : "Matomo did not tell the site's current day";
    }
    if (!strcmp(previous_date(p, q->period, q->date), "previous2")) {
        *which = prev_index(q->period, q->date, *today);
    }
    (*a)++;
    return NULL;
}

/* When the site last received a hit, or why that is unknown. */
static void add_last_hit(apr_pool_t *p, json_object *entry,
                         const mcp_matomo_answer *a)
{
    const char *hit;

    if (a->status != MCP_MATOMO_OK) {
        json_object_object_add(entry, "last_hit_error", json_object_new_string(
                                   a->message ? a->message
                                              : "Matomo did not answer"));
    }
    else if ((hit = last_hit(p, a->json)) != NULL) {
        json_object_object_add(entry, "last_hit", json_object_new_string(hit));
    }
}

/* The stopped pages of a site, a page of them, and how many pages each
 * period had. */
static void add_stopped(apr_pool_t *p, const health_query *q,
                        json_object *entry, json_object *now_rows,
                        json_object *before_rows, json_object *before_meta)
{
    json_object *stopped = mcp_json_pool_own(p, stopped_pages(p, now_rows,
                                                              before_rows,
                                                              before_meta));
    size_t total = mcp_json_array_length(stopped);
    size_t before = mcp_json_array_length(before_rows);
    size_t now = mcp_json_array_length(now_rows);

    json_object_object_add(entry, "pages_before",
                           json_object_new_int64((int64_t)before));
    json_object_object_add(entry, "pages_now",
                           json_object_new_int64((int64_t)now));
    if (before >= HEALTH_PAGE_CAP || now >= HEALTH_PAGE_CAP) {
        json_object_object_add(entry, "capped", json_object_new_boolean(1));
    }
    json_object_object_add(entry, "pages_stopped", mcp_shape_table(
        stopped_columns,
        (int)(sizeof(stopped_columns) / sizeof(stopped_columns[0])), stopped,
        q->offset, q->limit));
    json_object_object_add(entry, "stopped_total",
                           json_object_new_int64((int64_t)total));
    json_object_object_add(entry, "has_more", json_object_new_boolean(
                                                  q->offset + q->limit
                                                  < total));
    if (q->offset + q->limit < total) {
        json_object_object_add(entry, "next_offset", json_object_new_int64(
                                   (int64_t)(q->offset + q->limit)));
    }
}

/* One site's entry; NULL with *error set when its pages could not be read.
 * *now_span / *before_span: the periods compared for it. */
static json_object *health_site_entry(apr_pool_t *p, const health_query *q,
                                      const health_site *s,
                                      const mcp_matomo_answer *answers,
                                      json_object **now_span,
                                      json_object **before_span,
                                      const char **error)
{
    const mcp_matomo_answer *a = answers + s->first;
    json_object *entry, *now_rows, *now_meta, *before_rows, *before_meta;
    const char *name = s->name;
    mcp_day today;
    int which;

    if ((*error = site_today(p, q, s, &a, &today, &which)) != NULL) {
        return NULL;
    }
    health_spans(p, q->period, q->date, s->today_call ? &today : NULL,
                 now_span, before_span);
    if (a[0].status != MCP_MATOMO_OK || a[1].status != MCP_MATOMO_OK) {
        *error = a[0].status != MCP_MATOMO_OK ? a[0].message : a[1].message;
        return NULL;
    }
    if (!report_rows(a[0].json, 0, &now_rows, &now_meta)
        || !report_rows(a[1].json, which, &before_rows, &before_meta)) {
        *error = "Matomo's page URL report has an unexpected shape";
        return NULL;
    }
    if (name == NULL) {
        name = mcp_json_get_string(a[0].json, "website");
    }
    entry = json_object_new_object();
    json_object_object_add(entry, "idSite", json_object_new_int(s->id));
    if (name != NULL) {
        json_object_object_add(entry, "name", json_object_new_string(name));
    }
    add_last_hit(p, entry, &a[2]);
    add_stopped(p, q, entry, now_rows, before_rows, before_meta);
    return entry;
}

static int by_id(const void *a, const void *b)
{
    const health_site *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

/* The visible sites, by id: *count of them (at most HEALTH_SITE_CAP) out of
 * *total.  (SitesManager has no cheaper way to list ids with names.) */
static int visible_sites(mcp_request *req, health_site **out, int *count,
                         int *total, mcp_tool_result *res)
{
    apr_array_header_t *params = mcp_matomo_params(req->pool);
    health_site *sites;
    mcp_matomo_answer a;
    size_t i, n;
    int k = 0;

    mcp_matomo_param_add(params, "filter_limit", "-1");
    mcp_matomo_param_add(params, "showColumns", "idsite,name");
    mcp_server_call_matomo(req, "SitesManager.getSitesWithAtLeastViewAccess",
                           params, &a);
    if (!mcp_answered(&a, res)) {
        return 0;
    }
    if (!json_object_is_type(a.json, json_type_array)) {
        res->error = "Matomo's list of sites is not a list";
        return 0;
    }
    n = mcp_json_array_length(a.json);
    sites = apr_pcalloc(req->pool, sizeof(*sites) * (n ? n : 1));
    for (i = 0; i < n; i++) {
        json_object *site = mcp_json_array_get(a.json, i);
        json_object *id = NULL;
        int v;

        json_object_object_get_ex(site, "idsite", &id);
        v = json_object_get_int(id);    /* 1 or "1" */
        if (v > 0) {
            sites[k].id = v;
            sites[k].name = mcp_json_get_string(site, "name");
            k++;
        }
    }
    qsort(sites, (size_t)k, sizeof(*sites), by_id);
    *out = sites;
    *total = k;
    *count = k < HEALTH_SITE_CAP ? k : HEALTH_SITE_CAP;
    return 1;
}

/* The calls of every site, in one list: the site's today when the date is
 * relative, its pages now and before, and its last hit. */
static int health_calls(apr_pool_t *p, const health_query *q,
                        health_site *sites, int nsites,
                        mcp_matomo_request **calls)
{
    int i, n = 0;

    *calls = apr_pcalloc(p, sizeof(**calls) * (apr_size_t)(4 * nsites + 1));
    for (i = 0; i < nsites; i++) {
        sites[i].first = n;
        sites[i].today_call = q->relative
                              || mcp_span_may_hold_today(q->period, q->date);
        if (sites[i].today_call) {
            (*calls)[n++] = mcp_today_call(p, sites[i].id);
        }
        (*calls)[n++] = pages_call(p, sites[i].id, q->period, q->date);
        (*calls)[n++] = pages_call(p, sites[i].id, q->period, q->before_date);
        (*calls)[n++] = last_hit_call(p, sites[i].id);
    }
    return n;
}

/* The one site asked for could not be checked: the first of the calls it
 * cannot do without (today, now, before) that failed says why. */
static void health_refused(const health_query *q, const health_site *s,
                           const mcp_matomo_answer *answers,
                           const char *error, mcp_tool_result *res)
{
    int c;

    for (c = 0; c < (q->relative ? 3 : 2); c++) {
        if (answers[s->first + c].status != MCP_MATOMO_OK) {
            mcp_answered(&answers[s->first + c], res);
            return;
        }
    }
    res->error = error;
}

/* Among several sites, one that could not be checked says why. */
static json_object *health_error_entry(const health_site *s,
                                       const char *error)
{
    json_object *entry = json_object_new_object();

    json_object_object_add(entry, "idSite", json_object_new_int(s->id));
    if (s->name != NULL) {
        json_object_object_add(entry, "name",
                               json_object_new_string(s->name));
    }
    json_object_object_add(entry, "error", json_object_new_string(
                                               error ? error : "?"));
    return entry;
}

/* The periods compared are stated once, from the first site that knows
 * them; a site whose today differs (its timezone) states its own. */
static void health_place_spans(json_object *entry, json_object *span_now,
                               json_object *span_before,
                               json_object **now_span,
                               json_object **before_span)
{
    int known = span_now != NULL
                && json_object_object_get_ex(span_now, "start", NULL);

    if (*now_span == NULL && known) {
        *now_span = span_now;
        *before_span = span_before;
    }
    else if (known && *now_span != NULL
             && (!json_object_equal(span_now, *now_span)
                 || !json_object_equal(span_before, *before_span))) {
        json_object_object_add(entry, "period", span_now);
        json_object_object_add(entry, "previous_period", span_before);
    }
    else {
        json_object_put(span_now);
        json_object_put(span_before);
    }
}

/* Each site's entry into list, and the periods compared; 0 when the one
 * site asked for could not be checked (res says why). */
static int health_entries(apr_pool_t *p, const health_query *q,
                          const health_site *sites, int nsites,
                          const mcp_matomo_answer *answers, json_object *list,
                          json_object **now_span, json_object **before_span,
                          mcp_tool_result *res)
{
    int i;

    for (i = 0; i < nsites; i++) {
        const char *error = NULL;
        json_object *span_now = NULL, *span_before = NULL;
        json_object *entry = health_site_entry(p, q, &sites[i], answers,
                                               &span_now, &span_before,
                                               &error);

        if (entry == NULL && q->one > 0) {
            /* One site asked for: its failure is the answer. */
            health_refused(q, &sites[i], answers, error, res);
            json_object_put(span_now);
            json_object_put(span_before);
            return 0;
        }
        if (entry == NULL) {
            entry = health_error_entry(&sites[i], error);
        }
        health_place_spans(entry, span_now, span_before, now_span,
                           before_span);
        json_object_array_add(list, entry);
    }
    return 1;
}

static void health_read(apr_pool_t *p, json_object *args, health_query *q)
{
    q->period = mcp_arg_string(args, "period", "day");
    q->date = mcp_arg_string(args, "date", "yesterday");
    q->limit = (size_t)mcp_arg_int(args, "limit", 20);
    q->offset = (size_t)mcp_arg_int(args, "offset", 0);
    q->one = mcp_arg_int(args, "idSite", 0);
    q->relative = mcp_period_is_relative(q->date);
    q->before_date = previous_date(p, q->period, q->date);
}

void mcp_tool_tracking_health(mcp_request *req, json_object *args,
                              mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    health_query q;
    health_site *sites, single;
    mcp_matomo_request *calls;
    mcp_matomo_answer *answers;
    json_object *result, *list, *now_span = NULL, *before_span = NULL;
    int nsites = 1, total = 1, n;

    health_read(p, args, &q);
    if ((res->error = mcp_period_check(p, "date", q.period, q.date,
                                       MCP_COUNTS_REFUSED)) != NULL) {
        return;
    }
    if (q.one > 0) {
        single.id = q.one;
        single.name = NULL;
        sites = &single;
    }
    else if (!visible_sites(req, &sites, &nsites, &total, res)) {
        return;
    }
    n = health_calls(p, &q, sites, nsites, &calls);
    answers = apr_pcalloc(p, sizeof(*answers) * (apr_size_t)(n + 1));
    if (n > 0) {
        /* Every site's calls in one round trip. */
        mcp_server_call_matomo_bulk(req, calls, n, answers);
    }
    result = mcp_json_pool_own(p, json_object_new_object());
    list = json_object_new_array();
    json_object_object_add(result, "sites", list);
    if (!health_entries(p, &q, sites, nsites, answers, list, &now_span,
                        &before_span, res)) {
        return;
    }
    if (now_span == NULL) {
        mcp_day none = { 0, 0, 0 };

        health_spans(p, q.period, q.date, q.relative ? NULL : &none,
                     &now_span, &before_span);
    }
    json_object_object_add(result, "period", now_span);
    json_object_object_add(result, "previous_period", before_span);
    if (q.one <= 0) {
        json_object_object_add(result, "sites_total",
                               json_object_new_int(total));
        json_object_object_add(result, "sites_has_more",
                               json_object_new_boolean(total > nsites));
    }
    mcp_mark_untrusted(result);
    res->structured = result;
}
