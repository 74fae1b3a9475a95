/*
 * The tool catalog, in tools/list order.  A tool is one definition (its
 * name, texts for the model, input and output schemas, and the Matomo calls
 * it makes) in a src/tool_*.c file; adding one is adding it there and
 * naming it here.
 *
 * httpd-free.
 */
#include "mcp_toolkit.h"

const mcp_tool *const mcp_tools[] = {
    &mcp_tool_list_sites,
    &mcp_tool_sites_overview,
    &mcp_tool_traffic_summary,
    &mcp_tool_list_reports,
    &mcp_tool_get_report,
    &mcp_tool_get_trend,
    &mcp_tool_list_goals,
    &mcp_tool_list_segments,
    &mcp_tool_visitor_log,
    &mcp_tool_page_performance,
    &mcp_tool_tracking_health,
    &mcp_tool_annotations,
};

const int mcp_tools_count = (int)(sizeof(mcp_tools) / sizeof(mcp_tools[0]));
