/* cmd_conv.c — `errand conv export` and `errand conv delete`: a conversation
 * written out as Markdown or JSON, and removed with its messages. */
#include "cli.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct export_ctx {
    bool json;
    er_buf *md;
    cJSON *msgs;
    size_t n;
} export_ctx;

static int add_msg(const er_message *m, void *payload)
{
    export_ctx *x = payload;
    x->n++;
    if (x->json) {
        cJSON *j = cJSON_CreateObject();
        char ts[32];
        er_time_iso(m->created_ms, ts, sizeof ts);
        er_json_add_str(j, "role", m->role);
        er_json_add_str(j, "content", m->content);
        er_json_add_str(j, "task_id", m->task_id[0] ? m->task_id : NULL);
        er_json_add_str(j, "created", ts);
        er_json_append(x->msgs, j);
        return 0;
    }
    /* A heading per message; the content is Markdown already (a model's
     * answer) or the user's words, written as they are. */
    const char *who = er_str_eq(m->role, "user")        ? "You"
                      : er_str_eq(m->role, "assistant") ? "Assistant"
                                                        : m->role;
    er_buf_printf(x->md, "## %s\n\n%s\n\n", who, m->content ? m->content : "");
    return 0;
}

/* The text of the export (OWNED), *count the messages in it. */
static int export_text(er_store *st, const er_conversation *cv, bool json, char **out,
                       size_t *count, er_error *err)
{
    er_buf md = ER_BUF_INIT;
    export_ctx x = { json, &md, cJSON_CreateArray(), 0 };
    char created[32], updated[32];
    er_time_iso(cv->created_ms, created, sizeof created);
    er_time_iso(cv->updated_ms, updated, sizeof updated);
    if (!json)
        er_buf_printf(&md, "# %s\n\n_Conversation %s, %s to %s (errand)_\n\n",
                      er_str_empty(cv->title) ? "Conversation" : cv->title, cv->id, created,
                      updated);
    int rc = er_store_msg_list(st, cv->id, 0, add_msg, &x, err);
    if (rc) {
        cJSON_Delete(x.msgs);
        er_buf_release(&md);
        return rc;
    }
    if (json) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "id", cv->id);
        er_json_add_str(j, "title", cv->title);
        er_json_add_str(j, "created", created);
        er_json_add_str(j, "updated", updated);
        er_json_add(j, "messages", x.msgs);
        char *text = cJSON_Print(j);
        er_buf_printf(&md, "%s\n", text);
        free(text);
        cJSON_Delete(j);
    } else {
        cJSON_Delete(x.msgs);
    }
    *count = x.n;
    *out = er_buf_detach(&md);
    return 0;
}

static int write_file(const char *path, const char *text, er_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return er_error_set(err, ER_EIO, "cannot write '%s': %s", path, strerror(errno));
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : er_error_set(err, ER_EIO, "cannot write '%s': %s", path, strerror(errno));
}

int cli_conv_export(er_store *st, const er_conversation *cv, cli_args *a)
{
    const char *format = cli_value(a, "format");
    bool json = cli_flag(a, "json");
    if (format && !er_str_eq(format, "markdown") && !er_str_eq(format, "md") &&
        !er_str_eq(format, "json"))
        return cli_usage_error("conv", "--format '%s': say markdown or json", format);
    if (format)
        json = er_str_eq(format, "json");
    er_error err = { 0 };
    char *text;
    size_t n;
    if (export_text(st, cv, json, &text, &n, &err))
        return cli_fail(&err);
    const char *path = cli_value(a, "output");
    int rc = 0;
    if (path) {
        rc = write_file(path, text, &err);
        if (!rc)
            fprintf(stderr, "errand: wrote %zu message%s to %s\n", n, n == 1 ? "" : "s", path);
    } else {
        fputs(text, stdout);
    }
    free(text);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

/* On a terminal, asks before deleting; anything but y or yes keeps it. */
static bool confirmed(const er_conversation *cv, size_t n)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
        return true;
    fprintf(stderr, "Delete conversation %.13s \"%s\" (%zu message%s)? [y/N] ", cv->id,
            cv->title ? cv->title : "", n, n == 1 ? "" : "s");
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return false;
    line[strcspn(line, "\n")] = '\0';
    return er_str_eq(line, "y") || er_str_eq(line, "Y") || er_str_eq(line, "yes");
}

static int count_msg(const er_message *m, void *payload)
{
    (void)m;
    (*(size_t *)payload)++;
    return 0;
}

int cli_conv_delete(cli *c, er_store *st, const er_conversation *cv)
{
    er_error err = { 0 };
    size_t n = 0;
    if (er_store_msg_list(st, cv->id, 0, count_msg, &n, &err))
        return cli_fail(&err);
    if (!cli_flag(&c->global, "yes") && !confirmed(cv, n)) {
        fprintf(stderr, "errand: kept %s\n", cv->id);
        return EXIT_FAILED;
    }
    if (er_store_conv_delete(st, cv->id, &err))
        return cli_fail(&err);
    printf("deleted %s (%zu message%s)\n", cv->id, n, n == 1 ? "" : "s");
    return EXIT_DONE;
}
