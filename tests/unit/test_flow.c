/* test_flow.c — the pieces around the agents, in-process: routing decisions
 * (parse/validate), events (stored + published, idempotent step keys), task
 * submit → supervisor → agent → aggregator with the offline brain, cancellation,
 * and approvals answered over the cache. */
#include "check.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/approval.h"
#include "errand/cache.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/router.h"
#include "errand/tasks.h"
#include "errand/workers.h"
#include "errand/id.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/errand-flow-XXXXXX";

static er_env *make_env(void)
{
    er_error err = { 0 };
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    setenv("XDG_CONFIG_HOME", dir, 1);
    unsetenv("DATABASE_URL");
    unsetenv("RABBITMQ_URL");
    unsetenv("REDIS_URL");
    unsetenv("OPENAI_API_KEY");
    unsetenv("ANTHROPIC_API_KEY");
    unsetenv("ERRAND_LLM");
    CHECK_OK(er_config_load(cfg, NULL, &err));
    free(cfg->database_url);
    cfg->database_url = er_xasprintf("sqlite://%s/flow.db", dir);
    er_env *env;
    CHECK_OK(er_env_new(&env, cfg, &err));
    return env;
}

static void test_route_json(void)
{
    er_error err = { 0 };
    er_route r;
    cJSON *j = cJSON_Parse("{\"steps\":[{\"agent\":\"research\",\"request\":\"a\"},"
                           "{\"agent\":\"email\",\"request\":\"b\",\"depends_on\":0},"
                           "{\"agent\":\"data\",\"request\":\"c\",\"depends_on\":-1}],"
                           "\"confidence\":0.5}");
    CHECK_OK(er_route_from_json(&r, j, &err));
    CHECK_INT(r.nsteps, 3);
    if (r.nsteps != 3)
        return;
    CHECK_INT(r.steps[1].depends_on, 0);
    CHECK_INT(r.steps[2].depends_on, -1);
    CHECK(r.confidence == 0.5);
    cJSON *back = er_route_to_json(&r);
    CHECK_STR(er_json_str(cJSON_GetArrayItem(er_json_arr(back, "steps"), 1), "agent"), "email");
    cJSON_Delete(back);
    er_route_release(&r);
    cJSON_Delete(j);

    j = cJSON_Parse("{\"steps\":[{\"agent\":\"astrology\",\"request\":\"x\"}]}");
    CHECK(er_route_from_json(&r, j, &err) == ER_EPROTO);
    CHECK(strstr(err.msg, "astrology") != NULL);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"steps\":[]}");
    CHECK(er_route_from_json(&r, j, &err) == ER_EPROTO);
    cJSON_Delete(j);
    /* A step waits only for an earlier one: anything else is not a plan. */
    static const struct {
        const char *deps;
        const char *why;
    } bad[] = {
        { "7, -1", "step 1 depends on step 8, which does not exist" },
        { "-1, 1", "step 2 depends on itself" },
        { "1, -1", "step 1 depends on step 2, which comes after it" },
        { "1, 0", "form a cycle (step 1 → step 2 → … → step 1)" },
        { "-1, 2, 1", "form a cycle (step 2 → step 3 → … → step 2)" },
        { "-5, -1", "step 1 has depends_on -5, which names no step" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(bad); i++) {
        long d[3] = { -1, -1, -1 };
        int n = sscanf(bad[i].deps, "%ld, %ld, %ld", &d[0], &d[1], &d[2]);
        cJSON *steps = cJSON_CreateArray();
        for (int k = 0; k < n; k++) {
            cJSON *st = cJSON_CreateObject();
            er_json_add_str(st, "agent", "code");
            er_json_add_str(st, "request", "x");
            er_json_add_num(st, "depends_on", (double)d[k]);
            er_json_append(steps, st);
        }
        j = cJSON_CreateObject();
        er_json_add(j, "steps", steps);
        memset(&err, 0, sizeof err);
        CHECK_INT(er_route_from_json(&r, j, &err), ER_EPROTO);
        if (!strstr(err.msg, bad[i].why))
            fprintf(stderr, "deps %s: %s\n", bad[i].deps, err.msg);
        CHECK(strstr(err.msg, bad[i].why) != NULL);
        cJSON_Delete(j);
    }
    CHECK(er_route_forced(&r, "nosuch", "x", &err) == ER_EINVAL);
    CHECK_OK(er_route_forced(&r, "code", "x", &err));
    CHECK_STR(r.method, "forced");
    er_route_release(&r);
    cJSON *spec = er_router_tool_spec();
    char *text = er_json_print(spec);
    CHECK(strstr(text, "\"browser\"") != NULL);
    free(text);
    cJSON_Delete(spec);
}

typedef struct seen {
    pthread_mutex_t lock;
    int n;
    char last_kind[32];
} seen;

static void on_msg(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    seen *s = payload;
    cJSON *j = NULL;
    if (er_json_parse(&j, msg, len, NULL) == 0) {
        pthread_mutex_lock(&s->lock);
        s->n++;
        snprintf(s->last_kind, sizeof s->last_kind, "%s", er_json_str(j, "kind"));
        pthread_mutex_unlock(&s->lock);
    }
    cJSON_Delete(j);
}

static void test_events(er_env *env)
{
    er_error err = { 0 };
    er_store *st;
    er_cache *cache;
    CHECK_OK(er_env_store(env, &st, &err));
    CHECK_OK(er_env_cache(env, &cache, &err));
    er_task t = { 0 };
    t.request = "event test";
    CHECK_OK(er_store_task_create(st, &t, &err));
    seen s = { PTHREAD_MUTEX_INITIALIZER, 0, "" };
    char channel[64];
    er_event_channel(t.id, channel, sizeof channel);
    er_cache_sub *sub;
    CHECK_OK(er_cache_subscribe(cache, channel, on_msg, &s, &sub, &err));
    CHECK_OK(er_event_emit(env, t.id, t.id, "k1", "llm", NULL, &err));
    CHECK_OK(er_event_emit(env, t.id, t.id, "k1", "llm", NULL, &err)); /* duplicate */
    CHECK_OK(er_event_emit(env, t.id, t.id, NULL, "todos", cJSON_CreateObject(), &err));
    er_event_token(env, t.id, t.id, "code", "hi \"x\"\n", 7);
    er_cache_unsubscribe(sub);
    CHECK_INT(s.n, 3);
    CHECK_STR(s.last_kind, "token");
    int stored = 0;
    er_event ev;
    CHECK_OK(er_store_event_find(st, t.id, "k1", &ev, &err));
    er_event_release(&ev);
    (void)stored; /* t's fields are borrowed literals: nothing to release */
}

/* Answers every approval request on the root channel with `decision`. */
typedef struct approver {
    er_env *env;
    er_approval_decision decision;
    int asked;
    const char *as;    /* NULL: the local user; else a server user */
    bool admin;        /* that user is an admin */
    char approver[16]; /* who the last request asked for */
} approver;

static void on_approval(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    approver *a = payload;
    cJSON *j = NULL;
    if (er_json_parse(&j, msg, len, NULL) == 0 &&
        er_str_eq(er_json_str(j, "kind"), "approval_request")) {
        a->asked++;
        const cJSON *d = er_json_obj(j, "data");
        snprintf(a->approver, sizeof a->approver, "%s", er_json_str(d, "approver"));
        if (a->as)
            er_approval_answer_as(a->env, er_json_str(j, "task_id"), er_json_str(d, "call_id"),
                                  a->decision, a->as, a->admin, NULL);
        else
            er_approval_answer(a->env, er_json_str(j, "task_id"), er_json_str(d, "call_id"),
                               a->decision, NULL);
    }
    cJSON_Delete(j);
}

static void test_approval(er_env *env)
{
    er_error err = { 0 };
    er_store *st;
    er_cache *cache;
    CHECK_OK(er_env_store(env, &st, &err));
    CHECK_OK(er_env_cache(env, &cache, &err));
    er_task t = { 0 };
    t.request = "approval test";
    CHECK_OK(er_store_task_create(st, &t, &err));
    approver a = { env, ER_APPROVAL_ALWAYS, 0, NULL, false, "" };
    char channel[64];
    er_event_channel(t.id, channel, sizeof channel);
    er_cache_sub *sub;
    CHECK_OK(er_cache_subscribe(cache, channel, on_approval, &a, &sub, &err));
    er_approval_req req = { t.id,          t.id,   "call-1", "write_file", "{\"path\":\"x\"}",
                            ER_PERM_WRITE, "code", 5000,     NULL,         false,
                            NULL,          NULL };
    er_approval_decision d = ER_APPROVAL_DENY;
    const char *why = NULL;
    CHECK_OK(er_approval_ask(env, &req, &d, &why, &err));
    CHECK_INT(d, ER_APPROVAL_ALWAYS);
    CHECK(why == NULL);
    CHECK_STR(a.approver, "requester");
    /* A request only an admin may answer: a user's own answer does not count
     * (it times out: a denial), an admin's does. */
    req.admin_only = true;
    req.call_id = "call-admin-1";
    req.timeout_ms = 600;
    a.as = "user-0001";
    a.decision = ER_APPROVAL_ALLOW;
    CHECK_OK(er_approval_ask(env, &req, &d, &why, &err));
    CHECK_INT(d, ER_APPROVAL_DENY);
    CHECK(why != NULL);
    CHECK_STR(a.approver, "admin");
    req.call_id = "call-admin-2";
    a.admin = true;
    CHECK_OK(er_approval_ask(env, &req, &d, &why, &err));
    CHECK_INT(d, ER_APPROVAL_ALLOW);
    CHECK(why == NULL);
    req.admin_only = false;
    er_cache_unsubscribe(sub);
    /* nobody answers: a timeout is a denial with a reason */
    req.call_id = "call-2";
    req.timeout_ms = 150;
    CHECK_OK(er_approval_ask(env, &req, &d, &why, &err));
    CHECK_INT(d, ER_APPROVAL_DENY);
    CHECK(why != NULL);
    CHECK_INT(a.asked, 3);
}

static int wait_end(er_env *env, const char *id, cJSON **end)
{
    static const char *const kinds[] = { "end", NULL };
    er_follow *f;
    er_error err = { 0 };
    if (er_follow_open(&f, env, id, kinds, &err))
        return -1;
    er_store *st;
    er_env_store(env, &st, &err);
    int rc = ER_ETIMEDOUT;
    for (int i = 0; i < 100 && rc; i++) {
        cJSON *ev = NULL;
        if (er_follow_next(f, 100, &ev) == 0) {
            if (er_str_eq(er_json_str(ev, "kind"), "end") &&
                er_str_eq(er_json_str(ev, "task_id"), id)) {
                *end = ev;
                rc = 0;
                continue;
            }
            cJSON_Delete(ev);
        }
    }
    er_follow_close(f);
    return rc;
}

static int add_kind(const er_event *e, void *payload)
{
    char *kinds = payload;
    size_t n = strlen(kinds);
    snprintf(kinds + n, 256 - n, "%s ", e->kind);
    return 0;
}

static void test_offline_flow(er_env *env)
{
    er_error err = { 0 };
    CHECK_OK(er_workers_start(env, "all", 2, &err));
    char id[ER_ID_LEN], conv[ER_ID_LEN];
    er_id_new(id);
    /* f takes every event; g only the kinds it names. */
    static const char *const wanted[] = { "start", "end", NULL };
    er_follow *f, *g;
    CHECK_OK(er_follow_open(&f, env, id, NULL, &err));
    CHECK_OK(er_follow_open(&g, env, id, wanted, &err));
    er_submit s = { .request = "load sales.csv and chart revenue by month", .task_id = id };
    CHECK_OK(er_task_submit(env, &s, NULL, conv, &err));
    cJSON *end = NULL;
    int all = 0;
    for (int i = 0; i < 100 && !end; i++) {
        cJSON *ev = NULL;
        if (er_follow_next(f, 100, &ev) == 0) {
            all++;
            if (er_str_eq(er_json_str(ev, "kind"), "end"))
                end = ev;
            else
                cJSON_Delete(ev);
        }
    }
    er_follow_close(f);
    CHECK(end != NULL);
    char got[256] = "";
    /* Each publish reaches f, then g: g's "end" may still be on its way. */
    bool g_end = false;
    for (int i = 0; i < 50 && !g_end; i++) {
        cJSON *ev = NULL;
        if (er_follow_next(g, 100, &ev) != 0)
            continue;
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s ", er_json_str(ev, "kind"));
        g_end = er_str_eq(er_json_str(ev, "kind"), "end");
        cJSON_Delete(ev);
    }
    er_follow_close(g);
    CHECK_STR(got, "start end "); /* routed, llm, tool_call, tool_result, … left out */
    CHECK(all > 2);
    const cJSON *d = er_json_obj(end, "data");
    CHECK_STR(er_json_str(d, "status"), "done");
    CHECK_STR(er_json_str(d, "agent"), "data");
    CHECK(er_json_str(d, "answer") && strstr(er_json_str(d, "answer"), "ERRAND_LLM"));
    cJSON_Delete(end);
    er_store *st;
    CHECK_OK(er_env_store(env, &st, &err));
    er_task t;
    CHECK_OK(er_store_task_get(st, id, &t, &err));
    CHECK_INT(t.status, ER_TASK_DONE);
    er_task_release(&t);
    /* The seed's flow: the supervisor routed it (an event), the agent ran it, the
     * aggregator left the result under task:{id} in the cache. */
    char kinds[256] = "";
    CHECK_OK(er_store_event_list(st, id, 0, add_kind, kinds, &err));
    CHECK(strstr(kinds, "routed start ") == kinds);
    CHECK(strstr(kinds, " end ") != NULL);
    er_cache *cache;
    CHECK_OK(er_env_cache(env, &cache, &err));
    char key[64], *cached = NULL;
    size_t clen = 0;
    snprintf(key, sizeof key, "task:%s", id);
    CHECK_OK(er_cache_get(cache, key, &cached, &clen, &err));
    cJSON *cj = cached ? cJSON_Parse(cached) : NULL;
    CHECK_STR(er_json_str(cj, "status"), "done");
    CHECK_STR(er_json_str(cj, "agent"), "data");
    cJSON_Delete(cj);
    free(cached);
    /* cancelling an ended task */
    CHECK(er_task_cancel(env, id, &err) == ER_ECONFLICT);
    /* a submitted task with an empty request is refused before anything is stored */
    er_submit bad = { .request = "" };
    CHECK(er_task_submit(env, &bad, NULL, NULL, &err) == ER_EINVAL);
    (void)wait_end;
}

/* The stages come from the agent registry, in the order a task passes them,
 * and consume the bus's queues in the same order. */
static void test_stages(er_env *env)
{
    const er_worker_stage *st = er_worker_stages();
    const char *const *queues = er_bus_queue_names();
    size_t n = 0;
    for (; st[n].name; n++) {
        CHECK_STR(st[n].queue, queues[n]);
        CHECK(st[n].handle != NULL);
    }
    CHECK_INT(n, er_agent_count() + 2);
    CHECK_STR(st[0].name, "supervisor");
    CHECK(st[0].agent == NULL);
    for (size_t i = 0; er_agents[i]; i++) {
        CHECK(st[1 + i].agent == er_agents[i]);
        CHECK_STR(st[1 + i].name, er_agents[i]->name);
    }
    CHECK_STR(st[n - 1].name, "aggregator");
    CHECK_STR(st[n - 1].queue, ER_QUEUE_RESULTS);
    CHECK_STR(queues[n], ER_QUEUE_DEAD); /* the one queue no stage consumes */
    CHECK(strstr(er_worker_stage_names(), "supervisor, code, ") == er_worker_stage_names());
    er_error err = { 0 };
    CHECK_INT(er_workers_start(env, "astrology", 1, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "'astrology'") && strstr(err.msg, er_worker_stage_names()));
}

/* A provider that cannot be reached: routing says so with the provider's code,
 * also to a caller that passes no er_error (it once got ER_EINTERNAL). */
static void test_route_unreachable(void)
{
    er_env *env = make_env();
    er_config *cfg = er_env_config(env);
    er_error err = { 0 };
    CHECK_OK(er_config_set(cfg, "llm.provider", "openai", &err));
    CHECK_OK(er_config_set(cfg, "llm.openai_api_key", "sk-test", &err));
    CHECK_OK(er_config_set(cfg, "llm.openai_base_url", "http://127.0.0.1:1/v1", &err));
    CHECK_OK(er_config_set(cfg, "llm.retries", "0", &err));
    er_route r;
    CHECK_INT(er_router_decide(env, "fix the failing test", NULL, &r, NULL), ER_EUNAVAIL);
    CHECK_INT(er_router_decide(env, "fix the failing test", NULL, &r, &err), ER_EUNAVAIL);
    CHECK(strstr(err.msg, "routing: ") == err.msg);
    er_env_close(env);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_route_json();
    er_env *env = make_env();
    test_events(env);
    test_approval(env);
    test_offline_flow(env);
    test_stages(env);
    er_env_close(env);
    test_route_unreachable();
    char *cmd = er_xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return check_done();
}
