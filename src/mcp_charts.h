/*
 * Charts in tool results: the chart argument of matomo_get_trend,
 * matomo_get_report and matomo_traffic_summary, answered with the PNG
 * Matomo's own renderer draws (ImageGraph.get, mcp_matomo_chart) as an MCP
 * image block beside the text and structuredContent, which stay as they
 * are.  A chart that cannot be had leaves the data whole and says why.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_CHARTS_H
#define MCP_CHARTS_H

#include <json-c/json.h>

#include "mcp_server.h"
#include "mcp_tools.h"

/* The size asked of Matomo: the size the recorded charts have, wide
 * enough for 30 dated points, small enough for a model's image budget. */
#define MCP_CHART_WIDTH  800
#define MCP_CHART_HEIGHT 400

/* What a tool's data call asked, as the chart asks it again. */
typedef struct {
    int id_site;
    const char *module, *action;  /* the report Matomo draws */
    /* or, when not NULL, its parameters (apiModule, apiAction and those a
     * report id carries, such as idGoal) */
    const apr_array_header_t *report_params;
    const char *period, *date;    /* as the data call asked them */
    const char *segment;          /* or NULL */
    const char *columns;          /* metric ids, comma-separated */
    const char *labels;           /* a row of the report (row evolution),
                                   * or NULL */
    const char *id_subtable;      /* or NULL */
    int periods;                  /* 1: date is several periods */
    int dimension;                /* 1: the report has rows (a dimension) */
} mcp_chart_spec;

/* The graph type the chart argument asks for: NULL when none, fits for
 * "auto", else the type named. */
const char *mcp_chart_asked(json_object *args, const char *fits);

/* Draws spec as graph_type into res (res->chart, or res->chart_note with
 * the reason there is none).  Asks Matomo only what it can draw: an
 * evolution of several periods, bars and pies of one period of a report
 * with rows. */
void mcp_chart_draw(mcp_request *req, const mcp_chart_spec *spec,
                    const char *graph_type, mcp_tool_result *res);

#endif
