/* memory.c — the memory view: past conversations, newest first, to reopen
 * (Enter loads one into the chat, and the next request continues it), with
 * `/` searching titles and messages; `m` switches to the tab of what the
 * agents remember (memories.c) and back, `g` to the graph of entities and
 * their relations (graph.c) — from the memories tab, of the entities the
 * selected memory names.
 *
 * A search keeps conversations in which every word of the query appears,
 * case-insensitively, in the title or in some message, and shows where the
 * first word was found.  It reads the store directly (no index): fine for a
 * person's history, which is what this view is for. */
#include "tui.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIST_LIMIT     500
#define MAX_WORDS      16
#define SNIPPET_BEFORE 30

typedef struct conv_row {
    char id[ER_ID_LEN];
    char *title;
    char *snippet; /* where the search matched, or NULL */
    int64_t updated_ms;
} conv_row;

struct tui_memory {
    conv_row *rows;
    size_t n;
    bool stale;
    size_t sel;
    int top, page;
    char *query; /* NULL: no search */
    char *words[MAX_WORDS];
    int nwords;
    size_t scanned;      /* conversations looked at by the last load */
    tui_memories *items; /* the memories tab */
    bool show_items;
    tui_graph *graph; /* the graph tab, shown over either of the others */
    bool show_graph;
};

tui_memory *tui_memory_new(void)
{
    tui_memory *m = er_xcalloc(1, sizeof *m);
    m->stale = true;
    m->items = tui_memories_new();
    m->graph = tui_graph_new();
    return m;
}

static void clear_rows(tui_memory *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->rows[i].title);
        free(m->rows[i].snippet);
    }
    free(m->rows);
    m->rows = NULL;
    m->n = 0;
}

static void clear_query(tui_memory *m)
{
    free(m->query);
    m->query = NULL;
    for (int i = 0; i < m->nwords; i++)
        free(m->words[i]);
    m->nwords = 0;
}

void tui_memory_free(tui_memory *m)
{
    if (!m)
        return;
    clear_rows(m);
    clear_query(m);
    tui_memories_free(m->items);
    tui_graph_free(m->graph);
    free(m);
}

void tui_memory_invalidate(tui_app *a)
{
    a->memory->stale = true;
    tui_memories_reload(a->memory->items);
    tui_graph_reload(a->memory->graph);
    a->dirty = true;
}

void tui_memory_search(tui_app *a, const char *query)
{
    tui_memory *m = a->memory;
    if (m->show_graph) {
        tui_graph_search(a, m->graph, query);
        return;
    }
    if (m->show_items) {
        tui_memories_search(a, m->items, query);
        return;
    }
    clear_query(m);
    char *q = er_xstrdup(query);
    er_str_trim(q);
    if (*q) {
        m->query = er_xstrdup(q);
        for (char *w = q; *w && m->nwords < MAX_WORDS;) {
            size_t n = strcspn(w, " \t\n");
            m->words[m->nwords++] = er_xstrndup(w, n);
            w += n;
            w += strspn(w, " \t\n");
        }
    }
    free(q);
    m->sel = 0;
    m->top = 0;
    tui_memory_invalidate(a);
}

/* ---- loading and matching ---- */

typedef struct match_ctx {
    tui_memory *m;
    unsigned found; /* bit i: words[i] was seen */
    char *snippet;
} match_ctx;

/* A line of text around the match, newlines flattened. */
static char *snippet_at(const char *text, const char *hit)
{
    const char *start = hit - text > SNIPPET_BEFORE ? hit - SNIPPET_BEFORE : text;
    while (start > text && ((unsigned char)*start & 0xC0) == 0x80)
        start--;
    char *s = tui_sanitize(start, strlen(start) < 400 ? strlen(start) : 400);
    /* One line: newlines become spaces and runs of spaces one. */
    char *w = s;
    for (const char *p = s; *p; p++) {
        char c = *p == '\n' ? ' ' : *p;
        if (!(c == ' ' && w > s && w[-1] == ' '))
            *w++ = c;
    }
    *w = '\0';
    char *out = er_xasprintf("%s%s", start > text ? "…" : "", s);
    free(s);
    return out;
}

static void match_text(match_ctx *c, const char *text)
{
    for (int i = 0; text && i < c->m->nwords; i++) {
        const char *hit = strcasestr(text, c->m->words[i]);
        if (!hit)
            continue;
        c->found |= 1u << i;
        if (i == 0 && !c->snippet)
            c->snippet = snippet_at(text, hit);
    }
}

static int match_msg(const er_message *msg, void *payload)
{
    match_ctx *c = payload;
    match_text(c, msg->content);
    unsigned all = (1u << c->m->nwords) - 1;
    return c->found == all && c->snippet ? 1 : 0; /* enough: stop reading */
}

static int add_conv(const er_conversation *cv, void *payload)
{
    void **ctx = payload;
    tui_memory *m = ctx[0];
    er_store *st = ctx[1];
    m->scanned++;
    char *snippet = NULL;
    if (m->nwords) {
        match_ctx c = { m, 0, NULL };
        match_text(&c, cv->title);
        free(c.snippet); /* a title match needs no snippet: the title shows */
        c.snippet = NULL;
        er_store_msg_list(st, cv->id, 0, match_msg, &c, NULL);
        if (c.found != (1u << m->nwords) - 1) {
            free(c.snippet);
            return 0;
        }
        snippet = c.snippet;
    }
    m->rows = er_xrealloc(m->rows, (m->n + 1) * sizeof *m->rows);
    conv_row *r = &m->rows[m->n++];
    er_strlcpy(r->id, cv->id, sizeof r->id);
    const char *title = cv->title && *cv->title ? cv->title : "(untitled)";
    r->title = tui_sanitize(title, strlen(title));
    for (char *p = r->title; *p; p++)
        if (*p == '\n')
            *p = ' ';
    r->snippet = snippet;
    r->updated_ms = cv->updated_ms;
    return 0;
}

static void load(tui_app *a)
{
    tui_memory *m = a->memory;
    clear_rows(m);
    m->stale = false;
    m->scanned = 0;
    er_store *st;
    er_error err = { 0 };
    if (er_env_store(a->env, &st, &err) == 0) {
        void *ctx[2] = { m, st };
        er_store_conv_list(st, a->user_id, LIST_LIMIT, add_conv, ctx, &err);
    }
    if (err.code)
        tui_set_status(a, true, "Cannot list conversations: %s", err.msg);
    if (m->sel >= m->n)
        m->sel = m->n ? m->n - 1 : 0;
}

/* ---- drawing ---- */

static void draw_row(const tui_memory *m, const conv_row *r, int y, int w, bool sel)
{
    tui_style base = sel ? TUI_S_SELECTED : TUI_S_TEXT;
    tui_fill(y, 0, w, base);
    char ts[32];
    tui_clock(r->updated_ms, true, ts, sizeof ts);
    tui_put(y, 1, 17, sel ? base : TUI_S_DIM, ts);
    int x = 19, room = w - x - 15;
    x += tui_put(y, x, room, sel ? base : TUI_S_BOLD, r->title);
    if (r->snippet && x < 19 + room - 4) {
        x += tui_put(y, x, 19 + room - x, base, "  ");
        tui_put(y, x, 19 + room - x, sel ? base : TUI_S_DIM, r->snippet);
    }
    tui_putf(y, w - 14, 14, sel ? base : TUI_S_DIM, "%.13s", r->id);
    (void)m;
}

/* Which tab shows, and the key that switches. */
static void draw_tabs(const tui_memory *m, int y, int w)
{
    tui_fill(y, 0, w, TUI_S_TEXT);
    int x = 1;
    bool conv = !m->show_items && !m->show_graph, items = m->show_items && !m->show_graph;
    x += tui_put(y, x, w - x, conv ? TUI_S_BOLD : TUI_S_DIM, " Conversations ");
    x += tui_put(y, x, w - x, items ? TUI_S_BOLD : TUI_S_DIM, " Memories ");
    x += tui_put(y, x, w - x, m->show_graph ? TUI_S_BOLD : TUI_S_DIM, " Graph ");
    tui_put(y, x + 1, w - x - 1, TUI_S_DIM,
            m->show_graph   ? "m: memories · /: entity · Enter: follow · Backspace: back"
            : m->show_items ? "m: conversations · d d: forget · g: graph of its entities"
                            : "m: memories · g: graph");
}

void tui_memory_draw(tui_app *a, tui_rect r)
{
    tui_memory *m = a->memory;
    draw_tabs(m, r.y, r.w);
    r.y++;
    r.h--;
    if (m->show_graph) {
        tui_graph_draw(a, m->graph, r);
        return;
    }
    if (m->show_items) {
        tui_memories_draw(a, m->items, r);
        return;
    }
    if (m->stale)
        load(a);
    int y = r.y;
    if (m->query) {
        tui_fill(y, 0, r.w, TUI_S_TEXT);
        int x = tui_put(y, 1, r.w - 1, TUI_S_BOLD, "Search: ");
        x += tui_put(y, 1 + x, r.w - 1 - x, TUI_S_INLINE, m->query);
        tui_putf(y, 1 + x, r.w - 1 - x, TUI_S_DIM,
                 "  %zu of %zu conversations match — Esc "
                 "clears",
                 m->n, m->scanned);
        y++;
    }
    tui_fill(y, 0, r.w, TUI_S_HEADER);
    tui_put(y, 1, 17, TUI_S_HEADER, "UPDATED");
    tui_put(y, 19, r.w - 34, TUI_S_HEADER, m->query ? "TITLE  MATCH" : "TITLE");
    tui_put(y, r.w - 14, 14, TUI_S_HEADER, "ID");
    y++;
    int h = r.y + r.h - y;
    if (m->n == 0) {
        tui_put(y + 1, 2, r.w - 2, TUI_S_DIM,
                m->query ? "Nothing matches; / searches again." : "No conversations yet.");
        return;
    }
    m->page = h;
    tui_list_scroll(m->sel, h, &m->top);
    for (int i = 0; i < h && (size_t)(m->top + i) < m->n; i++)
        draw_row(m, &m->rows[m->top + i], y + i, r.w, (size_t)(m->top + i) == m->sel);
}

/* ---- keys ---- */

bool tui_memory_key(tui_app *a, const tui_key *k)
{
    tui_memory *m = a->memory;
    if (!k->fn && !k->alt && k->c == 'm') {
        m->show_items = m->show_graph || !m->show_items; /* from the graph: the memories */
        m->show_graph = false;
        a->dirty = true;
        return true;
    }
    if (!k->fn && !k->alt && k->c == 'g' && !m->show_graph) {
        /* from a memory: the graph of what it names (none: the status says so) */
        char id[ER_ID_LEN];
        if (m->show_items && tui_memories_selected(a, m->items, id))
            tui_graph_open_memory(a, m->graph, id);
        m->show_graph = true;
        a->dirty = true;
        return true;
    }
    if (m->show_graph)
        return tui_graph_key(a, m->graph, k);
    if (m->show_items)
        return tui_memories_key(a, m->items, k);
    if (m->stale)
        load(a); /* keys typed ahead act on what the next frame will show */
    if (tui_list_key(k, m->n, &m->sel, m->page))
        ;
    else if ((k->fn && k->c == KEY_ENTER) || (!k->fn && (k->c == '\r' || k->c == '\n'))) {
        if (m->sel < m->n)
            tui_session_use_conversation(a, m->rows[m->sel].id, m->rows[m->sel].title);
    } else if (k->fn)
        return false;
    else if (k->c == '/')
        tui_input_set_mode(a, TUI_INPUT_SEARCH);
    else if (k->c == 27 && m->query)
        tui_memory_search(a, "");
    else if (k->c == 'r')
        m->stale = true;
    else
        return false;
    a->dirty = true;
    return true;
}
