#include "mcp_schema.h"
#include "mcp_json.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

static const char *check_value(apr_pool_t *p, const char *name,
                               json_object *schema, json_object *value);

static int type_matches(const char *type, json_object *v)
{
    if (!strcmp(type, "integer")) {
        return json_object_is_type(v, json_type_int);
    }
    if (!strcmp(type, "number")) {
        return json_object_is_type(v, json_type_int)
               || json_object_is_type(v, json_type_double);
    }
    if (!strcmp(type, "string")) {
        return json_object_is_type(v, json_type_string);
    }
    if (!strcmp(type, "boolean")) {
        return json_object_is_type(v, json_type_boolean);
    }
    if (!strcmp(type, "array")) {
        return json_object_is_type(v, json_type_array);
    }
    if (!strcmp(type, "object")) {
        return json_object_is_type(v, json_type_object);
    }
    return 0;
}

static const char *type_name(const char *type)
{
    return !strcmp(type, "integer") ? "an integer"
           : !strcmp(type, "number") ? "a number"
           : !strcmp(type, "string") ? "a string"
           : !strcmp(type, "boolean") ? "true or false"
           : !strcmp(type, "array") ? "an array"
           : "an object";
}

/* A schema constant as text.  Never json_object_get_string() on a
 * non-string: it caches the text inside the object, and the catalog's
 * schemas are shared by all threads. */
static const char *constant_text(apr_pool_t *p, json_object *v)
{
    if (json_object_is_type(v, json_type_string)) {
        return json_object_get_string(v);
    }
    if (json_object_is_type(v, json_type_int)) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT,
                            (apr_int64_t)json_object_get_int64(v));
    }
    return apr_psprintf(p, "%g", json_object_get_double(v));
}

/* "one of a, b, c" from an enum array. */
static const char *enum_text(apr_pool_t *p, json_object *choices)
{
    const char *text = "one of ";
    size_t i, n = mcp_json_array_length(choices);

    for (i = 0; i < n; i++) {
        text = apr_pstrcat(p, text, i > 0 ? ", " : "",
                           constant_text(p, mcp_json_array_get(choices, i)),
                           NULL);
    }
    return text;
}

static int enum_contains(json_object *choices, json_object *v)
{
    size_t i, n = mcp_json_array_length(choices);

    for (i = 0; i < n; i++) {
        if (json_object_equal(mcp_json_array_get(choices, i), v)) {
            return 1;
        }
    }
    return 0;
}

static int pattern_matches(const char *pattern, const char *s)
{
    regex_t re;
    int ok;

    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        return 0;   /* a catalog bug: refuse rather than pass blindly */
    }
    ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static const char *check_number(apr_pool_t *p, const char *name,
                                json_object *schema, json_object *v)
{
    json_object *min = NULL, *max = NULL;
    double d = json_object_get_double(v);
    int has_min = json_object_object_get_ex(schema, "minimum", &min);
    int has_max = json_object_object_get_ex(schema, "maximum", &max);

    if ((has_min && d < json_object_get_double(min))
        || (has_max && d > json_object_get_double(max))) {
        if (has_min && has_max) {
            return apr_psprintf(p, "%s: must be from %s to %s", name,
                                constant_text(p, min), constant_text(p, max));
        }
        return apr_psprintf(p, "%s: must be %s %s", name,
                            has_min ? "at least" : "at most",
                            constant_text(p, has_min ? min : max));
    }
    return NULL;
}

static const char *check_string(apr_pool_t *p, const char *name,
                                json_object *schema, json_object *v)
{
    json_object *lim = NULL;
    const char *s = json_object_get_string(v);
    const char *pattern = mcp_json_get_string(schema, "pattern");
    int n = json_object_get_string_len(v);

    if ((size_t)n != strlen(s)) {
        return apr_psprintf(p, "%s: must not contain U+0000", name);
    }
    if (json_object_object_get_ex(schema, "minLength", &lim)
        && n < json_object_get_int(lim)) {
        return apr_psprintf(p, "%s: must not be empty", name);
    }
    if (json_object_object_get_ex(schema, "maxLength", &lim)
        && n > json_object_get_int(lim)) {
        return apr_psprintf(p, "%s: must be at most %d characters", name,
                            json_object_get_int(lim));
    }
    if (pattern != NULL && !pattern_matches(pattern, s)) {
        const char *hint = mcp_json_get_string(schema, "description");

        return apr_psprintf(p, "%s: '%s' is not valid%s%s", name,
                            mcp_json_clip(p, s, 80), hint ? ": " : "",
                            hint ? hint : "");
    }
    return NULL;
}

static const char *check_array(apr_pool_t *p, const char *name,
                               json_object *schema, json_object *v)
{
    json_object *items = mcp_json_get_typed(schema, "items", json_type_object);
    json_object *max = NULL;
    size_t i, n = mcp_json_array_length(v);

    if (json_object_object_get_ex(schema, "maxItems", &max)
        && n > (size_t)json_object_get_int(max)) {
        return apr_psprintf(p, "%s: at most %d entries", name,
                            json_object_get_int(max));
    }
    for (i = 0; items != NULL && i < n; i++) {
        const char *err = check_value(
            p, apr_psprintf(p, "%s[%lu]", name, (unsigned long)i), items,
            mcp_json_array_get(v, i));

        if (err != NULL) {
            return err;
        }
    }
    return NULL;
}

static const char *check_object(apr_pool_t *p, const char *prefix,
                                json_object *schema, json_object *obj);

static const char *check_value(apr_pool_t *p, const char *name,
                               json_object *schema, json_object *v)
{
    const char *type = mcp_json_get_string(schema, "type");
    json_object *choices = mcp_json_get_typed(schema, "enum",
                                              json_type_array);

    if (type != NULL && !type_matches(type, v)) {
        return apr_psprintf(p, "%s: must be %s", name,
                            choices ? enum_text(p, choices) : type_name(type));
    }
    if (choices != NULL && !enum_contains(choices, v)) {
        return apr_psprintf(p, "%s: must be %s", name, enum_text(p, choices));
    }
    if (type == NULL) {
        return NULL;
    }
    if (!strcmp(type, "integer") || !strcmp(type, "number")) {
        return check_number(p, name, schema, v);
    }
    if (!strcmp(type, "string")) {
        return check_string(p, name, schema, v);
    }
    if (!strcmp(type, "array")) {
        return check_array(p, name, schema, v);
    }
    if (!strcmp(type, "object")) {
        return check_object(p, apr_pstrcat(p, name, ".", NULL), schema, v);
    }
    return NULL;
}

static const char *allowed_names(apr_pool_t *p, json_object *props)
{
    const char *text = "";

    json_object_object_foreach(props, key, val) {
        (void)val;
        text = apr_pstrcat(p, text, *text ? ", " : "", key, NULL);
    }
    return *text ? text : "none";
}

static const char *check_members(apr_pool_t *p, const char *prefix,
                                 json_object *props, int closed,
                                 json_object *obj)
{
    json_object_object_foreach(obj, key, val) {
        json_object *sub = NULL;
        const char *err;

        if (props == NULL || !json_object_object_get_ex(props, key, &sub)) {
            if (closed) {
                return apr_psprintf(p, "%s%s: unknown argument (allowed: "
                                    "%s)", prefix, mcp_json_clip(p, key, 64),
                                    props ? allowed_names(p, props) : "none");
            }
            continue;
        }
        err = check_value(p, apr_pstrcat(p, prefix, key, NULL), sub, val);
        if (err != NULL) {
            return err;
        }
    }
    return NULL;
}

static const char *check_object(apr_pool_t *p, const char *prefix,
                                json_object *schema, json_object *obj)
{
    json_object *props = mcp_json_get_typed(schema, "properties",
                                            json_type_object);
    json_object *required = mcp_json_get_typed(schema, "required",
                                               json_type_array);
    json_object *extra = NULL;
    int closed = json_object_object_get_ex(schema, "additionalProperties",
                                           &extra)
                 && json_object_is_type(extra, json_type_boolean)
                 && !json_object_get_boolean(extra);
    size_t i;

    for (i = 0; required != NULL && i < mcp_json_array_length(required);
         i++) {
        const char *key = json_object_get_string(
            mcp_json_array_get(required, i));

        if (obj == NULL || !json_object_object_get_ex(obj, key, NULL)) {
            return apr_psprintf(p, "%s%s: required", prefix, key);
        }
    }
    return obj != NULL ? check_members(p, prefix, props, closed, obj) : NULL;
}

/* --- forgiving reading ------------------------------------------- */

static json_object *forgive_value(json_object *schema, json_object *v);

/* A number written as JSON would write it: optional '-', no leading zero,
 * no blank, no exponent; an integer has no fraction either.  Anything
 * else ("1.0" for an integer, " 1", "0x1", "1e3") is not read as a
 * number: whether it was meant as one is a guess. */
static int numeric_text(const char *s, int integer)
{
    size_t i = *s == '-' ? 1 : 0, digits = strspn(s + i, "0123456789");

    if (digits == 0 || (digits > 1 && s[i] == '0') || digits > 15) {
        return 0;
    }
    i += digits;
    if (!integer && s[i] == '.') {
        size_t frac = strspn(s + i + 1, "0123456789");

        if (frac == 0 || frac > 15) {
            return 0;
        }
        i += 1 + frac;
    }
    return s[i] == '\0';
}

/* A new value of the schema's scalar type from a string meaning it, or
 * NULL. */
static json_object *scalar_from_text(const char *type, json_object *v)
{
    const char *s;

    if (!json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    s = json_object_get_string(v);
    if ((size_t)json_object_get_string_len(v) != strlen(s)) {
        return NULL;
    }
    if (!strcmp(type, "integer") && numeric_text(s, 1)) {
        return json_object_new_int64(apr_atoi64(s));
    }
    if (!strcmp(type, "number") && numeric_text(s, 0)) {
        return strchr(s, '.') ? json_object_new_double(strtod(s, NULL))
                              : json_object_new_int64(apr_atoi64(s));
    }
    if (!strcmp(type, "boolean")
        && (!strcmp(s, "true") || !strcmp(s, "false"))) {
        return json_object_new_boolean(!strcmp(s, "true"));
    }
    return NULL;
}

static int is_scalar(json_object *v)
{
    return json_object_is_type(v, json_type_string)
           || json_object_is_type(v, json_type_int)
           || json_object_is_type(v, json_type_double)
           || json_object_is_type(v, json_type_boolean);
}

/* A copy of array v with each entry forgiven against items. */
static json_object *forgive_items(json_object *items, json_object *v)
{
    json_object *out = json_object_new_array();
    size_t i, n = mcp_json_array_length(v);

    for (i = 0; i < n; i++) {
        json_object *e = mcp_json_array_get(v, i);

        json_object_array_add(out, items ? forgive_value(items, e)
                                         : json_object_get(e));
    }
    return out;
}

/* A copy of object v with each member its schema names forgiven. */
static json_object *forgive_members(json_object *schema, json_object *v)
{
    json_object *props = mcp_json_get_typed(schema, "properties",
                                            json_type_object);
    json_object *out = json_object_new_object();

    json_object_object_foreach(v, key, val) {
        json_object *sub = NULL;

        json_object_object_add(
            out, key,
            props != NULL && json_object_object_get_ex(props, key, &sub)
                ? forgive_value(sub, val) : json_object_get(val));
    }
    return out;
}

/* v, or what it unambiguously means in the schema's type: a new
 * reference either way. */
static json_object *forgive_value(json_object *schema, json_object *v)
{
    const char *type = mcp_json_get_string(schema, "type");
    json_object *items = mcp_json_get_typed(schema, "items",
                                            json_type_object);
    json_object *made;

    if (type == NULL) {
        return json_object_get(v);
    }
    if (!strcmp(type, "array")) {
        if (json_object_is_type(v, json_type_array)) {
            return forgive_items(items, v);
        }
        if (!is_scalar(v)) {
            return json_object_get(v);
        }
        /* One value where a list is expected: a list of that one. */
        made = json_object_new_array();
        json_object_array_add(made, items ? forgive_value(items, v)
                                          : json_object_get(v));
        return made;
    }
    if (!strcmp(type, "object")) {
        return json_object_is_type(v, json_type_object)
                   ? forgive_members(schema, v) : json_object_get(v);
    }
    if (type_matches(type, v)) {
        return json_object_get(v);
    }
    /* A list of exactly one where one value is expected: that value. */
    if (json_object_is_type(v, json_type_array)
        && mcp_json_array_length(v) == 1) {
        json_object *only = mcp_json_array_get(v, 0);

        if (is_scalar(only)) {
            return forgive_value(schema, only);
        }
    }
    made = scalar_from_text(type, v);
    return made != NULL ? made : json_object_get(v);
}

json_object *mcp_schema_forgive(apr_pool_t *p, json_object *schema,
                                json_object *args)
{
    if (args == NULL || !json_object_is_type(args, json_type_object)) {
        return args;
    }
    return mcp_json_pool_own(p, forgive_members(schema, args));
}

const char *mcp_schema_check(apr_pool_t *p, json_object *schema,
                             json_object *args)
{
    /* check_members() walks args with json_object_object_foreach(), which
     * reads through a NULL table on anything but an object. */
    if (args != NULL && !json_object_is_type(args, json_type_object)) {
        return "arguments: must be an object";
    }
    return check_object(p, "", schema, args);
}
