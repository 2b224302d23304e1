/* cmd_memory.c — `errand memory`: what the agents remember, seen and edited
 * by the user: add, search, list, show, forget, and the graph: relate, graph.  Items are the local user's
 * (and the shared ones, user ""); memory.h does the work. */
#include "cli.h"
#include "errand/json.h"
#include "errand/memory.h"
#include "errand/str.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem_cmd {
    cli *c;
    cli_args *a;
    er_memory *mem;
    er_store *st;
    char user_id[ER_ID_LEN];
    bool json;
} mem_cmd;

static void print_json(cJSON *j)
{
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
}

static void print_item_line(const er_memory_item *m, const char *prefix)
{
    char ts[32];
    er_time_iso(m->updated_ms, ts, sizeof ts);
    ts[16] = '\0';
    printf("%s%s  %-10s %-12s %s  %.70s%s%s\n", prefix, m->id, m->kind, m->scope, ts, m->text,
           strlen(m->text) > 70 ? "…" : "", m->untrusted ? "  [untrusted]" : "");
}

/* The filter the options give (the local user's and the shared items). */
static int read_filter(mem_cmd *mc, er_memory_filter *f, int *limit)
{
    memset(f, 0, sizeof *f);
    f->user_id = mc->user_id;
    f->scope = cli_value(mc->a, "scope");
    f->scope_id = cli_value(mc->a, "scope-id");
    f->kind = cli_value(mc->a, "kind");
    const char *n = cli_value(mc->a, "limit"), *since = cli_value(mc->a, "since");
    long v;
    *limit = 20;
    if (n) {
        if (er_str_to_long(n, &v) || v <= 0)
            return cli_usage_error("memory", "--limit needs a positive number");
        *limit = v > INT_MAX ? INT_MAX : (int)v;
    }
    if (since) {
        if (er_str_to_long(since, &v) || v <= 0)
            return cli_usage_error("memory", "--since needs a positive number of days");
        f->since_ms = er_time_ms() - (int64_t)v * 86400000;
    }
    return 0;
}

static int mem_add(mem_cmd *mc)
{
    char *text = cli_join(mc->a, 1);
    if (er_str_empty(text)) {
        free(text);
        return cli_usage_error("memory", "add needs the TEXT to remember");
    }
    er_memory_item it = { .text = text, .user_id = mc->user_id };
    const char *scope = cli_value(mc->a, "scope");
    it.scope = (char *)(scope ? scope : "user");
    if (strcmp(it.scope, "global") == 0)
        it.user_id = (char *)""; /* shared with every user */
    it.scope_id = (char *)cli_value(mc->a, "scope-id");
    it.kind = (char *)cli_value(mc->a, "kind");
    it.source = (char *)cli_value(mc->a, "source");
    it.untrusted = cli_flag(mc->a, "untrusted");
    const char *ttl = cli_value(mc->a, "ttl");
    long secs;
    if (ttl && (er_str_to_long(ttl, &secs) || secs <= 0)) {
        free(text);
        return cli_usage_error("memory", "--ttl needs a positive number of seconds");
    }
    if (ttl)
        it.expires_ms = er_time_ms() + (int64_t)secs * 1000;
    er_error err = { 0 };
    bool created = false;
    int rc = er_memory_save(mc->mem, &it, 1, &created, &err);
    free(text);
    if (rc)
        return cli_fail(&err);
    if (mc->json) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "id", it.id);
        er_json_add(j, "created", cJSON_CreateBool(created));
        print_json(j);
    } else {
        printf("%s %s\n", created ? "remembered" : "updated", it.id);
    }
    return EXIT_DONE;
}

static int mem_search(mem_cmd *mc)
{
    char *text = cli_join(mc->a, 1);
    if (er_str_empty(text)) {
        free(text);
        return cli_usage_error("memory", "search needs a QUERY");
    }
    er_memory_query q = { .text = text };
    int rc = read_filter(mc, &q.filter, &q.k);
    const char *mode = cli_value(mc->a, "mode");
    if (rc == 0 && mode) {
        if (strcmp(mode, "hybrid") == 0)
            q.mode = ER_MEMORY_HYBRID;
        else if (strcmp(mode, "text") == 0)
            q.mode = ER_MEMORY_TEXT;
        else if (strcmp(mode, "vector") == 0)
            q.mode = ER_MEMORY_VECTOR;
        else
            rc = cli_usage_error("memory", "--mode is hybrid, text or vector, not '%s'", mode);
    }
    if (rc) {
        free(text);
        return rc;
    }
    if (!cli_value(mc->a, "limit"))
        q.k = 10;
    er_error err = { 0 };
    er_memory_hit *h = NULL;
    size_t n = 0;
    rc = er_memory_search(mc->mem, &q, &h, &n, &err);
    free(text);
    if (rc)
        return cli_fail(&err);
    cJSON *arr = mc->json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < n; i++) {
        if (arr) {
            cJSON *j = er_memory_item_json(&h[i].item);
            er_json_add_num(j, "score", h[i].score);
            if (h[i].text_rank) {
                er_json_add_num(j, "text_rank", h[i].text_rank);
                er_json_add_num(j, "text_score", h[i].text_score);
            }
            if (h[i].vec_rank) {
                er_json_add_num(j, "vector_rank", h[i].vec_rank);
                er_json_add_num(j, "cosine", h[i].vec_score);
            }
            er_json_append(arr, j);
        } else {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "%.4f  ", h[i].score);
            print_item_line(&h[i].item, prefix);
        }
    }
    if (arr)
        print_json(arr);
    else if (n == 0)
        fprintf(stderr, "errand: nothing in memory matches\n");
    er_memory_hits_free(h, n);
    return EXIT_DONE;
}

typedef struct list_ctx {
    cJSON *arr;
    int n;
} list_ctx;

static int list_row(const er_memory_item *m, void *payload)
{
    list_ctx *l = payload;
    l->n++;
    if (l->arr)
        er_json_append(l->arr, er_memory_item_json(m));
    else
        print_item_line(m, "");
    return 0;
}

static int mem_list(mem_cmd *mc)
{
    if (mc->a->npos > 1)
        return cli_usage_error("memory", "unexpected argument '%s'", mc->a->pos[1]);
    er_memory_filter f;
    int rc = read_filter(mc, &f, &f.limit);
    if (rc)
        return rc;
    list_ctx l = { mc->json ? cJSON_CreateArray() : NULL, 0 };
    er_error err = { 0 };
    rc = er_store_memory_list(mc->st, &f, list_row, &l, &err);
    if (l.arr)
        print_json(l.arr);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

/* An item the local user may see: their own or a shared one. */
static int visible_item(mem_cmd *mc, const char *id, er_memory_item *out, er_error *err)
{
    int rc = er_store_memory_get(mc->st, id, out, err);
    if (rc == 0 && *out->user_id && strcmp(out->user_id, mc->user_id) != 0) {
        er_memory_item_release(out);
        rc = er_error_set(err, ER_ENOTFOUND, "no memory '%s'", id);
    }
    return rc;
}

static int mem_show(mem_cmd *mc)
{
    if (mc->a->npos != 2)
        return cli_usage_error("memory", "show needs one memory ID");
    er_error err = { 0 };
    er_memory_item m;
    if (visible_item(mc, mc->a->pos[1], &m, &err))
        return cli_fail(&err);
    if (mc->json) {
        print_json(er_memory_item_json(&m));
    } else {
        print_item_line(&m, "");
        printf("\n%s\n", m.text);
        if (*m.source)
            printf("\nsource: %s\n", m.source);
    }
    er_memory_item_release(&m);
    return EXIT_DONE;
}

static int mem_forget(mem_cmd *mc)
{
    if (mc->a->npos != 2)
        return cli_usage_error("memory", "forget needs one memory ID");
    er_error err = { 0 };
    er_memory_item m;
    if (visible_item(mc, mc->a->pos[1], &m, &err))
        return cli_fail(&err);
    er_memory_item_release(&m);
    if (er_store_memory_forget(mc->st, mc->a->pos[1], NULL, &err))
        return cli_fail(&err);
    if (!mc->json)
        printf("forgot %s\n", mc->a->pos[1]);
    return EXIT_DONE;
}

static int mem_relate(mem_cmd *mc)
{
    if (mc->a->npos != 4)
        return cli_usage_error("memory", "relate needs SUBJECT PREDICATE OBJECT (quote names "
                                         "with spaces)");
    const char *conf = cli_value(mc->a, "confidence");
    double c = 1;
    if (conf) {
        char *end;
        c = strtod(conf, &end);
        if (*end || end == conf || !(c >= 0 && c <= 1))
            return cli_usage_error("memory", "--confidence is a number from 0 to 1");
    }
    er_error err = { 0 };
    const char *src = cli_value(mc->a, "source");
    if (er_store_memory_relate(mc->st, mc->user_id, mc->a->pos[1], mc->a->pos[2], mc->a->pos[3], c,
                               src ? src : "", &err))
        return cli_fail(&err);
    if (!mc->json)
        printf("%s -%s-> %s\n", mc->a->pos[1], mc->a->pos[2], mc->a->pos[3]);
    return EXIT_DONE;
}

static int graph_row(const er_memory_relation *r, void *payload)
{
    cJSON *arr = payload;
    if (arr) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "subject", r->subject);
        er_json_add_str(j, "predicate", r->predicate);
        er_json_add_str(j, "object", r->object);
        er_json_add_num(j, "confidence", r->confidence);
        er_json_add_str(j, "source", r->source && *r->source ? r->source : NULL);
        er_json_add_num(j, "depth", r->depth);
        er_json_append(arr, j);
    } else {
        printf("%*s%s -%s-> %s", 2 * (r->depth - 1), "", r->subject, r->predicate, r->object);
        if (r->confidence < 1)
            printf("  (%.2f)", r->confidence);
        putchar('\n');
    }
    return 0;
}

static int mem_graph(mem_cmd *mc)
{
    if (mc->a->npos != 2)
        return cli_usage_error("memory", "graph needs one ENTITY (quote a name with spaces)");
    long depth = 2;
    const char *d = cli_value(mc->a, "depth");
    if (d && (er_str_to_long(d, &depth) || depth < 1 || depth > 8))
        return cli_usage_error("memory", "--depth is 1 to 8");
    cJSON *arr = mc->json ? cJSON_CreateArray() : NULL;
    er_error err = { 0 };
    int rc =
        er_store_memory_graph(mc->st, mc->user_id, mc->a->pos[1], (int)depth, graph_row, arr, &err);
    if (rc) {
        cJSON_Delete(arr);
        return cli_fail(&err);
    }
    if (arr)
        print_json(arr);
    return EXIT_DONE;
}

int cmd_memory(cli *c, cli_args *a)
{
    static const struct {
        const char *name;
        int (*fn)(mem_cmd *);
    } subs[] = {
        { "add", mem_add },     { "search", mem_search }, { "list", mem_list },
        { "show", mem_show },   { "forget", mem_forget }, { "relate", mem_relate },
        { "graph", mem_graph },
    };
    if (a->npos == 0)
        return cli_usage_error("memory", "say add, search, list, show, forget, relate or graph");
    for (size_t i = 0; i < ER_ARRAY_LEN(subs); i++) {
        if (strcmp(a->pos[0], subs[i].name) != 0)
            continue;
        mem_cmd mc = { .c = c, .a = a, .json = cli_flag(a, "json") };
        er_error err = { 0 };
        int rc = cli_env(c, &err);
        if (!rc)
            rc = er_env_store(c->env, &mc.st, &err);
        if (!rc)
            rc = er_env_memory(c->env, &mc.mem, &err);
        if (!rc)
            rc = er_env_user_id(c->env, mc.user_id, &err);
        if (rc)
            return cli_fail(&err);
        return subs[i].fn(&mc);
    }
    return cli_usage_error("memory",
                           "unknown subcommand '%s' (add, search, list, show, forget, relate, "
                           "graph)",
                           a->pos[0]);
}
