/* compactions.c — summaries standing in for a conversation's older messages
 * (store_compact.h). */
#include "store_int.h"
#include "errand/store_compact.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define COMPACTION_COLS                                                                       \
    "id, conversation_id, through_msg_id, summary, task_id, model, messages, tokens_before, " \
    "created_ms"

static void compaction_from_row(void *out, const er_sql_value *v, bool copy)
{
    er_compaction *c = out;
    c->id = er_sql_col_int(&v[0]);
    er_sql_col_id(c->conversation_id, &v[1]);
    c->through_msg_id = er_sql_col_int(&v[2]);
    c->summary = er_sql_col_str(&v[3], copy);
    er_sql_col_id(c->task_id, &v[4]);
    c->model = er_sql_col_str(&v[5], copy);
    c->messages = er_sql_col_int(&v[6]);
    c->tokens_before = er_sql_col_int(&v[7]);
    c->created_ms = er_sql_col_int(&v[8]);
}

void er_compaction_release(er_compaction *c)
{
    if (!c)
        return;
    free(c->summary);
    free(c->model);
    memset(c, 0, sizeof *c);
}

int er_store_compaction_add(er_store *st, er_compaction *c, er_error *err)
{
    if (er_str_empty(c->conversation_id))
        return er_error_set(err, ER_EINVAL, "a compaction needs a conversation id");
    if (!c->summary)
        return er_error_set(err, ER_EINVAL, "a compaction needs a summary");
    c->created_ms = er_time_ms();
    /* The SELECT makes an unknown conversation insert nothing. */
    er_sql_value params[] = { ER_SQL_I(c->through_msg_id), ER_SQL_S(c->summary),
                              er_sql_opt(c->task_id),      ER_SQL_S(c->model ? c->model : ""),
                              ER_SQL_I(c->messages),       ER_SQL_I(c->tokens_before),
                              ER_SQL_I(c->created_ms),     er_sql_str(c->conversation_id) };
    int64_t added = 0;
    int rc = er_sql_exec(st,
                         "INSERT INTO conversation_compactions (conversation_id, through_msg_id, "
                         "summary, task_id, model, messages, tokens_before, created_ms) "
                         "SELECT id, ?, ?, ?, ?, ?, ?, ? FROM conversations WHERE id = ?",
                         params, 8, &added, err);
    if (!rc && added == 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no conversation '%s'", c->conversation_id);
    return rc;
}

int er_store_compaction_latest(er_store *st, const char *conv_id, er_compaction *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    bool found = false;
    er_sql_value param = ER_SQL_S(conv_id);
    int rc = er_sql_get(st,
                        "SELECT " COMPACTION_COLS " FROM conversation_compactions "
                        "WHERE conversation_id = ? ORDER BY through_msg_id DESC, id DESC LIMIT 1",
                        &param, 1, 9, compaction_from_row, out, &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "conversation '%s' has no compaction",
                          conv_id ? conv_id : "");
    return rc;
}
