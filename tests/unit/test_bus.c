/* test_bus.c — the bus conformance suite.  One set of checks, run against
 * $ERRAND_TEST_BUS_URL (unset: the in-process backend; ctest runs it again as
 * backend.bus.amqp against a throwaway RabbitMQ, and as backend.bus.amqp.quorum
 * with quorum queues in a vhost of its own).  AMQP runs start from purged
 * queues and add two checks only a broker can fail: a consumer that dies
 * without acking, and a broker restart in the middle. */
#include "check.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/backend/bus_backend.h"
#include "errand/bus.h"
#include "errand/error.h"
#include "errand/str.h"
#include "errand/url.h"

#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *bus_url; /* NULL: in-process */
static bool amqp;

#define WAIT_MS 15000
#define MAXSEEN 512

/* ---- a handler that records what it saw and answers as told ---- */

typedef enum { ACK_ALL, RETRY_UNTIL, ALWAYS_RETRY, REJECT_ALL, BLOCK } mode;

typedef struct seen {
    char *body, *exchange, *key, *queue;
    int attempts;
    bool redelivered;
} seen;

typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mode mode;
    int until;     /* RETRY_UNTIL: ack from this attempt on */
    bool released; /* BLOCK: let the handler return */
    int n, returned, in_hand, max_in_hand;
    int lost; /* handlers that found msg->lost raised as they returned */
    seen items[MAXSEEN];
} collector;

static void collector_init(collector *c, mode m)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &a);
    pthread_condattr_destroy(&a);
    c->mode = m;
}

static void collector_release(collector *c)
{
    for (int i = 0; i < c->n && i < MAXSEEN; i++) {
        free(c->items[i].body);
        free(c->items[i].exchange);
        free(c->items[i].key);
        free(c->items[i].queue);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static er_bus_verdict collect(const er_bus_msg *m, void *payload)
{
    collector *c = payload;
    pthread_mutex_lock(&c->mu);
    if (c->n < MAXSEEN) {
        seen *s = &c->items[c->n];
        s->body = strndup(m->body, m->len);
        s->exchange = strdup(m->exchange);
        s->key = strdup(m->routing_key);
        s->queue = strdup(m->queue);
        s->attempts = m->attempts;
        s->redelivered = m->redelivered;
    }
    c->n++;
    if (++c->in_hand > c->max_in_hand)
        c->max_in_hand = c->in_hand;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);

    pthread_mutex_lock(&c->mu);
    while (c->mode == BLOCK && !c->released)
        pthread_cond_wait(&c->cv, &c->mu);
    if (m->lost && *m->lost)
        c->lost++;
    c->in_hand--;
    c->returned++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    switch (c->mode) {
    case RETRY_UNTIL: return m->attempts < c->until ? ER_BUS_RETRY : ER_BUS_ACK;
    case ALWAYS_RETRY:
        er_error_set(m->why, ER_EUNAVAIL, "the store is down (attempt %d)", m->attempts);
        return ER_BUS_RETRY;
    case REJECT_ALL: return ER_BUS_REJECT;
    default: return ER_BUS_ACK;
    }
}

/* Waits until *field >= want (field is one of c's counters); false on timeout. */
static bool wait_count(collector *c, const int *field, int want, int ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (*field < want && pthread_cond_timedwait(&c->cv, &c->mu, &dl) == 0)
        ;
    bool ok = *field >= want;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static void release(collector *c)
{
    pthread_mutex_lock(&c->mu);
    c->released = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* ---- bus helpers ---- */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Opens the bus under test with every queue empty. */
static er_bus *open_clean(void)
{
    er_error err = { 0 };
    er_bus *bus = NULL;
    if (er_bus_open(&bus, bus_url, &err) != 0) {
        fprintf(stderr, "cannot open the bus under test: %s\n", err.msg);
        exit(1);
    }
    for (const char *const *q = er_bus_queue_names(); *q; q++)
        CHECK_OK(er_bus_purge(bus, *q, NULL, &err));
    return bus;
}

/* What er_bus_on_dead_letter reported. */
typedef struct dead_log {
    pthread_mutex_t mu;
    int n;
    char queue[4][32], reason[4][200];
} dead_log;

static void on_dead(const er_bus_msg *m, const char *reason, void *payload)
{
    dead_log *d = payload;
    pthread_mutex_lock(&d->mu);
    if (d->n < 4) {
        snprintf(d->queue[d->n], sizeof d->queue[0], "%s", m->queue);
        snprintf(d->reason[d->n], sizeof d->reason[0], "%s", reason);
    }
    d->n++;
    pthread_mutex_unlock(&d->mu);
}

static long depth_of(er_bus *bus, const char *queue)
{
    er_error err = { 0 };
    long depth = -1, consumers = -1;
    CHECK_OK(er_bus_queue_info(bus, queue, &depth, &consumers, &err));
    return depth;
}

static long consumers_of(er_bus *bus, const char *queue)
{
    er_error err = { 0 };
    long depth = -1, consumers = -1;
    CHECK_OK(er_bus_queue_info(bus, queue, &depth, &consumers, &err));
    return consumers;
}

/* Polls until queue's depth (or consumer count) is want; returns the last value. */
static long wait_info(er_bus *bus, const char *queue, bool consumers, long want)
{
    long v = -1;
    for (int waited = 0; waited < WAIT_MS; waited += 10) {
        v = consumers ? consumers_of(bus, queue) : depth_of(bus, queue);
        if (v == want)
            break;
        sleep_ms(10);
    }
    return v;
}

static int publish(er_bus *bus, const char *exchange, const char *key, const char *body)
{
    er_error err = { 0 };
    int rc = er_bus_publish(bus, exchange, key, body, strlen(body), &err);
    if (rc)
        fprintf(stderr, "publish to '%s' / '%s': %s\n", exchange, key, err.msg);
    return rc;
}

/* ---- checks that need no bus ---- */

static void test_tables(void)
{
    CHECK_INT(er_bus_nexchanges, 4);
    size_t nbindings;
    const er_bus_binding *bindings = er_bus_bindings(&nbindings);
    /* One queue per agent of the registry, plus supervisor, results, dead letters. */
    CHECK_INT(nbindings, er_agent_count() + 3);
    char q[64];
    er_bus_agent_queue("code", q, sizeof q);
    CHECK_STR(q, "agent.code");
    const char *const *names = er_bus_queue_names();
    size_t agent_queues = 0, i = 0;
    for (; i < nbindings; i++) {
        const er_bus_binding *b = &bindings[i];
        CHECK_STR(names[i], b->queue);
        bool found = false;
        for (size_t j = 0; j < er_bus_nexchanges; j++)
            found = found || strcmp(er_bus_exchanges[j].name, b->exchange) == 0;
        CHECK(found);
        if (strcmp(b->exchange, ER_EXCHANGE_AGENT) == 0) {
            CHECK_STR(b->key, b->queue); /* the agent exchange routes by queue name */
            er_bus_agent_queue(er_agents[agent_queues]->name, q, sizeof q);
            CHECK_STR(b->queue, q); /* in registry order */
            agent_queues++;
        }
    }
    CHECK(names[i] == NULL);
    CHECK_INT(agent_queues, er_agent_count());
    CHECK_STR(names[0], ER_QUEUE_SUPERVISOR);
    CHECK_STR(names[nbindings - 2], ER_QUEUE_RESULTS);
    CHECK_STR(names[nbindings - 1], ER_QUEUE_DEAD);
}

static void test_topic_match(void)
{
    static const struct {
        const char *pattern, *key;
        bool match;
    } cases[] = {
        { "agent.code", "agent.code", true },
        { "agent.code", "agent.codex", false },
        { "agent.code", "agent", false },
        { "agent.*", "agent.code", true },
        { "agent.*", "agent", false },
        { "agent.*", "agent.code.x", false },
        { "*.code", "agent.code", true },
        { "*", "", true },
        { "*.*", "a", false },
        { "#", "", true },
        { "#", "a.b.c", true },
        { "agent.#", "agent", true },
        { "agent.#", "agent.a.b", true },
        { "agent.#", "agents", false },
        { "#.code", "code", true },
        { "#.code", "a.b.code", true },
        { "#.code", "a.code.b", false },
        { "a.#.b", "a.b", true },
        { "a.#.b", "a.x.y.b", true },
        { "a.#.b", "a.x.y.c", false },
        { "a.*.#", "a", false },
        { "a.*.#", "a.b", true },
        { "a.#.#", "a", true },
        { "#.*", "", true },
        { "a..b", "a..b", true },
        { "a.*.b", "a..b", true },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(cases); i++) {
        bool got = er_bus_topic_match(cases[i].pattern, cases[i].key);
        if (got != cases[i].match)
            fprintf(stderr, "topic '%s' vs key '%s': got %d\n", cases[i].pattern, cases[i].key,
                    got);
        CHECK(got == cases[i].match);
    }
}

static void test_open_errors(void)
{
    er_error err = { 0 };
    er_bus *bus = (er_bus *)&err; /* must be reset to NULL on failure */
    CHECK_INT(er_bus_open(&bus, "kafka://localhost:9092", &err), ER_EINVAL);
    CHECK(bus == NULL);
    CHECK(strstr(err.msg, "'kafka'") && strstr(err.msg, "inproc://") && strstr(err.msg, "amqp://"));
    CHECK_INT(er_bus_open(&bus, "no scheme here", &err), ER_EINVAL);

    /* Nothing listens on port 1: refused at once, with a hint. */
    int rc = er_bus_open(&bus, "amqp://guest:guest@127.0.0.1:1/", &err);
#ifdef ERRAND_WITH_AMQP
    CHECK_INT(rc, ER_EUNAVAIL);
    CHECK(strstr(err.msg, "'127.0.0.1:1'") && strstr(err.msg, "is it running"));
    CHECK_INT(er_bus_open(&bus, "amqp://127.0.0.1:1/?heartbeat=often", &err), ER_EINVAL);
    CHECK(strstr(err.msg, "heartbeat") != NULL);
    CHECK_INT(er_bus_open(&bus, "amqp://127.0.0.1:1/?queue_type=mirrored", &err), ER_EINVAL);
    CHECK(strstr(err.msg, "queue_type") && strstr(err.msg, "quorum") &&
          strstr(err.msg, "mirrored"));
#else
    CHECK_INT(rc, ER_EINVAL);
    CHECK(strstr(err.msg, "ERRAND_WITH_AMQP") != NULL);
#endif
    CHECK(bus == NULL);

    if (amqp) { /* the right broker, the wrong password */
        er_url u;
        CHECK_OK(er_url_parse(&u, bus_url, &err));
        char *bad = er_xasprintf("amqp://%s:wrong-password@%s:%d/", u.user ? u.user : "guest",
                                 u.host ? u.host : "localhost", u.port ? u.port : 5672);
        CHECK_INT(er_bus_open(&bus, bad, &err), ER_EAUTH);
        CHECK(bus == NULL);
        free(bad);
        er_url_release(&u);
    }

    CHECK_OK(er_bus_open(&bus, NULL, &err));
    CHECK_STR(er_bus_scheme(bus), "inproc");
    CHECK(er_bus_is_local(bus));
    er_bus_close(bus);
    CHECK_OK(er_bus_open(&bus, "inproc://", &err));
    CHECK(er_bus_is_local(bus));
    er_bus_close(bus);
    er_bus_close(NULL);
}

/* ---- the conformance checks, one fresh bus each ---- */

static void test_api_errors(void)
{
    er_bus *bus = open_clean();
    er_error err = { 0 };
    CHECK_STR(er_bus_scheme(bus), amqp ? "amqp" : "inproc");
    CHECK(er_bus_is_local(bus) == !amqp);
    CHECK_OK(er_bus_ping(bus, &err));
    CHECK_INT(er_bus_publish(bus, "nope", "k", "x", 1, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "'nope'") != NULL);
    CHECK_INT(er_bus_publish(bus, "", "agent.nope", "x", 1, &err), ER_ENOTFOUND);
    CHECK_INT(er_bus_publish(bus, ER_EXCHANGE_AGENT, "agent.code", "x", ER_BUS_MAX_BODY + 1, &err),
              ER_ETOOBIG);
    CHECK_INT(er_bus_consume(bus, "agent.nope", 1, collect, NULL, &err), ER_ENOTFOUND);
    CHECK_INT(er_bus_consume(bus, "agent.code", 0, collect, NULL, &err), ER_EINVAL);
    long d = 0, c = 0;
    CHECK_INT(er_bus_queue_info(bus, "nope", &d, &c, &err), ER_ENOTFOUND);
    CHECK(d == -1 && c == -1);
    CHECK_INT(depth_of(bus, "agent.code"), 0);
    er_bus_close(bus);
}

static void test_routing(void)
{
    er_bus *bus = open_clean();
    CHECK(publish(bus, ER_EXCHANGE_SUPERVISOR, ER_KEY_SUPERVISOR, "task") == 0);
    CHECK(publish(bus, ER_EXCHANGE_SUPERVISOR, "other", "lost") == 0); /* no binding: dropped */
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.code", "code") == 0);
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.email", "email") == 0);
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.nobody", "lost") == 0);
    CHECK(publish(bus, ER_EXCHANGE_RESULTS, "any.key", "result") == 0);
    CHECK(publish(bus, ER_EXCHANGE_DEAD, "agent.data", "dead") == 0);
    CHECK(publish(bus, "", "agent.data", "direct") == 0);
    static const struct {
        const char *queue;
        long depth;
    } want[] = {
        { ER_QUEUE_SUPERVISOR, 1 }, { "agent.code", 1 },  { "agent.research", 0 },
        { "agent.data", 1 },        { "agent.email", 1 }, { "agent.browser", 0 },
        { ER_QUEUE_RESULTS, 1 },    { ER_QUEUE_DEAD, 1 },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(want); i++) {
        long got = depth_of(bus, want[i].queue);
        if (got != want[i].depth)
            fprintf(stderr, "queue %s: depth %ld\n", want[i].queue, got);
        CHECK_INT(got, want[i].depth);
    }

    er_error err = { 0 };
    collector code, data;
    collector_init(&code, ACK_ALL);
    collector_init(&data, ACK_ALL);
    CHECK_OK(er_bus_consume(bus, "agent.code", 1, collect, &code, &err));
    CHECK_OK(er_bus_consume(bus, "agent.data", 1, collect, &data, &err));
    CHECK(wait_count(&code, &code.returned, 1, WAIT_MS));
    CHECK(wait_count(&data, &data.returned, 1, WAIT_MS));
    er_bus_close(bus);
    CHECK_INT(code.n, 1);
    CHECK_STR(code.items[0].body, "code");
    CHECK_STR(code.items[0].exchange, ER_EXCHANGE_AGENT);
    CHECK_STR(code.items[0].key, "agent.code");
    CHECK_STR(code.items[0].queue, "agent.code");
    CHECK_INT(code.items[0].attempts, 1);
    CHECK(!code.items[0].redelivered);
    CHECK_INT(data.n, 1);
    CHECK_STR(data.items[0].body, "direct");
    CHECK_STR(data.items[0].exchange, "");
    CHECK_STR(data.items[0].key, "agent.data");
    collector_release(&code);
    collector_release(&data);
}

/* How many of the bodies "m0" … "m<n-1>" the collector saw exactly once. */
static int seen_once(const collector *c, int n)
{
    int *times = er_xcalloc((size_t)n, sizeof *times), once = 0;
    for (int i = 0; i < c->n && i < MAXSEEN; i++) {
        int k = -1;
        if (sscanf(c->items[i].body, "m%d", &k) == 1 && k >= 0 && k < n)
            times[k]++;
    }
    for (int i = 0; i < n; i++)
        once += times[i] == 1;
    free(times);
    return once;
}

static void test_concurrency(void)
{
    enum { N = 200 };
    er_bus *bus = open_clean();
    er_error err = { 0 };
    collector c;
    collector_init(&c, ACK_ALL);
    CHECK_OK(er_bus_consume(bus, "agent.code", 2, collect, &c, &err));
    for (int i = 0; i < N; i++) {
        char body[32];
        snprintf(body, sizeof body, "m%d", i);
        CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.code", body) == 0);
    }
    CHECK(wait_count(&c, &c.returned, N, WAIT_MS));
    CHECK_INT(wait_info(bus, "agent.code", false, 0), 0);
    er_bus_close(bus);
    CHECK_INT(c.n, N);
    CHECK(c.max_in_hand >= 1 && c.max_in_hand <= 2);
    CHECK_INT(seen_once(&c, N), N);
    collector_release(&c);
}

/* Many threads publishing on one handle at once (RabbitMQ: confirms pipelined on
 * one connection), while another asks about a queue on that connection: every
 * message is confirmed and delivered once. */
enum { PUB_THREADS = 8, PUB_EACH = 50 };

typedef struct pub_thread {
    er_bus *bus;
    int thread, failed;
} pub_thread;

static void *publish_many(void *arg)
{
    pub_thread *j = arg;
    for (int i = 0; i < PUB_EACH; i++) {
        char body[32];
        snprintf(body, sizeof body, "m%d", j->thread * PUB_EACH + i);
        j->failed += publish(j->bus, ER_EXCHANGE_AGENT, "agent.data", body) != 0;
    }
    return NULL;
}

static void *ask_info(void *arg)
{
    pub_thread *j = arg;
    for (int i = 0; i < 20; i++) {
        long depth, consumers;
        er_error err = { 0 };
        j->failed += er_bus_queue_info(j->bus, "agent.data", &depth, &consumers, &err) != 0;
    }
    return NULL;
}

static void test_concurrent_publishers(void)
{
    enum { N = PUB_THREADS * PUB_EACH };
    er_bus *bus = open_clean();
    er_error err = { 0 };
    collector c;
    collector_init(&c, ACK_ALL);
    CHECK_OK(er_bus_consume(bus, "agent.data", 4, collect, &c, &err));
    pthread_t t[PUB_THREADS + 1];
    pub_thread jobs[PUB_THREADS + 1];
    for (int i = 0; i <= PUB_THREADS; i++) {
        jobs[i] = (pub_thread){ bus, i, 0 };
        CHECK(pthread_create(&t[i], NULL, i < PUB_THREADS ? publish_many : ask_info, &jobs[i]) ==
              0);
    }
    int failed = 0;
    for (int i = 0; i <= PUB_THREADS; i++) {
        pthread_join(t[i], NULL);
        failed += jobs[i].failed;
    }
    CHECK_INT(failed, 0);
    CHECK(wait_count(&c, &c.returned, N, WAIT_MS));
    er_bus_close(bus);
    CHECK_INT(c.n, N);
    CHECK_INT(seen_once(&c, N), N);
    collector_release(&c);
}

static void test_retry(void)
{
    er_bus *bus = open_clean();
    er_error err = { 0 };
    collector c;
    collector_init(&c, RETRY_UNTIL);
    c.until = 3;
    CHECK_OK(er_bus_consume(bus, "agent.research", 1, collect, &c, &err));
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.research", "flaky") == 0);
    CHECK(wait_count(&c, &c.returned, 3, WAIT_MS));
    CHECK_INT(wait_info(bus, "agent.research", false, 0), 0);
    er_bus_close(bus);
    CHECK_INT(c.n, 3);
    for (int i = 0; i < 3 && i < c.n; i++) {
        CHECK_INT(c.items[i].attempts, i + 1);
        CHECK_STR(c.items[i].body, "flaky");
    }
    bus = open_clean(); /* nothing was dead-lettered */
    er_bus_close(bus);
    collector_release(&c);
}

static void test_dead_letter(void)
{
    er_bus *bus = open_clean();
    er_error err = { 0 };
    collector retry, reject, dead;
    collector_init(&retry, ALWAYS_RETRY);
    collector_init(&reject, REJECT_ALL);
    collector_init(&dead, ACK_ALL);
    dead_log log = { .mu = PTHREAD_MUTEX_INITIALIZER };
    er_bus_on_dead_letter(bus, on_dead, &log);
    CHECK_OK(er_bus_consume(bus, "agent.email", 1, collect, &retry, &err));
    CHECK_OK(er_bus_consume(bus, "agent.browser", 1, collect, &reject, &err));
    CHECK_OK(er_bus_consume(bus, ER_QUEUE_DEAD, 1, collect, &dead, &err));
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.email", "poison") == 0);
    CHECK(wait_count(&dead, &dead.returned, 1, WAIT_MS));
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.browser", "bad") == 0);
    CHECK(wait_count(&dead, &dead.returned, 2, WAIT_MS));
    CHECK_INT(wait_info(bus, "agent.email", false, 0), 0);
    er_bus_close(bus);

    CHECK_INT(retry.n, ER_BUS_MAX_ATTEMPTS);
    for (int i = 0; i < retry.n && i < ER_BUS_MAX_ATTEMPTS; i++)
        CHECK_INT(retry.items[i].attempts, i + 1);
    CHECK_INT(reject.n, 1);
    CHECK_INT(dead.n, 2);
    if (dead.n == 2) {
        CHECK_STR(dead.items[0].body, "poison");
        CHECK_STR(dead.items[0].exchange, ER_EXCHANGE_DEAD);
        CHECK_STR(dead.items[0].key, "agent.email"); /* the queue it died in */
        CHECK_STR(dead.items[0].queue, ER_QUEUE_DEAD);
        CHECK_INT(dead.items[0].attempts, ER_BUS_MAX_ATTEMPTS);
        CHECK_STR(dead.items[1].body, "bad");
        CHECK_STR(dead.items[1].key, "agent.browser");
        CHECK_INT(dead.items[1].attempts, 1);
    }
    /* Told as it happened, with the handler's own words; dead letters of the
     * dead-letter queue itself are not reported again. */
    CHECK_INT(log.n, 2);
    CHECK_STR(log.queue[0], "agent.email");
    CHECK_STR(log.reason[0], "it failed at each of its 5 attempts: the store is down (attempt 5)");
    CHECK_STR(log.queue[1], "agent.browser");
    CHECK_STR(log.reason[1], "the handler rejected it");
    collector_release(&retry);
    collector_release(&reject);
    collector_release(&dead);
}

static void test_stop_with_message_in_hand(void)
{
    er_bus *bus = open_clean();
    er_error err = { 0 };
    collector c;
    collector_init(&c, BLOCK);
    CHECK_OK(er_bus_consume(bus, "agent.data", 1, collect, &c, &err));
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.data", "first") == 0);
    CHECK(wait_count(&c, &c.n, 1, WAIT_MS));
    er_bus_stop(bus); /* returns while the handler still holds "first" */
    CHECK_INT(c.in_hand, 1);
    CHECK_INT(c.returned, 0);
    CHECK_INT(er_bus_consume(bus, "agent.code", 1, collect, &c, &err), ER_ECANCELLED);
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.data", "second") == 0);
    release(&c);
    CHECK(wait_count(&c, &c.returned, 1, WAIT_MS));
    CHECK_INT(wait_info(bus, "agent.data", false, 1), 1); /* "second" was not taken */
    CHECK_INT(wait_info(bus, "agent.data", true, 0), 0);
    er_bus_close(bus);
    CHECK_INT(c.n, 1);
    CHECK_STR(c.items[0].body, "first");
    if (amqp) { /* "first" was acked before the connection closed; "second" waits */
        er_bus *again = NULL;
        CHECK_OK(er_bus_open(&again, bus_url, &err));
        if (again) {
            CHECK_INT(depth_of(again, "agent.data"), 1);
            er_bus_close(again);
        }
    }
    collector_release(&c);
}

static void test_queue_info(void)
{
    er_bus *bus = open_clean();
    er_error err = { 0 };
    long depth = -1, consumers = -1;
    CHECK_OK(er_bus_queue_info(bus, ER_QUEUE_SUPERVISOR, &depth, &consumers, &err));
    CHECK_INT(depth, 0);
    CHECK_INT(consumers, 0);
    for (int i = 0; i < 3; i++)
        CHECK(publish(bus, ER_EXCHANGE_SUPERVISOR, ER_KEY_SUPERVISOR, "t") == 0);
    CHECK_OK(er_bus_queue_info(bus, ER_QUEUE_SUPERVISOR, &depth, &consumers, &err));
    CHECK_INT(depth, 3);
    collector a, b;
    collector_init(&a, ACK_ALL);
    collector_init(&b, ACK_ALL);
    CHECK_OK(er_bus_consume(bus, ER_QUEUE_SUPERVISOR, 3, collect, &a, &err));
    CHECK_INT(consumers_of(bus, ER_QUEUE_SUPERVISOR), 1); /* one per consume call */
    CHECK(wait_count(&a, &a.returned, 3, WAIT_MS));
    CHECK_INT(wait_info(bus, ER_QUEUE_SUPERVISOR, false, 0), 0);
    CHECK_OK(er_bus_consume(bus, ER_QUEUE_SUPERVISOR, 1, collect, &b, &err));
    CHECK_INT(consumers_of(bus, ER_QUEUE_SUPERVISOR), 2);
    long purged = -1;
    CHECK_OK(er_bus_purge(bus, ER_QUEUE_RESULTS, &purged, &err));
    CHECK_INT(purged, 0);
    er_bus_close(bus);
    CHECK_INT(a.n + b.n, 3);
    collector_release(&a);
    collector_release(&b);
}

/* ---- AMQP only ---- */

/* The queues are of the type the URL asks for (queue_type=quorum runs the suite
 * on quorum queues, in a vhost of their own): the broker refuses to declare
 * them again as the other type, and the error says what to do. */
static void test_queue_type(void)
{
    bool quorum = strstr(bus_url, "queue_type=quorum") != NULL;
    char *other;
    if (quorum) {
        const char *at = strstr(bus_url, "queue_type=quorum");
        other = er_xasprintf("%.*squeue_type=classic%s", (int)(at - bus_url), bus_url,
                             at + strlen("queue_type=quorum"));
    } else {
        other = er_url_with_query(bus_url, "queue_type", "quorum");
    }
    er_error err = { 0 };
    er_bus *bus = (er_bus *)&err;
    CHECK_INT(er_bus_open(&bus, other, &err), ER_ECONFLICT);
    CHECK(bus == NULL);
    CHECK(strstr(err.msg, "bus.queue_type") && strstr(err.msg, quorum ? "classic" : "quorum"));
    free(other);
    /* The suite's own type still opens. */
    CHECK_OK(er_bus_open(&bus, bus_url, &err));
    er_bus_close(bus);
}

static er_bus_verdict die(const er_bus_msg *m, void *payload)
{
    (void)m;
    (void)payload;
    _exit(3);
}

/* A consumer process on agent.data that dies in the handler of its first message. */
static pid_t start_dying_consumer(er_bus *bus, bool wait_ready)
{
    pid_t pid = fork();
    if (pid == 0) {
        er_error err = { 0 };
        er_bus *child = NULL;
        if (er_bus_open(&child, bus_url, &err) != 0 ||
            er_bus_consume(child, "agent.data", 1, die, NULL, &err) != 0)
            _exit(2);
        sleep(30);
        _exit(4);
    }
    CHECK(pid > 0);
    if (wait_ready) /* later ones find the message waiting and die at once */
        CHECK_INT(wait_info(bus, "agent.data", true, 1), 1);
    return pid;
}

/* A consumer process dies holding a message: the broker gives it to another. */
static void test_crash_redelivery(void)
{
    er_bus *bus = open_clean(); /* no threads yet: safe to fork */
    pid_t pid = start_dying_consumer(bus, true);
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.data", "crash") == 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3); /* died in the handler */
    er_error err = { 0 };
    collector c;
    collector_init(&c, ACK_ALL);
    CHECK_OK(er_bus_consume(bus, "agent.data", 1, collect, &c, &err));
    CHECK(wait_count(&c, &c.returned, 1, WAIT_MS));
    er_bus_close(bus);
    CHECK_INT(c.n, 1);
    if (c.n >= 1) {
        CHECK_STR(c.items[0].body, "crash");
        CHECK_INT(c.items[0].attempts, 2); /* the crash counted as the first */
    }
    collector_release(&c);
}

/* Each crash counts: the message ends dead-lettered, not looping. */
static void test_crash_loop_dead_letters(void)
{
    er_bus *bus = open_clean(); /* no threads yet: safe to fork */
    bool published = false;
    for (int i = 1; i <= ER_BUS_MAX_ATTEMPTS; i++) {
        pid_t pid = start_dying_consumer(bus, !published);
        if (!published)
            published = publish(bus, ER_EXCHANGE_AGENT, "agent.data", "killer") == 0;
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    }
    CHECK(published);
    /* The next consumer gets it redelivered at the last attempt: dead letter. */
    er_error err = { 0 };
    collector c, dead;
    collector_init(&c, ACK_ALL);
    collector_init(&dead, ACK_ALL);
    dead_log log = { .mu = PTHREAD_MUTEX_INITIALIZER };
    er_bus_on_dead_letter(bus, on_dead, &log);
    CHECK_OK(er_bus_consume(bus, ER_QUEUE_DEAD, 1, collect, &dead, &err));
    CHECK_OK(er_bus_consume(bus, "agent.data", 1, collect, &c, &err));
    CHECK(wait_count(&dead, &dead.returned, 1, WAIT_MS));
    CHECK_INT(log.n, 1);
    CHECK_STR(log.reason[0], "its worker died or lost the broker at each of its 5 attempts");
    CHECK_INT(wait_info(bus, "agent.data", false, 0), 0);
    er_bus_close(bus);
    CHECK_INT(c.n, 0);
    CHECK_INT(dead.n, 1);
    if (dead.n >= 1) {
        CHECK_STR(dead.items[0].body, "killer");
        CHECK_STR(dead.items[0].key, "agent.data");
        CHECK_INT(dead.items[0].attempts, ER_BUS_MAX_ATTEMPTS);
    }
    collector_release(&c);
    collector_release(&dead);
}

static int run_script(const char *cmd)
{
    const char *script = getenv("ERRAND_TEST_RABBITMQ_SCRIPT");
    const char *state = getenv("ERRAND_TEST_RABBITMQ_STATE");
    char *argv[] = { "bash", (char *)script, (char *)cmd, (char *)state, NULL };
    pid_t pid;
    if (posix_spawnp(&pid, "bash", NULL, NULL, argv, environ) != 0)
        return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct {
    er_bus *bus;
    int rc;
} pub_job;

static void *publish_later(void *arg)
{
    pub_job *j = arg;
    j->rc = publish(j->bus, ER_EXCHANGE_AGENT, "agent.research", "during");
    return NULL;
}

/* The broker goes away and comes back: publishes wait for it, consumers reconnect. */
static void test_broker_restart(void)
{
    if (!getenv("ERRAND_TEST_RABBITMQ_SCRIPT") || !getenv("ERRAND_TEST_RABBITMQ_STATE")) {
        fprintf(stderr, "note: ERRAND_TEST_RABBITMQ_SCRIPT/STATE unset: no broker restart\n");
        return;
    }
    er_bus *bus = open_clean();
    er_error err = { 0 };
    /* A second handle that gives up on an absent broker after 300 ms. */
    er_bus *impatient = NULL;
    char *url =
        er_xasprintf("%s%spublish_timeout_ms=300", bus_url, strchr(bus_url, '?') ? "&" : "?");
    CHECK_OK(er_bus_open(&impatient, url, &err));
    free(url);
    collector c, held;
    collector_init(&c, ACK_ALL);
    collector_init(&held, BLOCK);
    CHECK_OK(er_bus_consume(bus, "agent.research", 1, collect, &c, &err));
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.research", "before") == 0);
    CHECK(wait_count(&c, &c.returned, 1, WAIT_MS));
    /* A message in hand while the connection drops: its handler is told. */
    CHECK_OK(er_bus_consume(bus, "agent.browser", 1, collect, &held, &err));
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.browser", "held") == 0);
    CHECK(wait_count(&held, &held.n, 1, WAIT_MS));

    CHECK_INT(run_script("stop_app"), 0);
    if (impatient) {
        CHECK_INT(er_bus_publish(impatient, ER_EXCHANGE_AGENT, "agent.research", "x", 1, &err),
                  ER_EUNAVAIL);
        CHECK(strstr(err.msg, "is it running") != NULL);
        er_bus_close(impatient);
    }
    pub_job job = { bus, -1 };
    pthread_t t;
    CHECK(pthread_create(&t, NULL, publish_later, &job) == 0);
    CHECK_INT(run_script("start_app"), 0);
    pthread_join(t, NULL);
    CHECK_INT(job.rc, 0); /* it waited for the broker to come back */
    CHECK(publish(bus, ER_EXCHANGE_AGENT, "agent.research", "after") == 0);
    CHECK(wait_count(&c, &c.returned, 3, 30000));
    CHECK_INT(wait_info(bus, "agent.research", true, 1), 1);
    /* The held message comes back on the new connection (attempt 2); the first
     * handler learnt that it no longer had it. */
    release(&held);
    CHECK(wait_count(&held, &held.returned, 2, 30000));
    CHECK_INT(held.lost, 1);
    if (held.n >= 2) {
        CHECK_STR(held.items[1].body, "held");
        CHECK_INT(held.items[1].attempts, 2);
    }
    er_bus_close(bus);
    collector_release(&held);
    int during = 0, after = 0;
    for (int i = 0; i < c.n && i < MAXSEEN; i++) {
        during += strcmp(c.items[i].body, "during") == 0;
        after += strcmp(c.items[i].body, "after") == 0;
    }
    CHECK_INT(during, 1);
    CHECK_INT(after, 1);
    collector_release(&c);
}

int main(void)
{
    bus_url = getenv("ERRAND_TEST_BUS_URL");
    if (er_str_empty(bus_url))
        bus_url = NULL;
    amqp = bus_url && er_str_starts(bus_url, "amqp");
#ifndef ERRAND_WITH_AMQP
    if (amqp) {
        fprintf(stderr, "skip: built without ERRAND_WITH_AMQP\n");
        return 77;
    }
#endif
    test_tables();
    test_topic_match();
    test_open_errors();
    test_api_errors();
    test_routing();
    test_concurrency();
    test_concurrent_publishers();
    test_retry();
    test_dead_letter();
    test_stop_with_message_in_hand();
    test_queue_info();
    if (amqp) {
        test_queue_type();
        test_crash_redelivery();
        test_crash_loop_dead_letters();
        test_broker_restart();
    }
    return check_done();
}
