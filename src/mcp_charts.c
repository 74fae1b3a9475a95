/*
 * Charts in tool results (see mcp_charts.h).  Matomo's renderer draws its
 * own errors (an unknown report, metric or graph type, or an evolution of
 * one period) as HTTP 200 PNGs that nothing tells apart from a chart, so
 * every such case is refused here, with the reason, before any call.
 */
#include "mcp_charts.h"
#include "mcp_json.h"

#include <string.h>

#include <apr_strings.h>

const char *mcp_chart_asked(json_object *args, const char *fits)
{
    const char *v = mcp_json_get_string(args, "chart");

    /* The input schema let only auto and the four names through. */
    return v != NULL && !strcmp(v, "auto") ? fits : v;
}

/* Why Matomo could not draw it, or NULL. */
static const char *undrawable(const mcp_chart_spec *s, const char *type)
{
    if (!mcp_matomo_graph_type_known(type)) {
        return "the chart argument names no graph type Matomo draws "
               "(evolution, horizontalBar, verticalBar, pie)";
    }
    if (!strcmp(type, "evolution") && !s->periods) {
        return "an evolution chart needs several periods (matomo_get_trend, "
               "or a date such as last30)";
    }
    if (strcmp(type, "evolution") != 0 && s->periods) {
        return "bars and pies show one period: ask with a single date, or "
               "use chart evolution";
    }
    if (strcmp(type, "evolution") != 0 && !s->dimension) {
        return "this report has no rows to draw as bars or a pie (one "
               "figure per period): chart its trend with matomo_get_trend";
    }
    if (s->columns == NULL || *s->columns == '\0') {
        return "this result has no metric to draw";
    }
    return NULL;
}

static const char *reason(apr_pool_t *p, const mcp_matomo_answer *a)
{
    return a->status == MCP_MATOMO_ERROR || a->status == MCP_MATOMO_DENIED
               ? apr_pstrcat(p, "Matomo answered: ", a->message, NULL)
               : a->message;
}

void mcp_chart_draw(mcp_request *req, const mcp_chart_spec *s,
                    const char *type, mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    apr_array_header_t *params;
    mcp_matomo_answer a;
    const char *why = undrawable(s, type);

    if (why != NULL) {
        res->chart_note = apr_pstrcat(p, "No chart: ", why, ".", NULL);
        return;
    }
    params = mcp_matomo_params(p);
    mcp_matomo_param_add(params, "idSite", apr_itoa(p, s->id_site));
    mcp_matomo_param_add(params, "period", s->period);
    mcp_matomo_param_add(params, "date", s->date);
    if (s->report_params != NULL) {
        apr_array_cat(params, s->report_params);
    }
    else {
        mcp_matomo_param_add(params, "apiModule", s->module);
        mcp_matomo_param_add(params, "apiAction", s->action);
    }
    mcp_matomo_param_add(params, "graphType", type);
    mcp_matomo_param_add(params, "columns", s->columns);
    if (s->labels != NULL) {
        mcp_matomo_param_add(params, "labels", s->labels);
    }
    if (s->id_subtable != NULL) {
        mcp_matomo_param_add(params, "idSubtable", s->id_subtable);
    }
    if (s->segment != NULL) {
        mcp_matomo_param_add(params, "segment", s->segment);
    }
    mcp_matomo_param_add(params, "width", apr_itoa(p, MCP_CHART_WIDTH));
    mcp_matomo_param_add(params, "height", apr_itoa(p, MCP_CHART_HEIGHT));
    mcp_server_call_matomo_chart(req, params, &a);
    if (a.status == MCP_MATOMO_OK) {
        res->chart = a.png;
        res->chart_len = a.png_len;
        return;
    }
    res->chart_note = apr_pstrcat(p, "No chart: ", reason(p, &a), NULL);
}
