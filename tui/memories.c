/* memories.c — the memory view's second tab: what the agents remember (the
 * user's own memories and the shared ones), newest first; `/` searches them
 * by words and meaning (memory.h), `d` twice forgets the selected one, `g`
 * (memory.c) shows the graph of the entities it names.
 * Memory text is shown as data, one line each, sanitised like a message. */
#include "tui.h"
#include "errand/alloc.h"
#include "errand/memory.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT 500

typedef struct mem_row {
    char id[ER_ID_LEN];
    char *text; /* one line */
    char kind[16];
    bool shared;
    double score; /* searched: the fused score; else 0 */
    int64_t updated_ms;
} mem_row;

struct tui_memories {
    mem_row *rows;
    size_t n;
    bool stale;
    size_t sel;
    int top, page;
    char *query;                /* NULL: the list */
    char forgetting[ER_ID_LEN]; /* "d" pressed once on it: a second "d" forgets */
};

tui_memories *tui_memories_new(void)
{
    tui_memories *m = er_xcalloc(1, sizeof *m);
    m->stale = true;
    return m;
}

static void clear_rows(tui_memories *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->rows[i].text);
    free(m->rows);
    m->rows = NULL;
    m->n = 0;
}

void tui_memories_free(tui_memories *m)
{
    if (!m)
        return;
    clear_rows(m);
    free(m->query);
    free(m);
}

void tui_memories_reload(tui_memories *m)
{
    m->stale = true;
}


void tui_memories_search(tui_app *a, tui_memories *m, const char *query)
{
    free(m->query);
    m->query = NULL;
    char *q = er_xstrdup(query);
    if (*er_str_trim(q))
        m->query = er_xstrdup(er_str_trim(q));
    free(q);
    m->sel = 0;
    m->top = 0;
    m->stale = true;
    a->dirty = true;
}

static void add_row(tui_memories *m, const er_memory_item *it, double score)
{
    m->rows = er_xrealloc(m->rows, (m->n + 1) * sizeof *m->rows);
    mem_row *r = &m->rows[m->n++];
    er_strlcpy(r->id, it->id, sizeof r->id);
    const char *text = it->text ? it->text : "";
    r->text = tui_sanitize(text, strlen(text) < 600 ? strlen(text) : 600);
    for (char *p = r->text; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    er_strlcpy(r->kind, it->kind ? it->kind : "", sizeof r->kind);
    r->shared = !it->user_id || !*it->user_id;
    r->score = score;
    r->updated_ms = it->updated_ms;
}

static int list_row(const er_memory_item *it, void *payload)
{
    add_row(payload, it, 0);
    return 0;
}

static void load(tui_app *a, tui_memories *m)
{
    clear_rows(m);
    m->stale = false;
    er_error err = { 0 };
    er_memory_filter f = { .user_id = a->user_id, .limit = LIST_LIMIT };
    if (m->query) {
        er_memory *mem;
        er_memory_hit *hits = NULL;
        size_t n = 0;
        er_memory_query q = { .text = m->query, .filter = f, .k = 50 };
        if (er_env_memory(a->env, &mem, &err) == 0 &&
            er_memory_search(mem, &q, &hits, &n, &err) == 0)
            for (size_t i = 0; i < n; i++)
                add_row(m, &hits[i].item, hits[i].score);
        er_memory_hits_free(hits, n);
    } else {
        er_store *st;
        if (er_env_store(a->env, &st, &err) == 0)
            er_store_memory_list(st, &f, list_row, m, &err);
    }
    if (err.code)
        tui_set_status(a, true, "Cannot read memories: %s", err.msg);
    if (m->sel >= m->n)
        m->sel = m->n ? m->n - 1 : 0;
}

bool tui_memories_selected(tui_app *a, tui_memories *m, char id[ER_ID_LEN])
{
    if (m->stale)
        load(a, m); /* keys typed ahead act on what the next frame will show */
    if (m->sel >= m->n)
        return false;
    memcpy(id, m->rows[m->sel].id, ER_ID_LEN);
    return true;
}

static void draw_row(const mem_row *r, int y, int w, bool sel, bool searched)
{
    tui_style base = sel ? TUI_S_SELECTED : TUI_S_TEXT;
    tui_fill(y, 0, w, base);
    char ts[32];
    tui_clock(r->updated_ms, true, ts, sizeof ts);
    tui_put(y, 1, 17, sel ? base : TUI_S_DIM, ts);
    tui_putf(y, 19, 11, sel ? base : TUI_S_DIM, "%-10.10s", r->kind);
    int x = 31;
    if (searched)
        x += tui_putf(y, x, 7, sel ? base : TUI_S_DIM, "%.3f ", r->score);
    if (r->shared)
        x += tui_put(y, x, 8, sel ? base : TUI_S_DIM, "shared ");
    tui_put(y, x, w - x - 15, base, r->text);
    tui_putf(y, w - 14, 14, sel ? base : TUI_S_DIM, "%.13s", r->id);
}

void tui_memories_draw(tui_app *a, tui_memories *m, tui_rect r)
{
    if (m->stale)
        load(a, m);
    int y = r.y;
    if (m->query) {
        tui_fill(y, 0, r.w, TUI_S_TEXT);
        int x = tui_put(y, 1, r.w - 1, TUI_S_BOLD, "Search: ");
        x += tui_put(y, 1 + x, r.w - 1 - x, TUI_S_INLINE, m->query);
        tui_putf(y, 1 + x, r.w - 1 - x, TUI_S_DIM, "  %zu memories, best first — Esc clears", m->n);
        y++;
    }
    tui_fill(y, 0, r.w, TUI_S_HEADER);
    tui_put(y, 1, 17, TUI_S_HEADER, "UPDATED");
    tui_put(y, 19, 11, TUI_S_HEADER, "KIND");
    tui_put(y, 31, r.w - 46, TUI_S_HEADER, m->query ? "SCORE TEXT" : "TEXT");
    tui_put(y, r.w - 14, 14, TUI_S_HEADER, "ID");
    y++;
    int h = r.y + r.h - y;
    if (m->n == 0) {
        tui_put(y + 1, 2, r.w - 2, TUI_S_DIM,
                m->query ? "Nothing matches; / searches again."
                         : "No memories yet (errand memory add, or the agents' memory_save).");
        return;
    }
    m->page = h;
    tui_list_scroll(m->sel, h, &m->top);
    for (int i = 0; i < h && (size_t)(m->top + i) < m->n; i++)
        draw_row(&m->rows[m->top + i], y + i, r.w, (size_t)(m->top + i) == m->sel, m->query);
}

static void forget(tui_app *a, tui_memories *m, const mem_row *row)
{
    er_store *st;
    er_error err = { 0 };
    int rc = er_env_store(a->env, &st, &err);
    /* One's own, or a shared one (the TUI's user keeps this store, as
     * `errand memory forget` does); never another user's. */
    if (!rc)
        rc = er_store_memory_forget(st, row->id, row->shared ? "" : a->user_id, &err);
    if (rc)
        tui_set_status(a, true, "Not forgotten: %s", err.msg);
    else
        tui_set_status(a, false, "Forgotten: %.60s", row->text);
    m->stale = true;
}

bool tui_memories_key(tui_app *a, tui_memories *m, const tui_key *k)
{
    if (m->stale)
        load(a, m);
    bool was_forgetting = m->forgetting[0] != '\0';
    char pending[ER_ID_LEN];
    memcpy(pending, m->forgetting, sizeof pending);
    m->forgetting[0] = '\0'; /* any other key cancels a pending forget */
    if (tui_list_key(k, m->n, &m->sel, m->page))
        ;
    else if (k->fn)
        return false;
    else if (k->c == '/')
        tui_input_set_mode(a, TUI_INPUT_SEARCH);
    else if (k->c == 27 && m->query)
        tui_memories_search(a, m, "");
    else if (k->c == 'r')
        m->stale = true;
    else if (k->c == 'd' && m->sel < m->n) {
        mem_row *row = &m->rows[m->sel];
        if (was_forgetting && strcmp(pending, row->id) == 0)
            forget(a, m, row);
        else {
            memcpy(m->forgetting, row->id, ER_ID_LEN);
            tui_set_status(a, false, "Press d again to forget: %.60s", row->text);
        }
    } else
        return false;
    a->dirty = true;
    return true;
}
