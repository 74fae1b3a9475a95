#include "mcp_tools.h"
#include "mcp_json.h"

#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
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

/* References name a piece of the shared file; inside it, the short
 * form names a sibling piece (as JSON Schema resolves both). */
#define SHARED_FILE "_shared.json"
#define DEFS_POINTER "#/$defs/"
/* Pieces may reference pieces, this deep at most (a cycle stops here). */
#define MAX_REF_DEPTH 8

typedef struct {
    apr_pool_t *p;
    const char *path;          /* the file read, for messages */
    json_object *defs;         /* the shared pieces */
} resolver;

static const char *resolve(const resolver *r, json_object *v, int in_shared,
                           int depth, const char *where, json_object **out);

/* The shared piece a reference names, or NULL. */
static json_object *referenced(const resolver *r, const char *ref,
                               int in_shared)
{
    const char *name = NULL;
    json_object *piece = NULL;

    if (!strncmp(ref, SHARED_FILE DEFS_POINTER,
                 strlen(SHARED_FILE DEFS_POINTER))) {
        name = ref + strlen(SHARED_FILE DEFS_POINTER);
    }
    else if (in_shared && !strncmp(ref, DEFS_POINTER, strlen(DEFS_POINTER))) {
        name = ref + strlen(DEFS_POINTER);
    }
    if (name == NULL || !json_object_object_get_ex(r->defs, name, &piece)
        || !json_object_is_type(piece, json_type_object)) {
        return NULL;
    }
    return piece;
}

/* Adds the members of piece (resolved, named name) to out; none may also
 * be a member of src. */
static const char *merge(const resolver *r, json_object *src,
                         json_object *piece, const char *name,
                         const char *where, json_object *out)
{
    json_object_object_foreach(piece, key, val) {
        if (json_object_object_get_ex(src, key, NULL)) {
            return apr_psprintf(r->p, "%s: %s: \"%s\" is both given and "
                                "referenced (%s)", r->path, where, key, name);
        }
        json_object_object_add(out, key, json_object_get(val));
    }
    return NULL;
}

/* The members of the piece ref names, resolved, added to out where the
 * "$ref" stood; none may also be a member of src. */
static const char *expand(const resolver *r, json_object *src,
                          json_object *ref, int in_shared, int depth,
                          const char *where, json_object *out)
{
    const char *name = json_object_is_type(ref, json_type_string)
                           ? json_object_get_string(ref) : NULL;
    json_object *piece = name ? referenced(r, name, in_shared) : NULL;
    json_object *resolved = NULL;
    const char *err;

    if (piece == NULL) {
        return apr_psprintf(r->p, "%s: %s: unknown reference %s (give \""
                            SHARED_FILE DEFS_POINTER "NAME\" of a piece of "
                            "src/tools/" SHARED_FILE ")", r->path, where,
                            name ? name : "(not a string)");
    }
    if (depth >= MAX_REF_DEPTH) {
        return apr_psprintf(r->p, "%s: %s: references nested deeper than %d "
                            "(a cycle?)", r->path, where, MAX_REF_DEPTH);
    }
    if ((err = resolve(r, piece, 1, depth + 1, where, &resolved)) != NULL) {
        return err;
    }
    err = merge(r, src, resolved, name, where, out);
    json_object_put(resolved);
    return err;
}

/* The members of object v, resolved, into out.  "$comment" is for
 * whoever edits the file, not for clients: left out. */
static const char *resolve_members(const resolver *r, json_object *v,
                                   int in_shared, int depth,
                                   const char *where, json_object *out)
{
    json_object_object_foreach(v, key, val) {
        json_object *copy = NULL;
        const char *err = NULL;

        if (!strcmp(key, "$ref")) {
            err = expand(r, v, val, in_shared, depth, where, out);
        }
        else if (strcmp(key, "$comment") != 0
                 && (err = resolve(r, val, in_shared, depth,
                                   apr_pstrcat(r->p, where, "/", key, NULL),
                                   &copy)) == NULL) {
            json_object_object_add(out, key, copy);
        }
        if (err != NULL) {
            return err;
        }
    }
    return NULL;
}

/* A copy of v with every reference replaced by what it names. */
static const char *resolve(const resolver *r, json_object *v, int in_shared,
                           int depth, const char *where, json_object **out)
{
    const char *err = NULL;

    if (json_object_is_type(v, json_type_object)) {
        *out = json_object_new_object();
        err = resolve_members(r, v, in_shared, depth, where, *out);
    }
    else if (json_object_is_type(v, json_type_array)) {
        size_t i, n = mcp_json_array_length(v);

        *out = json_object_new_array();
        for (i = 0; i < n && err == NULL; i++) {
            json_object *copy = NULL;

            err = resolve(r, mcp_json_array_get(v, i), in_shared, depth,
                          apr_psprintf(r->p, "%s/%lu", where,
                                       (unsigned long)i), &copy);
            if (err == NULL) {
                json_object_array_add(*out, copy);
            }
        }
    }
    else {
        *out = json_object_get(v);
    }
    if (err != NULL) {
        json_object_put(*out);
        *out = NULL;
    }
    return err;
}

static const char *parse_file(apr_pool_t *p, const mcp_tool_file *f,
                              json_object **out)
{
    if (f->text == NULL
        || mcp_json_parse(p, f->text, strlen(f->text), MCP_JSON_MAX_DEPTH,
                          out) != MCP_JSON_OK
        || !json_object_is_type(*out, json_type_object)) {
        return apr_psprintf(p, "%s: not a JSON object", f->path);
    }
    return NULL;
}

static int is_member(const char *key, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!strcmp(key, list[i])) {
            return 1;
        }
    }
    return 0;
}

/* NULL when every member of obj is one of list (a misspelt member would
 * otherwise pass unnoticed). */
static const char *only_members(apr_pool_t *p, const char *path,
                                json_object *obj, const char *const *list,
                                size_t n)
{
    json_object_object_foreach(obj, key, val) {
        (void)val;
        if (!is_member(key, list, n)) {
            return apr_psprintf(p, "%s: unknown member \"%s\"", path, key);
        }
    }
    return NULL;
}

static const char *const shared_members[] = { "$comment", "$defs" };

/* The shared file: {"$comment": ..., "$defs": {NAME: piece, ...}}. */
static const char *shared_pieces(apr_pool_t *p, const mcp_tool_file *shared,
                                 json_object **defs)
{
    json_object *doc = NULL;
    const char *err = parse_file(p, shared, &doc);

    if (err != NULL
        || (err = only_members(p, shared->path, doc, shared_members,
                               2)) != NULL) {
        return err;
    }
    *defs = mcp_json_get_typed(doc, "$defs", json_type_object);
    return *defs ? NULL : apr_psprintf(p, "%s: no $defs object",
                                       shared->path);
}

/* The members of a definition, in the order tools/list shows them; the
 * Matomo methods are the module's own business, not shown. */
static const char *const members[] = {
    "name", "title", "description", "inputSchema", "outputSchema",
    "annotations", "matomoMethods", "icon"
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))

/* Members a definition may have besides: _meta, shown in tools/list as it
 * is (the MCP Apps view a tool declares, src/mcp_apps.c). */
static const char *const optional_members[] = { "_meta" };

static const char *const hints[] = {
    "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"
};

/* src/tools/NAME.json -> NAME */
static const char *base_name(apr_pool_t *p, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);

    return n > 5 && !strcmp(base + n - 5, ".json")
               ? apr_pstrndup(p, base, n - 5) : base;
}

static const char *check_text(apr_pool_t *p, const char *path,
                              json_object *def, const char *key)
{
    const char *s = mcp_json_get_string(def, key);

    return s != NULL && *s != '\0'
               ? NULL
               : apr_psprintf(p, "%s: %s must be a non-empty string", path,
                              key);
}

static const char *check_schema(apr_pool_t *p, const char *path,
                                json_object *def, const char *key)
{
    json_object *s = mcp_json_get_typed(def, key, json_type_object);
    const char *type = mcp_json_get_string(s, "type");

    return type != NULL && !strcmp(type, "object")
               ? NULL
               : apr_psprintf(p, "%s: %s must be a JSON Schema of type "
                              "\"object\"", path, key);
}

static const char *add_hints(apr_pool_t *p, const char *path,
                             json_object *given, json_object *out)
{
    json_object_object_foreach(given, key, val) {
        if (!is_member(key, hints, sizeof(hints) / sizeof(hints[0]))
            || !json_object_is_type(val, json_type_boolean)) {
            return apr_psprintf(p, "%s: annotations: \"%s\" is not one of "
                                "readOnlyHint, destructiveHint, "
                                "idempotentHint, openWorldHint with a "
                                "boolean", path, key);
        }
        json_object_object_add(out, key, json_object_get(val));
    }
    return NULL;
}

/* annotations: the title (older clients read it there), then the file's
 * hints, each a boolean. */
static const char *annotations_of(apr_pool_t *p, const char *path,
                                  json_object *def, json_object **out)
{
    json_object *given = mcp_json_get_typed(def, "annotations",
                                            json_type_object);

    if (given == NULL) {
        return apr_psprintf(p, "%s: annotations must be an object", path);
    }
    *out = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(*out, "title",
                           json_object_get(json_object_object_get(def,
                                                                  "title")));
    return add_hints(p, path, given, *out);
}

/* --- icons -------------------------------------------------------- */

/* What an icon may draw with: shapes and groups, nothing that fetches,
 * runs or includes anything (clients render these inside their own UI). */
static const char *const icon_elements[] = {
    "svg", "g", "path", "circle", "ellipse", "rect", "line", "polyline",
    "polygon"
};

static int icon_element_ok(const char *tag)
{
    size_t i;

    if (*tag == '/') {
        tag++;
    }
    for (i = 0; i < sizeof(icon_elements) / sizeof(icon_elements[0]); i++) {
        size_t n = strlen(icon_elements[i]);

        if (!strncmp(tag, icon_elements[i], n)
            && (tag[n] == ' ' || tag[n] == '/' || tag[n] == '>')) {
            return 1;
        }
    }
    return 0;
}

const char *mcp_icon_check(const char *svg)
{
    const char *lt;

    if (strncmp(svg, MCP_ICON_SVG_START, strlen(MCP_ICON_SVG_START)) != 0
        || strlen(svg) < strlen(MCP_ICON_SVG_START) + 6
        || strcmp(svg + strlen(svg) - 6, "</svg>") != 0) {
        return "an icon is one <svg xmlns='http://www.w3.org/2000/svg' ...>"
               " element";
    }
    if (strlen(svg) > MCP_ICON_MAX) {
        return "an icon is at most 2048 bytes of SVG";
    }
    if (strstr(svg, "href") || strstr(svg, "url(") || strstr(svg, " on")
        || strchr(svg, '&') || strchr(svg, '"')) {
        return "an icon has no links, url(), event attributes, entities or "
               "double quotes";
    }
    for (lt = strchr(svg, '<'); lt != NULL; lt = strchr(lt + 1, '<')) {
        if (!icon_element_ok(lt + 1)) {
            return "an icon draws with svg, g, path, circle, ellipse, rect, "
                   "line, polyline and polygon only";
        }
    }
    return NULL;
}

json_object *mcp_icons_json(apr_pool_t *p, const char *svg)
{
    json_object *icons = json_object_new_array();
    json_object *icon = json_object_new_object();
    json_object *sizes = json_object_new_array();
    int len = (int)strlen(svg);
    char *b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len(len));

    apr_base64_encode(b64, svg, len);
    json_object_object_add(icon, "src", json_object_new_string(
                               apr_pstrcat(p, "data:image/svg+xml;base64,",
                                           b64, NULL)));
    json_object_object_add(icon, "mimeType",
                           json_object_new_string("image/svg+xml"));
    json_object_array_add(sizes, json_object_new_string("any"));
    json_object_object_add(icon, "sizes", sizes);
    json_object_array_add(icons, icon);
    return icons;
}

/* Module.method, as Matomo names its API methods. */
static int method_shaped(const char *m)
{
    const char *dot = strchr(m, '.');
    size_t n = strlen(m);

    return dot != NULL && dot > m && m[0] >= 'A' && m[0] <= 'Z'
           && dot[1] >= 'a' && dot[1] <= 'z'
           && strspn(m, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") == n
           && strchr(dot + 1, '.') == NULL;
}

/* matomoMethods: the Matomo API methods the tool may call, each once. */
static const char *methods_of(apr_pool_t *p, const char *path,
                              json_object *def, apr_array_header_t **out)
{
    json_object *list = mcp_json_get_typed(def, "matomoMethods",
                                           json_type_array);
    size_t i, j, n = mcp_json_array_length(list);
    json_object *only = n == 1 ? mcp_json_array_get(list, 0) : NULL;

    /* A raw API tool calls whatever the read-only allow-list admits. */
    if (json_object_is_type(only, json_type_string)
        && !strcmp(json_object_get_string(only), MCP_ANY_READ_METHOD)) {
        *out = NULL;
        return NULL;
    }
    *out = apr_array_make(p, (int)n + 1, sizeof(const char *));
    for (i = 0; i < n; i++) {
        json_object *m = mcp_json_array_get(list, i);
        const char *name = json_object_is_type(m, json_type_string)
                               ? json_object_get_string(m) : NULL;

        if (name == NULL || !method_shaped(name)) {
            return apr_psprintf(p, "%s: matomoMethods/%lu: not a Matomo "
                                "method name (Module.method)", path,
                                (unsigned long)i);
        }
        for (j = 0; j < i; j++) {
            if (!strcmp(APR_ARRAY_IDX(*out, (int)j, const char *), name)) {
                return apr_psprintf(p, "%s: matomoMethods: %s is listed "
                                    "twice", path, name);
            }
        }
        APR_ARRAY_PUSH(*out, const char *) = apr_pstrdup(p, name);
    }
    return n > 0 ? NULL
                 : apr_psprintf(p, "%s: matomoMethods must list the Matomo "
                                "methods the tool calls", path);
}

/* _meta, when there: an object; a view it declares (_meta.ui.resourceUri,
 * the MCP Apps extension) is a ui:// URI. */
static const char *check_meta(apr_pool_t *p, const char *path,
                              json_object *def)
{
    json_object *meta = NULL, *ui;
    const char *uri;

    if (!json_object_object_get_ex(def, "_meta", &meta)) {
        return NULL;
    }
    if (!json_object_is_type(meta, json_type_object)) {
        return apr_psprintf(p, "%s: _meta must be an object", path);
    }
    ui = mcp_json_get_typed(meta, "ui", json_type_object);
    uri = mcp_json_get_string(ui, "resourceUri");
    if (ui != NULL && (uri == NULL || strncmp(uri, "ui://", 5) != 0)) {
        return apr_psprintf(p, "%s: _meta.ui.resourceUri must be a ui:// "
                            "URI", path);
    }
    return NULL;
}

static const char *check_definition(apr_pool_t *p, const char *path,
                                    json_object *def)
{
    const char *name = mcp_json_get_string(def, "name");
    const char *err;
    size_t i;

    json_object_object_foreach(def, key, val) {
        (void)val;
        if (!is_member(key, members, NMEMBERS)
            && !is_member(key, optional_members,
                          sizeof(optional_members)
                              / sizeof(optional_members[0]))) {
            return apr_psprintf(p, "%s: unknown member \"%s\"", path, key);
        }
    }
    if ((err = check_meta(p, path, def)) != NULL) {
        return err;
    }
    for (i = 0; i < NMEMBERS; i++) {
        if (!json_object_object_get_ex(def, members[i], NULL)) {
            return apr_psprintf(p, "%s: %s is missing", path, members[i]);
        }
    }
    if (name == NULL || !name_is_valid(name)) {
        return apr_psprintf(p, "%s: name must be 1-64 characters of "
                            "A-Z a-z 0-9 _ . -", path);
    }
    if (strcmp(name, base_name(p, path)) != 0) {
        return apr_psprintf(p, "%s: name %s differs from the file name",
                            path, name);
    }
    if ((err = check_text(p, path, def, "title")) != NULL
        || (err = check_text(p, path, def, "description")) != NULL
        || (err = check_schema(p, path, def, "inputSchema")) != NULL
        || (err = check_schema(p, path, def, "outputSchema")) != NULL
        || (err = check_text(p, path, def, "icon")) != NULL) {
        return err;
    }
    if ((err = mcp_icon_check(mcp_json_get_string(def, "icon"))) != NULL) {
        return apr_psprintf(p, "%s: icon: %s", path, err);
    }
    return NULL;
}

const char *mcp_tool_definition(apr_pool_t *p, const mcp_tool_file *shared,
                                const mcp_tool_file *file, json_object **out,
                                apr_array_header_t **methods)
{
    resolver r;
    json_object *doc = NULL, *def = NULL, *tool, *ann = NULL;
    apr_array_header_t *listed = NULL;
    const char *err;
    size_t i;

    r.p = p;
    r.path = file->path;
    if ((err = shared_pieces(p, shared, &r.defs)) != NULL
        || (err = parse_file(p, file, &doc)) != NULL
        || (err = resolve(&r, doc, 0, 0, "", &def)) != NULL) {
        return err;
    }
    mcp_json_pool_own(p, def);
    if ((err = check_definition(p, file->path, def)) != NULL
        || (err = annotations_of(p, file->path, def, &ann)) != NULL
        || (err = methods_of(p, file->path, def, &listed)) != NULL) {
        return err;
    }
    if (methods != NULL) {
        *methods = listed;
    }
    tool = mcp_json_pool_own(p, json_object_new_object());
    for (i = 0; strcmp(members[i], "annotations") != 0; i++) {
        json_object_object_add(tool, members[i], json_object_get(
                                   json_object_object_get(def, members[i])));
    }
    json_object_object_add(tool, "annotations", json_object_get(ann));
    json_object_object_add(tool, "icons", mcp_icons_json(
                               p, mcp_json_get_string(def, "icon")));
    if (json_object_object_get_ex(def, "_meta", NULL)) {
        json_object_object_add(tool, "_meta", json_object_get(
                                   json_object_object_get(def, "_meta")));
    }
    *out = tool;
    return NULL;
}

int mcp_tool_set_has(mcp_tool_set set, int i)
{
    return set == 0
           || (i >= 0 && i < MCP_TOOL_SET_MAX && (set >> i & 1) != 0);
}

int mcp_catalog_index(const mcp_catalog *catalog, const mcp_tool *tool)
{
    int i;

    for (i = 0; i < catalog->count; i++) {
        if (&catalog->tools[i] == tool) {
            return i;
        }
    }
    return -1;
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

/* Every definition of defs, read and checked, by file: the tools as
 * tools/list shows them, and their Matomo methods. */
static const char *read_definitions(apr_pool_t *p, const mcp_tool_defs *defs,
                                    json_object ***out,
                                    apr_array_header_t ***methods)
{
    int i;

    *out = apr_pcalloc(p, sizeof(json_object *)
                              * (apr_size_t)(defs->count + 1));
    *methods = apr_pcalloc(p, sizeof(apr_array_header_t *)
                                  * (apr_size_t)(defs->count + 1));
    for (i = 0; i < defs->count; i++) {
        const char *err = mcp_tool_definition(p, defs->shared,
                                              &defs->files[i], &(*out)[i],
                                              &(*methods)[i]);

        if (err != NULL) {
            return err;
        }
    }
    return NULL;
}

/* Each tool of c with its definition (tool_json[i], its input schema)
 * from the definitions read (file_json): every tool has one, every
 * definition is some tool's. */
static const char *pair_tools(apr_pool_t *p, mcp_catalog *c,
                              const mcp_tool_defs *defs,
                              json_object **file_json,
                              apr_array_header_t **file_methods,
                              json_object **tool_json)
{
    int *used = apr_pcalloc(p, sizeof(int) * (apr_size_t)(defs->count + 1));
    int i, j, f;

    for (i = 0; i < c->count; i++) {
        for (j = 0; j < i; j++) {
            if (strcmp(c->tools[i].name, c->tools[j].name) == 0) {
                return apr_psprintf(p, "tool %s is listed twice",
                                    c->tools[i].name);
            }
        }
        for (f = 0; f < defs->count && tool_json[i] == NULL; f++) {
            if (!strcmp(mcp_json_get_string(file_json[f], "name"),
                        c->tools[i].name)) {
                tool_json[i] = file_json[f];
                c->methods[i] = file_methods[f];
                used[f]++;
            }
        }
        if (tool_json[i] == NULL || c->tools[i].run == NULL) {
            return apr_psprintf(p, "tool %s: no definition src/tools/%s.json"
                                " or no run function", c->tools[i].name,
                                c->tools[i].name);
        }
        c->input_schemas[i] = json_object_object_get(tool_json[i],
                                                     "inputSchema");
    }
    for (f = 0; f < defs->count; f++) {
        if (used[f] != 1) {
            return apr_psprintf(p, "%s: no tool of the catalog "
                                "(src/mcp_catalog.c) runs it",
                                defs->files[f].path);
        }
    }
    return NULL;
}

const char *mcp_catalog_build(apr_pool_t *p, const mcp_tool_defs *defs,
                              const mcp_tool *tools, int count, int page_size,
                              mcp_catalog **out)
{
    mcp_catalog *c = apr_pcalloc(p, sizeof(*c));
    json_object **file_json = NULL, **tool_json;
    apr_array_header_t **file_methods = NULL;
    const char *err;
    int page;

    if (page_size < 1) {
        return "catalog page size must be at least 1";
    }
    if (count > MCP_TOOL_SET_MAX) {
        return "more tools than a tool set holds (MCP_TOOL_SET_MAX)";
    }
    c->tools = tools;
    c->count = count;
    c->page_size = page_size;
    c->npages = count == 0 ? 1 : (count + page_size - 1) / page_size;
    c->pages = apr_pcalloc(p, sizeof(*c->pages) * (apr_size_t)c->npages);
    c->input_schemas = apr_pcalloc(p, sizeof(json_object *)
                                          * (apr_size_t)(count + 1));
    c->methods = apr_pcalloc(p, sizeof(*c->methods)
                                    * (apr_size_t)(count + 1));
    tool_json = apr_pcalloc(p, sizeof(json_object *) * (apr_size_t)(count + 1));
    if ((err = read_definitions(p, defs, &file_json, &file_methods)) != NULL
        || (err = pair_tools(p, c, defs, file_json, file_methods, tool_json))
               != NULL) {
        return err;
    }
    c->tool_texts = apr_pcalloc(p, sizeof(*c->tool_texts)
                                       * (apr_size_t)(count + 1));
    for (page = 0; page < count; page++) {
        c->tool_texts[page] = mcp_json_to_string(p, tool_json[page], NULL);
    }
    for (page = 0; page < c->npages; page++) {
        if ((err = build_page(p, c, tool_json, page, &c->pages[page]))
            != NULL) {
            return err;
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
        if (&catalog->tools[i] == tool) {
            return catalog->input_schemas[i];
        }
    }
    return NULL;
}

const apr_array_header_t *mcp_catalog_methods(const mcp_catalog *catalog,
                                              const mcp_tool *tool)
{
    int i;

    for (i = 0; i < catalog->count; i++) {
        if (&catalog->tools[i] == tool) {
            return catalog->methods[i];
        }
    }
    return NULL;
}

const mcp_tool *mcp_catalog_find(const mcp_catalog *catalog, const char *name)
{
    int i;

    for (i = 0; i < catalog->count; i++) {
        if (strcmp(catalog->tools[i].name, name) == 0) {
            return &catalog->tools[i];
        }
    }
    return NULL;
}

/* The page a cursor names: 0 for none, -1 for one the catalog never
 * issues. */
static int cursor_page(const char *cursor)
{
    const char *digits;

    if (cursor == NULL) {
        return 0;
    }
    if (strncmp(cursor, CURSOR_PREFIX, strlen(CURSOR_PREFIX)) != 0) {
        return -1;
    }
    digits = cursor + strlen(CURSOR_PREFIX);
    /* Only the canonical spelling the catalog issued: no sign, no leading
     * zero, no overflow. */
    if (*digits == '\0' || *digits == '0' || strlen(digits) > 6
        || strspn(digits, "0123456789") != strlen(digits)) {
        return -1;
    }
    return atoi(digits);
}

const char *mcp_catalog_page(const mcp_catalog *catalog, const char *cursor)
{
    int page = cursor_page(cursor);

    return page >= 0 && page < catalog->npages ? catalog->pages[page]
                                               : NULL;
}

/* The tools/list page of set (its tools in catalog order), or NULL for a
 * page past its end. */
static const char *set_page(apr_pool_t *p, const mcp_catalog *catalog,
                            mcp_tool_set set, int page)
{
    int i, n = 0, first;
    const char *out = "{\"tools\":[";

    first = page * catalog->page_size;
    for (i = 0; i < catalog->count; i++) {
        if (!mcp_tool_set_has(set, i)) {
            continue;
        }
        if (n >= first && n < first + catalog->page_size) {
            out = apr_pstrcat(p, out, n > first ? "," : "",
                              catalog->tool_texts[i], NULL);
        }
        n++;
    }
    /* Page 0 always exists (an endpoint offers at least one tool). */
    if (page < 0 || (page > 0 && first >= n)) {
        return NULL;
    }
    return first + catalog->page_size < n
               ? apr_psprintf(p, "%s],\"nextCursor\":\"" CURSOR_PREFIX
                              "%d\"}", out, page + 1)
               : apr_pstrcat(p, out, "]}", NULL);
}

const char *mcp_catalog_page_of(apr_pool_t *p, const mcp_catalog *catalog,
                                mcp_tool_set set, const char *cursor)
{
    if (set == catalog->paged_set) {
        return mcp_catalog_page(catalog, cursor);
    }
    return set_page(p, catalog, set, cursor_page(cursor));
}

void mcp_catalog_paginate(apr_pool_t *p, mcp_catalog *catalog,
                          mcp_tool_set set)
{
    int page = 0;
    const char **pages = apr_pcalloc(p, sizeof(*pages)
                                            * (apr_size_t)(catalog->count
                                                           + 1));

    while ((pages[page] = set_page(p, catalog, set, page)) != NULL
           && strstr(pages[page], "\"nextCursor\"") != NULL) {
        page++;
    }
    catalog->pages = pages;
    catalog->npages = page + 1;
    catalog->paged_set = set;
}
