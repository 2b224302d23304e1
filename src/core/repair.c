/* repair.c — the runtime's answers to a misbehaving model (see repair.h):
 * what each kind of malformed answer gets told, when a run gives up, and the
 * bookkeeping behind that (failed calls by signature, files changed per
 * answer). */
#include "errand/repair.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/workspace.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void er_repair_init(er_repair *rp)
{
    memset(rp, 0, sizeof *rp);
}

void er_repair_writes_release(er_repair_writes *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->path[i]);
        free(w->by[i]);
    }
    w->n = 0;
}

/* ---- call ids ---- */

static bool same_call(const er_llm_tool_call *a, const er_llm_tool_call *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->arguments, b->arguments) == 0;
}

static bool id_taken(const er_llm_response *resp, size_t upto, const char *id)
{
    for (size_t j = 0; j < upto; j++)
        if (strcmp(resp->calls[j].id, id) == 0)
            return true;
    return false;
}

static void drop_call(er_llm_response *resp, size_t i)
{
    free(resp->calls[i].id);
    free(resp->calls[i].name);
    free(resp->calls[i].arguments);
    memmove(&resp->calls[i], &resp->calls[i + 1], (resp->ncalls - i - 1) * sizeof *resp->calls);
    resp->ncalls--;
}

size_t er_repair_call_ids(er_llm_response *resp)
{
    size_t changed = 0;
    for (size_t i = 1; i < resp->ncalls; i++) {
        size_t first = 0;
        while (first < i && strcmp(resp->calls[first].id, resp->calls[i].id) != 0)
            first++;
        if (first == i)
            continue;
        changed++;
        if (same_call(&resp->calls[first], &resp->calls[i])) {
            /* A server that repeated a call: doing it twice would double its effect. */
            er_log(ER_LOG_INFO, "runtime", "the model sent call %s twice; it runs once",
                   resp->calls[i].id);
            drop_call(resp, i--);
            continue;
        }
        /* Letters, digits, '_' only: Anthropic checks tool_use ids against that. */
        char *id = NULL;
        for (int n = 2; !id || id_taken(resp, resp->ncalls, id); n++) {
            free(id);
            id = er_xasprintf("%s_%d", resp->calls[i].id, n);
        }
        er_log(ER_LOG_INFO, "runtime", "the model gave two calls the id %s; the second is %s",
               resp->calls[i].id, id);
        free(resp->calls[i].id);
        resp->calls[i].id = id;
    }
    return changed;
}

/* ---- malformed calls ---- */

char *er_repair_cut_call(const er_llm_response *resp, const er_llm_tool_call *c)
{
    if (!er_str_eq(resp->stop_reason, "length"))
        return NULL;
    return er_xasprintf("error: your answer hit the output token limit (finish_reason length) "
                        "before this %s call was complete, so no call of it was run; send the "
                        "calls again, shorter (split a long write into a write_file and "
                        "edit_file calls)",
                        c->name);
}

char *er_repair_bad_utf8(const er_llm_tool_call *c)
{
    if (!c->bad_utf8)
        return NULL;
    return er_xasprintf("error: the arguments of this %s call held bytes that are not UTF-8; "
                        "it was not run — send them again as UTF-8 text",
                        c->name);
}

char *er_repair_unknown_tool(const char *name, const char *scope, const char *const *tools,
                             const char *const *builtins, bool read_only)
{
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, "error: ");
    er_buf_put_utf8(&b, name, strnlen(name, 80));
    er_buf_printf(&b, " is not one of the tools of %s%s; use:", scope,
                  read_only ? " (its workspace is read-only)" : "");
    size_t n = 0;
    for (size_t i = 0; builtins && builtins[i]; i++)
        er_buf_printf(&b, "%s %s", n++ ? "," : "", builtins[i]);
    for (size_t i = 0; tools && tools[i]; i++)
        er_buf_printf(&b, "%s %s", n++ ? "," : "", tools[i]);
    return er_buf_detach(&b);
}

/* The canonical path a write tool's call changes (OWNED), or NULL when the
 * call changes no file by a "path". */
static char *written_path(const char *workspace, const er_tool *t, const cJSON *args)
{
    const char *path = er_json_str(args, "path");
    if (!t || t->perm != ER_PERM_WRITE || er_str_empty(path))
        return NULL;
    char *abs = NULL;
    er_workspace ws;
    if (workspace && er_workspace_init(&ws, workspace, NULL) == 0) {
        er_workspace_resolve(&abs, &ws, path, NULL);
        er_workspace_release(&ws);
    }
    return abs ? abs : er_xstrdup(path); /* the tool will say what is wrong with it */
}

char *er_repair_write_conflict(const er_repair_writes *w, const char *workspace, const er_tool *t,
                               const cJSON *args)
{
    char *abs = written_path(workspace, t, args);
    size_t i = 0;
    while (abs && i < w->n && strcmp(w->path[i], abs) != 0)
        i++;
    free(abs);
    if (!abs || i == w->n)
        return NULL;
    return er_xasprintf("error: %s was already changed by call %s of this same answer; the "
                        "calls of one answer run together, so two changes to one file would "
                        "race — this one was not run: read the file again and send one change",
                        er_json_str(args, "path"), w->by[i]);
}

void er_repair_wrote(er_repair_writes *w, const char *workspace, const er_tool *t,
                     const cJSON *args, const char *call_id)
{
    char *abs = written_path(workspace, t, args);
    if (abs && w->n < ER_REPAIR_MAX_WRITES) {
        w->path[w->n] = abs;
        w->by[w->n++] = er_xstrdup(call_id);
        return;
    }
    free(abs);
}

/* ---- repeated failures ---- */

/* FNV-1a of the call's name and its arguments in canonical form (the same
 * object written with other blanks is the same call). */
static uint64_t call_sig(const er_llm_tool_call *c)
{
    uint64_t h = 1469598103934665603ULL;
    cJSON *j = cJSON_Parse(c->arguments);
    char *args = j ? er_json_print(j) : er_xstrdup(c->arguments);
    cJSON_Delete(j);
    const char *parts[] = { c->name, "\n", args };
    for (size_t p = 0; p < ER_ARRAY_LEN(parts); p++)
        for (const char *s = parts[p]; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    free(args);
    return h;
}

static int failures_of(const er_repair *rp, uint64_t sig)
{
    for (size_t i = 0; i < rp->nfailed; i++)
        if (rp->failed[i].sig == sig)
            return rp->failed[i].n;
    return 0;
}

/* The call as the user would recognise it: name and arguments, cut short. */
static void describe(const er_llm_tool_call *c, char *out, size_t n)
{
    snprintf(out, n, "%.40s %.100s%s", c->name, c->arguments,
             strlen(c->arguments) > 100 ? "…" : "");
    for (char *p = out; *p; p++)
        if (iscntrl((unsigned char)*p))
            *p = ' ';
}

int er_repair_check_repeat(const er_repair *rp, const er_llm_tool_call *c, char *why, size_t whylen)
{
    if (failures_of(rp, call_sig(c)) < ER_REPAIR_SAME_FAILURES)
        return 0;
    char d[160];
    describe(c, d, sizeof d);
    snprintf(why, whylen, "the model repeated a call that had already failed %d times: %s",
             ER_REPAIR_SAME_FAILURES, d);
    return 1;
}

void er_repair_note_result(er_repair *rp, const er_llm_tool_call *c, char **content)
{
    if (!er_llm_tool_failed(*content))
        return;
    uint64_t sig = call_sig(c);
    size_t i = 0;
    while (i < rp->nfailed && rp->failed[i].sig != sig)
        i++;
    if (i == rp->nfailed) {
        if (rp->nfailed == ER_ARRAY_LEN(rp->failed))
            return; /* a run this confused ends on its step budget */
        rp->failed[rp->nfailed++].sig = sig;
    }
    if (++rp->failed[i].n != ER_REPAIR_SAME_FAILURES)
        return;
    char *more = er_xasprintf("%s\n(this exact call has now failed %d times; sending it once "
                              "more ends the task — change the arguments or the approach)",
                              *content, ER_REPAIR_SAME_FAILURES);
    free(*content);
    *content = more;
}

int er_repair_end_step(er_repair *rp, const char *mistake, char *why, size_t whylen)
{
    if (!mistake) {
        rp->mistakes = 0;
        return 0;
    }
    snprintf(rp->last, sizeof rp->last, "%.*s", (int)strcspn(mistake, "\n"), mistake);
    if (++rp->mistakes <= ER_REPAIR_TURNS)
        return 0;
    snprintf(why, whylen,
             "the model's answer was malformed %d times in a row (after %d repair "
             "turns); the last time: %s",
             rp->mistakes, ER_REPAIR_TURNS, rp->last);
    return 1;
}

const char *er_repair_final_answer(const er_llm_response *resp, const char **mistake)
{
    if (er_str_eq(resp->stop_reason, "length")) {
        *mistake = "the answer was cut off by the output token limit";
        return "Your answer was cut off at the output token limit. Continue exactly where it "
               "stopped, without repeating anything.";
    }
    const char *t = resp->text ? resp->text : "";
    while (*t && isspace((unsigned char)*t))
        t++;
    if (*t)
        return NULL;
    *mistake = "the answer was empty (no text, no tool call)";
    return "Your answer was empty. Answer the request, or call one of the tools.";
}
