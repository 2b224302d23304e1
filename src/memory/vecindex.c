/* vecindex.c — exact cosine scan and an HNSW index over normalised vectors
 * (vecindex.h).
 *
 * Similarities are dot products (the vectors are unit length), so "nearer"
 * means a higher score throughout.  The HNSW layout keeps layer 0, where
 * almost all the work happens, in one flat array (node i's neighbour count
 * then its ids), and the vectors in another, so a search walks two arrays.
 * Neighbours are chosen with the paper's heuristic (a candidate is kept only
 * if it is nearer to the node than to any neighbour kept before it), which
 * keeps the graph navigable on clustered data where plain nearest-M fails. */
#include "errand/vecindex.h"
#include "errand/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- dot product and top-k ---- */

/* Four lanes at a time in two independent accumulators: the compiler emits
 * packed multiply-adds without -ffast-math (the sum order is ours). */
typedef float v4f __attribute__((vector_size(16)));

static float dot_sse(const float *a, const float *b, int dim)
{
    v4f s0 = { 0, 0, 0, 0 }, s1 = { 0, 0, 0, 0 };
    int i = 0;
    for (; i + 8 <= dim; i += 8) {
        v4f a0, a1, b0, b1;
        memcpy(&a0, a + i, sizeof a0);
        memcpy(&a1, a + i + 4, sizeof a1);
        memcpy(&b0, b + i, sizeof b0);
        memcpy(&b1, b + i + 4, sizeof b1);
        s0 += a0 * b0;
        s1 += a1 * b1;
    }
    s0 += s1;
    float sum = s0[0] + s0[1] + s0[2] + s0[3];
    for (; i < dim; i++)
        sum += a[i] * b[i];
    return sum;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_DOT_AVX2 1
/* Eight lanes, fused multiply-adds, four accumulators (the FMA latency is
 * four cycles): most of an insert's time is these dot products, and the
 * build's baseline x86-64 target cannot use them, so they are chosen at run
 * time on a CPU that has them. */
__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b, int dim)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= dim; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s0 = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float sum = _mm_cvtss_f32(h);
    for (; i < dim; i++)
        sum += a[i] * b[i];
    return sum;
}
#endif

float er_vec_dot(const float *a, const float *b, int dim)
{
#ifdef HAVE_DOT_AVX2
    /* Decided once; a race only decides it twice, the same way. */
    static int avx2 = -1;
    if (avx2 < 0)
        avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2)
        return dot_avx2(a, b, dim);
#endif
    return dot_sse(a, b, dim);
}

void er_vec_normalize(float *v, int dim)
{
    float n = sqrtf(er_vec_dot(v, v, dim));
    if (n > 0)
        for (int i = 0; i < dim; i++)
            v[i] /= n;
}

void er_topk_init(er_topk *t, int k, int64_t *labels, float *scores)
{
    t->k = k;
    t->n = 0;
    t->labels = labels;
    t->scores = scores;
}

static void topk_swap(er_topk *t, int a, int b)
{
    float s = t->scores[a];
    t->scores[a] = t->scores[b];
    t->scores[b] = s;
    int64_t l = t->labels[a];
    t->labels[a] = t->labels[b];
    t->labels[b] = l;
}

static void topk_sift_down(er_topk *t, int i, int n)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && t->scores[l] < t->scores[m])
            m = l;
        if (r < n && t->scores[r] < t->scores[m])
            m = r;
        if (m == i)
            return;
        topk_swap(t, i, m);
        i = m;
    }
}

void er_topk_offer(er_topk *t, int64_t label, float score)
{
    if (t->k <= 0)
        return;
    if (t->n < t->k) { /* sift up: the root is the worst kept */
        int i = t->n++;
        t->scores[i] = score;
        t->labels[i] = label;
        while (i > 0 && t->scores[(i - 1) / 2] > t->scores[i]) {
            topk_swap(t, i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
        return;
    }
    if (score <= t->scores[0])
        return;
    t->scores[0] = score;
    t->labels[0] = label;
    topk_sift_down(t, 0, t->n);
}

int er_topk_sort(er_topk *t)
{
    /* Heap sort of a min-heap leaves the best first. */
    for (int end = t->n - 1; end > 0; end--) {
        topk_swap(t, 0, end);
        topk_sift_down(t, 0, end);
    }
    return t->n;
}

int er_vec_scan(const float *data, size_t n, int dim, const float *query, int k, int64_t *labels,
                float *scores)
{
    er_topk t;
    er_topk_init(&t, k, labels, scores);
    for (size_t i = 0; i < n; i++)
        er_topk_offer(&t, (int64_t)i, er_vec_dot(data + i * (size_t)dim, query, dim));
    return er_topk_sort(&t);
}

/* ---- int8 ---- */

float er_vec_quantize_i8(const float *v, int dim, int8_t *out)
{
    float max = 0;
    for (int i = 0; i < dim; i++)
        max = fabsf(v[i]) > max ? fabsf(v[i]) : max;
    if (max == 0) {
        memset(out, 0, (size_t)dim);
        return 0;
    }
    float inv = 127.0f / max;
    for (int i = 0; i < dim; i++) {
        long q = lrintf(v[i] * inv);
        out[i] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
    }
    return max / 127.0f;
}

/* Four independent sums: int8 products fit int16, their sums int32 for any
 * dim errand meets (127 * 127 * 4 * 2^15 < 2^31). */
int32_t er_vec_dot_i8(const int8_t *a, const int8_t *b, int dim)
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= dim; i += 4) {
        s0 += (int16_t)a[i] * b[i];
        s1 += (int16_t)a[i + 1] * b[i + 1];
        s2 += (int16_t)a[i + 2] * b[i + 2];
        s3 += (int16_t)a[i + 3] * b[i + 3];
    }
    for (; i < dim; i++)
        s0 += (int16_t)a[i] * b[i];
    return s0 + s1 + s2 + s3;
}

int er_vec_scan_i8(const int8_t *data, const float *scales, size_t n, int dim, const float *query,
                   int k, int64_t *labels, float *scores)
{
    int8_t *q = er_xmalloc((size_t)dim);
    float qs = er_vec_quantize_i8(query, dim, q);
    er_topk t;
    er_topk_init(&t, k, labels, scores);
    for (size_t i = 0; i < n; i++)
        er_topk_offer(&t, (int64_t)i,
                      (float)er_vec_dot_i8(data + i * (size_t)dim, q, dim) * qs * scales[i]);
    free(q);
    return er_topk_sort(&t);
}

int er_vec_rerank(const float *query, int dim, int64_t *labels, float *scores, int n, int k,
                  er_vec_fn vec_fn, void *payload)
{
    int64_t *l = er_xmalloc((size_t)(n ? n : 1) * sizeof *l);
    float *s = er_xmalloc((size_t)(n ? n : 1) * sizeof *s);
    er_topk t;
    er_topk_init(&t, k < n ? k : n, l, s);
    for (int i = 0; i < n; i++) {
        const float *v = vec_fn(labels[i], payload);
        if (v)
            er_topk_offer(&t, labels[i], er_vec_dot(query, v, dim));
    }
    int got = er_topk_sort(&t);
    memcpy(labels, l, (size_t)got * sizeof *l);
    memcpy(scores, s, (size_t)got * sizeof *s);
    free(l);
    free(s);
    return got;
}

/* ---- HNSW ---- */

typedef struct heap_item {
    float key;
    int id;
} heap_item;

/* A max-heap on key: candidates use the score (best on top), results the
 * negated score (worst on top, to be dropped). */
typedef struct heap {
    heap_item *a;
    int n, cap;
} heap;

static void heap_push(heap *h, float key, int id)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->a = er_xrealloc(h->a, (size_t)h->cap * sizeof *h->a);
    }
    int i = h->n++;
    while (i > 0 && h->a[(i - 1) / 2].key < key) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = (heap_item){ key, id };
}

static heap_item heap_pop(heap *h)
{
    heap_item top = h->a[0], last = h->a[--h->n];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = l;
        if (l >= h->n)
            break;
        if (r < h->n && h->a[r].key > h->a[l].key)
            m = r;
        if (h->a[m].key <= last.key)
            break;
        h->a[i] = h->a[m];
        i = m;
    }
    if (h->n > 0)
        h->a[i] = last;
    return top;
}

struct er_hnsw {
    int dim;
    int m, m0; /* neighbours per node: upper layers, layer 0 */
    int ef_construction, ef_search;
    double level_mult; /* 1 / ln(m) */
    uint64_t rng;
    size_t n, cap;
    float *vecs; /* cap * dim, or NULL when int8 */
    bool int8;
    int8_t *qvecs;  /* int8: cap * dim */
    float *qscales; /* int8: cap */
    int8_t *qbuf;   /* int8: a query, quantised */
    int64_t *labels;
    int *levels;
    int *links0;          /* cap * (1 + m0): count, then ids */
    int **upper;          /* per node: levels[i] * (1 + m) ints, layer l at (l-1)*(1+m) */
    int entry, max_level; /* entry -1 while empty */
    /* search scratch */
    uint32_t *visited; /* cap tags; a node is visited when its tag is visit_tag */
    uint32_t visit_tag;
    heap cand, res;
    heap_item *sel; /* selection buffer */
    int sel_cap;
    size_t compared; /* vectors the last add or search compared the query with */
};

er_hnsw *er_hnsw_new(int dim, const er_hnsw_params *p)
{
    er_hnsw *h = er_xcalloc(1, sizeof *h);
    h->dim = dim;
    h->m = p && p->m > 1 ? p->m : 16;
    h->m0 = 2 * h->m;
    h->ef_construction = p && p->ef_construction > 0 ? p->ef_construction : 200;
    h->ef_search = p && p->ef_search > 0 ? p->ef_search : 160;
    h->level_mult = 1.0 / log((double)h->m);
    h->rng = p && p->seed ? p->seed : 0x9e3779b97f4a7c15ULL;
    h->entry = -1;
    h->int8 = p && p->int8;
    if (h->int8)
        h->qbuf = er_xmalloc((size_t)dim);
    return h;
}

void er_hnsw_free(er_hnsw *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->upper[i]);
    free(h->upper);
    free(h->vecs);
    free(h->qvecs);
    free(h->qscales);
    free(h->qbuf);
    free(h->labels);
    free(h->levels);
    free(h->links0);
    free(h->visited);
    free(h->cand.a);
    free(h->res.a);
    free(h->sel);
    free(h);
}

size_t er_hnsw_size(const er_hnsw *h)
{
    return h->n;
}

int er_hnsw_dim(const er_hnsw *h)
{
    return h->dim;
}

size_t er_hnsw_compared(const er_hnsw *h)
{
    return h->compared;
}

static const float *vec_of(const er_hnsw *h, int i)
{
    return h->vecs + (size_t)i * (size_t)h->dim;
}

static const int8_t *qvec_of(const er_hnsw *h, int i)
{
    return h->qvecs + (size_t)i * (size_t)h->dim;
}

/* What a walk compares nodes with: the float vector, or its int8 form. */
typedef struct query {
    const float *f;
    const int8_t *b;
    float scale;
} query;

static float qdot(const er_hnsw *h, const query *q, int node)
{
    if (h->int8)
        return (float)er_vec_dot_i8(q->b, qvec_of(h, node), h->dim) * q->scale * h->qscales[node];
    return er_vec_dot(q->f, vec_of(h, node), h->dim);
}

static float ndot(const er_hnsw *h, int a, int b)
{
    if (h->int8)
        return (float)er_vec_dot_i8(qvec_of(h, a), qvec_of(h, b), h->dim) * h->qscales[a] *
               h->qscales[b];
    return er_vec_dot(vec_of(h, a), vec_of(h, b), h->dim);
}

static int *links_of(const er_hnsw *h, int i, int layer)
{
    if (layer == 0)
        return h->links0 + (size_t)i * (size_t)(1 + h->m0);
    return h->upper[i] + (size_t)(layer - 1) * (size_t)(1 + h->m);
}

static double next_uniform(er_hnsw *h)
{
    /* xorshift64*: the layer draws only need to be cheap and repeatable */
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    uint64_t x = h->rng * 2685821657736338717ULL;
    return ((double)(x >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

static void grow(er_hnsw *h)
{
    size_t cap = h->cap ? 2 * h->cap : 1024;
    if (h->int8) {
        h->qvecs = er_xrealloc(h->qvecs, cap * (size_t)h->dim);
        h->qscales = er_xrealloc(h->qscales, cap * sizeof *h->qscales);
    } else {
        h->vecs = er_xrealloc(h->vecs, cap * (size_t)h->dim * sizeof *h->vecs);
    }
    h->labels = er_xrealloc(h->labels, cap * sizeof *h->labels);
    h->levels = er_xrealloc(h->levels, cap * sizeof *h->levels);
    h->links0 = er_xrealloc(h->links0, cap * (size_t)(1 + h->m0) * sizeof *h->links0);
    h->upper = er_xrealloc(h->upper, cap * sizeof *h->upper);
    h->visited = er_xrealloc(h->visited, cap * sizeof *h->visited);
    memset(h->visited + h->cap, 0, (cap - h->cap) * sizeof *h->visited);
    h->cap = cap;
}

static void visit_reset(er_hnsw *h)
{
    if (++h->visit_tag == 0) { /* wrapped: old tags could collide */
        memset(h->visited, 0, h->cap * sizeof *h->visited);
        h->visit_tag = 1;
    }
}

/* Greedy walk on one layer from ep towards q; returns the nearest found. */
static int greedy(er_hnsw *h, const query *q, int ep, int layer)
{
    float best = qdot(h, q, ep);
    h->compared++;
    for (bool moved = true; moved;) {
        moved = false;
        const int *l = links_of(h, ep, layer);
        h->compared += (size_t)l[0];
        for (int j = 1; j <= l[0]; j++) {
            float s = qdot(h, q, l[j]);
            if (s > best) {
                best = s;
                ep = l[j];
                moved = true;
            }
        }
    }
    return ep;
}

static void prefetch_node(const er_hnsw *h, int i)
{
    const char *p = h->int8 ? (const char *)qvec_of(h, i) : (const char *)vec_of(h, i);
    size_t bytes = (size_t)h->dim * (h->int8 ? 1 : sizeof(float));
    /* The first lines: the hardware prefetcher follows the sequential rest. */
    for (size_t off = 0; off < bytes && off < 256; off += 64)
        __builtin_prefetch(p + off);
    __builtin_prefetch(&h->visited[i]);
}

/* Beam search of one layer: leaves the ef best found in h->res (keys are
 * negated scores, worst on top). */
static void search_layer(er_hnsw *h, const query *q, int ep, int ef, int layer)
{
    visit_reset(h);
    h->cand.n = 0;
    h->res.n = 0;
    float s = qdot(h, q, ep);
    h->compared++;
    h->visited[ep] = h->visit_tag;
    heap_push(&h->cand, s, ep);
    heap_push(&h->res, -s, ep);
    while (h->cand.n > 0) {
        heap_item c = heap_pop(&h->cand);
        float worst = -h->res.a[0].key;
        if (c.key < worst && h->res.n >= ef)
            break;
        const int *l = links_of(h, c.id, layer);
        /* The neighbours' vectors are scattered over memory: ask for the
         * next one while this one is compared. */
        if (l[0] > 0)
            prefetch_node(h, l[1]);
        for (int j = 1; j <= l[0]; j++) {
            int e = l[j];
            if (j < l[0])
                prefetch_node(h, l[j + 1]);
            if (h->visited[e] == h->visit_tag)
                continue;
            h->visited[e] = h->visit_tag;
            h->compared++;
            float d = qdot(h, q, e);
            if (h->res.n < ef || d > worst) {
                heap_push(&h->cand, d, e);
                heap_push(&h->res, -d, e);
                if (h->res.n > ef)
                    heap_pop(&h->res);
                worst = -h->res.a[0].key;
            }
        }
    }
}

static void sel_reserve(er_hnsw *h, int n)
{
    if (n > h->sel_cap) {
        h->sel_cap = n;
        h->sel = er_xrealloc(h->sel, (size_t)n * sizeof *h->sel);
    }
}

static int by_key_desc(const void *a, const void *b)
{
    float x = ((const heap_item *)a)->key, y = ((const heap_item *)b)->key;
    return (x < y) - (x > y);
}

/* The heuristic: from cands[0..n) (key: score to the base node), nearest
 * first, keep one only if it is nearer to the base than to every one kept.
 * Reorders cands; the kept ones end up in cands[0..return). */
static int select_neighbours(const er_hnsw *h, heap_item *cands, int n, int max)
{
    qsort(cands, (size_t)n, sizeof *cands, by_key_desc);
    int kept = 0;
    for (int i = 0; i < n && kept < max; i++) {
        bool good = true;
        for (int j = 0; j < kept && good; j++)
            if (ndot(h, cands[i].id, cands[j].id) > cands[i].key)
                good = false;
        if (good)
            cands[kept++] = cands[i];
    }
    return kept;
}

/* Adds the link from -> to on layer, pruning from's list when full. */
static void link_back(er_hnsw *h, int from, int to, int layer)
{
    int max = layer == 0 ? h->m0 : h->m;
    int *l = links_of(h, from, layer);
    if (l[0] < max) {
        l[1 + l[0]++] = to;
        return;
    }
    sel_reserve(h, max + 1);
    for (int j = 0; j < l[0]; j++)
        h->sel[j] = (heap_item){ ndot(h, from, l[1 + j]), l[1 + j] };
    h->sel[max] = (heap_item){ ndot(h, from, to), to };
    int kept = select_neighbours(h, h->sel, max + 1, max);
    l[0] = kept;
    for (int j = 0; j < kept; j++)
        l[1 + j] = h->sel[j].id;
}

static void connect(er_hnsw *h, int node, int layer)
{
    int n = h->res.n;
    sel_reserve(h, n);
    for (int j = 0; j < n; j++)
        h->sel[j] = (heap_item){ -h->res.a[j].key, h->res.a[j].id };
    int kept = select_neighbours(h, h->sel, n, h->m);
    int *l = links_of(h, node, layer);
    l[0] = kept;
    for (int j = 0; j < kept; j++)
        l[1 + j] = h->sel[j].id;
    /* link_back reuses h->sel but changes only the other node's list */
    for (int j = 0; j < kept; j++)
        link_back(h, l[1 + j], node, layer);
}

void er_hnsw_add(er_hnsw *h, const float *vec, int64_t label)
{
    if (h->n == h->cap)
        grow(h);
    int node = (int)h->n++;
    h->compared = 0;
    query q = { vec, NULL, 0 };
    if (h->int8) {
        int8_t *b = h->qvecs + (size_t)node * (size_t)h->dim;
        h->qscales[node] = q.scale = er_vec_quantize_i8(vec, h->dim, b);
        q.b = b;
    } else {
        memcpy(h->vecs + (size_t)node * (size_t)h->dim, vec, (size_t)h->dim * sizeof *vec);
    }
    h->labels[node] = label;
    int level = (int)(-log(next_uniform(h)) * h->level_mult);
    if (level > 32)
        level = 32;
    h->levels[node] = level;
    h->links0[(size_t)node * (size_t)(1 + h->m0)] = 0;
    h->upper[node] = NULL;
    if (level > 0) {
        h->upper[node] = er_xmalloc((size_t)level * (size_t)(1 + h->m) * sizeof(int));
        for (int l = 1; l <= level; l++)
            links_of(h, node, l)[0] = 0;
    }
    if (h->entry < 0) {
        h->entry = node;
        h->max_level = level;
        return;
    }
    int ep = h->entry;
    for (int l = h->max_level; l > level; l--)
        ep = greedy(h, &q, ep, l);
    for (int l = level < h->max_level ? level : h->max_level; l >= 0; l--) {
        search_layer(h, &q, ep, h->ef_construction, l);
        /* the nearest found enters the next layer down */
        int best = h->res.a[0].id;
        float best_s = -h->res.a[0].key;
        for (int j = 1; j < h->res.n; j++)
            if (-h->res.a[j].key > best_s) {
                best_s = -h->res.a[j].key;
                best = h->res.a[j].id;
            }
        connect(h, node, l);
        ep = best;
    }
    if (level > h->max_level) {
        h->max_level = level;
        h->entry = node;
    }
}

int er_hnsw_search(er_hnsw *h, const float *query_vec, int k, int ef, int64_t *labels,
                   float *scores)
{
    h->compared = 0;
    if (h->entry < 0 || k <= 0)
        return 0;
    if (ef <= 0)
        ef = h->ef_search;
    if (ef < k)
        ef = k;
    query q = { query_vec, NULL, 0 };
    if (h->int8) {
        q.scale = er_vec_quantize_i8(query_vec, h->dim, h->qbuf);
        q.b = h->qbuf;
    }
    int ep = h->entry;
    for (int l = h->max_level; l > 0; l--)
        ep = greedy(h, &q, ep, l);
    search_layer(h, &q, ep, ef, 0);
    er_topk t;
    er_topk_init(&t, k, labels, scores);
    for (int j = 0; j < h->res.n; j++)
        er_topk_offer(&t, h->labels[h->res.a[j].id], -h->res.a[j].key);
    return er_topk_sort(&t);
}
