/* cmd_task.c — `errand task` and `errand conv`: list, show, cancel. */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cJSON *task_json(const er_task *t)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", t->id);
    er_json_add_str(j, "parent_id", t->parent_id[0] ? t->parent_id : NULL);
    er_json_add_str(j, "conversation_id", t->conversation_id[0] ? t->conversation_id : NULL);
    er_json_add_str(j, "status", er_task_status_name(t->status));
    er_json_add_str(j, "agent", t->agent);
    er_json_add_str(j, "request", t->request);
    er_json_add_str(j, "result", t->result);
    er_json_add_str(j, "error", t->error);
    er_json_add_num(j, "tokens_in", (double)t->tokens_in);
    er_json_add_num(j, "tokens_out", (double)t->tokens_out);
    char ts[32];
    er_time_iso(t->created_ms, ts, sizeof ts);
    er_json_add_str(j, "created", ts);
    er_time_iso(t->updated_ms, ts, sizeof ts);
    er_json_add_str(j, "updated", ts);
    er_json_add_num(j, "attempts", t->attempt);
    if (t->deadline_ms) {
        er_time_iso(t->deadline_ms, ts, sizeof ts);
        er_json_add_str(j, "deadline", ts);
    }
    return j;
}

static void print_json(cJSON *j)
{
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
}

typedef struct list_ctx {
    bool json;
    cJSON *arr;
    int n;
    er_strv waiting; /* tasks parked on an approval */
} list_ctx;

/* A running task parked on an approval reads "waiting". */
static const char *status_shown(const list_ctx *l, const er_task *t)
{
    if (t->status == ER_TASK_RUNNING && er_tasks_is_waiting(&l->waiting, t->id))
        return "waiting";
    return er_task_status_name(t->status);
}

static int print_task_row(const er_task *t, void *payload)
{
    list_ctx *l = payload;
    l->n++;
    if (l->json) {
        cJSON *j = task_json(t);
        if (er_str_eq(status_shown(l, t), "waiting"))
            er_json_add_bool(j, "waiting", true);
        er_json_append(l->arr, j);
        return 0;
    }
    char ts[32];
    er_time_iso(t->created_ms, ts, sizeof ts);
    ts[19] = '\0';
    double secs = (double)(t->updated_ms - t->created_ms) / 1000.0;
    printf("%.13s  %-9s  %-10s  %s  %6.1fs  %.50s%s\n", t->id, status_shown(l, t),
           t->agent ? t->agent : "-", ts + 5, secs, t->request, strlen(t->request) > 50 ? "…" : "");
    return 0;
}

static int task_list(cli *c, cli_args *a, er_store *st)
{
    er_error err = { 0 };
    er_task_filter f = { .parent_id = "", .status = -1, .limit = 20 };
    const char *status = cli_value(a, "status"), *limit = cli_value(a, "limit");
    er_task_status s;
    if (status) {
        if (er_task_status_parse(status, &s))
            return cli_usage_error("task", "unknown status '%s'", status);
        f.status = (int)s;
    }
    long n;
    if (limit) {
        if (er_str_to_long(limit, &n) || n <= 0)
            return cli_usage_error("task", "--limit needs a positive number");
        f.limit = n > INT_MAX ? INT_MAX : (int)n; /* "all of them", not n mod 2^32 */
    }
    (void)c;
    list_ctx l = { cli_flag(a, "json"), cJSON_CreateArray(), 0, er_tasks_waiting(st) };
    if (!l.json)
        printf("%-13s  %-9s  %-10s  %-14s  %7s  %s\n", "ID", "STATUS", "AGENT", "CREATED", "TIME",
               "REQUEST");
    int rc = er_store_task_list(st, &f, print_task_row, &l, &err);
    er_strv_free(&l.waiting);
    if (l.json)
        print_json(l.arr);
    else
        cJSON_Delete(l.arr);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

static int print_event(const er_event *e, void *payload)
{
    if (payload) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_num(j, "id", (double)e->id);
        er_json_add_str(j, "task_id", e->task_id);
        er_json_add_str(j, "kind", e->kind);
        cJSON *d = cJSON_Parse(e->data ? e->data : "null");
        er_json_add(j, "data", d ? d : cJSON_CreateNull());
        er_json_append(payload, j);
        return 0;
    }
    char ts[32];
    er_time_iso(e->created_ms, ts, sizeof ts);
    printf("  %s  %-16s %.200s\n", ts + 11, e->kind, e->data ? e->data : "");
    return 0;
}

static int print_child(const er_task *t, void *payload)
{
    (void)payload;
    printf("  step %.13s  %-9s %-9s %s\n", t->id, er_task_status_name(t->status),
           t->agent ? t->agent : "-", t->request);
    return 0;
}

static int task_show(cli_args *a, er_store *st, const char *id)
{
    er_error err = { 0 };
    er_task t;
    int rc = er_store_task_get(st, id, &t, &err);
    if (rc)
        return cli_fail(&err);
    if (cli_flag(a, "json")) {
        cJSON *j = task_json(&t);
        cJSON *events = cJSON_CreateArray();
        er_store_event_list(st, t.id, 0, print_event, events, NULL);
        er_json_add(j, "events", events);
        print_json(j);
    } else {
        printf("task      %s\nstatus    %s\nagent     %s\nrequest   %s\n", t.id,
               er_task_status_name(t.status), t.agent ? t.agent : "-", t.request);
        if (t.conversation_id[0])
            printf("conv      %s\n", t.conversation_id);
        printf("tokens    %lld in, %lld out\n", (long long)t.tokens_in, (long long)t.tokens_out);
        if (t.attempt) {
            char ts[32];
            er_time_iso(t.deadline_ms, ts, sizeof ts);
            printf("attempts  %d%s%s\n", t.attempt, t.deadline_ms ? ", deadline " : "",
                   t.deadline_ms ? ts : "");
        }
        er_task_wait w;
        if (t.status == ER_TASK_RUNNING && er_store_wait_get(st, t.id, &w, NULL) == 0) {
            char since[32], until[32];
            er_time_iso(w.created_ms, since, sizeof since);
            er_time_iso(w.expires_ms, until, sizeof until);
            printf("waiting   for the approval of %s call %s (since %s; denied at %s), no "
                   "worker held\n",
                   w.tool, w.call_id, since, until);
            er_task_wait_release(&w);
        }
        er_task_filter f = { .parent_id = t.id, .status = -1, .limit = 100 };
        er_store_task_list(st, &f, print_child, NULL, NULL);
        printf("events:\n");
        er_store_event_list(st, t.id, 0, print_event, NULL, NULL);
        if (t.result)
            printf("result:\n%s\n", t.result);
        if (t.error)
            printf("error: %s\n", t.error);
    }
    er_task_release(&t);
    return EXIT_DONE;
}

int cmd_task(cli *c, cli_args *a)
{
    if (a->npos == 0)
        return cli_usage_error("task", "say list, show ID or cancel ID");
    er_error err = { 0 };
    er_store *st;
    int rc = cli_env(c, &err);
    if (!rc)
        rc = er_env_store(c->env, &st, &err);
    if (rc)
        return cli_fail(&err);
    const char *sub = a->pos[0];
    bool list = strcmp(sub, "list") == 0;
    if (!list && strcmp(sub, "show") != 0 && strcmp(sub, "cancel") != 0)
        return cli_usage_error("task", "unknown subcommand '%s' (list, show, cancel)", sub);
    if (!list && a->npos < 2)
        return cli_usage_error("task", "%s needs a task ID", sub);
    if (a->npos > (list ? 1u : 2u))
        return cli_usage_error("task", "unexpected argument '%s'", a->pos[list ? 1 : 2]);
    if (!list && (cli_flag(a, "status") || cli_flag(a, "limit")))
        return cli_usage_error("task", "--status and --limit go with task list");
    if (strcmp(sub, "cancel") != 0)
        cli_reap_orphans(c); /* a killed process's tasks show as what they are */
    if (list)
        return task_list(c, a, st);
    char id[ER_ID_LEN];
    if (cli_resolve_task(c, a->pos[1], id, &err))
        return cli_fail(&err);
    if (strcmp(sub, "show") == 0)
        return task_show(a, st, id);
    if (er_task_cancel(c->env, id, &err))
        return cli_fail(&err);
    printf("cancelled %s\n", id);
    return EXIT_DONE;
}

static int print_conv_row(const er_conversation *cv, void *payload)
{
    list_ctx *l = payload;
    char ts[32];
    er_time_iso(cv->updated_ms, ts, sizeof ts);
    if (l->json) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "id", cv->id);
        er_json_add_str(j, "title", cv->title);
        er_json_add_str(j, "updated", ts);
        er_json_append(l->arr, j);
    } else {
        ts[19] = '\0';
        printf("%.13s  %s  %s\n", cv->id, ts + 5, cv->title ? cv->title : "");
    }
    return 0;
}

/* Roles in colour only on a terminal, and not with NO_COLOR: a pipe or a file
 * gets plain text. */
static bool colour;

static int print_msg(const er_message *m, void *payload)
{
    if (payload) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "role", m->role);
        er_json_add_str(j, "content", m->content);
        er_json_add_str(j, "task_id", m->task_id[0] ? m->task_id : NULL);
        er_json_append(payload, j);
    } else if (colour) {
        printf("%s%s:\033[0m %s\n\n", strcmp(m->role, "user") == 0 ? "\033[1m" : "\033[36m",
               m->role, m->content);
    } else {
        printf("%s: %s\n\n", m->role, m->content);
    }
    return 0;
}

int cmd_conv(cli *c, cli_args *a)
{
    if (a->npos == 0)
        return cli_usage_error("conv", "say list, show ID, export ID or delete ID");
    er_error err = { 0 };
    er_store *st;
    int rc = cli_env(c, &err);
    if (!rc)
        rc = er_env_store(c->env, &st, &err);
    if (rc)
        return cli_fail(&err);
    bool json = cli_flag(a, "json");
    bool list = strcmp(a->pos[0], "list") == 0;
    if (a->npos > (list ? 1u : 2u))
        return cli_usage_error("conv", "unexpected argument '%s'", a->pos[list ? 1 : 2]);
    if (list) {
        long n = 20;
        const char *limit = cli_value(a, "limit");
        if (limit && (er_str_to_long(limit, &n) || n <= 0))
            return cli_usage_error("conv", "--limit needs a positive number");
        list_ctx l = { json, cJSON_CreateArray(), 0, ER_STRV_INIT };
        rc = er_store_conv_list(st, NULL, n > INT_MAX ? INT_MAX : (int)n, print_conv_row, &l, &err);
        if (json)
            print_json(l.arr);
        else
            cJSON_Delete(l.arr);
        return rc ? cli_fail(&err) : EXIT_DONE;
    }
    const char *sub = a->pos[0];
    bool show = strcmp(sub, "show") == 0, export = strcmp(sub, "export") == 0;
    if (!show && !export && strcmp(sub, "delete") != 0)
        return cli_usage_error("conv", "unknown subcommand '%s' (list, show, export, delete)", sub);
    if (a->npos < 2)
        return cli_usage_error("conv", "%s needs a conversation ID", sub);
    if (!export && (cli_value(a, "format") || cli_value(a, "output")))
        return cli_usage_error("conv", "--format and --output go with conv export");
    char id[ER_ID_LEN];
    er_conversation cv;
    if (cli_resolve_conv(c, a->pos[1], id, &err) || er_store_conv_get(st, id, &cv, &err))
        return cli_fail(&err);
    if (!show) {
        rc = export ? cli_conv_export(st, &cv, a) : cli_conv_delete(c, st, &cv);
        er_conversation_release(&cv);
        return rc;
    }
    er_conversation_release(&cv);
    colour = isatty(STDOUT_FILENO) && cli_colour();
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    rc = er_store_msg_list(st, id, 0, print_msg, arr, &err);
    if (json)
        print_json(arr);
    return rc ? cli_fail(&err) : EXIT_DONE;
}
