/* undo.c — /undo in the TUI: the checkpoints of this conversation's tasks
 * (checkpoint.h), what undoing one would restore, and the undo itself once
 * confirmed, for the TUI and the REPL.  The same module as `errand undo`
 * does the work.
 *
 *   /undo            shows what undoing the newest checkpoint of the
 *                    conversation would do, and puts "/undo yes ID" in the
 *                    input line: Enter confirms, clearing the line does not
 *   /undo ID         the same for a checkpoint named by its task id (prefix)
 *   /undo list       the conversation's checkpoints, with their steps
 *   /undo yes ID     restores (refused, naming them, when files changed since)
 *   /undo force ID   restores even over files changed since
 * and any of them with "step N" after it (/undo step 2, /undo ID step 2,
 * /undo yes ID step 2): only steps N and later of the task. */
#include "tui.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/checkpoint.h"
#include "errand/json.h"
#include "errand/str.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX 10 /* checkpoints /undo list shows */

/* The checkpoints of the conversation's tasks, newest first: OWNED array. */
static cJSON *conversation_checkpoints(er_env *env, const char *conv, er_error *err)
{
    cJSON *all = NULL, *mine = cJSON_CreateArray();
    er_store *st;
    if (!*conv || er_checkpoint_list(&all, err)) {
        cJSON_Delete(all);
        return mine;
    }
    if (er_env_store(env, &st, err)) {
        cJSON_Delete(all);
        return mine;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, all)
    {
        er_task t;
        er_error e = { 0 };
        if (er_store_task_get(st, er_json_str(c, "id"), &t, &e))
            continue; /* another database's task */
        if (er_str_eq(t.conversation_id, conv))
            er_json_append(mine, cJSON_Duplicate(c, true));
        er_task_release(&t);
    }
    cJSON_Delete(all);
    return mine;
}

static void names(er_buf *b, const char *verb, const cJSON *list)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, list) er_buf_printf(b, "\n  %s %s", verb, n->valuestring);
}

/* "\n  step 2 (code/writer): a.txt, b.txt (undone)" per step. */
static void steps(er_buf *b, const cJSON *list)
{
    const cJSON *st;
    cJSON_ArrayForEach(st, list)
    {
        int n = (int)er_json_num(st, "step", 0);
        if (n > 0)
            er_buf_printf(b, "\n  step %d", n);
        else
            er_buf_puts(b, "\n  (no step recorded)");
        const cJSON *x;
        int i = 0;
        cJSON_ArrayForEach(x, er_json_arr(st, "agents"))
            er_buf_printf(b, "%s%s", i++ ? ", " : " (", x->valuestring);
        er_buf_puts(b, i ? "):" : ":");
        i = 0;
        cJSON_ArrayForEach(x, er_json_arr(st, "files"))
            er_buf_printf(b, "%s%s", i++ ? ", " : " ", x->valuestring);
        if (er_json_bool(st, "undone", false))
            er_buf_puts(b, " (undone)");
    }
}

static void list(er_env *env, const char *conv, tui_undo_reply *out)
{
    er_error err = { 0 };
    cJSON *mine = conversation_checkpoints(env, conv, &err);
    er_buf b = ER_BUF_INIT;
    const cJSON *c;
    int shown = 0;
    cJSON_ArrayForEach(c, mine)
    {
        if (shown++ == LIST_MAX)
            break;
        char when[32];
        er_time_iso((int64_t)er_json_num(c, "created_ms", 0), when, sizeof when);
        int n = cJSON_GetArraySize(er_json_arr(c, "files"));
        er_buf_printf(&b, "%s%s  %s  %d file%s%s", b.len ? "\n" : "", er_json_str(c, "id"), when, n,
                      n == 1 ? "" : "s", er_json_bool(c, "undone", false) ? "  (undone)" : "");
        steps(&b, er_json_arr(c, "steps"));
    }
    out->error = err.code != 0;
    out->text = b.len ? er_xstrdup(b.ptr)
                      : er_xstrdup(err.code ? err.msg
                                            : "No checkpoints: no task of this conversation "
                                              "changed files");
    er_buf_release(&b);
    cJSON_Delete(mine);
}

/* " step N" of a command, or "". */
static void step_suffix(char *out, size_t n, int step)
{
    if (step > 0)
        snprintf(out, n, " step %d", step);
    else
        out[0] = '\0';
}

/* What undoing id (from step) would do; the confirmation when nothing
 * changed since. */
static void preview(const char *id, int step, tui_undo_reply *out)
{
    cJSON *plan;
    er_error err = { 0 };
    if (er_checkpoint_plan(id, step, &plan, &err)) {
        out->error = true;
        out->text = er_xstrdup(err.msg);
        return;
    }
    const char *cid = er_json_str(plan, "id");
    char sfx[32];
    step_suffix(sfx, sizeof sfx, step);
    er_buf b = ER_BUF_INIT;
    const char *again = er_json_bool(plan, "undone", false) ? " (undone already)" : "";
    if (step > 0)
        er_buf_printf(&b, "Undo steps %d and later of task %s in %s%s:", step, cid,
                      er_json_str(plan, "root"), again);
    else
        er_buf_printf(&b, "Undo task %s in %s%s:", cid, er_json_str(plan, "root"), again);
    names(&b, "restore", er_json_arr(plan, "restore"));
    names(&b, "remove ", er_json_arr(plan, "remove"));
    const cJSON *changed = er_json_arr(plan, "changed");
    if (cJSON_GetArraySize(changed)) {
        er_buf_puts(&b, "\nChanged since the task wrote them (undo refuses):");
        names(&b, "       ", changed);
        er_buf_printf(&b, "\n/undo force %s%s puts back the content from before %s anyway", cid,
                      sfx, step > 0 ? "that step" : "the task");
    } else if (!er_json_bool(plan, "undone", false) &&
               (cJSON_GetArraySize(er_json_arr(plan, "restore")) ||
                cJSON_GetArraySize(er_json_arr(plan, "remove")))) {
        out->confirm = er_xasprintf("/undo yes %s%s", cid, sfx);
    }
    er_buf_puts(&b, "\nIts changes by step (/undo ID step N undoes N and later):");
    steps(&b, er_json_arr(plan, "steps"));
    out->text = er_xstrdup(b.ptr);
    er_buf_release(&b);
    cJSON_Delete(plan);
}

static void restore(const char *id, int step, bool force, tui_undo_reply *out)
{
    if (!*id) {
        out->error = true;
        out->text = er_xasprintf("/undo %s takes the checkpoint's id (/undo shows it)",
                                 force ? "force" : "yes");
        return;
    }
    cJSON *rep = NULL;
    er_error err = { 0 };
    if (er_checkpoint_undo(id, step, force, &rep, &err)) {
        out->error = true;
        out->text = er_xstrdup(err.msg);
    } else {
        er_buf b = ER_BUF_INIT;
        if (step > 0)
            er_buf_printf(&b, "Undid steps %d and later of task %s in %s", step,
                          er_json_str(rep, "id"), er_json_str(rep, "root"));
        else
            er_buf_printf(&b, "Undid task %s in %s", er_json_str(rep, "id"),
                          er_json_str(rep, "root"));
        names(&b, "restored", er_json_arr(rep, "restored"));
        names(&b, "removed ", er_json_arr(rep, "removed"));
        out->text = er_xstrdup(b.ptr);
        er_buf_release(&b);
    }
    cJSON_Delete(rep);
}

/* Takes "step N" out of the words: *step = N (0 when absent); false with
 * out's error when N is not a step number. */
static bool take_step(char **words, int *n, int *step, tui_undo_reply *out)
{
    *step = 0;
    for (int i = 0; i < *n; i++) {
        if (strcmp(words[i], "step") != 0)
            continue;
        long v = 0;
        if (i + 1 >= *n || er_str_to_long(words[i + 1], &v) != 0 || v < 1 || v > INT_MAX) {
            out->error = true;
            out->text = er_xstrdup("/undo … step N takes a step number (1, 2, …; /undo list "
                                   "shows them)");
            return false;
        }
        *step = (int)v;
        for (int j = i; j + 2 < *n; j++)
            words[j] = words[j + 2];
        *n -= 2;
        return true;
    }
    return true;
}

static void newest(er_env *env, const char *conv, int step, tui_undo_reply *out)
{
    er_error err = { 0 };
    cJSON *mine = conversation_checkpoints(env, conv, &err);
    const cJSON *c, *found = NULL;
    cJSON_ArrayForEach(c, mine) if (!found && !er_json_bool(c, "undone", false)) found = c;
    if (found) {
        preview(er_json_str(found, "id"), step, out);
    } else {
        out->error = err.code != 0;
        out->text = er_xstrdup(err.code ? err.msg
                                        : "Nothing to undo: no task of this conversation changed "
                                          "files since the last undo");
    }
    cJSON_Delete(mine);
}

void tui_undo_answer(er_env *env, const char *conv, const char *arg, tui_undo_reply *out)
{
    *out = (tui_undo_reply){ 0 };
    char *copy = er_xstrdup(arg), *words[8];
    int n = 0;
    for (char *p = copy; n < 8;) { /* split in place on blanks */
        p += strspn(p, " \t");
        if (!*p)
            break;
        words[n++] = p;
        p += strcspn(p, " \t");
        if (*p)
            *p++ = '\0';
    }
    int step = 0;
    if (!take_step(words, &n, &step, out)) {
        free(copy);
        return;
    }
    const char *verb = n ? words[0] : "";
    if (strcmp(verb, "list") == 0)
        list(env, conv, out);
    else if (strcmp(verb, "yes") == 0 || strcmp(verb, "force") == 0)
        restore(n > 1 ? words[1] : "", step, verb[0] == 'f', out);
    else if (n)
        preview(words[0], step, out);
    else
        newest(env, conv, step, out);
    free(copy);
}

void tui_undo_reply_release(tui_undo_reply *r)
{
    free(r->text);
    free(r->confirm);
}

void tui_undo(tui_app *a, const char *arg)
{
    if (tui_session_running(a)) {
        tui_set_status(a, true, "A task is running: /undo once it ends (or /cancel it)");
        return;
    }
    tui_undo_reply r;
    tui_undo_answer(a->env, tui_session_conv_id(a), arg, &r);
    if (r.confirm) {
        char *text = er_xasprintf("%s\nEnter restores them (the input line holds /undo yes); "
                                  "clear the line to keep the files as they are",
                                  r.text);
        tui_chat_add(a->chat, TUI_ENTRY_NOTE, NULL, text);
        free(text);
        tui_input_set_text(a, r.confirm);
    } else {
        tui_chat_add(a->chat, r.error ? TUI_ENTRY_ERROR : TUI_ENTRY_NOTE, NULL, r.text);
    }
    tui_undo_reply_release(&r);
}
