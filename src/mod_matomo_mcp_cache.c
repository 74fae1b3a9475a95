#include "mod_matomo_mcp_cache.h"
#include "mod_matomo_mcp_config.h"
#include "mod_matomo_mcp_status.h"

#include <apr_global_mutex.h>
#include <apr_strings.h>

#include <ap_provider.h>
#include <ap_socache.h>
#include <http_log.h>
#include <util_mutex.h>

APLOG_USE_MODULE(matomo_mcp);

#define MUTEX_TYPE "matomo-mcp-cache"

/* What the cache's entries look like to a provider that sizes itself
 * from hints (shmcb): a kind byte and a SHA-1, answers of a few kB. */
#define HINT_ID_LEN  21
#define HINT_OBJ_LEN 8192

/* The verdict TTL: as the per-process memory of tokens (mod_matomo_mcp.c). */
#define VERDICT_TTL apr_time_from_sec(60)

static mcp_cache_conf conf;

/* What a child's store needs. */
typedef struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex;      /* NULL: the provider locks itself */
    server_rec *s;                  /* the server, for this module's lines */
    server_rec *quiet;              /* the same, for the provider's own */
    const char *spec;
} socache_store;

static apr_global_mutex_t *mutex;
static unsigned char salt[32];
static apr_size_t salt_len;

static void forget(void)
{
    memset(&conf, 0, sizeof(conf));
    conf.max_entry = -1;
    conf.ttl.past = conf.ttl.recent = conf.ttl.facts = -1;
    mutex = NULL;
    salt_len = 0;
}

void mcp_cache_pre_config(apr_pool_t *pconf)
{
    forget();
    ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

/* --- directives --------------------------------------------------- */

static const char *provider_names(apr_pool_t *p)
{
    apr_array_header_t *names = ap_list_provider_names(
        p, AP_SOCACHE_PROVIDER_GROUP, AP_SOCACHE_PROVIDER_VERSION);
    const char *list = NULL;
    int i;

    for (i = 0; names != NULL && i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, ap_list_provider_names_t)
                            .provider_name;

        list = list == NULL ? n : apr_pstrcat(p, list, ", ", n, NULL);
    }
    return list != NULL ? list : "none";
}

/* "name" or "name:args", as SSLSessionCache reads it. */
const char *mcp_cache_set_provider(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance = NULL;
    const char *colon = strchr(arg, ':'), *name, *args;

    (void)dconf;
    if (err != NULL) {
        return err;
    }
    name = colon != NULL ? apr_pstrndup(cmd->temp_pool, arg,
                                        (apr_size_t)(colon - arg))
                         : arg;
    args = colon != NULL ? colon + 1 : NULL;
    if (!strcasecmp(name, "none")) {
        conf.provider = NULL;
        conf.spec = NULL;
        return NULL;
    }
    provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                  AP_SOCACHE_PROVIDER_VERSION);
    if (provider == NULL) {
        return apr_psprintf(cmd->pool, "%s: no cache provider '%s' is "
                            "loaded (LoadModule socache_%s_module, "
                            "mod_socache_%s.so, must come before this "
                            "line; loaded: %s)", cmd->cmd->name, name, name,
                            name, provider_names(cmd->temp_pool));
    }
    err = provider->create(&instance, args, cmd->temp_pool, cmd->pool);
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    conf.provider = provider;
    conf.instance = instance;
    conf.spec = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* The salt of token hashes: the same on every node sharing a store. */
const char *mcp_cache_set_secret(cmd_parms *cmd, void *dconf,
                                 const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dconf;
    if (err != NULL) {
        return err;
    }
    if (strlen(arg) < 16 || strlen(arg) > sizeof(salt)) {
        return apr_psprintf(cmd->pool, "%s: the secret must be 16 to %d "
                            "characters long", cmd->cmd->name,
                            (int)sizeof(salt));
    }
    conf.secret = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

const char *mcp_cache_set_max_entry(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dconf;
    return err != NULL ? err : mcp_config_set_size(cmd, &conf, arg);
}

/* ap_timeout_parameter_parse reads "soon" as 0 s: the whole argument
 * must be digits and one of its units. */
static int is_duration(const char *arg)
{
    size_t digits = strspn(arg, "0123456789");
    const char *unit = arg + digits;

    return digits > 0 && (*unit == '\0' || !strcmp(unit, "ms")
                          || !strcmp(unit, "s") || !strcmp(unit, "mi")
                          || !strcmp(unit, "h"));
}

/* PAST [RECENT [FACTS]]: durations, 0 for "not cached". */
const char *mcp_cache_set_ttl(cmd_parms *cmd, void *dconf, int argc,
                              char *const argv[])
{
    apr_interval_time_t *slots[3];
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    int i;

    (void)dconf;
    if (err != NULL) {
        return err;
    }
    slots[0] = &conf.ttl.past;
    slots[1] = &conf.ttl.recent;
    slots[2] = &conf.ttl.facts;
    if (argc < 1 || argc > 3) {
        return apr_psprintf(cmd->pool, "%s takes one to three durations: "
                            "PAST [RECENT [FACTS]]", cmd->cmd->name);
    }
    for (i = 0; i < argc; i++) {
        apr_interval_time_t t;

        if (!is_duration(argv[i])
            || ap_timeout_parameter_parse(argv[i], &t, "s") != APR_SUCCESS
            || t < 0 || t > apr_time_from_sec(7 * 24 * 3600)) {
            return apr_psprintf(cmd->pool, "%s: '%s' must be a duration "
                                "from 0 (not cached) to 7 days (e.g. 1h, "
                                "90s, 10mi)", cmd->cmd->name, argv[i]);
        }
        *slots[i] = t;
    }
    return NULL;
}

static apr_interval_time_t or_default(apr_interval_time_t v,
                                      apr_interval_time_t d)
{
    return v >= 0 ? v : d;
}

void mcp_cache_ttls(mcp_cache_ttl *out)
{
    out->past = or_default(conf.ttl.past, MCP_DEFAULT_CACHE_PAST);
    out->recent = or_default(conf.ttl.recent, MCP_DEFAULT_CACHE_RECENT);
    out->facts = or_default(conf.ttl.facts, MCP_DEFAULT_CACHE_FACTS);
    out->verdict = VERDICT_TTL;
}

/* --- the parent --------------------------------------------------- */

static apr_status_t destroy_instance(void *data)
{
    server_rec *s = data;
    const ap_socache_provider_t *provider = conf.provider;

    if (provider != NULL && conf.instance != NULL) {
        provider->destroy(conf.instance, s);
    }
    return APR_SUCCESS;
}

const char *mcp_cache_post_config(apr_pool_t *pconf, server_rec *s)
{
    const ap_socache_provider_t *provider = conf.provider;
    struct ap_socache_hints hints;
    apr_status_t rv;

    /* /server-status shows cache hits and misses only with a cache. */
    mcp_status_note_cache(provider != NULL);
    if (provider == NULL) {
        return NULL;
    }
    if (provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&mutex, NULL, MUTEX_TYPE, NULL, s,
                                    pconf, 0);
        if (rv != APR_SUCCESS) {
            return apr_psprintf(pconf, "MatomoMcpCache %s: cannot create "
                                "its mutex", conf.spec);
        }
    }
    memset(&hints, 0, sizeof(hints));
    hints.avg_id_len = HINT_ID_LEN;
    hints.avg_obj_size = HINT_OBJ_LEN;
    hints.expiry_interval = apr_time_from_sec(30);
    rv = provider->init(conf.instance, "mod_matomo_mcp", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(pconf, "MatomoMcpCache %s: the provider cannot "
                            "start", conf.spec);
    }
    apr_pool_cleanup_register(pconf, s, destroy_instance,
                              apr_pool_cleanup_null);
    /* Without a secret, one made up here, before the children fork: they
     * share it, other Apaches do not (their token-keyed entries stay
     * apart). */
    if (conf.secret != NULL) {
        salt_len = strlen(conf.secret);
        memcpy(salt, conf.secret, salt_len);
    }
    else if (apr_generate_random_bytes(salt, sizeof(salt)) == APR_SUCCESS) {
        salt_len = sizeof(salt);
    }
    else {
        return "MatomoMcpCache: no random bytes for the cache's salt";
    }
    return NULL;
}

/* --- a child's store ---------------------------------------------- */

static apr_status_t locked(socache_store *st)
{
    return st->mutex != NULL ? apr_global_mutex_lock(st->mutex)
                             : APR_SUCCESS;
}

static void unlock(socache_store *st)
{
    if (st->mutex != NULL) {
        apr_global_mutex_unlock(st->mutex);
    }
}

static apr_status_t store_get(void *baton, const unsigned char *id,
                              unsigned int idlen, unsigned char *buf,
                              unsigned int *len, apr_pool_t *p)
{
    socache_store *st = baton;
    apr_status_t rv = locked(st);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = st->provider->retrieve(st->instance, st->quiet, id, idlen, buf, len,
                                p);
    unlock(st);
    return rv;
}

static apr_status_t store_put(void *baton, const unsigned char *id,
                              unsigned int idlen, apr_time_t expiry,
                              unsigned char *value, unsigned int len,
                              apr_pool_t *p)
{
    socache_store *st = baton;
    apr_status_t rv = locked(st);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = st->provider->store(st->instance, st->quiet, id, idlen, expiry,
                             value, len, p);
    unlock(st);
    return rv;
}

static void store_incident(void *baton, int down, const char *what,
                           apr_status_t rv)
{
    socache_store *st = baton;

    if (down) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, st->s, "MatomoMcpCache %s: "
                     "%s (one line per incident and child)", st->spec, what);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, st->s, "MatomoMcpCache "
                     "%s: the cache works again", st->spec);
    }
}

mcp_cache *mcp_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    socache_store *st;
    mcp_cache_store store;
    mcp_cache *c;

    if (conf.provider == NULL || salt_len == 0) {
        return NULL;
    }
    st = apr_pcalloc(pchild, sizeof(*st));
    st->provider = conf.provider;
    st->instance = conf.instance;
    st->mutex = mutex;
    st->s = s;
    st->spec = conf.spec;
    /* The providers log every failed call themselves (memcache at error
     * level, redis at crit): a cache that is down would write a line or
     * two per request.  They get a copy of the server that logs only
     * alerts; this module writes one line per incident instead. */
    st->quiet = apr_pmemdup(pchild, s, sizeof(*s));
    st->quiet->log.level = APLOG_ALERT;
    st->quiet->log.module_levels = NULL;
    if (mutex != NULL
        && apr_global_mutex_child_init(&st->mutex,
                                       apr_global_mutex_lockfile(mutex),
                                       pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "MatomoMcpCache %s: its "
                     "mutex is not usable in this child: no cache here",
                     conf.spec);
        return NULL;
    }
    store.baton = st;
    store.get = store_get;
    store.put = store_put;
    store.incident = store_incident;
    c = mcp_cache_create(pchild, &store, salt, salt_len,
                         (apr_size_t)(conf.max_entry >= 0
                                          ? conf.max_entry
                                          : MCP_DEFAULT_CACHE_MAX_ENTRY));
    if (c == NULL) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "MatomoMcpCache %s: no "
                     "cache in this child (out of resources)", conf.spec);
    }
    return c;
}
