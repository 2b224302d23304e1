/* memory.c — save and search shared memory: embeddings cached in the store,
 * full text and vectors fused by reciprocal rank (memory.h). */
#include "errand/memory.h"
#include "errand/alloc.h"
#include "errand/digest.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/vecindex.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_K 10

struct er_memory {
    er_store *st;
    er_embedder *emb;
    int exact_max;
    bool int8;                /* the index holds int8 vectors: its hits are scored again */
    pthread_mutex_t lock;     /* guards the index and used_index */
    er_hnsw *index;           /* NULL until a search needs it */
    char (*index_hashes)[65]; /* label → the text hash of that vector */
    size_t index_cap;
    int64_t index_max_seq; /* highest stored seq the index holds */
    bool used_index;
};

void er_memory_opts_from_config(er_memory_opts *out, const er_config *cfg)
{
    memset(out, 0, sizeof *out);
    out->embed.model = cfg->memory_embedding_model;
    out->embed.base_url = cfg->openai_base_url;
    out->embed.api_key = cfg->openai_api_key;
    out->embed.timeout_ms = cfg->llm_timeout > 0 ? cfg->llm_timeout * 1000 : 0;
    out->embed.retries = (int)cfg->llm_retries;
    out->exact_max = cfg->memory_exact_max > 0 ? (int)cfg->memory_exact_max : 0;
    const char *qz = cfg->memory_quantize;
    out->int8 = qz && strcmp(qz, "int8") == 0;
    if (qz && !out->int8 && strcmp(qz, "float32") != 0)
        er_log(ER_LOG_WARN, "memory", "memory.quantize is '%s': float32 or int8; using float32",
               qz);
}

int er_memory_open(er_memory **out, er_store *st, const er_memory_opts *opts, er_error *err)
{
    *out = NULL;
    er_embedder *emb;
    int rc = er_embedder_open(&emb, opts ? &opts->embed : NULL, err);
    if (rc)
        return rc;
    er_memory *m = er_xcalloc(1, sizeof *m);
    m->st = st;
    m->emb = emb;
    m->exact_max = opts && opts->exact_max ? opts->exact_max : ER_MEMORY_EXACT_MAX;
    m->int8 = opts && opts->int8;
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return 0;
}

void er_memory_close(er_memory *m)
{
    if (!m)
        return;
    er_embedder_close(m->emb);
    er_hnsw_free(m->index);
    free(m->index_hashes);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

const char *er_memory_model(const er_memory *m)
{
    return er_embedder_model(m->emb);
}

bool er_memory_used_index(const er_memory *m)
{
    pthread_mutex_lock((pthread_mutex_t *)&m->lock);
    bool used = m->used_index;
    pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
    return used;
}

/* ---- saving ---- */

typedef struct save_tx {
    er_memory *m;
    const char *model;
    er_memory_item *items;
    size_t n;
    bool *created;
    const size_t *todo_at; /* items whose text needed embedding, and their vectors */
    size_t ntodo;
    float *vecs;
    int dim;
} save_tx;

/* The items and their new vectors in one transaction: an item is never
 * stored without its vector. */
static int save_items(er_store *st, void *payload, er_error *err)
{
    save_tx *t = payload;
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++)
        rc = er_store_memory_put(st, &t->items[i], t->created ? &t->created[i] : NULL, err);
    for (size_t j = 0; j < t->ntodo && rc == 0; j++)
        rc = er_store_memory_vec_put(st, t->model, t->items[t->todo_at[j]].hash,
                                     t->vecs + j * (size_t)t->dim, t->dim, err);
    return rc;
}

int er_memory_save(er_memory *m, er_memory_item *items, size_t n, bool *created, er_error *err)
{
    const char *model = er_embedder_model(m->emb);
    const char **todo = er_xcalloc(n ? n : 1, sizeof *todo);
    size_t *todo_at = er_xcalloc(n ? n : 1, sizeof *todo_at);
    size_t ntodo = 0;
    int rc = 0;
    /* The texts with no stored vector yet: the store is the embedding cache. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (er_str_empty(items[i].text)) {
            rc = er_error_set(err, ER_EINVAL, "a memory needs some text");
            break;
        }
        rc = er_sha256_hex(items[i].text, strlen(items[i].text), items[i].hash, err);
        float *v = NULL;
        int dim = 0;
        if (rc == 0) {
            rc = er_store_memory_vec_get(m->st, model, items[i].hash, &v, &dim, err);
            if (rc == ER_ENOTFOUND) {
                rc = 0;
                todo_at[ntodo] = i;
                todo[ntodo++] = items[i].text;
            }
        }
        free(v);
    }
    save_tx tx = { m, model, items, n, created, todo_at, ntodo, NULL, 0 };
    if (rc == 0 && ntodo) /* before the transaction: the provider may be slow */
        rc = er_embedder_embed(m->emb, todo, ntodo, &tx.vecs, &tx.dim, err);
    if (rc == 0)
        rc = er_store_transaction(m->st, save_items, &tx, err);
    free(tx.vecs);
    free(todo);
    free(todo_at);
    return rc;
}

/* ---- the vector list ---- */

typedef struct vec_ranked {
    char (*hashes)[65];
    int64_t *labels;
    float *scores;
    int n;
} vec_ranked;

typedef struct scan_ctx {
    const float *query;
    int dim;
    er_topk top;
    char (*hashes)[65]; /* label → hash, for what was offered */
    size_t n, cap;
} scan_ctx;

static int scan_offer(int64_t seq, const char *hash, const float *vec, int dim, void *payload)
{
    (void)seq;
    scan_ctx *c = payload;
    if (dim != c->dim)
        return 0; /* another dimension: not comparable */
    float s = er_vec_dot(c->query, vec, dim);
    if (c->top.n == c->top.k && s <= c->top.scores[0])
        return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->hashes = er_xrealloc(c->hashes, c->cap * sizeof *c->hashes);
    }
    snprintf(c->hashes[c->n], sizeof c->hashes[c->n], "%s", hash);
    er_topk_offer(&c->top, (int64_t)c->n++, s);
    return 0;
}

static int index_add(int64_t seq, const char *hash, const float *vec, int dim, void *payload)
{
    er_memory *m = payload;
    if (dim != er_hnsw_dim(m->index))
        return 0;
    size_t label = er_hnsw_size(m->index);
    if (label == m->index_cap) {
        m->index_cap = m->index_cap ? 2 * m->index_cap : 1024;
        m->index_hashes = er_xrealloc(m->index_hashes, m->index_cap * sizeof *m->index_hashes);
    }
    snprintf(m->index_hashes[label], sizeof m->index_hashes[label], "%s", hash);
    er_hnsw_add(m->index, vec, (int64_t)label);
    m->index_max_seq = seq;
    return 0;
}

/* Brings the index up to the stored vectors (called with m->lock held):
 * new ones are added; when some were deleted it is built again. */
static int index_refresh(er_memory *m, int dim, int64_t count, er_error *err)
{
    if (m->index && (er_hnsw_dim(m->index) != dim || (int64_t)er_hnsw_size(m->index) > count)) {
        er_hnsw_free(m->index);
        m->index = NULL;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (!m->index) {
            m->index = er_hnsw_new(dim, &(er_hnsw_params){ .int8 = m->int8 });
            m->index_max_seq = 0;
        }
        int rc = er_store_memory_vec_scan(m->st, er_embedder_model(m->emb), m->index_max_seq,
                                          index_add, m, err);
        /* as many as stored: up to date; otherwise some were deleted (and
         * others added since): build it again, once */
        if (rc || (int64_t)er_hnsw_size(m->index) == count || pass == 1)
            return rc;
        er_hnsw_free(m->index);
        m->index = NULL;
    }
    return 0;
}

/* An int8 index's candidates, scored again with their stored float32 vectors. */
typedef struct rerank_ctx {
    er_memory *m;
    const char *model;
    int dim;
    float **got; /* the vectors read, freed after */
    int ngot;
} rerank_ctx;

static const float *stored_vec(int64_t label, void *payload)
{
    rerank_ctx *c = payload;
    float *v = NULL;
    int dim = 0;
    if (er_store_memory_vec_get(c->m->st, c->model, c->m->index_hashes[label], &v, &dim, NULL))
        return NULL; /* forgotten since: dropped */
    c->got[c->ngot++] = v;
    return dim == c->dim ? v : NULL;
}

static int rerank(er_memory *m, const char *model, const float *qv, int dim, vec_ranked *r)
{
    rerank_ctx c = { m, model, dim, er_xmalloc(((size_t)r->n + 1) * sizeof(float *)), 0 };
    int n = er_vec_rerank(qv, dim, r->labels, r->scores, r->n, r->n, stored_vec, &c);
    for (int i = 0; i < c.ngot; i++)
        free(c.got[i]);
    free(c.got);
    return n;
}

/* The hashes nearest the query, best first, in r (OWNED arrays). */
static int vector_list(er_memory *m, const er_memory_query *q, int want, vec_ranked *r,
                       er_error *err)
{
    memset(r, 0, sizeof *r);
    const char *model = er_embedder_model(m->emb);
    float *qv = NULL;
    int dim = 0;
    const char *texts[] = { q->text };
    int rc = er_embedder_embed(m->emb, texts, 1, &qv, &dim, err);
    int64_t count = 0, max_seq = 0;
    if (rc == 0)
        rc = er_store_memory_vec_stat(m->st, model, &count, &max_seq, err);
    if (rc) {
        free(qv);
        return rc;
    }
    bool approximate = m->exact_max < 0 || count > m->exact_max;
    if (approximate)
        want *= ER_MEMORY_INDEX_OVERFETCH;
    r->labels = er_xmalloc((size_t)want * sizeof *r->labels);
    r->scores = er_xmalloc((size_t)want * sizeof *r->scores);
    if (!approximate) {
        /* exact: only the vectors of items the filter lets through */
        scan_ctx c = { qv, dim, { 0, 0, NULL, NULL }, NULL, 0, 0 };
        er_topk_init(&c.top, want, r->labels, r->scores);
        rc = er_store_memory_vec_items(m->st, model, &q->filter, scan_offer, &c, err);
        r->n = er_topk_sort(&c.top);
        r->hashes = er_xmalloc(((size_t)r->n + 1) * sizeof *r->hashes);
        for (int i = 0; i < r->n; i++)
            memcpy(r->hashes[i], c.hashes[r->labels[i]], sizeof r->hashes[i]);
        free(c.hashes);
    } else {
        pthread_mutex_lock(&m->lock);
        rc = index_refresh(m, dim, count, err);
        if (rc == 0) {
            /* the index's own beam (ef_search), widened to what is asked for */
            r->n = er_hnsw_search(m->index, qv, want, 0, r->labels, r->scores);
            if (m->int8)
                r->n = rerank(m, model, qv, dim, r);
            r->hashes = er_xmalloc(((size_t)r->n + 1) * sizeof *r->hashes);
            for (int i = 0; i < r->n; i++)
                memcpy(r->hashes[i], m->index_hashes[r->labels[i]], sizeof r->hashes[i]);
        }
        pthread_mutex_unlock(&m->lock);
    }
    pthread_mutex_lock(&m->lock);
    m->used_index = approximate;
    pthread_mutex_unlock(&m->lock);
    free(qv);
    return rc;
}

/* ---- fusion ---- */

typedef struct fused {
    er_memory_hit *hits;
    size_t n, cap;
    /* while adding the vector list's items */
    int rank;
    float score;
} fused;

static er_memory_hit *hit_for(fused *f, const er_memory_item *it)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->hits[i].item.id, it->id) == 0)
            return &f->hits[i];
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 32;
        f->hits = er_xrealloc(f->hits, f->cap * sizeof *f->hits);
    }
    er_memory_hit *h = &f->hits[f->n++];
    memset(h, 0, sizeof *h);
    er_memory_item_copy(&h->item, it);
    return h;
}

static int add_text_hit(const er_memory_item *it, double score, void *payload)
{
    fused *f = payload;
    er_memory_hit *h = hit_for(f, it);
    h->text_rank = ++f->rank;
    h->text_score = score;
    h->score += 1.0 / (ER_MEMORY_RRF_K + h->text_rank);
    return 0;
}

static int add_vec_hit(const er_memory_item *it, void *payload)
{
    fused *f = payload;
    er_memory_hit *h = hit_for(f, it);
    if (h->vec_rank)
        return 0;
    h->vec_rank = f->rank;
    h->vec_score = f->score;
    h->score += 1.0 / (ER_MEMORY_RRF_K + h->vec_rank);
    return 0;
}

static int by_score(const void *a, const void *b)
{
    const er_memory_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->item.updated_ms < y->item.updated_ms) - (x->item.updated_ms > y->item.updated_ms);
}

/* Items of the ranked hashes, in rank order (the same text in several places
 * gives several items, with one rank). */
static int add_vector_hits(er_memory *m, const er_memory_query *q, const vec_ranked *r, fused *f,
                           er_error *err)
{
    int rc = 0;
    for (int i = 0; i < r->n && rc == 0; i++) {
        if (r->scores[i] <= 0)
            break; /* unrelated or opposite: no evidence at all */
        const char *h = r->hashes[i];
        f->rank = i + 1;
        f->score = r->scores[i];
        rc = er_store_memory_by_hash(m->st, &h, 1, &q->filter, add_vec_hit, f, err);
    }
    return rc;
}

int er_memory_search(er_memory *m, const er_memory_query *q, er_memory_hit **out, size_t *n,
                     er_error *err)
{
    *out = NULL;
    *n = 0;
    if (er_str_empty(q->text))
        return er_error_set(err, ER_EINVAL, "a memory search needs some words");
    int k = q->k > 0 ? q->k : DEFAULT_K;
    int want = ER_MEMORY_LIST_DEPTH * k;
    fused f = { NULL, 0, 0, 0, 0 };
    int rc = 0;
    if (q->mode != ER_MEMORY_VECTOR) {
        er_memory_filter tf = q->filter;
        tf.limit = want;
        rc = er_store_memory_text_search(m->st, q->text, &tf, add_text_hit, &f, err);
    }
    if (rc == 0 && q->mode != ER_MEMORY_TEXT) {
        vec_ranked r;
        rc = vector_list(m, q, want, &r, err);
        if (rc == 0)
            rc = add_vector_hits(m, q, &r, &f, err);
        free(r.hashes);
        free(r.labels);
        free(r.scores);
    }
    if (rc) {
        er_memory_hits_free(f.hits, f.n);
        return rc;
    }
    if (f.n) /* qsort wants an array, even of none */
        qsort(f.hits, f.n, sizeof *f.hits, by_score);
    while (f.n > (size_t)k)
        er_memory_item_release(&f.hits[--f.n].item);
    *out = f.hits;
    *n = f.n;
    return 0;
}

void er_memory_hits_free(er_memory_hit *hits, size_t n)
{
    for (size_t i = 0; i < n; i++)
        er_memory_item_release(&hits[i].item);
    free(hits);
}

cJSON *er_memory_item_json(const er_memory_item *m)
{
    cJSON *j = cJSON_CreateObject();
    char ts[32];
    er_json_add_str(j, "id", m->id);
    er_json_add_str(j, "text", m->text);
    er_json_add_str(j, "kind", m->kind);
    er_json_add_str(j, "scope", m->scope);
    er_json_add_str(j, "scope_id", m->scope_id && *m->scope_id ? m->scope_id : NULL);
    er_json_add_str(j, "source", m->source && *m->source ? m->source : NULL);
    er_json_add_str(j, "owner", m->user_id && *m->user_id ? "user" : "shared");
    er_json_add(j, "untrusted", cJSON_CreateBool(m->untrusted));
    er_json_add_str(j, "hash", m->hash);
    er_time_iso(m->created_ms, ts, sizeof ts);
    er_json_add_str(j, "created", ts);
    er_time_iso(m->updated_ms, ts, sizeof ts);
    er_json_add_str(j, "updated", ts);
    if (m->expires_ms) {
        er_time_iso(m->expires_ms, ts, sizeof ts);
        er_json_add_str(j, "expires", ts);
    }
    return j;
}
