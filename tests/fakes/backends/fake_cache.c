/* fake_cache.c — a cache backend that forwards to a real cache, counting calls
 * and failing the ones a test planned (fake_backends.h). */
#include "fake_backends.h"
#include "errand/alloc.h"
#include "errand/backend/cache_backend.h"

#include <stdlib.h>

typedef struct fake_cache {
    er_cache base;
    er_cache *inner;
    fake *ctl;
} fake_cache;

static fake_cache *to_fake(er_cache *c)
{
    return (fake_cache *)c;
}

static void fc_close(er_cache *c)
{
    fake_cache *fc = to_fake(c);
    fc->inner->be->close(fc->inner);
    fake_free(fc->ctl);
    free(fc);
}

static int fc_get(er_cache *c, const char *key, char **out, size_t *len, er_error *err)
{
    fake_cache *fc = to_fake(c);
    int rc = fake_hit(fc->ctl, "get", key, err);
    return rc ? rc : fc->inner->be->get(fc->inner, key, out, len, err);
}

static int fc_set(er_cache *c, const char *key, const void *val, size_t len, int64_t ttl_ms,
                  er_error *err)
{
    fake_cache *fc = to_fake(c);
    int rc = fake_hit(fc->ctl, "set", key, err);
    return rc ? rc : fc->inner->be->set(fc->inner, key, val, len, ttl_ms, err);
}

static int fc_del(er_cache *c, const char *key, er_error *err)
{
    fake_cache *fc = to_fake(c);
    int rc = fake_hit(fc->ctl, "del", key, err);
    return rc ? rc : fc->inner->be->del(fc->inner, key, err);
}

static int fc_incr(er_cache *c, const char *key, int64_t by, int64_t ttl_ms, int64_t *out,
                   er_error *err)
{
    fake_cache *fc = to_fake(c);
    int rc = fake_hit(fc->ctl, "incr", key, err);
    return rc ? rc : fc->inner->be->incr(fc->inner, key, by, ttl_ms, out, err);
}

static int fc_publish(er_cache *c, const char *channel, const void *msg, size_t len, er_error *err)
{
    fake_cache *fc = to_fake(c);
    int rc = fake_hit(fc->ctl, "publish", channel, err);
    return rc ? rc : fc->inner->be->publish(fc->inner, channel, msg, len, err);
}

/* The real cache's subscription; cache.c then points it at the fake. */
static int fc_subscribe(er_cache *c, const char *channel, er_cache_msg_fn fn, void *payload,
                        er_cache_sub **out, er_error *err)
{
    fake_cache *fc = to_fake(c);
    int rc = fake_hit(fc->ctl, "subscribe", channel, err);
    return rc ? rc : fc->inner->be->subscribe(fc->inner, channel, fn, payload, out, err);
}

static void fc_unsubscribe(er_cache_sub *sub)
{
    fake_cache *fc = to_fake(sub->cache);
    fake_hit(fc->ctl, "unsubscribe", "", NULL);
    sub->cache = fc->inner; /* the real backend finds its own handle there */
    fc->inner->be->unsubscribe(sub);
}

static int fc_ping(er_cache *c, er_error *err)
{
    fake_cache *fc = to_fake(c);
    int rc = fake_hit(fc->ctl, "ping", "", err);
    return rc ? rc : fc->inner->be->ping(fc->inner, err);
}

static const er_cache_backend fake_cache_backend = {
    .version = ER_CACHE_BACKEND_VERSION,
    .scheme = "fake",
    .close = fc_close,
    .get = fc_get,
    .set = fc_set,
    .del = fc_del,
    .incr = fc_incr,
    .publish = fc_publish,
    .subscribe = fc_subscribe,
    .unsubscribe = fc_unsubscribe,
    .ping = fc_ping,
};

void fake_cache_wrap(er_cache **out, er_cache *inner, fake **ctl_out)
{
    fake_cache *fc = er_xcalloc(1, sizeof *fc);
    fc->base.be = &fake_cache_backend;
    fc->inner = inner;
    fc->ctl = fake_new("cache");
    *ctl_out = fc->ctl;
    *out = &fc->base;
}
