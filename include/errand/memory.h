/* memory.h — shared memory for every agent: save texts, find them again by
 * words and by meaning.
 *
 * Items live in the store (store_memory.h: SQLite locally, PostgreSQL
 * networked, the same behaviour).  Saving embeds the text (embedder.h) unless
 * a vector for that text and model is stored already — the store is the
 * embedding cache, keyed by the text's SHA-256.  Searching runs the store's
 * full-text ranking and a vector search and fuses the two rankings by
 * reciprocal rank fusion (each list gives 1 / (60 + rank)), so an item found
 * both ways rises and a paraphrase with no word in common is still found.
 * The vector search scans every visible vector exactly while the model has
 * at most exact_max of them, and asks an HNSW index (vecindex.h) above that,
 * built in memory from the stored vectors on the first search that needs it
 * and kept up to date with what other processes add.
 *
 * Memory text is data, never instructions: items saved from outside content
 * carry untrusted, and whoever shows them to a model fences them.
 *
 * Thread-safe: one er_memory may serve every thread of the process. */
#ifndef ERRAND_MEMORY_H
#define ERRAND_MEMORY_H

#include "config.h"
#include "embedder.h"
#include "store_memory.h"
#include <cjson/cJSON.h>

#define ER_MEMORY_EXACT_MAX 20000 /* default of memory.exact_max */
#define ER_MEMORY_RRF_K     60
/* A search for k hits reads each list this many times k deep (fusion
 * reorders), and asks the index for that many times more again (filters drop
 * some).  With the index's default parameters (vecindex.h) this is the
 * search tests/memory/recall_100k.c measures. */
#define ER_MEMORY_LIST_DEPTH      2
#define ER_MEMORY_INDEX_OVERFETCH 4

typedef struct er_memory er_memory;

typedef struct er_memory_opts {
    er_embedder_opts embed; /* model NULL: offline hashing */
    int exact_max;          /* 0: ER_MEMORY_EXACT_MAX; < 0: always the index */
    bool int8;              /* the index keeps int8-quantised vectors (memory.quantize); its
                               candidates are scored again with the stored float32 ones */
} er_memory_opts;

typedef enum { ER_MEMORY_HYBRID = 0, ER_MEMORY_TEXT, ER_MEMORY_VECTOR } er_memory_mode;

typedef struct er_memory_query {
    const char *text;
    er_memory_filter filter; /* who and what may be seen; filter.limit is ignored */
    int k;                   /* hits wanted; 0: 10 */
    er_memory_mode mode;
} er_memory_query;

typedef struct er_memory_hit {
    er_memory_item item; /* OWNED (er_memory_hits_free) */
    double score;        /* the fused score: higher is better */
    int text_rank;       /* 1-based place in the full-text list; 0: not in it */
    double text_score;   /* the engine's rank (BM25 or ts_rank_cd) */
    int vec_rank;        /* 1-based place in the vector list; 0: not in it */
    double vec_score;    /* cosine similarity */
} er_memory_hit;

/* st is BORROWED: it must outlive the handle. */
int er_memory_open(er_memory **out, er_store *st, const er_memory_opts *opts, er_error *err);
/* The options the configuration gives: memory.embedding_model through the
 * OpenAI-compatible provider's base URL and key, memory.exact_max. BORROWED
 * strings of cfg. */
void er_memory_opts_from_config(er_memory_opts *out, const er_config *cfg);
void er_memory_close(er_memory *m);
/* The model name vectors are stored under. BORROWED. */
const char *er_memory_model(const er_memory *m);

/* Saves items[0..n) as er_store_memory_put does (same text, same place:
 * updated), embedding the texts that have no stored vector in batches.  When
 * embedding fails nothing is saved.  created (may be NULL): n flags. */
int er_memory_save(er_memory *m, er_memory_item *items, size_t n, bool *created, er_error *err);
/* The k best hits, best first: *out OWNED (er_memory_hits_free), *n how many. */
int er_memory_search(er_memory *m, const er_memory_query *q, er_memory_hit **out, size_t *n,
                     er_error *err);
void er_memory_hits_free(er_memory_hit *hits, size_t n);
/* An item as JSON (id, text, kind, scope, scope_id, source, owner "user" or
 * "shared", untrusted, hash, created, updated, expires): what `errand memory
 * --json` and the API show.  OWNED. */
cJSON *er_memory_item_json(const er_memory_item *m);
/* How the last vector search ran (for tests and `errand memory search --json`):
 * true when it used the approximate index. */
bool er_memory_used_index(const er_memory *m);

#endif
