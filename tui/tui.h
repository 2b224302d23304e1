/* tui.h — the full-screen terminal interface (`errand` on a terminal).
 *
 * Four panels — chat, agent monitor, task tracker, memory — over one input
 * line that readline edits (input.c), a tab bar on top and a status bar below.
 *
 * Threads: everything here runs on the main thread, which owns curses,
 * readline and every panel's state.  The only thing other threads do is the
 * cache's pub/sub callbacks (app.c), which queue the raw event and write a
 * byte to the wake-up pipe; the main loop polls stdin and that pipe, so an
 * idle session uses no CPU at all (a 1 s tick runs only while a task runs, or
 * while the agent monitor is on screen in networked mode). */
#ifndef ERRAND_TUI_H
#define ERRAND_TUI_H

#define NCURSES_WIDECHAR 1
#include "cli.h"
#include "text.h"
#include "errand/buf.h"
#include "errand/cache.h"
#include "errand/config.h"

#include <curses.h>
#include <wchar.h>

typedef enum { TUI_CHAT = 0, TUI_AGENTS, TUI_TASKS, TUI_MEMORY, TUI_NPANELS } tui_panel_id;

typedef struct tui_rect {
    int y, x, h, w;
} tui_rect;

/* A key as wget_wch gives it: fn is true for KEY_* codes; alt when it came
 * right after an ESC (Alt-key). */
typedef struct tui_key {
    bool fn;
    bool alt;
    wint_t c;
} tui_key;

#define TUI_CTRL(ch) ((ch)&0x1f)

typedef struct tui_chat tui_chat;
typedef struct tui_agents tui_agents;
typedef struct tui_tasks tui_tasks;
typedef struct tui_memory tui_memory;
typedef struct tui_memories tui_memories;
typedef struct tui_graph tui_graph;
typedef struct tui_session tui_session;

/* What the input line is editing: a request (chat) or a memory search. */
typedef enum { TUI_INPUT_CHAT = 0, TUI_INPUT_SEARCH } tui_input_mode;

typedef struct tui_app {
    cli *c;
    er_env *env;
    char user_id[ER_ID_LEN];
    tui_panel_id panel; /* the chosen panel (narrow terminals show chat anyway) */
    int rows, cols;
    bool narrow; /* under 80 columns: chat only */
    bool quit;
    bool dirty; /* something changed: redraw before sleeping */
    bool help_open;
    int help_top, help_page, help_rows; /* the help's scroll: first row, rows shown, rows */
    bool ctrl_c_armed;                  /* a Ctrl-C at an idle prompt: the next one quits */
    bool local_bus;                     /* workers run in this process */
    char status[256];                   /* one-line message in the status bar, until the next key */
    bool status_error;
    int cursor_y, cursor_x; /* where the terminal cursor goes; -1: hidden */
    tui_input_mode input_mode;
    bool mouse_off; /* /mouse turned reporting off: the terminal selects */
    bool pasting;   /* inside a bracketed paste: keys are text, Enter a newline */
    er_buf paste;   /* what the paste has brought so far */
    tui_chat *chat;
    tui_agents *agents;
    tui_tasks *tasks;
    tui_memory *memory;
    tui_session *session;
} tui_app;

/* ---- app.c (cmd_tui is declared in cli.h) ---- */
/* The panel on screen (chat when the terminal is narrow). */
tui_panel_id tui_panel(const tui_app *a);
void tui_show_panel(tui_app *a, tui_panel_id p);
/* The help overlay (F1, '?', /help), from its top. */
void tui_open_help(tui_app *a);
void tui_set_status(tui_app *a, bool error, const char *fmt, ...) ER_PRINTF(3, 4);
/* Subscribes to a task's own channel (its tokens); NULL on failure.  OWNED:
 * release with er_cache_unsubscribe on the main thread. */
er_cache_sub *tui_follow_tokens(tui_app *a, const char *root_id);

/* ---- theme.c: colours (NO_COLOR turns them off) and drawing primitives ---- */
void tui_theme_init(bool color);
void tui_use_style(tui_style s);
/* Draws s (UTF-8) at y,x in style s, cut to at most w columns; returns columns used. */
int tui_put(int y, int x, int w, tui_style s, const char *text);
/* The same with a byte length. */
int tui_putn(int y, int x, int w, tui_style s, const char *text, size_t len);
/* Fills a row segment with spaces in style s. */
void tui_fill(int y, int x, int w, tui_style s);
/* printf into a row, cut to w columns. */
int tui_putf(int y, int x, int w, tui_style s, const char *fmt, ...) ER_PRINTF(5, 6);
/* A framed box with a title; returns the inside. */
tui_rect tui_box(tui_rect r, const char *title);
void tui_draw_help(tui_app *a);
/* Scroll keys while the help is open (arrows, PgUp/PgDn, Home/End, j/k, the
 * wheel); false for any other key, which closes it. */
bool tui_help_key(tui_app *a, const tui_key *k);
/* Lists: moves *sel for the usual keys (arrows, j/k, PgUp/PgDn, Home/End,
 * the wheel); true when k was one of them.  tui_list_scroll keeps sel within
 * the h rows shown from *top. */
bool tui_list_key(const tui_key *k, size_t n, size_t *sel, int page);
/* Text views (a dialog, the help, a task's steps): moves *top, the first row
 * shown, for the same keys; the caller clamps it to [0, total - page] when it
 * draws.  True when k was one of them. */
bool tui_scroll_key(const tui_key *k, int *top, int page, int total);
/* top kept within [0, total - page]. */
int tui_scroll_clamp(int top, int page, int total);
void tui_list_scroll(size_t sel, int h, int *top);
/* A status's style (done green, failed red, …). */
tui_style tui_status_style(er_task_status s);

/* ---- input.c: readline bridge ---- */
int tui_input_open(tui_app *a);
void tui_input_close(tui_app *a);
/* Hands a key to readline (translating curses key codes to what readline reads). */
void tui_input_key(tui_app *a, const tui_key *k);
/* Rows the input needs at this width (1 up to max). */
int tui_input_rows(tui_app *a, int width, int max);
void tui_input_draw(tui_app *a, tui_rect r);
void tui_input_set_mode(tui_app *a, tui_input_mode m);
bool tui_input_empty(void);
void tui_input_clear(tui_app *a);
/* A bracketed paste, whole: inserted at the caret as text (newlines stay
 * newlines, nothing is sent), the status bar saying how many lines came. */
void tui_input_paste(tui_app *a, const char *text, size_t len);
/* Replaces the input line with text, the caret at its end (/edit). */
void tui_input_set_text(tui_app *a, const char *text);
/* Readline completion of "@agent" names (the REPL uses it too); OWNED matches. */
char *tui_agent_completion(const char *text, int state);
/* History shared with the REPL: $XDG_STATE_HOME/errand/history (OWNED path or NULL). */
char *tui_history_open(void);
void tui_history_add(const char *path, const char *line);
void tui_history_close(const char *path);

/* ---- clipboard.c ---- */
/* Puts text on the clipboard: OSC 52 to the terminal, and wl-copy or xclip
 * where a display is set and the tool is installed.  0 with *how saying
 * which, -1 when none took it. */
int tui_clipboard_copy(const char *text, size_t len, char *how, size_t howsize);
/* Mouse reporting (wheel scroll, tab clicks) on or off: off, the terminal
 * selects text itself, without Shift. */
void tui_set_mouse(tui_app *a, bool on);

/* ---- session.c: requests of this session, approvals, slash commands ---- */
typedef struct tui_slash {
    const char *name;
    const char *help;
    void (*run)(tui_app *a, const char *arg);
} tui_slash;
extern const tui_slash tui_slashes[];
extern const size_t tui_nslashes;

tui_session *tui_session_new(void);
void tui_session_free(tui_app *a);
/* A line from the input: a slash command or a request ("@agent ..." forces one). */
void tui_session_line(tui_app *a, const char *line);
/* One event (OWNED by the caller) from pub/sub; token says which channel. */
void tui_session_event(tui_app *a, const cJSON *ev, bool token);
/* Ctrl-C: cancels the running request; false when none runs. */
bool tui_session_cancel(tui_app *a);
bool tui_session_running(const tui_app *a);
/* Once a second while a request runs: the store as a backstop for lost events. */
void tui_session_tick(tui_app *a);
/* The approval dialog: true when one is open (it takes the keys). */
bool tui_approval_open(const tui_app *a);
void tui_approval_draw(tui_app *a);
void tui_approval_key(tui_app *a, const tui_key *k);
/* Before leaving: cancels what only this process would run, unsubscribes. */
void tui_session_stop(tui_app *a);
/* Starts a new conversation, or continues conv_id (NULL: new). */
void tui_session_use_conversation(tui_app *a, const char *conv_id, const char *title);
const char *tui_session_title(const tui_app *a);
/* The conversation of the session, "" before the first request. */
const char *tui_session_conv_id(const tui_app *a);
/* What runs, for the status bar ("● research 12s"), or "" when idle. */
void tui_session_describe(const tui_app *a, char *out, size_t outsize);

/* ---- undo.c ---- */
/* /undo [list | ID | yes ID | force ID] [step N]: the conversation's checkpoints. */
void tui_undo(tui_app *a, const char *arg);
/* What /undo ARG answers, for either front end: text to show (an error or
 * not) and, when the undo may go ahead, the command that confirms it. */
typedef struct tui_undo_reply {
    char *text;    /* OWNED */
    char *confirm; /* OWNED "/undo yes ID", or NULL */
    bool error;
} tui_undo_reply;
void tui_undo_answer(er_env *env, const char *conv_id, const char *arg, tui_undo_reply *out);
void tui_undo_reply_release(tui_undo_reply *r);

/* ---- chat.c ---- */
typedef enum {
    TUI_ENTRY_USER,
    TUI_ENTRY_ASSISTANT,
    TUI_ENTRY_NOTE,
    TUI_ENTRY_ERROR
} tui_entry_kind;
tui_chat *tui_chat_new(void);
void tui_chat_free(tui_chat *ch);
void tui_chat_clear(tui_chat *ch);
/* Answers are a model's Markdown: lay out their lists and tables
 * (markdown.h).  Off for the offline rules, whose answers are tool output. */
void tui_chat_set_markdown(tui_chat *ch, bool on);
/* Appends an entry and returns its index. */
size_t tui_chat_add(tui_chat *ch, tui_entry_kind kind, const char *who, const char *text);
void tui_chat_append(tui_chat *ch, size_t entry, const char *text, size_t len);
void tui_chat_set_text(tui_chat *ch, size_t entry, const char *text);
void tui_chat_set_who(tui_chat *ch, size_t entry, const char *who);
void tui_chat_set_kind(tui_chat *ch, size_t entry, tui_entry_kind kind);
/* A step shown between an entry's header and its text ("→ research"): dimmed
 * while under way, then marked ✓ (green) or ✗ (red) with what it showed —
 * a diff, a command's first lines — below it. */
typedef enum { TUI_NOTE_STEP = 0, TUI_NOTE_OK, TUI_NOTE_FAILED } tui_note_kind;
typedef struct tui_note {
    char *text;   /* one line */
    char *detail; /* lines shown under it, or NULL */
    tui_note_kind kind;
} tui_note;
/* Returns the note's index (SIZE_MAX when there is no such entry). */
size_t tui_chat_note(tui_chat *ch, size_t entry, const char *text);
/* Changes a note: its kind, its text (NULL keeps it), its detail (NULL: none). */
void tui_chat_note_set(tui_chat *ch, size_t entry, size_t note, tui_note_kind kind,
                       const char *text, const char *detail);
/* A running entry shows its elapsed time, a finished one its duration
 * (started_ms on er_mono_ms's clock). */
void tui_chat_set_running(tui_chat *ch, size_t entry, bool running, int64_t started_ms);
void tui_chat_draw(tui_app *a, tui_rect r);
bool tui_chat_key(tui_app *a, const tui_key *k);
/* Scrolls by rows (positive: back in time); tui_chat_bottom follows the end again. */
void tui_chat_scroll(tui_app *a, int rows);
void tui_chat_bottom(tui_chat *ch);
/* /search: words (NULL: the same again; "": stop) are looked for in the
 * chat's text, ASCII case ignored, and shown reversed; the panel scrolls to
 * the newest match, or with NULL to the one before the match shown (round
 * again from the newest past the oldest).  Returns the matching rows, *nth
 * the one shown (counted from the top). */
int tui_chat_find(tui_chat *ch, const char *words, int *nth);
/* The last answer's text (block 0) or its block-th fenced code block, as
 * received (no wrapping, no gutter); OWNED, NULL when there is none. */
char *tui_chat_copy_text(tui_chat *ch, int block);
/* Loads a stored conversation's messages. */
int tui_chat_load(tui_app *a, const char *conv_id, er_error *err);

/* ---- agents.c: the agent monitor ---- */
tui_agents *tui_agents_new(void);
void tui_agents_free(tui_agents *m);
void tui_agents_load(tui_app *a);
void tui_agents_event(tui_app *a, const cJSON *ev);
void tui_agents_draw(tui_app *a, tui_rect r);
bool tui_agents_key(tui_app *a, const tui_key *k);
/* True while any agent runs (the tick keeps elapsed times fresh). */
bool tui_agents_busy(const tui_app *a);
/* True while the monitor is on screen in networked mode: its queue depths and
 * worker counts are read every tick (nothing announces a worker starting or
 * dying), so the loop ticks then even with nothing running. */
bool tui_agents_watching(const tui_app *a);
/* Once a second while busy or watching: queue depths and a check of what the store says. */
void tui_agents_tick(tui_app *a);

/* ---- tasks.c: the task tracker ---- */
tui_tasks *tui_tasks_new(void);
void tui_tasks_free(tui_tasks *t);
void tui_tasks_event(tui_app *a, const cJSON *ev);
void tui_tasks_draw(tui_app *a, tui_rect r);
bool tui_tasks_key(tui_app *a, const tui_key *k);
void tui_tasks_invalidate(tui_app *a);

/* ---- memory.c: past conversations ---- */
tui_memory *tui_memory_new(void);
void tui_memory_free(tui_memory *m);
void tui_memory_draw(tui_app *a, tui_rect r);
bool tui_memory_key(tui_app *a, const tui_key *k);
void tui_memory_invalidate(tui_app *a);
/* The query typed in search mode ("" clears the search). */
void tui_memory_search(tui_app *a, const char *query);
/* ---- memories.c: the memory view's tab of what the agents remember ---- */
tui_memories *tui_memories_new(void);
void tui_memories_free(tui_memories *m);
void tui_memories_draw(tui_app *a, tui_memories *m, tui_rect r);
bool tui_memories_key(tui_app *a, tui_memories *m, const tui_key *k);
void tui_memories_search(tui_app *a, tui_memories *m, const char *query);
/* Read again before the next frame (an agent may have saved or forgotten). */
void tui_memories_reload(tui_memories *m);
/* The selected memory's id into id; false when the list is empty. */
bool tui_memories_selected(tui_app *a, tui_memories *m, char id[ER_ID_LEN]);
/* ---- graph.c: the memory view's graph tab (entities and relations) ---- */
tui_graph *tui_graph_new(void);
void tui_graph_free(tui_graph *g);
void tui_graph_draw(tui_app *a, tui_graph *g, tui_rect r);
bool tui_graph_key(tui_app *a, tui_graph *g, const tui_key *k);
/* Shows the entity named query (kept to go back to); "" changes nothing. */
void tui_graph_search(tui_app *a, tui_graph *g, const char *query);
/* Shows the first entity the memory memory_id names (the others one key
 * away); false, with the reason in the status line, when it names none. */
bool tui_graph_open_memory(tui_app *a, tui_graph *g, const char *memory_id);
void tui_graph_reload(tui_graph *g);

#endif
