/* theme.c — colours and the few drawing primitives every panel uses.
 *
 * Colours are the terminal's own eight over its default background
 * (use_default_colors), so the TUI looks like the user's terminal.  With
 * NO_COLOR set (no-color.org) or a terminal without colours, each style falls
 * back to attributes alone (bold, dim, underline, reverse). */
#include "tui.h"
#include "errand/alloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct style_def {
    short fg;    /* -1: the terminal's default */
    attr_t attr; /* with colours */
    attr_t mono; /* without */
} style_def;

static const style_def styles[TUI_S_COUNT] = {
    [TUI_S_TEXT] = { -1, 0, 0 },
    [TUI_S_BOLD] = { -1, A_BOLD, A_BOLD },
    [TUI_S_HEADING] = { COLOR_CYAN, A_BOLD, A_BOLD | A_UNDERLINE },
    [TUI_S_INLINE] = { COLOR_YELLOW, 0, A_BOLD },
    [TUI_S_FENCE] = { COLOR_BLUE, A_BOLD, A_DIM },
    [TUI_S_CODE] = { -1, 0, 0 },
    [TUI_S_KEYWORD] = { COLOR_MAGENTA, A_BOLD, A_BOLD },
    [TUI_S_STRING] = { COLOR_GREEN, 0, A_UNDERLINE },
    [TUI_S_COMMENT] = { COLOR_CYAN, A_DIM, A_DIM },
    [TUI_S_NUMBER] = { COLOR_YELLOW, 0, 0 },
    [TUI_S_DIM] = { -1, A_DIM, A_DIM },
    [TUI_S_USER] = { COLOR_GREEN, A_BOLD, A_BOLD },
    [TUI_S_AGENT] = { COLOR_CYAN, A_BOLD, A_BOLD },
    [TUI_S_ERROR] = { COLOR_RED, A_BOLD, A_BOLD },
    [TUI_S_TAB] = { -1, 0, 0 },
    [TUI_S_TAB_ACTIVE] = { -1, A_REVERSE | A_BOLD, A_REVERSE | A_BOLD },
    [TUI_S_BAR] = { -1, A_REVERSE, A_REVERSE },
    [TUI_S_BAR_KEY] = { -1, A_REVERSE | A_BOLD, A_REVERSE | A_BOLD },
    [TUI_S_SELECTED] = { -1, A_REVERSE, A_REVERSE },
    [TUI_S_HEADER] = { -1, A_BOLD | A_UNDERLINE, A_BOLD | A_UNDERLINE },
    [TUI_S_RUNNING] = { COLOR_GREEN, A_BOLD, A_BOLD },
    [TUI_S_DONE] = { COLOR_GREEN, 0, 0 },
    [TUI_S_WARN] = { COLOR_YELLOW, A_BOLD, A_BOLD },
    [TUI_S_BORDER] = { COLOR_YELLOW, A_BOLD, A_BOLD },
};

static bool use_color;

void tui_theme_init(bool color)
{
    use_color = color && has_colors();
    if (!use_color)
        return;
    start_color();
    use_default_colors();
    for (int i = 0; i < TUI_S_COUNT; i++)
        init_pair((short)(i + 1), styles[i].fg, -1);
}

void tui_use_style(tui_style s)
{
    if (use_color)
        attr_set(styles[s].attr, (short)(s + 1), NULL);
    else
        attr_set(styles[s].mono, 0, NULL);
}

int tui_putn(int y, int x, int w, tui_style s, const char *text, size_t len)
{
    if (w <= 0 || !text)
        return 0;
    size_t n = tui_fit(text, len, w);
    int used = tui_text_width(text, n);
    if (used > w) { /* one wide character in a one-column slot */
        return 0;
    }
    tui_use_style(s);
    mvaddnstr(y, x, text, (int)n);
    return used;
}

int tui_put(int y, int x, int w, tui_style s, const char *text)
{
    return text ? tui_putn(y, x, w, s, text, strlen(text)) : 0;
}

void tui_fill(int y, int x, int w, tui_style s)
{
    if (w <= 0)
        return;
    tui_use_style(s);
    mvhline(y, x, ' ', w);
}

int tui_putf(int y, int x, int w, tui_style s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return tui_put(y, x, w, s, line);
}

tui_rect tui_box(tui_rect r, const char *title)
{
    for (int i = 0; i < r.h; i++)
        tui_fill(r.y + i, r.x, r.w, TUI_S_TEXT);
    tui_use_style(TUI_S_BORDER);
    mvhline(r.y, r.x + 1, ACS_HLINE, r.w - 2);
    mvhline(r.y + r.h - 1, r.x + 1, ACS_HLINE, r.w - 2);
    mvvline(r.y + 1, r.x, ACS_VLINE, r.h - 2);
    mvvline(r.y + 1, r.x + r.w - 1, ACS_VLINE, r.h - 2);
    mvaddch(r.y, r.x, ACS_ULCORNER);
    mvaddch(r.y, r.x + r.w - 1, ACS_URCORNER);
    mvaddch(r.y + r.h - 1, r.x, ACS_LLCORNER);
    mvaddch(r.y + r.h - 1, r.x + r.w - 1, ACS_LRCORNER);
    if (title) {
        char t[128];
        snprintf(t, sizeof t, " %s ", title);
        tui_put(r.y, r.x + 2, r.w - 4, TUI_S_BORDER, t);
    }
    return (tui_rect){ r.y + 1, r.x + 2, r.h - 2, r.w - 4 };
}

bool tui_list_key(const tui_key *k, size_t n, size_t *sel, int page)
{
    long s = (long)*sel, step = page > 1 ? page : 1;
    if (k->fn) {
        switch (k->c) {
        case KEY_UP:
        case KEY_SR: s--; break;
        case KEY_DOWN:
        case KEY_SF: s++; break;
        case KEY_PPAGE: s -= step; break;
        case KEY_NPAGE: s += step; break;
        case KEY_HOME: s = 0; break;
        case KEY_END: s = (long)n - 1; break;
        default: return false;
        }
    } else if (k->c == 'k') {
        s--;
    } else if (k->c == 'j') {
        s++;
    } else {
        return false;
    }
    if (s >= (long)n)
        s = (long)n - 1;
    *sel = s < 0 ? 0 : (size_t)s;
    return true;
}

bool tui_scroll_key(const tui_key *k, int *top, int page, int total)
{
    int step = page > 2 ? page - 1 : 1; /* a page keeps one row in sight */
    if (k->fn) {
        switch (k->c) {
        case KEY_UP:
        case KEY_SR: (*top)--; break;
        case KEY_DOWN:
        case KEY_SF: (*top)++; break;
        case KEY_PPAGE: *top -= step; break;
        case KEY_NPAGE: *top += step; break;
        case KEY_HOME: *top = 0; break;
        case KEY_END: *top = total; break;
        default: return false;
        }
    } else if (k->c == 'k') {
        (*top)--;
    } else if (k->c == 'j') {
        (*top)++;
    } else {
        return false;
    }
    return true;
}

int tui_scroll_clamp(int top, int page, int total)
{
    if (top > total - page)
        top = total - page;
    return top < 0 ? 0 : top;
}

void tui_list_scroll(size_t sel, int h, int *top)
{
    if ((int)sel < *top)
        *top = (int)sel;
    if (h > 0 && (int)sel >= *top + h)
        *top = (int)sel - h + 1;
}

tui_style tui_status_style(er_task_status s)
{
    switch (s) {
    case ER_TASK_DONE: return TUI_S_DONE;
    case ER_TASK_FAILED: return TUI_S_ERROR;
    case ER_TASK_CANCELLED: return TUI_S_WARN;
    default: return TUI_S_RUNNING;
    }
}

/* ---- the help overlay (F1 or ?) ---- */

static const struct {
    const char *keys;
    const char *what;
} help_keys[] = {
    { "Tab / Shift-Tab", "next / previous panel (Tab completes when the input has text)" },
    { "F2 F3 F4 F5", "Chat, Agents, Tasks, Memory" },
    { "Enter", "send the request; in a list: open the selected item" },
    { "Alt-Enter, \\ Enter", "new line in the request" },
    { "@agent request", "send to that agent, skipping routing (Tab completes names)" },
    { "@path", "send a workspace file's text with the request (Tab completes paths)" },
    { "PgUp / PgDn, wheel", "scroll the chat or a list" },
    { "Up / Down", "history (chat), move (lists)" },
    { "Ctrl-C", "cancel the running task; twice at an idle prompt: quit" },
    { "y / n / c / t / a", "approval: allow, deny; always allow for the session this command, "
                           "this tool or this kind (arrows and PgUp/PgDn scroll long arguments)" },
    { "c, o", "Tasks: cancel the selected task, continue its conversation" },
    { "r", "Agents, Tasks, Memory: refresh" },
    { "/", "Memory: search titles and messages; Enter continues one" },
    { "m, g", "Memory: the memories tab and back; the graph (from a memory: of the entities it "
              "names, n / N the next)" },
    { "Esc", "back to the chat; close a dialog or the task's steps" },
    { "Ctrl-L, Ctrl-Z", "redraw the screen, suspend" },
    { "F1, ?", "this help (? on an empty input line or in a list)" },
    { "q, Ctrl-D", "quit (q outside the input line, Ctrl-D on an empty line)" },
};

/* One row of the help: a key column (or NULL on continuation rows) and a piece
 * of its wrapped description. */
typedef struct help_row {
    const char *key;
    const char *text;
    size_t len;
    tui_style key_style;
} help_row;

static void help_add(help_row **rows, int *n, const char *key, tui_style ks, const char *text,
                     int w)
{
    size_t len = strlen(text), off = 0;
    do {
        size_t next = len;
        size_t k = len ? tui_wrap(text + off, len - off, w, &next) : 0;
        *rows = er_xrealloc(*rows, (size_t)(*n + 1) * sizeof **rows);
        (*rows)[(*n)++] = (help_row){ off ? NULL : key, text + off, k, ks };
        off += next;
    } while (off < len);
}

/* Every row of the help for descriptions `w` columns wide (wrapped, so an 80x24
 * terminal shows all of each line). */
static help_row *help_rows(int w, int *out_n)
{
    help_row *rows = NULL;
    int n = 0;
    for (size_t i = 0; i < ER_ARRAY_LEN(help_keys); i++)
        help_add(&rows, &n, help_keys[i].keys, TUI_S_BOLD, help_keys[i].what, w);
    help_add(&rows, &n, "", TUI_S_BOLD, "", w);
    help_add(&rows, &n, "Commands", TUI_S_HEADER, "", w);
    for (size_t i = 0; i < tui_nslashes; i++)
        help_add(&rows, &n, tui_slashes[i].name, TUI_S_BOLD, tui_slashes[i].help, w);
    *out_n = n;
    return rows;
}

void tui_draw_help(tui_app *a)
{
    int w = a->cols - 4 < 96 ? a->cols - 4 : 96;
    if (w < 30 || a->rows < 7)
        return;
    int n;
    help_row *rows = help_rows(w - 4 - 21, &n);
    int h = n + 2 < a->rows - 2 ? n + 2 : a->rows - 2;
    a->help_rows = n;
    a->help_page = h - 2;
    a->help_top = tui_scroll_clamp(a->help_top, a->help_page, n);
    char title[96];
    if (n > a->help_page)
        snprintf(title, sizeof title,
                 "errand — keys (%d-%d of %d, ↑↓ PgUp PgDn scroll; other "
                 "keys close)",
                 a->help_top + 1, a->help_top + a->help_page, n);
    else
        snprintf(title, sizeof title, "errand — keys (any key closes)");
    tui_rect in = tui_box((tui_rect){ (a->rows - h) / 2, (a->cols - w) / 2, h, w }, title);
    for (int i = 0; i < in.h && a->help_top + i < n; i++) {
        const help_row *r = &rows[a->help_top + i];
        if (r->key)
            tui_put(in.y + i, in.x, 20, r->key_style, r->key);
        tui_putn(in.y + i, in.x + 21, in.w - 21, TUI_S_TEXT, r->text, r->len);
    }
    free(rows);
}

bool tui_help_key(tui_app *a, const tui_key *k)
{
    if (!tui_scroll_key(k, &a->help_top, a->help_page, a->help_rows))
        return false;
    a->dirty = true;
    return true; /* the draw keeps help_top in range */
}
