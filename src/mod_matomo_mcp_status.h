/*
 * The module's section of mod_status (/server-status and its ?auto form)
 * and the per-request notes of the access log: httpd's side of
 * src/mcp_stats.h.
 *
 * Counters are kept when mod_status is loaded and ExtendedStatus is On
 * (mod_status's default), as httpd keeps its own per-request status then:
 * one anonymous shared-memory block, made by the parent before the
 * children fork, one slot per child process.  It lives in the parent's
 * process pool, so a graceful restart keeps it (and every counter); a full
 * restart (SIGHUP, stop and start) zeroes it, as httpd's scoreboard is
 * made anew then (both through the pre_mpm hook, which httpd runs only on
 * a start and a full restart).
 */
#ifndef MOD_MATOMO_MCP_STATUS_H
#define MOD_MATOMO_MCP_STATUS_H

#include <httpd.h>

#include "mcp_stats.h"

/* Hooks, registered by mcp_status_register. */
void mcp_status_register(apr_pool_t *p);

/* This process's slot, or NULL when no counters are kept. */
mcp_stats_slot *mcp_status_slot(void);

/* Called at start-up by whatever configures a shared cache (issue 14's
 * MatomoMcpCache, which counts each lookup with mcp_stats_cache()): the
 * report shows cache hits and misses only then. */
void mcp_status_note_cache(int configured);

/* An event stream opened for r: counted as open until r ends. */
void mcp_status_stream_opened(request_rec *r);

/* The access log's %{mcp-...}n notes of r (src/mod_matomo_mcp_notes.c):
 * every request that reached the handler gets the numbers; the names
 * when they are known. */
void mcp_notes_set(request_rec *r, const mcp_notes *notes);

#endif
