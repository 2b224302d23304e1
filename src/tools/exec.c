/* exec.c — the `run` and `diff` tools: shell commands and `git diff`, both
 * through the sandbox (sandbox.h), with results clipped to the output cap. */
#include "errand/tool_families.h"
#include "errand/sandbox.h"
#include "errand/snapshot.h"
#include "errand/env.h"
#include "errand/log.h"
#include "errand/json.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD_MAX   (64 * 1024)
#define DIFF_KEEP (192 * 1024)

static const char *signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        { SIGKILL, "SIGKILL" }, { SIGTERM, "SIGTERM" }, { SIGSEGV, "SIGSEGV" },
        { SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" },   { SIGFPE, "SIGFPE" },
        { SIGILL, "SIGILL" },   { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
        { SIGPIPE, "SIGPIPE" }, { SIGINT, "SIGINT" },   { SIGHUP, "SIGHUP" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(names); i++)
        if (names[i].sig == sig)
            return names[i].name;
    return "signal";
}

static const char *run_note(const er_sandbox_result *r, int timeout_s, char *buf, size_t n)
{
    if (r->timed_out)
        snprintf(buf, n, "killed after the %d s timeout (raise timeout_s, at most %d)", timeout_s,
                 ER_SANDBOX_TIMEOUT_MAX);
    else if (r->oom)
        snprintf(buf, n,
                 "a process was killed: the command's processes together went over "
                 "their %llu MiB of memory (sandbox.memory_mb)",
                 (unsigned long long)(r->memory_limit >> 20));
    else if (r->signal == SIGXCPU)
        snprintf(buf, n, "killed for using too much CPU time");
    else if (r->signal)
        snprintf(buf, n, "killed by %s", signal_name(r->signal));
    else if (r->exit_code == 127)
        snprintf(buf, n, "exit 127: command not found (see stderr)");
    else if (r->exit_code == 126)
        snprintf(buf, n, "exit 126: the command could not be executed (see stderr)");
    else
        return NULL;
    return buf;
}

/* The JSON object for a finished command; keep bounds each stream's text. */
static cJSON *result_json(const char *cmd, const er_sandbox_result *r, int timeout_s, bool network,
                          size_t keep)
{
    cJSON *o = cJSON_CreateObject();
    er_tools_add_text(o, "command", cmd, strlen(cmd), 4096);
    if (r->signal) {
        er_json_add_num(o, "signal", r->signal);
        er_json_add_str(o, "signal_name", signal_name(r->signal));
    } else {
        er_json_add_num(o, "exit_code", r->exit_code);
    }
    er_json_add_bool(o, "timed_out", r->timed_out);
    er_json_add_num(o, "duration_ms", (double)r->duration_ms);
    er_tools_add_text(o, "stdout", r->out.ptr, r->out.len, keep);
    er_tools_add_text(o, "stderr", r->err.ptr, r->err.len, keep);
    er_json_add_num(o, "stdout_bytes", (double)r->out_total);
    er_json_add_num(o, "stderr_bytes", (double)r->err_total);
    er_json_add_str(o, "sandbox", r->sandbox);
    if (r->oom)
        er_json_add_bool(o, "out_of_memory", true);
    /* Only bubblewrap can take the network away: say what the command had. */
    bool confined = strcmp(r->sandbox, "bwrap") == 0;
    er_json_add_bool(o, "network", network || !confined);
    if (!network && !confined)
        er_json_add_str(o, "network_note",
                        "the network was not granted, but without bubblewrap "
                        "the command could not be kept off it");
    char note[200];
    const char *n = run_note(r, timeout_s, note, sizeof note);
    if (n)
        er_json_add_str(o, "note", n);
    return o;
}

typedef struct run_out {
    const char *cmd;
    const er_sandbox_result *r;
    int timeout_s;
    bool network;
    const cJSON *checkpoint; /* what undo can restore (snapshot.h), or NULL */
} run_out;

/* Level 0 keeps what the sandbox kept; each further level clips the streams harder. */
static cJSON *build_run(int level, void *payload)
{
    const run_out *ro = payload;
    size_t keep = level == 0 ? SIZE_MAX : (size_t)(48 * 1024) >> (2 * (level - 1));
    cJSON *o = result_json(ro->cmd, ro->r, ro->timeout_s, ro->network, keep);
    const cJSON *c = ro->checkpoint ? cJSON_GetObjectItem(ro->checkpoint, "checkpoint") : NULL;
    if (c)
        er_json_add(o, "checkpoint", cJSON_Duplicate(c, true));
    return o;
}

static int timeout_arg(const cJSON *args, int *out, er_error *err)
{
    double t = er_json_num(args, "timeout_s", ER_SANDBOX_TIMEOUT_DEFAULT);
    if (t < 1 || t > ER_SANDBOX_TIMEOUT_MAX)
        return er_error_set(err, ER_EINVAL, "timeout_s must be between 1 and %d seconds",
                            ER_SANDBOX_TIMEOUT_MAX);
    *out = (int)t;
    return 0;
}

char *er_exec_preview(const er_tool_ctx *ctx, const cJSON *args)
{
    const char *cmd = er_json_str(args, "cmd");
    if (er_str_empty(cmd))
        return NULL;
    int timeout_s = ER_SANDBOX_TIMEOUT_DEFAULT;
    er_error err = { 0 };
    timeout_arg(args, &timeout_s, &err);
    const char *why = er_sandbox_why_unconfined();
    return er_xasprintf("command:   %s\ndirectory: %s\nsandbox:   %s%s%s\nnetwork:   %s\n"
                        "timeout:   %d s\n",
                        cmd, ctx->workspace ? ctx->workspace : ".", er_sandbox_kind(),
                        why && *why ? " — " : "", why ? why : "",
                        ctx->network_granted ? "granted (policy.exec_network = allow)" : "none",
                        timeout_s);
}

/* The workspace before an approved command, so `errand undo` can restore
 * what it changes (snapshot.h).  None for a read-only view, a call outside
 * a task, or sandbox.undo_mb = 0. */
static int snapshot_before(er_snapshot **out, const er_tool_ctx *ctx, const er_workspace *ws,
                           er_error *err)
{
    *out = NULL;
    const er_config *cfg = ctx->env ? er_env_config(ctx->env) : NULL;
    long mb = cfg ? cfg->sandbox_undo_mb : ER_SNAPSHOT_MB_DEFAULT;
    if (!ctx->task_id || ctx->workspace_read_only || mb <= 0)
        return 0;
    return er_snapshot_take(out, ws, (uint64_t)mb << 20, ctx->cancel, err);
}

/* What the command changed, into the task's checkpoint; a failure to record
 * is said in the result (the command has run: its own result stands). */
static void record_after(er_snapshot *snap, const er_tool_ctx *ctx, cJSON *into)
{
    if (!snap)
        return;
    er_error e = { 0 };
    er_checkpoint_at at = { ctx->task_id, ctx->step, ctx->agent };
    if (er_snapshot_record(snap, &at, into, &e)) {
        er_log(ER_LOG_WARN, "run", "task %s: %s", ctx->task_id, e.msg);
        char *note = er_xasprintf("not checkpointed: %s", e.msg);
        cJSON_DeleteItemFromObject(into, "checkpoint");
        er_json_add_str(into, "checkpoint", note);
        free(note);
    }
}

static int run_run(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *cmd = er_json_str(args, "cmd");
    if (er_str_empty(cmd))
        return er_error_set(err, ER_EINVAL, "run: cmd is empty; give a shell command");
    if (strlen(cmd) > CMD_MAX)
        return er_error_set(err, ER_ETOOBIG, "run: cmd is over %d bytes; put it in a script file",
                            CMD_MAX);
    int timeout_s = ER_SANDBOX_TIMEOUT_DEFAULT;
    int rc = er_tools_can_exec(ctx, err);
    if (rc == 0)
        rc = timeout_arg(args, &timeout_s, err);
    er_workspace ws;
    if (rc || (rc = er_tools_workspace(&ws, ctx, err)))
        return rc;
    er_sandbox_opts o;
    er_tools_sandbox_opts(&o, ctx, &ws);
    o.timeout_s = timeout_s;
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    er_snapshot *snap = NULL;
    if ((rc = snapshot_before(&snap, ctx, &ws, err)) != 0) {
        er_workspace_release(&ws);
        return rc;
    }
    er_sandbox_result r;
    rc = er_sandbox_run(&r, &o, argv, err);
    cJSON *checkpoint = cJSON_CreateObject();
    if (rc == 0 || rc == ER_ECANCELLED) /* a killed command may have changed files too */
        record_after(snap, ctx, checkpoint);
    run_out ro = { cmd, &r, timeout_s, ctx->network_granted, checkpoint };
    if (rc == 0)
        rc = er_tools_emit_fitting(out, build_run, 6, &ro, err);
    if (rc == 0 || rc == ER_ECANCELLED)
        er_sandbox_result_release(&r);
    cJSON_Delete(checkpoint);
    er_snapshot_free(snap);
    er_workspace_release(&ws);
    return rc;
}

/* ---- diff ---- */

/* How git runs here.  The repository's own configuration is untrusted and
 * can make git execute commands even for `diff` and `status` (a read tool,
 * run without approval): core.fsmonitor, and filter drivers whose clean
 * command git runs on worktree files (its output would even land in the
 * diff).  Both are overridden through GIT_CONFIG_KEY_n/VALUE_n, which take
 * precedence over every configuration file; textconv and external diffs are
 * switched off on the command line. */
#define GIT_DRIVERS_MAX 32

typedef struct git_ctx {
    const er_workspace *ws;
    const er_tool_ctx *ctx;
    char *keys[1 + GIT_DRIVERS_MAX * 4];
    const char *values[1 + GIT_DRIVERS_MAX * 4];
    size_t n;
} git_ctx;

static void git_override(git_ctx *g, char *key, const char *value)
{
    g->keys[g->n] = key;
    g->values[g->n++] = value;
}

static void git_ctx_release(git_ctx *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->keys[i]);
}

/* Runs git with argv in the read-only sandbox; 0 with *r filled, or an error. */
static int git(er_sandbox_result *r, const git_ctx *g, const char *const *argv, er_error *err)
{
    char *env[4 + 2 * ER_ARRAY_LEN(g->keys) + 1];
    size_t n = 0;
    env[n++] = er_xstrdup("GIT_OPTIONAL_LOCKS=0");
    env[n++] = er_xstrdup("GIT_PAGER=cat");
    env[n++] = er_xstrdup("LC_ALL=C");
    env[n++] = er_xasprintf("GIT_CONFIG_COUNT=%zu", g->n);
    for (size_t i = 0; i < g->n; i++) {
        env[n++] = er_xasprintf("GIT_CONFIG_KEY_%zu=%s", i, g->keys[i]);
        env[n++] = er_xasprintf("GIT_CONFIG_VALUE_%zu=%s", i, g->values[i]);
    }
    env[n] = NULL;
    er_sandbox_opts o;
    er_tools_sandbox_opts(&o, g->ctx, g->ws);
    o.workspace_read_only = true;
    o.network = false;
    o.timeout_s = 60;
    o.keep = DIFF_KEEP;
    o.env = (const char *const *)env;
    int rc = er_sandbox_run(r, &o, argv, err);
    for (size_t i = 0; i < n; i++)
        free(env[i]);
    return rc;
}

static int check_repo(const git_ctx *g, er_error *err)
{
    er_sandbox_opts o;
    er_tools_sandbox_opts(&o, g->ctx, g->ws);
    char *exe = er_sandbox_which_in(&o, "git");
    if (!exe)
        return er_error_set(err, ER_EUNAVAIL,
                            "diff: git is not installed; install git to see changes");
    free(exe);
    const char *argv[] = { "git", "rev-parse", "--is-inside-work-tree", NULL };
    er_sandbox_result r;
    int rc = git(&r, g, argv, err);
    if (rc)
        return rc;
    if (r.signal || r.exit_code != 0)
        rc = er_error_set(err, ER_EINVAL,
                          "diff: workspace %s is not a git repository; "
                          "there is nothing to diff against",
                          g->ws->root);
    er_sandbox_result_release(&r);
    return rc;
}

/* Adds overrides that empty every filter driver the configuration names
 * (reading the configuration runs nothing). */
static int neutralise_filters(git_ctx *g, er_error *err)
{
    const char *argv[] = { "git", "config", "--name-only", "--get-regexp", "^filter\\.", NULL };
    er_sandbox_result r;
    int rc = git(&r, g, argv, err);
    if (rc)
        return rc;
    static const char *const parts[][2] = {
        { "clean", "" }, { "smudge", "" }, { "process", "" }, { "required", "false" }
    };
    size_t drivers = 0;
    for (char *line = r.out.ptr, *nl; rc == 0 && line && *line; line = nl ? nl + 1 : NULL) {
        if ((nl = strchr(line, '\n')) != NULL)
            *nl = '\0';
        char *dot = strrchr(line, '.');
        if (!er_str_starts(line, "filter.") || !dot || dot < line + 7)
            continue;
        if (++drivers > GIT_DRIVERS_MAX) {
            rc = er_error_set(err, ER_EDENIED,
                              "diff: the repository configures over %d filter "
                              "drivers; not running git on it",
                              GIT_DRIVERS_MAX);
            break;
        }
        for (size_t i = 0; i < ER_ARRAY_LEN(parts); i++)
            git_override(g, er_xasprintf("%.*s.%s", (int)(dot - line), line, parts[i][0]),
                         parts[i][1]);
    }
    er_sandbox_result_release(&r);
    return rc;
}

/* Adds the untracked files under rel (from `git status --porcelain`). */
static int add_untracked(cJSON *o, const git_ctx *g, const char *rel, er_error *err)
{
    const char *argv[] = {
        "git", "status", "--porcelain", "--untracked-files=all", "--", rel, NULL
    };
    er_sandbox_result r;
    int rc = git(&r, g, argv, err);
    if (rc)
        return rc;
    cJSON *arr = cJSON_CreateArray();
    size_t n = 0;
    for (char *line = r.out.ptr; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (er_str_starts(line, "?? ") && n++ < 200)
            er_json_append(arr, cJSON_CreateString(line + 3));
        line = nl ? nl + 1 : NULL;
    }
    er_json_add(o, "untracked", arr);
    if (n > 200)
        er_json_add_num(o, "untracked_total", (double)n);
    er_sandbox_result_release(&r);
    return 0;
}

static int diff_body(cJSON *o, git_ctx *g, const char *rel, er_error *err)
{
    git_override(g, er_xstrdup("core.fsmonitor"), "false");
    int rc = check_repo(g, err);
    if (rc == 0)
        rc = neutralise_filters(g, err);
    if (rc)
        return rc;
    const char *argv[] = { "git",           "--no-pager", "diff", "--no-color", "--no-ext-diff",
                           "--no-textconv", "HEAD",       "--",   rel,          NULL };
    er_sandbox_result r;
    if ((rc = git(&r, g, argv, err)))
        return rc;
    if (r.signal || r.exit_code != 0) {
        /* A repository without commits has no HEAD: diff against the index. */
        er_sandbox_result_release(&r);
        const char *plain[] = {
            "git",           "--no-pager", "diff", "--no-color", "--no-ext-diff",
            "--no-textconv", "--",         rel,    NULL
        };
        if ((rc = git(&r, g, plain, err)))
            return rc;
    }
    if (r.signal || r.exit_code != 0) {
        rc = er_error_set(err, ER_EIO, "diff: git diff failed (exit %d): %.160s", r.exit_code,
                          er_str_trim(r.err.ptr));
    } else {
        er_json_add_str(o, "path", rel);
        er_tools_add_text(o, "diff", r.out.ptr, r.out.len, DIFF_KEEP);
        er_json_add_num(o, "diff_bytes", (double)r.out_total);
        er_json_add_bool(o, "clean", r.out_total == 0);
    }
    er_sandbox_result_release(&r);
    return rc ? rc : add_untracked(o, g, rel, err);
}

static int run_diff(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    er_workspace ws;
    int rc = er_tools_workspace(&ws, ctx, err);
    if (rc)
        return rc;
    char *abs = NULL;
    rc = er_workspace_resolve(&abs, &ws, er_json_str(args, "path"), err);
    cJSON *o = cJSON_CreateObject();
    git_ctx g = { .ws = &ws, .ctx = ctx, .n = 0 };
    if (rc == 0)
        rc = diff_body(o, &g, er_workspace_rel(&ws, abs), err);
    git_ctx_release(&g);
    if (rc == 0)
        rc = er_tools_emit(out, o, err);
    cJSON_Delete(o);
    free(abs);
    er_workspace_release(&ws);
    return rc;
}

static const er_tool exec_tools[] = {
    { "run",
      "Run a shell command (/bin/sh -c) in the workspace inside a sandbox: read-only system, "
      "private /tmp, no network unless granted, resource limits and a timeout. Returns exit code "
      "or signal, stdout and stderr (long output has its middle elided; original sizes given).",
      "{\"type\":\"object\",\"properties\":{"
      "\"cmd\":{\"type\":\"string\",\"description\":\"shell command to run in the workspace\"},"
      "\"timeout_s\":{\"type\":\"integer\",\"description\":\"wall-clock limit in seconds, 1-600 "
      "(default 60)\"}},"
      "\"required\":[\"cmd\"],\"additionalProperties\":false}",
      ER_PERM_EXEC, "run CMD...", run_run,
      .idempotent = false }, /* a command may append, send, deploy: at most once */
    { "diff",
      "Show uncommitted changes in the workspace (git diff against HEAD, plus untracked files), "
      "for the whole workspace or one path. Needs the workspace to be a git repository.",
      "{\"type\":\"object\",\"properties\":{"
      "\"path\":{\"type\":\"string\",\"description\":\"file or directory to limit the diff to "
      "(default: the whole workspace)\"}},"
      "\"required\":[],\"additionalProperties\":false}",
      ER_PERM_READ, "diff [PATH]", run_diff, .idempotent = true },
};

const er_tool_family er_tools_exec = { "exec", exec_tools, ER_ARRAY_LEN(exec_tools) };
