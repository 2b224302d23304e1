/* env.c — the process's handles, opened lazily on first use.
 *
 * One mutex guards the lazy opens; after a handle is open, getters return it
 * without further locking beyond that mutex (handles are themselves thread-safe). */
#include "errand/env.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/browser_pool.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/mcp.h"
#include "errand/str.h"
#include "errand/url.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct er_env {
    er_config *cfg;
    pthread_mutex_t lock;
    er_store *store;
    er_bus *bus;
    er_cache *cache;
    er_llm *llm;
    er_memory *memory;
    er_browser_pool *browsers; /* started on first use */
    struct er_mcp *mcp;
    char user_id[ER_ID_LEN];
    struct watch *watches; /* guarded by lock */
    er_cache_sub *control; /* subscription to the control channel */
    /* Polls the store for tasks ended (cancelled, failed by the watchdog) by processes
     * that share the store but
     * not the cache (two local-mode processes); runs only while something is watched. */
    pthread_t poller;
    bool poller_running;
    bool closing;
    bool interrupted; /* er_env_interrupt: guarded by lock */
    pthread_cond_t poll_cond;
    /* er_env_tick: a thread calling tick_fn every tick_ms until closing. */
    pthread_t ticker;
    bool ticker_running;
    int tick_ms;
    void (*tick_fn)(er_env *env, void *payload);
    void *tick_payload;
    pthread_cond_t tick_cond;
};

struct watch {
    struct watch *next;
    char task_id[ER_ID_LEN];
    volatile int *flag;
};

int er_env_new(er_env **out, er_config *cfg, er_error *err)
{
    (void)err;
    er_env *env = er_xcalloc(1, sizeof *env);
    env->cfg = cfg;
    pthread_mutex_init(&env->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&env->poll_cond, &ca);
    pthread_cond_init(&env->tick_cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = env;
    return 0;
}

er_config *er_env_config(er_env *env)
{
    return env->cfg;
}

int er_env_store(er_env *env, er_store **out, er_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&env->lock);
    if (!env->store) {
        er_store *st = NULL;
        rc = er_store_open(&st, env->cfg->database_url, err);
        if (!rc) {
            rc = er_store_migrate(st, NULL, err);
            if (rc)
                er_store_close(st);
            else
                env->store = st;
        }
    }
    *out = env->store;
    pthread_mutex_unlock(&env->lock);
    return rc;
}

int er_env_bus(er_env *env, er_bus **out, er_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&env->lock);
    if (!env->bus) {
        /* The queue type reaches the backend in its URL, like its other options. */
        const char *url = env->cfg->rabbitmq_url, *type = env->cfg->bus_queue_type;
        char *full = !er_str_empty(url) && !er_str_empty(type)
                         ? er_url_with_query(url, "queue_type", type)
                         : NULL;
        rc = er_bus_open(&env->bus, full ? full : url, err);
        free(full);
    }
    *out = env->bus;
    pthread_mutex_unlock(&env->lock);
    return rc;
}

int er_env_cache(er_env *env, er_cache **out, er_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&env->lock);
    if (!env->cache)
        rc = er_cache_open(&env->cache, env->cfg->redis_url, err);
    *out = env->cache;
    pthread_mutex_unlock(&env->lock);
    return rc;
}

int er_env_llm(er_env *env, er_llm **out, er_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&env->lock);
    if (!env->llm)
        rc = er_llm_open(&env->llm, env->cfg, er_agents, err);
    *out = env->llm;
    pthread_mutex_unlock(&env->lock);
    return rc;
}

int er_env_memory(er_env *env, er_memory **out, er_error *err)
{
    er_store *st;
    int rc = er_env_store(env, &st, err);
    *out = NULL;
    if (rc)
        return rc;
    pthread_mutex_lock(&env->lock);
    if (!env->memory) {
        er_memory_opts o;
        er_memory_opts_from_config(&o, env->cfg);
        rc = er_memory_open(&env->memory, st, &o, err);
    }
    *out = env->memory;
    pthread_mutex_unlock(&env->lock);
    return rc;
}

int er_env_browsers(er_env *env, er_browser_pool **out, er_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&env->lock);
    if (!env->browsers) {
        er_browser_pool_opts o;
        er_browser_pool_opts_from_config(&o, env->cfg);
        rc = er_browser_pool_new(&env->browsers, &o, err);
    }
    *out = env->browsers;
    pthread_mutex_unlock(&env->lock);
    return rc;
}

int er_env_mcp(er_env *env, er_mcp **out, er_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&env->lock);
    if (!env->mcp)
        rc = er_mcp_new(&env->mcp, env->cfg, env, err);
    *out = env->mcp;
    pthread_mutex_unlock(&env->lock);
    return rc;
}

void er_env_adopt(er_env *env, er_store *st, er_bus *bus, er_cache *cache)
{
    pthread_mutex_lock(&env->lock);
    if (st) {
        er_store_close(env->store);
        env->store = st;
    }
    if (bus) {
        er_bus_close(env->bus);
        env->bus = bus;
    }
    if (cache) {
        er_cache_close(env->cache);
        env->cache = cache;
    }
    pthread_mutex_unlock(&env->lock);
}

int er_env_user_id(er_env *env, char out[ER_ID_LEN], er_error *err)
{
    er_store *st;
    int rc = er_env_store(env, &st, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&env->lock);
    if (!env->user_id[0])
        rc = er_store_user_ensure(st, env->cfg->user, "admin", env->user_id, err);
    memcpy(out, env->user_id, ER_ID_LEN);
    pthread_mutex_unlock(&env->lock);
    return rc;
}

void er_env_cancel_local(er_env *env, const char *task_id)
{
    pthread_mutex_lock(&env->lock);
    for (struct watch *w = env->watches; w; w = w->next)
        if (strcmp(w->task_id, task_id) == 0)
            *w->flag = 1;
    pthread_mutex_unlock(&env->lock);
}

static void on_control(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    cJSON *j = NULL;
    if (er_json_parse(&j, msg, len, NULL) == 0 && er_json_str(j, "cancel"))
        er_env_cancel_local(payload, er_json_str(j, "cancel"));
    cJSON_Delete(j);
}

#define POLL_MS 300

/* Copies the watched ids out (OWNED by the caller) so the store is not queried
 * under the lock. */
static size_t watched_ids(er_env *env, char (**out)[ER_ID_LEN])
{
    size_t n = 0;
    for (struct watch *w = env->watches; w; w = w->next)
        n++;
    char(*ids)[ER_ID_LEN] = er_xcalloc(n ? n : 1, sizeof *ids);
    n = 0;
    for (struct watch *w = env->watches; w; w = w->next)
        memcpy(ids[n++], w->task_id, ER_ID_LEN);
    *out = ids;
    return n;
}

/* One query per ER_STORE_IDS_MAX watched tasks, however many run here.  A task
 * that ended elsewhere (cancelled, or failed by the watchdog) stops here too. */
static void cancel_those_ended(er_env *env, er_store *st, char (*ids)[ER_ID_LEN], size_t n)
{
    bool ended[ER_STORE_IDS_MAX];
    for (size_t at = 0; at < n; at += ER_STORE_IDS_MAX) {
        size_t k = n - at < ER_STORE_IDS_MAX ? n - at : ER_STORE_IDS_MAX;
        if (er_store_tasks_ended(st, (const char(*)[ER_ID_LEN])(ids + at), k, ended, NULL) != 0)
            return;
        for (size_t i = 0; i < k; i++)
            if (ended[i])
                er_env_cancel_local(env, ids[at + i]);
    }
}

/* now + ms on the monotonic clock the condition variables use. */
static struct timespec after_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (ms % 1000) * 1000000L;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

static void *poll_cancellations(void *arg)
{
    er_env *env = arg;
    pthread_mutex_lock(&env->lock);
    while (!env->closing) {
        if (!env->watches) { /* idle: no wake-ups at all */
            pthread_cond_wait(&env->poll_cond, &env->lock);
            continue;
        }
        struct timespec ts = after_ms(POLL_MS);
        pthread_cond_timedwait(&env->poll_cond, &env->lock, &ts);
        if (env->closing || !env->store)
            continue;
        char(*ids)[ER_ID_LEN];
        size_t n = watched_ids(env, &ids);
        er_store *st = env->store;
        pthread_mutex_unlock(&env->lock);
        cancel_those_ended(env, st, ids, n);
        free(ids);
        pthread_mutex_lock(&env->lock);
    }
    pthread_mutex_unlock(&env->lock);
    return NULL;
}

int er_env_watch_cancel(er_env *env, const char *task_id, volatile int *flag, er_error *err)
{
    er_cache *cache;
    int rc = er_env_cache(env, &cache, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&env->lock);
    if (!env->control)
        rc = er_cache_subscribe(cache, ER_CHANNEL_CONTROL, on_control, env, &env->control, err);
    if (!rc) {
        struct watch *w = er_xcalloc(1, sizeof *w);
        er_strlcpy(w->task_id, task_id, sizeof w->task_id);
        w->flag = flag;
        if (env->interrupted)
            *flag = 1;
        w->next = env->watches;
        env->watches = w;
        if (!env->poller_running &&
            pthread_create(&env->poller, NULL, poll_cancellations, env) == 0)
            env->poller_running = true;
        pthread_cond_signal(&env->poll_cond);
    }
    pthread_mutex_unlock(&env->lock);
    return rc;
}

static void *tick_main(void *arg)
{
    er_env *env = arg;
    pthread_mutex_lock(&env->lock);
    while (!env->closing) {
        struct timespec ts = after_ms(env->tick_ms);
        if (pthread_cond_timedwait(&env->tick_cond, &env->lock, &ts) == 0 || env->closing)
            continue;
        pthread_mutex_unlock(&env->lock);
        env->tick_fn(env, env->tick_payload);
        pthread_mutex_lock(&env->lock);
    }
    pthread_mutex_unlock(&env->lock);
    return NULL;
}

int er_env_tick(er_env *env, int interval_ms, void (*fn)(er_env *env, void *payload), void *payload,
                er_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&env->lock);
    if (!env->ticker_running && !env->closing) {
        env->tick_ms = interval_ms > 0 ? interval_ms : 1000;
        env->tick_fn = fn;
        env->tick_payload = payload;
        if (pthread_create(&env->ticker, NULL, tick_main, env) == 0)
            env->ticker_running = true;
        else
            rc = er_error_set(err, ER_EINTERNAL, "cannot start a thread");
    }
    pthread_mutex_unlock(&env->lock);
    return rc;
}

void er_env_unwatch_cancel(er_env *env, volatile int *flag)
{
    pthread_mutex_lock(&env->lock);
    for (struct watch **pp = &env->watches; *pp;) {
        struct watch *w = *pp;
        if (w->flag == flag) {
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
    pthread_mutex_unlock(&env->lock);
}

void er_env_stop(er_env *env)
{
    pthread_mutex_lock(&env->lock);
    er_bus *bus = env->bus;
    pthread_mutex_unlock(&env->lock);
    if (bus)
        er_bus_stop(bus);
}

void er_env_drain(er_env *env)
{
    pthread_mutex_lock(&env->lock);
    er_bus *bus = env->bus;
    pthread_mutex_unlock(&env->lock);
    /* Handlers still publish through env->bus while they finish: clear it only
     * once er_bus_close has joined them. */
    er_bus_close(bus);
    pthread_mutex_lock(&env->lock);
    env->bus = NULL;
    pthread_mutex_unlock(&env->lock);
}

void er_env_interrupt(er_env *env)
{
    pthread_mutex_lock(&env->lock);
    env->interrupted = true;
    for (struct watch *w = env->watches; w; w = w->next)
        *w->flag = 1;
    pthread_mutex_unlock(&env->lock);
}

bool er_env_interrupted(er_env *env)
{
    pthread_mutex_lock(&env->lock);
    bool v = env->interrupted;
    pthread_mutex_unlock(&env->lock);
    return v;
}

void er_env_close(er_env *env)
{
    if (!env)
        return;
    /* Consumers first: they use every other handle.  The cancellation poller and
     * the control subscription stay up meanwhile, so a task cancelled elsewhere
     * still stops the consumer that runs it. */
    if (env->bus)
        er_bus_close(env->bus);
    pthread_mutex_lock(&env->lock);
    env->closing = true;
    pthread_cond_signal(&env->poll_cond);
    pthread_cond_signal(&env->tick_cond);
    pthread_mutex_unlock(&env->lock);
    if (env->poller_running)
        pthread_join(env->poller, NULL);
    if (env->ticker_running)
        pthread_join(env->ticker, NULL);
    er_cache_unsubscribe(env->control);
    while (env->watches) {
        struct watch *w = env->watches;
        env->watches = w->next;
        free(w);
    }
    if (env->llm)
        er_llm_close(env->llm);
    er_browser_pool_free(env->browsers);
    er_mcp_free(env->mcp);
    if (env->cache)
        er_cache_close(env->cache);
    er_memory_close(env->memory); /* it borrows the store */
    if (env->store)
        er_store_close(env->store);
    if (env->cfg) {
        er_config_release(env->cfg);
        free(env->cfg);
    }
    pthread_cond_destroy(&env->poll_cond);
    pthread_cond_destroy(&env->tick_cond);
    pthread_mutex_destroy(&env->lock);
    free(env);
}
