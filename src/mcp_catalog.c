/*
 * The tool catalog, in tools/list order: each tool's definition is
 * src/tools/<name>.json, and its run function (in a src/tool_*.c file,
 * declared in mcp_toolkit.h) is named here.  Adding a tool is adding its
 * file, its run function and its line here (README, "Adding a tool").
 *
 * httpd-free.
 */
#include "mcp_toolkit.h"

const mcp_tool mcp_tools[] = {
    { "matomo_list_sites", mcp_tool_list_sites },
    { "matomo_sites_overview", mcp_tool_sites_overview },
    { "matomo_traffic_summary", mcp_tool_traffic_summary },
    { "matomo_list_reports", mcp_tool_list_reports },
    { "matomo_get_report", mcp_tool_get_report },
    { "matomo_get_trend", mcp_tool_get_trend },
    { "matomo_list_goals", mcp_tool_list_goals },
    { "matomo_list_segments", mcp_tool_list_segments },
    { "matomo_visitor_log", mcp_tool_visitor_log },
    { "matomo_page_performance", mcp_tool_page_performance },
    { "matomo_tracking_health", mcp_tool_tracking_health },
    { "matomo_annotations", mcp_tool_annotations },
};

const int mcp_tools_count = (int)(sizeof(mcp_tools) / sizeof(mcp_tools[0]));
