/* cli.h — the command-line front end: command and option tables, parsed
 * arguments, and what commands share (opening the environment, printing errors).
 *
 * Usage text, --help, parsing and the man-page check all read the same tables. */
#ifndef ERRAND_CLI_H
#define ERRAND_CLI_H

#include "errand/buf.h"
#include "errand/common.h"
#include "errand/env.h"
#include "errand/error.h"
#include "errand/store.h"
#include "errand/tasks.h"
#include <cjson/cJSON.h>

#define CLI_MAX_OPTS 64
#define CLI_MAX_POS  64

/* Exit statuses (documented in errand(1)). */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_UNAVAIL = 3, EXIT_INTERRUPTED = 130 };

typedef struct cli_opt {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 when none */
    const char *arg;  /* metavar, NULL for a flag */
    const char *help;
} cli_opt;

typedef struct cli_args {
    const cli_opt *opts[CLI_MAX_OPTS]; /* which option each value belongs to */
    const char *values[CLI_MAX_OPTS];  /* "1" for flags */
    size_t nopts;
    char *pos[CLI_MAX_POS];
    size_t npos;
} cli_args;

struct cli;
typedef struct cli_cmd {
    const char *name;
    const char *usage;   /* after "errand NAME " */
    const char *summary; /* one line */
    const cli_opt *opts; /* terminated by { NULL } */
    int (*run)(struct cli *c, cli_args *a);
    const char *help;        /* longer description, or NULL */
    bool no_args;            /* takes no positional arguments */
    void (*help_more)(void); /* prints the part of the help built at run time, or NULL */
} cli_cmd;

typedef struct cli {
    er_env *env;
    const cli_cmd *cmd;
    cli_args global;
    bool workers_started;
} cli;

/* How a request's progress is shown (run.c). */
typedef struct cli_view {
    bool stream;        /* print the answer's tokens as they come */
    bool interactive;   /* may prompt on the terminal for approvals */
    bool progress;      /* routing and tool steps on stderr */
    bool collect_steps; /* gather the stored steps for --json */
    bool charts;        /* draw data_chart results on stdout (a terminal) */
    bool stream_json;   /* every event as one JSON line on stdout (cli_stream_json_event) */
    struct er_md *md;   /* lays the streamed answer out for the terminal (markdown.h), or NULL */
    bool spinner;       /* a spinner with the time taken on stderr until the answer streams */
} cli_view;

/* The chart of a data_chart tool_result event drawn for a terminal cols wide
 * (OWNED), or NULL when the event is not one. */
char *cli_chart_text(const cJSON *ev, int cols, bool colour);

typedef struct cli_outcome {
    char task_id[ER_ID_LEN];
    char conversation_id[ER_ID_LEN];
    er_task_status status;
    char *agent;
    char *answer;
    char *error;
    int error_code;
    int64_t tokens_in;
    int64_t tokens_out;
    bool streamed;      /* the answer already went to stdout */
    cJSON *route;       /* the routing decision, if any */
    cJSON *steps;       /* with collect_steps */
    cJSON *interrupted; /* calls a crash interrupted and that were not repeated, or NULL */
} cli_outcome;

/* Submits a request and follows it to its end; Ctrl-C cancels it.  Starts the
 * in-process workers first when the bus is in-process. */
int cli_run_request(cli *c, const er_submit *s, const cli_view *v, cli_outcome *out, er_error *err);
void cli_outcome_release(cli_outcome *o);
/* Writes answer text to stdout, through v->md when set; cli_end_answer
 * writes what v->md still holds (the end of a table, a last line). */
void cli_put_answer(const cli_view *v, const char *text);
void cli_end_answer(const cli_view *v);
/* Takes an "end" event's data (status, answer, error, code, tokens) into o. */
void cli_outcome_take_end(cli_outcome *o, const cJSON *data);
/* The backstop for lost events: true (and o filled) when the store says
 * o->task_id has ended. */
bool cli_outcome_check_store(cli *c, cli_outcome *o);
/* Every stored step of a task and its children, oldest first (OWNED array of
 * {id, task_id, kind, data, ts}). */
cJSON *cli_task_steps(cli *c, const char *root);
/* One line saying what a step event was ("→ research", "code: read_file {…}",
 * "done: …"); OWNED, NULL for tokens. */
char *cli_event_text(const cJSON *ev);
/* steps.c: a tool call as a person reads it ("read_file README.md:1-40",
 * "run `ls`"), from its tool name and JSON arguments.  OWNED. */
char *cli_call_label(const char *tool, const char *arguments);
/* The first max_lines of what a successful tool_result event's data shows a
 * person (a write's diff, a command's stdout, …), *more the lines left out;
 * OWNED, NULL when there is nothing to show or the call failed. */
char *cli_result_head(const cJSON *data, size_t max_lines, size_t *more);
/* A failed call's error (one line, without "error: "); OWNED, NULL when it
 * did not fail. */
char *cli_result_error(const cJSON *data);
/* For a request that failed because the model's server could not be
 * reached: where errand looked and the setting that changes it.  OWNED, or
 * NULL for any other outcome. */
char *cli_llm_hint(cli *c, const cli_outcome *o);
/* --output-format stream-json: one line for an event, {"type", "task_id",
 * "data"} ("token": {"type", "task_id", "agent", "text"}), flushed.  Types are
 * the event kinds (routed, start, step, tool_call, tool_result, todos,
 * delegate, approval_request, end, …), "llm" named "step". */
void cli_stream_json_event(const cJSON *ev);
/* The last line: {"type":"result", task_id, conversation_id, agent, status,
 * answer, error, usage}. */
void cli_stream_json_result(const cli_outcome *o);
/* Exit status for a finished request: 0 done, 3 unreachable/refused, 1 otherwise. */
int cli_outcome_exit(const cli_outcome *o);
/* Starts consumers in this process when the bus keeps messages in-process. */
int cli_local_workers(cli *c, er_error *err);
/* Ends the tasks of local errand processes that died (orphans.h) and those past
 * their deadline (watchdog.h): the commands that show tasks call it; `ask`
 * does not pay for it. */
void cli_reap_orphans(cli *c);
/* Set by SIGINT while a request runs (run.c installs the handler). */
extern volatile int cli_interrupted;
void cli_install_sigint(void);
/* Runs $BROWSER URL, when set, without waiting for it (a browser may run
 * for hours). */
void cli_open_browser(const char *url);
/* ids.c: a task or conversation id from a unique prefix (≥ 4 chars). */
int cli_resolve_task(cli *c, const char *prefix, char out[ER_ID_LEN], er_error *err);
int cli_resolve_conv(cli *c, const char *prefix, char out[ER_ID_LEN], er_error *err);
/* The conversation --continue or --resume ID|last names (out[0] '\0' when
 * neither was given); ER_ENOTFOUND when there is none to continue. */
int cli_resume_conv(cli *c, char out[ER_ID_LEN], er_error *err);
/* After an interactive session: the conversation's id and how to go on with
 * it, on stderr (nothing when no conversation was started). */
void cli_say_resume(const char *conv_id);
/* term.c: colour is wanted: NO_COLOR is unset or empty (no-color.org).
 * Whether the output is a terminal is the caller's to check. */
bool cli_colour(void);
/* The width of the terminal on fd, 80 when it says none. */
int cli_term_cols(int fd);

extern const cli_cmd cli_commands[];
extern const cli_opt cli_global_opts[];

/* Parses argv against opts (and the global table when globals != NULL), stopping
 * at the first positional when stop_at_pos.  EXIT_USAGE with a message on error,
 * which points at `errand CMD --help` (cmd NULL: errand --help). */
int cli_parse(cli_args *out, const char *cmd, const cli_opt *opts, const cli_opt *globals, int argc,
              char **argv, bool stop_at_pos, int *consumed);
const char *cli_value(const cli_args *a, const char *name);
/* Edit distance between two short names (SIZE_MAX past 31 characters), for
 * "did you mean" suggestions. */
size_t cli_distance(const char *a, const char *b);
bool cli_flag(const cli_args *a, const char *name);

/* Prints "errand: msg" plus a hint for the error code; returns the exit status. */
int cli_fail(const er_error *err);
int cli_usage_error(const char *cmd, const char *fmt, ...) ER_PRINTF(2, 3);
int cli_exit_for(int code);
void cli_print_help(const cli_cmd *cmd);
void cli_print_main_help(void);
/* Joins the positionals from index `from` with spaces ("-" alone reads stdin),
 * blanks around trimmed. OWNED. */
char *cli_join(const cli_args *a, size_t from);
/* Opens what the command needs (lazily: only the config here). */
int cli_env(cli *c, er_error *err);

/* Commands */
int cmd_ask(cli *c, cli_args *a);
int cmd_route(cli *c, cli_args *a);
int cmd_task(cli *c, cli_args *a);
int cmd_conv(cli *c, cli_args *a);
/* cmd_conv.c: `conv export` (--format, --output, --json) and `conv delete`
 * of the conversation cv. */
int cli_conv_export(er_store *st, const er_conversation *cv, cli_args *a);
int cli_conv_delete(cli *c, er_store *st, const er_conversation *cv);
int cmd_memory(cli *c, cli_args *a);
int cmd_trends(cli *c, cli_args *a);
int cmd_migrate(cli *c, cli_args *a);
int cmd_doctor(cli *c, cli_args *a);
int cmd_agents(cli *c, cli_args *a);
int cmd_mcp(cli *c, cli_args *a);
int cmd_audit(cli *c, cli_args *a);
int cmd_usage(cli *c, cli_args *a);
int cmd_undo(cli *c, cli_args *a);
/* mcp_serve.c: `errand mcp serve`, errand as an MCP server on stdio. */
int cli_mcp_serve(cli *c);
int cmd_worker(cli *c, cli_args *a);
int cmd_serve(cli *c, cli_args *a);
int cmd_user(cli *c, cli_args *a);
int cmd_auth(cli *c, cli_args *a);
int cmd_repl(cli *c, cli_args *a);
int cmd_tui(cli *c, cli_args *a);
int cmd_help(cli *c, cli_args *a);
int cmd_version(cli *c, cli_args *a);
int cmd_completion(cli *c, cli_args *a);
int cmd_setup(cli *c, cli_args *a);
/* cmd_ask.c: appends the text file at path to a request as "File NAME:" and
 * a fenced block; refuses binary files and those over 1 MB.  via names how
 * it was attached ("-f", "@") in the errors. */
int cli_attach_file(er_buf *req, const char *path, const char *name, const char *via,
                    er_error *err);
/* The worker command's stages, for its --help (cmd_worker.c). */
void cli_worker_help(void);

#endif
