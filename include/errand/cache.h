/* cache.h — cache with TTLs, atomic counters, and publish/subscribe of events.
 *
 * Keys follow the seed: session:{user_id}, task:{task_id}, cache:{agent}:{key},
 * browser:{session_id}, rate_limit:{user_id}:{endpoint}; the mail metadata
 * cache's email:{account}:{id}, email:{account}:{scope}:index and
 * email:{account}:{scope}:lock are described in mail_cache.h.  Channels: see
 * events.h.  Backend by URL: NULL or "inproc://" in-process, "redis://…" Redis.
 * Thread-safe. */
#ifndef ERRAND_CACHE_H
#define ERRAND_CACHE_H

#include "common.h"
#include "error.h"

typedef struct er_cache er_cache;
typedef struct er_cache_sub er_cache_sub;

/* Called on a thread owned by the cache (or the publisher's, in-process) for
 * each message on the channel.  Must be quick and must not unsubscribe itself.
 * channel and msg are BORROWED for the call; msg is len bytes followed by a NUL. */
typedef void (*er_cache_msg_fn)(const char *channel, const char *msg, size_t len, void *payload);

int er_cache_open(er_cache **out, const char *url, er_error *err);
/* Every subscription must be unsubscribed first. */
void er_cache_close(er_cache *c);
const char *er_cache_scheme(const er_cache *c);
int er_cache_ping(er_cache *c, er_error *err);
/* OWNED *out (NUL-terminated; *len may be NULL); ER_ENOTFOUND when absent or expired. */
int er_cache_get(er_cache *c, const char *key, char **out, size_t *len, er_error *err);
/* The values of n keys in one round trip: vals[i] OWNED (NUL-terminated;
 * lens[i] its length, lens may be NULL), or NULL when the key is absent or
 * expired.  On failure every vals[i] is NULL. */
int er_cache_mget(er_cache *c, const char *const *keys, size_t n, char **vals, size_t *lens,
                  er_error *err);
/* ttl_ms 0: no expiry. */
int er_cache_set(er_cache *c, const char *key, const void *val, size_t len, int64_t ttl_ms,
                 er_error *err);
/* An absent key is not an error. */
int er_cache_del(er_cache *c, const char *key, er_error *err);
/* Adds by to the integer at key (0 when absent) and returns the new value in *out.
 * When the key is created by this call and ttl_ms > 0, it expires after ttl_ms. */
int er_cache_incr(er_cache *c, const char *key, int64_t by, int64_t ttl_ms, int64_t *out,
                  er_error *err);
int er_cache_publish(er_cache *c, const char *channel, const void *msg, size_t len, er_error *err);
/* Subscription is active when this returns 0.  channel ending in '*' is a prefix pattern
 * (matched literally: "events:*" matches every channel starting with "events:").
 * Pub/sub keeps no history: messages published while a networked subscription is
 * reconnecting are lost, so followers poll the store as a backstop. */
int er_cache_subscribe(er_cache *c, const char *channel, er_cache_msg_fn fn, void *payload,
                       er_cache_sub **out, er_error *err);
/* Waits until no callback of this subscription is running; NULL is fine. */
void er_cache_unsubscribe(er_cache_sub *sub);

#endif
