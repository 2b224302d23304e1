/* mail_cache_shared.c — the metadata cache in the cache seam (networked
 * mode): one summary per key and one index per scope, shared by every
 * worker.  Key names and the concurrency rule: mail_cache.h. */
#include "errand/mail_cache.h"
#include "errand/alloc.h"
#include "errand/cache.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/store_mail.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The refresh lease: longer than any refresh (a first fill of 5000
 * envelopes takes about a second), short enough that a dead holder does
 * not stall the others long. */
#define LEASE_MS      60000
#define LEASE_POLL_MS 20
/* Summaries read by one MGET. */
#define WINDOW_MAX 500
/* Times a listing follows an index that moved on under it. */
#define QUERY_RETRIES 3

typedef struct shared_cache {
    er_mail_cache base;
    er_cache *cache;
    char *account, *origin;
    int64_t ttl_ms;
    /* The index state() read (or apply() wrote) for scope: OWNED, NULL when
     * the scope has none. */
    char *scope;
    cJSON *index;
} shared_cache;

static shared_cache *as_shared(er_mail_cache *c)
{
    return (shared_cache *)c;
}

static const char *scope_key(const char *scope)
{
    return er_str_empty(scope) ? "*" : scope;
}

static char *index_key(const shared_cache *s, const char *scope)
{
    return er_xasprintf("email:%s:%s:index", s->account, scope_key(scope));
}

static char *lock_key(const shared_cache *s, const char *scope)
{
    return er_xasprintf("email:%s:%s:lock", s->account, scope_key(scope));
}

static char *summary_key(const shared_cache *s, const char *id)
{
    return er_xasprintf("email:%s:%s", s->account, id);
}

static int64_t generation(const cJSON *index)
{
    return index ? er_json_int(index, "gen", 0, 0, INT64_MAX) : 0;
}

/* The scope's index from the cache into *out (NULL when absent). */
static int read_index(shared_cache *s, const char *scope, cJSON **out, er_error *err)
{
    *out = NULL;
    char *key = index_key(s, scope), *val = NULL;
    size_t len = 0;
    int rc = er_cache_get(s->cache, key, &val, &len, err);
    if (rc == ER_ENOTFOUND) {
        rc = 0;
    } else if (!rc && er_json_parse(out, val, len, err) != 0) {
        /* not ours to read (a torn or foreign value): the scope starts again */
        er_log(ER_LOG_INFO, "mail", "%s is not a mail index: the scope starts again", key);
        rc = 0;
    }
    free(val);
    free(key);
    return rc;
}

static void remember(shared_cache *s, const char *scope, cJSON *index)
{
    cJSON_Delete(s->index);
    free(s->scope);
    s->scope = er_xstrdup(scope);
    s->index = index;
}

static int shared_state(er_mail_cache *c, const char *scope, er_mail_sync *out, bool *found,
                        er_error *err)
{
    shared_cache *s = as_shared(c);
    memset(out, 0, sizeof *out);
    *found = false;
    cJSON *index = NULL;
    int rc = read_index(s, scope, &index, err);
    if (rc)
        return rc;
    remember(s, scope, index);
    if (!index || !er_str_eq(er_json_str(index, "origin"), s->origin))
        return 0; /* never refreshed, or another mailbox's: everything again */
    out->validity = er_json_int(index, "validity", 0, 0, INT64_MAX);
    out->next = er_json_int(index, "next", 0, 0, INT64_MAX);
    out->modseq = er_json_int(index, "modseq", 0, 0, INT64_MAX);
    out->count = er_json_int(index, "count", 0, 0, INT64_MAX);
    out->complete = er_json_bool(index, "complete", false);
    *found = true;
    return 0;
}

/* ---- apply: the new index from the old one and the delta ---- */

typedef struct entry {
    const char *id; /* BORROWED from the old index or the delta */
    int64_t key;
    size_t seq; /* later wins among entries of one id */
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

static void entries_add(entries *e, const char *id, int64_t key)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = er_xrealloc(e->v, e->cap * sizeof *e->v);
    }
    e->v[e->n] = (entry){ id, key, e->n };
    e->n++;
}

static int by_id_then_seq(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static int newest_first(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return strcmp(y->id, x->id);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted copy of v for bsearch (the strings BORROWED). */
static char **sorted(const er_strv *v)
{
    char **out = er_xcalloc(v->n ? v->n : 1, sizeof *out);
    if (v->n)
        memcpy(out, v->v, v->n * sizeof *out);
    qsort(out, v->n, sizeof *out, cmp_str);
    return out;
}

static bool in_sorted(char **v, size_t n, const char *id)
{
    return bsearch(&id, v, n, sizeof *v, cmp_str) != NULL;
}

/* The old index's entries (none after a reset or for another mailbox), the
 * delta's new messages, minus what left: newest first, one per id. */
static void next_entries(const shared_cache *s, const er_mail_delta *d, entries *out)
{
    bool keep_old = s->index && !d->reset && er_str_eq(er_json_str(s->index, "origin"), s->origin);
    const cJSON *item;
    if (keep_old)
        cJSON_ArrayForEach(item, er_json_arr(s->index, "ids"))
        {
            const cJSON *id = cJSON_GetArrayItem(item, 0), *key = cJSON_GetArrayItem(item, 1);
            if (cJSON_IsString(id) && cJSON_IsNumber(key))
                entries_add(out, id->valuestring, (int64_t)key->valuedouble);
        }
    for (size_t i = 0; i < d->n; i++)
        if (!d->v[i].flags_only && d->v[i].s.id)
            entries_add(out, d->v[i].s.id, d->v[i].sort_key);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_id_then_seq);
    char **removed = sorted(&d->removed), **keep = sorted(&d->keep);
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++) {
        entry e = out->v[i];
        if (i + 1 < out->n && strcmp(out->v[i + 1].id, e.id) == 0)
            continue; /* a newer entry of this id follows */
        if (in_sorted(removed, d->removed.n, e.id))
            continue;
        if (d->prune && e.key < d->prune_below && !in_sorted(keep, d->keep.n, e.id))
            continue;
        out->v[w++] = e;
    }
    out->n = w;
    free(removed);
    free(keep);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, newest_first);
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static char *summary_json(const er_mail_meta *m)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "id", m->s.id);
    er_json_add_str(o, "from", nz(m->s.from));
    er_json_add_str(o, "to", nz(m->s.to));
    er_json_add_str(o, "subject", nz(m->s.subject));
    er_json_add_str(o, "date", nz(m->s.date));
    er_json_add_num(o, "day", er_mail_date_day(m->s.date));
    er_json_add_str(o, "message_id", nz(m->s.message_id));
    er_json_add_bool(o, "unread", m->s.unread);
    er_json_add_bool(o, "deleted", m->deleted);
    er_json_add_num(o, "size", (double)m->s.size);
    er_json_add_num(o, "sort_key", (double)m->sort_key);
    er_json_add_str(o, "labels", nz(m->labels));
    char *out = er_json_print(o);
    cJSON_Delete(o);
    return out;
}

static int put(shared_cache *s, const char *key, const char *val, er_error *err)
{
    return er_cache_set(s->cache, key, val, strlen(val), s->ttl_ms, err);
}

/* A flags-only change: the cached summary read, changed, written back.
 * ER_ENOTFOUND when it is no longer there. */
static int update_flags(shared_cache *s, const er_mail_meta *m, er_error *err)
{
    char *key = summary_key(s, m->s.id), *val = NULL;
    size_t len = 0;
    cJSON *o = NULL;
    int rc = er_cache_get(s->cache, key, &val, &len, err);
    if (!rc && er_json_parse(&o, val, len, err) != 0)
        rc = er_error_set(err, ER_ENOTFOUND, "%s is not a mail summary", key);
    if (!rc) {
        cJSON_ReplaceItemInObject(o, "unread", cJSON_CreateBool(m->s.unread));
        cJSON_ReplaceItemInObject(o, "deleted", cJSON_CreateBool(m->deleted));
        cJSON_ReplaceItemInObject(o, "labels", cJSON_CreateString(nz(m->labels)));
        char *next = er_json_print(o);
        rc = put(s, key, next, err);
        free(next);
    }
    cJSON_Delete(o);
    free(val);
    free(key);
    return rc;
}

static cJSON *index_json(const shared_cache *s, const er_mail_sync *state, int64_t gen,
                         const entries *e)
{
    cJSON *o = cJSON_CreateObject(), *ids = cJSON_CreateArray();
    er_json_add_str(o, "origin", s->origin);
    er_json_add_num(o, "gen", (double)gen);
    er_json_add_num(o, "validity", (double)state->validity);
    er_json_add_num(o, "next", (double)state->next);
    er_json_add_num(o, "modseq", (double)state->modseq);
    er_json_add_num(o, "count", (double)state->count);
    er_json_add_bool(o, "complete", state->complete);
    for (size_t i = 0; i < e->n; i++) {
        cJSON *pair = cJSON_CreateArray();
        er_json_append(pair, cJSON_CreateString(e->v[i].id));
        er_json_append(pair, cJSON_CreateNumber((double)e->v[i].key));
        er_json_append(ids, pair);
    }
    er_json_add(o, "ids", ids);
    return o;
}

/* Deletes the summaries of the old index's ids that next does not hold. */
static void drop_gone(shared_cache *s, const cJSON *old, const entries *next)
{
    if (!old)
        return;
    er_strv now = ER_STRV_INIT;
    for (size_t i = 0; i < next->n; i++)
        er_strv_push(&now, next->v[i].id);
    char **have = sorted(&now);
    const cJSON *item;
    cJSON_ArrayForEach(item, er_json_arr(old, "ids"))
    {
        const cJSON *id = cJSON_GetArrayItem(item, 0);
        if (!cJSON_IsString(id) || in_sorted(have, now.n, id->valuestring))
            continue;
        char *key = summary_key(s, id->valuestring);
        er_error e = { 0 };
        if (er_cache_del(s->cache, key, &e) != 0) /* it expires in time anyway */
            er_log(ER_LOG_DEBUG, "mail", "cannot delete %s: %s", key, e.msg);
        free(key);
    }
    free(have);
    er_strv_free(&now);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Takes the scope's refresh lease; ER_ECONFLICT after waiting out another
 * holder (whose index is then newer than ours). */
static int take_lease(shared_cache *s, const char *lock, er_error *err)
{
    int64_t holders = 0;
    int rc = er_cache_incr(s->cache, lock, 1, LEASE_MS, &holders, err);
    if (rc || holders == 1)
        return rc;
    er_log(ER_LOG_DEBUG, "mail", "%s is held: waiting for the other refresh", lock);
    for (int waited = 0; waited < LEASE_MS; waited += LEASE_POLL_MS) {
        char *v = NULL;
        rc = er_cache_get(s->cache, lock, &v, NULL, err);
        free(v);
        if (rc == ER_ENOTFOUND)
            break;
        if (rc)
            return rc;
        sleep_ms(LEASE_POLL_MS);
    }
    return er_error_set(err, ER_ECONFLICT, "another worker refreshed the mail cache meanwhile");
}

/* Under the lease: the new summaries, then the index, then what left. */
static int write_delta(shared_cache *s, const char *scope, const er_mail_sync *state,
                       const er_mail_delta *d, cJSON *now, er_error *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < d->n; i++) {
        const er_mail_meta *m = &d->v[i];
        if (!m->s.id)
            continue;
        if (m->flags_only) {
            rc = update_flags(s, m, err);
            continue;
        }
        char *key = summary_key(s, m->s.id), *val = summary_json(m);
        rc = put(s, key, val, err);
        free(val);
        free(key);
    }
    char *ikey = index_key(s, scope);
    if (rc == ER_ENOTFOUND) { /* a summary expired: the scope starts again */
        er_error e = { 0 };
        er_cache_del(s->cache, ikey, &e);
        er_log(ER_LOG_INFO, "mail", "%s: a cached summary expired; the scope starts again", ikey);
        remember(s, scope, NULL);
        rc = er_error_set(err, ER_ECONFLICT, "a cached mail summary expired");
    }
    entries next = { 0 };
    if (!rc) {
        next_entries(s, d, &next);
        cJSON *index = index_json(s, state, generation(now) + 1, &next);
        char *val = er_json_print(index);
        rc = put(s, ikey, val, err);
        free(val);
        if (!rc) {
            drop_gone(s, now, &next);
            remember(s, scope, index); /* after drop_gone: next borrows from s->index */
        } else {
            cJSON_Delete(index);
        }
    }
    free(next.v);
    free(ikey);
    return rc;
}

static int shared_apply(er_mail_cache *c, const char *scope, const er_mail_sync *state,
                        const er_mail_delta *d, er_error *err)
{
    shared_cache *s = as_shared(c);
    if (!er_str_eq(s->scope, scope)) /* the seam reads state() first */
        return er_error_set(err, ER_EINTERNAL, "mail cache: apply without state");
    char *lock = lock_key(s, scope);
    int rc = take_lease(s, lock, err);
    if (rc) {
        free(lock);
        return rc;
    }
    cJSON *now = NULL;
    rc = read_index(s, scope, &now, err);
    if (!rc && generation(now) != generation(s->index))
        rc = er_error_set(err, ER_ECONFLICT, "another worker refreshed the mail cache meanwhile");
    if (!rc)
        rc = write_delta(s, scope, state, d, now, err);
    cJSON_Delete(now);
    er_error e = { 0 };
    if (er_cache_del(s->cache, lock, &e) != 0)
        er_log(ER_LOG_WARN, "mail", "cannot release %s (it expires in %d s): %s", lock,
               LEASE_MS / 1000, e.msg);
    free(lock);
    return rc;
}

/* ---- query ---- */

static bool same_message_id(const char *cached, const char *want)
{
    const char *w = want + (want[0] == '<');
    size_t wl = strlen(w);
    if (wl && w[wl - 1] == '>')
        wl--;
    const char *c = cached + (cached[0] == '<');
    size_t cl = strlen(c);
    if (c != cached) { /* angled: only a whole <…> matches */
        if (!cl || c[cl - 1] != '>')
            return false;
        cl--;
    }
    return cl == wl && strncmp(c, w, wl) == 0;
}

static bool has_label(const char *labels, const char *label)
{
    char *pat = er_xasprintf(" %s ", label);
    bool yes = strstr(labels, pat) != NULL;
    free(pat);
    return yes;
}

/* Whether a cached summary answers q (the store's rules, store_mail.h). */
static bool matches(const cJSON *o, const er_mail_query *q, const char *label,
                    const char *const *exclude)
{
    if (er_json_bool(o, "deleted", false))
        return false;
    struct {
        const char *field, *want;
    } text[] = { { "from", q->from }, { "to", q->to }, { "subject", q->subject } };
    for (size_t i = 0; i < ER_ARRAY_LEN(text); i++)
        if (!er_str_empty(text[i].want) &&
            !strcasestr(nz(er_json_str(o, text[i].field)), text[i].want))
            return false;
    if (!er_str_empty(q->message_id) &&
        !same_message_id(nz(er_json_str(o, "message_id")), q->message_id))
        return false;
    int64_t day = er_json_int(o, "day", 0, 0, INT64_MAX);
    if (!er_str_empty(q->since) && day < er_mail_day_number(q->since))
        return false;
    if (!er_str_empty(q->before) && (day <= 0 || day >= er_mail_day_number(q->before)))
        return false;
    if (q->unread && !er_json_bool(o, "unread", false))
        return false;
    const char *labels = nz(er_json_str(o, "labels"));
    if (label && !has_label(labels, label))
        return false;
    for (size_t i = 0; exclude && exclude[i]; i++)
        if (has_label(labels, exclude[i]))
            return false;
    return true;
}

static void summary_from(er_mail_summary *out, const cJSON *o)
{
    out->id = er_xstrdup(nz(er_json_str(o, "id")));
    out->from = er_xstrdup(nz(er_json_str(o, "from")));
    out->to = er_xstrdup(nz(er_json_str(o, "to")));
    out->subject = er_xstrdup(nz(er_json_str(o, "subject")));
    out->date = er_xstrdup(nz(er_json_str(o, "date")));
    out->message_id = er_xstrdup(nz(er_json_str(o, "message_id")));
    out->unread = er_json_bool(o, "unread", false);
    out->size = (size_t)er_json_int(o, "size", 0, 0, INT64_MAX);
}

typedef struct found {
    er_mail_summary *v;
    size_t n, cap;
} found;

/* Adds the summary o to f when it answers the query. */
static void consider(found *f, const cJSON *o, const er_mail_query *q, const char *label,
                     const char *const *exclude)
{
    if (!matches(o, q, label, exclude))
        return;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = er_xrealloc(f->v, f->cap * sizeof *f->v);
    }
    summary_from(&f->v[f->n++], o);
}

/* Walks the remembered index newest first, its summaries read a window at a
 * time (one MGET each).  *missing: the id of a summary that is not there
 * (OWNED), the walk stopped. */
static int walk(shared_cache *s, const er_mail_query *q, const char *label,
                const char *const *exclude, found *f, char **missing, er_error *err)
{
    size_t limit = q->limit ? q->limit : 20;
    const cJSON *ids = er_json_arr(s->index, "ids");
    size_t total = (size_t)cJSON_GetArraySize(ids);
    /* the first window is the page itself: an unfiltered search needs no more */
    size_t window = limit < WINDOW_MAX ? limit : WINDOW_MAX;
    const cJSON *item = ids ? ids->child : NULL;
    char **keys = er_xcalloc(WINDOW_MAX, sizeof *keys),
         **vals = er_xcalloc(WINDOW_MAX, sizeof *vals);
    const char **idv = er_xcalloc(WINDOW_MAX, sizeof *idv);
    size_t *lens = er_xcalloc(WINDOW_MAX, sizeof *lens);
    int rc = 0;
    for (size_t done = 0; !rc && !*missing && f->n < limit && item && done < total;) {
        size_t k = 0;
        for (; item && k < window; item = item->next) {
            const cJSON *id = cJSON_GetArrayItem(item, 0);
            if (!cJSON_IsString(id))
                continue;
            idv[k] = id->valuestring;
            keys[k++] = summary_key(s, id->valuestring);
        }
        done += k;
        rc = er_cache_mget(s->cache, (const char *const *)keys, k, vals, lens, err);
        for (size_t i = 0; !rc && i < k && f->n < limit && !*missing; i++) {
            cJSON *o = NULL;
            er_error perr = { 0 };
            if (!vals[i] || er_json_parse(&o, vals[i], lens[i], &perr) != 0)
                *missing = er_xstrdup(idv[i]);
            else
                consider(f, o, q, label, exclude);
            cJSON_Delete(o);
        }
        for (size_t i = 0; i < k; i++) {
            free(keys[i]);
            free(vals[i]);
            vals[i] = NULL;
        }
        window = WINDOW_MAX;
    }
    free(keys);
    free(vals);
    free(idv);
    free(lens);
    return rc;
}

static int shared_query(er_mail_cache *c, const char *scope, const er_mail_query *q,
                        const char *label, const char *const *exclude, er_mail_summary **out,
                        size_t *n, er_error *err)
{
    shared_cache *s = as_shared(c);
    *out = NULL;
    *n = 0;
    if (!er_str_eq(s->scope, scope))
        return er_error_set(err, ER_EINTERNAL, "mail cache: query without state");
    found f = { 0 };
    char *missing = NULL;
    int rc = 0;
    for (int attempt = 0; !rc && attempt <= QUERY_RETRIES; attempt++) {
        er_mail_summaries_free(f.v, f.n);
        memset(&f, 0, sizeof f);
        free(missing);
        missing = NULL;
        rc = walk(s, q, label, exclude, &f, &missing, err);
        if (rc || !missing)
            break;
        /* Overtaken by a refresh that deleted it?  Then the index moved on. */
        cJSON *now = NULL;
        int64_t was = generation(s->index);
        rc = read_index(s, scope, &now, err);
        if (!rc && now && generation(now) != was) {
            remember(s, scope, now);
            continue;
        }
        cJSON_Delete(now);
        if (!rc) { /* expired or evicted: the scope's index goes, a refresh refills it */
            char *ikey = index_key(s, scope);
            er_log(ER_LOG_INFO, "mail", "%s names %s, which is gone: the scope starts again", ikey,
                   missing);
            er_error e = { 0 };
            er_cache_del(s->cache, ikey, &e);
            free(ikey);
            remember(s, scope, NULL);
            rc = er_error_set(err, ER_ECONFLICT, "a cached mail summary is gone");
        }
    }
    if (!rc && missing)
        rc = er_error_set(err, ER_ECONFLICT, "the mail cache kept changing under the search");
    free(missing);
    if (rc) {
        er_mail_summaries_free(f.v, f.n);
        return rc;
    }
    *out = f.v;
    *n = f.n;
    return 0;
}

static void shared_close(er_mail_cache *c)
{
    shared_cache *s = as_shared(c);
    cJSON_Delete(s->index);
    free(s->scope);
    free(s->account);
    free(s->origin);
    free(s);
}

static const er_mail_cache_ops shared_ops = {
    .name = "cache",
    .state = shared_state,
    .apply = shared_apply,
    .query = shared_query,
    .close = shared_close,
};

er_mail_cache *er_mail_cache_shared_new(er_cache *cache, const char *account, const char *origin,
                                        int64_t ttl_ms)
{
    shared_cache *s = er_xcalloc(1, sizeof *s);
    s->base.ops = &shared_ops;
    s->cache = cache;
    s->account = er_xstrdup(account);
    s->origin = er_xstrdup(origin);
    s->ttl_ms = ttl_ms;
    return &s->base;
}
