/*
 * Matomo answers: the input is an HTTP answer body from Matomo, optionally
 * preceded by its status as "NNN\n" (200 without).  It goes through
 * mcp_matomo_classify with the caller's token, as every call's answer
 * does, and through mcp_matomo_scrub on its own (parsed as classify parses
 * it), since scrubbing is what keeps a credential out of every result.
 *
 * The same body also goes through mcp_matomo_classify_chart, as an answer
 * to ImageGraph.get (a PNG, or Matomo's XML, JSON or HTML error).
 *
 * Oracles besides the sanitizers: the token is neither in the scrubbed
 * JSON (any member name or string) nor in the message for the model; scrubbing
 * twice changes nothing; the message fits in a JSON string; a chart is
 * taken only as the whole body, starting with the PNG signature.
 */
#include "fuzz.h"

#include "../src/mcp_matomo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

static void no_token(const char *text, size_t len, const char *what)
{
    if (fuzz_contains(text, len, FUZZ_TOKEN)) {
        fuzz_fail(what, text, len);
    }
}

/* The scrubbed tree holds no token, and scrubbing it again is a no-op. */
static void check_scrubbed(apr_pool_t *p, json_object *json, const char *what)
{
    apr_size_t len, len2;
    const char *text = mcp_json_to_string(p, json, &len), *again;

    if (fuzz_tree_has(p, json, FUZZ_TOKEN)) {
        fuzz_fail(what, text, len);
    }
    mcp_matomo_scrub(json, FUZZ_TOKEN);
    again = mcp_json_to_string(p, json, &len2);
    if (len != len2 || memcmp(text, again, len) != 0) {
        fuzz_fail("scrubbing twice changed the answer", again, len2);
    }
}

/* A failed answer's message: present, free of the token, a JSON string. */
static void check_message(apr_pool_t *p, const mcp_matomo_answer *a,
                          const char *body, size_t size)
{
    json_object *m;
    const char *text;

    if (a->message == NULL) {
        fuzz_fail("a failed answer without a message", body, size);
    }
    m = mcp_json_pool_own(p, json_object_new_string(a->message));
    text = mcp_json_to_string(p, m, NULL);
    no_token(a->message, strlen(a->message), "a token survived in the message");
    fuzz_reparse(p, text, strlen(text),
                 "the message does not fit in a JSON string");
}

static void check_chart(apr_pool_t *p, long status, const char *body,
                        size_t size)
{
    mcp_matomo_answer a;

    memset(&a, 0, sizeof(a));
    mcp_matomo_classify_chart(p, status, body, size, FUZZ_TOKEN, 800, 400,
                              &a);
    if (a.status != MCP_MATOMO_OK) {
        check_message(p, &a, body, size);
    }
    else if (a.png == NULL || a.png_len != size || status != 200
             || memcmp(a.png, body, size) != 0
             || memcmp(a.png, "\x89PNG\r\n\x1a\n", 8) != 0) {
        fuzz_fail("a chart that is not the whole PNG body", body, size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    long status = 200;
    apr_pool_t *p = fuzz_pool();
    mcp_matomo_answer a;
    json_object *tree = NULL;

    if (size >= 4 && data[3] == '\n' && data[0] >= '1' && data[0] <= '5'
        && data[1] >= '0' && data[1] <= '9' && data[2] >= '0'
        && data[2] <= '9') {
        status = (data[0] - '0') * 100 + (data[1] - '0') * 10
                 + (data[2] - '0');
        body += 4;
        size -= 4;
    }

    memset(&a, 0, sizeof(a));
    mcp_matomo_classify(p, status, body, size, FUZZ_TOKEN, &a);
    if (a.status == MCP_MATOMO_OK) {
        check_scrubbed(p, a.json, "a token survived classify");
    }
    else {
        check_message(p, &a, body, size);
    }
    check_chart(p, status, body, size);

    /* Scrubbing alone, on whatever JSON the body holds (error answers
     * included, which classify never scrubs).  It works in place, inside
     * objects and arrays: a bare string is classify's to replace. */
    if (mcp_json_parse(p, body, size, 64, &tree) == MCP_JSON_OK
        && tree != NULL && !json_object_is_type(tree, json_type_string)) {
        mcp_matomo_scrub(tree, FUZZ_TOKEN);
        check_scrubbed(p, tree, "a token survived mcp_matomo_scrub");
    }
    apr_pool_destroy(p);
    return 0;
}
