/* session.c — the requests of this session: submit one, follow it (tokens,
 * steps, end), cancel it; the approval dialog; slash commands.
 *
 * One request runs at a time, in the current conversation.  Its answer streams
 * into a chat entry from the task's own channel (tokens); its steps come from
 * the "events" channel like everyone else's.  Pub/sub may drop messages, so
 * while it runs the store is checked every few seconds as a backstop (the same
 * rule as `errand ask`, shared through cli_outcome_check_store). */
#include "tui.h"
#include "errand/price.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/approval.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/llm.h"
#include "errand/log.h"
#include "errand/store_usage.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_APPROVALS     32
#define MAX_ALLOWED       32 /* tools and commands allowed for the session by "t" and "c" */
#define MAX_QUEUED        8  /* requests typed while one runs */
#define MAX_CALLS         64 /* tool steps of one request whose outcome is awaited */
#define STEP_LINES        8  /* lines of a step's output shown under it */
#define STORE_CHECK_TICKS 3

struct tui_session {
    char conv_id[ER_ID_LEN];
    char *title;
    bool running;
    cli_outcome o;      /* the running request: task_id, status, answer, ... */
    er_cache_sub *sub;  /* its token channel */
    size_t entry;       /* the chat entry its answer goes to */
    int64_t started_ms; /* er_mono_ms */
    bool streamed;
    bool cancel_sent;
    int ticks;
    char agent[64];
    cJSON *approvals[MAX_APPROVALS]; /* approval_request events waiting, oldest first */
    size_t napprovals;
    int ascroll;                /* first argument row the dialog shows */
    int apage, arows;           /* argument rows on screen, in all, at the last draw */
    bool always[ER_PERM_COUNT]; /* "a" answers: allow this class for the session */
    char *allowed[MAX_ALLOWED]; /* "t" answers (a tool's name) and "c" answers
                                   ("tool\ncommand"): allowed for the session, OWNED */
    size_t nallowed;
    struct {           /* tool calls under way: their note in the entry */
        char key[128]; /* task_id/call_id */
        size_t note;
        char *text; /* the step's line, OWNED */
    } calls[MAX_CALLS];
    size_t ncalls;
    char *queued[MAX_QUEUED]; /* typed while a request ran: sent in turn, OWNED */
    size_t nqueued;
    bool queue_hint; /* the status bar's hint is about the queue */
    size_t dropped;  /* queued requests a cancel dropped (said at the end) */
    char *last_line; /* the last request sent, as typed (/retry, /edit) */
    char *model;     /* chosen with /model for this session, OWNED; NULL: the configured one */
    int64_t tokens_in, tokens_out; /* of the requests of this conversation (store_usage.h) */
    int64_t cost_micros;           /* what they cost, where llm.prices has their model's price */
    bool priced;
};

tui_session *tui_session_new(void)
{
    return er_xcalloc(1, sizeof(tui_session));
}

static void drop_calls(tui_session *s)
{
    for (size_t i = 0; i < s->ncalls; i++)
        free(s->calls[i].text);
    s->ncalls = 0;
}

static void drop_queue(tui_session *s)
{
    for (size_t i = 0; i < s->nqueued; i++)
        free(s->queued[i]);
    s->nqueued = 0;
}

static void drop_approvals(tui_session *s)
{
    for (size_t i = 0; i < s->napprovals; i++)
        cJSON_Delete(s->approvals[i]);
    s->napprovals = 0;
}

void tui_session_free(tui_app *a)
{
    tui_session *s = a->session;
    if (!s)
        return;
    drop_approvals(s);
    drop_calls(s);
    drop_queue(s);
    free(s->last_line);
    free(s->model);
    for (size_t i = 0; i < s->nallowed; i++)
        free(s->allowed[i]);
    er_cache_unsubscribe(s->sub);
    cli_outcome_release(&s->o);
    free(s->title);
    free(s);
    a->session = NULL;
}

bool tui_session_running(const tui_app *a)
{
    return a->session && a->session->running;
}

const char *tui_session_conv_id(const tui_app *a)
{
    return a->session ? a->session->conv_id : "";
}

const char *tui_session_title(const tui_app *a)
{
    return a->session && a->session->title ? a->session->title : "new conversation";
}

static const char *session_model(tui_app *a);

static int take_sum(const er_usage_sum *sum, void *payload)
{
    *(er_usage_sum *)payload = *sum;
    return 0;
}

/* The conversation's use as stored, one row a request, each priced with its
 * own model and its cached tokens at their price (store_usage.h): routing
 * and subtasks included, and the same figure as `errand usage --conversation`.
 * false when there are none (yet). */
static bool stored_use(tui_app *a)
{
    tui_session *s = a->session;
    er_store *st;
    er_usage_sum sum = { 0 };
    er_usage_filter f = { .conversation_id = s->conv_id };
    if (!s->conv_id[0] || er_env_store(a->env, &st, NULL) ||
        er_store_usage_report(st, ER_USAGE_BY_CONVERSATION, &f, take_sum, &sum, NULL) ||
        sum.requests == 0)
        return false;
    s->tokens_in = sum.input_tokens;
    s->tokens_out = sum.output_tokens;
    s->cost_micros = sum.cost_micros;
    s->priced = sum.unpriced < sum.requests;
    return true;
}

/* After a task: the stored figures, else its tokens at the session's
 * model's price. */
static void add_cost(tui_app *a)
{
    tui_session *s = a->session;
    if (stored_use(a))
        return;
    s->tokens_in += s->o.tokens_in;
    s->tokens_out += s->o.tokens_out;
    const char *model = session_model(a);
    int64_t micros = 0;
    if (model && er_price_cost(er_env_config(a->env)->llm_prices, model, s->o.tokens_in,
                               s->o.tokens_out, &micros, NULL) == 0) {
        s->cost_micros += micros;
        s->priced = true;
    }
}

/* "12.3k tokens · $0.04": the conversation's use so far (the cost when
 * llm.prices has the model's price), or "" before the first answer. */
static void describe_use(const tui_app *a, char *out, size_t outsize)
{
    const tui_session *s = a->session;
    int64_t n = s->tokens_in + s->tokens_out;
    out[0] = '\0';
    if (n <= 0)
        return;
    if (n < 1000)
        snprintf(out, outsize, "%lld tokens", (long long)n);
    else
        snprintf(out, outsize, "%.1fk tokens", (double)n / 1000.0);
    if (s->priced) {
        char cost[32];
        er_price_format(s->cost_micros, cost, sizeof cost);
        size_t len = strlen(out);
        snprintf(out + len, outsize - len, " · %s", cost);
    }
}

void tui_session_describe(const tui_app *a, char *out, size_t outsize)
{
    const tui_session *s = a->session;
    out[0] = '\0';
    if (s && !s->running)
        describe_use(a, out, outsize);
    if (!s || !s->running)
        return;
    char d[32];
    tui_duration(er_mono_ms() - s->started_ms, d, sizeof d);
    if (s->napprovals)
        snprintf(out, outsize, "● approval needed");
    else if (s->cancel_sent)
        snprintf(out, outsize, "● cancelling… %s", d);
    else
        snprintf(out, outsize, "● %s %s", s->agent[0] ? s->agent : "routing", d);
    if (s->nqueued) {
        size_t n = strlen(out);
        snprintf(out + n, outsize - n, " · %zu queued", s->nqueued);
    }
}

static void load_title(tui_app *a)
{
    tui_session *s = a->session;
    er_store *st;
    er_conversation cv;
    if (!s->conv_id[0] || er_env_store(a->env, &st, NULL) ||
        er_store_conv_get(st, s->conv_id, &cv, NULL))
        return;
    free(s->title);
    s->title = er_xstrdup(cv.title);
    er_conversation_release(&cv);
}

static void welcome(tui_app *a)
{
    er_config *cfg = er_env_config(a->env);
    const char *provider = er_config_llm_provider(cfg);
    if (er_str_eq(provider, "offline")) {
        /* Say it plainly: "ask anything" would be a promise the rules cannot keep. */
        char *text = er_xasprintf(
            "errand %s — no model is configured: requests go to the offline rules, which "
            "run plain commands (ls, grep PATTERN, show FILE, lint, test; /help lists "
            "commands).\nTo use a model, run errand setup, or set OPENAI_API_KEY (and "
            "OPENAI_BASE_URL for Ollama, "
            "vLLM or a llama.cpp server) or ANTHROPIC_API_KEY, or write llm.* settings in "
            "$XDG_CONFIG_HOME/errand/config (man errand.conf); errand doctor checks them.",
            ER_VERSION);
        tui_chat_add(a->chat, TUI_ENTRY_NOTE, NULL, text);
        free(text);
        return;
    }
    char *text =
        er_xasprintf("errand %s — ask anything. \"@agent request\" picks the agent, "
                     "/help lists commands, F1 shows the keys.\nModel: %s%s%s.",
                     ER_VERSION, provider, cfg->model ? " / " : "", cfg->model ? cfg->model : "");
    tui_chat_add(a->chat, TUI_ENTRY_NOTE, NULL, text);
    free(text);
}

void tui_session_use_conversation(tui_app *a, const char *conv_id, const char *title)
{
    tui_session *s = a->session;
    if (s->running) {
        tui_set_status(a, true, "A task is running: wait for it or cancel it (Ctrl-C) first");
        return;
    }
    tui_chat_clear(a->chat);
    s->tokens_in = s->tokens_out = s->cost_micros = 0;
    s->priced = false;
    /* A model writes Markdown; the offline rules answer with tool output. */
    tui_chat_set_markdown(a->chat,
                          !er_str_eq(er_config_llm_provider(er_env_config(a->env)), "offline"));
    free(s->title);
    s->title = er_xstrdup(title);
    s->conv_id[0] = '\0';
    if (!conv_id) {
        welcome(a);
        return;
    }
    er_strlcpy(s->conv_id, conv_id, sizeof s->conv_id);
    er_error err = { 0 };
    if (tui_chat_load(a, conv_id, &err))
        tui_set_status(a, true, "Cannot load the conversation: %s", err.msg);
    if (!s->title)
        load_title(a);
    stored_use(a); /* a conversation taken up again: what it used so far */
    tui_show_panel(a, TUI_CHAT);
}

/* ---- the running request ---- */

static void finish(tui_app *a)
{
    tui_session *s = a->session;
    tui_chat_set_running(a->chat, s->entry, false, s->started_ms);
    if (s->o.status == ER_TASK_DONE) {
        if (s->o.answer && *s->o.answer)
            tui_chat_set_text(a->chat, s->entry, s->o.answer);
        else if (!s->streamed)
            tui_chat_set_text(a->chat, s->entry, "(no answer)");
    } else {
        char *hint = cli_llm_hint(a->c, &s->o);
        char *msg = er_xasprintf("Task %s: %s%s%s", er_task_status_name(s->o.status),
                                 s->o.error ? s->o.error : "no reason given", hint ? "\n" : "",
                                 hint ? hint : "");
        free(hint);
        if (!s->streamed) {
            tui_chat_set_text(a->chat, s->entry, msg);
            tui_chat_set_kind(a->chat, s->entry, TUI_ENTRY_ERROR);
        } else {
            tui_chat_add(a->chat, TUI_ENTRY_ERROR, NULL, msg);
        }
        free(msg);
    }
    er_cache_unsubscribe(s->sub);
    s->sub = NULL;
    drop_approvals(s);
    if (!s->conv_id[0] && s->o.conversation_id[0])
        er_strlcpy(s->conv_id, s->o.conversation_id, sizeof s->conv_id);
    if (!s->title)
        load_title(a);
    s->running = false;
    if (s->queue_hint && !s->nqueued) { /* the hint is stale once the queue is empty */
        a->status[0] = '\0';
        s->queue_hint = false;
    }
    if (s->cancel_sent && s->dropped)
        tui_set_status(a, false, "Task %s (%zu queued request%s dropped)",
                       er_task_status_name(s->o.status), s->dropped, s->dropped == 1 ? "" : "s");
    else if (s->cancel_sent)
        tui_set_status(a, false, "Task %s", er_task_status_name(s->o.status));
    s->dropped = 0;
    tui_tasks_invalidate(a);
    tui_memory_invalidate(a);
    a->dirty = true;
    if (s->nqueued) {
        char *next = s->queued[0];
        memmove(s->queued, s->queued + 1, --s->nqueued * sizeof *s->queued);
        tui_session_line(a, next);
        free(next);
    }
}

/* shown: the request as typed, in the chat; request: what is sent (with the
 * text of the files it names). */
static void submit(tui_app *a, const char *shown, const char *request, const char *agent)
{
    tui_session *s = a->session;
    tui_chat_add(a->chat, TUI_ENTRY_USER, "you", shown);
    s->entry = tui_chat_add(a->chat, TUI_ENTRY_ASSISTANT, agent ? agent : "errand", "");
    cli_outcome_release(&s->o);
    er_id_new(s->o.task_id);
    s->sub = tui_follow_tokens(a, s->o.task_id);
    er_submit sub = { .request = request,
                      .conversation_id = s->conv_id[0] ? s->conv_id : NULL,
                      .agent = agent,
                      .task_id = s->o.task_id,
                      .approve_all = cli_flag(&a->c->global, "yes"),
                      .model = s->model };
    er_error err = { 0 };
    if (er_task_submit(a->env, &sub, NULL, s->o.conversation_id, &err)) {
        er_cache_unsubscribe(s->sub);
        s->sub = NULL;
        char *msg = er_xasprintf("Not sent: %s", err.msg);
        tui_chat_set_text(a->chat, s->entry, msg);
        tui_chat_set_kind(a->chat, s->entry, TUI_ENTRY_ERROR);
        free(msg);
        return;
    }
    if (!s->conv_id[0])
        er_strlcpy(s->conv_id, s->o.conversation_id, sizeof s->conv_id);
    s->running = true;
    drop_calls(s);
    s->streamed = s->cancel_sent = false;
    s->ticks = 0;
    s->started_ms = er_mono_ms();
    er_strlcpy(s->agent, agent ? agent : "", sizeof s->agent);
    tui_chat_set_running(a->chat, s->entry, true, s->started_ms);
    tui_chat_bottom(a->chat);
    load_title(a);
    tui_tasks_invalidate(a);
    tui_memory_invalidate(a);
}

/* "@code fix it": the agent named first, or NULL; *rest gets the request. */
static int forced_agent(tui_app *a, const char *line, char *agent, size_t size, const char **rest)
{
    if (!tui_split_at(line, agent, size, rest))
        return 0;
    if (!er_agent_find(agent)) {
        er_buf b = ER_BUF_INIT;
        for (size_t i = 0; er_agents[i]; i++)
            er_buf_printf(&b, "%s@%s", i ? ", " : "", er_agents[i]->name);
        tui_set_status(a, true, "No agent '%s'; choose one of %s", agent, er_buf_cstr(&b));
        er_buf_release(&b);
        return -1;
    }
    if (!**rest) {
        tui_set_status(a, true, "What should @%s do? Type the request after the name", agent);
        return -1;
    }
    return 1;
}

static void run_slash(tui_app *a, const char *line);

/* The workspace file an "@name" word names (OWNED real path), or NULL: a
 * word naming nothing, a directory or a path outside the workspace is text. */
static char *workspace_file(const char *root, const char *name)
{
    char *full = er_xasprintf("%s/%s", root, name);
    char *real = realpath(full, NULL);
    free(full);
    size_t rl = strlen(root);
    struct stat st;
    if (real && strncmp(real, root, rl) == 0 && real[rl] == '/' && stat(real, &st) == 0 &&
        S_ISREG(st.st_mode))
        return real;
    free(real);
    return NULL;
}

/* Each "@path" word of the request naming a workspace file brings the file's
 * text along (cli_attach_file), as `ask -f` does; *out is the request to send
 * (OWNED).  A file that cannot go (binary, too big) stops the request. */
static int attach_paths(tui_app *a, const char *request, char **out)
{
    const char *root = er_env_config(a->env)->workspace;
    er_buf req = ER_BUF_INIT, names = ER_BUF_INIT;
    er_buf_puts(&req, request);
    int rc = 0;
    for (const char *p = request; *p && !rc; p++) {
        if (*p != '@' || (p > request && !isspace((unsigned char)p[-1])))
            continue;
        size_t len = strcspn(p + 1, " \t\n");
        char *name = er_xstrndup(p + 1, len);
        /* "see @main.c, then": the punctuation after a name is the sentence's. */
        char *real = NULL;
        for (size_t n = len; n && !real; n--) {
            name[n] = '\0';
            real = workspace_file(root, name);
            if (!strchr(".,;:!?)'\"", name[n - 1]))
                break;
        }
        if (real) {
            er_error err = { 0 };
            rc = cli_attach_file(&req, real, name, "@", &err);
            if (rc)
                tui_set_status(a, true, "Not sent: %s", err.msg);
            else
                er_buf_printf(&names, "%s%s", names.len ? ", " : "", name);
        }
        free(real);
        free(name);
        p += len;
    }
    if (!rc && names.len)
        tui_set_status(a, false, "Attached %s", er_buf_cstr(&names));
    er_buf_release(&names);
    *out = er_buf_detach(&req);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

void tui_session_line(tui_app *a, const char *line)
{
    tui_session *s = a->session;
    if (line[0] == '/') {
        run_slash(a, line);
        return;
    }
    if (s->running) {
        /* Type-ahead: sent when the running one ends, in the order typed. */
        if (s->nqueued == MAX_QUEUED) {
            tui_set_status(a, true,
                           "%d requests are already waiting: let the task end, or "
                           "Ctrl-C to cancel it (Up brings your line back)",
                           MAX_QUEUED);
            return;
        }
        s->queued[s->nqueued++] = er_xstrdup(line);
        tui_set_status(a, false,
                       "Queued: sent when the running task ends (Ctrl-C cancels the "
                       "task and drops the queue)");
        s->queue_hint = true;
        return;
    }
    char agent[64];
    const char *request = line;
    /* "@README.md explain it": a file first, not an agent. */
    char *first = er_xstrndup(line + 1, strcspn(line + 1, " \t\n"));
    char *file = line[0] == '@' ? workspace_file(er_env_config(a->env)->workspace, first) : NULL;
    int forced = file ? 0 : forced_agent(a, line, agent, sizeof agent, &request);
    free(file);
    free(first);
    if (forced < 0)
        return;
    if (line != s->last_line) {
        free(s->last_line);
        s->last_line = er_xstrdup(line);
    }
    char *sent;
    if (attach_paths(a, request, &sent))
        return;
    submit(a, request, sent, forced ? agent : NULL);
    free(sent);
}

bool tui_session_cancel(tui_app *a)
{
    tui_session *s = a->session;
    if (!s->running)
        return false;
    er_error err = { 0 };
    if (er_task_cancel(a->env, s->o.task_id, &err) && err.code != ER_ECONFLICT)
        tui_set_status(a, true, "Cannot cancel: %s", err.msg);
    else
        tui_set_status(a, false, "Cancelling the task…");
    s->cancel_sent = true;
    drop_approvals(s);
    s->dropped = s->nqueued;
    if (s->nqueued)
        tui_set_status(a, false, "Cancelling the task… (%zu queued request%s dropped)", s->nqueued,
                       s->nqueued == 1 ? "" : "s");
    drop_queue(s);
    return true;
}

void tui_session_tick(tui_app *a)
{
    tui_session *s = a->session;
    if (!s->running || ++s->ticks % STORE_CHECK_TICKS != 0)
        return;
    if (cli_outcome_check_store(a->c, &s->o)) {
        er_log(ER_LOG_INFO, "tui", "task %s ended without its end event; the store says %s",
               s->o.task_id, er_task_status_name(s->o.status));
        finish(a);
    }
}

void tui_session_stop(tui_app *a)
{
    tui_session *s = a->session;
    /* In-process workers die with us: do not leave the task "running" forever. */
    if (s->running && a->local_bus)
        er_task_cancel(a->env, s->o.task_id, NULL);
    er_cache_unsubscribe(s->sub);
    s->sub = NULL;
}

/* ---- approvals ---- */

/* What an answer covers beyond this call (the chat's note says it). */
typedef enum { SCOPE_ONCE, SCOPE_COMMAND, SCOPE_TOOL, SCOPE_CLASS } answer_scope;

static void answer(tui_app *a, const cJSON *ev, er_approval_decision d, answer_scope scope)
{
    tui_session *s = a->session;
    const cJSON *data = er_json_obj(ev, "data");
    er_error err = { 0 };
    if (er_approval_answer(a->env, er_json_str(ev, "task_id"), er_json_str(data, "call_id"), d,
                           &err)) {
        tui_set_status(a, true, "Cannot answer the approval request: %s", err.msg);
        return;
    }
    const char *tool = er_json_str(data, "tool") ? er_json_str(data, "tool") : "the tool";
    char *note =
        d == ER_APPROVAL_DENY ? er_xasprintf("✗ denied %s", tool)
        : scope == SCOPE_COMMAND
            ? er_xasprintf("✓ allowed %s (always this command this session)", tool)
        : scope == SCOPE_TOOL ? er_xasprintf("✓ allowed %s (always %s this session)", tool, tool)
        : d == ER_APPROVAL_ALLOW
            ? er_xasprintf("✓ allowed %s", tool)
            : er_xasprintf("✓ allowed %s (always for %s tools this session)", tool,
                           er_json_str(data, "perm") ? er_json_str(data, "perm") : "these");
    tui_chat_note(a->chat, s->entry, note);
    free(note);
}

/* A request with a reason was asked although the policy would allow it (it
 * follows outside content): it is for a person to read, every time, so an
 * earlier "always" never answers it. */
static bool tainted(const cJSON *ev)
{
    return er_json_str(er_json_obj(ev, "data"), "reason") != NULL;
}

/* The command a run-like call would run (its "cmd" or "command" argument),
 * OWNED; NULL when the call has none. */
static char *command_of(const cJSON *ev)
{
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(er_json_obj(ev, "data"), "arguments");
    cJSON *parsed = cJSON_IsString(args) ? cJSON_Parse(args->valuestring) : NULL;
    const cJSON *obj = parsed ? parsed : args;
    const char *cmd =
        er_json_str(obj, "cmd") ? er_json_str(obj, "cmd") : er_json_str(obj, "command");
    char *out = cmd ? er_xstrdup(cmd) : NULL;
    cJSON_Delete(parsed);
    return out;
}

/* The key a "t" (command NULL) or "c" answer is remembered under. */
static char *allowed_key(const cJSON *ev, const char *command)
{
    const char *tool = er_json_str(er_json_obj(ev, "data"), "tool");
    return command ? er_xasprintf("%s\n%s", tool ? tool : "", command)
                   : er_xstrdup(tool ? tool : "");
}

static bool allowed_has(const tui_session *s, const char *key)
{
    for (size_t i = 0; i < s->nallowed; i++)
        if (er_str_eq(s->allowed[i], key))
            return true;
    return false;
}

/* What an earlier "always" answers for this request (SCOPE_ONCE: nothing). */
static answer_scope always_for(const tui_session *s, const cJSON *ev)
{
    if (tainted(ev))
        return SCOPE_ONCE;
    er_perm p;
    if (er_perm_parse(er_json_str(er_json_obj(ev, "data"), "perm"), &p) == 0 && s->always[p])
        return SCOPE_CLASS;
    char *key = allowed_key(ev, NULL);
    answer_scope scope = allowed_has(s, key) ? SCOPE_TOOL : SCOPE_ONCE;
    free(key);
    char *cmd = scope == SCOPE_ONCE ? command_of(ev) : NULL;
    if (cmd) {
        key = allowed_key(ev, cmd);
        if (allowed_has(s, key))
            scope = SCOPE_COMMAND;
        free(key);
        free(cmd);
    }
    return scope;
}

/* Answers ev as an earlier "always" says; false when none covers it.  Only
 * the class-wide answer goes to the runtime as "always": a tool or command
 * answer stays this session's, each call allowed once. */
static bool answer_by_always(tui_app *a, const cJSON *ev)
{
    answer_scope scope = always_for(a->session, ev);
    if (scope == SCOPE_ONCE)
        return false;
    answer(a, ev, scope == SCOPE_CLASS ? ER_APPROVAL_ALWAYS : ER_APPROVAL_ALLOW, scope);
    return true;
}

static void on_approval(tui_app *a, const cJSON *ev)
{
    tui_session *s = a->session;
    if (answer_by_always(a, ev))
        return;
    if (s->napprovals == MAX_APPROVALS) {
        answer(a, ev, ER_APPROVAL_DENY, SCOPE_ONCE); /* a runaway: no one can read that many */
        return;
    }
    s->approvals[s->napprovals++] = cJSON_Duplicate(ev, true);
}

bool tui_approval_open(const tui_app *a)
{
    return a->session && a->session->napprovals > 0;
}

static void remove_approval(tui_session *s, size_t i)
{
    if (i == 0)
        s->ascroll = 0; /* the next question starts at its top */
    cJSON_Delete(s->approvals[i]);
    memmove(s->approvals + i, s->approvals + i + 1, (s->napprovals - i - 1) * sizeof *s->approvals);
    s->napprovals--;
}

/* A call that got its result was answered elsewhere or timed out: no question left. */
static void approval_settled(tui_session *s, const char *call_id)
{
    for (size_t i = 0; call_id && i < s->napprovals; i++) {
        if (er_str_eq(er_json_str(er_json_obj(s->approvals[i], "data"), "call_id"), call_id)) {
            remove_approval(s, i);
            return;
        }
    }
}

void tui_approval_key(tui_app *a, const tui_key *k)
{
    tui_session *s = a->session;
    if (!s->napprovals)
        return;
    /* Long arguments (a whole file to write) scroll: nothing is approved unseen. */
    if (tui_scroll_key(k, &s->ascroll, s->apage, s->arows)) {
        a->dirty = true;
        return;
    }
    if (k->fn)
        return;
    er_approval_decision d;
    answer_scope scope = SCOPE_ONCE;
    const cJSON *ev = s->approvals[0];
    char *cmd = command_of(ev);
    switch (k->c) {
    case 'y':
    case 'Y': d = ER_APPROVAL_ALLOW; break;
    case 'n':
    case 'N':
    case 27: d = ER_APPROVAL_DENY; break;
    case 'a':
    case 'A':
    case 't':
    case 'T':
    case 'c':
    case 'C':
        /* not offered after outside content, nor "c" without a command: see tui_approval_draw */
        if (tainted(ev) || ((k->c == 'c' || k->c == 'C') && !cmd) ||
            ((k->c == 't' || k->c == 'T' || k->c == 'c' || k->c == 'C') &&
             s->nallowed == MAX_ALLOWED)) {
            free(cmd);
            return;
        }
        d = k->c == 'a' || k->c == 'A' ? ER_APPROVAL_ALWAYS : ER_APPROVAL_ALLOW;
        scope = k->c == 'a' || k->c == 'A'   ? SCOPE_CLASS
                : k->c == 't' || k->c == 'T' ? SCOPE_TOOL
                                             : SCOPE_COMMAND;
        break;
    default: free(cmd); return;
    }
    answer(a, ev, d, scope);
    if (scope == SCOPE_CLASS) {
        er_perm p;
        if (er_perm_parse(er_json_str(er_json_obj(ev, "data"), "perm"), &p) == 0)
            s->always[p] = true;
    } else if (scope != SCOPE_ONCE) {
        s->allowed[s->nallowed++] = allowed_key(ev, scope == SCOPE_COMMAND ? cmd : NULL);
    }
    free(cmd);
    remove_approval(s, 0);
    /* Waiting requests just allowed for the session need no question. */
    for (size_t i = 0; i < s->napprovals;) {
        if (answer_by_always(a, s->approvals[i]))
            remove_approval(s, i);
        else
            i++;
    }
    a->dirty = true;
}

/* The arguments as the user should read them: one "key: value" per line,
 * string values verbatim (a file's content shows as the file would). */
static char *readable_args(const cJSON *data)
{
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(data, "arguments");
    cJSON *parsed = cJSON_IsString(args) ? cJSON_Parse(args->valuestring) : NULL;
    const cJSON *obj = parsed ? parsed : args;
    er_buf b = ER_BUF_INIT;
    if (cJSON_IsObject(obj)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, obj)
        {
            if (cJSON_IsString(it) && strchr(it->valuestring, '\n')) {
                er_buf_printf(&b, "%s:\n%s", it->string, it->valuestring);
                if (!er_str_ends(it->valuestring, "\n"))
                    er_buf_putc(&b, '\n');
            } else if (cJSON_IsString(it)) {
                er_buf_printf(&b, "%s: %s\n", it->string, it->valuestring);
            } else {
                char *v = er_json_print(it);
                er_buf_printf(&b, "%s: %s\n", it->string, v);
                free(v);
            }
        }
    } else if (cJSON_IsString(args)) {
        er_buf_puts(&b, args->valuestring);
    } else if (obj) {
        char *v = er_json_print(obj);
        er_buf_puts(&b, v);
        free(v);
    }
    cJSON_Delete(parsed);
    char *clean = tui_sanitize(b.ptr ? b.ptr : "", b.len);
    er_buf_release(&b);
    size_t n = strlen(clean);
    if (n && clean[n - 1] == '\n')
        clean[n - 1] = '\0';
    return clean;
}

/* The argument rows of the dialog, `w` columns wide: offsets into text. */
typedef struct arg_row {
    size_t off, len;
} arg_row;

static arg_row *wrap_args(const char *text, int w, int *out_n)
{
    size_t len = strlen(text), cap = 16;
    arg_row *rows = er_xmalloc(cap * sizeof *rows);
    int n = 0;
    for (size_t off = 0, next; off < len; off += next) {
        if ((size_t)n == cap)
            rows = er_xrealloc(rows, (cap *= 2) * sizeof *rows);
        rows[n].off = off;
        rows[n++].len = tui_wrap(text + off, len - off, w, &next);
    }
    *out_n = n;
    return rows;
}

/* What the dialog scrolls through: what saying yes does (the preview: a
 * diff, the command and its jail) when the runtime sent one, else the
 * arguments as they are. */
static char *dialog_text(const cJSON *d)
{
    const char *preview = er_json_str(d, "preview");
    if (!preview)
        return readable_args(d);
    char *clean = tui_sanitize(preview, strlen(preview));
    size_t n = strlen(clean);
    while (n && clean[n - 1] == '\n')
        clean[--n] = '\0';
    return clean;
}

/* A row's style: a diff's added lines green, removed red, hunks marked. */
static tui_style line_style(const char *line, bool diff)
{
    if (!diff)
        return TUI_S_CODE;
    if (line[0] == '+' && line[1] != '+')
        return TUI_S_STRING;
    if (line[0] == '-' && line[1] != '-')
        return TUI_S_ERROR;
    if (line[0] == '@' && line[1] == '@')
        return TUI_S_KEYWORD;
    return TUI_S_CODE;
}

/* Rows [ascroll, ascroll + h) of the text; when they do not all fit, the
 * row below says which are shown and how to see the others. */
static void draw_args(tui_session *s, tui_rect in, int y, int h, const char *args, bool diff)
{
    int n;
    arg_row *rows = wrap_args(args, in.w, &n);
    s->arows = n;
    s->apage = h;
    s->ascroll = tui_scroll_clamp(s->ascroll, h, n);
    tui_style st = TUI_S_CODE;
    for (int i = 0; i < n && i < s->ascroll + h; i++) {
        size_t off = rows[i].off;
        if (off == 0 || args[off - 1] == '\n') /* a wrapped row keeps its line's style */
            st = line_style(args + off, diff);
        if (i >= s->ascroll)
            tui_putn(y + i - s->ascroll, in.x, in.w, st, args + off, rows[i].len);
    }
    if (n > h) {
        int last = s->ascroll + h < n ? s->ascroll + h : n;
        tui_putf(y + h, in.x, in.w, TUI_S_DIM, "rows %d-%d of %d · ↑↓ PgUp PgDn scroll",
                 s->ascroll + 1, last, n);
    }
    free(rows);
}

/* "wants to run a command" reads better than "wants to run run". */
static const char *action_of(const char *tool)
{
    static const struct {
        const char *tool, *action;
    } actions[] = {
        { "run", "run a command" },
        { "write_file", "write a file" },
        { "edit_file", "edit a file" },
    };
    for (size_t i = 0; tool && i < ER_ARRAY_LEN(actions); i++)
        if (strcmp(actions[i].tool, tool) == 0)
            return actions[i].action;
    return NULL;
}

/* The warning above the arguments when the request follows outside content. */
static char *reason_text(const cJSON *d)
{
    const char *reason = er_json_str(d, "reason");
    return reason ? er_xasprintf("⚠ Asked because %s. Allow only what you asked for.", reason)
                  : NULL;
}

void tui_approval_draw(tui_app *a)
{
    tui_session *s = a->session;
    const cJSON *ev = s->approvals[0];
    const cJSON *d = er_json_obj(ev, "data");
    char *args = dialog_text(d);
    char *why = reason_text(d);
    const char *tool = er_json_str(d, "tool") ? er_json_str(d, "tool") : "a tool";
    bool diff = er_json_str(d, "preview") && !er_str_eq(tool, "run");
    int w = a->cols - 4 < 100 ? a->cols - 4 : 100;
    int nargs, nwhy = 0;
    free(wrap_args(args, w - 4, &nargs));
    if (why)
        free(wrap_args(why, w - 4, &nwhy));
    int h = nargs + nwhy + (why ? 1 : 0) + 6;
    if (h > a->rows - 2)
        h = a->rows - 2;
    char title[64];
    if (s->napprovals > 1)
        snprintf(title, sizeof title, "Approval needed (1 of %zu)", s->napprovals);
    else
        snprintf(title, sizeof title, "Approval needed");
    tui_rect in = tui_box((tui_rect){ (a->rows - h) / 2, (a->cols - w) / 2, h, w }, title);
    const char *perm = er_json_str(d, "perm") ? er_json_str(d, "perm") : "?";
    int y = in.y, x = in.x;
    x += tui_put(y, x, in.w, TUI_S_AGENT,
                 er_json_str(d, "agent") ? er_json_str(d, "agent") : "agent");
    x += tui_put(y, x, in.x + in.w - x, TUI_S_TEXT, " wants to ");
    if (action_of(tool)) {
        x += tui_put(y, x, in.x + in.w - x, TUI_S_KEYWORD, action_of(tool));
        x += tui_putf(y, x, in.x + in.w - x, TUI_S_DIM, " (%s)", tool);
    } else {
        x += tui_put(y, x, in.x + in.w - x, TUI_S_TEXT, "run ");
        x += tui_put(y, x, in.x + in.w - x, TUI_S_KEYWORD, tool);
    }
    tui_putf(y, x, in.x + in.w - x, TUI_S_DIM, "  (permission: %s)", perm);
    int top = y + 2;
    if (why) { /* never scrolled away: it is why the question is asked at all */
        int nr;
        arg_row *rows = wrap_args(why, in.w, &nr);
        for (int i = 0; i < nr && top < in.y + in.h - 3; i++, top++)
            tui_putn(top, in.x, in.w, TUI_S_WARN, why + rows[i].off, rows[i].len);
        free(rows);
        top++;
    }
    draw_args(s, in, top, in.y + in.h - 2 - top, args, diff);
    free(args);
    x = in.x;
    y = in.y + in.h - 1;
    x += tui_put(y, x, in.w, TUI_S_BAR_KEY, " y ");
    x += tui_put(y, x, in.x + in.w - x, TUI_S_TEXT, " allow  ");
    x += tui_put(y, x, in.x + in.w - x, TUI_S_BAR_KEY, " n ");
    x += tui_put(y, x, in.x + in.w - x, TUI_S_TEXT, " deny  ");
    if (why) { /* "always" would not cover the next one: not offered */
        free(why);
        return;
    }
    /* "always" for this session, as wide as the user wants it: the exact
     * command (run), the tool, or every tool of the permission class. */
    char *cmd = command_of(s->approvals[0]);
    char all[64];
    snprintf(all, sizeof all, " all %s tools", perm);
    int need = 24 + (cmd ? 13 : 0) + 10 + 3 + tui_text_width(all, strlen(all));
    x += tui_put(y, x, in.x + in.w - x, TUI_S_TEXT,
                 need > in.x + in.w - x ? "always: " : "always for this session: ");
    if (cmd) {
        x += tui_put(y, x, in.x + in.w - x, TUI_S_BAR_KEY, " c ");
        x += tui_put(y, x, in.x + in.w - x, TUI_S_TEXT, " command  ");
    }
    x += tui_put(y, x, in.x + in.w - x, TUI_S_BAR_KEY, " t ");
    x += tui_put(y, x, in.x + in.w - x, TUI_S_TEXT, " tool  ");
    x += tui_put(y, x, in.x + in.w - x, TUI_S_BAR_KEY, " a ");
    tui_put(y, x, in.x + in.w - x, TUI_S_TEXT, all);
    free(cmd);
}

/* ---- events of this session's request ---- */

/* A data_chart result drawn inline, as a block of the answer (no colour: the
 * chat draws text in its own styles). */
static void show_chart(tui_app *a, const cJSON *ev)
{
    char *text = cli_chart_text(ev, a->cols - 8 > 100 ? 100 : a->cols - 8, false);
    if (!text)
        return;
    static const char fence[] = "```\n";
    tui_session *s = a->session;
    tui_chat_append(a->chat, s->entry, fence, sizeof fence - 1);
    tui_chat_append(a->chat, s->entry, text, strlen(text));
    tui_chat_append(a->chat, s->entry, fence, sizeof fence - 1);
    s->streamed = true;
    a->dirty = true;
    free(text);
}

static void call_key(const cJSON *ev, char *out, size_t n)
{
    const char *task = er_json_str(ev, "task_id"), *id = er_json_str(er_json_obj(ev, "data"), "id");
    snprintf(out, n, "%s/%s", task ? task : "", id ? id : "");
}

/* A tool step under way: a dim line, turned into its outcome by step_done. */
static void step_start(tui_app *a, const cJSON *ev)
{
    tui_session *s = a->session;
    char *text = cli_event_text(ev);
    size_t note = tui_chat_note(a->chat, s->entry, text);
    if (note == SIZE_MAX || s->ncalls == MAX_CALLS) {
        free(text);
        return; /* past the cap the line stays as it is */
    }
    call_key(ev, s->calls[s->ncalls].key, sizeof s->calls[0].key);
    s->calls[s->ncalls].text = text;
    s->calls[s->ncalls++].note = note;
}

/* ✓ and the first lines it showed (a diff, a command's output), or ✗ and the
 * error, on the step's own line. */
static void step_done(tui_app *a, const cJSON *ev)
{
    tui_session *s = a->session;
    char key[128];
    call_key(ev, key, sizeof key);
    size_t i = 0;
    while (i < s->ncalls && strcmp(s->calls[i].key, key) != 0)
        i++;
    if (i == s->ncalls)
        return;
    size_t note = s->calls[i].note;
    char *line = s->calls[i].text;
    s->calls[i] = s->calls[--s->ncalls];
    const cJSON *d = er_json_obj(ev, "data");
    char *error = cli_result_error(d);
    if (error) {
        char *text = er_xasprintf("%s — %s", line ? line : "", error);
        tui_chat_note_set(a->chat, s->entry, note, TUI_NOTE_FAILED, text, NULL);
        free(text);
        free(error);
        free(line);
        return;
    }
    free(line);
    size_t more = 0;
    char *head = cli_result_head(d, STEP_LINES, &more);
    if (head && more) {
        char *h = er_xasprintf("%s\n… %zu more line%s (F4: the task's steps)", head, more,
                               more == 1 ? "" : "s");
        free(head);
        head = h;
    }
    tui_chat_note_set(a->chat, s->entry, note, TUI_NOTE_OK, NULL, head);
    free(head);
}

void tui_session_event(tui_app *a, const cJSON *ev, bool token)
{
    tui_session *s = a->session;
    if (!s->running || !er_str_eq(er_json_str(ev, "root"), s->o.task_id))
        return;
    const char *kind = er_json_str(ev, "kind");
    bool own = er_str_eq(er_json_str(ev, "task_id"), s->o.task_id);
    const cJSON *d = er_json_obj(ev, "data");
    if (token) {
        const char *text = er_json_str(d, "text");
        if (own && text && !s->cancel_sent) {
            tui_chat_append(a->chat, s->entry, text, strlen(text));
            s->streamed = true;
            a->dirty = true;
        }
        return;
    }
    if (er_str_eq(kind, "approval_request")) {
        on_approval(a, ev);
    } else if (er_str_eq(kind, "tool_result")) {
        approval_settled(s, er_json_str(d, "id"));
        step_done(a, ev);
        show_chart(a, ev);
    } else if (er_str_eq(kind, "start") && own && er_json_str(d, "agent")) {
        er_strlcpy(s->agent, er_json_str(d, "agent"), sizeof s->agent);
        tui_chat_set_who(a->chat, s->entry, s->agent);
    } else if (er_str_eq(kind, "end") && own) {
        cli_outcome_take_end(&s->o, d);
        add_cost(a);
        finish(a);
        return;
    }
    if (er_str_eq(kind, "tool_call")) {
        step_start(a, ev);
    } else if (er_str_eq(kind, "routed") || er_str_eq(kind, "delegate")) {
        char *text = cli_event_text(ev);
        tui_chat_note(a->chat, s->entry, text);
        free(text);
    }
}

/* ---- slash commands ---- */

static void do_help(tui_app *a, const char *arg)
{
    (void)arg;
    tui_open_help(a);
}

static void show_or_explain(tui_app *a, tui_panel_id p, const char *name)
{
    if (a->narrow)
        tui_set_status(a, true, "The %s panel needs a terminal 80 columns wide", name);
    else
        tui_show_panel(a, p);
}

static void do_agents(tui_app *a, const char *arg)
{
    (void)arg;
    show_or_explain(a, TUI_AGENTS, "agent monitor");
}

static void do_tasks(tui_app *a, const char *arg)
{
    (void)arg;
    show_or_explain(a, TUI_TASKS, "task tracker");
}

static void do_memory(tui_app *a, const char *arg)
{
    show_or_explain(a, TUI_MEMORY, "memory");
    if (!a->narrow && *arg)
        tui_memory_search(a, arg);
}

static void do_new(tui_app *a, const char *arg)
{
    (void)arg;
    tui_session_use_conversation(a, NULL, NULL);
    tui_set_status(a, false, "New conversation");
}

static void do_cancel(tui_app *a, const char *arg)
{
    (void)arg;
    if (!tui_session_cancel(a))
        tui_set_status(a, false, "Nothing is running");
}

static void do_clear(tui_app *a, const char *arg)
{
    (void)arg;
    tui_chat_clear(a->chat);
}

static void do_retry(tui_app *a, const char *arg)
{
    (void)arg;
    tui_session *s = a->session;
    if (!s->last_line)
        tui_set_status(a, true, "Nothing to retry yet");
    else
        tui_session_line(a, s->last_line); /* queued when a task runs */
}

static void do_edit(tui_app *a, const char *arg)
{
    (void)arg;
    tui_session *s = a->session;
    if (!s->last_line)
        tui_set_status(a, true, "No request to edit yet");
    else
        tui_input_set_text(a, s->last_line);
}

/* /copy: the last answer, /copy N its N-th code block. */
static void do_copy(tui_app *a, const char *arg)
{
    char *end;
    long n = *arg ? strtol(arg, &end, 10) : 0;
    if (*arg && (*end || n < 1)) {
        tui_set_status(a, true, "/copy copies the last answer; /copy N its N-th code block");
        return;
    }
    char *text = tui_chat_copy_text(a->chat, (int)n);
    if (!text) {
        tui_set_status(a, true,
                       n ? "The last answer has no code block %ld"
                         : "No answer to copy "
                           "yet",
                       n);
        return;
    }
    char how[96];
    size_t len = strlen(text);
    if (tui_clipboard_copy(text, len, how, sizeof how) == 0)
        tui_set_status(a, false, "Copied %s (%zu bytes) to %s", n ? "the code block" : "the answer",
                       len, how);
    else
        tui_set_status(a, true,
                       "Could not copy: the terminal refused it and no wl-copy or xclip "
                       "was found");
    free(text);
}

static void do_mouse(tui_app *a, const char *arg)
{
    (void)arg;
    tui_set_mouse(a, a->mouse_off);
    tui_set_status(a, false,
                   a->mouse_off ? "Mouse off: the terminal selects text; /mouse turns "
                                  "wheel scrolling back on"
                                : "Mouse on: the wheel scrolls (Shift-drag selects)");
}

/* The model the session's requests use. */
static const char *session_model(tui_app *a)
{
    const er_config *cfg = er_env_config(a->env);
    if (a->session->model)
        return a->session->model;
    if (!er_str_empty(cfg->model))
        return cfg->model;
    const char *dflt = er_llm_default_model(er_config_llm_provider(cfg));
    return dflt ? dflt : "?";
}

/* /model shows the model, /model NAME uses NAME for this session's requests,
 * /model default goes back to the configured one. */
static void do_model(tui_app *a, const char *arg)
{
    tui_session *s = a->session;
    const char *provider = er_config_llm_provider(er_env_config(a->env));
    if (er_str_eq(provider, "offline")) {
        tui_set_status(a, true, "No model is configured (offline): set one up first (man errand)");
        return;
    }
    if (!*arg) {
        tui_set_status(a, false, "Model: %s (%s%s); /model NAME changes it for this session",
                       session_model(a), provider, s->model ? ", chosen here" : "");
        return;
    }
    if (strcspn(arg, " \t") != strlen(arg)) {
        tui_set_status(a, true, "/model takes one name, e.g. /model gpt-4o-mini");
        return;
    }
    free(s->model);
    s->model = er_str_eq(arg, "default") ? NULL : er_xstrdup(arg);
    tui_set_status(a, false, "Model for this session: %s%s", session_model(a),
                   s->model ? "" : " (the configured one)");
}

static void do_quit(tui_app *a, const char *arg)
{
    (void)arg;
    a->quit = true;
}

static void do_search(tui_app *a, const char *arg)
{
    int nth, n = tui_chat_find(a->chat, *arg ? arg : NULL, &nth);
    a->dirty = true;
    if (!*arg && n == 0 && nth == 0) {
        tui_set_status(a, true, "Search for what? /search WORDS");
        return;
    }
    if (!n) {
        tui_set_status(a, true, "No match for '%s' in the chat", arg);
        return;
    }
    tui_set_status(a, false, "Match %d of %d (rows, oldest first) · /search again: the one above",
                   nth, n);
}

const tui_slash tui_slashes[] = {
    { "/help", "the keys and commands", do_help },
    { "/agents", "the agent monitor (F3)", do_agents },
    { "/tasks", "the task tracker (F4)", do_tasks },
    { "/memory", "past conversations; /memory WORDS searches them (F5)", do_memory },
    { "/new", "start a new conversation", do_new },
    { "/cancel", "cancel the running task (Ctrl-C)", do_cancel },
    { "/clear", "clear the chat panel (the conversation goes on)", do_clear },
    { "/retry", "send the last request again", do_retry },
    { "/edit", "put the last request in the input line to change it", do_edit },
    { "/copy", "copy the last answer; /copy N its N-th code block", do_copy },
    { "/search", "find WORDS in the chat, shown reversed; again: the match above", do_search },
    { "/mouse", "mouse reporting off (the terminal selects) or back on", do_mouse },
    { "/model", "show the model; /model NAME uses another for this session", do_model },
    { "/undo", "put back the files the last task changed (asks first); /undo list, /undo ID step N",
      tui_undo },
    { "/quit", "leave (Ctrl-D on an empty line)", do_quit },
};
const size_t tui_nslashes = ER_ARRAY_LEN(tui_slashes);

static void run_slash(tui_app *a, const char *line)
{
    size_t len = strcspn(line, " \t\n");
    const char *arg = line + len;
    while (*arg == ' ' || *arg == '\t' || *arg == '\n')
        arg++;
    for (size_t i = 0; i < tui_nslashes; i++) {
        if (strlen(tui_slashes[i].name) == len && strncmp(tui_slashes[i].name, line, len) == 0) {
            tui_slashes[i].run(a, arg);
            return;
        }
    }
    tui_set_status(a, true, "Unknown command %.*s (try /help)", (int)len, line);
}
