/*
 * Segments Matomo did not process.  With browser-triggered archiving off
 * for segments (browser_archiving_disabled_enforce = 1), Matomo answers a
 * segment it never pre-processed with zeros or no rows, byte for byte
 * what a segment that matches nobody gets.  Only what lies around the
 * answer tells them apart: whether the segment is saved with auto_archive
 * (then core:archive processes it and its zero is real), and whether the
 * period has any visits at all without the segment.
 *
 * httpd-free: APR and json-c only.
 */
#ifndef MCP_SEGMENTS_H
#define MCP_SEGMENTS_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "mcp_matomo.h"
#include "mcp_server.h"

/* What the result's note says (after "Matomo answered no data for this
 * segment while the period has N visits without it, and the segment is not
 * saved with pre-processing (auto_archive): ").  The module cannot read
 * Matomo's archiving settings (no API tells them to a caller), so it says
 * under which setting the zeros are not a count. */
#define MCP_SEGMENT_UNPROCESSED_NOTE                                          \
    "if browser archiving is disabled for segments (as on large Matomo "     \
    "installs), this segment has not been processed for this period; ask a " \
    "Matomo admin to enable pre-processing for it. Do not report these "     \
    "zeros or missing rows as a count of matching visits"

/* 1 when a Matomo answer holds no data: no rows, or only zeros (an
 * API.getProcessedReport by its reportData, a date-keyed answer when
 * every date is so). */
int mcp_segment_answer_empty(json_object *answer);

/* The visits an unsegmented VisitsSummary.get answer counts (one period,
 * or the sum over a date-keyed answer); -1 when it counts none. */
double mcp_segment_visits(json_object *answer);

/* 1 when segment is saved, in SegmentEditor.getAll's answer saved, with
 * auto_archive on (compared as Matomo does, URL-decoded). */
int mcp_segment_auto_archived(apr_pool_t *p, json_object *saved,
                              const char *segment);

/* The verdict on an empty segmented answer: 1 (not processed) when the
 * segment is not saved with auto_archive, the same period has visits
 * without it (unsegmented, a VisitsSummary.get answer) and none with it
 * (segmented, the segment's VisitsSummary.get answer, NULL when unknown:
 * a segment with visits was processed, so an empty report of it is real).
 * 0 when the zero may be real or nothing tells. */
int mcp_segment_unprocessed(apr_pool_t *p, json_object *saved,
                            const char *segment, json_object *unsegmented,
                            json_object *segmented);

/* Every tool that takes a segment calls this with its answers: when a
 * segment was sent and every answer Matomo gave is empty, one more round
 * trip (SegmentEditor.getAll, VisitsSummary.get for the same period
 * without and with the segment) decides, and an unprocessed segment gets
 * MCP_SEGMENT_UNPROCESSED_NOTE in result's note (the note every tool's
 * output schema declares; no new field, so every schema stays as it is).
 * The tool's matomoMethods list both methods. */
void mcp_segment_check(mcp_request *req, json_object *result, int id_site,
                       const char *period, const char *date,
                       const char *segment, const mcp_matomo_answer *answers,
                       int n);

#endif
