/*
 * JSON-RPC 2.0 framing as MCP uses it: one message per HTTP body, or a
 * batch of them (protocol revision 2025-03-26 only; the server decides).
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_JSONRPC_H
#define MCP_JSONRPC_H

#include <apr_pools.h>
#include <json-c/json.h>

#define MCP_JSONRPC_PARSE_ERROR      (-32700)
#define MCP_JSONRPC_INVALID_REQUEST  (-32600)
#define MCP_JSONRPC_METHOD_NOT_FOUND (-32601)
#define MCP_JSONRPC_INVALID_PARAMS   (-32602)
#define MCP_JSONRPC_INTERNAL_ERROR   (-32603)
/* Implementation-defined server error: transport refusals, 401s. */
#define MCP_JSONRPC_SERVER_ERROR     (-32000)
/* MCP's code for a resource that does not exist (2025-11-25). */
#define MCP_JSONRPC_RESOURCE_NOT_FOUND (-32002)

typedef enum {
    MCP_MSG_REQUEST,        /* method and id: needs an answer */
    MCP_MSG_NOTIFICATION,   /* method, no id */
    MCP_MSG_RESPONSE,       /* result or error for an earlier server request */
    MCP_MSG_INVALID,        /* see error_code and error_message */
    MCP_MSG_BATCH           /* a non-empty array: see batch */
} mcp_msg_kind;

typedef struct {
    mcp_msg_kind kind;
    json_object *id;        /* request id, kept with its JSON type; else NULL */
    const char *method;
    json_object *params;    /* an object, or NULL when absent */
    int error_code;         /* for MCP_MSG_INVALID */
    const char *error_message;
    json_object *batch;     /* for MCP_MSG_BATCH: the messages, unchecked */
} mcp_jsonrpc_msg;

/* Classifies one HTTP body.  Never fails: bad input becomes MCP_MSG_INVALID
 * with the JSON-RPC error to send (and the id, when one could be read). */
void mcp_jsonrpc_parse(apr_pool_t *p, const char *body, apr_size_t len,
                       mcp_jsonrpc_msg *msg);

/* Classifies one message of a batch, as mcp_jsonrpc_parse does a body. */
void mcp_jsonrpc_classify(json_object *value, mcp_jsonrpc_msg *msg);

/* {"jsonrpc":"2.0","id":ID,"result":RESULT} where result_json is already
 * serialised; a NULL id is written as null. */
const char *mcp_jsonrpc_result(apr_pool_t *p, json_object *id,
                               const char *result_json, apr_size_t *len);

/* {"jsonrpc":"2.0","id":ID,"error":{"code":..,"message":..,"data":..}};
 * data may be NULL. */
const char *mcp_jsonrpc_error(apr_pool_t *p, json_object *id, int code,
                              const char *message, json_object *data,
                              apr_size_t *len);

/* A notification from the server, e.g. notifications/progress. */
const char *mcp_jsonrpc_notification(apr_pool_t *p, const char *method,
                                     json_object *params, apr_size_t *len);

#endif
