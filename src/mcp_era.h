/*
 * Which MCP era a request speaks, and the envelope of the modern one.
 *
 * Legacy (2025-03-26 to 2025-11-25): a client opens with initialize and
 * names its revision in the MCP-Protocol-Version header (none: 2025-03-26).
 * Modern (2026-07-28): no handshake; every request carries its revision,
 * capabilities and log level in params._meta, and mirrors its method and
 * name into the Mcp-Method and Mcp-Name headers (SEP-2243).  One endpoint
 * serves both, request by request, remembering nothing between them
 * (versioning.mdx, "Backward Compatibility with Initialization-Based
 * Versions").
 *
 * httpd-free: APR and json-c only.  The transport hands over the three
 * header values; everything they are checked against is in the body.
 */
#ifndef MCP_ERA_H
#define MCP_ERA_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mcp_jsonrpc.h"

#define MCP_PROTOCOL_MODERN  "2026-07-28"
#define MCP_PROTOCOL_LATEST  "2025-11-25"   /* the newest with initialize */
#define MCP_PROTOCOL_DEFAULT "2025-03-26"   /* assumed without a header */

/* The 2026-07-28 error codes (basic/index.mdx, "Error Codes"). */
#define MCP_ERROR_HEADER_MISMATCH      (-32020)
#define MCP_ERROR_MISSING_CAPABILITY   (-32021)
#define MCP_ERROR_UNSUPPORTED_VERSION  (-32022)

typedef enum {
    MCP_ERA_LEGACY = 0,
    MCP_ERA_MODERN
} mcp_era;

/* The request headers the envelope is checked against; NULL when absent. */
typedef struct {
    const char *protocol;   /* MCP-Protocol-Version */
    const char *method;     /* Mcp-Method */
    const char *name;       /* Mcp-Name */
} mcp_headers;

/* What a modern request's params._meta declares. */
typedef struct {
    json_object *client_capabilities;   /* an object */
    const char *log_level;              /* NULL: send no log messages */
} mcp_meta;

/* A request refused before any method runs: its HTTP status and JSON-RPC
 * error. */
typedef struct {
    int http_status;
    int code;
    const char *message;
    json_object *data;      /* may be NULL; owned by the pool */
} mcp_refusal;

/* The revisions this server speaks, newest first, NULL-terminated. */
extern const char *const mcp_era_versions[];

/* 1 when revision is one initialize may select (a legacy revision). */
int mcp_era_is_legacy_version(const char *revision);

/* The syslog levels of MCP logging, from debug (0) to emergency (7); -1
 * for anything else. */
int mcp_era_log_level_rank(const char *level);

/* Decides the era of one message (a request or a notification).  Returns 0
 * and sets *era, or returns -1 with *refusal filled (-32020 when the header
 * and _meta disagree, -32022 for a revision this server does not speak). */
int mcp_era_select(apr_pool_t *p, const mcp_headers *h,
                   const mcp_jsonrpc_msg *msg, mcp_era *era,
                   mcp_refusal *refusal);

/* The modern envelope of a request: params._meta (-32602 when incomplete),
 * its log level (-32602 when not a syslog level), Mcp-Method and, for the
 * methods that name something, Mcp-Name (-32020).  Returns 0 with *meta
 * filled, or -1 with *refusal. */
int mcp_era_check_request(apr_pool_t *p, const mcp_headers *h,
                          const mcp_jsonrpc_msg *msg, mcp_meta *meta,
                          mcp_refusal *refusal);

/* -32021 unless the client declared capability (a ClientCapabilities key,
 * e.g. "sampling") in this request's _meta.  Returns 0 when it did. */
int mcp_era_require_capability(apr_pool_t *p, const mcp_meta *meta,
                               const char *capability, mcp_refusal *refusal);

/* How long, and for whom, a client or a shared cache may keep a result
 * (server/utilities/caching.mdx).  ttl_ms < 0: no hint (not cacheable). */
typedef struct {
    long ttl_ms;
    const char *scope;      /* "public" or "private" */
} mcp_cache_hint;

/* result_json, an object serialised by this module (never holding the
 * members added), with resultType "complete", _meta carrying server_info
 * (serialised), and the cache hint when there is one. */
const char *mcp_era_decorate(apr_pool_t *p, const char *result_json,
                             const char *server_info,
                             const mcp_cache_hint *hint);

/* Header value v with a "=?base64?...?=" sentinel decoded (SEP-2243
 * "Value Encoding"); *len is the decoded length.  NULL when v holds a
 * character no header value may (outside 0x20-0x7E and tab) or a sentinel
 * that is not base64. */
const char *mcp_era_header_value(apr_pool_t *p, const char *v,
                                 apr_size_t *len);

#endif
