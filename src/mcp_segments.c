/*
 * Segments Matomo did not process (see mcp_segments.h): the one place every
 * tool that takes a segment tells an unprocessed segment from a real zero.
 *
 * Why the extra round trip only for empty answers: a segment with any
 * figure was processed, so the common case costs nothing more.  Why
 * auto_archive decides: Matomo's core:archive pre-processes every saved
 * segment with auto_archive 1, so its zero is a count (or at worst an
 * archive not yet run, which is not this problem); a segment sent ad hoc
 * or saved "processed in real time" is only processed by a browser
 * request, which browser_archiving_disabled_enforce refuses, and Matomo
 * then answers zeros without a word.  Matomo's API does not tell its
 * archiving settings to a caller without superuser access, so the module
 * does not guess them: the unsegmented figure is the evidence instead.
 * (Recorded on Matomo 5.1.2: t/matomo/recorded-5.1.2-unprocessed-segment/.)
 */
#include <string.h>

#include <apr_strings.h>

#include "mcp_json.h"
#include "mcp_segments.h"
#include "mcp_toolkit.h"

/* A scalar that holds no data: null, false, 0, "" or a string reading 0
 * (Matomo writes some figures as strings, "0%" or "0.0"). */
static int scalar_empty(json_object *v)
{
    const char *s;
    char *end;
    double d;

    switch (json_object_get_type(v)) {
    case json_type_null:
        return 1;
    case json_type_boolean:
        return !json_object_get_boolean(v);
    case json_type_int:
    case json_type_double:
        return json_object_get_double(v) == 0.0;
    case json_type_string:
        s = json_object_get_string(v);
        if (*s == '\0') {
            return 1;
        }
        d = strtod(s, &end);
        return end != s && d == 0.0 && (*end == '\0' || !strcmp(end, "%"));
    default:
        return 0;
    }
}

static int object_empty(json_object *obj)
{
    json_object_object_foreach(obj, key, val) {
        (void)key;
        if (!mcp_segment_answer_empty(val)) {
            return 0;
        }
    }
    return 1;
}

int mcp_segment_answer_empty(json_object *answer)
{
    json_object *data;
    size_t i, n;

    if (json_object_is_type(answer, json_type_object)
        && json_object_object_get_ex(answer, "reportData", &data)) {
        return mcp_segment_answer_empty(data);
    }
    if (json_object_is_type(answer, json_type_array)) {
        n = mcp_json_array_length(answer);
        for (i = 0; i < n; i++) {
            if (!mcp_segment_answer_empty(mcp_json_array_get(answer, i))) {
                return 0;
            }
        }
        return 1;
    }
    if (json_object_is_type(answer, json_type_object)) {
        return object_empty(answer);
    }
    return scalar_empty(answer);
}

/* Date-keyed (a lastN, a previousN): the sum over its periods; a period
 * without visits is [] there.  -1 when no period counts visits. */
static double date_keyed_visits(json_object *answer)
{
    double sum = -1, one;

    json_object_object_foreach(answer, key, val) {
        (void)key;
        one = mcp_segment_visits(val);
        if (one >= 0) {
            sum = (sum < 0 ? 0 : sum) + one;
        }
        else if (json_object_is_type(val, json_type_array)
                 && mcp_json_array_length(val) == 0) {
            sum = sum < 0 ? 0 : sum;
        }
    }
    return sum;
}

double mcp_segment_visits(json_object *answer)
{
    json_object *v;

    if (!json_object_is_type(answer, json_type_object)) {
        return -1;
    }
    if (json_object_object_get_ex(answer, "nb_visits", &v)) {
        return json_object_is_type(v, json_type_int)
                       || json_object_is_type(v, json_type_double)
                       || json_object_is_type(v, json_type_string)
                   ? json_object_get_double(v)
                   : -1;
    }
    return date_keyed_visits(answer);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decoded as Matomo compares definitions (urldecode: %XX and +). */
static char *url_decoded(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;
    int hi, lo;

    for (; *s != '\0'; s++) {
        if (*s == '%' && (hi = hex_value(s[1])) >= 0
            && (lo = hex_value(s[2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            s += 2;
        }
        else {
            *o++ = *s == '+' ? ' ' : *s;
        }
    }
    *o = '\0';
    return out;
}

int mcp_segment_auto_archived(apr_pool_t *p, json_object *saved,
                              const char *segment)
{
    const char *asked = url_decoded(p, segment), *def;
    json_object *one, *flag;
    size_t i, n = mcp_json_array_length(saved);

    for (i = 0; i < n; i++) {
        one = mcp_json_array_get(saved, i);
        def = mcp_json_get_string(one, "definition");
        /* Any saved copy with auto_archive gets the definition's archives
         * pre-processed, whoever saved it. */
        if (def != NULL
            && (strcmp(def, segment) == 0
                || strcmp(url_decoded(p, def), asked) == 0)
            && json_object_object_get_ex(one, "auto_archive", &flag)
            && json_object_get_int(flag) == 1) {
            return 1;
        }
    }
    return 0;
}

int mcp_segment_unprocessed(apr_pool_t *p, json_object *saved,
                            const char *segment, json_object *unsegmented,
                            json_object *segmented)
{
    return !mcp_segment_auto_archived(p, saved, segment)
           && mcp_segment_visits(unsegmented) > 0
           && (segmented == NULL || mcp_segment_answer_empty(segmented));
}

/* SegmentEditor.getAll of the site, and VisitsSummary.get of the period
 * without the segment and with it. */
static void verdict_calls(apr_pool_t *p, int id_site, const char *period,
                          const char *date, const char *segment,
                          mcp_matomo_request *calls)
{
    apr_array_header_t *saved = mcp_matomo_params(p), *visits[2];
    int i;

    mcp_matomo_param_add(saved, "idSite", apr_itoa(p, id_site));
    calls[0].method = "SegmentEditor.getAll";
    calls[0].params = saved;
    for (i = 0; i < 2; i++) {
        visits[i] = mcp_matomo_params(p);
        mcp_matomo_param_add(visits[i], "idSite", apr_itoa(p, id_site));
        mcp_matomo_param_add(visits[i], "period", period);
        mcp_matomo_param_add(visits[i], "date", date);
        mcp_matomo_param_add(visits[i], "format_metrics", "0");
        calls[1 + i].method = "VisitsSummary.get";
        calls[1 + i].params = visits[i];
    }
    mcp_matomo_param_add(visits[1], "segment", segment);
}

void mcp_segment_check(mcp_request *req, json_object *result, int id_site,
                       const char *period, const char *date,
                       const char *segment, const mcp_matomo_answer *answers,
                       int n)
{
    apr_pool_t *p = req->pool;
    mcp_matomo_request calls[3];
    mcp_matomo_answer got[3];
    int i, some = 0;

    if (segment == NULL || *segment == '\0' || result == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        if (answers[i].status != MCP_MATOMO_OK) {
            continue;
        }
        if (!mcp_segment_answer_empty(answers[i].json)) {
            return;
        }
        some = 1;
    }
    if (!some) {
        return;
    }
    verdict_calls(p, id_site, period, date, segment, calls);
    memset(got, 0, sizeof(got));
    mcp_server_call_matomo_bulk(req, calls, 3, got);
    if (got[1].status != MCP_MATOMO_OK
        || !mcp_segment_unprocessed(
               p, got[0].status == MCP_MATOMO_OK ? got[0].json : NULL, segment,
               got[1].json,
               got[2].status == MCP_MATOMO_OK ? got[2].json : NULL)) {
        return;
    }
    mcp_note_add(result, apr_psprintf(
        p, "Matomo answered no data for this segment while the period has "
        "%.0f visits without it, and the segment is not saved with "
        "pre-processing (auto_archive): " MCP_SEGMENT_UNPROCESSED_NOTE,
        mcp_segment_visits(got[1].json)));
}
