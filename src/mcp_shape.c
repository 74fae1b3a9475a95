#include "mcp_shape.h"
#include "mcp_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

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

    /* json-c reads 1e400 as inf: a client would too, and JSON has no
     * such number.  A figure that large is no figure: null, as missing. */
    if (json_object_is_type(v, json_type_double)
        && !isfinite(json_object_get_double(v))) {
        return NULL;
    }
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

json_object *mcp_shape_rounded(double d, int decimals)
{
    char buf[64];
    size_t n;

    /* JSON has no inf or nan: "%f" would print them bare, an invalid
     * reply.  A figure Matomo could not compute is as good as missing. */
    if (!isfinite(d)) {
        return NULL;
    }
    /* Past 2^53 a double has no decimals left to round, and "%.*f" would
     * print up to 309 digits: json-c's %.17g keeps the value exactly. */
    if (d >= 9007199254740992.0 || d <= -9007199254740992.0
        || decimals < 0 || decimals > 6) {
        return json_object_new_double(d);
    }
    snprintf(buf, sizeof(buf), "%.*f", decimals, d);
    n = strlen(buf);
    if (strchr(buf, '.') != NULL) {
        while (buf[n - 1] == '0') {
            buf[--n] = '\0';
        }
        if (buf[n - 1] == '.') {
            buf[--n] = '\0';
        }
    }
    if (strchr(buf, '.') == NULL) {
        return json_object_new_int64(strtoll(buf, NULL, 10)); /* "-0": 0 */
    }
    /* The rounded text is what is written: 0.3, not 0.30000000000000004. */
    return json_object_new_double_s(strtod(buf, NULL), buf);
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

/* The last second of 9999-12-31 UTC: later ones need a five-digit year,
 * and apr_time_from_sec() overflows (undefined) soon after 292,000 AD. */
#define LAST_FOUR_DIGIT_SECOND APR_INT64_C(253402300799)

const char *mcp_shape_last_action(apr_pool_t *p, json_object *visit)
{
    json_object *ts = mcp_json_get_typed(visit, "lastActionTimestamp",
                                         json_type_int);
    apr_int64_t sec = ts != NULL ? json_object_get_int64(ts) : -1;
    apr_time_exp_t t;

    /* No time Matomo could have recorded: its own text, or unknown. */
    if (sec < 0 || sec > LAST_FOUR_DIGIT_SECOND) {
        return mcp_json_get_string(visit, "lastActionDateTime");
    }
    if (apr_time_exp_gmt(&t, apr_time_from_sec(sec)) != APR_SUCCESS) {
        return NULL;
    }
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.tm_year + 1900,
                        t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
                        t.tm_sec);
}
