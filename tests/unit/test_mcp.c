/* test_mcp.c — the [mcp.NAME] settings, tool names, and MCP tools counting as
 * untrusted (mcp.h, tool.h). */
#include "../check.h"
#include "errand/config.h"
#include "errand/json.h"
#include "errand/mcp.h"
#include "errand/mcp_server.h"
#include "errand/str.h"
#include "errand/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_config(void)
{
    er_config cfg;
    er_error err = { 0 };
    CHECK(er_config_load(&cfg, "/dev/null", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.files.command", "npx", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.files.args", "-y \"a b\" c", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.files.permission", "read", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.web.url", "https://x.example/mcp", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.web.header", "X-A: 1", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.web.header", "X-B: 2", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.web.agents", "code, research", &err) == 0);
    CHECK(cfg.mcp && cfg.mcp->n == 2);
    const er_mcp_server_cfg *f = &cfg.mcp->v[0], *w = &cfg.mcp->v[1];
    CHECK(strcmp(f->name, "files") == 0 && f->perm == ER_PERM_READ && f->timeout == 30);
    CHECK(w->perm == ER_PERM_SEND); /* the default: policy.send decides */
    CHECK(strcmp(w->headers, "X-A: 1\nX-B: 2") == 0);
    CHECK(er_mcp_config_check(f, &err) == 0 && er_mcp_config_check(w, &err) == 0);
    CHECK(er_mcp_config_for_agent(w, "code") && er_mcp_config_for_agent(w, "code/writer"));
    CHECK(er_mcp_config_for_agent(w, "research") && !er_mcp_config_for_agent(w, "data"));
    CHECK(!er_mcp_config_for_agent(w, "cod"));
    CHECK(er_mcp_config_for_agent(f, "data")); /* no list: every agent */
    CHECK(er_config_set(&cfg, "mcp.web.bogus", "1", &err) == ER_ENOTFOUND);
    CHECK(strstr(err.msg, "mcp.web.bogus") != NULL);
    CHECK(er_config_set(&cfg, "mcp.web.permission", "exec_network", &err) == ER_EINVAL);
    CHECK(er_config_set(&cfg, "mcp.web.timeout", "0", &err) == ER_EINVAL);
    CHECK(er_config_set(&cfg, "mcp.web.header", "no colon", &err) == ER_EINVAL);
    CHECK(er_config_set(&cfg, "mcp.a b.url", "x", &err) == ER_EINVAL);
    CHECK(er_config_set(&cfg, "mcp.url", "x", &err) == ER_EINVAL);
    CHECK(er_config_set(&cfg, "mcp.both.url", "http://x/", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.both.command", "x", &err) == 0);
    CHECK(er_mcp_config_check(&cfg.mcp->v[2], &err) == ER_EINVAL);
    CHECK(er_config_set(&cfg, "mcp.none.agents", "code", &err) == 0);
    CHECK(er_mcp_config_check(&cfg.mcp->v[3], &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "neither a command") != NULL);
    er_config_release(&cfg);
    CHECK(cfg.mcp == NULL);
}

static void test_names(void)
{
    char *n = er_mcp_tool_name("files", "read.file");
    CHECK(strcmp(n, "mcp__files__read_file") == 0);
    CHECK(er_mcp_is_tool_name(n));
    free(n);
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    n = er_mcp_tool_name("s", longname);
    CHECK(strlen(n) == 64);
    free(n);
    CHECK(!er_mcp_is_tool_name("read_file"));
}

static void test_untrusted(void)
{
    er_tool mcp = { "mcp__x__y", "d", "{}", ER_PERM_SEND, NULL, NULL, false };
    er_tool plain = { "x_y", "d", "{}", ER_PERM_SEND, NULL, NULL, false };
    CHECK(er_tool_untrusted(&mcp));
    CHECK(!er_tool_untrusted(&plain));
    CHECK(er_tool_untrusted(er_tool_find("fetch_url")) || !er_tool_find("fetch_url"));
}

/* token, token_file, token_env: one at most; the file trimmed and read when
 * asked; a missing variable named. */
static void test_token(void)
{
    er_config cfg;
    er_error err = { 0 };
    char path[] = "/tmp/errand-test-mcp-token-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "  tok-in-file \n", 15) == 15);
    close(fd);
    CHECK(er_config_load(&cfg, "/dev/null", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.f.url", "http://x/", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.f.token_file", path, &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.e.url", "http://x/", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.e.token_env", "ERRAND_TEST_MCP_TOKEN", &err) == 0);
    CHECK(er_config_set(&cfg, "mcp.n.url", "http://x/", &err) == 0);
    const er_mcp_server_cfg *f = &cfg.mcp->v[0], *e = &cfg.mcp->v[1], *n = &cfg.mcp->v[2];
    char *tok = NULL;
    CHECK(er_mcp_config_token(f, &tok, &err) == 0 && tok && strcmp(tok, "tok-in-file") == 0);
    free(tok);
    unsetenv("ERRAND_TEST_MCP_TOKEN");
    CHECK(er_mcp_config_token(e, &tok, &err) == ER_EAUTH && !tok);
    CHECK(strstr(err.msg, "ERRAND_TEST_MCP_TOKEN") != NULL);
    setenv("ERRAND_TEST_MCP_TOKEN", "tok-in-env", 1);
    CHECK(er_mcp_config_token(e, &tok, &err) == 0 && strcmp(tok, "tok-in-env") == 0);
    free(tok);
    CHECK(er_mcp_config_token(n, &tok, &err) == 0 && tok == NULL);
    unlink(path);
    CHECK(er_mcp_config_token(f, &tok, &err) == ER_EAUTH && strstr(err.msg, "token_file"));
    CHECK(er_config_set(&cfg, "mcp.f.token", "also", &err) == 0);
    CHECK(er_mcp_config_check(f, &err) == ER_EINVAL && strstr(err.msg, "more than one"));
    er_config_release(&cfg);
}

/* ---- the server's methods against a host that records what it is asked ---- */

typedef struct host_log {
    int asks;
    char agent[32];
} host_log;

static int t_ask(void *ctx, const char *agent, const char *request, char **text, bool *failed,
                 er_error *err)
{
    (void)err;
    host_log *l = ctx;
    l->asks++;
    snprintf(l->agent, sizeof l->agent, "%s", agent ? agent : "(route)");
    *text = strdup(request);
    *failed = false;
    return 0;
}

static int t_resources(void *ctx, cJSON **out, er_error *err)
{
    (void)ctx;
    (void)err;
    *out = cJSON_Parse("[{\"uri\":\"errand://tasks/a\",\"name\":\"a\"}]");
    return 0;
}

static int t_read(void *ctx, const char *uri, char **text, const char **mime, er_error *err)
{
    (void)ctx;
    if (strcmp(uri, "errand://tasks/a") != 0)
        return er_error_set(err, ER_ENOTFOUND, "no");
    *text = strdup("{}");
    *mime = "application/json";
    return 0;
}

/* The answer to text (OWNED), or NULL. */
static cJSON *ask_server(const er_mcp_host *h, const char *text)
{
    return er_mcp_server_handle_text(h, text, strlen(text));
}

static int err_code(const cJSON *a)
{
    return (int)er_json_int(er_json_obj(a, "error"), "code", 0, -100000, 100000);
}

static void test_server(void)
{
    host_log l = { 0 };
    er_mcp_host tools_only = { .ctx = &l, .ask = t_ask };
    er_mcp_host full = { .ctx = &l, .ask = t_ask, .resources = t_resources, .read = t_read };
    cJSON *a = ask_server(&tools_only, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                       "\"params\":{\"protocolVersion\":\"2025-06-18\"}}");
    const cJSON *caps = er_json_obj(er_json_obj(a, "result"), "capabilities");
    CHECK(er_json_obj(caps, "tools") && !er_json_obj(caps, "resources"));
    CHECK(er_str_eq(er_json_str(er_json_obj(a, "result"), "protocolVersion"), "2025-06-18"));
    cJSON_Delete(a);
    a = ask_server(&full, "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"server/discover\"}");
    CHECK(er_json_obj(er_json_obj(er_json_obj(a, "result"), "capabilities"), "resources"));
    CHECK(er_str_eq(er_json_str(a, "id"), "s"));
    cJSON_Delete(a);
    /* Without resources the methods are unknown; with them, answered. */
    a = ask_server(&tools_only, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/list\"}");
    CHECK(err_code(a) == ER_MCP_METHOD_NOT_FOUND);
    cJSON_Delete(a);
    a = ask_server(&full, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/list\"}");
    CHECK(cJSON_GetArraySize(er_json_arr(er_json_obj(a, "result"), "resources")) == 1);
    cJSON_Delete(a);
    a = ask_server(&full, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\","
                          "\"params\":{\"uri\":\"errand://tasks/b\"}}");
    CHECK(err_code(a) == ER_MCP_NOT_FOUND);
    cJSON_Delete(a);
    a = ask_server(&full, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\"}");
    CHECK(err_code(a) == ER_MCP_INVALID_PARAMS);
    cJSON_Delete(a);
    /* Tool calls reach the host with the agent, or none for route. */
    a = ask_server(&full, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"route\",\"arguments\":{\"request\":\"hi\"}}}");
    CHECK(l.asks == 1 && strcmp(l.agent, "(route)") == 0);
    CHECK(!er_json_bool(er_json_obj(a, "result"), "isError", true));
    cJSON_Delete(a);
    a = ask_server(&full, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
                          "{\"name\":\"ask_nobody\",\"arguments\":{\"request\":\"hi\"}}}");
    CHECK(err_code(a) == ER_MCP_INVALID_PARAMS && l.asks == 1);
    cJSON_Delete(a);
    /* Notifications and responses get nothing; junk gets the error for it. */
    CHECK(ask_server(&full, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}") ==
          NULL);
    CHECK(ask_server(&full, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}") == NULL);
    a = ask_server(&full, "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}");
    CHECK(err_code(a) == ER_MCP_INVALID_REQUEST);
    cJSON_Delete(a);
    a = ask_server(&full, "not json");
    CHECK(err_code(a) == ER_MCP_PARSE_ERROR);
    cJSON_Delete(a);
    a = ask_server(&full, "[1]");
    CHECK(err_code(a) == ER_MCP_INVALID_REQUEST);
    cJSON_Delete(a);
}

int main(void)
{
    test_config();
    test_token();
    test_server();
    test_names();
    test_untrusted();
    return check_done();
}
