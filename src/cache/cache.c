/* cache.c — the cache seam: picks a backend by URL scheme and dispatches to it.
 *
 * This is the only file that dereferences ->be.  Arguments every backend would
 * otherwise check (empty keys, negative TTLs) are checked here, once. */
#include "errand/backend/cache_backend.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static const er_cache_backend *const backends[] = {
    &er_cache_inproc_backend,
#ifdef ERRAND_WITH_REDIS
    &er_cache_redis_backend,
#endif
};

/* Schemes this program knows about, compiled in or not, for error messages. */
static const struct {
    const char *scheme;
    const char *option; /* CMake option that brings it, or NULL if always built */
} known[] = {
    { "inproc", NULL },
    { "redis", "ERRAND_WITH_REDIS" },
};

static const er_cache_backend *find_backend(const char *scheme)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(backends); i++) {
        if (strcmp(backends[i]->scheme, scheme) == 0)
            return backends[i];
    }
    return NULL;
}

static int no_backend(const char *scheme, er_error *err)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(known); i++) {
        if (known[i].option && strcmp(known[i].scheme, scheme) == 0)
            return er_error_set(err, ER_EINVAL,
                                "cache URL scheme '%s://' is not compiled in — rebuild with "
                                "-D%s=ON or use inproc://",
                                scheme, known[i].option);
    }
    return er_error_set(err, ER_EINVAL,
                        "unknown cache URL scheme '%s://' — use inproc:// or "
                        "redis://[:password@]host:port/db",
                        scheme);
}

int er_cache_open(er_cache **out, const char *url, er_error *err)
{
    *out = NULL;
    er_url u;
    int rc = er_url_parse(&u, er_str_empty(url) ? "inproc://" : url, err);
    if (rc) {
        er_error_prefix(err, "cache URL");
        return rc;
    }
    const er_cache_backend *be = find_backend(u.scheme);
    if (!be) {
        rc = no_backend(u.scheme, err);
        er_url_release(&u);
        return rc;
    }
    assert(be->version >= 1);
    er_cache *c = NULL;
    rc = be->open(&c, &u, err);
    er_url_release(&u);
    if (rc)
        return rc;
    c->be = be;
    *out = c;
    return 0;
}

void er_cache_close(er_cache *c)
{
    if (c)
        c->be->close(c);
}

const char *er_cache_scheme(const er_cache *c)
{
    return c->be->scheme;
}

int er_cache_ping(er_cache *c, er_error *err)
{
    return c->be->ping(c, err);
}

static int check_key(const char *what, const char *key, er_error *err)
{
    if (er_str_empty(key))
        return er_error_set(err, ER_EINVAL, "cache %s: empty key", what);
    return 0;
}

static int check_ttl(const char *key, int64_t ttl_ms, er_error *err)
{
    if (ttl_ms < 0)
        return er_error_set(err, ER_EINVAL, "cache key '%s': negative TTL %lld ms", key,
                            (long long)ttl_ms);
    return 0;
}

int er_cache_get(er_cache *c, const char *key, char **out, size_t *len, er_error *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    int rc = check_key("get", key, err);
    return rc ? rc : c->be->get(c, key, out, len, err);
}

int er_cache_mget(er_cache *c, const char *const *keys, size_t n, char **vals, size_t *lens,
                  er_error *err)
{
    memset(vals, 0, n * sizeof *vals);
    size_t *l = lens ? lens : er_xcalloc(n ? n : 1, sizeof *l);
    memset(l, 0, n * sizeof *l);
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++)
        rc = check_key("mget", keys[i], err);
    if (!rc && n && c->be->version >= 2 && c->be->mget) {
        rc = c->be->mget(c, keys, n, vals, l, err);
    } else {
        for (size_t i = 0; !rc && i < n; i++) {
            rc = c->be->get(c, keys[i], &vals[i], &l[i], err);
            if (rc == ER_ENOTFOUND)
                rc = 0;
        }
    }
    if (rc)
        for (size_t i = 0; i < n; i++) {
            free(vals[i]);
            vals[i] = NULL;
        }
    if (l != lens)
        free(l);
    return rc;
}

int er_cache_set(er_cache *c, const char *key, const void *val, size_t len, int64_t ttl_ms,
                 er_error *err)
{
    int rc = check_key("set", key, err);
    if (!rc)
        rc = check_ttl(key, ttl_ms, err);
    if (!rc && !val && len)
        rc = er_error_set(err, ER_EINVAL, "cache key '%s': NULL value of length %zu", key, len);
    return rc ? rc : c->be->set(c, key, val ? val : "", len, ttl_ms, err);
}

int er_cache_del(er_cache *c, const char *key, er_error *err)
{
    int rc = check_key("del", key, err);
    return rc ? rc : c->be->del(c, key, err);
}

int er_cache_incr(er_cache *c, const char *key, int64_t by, int64_t ttl_ms, int64_t *out,
                  er_error *err)
{
    int rc = check_key("incr", key, err);
    if (!rc)
        rc = check_ttl(key, ttl_ms, err);
    return rc ? rc : c->be->incr(c, key, by, ttl_ms, out, err);
}

int er_cache_publish(er_cache *c, const char *channel, const void *msg, size_t len, er_error *err)
{
    if (er_str_empty(channel))
        return er_error_set(err, ER_EINVAL, "cache publish: empty channel");
    return c->be->publish(c, channel, msg ? msg : "", msg ? len : 0, err);
}

int er_cache_subscribe(er_cache *c, const char *channel, er_cache_msg_fn fn, void *payload,
                       er_cache_sub **out, er_error *err)
{
    *out = NULL;
    if (er_str_empty(channel))
        return er_error_set(err, ER_EINVAL, "cache subscribe: empty channel");
    assert(fn);
    er_cache_sub *sub = NULL;
    int rc = c->be->subscribe(c, channel, fn, payload, &sub, err);
    if (rc)
        return rc;
    sub->cache = c;
    *out = sub;
    return 0;
}

void er_cache_unsubscribe(er_cache_sub *sub)
{
    if (sub)
        sub->cache->be->unsubscribe(sub);
}
