/* cache_backend.h — for cache backend authors only. */
#ifndef ERRAND_CACHE_BACKEND_H
#define ERRAND_CACHE_BACKEND_H

#include "../cache.h"
#include "../url.h"

#define ER_CACHE_BACKEND_VERSION 2

typedef struct er_cache_backend {
    int version;
    const char *scheme; /* "inproc", "redis" */
    int (*open)(er_cache **out, const er_url *url, er_error *err);
    void (*close)(er_cache *c);
    int (*get)(er_cache *c, const char *key, char **out, size_t *len, er_error *err);
    int (*set)(er_cache *c, const char *key, const void *val, size_t len, int64_t ttl_ms,
               er_error *err);
    int (*del)(er_cache *c, const char *key, er_error *err);
    int (*incr)(er_cache *c, const char *key, int64_t by, int64_t ttl_ms, int64_t *out,
                er_error *err);
    int (*publish)(er_cache *c, const char *channel, const void *msg, size_t len, er_error *err);
    int (*subscribe)(er_cache *c, const char *channel, er_cache_msg_fn fn, void *payload,
                     er_cache_sub **out, er_error *err);
    void (*unsubscribe)(er_cache_sub *sub);
    int (*ping)(er_cache *c, er_error *err);
    /* Version 2.  NULL: er_cache_mget asks get for each key.  vals and
     * lens (never NULL here) come zeroed. */
    int (*mget)(er_cache *c, const char *const *keys, size_t n, char **vals, size_t *lens,
                er_error *err);
} er_cache_backend;

struct er_cache {
    const er_cache_backend *be;
};

/* First member of every backend's subscription struct. */
struct er_cache_sub {
    er_cache *cache;
};

extern const er_cache_backend er_cache_inproc_backend;
#ifdef ERRAND_WITH_REDIS
extern const er_cache_backend er_cache_redis_backend;
#endif

#endif
