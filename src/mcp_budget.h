/*
 * A size budget per tool result.  Some clients refuse a tool result over
 * about 25,000 tokens (Claude Code) or cut its text at 51,200 characters,
 * which leaves a model broken JSON.  Every tool result is held under a
 * budget in bytes (MatomoMcpResultBudget): a result over it keeps the
 * first rows of its table that fit, says has_more (and next_offset where
 * the tool pages with offset) and names in its note the arguments that
 * narrow the question.  A result that cannot fit one row becomes an error
 * saying so.  Never a truncated document.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_BUDGET_H
#define MCP_BUDGET_H

#include <apr_pools.h>
#include <json-c/json.h>

/* README.md, "A size budget per result": the smallest known client limit
 * is Claude Code's 25,000 tokens; the module's results measured 1.78 bytes
 * per token at worst (a table of numbers; 3.06 over all samples), so 32K
 * is at most about 18,400 tokens, three quarters of that limit, and well
 * under the 51,200 characters other clients cut at (a byte budget bounds
 * characters too). */
#define MCP_DEFAULT_RESULT_BUDGET 32768

/* Fits *result (a tool's structuredContent, owned by p) into budget bytes
 * of serialised JSON, less reserve (room for what is added to the text
 * afterwards: the cache's member).  input_schema is the tool's (for the
 * arguments that narrow the question), args the call's.  NULL when the
 * result fits (maybe with fewer rows), else the error for the model.
 * Notes and errors state budget, the directive's value. */
const char *mcp_budget_fit(apr_pool_t *p, json_object *result,
                           json_object *input_schema, json_object *args,
                           apr_size_t budget, apr_size_t reserve);

#endif
