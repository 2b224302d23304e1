/* test_vecindex.c — the exact scan and the HNSW index (vecindex.h): top-k
 * bookkeeping, and the index's recall@10 against the exact float32 scan on
 * random and on clustered vectors, 10k of 32 dimensions, with float32 and
 * with int8-quantised vectors (the int8 scan too).  tests/memory/recall_100k.c
 * checks 100k (too slow under the sanitizers); bench/memory_bench.c measures
 * at any size, by default 100k items of 768 dimensions, where timing matters. */
#include "check.h"
#include "errand/vecindex.h"
#include "vecgen.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define K 10

static vecgen gen = { 0x2545f4914f6cdd1dULL };

#define OVERFETCH 4 /* int8: candidates asked for per hit wanted, scored again in float32 */

typedef struct vecs {
    const float *data;
    int dim;
} vecs;

static const float *data_vec(int64_t label, void *payload)
{
    const vecs *v = payload;
    return v->data + (size_t)label * (size_t)v->dim;
}

/* The int8 candidates (OVERFETCH * K of them) scored again with data's floats. */
static int rescore(const float *data, int dim, const float *qv, int64_t *labels, float *scores,
                   int n)
{
    vecs v = { data, dim };
    return er_vec_rerank(qv, dim, labels, scores, n, K, data_vec, &v);
}

static double recall(const float *data, size_t n, int dim, const float *queries, int nq, int ef,
                     bool int8)
{
    er_hnsw *h =
        er_hnsw_new(dim, &(er_hnsw_params){ .m = 16, .ef_construction = 200, .int8 = int8 });
    for (size_t i = 0; i < n; i++)
        er_hnsw_add(h, data + i * (size_t)dim, (int64_t)i);
    CHECK_INT(er_hnsw_size(h), n);
    int found = 0;
    for (int q = 0; q < nq; q++) {
        int64_t exact[K], approx[OVERFETCH * K];
        float es[K], as[OVERFETCH * K];
        const float *qv = queries + (size_t)q * (size_t)dim;
        int ne = er_vec_scan(data, n, dim, qv, K, exact, es);
        int na = er_hnsw_search(h, qv, int8 ? OVERFETCH * K : K, ef, approx, as);
        if (int8)
            na = rescore(data, dim, qv, approx, as, na);
        CHECK_INT(ne, K);
        CHECK_INT(na, K);
        for (int i = 0; i < ne; i++)
            for (int j = 0; j < na; j++)
                if (exact[i] == approx[j]) {
                    found++;
                    break;
                }
        for (int j = 1; j < na; j++)
            CHECK(as[j - 1] >= as[j]); /* best first */
    }
    er_hnsw_free(h);
    double r = (double)found / (nq * K);
    fprintf(stderr, "recall@%d = %.4f (n %zu, dim %d, ef %d%s)\n", K, r, n, dim, ef,
            int8 ? ", int8, 4k rescored" : "");
    return r;
}

/* The int8 exact scan (its candidates scored again) against the float32 one. */
static double recall_scan_i8(const float *data, size_t n, int dim, const float *queries, int nq)
{
    int8_t *q8 = malloc(n * (size_t)dim);
    float *scales = malloc(n * sizeof *scales);
    for (size_t i = 0; i < n; i++)
        scales[i] = er_vec_quantize_i8(data + i * (size_t)dim, dim, q8 + i * (size_t)dim);
    int found = 0;
    for (int q = 0; q < nq; q++) {
        int64_t exact[K], approx[OVERFETCH * K];
        float es[K], as[OVERFETCH * K];
        const float *qv = queries + (size_t)q * (size_t)dim;
        CHECK_INT(er_vec_scan(data, n, dim, qv, K, exact, es), K);
        int na = er_vec_scan_i8(q8, scales, n, dim, qv, OVERFETCH * K, approx, as);
        CHECK_INT(na, OVERFETCH * K);
        CHECK(fabsf(as[0] - es[0]) < 0.02f); /* int8's own scores are close */
        CHECK_INT(rescore(data, dim, qv, approx, as, na), K);
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
                if (exact[i] == approx[j]) {
                    found++;
                    break;
                }
    }
    free(q8);
    free(scales);
    double r = (double)found / (nq * K);
    fprintf(stderr, "recall@%d = %.4f (n %zu, dim %d, int8 exact scan, %dk rescored)\n", K, r, n,
            dim, OVERFETCH);
    return r;
}

static void test_quantize(void)
{
    float v[37];
    int8_t q[37];
    for (int i = 0; i < 37; i++)
        v[i] = sinf((float)i) * (i % 5 ? 1.0f : -2.0f);
    float scale = er_vec_quantize_i8(v, 37, q);
    CHECK(scale > 0);
    int maxed = 0;
    for (int i = 0; i < 37; i++) {
        CHECK(fabsf((float)q[i] * scale - v[i]) <= scale * 0.5f + 1e-6f);
        maxed += q[i] == 127 || q[i] == -127;
    }
    CHECK(maxed >= 1); /* the largest magnitude uses the whole range */
    double want = 0;
    for (int i = 0; i < 37; i++)
        want += (double)q[i] * q[i];
    CHECK_INT(er_vec_dot_i8(q, q, 37), (int32_t)want);
    float z[5] = { 0 };
    CHECK(er_vec_quantize_i8(z, 5, q) == 0.0f);
    CHECK_INT(q[0], 0);
}

static void test_topk(void)
{
    int64_t labels[3];
    float scores[3];
    er_topk t;
    er_topk_init(&t, 3, labels, scores);
    float in[] = { 0.1f, 0.9f, -0.5f, 0.4f, 0.95f, 0.3f };
    for (int i = 0; i < 6; i++)
        er_topk_offer(&t, i, in[i]);
    CHECK_INT(er_topk_sort(&t), 3);
    CHECK_INT(labels[0], 4);
    CHECK_INT(labels[1], 1);
    CHECK_INT(labels[2], 3);
    /* fewer than k offered */
    er_topk_init(&t, 3, labels, scores);
    er_topk_offer(&t, 7, 0.5f);
    CHECK_INT(er_topk_sort(&t), 1);
    CHECK_INT(labels[0], 7);
}

static void test_dot(void)
{
    float a[13], b[13];
    double want = 0;
    for (int i = 0; i < 13; i++) { /* not a multiple of the lanes: the tail counts */
        a[i] = (float)i * 0.5f;
        b[i] = 1.0f - (float)i * 0.1f;
        want += (double)a[i] * b[i];
    }
    CHECK(fabs(er_vec_dot(a, b, 13) - want) < 1e-4);
    float z[4] = { 0, 0, 0, 0 };
    er_vec_normalize(z, 4);
    CHECK(z[0] == 0.0f);
}

static void test_small_index(void)
{
    er_hnsw *h = er_hnsw_new(4, NULL);
    int64_t l[5];
    float s[5];
    CHECK_INT(er_hnsw_search(h, (float[]){ 1, 0, 0, 0 }, 5, 0, l, s), 0);
    float v[3][4] = { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0.6f, 0.8f, 0, 0 } };
    for (int i = 0; i < 3; i++)
        er_hnsw_add(h, v[i], 100 + i);
    CHECK_INT(er_hnsw_search(h, (float[]){ 1, 0, 0, 0 }, 5, 0, l, s), 3);
    CHECK_INT(l[0], 100);
    CHECK_INT(l[1], 102);
    CHECK_INT(l[2], 101);
    er_hnsw_free(h);
}

int main(void)
{
    test_topk();
    test_dot();
    test_small_index();
    test_quantize();
    const size_t n = 10000; /* under ASan on a loaded machine 20k took 289 s */
    const int dim = 32, nq = 200;
    /* the queries come after the data, drawn from the same distribution */
    float *data = malloc((n + (size_t)nq) * dim * sizeof *data), *queries = data + n * dim;
    vecgen_random(&gen, data, n + (size_t)nq, dim);
    CHECK(recall(data, n, dim, queries, nq, 128, false) >= 0.95);
    CHECK(recall(data, n, dim, queries, nq, 128, true) >= 0.95);
    CHECK(recall_scan_i8(data, n, dim, queries, nq) >= 0.95);
    vecgen_clustered(&gen, data, n + (size_t)nq, dim, 64, 0.25f);
    CHECK(recall(data, n, dim, queries, nq, 128, false) >= 0.95);
    CHECK(recall(data, n, dim, queries, nq, 128, true) >= 0.95);
    CHECK(recall_scan_i8(data, n, dim, queries, nq) >= 0.95);
    free(data);
    return check_done();
}
