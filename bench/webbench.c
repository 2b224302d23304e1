/* webbench.c — errand's side of the extraction benchmark (bench/web.py):
 * the readable text of every page in a directory (written out for scoring)
 * and the extraction throughput, and how long a cached page takes to answer.
 *
 *   errand_webbench DIR OUTDIR [REPEAT] [CACHED_URL]
 *
 * Prints one JSON object: {pages, bytes, seconds (CPU), mb_per_s, cached_p50_us,
 * cached_p99_us (wall clock)}.  CACHED_URL (on an allowed 127.0.0.1 server) is fetched
 * once, then 2000 times from the in-process cache. */
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/cache.h"
#include "errand/extract.h"
#include "errand/json.h"
#include "errand/netguard.h"
#include "errand/str.h"
#include "errand/webfetch.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct page {
    char *name;
    er_buf html;
} page;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const page *)a)->name, ((const page *)b)->name);
}

static size_t load(const char *dir, page **out)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        exit(2);
    }
    size_t n = 0, cap = 0;
    page *v = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!er_str_ends(e->d_name, ".html"))
            continue;
        if (n == cap)
            v = er_xrealloc(v, (cap = cap ? cap * 2 : 32) * sizeof *v);
        v[n].name = er_xstrndup(e->d_name, strlen(e->d_name) - 5);
        er_buf_init(&v[n].html, 0);
        char *path = er_xasprintf("%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        char tmp[8192];
        size_t got;
        while (f && (got = fread(tmp, 1, sizeof tmp, f)) > 0)
            er_buf_append(&v[n].html, tmp, got);
        if (f)
            fclose(f);
        free(path);
        n++;
    }
    closedir(d);
    qsort(v, n, sizeof *v, by_name);
    *out = v;
    return n;
}

static void write_texts(const page *v, size_t n, const char *outdir)
{
    for (size_t i = 0; i < n; i++) {
        er_extract x;
        er_error err = { 0 };
        if (er_extract_html(&x, v[i].html.ptr, v[i].html.len, NULL, "http://bench.test/", &err))
            fprintf(stderr, "%s: %s\n", v[i].name, err.msg);
        char *path = er_xasprintf("%s/%s.txt", outdir, v[i].name);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(er_buf_cstr(&x.text), f);
            fclose(f);
        }
        free(path);
        er_extract_release(&x);
    }
}

/* CPU seconds of this process: fairer than wall time on a shared machine,
 * and what the peers report too. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* p50 and p99 in microseconds of a cached fetch of url. */
static void cached(const char *url, double *p50, double *p99)
{
    er_cache *cache = NULL;
    er_netguard *g = NULL;
    er_error err = { 0 };
    er_cache_open(&cache, NULL, &err);
    er_netguard_new(&g, "127.0.0.1", &err);
    er_web_opts o = { .guard = g, .cache = cache, .max_redirects = 5, .cache_ttl_ms = 600000 };
    cJSON *p = NULL;
    if (er_web_fetch(&p, url, &o, &err)) {
        fprintf(stderr, "cannot fetch %s: %s\n", url, err.msg);
        exit(1);
    }
    cJSON_Delete(p);
    enum { N = 2000 };
    static int64_t ns[N];
    for (int i = 0; i < N; i++) {
        uint64_t t0 = er_mono_ns();
        if (er_web_fetch(&p, url, &o, &err) || !er_json_bool(p, "cached", false)) {
            fprintf(stderr, "not answered from the cache: %s\n", err.msg);
            exit(1);
        }
        ns[i] = (int64_t)(er_mono_ns() - t0);
        cJSON_Delete(p);
    }
    qsort(ns, N, sizeof ns[0], cmp_i64);
    *p50 = (double)ns[N / 2] / 1000;
    *p99 = (double)ns[N * 99 / 100] / 1000;
    er_netguard_free(g);
    er_cache_close(cache);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: errand_webbench DIR OUTDIR [REPEAT] [CACHED_URL]\n");
        return 2;
    }
    long repeat = 20;
    if (argc > 3 && (er_str_to_long(argv[3], &repeat) || repeat < 1))
        return 2;
    page *v;
    size_t n = load(argv[1], &v), bytes = 0;
    write_texts(v, n, argv[2]);
    for (size_t i = 0; i < n; i++)
        bytes += v[i].html.len;
    double t0 = cpu_seconds();
    for (long r = 0; r < repeat; r++) {
        for (size_t i = 0; i < n; i++) {
            er_extract x;
            er_extract_html(&x, v[i].html.ptr, v[i].html.len, NULL, "http://bench.test/", NULL);
            er_extract_release(&x);
        }
    }
    double secs = cpu_seconds() - t0;
    double p50 = -1, p99 = -1;
    if (argc > 4)
        cached(argv[4], &p50, &p99);
    printf("{\"pages\": %zu, \"bytes\": %zu, \"seconds\": %.4f, \"mb_per_s\": %.2f, "
           "\"cached_p50_us\": %.1f, \"cached_p99_us\": %.1f}\n",
           n, bytes * (size_t)repeat, secs, (double)bytes * (double)repeat / secs / 1e6, p50, p99);
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        er_buf_release(&v[i].html);
    }
    free(v);
    return 0;
}
