/*
 * Tools about the sites a caller can see.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_json.h"
#include "mcp_period.h"
#include "mcp_shape.h"
#include "mcp_toolkit.h"

#include <string.h>

#include <apr_strings.h>

/* --- matomo_list_sites ---------------------------------------------- */

static const mcp_column site_columns[] = {
    { "id", "idsite", MCP_COL_AS_IS },
    { "name", "name", MCP_COL_AS_IS },
    { "url", "main_url", MCP_COL_AS_IS },
    { "timezone", "timezone", MCP_COL_AS_IS },
    { "currency", "currency", MCP_COL_AS_IS },
    { "ecommerce", "ecommerce", MCP_COL_BOOLEAN },
};

static int site_matches(json_object *site, void *baton)
{
    const char *search = baton;
    const char *name = mcp_json_get_string(site, "name");
    const char *url = mcp_json_get_string(site, "main_url");

    return search == NULL
           || (name != NULL && strcasestr(name, search))
           || (url != NULL && strcasestr(url, search));
}

void mcp_tool_list_sites(mcp_request *req, json_object *args,
                         mcp_tool_result *res)
{
    const char *search = mcp_arg_string(args, "search", NULL);
    size_t limit = (size_t)mcp_arg_int(args, "limit", 50);
    size_t offset = (size_t)mcp_arg_int(args, "offset", 0);
    json_object *matching, *result;
    mcp_matomo_answer a;

    mcp_server_call_matomo(req, "SitesManager.getSitesWithAtLeastViewAccess",
                           NULL, &a);
    if (!mcp_answered(&a, res)) {
        return;
    }
    if (!json_object_is_type(a.json, json_type_array)) {
        res->error = "Matomo's list of sites is not a list";
        return;
    }
    matching = mcp_shape_filter(req->pool, a.json, site_matches,
                                (void *)search);
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(result, "sites", mcp_shape_table(
        site_columns, (int)(sizeof(site_columns) / sizeof(site_columns[0])),
        matching, offset, limit));
    mcp_shape_page(result, mcp_json_array_length(matching), offset, limit);
    res->structured = result;
}


/* --- matomo_sites_overview ------------------------------------------ */

/* A MultiSites.getAll row (enhanced=1: with the previous period's figures
 * and Matomo's evolution, a fraction) as a table row. */
typedef struct {
    const char *name;
    const char *field;
    /* Set for a change: Matomo's fraction shown in percent, 1 decimal;
     * the field of the previous figure it is a change from. */
    const char *base;
} overview_column;

static const overview_column overview_columns[] = {
    { "idSite", "idsite", NULL },
    { "name", "label", NULL },
    { "visits", "nb_visits", NULL },
    { "visits_previous", "previous_nb_visits", NULL },
    { "visits_change_pct", "visits_evolution", "previous_nb_visits" },
    { "pageviews", "nb_pageviews", NULL },
    { "pageviews_previous", "previous_Actions_nb_pageviews", NULL },
    { "pageviews_change_pct", "pageviews_evolution",
      "previous_Actions_nb_pageviews" },
    { "revenue", "revenue", NULL },
    { "revenue_previous", "previous_Goal_revenue", NULL },
    { "revenue_change_pct", "revenue_evolution", "previous_Goal_revenue" },
    { "currency", "currencySymbol", NULL },
};
#define N_OVERVIEW_COLUMNS                                                    \
    (sizeof(overview_columns) / sizeof(overview_columns[0]))

/* A fraction in percent, to one decimal, as Matomo shows it (-0.154 is
 * -15.4). */
static json_object *percent_of(json_object *v)
{
    json_object *n = mcp_shape_number(v);
    double d;

    if (!json_object_is_type(n, json_type_int)
        && !json_object_is_type(n, json_type_double)) {
        return n;
    }
    d = json_object_get_double(n) * 100.0;
    json_object_put(n);
    return mcp_shape_rounded(d, 1);
}

/* 1 when the previous figure a change is from is 0 (or missing): Matomo
 * then says +100 % (or 0 % from 0 to 0), where the change is undefined. */
static int from_zero(json_object *site, const char *base)
{
    json_object *v = NULL, *n;
    int zero;

    if (!json_object_object_get_ex(site, base, &v) || v == NULL) {
        return 1;
    }
    n = mcp_shape_number(v);
    zero = n == NULL || ((json_object_is_type(n, json_type_int)
                          || json_object_is_type(n, json_type_double))
                         && json_object_get_double(n) == 0);
    json_object_put(n);
    return zero;
}

/* The rows; *zeros names the change columns that are null because their
 * previous figure is 0 in some row. */
static json_object *overview_rows(apr_pool_t *p, json_object *sites,
                                  size_t limit, const char **zeros)
{
    int zero_in[N_OVERVIEW_COLUMNS] = { 0 };
    json_object *rows = json_object_new_array();
    size_t i, c;

    for (i = 0; i < mcp_json_array_length(sites) && i < limit; i++) {
        json_object *site = mcp_json_array_get(sites, i);
        json_object *row = json_object_new_array();

        for (c = 0; c < N_OVERVIEW_COLUMNS; c++) {
            json_object *v = NULL;

            if (!json_object_object_get_ex(site, overview_columns[c].field,
                                           &v) || v == NULL) {
                json_object_array_add(row, NULL);
            }
            else if (overview_columns[c].base == NULL) {
                json_object_array_add(row, mcp_shape_number(v));
            }
            else if (from_zero(site, overview_columns[c].base)) {
                json_object_array_add(row, NULL);
                zero_in[c] = 1;
            }
            else {
                json_object_array_add(row, percent_of(v));
            }
        }
        json_object_array_add(rows, row);
    }
    *zeros = NULL;
    for (c = 0; c < N_OVERVIEW_COLUMNS; c++) {
        if (zero_in[c]) {
            *zeros = *zeros == NULL
                         ? overview_columns[c].name
                         : apr_pstrcat(p, *zeros, ", ",
                                       overview_columns[c].name, NULL);
        }
    }
    return rows;
}

/* MultiSites.getAll for one period, sorted by sort_by, a page of sites. */
static apr_array_header_t *overview_params(apr_pool_t *p, const char *period,
                                           const char *date,
                                           const char *sort_by, size_t limit,
                                           size_t offset)
{
    apr_array_header_t *params = mcp_matomo_params(p);

    mcp_matomo_param_add(params, "period", period);
    mcp_matomo_param_add(params, "date", date);
    mcp_matomo_param_add(params, "enhanced", "1");
    mcp_matomo_param_add(params, "format_metrics", "0");
    mcp_matomo_param_add(params, "filter_sort_column",
                         !strcmp(sort_by, "pageviews") ? "nb_pageviews"
                         : !strcmp(sort_by, "revenue") ? "revenue"
                                                       : "nb_visits");
    mcp_matomo_param_add(params, "filter_sort_order", "desc");
    mcp_paged_params(p, params, limit, offset);
    return params;
}

static json_object *overview_table(apr_pool_t *p, json_object *sites,
                                   size_t limit, const char **zeros)
{
    json_object *table = json_object_new_object();
    json_object *cols = json_object_new_array();
    size_t c;

    for (c = 0; c < N_OVERVIEW_COLUMNS; c++) {
        json_object_array_add(cols, json_object_new_string(
                                        overview_columns[c].name));
    }
    json_object_object_add(table, "columns", cols);
    json_object_object_add(table, "rows",
                           overview_rows(p, sites, limit, zeros));
    return table;
}

/* For a period still in progress Matomo compares with the previous period
 * scaled to the part elapsed (its "ratio"): the share, when it is one,
 * as elapsed_share (kept where it always was) and in the period, as every
 * dated result states a period in progress.  Matomo's ratio counts the
 * hours of today too, which the module cannot. */
static void add_elapsed_share(json_object *result, json_object *sites)
{
    json_object *first = mcp_json_array_get(sites, 0), *ratio = NULL;

    if (first != NULL && json_object_object_get_ex(first, "ratio", &ratio)
        && ratio != NULL && json_object_get_double(ratio) > 0
        && json_object_get_double(ratio) < 1) {
        json_object_object_add(result, "elapsed_share",
                               mcp_shape_number(ratio));
        mcp_span_partial_share(json_object_object_get(result, "period"),
                               json_object_get_double(ratio));
    }
}

void mcp_tool_sites_overview(mcp_request *req, json_object *args,
                             mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    const char *period = mcp_arg_string(args, "period", "day");
    const char *date = mcp_arg_string(args, "date", "yesterday");
    size_t limit = (size_t)mcp_arg_int(args, "limit", 20);
    size_t offset = (size_t)mcp_arg_int(args, "offset", 0);
    json_object *result;
    mcp_matomo_answer a;
    const char *zeros;
    size_t n;

    /* Across sites Matomo resolves relative dates in UTC, which no site's
     * today tells: the span is stated for absolute dates only. */
    if ((res->error = mcp_period_check(p, "date", period, date,
                                       MCP_COUNTS_REFUSED)) != NULL) {
        return;
    }
    mcp_server_call_matomo(req, "MultiSites.getAll",
                           overview_params(p, period, date,
                                           mcp_arg_string(args, "sort_by",
                                                          "visits"),
                                           limit, offset), &a);
    if (!mcp_answered(&a, res)) {
        return;
    }
    if (!json_object_is_type(a.json, json_type_array)) {
        res->error = "Matomo's all-websites dashboard is not a list";
        return;
    }
    n = mcp_json_array_length(a.json);
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "period",
                           mcp_span_json(p, period, date, NULL));
    json_object_object_add(result, "sites",
                           overview_table(p, a.json, limit, &zeros));
    mcp_paged_result(result, n, limit, offset);
    if (zeros != NULL) {
        mcp_note_zero_baseline(p, result, zeros);
    }
    add_elapsed_share(result, a.json);
    res->structured = result;
}
