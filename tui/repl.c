/* repl.c — the line-oriented REPL (errand --plain): readline with persistent
 * history, slash commands and @agent names with tab completion, Ctrl-C cancels
 * the running task.
 *
 * Readline's callback interface is driven by poll() on stdin and a self-pipe
 * for SIGINT, so a Ctrl-C at the prompt only clears the line. */
#include "tui.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/config.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

typedef struct repl {
    cli *c;
    char conv_id[ER_ID_LEN];
    bool quit;
    char *history_path;
} repl;

typedef struct slash {
    const char *name;
    const char *help;
    void (*run)(repl *r, const char *arg);
} slash;

static void do_help(repl *r, const char *arg);
static void do_agents(repl *r, const char *arg);
static void do_tasks(repl *r, const char *arg);
static void do_new(repl *r, const char *arg);
static void do_quit(repl *r, const char *arg);
static void do_undo(repl *r, const char *arg);

static const slash slashes[] = {
    { "/help", "show this help", do_help },
    { "/agents", "list the agents, their subagents and tools", do_agents },
    { "/tasks", "list recent tasks", do_tasks },
    { "/new", "start a new conversation", do_new },
    { "/undo", "put back the files the last task changed (asks first); /undo list, /undo ID step N",
      do_undo },
    { "/quit", "leave (Ctrl-D works too)", do_quit },
};

static void do_help(repl *r, const char *arg)
{
    (void)r;
    (void)arg;
    printf("Type a request and press Enter; the answer streams in (\"@code request\" picks\n"
           "the agent).  Ctrl-C cancels a running task, Ctrl-D leaves.  Commands:\n");
    for (size_t i = 0; i < ER_ARRAY_LEN(slashes); i++)
        printf("  %-8s %s\n", slashes[i].name, slashes[i].help);
}

static void do_agents(repl *r, const char *arg)
{
    (void)arg;
    cli_args a = { 0 };
    cmd_agents(r->c, &a);
}

static void do_tasks(repl *r, const char *arg)
{
    (void)arg;
    cli_args a = { .pos = { "list" }, .npos = 1 };
    cmd_task(r->c, &a);
}

static void do_new(repl *r, const char *arg)
{
    (void)arg;
    r->conv_id[0] = '\0';
    printf("new conversation\n");
}

/* /undo as in the TUI (undo.c); the confirmation is typed. */
static void do_undo(repl *r, const char *arg)
{
    er_error err = { 0 };
    if (cli_env(r->c, &err)) {
        fprintf(stderr, "errand: %s\n", err.msg);
        return;
    }
    tui_undo_reply u;
    tui_undo_answer(r->c->env, r->conv_id, arg, &u);
    fprintf(u.error ? stderr : stdout, "%s%s\n", u.error ? "errand: " : "", u.text);
    if (u.confirm)
        printf("Type %s to restore them\n", u.confirm);
    tui_undo_reply_release(&u);
}

static void do_quit(repl *r, const char *arg)
{
    (void)arg;
    r->quit = true;
}

/* "@code fix it" picks the agent, as in the full-screen interface: *agent gets
 * it (or stays NULL), *rest the request; false after saying what is wrong. */
static bool forced_agent(const char *line, char *name, size_t size, const char **agent,
                         const char **rest)
{
    *agent = NULL;
    if (!tui_split_at(line, name, size, rest))
        return true;
    if (!er_agent_find(name)) {
        fprintf(stderr, "errand: no agent '%s' (see /agents)\n", name);
        return false;
    }
    if (!**rest) {
        fprintf(stderr, "errand: what should @%s do? Type the request after the name\n", name);
        return false;
    }
    *agent = name;
    return true;
}

static void run_request(repl *r, const char *line)
{
    char name[64];
    const char *agent, *request;
    if (!forced_agent(line, name, sizeof name, &agent, &request))
        return;
    er_submit s = { .request = request,
                    .agent = agent,
                    .conversation_id = r->conv_id[0] ? r->conv_id : NULL,
                    .approve_all = cli_flag(&r->c->global, "yes") };
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    /* NO_COLOR takes the colour off the progress lines, not the lines. */
    cli_view v = { .stream = true, .interactive = tty, .progress = tty, .charts = tty };
    cli_outcome o;
    er_error err = { 0 };
    cli_install_sigint();
    if (cli_run_request(r->c, &s, &v, &o, &err)) {
        fprintf(stderr, "errand: %s\n", err.msg);
        return;
    }
    er_strlcpy(r->conv_id, o.conversation_id, sizeof r->conv_id);
    if (o.status == ER_TASK_DONE) {
        if (!o.streamed && o.answer)
            fputs(o.answer, stdout);
        putchar('\n');
    } else {
        fprintf(stderr, "errand: task %s: %s\n", er_task_status_name(o.status),
                o.error ? o.error : "no reason given");
        char *hint = cli_llm_hint(r->c, &o);
        if (hint)
            fprintf(stderr, "errand: %s\n", hint);
        free(hint);
    }
    fflush(stdout);
    cli_outcome_release(&o);
}

static void handle_line(repl *r, char *line)
{
    er_str_trim(line);
    if (!*line)
        return;
    if (line[0] == '/') {
        char *sp = strchr(line, ' ');
        size_t len = sp ? (size_t)(sp - line) : strlen(line);
        for (size_t i = 0; i < ER_ARRAY_LEN(slashes); i++) {
            if (strlen(slashes[i].name) == len && strncmp(slashes[i].name, line, len) == 0) {
                slashes[i].run(r, sp ? sp + 1 : "");
                return;
            }
        }
        printf("unknown command %.*s (try /help)\n", (int)len, line);
        return;
    }
    run_request(r, line);
}

/* ---- readline plumbing ---- */

static repl *active;
static int sig_pipe[2] = { -1, -1 };

static void on_prompt_sigint(int sig)
{
    (void)sig;
    char b = 'i';
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
}

static void install_prompt_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

static char *complete_slash(const char *text, int state)
{
    static size_t i, len;
    if (!state) {
        i = 0;
        len = strlen(text);
    }
    while (i < ER_ARRAY_LEN(slashes)) {
        const char *name = slashes[i++].name;
        if (strncmp(name, text, len) == 0)
            return er_xstrdup(name);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    if (start == 0 && text[0] == '/')
        return rl_completion_matches(text, complete_slash);
    if (start == 0 && text[0] == '@')
        return rl_completion_matches(text, tui_agent_completion);
    return NULL;
}

static void on_line(char *line)
{
    if (!line) {
        active->quit = true;
        putchar('\n');
        return;
    }
    if (*line)
        tui_history_add(active->history_path, line);
    rl_callback_handler_remove();
    handle_line(active, line);
    free(line);
    install_prompt_sigint();
    if (!active->quit)
        rl_callback_handler_install("errand> ", on_line);
}

static void tty_loop(repl *r)
{
    if (pipe(sig_pipe) != 0)
        return;
    fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
    r->history_path = tui_history_open();
    rl_attempted_completion_function = complete;
    rl_completer_word_break_characters = " \t\n"; /* '@' starts a word, as in the TUI */
    rl_readline_name = "errand";
    active = r;
    printf("errand %s — type /help for commands, Ctrl-D to leave\n", ER_VERSION);
    install_prompt_sigint();
    rl_callback_handler_install("errand> ", on_line);
    while (!r->quit) {
        struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents & POLLIN) {
            char b[16];
            while (read(sig_pipe[0], b, sizeof b) > 0) {
            }
            rl_free_line_state();
            rl_crlf();
            rl_replace_line("", 0);
            rl_on_new_line();
            rl_redisplay();
        }
        if (p[0].revents & (POLLIN | POLLHUP))
            rl_callback_read_char();
    }
    rl_callback_handler_remove();
    tui_history_close(r->history_path);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
}

/* Without a terminal: one request or command per line, no prompt. */
static void plain_loop(repl *r)
{
    char *line = NULL;
    size_t cap = 0;
    while (!r->quit && getline(&line, &cap, stdin) > 0)
        handle_line(r, line);
    free(line);
}

int cmd_repl(cli *c, cli_args *a)
{
    (void)a;
    er_error err = { 0 };
    if (cli_env(c, &err) || cli_local_workers(c, &err))
        return cli_fail(&err);
    cli_reap_orphans(c);
    repl r = { .c = c };
    if (cli_resume_conv(c, r.conv_id, &err))
        return cli_fail(&err);
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (tty && r.conv_id[0])
        printf("continuing conversation %.8s\n", r.conv_id);
    if (tty)
        tty_loop(&r);
    else
        plain_loop(&r);
    free(r.history_path);
    if (tty)
        cli_say_resume(r.conv_id);
    return EXIT_DONE;
}
