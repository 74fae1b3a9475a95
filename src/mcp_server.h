/*
 * MCP dispatch: the two eras (src/mcp_era.h), the lifecycle of the legacy
 * one (initialize, ping, notifications), server/discover and
 * subscriptions/listen of the modern one, and the methods both share, over
 * one JSON-RPC message at a time; progress and log notifications while a
 * tool waits for Matomo.  Stateless: nothing survives a request, so any
 * child of any Apache can answer any message.
 *
 * httpd-free: APR and json-c only.  The transport feeds it a body and writes
 * back what it returns.
 */
#ifndef MCP_SERVER_H
#define MCP_SERVER_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mcp_auth.h"
#include "mcp_cache.h"
#include "mcp_era.h"
#include "mcp_guard.h"
#include "mcp_throttle.h"
#include "mcp_matomo.h"
#include "mcp_stats.h"
#include "mcp_tools.h"
#include "mcp_version.h"

#define MCP_SERVER_NAME    "mod_matomo_mcp"
#define MCP_SERVER_TITLE   "Matomo analytics (mod_matomo_mcp)"
/* The release, written once, in debian/changelog (src/mcp_version.h is
 * generated from it). */
#define MCP_SERVER_VERSION MCP_VERSION

/* Messages in one batch (revision 2025-03-26): each may call Matomo, and
 * one worker answers them all in turn. */
#define MCP_BATCH_MAX 16

/* The client's side of one request, as the transport sees it. */
typedef struct {
    void *baton;
    /* Sends a notification ahead of the answer, on an event stream, when
     * the client takes one (else drops it).  Nonzero: the client is gone. */
    int (*notify)(void *baton, const char *json, apr_size_t len);
    /* Nonzero when the client has gone (cheap; called while waiting). */
    int (*gone)(void *baton);
    /* Takes one of this process's subscriptions/listen slots, released
     * with the request; nonzero when none is free. */
    int (*listen_slot)(void *baton);
    int streams;        /* the client accepts text/event-stream */
    int fd;             /* its socket, watched for a hang-up; -1: none */
} mcp_channel;

/* Everything one message needs; built by the transport per request. */
typedef struct mcp_request {
    apr_pool_t *pool;
    const mcp_catalog *catalog;
    mcp_headers headers;            /* as the client sent them */
    const char *website_url;        /* serverInfo.websiteUrl */
    mcp_channel *channel;           /* may be NULL */
    apr_interval_time_t progress_interval;  /* heartbeats while waiting */
    apr_size_t result_budget;       /* largest tool result; 0: no limit */
    mcp_tool_set tools_offered;     /* MatomoMcpTools (or the default
                                     * set); 0: every tool */

    /* The Matomo side: where, as whom, over which connection. */
    const mcp_matomo_backend *backend;
    mcp_credential credential;      /* the caller's; token never logged */
    mcp_matomo_conn *conn;          /* this thread's */
    mcp_verdict_cache *verdicts;    /* per process; may be NULL */
    mcp_cache *cache;               /* MatomoMcpCache; NULL: none */
    mcp_cache_ttl cache_ttl;
    int conn_broken;                /* set: the glue drops the connection */
    const mcp_matomo_answer *outage; /* Matomo unreachable or too slow */
    int token_rejected;             /* set: answer 401 invalid_token */
    int cancelled;                  /* set: the client went away */

    /* What protects Matomo (src/mcp_guard.h, src/mcp_throttle.h): per
     * process, NULL when absent (the unit tests, the fuzzers). */
    const char *client_address;     /* the caller, as Apache sees it */
    mcp_guard *guard;
    mcp_guard_budget budget;
    mcp_throttle *throttle;
    mcp_throttle_limits limits;
    apr_interval_time_t retry_after; /* set: answer 429, token unchecked */
    int lockout_incident;           /* set: the glue logs the lock-out */

    /* What the core learns from the message itself. */
    mcp_era era;
    mcp_meta meta;                  /* modern era only */
    json_object *progress_token;    /* tools/call's, or NULL */
    /* The Matomo methods the running tool's definition lists: it may call
     * no other.  NULL outside a tool (resources, prompts). */
    const apr_array_header_t *tool_methods;
    int progress;                   /* notifications sent for it */
    apr_time_t progress_at;         /* when the last one went */
    int round_trips;                /* Matomo answers so far */

    /* Where this request's answers came from (the result says it). */
    int from_cache;                 /* answers the cache gave */
    int from_matomo;                /* answers Matomo gave (or another
                                     * request's identical call) */
    apr_time_t cached_at;           /* when the oldest cached one was
                                     * Matomo's answer */
    apr_time_t called_at;           /* when the tool started */
    apr_interval_time_t result_ttl; /* how long its result may be kept:
                                     * its shortest-lived answer's TTL
                                     * (0: not at all; -1: no answer yet) */
    int token_key_set;
    unsigned char token_key[MCP_CACHE_KEY_SIZE];

    /* What the administrator sees (src/mcp_stats.h): this process's
     * counters (NULL: none kept) and this request's access-log notes. */
    mcp_stats_slot *stats;
    mcp_notes notes;
    const char *answer_class;       /* the last Matomo answer a tool got,
                                     * when it was no data: its class */
} mcp_request;

typedef struct {
    int http_status;      /* 200, 202 (no body), 400, 401, 404, 429 or
                           * 503 */
    const char *body;     /* a JSON-RPC message (an array of them for a
                           * batch), NULL with 202 */
    apr_size_t len;
    /* subscriptions/listen: the acknowledgement to send first, then the
     * stream is held open (within the transport's bound) before body, the
     * closing result. */
    const char *listen_ack;
} mcp_reply;

/* The outcome of one JSON-RPC method: a serialised result, or an error. */
typedef struct {
    const char *result;   /* JSON text */
    int error_code;
    const char *error_message;
    json_object *error_data;
    int http_status;      /* 0: what the era gives a method's error */
    const char *listen_ack;   /* see mcp_reply */
    int complete;         /* result already carries the modern fields */
} mcp_outcome;

typedef void mcp_method_fn(mcp_request *req, json_object *params,
                           mcp_outcome *out);

void mcp_outcome_fail(mcp_outcome *out, int code, const char *message);
void mcp_outcome_json(apr_pool_t *p, mcp_outcome *out, json_object *result);

/* The methods beyond the lifecycle and tools (src/mcp_resources.c,
 * src/mcp_prompts.c). */
mcp_method_fn mcp_resources_list, mcp_resources_templates, mcp_resources_read;
mcp_method_fn mcp_prompts_list, mcp_prompts_get, mcp_completion_complete;

/* One Matomo call with the caller's credential.  Notes a rejected token
 * (for the 401 and the verdict cache) and a connection not to reuse. */
void mcp_server_call_matomo(mcp_request *req, const char *method,
                            const apr_array_header_t *params,
                            mcp_matomo_answer *answer);

/* Several calls in one round trip, same bookkeeping. */
void mcp_server_call_matomo_bulk(mcp_request *req,
                                 const mcp_matomo_request *calls, int n,
                                 mcp_matomo_answer *answers);

/* A chart Matomo draws (ImageGraph.get, see mcp_matomo_chart), with the
 * same slot, bookkeeping and progress as any call. */
void mcp_server_call_matomo_chart(mcp_request *req,
                                  const apr_array_header_t *params,
                                  mcp_matomo_answer *answer);

/* The JSON-RPC methods the server dispatches, by index (for counters). */
int mcp_server_method_count(void);
const char *mcp_server_method_name(int i);

/* Handles one HTTP body and fills reply. */
void mcp_server_handle(mcp_request *req, const char *body, apr_size_t len,
                       mcp_reply *reply);

#endif
