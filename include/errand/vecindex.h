/* vecindex.h — nearest neighbours of L2-normalised float32 vectors by cosine
 * similarity (their dot product): an exact scan and an approximate index.
 *
 * The exact scan is a dot product per vector written so that the compiler
 * vectorises it (independent accumulators, no branches), with a bounded heap
 * of the k best.  The approximate index is HNSW (Malkov & Yashunin, 2016): a
 * layered proximity graph searched greedily from the top layer down, with a
 * beam of ef candidates on the bottom layer.  Memory search (memory.h) scans
 * while a model has at most memory.exact_max vectors and uses the index
 * above that; tests/unit/test_vecindex.c measures its recall against the scan.
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

typedef struct er_hnsw er_hnsw;

typedef struct er_hnsw_params {
    int m;               /* neighbours per node above layer 0 (layer 0: 2m); 0: 16 */
    int ef_construction; /* beam while inserting; 0: 200 */
    int ef_search;       /* beam while searching (at least k); 0: 64 */
    uint64_t seed;       /* for the layer draws; 0: a fixed one */
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

#endif
