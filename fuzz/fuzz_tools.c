/*
 * The tools' (and resources', prompts', completions') shaping of Matomo
 * answers, without a network.
 *
 * Input: a JSON-RPC message, then the Matomo answers its calls get, in
 * call order, each part separated by FUZZ_SEP ("\n--\n").  An answer may
 * start with its HTTP status as "NNN\n" (200 without).  A bulk request
 * takes one answer (Matomo's array of sub-answers).  A call finding no
 * answer left is unreachable, as without a backend.
 *
 * The test double: this file includes src/mcp_server.c with its three
 * Matomo entry points renamed, and defines mcp_server_call_matomo,
 * mcp_server_call_matomo_bulk and mcp_server_call_matomo_chart itself, so every tool, resource and prompt
 * gets its answer from the input instead of libcurl.  Everything past the
 * HTTP transfer is the module's own code: mcp_matomo_form and
 * mcp_matomo_bulk_form (so a call the allow-list refuses is still
 * refused), mcp_matomo_classify (parsing, scrubbing, error messages),
 * mcp_matomo_bulk_split (a bulk answer into its sub-answers),
 * mcp_matomo_chart_form and mcp_matomo_classify_chart (charts), and
 * mcp_server.c's note_answer (401 handling).  The double
 * exists for fuzzing only: it is linked into this target alone, never into
 * the module or the unit tests.
 *
 * With FUZZ_TRACE set in the environment, each call is printed to stderr as
 * "CALL <form>" or, when no answer was left for it, "NEED <form>" (bulk:
 * the API.getBulkRequest form): fuzz/mkcorpus.pl uses that to build the
 * seeds from the fake Matomo's recorded answers.
 *
 * Oracles besides the sanitizers: the reply is strict JSON; the token
 * appears in it only when the message itself carried it.
 */
#define mcp_server_call_matomo mcp_server_call_matomo_real
#define mcp_server_call_matomo_bulk mcp_server_call_matomo_bulk_real
#define mcp_server_call_matomo_chart mcp_server_call_matomo_chart_real
#include "../src/mcp_server.c"
#undef mcp_server_call_matomo
#undef mcp_server_call_matomo_bulk
#undef mcp_server_call_matomo_chart

#include "../src/mcp_charts.h"
#include "fuzz.h"

/* The double's definitions of what mcp_server.h declares (under the real
 * names, since the include renamed them). */
void mcp_server_call_matomo(mcp_request *req, const char *method,
                            const apr_array_header_t *params,
                            mcp_matomo_answer *answer);
void mcp_server_call_matomo_bulk(mcp_request *req,
                                 const mcp_matomo_request *calls, int n,
                                 mcp_matomo_answer *answers);
void mcp_server_call_matomo_chart(mcp_request *req,
                                  const apr_array_header_t *params,
                                  mcp_matomo_answer *answer);

/* What is left of the input's answers. */
static const char *feed;
static size_t feed_left;
static int tracing;

/* The next part of the input, or 0 when none is left. */
static int next_part(const char **part, size_t *len)
{
    const char *sep;

    if (feed == NULL) {
        return 0;
    }
    *part = feed;
    sep = memmem(feed, feed_left, FUZZ_SEP, strlen(FUZZ_SEP));
    if (sep == NULL) {
        *len = feed_left;
        feed = NULL;
        feed_left = 0;
    }
    else {
        *len = (size_t)(sep - feed);
        feed_left -= *len + strlen(FUZZ_SEP);
        feed = sep + strlen(FUZZ_SEP);
    }
    return 1;
}

/* One HTTP answer for form, classified as mcp_matomo_call does; 0 when
 * the input has none left. */
static int answer_from_input(mcp_request *req, const char *form, int chart,
                             mcp_matomo_answer *out)
{
    const char *body;
    size_t len;
    long status = 200;
    int have = next_part(&body, &len);

    if (tracing) {
        fprintf(stderr, "%s %s\n", have ? "CALL" : "NEED", form);
    }
    memset(out, 0, sizeof(*out));
    if (!have) {
        out->status = MCP_MATOMO_UNREACHABLE;
        out->message = "Matomo cannot be reached (no answer left in the "
                       "fuzz input)";
        return 0;
    }
    if (len >= 4 && body[3] == '\n' && body[0] >= '1' && body[0] <= '5'
        && body[1] >= '0' && body[1] <= '9' && body[2] >= '0'
        && body[2] <= '9') {
        status = (body[0] - '0') * 100 + (body[1] - '0') * 10
                 + (body[2] - '0');
        body += 4;
        len -= 4;
    }
    /* classify may keep pointers into the body: give it the pool's copy,
     * NUL-terminated as libcurl's buffer is. */
    if (chart) {
        mcp_matomo_classify_chart(req->pool, status,
                                  apr_pstrmemdup(req->pool, body, len), len,
                                  req->credential.token, MCP_CHART_WIDTH,
                                  MCP_CHART_HEIGHT, out);
    }
    else {
        mcp_matomo_classify(req->pool, status,
                            apr_pstrmemdup(req->pool, body, len), len,
                            req->credential.token, out);
    }
    return 1;
}

void mcp_server_call_matomo(mcp_request *req, const char *method,
                            const apr_array_header_t *params,
                            mcp_matomo_answer *answer)
{
    const char *form = mcp_matomo_form(req->pool, method, params);

    if (form == NULL) {
        memset(answer, 0, sizeof(*answer));
        answer->status = MCP_MATOMO_REFUSED;
        answer->message = "refused: not a read-only Matomo call";
        return;
    }
    answer_from_input(req, form, 0, answer);
    note_answer(req, answer);
}

void mcp_server_call_matomo_bulk(mcp_request *req,
                                 const mcp_matomo_request *calls, int n,
                                 mcp_matomo_answer *answers)
{
    const char *form = mcp_matomo_bulk_form(req->pool, calls, n);
    mcp_matomo_answer whole;

    memset(&whole, 0, sizeof(whole));
    if (form == NULL) {
        whole.status = MCP_MATOMO_REFUSED;
        whole.message = "refused: not a read-only Matomo call";
    }
    else {
        answer_from_input(req, form, 0, &whole);
    }
    mcp_matomo_bulk_split(req->pool, &whole, req->credential.token, n,
                          answers);
    if (n > 0) {
        note_answer(req, &answers[0]);
    }
}

/* A chart, of the size the tools ask (mcp_charts.h). */
void mcp_server_call_matomo_chart(mcp_request *req,
                                  const apr_array_header_t *params,
                                  mcp_matomo_answer *answer)
{
    const char *form = mcp_matomo_chart_form(req->pool, params);

    if (form == NULL) {
        memset(answer, 0, sizeof(*answer));
        answer->status = MCP_MATOMO_REFUSED;
        answer->message = "refused: not a chart Matomo draws";
        return;
    }
    answer_from_input(req, form, 1, answer);
    note_answer(req, answer);
}

static const mcp_matomo_backend fuzz_backend = {
    "http://matomo.invalid/index.php", 0, 0, 0, 0, 1, NULL, MCP_FORWARD_AUTO,
    NULL
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tracing = getenv("FUZZ_TRACE") != NULL;
    fuzz_setup();
    return 0;
}

/* 1 when the message itself names the token: then a reply may echo it. */
static int message_has_token(apr_pool_t *p, const char *msg, size_t len)
{
    json_object *obj = NULL;

    if (fuzz_contains(msg, len, FUZZ_TOKEN)) {
        return 1;
    }
    return mcp_json_parse(p, msg, len, MCP_JSON_MAX_DEPTH, &obj) == MCP_JSON_OK
           && fuzz_tree_has(p, obj, FUZZ_TOKEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *sep;
    size_t msg_len;
    apr_pool_t *p = fuzz_pool();
    mcp_request req;
    mcp_reply reply;

    sep = memmem(in, size, FUZZ_SEP, strlen(FUZZ_SEP));
    msg_len = sep != NULL ? (size_t)(sep - in) : size;
    feed = sep != NULL ? sep + strlen(FUZZ_SEP) : NULL;
    feed_left = sep != NULL ? size - msg_len - strlen(FUZZ_SEP) : 0;

    memset(&req, 0, sizeof(req));
    req.pool = p;
    req.catalog = fuzz_catalog;
    req.headers.protocol = MCP_PROTOCOL_LATEST;
    req.website_url = "https://stats.example.org/";
    /* A backend, so that the token is verified (through the real, renamed
     * call: no curl handle, so it fails cleanly and proves nothing), but
     * no handle: nothing can reach libcurl. */
    req.backend = &fuzz_backend;
    req.credential.token = FUZZ_TOKEN;
    mcp_server_handle(&req, in, msg_len, &reply);

    if (reply.body != NULL) {
        json_object *tree = fuzz_reparse(p, reply.body, reply.len,
                                         "the reply is not strict JSON");

        if (fuzz_tree_has(p, tree, FUZZ_TOKEN)
            && !message_has_token(p, in, msg_len)) {
            fuzz_fail("the token reached the client", reply.body, reply.len);
        }
    }
    else if (reply.http_status != 202) {
        fuzz_fail("no body, yet not a 202", in, msg_len);
    }
    apr_pool_destroy(p);
    return 0;
}
