/* tool_families.h — the code agent's tool families and the helpers they share.
 *
 * Families (const tables, listed in src/tools/registry.c):
 *   er_tools_fs      read_file write_file edit_file list_dir   (src/tools/fs.c)
 *   er_tools_search  glob grep                                 (src/tools/search.c)
 *   er_tools_exec    run diff                                  (src/tools/exec.c)
 *   er_tools_lint    lint                                      (src/tools/lint.c)
 *   er_tools_test    test                                      (src/tools/testrun.c)
 *   er_tools_web      web_search fetch_url                     (src/tools/web.c)
 *   er_tools_research cite_check                               (src/tools/research.c)
 *   er_tools_browser browser_open browser_read browser_extract browser_export
 *                    browser_record browser_trends browser_click
 *                    browser_type browser_select browser_wait browser_scroll
 *                    browser_back browser_screenshot browser_pdf browser_eval
 *                    browser_block browser_close         (src/tools/browser.c)
 *   er_tools_data    data_load data_tables data_sql data_describe data_correlate
 *                    data_group data_export data_chart     (src/tools/data*.c)
 *   er_tools_memory  memory_save memory_search memory_forget memory_relate
 *                    memory_graph                          (src/tools/memory.c)
 *   er_tools_mail    mail_folders mail_search mail_read mail_thread mail_analyze mail_draft
 *                    mail_send mail_mark mail_move mail_attachment
 *                                                           (src/tools/mail.c)
 *
 * Every tool writes one JSON object into `out` and keeps it under
 * ER_TOOL_OUTPUT_MAX by eliding the middle of long texts (the result says how
 * much was cut).  Write tools refuse with ER_EDENIED when the workspace is
 * read-only; long-running ones honour ctx->cancel. */
#ifndef ERRAND_TOOLS_H
#define ERRAND_TOOLS_H

#include "tool.h"
#include "workspace.h"

extern const er_tool_family er_tools_fs;
extern const er_tool_family er_tools_search;
extern const er_tool_family er_tools_exec;
extern const er_tool_family er_tools_lint;
extern const er_tool_family er_tools_test;
extern const er_tool_family er_tools_web;
extern const er_tool_family er_tools_research;
extern const er_tool_family er_tools_data;
extern const er_tool_family er_tools_memory;
/* memory_search, memory_graph: their results carry memory saved from outside
 * content, so they taint a run as the network tools do (er_tool_untrusted). */
bool er_tools_memory_untrusted(const er_tool *t);
extern const er_tool_family er_tools_browser;
extern const er_tool_family er_tools_mail;

/* Appends s[0..len) to out as valid UTF-8 (bad bytes become U+FFFD); when len
 * exceeds keep, only the first and last keep/2 bytes are kept, joined by
 * "\n[... N bytes elided ...]\n".  Returns the number of bytes elided. */
size_t er_tools_clip(er_buf *out, const char *s, size_t len, size_t keep);

/* What the tools let their lists grow to, in JSON bytes, leaving room under
 * ER_TOOL_OUTPUT_MAX for the rest of the result. */
#define ER_TOOLS_BUDGET (ER_TOOL_OUTPUT_MAX * 3 / 4)

/* Bytes that s[0..n) takes inside a JSON string (quotes and control
 * characters are escaped, so this can be up to 6n). */
size_t er_tools_json_cost(const char *s, size_t n);

/* Adds key: the clipped text to obj; returns the number of bytes elided. */
size_t er_tools_add_text(cJSON *obj, const char *key, const char *s, size_t len, size_t keep);

/* Prints result (unformatted) into out; ER_ETOOBIG when it would pass
 * ER_TOOL_OUTPUT_MAX (tools clip their texts first, so this is a safety net). */
int er_tools_emit(er_buf *out, const cJSON *result, er_error *err);

/* Emits build(0, payload), or when that is over the cap build(1, payload) and
 * so on: each level clips harder.  ER_ETOOBIG when even the last is too big. */
int er_tools_emit_fitting(er_buf *out, cJSON *(*build)(int level, void *payload), int levels,
                          void *payload, er_error *err);

/* ER_EDENIED "workspace is read-only for the analyzer" when it is. */
int er_tools_need_writable(const er_tool_ctx *ctx, er_error *err);
/* ER_EDENIED when the workspace is read-only but commands cannot be confined
 * to that (no working bwrap): run and test call it first. */
int er_tools_can_exec(const er_tool_ctx *ctx, er_error *err);
/* ER_ECANCELLED when ctx->cancel is set. */
int er_tools_check_cancel(const er_tool_ctx *ctx, er_error *err);
/* Opens the workspace of ctx (ER_EINVAL when the context has none), guarding
 * errand's own files (own_files.h) as the configuration names them. */
int er_tools_workspace(er_workspace *ws, const er_tool_ctx *ctx, er_error *err);

/* The sandbox options every command of ctx runs with: the workspace (as
 * writable as ctx allows), errand's files to cover, the network as granted,
 * cancellation, and the [sandbox] settings — memory, processes, /tmp size,
 * exposed paths, passed variables, and whether it may run unconfined (not a
 * task from errand serve, unless sandbox.fallback says so).  Callers then set
 * what is theirs: timeout, keep, env, merge_stderr. */
struct er_sandbox_opts;
void er_tools_sandbox_opts(struct er_sandbox_opts *o, const er_tool_ctx *ctx,
                           const er_workspace *ws);

/* OWNED *out: sorted workspace-relative paths of the regular files below the
 * directory abs (.git and symlinks skipped), at most max; returns the count. */
size_t er_tools_list_files(char ***out, const er_workspace *ws, const char *abs, size_t max);
void er_tools_free_list(char **v, size_t n);

/* ---- previews for the approval question (er_tool_preview) ---- */

/* What write_file / edit_file would do to the file: "new file …" or
 * "overwrites …" and a unified diff, or "will fail: …"; OWNED, NULL when the
 * arguments give nothing to show. */
char *er_fs_preview_write(const er_tool_ctx *ctx, const cJSON *args);
char *er_fs_preview_edit(const er_tool_ctx *ctx, const cJSON *args);
/* The command `run` would run: directory, sandbox, network and timeout. OWNED. */
char *er_exec_preview(const er_tool_ctx *ctx, const cJSON *args);

/* ---- parsers of linter and test-runner output (pure; exposed for tests) ---- */

/* Appends diagnostics {file, line, column, severity, message, tool} found in
 * text to arr.  `format` is "gcc" (FILE:LINE[:COL]: SEVERITY: MESSAGE, as from
 * gcc, cppcheck with a gcc-like template and shellcheck -f gcc), "pyflakes"
 * (FILE:LINE:COL: MESSAGE), "python" (py_compile tracebacks; column null, as
 * Python prints the line stripped) or "node" (node --check).  Severities are
 * error, warning, note or style.  Paths under root (may be NULL) are made
 * relative.  Returns the number added. */
size_t er_lint_parse(cJSON *arr, const char *format, const char *tool, const char *text,
                     const char *root);

/* Which parser suits a test command: "pytest", "unittest", "ctest", "go",
 * "cargo", "tap" or "generic". */
const char *er_test_parser_for(const char *cmd);
/* OWNED: {parser, passed, failed, failures:[{name, output}]} from a runner's
 * combined output; passed/failed are null when the output does not say.  For
 * "generic" (a command we cannot place, like make test) the first runner's
 * parser that finds counts in the output is used; "parser" names it. */
cJSON *er_test_parse(const char *parser, const char *text);

#endif
