/*
 * Unit tests of the httpd-free core: JSON parsing limits, JSON-RPC framing,
 * the tool catalog and MCP dispatch.  Prints TAP; t/00_unit.t runs it inside
 * the Apache::Test suite.  Built without httpd's headers on the include
 * path, which is what proves the core does not need them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "../../src/mcp_apps.h"
#include "../../src/mcp_auth.h"
#include "../../src/mcp_budget.h"
#include "../../src/mcp_cache.h"
#include "../../src/mcp_json.h"
#include "../../src/mcp_matomo.h"
#include "../../src/mcp_period.h"
#include "../../src/mcp_schema.h"
#include "../../src/mcp_segments.h"
#include "../../src/mcp_shape.h"
#include "../../src/mcp_stats.h"
#include "../../src/mcp_toolkit.h"
#include "../../src/mcp_jsonrpc.h"
#include "../../src/mcp_server.h"
#include "../../src/mcp_tools.h"

static int tests_run, tests_failed;
static apr_pool_t *pool;

static void check(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    tests_run++;
    printf("%sok %d - ", ok ? "" : "not ", tests_run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok) {
        tests_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
}

#define CHECK(cond, ...) check((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_STR(got, want, what)                                           \
    check((got) != NULL && strcmp((got), (want)) == 0, __FILE__, __LINE__,   \
          "%s is '%s' (got '%s')", (what), (want), (got) ? (got) : "(null)")

/* --- JSON ------------------------------------------------------------ */

static mcp_json_status parse(const char *s)
{
    json_object *obj;

    return mcp_json_parse(pool, s, strlen(s), MCP_JSON_MAX_DEPTH, &obj);
}

/* The parser reuses one tokener per thread and nesting limit: each call
 * keeps its own limit, and an error leaves nothing behind for the next. */
static void test_json_reuse(void)
{
    char deep[101];
    json_object *obj = NULL;
    int i;

    CHECK(mcp_json_cache_enable(pool) == APR_SUCCESS,
          "the per-thread parser cache turns on");

    for (i = 0; i < 50; i++) {
        deep[i] = '[';
        deep[50 + i] = ']';
    }
    deep[100] = '\0';
    CHECK(mcp_json_parse(pool, deep, 100, 64, &obj) == MCP_JSON_OK,
          "50 levels accepted under a limit of 64");
    CHECK(mcp_json_parse(pool, deep, 100, 32, &obj) == MCP_JSON_ERR_DEPTH,
          "then refused under a limit of 32");
    CHECK(mcp_json_parse(pool, deep, 100, 64, &obj) == MCP_JSON_OK,
          "and accepted again under 64");
    CHECK(mcp_json_parse(pool, "{\"a\":[1,", 8, 32, &obj)
              == MCP_JSON_ERR_SYNTAX
          && mcp_json_parse(pool, "{\"b\":2}", 7, 32, &obj) == MCP_JSON_OK
          && json_object_object_length(obj) == 1
          && json_object_get_int(json_object_object_get(obj, "b")) == 2,
          "a text cut short leaves nothing in the next parse");
}

static void test_json_limits(void)
{
    char deep[200];
    int i;

    CHECK(parse("{\"a\":[1,2,{\"b\":null}]}") == MCP_JSON_OK,
          "a plain object parses");
    CHECK(parse("  {\"a\":1}\r\n ") == MCP_JSON_OK,
          "surrounding white space is fine");
    CHECK(parse("{\"a\":1} {") == MCP_JSON_ERR_TRAILING,
          "data after the value is refused");
    CHECK(mcp_json_parse(pool, "{\"a\":1}\0x", 9, 8, &(json_object *){0})
              != MCP_JSON_OK,
          "a NUL byte after the value is refused");
    CHECK(parse("{\"a\":1,}") == MCP_JSON_ERR_SYNTAX,
          "strict mode: trailing comma refused");
    CHECK(parse("{'a':1}") == MCP_JSON_ERR_SYNTAX,
          "strict mode: single quotes refused");
    CHECK(parse("/* c */ {}") == MCP_JSON_ERR_SYNTAX,
          "strict mode: comments refused");
    CHECK(parse("[NaN]") == MCP_JSON_ERR_SYNTAX, "NaN refused");
    CHECK(parse("[-Infinity]") == MCP_JSON_ERR_SYNTAX, "Infinity refused");
    CHECK(parse("[1e400]") == MCP_JSON_ERR_RANGE
              && parse("{\"a\":-2.5E+309}") == MCP_JSON_ERR_RANGE,
          "a number beyond a double (json-c: inf) refused as out of range");
    CHECK(parse(apr_pstrcat(pool, "[1", apr_psprintf(pool, "%0400d", 0),
                            ".5]", NULL)) == MCP_JSON_ERR_RANGE,
          "... also as 400 digits without an exponent");
    CHECK(parse("[1e308,-1.7976931348623157e308,1.5e-400,2E+3,0.5e1]")
              == MCP_JSON_OK,
          "large, tiny (underflows to 0) and plain exponents accepted");
    CHECK(parse("[1.e5]") == MCP_JSON_ERR_SYNTAX, "1.e5 refused");
    CHECK(parse("[1.]") == MCP_JSON_ERR_SYNTAX, "1. refused");
    CHECK(parse("[1.5e-3,-0,true,false,null]") == MCP_JSON_OK,
          "every JSON literal and number form accepted");
    CHECK(parse("[\"a\nb\"]") == MCP_JSON_ERR_SYNTAX,
          "raw control character in a string refused");
    CHECK(parse("[\"it's \\\"q\\\" \\u00e9\"]") == MCP_JSON_OK,
          "quotes and escapes inside strings accepted");
    CHECK(parse("{\"a\":\"\xc3\x28\"}") == MCP_JSON_ERR_SYNTAX,
          "invalid UTF-8 refused");
    CHECK(parse("{\"a\":\"caf\xc3\xa9\"}") == MCP_JSON_OK,
          "valid UTF-8 accepted");
    CHECK(parse("") == MCP_JSON_ERR_SYNTAX, "empty input refused");
    CHECK(parse("[\"\xc0\xaf\"]") == MCP_JSON_ERR_SYNTAX,
          "overlong UTF-8 refused");
    CHECK(parse("[\"\xed\xa0\x80\"]") == MCP_JSON_ERR_SYNTAX,
          "UTF-8 encoded surrogate refused");
    CHECK(parse("[\"\xf5\x80\x80\x80\"]") == MCP_JSON_ERR_SYNTAX,
          "UTF-8 above U+10FFFF refused");
    CHECK(parse("[\"\\udc00\"]") == MCP_JSON_ERR_SYNTAX
              && parse("[\"\\ud800x\"]") == MCP_JSON_ERR_SYNTAX
              && parse("[\"\\ud800\\u0041\"]") == MCP_JSON_ERR_SYNTAX
              && parse("[\"\\uDBFF\\uDFFF \\\\ud800\"]") == MCP_JSON_OK,
          "lone surrogate escapes refused; pairs, and an escaped backslash before u, taken");
    CHECK(parse("[\"\xf0\x9f\x98\x80 \xe2\x82\xac\"]") == MCP_JSON_OK,
          "4- and 3-byte UTF-8 accepted");
    CHECK(parse("[\"\xe2\x82\"]") == MCP_JSON_ERR_SYNTAX,
          "UTF-8 cut short refused");
    CHECK(parse("42") == MCP_JSON_OK && parse("-1e5") == MCP_JSON_OK
              && parse("true") == MCP_JSON_OK && parse("null") == MCP_JSON_OK,
          "top-level scalars parse");
    CHECK(parse("4 2") == MCP_JSON_ERR_TRAILING, "two numbers: trailing");
    CHECK(parse("{\"a\":") == MCP_JSON_ERR_SYNTAX, "truncated input refused");

    for (i = 0; i < 40; i++) {
        deep[i] = '[';
    }
    for (i = 40; i < 80; i++) {
        deep[i] = ']';
    }
    deep[80] = '\0';
    CHECK(parse(deep) == MCP_JSON_ERR_DEPTH, "40 levels of nesting refused");
    deep[MCP_JSON_MAX_DEPTH - 1] = '\0';
    memset(deep + MCP_JSON_MAX_DEPTH - 1, ']', MCP_JSON_MAX_DEPTH - 1);
    deep[2 * (MCP_JSON_MAX_DEPTH - 1)] = '\0';
    CHECK(parse(deep) == MCP_JSON_OK, "%d levels of nesting accepted",
          MCP_JSON_MAX_DEPTH - 1);
    test_json_reuse();
}

/* The array readers never abort (Debian's json-c asserts on a non-array):
 * anything but an array reads as an empty one. */
static void test_json_arrays(void)
{
    json_object *obj = NULL, *arr = NULL, *s = NULL;

    CHECK(mcp_json_array_length(NULL) == 0
              && mcp_json_array_get(NULL, 0) == NULL,
          "NULL: no elements");
    CHECK(mcp_json_parse(pool, "{\"0\":1}", 7, 8, &obj) == MCP_JSON_OK
              && mcp_json_array_length(obj) == 0
              && mcp_json_array_get(obj, 0) == NULL,
          "an object: no elements");
    CHECK(mcp_json_parse(pool, "\"ab\"", 4, 8, &s) == MCP_JSON_OK
              && mcp_json_array_length(s) == 0
              && mcp_json_array_get(s, 0) == NULL,
          "a string: no elements");
    CHECK(mcp_json_parse(pool, "7", 1, 8, &s) == MCP_JSON_OK
              && mcp_json_array_length(s) == 0
              && mcp_json_array_get(s, 1) == NULL,
          "a number: no elements");
    CHECK(mcp_json_parse(pool, "[]", 2, 8, &arr) == MCP_JSON_OK
              && mcp_json_array_length(arr) == 0
              && mcp_json_array_get(arr, 0) == NULL,
          "an empty array: no elements");
    CHECK(mcp_json_parse(pool, "[1,null,\"x\"]", 12, 8, &arr) == MCP_JSON_OK
              && mcp_json_array_length(arr) == 3,
          "an array: its length");
    CHECK(json_object_get_int(mcp_json_array_get(arr, 0)) == 1
              && mcp_json_array_get(arr, 1) == NULL,
          "its elements, null as NULL");
    CHECK_STR(json_object_get_string(mcp_json_array_get(arr, 2)), "x",
              "its last element");
    CHECK(mcp_json_array_get(arr, 3) == NULL
              && mcp_json_array_get(arr, (size_t)-1) == NULL,
          "past the end: NULL");
}

/* A tree given its text prints as that text, alone and inside a parent,
 * and the parent around it is unchanged. */
static void test_json_set_text(void)
{
    json_object *doc = NULL, *parent = json_object_new_object();
    const char *before, *text = "{\"seen\":\"text\"}";

    mcp_json_pool_own(pool, parent);
    CHECK(mcp_json_parse(pool, "{\"a\":[1,2]}", 11, 8, &doc) == MCP_JSON_OK,
          "a tree to serialise");
    json_object_object_add(parent, "b", json_object_get(doc));
    json_object_object_add(parent, "c", json_object_new_int(3));
    before = mcp_json_to_string(pool, parent, NULL);
    CHECK_STR(before, "{\"b\":{\"a\":[1,2]},\"c\":3}", "walked");
    /* A text other than the tree's own, so the output shows which ran. */
    mcp_json_set_text(pool, doc, text, strlen(text));
    CHECK_STR(mcp_json_to_string(pool, doc, NULL), text, "alone: its text");
    CHECK_STR(mcp_json_to_string(pool, parent, NULL),
              "{\"b\":{\"seen\":\"text\"},\"c\":3}",
              "in a parent: its text, in place");
}

/* --- JSON-RPC framing ------------------------------------------------- */

static mcp_jsonrpc_msg classify(const char *body)
{
    mcp_jsonrpc_msg msg;

    mcp_jsonrpc_parse(pool, body, strlen(body), &msg);
    return msg;
}

static void test_jsonrpc_classify(void)
{
    mcp_jsonrpc_msg m;

    m = classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_REQUEST && json_object_is_type(m.id, json_type_int)
              && json_object_get_int(m.id) == 7,
          "integer id request");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_REQUEST
              && json_object_is_type(m.id, json_type_string),
          "string id request");
    m = classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}");
    CHECK(m.kind == MCP_MSG_NOTIFICATION && m.id == NULL, "notification");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}");
    CHECK(m.kind == MCP_MSG_RESPONSE, "response to a server request");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":1}}");
    CHECK(m.kind == MCP_MSG_RESPONSE, "error response");

    m = classify("{");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32700 && !m.id,
          "unparseable: -32700 without id");
    m = classify("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    CHECK(m.kind == MCP_MSG_BATCH && mcp_json_array_length(m.batch) == 1,
          "batch: its messages, for the server to judge");
    m = classify("[]");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "empty batch: -32600");
    m = classify("\"ping\"");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "non-object: -32600");
    m = classify("{\"jsonrpc\":\"1.0\",\"id\":4,\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600
              && json_object_get_int(m.id) == 4,
          "wrong jsonrpc: -32600 keeping the id");
    m = classify("{\"id\":4,\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "missing jsonrpc: -32600");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600 && !m.id,
          "fractional id: -32600, id null");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":18446744073709551614,"
                 "\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_REQUEST
              && json_object_get_uint64(m.id) == UINT64_MAX - 1,
          "id 2^64-2: kept");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775807,"
                 "\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_REQUEST
              && json_object_get_int64(m.id) == -INT64_MAX,
          "id -(2^63-1): kept");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":99999999999999999999,"
                 "\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600 && !m.id,
          "id beyond 64 bits (json-c would clamp it): -32600, id null");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":-99999999999999999999,"
                 "\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600 && !m.id,
          "id below -2^63: -32600, id null");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":\"\\ud800\",\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32700,
          "lone surrogate in a string id: -32700");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":\"\\ud83d\\ude00\","
                 "\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_REQUEST
              && strcmp(json_object_get_string(m.id), "\xf0\x9f\x98\x80") == 0,
          "surrogate pair in a string id: kept as U+1F600");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "null id: -32600");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "boolean id: -32600");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "non-string method: -32600");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pi\\u0000ng\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "method with U+0000: -32600");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":1}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "neither method nor result: -32600");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\","
                 "\"params\":[1]}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32602,
          "positional params: -32602");
    m = classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\","
                 "\"params\":\"x\"}");
    CHECK(m.kind == MCP_MSG_INVALID && m.error_code == -32600,
          "scalar params: -32600");
}

static void test_jsonrpc_write(void)
{
    json_object *sid = mcp_json_pool_own(pool, json_object_new_string("a\"b"));
    json_object *nid = mcp_json_pool_own(pool, json_object_new_int64(-12));

    CHECK_STR(mcp_jsonrpc_result(pool, sid, "{}", NULL),
              "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"result\":{}}",
              "a string id is escaped and stays a string");
    CHECK_STR(mcp_jsonrpc_result(pool, nid, "[]", NULL),
              "{\"jsonrpc\":\"2.0\",\"id\":-12,\"result\":[]}",
              "an integer id stays an integer");
    CHECK_STR(mcp_jsonrpc_error(pool, NULL, -32700, "Parse error", NULL, NULL),
              "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
              "\"message\":\"Parse error\"}}",
              "an error without id carries id null");
}

/* --- the catalog ---------------------------------------------------- */

static int runs;

static void run_echo(mcp_request *req, json_object *args,
                     mcp_tool_result *res)
{
    runs++;
    res->structured = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(res->structured, "args",
                           args ? json_object_get(args) : NULL);
}

static void run_fail(mcp_request *req, json_object *args,
                     mcp_tool_result *res)
{
    (void)req;
    (void)args;
    res->error = "idSite: must be a positive integer";
}

#define OBJ "{\"type\":\"object\",\"additionalProperties\":false}"

/* k's bounds come from the shared file, as a tool's idSite does. */
#define K_SCHEMA                                                            \
    "{\"type\":\"object\",\"properties\":{\"k\":{\"$ref\":"                \
    "\"_shared.json#/$defs/k\"},\"p\":{\"type\":\"string\",\"enum\":"      \
    "[\"day\",\"week\"]},\"d\":{\"type\":\"string\",\"pattern\":"           \
    "\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\",\"description\":\"YYYY-MM-DD\"}},"      \
    "\"required\":[\"k\"],\"additionalProperties\":false}"

#define SHARED_TEXT                                                         \
    "{\"$comment\":\"for the tests\",\"$defs\":{"                           \
    "\"bounds\":{\"minimum\":0,\"maximum\":9},"                             \
    "\"k\":{\"type\":\"integer\",\"$ref\":\"#/$defs/bounds\"},"             \
    "\"loop\":{\"$ref\":\"#/$defs/loop\"}}}"

/* A definition file's text: name, title, description, schemas, hints,
 * Matomo methods, icon. */
#define ICON_SVG                                                            \
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>"          \
    "<path d='M2 2h20'/></svg>"
#define ICON ",\"icon\":\"" ICON_SVG "\""
#define DEF_CALLING(name, in, out, methods)                                 \
    "{\"name\":\"" name "\",\"title\":\"T " name "\",\"description\":"      \
    "\"about " name "\",\"inputSchema\":" in ",\"outputSchema\":" out ","    \
    "\"annotations\":{\"readOnlyHint\":true,\"openWorldHint\":false},"       \
    "\"matomoMethods\":" methods ICON "}"
#define DEF(name, in, out)                                                  \
    DEF_CALLING(name, in, out, "[\"VisitsSummary.get\"]")

static const mcp_tool_file shared_file = { "t/_shared.json", SHARED_TEXT };
static const mcp_tool_file five_files[] = {
    { "t/t1.json", DEF("t1", K_SCHEMA, OBJ) },
    { "t/t2.json", DEF("t2", OBJ, OBJ) },
    { "t/t3.json", DEF("t3", OBJ, OBJ) },
    { "t/t4.json", DEF("t4", OBJ, OBJ) },
    { "t/t5.json", DEF("t5", OBJ, OBJ) },
};
static const mcp_tool_defs five_defs = { &shared_file, five_files, 5 };
static const mcp_tool five_tools[] = {
    { "t1", run_echo }, { "t2", run_fail }, { "t3", run_echo },
    { "t4", run_echo }, { "t5", run_echo },
};

static json_object *parsed(const char *s)
{
    json_object *obj = NULL;

    mcp_json_parse(pool, s, strlen(s), 64, &obj);
    return obj;
}

/* mcp_args_read: what each near-miss reads as (the canonical form
 * mcp_schema_check then sees), and what stays as sent. */
static void test_forgiving_arguments(void)
{
    json_object *schema = parsed(
        "{\"type\":\"object\",\"properties\":{"
        "\"i\":{\"type\":\"integer\"},\"n\":{\"type\":\"number\"},"
        "\"b\":{\"type\":\"boolean\"},\"s\":{\"type\":\"string\"},"
        "\"a\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
        "\"o\":{\"type\":\"object\",\"properties\":{"
        "\"i\":{\"type\":\"integer\"}}},"
        "\"period\":{\"type\":\"string\"},\"date\":{\"type\":\"string\"}}}");
    static const struct { const char *in, *out; } cases[] = {
        /* accepted: the canonical value */
        { "{\"i\":\"42\"}", "{\"i\":42}" },
        { "{\"i\":\"-7\"}", "{\"i\":-7}" },
        { "{\"i\":\"0\"}", "{\"i\":0}" },
        { "{\"n\":\"2.5\"}", "{\"n\":2.5}" },
        { "{\"n\":\"3\"}", "{\"n\":3}" },
        { "{\"b\":\"true\"}", "{\"b\":true}" },
        { "{\"b\":\"false\"}", "{\"b\":false}" },
        { "{\"i\":[5]}", "{\"i\":5}" },
        { "{\"i\":[\"5\"]}", "{\"i\":5}" },
        { "{\"s\":[\"x\"]}", "{\"s\":\"x\"}" },
        { "{\"a\":3}", "{\"a\":[3]}" },
        { "{\"a\":\"3\"}", "{\"a\":[3]}" },
        { "{\"a\":[\"1\",2]}", "{\"a\":[1,2]}" },
        { "{\"o\":{\"i\":\"9\"}}", "{\"o\":{\"i\":9}}" },
        { "{\"period\":\"year\",\"date\":\"2026\"}",
          "{\"period\":\"year\",\"date\":\"2026-01-01\"}" },
        /* refused: as sent */
        { "{\"i\":\"01\"}", "{\"i\":\"01\"}" },
        { "{\"i\":\"1.0\"}", "{\"i\":\"1.0\"}" },
        { "{\"i\":\" 1\"}", "{\"i\":\" 1\"}" },
        { "{\"i\":\"1e3\"}", "{\"i\":\"1e3\"}" },
        { "{\"i\":\"-\"}", "{\"i\":\"-\"}" },
        { "{\"i\":\"1234567890123456\"}", "{\"i\":\"1234567890123456\"}" },
        { "{\"n\":\"2.\"}", "{\"n\":\"2.\"}" },
        { "{\"b\":\"TRUE\"}", "{\"b\":\"TRUE\"}" },
        { "{\"b\":1}", "{\"b\":1}" },
        { "{\"i\":[1,2]}", "{\"i\":[1,2]}" },
        { "{\"i\":[]}", "{\"i\":[]}" },
        { "{\"i\":[[1]]}", "{\"i\":[[1]]}" },
        { "{\"a\":{\"x\":1}}", "{\"a\":{\"x\":1}}" },
        { "{\"a\":null}", "{\"a\":null}" },
        { "{\"s\":5}", "{\"s\":5}" },
        { "{\"zz\":\"1\"}", "{\"zz\":\"1\"}" },
        { "{\"period\":\"month\",\"date\":\"2026\"}",
          "{\"period\":\"month\",\"date\":\"2026\"}" },
        { "{\"date\":\"2026\"}", "{\"date\":\"2026\"}" },
        { "{\"period\":\"year\",\"date\":\"202\"}",
          "{\"period\":\"year\",\"date\":\"202\"}" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *in = parsed(cases[i].in), *out = NULL;
        const char *sent = json_object_to_json_string_ext(
            in, JSON_C_TO_STRING_PLAIN);
        char *before = apr_pstrdup(pool, sent);

        (void)mcp_args_read(pool, schema, in, &out);
        CHECK_STR(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
                  cases[i].out, cases[i].in);
        CHECK_STR(json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN),
                  before, "the arguments as sent are left alone");
    }
    {
        json_object *out = parsed("{}");

        CHECK(mcp_args_read(pool, schema, NULL, &out) == NULL && out == NULL,
              "no arguments: nothing to read, nothing wrong");
    }
}

/* The error of one definition text read as file path, or NULL; *tool gets
 * the tool as tools/list shows it. */
static const char *definition(const char *path, const char *text,
                              const char **tool)
{
    mcp_tool_file f;
    json_object *out = NULL;
    const char *err;

    f.path = path;
    f.text = text;
    err = mcp_tool_definition(pool, &shared_file, &f, &out, NULL);
    if (tool != NULL) {
        *tool = out ? mcp_json_to_string(pool, out, NULL) : NULL;
    }
    return err;
}

/* err names the file and says what (a fragment of the message). */
static int refused_with(const char *err, const char *path, const char *what)
{
    return err != NULL && strncmp(err, path, strlen(path)) == 0
           && strstr(err, what) != NULL;
}

static void test_tool_definitions(void)
{
    const char *tool = NULL, *err;

    err = definition("t/x.json", DEF("x", "{\"type\":\"object\","
                     "\"properties\":{\"k\":{\"$comment\":\"why\","
                     "\"description\":\"d\",\"$ref\":"
                     "\"_shared.json#/$defs/k\",\"default\":1}}}", OBJ),
                     &tool);
    CHECK(err == NULL
              && tool != NULL
              && !strcmp(tool, "{\"name\":\"x\",\"title\":\"T x\","
                         "\"description\":\"about x\",\"inputSchema\":{"
                         "\"type\":\"object\",\"properties\":{\"k\":{"
                         "\"description\":\"d\",\"type\":\"integer\","
                         "\"minimum\":0,\"maximum\":9,\"default\":1}}},"
                         "\"outputSchema\":" OBJ ",\"annotations\":{"
                         "\"title\":\"T x\",\"readOnlyHint\":true,"
                         "\"openWorldHint\":false},\"icons\":"
                         "[{\"src\":\"data:image/svg+xml;base64,"
                         "PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmcnIHZpZXdCb3g9JzAgMCAyNCAyNCc+"
                         "PHBhdGggZD0nTTIgMmgyMCcvPjwvc3ZnPg==\","
                         "\"mimeType\":\"image/svg+xml\","
                         "\"sizes\":[\"any\"]}]}"),
          "a reference is replaced where it stands, nested ones too; "
          "$comment is left out; annotations get the title first; the icon "
          "becomes icons, a data: URI of its SVG (%s)",
          tool ? tool : err ? err : "(none)");
    err = definition("t/x.json", "{\"name\":\"x\"", NULL);
    CHECK(refused_with(err, "t/x.json", "not a JSON object"),
          "a definition that is not JSON is refused, naming the file (%s)",
          err ? err : "accepted");
    err = definition("t/x.json", DEF("x", "{\"type\":\"object\","
                     "\"properties\":{\"k\":{\"$ref\":"
                     "\"_shared.json#/$defs/kk\"}}}", OBJ), NULL);
    CHECK(refused_with(err, "t/x.json", "unknown reference "
                       "_shared.json#/$defs/kk"),
          "an unknown reference is refused (%s)", err ? err : "accepted");
    err = definition("t/x.json", DEF("x", "{\"type\":\"object\","
                     "\"properties\":{\"k\":{\"$ref\":\"#/$defs/k\"}}}",
                     OBJ), NULL);
    CHECK(refused_with(err, "t/x.json", "unknown reference #/$defs/k"),
          "a tool file cannot use the shared file's short references (%s)",
          err ? err : "accepted");
    err = definition("t/x.json", DEF("x", "{\"type\":\"object\","
                     "\"properties\":{\"k\":{\"maximum\":3,\"$ref\":"
                     "\"_shared.json#/$defs/k\"}}}", OBJ), NULL);
    CHECK(refused_with(err, "t/x.json", "\"maximum\" is both given and "
                       "referenced"),
          "a member both given and referenced is refused (%s)",
          err ? err : "accepted");
    err = definition("t/x.json", DEF("x", "{\"type\":\"object\","
                     "\"properties\":{\"k\":{\"$ref\":"
                     "\"_shared.json#/$defs/loop\"}}}", OBJ), NULL);
    CHECK(refused_with(err, "t/x.json", "nested deeper"),
          "a reference cycle is refused (%s)", err ? err : "accepted");
    err = definition("t/y.json", DEF("x", OBJ, OBJ), NULL);
    CHECK(refused_with(err, "t/y.json", "differs from the file name"),
          "a name other than the file's is refused (%s)",
          err ? err : "accepted");
    err = definition("t/x y.json", DEF("x y", OBJ, OBJ), NULL);
    CHECK(refused_with(err, "t/x y.json", "name must be"),
          "a name with a space is refused (%s)", err ? err : "accepted");
    err = definition("t/x.json", DEF("x", "{\"type\":\"string\"}", OBJ),
                     NULL);
    CHECK(refused_with(err, "t/x.json", "inputSchema must be"),
          "an input schema not of type object is refused (%s)",
          err ? err : "accepted");
    err = definition("t/x.json", "{\"name\":\"x\",\"title\":\"X\","
                     "\"description\":\"d\",\"inputSchema\":" OBJ ","
                     "\"annotations\":{},\"matomoMethods\":[\"API.get\"]}",
                     NULL);
    CHECK(refused_with(err, "t/x.json", "outputSchema is missing"),
          "a definition without outputSchema is refused (%s)",
          err ? err : "accepted");
    err = definition("t/x.json", DEF_CALLING("x", OBJ, OBJ, "[]"), NULL);
    CHECK(refused_with(err, "t/x.json", "matomoMethods must list"),
          "a tool without Matomo methods is refused (%s)",
          err ? err : "accepted");
    err = definition("t/x.json", DEF_CALLING("x", OBJ, OBJ,
                                             "[\"API.get\",\"api.get\"]"),
                     NULL);
    CHECK(refused_with(err, "t/x.json", "matomoMethods/1: not a Matomo "
                       "method name"),
          "a method name not shaped Module.method is refused (%s)",
          err ? err : "accepted");
    err = definition("t/x.json", DEF_CALLING("x", OBJ, OBJ,
                                             "[\"API.get\",\"API.get\"]"),
                     NULL);
    CHECK(refused_with(err, "t/x.json", "API.get is listed twice"),
          "a method listed twice is refused (%s)", err ? err : "accepted");
    err = definition("t/x.json", "{\"name\":\"x\",\"titel\":\"X\","
                     "\"description\":\"d\",\"inputSchema\":" OBJ ","
                     "\"outputSchema\":" OBJ ",\"annotations\":{}}", NULL);
    CHECK(refused_with(err, "t/x.json", "unknown member \"titel\""),
          "a misspelt member is refused (%s)", err ? err : "accepted");
    err = definition("t/x.json", "{\"name\":\"x\",\"title\":\"\","
                     "\"description\":\"d\",\"inputSchema\":" OBJ ","
                     "\"outputSchema\":" OBJ ",\"annotations\":{},"
                     "\"matomoMethods\":[\"API.get\"]" ICON "}", NULL);
    CHECK(refused_with(err, "t/x.json", "title must be"),
          "an empty title is refused (%s)", err ? err : "accepted");
    err = definition("t/x.json", "{\"name\":\"x\",\"title\":\"X\","
                     "\"description\":\"d\",\"inputSchema\":" OBJ ","
                     "\"outputSchema\":" OBJ ",\"annotations\":{"
                     "\"readOnlyHint\":\"yes\"},\"matomoMethods\":"
                     "[\"API.get\"]" ICON "}", NULL);
    CHECK(refused_with(err, "t/x.json", "annotations"),
          "a hint that is no boolean is refused (%s)",
          err ? err : "accepted");
    err = definition("t/x.json", "{\"name\":\"x\",\"title\":\"X\","
                     "\"description\":\"d\",\"inputSchema\":" OBJ ","
                     "\"outputSchema\":" OBJ ",\"annotations\":{},"
                     "\"matomoMethods\":[\"API.get\"]}", NULL);
    CHECK(refused_with(err, "t/x.json", "icon is missing"),
          "a tool without an icon is refused (%s)", err ? err : "accepted");
    {
        static const struct { const char *svg, *why; } bad[] = {
            { "<svg viewBox='0 0 24 24'><path d='M1 1'/></svg>",
              "no SVG namespace" },
            { "<img src='x'>", "not SVG" },
            { "<svg xmlns='http://www.w3.org/2000/svg' ><script>alert(1)"
              "</script></svg>", "a script" },
            { "<svg xmlns='http://www.w3.org/2000/svg' ><image "
              "href='https://example.com/x.png'/></svg>", "a link" },
            { "<svg xmlns='http://www.w3.org/2000/svg' ><text>x</text>"
              "</svg>", "text" },
            { "<svg xmlns='http://www.w3.org/2000/svg' ><style>path{}"
              "</style></svg>", "a style sheet" },
            { "<svg xmlns='http://www.w3.org/2000/svg' onload='x()'>"
              "</svg>", "an event attribute" },
            { "<svg xmlns='http://www.w3.org/2000/svg' ><path "
              "fill='url(#g)'/></svg>", "url()" },
            { "<svg xmlns='http://www.w3.org/2000/svg' ><path d='&x;'/>"
              "</svg>", "an entity" },
            { "<svg xmlns='http://www.w3.org/2000/svg' ><path d='M1 1'/>",
              "not closed" },
        };
        char *big = apr_pstrcat(pool, "<svg xmlns='http://www.w3.org/2000/"
                                "svg' >", apr_psprintf(pool, "%*s", 2100, ""),
                                "</svg>", NULL);
        size_t i;

        CHECK(mcp_icon_check(ICON_SVG) == NULL, "a plain SVG icon passes");
        CHECK(mcp_icon_check(big) != NULL, "an icon over 2048 bytes is "
              "refused");
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            CHECK(mcp_icon_check(bad[i].svg) != NULL,
                  "an icon with %s is refused", bad[i].why);
        }
    }
}

static void test_catalog(void)
{
    mcp_catalog *c = NULL;
    static const mcp_tool_file one_file[] = {
        { "t/x.json", DEF("x", OBJ, OBJ) }
    };
    static const mcp_tool_file bad_file[] = {
        { "t/x.json", DEF("x", "{", OBJ) }
    };
    static const mcp_tool_defs one = { &shared_file, one_file, 1 };
    static const mcp_tool_defs bad = { &shared_file, bad_file, 1 };
    static const mcp_tool_defs none = { &shared_file, one_file, 0 };
    static const mcp_tool x[] = { { "x", run_echo } };
    static const mcp_tool y[] = { { "y", run_echo } };
    static const mcp_tool twice[] = { { "x", run_echo }, { "x", run_echo } };
    static const mcp_tool no_run[] = { { "x", NULL } };
    json_object *page, *tool, *ann;
    const char *err;

    CHECK(mcp_catalog_build(pool, &mcp_tool_definitions, mcp_tools,
                            mcp_tools_count, 50, &c) == NULL,
          "the module's own catalog builds");
    CHECK(mcp_catalog_build(pool, &one, x, 1, 50, &c) == NULL,
          "one definition and its tool");
    CHECK(mcp_catalog_build(pool, &bad, x, 1, 50, &c) != NULL,
          "a definition that is not JSON is refused");
    err = mcp_catalog_build(pool, &one, twice, 2, 50, &c);
    CHECK(err != NULL && strstr(err, "listed twice") != NULL,
          "a name listed twice is refused (%s)", err ? err : "accepted");
    err = mcp_catalog_build(pool, &one, y, 1, 50, &c);
    CHECK(err != NULL && strstr(err, "tool y: no definition") != NULL,
          "a tool without a definition is refused (%s)",
          err ? err : "accepted");
    err = mcp_catalog_build(pool, &none, x, 1, 50, &c);
    CHECK(err != NULL && strstr(err, "tool x: no definition") != NULL,
          "... also with no definitions at all (%s)",
          err ? err : "accepted");
    err = mcp_catalog_build(pool, &one, x, 0, 50, &c);
    CHECK(err != NULL && strstr(err, "t/x.json: no tool") != NULL,
          "a definition no tool runs is refused (%s)",
          err ? err : "accepted");
    err = mcp_catalog_build(pool, &one, no_run, 1, 50, &c);
    CHECK(err != NULL && strstr(err, "run function") != NULL,
          "a tool without a run function is refused (%s)",
          err ? err : "accepted");

    CHECK(mcp_catalog_build(pool, &five_defs, five_tools, 5, 2, &c) == NULL
              && c->npages == 3,
          "five tools, two per page: three pages");
    page = parsed(mcp_catalog_page(c, NULL));
    CHECK(json_object_array_length(json_object_object_get(page, "tools")) == 2,
          "first page has two tools");
    CHECK_STR(mcp_json_get_string(page, "nextCursor"), "page:1",
              "first page's nextCursor");
    page = parsed(mcp_catalog_page(c, "page:2"));
    CHECK(json_object_array_length(json_object_object_get(page, "tools")) == 1
              && !json_object_object_get_ex(page, "nextCursor", NULL),
          "last page has one tool and no nextCursor");
    CHECK(mcp_catalog_page(c, "page:3") == NULL, "cursor past the end");
    CHECK(mcp_catalog_page(c, "page:01") == NULL, "non-canonical cursor");
    CHECK(mcp_catalog_page(c, "page:-1") == NULL, "negative cursor");
    CHECK(mcp_catalog_page(c, "page:") == NULL, "empty cursor number");
    CHECK(mcp_catalog_page(c, "page:99999999999") == NULL, "huge cursor");
    CHECK(mcp_catalog_page(c, "") == NULL, "empty cursor");

    /* An endpoint offering tools 0, 2 and 4 of the five (MatomoMcpTools):
     * pages of two over those three, the same cursors. */
    {
        mcp_tool_set set = 1 | 4 | 16;
        json_object *tools;

        page = parsed(mcp_catalog_page_of(pool, c, set, NULL));
        tools = json_object_object_get(page, "tools");
        CHECK(json_object_array_length(tools) == 2
                  && !strcmp(mcp_json_get_string(
                                 json_object_array_get_idx(tools, 1), "name"),
                             five_tools[2].name),
              "a tool set's first page: tools 0 and 2");
        CHECK_STR(mcp_json_get_string(page, "nextCursor"), "page:1",
                  "... and a next page");
        page = parsed(mcp_catalog_page_of(pool, c, set, "page:1"));
        tools = json_object_object_get(page, "tools");
        CHECK(json_object_array_length(tools) == 1
                  && !strcmp(mcp_json_get_string(
                                 json_object_array_get_idx(tools, 0), "name"),
                             five_tools[4].name)
                  && !json_object_object_get_ex(page, "nextCursor", NULL),
              "... its last page: tool 4, no nextCursor");
        CHECK(mcp_catalog_page_of(pool, c, set, "page:2") == NULL
                  && mcp_catalog_page_of(pool, c, set, "page:01") == NULL,
              "... no page past them, no odd cursor");
        CHECK(mcp_catalog_page_of(pool, c, 0, "page:2")
                  == mcp_catalog_page(c, "page:2"),
              "set 0 is every tool: the pages built once");
    }
    /* Every group names tools of the catalog only. */
    {
        int g;

        for (g = 0; g < mcp_tool_groups_count; g++) {
            const char *t = mcp_tool_groups[g].tools;

            while (*t != '\0') {
                size_t len = strcspn(t, " ");
                mcp_tool_set found = 0;
                char *name = apr_pstrmemdup(pool, t, len);

                CHECK(mcp_tool_set_add(name, &found) && found != 0,
                      "group %s: %s is a tool", mcp_tool_groups[g].name,
                      name);
                t += len;
                t += strspn(t, " ");
            }
        }
        {
            mcp_tool_set nothing = 0;

            CHECK(!mcp_tool_set_add("matomo_nothing", &nothing) && nothing == 0,
                  "an unknown name adds nothing");
        }
    }

    /* Every tool of the module's own catalog, page by page. */
    {
        mcp_catalog *own = NULL;
        const char *cursor = NULL;
        int seen = 0, annotated = 0, schemas = 0, pages = 0;

        CHECK(mcp_catalog_build(pool, &mcp_tool_definitions, mcp_tools,
                                mcp_tools_count, 3, &own) == NULL,
              "the module's catalog builds in pages of three");
        do {
            const char *json = own ? mcp_catalog_page(own, cursor) : NULL;
            json_object *tools;
            size_t i;

            if (json == NULL) {
                break;
            }
            page = parsed(json);
            tools = json_object_object_get(page, "tools");
            for (i = 0; i < json_object_array_length(tools); i++) {
                json_object *b;

                tool = json_object_array_get_idx(tools, i);
                ann = json_object_object_get(tool, "annotations");
                seen++;
                /* Each hint must be there, a boolean, with its value. */
                annotated +=
                    json_object_object_get_ex(ann, "readOnlyHint", &b)
                    && json_object_is_type(b, json_type_boolean)
                    && json_object_get_boolean(b)
                    && json_object_object_get_ex(ann, "destructiveHint", &b)
                    && json_object_is_type(b, json_type_boolean)
                    && !json_object_get_boolean(b)
                    && json_object_object_get_ex(ann, "idempotentHint", &b)
                    && json_object_is_type(b, json_type_boolean)
                    && json_object_get_boolean(b)
                    && json_object_object_get_ex(ann, "openWorldHint", &b)
                    && json_object_is_type(b, json_type_boolean)
                    && !json_object_get_boolean(b);
                schemas +=
                    json_object_object_get_ex(tool, "outputSchema", NULL)
                    && json_object_object_get_ex(tool, "inputSchema", NULL);
            }
            cursor = mcp_json_get_string(page, "nextCursor");
        } while (cursor != NULL && ++pages < 100);
        CHECK(mcp_tools_count > 3 && seen == mcp_tools_count,
              "tools/list pages give all %d tools of the module (got %d)",
              mcp_tools_count, seen);
        CHECK(annotated == mcp_tools_count,
              "every tool is annotated read-only, non-destructive, "
              "idempotent, closed-world (%d of %d)", annotated,
              mcp_tools_count);
        CHECK(schemas == mcp_tools_count,
              "every tool lists its input and output schemas (%d of %d)",
              schemas, mcp_tools_count);
    }
    CHECK(mcp_catalog_find(c, "t4") == &five_tools[3]
              && mcp_catalog_find(c, "t9") == NULL,
          "lookup by name");
}

/* --- dispatch ------------------------------------------------------- */

static const mcp_catalog *five_catalog;

/* One body as the transport hands it over with these request headers. */
static json_object *handle_with(const mcp_headers *h, const char *body,
                                int *status)
{
    mcp_request req;
    mcp_reply reply;

    memset(&req, 0, sizeof(req));
    req.pool = pool;
    req.catalog = five_catalog;
    req.headers = *h;
    req.website_url = "https://stats.example.org/";
    mcp_server_handle(&req, body, strlen(body), &reply);
    *status = reply.http_status;
    return reply.body != NULL ? parsed(reply.body) : NULL;
}

static json_object *handle_as(const char *version, const char *body,
                              int *status)
{
    mcp_headers h = { version, NULL, NULL };

    return handle_with(&h, body, status);
}

/* A 2026-07-28 request: the protocol header, and Mcp-Method / Mcp-Name as
 * given (NULL: absent). */
static json_object *handle_modern(const char *method, const char *name,
                                  const char *body, int *status)
{
    mcp_headers h = { MCP_PROTOCOL_MODERN, method, name };

    return handle_with(&h, body, status);
}

static json_object *handle(const char *body, int *status)
{
    return handle_as(MCP_PROTOCOL_DEFAULT, body, status);
}

static json_object *path(json_object *obj, const char *p1, const char *p2)
{
    obj = json_object_object_get(obj, p1);
    return p2 != NULL ? json_object_object_get(obj, p2) : obj;
}

static int error_code(json_object *reply)
{
    return json_object_get_int(path(reply, "error", "code"));
}

#define INIT(v)                                                              \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"    \
    "{\"protocolVersion\":\"" v "\",\"capabilities\":{},\"clientInfo\":"      \
    "{\"name\":\"t\",\"version\":\"1\"}}}"

#define PING(id) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"ping\"}"

/* The id of a batch answer as text ("null" for none), its error code. */
static const char *member_id(json_object *answers, size_t i)
{
    json_object *id = path(mcp_json_array_get(answers, i), "id", NULL);

    return id != NULL ? json_object_get_string(id) : "null";
}

static void test_dispatch_batch(void)
{
    static const char *const want_ids[] = { "1", "t", "null", "null", "2",
                                            "3" };
    static const int want_codes[] = { 0, 0, -32600, -32600, -32600, 0 };
    json_object *r;
    int status, ok = 1;
    size_t i;
    const char *pings;

    r = handle("[" PING("1") ","
               "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
               "{\"jsonrpc\":\"2.0\",\"id\":\"t\",\"method\":\"tools/list\"},"
               "7,[],"
               "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\","
               "\"params\":{}},"
               "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
               "\"params\":{\"name\":\"t1\",\"arguments\":{}}}]", &status);
    CHECK(status == 200 && mcp_json_array_length(r) == 6,
          "2025-03-26 batch: 200, one answer per request, none for the "
          "notification");
    for (i = 0; i < 6; i++) {
        ok = ok && strcmp(member_id(r, i), want_ids[i]) == 0
             && error_code(mcp_json_array_get(r, i)) == want_codes[i];
    }
    CHECK(ok, "... in order: ping, tools/list, two non-messages and "
              "initialize refused (-32600), tools/call answered");
    r = handle("[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
               "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}]", &status);
    CHECK(status == 202 && r == NULL,
          "a batch of a notification and a response: 202, no body");
    r = handle_as("2025-06-18", "[" PING("1") "]", &status);
    CHECK(status == 400 && error_code(r) == -32600
              && json_object_is_type(path(r, "id", NULL), json_type_null)
              && strstr(json_object_get_string(path(r, "error", "message")),
                        "2025-03-26") != NULL,
          "2025-06-18: batches refused, 400, -32600 naming 2025-03-26");
    pings = PING("0");
    for (i = 1; i < MCP_BATCH_MAX; i++) {
        pings = apr_pstrcat(pool, pings, ",", PING("0"), NULL);
    }
    r = handle(apr_pstrcat(pool, "[", pings, "]", NULL), &status);
    CHECK(status == 200 && mcp_json_array_length(r) == MCP_BATCH_MAX,
          "a batch of MCP_BATCH_MAX pings: all answered");
    r = handle(apr_pstrcat(pool, "[", pings, ",", PING("0"), "]", NULL),
               &status);
    CHECK(status == 400 && error_code(r) == -32600,
          "one message more: 400, -32600");
}

static void test_dispatch_lifecycle(void)
{
    json_object *r;
    int status;

    r = handle(INIT("2025-06-18"), &status);
    CHECK(status == 200, "initialize answers 200");
    CHECK_STR(json_object_get_string(path(r, "result", "protocolVersion")),
              "2025-06-18", "a supported protocolVersion is echoed");
    CHECK_STR(json_object_get_string(path(path(r, "result", "serverInfo"),
                                          "websiteUrl", NULL)),
              "https://stats.example.org/", "serverInfo.websiteUrl");
    CHECK(path(path(r, "result", "capabilities"), "tools", NULL) != NULL,
          "tools capability declared");
    CHECK(strstr(json_object_get_string(path(r, "result", "instructions")),
                 "timezone") != NULL,
          "instructions tell the model about timezones");
    r = handle(INIT("2024-01-01"), &status);
    CHECK_STR(json_object_get_string(path(r, "result", "protocolVersion")),
              MCP_PROTOCOL_LATEST, "an unknown revision gets the latest");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
               "\"params\":{}}", &status);
    CHECK(error_code(r) == -32602, "initialize without protocolVersion");

    r = handle("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}",
               &status);
    CHECK(status == 200 && json_object_object_length(path(r, "result", NULL))
                               == 0,
          "ping answers {}");
    r = handle("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
               &status);
    CHECK(status == 202 && r == NULL, "a notification gets 202, no body");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}", &status);
    CHECK(status == 200 && error_code(r) == -32601, "unknown method: -32601");
    r = handle("{bad", &status);
    CHECK(status == 400 && error_code(r) == -32700
              && json_object_is_type(path(r, "id", NULL), json_type_null),
          "parse error: 400, -32700, id null");
    CHECK(mcp_era_is_legacy_version("2025-03-26")
              && !mcp_era_is_legacy_version("2026-07-28")
              && !mcp_era_is_legacy_version(""),
          "initialize selects only the legacy revisions");
    r = handle_modern("initialize", NULL,
                  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                  "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
                  "protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/"
                  "clientCapabilities\":{}}}}", &status);
    CHECK(status == 404 && error_code(r) == -32601
              && json_object_get_int(path(r, "id", NULL)) == 1,
          "initialize with the 2026-07-28 header: 404 -32601, id kept");
    r = handle_as("1999-01-01", PING("7"), &status);
    CHECK(status == 400 && error_code(r) == -32022
              && json_object_get_int(path(r, "id", NULL)) == 7
              && json_object_array_length(path(path(r, "error", "data"),
                                                "supported", NULL)) == 4,
          "an unknown revision: 400 -32022 with the id and the four "
          "supported revisions");
    CHECK_STR(json_object_get_string(path(path(r, "error", "data"),
                                          "requested", NULL)),
              "1999-01-01", "-32022 echoes the requested revision");
}

#define META(v) "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" \
                v "\",\"io.modelcontextprotocol/clientCapabilities\":{}}"
#define MODERN(id, method, extra)                                            \
    "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"" method "\","       \
    "\"params\":{" extra META("2026-07-28") "}}"

static void test_dispatch_modern(void)
{
    json_object *r, *res;
    mcp_meta meta;
    mcp_refusal refusal;
    apr_size_t len;
    int status;

    r = handle_modern("server/discover", NULL,
                      MODERN("\"d\"", "server/discover", ""), &status);
    res = path(r, "result", NULL);
    CHECK(status == 200 && json_object_array_length(
                               path(res, "supportedVersions", NULL)) == 4,
          "server/discover: four supported revisions");
    CHECK_STR(json_object_get_string(path(res, "resultType", NULL)),
              "complete", "server/discover: resultType");
    CHECK_STR(json_object_get_string(path(res, "cacheScope", NULL)),
              "public", "server/discover: public");
    CHECK_STR(json_object_get_string(path(path(res, "_meta",
                  "io.modelcontextprotocol/serverInfo"), "name", NULL)),
              MCP_SERVER_NAME, "server/discover: serverInfo in _meta");
    CHECK(path(res, "capabilities", "prompts") != NULL,
          "server/discover: prompts capability");

    r = handle_modern("tools/list", NULL,
                      MODERN("2", "tools/list", ""), &status);
    res = path(r, "result", NULL);
    CHECK(status == 200 && json_object_get_int(path(res, "ttlMs", NULL))
                               == 3600000
              && path(res, "tools", NULL) != NULL,
          "tools/list: tools with ttlMs");
    r = handle_modern("tools/list", NULL,
                      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
                      "\"tools/list\"}", &status);
    CHECK(status == 400 && error_code(r) == -32602
              && json_object_get_int(path(r, "id", NULL)) == 3,
          "no _meta: 400 -32602 with the id");
    r = handle_modern(NULL, NULL, MODERN("4", "tools/list", ""), &status);
    CHECK(status == 400 && error_code(r) == -32020,
          "no Mcp-Method: 400 -32020");
    r = handle_modern("TOOLS/LIST", NULL, MODERN("5", "tools/list", ""),
                      &status);
    CHECK(status == 400 && error_code(r) == -32020,
          "Mcp-Method compared case-sensitively");
    r = handle_modern("tools/call", NULL,
                      MODERN("6", "tools/call", "\"name\":\"t3\","),
                      &status);
    CHECK(status == 400 && error_code(r) == -32020,
          "tools/call without Mcp-Name: -32020");
    r = handle_modern("tools/call", "=?base64?dDM=?=",
                      MODERN("7", "tools/call", "\"name\":\"t3\","),
                      &status);
    CHECK(status == 200 && path(r, "result", NULL) != NULL,
          "a base64-encoded Mcp-Name is decoded before comparing");
    r = handle_modern("ping", NULL, MODERN("8", "ping", ""), &status);
    CHECK(status == 404 && error_code(r) == -32601,
          "ping is gone in 2026-07-28: 404 -32601");
    r = handle_modern("resources/read", "matomo://nope",
                      MODERN("9", "resources/read",
                             "\"uri\":\"matomo://nope\","), &status);
    CHECK(error_code(r) == -32602
              && path(path(r, "error", "data"), "uri", NULL) != NULL,
          "resource not found: -32602 with data.uri");
    r = handle_as(MCP_PROTOCOL_LATEST, MODERN("10", "tools/list", ""),
                  &status);
    CHECK(status == 400 && error_code(r) == -32020,
          "header 2025-11-25, _meta 2026-07-28: -32020");

    CHECK(mcp_era_require_capability(pool, &(mcp_meta){ NULL, NULL },
                                     "sampling", &refusal) != 0
              && refusal.code == -32021 && refusal.http_status == 400
              && json_object_is_type(path(refusal.data,
                                          "requiredCapabilities",
                                          "sampling"), json_type_object),
          "an undeclared capability: -32021 naming it as an object");
    memset(&meta, 0, sizeof(meta));
    CHECK(mcp_era_header_value(pool, "a\x01b", &len) == NULL
              && mcp_era_header_value(pool, "=?base64?!!!!?=", &len) == NULL,
          "control characters and bad base64 are refused");
    CHECK_STR(mcp_era_decorate(pool, "{}", "{\"name\":\"x\"}", NULL),
              "{\"resultType\":\"complete\",\"_meta\":{"
              "\"io.modelcontextprotocol/serverInfo\":{\"name\":\"x\"}}}",
              "decorating an empty result");
}

static void test_dispatch_tools(void)
{
    json_object *r;
    int status, before = runs;

    r = handle("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
               "\"params\":{\"cursor\":\"page:1\"}}", &status);
    CHECK_STR(json_object_get_string(path(r, "result", "nextCursor")),
              "page:2", "tools/list follows the cursor");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
               "\"params\":{\"cursor\":\"x\"}}", &status);
    CHECK(error_code(r) == -32602, "unknown cursor: -32602");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
               "\"params\":{\"cursor\":3}}", &status);
    CHECK(error_code(r) == -32602, "non-string cursor: -32602");

    r = handle("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
               "\"params\":{\"name\":\"t1\",\"arguments\":{\"k\":1}}}",
               &status);
    CHECK(runs == before + 1, "tools/call runs the tool");
    CHECK(json_object_get_int(path(path(r, "result", "structuredContent"),
                                   "args", "k")) == 1,
          "structuredContent carries the tool's data");
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(path(r, "result", "content"), 0),
                  "text")),
              "{\"args\":{\"k\":1}}", "the text block repeats it as JSON");
    CHECK(!json_object_object_get_ex(path(r, "result", NULL), "isError", NULL),
          "a good result has no isError");
    {
        static const struct { const char *args, *says; } bad[] = {
            { "{}", "k: required" },
            { "{\"k\":1,\"zz\":2}", "zz: unknown argument (allowed: k, p, d)" },
            { "{\"k\":10}", "k: must be from 0 to 9" },
            { "{\"k\":\"1.0\"}", "k: must be an integer" },
            { "{\"k\":[1,2]}", "k: must be an integer" },
            { "{\"k\":1.5}", "k: must be an integer" },
            { "{\"k\":1,\"p\":\"year\"}", "p: must be one of day, week" },
            { "{\"k\":1,\"d\":\"2026-1-1\"}",
              "d: '2026-1-1' is not valid: YYYY-MM-DD" },
        };
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            r = handle(apr_pstrcat(pool, "{\"jsonrpc\":\"2.0\",\"id\":3,"
                                   "\"method\":\"tools/call\",\"params\":{"
                                   "\"name\":\"t1\",\"arguments\":",
                                   bad[i].args, "}}", NULL), &status);
            CHECK(json_object_get_boolean(path(r, "result", "isError"))
                      && strcmp(json_object_get_string(json_object_object_get(
                             json_object_array_get_idx(
                                 path(r, "result", "content"), 0), "text")),
                             bad[i].says) == 0
                      && runs == before + 1,
                  "arguments %s: isError '%s', tool not run", bad[i].args,
                  bad[i].says);
        }
    }
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
               "\"params\":{\"name\":\"t2\"}}", &status);
    CHECK(json_object_get_boolean(path(r, "result", "isError"))
              && !json_object_object_get_ex(path(r, "result", NULL),
                                            "structuredContent", NULL),
          "a tool error is a result with isError");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
               "\"params\":{\"name\":\"zz\"}}", &status);
    CHECK(error_code(r) == -32602
              && strcmp(json_object_get_string(path(path(r, "error", "data"),
                                                    "tool", NULL)), "zz") == 0,
          "unknown tool: -32602 naming it");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
               "\"params\":{}}", &status);
    CHECK(error_code(r) == -32602, "tools/call without name: -32602");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
               "\"params\":{\"name\":\"t1\",\"arguments\":[]}}", &status);
    CHECK(error_code(r) == -32602 && runs == before + 1,
          "arguments that are not an object: -32602, tool not run");
}

/* --- credentials ---------------------------------------------------- */

static void test_auth(void)
{
    const char *t = NULL;
    char big[MCP_AUTH_MAX_TOKEN + 16];
    mcp_verdict_cache *c = NULL;
    apr_time_t now = apr_time_now();

    CHECK(mcp_auth_parse_bearer(NULL, &t) == MCP_AUTH_MISSING, "no header");
    CHECK(mcp_auth_parse_bearer("Bearer abc123", &t) == MCP_AUTH_OK
              && strcmp(t, "abc123") == 0, "a bearer token");
    CHECK(mcp_auth_parse_bearer("bearer a-b.c_d~e+f/g==", &t) == MCP_AUTH_OK,
          "scheme in any case, every b64token character");
    CHECK(mcp_auth_parse_bearer("Basic dXNlcjpwdw==", &t)
              == MCP_AUTH_MALFORMED, "Basic scheme refused");
    CHECK(mcp_auth_parse_bearer("Bearer", &t) == MCP_AUTH_MALFORMED
              && mcp_auth_parse_bearer("Bearer ", &t) == MCP_AUTH_MALFORMED,
          "no token refused");
    CHECK(mcp_auth_parse_bearer("Bearer a b", &t) == MCP_AUTH_MALFORMED,
          "space inside refused");
    CHECK(mcp_auth_parse_bearer("Bearer a=b", &t) == MCP_AUTH_MALFORMED,
          "= only at the end");
    CHECK(mcp_auth_parse_bearer("Bearer abc\r\nX: y", &t)
              == MCP_AUTH_MALFORMED, "control characters refused");
    CHECK(mcp_auth_parse_bearer("Bearer t%26module=x", &t)
              == MCP_AUTH_MALFORMED, "form metacharacters refused");
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', MCP_AUTH_MAX_TOKEN + 1);
    big[7 + MCP_AUTH_MAX_TOKEN + 1] = '\0';
    CHECK(mcp_auth_parse_bearer(big, &t) == MCP_AUTH_MALFORMED,
          "over-long token refused");

    CHECK(mcp_auth_looks_like_jwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ2In0."),
          "unsigned JWT shape");
    CHECK(mcp_auth_looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzIjoxfQ.c2ln-_"),
          "signed JWT shape");
    CHECK(!mcp_auth_looks_like_jwt("feedc0defeedc0defeedc0defeedc0de"),
          "a token_auth is not a JWT");
    CHECK(!mcp_auth_looks_like_jwt("eyJa.b") && !mcp_auth_looks_like_jwt(
              "abc.def.ghi") && !mcp_auth_looks_like_jwt("eyJa..x"),
          "near misses are not JWTs");

    CHECK(mcp_verdict_cache_create(pool, 2, apr_time_from_sec(60), &c)
              == APR_SUCCESS, "verdict cache");
    CHECK(mcp_verdict_cache_get(c, "s", "t1", now) == MCP_VERDICT_UNKNOWN,
          "unknown token: no verdict");
    mcp_verdict_cache_put(c, "s", "t1", MCP_VERDICT_VALID, now);
    mcp_verdict_cache_put(c, "s", "t2", MCP_VERDICT_INVALID, now);
    CHECK(mcp_verdict_cache_get(c, "s", "t1", now) == MCP_VERDICT_VALID
              && mcp_verdict_cache_get(c, "s", "t2", now) == MCP_VERDICT_INVALID,
          "verdicts remembered per token");
    CHECK(mcp_verdict_cache_get(c, "other", "t1", now) == MCP_VERDICT_UNKNOWN,
          "a verdict holds for its own endpoint only");
    CHECK(mcp_verdict_cache_get(c, "s", "t1", now + apr_time_from_sec(61))
              == MCP_VERDICT_UNKNOWN, "verdicts expire");
    mcp_verdict_cache_put(c, "s", "t3", MCP_VERDICT_VALID, now);
    CHECK(mcp_verdict_cache_get(c, "s", "t1", now) == MCP_VERDICT_UNKNOWN
              && mcp_verdict_cache_get(c, "s", "t3", now) == MCP_VERDICT_VALID,
          "a full cache replaces its oldest entry");
}

/* --- the Matomo client (without a network) -------------------------- */

static void test_matomo_allow_list(void)
{
    apr_array_header_t *params = mcp_matomo_params(pool);

    CHECK(mcp_matomo_method_allowed("VisitsSummary.get")
              && mcp_matomo_method_allowed("Actions.getPageUrls")
              && mcp_matomo_method_allowed("API.getProcessedReport")
              && mcp_matomo_method_allowed(
                  "SitesManager.getSitesWithAtLeastViewAccess"),
          "read methods allowed");
    CHECK(!mcp_matomo_method_allowed("SitesManager.addSite")
              && !mcp_matomo_method_allowed("UsersManager.getTokenAuth")
              && !mcp_matomo_method_allowed("Goals.addGoal")
              && !mcp_matomo_method_allowed("Goals.deleteGoal")
              && !mcp_matomo_method_allowed("Annotations.add")
              && !mcp_matomo_method_allowed("API.getBulkRequest")
              && !mcp_matomo_method_allowed("Actions.get Page")
              && !mcp_matomo_method_allowed("Actions.getPageUrls&x=1")
              && !mcp_matomo_method_allowed("Actions.")
              && !mcp_matomo_method_allowed("Actions.getter")
              && !mcp_matomo_method_allowed("Actions.got"),
          "writes, secrets, bulk and odd names refused");
    CHECK(mcp_matomo_method_allowed("Goals.get")
              && !mcp_matomo_method_allowed("SitesManager.get")
              && !mcp_matomo_method_allowed("UsersManager.get"),
          "Module.get only for report modules");

    mcp_matomo_param_add(params, "idSite", "1");
    mcp_matomo_param_add(params, "segment", "deviceType==smartphone;x=&y");
    CHECK_STR(mcp_matomo_form(pool, "VisitsSummary.get", params),
              "module=API&format=JSON&method=VisitsSummary.get&idSite=1"
              "&segment=deviceType%3D%3Dsmartphone%3Bx%3D%26y",
              "form body: values escaped, no credential");
    CHECK(mcp_matomo_form(pool, "SitesManager.addSite", params) == NULL,
          "no form for a write method");
    mcp_matomo_param_add(params, "token_auth", "x");
    CHECK(mcp_matomo_form(pool, "VisitsSummary.get", params) == NULL,
          "token_auth cannot be passed as a parameter");
    params = mcp_matomo_params(pool);
    mcp_matomo_param_add(params, "method", "SitesManager.addSite");
    CHECK(mcp_matomo_form(pool, "VisitsSummary.get", params) == NULL,
          "method cannot be overridden");
    params = mcp_matomo_params(pool);
    mcp_matomo_param_add(params, "a&method", "x");
    CHECK(mcp_matomo_form(pool, "VisitsSummary.get", params) == NULL,
          "parameter names are checked");
    CHECK(!mcp_matomo_param_allowed("token_auth[0]")
              && !mcp_matomo_param_allowed("format[]")
              && !mcp_matomo_param_allowed("urls[0]"),
          "a reserved name with brackets (PHP's array syntax) is reserved");
    CHECK(mcp_matomo_param_allowed("columns[]")
              && mcp_matomo_param_allowed("token_authx"),
          "other names with brackets, or merely starting like a reserved "
          "one, are not");
}

static mcp_matomo_answer classify_answer(long status, const char *body)
{
    mcp_matomo_answer a;

    memset(&a, 0, sizeof(a));
    mcp_matomo_classify(pool, status, body, strlen(body), "s3cr3tt0k3n", &a);
    return a;
}

static void test_matomo_answers(void)
{
    mcp_matomo_answer a;
    const char *text;

    a = classify_answer(200, "{\"nb_visits\":3}");
    CHECK(a.status == MCP_MATOMO_OK && a.json != NULL, "a JSON answer");
    a = classify_answer(200, "{\"result\":\"error\",\"message\":\"bad "
                             "date s3cr3tt0k3n token_auth=abc&x\"}");
    CHECK(a.status == MCP_MATOMO_ERROR, "Matomo's error result");
    CHECK(strstr(a.message, "bad date") != NULL
              && strstr(a.message, "s3cr3tt0k3n") == NULL
              && strstr(a.message, "abc") == NULL,
          "its message keeps the words, loses credentials");
    a = classify_answer(401, "{\"result\":\"error\",\"message\":\"no "
                             "view access\"}");
    CHECK(a.status == MCP_MATOMO_DENIED
              && strstr(a.message, "view access") != NULL,
          "401 with JSON: access denied, Matomo's words");
    a = classify_answer(401, "<!DOCTYPE html><html>error</html>");
    CHECK(a.status == MCP_MATOMO_BAD_TOKEN, "401 with HTML: bad token");
    a = classify_answer(500, "<!DOCTYPE html><h2>Too many failed logins. "
                             "Please wait and try logging in again "
                             "later.</h2>");
    CHECK(a.status == MCP_MATOMO_LOCKED_OUT
              && strstr(a.message, "proxy_client_headers") != NULL,
          "Matomo's brute-force page: the lock-out, and how to lift it");
    a = classify_answer(500, "<html>Internal error</html>");
    CHECK(a.status == MCP_MATOMO_HTTP_ERROR, "any other 500 is not one");
    a = classify_answer(200, "{\"result\":\"error\",\"message\":\"You "
                             "can't access this resource as it requires "
                             "view access for at least one website.\"}");
    CHECK(a.status == MCP_MATOMO_DENIED,
          "Matomo 4's access error with HTTP 200: access denied");
    a = classify_answer(500, "<html>oops</html>");
    CHECK(a.status == MCP_MATOMO_HTTP_ERROR && strstr(a.message, "500"),
          "500: names the status");
    a = classify_answer(200, "<html>login</html>");
    CHECK(a.status == MCP_MATOMO_BAD_ANSWER, "HTML with 200: bad answer");
    a = classify_answer(200, "[{\"label\":\"a\",\"nb_vis");
    CHECK(a.status == MCP_MATOMO_BAD_ANSWER, "truncated JSON: bad answer");
    a = classify_answer(200, "");
    CHECK(a.status == MCP_MATOMO_BAD_ANSWER, "empty answer: bad answer");
    a = classify_answer(200, "[{\"label\":\"a\",\"nb_visits\":1e400}]");
    CHECK(a.status == MCP_MATOMO_BAD_ANSWER
              && strstr(a.message, "beyond the range of a double") != NULL,
          "a number no double holds: bad answer, saying so");

    a = classify_answer(200, "{\"reportData\":[1],\"imageGraphUrl\":"
                             "\"index.php?module=API&token_auth=s3cr3tt0k3n\","
                             "\"metadata\":{\"imageGraphEvolutionUrl\":"
                             "\"x&token_auth=s3cr3tt0k3n\",\"name\":\"n\"},"
                             "\"list\":[\"s3cr3tt0k3n\",\"ok\"],"
                             "\"other\":\"?token_auth=anything\"}");
    text = json_object_to_json_string(a.json);
    CHECK(a.status == MCP_MATOMO_OK && strstr(text, "s3cr3tt0k3n") == NULL
              && strstr(text, "token_auth") == NULL,
          "every credential-carrying string is gone");
    CHECK(strstr(text, "\"name\":") != NULL
              && strstr(text, "reportData") != NULL
              && strstr(text, "\"ok\"") != NULL,
          "everything else stays");

    /* Found by fuzz/fuzz_answer: a token in a member's name, or after a
     * U+0000 inside a string, where strstr() stopped looking. */
    a = classify_answer(200, "{\"s3cr3tt0k3n\":1,\"x\":{\"?token_auth=y\":"
                             "[2]},\"nul\":\"a\\u0000s3cr3tt0k3n\","
                             "\"list\":[\"b\\u0000token_auth=z\"],"
                             "\"keep\":3}");
    text = json_object_to_json_string(a.json);
    CHECK(a.status == MCP_MATOMO_OK && strstr(text, "s3cr3tt0k3n") == NULL
              && strstr(text, "token_auth") == NULL
              && strstr(text, "\"keep\"") != NULL,
          "credentials in member names and after U+0000 are gone too");
    a = classify_answer(200, "\"s3cr3tt0k3n.x\"");
    CHECK(a.status == MCP_MATOMO_OK
              && json_object_is_type(a.json, json_type_string)
              && json_object_get_string_len(a.json) == 0,
          "an answer that is one credential-carrying string is emptied");
    {
        /* Matomo's message is cut at 500 bytes: between characters, and
         * after masking, so no part of a token survives the cut. */
        char body[1200] = "{\"result\":\"error\",\"message\":\"x";
        int i;

        for (i = 0; i < 250; i++) {
            strcat(body, "\xc3\xa9");
        }
        strcat(body, "\"}");
        a = classify_answer(200, body);
        CHECK(a.status == MCP_MATOMO_ERROR && strlen(a.message) <= 500
                  && parse(apr_psprintf(pool, "\"%s\"", a.message))
                         == MCP_JSON_OK,
              "a long message is cut between characters");
        body[strlen("{\"result\":\"error\",\"message\":\"")] = '\0';
        for (i = 0; i < 490; i++) {
            strcat(body, "x");
        }
        strcat(body, " s3cr3tt0k3n\"}");
        a = classify_answer(200, body);
        CHECK(a.status == MCP_MATOMO_ERROR && strlen(a.message) == 500
                  && strstr(a.message, "s3cr3") == NULL,
              "a token is masked before the cut: no part of it survives");
    }
}

/* --- charts (ImageGraph.get) ------------------------------------------ */

/* A recorded ImageGraph.get answer (t/matomo/recorded-imagegraph/NAME.json):
 * its status and body bytes.  The binary runs from the source tree or t/. */
typedef struct {
    long status;
    char *body;
    apr_size_t len;
} recorded_chart;

static int read_chart(const char *name, recorded_chart *rec)
{
    static const char *const dirs[] = { "t/matomo/recorded-imagegraph",
                                        "matomo/recorded-imagegraph" };
    apr_file_t *f;
    apr_finfo_t info;
    json_object *wrap = NULL;
    const char *b64;
    char *text;
    apr_size_t n, i;

    for (i = 0; i < 2; i++) {
        if (apr_file_open(&f, apr_psprintf(pool, "%s/%s.json", dirs[i], name),
                          APR_FOPEN_READ, 0, pool) == APR_SUCCESS) {
            break;
        }
    }
    if (i == 2 || apr_file_info_get(&info, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        return 0;
    }
    n = (apr_size_t)info.size;
    text = apr_palloc(pool, n + 1);
    if (apr_file_read_full(f, text, n, &n) != APR_SUCCESS
        || mcp_json_parse(pool, text, n, 8, &wrap) != MCP_JSON_OK) {
        return 0;
    }
    b64 = mcp_json_get_string(wrap, "body_base64");
    rec->status = json_object_get_int(json_object_object_get(wrap, "status"));
    rec->body = apr_palloc(pool, (apr_size_t)apr_base64_decode_len(b64));
    rec->len = (apr_size_t)apr_base64_decode(rec->body, b64);
    return 1;
}

static mcp_matomo_answer classify_chart(const char *name, long w, long h)
{
    recorded_chart rec;
    mcp_matomo_answer a;

    memset(&a, 0, sizeof(a));
    if (!read_chart(name, &rec)) {
        a.status = MCP_MATOMO_REFUSED;
        a.message = "recording missing";
        return a;
    }
    mcp_matomo_classify_chart(pool, rec.status, rec.body, rec.len,
                              "s3cr3tt0k3n", w, h, &a);
    return a;
}

static void test_matomo_charts(void)
{
    static const char *const pictures[] = {
        "evolution-visits-day-last30", "evolution-visits-week-last12",
        "bar-devicetype-month", "vbar-devicetype-month",
        "pie-referrertype-month", "empty-site3", NULL
    };
    apr_array_header_t *params;
    mcp_matomo_answer a;
    recorded_chart rec;
    const char *form;
    int i;

    /* Every recorded picture is taken whole, at the size asked (every
     * recording asked 800x400). */
    for (i = 0; pictures[i] != NULL; i++) {
        a = classify_chart(pictures[i], 800, 400);
        CHECK(a.status == MCP_MATOMO_OK && a.png != NULL
                  && read_chart(pictures[i], &rec) && a.png_len == rec.len
                  && memcmp(a.png, rec.body, rec.len) == 0,
              "%s.json: a PNG, its bytes", pictures[i]);
    }
    a = classify_chart("evolution-visits-day-last30", 640, 400);
    CHECK(a.status == MCP_MATOMO_BAD_ANSWER && a.png == NULL
              && strstr(a.message, "800x400") != NULL,
          "a picture of another size than asked: not taken, saying so");
    CHECK(read_chart("evolution-visits-day-last30", &rec), "recording read");
    memset(&a, 0, sizeof(a));
    mcp_matomo_classify_chart(pool, 200, rec.body, rec.len / 2, "t", 800,
                              400, &a);
    CHECK(a.status == MCP_MATOMO_BAD_ANSWER && a.png == NULL,
          "half a PNG (no IEND): not a picture");
    /* Access errors: 401 with Matomo's XML, or its HTML page. */
    a = classify_chart("err-viewer-site1", 800, 400);
    CHECK(a.status == MCP_MATOMO_DENIED && a.message != NULL
              && strcmp(a.message, "You can't access this resource as it "
                        "requires 'view' access for the website id = 1.")
                     == 0,
          "401 XML: access denied, Matomo's words unescaped (got '%s')",
          a.message ? a.message : "");
    a = classify_chart("err-no-token", 800, 400);
    CHECK(a.status == MCP_MATOMO_DENIED, "401 XML without token: denied");
    a = classify_chart("err-bad-token", 800, 400);
    CHECK(a.status == MCP_MATOMO_BAD_TOKEN, "401 HTML: unknown token");
    /* Matomo 4's errors come with 200; a token in a message is masked. */
    memset(&a, 0, sizeof(a));
    form = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<result>\n\t"
           "<error message=\"bad &quot;x&quot; s3cr3tt0k3n &amp; more\" />"
           "\n</result>";
    mcp_matomo_classify_chart(pool, 200, form, strlen(form), "s3cr3tt0k3n",
                              800, 400, &a);
    CHECK(a.status == MCP_MATOMO_ERROR && a.png == NULL
              && strstr(a.message, "bad \"x\"") != NULL
              && strstr(a.message, "& more") != NULL
              && strstr(a.message, "s3cr3tt0k3n") == NULL,
          "an XML error with 200: Matomo's error, entities undone, token "
          "masked");
    memset(&a, 0, sizeof(a));
    form = "<?xml version=\"1.0\" ?><result><error message=\"\xff\xfe "
           "bad\" /></result>";
    mcp_matomo_classify_chart(pool, 401, form, strlen(form), "t", 800, 400,
                              &a);
    CHECK(a.status == MCP_MATOMO_BAD_TOKEN && a.message != NULL
              && parse(apr_psprintf(pool, "\"%s\"", a.message))
                     == MCP_JSON_OK,
          "an XML error that is not UTF-8 is not Matomo's: no message of "
          "it reaches a model (found by fuzz/fuzz_answer)");
    memset(&a, 0, sizeof(a));
    mcp_matomo_classify_chart(pool, 200, "<html>login</html>", 18, "t", 800,
                              400, &a);
    CHECK(a.status == MCP_MATOMO_BAD_ANSWER, "HTML with 200: not a picture");
    memset(&a, 0, sizeof(a));
    mcp_matomo_classify_chart(pool, 500, "<html>Too many failed logins",
                              28, "t", 800, 400, &a);
    CHECK(a.status == MCP_MATOMO_LOCKED_OUT, "the lock-out page");

    /* The form: only readable reports, known graph types, sane sizes, and
     * never a format or credential. */
    params = mcp_matomo_params(pool);
    mcp_matomo_param_add(params, "idSite", "1");
    mcp_matomo_param_add(params, "apiModule", "VisitsSummary");
    mcp_matomo_param_add(params, "apiAction", "get");
    mcp_matomo_param_add(params, "graphType", "evolution");
    mcp_matomo_param_add(params, "width", "800");
    mcp_matomo_param_add(params, "height", "400");
    form = mcp_matomo_chart_form(pool, params);
    CHECK_STR(form, "module=API&method=ImageGraph.get&idSite=1&apiModule="
                    "VisitsSummary&apiAction=get&graphType=evolution&"
                    "width=800&height=400", "the chart form");
    APR_ARRAY_IDX(params, 3, mcp_param).value = "spiral";
    CHECK(mcp_matomo_chart_form(pool, params) == NULL,
          "an unknown graph type is never asked");
    APR_ARRAY_IDX(params, 3, mcp_param).value = "pie";
    APR_ARRAY_IDX(params, 4, mcp_param).value = "4096";
    CHECK(mcp_matomo_chart_form(pool, params) == NULL, "width over 2048");
    APR_ARRAY_IDX(params, 4, mcp_param).value = "99";
    CHECK(mcp_matomo_chart_form(pool, params) == NULL, "width under 100");
    APR_ARRAY_IDX(params, 4, mcp_param).value = "800";
    APR_ARRAY_IDX(params, 1, mcp_param).value = "UsersManager";
    APR_ARRAY_IDX(params, 2, mcp_param).value = "getUsers";
    CHECK(mcp_matomo_chart_form(pool, params) == NULL,
          "a report no tool may read is never drawn");
    APR_ARRAY_IDX(params, 1, mcp_param).value = "ImageGraph";
    APR_ARRAY_IDX(params, 2, mcp_param).value = "get";
    CHECK(mcp_matomo_chart_form(pool, params) == NULL,
          "no chart of the chart method itself");
    CHECK(mcp_matomo_form(pool, "ImageGraph.get", NULL) == NULL,
          "ImageGraph.get, read-only, is never a JSON call (its answer is a "
          "PNG): only mcp_matomo_chart asks it");
    APR_ARRAY_IDX(params, 1, mcp_param).value = "Referrers";
    APR_ARRAY_IDX(params, 2, mcp_param).value = "getReferrerType";
    mcp_matomo_param_add(params, "format", "JSON");
    CHECK(mcp_matomo_chart_form(pool, params) == NULL,
          "reserved names stay refused");
}

/* --- numbers in answers ---------------------------------------------- */

/* v as the reply spells it ("null" for NULL); v is released. */
static const char *spelt(json_object *v)
{
    const char *s = apr_pstrdup(pool, json_object_to_json_string_ext(
                                          v, JSON_C_TO_STRING_PLAIN));

    json_object_put(v);
    return s;
}

static const char *number_of(const char *json)
{
    json_object *v = NULL;

    mcp_json_parse(pool, json, strlen(json), 8, &v);
    return spelt(mcp_shape_number(v));
}

/* JSON has no inf or nan: "%.1f" of them used to reach the reply bare. */
static void test_shape_numbers(void)
{
    json_object *big = NULL;

    CHECK_STR(spelt(mcp_shape_rounded(INFINITY, 1)), "null", "inf is null");
    CHECK_STR(spelt(mcp_shape_rounded(-INFINITY, 3)), "null", "-inf is null");
    CHECK_STR(spelt(mcp_shape_rounded(NAN, 4)), "null", "nan is null");
    CHECK_STR(spelt(mcp_shape_rounded(1e308 * 100.0, 1)), "null",
              "a product past double range is null");
    CHECK_STR(spelt(mcp_shape_rounded(0.1 + 0.2, 4)), "0.3", "rounded");
    CHECK_STR(spelt(mcp_shape_rounded(-15.4, 1)), "-15.4", "kept");
    CHECK_STR(spelt(mcp_shape_rounded(2.0004, 3)), "2", "whole: integer");
    CHECK_STR(spelt(mcp_shape_rounded(-0.00001, 1)), "0", "no -0");
    CHECK_STR(spelt(mcp_shape_rounded(1.5189999999999997, 3)), "1.519",
              "milliseconds");
    CHECK(mcp_json_parse(pool, spelt(mcp_shape_rounded(1e300, 1)),
                         strlen(spelt(mcp_shape_rounded(1e300, 1))), 8, &big)
              == MCP_JSON_OK
              && json_object_get_double(big) == 1e300,
          "1e300 keeps its value (no 309 digits cut at a buffer's end)");
    /* mcp_json_parse refuses 1e400 now; the shaping stays safe anyway. */
    CHECK_STR(spelt(mcp_shape_number(mcp_json_pool_own(
                  pool, json_object_new_double(HUGE_VAL)))),
              "null", "an infinite double (json-c's reading of 1e400) is null");
    CHECK_STR(spelt(mcp_shape_number(mcp_json_pool_own(
                  pool, json_object_new_double(-HUGE_VAL)))),
              "null", "... and its negative");
    CHECK_STR(number_of("\"-2.5\""), "-2.5", "a decimal string");
    CHECK_STR(number_of("\"nan\""), "\"nan\"", "\"nan\" is no number");
    CHECK_STR(number_of("1.5e-3"), "1.5e-3", "a finite number as written");
}

/* A visit's last action in UTC from its timestamp.  Recorded on Matomo
 * 4.16.1 (site in America/New_York): serverDate is the UTC date, next to
 * the site's local time, so joining them made 23:41 on the 27th of a
 * visit that ended at 23:41 on the 26th in New York. */
static const char *last_action_of(const char *json)
{
    json_object *v = NULL;

    mcp_json_parse(pool, json, strlen(json), 8, &v);
    return mcp_shape_last_action(pool, v);
}

static void test_shape_last_action(void)
{
    const char *crossing = last_action_of(
        "{\"serverDate\":\"2026-11-27\",\"serverTimePretty\":\"23:41:14\","
        "\"lastActionTimestamp\":1795754474,"
        "\"lastActionDateTime\":\"2026-11-27 04:41:14\"}");

    CHECK_STR(crossing, "2026-11-27T04:41:14Z",
              "a visit past midnight UTC, before it in New York: its UTC time");
    CHECK_STR(last_action_of("{\"lastActionTimestamp\":0}"),
              "1970-01-01T00:00:00Z", "the epoch");
    CHECK_STR(last_action_of("{\"lastActionTimestamp\":253402300799}"),
              "9999-12-31T23:59:59Z", "the last four-digit second");
    CHECK_STR(last_action_of("{\"lastActionTimestamp\":253402300800,"
                             "\"lastActionDateTime\":\"x\"}"),
              "x", "beyond year 9999: Matomo's own text");
    CHECK_STR(last_action_of("{\"lastActionTimestamp\":-1,"
                             "\"lastActionDateTime\":\"y\"}"),
              "y", "a negative timestamp: Matomo's own text");
    CHECK(last_action_of("{\"lastActionTimestamp\":\"1795754474\"}") == NULL,
          "a timestamp as a string, no text: unknown");
    CHECK(last_action_of("{}") == NULL, "neither field: unknown");
    CHECK(mcp_shape_last_action(pool, NULL) == NULL, "no visit: unknown");
}

/* --- periods --------------------------------------------------------- */

static const char *span(const char *period, const char *date, int from_key)
{
    mcp_day a, b;
    int ok = from_key ? mcp_period_from_key(period, date, &a, &b)
                      : mcp_period_resolve(period, date, &a, &b);

    return ok ? apr_pstrcat(pool, mcp_day_format(pool, a), "..",
                            mcp_day_format(pool, b), NULL)
              : "none";
}

static const char *rel(const char *period, const char *date)
{
    mcp_day today = { 2026, 11, 26 }, a, b;

    return mcp_period_span(period, date, today, &a, &b)
               ? apr_pstrcat(pool, mcp_day_format(pool, a), "..",
                             mcp_day_format(pool, b), NULL)
               : "none";
}

/* The one set of period/date rules: each case's message starts with want
 * (NULL: accepted). */
static void test_period_rules(void)
{
    static const struct {
        mcp_count_use use;
        const char *period, *date, *want;
    } cases[] = {
        { MCP_COUNTS_PER_PERIOD, "day", "2026-11-26", NULL },
        { MCP_COUNTS_PER_PERIOD, "week", "today", NULL },
        { MCP_COUNTS_PER_PERIOD, "month", "last120", NULL },
        { MCP_COUNTS_PER_PERIOD, "month", "previous121",
          "date: with period month Matomo gives at most 120 months" },
        { MCP_COUNTS_PER_PERIOD, "year", "last11",
          "date: with period year Matomo gives at most 10 years" },
        { MCP_COUNTS_PER_PERIOD, "range", "last999", NULL },
        { MCP_COUNTS_PER_PERIOD, "range", "2026-11-01,2026-11-26", NULL },
        { MCP_COUNTS_PER_PERIOD, "range", "2026-11-26,2026-11-26", NULL },
        { MCP_COUNTS_PER_PERIOD, "range", "2026-11-26,2026-11-01",
          "date: the range must be two calendar days, the first not after" },
        { MCP_COUNTS_PER_PERIOD, "range", "2026-02-01,2026-02-29",
          "date: the range must be two calendar days" },
        { MCP_COUNTS_PER_PERIOD, "range", "2026-11-26",
          "date: period range takes YYYY-MM-DD,YYYY-MM-DD or lastN/" },
        { MCP_COUNTS_PER_PERIOD, "range", "yesterday",
          "date: period range takes" },
        { MCP_COUNTS_PER_PERIOD, "day", "2026-11-01,2026-11-26",
          "date: YYYY-MM-DD,YYYY-MM-DD needs period range" },
        { MCP_COUNTS_PER_PERIOD, "day", "2026-13-01",
          "date: not a calendar day (YYYY-MM-DD)" },
        { MCP_COUNTS_PER_PERIOD, "day", "2024-02-29", NULL },
        { MCP_COUNTS_PER_PERIOD, "day", "1990-12-31",
          "date: not a calendar day" },
        { MCP_COUNTS_PER_PERIOD, "day", "last0", "date: 'last0' is not a date" },
        { MCP_COUNTS_PER_PERIOD, "day", "last1000",
          "date: 'last1000' is not a date" },
        { MCP_COUNTS_PER_PERIOD, "day", "tomorrow",
          "date: 'tomorrow' is not a date" },
        { MCP_COUNTS_REFUSED, "day", "last7",
          "date: lastN/previousN with period day would give one entry per "
          "period; use period range" },
        { MCP_COUNTS_REFUSED, "range", "previous7", NULL },
        { MCP_COUNTS_REFUSED, "month", "yesterday", NULL },
        { MCP_COUNTS_LIVE_DAYS, "day", "last7", NULL },
        { MCP_COUNTS_LIVE_DAYS, "range", "last7", NULL },
        { MCP_COUNTS_LIVE_DAYS, "week", "last7",
          "date: Matomo's visitor log reads lastN as the last N days "
          "whatever the period" },
        { MCP_COUNTS_LIVE_DAYS, "range", "previous7",
          "date: Matomo's visitor log reads previousN with no end" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *err = mcp_period_check(pool, "date", cases[i].period,
                                           cases[i].date, cases[i].use);

        CHECK(cases[i].want == NULL
                  ? err == NULL
                  : err != NULL && strncmp(err, cases[i].want,
                                           strlen(cases[i].want)) == 0,
              "period %s, date %s (use %d): %s", cases[i].period,
              cases[i].date, (int)cases[i].use, err ? err : "accepted");
    }
    CHECK_STR(mcp_period_check(pool, "compare_dates[2]", "week",
                               "2026-11-01,2026-11-26",
                               MCP_COUNTS_REFUSED),
              "compare_dates[2]: YYYY-MM-DD,YYYY-MM-DD needs period range",
              "the message names the argument it is about");
}

static void test_periods(void)
{
    /* Today is Thursday 2026-11-26, as in the recorded Matomo. */
    CHECK_STR(rel("day", "today"), "2026-11-26..2026-11-26", "today");
    CHECK_STR(rel("day", "yesterday"), "2026-11-25..2026-11-25", "yesterday");
    CHECK_STR(rel("week", "today"), "2026-11-23..2026-11-29", "this week");
    CHECK_STR(rel("month", "yesterday"), "2026-11-01..2026-11-30",
              "the month of yesterday");
    CHECK_STR(rel("day", "last7"), "2026-11-20..2026-11-26",
              "last7 days end today");
    CHECK_STR(rel("day", "previous7"), "2026-11-19..2026-11-25",
              "previous7 days end yesterday");
    CHECK_STR(rel("week", "last4"), "2026-11-02..2026-11-29",
              "last4 weeks, whole weeks");
    CHECK_STR(rel("month", "last3"), "2026-09-01..2026-11-30", "last3 months");
    CHECK_STR(rel("month", "previous1"), "2026-10-01..2026-10-31",
              "last month");
    CHECK_STR(rel("year", "previous1"), "2025-01-01..2025-12-31",
              "last year");
    CHECK_STR(rel("month", "last13"), "2025-11-01..2026-11-30",
              "months across years");
    CHECK_STR(rel("range", "last7"), "2026-11-20..2026-11-26",
              "range of the last 7 days");
    CHECK_STR(rel("range", "today"), "none", "range needs two dates");
    CHECK_STR(rel("week", "2026-11-18"), "2026-11-16..2026-11-22",
              "absolute dates need no today");
    CHECK_STR(rel("day", "last0"), "none", "last0 is nothing");
    {
        /* A period in progress: its days before today over all its days
         * (the week of Thursday 2026-11-26: Monday to Wednesday, 3 of 7). */
        mcp_day mon = { 2026, 11, 23 }, sun = { 2026, 11, 29 };
        mcp_day thu = { 2026, 11, 26 }, next_mon = { 2026, 11, 30 };
        mcp_day none = { 0, 0, 0 };
        double share = -1;

        CHECK(mcp_period_partial(mon, sun, thu, &share)
                  && share == 3.0 / 7.0,
              "a week on its Thursday: partial, 3/7 over (got %f)", share);
        CHECK(mcp_period_partial(thu, thu, thu, &share) && share == 0,
              "today alone: partial, nothing certainly over");
        CHECK(mcp_period_partial(mon, sun, sun, &share)
                  && share == 6.0 / 7.0, "the week's last day: 6/7 over");
        CHECK(!mcp_period_partial(mon, sun, next_mon, &share),
              "a finished week is not partial");
        CHECK(!mcp_period_partial(thu, sun, mon, &share),
              "a period not begun is not partial");
        CHECK(!mcp_period_partial(mon, sun, none, &share),
              "today unknown: nothing said");
    }
    /* Matomo 5.1.2 cuts N to its cap (Range::getMaxN) without a word. */
    CHECK(mcp_period_max_n("day") == 1825 && mcp_period_max_n("week") == 520
              && mcp_period_max_n("month") == 120
              && mcp_period_max_n("year") == 10
              && mcp_period_max_n("range") == 0,
          "Matomo's caps: 1825 days, 520 weeks, 120 months, 10 years; "
          "none for range");
    CHECK_STR(rel("year", "last365"), "2017-01-01..2026-12-31",
              "last365 years: the 10 Matomo answers for");
    CHECK_STR(rel("year", "previous11"), "2016-01-01..2025-12-31",
              "previous11 years: 10");
    CHECK_STR(rel("month", "last121"), "2016-12-01..2026-11-30",
              "last121 months: 120");
    CHECK_STR(rel("week", "last520"), "2016-12-12..2026-11-29",
              "last520 weeks: all of them");
    CHECK_STR(rel("range", "last999"), "2024-03-03..2026-11-26",
              "range: 999 days, no cap");
    CHECK(mcp_period_count("last7") == 7 && mcp_period_count("previous12")
              == 12 && mcp_period_count("last0") == 0
              && mcp_period_count("today") == 0,
          "mcp_period_count");
    {
        /* Found by fuzz/fuzz_jsonrpc: with today unknown (no answer from
         * Matomo), a relative month indexed days_in_month with month 0
         * or less. */
        mcp_day unknown = { 0, 0, 0 }, a, b;

        CHECK(!mcp_period_span("month", "previous26", unknown, &a, &b)
                  && !mcp_period_span("month", "today", unknown, &a, &b)
                  && !mcp_period_span("day", "last7", unknown, &a, &b)
                  && mcp_period_span("month", "2026-11-26", unknown, &a, &b),
              "today unknown: relative dates resolve to nothing, absolute "
              "ones still do");
    }
    CHECK_STR(span("day", "2026-11-25", 0), "2026-11-25..2026-11-25", "day");
    CHECK_STR(span("week", "2026-11-25", 0), "2026-11-23..2026-11-29",
              "a Wednesday's week runs Monday to Sunday");
    CHECK_STR(span("week", "2026-11-23", 0), "2026-11-23..2026-11-29",
              "a Monday starts its week");
    CHECK_STR(span("week", "2026-11-29", 0), "2026-11-23..2026-11-29",
              "a Sunday ends its week");
    CHECK_STR(span("week", "2027-01-01", 0), "2026-12-28..2027-01-03",
              "a week across the new year");
    CHECK_STR(span("month", "2024-02-10", 0), "2024-02-01..2024-02-29",
              "February of a leap year");
    CHECK_STR(span("month", "2100-02-10", 0), "2100-02-01..2100-02-28",
              "2100 is no leap year");
    CHECK_STR(span("year", "2026-11-26", 0), "2026-01-01..2026-12-31",
              "year");
    CHECK_STR(span("range", "2026-11-12,2026-11-26", 0),
              "2026-11-12..2026-11-26", "range");
    CHECK_STR(span("range", "2026-11-26,2026-11-12", 0), "none",
              "a range that ends before it starts");
    CHECK_STR(span("day", "2026-02-30", 0), "none", "no February 30");
    CHECK_STR(span("day", "today", 0), "none",
              "relative dates are not resolved from this machine's clock");
    CHECK_STR(span("month", "2026-11", 1), "2026-11-01..2026-11-30",
              "a month key");
    CHECK_STR(span("year", "2026", 1), "2026-01-01..2026-12-31", "a year key");
    CHECK_STR(span("week", "2026-11-16,2026-11-22", 1),
              "2026-11-16..2026-11-22", "a week key");
    CHECK_STR(span("day", "2026-11-20", 1), "2026-11-20..2026-11-20",
              "a day key");
}

/* --- the module's catalog ------------------------------------------ */

static const char *check_args(const mcp_catalog *c, const char *tool,
                              const char *args)
{
    return mcp_schema_check(pool, mcp_catalog_input_schema(
                                      c, mcp_catalog_find(c, tool)),
                            parsed(args));
}

/* What the model reads about dates (the shared date piece). */
static const char *date_description(const mcp_catalog *c)
{
    json_object *props = json_object_object_get(
        mcp_catalog_input_schema(c, mcp_catalog_find(
                                        c, "matomo_traffic_summary")),
        "properties");
    const char *text = mcp_json_get_string(json_object_object_get(props,
                                                                  "date"),
                                           "description");

    return text ? text : "";
}

/* A tool that calls VisitsSummary.get alone, then with Goals.get in one
 * bulk request; its definition lists only the first. */
static void run_calling(mcp_request *req, json_object *args,
                        mcp_tool_result *res)
{
    mcp_matomo_request calls[2];
    mcp_matomo_answer one, two[2];

    (void)args;
    calls[0].method = "VisitsSummary.get";
    calls[0].params = NULL;
    calls[1].method = "Goals.get";
    calls[1].params = NULL;
    mcp_server_call_matomo(req, "VisitsSummary.get", NULL, &one);
    mcp_server_call_matomo_bulk(req, calls, 2, two);
    res->structured = mcp_json_pool_own(req->pool, json_object_new_object());
    json_object_object_add(res->structured, "one", json_object_new_string(
                                                       one.message
                                                       ? one.message : ""));
    json_object_object_add(res->structured, "bulk", json_object_new_string(
                                                        two[1].message
                                                        ? two[1].message : ""));
    json_object_object_add(res->structured, "refused",
                           json_object_new_boolean(
                               two[0].status == MCP_MATOMO_REFUSED
                               && two[1].status == MCP_MATOMO_REFUSED));
}

static void test_tool_methods(void)
{
    static const mcp_tool_file files[] = {
        { "t/t6.json", DEF("t6", OBJ, OBJ) }
    };
    static const mcp_tool_defs defs = { &shared_file, files, 1 };
    static const mcp_tool tools[] = { { "t6", run_calling } };
    const mcp_catalog *saved = five_catalog;
    mcp_catalog *c = NULL;
    json_object *r, *sc;
    int status, i, j, listed = 0, allowed = 0;

    CHECK(mcp_catalog_build(pool, &defs, tools, 1, 50, &c) == NULL,
          "a catalog of a tool that calls Matomo");
    five_catalog = c;
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
               "\"params\":{\"name\":\"t6\",\"arguments\":{}}}", &status);
    five_catalog = saved;
    sc = path(r, "result", "structuredContent");
    CHECK(strstr(json_object_get_string(json_object_object_get(sc, "one")),
                 "matomoMethods") == NULL,
          "a method the definition lists goes on (%s)",
          json_object_get_string(json_object_object_get(sc, "one")));
    CHECK(json_object_get_boolean(json_object_object_get(sc, "refused"))
              && strstr(json_object_get_string(json_object_object_get(
                            sc, "bulk")),
                        "Goals.get is not among the Matomo methods") != NULL,
          "a bulk request holding a method it does not list is refused as a "
          "whole, never sent (%s)",
          json_object_get_string(json_object_object_get(sc, "bulk")));

    /* The module's tools: every method listed is a read-only one. */
    CHECK(mcp_catalog_build(pool, &mcp_tool_definitions, mcp_tools,
                            mcp_tools_count, 50, &c) == NULL,
          "the module's catalog builds");
    for (i = 0; c != NULL && i < mcp_tools_count; i++) {
        const apr_array_header_t *m = mcp_catalog_methods(c, &mcp_tools[i]);

        for (j = 0; m != NULL && j < m->nelts; j++) {
            const char *name = APR_ARRAY_IDX(m, j, const char *);

            listed++;
            allowed += mcp_matomo_method_allowed(name);
            if (!mcp_matomo_method_allowed(name)) {
                printf("# %s lists %s, not read-only\n", mcp_tools[i].name,
                       name);
            }
        }
    }
    /* A view a tool declares (_meta.ui.resourceUri) is one the module
     * serves. */
    for (i = 0; i < mcp_tool_definitions.count; i++) {
        json_object *t = NULL, *ui, *read;
        const char *uri;

        mcp_tool_definition(pool, mcp_tool_definitions.shared,
                            &mcp_tool_definitions.files[i], &t, NULL);
        ui = mcp_json_get_typed(mcp_json_get_typed(t, "_meta",
                                                   json_type_object),
                                "ui", json_type_object);
        uri = mcp_json_get_string(ui, "resourceUri");
        read = uri ? mcp_apps_read(uri) : NULL;
        if (uri != NULL) {
            CHECK(read != NULL, "%s declares %s, which resources/read serves",
                  mcp_tool_definitions.files[i].path, uri);
        }
        json_object_put(read);
    }
    CHECK(listed >= mcp_tools_count && allowed == listed,
          "every Matomo method a tool lists is on the read-only allow-list "
          "(%d of %d)", allowed, listed);
}

/* The default set: every tool but matomo_api_read; the pages built for
 * it serve it, other sets get their own. */
static void test_tool_set_default(void)
{
    mcp_tool_set def = mcp_tool_set_default(), raw = 0;
    mcp_catalog *c = NULL;
    const char *text;
    int i, api = -1;

    for (i = 0; i < mcp_tools_count; i++) {
        if (!strcmp(mcp_tools[i].name, "matomo_api_read")) {
            api = i;
        }
    }
    CHECK(api >= 0 && !mcp_tool_set_has(def, api),
          "matomo_api_read is not in the default set");
    for (i = 0; i < mcp_tools_count; i++) {
        CHECK(i == api || mcp_tool_set_has(def, i),
              "%s is in the default set", mcp_tools[i].name);
    }
    CHECK(mcp_tool_set_add("raw", &raw) && raw == (mcp_tool_set)1 << api,
          "the group raw is matomo_api_read");
    CHECK(mcp_catalog_build(pool, &mcp_tool_definitions, mcp_tools,
                            mcp_tools_count, 5, &c) == NULL,
          "the module's catalog, five tools a page");
    if (c == NULL) {
        return;
    }
    mcp_catalog_paginate(pool, c, def);
    CHECK(c->paged_set == def
              && c->npages == (mcp_tools_count - 1 + 4) / 5,
          "paginated for the default set: %d pages", c->npages);
    text = mcp_catalog_page_of(pool, c, def, "page:2");
    CHECK(text != NULL && text == c->pages[2]
              && strstr(text, "matomo_api_read") == NULL
              && strstr(text, "nextCursor") == NULL,
          "the default set's last page is the one built, without "
          "matomo_api_read");
    text = mcp_catalog_page_of(pool, c, def | raw, "page:2");
    CHECK(text != NULL && strstr(text, "\"name\":\"matomo_api_read\"")
              != NULL,
          "a set with raw gets a page of its own holding matomo_api_read");
}

static void test_module_catalog(void)
{
    mcp_catalog *c = NULL;
    static const char *good_dates[] = {
        "today", "yesterday", "2026-11-25", "last7", "previous30",
        "2026-11-01,2026-11-25"
    };
    static const char *bad_dates[] = {
        "tomorrow", "2026-11-25x", "last", "last1000", "2026/11/25",
        "2026-11-01;2026-11-25", "yesterday&token_auth=x"
    };
    static const char *good_segments[] = {
        "deviceType==smartphone", "countryCode==de;visitorType==new",
        "pageUrl=@%2Fproducts,referrerType==search", "visitCount>=3",
        "pageUrl=^https%3A%2F%2F"
    };
    static const char *bad_segments[] = {
        "deviceType", "==x", "deviceType~~x", "a==b;", "a==b&method=x=y;"
    };
    size_t i;

    mcp_catalog_build(pool, &mcp_tool_definitions, mcp_tools,
                      mcp_tools_count, 50, &c);
    for (i = 0; i < sizeof(good_dates) / sizeof(good_dates[0]); i++) {
        CHECK(check_args(c, "matomo_traffic_summary", apr_psprintf(pool,
              "{\"idSite\":1,\"date\":\"%s\"}", good_dates[i])) == NULL,
              "date %s accepted", good_dates[i]);
    }
    for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        const char *err = check_args(c, "matomo_traffic_summary", apr_psprintf(
            pool, "{\"idSite\":1,\"date\":\"%s\"}", bad_dates[i]));

        CHECK(err != NULL && strncmp(err, "date: ", 6) == 0,
              "date %s refused naming date", bad_dates[i]);
    }
    for (i = 0; i < sizeof(good_segments) / sizeof(good_segments[0]); i++) {
        CHECK(check_args(c, "matomo_traffic_summary", apr_psprintf(pool,
              "{\"idSite\":1,\"segment\":\"%s\"}", good_segments[i]))
                  == NULL,
              "segment %s accepted", good_segments[i]);
    }
    for (i = 0; i < sizeof(bad_segments) / sizeof(bad_segments[0]); i++) {
        const char *err = check_args(c, "matomo_traffic_summary", apr_psprintf(
            pool, "{\"idSite\":1,\"segment\":\"%s\"}", bad_segments[i]));

        CHECK(err != NULL && strncmp(err, "segment: ", 9) == 0,
              "segment %s refused naming segment", bad_segments[i]);
    }
    {
        /* Matomo reads last0 as last1: N from 1 in every dated tool. */
        static const char *const dated[][2] = {
            { "matomo_traffic_summary", "\"idSite\":1," },
            { "matomo_sites_overview", "" },
            { "matomo_get_report",
              "\"idSite\":1,\"report\":\"Actions_getPageUrls\"," },
            { "matomo_annotations", "\"idSite\":1," },
            { "matomo_visitor_log", "\"idSite\":1," },
            { "matomo_page_performance", "\"idSite\":1," },
        };
        static const char *const zeros[] = { "last0", "previous0", "last00",
                                             "last07" };
        size_t t, z;

        for (t = 0; t < sizeof(dated) / sizeof(dated[0]); t++) {
            for (z = 0; z < sizeof(zeros) / sizeof(zeros[0]); z++) {
                const char *err = check_args(c, dated[t][0], apr_psprintf(
                    pool, "{%s\"period\":\"range\",\"date\":\"%s\"}",
                    dated[t][1], zeros[z]));

                CHECK(err != NULL && strncmp(err, "date: ", 6) == 0,
                      "%s: date %s refused", dated[t][0], zeros[z]);
            }
            CHECK(check_args(c, dated[t][0], apr_psprintf(
                      pool, "{%s\"period\":\"range\",\"date\":\"last1\"}",
                      dated[t][1])) == NULL,
                  "%s: date last1 accepted", dated[t][0]);
        }
        CHECK(check_args(c, "matomo_visitor_log", "{\"idSite\":1,"
                         "\"period\":\"range\",\"date\":\"previous7\"}")
                  != NULL,
              "visitor_log: previousN refused (Matomo's Live reads it with "
              "no end)");
        CHECK(strstr(date_description(c), apr_psprintf(
                  pool, "%d days, %d weeks, %d months or %d years",
                  mcp_period_max_n("day"), mcp_period_max_n("week"),
                  mcp_period_max_n("month"), mcp_period_max_n("year")))
                  != NULL,
              "the date description states mcp_period_max_n's caps");
    }
    CHECK_STR(check_args(c, "matomo_list_sites", "[1]"),
              "arguments: must be an object", "arguments as an array");
    CHECK_STR(check_args(c, "matomo_list_sites", "\"x\""),
              "arguments: must be an object", "arguments as a string");
    CHECK(check_args(c, "matomo_traffic_summary", "{}") != NULL
              && check_args(c, "matomo_traffic_summary", "{\"idSite\":0}")
                     != NULL
              && check_args(c, "matomo_traffic_summary",
                            "{\"idSite\":1,\"period\":\"fortnight\"}")
                     != NULL,
          "idSite required and positive; period from the list");
    CHECK(check_args(c, "matomo_list_sites", "{\"limit\":101}") != NULL
              && check_args(c, "matomo_list_sites", "{\"token_auth\":\"x\"}")
                     != NULL
              && check_args(c, "matomo_list_sites", "{\"search\":\"shop\"}")
                     == NULL,
          "list_sites: limit capped, no stray arguments");
    {
        /* Found by fuzz/fuzz_schema: a quoted argument name or value cut
         * inside a UTF-8 character made the tool result invalid JSON. */
        char key[200] = "x", val[200] = "x";
        const char *err;
        int k;

        for (k = 0; k < 45; k++) {
            strcat(key, "\xc3\xa9");        /* x, then 90 bytes of e-acute */
            strcat(val, "\xe2\x82\xac");    /* x, then 135 of euro signs */
        }
        err = check_args(c, "matomo_list_sites",
                         apr_psprintf(pool, "{\"%s\":1}", key));
        CHECK(err != NULL && parse(apr_psprintf(pool, "\"%s\"", err))
                                 == MCP_JSON_OK,
              "an unknown argument's long name is cut between characters");
        err = check_args(c, "matomo_traffic_summary", apr_psprintf(
            pool, "{\"idSite\":1,\"segment\":\"%s\"}", val));
        CHECK(err != NULL && strncmp(err, "segment: '", 10) == 0
                  && parse(apr_psprintf(pool, "\"%s\"", err))
                         == MCP_JSON_OK,
              "a bad value is quoted cut between characters");
    }
}

/* --- prompts, completions, logging (no backend needed) -------------- */

static void test_prompts(void)
{
    json_object *r;
    int status;

    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}",
               &status);
    CHECK(json_object_array_length(path(r, "result", "prompts")) == 4,
          "four prompts");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\","
               "\"params\":{\"name\":\"matomo_technical_checks\","
               "\"arguments\":{\"idSite\":\"7\"}}}", &status);
    CHECK(strstr(json_object_get_string(path(json_object_array_get_idx(
              path(r, "result", "messages"), 0), "content", "text")),
              "site 7 on date=today") != NULL,
          "arguments and defaults are filled in");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\","
               "\"params\":{\"name\":\"matomo_technical_checks\"}}", &status);
    CHECK(error_code(r) == -32602, "missing required idSite: -32602");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\","
               "\"params\":{\"name\":\"matomo_technical_checks\","
               "\"arguments\":{\"idSite\":\"1;x\"}}}", &status);
    CHECK(error_code(r) == -32602, "idSite not a number: -32602");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\","
               "\"params\":{\"name\":\"nope\"}}", &status);
    CHECK(error_code(r) == -32602, "unknown prompt: -32602");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"completion/complete\",\"params\":{\"ref\":{\"type\":"
               "\"ref/prompt\",\"name\":\"matomo_traffic_exploration\"},"
               "\"argument\":{\"name\":\"period\",\"value\":\"m\"}}}",
               &status);
    CHECK_STR(json_object_get_string(json_object_array_get_idx(
                  path(path(r, "result", "completion"), "values", NULL), 0)),
              "month", "period m completes to month");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"completion/complete\",\"params\":{\"ref\":{\"type\":"
               "\"ref/prompt\",\"name\":\"matomo_traffic_exploration\"},"
               "\"argument\":{\"name\":\"idSite\",\"value\":\"\"}}}",
               &status);
    CHECK(json_object_array_length(path(path(r, "result", "completion"),
                                        "values", NULL)) == 0,
          "no backend, no sites to complete (and no crash)");
    r = handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"logging/setLevel\",\"params\":{\"level\":\"loud\"}}",
               &status);
    CHECK(error_code(r) == -32602, "unknown log level: -32602");
}

static void test_guard(void)
{
    mcp_guard *g = mcp_guard_create(pool), *g2 = mcp_guard_create(pool),
              *g3 = mcp_guard_create(pool);
    mcp_guard_budget b = { 2, 3, apr_time_from_sec(60) },
                     one = { 1, 1, apr_time_from_sec(60) },
                     wide = { 100, 100, apr_time_from_sec(60) };
    apr_interval_time_t wait;
    apr_time_t now = apr_time_now();
    int locked, i;

    CHECK(g != NULL && g2 != NULL && g3 != NULL, "guards are made");
    for (i = 0; i < 2; i++) {
        CHECK(mcp_guard_admit(g, &b, "10.0.0.1", 0, &locked) == 0,
              "a client's check %d is let through", i + 1);
        mcp_guard_settle(g, &b, "10.0.0.1", 1, 1);
    }
    wait = mcp_guard_admit(g, &b, "10.0.0.1", 0, &locked);
    CHECK(wait > apr_time_from_sec(25) && wait <= apr_time_from_sec(31)
              && !locked,
          "two refusals spend its budget: one unit back in 30 s");
    CHECK(mcp_guard_admit(g, &b, "10.0.0.2", 0, &locked) == 0,
          "another client still gets in");
    mcp_guard_settle(g, &b, "10.0.0.2", 1, 1);
    CHECK(mcp_guard_admit(g, &b, "10.0.0.3", 0, &locked) > 0 && !locked,
          "three refusals spend the total (3) for everyone");

    CHECK(mcp_guard_admit(g2, &one, "10.0.0.1", 0, &locked) == 0,
          "a check in flight holds the only unit");
    wait = mcp_guard_admit(g2, &one, "10.0.0.2", 0, &locked);
    CHECK(wait > 0 && wait <= apr_time_from_sec(1) && !locked,
          "a check behind it, with no time to wait, is told 'soon'");
    mcp_guard_settle(g2, &one, "10.0.0.1", 1, 0);
    CHECK(mcp_guard_admit(g2, &one, "10.0.0.2", 0, &locked) == 0,
          "a check that was not refused gives its unit back");
    mcp_guard_settle(g2, &one, "10.0.0.2", 1, 0);

    CHECK(mcp_guard_locked_out(g3, "10.0.0.4", 1, now) == 0
              && mcp_guard_admit(g3, &wide, "10.0.0.4", 0, &locked) > 0
              && locked,
          "a lock-out met with the client's address forwarded stops that "
          "client");
    CHECK(mcp_guard_locked_out(g3, "10.0.0.4", 1, now) == 0,
          "... met again by the same client: still its own");
    CHECK(mcp_guard_admit(g3, &wide, "10.0.0.5", 0, &locked) == 0,
          "... and nobody else");
    mcp_guard_settle(g3, &wide, "10.0.0.5", 1, 0);
    CHECK(mcp_guard_locked_out(g3, "10.0.0.6", 1, now) == 1
              && mcp_guard_locked_out(g3, "10.0.0.6", 0,
                                      now + apr_time_from_sec(1)) == 0,
          "met by a second client soon after: everyone's, one incident "
          "however often it is met");
    CHECK(mcp_guard_admit(g3, &wide, "10.0.0.7", 0, &locked) > 0 && locked,
          "a lock-out of everyone stops every unverified token");
    CHECK(mcp_guard_locked_out(g2, "10.0.0.8", 0, now) == 1,
          "without X-Forwarded-For a lock-out is everyone's at once");
}

static void test_throttle(void)
{
    mcp_throttle *t = mcp_throttle_create(pool);
    mcp_throttle_limits lim = { 1, 0, 2, 1000 };    /* 1 ms pauses */
    apr_interval_time_t retry = 0;

    CHECK(t != NULL && mcp_throttle_enter(t, &lim, &retry) == MCP_THROTTLE_GO,
          "a first call goes");
    CHECK(mcp_throttle_enter(t, &lim, &retry) == MCP_THROTTLE_BUSY
              && mcp_throttle_in_flight(t) == 1,
          "past the cap, with no time to wait: busy");
    mcp_throttle_done(t, &lim, MCP_THROTTLE_FAILED);
    CHECK(mcp_throttle_enter(t, &lim, &retry) == MCP_THROTTLE_GO,
          "one failure leaves the breaker closed");
    mcp_throttle_done(t, &lim, MCP_THROTTLE_FAILED);
    lim.max_open = apr_time_from_sec(60);
    CHECK(mcp_throttle_enter(t, &lim, &retry) == MCP_THROTTLE_OPEN
              && retry > 0,
          "two failures in a row open it");
    apr_sleep(2000);
    CHECK(mcp_throttle_enter(t, &lim, &retry) == MCP_THROTTLE_GO,
          "after its pause one probe goes");
    lim.max_in_flight = 2;
    CHECK(mcp_throttle_enter(t, &lim, &retry) == MCP_THROTTLE_OPEN,
          "... and only one");
    mcp_throttle_done(t, &lim, MCP_THROTTLE_ANSWERED);
    CHECK(mcp_throttle_enter(t, &lim, &retry) == MCP_THROTTLE_GO,
          "a probe answered closes it");
    mcp_throttle_done(t, &lim, MCP_THROTTLE_NEITHER);
}


/* --- the shared cache (src/mcp_cache.h) over an in-memory store -------- */

typedef struct {
    apr_hash_t *entries;
    int failing;            /* every operation fails */
    int incidents, recoveries;
} memory_store;

static apr_status_t mem_get(void *baton, const unsigned char *id,
                            unsigned int idlen, unsigned char *buf,
                            unsigned int *len, apr_pool_t *p)
{
    memory_store *m = baton;
    const char *v;

    (void)p;
    if (m->failing) {
        return APR_ECONNREFUSED;
    }
    v = apr_hash_get(m->entries, id, idlen);
    if (v == NULL) {
        return APR_NOTFOUND;
    }
    if (*(const unsigned int *)v > *len) {
        return APR_ENOSPC;
    }
    *len = *(const unsigned int *)v;
    memcpy(buf, v + sizeof(unsigned int), *len);
    return APR_SUCCESS;
}

static apr_status_t mem_put(void *baton, const unsigned char *id,
                            unsigned int idlen, apr_time_t expiry,
                            unsigned char *value, unsigned int len,
                            apr_pool_t *p)
{
    memory_store *m = baton;
    char *v;

    (void)p;
    (void)expiry;
    if (m->failing) {
        return APR_ECONNREFUSED;
    }
    v = apr_palloc(pool, sizeof(unsigned int) + len);
    memcpy(v, &len, sizeof(len));
    memcpy(v + sizeof(len), value, len);
    apr_hash_set(m->entries, apr_pmemdup(pool, id, idlen), idlen, v);
    return APR_SUCCESS;
}

static void mem_incident(void *baton, int down, const char *what,
                         apr_status_t rv)
{
    memory_store *m = baton;

    (void)what;
    (void)rv;
    if (down) {
        m->incidents++;
    }
    else {
        m->recoveries++;
    }
}

/* A parameter list from "name", "value", ..., NULL. */
static apr_array_header_t *params_of(const char *first, ...)
{
    apr_array_header_t *params = mcp_matomo_params(pool);
    const char *name = first;
    va_list ap;

    va_start(ap, first);
    while (name != NULL) {
        mcp_matomo_param_add(params, name, va_arg(ap, const char *));
        name = va_arg(ap, const char *);
    }
    va_end(ap);
    return params;
}

static void test_cache(void)
{
    memory_store m = { apr_hash_make(pool), 0, 0, 0 };
    mcp_cache_store store = { &m, mem_get, mem_put, mem_incident };
    mcp_cache_ttl ttl = { 3600, 60, 300, 60 };
    apr_time_t now;
    unsigned char tok[MCP_CACHE_KEY_SIZE], tok2[MCP_CACHE_KEY_SIZE],
        k1[MCP_CACHE_KEY_SIZE], k2[MCP_CACHE_KEY_SIZE];
    mcp_cache *c = mcp_cache_create(pool, &store,
                                    (const unsigned char *)"salt-salt-salt-1",
                                    16, 2048);
    mcp_cache *other = mcp_cache_create(pool, &store,
                                        (const unsigned char *)"another-salt-22",
                                        15, 2048);
    mcp_matomo_answer a, got;
    mcp_cache_stats st;
    mcp_cache_flight *f1, *f2;
    apr_time_t at = 0;
    int leader1 = 0, leader2 = 1, i;

    /* 2026-12-04 12:00 UTC */
    apr_time_ansi_put(&now, 1796385600);
    CHECK(mcp_cache_ttl_for(&ttl, "VisitsSummary.get", params_of(
              "idSite", "1", "period", "week", "date", "2026-11-25", NULL),
              now) == 3600,
          "a week that ended days ago is past: the long TTL");
    CHECK(mcp_cache_ttl_for(&ttl, "VisitsSummary.get", params_of(
              "idSite", "1", "period", "day", "date", "2026-12-02", NULL),
              now) == 3600,
          "the day before yesterday (UTC) is over everywhere: past");
    CHECK(mcp_cache_ttl_for(&ttl, "VisitsSummary.get", params_of(
              "period", "day", "date", "2026-12-03", NULL), now) == 60,
          "yesterday in UTC may still be today at UTC-12: recent");
    CHECK(mcp_cache_ttl_for(&ttl, "VisitsSummary.get", params_of(
              "period", "month", "date", "2026-11-01", NULL), now) == 3600
              && mcp_cache_ttl_for(&ttl, "VisitsSummary.get", params_of(
                     "period", "month", "date", "2026-12-01", NULL), now)
                     == 60,
          "last month is past, this month is not");
    CHECK(mcp_cache_ttl_for(&ttl, "VisitsSummary.get", params_of(
              "period", "range", "date", "2026-11-01,2026-12-04", NULL),
              now) == 60,
          "a range that runs to today is recent");
    CHECK(mcp_cache_ttl_for(&ttl, "VisitsSummary.get", params_of(
              "period", "day", "date", "yesterday", NULL), now) == 60
              && mcp_cache_ttl_for(&ttl, "VisitsSummary.get", params_of(
                     "period", "day", "date", "last7", NULL), now) == 60,
          "relative dates move: recent");
    CHECK(mcp_cache_ttl_for(&ttl, "Live.getLastVisitsDetails", params_of(
              "period", "day", "date", "2026-11-01", NULL), now) == 0,
          "the Live API is never cached, whatever the date");
    CHECK(mcp_cache_ttl_for(&ttl, "API.getReportMetadata", params_of(
              "idSite", "1", "period", "day", "date", "yesterday", NULL),
              now) == 300,
          "the report catalog is a per-site fact");

    mcp_cache_token_key(c, "scope", "token-a", tok);
    mcp_cache_token_key(c, "scope", "token-b", tok2);
    CHECK(memcmp(tok, tok2, sizeof(tok)) != 0, "tokens get their own keys");
    mcp_cache_token_key(other, "scope", "token-a", tok2);
    CHECK(memcmp(tok, tok2, sizeof(tok)) != 0,
          "another salt, another key for the same token");
    mcp_cache_answer_key(pool, "scope", tok, "VisitsSummary.get", params_of(
        "idSite", "1", "date", "2026-11-25", "period", "week", NULL), k1);
    mcp_cache_answer_key(pool, "scope", tok, "VisitsSummary.get", params_of(
        "period", "week", "idSite", "1", "date", "2026-11-25", NULL), k2);
    CHECK(memcmp(k1, k2, sizeof(k1)) == 0,
          "parameters in another order: the same request, the same key");
    mcp_cache_answer_key(pool, "scope", tok, "VisitsSummary.get", params_of(
        "period", "week", "idSite", "1", "date", "2026-11-2", "5", "", NULL),
        k2);
    CHECK(memcmp(k1, k2, sizeof(k1)) != 0,
          "fields cannot run into each other");
    mcp_cache_answer_key(pool, "scope", tok2, "VisitsSummary.get", params_of(
        "idSite", "1", "date", "2026-11-25", "period", "week", NULL), k2);
    CHECK(memcmp(k1, k2, sizeof(k1)) != 0, "another caller, another key");

    memset(&a, 0, sizeof(a));
    a.status = MCP_MATOMO_OK;
    mcp_json_parse(pool, "{\"nb_visits\":42,\"x\":[1.5,\"\\u00e9\"]}", 35,
                   16, &a.json);
    CHECK(!mcp_cache_answer_get(c, pool, k1, &got, &at),
          "nothing cached yet: a miss");
    mcp_cache_answer_put(c, pool, k1, &a, 3600);
    CHECK(mcp_cache_answer_get(c, pool, k1, &got, &at)
              && got.status == MCP_MATOMO_OK
              && !strcmp(json_object_to_json_string(got.json),
                         json_object_to_json_string(a.json))
              && at > 0 && at <= apr_time_now(),
          "an answer comes back as it was stored, with when it was");
    a.status = MCP_MATOMO_ERROR;
    a.message = "Mysql error";
    mcp_cache_answer_put(c, pool, k2, &a, 3600);
    CHECK(!mcp_cache_answer_get(c, pool, k2, &got, &at),
          "an error is never stored");
    a.status = MCP_MATOMO_OK;
    mcp_json_parse(pool, "[\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]", 36, 4,
                   &a.json);
    for (i = 0; i < 12; i++) {
        json_object_array_add(a.json, json_object_new_string(
            "0123456789012345678901234567890123456789012345678901234567890"
            "123456789012345678901234567890123456789012345678901234567890"
            "123456789012345678901234567890123456789012345678901234567890"
            "1234567890123456789012345678901234567890123456789012345678"));
    }
    mcp_cache_answer_put(c, pool, k2, &a, 3600);
    i = mcp_cache_answer_get(c, pool, k2, &got, &at);
    mcp_cache_stats_get(c, &st);
    CHECK(!i && st.too_large == 1,
          "an answer over the size cap is not stored, and counted");
    CHECK(st.hits == 1 && st.misses == 3 && st.stores == 1,
          "hits, misses and stores counted (1, 3, 1: got %u, %u, %u)",
          st.hits, st.misses, st.stores);

    CHECK(mcp_cache_verdict_get(c, pool, tok, &at) == MCP_VERDICT_UNKNOWN
              && !mcp_cache_known_good(c, pool, tok),
          "no verdict yet");
    mcp_cache_verdict_put(c, pool, tok, MCP_VERDICT_VALID, 60);
    CHECK(mcp_cache_verdict_get(c, pool, tok, &at) == MCP_VERDICT_VALID
              && mcp_cache_known_good(c, pool, tok),
          "a token accepted: valid, and known good");
    mcp_cache_verdict_put(c, pool, tok, MCP_VERDICT_INVALID, 60);
    CHECK(mcp_cache_verdict_get(c, pool, tok, &at) == MCP_VERDICT_INVALID
              && !mcp_cache_known_good(c, pool, tok),
          "then refused: invalid, and known good no more");

    m.failing = 1;
    for (i = 0; i < 5; i++) {
        mcp_cache_answer_get(c, pool, k1, &got, &at);
        mcp_cache_answer_put(c, pool, k1, &got, 3600);
    }
    CHECK(m.incidents == 1 && m.recoveries == 0,
          "a store that fails ten times is one incident (got %d)",
          m.incidents);
    m.failing = 0;
    CHECK(mcp_cache_answer_get(c, pool, k1, &got, &at) && m.recoveries == 1,
          "the first success ends it, once");

    f1 = mcp_cache_flight_join(c, k1, &leader1);
    f2 = mcp_cache_flight_join(c, k1, &leader2);
    CHECK(f1 != NULL && f1 == f2 && leader1 && !leader2,
          "the first miss leads the flight, the second rides it");
    a.status = MCP_MATOMO_OK;
    mcp_cache_flight_land(c, f1, &a, 1);
    CHECK(mcp_cache_flight_wait(c, f2, pool, apr_time_from_sec(1), &got, 1)
              && got.status == MCP_MATOMO_OK
              && !strcmp(json_object_to_json_string(got.json),
                         json_object_to_json_string(a.json)),
          "the rider gets the leader's answer, its own copy");
    f1 = mcp_cache_flight_join(c, k1, &leader1);
    CHECK(leader1, "a landed flight is gone: the next miss leads anew");
    f2 = mcp_cache_flight_join(c, k1, &leader2);
    a.status = MCP_MATOMO_CANCELLED;
    mcp_cache_flight_land(c, f1, &a, 1);
    CHECK(!mcp_cache_flight_wait(c, f2, pool, apr_time_from_sec(1), &got, 1),
          "a leader whose client left leaves the riders to call themselves");
}

/* --- the status counters (src/mcp_stats.h) ------------------------- */

static int nobody_alive(apr_uint32_t pid)
{
    (void)pid;
    return 0;
}

static int everybody_alive(apr_uint32_t pid)
{
    (void)pid;
    return 1;
}

static void test_stats_latency(void)
{
    static const apr_interval_time_t samples[] = {
        1, 255, 256, 319, 320, 1000, 1500, 65535, 1000000, 59000000
    };
    apr_uint64_t hist[MCP_STATS_BUCKETS];
    size_t i;
    int b, ok = 1;

    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        apr_interval_time_t v = samples[i];
        apr_interval_time_t hi = mcp_stats_bucket_bound(mcp_stats_bucket(v));

        /* The bound is above the value, by at most a quarter (or the
         * first bucket's 256 us). */
        ok &= hi > v && (hi <= 256 || hi * 4 <= v * 5 + 4);
    }
    CHECK(ok, "every latency lies below its bucket's bound, within 25%%");
    for (b = 1; b < MCP_STATS_BUCKETS; b++) {
        ok &= mcp_stats_bucket_bound(b) > mcp_stats_bucket_bound(b - 1)
              && mcp_stats_bucket(mcp_stats_bucket_bound(b - 1)) == b;
    }
    CHECK(ok, "bucket bounds rise, each the first value of the next bucket");
    CHECK(mcp_stats_bucket(apr_time_from_sec(7200)) == MCP_STATS_BUCKETS - 1,
          "two hours fall into the last bucket");

    memset(hist, 0, sizeof(hist));
    CHECK(mcp_stats_quantile_ms(hist, 0.5) < 0, "no latency: no quantile");
    /* 100 calls: 1 ms to 100 ms.  The true p50 is 50 ms, p95 95 ms. */
    for (i = 1; i <= 100; i++) {
        hist[mcp_stats_bucket((apr_interval_time_t)i * 1000)]++;
    }
    CHECK(mcp_stats_quantile_ms(hist, 0.50) >= 50
              && mcp_stats_quantile_ms(hist, 0.50) <= 50 * 1.25,
          "p50 of 1..100 ms within [50, 62.5] ms (%.2f)",
          mcp_stats_quantile_ms(hist, 0.50));
    CHECK(mcp_stats_quantile_ms(hist, 0.95) >= 95
              && mcp_stats_quantile_ms(hist, 0.95) <= 95 * 1.25,
          "p95 of 1..100 ms within [95, 118.75] ms (%.2f)",
          mcp_stats_quantile_ms(hist, 0.95));
}

static void test_stats_slots(void)
{
    void *mem = apr_palloc(pool, mcp_stats_size(3));
    mcp_stats *st = mcp_stats_init(mem, 3);
    mcp_stats_slot *a, *b, *c, *d;
    mcp_stats_totals *t = apr_palloc(pool, sizeof(*t));
    mcp_matomo_answer ans;

    CHECK(mcp_stats_attach(mem, mcp_stats_size(3)) == st,
          "a block laid out by this build is found again");
    CHECK(mcp_stats_attach(mem, mcp_stats_size(2)) == NULL,
          "... not when it is smaller than its slots");
    a = mcp_stats_claim(st, 101, everybody_alive);
    b = mcp_stats_claim(st, 102, everybody_alive);
    c = mcp_stats_claim(st, 103, everybody_alive);
    CHECK(a != b && b != c && a != c, "three processes, three slots "
          "(the last shared when all are held)");
    d = mcp_stats_claim(st, 104, everybody_alive);
    CHECK(d == c, "a fourth shares the last slot");

    mcp_stats_request(a);
    mcp_stats_request(b);
    mcp_stats_request(c);
    mcp_stats_request(d);
    mcp_stats_request(NULL);
    mcp_stats_message(a, MCP_STATS_ERA_MODERN, 4);
    mcp_stats_message(b, MCP_STATS_ERA_MODERN, 4);
    mcp_stats_message(b, MCP_STATS_ERA_MODERN, MCP_STATS_METHODS_MAX);
    mcp_stats_tool(a, 3, 1, 2, 1500);
    mcp_stats_tool(b, 3, 0, 0, 0);
    mcp_stats_tool(b, MCP_STATS_TOOLS_MAX, 0, 1, 10);
    mcp_stats_stream(a, +1);
    mcp_stats_stream(b, +1);
    mcp_stats_stream(b, -1);
    mcp_stats_token(c, MCP_TOKEN_REMEMBERED);
    mcp_stats_cache(a, 1);
    mcp_stats_failure(b, MCP_FAIL_5XX);
    mcp_stats_failure(b, MCP_FAIL_CLASSES);
    mcp_stats_sum(st, t);
    CHECK(t->requests == 4 && t->messages[MCP_STATS_ERA_MODERN][4] == 2
              && t->tool_calls[3] == 2 && t->tool_errors[3] == 1
              && t->tool_latency[3][mcp_stats_bucket(1500)] == 1
              && t->streams == 1 && t->tokens[MCP_TOKEN_REMEMBERED] == 1
              && t->cache_hits == 1 && t->failures[MCP_FAIL_5XX] == 1
              && t->slots_in_use == 3,
          "the reader sums every slot; out-of-range indexes count nothing");

    /* Process 101 crashed: its slot is taken again, its counts kept, its
     * open stream gone. */
    a = mcp_stats_claim(st, 105, nobody_alive);
    mcp_stats_sum(st, t);
    CHECK(t->requests == 4 && t->streams == 0,
          "a dead owner's slot is reused: counts kept, its streams gone");
    mcp_stats_release(b, 102);
    CHECK(mcp_stats_claim(st, 106, everybody_alive) == b,
          "a released slot is the next one claimed");
    mcp_stats_reset(st);
    mcp_stats_sum(st, t);
    CHECK(t->requests == 0 && t->slots_in_use == 0 && t->cache_hits == 0,
          "a reset zeroes counters and owners");

    memset(&ans, 0, sizeof(ans));
    ans.status = MCP_MATOMO_HTTP_ERROR;
    ans.http_status = 502;
    CHECK(mcp_stats_failure_class(&ans) == MCP_FAIL_5XX, "HTTP 502: 5xx");
    ans.http_status = 404;
    CHECK(mcp_stats_failure_class(&ans) == MCP_FAIL_OTHER_HTTP,
          "HTTP 404: other_http");
    ans.status = MCP_MATOMO_DENIED;
    CHECK(mcp_stats_failure_class(&ans) < 0,
          "Matomo refusing a site is an answer, not a failure");
    CHECK(mcp_stats_fits(mcp_tools_count, mcp_server_method_count()),
          "the catalog (%d tools) and the methods (%d) fit a slot",
          mcp_tools_count, mcp_server_method_count());
}

/* A table that does not page (a trend: no has_more of its own): over the
 * budget it keeps its first rows, says has_more without next_offset, and
 * names the narrowing arguments the tool takes; a single row too large is
 * an error; a result within the budget is left alone. */
static void test_budget(void)
{
    apr_pool_t *p;
    json_object *schema, *result, *rows, *args = json_object_new_object();
    const char *err;
    size_t i, n = 0;

    apr_pool_create(&p, NULL);
    schema = json_tokener_parse("{\"properties\":{\"idSite\":{},"
                                "\"metrics\":{},\"last\":{},"
                                "\"period\":{}}}");
    result = json_object_new_object();
    rows = json_object_new_array();
    for (i = 0; i < 1000; i++) {
        json_object *row = json_object_new_array();

        json_object_array_add(row, json_object_new_string("2026-11-26"));
        json_object_array_add(row, json_object_new_int((int)i));
        json_object_array_add(rows, row);
    }
    json_object_object_add(result, "columns", json_object_new_array());
    json_object_object_add(result, "rows", rows);
    err = mcp_budget_fit(p, result, schema, args, 4096, 0);
    json_object_to_json_string_length(
        result, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    CHECK(err == NULL, "a table over the budget is cut, not refused");
    CHECK(n <= 4096, "... to the budget (%lu bytes)", (unsigned long)n);
    CHECK(mcp_json_array_length(rows) > 10
              && mcp_json_array_length(rows) < 1000,
          "... keeping some rows (%lu)",
          (unsigned long)mcp_json_array_length(rows));
    CHECK(json_object_get_int(mcp_json_array_get(
              mcp_json_array_get(rows, mcp_json_array_length(rows) - 1), 1))
              == (int)mcp_json_array_length(rows) - 1,
          "... the first ones, in order");
    CHECK(json_object_get_boolean(json_object_object_get(result, "has_more"))
              && !json_object_object_get_ex(result, "next_offset", NULL),
          "... has_more, no next_offset: the tool does not page");
    CHECK(strstr(mcp_json_get_string(result, "note"),
                 "narrow the question with metrics, last or period")
              != NULL && strstr(mcp_json_get_string(result, "note"),
                                "offset") == NULL,
          "... the note names the tool's narrowing arguments: %s",
          mcp_json_get_string(result, "note"));
    CHECK(mcp_budget_fit(p, result, schema, args, 64 * 1024, 0) == NULL
              && mcp_json_array_length(rows) < 1000,
          "within the budget: left alone");
    json_object_put(result);

    result = json_object_new_object();
    rows = json_object_new_array();
    for (i = 0; i < 2; i++) {
        char big[6000];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        json_object_array_add(rows, json_object_new_string(big));
    }
    json_object_object_add(result, "rows", rows);
    err = mcp_budget_fit(p, result, schema, args, 4096, 0);
    CHECK(err != NULL && strstr(err, "Not one row") != NULL
              && strstr(err, "metrics, last or period") != NULL,
          "not one row fits: an error naming the arguments");
    json_object_put(result);
    json_object_put(schema);
    json_object_put(args);
    apr_pool_destroy(p);
}

/* --- segments Matomo did not process ----------------------------------- */

/* The body of a recording of t/matomo/recorded-5.1.2-unprocessed-segment/
 * (a Matomo 5.1.2 with browser archiving disabled), parsed; owned by p. */
static json_object *unprocessed_body(apr_pool_t *p, const char *name)
{
    char *path = apr_pstrcat(p, MCP_TEST_RECORDED,
                             "/recorded-5.1.2-unprocessed-segment/", name,
                             ".json", NULL);
    json_object *rec = json_object_from_file(path), *body = NULL;
    const char *text = rec ? mcp_json_get_string(rec, "body") : NULL;

    if (text == NULL
        || mcp_json_parse(p, text, strlen(text), MCP_JSON_MAX_DEPTH, &body)
               != MCP_JSON_OK) {
        body = NULL;
    }
    json_object_put(rec);
    return body;
}

static void test_segments(void)
{
    static const char *const unprocessed[] = {
        "visits-month-adhoc-unprocessed", "visits-prevmonth-adhoc-unprocessed",
        "devicetype-month-adhoc-unprocessed",
        "pageurls-month-adhoc-unprocessed", "range-adhoc-unprocessed", NULL
    };
    static const char *const processed[] = {
        "visits-month-saved-processed", "visits-prevmonth-saved-processed",
        "devicetype-month-saved-processed", "visits-month", NULL
    };
    apr_pool_t *p;
    json_object *saved, *month, *range, *bulk, *zero, *keyed, *a;
    int i;

    apr_pool_create(&p, pool);
    saved = unprocessed_body(p, "segments-all");
    month = unprocessed_body(p, "visits-month");
    range = unprocessed_body(p, "range-unsegmented");
    bulk = unprocessed_body(p, "bulk-mixed");
    CHECK(saved && month && range && bulk, "the recordings are readable");
    for (i = 0; unprocessed[i] != NULL; i++) {
        a = unprocessed_body(p, unprocessed[i]);
        CHECK(a != NULL && mcp_segment_answer_empty(a),
              "%s: an answer with no data", unprocessed[i]);
    }
    for (i = 0; processed[i] != NULL; i++) {
        a = unprocessed_body(p, processed[i]);
        CHECK(a != NULL && !mcp_segment_answer_empty(a),
              "%s: an answer with data", processed[i]);
    }
    CHECK(!mcp_segment_answer_empty(mcp_json_array_get(bulk, 0))
              && mcp_segment_answer_empty(mcp_json_array_get(bulk, 1)),
          "bulk-mixed: the unsegmented answer has data, the segmented none");
    /* API.getProcessedReport: metadata strings, but no rows. */
    a = mcp_json_pool_own(p, json_tokener_parse(
        "{\"metadata\":{\"name\":\"Device type\"},\"columns\":{\"label\":"
        "\"Type\"},\"reportData\":[],\"reportTotal\":{}}"));
    CHECK(mcp_segment_answer_empty(a), "a processed report without rows");

    CHECK(mcp_segment_visits(month) == 88,
          "the unsegmented month counts 88 visits (visits-month)");
    CHECK(mcp_segment_visits(range) == 580,
          "the unsegmented range counts 580 visits (range-unsegmented)");
    keyed = mcp_json_pool_own(p, json_tokener_parse(
        "{\"2026-12-01\":{\"nb_visits\":3},\"2026-12-02\":[],"
        "\"2026-12-03\":{\"nb_visits\":4}}"));
    CHECK(mcp_segment_visits(keyed) == 7, "a date-keyed answer: the sum");

    /* segments-all: desktop and ZZ auto_archive 1, smartphone 0, LIN not
     * saved. */
    CHECK(mcp_segment_auto_archived(p, saved, "deviceType==desktop")
              && mcp_segment_auto_archived(p, saved, "browserCode==ZZ")
              && mcp_segment_auto_archived(p, saved, "deviceType%3D%3Ddesktop"),
          "segments saved with auto_archive 1 (URL-encoded too)");
    CHECK(!mcp_segment_auto_archived(p, saved, "deviceType==smartphone")
              && !mcp_segment_auto_archived(p, saved, "operatingSystemCode==LIN")
              && !mcp_segment_auto_archived(p, NULL, "deviceType==desktop"),
          "saved with auto_archive 0, not saved, no list: not pre-processed");
    a = mcp_json_pool_own(p, json_tokener_parse(
        "[{\"definition\":\"pageUrl=@%2Fshop\",\"auto_archive\":0},"
        "{\"definition\":\"pageUrl=@%2Fshop\",\"auto_archive\":1}]"));
    CHECK(mcp_segment_auto_archived(p, a, "pageUrl=@/shop"),
          "one of two saved copies with auto_archive 1, asked decoded: "
          "pre-processed");

    CHECK(mcp_segment_unprocessed(p, saved, "operatingSystemCode==LIN", month, NULL),
          "LIN's zeros for December with 88 visits unsegmented: unprocessed");
    CHECK(mcp_segment_unprocessed(p, saved, "operatingSystemCode==LIN", range, NULL),
          "LIN's zeros for the range with 580 visits unsegmented: unprocessed");
    CHECK(mcp_segment_unprocessed(p, saved, "operatingSystemCode==LIN",
                                  mcp_json_array_get(bulk, 0),
                                  mcp_json_array_get(bulk, 1)),
          "bulk-mixed: LIN's zeros beside 88 unsegmented visits: unprocessed");
    CHECK(!mcp_segment_unprocessed(p, saved, "browserCode==ZZ", month, NULL),
          "ZZ (auto_archive 1) matching nobody: a real zero");
    zero = mcp_json_pool_own(p, json_tokener_parse("{\"nb_visits\":0}"));
    CHECK(!mcp_segment_unprocessed(p, saved, "operatingSystemCode==LIN", zero, NULL),
          "no visits at all in the period: a real zero");
    CHECK(!mcp_segment_unprocessed(p, saved, "operatingSystemCode==LIN", NULL, NULL),
          "no unsegmented figure: nothing tells");
    CHECK(mcp_segment_unprocessed(p, saved, "operatingSystemCode==LIN", month,
                                  unprocessed_body(
                                      p, "visits-month-adhoc-unprocessed")),
          "LIN's own visits are zeros too: unprocessed");
    CHECK(!mcp_segment_unprocessed(p, saved, "deviceType==smartphone", month,
                                   unprocessed_body(
                                       p, "visits-month-saved-processed")),
          "a segment with visits of its own was processed: its empty "
          "report is real");
    apr_pool_destroy(p);
}

int main(void)
{
    mcp_catalog *c = NULL;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_json_limits();
    test_json_arrays();
    test_json_set_text();
    test_jsonrpc_classify();
    test_jsonrpc_write();
    test_tool_definitions();
    test_catalog();
    mcp_catalog_build(pool, &five_defs, five_tools, 5, 2, &c);
    five_catalog = c;
    test_dispatch_lifecycle();
    test_dispatch_modern();
    test_dispatch_batch();
    test_dispatch_tools();
    test_forgiving_arguments();
    test_tool_methods();
    test_auth();
    test_matomo_allow_list();
    test_matomo_answers();
    test_matomo_charts();
    test_module_catalog();
    test_tool_set_default();
    test_shape_numbers();
    test_shape_last_action();
    test_periods();
    test_budget();
    test_segments();
    test_period_rules();
    test_prompts();
    test_guard();
    test_throttle();
    test_cache();
    test_stats_latency();
    test_stats_slots();

    apr_pool_destroy(pool);
    apr_terminate();
    printf("1..%d\n", tests_run);
    return tests_failed != 0;
}
