/* data_chart.c — the data_chart tool: builds the chart (chart.h), writes the
 * SVG (and a PNG when libcairo is there) inside the workspace, and returns
 * the chart's model as "plot", which front ends draw in the terminal. */
#include "errand/tool_families.h"
#include "errand/alloc.h"
#include "errand/chart.h"
#include "errand/json.h"
#include "errand/str.h"
#include "data_tools.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHART_W       800
#define CHART_H       500
#define PLOT_JSON_MAX (96 * 1024)

static int write_file(const er_workspace *ws, const char *abs, const char *data, size_t len,
                      er_error *err)
{
    int fd;
    int rc = er_data_tool_create(ws, abs, &fd, err);
    if (rc)
        return rc;
    size_t off = 0;
    while (off < len && rc == 0) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = er_error_set(err, ER_EIO, "cannot write %s: %s", er_workspace_rel(ws, abs),
                              strerror(errno));
        else
            off += (size_t)w;
    }
    if (close(fd) != 0 && rc == 0)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", er_workspace_rel(ws, abs),
                          strerror(errno));
    return rc;
}

/* The SVG's path: given (a .png name gets .svg beside it), else charts/NAME-KIND.svg. */
static char *svg_path(const cJSON *args, const char *kind)
{
    const char *file = er_json_str(args, "file");
    if (file && er_str_ends(file, ".png"))
        return er_xasprintf("%.*s.svg", (int)(strlen(file) - 4), file);
    if (file)
        return er_str_ends(file, ".svg") ? er_xstrdup(file) : er_xasprintf("%s.svg", file);
    const char *name = er_json_str(args, "table") ? er_json_str(args, "table") : "query";
    return er_xasprintf("charts/%s-%s.svg", name, kind);
}

static int build(er_data *d, const cJSON *args, er_chart **out, er_error *err)
{
    er_chart_spec s = { .table = er_json_str(args, "table"),
                        .sql = er_json_str(args, "query"),
                        .x = er_json_str(args, "x"),
                        .y = er_json_str(args, "y"),
                        .series = er_json_str(args, "series"),
                        .agg = er_json_str(args, "agg"),
                        .bins = (int)er_json_int(args, "bins", 0, 0, 200),
                        .title = er_json_str(args, "title") };
    if (er_chart_kind_parse(er_json_str(args, "kind"), &s.kind) != 0)
        return er_error_set(err, ER_EINVAL,
                            "data_chart: kind is one of bar, grouped_bar, line, "
                            "scatter, histogram, pie");
    if (s.kind == ER_CHART_GROUPED_BAR && !s.series && !(s.y && strchr(s.y, ',')) && !s.sql)
        return er_error_set(err, ER_EINVAL,
                            "data_chart: a grouped bar chart needs series (a "
                            "column) or several y columns");
    return er_chart_build(d, &s, out, err);
}

/* Writes the files; fills o with where they are. */
static int write_charts(const er_tool_ctx *ctx, const cJSON *args, const er_chart *c, cJSON *o,
                        er_error *err)
{
    er_workspace ws;
    int rc = er_tools_workspace(&ws, ctx, err);
    if (rc)
        return rc;
    char *rel = svg_path(args, er_chart_kind_name(c->kind)), *abs = NULL;
    rc = er_workspace_resolve(&abs, &ws, rel, err);
    char *svg = rc == 0 ? er_chart_svg(c, CHART_W, CHART_H) : NULL;
    if (rc == 0)
        rc = write_file(&ws, abs, svg, strlen(svg), err);
    if (rc == 0) {
        er_json_add_str(o, "svg", er_workspace_rel(&ws, abs));
        er_json_add_str(o, "size", "800x500");
    }
    if (rc == 0 && er_json_bool(args, "png", true)) {
        er_buf png = ER_BUF_INIT;
        er_error perr = { 0 };
        char *pabs = er_xasprintf("%.*s.png", (int)(strlen(abs) - 4), abs);
        if (er_chart_png(c, CHART_W, CHART_H, &png, &perr) == 0 &&
            (rc = write_file(&ws, pabs, png.ptr, png.len, err)) == 0)
            er_json_add_str(o, "png", er_workspace_rel(&ws, pabs));
        else if (perr.code)
            er_json_add_str(o, "png_note", perr.msg);
        free(pabs);
        er_buf_release(&png);
    }
    free(svg);
    free(rel);
    free(abs);
    er_workspace_release(&ws);
    return rc;
}

static bool drop_plot(cJSON *o)
{
    if (!cJSON_GetObjectItemCaseSensitive(o, "plot"))
        return false;
    cJSON_DeleteItemFromObjectCaseSensitive(o, "plot");
    er_json_add_str(o, "plot_note", "too many points to show here; see the files");
    return true;
}

int er_data_tool_chart(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    int rc = er_tools_need_writable(ctx, err);
    er_data *d = NULL;
    if (rc == 0)
        rc = er_data_tool_open(ctx, &d, err);
    if (rc)
        return rc;
    cJSON *o = cJSON_CreateObject();
    er_chart *c = NULL;
    rc = er_data_tool_refresh(d, er_json_str(args, "table"), o, err);
    if (rc == 0)
        rc = build(d, args, &c, err);
    if (rc == 0)
        rc = write_charts(ctx, args, c, o, err);
    if (rc == 0) {
        er_json_add_str(o, "kind", er_chart_kind_name(c->kind));
        er_json_add_str(o, "title", c->title);
        cJSON *plot = er_chart_json(c);
        char *text = er_json_print(plot);
        if (strlen(text) <= PLOT_JSON_MAX)
            er_json_add(o, "plot", plot);
        else
            cJSON_Delete(plot);
        free(text);
        rc = er_data_tool_emit(out, o, drop_plot, err);
    }
    er_chart_free(c);
    cJSON_Delete(o);
    er_data_close(d);
    return rc;
}
