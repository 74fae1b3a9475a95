#include "mcp_tools.h"
#include "mcp_json.h"

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

/* Cursors are "page:N".  They are opaque to clients, stable across
 * children and hosts running the same build, and hold no state. */
#define CURSOR_PREFIX "page:"

static int name_is_valid(const char *name)
{
    size_t n = strlen(name);

    return n >= 1 && n <= 64
           && strspn(name, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Every tool only reads analytics: the annotations say so, identically. */
static json_object *read_only_annotations(const char *title)
{
    json_object *a = json_object_new_object();

    json_object_object_add(a, "title", json_object_new_string(title));
    json_object_object_add(a, "readOnlyHint", json_object_new_boolean(1));
    json_object_object_add(a, "destructiveHint", json_object_new_boolean(0));
    json_object_object_add(a, "idempotentHint", json_object_new_boolean(1));
    json_object_object_add(a, "openWorldHint", json_object_new_boolean(0));
    return a;
}

static const char *parse_schema(apr_pool_t *p, const mcp_tool *t,
                                const char *text, json_object **schema)
{
    const char *type;

    if (mcp_json_parse(p, text, strlen(text), MCP_JSON_MAX_DEPTH, schema)
            != MCP_JSON_OK
        || (type = mcp_json_get_string(*schema, "type")) == NULL
        || strcmp(type, "object") != 0) {
        return apr_psprintf(p, "tool %s: a schema is not a JSON object "
                               "schema of type \"object\"", t->name);
    }
    return NULL;
}

static const char *tool_to_json(apr_pool_t *p, const mcp_tool *t,
                                json_object **out, json_object **input)
{
    json_object *tool, *in = NULL, *outs = NULL;
    const char *err;

    if (t->name == NULL || !name_is_valid(t->name) || t->title == NULL
        || t->description == NULL || t->input_schema == NULL
        || t->run == NULL) {
        return apr_psprintf(p, "tool %s: incomplete or badly named entry",
                            t->name ? t->name : "(null)");
    }
    if ((err = parse_schema(p, t, t->input_schema, &in)) != NULL
        || (t->output_schema != NULL
            && (err = parse_schema(p, t, t->output_schema, &outs)) != NULL)) {
        return err;
    }
    tool = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(tool, "name", json_object_new_string(t->name));
    json_object_object_add(tool, "title", json_object_new_string(t->title));
    json_object_object_add(tool, "description",
                           json_object_new_string(t->description));
    json_object_object_add(tool, "inputSchema", json_object_get(in));
    if (outs != NULL) {
        json_object_object_add(tool, "outputSchema", json_object_get(outs));
    }
    json_object_object_add(tool, "annotations",
                           read_only_annotations(t->title));
    *out = tool;
    *input = in;
    return NULL;
}

static const char *build_page(apr_pool_t *p, const mcp_catalog *c,
                              json_object **tool_json, int page,
                              const char **out)
{
    json_object *result = mcp_json_pool_own(p, json_object_new_object());
    json_object *list = json_object_new_array();
    int i, first = page * c->page_size;

    json_object_object_add(result, "tools", list);
    for (i = first; i < c->count && i < first + c->page_size; i++) {
        json_object_array_add(list, json_object_get(tool_json[i]));
    }
    if (page + 1 < c->npages) {
        json_object_object_add(result, "nextCursor", json_object_new_string(
            apr_psprintf(p, CURSOR_PREFIX "%d", page + 1)));
    }
    *out = mcp_json_to_string(p, result, NULL);
    return NULL;
}

const char *mcp_catalog_build(apr_pool_t *p, const mcp_tool *const *tools,
                              int count, int page_size, mcp_catalog **out)
{
    mcp_catalog *c = apr_pcalloc(p, sizeof(*c));
    json_object **tool_json;
    int page, i, j;

    if (page_size < 1) {
        return "catalog page size must be at least 1";
    }
    c->tools = tools;
    c->count = count;
    c->page_size = page_size;
    c->npages = count == 0 ? 1 : (count + page_size - 1) / page_size;
    c->pages = apr_pcalloc(p, sizeof(*c->pages) * (apr_size_t)c->npages);
    c->input_schemas = apr_pcalloc(p, sizeof(json_object *)
                                          * (apr_size_t)(count + 1));
    tool_json = apr_pcalloc(p, sizeof(json_object *) * (apr_size_t)(count + 1));
    for (i = 0; i < count; i++) {
        const char *err = tool_to_json(p, tools[i], &tool_json[i],
                                       &c->input_schemas[i]);

        if (err != NULL) {
            return err;
        }
    }
    for (page = 0; page < c->npages; page++) {
        const char *err = build_page(p, c, tool_json, page, &c->pages[page]);

        if (err != NULL) {
            return err;
        }
    }
    /* Names are valid now (tool_to_json checked each entry). */
    for (i = 0; i < count; i++) {
        for (j = 0; j < i; j++) {
            if (strcmp(tools[i]->name, tools[j]->name) == 0) {
                return apr_psprintf(p, "tool %s is listed twice",
                                    tools[i]->name);
            }
        }
    }
    *out = c;
    return NULL;
}

json_object *mcp_catalog_input_schema(const mcp_catalog *catalog,
                                      const mcp_tool *tool)
{
    int i;

    for (i = 0; i < catalog->count; i++) {
        if (catalog->tools[i] == tool) {
            return catalog->input_schemas[i];
        }
    }
    return NULL;
}

const mcp_tool *mcp_catalog_find(const mcp_catalog *catalog, const char *name)
{
    int i;

    for (i = 0; i < catalog->count; i++) {
        if (strcmp(catalog->tools[i]->name, name) == 0) {
            return catalog->tools[i];
        }
    }
    return NULL;
}

const char *mcp_catalog_page(const mcp_catalog *catalog, const char *cursor)
{
    const char *digits;
    int page = 0;

    if (cursor == NULL) {
        return catalog->pages[0];
    }
    if (strncmp(cursor, CURSOR_PREFIX, strlen(CURSOR_PREFIX)) != 0) {
        return NULL;
    }
    digits = cursor + strlen(CURSOR_PREFIX);
    /* Only the canonical spelling the catalog issued: no sign, no leading
     * zero, no overflow. */
    if (*digits == '\0' || *digits == '0' || strlen(digits) > 6
        || strspn(digits, "0123456789") != strlen(digits)) {
        return NULL;
    }
    page = atoi(digits);
    return page < catalog->npages ? catalog->pages[page] : NULL;
}
