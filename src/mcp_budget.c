#include "mcp_budget.h"
#include "mcp_json.h"
#include "mcp_toolkit.h"

#include <string.h>

#include <apr_strings.h>

/* The arguments that narrow a question, most effective first; a note
 * names those the tool takes. */
static const char *const narrowing[] = {
    "limit", "columns", "metrics", "with_actions", "filter", "segment",
    "last", "period", "date",
};

static apr_size_t serialised_size(json_object *obj)
{
    size_t n = 0;

    json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    return n;
}

/* The rows of obj's table: obj.rows, or the rows of a member holding a
 * table ({columns, rows}); the longest when several. */
static json_object *main_rows(json_object *result)
{
    json_object *best = mcp_json_get_typed(result, "rows", json_type_array);

    json_object_object_foreach(result, key, val) {
        json_object *rows;

        (void)key;
        if (json_object_is_type(val, json_type_object)
            && (rows = mcp_json_get_typed(val, "rows", json_type_array))
                   != NULL
            && (best == NULL || mcp_json_array_length(rows)
                                    > mcp_json_array_length(best))) {
            best = rows;
        }
    }
    return best;
}

/* Row tables that go row for row with the main one (a comparison's,
 * compared segments'): obj.M.rows and obj.M[i].rows of the same length. */
static apr_array_header_t *parallel_rows(apr_pool_t *p, json_object *result,
                                         json_object *rows)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(json_object *));
    size_t n = mcp_json_array_length(rows);

    json_object_object_foreach(result, key, val) {
        json_object *r;
        size_t i;

        (void)key;
        if (json_object_is_type(val, json_type_object)) {
            r = mcp_json_get_typed(val, "rows", json_type_array);
            if (r != NULL && r != rows && mcp_json_array_length(r) == n) {
                *(json_object **)apr_array_push(out) = r;
            }
        }
        else if (json_object_is_type(val, json_type_array)) {
            for (i = 0; i < mcp_json_array_length(val); i++) {
                r = mcp_json_get_typed(mcp_json_array_get(val, i), "rows",
                                       json_type_array);
                if (r != NULL && mcp_json_array_length(r) == n) {
                    *(json_object **)apr_array_push(out) = r;
                }
            }
        }
    }
    return out;
}

/* The narrowing arguments the tool takes, as "a, b or c". */
static const char *narrowing_args(apr_pool_t *p, json_object *input_schema)
{
    json_object *props = mcp_json_get_typed(input_schema, "properties",
                                            json_type_object);
    const char *names[sizeof(narrowing) / sizeof(narrowing[0])];
    const char *out;
    size_t i, n = 0;

    for (i = 0; i < sizeof(narrowing) / sizeof(narrowing[0]); i++) {
        if (json_object_object_get_ex(props, narrowing[i], NULL)) {
            names[n++] = narrowing[i];
        }
    }
    if (n == 0) {
        return "a narrower question";
    }
    out = names[0];
    for (i = 1; i < n; i++) {
        out = apr_pstrcat(p, out, i + 1 == n ? " or " : ", ", names[i],
                          NULL);
    }
    return out;
}

/* Keeps the first k of the rows (all held in kept[0..n)) in each array. */
static void keep_rows(json_object **tables, json_object ***kept, int ntables,
                      size_t n, size_t k)
{
    int t;
    size_t i;

    for (t = 0; t < ntables; t++) {
        if (mcp_json_array_length(tables[t]) > 0) {
            json_object_array_del_idx(tables[t], 0,
                                      mcp_json_array_length(tables[t]));
        }
        for (i = 0; i < k && i < n; i++) {
            json_object_array_add(tables[t], json_object_get(kept[t][i]));
        }
    }
}

/* The largest k whose first k rows fit, by bisection over real
 * serialisations (the note and paging members included). */
static size_t rows_that_fit(json_object *result, json_object **tables,
                            json_object ***kept, int ntables, size_t n,
                            apr_size_t budget)
{
    size_t lo = 0, hi = n;   /* lo fits (or is 0), hi + 1 does not */

    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;

        keep_rows(tables, kept, ntables, n, mid);
        if (serialised_size(result) <= budget) {
            lo = mid;
        }
        else {
            hi = mid - 1;
        }
    }
    return lo;
}

/* The result's note as it came (orig, NULL: none) followed by what the
 * budget left out. */
static void note_budget(apr_pool_t *p, json_object *result, const char *orig,
                        size_t k, size_t n, apr_size_t budget, int paged,
                        const char *args_named)
{
    if (orig != NULL) {
        json_object_object_add(result, "note", json_object_new_string(orig));
    }
    else {
        json_object_object_del(result, "note");
    }
    mcp_note_add(result, apr_psprintf(
        p, "only the first %" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT
        " rows fit this server's result budget (%" APR_SIZE_T_FMT
        " bytes)%s; or narrow the question with %s", k, n, budget,
        paged ? ": call again with offset=next_offset for the rest" : "",
        args_named));
}

const char *mcp_budget_fit(apr_pool_t *p, json_object *result,
                           json_object *input_schema, json_object *args,
                           apr_size_t budget, apr_size_t reserve)
{
    apr_size_t size = serialised_size(result);
    apr_size_t limit = budget > reserve ? budget - reserve : budget;
    json_object *rows, ***kept, **tables;
    apr_array_header_t *others;
    int paged, t, ntables;
    size_t n, k, i, offset;
    const char *args_named = narrowing_args(p, input_schema), *orig;

    if (budget == 0 || size <= limit) {
        return NULL;
    }
    rows = main_rows(result);
    n = mcp_json_array_length(rows);
    if (rows == NULL || n < 2) {
        return apr_psprintf(p, "The answer (%" APR_SIZE_T_FMT " bytes) is "
                            "larger than this server's result budget (%"
                            APR_SIZE_T_FMT " bytes, MatomoMcpResultBudget): "
                            "narrow the question with %s", size, budget,
                            args_named);
    }
    others = parallel_rows(p, result, rows);
    ntables = 1 + others->nelts;
    tables = apr_palloc(p, sizeof(*tables) * (apr_size_t)ntables);
    kept = apr_palloc(p, sizeof(*kept) * (apr_size_t)ntables);
    tables[0] = rows;
    for (t = 1; t < ntables; t++) {
        tables[t] = APR_ARRAY_IDX(others, t - 1, json_object *);
    }
    for (t = 0; t < ntables; t++) {
        kept[t] = apr_palloc(p, sizeof(**kept) * n);
        for (i = 0; i < n; i++) {
            /* A reference each, so that emptying the table frees none. */
            kept[t][i] = json_object_get(mcp_json_array_get(tables[t], i));
        }
    }
    /* The paging members and the note first, so that the bisection
     * counts them. */
    orig = mcp_json_get_string(result, "note");
    orig = orig != NULL ? apr_pstrdup(p, orig) : NULL;
    paged = json_object_object_get_ex(result, "has_more", NULL);
    offset = (size_t)mcp_arg_int(args, "offset", 0);
    json_object_object_add(result, "has_more", json_object_new_boolean(1));
    if (paged) {
        json_object_object_add(result, "next_offset",
                               json_object_new_int64((int64_t)(offset + n)));
    }
    note_budget(p, result, orig, n, n, budget, paged, args_named);
    k = rows_that_fit(result, tables, kept, ntables, n - 1, limit);
    if (k == 0) {
        keep_rows(tables, kept, ntables, n, n);
    }
    else {
        /* The note and next_offset with the real count (no more digits
         * than the count they replace, so the result still fits). */
        note_budget(p, result, orig, k, n, budget, paged, args_named);
        if (paged) {
            json_object_object_add(result, "next_offset",
                                   json_object_new_int64(
                                       (int64_t)(offset + k)));
        }
        keep_rows(tables, kept, ntables, n, k);
    }
    for (t = 0; t < ntables; t++) {
        for (i = 0; i < n; i++) {
            json_object_put(kept[t][i]);
        }
    }
    if (k == 0) {
        return apr_psprintf(p, "Not one row of the answer fits this "
                            "server's result budget (%" APR_SIZE_T_FMT
                            " bytes, MatomoMcpResultBudget): narrow the "
                            "question with %s", budget, args_named);
    }
    return NULL;
}
