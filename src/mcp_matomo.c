#include "mcp_matomo.h"
#include "mcp_json.h"
#include "mcp_server.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <apr_strings.h>

/* Matomo answers nest deeper than MCP messages (expanded subtables). */
#define ANSWER_MAX_DEPTH 64

/* --- read-only by construction ------------------------------------ */

/* Modules whose get* methods only read reports. */
static const char *const report_modules[] = {
    "Actions", "Contents", "CustomDimensions", "DevicePlugins",
    "DevicesDetection", "Events", "Goals", "Insights", "MultiSites",
    "PagePerformance", "Referrers", "Resolution", "UserCountry", "UserId",
    "UserLanguage", "VisitFrequency", "VisitTime", "VisitorInterest",
    "VisitsSummary", NULL
};

/* Draws a report as a PNG: read-only, but no JSON call, so only
 * mcp_matomo_chart asks it (call_query refuses it). */
#define CHART_METHOD "ImageGraph.get"

/* Single read methods of modules that also write or hold secrets. */
static const char *const read_methods[] = {
    "API.get", "API.getMatomoVersion", "API.getProcessedReport",
    "API.getReportMetadata", "API.getReportPagesMetadata",
    "API.getRowEvolution", "API.getSegmentsMetadata",
    "API.getSuggestedValuesForSegment", "Annotations.getAll",
    CHART_METHOD,
    "Live.getCounters", "Live.getLastVisitsDetails", "SegmentEditor.getAll",
    "SitesManager.getSiteFromId", "SitesManager.getSitesIdWithAtLeastViewAccess",
    "SitesManager.getSitesWithAtLeastViewAccess", NULL
};

static int in_list(const char *const *list, const char *s, size_t n)
{
    int i;

    for (i = 0; list[i] != NULL; i++) {
        if (strlen(list[i]) == n && strncmp(list[i], s, n) == 0) {
            return 1;
        }
    }
    return 0;
}

int mcp_matomo_method_allowed(const char *method)
{
    const char *dot = strchr(method, '.');
    const char *action;

    if (in_list(read_methods, method, strlen(method))) {
        return 1;
    }
    if (dot == NULL || !in_list(report_modules, method, (size_t)(dot - method))) {
        return 0;
    }
    action = dot + 1;
    /* get, or getFoo: letters and digits only. */
    return strncmp(action, "get", 3) == 0
           && (action[3] == '\0' || (action[3] >= 'A' && action[3] <= 'Z'))
           && strspn(action, "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                  == strlen(action);
}

/* Parameters the client sets itself, or that change who Matomo thinks is
 * asking or how it answers: a tool can never pass them. */
static const char *const reserved_params[] = {
    "module", "method", "format", "token_auth", "force_api_session",
    "jsoncallback", "callback", "urls", "serialize", "trigger",
    "convertToUnicode", "translateColumnNames", "language", NULL
};

int mcp_matomo_param_allowed(const char *name)
{
    size_t n = strlen(name);

    /* PHP reads token_auth[0]=x as the array token_auth, so a reserved
     * name stays reserved with brackets after it. */
    return n > 0 && n <= 64
           && strspn(name, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_[]") == n
           && !in_list(reserved_params, name, strcspn(name, "["));
}

apr_array_header_t *mcp_matomo_params(apr_pool_t *p)
{
    return apr_array_make(p, 12, sizeof(mcp_param));
}

void mcp_matomo_param_add(apr_array_header_t *params, const char *name,
                          const char *value)
{
    mcp_param *param = apr_array_push(params);

    param->name = name;
    param->value = value;
}

/* application/x-www-form-urlencoded, RFC 3986 unreserved kept. */
static char *form_escape(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~') {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* "method=M&name=value..." for an allowed method and safe names, else
 * NULL. */
static const char *call_query(apr_pool_t *p, const char *method,
                              const apr_array_header_t *params)
{
    const char *q;
    int i;

    if (!mcp_matomo_method_allowed(method) || !strcmp(method, CHART_METHOD)) {
        return NULL;
    }
    q = apr_pstrcat(p, "method=", method, NULL);
    for (i = 0; params != NULL && i < params->nelts; i++) {
        const mcp_param *param = &APR_ARRAY_IDX(params, i, mcp_param);

        if (!mcp_matomo_param_allowed(param->name)) {
            return NULL;
        }
        q = apr_pstrcat(p, q, "&", form_escape(p, param->name), "=",
                        form_escape(p, param->value), NULL);
    }
    return q;
}

const char *mcp_matomo_form(apr_pool_t *p, const char *method,
                            const apr_array_header_t *params)
{
    const char *q = call_query(p, method, params);

    return q != NULL ? apr_pstrcat(p, "module=API&format=JSON&", q, NULL)
                     : NULL;
}

/* One API.getBulkRequest for several allowed calls: each urls[i] is a
 * checked query string, and Matomo runs each with the caller's rights. */
const char *mcp_matomo_bulk_form(apr_pool_t *p, const mcp_matomo_request *calls,
                                 int n)
{
    const char *form = "module=API&format=JSON&method=API.getBulkRequest";
    int i;

    for (i = 0; i < n; i++) {
        const char *q = call_query(p, calls[i].method, calls[i].params);

        if (q == NULL) {
            return NULL;
        }
        form = apr_pstrcat(p, form, "&", form_escape(p, apr_psprintf(
                               p, "urls[%d]", i)),
                           "=", form_escape(p, q), NULL);
    }
    return form;
}

/* --- never return a credential ------------------------------------ */

/* len bytes, since a JSON string may hold U+0000 before a token. */
static int carries_credential(const char *s, size_t len, const char *token)
{
    return (token != NULL && *token != '\0'
            && memmem(s, len, token, strlen(token)) != NULL)
           || memmem(s, len, "token_auth=", 11) != NULL;
}

static int string_carries_credential(json_object *val, const char *token)
{
    return json_object_is_type(val, json_type_string)
           && carries_credential(json_object_get_string(val),
                                 (size_t)json_object_get_string_len(val),
                                 token);
}

void mcp_matomo_scrub(json_object *obj, const char *token)
{
    if (json_object_is_type(obj, json_type_object)) {
        const char *doomed[64];
        int n = 0, i;

        /* Collect first: members cannot go while the walk is on them.  A
         * member goes when its value or its name carries a credential. */
        json_object_object_foreach(obj, key, val) {
            if (string_carries_credential(val, token)
                || carries_credential(key, strlen(key), token)) {
                if (n < (int)(sizeof(doomed) / sizeof(doomed[0]))) {
                    doomed[n++] = key;
                }
            }
            else {
                mcp_matomo_scrub(val, token);
            }
        }
        for (i = 0; i < n; i++) {
            json_object_object_del(obj, doomed[i]);
        }
        if (n == (int)(sizeof(doomed) / sizeof(doomed[0]))) {
            mcp_matomo_scrub(obj, token);   /* more than one batch */
        }
    }
    else if (json_object_is_type(obj, json_type_array)) {
        size_t i, len = mcp_json_array_length(obj);

        for (i = 0; i < len; i++) {
            json_object *val = mcp_json_array_get(obj, i);

            if (string_carries_credential(val, token)) {
                json_object_array_put_idx(obj, i, json_object_new_string(""));
            }
            else {
                mcp_matomo_scrub(val, token);
            }
        }
    }
}

/* Matomo's own message, minus anything that could be a credential, cut to
 * a length a model can use: masked whole first, so that the cut leaves no
 * part of a token, then cut between UTF-8 characters. */
static const char *clean_message(apr_pool_t *p, const char *msg,
                                 const char *token)
{
    char *m = apr_pstrdup(p, msg != NULL ? msg : "");
    char *hit;

    if (token != NULL && *token != '\0') {
        while ((hit = strstr(m, token)) != NULL) {
            memset(hit, '*', strlen(token));
        }
    }
    while ((hit = strstr(m, "token_auth=")) != NULL) {
        char *end = hit + 11;

        while (*end != '\0' && *end != '&' && *end != ' ' && *end != '"') {
            *end++ = '*';
        }
        memcpy(hit, "token_auth*", 11);
    }
    return mcp_json_clip(p, m, 500);
}

/* --- answers ------------------------------------------------------ */

static void set(mcp_matomo_answer *out, mcp_matomo_status st,
                const char *message)
{
    out->status = st;
    out->message = message;
}

/* Matomo's NoAccessException, on every version. */
#define NO_ACCESS "You can't access this resource as it requires"

/* An error result is an access error when it is Matomo's
 * NoAccessException: Matomo 4 answers those with HTTP 200 (5 with 401),
 * an unknown token among them, since it is the anonymous user there. */
static mcp_matomo_status error_kind(const char *message)
{
    return message != NULL && !strncmp(message, NO_ACCESS, strlen(NO_ACCESS))
               ? MCP_MATOMO_DENIED : MCP_MATOMO_ERROR;
}

/* The page of Matomo's brute-force protection (Login plugin): HTTP 500,
 * HTML, for every request from a blocked address, valid tokens included.
 * English is what Matomo renders for API requests, which carry no
 * language. */
static int is_lockout(long http_status, const char *body, apr_size_t len)
{
    static const char mark[] = "Too many failed logins";
    apr_size_t n = sizeof(mark) - 1, i;

    if (http_status != 500 || len < n) {
        return 0;
    }
    for (i = 0; i + n <= len; i++) {
        if (body[i] == 'T' && memcmp(body + i, mark, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* What the status alone says of any answer, Matomo's lock-out first: 1
 * with out set, or 0 for a 200 whose body decides.  own_error: the body is
 * Matomo's own error (message its text), which on a 401 means a known
 * token without access (or no token); its HTML page means an unknown
 * token. */
static int classify_status(apr_pool_t *p, long http_status,
                           const char *body, apr_size_t len, int own_error,
                           const char *message, const char *token,
                           mcp_matomo_answer *out)
{
    out->http_status = http_status;
    if (is_lockout(http_status, body, len)) {
        set(out, MCP_MATOMO_LOCKED_OUT, MCP_MATOMO_LOCKOUT_MESSAGE);
        return 1;
    }
    if (http_status == 401) {
        if (own_error) {
            set(out, MCP_MATOMO_DENIED, clean_message(p, message, token));
        }
        else {
            set(out, MCP_MATOMO_BAD_TOKEN, "Matomo does not accept this "
                                           "token");
        }
        return 1;
    }
    if (http_status != 200) {
        set(out, MCP_MATOMO_HTTP_ERROR,
            apr_psprintf(p, "Matomo answered HTTP %ld", http_status));
        return 1;
    }
    return 0;
}

void mcp_matomo_classify(apr_pool_t *p, long http_status, const char *body,
                         apr_size_t len, const char *token,
                         mcp_matomo_answer *out)
{
    json_object *json = NULL;
    mcp_json_status st = mcp_json_parse(p, body, len, ANSWER_MAX_DEPTH,
                                        &json);
    int parsed = st == MCP_JSON_OK;
    const char *result = parsed ? mcp_json_get_string(json, "result") : NULL;

    if (classify_status(p, http_status, body, len, parsed,
                        parsed ? mcp_json_get_string(json, "message") : NULL,
                        token, out)) {
        return;
    }
    if (!parsed) {
        set(out, MCP_MATOMO_BAD_ANSWER, len == 0
            ? "Matomo sent an empty answer"
            : st == MCP_JSON_ERR_RANGE
            ? "Matomo's answer holds a number beyond the range of a double"
            : "Matomo's answer is not complete JSON (an error page, or cut "
              "short)");
        return;
    }
    if (result != NULL && strcmp(result, "error") == 0) {
        const char *message = mcp_json_get_string(json, "message");

        set(out, error_kind(message), clean_message(p, message, token));
        return;
    }
    mcp_matomo_scrub(json, token);
    if (string_carries_credential(json, token)) {
        /* A bare string has no container to lose it from. */
        json = mcp_json_pool_own(p, json_object_new_string(""));
    }
    out->status = MCP_MATOMO_OK;
    out->json = json;
}

/* --- the transfer ------------------------------------------------- */

typedef struct {
    char *data;
    apr_size_t len, size;
    apr_size_t cap;
    int over_cap;
} body_buffer;

static apr_status_t free_buffer(void *data)
{
    free(((body_buffer *)data)->data);
    return APR_SUCCESS;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    body_buffer *b = userdata;
    size_t n = size * nmemb;

    if (b->len + n > b->cap) {
        b->over_cap = 1;
        return 0;       /* curl aborts the transfer */
    }
    if (b->len + n + 1 > b->size) {
        apr_size_t size2 = b->size ? b->size : 16384;
        char *grown;

        while (b->len + n + 1 > size2) {
            size2 *= 2;
        }
        if ((grown = realloc(b->data, size2)) == NULL) {
            return 0;
        }
        b->data = grown;
        b->size = size2;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static apr_status_t free_headers(void *data)
{
    curl_slist_free_all(data);
    return APR_SUCCESS;
}

static int use_bearer(const mcp_matomo_backend *b, const mcp_credential *c)
{
    return b->forwarding == MCP_FORWARD_BEARER
           || (b->forwarding == MCP_FORWARD_AUTO
               && c->kind == MCP_CRED_BEARER);
}

static void transfer_failed(apr_pool_t *p, const mcp_matomo_backend *b,
                            CURLcode rc, const body_buffer *buf,
                            mcp_matomo_answer *out)
{
    switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
        set(out, MCP_MATOMO_CANCELLED, "the client went away before Matomo "
                                       "answered");
        break;
    case CURLE_OPERATION_TIMEDOUT:
        set(out, MCP_MATOMO_TIMEOUT, apr_psprintf(p,
            "Matomo did not answer within %" APR_TIME_T_FMT " ms; try a "
            "shorter period or fewer rows", apr_time_as_msec(b->timeout)));
        break;
    case CURLE_WRITE_ERROR:
        set(out, buf->over_cap ? MCP_MATOMO_TOO_LARGE : MCP_MATOMO_BAD_ANSWER,
            buf->over_cap ? apr_psprintf(p, "Matomo's answer is larger than "
                                         "the %" APR_SIZE_T_FMT " bytes "
                                         "allowed; ask for fewer rows or "
                                         "columns", buf->cap)
                          : "Matomo's answer could not be stored");
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        set(out, MCP_MATOMO_BAD_ANSWER, "Matomo closed the connection before "
                                        "the answer was complete");
        break;
    default:
        set(out, MCP_MATOMO_UNREACHABLE, apr_psprintf(p,
            "Matomo cannot be reached (%s)", curl_easy_strerror(rc)));
        break;
    }
}

struct mcp_matomo_conn {
    CURL *easy;
    CURLM *multi;
};

mcp_matomo_conn *mcp_matomo_conn_open(void)
{
    mcp_matomo_conn *conn = calloc(1, sizeof(*conn));

    if (conn == NULL) {
        return NULL;
    }
    conn->easy = curl_easy_init();
    conn->multi = curl_multi_init();
    if (conn->easy == NULL || conn->multi == NULL) {
        mcp_matomo_conn_close(conn);
        return NULL;
    }
    return conn;
}

void mcp_matomo_conn_close(mcp_matomo_conn *conn)
{
    if (conn == NULL) {
        return;
    }
    /* No transfer is ever left attached (drive removes it). */
    if (conn->multi != NULL) {
        curl_multi_cleanup(conn->multi);
    }
    if (conn->easy != NULL) {
        curl_easy_cleanup(conn->easy);
    }
    free(conn);
}

int mcp_watch_client_gone(int fd, int wait_ms, int *pending)
{
#ifdef POLLRDHUP
    struct pollfd pfd = { fd, POLLIN | POLLRDHUP, 0 };
#else
    struct pollfd pfd = { fd, POLLIN, 0 };
#endif
    char byte;

    *pending = 0;
    if (poll(&pfd, 1, wait_ms) <= 0) {
        return 0;
    }
#ifdef POLLRDHUP
    if (pfd.revents & POLLRDHUP) {
        return 1;
    }
#endif
    if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) {
        return 1;
    }
    if ((pfd.revents & POLLIN)
        && recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
        return 1;
    }
    *pending = (pfd.revents & POLLIN) != 0;
    return 0;
}

/* The longest a wait lasts without looking at the watch again. */
#define WAIT_MAX_MS 1000

static int wait_ms(const mcp_matomo_watch *w, apr_time_t next_tick)
{
    apr_time_t left;

    if (w == NULL || w->interval <= 0) {
        return WAIT_MAX_MS;
    }
    left = next_tick - apr_time_now();
    return left <= 0 ? 0
           : left >= apr_time_from_msec(WAIT_MAX_MS)
                 ? WAIT_MAX_MS
                 : (int)apr_time_as_msec(left + 999);
}

/* Runs the transfer set up on conn->easy to its end, waking up for the
 * client's socket and the watch's tick as well as for Matomo.  Returns the
 * transfer's result, or CURLE_ABORTED_BY_CALLBACK when the watch cancelled
 * it: removing the handle mid-transfer closes that connection, so Matomo
 * sees the call abandoned at once. */
static CURLcode drive(mcp_matomo_conn *conn, const mcp_matomo_watch *w)
{
    int watching = w != NULL && w->client_fd >= 0, running = 1, left;
    apr_time_t next_tick = w != NULL && w->interval > 0
                               ? apr_time_now() + w->interval : 0;
    CURLcode rc = CURLE_OK;
    CURLMsg *msg;

    if (curl_multi_add_handle(conn->multi, conn->easy) != CURLM_OK) {
        return CURLE_FAILED_INIT;
    }
    for (;;) {
        struct curl_waitfd client = { watching ? w->client_fd : -1,
                                      CURL_WAIT_POLLIN, 0 };
        int pending = 0;

        if (curl_multi_perform(conn->multi, &running) != CURLM_OK) {
            rc = CURLE_FAILED_INIT;
            break;
        }
        if (!running) {
            break;
        }
        if (curl_multi_wait(conn->multi, watching ? &client : NULL,
                            watching ? 1 : 0, wait_ms(w, next_tick),
                            NULL) != CURLM_OK) {
            rc = CURLE_FAILED_INIT;
            break;
        }
        if ((client.revents || (next_tick && apr_time_now() >= next_tick))
            && w->client_fd >= 0
            && mcp_watch_client_gone(w->client_fd, 0, &pending)) {
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        watching = watching && !pending;
        if (next_tick && apr_time_now() >= next_tick) {
            if (w->tick(w->baton)) {
                rc = CURLE_ABORTED_BY_CALLBACK;
                break;
            }
            next_tick = apr_time_now() + w->interval;
        }
    }
    while ((msg = curl_multi_info_read(conn->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE && rc == CURLE_OK) {
            rc = msg->data.result;
        }
    }
    curl_multi_remove_handle(conn->multi, conn->easy);
    return rc;
}

/* POSTs form (plus the credential) to Matomo, reading at most cap bytes
 * of its answer.  Returns the answer's body, with *status its HTTP status;
 * NULL when no whole answer came (out then says why). */
static const body_buffer *fetch(mcp_matomo_conn *conn,
                                const mcp_matomo_watch *watch, apr_pool_t *p,
                                const mcp_matomo_backend *b,
                                const mcp_credential *cred, const char *form,
                                const char *accept, apr_size_t cap,
                                long *status, mcp_matomo_answer *out)
{
    CURL *easy = conn->easy;
    body_buffer *buf = apr_pcalloc(p, sizeof(*buf));
    struct curl_slist *headers = NULL;
    CURLcode rc;

    /* The token travels once: in the POST body (never a URL, so never an
     * access log), or in the header for OAuth access tokens. */
    if (use_bearer(b, cred)) {
        headers = curl_slist_append(headers, apr_pstrcat(
            p, "Authorization: Bearer ", cred->token, NULL));
    }
    else {
        form = apr_pstrcat(p, form, "&token_auth=",
                           form_escape(p, cred->token), NULL);
    }
    if (b->forwarded_for != NULL) {
        headers = curl_slist_append(headers, apr_pstrcat(
            p, "X-Forwarded-For: ", b->forwarded_for, NULL));
    }
    headers = curl_slist_append(headers, apr_pstrcat(p, "Accept: ", accept,
                                                     NULL));
    headers = curl_slist_append(headers, "Expect:");
    apr_pool_cleanup_register(p, headers, free_headers, apr_pool_cleanup_null);
    buf->cap = cap;
    apr_pool_cleanup_register(p, buf, free_buffer, apr_pool_cleanup_null);

    curl_easy_reset(easy);   /* keeps the connection cache */
    curl_easy_setopt(easy, CURLOPT_URL, b->url);
    /* "" rather than unset: unset, libcurl takes a proxy from httpd's
     * environment (http_proxy, ALL_PROXY, ...), and the caller's token
     * would travel through it. */
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)apr_time_as_msec(b->connect_timeout));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     (long)apr_time_as_msec(b->timeout));
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, b->verify_tls ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, b->verify_tls ? 2L : 0L);
    if (b->unix_socket != NULL) {
        curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, b->unix_socket);
    }
    curl_easy_setopt(easy, CURLOPT_USERAGENT,
                     MCP_SERVER_NAME "/" MCP_SERVER_VERSION);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, buf);

    rc = drive(conn, watch);
    /* The handle keeps pointers to form and headers: unhook them. */
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, NULL);
    if (rc != CURLE_OK) {
        transfer_failed(p, b, rc, buf, out);
        return NULL;
    }
    *status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
    return buf;
}

/* POSTs form (plus the credential) to Matomo and classifies the answer. */
static void transfer(mcp_matomo_conn *conn, const mcp_matomo_watch *watch,
                     apr_pool_t *p, const mcp_matomo_backend *b,
                     const mcp_credential *cred, const char *form,
                     mcp_matomo_answer *out)
{
    long status;
    const body_buffer *buf = fetch(conn, watch, p, b, cred, form,
                                   "application/json",
                                   (apr_size_t)b->max_response, &status, out);

    if (buf != NULL) {
        mcp_matomo_classify(p, status, buf->data ? buf->data : "", buf->len,
                            cred->token, out);
    }
}

static void refuse(mcp_matomo_answer *out)
{
    set(out, MCP_MATOMO_REFUSED, "refused: not a read-only Matomo call");
}

void mcp_matomo_call(mcp_matomo_conn *conn, const mcp_matomo_watch *watch,
                     apr_pool_t *p, const mcp_matomo_backend *b,
                     const mcp_credential *cred, const char *method,
                     const apr_array_header_t *params,
                     mcp_matomo_answer *out)
{
    const char *form = mcp_matomo_form(p, method, params);

    memset(out, 0, sizeof(*out));
    if (form == NULL) {
        refuse(out);
        return;
    }
    transfer(conn, watch, p, b, cred, form, out);
}

void mcp_matomo_bulk_split(apr_pool_t *p, const mcp_matomo_answer *whole,
                           const char *token, int n,
                           mcp_matomo_answer *answers)
{
    mcp_matomo_answer all = *whole;
    int i;

    memset(answers, 0, sizeof(*answers) * (size_t)n);
    if (all.status == MCP_MATOMO_OK
        && (!json_object_is_type(all.json, json_type_array)
            || mcp_json_array_length(all.json) != (size_t)n)) {
        set(&all, MCP_MATOMO_BAD_ANSWER,
            "Matomo's bulk answer does not match the request");
    }
    for (i = 0; i < n; i++) {
        json_object *one;
        const char *result;

        if (all.status != MCP_MATOMO_OK) {
            answers[i] = all;
            continue;
        }
        one = mcp_json_array_get(all.json, (size_t)i);
        result = mcp_json_get_string(one, "result");
        answers[i].http_status = all.http_status;
        if (result != NULL && !strcmp(result, "error")) {
            const char *message = mcp_json_get_string(one, "message");

            set(&answers[i], error_kind(message),
                clean_message(p, message, token));
        }
        else {
            answers[i].status = MCP_MATOMO_OK;
            answers[i].json = one;
        }
    }
}

/* Matomo 5 splits each urls[i] at '&' and then decodes each value, but
 * Matomo 4 decodes the whole urls[i] first (API::getBulkRequest's
 * urldecode) and then splits it: there a value holding '&' ends early and
 * the rest becomes parameters of their own, method= included.  No encoding
 * reads the same on both, so such calls do not travel in a bulk request. */
static int bulk_safe(const mcp_matomo_request *calls, int n)
{
    int i, j;

    for (i = 0; i < n; i++) {
        const apr_array_header_t *params = calls[i].params;

        for (j = 0; params != NULL && j < params->nelts; j++) {
            if (strchr(APR_ARRAY_IDX(params, j, mcp_param).value, '&')) {
                return 0;
            }
        }
    }
    return 1;
}

/* The calls one after another; once Matomo did not answer, the rest get
 * that answer rather than another wait for it. */
static void call_each(mcp_matomo_conn *conn, const mcp_matomo_watch *watch,
                      apr_pool_t *p, const mcp_matomo_backend *b,
                      const mcp_credential *cred,
                      const mcp_matomo_request *calls, int n,
                      mcp_matomo_answer *answers)
{
    int i;

    for (i = 0; i < n; i++) {
        if (i > 0 && !mcp_matomo_handle_reusable(&answers[i - 1])) {
            answers[i] = answers[i - 1];
            continue;
        }
        mcp_matomo_call(conn, watch, p, b, cred, calls[i].method,
                        calls[i].params, &answers[i]);
    }
}

void mcp_matomo_bulk(mcp_matomo_conn *conn, const mcp_matomo_watch *watch,
                     apr_pool_t *p, const mcp_matomo_backend *b,
                     const mcp_credential *cred,
                     const mcp_matomo_request *calls, int n,
                     mcp_matomo_answer *answers)
{
    const char *form;
    mcp_matomo_answer whole;

    if (!bulk_safe(calls, n)) {
        call_each(conn, watch, p, b, cred, calls, n, answers);
        return;
    }
    form = mcp_matomo_bulk_form(p, calls, n);
    memset(&whole, 0, sizeof(whole));
    if (form == NULL) {
        refuse(&whole);
    }
    else {
        transfer(conn, watch, p, b, cred, form, &whole);
    }
    mcp_matomo_bulk_split(p, &whole, cred->token, n, answers);
}

int mcp_matomo_handle_reusable(const mcp_matomo_answer *answer)
{
    /* Calls never sent leave the handle as it was. */
    return answer->http_status != 0 || answer->status == MCP_MATOMO_REFUSED
           || answer->status == MCP_MATOMO_BUSY
           || answer->status == MCP_MATOMO_UNAVAILABLE;
}

/* --- charts ------------------------------------------------------- */

static const char *const graph_types[] = {
    "evolution", "horizontalBar", "verticalBar", "pie", NULL
};

int mcp_matomo_graph_type_known(const char *graph_type)
{
    return graph_type != NULL
           && in_list(graph_types, graph_type, strlen(graph_type));
}

static const char *param_value(const apr_array_header_t *params,
                               const char *name)
{
    int i;

    for (i = 0; params != NULL && i < params->nelts; i++) {
        const mcp_param *param = &APR_ARRAY_IDX(params, i, mcp_param);

        if (strcmp(param->name, name) == 0) {
            return param->value;
        }
    }
    return NULL;
}

/* A side of the picture: digits only, within bounds; else 0. */
static long chart_side(const apr_array_header_t *params, const char *name)
{
    const char *v = param_value(params, name);
    long n = 0;

    if (v == NULL || *v == '\0' || strspn(v, "0123456789") != strlen(v)
        || strlen(v) > 4) {
        return 0;
    }
    n = strtol(v, NULL, 10);
    return n >= MCP_CHART_MIN_SIDE && n <= MCP_CHART_MAX_SIDE ? n : 0;
}

const char *mcp_matomo_chart_form(apr_pool_t *p,
                                  const apr_array_header_t *params)
{
    const char *module = param_value(params, "apiModule");
    const char *action = param_value(params, "apiAction");
    const char *form = "module=API&method=" CHART_METHOD;
    int i;

    /* The renderer runs the report it is named: only a report a tool could
     * read itself. */
    if (module == NULL || action == NULL || strchr(module, '.') != NULL
        || !strcmp(module, "ImageGraph")
        || !mcp_matomo_method_allowed(apr_pstrcat(p, module, ".", action,
                                                  NULL))
        || !mcp_matomo_graph_type_known(param_value(params, "graphType"))
        || chart_side(params, "width") == 0
        || chart_side(params, "height") == 0) {
        return NULL;
    }
    for (i = 0; i < params->nelts; i++) {
        const mcp_param *param = &APR_ARRAY_IDX(params, i, mcp_param);

        if (!mcp_matomo_param_allowed(param->name)) {
            return NULL;
        }
        form = apr_pstrcat(p, form, "&", form_escape(p, param->name), "=",
                           form_escape(p, param->value), NULL);
    }
    return form;
}

static unsigned long be32(const unsigned char *b)
{
    return ((unsigned long)b[0] << 24) | ((unsigned long)b[1] << 16)
           | ((unsigned long)b[2] << 8) | (unsigned long)b[3];
}

/* A whole PNG: the signature, IHDR first (13 bytes of data), IEND last
 * (a cut answer has none).  *w and *h get its size. */
static int is_whole_png(const unsigned char *b, apr_size_t len,
                        unsigned long *w, unsigned long *h)
{
    static const unsigned char signature[8] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
    };
    static const unsigned char iend[12] = {
        0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82
    };

    if (len < sizeof(signature) + 25 + sizeof(iend)
        || memcmp(b, signature, sizeof(signature)) != 0
        || be32(b + 8) != 13 || memcmp(b + 12, "IHDR", 4) != 0
        || memcmp(b + len - sizeof(iend), iend, sizeof(iend)) != 0) {
        return 0;
    }
    *w = be32(b + 16);
    *h = be32(b + 20);
    return 1;
}

/* Strict UTF-8 (RFC 3629: no overlong forms, surrogates or code points
 * past U+10FFFF), as a message must be to become a JSON string. */
static int is_utf8(const unsigned char *s)
{
    while (*s != '\0') {
        unsigned char c = *s;
        int n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1
                : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3
                : -1;
        int i;

        if (n < 0) {
            return 0;
        }
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80) {
                return 0;
            }
        }
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)
            || (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)) {
            return 0;
        }
        s += n + 1;
    }
    return 1;
}

/* The message of Matomo's XML error (<error message="..." />), its
 * entities undone; NULL when body is no such document (Matomo writes
 * UTF-8: a message that is not is not Matomo's). */
static const char *xml_error_message(apr_pool_t *p, const char *body,
                                     apr_size_t len)
{
    static const char open[] = "<error message=\"";
    static const struct { const char *entity; char c; } entities[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
        { "&quot;", '"' }, { "&#039;", '\'' }, { "&apos;", '\'' }
    };
    const char *start = memmem(body, len, open, sizeof(open) - 1), *end;
    char *msg, *o;
    apr_size_t i;

    if (start == NULL || memmem(body, len, "<?xml", 5) != body) {
        return NULL;
    }
    start += sizeof(open) - 1;
    end = memchr(start, '"', len - (apr_size_t)(start - body));
    if (end == NULL) {
        return NULL;
    }
    msg = o = apr_pstrmemdup(p, start, (apr_size_t)(end - start));
    for (start = msg; *start != '\0';) {
        for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
            size_t n = strlen(entities[i].entity);

            if (strncmp(start, entities[i].entity, n) == 0) {
                *o++ = entities[i].c;
                start += n;
                break;
            }
        }
        if (i == sizeof(entities) / sizeof(entities[0])) {
            *o++ = *start++;
        }
    }
    *o = '\0';
    return is_utf8((const unsigned char *)msg) ? msg : NULL;
}

/* Matomo's error message in whatever form it sent it (XML when no format
 * was asked, JSON from a Matomo told otherwise); NULL when none. */
static const char *chart_error_message(apr_pool_t *p, const char *body,
                                       apr_size_t len)
{
    json_object *json = NULL;
    const char *result;

    if (len > 0 && (body[0] == '{' || body[0] == '[')) {
        if (mcp_json_parse(p, body, len, ANSWER_MAX_DEPTH, &json)
                != MCP_JSON_OK) {
            return NULL;
        }
        result = mcp_json_get_string(json, "result");
        return result != NULL && strcmp(result, "error") == 0
                   ? mcp_json_get_string(json, "message") : NULL;
    }
    return xml_error_message(p, body, len);
}

void mcp_matomo_classify_chart(apr_pool_t *p, long http_status,
                               const char *body, apr_size_t len,
                               const char *token, long width, long height,
                               mcp_matomo_answer *out)
{
    const unsigned char *bytes = (const unsigned char *)body;
    const char *message;
    unsigned long w = 0, h = 0;

    message = chart_error_message(p, body, len);
    /* Matomo's own error comes as XML here, as JSON elsewhere. */
    if (classify_status(p, http_status, body, len, message != NULL, message,
                        token, out)) {
        return;
    }
    if (is_whole_png(bytes, len, &w, &h)) {
        if (w != (unsigned long)width || h != (unsigned long)height) {
            set(out, MCP_MATOMO_BAD_ANSWER, apr_psprintf(
                p, "Matomo drew a %lux%lu picture, not the %ldx%ld asked",
                w, h, width, height));
            return;
        }
        out->status = MCP_MATOMO_OK;
        out->png = (const unsigned char *)apr_pmemdup(p, body, len);
        out->png_len = len;
        return;
    }
    if (message != NULL) {
        /* Matomo 4 sends its errors with HTTP 200. */
        set(out, error_kind(message), clean_message(p, message, token));
        return;
    }
    set(out, MCP_MATOMO_BAD_ANSWER, len == 0
        ? "Matomo sent an empty answer instead of a chart"
        : "Matomo's answer is not a whole PNG picture (cut short, or not "
          "a picture)");
}

void mcp_matomo_chart(mcp_matomo_conn *conn, const mcp_matomo_watch *watch,
                      apr_pool_t *p, const mcp_matomo_backend *b,
                      const mcp_credential *cred,
                      const apr_array_header_t *params,
                      mcp_matomo_answer *out)
{
    const char *form = mcp_matomo_chart_form(p, params);
    apr_size_t cap = (apr_size_t)(b->max_chart < b->max_response
                                      ? b->max_chart : b->max_response);
    const body_buffer *buf;
    long status;

    memset(out, 0, sizeof(*out));
    if (form == NULL) {
        refuse(out);
        return;
    }
    buf = fetch(conn, watch, p, b, cred, form, "image/png", cap, &status,
                out);
    if (buf == NULL) {
        if (out->status == MCP_MATOMO_TOO_LARGE) {
            out->message = apr_psprintf(p, "Matomo's chart is larger than "
                                        "the %" APR_SIZE_T_FMT " bytes "
                                        "allowed", cap);
        }
        return;
    }
    mcp_matomo_classify_chart(p, status, buf->data ? buf->data : "",
                              buf->len, cred->token,
                              chart_side(params, "width"),
                              chart_side(params, "height"), out);
}
