/* run.c — submit a request and follow it to its end: stream tokens, answer
 * approval requests on the terminal, cancel on Ctrl-C.  Shared by `ask` and the REPL. */
#include "cli.h"
#include "errand/markdown.h"
#include "errand/alloc.h"
#include "errand/approval.h"
#include "errand/bus.h"
#include "errand/chart.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/orphans.h"
#include "errand/str.h"
#include "errand/watchdog.h"
#include "errand/url.h"
#include "errand/workers.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

volatile int cli_interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    if (cli_interrupted++ >= 1) {
        /* Second Ctrl-C while waiting: leave now. */
        static const char msg[] = "\nerrand: interrupted\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(EXIT_INTERRUPTED);
    }
}

void cli_install_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int cli_local_workers(cli *c, er_error *err)
{
    if (c->workers_started)
        return 0;
    er_bus *bus;
    int rc = er_env_bus(c->env, &bus, err);
    if (!rc && er_bus_is_local(bus))
        rc = er_workers_start(c->env, "all", 2, err);
    if (!rc)
        c->workers_started = true;
    return rc;
}

void cli_reap_orphans(cli *c)
{
    er_error err = { 0 };
    if (er_tasks_reap_orphans(c->env, &err) || er_watchdog_sweep(c->env, NULL, &err))
        er_log(ER_LOG_WARN, "tasks", "cannot look for interrupted tasks: %s", err.msg);
}

void cli_outcome_release(cli_outcome *o)
{
    free(o->agent);
    free(o->answer);
    free(o->error);
    cJSON_Delete(o->route);
    cJSON_Delete(o->steps);
    cJSON_Delete(o->interrupted);
    memset(o, 0, sizeof *o);
}

/* One line from the terminal, read from the descriptor itself so that nothing
 * typed ahead stays in stdio's buffer, out of readline's sight.  False at the
 * end of input or on Ctrl-C (the read is interrupted). */
static bool read_answer(char *buf, size_t n)
{
    size_t len = 0;
    char ch;
    ssize_t r;
    while ((r = read(STDIN_FILENO, &ch, 1)) == 1 && ch != '\n')
        if (len + 1 < n)
            buf[len++] = ch;
    buf[len] = '\0';
    return r == 1 || len > 0;
}

/* The preview of an approval request (what saying yes does), a diff's lines
 * coloured on a terminal that wants colour. */
static void print_preview(const char *preview, bool diff)
{
    bool colour = diff && cli_colour() && isatty(STDERR_FILENO);
    for (const char *p = preview; *p;) {
        size_t n = strcspn(p, "\n");
        const char *on = !colour                      ? ""
                         : p[0] == '+' && p[1] != '+' ? "\033[32m"
                         : p[0] == '-' && p[1] != '-' ? "\033[31m"
                         : p[0] == '@' && p[1] == '@' ? "\033[36m"
                                                      : "";
        fprintf(stderr, "  %s%.*s%s\n", on, (int)n, p, *on ? "\033[0m" : "");
        p += n + (p[n] == '\n');
    }
}

/* y, n or a (a only when offered); anything else is asked again, the end of
 * input or Ctrl-C is a no. */
static er_approval_decision prompt_decision(bool always_ok)
{
    for (;;) {
        fprintf(stderr, always_ok ? "Allow? [y]es / [n]o / [a]lways: " : "Allow? [y]es / [n]o: ");
        fflush(stderr);
        char line[64];
        if (!read_answer(line, sizeof line) || cli_interrupted)
            return ER_APPROVAL_DENY;
        char *t = er_str_trim(line);
        if (er_str_eq(t, "y") || er_str_eq(t, "Y") || strcasecmp(t, "yes") == 0)
            return ER_APPROVAL_ALLOW;
        if (er_str_eq(t, "n") || er_str_eq(t, "N") || strcasecmp(t, "no") == 0)
            return ER_APPROVAL_DENY;
        if (always_ok && (er_str_eq(t, "a") || er_str_eq(t, "A") || strcasecmp(t, "always") == 0))
            return ER_APPROVAL_ALWAYS;
        fprintf(stderr, "Please answer %s.\n", always_ok ? "y, n or a" : "y or n");
    }
}

static void ask_approval(cli *c, const cli_view *v, const cJSON *ev)
{
    const cJSON *d = er_json_obj(ev, "data");
    const char *task_id = er_json_str(ev, "task_id");
    const char *call_id = er_json_str(d, "call_id");
    if (!task_id || !call_id)
        return;
    er_approval_decision dec = ER_APPROVAL_DENY;
    const char *reason = er_json_str(d, "reason");
    const char *preview = er_json_str(d, "preview");
    if (v->interactive) {
        char *args = er_json_print(cJSON_GetObjectItemCaseSensitive(d, "arguments"));
        fprintf(stderr, "\n%s wants to call %s (%s): %s\n",
                er_json_str(d, "agent") ? er_json_str(d, "agent") : "agent",
                er_json_str(d, "tool") ? er_json_str(d, "tool") : "?",
                er_json_str(d, "perm") ? er_json_str(d, "perm") : "?", args);
        free(args);
        if (preview)
            print_preview(preview, !er_str_eq(er_json_str(d, "tool"), "run"));
        if (reason) /* "always" would not cover the next one: not offered */
            fprintf(stderr, "Careful: asked because %s.\n", reason);
        dec = prompt_decision(!reason);
    } else if (reason) {
        /* Neither --yes nor a policy covers it: only a person can say yes. */
        fprintf(stderr,
                "errand: %s needs approval because %s; there is no terminal to ask, "
                "so it was denied\n",
                er_json_str(d, "tool") ? er_json_str(d, "tool") : "a tool", reason);
    } else {
        /* Networked, the policy is the worker's: a -o here does not reach it. */
        er_bus *bus;
        bool local = er_env_bus(c->env, &bus, NULL) == 0 && er_bus_is_local(bus);
        fprintf(stderr,
                "errand: %s needs approval and there is no terminal to ask; denied "
                "(use --yes, or %s policy.%s=allow%s)\n",
                er_json_str(d, "tool") ? er_json_str(d, "tool") : "a tool", local ? "-o" : "set",
                er_json_str(d, "perm") ? er_json_str(d, "perm") : "…",
                local ? "" : " for the workers");
    }
    er_error err = { 0 };
    if (er_approval_answer(c->env, task_id, call_id, dec, &err))
        fprintf(stderr, "errand: cannot answer the approval request: %s\n", err.msg);
}

/* The first line of s, at most max bytes (cut at a character boundary), "…" when cut. */
static void put_short(er_buf *b, const char *s, size_t max)
{
    if (!s)
        return;
    size_t n = strcspn(s, "\n");
    bool cut = n > max || s[n] == '\n';
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    er_buf_append(b, s, n);
    if (cut)
        er_buf_puts(b, "…");
}

static void describe_routed(er_buf *b, const cJSON *d)
{
    const cJSON *s;
    int i = 0;
    er_buf_puts(b, "→");
    cJSON_ArrayForEach(s, er_json_arr(d, "steps")) er_buf_printf(
        b, "%s %s", i++ ? "," : "", er_json_str(s, "agent") ? er_json_str(s, "agent") : "?");
    const char *method = er_json_str(d, "method");
    double conf = er_json_num(d, "confidence", -1);
    if (method && conf >= 0)
        er_buf_printf(b, " (%s, %.2f)", method, conf);
    else if (method)
        er_buf_printf(b, " (%s)", method);
}

static void describe_llm(er_buf *b, const char *agent, const cJSON *d)
{
    er_buf_printf(b, "%s step %d", agent, (int)er_json_int(d, "step", 0, 0, INT32_MAX));
    const char *text = er_json_str(d, "text");
    if (text && *text) {
        er_buf_puts(b, ": ");
        put_short(b, text, 160);
    }
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, er_json_arr(d, "tool_calls")) er_buf_printf(
        b, "%s%s", i++ ? ", " : " → calls ", er_json_str(c, "name") ? er_json_str(c, "name") : "?");
}

static void describe_todos(er_buf *b, const char *agent, const cJSON *d)
{
    er_buf_printf(b, "%s plan:", agent);
    const cJSON *t;
    cJSON_ArrayForEach(t, er_json_arr(d, "todos"))
    {
        const char *st = er_json_str(t, "status");
        er_buf_printf(b, " [%s] ",
                      er_str_eq(st, "completed")     ? "x"
                      : er_str_eq(st, "in_progress") ? "~"
                                                     : " ");
        put_short(b, er_json_str(t, "content"), 80);
    }
}

char *cli_event_text(const cJSON *ev)
{
    const char *kind = er_json_str(ev, "kind");
    const cJSON *d = er_json_obj(ev, "data");
    const char *agent = er_json_str(d, "agent") ? er_json_str(d, "agent") : "agent";
    er_buf b = ER_BUF_INIT;
    if (!kind || er_str_eq(kind, "token")) {
        return NULL;
    } else if (er_str_eq(kind, "routed")) {
        describe_routed(&b, d);
    } else if (er_str_eq(kind, "start")) {
        er_buf_printf(&b, "%s started", agent);
    } else if (er_str_eq(kind, "llm")) {
        describe_llm(&b, agent, d);
    } else if (er_str_eq(kind, "tool_call")) {
        char *label = cli_call_label(er_json_str(d, "tool"), er_json_str(d, "arguments"));
        er_buf_printf(&b, "%s: %s", agent, label);
        free(label);
    } else if (er_str_eq(kind, "tool_result")) {
        er_buf_printf(&b, "%s: %s %s ", agent, er_json_str(d, "tool"),
                      er_json_bool(d, "is_error", false) ? "failed:" : "→");
        put_short(&b, er_json_str(d, "content"), 200);
    } else if (er_str_eq(kind, "todos")) {
        describe_todos(&b, agent, d);
    } else if (er_str_eq(kind, "delegate")) {
        er_buf_printf(&b, "%s → %s: ", agent, er_json_str(d, "subagent"));
        put_short(&b, er_json_str(d, "description"), 200);
    } else if (er_str_eq(kind, "approval_request")) {
        er_buf_printf(&b, "%s asks to run %s (%s)", agent, er_json_str(d, "tool"),
                      er_json_str(d, "perm"));
    } else if (er_str_eq(kind, "end")) {
        const char *st = er_json_str(d, "status");
        er_buf_printf(&b, "%s: ", st ? st : "ended");
        put_short(&b, er_str_eq(st, "done") ? er_json_str(d, "answer") : er_json_str(d, "error"),
                  200);
    } else {
        char *j = er_json_print(d);
        er_buf_printf(&b, "%s ", kind);
        put_short(&b, j, 200);
        free(j);
    }
    return er_buf_detach(&b);
}

/* Rows of a line or scatter chart drawn in the terminal. */
#define CHART_ROWS 12

char *cli_chart_text(const cJSON *ev, int cols, bool colour)
{
    const cJSON *d = er_json_obj(ev, "data");
    if (!er_str_eq(er_json_str(ev, "kind"), "tool_result") ||
        !er_str_eq(er_json_str(d, "tool"), "data_chart") || er_json_bool(d, "is_error", false))
        return NULL;
    const char *content = er_json_str(d, "content");
    cJSON *r = NULL;
    er_chart *chart = NULL;
    char *text = NULL;
    if (content && er_json_parse(&r, content, strlen(content), NULL) == 0 &&
        er_chart_from_json(er_json_obj(r, "plot"), &chart, NULL) == 0) {
        er_buf b = ER_BUF_INIT;
        char *plot = er_chart_term(chart, cols, CHART_ROWS, colour);
        er_buf_puts(&b, plot);
        er_buf_printf(&b, "(%s%s%s)\n", er_json_str(r, "svg") ? er_json_str(r, "svg") : "",
                      er_json_str(r, "png") ? ", " : "",
                      er_json_str(r, "png") ? er_json_str(r, "png") : "");
        text = er_buf_detach(&b);
        free(plot);
    }
    er_chart_free(chart);
    cJSON_Delete(r);
    return text;
}

static void show_chart(const cJSON *ev)
{
    struct winsize ws;
    int cols = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
    char *text = cli_chart_text(ev, cols > 100 ? 100 : cols, cli_colour());
    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(text);
}

static void progress(const cJSON *ev)
{
    const char *kind = er_json_str(ev, "kind");
    bool step = er_str_eq(kind, "tool_call") || er_str_eq(kind, "delegate");
    if (!step && !er_str_eq(kind, "routed"))
        return;
    char *text = cli_event_text(ev);
    /* NO_COLOR asks for no colour, not for no progress: dim only without it. */
    bool dim = cli_colour();
    fprintf(stderr, "%s%s%s%s\n", dim ? "\033[2m" : "", step ? "  " : "", text,
            dim ? "\033[0m" : "");
    free(text);
}

void cli_outcome_take_end(cli_outcome *o, const cJSON *d)
{
    er_task_status_parse(er_json_str(d, "status"), &o->status);
    free(o->answer);
    free(o->error);
    o->answer = er_xstrdup(er_json_str(d, "answer"));
    o->error = er_xstrdup(er_json_str(d, "error"));
    o->error_code = er_error_from_name(er_json_str(d, "code"));
    o->tokens_in = er_json_int(d, "tokens_in", 0, 0, INT64_MAX);
    o->tokens_out = er_json_int(d, "tokens_out", 0, 0, INT64_MAX);
    cJSON_Delete(o->interrupted);
    const cJSON *calls = er_json_arr(d, "interrupted");
    o->interrupted = calls ? cJSON_Duplicate(calls, true) : NULL;
}

/* The store is the truth; pub/sub may drop messages (a Redis restart).  *status
 * gets the stored status (unchanged when the store cannot say).  A task past
 * its deadline is failed here: whatever became of its worker, it is over. */
static bool ended_in_store(cli *c, cli_outcome *o, er_task_status *status)
{
    er_store *st;
    er_task t;
    if (er_env_store(c->env, &st, NULL) || er_store_task_get(st, o->task_id, &t, NULL))
        return false;
    if (er_watchdog_check(c->env, &t)) {
        er_task_release(&t);
        if (er_store_task_get(st, o->task_id, &t, NULL))
            return false;
    }
    *status = t.status;
    bool ended = er_task_status_final(t.status);
    if (ended) {
        o->status = t.status;
        free(o->answer);
        free(o->error);
        o->answer = er_xstrdup(t.result);
        o->error = er_xstrdup(t.error);
        o->tokens_in = t.tokens_in;
        o->tokens_out = t.tokens_out;
    }
    er_task_release(&t);
    return ended;
}

bool cli_outcome_check_store(cli *c, cli_outcome *o)
{
    er_task_status status;
    return ended_in_store(c, o, &status);
}

void cli_put_answer(const cli_view *v, const char *text)
{
    if (v->md) {
        er_buf out = ER_BUF_INIT;
        er_md_feed(v->md, text, strlen(text), &out);
        fputs(er_buf_cstr(&out), stdout);
        er_buf_release(&out);
    } else {
        fputs(text, stdout);
    }
    fflush(stdout);
}

void cli_end_answer(const cli_view *v)
{
    if (!v->md)
        return;
    er_buf out = ER_BUF_INIT;
    er_md_finish(v->md, &out);
    fputs(er_buf_cstr(&out), stdout);
    er_buf_release(&out);
    fflush(stdout);
}

/* Handles one event; true when the task has ended. */
static bool on_event(cli *c, const cli_view *v, cli_outcome *o, const cJSON *ev)
{
    const char *kind = er_json_str(ev, "kind");
    const char *task = er_json_str(ev, "task_id");
    bool own = er_str_eq(task, o->task_id);
    const cJSON *d = er_json_obj(ev, "data");
    if (v->stream_json)
        cli_stream_json_event(ev);
    if (er_str_eq(kind, "token")) {
        const char *text = er_json_str(d, "text");
        if (own && v->stream && text) {
            cli_put_answer(v, text);
            o->streamed = true;
        }
    } else if (er_str_eq(kind, "approval_request")) {
        ask_approval(c, v, ev);
    } else if (er_str_eq(kind, "routed") && own) {
        cJSON_Delete(o->route);
        o->route = d ? cJSON_Duplicate(d, true) : NULL;
    } else if (er_str_eq(kind, "start") && own) {
        free(o->agent);
        o->agent = er_xstrdup(er_json_str(d, "agent"));
    } else if (er_str_eq(kind, "tool_result") && v->charts) {
        show_chart(ev);
    } else if (er_str_eq(kind, "end") && own) {
        if (!o->agent && er_json_str(d, "agent"))
            o->agent = er_xstrdup(er_json_str(d, "agent"));
        cli_outcome_take_end(o, d);
        return true;
    }
    if (v->progress)
        progress(ev);
    return false;
}

static int add_step(const er_event *e, void *payload)
{
    cJSON *s = cJSON_CreateObject();
    er_json_add_num(s, "id", (double)e->id);
    er_json_add_str(s, "task_id", e->task_id);
    er_json_add_str(s, "kind", e->kind);
    cJSON *d = cJSON_Parse(e->data ? e->data : "null");
    er_json_add(s, "data", d ? d : cJSON_CreateNull());
    char ts[32];
    er_time_iso(e->created_ms, ts, sizeof ts);
    er_json_add_str(s, "ts", ts);
    er_json_append(payload, s);
    return 0;
}

static int add_child_steps(const er_task *t, void *payload)
{
    void **ctx = payload;
    er_store_event_list(ctx[0], t->id, 0, add_step, ctx[1], NULL);
    return 0;
}

static int by_id(const void *a, const void *b)
{
    double x = er_json_num(*(cJSON *const *)a, "id", 0),
           y = er_json_num(*(cJSON *const *)b, "id", 0);
    return (x > y) - (x < y);
}

cJSON *cli_task_steps(cli *c, const char *root)
{
    er_store *st;
    cJSON *steps = cJSON_CreateArray();
    if (er_env_store(c->env, &st, NULL))
        return steps;
    er_store_event_list(st, root, 0, add_step, steps, NULL);
    void *ctx[2] = { st, steps };
    er_task_filter f = { .parent_id = root, .status = -1, .limit = 100 };
    er_store_task_list(st, &f, add_child_steps, ctx, NULL);
    /* Children's events interleave with the parent's: order by event id. */
    int n = cJSON_GetArraySize(steps);
    cJSON **items = er_xcalloc((size_t)n + 1, sizeof *items);
    for (int i = n - 1; i >= 0; i--)
        items[i] = cJSON_DetachItemFromArray(steps, i);
    qsort(items, (size_t)n, sizeof *items, by_id);
    for (int i = 0; i < n; i++)
        er_json_append(steps, items[i]);
    free(items);
    return steps;
}

#define QUEUED_HINT_MS 10000

/* The store says the task ended: has its "end" event just not arrived yet? */
static bool end_event_within(cli *c, const cli_view *v, er_follow *f, cli_outcome *o, int ms)
{
    cJSON *ev = NULL;
    for (int64_t deadline = er_mono_ms() + ms; er_mono_ms() < deadline;) {
        if (er_follow_next(f, 50, &ev) != 0)
            continue;
        bool end = on_event(c, v, o, ev);
        cJSON_Delete(ev);
        if (end)
            return true;
    }
    return false;
}

/* Events were lost (the cache went away) while the answer streamed: what was
 * printed may be partial, so the stored answer is printed whole after it. */
static void stream_was_cut(cli_outcome *o)
{
    fputs("\n", stdout);
    fprintf(stderr, "errand: the answer's stream was cut (events were lost); the whole answer "
                    "follows\n");
    o->streamed = false;
}

/* Names the queues where messages wait and no worker consumes (a task stuck past
 * the supervisor: its agent's worker or the aggregator is missing), and dead
 * letters, whose tasks have failed (unless the store was down then too). */
static void hint_unconsumed(er_bus *bus)
{
    long dead = -1;
    if (er_bus_queue_info(bus, ER_QUEUE_DEAD, &dead, NULL, NULL) == 0 && dead > 0)
        fprintf(stderr,
                "errand: %ld message%s in the dead-letter queue %s: their tasks failed "
                "(`errand task show ID` says why; `errand doctor` counts them)\n",
                dead, dead == 1 ? " is" : "s are", ER_QUEUE_DEAD);
    for (const er_worker_stage *st = er_worker_stages(); st->name; st++) {
        long depth = -1, consumers = -1;
        if (er_bus_queue_info(bus, st->queue, &depth, &consumers, NULL) != 0 || depth <= 0 ||
            consumers != 0)
            continue;
        fprintf(stderr,
                "errand: %ld message%s wait%s in %s and no worker consumes it; start "
                "one (errand worker %s)\n",
                depth, depth == 1 ? "" : "s", depth == 1 ? "s" : "", st->queue, st->name);
    }
}

/* Nothing moved for a while: in networked mode that means a worker is missing. */
static void hint_stalled(cli *c, er_task_status status)
{
    er_bus *bus;
    if (er_env_bus(c->env, &bus, NULL) != 0 || er_bus_is_local(bus))
        return;
    if (status == ER_TASK_QUEUED)
        fprintf(stderr,
                "errand: the task is still queued after %d s; is a supervisor worker "
                "running (errand worker supervisor)?  `errand doctor` shows each queue's "
                "consumers\n",
                QUEUED_HINT_MS / 1000);
    else
        hint_unconsumed(bus);
}

/* ---- the spinner: while ask waits, a line on the terminal of stderr ---- */

typedef struct spinner {
    bool on;       /* the view wants one */
    bool shown;    /* a spinner line is on the screen */
    int64_t start; /* er_mono_ms of the request */
    unsigned frame;
} spinner;

/* Takes the spinner line off the screen before anything else is written. */
static void unspin(spinner *sp)
{
    if (!sp->shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    sp->shown = false;
}

/* Until the answer streams (it would share the terminal's line): a turning
 * wheel, the agent at work and the time since the request. */
static void spin(spinner *sp, const cli_outcome *o)
{
    static const char *const frames[] = { "⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏" };
    if (!sp->on || o->streamed)
        return;
    double secs = (double)(er_mono_ms() - sp->start) / 1000.0;
    fprintf(stderr, "\r\033[K%s %s %.1fs", frames[sp->frame++ % ER_ARRAY_LEN(frames)],
            o->agent ? o->agent : "working", secs);
    fflush(stderr);
    sp->shown = true;
}

/* True when a Ctrl-C notice ended the answer's line on the terminal. */
static bool follow_loop(cli *c, const cli_view *v, er_follow *f, cli_outcome *o)
{
    bool cancel_sent = false, hinted = false;
    int quiet_ms = 0;
    int64_t since = er_mono_ms(); /* the last sign of progress */
    spinner sp = { .on = v->spinner, .start = since };
    for (;;) {
        if (cli_interrupted && !cancel_sent) {
            unspin(&sp);
            cancel_sent = true;
            fprintf(stderr, "\nerrand: cancelling (Ctrl-C again to quit at once)\n");
            er_error e = { 0 };
            if (er_task_cancel(c->env, o->task_id, &e) && e.code != ER_ECONFLICT)
                fprintf(stderr, "errand: %s\n", e.msg);
        }
        cJSON *ev = NULL;
        if (er_follow_next(f, 100, &ev) == 0) {
            quiet_ms = 0;
            since = er_mono_ms();
            unspin(&sp);
            bool end = on_event(c, v, o, ev);
            cJSON_Delete(ev);
            if (end)
                return cancel_sent;
            continue;
        }
        quiet_ms += 100;
        spin(&sp, o);
        if (quiet_ms >= 1000) {
            quiet_ms = 0;
            er_task_status status = ER_TASK_RUNNING;
            if (ended_in_store(c, o, &status)) {
                unspin(&sp);
                /* Cancelled or failed elsewhere (`errand task cancel` in another
                 * process with the in-process cache), no answer is missing. */
                if (o->streamed && !end_event_within(c, v, f, o, 500) && o->status == ER_TASK_DONE)
                    stream_was_cut(o);
                return cancel_sent;
            }
            if (!hinted && er_mono_ms() - since >= QUEUED_HINT_MS) {
                unspin(&sp);
                hinted = true;
                hint_stalled(c, status);
            }
        }
    }
}

int cli_run_request(cli *c, const er_submit *s, const cli_view *v, cli_outcome *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = cli_local_workers(c, err);
    if (rc)
        return rc;
    er_submit sub = *s;
    er_id_new(out->task_id);
    sub.task_id = out->task_id;
    /* What on_event and progress() read; the rest of a step's events stay unread. */
    static const char *const kinds[] = {
        "token", "approval_request", "routed", "start", "end", NULL
    };
    static const char *const kinds_progress[] = { "token", "approval_request", "routed",   "start",
                                                  "end",   "tool_call",        "delegate", NULL };
    static const char *const kinds_charts[] = {
        "token",     "approval_request", "routed",      "start", "end",
        "tool_call", "delegate",         "tool_result", NULL
    };
    er_follow *f;
    rc = er_follow_open(&f, c->env, out->task_id,
                        v->stream_json ? NULL
                        : v->charts    ? kinds_charts
                        : v->progress  ? kinds_progress
                                       : kinds,
                        err);
    if (rc)
        return rc;
    rc = er_task_submit(c->env, &sub, NULL, out->conversation_id, err);
    if (!rc) {
        cli_interrupted = 0;
        bool noticed = follow_loop(c, v, f, out);
        /* A task that failed or was cancelled mid-answer: end the partial line
         * before the reason goes to standard error. */
        if (out->streamed && out->status != ER_TASK_DONE && !noticed) {
            fputs("\n", stdout);
            fflush(stdout);
        }
        if (v->collect_steps)
            out->steps = cli_task_steps(c, out->task_id);
    }
    er_follow_close(f);
    return rc;
}

/* The model provider's setting for its URL, by the provider's name as the
 * llm layer starts its messages ("openai: cannot connect to …"). */
char *cli_llm_hint(cli *c, const cli_outcome *o)
{
    if (o->status == ER_TASK_DONE || !o->error || cli_exit_for(o->error_code) != EXIT_UNAVAIL ||
        !c->env)
        return NULL;
    er_config *cfg = er_env_config(c->env);
    bool openai = strstr(o->error, "openai: ") != NULL;
    bool anthropic = strstr(o->error, "anthropic: ") != NULL;
    if (openai == anthropic)
        return NULL;
    const char *url = openai ? cfg->openai_base_url : cfg->anthropic_base_url;
    if (er_str_empty(url))
        url = openai ? "https://api.openai.com/v1 (the default)"
                     : "https://api.anthropic.com "
                       "(the default)";
    char *shown = er_url_redacted(url);
    char *hint =
        er_xasprintf("the model is at %s: change it with %s (llm.%s in the config "
                     "file), or start that server; errand doctor checks it",
                     shown ? shown : url, openai ? "OPENAI_BASE_URL" : "ANTHROPIC_BASE_URL",
                     openai ? "openai_base_url" : "anthropic_base_url");
    free(shown);
    return hint;
}
