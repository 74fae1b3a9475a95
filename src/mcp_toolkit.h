/*
 * What every tool implementation shares: reading validated arguments,
 * turning a Matomo failure into words a model can act on, and the JSON
 * Schema text of the arguments most tools take.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_TOOLKIT_H
#define MCP_TOOLKIT_H

#include <json-c/json.h>

#include "mcp_matomo.h"
#include "mcp_server.h"
#include "mcp_tools.h"

/* Arguments are already checked against the schema: these only read them,
 * with the schema's default when absent. */
int mcp_arg_int(json_object *args, const char *name, int fallback);
const char *mcp_arg_string(json_object *args, const char *name,
                           const char *fallback);

/* 1 when Matomo answered with data; else res->error says why. */
int mcp_answered(const mcp_matomo_answer *a, mcp_tool_result *res);

/* The arguments most tools share, as JSON Schema properties. */
#define MCP_PROP_ID_SITE                                                      \
    "\"idSite\":{\"type\":\"integer\",\"minimum\":1,"                         \
    "\"description\":\"Site id, from matomo_list_sites\"}"
#define MCP_PROP_PERIOD                                                       \
    "\"period\":{\"type\":\"string\",\"enum\":[\"day\",\"week\",\"month\","   \
    "\"year\",\"range\"],\"default\":\"day\"}"
#define MCP_PROP_DATE                                                         \
    "\"date\":{\"type\":\"string\",\"maxLength\":21,\"default\":"             \
    "\"yesterday\",\"pattern\":\"^(today|yesterday|"                          \
    "[0-9]{4}-[0-9]{2}-[0-9]{2}|(last|previous)[0-9]{1,3}|"                  \
    "[0-9]{4}-[0-9]{2}-[0-9]{2},[0-9]{4}-[0-9]{2}-[0-9]{2})$\","             \
    "\"description\":\"YYYY-MM-DD, today, yesterday, lastN, previousN, or "   \
    "YYYY-MM-DD,YYYY-MM-DD with period range\"}"
#define MCP_SEGMENT_OP "(==|!=|<=|>=|<|>|=@|!@|=\\\\^|=\\\\$)"
#define MCP_SEGMENT_COND "[A-Za-z][A-Za-z0-9_.]*" MCP_SEGMENT_OP "[^;,]*"
#define MCP_PROP_SEGMENT                                                      \
    "\"segment\":{\"type\":\"string\",\"maxLength\":2000,\"pattern\":\"^"     \
    MCP_SEGMENT_COND "([;,]" MCP_SEGMENT_COND ")*$\",\"description\":\"a "     \
    "Matomo segment: dimension, operator (== != < <= > >= =@ !@ =^ =$), "     \
    "value; ; is AND, , is OR, values URL-encoded, e.g. "                     \
    "deviceType==smartphone\"}"

/* Every tool of the catalog (one definition each, in src/tool_*.c). */
extern const mcp_tool mcp_tool_list_sites;
extern const mcp_tool mcp_tool_traffic_summary;

#endif
