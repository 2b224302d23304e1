/* memory.c — memory items, their full-text search and their vectors, in SQL
 * (store_memory.h).
 *
 * Everything here is the portable subset both engines take, except the one
 * full-text query, which each engine words its own way: it is looked up by
 * the store's dialect, like the migrations (FTS5 in SQLite, a tsvector in
 * PostgreSQL, both created by migration 008). */
#include "store_int.h"
#include "errand/digest.h"
#include "errand/id.h"
#include "errand/store_memory.h"
#include "errand/str.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_COLS                                                                           \
    "m.id, m.user_id, m.scope, m.scope_id, m.kind, m.text, m.source, m.untrusted, m.hash, " \
    "m.created_ms, m.updated_ms, m.expires_ms"
#define ITEM_NCOLS    12
#define DEFAULT_LIMIT 100
#define MAX_WORDS     32 /* words of a full-text query that count */
#define FILTER_PARAMS 7

static const char *const scopes[] = { "user", "conversation", "agent", "global" };

static bool scope_valid(const char *s)
{
    for (size_t i = 0; i < sizeof scopes / sizeof *scopes; i++)
        if (strcmp(s, scopes[i]) == 0)
            return true;
    return false;
}

static void item_from_row(void *out, const er_sql_value *v, bool copy)
{
    er_memory_item *m = out;
    er_sql_col_id(m->id, &v[0]);
    m->user_id = er_sql_col_str(&v[1], copy);
    m->scope = er_sql_col_str(&v[2], copy);
    m->scope_id = er_sql_col_str(&v[3], copy);
    m->kind = er_sql_col_str(&v[4], copy);
    m->text = er_sql_col_str(&v[5], copy);
    m->source = er_sql_col_str(&v[6], copy);
    m->untrusted = er_sql_col_int(&v[7]) != 0;
    m->hash[0] = '\0';
    if (v[8].type == ER_SQL_TEXT && v[8].s)
        snprintf(m->hash, sizeof m->hash, "%s", v[8].s);
    m->created_ms = er_sql_col_int(&v[9]);
    m->updated_ms = er_sql_col_int(&v[10]);
    m->expires_ms = er_sql_col_int(&v[11]);
}

void er_memory_item_release(er_memory_item *m)
{
    if (!m)
        return;
    free(m->user_id);
    free(m->scope);
    free(m->scope_id);
    free(m->kind);
    free(m->text);
    free(m->source);
    memset(m, 0, sizeof *m);
}

static char *dup_or_null(const char *s)
{
    return s ? er_xstrdup(s) : NULL;
}

void er_memory_item_copy(er_memory_item *out, const er_memory_item *m)
{
    *out = *m;
    out->user_id = dup_or_null(m->user_id);
    out->scope = dup_or_null(m->scope);
    out->scope_id = dup_or_null(m->scope_id);
    out->kind = dup_or_null(m->kind);
    out->text = dup_or_null(m->text);
    out->source = dup_or_null(m->source);
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- filters ---- */

/* Appends " AND …" conditions for f to sql and their values to params
 * (room for FILTER_PARAMS); returns how many were added. */
static int filter_sql(er_buf *sql, er_sql_value *params, const er_memory_filter *f, int64_t now_ms)
{
    int n = 0;
    er_buf_puts(sql, " AND (m.expires_ms IS NULL OR m.expires_ms > ?)");
    params[n++] = ER_SQL_I(now_ms);
    if (f && f->user_id) {
        er_buf_puts(sql, " AND m.user_id IN (?, '')");
        params[n++] = ER_SQL_S(f->user_id);
    }
    if (f && f->scope) {
        er_buf_puts(sql, " AND m.scope = ?");
        params[n++] = ER_SQL_S(f->scope);
    }
    if (f && f->scope_id) {
        er_buf_puts(sql, " AND m.scope_id = ?");
        params[n++] = ER_SQL_S(f->scope_id);
    }
    if (f && f->kind) {
        er_buf_puts(sql, " AND m.kind = ?");
        params[n++] = ER_SQL_S(f->kind);
    }
    if (f && f->since_ms > 0) {
        er_buf_puts(sql, " AND m.updated_ms >= ?");
        params[n++] = ER_SQL_I(f->since_ms);
    }
    return n;
}

static int64_t filter_limit(const er_memory_filter *f)
{
    return f && f->limit > 0 ? f->limit : DEFAULT_LIMIT;
}

/* ---- items ---- */

typedef struct put_result {
    char id[ER_ID_LEN];
    int64_t created_ms;
} put_result;

static int put_row(const er_sql_value *cols, int ncols, void *payload)
{
    put_result *r = payload;
    if (ncols >= 2) {
        er_sql_col_id(r->id, &cols[0]);
        r->created_ms = er_sql_col_int(&cols[1]);
    }
    return 1;
}

int er_store_memory_put(er_store *st, er_memory_item *item, bool *created, er_error *err)
{
    if (created)
        *created = false;
    if (er_str_empty(item->text))
        return er_error_set(err, ER_EINVAL, "a memory needs some text");
    size_t len = strlen(item->text);
    if (len > ER_MEMORY_TEXT_MAX)
        return er_error_set(err, ER_ETOOBIG, "a memory's text is %zu bytes, over the %d allowed",
                            len, ER_MEMORY_TEXT_MAX);
    const char *scope = er_str_empty(item->scope) ? "user" : item->scope;
    if (!scope_valid(scope))
        return er_error_set(err, ER_EINVAL,
                            "unknown memory scope '%s' (user, conversation, agent or global)",
                            scope);
    int rc = er_sha256_hex(item->text, len, item->hash, err);
    if (rc)
        return rc;
    er_id_new(item->id);
    int64_t now = er_time_ms();
    er_sql_value params[] = {
        er_sql_str(item->id),
        ER_SQL_S(or_empty(item->user_id)),
        ER_SQL_S(scope),
        ER_SQL_S(or_empty(item->scope_id)),
        ER_SQL_S(er_str_empty(item->kind) ? "fact" : item->kind),
        ER_SQL_S(item->text),
        ER_SQL_S(or_empty(item->source)),
        ER_SQL_I(item->untrusted ? 1 : 0),
        er_sql_str(item->hash),
        ER_SQL_I(now),
        ER_SQL_I(now),
        item->expires_ms > 0 ? ER_SQL_I(item->expires_ms) : ER_SQL_N,
    };
    put_result r = { "", 0 };
    /* An untrusted text stays marked whoever saves it again. */
    rc = er_sql_query(st,
                      "INSERT INTO memory_items (id, user_id, scope, scope_id, kind, text, source, "
                      "untrusted, hash, created_ms, updated_ms, expires_ms) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                      "ON CONFLICT (user_id, scope, scope_id, hash) DO UPDATE SET "
                      "kind = excluded.kind, source = excluded.source, "
                      "untrusted = CASE WHEN excluded.untrusted = 1 THEN 1 "
                      "ELSE memory_items.untrusted END, "
                      "updated_ms = excluded.updated_ms, expires_ms = excluded.expires_ms "
                      "RETURNING id, created_ms",
                      params, 12, put_row, &r, err);
    if (rc)
        return rc;
    if (created)
        *created = strcmp(r.id, item->id) == 0;
    memcpy(item->id, r.id, ER_ID_LEN);
    item->created_ms = r.created_ms;
    item->updated_ms = now;
    return 0;
}

int er_store_memory_get(er_store *st, const char *id, er_memory_item *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    er_sql_value params[] = { ER_SQL_S(id), ER_SQL_I(er_time_ms()) };
    bool found = false;
    int rc = er_sql_get(st,
                        "SELECT " ITEM_COLS " FROM memory_items m WHERE m.id = ? "
                        "AND (m.expires_ms IS NULL OR m.expires_ms > ?)",
                        params, 2, ITEM_NCOLS, item_from_row, out, &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "no memory '%s'", id);
    return rc;
}

typedef struct item_cb {
    er_memory_item_fn fn;
    er_memory_hit_fn hit_fn;
    void *payload;
} item_cb;

static int item_row(const er_sql_value *cols, int ncols, void *payload)
{
    item_cb *c = payload;
    if (ncols < ITEM_NCOLS)
        return 0;
    er_memory_item m;
    item_from_row(&m, cols, false);
    if (c->hit_fn) {
        double score = 0;
        if (ncols > ITEM_NCOLS && cols[ITEM_NCOLS].type == ER_SQL_TEXT)
            score = strtod(cols[ITEM_NCOLS].s, NULL);
        else if (ncols > ITEM_NCOLS && cols[ITEM_NCOLS].type == ER_SQL_INT)
            score = (double)cols[ITEM_NCOLS].i;
        return c->hit_fn(&m, score, c->payload);
    }
    return c->fn(&m, c->payload);
}

int er_store_memory_list(er_store *st, const er_memory_filter *f, er_memory_item_fn fn,
                         void *payload, er_error *err)
{
    er_buf sql;
    er_buf_init(&sql, 0);
    er_buf_puts(&sql, "SELECT " ITEM_COLS " FROM memory_items m WHERE 1 = 1");
    er_sql_value params[FILTER_PARAMS + 1];
    int n = filter_sql(&sql, params, f, er_time_ms());
    er_buf_puts(&sql, " ORDER BY m.updated_ms DESC, m.seq DESC LIMIT ?");
    params[n++] = ER_SQL_I(filter_limit(f));
    item_cb c = { fn, NULL, payload };
    int rc = er_sql_query(st, er_buf_cstr(&sql), params, n, item_row, &c, err);
    er_buf_release(&sql);
    return rc;
}

static int forget_tx(er_store *st, void *payload, er_error *err)
{
    const char *const *a = payload; /* id, user_id (or NULL) */
    char hash[65] = "";
    er_sql_value p[] = { ER_SQL_S(a[0]), ER_SQL_S(a[1]) };
    er_memory_item m;
    bool found = false;
    int rc = er_sql_get(st,
                        a[1] ? "SELECT " ITEM_COLS " FROM memory_items m WHERE m.id = ? "
                               "AND m.user_id = ?"
                             : "SELECT " ITEM_COLS " FROM memory_items m WHERE m.id = ?",
                        p, a[1] ? 2 : 1, ITEM_NCOLS, item_from_row, &m, &found, err);
    if (rc)
        return rc;
    if (!found)
        return er_error_set(err, ER_ENOTFOUND, "no memory '%s'%s", a[0], a[1] ? " of yours" : "");
    memcpy(hash, m.hash, sizeof hash);
    er_memory_item_release(&m);
    rc = er_sql_exec(st, "DELETE FROM memory_items WHERE id = ?", p, 1, NULL, err);
    er_sql_value hp = er_sql_str(hash);
    if (rc == 0)
        rc = er_sql_exec(st,
                         "DELETE FROM memory_vectors WHERE hash = ? AND NOT EXISTS "
                         "(SELECT 1 FROM memory_items i WHERE i.hash = memory_vectors.hash)",
                         &hp, 1, NULL, err);
    return rc;
}

int er_store_memory_forget(er_store *st, const char *id, const char *user_id, er_error *err)
{
    const char *args[] = { id, user_id };
    return er_sql_transaction(st, forget_tx, args, err);
}

int er_store_memory_expire(er_store *st, int64_t now_ms, int64_t *n, er_error *err)
{
    er_sql_value p = ER_SQL_I(now_ms);
    int64_t changes = 0;
    int rc = er_sql_exec(st,
                         "DELETE FROM memory_items WHERE expires_ms IS NOT NULL "
                         "AND expires_ms <= ?",
                         &p, 1, &changes, err);
    if (rc == 0)
        rc = er_sql_exec(st,
                         "DELETE FROM memory_vectors WHERE NOT EXISTS "
                         "(SELECT 1 FROM memory_items i WHERE i.hash = memory_vectors.hash)",
                         NULL, 0, NULL, err);
    if (n)
        *n = changes;
    return rc;
}

/* ---- full text ---- */

/* Each engine's query: the item's columns, then its score (higher is better),
 * matching the words in the first parameter; the filter's conditions go
 * between head and tail. */
static const struct {
    const char *dialect;
    const char *head, *tail;
    const char *word_sep; /* how the words are joined into that parameter */
    bool quote;           /* words in "double quotes" (FTS5 strings) */
} text_queries[] = {
    { "sqlite",
      "SELECT " ITEM_COLS ", -bm25(memory_fts) FROM memory_fts "
      "JOIN memory_items m ON m.seq = memory_fts.rowid WHERE memory_fts MATCH ?",
      " ORDER BY bm25(memory_fts), m.updated_ms DESC LIMIT ?", " OR ", true },
    { "postgres",
      "SELECT " ITEM_COLS ", ts_rank_cd(m.tsv, q) FROM memory_items m, "
      "to_tsquery('english', ?) q WHERE m.tsv @@ q",
      " ORDER BY ts_rank_cd(m.tsv, q) DESC, m.updated_ms DESC LIMIT ?", " | ", false },
};

static bool word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80; /* bytes of UTF-8 letters belong to words */
}

/* The query's words joined for the engine; false when it has none. */
static bool text_terms(er_buf *out, const char *query, const char *sep, bool quote)
{
    int words = 0;
    const char *p = query;
    while (*p && words < MAX_WORDS) {
        while (*p && !word_byte((unsigned char)*p))
            p++;
        const char *start = p;
        while (*p && word_byte((unsigned char)*p))
            p++;
        if (p == start)
            break;
        if (words++)
            er_buf_puts(out, sep);
        if (quote)
            er_buf_putc(out, '"');
        for (const char *q = start; q < p; q++)
            er_buf_putc(out, (char)tolower((unsigned char)*q));
        if (quote)
            er_buf_putc(out, '"');
    }
    return words > 0;
}

int er_store_memory_text_search(er_store *st, const char *query, const er_memory_filter *f,
                                er_memory_hit_fn fn, void *payload, er_error *err)
{
    const char *dialect = er_store_dialect(st);
    size_t i = 0;
    while (i < sizeof text_queries / sizeof *text_queries &&
           strcmp(text_queries[i].dialect, dialect) != 0)
        i++;
    if (i == sizeof text_queries / sizeof *text_queries)
        return er_error_set(err, ER_EINTERNAL, "no full-text search for dialect '%s'", dialect);
    er_buf terms, cond;
    er_buf_init(&terms, 0);
    er_buf_init(&cond, 0);
    int rc = 0;
    if (text_terms(&terms, query ? query : "", text_queries[i].word_sep, text_queries[i].quote)) {
        er_sql_value params[FILTER_PARAMS + 2];
        params[0] = ER_SQL_S(er_buf_cstr(&terms));
        int n = 1 + filter_sql(&cond, params + 1, f, er_time_ms());
        params[n++] = ER_SQL_I(filter_limit(f));
        char *sql =
            er_xasprintf("%s%s%s", text_queries[i].head, er_buf_cstr(&cond), text_queries[i].tail);
        item_cb c = { NULL, fn, payload };
        rc = er_sql_query(st, sql, params, n, item_row, &c, err);
        free(sql);
    }
    er_buf_release(&terms);
    er_buf_release(&cond);
    return rc;
}

int er_store_memory_by_hash(er_store *st, const char *const *hashes, size_t n,
                            const er_memory_filter *f, er_memory_item_fn fn, void *payload,
                            er_error *err)
{
    if (n == 0)
        return 0;
    if (n > ER_STORE_IDS_MAX - FILTER_PARAMS)
        return er_error_set(err, ER_EINVAL, "too many hashes (%zu) in one query", n);
    er_buf sql;
    er_buf_init(&sql, 0);
    er_buf_puts(&sql, "SELECT " ITEM_COLS " FROM memory_items m WHERE m.hash IN (");
    er_sql_value params[ER_STORE_IDS_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        er_buf_puts(&sql, i ? ", ?" : "?");
        params[i] = ER_SQL_S(hashes[i]);
    }
    er_buf_putc(&sql, ')');
    int np = (int)n + filter_sql(&sql, params + n, f, er_time_ms());
    item_cb c = { fn, NULL, payload };
    int rc = er_sql_query(st, er_buf_cstr(&sql), params, np, item_row, &c, err);
    er_buf_release(&sql);
    return rc;
}

/* ---- vectors ---- */

/* Blobs are little-endian float32 whatever the host. */
static void vec_encode(unsigned char *out, const float *v, int dim)
{
    for (int i = 0; i < dim; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        out[4 * i] = (unsigned char)u;
        out[4 * i + 1] = (unsigned char)(u >> 8);
        out[4 * i + 2] = (unsigned char)(u >> 16);
        out[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

static void vec_decode(float *out, const unsigned char *b, int dim)
{
    for (int i = 0; i < dim; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&out[i], &u, 4);
    }
}

int er_store_memory_vec_put(er_store *st, const char *model, const char *hash, const float *vec,
                            int dim, er_error *err)
{
    if (dim <= 0)
        return er_error_set(err, ER_EINVAL, "an embedding needs at least one dimension");
    unsigned char *blob = er_xmalloc((size_t)dim * 4);
    vec_encode(blob, vec, dim);
    er_sql_value params[] = { ER_SQL_S(model), ER_SQL_S(hash), ER_SQL_I(dim),
                              ER_SQL_B(blob, (size_t)dim * 4), ER_SQL_I(er_time_ms()) };
    int rc = er_sql_exec(st,
                         "INSERT INTO memory_vectors (model, hash, dim, vec, created_ms) "
                         "VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, hash) DO NOTHING",
                         params, 5, NULL, err);
    free(blob);
    return rc;
}

typedef struct vec_cb {
    er_memory_vec_fn fn;
    void *payload;
    float *buf;
    int cap;
    bool bad;
} vec_cb;

/* Columns: seq, hash, dim, vec. */
static int vec_row(const er_sql_value *cols, int ncols, void *payload)
{
    vec_cb *c = payload;
    if (ncols < 4 || cols[3].type != ER_SQL_BLOB)
        return 0;
    int dim = (int)er_sql_col_int(&cols[2]);
    if (dim <= 0 || cols[3].i != (int64_t)dim * 4) {
        c->bad = true; /* a row written by something else: skip it, say so once */
        return 0;
    }
    if (dim > c->cap) {
        free(c->buf);
        c->buf = er_xmalloc((size_t)dim * sizeof *c->buf);
        c->cap = dim;
    }
    vec_decode(c->buf, (const unsigned char *)cols[3].s, dim);
    return c->fn(er_sql_col_int(&cols[0]), cols[1].type == ER_SQL_TEXT ? cols[1].s : "", c->buf,
                 dim, c->payload);
}

static int vec_query(er_store *st, const char *sql, const er_sql_value *params, int n,
                     er_memory_vec_fn fn, void *payload, er_error *err)
{
    vec_cb c = { fn, payload, NULL, 0, false };
    int rc = er_sql_query(st, sql, params, n, vec_row, &c, err);
    free(c.buf);
    if (rc == 0 && c.bad)
        er_log(ER_LOG_WARN, "memory",
               "skipped stored vectors whose size does not match "
               "their dimension");
    return rc;
}

typedef struct vec_copy {
    float *vec;
    int dim;
} vec_copy;

static int vec_copy_fn(int64_t seq, const char *hash, const float *vec, int dim, void *payload)
{
    (void)seq;
    (void)hash;
    vec_copy *c = payload;
    c->vec = er_xmalloc((size_t)dim * sizeof *c->vec);
    memcpy(c->vec, vec, (size_t)dim * sizeof *vec);
    c->dim = dim;
    return 1;
}

int er_store_memory_vec_get(er_store *st, const char *model, const char *hash, float **out,
                            int *dim, er_error *err)
{
    *out = NULL;
    *dim = 0;
    vec_copy c = { NULL, 0 };
    er_sql_value params[] = { ER_SQL_S(model), ER_SQL_S(hash) };
    int rc = vec_query(st,
                       "SELECT seq, hash, dim, vec FROM memory_vectors "
                       "WHERE model = ? AND hash = ?",
                       params, 2, vec_copy_fn, &c, err);
    if (rc == 0 && !c.vec)
        return er_error_set(err, ER_ENOTFOUND, "no %s embedding of text %.12s", model, hash);
    *out = c.vec;
    *dim = c.dim;
    return rc;
}

int er_store_memory_vec_scan(er_store *st, const char *model, int64_t after_seq,
                             er_memory_vec_fn fn, void *payload, er_error *err)
{
    er_sql_value params[] = { ER_SQL_S(model), ER_SQL_I(after_seq) };
    return vec_query(st,
                     "SELECT seq, hash, dim, vec FROM memory_vectors "
                     "WHERE model = ? AND seq > ? ORDER BY seq",
                     params, 2, fn, payload, err);
}

int er_store_memory_vec_items(er_store *st, const char *model, const er_memory_filter *f,
                              er_memory_vec_fn fn, void *payload, er_error *err)
{
    er_buf sql;
    er_buf_init(&sql, 0);
    er_buf_puts(&sql, "SELECT m.seq, m.hash, v.dim, v.vec FROM memory_items m "
                      "JOIN memory_vectors v ON v.hash = m.hash AND v.model = ? WHERE 1 = 1");
    er_sql_value params[FILTER_PARAMS + 1];
    params[0] = ER_SQL_S(model);
    int n = 1 + filter_sql(&sql, params + 1, f, er_time_ms());
    int rc = vec_query(st, er_buf_cstr(&sql), params, n, fn, payload, err);
    er_buf_release(&sql);
    return rc;
}

int er_store_memory_vec_stat(er_store *st, const char *model, int64_t *count, int64_t *max_seq,
                             er_error *err)
{
    *count = 0;
    *max_seq = 0;
    er_sql_value p = ER_SQL_S(model);
    int rc = er_sql_query_int(st, "SELECT COUNT(*) FROM memory_vectors WHERE model = ?", &p, 1,
                              count, NULL, err);
    if (rc == 0)
        rc = er_sql_query_int(st,
                              "SELECT COALESCE(MAX(seq), 0) FROM memory_vectors "
                              "WHERE model = ?",
                              &p, 1, max_seq, NULL, err);
    return rc;
}
