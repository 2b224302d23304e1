/* test_vecindex.c — the exact scan and the HNSW index (vecindex.h): top-k
 * bookkeeping, and the index's recall@10 against the exact scan on random
 * and on clustered vectors, 10k of 32 dimensions (bench/memory_bench.c measures
 * at any size, by default 100k items of 768 dimensions, where timing matters). */
#include "check.h"
#include "errand/vecindex.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define K 10

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static double uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return ((double)((rng * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}

static float gauss(void)
{
    return (float)(sqrt(-2.0 * log(uniform())) * cos(2.0 * M_PI * uniform()));
}

static void fill_random(float *v, size_t n, int dim)
{
    for (size_t i = 0; i < n; i++) {
        for (int d = 0; d < dim; d++)
            v[i * (size_t)dim + (size_t)d] = gauss();
        er_vec_normalize(v + i * (size_t)dim, dim);
    }
}

/* Points around ncent centres: what real embeddings of related texts look like. */
static void fill_clustered(float *v, size_t n, int dim, int ncent)
{
    float *cent = malloc((size_t)ncent * (size_t)dim * sizeof *cent);
    fill_random(cent, (size_t)ncent, dim);
    for (size_t i = 0; i < n; i++) {
        const float *c = cent + (size_t)(uniform() * ncent) * (size_t)dim;
        for (int d = 0; d < dim; d++)
            v[i * (size_t)dim + (size_t)d] = c[d] + 0.25f * gauss() / sqrtf((float)dim);
        er_vec_normalize(v + i * (size_t)dim, dim);
    }
    free(cent);
}

static double recall(const float *data, size_t n, int dim, const float *queries, int nq, int ef)
{
    er_hnsw *h = er_hnsw_new(dim, &(er_hnsw_params){ .m = 16, .ef_construction = 200 });
    for (size_t i = 0; i < n; i++)
        er_hnsw_add(h, data + i * (size_t)dim, (int64_t)i);
    CHECK_INT(er_hnsw_size(h), n);
    int found = 0;
    for (int q = 0; q < nq; q++) {
        int64_t exact[K], approx[K];
        float es[K], as[K];
        const float *qv = queries + (size_t)q * (size_t)dim;
        int ne = er_vec_scan(data, n, dim, qv, K, exact, es);
        int na = er_hnsw_search(h, qv, K, ef, approx, as);
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
    fprintf(stderr, "recall@%d = %.4f (n %zu, dim %d, ef %d)\n", K, r, n, dim, ef);
    return r;
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
    const size_t n = 10000; /* under ASan on a loaded machine 20k took 289 s */
    const int dim = 32, nq = 200;
    /* the queries come after the data, drawn from the same distribution */
    float *data = malloc((n + (size_t)nq) * dim * sizeof *data), *queries = data + n * dim;
    fill_random(data, n + (size_t)nq, dim);
    CHECK(recall(data, n, dim, queries, nq, 128) >= 0.95);
    fill_clustered(data, n + (size_t)nq, dim, 64);
    CHECK(recall(data, n, dim, queries, nq, 128) >= 0.95);
    free(data);
    return check_done();
}
