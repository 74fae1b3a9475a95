/*
 * The tool catalog, in tools/list order: each tool's definition is
 * src/tools/<name>.json, and its run function (in a src/tool_*.c file,
 * declared in mcp_toolkit.h) is named here.  Adding a tool is adding its
 * file, its run function and its line here (README, "Adding a tool").
 *
 * httpd-free.
 */
#include "mcp_toolkit.h"

#include <string.h>

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
    { "matomo_api_read", mcp_tool_api_read },
};

const int mcp_tools_count = (int)(sizeof(mcp_tools) / sizeof(mcp_tools[0]));

/* Groups for MatomoMcpTools.  Every group has matomo_list_sites: every
 * other tool needs an idSite, which a model finds there. */
const mcp_tool_group mcp_tool_groups[] = {
    { "traffic", "matomo_list_sites matomo_sites_overview "
                 "matomo_traffic_summary matomo_get_trend "
                 "matomo_annotations" },
    { "reports", "matomo_list_sites matomo_list_reports matomo_get_report "
                 "matomo_list_goals matomo_list_segments "
                 "matomo_visitor_log" },
    { "technical", "matomo_list_sites matomo_page_performance "
                   "matomo_tracking_health" },
    /* The raw API tool answers what no purpose-built tool covers, in
     * Matomo's own terms: an admin offers it on purpose (README,
     * "matomo_api_read"). */
    { "raw", "matomo_api_read" },
};

const int mcp_tool_groups_count =
    (int)(sizeof(mcp_tool_groups) / sizeof(mcp_tool_groups[0]));

static int tool_index(const char *name, size_t len)
{
    int i;

    for (i = 0; i < mcp_tools_count && i < MCP_TOOL_SET_MAX; i++) {
        if (strlen(mcp_tools[i].name) == len
            && !strncmp(mcp_tools[i].name, name, len)) {
            return i;
        }
    }
    return -1;
}

int mcp_tool_set_add(const char *word, mcp_tool_set *set)
{
    int i = tool_index(word, strlen(word)), g;

    if (i >= 0) {
        *set |= (mcp_tool_set)1 << i;
        return 1;
    }
    for (g = 0; g < mcp_tool_groups_count; g++) {
        const char *s = mcp_tool_groups[g].tools;

        if (strcmp(mcp_tool_groups[g].name, word) != 0) {
            continue;
        }
        while (*s != '\0') {
            size_t len = strcspn(s, " ");

            if ((i = tool_index(s, len)) >= 0) {
                *set |= (mcp_tool_set)1 << i;
            }
            s += len;
            s += strspn(s, " ");
        }
        return 1;
    }
    return 0;
}

/* Tools offered only where MatomoMcpTools names them or a group holding
 * them. */
static const char *const on_request[] = { "matomo_api_read" };

mcp_tool_set mcp_tool_set_default(void)
{
    mcp_tool_set set = 0;
    size_t j;
    int i;

    for (i = 0; i < mcp_tools_count && i < MCP_TOOL_SET_MAX; i++) {
        int asked = 0;

        for (j = 0; j < sizeof(on_request) / sizeof(on_request[0]); j++) {
            asked |= !strcmp(mcp_tools[i].name, on_request[j]);
        }
        if (!asked) {
            set |= (mcp_tool_set)1 << i;
        }
    }
    return set;
}
