/* users.c — the users table: who owns conversations and tasks, and their role. */
#include "store_int.h"
#include "errand/id.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define USER_COLS "id, name, role, created_ms"

static void user_from_row(void *out, const er_sql_value *c, bool copy)
{
    er_user *u = out;
    er_sql_col_id(u->id, &c[0]);
    u->name = er_sql_col_str(&c[1], copy);
    u->role = er_sql_col_str(&c[2], copy);
    u->created_ms = er_sql_col_int(&c[3]);
}

void er_user_release(er_user *u)
{
    if (!u)
        return;
    free(u->name);
    free(u->role);
    memset(u, 0, sizeof *u);
}

static bool valid_role(const char *role)
{
    return strcmp(role, "admin") == 0 || strcmp(role, "user") == 0;
}

static int id_row(const er_sql_value *cols, int ncols, void *payload)
{
    if (ncols > 0)
        er_sql_col_id(payload, &cols[0]);
    return 1;
}

/* A given role replaces the stored one; NULL keeps it ("user" for a new user). */
int er_store_user_ensure(er_store *st, const char *name, const char *role, char id_out[ER_ID_LEN],
                         er_error *err)
{
    if (er_str_empty(name))
        return er_error_set(err, ER_EINVAL, "user name is empty");
    if (role && !valid_role(role))
        return er_error_set(err, ER_EINVAL, "unknown user role '%s' (use admin or user)", role);
    char id[ER_ID_LEN];
    er_id_new(id);
    er_sql_value params[] = { er_sql_str(id), ER_SQL_S(name), ER_SQL_S(role ? role : "user"),
                              ER_SQL_I(er_time_ms()), ER_SQL_S(role) };
    id_out[0] = '\0';
    int rc = er_sql_query(st,
                          "INSERT INTO users (id, name, role, created_ms) VALUES (?, ?, ?, ?) "
                          "ON CONFLICT (name) DO UPDATE SET role = COALESCE(?, users.role) "
                          "RETURNING id",
                          params, 5, id_row, id_out, err);
    if (rc == 0 && !id_out[0])
        rc = er_error_set(err, ER_EINTERNAL, "storing user '%s' returned no id", name);
    return rc;
}

static int user_get_by(er_store *st, const char *sql, const char *key, er_user *out, bool *found,
                       er_error *err)
{
    er_sql_value param = ER_SQL_S(key);
    return er_sql_get(st, sql, &param, 1, 4, user_from_row, out, found, err);
}

int er_store_user_get(er_store *st, const char *id_or_name, er_user *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    if (er_str_empty(id_or_name))
        return er_error_set(err, ER_EINVAL, "user id or name is empty");
    bool found = false;
    int rc = 0;
    if (er_id_valid(id_or_name))
        rc = user_get_by(st, "SELECT " USER_COLS " FROM users WHERE id = ?", id_or_name, out,
                         &found, err);
    if (rc == 0 && !found)
        rc = user_get_by(st, "SELECT " USER_COLS " FROM users WHERE name = ?", id_or_name, out,
                         &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "no user '%s'", id_or_name);
    return rc;
}

typedef struct user_list_ctx {
    er_user_fn fn;
    void *payload;
} user_list_ctx;

static int user_list_row(const er_sql_value *cols, int ncols, void *payload)
{
    user_list_ctx *c = payload;
    if (ncols < 4)
        return 1;
    er_user u;
    user_from_row(&u, cols, false);
    return c->fn(&u, c->payload);
}

int er_store_user_list(er_store *st, er_user_fn fn, void *payload, er_error *err)
{
    user_list_ctx c = { fn, payload };
    return er_sql_query(st, "SELECT " USER_COLS " FROM users ORDER BY created_ms, name", NULL, 0,
                        user_list_row, &c, err);
}

/* By id or name, as er_store_user_get: the WHERE of both statements below. */
#define BY_ID_OR_NAME "WHERE id = ? OR (name = ? AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?))"

int er_store_user_set_role(er_store *st, const char *id_or_name, const char *role, er_error *err)
{
    if (er_str_empty(id_or_name))
        return er_error_set(err, ER_EINVAL, "user id or name is empty");
    if (!role || !valid_role(role))
        return er_error_set(err, ER_EINVAL, "unknown user role '%s' (use admin or user)",
                            role ? role : "");
    er_sql_value p[] = { ER_SQL_S(role), ER_SQL_S(id_or_name), ER_SQL_S(id_or_name),
                         ER_SQL_S(id_or_name) };
    int64_t changed = 0;
    int rc = er_sql_exec(st, "UPDATE users SET role = ? " BY_ID_OR_NAME, p, 4, &changed, err);
    if (rc == 0 && changed == 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no user '%s'", id_or_name);
    return rc;
}

int er_store_user_delete(er_store *st, const char *id_or_name, er_error *err)
{
    if (er_str_empty(id_or_name))
        return er_error_set(err, ER_EINVAL, "user id or name is empty");
    er_sql_value p[] = { ER_SQL_S(id_or_name), ER_SQL_S(id_or_name), ER_SQL_S(id_or_name) };
    int64_t changed = 0;
    int rc = er_sql_exec(st, "DELETE FROM users " BY_ID_OR_NAME, p, 3, &changed, err);
    if (rc == 0 && changed == 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no user '%s'", id_or_name);
    return rc;
}
