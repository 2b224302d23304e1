/* cmd_audit.c — `errand audit verify|list`: the hash-chained log of
 * side-effecting tool calls (audit.h). */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/audit.h"
#include "errand/json.h"
#include "errand/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int audit_verify(const char *path, bool json)
{
    er_audit_report rep;
    er_error err = { 0 };
    int rc = er_audit_verify(path, &rep, &err);
    if (rc && rc != ER_ECONFLICT)
        return cli_fail(&err);
    if (json) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "path", path);
        er_json_add_bool(j, "intact", rc == 0);
        er_json_add_num(j, "entries", (double)rep.entries);
        er_json_add_str(j, "head", rep.head);
        if (rc) {
            er_json_add_num(j, "bad_entry", (double)rep.bad_line);
            er_json_add_str(j, "problem", rep.problem);
        }
        char *text = cJSON_Print(j);
        puts(text);
        free(text);
        cJSON_Delete(j);
    } else if (rc == 0) {
        printf("audit log %s: intact, %ld entries%s%s\n", path, rep.entries,
               rep.entries ? ", head " : "", rep.entries ? rep.head : "");
    } else {
        fprintf(stderr, "errand: %s\n", err.msg);
    }
    return rc ? EXIT_FAILED : EXIT_DONE;
}

static int audit_list(const char *path, bool json, long limit)
{
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT) {
        if (json)
            puts("[]");
        return EXIT_DONE;
    }
    if (!f) {
        er_error err = { 0 };
        er_error_set(&err, ER_EIO, "cannot read the audit log '%s': %s", path, strerror(errno));
        return cli_fail(&err);
    }
    cJSON *all = cJSON_CreateArray();
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        cJSON *e = cJSON_Parse(line);
        if (e)
            er_json_append(all, e);
        if (limit > 0 && cJSON_GetArraySize(all) > limit)
            cJSON_DeleteItemFromArray(all, 0);
    }
    free(line);
    fclose(f);
    if (json) {
        char *text = cJSON_Print(all);
        puts(text);
        free(text);
    } else {
        const cJSON *e;
        cJSON_ArrayForEach(e, all)
        {
            char when[32];
            er_time_iso((int64_t)er_json_num(e, "ts", 0), when, sizeof when);
            printf("%s %-8s %-12s %-7s %-10s %s %.80s\n", when, er_json_str(e, "outcome"),
                   er_json_str(e, "approval"), er_json_str(e, "perm"), er_json_str(e, "agent"),
                   er_json_str(e, "tool"), er_json_str(e, "arguments"));
        }
    }
    cJSON_Delete(all);
    return EXIT_DONE;
}

int cmd_audit(cli *c, cli_args *a)
{
    er_error err = { 0 };
    if (a->npos != 1)
        return cli_usage_error("audit", "say verify or list");
    long limit = 20;
    const char *n = cli_value(a, "limit");
    if (n && (er_str_to_long(n, &limit) || limit < 0))
        return cli_usage_error("audit", "--limit '%s' is not a number", n);
    if (cli_env(c, &err))
        return cli_fail(&err);
    char *path = er_audit_path(er_env_config(c->env)->audit_path, &err);
    if (!path)
        return cli_fail(&err);
    int rc;
    if (strcmp(a->pos[0], "verify") == 0)
        rc = audit_verify(path, cli_flag(a, "json"));
    else if (strcmp(a->pos[0], "list") == 0)
        rc = audit_list(path, cli_flag(a, "json"), limit);
    else
        rc = cli_usage_error("audit", "'%s': say verify or list", a->pos[0]);
    free(path);
    return rc;
}
