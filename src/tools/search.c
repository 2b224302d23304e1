/* search.c — the glob and grep tools: walking the workspace tree (skipping
 * .git and never following symlinks, so a link cannot lead the walk outside
 * the root), `**` globs, and POSIX extended regular expressions line by line. */
#include "errand/tool_families.h"
#include "errand/json.h"
#include "errand/alloc.h"
#include "errand/glob.h"
#include "errand/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VISIT_MAX 200000
#define DEPTH_MAX 64
#define GLOB_MAX 1000
#define GREP_MAX 500
#define GREP_FILE_MAX (8u * 1024 * 1024)
#define GREP_LINE_SHOW 300

/* ---- the walk ---- */

typedef struct walker walker;
struct walker {
    const er_workspace *ws;
    const er_tool_ctx *ctx;
    size_t visited;
    bool stop;         /* a cap was reached or the visitor asked to stop */
    bool cancelled;
    /* Called for every file and directory below the start (not the start itself). */
    void (*visit)(walker *w, const char *abs, const char *rel, const struct stat *st);
    void *payload;
};

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory is opened beneath the root (er_workspace_open): one swapped
 * for a symlink during the walk is not followed out. */
static bool walk_cancelled(walker *w);

static size_t list_names(walker *w, const char *dir, char ***out)
{
    int fd;
    DIR *d = NULL;
    if (er_workspace_open(&fd, w->ws, dir, O_RDONLY | O_DIRECTORY, NULL) == 0 &&
        (d = fdopendir(fd)) == NULL)
        close(fd);
    size_t n = 0, cap = 0;
    char **v = NULL;
    struct dirent *de;
    /* A directory of millions of entries is a long loop of its own. */
    while (d && ((n & 1023) != 1023 || !walk_cancelled(w)) && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strcmp(de->d_name, ".git") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            v = er_xrealloc(v, cap * sizeof *v);
        }
        v[n++] = er_xstrdup(de->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(v, n, sizeof *v, by_str);
    *out = v;
    return n;
}

static bool walk_cancelled(walker *w)
{
    if (!w->cancelled && w->ctx->cancel && *w->ctx->cancel)
        w->stop = w->cancelled = true;
    return w->cancelled;
}

static void walk(walker *w, er_buf *path, int depth)
{
    char **names;
    size_t n = list_names(w, path->ptr, &names);
    size_t base = path->len;
    for (size_t i = 0; i < n; i++) {
        if (!w->stop && ++w->visited > VISIT_MAX)
            w->stop = true;
        walk_cancelled(w);   /* one read of a flag: at every entry */
        if (!w->stop) {
            er_buf_printf(path, "/%s", names[i]);
            struct stat st;
            if (!er_workspace_denied(w->ws, path->ptr) && lstat(path->ptr, &st) == 0 &&
                !S_ISLNK(st.st_mode)) {
                w->visit(w, path->ptr, er_workspace_rel(w->ws, path->ptr), &st);
                if (S_ISDIR(st.st_mode) && depth < DEPTH_MAX && !w->stop)
                    walk(w, path, depth + 1);
            }
            path->len = base;
            path->ptr[base] = '\0';
        }
        free(names[i]);
    }
    free(names);
}

static void walk_from(walker *w, const char *start)
{
    er_buf path = ER_BUF_INIT;
    er_buf_puts(&path, start);
    walk(w, &path, 0);
    er_buf_release(&path);
}

/* ---- listing files for other tools (lint) ---- */

typedef struct file_list {
    char **v;
    size_t n, max;
} file_list;

static void list_visit(walker *w, const char *abs, const char *rel, const struct stat *st)
{
    (void)abs;
    file_list *l = w->payload;
    if (!S_ISREG(st->st_mode))
        return;
    if (l->n == l->max) {
        w->stop = true;
        return;
    }
    l->v[l->n++] = er_xstrdup(rel);
}

size_t er_tools_list_files(char ***out, const er_workspace *ws, const char *abs, size_t max)
{
    static const volatile int never = 0;
    er_tool_ctx quiet = { .cancel = &never };
    file_list l = { er_xcalloc(max ? max : 1, sizeof(char *)), 0, max };
    walker w = { ws, &quiet, 0, false, false, list_visit, &l };
    walk_from(&w, abs);
    *out = l.v;
    return l.n;
}

void er_tools_free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- glob patterns ---- */

static bool has_magic(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strchr("*?[", s[i]))
            return true;
    return false;
}

/* Normalises pattern to a workspace-relative form (*out OWNED). */
static int relative_pattern(char **out, const er_workspace *ws, const char *pattern,
                            er_error *err)
{
    const char *p = pattern;
    *out = NULL;
    if (p[0] == '/') {
        if (!er_workspace_contains(ws, p) || strcmp(p, ws->root) == 0)
            return er_error_set(err, ER_EDENIED, "path '%s' is outside the workspace %s", pattern,
                                ws->root);
        p += ws->rootlen + (strcmp(ws->root, "/") != 0);
    }
    while (er_str_starts(p, "./"))
        p += 2;
    for (const char *s = p; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL) {
        if (strncmp(s, "..", 2) == 0 && (s[2] == '/' || s[2] == '\0'))
            return er_error_set(err, ER_EDENIED, "path '%s' is outside the workspace %s", pattern,
                                ws->root);
    }
    size_t segments = 1;
    for (const char *s = p; *s; s++)
        segments += *s == '/';
    if (segments > ER_GLOB_SEGMENTS_MAX)
        return er_error_set(err, ER_EINVAL, "glob: pattern of %zu segments; %d at most", segments,
                            ER_GLOB_SEGMENTS_MAX);
    *out = er_xstrdup(*p ? p : "*");
    return 0;
}

/* The literal directory prefix of a relative pattern ("src/a/" of "src/a/ *.c"). OWNED. */
static char *literal_base(const char *pat)
{
    size_t end = 0;
    for (const char *s = pat; ; ) {
        const char *slash = strchr(s, '/');
        if (!slash || has_magic(s, (size_t)(slash - s)))
            break;
        end = (size_t)(slash - pat) + 1;
        s = slash + 1;
    }
    return end ? er_xstrndup(pat, end - 1) : er_xstrdup(".");
}

/* ---- glob ---- */

typedef struct glob_state {
    const char *pattern;
    cJSON *matches;
    size_t count, cost;
} glob_state;

static void glob_visit(walker *w, const char *abs, const char *rel, const struct stat *st)
{
    (void)abs;
    (void)st;
    glob_state *g = w->payload;
    if (!er_glob_match(g->pattern, rel))
        return;
    g->cost += er_tools_json_cost(rel, strlen(rel)) + 3;
    if (g->count < GLOB_MAX && g->cost < ER_TOOLS_BUDGET) {
        g->count++;
        er_json_append(g->matches, cJSON_CreateString(rel));
    } else {
        w->stop = true;
    }
}

static int glob_body(cJSON *o, const er_workspace *ws, const er_tool_ctx *ctx, const char *pat,
                     er_error *err)
{
    char *base = literal_base(pat);
    char *start = NULL;
    int rc = er_workspace_resolve(&start, ws, base, err);
    free(base);
    if (rc)
        return rc;
    glob_state g = { pat, cJSON_CreateArray(), 0, 0 };
    walker w = { ws, ctx, 0, false, false, glob_visit, &g };
    struct stat st;
    if (stat(start, &st) == 0 && S_ISDIR(st.st_mode))
        walk_from(&w, start);
    free(start);
    er_json_add_str(o, "pattern", pat);
    er_json_add(o, "matches", g.matches);
    er_json_add_num(o, "count", (double)g.count);
    er_json_add_bool(o, "truncated", w.stop && !w.cancelled);
    if (w.cancelled)
        return er_error_set(err, ER_ECANCELLED, "glob: cancelled");
    return 0;
}

static int run_glob(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *pattern = er_json_str(args, "pattern");
    if (er_str_empty(pattern))
        return er_error_set(err, ER_EINVAL, "glob: pattern is empty; try \"**/*.c\"");
    er_workspace ws;
    int rc = er_tools_workspace(&ws, ctx, err);
    if (rc)
        return rc;
    char *pat;
    cJSON *o = cJSON_CreateObject();
    if ((rc = relative_pattern(&pat, &ws, pattern, err)) == 0)
        rc = glob_body(o, &ws, ctx, pat, err);
    if (rc == 0)
        rc = er_tools_emit(out, o, err);
    cJSON_Delete(o);
    free(pat);
    er_workspace_release(&ws);
    return rc;
}

/* ---- grep ---- */

typedef struct grep_state {
    regex_t re;
    const char *filter;     /* glob on the name (or the path when it has a '/') */
    cJSON *matches;
    size_t count, files, skipped, cost;
    er_buf scratch;
} grep_state;

static bool filter_ok(const grep_state *g, const char *rel)
{
    if (!g->filter)
        return true;
    if (strchr(g->filter, '/'))
        return er_glob_match(g->filter, rel);
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    return er_glob_segment(g->filter, strlen(g->filter), base, strlen(base), false);
}

/* False when the match would not fit: the caller stops there. */
static bool add_match(grep_state *g, const char *rel, size_t lineno, const char *line)
{
    er_buf *b = &g->scratch;
    er_buf_reset(b);
    er_buf_printf(b, "%s:%zu:", rel, lineno);
    er_tools_clip(b, line, strlen(line), GREP_LINE_SHOW);
    g->cost += er_tools_json_cost(b->ptr, b->len) + 3;
    if (g->count >= GREP_MAX || g->cost >= ER_TOOLS_BUDGET)
        return false;
    g->count++;
    er_json_append(g->matches, cJSON_CreateString(er_buf_cstr(b)));
    return true;
}

static void grep_text(walker *w, grep_state *g, char *text, size_t len, const char *rel)
{
    size_t lineno = 0;
    for (char *line = text; line < text + len && !w->stop;) {
        if ((lineno & 1023) == 1023 && walk_cancelled(w))
            break;
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        if (nl)
            *nl = '\0';
        lineno++;
        if (regexec(&g->re, line, 0, NULL, 0) == 0 && !add_match(g, rel, lineno, line))
            w->stop = true;
        if (!nl)
            break;
        line = nl + 1;
    }
}

static void grep_file(walker *w, const char *abs, const char *rel, const struct stat *st)
{
    grep_state *g = w->payload;
    if (walk_cancelled(w) || !S_ISREG(st->st_mode) || !filter_ok(g, rel))
        return;
    if ((size_t)st->st_size > GREP_FILE_MAX) {
        g->skipped++;
        return;
    }
    /* Beneath the root, and not blocking on a pipe swapped in since the walk saw a file. */
    int fd;
    struct stat now;
    if (er_workspace_open(&fd, w->ws, abs, O_RDONLY | O_NONBLOCK, NULL) != 0)
        return;
    if (fstat(fd, &now) != 0 || !S_ISREG(now.st_mode) || (size_t)now.st_size > GREP_FILE_MAX) {
        close(fd);
        return;
    }
    char *text = er_xmalloc((size_t)now.st_size + 1);
    ssize_t n = read(fd, text, (size_t)now.st_size);
    close(fd);
    if (n >= 0) {
        text[n] = '\0';
        if (memchr(text, '\0', (size_t)n < 8192 ? (size_t)n : 8192)) {
            g->skipped++;
        } else {
            g->files++;
            grep_text(w, g, text, (size_t)n, rel);
        }
    }
    free(text);
}

static void grep_result(cJSON *o, grep_state *g, const char *pattern, const char *rel,
                        bool capped)
{
    er_json_add_str(o, "pattern", pattern);
    er_json_add_str(o, "path", rel);
    er_json_add(o, "matches", g->matches);
    g->matches = NULL;
    er_json_add_num(o, "count", (double)g->count);
    er_json_add_bool(o, "truncated", capped);
    er_json_add_num(o, "files_searched", (double)g->files);
    er_json_add_num(o, "files_skipped", (double)g->skipped);
}

static int grep_body(cJSON *o, const er_workspace *ws, const er_tool_ctx *ctx,
                     const cJSON *args, grep_state *g, er_error *err)
{
    char *abs = NULL;
    int rc = er_workspace_resolve(&abs, ws, er_json_str(args, "path"), err);
    if (rc)
        return rc;
    const char *rel = er_workspace_rel(ws, abs);
    walker w = { ws, ctx, 0, false, false, grep_file, g };
    struct stat st;
    if (stat(abs, &st) != 0)
        rc = er_error_set(err, ER_ENOTFOUND, "grep: %s does not exist", rel);
    else if (S_ISDIR(st.st_mode))
        walk_from(&w, abs);
    else
        grep_file(&w, abs, rel, &st);
    if (rc == 0 && w.cancelled)
        rc = er_error_set(err, ER_ECANCELLED, "grep: cancelled");
    if (rc == 0)
        grep_result(o, g, er_json_str(args, "pattern"), rel, w.stop);
    free(abs);
    return rc;
}

static int run_grep(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *pattern = er_json_str(args, "pattern");
    if (er_str_empty(pattern))
        return er_error_set(err, ER_EINVAL, "grep: pattern is empty");
    grep_state g;
    memset(&g, 0, sizeof g);
    int flags = REG_EXTENDED | REG_NEWLINE | REG_NOSUB;
    if (er_json_bool(args, "ignore_case", false))
        flags |= REG_ICASE;
    int rc = regcomp(&g.re, pattern, flags);
    if (rc) {
        char msg[128];
        regerror(rc, &g.re, msg, sizeof msg);
        return er_error_set(err, ER_EINVAL, "grep: bad regular expression '%s': %s", pattern, msg);
    }
    g.filter = er_str_empty(er_json_str(args, "glob")) ? NULL : er_json_str(args, "glob");
    g.matches = cJSON_CreateArray();
    er_buf_init(&g.scratch, 0);
    er_workspace ws;
    cJSON *o = cJSON_CreateObject();
    if ((rc = er_tools_workspace(&ws, ctx, err)) == 0) {
        if ((rc = grep_body(o, &ws, ctx, args, &g, err)) == 0)
            rc = er_tools_emit(out, o, err);
        er_workspace_release(&ws);
    }
    cJSON_Delete(o);
    cJSON_Delete(g.matches);
    er_buf_release(&g.scratch);
    regfree(&g.re);
    return rc;
}

static const er_tool search_tools[] = {
    { "glob",
      "Find files and directories of the workspace whose path matches a glob pattern; `**` "
      "matches any number of directories (\"src/**/*.c\"). Results are relative and sorted; "
      ".git is skipped.",
      "{\"type\":\"object\",\"properties\":{"
      "\"pattern\":{\"type\":\"string\",\"description\":\"glob relative to the workspace, e.g. "
      "**/*.py\"}},"
      "\"required\":[\"pattern\"],\"additionalProperties\":false}",
      ER_PERM_READ, "glob PATTERN", run_glob, .idempotent = true },
    { "grep",
      "Search file contents with a POSIX extended regular expression; returns file:line:text "
      "for each matching line. Binary files and .git are skipped.",
      "{\"type\":\"object\",\"properties\":{"
      "\"pattern\":{\"type\":\"string\",\"description\":\"POSIX extended regular expression\"},"
      "\"path\":{\"type\":\"string\",\"description\":\"file or directory to search (default: the "
      "workspace)\"},"
      "\"ignore_case\":{\"type\":\"boolean\",\"description\":\"case-insensitive match\"},"
      "\"glob\":{\"type\":\"string\",\"description\":\"only files whose name matches, e.g. "
      "*.c\"}},"
      "\"required\":[\"pattern\"],\"additionalProperties\":false}",
      ER_PERM_READ, "grep PATTERN [PATH]", run_grep, .idempotent = true },
};

const er_tool_family er_tools_search = { "search", search_tools, ER_ARRAY_LEN(search_tools) };
