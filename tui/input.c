/* input.c — the input line: readline edits it, curses draws it.
 *
 * Readline runs in its callback mode with its terminal handling switched off:
 * rl_getc_function reads bytes from a small queue that this file fills from
 * curses keys (function keys become the escape sequences readline's keymaps
 * already know), rl_redisplay_function only marks the screen dirty, and
 * tui_input_draw lays rl_line_buffer out in the input rows.  So readline keeps
 * its Emacs keys, kill ring, history search and completion while curses owns
 * the screen.  The history file is shared with the REPL (tui_history_*).
 *
 * Readline is global state; so is this file's (one input line per process,
 * main thread only). */
#include "tui.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/config.h"
#include "errand/ignore.h"
#include "errand/str.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#define CHAT_PROMPT   "› "
#define SEARCH_PROMPT "search: "
#define HISTORY_MAX   2000

static tui_app *app;            /* readline's callbacks carry no payload */
static unsigned char queue[64]; /* bytes of one key on their way to readline */
static size_t qhead, qtail;
static char *history_path;
static FILE *devnull;
static char *saved_chat_line; /* the request being typed while searching */
static void apply_pending(tui_app *a);

/* ---- history (shared with the REPL) ---- */

char *tui_history_open(void)
{
    char *dir = er_xdg_dir("state", true, NULL);
    if (!dir)
        return NULL;
    char *path = er_xasprintf("%s/history", dir);
    free(dir);
    using_history();
    stifle_history(HISTORY_MAX);
    /* Timestamp lines ("#1732..." — hence the comment character) mark where an
     * entry starts; in a file that begins with one, readline reads multi-line
     * requests back whole.  Older files without them still read line by line. */
    history_comment_char = '#';
    history_write_timestamps = 1;
    if (read_history(path) != 0) {
        /* append_history needs the file to exist. */
        int fd = open(path, O_WRONLY | O_CREAT, 0600);
        if (fd >= 0)
            close(fd);
    }
    return path;
}

void tui_history_add(const char *path, const char *line)
{
    add_history(line);
    if (path)
        append_history(1, path);
}

void tui_history_close(const char *path)
{
    if (path)
        history_truncate_file(path, HISTORY_MAX);
}

/* ---- readline hooks ---- */

static int input_getc(FILE *f)
{
    (void)f;
    if (qhead == qtail)
        return EOF; /* never asked: input_available says there is nothing */
    return queue[qhead++];
}

static int input_available(void)
{
    return qhead < qtail;
}

static void input_redisplay(void)
{
    if (app)
        app->dirty = true;
}

static void no_prep(int meta)
{
    (void)meta;
}

static void no_deprep(void)
{
}

static void on_line(char *line)
{
    if (!line) {
        if (app->input_mode == TUI_INPUT_SEARCH)
            tui_input_set_mode(app, TUI_INPUT_CHAT);
        else
            app->quit = true;
        return;
    }
    if (app->input_mode == TUI_INPUT_SEARCH) {
        tui_memory_search(app, line);
        tui_input_set_mode(app, TUI_INPUT_CHAT);
    } else {
        char *t = er_str_trim(line);
        if (*t) {
            tui_history_add(history_path, t);
            tui_session_line(app, t);
        }
    }
    free(line);
    app->dirty = true;
}

/* Enter: a line ending in a backslash continues on the next line. */
static int accept_or_continue(int count, int key)
{
    if (rl_end > 0 && rl_point == rl_end && rl_line_buffer[rl_end - 1] == '\\') {
        rl_delete_text(rl_end - 1, rl_end);
        rl_point = rl_end;
        rl_insert_text("\n");
        return 0;
    }
    return rl_newline(count, key);
}

static int insert_newline(int count, int key)
{
    (void)count;
    (void)key;
    rl_insert_text("\n");
    return 0;
}

/* ---- completion: slash commands and @agent names ---- */

char *tui_agent_completion(const char *text, int state)
{
    static size_t i;
    if (!state)
        i = 0;
    size_t len = strlen(text);
    while (er_agents[i]) {
        char *cand = er_xasprintf("@%s", er_agents[i++]->name);
        if (strncmp(cand, text, len) == 0)
            return cand;
        free(cand);
    }
    return NULL;
}

static char *complete_slash(const char *text, int state)
{
    static size_t i;
    if (!state)
        i = 0;
    size_t len = strlen(text);
    while (i < tui_nslashes) {
        const char *name = tui_slashes[i++].name;
        if (strncmp(name, text, len) == 0)
            return er_xstrdup(name);
    }
    return NULL;
}

/* "@src/ma" → "@src/main.c": the entries of a workspace directory, by the
 * ignore rules code search keeps (ignore.h); dot files only when the name
 * typed starts with a dot.  Directories end in '/' to go on from. */
static char *complete_path(const char *text, int state)
{
    static DIR *dir;
    static char *dirpath; /* absolute, with its '/' */
    static er_ignore *ig;
    if (!state) {
        if (dir)
            closedir(dir);
        er_ignore_free(ig);
        free(dirpath);
        const char *root = er_env_config(app->env)->workspace;
        const char *slash = strrchr(text + 1, '/');
        char *sub = er_xstrndup(text + 1, slash ? (size_t)(slash - text) : 0);
        dirpath = er_xasprintf("%s/%s", root, sub);
        free(sub);
        /* No climbing out of the workspace: "@../" offers nothing. */
        char *real = strstr(dirpath, "/../") ? NULL : realpath(dirpath, NULL);
        size_t rl = strlen(root);
        bool inside = real && strncmp(real, root, rl) == 0 && (!real[rl] || real[rl] == '/');
        dir = inside ? opendir(real) : NULL;
        ig = dir ? er_ignore_new(root, real) : NULL;
        free(real);
    }
    if (!dir)
        return NULL;
    const char *slash = strrchr(text + 1, '/');
    const char *base = slash ? slash + 1 : text + 1;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, ".git") == 0)
            continue;
        if ((e->d_name[0] == '.' && base[0] != '.') || strncmp(e->d_name, base, bl) != 0)
            continue;
        char *abs = er_xasprintf("%s%s", dirpath, e->d_name);
        struct stat st;
        bool is_dir = stat(abs, &st) == 0 && S_ISDIR(st.st_mode);
        bool skip = ig && er_ignore_match(ig, abs, is_dir);
        free(abs);
        if (skip)
            continue;
        return er_xasprintf("%.*s%s%s", (int)(base - text), text, e->d_name, is_dir ? "/" : "");
    }
    closedir(dir);
    dir = NULL;
    er_ignore_free(ig);
    ig = NULL;
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    if (app->input_mode != TUI_INPUT_CHAT)
        return NULL;
    if (start == 0 && text[0] == '/')
        return rl_completion_matches(text, complete_slash);
    if (text[0] != '@')
        return NULL;
    /* At the start "@" may be an agent or a file; after it, only a file. */
    char **m =
        start == 0 && !strchr(text, '/') ? rl_completion_matches(text, tui_agent_completion) : NULL;
    if (!m)
        m = rl_completion_matches(text, complete_path);
    /* A directory is gone on from, not ended with a blank. */
    if (m && !m[1] && m[0][strlen(m[0]) - 1] == '/')
        rl_completion_append_character = '\0';
    return m;
}

/* Several candidates: listed in the status bar instead of on the terminal. */
static void show_matches(char **matches, int n, int max)
{
    (void)max;
    char line[256] = "";
    size_t used = 0;
    for (int i = 1; i <= n && used < sizeof line - 1; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i > 1 ? "  " : "",
                                 matches[i]);
    tui_set_status(app, false, "%s", line);
}

/* ---- feeding keys ---- */

static void push(const char *bytes, size_t n)
{
    if (qhead == qtail)
        qhead = qtail = 0;
    for (size_t i = 0; i < n && qtail < sizeof queue; i++)
        queue[qtail++] = (unsigned char)bytes[i];
}

static size_t utf8_encode(wint_t c, char out[4])
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* What readline would have read from the terminal for a curses key code. */
static const char *key_sequence(wint_t code)
{
    static const struct {
        wint_t code;
        const char *seq;
    } map[] = {
        { KEY_LEFT, "\033[D" }, { KEY_RIGHT, "\033[C" },   { KEY_UP, "\033[A" },
        { KEY_DOWN, "\033[B" }, { KEY_HOME, "\033[H" },    { KEY_END, "\033[F" },
        { KEY_DC, "\033[3~" },  { KEY_BACKSPACE, "\177" }, { KEY_ENTER, "\r" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(map); i++)
        if (map[i].code == code)
            return map[i].seq;
    return NULL;
}

void tui_input_key(tui_app *a, const tui_key *k)
{
    const char *seq = k->fn ? key_sequence(k->c) : NULL;
    if (k->fn && !seq)
        return;
    if (k->alt)
        push("\033", 1); /* Alt-key: ESC, then the key */
    if (seq) {
        push(seq, strlen(seq));
    } else {
        char b[4];
        size_t n = utf8_encode(k->c, b);
        push(b, n);
    }
    while (qhead < qtail)
        rl_callback_read_char();
    apply_pending(a);
}

/* ---- drawing ---- */

static const char *prompt(void)
{
    return rl_display_prompt ? rl_display_prompt : CHAT_PROMPT;
}

int tui_input_rows(tui_app *a, int width, int max)
{
    (void)a;
    if (!rl_line_buffer)
        return 1;
    const char *p = prompt();
    int rows = tui_caret(rl_line_buffer, (size_t)rl_end, (size_t)rl_point, width,
                         tui_text_width(p, strlen(p)), NULL, NULL);
    return rows < 1 ? 1 : rows > max ? max : rows;
}

void tui_input_draw(tui_app *a, tui_rect r)
{
    const char *p = prompt();
    const char *buf = rl_line_buffer ? rl_line_buffer : "";
    size_t len = rl_line_buffer ? (size_t)rl_end : 0;
    int pw = tui_text_width(p, strlen(p));
    int crow, ccol;
    tui_caret(buf, len, rl_line_buffer ? (size_t)rl_point : 0, r.w, pw, &crow, &ccol);
    int top = crow >= r.h ? crow - r.h + 1 : 0;
    bool focused = tui_panel(a) == TUI_CHAT || a->input_mode == TUI_INPUT_SEARCH;
    tui_style text = focused ? TUI_S_TEXT : TUI_S_DIM;
    for (int i = 0; i < r.h; i++)
        tui_fill(r.y + i, r.x, r.w, TUI_S_TEXT);
    if (top == 0)
        tui_put(r.y, r.x, r.w, focused ? TUI_S_USER : TUI_S_DIM, p);
    size_t i = 0;
    int row = 0, c0 = pw;
    for (;;) {
        size_t n = tui_fit(buf + i, len - i, r.w - c0);
        if (row >= top && row < top + r.h)
            tui_putn(r.y + row - top, r.x + c0, r.w - c0, text, buf + i, n);
        i += n;
        if (i >= len)
            break;
        if (buf[i] == '\n')
            i++;
        row++;
        c0 = 0;
    }
    if (focused && !a->help_open && !tui_approval_open(a)) {
        a->cursor_y = r.y + crow - top;
        a->cursor_x = r.x + ccol;
    }
}

/* ---- modes and set-up ---- */

bool tui_input_empty(void)
{
    return rl_end == 0;
}

void tui_input_clear(tui_app *a)
{
    rl_callback_sigcleanup();
    rl_replace_line("", 0);
    rl_point = rl_end = 0;
    a->dirty = true;
}

/* Readline clears the line after its line handler returns: text set from a
 * slash command (which runs inside that handler) waits until then. */
static char *pending_text;

void tui_input_set_text(tui_app *a, const char *text)
{
    free(pending_text);
    pending_text = er_xstrdup(text);
    a->dirty = true;
}

static void apply_pending(tui_app *a)
{
    if (!pending_text)
        return;
    tui_input_clear(a);
    rl_insert_text(pending_text);
    free(pending_text);
    pending_text = NULL;
}

void tui_input_paste(tui_app *a, const char *text, size_t len)
{
    /* Terminals send Enter as CR inside a paste (tmux, xterm): a CR-LF pair or
     * a lone CR is one line break. */
    char *clean = er_xmalloc(len + 1);
    size_t n = 0, lines = 1;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == '\r' && i + 1 < len && text[i + 1] == '\n')
            continue;
        if (ch == '\r')
            ch = '\n';
        if (ch == '\n')
            lines++;
        clean[n++] = ch;
    }
    while (n && clean[n - 1] == '\n') { /* a copied line usually ends in one */
        n--;
        lines--;
    }
    clean[n] = '\0';
    if (a->input_mode == TUI_INPUT_SEARCH) {
        for (size_t i = 0; i < n; i++) /* a search is one line */
            if (clean[i] == '\n')
                clean[i] = ' ';
        lines = 1;
    }
    rl_insert_text(clean);
    free(clean);
    if (lines > 1)
        tui_set_status(a, false,
                       "[pasted %zu lines] — edit them, or Enter sends them as one "
                       "request",
                       lines);
    a->dirty = true;
}

void tui_input_set_mode(tui_app *a, tui_input_mode m)
{
    if (m == a->input_mode)
        return;
    if (m == TUI_INPUT_SEARCH) {
        free(saved_chat_line);
        saved_chat_line = er_xstrndup(rl_line_buffer, (size_t)rl_end);
        tui_input_clear(a);
    } else {
        tui_input_clear(a);
        if (saved_chat_line) {
            rl_insert_text(saved_chat_line);
            free(saved_chat_line);
            saved_chat_line = NULL;
        }
    }
    a->input_mode = m;
    rl_set_prompt(m == TUI_INPUT_SEARCH ? SEARCH_PROMPT : CHAT_PROMPT);
    a->dirty = true;
}

int tui_input_open(tui_app *a)
{
    app = a;
    devnull = fopen("/dev/null", "w");
    rl_readline_name = "errand";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_getc_function = input_getc;
    rl_input_available_hook = input_available;
    rl_redisplay_function = input_redisplay;
    rl_prep_term_function = no_prep;
    rl_deprep_term_function = no_deprep;
    if (devnull)
        rl_outstream = devnull; /* readline must never write to the screen */
    rl_attempted_completion_function = complete;
    rl_completion_display_matches_hook = show_matches;
    rl_completer_word_break_characters = " \t\n";
    history_path = tui_history_open();
    rl_callback_handler_install(CHAT_PROMPT, on_line);
    /* After install: that is when readline reads ~/.inputrc; these win over it. */
    rl_add_defun("errand-newline", insert_newline, -1);
    rl_bind_key('\r', accept_or_continue);
    rl_bind_key('\n', insert_newline); /* Ctrl-J: Enter comes as CR (nonl) */
    rl_bind_keyseq("\\e\\r", insert_newline);
    rl_bind_keyseq("\\e\\n", insert_newline);
    rl_variable_bind("bell-style", "none");
    rl_variable_bind("show-all-if-ambiguous", "on");
    return 0;
}

void tui_input_close(tui_app *a)
{
    (void)a;
    rl_callback_handler_remove();
    tui_history_close(history_path);
    free(history_path);
    history_path = NULL;
    free(saved_chat_line);
    saved_chat_line = NULL;
    free(pending_text);
    pending_text = NULL;
    clear_history();
    if (devnull) {
        rl_outstream = stdout;
        fclose(devnull);
        devnull = NULL;
    }
    app = NULL;
}
