/*
 * Tool arguments checked against the tool's own inputSchema, so that a
 * tool's rules live in one place (its catalog entry) and every violation
 * gets a message naming the argument and what is allowed.
 *
 * The JSON Schema subset the catalog uses: type (object, string, integer,
 * number, boolean, array), properties, required, additionalProperties
 * false, enum, minimum, maximum, minLength, maxLength, pattern (POSIX
 * extended), items, maxItems.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_SCHEMA_H
#define MCP_SCHEMA_H

#include <apr_pools.h>
#include <json-c/json.h>

/* NULL when args (an object, or NULL for none) satisfies schema; else a
 * message for the model (also when args is not an object). */
const char *mcp_schema_check(apr_pool_t *p, json_object *schema,
                             json_object *args);

#endif
