/* test_mcp.c — the [mcp.NAME] settings, tool names, and MCP tools counting as
 * untrusted (mcp.h, tool.h). */
#include "../check.h"
#include "errand/config.h"
#include "errand/mcp.h"
#include "errand/tool.h"

#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    test_config();
    test_names();
    test_untrusted();
    return check_done();
}
