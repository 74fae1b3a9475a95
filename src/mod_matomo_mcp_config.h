/*
 * Per-directory configuration: the MatomoMcp* directives, their defaults,
 * validation and merging, and the start-up cross-check that every
 * SetHandler matomo-mcp has a backend.
 */
#ifndef MOD_MATOMO_MCP_CONFIG_H
#define MOD_MATOMO_MCP_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "mcp_guard.h"
#include "mcp_matomo.h"
#include "mcp_throttle.h"
#include "mcp_tools.h"

#define MCP_HANDLER_NAME "matomo-mcp"

/* Defaults, applied at use so that "unset" can be told from "set". */
#define MCP_DEFAULT_MAX_REQUEST_BODY     (1024 * 1024)
#define MCP_DEFAULT_CONNECT_TIMEOUT      apr_time_from_sec(5)
#define MCP_DEFAULT_BACKEND_TIMEOUT      apr_time_from_sec(30)
#define MCP_DEFAULT_MAX_BACKEND_RESPONSE (8 * 1024 * 1024)
/* Matomo's 800x400 charts are 2-30 kB; a model pays for an image by
 * its pixels, a client's memory by its bytes (as base64, a third more). */
#define MCP_DEFAULT_MAX_CHART            (1024 * 1024)
/* A heartbeat every 5 s keeps a client's per-request timer (often 60 s,
 * reset by progress) from firing while Matomo archives a long period. */
#define MCP_DEFAULT_PROGRESS_INTERVAL    apr_time_from_sec(5)
/* A subscriptions/listen stream holds a worker thread: the lists it could
 * announce never change, so a minute, and a few per child, are plenty. */
#define MCP_DEFAULT_LISTEN_TIMEOUT       apr_time_from_sec(60)
#define MCP_DEFAULT_LISTEN_MAX           4
/* Refused token checks: Matomo 5 locks an address out after 20 failed
 * logins in 60 minutes (its default), so the whole server stays at half
 * that (shared out among the child processes), and one client gets five
 * tries an hour before it must wait. */
#define MCP_DEFAULT_CHECKS_PER_CLIENT    5
#define MCP_DEFAULT_CHECKS_TOTAL         10
#define MCP_DEFAULT_CHECKS_WINDOW        apr_time_from_sec(3600)
/* Calls in flight to Matomo per child: PHP-FPM pools often run 5-20
 * workers, and Matomo serves the web UI and the tracker too. */
#define MCP_DEFAULT_BACKEND_CONCURRENCY  10
#define MCP_DEFAULT_BACKEND_QUEUE        apr_time_from_sec(5)
/* The breaker opens after five failures in a row, at most for a minute. */
#define MCP_DEFAULT_BREAKER_FAILURES     5
#define MCP_DEFAULT_BREAKER_MAX_OPEN     apr_time_from_sec(60)

typedef struct {
    const char *backend;            /* Matomo's index.php, absolute URL */
    apr_off_t max_request_body;     /* -1: unset */
    apr_interval_time_t connect_timeout;   /* -1: unset */
    apr_interval_time_t backend_timeout;   /* -1: unset */
    apr_off_t max_backend_response; /* -1: unset */
    apr_off_t max_chart;            /* -1: unset */
    apr_array_header_t *allowed_origins;   /* of const char *; NULL: unset */
    apr_array_header_t *allowed_hosts;     /* of const char *; NULL: unset */
    const char *website_url;        /* NULL: the server's own root URL */
    int forwarding;                 /* mcp_forwarding; -1: unset (auto) */
    int verify_tls;                 /* -1: unset (on) */
    const char *backend_socket;     /* Unix socket to Matomo's server */
    apr_array_header_t *authorization_servers; /* NULL: Matomo's base URL */
    apr_array_header_t *scopes;     /* scopes_supported; NULL: none */
    const char *resource_name;      /* NULL: MCP_DEFAULT_RESOURCE_NAME */
    apr_interval_time_t progress_interval; /* -1: unset */
    apr_interval_time_t listen_timeout;    /* -1: unset */
    int listen_max;                 /* streams per child; -1: unset */
    int checks_per_client;          /* MatomoMcpTokenCheckBudget; -1 */
    int checks_total;
    apr_interval_time_t checks_window;
    int forward_client;             /* -1: unset (on) */
    int backend_concurrency;        /* -1: unset */
    apr_interval_time_t backend_queue;     /* -1: unset */
    int breaker_failures;           /* 0: off; -1: unset */
    apr_interval_time_t breaker_max_open;  /* -1: unset */
    apr_off_t result_budget;        /* MatomoMcpResultBudget; -1: unset */
    mcp_tool_set tools_offered;     /* MatomoMcpTools; 0: unset (the
                                     * default set) */
} mcp_dir_conf;

#define MCP_DEFAULT_RESOURCE_NAME "Matomo analytics"

/* Where a size or timeout directive stores its value, and the range it
 * accepts: the directive table's cmd_data points to one of these. */
typedef struct {
    size_t offset;
    apr_off_t min, max;
} mcp_size_limit;

typedef struct {
    size_t offset;
    apr_interval_time_t max;
} mcp_timeout_limit;

/* Directive setters: each validates fully, so that a bad value stops
 * "apachectl -t" with the file and line. */
const char *mcp_config_set_backend(cmd_parms *cmd, void *dconf,
                                   const char *url);
const char *mcp_config_set_size(cmd_parms *cmd, void *dconf,
                                const char *arg);
const char *mcp_config_set_timeout(cmd_parms *cmd, void *dconf,
                                   const char *arg);
const char *mcp_config_set_listen_max(cmd_parms *cmd, void *dconf,
                                      const char *arg);
const char *mcp_config_set_check_budget(cmd_parms *cmd, void *dconf,
                                        const char *per_client,
                                        const char *total,
                                        const char *window);
const char *mcp_config_set_forward_client(cmd_parms *cmd, void *dconf,
                                          int on);
const char *mcp_config_set_concurrency(cmd_parms *cmd, void *dconf,
                                       const char *n, const char *wait);
const char *mcp_config_set_breaker(cmd_parms *cmd, void *dconf,
                                   const char *failures,
                                   const char *max_open);
const char *mcp_config_add_origin(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *mcp_config_add_tools(cmd_parms *cmd, void *dconf,
                                const char *arg);
const char *mcp_config_add_host(cmd_parms *cmd, void *dconf,
                                const char *arg);
const char *mcp_config_set_website_url(cmd_parms *cmd, void *dconf,
                                       const char *url);
const char *mcp_config_set_forwarding(cmd_parms *cmd, void *dconf,
                                      const char *arg);
const char *mcp_config_set_verify_tls(cmd_parms *cmd, void *dconf, int on);
const char *mcp_config_set_socket(cmd_parms *cmd, void *dconf,
                                  const char *path);
const char *mcp_config_add_auth_server(cmd_parms *cmd, void *dconf,
                                       const char *url);
const char *mcp_config_add_scope(cmd_parms *cmd, void *dconf,
                                 const char *scope);
const char *mcp_config_set_resource_name(cmd_parms *cmd, void *dconf,
                                         const char *name);

void *mcp_config_create_dir(apr_pool_t *p, char *dir);
void *mcp_config_merge_dir(apr_pool_t *p, void *base, void *add);

/* Effective values with defaults applied. */
apr_off_t mcp_config_max_request_body(const mcp_dir_conf *conf);
apr_interval_time_t mcp_config_connect_timeout(const mcp_dir_conf *conf);
apr_interval_time_t mcp_config_backend_timeout(const mcp_dir_conf *conf);
apr_off_t mcp_config_max_backend_response(const mcp_dir_conf *conf);
apr_off_t mcp_config_max_chart(const mcp_dir_conf *conf);
apr_interval_time_t mcp_config_progress_interval(const mcp_dir_conf *conf);
apr_size_t mcp_config_result_budget(const mcp_dir_conf *conf);
apr_interval_time_t mcp_config_listen_timeout(const mcp_dir_conf *conf);
int mcp_config_listen_max(const mcp_dir_conf *conf);

/* The token-check budget and the Matomo load limits, defaults applied;
 * the total is shared out among children (at least one each). */
void mcp_config_guard(const mcp_dir_conf *conf, int children,
                      mcp_guard_budget *budget,
                      mcp_throttle_limits *limits);

/* The Matomo backend as the client core wants it, defaults applied (no
 * X-Forwarded-For: that is the request's). */
void mcp_config_backend(const mcp_dir_conf *conf, mcp_matomo_backend *out);

/* Walks the parsed configuration: each "SetHandler matomo-mcp" must see a
 * MatomoMcpBackend in its own section or an enclosing one.  Returns NULL or
 * a message naming the file and line. */
const char *mcp_config_check_tree(apr_pool_t *p, const ap_directive_t *tree);

#endif
