/*
 * The chart view as a ui:// resource (see mcp_apps.h).  It holds nothing
 * per user and asks Matomo nothing: its data arrive from the host, as the
 * structured content of the tool result it is shown with.
 */
#include "mcp_apps.h"

#include <string.h>

/* build/app_chart.c, generated from src/app/chart.html. */
extern const char mcp_app_chart_html[];
extern const size_t mcp_app_chart_html_len;

/* Hosts draw a border around the view when it asks (hosts' defaults
 * differ); no csp: the view needs no origin at all, so the host's
 * restrictive default applies (connect-src 'none'). */
static json_object *resource_meta(void)
{
    json_object *meta = json_object_new_object();
    json_object *ui = json_object_new_object();

    json_object_object_add(ui, "prefersBorder", json_object_new_boolean(1));
    json_object_object_add(meta, "ui", ui);
    return meta;
}

json_object *mcp_apps_read(const char *uri)
{
    json_object *result, *contents, *content;

    if (uri == NULL || strcmp(uri, MCP_APP_CHART_URI) != 0) {
        return NULL;
    }
    content = json_object_new_object();
    json_object_object_add(content, "uri", json_object_new_string(uri));
    json_object_object_add(content, "mimeType",
                           json_object_new_string(MCP_APP_MIME_TYPE));
    json_object_object_add(content, "text", json_object_new_string_len(
        mcp_app_chart_html, (int)mcp_app_chart_html_len));
    json_object_object_add(content, "_meta", resource_meta());
    contents = json_object_new_array();
    json_object_array_add(contents, content);
    result = json_object_new_object();
    json_object_object_add(result, "contents", contents);
    return result;
}
