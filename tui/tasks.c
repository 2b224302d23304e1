/* tasks.c — the task tracker: top-level tasks with status, agent and duration;
 * Enter opens a task's steps (its events and its children's, from the store,
 * refreshed as new ones arrive); `c` cancels; `o` continues its conversation.
 *
 * The list is read from the store when the panel is shown and again whenever
 * an event says a task started, was routed or ended (coalesced: one read per
 * frame at most, and only while the panel is on screen). */
#include "tui.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_LIMIT    200
#define STEP_ROWS_MAX 6  /* rows one step may take in the steps view */
#define KIND_END      28 /* where a step's text starts, after its time and kind */

typedef struct task_row {
    char id[ER_ID_LEN];
    char conv_id[ER_ID_LEN];
    er_task_status status;
    char *agent;
    char *request;
    int64_t created_ms, updated_ms;
} task_row;

struct tui_tasks {
    task_row *rows;
    size_t n;
    bool stale;
    size_t sel;
    int top, page;
    bool detail; /* the steps view is open */
    char detail_id[ER_ID_LEN];
    er_task task; /* the task the steps view shows */
    bool have_task;
    cJSON *steps;
    bool detail_stale;
    int dscroll;      /* first row of the steps view */
    int drows, dpage; /* rows it had, rows on screen, at the last draw */
};

tui_tasks *tui_tasks_new(void)
{
    tui_tasks *t = er_xcalloc(1, sizeof *t);
    t->stale = true;
    return t;
}

static void clear_rows(tui_tasks *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->rows[i].agent);
        free(t->rows[i].request);
    }
    free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

static void close_detail(tui_tasks *t)
{
    if (t->have_task)
        er_task_release(&t->task);
    t->have_task = false;
    cJSON_Delete(t->steps);
    t->steps = NULL;
    t->detail = false;
}

void tui_tasks_free(tui_tasks *t)
{
    if (!t)
        return;
    clear_rows(t);
    close_detail(t);
    free(t);
}

void tui_tasks_invalidate(tui_app *a)
{
    a->tasks->stale = true;
    a->tasks->detail_stale = true;
    a->dirty = true;
}

void tui_tasks_event(tui_app *a, const cJSON *ev)
{
    tui_tasks *t = a->tasks;
    const char *kind = er_json_str(ev, "kind");
    if (er_str_eq(kind, "start") || er_str_eq(kind, "end") || er_str_eq(kind, "routed"))
        t->stale = true;
    if (t->detail && (er_str_eq(er_json_str(ev, "root"), t->detail_id) ||
                      er_str_eq(er_json_str(ev, "task_id"), t->detail_id)))
        t->detail_stale = true;
}

/* ---- loading ---- */

static int add_task(const er_task *tk, void *payload)
{
    tui_tasks *t = payload;
    t->rows = er_xrealloc(t->rows, (t->n + 1) * sizeof *t->rows);
    task_row *r = &t->rows[t->n++];
    er_strlcpy(r->id, tk->id, sizeof r->id);
    er_strlcpy(r->conv_id, tk->conversation_id, sizeof r->conv_id);
    r->status = tk->status;
    r->agent = er_xstrdup(tk->agent);
    r->request =
        tui_sanitize(tk->request ? tk->request : "", tk->request ? strlen(tk->request) : 0);
    r->created_ms = tk->created_ms;
    r->updated_ms = tk->updated_ms;
    return 0;
}

static void load(tui_app *a)
{
    tui_tasks *t = a->tasks;
    char keep[ER_ID_LEN] = "";
    if (t->sel < t->n)
        er_strlcpy(keep, t->rows[t->sel].id, sizeof keep);
    clear_rows(t);
    t->stale = false;
    er_store *st;
    er_error err = { 0 };
    er_task_filter f = { .parent_id = "", .status = -1, .limit = LIST_LIMIT };
    if (er_env_store(a->env, &st, &err) || er_store_task_list(st, &f, add_task, t, &err)) {
        tui_set_status(a, true, "Cannot list tasks: %s", err.msg);
        return;
    }
    t->sel = 0;
    for (size_t i = 0; keep[0] && i < t->n; i++)
        if (strcmp(t->rows[i].id, keep) == 0)
            t->sel = i;
}

static void load_detail(tui_app *a)
{
    tui_tasks *t = a->tasks;
    t->detail_stale = false;
    if (t->have_task)
        er_task_release(&t->task);
    er_store *st;
    t->have_task = er_env_store(a->env, &st, NULL) == 0 &&
                   er_store_task_get(st, t->detail_id, &t->task, NULL) == 0;
    cJSON_Delete(t->steps);
    t->steps = cli_task_steps(a->c, t->detail_id);
}

static void open_detail(tui_app *a, const char *id)
{
    tui_tasks *t = a->tasks;
    close_detail(t);
    er_strlcpy(t->detail_id, id, sizeof t->detail_id);
    t->detail = true;
    t->dscroll = 0;
    load_detail(a);
    /* Start at the end: the latest steps are what one usually wants. */
    t->dscroll = 1 << 30;
}

/* ---- the list ---- */

static int64_t duration(const task_row *r)
{
    int64_t end = er_task_status_final(r->status) ? r->updated_ms : er_time_ms();
    return end - r->created_ms;
}

static void draw_list_row(const task_row *r, int y, int w, bool sel)
{
    tui_style base = sel ? TUI_S_SELECTED : TUI_S_TEXT;
    tui_fill(y, 0, w, base);
    tui_putf(y, 1, 13, base, "%.13s", r->id);
    tui_put(y, 16, 10, sel ? base : tui_status_style(r->status), er_task_status_name(r->status));
    tui_put(y, 27, 11, sel ? base : TUI_S_AGENT, r->agent ? r->agent : "-");
    char ts[32], d[32];
    tui_clock(r->created_ms, false, ts, sizeof ts);
    tui_put(y, 39, 9, sel ? base : TUI_S_DIM, ts);
    tui_duration(duration(r), d, sizeof d);
    tui_putf(y, 49, 8, base, "%7s", d);
    tui_put(y, 59, w - 59, base, r->request);
}

static void draw_list(tui_app *a, tui_rect r)
{
    tui_tasks *t = a->tasks;
    tui_fill(r.y, 0, r.w, TUI_S_HEADER);
    tui_put(r.y, 1, 13, TUI_S_HEADER, "ID");
    tui_put(r.y, 16, 10, TUI_S_HEADER, "STATUS");
    tui_put(r.y, 27, 11, TUI_S_HEADER, "AGENT");
    tui_put(r.y, 39, 9, TUI_S_HEADER, "STARTED");
    tui_put(r.y, 49, 8, TUI_S_HEADER, "   TIME");
    tui_put(r.y, 59, r.w - 59, TUI_S_HEADER, "REQUEST");
    int h = r.h - 1;
    if (t->n == 0) {
        tui_put(r.y + 2, 2, r.w - 2, TUI_S_DIM, "No tasks yet: type a request in the chat.");
        return;
    }
    t->page = h;
    tui_list_scroll(t->sel, h, &t->top);
    for (int i = 0; i < h && (size_t)(t->top + i) < t->n; i++)
        draw_list_row(&t->rows[t->top + i], r.y + 1 + i, r.w, (size_t)(t->top + i) == t->sel);
}

/* ---- the steps view ---- */

typedef struct step_line {
    const char *text;
    size_t len;
    tui_style style;
    int indent;
} step_line;

/* Rows of one step: its time and kind, then its description wrapped. */
static int step_rows(const cJSON *s, const char *root, int w, step_line *out, char **owned)
{
    const char *kind = er_json_str(s, "kind");
    *owned = cli_event_text(s);
    const char *text = *owned ? *owned : "";
    bool child = !er_str_eq(er_json_str(s, "task_id"), root);
    tui_style st =
        er_str_eq(kind, "end")                ? TUI_S_DONE
        : er_str_eq(kind, "approval_request") ? TUI_S_WARN
        : er_str_eq(kind, "tool_result") && er_json_bool(er_json_obj(s, "data"), "is_error", false)
            ? TUI_S_ERROR
            : TUI_S_TEXT;
    int indent = child ? KIND_END + 2 : KIND_END, n = 0;
    size_t len = strlen(text), off = 0;
    while (off < len && n < STEP_ROWS_MAX) {
        size_t next;
        size_t k = tui_wrap(text + off, len - off, w - indent, &next);
        out[n++] = (step_line){ text + off, k, st, indent };
        off += next;
    }
    if (n == 0)
        out[n++] = (step_line){ "", 0, st, indent };
    return n;
}

static void draw_detail_head(tui_app *a, tui_rect r)
{
    tui_tasks *t = a->tasks;
    tui_fill(r.y, 0, r.w, TUI_S_HEADER);
    if (!t->have_task) {
        tui_putf(r.y, 1, r.w - 1, TUI_S_HEADER, "Task %.13s (not found)", t->detail_id);
        return;
    }
    int64_t end = er_task_status_final(t->task.status) ? t->task.updated_ms : er_time_ms();
    char d[32];
    tui_duration(end - t->task.created_ms, d, sizeof d);
    int x = tui_putf(r.y, 1, r.w - 1, TUI_S_HEADER, "Task %.13s  ", t->task.id);
    x += tui_put(r.y, 1 + x, r.w - 1 - x, tui_status_style(t->task.status),
                 er_task_status_name(t->task.status));
    tui_putf(r.y, 1 + x, r.w - 1 - x, TUI_S_HEADER, "  %s  %s  tokens %lld/%lld",
             t->task.agent ? t->task.agent : "-", d, (long long)t->task.tokens_in,
             (long long)t->task.tokens_out);
    char *req = tui_sanitize(t->task.request, strlen(t->task.request));
    for (char *p = req; *p; p++)
        if (*p == '\n')
            *p = ' ';
    x = tui_put(r.y + 1, 1, r.w - 1, TUI_S_BOLD, "request: ");
    tui_put(r.y + 1, 1 + x, r.w - 1 - x, TUI_S_TEXT, req);
    free(req);
}

/* Stored steps carry ISO-8601 UTC times ("2026-11-26T14:02:11.123Z"). */
static int64_t iso_ms(const char *iso)
{
    struct tm tm = { 0 };
    int ms = 0;
    if (sscanf(iso, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void draw_detail(tui_app *a, tui_rect r)
{
    tui_tasks *t = a->tasks;
    draw_detail_head(a, r);
    int h = r.h - 3, y0 = r.y + 3;
    int n = cJSON_GetArraySize(t->steps), total = 0;
    step_line *lines = er_xcalloc((size_t)n * STEP_ROWS_MAX + 1, sizeof *lines);
    const char **times = er_xcalloc((size_t)n * STEP_ROWS_MAX + 1, sizeof *times);
    const char **kinds = er_xcalloc((size_t)n * STEP_ROWS_MAX + 1, sizeof *kinds);
    char **owned = er_xcalloc((size_t)n + 1, sizeof *owned);
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, t->steps)
    {
        int k = step_rows(s, t->detail_id, r.w, lines + total, &owned[i++]);
        times[total] = er_json_str(s, "ts");
        kinds[total] = er_json_str(s, "kind");
        total += k;
    }
    t->drows = total;
    t->dpage = h;
    t->dscroll = tui_scroll_clamp(t->dscroll, h, total);
    for (int row = 0; row < h && t->dscroll + row < total; row++) {
        int k = t->dscroll + row;
        if (times[k]) {
            char clock[32];
            tui_clock(iso_ms(times[k]), false, clock, sizeof clock);
            tui_put(y0 + row, 1, 9, TUI_S_DIM, clock);
        }
        if (kinds[k])
            tui_put(y0 + row, 10, KIND_END - 11, TUI_S_AGENT, kinds[k]);
        if (lines[k].indent > KIND_END && kinds[k])
            tui_put(y0 + row, KIND_END, 2, TUI_S_DIM, "↳");
        tui_putn(y0 + row, lines[k].indent, r.w - lines[k].indent, lines[k].style, lines[k].text,
                 lines[k].len);
    }
    if (total == 0)
        tui_put(y0, 2, r.w - 2, TUI_S_DIM, "No steps recorded yet.");
    for (int j = 0; j < i; j++)
        free(owned[j]);
    free(owned);
    free(kinds);
    free(times);
    free(lines);
}

void tui_tasks_draw(tui_app *a, tui_rect r)
{
    tui_tasks *t = a->tasks;
    if (t->detail) {
        if (t->detail_stale)
            load_detail(a);
        draw_detail(a, r);
        return;
    }
    if (t->stale)
        load(a);
    draw_list(a, r);
}

/* ---- keys ---- */

static void cancel(tui_app *a, const char *id)
{
    er_error err = { 0 };
    if (er_task_cancel(a->env, id, &err) == 0)
        tui_set_status(a, false, "Cancelling task %.13s…", id);
    else if (err.code == ER_ECONFLICT)
        tui_set_status(a, true, "Task %.13s has already ended", id);
    else
        tui_set_status(a, true, "Cannot cancel: %s", err.msg);
    tui_tasks_invalidate(a);
}

static bool detail_key(tui_app *a, const tui_key *k)
{
    tui_tasks *t = a->tasks;
    if (tui_scroll_key(k, &t->dscroll, t->dpage, t->drows)) {
        ;
    } else if (k->fn) {
        if (k->c != KEY_LEFT && k->c != KEY_BACKSPACE)
            return false;
        close_detail(t);
    } else if (k->c == 27 || k->c == 127 || k->c == 'h') {
        close_detail(t);
        t->stale = true;
    } else if (k->c == 'c') {
        cancel(a, t->detail_id);
    } else {
        return false;
    }
    a->dirty = true;
    return true;
}

static bool list_key(tui_app *a, const tui_key *k)
{
    tui_tasks *t = a->tasks;
    bool have = t->sel < t->n;
    if (tui_list_key(k, t->n, &t->sel, t->page))
        ;
    else if (have && ((k->fn && (k->c == KEY_ENTER || k->c == KEY_RIGHT)) ||
                      (!k->fn && (k->c == '\r' || k->c == '\n' || k->c == 'l'))))
        open_detail(a, t->rows[t->sel].id);
    else if (k->fn)
        return false;
    else if (k->c == 'c' && have)
        cancel(a, t->rows[t->sel].id);
    else if (k->c == 'o' && have && t->rows[t->sel].conv_id[0])
        tui_session_use_conversation(a, t->rows[t->sel].conv_id, NULL);
    else if (k->c == 'r')
        t->stale = true;
    else
        return false;
    a->dirty = true;
    return true;
}

bool tui_tasks_key(tui_app *a, const tui_key *k)
{
    if (a->tasks->stale && !a->tasks->detail)
        load(a); /* keys typed ahead act on what the next frame will show */
    return a->tasks->detail ? detail_key(a, k) : list_key(a, k);
}
