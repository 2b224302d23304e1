/* ids.c — task and conversation ids given on the command line: a full id, or
 * a unique prefix of at least 4 characters (`errand task show 0190ab12`). */
#include "cli.h"
#include "errand/id.h"
#include "errand/str.h"

#include <stdio.h>
#include <string.h>

typedef struct id_match {
    const char *prefix;
    char *out;
    bool ambiguous;
} id_match;

static void match_id(id_match *m, const char *id)
{
    if (!er_str_starts(id, m->prefix))
        return;
    if (m->out[0])
        m->ambiguous = true;
    er_strlcpy(m->out, id, ER_ID_LEN);
}

static int match_task(const er_task *t, void *payload)
{
    match_id(payload, t->id);
    return 0;
}

static int match_conv(const er_conversation *cv, void *payload)
{
    match_id(payload, cv->id);
    return 0;
}

static int list_tasks(er_store *st, id_match *m, er_error *err)
{
    er_task_filter f = { .status = -1, .limit = 100000 };
    return er_store_task_list(st, &f, match_task, m, err);
}

static int list_convs(er_store *st, id_match *m, er_error *err)
{
    return er_store_conv_list(st, NULL, 100000, match_conv, m, err);
}

/* A full id from a unique prefix; `what` and `cmd` name it in messages. */
static int resolve(cli *c, const char *what, const char *cmd, const char *prefix,
                   int (*list)(er_store *, id_match *, er_error *), char out[ER_ID_LEN],
                   er_error *err)
{
    er_store *st;
    int rc = er_env_store(c->env, &st, err);
    if (rc)
        return rc;
    if (er_id_valid(prefix)) {
        er_strlcpy(out, prefix, ER_ID_LEN);
        return 0;
    }
    if (strlen(prefix) < 4)
        return er_error_set(err, ER_EINVAL, "%s id '%s' is too short (4 characters at least)", what,
                            prefix);
    out[0] = '\0';
    id_match m = { prefix, out, false };
    rc = list(st, &m, err);
    if (rc)
        return rc;
    if (m.ambiguous)
        return er_error_set(err, ER_EINVAL, "%s id '%s' is ambiguous; give more characters", what,
                            prefix);
    if (!out[0])
        return er_error_set(err, ER_ENOTFOUND, "no %s '%s' (see `errand %s list`)", what, prefix,
                            cmd);
    return 0;
}

int cli_resolve_task(cli *c, const char *prefix, char out[ER_ID_LEN], er_error *err)
{
    return resolve(c, "task", "task", prefix, list_tasks, out, err);
}

int cli_resolve_conv(cli *c, const char *prefix, char out[ER_ID_LEN], er_error *err)
{
    return resolve(c, "conversation", "conv", prefix, list_convs, out, err);
}

static int take_latest(const er_conversation *cv, void *payload)
{
    char *out = payload;
    if (!out[0])
        er_strlcpy(out, cv->id, ER_ID_LEN);
    return 0;
}

int cli_resume_conv(cli *c, char out[ER_ID_LEN], er_error *err)
{
    out[0] = '\0';
    const char *which = cli_value(&c->global, "resume");
    if (!which && !cli_flag(&c->global, "continue"))
        return 0;
    if (which && !er_str_eq(which, "last"))
        return cli_resolve_conv(c, which, out, err);
    er_store *st;
    char user[ER_ID_LEN];
    int rc = er_env_store(c->env, &st, err);
    if (!rc)
        rc = er_env_user_id(c->env, user, err);
    if (!rc)
        rc = er_store_conv_list(st, user, 1, take_latest, out, err);
    if (!rc && !out[0])
        rc = er_error_set(err, ER_ENOTFOUND,
                          "no conversation to continue yet; start one "
                          "without %s",
                          which ? "--resume" : "--continue");
    return rc;
}

void cli_say_resume(const char *conv_id)
{
    if (!conv_id || !conv_id[0])
        return;
    fprintf(stderr, "Conversation %s — errand -r %.8s continues it (errand -c: the last one)\n",
            conv_id, conv_id);
}
