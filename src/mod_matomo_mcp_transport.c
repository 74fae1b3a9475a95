#include "mod_matomo_mcp_transport.h"
#include "mcp_json.h"
#include "mcp_jsonrpc.h"
#include "mcp_server.h"
#include "mod_matomo_mcp_status.h"

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include <poll.h>
#include <sys/socket.h>

#include <http_core.h>
#include <http_log.h>
#include <ap_mpm.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

APLOG_USE_MODULE(matomo_mcp);

#define ALLOWED_METHODS "POST, OPTIONS"

/* Transport-level failures get a JSON-RPC error body too, as MCP SDKs do,
 * so a client can show the reason: with the request's id (serialised)
 * when the body was read, else null. */
static int send_error(request_rec *r, int status, const char *id,
                      const char *message)
{
    const char *body = apr_psprintf(
        r->pool, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":"
                 "{\"code\":-32000,\"message\":\"%s\"}}", id, message);

    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "answering %d: %s", status,
                  message);
    apr_table_setn(r->notes, "mcp-error", "-32000");
    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    ap_rputs(body, r);
    return OK;
}

static int send_status(request_rec *r, int status, const char *message)
{
    return send_error(r, status, "null", message);
}

/* --- Host and Origin (DNS rebinding, cross-site requests) ------------ */

static int name_matches(const char *host, const char *pattern)
{
    return ap_is_matchexp(pattern) ? !ap_strcasecmp_match(host, pattern)
                                   : !strcasecmp(host, pattern);
}

static int names_match(const char *host, const apr_array_header_t *list)
{
    int i;

    for (i = 0; list != NULL && i < list->nelts; i++) {
        if (name_matches(host, APR_ARRAY_IDX(list, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

/* Allowed: loopback names, this server's ServerName and ServerAliases, and
 * MatomoMcpAllowedHosts.  Ports are not compared: rebinding attacks change
 * the name, and the listener already fixed the port.  host is in
 * r->hostname's form: an IPv6 literal without its brackets. */
static int host_is_allowed(request_rec *r, const mcp_dir_conf *conf,
                           const char *host)
{
    static const char *const loopback[] = {
        "localhost", "127.0.0.1", "::1", NULL
    };
    server_rec *s = r->server;
    int i;

    for (i = 0; loopback[i] != NULL; i++) {
        if (!strcasecmp(host, loopback[i])) {
            return 1;
        }
    }
    return (s->server_hostname != NULL && !strcasecmp(host,
                                                      s->server_hostname))
           || names_match(host, s->names) || names_match(host, s->wild_names)
           || names_match(host, conf->allowed_hosts);
}

static int origin_is_listed(const mcp_dir_conf *conf, const char *origin)
{
    int i;

    for (i = 0; conf->allowed_origins != NULL
                && i < conf->allowed_origins->nelts; i++) {
        if (!strcasecmp(origin, APR_ARRAY_IDX(conf->allowed_origins, i,
                                              const char *))) {
            return 1;
        }
    }
    return 0;
}

/* An Origin passes when it is listed in MatomoMcpAllowedOrigins, or when
 * its host is one this server answers for (a page of the same site). */
static int origin_is_allowed(request_rec *r, const mcp_dir_conf *conf,
                             const char *origin)
{
    apr_uri_t uri;

    if (origin_is_listed(conf, origin)) {
        return 1;
    }
    if (apr_uri_parse(r->pool, origin, &uri) != APR_SUCCESS
        || uri.scheme == NULL || uri.hostname == NULL
        || (strcasecmp(uri.scheme, "http") && strcasecmp(uri.scheme, "https"))
        || (uri.path != NULL && *uri.path != '\0')) {
        return 0;
    }
    /* apr_uri_parse drops an IPv6 literal's brackets, as httpd does for
     * r->hostname. */
    return host_is_allowed(r, conf, uri.hostname);
}

/* --- CORS (browser-based clients) ----------------------------------- */

/* GET and DELETE too: the endpoint answers them with 405, which the spec
 * tells clients to expect; a preflight refusing them would turn that into
 * a network error in the browser instead. */
#define CORS_METHODS "POST, GET, DELETE"
/* What MCP clients send (2025-11-25 transport; Mcp-Method and Mcp-Name of
 * 2026-07-28 so that such a client reads the 400 and falls back). */
#define CORS_HEADERS "authorization, content-type, accept, " \
                     "mcp-protocol-version, mcp-session-id, last-event-id, " \
                     "mcp-method, mcp-name"
/* Stateless: no Mcp-Session-Id is ever sent, so only the challenge. */
#define CORS_EXPOSED "WWW-Authenticate"
/* Chromium's ceiling; a cached preflight grants nothing by itself, since
 * every actual request passes the Origin check again. */
#define CORS_MAX_AGE "7200"

/* No Access-Control-Allow-Credentials: the token travels in a header the
 * page sets itself, never in a cookie the browser would add. */
static void cors_preflight(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods",
                   CORS_METHODS);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers",
                   CORS_HEADERS);
    apr_table_setn(r->err_headers_out, "Access-Control-Max-Age",
                   CORS_MAX_AGE);
}

/* Called once the Origin check has passed.  Only an origin the admin
 * listed gets CORS: the Origin check also lets pages of this server's own
 * host names through, on any port; same-origin pages need no CORS, and any
 * other page there (localhost:3000) must not read answers made with a
 * user's token unless it is listed.  The headers go into err_headers_out
 * so that error answers carry them too. */
static void cors_allow(request_rec *r, const mcp_dir_conf *conf,
                           const char *origin)
{
    if (origin == NULL || !origin_is_listed(conf, origin)) {
        return;
    }
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", origin);
    if (r->method_number == M_OPTIONS
        && apr_table_get(r->headers_in,
                         "Access-Control-Request-Method") != NULL) {
        cors_preflight(r);
    }
    else {
        apr_table_setn(r->err_headers_out, "Access-Control-Expose-Headers",
                       CORS_EXPOSED);
    }
}

/* --- content negotiation -------------------------------------------- */

typedef struct {
    int json;   /* application/json acceptable */
    int sse;    /* text/event-stream acceptable */
} accept_set;

/* Cuts "type/subtype ; params" in place: returns the media type without
 * white space and points *params at the parameters (or NULL). */
static char *split_media_type(char *s, char **params)
{
    char *semi = strchr(s, ';');

    *params = NULL;
    if (semi != NULL) {
        *semi = '\0';
        *params = semi + 1;
    }
    apr_collapse_spaces(s, s);
    return s;
}

/* The value of parameter name in "a=1; b=\"2\"" (white space and quotes
 * removed), or NULL. */
static const char *media_param(apr_pool_t *p, const char *params,
                               const char *name)
{
    char *list, *item, *state = NULL;

    if (params == NULL) {
        return NULL;
    }
    list = apr_pstrdup(p, params);
    apr_collapse_spaces(list, list);
    for (item = apr_strtok(list, ";", &state); item != NULL;
         item = apr_strtok(NULL, ";", &state)) {
        char *eq = strchr(item, '=');

        if (eq != NULL && (size_t)(eq - item) == strlen(name)
            && !strncasecmp(item, name, strlen(name))) {
            char *v = eq + 1;
            size_t n = strlen(v);

            if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v[n - 1] = '\0';
                v++;
            }
            return v;
        }
    }
    return NULL;
}

/* Reads Accept per RFC 9110: media ranges with parameters, q=0 refuses,
 * wildcards count.  No header at all means anything is acceptable. */
static accept_set parse_accept(apr_pool_t *p, const char *header)
{
    accept_set acc = { 0, 0 };
    char *list, *item, *state = NULL;

    if (header == NULL) {
        acc.json = acc.sse = 1;
        return acc;
    }
    list = apr_pstrdup(p, header);
    for (item = apr_strtok(list, ",", &state); item != NULL;
         item = apr_strtok(NULL, ",", &state)) {
        char *params;
        const char *type = split_media_type(item, &params);
        const char *q = media_param(p, params, "q");

        if (q != NULL && strtod(q, NULL) <= 0.0) {
            continue;
        }
        if (!strcasecmp(type, "*/*")) {
            acc.json = acc.sse = 1;
        }
        else if (!strcasecmp(type, "application/json")
                 || !strcasecmp(type, "application/*")) {
            acc.json = 1;
        }
        else if (!strcasecmp(type, "text/event-stream")
                 || !strcasecmp(type, "text/*")) {
            acc.sse = 1;
        }
    }
    return acc;
}

/* application/json, with no charset or charset=utf-8 (RFC 8259). */
static int content_type_is_json(apr_pool_t *p, const char *header)
{
    char *params;
    const char *type, *charset;

    if (header == NULL) {
        return 0;
    }
    type = split_media_type(apr_pstrdup(p, header), &params);
    charset = media_param(p, params, "charset");
    return !strcasecmp(type, "application/json")
           && (charset == NULL || !strcasecmp(charset, "utf-8"));
}

/* --- body ----------------------------------------------------------- */

/* Reads the whole body through the input filters (so chunked and HTTP/2
 * bodies work), refusing more than cap bytes.  Returns OK or an HTTP
 * status. */
static int read_body(request_rec *r, apr_off_t cap, char **out,
                     apr_size_t *out_len)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    apr_size_t len = 0, size = 8192;
    char *buf = apr_palloc(r->pool, size);
    int eos = 0;

    while (!eos) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);

        if (rv != APR_SUCCESS) {
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;

            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                return HTTP_BAD_REQUEST;
            }
            if ((apr_off_t)(len + n) > cap) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            if (len + n + 1 > size) {
                char *bigger;

                while (len + n + 1 > size) {
                    size *= 2;
                }
                bigger = apr_palloc(r->pool, size);
                memcpy(bigger, buf, len);
                buf = bigger;
            }
            memcpy(buf + len, data, n);
            len += n;
        }
        apr_brigade_cleanup(bb);
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return OK;
}

static int declared_too_large(request_rec *r, apr_off_t cap)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t n;
    char *end;

    /* The core has already refused a malformed Content-Length. */
    return cl != NULL && apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS
           && n > cap;
}

/* --- answer: plain JSON, or an SSE stream once the core streams ------ */

typedef struct {
    request_rec *r;
    int may_stream;   /* the client accepts text/event-stream */
    int streaming;    /* headers for an event stream have been sent */
    int listen_max;   /* this endpoint's MatomoMcpListenMax */
} answer_stream;

static void start_stream(answer_stream *as)
{
    request_rec *r = as->r;

    if (!as->streaming) {
        as->streaming = 1;
        mcp_status_stream_opened(r);
        r->status = HTTP_OK;
        ap_set_content_type(r, "text/event-stream");
        apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
        apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
        /* Compression would hold events back. */
        apr_table_setn(r->subprocess_env, "no-gzip", "1");
    }
}

/* One SSE event, flushed.  Nonzero when the client is gone. */
static int write_event(answer_stream *as, const char *json, apr_size_t len)
{
    request_rec *r = as->r;

    start_stream(as);
    ap_rputs("event: message\ndata: ", r);
    ap_rwrite(json, (int)len, r);
    ap_rputs("\n\n", r);
    return ap_rflush(r) < 0 || r->connection->aborted;
}

/* mcp_channel callbacks.  A notification before the answer: clients that
 * take JSON only cannot receive it, and lose nothing but progress. */
static int stream_notify(void *baton, const char *json, apr_size_t len)
{
    answer_stream *as = baton;

    return as->may_stream ? write_event(as, json, len) : 0;
}

static int client_gone(void *baton)
{
    return ((answer_stream *)baton)->r->connection->aborted;
}

/* subscriptions/listen streams open in this process. */
static apr_uint32_t listeners;

static apr_status_t release_listen_slot(void *data)
{
    (void)data;
    apr_atomic_dec32(&listeners);
    return APR_SUCCESS;
}

static int take_listen_slot(void *baton)
{
    answer_stream *as = baton;

    if (apr_atomic_inc32(&listeners) >= (apr_uint32_t)as->listen_max) {
        apr_atomic_dec32(&listeners);
        return -1;
    }
    apr_pool_cleanup_register(as->r->pool, NULL, release_listen_slot,
                              apr_pool_cleanup_null);
    return 0;
}

/* The client's socket, to notice a hang-up while Matomo computes; none for
 * an HTTP/2 stream, whose connection carries other streams (there the
 * flush of a heartbeat, or c->aborted, tells). */
static int client_fd(request_rec *r)
{
    apr_socket_t *sock = ap_get_conn_socket(r->connection);
    apr_os_sock_t fd;

    if (r->connection->master != NULL || sock == NULL
        || apr_os_sock_get(&fd, sock) != APR_SUCCESS) {
        return -1;
    }
    return fd;
}

static int send_reply(answer_stream *as, const accept_set *acc,
                      const mcp_reply *reply)
{
    request_rec *r = as->r;

    if (reply->body == NULL) {
        r->status = reply->http_status;
        ap_set_content_length(r, 0);
        return OK;
    }
    /* An answer goes into a stream already open, or into one when the
     * client takes nothing but event streams. */
    if (as->streaming || (!acc->json && reply->http_status == HTTP_OK)) {
        write_event(as, reply->body, reply->len);
        return OK;
    }
    r->status = reply->http_status;
    if (reply->http_status == HTTP_SERVICE_UNAVAILABLE) {
        /* A listener slot frees when some stream reaches its bound. */
        apr_table_setn(r->headers_out, "Retry-After", "10");
    }
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)reply->len);
    ap_rwrite(reply->body, (int)reply->len, r);
    return OK;
}

/* --- authentication ------------------------------------------------- */

static const char *metadata_url(request_rec *r)
{
    return ap_construct_url(r->pool, apr_pstrcat(r->pool, MCP_METADATA_PATH,
                                                 ap_os_escape_path(
                                                     r->pool, r->uri, 1),
                                                 NULL), r);
}

/* 401 with the RFC 9728 pointer that lets clients find Matomo's OAuth
 * server; error="invalid_token" when a token was given and refused. */
static int read_body(request_rec *r, apr_off_t cap, char **out,
                     apr_size_t *out_len);

/* The id of the one request in the body, serialised, or "null": the 401
 * is the first answer every client that signs in meets (Claude's
 * server/discover probe among them), and answers the request it refuses. */
static const char *body_id(request_rec *r, const mcp_dir_conf *conf)
{
    mcp_jsonrpc_msg msg;
    char *body;
    apr_size_t len;

    if (read_body(r, mcp_config_max_request_body(conf), &body, &len) != OK) {
        return "null";
    }
    mcp_jsonrpc_parse(r->pool, body, len, &msg);
    return msg.id != NULL ? mcp_json_to_string(r->pool, msg.id, NULL)
                          : "null";
}

static int challenge(request_rec *r, const mcp_dir_conf *conf,
                     int token_refused, const char *message)
{
    apr_table_setn(r->headers_out, "WWW-Authenticate", apr_psprintf(
        r->pool, "Bearer resource_metadata=\"%s\"%s", metadata_url(r),
        token_refused ? ", error=\"invalid_token\"" : ""));
    return send_error(r, HTTP_UNAUTHORIZED, body_id(r, conf), message);
}

static int read_credential(request_rec *r, const mcp_dir_conf *conf,
                           mcp_credential *cred)
{
    const char *header = apr_table_get(r->headers_in, "Authorization");

    switch (mcp_auth_parse_bearer(header, &cred->token)) {
    case MCP_AUTH_MISSING:
        return challenge(r, conf, 0,
                         "Unauthorized: send your Matomo token as "
                         "Authorization: Bearer <token>");
    case MCP_AUTH_MALFORMED:
        /* A Bearer attempt with a bad token is an invalid token; another
         * scheme is no token at all (RFC 6750, section 3.1). */
        return challenge(r, conf, !strncasecmp(header, "Bearer", 6)
                                && (header[6] == '\0' || header[6] == ' '),
                         "Unauthorized: expected Authorization: Bearer "
                         "<token>");
    case MCP_AUTH_OK:
        break;
    }
    cred->kind = mcp_auth_looks_like_jwt(cred->token) ? MCP_CRED_BEARER
                                                      : MCP_CRED_TOKEN_AUTH;
    return DECLINED;
}

/* One Matomo connection per worker thread, kept on the thread's pool, so
 * connections to Matomo are reused from call to call. */
#define CURL_KEY "matomo_mcp_curl"

typedef struct {
    mcp_matomo_conn *conn;
} thread_curl;

static apr_status_t thread_curl_cleanup(void *data)
{
    thread_curl *tc = data;

    mcp_matomo_conn_close(tc->conn);
    tc->conn = NULL;
    return APR_SUCCESS;
}

static thread_curl *curl_for(request_rec *r)
{
    apr_thread_t *thd = r->connection->current_thread;
    void *data = NULL;
    thread_curl *tc;

    if (thd != NULL && apr_thread_data_get(&data, CURL_KEY, thd) == APR_SUCCESS
        && data != NULL) {
        tc = data;
    }
    else {
        /* No thread to keep it on: this request's handle only. */
        apr_pool_t *p = thd != NULL ? apr_thread_pool_get(thd) : r->pool;

        tc = apr_pcalloc(p, sizeof(*tc));
        apr_pool_cleanup_register(p, tc, thread_curl_cleanup,
                                  apr_pool_cleanup_null);
        if (thd != NULL) {
            apr_thread_data_set(tc, CURL_KEY, NULL, thd);
        }
    }
    if (tc->conn == NULL) {
        tc->conn = mcp_matomo_conn_open();
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "new libcurl handle for %s", thd != NULL
                          ? "this worker thread" : "this request only");
    }
    return tc;
}

/* --- the request ---------------------------------------------------- */

/* The checks every MCP request passes, in the order that reveals least to
 * a stranger: who may talk to us first, then what is being said. */
static int check_request(request_rec *r, const mcp_dir_conf *conf,
                         const accept_set *acc)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");

    if (conf->allowed_origins != NULL) {
        /* Whether CORS headers come depends on Origin, for every answer. */
        apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    }
    if (r->hostname != NULL && !host_is_allowed(r, conf, r->hostname)) {
        return send_status(r, HTTP_FORBIDDEN,
                           "Forbidden: Host is not allowed");
    }
    if (origin != NULL && !origin_is_allowed(r, conf, origin)) {
        return send_status(r, HTTP_FORBIDDEN,
                           "Forbidden: Origin is not allowed");
    }
    cors_allow(r, conf, origin);
    if (r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "Allow", ALLOWED_METHODS);
        r->status = HTTP_NO_CONTENT;
        return OK;
    }
    if (r->method_number != M_POST) {
        /* Stateless: no GET event stream and no session to DELETE. */
        apr_table_setn(r->headers_out, "Allow", ALLOWED_METHODS);
        return send_status(r, HTTP_METHOD_NOT_ALLOWED,
                           "Method Not Allowed: send JSON-RPC with POST");
    }
    if (!acc->json && !acc->sse) {
        return send_status(r, HTTP_NOT_ACCEPTABLE,
                           "Not Acceptable: accept application/json or "
                           "text/event-stream");
    }
    if (!content_type_is_json(r->pool, ctype)) {
        return send_status(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                           "Unsupported Media Type: send application/json");
    }
    if (declared_too_large(r, mcp_config_max_request_body(conf))) {
        return send_status(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                           "Payload Too Large");
    }
    return DECLINED;
}

/* --- subscriptions/listen: hold the stream open, within its bound ---- */

/* SSE comments keep idle-timeout proxies and clients from closing it. */
#define KEEPALIVE_EVERY apr_time_from_sec(15)

/* Waits up to t, or until the client hangs up (returns 1). */
static int hung_up_within(request_rec *r, int fd, apr_interval_time_t t)
{
    int pending = 0;

    /* Rounded up: a wait of 0 ms in the bound's last millisecond would
     * spin. */
    if (fd >= 0 && mcp_watch_client_gone(fd, (int)apr_time_as_msec(t + 999),
                                         &pending)) {
        return 1;
    }
    if (fd < 0 || pending) {
        /* No socket of its own (HTTP/2), or bytes from the client that
         * polling would return on at once: wait the rest out plainly. */
        apr_sleep(t);
    }
    return r->connection->aborted;
}

/* How often a held stream looks whether Apache is stopping. */
#define LISTEN_STEP apr_time_from_sec(1)

static int apache_stopping(void)
{
    int state = AP_MPMQ_RUNNING;

    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS
           && state == AP_MPMQ_STOPPING;
}

/* The acknowledgement, keep-alives until MatomoMcpListenTimeout (or until
 * Apache stops or restarts gracefully), then the closing result
 * (subscriptions.mdx, "Graceful Closure").  A client that hangs up ends
 * it at once; nothing more is written then. */
static int hold_listen_stream(answer_stream *as, const mcp_dir_conf *conf,
                              const mcp_reply *reply)
{
    request_rec *r = as->r;
    apr_time_t now = apr_time_now(),
               end = now + mcp_config_listen_timeout(conf),
               keepalive = now + KEEPALIVE_EVERY;
    int fd = client_fd(r);

    if (write_event(as, reply->listen_ack, strlen(reply->listen_ack))) {
        return OK;
    }
    while ((now = apr_time_now()) < end && !apache_stopping()) {
        apr_interval_time_t step = end - now;

        if (now >= keepalive) {
            ap_rputs(": keep-alive\n\n", r);
            if (ap_rflush(r) < 0 || r->connection->aborted) {
                return OK;
            }
            keepalive = now + KEEPALIVE_EVERY;
        }
        step = step < keepalive - now ? step : keepalive - now;
        if (hung_up_within(r, fd, step < LISTEN_STEP ? step : LISTEN_STEP)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "subscriptions/listen: the client closed the "
                          "stream");
            r->connection->keepalive = AP_CONN_CLOSE;
            return OK;
        }
    }
    /* The slot frees before the closing result goes out, not when the
     * request's pool goes: a client that reads the result and listens
     * again at once may reach this process before that pool is gone. */
    apr_pool_cleanup_run(r->pool, NULL, release_listen_slot);
    write_event(as, reply->body, reply->len);
    return OK;
}

/* --- what protects each Matomo (src/mcp_guard.h, mcp_throttle.h) --- */

/* Distinct Matomo URLs given their own protection; past that (a host with
 * many .htaccess endpoints), the rest share one. */
#define PROTECTED_BACKENDS_MAX 64

typedef struct {
    mcp_guard *guard;
    mcp_throttle *throttle;
} protection;

static const protection *protection_for(const mcp_process *proc,
                                        const char *backend)
{
    static const protection none = { NULL, NULL };
    protection *pr;

    if (proc->lock == NULL) {
        return &none;
    }
    apr_thread_mutex_lock(proc->lock);
    pr = apr_hash_get(proc->protections, backend, APR_HASH_KEY_STRING);
    if (pr == NULL && apr_hash_count(proc->protections)
                          >= PROTECTED_BACKENDS_MAX) {
        pr = apr_hash_get(proc->protections, "", APR_HASH_KEY_STRING);
        backend = "";
    }
    if (pr == NULL) {
        pr = apr_palloc(proc->pool, sizeof(*pr));
        pr->guard = mcp_guard_create(proc->pool);
        pr->throttle = mcp_throttle_create(proc->pool);
        apr_hash_set(proc->protections, apr_pstrdup(proc->pool, backend),
                     APR_HASH_KEY_STRING, pr);
    }
    apr_thread_mutex_unlock(proc->lock);
    return pr;
}

/* What the core needs of this HTTP request besides its body. */
static void describe_request(request_rec *r, const mcp_dir_conf *conf,
                             const mcp_process *proc, mcp_request *req)
{
    const protection *pr = protection_for(proc, conf->backend);

    req->pool = r->pool;
    req->catalog = proc->catalog;
    req->verdicts = proc->verdicts;
    req->cache = proc->cache;
    req->cache_ttl = proc->cache_ttl;
    req->headers.protocol = apr_table_get(r->headers_in,
                                          "MCP-Protocol-Version");
    req->headers.method = apr_table_get(r->headers_in, "Mcp-Method");
    req->headers.name = apr_table_get(r->headers_in, "Mcp-Name");
    req->website_url = conf->website_url != NULL
                           ? conf->website_url
                           : ap_construct_url(r->pool, "/", r);
    req->progress_interval = mcp_config_progress_interval(conf);
    req->result_budget = mcp_config_result_budget(conf);
    /* Without MatomoMcpTools: the default set, whose pages are built. */
    req->tools_offered = conf->tools_offered != 0
                             ? conf->tools_offered
                             : proc->catalog->paged_set;
    req->client_address = r->useragent_ip;
    req->guard = pr->guard;
    req->throttle = pr->throttle;
    mcp_config_guard(conf, proc->children, &req->budget, &req->limits);
}

/* Closing the stream (or the connection) cancels the request (2026-07-28
 * cancellation.mdx): its Matomo call was dropped, nothing more is
 * written. */
static int abandon(request_rec *r)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "the client went away: "
                  "Matomo call abandoned, no answer sent");
    r->connection->keepalive = AP_CONN_CLOSE;
    r->connection->aborted = 1;
    return OK;
}

static int handle(request_rec *r, const mcp_dir_conf *conf,
                  const mcp_process *proc, mcp_request *req)
{
    accept_set acc = parse_accept(r->pool,
                                  apr_table_get(r->headers_in, "Accept"));
    answer_stream as = { r, acc.sse, 0, mcp_config_listen_max(conf) };
    mcp_channel channel = { &as, stream_notify, client_gone,
                            take_listen_slot, acc.sse, -1 };
    mcp_reply reply;
    mcp_matomo_backend backend;
    thread_curl *tc;
    char *body = NULL;
    apr_size_t len = 0;
    int rc;

    if ((rc = check_request(r, conf, &acc)) != DECLINED
        || (rc = read_credential(r, conf, &req->credential)) != DECLINED) {
        return rc;
    }
    rc = read_body(r, mcp_config_max_request_body(conf), &body, &len);
    if (rc != OK) {
        return rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                   ? send_status(r, rc, "Payload Too Large") : rc;
    }
    if ((tc = curl_for(r))->conn == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "curl_easy_init failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    mcp_config_backend(conf, &backend);
    if (conf->forward_client != 0) {
        backend.forwarded_for = r->useragent_ip;
    }
    describe_request(r, conf, proc, req);
    req->backend = &backend;
    req->conn = tc->conn;
    channel.fd = client_fd(r);
    req->channel = &channel;
    mcp_server_handle(req, body, len, &reply);
    if (req->conn_broken) {
        thread_curl_cleanup(tc);
    }
    if (req->lockout_incident) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "Matomo (%s) refuses "
                      "every request of this server after too many failed "
                      "logins: clear the block in Matomo (Administration, "
                      "System, General settings, Login) and, so that Matomo "
                      "blocks the guessing client instead, set [General] "
                      "proxy_client_headers[] = HTTP_X_FORWARDED_FOR in its "
                      "config.ini.php (see the README, \"Protecting "
                      "Matomo\"); no unknown token is checked meanwhile",
                      backend.url);
    }
    if (req->cancelled) {
        return abandon(r);
    }
    if (reply.listen_ack != NULL) {
        return hold_listen_stream(&as, conf, &reply);
    }
    if (reply.http_status == HTTP_UNAUTHORIZED) {
        apr_table_setn(r->headers_out, "WWW-Authenticate", apr_psprintf(
            r->pool, "Bearer resource_metadata=\"%s\", "
                     "error=\"invalid_token\"", metadata_url(r)));
    }
    if (reply.http_status == HTTP_TOO_MANY_REQUESTS) {
        /* The token was not judged: the plain challenge, and when to come
         * back. */
        apr_table_setn(r->headers_out, "WWW-Authenticate", apr_psprintf(
            r->pool, "Bearer resource_metadata=\"%s\"", metadata_url(r)));
        apr_table_setn(r->headers_out, "Retry-After", apr_psprintf(
            r->pool, "%" APR_TIME_T_FMT, apr_time_sec(req->retry_after) + 1));
    }
    return send_reply(&as, &acc, &reply);
}

/* Every request that reaches the handler is counted and gets its
 * access-log notes, refusals included. */
int mcp_transport_handle(request_rec *r, const mcp_dir_conf *conf,
                         const mcp_process *proc)
{
    mcp_request req;
    int rc;

    memset(&req, 0, sizeof(req));
    req.stats = mcp_status_slot();
    mcp_stats_request(req.stats);
    rc = handle(r, conf, proc, &req);
    mcp_notes_set(r, &req.notes);
    return rc;
}

/* --- protected resource metadata ------------------------------------ */

static int is_loopback(const char *host)
{
    return !strcasecmp(host, "localhost") || !strncmp(host, "127.", 4)
           || !strcmp(host, "::1");
}

/* Matomo's base URL as clients reach it, for its OAuth2 plugin: the
 * backend's own when it is a remote host, else the same path on this
 * server (Matomo and the module share this Apache). */
static const char *matomo_base_url(request_rec *r, const mcp_dir_conf *conf)
{
    apr_uri_t uri;
    const char *path, *slash;

    if (apr_uri_parse(r->pool, conf->backend, &uri) != APR_SUCCESS) {
        return ap_construct_url(r->pool, "/", r);
    }
    path = uri.path != NULL ? uri.path : "/";
    slash = strrchr(path, '/');
    path = slash != NULL ? apr_pstrndup(r->pool, path, (apr_size_t)(slash - path + 1))
                         : "/";
    if (uri.hostname != NULL && is_loopback(uri.hostname)) {
        return ap_construct_url(r->pool, path, r);
    }
    return apr_pstrcat(r->pool, uri.scheme, "://", uri.hostinfo, path, NULL);
}

/* The document is public and the same for every caller (it reads no
 * token): any page may fetch it, and may preflight the
 * MCP-Protocol-Version header the SDKs add to discovery requests. */
static int metadata_preflight(request_rec *r)
{
    apr_table_setn(r->headers_out, "Access-Control-Allow-Origin", "*");
    apr_table_setn(r->headers_out, "Access-Control-Allow-Methods", "GET");
    apr_table_setn(r->headers_out, "Access-Control-Allow-Headers",
                   "mcp-protocol-version");
    apr_table_setn(r->headers_out, "Access-Control-Max-Age", CORS_MAX_AGE);
    apr_table_setn(r->headers_out, "Allow", "GET, HEAD, OPTIONS");
    r->status = HTTP_NO_CONTENT;
    return OK;
}

int mcp_transport_metadata(request_rec *r, module *self)
{
    const char *path = r->uri + strlen(MCP_METADATA_PATH);
    const mcp_dir_conf *conf;
    apr_array_header_t *servers;
    request_rec *sub;
    const char *escaped, *doc;

    if (r->method_number != M_GET && r->method_number != M_OPTIONS) {
        return DECLINED;
    }
    /* The root form describes the conventional endpoint. */
    if (*path == '\0') {
        path = "/mcp";
    }
    /* r->uri is decoded already, and a subrequest decodes again and cuts
     * at '?': escaped, ".../mc%2570" looks up "/mc%70", not "/mcp". */
    escaped = ap_escape_uri(r->pool, path);
    sub = ap_sub_req_lookup_uri(escaped, r, NULL);
    if (sub->status != HTTP_OK || sub->handler == NULL
        || strcmp(sub->handler, MCP_HANDLER_NAME) != 0) {
        ap_destroy_sub_req(sub);
        return DECLINED;
    }
    if (r->method_number == M_OPTIONS) {
        ap_destroy_sub_req(sub);
        return metadata_preflight(r);
    }
    conf = ap_get_module_config(sub->per_dir_config, self);
    servers = conf->authorization_servers;
    if (servers == NULL && conf->backend != NULL) {
        servers = apr_array_make(r->pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(servers, const char *) = matomo_base_url(r, conf);
    }
    doc = mcp_auth_resource_metadata(
        r->pool, ap_construct_url(r->pool, escaped, r),
        servers != NULL ? servers
                        : apr_array_make(r->pool, 0, sizeof(const char *)),
        conf->resource_name != NULL ? conf->resource_name
                                    : MCP_DEFAULT_RESOURCE_NAME,
        conf->scopes);
    ap_destroy_sub_req(sub);
    ap_set_content_type(r, "application/json");
    /* Public by design: browser-based clients read it cross-origin. */
    apr_table_setn(r->headers_out, "Access-Control-Allow-Origin", "*");
    apr_table_setn(r->headers_out, "Cache-Control", "max-age=3600");
    ap_set_content_length(r, (apr_off_t)strlen(doc));
    if (!r->header_only) {
        ap_rputs(doc, r);
    }
    return OK;
}
