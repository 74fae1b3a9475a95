#include "mcp_shape.h"
#include "mcp_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_object *cell(const mcp_column *col, json_object *row)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(row, col->field, &v) || v == NULL) {
        return NULL;
    }
    if (col->kind == MCP_COL_NUMBER) {
        return mcp_shape_number(v);
    }
    if (col->kind == MCP_COL_BOOLEAN) {
        /* Matomo says 1/0, "1"/"0" or true/false depending on the API. */
        return json_object_new_boolean(
            json_object_is_type(v, json_type_string)
                ? json_object_get_string(v)[0] == '1'
                : json_object_get_boolean(v));
    }
    return json_object_get(v);
}

json_object *mcp_shape_names(const mcp_column *cols, int ncols)
{
    json_object *names = json_object_new_array();
    int c;

    for (c = 0; c < ncols; c++) {
        json_object_array_add(names, json_object_new_string(cols[c].name));
    }
    return names;
}

json_object *mcp_shape_row(const mcp_column *cols, int ncols,
                           json_object *row)
{
    json_object *r = json_object_new_array();
    int c;

    for (c = 0; c < ncols; c++) {
        json_object_array_add(r, cell(&cols[c], row));
    }
    return r;
}

json_object *mcp_shape_table(const mcp_column *cols, int ncols,
                             json_object *rows, size_t first, size_t count)
{
    json_object *table = json_object_new_object();
    json_object *out = json_object_new_array();
    size_t i, n = mcp_json_array_length(rows);

    for (i = first; i < n && i < first + count; i++) {
        json_object_array_add(out, mcp_shape_row(
                                       cols, ncols,
                                       mcp_json_array_get(rows, i)));
    }
    json_object_object_add(table, "columns", mcp_shape_names(cols, ncols));
    json_object_object_add(table, "rows", out);
    return table;
}

void mcp_shape_page(json_object *result, size_t total, size_t offset,
                    size_t limit)
{
    int more = offset + limit < total;

    json_object_object_add(result, "total",
                           json_object_new_int64((int64_t)total));
    json_object_object_add(result, "has_more", json_object_new_boolean(more));
    if (more) {
        json_object_object_add(result, "next_offset",
                               json_object_new_int64((int64_t)(offset
                                                               + limit)));
    }
}

json_object *mcp_shape_number(json_object *v)
{
    const char *s;
    char *end;
    size_t digits;

    if (!json_object_is_type(v, json_type_string)) {
        return json_object_get(v);
    }
    s = json_object_get_string(v);
    digits = strspn(s + (*s == '-'), "0123456789");
    if (digits == 0 || digits > 15) {
        return json_object_get(v);
    }
    if (s[(*s == '-') + digits] == '\0') {
        return json_object_new_int64(strtoll(s, NULL, 10));
    }
    if (s[(*s == '-') + digits] == '.'
        && strspn(s + (*s == '-') + digits + 1, "0123456789") > 0) {
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (*end == '\0' && errno == 0) {
            return json_object_new_double(d);
        }
    }
    return json_object_get(v);
}

json_object *mcp_shape_filter(apr_pool_t *p, json_object *list,
                              mcp_row_filter *keep, void *baton)
{
    json_object *kept = mcp_json_pool_own(p, json_object_new_array());
    size_t i;

    for (i = 0; i < mcp_json_array_length(list); i++) {
        json_object *row = mcp_json_array_get(list, i);

        if (keep(row, baton)) {
            json_object_array_add(kept, json_object_get(row));
        }
    }
    return kept;
}
