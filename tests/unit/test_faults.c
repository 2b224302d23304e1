/* test_faults.c — the error paths above the seams, driven by the fake backends
 * (tests/fakes/backends/): the fakes themselves (counting, failing call N),
 * migrations that fail half-way, task submission when the store or the bus
 * fails, the bus's dead-lettering when the dead letter cannot be published,
 * events while the cache fails, and the workers' verdicts when the store does. */
#include "check.h"
#include "fake_backends.h"
#include "errand/alloc.h"
#include "errand/backend/store_backend.h"
#include "errand/env.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/tasks.h"
#include "errand/workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 5000

static char dir[] = "/tmp/errand-faults-XXXXXX";

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* A new SQLite database under dir, wrapped; migrated unless told not to. */
static er_store *fake_store(const char *name, bool migrate, fake **ctl)
{
    er_error err = { 0 };
    er_store *real = NULL, *st = NULL;
    char *url = er_xasprintf("sqlite://%s/%s.db", dir, name);
    CHECK_OK(er_store_open(&real, url, &err));
    free(url);
    if (!real)
        exit(1);
    if (migrate)
        CHECK_OK(er_store_migrate(real, NULL, &err));
    fake_store_wrap(&st, real, ctl);
    return st;
}

static er_bus *fake_bus(fake **ctl)
{
    er_error err = { 0 };
    er_bus *real = NULL, *bus = NULL;
    CHECK_OK(er_bus_open(&real, "inproc://", &err));
    if (!real)
        exit(1);
    fake_bus_wrap(&bus, real, ctl);
    return bus;
}

static er_cache *fake_cache(fake **ctl)
{
    er_error err = { 0 };
    er_cache *real = NULL, *c = NULL;
    CHECK_OK(er_cache_open(&real, "inproc://", &err));
    if (!real)
        exit(1);
    fake_cache_wrap(&c, real, ctl);
    return c;
}

/* An environment over dir's SQLite file, whose handles the tests then replace. */
static er_env *make_env(const char *name)
{
    er_error err = { 0 };
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    setenv("XDG_CONFIG_HOME", dir, 1);
    unsetenv("DATABASE_URL");
    unsetenv("RABBITMQ_URL");
    unsetenv("REDIS_URL");
    unsetenv("ERRAND_LLM");
    CHECK_OK(er_config_load(cfg, NULL, &err));
    free(cfg->database_url);
    cfg->database_url = er_xasprintf("sqlite://%s/%s.db", dir, name);
    er_env *env = NULL;
    CHECK_OK(er_env_new(&env, cfg, &err));
    return env;
}

/* ---- the fakes themselves ---- */

static void test_fake_counts_and_fails(void)
{
    fake *ctl;
    er_cache *c = fake_cache(&ctl);
    er_error err = { 0 };
    CHECK_OK(er_cache_set(c, "k1", "a", 1, 0, &err));
    fake_fail(ctl, "set", NULL, 2, ER_EUNAVAIL); /* the second set from now */
    CHECK_OK(er_cache_set(c, "k2", "b", 1, 0, &err));
    CHECK_INT(er_cache_set(c, "k3", "c", 1, 0, &err), ER_EUNAVAIL);
    CHECK(strstr(err.msg, "fake cache: set") && strstr(err.msg, "planned"));
    CHECK_OK(er_cache_set(c, "k4", "d", 1, 0, &err)); /* a plan fails one call */
    char *v = NULL;
    CHECK_INT(er_cache_get(c, "k3", &v, NULL, &err), ER_ENOTFOUND); /* never reached it */
    CHECK_OK(er_cache_get(c, "k2", &v, NULL, &err));
    CHECK_STR(v, "b");
    free(v);

    fake_fail_always(ctl, "get", "secret", ER_EAUTH); /* by the call's text */
    CHECK_INT(er_cache_get(c, "secret:1", &v, NULL, &err), ER_EAUTH);
    CHECK_INT(er_cache_get(c, "my-secret", &v, NULL, &err), ER_EAUTH);
    CHECK_INT(er_cache_get(c, "k1", &v, NULL, &err), 0);
    free(v);
    fake_heal(ctl);
    CHECK_INT(er_cache_get(c, "secret:1", &v, NULL, &err), ER_ENOTFOUND);

    CHECK_INT(fake_calls(ctl, "set"), 4);
    CHECK_INT(fake_calls(ctl, "get"), 6);
    CHECK_INT(fake_calls(ctl, NULL), 10);
    CHECK_INT(fake_failed(ctl), 3);
    CHECK_INT(fake_calls(ctl, "publish"), 0);
    er_cache_close(c);
}

/* ---- migrations ---- */

static void test_migrate_faults(void)
{
    fake *ctl;
    er_store *st = fake_store("migrate", false, &ctl);
    er_error err = { 0 };
    int applied = -1, version = -1;
    CHECK_STR(er_store_scheme(st), "fake");

    /* The backend's table test fails: nothing is applied, the code comes through. */
    fake_fail(ctl, "table_exists", "schema_migrations", 1, ER_EUNAVAIL);
    CHECK_INT(er_store_migrate(st, &applied, &err), ER_EUNAVAIL);
    CHECK_INT(applied, 0);
    /* So does its lock. */
    fake_fail(ctl, "migration_lock", NULL, 1, ER_ETIMEDOUT);
    CHECK_INT(er_store_migrate(st, &applied, &err), ER_ETIMEDOUT);
    CHECK_OK(er_store_schema_version(st, &version, &err));
    CHECK_INT(version, 0);

    /* The second migration's script fails: the first stays, the second is rolled
     * back with its version row, and the error names it. */
    fake_fail(ctl, "exec_script", "002_auth.sql", 1, ER_EIO);
    CHECK_INT(er_store_migrate(st, &applied, &err), ER_EIO);
    CHECK(strstr(err.msg, "migration 002_auth: ") == err.msg);
    CHECK_INT(applied, 1);
    CHECK_OK(er_store_schema_version(st, &version, &err));
    CHECK_INT(version, 1);
    /* Run again, it goes on from there. */
    size_t nmig = 0; /* versions may have gaps: count the migrations */
    er_migrations_for("sqlite", &nmig);
    CHECK_OK(er_store_migrate(st, &applied, &err));
    CHECK_INT(applied, (int)nmig - 1);
    CHECK_OK(er_store_schema_version(st, &version, &err));
    CHECK_INT(version, er_store_latest_version(st));
    CHECK(fake_calls(ctl, "transaction") >= (long)nmig);
    er_store_close(st);
}

/* ---- submitting tasks ---- */

static long queued_tasks(er_env *env)
{
    er_store *st;
    er_error err = { 0 };
    int64_t counts[ER_TASK_CANCELLED + 1] = { 0 };
    CHECK_OK(er_env_store(env, &st, &err));
    CHECK_OK(er_store_task_counts(st, counts, &err));
    return (long)counts[ER_TASK_QUEUED];
}

static void test_submit_faults(void)
{
    er_env *env = make_env("submit");
    fake *sctl, *bctl;
    er_env_adopt(env, fake_store("submit", true, &sctl), fake_bus(&bctl), NULL);
    er_error err = { 0 };

    /* One commit for three submissions; the second's message cannot be stored:
     * it alone is rolled back and reported, the others are stored and published. */
    er_submit subs[3] = { { .request = "first" }, { .request = "second" }, { .request = "third" } };
    er_submit_result out[3];
    fake_fail(sctl, "exec", "INSERT INTO messages", 2, ER_EIO);
    er_task_submit_many(env, subs, 3, out);
    CHECK_INT(out[0].rc, 0);
    CHECK_INT(out[1].rc, ER_EIO);
    CHECK(strstr(out[1].err.msg, "planned") != NULL);
    CHECK_INT(out[2].rc, 0);
    CHECK_INT(queued_tasks(env), 2);
    CHECK_INT(fake_calls(bctl, "publish"), 2);

    /* The task is stored but the bus refuses it: the submission fails with the
     * bus's code and the task ends failed, saying why, instead of waiting for ever. */
    er_submit s = { .request = "fourth", .task_id = "0190f000-0000-7000-8000-000000000004" };
    fake_fail(bctl, "publish", "supervisor", 1, ER_EUNAVAIL);
    CHECK_INT(er_task_submit(env, &s, NULL, NULL, &err), ER_EUNAVAIL);
    er_store *st;
    er_task t;
    CHECK_OK(er_env_store(env, &st, &err));
    CHECK_OK(er_store_task_get(st, s.task_id, &t, &err));
    CHECK_INT(t.status, ER_TASK_FAILED);
    CHECK(t.error && strstr(t.error, "planned") != NULL);
    er_task_release(&t);
    CHECK_INT(queued_tasks(env), 2);

    /* The store down altogether: nothing is published. */
    long published = fake_calls(bctl, "publish");
    fake_fail_always(sctl, "transaction", NULL, ER_EUNAVAIL);
    s.task_id = NULL;
    CHECK_INT(er_task_submit(env, &s, NULL, NULL, &err), ER_EUNAVAIL);
    CHECK_INT(fake_calls(bctl, "publish"), published);
    fake_heal(sctl);
    er_env_close(env);
}

/* ---- the bus: a dead letter the broker refuses is not lost ---- */

typedef struct seen {
    pthread_mutex_t lock;
    int calls;
    int attempts[8];
} seen;

static er_bus_verdict reject_all(const er_bus_msg *msg, void *payload)
{
    seen *s = payload;
    pthread_mutex_lock(&s->lock);
    if (s->calls < 8)
        s->attempts[s->calls] = msg->attempts;
    s->calls++;
    pthread_mutex_unlock(&s->lock);
    return ER_BUS_REJECT;
}

static long depth(er_bus *bus, const char *queue)
{
    long d = -1, c = -1;
    er_error err = { 0 };
    CHECK_OK(er_bus_queue_info(bus, queue, &d, &c, &err));
    return d;
}

static void test_dead_letter_refused(void)
{
    fake *ctl;
    er_bus *bus = fake_bus(&ctl);
    er_error err = { 0 };
    seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
    fake_fail(ctl, "publish", ER_EXCHANGE_DEAD, 1, ER_EUNAVAIL);
    CHECK_OK(er_bus_consume(bus, "agent.code", 1, reject_all, &s, &err));
    CHECK_OK(er_bus_publish(bus, ER_EXCHANGE_AGENT, "agent.code", "poison", 6, &err));
    for (int waited = 0; waited < WAIT_MS && depth(bus, ER_QUEUE_DEAD) < 1; waited += 10)
        sleep_ms(10);
    CHECK_INT(depth(bus, ER_QUEUE_DEAD), 1);
    pthread_mutex_lock(&s.lock);
    /* Rejected, the dead letter refused: back in the queue, counted as an
     * attempt, rejected again, and this time dead-lettered. */
    CHECK_INT(s.calls, 2);
    CHECK_INT(s.attempts[0], 1);
    CHECK_INT(s.attempts[1], 2);
    pthread_mutex_unlock(&s.lock);
    CHECK_INT(fake_failed(ctl), 1);
    /* publish, the refused dead letter, the requeued copy, the dead letter */
    CHECK_INT(fake_calls(ctl, "publish"), 4);
    er_bus_close(bus);
}

/* ---- events while the cache fails ---- */

static int count_event(const er_event *e, void *payload)
{
    (void)e;
    (*(int *)payload)++;
    return 0;
}

static void test_events_without_cache(void)
{
    er_env *env = make_env("events");
    fake *sctl, *cctl;
    er_env_adopt(env, fake_store("events", true, &sctl), NULL, fake_cache(&cctl));
    er_error err = { 0 };
    char id[ER_ID_LEN];
    er_submit s = { .request = "hello" };
    CHECK_OK(er_task_submit(env, &s, id, NULL, &err));
    fake_fail_always(cctl, "publish", NULL, ER_EUNAVAIL);
    /* The event is stored (followers read it back from the store); losing
     * its publication is not the caller's failure. */
    CHECK_OK(er_event_emit(env, id, id, "note:1", "note", NULL, &err));
    CHECK_INT(fake_failed(cctl), 2); /* its channel and the global one */
    er_store *st;
    int n = 0;
    CHECK_OK(er_env_store(env, &st, &err));
    CHECK_OK(er_store_event_list(st, id, 0, count_event, &n, &err));
    CHECK_INT(n, 1);
    /* The store failing is the caller's failure: nothing is published then. */
    long published = fake_calls(cctl, "publish");
    fake_fail(sctl, NULL, "INSERT INTO task_events", 1, ER_EIO);
    CHECK_INT(er_event_emit(env, id, id, "note:2", "note", NULL, &err), ER_EIO);
    CHECK_INT(fake_calls(cctl, "publish"), published);
    fake_heal(cctl);
    er_env_close(env);
}

/* ---- the workers' verdicts ---- */

static er_bus_verdict handle(er_bus_handler fn, er_env *env, const char *body)
{
    er_bus_msg msg = { .queue = ER_QUEUE_SUPERVISOR,
                       .exchange = ER_EXCHANGE_SUPERVISOR,
                       .routing_key = ER_KEY_SUPERVISOR,
                       .body = body,
                       .len = strlen(body),
                       .attempts = 1 };
    return fn(&msg, env);
}

static void test_worker_verdicts(void)
{
    er_env *env = make_env("workers");
    fake *sctl, *bctl;
    er_env_adopt(env, fake_store("workers", true, &sctl), fake_bus(&bctl), NULL);
    er_error err = { 0 };
    char id[ER_ID_LEN];
    er_submit s = { .request = "grep TODO src" };
    CHECK_OK(er_task_submit(env, &s, id, NULL, &err));
    char *body = er_xasprintf("{\"task_id\":\"%s\"}", id);

    /* Poison (not JSON, no task_id, no such task): dead-lettered at once. */
    CHECK_INT(handle(er_supervisor_handle, env, "not json"), ER_BUS_REJECT);
    CHECK_INT(handle(er_supervisor_handle, env, "{\"id\":1}"), ER_BUS_REJECT);
    CHECK_INT(handle(er_aggregator_handle, env, "{\"task_id\":\"nosuch\"}"), ER_BUS_REJECT);
    /* The store failing to read the task: tried again later, nothing else done. */
    long published = fake_calls(bctl, "publish");
    fake_fail(sctl, "query", "FROM tasks WHERE id", 1, ER_EUNAVAIL);
    CHECK_INT(handle(er_supervisor_handle, env, body), ER_BUS_RETRY);
    fake_fail(sctl, "query", "FROM tasks WHERE id", 1, ER_EUNAVAIL);
    CHECK_INT(handle(er_agent_handle, env, body), ER_BUS_RETRY);
    fake_fail(sctl, "query", "FROM tasks WHERE id", 1, ER_EUNAVAIL);
    CHECK_INT(handle(er_aggregator_handle, env, body), ER_BUS_RETRY);
    CHECK_INT(fake_calls(bctl, "publish"), published);
    er_task t;
    er_store *st;
    CHECK_OK(er_env_store(env, &st, &err));
    CHECK_OK(er_store_task_get(st, id, &t, &err));
    CHECK_INT(t.status, ER_TASK_QUEUED);
    er_task_release(&t);
    /* Healed, the supervisor routes it (offline: to the code agent). */
    CHECK_INT(handle(er_supervisor_handle, env, body), ER_BUS_ACK);
    CHECK_INT(fake_calls(bctl, "publish"), published + 1);
    free(body);
    er_env_close(env);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_fake_counts_and_fails();
    test_migrate_faults();
    test_submit_faults();
    test_dead_letter_refused();
    test_events_without_cache();
    test_worker_verdicts();
    char *cmd = er_xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return check_done();
}
