#include "mcp_period.h"

#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                31 };

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n digits. */
static int digits(const char *s, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* YYYY-MM-DD by its digits alone (a calendar day or not). */
static int date_shaped(const char *s)
{
    int ignored;

    return s[4] == '-' && s[7] == '-' && digits(s, 4, &ignored)
           && digits(s + 5, 2, &ignored) && digits(s + 8, 2, &ignored);
}

static int valid(mcp_day d)
{
    return d.y >= 1991 && d.y <= 9999 && d.m >= 1 && d.m <= 12 && d.d >= 1
           && d.d <= days_in_month(d.y, d.m);
}

int mcp_day_parse(const char *s, mcp_day *out)
{
    mcp_day d;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-'
        || !digits(s, 4, &d.y) || !digits(s + 5, 2, &d.m)
        || !digits(s + 8, 2, &d.d) || !valid(d)) {
        return 0;
    }
    *out = d;
    return 1;
}

const char *mcp_day_format(apr_pool_t *p, mcp_day d)
{
    return apr_psprintf(p, "%04d-%02d-%02d", d.y, d.m, d.d);
}

/* Days since 1970-01-01 and back (proleptic Gregorian). */
static long to_days(mcp_day d)
{
    int y = d.m <= 2 ? d.y - 1 : d.y;
    long era = y / 400;
    long yoe = y - era * 400;
    long doy = (153 * (d.m + (d.m > 2 ? -3 : 9)) + 2) / 5 + d.d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

static mcp_day from_days(long z)
{
    long era, doe, yoe, doy, mp;
    mcp_day d;

    z += 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d.d = (int)(doy - (153 * mp + 2) / 5 + 1);
    d.m = (int)(mp < 10 ? mp + 3 : mp - 9);
    d.y = (int)(yoe + era * 400 + (d.m <= 2 ? 1 : 0));
    return d;
}

long mcp_day_diff(mcp_day a, mcp_day b)
{
    return to_days(b) - to_days(a);
}

int mcp_period_partial(mcp_day start, mcp_day end, mcp_day today,
                       double *share)
{
    long days = to_days(end) - to_days(start) + 1;

    if (!valid(today) || to_days(today) < to_days(start)
        || to_days(today) > to_days(end) || days < 1) {
        return 0;
    }
    *share = (double)(to_days(today) - to_days(start)) / (double)days;
    return 1;
}

int mcp_period_bounds(const char *period, mcp_day day, mcp_day *start,
                      mcp_day *end)
{
    if (!strcmp(period, "day")) {
        *start = *end = day;
    }
    else if (!strcmp(period, "week")) {
        long n = to_days(day);
        long monday = n - ((n + 3) % 7);   /* 1970-01-01 was a Thursday */

        *start = from_days(monday);
        *end = from_days(monday + 6);
    }
    else if (!strcmp(period, "month")) {
        start->y = end->y = day.y;
        start->m = end->m = day.m;
        start->d = 1;
        end->d = days_in_month(day.y, day.m);
    }
    else if (!strcmp(period, "year")) {
        start->y = end->y = day.y;
        start->m = start->d = 1;
        end->m = 12;
        end->d = 31;
    }
    else {
        return 0;
    }
    return 1;
}

static int parse_range(const char *s, mcp_day *start, mcp_day *end)
{
    char first[11];

    if (strlen(s) != 21 || s[10] != ',') {
        return 0;
    }
    memcpy(first, s, 10);
    first[10] = '\0';
    return mcp_day_parse(first, start) && mcp_day_parse(s + 11, end)
           && to_days(*start) <= to_days(*end);
}

int mcp_period_from_key(const char *period, const char *key, mcp_day *start,
                        mcp_day *end)
{
    mcp_day d;
    size_t n = strlen(key);

    if (n == 21) {
        return parse_range(key, start, end);
    }
    if (n == 10) {
        return mcp_day_parse(key, &d) && mcp_period_bounds(period, d, start,
                                                           end);
    }
    if (n == 7 && key[4] == '-' && digits(key, 4, &d.y)
        && digits(key + 5, 2, &d.m)) {
        d.d = 1;
        return valid(d) && mcp_period_bounds("month", d, start, end);
    }
    if (n == 4 && digits(key, 4, &d.y)) {
        d.m = d.d = 1;
        return valid(d) && mcp_period_bounds("year", d, start, end);
    }
    return 0;
}

int mcp_period_resolve(const char *period, const char *date, mcp_day *start,
                       mcp_day *end)
{
    mcp_day d;

    if (!strcmp(period, "range")) {
        return parse_range(date, start, end);
    }
    return mcp_day_parse(date, &d) && mcp_period_bounds(period, d, start, end);
}

mcp_day mcp_period_shift(const char *period, mcp_day day, int n)
{
    long months;

    if (!strcmp(period, "week")) {
        return from_days(to_days(day) + 7L * n);
    }
    if (!strcmp(period, "month") || !strcmp(period, "year")) {
        months = day.y * 12L + (day.m - 1) + (long)n * (period[0] == 'y' ? 12
                                                                          : 1);
        day.y = (int)(months / 12);
        day.m = (int)(months % 12) + 1;
        /* Only the period matters: the 1st is in every month. */
        day.d = 1;
        return day;
    }
    return from_days(to_days(day) + n);   /* day, range: days */
}

static int count_after(const char *s, const char *prefix, int *n)
{
    size_t len = strlen(prefix), i;

    if (strncmp(s, prefix, len) != 0 || s[len] == '\0' || strlen(s) > len + 4) {
        return 0;
    }
    for (i = len, *n = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        *n = *n * 10 + (s[i] - '0');
    }
    return *n >= 1;
}

int mcp_period_count(const char *date)
{
    int n;

    return count_after(date, "last", &n) || count_after(date, "previous", &n)
               ? n
               : 0;
}

int mcp_period_max_n(const char *period)
{
    return !strcmp(period, "day")     ? 5 * 365
           : !strcmp(period, "week")  ? 10 * 52
           : !strcmp(period, "month") ? 10 * 12
           : !strcmp(period, "year")  ? 10
                                      : 0;
}

int mcp_period_span(const char *period, const char *date, mcp_day today,
                    mcp_day *start, mcp_day *end)
{
    const char *unit = !strcmp(period, "range") ? "day" : period;
    mcp_day first, last, ignored;
    int n;

    if (mcp_period_resolve(period, date, start, end)) {
        return 1;
    }
    if (!valid(today)) {
        return 0;   /* today unknown: relative dates say nothing */
    }
    if (!strcmp(date, "today") || !strcmp(date, "yesterday")) {
        mcp_day d = date[0] == 'y' ? mcp_period_shift("day", today, -1)
                                   : today;

        return strcmp(period, "range") != 0
               && mcp_period_bounds(period, d, start, end);
    }
    if (count_after(date, "last", &n)) {
        last = today;
    }
    else if (count_after(date, "previous", &n)) {
        last = mcp_period_shift(unit, today, -1);
    }
    else {
        return 0;
    }
    /* As Matomo: it cuts N to its cap without a word, so the span it
     * answers for is the cut one. */
    if (mcp_period_max_n(period) > 0 && n > mcp_period_max_n(period)) {
        n = mcp_period_max_n(period);
    }
    first = mcp_period_shift(unit, last, -(n - 1));
    return mcp_period_bounds(unit, first, start, &ignored)
           && mcp_period_bounds(unit, last, &ignored, end);
}

mcp_date_form mcp_period_date_form(const char *date)
{
    size_t n = strlen(date);
    const char *digits_at = NULL;

    if (!strcmp(date, "today") || !strcmp(date, "yesterday")) {
        return MCP_DATE_TODAY;
    }
    if (!strncmp(date, "last", 4)) {
        digits_at = date + 4;
    }
    else if (!strncmp(date, "previous", 8)) {
        digits_at = date + 8;
    }
    if (digits_at != NULL) {
        size_t k = strlen(digits_at);

        return k >= 1 && k <= 3 && *digits_at != '0'
                       && strspn(digits_at, "0123456789") == k
                   ? MCP_DATE_COUNT : MCP_DATE_INVALID;
    }
    if (n == 10 && date_shaped(date)) {
        return MCP_DATE_DAY;
    }
    if (n == 21 && date[10] == ',' && date_shaped(date)
        && date_shaped(date + 11)) {
        return MCP_DATE_RANGE;
    }
    return MCP_DATE_INVALID;
}

int mcp_period_is_relative(const char *date)
{
    mcp_date_form form = mcp_period_date_form(date);

    return form == MCP_DATE_TODAY || form == MCP_DATE_COUNT;
}

const char *mcp_period_check_count(apr_pool_t *p, const char *arg,
                                   const char *period, int n)
{
    int cap = mcp_period_max_n(period);

    if (cap == 0 || n <= cap) {
        return NULL;
    }
    return apr_psprintf(p, "%s: with period %s Matomo gives at most %d "
                        "%ss (it would cut %d to %d without saying so); "
                        "ask for %d or fewer", arg, period, cap, period, n,
                        cap, cap);
}

/* lastN/previousN as use says (with period range: N days, for all but
 * Matomo's visitor log). */
static const char *check_counts(apr_pool_t *p, const char *arg,
                                const char *period, const char *date,
                                mcp_count_use use)
{
    if (use == MCP_COUNTS_REFUSED) {
        return apr_psprintf(p, "%s: lastN/previousN with period %s would "
                            "give one entry per period; use period range "
                            "with lastN/previousN for one aggregate over "
                            "those days (matomo_get_trend gives one entry "
                            "per period)", arg, period);
    }
    if (use == MCP_COUNTS_LIVE_DAYS && date[0] == 'p') {
        return apr_psprintf(p, "%s: Matomo's visitor log reads previousN "
                            "with no end; give lastN or "
                            "YYYY-MM-DD,YYYY-MM-DD with period range", arg);
    }
    if (use == MCP_COUNTS_LIVE_DAYS && strcmp(period, "day") != 0
        && strcmp(period, "range") != 0) {
        return apr_psprintf(p, "%s: Matomo's visitor log reads lastN as the "
                            "last N days whatever the period; give lastN "
                            "with period day or range", arg);
    }
    return mcp_period_check_count(p, arg, period, mcp_period_count(date));
}

const char *mcp_period_check(apr_pool_t *p, const char *arg,
                             const char *period, const char *date,
                             mcp_count_use use)
{
    mcp_date_form form = mcp_period_date_form(date);
    int range = !strcmp(period, "range");
    mcp_day s, e;

    if (form == MCP_DATE_INVALID) {
        return apr_psprintf(p, "%s: '%s' is not a date (YYYY-MM-DD, today, "
                            "yesterday, lastN, previousN or "
                            "YYYY-MM-DD,YYYY-MM-DD)", arg, date);
    }
    if (range && (form == MCP_DATE_DAY || form == MCP_DATE_TODAY)) {
        return apr_psprintf(p, "%s: period range takes "
                            "YYYY-MM-DD,YYYY-MM-DD or lastN/previousN (the "
                            "last or previous N days, one aggregate); a "
                            "single date takes period day, week, month or "
                            "year", arg);
    }
    if (!range && form == MCP_DATE_RANGE) {
        return apr_psprintf(p, "%s: YYYY-MM-DD,YYYY-MM-DD needs period "
                            "range", arg);
    }
    if (form == MCP_DATE_DAY && !mcp_day_parse(date, &s)) {
        return apr_psprintf(p, "%s: not a calendar day (YYYY-MM-DD)", arg);
    }
    if (form == MCP_DATE_RANGE && !parse_range(date, &s, &e)) {
        return apr_psprintf(p, "%s: the range must be two calendar days, "
                            "the first not after the second", arg);
    }
    if (form == MCP_DATE_COUNT
        && (!range || use == MCP_COUNTS_LIVE_DAYS)) {
        return check_counts(p, arg, period, date, use);
    }
    return NULL;
}
