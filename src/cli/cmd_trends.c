/* cmd_trends.c — `errand trends [SOURCE]`: the trend finder's latest report
 * of each watched source, from the snapshots in the store (trends.h). */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/env.h"
#include "errand/json.h"
#include "errand/store_history.h"
#include "errand/str.h"
#include "errand/trends.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
