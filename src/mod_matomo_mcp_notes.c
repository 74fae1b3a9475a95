/*
 * The access log's view of a request: r->notes that LogFormat reads as
 * %{mcp-method}n, %{mcp-tool}n, %{mcp-era}n, %{mcp-backend-calls}n,
 * %{mcp-backend-ms}n and %{mcp-error}n (conf/matomo_mcp.conf has an
 * example).  Only the module's own names and numbers: the core names a
 * method or tool only when it is one of its own (src/mcp_stats.h), so a
 * token or an argument value never reaches the log.
 */
#include "mod_matomo_mcp_status.h"

#include <apr_strings.h>

void mcp_notes_set(request_rec *r, const mcp_notes *n)
{
    apr_interval_time_t us = n->backend_time;

    if (n->era != NULL) {
        apr_table_setn(r->notes, "mcp-era", n->era);
    }
    if (n->methods != NULL) {
        apr_table_setn(r->notes, "mcp-method", n->methods);
    }
    if (n->tools != NULL) {
        apr_table_setn(r->notes, "mcp-tool", n->tools);
    }
    if (n->error != NULL) {
        apr_table_setn(r->notes, "mcp-error", n->error);
    }
    apr_table_setn(r->notes, "mcp-backend-calls",
                   apr_itoa(r->pool, n->backend_calls));
    /* Milliseconds with microseconds: most Matomo calls of a warm
     * archive take under one. */
    apr_table_setn(r->notes, "mcp-backend-ms", apr_psprintf(
        r->pool, "%" APR_TIME_T_FMT ".%03" APR_TIME_T_FMT, us / 1000,
        us % 1000));
}
