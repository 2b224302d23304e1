/* agents.c — the agent monitor: every agent and subagent, idle or running,
 * its current step and tool, how long it has been at it; for the bus queues,
 * messages waiting and workers attached (er_bus_queue_info).
 *
 * State comes from the "events" channel, which carries the step events of
 * every task in every process sharing the cache — so in networked mode this
 * shows what remote workers do.  Events can be lost, so while anything runs
 * the running tasks are checked against the store every few seconds. */
#include "tui.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/bus.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/workers.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS  16
#define VERIFY_MS 5000

typedef struct mon_row {
    char name[64]; /* "code", "code/analyzer", "supervisor" */
    const char *label;
    const er_agent_def *def; /* NULL for the supervisor and the aggregator */
    const er_subagent_def *sub;
    char queue[64];                  /* "" for subagents */
    char tasks[MAX_RUNS][ER_ID_LEN]; /* tasks it runs now (agents) */
    int nrun;
    bool active; /* subagents: delegated to and not back yet */
    int step;
    char tool[48];   /* the tool it runs; "" while the model thinks */
    bool waiting;    /* for an approval */
    int64_t since;   /* busy since (er_mono_ms) */
    int64_t last_ms; /* how long its last run took, -1: none yet */
    unsigned runs;   /* runs seen this session */
    char last[96];   /* the supervisor's last decision */
    long qdepth, qworkers;
    bool have_q;
} mon_row;

struct tui_agents {
    mon_row *rows;
    size_t n;
    size_t sel;
    int top, page;
    int64_t last_verify;
    bool q_stale; /* a task started, was routed or ended: queues changed */
};

static mon_row *add_row(tui_agents *m, const char *name, const char *label, const char *queue)
{
    m->rows = er_xrealloc(m->rows, (m->n + 1) * sizeof *m->rows);
    mon_row *r = &m->rows[m->n++];
    memset(r, 0, sizeof *r);
    er_strlcpy(r->name, name, sizeof r->name);
    r->label = label;
    er_strlcpy(r->queue, queue ? queue : "", sizeof r->queue);
    r->last_ms = -1;
    return r;
}

tui_agents *tui_agents_new(void)
{
    tui_agents *m = er_xcalloc(1, sizeof *m);
    for (const er_worker_stage *st = er_worker_stages(); st->name; st++) {
        const er_agent_def *d = st->agent;
        add_row(m, st->name, st->name, st->queue)->def = d;
        for (size_t j = 0; d && j < d->nsubagents; j++) {
            char name[64];
            snprintf(name, sizeof name, "%s/%s", d->name, d->subagents[j].name);
            mon_row *r = add_row(m, name, d->subagents[j].name, NULL);
            r->def = d;
            r->sub = &d->subagents[j];
        }
    }
    return m;
}

void tui_agents_free(tui_agents *m)
{
    if (!m)
        return;
    free(m->rows);
    free(m);
}

static mon_row *find(tui_agents *m, const char *name)
{
    for (size_t i = 0; name && i < m->n; i++)
        if (strcmp(m->rows[i].name, name) == 0)
            return &m->rows[i];
    return NULL;
}

static bool busy_row(const mon_row *r)
{
    return r->nrun > 0 || r->active;
}

static void begin(mon_row *r, int64_t since)
{
    if (!busy_row(r)) {
        r->since = since;
        r->step = 0;
        r->tool[0] = '\0';
        r->waiting = false;
    }
}

static void finish_row(mon_row *r)
{
    r->last_ms = er_mono_ms() - r->since;
    r->runs++;
    r->tool[0] = '\0';
    r->waiting = false;
}

/* The subagents of agent `name` come back when its "task" call returns. */
static void end_subagents(tui_agents *m, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < m->n; i++) {
        mon_row *r = &m->rows[i];
        if (r->sub && r->active && strncmp(r->name, name, len) == 0 && r->name[len] == '/') {
            r->active = false;
            finish_row(r);
        }
    }
}

static void task_started(tui_agents *m, const char *agent, const char *task_id, int64_t since)
{
    mon_row *r = find(m, agent);
    if (!r || !task_id)
        return;
    for (int i = 0; i < r->nrun; i++)
        if (strcmp(r->tasks[i], task_id) == 0)
            return;
    if (r->nrun == MAX_RUNS)
        return;
    begin(r, since);
    er_strlcpy(r->tasks[r->nrun++], task_id, ER_ID_LEN);
}

static void task_ended(tui_agents *m, const char *task_id)
{
    for (size_t i = 0; i < m->n; i++) {
        mon_row *r = &m->rows[i];
        for (int k = 0; k < r->nrun; k++) {
            if (strcmp(r->tasks[k], task_id) != 0)
                continue;
            memmove(r->tasks[k], r->tasks[k + 1], (size_t)(r->nrun - k - 1) * ER_ID_LEN);
            if (--r->nrun == 0) {
                finish_row(r);
                end_subagents(m, r->name);
            }
            return;
        }
    }
}

static void step_event(tui_agents *m, const char *kind, const cJSON *d)
{
    mon_row *r = find(m, er_json_str(d, "agent"));
    if (!r)
        return;
    if (r->sub && !r->active) {
        begin(r, er_mono_ms());
        r->active = true;
    }
    r->waiting = false;
    if (er_str_eq(kind, "llm")) {
        r->step = (int)er_json_int(d, "step", r->step, 0, INT32_MAX);
        const cJSON *calls = er_json_arr(d, "tool_calls");
        const char *first = cJSON_GetArraySize(calls) > 0
                                ? er_json_str(cJSON_GetArrayItem(calls, 0), "name")
                                : NULL;
        er_strlcpy(r->tool, first ? first : "", sizeof r->tool);
    } else if (er_str_eq(kind, "tool_call") || er_str_eq(kind, "approval_request")) {
        er_strlcpy(r->tool, er_json_str(d, "tool") ? er_json_str(d, "tool") : "", sizeof r->tool);
        r->waiting = er_str_eq(kind, "approval_request");
    } else if (er_str_eq(kind, "tool_result")) {
        r->tool[0] = '\0';
        if (er_str_eq(er_json_str(d, "tool"), "task"))
            end_subagents(m, r->name);
    }
}

void tui_agents_event(tui_app *a, const cJSON *ev)
{
    tui_agents *m = a->agents;
    const char *kind = er_json_str(ev, "kind");
    const cJSON *d = er_json_obj(ev, "data");
    if (er_str_eq(kind, "start") || er_str_eq(kind, "end") || er_str_eq(kind, "routed"))
        m->q_stale = true; /* read when the panel is next drawn, once per frame */
    if (er_str_eq(kind, "start")) {
        task_started(m, er_json_str(d, "agent"), er_json_str(ev, "task_id"), er_mono_ms());
    } else if (er_str_eq(kind, "end")) {
        task_ended(m, er_json_str(ev, "task_id") ? er_json_str(ev, "task_id") : "");
    } else if (er_str_eq(kind, "routed")) {
        mon_row *r = find(m, "supervisor");
        char *text = cli_event_text(ev);
        er_strlcpy(r->last, text ? text : "", sizeof r->last);
        free(text);
        r->runs++;
    } else if (er_str_eq(kind, "delegate")) {
        char name[64];
        snprintf(name, sizeof name, "%s/%s", er_json_str(d, "agent") ? er_json_str(d, "agent") : "",
                 er_json_str(d, "subagent") ? er_json_str(d, "subagent") : "");
        mon_row *r = find(m, name);
        if (r) {
            begin(r, er_mono_ms());
            r->active = true;
        }
    } else if (kind) {
        step_event(m, kind, d);
    }
}

bool tui_agents_watching(const tui_app *a)
{
    /* Remote workers come and go without an event: count them again each tick. */
    return !a->local_bus && tui_panel(a) == TUI_AGENTS;
}

bool tui_agents_busy(const tui_app *a)
{
    for (size_t i = 0; i < a->agents->n; i++)
        if (busy_row(&a->agents->rows[i]))
            return true;
    return false;
}

/* ---- the store and the bus ---- */

static int add_running(const er_task *t, void *payload)
{
    tui_agents *m = payload;
    int64_t age = er_time_ms() - t->updated_ms;
    task_started(m, t->agent, t->id, er_mono_ms() - (age > 0 ? age : 0));
    return 0;
}

void tui_agents_load(tui_app *a)
{
    er_store *st;
    if (er_env_store(a->env, &st, NULL))
        return;
    er_task_filter f = { .status = ER_TASK_RUNNING, .limit = 200 };
    er_store_task_list(st, &f, add_running, a->agents, NULL);
}

/* Tasks whose end event was lost still end in the store. */
static void verify(tui_app *a)
{
    tui_agents *m = a->agents;
    er_store *st;
    if (er_env_store(a->env, &st, NULL))
        return;
    for (size_t i = 0; i < m->n; i++) {
        for (int k = m->rows[i].nrun - 1; k >= 0; k--) {
            er_task_status s;
            char id[ER_ID_LEN];
            er_strlcpy(id, m->rows[i].tasks[k], sizeof id);
            if (er_store_task_status(st, id, &s, NULL) == 0 && er_task_status_final(s))
                task_ended(m, id);
        }
    }
}

static void queue_info(tui_app *a)
{
    er_bus *bus;
    a->agents->q_stale = false;
    if (er_env_bus(a->env, &bus, NULL))
        return;
    for (size_t i = 0; i < a->agents->n; i++) {
        mon_row *r = &a->agents->rows[i];
        if (r->queue[0])
            r->have_q = er_bus_queue_info(bus, r->queue, &r->qdepth, &r->qworkers, NULL) == 0;
    }
}

void tui_agents_tick(tui_app *a)
{
    if (tui_panel(a) == TUI_AGENTS)
        queue_info(a);
    int64_t now = er_mono_ms();
    if (tui_agents_busy(a) && now - a->agents->last_verify >= VERIFY_MS) {
        a->agents->last_verify = now;
        verify(a);
    }
}

/* ---- drawing ---- */

static const char *state_of(const mon_row *r, tui_style *st)
{
    if (r->waiting) {
        *st = TUI_S_WARN;
        return "approval";
    }
    if (busy_row(r)) {
        *st = TUI_S_RUNNING;
        return "running";
    }
    *st = TUI_S_DIM;
    return r->def || r->queue[0] ? "idle" : "-";
}

/* Columns: name, state and step on the left; elapsed, queue, workers and runs
 * on the right; the tool (or the last decision) gets what is left, a column
 * apart from its neighbours even at 80 columns. */
#define COL_TOOL       34
#define COL_ELAPSED(w) ((w)-33)
#define COL_QUEUE(w)   ((w)-21)
#define COL_WORKERS(w) ((w)-14)
#define COL_RUNS(w)    ((w)-6)
#define TOOL_W(w)      (COL_ELAPSED(w) - 1 - COL_TOOL)

static void draw_row(const mon_row *r, int y, int w, bool sel)
{
    tui_style base = sel ? TUI_S_SELECTED : TUI_S_TEXT;
    tui_fill(y, 0, w, base);
    char name[80], buf[96];
    snprintf(name, sizeof name, "%s%s", r->sub ? "  └ " : " ", r->label);
    tui_put(y, 0, 17, sel ? base : r->sub ? TUI_S_TEXT : TUI_S_BOLD, name);
    tui_style st;
    const char *state = state_of(r, &st);
    tui_put(y, 18, 8, sel ? base : st, state);
    if (busy_row(r)) {
        /* llm events come when a step ends: while the model thinks, the next one runs. */
        if (r->nrun > 1)
            snprintf(buf, sizeof buf, "%d tasks", r->nrun);
        else
            snprintf(buf, sizeof buf, "%d", r->tool[0] ? r->step : r->step + 1);
        tui_put(y, 27, 6, base, buf);
        tui_put(y, COL_TOOL, TOOL_W(w), base, r->tool[0] ? r->tool : "thinking…");
        tui_duration(er_mono_ms() - r->since, buf, sizeof buf);
        tui_put(y, COL_ELAPSED(w), 11, base, buf);
    } else {
        tui_put(y, COL_TOOL, TOOL_W(w), sel ? base : TUI_S_DIM, r->last);
        if (r->last_ms >= 0) {
            char d[32];
            tui_duration(r->last_ms, d, sizeof d);
            snprintf(buf, sizeof buf, "last %s", d);
            tui_put(y, COL_ELAPSED(w), 11, sel ? base : TUI_S_DIM, buf);
        }
    }
    if (r->have_q) {
        tui_putf(y, COL_QUEUE(w), 6, base, "%6ld", r->qdepth);
        tui_putf(y, COL_WORKERS(w), 7, base, "%7ld", r->qworkers);
    }
    tui_putf(y, COL_RUNS(w), 6, base, "%5u", r->runs);
}

static void draw_details(const tui_app *a, const mon_row *r, tui_rect d)
{
    const char *desc = r->sub   ? r->sub->description
                       : r->def ? r->def->description
                       : strcmp(r->name, "supervisor") == 0
                           ? "reads each request and routes it to one or more agents"
                           : "records each task's outcome and fans results in";
    int y = d.y;
    tui_use_style(TUI_S_DIM);
    mvhline(y++, 0, ACS_HLINE, d.w);
    y++;
    int x = 1 + tui_put(y, 1, d.w - 1, TUI_S_AGENT, r->name);
    tui_putf(y++, x, d.w - x, TUI_S_TEXT, " — %s", desc ? desc : "");
    const char *const *tools = r->sub ? r->sub->tools : r->def ? r->def->tools : NULL;
    if (tools && y < d.y + d.h) {
        er_buf b = ER_BUF_INIT;
        for (size_t i = 0; tools[i]; i++)
            er_buf_printf(&b, "%s%s", i ? ", " : "tools: ", tools[i]);
        tui_put(y++, 1, d.w - 1, TUI_S_DIM, er_buf_cstr(&b));
        er_buf_release(&b);
    }
    if (r->nrun > 0 && y < d.y + d.h)
        tui_putf(y++, 1, d.w - 1, TUI_S_DIM, "task: %.13s", r->tasks[r->nrun - 1]);
    (void)a;
}

void tui_agents_draw(tui_app *a, tui_rect r)
{
    tui_agents *m = a->agents;
    int w = r.w;
    if (m->q_stale)
        queue_info(a);
    tui_fill(r.y, 0, w, TUI_S_HEADER);
    tui_put(r.y, 1, 16, TUI_S_HEADER, "AGENT");
    tui_put(r.y, 18, 8, TUI_S_HEADER, "STATE");
    tui_put(r.y, 27, 6, TUI_S_HEADER, "STEP");
    tui_put(r.y, COL_TOOL, TOOL_W(w), TUI_S_HEADER, TOOL_W(w) >= 11 ? "TOOL / LAST" : "TOOL");
    tui_put(r.y, COL_ELAPSED(w), 11, TUI_S_HEADER, "ELAPSED");
    tui_put(r.y, COL_QUEUE(w), 6, TUI_S_HEADER, " QUEUE");
    tui_put(r.y, COL_WORKERS(w), 7, TUI_S_HEADER, "WORKERS");
    tui_put(r.y, COL_RUNS(w), 6, TUI_S_HEADER, " RUNS");
    int details = r.h >= 16 ? 5 : 0;
    int list_h = r.h - 1 - details;
    if (list_h < 1)
        return;
    m->page = list_h;
    tui_list_scroll(m->sel, list_h, &m->top);
    for (int i = 0; i < list_h && (size_t)(m->top + i) < m->n; i++)
        draw_row(&m->rows[m->top + i], r.y + 1 + i, w, (size_t)(m->top + i) == m->sel);
    if (details)
        draw_details(a, &m->rows[m->sel], (tui_rect){ r.y + r.h - details, 0, details, w });
}

bool tui_agents_key(tui_app *a, const tui_key *k)
{
    tui_agents *m = a->agents;
    if (tui_list_key(k, m->n, &m->sel, m->page)) {
        a->dirty = true;
        return true;
    }
    if (k->fn || k->c != 'r')
        return false;
    queue_info(a);
    verify(a);
    a->dirty = true;
    return true;
}
