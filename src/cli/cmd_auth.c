/* cmd_auth.c — `errand auth`: authorising errand with outside services
 * (Gmail, through OAuth 2.0 with PKCE and a loopback redirect), listing and
 * revoking what it holds.  The tokens live sealed in the store
 * (gmail_auth.h, secret.h); nothing here prints or logs one. */
#include "cli.h"
#include "errand/gmail_auth.h"
#include "errand/json.h"
#include "errand/store_credential.h"
#include "errand/str.h"

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_SCOPES  "readonly,compose,modify"
#define DEFAULT_TIMEOUT 300

void cli_open_browser(const char *url)
{
    const char *browser = getenv("BROWSER");
    if (er_str_empty(browser))
        return;
    char *argv[] = { (char *)browser, (char *)url, NULL };
    pid_t pid;
    if (posix_spawnp(&pid, browser, NULL, NULL, argv, environ) != 0)
        fprintf(stderr, "errand: could not start $BROWSER (%s); open the URL yourself\n", browser);
}

static int auth_gmail(cli *c, cli_args *a, er_store *st)
{
    const char *name = a->npos > 1 ? a->pos[1] : "gmail";
    const char *timeout_s = cli_value(a, "timeout");
    long timeout = DEFAULT_TIMEOUT;
    if (timeout_s) {
        char *end;
        timeout = strtol(timeout_s, &end, 10);
        if (*end || timeout < 1 || timeout > 3600)
            return cli_usage_error("auth", "--timeout is 1 to 3600 seconds, not '%s'", timeout_s);
    }
    er_error err = { 0 };
    char *scopes = NULL;
    const char *want = cli_value(a, "scopes");
    if (er_gmail_scopes(&scopes, want ? want : DEFAULT_SCOPES, &err))
        return cli_usage_error("auth", "%s", err.msg);
    er_config *cfg = er_env_config(c->env);
    er_gmail_flow f;
    int rc = er_gmail_flow_begin(&f, cfg, scopes, &err);
    free(scopes);
    if (rc) {
        er_gmail_flow_release(&f);
        return cli_fail(&err);
    }
    bool no_browser = cli_flag(a, "no-browser");
    fprintf(stderr,
            "errand: to let errand use your Gmail, open this URL in a browser and allow access\n"
            "        (waiting up to %ld s for the answer on %s; Ctrl-C stops):\n",
            timeout, f.oauth.redirect_uri);
    printf("%s\n", f.url);
    fflush(stdout);
    if (!no_browser)
        cli_open_browser(f.url);
    cli_install_sigint();
    char *code = NULL, *account = NULL;
    rc = er_gmail_flow_wait(&f, (int)(timeout * 1000), &cli_interrupted, &code, &err);
    if (!rc) {
        fprintf(stderr, "errand: exchanging the code for tokens…\n");
        rc = er_gmail_flow_finish(&f, cfg, st, name, code, &account, &err);
    }
    if (code)
        memset(code, 0, strlen(code));
    free(code);
    er_gmail_flow_release(&f);
    if (rc)
        return cli_fail(&err);
    printf("authorised '%s' for %s\n", name, account ? account : "(unknown address)");
    printf("use it from a mail account: [mail.%s] provider = gmail\n", name);
    free(account);
    return EXIT_DONE;
}

typedef struct list_ctx {
    bool json;
    cJSON *arr;
    int n;
} list_ctx;

static int print_credential(const er_credential *cr, void *payload)
{
    list_ctx *l = payload;
    char ts[32];
    er_time_iso(cr->updated_ms, ts, sizeof ts);
    l->n++;
    if (l->json) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "name", cr->name);
        er_json_add_str(j, "kind", cr->kind);
        er_json_add_str(j, "account", cr->account);
        er_json_add_str(j, "updated", ts);
        er_json_append(l->arr, j);
    } else {
        printf("%-16s %-8s %-32s %s\n", cr->name, cr->kind,
               er_str_empty(cr->account) ? "-" : cr->account, ts);
    }
    return 0;
}

static int auth_list(cli *c, cli_args *a, er_store *st)
{
    (void)c;
    list_ctx l = { cli_flag(a, "json"), cJSON_CreateArray(), 0 };
    er_error err = { 0 };
    int rc = er_store_credential_list(st, print_credential, &l, &err);
    if (!rc && l.json) {
        char *s = er_json_print(l.arr);
        printf("%s\n", s);
        free(s);
    } else if (!rc && l.n == 0) {
        fprintf(stderr, "errand: no authorisations yet (errand auth gmail adds one)\n");
    }
    cJSON_Delete(l.arr);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

static int auth_revoke(cli *c, cli_args *a, er_store *st)
{
    if (a->npos < 2)
        return cli_usage_error("auth", "revoke needs a NAME (see errand auth list)");
    er_error err = { 0 }, remote = { 0 };
    if (er_gmail_revoke(er_env_config(c->env), st, a->pos[1], &remote, &err))
        return cli_fail(&err);
    if (remote.code)
        fprintf(stderr,
                "errand: warning: Google was not told (%s); revoke errand's access at "
                "myaccount.google.com/permissions too\n",
                remote.msg);
    printf("revoked '%s' (its tokens are deleted)\n", a->pos[1]);
    return EXIT_DONE;
}

int cmd_auth(cli *c, cli_args *a)
{
    static const struct {
        const char *name;
        int (*fn)(cli *, cli_args *, er_store *);
        size_t most; /* positional arguments, the subcommand's name included */
    } subs[] = {
        { "gmail", auth_gmail, 2 },
        { "list", auth_list, 1 },
        { "revoke", auth_revoke, 2 },
    };
    if (a->npos == 0)
        return cli_usage_error("auth", "say gmail, list or revoke");
    for (size_t i = 0; i < ER_ARRAY_LEN(subs); i++) {
        if (strcmp(a->pos[0], subs[i].name) != 0)
            continue;
        if (a->npos > subs[i].most)
            return cli_usage_error("auth", "unexpected argument '%s'", a->pos[subs[i].most]);
        er_error err = { 0 };
        er_store *st;
        if (cli_env(c, &err) || er_env_store(c->env, &st, &err))
            return cli_fail(&err);
        return subs[i].fn(c, a, st);
    }
    return cli_usage_error("auth", "unknown subcommand '%s' (gmail, list, revoke)", a->pos[0]);
}
