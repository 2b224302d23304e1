/* test_tools_fs.c — the file tools (read_file, write_file, edit_file, list_dir,
 * glob, grep, diff), workspace confinement, errand's own files refused
 * wherever they are, unified diffs, and the schemas of every code tool. */
#include "check.h"
#include "tools_util.h"
#include "errand/diff.h"
#include "errand/workspace.h"
#include "errand/own_files.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static er_error err;

/* Every code tool: a JSON-object schema naming its offline words. */
static void test_schemas(void)
{
    const er_tool_family *fams[] = { &er_tools_fs, &er_tools_search, &er_tools_exec, &er_tools_lint,
                                     &er_tools_test };
    size_t count = 0;
    for (size_t f = 0; f < ER_ARRAY_LEN(fams); f++) {
        for (size_t i = 0; i < fams[f]->ntools; i++) {
            const er_tool *t = &fams[f]->tools[i];
            count++;
            CHECK(er_tool_find(t->name) == t);
            cJSON *s = cJSON_Parse(t->parameters);
            CHECK(s != NULL);
            CHECK(er_str_eq(er_json_str(s, "type"), "object"));
            CHECK(er_json_obj(s, "properties") != NULL);
            CHECK(er_json_arr(s, "required") != NULL);
            CHECK(er_json_bool(s, "additionalProperties", true) == false);
            /* Upper-case words of the offline form (after the command word) are
             * properties, also inside suffixes like PATH[:START[-END]]. */
            char *form = er_xstrdup(t->offline);
            for (char *w = strchr(form, ' '); w && *w;) {
                size_t n = strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
                if (n == 0) {
                    w++;
                    continue;
                }
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)n, w);
                for (char *q = name; *q; q++)
                    *q = *q == '_' ? '_' : (char)(*q + 32);
                if (!cJSON_GetObjectItemCaseSensitive(er_json_obj(s, "properties"), name))
                    fprintf(stderr, "%s: offline word '%s' is not a property\n", t->name, name);
                CHECK(cJSON_GetObjectItemCaseSensitive(er_json_obj(s, "properties"), name));
                w += n;
            }
            free(form);
            cJSON_Delete(s);
        }
    }
    CHECK_INT(count, 10);
    cJSON *bad = cJSON_Parse("{\"path\":\"x\",\"bogus\":1}");
    CHECK(er_tool_validate(er_tool_find("read_file"), bad, &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "bogus"));
    cJSON_Delete(bad);
}

static void test_confinement(const char *ws, const char *outside)
{
    er_workspace w;
    CHECK_OK(er_workspace_init(&w, ws, &err));
    char *abs = er_xasprintf("%s/a", ws);
    CHECK(mkdir(abs, 0755) == 0);
    free(abs);
    CHECK_OK(er_workspace_resolve(&abs, &w, "a/../new.txt", &err));
    CHECK(abs && er_str_ends(abs, "/new.txt") && er_workspace_contains(&w, abs));
    free(abs);
    CHECK(er_workspace_resolve(&abs, &w, "../../etc/passwd", &err) == ER_EDENIED);
    CHECK(tu_contains(err.msg, "path '../../etc/passwd' is outside the workspace /"));
    CHECK(er_workspace_resolve(&abs, &w, "/etc/passwd", &err) == ER_EDENIED);
    CHECK(er_workspace_resolve(&abs, &w, "missing/../../x", &err) == ER_ENOTFOUND);
    CHECK(tu_contains(err.msg, "does not exist"));
    /* Symlinks: out of the root (existing or not yet), dangling, and inside. */
    char *p = er_xasprintf("%s/esc", ws);
    CHECK(symlink(outside, p) == 0);
    free(p);
    p = er_xasprintf("%s/dang", ws);
    char *target = er_xasprintf("%s/not-yet", outside);
    CHECK(symlink(target, p) == 0);
    free(target);
    free(p);
    CHECK(er_workspace_resolve(&abs, &w, "esc/secret.txt", &err) == ER_EDENIED);
    CHECK(er_workspace_resolve(&abs, &w, "esc/new-file.txt", &err) == ER_EDENIED);
    CHECK(er_workspace_resolve(&abs, &w, "dang", &err) == ER_EDENIED);
    CHECK(er_workspace_resolve(&abs, &w, "esc", &err) == ER_EDENIED);
    CHECK_STR(er_workspace_rel(&w, w.root), ".");
    er_workspace_release(&w);
}

static void test_write_read(const char *ws, const char *outside)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK_OK(tu_call(&r, "write_file", &ctx,
                     "{\"path\":\"src/deep/a.txt\",\"content\":"
                     "\"one\\ntwo\\nthree\\nfour\\n\"}",
                     &err));
    CHECK(er_json_bool(r, "created", false));
    CHECK_STR(er_json_str(r, "diff"), "new file");
    CHECK_INT(er_json_num(r, "lines", 0), 4);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "read_file", &ctx, "{\"path\":\"src/deep/a.txt\",\"start\":2,\"end\":3}",
                     &err));
    CHECK_STR(er_json_str(r, "content"), "     2\ttwo\n     3\tthree\n");
    CHECK_INT(er_json_num(r, "total_lines", 0), 4);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "write_file", &ctx,
                     "{\"path\":\"src/deep/a.txt\",\"content\":"
                     "\"one\\nTWO\\nthree\\nfour\\n\"}",
                     &err));
    CHECK(!er_json_bool(r, "created", true));
    CHECK(tu_contains(er_json_str(r, "diff"), "-two\n+TWO\n"));
    CHECK(tu_contains(er_json_str(r, "diff"), "@@ -1,4 +1,4 @@"));
    cJSON_Delete(r);
    /* Out of the workspace, by .., by absolute path, by symlink. */
    CHECK(tu_call(&r, "write_file", &ctx, "{\"path\":\"../escape.txt\",\"content\":\"x\"}", &err) ==
          ER_EDENIED);
    CHECK(tu_contains(err.msg, "is outside the workspace"));
    char *args = TU_ARGS("{\"path\":\"%s/abs.txt\",\"content\":\"x\"}", outside);
    CHECK(tu_call(&r, "write_file", &ctx, args, &err) == ER_EDENIED);
    free(args);
    CHECK(tu_call(&r, "write_file", &ctx, "{\"path\":\"esc/via-link.txt\",\"content\":\"x\"}",
                  &err) == ER_EDENIED);
    CHECK(!tu_exists(outside, "abs.txt") && !tu_exists(outside, "via-link.txt"));
    CHECK(tu_call(&r, "read_file", &ctx, "{\"path\":\"../../etc/passwd\"}", &err) == ER_EDENIED);
    CHECK(tu_call(&r, "read_file", &ctx, "{\"path\":\"esc/secret.txt\"}", &err) == ER_EDENIED);
    CHECK(tu_contains(err.msg, "path 'esc/secret.txt' is outside the workspace"));
}

/* A directory or file swapped for a symlink between er_workspace_resolve()
 * and the use: opening and making directories resolve again beneath the root
 * and refuse, and nothing is read or made outside. */
static void test_races(const char *ws, const char *outside)
{
    er_workspace w;
    CHECK_OK(er_workspace_init(&w, ws, &err));
    char *abs = NULL, *dir = er_xasprintf("%s/race", ws), *moved = er_xasprintf("%s/race.real", ws);
    CHECK(mkdir(dir, 0755) == 0);
    tu_write(ws, "race/in.txt", "inside\n");
    CHECK_OK(er_workspace_resolve(&abs, &w, "race/in.txt", &err));
    int fd = -1;
    CHECK_OK(er_workspace_open(&fd, &w, abs, O_RDONLY, &err));
    close(fd);
    /* The parent directory becomes a symlink to a directory outside. */
    tu_write(outside, "in.txt", "outside\n");
    CHECK(rename(dir, moved) == 0 && symlink(outside, dir) == 0);
    CHECK(er_workspace_open(&fd, &w, abs, O_RDONLY, &err) == ER_EDENIED);
    CHECK(tu_contains(err.msg, "race/in.txt' now leads outside the workspace"));
    CHECK_INT(fd, -1);
    CHECK(er_workspace_open(&fd, &w, dir, O_RDONLY | O_DIRECTORY, &err) == ER_EDENIED);
    free(abs);
    /* The file itself becomes a symlink to a file outside. */
    char *leaf = er_xasprintf("%s/leaf.txt", ws), *secret = er_xasprintf("%s/secret.txt", outside);
    tu_write(ws, "leaf.txt", "leaf\n");
    CHECK_OK(er_workspace_resolve(&abs, &w, "leaf.txt", &err));
    CHECK(unlink(leaf) == 0 && symlink(secret, leaf) == 0);
    CHECK(er_workspace_open(&fd, &w, abs, O_RDONLY, &err) == ER_EDENIED);
    free(abs);
    /* Directories to be made: the first appears as a symlink out. */
    char *fresh = er_xasprintf("%s/fresh", ws);
    CHECK_OK(er_workspace_resolve(&abs, &w, "fresh/sub/new.txt", &err));
    CHECK(symlink(outside, fresh) == 0);
    CHECK(er_workspace_mkdirs(&w, abs, &err) == ER_EDENIED);
    CHECK(!tu_exists(outside, "sub"));
    free(abs);
    CHECK_OK(er_workspace_resolve(&abs, &w, "made/sub/new.txt", &err));
    CHECK_OK(er_workspace_mkdirs(&w, abs, &err));
    CHECK(tu_exists(ws, "made/sub") && !tu_exists(ws, "made/sub/new.txt"));
    free(abs);
    unlink(fresh);
    unlink(leaf);
    unlink(dir);
    CHECK(rename(moved, dir) == 0);
    free(fresh);
    free(leaf);
    free(secret);
    free(dir);
    free(moved);
    er_workspace_release(&w);
}

/* Named pipes are refused at once: opening one to read would wait forever
 * for a writer (the alarm fails the test instead of hanging it). */
static void test_special_files(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    char *fifo = er_xasprintf("%s/pipe.txt", ws);
    CHECK(mkfifo(fifo, 0644) == 0);
    alarm(60);
    cJSON *r;
    CHECK(tu_call(&r, "read_file", &ctx, "{\"path\":\"pipe.txt\"}", &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "pipe.txt is a named pipe, not a regular file"));
    CHECK(tu_call(&r, "edit_file", &ctx, "{\"path\":\"pipe.txt\",\"old\":\"a\",\"new\":\"b\"}",
                  &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "named pipe"));
    CHECK(tu_call(&r, "write_file", &ctx, "{\"path\":\"pipe.txt\",\"content\":\"x\"}", &err) ==
          ER_EINVAL);
    CHECK(tu_contains(err.msg, "not replaced"));
    struct stat st;
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK_OK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"x\",\"path\":\"pipe.txt\"}", &err));
    CHECK_INT(er_json_num(r, "count", -1), 0);
    cJSON_Delete(r);
    alarm(0);
    unlink(fifo);
    free(fifo);
}

static void test_read_edges(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    char *p = er_xasprintf("%s/x.png", ws);
    FILE *f = fopen(p, "wb");
    fwrite("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 1, 16, f);
    fclose(f);
    free(p);
    CHECK(tu_call(&r, "read_file", &ctx, "{\"path\":\"x.png\"}", &err) == ER_EINVAL);
    CHECK_STR(err.msg, "x.png looks binary (NUL bytes); not shown");
    tu_write(ws, "nonl.txt", "alpha\nbeta");
    CHECK_OK(tu_call(&r, "read_file", &ctx, "{\"path\":\"nonl.txt\"}", &err));
    CHECK_INT(er_json_num(r, "total_lines", 0), 2);
    CHECK(tu_contains(er_json_str(r, "content"), "     2\tbeta\n"));
    cJSON_Delete(r);
    CHECK(tu_call(&r, "read_file", &ctx, "{\"path\":\"nonl.txt\",\"start\":9}", &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "has only 2 lines"));
    CHECK(tu_call(&r, "read_file", &ctx, "{\"path\":\"src\"}", &err) == ER_EINVAL);
    CHECK(tu_call(&r, "read_file", &ctx, "{\"path\":\"nope.txt\"}", &err) == ER_ENOTFOUND);
    /* A big file: the output is capped and says where to continue. */
    er_buf big = ER_BUF_INIT;
    for (int i = 0; i < 20000; i++)
        er_buf_printf(&big, "line %d of a long file, padded to be a bit wider\n", i + 1);
    tu_write(ws, "big.txt", big.ptr);
    er_buf_release(&big);
    CHECK_OK(tu_call(&r, "read_file", &ctx, "{\"path\":\"big.txt\"}", &err));
    CHECK(er_json_bool(r, "truncated", false));
    CHECK_INT(er_json_num(r, "total_lines", 0), 20000);
    CHECK(tu_contains(er_json_str(r, "hint"), "start="));
    cJSON_Delete(r);
    /* Text that JSON escapes six-fold still fits the cap (tu_call checks). */
    er_buf ctl = ER_BUF_INIT;
    for (int i = 0; i < 40000; i++)
        er_buf_puts(&ctl, "\x01\x02\x03\"\\\x1b[0m\n");
    tu_write(ws, "ctl.txt", ctl.ptr);
    er_buf_release(&ctl);
    CHECK_OK(tu_call(&r, "read_file", &ctx, "{\"path\":\"ctl.txt\"}", &err));
    CHECK(er_json_bool(r, "truncated", false));
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"0m\",\"path\":\"ctl.txt\"}", &err));
    CHECK(er_json_bool(r, "truncated", false));
    CHECK(er_json_num(r, "count", 0) > 10);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "read_file", &ctx, "{\"path\":\"big.txt\",\"start\":19999}", &err));
    CHECK(tu_contains(er_json_str(r, "content"), " 20000\tline 20000 of"));
    cJSON_Delete(r);
}

static void test_edit(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    tu_write(ws, "x.c", "int a = 1;\nint b = 2;\nint c = 1;\n");
    CHECK(tu_call(&r, "edit_file", &ctx, "{\"path\":\"x.c\",\"old\":\"int z\",\"new\":\"int y\"}",
                  &err) == ER_ENOTFOUND);
    CHECK_STR(err.msg, "no match for the text in x.c; read it again");
    CHECK(tu_call(&r, "edit_file", &ctx,
                  "{\"path\":\"x.c\",\"old\":\"     2\\tint b\",\"new\":\"y\"}",
                  &err) == ER_ENOTFOUND);
    CHECK(tu_contains(err.msg, "line numbers"));
    CHECK(tu_call(&r, "edit_file", &ctx, "{\"path\":\"x.c\",\"old\":\" = 1;\",\"new\":\" = 7;\"}",
                  &err) == ER_EINVAL);
    CHECK_STR(err.msg, "2 matches in x.c; give more context or set replace_all");
    char *before = tu_read(ws, "x.c");
    CHECK_STR(before, "int a = 1;\nint b = 2;\nint c = 1;\n");
    free(before);
    CHECK_OK(tu_call(&r, "edit_file", &ctx,
                     "{\"path\":\"x.c\",\"old\":\"int b = 2;\","
                     "\"new\":\"int b = 3;\"}",
                     &err));
    CHECK_INT(er_json_num(r, "replacements", 0), 1);
    CHECK_STR(er_json_str(r, "diff"), "--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n int a = 1;\n"
                                      "-int b = 2;\n+int b = 3;\n int c = 1;\n");
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "edit_file", &ctx,
                     "{\"path\":\"x.c\",\"old\":\" = 1;\",\"new\":\" = 7;\","
                     "\"replace_all\":true}",
                     &err));
    CHECK_INT(er_json_num(r, "replacements", 0), 2);
    cJSON_Delete(r);
    char *after = tu_read(ws, "x.c");
    CHECK_STR(after, "int a = 7;\nint b = 3;\nint c = 7;\n");
    free(after);
    /* The analyzer's view: every write refused, nothing changed. */
    ctx.workspace_read_only = true;
    CHECK(tu_call(&r, "edit_file", &ctx, "{\"path\":\"x.c\",\"old\":\"int a\",\"new\":\"int q\"}",
                  &err) == ER_EDENIED);
    CHECK_STR(err.msg, "workspace is read-only for the analyzer");
    CHECK(tu_call(&r, "write_file", &ctx, "{\"path\":\"y.c\",\"content\":\"\"}", &err) ==
          ER_EDENIED);
    CHECK(!tu_exists(ws, "y.c"));
}

/* Previews for the approval question: what a write or edit would do, the
 * file left as it was. */
static char *preview(const er_tool_ctx *ctx, const char *tool, const char *args)
{
    cJSON *a = cJSON_Parse(args);
    char *p = er_tool_preview(ctx, er_tool_find(tool), a);
    cJSON_Delete(a);
    return p;
}

static void test_previews(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    tu_write(ws, "p.txt", "one\ntwo\nthree\n");
    char *p = preview(&ctx, "write_file", "{\"path\":\"p.txt\",\"content\":\"one\\nTWO\\n\"}");
    CHECK_STR(p, "overwrites the existing file p.txt: 3 lines now, 2 after\n--- a/p.txt\n"
                 "+++ b/p.txt\n@@ -1,3 +1,2 @@\n one\n-two\n-three\n+TWO\n");
    free(p);
    p = preview(&ctx, "write_file", "{\"path\":\"new/q.txt\",\"content\":\"a\\nb\\n\"}");
    CHECK(p && tu_contains(p, "new file new/q.txt, 2 lines\n") && tu_contains(p, "+a\n+b\n"));
    free(p);
    CHECK(!tu_exists(ws, "new/q.txt") && !tu_exists(ws, "new"));
    p = preview(&ctx, "edit_file", "{\"path\":\"p.txt\",\"old\":\"two\",\"new\":\"2\"}");
    CHECK(p && tu_contains(p, "edits p.txt: 1 replacement\n") && tu_contains(p, "-two\n+2\n"));
    free(p);
    p = preview(&ctx, "edit_file", "{\"path\":\"p.txt\",\"old\":\"zzz\",\"new\":\"2\"}");
    CHECK_STR(p, "will fail: the text to replace is not in p.txt\n");
    free(p);
    p = preview(&ctx, "write_file", "{\"path\":\"../out.txt\",\"content\":\"x\"}");
    CHECK(p && tu_contains(p, "will fail: "));
    free(p);
    p = preview(&ctx, "read_file", "{\"path\":\"p.txt\"}");
    CHECK(p == NULL); /* nothing to preview for a read */
    char *after = tu_read(ws, "p.txt");
    CHECK_STR(after, "one\ntwo\nthree\n");
    free(after);
}

static void test_diff_module(void)
{
    er_buf d = ER_BUF_INIT;
    CHECK_INT(er_diff_unified(&d, "f", "a\nb\n", 4, "a\nb\n", 4), 0);
    CHECK_INT(d.len, 0);
    CHECK_INT(er_diff_unified(&d, "f", "", 0, "x\n", 2), 1);
    CHECK_STR(er_buf_cstr(&d), "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n");
    er_buf_reset(&d);
    CHECK_INT(er_diff_unified(&d, "f", "a\nb", 3, "a\nc", 3), 2);
    CHECK(tu_contains(d.ptr, "-b\n\\ No newline at end of file\n+c\n\\ No newline"));
    er_buf_reset(&d);
    /* Two changes far apart make two hunks. */
    er_buf a = ER_BUF_INIT, b = ER_BUF_INIT;
    for (int i = 1; i <= 30; i++) {
        er_buf_printf(&a, "%d\n", i);
        er_buf_printf(&b, "%d\n", i == 5 ? 500 : i == 25 ? 2500 : i);
    }
    CHECK_INT(er_diff_unified(&d, "f", a.ptr, a.len, b.ptr, b.len), 4);
    CHECK(tu_contains(d.ptr, "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+500\n 6\n"));
    CHECK(tu_contains(d.ptr, "@@ -22,7 +22,7 @@\n"));
    er_buf_release(&a);
    er_buf_release(&b);
    er_buf_release(&d);
}

static void test_list_glob_grep(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    char *g = er_xasprintf("%s/.git", ws);
    mkdir(g, 0755);
    free(g);
    tu_write(ws, ".git/config.c", "int hidden_in_git;\n");
    tu_write(ws, "src/deep/b.c", "int Needle = 1;\n/* needle again */\n");
    tu_write(ws, "src/c.h", "#define NEEDLE 3\n");
    char *empty = er_xasprintf("%s/empty", ws);
    CHECK(mkdir(empty, 0755) == 0);
    free(empty);
    CHECK_OK(tu_call(&r, "list_dir", &ctx, "{\"path\":\"empty\"}", &err));
    CHECK_INT(er_json_num(r, "count", -1), 0);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "list_dir", &ctx, "{\"path\":\"src\"}", &err));
    const cJSON *e = er_json_arr(r, "entries");
    CHECK_INT(cJSON_GetArraySize(e), 2);
    CHECK_STR(er_json_str(cJSON_GetArrayItem(e, 0), "name"), "c.h");
    CHECK_STR(er_json_str(cJSON_GetArrayItem(e, 1), "type"), "dir");
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"**/*.c\"}", &err));
    char *txt = er_json_print(r);
    CHECK(tu_contains(txt, "\"src/deep/b.c\"") && tu_contains(txt, "\"x.c\""));
    CHECK(!tu_contains(txt, ".git"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"src/*\"}", &err));
    CHECK_INT(er_json_num(r, "count", 0), 2);
    cJSON_Delete(r);
    CHECK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"../*\"}", &err) == ER_EDENIED);
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"ignore_case\":true,"
                     "\"glob\":\"*.c\"}",
                     &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "src/deep/b.c:1:int Needle = 1;") &&
          tu_contains(txt, "src/deep/b.c:2:/* needle again */"));
    CHECK(!tu_contains(txt, "c.h") && !tu_contains(txt, "hidden_in_git"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"^#define [A-Z]+ [0-9]$\",\"path\":\"src\"}",
                     &err));
    CHECK_INT(er_json_num(r, "count", 0), 1);
    cJSON_Delete(r);
    CHECK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"a(b\"}", &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "bad regular expression"));
}

/* errand's data, config and state directories (and, from the configuration,
 * its database, config file and log) are refused by every file tool: inside
 * the workspace (a container whose workspace held the data directory gave
 * away the token-signing key to `show data/errand/jwt.secret`), through a
 * symlink, by absolute path, and in walks. */
static void test_own_files(const char *ws, const char *outside)
{
    char *data = er_xasprintf("%s/data", ws), *conf = er_xasprintf("%s/conf", ws);
    char *state = er_xasprintf("%s/state", outside);
    setenv("XDG_DATA_HOME", data, 1);
    setenv("XDG_CONFIG_HOME", conf, 1);
    setenv("XDG_STATE_HOME", state, 1);
    char *mk = er_xasprintf("mkdir -p '%s/errand' '%s/errand'", data, conf);
    CHECK(system(mk) == 0);
    free(mk);
    tu_write(ws, "data/errand/jwt.secret", "SIGNING-KEY-4711\n");
    tu_write(ws, "conf/errand/config", "[llm]\nopenai_api_key = SIGNING-KEY-4711\n");
    tu_write(ws, "data/other.txt", "not errand's\n");
    char *link = er_xasprintf("%s/key", ws), *target = er_xasprintf("%s/errand/jwt.secret", data);
    CHECK(symlink(target, link) == 0);
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    const char *refused[] = {
        "read_file",  "{\"path\":\"data/errand/jwt.secret\"}",
        "read_file",  "{\"path\":\"key\"}",
        "read_file",  "{\"path\":\"conf/errand/config\"}",
        "write_file", "{\"path\":\"data/errand/new.txt\",\"content\":\"x\"}",
        "write_file", "{\"path\":\"data/errand/jwt.secret\",\"content\":\"x\"}",
        "edit_file",  "{\"path\":\"conf/errand/config\",\"old\":\"llm\",\"new\":\"x\"}",
        "list_dir",   "{\"path\":\"data/errand\"}",
        "grep",       "{\"pattern\":\"KEY\",\"path\":\"data/errand\"}",
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(refused); i += 2) {
        CHECK_INT(tu_call(&r, refused[i], &ctx, refused[i + 1], &err), ER_EDENIED);
        CHECK(tu_contains(err.msg, "errand's") && tu_contains(err.msg, "own files"));
    }
    CHECK(!tu_exists(ws, "data/errand/new.txt"));
    char *secret = tu_read(ws, "data/errand/jwt.secret");
    CHECK_STR(secret, "SIGNING-KEY-4711\n");
    free(secret);
    /* Walks skip them: nothing of them is found or named. */
    CHECK_OK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"SIGNING-KEY\"}", &err));
    CHECK_INT(er_json_num(r, "count", -1), 0);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"**/*\"}", &err));
    char *txt = er_json_print(r);
    CHECK(tu_contains(txt, "data/other.txt"));
    CHECK(!tu_contains(txt, "jwt.secret") && !tu_contains(txt, "conf/errand"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "read_file", &ctx, "{\"path\":\"data/other.txt\"}", &err));
    cJSON_Delete(r);
    /* Wherever they are: a workspace of "/" reaches them by absolute path. */
    er_tool_ctx root = tu_ctx("/");
    char *args = TU_ARGS("{\"path\":\"%s\"}", target);
    CHECK_INT(tu_call(&r, "read_file", &root, args, &err), ER_EDENIED);
    CHECK(tu_contains(err.msg, "inside errand's data directory"));
    free(args);
    /* A workspace may neither contain them nor lie inside them. */
    er_own_files own;
    er_own_files_init(&own, NULL);
    CHECK_INT(er_own_files_check_dir(&own, ws, "the workspace", &err), ER_EDENIED);
    CHECK(tu_contains(err.msg, "contains errand's data directory"));
    char *inner = er_xasprintf("%s/errand/sub", data);
    CHECK_INT(er_own_files_check_dir(&own, inner, "the workspace", &err), ER_EDENIED);
    CHECK(tu_contains(err.msg, "lies inside errand's data directory"));
    char *beside = er_xasprintf("%s/beside", outside);
    CHECK_OK(er_own_files_check_dir(&own, beside, "the workspace", &err));
    free(beside);
    er_own_files_release(&own);
    /* The configuration adds the database beside its -wal and -shm files. */
    er_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.database_url = er_xasprintf("sqlite://%s/db/app.db", outside);
    er_own_files_init(&own, &cfg);
    char *wal = er_xasprintf("%s/db/app.db-wal", outside);
    CHECK(er_own_files_find(&own, wal) != NULL);
    CHECK(er_own_files_find(&own, outside) == NULL);
    er_own_files_release(&own);
    free(cfg.database_url);
    free(wal);
    free(inner);
    unsetenv("XDG_DATA_HOME");
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("XDG_STATE_HOME");
    free(link);
    free(target);
    free(data);
    free(conf);
    free(state);
}

static void test_cancel(const char *ws)
{
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "many/f%03d.txt", i);
        if (i == 0) {
            char *d = er_xasprintf("%s/many", ws);
            mkdir(d, 0755);
            free(d);
        }
        tu_write(ws, name, "x\n");
    }
    volatile int stop = 1;
    er_tool_ctx ctx = tu_ctx(ws);
    ctx.cancel = &stop;
    cJSON *r;
    CHECK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"x\"}", &err) == ER_ECANCELLED);
    /* Issue 22: every long loop of the file tools looks at the flag, not only
     * after hundreds of entries. */
    CHECK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"src/**\"}", &err) == ER_ECANCELLED);
    CHECK(tu_call(&r, "list_dir", &ctx, "{\"path\":\"many\"}", &err) == ER_ECANCELLED);
    CHECK(tu_call(&r, "read_file", &ctx, "{\"path\":\"many/f001.txt\"}", &err) == ER_ECANCELLED);
    CHECK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"x\",\"path\":\"many/f002.txt\"}", &err) ==
          ER_ECANCELLED);
}

/* Issue 22: repeated globstars over a deep tree used to take exponential time
 * (8 of them on a 40-deep tree: about a minute); they are linear now. */
static void test_glob_deep(const char *ws)
{
    er_buf rel = ER_BUF_INIT;
    er_buf_puts(&rel, "deep");
    for (int i = 0; i < 40; i++) {
        char *d = er_xasprintf("%s/%s", ws, rel.ptr);
        mkdir(d, 0755);
        free(d);
        er_buf_puts(&rel, "/d");
    }
    rel.len -= 2;
    rel.ptr[rel.len] = '\0';
    er_buf_puts(&rel, "/x.c");
    tu_write(ws, rel.ptr, "int x;\n");
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK_OK(tu_call(&r, "glob", &ctx,
                     "{\"pattern\":\"deep/**/**/**/**/**/**/**/**/**/**/**/**/x.c\"}", &err));
    CHECK_INT(er_json_num(r, "count", 0), 1);
    const cJSON *m = cJSON_GetArrayItem(er_json_arr(r, "matches"), 0);
    CHECK(cJSON_IsString(m) && strcmp(m->valuestring, rel.ptr) == 0);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "glob", &ctx,
                     "{\"pattern\":\"**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/nothing\"}",
                     &err));
    CHECK_INT(er_json_num(r, "count", 0), 0);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"deep/*/*/*/**/d/**/d/**/*.c\"}", &err));
    CHECK_INT(er_json_num(r, "count", 0), 1);
    cJSON_Delete(r);
    er_buf_release(&rel);
}

/* The repository's configuration may name commands git would run for diff
 * and status (an fsmonitor hook, filter drivers, textconv): diff, a read tool
 * used without approval, runs none of them.  The marker outside shows the
 * hook did not run where nothing confines it; the diff text shows the filter
 * and textconv did not run anywhere. */
static void test_git_config_runs_nothing(const char *ws)
{
    char *marker = er_xasprintf("%s.hook-ran", ws);
    char *cmd = er_xasprintf("cd '%s' && git config core.fsmonitor 'touch %s; false' && "
                             "git config filter.evil.clean 'sed s/^/FILTERED-/' && git config "
                             "filter.evil.required true && "
                             "git config diff.evil.textconv 'sed s/^/TEXTCONV-/' && "
                             "printf '*.c filter=evil diff=evil\\n' > .git/info/attributes",
                             ws, marker);
    CHECK(system(cmd) == 0);
    free(cmd);
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK_OK(tu_call(&r, "diff", &ctx, "{}", &err));
    const char *d = er_json_str(r, "diff");
    CHECK(tu_contains(d, "+int a = 8;"));
    CHECK(!tu_contains(d, "FILTERED-") && !tu_contains(d, "TEXTCONV-"));
    cJSON_Delete(r);
    CHECK(access(marker, F_OK) != 0);
    unlink(marker);
    free(marker);
}

static void test_git_diff(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK(tu_call(&r, "diff", &ctx, "{}", &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "not a git repository"));
    char *cmd = er_xasprintf("cd '%s' && git init -q . && git -c user.email=t@e -c user.name=t "
                             "add x.c && git -c user.email=t@e -c user.name=t commit -qm init",
                             ws);
    CHECK(system(cmd) == 0);
    free(cmd);
    tu_write(ws, "x.c", "int a = 8;\nint b = 3;\nint c = 7;\n");
    CHECK_OK(tu_call(&r, "diff", &ctx, "{}", &err));
    CHECK(tu_contains(er_json_str(r, "diff"), "-int a = 7;\n+int a = 8;"));
    char *txt = er_json_print(r);
    CHECK(tu_contains(txt, "\"untracked\":[") && tu_contains(txt, "nonl.txt"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "diff", &ctx, "{\"path\":\"nonl.txt\"}", &err));
    CHECK(er_json_bool(r, "clean", false));
    cJSON_Delete(r);
    test_git_config_runs_nothing(ws);
}

int main(void)
{
    char *ws = tu_tempdir("fs");
    char *outside = tu_tempdir("outside");
    tu_write(outside, "secret.txt", "secret\n");
    test_schemas();
    test_confinement(ws, outside);
    test_write_read(ws, outside);
    test_read_edges(ws);
    test_races(ws, outside);
    test_special_files(ws);
    test_edit(ws);
    test_previews(ws);
    test_diff_module();
    test_list_glob_grep(ws);
    test_git_diff(ws);
    test_cancel(ws);
    test_own_files(ws, outside);
    test_glob_deep(ws);
    tu_rmrf(ws);
    tu_rmrf(outside);
    free(ws);
    free(outside);
    return check_done();
}
