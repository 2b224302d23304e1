/* chat.c — the chat panel: the conversation as entries (you, the agent, notes,
 * errors), streamed text, code blocks set off and highlighted, wrapping,
 * scrollback.
 *
 * Each entry keeps its raw text and a layout for the width it was last drawn
 * at: the sanitised text, a style per byte (text.c's highlighter) and its
 * screen rows.  Appending a token only invalidates that entry's layout, so a
 * streaming answer costs one entry's re-layout per frame, not the whole chat. */
#include "tui.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/markdown.h"
#include "errand/str.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INDENT              2
#define GUTTER              "│ "
#define GUTTER_W            2
#define MAX_LOADED_MESSAGES 500

typedef enum { ROW_HEADER, ROW_NOTE, ROW_DETAIL, ROW_BODY, ROW_THINKING, ROW_BLANK } row_part;

typedef struct row {
    size_t off, len; /* into the entry's shown text, or its note's text or detail */
    size_t note;     /* which note (ROW_NOTE, ROW_DETAIL) */
    row_part part;
    bool code; /* inside a code block: drawn behind a gutter */
    bool more; /* a wrapped continuation of the row before */
} row;

typedef struct entry {
    tui_entry_kind kind;
    char *who;
    er_buf text;     /* as received */
    tui_note *notes; /* steps, sanitised */
    size_t nnotes, capnotes;
    bool running;
    int64_t started_ms, ended_ms; /* er_mono_ms */
    /* layout for `width` (0: stale) */
    int width;
    char *shown;
    unsigned char *styles;
    row *rows;
    size_t nrows, caprows;
} entry;

struct tui_chat {
    entry *e;
    size_t n, cap;
    int scroll; /* rows scrolled back from the end */
    size_t last_total;
    int last_width;
    int page;       /* rows on screen at the last draw */
    bool markdown;  /* answers are a model's Markdown (not the offline rules' output) */
    char *find;     /* the words /search looks for (shown reversed), or NULL */
    size_t find_at; /* the row (counted from the top) of the match shown last */
};

tui_chat *tui_chat_new(void)
{
    return er_xcalloc(1, sizeof(tui_chat));
}

static void entry_release(entry *e)
{
    free(e->who);
    er_buf_release(&e->text);
    for (size_t i = 0; i < e->nnotes; i++) {
        free(e->notes[i].text);
        free(e->notes[i].detail);
    }
    free(e->notes);
    free(e->shown);
    free(e->styles);
    free(e->rows);
}

void tui_chat_set_markdown(tui_chat *ch, bool on)
{
    ch->markdown = on;
    for (size_t i = 0; i < ch->n; i++)
        ch->e[i].width = 0;
}

void tui_chat_clear(tui_chat *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        entry_release(&ch->e[i]);
    ch->n = 0;
    ch->scroll = 0;
    ch->last_total = 0;
}

void tui_chat_free(tui_chat *ch)
{
    free(ch->find);
    if (!ch)
        return;
    tui_chat_clear(ch);
    free(ch->e);
    free(ch);
}

size_t tui_chat_add(tui_chat *ch, tui_entry_kind kind, const char *who, const char *text)
{
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? ch->cap * 2 : 32;
        ch->e = er_xrealloc(ch->e, ch->cap * sizeof *ch->e);
    }
    entry *e = &ch->e[ch->n];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->who = er_xstrdup(who);
    if (text)
        er_buf_puts(&e->text, text);
    return ch->n++;
}

static entry *get(tui_chat *ch, size_t i)
{
    if (i >= ch->n)
        return NULL;
    ch->e[i].width = 0;
    return &ch->e[i];
}

void tui_chat_append(tui_chat *ch, size_t i, const char *text, size_t len)
{
    entry *e = get(ch, i);
    if (e)
        er_buf_append(&e->text, text, len);
}

void tui_chat_set_text(tui_chat *ch, size_t i, const char *text)
{
    entry *e = get(ch, i);
    if (!e)
        return;
    er_buf_reset(&e->text);
    er_buf_puts(&e->text, text);
}

void tui_chat_set_who(tui_chat *ch, size_t i, const char *who)
{
    entry *e = get(ch, i);
    if (!e)
        return;
    free(e->who);
    e->who = er_xstrdup(who);
}

void tui_chat_set_kind(tui_chat *ch, size_t i, tui_entry_kind kind)
{
    entry *e = get(ch, i);
    if (e)
        e->kind = kind;
}

/* Sanitised, on one line (a note is one line; its detail keeps its lines). */
static char *one_line(const char *text)
{
    char *clean = tui_sanitize(text, strlen(text));
    for (char *p = clean; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return clean;
}

static char *detail_text(const char *detail)
{
    if (!detail || !*detail)
        return NULL;
    char *clean = tui_sanitize(detail, strlen(detail));
    size_t n = strlen(clean);
    while (n && clean[n - 1] == '\n')
        clean[--n] = '\0';
    return clean;
}

size_t tui_chat_note(tui_chat *ch, size_t i, const char *text)
{
    entry *e = get(ch, i);
    if (!e || !text)
        return SIZE_MAX;
    if (e->nnotes == e->capnotes) {
        e->capnotes = e->capnotes ? e->capnotes * 2 : 8;
        e->notes = er_xrealloc(e->notes, e->capnotes * sizeof *e->notes);
    }
    e->notes[e->nnotes] = (tui_note){ one_line(text), NULL, TUI_NOTE_STEP };
    return e->nnotes++;
}

void tui_chat_note_set(tui_chat *ch, size_t i, size_t note, tui_note_kind kind, const char *text,
                       const char *detail)
{
    entry *e = get(ch, i);
    if (!e || note >= e->nnotes)
        return;
    tui_note *n = &e->notes[note];
    if (text) {
        free(n->text);
        n->text = one_line(text);
    }
    free(n->detail);
    n->detail = detail_text(detail);
    n->kind = kind;
}

void tui_chat_set_running(tui_chat *ch, size_t i, bool running, int64_t started_ms)
{
    entry *e = get(ch, i);
    if (!e)
        return;
    e->running = running;
    e->started_ms = started_ms;
    e->ended_ms = running ? 0 : er_mono_ms();
}

/* ---- copying ---- */

/* The n-th (1-based) fenced code block of text, without its fences. */
static char *code_block(const char *text, int n)
{
    er_buf b = ER_BUF_INIT;
    int seen = 0;
    bool in_code = false, in = false;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        if (tui_hl_is_fence(p, len)) {
            in_code = !in_code;
            if (in_code) {
                in = ++seen == n;
            } else if (in) {
                return er_buf_detach(&b);
            }
        } else if (in) {
            er_buf_append(&b, p, len);
            er_buf_putc(&b, '\n');
        }
        p += len + (p[len] == '\n');
    }
    if (in) /* an answer cut inside its block: what there is */
        return er_buf_detach(&b);
    er_buf_release(&b);
    return NULL;
}

char *tui_chat_copy_text(tui_chat *ch, int block)
{
    for (size_t i = ch->n; i-- > 0;) {
        const entry *e = &ch->e[i];
        if (e->kind != TUI_ENTRY_ASSISTANT || !e->text.len)
            continue;
        return block > 0 ? code_block(e->text.ptr, block) : er_xstrdup(e->text.ptr);
    }
    return NULL;
}

/* ---- layout ---- */

static void add_row(entry *e, row_part part, size_t off, size_t len, bool code, bool more)
{
    if (e->nrows == e->caprows) {
        e->caprows = e->caprows ? e->caprows * 2 : 16;
        e->rows = er_xrealloc(e->rows, e->caprows * sizeof *e->rows);
    }
    e->rows[e->nrows++] = (row){ off, len, 0, part, code, more };
}

static void wrap_rows(entry *e, row_part part, const char *s, size_t start, size_t end, int width,
                      bool code)
{
    if (start == end) {
        add_row(e, part, start, 0, code, false);
        return;
    }
    for (bool more = false; start < end; more = true) {
        size_t next;
        size_t n = tui_wrap(s + start, end - start, width, &next);
        add_row(e, part, start, n, code, more);
        start += next;
    }
}

static bool has_header(const entry *e)
{
    return e->who && e->kind != TUI_ENTRY_NOTE;
}

static void layout_body(entry *e, int width)
{
    const char *s = e->shown;
    size_t len = strlen(s);
    tui_hl_state hl = TUI_HL_INIT;
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(s + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - s) : len;
        bool code = hl.in_code && !tui_hl_is_fence(s + start, end - start);
        tui_hl_line(&hl, s + start, end - start, e->styles + start);
        wrap_rows(e, ROW_BODY, s, start, end, code ? width - GUTTER_W : width, code);
        start = end + 1;
    }
}

static void layout(entry *e, int width, bool markdown)
{
    free(e->shown);
    free(e->styles);
    e->nrows = 0;
    e->shown = tui_sanitize(e->text.ptr ? e->text.ptr : "", e->text.len);
    int inner = e->kind == TUI_ENTRY_NOTE ? width : width - INDENT;
    if (inner < 4)
        inner = 4;
    if (markdown && e->kind == TUI_ENTRY_ASSISTANT) { /* lists and tables laid out */
        char *md = er_md_render(e->shown, inner, 0);
        free(e->shown);
        e->shown = md;
    }
    size_t len = strlen(e->shown);
    e->styles = er_xcalloc(len + 1, 1);
    if (has_header(e))
        add_row(e, ROW_HEADER, 0, 0, false, false);
    for (size_t k = 0; k < e->nnotes; k++) {
        const tui_note *n = &e->notes[k];
        size_t first = e->nrows;
        wrap_rows(e, ROW_NOTE, n->text, 0, strlen(n->text), inner - 2, false);
        for (size_t start = 0, dlen = n->detail ? strlen(n->detail) : 0; start < dlen;) {
            const char *nl = memchr(n->detail + start, '\n', dlen - start);
            size_t end = nl ? (size_t)(nl - n->detail) : dlen;
            wrap_rows(e, ROW_DETAIL, n->detail, start, end, inner - 4, false);
            start = end + 1;
        }
        for (size_t r = first; r < e->nrows; r++)
            e->rows[r].note = k;
    }
    if (len)
        layout_body(e, inner);
    else if (e->running)
        add_row(e, ROW_THINKING, 0, 0, false, false);
    add_row(e, ROW_BLANK, 0, 0, false, false);
    e->width = width;
}

/* ---- drawing ---- */

static tui_style body_style(const entry *e, unsigned char st)
{
    if (e->kind == TUI_ENTRY_NOTE)
        return TUI_S_DIM;
    if (e->kind == TUI_ENTRY_ERROR)
        return TUI_S_ERROR;
    return (tui_style)st;
}

static void draw_header(const entry *e, int y, int w)
{
    tui_style st = e->kind == TUI_ENTRY_USER    ? TUI_S_USER
                   : e->kind == TUI_ENTRY_ERROR ? TUI_S_ERROR
                                                : TUI_S_AGENT;
    int x = tui_put(y, 0, w, st, e->who);
    if (e->started_ms) {
        char d[32];
        int64_t end = e->running ? er_mono_ms() : e->ended_ms;
        tui_duration(end - e->started_ms, d, sizeof d);
        tui_putf(y, x, w - x, TUI_S_DIM, e->running ? " · working %s" : " · %s", d);
    }
}

/* The first match of find (ASCII case ignored) in the n bytes at s, or NULL. */
static const char *find_in(const char *s, size_t n, const char *find)
{
    size_t fl = strlen(find);
    for (size_t i = 0; fl && i + fl <= n; i++)
        if (strncasecmp(s + i, find, fl) == 0)
            return s + i;
    return NULL;
}

/* Overdraws each match of find in the row's text (drawn from column x0). */
static void mark_matches(const char *text, size_t len, const char *find, int y, int x0, int w)
{
    if (!find)
        return;
    size_t fl = strlen(find);
    for (const char *p = text, *m; (m = find_in(p, len - (size_t)(p - text), find)); p = m + fl) {
        int x = x0 + tui_text_width(text, (size_t)(m - text));
        if (x < w)
            tui_putn(y, x, w - x, TUI_S_SELECTED, m, fl);
    }
}

static void draw_body(const entry *e, const row *r, int y, int w, const char *find)
{
    int x = e->kind == TUI_ENTRY_NOTE ? 0 : INDENT;
    if (r->code)
        x += tui_put(y, x, w - x, TUI_S_FENCE, GUTTER);
    int x0 = x;
    size_t i = r->off, end = r->off + r->len;
    while (i < end && x < w) {
        unsigned char st = e->styles[i];
        size_t j = i + 1;
        while (j < end && e->styles[j] == st)
            j++;
        x += tui_putn(y, x, w - x, body_style(e, st), e->shown + i, j - i);
        i = j;
    }
    mark_matches(e->shown + r->off, r->len, find, y, x0, w);
}

/* A step's detail: a diff coloured, other output dimmed, behind a gutter. */
static void draw_detail(const entry *e, const row *r, int y, int w)
{
    const char *d = e->notes[r->note].detail;
    const char *line = d + r->off;
    if (r->more) { /* a wrapped row: its line's start decides the colour */
        while (line > d && line[-1] != '\n')
            line--;
    }
    tui_style st = TUI_S_DIM;
    if (line[0] == '+' && line[1] != '+')
        st = TUI_S_STRING;
    else if (line[0] == '-' && line[1] != '-')
        st = TUI_S_ERROR;
    else if (line[0] == '@' && line[1] == '@')
        st = TUI_S_KEYWORD;
    int x = INDENT + 2;
    x += tui_put(y, x, w - x, TUI_S_FENCE, GUTTER);
    tui_putn(y, x, w - x, st, d + r->off, r->len);
}

static void draw_row(const entry *e, const row *r, int y, int w, const char *find)
{
    switch (r->part) {
    case ROW_HEADER: draw_header(e, y, w); break;
    case ROW_NOTE: {
        const tui_note *n = &e->notes[r->note];
        tui_style st = n->kind == TUI_NOTE_OK       ? TUI_S_DONE
                       : n->kind == TUI_NOTE_FAILED ? TUI_S_ERROR
                                                    : TUI_S_DIM;
        if (!r->more)
            tui_put(y, INDENT, w - INDENT, st,
                    n->kind == TUI_NOTE_OK       ? "✓ "
                    : n->kind == TUI_NOTE_FAILED ? "✗ "
                                                 : "· ");
        tui_putn(y, INDENT + 2, w - INDENT - 2, st, n->text + r->off, r->len);
        mark_matches(n->text + r->off, r->len, find, y, INDENT + 2, w);
        break;
    }
    case ROW_DETAIL: draw_detail(e, r, y, w); break;
    case ROW_BODY: draw_body(e, r, y, w, find); break;
    case ROW_THINKING: tui_put(y, INDENT, w - INDENT, TUI_S_DIM, "…"); break;
    case ROW_BLANK: break;
    }
}

void tui_chat_draw(tui_app *a, tui_rect r)
{
    tui_chat *ch = a->chat;
    size_t total = 0;
    bool same_width = ch->last_width == r.w;
    for (size_t i = 0; i < ch->n; i++) {
        if (ch->e[i].width != r.w)
            layout(&ch->e[i], r.w, ch->markdown);
        total += ch->e[i].nrows;
    }
    /* Scrolled back: keep the view still while new rows arrive below it. */
    if (ch->scroll > 0 && same_width && total > ch->last_total)
        ch->scroll += (int)(total - ch->last_total);
    ch->last_total = total;
    ch->last_width = r.w;
    ch->page = r.h;
    int max_scroll = total > (size_t)r.h ? (int)(total - (size_t)r.h) : 0;
    if (ch->scroll > max_scroll)
        ch->scroll = max_scroll;
    if (ch->scroll < 0)
        ch->scroll = 0;
    size_t first = total > (size_t)r.h ? total - (size_t)r.h - (size_t)ch->scroll : 0;
    size_t at = 0;
    int y = r.y;
    for (size_t i = 0; i < ch->n && y < r.y + r.h; i++) {
        entry *e = &ch->e[i];
        if (at + e->nrows <= first) {
            at += e->nrows;
            continue;
        }
        for (size_t k = first > at ? first - at : 0; k < e->nrows && y < r.y + r.h; k++)
            draw_row(e, &e->rows[k], y++, r.w, ch->find);
        at += e->nrows;
    }
    if (ch->scroll > 0) {
        char more[48];
        snprintf(more, sizeof more, " ↓ %d more (PgDn) ", ch->scroll);
        int w = tui_text_width(more, strlen(more));
        tui_put(r.y + r.h - 1, r.w - w, w, TUI_S_BAR, more);
    }
}

void tui_chat_scroll(tui_app *a, int rows)
{
    a->chat->scroll += rows;
    if (a->chat->scroll < 0)
        a->chat->scroll = 0;
    a->dirty = true;
}

void tui_chat_bottom(tui_chat *ch)
{
    ch->scroll = 0;
}

/* The text a row shows, for matching: the body's or a step's. */
static bool row_matches(const entry *e, const row *r, const char *find)
{
    if (r->part == ROW_BODY)
        return find_in(e->shown + r->off, r->len, find) != NULL;
    if (r->part == ROW_NOTE)
        return find_in(e->notes[r->note].text + r->off, r->len, find) != NULL;
    return false;
}

int tui_chat_find(tui_chat *ch, const char *words, int *nth)
{
    if (words) {
        free(ch->find);
        ch->find = *words ? er_xstrdup(words) : NULL;
        ch->find_at = SIZE_MAX; /* the newest match first */
    }
    *nth = 0;
    if (!ch->find || !ch->last_width)
        return 0;
    size_t total = 0, count = 0, pick = SIZE_MAX, pick_nth = 0;
    for (size_t i = 0; i < ch->n; i++) {
        entry *e = &ch->e[i];
        if (e->width != ch->last_width)
            layout(e, ch->last_width, ch->markdown);
        for (size_t k = 0; k < e->nrows; k++, total++) {
            if (!row_matches(e, &e->rows[k], ch->find))
                continue;
            count++;
            /* Going back in time: the last match above the one shown. */
            if (total < ch->find_at) {
                pick = total;
                pick_nth = count;
            }
        }
    }
    if (count && pick == SIZE_MAX) { /* past the oldest: round to the newest */
        ch->find_at = SIZE_MAX;
        return tui_chat_find(ch, NULL, nth);
    }
    if (!count)
        return 0;
    ch->find_at = pick;
    *nth = (int)pick_nth;
    /* The match in the middle of the panel, as far as the ends allow. */
    int half = ch->page / 2;
    long sc = (long)total - (long)ch->page - ((long)pick - half);
    ch->scroll = sc < 0 ? 0 : sc > INT_MAX / 2 ? INT_MAX / 2 : (int)sc;
    ch->last_total = total;
    return (int)count;
}

bool tui_chat_key(tui_app *a, const tui_key *k)
{
    if (!k->fn)
        return false;
    int page = a->chat->page > 3 ? a->chat->page - 2 : 1;
    switch (k->c) {
    case KEY_PPAGE: tui_chat_scroll(a, page); return true;
    case KEY_NPAGE: tui_chat_scroll(a, -page); return true;
    case KEY_SR: tui_chat_scroll(a, 3); return true;
    case KEY_SF: tui_chat_scroll(a, -3); return true;
    case KEY_HOME: /* with text in the input line they move its caret instead */
        if (!tui_input_empty())
            return false;
        tui_chat_scroll(a, INT_MAX / 2); /* clamped to the top when drawn */
        return true;
    case KEY_END:
        if (!tui_input_empty())
            return false;
        tui_chat_bottom(a->chat);
        return true;
    default: return false;
    }
}

/* ---- loading a stored conversation ---- */

typedef struct load_ctx {
    tui_app *a;
    er_store *st;
    int n;
} load_ctx;

static int load_msg(const er_message *m, void *payload)
{
    load_ctx *l = payload;
    bool user = er_str_eq(m->role, "user");
    char *who = NULL;
    er_task t;
    if (!user && m->task_id[0] && er_store_task_get(l->st, m->task_id, &t, NULL) == 0) {
        who = er_xstrdup(t.agent);
        er_task_release(&t);
    }
    tui_chat_add(l->a->chat, user ? TUI_ENTRY_USER : TUI_ENTRY_ASSISTANT,
                 user  ? "you"
                 : who ? who
                       : "errand",
                 m->content);
    free(who);
    l->n++;
    return 0;
}

int tui_chat_load(tui_app *a, const char *conv_id, er_error *err)
{
    load_ctx l = { a, NULL, 0 };
    int rc = er_env_store(a->env, &l.st, err);
    if (rc)
        return rc;
    size_t note = tui_chat_add(a->chat, TUI_ENTRY_NOTE, NULL, "");
    rc = er_store_msg_list(l.st, conv_id, MAX_LOADED_MESSAGES, load_msg, &l, err);
    char *text = er_xasprintf("Continuing conversation %.13s (%d message%s%s). /new starts "
                              "a fresh one.",
                              conv_id, l.n, l.n == 1 ? "" : "s",
                              l.n == MAX_LOADED_MESSAGES ? ", the latest shown" : "");
    tui_chat_set_text(a->chat, note, text);
    free(text);
    tui_chat_bottom(a->chat);
    return rc;
}
