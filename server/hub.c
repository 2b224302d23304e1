/* hub.c — fans task events out to WebSocket connections.
 *
 * One pattern subscription per server ("events:*": every task tree's channel,
 * tokens included) instead of one per connection: a Redis subscription costs
 * a connection and a thread, and one subscription keeps each tree's events in
 * publish order.  Subscriptions are keyed by task tree (root id) or by
 * conversation; which conversation a tree belongs to is read from the store
 * once per root (the task row exists before any of its events) and remembered
 * in a small direct-mapped table.
 *
 * Threads: on_event runs on the cache's delivery thread (in-process: the
 * publisher's own).  The hub's lock is held while delivering, so after
 * srv_hub_remove_all returns no delivery to that sink is running or will run;
 * sinks must only queue (ws.c does) and never block. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/log.h"

#include <pthread.h>
#include <stdlib.h>

#define NBUCKETS 256
#define NMEMO    4096
#define KEY_MAX  64
#define PREFIX   "events:"

typedef struct hsub {
    struct hsub *next;
    srv_sink *sink;
    bool conv;
    char key[KEY_MAX];
} hsub;

typedef struct memo {
    char root[ER_ID_LEN];
    char conv[ER_ID_LEN]; /* "" when the tree has no conversation */
} memo;

struct srv_hub {
    er_env *env;
    pthread_mutex_t lock; /* guards buckets, nconv and memo */
    hsub *buckets[NBUCKETS];
    size_t nconv;       /* conversation subscriptions */
    atomic_size_t live; /* all subscriptions: the lock-free "anyone?" test */
    memo *memo;
    er_cache_sub *sub;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t bucket_of(bool conv, const char *key)
{
    return (size_t)((hash_str(key) + (conv ? 7 : 0)) % NBUCKETS);
}

static void deliver(srv_hub *h, bool conv, const char *key, const char *msg, size_t len)
{
    for (hsub *s = h->buckets[bucket_of(conv, key)]; s; s = s->next)
        if (s->conv == conv && strcmp(s->key, key) == 0)
            s->sink->deliver(s->sink, msg, len);
}

/* Conversation of a root, from the memo or the store (lock not held). */
static void conv_of(srv_hub *h, const char *root, char out[ER_ID_LEN])
{
    size_t slot = (size_t)(hash_str(root) % NMEMO);
    pthread_mutex_lock(&h->lock);
    bool hit = strcmp(h->memo[slot].root, root) == 0;
    if (hit)
        memcpy(out, h->memo[slot].conv, ER_ID_LEN);
    pthread_mutex_unlock(&h->lock);
    if (hit)
        return;
    out[0] = '\0';
    er_store *st;
    er_task t;
    if (er_env_store(h->env, &st, NULL) == 0 && er_store_task_get(st, root, &t, NULL) == 0) {
        er_strlcpy(out, t.conversation_id, ER_ID_LEN);
        er_task_release(&t);
    }
    pthread_mutex_lock(&h->lock);
    er_strlcpy(h->memo[slot].root, root, ER_ID_LEN);
    memcpy(h->memo[slot].conv, out, ER_ID_LEN);
    pthread_mutex_unlock(&h->lock);
}

static void on_event(const char *channel, const char *msg, size_t len, void *payload)
{
    srv_hub *h = payload;
    if (atomic_load_explicit(&h->live, memory_order_relaxed) == 0 ||
        !er_str_starts(channel, PREFIX))
        return;
    const char *root = channel + strlen(PREFIX);
    if (strlen(root) >= KEY_MAX)
        return;
    pthread_mutex_lock(&h->lock);
    bool want_conv = h->nconv > 0;
    deliver(h, false, root, msg, len);
    pthread_mutex_unlock(&h->lock);
    if (!want_conv)
        return;
    char conv[ER_ID_LEN];
    conv_of(h, root, conv);
    if (!conv[0])
        return;
    pthread_mutex_lock(&h->lock);
    deliver(h, true, conv, msg, len);
    pthread_mutex_unlock(&h->lock);
}

int srv_hub_new(srv_hub **out, er_env *env, er_error *err)
{
    er_cache *cache;
    int rc = er_env_cache(env, &cache, err);
    if (rc)
        return rc;
    srv_hub *h = er_xcalloc(1, sizeof *h);
    h->env = env;
    h->memo = er_xcalloc(NMEMO, sizeof *h->memo);
    pthread_mutex_init(&h->lock, NULL);
    rc = er_cache_subscribe(cache, PREFIX "*", on_event, h, &h->sub, err);
    if (rc) {
        srv_hub_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void srv_hub_free(srv_hub *h)
{
    if (!h)
        return;
    er_cache_unsubscribe(h->sub);
    for (size_t i = 0; i < NBUCKETS; i++) {
        while (h->buckets[i]) {
            hsub *s = h->buckets[i];
            h->buckets[i] = s->next;
            free(s);
        }
    }
    free(h->memo);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

int srv_hub_add(srv_hub *h, srv_sink *sink, bool conv, const char *key, er_error *err)
{
    if (er_str_empty(key) || strlen(key) >= KEY_MAX)
        return er_error_set(err, ER_EINVAL, "subscription key is empty or too long");
    pthread_mutex_lock(&h->lock);
    size_t b = bucket_of(conv, key);
    for (hsub *s = h->buckets[b]; s; s = s->next) {
        if (s->sink == sink && s->conv == conv && strcmp(s->key, key) == 0) {
            pthread_mutex_unlock(&h->lock);
            return 0;
        }
    }
    hsub *s = er_xcalloc(1, sizeof *s);
    s->sink = sink;
    s->conv = conv;
    er_strlcpy(s->key, key, sizeof s->key);
    s->next = h->buckets[b];
    h->buckets[b] = s;
    if (conv)
        h->nconv++;
    atomic_fetch_add(&h->live, 1);
    if (sink->added)
        sink->added(sink, conv, key);
    pthread_mutex_unlock(&h->lock);
    return 0;
}

/* Unlinks sink's subscriptions matching (conv, key), or all of them when all. */
static void remove_where(srv_hub *h, srv_sink *sink, bool all, bool conv, const char *key)
{
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < NBUCKETS; i++) {
        if (!all && i != bucket_of(conv, key))
            continue;
        for (hsub **pp = &h->buckets[i]; *pp;) {
            hsub *s = *pp;
            if (s->sink == sink && (all || (s->conv == conv && strcmp(s->key, key) == 0))) {
                *pp = s->next;
                if (s->conv)
                    h->nconv--;
                atomic_fetch_sub(&h->live, 1);
                free(s);
            } else {
                pp = &s->next;
            }
        }
    }
    pthread_mutex_unlock(&h->lock);
}

void srv_hub_remove(srv_hub *h, srv_sink *sink, bool conv, const char *key)
{
    if (!er_str_empty(key))
        remove_where(h, sink, false, conv, key);
}

void srv_hub_remove_all(srv_hub *h, srv_sink *sink)
{
    remove_where(h, sink, true, false, NULL);
}
