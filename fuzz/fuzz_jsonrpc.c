/*
 * The whole message path, as the transport drives it: bytes of an HTTP
 * body -> JSON parsing limits -> JSON-RPC framing -> MCP dispatch of every
 * method (initialize, ping, tools/list and tools/call with any arguments
 * against the real catalog, resources/list, resources/templates/list,
 * resources/read, prompts/list, prompts/get, completion/complete,
 * logging/setLevel) -> the reply.
 *
 * No backend: req.backend is NULL, so every Matomo call fails cleanly
 * (fuzz_tools drives the tools on Matomo answers).  Half the inputs carry
 * a credential, as the transport sets one.
 *
 * Oracles besides the sanitizers: the HTTP status is one the transport
 * knows, a 202 has no body and anything else is one strict JSON-RPC
 * response, or with 200 a non-empty array of them (a batch: the protocol
 * revision here is 2025-03-26, which has them).
 */
#include "fuzz.h"

#include "../src/mcp_server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

static int is_response(json_object *obj)
{
    const char *version = mcp_json_get_string(obj, "jsonrpc");

    return json_object_is_type(obj, json_type_object) && version != NULL
           && strcmp(version, "2.0") == 0
           && json_object_object_get_ex(obj, "result", NULL)
                  != json_object_object_get_ex(obj, "error", NULL);
}

/* With 200, a batch's answers: a non-empty array of responses. */
static int is_batch_answer(json_object *obj, int status)
{
    size_t i, n = mcp_json_array_length(obj);

    if (status != 200 || n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!is_response(mcp_json_array_get(obj, i))) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    mcp_request req;
    mcp_reply reply;
    json_object *obj;

    memset(&req, 0, sizeof(req));
    req.pool = p;
    req.catalog = fuzz_catalog;
    /* Both eras: a third of the inputs are read as 2026-07-28 requests
     * whose Mcp-Method names one of the methods (the body decides whether
     * it matches). */
    if (size % 3 == 2) {
        static const char *const methods[] = {
            "server/discover", "tools/list", "tools/call", "resources/read",
            "prompts/get", "subscriptions/listen", "completion/complete"
        };

        req.headers.protocol = MCP_PROTOCOL_MODERN;
        req.headers.method = methods[(size / 3) % 7];
        req.headers.name = (size / 21) % 2 ? "matomo_list_sites" : NULL;
    }
    req.website_url = "https://stats.example.org/";
    if (size % 2) {
        req.credential.token = FUZZ_TOKEN;
    }
    mcp_server_handle(&req, (const char *)data, size, &reply);

    switch (reply.http_status) {
    case 202:
        if (reply.body != NULL) {
            fuzz_fail("a 202 with a body", reply.body, reply.len);
        }
        break;
    case 200:
    case 400:
    case 401:
        if (reply.body == NULL || strlen(reply.body) != reply.len) {
            fuzz_fail("a reply without a body, or len is not its length",
                      reply.body, reply.len);
        }
        obj = fuzz_reparse(p, reply.body, reply.len,
                           "the reply is not strict JSON");
        if (!is_response(obj) && !is_batch_answer(obj, reply.http_status)) {
            fuzz_fail("the reply is not one JSON-RPC response (or a batch "
                      "of them)", reply.body, reply.len);
        }
        break;
    default:
        fuzz_fail("an unexpected HTTP status", reply.body, reply.len);
    }
    apr_pool_destroy(p);
    return 0;
}
