#include "mcp_jsonrpc.h"
#include "mcp_json.h"

#include <stdint.h>
#include <string.h>

#include <apr_strings.h>

static void set_invalid(mcp_jsonrpc_msg *msg, int code, const char *message)
{
    msg->kind = MCP_MSG_INVALID;
    msg->error_code = code;
    msg->error_message = message;
}

/* MCP ids are strings or integers (never null); JSON-RPC's fractional ids
 * are refused so that an id always round-trips to the client unchanged.
 * So are integers at the ends of json-c's range: it clamps any integer
 * beyond 64 bits to INT64_MIN or UINT64_MAX, which would answer another
 * id than the one sent. */
static int id_is_valid(json_object *id)
{
    if (json_object_is_type(id, json_type_int)) {
        return json_object_get_int64(id) != INT64_MIN
               && json_object_get_uint64(id) != UINT64_MAX;
    }
    return json_object_is_type(id, json_type_string);
}

/* A JSON string holding U+0000 cannot be a method name: C would see a
 * shorter string than the client sent. */
static const char *string_without_nul(json_object *val)
{
    const char *s = json_object_get_string(val);

    return strlen(s) == (size_t)json_object_get_string_len(val) ? s : NULL;
}

static void classify(json_object *root, mcp_jsonrpc_msg *msg)
{
    json_object *version = NULL, *id = NULL, *method = NULL, *params = NULL;
    int has_id = json_object_object_get_ex(root, "id", &id);

    if (has_id && id_is_valid(id)) {
        msg->id = id;
    }
    if (!json_object_object_get_ex(root, "jsonrpc", &version)
        || !json_object_is_type(version, json_type_string)
        || strcmp(json_object_get_string(version), "2.0") != 0) {
        set_invalid(msg, MCP_JSONRPC_INVALID_REQUEST,
                    "Invalid Request: \"jsonrpc\" must be \"2.0\"");
        return;
    }
    if (has_id && !id_is_valid(id)) {
        set_invalid(msg, MCP_JSONRPC_INVALID_REQUEST,
                    "Invalid Request: \"id\" must be a string or an "
                    "integer of at most 64 bits");
        return;
    }
    if (!json_object_object_get_ex(root, "method", &method)) {
        if (has_id && (json_object_object_get_ex(root, "result", NULL)
                       || json_object_object_get_ex(root, "error", NULL))) {
            msg->kind = MCP_MSG_RESPONSE;
            return;
        }
        set_invalid(msg, MCP_JSONRPC_INVALID_REQUEST,
                    "Invalid Request: \"method\" is missing");
        return;
    }
    if (!json_object_is_type(method, json_type_string)
        || (msg->method = string_without_nul(method)) == NULL) {
        set_invalid(msg, MCP_JSONRPC_INVALID_REQUEST,
                    "Invalid Request: \"method\" must be a string");
        return;
    }
    if (json_object_object_get_ex(root, "params", &params)
        && !json_object_is_type(params, json_type_object)) {
        /* JSON-RPC allows positional params; no MCP method takes them. */
        if (json_object_is_type(params, json_type_array)) {
            set_invalid(msg, MCP_JSONRPC_INVALID_PARAMS,
                        "Invalid params: MCP methods take named parameters; "
                        "\"params\" must be an object");
        }
        else {
            set_invalid(msg, MCP_JSONRPC_INVALID_REQUEST,
                        "Invalid Request: \"params\" must be an object");
        }
        return;
    }
    msg->params = params;
    msg->kind = has_id ? MCP_MSG_REQUEST : MCP_MSG_NOTIFICATION;
}

void mcp_jsonrpc_parse(apr_pool_t *p, const char *body, apr_size_t len,
                       mcp_jsonrpc_msg *msg)
{
    json_object *root = NULL;
    mcp_json_status st;

    memset(msg, 0, sizeof(*msg));
    st = mcp_json_parse(p, body, len, MCP_JSON_MAX_DEPTH, &root);
    switch (st) {
    case MCP_JSON_OK:
        break;
    case MCP_JSON_ERR_DEPTH:
        set_invalid(msg, MCP_JSONRPC_PARSE_ERROR,
                    "Parse error: JSON nested too deeply");
        return;
    case MCP_JSON_ERR_TRAILING:
        set_invalid(msg, MCP_JSONRPC_PARSE_ERROR,
                    "Parse error: data after the JSON value");
        return;
    case MCP_JSON_ERR_RANGE:
        set_invalid(msg, MCP_JSONRPC_PARSE_ERROR,
                    "Parse error: a number beyond the range of a double");
        return;
    default:
        set_invalid(msg, MCP_JSONRPC_PARSE_ERROR,
                    "Parse error: the body is not valid JSON (UTF-8)");
        return;
    }
    if (json_object_is_type(root, json_type_array)) {
        if (mcp_json_array_length(root) == 0) {
            set_invalid(msg, MCP_JSONRPC_INVALID_REQUEST,
                        "Invalid Request: an empty batch");
            return;
        }
        msg->kind = MCP_MSG_BATCH;
        msg->batch = root;
        return;
    }
    mcp_jsonrpc_classify(root, msg);
}

void mcp_jsonrpc_classify(json_object *value, mcp_jsonrpc_msg *msg)
{
    memset(msg, 0, sizeof(*msg));
    if (!json_object_is_type(value, json_type_object)) {
        set_invalid(msg, MCP_JSONRPC_INVALID_REQUEST,
                    "Invalid Request: a JSON-RPC message is a JSON object");
        return;
    }
    classify(value, msg);
}

static const char *id_json(apr_pool_t *p, json_object *id)
{
    return id != NULL ? mcp_json_to_string(p, id, NULL) : "null";
}

const char *mcp_jsonrpc_result(apr_pool_t *p, json_object *id,
                               const char *result_json, apr_size_t *len)
{
    const char *s = apr_pstrcat(p, "{\"jsonrpc\":\"2.0\",\"id\":",
                                id_json(p, id), ",\"result\":", result_json,
                                "}", NULL);

    if (len != NULL) {
        *len = strlen(s);
    }
    return s;
}

const char *mcp_jsonrpc_error(apr_pool_t *p, json_object *id, int code,
                              const char *message, json_object *data,
                              apr_size_t *len)
{
    json_object *err = mcp_json_pool_own(p, json_object_new_object());
    const char *s;

    json_object_object_add(err, "code", json_object_new_int(code));
    json_object_object_add(err, "message", json_object_new_string(message));
    if (data != NULL) {
        json_object_object_add(err, "data", json_object_get(data));
    }
    s = apr_pstrcat(p, "{\"jsonrpc\":\"2.0\",\"id\":", id_json(p, id),
                    ",\"error\":", mcp_json_to_string(p, err, NULL), "}",
                    NULL);
    if (len != NULL) {
        *len = strlen(s);
    }
    return s;
}

const char *mcp_jsonrpc_notification(apr_pool_t *p, const char *method,
                                     json_object *params, apr_size_t *len)
{
    json_object *msg = mcp_json_pool_own(p, json_object_new_object());

    json_object_object_add(msg, "jsonrpc", json_object_new_string("2.0"));
    json_object_object_add(msg, "method", json_object_new_string(method));
    if (params != NULL) {
        json_object_object_add(msg, "params", json_object_get(params));
    }
    return mcp_json_to_string(p, msg, len);
}
