/* cmd_ask.c — `errand ask`: one request through the whole flow. */
#include "cli.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    cJSON_ArrayForEach(st, er_json_arr(o->route, "steps"))
        if (er_json_str(st, "agent"))
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

int cmd_ask(cli *c, cli_args *a)
{
    if (a->npos == 0)
        return cli_usage_error("ask", "what should errand do? (errand ask \"request\")");
    /* An unknown agent is a typo to fix, not a task to store and fail. */
    const char *agent = cli_value(a, "agent");
    if (agent && !er_agent_find(agent))
        return cli_usage_error("ask", "no agent named '%s' (see `errand agents`)", agent);
    er_error err = { 0 };
    int rc = cli_env(c, &err);
    if (rc)
        return cli_fail(&err);
    char *request = cli_join(a, 0);
    if (!*request) {
        free(request);
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
    bool quiet = json || stream_json;   /* stdout is for JSON only */
    er_submit s = { .request = request, .agent = agent,
                    .approve_all = cli_flag(&c->global, "yes") };
    const char *conv = cli_value(a, "conversation");
    char conv_id[ER_ID_LEN];
    if (conv && (rc = cli_resolve_conv(c, conv, conv_id, &err)) != 0) {
        free(request);
        return cli_fail(&err);
    }
    s.conversation_id = conv ? conv_id : NULL;
    cli_view v = { .stream = !quiet && !cli_flag(a, "no-stream"),
                   .interactive = !quiet && isatty(STDIN_FILENO) && isatty(STDERR_FILENO),
                   .progress = !quiet && isatty(STDERR_FILENO),
                   .charts = !quiet && isatty(STDOUT_FILENO),
                   .collect_steps = json, .stream_json = stream_json };
    cli_install_sigint();
    cli_outcome o;
    rc = cli_run_request(c, &s, &v, &o, &err);
    free(request);
    if (rc) {
        cli_outcome_release(&o);
        return cli_fail(&err);
    }
    if (json) {
        print_json(&o);
    } else if (stream_json) {
        cli_stream_json_result(&o);
    } else if (o.status == ER_TASK_DONE) {
        if (!o.streamed && o.answer)
            fputs(o.answer, stdout);
        size_t n = o.answer ? strlen(o.answer) : 0;
        if (o.streamed || n == 0 || o.answer[n - 1] != '\n')
            putchar('\n');
        /* The stored answer says it too, but the stream was the model's text only. */
        if (o.streamed && o.interrupted)
            fprintf(stderr, "errand: %d tool call%s interrupted by a worker restart and not "
                    "repeated; check %s effect (errand task show %s)\n",
                    cJSON_GetArraySize(o.interrupted),
                    cJSON_GetArraySize(o.interrupted) == 1 ? " was" : "s were",
                    cJSON_GetArraySize(o.interrupted) == 1 ? "its" : "their", o.task_id);
    }
    if (o.status != ER_TASK_DONE && !quiet)
        fprintf(stderr, "errand: task %s: %s\n", er_task_status_name(o.status),
                o.error ? o.error : "no reason given");
    rc = cli_outcome_exit(&o);
    cli_outcome_release(&o);
    return rc;
}
