/* offline.c — the LLM backend that needs no model and no network.
 *
 * It stands in for a model in both kinds of call errand makes (offline.h): the
 * supervisor's forced `route` call is answered by the naive Bayes router
 * (classifier.c, compound.c, beside this file), and an agent's call by mapping a
 * plain command onto one of the offered tools (offline_cmd.c), by presenting a
 * tool's result, or by help text.  The agents a route may name are the ones the
 * caller handed to er_llm_open: the backend knows no agent registry of its own.
 * It keeps no state beyond them: every answer follows from the request, so
 * chat() is safe on any number of threads. */
#include "errand/offline.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/backend/llm_backend.h"
#include "errand/buf.h"
#include "errand/classifier.h"
#include "errand/compound.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/tool.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OFFLINE_MODEL "offline"
#define CALL_ID       "offline-1"
/* Streamed text goes out in chunks of about this size, cut at line ends. */
#define STREAM_CHUNK 256

/* ---- messages ---- */

/* The text of a message's content: a string, or the "text" parts of an array. */
static void content_text(const cJSON *msg, er_buf *out)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (cJSON_IsString(c)) {
        er_buf_puts(out, c->valuestring);
        return;
    }
    const cJSON *part;
    cJSON_ArrayForEach(part, c)
    {
        const char *t = er_json_str(part, "text");
        if (t) {
            if (out->len)
                er_buf_putc(out, '\n');
            er_buf_puts(out, t);
        }
    }
}

static size_t count_words(const char *s)
{
    size_t n = 0;
    bool in = false;
    for (; s && *s; s++) {
        bool blank = isspace((unsigned char)*s) != 0;
        n += !blank && !in;
        in = !blank;
    }
    return n;
}

static int64_t input_words(const er_llm_request *req)
{
    int64_t n = (int64_t)count_words(req->system);
    const cJSON *m, *call;
    er_buf text = ER_BUF_INIT;
    cJSON_ArrayForEach(m, req->messages)
    {
        er_buf_reset(&text);
        content_text(m, &text);
        n += (int64_t)count_words(er_buf_cstr(&text));
        cJSON_ArrayForEach(call, er_json_arr(m, "tool_calls"))
        {
            n += (int64_t)count_words(er_json_str(call, "arguments"));
        }
    }
    er_buf_release(&text);
    return n;
}

static const cJSON *last_message(const cJSON *messages, const char *role)
{
    const cJSON *found = NULL, *m;
    cJSON_ArrayForEach(m, messages)
    {
        if (!role || er_str_eq(er_json_str(m, "role"), role))
            found = m;
    }
    return found;
}

/* ---- answers ---- */

/* What an answer may name: the tools offered to the caller that have an
 * offline form, and the agents a route may go to. */
typedef struct offer {
    const er_tool *tools;
    size_t n;
    const er_agent_def *const *agents; /* NULL-terminated, or NULL */
} offer;

static void set_call(er_llm_response *out, const char *name, cJSON *args)
{
    out->calls = er_xcalloc(1, sizeof *out->calls);
    out->ncalls = 1;
    out->calls[0].id = er_xstrdup(CALL_ID);
    out->calls[0].name = er_xstrdup(name);
    out->calls[0].arguments = er_json_print(args);
    cJSON_Delete(args);
}

static double rounded(double x)
{
    return round(x * 10000) / 10000;
}

static cJSON *route_step_json(const er_classifier *c, const char *text, const er_compound_step *st)
{
    cJSON *o = cJSON_CreateObject();
    char *req = er_xstrndup(text + st->span.off, st->span.len);
    er_json_add_str(o, "agent", er_classifier_label(c, (size_t)st->label));
    er_json_add_str(o, "request", req);
    er_json_add_num(o, "depends_on", st->depends_on);
    er_json_add_num(o, "confidence", rounded(st->confidence));
    free(req);
    return o;
}

/* Copies of the agent's own tools that have an offline form (what the offline
 * brain can run for it).  OWNED. */
static er_tool *agent_tools(const er_agent_def *a, size_t *n)
{
    size_t max = 0;
    while (a->tools && a->tools[max])
        max++;
    er_tool *v = er_xcalloc(max + 1, sizeof *v);
    *n = 0;
    for (size_t i = 0; i < max; i++) {
        const er_tool *t = er_tool_find(a->tools[i]);
        if (t && t->offline)
            v[(*n)++] = *t;
    }
    return v;
}

/* The agent one of whose plain commands is the whole line, when exactly one
 * agent has such a command and the line does not read as prose: then there
 * is nothing to guess.  NULL otherwise. */
static bool ends_in_json(const char *line, size_t *len);

static const char *command_agent(const er_agent_def *const *agents, const char *whole)
{
    /* "tables --json" is the command tables: its agent answers it */
    size_t len = strlen(whole);
    char *line = er_xstrndup(whole, ends_in_json(whole, &len) ? len : strlen(whole));
    const char *found = NULL;
    for (size_t i = 0; agents && agents[i]; i++) {
        size_t n;
        er_tool *tools = agent_tools(agents[i], &n);
        const er_tool *t;
        cJSON *args = NULL;
        bool ok = n && er_offline_parse_command(tools, n, line, &t, &args, NULL) == 0 &&
                  !er_offline_reads_as_prose(t, line);
        cJSON_Delete(args);
        free(tools);
        if (ok && found) {
            found = NULL;
            break;
        }
        if (ok)
            found = agents[i]->name;
    }
    free(line);
    return found;
}

/* The one route step for a plain command: all of it, to that agent. */
static cJSON *command_step(const char *agent, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    char *request = er_str_trim(er_xstrdup(text));
    er_json_add_str(o, "agent", agent);
    er_json_add_str(o, "request", request);
    er_json_add_num(o, "depends_on", -1);
    er_json_add_num(o, "confidence", 1);
    free(request);
    return o;
}

/* The supervisor's call: a plain command goes to the agent that has it;
 * anything else is classified into route steps. */
static int answer_route(const er_agent_def *const *agents, const er_llm_request *req,
                        er_llm_response *out, er_error *err)
{
    const cJSON *user = last_message(req->messages, "user");
    if (!user)
        return er_error_set(err, ER_EINVAL, "route: the request has no user message to classify");
    const er_classifier *c;
    int rc = er_classifier_default(&c, err);
    if (rc < 0)
        return rc;
    er_buf text = ER_BUF_INIT;
    content_text(user, &text);
    er_compound_plan r;
    er_compound_route(c, er_buf_cstr(&text), text.len, &r);
    cJSON *args = cJSON_CreateObject(), *steps = cJSON_CreateArray(),
          *scores = cJSON_CreateObject();
    double confidence = 1;
    const char *agent = command_agent(agents, er_buf_cstr(&text));
    if (agent)
        er_json_append(steps, command_step(agent, er_buf_cstr(&text)));
    for (size_t i = 0; !agent && i < r.nsteps; i++) {
        er_json_append(steps, route_step_json(c, er_buf_cstr(&text), &r.steps[i]));
        confidence = fmin(confidence, r.steps[i].confidence);
    }
    for (size_t l = 0; l < r.whole.nlabels; l++)
        er_json_add_num(scores, er_classifier_label(c, l), rounded(r.whole.scores[l]));
    er_json_add(args, "steps", steps);
    er_json_add_num(args, "confidence", rounded(confidence));
    er_json_add(args, "scores", scores);
    er_json_add_str(args, "method", agent ? "command" : "naive-bayes");
    er_buf_release(&text);
    set_call(out, "route", args);
    return 0;
}

/* Help lines are wrapped at this many columns. */
#define HELP_WIDTH 100

/* The first sentence of a description (to ". " or the end; line ends read as
 * blanks), wrapped at HELP_WIDTH with the lines after the first indented to
 * column at. */
static void put_summary(er_buf *b, const char *desc, size_t at)
{
    size_t n = 0, col = at;
    while (desc && desc[n] &&
           !(desc[n] == '.' && (!desc[n + 1] || isspace((unsigned char)desc[n + 1]))))
        n++;
    for (size_t i = 0; i < n;) {
        while (i < n && isspace((unsigned char)desc[i]))
            i++;
        size_t w = i;
        while (w < n && !isspace((unsigned char)desc[w]))
            w++;
        if (w == i)
            break;
        if (col > at && col + 1 + (w - i) > HELP_WIDTH) {
            er_buf_printf(b, "\n%*s", (int)at, "");
            col = at;
        } else if (col > at) {
            er_buf_putc(b, ' ');
            col++;
        }
        er_buf_append(b, desc + i, w - i);
        col += w - i;
        i = w;
    }
}

/* One line per offline command of tools, under heading; how many. */
static size_t list_commands(const er_tool *tools, size_t n, const char *heading, er_buf *b)
{
    size_t width = 0, offered = 0;
    for (size_t i = 0; i < n; i++)
        if (tools[i].offline && strlen(tools[i].offline) > width)
            width = strlen(tools[i].offline);
    for (size_t i = 0; i < n; i++) {
        if (!tools[i].offline)
            continue;
        if (!offered++)
            er_buf_printf(b, "%s\n", heading);
        er_buf_printf(b, "  %-*s  ", (int)width, tools[i].offline);
        put_summary(b, tools[i].description, width + 4);
        er_buf_putc(b, '\n');
    }
    return offered;
}

/* An agent without offline commands (a request the classifier sent to
 * research, say) still tells the user which commands work: those of the
 * agents that have some, where offline routing sends them. */
static void other_agents_commands(const er_agent_def *const *agents, er_buf *b)
{
    for (size_t i = 0; agents && agents[i]; i++) {
        size_t n;
        er_tool *tools = agent_tools(agents[i], &n);
        char *heading = er_xasprintf("Plain commands go to the %s agent:", agents[i]->name);
        list_commands(tools, n, heading, b);
        free(heading);
        free(tools);
    }
}

static void help_text(const offer *o, er_buf *b)
{
    er_buf_puts(b, "errand is running without a language model (offline), so it understands "
                   "plain commands only.\n");
    if (!list_commands(o->tools, o->n, "Commands available here:", b)) {
        er_buf_puts(b, "No commands are available offline here.\n");
        other_agents_commands(o->agents, b);
    }
    er_buf_puts(b, "To ask in your own words, configure a model:\n"
                   "  ERRAND_LLM=openai with OPENAI_API_KEY=...\n"
                   "  ERRAND_LLM=anthropic with ANTHROPIC_API_KEY=...\n"
                   "  a local Ollama, vLLM or llama.cpp server: ERRAND_LLM=openai "
                   "OPENAI_BASE_URL=http://127.0.0.1:11434/v1\n");
}

/* cJSON indents with tabs and follows each colon with one; two spaces a level
 * and a single space read better in a terminal.  Tabs inside JSON strings are
 * escaped, so every raw tab is layout.  OWNED. */
static char *untab(const char *s)
{
    er_buf b = ER_BUF_INIT;
    bool indent = true;
    for (; *s; s++) {
        if (*s == '\t') {
            er_buf_puts(&b, indent ? "  " : " ");
            continue;
        }
        indent = *s == '\n';
        er_buf_putc(&b, *s);
    }
    return er_buf_detach(&b);
}

/* A line's worth of columns: longer lists of strings are shown one a line. */
#define BLOCK_WIDTH 80

/* Strings of several lines (file text, command output, diffs) and lists of
 * strings too long for one line (grep's matches) read better as text than as
 * escaped JSON. */
static bool is_block(const cJSON *v)
{
    if (cJSON_IsString(v))
        return strchr(v->valuestring, '\n') != NULL;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return false;
    size_t width = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e))
            return false;
        width += strlen(e->valuestring) + 4;
    }
    return width > BLOCK_WIDTH;
}

/* Text from a tool goes to a terminal: control characters other than tab and
 * newline (escape sequences) are shown as '?'. */
static void put_plain(er_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        er_buf_putc(b, (ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f ? '?' : *s);
    }
}

static void put_block(er_buf *b, const cJSON *v)
{
    er_buf_printf(b, "%s%s:\n", b->len ? "\n" : "", v->string);
    if (cJSON_IsString(v)) {
        put_plain(b, v->valuestring);
        if (b->ptr[b->len - 1] != '\n')
            er_buf_putc(b, '\n');
        return;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        er_buf_puts(b, "  ");
        put_plain(b, e->valuestring);
        er_buf_putc(b, '\n');
    }
}

/* An object as pretty JSON, its blocks (is_block) after it as text.  OWNED. */
static char *object_text(cJSON *j)
{
    cJSON *blocks = cJSON_CreateArray();
    for (cJSON *v = j->child, *next; v; v = next) {
        next = v->next;
        if (is_block(v))
            cJSON_AddItemToArray(blocks, cJSON_DetachItemViaPointer(j, v));
    }
    er_buf b = ER_BUF_INIT;
    if (j->child || !blocks->child) {
        char *pretty = cJSON_Print(j);
        char *text = pretty ? untab(pretty) : NULL;
        er_buf_puts(&b, text ? text : "");
        er_buf_putc(&b, '\n');
        free(pretty);
        free(text);
    }
    for (const cJSON *v = blocks->child; v; v = v->next)
        put_block(&b, v);
    cJSON_Delete(blocks);
    return er_buf_detach(&b);
}

/* The text a tool result shows: for a person (er_offline_result_text), or
 * with --json pretty JSON with long texts as text; text that is not JSON as
 * it came.  OWNED. */
static char *result_text(const cJSON *msg, bool json)
{
    er_buf raw = ER_BUF_INIT;
    content_text(msg, &raw);
    cJSON *j = NULL;
    char *s = NULL;
    if (raw.len && er_json_parse(&j, raw.ptr, raw.len, NULL) == 0) {
        if (!json && (cJSON_IsObject(j) || cJSON_IsArray(j))) {
            s = er_offline_result_text(j);
        } else if (cJSON_IsObject(j)) {
            s = object_text(j);
        } else if (cJSON_IsArray(j)) {
            char *pretty = cJSON_Print(j);
            s = pretty ? untab(pretty) : NULL;
            free(pretty);
        }
    }
    cJSON_Delete(j);
    if (!s)
        s = er_buf_detach(&raw);
    er_buf_release(&raw);
    return er_str_trim(s);
}

/* A command ending in the word --json asks for the tool's result as JSON:
 * true, and *len shortened to the command before it. */
static bool ends_in_json(const char *line, size_t *len)
{
    size_t n = *len;
    while (n && isspace((unsigned char)line[n - 1]))
        n--;
    const size_t flag = strlen("--json");
    if (n < flag || memcmp(line + n - flag, "--json", flag) != 0)
        return false;
    if (n > flag && !isspace((unsigned char)line[n - flag - 1]))
        return false;
    *len = n - flag;
    return true;
}

/* Where a result longer than the cap is cut: after the last line end in the
 * second half of the cap, else at the cap, backed off a UTF-8 continuation
 * byte (a character has at most four bytes). */
static size_t cut_point(const char *s)
{
    for (size_t cut = ER_OFFLINE_RESULT_MAX; cut > ER_OFFLINE_RESULT_MAX / 2; cut--)
        if (s[cut - 1] == '\n')
            return cut;
    size_t cut = ER_OFFLINE_RESULT_MAX;
    while (cut > ER_OFFLINE_RESULT_MAX - 3 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* A tool's result as the final answer, long output elided at a line end. */
static void present_result(const cJSON *msg, bool json, er_buf *b)
{
    char *s = result_text(msg, json);
    size_t len = strlen(s);
    if (!len) {
        const char *name = er_json_str(msg, "name");
        er_buf_printf(b, "%s finished with no output.", name ? name : "The tool");
    } else if (len <= ER_OFFLINE_RESULT_MAX) {
        er_buf_append(b, s, len);
    } else {
        size_t cut = cut_point(s);
        er_buf_append(b, s, cut);
        er_buf_printf(b, "%s... (%zu more bytes not shown)", s[cut - 1] == '\n' ? "" : "\n",
                      len - cut);
    }
    free(s);
}

/* A command of a tool that changes something and takes the rest of the line
 * ("run CMD...", "write PATH CONTENT...") keeps a final --json as its own
 * words: they may be the command's. */
static bool keeps_words(const er_tool *t)
{
    if (!t || t->perm == ER_PERM_READ || !t->offline)
        return false;
    size_t n = strlen(t->offline);
    return n >= 3 && strcmp(t->offline + n - 3, "...") == 0;
}

static const er_tool *offered(const offer *o, const char *name)
{
    for (size_t i = 0; name && i < o->n; i++)
        if (strcmp(o->tools[i].name, name) == 0)
            return &o->tools[i];
    return NULL;
}

/* The runtime hands a failed or refused tool call back as "error: …".  A model
 * would read it and try again; offline, the command the user typed failed, and
 * so does the task (exit status 1), with the tool's reason. */
static int present_or_fail(const offer *o, const er_llm_request *req, const cJSON *msg, er_buf *b,
                           er_error *err)
{
    const char *content = er_json_str(msg, "content");
    if (!er_llm_tool_failed(content)) {
        er_buf line = ER_BUF_INIT;
        content_text(last_message(req->messages, "user"), &line);
        bool json = ends_in_json(line.ptr ? line.ptr : "", &line.len) &&
                    !keeps_words(offered(o, er_json_str(msg, "name")));
        present_result(msg, json, b);
        er_buf_release(&line);
        return 0;
    }
    const char *why = content + strlen("error:");
    why += strspn(why, " ");
    bool refused = er_str_starts(why, "denied by policy") || er_str_starts(why, "the user denied");
    return er_error_set(err, refused ? ER_EDENIED : ER_EINVAL, "%s",
                        *why ? why : "the tool failed without saying why");
}

/* An agent's call whose last message is the user's: a command or help. */
static int answer_user(const offer *o, const cJSON *msg, er_llm_response *out, er_buf *text,
                       er_error *err)
{
    er_buf line = ER_BUF_INIT;
    content_text(msg, &line);
    char *whole = er_xstrdup(er_buf_cstr(&line));
    if (line.len && ends_in_json(line.ptr, &line.len))
        line.ptr[line.len] = '\0';
    const er_tool *tool = NULL;
    cJSON *args = NULL;
    er_error perr = { 0 };
    int rc = er_offline_parse_command(o->tools, o->n, er_buf_cstr(&line), &tool, &args, &perr);
    if (rc == 0 && keeps_words(tool) && strcmp(whole, er_buf_cstr(&line)) != 0) {
        cJSON_Delete(args);
        rc = er_offline_parse_command(o->tools, o->n, whole, &tool, &args, &perr);
    }
    free(whole);
    er_buf_release(&line);
    if (rc == 0) {
        set_call(out, tool->name, args);
        return 0;
    }
    if (rc == ER_EINTERNAL)
        return er_error_set(err, rc, "%s", perr.msg);
    if (rc == ER_EINVAL || rc == ER_ETOOBIG) { /* a command, badly written: say why */
        er_buf_printf(text,
                      "%s\n(help lists the commands; a request in your own words needs a "
                      "model: ERRAND_LLM, man errand)\n",
                      perr.msg);
        return 0;
    }
    help_text(o, text);
    return 0;
}

/* ---- the response ---- */

/* Hands the text to on_token in a few chunks, cut after a line end. */
static int stream_text(const er_llm_request *req, const char *s, size_t len, er_error *err)
{
    size_t off = 0;
    while (off < len) {
        if (req->cancel && *req->cancel)
            return er_error_set(err, ER_ECANCELLED, "offline: cancelled");
        size_t n = len - off;
        if (n > STREAM_CHUNK) {
            const char *nl = memchr(s + off + STREAM_CHUNK, '\n', len - off - STREAM_CHUNK);
            n = nl ? (size_t)(nl - (s + off)) + 1 : len - off;
        }
        req->on_token(s + off, n, req->payload);
        off += n;
    }
    return 0;
}

/* Fills in text, stop reason, model and usage, and streams the text. */
static int finish(const er_llm_request *req, er_buf *text, er_llm_response *out, er_error *err)
{
    out->text = er_buf_detach(text);
    out->stop_reason = er_xstrdup(out->ncalls ? "tool_calls" : "stop");
    out->model = er_xstrdup(OFFLINE_MODEL);
    out->usage.input_tokens = input_words(req);
    out->usage.output_tokens = (int64_t)count_words(out->text);
    for (size_t i = 0; i < out->ncalls; i++)
        out->usage.output_tokens += (int64_t)count_words(out->calls[i].arguments);
    size_t len = strlen(out->text);
    int rc = req->stream && req->on_token && len ? stream_text(req, out->text, len, err) : 0;
    if (rc < 0)
        er_llm_response_release(out);
    return rc;
}

int er_offline_answer(const er_tool *tools, size_t n, const er_agent_def *const *agents,
                      const er_llm_request *req, er_llm_response *out, er_error *err)
{
    const offer o = { tools, n, agents };
    memset(out, 0, sizeof *out);
    if (req->cancel && *req->cancel)
        return er_error_set(err, ER_ECANCELLED, "offline: cancelled");
    const cJSON *last = last_message(req->messages, NULL);
    if (!last)
        return er_error_set(err, ER_EINVAL, "offline: the request has no messages");
    er_buf text = ER_BUF_INIT;
    int rc = 0;
    const char *role = er_json_str(last, "role");
    if (er_str_eq(req->tool_choice, "route"))
        rc = answer_route(agents, req, out, err);
    else if (er_str_eq(role, "tool"))
        rc = present_or_fail(&o, req, last, &text, err);
    else if (er_str_eq(role, "user"))
        rc = answer_user(&o, last, out, &text, err);
    else
        help_text(&o, &text);
    if (rc == 0)
        return finish(req, &text, out, err);
    er_buf_release(&text);
    er_llm_response_release(out);
    return rc;
}

/* ---- the backend ---- */

/* Runtime built-ins the offline brain has no command form for. */
static const char *const builtins[] = { "write_todos", "task" };

static bool is_builtin(const char *name)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(builtins); i++)
        if (strcmp(name, builtins[i]) == 0)
            return true;
    return false;
}

/* The offered tools that have an offline form, copied from the registry. */
static er_tool *offered_tools(const cJSON *specs, size_t *n)
{
    er_tool *tools = er_xcalloc((size_t)cJSON_GetArraySize(specs) + 1, sizeof *tools);
    const cJSON *spec;
    *n = 0;
    cJSON_ArrayForEach(spec, specs)
    {
        const char *name = er_json_str(spec, "name");
        const er_tool *t = name && !is_builtin(name) ? er_tool_find(name) : NULL;
        if (t && t->offline)
            tools[(*n)++] = *t;
    }
    return tools;
}

typedef struct offline_llm {
    er_llm base;
} offline_llm;

static int offline_open(er_llm **out, const er_config *cfg, er_error *err)
{
    (void)cfg;
    (void)err;
    offline_llm *o = er_xcalloc(1, sizeof *o);
    o->base.be = &er_llm_offline_backend;
    *out = &o->base;
    return 0;
}

static void offline_close(er_llm *llm)
{
    free(llm);
}

static int offline_chat(er_llm *llm, const er_llm_request *req, er_llm_response *out, er_error *err)
{
    size_t n = 0;
    er_tool *tools = offered_tools(req->tools, &n);
    int rc = er_offline_answer(tools, n, llm->agents, req, out, err);
    free(tools);
    return rc;
}

static int offline_ping(er_llm *llm, er_error *err)
{
    (void)llm;
    (void)err;
    return 0;
}

const er_llm_backend er_llm_offline_backend = {
    .version = ER_LLM_BACKEND_VERSION,
    .name = "offline",
    .open = offline_open,
    .close = offline_close,
    .chat = offline_chat,
    .ping = offline_ping,
};
