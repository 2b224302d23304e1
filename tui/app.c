/* app.c — the TUI's main loop: terminal set-up and restore, signals, the
 * event inbox, layout, panel switching and key routing.
 *
 * One poll() waits on stdin and a wake-up pipe.  The pipe is written by the
 * cache's pub/sub callbacks (other threads: they only queue the raw message)
 * and by signal handlers (SIGWINCH, SIGTERM, ...), so nothing runs while the
 * user does nothing; the only timer is a 1 s tick while a task runs, for
 * elapsed times, or while the agent monitor is on screen in networked mode,
 * for its worker counts (nothing announces a worker starting or dying).  The
 * terminal is restored on every way out: normal quit, SIGTERM/SIGHUP, and
 * fatal signals (termios restored from the signal handler). */
#include "tui.h"
#include "errand/alloc.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

/* A key and what it does, as the status bar shows them. */
typedef struct bar_item {
    const char *key;
    const char *what;
} bar_item;

#define MAX_HINTS 4

typedef struct panel_def {
    const char *name;
    void (*draw)(tui_app *a, tui_rect r);
    bool (*key)(tui_app *a, const tui_key *k);
    bar_item hints[MAX_HINTS];
} panel_def;

static const panel_def panels[TUI_NPANELS] = {
    { "Chat",
      tui_chat_draw,
      tui_chat_key,
      { { "Enter", "send" },
        { "PgUp/PgDn", "scroll" },
        { "@agent", "pick" },
        { "/help", "commands" } } },
    { "Agents", tui_agents_draw, tui_agents_key, { { "↑↓", "move" }, { "r", "refresh" } } },
    { "Tasks",
      tui_tasks_draw,
      tui_tasks_key,
      { { "↑↓", "move" }, { "Enter", "steps" }, { "c", "cancel" }, { "o", "open" } } },
    { "Memory",
      tui_memory_draw,
      tui_memory_key,
      { { "↑↓", "move" }, { "Enter", "continue" }, { "/", "search" }, { "m", "memories" } } },
};

/* Keys every panel has; quitting is q outside the input line, Ctrl-D in it. */
static const bar_item global_keys[] = {
    { "Tab/S-Tab", "panels" },
    { "F1/?", "help" },
    { "^C", "cancel" },
    { "^L", "redraw" },
};

/* ---- the inbox: events from other threads ---- */

typedef struct inbox_node {
    struct inbox_node *next;
    bool token; /* from a task's own channel (tokens) rather than "events" */
    size_t len;
    char msg[];
} inbox_node;

static pthread_mutex_t inbox_mu = PTHREAD_MUTEX_INITIALIZER;
static inbox_node *inbox_head, *inbox_tail;
static int wake_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_winch, got_term, got_cont;
static struct termios saved_tio;
static bool tio_saved;

static void wake(void)
{
    char b = 1;
    ssize_t w = write(wake_pipe[1], &b, 1); /* full pipe: already awake */
    (void)w;
}

static void queue_msg(const char *msg, size_t len, bool token)
{
    inbox_node *n = er_xmalloc(sizeof *n + len + 1);
    n->next = NULL;
    n->token = token;
    n->len = len;
    memcpy(n->msg, msg, len);
    n->msg[len] = '\0';
    pthread_mutex_lock(&inbox_mu);
    if (inbox_tail)
        inbox_tail->next = n;
    else
        inbox_head = n;
    inbox_tail = n;
    pthread_mutex_unlock(&inbox_mu);
    wake();
}

static void on_all_msg(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    (void)payload;
    queue_msg(msg, len, false);
}

static void on_token_msg(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    (void)payload;
    queue_msg(msg, len, true);
}

er_cache_sub *tui_follow_tokens(tui_app *a, const char *root_id)
{
    er_cache *cache;
    er_cache_sub *sub = NULL;
    er_error err = { 0 };
    char channel[64];
    er_event_channel(root_id, channel, sizeof channel);
    if (er_env_cache(a->env, &cache, &err) ||
        er_cache_subscribe(cache, channel, on_token_msg, NULL, &sub, &err)) {
        er_log(ER_LOG_WARN, "tui", "cannot follow %s: %s", channel, err.msg);
        return NULL;
    }
    return sub;
}

static void dispatch(tui_app *a, const cJSON *ev, bool token_channel)
{
    const char *kind = er_json_str(ev, "kind");
    if (token_channel) {
        /* The task's channel repeats its step events: only tokens are new here. */
        if (er_str_eq(kind, "token"))
            tui_session_event(a, ev, true);
        return;
    }
    tui_agents_event(a, ev);
    tui_tasks_event(a, ev);
    tui_session_event(a, ev, false);
    if (er_str_eq(kind, "end"))
        tui_memory_invalidate(a);
    a->dirty = true;
}

/* Handles what has come in (or only frees it when a is NULL: shutting down). */
static void drain(tui_app *a)
{
    pthread_mutex_lock(&inbox_mu);
    inbox_node *n = inbox_head;
    inbox_head = inbox_tail = NULL;
    pthread_mutex_unlock(&inbox_mu);
    while (n) {
        inbox_node *next = n->next;
        cJSON *ev = NULL;
        if (a && er_json_parse(&ev, n->msg, n->len, NULL) == 0) {
            dispatch(a, ev, n->token);
            cJSON_Delete(ev);
        }
        free(n);
        n = next;
    }
}

/* ---- signals and the terminal ---- */

/* Bracketed paste (xterm's mode 2004): the terminal wraps pasted text in
 * these, so a pasted line break is text, not Enter.  Curses reports them as
 * two key codes of our own. */
#define PASTE_ON        "\033[?2004h"
#define PASTE_OFF       "\033[?2004l"
#define KEY_PASTE_BEGIN (KEY_MAX + 1)
#define KEY_PASTE_END   (KEY_MAX + 2)
#define PASTE_MAX       (1024 * 1024)

static void put_raw(const char *s)
{
    fflush(stdout);
    ssize_t w = write(STDOUT_FILENO, s, strlen(s));
    (void)w;
}

static void on_signal(int sig)
{
    if (sig == SIGWINCH)
        got_winch = 1;
    else if (sig == SIGCONT)
        got_cont = 1;
    else
        got_term = 1;
    int saved = errno;
    wake();
    errno = saved;
}

/* What a crash writes to undo what the screen set up: mouse reports off, then
 * the terminal's own (terminfo) strings to leave keypad mode and the alternate
 * screen and show the cursor; built before the screen starts, since a signal
 * handler may only write(). */
static char fatal_reset[512] = "\033[?1000l\033[?1002l\033[?1006l\033[?2004l";
static size_t fatal_reset_len;

static void fatal_reset_add(const char *cap)
{
    const char *v = tigetstr(cap);
    size_t n = v && v != (const char *)-1 ? strlen(v) : 0;
    if (n && fatal_reset_len + n < sizeof fatal_reset - 3) {
        memcpy(fatal_reset + fatal_reset_len, v, n);
        fatal_reset_len += n;
    }
}

static void fatal_reset_build(void)
{
    fatal_reset_len = strlen(fatal_reset);
    static const char *const caps[] = { "rmkx", "sgr0", "cnorm", "rmcup" };
    for (size_t i = 0; i < ER_ARRAY_LEN(caps); i++)
        fatal_reset_add(caps[i]);
    memcpy(fatal_reset + fatal_reset_len, "\r\n", 2);
    fatal_reset_len += 2;
}

/* A crash must not leave the terminal raw and on the alternate screen. */
static void on_fatal(int sig)
{
    if (tio_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    ssize_t w = write(STDOUT_FILENO, fatal_reset, fatal_reset_len);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static const int quit_signals[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

/* Ours while the screen is (quit: leave cleanly; fatal: restore, then die), or
 * the defaults again. */
static void signals_set(bool ours)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(quit_signals); i++)
        set_handler(quit_signals[i], ours ? on_signal : SIG_DFL);
    for (size_t i = 0; i < ER_ARRAY_LEN(fatal_signals); i++)
        set_handler(fatal_signals[i], ours ? on_fatal : SIG_DFL);
    set_handler(SIGWINCH, ours ? on_signal : SIG_DFL);
    set_handler(SIGCONT, ours ? on_signal : SIG_DFL);
}

static void sync_size(tui_app *a)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
        (ws.ws_row != LINES || ws.ws_col != COLS))
        resizeterm(ws.ws_row, ws.ws_col);
    a->rows = LINES;
    a->cols = COLS;
    a->narrow = a->cols < 80;
    if (a->narrow && a->input_mode == TUI_INPUT_SEARCH && a->session)
        tui_input_set_mode(a, TUI_INPUT_CHAT); /* the memory view it searches is gone */
    a->dirty = true;
}

/* UTF-8 throughout: the user's locale, or C.UTF-8 when theirs is not UTF-8.
 * Numbers stay in the C locale: JSON needs a decimal point, not a comma. */
static void utf8_locale(void)
{
    setlocale(LC_ALL, "");
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8");
    setlocale(LC_NUMERIC, "C");
}

static int term_open(tui_app *a, er_error *err)
{
    if (tcgetattr(STDIN_FILENO, &saved_tio) == 0)
        tio_saved = true;
    SCREEN *s = newterm(NULL, stdout, stdin);
    if (!s)
        return er_error_set(err, ER_EINVAL,
                            "cannot start the full-screen interface for "
                            "TERM='%s'; use errand --plain",
                            getenv("TERM") ? getenv("TERM") : "");
    set_term(s);
    fatal_reset_build();
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    tui_set_mouse(a, !a->mouse_off);
    mouseinterval(0);
    define_key("\033[200~", KEY_PASTE_BEGIN);
    define_key("\033[201~", KEY_PASTE_END);
    put_raw(PASTE_ON);
    tui_theme_init(cli_colour());
    signals_set(true);
    sync_size(a);
    return 0;
}

void tui_set_mouse(tui_app *a, bool on)
{
    a->mouse_off = !on;
    mousemask(on ? BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED : 0, NULL);
}

static void term_close(void)
{
    if (isendwin())
        return;
    curs_set(1);
    endwin();
    put_raw(PASTE_OFF);
    signals_set(false);
}

/* Ctrl-Z: raw mode turns it into a key, so stop ourselves the usual way. */
static void suspend(tui_app *a)
{
    def_prog_mode();
    endwin();
    put_raw(PASTE_OFF);
    set_handler(SIGTSTP, SIG_DFL);
    raise(SIGTSTP);
    reset_prog_mode();
    put_raw(PASTE_ON);
    clearok(curscr, TRUE);
    sync_size(a);
}

/* ---- drawing ---- */

static int tab_x[TUI_NPANELS + 1]; /* where each tab starts (mouse clicks) */

tui_panel_id tui_panel(const tui_app *a)
{
    return a->narrow ? TUI_CHAT : a->panel;
}

static void draw_tabs(tui_app *a)
{
    tui_fill(0, 0, a->cols, TUI_S_TAB);
    int x = tui_put(0, 0, a->cols, TUI_S_AGENT, " errand ");
    for (int i = 0; i < TUI_NPANELS; i++) {
        tab_x[i] = x;
        if (a->narrow && i != TUI_CHAT)
            continue;
        char t[32];
        snprintf(t, sizeof t, " F%d %s ", i + 2, panels[i].name); /* F2..F5 show it */
        x += tui_put(0, x, a->cols - x,
                     tui_panel(a) == (tui_panel_id)i ? TUI_S_TAB_ACTIVE : TUI_S_TAB, t);
        x += tui_put(0, x, a->cols - x, TUI_S_TAB, " ");
    }
    tab_x[TUI_NPANELS] = x;
    const char *title = tui_session_title(a);
    int room = a->cols - x - 2;
    if (room > 8) {
        int w = tui_text_width(title, strlen(title));
        if (w > room)
            w = room;
        tui_put(0, a->cols - w - 1, w, TUI_S_DIM, title);
    }
}

/* Draws whole items from x while they fit before `end` (a cut "q q" helps no
 * one); returns where the next one would go. */
static int put_items(int y, int x, int end, const bar_item *items, size_t n)
{
    for (size_t i = 0; i < n && items[i].key; i++) {
        const char *k = items[i].key, *w = items[i].what;
        int need = tui_text_width(k, strlen(k)) + 1 + tui_text_width(w, strlen(w));
        if (x + need > end)
            break;
        x += tui_put(y, x, end - x, TUI_S_BAR_KEY, k);
        x += tui_put(y, x, end - x, TUI_S_BAR, " ");
        x += tui_put(y, x, end - x, TUI_S_BAR, w);
        x += 2;
    }
    return x;
}

static void draw_status(tui_app *a)
{
    int y = a->rows - 1;
    tui_fill(y, 0, a->cols, TUI_S_BAR);
    char run[128];
    tui_session_describe(a, run, sizeof run);
    int rw = run[0] ? tui_text_width(run, strlen(run)) + 2 : 0;
    int room = a->cols - rw;
    if (a->status[0]) {
        tui_put(y, 1, room - 1, a->status_error ? TUI_S_ERROR : TUI_S_BAR_KEY, a->status);
    } else {
        bool in_input = tui_panel(a) == TUI_CHAT || a->input_mode == TUI_INPUT_SEARCH;
        bar_item quit = { in_input ? "^D" : "q", "quit" };
        size_t skip = a->narrow ? 1 : 0; /* no other panel to Tab to */
        int x = put_items(y, 1, room, global_keys + skip, ER_ARRAY_LEN(global_keys) - skip);
        x = put_items(y, x, room, &quit, 1);
        if (x + 4 < room) {
            tui_put(y, x, room - x, TUI_S_BAR, "│ ");
            put_items(y, x + 2, room, panels[tui_panel(a)].hints, MAX_HINTS);
        }
    }
    if (rw)
        tui_put(y, a->cols - rw + 1, rw - 1, TUI_S_BAR_KEY, run);
}

static void draw(tui_app *a)
{
    a->cursor_y = a->cursor_x = -1;
    erase();
    if (a->rows < 6 || a->cols < 20) {
        tui_put(0, 0, a->cols, TUI_S_WARN, "terminal too small");
        curs_set(0);
        refresh();
        return;
    }
    int max_in = a->rows / 4 < 6 ? (a->rows / 4 < 1 ? 1 : a->rows / 4) : 6;
    int inh = tui_input_rows(a, a->cols, max_in);
    tui_rect body = { 1, 0, a->rows - 3 - inh, a->cols };
    draw_tabs(a);
    panels[tui_panel(a)].draw(a, body);
    tui_use_style(TUI_S_DIM);
    mvhline(a->rows - 2 - inh, 0, ACS_HLINE, a->cols);
    tui_input_draw(a, (tui_rect){ a->rows - 1 - inh, 0, inh, a->cols });
    draw_status(a);
    if (tui_approval_open(a))
        tui_approval_draw(a);
    if (a->help_open)
        tui_draw_help(a);
    if (a->cursor_y >= 0) {
        curs_set(1);
        move(a->cursor_y, a->cursor_x);
    } else {
        curs_set(0);
    }
    refresh();
}

/* ---- keys ---- */

void tui_set_status(tui_app *a, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->status, sizeof a->status, fmt, ap);
    va_end(ap);
    a->status_error = error;
    a->dirty = true;
}

void tui_show_panel(tui_app *a, tui_panel_id p)
{
    if (a->input_mode == TUI_INPUT_SEARCH && p != TUI_MEMORY)
        tui_input_set_mode(a, TUI_INPUT_CHAT);
    a->panel = p;
    if (p == TUI_TASKS)
        tui_tasks_invalidate(a);
    else if (p == TUI_MEMORY)
        tui_memory_invalidate(a);
    else if (p == TUI_AGENTS)
        tui_agents_tick(a);
    a->dirty = true;
}

static void cycle(tui_app *a, int dir)
{
    if (a->narrow)
        return;
    tui_show_panel(a, (tui_panel_id)(((int)a->panel + dir + TUI_NPANELS) % TUI_NPANELS));
}

static void on_ctrl_c(tui_app *a)
{
    if (tui_session_cancel(a))
        return;
    if (a->input_mode == TUI_INPUT_SEARCH) {
        tui_input_set_mode(a, TUI_INPUT_CHAT);
        return;
    }
    if (a->ctrl_c_armed) {
        a->quit = true;
        return;
    }
    tui_input_clear(a);
    a->ctrl_c_armed = true;
    tui_set_status(a, false, "Press Ctrl-C again to quit");
}

static void on_mouse(tui_app *a)
{
    MEVENT me;
    if (getmouse(&me) != OK)
        return;
    if (me.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        int dir = me.bstate & BUTTON4_PRESSED ? -1 : 1;
        tui_key k = { true, false, dir < 0 ? KEY_SR : KEY_SF };
        if (a->help_open)
            tui_help_key(a, &k);
        else if (tui_approval_open(a))
            tui_approval_key(a, &k);
        else if (tui_panel(a) == TUI_CHAT)
            tui_chat_scroll(a, -dir * 3);
        else
            panels[tui_panel(a)].key(a, &k);
    } else if ((me.bstate & BUTTON1_PRESSED) && me.y == 0 && !a->narrow) {
        for (int i = 0; i < TUI_NPANELS; i++)
            if (me.x >= tab_x[i] && me.x < tab_x[i + 1])
                tui_show_panel(a, (tui_panel_id)i);
    }
    a->dirty = true;
}

/* Keys every context shares; true when handled. */
static bool global_key(tui_app *a, const tui_key *k)
{
    if (k->fn) {
        if (k->c == KEY_RESIZE)
            sync_size(a);
        else if (k->c == KEY_F(1))
            tui_open_help(a);
        else if (k->c == KEY_MOUSE)
            on_mouse(a);
        else if (k->c == KEY_BTAB)
            cycle(a, -1);
        else if (k->c >= KEY_F(2) && k->c <= KEY_F(5) && !a->narrow)
            tui_show_panel(a, (tui_panel_id)(k->c - KEY_F(2)));
        else
            return false;
        return true;
    }
    if (k->c == TUI_CTRL('L')) {
        clearok(curscr, TRUE);
        sync_size(a);
        return true;
    }
    if (k->c == TUI_CTRL('Z')) {
        suspend(a);
        return true;
    }
    return false;
}

void tui_open_help(tui_app *a)
{
    a->help_open = true;
    a->help_top = 0;
    a->dirty = true;
}

static void input_key(tui_app *a, const tui_key *k)
{
    /* '?' on an empty line is help, as in the lists; typed after text it is a '?'. */
    if (!k->fn && !k->alt && k->c == '?' && a->input_mode == TUI_INPUT_CHAT && tui_input_empty()) {
        tui_open_help(a);
        return;
    }
    if (!k->fn && !k->alt && k->c == 27) {
        if (a->input_mode == TUI_INPUT_SEARCH)
            tui_input_set_mode(a, TUI_INPUT_CHAT);
        return;
    }
    if (!k->fn && k->c == TUI_CTRL('D') && tui_input_empty()) {
        if (a->input_mode == TUI_INPUT_SEARCH)
            tui_input_set_mode(a, TUI_INPUT_CHAT);
        else
            a->quit = true;
        return;
    }
    if (tui_panel(a) == TUI_CHAT && tui_chat_key(a, k))
        return;
    tui_input_key(a, k);
}

static void on_key(tui_app *a, const tui_key *k)
{
    bool ctrl_c = !k->fn && !k->alt && k->c == TUI_CTRL('C');
    if (!(k->fn && k->c == KEY_MOUSE))
        a->status[0] = '\0';
    a->dirty = true;
    if (ctrl_c) {
        on_ctrl_c(a);
        return;
    }
    a->ctrl_c_armed = false;
    if (a->help_open && !(k->fn && (k->c == KEY_RESIZE || k->c == KEY_MOUSE))) {
        if (!tui_help_key(a, k))
            a->help_open = false;
        return;
    }
    if (tui_approval_open(a) && !(k->fn && (k->c == KEY_RESIZE || k->c == KEY_MOUSE))) {
        if (!global_key(a, k))
            tui_approval_key(a, k);
        return;
    }
    if (global_key(a, k))
        return;
    bool in_input = tui_panel(a) == TUI_CHAT || a->input_mode == TUI_INPUT_SEARCH;
    if (!k->fn && !k->alt && k->c == '\t' && !(in_input && !tui_input_empty())) {
        cycle(a, 1);
        return;
    }
    if (in_input) {
        input_key(a, k);
        return;
    }
    if (panels[tui_panel(a)].key(a, k))
        return;
    if (k->fn)
        return;
    if (k->c == 'q' || k->c == TUI_CTRL('D'))
        a->quit = true;
    else if (k->c == '?')
        tui_open_help(a);
    else if (k->c == 27)
        tui_show_panel(a, TUI_CHAT);
}

/* A paste is text for the input line, whole, whatever its keys would do one
 * by one: never an answer to the approval dialog (a pasted "y"), never Enter. */
static void paste_end(tui_app *a)
{
    a->pasting = false;
    if (a->help_open || tui_approval_open(a)) {
        tui_set_status(a, true, "Paste ignored: answer the question first");
    } else {
        if (tui_panel(a) != TUI_CHAT && a->input_mode != TUI_INPUT_SEARCH)
            tui_show_panel(a, TUI_CHAT);
        tui_input_paste(a, a->paste.ptr ? a->paste.ptr : "", a->paste.len);
    }
    er_buf_release(&a->paste);
    a->dirty = true;
}

/* True when the key belonged to a paste. */
static bool paste_key(tui_app *a, int rc, wint_t c)
{
    if (rc == KEY_CODE_YES && c == KEY_PASTE_BEGIN) {
        er_buf_release(&a->paste);
        er_buf_init(&a->paste, PASTE_MAX);
        a->pasting = true;
        a->ctrl_c_armed = false;
        return true;
    }
    if (!a->pasting)
        return rc == KEY_CODE_YES && c == KEY_PASTE_END; /* a stray end: nothing */
    if (rc == KEY_CODE_YES) {
        if (c == KEY_PASTE_END)
            paste_end(a);
        else if (c == KEY_ENTER)
            er_buf_putc(&a->paste, '\n');
        return true; /* other function keys in a paste: dropped */
    }
    if (c == '\t' || c == '\r' || c == '\n' || c >= 0x20) {
        char b[MB_LEN_MAX];
        mbstate_t st = { 0 };
        size_t n = wcrtomb(b, (wchar_t)c, &st);
        if (n != (size_t)-1 && er_buf_append(&a->paste, b, n) != 0) {
            tui_set_status(a, true, "Paste cut at %d KB", PASTE_MAX / 1024);
        }
    }
    return true;
}

static void read_keys(tui_app *a)
{
    wint_t c;
    int rc;
    while (!a->quit && (rc = get_wch(&c)) != ERR) {
        if (paste_key(a, rc, c))
            continue;
        tui_key k = { rc == KEY_CODE_YES, false, c };
        if (!k.fn && c == 27) {
            wint_t c2;
            int rc2 = get_wch(&c2);
            if (rc2 != ERR)
                k = (tui_key){ rc2 == KEY_CODE_YES, true, c2 };
        }
        on_key(a, &k);
    }
}

/* ---- the loop ---- */

static bool busy(tui_app *a)
{
    return tui_session_running(a) || tui_agents_busy(a) || tui_agents_watching(a);
}

static void tick(tui_app *a)
{
    tui_session_tick(a);
    tui_agents_tick(a);
    a->dirty = true;
}

static void loop(tui_app *a)
{
    int64_t next_tick = 0;
    while (!a->quit && !got_term) {
        if (got_winch || got_cont) {
            if (got_cont)
                clearok(curscr, TRUE);
            got_winch = got_cont = 0;
            sync_size(a);
        }
        drain(a);
        if (a->dirty) {
            a->dirty = false;
            draw(a);
        }
        int timeout = -1;
        if (busy(a)) {
            int64_t now = er_mono_ms();
            if (next_tick <= 0)
                next_tick = now + 1000;
            timeout = next_tick > now ? (int)(next_tick - now) : 0;
        } else {
            next_tick = 0;
        }
        struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { wake_pipe[0], POLLIN, 0 } };
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (next_tick > 0 && er_mono_ms() >= next_tick) {
            next_tick = er_mono_ms() + 1000;
            tick(a);
        }
        if (n > 0 && (p[1].revents & POLLIN)) {
            char b[64];
            while (read(wake_pipe[0], b, sizeof b) > 0) {
            }
        }
        if (n > 0 && (p[0].revents & POLLIN))
            read_keys(a);
        else if (n > 0 && (p[0].revents & (POLLHUP | POLLERR)))
            a->quit = true; /* the terminal went away */
    }
}

/* Logs (and anything a library prints) go to a file: the screen is ours. */
static int redirect_logs(tui_app *a)
{
    er_config *cfg = er_env_config(a->env);
    char *path = NULL;
    if (cfg->log_file) {
        path = er_xstrdup(cfg->log_file);
    } else {
        char *dir = er_xdg_dir("state", true, NULL);
        if (!dir)
            return -1;
        path = er_xasprintf("%s/errand.log", dir);
        free(dir);
        er_log_set_file(path);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0)
        return -1;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    return saved;
}

static void restore_stderr(int saved)
{
    if (saved < 0)
        return;
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

static int start(tui_app *a, er_cache_sub **all, er_error *err)
{
    er_bus *bus;
    er_cache *cache;
    if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return er_error_set(err, ER_EIO, "cannot create a pipe: %s", strerror(errno));
    int rc = er_env_user_id(a->env, a->user_id, err);
    if (!rc)
        rc = cli_local_workers(a->c, err);
    if (!rc)
        cli_reap_orphans(a->c);
    if (!rc)
        rc = er_env_bus(a->env, &bus, err);
    if (!rc)
        rc = er_env_cache(a->env, &cache, err);
    if (!rc)
        rc = er_cache_subscribe(cache, ER_CHANNEL_ALL, on_all_msg, NULL, all, err);
    if (rc)
        return rc;
    a->local_bus = er_bus_is_local(bus);
    return 0;
}

static void run(tui_app *a, const char *conv_id)
{
    a->chat = tui_chat_new();
    a->agents = tui_agents_new();
    a->tasks = tui_tasks_new();
    a->memory = tui_memory_new();
    a->session = tui_session_new();
    tui_input_open(a);
    tui_agents_load(a);
    tui_session_use_conversation(a, conv_id[0] ? conv_id : NULL, NULL);
    a->dirty = true;
    loop(a);
    tui_session_stop(a);
    tui_input_close(a);
}

int cmd_tui(cli *c, cli_args *args)
{
    (void)args;
    utf8_locale();
    er_error err = { 0 };
    if (cli_env(c, &err))
        return cli_fail(&err);
    tui_app a = { .c = c, .env = c->env, .panel = TUI_CHAT, .cursor_y = -1 };
    int saved_stderr = redirect_logs(&a);
    er_cache_sub *all = NULL;
    char conv_id[ER_ID_LEN] = "", last_conv[ER_ID_LEN] = "";
    int rc = cli_resume_conv(c, conv_id, &err);
    if (!rc)
        rc = start(&a, &all, &err);
    if (!rc)
        rc = term_open(&a, &err);
    if (!rc) {
        run(&a, conv_id);
        term_close();
        er_strlcpy(last_conv, tui_session_conv_id(&a), sizeof last_conv);
    }
    er_cache_unsubscribe(all);
    drain(NULL); /* what came in after the panels stopped looking */
    tui_session_free(&a);
    er_buf_release(&a.paste);
    tui_chat_free(a.chat);
    tui_agents_free(a.agents);
    tui_tasks_free(a.tasks);
    tui_memory_free(a.memory);
    restore_stderr(saved_stderr);
    if (wake_pipe[0] >= 0) {
        close(wake_pipe[0]);
        close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
    }
    if (rc)
        return cli_fail(&err);
    cli_say_resume(last_conv);
    return got_term ? EXIT_INTERRUPTED : EXIT_DONE;
}
