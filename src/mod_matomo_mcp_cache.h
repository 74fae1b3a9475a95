/*
 * MatomoMcpCache over httpd's shared object cache providers (socache):
 * the directives, the provider's set-up in the parent, its mutex when it
 * needs one (shmcb), and the store the core's src/mcp_cache.h talks to
 * in each child.  As mod_ssl's SSLSessionCache: "shmcb:/path(SIZE)",
 * "redis:host:port", "memcache:host:port", ...
 */
#ifndef MOD_MATOMO_MCP_CACHE_H
#define MOD_MATOMO_MCP_CACHE_H

#include <httpd.h>
#include <http_config.h>

#include "mcp_cache.h"

/* Server-wide settings (the directives are global only). */
typedef struct {
    const char *spec;               /* as written, for messages */
    const void *provider;           /* ap_socache_provider_t */
    void *instance;                 /* ap_socache_instance_t */
    const char *secret;             /* MatomoMcpCacheSecret, or NULL */
    apr_off_t max_entry;            /* -1: unset */
    mcp_cache_ttl ttl;              /* members -1: unset */
} mcp_cache_conf;

/* Directive setters (cmd->info: see mod_matomo_mcp.c). */
const char *mcp_cache_set_provider(cmd_parms *cmd, void *dconf,
                                   const char *arg);
const char *mcp_cache_set_secret(cmd_parms *cmd, void *dconf,
                                 const char *arg);
const char *mcp_cache_set_max_entry(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *mcp_cache_set_ttl(cmd_parms *cmd, void *dconf, int argc,
                              char *const argv[]);

/* pre_config: forgets the last configuration's settings, registers the
 * mutex type. */
void mcp_cache_pre_config(apr_pool_t *pconf);

/* post_config (parent): sets the provider up; an error message when it
 * cannot be. */
const char *mcp_cache_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: the store for this child, or NULL when no cache is
 * configured (or it cannot be used: logged). */
mcp_cache *mcp_cache_child_init(apr_pool_t *pchild, server_rec *s);

/* The TTLs in force (defaults applied). */
void mcp_cache_ttls(mcp_cache_ttl *out);

#define MCP_DEFAULT_CACHE_PAST      apr_time_from_sec(3600)
#define MCP_DEFAULT_CACHE_RECENT    apr_time_from_sec(60)
#define MCP_DEFAULT_CACHE_FACTS     apr_time_from_sec(300)
#define MCP_DEFAULT_CACHE_MAX_ENTRY (512 * 1024)

#endif
