/* graph.c — the memory view's graph tab: an entity of the agents' memory and
 * the relations around it (store_memory.h), as an indented tree, nearest
 * first: `/` names the entity, Enter follows the selected relation to the
 * entity at its other end, Backspace goes back the way it came.  Opened from
 * a memory (the memories tab's `g`), it shows the entities that memory names
 * (store_entities.h), the first one, and `n` / `N` go through the others.
 * It reads the store's graph functions directly; names are shown as data,
 * sanitised. */
#include "tui.h"
#include "errand/alloc.h"
#include "errand/store_entities.h"
#include "errand/store_memory.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GRAPH_DEPTH 2   /* the entity's relations and theirs */
#define GRAPH_ROWS  500 /* a hub's relations beyond this are not listed */
#define TRAIL_MAX   32  /* entities Backspace goes back through */
#define NAMED_MAX   20  /* entities of one memory `n` goes through */

typedef struct rel_row {
    char *subject, *predicate, *object; /* sanitised, one line each */
    double confidence;
    int depth;
} rel_row;

struct tui_graph {
    char *entity; /* NULL: none named yet */
    char *trail[TRAIL_MAX];
    int ntrail;
    char *named[NAMED_MAX]; /* the entities the memory it was opened from names */
    int nnamed, at;         /* at: the one shown */
    rel_row *rows;
    size_t n;
    bool stale, missing, truncated;
    size_t sel;
    int top, page;
};

tui_graph *tui_graph_new(void)
{
    return er_xcalloc(1, sizeof(tui_graph));
}

static void clear_rows(tui_graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->rows[i].subject);
        free(g->rows[i].predicate);
        free(g->rows[i].object);
    }
    free(g->rows);
    g->rows = NULL;
    g->n = 0;
}

static void forget_path(tui_graph *g)
{
    for (int i = 0; i < g->ntrail; i++)
        free(g->trail[i]);
    g->ntrail = 0;
    for (int i = 0; i < g->nnamed; i++)
        free(g->named[i]);
    g->nnamed = g->at = 0;
}

void tui_graph_free(tui_graph *g)
{
    if (!g)
        return;
    clear_rows(g);
    free(g->entity);
    forget_path(g);
    free(g);
}

static char *one_line(const char *s)
{
    s = s ? s : "";
    char *out = tui_sanitize(s, strlen(s) < 200 ? strlen(s) : 200);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return out;
}

static int add_row(const er_memory_relation *r, void *payload)
{
    tui_graph *g = payload;
    if (g->n == GRAPH_ROWS) {
        g->truncated = true;
        return 1; /* enough: stop the walk */
    }
    g->rows = er_xrealloc(g->rows, (g->n + 1) * sizeof *g->rows);
    rel_row *row = &g->rows[g->n++];
    row->subject = one_line(r->subject);
    row->predicate = one_line(r->predicate);
    row->object = one_line(r->object);
    row->confidence = r->confidence;
    row->depth = r->depth;
    return 0;
}

static void load(tui_app *a, tui_graph *g)
{
    clear_rows(g);
    g->stale = g->missing = g->truncated = false;
    if (!g->entity)
        return;
    er_store *st;
    er_error err = { 0 };
    int rc = er_env_store(a->env, &st, &err);
    if (!rc)
        rc = er_store_memory_graph(st, a->user_id, g->entity, GRAPH_DEPTH, add_row, g, &err);
    if (rc == ER_ENOTFOUND)
        g->missing = true;
    else if (rc && !g->truncated)
        tui_set_status(a, true, "Cannot read the graph: %s", err.msg);
    if (g->sel >= g->n)
        g->sel = g->n ? g->n - 1 : 0;
}

static void go_to(tui_app *a, tui_graph *g, const char *entity, bool remember)
{
    if (remember && g->entity) {
        if (g->ntrail == TRAIL_MAX) { /* the oldest step back is forgotten */
            free(g->trail[0]);
            memmove(g->trail, g->trail + 1, (TRAIL_MAX - 1) * sizeof *g->trail);
            g->ntrail--;
        }
        g->trail[g->ntrail++] = g->entity;
        g->entity = NULL;
    }
    free(g->entity);
    g->entity = er_xstrdup(entity);
    g->sel = 0;
    g->top = 0;
    g->stale = true;
    a->dirty = true;
}

void tui_graph_search(tui_app *a, tui_graph *g, const char *query)
{
    char *q = er_xstrdup(query);
    if (*er_str_trim(q)) {
        for (int i = 0; i < g->nnamed; i++) /* a name typed leaves the memory's */
            free(g->named[i]);
        g->nnamed = g->at = 0;
        go_to(a, g, er_str_trim(q), true);
    }
    free(q);
}

static int add_named(const er_memory_entity *e, void *payload)
{
    tui_graph *g = payload;
    if (g->nnamed < NAMED_MAX)
        g->named[g->nnamed++] = er_xstrdup(e->name);
    return 0;
}

bool tui_graph_open_memory(tui_app *a, tui_graph *g, const char *memory_id)
{
    er_store *st;
    er_error err = { 0 };
    er_memory_item it = { 0 };
    int rc = er_env_store(a->env, &st, &err);
    if (!rc)
        rc = er_store_memory_get(st, memory_id, &it, &err);
    forget_path(g);
    if (!rc)
        rc = er_store_memory_mentions(st, a->user_id, it.text, NAMED_MAX, add_named, g, &err);
    er_memory_item_release(&it);
    free(g->entity);
    g->entity = NULL;
    g->stale = true;
    a->dirty = true;
    if (rc) {
        tui_set_status(a, true, "Cannot read that memory's entities: %s", err.msg);
        return false;
    }
    if (g->nnamed == 0) {
        tui_set_status(a, false, "That memory names no entity of the graph; / names one.");
        return false;
    }
    go_to(a, g, g->named[0], false);
    if (g->nnamed > 1)
        tui_set_status(a, false, "The memory names %d entities: n shows the next, N the previous.",
                       g->nnamed);
    return true;
}

/* n / N: the next or previous entity the memory names, round. */
static void cycle_named(tui_app *a, tui_graph *g, int step)
{
    if (g->nnamed < 2)
        return;
    g->at = (g->at + step + g->nnamed) % g->nnamed;
    for (int i = 0; i < g->ntrail; i++) /* the path followed from the last one */
        free(g->trail[i]);
    g->ntrail = 0;
    go_to(a, g, g->named[g->at], false);
}

void tui_graph_reload(tui_graph *g)
{
    g->stale = true;
}

void tui_graph_draw(tui_app *a, tui_graph *g, tui_rect r)
{
    if (g->stale)
        load(a, g);
    int y = r.y;
    tui_fill(y, 0, r.w, TUI_S_TEXT);
    if (!g->entity) {
        tui_put(y + 1, 2, r.w - 2, TUI_S_DIM,
                "/ names an entity (errand memory relate, or the agents' memory_relate).");
        return;
    }
    int x = tui_put(y, 1, r.w - 1, TUI_S_BOLD, "Entity: ");
    char *name = one_line(g->entity);
    x += tui_put(y, 1 + x, r.w - 1 - x, TUI_S_INLINE, name);
    free(name);
    x += tui_putf(y, 1 + x, r.w - 1 - x, TUI_S_DIM, "  %zu relation%s%s", g->n,
                  g->n == 1 ? "" : "s", g->truncated ? " (first ones)" : "");
    if (g->nnamed > 1)
        tui_putf(y, 1 + x, r.w - 1 - x, TUI_S_DIM, " — named in the memory: %d of %d, n: next",
                 g->at + 1, g->nnamed);
    else
        tui_put(y, 1 + x, r.w - 1 - x, TUI_S_DIM, " — Enter follows, Backspace back");
    y++;
    int h = r.y + r.h - y;
    if (g->n == 0) {
        tui_put(y + 1, 2, r.w - 2, TUI_S_DIM,
                g->missing ? "No entity has that name; / names another." : "No relations yet.");
        return;
    }
    g->page = h;
    tui_list_scroll(g->sel, h, &g->top);
    for (int i = 0; i < h && (size_t)(g->top + i) < g->n; i++) {
        const rel_row *row = &g->rows[g->top + i];
        bool sel = (size_t)(g->top + i) == g->sel;
        tui_style base = sel ? TUI_S_SELECTED : TUI_S_TEXT;
        tui_fill(y + i, 0, r.w, base);
        int cx = 1 + 2 * row->depth;
        cx += tui_put(y + i, cx, r.w - cx, base, row->subject);
        cx += tui_putf(y + i, cx, r.w - cx, sel ? base : TUI_S_DIM, " —%s→ ", row->predicate);
        cx += tui_put(y + i, cx, r.w - cx, base, row->object);
        if (row->confidence < 1.0)
            tui_putf(y + i, cx, r.w - cx, sel ? base : TUI_S_DIM, "  (%.2f)", row->confidence);
    }
}

/* The end of the selected relation away from where the view stands: the
 * subject of one pointing at the entity, else the object (a relation further
 * out leads on along its arrow). */
static const char *far_end(const tui_graph *g, const rel_row *row)
{
    char *here = one_line(g->entity);
    bool to_here = strcasecmp(row->object, here) == 0 && strcasecmp(row->subject, here) != 0;
    free(here);
    return to_here ? row->subject : row->object;
}

bool tui_graph_key(tui_app *a, tui_graph *g, const tui_key *k)
{
    if (g->stale)
        load(a, g);
    bool enter = (k->fn && k->c == KEY_ENTER) || (!k->fn && (k->c == '\r' || k->c == '\n'));
    bool back = (k->fn && k->c == KEY_BACKSPACE) || (!k->fn && (k->c == 127 || k->c == 8));
    if (tui_list_key(k, g->n, &g->sel, g->page))
        ;
    else if (enter) {
        if (g->sel < g->n) {
            char *next = er_xstrdup(far_end(g, &g->rows[g->sel]));
            go_to(a, g, next, true);
            free(next);
        }
    } else if (back) {
        if (g->ntrail == 0)
            return true;
        char *prev = g->trail[--g->ntrail];
        go_to(a, g, prev, false);
        free(prev);
    } else if (k->fn)
        return false;
    else if (k->c == '/')
        tui_input_set_mode(a, TUI_INPUT_SEARCH);
    else if (k->c == 'r')
        g->stale = true;
    else if (k->c == 'n' || k->c == 'N')
        cycle_named(a, g, k->c == 'n' ? 1 : -1);
    else
        return false;
    a->dirty = true;
    return true;
}
