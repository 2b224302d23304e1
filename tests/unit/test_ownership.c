/* test_ownership.c — who may act for a task, in-process (SQLite, in-process bus,
 * the offline brain): a run under a lost lease or a lost delivery records and
 * does nothing; a step another attempt recorded is adopted; an interrupted call
 * is run again only if its tool is idempotent, and reported otherwise; the
 * watchdog ends overdue tasks and tasks whose message was dead-lettered; a
 * stale attempt's result is dropped. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/runtime.h"
#include "errand/str.h"
#include "errand/tasks.h"
#include "errand/watchdog.h"
#include "errand/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/errand-ownership-XXXXXX";
static er_store *st;

static er_env *make_env(void)
{
    er_error err = { 0 };
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    setenv("XDG_CONFIG_HOME", dir, 1);
    const char *unset[] = { "DATABASE_URL",       "RABBITMQ_URL",          "REDIS_URL",
                            "OPENAI_API_KEY",     "ANTHROPIC_API_KEY",     "ERRAND_LLM",
                            "ERRAND_MAX_SECONDS", "ERRAND_DEADLINE_MARGIN" };
    for (size_t i = 0; i < ER_ARRAY_LEN(unset); i++)
        unsetenv(unset[i]);
    CHECK_OK(er_config_load(cfg, NULL, &err));
    free(cfg->database_url);
    cfg->database_url = er_xasprintf("sqlite://%s/own.db", dir);
    free(cfg->workspace);
    cfg->workspace = er_xasprintf("%s/ws", dir);
    mkdir(cfg->workspace, 0755);
    cfg->policy[ER_PERM_WRITE] = ER_POLICY_ALLOW;
    cfg->policy[ER_PERM_EXEC] = ER_POLICY_ALLOW;
    er_env *env;
    CHECK_OK(er_env_new(&env, cfg, &err));
    CHECK_OK(er_env_store(env, &st, &err));
    return env;
}

static void new_task(er_task *t, const char *parent)
{
    er_error err = { 0 };
    memset(t, 0, sizeof *t);
    t->request = (char *)"ownership";
    t->agent = (char *)"code";
    er_strlcpy(t->parent_id, parent ? parent : "", sizeof t->parent_id);
    CHECK_OK(er_store_task_create(st, t, &err));
    t->request = t->agent = NULL; /* literals: nothing to release */
}

static void take(const er_task *t, er_lease *l)
{
    er_error err = { 0 };
    CHECK_OK(er_store_task_take(st, t->id, "test", 600000, l, &err));
}

/* Records what an earlier attempt "did" (no lease: the test is that attempt). */
static void recorded(const er_task *t, const char *key, const char *kind, const char *json)
{
    er_error err = { 0 };
    int64_t id = 0;
    CHECK_OK(er_store_event_add(st, t->id, key, kind, json, &id, &err));
    CHECK(id > 0);
}

static void run(er_env *env, const er_task *t, const er_lease *l, const volatile int *lost,
                const char *request, bool replay, er_run_result *res)
{
    er_run_opts o = { .task_id = t->id,
                      .root_id = t->id,
                      .agent = "code",
                      .request = request,
                      .replay = replay,
                      .lease = l,
                      .lost = lost };
    er_runtime_run(env, &o, res);
}

static bool has_event(const er_task *t, const char *key, char **data)
{
    er_event e;
    if (er_store_event_find(st, t->id, key, &e, NULL))
        return false;
    if (data)
        *data = er_xstrdup(e.data);
    er_event_release(&e);
    return true;
}

/* The race: a step recorded while this attempt asked the model is the
 * task's; the attempt's own, unrecorded answer leads nowhere. */
static void test_adopts_recorded_step(er_env *env)
{
    er_task t;
    er_lease l;
    new_task(&t, NULL);
    take(&t, &l);
    recorded(&t, "llm:1", "llm", "{\"text\":\"the recorded answer\",\"tool_calls\":[]}");
    er_run_result res;
    run(env, &t, &l, NULL, "hello", false, &res);
    CHECK_INT(res.status, ER_TASK_DONE);
    CHECK(!res.abandoned);
    CHECK_STR(res.answer, "the recorded answer");
    er_run_result_release(&res);
}

/* Another attempt took the task: this one records nothing and calls no tool. */
static void test_stale_lease(er_env *env)
{
    er_task t;
    er_lease a, b;
    new_task(&t, NULL);
    take(&t, &a);
    take(&t, &b);
    er_run_result res;
    run(env, &t, &a, NULL, "write stale.txt x", false, &res);
    CHECK(res.abandoned);
    CHECK_INT(res.status, ER_TASK_FAILED);
    CHECK(res.error && strstr(res.error, "abandoned: attempt 2 (test) took task") != NULL);
    CHECK(!has_event(&t, "llm:1", NULL));
    char *path = er_xasprintf("%s/ws/stale.txt", dir);
    CHECK(access(path, F_OK) != 0);
    free(path);
    er_run_result_release(&res);

    /* The task ended (the watchdog failed it): no lease holds either. */
    er_error err = { 0 };
    CHECK_OK(er_store_task_advance(st, t.id, ER_TASK_FAILED, NULL, &err));
    run(env, &t, &b, NULL, "hello", false, &res);
    CHECK(res.abandoned);
    CHECK(res.error && strstr(res.error, "has ended (failed)") != NULL);
    er_run_result_release(&res);
}

/* The bus took the delivery back: stop before anything. */
static void test_lost_delivery(er_env *env)
{
    er_task t;
    er_lease l;
    new_task(&t, NULL);
    take(&t, &l);
    volatile int lost = 1;
    er_run_result res;
    run(env, &t, &l, &lost, "hello", false, &res);
    CHECK(res.abandoned);
    CHECK(res.error && strstr(res.error, "connection to the broker dropped") != NULL);
    CHECK(!has_event(&t, "llm:1", NULL));
    er_run_result_release(&res);
}

/* Attempt 1 asked for one call (id, tool, arguments as JSON text), began it
 * and died; the model's next answer is `then`.  l is attempt 2's lease. */
static void crashed_in_call(er_task *t, er_lease *l, const char *id, const char *tool,
                            const char *arguments, const char *then)
{
    new_task(t, NULL);
    take(t, l);
    take(t, l);
    cJSON *step = cJSON_CreateObject(), *calls = cJSON_CreateArray(), *c = cJSON_CreateObject();
    er_json_add_str(c, "id", id);
    er_json_add_str(c, "name", tool);
    er_json_add_str(c, "arguments", arguments);
    er_json_append(calls, c);
    er_json_add_str(step, "text", "");
    er_json_add(step, "tool_calls", calls);
    char *text = er_json_print(step);
    recorded(t, "llm:1", "llm", text);
    free(text);
    cJSON_Delete(step);
    char key[64];
    snprintf(key, sizeof key, "call:1:%s", id);
    recorded(t, key, "tool_call", "{}");
    char *answer = er_xasprintf("{\"text\":\"%s\",\"tool_calls\":[]}", then);
    recorded(t, "llm:2", "llm", answer);
    free(answer);
}

/* An earlier attempt began `run` and died before its result: not run again, and
 * the result says so. */
static void test_interrupted_not_repeated(er_env *env)
{
    er_task t;
    er_lease l;
    crashed_in_call(&t, &l, "c1", "run", "{\"cmd\":\"echo again >> ledger\"}", "finished");
    er_run_result res;
    run(env, &t, &l, NULL, "append to the ledger", true, &res);
    CHECK_INT(res.status, ER_TASK_DONE);
    CHECK(res.answer && er_str_starts(res.answer, "finished\n\n[errand: 1 tool call was "
                                                  "interrupted by a worker restart"));
    CHECK(res.answer && strstr(res.answer, "run {\"cmd\":\"echo again >> ledger\"}]"));
    CHECK_INT(cJSON_GetArraySize(res.interrupted), 1);
    const cJSON *c = cJSON_GetArrayItem(res.interrupted, 0);
    CHECK_STR(er_json_str(c, "tool"), "run");
    CHECK_STR(er_json_str(c, "agent"), "code");
    char *path = er_xasprintf("%s/ws/ledger", dir);
    CHECK(access(path, F_OK) != 0);
    free(path);
    char *data = NULL;
    CHECK(has_event(&t, "tool:1:c1", &data));
    CHECK(data && strstr(data, "interrupted by a restart and was not repeated"));
    free(data);
    er_run_result_release(&res);
}

/* write_file with the whole content is idempotent: run again after a crash. */
static void test_idempotent_rerun(er_env *env)
{
    er_task t;
    er_lease l;
    crashed_in_call(&t, &l, "w1", "write_file", "{\"path\":\"out.txt\",\"content\":\"whole\\n\"}",
                    "written");
    er_run_result res;
    run(env, &t, &l, NULL, "write out.txt", true, &res);
    CHECK_INT(res.status, ER_TASK_DONE);
    CHECK_STR(res.answer, "written");
    CHECK(res.interrupted == NULL);
    char *path = er_xasprintf("%s/ws/out.txt", dir);
    FILE *f = fopen(path, "r");
    char buf[32] = "";
    CHECK(f && fgets(buf, sizeof buf, f));
    CHECK_STR(buf, "whole\n");
    if (f)
        fclose(f);
    free(path);
    char *data = NULL;
    CHECK(has_event(&t, "tool:1:w1", &data));
    CHECK(data && strstr(data, "\"is_error\":false"));
    free(data);
    er_run_result_release(&res);
}

static void check_failed(const char *id, const char *why)
{
    er_task t;
    er_error err = { 0 };
    CHECK_OK(er_store_task_get(st, id, &t, &err));
    CHECK_INT(t.status, ER_TASK_FAILED);
    CHECK(t.error && strstr(t.error, why) != NULL);
    if (!t.error || !strstr(t.error, why))
        fprintf(stderr, "  error: %s\n  wanted: %s\n", t.error ? t.error : "(none)", why);
    er_task_release(&t);
}

/* Past its deadline, a task is failed by whoever sweeps; its parent follows. */
static void test_overdue(er_env *env)
{
    er_error err = { 0 };
    er_task parent, child, fresh;
    new_task(&parent, NULL);
    CHECK_OK(er_store_task_advance(st, parent.id, ER_TASK_ROUTED, NULL, &err));
    new_task(&child, parent.id);
    new_task(&fresh, NULL);
    er_lease l;
    CHECK_OK(er_store_task_take(st, child.id, "test", 1, &l, &err));
    take(&fresh, &l);
    usleep(20000);
    int failed = -1;
    CHECK_OK(er_watchdog_sweep(env, &failed, &err));
    CHECK_INT(failed, 1);
    check_failed(child.id, "no worker finished it by its deadline");
    check_failed(parent.id, "no worker finished it by its deadline");
    er_task_status s;
    CHECK_OK(er_store_task_status(st, fresh.id, &s, &err));
    CHECK_INT(s, ER_TASK_RUNNING);
    char *data = NULL;
    CHECK(has_event(&child, "end", &data));
    CHECK(data && strstr(data, "\"code\":\"EBUDGET\""));
    free(data);
    CHECK_OK(er_watchdog_sweep(env, &failed, &err));
    CHECK_INT(failed, 0);
}

static er_bus_verdict always_retry(const er_bus_msg *m, void *payload)
{
    (void)payload;
    er_error_set(m->why, ER_EUNAVAIL, "its result could not be published: broker gone");
    return ER_BUS_RETRY;
}

/* A task whose message is dead-lettered fails with the reason, at once. */
static void test_dead_letter(er_env *env)
{
    er_error err = { 0 };
    er_bus *bus;
    CHECK_OK(er_env_bus(env, &bus, &err));
    er_bus_on_dead_letter(bus, er_watchdog_dead_letter, env);
    CHECK_OK(er_bus_consume(bus, "agent.data", 1, always_retry, NULL, &err));
    er_task t;
    new_task(&t, NULL);
    char body[96];
    int n = snprintf(body, sizeof body, "{\"task_id\":\"%s\"}", t.id);
    CHECK_OK(er_bus_publish(bus, "", "agent.data", "not json", 8, &err));
    CHECK_OK(er_bus_publish(bus, ER_EXCHANGE_AGENT, "agent.data", body, (size_t)n, &err));
    er_task_status s = ER_TASK_QUEUED;
    for (int i = 0; i < 500 && !er_task_status_final(s); i++) {
        usleep(10000);
        CHECK_OK(er_store_task_status(st, t.id, &s, &err));
    }
    check_failed(t.id, "agent.data gave up on it: it failed at each of its 5 attempts: its "
                       "result could not be published: broker gone (its message is kept in "
                       "the dead-letter queue errand.dead)");
}

/* A result from an attempt that lost the task is dropped; the current one's is not. */
static void test_stale_result(er_env *env)
{
    er_task t;
    er_lease l;
    new_task(&t, NULL);
    take(&t, &l);
    take(&t, &l);
    er_error err = { 0 };
    er_task_outcome stale = { .status = ER_TASK_DONE, .answer = "old", .attempt = 1 };
    CHECK_INT(er_task_finish(env, &t, &stale, &err), ER_ECONFLICT);
    er_task_status s;
    CHECK_OK(er_store_task_status(st, t.id, &s, &err));
    CHECK_INT(s, ER_TASK_RUNNING);
    CHECK(!has_event(&t, "end", NULL));
    er_task_outcome current = { .status = ER_TASK_DONE, .answer = "new", .attempt = 2 };
    CHECK_OK(er_task_finish(env, &t, &current, &err));
    CHECK_OK(er_store_task_status(st, t.id, &s, &err));
    CHECK_INT(s, ER_TASK_DONE);
    /* Once it ended, a late stale result changes nothing and is no error. */
    CHECK_OK(er_task_finish(env, &t, &stale, &err));
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    er_env *env = make_env();
    test_adopts_recorded_step(env);
    test_stale_lease(env);
    test_lost_delivery(env);
    test_interrupted_not_repeated(env);
    test_idempotent_rerun(env);
    test_overdue(env);
    test_dead_letter(env);
    test_stale_result(env);
    er_env_close(env);
    char *cmd = er_xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return check_done();
}
