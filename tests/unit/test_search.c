/* test_search.c — the search tools at ripgrep's level (issue 20): git's ignore
 * rules checked against git itself (`git ls-files --others --exclude-standard`
 * on a hand-made tree with every rule form and on generated ones), the regex
 * dialect of grep.h, and every option of grep, glob and list_dir on a fixture
 * with hidden files, a binary file, a symlink loop, a 2 GB sparse file and
 * non-UTF-8 names and contents. */
#include "check.h"
#include "tools_util.h"
#include "errand/config.h"
#include "errand/env.h"
#include "errand/grep.h"
#include "errand/offline.h"
#include "errand/ignore.h"
#include "errand/walk.h"
#include "errand/workspace.h"
#include "errand/str.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static er_error err;

/* Writes dir/rel, making its parent directories. */
static void put(const char *dir, const char *rel, const char *text)
{
    char *p = er_xasprintf("%s/%s", dir, rel);
    for (char *s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    free(p);
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct names {
    char **v;
    size_t n;
} names;

static void names_add(names *l, const char *s, size_t n)
{
    l->v = er_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = er_xstrndup(s, n);
}

static void names_free(names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* The untracked files git does not ignore under root, sorted. */
static names git_files(const char *root)
{
    names l = { 0 };
    char *cmd = er_xasprintf("cd '%s' && git ls-files -z --others --exclude-standard", root);
    FILE *p = popen(cmd, "r");
    free(cmd);
    er_buf b = ER_BUF_INIT;
    char chunk[4096];
    size_t n;
    while (p && (n = fread(chunk, 1, sizeof chunk, p)) > 0)
        er_buf_append(&b, chunk, n);
    if (p)
        CHECK(pclose(p) == 0);
    for (size_t i = 0; i < b.len;) {
        size_t len = strlen(b.ptr + i);
        names_add(&l, b.ptr + i, len);
        i += len + 1;
    }
    er_buf_release(&b);
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, by_str);
    return l;
}

static void collect(er_walker *w, int dirfd, const char *name, const char *abs, const char *rel,
                    enum er_walk_type type)
{
    (void)dirfd;
    (void)name;
    (void)abs;
    if (type == ER_WALK_FILE)
        names_add(w->payload, rel, strlen(rel));
}

/* The files our walk keeps (hidden ones too, as git lists them), sorted. */
static names walk_files(const char *root)
{
    names l = { 0 };
    er_workspace ws;
    CHECK_OK(er_workspace_init(&ws, root, &err));
    er_walker w = { .ws = &ws, .hidden = true, .visit = collect, .payload = &l };
    er_walk(&w, ws.root);
    er_workspace_release(&ws);
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, by_str);
    return l;
}

/* Our walk and git agree on root; prints the difference when they do not. */
static bool agrees_with_git(const char *root)
{
    names g = git_files(root), o = walk_files(root);
    bool same = g.n == o.n;
    for (size_t i = 0; same && i < g.n; i++)
        same = strcmp(g.v[i], o.v[i]) == 0;
    if (!same) {
        fprintf(stderr, "ignore rules differ from git's in %s\n", root);
        for (size_t i = 0; i < g.n; i++)
            fprintf(stderr, "  git:    %s\n", g.v[i]);
        for (size_t i = 0; i < o.n; i++)
            fprintf(stderr, "  errand: %s\n", o.v[i]);
    }
    names_free(&g);
    names_free(&o);
    return same;
}

static void git_init(const char *root)
{
    char *cmd = er_xasprintf("cd '%s' && git init -q . 2>/dev/null", root);
    CHECK(system(cmd) == 0);
    free(cmd);
}

static bool has_git(void)
{
    return system("git --version > /dev/null 2>&1") == 0;
}

/* Every rule form of gitignore(5), nested files, info/exclude and a global
 * excludes file named by core.excludesFile in a test HOME. */
static void test_rules_like_git(const char *home)
{
    char *root = tu_tempdir("ignore");
    git_init(root);
    put(home, ".gitconfig", "[user]\n\tname = t\n[core]\n\texcludesFile = ~/global-ignore\n");
    put(home, "global-ignore", "*.globalign\n");
    put(root, ".git/info/exclude", "# local\nexcluded_by_info\n");
    put(root, ".gitignore",
        "# a comment\n"
        "*.log\n"
        "!keep.log\n"
        "/build/\n"
        "node_modules/\n"
        "doc/**/*.pdf\n"
        "**/tmp\n"
        "a/**/z\n"
        "\\#hash\n"
        "\\!bang\n"
        "trailing\\ \n"
        "spaces   \n"
        "foo/*\n"
        "!foo/bar\n"
        "vendor\n"
        "!vendor/keep.txt\n"
        "*.[oa]\n"
        "dironly/\n"
        "mid/**\n"
        "!mid/keep\n"
        "x?.txt\n"
        "[!q]1.md\n");
    put(root, "sub/.gitignore", "!*.log\n/anch.txt\ndeep/\n");
    const char *files[] = {
        "keep.log",
        "x.log",
        "build/a.c",
        "sub/build/b.c",
        "node_modules/m.js",
        "x/node_modules/n.js",
        "doc/a/b/c.pdf",
        "doc/c.pdf",
        "doc/c.txt",
        "tmp/t",
        "q/tmp/t2",
        "a/z",
        "a/b/c/z",
        "a/zz",
        "#hash",
        "!bang",
        "trailing ",
        "spaces",
        "foo/bar",
        "foo/baz",
        "vendor/keep.txt",
        "x.o",
        "x.a",
        "x.c",
        "dironly",
        "s/dironly/f",
        "sub/y.log",
        "sub/anch.txt",
        "sub/q/anch.txt",
        "sub/deep/f",
        "sub/x/deep/f",
        "excluded_by_info",
        "z.globalign",
        ".hidden/f",
        "normal.c",
        "mid/keep",
        "mid/a/b",
        "x1.txt",
        "x12.txt",
        "a1.md",
        "q1.md",
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(files); i++)
        put(root, files[i], "text\n");
    CHECK(agrees_with_git(root));
    /* The same set, checked by name: what git leaves in and what it leaves out. */
    names o = walk_files(root);
    char *all = NULL;
    for (size_t i = 0; i < o.n; i++) {
        char *next = er_xasprintf("%s|%s", all ? all : "", o.v[i]);
        free(all);
        all = next;
    }
    CHECK(tu_contains(all, "|keep.log|") && !tu_contains(all, "|x.log|"));
    CHECK(tu_contains(all, "|sub/build/b.c|") && !tu_contains(all, "|build/a.c|"));
    CHECK(!tu_contains(all, "vendor/keep.txt")); /* no re-include inside an ignored dir */
    CHECK(tu_contains(all, "|sub/y.log|") && tu_contains(all, "|sub/q/anch.txt|"));
    CHECK(!tu_contains(all, "z.globalign") && !tu_contains(all, "excluded_by_info"));
    CHECK(tu_contains(all, "|.hidden/f|") && tu_contains(all, "|foo/bar|"));
    free(all);
    names_free(&o);
    tu_rmrf(root);
    free(root);
}

/* Random trees and random rule files, each compared with git. */
/* ---- grep under threads: the same output whatever their number ---- */

static er_env *threads_env;

/* grep's whole result with agent.grep_threads = threads, as text (OWNED);
 * "error: ..." when it fails. */
static char *grep_threads(const char *ws, const char *threads, const char *args)
{
    if (!threads_env) {
        er_config *cfg = er_xcalloc(1, sizeof *cfg);
        CHECK_OK(er_config_load(cfg, NULL, &err));
        CHECK_OK(er_env_new(&threads_env, cfg, &err));
    }
    CHECK_OK(er_config_set(er_env_config(threads_env), "agent.grep_threads", threads, &err));
    er_tool_ctx ctx = tu_ctx(ws);
    ctx.env = threads_env;
    cJSON *r;
    int rc = tu_call(&r, "grep", &ctx, args, &err);
    char *out = rc == 0 ? er_json_print(r) : er_xasprintf("error: %s", err.msg);
    cJSON_Delete(r);
    return out;
}

/* Runs args with 1 thread and with each of more, and checks the results
 * are the same text; returns the one-thread result (OWNED). */
static char *same_with_threads(const char *ws, const char *args)
{
    static const char *const more[] = { "2", "3", "8" };
    char *one = grep_threads(ws, "1", args);
    for (size_t i = 0; i < ER_ARRAY_LEN(more); i++) {
        char *n = grep_threads(ws, more[i], args);
        bool same = strcmp(one, n) == 0;
        CHECK(same);
        if (!same)
            fprintf(stderr, "grep %s\n  1 thread:  %.600s\n  %s threads: %.600s\n", args, one,
                    more[i], n);
        free(n);
    }
    return one;
}

/* A tree of a few hundred files of uneven sizes (one large enough to take a
 * thread a while), nested ignore rules, hidden and binary files. */
static char *threads_tree(void)
{
    char *root = tu_tempdir("grepthreads");
    unsigned seed = 7;
    for (int i = 0; i < 400; i++) {
        seed = seed * 1103515245u + 12345u;
        char rel[128];
        snprintf(rel, sizeof rel, "%s/d%u/%s%03d.%s", (seed >> 8) % 2 ? "src" : "lib",
                 (seed >> 12) % 7, (seed >> 16) % 11 == 0 ? "." : "f", i,
                 (seed >> 20) % 5 == 0 ? "log" : "c");
        er_buf text = ER_BUF_INIT;
        int lines = (int)((seed >> 4) % 60) + (i == 123 ? 40000 : 0);
        for (int l = 0; l < lines; l++) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 9 == 0)
                er_buf_printf(&text, "int needle_%u = %d; /* Needle %s */\n", (seed >> 4) % 100, l,
                              (seed >> 8) % 3 ? "here" : "and a long tail of words");
            else
                er_buf_printf(&text, "line %d of file %d, nothing to see\n", l, i);
        }
        put(root, rel, text.ptr ? text.ptr : "");
        er_buf_release(&text);
    }
    put(root, ".gitignore", "*.log\n!src/d3/*.log\n");
    put(root, "src/d2/.gitignore", "f1*\n");
    char *bin = er_xasprintf("%s/src/d1/blob.c", root);
    FILE *f = fopen(bin, "w");
    if (f) {
        fwrite("needle\0\0\0needle\n", 1, 16, f);
        fclose(f);
    }
    free(bin);
    return root;
}

static void test_threads(void)
{
    char *root = threads_tree();
    static const char *const queries[] = {
        "{\"pattern\":\"needle_\\\\d+\",\"max_results\":100000}",
        "{\"pattern\":\"needle\",\"context\":2,\"max_results\":100000}",
        "{\"pattern\":\"Needle here\",\"before\":1,\"after\":3,\"max_results\":100000}",
        "{\"pattern\":\"needle\",\"ignore_case\":true,\"output_mode\":\"count\"}",
        "{\"pattern\":\"needle_4\\\\d\",\"output_mode\":\"files_with_matches\"}",
        ("{\"pattern\":\"\\\\w+_\\\\d+ =\",\"hidden\":true,\"no_ignore\":true,"
         "\"output_mode\":\"count\"}"),
        "{\"pattern\":\"here \\\\*/\\\\nint\",\"multiline\":true,\"max_results\":100000}",
        "{\"pattern\":\"needle\",\"glob\":\"src/**\",\"type\":\"c\",\"output_mode\":\"count\"}",
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(queries); i++)
        free(same_with_threads(root, queries[i]));
    /* Caps: content stops at the same line with the same totals and the
     * walk's counts where it stopped; lists are cut with exact totals. */
    static const char *const capped[] = {
        "{\"pattern\":\"needle\",\"max_results\":1}",
        "{\"pattern\":\"needle\",\"max_results\":37}",
        "{\"pattern\":\"needle\",\"context\":3,\"max_results\":250}",
        "{\"pattern\":\"needle\"}",                   /* the default cap of 500 lines */
        "{\"pattern\":\"n\",\"max_results\":100000}", /* the output budget */
        "{\"pattern\":\"needle\",\"output_mode\":\"count\",\"max_results\":5}",
        "{\"pattern\":\"needle\",\"output_mode\":\"files_with_matches\",\"max_results\":3}",
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(capped); i++) {
        char *one = same_with_threads(root, capped[i]);
        cJSON *r = cJSON_Parse(one);
        CHECK(er_json_bool(r, "truncated", false));
        cJSON *list = cJSON_GetObjectItem(r, "matches");
        if (!list)
            list = cJSON_GetObjectItem(r, "counts");
        if (!list)
            list = cJSON_GetObjectItem(r, "files");
        CHECK(cJSON_GetArraySize(list) > 0);
        cJSON_Delete(r);
        free(one);
    }
    /* A count list capped at 5 still counts every match. */
    char *all = grep_threads(root, "3", "{\"pattern\":\"needle\",\"output_mode\":\"count\"}");
    char *cut = grep_threads(
        root, "3", "{\"pattern\":\"needle\",\"output_mode\":\"count\",\"max_results\":5}");
    cJSON *a = cJSON_Parse(all), *c = cJSON_Parse(cut);
    CHECK(er_json_num(a, "count", 0) > 1000);
    CHECK_INT(er_json_num(c, "count", 0), er_json_num(a, "count", 0));
    CHECK_INT(er_json_num(c, "files_matched", 0), er_json_num(a, "files_matched", 0));
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(c, "counts")), 5);
    cJSON_Delete(a);
    cJSON_Delete(c);
    free(all);
    free(cut);
    /* Content capped at 37 lines: 37 shown, and the match that did not fit counted. */
    char *c37 = grep_threads(root, "8", "{\"pattern\":\"needle\",\"max_results\":37}");
    cJSON *r37 = cJSON_Parse(c37);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r37, "matches")), 37);
    CHECK_INT(er_json_num(r37, "count", 0), 38);
    cJSON_Delete(r37);
    free(c37);
    tu_rmrf(root);
    free(root);
}

/* ---- files_with_matches read a chunk at a time ---- */

/* Writes n bytes to dir/rel (NULs and all). */
static void put_bytes(const char *dir, const char *rel, const char *p, size_t n)
{
    char *path = er_xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(p, 1, n, f) == n);
        fclose(f);
    }
    free(path);
}

/* Appends filler lines (64 bytes, no match) until b holds exactly off bytes. */
static void pad_to(er_buf *b, size_t off)
{
    while (b->len + 64 <= off)
        er_buf_puts(b, "filler filler filler filler filler filler filler filler fill.\n");
    while (b->len + 1 < off)
        er_buf_putc(b, 'f');
    if (b->len < off)
        er_buf_putc(b, '\n');
}

/* files_with_matches and count (read a chunk at a time) against content
 * (the file read whole): the same files, the same count per file, the same
 * totals, with 1 to 8 threads; want lists the files, one per line. */
static void lists_agree(const char *root, const char *pattern_json, const char *want)
{
    char *files =
        er_xasprintf("{\"pattern\":%s,\"output_mode\":\"files_with_matches\"}", pattern_json);
    char *counts = er_xasprintf("{\"pattern\":%s,\"output_mode\":\"count\"}", pattern_json);
    char *lines = er_xasprintf("{\"pattern\":%s,\"max_results\":100000}", pattern_json);
    char *l = same_with_threads(root, files);
    char *c = same_with_threads(root, counts);
    char *w = grep_threads(root, "1", lines);
    cJSON *lr = cJSON_Parse(l), *cr = cJSON_Parse(c), *wr = cJSON_Parse(w);
    er_buf got = ER_BUF_INIT, counted = ER_BUF_INIT, whole = ER_BUF_INIT, named = ER_BUF_INIT;
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(lr, "files"))
    {
        er_buf_printf(&got, "%s\n", it->valuestring);
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(cr, "counts"))
    {
        er_buf_printf(&counted, "%s\n", it->valuestring);
    }
    /* content's "file:line:text" lines, as count's "file:n" */
    char prev[256] = "";
    size_t n = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(wr, "matches"))
    {
        size_t k = strcspn(it->valuestring, ":");
        if (n && (strlen(prev) != k || strncmp(prev, it->valuestring, k) != 0)) {
            er_buf_printf(&whole, "%s:%zu\n", prev, n);
            er_buf_printf(&named, "%s\n", prev);
            n = 0;
        }
        snprintf(prev, sizeof prev, "%.*s", (int)k, it->valuestring);
        n++;
    }
    if (n) {
        er_buf_printf(&whole, "%s:%zu\n", prev, n);
        er_buf_printf(&named, "%s\n", prev);
    }
    bool ok = strcmp(er_buf_cstr(&got), want) == 0 && strcmp(er_buf_cstr(&named), want) == 0 &&
              strcmp(er_buf_cstr(&counted), er_buf_cstr(&whole)) == 0;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "grep %s\n  want:\n%s  listed:\n%s  counted:\n%s  content:\n%s",
                pattern_json, want, er_buf_cstr(&got), er_buf_cstr(&counted), er_buf_cstr(&whole));
    CHECK(!er_json_bool(wr, "truncated", false));
    CHECK_INT(er_json_num(cr, "count", 0), er_json_num(wr, "count", 0));
    static const char *const totals[] = { "files_searched", "files_matched", "binary_skipped" };
    for (size_t i = 0; i < ER_ARRAY_LEN(totals); i++) {
        CHECK_INT(er_json_num(lr, totals[i], -1), er_json_num(wr, totals[i], -2));
        CHECK_INT(er_json_num(cr, totals[i], -1), er_json_num(wr, totals[i], -2));
    }
    er_buf_release(&got);
    er_buf_release(&counted);
    er_buf_release(&whole);
    er_buf_release(&named);
    cJSON_Delete(lr);
    cJSON_Delete(cr);
    cJSON_Delete(wr);
    free(l);
    free(c);
    free(w);
    free(files);
    free(counts);
    free(lines);
}

static void test_chunk_borders(void)
{
    char *root = tu_tempdir("grepchunks");
    const size_t chunk = 64 * 1024;
    er_buf b = ER_BUF_INIT;
    /* The needle cut by a chunk border at every offset, and just either side. */
    for (int cut = -8; cut <= 8; cut++) {
        er_buf_reset(&b);
        pad_to(&b, chunk - 40);
        er_buf_puts(&b, "xxxxxxxxxxxxxxxxx"); /* the needle's line starts before the border */
        size_t at = (size_t)((long)chunk + cut) - b.len;
        for (size_t i = 0; i < at; i++)
            er_buf_putc(&b, 'y');
        er_buf_puts(&b, "needle_border tail\n");
        pad_to(&b, 3 * chunk);
        char rel[64];
        snprintf(rel, sizeof rel, "cut%+d.txt", cut);
        put(root, rel, er_buf_cstr(&b));
    }
    /* A line that starts exactly at a border, anchored. */
    er_buf_reset(&b);
    pad_to(&b, chunk);
    er_buf_puts(&b, "anchored_line here\n");
    pad_to(&b, chunk + 5000);
    put(root, "linestart.txt", er_buf_cstr(&b));
    /* Large: a line longer than two chunks with the match at its end; the
     * match only in a last line with no newline, 3 MB in; no match in 3 MB. */
    er_buf_reset(&b);
    pad_to(&b, 1000);
    for (size_t i = 0; i < 2 * chunk + 777; i++)
        er_buf_putc(&b, 'z');
    er_buf_puts(&b, "needle_long\nafter\n");
    put(root, "longline.txt", er_buf_cstr(&b));
    er_buf_reset(&b);
    pad_to(&b, 3 * 1024 * 1024);
    er_buf_puts(&b, "needle_last_line");
    put(root, "large_last.txt", er_buf_cstr(&b));
    er_buf_reset(&b);
    pad_to(&b, 3 * 1024 * 1024 + 13);
    put(root, "large_none.txt", er_buf_cstr(&b));
    /* Binary: a NUL in the first 8 KiB of a 2 MB file is binary (skipped,
     * counted) whatever it holds; one after them is text (as ripgrep). */
    er_buf_reset(&b);
    pad_to(&b, 100);
    er_buf_putc(&b, '\0');
    er_buf_puts(&b, "needle_border\n");
    pad_to(&b, 2 * 1024 * 1024);
    put_bytes(root, "zbin_early.dat", b.ptr, b.len);
    er_buf_reset(&b);
    pad_to(&b, 9000);
    er_buf_putc(&b, '\0');
    er_buf_puts(&b, "\nneedle_border\n");
    pad_to(&b, 2 * 1024 * 1024);
    put_bytes(root, "zbin_late.dat", b.ptr, b.len);
    /* Many matching lines of uneven lengths, some across borders: counted once each. */
    er_buf_reset(&b);
    for (unsigned i = 0, seed = 3; b.len < 6 * chunk; i++) {
        seed = seed * 1103515245u + 12345u;
        for (unsigned k = (seed >> 16) % 3000; k; k--)
            er_buf_putc(&b, 'q');
        er_buf_printf(&b, "%sneedle_many %u\n", (seed >> 8) % 4 ? "" : "\n", i);
    }
    put(root, "many.txt", er_buf_cstr(&b));
    /* A multiline match across a border: the whole file is searched. */
    er_buf_reset(&b);
    pad_to(&b, chunk - 10);
    er_buf_puts(&b, "begin_pair\n");
    er_buf_puts(&b, "end_pair\n");
    pad_to(&b, 2 * chunk);
    put(root, "multi.txt", er_buf_cstr(&b));
    er_buf_release(&b);

    lists_agree(root, "\"needle_border\"",
                "cut+0.txt\ncut+1.txt\ncut+2.txt\ncut+3.txt\ncut+4.txt\ncut+5.txt\n"
                "cut+6.txt\ncut+7.txt\ncut+8.txt\ncut-1.txt\ncut-2.txt\ncut-3.txt\n"
                "cut-4.txt\ncut-5.txt\ncut-6.txt\ncut-7.txt\ncut-8.txt\nzbin_late.dat\n");
    lists_agree(root, "\"border tail$\"",
                "cut+0.txt\ncut+1.txt\ncut+2.txt\ncut+3.txt\ncut+4.txt\ncut+5.txt\n"
                "cut+6.txt\ncut+7.txt\ncut+8.txt\ncut-1.txt\ncut-2.txt\ncut-3.txt\n"
                "cut-4.txt\ncut-5.txt\ncut-6.txt\ncut-7.txt\ncut-8.txt\n");
    lists_agree(root, "\"^anchored_line\"", "linestart.txt\n");
    lists_agree(root, "\"z{100}needle_long$\"", "longline.txt\n");
    lists_agree(root, "\"needle_last_line$\"", "large_last.txt\n");
    lists_agree(root, "\"needle_\\\\w+\"",
                "cut+0.txt\ncut+1.txt\ncut+2.txt\ncut+3.txt\ncut+4.txt\ncut+5.txt\n"
                "cut+6.txt\ncut+7.txt\ncut+8.txt\ncut-1.txt\ncut-2.txt\ncut-3.txt\n"
                "cut-4.txt\ncut-5.txt\ncut-6.txt\ncut-7.txt\ncut-8.txt\nlarge_last.txt\n"
                "longline.txt\nmany.txt\nzbin_late.dat\n");
    lists_agree(root, "\"no_such_thing\"", "");
    char *m = same_with_threads(root, "{\"pattern\":\"begin_pair\\\\nend_pair\",\"multiline\":true,"
                                      "\"output_mode\":\"files_with_matches\"}");
    CHECK(tu_contains(m, "\"files\":[\"multi.txt\"]"));
    CHECK(tu_contains(m, "\"binary_skipped\":1"));
    free(m);
    tu_rmrf(root);
    free(root);
}

/* Files of sizes either side of the first read (64 KiB for the lists and
 * counts, 256 KiB for content) and of the chunk: a first read that fills
 * its buffer asks the file's size, one short of it is the whole file.  The
 * match last, with and without a final newline; an empty file and a
 * one-line one; the line numbers content gives for the last line. */
static void test_first_read(void)
{
    char *root = tu_tempdir("grepfirst");
    static const size_t sizes[] = { 64 * 1024, 256 * 1024 };
    er_buf b = ER_BUF_INIT, want = ER_BUF_INIT;
    char *lines[ER_ARRAY_LEN(sizes) * 3 * 2];
    size_t nlines = 0;
    for (size_t i = 0; i < ER_ARRAY_LEN(sizes); i++) {
        for (int d = -1; d <= 1; d++) {
            for (int nl = 0; nl <= 1; nl++) {
                size_t size = (size_t)((long)sizes[i] + d);
                const char *needle = nl ? "needle_edge\n" : "needle_edge";
                er_buf_reset(&b);
                pad_to(&b, size - strlen(needle));
                size_t line = 1;
                for (size_t k = 0; k < b.len; k++)
                    line += b.ptr[k] == '\n';
                er_buf_puts(&b, needle);
                CHECK_INT(b.len, size);
                char rel[64];
                snprintf(rel, sizeof rel, "s%zu%s.txt", size, nl ? "nl" : "");
                put(root, rel, er_buf_cstr(&b));
                er_buf_printf(&want, "%s\n", rel);
                lines[nlines++] = er_xasprintf("\"%s:%zu:needle_edge\"", rel, line);
            }
        }
    }
    put(root, "empty.txt", "");
    put(root, "one.txt", "needle_edge");
    er_buf_release(&b);
    /* The list in byte order of names. */
    char **v = NULL;
    size_t n = 0;
    for (const char *s = er_buf_cstr(&want); *s; s = strchr(s, '\n') + 1) {
        v = er_xrealloc(v, (n + 1) * sizeof *v);
        v[n++] = er_xstrndup(s, strcspn(s, "\n"));
    }
    v = er_xrealloc(v, (n + 1) * sizeof *v);
    v[n++] = er_xstrdup("one.txt");
    qsort(v, n, sizeof *v, by_str);
    er_buf sorted = ER_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        er_buf_printf(&sorted, "%s\n", v[i]);
        free(v[i]);
    }
    free(v);
    lists_agree(root, "\"needle_edge$\"", er_buf_cstr(&sorted));
    lists_agree(root, "\"^needle_edge\"", er_buf_cstr(&sorted));
    char *c = same_with_threads(root, "{\"pattern\":\"needle_edge\",\"max_results\":1000}");
    for (size_t i = 0; i < nlines; i++) {
        CHECK(tu_contains(c, lines[i]));
        if (!tu_contains(c, lines[i]))
            fprintf(stderr, "missing %s in %.400s\n", lines[i], c);
        free(lines[i]);
    }
    CHECK(tu_contains(c, "\"one.txt:1:needle_edge\""));
    cJSON *r = cJSON_Parse(c);
    CHECK_INT(er_json_num(r, "files_searched", -1), 14); /* the empty file among them */
    cJSON_Delete(r);
    free(c);
    er_buf_release(&want);
    er_buf_release(&sorted);
    tu_rmrf(root);
    free(root);
}

/* A FIFO is not a file to search, named outright or met in the walk, and
 * cannot hang it (nobody writes to it). */
static void test_fifo(void)
{
    char *root = tu_tempdir("grepfifo");
    put(root, "a.txt", "needle\n");
    char *fifo = er_xasprintf("%s/pipe", root);
    CHECK(mkfifo(fifo, 0644) == 0);
    static const char *const modes[] = { "content", "files_with_matches", "count" };
    for (size_t i = 0; i < ER_ARRAY_LEN(modes); i++) {
        char *args = er_xasprintf("{\"pattern\":\"needle\",\"output_mode\":\"%s\"}", modes[i]);
        char *all = grep_threads(root, "2", args);
        cJSON *r = cJSON_Parse(all);
        CHECK_INT(er_json_num(r, "files_searched", -1), 1);
        CHECK_INT(er_json_num(r, "files_matched", -1), 1);
        cJSON_Delete(r);
        free(all);
        free(args);
        args = er_xasprintf("{\"pattern\":\"needle\",\"path\":\"pipe\",\"output_mode\":\"%s\"}",
                            modes[i]);
        char *one = grep_threads(root, "1", args);
        r = cJSON_Parse(one);
        CHECK(r != NULL);
        CHECK_INT(er_json_num(r, "files_searched", -1), 0);
        CHECK_INT(er_json_num(r, "count", -1), 0);
        cJSON_Delete(r);
        free(one);
        free(args);
    }
    free(fifo);
    tu_rmrf(root);
    free(root);
}

static void test_random_trees(void)
{
    static const char *const pool[] = {
        "*.c",      "!d.c",      "a/",        "/b",    "a/**/c", "**/b/*.txt", "!*.txt",
        "c",        "*.log",     "!/a/e.log", "b/d.c", "[ab]",   "?",          "!b",
        "**/e.log", "a/*/f.txt", "/*.txt",    "d.*",   "!c/",    "**/a",       "b/**",
        "*",        "!*/",       "e.log/",    "\\!x",  "#c",     "a/b/",       "!a/b/d.c",
    };
    static const char *const fnames[] = { "a", "b", "c", "d.c", "e.log", "f.txt" };
    static const char *const dnames[] = { "a", "b", "c" };
    unsigned seed = 20;
    for (int round = 0; round < 40; round++) {
        char *root = tu_tempdir("ignrand");
        git_init(root);
        /* Directories to three levels, each with some files and maybe rules. */
        for (int i = 0; i < 24; i++) {
            char rel[256] = "";
            int depth = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3;
            for (int d = 0; d < depth; d++) {
                size_t k = ((seed = seed * 1103515245u + 12345u) >> 16) % ER_ARRAY_LEN(dnames);
                strcat(rel, dnames[k]);
                strcat(rel, "/");
            }
            size_t k = ((seed = seed * 1103515245u + 12345u) >> 16) % ER_ARRAY_LEN(fnames);
            char path[300];
            snprintf(path, sizeof path, "%s%s", rel, fnames[k]);
            struct stat st;
            char *abs = er_xasprintf("%s/%s", root, path);
            /* A name already used for a directory (or the other way) is skipped. */
            bool clash = false;
            for (char *s = strchr(abs + strlen(root) + 1, '/'); s && !clash;
                 s = strchr(s + 1, '/')) {
                *s = '\0';
                clash = stat(abs, &st) == 0 && !S_ISDIR(st.st_mode);
                *s = '/';
            }
            if (!clash && !(stat(abs, &st) == 0 && S_ISDIR(st.st_mode)))
                put(root, path, "x\n");
            free(abs);
            if ((seed >> 20) % 3 == 0) {
                er_buf rules = ER_BUF_INIT;
                int nrules = 1 + (int)((seed >> 8) % 4);
                for (int r = 0; r < nrules; r++) {
                    size_t p = ((seed = seed * 1103515245u + 12345u) >> 16) % ER_ARRAY_LEN(pool);
                    er_buf_printf(&rules, "%s\n", pool[p]);
                }
                char *gi = er_xasprintf("%s.gitignore", rel);
                char *dir = er_xasprintf("%s/%s", root, rel);
                if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                    put(root, gi, rules.ptr);
                free(dir);
                free(gi);
                er_buf_release(&rules);
            }
        }
        bool same = agrees_with_git(root);
        CHECK(same);
        /* Searched with one thread or several: the same result. */
        free(same_with_threads(root, "{\"pattern\":\"x\"}"));
        free(same_with_threads(root, "{\"pattern\":\"x\",\"output_mode\":\"count\","
                                     "\"max_results\":2}"));
        free(same_with_threads(root, "{\"pattern\":\"x\",\"max_results\":3}"));
        if (!same) {
            char *cmd = er_xasprintf("cd '%s' && find . -name .gitignore -exec sh -c "
                                     "'echo \"== $1\"; cat \"$1\"' _ {} \\; >&2",
                                     root);
            if (system(cmd) != 0)
                fprintf(stderr, "could not show the rules\n");
            free(cmd);
        }
        tu_rmrf(root);
        free(root);
    }
}

/* Rules pushed by hand: precedence and the special forms without git. */
static void test_rules_direct(void)
{
    er_ignore *ig = er_ignore_new("/nonexistent-top", "/nonexistent-top");
    const char *top = "*.o\n!keep.o\nlib/\n/only_top\n";
    er_ignore_push_text(ig, "", top, strlen(top));
    const char *sub = "!*.o\n";
    er_ignore_push_text(ig, "sub", sub, strlen(sub));
    CHECK(er_ignore_match(ig, "/nonexistent-top/a.o", false));
    CHECK(!er_ignore_match(ig, "/nonexistent-top/keep.o", false));
    CHECK(!er_ignore_match(ig, "/nonexistent-top/sub/a.o", false)); /* closer level wins */
    CHECK(er_ignore_match(ig, "/nonexistent-top/x/lib", true));
    CHECK(!er_ignore_match(ig, "/nonexistent-top/x/lib", false)); /* directories only */
    CHECK(er_ignore_match(ig, "/nonexistent-top/only_top", false));
    CHECK(!er_ignore_match(ig, "/nonexistent-top/sub/only_top", false));
    CHECK(!er_ignore_match(ig, "/elsewhere/a.o", false));
    er_ignore_free(ig);
}

/* .ignore and .errandignore: read like .gitignore, outranking it. */
static void test_ignore_files(void)
{
    char *root = tu_tempdir("ignfiles");
    put(root, ".gitignore", "*.gen\n");
    put(root, ".ignore", "!keep.gen\nsecret/\n");
    put(root, ".errandignore", "big.txt\n");
    put(root, "a.gen", "x\n");
    put(root, "keep.gen", "x\n");
    put(root, "secret/s.txt", "x\n");
    put(root, "big.txt", "x\n");
    put(root, "ok.txt", "x\n");
    names o = walk_files(root);
    /* Outside a repository the ignore files of the workspace still apply. */
    size_t kept = 0;
    for (size_t i = 0; i < o.n; i++)
        kept += strcmp(o.v[i], "keep.gen") == 0 || strcmp(o.v[i], "ok.txt") == 0;
    CHECK_INT(kept, 2);
    CHECK_INT(o.n, 5); /* plus the three ignore files themselves (hidden=true) */
    names_free(&o);
    tu_rmrf(root);
    free(root);
}

/* The walker opens only the ignore files a directory lists: their bits,
 * and a level entered with none of them read. */
static void test_ignore_listed(void)
{
    unsigned g = er_ignore_file_bit(".gitignore"), i = er_ignore_file_bit(".ignore"),
             e = er_ignore_file_bit(".errandignore");
    CHECK(g && i && e && g != i && g != e && i != e);
    CHECK_INT(er_ignore_file_bit(".git"), 0);
    CHECK_INT(er_ignore_file_bit("gitignore"), 0);
    CHECK_INT(er_ignore_file_bit(".gitignore~"), 0);
    CHECK_INT(er_ignore_file_bit(".ignores"), 0);
    char *root = tu_tempdir("ignlisted");
    put(root, "sub/.gitignore", "*.o\n");
    put(root, "sub/.errandignore", "*.tmp\n");
    char *sub = er_xasprintf("%s/sub", root), *o = er_xasprintf("%s/sub/a.o", root),
         *tmp = er_xasprintf("%s/sub/a.tmp", root);
    er_ignore *ig = er_ignore_new(root, root);
    int fd = open(sub, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    er_ignore_enter_listed(ig, fd, sub, 0);
    CHECK(!er_ignore_match(ig, o, false));
    CHECK(!er_ignore_match(ig, tmp, false));
    er_ignore_leave(ig);
    er_ignore_enter_listed(ig, fd, sub, g);
    CHECK(er_ignore_match(ig, o, false));
    CHECK(!er_ignore_match(ig, tmp, false));
    er_ignore_leave(ig);
    er_ignore_enter_listed(ig, fd, sub, g | i | e); /* .ignore listed but gone: no harm */
    CHECK(er_ignore_match(ig, o, false));
    CHECK(er_ignore_match(ig, tmp, false));
    er_ignore_leave(ig);
    close(fd);
    er_ignore_free(ig);
    /* Through the walk, hidden names listed or skipped. */
    put(root, "sub/a.o", "x\n");
    put(root, "sub/a.tmp", "x\n");
    put(root, "sub/a.c", "x\n");
    names w = walk_files(root);
    size_t seen = 0;
    for (size_t k = 0; k < w.n; k++)
        seen += strstr(w.v[k], "a.o") != NULL || strstr(w.v[k], "a.tmp") != NULL;
    CHECK_INT(seen, 0);
    names_free(&w);
    char *l = grep_threads(root, "1", "{\"pattern\":\"x\",\"output_mode\":\"files_with_matches\"}");
    CHECK(tu_contains(l, "\"files\":[\"sub/a.c\"]"));
    free(l);
    free(sub);
    free(o);
    free(tmp);
    tu_rmrf(root);
    free(root);
}

/* ---- the regex dialect ---- */

typedef struct hits {
    char lines[512];
    const char *text;
} hits;

static bool record(size_t start, size_t end, void *payload)
{
    hits *h = payload;
    size_t n = strlen(h->lines);
    snprintf(h->lines + n, sizeof h->lines - n, "[%.*s]", (int)(end - start), h->text + start);
    return true;
}

/* The matching lines of text, each in brackets; "ERR" when scanning fails. */
static const char *scan(const char *pattern, const char *text, er_grep_opts o)
{
    static hits h;
    memset(&h, 0, sizeof h);
    h.text = text;
    er_grep *g;
    if (er_grep_new(&g, pattern, &o, &err) != 0)
        return "BAD";
    if (er_grep_scan(g, text, strlen(text), NULL, record, &h) != 0)
        snprintf(h.lines, sizeof h.lines, "ERR");
    er_grep_free(g);
    return h.lines;
}

static void test_dialect(void)
{
    er_grep *g0;
    er_grep_opts plain = { 0 }, ic = { .ignore_case = true }, smart = { .smart_case = true };
    er_grep_opts fixed = { .fixed_strings = true }, multi = { .multiline = true };
    CHECK_STR(scan("\\d+", "abc\n123\nx9\n", plain), "[123][x9]");
    CHECK_STR(scan("\\bfoo\\b", "foobar\nfoo bar\nbarfoo\n", plain), "[foo bar]");
    CHECK_STR(scan("\\w+\\s+\\w+", "one\ntwo words\n", plain), "[two words]");
    CHECK_STR(scan("a.*?b", "xaxxbyyb\nab\n", plain), "[xaxxbyyb][ab]");
    CHECK_STR(scan("(?i)hello", "HeLLo there\nbye\n", plain), "[HeLLo there]");
    CHECK_STR(scan("foo(?=bar)", "foobaz\nfoobar\n", plain), "[foobar]");
    CHECK_STR(scan("(?<!x)y", "xy\nzy\n", plain), "[zy]");
    CHECK_STR(scan("\\s+$", "clean\ntrailing  \nend", plain), "[trailing  ]");
    CHECK_STR(scan("^$", "a\n\nb\n", plain), "[]");
    CHECK_STR(scan("^b", "a\nb\nab\n", plain), "[b]");
    CHECK_STR(scan("y", "x\ny", plain), "[y]");              /* a last line without a newline */
    CHECK_STR(scan("a\\sb", "a\nb\na b\n", plain), "[a b]"); /* no match through a newline */
    CHECK_STR(scan("a\\nb", "a\nb\nc\n", multi), "[a\nb]");
    CHECK_STR(scan("^fn.*\\{\\n\\s+return", "fn x() {\n    return 1;\n}\n", multi),
              "[fn x() {\n    return 1;]");
    CHECK_STR(scan("a.b", "axb\na.b\n", fixed), "[a.b]");
    CHECK_STR(scan("A.B", "a.b\n", (er_grep_opts){ .fixed_strings = true, .ignore_case = true }),
              "[a.b]");
    CHECK_STR(scan("needle", "NEEDLE\nneedle\n", ic), "[NEEDLE][needle]");
    CHECK_STR(scan("needle", "NEEDLE\nneedle\n", smart), "[NEEDLE][needle]");
    CHECK_STR(scan("Needle", "NEEDLE\nNeedle\n", smart), "[Needle]");
    CHECK_STR(scan("\\bsnake", "Snake\nxsnake\n", smart), "[Snake]"); /* \\b is no capital */
    CHECK_STR(scan("\\bSnake", "snake\nSnake\n", smart), "[Snake]");
    CHECK_STR(scan("caf\xc3\xa9", "caf\xc3\xa9\ncafe\n\xff\xfe caf\xc3\xa9\n", plain),
              "[caf\xc3\xa9][\xff\xfe caf\xc3\xa9]");
    CHECK_STR(scan("x", "", plain), "");
    /* The prefilter's literal: only what every match must hold. */
    struct {
        const char *pat, *lit;
    } lits[] = {
        { "hello_world", "hello_world" },
        { "foo\\d+barbaz", "barbaz" },
        { "colou?r", "colo" },
        { "(abc)+def", "def" },
        { "a|bcd", NULL },
        { "(?i)abc", NULL },
        { "ab*c", "a" },
        { "x[abc]yz", "yz" },
        { "\\.txt$", ".txt" },
        { "a{0,3}bb", "bb" },
        { "\\bstd::vec", "std::vec" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(lits); i++) {
        er_grep *g;
        CHECK_OK(er_grep_new(&g, lits[i].pat, &plain, &err));
        const char *got = er_grep_literal(g);
        if (!er_str_eq(got, lits[i].lit))
            fprintf(stderr, "literal of %s: %s, want %s\n", lits[i].pat, got ? got : "(none)",
                    lits[i].lit ? lits[i].lit : "(none)");
        CHECK(er_str_eq(got, lits[i].lit));
        er_grep_free(g);
    }
    /* Without case the literal is looked for in both cases of its letters. */
    CHECK_OK(er_grep_new(&g0, "\\bMuTeX_lock\\b", &ic, &err));
    CHECK_STR(er_grep_literal(g0), "mutex_lock");
    er_grep_free(g0);
    CHECK_STR(scan("\\bmutex\\b", "a MUTEX b\nmutexes\nxmutex\nMuTeX\n", ic), "[a MUTEX b][MuTeX]");
    CHECK_STR(
        scan("Q9", "q9\nQ9\nq8\n", (er_grep_opts){ .fixed_strings = true, .ignore_case = true }),
        "[q9][Q9]");
    /* The prefilter must not lose matches the regex would find. */
    CHECK_STR(scan("colou?r", "color\ncolour\ncolr\n", plain), "[color][colour]");
    CHECK_STR(scan("ab*c", "ac\nabbc\nbc\n", plain), "[ac][abbc]");
    /* A bad pattern: PCRE2's message and where it stopped. */
    er_grep *g;
    CHECK(er_grep_new(&g, "a(b", &plain, &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "missing closing parenthesis") && tu_contains(err.msg, "offset 3"));
    CHECK(er_grep_new(&g, "x{2,1}", &plain, &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "offset"));
    /* Catastrophic backtracking ends at the match limit, not in a hang. */
    char evil[64];
    memset(evil, 'a', 40);
    strcpy(evil + 40, "!\n");
    CHECK_STR(scan("^(a|aa)+$", evil, plain), "ERR");
}

/* ---- the tools ---- */

static void test_tools(void)
{
    char *ws = tu_tempdir("search");
    git_init(ws);
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    char *p;
    put(ws, ".gitignore", "node_modules/\nbuild/\n*.min.js\n");
    put(ws, "node_modules/lib/index.js", "const needle = 1;\n");
    put(ws, "build/out.c", "int needle;\n");
    put(ws, "src/app.js", "// needle in js\nlet x = 1;\n");
    put(ws, "src/app.min.js", "needle\n");
    put(ws, "src/main.c",
        "#include <stdio.h>\n\nint main(void)\n{\n    int needle = 2;\n"
        "    return needle - 2;\n}\n");
    put(ws, "src/util.h", "int NEEDLE_MAX;\n");
    put(ws, "src/z.py", "def needle():\n    pass\n");
    put(ws, ".env", "NEEDLE=secret\n");
    put(ws, ".config/x.c", "int needle;\n");
    p = er_xasprintf("%s/bin.dat", ws);
    FILE *bf = fopen(p, "wb");
    CHECK(bf && fwrite("needle\0binary\n", 1, 14, bf) == 14);
    if (bf)
        fclose(bf);
    free(p);
    put(ws, "notes.txt", "line1\nline2\nneedle here\nline4\nline5\nline6\nneedle again\nline8\n");
    /* A non-UTF-8 name and content. */
    put(ws, "latin\xe9.txt", "na\xefve needle\n");
    /* A symlink loop and a 2 GB sparse file. */
    p = er_xasprintf("%s/loop", ws);
    CHECK(symlink(".", p) == 0);
    free(p);
    p = er_xasprintf("%s/sparse.img", ws);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && ftruncate(fd, 2LL * 1024 * 1024 * 1024) == 0);
    close(fd);
    free(p);

    /* Defaults: ignored, hidden and binary files skipped; sorted by path. */
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"output_mode\":"
                     "\"files_with_matches\"}",
                     &err));
    char *txt = er_json_print(r);
    CHECK(tu_contains(txt, "\"files\":[\"latin\xef\xbf\xbd.txt\",\"notes.txt\",\"src/app.js\","
                           "\"src/main.c\",\"src/z.py\"]"));
    CHECK(!tu_contains(txt, "node_modules") && !tu_contains(txt, "build/") &&
          !tu_contains(txt, "min.js") && !tu_contains(txt, ".env") && !tu_contains(txt, ".config"));
    CHECK_INT(er_json_num(r, "binary_skipped", -1), 2); /* bin.dat and the sparse file */
    CHECK(er_json_num(r, "ignored", 0) >= 3);
    CHECK(er_json_num(r, "hidden_skipped", 0) >= 2);
    free(txt);
    cJSON_Delete(r);
    /* hidden and no_ignore bring them back; .git is never searched. */
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"output_mode\":"
                     "\"files_with_matches\",\"hidden\":true,\"no_ignore\":true,"
                     "\"ignore_case\":true}",
                     &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "node_modules/lib/index.js") && tu_contains(txt, "build/out.c") &&
          tu_contains(txt, "src/app.min.js") && tu_contains(txt, ".env") &&
          tu_contains(txt, ".config/x.c") && !tu_contains(txt, ".git/"));
    free(txt);
    cJSON_Delete(r);
    /* Content with line numbers, and context around matches. */
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"path\":\"notes.txt\","
                     "\"context\":1}",
                     &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "[\"notes.txt-2-line2\",\"notes.txt:3:needle here\","
                           "\"notes.txt-4-line4\",\"--\",\"notes.txt-6-line6\","
                           "\"notes.txt:7:needle again\",\"notes.txt-8-line8\"]"));
    CHECK_INT(er_json_num(r, "count", 0), 2);
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"path\":\"notes.txt\","
                     "\"before\":4,\"after\":0}",
                     &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "[\"notes.txt-1-line1\",\"notes.txt-2-line2\",\"notes.txt:3:needle "
                           "here\",\"notes.txt-4-line4\",\"notes.txt-5-line5\","
                           "\"notes.txt-6-line6\",\"notes.txt:7:needle again\"]"));
    free(txt);
    cJSON_Delete(r);
    /* Counts per file, type and glob filters. */
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"output_mode\":\"count\","
                     "\"type\":\"c\",\"smart_case\":true}",
                     &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "\"counts\":[\"src/main.c:2\",\"src/util.h:1\"]"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"output_mode\":"
                     "\"files_with_matches\",\"glob\":\"*.{js,py}\"}",
                     &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "\"files\":[\"src/app.js\",\"src/z.py\"]"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"output_mode\":"
                     "\"files_with_matches\",\"glob\":\"src/** !*.py\"}",
                     &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "\"files\":[\"src/app.js\",\"src/main.c\"]"));
    free(txt);
    cJSON_Delete(r);
    CHECK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"x\",\"type\":\"cobol\"}", &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "unknown type 'cobol'") && tu_contains(err.msg, "py"));
    /* Fixed strings, multiline, a bad pattern through the tool. */
    CHECK_OK(
        tu_call(&r, "grep", &ctx, "{\"pattern\":\"needle - 2;\",\"fixed_strings\":true}", &err));
    CHECK_INT(er_json_num(r, "count", 0), 1);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"main\\\\(void\\\\)\\\\n\\\\{\","
                     "\"multiline\":true}",
                     &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "\"src/main.c:3:int main(void)\",\"src/main.c:4:{\""));
    free(txt);
    cJSON_Delete(r);
    CHECK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"(?<=a+)b\"}", &err) == ER_EINVAL);
    CHECK(tu_contains(err.msg, "grep: bad regular expression") && tu_contains(err.msg, "offset"));
    /* The cap: said, with a hint. */
    CHECK_OK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"line\",\"max_results\":3}", &err));
    CHECK(er_json_bool(r, "truncated", false));
    CHECK(er_json_str(r, "hint") != NULL);
    CHECK_INT(cJSON_GetArraySize(er_json_arr(r, "matches")), 3);
    cJSON_Delete(r);
    /* A capped list still counts every file. */
    CHECK_OK(tu_call(&r, "grep", &ctx,
                     "{\"pattern\":\"needle\",\"max_results\":2,"
                     "\"output_mode\":\"files_with_matches\"}",
                     &err));
    CHECK(er_json_bool(r, "truncated", false));
    CHECK_INT(cJSON_GetArraySize(er_json_arr(r, "files")), 2);
    CHECK_INT(er_json_num(r, "count", 0), 5);
    cJSON_Delete(r);
    /* Non-UTF-8 contents come back as valid JSON text. */
    CHECK_OK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"na.+ve\"}", &err));
    CHECK_INT(er_json_num(r, "count", 0), 1);
    cJSON_Delete(r);

    /* glob and list_dir follow the same rules. */
    CHECK_OK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"**/*.js\"}", &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "\"matches\":[\"src/app.js\"]"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"**/*.js\",\"no_ignore\":true}", &err));
    CHECK_INT(er_json_num(r, "count", 0), 3);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "glob", &ctx, "{\"pattern\":\"**/*.c\",\"hidden\":true}", &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, ".config/x.c") && !tu_contains(txt, "build/out.c"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "glob", &ctx, "{\"pattern\":\".config/*\"}", &err)); /* named outright */
    CHECK_INT(er_json_num(r, "count", 0), 1);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "list_dir", &ctx, "{}", &err));
    txt = er_json_print(r);
    CHECK(!tu_contains(txt, "node_modules") && !tu_contains(txt, ".env") &&
          !tu_contains(txt, "\".git\"") && tu_contains(txt, "\"src\""));
    CHECK_INT(er_json_num(r, "ignored", 0), 2);
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "list_dir", &ctx, "{\"hidden\":true,\"no_ignore\":true}", &err));
    txt = er_json_print(r);
    CHECK(tu_contains(txt, "node_modules") && tu_contains(txt, ".env"));
    free(txt);
    cJSON_Delete(r);
    CHECK_OK(tu_call(&r, "list_dir", &ctx, "{\"path\":\"src\"}", &err));
    CHECK_INT(er_json_num(r, "count", 0), 4); /* app.min.js left out */
    cJSON_Delete(r);

    /* Cancellation reaches the scan of a large file. */
    er_buf big = ER_BUF_INIT;
    for (int i = 0; i < 200000; i++)
        er_buf_puts(&big, "some ordinary line of text without the word\n");
    put(ws, "big.txt", big.ptr);
    er_buf_release(&big);
    volatile int stop = 1;
    ctx.cancel = &stop;
    CHECK(tu_call(&r, "grep", &ctx, "{\"pattern\":\"w[aeiou]rd\",\"path\":\"big.txt\"}", &err) ==
          ER_ECANCELLED);
    tu_rmrf(ws);
    free(ws);
}

/* Offline plain commands take grep's options as ripgrep spells them. */
static void check_offline(const char *line, const char *want)
{
    const er_tool *t = NULL;
    cJSON *args = NULL;
    int rc = er_offline_parse_command(er_tools_search.tools, er_tools_search.ntools, line, &t,
                                      &args, &err);
    char *got = rc == 0 ? er_json_print(args) : er_xasprintf("error: %s", err.msg);
    if (!tu_contains(got, want))
        fprintf(stderr, "%s\n  got  %s\n  want %s\n", line, got, want);
    CHECK(tu_contains(got, want));
    free(got);
    cJSON_Delete(args);
}

static void test_offline(void)
{
    check_offline("grep -i -C 2 --type c needle src",
                  "{\"ignore_case\":true,\"context\":2,\"type\":\"c\",\"pattern\":\"needle\","
                  "\"path\":\"src\"}");
    check_offline("grep -l -g '*.{js,ts}' TODO", "\"output_mode\":\"files_with_matches\"");
    check_offline("grep -c -A1 -B=3 x", "error: grep: before must be an integer");
    check_offline("grep", "options: -i -S -F -U -C N -A N -B N -t TYPE -g GLOB -m N -l -c");
    check_offline("grep -c -A1 -B 3 x", "{\"output_mode\":\"count\",\"after\":1,\"before\":3,"
                                        "\"pattern\":\"x\"}");
    check_offline("grep --hidden --no-ignore --max-results=5 x .",
                  "{\"hidden\":true,\"no_ignore\":true,\"max_results\":5,\"pattern\":\"x\","
                  "\"path\":\".\"}");
    check_offline("grep x src -F", "{\"pattern\":\"x\",\"path\":\"src\",\"fixed_strings\":true}");
    check_offline("grep -- -i", "{\"pattern\":\"-i\"}");
    check_offline("grep '-i' src", "{\"pattern\":\"-i\",\"path\":\"src\"}");
    check_offline("grep -foo", "{\"pattern\":\"-foo\"}");
    check_offline("grep --count --files-with-matches x", "\"output_mode\":\"files_with_matches\"");
    check_offline("grep -C many x", "error: grep: context must be an integer");
    check_offline("glob --hidden '**/*.yml'", "{\"hidden\":true,\"pattern\":\"**/*.yml\"}");
}

int main(void)
{
    char *home = tu_tempdir("home");
    setenv("HOME", home, 1);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("GIT_DIR");
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    test_rules_direct();
    test_ignore_files();
    test_dialect();
    test_offline();
    test_threads();
    test_chunk_borders();
    test_first_read();
    test_fifo();
    test_ignore_listed();
    if (has_git()) {
        test_rules_like_git(home);
        test_random_trees();
        test_tools();
    } else {
        fprintf(stderr, "git is missing: the comparisons with git were skipped\n");
    }
    er_env_close(threads_env);
    tu_rmrf(home);
    free(home);
    return check_done();
}
