/*
 * MCP Apps (the io.modelcontextprotocol/ui extension, SEP-1865, protocol
 * 2026-01-26): the interactive chart view that matomo_get_trend and
 * matomo_get_report declare, served as the ui:// resource its hosts read.
 *
 * httpd-free: APR and json-c only.  The page itself is src/app/chart.html,
 * compiled in at build time (src/app/embed-app checks it fetches nothing).
 */
#ifndef MCP_APPS_H
#define MCP_APPS_H

#include <apr_pools.h>
#include <json-c/json.h>

/* The view's resource and the MIME type the extension requires of it. */
#define MCP_APP_CHART_URI "ui://matomo/chart"
#define MCP_APP_MIME_TYPE "text/html;profile=mcp-app"

/* The resources/read result for uri when it is one of the views (a new
 * object: contents with the HTML as text), else NULL. */
json_object *mcp_apps_read(const char *uri);

#endif
