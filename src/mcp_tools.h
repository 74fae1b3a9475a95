/*
 * The tool catalog.  A tool is one entry of data: name, texts, schemas and
 * the function that runs it; everything else (tools/list pages, lookup,
 * annotations) is derived from the table once at start-up.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_TOOLS_H
#define MCP_TOOLS_H

#include <apr_pools.h>
#include <json-c/json.h>

struct mcp_request;

/* What a tool hands back: structured data (conforming to the tool's output
 * schema) or an error message a model can act on (isError: true). */
typedef struct {
    json_object *structured;   /* owned by the request pool */
    const char *error;         /* non-NULL makes the result an error */
    int refused;               /* the error is Matomo refusing the site */
} mcp_tool_result;

typedef void mcp_tool_run_fn(struct mcp_request *req, json_object *arguments,
                             mcp_tool_result *result);

typedef struct {
    const char *name;          /* 1-64 chars of [A-Za-z0-9_.-] */
    const char *title;
    const char *description;   /* written for a model */
    const char *input_schema;  /* JSON text of an object schema */
    const char *output_schema; /* JSON text, or NULL */
    mcp_tool_run_fn *run;
} mcp_tool;

typedef struct {
    const mcp_tool *const *tools;
    int count;
    int page_size;
    /* Serialised tools/list results, one per page, built once. */
    const char **pages;
    int npages;
    /* Parsed input schemas, by tool index: read-only, shared by threads. */
    json_object **input_schemas;
} mcp_catalog;

/* The module's own tools (src/mcp_catalog.c), in tools/list order. */
extern const mcp_tool *const mcp_tools[];
extern const int mcp_tools_count;

/* Validates every entry (names, schema JSON) and serialises the tools/list
 * pages.  Returns NULL and sets *out, or an error message naming the bad
 * entry.  Everything lives in p; the result is read-only afterwards, so it
 * can be shared by all threads of a process. */
const char *mcp_catalog_build(apr_pool_t *p, const mcp_tool *const *tools,
                              int count, int page_size, mcp_catalog **out);

/* The tool called name, or NULL. */
const mcp_tool *mcp_catalog_find(const mcp_catalog *catalog, const char *name);

/* The parsed inputSchema of a tool of this catalog. */
json_object *mcp_catalog_input_schema(const mcp_catalog *catalog,
                                      const mcp_tool *tool);

/* The serialised tools/list result for cursor (NULL: the first page), or
 * NULL when the cursor is not one this catalog issued. */
const char *mcp_catalog_page(const mcp_catalog *catalog, const char *cursor);

#endif
