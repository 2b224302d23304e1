/* entities.c — browsing the memory graph: entities by part of a name, one
 * entity with its names, the relations around a set of entities, the
 * entities a text names (store_entities.h).  graph.c writes the graph and walks it by name. */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/store_entities.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* A LIKE pattern matching names that contain q, normalised as graph.c
 * normalises names (lower case, runs of blanks one space), with LIKE's own
 * characters escaped: OWNED. */
static char *contains_pattern(const char *q)
{
    char *out = er_xmalloc(2 * strlen(q) + 3), *o = out;
    *o++ = '%';
    bool space = false;
    for (const char *p = q; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = o != out + 1;
            continue;
        }
        if (space)
            *o++ = ' ';
        space = false;
        if (*p == '%' || *p == '_' || *p == '\\')
            *o++ = '\\';
        *o++ = (char)tolower((unsigned char)*p);
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

typedef struct entity_cb {
    er_memory_entity_fn fn;
    void *payload;
    bool found;
} entity_cb;

/* id, name, type, user_id, created_ms, relations */
static int entity_row(const er_sql_value *cols, int ncols, void *payload)
{
    entity_cb *c = payload;
    if (ncols < 6)
        return 0;
    er_memory_entity e;
    er_sql_col_id(e.id, &cols[0]);
    e.name = er_sql_col_borrow(&cols[1]);
    e.type = er_sql_col_borrow(&cols[2]);
    const char *owner = er_sql_col_borrow(&cols[3]);
    e.shared = !owner || !*owner;
    e.created_ms = er_sql_col_int(&cols[4]);
    e.relations = er_sql_col_int(&cols[5]);
    if (!e.name)
        e.name = "";
    if (!e.type)
        e.type = "";
    c->found = true;
    return c->fn ? c->fn(&e, c->payload) : 0;
}

#define ENTITY_COLS                                                           \
    "SELECT e.id, e.name, e.type, e.user_id, e.created_ms,"                   \
    " (SELECT COUNT(*) FROM memory_relations r WHERE (r.subject_id = e.id OR" \
    "  r.object_id = e.id) AND r.user_id IN (?, '')) AS n FROM memory_entities e"

int er_store_memory_entities(er_store *st, const char *user_id, const char *query, int limit,
                             er_memory_entity_fn fn, void *payload, er_error *err)
{
    if (limit < 1 || limit > ER_ENTITIES_MAX)
        return er_error_set(err, ER_EINVAL, "an entity list holds 1 to %d, not %d", ER_ENTITIES_MAX,
                            limit);
    const char *uid = user_id ? user_id : "";
    char *pat = contains_pattern(query ? query : "");
    er_sql_value p[] = { ER_SQL_S(uid), ER_SQL_S(uid),   er_sql_str(pat),
                         ER_SQL_S(uid), er_sql_str(pat), ER_SQL_I(limit) };
    entity_cb c = { fn, payload, false };
    int rc = er_sql_query(st,
                          ENTITY_COLS
                          " WHERE e.user_id IN (?, '') AND (LOWER(e.name) LIKE ? ESCAPE '\\'"
                          " OR EXISTS (SELECT 1 FROM memory_aliases a WHERE a.entity_id = e.id"
                          " AND a.user_id IN (?, '') AND a.alias LIKE ? ESCAPE '\\'))"
                          " ORDER BY n DESC, LOWER(e.name), e.id LIMIT ?",
                          p, 6, entity_row, &c, err);
    free(pat);
    return rc;
}

typedef struct alias_cb {
    int (*fn)(const char *alias, void *payload);
    void *payload;
} alias_cb;

static int alias_row(const er_sql_value *cols, int ncols, void *payload)
{
    alias_cb *a = payload;
    const char *s = ncols > 0 ? er_sql_col_borrow(&cols[0]) : NULL;
    return s ? a->fn(s, a->payload) : 0;
}

int er_store_memory_entity_get(er_store *st, const char *user_id, const char *id,
                               er_memory_entity_fn fn,
                               int (*alias_fn)(const char *alias, void *payload), void *payload,
                               er_error *err)
{
    const char *uid = user_id ? user_id : "";
    er_sql_value p[] = { ER_SQL_S(uid), ER_SQL_S(id), ER_SQL_S(uid) };
    entity_cb c = { fn, payload, false };
    int rc = er_sql_query(st, ENTITY_COLS " WHERE e.id = ? AND e.user_id IN (?, '')", p, 3,
                          entity_row, &c, err);
    if (rc == 0 && !c.found)
        return er_error_set(err, ER_ENOTFOUND, "no entity '%.64s' in memory", id);
    if (rc || !alias_fn)
        return rc;
    alias_cb a = { alias_fn, payload };
    er_sql_value q[] = { ER_SQL_S(id), ER_SQL_S(uid) };
    return er_sql_query(st,
                        "SELECT alias FROM memory_aliases WHERE entity_id = ? "
                        "AND user_id IN (?, '') ORDER BY alias",
                        q, 2, alias_row, &a, err);
}

typedef struct link_cb {
    er_memory_link_fn fn;
    void *payload;
    char (*seen)[ER_ID_LEN];
    size_t nseen, cap;
} link_cb;

/* id, subject_id, subject, predicate, object_id, object, confidence, source, user_id */
static int link_row(const er_sql_value *cols, int ncols, void *payload)
{
    link_cb *c = payload;
    if (ncols < 9)
        return 0;
    er_memory_link l;
    er_sql_col_id(l.id, &cols[0]);
    for (size_t i = 0; i < c->nseen; i++)
        if (strcmp(c->seen[i], l.id) == 0)
            return 0;
    if (c->nseen == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->seen = er_xrealloc(c->seen, c->cap * sizeof *c->seen);
    }
    memcpy(c->seen[c->nseen++], l.id, ER_ID_LEN);
    er_sql_col_id(l.subject_id, &cols[1]);
    l.subject = er_sql_col_borrow(&cols[2]);
    l.predicate = er_sql_col_borrow(&cols[3]);
    er_sql_col_id(l.object_id, &cols[4]);
    l.object = er_sql_col_borrow(&cols[5]);
    /* the seam carries no floats: a REAL comes as text from one engine */
    l.confidence =
        cols[6].type == ER_SQL_TEXT ? strtod(cols[6].s, NULL) : (double)er_sql_col_int(&cols[6]);
    l.source = er_sql_col_borrow(&cols[7]);
    const char *owner = er_sql_col_borrow(&cols[8]);
    l.shared = !owner || !*owner;
    if (!l.subject)
        l.subject = "";
    if (!l.object)
        l.object = "";
    if (!l.predicate)
        l.predicate = "";
    if (!l.source)
        l.source = "";
    return c->fn(&l, c->payload);
}

int er_store_memory_links(er_store *st, const char *user_id, const char *const *ids, size_t n,
                          er_memory_link_fn fn, void *payload, er_error *err)
{
    if (n > ER_ENTITIES_MAX)
        return er_error_set(err, ER_EINVAL, "at most %d entities, not %zu", ER_ENTITIES_MAX, n);
    const char *uid = user_id ? user_id : "";
    link_cb c = { fn, payload, NULL, 0, 0 };
    int rc = 0;
    /* one query an entity: the backends bind at most 32 parameters */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        er_sql_value p[] = { ER_SQL_S(ids[i]), ER_SQL_S(ids[i]), ER_SQL_S(uid) };
        rc = er_sql_query(st,
                          "SELECT r.id, r.subject_id, s.name, r.predicate, r.object_id, o.name,"
                          " r.confidence, r.source, r.user_id FROM memory_relations r"
                          " JOIN memory_entities s ON s.id = r.subject_id"
                          " JOIN memory_entities o ON o.id = r.object_id"
                          " WHERE (r.subject_id = ? OR r.object_id = ?) AND r.user_id IN (?, '')"
                          " ORDER BY r.confidence DESC, r.predicate, r.id",
                          p, 3, link_row, &c, err);
    }
    free(c.seen);
    return rc;
}

/* ---- the entities a text names ---- */

#define MENTION_WORDS      4   /* the longest name looked up, in words */
#define MENTION_SCAN_WORDS 300 /* words of a text read: a name is rarely further in */

/* Marks that belong to a name inside it (O'Brien, Jean-Luc, A.I., AT&T) but
 * not at its ends, where they are punctuation. */
static bool name_mark(char c)
{
    return c == '\'' || c == '-' || c == '.' || c == '&' || c == '_';
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || (unsigned char)c >= 0x80 || name_mark(c);
}

/* The words of text, up to max: (start, length) pairs in at and len. */
static int split_words(const char *text, const char **at, size_t *len, int max)
{
    int n = 0;
    for (const char *p = text; *p && n < max;) {
        while (*p && !word_char(*p))
            p++;
        const char *s = p;
        while (*p && word_char(*p))
            p++;
        const char *e = p;
        while (s < e && name_mark(*s))
            s++;
        while (e > s && name_mark(e[-1]))
            e--;
        if (e > s) {
            at[n] = s;
            len[n++] = (size_t)(e - s);
        }
    }
    return n;
}

typedef struct mention_cb {
    er_memory_entity_fn fn;
    void *payload;
    char (*seen)[ER_ID_LEN];
    int nseen, max;
} mention_cb;

/* The entity phrase names, when user_id sees one and it is not listed yet. */
static int mention(er_store *st, const char *user_id, const char *phrase, mention_cb *c,
                   er_error *err)
{
    char id[ER_ID_LEN];
    er_error miss = { 0 };
    if (er_store_memory_entity(st, user_id, phrase, NULL, false, id, &miss)) {
        if (miss.code != ER_ENOTFOUND && miss.code != ER_ETOOBIG)
            return er_error_set(err, miss.code, "%s", miss.msg);
        return 0;
    }
    for (int i = 0; i < c->nseen; i++)
        if (strcmp(c->seen[i], id) == 0)
            return 0;
    memcpy(c->seen[c->nseen++], id, ER_ID_LEN);
    return er_store_memory_entity_get(st, user_id, id, c->fn, NULL, c->payload, err);
}

int er_store_memory_mentions(er_store *st, const char *user_id, const char *text, int max,
                             er_memory_entity_fn fn, void *payload, er_error *err)
{
    if (max < 1 || max > ER_ENTITIES_MAX)
        return er_error_set(err, ER_EINVAL, "between 1 and %d entities, not %d", ER_ENTITIES_MAX,
                            max);
    const char **at = er_xmalloc(MENTION_SCAN_WORDS * sizeof *at);
    size_t *len = er_xmalloc(MENTION_SCAN_WORDS * sizeof *len);
    int nw = split_words(text ? text : "", at, len, MENTION_SCAN_WORDS);
    mention_cb c = { fn, payload, er_xmalloc((size_t)max * sizeof *c.seen), 0, max };
    er_buf phrase;
    er_buf_init(&phrase, 0);
    int rc = 0;
    /* In the order the text names them; at one place the longest name first
     * ("Acme Corp" before "Acme"). */
    for (int i = 0; rc == 0 && i < nw && c.nseen < max; i++)
        for (int w = MENTION_WORDS; rc == 0 && w >= 1 && c.nseen < max; w--) {
            if (i + w > nw)
                continue;
            er_buf_reset(&phrase);
            for (int j = i; j < i + w; j++)
                er_buf_printf(&phrase, "%s%.*s", j > i ? " " : "", (int)len[j], at[j]);
            rc = mention(st, user_id, phrase.ptr, &c, err);
        }
    er_buf_release(&phrase);
    free(c.seen);
    free(at);
    free(len);
    return rc > 0 ? 0 : rc;
}
