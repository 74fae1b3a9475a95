/*
 * MCP Streamable HTTP over Apache: the HTTP checks (method, Host, Origin,
 * Accept, Content-Type, protocol version, body size), reading the body, and
 * writing the answer as JSON or, when the core streams, as Server-Sent
 * Events.
 */
#ifndef MOD_MATOMO_MCP_TRANSPORT_H
#define MOD_MATOMO_MCP_TRANSPORT_H

#include <httpd.h>

#include "mcp_auth.h"
#include "mod_matomo_mcp_config.h"
#include <apr_hash.h>
#include <apr_thread_mutex.h>

#include "mcp_cache.h"
#include "mcp_guard.h"
#include "mcp_throttle.h"
#include "mcp_tools.h"

/* What one child process shares among its threads: read-only after
 * start-up, except the verdict cache, which locks itself. */
typedef struct {
    const mcp_catalog *catalog;
    mcp_verdict_cache *verdicts;
    mcp_cache *cache;           /* MatomoMcpCache; NULL: none */
    mcp_cache_ttl cache_ttl;
    /* What protects each Matomo this process calls (a token-check budget,
     * a load limit), by backend URL: endpoints calling the same Matomo
     * share them.  NULL lock: none (no threads). */
    apr_pool_t *pool;
    apr_thread_mutex_t *lock;
    apr_hash_t *protections;
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
