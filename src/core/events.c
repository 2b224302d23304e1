/* events.c — task events: one row per step in the store, one message per event
 * (and per streamed token) on the cache's pub/sub. */
#include "errand/events.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void er_event_channel(const char *root_id, char *out, size_t outsize)
{
    snprintf(out, outsize, "events:%s", root_id);
}

/* While the cache is down every token fails to publish: one warning a second,
 * saying how many were left unsaid, is enough. */
static void warn_lost(const char *what, const er_error *err)
{
    static _Atomic int64_t next_ms;
    static atomic_long quiet;
    int64_t now = er_mono_ms(), next = atomic_load(&next_ms);
    if (now < next || !atomic_compare_exchange_strong(&next_ms, &next, now + 1000)) {
        atomic_fetch_add(&quiet, 1);
        return;
    }
    long n = atomic_exchange(&quiet, 0);
    er_log(ER_LOG_WARN, "events",
           "%s: %s (followers fall back to the store; %ld similar "
           "failures since the last warning)",
           what, err->msg, n);
}

static void publish(er_env *env, const char *root_id, const char *payload, size_t len, bool global)
{
    er_cache *cache;
    er_error err = { 0 };
    if (er_env_cache(env, &cache, &err)) {
        warn_lost("cannot publish an event", &err);
        return;
    }
    char channel[64];
    er_event_channel(root_id, channel, sizeof channel);
    if (er_cache_publish(cache, channel, payload, len, &err))
        warn_lost("an event was not published", &err);
    if (global && er_cache_publish(cache, ER_CHANNEL_ALL, payload, len, &err))
        warn_lost("an event was not published", &err);
}

/* Publishes a stored event (TAKES data). */
static void publish_stored(er_env *env, const char *root_id, const char *task_id, int64_t id,
                           const char *kind, cJSON *data)
{
    cJSON *msg = cJSON_CreateObject();
    er_json_add_num(msg, "id", (double)id);
    er_json_add_str(msg, "task_id", task_id);
    er_json_add_str(msg, "root", root_id);
    er_json_add_str(msg, "kind", kind);
    er_json_add(msg, "data", data);
    er_json_add_num(msg, "ts", (double)er_time_ms());
    char *payload = er_json_print(msg);
    publish(env, root_id, payload, strlen(payload), true);
    free(payload);
    cJSON_Delete(msg);
}

int er_event_emit_leased(er_env *env, const er_lease *lease, const char *root_id,
                         const char *task_id, const char *step_key, const char *kind, cJSON *data,
                         bool *stored, er_error *err)
{
    if (stored)
        *stored = false;
    if (!data)
        data = cJSON_CreateObject();
    char *text = er_json_print(data);
    int64_t id = 0;
    er_store *st;
    int rc = er_env_store(env, &st, err);
    if (!rc && lease)
        rc = er_store_event_add_leased(st, lease, step_key, kind, text, &id, err);
    else if (!rc)
        rc = er_store_event_add(st, task_id, step_key, kind, text, &id, err);
    free(text);
    if (rc || (step_key && id == 0)) {
        cJSON_Delete(data);
        return rc;
    }
    if (stored)
        *stored = true;
    publish_stored(env, root_id, task_id, id, kind, data);
    return 0;
}

int er_event_emit(er_env *env, const char *root_id, const char *task_id, const char *step_key,
                  const char *kind, cJSON *data, er_error *err)
{
    return er_event_emit_leased(env, NULL, root_id, task_id, step_key, kind, data, NULL, err);
}

void er_event_token(er_env *env, const char *root_id, const char *task_id, const char *agent,
                    const char *text, size_t len)
{
    /* Built by hand, not through cJSON: this runs once per streamed token. */
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b, "{\"task_id\":\"%s\",\"root\":\"%s\",\"kind\":\"token\",\"data\":{\"agent\":",
                  task_id, root_id);
    er_json_escape(&b, agent ? agent : "", agent ? strlen(agent) : 0);
    er_buf_puts(&b, ",\"text\":");
    er_json_escape(&b, text, len);
    er_buf_puts(&b, "}}");
    publish(env, root_id, b.ptr, b.len, false);
    er_buf_release(&b);
}
