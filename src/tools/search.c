/* search.c — the glob and grep tools over the workspace walk (walk.h: git's
 * ignore rules, hidden names, .git never entered, symlinks never followed):
 * `**` globs, and grep's options as ripgrep offers them over the matcher of
 * grep.h — output modes, context lines, glob and type filters, binary files
 * counted and skipped, a result cap that says so. */
#include "errand/tool_families.h"
#include "errand/json.h"
#include "errand/alloc.h"
#include "errand/glob.h"
#include "errand/grep.h"
#include "errand/str.h"
#include "errand/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define GLOB_MAX         1000
#define GREP_LINES_MAX   500  /* default cap on lines shown */
#define GREP_FILES_MAX   1000 /* default cap on files listed or counted */
#define GREP_CONTEXT_MAX 50
#define GREP_FILE_MAX    (512u * 1024 * 1024)
#define GREP_SNIFF_FIRST (1024 * 1024) /* larger files: the first block is read alone first */
#define GREP_LINE_SHOW   300
#define BINARY_SNIFF     8192

/* ---- listing files for other tools (lint) ---- */

typedef struct file_list {
    char **v;
    size_t n, max;
} file_list;

static void list_visit(er_walker *w, int dirfd, const char *name, const char *abs, const char *rel,
                       enum er_walk_type type)
{
    (void)dirfd;
    (void)name;
    (void)abs;
    file_list *l = w->payload;
    if (type != ER_WALK_FILE)
        return;
    if (l->n == l->max) {
        w->stop = true;
        return;
    }
    l->v[l->n++] = er_xstrdup(rel);
}

size_t er_tools_list_files(char ***out, const er_workspace *ws, const char *abs, size_t max)
{
    file_list l = { er_xcalloc(max ? max : 1, sizeof(char *)), 0, max };
    er_walker w = { .ws = ws, .visit = list_visit, .payload = &l };
    er_walk(&w, abs);
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
static int relative_pattern(char **out, const er_workspace *ws, const char *pattern, er_error *err)
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
    for (const char *s = pat;;) {
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

static void glob_visit(er_walker *w, int dirfd, const char *name, const char *abs, const char *rel,
                       enum er_walk_type type)
{
    (void)dirfd;
    (void)name;
    (void)abs;
    (void)type;
    glob_state *g = w->payload;
    if (!er_glob_match(g->pattern, rel))
        return;
    g->cost += er_tools_json_cost(rel, strlen(rel)) + 3;
    if (g->count < GLOB_MAX && g->cost < ER_TOOLS_BUDGET) {
        g->count++;
        er_buf shown = ER_BUF_INIT;
        er_buf_put_utf8(&shown, rel, strlen(rel));
        er_json_append(g->matches, cJSON_CreateString(er_buf_cstr(&shown)));
        er_buf_release(&shown);
    } else {
        w->stop = true;
    }
}

/* A pattern that names a hidden segment (".github/ **") asks for hidden files. */
static bool names_hidden(const char *pat)
{
    for (const char *s = pat; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL)
        if (s[0] == '.' && s[1] != '/' && s[1] != '\0' && !(s[1] == '.' && (s[2] == '/' || !s[2])))
            return true;
    return false;
}

static void add_skipped(cJSON *o, const er_walker *w)
{
    er_json_add_num(o, "ignored", (double)w->ignored);
    er_json_add_num(o, "hidden_skipped", (double)w->hidden_skipped);
}

static int glob_body(cJSON *o, const er_workspace *ws, const er_tool_ctx *ctx, const char *pat,
                     const cJSON *args, er_error *err)
{
    char *base = literal_base(pat);
    char *start = NULL;
    int rc = er_workspace_resolve(&start, ws, base, err);
    free(base);
    if (rc)
        return rc;
    glob_state g = { pat, cJSON_CreateArray(), 0, 0 };
    er_walker w = { .ws = ws,
                    .cancel = ctx->cancel,
                    .visit = glob_visit,
                    .payload = &g,
                    .hidden = er_json_bool(args, "hidden", false) || names_hidden(pat),
                    .no_ignore = er_json_bool(args, "no_ignore", false) };
    struct stat st;
    if (stat(start, &st) == 0 && S_ISDIR(st.st_mode))
        er_walk(&w, start);
    free(start);
    er_json_add_str(o, "pattern", pat);
    er_json_add(o, "matches", g.matches);
    er_json_add_num(o, "count", (double)g.count);
    er_json_add_bool(o, "truncated", w.stop && !w.cancelled);
    add_skipped(o, &w);
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
        rc = glob_body(o, &ws, ctx, pat, args, err);
    if (rc == 0)
        rc = er_tools_emit(out, o, err);
    cJSON_Delete(o);
    free(pat);
    er_workspace_release(&ws);
    return rc;
}

/* ---- grep: which files ---- */

/* The usual extension sets (ripgrep's --type names for the common ones). */
static const struct file_type {
    const char *name;
    const char *globs; /* space-separated name globs */
} file_types[] = {
    { "c", "*.c *.h" },
    { "cpp", "*.cpp *.cc *.cxx *.c++ *.hpp *.hh *.hxx *.h++ *.h *.inl" },
    { "cs", "*.cs" },
    { "css", "*.css *.scss *.sass *.less" },
    { "go", "*.go" },
    { "html", "*.html *.htm *.xhtml" },
    { "java", "*.java" },
    { "js", "*.js *.mjs *.cjs *.jsx" },
    { "json", "*.json *.jsonl" },
    { "kotlin", "*.kt *.kts" },
    { "lua", "*.lua" },
    { "make", "Makefile makefile GNUmakefile *.mk *.mak" },
    { "cmake", "CMakeLists.txt *.cmake" },
    { "md", "*.md *.markdown *.mdx" },
    { "markdown", "*.md *.markdown *.mdx" },
    { "perl", "*.pl *.pm *.t" },
    { "php", "*.php" },
    { "py", "*.py *.pyi" },
    { "python", "*.py *.pyi" },
    { "rb", "*.rb *.rake Gemfile Rakefile" },
    { "ruby", "*.rb *.rake Gemfile Rakefile" },
    { "rs", "*.rs" },
    { "rust", "*.rs" },
    { "sh", "*.sh *.bash *.zsh *.ksh" },
    { "sql", "*.sql" },
    { "swift", "*.swift" },
    { "toml", "*.toml" },
    { "ts", "*.ts *.tsx *.mts *.cts" },
    { "txt", "*.txt" },
    { "xml", "*.xml *.xsd *.xsl" },
    { "yaml", "*.yml *.yaml" },
};

typedef struct file_filter {
    char **incl, **excl; /* globs: on the name, or on the path when they hold a '/' */
    size_t nincl, nexcl;
    const char *type_globs;
} file_filter;

static void add_glob(file_filter *f, const char *s, size_t n)
{
    bool neg = n && s[0] == '!';
    char ***v = neg ? &f->excl : &f->incl;
    size_t *k = neg ? &f->nexcl : &f->nincl;
    *v = er_xrealloc(*v, (*k + 1) * sizeof **v);
    (*v)[(*k)++] = er_xstrndup(s + neg, n - neg);
}

/* Expands the first {a,b} of s (n bytes) and recurses: "*.{c,h}" is *.c, *.h. */
static void expand_braces(file_filter *f, const char *s, size_t n, int depth)
{
    const char *open = memchr(s, '{', n);
    const char *close = open ? memchr(open, '}', n - (size_t)(open - s)) : NULL;
    if (!open || !close || depth > 8) {
        add_glob(f, s, n);
        return;
    }
    for (const char *a = open + 1; a <= close;) {
        const char *e = a;
        while (e < close && *e != ',')
            e++;
        er_buf b = ER_BUF_INIT;
        er_buf_append(&b, s, (size_t)(open - s));
        er_buf_append(&b, a, (size_t)(e - a));
        er_buf_append(&b, close + 1, n - (size_t)(close + 1 - s));
        expand_braces(f, b.ptr ? b.ptr : "", b.len, depth + 1);
        er_buf_release(&b);
        a = e + 1;
    }
}

static int filter_init(file_filter *f, const cJSON *args, er_error *err)
{
    memset(f, 0, sizeof *f);
    const char *glob = er_json_str(args, "glob"), *type = er_json_str(args, "type");
    /* Several globs may be given, separated by blanks or commas outside braces. */
    for (const char *s = glob ? glob : ""; *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = 0;
        for (int depth = 0; s[n] && (depth > 0 || (s[n] != ' ' && s[n] != ',')); n++)
            depth += s[n] == '{' ? 1 : s[n] == '}' ? -1 : 0;
        if (n)
            expand_braces(f, s, n, 0);
        s += n;
    }
    if (!er_str_empty(type)) {
        for (size_t i = 0; i < ER_ARRAY_LEN(file_types) && !f->type_globs; i++)
            if (strcasecmp(file_types[i].name, type) == 0)
                f->type_globs = file_types[i].globs;
        if (!f->type_globs) {
            er_buf known = ER_BUF_INIT;
            for (size_t i = 0; i < ER_ARRAY_LEN(file_types); i++)
                er_buf_printf(&known, "%s%s", i ? ", " : "", file_types[i].name);
            er_error_set(err, ER_EINVAL, "grep: unknown type '%s'; known: %s (or use glob)", type,
                         known.ptr);
            er_buf_release(&known);
            return ER_EINVAL;
        }
    }
    return 0;
}

static void filter_release(file_filter *f)
{
    for (size_t i = 0; i < f->nincl; i++)
        free(f->incl[i]);
    for (size_t i = 0; i < f->nexcl; i++)
        free(f->excl[i]);
    free(f->incl);
    free(f->excl);
}

static bool glob_hits(const char *g, const char *rel, const char *base)
{
    if (strchr(g, '/'))
        return er_glob_match_path(g, rel, false);
    return er_glob_segment(g, strlen(g), base, strlen(base), false);
}

static bool filter_ok(const file_filter *f, const char *rel)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    for (size_t i = 0; i < f->nexcl; i++)
        if (glob_hits(f->excl[i], rel, base))
            return false;
    bool ok = f->nincl == 0;
    for (size_t i = 0; i < f->nincl && !ok; i++)
        ok = glob_hits(f->incl[i], rel, base);
    if (ok && f->type_globs) {
        ok = false;
        for (const char *s = f->type_globs; *s && !ok;) {
            size_t n = strcspn(s, " ");
            ok = er_glob_segment(s, n, base, strlen(base), false);
            s += n + (s[n] == ' ');
        }
    }
    return ok;
}

/* ---- grep: the search ---- */

enum grep_mode { MODE_CONTENT, MODE_FILES, MODE_COUNT };

typedef struct grep_run {
    er_grep *eng;
    file_filter filter;
    enum grep_mode mode;
    size_t before, after, max;
    const volatile int *cancel;
    cJSON *items;
    size_t shown, lines_matched, cost;
    size_t files, files_matched, binary, large, failed;
    bool capped, cancelled;
    er_buf scratch;
    char *fbuf; /* the file being searched, read whole */
    size_t fcap;
    /* the file being searched */
    const char *rel, *text;
    size_t len;
    size_t at_off, at_no; /* a line start and its number, counted up to */
    size_t printed_end;   /* offset past the last line shown (0: none yet) */
    size_t after_left;    /* context lines still owed after the last match */
    size_t file_hits;
    bool printed_any;
} grep_run;

static bool item_fits(grep_run *r, const char *s, size_t n)
{
    size_t cost = er_tools_json_cost(s, n) + 3;
    if (r->shown >= r->max || r->cost + cost >= ER_TOOLS_BUDGET) {
        r->capped = true;
        return false;
    }
    r->cost += cost;
    r->shown++;
    er_json_append(r->items, cJSON_CreateString(s));
    return true;
}

/* The number of the line starting at off (at or after r->at_off). */
static size_t line_no(grep_run *r, size_t off)
{
    const char *p = r->text + r->at_off, *end = r->text + off;
    size_t no = r->at_no;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        no++;
        p++;
    }
    r->at_off = off;
    r->at_no = no;
    return no;
}

/* Shows lines [from, to) (from a line start), marked ':' for a match or '-'. */
static bool show_lines(grep_run *r, size_t from, size_t to, char mark)
{
    size_t no = line_no(r, from);
    for (size_t p = from; p < to || (p == to && p == from);) {
        const char *nl = memchr(r->text + p, '\n', r->len - p);
        size_t e = nl ? (size_t)(nl - r->text) : r->len;
        er_buf *b = &r->scratch;
        er_buf_reset(b);
        er_buf_put_utf8(b, r->rel, strlen(r->rel)); /* a non-UTF-8 name stays valid JSON */
        er_buf_printf(b, "%c%zu%c", mark, no, mark);
        er_tools_clip(b, r->text + p, e - p, GREP_LINE_SHOW);
        if (!item_fits(r, b->ptr, b->len))
            return false;
        r->printed_any = true;
        r->printed_end = e < r->len ? e + 1 : r->len;
        no++;
        if (e >= r->len || e + 1 > to)
            break;
        p = e + 1;
    }
    r->at_off = r->printed_end;
    r->at_no = no;
    return true;
}

/* Up to n lines from off, stopping at limit: the offset after them. */
static size_t lines_after(const grep_run *r, size_t off, size_t n, size_t limit)
{
    while (n-- && off < limit) {
        const char *nl = memchr(r->text + off, '\n', limit - off);
        off = nl ? (size_t)(nl - r->text) + 1 : limit;
    }
    return off;
}

static bool flush_after(grep_run *r, size_t limit)
{
    if (!r->after_left || r->printed_end >= limit)
        return true;
    size_t end = lines_after(r, r->printed_end, r->after_left, limit);
    r->after_left = 0;
    return end <= r->printed_end || show_lines(r, r->printed_end, end - 1, '-');
}

static bool on_hit(size_t ls, size_t le, void *payload)
{
    grep_run *r = payload;
    r->file_hits++;
    if (r->mode == MODE_FILES)
        return false;
    if (r->mode == MODE_COUNT)
        return true;
    if (!flush_after(r, ls))
        return false;
    size_t start = ls, floor = r->printed_end;
    for (size_t k = 0; k < r->before && start > floor; k++) {
        const char *nl =
            start - 1 > floor ? memrchr(r->text + floor, '\n', start - 1 - floor) : NULL;
        start = nl ? (size_t)(nl - r->text) + 1 : floor;
    }
    if ((r->before || r->after) && r->printed_any && start > r->printed_end &&
        !item_fits(r, "--", 2))
        return false;
    if (start < ls && !show_lines(r, start, ls - 1, '-'))
        return false;
    if (!show_lines(r, ls, le, ':'))
        return false;
    r->after_left = r->after;
    return true;
}

static void search_text(grep_run *r, const char *rel, const char *text, size_t len)
{
    r->rel = rel;
    r->text = text;
    r->len = len;
    r->at_off = 0;
    r->at_no = 1;
    r->printed_end = 0;
    r->after_left = 0;
    r->file_hits = 0;
    r->printed_any = false;
    r->files++;
    int rc = er_grep_scan(r->eng, text, len, r->cancel, on_hit, r);
    if (rc == 0 && r->mode == MODE_CONTENT && !r->capped)
        flush_after(r, len);
    if (rc == ER_ECANCELLED)
        r->cancelled = true;
    else if (rc < 0)
        r->failed++;
    if (!r->file_hits)
        return;
    r->files_matched++;
    r->lines_matched += r->file_hits;
    if (r->mode != MODE_CONTENT) {
        er_buf_reset(&r->scratch);
        er_buf_put_utf8(&r->scratch, rel, strlen(rel));
        if (r->mode == MODE_COUNT)
            er_buf_printf(&r->scratch, ":%zu", r->file_hits);
        item_fits(r, r->scratch.ptr, r->scratch.len);
    }
}

/* Reads fd whole into r's buffer (grown, never shrunk: no allocation per
 * file); false when it passes GREP_FILE_MAX or cannot be read. */
static bool read_whole(grep_run *r, int fd, size_t size, size_t *len)
{
    size_t n = 0;
    for (;;) {
        if (r->fcap < n + 65536 + 1 || r->fcap < size + 1) {
            size_t want = (size > n ? size : n) + 65536 + 1;
            r->fbuf = er_xrealloc(r->fbuf, want);
            r->fcap = want;
        }
        ssize_t got = read(fd, r->fbuf + n, r->fcap - 1 - n);
        if (got < 0)
            return false;
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > GREP_FILE_MAX)
            return false;
    }
    r->fbuf[n] = '\0';
    *len = n;
    return true;
}

/* Searches the open file fd (closed here).  Read, not mapped: a file cut
 * short while mapped would kill the process with SIGBUS. */
static void search_fd(grep_run *r, int fd, const char *rel)
{
    struct stat st;
    size_t len = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    /* A large file's first block says whether it is binary before any more
     * is read (a 2 GB sparse file costs one block); a small one is read whole. */
    ssize_t n = 0;
    char head[BINARY_SNIFF];
    if (st.st_size > GREP_SNIFF_FIRST)
        n = pread(fd, head, sizeof head, 0);
    if (n > 0 && memchr(head, '\0', (size_t)n))
        r->binary++;
    else if ((unsigned long long)st.st_size > GREP_FILE_MAX)
        r->large++;
    else if (n < 0 || !read_whole(r, fd, (size_t)st.st_size, &len))
        r->large++;
    else if (memchr(r->fbuf, '\0', len < BINARY_SNIFF ? len : BINARY_SNIFF))
        r->binary++;
    else
        search_text(r, rel, r->fbuf, len);
    close(fd);
}

static void grep_visit(er_walker *w, int dirfd, const char *name, const char *abs, const char *rel,
                       enum er_walk_type type)
{
    (void)abs;
    grep_run *r = w->payload;
    if (type != ER_WALK_FILE || !filter_ok(&r->filter, rel))
        return;
    /* Not blocking on a pipe swapped in since the walk saw a file. */
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    search_fd(r, fd, rel);
    /* Lists and counts go on to the end once full, so their totals are exact. */
    if ((r->capped && r->mode == MODE_CONTENT) || r->cancelled)
        w->stop = true;
}

static const char *const mode_names[] = { "content", "files_with_matches", "count" };

static void grep_result(cJSON *o, grep_run *r, const er_walker *w, const char *pattern,
                        const char *rel)
{
    er_json_add_str(o, "pattern", pattern);
    er_json_add_str(o, "path", rel);
    er_json_add_str(o, "output_mode", mode_names[r->mode]);
    er_json_add(o,
                r->mode == MODE_CONTENT ? "matches"
                : r->mode == MODE_FILES ? "files"
                                        : "counts",
                r->items);
    r->items = NULL;
    er_json_add_num(o, "count",
                    (double)(r->mode == MODE_FILES ? r->files_matched : r->lines_matched));
    bool walk_capped = w->visited > ER_WALK_VISIT_MAX;
    er_json_add_bool(o, "truncated", r->capped || walk_capped);
    if (walk_capped && !r->capped)
        er_json_add_str(o, "hint", "the walk stopped at its cap on entries: give a narrower path");
    else if (r->capped)
        er_json_add_str(o, "hint",
                        r->mode == MODE_CONTENT
                            ? "lines capped: count covers the files searched up to the cap; narrow "
                              "path, glob or type, or use output_mode files_with_matches or count"
                            : "list capped: the totals cover every file; narrow path, glob or type "
                              "for the rest of the list");
    er_json_add_num(o, "files_searched", (double)r->files);
    er_json_add_num(o, "files_matched", (double)r->files_matched);
    er_json_add_num(o, "binary_skipped", (double)r->binary);
    if (r->large)
        er_json_add_num(o, "large_skipped", (double)r->large);
    if (r->failed)
        er_json_add_num(o, "regex_limit_files", (double)r->failed);
    add_skipped(o, w);
}

static int grep_body(cJSON *o, const er_workspace *ws, const er_tool_ctx *ctx, const cJSON *args,
                     grep_run *r, er_error *err)
{
    char *abs = NULL;
    int rc = er_workspace_resolve(&abs, ws, er_json_str(args, "path"), err);
    if (rc)
        return rc;
    const char *rel = er_workspace_rel(ws, abs);
    er_walker w = { .ws = ws,
                    .cancel = ctx->cancel,
                    .visit = grep_visit,
                    .payload = r,
                    .hidden = er_json_bool(args, "hidden", false),
                    .no_ignore = er_json_bool(args, "no_ignore", false) };
    struct stat st;
    int fd;
    if (stat(abs, &st) != 0) {
        rc = er_error_set(err, ER_ENOTFOUND, "grep: %s does not exist", rel);
    } else if (S_ISDIR(st.st_mode)) {
        er_walk(&w, abs);
    } else if (!er_walk_cancelled(&w) &&
               (rc = er_workspace_open(&fd, ws, abs, O_RDONLY | O_NONBLOCK, err)) == 0) {
        search_fd(r, fd, rel); /* a file named outright: searched whatever the filters say */
    }
    if (rc == 0 && (w.cancelled || r->cancelled))
        rc = er_error_set(err, ER_ECANCELLED, "grep: cancelled");
    if (rc == 0)
        grep_result(o, r, &w, er_json_str(args, "pattern"), rel);
    free(abs);
    return rc;
}

static int grep_options(grep_run *r, const cJSON *args, er_error *err)
{
    const char *mode = er_json_str(args, "output_mode");
    r->mode = MODE_CONTENT;
    if (!er_str_empty(mode)) {
        size_t i = 0;
        while (i < ER_ARRAY_LEN(mode_names) && strcmp(mode_names[i], mode) != 0)
            i++;
        if (i == ER_ARRAY_LEN(mode_names))
            return er_error_set(err, ER_EINVAL,
                                "grep: output_mode '%s' is none of content, "
                                "files_with_matches, count",
                                mode);
        r->mode = (enum grep_mode)i;
    }
    double c = er_json_num(args, "context", 0);
    double b = er_json_num(args, "before", c), a = er_json_num(args, "after", c);
    if (b < 0 || a < 0 || b > GREP_CONTEXT_MAX || a > GREP_CONTEXT_MAX)
        return er_error_set(err, ER_EINVAL, "grep: context lines must be 0 to %d",
                            GREP_CONTEXT_MAX);
    r->before = (size_t)b;
    r->after = (size_t)a;
    double max =
        er_json_num(args, "max_results", r->mode == MODE_CONTENT ? GREP_LINES_MAX : GREP_FILES_MAX);
    if (max < 1 || max > 100000)
        return er_error_set(err, ER_EINVAL, "grep: max_results must be 1 to 100000");
    r->max = (size_t)max;
    return filter_init(&r->filter, args, err);
}

static int run_grep(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *pattern = er_json_str(args, "pattern");
    if (er_str_empty(pattern))
        return er_error_set(err, ER_EINVAL, "grep: pattern is empty");
    grep_run r;
    memset(&r, 0, sizeof r);
    er_grep_opts eo = {
        .fixed_strings = er_json_bool(args, "fixed_strings", false),
        .ignore_case = er_json_bool(args, "ignore_case", false),
        .smart_case = er_json_bool(args, "smart_case", false),
        .multiline = er_json_bool(args, "multiline", false),
    };
    int rc = grep_options(&r, args, err);
    if (rc == 0)
        rc = er_grep_new(&r.eng, pattern, &eo, err);
    if (rc) {
        filter_release(&r.filter);
        if (rc == ER_EINVAL && err && strncmp(err->msg, "grep:", 5) != 0) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            er_error_set(err, ER_EINVAL, "grep: %s", msg);
        }
        return rc;
    }
    r.cancel = ctx->cancel;
    r.items = cJSON_CreateArray();
    er_buf_init(&r.scratch, 0);
    er_workspace ws;
    cJSON *o = cJSON_CreateObject();
    if ((rc = er_tools_workspace(&ws, ctx, err)) == 0) {
        if ((rc = grep_body(o, &ws, ctx, args, &r, err)) == 0)
            rc = er_tools_emit(out, o, err);
        er_workspace_release(&ws);
    }
    cJSON_Delete(o);
    cJSON_Delete(r.items);
    er_buf_release(&r.scratch);
    free(r.fbuf);
    er_grep_free(r.eng);
    filter_release(&r.filter);
    return rc;
}

#define WALK_PROPS                                                                             \
    "\"hidden\":{\"type\":\"boolean\",\"description\":\"include hidden files and directories " \
    "(default false)\"},"                                                                      \
    "\"no_ignore\":{\"type\":\"boolean\",\"description\":\"include files that .gitignore, "    \
    ".ignore or .errandignore leave out (default false)\"}"

static const er_tool search_tools[] = {
    { "glob",
      "Find files and directories of the workspace whose path matches a glob pattern; `**` "
      "matches any number of directories (\"src/**/*.c\"). Results are relative and sorted. "
      "Files ignored by git (.gitignore, .git/info/exclude, the global excludes) and hidden "
      "ones are left out unless asked for; .git never appears.",
      "{\"type\":\"object\",\"properties\":{"
      "\"pattern\":{\"type\":\"string\",\"description\":\"glob relative to the workspace, e.g. "
      "**/*.py\"}," WALK_PROPS "},"
      "\"required\":[\"pattern\"],\"additionalProperties\":false}",
      ER_PERM_READ, "glob PATTERN", run_glob, .idempotent = true },
    { "grep",
      "Search file contents with a regular expression (PCRE2/Perl syntax as ripgrep: \\d \\w "
      "\\b \\s, lazy quantifiers, (?i), lookaround) or a fixed string. Skips files git "
      "ignores, hidden and binary files (counted). Modes: content (file:line:text, context "
      "lines as file-line-text), files_with_matches, count (file:n). Sorted by path.",
      "{\"type\":\"object\",\"properties\":{"
      "\"pattern\":{\"type\":\"string\",\"description\":\"PCRE2 regular expression (or a "
      "literal with fixed_strings)\"},"
      "\"path\":{\"type\":\"string\",\"description\":\"file or directory to search (default: the "
      "workspace)\"},"
      "\"glob\":{\"type\":\"string\",\"description\":\"only files whose name (or path, when it "
      "has a /) matches, e.g. *.c or *.{ts,tsx}; !*.min.js excludes\"},"
      "\"type\":{\"type\":\"string\",\"description\":\"only files of a type: c, cpp, py, js, "
      "ts, go, rs, java, sh, md, json, yaml, html, css, sql, make, cmake, ...\"},"
      "\"output_mode\":{\"type\":\"string\",\"enum\":[\"content\",\"files_with_matches\","
      "\"count\"],\"description\":\"default content\"},"
      "\"before\":{\"type\":\"integer\",\"description\":\"lines of context before each match\"},"
      "\"after\":{\"type\":\"integer\",\"description\":\"lines of context after each match\"},"
      "\"context\":{\"type\":\"integer\",\"description\":\"lines of context before and after\"},"
      "\"ignore_case\":{\"type\":\"boolean\",\"description\":\"case-insensitive match\"},"
      "\"smart_case\":{\"type\":\"boolean\",\"description\":\"case-insensitive unless the "
      "pattern has an upper-case letter\"},"
      "\"fixed_strings\":{\"type\":\"boolean\",\"description\":\"the pattern is a literal "
      "string\"},"
      "\"multiline\":{\"type\":\"boolean\",\"description\":\"let matches span lines (\\\\n in "
      "the pattern)\"},"
      "\"max_results\":{\"type\":\"integer\",\"description\":\"cap on lines (content) or files "
      "shown; default 500 lines, 1000 files\"}," WALK_PROPS "},"
      "\"required\":[\"pattern\"],\"additionalProperties\":false}",
      ER_PERM_READ, "grep PATTERN [PATH]", run_grep, .idempotent = true },
};

const er_tool_family er_tools_search = { "search", search_tools, ER_ARRAY_LEN(search_tools) };
