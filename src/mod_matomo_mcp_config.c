#include "mod_matomo_mcp_config.h"
#include "mcp_budget.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include <http_core.h>

#include <curl/curl.h>

#include <stddef.h>

void *mcp_config_create_dir(apr_pool_t *p, char *dir)
{
    mcp_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    (void)dir;
    conf->max_request_body = -1;
    conf->connect_timeout = -1;
    conf->backend_timeout = -1;
    conf->max_backend_response = -1;
    conf->max_chart = -1;
    conf->forwarding = -1;
    conf->verify_tls = -1;
    conf->progress_interval = -1;
    conf->listen_timeout = -1;
    conf->listen_max = -1;
    conf->checks_per_client = -1;
    conf->checks_total = -1;
    conf->checks_window = -1;
    conf->forward_client = -1;
    conf->backend_concurrency = -1;
    conf->backend_queue = -1;
    conf->breaker_failures = -1;
    conf->breaker_max_open = -1;
    conf->result_budget = -1;
    return conf;
}

#define MERGE_PTR(f)  (add->f != NULL ? add->f : base->f)
#define MERGE_NUM(f)  (add->f != -1 ? add->f : base->f)

void *mcp_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const mcp_dir_conf *base = basev, *add = addv;
    mcp_dir_conf *conf = apr_palloc(p, sizeof(*conf));

    conf->backend = MERGE_PTR(backend);
    conf->max_request_body = MERGE_NUM(max_request_body);
    conf->connect_timeout = MERGE_NUM(connect_timeout);
    conf->backend_timeout = MERGE_NUM(backend_timeout);
    conf->max_backend_response = MERGE_NUM(max_backend_response);
    conf->max_chart = MERGE_NUM(max_chart);
    conf->allowed_origins = MERGE_PTR(allowed_origins);
    conf->allowed_hosts = MERGE_PTR(allowed_hosts);
    conf->website_url = MERGE_PTR(website_url);
    conf->forwarding = MERGE_NUM(forwarding);
    conf->verify_tls = MERGE_NUM(verify_tls);
    conf->backend_socket = MERGE_PTR(backend_socket);
    conf->authorization_servers = MERGE_PTR(authorization_servers);
    conf->scopes = MERGE_PTR(scopes);
    conf->resource_name = MERGE_PTR(resource_name);
    conf->progress_interval = MERGE_NUM(progress_interval);
    conf->listen_timeout = MERGE_NUM(listen_timeout);
    conf->listen_max = MERGE_NUM(listen_max);
    conf->checks_per_client = MERGE_NUM(checks_per_client);
    conf->checks_total = MERGE_NUM(checks_total);
    conf->checks_window = MERGE_NUM(checks_window);
    conf->forward_client = MERGE_NUM(forward_client);
    conf->backend_concurrency = MERGE_NUM(backend_concurrency);
    conf->backend_queue = MERGE_NUM(backend_queue);
    conf->breaker_failures = MERGE_NUM(breaker_failures);
    conf->breaker_max_open = MERGE_NUM(breaker_max_open);
    conf->result_budget = MERGE_NUM(result_budget);
    conf->tools_offered = add->tools_offered != 0 ? add->tools_offered
                                                  : base->tools_offered;
    return conf;
}

/* An unset value (-1) is the default's. */
#define OR_DEFAULT(v, d) ((v) != -1 ? (v) : (d))

apr_off_t mcp_config_max_request_body(const mcp_dir_conf *conf)
{
    return OR_DEFAULT(conf->max_request_body, MCP_DEFAULT_MAX_REQUEST_BODY);
}

apr_interval_time_t mcp_config_connect_timeout(const mcp_dir_conf *conf)
{
    return OR_DEFAULT(conf->connect_timeout, MCP_DEFAULT_CONNECT_TIMEOUT);
}

apr_interval_time_t mcp_config_progress_interval(const mcp_dir_conf *conf)
{
    return OR_DEFAULT(conf->progress_interval, MCP_DEFAULT_PROGRESS_INTERVAL);
}

apr_size_t mcp_config_result_budget(const mcp_dir_conf *conf)
{
    return (apr_size_t)OR_DEFAULT(conf->result_budget,
                                  MCP_DEFAULT_RESULT_BUDGET);
}

apr_interval_time_t mcp_config_listen_timeout(const mcp_dir_conf *conf)
{
    return OR_DEFAULT(conf->listen_timeout, MCP_DEFAULT_LISTEN_TIMEOUT);
}

int mcp_config_listen_max(const mcp_dir_conf *conf)
{
    return OR_DEFAULT(conf->listen_max, MCP_DEFAULT_LISTEN_MAX);
}

void mcp_config_guard(const mcp_dir_conf *conf, int children,
                      mcp_guard_budget *budget,
                      mcp_throttle_limits *limits)
{
    int total = OR_DEFAULT(conf->checks_total, MCP_DEFAULT_CHECKS_TOTAL);

    budget->per_client = OR_DEFAULT(conf->checks_per_client,
                                    MCP_DEFAULT_CHECKS_PER_CLIENT);
    budget->total = total / children > 0 ? total / children : 1;
    budget->window = OR_DEFAULT(conf->checks_window,
                                MCP_DEFAULT_CHECKS_WINDOW);
    limits->max_in_flight = OR_DEFAULT(conf->backend_concurrency,
                                       MCP_DEFAULT_BACKEND_CONCURRENCY);
    limits->max_wait = OR_DEFAULT(conf->backend_queue,
                                  MCP_DEFAULT_BACKEND_QUEUE);
    limits->failures = OR_DEFAULT(conf->breaker_failures,
                                  MCP_DEFAULT_BREAKER_FAILURES);
    limits->max_open = OR_DEFAULT(conf->breaker_max_open,
                                  MCP_DEFAULT_BREAKER_MAX_OPEN);
}

apr_interval_time_t mcp_config_backend_timeout(const mcp_dir_conf *conf)
{
    return OR_DEFAULT(conf->backend_timeout, MCP_DEFAULT_BACKEND_TIMEOUT);
}

apr_off_t mcp_config_max_backend_response(const mcp_dir_conf *conf)
{
    return OR_DEFAULT(conf->max_backend_response,
                      MCP_DEFAULT_MAX_BACKEND_RESPONSE);
}

apr_off_t mcp_config_max_chart(const mcp_dir_conf *conf)
{
    return OR_DEFAULT(conf->max_chart, MCP_DEFAULT_MAX_CHART);
}

void mcp_config_backend(const mcp_dir_conf *conf, mcp_matomo_backend *out)
{
    out->url = conf->backend;
    out->connect_timeout = mcp_config_connect_timeout(conf);
    out->timeout = mcp_config_backend_timeout(conf);
    out->max_response = mcp_config_max_backend_response(conf);
    out->max_chart = mcp_config_max_chart(conf);
    out->verify_tls = conf->verify_tls != 0;
    out->unix_socket = conf->backend_socket;
    out->forwarding = conf->forwarding != -1 ? (mcp_forwarding)conf->forwarding
                                             : MCP_FORWARD_AUTO;
    out->forwarded_for = NULL;      /* the caller's, set per request */
}

/* An absolute http(s) URL with a host, and nothing that does not belong in
 * a server-side endpoint: no credentials, no query, no fragment. */
static const char *check_http_url(apr_pool_t *p, const char *directive,
                                  const char *url, apr_uri_t *uri)
{
    if (apr_uri_parse(p, url, uri) != APR_SUCCESS || uri->scheme == NULL
        || (strcasecmp(uri->scheme, "http") != 0
            && strcasecmp(uri->scheme, "https") != 0)
        || uri->hostname == NULL || *uri->hostname == '\0') {
        return apr_psprintf(p, "%s: '%s' is not an absolute http:// or "
                               "https:// URL", directive, url);
    }
    if (uri->user != NULL || uri->password != NULL) {
        return apr_psprintf(p, "%s: credentials do not belong in the URL; "
                               "each caller's own token is used", directive);
    }
    if (uri->query != NULL || uri->fragment != NULL) {
        return apr_psprintf(p, "%s: the URL must not have a query string or "
                               "a fragment", directive);
    }
    return NULL;
}

/* Not uri->port: apr_uri_parse wraps 65536 and up into 16 bits, and takes
 * an empty port for the default. */
static int is_port(const char *digits)
{
    size_t n = strlen(digits);

    return n > 0 && n <= 5 && strspn(digits, "0123456789") == n
           && apr_atoi64(digits) >= 1 && apr_atoi64(digits) <= 65535;
}

static int has_bad_escape(const char *s)
{
    for (s = strchr(s, '%'); s != NULL; s = strchr(s + 1, '%')) {
        if (!apr_isxdigit(s[1]) || !apr_isxdigit(s[2])) {
            return 1;
        }
    }
    return 0;
}

/* libcurl's own parser decides what it will send each call; apr_uri_parse
 * is more lenient, so a URL it passes could fail every call.  An empty or
 * zero port and a '%' without two hex digits libcurl lets through, but
 * they can only be mistakes (Matomo's web server answers 400 to the
 * latter). */
static const char *check_backend_url(apr_pool_t *p, const char *directive,
                                     const char *url, const apr_uri_t *uri)
{
    CURLU *h;
    CURLUcode rc;

    if (uri->port_str != NULL && !is_port(uri->port_str)) {
        return apr_psprintf(p, "%s: '%s' has no valid port (1-65535; "
                            "without ':' the scheme's default)", directive,
                            url);
    }
    if (has_bad_escape(url)) {
        return apr_psprintf(p, "%s: '%s' has a '%%' not followed by two hex "
                            "digits (write %%25 for a '%%' itself)", directive,
                            url);
    }
    h = curl_url();
    rc = h != NULL ? curl_url_set(h, CURLUPART_URL, url, 0)
                   : CURLUE_OUT_OF_MEMORY;
    curl_url_cleanup(h);
    if (rc != CURLUE_OK) {
        return apr_psprintf(p, "%s: libcurl refuses '%s': %s", directive, url,
                            curl_url_strerror(rc));
    }
    return NULL;
}

/* Matomo's API is a .php script; any other path is read as the Matomo
 * base URL, so "https://host/matomo" means https://host/matomo/index.php. */
const char *mcp_config_set_backend(cmd_parms *cmd, void *dconf,
                                   const char *url)
{
    mcp_dir_conf *conf = dconf;
    apr_uri_t uri;
    const char *err = check_http_url(cmd->pool, cmd->cmd->name, url, &uri);
    size_t n = strlen(url);

    if (err == NULL) {
        err = check_backend_url(cmd->pool, cmd->cmd->name, url, &uri);
    }
    if (err != NULL) {
        return err;
    }
    if (n > 4 && strcasecmp(url + n - 4, ".php") == 0) {
        conf->backend = url;
    }
    else {
        conf->backend = apr_pstrcat(cmd->pool, url,
                                    url[n - 1] == '/' ? "" : "/",
                                    "index.php", NULL);
    }
    return NULL;
}

const char *mcp_config_set_website_url(cmd_parms *cmd, void *dconf,
                                       const char *url)
{
    mcp_dir_conf *conf = dconf;
    apr_uri_t uri;
    const char *err = check_http_url(cmd->pool, cmd->cmd->name, url, &uri);

    if (err == NULL) {
        conf->website_url = url;
    }
    return err;
}

const char *mcp_config_set_forwarding(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    mcp_dir_conf *conf = dconf;

    if (!strcasecmp(arg, "auto")) {
        conf->forwarding = MCP_FORWARD_AUTO;
    }
    else if (!strcasecmp(arg, "token_auth")) {
        conf->forwarding = MCP_FORWARD_TOKEN_AUTH;
    }
    else if (!strcasecmp(arg, "bearer")) {
        conf->forwarding = MCP_FORWARD_BEARER;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: '%s' is not auto, token_auth "
                            "or bearer", cmd->cmd->name, arg);
    }
    return NULL;
}

const char *mcp_config_set_verify_tls(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    ((mcp_dir_conf *)dconf)->verify_tls = on;
    return NULL;
}

const char *mcp_config_set_socket(cmd_parms *cmd, void *dconf,
                                  const char *path)
{
    if (*path != '/' || strlen(path) >= 108) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute Unix "
                            "socket path (at most 107 bytes)",
                            cmd->cmd->name, path);
    }
    ((mcp_dir_conf *)dconf)->backend_socket = path;
    return NULL;
}

static void push(apr_pool_t *p, apr_array_header_t **list, const char *v)
{
    if (*list == NULL) {
        *list = apr_array_make(p, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*list, const char *) = v;
}

const char *mcp_config_add_auth_server(cmd_parms *cmd, void *dconf,
                                       const char *url)
{
    mcp_dir_conf *conf = dconf;
    apr_uri_t uri;
    const char *err = check_http_url(cmd->pool, cmd->cmd->name, url, &uri);

    if (err == NULL) {
        push(cmd->pool, &conf->authorization_servers, url);
    }
    return err;
}

const char *mcp_config_add_scope(cmd_parms *cmd, void *dconf,
                                 const char *scope)
{
    mcp_dir_conf *conf = dconf;
    const char *c;
    size_t n = strlen(scope);

    /* RFC 6749 scope-token: printable ASCII except space, quote and \. */
    if (n == 0 || n > 128 || strpbrk(scope, "\"\\ ") != NULL) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an OAuth scope",
                            cmd->cmd->name, scope);
    }
    for (c = scope; *c != '\0'; c++) {
        if (*c < 0x21 || *c > 0x7e) {
            return apr_psprintf(cmd->pool, "%s: scopes are printable ASCII",
                                cmd->cmd->name);
        }
    }
    push(cmd->pool, &conf->scopes, scope);
    return NULL;
}

const char *mcp_config_set_resource_name(cmd_parms *cmd, void *dconf,
                                         const char *name)
{
    if (*name == '\0' || strlen(name) > 200) {
        return apr_psprintf(cmd->pool, "%s: give a name of 1 to 200 bytes",
                            cmd->cmd->name);
    }
    ((mcp_dir_conf *)dconf)->resource_name = name;
    return NULL;
}

/* Byte sizes: a plain number, or with a K, M or G suffix (powers of 1024),
 * checked against the range in the directive's cmd_data. */

const char *mcp_config_set_size(cmd_parms *cmd, void *dconf, const char *arg)
{
    const mcp_size_limit *lim = cmd->info;
    apr_off_t value, unit = 1;
    char *end;

    if (apr_strtoff(&value, arg, &end, 10) != APR_SUCCESS || end == arg
        || value < 0) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a size in bytes",
                            cmd->cmd->name, arg);
    }
    switch (*end) {
    case 'K': case 'k': unit = 1024; end++; break;
    case 'M': case 'm': unit = 1024 * 1024; end++; break;
    case 'G': case 'g': unit = 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    /* Compare before multiplying: a huge count must not wrap into range. */
    if (value > lim->max / unit) {
        value = lim->max + 1;
    }
    else {
        value *= unit;
    }
    if (*end != '\0' || value < lim->min || value > lim->max) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a size from %"
                            APR_OFF_T_FMT " to %" APR_OFF_T_FMT " bytes "
                            "(K, M and G suffixes allowed)",
                            cmd->cmd->name, arg, lim->min, lim->max);
    }
    *(apr_off_t *)((char *)dconf + lim->offset) = value;
    return NULL;
}

/* Timeouts in Apache's notation: seconds, or with an ms/s/mi/h unit. */

const char *mcp_config_set_timeout(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    const mcp_timeout_limit *lim = cmd->info;
    apr_interval_time_t value;

    if (ap_timeout_parameter_parse(arg, &value, "s") != APR_SUCCESS
        || value < apr_time_from_msec(1) || value > lim->max) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a duration from "
                            "1ms to %" APR_TIME_T_FMT "s (e.g. 5, 1500ms)",
                            cmd->cmd->name, arg, apr_time_sec(lim->max));
    }
    *(apr_interval_time_t *)((char *)dconf + lim->offset) = value;
    return NULL;
}

/* Each stream holds a worker thread, so the bound stays far below any
 * ThreadsPerChild worth having. */
#define LISTEN_MAX_LIMIT 64

const char *mcp_config_set_listen_max(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    mcp_dir_conf *conf = dconf;
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || !apr_isdigit(*arg) || n < 1
        || n > LISTEN_MAX_LIMIT) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a whole number "
                            "from 1 to %d", cmd->cmd->name, arg,
                            LISTEN_MAX_LIMIT);
    }
    conf->listen_max = (int)n;
    return NULL;
}

/* A whole number from lo to hi, or NULL. */
static int whole_number(const char *arg, int lo, int hi, int *out)
{
    char *end;
    apr_int64_t n;

    if (!apr_isdigit(*arg)) {
        return 0;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
        return 0;
    }
    *out = (int)n;
    return 1;
}

/* A duration from lo to hi (ap_timeout_parameter_parse's units). */
static int duration(const char *arg, apr_interval_time_t lo,
                    apr_interval_time_t hi, apr_interval_time_t *out)
{
    return ap_timeout_parameter_parse(arg, out, "s") == APR_SUCCESS
           && *out >= lo && *out <= hi;
}

const char *mcp_config_set_check_budget(cmd_parms *cmd, void *dconf,
                                        const char *per_client,
                                        const char *total,
                                        const char *window)
{
    mcp_dir_conf *conf = dconf;

    if (!whole_number(per_client, 1, 1000, &conf->checks_per_client)
        || !whole_number(total, 1, 100000, &conf->checks_total)
        || conf->checks_per_client > conf->checks_total
        || (window != NULL
            && !duration(window, apr_time_from_sec(1),
                         apr_time_from_sec(7 * 86400),
                         &conf->checks_window))) {
        return apr_psprintf(cmd->pool, "%s: expected PER_CLIENT TOTAL "
                            "[WINDOW]: refused token checks one client "
                            "(1-1000) and all together (1-100000, at least "
                            "PER_CLIENT) may cause per WINDOW (1s-7d, "
                            "default 1h; e.g. 5 10 1h)", cmd->cmd->name);
    }
    return NULL;
}

const char *mcp_config_set_forward_client(cmd_parms *cmd, void *dconf,
                                          int on)
{
    (void)cmd;
    ((mcp_dir_conf *)dconf)->forward_client = on;
    return NULL;
}

const char *mcp_config_set_concurrency(cmd_parms *cmd, void *dconf,
                                       const char *n, const char *wait)
{
    mcp_dir_conf *conf = dconf;

    if (!whole_number(n, 1, 1000, &conf->backend_concurrency)
        || (wait != NULL
            && !duration(wait, 0, apr_time_from_sec(600),
                         &conf->backend_queue))) {
        return apr_psprintf(cmd->pool, "%s: expected N [WAIT]: Matomo calls "
                            "in flight per child (1-1000), and how long one "
                            "more may wait for a free one (0-600s, default "
                            "5s)", cmd->cmd->name);
    }
    return NULL;
}

const char *mcp_config_set_breaker(cmd_parms *cmd, void *dconf,
                                   const char *failures,
                                   const char *max_open)
{
    mcp_dir_conf *conf = dconf;

    if (!strcasecmp(failures, "off") && max_open == NULL) {
        conf->breaker_failures = 0;
        return NULL;
    }
    if (!whole_number(failures, 1, 1000, &conf->breaker_failures)
        || (max_open != NULL
            && !duration(max_open, apr_time_from_sec(1),
                         apr_time_from_sec(3600),
                         &conf->breaker_max_open))) {
        return apr_psprintf(cmd->pool, "%s: expected FAILURES [MAX_OPEN] "
                            "or Off: failures in a row that stop calls to "
                            "Matomo (1-1000), and the longest pause "
                            "(1s-3600s, default 60s)", cmd->cmd->name);
    }
    return NULL;
}

/* apr_uri_parse drops an IPv6 literal's brackets; a URL needs them. */
static const char *host_in_url(apr_pool_t *p, const char *hostname)
{
    return strchr(hostname, ':') != NULL
               ? apr_pstrcat(p, "[", hostname, "]", NULL)
               : hostname;
}

/* A browser's Origin carries a port only when it is not the scheme's
 * default (RFC 6454 serialization), as digits without leading zeros. */
static const char *check_origin_port(apr_pool_t *p, const char *directive,
                                     const char *arg, const apr_uri_t *uri)
{
    const char *digits = uri->port_str;

    if (digits == NULL) {
        return NULL;
    }
    if (!is_port(digits) || digits[0] == '0') {
        return apr_psprintf(p, "%s: '%s' has no valid port (1-65535)",
                            directive, arg);
    }
    if (apr_atoi64(digits) == apr_uri_port_of_scheme(uri->scheme)) {
        return apr_psprintf(p, "%s: '%s' names the default port, which "
                            "browsers leave out of Origin, so it would never "
                            "match: write '%s://%s' without ':%s'", directive,
                            arg, uri->scheme, host_in_url(p, uri->hostname),
                            digits);
    }
    return NULL;
}

/* An origin is scheme://host[:port] exactly, as browsers send it. */
const char *mcp_config_add_origin(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    mcp_dir_conf *conf = dconf;
    apr_uri_t uri;
    const char *err = check_http_url(cmd->pool, cmd->cmd->name, arg, &uri);

    if (err == NULL && uri.path != NULL && *uri.path != '\0') {
        err = apr_psprintf(cmd->pool, "%s: '%s' is not an origin "
                           "(scheme://host[:port], no path)",
                           cmd->cmd->name, arg);
    }
    if (err == NULL) {
        err = check_origin_port(cmd->pool, cmd->cmd->name, arg, &uri);
    }
    if (err == NULL) {
        push(cmd->pool, &conf->allowed_origins,
             apr_pstrcat(cmd->pool, uri.scheme, "://", uri.hostinfo, NULL));
    }
    return err;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
                   "0123456789.-*"
#define IPV6_CHARS "0123456789abcdefABCDEF:."

static int is_ipv6_literal(const char *s, size_t n)
{
    return n > 1 && strspn(s, IPV6_CHARS) == n && memchr(s, ':', n) != NULL;
}

static const char *host_refused(apr_pool_t *p, const char *directive,
                                const char *arg)
{
    return apr_psprintf(p, "%s: '%s' is not a host name or IP address "
                        "(no scheme, no port)", directive, arg);
}

/* Ports are not compared (the listener fixed the port), and httpd's
 * r->hostname never has one: an entry with a port could never match. */
static const char *host_has_port(apr_pool_t *p, const char *directive,
                                 const char *arg, const char *host)
{
    return apr_psprintf(p, "%s: '%s' has a port, which would never match: "
                        "ports are not compared, write '%s'", directive, arg,
                        host);
}

/* A name (wildcards allowed) or an IP literal, or an error.  A name has
 * at most one ':', before a port; an IPv6 literal has at least two.  *host
 * is the entry in r->hostname's form: httpd strips the brackets of an IPv6
 * literal (apr_parse_addr_port), so "[::1]" is stored as "::1". */
static const char *host_entry(apr_pool_t *p, const char *directive,
                              const char *arg, const char **host)
{
    const char *colon = strchr(arg, ':');
    const char *close = strchr(arg, ']');

    if (*arg == '[') {
        if (close == NULL || !is_ipv6_literal(arg + 1,
                                              (size_t)(close - arg - 1))) {
            return host_refused(p, directive, arg);
        }
        if (close[1] == ':') {
            return host_has_port(p, directive, arg, apr_pstrmemdup(
                p, arg, (size_t)(close + 1 - arg)));
        }
        *host = apr_pstrmemdup(p, arg + 1, (size_t)(close - arg - 1));
        return close[1] == '\0' ? NULL : host_refused(p, directive, arg);
    }
    if (colon != NULL && strchr(colon + 1, ':') == NULL) {
        *host = apr_pstrmemdup(p, arg, (size_t)(colon - arg));
        if (**host != '\0' && strspn(*host, NAME_CHARS) == strlen(*host)
            && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
            return host_has_port(p, directive, arg, *host);
        }
        return host_refused(p, directive, arg);
    }
    *host = arg;
    if (colon != NULL ? !is_ipv6_literal(arg, strlen(arg))
                      : strspn(arg, NAME_CHARS) != strlen(arg)) {
        return host_refused(p, directive, arg);
    }
    return NULL;
}

const char *mcp_config_add_tools(cmd_parms *cmd, void *dconf,
                                const char *arg)
{
    mcp_dir_conf *conf = dconf;
    const char *known = "";
    int i;

    if (mcp_tool_set_add(arg, &conf->tools_offered)) {
        return NULL;
    }
    for (i = 0; i < mcp_tool_groups_count; i++) {
        known = apr_pstrcat(cmd->pool, known, i ? ", " : "",
                            mcp_tool_groups[i].name, NULL);
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is neither a tool (matomo_..., "
                        "as tools/list names them) nor a group (%s)",
                        cmd->cmd->name, arg, known);
}

const char *mcp_config_add_host(cmd_parms *cmd, void *dconf, const char *arg)
{
    mcp_dir_conf *conf = dconf;
    const char *host = NULL;
    const char *err;

    if (*arg == '\0' || strlen(arg) > 253) {
        return host_refused(cmd->pool, cmd->cmd->name, arg);
    }
    err = host_entry(cmd->pool, cmd->cmd->name, arg, &host);
    if (err == NULL) {
        push(cmd->pool, &conf->allowed_hosts, host);
    }
    return err;
}

/* --- start-up cross-check -------------------------------------------- */

/* Sections whose children belong to the enclosing scope. */
static int is_transparent(const ap_directive_t *d)
{
    return d->first_child != NULL
           && (strncasecmp(d->directive, "<IfModule", 9) == 0
               || strncasecmp(d->directive, "<IfDefine", 9) == 0
               || strncasecmp(d->directive, "<IfVersion", 10) == 0
               || strncasecmp(d->directive, "<IfFile", 7) == 0
               || strncasecmp(d->directive, "<IfDirective", 12) == 0
               || strncasecmp(d->directive, "<IfSection", 10) == 0);
}

static int scope_has_backend(const ap_directive_t *first)
{
    const ap_directive_t *d;

    for (d = first; d != NULL; d = d->next) {
        if (strcasecmp(d->directive, "MatomoMcpBackend") == 0
            || (is_transparent(d) && scope_has_backend(d->first_child))) {
            return 1;
        }
    }
    return 0;
}

static int sees_backend(const ap_directive_t *d, const ap_directive_t *tree)
{
    for (;;) {
        const ap_directive_t *parent = d->parent;

        if (scope_has_backend(parent != NULL ? parent->first_child : tree)) {
            return 1;
        }
        if (parent == NULL) {
            return 0;
        }
        d = parent;
    }
}

static int sets_our_handler(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d->args;

    return strcasecmp(d->directive, "SetHandler") == 0
           && strcasecmp(ap_getword_conf(p, &args), MCP_HANDLER_NAME) == 0;
}

static const char *check_sections(apr_pool_t *p, const ap_directive_t *first,
                                  const ap_directive_t *root)
{
    const ap_directive_t *d;

    for (d = first; d != NULL; d = d->next) {
        if (sets_our_handler(p, d) && !sees_backend(d, root)) {
            return apr_psprintf(p, "SetHandler %s at %s:%d has no "
                                "MatomoMcpBackend in its section or an "
                                "enclosing one", MCP_HANDLER_NAME,
                                d->filename, d->line_num);
        }
        if (d->first_child != NULL) {
            const char *err = check_sections(p, d->first_child, root);

            if (err != NULL) {
                return err;
            }
        }
    }
    return NULL;
}

const char *mcp_config_check_tree(apr_pool_t *p, const ap_directive_t *tree)
{
    return check_sections(p, tree, tree);
}
