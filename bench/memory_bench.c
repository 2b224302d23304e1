/* memory_bench.c — vector search of shared memory (vecindex.h) at N items:
 * HNSW insert rate, exact-scan and HNSW search latency (p50/p99), recall@10
 * of the index against the scan, peak RSS.  Figures, not a pass/fail test
 * (the recall floor is tests/unit/test_vecindex.c's).
 *
 *   errand_memory_bench [--n N] [--dim D] [--queries Q] [--m M] [--efc EF]
 *                       [--clusters C] [--dump FILE] [--int8]
 *
 * The vectors are clustered (C centres, default 1000; 0: uniform on the
 * sphere), as embeddings of related texts are.  --dump writes them (N data
 * then Q queries, float32, row-major) so bench/memory.py can give the very
 * same vectors to FAISS and hnswlib. */
#include "errand/str.h"
#include "errand/vecindex.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define K 10

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: on a machine loaded by other work the wall clock
 * measures the load as much as the code. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill(float *v, size_t n, int dim, int clusters)
{
    float *cent = NULL;
    if (clusters > 0) {
        cent = malloc((size_t)clusters * (size_t)dim * sizeof *cent);
        for (size_t i = 0; i < (size_t)clusters * (size_t)dim; i++)
            cent[i] = gauss();
        for (int c = 0; c < clusters; c++)
            er_vec_normalize(cent + (size_t)c * (size_t)dim, dim);
    }
    for (size_t i = 0; i < n; i++) {
        float *row = v + i * (size_t)dim;
        const float *c = cent ? cent + (size_t)(uniform() * clusters) * (size_t)dim : NULL;
        for (int d = 0; d < dim; d++)
            row[d] = c ? c[d] + 0.5f * gauss() / sqrtf((float)dim) : gauss();
        er_vec_normalize(row, dim);
    }
    free(cent);
}

static void report(const char *what, double *lat, int n)
{
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    printf("  %-28s p50 %8.3f ms   p99 %8.3f ms\n", what, lat[n / 2] * 1e3,
           lat[(int)(n * 0.99)] * 1e3);
}

static long arg_long(int argc, char **argv, const char *name, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) {
            long v;
            if (er_str_to_long(argv[i + 1], &v) == 0)
                return v;
            fprintf(stderr, "memory_bench: %s needs a number\n", name);
            exit(2);
        }
    return def;
}

typedef struct bench_vecs {
    const float *data;
    int dim;
} bench_vecs;

static const float *bench_vec(int64_t label, void *payload)
{
    const bench_vecs *v = payload;
    return v->data + (size_t)label * (size_t)v->dim;
}

int main(int argc, char **argv)
{
    size_t n = (size_t)arg_long(argc, argv, "--n", 100000);
    int dim = (int)arg_long(argc, argv, "--dim", 768);
    int nq = (int)arg_long(argc, argv, "--queries", 500);
    int m = (int)arg_long(argc, argv, "--m", 16);
    int efc = (int)arg_long(argc, argv, "--efc", 200);
    int clusters = (int)arg_long(argc, argv, "--clusters", 1000);
    const char *dump = NULL;
    bool int8 = false; /* the index keeps int8 vectors; 4k candidates scored again in float32 */
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--dump") == 0)
            dump = argv[i + 1];
        int8 |= strcmp(argv[i], "--int8") == 0;
    }
    float *data = malloc((n + (size_t)nq) * (size_t)dim * sizeof *data);
    if (!data) {
        fprintf(stderr, "memory_bench: out of memory\n");
        return 1;
    }
    float *queries = data + n * (size_t)dim;
    fill(data, n + (size_t)nq, dim, clusters);
    if (dump) {
        FILE *f = fopen(dump, "wb");
        if (!f || fwrite(data, sizeof *data, (n + (size_t)nq) * (size_t)dim, f) !=
                      (n + (size_t)nq) * (size_t)dim) {
            perror(dump);
            return 1;
        }
        fclose(f);
    }
    printf("memory vectors: n %zu, dim %d, %d queries, %s, HNSW m %d ef_construction %d%s\n", n,
           dim, nq, clusters ? "clustered" : "uniform", m, efc, int8 ? ", int8 (4k rescored)" : "");

    er_hnsw *h =
        er_hnsw_new(dim, &(er_hnsw_params){ .m = m, .ef_construction = efc, .int8 = int8 });
    bench_vecs bv = { data, dim };
    double t0 = now_s(), c0 = cpu_s();
    for (size_t i = 0; i < n; i++)
        er_hnsw_add(h, data + i * (size_t)dim, (int64_t)i);
    double build = now_s() - t0, cpu = cpu_s() - c0;
    printf("  HNSW insert                  %8.0f vectors/s (%.1f s), %.0f vectors/CPU-s (%.1f s)\n",
           (double)n / build, build, (double)n / cpu, cpu);

    double *lat = malloc((size_t)nq * sizeof *lat);
    int64_t(*truth)[K] = malloc((size_t)nq * sizeof *truth);
    float scores[4 * K];
    for (int q = 0; q < nq; q++) {
        double s = now_s();
        er_vec_scan(data, n, dim, queries + (size_t)q * (size_t)dim, K, truth[q], scores);
        lat[q] = now_s() - s;
    }
    report("exact scan", lat, nq);
    static const int efs[] = { 32, 64, 128, 256 };
    for (size_t e = 0; e < sizeof efs / sizeof *efs; e++) {
        int found = 0;
        for (int q = 0; q < nq; q++) {
            int64_t got[4 * K];
            const float *qv = queries + (size_t)q * (size_t)dim;
            double s = now_s();
            int k = er_hnsw_search(h, qv, int8 ? 4 * K : K, efs[e], got, scores);
            if (int8)
                k = er_vec_rerank(qv, dim, got, scores, k, K, bench_vec, &bv);
            lat[q] = now_s() - s;
            for (int i = 0; i < K; i++)
                for (int j = 0; j < k; j++)
                    if (truth[q][i] == got[j]) {
                        found++;
                        break;
                    }
        }
        char what[64];
        snprintf(what, sizeof what, "HNSW ef %d (recall %.3f)", efs[e], (double)found / (nq * K));
        report(what, lat, nq);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  peak RSS                     %8.0f MB (the vectors, held twice here: %.0f MB)\n",
           (double)ru.ru_maxrss / 1024.0,
           (double)(n + (size_t)nq) * dim * sizeof(float) / 1048576.0 * 2);
    er_hnsw_free(h);
    free(lat);
    free(truth);
    free(data);
    return 0;
}
