/* cmd_undo.c — `errand undo [CHECKPOINT] [--step N]`: puts back the files a
 * task's file tools changed, all of them or from one of its steps on
 * (checkpoint.h); --list and --show say what there is to undo. */
#include "cli.h"
#include "errand/checkpoint.h"
#include "errand/json.h"
#include "errand/str.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static void print_json(const cJSON *j)
{
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
}

/* "a.txt, b.txt" */
static void print_list(const cJSON *names)
{
    const cJSON *n;
    int i = 0;
    cJSON_ArrayForEach(n, names) printf("%s%s", i++ ? ", " : "", n->valuestring);
}

/* One line per step: "  step 2 (code/writer): a.txt, b.txt  (undone)". */
static void print_steps(const cJSON *steps)
{
    const cJSON *st;
    cJSON_ArrayForEach(st, steps)
    {
        int n = (int)er_json_num(st, "step", 0);
        if (n > 0)
            printf("  step %d", n);
        else
            printf("  (no step recorded)");
        if (cJSON_GetArraySize(er_json_arr(st, "agents"))) {
            printf(" (");
            print_list(er_json_arr(st, "agents"));
            printf(")");
        }
        printf(": ");
        print_list(er_json_arr(st, "files"));
        puts(er_json_bool(st, "undone", false) ? "  (undone)" : "");
    }
}

static int undo_list(bool json)
{
    cJSON *all;
    er_error err = { 0 };
    if (er_checkpoint_list(&all, &err))
        return cli_fail(&err);
    if (json) {
        print_json(all);
    } else if (!cJSON_GetArraySize(all)) {
        puts("no checkpoints: no task has changed files");
    } else {
        const cJSON *c;
        cJSON_ArrayForEach(c, all)
        {
            char when[32];
            er_time_iso((int64_t)er_json_num(c, "created_ms", 0), when, sizeof when);
            int n = cJSON_GetArraySize(er_json_arr(c, "files"));
            printf("%s  %s  %d file%s%s  %s\n", er_json_str(c, "id"), when, n, n == 1 ? "" : "s",
                   er_json_bool(c, "undone", false) ? "  (undone)" : "", er_json_str(c, "root"));
            print_steps(er_json_arr(c, "steps"));
        }
    }
    cJSON_Delete(all);
    return EXIT_DONE;
}

static void print_names(const char *verb, const cJSON *names)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, names) printf("%s %s\n", verb, n->valuestring);
}

/* --show: the checkpoint's steps and what undoing it (from --step) would do. */
static int undo_show(const char *id, int step, bool json)
{
    cJSON *plan;
    er_error err = { 0 };
    if (er_checkpoint_plan(id, step, &plan, &err))
        return cli_fail(&err);
    if (json) {
        print_json(plan);
    } else {
        printf("task %s in %s%s\n", er_json_str(plan, "id"), er_json_str(plan, "root"),
               er_json_bool(plan, "undone", false) ? "  (undone)" : "");
        print_steps(er_json_arr(plan, "steps"));
        if (step > 0)
            printf("undo --step %d would:\n", step);
        else
            printf("undo would:\n");
        print_names("  restore", er_json_arr(plan, "restore"));
        print_names("  remove ", er_json_arr(plan, "remove"));
        if (cJSON_GetArraySize(er_json_arr(plan, "changed"))) {
            printf("changed since the task wrote them (undo refuses without --force):\n");
            print_names("  ", er_json_arr(plan, "changed"));
        }
    }
    cJSON_Delete(plan);
    return EXIT_DONE;
}

int cmd_undo(cli *c, cli_args *a)
{
    (void)c;
    bool json = cli_flag(a, "json");
    if (a->npos > 1)
        return cli_usage_error("undo", "unexpected argument '%s'", a->pos[1]);
    long step = 0;
    const char *sv = cli_value(a, "step");
    if (sv && (er_str_to_long(sv, &step) != 0 || step < 1 || step > INT_MAX))
        return cli_usage_error("undo",
                               "--step takes a step number (1, 2, …; errand undo "
                               "--list shows them), not '%s'",
                               sv);
    if (cli_flag(a, "list"))
        return a->npos || sv ? cli_usage_error("undo", "--list takes no checkpoint or step")
                             : undo_list(json);
    const char *id = a->npos ? a->pos[0] : NULL;
    if (cli_flag(a, "show"))
        return undo_show(id, (int)step, json);
    cJSON *rep = NULL;
    er_error err = { 0 };
    int rc = er_checkpoint_undo(id, (int)step, cli_flag(a, "force"), &rep, &err);
    if (rc && rc != ER_ECONFLICT) {
        cJSON_Delete(rep);
        return cli_fail(&err);
    }
    if (json && rep) {
        if (rc)
            er_json_add_str(rep, "error", err.msg);
        print_json(rep);
    } else if (rc == 0) {
        if (step > 0)
            printf("undid steps %ld and later of task %s in %s\n", step, er_json_str(rep, "id"),
                   er_json_str(rep, "root"));
        else
            printf("undid task %s in %s\n", er_json_str(rep, "id"), er_json_str(rep, "root"));
        print_names("restored", er_json_arr(rep, "restored"));
        print_names("removed ", er_json_arr(rep, "removed"));
    }
    if (rc)
        fprintf(stderr, "errand: %s\n", err.msg);
    cJSON_Delete(rep);
    return rc ? EXIT_FAILED : EXIT_DONE;
}
