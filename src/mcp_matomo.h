/*
 * The Matomo client: one read-only Reporting API call, made with the
 * caller's credential, bounded in time and size, its answer classified and
 * scrubbed of credentials before anything else sees it.
 *
 * httpd-free: APR, json-c and libcurl only.  The caller owns the
 * connection (one per thread, so connections are reused across calls).
 */
#ifndef MCP_MATOMO_H
#define MCP_MATOMO_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "mcp_auth.h"

typedef enum {
    MCP_FORWARD_AUTO = 0,   /* JWTs in the header, token_auth in the body */
    MCP_FORWARD_TOKEN_AUTH, /* always the token_auth POST field */
    MCP_FORWARD_BEARER      /* always the Authorization header */
} mcp_forwarding;

typedef struct {
    const char *url;                      /* Matomo's index.php */
    apr_interval_time_t connect_timeout;
    apr_interval_time_t timeout;
    apr_off_t max_response;
    apr_off_t max_chart;                  /* a chart's PNG: at most this
                                           * and max_response */
    int verify_tls;
    const char *unix_socket;              /* NULL: TCP */
    mcp_forwarding forwarding;
    /* Sent as X-Forwarded-For, so that Matomo (trusting this server as a
     * proxy) counts failed logins against the caller, not the module;
     * NULL: not sent. */
    const char *forwarded_for;
} mcp_matomo_backend;

typedef enum {
    MCP_MATOMO_OK,           /* json holds the answer */
    MCP_MATOMO_ERROR,        /* Matomo refused the request: message */
    MCP_MATOMO_DENIED,       /* 401 with JSON: no access to what was asked */
    MCP_MATOMO_BAD_TOKEN,    /* 401 with HTML: Matomo does not know the token */
    MCP_MATOMO_UNREACHABLE,  /* no connection */
    MCP_MATOMO_TIMEOUT,
    MCP_MATOMO_HTTP_ERROR,   /* any other HTTP status */
    MCP_MATOMO_BAD_ANSWER,   /* not JSON, or cut short */
    MCP_MATOMO_TOO_LARGE,    /* over max_response */
    MCP_MATOMO_REFUSED,      /* not a read-only call: never sent */
    MCP_MATOMO_CANCELLED,    /* the client went away: the call was dropped */
    MCP_MATOMO_LOCKED_OUT,   /* Matomo's brute-force lock-out: "Too many
                              * failed logins" (no verdict on any token) */
    MCP_MATOMO_BUSY,         /* the module's cap on calls in flight: never
                              * sent */
    MCP_MATOMO_UNAVAILABLE   /* the circuit breaker is open: never sent */
} mcp_matomo_status;

typedef struct {
    mcp_matomo_status status;
    json_object *json;       /* MCP_MATOMO_OK: scrubbed, owned by the pool */
    const char *message;     /* otherwise: for a model; holds no credential */
    long http_status;
    /* MCP_MATOMO_OK of a chart (mcp_matomo_chart): the PNG, pool-owned;
     * json is NULL then. */
    const unsigned char *png;
    apr_size_t png_len;
} mcp_matomo_answer;

typedef struct {
    const char *name;
    const char *value;
} mcp_param;

/* One thread's way to Matomo: a libcurl easy handle driven by a multi
 * handle, which keeps the connections between calls and lets a call wait
 * on the client's socket too.  Allocated with malloc: it lives as long as
 * its thread, across requests and their pools. */
typedef struct mcp_matomo_conn mcp_matomo_conn;

mcp_matomo_conn *mcp_matomo_conn_open(void);   /* NULL: out of memory */
void mcp_matomo_conn_close(mcp_matomo_conn *conn);

/* What a call keeps an eye on while Matomo computes: the client's socket
 * (a hang-up cancels the call at once) and a clock (tick runs every
 * interval; nonzero from it cancels the call too). */
typedef struct {
    int client_fd;                  /* -1: none */
    apr_interval_time_t interval;   /* 0: no tick */
    int (*tick)(void *baton);
    void *baton;
} mcp_matomo_watch;

/* Waits up to wait_ms for the peer behind socket fd to hang up (a FIN or
 * an error); returns 1 when it has.  Bytes it sent instead (a pipelined
 * request) are no hang-up: *pending is set then, since polling for them
 * again would return at once. */
int mcp_watch_client_gone(int fd, int wait_ms, int *pending);

/* 1 when Module.action is on the read-only allow-list. */
int mcp_matomo_method_allowed(const char *method);

/* 1 when a call may set parameter name: 1-64 of [A-Za-z0-9_[]] and none
 * of the reserved ones that change who is asking or how Matomo answers
 * (module, method, format, token_auth, force_api_session, urls, ...). */
int mcp_matomo_param_allowed(const char *name);

/* A parameter list for mcp_matomo_call (of mcp_param). */
apr_array_header_t *mcp_matomo_params(apr_pool_t *p);
void mcp_matomo_param_add(apr_array_header_t *params, const char *name,
                          const char *value);

/* One call of a bulk request. */
typedef struct {
    const char *method;
    const apr_array_header_t *params;
} mcp_matomo_request;

/* The form body sent for a call, without any credential.  NULL when the
 * method is not allowed or a parameter name is reserved or malformed. */
const char *mcp_matomo_form(apr_pool_t *p, const char *method,
                            const apr_array_header_t *params);

/* Calls Matomo.  Never fails silently: out->status says what happened and
 * out->message why.  A connection whose call did not end in an HTTP answer
 * should be dropped by the caller (see mcp_matomo_handle_reusable).  watch
 * may be NULL. */
void mcp_matomo_call(mcp_matomo_conn *conn, const mcp_matomo_watch *watch,
                     apr_pool_t *p, const mcp_matomo_backend *b,
                     const mcp_credential *cred, const char *method,
                     const apr_array_header_t *params,
                     mcp_matomo_answer *out);

/* The form body of an API.getBulkRequest for n calls, or NULL when any of
 * them is not allowed.  Bulk requests exist only through this function. */
const char *mcp_matomo_bulk_form(apr_pool_t *p,
                                 const mcp_matomo_request *calls, int n);

/* Several calls in one round trip (API.getBulkRequest); answers[i] is the
 * answer to calls[i].  A failure of the whole request is every answer's.
 * Calls with a value holding '&' go one by one instead (Matomo 4 would
 * split such a value inside a bulk request). */
void mcp_matomo_bulk(mcp_matomo_conn *conn, const mcp_matomo_watch *watch,
                     apr_pool_t *p, const mcp_matomo_backend *b,
                     const mcp_credential *cred,
                     const mcp_matomo_request *calls, int n,
                     mcp_matomo_answer *answers);

/* The answers[n] of a bulk request, from Matomo's whole answer to it (or
 * its failure, then every answer's): an error sub-answer's message is
 * cleaned of token as a plain call's is.  mcp_matomo_bulk's second half,
 * apart for the fuzzer's test double. */
void mcp_matomo_bulk_split(apr_pool_t *p, const mcp_matomo_answer *whole,
                           const char *token, int n,
                           mcp_matomo_answer *answers);

int mcp_matomo_handle_reusable(const mcp_matomo_answer *answer);

/* --- charts: Matomo's own renderer (ImageGraph.get) ------------------ */

/* The graph types ImageGraph.get draws and the module asks for (3dPie
 * left out: the same shares as pie, harder to read). */
int mcp_matomo_graph_type_known(const char *graph_type);

/* The picture size the module asks for, and the most it accepts: Matomo
 * caps both sides at 2048 itself. */
#define MCP_CHART_MIN_SIDE 100
#define MCP_CHART_MAX_SIDE 2048

/* The form body of an ImageGraph.get call, without any credential and
 * without format (Matomo's errors then come back as its XML, as a real
 * Matomo sends them to ImageGraph URLs).  NULL unless params name
 * apiModule and apiAction of an allowed read method, a known graphType,
 * width and height within bounds, and only safe parameter names. */
const char *mcp_matomo_chart_form(apr_pool_t *p,
                                  const apr_array_header_t *params);

/* Asks Matomo to draw a chart.  On MCP_MATOMO_OK out->png holds a whole
 * PNG (signature, IHDR first, IEND last) of exactly the width and height
 * asked, at most b->max_chart long (and never more than b->max_response).
 * Matomo's renderer draws its own errors (unknown report, metric or graph
 * type) as HTTP 200 PNGs that nothing tells apart from a chart: callers
 * check those before asking. */
void mcp_matomo_chart(mcp_matomo_conn *conn, const mcp_matomo_watch *watch,
                      apr_pool_t *p, const mcp_matomo_backend *b,
                      const mcp_credential *cred,
                      const apr_array_header_t *params,
                      mcp_matomo_answer *out);

/* Classifies an answer to ImageGraph.get (exposed for tests and
 * fuzzing): a PNG of width x height, or Matomo's error in XML, JSON or
 * HTML, or the lock-out. */
void mcp_matomo_classify_chart(apr_pool_t *p, long http_status,
                               const char *body, apr_size_t len,
                               const char *token, long width, long height,
                               mcp_matomo_answer *out);

/* What a caller is told of Matomo's lock-out. */
#define MCP_MATOMO_LOCKOUT_MESSAGE                                            \
    "Matomo refuses this server's requests after too many failed logins "    \
    "(its brute-force protection); a Matomo admin can clear the block "      \
    "(Administration, System, General settings, Login) and let Matomo see "  \
    "each caller's own address (config.ini.php: proxy_client_headers[])"

/* Classifies an HTTP answer from Matomo (exposed for tests and fuzzing). */
void mcp_matomo_classify(apr_pool_t *p, long http_status, const char *body,
                         apr_size_t len, const char *token,
                         mcp_matomo_answer *out);

/* Removes every member whose string value or name carries token (or any
 * token_auth= URL parameter) from a JSON tree, in place, and empties such
 * strings in arrays; the whole string, even past a U+0000.  A tree that is
 * itself such a string is mcp_matomo_classify's to replace. */
void mcp_matomo_scrub(json_object *obj, const char *token);

#endif
