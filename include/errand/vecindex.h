/* vecindex.h — nearest neighbours of L2-normalised float32 vectors by cosine
 * similarity (their dot product): an exact scan and an approximate index.
 *
 * The exact scan is a dot product per vector written so that the compiler
 * vectorises it (independent accumulators, no branches), with a bounded heap
 * of the k best.  The approximate index is HNSW (Malkov & Yashunin, 2016): a
 * layered proximity graph searched greedily from the top layer down, with a
 * beam of ef candidates on the bottom layer.  Memory search (memory.h) scans
 * while a model has at most memory.exact_max vectors and uses the index
 * above that; tests/unit/test_vecindex.c measures its recall against the scan
 * at 10k vectors, tests/memory/recall_100k.c at 100k with memory's defaults.
 *
 * An er_hnsw is not thread-safe: its owner locks around add and search. */
#ifndef ERRAND_VECINDEX_H
#define ERRAND_VECINDEX_H

#include "common.h"

/* Dot product of a and b (dim values each). */
float er_vec_dot(const float *a, const float *b, int dim);
/* Scales v to unit length (a zero vector stays zero). */
void er_vec_normalize(float *v, int dim);

/* The k best (highest score) of the candidates offered to it, kept in a
 * min-heap.  labels and scores: caller-owned arrays of k entries. */
typedef struct er_topk {
    int k;
    int n;
    int64_t *labels;
    float *scores;
} er_topk;

void er_topk_init(er_topk *t, int k, int64_t *labels, float *scores);
void er_topk_offer(er_topk *t, int64_t label, float score);
/* Sorts what it holds best first; returns how many. */
int er_topk_sort(er_topk *t);

/* Exact scan of n vectors stored one after another in data. */
int er_vec_scan(const float *data, size_t n, int dim, const float *query, int k, int64_t *labels,
                float *scores);

/* int8 quantisation: v (dim values) as round(v / scale) in [-127, 127] with
 * scale = max |v| / 127, one scale per vector; returns the scale (0 for a
 * zero vector).  A quarter of float32's memory; the dot product of two
 * quantised vectors, times their scales, approximates theirs. */
float er_vec_quantize_i8(const float *v, int dim, int8_t *out);
int32_t er_vec_dot_i8(const int8_t *a, const int8_t *b, int dim);
/* Exact scan of n int8 vectors (one after another, scales[i] each) for the
 * float query (quantised the same way first). */
int er_vec_scan_i8(const int8_t *data, const float *scales, size_t n, int dim, const float *query,
                   int k, int64_t *labels, float *scores);

/* Scores labels[0..n) again against query with the float32 vectors vec_fn
 * gives (NULL: that label is dropped), and keeps the k best, best first, in
 * labels and scores; returns how many.  After an int8 search of more
 * candidates than wanted, this gives float32's ranking back. */
typedef const float *(*er_vec_fn)(int64_t label, void *payload);
int er_vec_rerank(const float *query, int dim, int64_t *labels, float *scores, int n, int k,
                  er_vec_fn vec_fn, void *payload);

typedef struct er_hnsw er_hnsw;

typedef struct er_hnsw_params {
    int m;               /* neighbours per node above layer 0 (layer 0: 2m); 0: 16 */
    int ef_construction; /* beam while inserting; 0: 200 */
    int ef_search;       /* beam while searching (widened to k); 0: 160 */
    uint64_t seed;       /* for the layer draws; 0: a fixed one */
    bool int8;           /* keep the vectors int8-quantised (a quarter of the memory);
                            scores are then approximate too */
} er_hnsw_params;

/* OWNED: free with er_hnsw_free. */
er_hnsw *er_hnsw_new(int dim, const er_hnsw_params *p);
void er_hnsw_free(er_hnsw *h);
size_t er_hnsw_size(const er_hnsw *h);
int er_hnsw_dim(const er_hnsw *h);
/* Adds a copy of vec (normalised by the caller) under label. */
void er_hnsw_add(er_hnsw *h, const float *vec, int64_t label);
/* The k nearest it finds, best first; returns how many (<= k).  ef <= 0:
 * the index's ef_search.  Uses the index's scratch space: not concurrently. */
int er_hnsw_search(er_hnsw *h, const float *query, int k, int ef, int64_t *labels, float *scores);
/* How many stored vectors the last er_hnsw_search (or er_hnsw_add) compared
 * its vector with: what separates it from a scan of er_hnsw_size() of them. */
size_t er_hnsw_compared(const er_hnsw *h);

#endif
