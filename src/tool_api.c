/*
 * matomo_api_read: one read-only Matomo API method with the caller's
 * parameters, for the questions no purpose-built tool covers.  Offered
 * only where MatomoMcpTools names it (src/mcp_catalog.c).  What it may
 * reach is what every tool may: the read-only allow-list
 * (mcp_matomo_method_allowed), parameters a call may set
 * (mcp_matomo_param_allowed), one call at a time (never a bulk request),
 * with the caller's own credential.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_toolkit.h"
#include "mcp_json.h"

#include <string.h>

#include <apr_strings.h>

/* Longest parameter value sent (a segment, a label pattern). */
#define MAX_VALUE 2000

/* The parameters this tool sets itself from limit and offset. */
static int is_paging_param(const char *name)
{
    return !strcmp(name, "filter_limit") || !strcmp(name, "filter_offset");
}

/* One parameter as Matomo reads it: a string as it is, a number in
 * JSON's spelling; or NULL with *err set. */
static const char *param_text(apr_pool_t *p, const char *name,
                              json_object *v, const char **err)
{
    const char *text;

    if (!json_object_is_type(v, json_type_string)
        && !json_object_is_type(v, json_type_int)
        && !json_object_is_type(v, json_type_double)) {
        *err = apr_psprintf(p, "parameters.%s: must be a string or a number",
                            name);
        return NULL;
    }
    /* The arguments are this request's own: get_string may cache. */
    text = json_object_get_string(v);
    if (json_object_is_type(v, json_type_string)
        && ((size_t)json_object_get_string_len(v) != strlen(text)
            || strlen(text) > MAX_VALUE)) {
        *err = apr_psprintf(p, "parameters.%s: at most %d characters, no "
                            "U+0000", name, MAX_VALUE);
        return NULL;
    }
    return text;
}

/* The Matomo parameters from the parameters argument, or the error. */
static const char *read_params(apr_pool_t *p, json_object *given,
                               apr_array_header_t *params)
{
    json_object_object_foreach(given, key, val) {
        const char *err = NULL, *text;
        const char *name = mcp_json_clip(p, key, 64);

        if (is_paging_param(key)) {
            return apr_psprintf(p, "parameters.%s: set by the tool: use "
                                "limit and offset", key);
        }
        if (!mcp_matomo_param_allowed(key)) {
            return apr_psprintf(p, "parameters.%s: not a parameter a call "
                                "may set (the module sets module, method, "
                                "format and the caller's credential itself; "
                                "token_auth, force_api_session, urls, "
                                "callbacks and other reserved names are "
                                "refused)", name);
        }
        if ((text = param_text(p, name, val, &err)) == NULL) {
            return err;
        }
        mcp_matomo_param_add(params, apr_pstrdup(p, key), text);
    }
    return NULL;
}

/* 1 when v is a list of objects (or an empty list): Matomo's table. */
static int is_table(json_object *v)
{
    size_t i, n = mcp_json_array_length(v);

    if (!json_object_is_type(v, json_type_array)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!json_object_is_type(mcp_json_array_get(v, i),
                                 json_type_object)) {
            return 0;
        }
    }
    return 1;
}

/* The members rows[first, end) hold, in the order first seen. */
static json_object *column_names(json_object *rows, size_t first, size_t end)
{
    json_object *names = json_object_new_array();
    json_object *seen = json_object_new_object();
    size_t i;

    for (i = first; i < end; i++) {
        json_object_object_foreach(mcp_json_array_get(rows, i), key, val) {
            (void)val;
            if (!json_object_object_get_ex(seen, key, NULL)) {
                json_object_object_add(seen, key, NULL);
                json_object_array_add(names, json_object_new_string(key));
            }
        }
    }
    json_object_put(seen);
    return names;
}

/* rows[first, end) as arrays under names (null where a row lacks one). */
static json_object *table_rows(json_object *rows, json_object *names,
                               size_t first, size_t end)
{
    json_object *out = json_object_new_array();
    size_t i, c, ncols = mcp_json_array_length(names);

    for (i = first; i < end; i++) {
        json_object *row = mcp_json_array_get(rows, i);
        json_object *cells = json_object_new_array();

        for (c = 0; c < ncols; c++) {
            json_object *v = NULL;

            json_object_object_get_ex(row, json_object_get_string(
                                          mcp_json_array_get(names, c)), &v);
            json_object_array_add(cells, json_object_get(v));
        }
        json_object_array_add(out, cells);
    }
    return out;
}

/* A table answer: columns once, the rows [offset, offset+limit) as
 * arrays, and whether more came. */
static void shape_table(json_object *result, json_object *rows,
                        size_t limit, size_t offset)
{
    size_t n = mcp_json_array_length(rows);
    size_t first = offset < n ? offset : n;
    size_t end = first + limit < n ? first + limit : n;
    json_object *names = column_names(rows, first, end);

    json_object_object_add(result, "rows",
                           table_rows(rows, names, first, end));
    json_object_object_add(result, "columns", names);
    mcp_paged_result(result, n > offset ? n - offset : 0, limit, offset);
}

void mcp_tool_api_read(mcp_request *req, json_object *args,
                       mcp_tool_result *res)
{
    apr_pool_t *p = req->pool;
    const char *method = mcp_arg_string(args, "method", "");
    size_t limit = (size_t)mcp_arg_int(args, "limit", 100);
    size_t offset = (size_t)mcp_arg_int(args, "offset", 0);
    json_object *given = mcp_json_get_typed(args, "parameters",
                                            json_type_object);
    apr_array_header_t *params = mcp_matomo_params(p);
    mcp_matomo_answer a;
    json_object *result;

    if (!mcp_matomo_method_allowed(method)) {
        res->error = apr_psprintf(p, "method: %s is not on the module's "
                                  "read-only allow-list (report methods "
                                  "Module.get* of the reporting plugins, "
                                  "and single reads such as "
                                  "API.getReportMetadata or "
                                  "SitesManager.getSiteFromId); writes, "
                                  "bulk requests and settings are never "
                                  "sent", mcp_json_clip(p, method, 80));
        return;
    }
    if (given != NULL && (res->error = read_params(p, given, params))
                             != NULL) {
        return;
    }
    /* Matomo's table methods honour filter_limit (its default is 100
     * rows): ask for every row up to the page's end and one more, which
     * says whether there is more; other methods ignore it and answer
     * whole.  Either way the page is cut here. */
    mcp_matomo_param_add(params, "filter_limit",
                         apr_psprintf(p, "%lu", (unsigned long)(offset + limit
                                                                + 1)));
    mcp_server_call_matomo(req, method, params, &a);
    if (!mcp_answered(&a, res)) {
        return;
    }
    result = mcp_json_pool_own(p, json_object_new_object());
    json_object_object_add(result, "method", json_object_new_string(method));
    if (is_table(a.json)) {
        shape_table(result, a.json, limit, offset);
    }
    else {
        json_object_object_add(result, "value", json_object_get(a.json));
    }
    mcp_mark_untrusted(result);
    res->structured = result;
}
