/*
 * Answer shaping: Matomo's JSON into what a model reads cheaply.  Tables
 * carry their column names once and rows as arrays; lists are sliced with
 * an explicit has_more and next offset instead of silent truncation.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_SHAPE_H
#define MCP_SHAPE_H

#include <apr_pools.h>
#include <json-c/json.h>

/* One output column: its name in the result, the Matomo field it comes
 * from, and how to read that field. */
typedef enum {
    MCP_COL_AS_IS,      /* text and anything else, unchanged */
    MCP_COL_NUMBER,     /* numbers, also when Matomo sends them as strings */
    MCP_COL_BOOLEAN     /* 1/0, "1"/"0" or true/false as a boolean */
} mcp_col_kind;

typedef struct {
    const char *name;
    const char *field;
    mcp_col_kind kind;
} mcp_column;

/* The column names, and one Matomo row object as an array in their
 * order (a missing field is null). */
json_object *mcp_shape_names(const mcp_column *cols, int ncols);
json_object *mcp_shape_row(const mcp_column *cols, int ncols,
                           json_object *row);

/* {"columns":[names], "rows":[[values]...]} from rows[first, first+count)
 * of a Matomo array of objects.  A missing field becomes null. */
json_object *mcp_shape_table(const mcp_column *cols, int ncols,
                             json_object *rows, size_t first, size_t count);

/* The rows of list for which keep() says 1, in order, as a new array
 * owned by p.  keep() may add fields to a row it keeps. */
typedef int mcp_row_filter(json_object *row, void *baton);
json_object *mcp_shape_filter(apr_pool_t *p, json_object *list,
                              mcp_row_filter *keep, void *baton);

/* A new reference to v, with a string that holds a plain decimal number
 * ("10", "-2.5") turned into that number: Matomo sends some metrics as
 * strings even with format_metrics=0.  NULL for a number json-c read as
 * inf (1e400). */
json_object *mcp_shape_number(json_object *v);

/* A number the module computed or rounds, as JSON: d to at most
 * `decimals` (0-6) decimals, an integer when whole (1.500 is 1.5, 2.0 is
 * 2).  NULL (JSON null, as for a missing value) when d is inf or nan,
 * which JSON cannot carry; mcp_shape_number likewise gives NULL for a
 * Matomo number out of double range (1e400). */
json_object *mcp_shape_rounded(double d, int decimals);

/* Adds total, has_more and, when there is more, next_offset to result for
 * a slice [offset, offset+limit) of total rows.  (Absent rather than null:
 * single-type schemas are the portable ones.) */
void mcp_shape_page(json_object *result, size_t total, size_t offset,
                    size_t limit);

/* When a Live visit's last action happened, in UTC, as
 * "2026-11-26T10:17:35Z", from its lastActionTimestamp; for a timestamp
 * no four-digit year holds, Matomo's lastActionDateTime as it is; NULL
 * when the visit has neither.  Matomo's own date and time fields do not
 * add up to a local time: serverDate is the UTC date, serverTimePretty
 * the site's local time in the user's language and clock (12 or 24 h). */
const char *mcp_shape_last_action(apr_pool_t *p, json_object *visit);

#endif
