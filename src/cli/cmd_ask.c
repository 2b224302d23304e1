/* cmd_ask.c — `errand ask`: one request through the whole flow. */
#include "cli.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/config.h"
#include "errand/json.h"
#include "errand/markdown.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void add_usage(cJSON *j, const cli_outcome *o)
{
    cJSON *u = cJSON_CreateObject();
    er_json_add_num(u, "input_tokens", (double)o->tokens_in);
    er_json_add_num(u, "output_tokens", (double)o->tokens_out);
    er_json_add(j, "usage", u);
}

static void print_line(cJSON *j)
{
    char *text = er_json_print(j);
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    cJSON_Delete(j);
}

void cli_stream_json_event(const cJSON *ev)
{
    const char *kind = er_json_str(ev, "kind");
    if (!kind)
        return;
    const cJSON *d = er_json_obj(ev, "data");
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "type", er_str_eq(kind, "llm") ? "step" : kind);
    er_json_add_str(j, "task_id", er_json_str(ev, "task_id"));
    if (er_str_eq(kind, "token")) {
        er_json_add_str(j, "agent", er_json_str(d, "agent"));
        er_json_add_str(j, "text", er_json_str(d, "text"));
    } else {
        er_json_add(j, "data", d ? cJSON_Duplicate(d, true) : cJSON_CreateObject());
    }
    print_line(j);
}

void cli_stream_json_result(const cli_outcome *o)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "type", "result");
    er_json_add_str(j, "task_id", o->task_id);
    er_json_add_str(j, "conversation_id", o->conversation_id);
    er_json_add_str(j, "agent", o->agent);
    er_json_add_str(j, "status", er_task_status_name(o->status));
    er_json_add_str(j, "answer", o->answer);
    er_json_add_str(j, "error", o->error);
    add_usage(j, o);
    print_line(j);
}

static void print_json(const cli_outcome *o)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "task_id", o->task_id);
    er_json_add_str(j, "conversation_id", o->conversation_id);
    er_json_add_str(j, "agent", o->agent);
    /* Every agent the request went to ("agent" is "supervisor" for a compound one). */
    cJSON *agents = cJSON_CreateArray();
    const cJSON *st;
    cJSON_ArrayForEach(st, er_json_arr(o->route, "steps")) if (er_json_str(st, "agent"))
        er_json_append(agents, cJSON_CreateString(er_json_str(st, "agent")));
    if (!cJSON_GetArraySize(agents) && o->agent)
        er_json_append(agents, cJSON_CreateString(o->agent));
    er_json_add(j, "agents", agents);
    er_json_add_str(j, "status", er_task_status_name(o->status));
    er_json_add_str(j, "answer", o->answer);
    er_json_add_str(j, "error", o->error);
    add_usage(j, o);
    if (o->route)
        er_json_add(j, "route", cJSON_Duplicate(o->route, true));
    er_json_add(j, "steps", o->steps ? cJSON_Duplicate(o->steps, true) : cJSON_CreateArray());
    if (o->interrupted)
        er_json_add(j, "interrupted", cJSON_Duplicate(o->interrupted, true));
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
}


int cli_outcome_exit(const cli_outcome *o)
{
    if (o->status == ER_TASK_DONE)
        return EXIT_DONE;
    int e = cli_exit_for(o->error_code);
    return e == EXIT_UNAVAIL ? EXIT_UNAVAIL : EXIT_FAILED;
}

#define ATTACH_MAX (1024 * 1024) /* piped text or one -f file */

/* Standard input when something is piped or redirected into it (a terminal
 * is left alone: that is where approvals are asked).  Waiting for a slow
 * producer is right — `make 2>&1 | errand ask "why?"` — but is said once. */
static int read_piped(er_buf *out, er_error *err)
{
    struct stat st;
    if (isatty(STDIN_FILENO) || fstat(STDIN_FILENO, &st) != 0 ||
        !(S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode)))
        return 0;
    struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
    if (!S_ISREG(st.st_mode) && poll(&p, 1, 1000) == 0 && isatty(STDERR_FILENO))
        fprintf(stderr, "errand: reading the request's input from standard input "
                        "(Ctrl-D ends it; </dev/null to give none)\n");
    er_buf_init(out, ATTACH_MAX);
    char chunk[65536];
    ssize_t n;
    while ((n = read(STDIN_FILENO, chunk, sizeof chunk)) > 0)
        if (er_buf_append(out, chunk, (size_t)n) != 0)
            return er_error_set(err, ER_ETOOBIG,
                                "standard input is over %d KB; save it to a "
                                "file in the workspace and name it in the request",
                                ATTACH_MAX / 1024);
    if (n < 0)
        return er_error_set(err, ER_EIO, "cannot read standard input: %s", strerror(errno));
    /* The pipe is spent; approvals are asked on the terminal, when someone
     * is at one (cat f | errand ask "fix it" can still ask before writing). */
    int tty = isatty(STDERR_FILENO) ? open("/dev/tty", O_RDONLY | O_CLOEXEC) : -1;
    if (tty >= 0) {
        dup2(tty, STDIN_FILENO);
        close(tty);
    }
    return 0;
}

int cli_attach_file(er_buf *req, const char *path, const char *name, const char *via, er_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return er_error_set(err, ER_ENOTFOUND, "cannot open '%s' (%s): %s", name, via,
                            strerror(errno));
    er_buf b;
    er_buf_init(&b, ATTACH_MAX);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (er_buf_append(&b, chunk, n) != 0)
            rc = er_error_set(err, ER_ETOOBIG,
                              "'%s' is over %d KB; name it in the request "
                              "instead (the code agent reads files)",
                              name, ATTACH_MAX / 1024);
    if (rc == 0 && ferror(f))
        rc = er_error_set(err, ER_EIO, "cannot read '%s': %s", name, strerror(errno));
    if (rc == 0 && b.len && memchr(b.ptr, '\0', b.len))
        rc = er_error_set(err, ER_EINVAL, "'%s' is binary; %s attaches text", name, via);
    fclose(f);
    if (rc == 0)
        er_buf_printf(req, "\n\nFile %s:\n```\n%s%s```", name, er_buf_cstr(&b),
                      b.len && b.ptr[b.len - 1] != '\n' ? "\n" : "");
    er_buf_release(&b);
    return rc;
}

/* The request: the words given ('-': standard input), then what was piped
 * in, then every -f file.  OWNED *out, "" when there is nothing. */
static int build_request(char **out, const cli_args *a, er_error *err)
{
    er_buf req = ER_BUF_INIT;
    int rc = 0;
    bool dash = a->npos == 1 && strcmp(a->pos[0], "-") == 0;
    if (a->npos) {
        char *words = cli_join(a, 0);
        er_buf_puts(&req, words);
        free(words);
    }
    if (!dash) {
        er_buf in = ER_BUF_INIT;
        rc = read_piped(&in, err);
        char *text = er_str_trim(er_buf_detach(&in));
        if (rc == 0 && *text)
            er_buf_printf(&req, "%s%s", req.len ? "\n\n" : "", text);
        free(text);
    }
    for (size_t i = 0; rc == 0 && i < a->nopts; i++)
        if (strcmp(a->opts[i]->name, "file") == 0)
            rc = cli_attach_file(&req, a->values[i], a->values[i], "-f", err);
    char *s = er_buf_detach(&req);
    *out = er_xstrdup(er_str_trim(s));
    free(s);
    return rc;
}

int cmd_ask(cli *c, cli_args *a)
{
    /* An unknown agent is a typo to fix, not a task to store and fail. */
    const char *agent = cli_value(a, "agent");
    if (agent && !er_agent_find(agent))
        return cli_usage_error("ask", "no agent named '%s' (see `errand agents`)", agent);
    er_error err = { 0 };
    int rc = cli_env(c, &err);
    if (rc)
        return cli_fail(&err);
    char *request = NULL;
    if (build_request(&request, a, &err)) {
        free(request);
        return cli_fail(&err);
    }
    if (!*request) {
        free(request);
        if (a->npos == 0)
            return cli_usage_error("ask", "what should errand do? (errand ask \"request\", or "
                                          "pipe it in: echo request | errand ask)");
        return cli_usage_error("ask", "the request is empty");
    }
    bool json = cli_flag(a, "json"), stream_json = false;
    const char *format = cli_value(a, "output-format");
    if (format && strcmp(format, "json") == 0)
        json = true;
    else if (format && strcmp(format, "stream-json") == 0)
        stream_json = true;
    else if (format && strcmp(format, "text") != 0) {
        free(request);
        return cli_usage_error("ask", "--output-format '%s': say text, json or stream-json",
                               format);
    }
    if (json && stream_json) {
        free(request);
        return cli_usage_error("ask", "--json and --output-format stream-json: choose one");
    }
    bool quiet = json || stream_json; /* stdout is for JSON only */
    er_submit s = { .request = request,
                    .agent = agent,
                    .approve_all = cli_flag(&c->global, "yes") };
    const char *conv = cli_value(a, "conversation");
    char conv_id[ER_ID_LEN];
    rc = conv ? cli_resolve_conv(c, conv, conv_id, &err) : cli_resume_conv(c, conv_id, &err);
    if (rc) {
        free(request);
        return cli_fail(&err);
    }
    s.conversation_id = conv_id[0] ? conv_id : NULL;
    cli_view v = { .stream = !quiet && !cli_flag(a, "no-stream"),
                   .interactive = !quiet && isatty(STDIN_FILENO) && isatty(STDERR_FILENO),
                   .progress = !quiet && isatty(STDERR_FILENO),
                   .spinner = !quiet && isatty(STDERR_FILENO) && !er_str_eq(getenv("TERM"), "dumb"),
                   .charts = !quiet && isatty(STDOUT_FILENO),
                   .collect_steps = json,
                   .stream_json = stream_json };
    /* On a terminal a model's Markdown is laid out; piped it stays raw.  The
     * offline brain answers with tool output (diffs, file text), not Markdown. */
    if (!quiet && isatty(STDOUT_FILENO) &&
        !er_str_eq(er_config_llm_provider(er_env_config(c->env)), "offline"))
        v.md = er_md_new(cli_term_cols(STDOUT_FILENO), cli_colour() ? ER_MD_ANSI : 0);
    cli_install_sigint();
    cli_outcome o;
    rc = cli_run_request(c, &s, &v, &o, &err);
    free(request);
    cli_end_answer(&v);
    if (rc) {
        er_md_free(v.md);
        cli_outcome_release(&o);
        return cli_fail(&err);
    }
    if (json) {
        print_json(&o);
    } else if (stream_json) {
        cli_stream_json_result(&o);
    } else if (o.status == ER_TASK_DONE) {
        if (!o.streamed && o.answer)
            cli_put_answer(&v, o.answer);
        cli_end_answer(&v);
        size_t n = o.answer ? strlen(o.answer) : 0;
        if (o.streamed || n == 0 || o.answer[n - 1] != '\n')
            putchar('\n');
        /* The stored answer says it too, but the stream was the model's text only. */
        if (o.streamed && o.interrupted)
            fprintf(stderr,
                    "errand: %d tool call%s interrupted by a worker restart and not "
                    "repeated; check %s effect (errand task show %s)\n",
                    cJSON_GetArraySize(o.interrupted),
                    cJSON_GetArraySize(o.interrupted) == 1 ? " was" : "s were",
                    cJSON_GetArraySize(o.interrupted) == 1 ? "its" : "their", o.task_id);
    }
    if (o.status != ER_TASK_DONE && !quiet) {
        fprintf(stderr, "errand: task %s: %s\n", er_task_status_name(o.status),
                o.error ? o.error : "no reason given");
        char *hint = cli_llm_hint(c, &o);
        if (hint)
            fprintf(stderr, "errand: %s\n", hint);
        free(hint);
    }
    rc = cli_outcome_exit(&o);
    er_md_free(v.md);
    cli_outcome_release(&o);
    return rc;
}
