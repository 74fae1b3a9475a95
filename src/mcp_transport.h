/*
 * MCP Streamable HTTP over Apache: the HTTP checks (method, Host, Origin,
 * Accept, Content-Type, protocol version, body size), reading the body, and
 * writing the answer as JSON or, when the core streams, as Server-Sent
 * Events.
 */
#ifndef MCP_TRANSPORT_H
#define MCP_TRANSPORT_H

#include <httpd.h>

#include "mcp_config.h"
#include "mcp_tools.h"

int mcp_transport_handle(request_rec *r, const mcp_dir_conf *conf,
                         const mcp_catalog *catalog);

#endif
