/*
 * Caller credentials: reading the bearer token, telling a Matomo token_auth
 * from an OAuth access token, and remembering briefly what Matomo said about
 * a token, keyed by a salted hash so that no token is ever kept.
 *
 * httpd-free: APR only.
 */
#ifndef MCP_AUTH_H
#define MCP_AUTH_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* Matomo token_auth values are 32 hex digits; OAuth JWTs run to a few KB. */
#define MCP_AUTH_MAX_TOKEN 4096

typedef enum {
    MCP_AUTH_MISSING,     /* no Authorization header */
    MCP_AUTH_MALFORMED,   /* not "Bearer <b64token>", or an unsafe token */
    MCP_AUTH_OK
} mcp_auth_status;

/* How a credential travels to Matomo. */
typedef enum {
    MCP_CRED_TOKEN_AUTH,  /* POST field token_auth: every Matomo version */
    MCP_CRED_BEARER       /* Authorization: Bearer, for the OAuth2 plugin */
} mcp_cred_kind;

typedef struct {
    const char *token;
    mcp_cred_kind kind;
} mcp_credential;

/* Reads an Authorization header value (NULL when absent).  Accepts only the
 * Bearer scheme (any case) and RFC 6750 b64token characters. */
mcp_auth_status mcp_auth_parse_bearer(const char *header, const char **token);

/* 1 when token has the shape of a JWT (three base64url parts, the first
 * a JSON object): an OAuth access token rather than a token_auth. */
int mcp_auth_looks_like_jwt(const char *token);

/* RFC 9728 Protected Resource Metadata for resource (the MCP URL as clients
 * reach it); servers and scopes are arrays of const char *, scopes may be
 * NULL.  Returns the JSON text, allocated from p. */
const char *mcp_auth_resource_metadata(apr_pool_t *p, const char *resource,
                                       const apr_array_header_t *servers,
                                       const char *resource_name,
                                       const apr_array_header_t *scopes);

/* --- verdict cache ------------------------------------------------- */

typedef enum {
    MCP_VERDICT_UNKNOWN = 0,
    MCP_VERDICT_VALID,
    MCP_VERDICT_INVALID
} mcp_verdict;

typedef struct mcp_verdict_cache mcp_verdict_cache;

/* A per-process cache of capacity entries, each valid for ttl; thread-safe.
 * Lives in p (a child's pool). */
apr_status_t mcp_verdict_cache_create(apr_pool_t *p, int capacity,
                                      apr_interval_time_t ttl,
                                      mcp_verdict_cache **out);

/* A verdict is about a token at one Matomo, reached one way: scope names
 * that (backend URL and forwarding mode), so one endpoint's verdict never
 * decides for another's. */
mcp_verdict mcp_verdict_cache_get(mcp_verdict_cache *c, const char *scope,
                                  const char *token, apr_time_t now);

void mcp_verdict_cache_put(mcp_verdict_cache *c, const char *scope,
                           const char *token, mcp_verdict verdict,
                           apr_time_t now);

/* 1 when Matomo accepted token in scope within the last day, whatever its
 * verdict's freshness: such a token skips the token-check budget. */
int mcp_verdict_cache_known_good(mcp_verdict_cache *c, const char *scope,
                                 const char *token, apr_time_t now);

#endif
