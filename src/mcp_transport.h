/*
 * MCP Streamable HTTP over Apache: the HTTP checks (method, Host, Origin,
 * Accept, Content-Type, protocol version, body size), reading the body, and
 * writing the answer as JSON or, when the core streams, as Server-Sent
 * Events.
 */
#ifndef MCP_TRANSPORT_H
#define MCP_TRANSPORT_H

#include <httpd.h>

#include "mcp_auth.h"
#include "mcp_config.h"
#include "mcp_guard.h"
#include "mcp_throttle.h"
#include "mcp_tools.h"

/* What one child process shares among its threads: read-only after
 * start-up, except the verdict cache, which locks itself. */
typedef struct {
    const mcp_catalog *catalog;
    mcp_verdict_cache *verdicts;
    mcp_guard *guard;           /* token checks' budgets; may be NULL */
    mcp_throttle *throttle;     /* calls in flight, breaker; may be NULL */
    int children;               /* at most this many like it (the total
                                 * budget is shared out among them) */
} mcp_process;

#define MCP_METADATA_PATH "/.well-known/oauth-protected-resource"

/* The MCP endpoint: r->handler is matomo-mcp. */
int mcp_transport_handle(request_rec *r, const mcp_dir_conf *conf,
                         const mcp_process *proc);

/* GET /.well-known/oauth-protected-resource[/<mcp path>]: the RFC 9728
 * document of the MCP endpoint at that path, or DECLINED when there is
 * none. */
int mcp_transport_metadata(request_rec *r, module *self);

#endif
