/* store_memory.h — the store's part of shared memory (memory.h sits on top):
 * memory items, their full-text search, and the embeddings of their texts.
 *
 * Full text is the database's own: SQLite FTS5 ranked by BM25, PostgreSQL a
 * tsvector with a GIN index ranked by ts_rank_cd.  The two scores are on
 * different scales; within one store a higher score is always the better
 * match.  Vectors are float32 blobs, one per (model, text hash), searched in
 * errand (vecindex.h): no database extension is needed.
 *
 * Same thread-safety and list rules as store.h: rows handed to callbacks are
 * BORROWED for the duration of the call. */
#ifndef ERRAND_STORE_MEMORY_H
#define ERRAND_STORE_MEMORY_H

#include "store.h"

#define ER_MEMORY_TEXT_MAX (64 * 1024) /* bytes of one item's text */

typedef struct er_memory_item {
    char id[ER_ID_LEN];
    char *user_id;  /* owner; "" for memory every user shares */
    char *scope;    /* "user", "conversation", "agent", "global" */
    char *scope_id; /* the conversation id, agent name…; "" for none */
    char *kind;     /* "fact", "preference", "summary", "chunk" */
    char *text;
    char *source;   /* task id, URL, message id or agent; "" unknown */
    bool untrusted; /* the text came from outside content: data, never instructions */
    char hash[65];  /* SHA-256 of text, hex */
    int64_t created_ms;
    int64_t updated_ms;
    int64_t expires_ms; /* 0: never */
} er_memory_item;

/* Which items a list or search sees.  Expired items are never seen. */
typedef struct er_memory_filter {
    const char *user_id;  /* NULL: everyone's; else that user's and the shared ("") */
    const char *scope;    /* NULL: any */
    const char *scope_id; /* NULL: any */
    const char *kind;     /* NULL: any */
    int64_t since_ms;     /* only items updated at or after; 0: any age */
    int limit;            /* 0: 100 */
} er_memory_filter;

typedef int (*er_memory_item_fn)(const er_memory_item *m, void *payload); /* nonzero stops */
typedef int (*er_memory_hit_fn)(const er_memory_item *m, double score, void *payload);
/* A stored vector: dim float32 values (an aligned copy, BORROWED for the call). */
typedef int (*er_memory_vec_fn)(int64_t seq, const char *hash, const float *vec, int dim,
                                void *payload);

/* Stores item (user_id, scope, scope_id, kind, text, source, untrusted,
 * expires_ms; NULL strings count as "").  The same text in the same place
 * (user, scope, scope id) updates that item — its kind, source, untrusted
 * mark, expiry and updated_ms — instead of adding a copy.  Fills item->id,
 * hash, created_ms and updated_ms; *created (may be NULL) says whether the
 * item is new.  ER_EINVAL for an empty text or a bad scope, ER_ETOOBIG past
 * ER_MEMORY_TEXT_MAX. */
int er_store_memory_put(er_store *st, er_memory_item *item, bool *created, er_error *err);
/* ER_ENOTFOUND when there is no such item (or it expired).  Release out. */
int er_store_memory_get(er_store *st, const char *id, er_memory_item *out, er_error *err);
/* Most recently updated first. */
int er_store_memory_list(er_store *st, const er_memory_filter *f, er_memory_item_fn fn,
                         void *payload, er_error *err);
/* Deletes the item; user_id non-NULL: only if it is that user's own.
 * ER_ENOTFOUND otherwise.  The text's vectors go too when no item uses them. */
int er_store_memory_forget(er_store *st, const char *id, const char *user_id, er_error *err);
/* Deletes expired items; *n (may be NULL) gets how many. */
int er_store_memory_expire(er_store *st, int64_t now_ms, int64_t *n, er_error *err);
/* Full-text search, best first, at most f->limit hits.  The query is plain
 * words (no operators: any character but letters and digits separates them);
 * an item matches when it has any of them.  No words: no hits. */
int er_store_memory_text_search(er_store *st, const char *query, const er_memory_filter *f,
                                er_memory_hit_fn fn, void *payload, er_error *err);
/* Items whose text has one of hashes[0..n) (n <= ER_STORE_IDS_MAX), seen by f. */
int er_store_memory_by_hash(er_store *st, const char *const *hashes, size_t n,
                            const er_memory_filter *f, er_memory_item_fn fn, void *payload,
                            er_error *err);
void er_memory_item_release(er_memory_item *m);
void er_memory_item_copy(er_memory_item *out, const er_memory_item *m);

/* Vectors.  put: stores the embedding of a text under model (a second put for
 * the same model and hash keeps the first).  get: ER_ENOTFOUND when none;
 * *out OWNED (free), *dim its length. */
int er_store_memory_vec_put(er_store *st, const char *model, const char *hash, const float *vec,
                            int dim, er_error *err);
int er_store_memory_vec_get(er_store *st, const char *model, const char *hash, float **out,
                            int *dim, er_error *err);
/* The vectors of model with seq > after_seq, in seq order (an index catching up). */
int er_store_memory_vec_scan(er_store *st, const char *model, int64_t after_seq,
                             er_memory_vec_fn fn, void *payload, er_error *err);
/* The vectors of the items f sees (f->limit ignored); seq is the item's. */
int er_store_memory_vec_items(er_store *st, const char *model, const er_memory_filter *f,
                              er_memory_vec_fn fn, void *payload, er_error *err);
/* How many vectors model has and the highest seq: an index compares them to
 * what it holds to know whether it is stale. */
int er_store_memory_vec_stat(er_store *st, const char *model, int64_t *count, int64_t *max_seq,
                             er_error *err);

/* The graph: entities found by any of their names, relations between them.
 * Names are matched normalised (case and runs of blanks ignored); a user sees
 * their own entities and relations and the shared ones (user_id ""). */
typedef struct er_memory_relation {
    char id[ER_ID_LEN];
    const char *subject; /* entity names, BORROWED for the callback */
    const char *predicate;
    const char *object;
    double confidence;
    const char *source;
    int depth; /* 1: touches the start entity; 2: one entity further… */
} er_memory_relation;

typedef int (*er_memory_relation_fn)(const er_memory_relation *r, void *payload);

/* The entity name (or an alias of it) names for user_id; with create, a new
 * one (of type, may be NULL) when there is none, else ER_ENOTFOUND. */
int er_store_memory_entity(er_store *st, const char *user_id, const char *name, const char *type,
                           bool create, char id_out[ER_ID_LEN], er_error *err);
/* Another name for an entity; ER_EEXISTS when it names another one already. */
int er_store_memory_alias(er_store *st, const char *user_id, const char *entity_id,
                          const char *alias, er_error *err);
/* Records subject —predicate→ object (entities found or created by name).
 * Stating it again updates its confidence and source. */
int er_store_memory_relate(er_store *st, const char *user_id, const char *subject,
                           const char *predicate, const char *object, double confidence,
                           const char *source, er_error *err);
/* The relations within depth steps of entity (1..8), nearest first, by a
 * recursive query; ER_ENOTFOUND when no entity has that name. */
int er_store_memory_graph(er_store *st, const char *user_id, const char *entity, int depth,
                          er_memory_relation_fn fn, void *payload, er_error *err);

#endif
