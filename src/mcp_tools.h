/*
 * The tool catalog.  A tool is data plus one function: its definition
 * (name, title, description, inputSchema, outputSchema, annotations, and
 * the Matomo methods it may call) is a JSON file, src/tools/<name>.json,
 * embedded into the module at build time (src/tools/embed.c), and its run
 * function is named beside its name in src/mcp_catalog.c.  Shared schema pieces live once in
 * src/tools/_shared.json and are referenced with "$ref"; the catalog
 * resolves them once at start-up, checks every definition, and serialises
 * the tools/list pages.  The build runs the same check (embed.c calls
 * mcp_tool_definition), so a malformed definition fails the build.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_TOOLS_H
#define MCP_TOOLS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

struct mcp_request;

/* What a tool hands back: structured data (conforming to the tool's output
 * schema) or an error message a model can act on (isError: true). */
typedef struct {
    json_object *structured;   /* owned by the request pool */
    const char *error;         /* non-NULL makes the result an error */
    int refused;               /* the error is Matomo refusing the site */
    /* A chart asked with the chart argument (src/mcp_charts.c): the PNG
     * Matomo drew, or why there is none; both NULL when none was asked. */
    const unsigned char *chart;
    apr_size_t chart_len;
    const char *chart_note;
} mcp_tool_result;

typedef void mcp_tool_run_fn(struct mcp_request *req, json_object *arguments,
                             mcp_tool_result *result);

/* A tool of the catalog: the name of its definition and what runs it. */
typedef struct {
    const char *name;          /* 1-64 chars of [A-Za-z0-9_.-] */
    mcp_tool_run_fn *run;
} mcp_tool;

/* One definition file as embedded at build time. */
typedef struct {
    const char *path;          /* src/tools/<name>.json, for messages */
    const char *text;          /* its JSON text */
} mcp_tool_file;

/* Every definition: the shared pieces and one file per tool. */
typedef struct {
    const mcp_tool_file *shared;
    const mcp_tool_file *files;
    int count;
} mcp_tool_defs;

/* A set of the catalog's tools: bit i is mcp_tools[i].  0 stands for
 * every tool (what a request built without an endpoint's configuration
 * offers: the unit tests and fuzzers); the module gives an endpoint
 * without MatomoMcpTools mcp_tool_set_default(). */
typedef apr_uint64_t mcp_tool_set;
#define MCP_TOOL_SET_MAX 64

/* A named group of tools for MatomoMcpTools (src/mcp_catalog.c): the
 * names, space-separated. */
typedef struct {
    const char *name;
    const char *tools;
} mcp_tool_group;

extern const mcp_tool_group mcp_tool_groups[];
extern const int mcp_tool_groups_count;

/* Adds to *set the tool called word, or a group's tools; 0 when word is
 * neither (tools and groups of mcp_tools/mcp_tool_groups). */
int mcp_tool_set_add(const char *word, mcp_tool_set *set);

/* 1 when set offers the tool at index i of mcp_tools. */
int mcp_tool_set_has(mcp_tool_set set, int i);

typedef struct {
    const mcp_tool *tools;
    int count;
    int page_size;
    /* Each tool as tools/list shows it, serialised, by index (for the
     * lists of an endpoint that offers some of them). */
    const char **tool_texts;
    /* Serialised tools/list results, one per page, built once. */
    const char **pages;
    int npages;
    /* Parsed input schemas, by tool index: read-only, shared by threads. */
    json_object **input_schemas;
    /* The Matomo methods each tool may call (const char *), by index. */
    const apr_array_header_t **methods;
    /* The set pages holds (0: every tool; mcp_catalog_paginate). */
    mcp_tool_set paged_set;
} mcp_catalog;

/* The module's definitions (generated from src/tools/ by the build) and
 * its tools in tools/list order (src/mcp_catalog.c). */
extern const mcp_tool_defs mcp_tool_definitions;
extern const mcp_tool mcp_tools[];
extern const int mcp_tools_count;

/* tools/list page size: the whole catalog fits on one page; cursors still
 * work for clients that follow them. */
#define MCP_TOOLS_PAGE_SIZE 50

/* The tools an endpoint without MatomoMcpTools offers: every tool but
 * those offered only on request (matomo_api_read), src/mcp_catalog.c. */
mcp_tool_set mcp_tool_set_default(void);

/* Reads one definition file: parses it, replaces each {"$ref":
 * "_shared.json#/$defs/NAME", ...} by the members of that shared piece,
 * where the "$ref" member stands (the rest of the object stays; a member
 * both given and referenced is an error), and checks the result: exactly
 * name (the file's base name), title, description, inputSchema and
 * outputSchema (object schemas), annotations (boolean hints),
 * matomoMethods (distinct Module.method names, or just
 * MCP_ANY_READ_METHOD: any method on the read-only allow-list,
 * mcp_matomo_method_allowed; *methods is NULL then) and icon (an SVG,
 * mcp_icon_check), and optionally _meta (an object; a ui:// view it
 * declares, src/mcp_apps.c).  Sets *out to the tool as tools/list shows it
 * (annotations.title is the title; icons from icon; matomoMethods is the
 * module's own business) and *methods, when not NULL, to the methods
 * (const char *), all owned by p; or returns what is wrong, naming the
 * file. */
const char *mcp_tool_definition(apr_pool_t *p, const mcp_tool_file *shared,
                                const mcp_tool_file *file, json_object **out,
                                apr_array_header_t **methods);

/* matomoMethods of a tool that may call any read-only method. */
#define MCP_ANY_READ_METHOD "*"

/* Icons (MCP 2025-11-25 and later) for serverInfo and every tool: SVG
 * drawn for this project, at most MCP_ICON_MAX bytes, starting with
 * MCP_ICON_SVG_START, drawing with plain shapes only (no links, scripts,
 * styles, text or entities: clients render them in their own UI), single
 * quotes for attributes so the SVG sits in a JSON string unescaped.
 * mcp_icon_check: NULL, or what is wrong.  mcp_icons_json: a new
 * [{"src": "data:image/svg+xml;base64,...", "mimeType": "image/svg+xml",
 * "sizes": ["any"]}] for a checked SVG (data: so that a client needs no
 * second request, nor access to this server's URL space, to show it). */
#define MCP_ICON_MAX 2048
#define MCP_ICON_SVG_START "<svg xmlns='http://www.w3.org/2000/svg' "
const char *mcp_icon_check(const char *svg);
json_object *mcp_icons_json(apr_pool_t *p, const char *svg);

/* Reads every definition and pairs each tool with its own: a tool without
 * a definition, a definition without a tool, or a name listed twice is an
 * error.  Serialises the tools/list pages.  Returns NULL and sets *out, or
 * an error message.  Everything lives in p; the result is read-only
 * afterwards, so it can be shared by all threads of a process. */
const char *mcp_catalog_build(apr_pool_t *p, const mcp_tool_defs *defs,
                              const mcp_tool *tools, int count, int page_size,
                              mcp_catalog **out);

/* The tool called name, or NULL. */
const mcp_tool *mcp_catalog_find(const mcp_catalog *catalog, const char *name);

/* The parsed inputSchema of a tool of this catalog. */
json_object *mcp_catalog_input_schema(const mcp_catalog *catalog,
                                      const mcp_tool *tool);

/* The Matomo methods a tool of this catalog may call (its definition's
 * matomoMethods: the module refuses it any other). */
const apr_array_header_t *mcp_catalog_methods(const mcp_catalog *catalog,
                                              const mcp_tool *tool);

/* The serialised tools/list result for cursor (NULL: the first page), or
 * NULL when the cursor is not one this catalog issued. */
const char *mcp_catalog_page(const mcp_catalog *catalog, const char *cursor);

/* The same for an endpoint offering set (the catalog's paged_set: the
 * pages built once; else built in p, pages of page_size over the tools
 * offered). */
const char *mcp_catalog_page_of(apr_pool_t *p, const mcp_catalog *catalog,
                                mcp_tool_set set, const char *cursor);

/* Builds the catalog's pages, once, for set (the set most requests ask
 * for: the module's default), in p. */
void mcp_catalog_paginate(apr_pool_t *p, mcp_catalog *catalog,
                          mcp_tool_set set);

/* The index of tool in catalog, or -1. */
int mcp_catalog_index(const mcp_catalog *catalog, const mcp_tool *tool);

#endif
