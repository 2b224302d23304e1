/* loadgen.c — the load generator of `make bench`: submits many tasks at once
 * through liberrand (er_task_submit, as `errand ask` does) and times each from
 * submission to its "end" event.  Configuration comes from the environment
 * like errand's (DATABASE_URL, RABBITMQ_URL, REDIS_URL, ERRAND_LLM, …).
 *
 *   errand_loadgen [-n TASKS] [-c CONCURRENCY] [-w WARMUP] [--agent NAME]
 *                  [--local-workers N]
 *
 * CONCURRENCY client threads each submit a task and wait for its end before
 * the next (a closed loop).  The first WARMUP tasks are not counted.  With an
 * in-process bus, --local-workers N runs the consumers here (local mode).
 * Ends are read from the "events" channel (one subscription for all tasks),
 * with a store lookup as the backstop.  Prints one JSON object: tasks, failed,
 * tasks_per_s, latency_ms {p50, p90, p99, max}. */
#include "errand/alloc.h"
#include "errand/env.h"
#include "errand/events.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/tasks.h"
#include "errand/workers.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 60000

typedef struct slot {
    char id[ER_ID_LEN];
    uint64_t t_submit, t_end; /* er_mono_ns */
    bool ended, done;
    pthread_cond_t cv;
} slot;

typedef struct load {
    er_env *env;
    const char *agent;
    long n, conc, warmup;
    slot *slots;
    atomic_long next;
    pthread_mutex_t mu; /* slots' ended/done/t_end and the index */
    long *index;        /* open addressing: slot number + 1, 0 = empty */
    size_t cap;
} load;

static size_t hash_id(const char *id, size_t cap)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)(h % cap);
}

/* Caller holds mu. */
static void index_put(load *l, long i)
{
    size_t k = hash_id(l->slots[i].id, l->cap);
    while (l->index[k])
        k = (k + 1) % l->cap;
    l->index[k] = i + 1;
}

static slot *index_get(load *l, const char *id)
{
    for (size_t k = hash_id(id, l->cap); l->index[k]; k = (k + 1) % l->cap)
        if (strcmp(l->slots[l->index[k] - 1].id, id) == 0)
            return &l->slots[l->index[k] - 1];
    return NULL;
}

static void on_event(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    load *l = payload;
    cJSON *ev = NULL;
    if (er_json_parse(&ev, msg, len, NULL))
        return;
    const char *task = er_json_str(ev, "task_id");
    if (er_str_eq(er_json_str(ev, "kind"), "end") && task) {
        const char *status = er_json_str(er_json_obj(ev, "data"), "status");
        pthread_mutex_lock(&l->mu);
        slot *s = index_get(l, task);
        if (s && !s->ended) {
            s->ended = true;
            s->done = er_str_eq(status, "done");
            s->t_end = er_mono_ns();
            pthread_cond_signal(&s->cv);
        }
        pthread_mutex_unlock(&l->mu);
    }
    cJSON_Delete(ev);
}

/* Backstop for a lost event: the stored status. */
static bool ended_in_store(load *l, slot *s)
{
    er_store *st;
    er_task_status status;
    if (er_env_store(l->env, &st, NULL) || er_store_task_status(st, s->id, &status, NULL) ||
        !er_task_status_final(status))
        return false;
    s->ended = true;
    s->done = status == ER_TASK_DONE;
    s->t_end = er_mono_ns();
    return true;
}

static void wait_end(load *l, slot *s)
{
    uint64_t give_up = er_mono_ns() + (uint64_t)WAIT_MS * 1000000ULL;
    pthread_mutex_lock(&l->mu);
    while (!s->ended && er_mono_ns() < give_up) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        if (pthread_cond_timedwait(&s->cv, &l->mu, &ts) != 0 && !s->ended) {
            pthread_mutex_unlock(&l->mu);
            bool ended = ended_in_store(l, s);
            pthread_mutex_lock(&l->mu);
            if (ended)
                break;
        }
    }
    pthread_mutex_unlock(&l->mu);
}

static void *client(void *arg)
{
    load *l = arg;
    for (;;) {
        long i = atomic_fetch_add(&l->next, 1);
        if (i >= l->n)
            return NULL;
        slot *s = &l->slots[i];
        char request[64];
        snprintf(request, sizeof request, "bench task %ld", i);
        er_id_new(s->id);
        pthread_mutex_lock(&l->mu);
        index_put(l, i);
        pthread_mutex_unlock(&l->mu);
        er_submit sub = { .request = request, .agent = l->agent, .task_id = s->id };
        er_error err = { 0 };
        s->t_submit = er_mono_ns();
        if (er_task_submit(l->env, &sub, NULL, NULL, &err)) {
            fprintf(stderr, "errand_loadgen: task %ld: %s\n", i, err.msg);
            pthread_mutex_lock(&l->mu);
            s->ended = true;
            pthread_mutex_unlock(&l->mu);
            continue;
        }
        wait_end(l, s);
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, long n, double p)
{
    if (n == 0)
        return NAN;
    double k = (double)(n - 1) * p / 100.0;
    long lo = (long)k, hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (k - (double)lo);
}

static void report(const load *l)
{
    double *lat = er_xcalloc((size_t)l->n + 1, sizeof *lat);
    long m = 0, failed = 0;
    uint64_t first = UINT64_MAX, last = 0;
    for (long i = l->warmup; i < l->n; i++) {
        const slot *s = &l->slots[i];
        if (!s->done) {
            failed++;
            continue;
        }
        lat[m++] = (double)(s->t_end - s->t_submit) / 1e6;
        first = s->t_submit < first ? s->t_submit : first;
        last = s->t_end > last ? s->t_end : last;
    }
    qsort(lat, (size_t)m, sizeof *lat, by_value);
    double secs = m ? (double)(last - first) / 1e9 : 0;
    printf("{\"tasks\": %ld, \"failed\": %ld, \"concurrency\": %ld, \"seconds\": %.3f, "
           "\"tasks_per_s\": %.1f, \"latency_ms\": {\"p50\": %.2f, \"p90\": %.2f, "
           "\"p99\": %.2f, \"max\": %.2f}}\n",
           m, failed, l->conc, secs, secs > 0 ? (double)m / secs : 0.0, pct(lat, m, 50),
           pct(lat, m, 90), pct(lat, m, 99), m ? lat[m - 1] : NAN);
    free(lat);
}

static int usage(void)
{
    fprintf(stderr, "usage: errand_loadgen [-n TASKS] [-c CONCURRENCY] [-w WARMUP] "
                    "[--agent NAME] [--local-workers N]\n");
    return 2;
}

static int parse(load *l, long *local, int argc, char **argv)
{
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return -1;
        const char *o = argv[i], *v = argv[i + 1];
        long x = 0;
        if (strcmp(o, "--agent") == 0) {
            l->agent = v;
            continue;
        }
        if (er_str_to_long(v, &x) || x < 0)
            return -1;
        if (strcmp(o, "-n") == 0)
            l->n = x;
        else if (strcmp(o, "-c") == 0 && x > 0)
            l->conc = x;
        else if (strcmp(o, "-w") == 0)
            l->warmup = x;
        else if (strcmp(o, "--local-workers") == 0)
            *local = x;
        else
            return -1;
    }
    return l->warmup < l->n ? 0 : -1;
}

static int fail(const er_error *err)
{
    fprintf(stderr, "errand_loadgen: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv)
{
    load l = { .agent = "code", .n = 2000, .conc = 32, .warmup = 200 };
    long local = 0;
    if (parse(&l, &local, argc, argv))
        return usage();
    er_error err = { 0 };
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    if (er_config_load(cfg, NULL, &err))
        return fail(&err);
    er_log_level lvl;
    if (er_log_parse_level(cfg->log_level, &lvl) == 0)
        er_log_set_level(lvl);
    er_env_new(&l.env, cfg, &err);
    er_cache *cache;
    er_bus *bus;
    er_cache_sub *sub = NULL;
    char uid[ER_ID_LEN];
    int rc = er_env_bus(l.env, &bus, &err);
    if (!rc && er_bus_is_local(bus))
        rc = er_workers_start(l.env, "all", local ? (int)local : 4, &err);
    if (!rc)
        rc = er_env_user_id(l.env, uid, &err); /* opens and migrates the store */
    if (!rc)
        rc = er_env_cache(l.env, &cache, &err);
    if (!rc)
        rc = er_cache_subscribe(cache, ER_CHANNEL_ALL, on_event, &l, &sub, &err);
    if (rc) {
        er_env_close(l.env);
        return fail(&err);
    }
    l.slots = er_xcalloc((size_t)l.n, sizeof *l.slots);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (long i = 0; i < l.n; i++)
        pthread_cond_init(&l.slots[i].cv, &ca);
    pthread_condattr_destroy(&ca);
    l.cap = (size_t)l.n * 2 + 1;
    l.index = er_xcalloc(l.cap, sizeof *l.index);
    pthread_mutex_init(&l.mu, NULL);
    atomic_init(&l.next, 0);
    pthread_t *t = er_xcalloc((size_t)l.conc, sizeof *t);
    for (long i = 0; i < l.conc; i++)
        pthread_create(&t[i], NULL, client, &l);
    for (long i = 0; i < l.conc; i++)
        pthread_join(t[i], NULL);
    report(&l);
    er_cache_unsubscribe(sub);
    er_env_close(l.env);
    for (long i = 0; i < l.n; i++)
        pthread_cond_destroy(&l.slots[i].cv);
    free(l.slots);
    free(l.index);
    free(t);
    return 0;
}
