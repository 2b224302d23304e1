/* output.c — what every code tool does with its result: clip long texts
 * (head + tail, with the amount cut said), make them valid UTF-8 for JSON, and
 * print the result under ER_TOOL_OUTPUT_MAX.  Also the small context checks
 * the tools share (read-only workspace, cancellation). */
#include "errand/tool_families.h"
#include "errand/json.h"
#include "errand/sandbox.h"
#include "errand/env.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void put_utf8(er_buf *out, const char *s, size_t len)
{
    er_buf_put_utf8(out, s, len); /* over the cap: the emit's check catches it */
}

/* Moves a cut point back to a UTF-8 sequence boundary. */
static size_t char_boundary(const char *s, size_t pos, size_t len)
{
    size_t back = 0;
    while (pos < len && pos > 0 && back < 3 && ((unsigned char)s[pos] & 0xC0) == 0x80) {
        pos--;
        back++;
    }
    return pos;
}

size_t er_tools_clip(er_buf *out, const char *s, size_t len, size_t keep)
{
    if (len <= keep) {
        put_utf8(out, s, len);
        return 0;
    }
    size_t head = char_boundary(s, keep / 2, len);
    size_t tail_start = char_boundary(s, len - keep / 2, len);
    size_t cut = tail_start - head;
    put_utf8(out, s, head);
    er_buf_printf(out, "\n[... %zu bytes elided ...]\n", cut);
    put_utf8(out, s + tail_start, len - tail_start);
    return cut;
}

size_t er_tools_json_cost(const char *s, size_t n)
{
    size_t cost = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        cost +=
            c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f'
                ? 2
            : c < 0x20 ? 6
                       : 1;
    }
    return cost;
}

size_t er_tools_add_text(cJSON *obj, const char *key, const char *s, size_t len, size_t keep)
{
    er_buf b = ER_BUF_INIT;
    size_t cut = er_tools_clip(&b, s ? s : "", s ? len : 0, keep);
    er_json_add_str(obj, key, er_buf_cstr(&b));
    er_buf_release(&b);
    return cut;
}

int er_tools_emit(er_buf *out, const cJSON *result, er_error *err)
{
    char *text = er_json_print(result);
    size_t n = strlen(text);
    int rc = 0;
    if (n > ER_TOOL_OUTPUT_MAX)
        rc = er_error_set(err, ER_ETOOBIG,
                          "result of %zu bytes is over the %d-byte cap; ask for less", n,
                          ER_TOOL_OUTPUT_MAX);
    else if (er_buf_append(out, text, n) != 0)
        rc = er_error_set(err, ER_ETOOBIG, "result of %zu bytes does not fit the output buffer", n);
    free(text);
    return rc;
}

int er_tools_emit_fitting(er_buf *out, cJSON *(*build)(int level, void *payload), int levels,
                          void *payload, er_error *err)
{
    int rc = ER_EINTERNAL;
    for (int level = 0; level < levels; level++) {
        cJSON *o = build(level, payload);
        rc = er_tools_emit(out, o, level + 1 < levels ? NULL : err);
        cJSON_Delete(o);
        if (rc != ER_ETOOBIG)
            break;
    }
    return rc;
}

int er_tools_need_writable(const er_tool_ctx *ctx, er_error *err)
{
    if (ctx->workspace_read_only)
        return er_error_set(err, ER_EDENIED, "workspace is read-only for the analyzer");
    return 0;
}

int er_tools_check_cancel(const er_tool_ctx *ctx, er_error *err)
{
    if (ctx->cancel && *ctx->cancel)
        return er_error_set(err, ER_ECANCELLED, "cancelled");
    return 0;
}

int er_tools_workspace(er_workspace *ws, const er_tool_ctx *ctx, er_error *err)
{
    int rc = er_workspace_init(ws, ctx->workspace, err);
    if (rc == 0 && ctx->env)
        er_workspace_guard(ws, er_env_config(ctx->env));
    return rc;
}

int er_tools_can_exec(const er_tool_ctx *ctx, er_error *err)
{
    if (ctx->workspace_read_only && strcmp(er_sandbox_kind(), "bwrap") != 0)
        return er_error_set(err, ER_EDENIED,
                            "workspace is read-only for the analyzer, and without "
                            "bubblewrap commands cannot be kept from writing it");
    return 0;
}

void er_tools_sandbox_opts(er_sandbox_opts *o, const er_tool_ctx *ctx, const er_workspace *ws)
{
    memset(o, 0, sizeof *o);
    o->workspace = ws->root;
    o->workspace_read_only = ctx->workspace_read_only;
    o->network = ctx->network_granted;
    o->cancel = ctx->cancel;
    o->own = &ws->own;
    const er_config *cfg = ctx->env ? er_env_config(ctx->env) : NULL;
    const char *fallback = cfg ? cfg->sandbox_fallback : NULL;
    o->refuse_unconfined = fallback ? strcasecmp(fallback, "refuse") == 0 : ctx->server;
    if (!cfg)
        return;
    o->memory_total = (uint64_t)cfg->sandbox_memory_mb << 20;
    o->pids = cfg->sandbox_pids;
    o->tmp_bytes = (uint64_t)cfg->sandbox_tmp_mb << 20;
    o->expose = cfg->sandbox_expose;
    o->pass_env = cfg->sandbox_env;
}
