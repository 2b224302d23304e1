/* data_tools.h — what the data tools (data.c, data_chart.c) share. */
#ifndef ERRAND_DATA_TOOLS_H
#define ERRAND_DATA_TOOLS_H

#include "errand/data.h"
#include "errand/tool.h"
#include "errand/workspace.h"

/* Opens the data database of ctx's workspace (data.db or .errand/data.sqlite). */
int er_data_tool_open(const er_tool_ctx *ctx, er_data **out, er_error *err);
/* Loads again the tables (or `table`) whose files changed; adds "reloaded" to o. */
int er_data_tool_refresh(er_data *d, const char *table, cJSON *o, er_error *err);
/* Emits o, calling shrink (when given) while it is over the output cap. */
int er_data_tool_emit(er_buf *out, cJSON *o, bool (*shrink)(cJSON *o), er_error *err);
/* Creates (or truncates) the file abs of ws for writing, mode 0666 less the
 * umask, its directories made; the file is opened beneath the root.  OWNED *fd. */
int er_data_tool_create(const er_workspace *ws, const char *abs, int *fd, er_error *err);
/* data_chart's run. */
int er_data_tool_chart(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err);

#endif
