/* cmd_trends.c — `errand trends [SOURCE]`: the trend finder's latest report
 * of each watched source, from the snapshots in the store (trends.h); with
 * --watch it first records the configured sources ([watch.NAME]) that are
 * due, through the browser agent's own browser_record tool (the same SSRF
 * guard, limits and fencing as a task's), and with --loop keeps doing so. */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/env.h"
#include "errand/json.h"
#include "errand/store_history.h"
#include "errand/str.h"
#include "errand/trends.h"
#include "errand/config.h"
#include "errand/strv.h"

#include "errand/tool.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCH_EVERY "6h" /* a watched source's default period */

static int report_one(er_store *st, const char *source, int64_t window, const er_trends_opts *o,
                      cJSON *all, er_buf *text, er_error *err)
{
    cJSON *r = NULL;
    int rc = er_trends_latest(st, source, window, o, &r, err);
    if (rc)
        return rc;
    if (all)
        cJSON_AddItemToArray(all, r);
    else {
        if (text->len)
            er_buf_putc(text, '\n');
        er_trends_text(r, text);
        cJSON_Delete(r);
    }
    return 0;
}

/* ---- --watch: the configured sources ---- */

typedef struct watch {
    const char *name, *url, *selector, *key, *session;
    int64_t every_ms;
} watch;

static int watch_load(const er_config *cfg, const char *name, watch *w, er_error *err)
{
    const er_strv *set = &cfg->watch_settings;
    *w = (watch){ name,
                  er_config_named(set, name, "url"),
                  er_config_named(set, name, "selector"),
                  er_config_named(set, name, "key"),
                  er_config_named(set, name, "session"),
                  0 };
    if (!w->url || !w->selector)
        return er_error_set(err, ER_EINVAL,
                            "[watch.%s] needs url and selector (see `man errand.conf`, "
                            "WATCHED SOURCES)",
                            name);
    const char *every = er_config_named(set, name, "every");
    int rc = er_trends_parse_window(every ? every : WATCH_EVERY, &w->every_ms, err);
    if (rc)
        er_error_prefix(err, "watch.%s.every", name);
    return rc;
}

/* When the source was last recorded (0: never). */
static int last_taken(er_store *st, const char *source, int64_t *ms, er_error *err)
{
    er_snapshot *v = NULL;
    size_t n = 0;
    int rc = er_store_snapshots(st, source, 0, 1, &v, &n, err);
    *ms = rc == 0 && n ? v[0].taken_ms : 0;
    er_snapshots_free(v, n);
    return rc;
}

/* Records w now, through browser_record as the browser agent. */
static int watch_record(cli *c, const watch *w, er_error *err)
{
    const er_tool *t = er_tool_find("browser_record");
    if (!t)
        return er_error_set(err, ER_ENOTFOUND, "this errand has no browser agent");
    cJSON *args = cJSON_CreateObject();
    er_json_add_str(args, "source", w->name);
    er_json_add_str(args, "url", w->url);
    er_json_add_str(args, "selector", w->selector);
    if (w->key)
        er_json_add_str(args, "key", w->key);
    if (w->session)
        er_json_add_str(args, "session", w->session);
    char cwd[4096];
    er_tool_ctx ctx = { .env = c->env,
                        .agent = "browser",
                        .workspace = getcwd(cwd, sizeof cwd) ? cwd : "." };
    er_buf out = ER_BUF_INIT;
    int rc = er_tool_validate(t, args, err);
    if (rc == 0)
        rc = t->run(&ctx, args, &out, err);
    cJSON *r = rc == 0 ? cJSON_Parse(er_buf_cstr(&out)) : NULL;
    if (rc == 0)
        fprintf(stderr, "errand: %s: recorded %.0f rows from %s\n", w->name,
                er_json_num(r, "count", 0), w->url);
    cJSON_Delete(r);
    cJSON_Delete(args);
    er_buf_release(&out);
    return rc;
}

static volatile sig_atomic_t stop_watching;

static void on_stop(int sig)
{
    (void)sig;
    stop_watching = 1;
}

/* One pass: records each due source (or every one with force); *next_ms:
 * the earliest time one is due again.  A source that fails is reported and
 * the others go on; the pass fails when any did. */
static int watch_pass(cli *c, er_store *st, const er_strv *names, bool force, int64_t *next_ms,
                      er_error *err)
{
    int failed = 0;
    *next_ms = INT64_MAX;
    er_error first = { 0 };
    for (size_t i = 0; i < names->n && !stop_watching; i++) {
        watch w;
        int64_t last = 0, now = er_time_ms();
        er_error e = { 0 };
        int rc = watch_load(er_env_config(c->env), names->v[i], &w, &e);
        if (rc == 0)
            rc = last_taken(st, w.name, &last, &e);
        if (rc == 0 && (force || last == 0 || now - last >= w.every_ms)) {
            fprintf(stderr, "errand: %s: opening %s\n", w.name, w.url);
            rc = watch_record(c, &w, &e);
            last = er_time_ms();
        } else if (rc == 0) {
            fprintf(stderr, "errand: %s: recorded %lld min ago, next in %lld min\n", w.name,
                    (long long)((now - last) / 60000),
                    (long long)((last + w.every_ms - now + 59999) / 60000));
        }
        if (rc == 0 && last + w.every_ms < *next_ms)
            *next_ms = last + w.every_ms;
        if (rc) {
            fprintf(stderr, "errand: %s: %s\n", names->v[i], e.msg);
            if (!failed++)
                first = e;
        }
    }
    if (failed)
        return er_error_set(err, first.code, "%d of %zu watched sources failed (first: %s)", failed,
                            names->n, first.msg);
    return 0;
}

/* The sources to watch: the one named, or every [watch.NAME]. */
static int watch_names(cli *c, const char *only, er_strv *names, er_error *err)
{
    er_config_section_names(names, &er_env_config(c->env)->watch_settings);
    if (names->n == 0)
        return er_error_set(err, ER_ENOTFOUND,
                            "no source is configured to watch: add a [watch.NAME] section with "
                            "url and selector to the config file (see `man errand.conf`)");
    if (!only)
        return 0;
    for (size_t i = 0; i < names->n; i++)
        if (strcmp(names->v[i], only) == 0) {
            er_strv_free(names);
            er_strv_push(names, only);
            return 0;
        }
    return er_error_set(err, ER_ENOTFOUND, "no [watch.%s] in the configuration", only);
}

/* --watch [--loop]: records what is due; looping, sleeps until the next one
 * is due (SIGINT/SIGTERM end it between sources). */
static int watch_sources(cli *c, er_store *st, const char *only, bool force, bool loop,
                         er_error *err)
{
    er_strv names = { 0 };
    int rc = watch_names(c, only, &names, err);
    if (rc == 0 && loop) {
        struct sigaction sa = { .sa_handler = on_stop };
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    int64_t next = 0;
    while (rc == 0 && !stop_watching) {
        er_error e = { 0 };
        int prc = watch_pass(c, st, &names, force, &next, &e);
        if (!loop) {
            rc = prc;
            if (rc)
                *err = e;
            break;
        }
        force = false;
        if (next == INT64_MAX)
            break;
        fprintf(stderr, "errand: next source due in %lld s (Ctrl-C stops)\n",
                (long long)((next - er_time_ms()) / 1000));
        while (!stop_watching && er_time_ms() < next)
            sleep(1);
    }
    er_strv_free(&names);
    return rc;
}

int cmd_trends(cli *c, cli_args *a)
{
    if (a->npos > 1)
        return cli_usage_error("trends", "unexpected argument '%s'", a->pos[1]);
    er_error err = { 0 };
    int64_t window = 0;
    const char *w = cli_value(a, "window"), *top = cli_value(a, "top");
    long ntop = 10;
    if (w && er_trends_parse_window(w, &window, &err))
        return cli_usage_error("trends", "%s", err.msg);
    if (top && (er_str_to_long(top, &ntop) || ntop < 1 || ntop > 100))
        return cli_usage_error("trends", "--top takes a number from 1 to 100");
    er_trends_opts o = { cli_value(a, "key"), (int)ntop };
    er_store *st = NULL;
    int rc = cli_env(c, &err);
    if (!rc)
        rc = er_env_store(c->env, &st, &err);
    if (rc)
        return cli_fail(&err);
    bool loop = cli_flag(a, "loop");
    if (rc == 0 && (cli_flag(a, "watch") || loop))
        rc =
            watch_sources(c, st, a->npos == 1 ? a->pos[0] : NULL, cli_flag(a, "force"), loop, &err);
    if (rc || loop)
        return rc ? cli_fail(&err) : EXIT_DONE;
    bool json = cli_flag(a, "json");
    cJSON *all = json ? cJSON_CreateArray() : NULL;
    er_buf text = ER_BUF_INIT;
    if (a->npos == 1) {
        rc = report_one(st, a->pos[0], window, &o, all, &text, &err);
    } else {
        er_snapshot_source *v = NULL;
        size_t n = 0;
        rc = er_store_snapshot_sources(st, &v, &n, &err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = report_one(st, v[i].source, window, &o, all, &text, &err);
        er_snapshot_sources_free(v, n);
        if (rc == 0 && n == 0 && !json)
            er_buf_puts(&text, "no source is watched yet: ask the browser agent to watch a page "
                               "(browser_record)\n");
    }
    if (rc == 0 && json) {
        char *s = cJSON_Print(all);
        puts(s);
        free(s);
    } else if (rc == 0) {
        fputs(er_buf_cstr(&text), stdout);
    }
    cJSON_Delete(all);
    er_buf_release(&text);
    return rc ? cli_fail(&err) : EXIT_DONE;
}
