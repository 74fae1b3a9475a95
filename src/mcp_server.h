/*
 * MCP dispatch: the lifecycle (initialize, ping, notifications) and the
 * methods, over one JSON-RPC message at a time.  Stateless: nothing survives
 * a request, so any child of any Apache can answer any message.
 *
 * httpd-free: APR and json-c only.  The transport feeds it a body and writes
 * back what it returns.
 */
#ifndef MCP_SERVER_H
#define MCP_SERVER_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mcp_auth.h"
#include "mcp_matomo.h"
#include "mcp_tools.h"

#define MCP_SERVER_NAME    "mod_matomo_mcp"
#define MCP_SERVER_TITLE   "Matomo analytics (mod_matomo_mcp)"
#define MCP_SERVER_VERSION "0.1.0"

/* The revision assumed when a request carries no MCP-Protocol-Version. */
#define MCP_PROTOCOL_DEFAULT "2025-03-26"
#define MCP_PROTOCOL_LATEST  "2025-11-25"

/* Messages in one batch (revision 2025-03-26): each may call Matomo, and
 * one worker answers them all in turn. */
#define MCP_BATCH_MAX 16

/* How the core reaches the client before the answer is complete, e.g. with
 * progress notifications.  The transport decides what that means (an SSE
 * event, or nothing when the client takes plain JSON only). */
typedef struct {
    void *baton;
    void (*notify)(void *baton, const char *json, apr_size_t len);
} mcp_sink;

/* Everything one message needs; built by the transport per request. */
typedef struct mcp_request {
    apr_pool_t *pool;
    const mcp_catalog *catalog;
    const char *protocol_version;   /* from the header, or the default */
    const char *website_url;        /* serverInfo.websiteUrl */
    mcp_sink *sink;                 /* may be NULL */

    /* The Matomo side: where, as whom, over which connection. */
    const mcp_matomo_backend *backend;
    mcp_credential credential;      /* the caller's; token never logged */
    CURL *curl;                     /* this thread's handle */
    mcp_verdict_cache *verdicts;    /* per process; may be NULL */
    int curl_broken;                /* set: the glue drops the handle */
    const mcp_matomo_answer *outage; /* Matomo unreachable or too slow */
    int token_rejected;             /* set: answer 401 invalid_token */
} mcp_request;

typedef struct {
    int http_status;      /* 200, 202 (no body), 400 or 401 */
    const char *body;     /* a JSON-RPC message (an array of them for a
                           * batch), NULL with 202 */
    apr_size_t len;
} mcp_reply;

/* The outcome of one JSON-RPC method: a serialised result, or an error. */
typedef struct {
    const char *result;   /* JSON text */
    int error_code;
    const char *error_message;
    json_object *error_data;
} mcp_outcome;

typedef void mcp_method_fn(mcp_request *req, json_object *params,
                           mcp_outcome *out);

void mcp_outcome_fail(mcp_outcome *out, int code, const char *message);
void mcp_outcome_json(apr_pool_t *p, mcp_outcome *out, json_object *result);

/* The methods beyond the lifecycle and tools (src/mcp_resources.c,
 * src/mcp_prompts.c). */
mcp_method_fn mcp_resources_list, mcp_resources_templates, mcp_resources_read;
mcp_method_fn mcp_prompts_list, mcp_prompts_get, mcp_completion_complete;

/* 1 when revision is one this server speaks. */
int mcp_server_supports_protocol(const char *revision);

/* One Matomo call with the caller's credential.  Notes a rejected token
 * (for the 401 and the verdict cache) and a connection not to reuse. */
void mcp_server_call_matomo(mcp_request *req, const char *method,
                            const apr_array_header_t *params,
                            mcp_matomo_answer *answer);

/* Several calls in one round trip, same bookkeeping. */
void mcp_server_call_matomo_bulk(mcp_request *req,
                                 const mcp_matomo_request *calls, int n,
                                 mcp_matomo_answer *answers);

/* Handles one HTTP body and fills reply. */
void mcp_server_handle(mcp_request *req, const char *body, apr_size_t len,
                       mcp_reply *reply);

#endif
