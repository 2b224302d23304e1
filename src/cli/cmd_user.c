/* cmd_user.c — `errand user`: the people who may use `errand serve`, and
 * their API tokens (shown once, stored only as digests). */
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
    cJSON_ArrayForEach(t, tokens)
        active += !er_json_bool(t, "revoked", false);
    ts[10] = '\0';
    printf("%-20s %-6s %s  %s  %d token%s\n", u->name, u->role, u->id, ts, active,
           active == 1 ? "" : "s");
    cJSON_ArrayForEach(t, tokens)
        if (!er_json_bool(t, "revoked", false))
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

static int user_revoke(cli_args *a, er_store *st)
{
    if (a->npos < 2)
        return cli_usage_error("user", "revoke needs a TOKEN_ID (see errand user list)");
    er_error err = { 0 };
    if (er_store_api_token_revoke(st, a->pos[1], &err))
        return cli_fail(&err);
    printf("revoked %s\n", a->pos[1]);
    return EXIT_DONE;
}

int cmd_user(cli *c, cli_args *a)
{
    static const struct { const char *name; int (*fn)(cli_args *, er_store *); } subs[] = {
        { "add", user_add }, { "list", user_list }, { "token", user_token },
        { "revoke", user_revoke },
    };
    if (a->npos == 0)
        return cli_usage_error("user", "say add, list, token or revoke");
    for (size_t i = 0; i < ER_ARRAY_LEN(subs); i++) {
        if (strcmp(a->pos[0], subs[i].name) != 0)
            continue;
        size_t most = strcmp(subs[i].name, "list") == 0 ? 1 : 2;
        if (a->npos > most)   /* "user add ada lovelace": say so, not add "ada" */
            return cli_usage_error("user", "unexpected argument '%s'", a->pos[most]);
        er_error err = { 0 };
        er_store *st;
        if (cli_env(c, &err) || er_env_store(c->env, &st, &err))
            return cli_fail(&err);
        return subs[i].fn(a, st);
    }
    return cli_usage_error("user", "unknown subcommand '%s' (add, list, token, revoke)", a->pos[0]);
}
