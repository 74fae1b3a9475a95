#include "mod_matomo_mcp_status.h"
#include "mcp_server.h"
#include "mcp_tools.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <apr_optional_hooks.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_mpm.h>
#include <mod_status.h>
#include <scoreboard.h>

APLOG_USE_MODULE(matomo_mcp);

/* The block survives the module's unloading on a restart in the parent's
 * process pool, found again under this key. */
#define STATS_KEY "matomo_mcp_stats"

/* Set in the parent (post_config) and inherited by the children. */
static mcp_stats *stats;
/* This child's part of it. */
static mcp_stats_slot *own_slot;
/* A shared cache is configured (set in the parent, like stats). */
static int cache_configured;

void mcp_status_note_cache(int configured)
{
    cache_configured = configured;
}

mcp_stats_slot *mcp_status_slot(void)
{
    return own_slot;
}

static int counters_wanted(void)
{
    return ap_extended_status
           && ap_find_linked_module("mod_status.c") != NULL;
}

/* The block of an earlier configuration (a graceful restart), or a new
 * one: a slot per process the MPM may run at once (ServerLimit: processes
 * finishing a graceful restart hold scoreboard slots too), and one more,
 * shared once all are held (a crashed child not yet reaped still holds
 * its own).  About 14 kB a slot. */
static apr_status_t stats_block(server_rec *s, mcp_stats **out)
{
    apr_pool_t *pp = s->process->pool;
    apr_shm_t *shm = NULL;
    int daemons = 1;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&shm, STATS_KEY, pp);
    if (shm != NULL && (*out = mcp_stats_attach(apr_shm_baseaddr_get(shm),
                                                apr_shm_size_get(shm)))
                           != NULL) {
        return APR_SUCCESS;
    }
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons) != APR_SUCCESS
        || daemons < 1) {
        daemons = 1;
    }
    rv = apr_shm_create(&shm, mcp_stats_size(daemons + 1), NULL, pp);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = mcp_stats_init(apr_shm_baseaddr_get(shm), daemons + 1);
    apr_pool_userdata_set(shm, STATS_KEY, apr_pool_cleanup_null, pp);
    return APR_SUCCESS;
}

static int status_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    apr_status_t rv;

    (void)pconf;
    (void)plog;
    (void)ptemp;
    stats = NULL;
    /* httpd reads its configuration twice at start-up: the first pass
     * only checks it. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || !counters_wanted()) {
        return OK;
    }
    if (!mcp_stats_fits(mcp_tools_count, mcp_server_method_count())) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "the status counters "
                     "have no room for %d tools and %d methods: raise "
                     "MCP_STATS_TOOLS_MAX or MCP_STATS_METHODS_MAX",
                     mcp_tools_count, mcp_server_method_count());
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = stats_block(s, &stats);
    if (rv != APR_SUCCESS) {
        /* Serving matters more than counting. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "no shared memory "
                     "for the module's /server-status counters");
        stats = NULL;
    }
    return OK;
}

/* A start or a full restart (httpd skips this hook on a graceful one):
 * the counters start again from zero, as httpd's own do. */
static int status_pre_mpm(apr_pool_t *p, ap_scoreboard_e sb_type)
{
    (void)p;
    (void)sb_type;
    if (stats != NULL) {
        mcp_stats_reset(stats);
    }
    return OK;
}

static int process_alive(apr_uint32_t pid)
{
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

static apr_status_t release_slot(void *slot)
{
    mcp_stats_release(slot, (apr_uint32_t)getpid());
    own_slot = NULL;
    return APR_SUCCESS;
}

static void status_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)s;
    if (stats == NULL) {
        own_slot = NULL;
        return;
    }
    own_slot = mcp_stats_claim(stats, (apr_uint32_t)getpid(),
                               process_alive);
    apr_pool_cleanup_register(pchild, own_slot, release_slot,
                              apr_pool_cleanup_null);
}

static apr_status_t stream_closed(void *slot)
{
    mcp_stats_stream(slot, -1);
    return APR_SUCCESS;
}

void mcp_status_stream_opened(request_rec *r)
{
    if (own_slot != NULL) {
        mcp_stats_stream(own_slot, +1);
        apr_pool_cleanup_register(r->pool, own_slot, stream_closed,
                                  apr_pool_cleanup_null);
    }
}

/* --- the report --------------------------------------------------------- */

static const char *const era_names[MCP_STATS_ERAS] = {
    "legacy", "modern", "none"
};

static const char *message_kind(int i)
{
    int n = mcp_server_method_count();

    return i < n ? mcp_server_method_name(i)
           : i == MCP_STATS_OTHER_METHOD(n) ? "unknown"
           : i == MCP_STATS_NOTIFICATION(n) ? "notification"
           : i == MCP_STATS_INVALID(n) ? "invalid" : NULL;
}

static const char *latency(apr_pool_t *p, const apr_uint64_t *hist,
                           double q)
{
    double ms = mcp_stats_quantile_ms(hist, q);

    return ms < 0 ? NULL : apr_psprintf(p, "%.2f", ms);
}

/* ?auto: one "Key: value" line each. */
static void report_short(request_rec *r, const mcp_stats_totals *t)
{
    int i, j;

    ap_rprintf(r, "MatomoMcpRequests: %" APR_UINT64_T_FMT "\n", t->requests);
    for (i = 0; i < MCP_STATS_ERAS; i++) {
        for (j = 0; message_kind(j) != NULL; j++) {
            if (t->messages[i][j] > 0) {
                ap_rprintf(r, "MatomoMcpMessages.%s.%s: %" APR_UINT64_T_FMT
                           "\n", era_names[i], message_kind(j),
                           t->messages[i][j]);
            }
        }
    }
    for (i = 0; i < mcp_tools_count; i++) {
        const char *name = mcp_tools[i].name;
        const char *p50 = latency(r->pool, t->tool_latency[i], 0.50);
        const char *p95 = latency(r->pool, t->tool_latency[i], 0.95);

        ap_rprintf(r, "MatomoMcpToolCalls.%s: %" APR_UINT64_T_FMT "\n"
                   "MatomoMcpToolErrors.%s: %" APR_UINT64_T_FMT "\n",
                   name, t->tool_calls[i], name, t->tool_errors[i]);
        if (p50 != NULL) {
            ap_rprintf(r, "MatomoMcpToolBackendP50Ms.%s: %s\n"
                       "MatomoMcpToolBackendP95Ms.%s: %s\n",
                       name, p50, name, p95);
        }
    }
    for (i = 0; i < MCP_FAIL_CLASSES; i++) {
        ap_rprintf(r, "MatomoMcpBackendFailures.%s: %" APR_UINT64_T_FMT "\n",
                   mcp_stats_failure_name(i), t->failures[i]);
    }
    ap_rprintf(r, "MatomoMcpTokenChecks: %" APR_UINT64_T_FMT "\n"
               "MatomoMcpTokenChecksRefused: %" APR_UINT64_T_FMT "\n"
               "MatomoMcpTokenVerdictsRemembered: %" APR_UINT64_T_FMT "\n",
               t->tokens[MCP_TOKEN_CHECKED], t->tokens[MCP_TOKEN_REFUSED],
               t->tokens[MCP_TOKEN_REMEMBERED]);
    if (cache_configured) {
        ap_rprintf(r, "MatomoMcpCacheHits: %" APR_UINT64_T_FMT "\n"
                   "MatomoMcpCacheMisses: %" APR_UINT64_T_FMT "\n",
                   t->cache_hits, t->cache_misses);
    }
    ap_rprintf(r, "MatomoMcpOpenStreams: %" APR_INT64_T_FMT "\n"
               "MatomoMcpProcesses: %d\n", t->streams, t->slots_in_use);
}

static void table_row(request_rec *r, const char *name, apr_uint64_t n)
{
    ap_rprintf(r, "<tr><td>%s</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
               ap_escape_html(r->pool, name), n);
}

static void report_messages(request_rec *r, const mcp_stats_totals *t)
{
    int i, j;

    ap_rputs("<table border=\"0\"><tr><th>message</th><th>legacy</th>"
             "<th>modern</th><th>no era</th></tr>\n", r);
    for (j = 0; message_kind(j) != NULL; j++) {
        ap_rprintf(r, "<tr><td>%s</td>",
                   ap_escape_html(r->pool, message_kind(j)));
        for (i = 0; i < MCP_STATS_ERAS; i++) {
            ap_rprintf(r, "<td>%" APR_UINT64_T_FMT "</td>",
                       t->messages[i][j]);
        }
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("</table>\n", r);
}

static void report_tools(request_rec *r, const mcp_stats_totals *t)
{
    int i;

    ap_rputs("<table border=\"0\"><tr><th>tool</th><th>calls</th>"
             "<th>tool errors</th><th>Matomo p50 (ms)</th>"
             "<th>Matomo p95 (ms)</th></tr>\n", r);
    for (i = 0; i < mcp_tools_count; i++) {
        const char *p50 = latency(r->pool, t->tool_latency[i], 0.50);
        const char *p95 = latency(r->pool, t->tool_latency[i], 0.95);

        ap_rprintf(r, "<tr><td>%s</td><td>%" APR_UINT64_T_FMT "</td><td>%"
                   APR_UINT64_T_FMT "</td><td>%s</td><td>%s</td></tr>\n",
                   ap_escape_html(r->pool, mcp_tools[i].name),
                   t->tool_calls[i], t->tool_errors[i],
                   p50 != NULL ? p50 : "-", p95 != NULL ? p95 : "-");
    }
    ap_rputs("</table>\n", r);
}

static void report_html(request_rec *r, const mcp_stats_totals *t)
{
    int i;

    ap_rprintf(r, "<hr />\n<h2>Matomo MCP</h2>\n<p>Since the last full "
               "restart, all %d child processes counting now together: "
               "%" APR_UINT64_T_FMT " requests, %" APR_INT64_T_FMT
               " event streams open. Latencies are the time a tool call "
               "waited for Matomo, as bucket bounds (at most 25%% "
               "above).</p>\n", t->slots_in_use, t->requests, t->streams);
    report_messages(r, t);
    report_tools(r, t);
    ap_rputs("<table border=\"0\"><tr><th>Matomo failures</th><th>count"
             "</th></tr>\n", r);
    for (i = 0; i < MCP_FAIL_CLASSES; i++) {
        table_row(r, mcp_stats_failure_name(i), t->failures[i]);
    }
    table_row(r, "token checks sent", t->tokens[MCP_TOKEN_CHECKED]);
    table_row(r, "token checks refused", t->tokens[MCP_TOKEN_REFUSED]);
    table_row(r, "token verdicts remembered", t->tokens[MCP_TOKEN_REMEMBERED]);
    if (cache_configured) {
        table_row(r, "cache hits", t->cache_hits);
        table_row(r, "cache misses", t->cache_misses);
    }
    ap_rputs("</table>\n", r);
}

static int status_hook(request_rec *r, int flags)
{
    mcp_stats_totals *t;

    if (stats == NULL) {
        if (!(flags & AP_STATUS_SHORT)) {
            ap_rputs("<hr />\n<h2>Matomo MCP</h2>\n<p>No counters: they are "
                     "kept with ExtendedStatus On.</p>\n", r);
        }
        return OK;
    }
    /* About 15 kB: on the pool, not the stack. */
    t = apr_palloc(r->pool, sizeof(*t));
    mcp_stats_sum(stats, t);
    if (flags & AP_STATUS_SHORT) {
        report_short(r, t);
    }
    else if (flags & AP_STATUS_NOTABLE) {
        ap_rputs("<hr />\n<h2>Matomo MCP</h2>\n<pre>", r);
        report_short(r, t);
        ap_rputs("</pre>\n", r);
    }
    else {
        report_html(r, t);
    }
    return OK;
}

void mcp_status_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(status_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_mpm(status_pre_mpm, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(status_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
