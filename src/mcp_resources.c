/*
 * MCP resources: each site the caller can see, its report catalog and its
 * segment dictionary, as matomo://sites/{idSite}[/reports|/segments].
 * Every list and read runs with the caller's token, so a view-only user
 * never lists or reads a site it cannot see.  Besides them, the chart
 * view of the MCP Apps extension (ui://, src/mcp_apps.c) can be read: the
 * same for everyone, it needs no Matomo call.  It is not listed, as the
 * extension allows: hosts find it in the _meta of the tools that show
 * it, and resources/list stays the caller's sites, three each.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_apps.h"
#include "mcp_json.h"
#include "mcp_jsonrpc.h"
#include "mcp_shape.h"
#include "mcp_toolkit.h"

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#define URI_PREFIX "matomo://sites/"
#define RESOURCES_PAGE 50

/* The three kinds of resource a site has, in list order. */
static const struct {
    const char *suffix;      /* after matomo://sites/N */
    const char *name;        /* after the site name */
    const char *template_name;
    const char *description;
} kinds[] = {
    { "", "", "site",
      "A Matomo site: name, URL, timezone (dates in its reports are in it), "
      "currency, ecommerce and goals." },
    { "/reports", ": reports", "site-reports",
      "The site's report catalog: report ids for matomo_get_report, names, "
      "categories, dimensions, metrics." },
    { "/segments", ": segments", "site-segments",
      "The site's segment dictionary: dimensions and metrics a segment can "
      "use, and the saved segments." },
};
#define NKINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

/* Pages are "page:N", as for tools/list. */
static int page_of(json_object *params, int *page)
{
    json_object *cursor = NULL;
    const char *s, *digits;

    *page = 0;
    if (params == NULL || !json_object_object_get_ex(params, "cursor",
                                                     &cursor)) {
        return 1;
    }
    if (!json_object_is_type(cursor, json_type_string)) {
        return 0;
    }
    s = json_object_get_string(cursor);
    if (strncmp(s, "page:", 5) != 0) {
        return 0;
    }
    digits = s + 5;
    if (*digits < '1' || *digits > '9' || strlen(digits) > 6
        || strspn(digits, "0123456789") != strlen(digits)) {
        return 0;
    }
    *page = atoi(digits);
    return 1;
}

static void backend_failed(mcp_outcome *out, const char *message)
{
    mcp_outcome_fail(out, MCP_JSONRPC_INTERNAL_ERROR, message);
}

static json_object *resource(apr_pool_t *p, json_object *site, int kind)
{
    json_object *r = json_object_new_object();
    const char *name = mcp_json_get_string(site, "name");
    json_object *id = json_object_object_get(site, "idsite");
    const char *ids = apr_psprintf(p, "%d", json_object_get_int(id));

    name = name != NULL ? name : apr_pstrcat(p, "site ", ids, NULL);
    json_object_object_add(r, "uri", json_object_new_string(apr_pstrcat(
        p, URI_PREFIX, ids, kinds[kind].suffix, NULL)));
    json_object_object_add(r, "name", json_object_new_string(apr_pstrcat(
        p, name, kinds[kind].name, NULL)));
    json_object_object_add(r, "title", json_object_new_string(apr_psprintf(
        p, "%s%s (site %s)", name, kinds[kind].name, ids)));
    json_object_object_add(r, "description",
                           json_object_new_string(kinds[kind].description));
    json_object_object_add(r, "mimeType",
                           json_object_new_string("application/json"));
    return r;
}

void mcp_resources_list(mcp_request *req, json_object *params,
                        mcp_outcome *out)
{
    json_object *result, *list;
    mcp_matomo_answer a;
    int page, i, first, total;

    if (!page_of(params, &page)) {
        mcp_outcome_fail(out, MCP_JSONRPC_INVALID_PARAMS,
                         "Invalid cursor: use a nextCursor from an earlier "
                         "resources/list");
        return;
    }
    mcp_server_call_matomo(req, "SitesManager.getSitesWithAtLeastViewAccess",
                           NULL, &a);
    if (a.status != MCP_MATOMO_OK
        || !json_object_is_type(a.json, json_type_array)) {
        backend_failed(out, a.status != MCP_MATOMO_OK
                                ? a.message
                                : "Matomo's list of sites is not a list");
        return;
    }
    total = (int)mcp_json_array_length(a.json) * NKINDS;
    first = page * RESOURCES_PAGE;
    if (page > 0 && first >= total) {
        mcp_outcome_fail(out, MCP_JSONRPC_INVALID_PARAMS,
                         "Invalid cursor: past the end of the list");
        return;
    }
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    list = json_object_new_array();
    json_object_object_add(result, "resources", list);
    for (i = first; i < total && i < first + RESOURCES_PAGE; i++) {
        json_object_array_add(list, resource(
            req->pool, mcp_json_array_get(a.json, (size_t)(i / NKINDS)),
            i % NKINDS));
    }
    if (first + RESOURCES_PAGE < total) {
        json_object_object_add(result, "nextCursor", json_object_new_string(
            apr_psprintf(req->pool, "page:%d", page + 1)));
    }
    mcp_outcome_json(req->pool, out, result);
}

void mcp_resources_templates(mcp_request *req, json_object *params,
                             mcp_outcome *out)
{
    json_object *result = mcp_json_pool_own(req->pool,
                                            json_object_new_object());
    json_object *list = json_object_new_array();
    int k;

    (void)params;
    for (k = 0; k < NKINDS; k++) {
        json_object *t = json_object_new_object();

        json_object_object_add(t, "uriTemplate", json_object_new_string(
            apr_pstrcat(req->pool, URI_PREFIX, "{idSite}", kinds[k].suffix,
                        NULL)));
        json_object_object_add(t, "name",
                               json_object_new_string(kinds[k].template_name));
        json_object_object_add(t, "description",
                               json_object_new_string(kinds[k].description));
        json_object_object_add(t, "mimeType",
                               json_object_new_string("application/json"));
        json_object_array_add(list, t);
    }
    json_object_object_add(result, "resourceTemplates", list);
    mcp_outcome_json(req->pool, out, result);
}

/* --- resources/read ------------------------------------------------- */

/* matomo://sites/N[/reports|/segments] -> N and the kind, else 0. */
static int parse_uri(const char *uri, int *id_site, int *kind)
{
    const char *digits = uri + strlen(URI_PREFIX), *rest;
    size_t n;
    int k;

    if (strncmp(uri, URI_PREFIX, strlen(URI_PREFIX)) != 0) {
        return 0;
    }
    n = strspn(digits, "0123456789");
    if (n == 0 || n > 9 || digits[0] == '0') {
        return 0;
    }
    rest = digits + n;
    for (k = 0; k < NKINDS; k++) {
        if (strcmp(rest, kinds[k].suffix) == 0) {
            *id_site = atoi(digits);
            *kind = k;
            return 1;
        }
    }
    return 0;
}

/* 2025-11-25 has its own code for it; 2026-07-28 makes it an invalid
 * parameter, the URI, like any other (both name the URI in data). */
static void not_found(const mcp_request *req, mcp_outcome *out,
                      const char *uri)
{
    mcp_outcome_fail(out, req->era == MCP_ERA_MODERN
                              ? MCP_JSONRPC_INVALID_PARAMS
                              : MCP_JSONRPC_RESOURCE_NOT_FOUND,
                     "Resource not found, or not visible with this token");
    out->error_data = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(out->error_data, "uri",
                           json_object_new_string(uri));
}

static const mcp_column goal_columns[] = {
    { "id", "idgoal", MCP_COL_NUMBER },
    { "name", "name", MCP_COL_AS_IS },
    { "match", "match_attribute", MCP_COL_AS_IS },
    { "pattern", "pattern", MCP_COL_AS_IS },
    { "revenue", "revenue", MCP_COL_NUMBER },
};

/* The site itself: SitesManager.getSiteFromId and Goals.getGoals in one
 * round trip. */
static void read_site(mcp_request *req, int id_site, mcp_tool_result *res)
{
    apr_array_header_t *params = mcp_matomo_params(req->pool);
    mcp_matomo_request calls[2];
    mcp_matomo_answer a[2];
    json_object *site, *doc, *goals;
    int i;

    mcp_matomo_param_add(params, "idSite", apr_itoa(req->pool, id_site));
    calls[0].method = "SitesManager.getSiteFromId";
    calls[1].method = "Goals.getGoals";
    calls[0].params = calls[1].params = params;
    mcp_server_call_matomo_bulk(req, calls, 2, a);
    for (i = 0; i < 2; i++) {
        if (!mcp_answered(&a[i], res)) {
            return;
        }
    }
    site = a[0].json;
    goals = mcp_json_get_typed(a[1].json, "goals", json_type_array)
                ? json_object_object_get(a[1].json, "goals") : a[1].json;
    if (!json_object_is_type(site, json_type_object)
        || !json_object_is_type(goals, json_type_array)) {
        res->error = "Matomo's site or goals answer has an unknown shape";
        return;
    }
    doc = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(doc, "id", json_object_new_int(id_site));
    json_object_object_add(doc, "name", json_object_get(
        json_object_object_get(site, "name")));
    json_object_object_add(doc, "url", json_object_get(
        json_object_object_get(site, "main_url")));
    json_object_object_add(doc, "timezone", json_object_get(
        json_object_object_get(site, "timezone")));
    json_object_object_add(doc, "currency", json_object_get(
        json_object_object_get(site, "currency")));
    json_object_object_add(doc, "ecommerce", json_object_new_boolean(
        json_object_get_int(json_object_object_get(site, "ecommerce"))));
    json_object_object_add(doc, "goals", mcp_shape_table(
        goal_columns, (int)(sizeof(goal_columns) / sizeof(goal_columns[0])),
        goals, 0, 1000));
    res->structured = doc;
}

/* The catalog and the dictionary are what the tools already shape: the
 * resource is the tool's answer for the whole site. */
static void read_by_tool(mcp_request *req, mcp_tool_run_fn *run,
                         int id_site, mcp_tool_result *res)
{
    json_object *args = mcp_json_pool_own(req->pool, json_object_new_object());

    json_object_object_add(args, "idSite", json_object_new_int(id_site));
    json_object_object_add(args, "limit", json_object_new_int(200));
    run(req, args, res);
    if (res->structured != NULL
        && !json_object_object_get_ex(res->structured, "idSite", NULL)) {
        json_object_object_add(res->structured, "idSite",
                               json_object_new_int(id_site));
    }
}

void mcp_resources_read(mcp_request *req, json_object *params,
                        mcp_outcome *out)
{
    const char *uri = mcp_json_get_string(params, "uri");
    mcp_tool_result res = { NULL, NULL, 0, NULL, 0, NULL };
    json_object *result, *contents, *content;
    int id_site = 0, kind = 0;

    if (uri == NULL) {
        mcp_outcome_fail(out, MCP_JSONRPC_INVALID_PARAMS,
                         "resources/read needs params.uri (a string)");
        return;
    }
    if ((result = mcp_apps_read(uri)) != NULL) {
        mcp_outcome_json(req->pool, out, mcp_json_pool_own(req->pool, result));
        return;
    }
    if (!parse_uri(uri, &id_site, &kind)) {
        not_found(req, out, uri);
        return;
    }
    if (kind == 0) {
        read_site(req, id_site, &res);
    }
    else {
        read_by_tool(req, kind == 1 ? mcp_tool_list_reports
                                    : mcp_tool_list_segments,
                     id_site, &res);
    }
    if (res.error != NULL) {
        if (res.refused) {
            not_found(req, out, uri);
        }
        else {
            backend_failed(out, res.error);
        }
        return;
    }
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    contents = json_object_new_array();
    content = json_object_new_object();
    json_object_object_add(content, "uri", json_object_new_string(uri));
    json_object_object_add(content, "mimeType",
                           json_object_new_string("application/json"));
    json_object_object_add(content, "text", json_object_new_string(
        mcp_json_to_string(req->pool, res.structured, NULL)));
    json_object_array_add(contents, content);
    json_object_object_add(result, "contents", contents);
    mcp_outcome_json(req->pool, out, result);
}
