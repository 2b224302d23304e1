/* test_store.c — the store conformance suite.
 *
 * One suite for every backend: it runs against $ERRAND_TEST_DATABASE_URL when
 * that is set (backend.store.postgres sets a PostgreSQL URL) and otherwise
 * against fresh SQLite files in a temporary directory.  Each part gets its own
 * empty database: a new file for SQLite, a new schema (via search_path) for
 * PostgreSQL, so runs never see each other's rows. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/backend/store_backend.h"
#include "errand/str.h"
#include "errand/store.h"
#include "errand/store_history.h"
#include "errand/store_mail.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/store_auth.h"
#include "errand/store_usage.h"
#include "errand/store_compact.h"
#include "errand/store_credential.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FRESH 32

static const char *pg_base; /* PostgreSQL URL under test, or NULL for SQLite */
static char tmpdir[256];
static er_store *admin; /* PostgreSQL: creates and drops the test schemas */
static char schemas[MAX_FRESH][64];
static int nfresh;

/* ---- fresh databases ---- */

static void fresh_url(char *out, size_t outsize)
{
    int n = nfresh++;
    if (n >= MAX_FRESH) {
        fprintf(stderr, "test_store: raise MAX_FRESH\n");
        exit(1);
    }
    if (!pg_base) {
        snprintf(out, outsize, "sqlite://%s/db%d/store.db", tmpdir, n);
        return;
    }
    er_error err;
    snprintf(schemas[n], sizeof schemas[n], "errand_test_%ld_%d", (long)getpid(), n);
    char *sql = er_xasprintf("CREATE SCHEMA %s", schemas[n]);
    CHECK_OK(er_sql_exec(admin, sql, NULL, 0, NULL, &err));
    free(sql);
    snprintf(out, outsize, "%s%coptions=-c%%20search_path%%3D%s", pg_base,
             strchr(pg_base, '?') ? '&' : '?', schemas[n]);
}

static er_store *open_fresh(bool migrate)
{
    char url[1024];
    fresh_url(url, sizeof url);
    er_store *st = NULL;
    er_error err;
    CHECK_OK(er_store_open(&st, url, &err));
    if (!st) {
        fprintf(stderr, "cannot go on without a store\n");
        exit(1);
    }
    if (migrate)
        CHECK_OK(er_store_migrate(st, NULL, &err));
    return st;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    er_error err;
    for (int i = 0; admin && i < nfresh; i++) {
        char *sql = er_xasprintf("DROP SCHEMA IF EXISTS %s CASCADE", schemas[i]);
        CHECK_OK(er_sql_exec(admin, sql, NULL, 0, NULL, &err));
        free(sql);
    }
    er_store_close(admin);
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- opening ---- */

static void test_open_errors(void)
{
    er_error err;
    er_store *st = NULL;
    CHECK_INT(er_store_open(&st, "mysql://u@h/db", &err), ER_EINVAL);
    CHECK(strstr(err.msg, "'mysql'") && strstr(err.msg, "sqlite:///"));
    CHECK(st == NULL);
    CHECK_INT(er_store_open(&st, "not a url", &err), ER_EINVAL);
    CHECK_INT(er_store_open(&st, "sqlite://host/x.db", &err), ER_EINVAL);
    CHECK_INT(er_store_open(&st, "sqlite:", &err), ER_EINVAL);

    CHECK_INT(er_store_open(&st, "sqlite:///proc/forbidden/x.db", &err), ER_EIO);
    CHECK(strstr(err.msg, "cannot open database '/proc/forbidden/x.db'") != NULL);
    CHECK(strstr(err.msg, "DATABASE_URL") != NULL);

    char path[512];
    snprintf(path, sizeof path, "%s/garbage.db", tmpdir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("this is not a database, just some text long enough to have a header.......\n", f);
        fclose(f);
    }
    char url[600];
    snprintf(url, sizeof url, "sqlite://%s", path);
    CHECK_INT(er_store_open(&st, url, &err), ER_EIO);
    CHECK(strstr(err.msg, path) != NULL);

#ifdef ERRAND_WITH_POSTGRES
    /* Nothing listens on port 1: refused at once. */
    CHECK_INT(er_store_open(&st, "postgresql://errand:errand@127.0.0.1:1/errand", &err),
              ER_EUNAVAIL);
    CHECK(strstr(err.msg, "127.0.0.1:1") && strstr(err.msg, "is it running"));
    CHECK(strstr(err.msg, "errand:errand") == NULL);
    CHECK_INT(er_store_open(&st, "postgres://errand@127.0.0.1:1/errand", &err), ER_EUNAVAIL);
    CHECK_INT(er_store_open(&st, "postgresql://127.0.0.1/db?bogus_option=1", &err), ER_EINVAL);
#else
    CHECK_INT(er_store_open(&st, "postgresql://errand@127.0.0.1:1/errand", &err), ER_EINVAL);
    CHECK(strstr(err.msg, "ERRAND_WITH_POSTGRES") != NULL);
#endif
}

static void test_sqlite_forms(void)
{
    er_error err;
    er_store *st = NULL;
    CHECK_OK(er_store_open(&st, "sqlite::memory:", &err));
    if (st) {
        CHECK_STR(er_store_scheme(st), "sqlite");
        CHECK_OK(er_store_ping(st, &err));
        CHECK_OK(er_store_migrate(st, NULL, &err));
        char id[ER_ID_LEN];
        CHECK_OK(er_store_user_ensure(st, "mem", NULL, id, &err));
        er_store_close(st);
    }
    /* Missing parent directories are created. */
    char url[600], path[512];
    snprintf(path, sizeof path, "%s/deep/er/still/store.db", tmpdir);
    snprintf(url, sizeof url, "sqlite://%s", path);
    CHECK_OK(er_store_open(&st, url, &err));
    CHECK(access(path, F_OK) == 0);
    er_store_close(st);
    /* sqlite:relative.db is relative to the working directory. */
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(tmpdir) == 0);
    st = NULL;
    CHECK_OK(er_store_open(&st, "sqlite:relative.db", &err));
    CHECK(access("relative.db", F_OK) == 0);
    er_store_close(st);
    CHECK(chdir(cwd) == 0);
}

static int file_mode(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 0777) : -1;
}

/* Issue 22: the database and its -wal and -shm files are the owner's alone,
 * whatever the umask, and an older database made 0644 is taken private. */
static void test_sqlite_private(void)
{
    er_error err;
    er_store *st = NULL;
    char url[600], path[512], side[600];
    mode_t old = umask(022);
    snprintf(path, sizeof path, "%s/private/store.db", tmpdir);
    snprintf(url, sizeof url, "sqlite://%s", path);
    CHECK_OK(er_store_open(&st, url, &err));
    if (st) {
        CHECK_OK(er_store_migrate(st, NULL, &err));
        char id[ER_ID_LEN];
        CHECK_OK(er_store_user_ensure(st, "private", NULL, id, &err));
        CHECK_INT(file_mode(path), 0600);
        snprintf(side, sizeof side, "%s-wal", path);
        CHECK_INT(file_mode(side), 0600);
        snprintf(side, sizeof side, "%s-shm", path);
        CHECK_INT(file_mode(side), 0600);
        er_store_close(st);
    }
    snprintf(path, sizeof path, "%s/private/old.db", tmpdir);
    snprintf(url, sizeof url, "sqlite://%s", path);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK(chmod(path, 0644) == 0);
    st = NULL;
    CHECK_OK(er_store_open(&st, url, &err));
    CHECK_INT(file_mode(path), 0600);
    er_store_close(st);
    umask(old);
}

/* ---- the seam itself ---- */

typedef struct seam_row {
    int rows;
    er_sql_type t0, t1, t2;
    char text[16];
    int64_t i;
} seam_row;

static int seam_cb(const er_sql_value *cols, int ncols, void *payload)
{
    seam_row *r = payload;
    r->rows++;
    if (ncols == 3) {
        r->t0 = cols[0].type;
        r->t1 = cols[1].type;
        r->t2 = cols[2].type;
        er_strlcpy(r->text, cols[0].s ? cols[0].s : "", sizeof r->text);
        r->i = cols[1].i;
    }
    return 0;
}

static int tx_insert(er_store *st, void *payload, er_error *err)
{
    er_sql_value p[] = { ER_SQL_S((const char *)payload), ER_SQL_S("{}"), ER_SQL_I(1) };
    return er_sql_exec(st, "INSERT INTO agent_configs (agent, config, updated_ms) VALUES (?, ?, ?)",
                       p, 3, NULL, err);
}

static int tx_inner_fails(er_store *st, void *payload, er_error *err)
{
    (void)payload;
    int rc = tx_insert(st, "inner", err);
    return rc ? rc : er_error_set(err, ER_ECANCELLED, "inner gives up");
}

static int tx_outer(er_store *st, void *payload, er_error *err)
{
    int rc = tx_insert(st, "outer", err);
    if (rc)
        return rc;
    er_error inner_err;
    CHECK_INT(er_sql_transaction(st, tx_inner_fails, NULL, &inner_err), ER_ECANCELLED);
    CHECK_STR(inner_err.msg, "inner gives up");
    return payload ? er_error_set(err, ER_ECANCELLED, "outer gives up") : 0;
}

static bool has_config(er_store *st, const char *agent)
{
    char *json = NULL;
    er_error err;
    int rc = er_store_agent_config_get(st, agent, &json, &err);
    free(json);
    return rc == 0;
}

static void test_seam(er_store *st)
{
    er_error err;
    seam_row r = { 0 };
    er_sql_value p[] = { ER_SQL_I(41), ER_SQL_N };
    /* '?' inside a literal is not a placeholder; integers come back as integers. */
    CHECK_OK(er_sql_query(st, "SELECT 'a?b', ? + 1, ?", p, 2, seam_cb, &r, &err));
    CHECK_INT(r.rows, 1);
    CHECK_INT(r.t0, ER_SQL_TEXT);
    CHECK_STR(r.text, "a?b");
    CHECK_INT(r.t1, ER_SQL_INT);
    CHECK_INT(r.i, 42);
    CHECK_INT(r.t2, ER_SQL_NULL);
    CHECK_INT(er_sql_query(st, "SELECT * FROM no_such_table", NULL, 0, seam_cb, &r, &err),
              ER_EINVAL);
    CHECK(strstr(err.msg, "migrate") != NULL);

    /* A failed nested transaction undoes only its own work. */
    CHECK_OK(er_sql_transaction(st, tx_outer, NULL, &err));
    CHECK(has_config(st, "outer"));
    CHECK(!has_config(st, "inner"));
    /* A failed outer transaction undoes everything and returns fn's code. */
    er_sql_value del = ER_SQL_S("outer");
    CHECK_OK(er_sql_exec(st, "DELETE FROM agent_configs WHERE agent = ?", &del, 1, NULL, &err));
    CHECK_INT(er_sql_transaction(st, tx_outer, "fail", &err), ER_ECANCELLED);
    CHECK_STR(err.msg, "outer gives up");
    CHECK(!has_config(st, "outer"));

    if (!pg_base) { /* a read-only database (root ignores file modes, so use the pragma) */
        CHECK_OK(er_sql_exec(st, "PRAGMA query_only=1", NULL, 0, NULL, &err));
        CHECK_INT(er_store_agent_config_set(st, "ro", "{}", &err), ER_EIO);
        CHECK(strstr(err.msg, "readonly") != NULL);
        CHECK_OK(er_sql_exec(st, "PRAGMA query_only=0", NULL, 0, NULL, &err));
    }
}

/* ---- er_store_read ---- */

typedef struct read_ctx {
    er_store *other; /* a second connection to the same database */
    int before, after;
} read_ctx;

static int count_cb(const er_sql_value *cols, int ncols, void *payload)
{
    *(int *)payload = ncols == 1 ? (int)cols[0].i : -1;
    return 0;
}

static int count_configs(er_store *st)
{
    int n = -1;
    er_error err;
    CHECK_OK(er_sql_query(st, "SELECT COUNT(*) FROM agent_configs", NULL, 0, count_cb, &n, &err));
    return n;
}

/* Counts, lets the other connection write, counts again. */
static int read_twice(er_store *st, void *payload, er_error *errp)
{
    (void)errp;
    read_ctx *c = payload;
    er_error err;
    c->before = count_configs(st);
    CHECK_OK(er_store_agent_config_set(c->other, "written-meanwhile", "{}", &err));
    c->after = count_configs(st);
    return 0;
}

static int read_fails(er_store *st, void *payload, er_error *err)
{
    (void)payload;
    CHECK(count_configs(st) >= 0);
    return er_error_set(err, ER_ENOTFOUND, "reader gives up");
}

static void test_read(void)
{
    char url[1024];
    fresh_url(url, sizeof url);
    er_store *st = NULL, *other = NULL;
    er_error err;
    CHECK_OK(er_store_open(&st, url, &err));
    CHECK_OK(er_store_migrate(st, NULL, &err));
    CHECK_OK(er_store_open(&other, url, &err));
    if (!st || !other) {
        er_store_close(st);
        er_store_close(other);
        return;
    }
    /* fn's code and error come back; the store is usable afterwards. */
    CHECK_INT(er_store_read(st, read_fails, NULL, &err), ER_ENOTFOUND);
    CHECK_STR(err.msg, "reader gives up");
    read_ctx c = { other, -1, -1 };
    CHECK_OK(er_store_read(st, read_twice, &c, &err));
    /* SQLite: one snapshot for the whole of fn (PostgreSQL reads as it goes). */
    if (!pg_base)
        CHECK_INT(c.after, c.before);
    CHECK_INT(count_configs(st), c.before + 1);
    er_store_close(other);
    er_store_close(st);
}

/* A read while another thread's write transaction is open: it must neither
 * wait for that transaction nor see its uncommitted row. */
typedef struct held_tx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool in_tx, reader_done, timed_out;
} held_tx;

static int hold_open(er_store *st, void *payload, er_error *err)
{
    held_tx *h = payload;
    int rc = er_store_agent_config_set(st, "uncommitted", "{}", err);
    pthread_mutex_lock(&h->mu);
    h->in_tx = true;
    pthread_cond_broadcast(&h->cv);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    while (!h->reader_done && !h->timed_out)
        h->timed_out = pthread_cond_timedwait(&h->cv, &h->mu, &until) != 0;
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static void *writer_thread(void *arg)
{
    held_tx *h = ((void **)arg)[1];
    er_error err;
    CHECK_OK(er_store_transaction(((void **)arg)[0], hold_open, h, &err));
    return NULL;
}

static int nested_count(er_store *st, void *payload, er_error *err)
{
    (void)err;
    *(int *)payload = count_configs(st);
    return 0;
}

static int count_in_read(er_store *st, void *payload, er_error *err)
{
    int *n = payload;
    n[0] = count_configs(st);
    return er_store_read(st, nested_count, &n[1], err); /* joins this snapshot */
}

static void test_read_beside_writer(er_store *st)
{
    int before = count_configs(st);
    held_tx h = { .in_tx = false };
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    void *args[2] = { st, &h };
    pthread_t th;
    CHECK(pthread_create(&th, NULL, writer_thread, args) == 0);
    pthread_mutex_lock(&h.mu);
    while (!h.in_tx)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    int n[2] = { -1, -1 };
    er_error err;
    CHECK_OK(er_store_read(st, count_in_read, n, &err));
    pthread_mutex_lock(&h.mu);
    h.reader_done = true;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    pthread_join(th, NULL);
    CHECK(!h.timed_out);     /* the read did not wait for the writer */
    CHECK_INT(n[0], before); /* nor see its uncommitted row */
    CHECK_INT(n[1], before);
    CHECK_INT(count_configs(st), before + 1);
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.mu);
}

/* ---- migrations ---- */

static void test_migrate(void)
{
    er_error err;
    er_store *st = open_fresh(false);
    int v = -1, applied = -1;
    size_t n = 0;
    const er_migration *m = er_migrations_for(pg_base ? "postgres" : "sqlite", &n);
    CHECK(m != NULL && n >= 1);
    if (m && n) {
        CHECK_INT(m[0].version, 1);
        CHECK_STR(m[0].name, "init");
        CHECK(strstr(m[0].sql, "CREATE TABLE tasks") != NULL);
        for (size_t i = 1; i < n; i++)
            CHECK(m[i].version > m[i - 1].version);
        CHECK_INT(er_store_latest_version(st), m[n - 1].version);
    }
    size_t nmig = n;
    CHECK(er_migrations_for("no-such-dialect", &n) == NULL && n == 0);

    CHECK_OK(er_store_schema_version(st, &v, &err));
    CHECK_INT(v, 0);
    CHECK_OK(er_store_migrate(st, &applied, &err));
    CHECK_INT(applied, (int)nmig); /* versions may have gaps */
    CHECK_OK(er_store_schema_version(st, &v, &err));
    CHECK_INT(v, er_store_latest_version(st));
    CHECK_OK(er_store_migrate(st, &applied, &err));
    CHECK_INT(applied, 0);

    /* A database from a newer errand is refused, not touched. */
    er_sql_value p[] = { ER_SQL_I(er_store_latest_version(st) + 1), ER_SQL_S("future"),
                         ER_SQL_I(0) };
    CHECK_OK(er_sql_exec(st,
                         "INSERT INTO schema_migrations (version, name, applied_ms) "
                         "VALUES (?, ?, ?)",
                         p, 3, NULL, &err));
    CHECK_INT(er_store_migrate(st, &applied, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "upgrade errand") != NULL);
    CHECK_OK(er_store_schema_version(st, &v, &err));
    CHECK_INT(v, er_store_latest_version(st) + 1);
    er_store_close(st);
}

typedef struct migrator {
    char url[1024];
    int applied;
    int rc;
    er_error err;
} migrator;

static void *migrate_thread(void *arg)
{
    migrator *m = arg;
    er_store *st = NULL;
    m->rc = er_store_open(&st, m->url, &m->err);
    if (m->rc == 0) {
        m->rc = er_store_migrate(st, &m->applied, &m->err);
        er_store_close(st);
    }
    return NULL;
}

/* Two handles (two connections, as two processes would have) migrate at once. */
static void test_migrate_concurrent(void)
{
    for (int round = 0; round < 3; round++) {
        migrator m[2] = { { .applied = 0 } };
        fresh_url(m[0].url, sizeof m[0].url);
        memcpy(m[1].url, m[0].url, sizeof m[1].url);
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&th[i], NULL, migrate_thread, &m[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < 2; i++) {
            CHECK_INT(m[i].rc, 0);
            if (m[i].rc)
                fprintf(stderr, "migrator %d: %s\n", i, m[i].err.msg);
        }
        er_store *st = NULL;
        er_error err;
        CHECK_OK(er_store_open(&st, m[0].url, &err));
        if (!st)
            continue;
        int v = 0;
        CHECK_OK(er_store_schema_version(st, &v, &err));
        CHECK_INT(v, er_store_latest_version(st));
        size_t nmig = 0;
        er_migrations_for(pg_base ? "postgres" : "sqlite", &nmig);
        CHECK_INT(m[0].applied + m[1].applied, (int)nmig); /* versions may have gaps */
        er_store_close(st);
    }
}

/* ---- users ---- */

typedef struct names {
    int n;
    char v[8][32];
} names;

static int user_cb(const er_user *u, void *payload)
{
    names *ns = payload;
    if (ns->n < 8)
        er_strlcpy(ns->v[ns->n++], u->name, sizeof ns->v[0]);
    return 0;
}

static void test_users(er_store *st)
{
    er_error err;
    char a[ER_ID_LEN], a2[ER_ID_LEN], b[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "alice", "admin", a, &err));
    CHECK_OK(er_store_user_ensure(st, "alice", NULL, a2, &err));
    CHECK_STR(a2, a);
    CHECK_OK(er_store_user_ensure(st, "bob", NULL, b, &err));
    CHECK(strcmp(a, b) != 0);

    er_user u;
    CHECK_OK(er_store_user_get(st, a, &u, &err));
    CHECK_STR(u.name, "alice");
    CHECK_STR(u.role, "admin"); /* NULL kept the role */
    CHECK(u.created_ms > 0);
    er_user_release(&u);
    CHECK_OK(er_store_user_get(st, "bob", &u, &err));
    CHECK_STR(u.id, b);
    CHECK_STR(u.role, "user");
    er_user_release(&u);
    CHECK_OK(er_store_user_ensure(st, "bob", "admin", b, &err));
    CHECK_OK(er_store_user_get(st, b, &u, &err));
    CHECK_STR(u.role, "admin");
    er_user_release(&u);

    CHECK_INT(er_store_user_get(st, "carol", &u, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "carol") != NULL);
    CHECK_INT(er_store_user_ensure(st, "", NULL, b, &err), ER_EINVAL);
    CHECK_INT(er_store_user_ensure(st, "dave", "root", b, &err), ER_EINVAL);

    names ns = { 0 };
    CHECK_OK(er_store_user_list(st, user_cb, &ns, &err));
    CHECK_INT(ns.n, 2);
    CHECK_STR(ns.v[0], "alice");
    CHECK_STR(ns.v[1], "bob");
}

/* ---- conversations and messages ---- */

typedef struct msgs {
    int n, stop_after;
    int64_t last_id;
    bool ordered;
    char content[8][16];
    char task[8][ER_ID_LEN];
} msgs;

static int msg_cb(const er_message *m, void *payload)
{
    msgs *ms = payload;
    if (m->id <= ms->last_id)
        ms->ordered = false;
    ms->last_id = m->id;
    if (ms->n < 8) {
        er_strlcpy(ms->content[ms->n], m->content, sizeof ms->content[0]);
        er_strlcpy(ms->task[ms->n], m->task_id, ER_ID_LEN);
    }
    ms->n++;
    return ms->stop_after && ms->n >= ms->stop_after;
}

static void list_msgs(er_store *st, const char *conv, int limit, msgs *ms)
{
    er_error err;
    int stop = ms->stop_after;
    memset(ms, 0, sizeof *ms);
    ms->stop_after = stop;
    ms->ordered = true;
    CHECK_OK(er_store_msg_list(st, conv, limit, msg_cb, ms, &err));
    CHECK(ms->ordered);
}

static int conv_cb(const er_conversation *c, void *payload)
{
    names *ns = payload;
    if (ns->n < 8)
        er_strlcpy(ns->v[ns->n++], c->title, sizeof ns->v[0]);
    return 0;
}

static void test_messages(er_store *st, const char *conv)
{
    er_error err;
    char task[ER_ID_LEN] = "0190a000-0000-7000-8000-000000000001";
    for (int i = 0; i < 5; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        CHECK_OK(er_store_msg_append(st, conv, i % 2 ? "assistant" : "user", text,
                                     i == 4 ? task : NULL, &err));
    }
    msgs ms = { 0 };
    list_msgs(st, conv, 0, &ms);
    CHECK_INT(ms.n, 5);
    CHECK_STR(ms.content[0], "m0");
    CHECK_STR(ms.content[4], "m4");
    CHECK_STR(ms.task[0], "");
    CHECK_STR(ms.task[4], task);
    list_msgs(st, conv, 2, &ms); /* the newest two, oldest first */
    CHECK_INT(ms.n, 2);
    CHECK_STR(ms.content[0], "m3");
    CHECK_STR(ms.content[1], "m4");
    list_msgs(st, conv, 50, &ms);
    CHECK_INT(ms.n, 5);
    ms.stop_after = 3; /* a callback's nonzero return stops the list */
    list_msgs(st, conv, 0, &ms);
    CHECK_INT(ms.n, 3);

    CHECK_INT(er_store_msg_append(st, "no-such-conv", "user", "x", NULL, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "no-such-conv") != NULL);
    CHECK_INT(er_store_msg_append(st, conv, "", "x", NULL, &err), ER_EINVAL);
}

/* Compactions stand in for a conversation's older messages, which stay. */
static void test_compactions(er_store *st, const char *conv)
{
    er_error err;
    er_compaction c;
    CHECK_INT(er_store_compaction_latest(st, conv, &c, &err), ER_ENOTFOUND);
    msgs all = { 0 };
    CHECK_OK(er_store_msg_list_after(st, conv, 0, msg_cb, &all, &err));
    CHECK_INT(all.n, 5);
    int64_t ids[5], last = 0;
    for (int i = 0; i < 5; i++) { /* the ids, oldest first */
        msgs one = { .stop_after = 1 };
        CHECK_OK(er_store_msg_list_after(st, conv, last, msg_cb, &one, &err));
        ids[i] = last = one.last_id;
    }
    er_compaction add = { .through_msg_id = ids[2],
                          .summary = "m0 to m2, summarised",
                          .model = "fake-model",
                          .messages = 3,
                          .tokens_before = 120 };
    er_strlcpy(add.conversation_id, conv, ER_ID_LEN);
    CHECK_OK(er_store_compaction_add(st, &add, &err));
    CHECK(add.created_ms > 0);
    CHECK_OK(er_store_compaction_latest(st, conv, &c, &err));
    CHECK_STR(c.summary, "m0 to m2, summarised");
    CHECK_STR(c.model, "fake-model");
    CHECK_STR(c.task_id, "");
    CHECK(c.through_msg_id == ids[2]);
    CHECK(c.messages == 3 && c.tokens_before == 120);
    msgs after = { 0 };
    CHECK_OK(er_store_msg_list_after(st, conv, c.through_msg_id, msg_cb, &after, &err));
    CHECK_INT(after.n, 2);
    CHECK_STR(after.content[0], "m3");
    CHECK_STR(after.content[1], "m4");
    er_compaction_release(&c);

    add.through_msg_id = ids[3]; /* a later one covers more: it is the latest */
    add.summary = "m0 to m3";
    CHECK_OK(er_store_compaction_add(st, &add, &err));
    CHECK_OK(er_store_compaction_latest(st, conv, &c, &err));
    CHECK_STR(c.summary, "m0 to m3");
    er_compaction_release(&c);

    er_strlcpy(add.conversation_id, "no-such-conv", ER_ID_LEN);
    CHECK_INT(er_store_compaction_add(st, &add, &err), ER_ENOTFOUND);
    add.conversation_id[0] = '\0';
    CHECK_INT(er_store_compaction_add(st, &add, &err), ER_EINVAL);
    msgs still = { 0 };
    list_msgs(st, conv, 0, &still);
    CHECK_INT(still.n, 5);
}

static void test_conversations(er_store *st)
{
    er_error err;
    char uid[ER_ID_LEN], other[ER_ID_LEN], c1[ER_ID_LEN], c2[ER_ID_LEN], c3[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "conv-user", NULL, uid, &err));
    CHECK_OK(er_store_user_ensure(st, "conv-other", NULL, other, &err));
    CHECK_OK(er_store_conv_create(st, uid, "first", c1, &err));
    usleep(5000); /* distinct updated_ms, so the expected order is unambiguous */
    CHECK_OK(er_store_conv_create(st, uid, "second", c2, &err));
    CHECK_OK(er_store_conv_create(st, other, "theirs", c3, &err));

    er_conversation c;
    CHECK_OK(er_store_conv_get(st, c1, &c, &err));
    CHECK_STR(c.title, "first");
    CHECK_STR(c.user_id, uid);
    int64_t created = c.created_ms;
    CHECK(c.updated_ms == created);
    er_conversation_release(&c);

    names ns = { 0 };
    CHECK_OK(er_store_conv_list(st, uid, 0, conv_cb, &ns, &err));
    CHECK_INT(ns.n, 2);
    CHECK_STR(ns.v[0], "second");
    usleep(5000);
    test_messages(st, c1); /* appending moves "first" to the top */
    test_compactions(st, c1);
    ns.n = 0;
    CHECK_OK(er_store_conv_list(st, uid, 0, conv_cb, &ns, &err));
    CHECK_INT(ns.n, 2);
    CHECK_STR(ns.v[0], "first");
    ns.n = 0;
    CHECK_OK(er_store_conv_list(st, uid, 1, conv_cb, &ns, &err));
    CHECK_INT(ns.n, 1);
    ns.n = 0;
    CHECK_OK(er_store_conv_list(st, NULL, 0, conv_cb, &ns, &err));
    CHECK_INT(ns.n, 3);
    CHECK_OK(er_store_conv_get(st, c1, &c, &err));
    CHECK(c.updated_ms > created);
    er_conversation_release(&c);

    CHECK_INT(er_store_conv_get(st, "nope", &c, &err), ER_ENOTFOUND);
    CHECK_INT(er_store_conv_create(st, "no-such-user", "t", c3, &err), ER_ENOTFOUND);
    CHECK_INT(er_store_conv_create(st, "", "t", c3, &err), ER_EINVAL);
}

/* ---- tasks ---- */

typedef struct task_ids {
    int n;
    char id[16][ER_ID_LEN];
    bool newest_first;
    int64_t last_created;
} task_ids;

static int task_cb(const er_task *t, void *payload)
{
    task_ids *ti = payload;
    if (ti->n && t->created_ms > ti->last_created)
        ti->newest_first = false;
    ti->last_created = t->created_ms;
    if (ti->n < 16)
        er_strlcpy(ti->id[ti->n], t->id, ER_ID_LEN);
    ti->n++;
    return 0;
}

static int count_tasks(er_store *st, const er_task_filter *f, task_ids *ti)
{
    er_error err;
    memset(ti, 0, sizeof *ti);
    ti->newest_first = true;
    CHECK_OK(er_store_task_list(st, f, task_cb, ti, &err));
    CHECK(ti->newest_first);
    return ti->n;
}

static void make_task(er_store *st, er_task *t, const char *user, const char *parent,
                      const char *conv, const char *request)
{
    er_error err;
    memset(t, 0, sizeof *t);
    er_strlcpy(t->user_id, user, ER_ID_LEN);
    er_strlcpy(t->parent_id, parent ? parent : "", ER_ID_LEN);
    er_strlcpy(t->conversation_id, conv ? conv : "", ER_ID_LEN);
    er_strlcpy(t->trace_id, "trace-1", ER_ID_LEN);
    t->request = (char *)request;
    t->meta = (char *)"{\"k\":1}";
    CHECK_OK(er_store_task_create(st, t, &err));
    CHECK(t->id[0] != '\0');
    CHECK(t->created_ms > 0 && t->updated_ms == t->created_ms);
}

static void test_task_filters(er_store *st, const char *uid, const char *conv,
                              const er_task *parent, const er_task *child)
{
    task_ids ti;
    er_task_filter f = { .status = -1 };
    CHECK_INT(count_tasks(st, &f, &ti), 4);
    f.user_id = uid;
    CHECK_INT(count_tasks(st, &f, &ti), 3);
    f.parent_id = "";
    CHECK_INT(count_tasks(st, &f, &ti), 2);
    f.parent_id = parent->id;
    CHECK_INT(count_tasks(st, &f, &ti), 1);
    CHECK_STR(ti.id[0], child->id);
    f = (er_task_filter){ .conversation_id = conv, .status = -1 };
    CHECK_INT(count_tasks(st, &f, &ti), 2);
    f = (er_task_filter){ .status = ER_TASK_QUEUED };
    CHECK_INT(count_tasks(st, &f, &ti), 4);
    f = (er_task_filter){ .status = ER_TASK_DONE };
    CHECK_INT(count_tasks(st, &f, &ti), 0);
    f = (er_task_filter){ .status = -1, .limit = 2 };
    CHECK_INT(count_tasks(st, &f, &ti), 2);
    CHECK_INT(count_tasks(st, NULL, &ti), 4);
}

static void check_task(er_store *st, const char *id, er_task_status status, const char *agent,
                       int64_t tin, int64_t tout)
{
    er_error err;
    er_task t;
    CHECK_OK(er_store_task_get(st, id, &t, &err));
    CHECK_INT(t.status, status);
    CHECK_STR(t.agent ? t.agent : "(null)", agent ? agent : "(null)");
    CHECK_INT(t.tokens_in, tin);
    CHECK_INT(t.tokens_out, tout);
    er_task_release(&t);
    er_task_status s;
    CHECK_OK(er_store_task_status(st, id, &s, &err));
    CHECK_INT(s, status);
}

static void test_task_advance(er_store *st, const char *id)
{
    er_error err;
    er_task_update u = { .agent = "code", .tokens_in = 10, .tokens_out = 5 };
    CHECK_OK(er_store_task_advance(st, id, ER_TASK_ROUTED, &u, &err));
    check_task(st, id, ER_TASK_ROUTED, "code", 10, 5);
    /* Same non-final status: a field update; tokens add up. */
    u = (er_task_update){ .meta = "{\"k\":2}", .tokens_in = 10, .tokens_out = 5 };
    CHECK_OK(er_store_task_advance(st, id, ER_TASK_ROUTED, &u, &err));
    check_task(st, id, ER_TASK_ROUTED, "code", 20, 10);
    CHECK_OK(er_store_task_advance(st, id, ER_TASK_RUNNING, NULL, &err));
    /* Backward: refused, nothing changes. */
    u = (er_task_update){ .agent = "data", .tokens_in = 1 };
    CHECK_INT(er_store_task_advance(st, id, ER_TASK_QUEUED, &u, &err), ER_ECONFLICT);
    CHECK(strstr(err.msg, "running") != NULL);
    check_task(st, id, ER_TASK_RUNNING, "code", 20, 10);
    u = (er_task_update){ .result = "42", .tokens_out = 1 };
    CHECK_OK(er_store_task_advance(st, id, ER_TASK_DONE, &u, &err));
    check_task(st, id, ER_TASK_RUNNING + 1, "code", 20, 11);
    /* Final → final, same or another: refused. */
    CHECK_INT(er_store_task_advance(st, id, ER_TASK_DONE, NULL, &err), ER_ECONFLICT);
    u = (er_task_update){ .error = "late" };
    CHECK_INT(er_store_task_advance(st, id, ER_TASK_FAILED, &u, &err), ER_ECONFLICT);
    CHECK_INT(er_store_task_advance(st, id, ER_TASK_CANCELLED, NULL, &err), ER_ECONFLICT);
    er_task t;
    CHECK_OK(er_store_task_get(st, id, &t, &err));
    CHECK_STR(t.result, "42");
    CHECK(t.error == NULL);
    CHECK_STR(t.meta, "{\"k\":2}");
    CHECK(t.updated_ms >= t.created_ms);
    er_task_release(&t);

    CHECK_INT(er_store_task_advance(st, "no-such-task", ER_TASK_DONE, NULL, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "no-such-task") != NULL);
    CHECK_INT(er_store_task_advance(st, id, (er_task_status)9, NULL, &err), ER_EINVAL);
}

static void test_tasks(er_store *st)
{
    er_error err;
    char uid[ER_ID_LEN], conv[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "task-user", NULL, uid, &err));
    CHECK_OK(er_store_conv_create(st, uid, "tasks", conv, &err));
    er_task parent, child, other, lone;
    make_task(st, &parent, uid, NULL, conv, "do the thing");
    make_task(st, &child, uid, parent.id, conv, "part of it");
    make_task(st, &other, uid, NULL, NULL, "something else");
    make_task(st, &lone, "someone-else", NULL, NULL, "theirs");

    er_task t;
    CHECK_OK(er_store_task_get(st, child.id, &t, &err));
    CHECK_STR(t.parent_id, parent.id);
    CHECK_STR(t.conversation_id, conv);
    CHECK_STR(t.user_id, uid);
    CHECK_STR(t.trace_id, "trace-1");
    CHECK_STR(t.request, "part of it");
    CHECK_STR(t.meta, "{\"k\":1}");
    CHECK(t.agent == NULL && t.result == NULL && t.error == NULL);
    CHECK_INT(t.status, ER_TASK_QUEUED);
    CHECK_INT(t.created_ms, child.created_ms);
    er_task_release(&t);
    CHECK_OK(er_store_task_get(st, other.id, &t, &err));
    CHECK_STR(t.parent_id, "");
    CHECK_STR(t.conversation_id, "");
    er_task_release(&t);

    er_task dup = parent; /* an explicit id that is taken */
    CHECK_INT(er_store_task_create(st, &dup, &err), ER_EEXISTS);
    CHECK_INT(er_store_task_get(st, "no-such-task", &t, &err), ER_ENOTFOUND);
    er_task_status s;
    CHECK_INT(er_store_task_status(st, "no-such-task", &s, &err), ER_ENOTFOUND);

    test_task_filters(st, uid, conv, &parent, &child);
    test_task_advance(st, other.id);
}

static void test_status_names(void)
{
    for (int s = ER_TASK_QUEUED; s <= ER_TASK_CANCELLED; s++) {
        er_task_status back;
        CHECK_INT(er_task_status_parse(er_task_status_name((er_task_status)s), &back), 0);
        CHECK_INT(back, s);
    }
    CHECK_STR(er_task_status_name(ER_TASK_CANCELLED), "cancelled");
    er_task_status back;
    CHECK_INT(er_task_status_parse("finished", &back), ER_EINVAL);
    CHECK(er_task_status_final(ER_TASK_FAILED) && !er_task_status_final(ER_TASK_RUNNING));
}

/* ---- events ---- */

typedef struct evs {
    int n;
    int64_t ids[8];
    char kinds[8][16];
} evs;

static int event_cb(const er_event *e, void *payload)
{
    evs *v = payload;
    if (v->n < 8) {
        v->ids[v->n] = e->id;
        er_strlcpy(v->kinds[v->n], e->kind, sizeof v->kinds[0]);
    }
    v->n++;
    return 0;
}

static void test_events(er_store *st)
{
    er_error err;
    er_task t;
    make_task(st, &t, "ev-user", NULL, NULL, "events");
    int64_t id1 = -1, id2 = -1, id3 = -1, dup = -1;
    CHECK_OK(er_store_event_add(st, t.id, NULL, "routed", "{\"agent\":\"code\"}", &id1, &err));
    CHECK_OK(er_store_event_add(st, t.id, "llm:1", "llm", "{\"n\":1}", &id2, &err));
    CHECK_OK(er_store_event_add(st, t.id, "llm:1", "llm", "{\"n\":99}", &dup, &err));
    CHECK_INT(dup, 0);
    CHECK_OK(er_store_event_add(st, t.id, "tool:1", "tool_call", NULL, &id3, &err));
    CHECK(id1 > 0 && id2 > id1 && id3 > id2);
    CHECK_OK(er_store_event_add(st, t.id, NULL, "note", "{}", NULL, &err));

    evs v = { 0 };
    CHECK_OK(er_store_event_list(st, t.id, 0, event_cb, &v, &err));
    CHECK_INT(v.n, 4);
    CHECK_STR(v.kinds[0], "routed");
    CHECK_STR(v.kinds[1], "llm");
    CHECK_STR(v.kinds[2], "tool_call");
    CHECK_STR(v.kinds[3], "note");
    for (int i = 1; i < 4; i++)
        CHECK(v.ids[i] > v.ids[i - 1]);
    memset(&v, 0, sizeof v);
    CHECK_OK(er_store_event_list(st, t.id, id2, event_cb, &v, &err));
    CHECK_INT(v.n, 2);
    CHECK_INT(v.ids[0], id3);

    er_event e;
    CHECK_OK(er_store_event_find(st, t.id, "llm:1", &e, &err));
    CHECK_INT(e.id, id2);
    CHECK_STR(e.data, "{\"n\":1}"); /* the duplicate changed nothing */
    CHECK_STR(e.step_key, "llm:1");
    CHECK_STR(e.task_id, t.id);
    CHECK(e.created_ms > 0);
    er_event_release(&e);
    CHECK_OK(er_store_event_find(st, t.id, "tool:1", &e, &err));
    CHECK(e.data == NULL);
    er_event_release(&e);
    CHECK_INT(er_store_event_find(st, t.id, "llm:2", &e, &err), ER_ENOTFOUND);
    CHECK_INT(er_store_event_add(st, "no-such-task", NULL, "x", "{}", &id1, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "no-such-task") != NULL);
    CHECK_INT(er_store_event_add(st, t.id, NULL, "", "{}", &id1, &err), ER_EINVAL);
}

/* ---- leases (fencing) ---- */

static int count_overdue(const er_task *t, void *payload)
{
    char *want = payload;
    if (strcmp(t->id, want) == 0)
        want[0] = '\0'; /* seen */
    return 0;
}

static void test_leases(er_store *st)
{
    er_error err;
    er_task t;
    make_task(st, &t, "lease-user", NULL, NULL, "leased");
    er_lease a, b;
    CHECK_OK(er_store_task_take(st, t.id, "host boot 1 1", 60000, &a, &err));
    CHECK_INT(a.attempt, 1);
    CHECK(a.deadline_ms >= er_time_ms() + 59000 && a.deadline_ms <= er_time_ms() + 60000);
    er_task got;
    CHECK_OK(er_store_task_get(st, t.id, &got, &err));
    CHECK_INT(got.status, ER_TASK_RUNNING);
    CHECK_INT(got.attempt, 1);
    CHECK_INT(got.deadline_ms, a.deadline_ms);
    er_task_release(&got);
    int64_t id = -1;
    CHECK_OK(er_store_event_add_leased(st, &a, "llm:1", "llm", "{\"by\":\"a\"}", &id, &err));
    CHECK(id > 0);
    CHECK_OK(er_store_lease_check(st, &a, &err));

    /* A second attempt takes it: the deadline stays, the first attempt is fenced off. */
    CHECK_OK(er_store_task_take(st, t.id, "host boot 2 2", 1, &b, &err));
    CHECK_INT(b.attempt, 2);
    CHECK_INT(b.deadline_ms, a.deadline_ms);
    CHECK_INT(er_store_lease_check(st, &a, &err), ER_ECONFLICT);
    CHECK(strstr(err.msg, "attempt 2 (host boot 2 2) took task") != NULL);
    CHECK_INT(er_store_event_add_leased(st, &a, "llm:2", "llm", "{}", &id, &err), ER_ECONFLICT);
    CHECK_INT(er_store_event_add_leased(st, &a, NULL, "note", "{}", &id, &err), ER_ECONFLICT);
    er_event e;
    CHECK_INT(er_store_event_find(st, t.id, "llm:2", &e, &err), ER_ENOTFOUND);
    /* The new attempt meets the recorded step: told, not stored twice. */
    id = -1;
    CHECK_OK(er_store_event_add_leased(st, &b, "llm:1", "llm", "{\"by\":\"b\"}", &id, &err));
    CHECK_INT(id, 0);
    CHECK_OK(er_store_event_find(st, t.id, "llm:1", &e, &err));
    CHECK_STR(e.data, "{\"by\":\"a\"}");
    er_event_release(&e);
    CHECK_OK(er_store_event_add_leased(st, &b, NULL, "note", "{}", &id, &err));
    CHECK(id > 0);

    /* Overdue: only open tasks past their deadline. */
    char want[ER_ID_LEN];
    memcpy(want, t.id, ER_ID_LEN);
    CHECK_OK(er_store_tasks_overdue(st, a.deadline_ms - 1, 100, count_overdue, want, &err));
    CHECK(want[0] != '\0');
    CHECK_OK(er_store_tasks_overdue(st, a.deadline_ms + 1, 100, count_overdue, want, &err));
    CHECK(want[0] == '\0');

    /* The outcome of a stale attempt is dropped; the current one's is not. */
    er_task_update stale = { .result = "stale", .attempt = 1 };
    CHECK_INT(er_store_task_advance(st, t.id, ER_TASK_DONE, &stale, &err), ER_ECONFLICT);
    CHECK(strstr(err.msg, "run by attempt 2 now; the outcome of attempt 1 is dropped") != NULL);
    er_task_update current = { .error = "failed by attempt 2", .attempt = 2 };
    CHECK_OK(er_store_task_advance(st, t.id, ER_TASK_FAILED, &current, &err));
    CHECK_OK(er_store_task_get(st, t.id, &got, &err));
    CHECK(got.result == NULL);
    CHECK_STR(got.error, "failed by attempt 2");
    er_task_release(&got);

    /* An ended task holds no lease and cannot be taken. */
    CHECK_INT(er_store_lease_check(st, &b, &err), ER_ECONFLICT);
    CHECK(strstr(err.msg, "has ended (failed)") != NULL);
    CHECK_INT(er_store_event_add_leased(st, &b, "llm:9", "llm", "{}", &id, &err), ER_ECONFLICT);
    er_lease c;
    CHECK_INT(er_store_task_take(st, t.id, "host boot 3 3", 1000, &c, &err), ER_ECONFLICT);
    CHECK(strstr(err.msg, "already ended (failed)") != NULL);
    memcpy(want, t.id, ER_ID_LEN);
    CHECK_OK(er_store_tasks_overdue(st, a.deadline_ms + 1, 100, count_overdue, want, &err));
    CHECK(want[0] != '\0');
    CHECK_INT(er_store_task_take(st, "no-such-task", "x", 1000, &c, &err), ER_ENOTFOUND);

    /* Without a budget, no deadline. */
    make_task(st, &t, "lease-user", NULL, NULL, "no deadline");
    CHECK_OK(er_store_task_take(st, t.id, "host boot 1 1", 0, &a, &err));
    CHECK_INT(a.deadline_ms, 0);
}

/* ---- task waits (parked on an approval) ---- */

static int find_due(const er_task_wait *w, void *payload)
{
    char *want = payload;
    if (strcmp(w->task_id, want) == 0)
        want[0] = '\0'; /* seen */
    return 0;
}

static void test_waits(er_store *st)
{
    er_error err;
    er_task t;
    make_task(st, &t, "wait-user", NULL, NULL, "parked");
    er_lease a, b;
    CHECK_OK(er_store_task_take(st, t.id, "host boot 1 1", 60000, &a, &err));
    int64_t now = er_time_ms();
    er_task_wait w = { .call_id = "c1",
                       .step_key = "approval:1:c1",
                       .tool = "run",
                       .admin_only = true,
                       .created_ms = now - 5000,
                       .expires_ms = now + 1000 };
    bool fresh = false;
    CHECK_OK(er_store_wait_park(st, &a, &w, &fresh, &err));
    CHECK(fresh);
    /* A redelivered attempt parking on the same call keeps the first wait. */
    CHECK_OK(er_store_task_take(st, t.id, "host boot 2 2", 60000, &b, &err));
    w.expires_ms = now + 99000;
    CHECK_OK(er_store_wait_park(st, &b, &w, &fresh, &err));
    CHECK(!fresh);
    /* A lost lease parks nothing. */
    CHECK_INT(er_store_wait_park(st, &a, &w, &fresh, &err), ER_ECONFLICT);
    er_task_wait got;
    CHECK_OK(er_store_wait_get(st, t.id, &got, &err));
    CHECK_STR(got.call_id, "c1");
    CHECK_STR(got.step_key, "approval:1:c1");
    CHECK_STR(got.tool, "run");
    CHECK(got.admin_only);
    CHECK_INT(got.expires_ms, now + 1000);
    er_task_wait_release(&got);
    /* A parked task is not overdue, however late; due once it expires. */
    char want[ER_ID_LEN];
    memcpy(want, t.id, ER_ID_LEN);
    CHECK_OK(er_store_tasks_overdue(st, b.deadline_ms + 1, 100, count_overdue, want, &err));
    CHECK(want[0] != '\0');
    CHECK_OK(er_store_waits_due(st, now, 100, find_due, want, &err));
    CHECK(want[0] != '\0');
    CHECK_OK(er_store_waits_due(st, now + 1001, 100, find_due, want, &err));
    CHECK(want[0] == '\0');
    /* Ending it: once, for that call only, and the deadline moves on by the wait. */
    CHECK_INT(er_store_wait_end(st, t.id, "other-call", &err), ER_ENOTFOUND);
    CHECK_OK(er_store_wait_end(st, t.id, "c1", &err));
    CHECK_INT(er_store_wait_end(st, t.id, "c1", &err), ER_ENOTFOUND);
    CHECK_INT(er_store_wait_get(st, t.id, &got, &err), ER_ENOTFOUND);
    er_task after;
    CHECK_OK(er_store_task_get(st, t.id, &after, &err));
    CHECK(after.deadline_ms >= b.deadline_ms + 5000 && after.deadline_ms <= b.deadline_ms + 60000);
    er_task_release(&after);
    /* The wait of a task that ended is due at once. */
    CHECK_OK(er_store_wait_park(st, &b, &w, &fresh, &err));
    CHECK_OK(er_store_task_advance(st, t.id, ER_TASK_CANCELLED, NULL, &err));
    memcpy(want, t.id, ER_ID_LEN);
    CHECK_OK(er_store_waits_due(st, now, 100, find_due, want, &err));
    CHECK(want[0] == '\0');
    CHECK_INT(er_store_wait_park(st, &b, &w, &fresh, &err), ER_ECONFLICT);
}

/* ---- agent configs ---- */

/* ---- LLM usage (store_usage.h) ---- */

typedef struct usage_seen {
    int n;
    char keys[8][80];
    er_usage_sum sums[8];
} usage_seen;

static int usage_cb(const er_usage_sum *s, void *payload)
{
    usage_seen *u = payload;
    if (u->n < 8) {
        snprintf(u->keys[u->n], sizeof u->keys[0], "%s|%s|%s|%s%s%s", s->day ? s->day : "-",
                 s->model ? s->model : "-", s->agent ? s->agent : "-",
                 s->user_id ? s->user_id : "-", s->conversation_id ? "|" : "",
                 s->conversation_id ? s->conversation_id : "");
        u->sums[u->n] = *s;
    }
    u->n++;
    return 0;
}

static void test_usage(er_store *st)
{
    er_error err;
    int64_t day1 = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    int64_t day2 = day1 + 86400000LL + 5000;
    char d[11];
    er_usage_day(day1 + 86399999LL, d);
    CHECK_STR(d, "2026-01-01");
    const er_usage rows[] = {
        { "t1", "t1", "u1", "code", "m-a", day1, 100, 10, 1200, 0, 0, 0 },
        { "t1", "t1", "u1", "code/analyzer", "m-a", day1 + 1, 50, 5, 600, 0, 0, 0 },
        { "t2", "t2", "u2", "research", "m-b", day1 + 2, 7, 3, -1, 0, 0, 0 }, /* no price */
        { "t3", "t3", "u1", "code", "m-a", day2, 1000, 100, 12000, 0, 0, 0 },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(rows); i++)
        CHECK_OK(er_store_usage_add(st, &rows[i], &err));
    er_usage bad = { .task_id = "", .agent = "code" };
    CHECK(er_store_usage_add(st, &bad, &err) == ER_EINVAL);

    er_usage_day_totals today;
    CHECK_OK(er_store_usage_day_totals(st, "u1", "2026-01-01", &today, &err));
    CHECK(today.cost_micros == 1800 && today.tokens == 165 && today.elapsed_ms == 0);
    CHECK_OK(er_store_usage_day_totals(st, "u2", "2026-01-01", &today, &err));
    CHECK(today.cost_micros == 0 && today.tokens == 10); /* unpriced rows add no cost */
    CHECK_OK(er_store_usage_day_totals(st, "u1", "2026-01-03", &today, &err));
    CHECK(today.cost_micros == 0 && today.tokens == 0);

    usage_seen u = { 0 };
    CHECK_OK(er_store_usage_report(st, ER_USAGE_BY_ALL, NULL, usage_cb, &u, &err));
    CHECK_INT(u.n, 4);
    CHECK_STR(u.keys[0], "2026-01-01|m-a|code|-");
    CHECK_STR(u.keys[1], "2026-01-01|m-a|code/analyzer|-");
    CHECK_STR(u.keys[2], "2026-01-01|m-b|research|-");
    CHECK(u.sums[2].unpriced == 1 && u.sums[2].cost_micros == 0 && u.sums[2].input_tokens == 7);
    CHECK_STR(u.keys[3], "2026-01-02|m-a|code|-");

    memset(&u, 0, sizeof u);
    CHECK_OK(er_store_usage_report(st, ER_USAGE_BY_MODEL, NULL, usage_cb, &u, &err));
    CHECK_INT(u.n, 2);
    CHECK_STR(u.keys[0], "-|m-a|-|-");
    CHECK(u.sums[0].requests == 3 && u.sums[0].input_tokens == 1150 &&
          u.sums[0].output_tokens == 115 && u.sums[0].cost_micros == 13800);

    memset(&u, 0, sizeof u);
    er_usage_filter since2 = { .since_day = "2026-01-02" };
    CHECK_OK(er_store_usage_report(st, ER_USAGE_BY_USER, &since2, usage_cb, &u, &err));
    CHECK_INT(u.n, 1);
    CHECK_STR(u.keys[0], "-|-|-|u1");

    memset(&u, 0, sizeof u);
    er_usage_filter of_u2 = { .user_id = "u2" };
    CHECK_OK(er_store_usage_report(st, ER_USAGE_BY_DAY, &of_u2, usage_cb, &u, &err));
    CHECK_INT(u.n, 1);
    CHECK(u.sums[0].requests == 1);
    memset(&u, 0, sizeof u);
    er_usage_filter until1 = { .user_id = "u1", .until_day = "2026-01-01" };
    CHECK_OK(er_store_usage_report(st, ER_USAGE_BY_DAY, &until1, usage_cb, &u, &err));
    CHECK_INT(u.n, 1);
    CHECK(u.sums[0].requests == 2 && u.sums[0].cost_micros == 1800);
    CHECK(er_store_usage_report(st, (er_usage_by)99, NULL, usage_cb, &u, &err) == ER_EINVAL);
    er_usage_by by;
    CHECK_OK(er_usage_by_parse("conversation", &by));
    CHECK(by == ER_USAGE_BY_CONVERSATION);
    CHECK(er_usage_by_parse("all", &by) == ER_EINVAL); /* the default has no name */
    CHECK(er_usage_by_parse("week", &by) == ER_EINVAL);
}

/* A row takes its top-level task's conversation; cached tokens and working
 * time are kept and summed. */
static void test_usage_conversation(er_store *st)
{
    er_error err;
    char uid[ER_ID_LEN], conv[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "usage-conv-user", NULL, uid, &err));
    CHECK_OK(er_store_conv_create(st, uid, "priced", conv, &err));
    er_task t;
    make_task(st, &t, uid, NULL, conv, "cost me");
    er_usage a = { .task_id = t.id,
                   .root_id = t.id,
                   .user_id = uid,
                   .agent = "supervisor",
                   .model = "m-c",
                   .input_tokens = 2000,
                   .output_tokens = 10,
                   .cost_micros = 100,
                   .cached_tokens = 1500,
                   .cache_write_tokens = 200,
                   .elapsed_ms = 1250 };
    CHECK_OK(er_store_usage_add(st, &a, &err));
    er_usage b = a; /* a subtask's step: same root */
    b.task_id = "sub-of-conv";
    b.agent = "code";
    b.elapsed_ms = 750;
    CHECK_OK(er_store_usage_add(st, &b, &err));
    er_usage loose = { .task_id = "no-task",
                       .user_id = uid,
                       .agent = "code",
                       .model = "m-c",
                       .input_tokens = 1,
                       .output_tokens = 1,
                       .cost_micros = 5 };
    CHECK_OK(er_store_usage_add(st, &loose, &err));

    usage_seen u = { 0 };
    er_usage_filter mine = { .user_id = uid };
    CHECK_OK(er_store_usage_report(st, ER_USAGE_BY_CONVERSATION, &mine, usage_cb, &u, &err));
    CHECK_INT(u.n, 2);
    CHECK_STR(u.keys[0], "-|-|-|-|"); /* no conversation sorts first */
    char want[80];
    snprintf(want, sizeof want, "-|-|-|-|%s", conv);
    CHECK_STR(u.keys[1], want);
    CHECK(u.sums[1].requests == 2 && u.sums[1].cached_tokens == 3000 &&
          u.sums[1].cache_write_tokens == 400 && u.sums[1].elapsed_ms == 2000 &&
          u.sums[1].cost_micros == 200 && u.sums[1].input_tokens == 4000);

    er_usage_filter of_conv = { .conversation_id = conv };
    cJSON *j = NULL;
    CHECK_OK(er_store_usage_report_json(st, ER_USAGE_BY_AGENT, &of_conv, &j, &err));
    const cJSON *total = er_json_obj(j, "total");
    CHECK(er_json_int(total, "requests", 0, 0, 100) == 2);
    CHECK(er_json_num(total, "seconds", 0) == 2.0);
    CHECK(er_json_num(total, "cost_usd", 0) == 0.0002);
    CHECK(cJSON_GetArraySize(er_json_arr(j, "rows")) == 2);
    cJSON_Delete(j);

    char day[11];
    er_usage_day(er_time_ms(), day);
    er_usage_day_totals today;
    CHECK_OK(er_store_usage_day_totals(st, uid, day, &today, &err));
    CHECK(today.tokens == 4022 && today.elapsed_ms == 2000 && today.cost_micros == 205);
}

static void test_agent_configs(er_store *st)
{
    er_error err;
    char *json = NULL;
    CHECK_INT(er_store_agent_config_get(st, "code", &json, &err), ER_ENOTFOUND);
    CHECK(json == NULL);
    CHECK_OK(er_store_agent_config_set(st, "code", "{\"model\":\"a\"}", &err));
    CHECK_OK(er_store_agent_config_get(st, "code", &json, &err));
    CHECK_STR(json, "{\"model\":\"a\"}");
    free(json);
    CHECK_OK(er_store_agent_config_set(st, "code", "{\"model\":\"b\",\"max_steps\":3}", &err));
    CHECK_OK(er_store_agent_config_get(st, "code", &json, &err));
    CHECK_STR(json, "{\"model\":\"b\",\"max_steps\":3}");
    free(json);
    CHECK_INT(er_store_agent_config_set(st, "code", "{\"model\":", &err), ER_EINVAL);
    CHECK(strstr(err.msg, "code") != NULL);
    CHECK_INT(er_store_agent_config_set(st, "code", "[1,2]", &err), ER_EINVAL);
    CHECK_INT(er_store_agent_config_set(st, "", "{}", &err), ER_EINVAL);
}

/* ---- many threads at once ---- */

#define THREADS    4
#define PER_THREAD 200

typedef struct worker {
    er_store *st;
    const char *conv;
    int failures;
    er_error last;
} worker;

static void *worker_thread(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        er_task t = { .request = (char *)"load", .status = ER_TASK_QUEUED };
        er_strlcpy(t.user_id, "load-user", ER_ID_LEN);
        int64_t id = 0;
        if (er_store_task_create(w->st, &t, &w->last) ||
            er_store_event_add(w->st, t.id, "step:1", "llm", "{}", &id, &w->last) ||
            er_store_event_add(w->st, t.id, NULL, "note", "{}", &id, &w->last) ||
            er_store_task_advance(w->st, t.id, ER_TASK_RUNNING, NULL, &w->last) ||
            er_store_msg_append(w->st, w->conv, "user", "load", t.id, &w->last)) /* a tx */
            w->failures++;
    }
    return NULL;
}

static int count_event(const er_event *e, void *payload)
{
    (void)e;
    (*(int *)payload)++;
    return 0;
}

static int check_load_task(const er_task *t, void *payload)
{
    er_store *st = payload;
    int n = 0;
    er_error err;
    CHECK_OK(er_store_event_list(st, t->id, 0, count_event, &n, &err)); /* nested call */
    CHECK_INT(n, 2);
    CHECK_INT(t->status, ER_TASK_RUNNING);
    return 0;
}

static void test_concurrency(er_store *st)
{
    er_error err;
    char uid[ER_ID_LEN], conv[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "load-owner", NULL, uid, &err));
    CHECK_OK(er_store_conv_create(st, uid, "load", conv, &err));
    worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ .st = st, .conv = conv };
        pthread_create(&th[i], NULL, worker_thread, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].failures, 0);
        if (w[i].failures)
            fprintf(stderr, "worker %d: %s\n", i, w[i].last.msg);
    }
    task_ids ti;
    er_task_filter f = { .user_id = "load-user", .status = -1, .limit = 10000 };
    CHECK_INT(count_tasks(st, &f, &ti), THREADS * PER_THREAD);
    CHECK_OK(er_store_task_list(st, &f, check_load_task, st, &err));
    msgs ms = { 0 };
    list_msgs(st, conv, 0, &ms);
    CHECK_INT(ms.n, THREADS * PER_THREAD);
}

/* ---- PostgreSQL only ---- */

#ifdef ERRAND_WITH_POSTGRES
static int64_t backend_pid(er_store *st)
{
    er_error err;
    seam_row r = { 0 };
    CHECK_OK(er_sql_query(st, "SELECT 'pid', pg_backend_pid(), 0", NULL, 0, seam_cb, &r, &err));
    CHECK_INT(r.t1, ER_SQL_INT);
    return r.i;
}

static void test_pg_connection(void)
{
    er_error err;
    er_store *bad = NULL;
    char url[1024];
    er_strlcpy(url, pg_base, sizeof url);
    char *pw = strstr(url, ":errand@");
    if (pw) { /* same server, wrong password */
        memcpy(pw, ":wrongp@", 8);
        CHECK_INT(er_store_open(&bad, url, &err), ER_EAUTH);
        CHECK(strstr(err.msg, "wrongp") == NULL);
    }
    /* A connection the server drops is reset, and the statement retried. */
    er_store *victim = open_fresh(true);
    int64_t before = backend_pid(victim);
    er_sql_value p = ER_SQL_I(before);
    CHECK_OK(er_sql_exec(admin, "SELECT pg_terminate_backend(CAST(? AS INTEGER), 10000)", &p, 1,
                         NULL, &err));
    CHECK_OK(er_store_ping(victim, &err));
    int64_t after = backend_pid(victim);
    CHECK(after != before && after > 0);
    char id[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(victim, "after-reset", NULL, id, &err));
    er_store_close(victim);
}
#endif

/* ---- authentication: API tokens, refresh tokens, identities ---- */

typedef struct token_seen {
    int n, revoked;
    char label[4][16];
} token_seen;

static int token_cb(const er_api_token *t, void *payload)
{
    token_seen *ts = payload;
    if (ts->n < 4)
        er_strlcpy(ts->label[ts->n], t->label, sizeof ts->label[0]);
    ts->n++;
    if (t->revoked_ms)
        ts->revoked++;
    return 0;
}

static void test_api_tokens(er_store *st)
{
    er_error err;
    char alice[ER_ID_LEN], bob[ER_ID_LEN], t1[ER_ID_LEN], t2[ER_ID_LEN], t3[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "tok-alice", "admin", alice, &err));
    CHECK_OK(er_store_user_ensure(st, "tok-bob", NULL, bob, &err));
    CHECK_OK(er_store_api_token_add(st, alice, "laptop", "aaaa01", t1, &err));
    CHECK_OK(er_store_api_token_add(st, alice, NULL, "aaaa02", t2, &err));
    CHECK_OK(er_store_api_token_add(st, bob, "ci", "bbbb01", t3, &err));
    CHECK(strcmp(t1, t2) != 0);
    CHECK_INT(er_store_api_token_add(st, bob, "dup", "aaaa01", t3, &err), ER_EEXISTS);
    CHECK_INT(
        er_store_api_token_add(st, "00000000-0000-7000-8000-000000000000", "x", "cccc", t3, &err),
        ER_ENOTFOUND);
    CHECK_INT(er_store_api_token_add(st, alice, "x", "", t3, &err), ER_EINVAL);

    er_user u;
    char tid[ER_ID_LEN];
    CHECK_OK(er_store_api_token_user(st, "aaaa02", &u, tid, &err));
    CHECK_STR(tid, t2);
    CHECK_STR(u.id, alice);
    CHECK_STR(u.name, "tok-alice");
    CHECK_STR(u.role, "admin");
    er_user_release(&u);
    CHECK_OK(er_store_api_token_user(st, "bbbb01", &u, NULL, &err));
    CHECK_STR(u.role, "user");
    er_user_release(&u);
    CHECK_INT(er_store_api_token_user(st, "ffff", &u, NULL, &err), ER_ENOTFOUND);

    CHECK_OK(er_store_api_token_revoke(st, t1, &err));
    CHECK_INT(er_store_api_token_user(st, "aaaa01", &u, NULL, &err), ER_ENOTFOUND);
    CHECK_INT(er_store_api_token_revoke(st, t1, &err), ER_ENOTFOUND);

    token_seen ts = { 0 };
    CHECK_OK(er_store_api_token_list(st, alice, token_cb, &ts, &err));
    CHECK_INT(ts.n, 2);
    CHECK_INT(ts.revoked, 1);
    CHECK_STR(ts.label[0], "laptop");
    CHECK_STR(ts.label[1], "");
    memset(&ts, 0, sizeof ts);
    CHECK_OK(er_store_api_token_list(st, NULL, token_cb, &ts, &err));
    CHECK_INT(ts.n, 3);
}

static void test_refresh_tokens(er_store *st)
{
    er_error err;
    char uid[ER_ID_LEN], user[ER_ID_LEN], fam[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "ref-user", NULL, uid, &err));
    int64_t later = er_time_ms() + 60000;
    static const char *const fams[] = { "fam-1", "fam-2", "fam-3", "fam-4" };
    for (size_t i = 0; i < 4; i++)
        CHECK_OK(er_store_session_start(st, fams[i], uid, NULL, later, &err));
    CHECK_OK(er_store_refresh_add(st, uid, "fam-1", "r1", later, &err));
    CHECK_OK(er_store_refresh_use(st, "r1", user, fam, &err));
    CHECK_STR(user, uid);
    CHECK_STR(fam, "fam-1");
    /* Rotation: the next token of the family works once. */
    CHECK_OK(er_store_refresh_add(st, uid, "fam-1", "r2", later, &err));
    CHECK_OK(er_store_refresh_add(st, uid, "fam-1", "r3", later, &err));
    /* Replaying a spent token revokes the family: r2 and r3 die with it. */
    CHECK_INT(er_store_refresh_use(st, "r1", user, fam, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "already used") != NULL);
    CHECK_INT(er_store_refresh_use(st, "r2", user, fam, &err), ER_EAUTH);
    CHECK_INT(er_store_refresh_use(st, "r3", user, fam, &err), ER_EAUTH);

    CHECK_INT(er_store_refresh_use(st, "nope", user, fam, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "unknown") != NULL);
    CHECK_OK(er_store_refresh_add(st, uid, "fam-2", "old", er_time_ms() - 1, &err));
    CHECK_INT(er_store_refresh_use(st, "old", user, fam, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "expired") != NULL);

    /* Logout spends the family; another family is untouched. */
    CHECK_OK(er_store_refresh_add(st, uid, "fam-3", "a1", later, &err));
    CHECK_OK(er_store_refresh_add(st, uid, "fam-4", "b1", later, &err));
    CHECK_OK(er_store_refresh_revoke(st, "fam-3", &err));
    CHECK_INT(er_store_refresh_use(st, "a1", user, fam, &err), ER_EAUTH);
    CHECK_OK(er_store_refresh_use(st, "b1", user, fam, &err));
    CHECK_INT(
        er_store_refresh_add(st, "00000000-0000-7000-8000-000000000000", "f", "x", later, &err),
        ER_ENOTFOUND);
}

typedef struct sessions_seen {
    int n, revoked;
    char first[ER_ID_LEN];
} sessions_seen;

static int session_cb(const er_session *s, void *payload)
{
    sessions_seen *x = payload;
    if (x->n++ == 0)
        memcpy(x->first, s->id, ER_ID_LEN);
    x->revoked += s->revoked_ms != 0;
    return 0;
}

typedef struct changes_seen {
    int n;
    char kinds[16][16];
    char subjects[16][ER_ID_LEN];
    int64_t last;
} changes_seen;

static int change_cb(const er_auth_change *c, void *payload)
{
    changes_seen *x = payload;
    if (x->n < 16) {
        snprintf(x->kinds[x->n], sizeof x->kinds[0], "%s", c->kind);
        snprintf(x->subjects[x->n], sizeof x->subjects[0], "%s", c->subject);
    }
    x->n++;
    x->last = c->seq;
    return 0;
}

static bool saw(const changes_seen *x, const char *kind, const char *subject)
{
    for (int i = 0; i < x->n && i < 16; i++)
        if (strcmp(x->kinds[i], kind) == 0 && strcmp(x->subjects[i], subject) == 0)
            return true;
    return false;
}

/* Issue 22: a session ends at its own end however often it is refreshed;
 * revoking a session, an API token or all of a user's ends the refreshes;
 * and every such change, a new role or a deleted user is in the change log. */
static void test_sessions(er_store *st)
{
    er_error err;
    char uid[ER_ID_LEN], tok[ER_ID_LEN], user[ER_ID_LEN], fam[ER_ID_LEN];
    int64_t since = 0;
    CHECK_OK(er_store_auth_changes_last(st, &since, &err));
    CHECK_OK(er_store_user_ensure(st, "ses-user", "admin", uid, &err));
    CHECK_OK(er_store_api_token_add(st, uid, "cli", "sess01", tok, &err));
    int64_t now = er_time_ms();
    CHECK_OK(er_store_session_start(st, "ses-a", uid, tok, now + 60000, &err));
    CHECK_OK(er_store_session_start(st, "ses-b", uid, NULL, now + 60000, &err));
    CHECK_OK(er_store_session_start(st, "ses-c", uid, NULL, now + 60000, &err));
    CHECK_OK(er_store_session_start(st, "ses-old", uid, NULL, now - 1, &err));
    er_session ses;
    CHECK_OK(er_store_session_get(st, "ses-a", &ses, &err));
    CHECK_STR(ses.api_token_id, tok);
    CHECK(ses.expires_ms == now + 60000 && ses.revoked_ms == 0);
    CHECK_INT(er_store_session_get(st, "ses-none", &ses, &err), ER_ENOTFOUND);
    /* A refresh token that outlives its session's end is refused. */
    CHECK_OK(er_store_refresh_add(st, uid, "ses-old", "old1", now + 60000, &err));
    CHECK_INT(er_store_refresh_use(st, "old1", user, fam, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "expired") != NULL);
    /* Revoking the API token revokes the session it was exchanged for. */
    CHECK_OK(er_store_refresh_add(st, uid, "ses-a", "sa1", now + 60000, &err));
    CHECK_OK(er_store_api_token_revoke(st, tok, &err));
    CHECK_INT(er_store_refresh_use(st, "sa1", user, fam, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "revoked") != NULL);
    CHECK_OK(er_store_session_get(st, "ses-a", &ses, &err));
    CHECK(ses.revoked_ms != 0);
    /* Revoking one session leaves the others. */
    CHECK_OK(er_store_refresh_add(st, uid, "ses-b", "sb1", now + 60000, &err));
    CHECK_OK(er_store_refresh_add(st, uid, "ses-c", "sc1", now + 60000, &err));
    CHECK_OK(er_store_session_revoke(st, "ses-b", &err));
    CHECK_INT(er_store_session_revoke(st, "ses-b", &err), ER_ENOTFOUND);
    CHECK_INT(er_store_refresh_use(st, "sb1", user, fam, &err), ER_EAUTH);
    CHECK_OK(er_store_refresh_use(st, "sc1", user, fam, &err));
    CHECK_OK(er_store_session_touch(st, "ses-c", &err));
    sessions_seen x = { 0 };
    CHECK_OK(er_store_session_list(st, uid, session_cb, &x, &err));
    CHECK_INT(x.n, 4);
    CHECK_INT(x.revoked, 2);
    /* All of a user's: the API tokens left and the sessions. */
    char tok2[ER_ID_LEN];
    CHECK_OK(er_store_api_token_add(st, uid, "ci", "sess02", tok2, &err));
    CHECK_OK(er_store_refresh_add(st, uid, "ses-c", "sc2", now + 60000, &err));
    int count = 0;
    CHECK_OK(er_store_user_revoke_all(st, uid, &count, &err));
    CHECK_INT(count, 3); /* tok2, ses-c, ses-old */
    CHECK_INT(er_store_refresh_use(st, "sc2", user, fam, &err), ER_EAUTH);
    er_user u;
    CHECK_INT(er_store_api_token_user(st, "sess02", &u, NULL, &err), ER_ENOTFOUND);
    /* A role and a user going: in the log too. */
    CHECK_OK(er_store_user_set_role(st, "ses-user", "user", &err));
    CHECK_OK(er_store_user_set_role(st, uid, "user", &err)); /* no change: no row */
    CHECK_INT(er_store_user_set_role(st, "ses-none", "user", &err), ER_ENOTFOUND);
    CHECK_INT(er_store_user_set_role(st, uid, "root", &err), ER_EINVAL);
    changes_seen c = { 0 };
    CHECK_OK(er_store_auth_changes(st, since, 100, change_cb, &c, &err));
    CHECK(saw(&c, "token", tok) && saw(&c, "session", "ses-a") && saw(&c, "session", "ses-b"));
    CHECK(saw(&c, "token", tok2) && saw(&c, "session", "ses-c") && saw(&c, "user", uid));
    if (c.n != 7)
        for (int i = 0; i < c.n && i < 16; i++)
            fprintf(stderr, "change %s %s\n", c.kinds[i], c.subjects[i]);
    CHECK_INT(c.n, 7);
    int64_t before = c.last;
    CHECK_OK(er_store_user_delete(st, "ses-user", &err));
    CHECK_INT(er_store_user_get(st, uid, &u, &err), ER_ENOTFOUND);
    CHECK_INT(er_store_user_delete(st, uid, &err), ER_ENOTFOUND);
    memset(&c, 0, sizeof c);
    CHECK_OK(er_store_auth_changes(st, before, 100, change_cb, &c, &err));
    CHECK(c.n == 1 && saw(&c, "user", uid));
    int64_t last = 0;
    CHECK_OK(er_store_auth_changes_last(st, &last, &err));
    CHECK(last == c.last && last > since);
    CHECK_OK(er_store_auth_changes_prune(st, er_time_ms() + 1000, &err));
    memset(&c, 0, sizeof c);
    CHECK_OK(er_store_auth_changes(st, 0, 100, change_cb, &c, &err));
    CHECK_INT(c.n, 0);
}

static void test_identities(er_store *st)
{
    er_error err;
    char a[ER_ID_LEN], a2[ER_ID_LEN], b[ER_ID_LEN], c[ER_ID_LEN], taken[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "carol", NULL, taken, &err));
    CHECK_OK(er_store_identity_user(st, "https://idp", "sub-1", "dora", "d@x", a, &err));
    CHECK_OK(er_store_identity_user(st, "https://idp", "sub-1", "renamed", NULL, a2, &err));
    CHECK_STR(a2, a);
    /* Same subject at another issuer is another person. */
    CHECK_OK(er_store_identity_user(st, "https://other", "sub-1", "dora", NULL, b, &err));
    CHECK(strcmp(a, b) != 0);
    /* A taken name gets a suffix; a local user is never taken over. */
    CHECK_OK(er_store_identity_user(st, "https://idp", "sub-2", "carol", NULL, c, &err));
    CHECK(strcmp(c, taken) != 0);
    er_user u;
    CHECK_OK(er_store_user_get(st, a, &u, &err));
    CHECK_STR(u.name, "dora");
    CHECK_STR(u.role, "user");
    er_user_release(&u);
    CHECK_OK(er_store_user_get(st, b, &u, &err));
    CHECK_STR(u.name, "dora-2");
    er_user_release(&u);
    CHECK_OK(er_store_user_get(st, c, &u, &err));
    CHECK_STR(u.name, "carol-2");
    er_user_release(&u);
    CHECK_INT(er_store_identity_user(st, "", "s", "n", NULL, c, &err), ER_EINVAL);
}

static void test_task_counts(er_store *st)
{
    er_error err;
    char uid[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "counter", NULL, uid, &err));
    int64_t before[ER_TASK_CANCELLED + 1], after[ER_TASK_CANCELLED + 1];
    CHECK_OK(er_store_task_counts(st, before, &err));
    er_task t1, t2, t3;
    make_task(st, &t1, uid, NULL, NULL, "one");
    make_task(st, &t2, uid, NULL, NULL, "two");
    make_task(st, &t3, uid, t1.id, NULL, "child");
    CHECK_OK(er_store_task_advance(st, t2.id, ER_TASK_DONE, NULL, &err));
    CHECK_OK(er_store_task_counts(st, after, &err));
    CHECK_INT(after[ER_TASK_QUEUED] - before[ER_TASK_QUEUED], 2);
    CHECK_INT(after[ER_TASK_DONE] - before[ER_TASK_DONE], 1);
    CHECK_INT(after[ER_TASK_FAILED] - before[ER_TASK_FAILED], 0);
}

/* The cancellation poller's batched lookup: only the ended ones (cancelled,
 * done, failed), among any number up to the cap, unknown ids included; too
 * many is an error. */
static void test_tasks_ended(er_store *st)
{
    er_error err;
    char uid[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "poller", NULL, uid, &err));
    enum { N = 5 };
    char ids[N][ER_ID_LEN];
    for (int i = 0; i < N - 1; i++) {
        er_task t;
        make_task(st, &t, uid, NULL, NULL, "watched");
        memcpy(ids[i], t.id, ER_ID_LEN);
    }
    er_strlcpy(ids[N - 1], "no-such-task", ER_ID_LEN);
    CHECK_OK(er_store_task_advance(st, ids[1], ER_TASK_CANCELLED, NULL, &err));
    CHECK_OK(er_store_task_advance(st, ids[2], ER_TASK_DONE, NULL, &err));
    CHECK_OK(er_store_task_advance(st, ids[3], ER_TASK_CANCELLED, NULL, &err));
    bool out[N];
    memset(out, 1, sizeof out);
    CHECK_OK(er_store_tasks_ended(st, (const char(*)[ER_ID_LEN])ids, N, out, &err));
    CHECK(!out[0] && out[1] && out[2] && out[3] && !out[4]);
    CHECK_OK(er_store_tasks_ended(st, (const char(*)[ER_ID_LEN])(ids + 1), 1, out, &err));
    CHECK(out[0]);
    CHECK_OK(er_store_tasks_ended(st, (const char(*)[ER_ID_LEN])ids, 0, out, &err));
    char many[ER_STORE_IDS_MAX + 1][ER_ID_LEN];
    for (int i = 0; i <= ER_STORE_IDS_MAX; i++)
        memcpy(many[i], ids[i % N], ER_ID_LEN);
    bool outs[ER_STORE_IDS_MAX + 1];
    CHECK_OK(
        er_store_tasks_ended(st, (const char(*)[ER_ID_LEN])many, ER_STORE_IDS_MAX, outs, &err));
    int last = (ER_STORE_IDS_MAX - 1) % N;
    CHECK(outs[ER_STORE_IDS_MAX - 1] == (last >= 1 && last <= 3));
    CHECK_INT(
        er_store_tasks_ended(st, (const char(*)[ER_ID_LEN])many, ER_STORE_IDS_MAX + 1, outs, &err),
        ER_EINVAL);
}

/* ---- credentials (store_credential.h): opaque sealed bytes ---- */

typedef struct cred_seen {
    int n;
    char names[4][32];
    size_t lens[4];
} cred_seen;

static int cred_cb(const er_credential *c, void *payload)
{
    cred_seen *s = payload;
    if (s->n < 4) {
        snprintf(s->names[s->n], sizeof s->names[0], "%s", c->name);
        s->lens[s->n] = c->sealed_len;
    }
    s->n++;
    return 0;
}

typedef struct replacer {
    char url[1024];
    int64_t expect;
    int rc;
} replacer;

static void *replace_thread(void *arg)
{
    replacer *r = arg;
    er_store *st = NULL;
    er_error err;
    r->rc = er_store_open(&st, r->url, &err);
    if (!r->rc)
        r->rc = er_store_credential_replace(st, "race", r->expect, "\x01zz", 3, &err);
    er_store_close(st);
    return NULL;
}

static void test_credentials(void)
{
    char url[1024];
    fresh_url(url, sizeof url);
    er_store *st = NULL;
    er_error err;
    CHECK_OK(er_store_open(&st, url, &err));
    CHECK_OK(er_store_migrate(st, NULL, &err));
    /* Bytes with NULs and high bits survive both backends (BLOB / bytea). */
    const unsigned char sealed[] = { 1, 0, 0xff, 0x80, 'x', 0, 7 };
    int64_t gen = 0;
    CHECK_OK(er_store_credential_put(st, "gmail", "gmail", "me@example.com", sealed, sizeof sealed,
                                     &gen, &err));
    CHECK_INT(gen, 1);
    er_credential c;
    CHECK_OK(er_store_credential_get(st, "gmail", &c, &err));
    CHECK_STR(c.kind, "gmail");
    CHECK_STR(c.account, "me@example.com");
    CHECK_INT((int)c.sealed_len, (int)sizeof sealed);
    CHECK(c.sealed && memcmp(c.sealed, sealed, sizeof sealed) == 0);
    CHECK_INT(c.generation, 1);
    CHECK(c.created_ms > 0 && c.updated_ms >= c.created_ms);
    er_credential_release(&c);

    /* A new login overwrites and moves the generation on. */
    CHECK_OK(
        er_store_credential_put(st, "gmail", "gmail", "other@example.com", "\x01y", 2, &gen, &err));
    CHECK_INT(gen, 2);
    /* Replace: only the generation read wins. */
    CHECK_OK(er_store_credential_replace(st, "gmail", 2, "\x01new", 4, &err));
    CHECK_INT(er_store_credential_replace(st, "gmail", 2, "\x01old", 4, &err), ER_ECONFLICT);
    CHECK(strstr(err.msg, "rewritten") != NULL);
    CHECK_OK(er_store_credential_get(st, "gmail", &c, &err));
    CHECK_INT(c.generation, 3);
    CHECK_STR(c.account, "other@example.com");
    CHECK(c.sealed_len == 4 && memcmp(c.sealed, "\x01new", 4) == 0);
    er_credential_release(&c);
    CHECK_INT(er_store_credential_replace(st, "nobody", 1, "\x01", 1, &err), ER_ENOTFOUND);
    CHECK_INT(er_store_credential_get(st, "nobody", &c, &err), ER_ENOTFOUND);
    CHECK_INT(er_store_credential_put(st, "", "gmail", NULL, "x", 1, NULL, &err), ER_EINVAL);
    CHECK_INT(er_store_credential_put(st, "big", "gmail", NULL, "x", ER_CREDENTIAL_MAX_SEALED + 1,
                                      NULL, &err),
              ER_ETOOBIG);

    /* Four writers replace the same generation at once: exactly one wins. */
    CHECK_OK(er_store_credential_put(st, "race", "gmail", NULL, "\x01r", 2, &gen, &err));
    replacer r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        snprintf(r[i].url, sizeof r[i].url, "%s", url);
        r[i].expect = gen;
        r[i].rc = 99;
        pthread_create(&th[i], NULL, replace_thread, &r[i]);
    }
    int won = 0, lost = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        won += r[i].rc == 0;
        lost += r[i].rc == ER_ECONFLICT;
    }
    CHECK_INT(won, 1);
    CHECK_INT(lost, 3);

    cred_seen seen = { 0 };
    CHECK_OK(er_store_credential_list(st, cred_cb, &seen, &err));
    CHECK_INT(seen.n, 2);
    CHECK_STR(seen.names[0], "gmail");
    CHECK_STR(seen.names[1], "race");
    CHECK_INT((int)seen.lens[1], 3);
    CHECK_OK(er_store_credential_delete(st, "race", &err));
    CHECK_INT(er_store_credential_delete(st, "race", &err), ER_ENOTFOUND);
    er_store_close(st);
}

static void test_auth(void)
{
    er_store *st = open_fresh(true);
    test_api_tokens(st);
    test_refresh_tokens(st);
    test_sessions(st);
    test_identities(st);
    test_task_counts(st);
    test_tasks_ended(st);
    er_store_close(st);
}

/* The browser agent's dated snapshots: newest first, before a time, by
 * source; bad input refused. */
static void test_history(er_store *st)
{
    er_error err = { 0 };
    er_snapshot a = {
        .source = "hn", .url = "http://x.test/", .taken_ms = 1000, .rows = "[{\"title\":\"a\"}]"
    };
    er_snapshot b = { .source = "hn",
                      .url = "http://x.test/",
                      .task_id = NULL,
                      .taken_ms = 5000,
                      .rows = "[{\"title\":\"a\"},{\"title\":\"b\"}]" };
    er_snapshot c = { .source = "prices", .url = "http://y.test/", .taken_ms = 3000, .rows = "[]" };
    CHECK_OK(er_store_snapshot_add(st, &a, &err));
    CHECK_OK(er_store_snapshot_add(st, &b, &err));
    CHECK_OK(er_store_snapshot_add(st, &c, &err));
    CHECK(er_id_valid(a.id) && strcmp(a.id, b.id) != 0);
    CHECK(b.count == 2);
    er_snapshot *v = NULL;
    size_t n = 0;
    CHECK_OK(er_store_snapshots(st, "hn", 0, 10, &v, &n, &err));
    CHECK(n == 2);
    if (n == 2) {
        CHECK(v[0].taken_ms == 5000 && v[1].taken_ms == 1000);
        CHECK_STR(v[0].rows, "[{\"title\":\"a\"},{\"title\":\"b\"}]");
        CHECK_STR(v[0].url, "http://x.test/");
        CHECK(v[0].task_id == NULL && v[0].count == 2);
    }
    er_snapshots_free(v, n);
    CHECK_OK(er_store_snapshots(st, "hn", 4999, 10, &v, &n, &err));
    CHECK(n == 1 && v[0].taken_ms == 1000);
    er_snapshots_free(v, n);
    CHECK_OK(er_store_snapshots(st, "nothing", 0, 10, &v, &n, &err));
    CHECK(n == 0 && v == NULL);
    er_snapshot_source *src = NULL;
    CHECK_OK(er_store_snapshot_sources(st, &src, &n, &err));
    CHECK(n == 2);
    if (n == 2) {
        CHECK_STR(src[0].source, "hn");
        CHECK(src[0].count == 2 && src[0].latest_ms == 5000);
        CHECK_STR(src[1].source, "prices");
    }
    er_snapshot_sources_free(src, n);
    er_snapshot bad = { .source = "hn", .url = "http://x.test/", .rows = "{\"not\":\"a list\"}" };
    CHECK(er_store_snapshot_add(st, &bad, &err) == ER_EINVAL);
    bad.rows = "[]";
    bad.source = "";
    CHECK(er_store_snapshot_add(st, &bad, &err) == ER_EINVAL);
}

/* The mail seam's metadata cache (store_mail.h). */
static er_mail_meta *meta_row(er_mail_delta *d, const char *id, int64_t key, const char *from,
                              const char *subject, const char *date, bool unread)
{
    er_mail_meta *m = er_mail_delta_add(d);
    m->s.id = er_xstrdup(id);
    m->s.from = er_xstrdup(from);
    m->s.to = er_xstrdup("me@example.test");
    m->s.subject = er_xstrdup(subject);
    m->s.date = er_xstrdup(date);
    m->s.message_id = er_xasprintf("<%s@example.test>", id);
    m->s.unread = unread;
    m->s.size = 100 + (size_t)key;
    m->sort_key = key;
    return m;
}

static size_t mail_query(er_store *st, const er_mail_query *q, const char *label,
                         er_mail_summary **v)
{
    size_t n = 0;
    er_error err;
    static const char *const bins[] = { "TRASH", NULL };
    CHECK_OK(er_store_mail_query(st, "acct", "INBOX", q, label, bins, v, &n, &err));
    return n;
}

static void test_mail_cache(er_store *st)
{
    er_error err;
    er_mail_sync s;
    bool found = true;
    CHECK_OK(er_store_mail_sync_get(st, "acct", "INBOX", &s, &found, &err));
    CHECK(!found && s.validity == 0 && s.modseq == 0);

    er_mail_delta d = { .reset = true };
    meta_row(&d, "INBOX:1", 1, "Alice <alice@example.test>", "50% off_now",
             "Mon, 02 Nov 2026 09:00:00 +0000", true)
        ->labels = er_xstrdup(" INBOX ");
    meta_row(&d, "INBOX:2", 2, "Bob <bob@example.test>", "Lunch", "Tue, 3 Nov 2026 12:00:00 +0100",
             false)
        ->labels = er_xstrdup(" INBOX ");
    meta_row(&d, "INBOX:3", 3, "alice@example.test", "Budget", "not a date", true)->labels =
        er_xstrdup(" INBOX TRASH ");
    er_mail_sync want = { .validity = 77, .next = 4, .modseq = 9, .count = 3, .complete = true };
    CHECK_OK(er_store_mail_apply(st, "acct", "INBOX", &want, &d, &err));
    er_mail_delta_release(&d);
    CHECK_OK(er_store_mail_sync_get(st, "acct", "INBOX", &s, &found, &err));
    CHECK(found && s.validity == 77 && s.next == 4 && s.modseq == 9 && s.count == 3 && s.complete);

    er_mail_summary *v = NULL;
    size_t n;
    er_mail_query all = { .limit = 10 };
    n = mail_query(st, &all, "INBOX", &v);
    CHECK_INT((int)n, 2); /* the binned one left out */
    if (n == 2) {
        CHECK_STR(v[0].id, "INBOX:2");
        CHECK(!v[0].unread && v[1].unread && v[1].size == 101);
        CHECK_STR(v[1].message_id, "<INBOX:1@example.test>");
    }
    er_mail_summaries_free(v, n);
    er_mail_query from = { .from = "ALICE", .limit = 10 };
    n = mail_query(st, &from, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    er_mail_query pct = { .subject = "0% off_", .limit = 10 },
                  lit = { .subject = "0x off", .limit = 10 };
    n = mail_query(st, &pct, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    n = mail_query(st, &lit, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 0); /* % and _ are text, not patterns */
    er_mail_query day = { .since = "2026-11-03", .limit = 10 },
                  before = { .before = "2026-11-03", .limit = 10 };
    n = mail_query(st, &day, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    n = mail_query(st, &before, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    er_mail_query mid = { .message_id = "INBOX:2@example.test", .limit = 10 },
                  unread = { .unread = true, .limit = 10 };
    n = mail_query(st, &mid, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    n = mail_query(st, &unread, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    er_mail_query one = { .limit = 1 };
    n = mail_query(st, &one, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);

    /* flags only; a removal; survivors below 3 are only INBOX:2 */
    er_mail_delta u = { 0 };
    er_mail_meta *f = er_mail_delta_add(&u);
    f->s.id = er_xstrdup("INBOX:2");
    f->s.unread = true;
    f->flags_only = true;
    f->labels = er_xstrdup(" INBOX ");
    u.prune = true;
    u.prune_below = 3;
    er_strv_push(&u.keep, "INBOX:2");
    want.next = 5;
    CHECK_OK(er_store_mail_apply(st, "acct", "INBOX", &want, &u, &err));
    er_mail_delta_release(&u);
    n = mail_query(st, &unread, NULL, &v);
    CHECK(n == 1 && strcmp(v[0].id, "INBOX:2") == 0);
    er_mail_summaries_free(v, n);
    /* INBOX:1 pruned, INBOX:3 (binned, so asked for without exclusions) above the line */
    CHECK_OK(er_store_mail_query(st, "acct", "INBOX", &all, NULL, NULL, &v, &n, &err));
    CHECK(n == 2 && strcmp(v[0].id, "INBOX:3") == 0 && strcmp(v[1].id, "INBOX:2") == 0);
    er_mail_summaries_free(v, n);

    /* a reset empties the scope, and other accounts never see it */
    er_mail_delta r = { .reset = true };
    er_strv_push(&r.removed, "INBOX:9");
    CHECK_OK(er_store_mail_apply(st, "acct", "INBOX", &want, &r, &err));
    er_mail_delta_release(&r);
    n = mail_query(st, &all, NULL, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 0);
    CHECK_INT(er_mail_date_day("Tue, 3 Nov 2026 12:00:00 +0100"), 20261103);
    CHECK_INT(er_mail_date_day("3 Nov 2026"), 20261103);
    CHECK_INT(er_mail_date_day("soon"), 0);
}

int main(void)
{
    pg_base = getenv("ERRAND_TEST_DATABASE_URL");
    if (pg_base && !*pg_base)
        pg_base = NULL;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/errand-test-store-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    er_error err;
    if (pg_base) {
#ifndef ERRAND_WITH_POSTGRES
        fprintf(stderr, "PostgreSQL support is not compiled in; skipping\n");
        cleanup();
        return 77;
#endif
        CHECK_OK(er_store_open(&admin, pg_base, &err));
        if (!admin) {
            cleanup();
            return check_done();
        }
    }
    test_open_errors();
    test_sqlite_forms();
    test_sqlite_private();
    test_status_names();
    test_migrate();
    test_migrate_concurrent();

    er_store *st = open_fresh(true);
    test_seam(st);
    test_read();
    test_users(st);
    test_conversations(st);
    test_tasks(st);
    test_events(st);
    test_leases(st);
    test_waits(st);
    test_usage(st);
    test_usage_conversation(st);
    test_agent_configs(st);
    test_history(st);
    test_mail_cache(st);
    test_concurrency(st);
    test_read_beside_writer(st);
    test_auth();
    test_credentials();
#ifdef ERRAND_WITH_POSTGRES
    if (pg_base)
        test_pg_connection();
#endif
    er_store_close(st);
    cleanup();
    return check_done();
}
