#include "mcp_toolkit.h"
#include "mcp_json.h"

int mcp_arg_int(json_object *args, const char *name, int fallback)
{
    json_object *v = mcp_json_get_typed(args, name, json_type_int);

    return v != NULL ? json_object_get_int(v) : fallback;
}

const char *mcp_arg_string(json_object *args, const char *name,
                           const char *fallback)
{
    const char *v = mcp_json_get_string(args, name);

    return v != NULL ? v : fallback;
}

/* 1 when Matomo answered with data; else the result is the error, in
 * words a model can act on. */
int mcp_answered(const mcp_matomo_answer *a, mcp_tool_result *res)
{
    if (a->status == MCP_MATOMO_OK) {
        return 1;
    }
    res->error = a->status == MCP_MATOMO_DENIED
                     ? "Access denied: the token has no view access to what "
                       "was asked (matomo_list_sites lists the sites it can "
                       "see)"
                     : a->message;
    return 0;
}

