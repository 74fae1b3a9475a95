/*
 * MCP prompts (ready-made analyses from the four families of Matomo's
 * guide) and completions of their arguments and of the resource templates'
 * {idSite}.  Completions of sites, reports and dimensions come from Matomo
 * with the caller's token: a view-only user only ever completes what it can
 * see.
 *
 * httpd-free: APR and json-c only.
 */
#include "mcp_json.h"
#include "mcp_jsonrpc.h"
#include "mcp_toolkit.h"

#include <string.h>

#include <apr_strings.h>

#define MAX_COMPLETIONS 100

typedef struct {
    const char *name, *description;
    int required;
    const char *fallback;   /* substituted when not given */
} prompt_arg;

typedef struct {
    const char *name, *title, *description;
    prompt_arg args[4];
    int nargs;
    /* The message; {name} is replaced by the argument's value. */
    const char *text;
} prompt;

#define ARG_SITE { "idSite", "Site id (matomo_list_sites lists them)", 1, NULL }
#define ARG_PERIOD(d) { "period", "day, week, month, year or range", 0, d }
#define ARG_DATE(d)                                                           \
    { "date", "YYYY-MM-DD, today, yesterday, lastN, previousN, or a "          \
              "YYYY-MM-DD,YYYY-MM-DD range", 0, d }

static const prompt prompts[] = {
    {
        "matomo_traffic_exploration", "Explore a site's traffic",
        "Traffic patterns of one site for a period: volume, sources, "
        "landing pages, campaigns and how they moved.",
        { ARG_SITE, ARG_PERIOD("month"), ARG_DATE("yesterday") }, 3,
        "Explore the traffic of Matomo site {idSite} for period={period}, "
        "date={date}.\n"
        "1. Call matomo_traffic_summary with idSite={idSite}, "
        "period={period}, date={date}, compare_to=previous_period for the "
        "headline figures and their change.\n"
        "2. Call matomo_get_report with report=Referrers_getReferrerType, "
        "then report=Actions_getEntryPageUrls and "
        "report=Referrers_getCampaigns (goal_metrics=true), same site and "
        "period.\n"
        "3. Summarise: volume and its change, the top sources, landing "
        "pages and campaigns, and anything unusual. Quote Matomo's numbers; "
        "dates are in the site's timezone and today is partial."
    },
    {
        "matomo_report_interpretation", "Interpret a report, period over "
        "period",
        "What changed in one report (or in the site's headline metrics) "
        "between a period and the one before it.",
        { ARG_SITE, { "report", "A report id from matomo_list_reports, e.g. "
                      "Referrers_getCampaigns (default: "
                      "Referrers_getReferrerType, the traffic channels)", 0,
                      "Referrers_getReferrerType" },
          ARG_PERIOD("week"), ARG_DATE("yesterday") }, 4,
        "Explain what changed for Matomo site {idSite} in {report}, "
        "period={period}, date={date}, against the period before.\n"
        "1. Call matomo_traffic_summary with idSite={idSite}, "
        "period={period}, date={date}, compare_to=previous_period.\n"
        "2. Call matomo_get_report with report={report} and "
        "compare_dates set to a date of the previous period (see the "
        "resolved period in step 1), so both periods come side by side.\n"
        "3. Name the biggest absolute and relative changes, the rows behind "
        "them, and check matomo_annotations for the period for context. "
        "Do not explain changes the data does not show."
    },
    {
        "matomo_segment_analysis", "Compare segments and dimensions",
        "Patterns across segments, locations, devices or another "
        "dimension: which ones convert, bounce or grow.",
        { ARG_SITE, { "dimension", "A segment dimension, e.g. countryCode, "
                      "visitorType (default: deviceType)", 0, "deviceType" },
          ARG_PERIOD("month"), ARG_DATE("yesterday") }, 4,
        "Analyse Matomo site {idSite} by {dimension} for period={period}, "
        "date={date}.\n"
        "1. Call matomo_list_segments with idSite={idSite} and "
        "dimension={dimension} for the saved segments and the values of "
        "{dimension}.\n"
        "2. Call matomo_get_report for the report of that dimension (e.g. "
        "DevicesDetection_getType, UserCountry_getCountry) with "
        "goal_metrics=true, or with compare_segments built from the "
        "values, same period.\n"
        "3. Rank the values by conversion rate, bounce rate and visits; "
        "say which differences are large enough to matter given the "
        "visit counts."
    },
    {
        "matomo_technical_checks", "Technical checks: speed and tracking",
        "Page speed (slowest pages, mobile against desktop) and tracking "
        "health (pages that stopped sending data, last hit).",
        { ARG_SITE, ARG_DATE("today") }, 2,
        "Check the technical health of Matomo site {idSite} on "
        "date={date}.\n"
        "1. Call matomo_page_performance with idSite={idSite}, period=day, "
        "date={date}, by=page for the slowest pages.\n"
        "2. Call matomo_page_performance with compare_segments="
        "[\"deviceType==smartphone\",\"deviceType==desktop\"] for mobile "
        "against desktop.\n"
        "3. Call matomo_tracking_health with idSite={idSite} for pages that "
        "stopped sending data and the last hit.\n"
        "4. Report problems first, with the numbers; say when data is too "
        "thin to conclude."
    },
};
#define NPROMPTS ((int)(sizeof(prompts) / sizeof(prompts[0])))

/* 1 when the endpoint offers every tool the prompt's message calls for
 * (MatomoMcpTools): a prompt that leads to a tool not offered is not
 * offered either. */
static int prompt_offered(const mcp_request *req, const prompt *pr)
{
    int i;

    for (i = 0; i < req->catalog->count; i++) {
        if (!mcp_tool_set_has(req->tools_offered, i)
            && strstr(pr->text, req->catalog->tools[i].name) != NULL) {
            return 0;
        }
    }
    return 1;
}

static const prompt *find_prompt(const mcp_request *req, const char *name)
{
    int i;

    for (i = 0; name != NULL && i < NPROMPTS; i++) {
        if (!strcmp(prompts[i].name, name) && prompt_offered(req, &prompts[i])) {
            return &prompts[i];
        }
    }
    return NULL;
}

void mcp_prompts_list(mcp_request *req, json_object *params, mcp_outcome *out)
{
    json_object *result = mcp_json_pool_own(req->pool,
                                            json_object_new_object());
    json_object *list = json_object_new_array();
    int i, a;

    (void)params;
    for (i = 0; i < NPROMPTS; i++) {
        json_object *pr, *args;

        if (!prompt_offered(req, &prompts[i])) {
            continue;
        }
        pr = json_object_new_object();
        args = json_object_new_array();

        for (a = 0; a < prompts[i].nargs; a++) {
            json_object *arg = json_object_new_object();

            json_object_object_add(arg, "name", json_object_new_string(
                                                    prompts[i].args[a].name));
            json_object_object_add(arg, "description", json_object_new_string(
                prompts[i].args[a].description));
            json_object_object_add(arg, "required", json_object_new_boolean(
                prompts[i].args[a].required));
            json_object_array_add(args, arg);
        }
        json_object_object_add(pr, "name",
                               json_object_new_string(prompts[i].name));
        json_object_object_add(pr, "title",
                               json_object_new_string(prompts[i].title));
        json_object_object_add(pr, "description", json_object_new_string(
                                                      prompts[i].description));
        json_object_object_add(pr, "arguments", args);
        json_object_array_add(list, pr);
    }
    json_object_object_add(result, "prompts", list);
    mcp_outcome_json(req->pool, out, result);
}

/* text with every {name} replaced by the argument's value. */
static const char *fill(apr_pool_t *p, const prompt *pr, json_object *args)
{
    const char *text = pr->text;
    int a;

    for (a = 0; a < pr->nargs; a++) {
        const char *v = mcp_json_get_string(args, pr->args[a].name);
        const char *mark = apr_pstrcat(p, "{", pr->args[a].name, "}", NULL);
        const char *hit;

        v = v != NULL ? v : pr->args[a].fallback;
        while ((hit = strstr(text, mark)) != NULL) {
            text = apr_pstrcat(p, apr_pstrndup(p, text, (apr_size_t)(hit
                                                                    - text)),
                               v, hit + strlen(mark), NULL);
        }
    }
    return text;
}

/* What a prompt argument may hold: it is written into the message, so
 * only the values its tools accept, never free text. */
static const char *arg_rule(const char *name)
{
    return !strcmp(name, "idSite") ? "a site id (a positive integer)"
           : !strcmp(name, "period") ? "day, week, month, year or range"
           : !strcmp(name, "date") ? "YYYY-MM-DD, today, yesterday, lastN, "
                                     "previousN or YYYY-MM-DD,YYYY-MM-DD"
           : "an id of letters, digits, '_' and '.'";
}

static int arg_value_ok(const char *name, const char *v)
{
    size_t n = strlen(v);

    if (!strcmp(name, "idSite")) {
        return *v >= '1' && *v <= '9' && n <= 9
               && strspn(v, "0123456789") == n;
    }
    if (!strcmp(name, "period")) {
        return !strcmp(v, "day") || !strcmp(v, "week") || !strcmp(v, "month")
               || !strcmp(v, "year") || !strcmp(v, "range");
    }
    if (!strcmp(name, "date")) {
        return mcp_period_date_form(v) != MCP_DATE_INVALID;
    }
    return n >= 1 && n <= 120
           && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_.") == n;
}

/* Arguments are strings; each given one must hold what its tools accept.
 * NULL or what is wrong. */
static const char *check_args(apr_pool_t *p, const prompt *pr,
                              json_object *args)
{
    int a;

    for (a = 0; a < pr->nargs; a++) {
        json_object *v = NULL;
        int given = json_object_object_get_ex(args, pr->args[a].name, &v);

        if (!given && pr->args[a].required) {
            return apr_psprintf(p, "missing required argument %s",
                                pr->args[a].name);
        }
        if (given && (!json_object_is_type(v, json_type_string)
                      || json_object_get_string_len(v) > 200)) {
            return apr_psprintf(p, "argument %s must be a string of at most "
                                "200 characters", pr->args[a].name);
        }
        if (given && !arg_value_ok(pr->args[a].name,
                                   json_object_get_string(v))) {
            return apr_psprintf(p, "argument %s: %s", pr->args[a].name,
                                arg_rule(pr->args[a].name));
        }
    }
    return NULL;
}

void mcp_prompts_get(mcp_request *req, json_object *params, mcp_outcome *out)
{
    const prompt *pr = find_prompt(req, mcp_json_get_string(params, "name"));
    json_object *args = mcp_json_get_typed(params, "arguments",
                                           json_type_object);
    json_object *result, *messages, *msg, *content;
    const char *err;

    if (pr == NULL) {
        mcp_outcome_fail(out, MCP_JSONRPC_INVALID_PARAMS,
                         "Unknown prompt: prompts/list lists them");
        return;
    }
    if ((err = check_args(req->pool, pr, args)) != NULL) {
        mcp_outcome_fail(out, MCP_JSONRPC_INVALID_PARAMS, err);
        return;
    }
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    messages = json_object_new_array();
    msg = json_object_new_object();
    content = json_object_new_object();
    json_object_object_add(content, "type", json_object_new_string("text"));
    json_object_object_add(content, "text", json_object_new_string(
                                                fill(req->pool, pr, args)));
    json_object_object_add(msg, "role", json_object_new_string("user"));
    json_object_object_add(msg, "content", content);
    json_object_array_add(messages, msg);
    json_object_object_add(result, "description",
                           json_object_new_string(pr->description));
    json_object_object_add(result, "messages", messages);
    mcp_outcome_json(req->pool, out, result);
}

/* --- completion/complete -------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
    const char *typed;
    json_object *values;   /* matching values, all of them */
} matches;

static void offer(matches *m, const char *value, const char *also)
{
    if (value == NULL) {
        return;
    }
    if (strncasecmp(value, m->typed, strlen(m->typed)) == 0
        || (*m->typed != '\0' && strcasestr(value, m->typed) != NULL)
        || (also != NULL && *m->typed != '\0'
            && strcasestr(also, m->typed) != NULL)) {
        json_object_array_add(m->values, json_object_new_string(value));
    }
}

static void offer_list(matches *m, const char *const *list)
{
    int i;

    for (i = 0; list[i] != NULL; i++) {
        if (!strncasecmp(list[i], m->typed, strlen(m->typed))) {
            json_object_array_add(m->values, json_object_new_string(list[i]));
        }
    }
}

/* The caller's sites: ids starting with the typed text, or whose name
 * holds it. */
static void complete_sites(mcp_request *req, matches *m)
{
    mcp_matomo_answer a;
    size_t i;

    mcp_server_call_matomo(req, "SitesManager.getSitesWithAtLeastViewAccess",
                           NULL, &a);
    if (a.status != MCP_MATOMO_OK
        || !json_object_is_type(a.json, json_type_array)) {
        return;
    }
    for (i = 0; i < mcp_json_array_length(a.json); i++) {
        json_object *site = mcp_json_array_get(a.json, i);
        const char *id = apr_itoa(m->pool, json_object_get_int(
                                               json_object_object_get(site,
                                                                      "idsite")));

        if (!strncmp(id, m->typed, strlen(m->typed))
            || (*m->typed != '\0'
                && strcasestr(mcp_json_get_string(site, "name")
                                  ? mcp_json_get_string(site, "name") : "",
                              m->typed) != NULL)) {
            json_object_array_add(m->values, json_object_new_string(id));
        }
    }
}

/* Report ids or segment dimensions of the site named in the context. */
static void complete_from_site(mcp_request *req, matches *m,
                               json_object *context, const char *method,
                               const char *param, const char *field)
{
    json_object *cargs = mcp_json_get_typed(context, "arguments",
                                            json_type_object);
    const char *id = mcp_json_get_string(cargs, "idSite");
    apr_array_header_t *params;
    mcp_matomo_answer a;
    size_t i;

    if (id == NULL || *id < '1' || *id > '9' || strlen(id) > 9
        || strspn(id, "0123456789") != strlen(id)) {
        return;
    }
    params = mcp_matomo_params(m->pool);
    mcp_matomo_param_add(params, param, id);
    if (!strcmp(method, "API.getReportMetadata")) {
        mcp_matomo_param_add(params, "period", "day");
        mcp_matomo_param_add(params, "date", "yesterday");
        mcp_matomo_param_add(params, "hideMetricsDoc", "1");
    }
    mcp_server_call_matomo(req, method, params, &a);
    if (a.status != MCP_MATOMO_OK
        || !json_object_is_type(a.json, json_type_array)) {
        return;
    }
    for (i = 0; i < mcp_json_array_length(a.json); i++) {
        json_object *row = mcp_json_array_get(a.json, i);

        offer(m, mcp_json_get_string(row, field),
              mcp_json_get_string(row, "name"));
    }
}

static const char *const period_values[] = {
    "day", "week", "month", "year", "range", NULL
};
static const char *const date_values[] = {
    "today", "yesterday", "last7", "last30", "previous7", "previous30", NULL
};

/* 1 when ref names a prompt argument or a resource template variable this
 * server has. */
static int known_ref(const mcp_request *req, json_object *ref,
                     const char *arg)
{
    const char *type = mcp_json_get_string(ref, "type");
    const prompt *pr;
    int a;

    if (type != NULL && !strcmp(type, "ref/resource")) {
        const char *uri = mcp_json_get_string(ref, "uri");

        return uri != NULL && !strncmp(uri, "matomo://sites/{idSite}", 23)
               && !strcmp(arg, "idSite");
    }
    if (type == NULL || strcmp(type, "ref/prompt") != 0
        || (pr = find_prompt(req, mcp_json_get_string(ref, "name")))
               == NULL) {
        return 0;
    }
    for (a = 0; a < pr->nargs; a++) {
        if (!strcmp(pr->args[a].name, arg)) {
            return 1;
        }
    }
    return 0;
}

void mcp_completion_complete(mcp_request *req, json_object *params,
                             mcp_outcome *out)
{
    json_object *ref = mcp_json_get_typed(params, "ref", json_type_object);
    json_object *argument = mcp_json_get_typed(params, "argument",
                                               json_type_object);
    json_object *context = mcp_json_get_typed(params, "context",
                                              json_type_object);
    const char *name = mcp_json_get_string(argument, "name");
    const char *value = mcp_json_get_string(argument, "value");
    json_object *result, *completion, *values;
    matches m;
    size_t total, i;

    if (ref == NULL || name == NULL || value == NULL) {
        mcp_outcome_fail(out, MCP_JSONRPC_INVALID_PARAMS,
                         "completion/complete needs ref and argument "
                         "{name, value}");
        return;
    }
    m.pool = req->pool;
    m.typed = value;
    m.values = mcp_json_pool_own(req->pool, json_object_new_array());
    if (known_ref(req, ref, name)) {
        if (!strcmp(name, "idSite")) {
            complete_sites(req, &m);
        }
        else if (!strcmp(name, "period")) {
            offer_list(&m, period_values);
        }
        else if (!strcmp(name, "date")) {
            offer_list(&m, date_values);
        }
        else if (!strcmp(name, "report")) {
            complete_from_site(req, &m, context, "API.getReportMetadata",
                               "idSite", "uniqueId");
        }
        else if (!strcmp(name, "dimension")) {
            complete_from_site(req, &m, context, "API.getSegmentsMetadata",
                               "idSites", "segment");
        }
    }
    total = mcp_json_array_length(m.values);
    values = json_object_new_array();
    for (i = 0; i < total && i < MAX_COMPLETIONS; i++) {
        json_object_array_add(values, json_object_get(
                                          mcp_json_array_get(m.values, i)));
    }
    result = mcp_json_pool_own(req->pool, json_object_new_object());
    completion = json_object_new_object();
    json_object_object_add(completion, "values", values);
    json_object_object_add(completion, "total",
                           json_object_new_int64((int64_t)total));
    json_object_object_add(completion, "hasMore",
                           json_object_new_boolean(total > MAX_COMPLETIONS));
    json_object_object_add(result, "completion", completion);
    mcp_outcome_json(req->pool, out, result);
}
