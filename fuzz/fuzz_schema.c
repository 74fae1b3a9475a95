/*
 * Tool-argument reading: the first byte picks one of the module's real
 * tools, the rest is its arguments as a client sends them, read with
 * mcp_args_read (forgiven, then checked) against that tool's inputSchema (from mcp_catalog_build
 * over mcp_tools, as the module builds it).
 *
 * The arguments go through mcp_json_parse with the request's limits, and
 * only an object (or nothing) reaches the check, as in tools/call.
 * Oracle besides the sanitizers: a refusal is a message a model reads,
 * so it must be non-empty and fit in a JSON string (valid UTF-8).
 */
#include "fuzz.h"

#include "../src/mcp_toolkit.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const mcp_tool *tool;
    json_object *args = NULL, *msg;
    const char *err;

    if (size < 1) {
        return 0;
    }
    tool = &mcp_tools[data[0] % mcp_tools_count];
    p = fuzz_pool();
    if (mcp_json_parse(p, (const char *)data + 1, size - 1,
                       MCP_JSON_MAX_DEPTH, &args) == MCP_JSON_OK
        && (args == NULL || json_object_is_type(args, json_type_object))) {
        json_object *read = NULL;

        err = mcp_args_read(p, mcp_catalog_input_schema(fuzz_catalog, tool),
                            args, &read);
        if (err != NULL) {
            msg = json_object_new_string(err);
            mcp_json_pool_own(p, msg);
            if (*err == '\0') {
                fuzz_fail("an empty refusal", tool->name,
                          strlen(tool->name));
            }
            err = mcp_json_to_string(p, msg, NULL);
            fuzz_reparse(p, err, strlen(err),
                         "the refusal does not fit in a JSON string");
        }
    }
    apr_pool_destroy(p);
    return 0;
}
