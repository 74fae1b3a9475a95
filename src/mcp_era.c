#include "mcp_era.h"
#include "mcp_json.h"

#include <string.h>

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>

#define META_VERSION      "io.modelcontextprotocol/protocolVersion"
#define META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define META_LOG_LEVEL    "io.modelcontextprotocol/logLevel"

#define SENTINEL_OPEN  "=?base64?"
#define SENTINEL_CLOSE "?="

/* Quoted header values are cut here: enough to recognise, never a wall. */
#define QUOTE_MAX 80

const char *const mcp_era_versions[] = {
    MCP_PROTOCOL_MODERN, MCP_PROTOCOL_LATEST, "2025-06-18",
    MCP_PROTOCOL_DEFAULT, NULL
};

int mcp_era_is_legacy_version(const char *revision)
{
    int i;

    for (i = 1; mcp_era_versions[i] != NULL; i++) {
        if (strcmp(revision, mcp_era_versions[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int refuse(mcp_refusal *refusal, int http_status, int code,
                  const char *message)
{
    refusal->http_status = http_status;
    refusal->code = code;
    refusal->message = message;
    refusal->data = NULL;
    return -1;
}

/* A header value as it may appear in a message: printable, and short. */
static const char *quote(apr_pool_t *p, const char *v)
{
    apr_size_t len;
    const char *plain = mcp_era_header_value(p, v, &len);

    if (plain == NULL || memchr(plain, '\0', len) != NULL) {
        return "(not printable)";
    }
    return mcp_json_clip(p, plain, QUOTE_MAX);
}

static json_object *meta_of(const mcp_jsonrpc_msg *msg)
{
    return mcp_json_get_typed(msg->params, "_meta", json_type_object);
}

static int unsupported(apr_pool_t *p, const char *requested,
                       mcp_refusal *refusal)
{
    json_object *supported = json_object_new_array();
    int i;

    for (i = 0; mcp_era_versions[i] != NULL; i++) {
        json_object_array_add(supported,
                              json_object_new_string(mcp_era_versions[i]));
    }
    refuse(refusal, 400, MCP_ERROR_UNSUPPORTED_VERSION,
           apr_psprintf(p, "Unsupported protocol version '%s': this server "
                        "speaks 2026-07-28, 2025-11-25, 2025-06-18 and "
                        "2025-03-26", quote(p, requested)));
    refusal->data = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(refusal->data, "supported", supported);
    json_object_object_add(refusal->data, "requested",
                           json_object_new_string(quote(p, requested)));
    return -1;
}

int mcp_era_select(apr_pool_t *p, const mcp_headers *h,
                   const mcp_jsonrpc_msg *msg, mcp_era *era,
                   mcp_refusal *refusal)
{
    const char *declared = mcp_json_get_string(meta_of(msg), META_VERSION);
    const char *version = h->protocol != NULL ? h->protocol
                                              : MCP_PROTOCOL_DEFAULT;

    /* The header is what proxies route on; the body is what runs.  They
     * must agree (streamable-http.mdx, "Protocol Version Header"). */
    if (declared != NULL && h->protocol == NULL) {
        return refuse(refusal, 400, MCP_ERROR_HEADER_MISMATCH,
                      "Header mismatch: the MCP-Protocol-Version header is "
                      "missing; it must repeat params._meta[\"" META_VERSION
                      "\"]");
    }
    if (declared != NULL && strcmp(declared, h->protocol) != 0) {
        return refuse(refusal, 400, MCP_ERROR_HEADER_MISMATCH,
                      apr_psprintf(p, "Header mismatch: MCP-Protocol-Version "
                                   "header value '%s' does not match the "
                                   "body's '%s'", quote(p, h->protocol),
                                   mcp_json_clip(p, declared, QUOTE_MAX)));
    }
    if (strcmp(version, MCP_PROTOCOL_MODERN) == 0) {
        *era = MCP_ERA_MODERN;
        return 0;
    }
    if (mcp_era_is_legacy_version(version)) {
        *era = MCP_ERA_LEGACY;
        return 0;
    }
    return unsupported(p, version, refusal);
}

int mcp_era_log_level_rank(const char *level)
{
    static const char *const levels[] = {
        "debug", "info", "notice", "warning", "error", "critical", "alert",
        "emergency", NULL
    };
    int i;

    for (i = 0; levels[i] != NULL; i++) {
        if (strcmp(level, levels[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int check_meta(json_object *meta, mcp_meta *out, mcp_refusal *refusal)
{
    json_object *level = NULL;

    if (meta == NULL) {
        return refuse(refusal, 400, MCP_JSONRPC_INVALID_PARAMS,
                      "Invalid params: a 2026-07-28 request carries "
                      "params._meta with \"" META_VERSION "\" and \""
                      META_CAPABILITIES "\"");
    }
    if (mcp_json_get_string(meta, META_VERSION) == NULL) {
        return refuse(refusal, 400, MCP_JSONRPC_INVALID_PARAMS,
                      "Invalid params: params._meta[\"" META_VERSION
                      "\"] is missing or not a string");
    }
    out->client_capabilities = mcp_json_get_typed(meta, META_CAPABILITIES,
                                                  json_type_object);
    if (out->client_capabilities == NULL) {
        return refuse(refusal, 400, MCP_JSONRPC_INVALID_PARAMS,
                      "Invalid params: params._meta[\"" META_CAPABILITIES
                      "\"] is missing or not an object (send {} for none)");
    }
    out->log_level = NULL;
    if (json_object_object_get_ex(meta, META_LOG_LEVEL, &level)) {
        if (!json_object_is_type(level, json_type_string)
            || mcp_era_log_level_rank(json_object_get_string(level)) < 0) {
            return refuse(refusal, 400, MCP_JSONRPC_INVALID_PARAMS,
                          "Invalid params: params._meta[\"" META_LOG_LEVEL
                          "\"] must be one of debug, info, notice, warning, "
                          "error, critical, alert, emergency");
        }
        out->log_level = json_object_get_string(level);
    }
    return 0;
}

/* The body member Mcp-Name mirrors, for the methods that name something. */
static const char *named_member(const char *method)
{
    if (!strcmp(method, "tools/call") || !strcmp(method, "prompts/get")) {
        return "name";
    }
    return !strcmp(method, "resources/read") ? "uri" : NULL;
}

static int check_name(apr_pool_t *p, const mcp_headers *h,
                      const mcp_jsonrpc_msg *msg, mcp_refusal *refusal)
{
    const char *member = named_member(msg->method);
    json_object *value = NULL;
    const char *header, *body;
    apr_size_t header_len;

    if (member == NULL) {
        return 0;
    }
    json_object_object_get_ex(msg->params, member, &value);
    body = json_object_is_type(value, json_type_string)
               ? json_object_get_string(value) : NULL;
    if (body == NULL && h->name == NULL) {
        return 0;       /* nothing to mirror: the method says what is wrong */
    }
    if (h->name == NULL) {
        return refuse(refusal, 400, MCP_ERROR_HEADER_MISMATCH, apr_psprintf(
            p, "Header mismatch: the Mcp-Name header is missing; it must "
               "repeat params.%s", member));
    }
    header = mcp_era_header_value(p, h->name, &header_len);
    if (header == NULL) {
        return refuse(refusal, 400, MCP_ERROR_HEADER_MISMATCH,
                      "Header mismatch: the Mcp-Name header holds characters "
                      "a header value may not; encode it as =?base64?...?=");
    }
    if (body == NULL || header_len != (apr_size_t)json_object_get_string_len(value)
        || memcmp(header, body, header_len) != 0) {
        return refuse(refusal, 400, MCP_ERROR_HEADER_MISMATCH, apr_psprintf(
            p, "Header mismatch: Mcp-Name header value '%s' does not match "
               "params.%s", quote(p, h->name), member));
    }
    return 0;
}

int mcp_era_check_request(apr_pool_t *p, const mcp_headers *h,
                          const mcp_jsonrpc_msg *msg, mcp_meta *meta,
                          mcp_refusal *refusal)
{
    memset(meta, 0, sizeof(*meta));
    if (check_meta(meta_of(msg), meta, refusal) != 0) {
        return -1;
    }
    if (h->method == NULL) {
        return refuse(refusal, 400, MCP_ERROR_HEADER_MISMATCH,
                      "Header mismatch: the Mcp-Method header is missing; "
                      "it must repeat the body's method");
    }
    /* Values are case-sensitive: TOOLS/LIST is not tools/list. */
    if (strcmp(h->method, msg->method) != 0) {
        return refuse(refusal, 400, MCP_ERROR_HEADER_MISMATCH, apr_psprintf(
            p, "Header mismatch: Mcp-Method header value '%s' does not "
               "match the body's method '%s'", quote(p, h->method),
            mcp_json_clip(p, msg->method, QUOTE_MAX)));
    }
    return check_name(p, h, msg, refusal);
}

int mcp_era_require_capability(apr_pool_t *p, const mcp_meta *meta,
                               const char *capability, mcp_refusal *refusal)
{
    json_object *required;

    if (mcp_json_get_typed(meta->client_capabilities, capability,
                           json_type_object) != NULL) {
        return 0;
    }
    refuse(refusal, 400, MCP_ERROR_MISSING_CAPABILITY, apr_psprintf(
        p, "This request needs the client capability '%s', which "
           "params._meta[\"" META_CAPABILITIES "\"] does not declare",
        capability));
    required = json_object_new_object();
    json_object_object_add(required, capability, json_object_new_object());
    refusal->data = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(refusal->data, "requiredCapabilities", required);
    return -1;
}

const char *mcp_era_decorate(apr_pool_t *p, const char *result_json,
                             const char *server_info,
                             const mcp_cache_hint *hint)
{
    const char *rest = result_json + 1;     /* past the object's '{' */
    const char *fields = apr_psprintf(
        p, "{\"resultType\":\"complete\",\"_meta\":{"
           "\"io.modelcontextprotocol/serverInfo\":%s}", server_info);

    if (hint != NULL && hint->ttl_ms >= 0) {
        fields = apr_psprintf(p, "%s,\"ttlMs\":%ld,\"cacheScope\":\"%s\"",
                              fields, hint->ttl_ms, hint->scope);
    }
    while (*rest == ' ' || *rest == '\n' || *rest == '\t' || *rest == '\r') {
        rest++;
    }
    return apr_pstrcat(p, fields, *rest == '}' ? "" : ",", rest, NULL);
}

static int is_base64(const char *s, apr_size_t len)
{
    apr_size_t i, pad = 0;

    if (len % 4 != 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (s[i] == '=' && i >= len - 2) {
            pad++;
        }
        else if (pad > 0 || !(apr_isalnum(s[i]) || s[i] == '+'
                              || s[i] == '/')) {
            return 0;
        }
    }
    return 1;
}

const char *mcp_era_header_value(apr_pool_t *p, const char *v,
                                 apr_size_t *len)
{
    apr_size_t n = strlen(v), i, open = strlen(SENTINEL_OPEN),
               close = strlen(SENTINEL_CLOSE);
    const char *coded;
    char *plain;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if ((c < 0x20 && c != '\t') || c > 0x7e) {
            return NULL;
        }
    }
    if (n < open + close || strncmp(v, SENTINEL_OPEN, open) != 0
        || strcmp(v + n - close, SENTINEL_CLOSE) != 0) {
        *len = n;
        return v;
    }
    coded = apr_pstrndup(p, v + open, n - open - close);
    if (!is_base64(coded, strlen(coded))) {
        return NULL;
    }
    plain = apr_palloc(p, (apr_size_t)apr_base64_decode_len(coded) + 1);
    *len = (apr_size_t)apr_base64_decode(plain, coded);
    plain[*len] = '\0';
    return plain;
}
