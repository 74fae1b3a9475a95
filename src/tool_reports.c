/*
 * Tools over Matomo's report catalog: what reports a site has, and any one
 * of them as a compact table.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_charts.h"
#include "mcp_json.h"
#include "mcp_segments.h"
#include "mcp_shape.h"
#include "mcp_toolkit.h"

#include <string.h>

#include <apr_strings.h>

/* --- matomo_list_reports ------------------------------------------- */

static const mcp_column report_columns[] = {
    { "id", "uniqueId", MCP_COL_AS_IS },
    { "name", "name", MCP_COL_AS_IS },
    { "category", "category", MCP_COL_AS_IS },
    { "subcategory", "subcategory", MCP_COL_AS_IS },
    { "dimension", "dimension", MCP_COL_AS_IS },
    { "metrics", "metric_ids", MCP_COL_AS_IS },
};

static int contains(const char *haystack, const char *needle)
{
    return haystack != NULL && strcasestr(haystack, needle) != NULL;
}

/* The metric ids a report has, plain and processed, as one array. */
static json_object *metric_ids(json_object *report)
{
    static const char *const groups[] = { "metrics", "processedMetrics" };
    json_object *ids = json_object_new_array();
    size_t g;

    for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        json_object *m = mcp_json_get_typed(report, groups[g],
                                            json_type_object);

        if (m != NULL) {
            json_object_object_foreach(m, key, val) {
                (void)val;
                json_object_array_add(ids, json_object_new_string(key));
            }
        }
    }
    return ids;
}

typedef struct {
    const char *search, *category;
} report_query;

/* Keeps the reports asked for, each with its metric ids added.  An entry
 * that is not an object is no report (and adding to it would abort). */
static int report_matches(json_object *r, void *baton)
{
    const report_query *q = baton;
    const char *search = q->search, *category = q->category;

    if (!json_object_is_type(r, json_type_object)) {
        return 0;
    }
    if (category != NULL
        && strcasecmp(mcp_json_get_string(r, "category")
                          ? mcp_json_get_string(r, "category") : "",
                      category) != 0) {
        return 0;
    }
    if (search != NULL && !contains(mcp_json_get_string(r, "name"), search)
        && !contains(mcp_json_get_string(r, "uniqueId"), search)
        && !contains(mcp_json_get_string(r, "category"), search)
        && !contains(mcp_json_get_string(r, "subcategory"), search)
        && !contains(mcp_json_get_string(r, "dimension"), search)) {
        return 0;
    }
    json_object_object_add(r, "metric_ids", metric_ids(r));
    return 1;
}

void mcp_tool_list_reports(mcp_request *req, json_object *args,
                             mcp_tool_result *res)
{
    apr_array_header_t *params = mcp_matomo_params(req->pool);
    report_query q;
    size_t limit = (size_t)mcp_arg_int(args, "limit", 50);
    size_t offset = (size_t)mcp_arg_int(args, "offset", 0);
    json_object *matching, *result;
    mcp_matomo_answer a;

    q.search = mcp_arg_string(args, "search", NULL);
    q.category = mcp_arg_string(args, "category", NULL);
    mcp_matomo_param_add(params, "idSite", apr_itoa(
                             req->pool, mcp_arg_int(args, "idSite", 0)));
    mcp_matomo_param_add(params, "period", "day");
    mcp_matomo_param_add(params, "date", "yesterday");
    mcp_matomo_param_add(params, "hideMetricsDoc", "1");
    mcp_server_call_matomo(req, "API.getReportMetadata", params, &a);
    if (!mcp_answered(&a, res)) {
        return;
    }
    if (!json_object_is_type(a.json, json_type_array)) {
        res->error = "Matomo's report metadata is not a list";
        return;
    }
    matching = mcp_shape_filter(req->pool, a.json, report_matches, &q);
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(result, "reports", mcp_shape_table(
        report_columns,
        (int)(sizeof(report_columns) / sizeof(report_columns[0])), matching,
        offset, limit));
    mcp_shape_page(result, mcp_json_array_length(matching), offset, limit);
    res->structured = result;
}


/* --- matomo_get_report --------------------------------------------- */

/* Splits a report id into apiModule, apiAction and its parameters. */
static int add_report_params(apr_pool_t *p, const char *id,
                             apr_array_header_t *params)
{
    char *copy = apr_pstrdup(p, id);
    char *sep = strpbrk(copy, "._");
    char *action, *rest, *state = NULL, *part;
    char module[64], method[160];

    if (sep == NULL || (size_t)(sep - copy) >= sizeof(module)) {
        return 0;
    }
    *sep = '\0';
    apr_cpystrn(module, copy, sizeof(module));
    action = sep + 1;
    rest = strchr(action, '_');
    if (rest != NULL) {
        *rest++ = '\0';
    }
    apr_snprintf(method, sizeof(method), "%s.%s", module, action);
    /* A report is read through the same allow-list as a method call. */
    if (!mcp_matomo_method_allowed(method)) {
        return 0;
    }
    mcp_matomo_param_add(params, "apiModule", apr_pstrdup(p, module));
    mcp_matomo_param_add(params, "apiAction", action);
    for (part = rest ? apr_strtok(rest, "_", &state) : NULL; part != NULL;
         part = apr_strtok(NULL, "_", &state)) {
        char *dashes = strstr(part, "--");

        if (dashes == NULL) {
            return 0;
        }
        *dashes = '\0';
        mcp_matomo_param_add(params, part, dashes + 2);
    }
    return 1;
}

static void add_optional(apr_array_header_t *params, const char *name,
                         const char *value)
{
    if (value != NULL) {
        mcp_matomo_param_add(params, name, value);
    }
}

static const char *joined(apr_pool_t *p, json_object *list)
{
    const char *s = NULL;
    size_t i;

    for (i = 0; list != NULL && i < mcp_json_array_length(list); i++) {
        const char *v = json_object_get_string(
            mcp_json_array_get(list, i));

        s = s ? apr_pstrcat(p, s, ",", v, NULL) : v;
    }
    return s;
}

/* What one table of a get_report answer is about: the asked period and
 * segment, or one compared with it. */
typedef struct {
    const char *period, *date, *segment;
} series;

/* Rows of a compared series read to find the labels of the main table:
 * a label below them shows null. */
#define COMPARE_ROWS 1000
#define MAX_SERIES 4

/* The Matomo parameters of a get_report call, from checked arguments. */
static int report_call(apr_pool_t *p, json_object *args, const series *s,
                       size_t limit, size_t offset,
                       apr_array_header_t *params)
{
    json_object *columns = mcp_json_get_typed(args, "columns",
                                              json_type_array);
    json_object *flat = mcp_json_get_typed(args, "flat", json_type_boolean);
    json_object *goals = mcp_json_get_typed(args, "goal_metrics",
                                            json_type_boolean);
    json_object *sub = mcp_json_get_typed(args, "subtable", json_type_int);

    if (!add_report_params(p, mcp_arg_string(args, "report", ""), params)) {
        return 0;
    }
    mcp_matomo_param_add(params, "idSite",
                         apr_itoa(p, mcp_arg_int(args, "idSite", 0)));
    mcp_matomo_param_add(params, "period", s->period);
    mcp_matomo_param_add(params, "date", s->date);
    add_optional(params, "segment", s->segment);
    mcp_matomo_param_add(params, "format_metrics", "0");
    mcp_matomo_param_add(params, "hideMetricsDoc", "1");
    mcp_paged_params(p, params, limit, offset);
    add_optional(params, "filter_sort_column",
                 mcp_arg_string(args, "sort_by", NULL));
    add_optional(params, "filter_sort_order",
                 mcp_arg_string(args, "sort_order", NULL));
    add_optional(params, "filter_pattern",
                 mcp_arg_string(args, "filter", NULL));
    if (columns != NULL) {
        mcp_matomo_param_add(params, "showColumns", joined(p, columns));
    }
    if (flat == NULL || json_object_get_boolean(flat)) {
        mcp_matomo_param_add(params, "flat", "1");
    }
    if (goals != NULL && json_object_get_boolean(goals)) {
        mcp_matomo_param_add(params, "idGoal", "0");
        mcp_matomo_param_add(params,
                             "filter_update_columns_when_show_all_goals", "1");
    }
    if (sub != NULL) {
        mcp_matomo_param_add(params, "idSubtable",
                             apr_itoa(p, json_object_get_int(sub)));
    }
    return 1;
}

/* The column ids to show: Matomo's "columns" of the report (label first),
 * as ids; goal metrics ride along when asked for. */
static json_object *column_ids(json_object *report)
{
    json_object *cols = mcp_json_get_typed(report, "columns",
                                           json_type_object);
    json_object *ids = json_object_new_array();

    if (cols != NULL) {
        json_object_object_foreach(cols, key, val) {
            (void)val;
            json_object_array_add(ids, json_object_new_string(key));
        }
    }
    return ids;
}

/* Rows as arrays in the order of ids; the row's URL (from Matomo's row
 * metadata) as a last column when the report has URLs. */
static json_object *rows_of(json_object *data, json_object *meta,
                            json_object *ids, size_t limit, int with_url)
{
    json_object *rows = json_object_new_array();
    size_t i, c, n = mcp_json_array_length(data);

    for (i = 0; i < n && i < limit; i++) {
        json_object *row = mcp_json_array_get(data, i);
        json_object *out = json_object_new_array();

        for (c = 0; c < mcp_json_array_length(ids); c++) {
            const char *id = json_object_get_string(
                mcp_json_array_get(ids, c));
            json_object *v = NULL;

            json_object_object_get_ex(row, id, &v);
            /* The label stays text; metrics become numbers. */
            json_object_array_add(out, strcmp(id, "label") == 0
                                           ? json_object_get(v)
                                           : mcp_shape_number(v));
        }
        if (with_url) {
            json_object *m = meta ? mcp_json_array_get(meta, i) : NULL;
            json_object *url = NULL;

            json_object_object_get_ex(m, "url", &url);
            json_object_array_add(out, json_object_get(url));
        }
        json_object_array_add(rows, out);
    }
    return rows;
}

static int has_urls(json_object *meta)
{
    size_t i;

    for (i = 0; meta != NULL && i < mcp_json_array_length(meta); i++) {
        if (json_object_object_get_ex(mcp_json_array_get(meta, i),
                                      "url", NULL)) {
            return 1;
        }
    }
    return 0;
}

/* 1 when an object holds metrics (a single-row report such as Goals_get),
 * not periods (a date-keyed map of tables). */
static int is_one_row(json_object *data)
{
    json_object_object_foreach(data, key, val) {
        (void)key;
        if (json_object_is_type(val, json_type_object)
            || json_object_is_type(val, json_type_array)) {
            return 0;
        }
    }
    return 1;
}

/* The report's rows as an array: a single-row report is one row. */
static json_object *report_rows(apr_pool_t *p, json_object *answer)
{
    json_object *data = NULL, *one;

    if (!json_object_object_get_ex(answer, "reportData", &data)
        || json_object_is_type(data, json_type_array)) {
        return data;
    }
    if (!json_object_is_type(data, json_type_object) || !is_one_row(data)) {
        return NULL;
    }
    one = mcp_json_pool_own(p, json_object_new_array());
    json_object_array_add(one, json_object_get(data));
    return one;
}

static void shape_report(json_object *answer, json_object *data, size_t limit,
                         size_t offset, json_object *result)
{
    json_object *meta = mcp_json_get_typed(answer, "metadata",
                                           json_type_object);
    json_object *rowmeta = mcp_json_get_typed(answer, "reportMetadata",
                                              json_type_array);
    json_object *ids = column_ids(answer), *report = json_object_new_object();
    int with_url = has_urls(rowmeta);
    size_t n = data ? mcp_json_array_length(data) : 0;

    json_object_object_add(report, "id", json_object_get(
        meta ? json_object_object_get(meta, "uniqueId") : NULL));
    json_object_object_add(report, "name", json_object_get(
        meta ? json_object_object_get(meta, "name") : NULL));
    json_object_object_add(report, "dimension", json_object_get(
        meta ? json_object_object_get(meta, "dimension") : NULL));
    json_object_object_add(result, "report", report);
    json_object_object_add(result, "rows", data ? rows_of(data, rowmeta, ids,
                                                          limit, with_url)
                                                : json_object_new_array());
    if (with_url) {
        json_object_array_add(ids, json_object_new_string("url"));
    }
    json_object_object_add(result, "columns", ids);
    mcp_paged_result(result, n, limit, offset);
}

/* The series compared with the main one: each of compare_dates with the
 * matching compare_periods entry (or the report's period), then each of
 * compare_segments under the report's period.  NULL, or what is wrong. */
static const char *compare_series(apr_pool_t *p, json_object *args,
                                  const series *main, series *out, int *n)
{
    json_object *dates = mcp_json_get_typed(args, "compare_dates",
                                            json_type_array);
    json_object *periods = mcp_json_get_typed(args, "compare_periods",
                                              json_type_array);
    json_object *segments = mcp_json_get_typed(args, "compare_segments",
                                               json_type_array);
    size_t nd = dates ? mcp_json_array_length(dates) : 0;
    size_t ns = segments ? mcp_json_array_length(segments) : 0;
    size_t i;
    const char *err;

    if (periods != NULL && mcp_json_array_length(periods) != nd) {
        return "compare_periods: give one period per entry of compare_dates";
    }
    if (nd + ns > MAX_SERIES) {
        return "compare_dates, compare_segments: at most 4 comparisons in all";
    }
    *n = 0;
    for (i = 0; i < nd; i++) {
        series *c = &out[(*n)++];

        c->date = json_object_get_string(mcp_json_array_get(dates, i));
        c->period = periods ? json_object_get_string(
                                  mcp_json_array_get(periods, i))
                            : main->period;
        c->segment = main->segment;
        if ((err = mcp_period_check(p, apr_psprintf(p, "compare_dates[%lu]",
                                                    (unsigned long)i),
                                    c->period, c->date, MCP_COUNTS_REFUSED))
            != NULL) {
            return err;
        }
    }
    for (i = 0; i < ns; i++) {
        series *c = &out[(*n)++];

        *c = *main;
        c->segment = json_object_get_string(
            mcp_json_array_get(segments, i));
    }
    return NULL;
}

/* The row of data whose label is label (the only row when no label). */
static json_object *row_labelled(json_object *data, json_object *label)
{
    size_t i, n = mcp_json_array_length(data);

    if (label == NULL) {
        return n > 0 ? mcp_json_array_get(data, 0) : NULL;
    }
    for (i = 0; i < n; i++) {
        json_object *row = mcp_json_array_get(data, i), *l = NULL;

        if (json_object_object_get_ex(row, "label", &l)
            && json_object_equal(l, label)) {
            return row;
        }
    }
    return NULL;
}

/* The main table's columns but url, and where its label is (-1: none). */
static json_object *compared_columns(json_object *main_cols, int *label_at)
{
    json_object *cols = json_object_new_array();
    size_t c;

    *label_at = -1;
    for (c = 0; c < mcp_json_array_length(main_cols); c++) {
        const char *id = json_object_get_string(
            mcp_json_array_get(main_cols, c));

        if (strcmp(id, "url") != 0) {
            json_object_array_add(cols, json_object_new_string(id));
        }
        if (!strcmp(id, "label")) {
            *label_at = (int)c;
        }
    }
    return cols;
}

/* The compared series' figures of the row labelled label, in cols' order
 * (null where the series has no such row). */
static json_object *compared_row(json_object *cols, json_object *label,
                                 json_object *row)
{
    json_object *r = json_object_new_array();
    size_t c;

    for (c = 0; c < mcp_json_array_length(cols); c++) {
        const char *id = json_object_get_string(mcp_json_array_get(cols, c));
        json_object *v = NULL;

        if (!strcmp(id, "label")) {
            json_object_array_add(r, json_object_get(label));
            continue;
        }
        if (row != NULL) {
            json_object_object_get_ex(row, id, &v);
        }
        json_object_array_add(r, mcp_shape_number(v));
    }
    return r;
}

/* A compared series as {"period","segment","columns","rows"}: the main
 * table's labels in its order, with this series' figures. */
static json_object *compared(apr_pool_t *p, const series *s,
                             json_object *data, json_object *main)
{
    json_object *out = json_object_new_object();
    json_object *rows = json_object_new_array();
    json_object *main_rows = json_object_object_get(main, "rows");
    int label_at;
    json_object *cols = compared_columns(json_object_object_get(main,
                                                                "columns"),
                                         &label_at);
    size_t i;

    for (i = 0; i < mcp_json_array_length(main_rows); i++) {
        json_object *label = label_at < 0 ? NULL : mcp_json_array_get(
            mcp_json_array_get(main_rows, i), (size_t)label_at);

        json_object_array_add(rows, compared_row(cols, label,
                                                 row_labelled(data, label)));
    }
    json_object_object_add(out, "period", mcp_span_json(p, s->period,
                                                        s->date, NULL));
    if (s->segment != NULL) {
        json_object_object_add(out, "segment",
                               json_object_new_string(s->segment));
    }
    json_object_object_add(out, "columns", cols);
    json_object_object_add(out, "rows", rows);
    return out;
}

/* The report's call and each comparison's (reading COMPARE_ROWS rows to
 * find the main table's labels); 0 when the report id is not readable. */
static int report_calls(apr_pool_t *p, json_object *args,
                        const series *main, const series *others, int n,
                        size_t limit, size_t offset,
                        mcp_matomo_request *calls)
{
    int i;

    for (i = 0; i <= n; i++) {
        apr_array_header_t *params = mcp_matomo_params(p);

        calls[i].method = "API.getProcessedReport";
        calls[i].params = params;
        if (!report_call(p, args, i == 0 ? main : &others[i - 1],
                         i == 0 ? limit : COMPARE_ROWS, i == 0 ? offset : 0,
                         params)) {
            return 0;
        }
    }
    return 1;
}

/* compare: each comparison's figures for the main table's rows. */
static void add_compared(apr_pool_t *p, const series *others, int n,
                         const mcp_matomo_answer *answers, json_object *result)
{
    json_object *list = json_object_new_array();
    int i;

    for (i = 1; i <= n; i++) {
        json_object *data = report_rows(p, answers[i].json);

        if (data == NULL) {     /* one entry per period: no rows */
            data = mcp_json_pool_own(p, json_object_new_array());
        }
        json_object_array_add(list, compared(p, &others[i - 1], data,
                                             result));
    }
    json_object_object_add(result, "compare", list);
}

/* The metric a chart of the report shows: the one it is sorted by, else
 * visits, else its first; always one of the report's own columns. */
static const char *chart_metric(json_object *args, json_object *columns)
{
    const char *sort_by = mcp_arg_string(args, "sort_by", NULL);
    const char *first = NULL;
    int visits = 0, sorted = 0;
    size_t i;

    for (i = 0; i < mcp_json_array_length(columns); i++) {
        const char *c = json_object_get_string(mcp_json_array_get(columns, i));

        if (c == NULL || !strcmp(c, "label") || !strcmp(c, "url")) {
            continue;
        }
        first = first ? first : c;
        visits |= !strcmp(c, "nb_visits");
        sorted |= sort_by != NULL && !strcmp(c, sort_by);
    }
    return sorted ? sort_by : visits ? "nb_visits" : first;
}

/* The report as Matomo draws it: its top rows of the main series, by one
 * metric. */
static void report_chart(mcp_request *req, json_object *args,
                         const series *main, json_object *result,
                         const char *type, mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    json_object *report = mcp_json_get_typed(result, "report",
                                             json_type_object);
    json_object *sub = mcp_json_get_typed(args, "subtable", json_type_int);
    apr_array_header_t *params = mcp_matomo_params(p);
    mcp_chart_spec s;

    if (type == NULL) {
        return;
    }
    add_report_params(p, mcp_arg_string(args, "report", ""), params);
    memset(&s, 0, sizeof(s));
    s.id_site = mcp_arg_int(args, "idSite", 0);
    s.report_params = params;
    s.period = main->period;
    s.date = main->date;
    s.segment = main->segment;
    s.columns = chart_metric(args, json_object_object_get(result, "columns"));
    s.dimension = mcp_json_get_string(report, "dimension") != NULL;
    s.id_subtable = sub ? apr_itoa(p, json_object_get_int(sub)) : NULL;
    mcp_chart_draw(req, &s, type, res);
}

void mcp_tool_get_report(mcp_request *req, json_object *args,
                         mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    int id_site = mcp_arg_int(args, "idSite", 0);
    size_t limit = (size_t)mcp_arg_int(args, "limit", 20);
    size_t offset = (size_t)mcp_arg_int(args, "offset", 0);
    series main, others[MAX_SERIES];
    mcp_matomo_request calls[1 + MAX_SERIES];
    mcp_matomo_answer answers[1 + MAX_SERIES];
    json_object *result, *rows, *span = NULL;
    int n = 0, i;

    main.period = mcp_arg_string(args, "period", "day");
    main.date = mcp_arg_string(args, "date", "yesterday");
    main.segment = mcp_arg_string(args, "segment", NULL);
    if ((res->error = mcp_period_check(p, "date", main.period, main.date,
                                       MCP_COUNTS_REFUSED)) != NULL
        || (res->error = compare_series(p, args, &main, others, &n))
               != NULL) {
        return;
    }
    if (!report_calls(p, args, &main, others, n, limit, offset, calls)) {
        res->error = "report: not a readable report id (matomo_list_reports "
                     "lists them, e.g. Actions_getPageUrls)";
        return;
    }
    /* The report and its comparisons: one round trip. */
    mcp_call_dated(req, id_site, main.period, main.date, calls, n + 1,
                   answers, &span);
    for (i = 0; i <= n; i++) {
        if (!mcp_answered(&answers[i], res)) {
            return;
        }
    }
    if ((rows = report_rows(p, answers[0].json)) == NULL) {
        res->error = "this report has one entry per period here: use "
                     "matomo_get_trend for evolutions, or a single date";
        return;
    }
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "idSite", json_object_new_int(id_site));
    json_object_object_add(result, "period", json_object_get(span));
    shape_report(answers[0].json, rows, limit, offset, result);
    if (n > 0) {
        add_compared(p, others, n, answers, result);
    }
    mcp_segment_check(req, result, id_site, main.period, main.date,
                      main.segment, answers, 1);
    mcp_mark_untrusted(result);
    res->structured = result;
    report_chart(req, args, &main, result,
                 mcp_chart_asked(args, "horizontalBar"), res);
}
