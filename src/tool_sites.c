/*
 * Tools about the sites a caller can see.
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

static void run_list_sites(mcp_request *req, json_object *args,
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

const mcp_tool mcp_tool_list_sites = {
        "matomo_list_sites",
        "List Matomo sites",
        "The Matomo sites (websites, apps) this token can see: id, name, "
        "main URL, timezone (dates in every report are in it), currency and "
        "whether ecommerce is on. Call it first to learn site ids. search "
        "matches names and URLs (case-insensitive); results come in pages: "
        "when has_more is true, call again with offset=next_offset.",
        "{\"type\":\"object\",\"properties\":{"
        "\"search\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100,"
        "\"description\":\"part of a site name or URL\"},"
        "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,"
        "\"default\":50},"
        "\"offset\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}},"
        "\"additionalProperties\":false}",
        "{\"type\":\"object\",\"properties\":{"
        "\"sites\":{\"type\":\"object\",\"properties\":{"
        "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"array\"}}},"
        "\"required\":[\"columns\",\"rows\"]},"
        "\"total\":{\"type\":\"integer\"},"
        "\"has_more\":{\"type\":\"boolean\"},"
        "\"next_offset\":{\"type\":\"integer\"}},"
        "\"required\":[\"sites\",\"total\",\"has_more\"]}",
        run_list_sites
    };

/* --- matomo_sites_overview ------------------------------------------ */

/* A MultiSites.getAll row (enhanced=1: with the previous period's figures
 * and Matomo's evolution, a fraction) as a table row. */
typedef struct {
    const char *name;
    const char *field;
    int percent;   /* Matomo's fraction shown in percent, 1 decimal */
} overview_column;

static const overview_column overview_columns[] = {
    { "idSite", "idsite", 0 },
    { "name", "label", 0 },
    { "visits", "nb_visits", 0 },
    { "visits_previous", "previous_nb_visits", 0 },
    { "visits_change_pct", "visits_evolution", 1 },
    { "pageviews", "nb_pageviews", 0 },
    { "pageviews_previous", "previous_Actions_nb_pageviews", 0 },
    { "pageviews_change_pct", "pageviews_evolution", 1 },
    { "revenue", "revenue", 0 },
    { "revenue_previous", "previous_Goal_revenue", 0 },
    { "revenue_change_pct", "revenue_evolution", 1 },
    { "currency", "currencySymbol", 0 },
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

static json_object *overview_rows(json_object *sites, size_t limit)
{
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
            else {
                json_object_array_add(row, overview_columns[c].percent
                                               ? percent_of(v)
                                               : mcp_shape_number(v));
            }
        }
        json_object_array_add(rows, row);
    }
    return rows;
}

static json_object *overview_span(apr_pool_t *p, const char *period,
                                  const char *date)
{
    json_object *span = json_object_new_object();
    mcp_day start, end;

    json_object_object_add(span, "period", json_object_new_string(period));
    json_object_object_add(span, "date", json_object_new_string(date));
    if (mcp_period_resolve(period, date, &start, &end)) {
        json_object_object_add(span, "start", json_object_new_string(
                                                  mcp_day_format(p, start)));
        json_object_object_add(span, "end", json_object_new_string(
                                                mcp_day_format(p, end)));
    }
    return span;
}

static void run_sites_overview(mcp_request *req, json_object *args,
                               mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    apr_array_header_t *params = mcp_matomo_params(p);
    const char *period = mcp_arg_string(args, "period", "day");
    const char *date = mcp_arg_string(args, "date", "yesterday");
    const char *sort_by = mcp_arg_string(args, "sort_by", "visits");
    size_t limit = (size_t)mcp_arg_int(args, "limit", 20);
    size_t offset = (size_t)mcp_arg_int(args, "offset", 0);
    int range = !strcmp(period, "range");
    int pair = strchr(date, ',') != NULL;
    int counted = !strncmp(date, "last", 4) || !strncmp(date, "previous", 8);
    int zero = counted && atoi(date + (date[0] == 'l' ? 4 : 8)) == 0;
    json_object *result, *table, *cols, *first, *ratio = NULL;
    mcp_matomo_answer a;
    mcp_day s, e;
    size_t c, n;

    if (zero) {
        res->error = "date: lastN and previousN need N of 1 or more";
        return;
    }
    if (range ? !(pair || counted) : (pair || counted)) {
        res->error = range ? "date: period range takes YYYY-MM-DD,YYYY-MM-DD "
                             "or lastN/previousN (days, one aggregate)"
                           : "date: day, week, month and year take "
                             "YYYY-MM-DD, today or yesterday (one period)";
        return;
    }
    if (pair && !mcp_period_resolve(period, date, &s, &e)) {
        res->error = "date: the range must be two calendar days, the first "
                     "not after the second";
        return;
    }
    if (!pair && !counted && !mcp_date_is_relative(date)
        && !mcp_day_parse(date, &s)) {
        res->error = "date: not a calendar day (YYYY-MM-DD)";
        return;
    }
    mcp_matomo_param_add(params, "period", period);
    mcp_matomo_param_add(params, "date", date);
    mcp_matomo_param_add(params, "enhanced", "1");
    mcp_matomo_param_add(params, "format_metrics", "0");
    mcp_matomo_param_add(params, "filter_sort_column",
                         !strcmp(sort_by, "pageviews") ? "nb_pageviews"
                         : !strcmp(sort_by, "revenue") ? "revenue"
                                                       : "nb_visits");
    mcp_matomo_param_add(params, "filter_sort_order", "desc");
    /* One row more than asked tells whether there is more. */
    mcp_matomo_param_add(params, "filter_limit",
                         apr_psprintf(p, "%lu", (unsigned long)limit + 1));
    if (offset > 0) {
        mcp_matomo_param_add(params, "filter_offset",
                             apr_psprintf(p, "%lu", (unsigned long)offset));
    }
    mcp_server_call_matomo(req, "MultiSites.getAll", params, &a);
    if (!mcp_answered(&a, res)) {
        return;
    }
    if (!json_object_is_type(a.json, json_type_array)) {
        res->error = "Matomo's all-websites dashboard is not a list";
        return;
    }
    n = mcp_json_array_length(a.json);
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "period", overview_span(p, period, date));
    table = json_object_new_object();
    cols = json_object_new_array();
    for (c = 0; c < N_OVERVIEW_COLUMNS; c++) {
        json_object_array_add(cols, json_object_new_string(
                                        overview_columns[c].name));
    }
    json_object_object_add(table, "columns", cols);
    json_object_object_add(table, "rows", overview_rows(a.json, limit));
    json_object_object_add(result, "sites", table);
    json_object_object_add(result, "has_more",
                           json_object_new_boolean(n > limit));
    if (n > limit) {
        json_object_object_add(result, "next_offset", json_object_new_int64(
                                   (int64_t)(offset + limit)));
    }
    /* For a period still in progress Matomo compares with the previous
     * period scaled to the part elapsed (its "ratio"). */
    first = n > 0 ? mcp_json_array_get(a.json, 0) : NULL;
    if (first != NULL && json_object_object_get_ex(first, "ratio", &ratio)
        && ratio != NULL && json_object_get_double(ratio) > 0
        && json_object_get_double(ratio) < 1) {
        json_object_object_add(result, "elapsed_share",
                               mcp_shape_number(ratio));
    }
    res->structured = result;
}

const mcp_tool mcp_tool_sites_overview = {
    "matomo_sites_overview",
    "All sites at a glance",
    "Every site this token can see for one period, as Matomo's All "
    "Websites dashboard: visits, pageviews and revenue (in the site's "
    "currency), each with the previous period's figure and the change in "
    "percent (-15.4 means -15.4%), sorted by sort_by (most first). For a "
    "period still in progress (today, this week...) Matomo compares with "
    "the previous period scaled to the part elapsed (elapsed_share, e.g. "
    "0.5 halfway), so the change is fair while the *_previous figures are "
    "whole. period range takes YYYY-MM-DD,YYYY-MM-DD (or lastN days) and "
    "compares with the same number of days before. Relative dates (today, "
    "yesterday) are resolved by Matomo in UTC when the token sees several "
    "sites (in the site's timezone when it sees one); give YYYY-MM-DD to "
    "be exact (period then states start and end). Pages: when has_more is "
    "true, call again with offset=next_offset.",
    "{\"type\":\"object\",\"properties\":{" MCP_PROP_PERIOD ","
    "\"date\":{\"type\":\"string\",\"maxLength\":21,\"default\":"
    "\"yesterday\",\"pattern\":\"" MCP_DATE_PATTERN "\","
    "\"description\":\"YYYY-MM-DD, today or yesterday; with period range "
    "YYYY-MM-DD,YYYY-MM-DD, lastN or previousN (N days, N from 1)\"},"
    "\"sort_by\":{\"type\":\"string\",\"enum\":[\"visits\",\"pageviews\","
    "\"revenue\"],\"default\":\"visits\"},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,"
    "\"default\":20},"
    "\"offset\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}},"
    "\"additionalProperties\":false}",
    "{\"type\":\"object\",\"properties\":{"
    "\"period\":{\"type\":\"object\",\"properties\":{"
    "\"period\":{\"type\":\"string\"},\"date\":{\"type\":\"string\"},"
    "\"start\":{\"type\":\"string\"},\"end\":{\"type\":\"string\"}},"
    "\"required\":[\"period\",\"date\"]},"
    "\"sites\":{\"type\":\"object\",\"properties\":{"
    "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"array\"}}},"
    "\"required\":[\"columns\",\"rows\"]},"
    "\"has_more\":{\"type\":\"boolean\"},"
    "\"next_offset\":{\"type\":\"integer\"},"
    "\"elapsed_share\":{\"type\":\"number\"}},"
    "\"required\":[\"period\",\"sites\",\"has_more\"]}",
    run_sites_overview
};
