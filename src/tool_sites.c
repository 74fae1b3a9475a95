/*
 * Tools about the sites a caller can see.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_json.h"
#include "mcp_shape.h"
#include "mcp_toolkit.h"

#include <string.h>

#include <apr_strings.h>

/* --- matomo_list_sites ---------------------------------------------- */

static const mcp_column site_columns[] = {
    { "id", "idsite", MCP_COL_AS_IS },
    { "name", "name", MCP_COL_AS_IS },
    { "url", "main_url", MCP_COL_AS_IS },
    { "timezone", "timezone", MCP_COL_AS_IS },
    { "currency", "currency", MCP_COL_AS_IS },
    { "ecommerce", "ecommerce", MCP_COL_BOOLEAN },
};

static int site_matches(json_object *site, void *baton)
{
    const char *search = baton;
    const char *name = mcp_json_get_string(site, "name");
    const char *url = mcp_json_get_string(site, "main_url");

    return search == NULL
           || (name != NULL && strcasestr(name, search))
           || (url != NULL && strcasestr(url, search));
}

static void run_list_sites(mcp_request *req, json_object *args,
                           mcp_tool_result *res)
{
    const char *search = mcp_arg_string(args, "search", NULL);
    size_t limit = (size_t)mcp_arg_int(args, "limit", 50);
    size_t offset = (size_t)mcp_arg_int(args, "offset", 0);
    json_object *matching, *result;
    mcp_matomo_answer a;

    mcp_server_call_matomo(req, "SitesManager.getSitesWithAtLeastViewAccess",
                           NULL, &a);
    if (!mcp_answered(&a, res)) {
        return;
    }
    if (!json_object_is_type(a.json, json_type_array)) {
        res->error = "Matomo's list of sites is not a list";
        return;
    }
    matching = mcp_shape_filter(req->pool, a.json, site_matches,
                                (void *)search);
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(result, "sites", mcp_shape_table(
        site_columns, (int)(sizeof(site_columns) / sizeof(site_columns[0])),
        matching, offset, limit));
    mcp_shape_page(result, json_object_array_length(matching), offset, limit);
    res->structured = result;
}

const mcp_tool mcp_tool_list_sites = {
        "matomo_list_sites",
        "List Matomo sites",
        "The Matomo sites (websites, apps) this token can see: id, name, "
        "main URL, timezone (dates in every report are in it), currency and "
        "whether ecommerce is on. Call it first to learn site ids. search "
        "matches names and URLs (case-insensitive); results come in pages: "
        "when has_more is true, call again with offset=next_offset.",
        "{\"type\":\"object\",\"properties\":{"
        "\"search\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100,"
        "\"description\":\"part of a site name or URL\"},"
        "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,"
        "\"default\":50},"
        "\"offset\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}},"
        "\"additionalProperties\":false}",
        "{\"type\":\"object\",\"properties\":{"
        "\"sites\":{\"type\":\"object\",\"properties\":{"
        "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"array\"}}},"
        "\"required\":[\"columns\",\"rows\"]},"
        "\"total\":{\"type\":\"integer\"},"
        "\"has_more\":{\"type\":\"boolean\"},"
        "\"next_offset\":{\"type\":\"integer\"}},"
        "\"required\":[\"sites\",\"total\",\"has_more\"]}",
        run_list_sites
    };
