/* graph.c — the memory graph: entities, their names, the relations between
 * them, and traversal by a recursive query both engines run
 * (store_memory.h). */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/id.h"
#include "errand/store_memory.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 512
#define DEPTH_MAX      8

/* Lower case, blanks trimmed and runs of them made one space: OWNED. */
static char *normalise(const char *name)
{
    char *out = er_xmalloc(strlen(name) + 1), *o = out;
    bool space = false;
    for (const char *p = name; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = o != out;
            continue;
        }
        if (space)
            *o++ = ' ';
        space = false;
        *o++ = (char)tolower((unsigned char)*p);
    }
    *o = '\0';
    return out;
}

static int check_name(const char *what, const char *name, er_error *err)
{
    if (er_str_empty(name))
        return er_error_set(err, ER_EINVAL, "a relation needs a %s", what);
    if (strlen(name) > NAME_MAX_BYTES)
        return er_error_set(err, ER_ETOOBIG, "the %s is longer than %d bytes", what,
                            NAME_MAX_BYTES);
    return 0;
}

static int id_row(const er_sql_value *cols, int ncols, void *payload)
{
    if (ncols > 0)
        er_sql_col_id(payload, &cols[0]);
    return 1;
}

int er_store_memory_entity(er_store *st, const char *user_id, const char *name, const char *type,
                           bool create, char id_out[ER_ID_LEN], er_error *err)
{
    int rc = check_name("name", name, err);
    if (rc)
        return rc;
    const char *uid = user_id ? user_id : "";
    char *alias = normalise(name);
    char found[ER_ID_LEN] = "";
    /* the user's own name first, then a shared one */
    er_sql_value p[] = { ER_SQL_S(alias), ER_SQL_S(uid) };
    rc = er_sql_query(st,
                      "SELECT entity_id FROM memory_aliases WHERE alias = ? "
                      "AND user_id IN (?, '') ORDER BY user_id DESC LIMIT 1",
                      p, 2, id_row, found, err);
    if (rc == 0 && !found[0] && !create)
        rc = er_error_set(err, ER_ENOTFOUND, "no entity '%s' in memory", name);
    if (rc == 0 && !found[0]) {
        er_id_new(found);
        er_sql_value e[] = { er_sql_str(found), ER_SQL_S(uid), ER_SQL_S(name),
                             ER_SQL_S(type ? type : ""), ER_SQL_I(er_time_ms()) };
        rc = er_sql_exec(st,
                         "INSERT INTO memory_entities (id, user_id, name, type, created_ms) "
                         "VALUES (?, ?, ?, ?, ?)",
                         e, 5, NULL, err);
        er_sql_value a[] = { ER_SQL_S(uid), ER_SQL_S(alias), er_sql_str(found) };
        if (rc == 0)
            rc = er_sql_exec(st,
                             "INSERT INTO memory_aliases (user_id, alias, entity_id) "
                             "VALUES (?, ?, ?)",
                             a, 3, NULL, err);
    }
    free(alias);
    if (rc == 0)
        memcpy(id_out, found, ER_ID_LEN);
    return rc;
}

int er_store_memory_alias(er_store *st, const char *user_id, const char *entity_id,
                          const char *alias, er_error *err)
{
    int rc = check_name("name", alias, err);
    if (rc)
        return rc;
    char *norm = normalise(alias);
    er_sql_value a[] = { ER_SQL_S(user_id ? user_id : ""), ER_SQL_S(norm), ER_SQL_S(entity_id) };
    int64_t changes = 0;
    rc = er_sql_exec(st,
                     "INSERT INTO memory_aliases (user_id, alias, entity_id) VALUES (?, ?, ?) "
                     "ON CONFLICT (user_id, alias) DO NOTHING",
                     a, 3, &changes, err);
    char owner[ER_ID_LEN] = "";
    if (rc == 0 && changes == 0) {
        er_sql_value p[] = { a[0], a[1] };
        rc = er_sql_query(st,
                          "SELECT entity_id FROM memory_aliases WHERE user_id = ? "
                          "AND alias = ?",
                          p, 2, id_row, owner, err);
        if (rc == 0 && strcmp(owner, entity_id) != 0)
            rc = er_error_set(err, ER_EEXISTS, "'%s' already names another entity", alias);
    }
    free(norm);
    return rc;
}

typedef struct relate_args {
    const char *user_id, *subject, *predicate, *object, *source;
    double confidence;
} relate_args;

static int relate_tx(er_store *st, void *payload, er_error *err)
{
    const relate_args *r = payload;
    char s[ER_ID_LEN], o[ER_ID_LEN], id[ER_ID_LEN];
    int rc = er_store_memory_entity(st, r->user_id, r->subject, NULL, true, s, err);
    if (rc == 0)
        rc = er_store_memory_entity(st, r->user_id, r->object, NULL, true, o, err);
    if (rc)
        return rc;
    er_id_new(id);
    char conf[32]; /* the seam carries no floats: both engines convert the text */
    snprintf(conf, sizeof conf, "%.6g", r->confidence);
    er_sql_value p[] = { er_sql_str(id),         ER_SQL_S(r->user_id),  er_sql_str(s),
                         ER_SQL_S(r->predicate), er_sql_str(o),         er_sql_str(conf),
                         ER_SQL_S(r->source),    ER_SQL_I(er_time_ms()) };
    return er_sql_exec(st,
                       "INSERT INTO memory_relations (id, user_id, subject_id, predicate, "
                       "object_id, confidence, source, created_ms) "
                       "VALUES (?, ?, ?, ?, ?, CAST(? AS DOUBLE PRECISION), ?, ?) "
                       "ON CONFLICT (user_id, subject_id, predicate, object_id) DO UPDATE SET "
                       "confidence = excluded.confidence, source = excluded.source",
                       p, 8, NULL, err);
}

int er_store_memory_relate(er_store *st, const char *user_id, const char *subject,
                           const char *predicate, const char *object, double confidence,
                           const char *source, er_error *err)
{
    int rc = check_name("subject", subject, err);
    if (rc == 0)
        rc = check_name("predicate", predicate, err);
    if (rc == 0)
        rc = check_name("object", object, err);
    if (rc)
        return rc;
    if (!(confidence >= 0 && confidence <= 1))
        return er_error_set(err, ER_EINVAL, "a confidence is between 0 and 1, not %g", confidence);
    relate_args a = { user_id ? user_id : "", subject,   predicate, object,
                      source ? source : "",   confidence };
    return er_sql_transaction(st, relate_tx, &a, err);
}

typedef struct graph_cb {
    er_memory_relation_fn fn;
    void *payload;
} graph_cb;

static int graph_row(const er_sql_value *cols, int ncols, void *payload)
{
    graph_cb *g = payload;
    if (ncols < 7)
        return 0;
    er_memory_relation r;
    er_sql_col_id(r.id, &cols[0]);
    r.subject = er_sql_col_borrow(&cols[1]);
    r.predicate = er_sql_col_borrow(&cols[2]);
    r.object = er_sql_col_borrow(&cols[3]);
    r.confidence =
        cols[4].type == ER_SQL_TEXT ? strtod(cols[4].s, NULL) : (double)er_sql_col_int(&cols[4]);
    r.source = er_sql_col_borrow(&cols[5]);
    r.depth = (int)er_sql_col_int(&cols[6]);
    return g->fn(&r, g->payload);
}

int er_store_memory_graph(er_store *st, const char *user_id, const char *entity, int depth,
                          er_memory_relation_fn fn, void *payload, er_error *err)
{
    if (depth < 1 || depth > DEPTH_MAX)
        return er_error_set(err, ER_EINVAL, "a graph depth is 1 to %d, not %d", DEPTH_MAX, depth);
    char start[ER_ID_LEN];
    int rc = er_store_memory_entity(st, user_id, entity, NULL, false, start, err);
    if (rc)
        return rc;
    const char *uid = user_id ? user_id : "";
    /* walk: every entity within depth steps (UNION drops repeated (id, depth)
     * pairs, and the depth bound ends cycles); a relation is shown once, at
     * the step that first reaches it. */
    er_sql_value p[] = { er_sql_str(start), ER_SQL_I(depth), ER_SQL_S(uid),
                         ER_SQL_S(uid),     ER_SQL_I(depth), ER_SQL_I(depth) };
    graph_cb g = { fn, payload };
    return er_sql_query(
        st,
        "WITH RECURSIVE walk (id, depth) AS ("
        " SELECT CAST(? AS TEXT), 0"
        " UNION"
        " SELECT CASE WHEN r.subject_id = w.id THEN r.object_id ELSE r.subject_id END,"
        "        w.depth + 1"
        " FROM walk w JOIN memory_relations r ON r.subject_id = w.id OR r.object_id = w.id"
        " WHERE w.depth < ? AND r.user_id IN (?, '')),"
        " reach (id, depth) AS (SELECT id, MIN(depth) FROM walk GROUP BY id)"
        " SELECT r.id, s.name, r.predicate, o.name, r.confidence, r.source,"
        "        CASE WHEN rs.depth < ro.depth THEN rs.depth ELSE ro.depth END + 1 AS step"
        " FROM memory_relations r"
        " JOIN reach rs ON rs.id = r.subject_id JOIN reach ro ON ro.id = r.object_id"
        " JOIN memory_entities s ON s.id = r.subject_id"
        " JOIN memory_entities o ON o.id = r.object_id"
        " WHERE r.user_id IN (?, '') AND (rs.depth < ? OR ro.depth < ?)"
        " ORDER BY step, LOWER(s.name), r.predicate, LOWER(o.name)",
        p, 6, graph_row, &g, err);
}
