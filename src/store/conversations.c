/* conversations.c — conversations and their messages (the chat history).
 *
 * A conversation's updated_ms moves with every message (a trigger, migration
 * 002) so that lists show the most recently active conversation first. */
#include "store_int.h"
#include "errand/id.h"
#include "errand/store_compact.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define CONV_COLS "id, user_id, title, created_ms, updated_ms"
#define MSG_COLS  "id, conversation_id, task_id, role, content, created_ms"
/* "No limit", in a form both engines take as a LIMIT parameter. */
#define NO_LIMIT INT64_MAX

static void conv_from_row(void *out, const er_sql_value *v, bool copy)
{
    er_conversation *c = out;
    er_sql_col_id(c->id, &v[0]);
    er_sql_col_id(c->user_id, &v[1]);
    c->title = er_sql_col_str(&v[2], copy);
    c->created_ms = er_sql_col_int(&v[3]);
    c->updated_ms = er_sql_col_int(&v[4]);
}

void er_conversation_release(er_conversation *c)
{
    if (!c)
        return;
    free(c->title);
    memset(c, 0, sizeof *c);
}

int er_store_conv_create(er_store *st, const char *user_id, const char *title,
                         char id_out[ER_ID_LEN], er_error *err)
{
    if (er_str_empty(user_id))
        return er_error_set(err, ER_EINVAL, "a conversation needs a user id");
    char id[ER_ID_LEN];
    er_id_new(id);
    int64_t now = er_time_ms();
    er_sql_value params[] = { er_sql_str(id), ER_SQL_S(user_id), ER_SQL_S(title ? title : ""),
                              ER_SQL_I(now), ER_SQL_I(now) };
    int rc = er_sql_exec(st,
                         "INSERT INTO conversations (id, user_id, title, created_ms, updated_ms) "
                         "VALUES (?, ?, ?, ?, ?)",
                         params, 5, NULL, err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, rc, "no user '%s' to own a new conversation", user_id);
    if (rc == 0)
        memcpy(id_out, id, ER_ID_LEN);
    return rc;
}

int er_store_conv_get(er_store *st, const char *id, er_conversation *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    bool found = false;
    er_sql_value param = ER_SQL_S(id);
    int rc = er_sql_get(st, "SELECT " CONV_COLS " FROM conversations WHERE id = ?", &param, 1, 5,
                        conv_from_row, out, &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "no conversation '%s'", id ? id : "");
    return rc;
}

typedef struct conv_list_ctx {
    er_conv_fn fn;
    void *payload;
} conv_list_ctx;

static int conv_list_row(const er_sql_value *cols, int ncols, void *payload)
{
    conv_list_ctx *c = payload;
    if (ncols < 5)
        return 1;
    er_conversation conv;
    conv_from_row(&conv, cols, false);
    return c->fn(&conv, c->payload);
}

/* Most recently active first; user_id NULL lists everyone's; limit <= 0: all. */
int er_store_conv_list(er_store *st, const char *user_id, int limit, er_conv_fn fn, void *payload,
                       er_error *err)
{
    conv_list_ctx c = { fn, payload };
    er_sql_value params[] = { ER_SQL_S(user_id), ER_SQL_I(limit > 0 ? limit : NO_LIMIT) };
    if (user_id)
        return er_sql_query(st,
                            "SELECT " CONV_COLS " FROM conversations WHERE user_id = ? "
                            "ORDER BY updated_ms DESC, id DESC LIMIT ?",
                            params, 2, conv_list_row, &c, err);
    return er_sql_query(st,
                        "SELECT " CONV_COLS " FROM conversations "
                        "ORDER BY updated_ms DESC, id DESC LIMIT ?",
                        params + 1, 1, conv_list_row, &c, err);
}

int er_store_msg_append(er_store *st, const char *conv_id, const char *role, const char *content,
                        const char *task_id, er_error *err)
{
    if (er_str_empty(conv_id))
        return er_error_set(err, ER_EINVAL, "a message needs a conversation id");
    if (er_str_empty(role))
        return er_error_set(err, ER_EINVAL, "a message needs a role (user, assistant)");
    /* One statement: the SELECT makes an unknown conversation insert nothing, and
     * a trigger (migration 003) moves the conversation's updated_ms. */
    er_sql_value params[] = { er_sql_opt(task_id), ER_SQL_S(role), ER_SQL_S(content ? content : ""),
                              ER_SQL_I(er_time_ms()), ER_SQL_S(conv_id) };
    int64_t added = 0;
    int rc =
        er_sql_exec(st,
                    "INSERT INTO messages (conversation_id, task_id, role, content, created_ms) "
                    "SELECT id, ?, ?, ?, ? FROM conversations WHERE id = ?",
                    params, 5, &added, err);
    if (!rc && added == 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no conversation '%s'", conv_id);
    return rc;
}

typedef struct msg_list_ctx {
    er_msg_fn fn;
    void *payload;
} msg_list_ctx;

static int msg_list_row(const er_sql_value *cols, int ncols, void *payload)
{
    msg_list_ctx *c = payload;
    if (ncols < 6)
        return 1;
    er_message m;
    m.id = er_sql_col_int(&cols[0]);
    er_sql_col_id(m.conversation_id, &cols[1]);
    er_sql_col_id(m.task_id, &cols[2]);
    m.role = er_sql_col_borrow(&cols[3]);
    m.content = er_sql_col_borrow(&cols[4]);
    m.created_ms = er_sql_col_int(&cols[5]);
    return c->fn(&m, c->payload);
}

/* The newest `limit` are picked in the inner query and put back in order outside. */
int er_store_msg_list(er_store *st, const char *conv_id, int limit, er_msg_fn fn, void *payload,
                      er_error *err)
{
    msg_list_ctx c = { fn, payload };
    er_sql_value params[] = { ER_SQL_S(conv_id), ER_SQL_I(limit) };
    if (limit <= 0)
        return er_sql_query(st,
                            "SELECT " MSG_COLS " FROM messages WHERE conversation_id = ? "
                            "ORDER BY id",
                            params, 1, msg_list_row, &c, err);
    return er_sql_query(st,
                        "SELECT " MSG_COLS " FROM (SELECT " MSG_COLS " FROM messages "
                        "WHERE conversation_id = ? ORDER BY id DESC LIMIT ?) newest ORDER BY id",
                        params, 2, msg_list_row, &c, err);
}

int er_store_conv_delete(er_store *st, const char *id, er_error *err)
{
    if (er_str_empty(id))
        return er_error_set(err, ER_EINVAL, "conversation id is empty");
    er_sql_value p[] = { ER_SQL_S(id) };
    int64_t changed = 0;
    int rc = er_sql_exec(st, "DELETE FROM conversations WHERE id = ?", p, 1, &changed, err);
    if (rc == 0 && changed == 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no conversation '%s'", id);
    return rc;
}

int er_store_msg_list_after(er_store *st, const char *conv_id, int64_t after_id, er_msg_fn fn,
                            void *payload, er_error *err)
{
    msg_list_ctx c = { fn, payload };
    er_sql_value params[] = { ER_SQL_S(conv_id), ER_SQL_I(after_id) };
    return er_sql_query(st,
                        "SELECT " MSG_COLS " FROM messages WHERE conversation_id = ? AND id > ? "
                        "ORDER BY id",
                        params, 2, msg_list_row, &c, err);
}
