/* web_tools.h — what the web and research tool families share (private to src/tools). */
#ifndef ERRAND_WEB_TOOLS_H
#define ERRAND_WEB_TOOLS_H

#include "errand/tool.h"

/* Fetches url for a tool: settings from the context's configuration, the
 * web.allow_hosts guard, the env's cache.  OWNED *page (webfetch.h). */
int er_web_tools_fetch(const er_tool_ctx *ctx, const char *url, cJSON **page, er_error *err);

#endif
