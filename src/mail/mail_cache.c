/* mail_cache.c — the metadata cache's home chosen by mode (mail_cache.h), and
 * the local one: the store's tables (store_mail.h), which a one-shot command
 * leaves behind for the next. */
#include "errand/mail_cache.h"
#include "errand/alloc.h"
#include "errand/store_mail.h"
#include "errand/str.h"

#include <stdlib.h>

int er_mail_cache_open(er_mail_cache **out, const er_mail_account *acct, const char *origin,
                       er_error *err)
{
    *out = NULL;
    if (acct->cache) {
        int64_t ttl_s = ER_MAIL_CACHE_TTL_S;
        const char *v = acct->cfg ? er_config_mail(acct->cfg, acct->name, "cache_ttl") : NULL;
        long l = 0;
        if (v && (er_str_to_long(v, &l) != 0 || l <= 0))
            return er_error_set(err, ER_EINVAL,
                                "mail account '%s': cache_ttl '%s' is not a number of seconds "
                                "above 0",
                                acct->name, v);
        if (v)
            ttl_s = l;
        *out = er_mail_cache_shared_new(acct->cache, acct->name, origin, ttl_s * 1000);
    } else if (acct->store) {
        /* The name with what it points at: an account moved to another
         * mailbox starts a cache of its own. */
        char *key = er_xasprintf("%s %s", acct->name, origin);
        *out = er_mail_cache_store_new(acct->store, key);
        free(key);
    }
    return 0;
}

void er_mail_cache_close(er_mail_cache *c)
{
    if (c)
        c->ops->close(c);
}

/* ---- in the store ---- */

typedef struct store_cache {
    er_mail_cache base;
    er_store *st;
    char *account;
} store_cache;

static store_cache *as_store(er_mail_cache *c)
{
    return (store_cache *)c;
}

static int store_state(er_mail_cache *c, const char *scope, er_mail_sync *out, bool *found,
                       er_error *err)
{
    store_cache *s = as_store(c);
    return er_store_mail_sync_get(s->st, s->account, scope, out, found, err);
}

/* One transaction: concurrent refreshes serialise in the store. */
static int store_apply(er_mail_cache *c, const char *scope, const er_mail_sync *state,
                       const er_mail_delta *d, er_error *err)
{
    store_cache *s = as_store(c);
    return er_store_mail_apply(s->st, s->account, scope, state, d, err);
}

static int store_query(er_mail_cache *c, const char *scope, const er_mail_query *q,
                       const char *label, const char *const *exclude, er_mail_summary **out,
                       size_t *n, er_error *err)
{
    store_cache *s = as_store(c);
    return er_store_mail_query(s->st, s->account, scope, q, label, exclude, out, n, err);
}

static void store_close(er_mail_cache *c)
{
    store_cache *s = as_store(c);
    free(s->account);
    free(s);
}

static const er_mail_cache_ops store_ops = {
    .name = "store",
    .state = store_state,
    .apply = store_apply,
    .query = store_query,
    .close = store_close,
};

er_mail_cache *er_mail_cache_store_new(er_store *st, const char *account)
{
    store_cache *s = er_xcalloc(1, sizeof *s);
    s->base.ops = &store_ops;
    s->st = st;
    s->account = er_xstrdup(account);
    return &s->base;
}
