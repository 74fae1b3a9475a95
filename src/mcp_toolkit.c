#include "mcp_toolkit.h"
#include "mcp_json.h"
#include "mcp_period.h"
#include "mcp_schema.h"
#include "mcp_shape.h"

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

/* "2026" with period year is that year; Matomo names a year by any of its
 * days, the module by its first.  With any other period (or none, which
 * is day) a bare year says no day, week or month: left to be refused. */
static void forgive_year(apr_pool_t *p, json_object *schema,
                         json_object *args)
{
    json_object *props = mcp_json_get_typed(schema, "properties",
                                            json_type_object);
    const char *period = mcp_json_get_string(args, "period");
    const char *date = mcp_json_get_string(args, "date");

    if (props != NULL && json_object_object_get_ex(props, "date", NULL)
        && period != NULL && !strcmp(period, "year") && date != NULL
        && strlen(date) == 4 && strspn(date, "0123456789") == 4) {
        json_object_object_add(args, "date", json_object_new_string(
                                   apr_pstrcat(p, date, "-01-01", NULL)));
    }
}

const char *mcp_args_read(apr_pool_t *p, json_object *schema,
                          json_object *args, json_object **out)
{
    json_object *read = mcp_schema_forgive(p, schema, args);

    if (read != NULL && read != args) {
        forgive_year(p, schema, read);
    }
    *out = read;
    return mcp_schema_check(p, schema, read);
}

int mcp_arg_int(json_object *args, const char *name, int fallback)
{
    json_object *v = mcp_json_get_typed(args, name, json_type_int);

    return v != NULL ? json_object_get_int(v) : fallback;
}

const char *mcp_arg_string(json_object *args, const char *name,
                           const char *fallback)
{
    const char *v = mcp_json_get_string(args, name);

    return v != NULL ? v : fallback;
}

void mcp_paged_params(apr_pool_t *p, apr_array_header_t *params,
                      size_t limit, size_t offset)
{
    mcp_matomo_param_add(params, "filter_limit",
                         apr_psprintf(p, "%lu", (unsigned long)limit + 1));
    if (offset > 0) {
        mcp_matomo_param_add(params, "filter_offset",
                             apr_psprintf(p, "%lu", (unsigned long)offset));
    }
}

void mcp_paged_result(json_object *result, size_t got, size_t limit,
                      size_t offset)
{
    json_object_object_add(result, "has_more",
                           json_object_new_boolean(got > limit));
    if (got > limit) {
        json_object_object_add(result, "next_offset", json_object_new_int64(
                                   (int64_t)(offset + limit)));
    }
}

/* 1 when Matomo answered with data; else the result is the error, in
 * words a model can act on. */
int mcp_answered(const mcp_matomo_answer *a, mcp_tool_result *res)
{
    if (a->status == MCP_MATOMO_OK) {
        return 1;
    }
    /* Matomo answers a site the token may not view with 401, and a site
     * that does not exist with its error result. */
    res->refused = a->status == MCP_MATOMO_DENIED
                   || a->status == MCP_MATOMO_ERROR;
    res->error = a->status == MCP_MATOMO_DENIED
                     ? "Access denied: the token has no view access to what "
                       "was asked (matomo_list_sites lists the sites it can "
                       "see)"
                     : a->message;
    return 0;
}


void mcp_note_add(json_object *result, const char *text)
{
    json_object *old = NULL;
    const char *before;
    char *joined;
    size_t n, m;

    if (!json_object_object_get_ex(result, "note", &old)
        || (before = json_object_get_string(old)) == NULL
        || before[0] == '\0') {
        json_object_object_add(result, "note", json_object_new_string(text));
        return;
    }
    /* No pool here: json-c copies the joined text, which is freed now. */
    n = strlen(before);
    m = strlen(text);
    joined = malloc(n + 2 + m + 1);
    if (joined == NULL) {
        return;
    }
    memcpy(joined, before, n);
    memcpy(joined + n, "; ", 2);
    memcpy(joined + n + 2, text, m + 1);
    json_object_object_add(result, "note", json_object_new_string(joined));
    free(joined);
}

void mcp_mark_untrusted(json_object *result)
{
    mcp_note_add(result, MCP_UNTRUSTED_NOTE);
}

json_object *mcp_change_pct(double now, double before)
{
    return before != 0 ? mcp_shape_rounded((now - before) / before * 100.0,
                                           1)
                       : NULL;
}

void mcp_note_zero_baseline(apr_pool_t *p, json_object *result,
                            const char *figures)
{
    mcp_note_add(result, apr_pstrcat(
        p, "the change in percent is null for ", figures,
        ": the previous period had no data for it, and a change from zero "
        "is undefined (compare the figures themselves)", NULL));
}

/* The site's today: the later key of VisitsSummary.get for the last two
 * days, which Matomo dates in the site's timezone. */
mcp_matomo_request mcp_today_call(apr_pool_t *p, int id_site)
{
    mcp_matomo_request call;
    apr_array_header_t *params = mcp_matomo_params(p);

    mcp_matomo_param_add(params, "idSite", apr_itoa(p, id_site));
    mcp_matomo_param_add(params, "period", "day");
    mcp_matomo_param_add(params, "date", "last2");
    mcp_matomo_param_add(params, "format_metrics", "0");
    mcp_matomo_param_add(params, "showColumns", "nb_visits");
    call.method = "VisitsSummary.get";
    call.params = params;
    return call;
}

/* The latest YYYY-MM-DD key of a date-keyed answer. */
static int latest_day_key(json_object *map, mcp_day *latest)
{
    int found = 0;

    json_object_object_foreach(map, key, val) {
        mcp_day d;

        (void)val;
        if (mcp_day_parse(key, &d)
            && (!found || d.y * 10000 + d.m * 100 + d.d
                              > latest->y * 10000 + latest->m * 100
                                    + latest->d)) {
            *latest = d;
            found = 1;
        }
    }
    return found;
}

int mcp_today_from(const mcp_matomo_answer *a, mcp_day *today)
{
    return a->status == MCP_MATOMO_OK
           && json_object_is_type(a->json, json_type_object)
           && latest_day_key(a->json, today);
}

json_object *mcp_span_days(apr_pool_t *p, const char *period,
                           const char *date, const mcp_day *start,
                           const mcp_day *end)
{
    json_object *span = json_object_new_object();

    json_object_object_add(span, "period", json_object_new_string(period));
    json_object_object_add(span, "date", json_object_new_string(date));
    if (start != NULL && end != NULL) {
        json_object_object_add(span, "start", json_object_new_string(
                                                  mcp_day_format(p, *start)));
        json_object_object_add(span, "end", json_object_new_string(
                                                mcp_day_format(p, *end)));
    }
    return span;
}

void mcp_span_partial_share(json_object *span, double share)
{
    json_object_object_add(span, "partial", json_object_new_boolean(1));
    json_object_object_add(span, "elapsed_share",
                           mcp_shape_rounded(share, 3));
}

void mcp_span_partial(json_object *span, mcp_day start, mcp_day end,
                      mcp_day today)
{
    double share;

    if (mcp_period_partial(start, end, today, &share)) {
        mcp_span_partial_share(span, share);
    }
}

json_object *mcp_span_json(apr_pool_t *p, const char *period,
                           const char *date, const mcp_day *today)
{
    mcp_day start, end;
    mcp_day none = { 0, 0, 0 };
    int known = mcp_period_span(period, date, today ? *today : none, &start,
                                &end);
    json_object *span = mcp_span_days(p, period, date, known ? &start : NULL,
                                      known ? &end : NULL);

    if (known && today != NULL) {
        mcp_span_partial(span, start, end, *today);
    }
    return span;
}

int mcp_span_may_hold_today(const char *period, const char *date)
{
    apr_time_exp_t now;
    mcp_day utc, start, end;

    if (!mcp_period_resolve(period, date, &start, &end)
        || apr_time_exp_gmt(&now, apr_time_now()) != APR_SUCCESS) {
        return 0;
    }
    utc.y = now.tm_year + 1900;
    utc.m = now.tm_mon + 1;
    utc.d = now.tm_mday;
    return mcp_day_diff(utc, end) >= -1 && mcp_day_diff(start, utc) >= -1;
}

void mcp_call_dated(mcp_request *req, int id_site, const char *period,
                    const char *date, const mcp_matomo_request *calls, int n,
                    mcp_matomo_answer *answers, json_object **span)
{
    apr_pool_t *p = req->pool;
    mcp_day today;

    if (!mcp_period_is_relative(date) && !mcp_span_may_hold_today(period, date)) {
        if (n == 1) {
            mcp_server_call_matomo(req, calls[0].method, calls[0].params,
                                   &answers[0]);
        }
        else {
            mcp_server_call_matomo_bulk(req, calls, n, answers);
        }
        *span = mcp_json_pool_own(p, mcp_span_json(p, period, date, NULL));
        return;
    }
    {
        mcp_matomo_request *all = apr_pcalloc(p, sizeof(*all)
                                                     * (apr_size_t)(n + 1));
        mcp_matomo_answer *got = apr_pcalloc(p, sizeof(*got)
                                                    * (apr_size_t)(n + 1));
        int found;

        all[0] = mcp_today_call(p, id_site);
        memcpy(all + 1, calls, sizeof(*calls) * (size_t)n);
        mcp_server_call_matomo_bulk(req, all, n + 1, got);
        memcpy(answers, got + 1, sizeof(*answers) * (size_t)n);
        found = mcp_today_from(&got[0], &today);
        *span = mcp_json_pool_own(p, mcp_span_json(p, period, date,
                                               found ? &today : NULL));
    }
}
