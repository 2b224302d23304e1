/* inproc.c — the in-process cache backend: a hash map with per-key expiry,
 * atomic counters, and synchronous publish/subscribe.
 *
 * Threads: one mutex (mu) guards the map; another (sub_mu) guards the
 * subscriber list.  Expired keys are dropped when touched and by a sweep that
 * runs every so many sets (amortised O(1)), so keys that are never read again
 * do not pile up.
 *
 * Publish is on the hot path (every streamed token), so it delivers in the
 * publisher's thread from an immutable, refcounted snapshot of the subscriber
 * list: no lock is held while a callback runs, no allocation happens when
 * nothing is subscribed, and a message matching nobody costs one lookup. */
#include "errand/backend/cache_backend.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BUCKETS        64
#define MIN_SWEEP_INTERVAL 64

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    int64_t expires; /* er_mono_ms() deadline; 0: never */
    size_t len;
    char *val; /* len bytes + NUL */
    char key[];
} entry;

typedef struct isub {
    er_cache_sub base;
    atomic_int refs;    /* the subscriber's own + one per snapshot listing it */
    atomic_int running; /* callbacks in progress */
    atomic_bool dead;   /* set by unsubscribe: no new callbacks start */
    pthread_mutex_t mu; /* with idle: unsubscribe waits for running == 0 */
    pthread_cond_t idle;
    er_cache_msg_fn fn;
    void *payload;
    bool pattern;
    size_t len; /* of channel (for patterns: the prefix, '*' dropped) */
    char channel[];
} isub;

/* Immutable once published; replaced whole on every (un)subscribe. */
typedef struct snapshot {
    atomic_int refs;
    size_t nexact; /* subs[0, nexact): exact channels, sorted */
    size_t n;      /* subs[nexact, n): prefix patterns */
    isub *subs[];
} snapshot;

typedef struct icache {
    er_cache base;
    pthread_mutex_t mu;
    entry **buckets;
    size_t nbuckets;
    size_t count;
    size_t sets_since_sweep;
    uint64_t seed;

    pthread_mutex_t sub_mu;
    isub **subs;
    size_t nsubs, subcap;
    snapshot *snap;          /* NULL when nothing is subscribed */
    atomic_size_t live_subs; /* lock-free "anyone listening?" for publish */
} icache;

static icache *from_cache(er_cache *c)
{
    assert(c && c->be == &er_cache_inproc_backend);
    return (icache *)c;
}

/* ---- the map ---- */

static uint64_t hash_key(const icache *ic, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ ic->seed; /* FNV-1a, seeded per cache */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static void entry_free(entry *e)
{
    free(e->val);
    free(e);
}

/* 0 (never) for no TTL; saturates rather than overflow on absurd TTLs. */
static int64_t deadline(int64_t now, int64_t ttl_ms)
{
    if (ttl_ms <= 0)
        return 0;
    return ttl_ms < INT64_MAX - now ? now + ttl_ms : INT64_MAX;
}

static bool expired(const entry *e, int64_t now)
{
    return e->expires && e->expires <= now;
}

/* Returns the link pointing at key's live entry, or NULL; drops it if expired. */
static entry **lookup(icache *ic, const char *key, uint64_t h, int64_t now)
{
    for (entry **link = &ic->buckets[h & (ic->nbuckets - 1)]; *link; link = &(*link)->next) {
        entry *e = *link;
        if (e->hash != h || strcmp(e->key, key) != 0)
            continue;
        if (!expired(e, now))
            return link;
        *link = e->next;
        ic->count--;
        entry_free(e);
        return NULL;
    }
    return NULL;
}

static void unlink_entry(icache *ic, entry **link)
{
    entry *e = *link;
    *link = e->next;
    ic->count--;
    entry_free(e);
}

static void sweep(icache *ic, int64_t now)
{
    for (size_t i = 0; i < ic->nbuckets; i++) {
        entry **link = &ic->buckets[i];
        while (*link) {
            if (expired(*link, now))
                unlink_entry(ic, link);
            else
                link = &(*link)->next;
        }
    }
    ic->sets_since_sweep = 0;
}

static void grow(icache *ic)
{
    size_t n = ic->nbuckets * 2;
    entry **b = er_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < ic->nbuckets; i++) {
        entry *e = ic->buckets[i];
        while (e) {
            entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(ic->buckets);
    ic->buckets = b;
    ic->nbuckets = n;
}

/* Sweeping once per max(count, 64) sets keeps the cost amortised O(1) per set
 * while bounding dead entries to about the number of live ones. */
static void maybe_sweep(icache *ic, int64_t now)
{
    if (++ic->sets_since_sweep >= (ic->count > MIN_SWEEP_INTERVAL ? ic->count : MIN_SWEEP_INTERVAL))
        sweep(ic, now);
    if (ic->count >= ic->nbuckets)
        grow(ic);
}

static entry *insert(icache *ic, const char *key, uint64_t h)
{
    size_t klen = strlen(key);
    entry *e = er_xcalloc(1, sizeof *e + klen + 1);
    memcpy(e->key, key, klen + 1);
    e->hash = h;
    entry **head = &ic->buckets[h & (ic->nbuckets - 1)];
    e->next = *head;
    *head = e;
    ic->count++;
    return e;
}

static void store_value(entry *e, const void *val, size_t len)
{
    char *v = er_xmalloc(len + 1);
    memcpy(v, val, len);
    v[len] = '\0';
    free(e->val);
    e->val = v;
    e->len = len;
}

static int ip_get(er_cache *c, const char *key, char **out, size_t *len, er_error *err)
{
    icache *ic = from_cache(c);
    pthread_mutex_lock(&ic->mu);
    entry **link = lookup(ic, key, hash_key(ic, key), er_mono_ms());
    if (link) {
        const entry *e = *link;
        *out = er_xmalloc(e->len + 1);
        memcpy(*out, e->val, e->len + 1);
        if (len)
            *len = e->len;
    }
    pthread_mutex_unlock(&ic->mu);
    if (!link)
        return er_error_set(err, ER_ENOTFOUND, "cache key '%s' not found", key);
    return 0;
}

/* Under one lock: the values as of one instant. */
static int ip_mget(er_cache *c, const char *const *keys, size_t n, char **vals, size_t *lens,
                   er_error *err)
{
    (void)err;
    icache *ic = from_cache(c);
    int64_t now = er_mono_ms();
    pthread_mutex_lock(&ic->mu);
    for (size_t i = 0; i < n; i++) {
        entry **link = lookup(ic, keys[i], hash_key(ic, keys[i]), now);
        if (!link)
            continue;
        const entry *e = *link;
        vals[i] = er_xmalloc(e->len + 1);
        memcpy(vals[i], e->val, e->len + 1);
        lens[i] = e->len;
    }
    pthread_mutex_unlock(&ic->mu);
    return 0;
}

static int ip_set(er_cache *c, const char *key, const void *val, size_t len, int64_t ttl_ms,
                  er_error *err)
{
    (void)err;
    icache *ic = from_cache(c);
    uint64_t h = hash_key(ic, key);
    int64_t now = er_mono_ms();
    pthread_mutex_lock(&ic->mu);
    maybe_sweep(ic, now);
    entry **link = lookup(ic, key, h, now);
    entry *e = link ? *link : insert(ic, key, h);
    store_value(e, val, len);
    e->expires = deadline(now, ttl_ms);
    pthread_mutex_unlock(&ic->mu);
    return 0;
}

static int ip_del(er_cache *c, const char *key, er_error *err)
{
    (void)err;
    icache *ic = from_cache(c);
    pthread_mutex_lock(&ic->mu);
    entry **link = lookup(ic, key, hash_key(ic, key), er_mono_ms());
    if (link)
        unlink_entry(ic, link);
    pthread_mutex_unlock(&ic->mu);
    return 0;
}

/* Like Redis: only the canonical decimal form of a 64-bit integer counts. */
static bool parse_int64(const char *s, size_t len, int64_t *out)
{
    char canon[32];
    if (len == 0 || len > 20)
        return false;
    char *end;
    long long v = strtoll(s, &end, 10);
    if ((size_t)(end - s) != len)
        return false;
    int n = snprintf(canon, sizeof canon, "%lld", v);
    if ((size_t)n != len || memcmp(canon, s, len) != 0)
        return false;
    *out = (int64_t)v;
    return true;
}

static int ip_incr(er_cache *c, const char *key, int64_t by, int64_t ttl_ms, int64_t *out,
                   er_error *err)
{
    icache *ic = from_cache(c);
    uint64_t h = hash_key(ic, key);
    int64_t now = er_mono_ms(), cur = 0, next = 0;
    int rc = 0;
    pthread_mutex_lock(&ic->mu);
    entry **link = lookup(ic, key, h, now);
    if (link && !parse_int64((*link)->val, (*link)->len, &cur))
        rc = er_error_set(err, ER_EINVAL, "cache key '%s' does not hold an integer", key);
    else if (__builtin_add_overflow(cur, by, &next))
        rc = er_error_set(err, ER_EINVAL, "cache key '%s': increment would overflow", key);
    if (!rc) {
        char num[32];
        int n = snprintf(num, sizeof num, "%" PRId64, next);
        entry *e = link ? *link : NULL;
        if (!e) { /* created here: the only time the TTL applies */
            maybe_sweep(ic, now);
            e = insert(ic, key, h);
            e->expires = deadline(now, ttl_ms);
        }
        store_value(e, num, (size_t)n);
        *out = next;
    }
    pthread_mutex_unlock(&ic->mu);
    return rc;
}

/* ---- publish / subscribe ---- */

static void sub_release(isub *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void snap_release(snapshot *snap)
{
    if (!snap || atomic_fetch_sub(&snap->refs, 1) != 1)
        return;
    for (size_t i = 0; i < snap->n; i++)
        sub_release(snap->subs[i]);
    free(snap);
}

static int cmp_exact(const void *a, const void *b)
{
    return strcmp((*(isub *const *)a)->channel, (*(isub *const *)b)->channel);
}

/* Called with sub_mu held; returns the snapshot it replaced (release it unlocked). */
static snapshot *rebuild(icache *ic)
{
    snapshot *old = ic->snap, *snap = NULL;
    if (ic->nsubs) {
        snap = er_xcalloc(1, sizeof *snap + ic->nsubs * sizeof snap->subs[0]);
        atomic_init(&snap->refs, 1);
        size_t lo = 0, hi = ic->nsubs;
        for (size_t i = 0; i < ic->nsubs; i++) {
            isub *s = ic->subs[i];
            atomic_fetch_add(&s->refs, 1);
            snap->subs[s->pattern ? --hi : lo++] = s;
        }
        snap->nexact = lo;
        snap->n = ic->nsubs;
        qsort(snap->subs, lo, sizeof snap->subs[0], cmp_exact);
    }
    ic->snap = snap;
    atomic_store(&ic->live_subs, ic->nsubs);
    return old;
}

static snapshot *snap_acquire(icache *ic)
{
    pthread_mutex_lock(&ic->sub_mu);
    snapshot *snap = ic->snap;
    if (snap)
        atomic_fetch_add(&snap->refs, 1);
    pthread_mutex_unlock(&ic->sub_mu);
    return snap;
}

/* One message on its way to the matching subscribers; the NUL-terminated copy
 * callbacks get is made on the first match only. */
typedef struct delivery {
    const char *channel;
    const void *msg;
    size_t len;
    char *text;
    char small[1024];
} delivery;

static void deliver_to(isub *s, delivery *d)
{
    if (!d->text) {
        d->text = d->len < sizeof d->small ? d->small : er_xmalloc(d->len + 1);
        memcpy(d->text, d->msg, d->len);
        d->text[d->len] = '\0';
    }
    /* running is raised before dead is read and unsubscribe sets dead before
     * reading running (both seq_cst), so one of the two always sees the other. */
    atomic_fetch_add(&s->running, 1);
    if (!atomic_load(&s->dead))
        s->fn(d->channel, d->text, d->len, s->payload);
    if (atomic_fetch_sub(&s->running, 1) == 1 && atomic_load(&s->dead)) {
        pthread_mutex_lock(&s->mu);
        pthread_cond_broadcast(&s->idle);
        pthread_mutex_unlock(&s->mu);
    }
}

static void deliver(const snapshot *snap, delivery *d)
{
    size_t lo = 0, hi = snap->nexact;
    while (lo < hi) { /* first exact subscriber >= channel */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(snap->subs[mid]->channel, d->channel) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < snap->nexact && strcmp(snap->subs[lo]->channel, d->channel) == 0; lo++)
        deliver_to(snap->subs[lo], d);
    for (size_t i = snap->nexact; i < snap->n; i++) {
        isub *s = snap->subs[i];
        if (strncmp(d->channel, s->channel, s->len) == 0)
            deliver_to(s, d);
    }
}

static int ip_publish(er_cache *c, const char *channel, const void *msg, size_t len, er_error *err)
{
    (void)err;
    icache *ic = from_cache(c);
    if (atomic_load_explicit(&ic->live_subs, memory_order_acquire) == 0)
        return 0;
    snapshot *snap = snap_acquire(ic);
    if (!snap)
        return 0;
    delivery d = { .channel = channel, .msg = msg, .len = len, .text = NULL };
    deliver(snap, &d);
    if (d.text != d.small)
        free(d.text);
    snap_release(snap);
    return 0;
}

static int ip_subscribe(er_cache *c, const char *channel, er_cache_msg_fn fn, void *payload,
                        er_cache_sub **out, er_error *err)
{
    (void)err;
    icache *ic = from_cache(c);
    size_t len = strlen(channel);
    isub *s = er_xcalloc(1, sizeof *s + len + 1);
    memcpy(s->channel, channel, len + 1);
    s->pattern = channel[len - 1] == '*';
    s->len = s->pattern ? len - 1 : len;
    s->channel[s->len] = '\0';
    s->fn = fn;
    s->payload = payload;
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->idle, NULL);

    pthread_mutex_lock(&ic->sub_mu);
    if (ic->nsubs == ic->subcap) {
        ic->subcap = ic->subcap ? ic->subcap * 2 : 8;
        ic->subs = er_xrealloc(ic->subs, ic->subcap * sizeof ic->subs[0]);
    }
    ic->subs[ic->nsubs++] = s;
    snapshot *old = rebuild(ic);
    pthread_mutex_unlock(&ic->sub_mu);
    snap_release(old);
    *out = &s->base;
    return 0;
}

static void ip_unsubscribe(er_cache_sub *sub)
{
    isub *s = (isub *)sub;
    icache *ic = from_cache(sub->cache);
    pthread_mutex_lock(&ic->sub_mu);
    for (size_t i = 0; i < ic->nsubs; i++) {
        if (ic->subs[i] == s) {
            ic->subs[i] = ic->subs[--ic->nsubs];
            break;
        }
    }
    snapshot *old = rebuild(ic);
    pthread_mutex_unlock(&ic->sub_mu);
    snap_release(old);

    /* Publishers may still hold older snapshots listing s: stop them calling
     * it, then wait out the callbacks already running. */
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->dead, true);
    while (atomic_load(&s->running) > 0)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
    sub_release(s);
}

/* ---- lifetime ---- */

static int ip_open(er_cache **out, const er_url *url, er_error *err)
{
    if (url->host || (url->path[0] && strcmp(url->path, "/") != 0))
        return er_error_set(err, ER_EINVAL,
                            "inproc cache URL '%s' takes no host or path — use inproc://",
                            url->raw);
    icache *ic = er_xcalloc(1, sizeof *ic);
    ic->base.be = &er_cache_inproc_backend;
    pthread_mutex_init(&ic->mu, NULL);
    pthread_mutex_init(&ic->sub_mu, NULL);
    ic->nbuckets = MIN_BUCKETS;
    ic->buckets = er_xcalloc(ic->nbuckets, sizeof ic->buckets[0]);
    ic->seed = er_mono_ns() ^ (uint64_t)(uintptr_t)ic;
    atomic_init(&ic->live_subs, 0);
    *out = &ic->base;
    return 0;
}

static void ip_close(er_cache *c)
{
    icache *ic = from_cache(c);
    assert(ic->nsubs == 0 && "er_cache_close() with live subscriptions");
    snap_release(ic->snap);
    free(ic->subs);
    for (size_t i = 0; i < ic->nbuckets; i++) {
        entry *e = ic->buckets[i];
        while (e) {
            entry *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    free(ic->buckets);
    pthread_mutex_destroy(&ic->sub_mu);
    pthread_mutex_destroy(&ic->mu);
    free(ic);
}

static int ip_ping(er_cache *c, er_error *err)
{
    (void)c;
    (void)err;
    return 0;
}

const er_cache_backend er_cache_inproc_backend = {
    .version = ER_CACHE_BACKEND_VERSION,
    .scheme = "inproc",
    .open = ip_open,
    .close = ip_close,
    .get = ip_get,
    .mget = ip_mget,
    .set = ip_set,
    .del = ip_del,
    .incr = ip_incr,
    .publish = ip_publish,
    .subscribe = ip_subscribe,
    .unsubscribe = ip_unsubscribe,
    .ping = ip_ping,
};
