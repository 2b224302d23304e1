/* theme.c — colours and the few drawing primitives every panel uses.
 *
 * Colours are the terminal's own eight over its default background
 * (use_default_colors), so the TUI looks like the user's terminal.  With
 * NO_COLOR set (no-color.org) or a terminal without colours, each style falls
 * back to attributes alone (bold, dim, underline, reverse). */
#include "tui.h"
#include "errand/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct style_def {
    short fg;        /* -1: the terminal's default */
    attr_t attr;     /* with colours */
    attr_t mono;     /* without */
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
    if (used > w) {   /* one wide character in a one-column slot */
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
        case KEY_UP: case KEY_SR: s--; break;
        case KEY_DOWN: case KEY_SF: s++; break;
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
    case ER_TASK_DONE:
        return TUI_S_DONE;
    case ER_TASK_FAILED:
        return TUI_S_ERROR;
    case ER_TASK_CANCELLED:
        return TUI_S_WARN;
    default:
        return TUI_S_RUNNING;
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
    { "PgUp / PgDn, wheel", "scroll the chat or a list" },
    { "Up / Down", "history (chat), move (lists)" },
    { "Ctrl-C", "cancel the running task; twice at an idle prompt: quit" },
    { "y / n / a", "approval: allow, deny, always allow this kind for the session" },
    { "c", "Tasks: cancel the selected task" },
    { "/", "Memory: search titles and messages; Enter continues one" },
    { "Esc", "back to the chat; close a dialog or the task's steps" },
    { "Ctrl-L, Ctrl-Z", "redraw the screen, suspend" },
    { "F1, ?", "this help (? outside the input line)" },
    { "q, Ctrl-D", "quit (q outside the input line, Ctrl-D on an empty line)" },
};

void tui_draw_help(tui_app *a)
{
    int n = (int)ER_ARRAY_LEN(help_keys) + (int)tui_nslashes + 4;
    int w = a->cols - 4 < 96 ? a->cols - 4 : 96;
    int h = n + 2 < a->rows - 2 ? n + 2 : a->rows - 2;
    if (w < 20 || h < 5)
        return;
    tui_rect in = tui_box((tui_rect){ (a->rows - h) / 2, (a->cols - w) / 2, h, w },
                          "errand — keys (any key closes)");
    int y = in.y, end = in.y + in.h;
    for (size_t i = 0; i < ER_ARRAY_LEN(help_keys) && y < end; i++, y++) {
        tui_put(y, in.x, 20, TUI_S_BOLD, help_keys[i].keys);
        tui_put(y, in.x + 21, in.w - 21, TUI_S_TEXT, help_keys[i].what);
    }
    if (y < end)
        y++;
    if (y < end)
        tui_put(y++, in.x, in.w, TUI_S_HEADER, "Commands");
    for (size_t i = 0; i < tui_nslashes && y < end; i++, y++) {
        tui_put(y, in.x, 20, TUI_S_BOLD, tui_slashes[i].name);
        tui_put(y, in.x + 21, in.w - 21, TUI_S_TEXT, tui_slashes[i].help);
    }
}
