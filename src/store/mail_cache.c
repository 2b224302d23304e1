/* mail_cache.c — the message-metadata cache's tables (store_mail.h). */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/store_mail.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void decode_sync(void *out, const er_sql_value *c, bool copy)
{
    (void)copy;
    er_mail_sync *s = out;
    s->validity = er_sql_col_int(&c[0]);
    s->next = er_sql_col_int(&c[1]);
    s->modseq = er_sql_col_int(&c[2]);
    s->count = er_sql_col_int(&c[3]);
    s->complete = er_sql_col_int(&c[4]) != 0;
}

int er_store_mail_sync_get(er_store *st, const char *account, const char *scope, er_mail_sync *out,
                           bool *found, er_error *err)
{
    memset(out, 0, sizeof *out);
    er_sql_value p[] = { ER_SQL_S(account), ER_SQL_S(scope) };
    return er_sql_get(st,
                      "SELECT validity, next_uid, modseq, count, complete FROM mail_sync "
                      "WHERE account = ? AND scope = ?",
                      p, 2, 5, decode_sync, out, found, err);
}

typedef struct apply_args {
    const char *account, *scope;
    const er_mail_sync *state;
    const er_mail_delta *d;
} apply_args;

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct prune_scan {
    char **keep;
    size_t nkeep;
    er_strv gone;
} prune_scan;

static int prune_row(const er_sql_value *c, int ncols, void *payload)
{
    prune_scan *p = payload;
    const char *id = ncols > 0 ? er_sql_col_borrow(&c[0]) : NULL;
    if (id && !bsearch(&id, p->keep, p->nkeep, sizeof *p->keep, cmp_str))
        er_strv_push(&p->gone, id);
    return 0;
}

/* Deletes the rows below d->prune_below whose ids d->keep does not hold. */
static int prune(er_store *st, const apply_args *a, er_error *err)
{
    prune_scan p = { 0 };
    p.nkeep = a->d->keep.n;
    p.keep = er_xcalloc(p.nkeep ? p.nkeep : 1, sizeof *p.keep);
    memcpy(p.keep, a->d->keep.v, p.nkeep * sizeof *p.keep);
    qsort(p.keep, p.nkeep, sizeof *p.keep, cmp_str);
    er_sql_value q[] = { ER_SQL_S(a->account), ER_SQL_S(a->scope), ER_SQL_I(a->d->prune_below) };
    int rc = er_sql_query(st,
                          "SELECT id FROM mail_meta WHERE account = ? AND scope = ? AND "
                          "sort_key < ?",
                          q, 3, prune_row, &p, err);
    for (size_t i = 0; !rc && i < p.gone.n; i++) {
        er_sql_value d[] = { ER_SQL_S(a->account), ER_SQL_S(a->scope), ER_SQL_S(p.gone.v[i]) };
        rc = er_sql_exec(st, "DELETE FROM mail_meta WHERE account = ? AND scope = ? AND id = ?", d,
                         3, NULL, err);
    }
    free(p.keep);
    er_strv_free(&p.gone);
    return rc;
}

static int apply_tx(er_store *st, void *payload, er_error *err)
{
    apply_args *a = payload;
    er_sql_value key[] = { ER_SQL_S(a->account), ER_SQL_S(a->scope) };
    int rc = 0;
    if (a->d->reset)
        rc = er_sql_exec(st, "DELETE FROM mail_meta WHERE account = ? AND scope = ?", key, 2, NULL,
                         err);
    for (size_t i = 0; !rc && i < a->d->removed.n; i++) {
        er_sql_value p[] = { ER_SQL_S(a->account), ER_SQL_S(a->scope),
                             ER_SQL_S(a->d->removed.v[i]) };
        rc = er_sql_exec(st, "DELETE FROM mail_meta WHERE account = ? AND scope = ? AND id = ?", p,
                         3, NULL, err);
    }
    if (!rc && a->d->prune)
        rc = prune(st, a, err);
    for (size_t i = 0; !rc && i < a->d->n; i++) {
        const er_mail_meta *m = &a->d->v[i];
        if (m->flags_only) {
            er_sql_value p[] = { ER_SQL_I(m->s.unread),   ER_SQL_I(m->deleted),
                                 ER_SQL_S(nz(m->labels)), ER_SQL_S(a->account),
                                 ER_SQL_S(a->scope),      ER_SQL_S(m->s.id) };
            rc = er_sql_exec(st,
                             "UPDATE mail_meta SET unread = ?, deleted = ?, labels = ? "
                             "WHERE account = ? AND scope = ? AND id = ?",
                             p, 6, NULL, err);
            continue;
        }
        er_sql_value p[] = { ER_SQL_S(a->account),
                             ER_SQL_S(a->scope),
                             ER_SQL_S(m->s.id),
                             ER_SQL_I(m->sort_key),
                             ER_SQL_S(nz(m->s.from)),
                             ER_SQL_S(nz(m->s.to)),
                             ER_SQL_S(nz(m->s.subject)),
                             ER_SQL_S(nz(m->s.date)),
                             ER_SQL_I(er_mail_date_day(m->s.date)),
                             ER_SQL_S(nz(m->s.message_id)),
                             ER_SQL_S(nz(m->labels)),
                             ER_SQL_I(m->s.unread),
                             ER_SQL_I(m->deleted),
                             ER_SQL_I((int64_t)m->s.size) };
        rc = er_sql_exec(st,
                         "INSERT INTO mail_meta (account, scope, id, sort_key, from_addr, to_addr, "
                         "subject, date, day, message_id, labels, unread, deleted, size) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (account, scope, id) DO UPDATE SET "
                         "sort_key = excluded.sort_key, from_addr = excluded.from_addr, "
                         "to_addr = excluded.to_addr, subject = excluded.subject, "
                         "date = excluded.date, day = excluded.day, "
                         "message_id = excluded.message_id, labels = excluded.labels, "
                         "unread = excluded.unread, deleted = excluded.deleted, "
                         "size = excluded.size",
                         p, 14, NULL, err);
    }
    if (!rc) {
        const er_mail_sync *s = a->state;
        er_sql_value p[] = { ER_SQL_S(a->account),  ER_SQL_S(a->scope),    ER_SQL_I(s->validity),
                             ER_SQL_I(s->next),     ER_SQL_I(s->modseq),   ER_SQL_I(s->count),
                             ER_SQL_I(s->complete), ER_SQL_I(er_time_ms()) };
        rc = er_sql_exec(st,
                         "INSERT INTO mail_sync (account, scope, validity, next_uid, modseq, "
                         "count, complete, synced_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (account, scope) DO UPDATE SET validity = "
                         "excluded.validity, next_uid = excluded.next_uid, modseq = "
                         "excluded.modseq, count = excluded.count, complete = excluded.complete, "
                         "synced_ms = excluded.synced_ms",
                         p, 8, NULL, err);
    }
    return rc;
}

int er_store_mail_apply(er_store *st, const char *account, const char *scope,
                        const er_mail_sync *state, const er_mail_delta *d, er_error *err)
{
    apply_args a = { account, scope, state, d };
    return er_sql_transaction(st, apply_tx, &a, err);
}

/* '%value%' for LIKE, lower-cased (ASCII: the caller sends other text to the
 * server), with LIKE's own characters escaped by '\'. */
static char *like_pattern(const char *v)
{
    er_buf b = ER_BUF_INIT;
    er_buf_putc(&b, '%');
    for (const char *p = v; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            er_buf_putc(&b, '\\');
        er_buf_putc(&b, (char)tolower((unsigned char)*p));
    }
    er_buf_putc(&b, '%');
    return er_buf_detach(&b);
}

int64_t er_mail_day_number(const char *s)
{
    int y, m, d;
    char tail;
    if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return 0;
    return (int64_t)y * 10000 + m * 100 + d;
}

typedef struct rows {
    er_mail_summary *v;
    size_t n, cap;
} rows;

static int summary_row(const er_sql_value *c, int ncols, void *payload)
{
    rows *r = payload;
    if (ncols < 8)
        return 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = er_xrealloc(r->v, r->cap * sizeof *r->v);
    }
    er_mail_summary *s = &r->v[r->n++];
    s->id = er_sql_col_text(&c[0]);
    s->from = er_sql_col_text(&c[1]);
    s->to = er_sql_col_text(&c[2]);
    s->subject = er_sql_col_text(&c[3]);
    s->date = er_sql_col_text(&c[4]);
    s->message_id = er_sql_col_text(&c[5]);
    s->unread = er_sql_col_int(&c[6]) != 0;
    s->size = (size_t)er_sql_col_int(&c[7]);
    return 0;
}

#define MAX_PARAMS 16

int er_store_mail_query(er_store *st, const char *account, const char *scope,
                        const er_mail_query *q, const char *label, const char *const *exclude,
                        er_mail_summary **out, size_t *n, er_error *err)
{
    *out = NULL;
    *n = 0;
    er_buf sql = ER_BUF_INIT;
    er_strv owned = ER_STRV_INIT;
    er_sql_value p[MAX_PARAMS];
    int np = 0;
    er_buf_puts(&sql, "SELECT id, from_addr, to_addr, subject, date, message_id, unread, size "
                      "FROM mail_meta WHERE account = ? AND scope = ? AND deleted = 0");
    p[np++] = ER_SQL_S(account);
    p[np++] = ER_SQL_S(scope);
    struct {
        const char *col, *val;
    } text[] = { { "from_addr", q->from }, { "to_addr", q->to }, { "subject", q->subject } };
    for (size_t i = 0; i < ER_ARRAY_LEN(text); i++) {
        if (er_str_empty(text[i].val))
            continue;
        char *pat = like_pattern(text[i].val);
        er_strv_push(&owned, pat);
        free(pat);
        er_buf_printf(&sql, " AND LOWER(%s) LIKE ? ESCAPE '\\'", text[i].col);
        p[np++] = ER_SQL_S(owned.v[owned.n - 1]);
    }
    if (!er_str_empty(q->message_id)) {
        /* with or without <>, as the seam promises */
        const char *mid = q->message_id + (q->message_id[0] == '<');
        size_t l = strlen(mid);
        char *bare = er_xstrndup(mid, l && mid[l - 1] == '>' ? l - 1 : l);
        char *angled = er_xasprintf("<%s>", bare);
        er_strv_push(&owned, bare);
        er_strv_push(&owned, angled);
        free(bare);
        free(angled);
        er_buf_puts(&sql, " AND (message_id = ? OR message_id = ?)");
        p[np++] = ER_SQL_S(owned.v[owned.n - 2]);
        p[np++] = ER_SQL_S(owned.v[owned.n - 1]);
    }
    if (!er_str_empty(q->since)) {
        er_buf_puts(&sql, " AND day >= ?");
        p[np++] = ER_SQL_I(er_mail_day_number(q->since));
    }
    if (!er_str_empty(q->before)) {
        er_buf_puts(&sql, " AND day > 0 AND day < ?");
        p[np++] = ER_SQL_I(er_mail_day_number(q->before));
    }
    if (q->unread)
        er_buf_puts(&sql, " AND unread = 1");
    char *label_pat = label ? er_xasprintf("%% %s %%", label) : NULL;
    if (label_pat) {
        er_buf_puts(&sql, " AND labels LIKE ?");
        p[np++] = ER_SQL_S(label_pat);
    }
    er_strv ex = ER_STRV_INIT;
    for (size_t i = 0; exclude && exclude[i]; i++) {
        char *pat = er_xasprintf("%% %s %%", exclude[i]);
        er_strv_push(&ex, pat);
        free(pat);
    }
    for (size_t i = 0; i < ex.n && np < MAX_PARAMS - 1; i++) {
        er_buf_puts(&sql, " AND labels NOT LIKE ?");
        p[np++] = ER_SQL_S(ex.v[i]);
    }
    er_buf_puts(&sql, " ORDER BY sort_key DESC LIMIT ?");
    p[np++] = ER_SQL_I((int64_t)(q->limit ? q->limit : 20));
    rows r = { 0 };
    int rc = er_sql_query(st, er_buf_cstr(&sql), p, np, summary_row, &r, err);
    er_buf_release(&sql);
    er_strv_free(&owned);
    er_strv_free(&ex);
    free(label_pat);
    if (rc) {
        er_mail_summaries_free(r.v, r.n);
        return rc;
    }
    *out = r.v;
    *n = r.n;
    return 0;
}
