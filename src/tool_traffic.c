/*
 * Tools about a site's traffic.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_json.h"
#include "mcp_shape.h"
#include "mcp_toolkit.h"

#include <string.h>

#include <apr_strings.h>

/* --- matomo_traffic_summary ----------------------------------------- */

static void run_traffic_summary(mcp_request *req, json_object *args,
                                mcp_tool_result *res)
{
    apr_array_header_t *params = mcp_matomo_params(req->pool);
    const char *period = mcp_arg_string(args, "period", "day");
    const char *date = mcp_arg_string(args, "date", "yesterday");
    const char *segment = mcp_arg_string(args, "segment", NULL);
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
                         apr_itoa(req->pool, mcp_arg_int(args, "idSite", 0)));
    mcp_matomo_param_add(params, "period", period);
    mcp_matomo_param_add(params, "date", date);
    mcp_matomo_param_add(params, "format_metrics", "0");
    if (segment != NULL) {
        mcp_matomo_param_add(params, "segment", segment);
    }
    mcp_server_call_matomo(req, "VisitsSummary.get", params, &a);
    if (!mcp_answered(&a, res)) {
        return;
    }
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(result, "idSite", json_object_new_int(
                                                 mcp_arg_int(args, "idSite", 0)));
    json_object_object_add(result, "period", json_object_new_string(period));
    json_object_object_add(result, "date", json_object_new_string(date));
    json_object_object_add(result, "metrics", json_object_get(a.json));
    res->structured = result;
}

const mcp_tool mcp_tool_traffic_summary = {
        "matomo_traffic_summary",
        "Traffic summary of a site",
        "Headline visit metrics of one site for a period: visits, unique "
        "visitors, actions, bounce rate, time on site, conversions. Dates "
        "are in the site's timezone; 'today' is partial. date=lastN with "
        "period day/week/month/year gives one entry per period; period "
        "range with YYYY-MM-DD,YYYY-MM-DD gives one aggregate. segment "
        "narrows to matching visits.",
        "{\"type\":\"object\",\"properties\":{" MCP_PROP_ID_SITE ","
        MCP_PROP_PERIOD "," MCP_PROP_DATE "," MCP_PROP_SEGMENT "},"
        "\"required\":[\"idSite\"],\"additionalProperties\":false}",
        "{\"type\":\"object\",\"properties\":{"
        "\"idSite\":{\"type\":\"integer\"},"
        "\"period\":{\"type\":\"string\"},\"date\":{\"type\":\"string\"},"
        "\"metrics\":{\"type\":\"object\"}},"
        "\"required\":[\"idSite\",\"period\",\"date\",\"metrics\"]}",
        run_traffic_summary
    };
