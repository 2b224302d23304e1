/* cmd_admin.c — `errand migrate`, `errand doctor`, `errand agents`. */
#include "cli.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/cgroup.h"
#include "errand/sandbox.h"
#include "errand/config.h"
#include "errand/extract.h"
#include "errand/netguard.h"
#include "errand/sandbox.h"
#include "errand/websearch.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/tool.h"
#include "errand/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_migrate(cli *c, cli_args *a)
{
    (void)a;
    er_error err = { 0 };
    int rc = cli_env(c, &err);
    er_store *st = NULL;
    if (!rc)
        rc = er_store_open(&st, er_env_config(c->env)->database_url, &err);
    int applied = 0, version = 0;
    if (!rc)
        rc = er_store_migrate(st, &applied, &err);
    if (!rc)
        rc = er_store_schema_version(st, &version, &err);
    er_store_close(st);
    if (rc)
        return cli_fail(&err);
    printf("database at schema version %d (%d migration%s applied)\n", version, applied,
           applied == 1 ? "" : "s");
    return EXIT_DONE;
}

typedef struct check {
    const char *name;
    int rc;
    char detail[512];
    cJSON *queues; /* the bus's queues for --json: name → {waiting, consumers}; OWNED */
} check;

static void check_store(cli *c, check *k)
{
    er_store *st;
    er_error err = { 0 };
    k->name = "store";
    k->rc = er_env_store(c->env, &st, &err);
    int version = 0;
    if (!k->rc)
        k->rc = er_store_schema_version(st, &version, &err);
    char *url = er_url_redacted(er_env_config(c->env)->database_url);
    if (k->rc)
        snprintf(k->detail, sizeof k->detail, "%s", err.msg);
    else
        snprintf(k->detail, sizeof k->detail, "%s (schema version %d)", url, version);
    free(url);
}

/* The backend's URL with its password masked; the scheme alone when there is none. */
static void put_url(check *k, const char *url, const char *scheme)
{
    char *red = url && *url ? er_url_redacted(url) : NULL;
    snprintf(k->detail, sizeof k->detail, "%s", red ? red : scheme);
    free(red);
}

static void check_bus(cli *c, check *k)
{
    er_bus *bus;
    er_error err = { 0 };
    k->name = "bus";
    k->rc = er_env_bus(c->env, &bus, &err);
    if (!k->rc)
        k->rc = er_bus_ping(bus, &err);
    if (k->rc) {
        snprintf(k->detail, sizeof k->detail, "%s", err.msg);
        return;
    }
    put_url(k, er_env_config(c->env)->rabbitmq_url, er_bus_scheme(bus));
    if (er_bus_is_local(bus)) {
        /* Its queues live and die with each command: their counts say nothing here. */
        snprintf(k->detail, sizeof k->detail, "%s (the workers run inside each command)",
                 er_bus_scheme(bus));
        return;
    }
    int n = (int)strlen(k->detail);
    k->queues = cJSON_CreateObject();
    for (const char *const *queue = er_bus_queue_names(); *queue && n < (int)sizeof k->detail;
         queue++) {
        long depth = -1, consumers = -1;
        if (er_bus_queue_info(bus, *queue, &depth, &consumers, NULL) != 0 || depth < 0)
            continue;
        n += snprintf(k->detail + n, sizeof k->detail - (size_t)n,
                      "\n      %-17s %ld waiting, %ld consumer%s", *queue, depth, consumers,
                      consumers == 1 ? "" : "s");
        cJSON *q = cJSON_CreateObject();
        er_json_add_num(q, "waiting", (double)depth);
        er_json_add_num(q, "consumers", (double)consumers);
        er_json_add(k->queues, *queue, q);
    }
}

static void check_cache(cli *c, check *k)
{
    er_cache *cache;
    er_error err = { 0 };
    k->name = "cache";
    k->rc = er_env_cache(c->env, &cache, &err);
    if (!k->rc)
        k->rc = er_cache_ping(cache, &err);
    if (k->rc)
        snprintf(k->detail, sizeof k->detail, "%s", err.msg);
    else
        put_url(k, er_env_config(c->env)->redis_url, er_cache_scheme(cache));
}

static void check_llm(cli *c, check *k)
{
    er_llm *llm;
    er_error err = { 0 };
    k->name = "llm";
    k->rc = er_env_llm(c->env, &llm, &err);
    if (!k->rc)
        k->rc = er_llm_ping(llm, &err);
    if (k->rc)
        snprintf(k->detail, sizeof k->detail, "%s", err.msg);
    else
        snprintf(k->detail, sizeof k->detail, "%s, model %s", er_llm_name(llm),
                 er_llm_model(llm) ? er_llm_model(llm) : "-");
}

/* How commands run here: in the jail or with the limits only, and whether a
 * cgroup bounds them.  Informational: a machine without bubblewrap still works. */
static void check_sandbox(cli *c, check *k)
{
    const er_config *cfg = er_env_config(c->env);
    k->name = "sandbox";
    k->rc = 0;
    er_cgroup_limits lim = { (uint64_t)cfg->sandbox_memory_mb << 20, cfg->sandbox_pids };
    er_cgroup *cg = er_cgroup_new(&lim);
    char cgroup[64];
    snprintf(cgroup, sizeof cgroup, "%s", cg ? er_cgroup_kind(cg) : "none: memory per process");
    er_cgroup_free(cg);
    if (strcmp(er_sandbox_kind(), "bwrap") == 0)
        snprintf(k->detail, sizeof k->detail, "bwrap jail; cgroup %s", cgroup);
    else
        snprintf(k->detail, sizeof k->detail,
                 "rlimits-only (%s): commands see the whole "
                 "filesystem; tasks from errand serve run none (sandbox.fallback); cgroup %s",
                 er_sandbox_why_unconfined(), cgroup);
}

/* The research agent's tools: the search provider (not asked: it may be a
 * paid public API), the allow list, libxml2 and pdftotext.  A missing
 * provider is not a failure — errand works without web search. */
static void check_web(cli *c, check *k)
{
    const er_config *cfg = er_env_config(c->env);
    er_error err = { 0 };
    const er_search_backend *b = NULL;
    er_netguard *g = NULL;
    char search[200];
    k->name = "web";
    if (er_search_backend_for(cfg, &b, &err) == 0)
        snprintf(search, sizeof search, "search: %s%s%s", b->name, cfg->search_url ? " at " : "",
                 cfg->search_url ? cfg->search_url : "");
    else
        snprintf(search, sizeof search, "search: off (%s)", err.msg);
    char *pdf = er_sandbox_which("pdftotext");
    k->rc = er_netguard_new(&g, cfg->web_allow_hosts, &err);
    if (!k->rc)
        k->rc = er_extract_available(&err);
    if (k->rc)
        snprintf(k->detail, sizeof k->detail, "%s", err.msg);
    else
        snprintf(k->detail, sizeof k->detail, "%s; pages: libxml2; PDFs: %s", search,
                 pdf ? "pdftotext" : "no (install poppler-utils)");
    free(pdf);
    er_netguard_free(g);
}

/* An unset llm.provider or llm.model still has an effective value (the
 * provider whose key is set, that provider's default model): shown as such. */
static char *effective_default(cli *c, const er_config_key *k, bool json)
{
    if (!er_str_eq(k->section, "llm"))
        return NULL;
    /* From the configuration alone: the provider may not open (a key missing). */
    const char *provider = er_config_llm_provider(er_env_config(c->env));
    const char *model = er_llm_default_model(provider);
    if (er_str_eq(k->key, "provider"))
        return er_xasprintf("%s%s", provider, json ? "" : " (default)");
    if (er_str_eq(k->key, "model") && model)
        return json ? er_xstrdup(model) : er_xasprintf("%s (default for %s)", model, provider);
    return NULL;
}

int cmd_doctor(cli *c, cli_args *a)
{
    er_error err = { 0 };
    if (cli_env(c, &err))
        return cli_fail(&err);
    const er_config *cfg = er_env_config(c->env);
    bool json = cli_flag(a, "json");
    cJSON *j = cJSON_CreateObject(), *settings = cJSON_CreateObject();
    if (!json)
        printf("configuration (file: %s)\n", cfg->config_path ? cfg->config_path : "none");
    for (size_t i = 0; i < er_config_nkeys; i++) {
        const er_config_key *k = &er_config_keys[i];
        char *v = er_config_get_text(cfg, k, true);
        if (!v)
            v = effective_default(c, k, json);
        char name[96];
        snprintf(name, sizeof name, "%s.%s", k->section, k->key);
        if (json)
            er_json_add_str(settings, name, v);
        else
            printf("  %-24s %s\n", name, v ? v : "(unset)");
        free(v);
    }
    er_json_add(j, "settings", settings);
    check checks[6] = { 0 };
    check_store(c, &checks[0]);
    check_bus(c, &checks[1]);
    check_cache(c, &checks[2]);
    check_llm(c, &checks[3]);
    check_sandbox(c, &checks[4]);
    check_web(c, &checks[5]);
    int worst = 0;
    cJSON *cj = cJSON_CreateObject();
    if (!json)
        printf("checks\n");
    for (size_t i = 0; i < ER_ARRAY_LEN(checks); i++) {
        if (checks[i].rc && !worst)
            worst = checks[i].rc;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            er_json_add_bool(o, "ok", checks[i].rc == 0);
            /* The queue lines are the text form of "queues". */
            checks[i].detail[strcspn(checks[i].detail, "\n")] = '\0';
            er_json_add_str(o, "detail", checks[i].detail);
            if (checks[i].queues) {
                er_json_add(o, "queues", checks[i].queues);
                checks[i].queues = NULL;
            }
            er_json_add(cj, checks[i].name, o);
        } else {
            printf("  %-6s %s  %s\n", checks[i].name, checks[i].rc ? "FAIL" : "OK  ",
                   checks[i].detail);
        }
        cJSON_Delete(checks[i].queues);
    }
    er_json_add(j, "checks", cj);
    if (json) {
        char *text = cJSON_Print(j);
        puts(text);
        free(text);
    }
    cJSON_Delete(j);
    return worst ? EXIT_UNAVAIL : EXIT_DONE;
}

/* True when a tool is marked "*" (declared, not in this build). */
static bool tools_line(const char *const *tools, er_buf *b)
{
    bool missing = false;
    for (size_t i = 0; tools && tools[i]; i++) {
        bool here = er_tool_find(tools[i]) != NULL;
        missing |= !here;
        er_buf_printf(b, "%s%s%s", i ? ", " : "", tools[i], here ? "" : "*");
    }
    return missing;
}

int cmd_agents(cli *c, cli_args *a)
{
    (void)c;
    bool json = cli_flag(a, "json");
    cJSON *arr = cJSON_CreateArray();
    bool missing = false;
    for (size_t i = 0; er_agents[i]; i++) {
        const er_agent_def *ag = er_agents[i];
        er_buf b = ER_BUF_INIT;
        missing |= tools_line(ag->tools, &b);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            er_json_add_str(o, "name", ag->name);
            er_json_add_str(o, "description", ag->description);
            cJSON *subs = cJSON_CreateArray();
            for (size_t s = 0; s < ag->nsubagents; s++) {
                cJSON *so = cJSON_CreateObject();
                er_json_add_str(so, "name", ag->subagents[s].name);
                er_json_add_str(so, "description", ag->subagents[s].description);
                er_json_append(subs, so);
            }
            er_json_add(o, "subagents", subs);
            cJSON *tools = cJSON_CreateArray();
            for (size_t t = 0; ag->tools && ag->tools[t]; t++)
                if (er_tool_find(ag->tools[t]))
                    er_json_append(tools, cJSON_CreateString(ag->tools[t]));
            er_json_add(o, "tools", tools);
            er_json_append(arr, o);
        } else {
            printf("%s — %s\n", ag->name, ag->description);
            for (size_t s = 0; s < ag->nsubagents; s++)
                printf("  %-15s %s\n", ag->subagents[s].name, ag->subagents[s].description);
            printf("  tools: %s\n\n", b.len ? b.ptr : "(none yet)");
        }
        er_buf_release(&b);
    }
    if (json) {
        char *text = cJSON_Print(arr);
        puts(text);
        free(text);
    } else if (missing) {
        printf("* not available in this build\n");
    }
    cJSON_Delete(arr);
    return EXIT_DONE;
}
