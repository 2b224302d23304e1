/* store_entities.h — browsing the memory graph (store_memory.h holds the
 * graph itself): the entities a user sees, found by part of a name, one of
 * them by id with its other names, the relations touching a set of
 * entities, with the ids of both ends (what a picture of the graph needs),
 * and the entities a text names.
 *
 * A user sees their own entities and relations and the shared ones
 * (user_id ""), as everywhere in memory.  Rows handed to callbacks are
 * BORROWED for the duration of the call. */
#ifndef ERRAND_STORE_ENTITIES_H
#define ERRAND_STORE_ENTITIES_H

#include "store_memory.h"

#define ER_ENTITIES_MAX 100 /* entities one call lists or takes */

typedef struct er_memory_entity {
    char id[ER_ID_LEN];
    const char *name;
    const char *type; /* "" when none was given */
    bool shared;      /* every user's (user_id "") */
    int64_t created_ms;
    int64_t relations; /* relations the user sees that touch it */
} er_memory_entity;

typedef int (*er_memory_entity_fn)(const er_memory_entity *e, void *payload);

typedef struct er_memory_link {
    char id[ER_ID_LEN];
    char subject_id[ER_ID_LEN];
    char object_id[ER_ID_LEN];
    const char *subject; /* entity names */
    const char *predicate;
    const char *object;
    double confidence;
    const char *source;
    bool shared;
} er_memory_link;

typedef int (*er_memory_link_fn)(const er_memory_link *l, void *payload);

/* Entities user_id sees whose name or one of whose names contains query
 * (compared normalised, as names are; NULL or "": all), the most related
 * first, at most limit (1..ER_ENTITIES_MAX). */
int er_store_memory_entities(er_store *st, const char *user_id, const char *query, int limit,
                             er_memory_entity_fn fn, void *payload, er_error *err);
/* The entity id when user_id sees it, else ER_ENOTFOUND; then each of the
 * names it is found by (normalised) to alias_fn (may be NULL). */
int er_store_memory_entity_get(er_store *st, const char *user_id, const char *id,
                               er_memory_entity_fn fn,
                               int (*alias_fn)(const char *alias, void *payload), void *payload,
                               er_error *err);
/* The relations user_id sees touching any of ids[0..n) (n <= ER_ENTITIES_MAX),
 * each once: those of ids[0] first, most confident first within one id. */
int er_store_memory_links(er_store *st, const char *user_id, const char *const *ids, size_t n,
                          er_memory_link_fn fn, void *payload, er_error *err);
/* The entities user_id sees that text names, by name or alias: every run of
 * one to four of its words (letters, digits, and ' - . & _ inside a word) in
 * its first 300 words is looked up as graph.c resolves names, in the order
 * the text names them, the longest name first at one place, each entity
 * once, at most max (1..ER_ENTITIES_MAX).  What the TUI's memories tab asks
 * to show the graph of a memory. */
int er_store_memory_mentions(er_store *st, const char *user_id, const char *text, int max,
                             er_memory_entity_fn fn, void *payload, er_error *err);

#endif
