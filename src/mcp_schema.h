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

/* A copy of args (an object; anything else is returned as it is) where
 * near-misses whose meaning is unambiguous read as the schema's canonical
 * form, for mcp_schema_check to check: "1" for an integer (JSON's own
 * spelling only: no "01", "1.0", " 1" or exponent), "2.5" for a number,
 * "true"/"false" for a boolean, a lone value where an array is expected
 * (a list of it), a list of exactly one value where one value is expected
 * (that value).  Anything else stays as sent, so the check refuses it
 * with the message it always gave.  Owned by p; args is not changed (it
 * may be shared). */
json_object *mcp_schema_forgive(apr_pool_t *p, json_object *schema,
                                json_object *args);

#endif
