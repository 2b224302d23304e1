/* runtime.c — the deep-agent loop shared by every agent (see runtime.h).
 *
 * A run owns one task.  Scopes nest one level: the agent's own conversation,
 * and a subagent's fresh conversation started by the `task` tool.  Each LLM step
 * and each tool result is an event with a step key; a redelivered task replays
 * those instead of calling the model or the tool again.  Every event is
 * recorded under the attempt's lease (record()): the first one refused ends the
 * run as abandoned. */
#include "errand/runtime.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/approval.h"
#include "errand/audit.h"
#include "errand/budget.h"
#include "errand/compact.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/mcp.h"
#include "errand/park.h"
#include "errand/repair.h"
#include "errand/store_usage.h"
#include "errand/str.h"
#include "errand/tool.h"
#include "errand/workspaces.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char er_runtime_todos_schema[] =
    "{\"type\":\"object\",\"properties\":{\"todos\":{\"type\":\"array\",\"description\":"
    "\"The whole plan, replacing the previous one\",\"items\":{\"type\":\"object\","
    "\"properties\":{\"content\":{\"type\":\"string\"},\"status\":{\"type\":\"string\","
    "\"enum\":[\"pending\",\"in_progress\",\"completed\"]}},\"required\":[\"content\","
    "\"status\"]}}},\"required\":[\"todos\"],\"additionalProperties\":false}";

const char er_runtime_task_schema[] =
    "{\"type\":\"object\",\"properties\":{\"subagent\":{\"type\":\"string\",\"description\":"
    "\"Which subagent to delegate to\"},\"description\":{\"type\":\"string\",\"description\":"
    "\"The complete task for the subagent; it sees nothing else\"}},\"required\":[\"subagent\","
    "\"description\"],\"additionalProperties\":false}";

static const er_tool todos_tool = { "write_todos",
                                    "Write the plan as a todo list; call again to update "
                                    "statuses as you work.",
                                    er_runtime_todos_schema,
                                    ER_PERM_READ,
                                    NULL,
                                    NULL,
                                    true };
static const er_tool task_tool = { "task",
                                   "Delegate a self-contained piece of work to a subagent with a "
                                   "fresh context; returns its final answer.",
                                   er_runtime_task_schema,
                                   ER_PERM_READ,
                                   NULL,
                                   NULL,
                                   true };

typedef struct run {
    er_env *env;
    er_llm *llm;
    er_store *store;
    const er_config *cfg;
    const er_run_opts *o;
    const er_agent_def *agent;
    int steps;
    int64_t tokens_in, tokens_out;
    int64_t cost_micros; /* what the task's requests cost so far: its routing, earlier
                            attempts and steps, and this attempt's (budget.h) */
    int64_t deadline_ms;
    int64_t worked_ms; /* monotonic: when the time last counted in usage ended (account) */
    bool always[ER_PERM_COUNT];
    er_task_place place; /* its workspace, whether it came through errand serve, approvers */
    bool streamed_text;  /* a newline goes between texts of separate steps */
    bool abandoned;      /* the attempt lost the task: record and do nothing more */
    bool parked;         /* the task waits for an approval (park.h): the run ends here */
    cJSON *interrupted;  /* calls a crash interrupted and that were not repeated */
    er_repair rp;        /* the model's mistakes so far (repair.h) */
    bool tainted;        /* outside content is in the conversation (er_tool_untrusted) */
    cJSON *flags;        /* findings tools raised that the final answer must carry */
    er_error err;        /* why the run stopped */
} run;

typedef struct scope {
    const char *name; /* "code" or "code/analyzer" */
    const char *system;
    const char *const *tools; /* the scope's own tool names */
    bool can_delegate;
    bool read_only;
    int depth;
    char prefix[80]; /* step-key prefix: "" or "sub:<call id>:" */
    int step;
    int outer_step; /* a subagent's: the top-level step that delegated to it (checkpoint.h) */
    cJSON *messages;
    int head;      /* messages[0, head): the history and the request, never compacted */
    char *summary; /* the summary of the steps compacted so far (compact.h), or NULL */
    cJSON *specs;
    er_buf partial;           /* an answer cut off by the output limit, so far */
    er_repair_writes *writes; /* files changed by the calls of the answer at hand */
    const er_tool **extra;    /* BORROWED tools of MCP servers (mcp.h), or NULL */
    size_t nextra;
} scope;

/* ---- small helpers ---- */

static bool scope_has_tool(const scope *s, const char *name)
{
    for (size_t i = 0; s->tools && s->tools[i]; i++)
        if (strcmp(s->tools[i], name) == 0)
            return true;
    return false;
}

static cJSON *build_specs(const scope *s)
{
    cJSON *specs = cJSON_CreateArray();
    er_json_append(specs, er_tool_spec(&todos_tool));
    if (s->can_delegate)
        er_json_append(specs, er_tool_spec(&task_tool));
    for (size_t i = 0; s->tools && s->tools[i]; i++) {
        const er_tool *t = er_tool_find(s->tools[i]);
        if (t) /* tools of a family not built in are simply not offered */
            er_json_append(specs, er_tool_spec(t));
    }
    for (size_t i = 0; i < s->nextra; i++)
        er_json_append(specs, er_tool_spec(s->extra[i]));
    return specs;
}

static char *task_tool_description(const er_agent_def *a)
{
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, "Delegate a self-contained piece of work to a subagent with a fresh context; "
                    "returns its final answer. Subagents:");
    for (size_t i = 0; i < a->nsubagents; i++)
        er_buf_printf(&b, " %s (%s)%s", a->subagents[i].name, a->subagents[i].description,
                      i + 1 < a->nsubagents ? ";" : ".");
    return er_buf_detach(&b);
}

static void add_message(cJSON *msgs, const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "role", role);
    er_json_add_str(m, "content", content);
    er_json_append(msgs, m);
}

static int stop(run *r, int code, const char *fmt, const char *arg)
{
    return er_error_set(&r->err, code, fmt, arg);
}

/* The flag is set by the control channel and by the env's store poller, which
 * also catches cancellations from processes that share only the store. */
static bool cancelled(run *r)
{
    return r->o->cancel && *r->o->cancel;
}

/* The attempt no longer owns the task: whatever it does now is not the task's. */
static int abandon(run *r, const char *why)
{
    r->abandoned = true;
    return er_error_set(&r->err, ER_ECONFLICT, "abandoned: %s", why);
}

static int check_lost(run *r)
{
    if (r->o->lost && *r->o->lost)
        return abandon(r, "the worker's connection to the broker dropped, which hands the task "
                          "to another worker");
    return 0;
}

/* Stores and publishes one event of this attempt (TAKES data).  *stored (may be
 * NULL) is false when an earlier attempt had recorded key.  Nonzero, ending the
 * run, when the attempt has lost the task; other failures only cost the record
 * (the step is redone if the task is ever taken over), unless `needed`. */
static int record(run *r, const char *key, const char *kind, cJSON *data, bool *stored, bool needed)
{
    er_error err = { 0 };
    bool kept = true;
    int rc = er_event_emit_leased(r->env, r->o->lease, r->o->root_id, r->o->task_id, key, kind,
                                  data, &kept, &err);
    if (rc == ER_ECONFLICT)
        return abandon(r, err.msg);
    if (rc && needed)
        return er_error_set(&r->err, rc, "cannot record %s: %s", key ? key : kind, err.msg);
    if (rc) {
        er_log(ER_LOG_WARN, "runtime", "cannot record %s: %s", key ? key : kind, err.msg);
        kept = true; /* nobody else recorded it: this attempt's value stands */
    }
    if (stored)
        *stored = kept;
    return 0;
}

/* Before a side effect: does this attempt still own the task? */
static int check_owner(run *r)
{
    int rc = check_lost(r);
    if (rc || !r->o->lease)
        return rc;
    er_error err = { 0 };
    rc = er_store_lease_check(r->store, r->o->lease, &err);
    if (rc == ER_ECONFLICT)
        return abandon(r, err.msg);
    if (rc)
        return er_error_set(&r->err, rc,
                            "cannot tell whether this worker still owns the task "
                            "(%s); not acting for it",
                            err.msg);
    return 0;
}

static int time_budget_exhausted(run *r)
{
    return er_error_set(&r->err, ER_EBUDGET,
                        "time budget exhausted (%ld s); raise agent.max_seconds "
                        "(ERRAND_MAX_SECONDS)",
                        r->cfg->max_seconds);
}

/* The budgets kept in the store (budget.h), before a step is sent. */
static int check_stored_budgets(run *r)
{
    return er_budget_check(r->store, r->cfg, r->llm, r->o->model, r->o->user_id, r->cost_micros,
                           &r->err);
}

/* Records what a request sent to the provider used and cost (budget.h). */
static void account(run *r, const scope *s, const er_llm_response *resp)
{
    int64_t now = er_mono_ms();
    er_usage who = { .task_id = r->o->task_id,
                     .root_id = r->o->root_id,
                     .user_id = r->o->user_id,
                     .agent = s->name,
                     .model = r->o->model,
                     .elapsed_ms = now - r->worked_ms };
    r->worked_ms = now;
    r->cost_micros += er_budget_account(r->store, r->cfg, r->llm, &who, &resp->usage);
}

static int check_budget(run *r)
{
    if (check_lost(r))
        return r->err.code;
    if (cancelled(r))
        return er_error_set(&r->err, ER_ECANCELLED, "cancelled");
    if (r->steps >= r->cfg->max_steps)
        return er_error_set(&r->err, ER_EBUDGET,
                            "step budget exhausted (%d steps); raise agent.max_steps "
                            "(ERRAND_MAX_STEPS)",
                            r->steps);
    if (r->cfg->max_tokens && r->tokens_in + r->tokens_out >= r->cfg->max_tokens)
        return er_error_set(&r->err, ER_EBUDGET,
                            "token budget exhausted (%lld tokens); raise agent.max_tokens "
                            "(ERRAND_MAX_TOKENS)",
                            (long long)(r->tokens_in + r->tokens_out));
    if (er_mono_ms() >= r->deadline_ms)
        return time_budget_exhausted(r);
    return check_stored_budgets(r);
}

/* ---- LLM steps (recorded, replayable) ---- */

typedef struct stream_ctx {
    run *r;
    const scope *s;
    bool any;
    er_buf shown; /* this step's text as the user has seen it */
    size_t again; /* an answer asked again: bytes of it found equal to shown */
    bool restarted;
} stream_ctx;

static void emit_token(stream_ctx *c, const char *text, size_t len)
{
    if (!c->any && c->r->streamed_text && !c->s->partial.len) /* a continuation joins */
        er_event_token(c->r->env, c->r->o->root_id, c->r->o->task_id, c->s->name, "\n\n", 2);
    c->any = true;
    er_buf_append(&c->shown, text, len);
    er_event_token(c->r->env, c->r->o->root_id, c->r->o->task_id, c->s->name, text, len);
}

/* An answer that broke off is asked for again (llm.h on_restart): what the new
 * one repeats of the text already shown is not shown twice.  Should it say
 * something else, a line says the answer starts over, and it is shown whole. */
static void on_token(const char *text, size_t len, void *payload)
{
    stream_ctx *c = payload;
    er_buf fixed = ER_BUF_INIT;
    if (er_utf8_check(text, len) != len) { /* the final answer is fixed the same way */
        er_buf_put_utf8(&fixed, text, len);
        text = fixed.ptr;
        len = fixed.len;
    }
    if (c->restarted) {
        size_t same = 0, left = c->shown.len - c->again;
        while (same < len && same < left && text[same] == c->shown.ptr[c->again + same])
            same++;
        c->again += same;
        if (same == len) { /* all of it shown already */
            er_buf_release(&fixed);
            return;
        }
        c->restarted = false;
        if (same < left) { /* a different answer: say so, then show it from its start */
            static const char notice[] = "\n[the answer broke off; the model's new answer:]\n";
            char *head = er_xstrndup(c->shown.ptr, c->again);
            er_event_token(c->r->env, c->r->o->root_id, c->r->o->task_id, c->s->name, notice,
                           sizeof notice - 1);
            er_buf_reset(&c->shown);
            emit_token(c, head, strlen(head));
            free(head);
        }
        text += same;
        len -= same;
    }
    emit_token(c, text, len);
    er_buf_release(&fixed);
}

static void on_restart(void *payload)
{
    stream_ctx *c = payload;
    c->restarted = true;
    c->again = 0;
}

static cJSON *response_json(const scope *s, const er_llm_response *resp)
{
    cJSON *d = cJSON_CreateObject();
    er_json_add_str(d, "agent", s->name);
    er_json_add_num(d, "step", s->step);
    er_json_add_str(d, "text", resp->text ? resp->text : "");
    cJSON *calls = cJSON_CreateArray();
    for (size_t i = 0; i < resp->ncalls; i++) {
        cJSON *c = cJSON_CreateObject();
        er_json_add_str(c, "id", resp->calls[i].id);
        er_json_add_str(c, "name", resp->calls[i].name);
        er_json_add_str(c, "arguments", resp->calls[i].arguments);
        if (resp->calls[i].bad_utf8)
            er_json_add_bool(c, "bad_utf8", true);
        er_json_append(calls, c);
    }
    er_json_add(d, "tool_calls", calls);
    if (resp->stop_reason)
        er_json_add_str(d, "stop_reason", resp->stop_reason);
    er_json_add(d, "usage", er_llm_usage_json(&resp->usage));
    return d;
}

static void response_from_json(er_llm_response *resp, const cJSON *d)
{
    memset(resp, 0, sizeof *resp);
    resp->text = er_xstrdup(er_json_str(d, "text") ? er_json_str(d, "text") : "");
    const cJSON *calls = er_json_arr(d, "tool_calls");
    resp->ncalls = (size_t)cJSON_GetArraySize(calls);
    resp->calls = er_xcalloc(resp->ncalls ? resp->ncalls : 1, sizeof *resp->calls);
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, calls)
    {
        resp->calls[i].id = er_xstrdup(er_json_str(c, "id") ? er_json_str(c, "id") : "");
        resp->calls[i].name = er_xstrdup(er_json_str(c, "name") ? er_json_str(c, "name") : "");
        resp->calls[i].arguments =
            er_xstrdup(er_json_str(c, "arguments") ? er_json_str(c, "arguments") : "{}");
        resp->calls[i].bad_utf8 = er_json_bool(c, "bad_utf8", false);
        i++;
    }
    if (er_json_str(d, "stop_reason"))
        resp->stop_reason = er_xstrdup(er_json_str(d, "stop_reason"));
    er_llm_usage_from_json(&resp->usage, er_json_obj(d, "usage"));
}

/* The data of the event recorded under key, if any. */
static bool find_recorded(run *r, const char *key, cJSON **data_out)
{
    er_event ev;
    if (er_store_event_find(r->store, r->o->task_id, key, &ev, NULL) != 0)
        return false;
    *data_out = cJSON_Parse(ev.data ? ev.data : "{}");
    er_event_release(&ev);
    return *data_out != NULL;
}

static bool replay(run *r, const char *key, cJSON **data_out)
{
    return r->o->replay && find_recorded(r, key, data_out); /* a first delivery has none */
}

static int llm_step(run *r, scope *s, er_llm_response *resp)
{
    char key[128];
    snprintf(key, sizeof key, "%sllm:%d", s->prefix, s->step);
    cJSON *recorded;
    if (replay(r, key, &recorded)) {
        response_from_json(resp, recorded);
        cJSON_Delete(recorded);
        er_log(ER_LOG_INFO, "runtime", "replayed %s", key);
        er_repair_call_ids(resp);
        return 0;
    }
    stream_ctx sc = { .r = r, .s = s, .shown = ER_BUF_INIT };
    er_llm_request req = {
        .system = s->system,
        .model = r->o->model,
        .messages = s->messages,
        .tools = s->specs,
        .stream = s->depth == 0,
        .on_token = on_token,
        .payload = &sc,
        .cancel = r->o->cancel,
        .deadline_ms = r->deadline_ms, /* a stalled model must not outlive the budget */
        .on_restart = on_restart,
    };
    int rc = er_llm_chat(r->llm, &req, resp, &r->err);
    er_buf_release(&sc.shown);
    /* Cut by the deadline: a timeout, or a connect that ran out of time. */
    if (rc && rc != ER_ECANCELLED && er_mono_ms() >= r->deadline_ms)
        return time_budget_exhausted(r);
    if (rc)
        return rc;
    account(r, s, resp);
    if (sc.any)
        r->streamed_text = true;
    bool stored = true;
    rc = record(r, key, "llm", response_json(s, resp), &stored, false);
    if (rc) {
        er_llm_response_release(resp);
        return rc;
    }
    if (!stored) {
        /* Another attempt recorded this step while this one asked: its answer is
         * the task's, and this one's, never recorded, must not lead anywhere. */
        er_llm_response_release(resp);
        if (!find_recorded(r, key, &recorded))
            return stop(r, ER_ECONFLICT,
                        "%s was recorded by another attempt but cannot be "
                        "read back; stopping rather than going on with an unrecorded answer",
                        key);
        response_from_json(resp, recorded);
        cJSON_Delete(recorded);
        er_log(ER_LOG_INFO, "runtime", "adopted the recorded %s", key);
    }
    er_repair_call_ids(resp); /* after recording: a replay does the same */
    return 0;
}

/* ---- a long task's own steps, compacted (compact.h) ---- */

static void apply_compaction(scope *s, const cJSON *rec)
{
    if (!er_compact_steps_apply(s->messages, s->head, rec)) {
        er_log(ER_LOG_WARN, "runtime", "a recorded compaction does not fit %s's steps: not applied",
               s->name);
        return;
    }
    free(s->summary);
    s->summary = er_xstrdup(er_json_str(rec, "summary"));
}

/* Before step s->step asks the model: its older steps folded into a summary
 * when the request would pass the threshold.  Recorded under the step's key,
 * so a replay (a redelivered or resumed task) folds the same steps into the
 * same summary without asking the model, and a step replayed from its record
 * is not compacted anew (its request was never sent again). */
static int compact_steps(run *r, scope *s)
{
    char key[128], llm_key[128];
    snprintf(key, sizeof key, "%scompact:%d", s->prefix, s->step);
    cJSON *rec = NULL;
    if (replay(r, key, &rec)) {
        apply_compaction(s, rec);
        cJSON_Delete(rec);
        er_log(ER_LOG_INFO, "runtime", "replayed %s", key);
        return 0;
    }
    snprintf(llm_key, sizeof llm_key, "%sllm:%d", s->prefix, s->step);
    if (replay(r, llm_key, &rec)) {
        cJSON_Delete(rec);
        return 0;
    }
    const char *model = r->o->model ? r->o->model : er_llm_model(r->llm);
    rec = er_compact_steps(r->llm, er_compact_limit(r->cfg, model), s->system, s->messages,
                           s->specs, s->head, s->summary);
    if (!rec)
        return 0;
    er_json_add_str(rec, "agent", s->name);
    er_json_add_num(rec, "step", s->step);
    bool stored = true;
    int rc = record(r, key, "compaction", cJSON_Duplicate(rec, true), &stored, false);
    if (!rc && !stored) {
        /* Another attempt compacted this step first: its summary is the task's. */
        cJSON_Delete(rec);
        rec = NULL;
        if (!find_recorded(r, key, &rec))
            rc = stop(r, ER_ECONFLICT, "%s was recorded by another attempt but cannot be read back",
                      key);
    }
    if (!rc)
        apply_compaction(s, rec);
    cJSON_Delete(rec);
    return rc;
}

static void add_assistant(scope *s, const er_llm_response *resp)
{
    if (er_str_empty(resp->text) && !resp->ncalls)
        return; /* an empty turn says nothing, and providers refuse it */
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "role", "assistant");
    er_json_add_str(m, "content", resp->text && *resp->text ? resp->text : NULL);
    if (resp->ncalls) {
        cJSON *calls = cJSON_CreateArray();
        for (size_t i = 0; i < resp->ncalls; i++) {
            cJSON *c = cJSON_CreateObject();
            er_json_add_str(c, "id", resp->calls[i].id);
            er_json_add_str(c, "name", resp->calls[i].name);
            er_json_add_str(c, "arguments", resp->calls[i].arguments);
            er_json_append(calls, c);
        }
        er_json_add(m, "tool_calls", calls);
    }
    er_json_append(s->messages, m);
}

static void add_tool_result(scope *s, const er_llm_tool_call *c, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "role", "tool");
    er_json_add_str(m, "tool_call_id", c->id);
    er_json_add_str(m, "name", c->name);
    er_json_add_str(m, "content", content);
    er_json_append(s->messages, m);
}

/* ---- tools ---- */

static int run_scope(run *r, scope *s, char **answer);

static char *do_todos(run *r, const scope *s, const cJSON *args)
{
    const cJSON *todos = er_json_arr(args, "todos");
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, "Plan updated:");
    const cJSON *t;
    cJSON_ArrayForEach(t, todos)
    {
        const char *st = er_json_str(t, "status");
        er_buf_printf(&b, "\n[%s] %s",
                      er_str_eq(st, "completed")     ? "x"
                      : er_str_eq(st, "in_progress") ? "~"
                                                     : " ",
                      er_json_str(t, "content") ? er_json_str(t, "content") : "");
    }
    cJSON *data = cJSON_CreateObject();
    er_json_add_str(data, "agent", s->name);
    er_json_add(data, "todos", cJSON_Duplicate(todos, true));
    record(r, NULL, "todos", data, NULL, false); /* a lost task shows in r->abandoned */
    return er_buf_detach(&b);
}

static int do_delegate(run *r, const scope *parent, const er_llm_tool_call *c, const cJSON *args,
                       char **out)
{
    const char *name = er_json_str(args, "subagent");
    const er_subagent_def *sa = er_subagent_find(r->agent, name);
    if (!sa) {
        er_buf b = ER_BUF_INIT;
        er_buf_printf(&b, "error: no subagent '%s'; choose one of:", name ? name : "");
        for (size_t i = 0; i < r->agent->nsubagents; i++)
            er_buf_printf(&b, " %s", r->agent->subagents[i].name);
        *out = er_buf_detach(&b);
        return 0;
    }
    char sname[96];
    snprintf(sname, sizeof sname, "%s/%s", r->agent->name, sa->name);
    scope sub = { .name = sname,
                  .system = sa->prompt,
                  .tools = sa->tools,
                  .read_only = sa->read_only,
                  .depth = parent->depth + 1,
                  .outer_step = parent->depth ? parent->outer_step : parent->step };
    snprintf(sub.prefix, sizeof sub.prefix, "sub:%.60s:", c->id);
    sub.messages = cJSON_CreateArray();
    add_message(sub.messages, "user", er_json_str(args, "description"));
    sub.head = 1;
    sub.specs = build_specs(&sub);
    cJSON *data = cJSON_CreateObject();
    er_json_add_str(data, "agent", parent->name);
    er_json_add_str(data, "subagent", sa->name);
    er_json_add_str(data, "description", er_json_str(args, "description"));
    char *answer = NULL;
    int rc = record(r, NULL, "delegate", data, NULL, false);
    if (rc == 0)
        rc = run_scope(r, &sub, &answer);
    cJSON_Delete(sub.messages);
    cJSON_Delete(sub.specs);
    free(sub.summary);
    er_buf_release(&sub.partial);
    if (rc)
        return rc; /* budgets and cancellation end the whole task */
    *out = answer;
    return 0;
}

static er_policy policy_for(run *r, er_perm perm)
{
    er_policy p = r->cfg->policy[perm];
    if (p == ER_POLICY_ASK && (r->o->approve_all || r->always[perm]))
        return ER_POLICY_ALLOW;
    return p;
}

static bool side_effecting(er_perm p)
{
    return p == ER_PERM_WRITE || p == ER_PERM_EXEC || p == ER_PERM_SEND;
}

#define TAINT_REASON                                                         \
    "it follows content from outside (web pages, search results, memory or " \
    "MCP tool results), "                                                    \
    "which may carry instructions that are not the user's"

#define PARKED 2 /* check_policy: the task waits for the answer (park.h) */

/* The decision of the approval event recorded under key, if any. */
static bool recorded_answer(run *r, const char *key, er_approval_decision *d, char **why)
{
    cJSON *rec;
    if (!replay(r, key, &rec))
        return false;
    if (er_approval_parse(er_json_str(rec, "decision"), d))
        *d = ER_APPROVAL_DENY;
    if (why && er_json_str(rec, "why"))
        *why = er_xstrdup(er_json_str(rec, "why"));
    cJSON_Delete(rec);
    return true;
}

/* The person's answer to req: recorded (the task was parked and resumed), or
 * asked now.  A worker's run parks the task and returns PARKED; without a
 * lease, or when the wait cannot be recorded, it waits here.  Nonzero
 * otherwise: *why (OWNED) says why it could not be asked. */
static int get_answer(run *r, const scope *s, const er_approval_req *req, er_approval_decision *d,
                      char **why)
{
    char key[160];
    er_park_key(key, sizeof key, s->prefix, s->step, req->call_id);
    if (recorded_answer(r, key, d, why))
        return 0;
    er_error err = { 0 };
    if (r->o->park && r->o->lease) {
        int rc = er_park(r->env, r->o->lease, req, key, &err);
        if (rc == ER_ECONFLICT) {
            abandon(r, err.msg);
            return PARKED; /* ends the run all the same */
        }
        if (rc == 0) {
            r->parked = true;
            er_error_set(&r->err, ER_ECONFLICT, "waiting for the approval of %s call %s", req->tool,
                         req->call_id);
            return PARKED;
        }
        er_log(ER_LOG_WARN, "runtime",
               "cannot park task %s (%s); waiting for the answer in "
               "this worker",
               r->o->task_id, err.msg);
    }
    const char *said = NULL;
    if (er_approval_ask(r->env, req, d, &said, &err)) {
        *why = er_xstrdup(err.msg);
        return err.code ? err.code : ER_EINTERNAL;
    }
    if (said)
        *why = er_xstrdup(said);
    return 0;
}

static er_tool_ctx tool_ctx(run *r, const scope *s)
{
    return (er_tool_ctx){ .env = r->env,
                          .task_id = r->o->task_id,
                          .agent = s->name,
                          .workspace = r->place.workspace,
                          .workspace_read_only = s->read_only,
                          .network_granted = policy_for(r, ER_PERM_EXEC_NETWORK) == ER_POLICY_ALLOW,
                          .server = r->place.server,
                          .cancel = r->o->cancel,
                          .tainted = r->tainted,
                          .step = s->depth ? s->outer_step : s->step };
}

/* 0 when the call may go ahead; PARKED when the task waits for the answer
 * (the run ends); otherwise *refusal says why (for the model).  Once outside
 * content is in the run, a side-effecting call is asked for one by one:
 * neither an allow policy, nor --yes, nor an earlier "always" covers it, so
 * text on a page can never grant a permission. */
static int check_policy(run *r, const scope *s, const er_tool *t, const er_llm_tool_call *c,
                        const cJSON *args, char **refusal, const char **how)
{
    er_policy p = policy_for(r, t->perm);
    bool tainted = r->tainted && side_effecting(t->perm) && p != ER_POLICY_DENY;
    if (p == ER_POLICY_ALLOW && !tainted) {
        *how = r->cfg->policy[t->perm] == ER_POLICY_ALLOW ? "policy"
               : r->always[t->perm]                       ? "always"
                                                          : "yes";
        return 0;
    }
    if (p == ER_POLICY_DENY) {
        *how = "policy-deny";
        *refusal = er_xasprintf("error: denied by policy (%s tools are denied: policy.%s = deny)",
                                er_perm_name(t->perm), er_perm_name(t->perm));
        return 1;
    }
    er_approval_req req = { r->o->root_id,
                            r->o->task_id,
                            c->id,
                            t->name,
                            c->arguments,
                            t->perm,
                            s->name,
                            r->cfg->approval_timeout * 1000,
                            r->o->cancel,
                            r->place.admin_approves[t->perm],
                            tainted ? TAINT_REASON : NULL,
                            NULL };
    /* The one asked sees what saying yes does: the diff, the command and its jail. */
    er_tool_ctx ctx = tool_ctx(r, s);
    char *preview = er_tool_preview(&ctx, t, args);
    req.preview = preview;
    er_approval_decision d = ER_APPROVAL_DENY;
    char *why = NULL;
    int rc = get_answer(r, s, &req, &d, &why);
    free(preview);
    if (rc == PARKED)
        return rc;
    if (rc) {
        *refusal = er_xasprintf("error: approval could not be asked: %s", why);
        free(why);
        return 1;
    }
    if (d == ER_APPROVAL_ALWAYS && !tainted)
        r->always[t->perm] = true;
    *how = d == ER_APPROVAL_DENY ? "denied" : d == ER_APPROVAL_ALWAYS ? "user-always" : "user";
    if (d == ER_APPROVAL_DENY)
        *refusal = er_xasprintf("error: the user denied this %s call%s%s", t->name, why ? ": " : "",
                                why ? why : "");
    free(why);
    return d == ER_APPROVAL_DENY;
}

static char *run_tool(run *r, const scope *s, const er_tool *t, const cJSON *args)
{
    er_tool_ctx ctx = tool_ctx(r, s);
    ctx.tool = t;
    er_buf out;
    er_buf_init(&out, ER_TOOL_OUTPUT_MAX + 4096);
    er_error err = { 0 };
    int rc = t->run(&ctx, args, &out, &err);
    if (rc) {
        er_buf_release(&out);
        return er_xasprintf("error: %s", err.msg[0] ? err.msg : er_error_name(rc));
    }
    return er_buf_detach(&out);
}

static const char *const builtins_delegating[] = { "write_todos", "task", NULL };
static const char *const builtins_plain[] = { "write_todos", NULL };

/* The tool c names, when this scope may call it. */
static const er_tool *scope_tool(const scope *s, const char *name)
{
    if (strcmp(name, "write_todos") == 0)
        return &todos_tool;
    if (strcmp(name, "task") == 0 && s->can_delegate)
        return &task_tool;
    for (size_t i = 0; i < s->nextra; i++)
        if (strcmp(s->extra[i]->name, name) == 0)
            return s->extra[i];
    return scope_has_tool(s, name) ? er_tool_find(name) : NULL;
}

/* A call the model got wrong, the run's to repair (repair.h): not run, *content
 * says why.  Returns the mistake's text (inside *content) or NULL. */
static const char *malformed_call(const scope *s, const er_llm_response *resp,
                                  const er_llm_tool_call *c, const er_tool **t, cJSON **args,
                                  char **content)
{
    er_error err = { 0 };
    if ((*content = er_repair_cut_call(resp, c)) || (*content = er_repair_bad_utf8(c)))
        return *content + 7;
    if (!(*t = scope_tool(s, c->name))) {
        *content = er_repair_unknown_tool(c->name, s->name, s->tools,
                                          s->can_delegate ? builtins_delegating : builtins_plain,
                                          s->read_only);
        return *content + 7;
    }
    if (er_json_parse(args, c->arguments, strlen(c->arguments), &err)) {
        *content =
            er_xasprintf("error: arguments are not valid JSON (%s); send a JSON object", err.msg);
        return *content + 7;
    }
    if (er_tool_validate(*t, *args, &err)) {
        *content = er_xasprintf("error: %s", err.msg);
        return *content + 7;
    }
    return NULL;
}

static cJSON *call_json(const scope *s, const er_llm_tool_call *c)
{
    cJSON *d = cJSON_CreateObject();
    er_json_add_str(d, "agent", s->name);
    er_json_add_str(d, "id", c->id);
    er_json_add_str(d, "tool", c->name);
    er_json_add_str(d, "arguments", c->arguments);
    return d;
}

/* A call begun by an earlier attempt, without a result: it is not run again. */
static char *not_repeated(run *r, const scope *s, const er_llm_tool_call *c)
{
    if (!r->interrupted)
        r->interrupted = cJSON_CreateArray();
    cJSON *d = call_json(s, c);
    cJSON_DeleteItemFromObjectCaseSensitive(d, "id");
    er_json_append(r->interrupted, d);
    er_log(ER_LOG_WARN, "runtime", "%s call %s was interrupted by a restart; not repeated", c->name,
           c->id);
    return er_xasprintf("error: this %s call was interrupted by a restart and was not repeated; "
                        "check its effect before retrying",
                        c->name);
}

/* The mark that a call begins, recorded before it runs so that a crash during
 * it is known.  *content set when an earlier attempt began it and it must not
 * run again. */
static int begin_call(run *r, const scope *s, const er_llm_tool_call *c, const char *started,
                      char **content)
{
    const er_tool *t = scope_tool(s, c->name);
    bool again = !t || er_tool_idempotent(t); /* write_todos and task replay themselves */
    bool first = true;
    int rc = record(r, started, "tool_call", call_json(s, c), &first, !again);
    if (rc)
        return rc;
    if (!first && !again)
        *content = not_repeated(r, s, c);
    else if (!first && t)
        er_log(ER_LOG_INFO, "runtime",
               "%s call %s was interrupted by a restart; running it "
               "again (idempotent)",
               c->name, c->id);
    return 0;
}

/* Whether check_policy asks a person about a call of t. */
static bool asks(run *r, const er_tool *t)
{
    er_policy p = policy_for(r, t->perm);
    return p == ER_POLICY_ASK || (p == ER_POLICY_ALLOW && r->tainted && side_effecting(t->perm));
}

/* Runs a call the policy allows; started: its mark, when it is still to be
 * recorded (the call was asked about first). */
static int run_allowed(run *r, scope *s, const er_tool *t, const er_llm_tool_call *c,
                       const cJSON *args, const char *started, char **content)
{
    int rc = started ? begin_call(r, s, c, started, content) : 0;
    if (rc || *content)
        return rc;
    if (t->perm != ER_PERM_READ && (rc = check_owner(r)) != 0)
        return rc;
    *content = run_tool(r, s, t, args);
    if (!er_llm_tool_failed(*content))
        er_repair_wrote(s->writes, r->place.workspace, t, args, c->id);
    return 0;
}

/* Side-effecting calls and every MCP call go to the audit log (audit.h),
 * allowed or refused, with how they were approved. */
static void audit_call(run *r, const scope *s, const er_tool *t, const er_llm_tool_call *c,
                       const char *how, const char *content)
{
    if (!side_effecting(t->perm) && !er_mcp_is_tool_name(t->name))
        return;
    bool refused = !how || er_str_eq(how, "denied") || er_str_eq(how, "policy-deny");
    er_audit_entry e = { r->o->task_id,
                         r->o->user_id,
                         s->name,
                         t->name,
                         er_perm_name(t->perm),
                         c->arguments,
                         how ? how : "not asked",
                         refused                       ? "refused"
                         : !content                    ? "not run"
                         : er_llm_tool_failed(content) ? "error"
                                                       : "ok" };
    er_error err = { 0 };
    char *path = er_audit_path(r->cfg->audit_path, &err);
    if (!path || er_audit_append(path, &e, &err))
        er_log(ER_LOG_ERROR, "audit", "%s call of task %s not audited: %s", t->name, r->o->task_id,
               err.msg);
    free(path);
}

/* Executes one call; *content is what the model sees, *mistake set when the
 * call was malformed.  Nonzero ends the run (a parked task's too). */
static int tool_call(run *r, scope *s, const er_llm_response *resp, const er_llm_tool_call *c,
                     const char *started, char **content, char *mistake, size_t mlen)
{
    const er_tool *t = NULL;
    cJSON *args = NULL;
    const char *bad = malformed_call(s, resp, c, &t, &args, content);
    int rc = 0, allowed;
    if (bad)
        snprintf(mistake, mlen, "%s", bad);
    else if (t == &todos_tool)
        *content = do_todos(r, s, args);
    else if (t == &task_tool)
        rc = do_delegate(r, s, c, args, content);
    else if ((*content = er_repair_write_conflict(s->writes, r->place.workspace, t, args)))
        ; /* another call of this answer changed that file */
    else {
        const char *how = NULL;
        if ((allowed = check_policy(r, s, t, c, args, content, &how)) == PARKED)
            rc = r->err.code; /* audited once answered, when the call is resumed */
        else {
            if (allowed == 0)
                rc = run_allowed(r, s, t, c, args, started, content);
            audit_call(r, s, t, c, how, *content);
        }
    }
    cJSON_Delete(args);
    if (rc == 0 && r->abandoned)
        rc = r->err.code;
    return rc;
}

/* Runs one call unless a result is recorded; *content is what the model sees. */
static int one_call(run *r, scope *s, const er_llm_response *resp, const er_llm_tool_call *c,
                    const char *started, char **content, char *mistake, size_t mlen)
{
    const er_tool *t = scope_tool(s, c->name);
    /* A call asked about begins once allowed: one parked on its answer has not. */
    bool ask_first = t && asks(r, t);
    int rc = ask_first ? 0 : begin_call(r, s, c, started, content);
    if (rc || *content)
        return rc;
    rc = tool_call(r, s, resp, c, ask_first ? started : NULL, content, mistake, mlen);
    if (rc == 0 && cancelled(r)) {
        /* Cut short, or done just as the cancel came: recording "cancelled" as
         * its result would replay that on redelivery (a worker's shutdown). */
        free(*content);
        *content = NULL;
        rc = er_error_set(&r->err, ER_ECANCELLED, "cancelled");
    }
    return rc;
}

/* Records a call's result under the lease (*content may become the result
 * another attempt recorded first: that one is the task's). */
static int record_result(run *r, scope *s, const er_llm_tool_call *c, const char *key,
                         char **content, bool mistake)
{
    cJSON *d = call_json(s, c);
    cJSON_DeleteItemFromObjectCaseSensitive(d, "arguments");
    er_json_add_str(d, "content", *content);
    er_json_add_bool(d, "is_error", er_llm_tool_failed(*content));
    if (mistake)
        er_json_add_bool(d, "mistake", true);
    bool stored = true;
    cJSON *recorded;
    int rc = record(r, key, "tool_result", d, &stored, false);
    if (rc == 0 && !stored && find_recorded(r, key, &recorded)) {
        /* An idempotent call two attempts ran: the recorded result is the one. */
        const char *was = er_json_str(recorded, "content");
        free(*content);
        *content = er_xstrdup(was ? was : "");
        cJSON_Delete(recorded);
    }
    return rc;
}

/* The result of one call: refused as a repeat, refused after an interruption,
 * or run.  *content OWNED by the caller; mistake filled when the call was
 * malformed. */
static int call_result(run *r, scope *s, const er_llm_response *resp, const er_llm_tool_call *c,
                       char **content, char *mistake, size_t mlen)
{
    char started[160];
    snprintf(started, sizeof started, "%scall:%d:%.60s", s->prefix, s->step, c->id);
    char why[300];
    if (er_repair_check_repeat(&r->rp, c, why, sizeof why))
        return er_error_set(&r->err, ER_EPROTO, "%s", why);
    int rc = one_call(r, s, resp, c, started, content, mistake, mlen);
    if (rc) {
        free(*content);
        *content = NULL;
    }
    return rc;
}

/* A tool result may carry a "flag": a finding the final answer must not drop
 * (cite_check's "not found in source [2]: …").  Kept in order, once each. */
static void note_flag(run *r, const char *content)
{
    if (!content || !strstr(content, "\"flag\""))
        return;
    cJSON *j = cJSON_Parse(content);
    const char *flag = er_json_str(j, "flag");
    bool known = false;
    const cJSON *f;
    cJSON_ArrayForEach(f, r->flags)
    {
        known |= er_str_eq(f->valuestring, flag);
    }
    if (flag && !known)
        er_json_append(r->flags, cJSON_CreateString(flag));
    cJSON_Delete(j);
}

/* The final answer with every flag it does not mention yet (its words before
 * the first ':' — "not found in source [2]" — are what must appear), streamed
 * like the rest of the answer.  TAKES answer. */
static char *with_flags(run *r, char *answer)
{
    er_buf missing = ER_BUF_INIT;
    const cJSON *f;
    cJSON_ArrayForEach(f, r->flags)
    {
        const char *flag = f->valuestring;
        size_t head = strcspn(flag, ":");
        char *lead = er_xstrndup(flag, head);
        if (!strcasestr(answer, lead))
            er_buf_printf(&missing, "\n- %s", flag);
        free(lead);
    }
    if (!missing.len)
        return answer;
    char *tail =
        er_xasprintf("\n\nChecked by errand, not supported by the cited sources:%s", missing.ptr);
    er_event_token(r->env, r->o->root_id, r->o->task_id, r->agent->name, tail, strlen(tail));
    char *out = er_xasprintf("%s%s", answer, tail);
    free(tail);
    free(answer);
    er_buf_release(&missing);
    return out;
}

/* A replayed call answered "always" allows its class again, as it did when it
 * ran (a parked task's next attempt replays it). */
static void replay_always(run *r, const scope *s, const er_tool *t, const er_llm_tool_call *c)
{
    char key[160];
    er_approval_decision d;
    if (!side_effecting(t->perm) || r->tainted || r->always[t->perm] ||
        r->cfg->policy[t->perm] != ER_POLICY_ASK)
        return;
    er_park_key(key, sizeof key, s->prefix, s->step, c->id);
    if (recorded_answer(r, key, &d, NULL) && d == ER_APPROVAL_ALWAYS)
        r->always[t->perm] = true;
}

static int handle_calls(run *r, scope *s, const er_llm_response *resp)
{
    char step_mistake[240] = "";
    er_repair_writes writes = { .n = 0 };
    s->writes = &writes;
    int rc = 0;
    for (size_t i = 0; !rc && i < resp->ncalls; i++) {
        const er_llm_tool_call *c = &resp->calls[i];
        char key[160], mistake[240] = "";
        snprintf(key, sizeof key, "%stool:%d:%.60s", s->prefix, s->step, c->id);
        cJSON *recorded;
        const er_tool *t = scope_tool(s, c->name);
        char *content = NULL;
        bool replayed = replay(r, key, &recorded);
        if (replayed && t)
            replay_always(r, s, t, c);
        if (replayed) {
            const char *was = er_json_str(recorded, "content");
            content = er_xstrdup(was ? was : "");
            if (er_json_bool(recorded, "mistake", false)) /* as it was, without "error: " */
                snprintf(mistake, sizeof mistake, "%s", content + (was && *was == 'e' ? 7 : 0));
            cJSON_Delete(recorded);
        } else if ((rc = call_result(r, s, resp, c, &content, mistake, sizeof mistake)) != 0) {
            break;
        }
        /* A replayed result already carries the warning it was given.  A
         * malformed call counts as a mistake, not as a failing call. */
        char *noted = er_xstrdup(content);
        if (!mistake[0])
            er_repair_note_result(&r->rp, c, &noted);
        if (!replayed) {
            free(content);
            content = noted;
            rc = record_result(r, s, c, key, &content, mistake[0] != '\0');
        } else {
            free(noted);
        }
        if (mistake[0] && !step_mistake[0])
            snprintf(step_mistake, sizeof step_mistake, "%s", mistake);
        /* From here on (replayed too) outside text is in the context: the
         * call itself was not tainted by it (an MCP tool may have a
         * side-effecting class), the calls after it are. */
        if (t && er_tool_untrusted(t))
            r->tainted = true;
        if (rc == 0)
            add_tool_result(s, c, content);
        if (rc == 0)
            note_flag(r, content);
        free(content);
    }
    er_repair_writes_release(&writes);
    s->writes = NULL;
    char why[400];
    if (!rc && er_repair_end_step(&r->rp, step_mistake[0] ? step_mistake : NULL, why, sizeof why))
        rc = er_error_set(&r->err, ER_EPROTO, "%s", why);
    return rc;
}

/* An answer without calls: the final one, or one to repair (empty, cut off by
 * the output limit).  1: asked again (go on); 0: *answer set; <0: the run ends. */
static int final_answer(run *r, scope *s, const er_llm_response *resp, char **answer)
{
    const char *mistake = NULL;
    const char *ask = er_repair_final_answer(resp, &mistake);
    if (!ask) {
        er_buf_puts(&s->partial, resp->text ? resp->text : "");
        *answer = er_buf_detach(&s->partial);
        return 0;
    }
    if (er_str_eq(resp->stop_reason, "length"))
        er_buf_puts(&s->partial, resp->text ? resp->text : "");
    char why[400];
    if (er_repair_end_step(&r->rp, mistake, why, sizeof why))
        return er_error_set(&r->err, ER_EPROTO, "%s", why);
    add_message(s->messages, "user", ask);
    return 1;
}

static int run_scope(run *r, scope *s, char **answer)
{
    for (;;) {
        int rc = check_budget(r);
        if (rc)
            return rc;
        r->steps++;
        s->step++;
        er_llm_response resp;
        rc = compact_steps(r, s);
        if (rc == 0)
            rc = llm_step(r, s, &resp);
        if (rc)
            return rc;
        r->tokens_in += resp.usage.input_tokens;
        r->tokens_out += resp.usage.output_tokens;
        add_assistant(s, &resp);
        bool calls = resp.ncalls > 0;
        rc = calls ? handle_calls(r, s, &resp) : final_answer(r, s, &resp, answer);
        er_llm_response_release(&resp);
        if (rc < 0 || (rc == 0 && !calls))
            return rc;
    }
}

/* The answer says which calls were not repeated: done is then not "all happened". */
static char *with_interrupted(char *answer, const cJSON *calls)
{
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, answer);
    int n = cJSON_GetArraySize(calls);
    er_buf_printf(&b,
                  "\n\n[errand: %d tool call%s interrupted by a worker restart (begun, no "
                  "result recorded) and not repeated; check %s effect:",
                  n, n == 1 ? " was" : "s were", n == 1 ? "its" : "their");
    const cJSON *c;
    cJSON_ArrayForEach(c, calls) er_buf_printf(&b, " %s %s%s", er_json_str(c, "tool"),
                                               er_json_str(c, "arguments"), c->next ? ";" : "]");
    free(answer);
    return er_buf_detach(&b);
}

static void finish(run *r, er_run_result *out, int rc, char *answer)
{
    out->tokens_in = r->tokens_in;
    out->tokens_out = r->tokens_out;
    out->steps = r->steps;
    out->error_code = rc;
    out->abandoned = r->abandoned;
    out->interrupted = r->interrupted;
    r->interrupted = NULL;
    if (r->parked && !r->abandoned) {
        free(answer);
        out->parked = true;
        out->status = ER_TASK_RUNNING;
        out->error = er_xstrdup(r->err.msg);
        return;
    }
    if (rc == 0) {
        out->status = ER_TASK_DONE;
        out->answer = out->interrupted ? with_interrupted(answer, out->interrupted) : answer;
        return;
    }
    free(answer);
    out->status = rc == ER_ECANCELLED ? ER_TASK_CANCELLED : ER_TASK_FAILED;
    out->error = er_xstrdup(r->err.msg[0] ? r->err.msg : er_error_name(rc));
}

/* What the task cost before this attempt (its routing request among it),
 * counted against agent.max_cost. */
static int spent_before(run *r)
{
    if (er_str_empty(r->cfg->max_cost))
        return 0;
    er_error e = { 0 };
    const char *root = er_str_empty(r->o->root_id) ? r->o->task_id : r->o->root_id;
    if (er_store_usage_task_cost(r->store, root, &r->cost_micros, &e))
        return er_error_set(&r->err, e.code, "cannot read what the task cost so far: %s", e.msg);
    return 0;
}

/* The tools of the MCP servers the agent may use (none configured: nothing
 * is loaded).  A server that cannot be reached costs its tools, not the run. */
static void mcp_tools(run *r, scope *s)
{
    if (!r->cfg->mcp || !r->cfg->mcp->n)
        return;
    er_mcp *m = NULL;
    er_error err = { 0 };
    char *warning = NULL;
    if (er_env_mcp(r->env, &m, &err)) {
        er_log(ER_LOG_WARN, "runtime", "MCP servers not used: %s", err.msg);
        return;
    }
    er_mcp_agent_tools(m, r->agent->name, &s->extra, &s->nextra, &warning);
    if (warning)
        er_log(ER_LOG_WARN, "runtime", "MCP: %s", warning);
    free(warning);
}

void er_runtime_run(er_env *env, const er_run_opts *o, er_run_result *out)
{
    memset(out, 0, sizeof *out);
    run r = { .env = env,
              .o = o,
              .cfg = er_env_config(env),
              .tainted = o->tainted,
              .flags = cJSON_CreateArray() };
    er_repair_init(&r.rp);
    r.deadline_ms = er_mono_ms() + r.cfg->max_seconds * 1000;
    r.worked_ms = er_mono_ms();
    if (o->lease && o->lease->deadline_ms) {
        /* Taken over after a crash: what is left of the task's budget, not a new one. */
        int64_t left = o->lease->deadline_ms - r.cfg->deadline_margin * 1000 - er_time_ms();
        if (er_mono_ms() + left < r.deadline_ms)
            r.deadline_ms = er_mono_ms() + left;
    }
    r.agent = er_agent_find(o->agent);
    char *answer = NULL;
    int rc;
    if (!r.agent)
        rc = stop(&r, ER_ENOTFOUND, "no agent named '%s'", o->agent ? o->agent : "");
    else if ((rc = er_env_store(env, &r.store, &r.err)) == 0 &&
             (rc = er_task_place_init(&r.place, env, o->user_id, o->server, &r.err)) == 0)
        rc = er_env_llm(env, &r.llm, &r.err);
    if (rc == 0)
        rc = spent_before(&r);
    if (rc == 0) {
        char *task_desc = task_tool_description(r.agent);
        scope s = { .name = r.agent->name,
                    .system = r.agent->prompt,
                    .tools = r.agent->tools,
                    .can_delegate = r.agent->nsubagents > 0 };
        mcp_tools(&r, &s);
        s.messages = o->history ? cJSON_Duplicate(o->history, true) : cJSON_CreateArray();
        add_message(s.messages, "user", o->request);
        s.head = cJSON_GetArraySize(s.messages);
        s.specs = build_specs(&s);
        /* The task tool's description lists this agent's subagents. */
        cJSON *spec;
        cJSON_ArrayForEach(spec, s.specs)
        {
            if (er_str_eq(er_json_str(spec, "name"), "task"))
                cJSON_ReplaceItemInObjectCaseSensitive(spec, "description",
                                                       cJSON_CreateString(task_desc));
        }
        free(task_desc);
        rc = run_scope(&r, &s, &answer);
        if (rc == 0)
            answer = with_flags(&r, answer);
        cJSON_Delete(s.messages);
        cJSON_Delete(s.specs);
        free(s.summary);
        er_buf_release(&s.partial);
        free(s.extra);
    }
    finish(&r, out, rc, answer);
    er_task_place_release(&r.place);
    cJSON_Delete(r.flags);
}

void er_run_result_release(er_run_result *res)
{
    free(res->answer);
    free(res->error);
    cJSON_Delete(res->interrupted);
    res->answer = res->error = NULL;
    res->interrupted = NULL;
}
