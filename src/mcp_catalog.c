/*
 * The tool catalog: one entry per tool, with everything about it in one
 * place — name, texts for the model, input and output schemas (arguments
 * are checked against the input schema before run() is called), and the
 * Matomo calls it makes.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_json.h"
#include "mcp_server.h"
#include "mcp_shape.h"
#include "mcp_tools.h"

#include <string.h>

#include <apr_strings.h>

/* --- argument and answer helpers ------------------------------------ */

static int arg_int(json_object *args, const char *name, int fallback)
{
    json_object *v = mcp_json_get_typed(args, name, json_type_int);

    return v != NULL ? json_object_get_int(v) : fallback;
}

static const char *arg_string(json_object *args, const char *name,
                              const char *fallback)
{
    const char *v = mcp_json_get_string(args, name);

    return v != NULL ? v : fallback;
}

/* 1 when Matomo answered with data; else the result is the error, in
 * words a model can act on. */
static int answered(const mcp_matomo_answer *a, mcp_tool_result *res)
{
    switch (a->status) {
    case MCP_MATOMO_OK:
        return 1;
    case MCP_MATOMO_ERROR:
        res->error = a->message;
        break;
    case MCP_MATOMO_DENIED:
        res->error = "Access denied: the token has no view access to what "
                     "was asked (use matomo_list_sites for the sites it can "
                     "see)";
        break;
    default:
        res->error = a->message;
        break;
    }
    return 0;
}

/* The arguments most tools share, as JSON Schema properties. */
#define ID_SITE_PROP                                                          \
    "\"idSite\":{\"type\":\"integer\",\"minimum\":1,"                         \
    "\"description\":\"Site id, from matomo_list_sites\"}"
#define PERIOD_PROP                                                           \
    "\"period\":{\"type\":\"string\",\"enum\":[\"day\",\"week\",\"month\","   \
    "\"year\",\"range\"],\"default\":\"day\"}"
#define DATE_PROP                                                             \
    "\"date\":{\"type\":\"string\",\"maxLength\":21,\"default\":"             \
    "\"yesterday\",\"pattern\":\"^(today|yesterday|"                          \
    "[0-9]{4}-[0-9]{2}-[0-9]{2}|(last|previous)[0-9]{1,3}|"                  \
    "[0-9]{4}-[0-9]{2}-[0-9]{2},[0-9]{4}-[0-9]{2}-[0-9]{2})$\","             \
    "\"description\":\"YYYY-MM-DD, today, yesterday, lastN, previousN, or "   \
    "YYYY-MM-DD,YYYY-MM-DD with period range\"}"
#define SEGMENT_OP "(==|!=|<=|>=|<|>|=@|!@|=\\\\^|=\\\\$)"
#define SEGMENT_COND "[A-Za-z][A-Za-z0-9_.]*" SEGMENT_OP "[^;,]*"
#define SEGMENT_PROP                                                          \
    "\"segment\":{\"type\":\"string\",\"maxLength\":2000,\"pattern\":\"^"     \
    SEGMENT_COND "([;,]" SEGMENT_COND ")*$\",\"description\":\"a Matomo "     \
    "segment: dimension, operator (== != < <= > >= =@ !@ =^ =$), value; "     \
    "; is AND, , is OR, values URL-encoded, e.g. deviceType==smartphone\"}"

/* --- matomo_list_sites ---------------------------------------------- */

static const mcp_column site_columns[] = {
    { "id", "idsite", MCP_COL_AS_IS },
    { "name", "name", MCP_COL_AS_IS },
    { "url", "main_url", MCP_COL_AS_IS },
    { "timezone", "timezone", MCP_COL_AS_IS },
    { "currency", "currency", MCP_COL_AS_IS },
    { "ecommerce", "ecommerce", MCP_COL_BOOLEAN },
};

static int site_matches(json_object *site, const char *search)
{
    const char *name = mcp_json_get_string(site, "name");
    const char *url = mcp_json_get_string(site, "main_url");

    return search == NULL
           || (name != NULL && strcasestr(name, search))
           || (url != NULL && strcasestr(url, search));
}

static void run_list_sites(mcp_request *req, json_object *args,
                           mcp_tool_result *res)
{
    const char *search = arg_string(args, "search", NULL);
    size_t limit = (size_t)arg_int(args, "limit", 50);
    size_t offset = (size_t)arg_int(args, "offset", 0);
    json_object *matching, *result;
    mcp_matomo_answer a;
    size_t i;

    mcp_server_call_matomo(req, "SitesManager.getSitesWithAtLeastViewAccess",
                           NULL, &a);
    if (!answered(&a, res)) {
        return;
    }
    if (!json_object_is_type(a.json, json_type_array)) {
        res->error = "Matomo's list of sites is not a list";
        return;
    }
    matching = mcp_json_pool_own(req->pool, json_object_new_array());
    for (i = 0; i < json_object_array_length(a.json); i++) {
        json_object *site = json_object_array_get_idx(a.json, i);

        if (site_matches(site, search)) {
            json_object_array_add(matching, json_object_get(site));
        }
    }
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(result, "sites", mcp_shape_table(
        site_columns, (int)(sizeof(site_columns) / sizeof(site_columns[0])),
        matching, offset, limit));
    mcp_shape_page(result, json_object_array_length(matching), offset, limit);
    res->structured = result;
}

/* --- matomo_traffic_summary ----------------------------------------- */

static void run_traffic_summary(mcp_request *req, json_object *args,
                                mcp_tool_result *res)
{
    apr_array_header_t *params = mcp_matomo_params(req->pool);
    const char *period = arg_string(args, "period", "day");
    const char *date = arg_string(args, "date", "yesterday");
    const char *segment = arg_string(args, "segment", NULL);
    json_object *result;
    mcp_matomo_answer a;

    if ((strcmp(period, "range") == 0) != (strchr(date, ',') != NULL)
        && strncmp(date, "last", 4) != 0 && strncmp(date, "previous", 8) != 0) {
        res->error = "date: period range takes YYYY-MM-DD,YYYY-MM-DD (or "
                     "lastN/previousN); a single date takes day, week, "
                     "month or year";
        return;
    }
    mcp_matomo_param_add(params, "idSite",
                         apr_itoa(req->pool, arg_int(args, "idSite", 0)));
    mcp_matomo_param_add(params, "period", period);
    mcp_matomo_param_add(params, "date", date);
    mcp_matomo_param_add(params, "format_metrics", "0");
    if (segment != NULL) {
        mcp_matomo_param_add(params, "segment", segment);
    }
    mcp_server_call_matomo(req, "VisitsSummary.get", params, &a);
    if (!answered(&a, res)) {
        return;
    }
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(result, "idSite", json_object_new_int(
                                                 arg_int(args, "idSite", 0)));
    json_object_object_add(result, "period", json_object_new_string(period));
    json_object_object_add(result, "date", json_object_new_string(date));
    json_object_object_add(result, "metrics", json_object_get(a.json));
    res->structured = result;
}

/* --- the table ------------------------------------------------------ */

const mcp_tool mcp_tools[] = {
    {
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
    },
    {
        "matomo_traffic_summary",
        "Traffic summary of a site",
        "Headline visit metrics of one site for a period: visits, unique "
        "visitors, actions, bounce rate, time on site, conversions. Dates "
        "are in the site's timezone; 'today' is partial. date=lastN with "
        "period day/week/month/year gives one entry per period; period "
        "range with YYYY-MM-DD,YYYY-MM-DD gives one aggregate. segment "
        "narrows to matching visits.",
        "{\"type\":\"object\",\"properties\":{" ID_SITE_PROP ","
        PERIOD_PROP "," DATE_PROP "," SEGMENT_PROP "},"
        "\"required\":[\"idSite\"],\"additionalProperties\":false}",
        "{\"type\":\"object\",\"properties\":{"
        "\"idSite\":{\"type\":\"integer\"},"
        "\"period\":{\"type\":\"string\"},\"date\":{\"type\":\"string\"},"
        "\"metrics\":{\"type\":\"object\"}},"
        "\"required\":[\"idSite\",\"period\",\"date\",\"metrics\"]}",
        run_traffic_summary
    },
};

const int mcp_tools_count = (int)(sizeof(mcp_tools) / sizeof(mcp_tools[0]));
