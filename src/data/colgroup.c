/* colgroup.c — group-bys over column files (colgroup.h).
 *
 * One pass over the row groups.  For each, the key columns' chunks turn into
 * key ids (a hash of each column's distinct values; a dictionary chunk looks
 * up each entry once, then its rows are codes), the ids into a group per row,
 * and then each aggregate runs down its column for the whole chunk. */
#include "colgroup.h"
#include "errand/alloc.h"
#include "data_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct keymap { /* one key column's values → ids; id 0 is NULL */
    er_strmap map;
    er_val *vals; /* by id; texts OWNED */
    size_t n, cap;
    er_dtype type;
} keymap;

typedef struct state { /* one aggregate of one group */
    int64_t cnt, isum;
    double rsum, rerr; /* Kahan-Babuska-Neumaier: the sum and its lost low part */
    bool overflow;
    er_val best; /* MIN, MAX: text OWNED */
} state;

typedef struct run {
    er_colr *r;
    const size_t *by;
    size_t nby;
    const er_colagg *aggs;
    size_t naggs;
    keymap *keys;
    uint32_t *gkeys; /* ngroups * nby: each group's key ids */
    state *st;       /* ngroups * naggs */
    size_t ngroups, cgroups;
    uint32_t *one; /* one key column: 1 + group, by key id (0: none yet) */
    size_t cone;
    er_strmap tuples; /* several: key ids → group */
    uint32_t *ids;    /* the chunk's key ids, nby * rows */
    uint32_t *gid;    /* the chunk's groups, by row */
    uint32_t *trans;  /* a dictionary's entries → key ids */
    er_colbuf buf;
    bool too_many;
} run;

int er_val_cmp(const er_val *a, const er_val *b)
{
    static const int rank[] = { 0, 1, 1, 2 };
    if (rank[a->kind] != rank[b->kind])
        return rank[a->kind] - rank[b->kind];
    if (a->kind == ER_VAL_NULL)
        return 0;
    if (a->kind == ER_VAL_TEXT) {
        int c = memcmp(a->s, b->s, a->n < b->n ? a->n : b->n);
        return c ? c : (a->n > b->n) - (a->n < b->n);
    }
    if (a->kind == ER_VAL_INT && b->kind == ER_VAL_INT)
        return (a->i > b->i) - (a->i < b->i);
    double x = a->kind == ER_VAL_INT ? (double)a->i : a->f;
    double y = b->kind == ER_VAL_INT ? (double)b->i : b->f;
    return (x > y) - (x < y);
}

/* ---- key ids ---- */

static uint32_t key_id(keymap *k, const void *bytes, size_t n, er_val v)
{
    size_t id = er_strmap_get(&k->map, bytes, n);
    if (id != SIZE_MAX)
        return (uint32_t)id;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->vals = er_xrealloc(k->vals, k->cap * sizeof *k->vals);
    }
    id = k->n++;
    if (v.kind == ER_VAL_TEXT)
        v.s = er_xstrndup(v.s, v.n);
    k->vals[id] = v;
    er_strmap_put(&k->map, bytes, n, id);
    return (uint32_t)id;
}

static uint32_t text_id(keymap *k, const char *p, size_t n)
{
    if (k->type == ER_DT_DATE || k->type == ER_DT_DATETIME)
        p = er_data_trim(p, &n);
    er_val v = { .kind = ER_VAL_TEXT, .s = p, .n = n };
    return key_id(k, p, n, v);
}

/* The key id of row i of a number chunk, as its column's type. */
static uint32_t number_id(keymap *k, const er_chunk *c, uint32_t i)
{
    er_val v = { .kind = ER_VAL_INT };
    if (c->enc == ER_ENC_F64 || k->type == ER_DT_REAL) {
        v.kind = ER_VAL_REAL;
        v.f = er_chunk_num(c, i);
        if (v.f == 0)
            v.f = 0; /* -0.0 and 0.0 are one group */
        return key_id(k, &v.f, sizeof v.f, v);
    }
    v.i = c->enc == ER_ENC_I64 ? c->i64[i] : c->u8[i];
    return key_id(k, &v.i, sizeof v.i, v);
}

static void chunk_ids(run *u, keymap *k, const er_chunk *c, uint32_t *ids)
{
    if (c->enc == ER_ENC_DICT) {
        for (uint32_t e = 0; e < c->ndict; e++)
            u->trans[e] = text_id(k, c->text + c->off[e], c->off[e + 1] - c->off[e]);
    }
    for (uint32_t i = 0; i < c->n; i++) {
        size_t n;
        const char *p;
        if (er_chunk_null(c, i)) {
            ids[i] = 0;
        } else if (c->enc == ER_ENC_DICT) {
            ids[i] = u->trans[c->codes[i]];
        } else if (c->enc == ER_ENC_TEXT) {
            p = er_chunk_text(c, i, &n);
            ids[i] = text_id(k, p, n);
        } else {
            ids[i] = number_id(k, c, i);
        }
    }
}

/* ---- groups ---- */

static uint32_t new_group(run *u, const uint32_t *ids, size_t stride)
{
    if (u->ngroups == u->cgroups) {
        u->cgroups = u->cgroups ? u->cgroups * 2 : 64;
        u->gkeys = er_xrealloc(u->gkeys, (u->cgroups * u->nby + 1) * sizeof *u->gkeys);
        u->st = er_xrealloc(u->st, (u->cgroups * u->naggs + 1) * sizeof *u->st);
    }
    size_t g = u->ngroups++;
    for (size_t j = 0; j < u->nby; j++)
        u->gkeys[g * u->nby + j] = ids[j * stride];
    memset(&u->st[g * u->naggs], 0, u->naggs * sizeof *u->st);
    u->too_many |= u->ngroups > ER_COLGROUP_MAX;
    return (uint32_t)g;
}

/* The group of each row of the chunk from its key ids. */
static void chunk_groups(run *u, uint32_t rows)
{
    for (uint32_t i = 0; i < rows && !u->too_many; i++) {
        if (u->nby == 0) {
            u->gid[i] = 0;
        } else if (u->nby == 1) {
            uint32_t id = u->ids[i];
            if (id >= u->cone) {
                size_t old = u->cone;
                u->cone = (id + 1) * 2;
                u->one = er_xrealloc(u->one, u->cone * sizeof *u->one);
                memset(u->one + old, 0, (u->cone - old) * sizeof *u->one);
            }
            if (!u->one[id])
                u->one[id] = new_group(u, &u->ids[i], rows) + 1;
            u->gid[i] = u->one[id] - 1;
        } else {
            uint32_t t[16];
            for (size_t j = 0; j < u->nby; j++)
                t[j] = u->ids[j * rows + i];
            size_t g = er_strmap_get(&u->tuples, (const char *)t, u->nby * sizeof *t);
            if (g == SIZE_MAX) {
                g = new_group(u, &u->ids[i], rows);
                er_strmap_put(&u->tuples, (const char *)t, u->nby * sizeof *t, g);
            }
            u->gid[i] = (uint32_t)g;
        }
    }
}

/* ---- aggregates ---- */

static er_val value_at(const er_chunk *c, uint32_t i, er_dtype type)
{
    er_val v = { .kind = ER_VAL_INT };
    switch (c->enc) {
    case ER_ENC_I64:
        if (type == ER_DT_REAL) {
            v.kind = ER_VAL_REAL;
            v.f = (double)c->i64[i];
        } else {
            v.i = c->i64[i];
        }
        return v;
    case ER_ENC_F64:
        v.kind = ER_VAL_REAL;
        v.f = c->f64[i];
        return v;
    case ER_ENC_U8: v.i = c->u8[i]; return v;
    default:
        v.kind = ER_VAL_TEXT;
        v.s = er_chunk_text(c, i, &v.n);
        if (type == ER_DT_DATE || type == ER_DT_DATETIME)
            v.s = er_data_trim(v.s, &v.n);
        return v;
    }
}

static void keep_best(state *s, const er_val *v, int sign)
{
    if (s->cnt > 1 && er_val_cmp(v, &s->best) * sign >= 0)
        return;
    if (s->best.kind == ER_VAL_TEXT)
        free((char *)s->best.s);
    s->best = *v;
    if (v->kind == ER_VAL_TEXT)
        s->best.s = er_xstrndup(v->s, v->n);
}

static void add_real(state *s, double x)
{
    double t = s->rsum + x;
    s->rerr += fabs(s->rsum) >= fabs(x) ? (s->rsum - t) + x : (x - t) + s->rsum;
    s->rsum = t;
}

static void aggregate(run *u, size_t a, const er_chunk *c)
{
    const er_colagg *ag = &u->aggs[a];
    er_dtype type = ag->fn == ER_AGG_ROWS ? ER_DT_INTEGER : er_colr_type(u->r, ag->col);
    for (uint32_t i = 0; i < c->n; i++) {
        state *s = &u->st[(size_t)u->gid[i] * u->naggs + a];
        if (ag->fn == ER_AGG_ROWS) {
            s->cnt++;
            continue;
        }
        if (er_chunk_null(c, i))
            continue;
        s->cnt++;
        if (ag->fn == ER_AGG_SUM || ag->fn == ER_AGG_AVG) {
            if (c->enc == ER_ENC_F64 || type == ER_DT_REAL) {
                add_real(s, er_chunk_num(c, i));
            } else {
                int64_t v = c->enc == ER_ENC_I64 ? c->i64[i] : c->u8[i];
                add_real(s, (double)v);
                s->overflow |= __builtin_add_overflow(s->isum, v, &s->isum);
            }
        } else if (ag->fn == ER_AGG_MIN || ag->fn == ER_AGG_MAX) {
            er_val v = value_at(c, i, type);
            keep_best(s, &v, ag->fn == ER_AGG_MIN ? 1 : -1);
        }
    }
}

static er_val result_of(const run *u, const state *s, const er_colagg *ag, bool *overflow)
{
    er_val v = { .kind = ER_VAL_INT, .i = s->cnt };
    if (ag->fn == ER_AGG_ROWS || ag->fn == ER_AGG_COUNT)
        return v;
    if (s->cnt == 0)
        return (er_val){ .kind = ER_VAL_NULL };
    if (ag->fn == ER_AGG_MIN || ag->fn == ER_AGG_MAX)
        return s->best;
    bool real = er_colr_type(u->r, ag->col) == ER_DT_REAL;
    *overflow |= !real && s->overflow;
    double sum = s->rsum + s->rerr;
    if (ag->fn == ER_AGG_AVG)
        return (er_val){ .kind = ER_VAL_REAL, .f = sum / (double)s->cnt };
    return real ? (er_val){ .kind = ER_VAL_REAL, .f = sum }
                : (er_val){ .kind = ER_VAL_INT, .i = s->isum };
}

/* ---- the scan ---- */

static int scan_group(run *u, size_t g, er_error *err)
{
    uint32_t rows = er_colr_group_rows(u->r, g);
    er_chunk c;
    int rc = 0;
    for (size_t j = 0; rc == 0 && j < u->nby; j++) {
        rc = er_colr_chunk(u->r, g, u->by[j], &u->buf, &c, err);
        if (rc == 0)
            chunk_ids(u, &u->keys[j], &c, &u->ids[j * rows]);
    }
    if (rc == 0)
        chunk_groups(u, rows);
    for (size_t a = 0; rc == 0 && !u->too_many && a < u->naggs; a++) {
        if (u->aggs[a].fn == ER_AGG_ROWS)
            c = (er_chunk){ .enc = ER_ENC_NULL, .n = rows };
        else
            rc = er_colr_chunk(u->r, g, u->aggs[a].col, &u->buf, &c, err);
        if (rc == 0)
            aggregate(u, a, &c);
    }
    return rc;
}

static bool supported(const run *u)
{
    if (u->nby > 16)
        return false;
    for (size_t a = 0; a < u->naggs; a++) {
        const er_colagg *ag = &u->aggs[a];
        if ((ag->fn == ER_AGG_SUM || ag->fn == ER_AGG_AVG) &&
            !er_dtype_numeric(er_colr_type(u->r, ag->col)))
            return false; /* SQLite turns text into numbers its own way */
    }
    return true;
}

static int finish(run *u, er_colgroups *out)
{
    bool overflow = false;
    out->ngroups = u->ngroups;
    out->nby = u->nby;
    out->naggs = u->naggs;
    out->keys = er_xcalloc(u->ngroups * u->nby + 1, sizeof *out->keys);
    out->vals = er_xcalloc(u->ngroups * u->naggs + 1, sizeof *out->vals);
    for (size_t g = 0; g < u->ngroups; g++) {
        for (size_t j = 0; j < u->nby; j++)
            out->keys[g * u->nby + j] = u->keys[j].vals[u->gkeys[g * u->nby + j]];
        for (size_t a = 0; a < u->naggs; a++)
            out->vals[g * u->naggs + a] =
                result_of(u, &u->st[g * u->naggs + a], &u->aggs[a], &overflow);
    }
    out->priv = u;
    return overflow ? ER_ENOTFOUND : 0;
}

static void free_run(run *u)
{
    for (size_t j = 0; j < u->nby; j++) {
        for (size_t id = 0; id < u->keys[j].n; id++)
            if (u->keys[j].vals[id].kind == ER_VAL_TEXT)
                free((char *)u->keys[j].vals[id].s);
        free(u->keys[j].vals);
        er_strmap_release(&u->keys[j].map);
    }
    for (size_t k = 0; k < u->ngroups * u->naggs; k++)
        if (u->st[k].best.kind == ER_VAL_TEXT)
            free((char *)u->st[k].best.s);
    free(u->keys);
    free(u->gkeys);
    free(u->st);
    free(u->one);
    er_strmap_release(&u->tuples);
    free(u->ids);
    free(u->gid);
    free(u->trans);
    er_colr_buf_release(&u->buf);
    free(u);
}

int er_colgroup_run(er_colr *r, const size_t *by, size_t nby, const er_colagg *aggs, size_t naggs,
                    er_colgroups *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    run *u = er_xcalloc(1, sizeof *u);
    *u = (run){ .r = r, .by = by, .nby = nby, .aggs = aggs, .naggs = naggs };
    if (!supported(u)) {
        free(u);
        return ER_ENOTFOUND;
    }
    u->keys = er_xcalloc(nby + 1, sizeof *u->keys);
    for (size_t j = 0; j < nby; j++) {
        er_strmap_init(&u->keys[j].map);
        u->keys[j].type = er_colr_type(r, by[j]);
        u->keys[j].cap = 64;
        u->keys[j].vals = er_xmalloc(64 * sizeof *u->keys[j].vals);
        u->keys[j].vals[0] = (er_val){ .kind = ER_VAL_NULL }; /* id 0, never looked up */
        u->keys[j].n = 1;
    }
    er_strmap_init(&u->tuples);
    u->ids = er_xmalloc(((size_t)nby + 1) * ER_COL_GROUP_ROWS * sizeof *u->ids);
    u->gid = er_xmalloc(ER_COL_GROUP_ROWS * sizeof *u->gid);
    u->trans = er_xmalloc(65536 * sizeof *u->trans);
    if (nby == 0)
        new_group(u, NULL, 0); /* one group, even of no rows */
    int rc = 0;
    for (size_t g = 0; rc == 0 && !u->too_many && g < er_colr_groups(r); g++)
        rc = scan_group(u, g, err);
    if (rc == 0 && u->too_many)
        rc = ER_ENOTFOUND;
    if (rc == 0)
        rc = finish(u, out); /* out owns u from here */
    else
        free_run(u);
    if (rc)
        er_colgroups_release(out);
    return rc;
}

void er_colgroups_release(er_colgroups *g)
{
    if (g->priv)
        free_run(g->priv);
    free(g->keys);
    free(g->vals);
    memset(g, 0, sizeof *g);
}
