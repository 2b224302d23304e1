/* fake_store.c — a store backend that forwards to a real store, counting calls
 * and failing the ones a test planned (fake_backends.h). */
#include "fake_backends.h"
#include "errand/alloc.h"
#include "errand/backend/store_backend.h"

#include <stdlib.h>

typedef struct fake_store {
    er_store base;
    er_store_backend be; /* the template, with the real store's dialect */
    er_store *inner;
    fake *ctl;
} fake_store;

static fake_store *to_fake(er_store *st)
{
    return (fake_store *)st;
}

static void fs_close(er_store *st)
{
    fake_store *fs = to_fake(st);
    fs->inner->be->close(fs->inner);
    fake_free(fs->ctl);
    free(fs);
}

static int fs_exec(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                   int64_t *changes, er_error *err)
{
    fake_store *fs = to_fake(st);
    int rc = fake_hit(fs->ctl, "exec", sql, err);
    return rc ? rc : fs->inner->be->exec(fs->inner, sql, params, nparams, changes, err);
}

static int fs_query(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                    er_sql_row_fn fn, void *payload, er_error *err)
{
    fake_store *fs = to_fake(st);
    int rc = fake_hit(fs->ctl, "query", sql, err);
    return rc ? rc : fs->inner->be->query(fs->inner, sql, params, nparams, fn, payload, err);
}

static int fs_exec_script(er_store *st, const char *script, er_error *err)
{
    fake_store *fs = to_fake(st);
    int rc = fake_hit(fs->ctl, "exec_script", script, err);
    return rc ? rc : fs->inner->be->exec_script(fs->inner, script, err);
}

/* The real store runs the transaction; fn gets the fake, so that what it does
 * inside is counted (and may fail) too. */
typedef struct tx {
    fake_store *fs;
    er_store_tx_fn fn;
    void *payload;
} tx;

static int tx_fn(er_store *inner, void *payload, er_error *err)
{
    (void)inner;
    tx *t = payload;
    return t->fn(&t->fs->base, t->payload, err);
}

static int fs_transaction(er_store *st, er_store_tx_fn fn, void *payload, er_error *err)
{
    fake_store *fs = to_fake(st);
    tx t = { fs, fn, payload };
    int rc = fake_hit(fs->ctl, "transaction", "", err);
    return rc ? rc : fs->inner->be->transaction(fs->inner, tx_fn, &t, err);
}

static int fs_read(er_store *st, er_store_tx_fn fn, void *payload, er_error *err)
{
    fake_store *fs = to_fake(st);
    tx t = { fs, fn, payload };
    int rc = fake_hit(fs->ctl, "read", "", err);
    if (rc)
        return rc;
    if (!fs->inner->be->read)
        return fn(st, payload, err);
    return fs->inner->be->read(fs->inner, tx_fn, &t, err);
}

static int fs_ping(er_store *st, er_error *err)
{
    fake_store *fs = to_fake(st);
    int rc = fake_hit(fs->ctl, "ping", "", err);
    return rc ? rc : fs->inner->be->ping(fs->inner, err);
}

static int fs_migration_lock(er_store *st, er_error *err)
{
    fake_store *fs = to_fake(st);
    const er_store_backend *in = fs->inner->be;
    int rc = fake_hit(fs->ctl, "migration_lock", "", err);
    if (rc || in->version < 2 || !in->migration_lock)
        return rc;
    return in->migration_lock(fs->inner, err);
}

static int fs_table_exists(er_store *st, const char *name, bool *out, er_error *err)
{
    fake_store *fs = to_fake(st);
    int rc = fake_hit(fs->ctl, "table_exists", name, err);
    return rc ? rc : fs->inner->be->table_exists(fs->inner, name, out, err);
}

static const er_store_backend fake_store_backend = {
    .version = ER_STORE_BACKEND_VERSION,
    .scheme = "fake",
    .exec = fs_exec,
    .query = fs_query,
    .exec_script = fs_exec_script,
    .transaction = fs_transaction,
    .read = fs_read,
    .ping = fs_ping,
    .close = fs_close,
    .migration_lock = fs_migration_lock,
    .table_exists = fs_table_exists,
};

void fake_store_wrap(er_store **out, er_store *inner, fake **ctl_out)
{
    fake_store *fs = er_xcalloc(1, sizeof *fs);
    fs->be = fake_store_backend;
    fs->be.dialect = inner->be->dialect; /* the real store's migrations */
    fs->base.be = &fs->be;
    fs->inner = inner;
    fs->ctl = fake_new("store");
    *ctl_out = fs->ctl;
    *out = &fs->base;
}
