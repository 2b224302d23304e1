/* env.c — the process's handles, opened lazily on first use.
 *
 * One mutex guards the lazy opens; after a handle is open, getters return it
 * without further locking beyond that mutex (handles are themselves thread-safe). */
#include "errand/env.h"
#include "errand/alloc.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct er_env {
    er_config *cfg;
    pthread_mutex_t lock;
    er_store *store;
    er_bus *bus;
    er_cache *cache;
    er_llm *llm;
    char user_id[ER_ID_LEN];
    struct watch *watches;       /* guarded by lock */
    er_cache_sub *control;       /* subscription to the control channel */
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
    if (!env->bus)
        rc = er_bus_open(&env->bus, env->cfg->rabbitmq_url, err);
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
        rc = er_llm_open(&env->llm, env->cfg, err);
    *out = env->llm;
    pthread_mutex_unlock(&env->lock);
    return rc;
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
        w->next = env->watches;
        env->watches = w;
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

void er_env_close(er_env *env)
{
    if (!env)
        return;
    /* Consumers first: they use every other handle. */
    if (env->bus)
        er_bus_close(env->bus);
    er_cache_unsubscribe(env->control);
    while (env->watches) {
        struct watch *w = env->watches;
        env->watches = w->next;
        free(w);
    }
    if (env->llm)
        er_llm_close(env->llm);
    if (env->cache)
        er_cache_close(env->cache);
    if (env->store)
        er_store_close(env->store);
    if (env->cfg) {
        er_config_release(env->cfg);
        free(env->cfg);
    }
    pthread_mutex_destroy(&env->lock);
    free(env);
}
