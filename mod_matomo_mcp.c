/*
 * mod_matomo_mcp: answers the Model Context Protocol on a <Location> of the
 * Apache that serves Matomo, and turns tool calls into read-only Matomo
 * Reporting API calls made with the caller's own token.
 *
 * This file is the httpd glue only: the module record, the directive table,
 * the hooks and the handler entry.  The work lives in src/.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_mpm.h>
#include <http_protocol.h>

#include <curl/curl.h>

#include "src/mod_matomo_mcp_cache.h"
#include "src/mod_matomo_mcp_config.h"
#include "src/mcp_json.h"
#include "src/mcp_server.h"
#include "src/mcp_tools.h"
#include "src/mod_matomo_mcp_status.h"
#include "src/mod_matomo_mcp_transport.h"

/* Only the module record is exported (the build hides everything else):
 * httpd loads every module into one global symbol namespace. */
extern module __attribute__((visibility("default"))) matomo_mcp_module;

/* Verdicts on tokens are remembered this long, per child process. */
#define MCP_VERDICT_TTL      apr_time_from_sec(60)
#define MCP_VERDICT_CAPACITY 256

/* The catalog is built in post_config, before the children fork; the
 * verdict cache in child_init.  Read-only after that (the cache locks). */
static mcp_process process;

static int mcp_handler(request_rec *r)
{
    const mcp_dir_conf *conf;
    size_t n = strlen(MCP_METADATA_PATH);

    if (strncmp(r->uri, MCP_METADATA_PATH, n) == 0
        && (r->uri[n] == '\0' || r->uri[n] == '/')) {
        return mcp_transport_metadata(r, &matomo_mcp_module);
    }
    if (r->handler == NULL || strcmp(r->handler, MCP_HANDLER_NAME) != 0) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &matomo_mcp_module);
    if (conf->backend == NULL) {
        /* Only .htaccess can get here: the start-up check saw the rest. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SetHandler %s without MatomoMcpBackend for %s",
                      MCP_HANDLER_NAME, r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return mcp_transport_handle(r, conf, &process);
}

/* Runs for "apachectl -t" as well as at start-up, before the logs open:
 * a handler without backend stops both, naming file and line. */
static int mcp_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    const char *err = mcp_config_check_tree(ptemp, ap_conftree);

    (void)pconf;
    (void)plog;
    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int mcp_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    mcp_cache_pre_config(pconf);
    return OK;
}

static apr_status_t curl_cleanup(void *unused)
{
    (void)unused;
    curl_global_cleanup();
    return APR_SUCCESS;
}

static int mcp_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    mcp_catalog *built;
    const char *err;

    (void)plog;
    (void)ptemp;
    err = mcp_catalog_build(pconf, &mcp_tool_definitions, mcp_tools,
                            mcp_tools_count, MCP_TOOLS_PAGE_SIZE, &built);
    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* tools/list pages built once for what most requests ask: the default
     * set (every tool but those offered only on request). */
    mcp_catalog_paginate(pconf, built, mcp_tool_set_default());
    /* libcurl's global set-up is not thread-safe: do it here, in the
     * single-threaded parent, and undo it when this configuration goes
     * (the module may be unloaded on restart). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "curl_global_init failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, curl_cleanup,
                              apr_pool_cleanup_null);
    process.catalog = built;
    err = mcp_cache_post_config(pconf, s);
    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void mcp_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv = mcp_verdict_cache_create(pchild, MCP_VERDICT_CAPACITY,
                                               MCP_VERDICT_TTL,
                                               &process.verdicts);

    if (rv != APR_SUCCESS) {
        /* Every initialize then asks Matomo: slower, still correct. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "no token verdict cache in this child");
        process.verdicts = NULL;
    }
    process.pool = pchild;
    process.cache = mcp_cache_child_init(pchild, s);
    mcp_cache_ttls(&process.cache_ttl);
    process.protections = apr_hash_make(pchild);
    rv = apr_thread_mutex_create(&process.lock, APR_THREAD_MUTEX_DEFAULT,
                                 pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "no token-check "
                     "budget or Matomo load limit in this child");
        process.lock = NULL;
    }
    if (ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &process.children) != APR_SUCCESS
        || process.children < 1) {
        process.children = 1;
    }
    rv = mcp_json_cache_enable(pchild);
    if (rv != APR_SUCCESS) {
        /* Each parse then sets up its own parser: slower, still correct. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "no per-thread JSON parser cache in this child");
    }
}

static void mcp_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(mcp_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(mcp_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(mcp_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(mcp_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(mcp_handler, NULL, NULL, APR_HOOK_MIDDLE);
    mcp_status_register(p);
}

/* Where the limits live in mcp_dir_conf, and the ranges a setter accepts. */
static const mcp_size_limit max_request_body = {
    APR_OFFSETOF(mcp_dir_conf, max_request_body), 1024, 64 * 1024 * 1024
}, max_backend_response = {
    APR_OFFSETOF(mcp_dir_conf, max_backend_response), 64 * 1024,
    (apr_off_t)1024 * 1024 * 1024
}, max_chart = {
    APR_OFFSETOF(mcp_dir_conf, max_chart), 1024, 16 * 1024 * 1024
}, result_budget = {
    /* Below 4K not even an error message with its note would fit. */
    APR_OFFSETOF(mcp_dir_conf, result_budget), 4096, 64 * 1024 * 1024
};

static const mcp_timeout_limit connect_timeout = {
    APR_OFFSETOF(mcp_dir_conf, connect_timeout), apr_time_from_sec(60)
}, backend_timeout = {
    APR_OFFSETOF(mcp_dir_conf, backend_timeout), apr_time_from_sec(600)
}, progress_interval = {
    APR_OFFSETOF(mcp_dir_conf, progress_interval), apr_time_from_sec(300)
}, listen_timeout = {
    APR_OFFSETOF(mcp_dir_conf, listen_timeout), apr_time_from_sec(3600)
};

static const mcp_size_limit cache_max_entry = {
    APR_OFFSETOF(mcp_cache_conf, max_entry), 1024, 64 * 1024 * 1024
};

/* OR_FILEINFO: like SetHandler, these work in the server configuration,
 * in <Location>/<Directory> and in .htaccess under AllowOverride FileInfo,
 * so a Matomo admin on shared hosting can set the module up. */
static const command_rec mcp_directives[] = {
    AP_INIT_TAKE1("MatomoMcpBackend", mcp_config_set_backend, NULL,
                  OR_FILEINFO,
                  "Matomo's API endpoint: http(s)://host/path/index.php "
                  "(or the Matomo base URL ending in /)"),
    AP_INIT_TAKE1("MatomoMcpMaxRequestBody", mcp_config_set_size,
                  (void *)&max_request_body, OR_FILEINFO,
                  "Largest MCP request body accepted, in bytes "
                  "(K/M suffixes; default 1M)"),
    AP_INIT_TAKE1("MatomoMcpBackendConnectTimeout", mcp_config_set_timeout,
                  (void *)&connect_timeout, OR_FILEINFO,
                  "Time allowed to connect to Matomo (default 5s)"),
    AP_INIT_TAKE1("MatomoMcpBackendTimeout", mcp_config_set_timeout,
                  (void *)&backend_timeout, OR_FILEINFO,
                  "Time allowed for one whole Matomo API call (default 30s)"),
    AP_INIT_TAKE1("MatomoMcpMaxBackendResponse", mcp_config_set_size,
                  (void *)&max_backend_response, OR_FILEINFO,
                  "Largest Matomo answer read, in bytes (default 8M)"),
    AP_INIT_TAKE1("MatomoMcpMaxChartSize", mcp_config_set_size,
                  (void *)&max_chart, OR_FILEINFO,
                  "Largest chart (a PNG Matomo draws) put in a tool result, "
                  "in bytes (default 1M, never above "
                  "MatomoMcpMaxBackendResponse)"),
    AP_INIT_ITERATE("MatomoMcpTools", mcp_config_add_tools, NULL,
                    OR_FILEINFO,
                    "The tools this endpoint offers: tool names or groups "
                    "(traffic, reports, technical, raw); default every tool "
                    "but matomo_api_read"),
    AP_INIT_TAKE1("MatomoMcpResultBudget", mcp_config_set_size,
                  (void *)&result_budget, OR_FILEINFO,
                  "Largest tool result, in bytes of JSON: more rows are "
                  "left for a next page (default 32K, under the smallest "
                  "known client limit)"),
    AP_INIT_TAKE1("MatomoMcpProgressInterval", mcp_config_set_timeout,
                  (void *)&progress_interval, OR_FILEINFO,
                  "Heartbeat period of progress notifications while Matomo "
                  "computes (default 5s)"),
    AP_INIT_ITERATE("MatomoMcpAllowedOrigins", mcp_config_add_origin, NULL,
                    OR_FILEINFO,
                    "Origins (scheme://host[:port]) besides this server's own "
                    "that may call the endpoint from a browser"),
    AP_INIT_ITERATE("MatomoMcpAllowedHosts", mcp_config_add_host, NULL,
                    OR_FILEINFO,
                    "Host names besides ServerName, ServerAlias and loopback "
                    "that requests may be addressed to"),
    AP_INIT_TAKE1("MatomoMcpWebsiteUrl", mcp_config_set_website_url, NULL,
                  OR_FILEINFO,
                  "serverInfo.websiteUrl shown to clients (default: this "
                  "server's root URL)"),
    AP_INIT_TAKE1("MatomoMcpTokenForwarding", mcp_config_set_forwarding, NULL,
                  OR_FILEINFO,
                  "How the caller's token reaches Matomo: auto (OAuth JWTs "
                  "in the Authorization header, token_auth in the POST "
                  "body), token_auth or bearer"),
    AP_INIT_ITERATE("MatomoMcpAuthorizationServers",
                    mcp_config_add_auth_server, NULL, OR_FILEINFO,
                    "OAuth authorization server URLs for the protected "
                    "resource metadata (default: Matomo's base URL)"),
    AP_INIT_ITERATE("MatomoMcpScopes", mcp_config_add_scope, NULL,
                    OR_FILEINFO,
                    "OAuth scopes listed in the protected resource metadata"),
    AP_INIT_TAKE1("MatomoMcpResourceName", mcp_config_set_resource_name,
                  NULL, OR_FILEINFO,
                  "resource_name in the protected resource metadata"),
    /* Not in .htaccess: they weaken or redirect the connection to Matomo,
     * which is the server administrator's call. */
    AP_INIT_FLAG("MatomoMcpBackendVerifyTLS", mcp_config_set_verify_tls, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "Verify Matomo's TLS certificate (default On)"),
    AP_INIT_TAKE1("MatomoMcpBackendSocket", mcp_config_set_socket, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "Reach Matomo's web server through this Unix socket"),
    /* Not in .htaccess either: each open stream holds a worker thread. */
    AP_INIT_TAKE1("MatomoMcpListenTimeout", mcp_config_set_timeout,
                  (void *)&listen_timeout, RSRC_CONF | ACCESS_CONF,
                  "How long a subscriptions/listen stream stays open "
                  "(default 60s)"),
    AP_INIT_TAKE1("MatomoMcpListenMax", mcp_config_set_listen_max, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "subscriptions/listen streams open at once per child "
                  "process (default 4)"),
    /* What protects Matomo: the server administrator's call too. */
    AP_INIT_TAKE23("MatomoMcpTokenCheckBudget", mcp_config_set_check_budget,
                   NULL, RSRC_CONF | ACCESS_CONF,
                   "Refused token checks per client address and in total, "
                   "per window (default 5 10 1h)"),
    AP_INIT_FLAG("MatomoMcpForwardClientAddress",
                 mcp_config_set_forward_client, NULL, RSRC_CONF | ACCESS_CONF,
                 "Send the caller's address to Matomo in X-Forwarded-For "
                 "(default On)"),
    AP_INIT_TAKE12("MatomoMcpBackendConcurrency", mcp_config_set_concurrency,
                   NULL, RSRC_CONF | ACCESS_CONF,
                   "Matomo calls in flight per child, and how long one more "
                   "waits (default 10 5s)"),
    AP_INIT_TAKE12("MatomoMcpCircuitBreaker", mcp_config_set_breaker, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "Failures in a row that pause calls to Matomo, and the "
                   "longest pause, or Off (default 5 60s)"),
    /* The shared cache: server-wide (the main server configuration
     * only), as httpd's socache users are. */
    AP_INIT_TAKE1("MatomoMcpCache", mcp_cache_set_provider, NULL, RSRC_CONF,
                  "Shared cache of Matomo answers and token verdicts: an "
                  "socache provider and its arguments (shmcb:/path(SIZE), "
                  "redis:host:port, memcache:host:port) or none"),
    AP_INIT_TAKE_ARGV("MatomoMcpCacheTTL", mcp_cache_set_ttl, NULL,
                      RSRC_CONF,
                      "How long answers are cached: complete past periods, "
                      "periods that may include today, per-site facts "
                      "(default 1h 60s 5mi; 0: not cached)"),
    AP_INIT_TAKE1("MatomoMcpCacheMaxEntry", mcp_cache_set_max_entry,
                  (void *)&cache_max_entry, RSRC_CONF,
                  "Largest answer stored in the cache (default 512K)"),
    AP_INIT_TAKE1("MatomoMcpCacheSecret", mcp_cache_set_secret, NULL,
                  RSRC_CONF,
                  "Salt of the token hashes in cache keys: the same on "
                  "every node sharing the cache (default: made up at "
                  "start-up, per Apache)"),
    { NULL }
};

AP_DECLARE_MODULE(matomo_mcp) = {
    STANDARD20_MODULE_STUFF,
    mcp_config_create_dir,
    mcp_config_merge_dir,
    NULL,
    NULL,
    mcp_directives,
    mcp_register_hooks,
    AP_MODULE_FLAG_ALWAYS_MERGE
};
