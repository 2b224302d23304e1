/* cmd_user.c — `errand user`: the people who may use `errand serve`, their
 * API tokens (shown once, stored only as digests) and their login sessions. */
#include "cli.h"
#include "serve.h"
#include "errand/json.h"
#include "errand/store_auth.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int user_add(cli_args *a, er_store *st)
{
    if (a->npos < 2)
        return cli_usage_error("user", "add needs a NAME");
    const char *name = a->pos[1], *role = cli_value(a, "role");
    if (!role)
        role = "user";
    if (strcmp(role, "user") != 0 && strcmp(role, "admin") != 0)
        return cli_usage_error("user", "--role is user or admin, not '%s'", role);
    er_error err = { 0 };
    er_user u;
    if (er_store_user_get(st, name, &u, &err) == 0) {
        er_user_release(&u);
        fprintf(stderr, "errand: user '%s' already exists\n", name);
        return EXIT_FAILED;
    }
    char id[ER_ID_LEN];
    if (er_store_user_ensure(st, name, role, id, &err))
        return cli_fail(&err);
    printf("added %s %s (%s)\n", role, name, id);
    return EXIT_DONE;
}

typedef struct list_ctx {
    er_store *st;
    bool json;
    cJSON *arr;
} list_ctx;

static int add_token(const er_api_token *t, void *payload)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", t->id);
    er_json_add_str(j, "label", t->label);
    char ts[32];
    er_time_iso(t->created_ms, ts, sizeof ts);
    er_json_add_str(j, "created", ts);
    er_json_add_bool(j, "revoked", t->revoked_ms != 0);
    er_json_append(payload, j);
    return 0;
}

static int print_user(const er_user *u, void *payload)
{
    list_ctx *l = payload;
    cJSON *tokens = cJSON_CreateArray();
    er_store_api_token_list(l->st, u->id, add_token, tokens, NULL);
    char ts[32];
    er_time_iso(u->created_ms, ts, sizeof ts);
    if (l->json) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "id", u->id);
        er_json_add_str(j, "name", u->name);
        er_json_add_str(j, "role", u->role);
        er_json_add_str(j, "created", ts);
        er_json_add(j, "tokens", tokens);
        er_json_append(l->arr, j);
        return 0;
    }
    int active = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tokens) active += !er_json_bool(t, "revoked", false);
    ts[10] = '\0';
    printf("%-20s %-6s %s  %s  %d token%s\n", u->name, u->role, u->id, ts, active,
           active == 1 ? "" : "s");
    cJSON_ArrayForEach(t, tokens) if (!er_json_bool(t, "revoked", false))
        printf("    token %s  %s\n", er_json_str(t, "id"), er_json_str(t, "label"));
    cJSON_Delete(tokens);
    return 0;
}

static int user_list(cli_args *a, er_store *st)
{
    list_ctx l = { st, cli_flag(a, "json"), cJSON_CreateArray() };
    er_error err = { 0 };
    int rc = er_store_user_list(st, print_user, &l, &err);
    if (l.json) {
        char *text = cJSON_Print(l.arr);
        puts(text);
        free(text);
    }
    cJSON_Delete(l.arr);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

static int user_token(cli_args *a, er_store *st)
{
    if (a->npos < 2)
        return cli_usage_error("user", "token needs a user NAME");
    er_error err = { 0 };
    er_user u;
    if (er_store_user_get(st, a->pos[1], &u, &err))
        return cli_fail(&err);
    char token[SRV_TOKEN_MAX], id[ER_ID_LEN];
    const char *label = cli_value(a, "label");
    int rc = srv_api_token_issue(st, u.id, label ? label : "", token, id, &err);
    er_user_release(&u);
    if (rc)
        return cli_fail(&err);
    puts(token);
    fprintf(stderr, "errand: API token %s for %s; it is shown only now, keep it safe\n", id,
            a->pos[1]);
    return EXIT_DONE;
}

/* revoke ID: an API token (and the sessions it was exchanged for) or one
 * session; revoke --all NAME: every token and session of the user.  Running
 * servers see it within a second: access tokens stop working, WebSockets close. */
static int user_revoke(cli_args *a, er_store *st)
{
    bool all = cli_flag(a, "all");
    if (a->npos < 2)
        return cli_usage_error("user", all ? "revoke --all needs a user NAME"
                                           : "revoke needs a TOKEN_ID or SESSION_ID (see errand "
                                             "user list, errand user sessions NAME)");
    er_error err = { 0 };
    if (all) {
        er_user u;
        int n = 0;
        if (er_store_user_get(st, a->pos[1], &u, &err))
            return cli_fail(&err);
        int rc = er_store_user_revoke_all(st, u.id, &n, &err);
        er_user_release(&u);
        if (rc)
            return cli_fail(&err);
        printf("revoked %d token%s and session%s of %s\n", n, n == 1 ? "" : "s", n == 1 ? "" : "s",
               a->pos[1]);
        return EXIT_DONE;
    }
    int rc = er_store_api_token_revoke(st, a->pos[1], &err);
    if (rc == ER_ENOTFOUND)
        rc = er_store_session_revoke(st, a->pos[1], &err);
    if (rc == ER_ENOTFOUND)
        er_error_set(&err, rc,
                     "no valid API token or session '%s' (see errand user list, "
                     "errand user sessions NAME)",
                     a->pos[1]);
    if (rc)
        return cli_fail(&err);
    printf("revoked %s\n", a->pos[1]);
    return EXIT_DONE;
}

static const char *session_state(const er_session *s, int64_t now)
{
    return s->revoked_ms ? "revoked" : s->expires_ms <= now ? "ended" : "active";
}

static int add_session(const er_session *s, void *payload)
{
    cJSON *j = cJSON_CreateObject();
    char ts[32];
    er_json_add_str(j, "id", s->id);
    er_json_add_str(j, "api_token_id", s->api_token_id[0] ? s->api_token_id : NULL);
    er_time_iso(s->created_ms, ts, sizeof ts);
    er_json_add_str(j, "started", ts);
    er_time_iso(s->expires_ms, ts, sizeof ts);
    er_json_add_str(j, "ends", ts);
    if (s->refreshed_ms) {
        er_time_iso(s->refreshed_ms, ts, sizeof ts);
        er_json_add_str(j, "refreshed", ts);
    }
    er_json_add_str(j, "state", session_state(s, er_time_ms()));
    er_json_append(payload, j);
    return 0;
}

/* sessions NAME: the logins of a user (each a chain of refresh tokens). */
static int user_sessions(cli_args *a, er_store *st)
{
    if (a->npos < 2)
        return cli_usage_error("user", "sessions needs a user NAME");
    er_error err = { 0 };
    er_user u;
    if (er_store_user_get(st, a->pos[1], &u, &err))
        return cli_fail(&err);
    cJSON *arr = cJSON_CreateArray();
    int rc = er_store_session_list(st, u.id, add_session, arr, &err);
    er_user_release(&u);
    if (!rc && cli_flag(a, "json")) {
        char *text = cJSON_Print(arr);
        puts(text);
        free(text);
    }
    const cJSON *j;
    cJSON *shown = !rc && !cli_flag(a, "json") ? arr : cJSON_CreateArray();
    cJSON_ArrayForEach(j, shown)
        printf("%s  %-7s started %s  ends %s  %s%s\n", er_json_str(j, "id"),
               er_json_str(j, "state"), er_json_str(j, "started"), er_json_str(j, "ends"),
               er_json_str(j, "api_token_id") ? "via token " : "login",
               er_json_str(j, "api_token_id") ? er_json_str(j, "api_token_id") : "");
    if (shown != arr)
        cJSON_Delete(shown);
    cJSON_Delete(arr);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

static int user_role(cli_args *a, er_store *st)
{
    if (a->npos < 3)
        return cli_usage_error("user", "role needs a user NAME and a ROLE (user or admin)");
    er_error err = { 0 };
    if (er_store_user_set_role(st, a->pos[1], a->pos[2], &err))
        return cli_fail(&err);
    printf("%s is now %s\n", a->pos[1], a->pos[2]);
    return EXIT_DONE;
}

static int user_delete(cli_args *a, er_store *st)
{
    if (a->npos < 2)
        return cli_usage_error("user", "delete needs a user NAME");
    er_error err = { 0 };
    if (er_store_user_delete(st, a->pos[1], &err))
        return cli_fail(&err);
    printf("deleted %s, with their conversations, tokens and sessions\n", a->pos[1]);
    return EXIT_DONE;
}

int cmd_user(cli *c, cli_args *a)
{
    static const struct {
        const char *name;
        int (*fn)(cli_args *, er_store *);
        size_t most; /* positional arguments, the subcommand's name included */
    } subs[] = {
        { "add", user_add, 2 },       { "list", user_list, 1 },         { "token", user_token, 2 },
        { "revoke", user_revoke, 2 }, { "sessions", user_sessions, 2 }, { "role", user_role, 3 },
        { "delete", user_delete, 2 },
    };
    if (a->npos == 0)
        return cli_usage_error("user", "say add, list, token, revoke, sessions, role or delete");
    for (size_t i = 0; i < ER_ARRAY_LEN(subs); i++) {
        if (strcmp(a->pos[0], subs[i].name) != 0)
            continue;
        size_t most = subs[i].most;
        if (a->npos > most) /* "user add ada lovelace": say so, not add "ada" */
            return cli_usage_error("user", "unexpected argument '%s'", a->pos[most]);
        er_error err = { 0 };
        er_store *st;
        if (cli_env(c, &err) || er_env_store(c->env, &st, &err))
            return cli_fail(&err);
        return subs[i].fn(a, st);
    }
    return cli_usage_error("user",
                           "unknown subcommand '%s' (add, list, token, revoke, sessions, "
                           "role, delete)",
                           a->pos[0]);
}
