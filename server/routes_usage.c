/* routes_usage.c — GET /api/v1/usage: what a user's LLM requests used and
 * cost, summed per day, model, agent or conversation (store_usage.h), the
 * same report as `errand usage --json`.  A user sees their own requests
 * only; an admin sees everyone's, may name a user (user_id, as the other
 * routes) or sum per user. */
#include "server.h"
#include "errand/store_usage.h"

#include <string.h>

/* ?from= or ?to=: a UTC day, YYYY-MM-DD.  Replies 400 naming it otherwise. */
static int query_day(srv_req *r, const char *name, char out[11])
{
    char text[32];
    out[0] = '\0';
    if (!srv_query(r, name, text, sizeof text))
        return 0;
    if (!er_usage_day_valid(text))
        return srv_reply_error(r, 400, name, "%s: not a UTC day (YYYY-MM-DD)", name);
    memcpy(out, text, 11);
    return 0;
}

typedef struct usage_read {
    er_usage_by by;
    const er_usage_filter *f;
    cJSON *report;
} usage_read;

static int read_usage(er_store *st, void *payload, er_error *err)
{
    usage_read *x = payload;
    return er_store_usage_report_json(st, x->by, x->f, &x->report, err);
}

/* The grouping: day, model, agent, conversation; user for admins. */
static int query_by(srv_req *r, er_usage_by *by)
{
    char text[32];
    *by = ER_USAGE_BY_ALL;
    if (!srv_query(r, "by", text, sizeof text))
        return 0;
    if (er_usage_by_parse(text, by))
        return srv_reply_error(
            r, 400, "by", "by: '%s' is not one of day, model, agent, conversation, user", text);
    if (*by == ER_USAGE_BY_USER && !r->user.admin)
        return srv_reply_error(r, 403, "by", "by=user: admins only");
    return 0;
}

int srv_route_usage(srv_req *r)
{
    er_usage_by by;
    char from[11], to[11], user[64], conv[64];
    int bad = query_by(r, &by);
    if (!bad)
        bad = query_day(r, "from", from);
    if (!bad)
        bad = query_day(r, "to", to);
    if (bad)
        return bad;
    er_usage_filter f = { .since_day = from, .until_day = to, .user_id = r->user.id };
    if (srv_query(r, "user_id", user, sizeof user)) {
        if (!r->user.admin && strcmp(user, r->user.id) != 0)
            return srv_reply_error(r, 403, "user_id", "user_id: admins only");
        f.user_id = user;
    } else if (r->user.admin) {
        f.user_id = NULL; /* everyone's */
    }
    if (srv_query(r, "conversation_id", conv, sizeof conv))
        f.conversation_id = conv;
    er_store *st;
    er_error err = { 0 };
    usage_read x = { by, &f, NULL };
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc) /* a read: beside other readers and writers (see er_store_read) */
        rc = er_store_read(st, read_usage, &x, &err);
    if (rc)
        return srv_reply_err(r, &err);
    return srv_reply_json(r, 200, x.report);
}
