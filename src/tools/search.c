/* search.c — the glob and grep tools over the workspace walk (walk.h: git's
 * ignore rules, hidden names, .git never entered, symlinks never followed):
 * `**` globs, and grep's options as ripgrep offers them over the matcher of
 * grep.h — output modes, context lines, glob and type filters, binary files
 * counted and skipped, a result cap that says so. */
#include "errand/tool_families.h"
#include "errand/json.h"
#include "errand/env.h"
#include "errand/config.h"
#include "errand/alloc.h"
#include "errand/glob.h"
#include "errand/grep.h"
#include "errand/str.h"
#include "errand/walk.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
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
#define GREP_FIRST_READ  (256 * 1024) /* content: most files in one read */
#define GREP_LINE_SHOW   300
#define BINARY_SNIFF     8192
#define GREP_CHUNK       (64 * 1024) /* files_with_matches reads this much at a time */

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

/* ---- grep: the search ----
 *
 * Files are searched by several threads and their results merged in walk
 * order, so that the output, its caps and its totals are the same whatever
 * the number of threads.  The caller's thread walks (and opens each file
 * beneath its directory's descriptor), queues the file, merges the results
 * at the queue's head as they come, and searches queued files itself while
 * the queue is full; grep_threads - 1 more threads take files from the
 * queue.  A file's search keeps its output lines aside, each with the count
 * of matching lines reached when it was made, so the merge can cut the file
 * exactly where a single thread would have stopped. */

enum grep_mode { MODE_CONTENT, MODE_FILES, MODE_COUNT };

enum file_kind { FILE_SKIPPED, FILE_TEXT, FILE_BINARY, FILE_LARGE };

#define QUEUE_PER_THREAD 64  /* files queued per thread */
#define QUEUE_MAX        256 /* each holds a descriptor: well under the usual limit of 1024 */
#define THREADS_MAX      64
#define WAKE_BATCH       8 /* files queued before a sleeping thread is woken */

/* One output line kept aside, followed by its text, a NUL and padding to 8. */
typedef struct item_head {
    size_t hits; /* the file's matching lines when it was made */
    uint32_t len, cost;
} item_head;

/* A file in the queue: filled by the walking thread, searched by any, merged
 * by the walking thread.  Its buffers are reused by the files after it. */
typedef struct file_job {
    int fd;
    er_buf rel;
    size_t visited, ignored, hidden_skipped; /* the walk's counts at this file */
    enum file_kind kind;
    er_buf items; /* item_head + text, one after another */
    size_t hits;  /* matching lines */
    int rc;       /* er_grep_scan's */
    bool regular; /* the walk saw a regular file (else fstat says) */
    bool done;
} file_job;

struct grep_run;

/* A searching thread's own: its matcher and buffers, reused file after file,
 * and the state of the file it is searching. */
typedef struct searcher {
    struct grep_run *r;
    er_grep *eng;
    char *fbuf; /* the file being searched, read whole */
    size_t fcap;
    er_buf scratch;
    pthread_t tid;
    /* the file being searched */
    file_job *job;
    const char *rel, *text;
    size_t len;
    size_t at_off, at_no; /* a line start and its number, counted up to */
    size_t printed_end;   /* offset past the last line shown (0: none yet) */
    size_t after_left;    /* context lines still owed after the last match */
    size_t file_hits, shown, cost;
    bool printed_any, full;
} searcher;

typedef struct grep_run {
    /* set before the search, read by every thread */
    er_grep *eng;
    file_filter filter;
    enum grep_mode mode;
    bool multiline;
    size_t before, after, max;
    const volatile int *cancel;
    size_t nthreads;
    searcher *s; /* s[0]: the walking thread's */
    /* the merged result: the walking thread's */
    cJSON *items;
    size_t shown, lines_matched, cost;
    size_t files, files_matched, binary, large, failed;
    bool capped, cancelled;
    bool stopped; /* content capped or cancelled: the files after are dropped */
    size_t visited, ignored, hidden_skipped; /* the walk's counts where it stopped */
    /* the queue: ring[head..tail) in walk order, [claim..tail) not yet taken */
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    file_job *ring;
    size_t cap, head, claim, tail;
    size_t idle;          /* threads waiting for files */
    bool quit, skip_rest; /* under mu */
} grep_run;

static bool item_fits(searcher *s, const char *p, size_t n)
{
    size_t cost = er_tools_json_cost(p, n) + 3;
    item_head h = { s->file_hits, (uint32_t)n, (uint32_t)cost };
    er_buf *b = &s->job->items;
    er_buf_append(b, &h, sizeof h);
    er_buf_append(b, p, n);
    do
        er_buf_putc(b, '\0');
    while (b->len % 8);
    /* The merge cuts at the first line that does not fit: here, at the
     * latest (the lines merged before this file only add to these counts). */
    if (s->shown >= s->r->max || s->cost + cost >= ER_TOOLS_BUDGET) {
        s->full = true;
        return false;
    }
    s->cost += cost;
    s->shown++;
    return true;
}

/* The number of the line starting at off (at or after s->at_off). */
static size_t line_no(searcher *s, size_t off)
{
    const char *p = s->text + s->at_off, *end = s->text + off;
    size_t no = s->at_no;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        no++;
        p++;
    }
    s->at_off = off;
    s->at_no = no;
    return no;
}

/* Shows lines [from, to) (from a line start), marked ':' for a match or '-'. */
static bool show_lines(searcher *s, size_t from, size_t to, char mark)
{
    size_t no = line_no(s, from);
    for (size_t p = from; p < to || (p == to && p == from);) {
        const char *nl = memchr(s->text + p, '\n', s->len - p);
        size_t e = nl ? (size_t)(nl - s->text) : s->len;
        er_buf *b = &s->scratch;
        er_buf_reset(b);
        er_buf_put_utf8(b, s->rel, strlen(s->rel)); /* a non-UTF-8 name stays valid JSON */
        er_buf_printf(b, "%c%zu%c", mark, no, mark);
        er_tools_clip(b, s->text + p, e - p, GREP_LINE_SHOW);
        if (!item_fits(s, b->ptr, b->len))
            return false;
        s->printed_any = true;
        s->printed_end = e < s->len ? e + 1 : s->len;
        no++;
        if (e >= s->len || e + 1 > to)
            break;
        p = e + 1;
    }
    s->at_off = s->printed_end;
    s->at_no = no;
    return true;
}

/* Up to n lines from off, stopping at limit: the offset after them. */
static size_t lines_after(const searcher *s, size_t off, size_t n, size_t limit)
{
    while (n-- && off < limit) {
        const char *nl = memchr(s->text + off, '\n', limit - off);
        off = nl ? (size_t)(nl - s->text) + 1 : limit;
    }
    return off;
}

static bool flush_after(searcher *s, size_t limit)
{
    if (!s->after_left || s->printed_end >= limit)
        return true;
    size_t end = lines_after(s, s->printed_end, s->after_left, limit);
    s->after_left = 0;
    return end <= s->printed_end || show_lines(s, s->printed_end, end - 1, '-');
}

static bool on_hit(size_t ls, size_t le, void *payload)
{
    searcher *s = payload;
    const grep_run *r = s->r;
    s->file_hits++;
    if (r->mode == MODE_FILES)
        return false;
    if (r->mode == MODE_COUNT)
        return true;
    if (!flush_after(s, ls))
        return false;
    size_t start = ls, floor = s->printed_end;
    for (size_t k = 0; k < r->before && start > floor; k++) {
        const char *nl =
            start - 1 > floor ? memrchr(s->text + floor, '\n', start - 1 - floor) : NULL;
        start = nl ? (size_t)(nl - s->text) + 1 : floor;
    }
    if ((r->before || r->after) && s->printed_any && start > s->printed_end &&
        !item_fits(s, "--", 2))
        return false;
    if (start < ls && !show_lines(s, start, ls - 1, '-'))
        return false;
    if (!show_lines(s, ls, le, ':'))
        return false;
    s->after_left = r->after;
    return true;
}

/* Readies s for the job's file, whose text is about to be scanned. */
static void search_begin(searcher *s)
{
    file_job *j = s->job;
    s->rel = j->rel.ptr;
    s->at_off = 0;
    s->at_no = 1;
    s->printed_end = 0;
    s->after_left = 0;
    s->file_hits = s->shown = s->cost = 0;
    s->printed_any = s->full = false;
    j->kind = FILE_TEXT;
}

/* The file's totals, and its line in the lists and counts. */
static void search_end(searcher *s)
{
    file_job *j = s->job;
    j->hits = s->file_hits;
    if (s->file_hits && s->r->mode != MODE_CONTENT) {
        er_buf_reset(&s->scratch);
        er_buf_put_utf8(&s->scratch, s->rel, strlen(s->rel));
        if (s->r->mode == MODE_COUNT)
            er_buf_printf(&s->scratch, ":%zu", s->file_hits);
        item_fits(s, s->scratch.ptr, s->scratch.len);
    }
}

static void search_text(searcher *s, const char *text, size_t len)
{
    file_job *j = s->job;
    search_begin(s);
    s->text = text;
    s->len = len;
    j->rc = er_grep_scan(s->eng, text, len, s->r->cancel, on_hit, s);
    if (j->rc == 0 && s->r->mode == MODE_CONTENT && !s->full)
        flush_after(s, len);
    search_end(s);
}

/* Reads into s's buffer (grown, never shrunk: no allocation per file) from
 * offset n until it holds want bytes or the file ends (*eof: a read short of
 * what was asked, which for a regular file is its end, without one more read
 * to hear it); the new length, or -1 on a read error. */
static ssize_t fill(searcher *s, int fd, size_t n, size_t want, bool *eof)
{
    if (s->fcap < want + 1) {
        s->fbuf = er_xrealloc(s->fbuf, want + 1);
        s->fcap = want + 1;
    }
    while (n < want) {
        ssize_t got = read(fd, s->fbuf + n, want - n);
        if (got < 0)
            return -1;
        bool short_read = (size_t)got < want - n;
        n += (size_t)got;
        if (short_read) {
            *eof = true;
            break;
        }
    }
    return (ssize_t)n;
}

/* Reads the rest of fd after the n bytes already in s's buffer, sized by
 * the file's size when known (0: not); false when it passes GREP_FILE_MAX
 * or cannot be read. */
static bool read_whole(searcher *s, int fd, size_t n, bool eof, size_t size, size_t *len)
{
    while (!eof && n <= GREP_FILE_MAX) {
        /* A 64 KiB margin past the size: its end is heard in the same read. */
        ssize_t got = fill(s, fd, n, (size > n ? size : n) + 65536, &eof);
        if (got < 0)
            return false;
        n = (size_t)got;
    }
    if (n > GREP_FILE_MAX)
        return false;
    s->fbuf[n] = '\0';
    *len = n;
    return true;
}

/* Searches a file a chunk at a time, for the modes that need no line
 * numbers nor context: files_with_matches stops reading at the first
 * matching line, and count reads through a buffer that stays in the cache
 * rather than one the size of the file (read's copy into it is most of the
 * search's time).  The first n bytes are in s's buffer already (all of the
 * file when eof).  Each chunk is scanned up to its last newline and the
 * partial line after it carried over to the next, so every line is scanned
 * whole and once.  Not for multiline patterns, whose matches may cross any
 * border. */
static void search_chunked(searcher *s, int fd, size_t n, bool eof)
{
    file_job *j = s->job;
    size_t keep = 0, total = n; /* keep: the carried bytes, which hold no newline */
    search_begin(s);
    for (;;) {
        /* Scanned: up to and with the chunk's last newline, or all at the end. */
        const char *nl = eof ? NULL : memrchr(s->fbuf + keep, '\n', n - keep);
        size_t upto = eof ? n : nl ? (size_t)(nl - s->fbuf) + 1 : 0;
        if (upto) {
            s->text = s->fbuf;
            s->len = upto;
            j->rc = er_grep_scan(s->eng, s->fbuf, upto, s->r->cancel, on_hit, s);
            if (j->rc != 0 || (s->r->mode == MODE_FILES && s->file_hits))
                break;
        }
        if (eof)
            break;
        keep = n - upto;
        memmove(s->fbuf, s->fbuf + upto, keep);
        /* A line longer than a chunk doubles the buffer until it ends. */
        ssize_t got = fill(s, fd, keep, keep + (keep > GREP_CHUNK ? keep : GREP_CHUNK), &eof);
        if (got < 0 || (total += (size_t)got - keep) > GREP_FILE_MAX) {
            j->kind = FILE_LARGE;
            return;
        }
        n = (size_t)got;
    }
    search_end(s);
}

/* Searches the job's open file (closed here).  Read, not mapped: a file cut
 * short while mapped would kill the process with SIGBUS.
 *
 * A file the walk saw as regular is read at once, without an fstat: a read
 * short of what was asked is a regular file's end, so a file smaller than
 * the first read (most of a source tree) costs one open, one read and one
 * close.  Only a first read that fills its buffer, fails or finds nothing
 * asks the file's size and type (a FIFO or device swapped in since the walk
 * is then skipped as before; one that hands over a few bytes at once is
 * searched, with O_NONBLOCK it cannot hang the search).  The first read
 * also says whether a large file is binary before any more is read (a 2 GB
 * sparse file costs one read). */
static void search_job(searcher *s, file_job *j)
{
    struct stat st;
    int fd = j->fd;
    bool chunked = s->r->mode != MODE_CONTENT && !s->r->multiline;
    bool eof = false, known = j->regular;
    s->job = j;
    j->fd = -1;
    st.st_size = 0;
    if (!known && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return;
    }
    ssize_t n = fill(s, fd, 0, chunked ? GREP_CHUNK : GREP_FIRST_READ, &eof);
    if (known && (n <= 0 || !eof) && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return;
    }
    size_t len = 0;
    if (n > 0 && memchr(s->fbuf, '\0', (size_t)n < BINARY_SNIFF ? (size_t)n : BINARY_SNIFF))
        j->kind = FILE_BINARY;
    else if (n < 0 || (unsigned long long)st.st_size > GREP_FILE_MAX)
        j->kind = FILE_LARGE;
    else if (chunked)
        search_chunked(s, fd, (size_t)n, eof);
    else if (!read_whole(s, fd, (size_t)n, eof, (size_t)st.st_size, &len))
        j->kind = FILE_LARGE;
    else
        search_text(s, s->fbuf, len);
    close(fd);
}

/* Adds a searched file to the result, as a single thread searching the
 * files in walk order would have: its lines up to the cap, its totals. */
static void merge(grep_run *r, const file_job *j)
{
    if (r->stopped)
        return;
    if (j->kind == FILE_BINARY)
        r->binary++;
    else if (j->kind == FILE_LARGE)
        r->large++;
    if (j->kind == FILE_TEXT) {
        size_t hits = j->hits;
        bool cut = false;
        r->files++;
        for (size_t off = 0; off < j->items.len;) {
            item_head h;
            memcpy(&h, j->items.ptr + off, sizeof h);
            const char *text = j->items.ptr + off + sizeof h;
            off += (sizeof h + h.len + 1 + 7) & ~(size_t)7;
            if (r->shown >= r->max || r->cost + h.cost >= ER_TOOLS_BUDGET) {
                r->capped = true;
                /* Content stops here, with the matches counted so far;
                 * lists and counts go on to the end, so their totals are exact. */
                if (r->mode == MODE_CONTENT) {
                    hits = h.hits;
                    cut = true;
                }
                break;
            }
            r->cost += h.cost;
            r->shown++;
            er_json_append(r->items, cJSON_CreateString(text));
        }
        if (j->rc == ER_ECANCELLED)
            r->cancelled = true;
        else if (j->rc < 0 && !cut)
            r->failed++;
        if (hits) {
            r->files_matched++;
            r->lines_matched += hits;
        }
    }
    if ((r->capped && r->mode == MODE_CONTENT) || r->cancelled) {
        r->stopped = true;
        r->visited = j->visited;
        r->ignored = j->ignored;
        r->hidden_skipped = j->hidden_skipped;
    }
}

static file_job *job_at(grep_run *r, size_t i)
{
    return &r->ring[i % r->cap];
}

/* Takes the next queued file and searches it with s (mu held on entry and
 * on return, not while searching). */
static void search_next(grep_run *r, searcher *s)
{
    file_job *j = job_at(r, r->claim++);
    bool skip = r->skip_rest;
    pthread_mutex_unlock(&r->mu);
    if (skip) {
        close(j->fd);
        j->fd = -1;
    } else {
        search_job(s, j);
    }
    pthread_mutex_lock(&r->mu);
    j->done = true;
    pthread_cond_signal(&r->done);
}

static void *search_thread(void *payload)
{
    searcher *s = payload;
    grep_run *r = s->r;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (r->claim < r->tail)
            search_next(r, s);
        else if (r->quit)
            break;
        else {
            r->idle++;
            pthread_cond_wait(&r->work, &r->mu);
            r->idle--;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Merges the finished files at the queue's head (mu held; released while
 * merging: a finished file is not touched by the other threads). */
static void merge_finished(grep_run *r)
{
    while (r->head < r->tail && job_at(r, r->head)->done) {
        file_job *j = job_at(r, r->head);
        pthread_mutex_unlock(&r->mu);
        merge(r, j);
        pthread_mutex_lock(&r->mu);
        r->head++;
    }
    if (r->stopped)
        r->skip_rest = true;
}

/* Queues the open file fd (walking thread). */
static void queue_file(grep_run *r, int fd, const char *rel, const er_walker *w)
{
    pthread_mutex_lock(&r->mu);
    for (;;) {
        merge_finished(r);
        if (r->tail - r->head < r->cap)
            break;
        if (r->claim < r->tail)
            search_next(r, &r->s[0]); /* full: search rather than wait */
        else
            pthread_cond_wait(&r->done, &r->mu);
    }
    file_job *j = job_at(r, r->tail);
    j->fd = fd;
    j->regular = w != NULL;
    er_buf_reset(&j->rel);
    er_buf_puts(&j->rel, rel);
    j->visited = w ? w->visited : 0;
    j->ignored = w ? w->ignored : 0;
    j->hidden_skipped = w ? w->hidden_skipped : 0;
    j->kind = FILE_SKIPPED;
    er_buf_reset(&j->items);
    j->hits = 0;
    j->rc = 0;
    j->done = false;
    r->tail++;
    /* Woken a batch at a time: a wake-up per file costs more than it saves. */
    if (r->nthreads == 1)
        search_next(r, &r->s[0]);
    else if (r->idle && r->tail - r->claim >= WAKE_BATCH)
        pthread_cond_signal(&r->work);
    merge_finished(r);
    pthread_mutex_unlock(&r->mu);
}

/* Waits for every queued file and merges it (walking thread). */
static void drain_queue(grep_run *r)
{
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->work);
    for (;;) {
        merge_finished(r);
        if (r->head == r->tail)
            break;
        if (r->claim < r->tail)
            search_next(r, &r->s[0]);
        else
            pthread_cond_wait(&r->done, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
}

static size_t default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

/* Sets up the queue and starts nthreads - 1 searching threads. */
static void queue_start(grep_run *r, size_t nthreads)
{
    r->nthreads = nthreads < 1 ? 1 : nthreads > THREADS_MAX ? THREADS_MAX : nthreads;
    r->cap = r->nthreads == 1                             ? 1
             : QUEUE_PER_THREAD * r->nthreads > QUEUE_MAX ? QUEUE_MAX
                                                          : QUEUE_PER_THREAD * r->nthreads;
    r->ring = er_xcalloc(r->cap, sizeof *r->ring);
    r->s = er_xcalloc(r->nthreads, sizeof *r->s);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_cond_init(&r->done, NULL);
    for (size_t i = 0; i < r->nthreads; i++) {
        searcher *s = &r->s[i];
        s->r = r;
        s->eng = i == 0 ? r->eng : er_grep_dup(r->eng);
        if (i > 0 && pthread_create(&s->tid, NULL, search_thread, s) != 0) {
            er_grep_free(s->eng); /* no thread: the others share the work */
            r->nthreads = i;
            break;
        }
    }
}

static void queue_stop(grep_run *r)
{
    if (!r->ring)
        return;
    pthread_mutex_lock(&r->mu);
    r->quit = true;
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->mu);
    for (size_t i = 0; i < r->nthreads; i++) {
        searcher *s = &r->s[i];
        if (i > 0) {
            pthread_join(s->tid, NULL);
            er_grep_free(s->eng);
        }
        free(s->fbuf);
        er_buf_release(&s->scratch);
    }
    for (size_t i = 0; i < r->cap; i++) {
        er_buf_release(&r->ring[i].rel);
        er_buf_release(&r->ring[i].items);
    }
    free(r->ring);
    free(r->s);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->work);
    pthread_cond_destroy(&r->done);
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
    queue_file(r, fd, rel, w);
    if (r->stopped)
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
    /* Where the search stopped early, the walk's counts as they were there. */
    size_t visited = r->stopped ? r->visited : w->visited;
    bool walk_capped = visited > ER_WALK_VISIT_MAX;
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
    er_json_add_num(o, "ignored", (double)(r->stopped ? r->ignored : w->ignored));
    er_json_add_num(o, "hidden_skipped",
                    (double)(r->stopped ? r->hidden_skipped : w->hidden_skipped));
}

static int grep_body(cJSON *o, const er_workspace *ws, const er_tool_ctx *ctx, const cJSON *args,
                     grep_run *r, size_t nthreads, er_error *err)
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
        queue_start(r, nthreads);
        er_walk(&w, abs);
        drain_queue(r);
    } else if (!er_walk_cancelled(&w) &&
               (rc = er_workspace_open(&fd, ws, abs, O_RDONLY | O_NONBLOCK, err)) == 0) {
        queue_start(r, 1);
        queue_file(r, fd, rel, NULL); /* a file named outright: searched whatever the filters say */
    }
    if (rc == 0 && (w.cancelled || r->cancelled))
        rc = er_error_set(err, ER_ECANCELLED, "grep: cancelled");
    if (rc == 0)
        grep_result(o, r, &w, er_json_str(args, "pattern"), rel);
    queue_stop(r);
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
    r.multiline = eo.multiline;
    r.cancel = ctx->cancel;
    r.items = cJSON_CreateArray();
    const er_config *cfg = ctx->env ? er_env_config(ctx->env) : NULL;
    size_t nthreads = cfg && cfg->grep_threads > 0 ? (size_t)cfg->grep_threads : default_threads();
    er_workspace ws;
    cJSON *o = cJSON_CreateObject();
    if ((rc = er_tools_workspace(&ws, ctx, err)) == 0) {
        if ((rc = grep_body(o, &ws, ctx, args, &r, nthreads, err)) == 0)
            rc = er_tools_emit(out, o, err);
        er_workspace_release(&ws);
    }
    cJSON_Delete(o);
    cJSON_Delete(r.items);
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
