/* tools_util.h — helpers shared by the code-tool tests: temporary workspaces,
 * calling a tool by name the way the runtime does (validate, then run), and
 * reading files back. */
#ifndef ERRAND_TEST_TOOLS_UTIL_H
#define ERRAND_TEST_TOOLS_UTIL_H

#include "errand/tool.h"
#include "errand/tool_families.h"
#include "errand/json.h"
#include "errand/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory under /tmp; OWNED. */
static inline char *tu_tempdir(const char *tag)
{
    char *tmpl = er_xasprintf("/tmp/errand-%s-XXXXXX", tag);
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        exit(1);
    }
    return tmpl;
}

/* A fresh directory outside /tmp (in the build directory, ERRAND_TEST_BIN),
 * where a host's real files live: the sandbox always gave commands a /tmp
 * of their own, so a secret under /tmp proves nothing.  OWNED. */
static inline char *tu_hostdir(const char *tag)
{
    const char *base = getenv("ERRAND_TEST_BIN");
    char *tmpl = er_xasprintf("%s/errand-%s-XXXXXX", base && *base ? base : ".", tag);
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        exit(1);
    }
    return tmpl;
}

static inline void tu_rmrf(const char *dir)
{
    char *cmd = er_xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    free(cmd);
}

static inline void tu_write(const char *dir, const char *rel, const char *text)
{
    char *p = er_xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    free(p);
}

/* OWNED contents of dir/rel, or NULL when it cannot be read. */
static inline char *tu_read(const char *dir, const char *rel)
{
    char *p = er_xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(p, "r");
    free(p);
    if (!f)
        return NULL;
    er_buf b = ER_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        er_buf_append(&b, chunk, n);
    fclose(f);
    if (!b.ptr)
        er_buf_puts(&b, "");
    return er_buf_detach(&b);
}

static inline bool tu_exists(const char *dir, const char *rel)
{
    char *p = er_xasprintf("%s/%s", dir, rel);
    struct stat st;
    bool ok = lstat(p, &st) == 0;
    free(p);
    return ok;
}

static inline er_tool_ctx tu_ctx(const char *ws)
{
    er_tool_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.workspace = ws;
    ctx.agent = "test";
    return ctx;
}

/* Validates and runs tool `name` with args (JSON text).  On 0, *result is the
 * parsed output (OWNED); otherwise err says why. */
static inline int tu_call(cJSON **result, const char *name, const er_tool_ctx *ctx,
                          const char *args_json, er_error *err)
{
    *result = NULL;
    const er_tool *t = er_tool_find(name);
    if (!t)
        return er_error_set(err, ER_ENOTFOUND, "no tool %s", name);
    cJSON *args = cJSON_Parse(args_json);
    if (!args)
        return er_error_set(err, ER_EINVAL, "test bug: bad args JSON %s", args_json);
    int rc = er_tool_validate(t, args, err);
    er_buf out = ER_BUF_INIT;
    if (rc == 0)
        rc = t->run(ctx, args, &out, err);
    cJSON_Delete(args);
    if (rc == 0) {
        if (out.len > ER_TOOL_OUTPUT_MAX)
            rc = er_error_set(err, ER_ETOOBIG, "%s wrote %zu bytes, over the cap", name, out.len);
        else if (!(*result = cJSON_Parse(er_buf_cstr(&out))))
            rc = er_error_set(err, ER_EPROTO, "%s wrote invalid JSON: %.200s", name,
                              er_buf_cstr(&out));
    }
    er_buf_release(&out);
    return rc;
}

/* Same, with the args built by printf. */
#define TU_ARGS(...) er_xasprintf(__VA_ARGS__)

static inline bool tu_contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

/* The directory of test data (tests/data/tools). OWNED. */
static inline char *tu_data_path(const char *name)
{
    const char *d = getenv("ERRAND_TEST_DATA");
    if (d && *d)
        return er_xasprintf("%s/tools/%s", d, name);
    return er_xasprintf("%s/tests/data/tools/%s", ERRAND_SOURCE_DIR, name);
}

static inline char *tu_data(const char *name)
{
    char *p = tu_data_path(name);
    char *text = tu_read("/", p[0] == '/' ? p + 1 : p);
    if (!text) {
        fprintf(stderr, "cannot read test data %s\n", p);
        exit(1);
    }
    free(p);
    return text;
}

#endif
