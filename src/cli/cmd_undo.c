/* cmd_undo.c — `errand undo [CHECKPOINT]`: puts back the files a task's file
 * tools changed (checkpoint.h). */
#include "cli.h"
#include "errand/checkpoint.h"
#include "errand/json.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>

static void print_json(const cJSON *j)
{
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
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
            printf("%s  %s  %d file%s%s  %s\n", er_json_str(c, "id"), when,
                   cJSON_GetArraySize(er_json_arr(c, "files")),
                   cJSON_GetArraySize(er_json_arr(c, "files")) == 1 ? "" : "s",
                   er_json_bool(c, "undone", false) ? "  (undone)" : "", er_json_str(c, "root"));
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

int cmd_undo(cli *c, cli_args *a)
{
    (void)c;
    bool json = cli_flag(a, "json");
    if (a->npos > 1)
        return cli_usage_error("undo", "unexpected argument '%s'", a->pos[1]);
    if (cli_flag(a, "list"))
        return a->npos ? cli_usage_error("undo", "--list takes no checkpoint") : undo_list(json);
    cJSON *rep = NULL;
    er_error err = { 0 };
    int rc = er_checkpoint_undo(a->npos ? a->pos[0] : NULL, cli_flag(a, "force"), &rep, &err);
    if (rc && rc != ER_ECONFLICT) {
        cJSON_Delete(rep);
        return cli_fail(&err);
    }
    if (json && rep) {
        if (rc)
            er_json_add_str(rep, "error", err.msg);
        print_json(rep);
    } else if (rc == 0) {
        printf("undid task %s in %s\n", er_json_str(rep, "id"), er_json_str(rep, "root"));
        print_names("restored", er_json_arr(rep, "restored"));
        print_names("removed ", er_json_arr(rep, "removed"));
    }
    if (rc)
        fprintf(stderr, "errand: %s\n", err.msg);
    cJSON_Delete(rep);
    return rc ? EXIT_FAILED : EXIT_DONE;
}
