/* fs.c — the file tools of the code agent: read_file, write_file, edit_file,
 * list_dir.  Every path is confined to the workspace (workspace.h); writes are
 * atomic (a temporary file renamed over the old one) and answer with a unified
 * diff (diff.h), so the model sees exactly what it changed. */
#include "errand/tool_families.h"
#include "errand/checkpoint.h"
#include "errand/diff.h"
#include "errand/ignore.h"
#include "errand/json.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BINARY_SNIFF      8192
#define READ_CONTENT_MAX  (160 * 1024)        /* numbered text returned by read_file */
#define READ_SCAN_MAX     (64u * 1024 * 1024) /* bytes scanned to count lines */
#define LINE_SHOW_MAX     2000
#define EDIT_FILE_MAX     (8u * 1024 * 1024)
#define WRITE_CONTENT_MAX (4u * 1024 * 1024)
#define DIFF_KEEP         (64 * 1024)
#define LIST_MAX          1000

static bool looks_binary(const char *p, size_t n)
{
    return memchr(p, '\0', n < BINARY_SNIFF ? n : BINARY_SNIFF) != NULL;
}

static int binary_error(er_error *err, const char *rel)
{
    return er_error_set(err, ER_EINVAL, "%s looks binary (NUL bytes); not shown", rel);
}

/* What a file tool does once its path is resolved: fill o, or fail. */
typedef struct target {
    const er_workspace *ws;
    const char *abs;            /* canonical, inside the workspace */
    const char *rel;            /* as the model should see it */
    const volatile int *cancel; /* checked in the loops that may run long */
    er_checkpoint_at at; /* whose checkpoint keeps what a write replaces; task_id NULL: none */
} target;

static bool target_cancelled(const target *t)
{
    return t->cancel && *t->cancel;
}

typedef int (*path_body)(cJSON *o, const target *t, const cJSON *args, er_error *err);

/* Resolves args.path in ctx's workspace, runs body, and emits its object. */
static int on_path(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, path_body body,
                   er_error *err)
{
    er_workspace ws;
    int rc = er_tools_workspace(&ws, ctx, err);
    if (rc)
        return rc;
    char *abs = NULL;
    if ((rc = er_workspace_resolve(&abs, &ws, er_json_str(args, "path"), err)) == 0) {
        target t = { &ws,
                     abs,
                     er_workspace_rel(&ws, abs),
                     ctx->cancel,
                     { ctx->task_id, ctx->step, ctx->agent } };
        cJSON *o = cJSON_CreateObject();
        if ((rc = body(o, &t, args, err)) == 0)
            rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    free(abs);
    er_workspace_release(&ws);
    return rc;
}

static const char *kind_of(mode_t m)
{
    return S_ISLNK(m)    ? "symbolic link"
           : S_ISFIFO(m) ? "named pipe"
           : S_ISSOCK(m) ? "socket"
           : S_ISCHR(m)  ? "character device"
           : S_ISBLK(m)  ? "block device"
                         : "special file";
}

/* Opens a regular file of the workspace for reading (see er_workspace_open).
 * O_NONBLOCK: a named pipe must be refused, not waited on forever. */
static int open_regular(int *fd, const target *t, er_error *err)
{
    int rc = er_workspace_open(fd, t->ws, t->abs, O_RDONLY | O_NONBLOCK, err);
    struct stat st;
    if (rc == 0 && fstat(*fd, &st) != 0)
        rc = er_error_set(err, ER_EIO, "cannot examine %s: %s", t->rel, strerror(errno));
    else if (rc == 0 && S_ISDIR(st.st_mode))
        rc = er_error_set(err, ER_EINVAL, "%s is a directory; use list_dir", t->rel);
    else if (rc == 0 && !S_ISREG(st.st_mode))
        rc = er_error_set(err, ER_EINVAL, "%s is a %s, not a regular file; not read", t->rel,
                          kind_of(st.st_mode));
    if (rc && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* Whole file into out; ER_ETOOBIG past max. */
static int slurp(er_buf *out, const target *t, size_t max, er_error *err)
{
    int fd;
    int rc = open_regular(&fd, t, err);
    if (rc)
        return rc;
    er_buf_init(out, max);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && rc == 0)
        if (er_buf_append(out, chunk, (size_t)n) != 0)
            rc = er_error_set(err, ER_ETOOBIG, "%s is over %zu MB; change it with `run` instead",
                              t->rel, max >> 20);
    if (n < 0 && rc == 0)
        rc = er_error_set(err, ER_EIO, "cannot read %s: %s", t->rel, strerror(errno));
    close(fd);
    if (!rc && !out->ptr)
        er_buf_puts(out, "");
    if (rc)
        er_buf_release(out);
    return rc;
}

/* ---- read_file ---- */

typedef struct reader {
    long start, end; /* wanted range; end 0 = to the end */
    long lineno;     /* lines completed so far */
    long last_shown;
    er_buf line;     /* current line, up to LINE_SHOW_MAX */
    size_t line_len; /* its full length */
    er_buf content;
    size_t cost; /* of content, escaped as JSON */
    bool truncated;
} reader;

static void finish_line(reader *r)
{
    long no = ++r->lineno;
    if (no >= r->start && (r->end == 0 || no <= r->end) && !r->truncated) {
        size_t need = er_tools_json_cost(r->line.ptr ? r->line.ptr : "", r->line.len) + 40;
        if (r->cost + need > READ_CONTENT_MAX) {
            r->truncated = true;
        } else {
            r->cost += need;
            er_buf_printf(&r->content, "%6ld\t", no);
            er_buf_append(&r->content, r->line.ptr ? r->line.ptr : "", r->line.len);
            if (r->line_len > r->line.len)
                er_buf_printf(&r->content, " [... %zu more bytes]", r->line_len - r->line.len);
            er_buf_putc(&r->content, '\n');
            r->last_shown = no;
        }
    }
    er_buf_reset(&r->line);
    r->line_len = 0;
}

static void feed(reader *r, const char *p, size_t n)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        bool wanted = r->lineno + 1 >= r->start && (r->end == 0 || r->lineno + 1 <= r->end);
        if (wanted && r->line.len < LINE_SHOW_MAX) {
            size_t take = seg < LINE_SHOW_MAX - r->line.len ? seg : LINE_SHOW_MAX - r->line.len;
            er_buf_append(&r->line, p, take);
        }
        r->line_len += seg;
        if (!nl)
            return;
        finish_line(r);
        p += seg + 1;
        n -= seg + 1;
    }
}

/* Streams the file through r; *exact is false when counting stopped early. */
static int scan_file(reader *r, int fd, const target *t, bool *exact, er_error *err)
{
    const char *rel = t->rel;
    char chunk[65536];
    size_t scanned = 0;
    ssize_t n;
    *exact = true;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        if (target_cancelled(t))
            return er_error_set(err, ER_ECANCELLED, "read_file: cancelled");
        if (scanned == 0 && looks_binary(chunk, (size_t)n))
            return binary_error(err, rel);
        scanned += (size_t)n;
        feed(r, chunk, (size_t)n);
        if (scanned >= READ_SCAN_MAX) {
            *exact = false;
            return 0;
        }
    }
    if (n < 0)
        return er_error_set(err, ER_EIO, "cannot read %s: %s", rel, strerror(errno));
    if (r->line_len) /* a last line without a newline */
        finish_line(r);
    return 0;
}

static int read_range(long *start, long *end, const cJSON *args, er_error *err)
{
    double s = er_json_num(args, "start", 1), e = er_json_num(args, "end", 0);
    if (s < 1 || s > 1e12)
        return er_error_set(err, ER_EINVAL, "read_file: start must be a line number from 1");
    if (e != 0 && (e < s || e > 1e12))
        return er_error_set(err, ER_EINVAL, "read_file: end (%.0f) must not be before start (%.0f)",
                            e, s);
    *start = (long)s;
    *end = (long)e;
    return 0;
}

static int read_result(cJSON *o, reader *r, bool exact, const char *rel, er_error *err)
{
    if (r->start > 1 && r->start > r->lineno && exact)
        return er_error_set(err, ER_EINVAL, "%s has only %ld lines; start %ld is past the end", rel,
                            r->lineno, r->start);
    er_json_add_str(o, "path", rel);
    er_json_add_num(o, "start", (double)r->start);
    er_json_add_num(o, "end", (double)(r->last_shown ? r->last_shown : r->start - 1));
    er_json_add_num(o, exact ? "total_lines" : "total_lines_at_least", (double)r->lineno);
    er_tools_add_text(o, "content", r->content.ptr, r->content.len, SIZE_MAX);
    er_json_add_bool(o, "truncated", r->truncated);
    if (r->truncated) {
        char hint[96];
        snprintf(hint, sizeof hint, "output capped; continue with start=%ld", r->last_shown + 1);
        er_json_add_str(o, "hint", hint);
    }
    return 0;
}

static int read_body(cJSON *o, const target *t, const cJSON *args, er_error *err)
{
    reader r;
    memset(&r, 0, sizeof r);
    int rc = read_range(&r.start, &r.end, args, err);
    int fd = -1;
    if (rc == 0)
        rc = open_regular(&fd, t, err);
    bool exact = true;
    if (rc == 0 && (rc = scan_file(&r, fd, t, &exact, err)) == 0)
        rc = read_result(o, &r, exact, t->rel, err);
    if (fd >= 0)
        close(fd);
    er_buf_release(&r.line);
    er_buf_release(&r.content);
    return rc;
}

static int run_read(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return on_path(ctx, args, out, read_body, err);
}

/* ---- writing ---- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Keeps what the file was for `errand undo` (checkpoint.h) before it is
 * replaced: a write whose before-content cannot be kept does not happen. */
static int checkpoint(const target *t, bool had, mode_t mode, const char *data, size_t len,
                      er_error *err)
{
    er_buf old = ER_BUF_INIT;
    int rc = had ? slurp(&old, t, ER_CHECKPOINT_FILE_MAX, err) : 0;
    if (rc == ER_ETOOBIG)
        rc = er_error_set(err, ER_ETOOBIG,
                          "%s is over %u MB, too large to keep for `errand undo`; change it "
                          "with `run` instead",
                          t->rel, ER_CHECKPOINT_FILE_MAX >> 20);
    if (rc == 0)
        rc = er_checkpoint_record(&t->at, t->ws->root, t->rel, had, old.ptr, old.len,
                                  (unsigned)mode, data, len, err);
    er_buf_release(&old);
    return rc;
}

/* Writes data to a temporary file beside t->abs and renames it over it, both
 * by name inside the parent directory opened beneath the root: neither the
 * new file nor the replacement can land outside through a symlink. */
static int write_atomic(const target *t, const char *data, size_t len, er_error *err)
{
    static unsigned seq;
    const char *slash = strrchr(t->abs, '/');
    char *dir = slash == t->abs ? er_xstrdup("/") : er_xstrndup(t->abs, (size_t)(slash - t->abs));
    int dfd;
    int rc = er_workspace_open(&dfd, t->ws, dir, O_RDONLY | O_DIRECTORY, err);
    free(dir);
    if (rc)
        return rc;
    const char *base = slash + 1;
    struct stat st;
    bool had = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
    if (t->at.task_id && (rc = checkpoint(t, had, had ? st.st_mode : 0644, data, len, err)) != 0) {
        close(dfd);
        return rc;
    }
    char *tmp = er_xasprintf(".%s.errand-%ld-%u.tmp", base, (long)getpid(),
                             __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", t->rel, strerror(errno));
    else if (write_all(fd, data, len) != 0 || (had && fchmod(fd, st.st_mode & 07777) != 0))
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", t->rel, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", t->rel, strerror(errno));
    if (rc == 0 && renameat(dfd, tmp, dfd, base) != 0)
        rc = er_error_set(err, ER_EIO, "cannot replace %s: %s", t->rel, strerror(errno));
    if (rc && fd >= 0)
        unlinkat(dfd, tmp, 0);
    free(tmp);
    close(dfd);
    return rc;
}

static size_t count_lines(const char *p, size_t n)
{
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += p[i] == '\n';
    return lines + (n && p[n - 1] != '\n');
}

static void add_diff(cJSON *o, const char *rel, const char *a, size_t alen, const char *b,
                     size_t blen)
{
    er_buf d = ER_BUF_INIT;
    size_t changed = er_diff_unified(&d, rel, a, alen, b, blen);
    if (changed)
        er_tools_add_text(o, "diff", d.ptr, d.len, DIFF_KEEP);
    else
        er_json_add_str(o, "diff", "no change");
    er_json_add_num(o, "changed_lines", (double)changed);
    er_buf_release(&d);
}

static int write_body(cJSON *o, const target *t, const cJSON *args, er_error *err)
{
    const char *content = er_json_str(args, "content");
    size_t len = content ? strlen(content) : 0;
    if (!content)
        return er_error_set(err, ER_EINVAL, "write_file: content is missing");
    if (len > WRITE_CONTENT_MAX)
        return er_error_set(err, ER_ETOOBIG, "write_file: content is over %u MB",
                            WRITE_CONTENT_MAX >> 20);
    struct stat st;
    bool exists = lstat(t->abs, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return er_error_set(err, ER_EINVAL, "%s is a directory; give a file path", t->rel);
    if (exists && !S_ISREG(st.st_mode))
        return er_error_set(err, ER_EINVAL, "%s is a %s, not a regular file; not replaced", t->rel,
                            kind_of(st.st_mode));
    er_buf old = ER_BUF_INIT;
    bool have_old = exists && slurp(&old, t, EDIT_FILE_MAX, NULL) == 0;
    int rc = exists ? 0 : er_workspace_mkdirs(t->ws, t->abs, err);
    if (rc == 0)
        rc = write_atomic(t, content, len, err);
    if (rc == 0) {
        er_json_add_str(o, "path", t->rel);
        er_json_add_num(o, "bytes", (double)len);
        er_json_add_num(o, "lines", (double)count_lines(content, len));
        er_json_add_bool(o, "created", !exists);
        if (!exists)
            er_json_add_str(o, "diff", "new file");
        else if (!have_old || looks_binary(old.ptr, old.len))
            er_json_add_str(o, "diff", "previous content was binary or too large to diff");
        else
            add_diff(o, t->rel, old.ptr, old.len, content, len);
    }
    er_buf_release(&old);
    return rc;
}

static int run_write(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    int rc = er_tools_need_writable(ctx, err);
    return rc ? rc : on_path(ctx, args, out, write_body, err);
}

/* ---- edit_file ---- */

static size_t count_matches(const char *hay, size_t n, const char *needle, size_t m)
{
    size_t count = 0;
    for (const char *p = hay; (p = memmem(p, n - (size_t)(p - hay), needle, m)) != NULL; p += m)
        count++;
    return count;
}

static void replace(er_buf *dst, const char *hay, size_t n, const char *old, size_t m,
                    const char *new_text)
{
    const char *p = hay, *end = hay + n, *hit;
    while ((hit = memmem(p, (size_t)(end - p), old, m)) != NULL) {
        er_buf_append(dst, p, (size_t)(hit - p));
        er_buf_puts(dst, new_text);
        p = hit + m;
    }
    er_buf_append(dst, p, (size_t)(end - p));
}

static int no_match(er_error *err, const char *rel, const char *old)
{
    /* A common slip: text copied from read_file with its line-number gutter. */
    const char *p = old;
    while (*p == ' ')
        p++;
    bool gutter = *p >= '0' && *p <= '9' && strchr(p, '\t') &&
                  strspn(p, "0123456789") == (size_t)(strchr(p, '\t') - p);
    return er_error_set(err, ER_ENOTFOUND, "no match for the text in %s; read it again%s", rel,
                        gutter ? " (leave out the line numbers read_file adds)" : "");
}

static int edit_body(cJSON *o, const target *t, const cJSON *args, er_error *err)
{
    const char *rel = t->rel;
    const char *old = er_json_str(args, "old"), *new_text = er_json_str(args, "new");
    bool all = er_json_bool(args, "replace_all", false);
    if (er_str_empty(old) || !new_text)
        return er_error_set(err, ER_EINVAL,
                            "edit_file: give the exact text to replace (old) "
                            "and its replacement (new)");
    if (strcmp(old, new_text) == 0)
        return er_error_set(err, ER_EINVAL,
                            "edit_file: old and new are the same; nothing to change");
    er_buf cur;
    int rc = slurp(&cur, t, EDIT_FILE_MAX, err);
    if (rc)
        return rc;
    size_t m = strlen(old);
    size_t hits = looks_binary(cur.ptr, cur.len) ? 0 : count_matches(cur.ptr, cur.len, old, m);
    er_buf next = ER_BUF_INIT;
    if (looks_binary(cur.ptr, cur.len))
        rc = binary_error(err, rel);
    else if (hits == 0)
        rc = no_match(err, rel, old);
    else if (hits > 1 && !all)
        rc = er_error_set(err, ER_EINVAL, "%zu matches in %s; give more context or set replace_all",
                          hits, rel);
    if (rc == 0) {
        replace(&next, cur.ptr, cur.len, old, m, new_text);
        rc = write_atomic(t, next.ptr ? next.ptr : "", next.len, err);
    }
    if (rc == 0) {
        er_json_add_str(o, "path", rel);
        er_json_add_num(o, "replacements", (double)hits);
        add_diff(o, rel, cur.ptr, cur.len, next.ptr ? next.ptr : "", next.len);
    }
    er_buf_release(&cur);
    er_buf_release(&next);
    return rc;
}

static int run_edit(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    int rc = er_tools_need_writable(ctx, err);
    return rc ? rc : on_path(ctx, args, out, edit_body, err);
}

/* ---- previews: what a write or edit would change, before it is approved ---- */

#define PREVIEW_KEEP (48 * 1024)

typedef void (*preview_body)(er_buf *out, const target *t, const cJSON *args);

static char *preview_on_path(const er_tool_ctx *ctx, const cJSON *args, preview_body body)
{
    er_workspace ws;
    er_error err = { 0 };
    if (er_tools_workspace(&ws, ctx, &err))
        return NULL;
    er_buf b = ER_BUF_INIT;
    char *abs = NULL;
    if (er_workspace_resolve(&abs, &ws, er_json_str(args, "path"), &err) == 0) {
        target t = { &ws, abs, er_workspace_rel(&ws, abs), ctx->cancel, { NULL, 0, NULL } };
        body(&b, &t, args);
    } else {
        er_buf_printf(&b, "will fail: %s\n", err.msg);
    }
    free(abs);
    er_workspace_release(&ws);
    return b.len ? er_buf_detach(&b) : (er_buf_release(&b), NULL);
}

/* The change as a diff, cut when long (the dialog scrolls, but a megabyte of
 * diff is no one's reading). */
static void preview_diff(er_buf *out, const char *rel, const char *a, size_t alen, const char *b,
                         size_t blen)
{
    er_buf d = ER_BUF_INIT;
    if (er_diff_unified(&d, rel, a, alen, b, blen) == 0)
        er_buf_puts(out, "no change: the content is the same\n");
    else
        er_tools_clip(out, d.ptr, d.len, PREVIEW_KEEP);
    er_buf_release(&d);
}

static void write_preview(er_buf *out, const target *t, const cJSON *args)
{
    const char *content = er_json_str(args, "content");
    if (!content)
        return;
    size_t len = strlen(content);
    struct stat st;
    if (lstat(t->abs, &st) != 0) {
        er_buf_printf(out, "new file %s, %zu lines\n", t->rel, count_lines(content, len));
        preview_diff(out, t->rel, "", 0, content, len);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        er_buf_printf(out, "will fail: %s is a %s\n", t->rel,
                      S_ISDIR(st.st_mode) ? "directory" : kind_of(st.st_mode));
        return;
    }
    er_buf old = ER_BUF_INIT;
    if (slurp(&old, t, EDIT_FILE_MAX, NULL) != 0 || looks_binary(old.ptr, old.len)) {
        er_buf_printf(out,
                      "overwrites the existing file %s (%lld bytes, binary or too large to "
                      "diff) with %zu lines\n",
                      t->rel, (long long)st.st_size, count_lines(content, len));
    } else {
        er_buf_printf(out, "overwrites the existing file %s: %zu lines now, %zu after\n", t->rel,
                      count_lines(old.ptr, old.len), count_lines(content, len));
        preview_diff(out, t->rel, old.ptr, old.len, content, len);
    }
    er_buf_release(&old);
}

static void edit_preview(er_buf *out, const target *t, const cJSON *args)
{
    const char *old = er_json_str(args, "old"), *new_text = er_json_str(args, "new");
    if (er_str_empty(old) || !new_text)
        return;
    er_buf cur;
    er_error err = { 0 };
    if (slurp(&cur, t, EDIT_FILE_MAX, &err) != 0) {
        er_buf_printf(out, "will fail: %s\n", err.msg);
        return;
    }
    size_t m = strlen(old);
    size_t hits = looks_binary(cur.ptr, cur.len) ? 0 : count_matches(cur.ptr, cur.len, old, m);
    if (hits == 0) {
        er_buf_printf(out, "will fail: the text to replace is not in %s\n", t->rel);
    } else if (hits > 1 && !er_json_bool(args, "replace_all", false)) {
        er_buf_printf(out, "will fail: %zu matches in %s\n", hits, t->rel);
    } else {
        er_buf next = ER_BUF_INIT;
        replace(&next, cur.ptr, cur.len, old, m, new_text);
        er_buf_printf(out, "edits %s: %zu replacement%s\n", t->rel, hits, hits == 1 ? "" : "s");
        preview_diff(out, t->rel, cur.ptr, cur.len, next.ptr ? next.ptr : "", next.len);
        er_buf_release(&next);
    }
    er_buf_release(&cur);
}

char *er_fs_preview_write(const er_tool_ctx *ctx, const cJSON *args)
{
    return preview_on_path(ctx, args, write_preview);
}

char *er_fs_preview_edit(const er_tool_ctx *ctx, const cJSON *args)
{
    return preview_on_path(ctx, args, edit_preview);
}

/* ---- list_dir ---- */

typedef struct entry {
    char *name;
    const char *type;
    long long size;
    char *target; /* symlinks */
} entry;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static const char *type_of(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

/* What list_dir leaves out, as the search tools do (walk.h). */
typedef struct list_filter {
    bool hidden;   /* show hidden names */
    er_ignore *ig; /* NULL: no ignore rules */
    size_t hidden_skipped, ignored;
    er_buf path;
} list_filter;

static bool left_out(list_filter *f, const target *t, const char *name, const struct stat *st)
{
    if (name[0] == '.' && !f->hidden) {
        f->hidden_skipped++;
        return true;
    }
    if (!f->ig)
        return false;
    er_buf_reset(&f->path);
    er_buf_printf(&f->path, "%s/%s", strcmp(t->abs, "/") == 0 ? "" : t->abs, name);
    if (!er_ignore_match(f->ig, f->path.ptr, S_ISDIR(st->st_mode)))
        return false;
    f->ignored++;
    return true;
}

static size_t read_entries(DIR *d, const target *t, list_filter *f, entry **out)
{
    size_t n = 0, cap = 0, seen = 0;
    entry *v = NULL;
    struct dirent *de;
    /* Millions of entries (a stat each) make a long loop: cut short on cancel. */
    while (((seen++ & 1023) != 1023 || !target_cancelled(t)) && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            left_out(f, t, de->d_name, &st))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            v = er_xrealloc(v, cap * sizeof *v);
        }
        v[n] = (entry){ er_xstrdup(de->d_name), type_of(st.st_mode), (long long)st.st_size, NULL };
        if (S_ISLNK(st.st_mode)) {
            char buf[4096];
            ssize_t len = readlinkat(dirfd(d), de->d_name, buf, sizeof buf - 1);
            v[n].target = len >= 0 ? er_xstrndup(buf, (size_t)len) : NULL;
        }
        n++;
    }
    *out = v;
    return n;
}

static void add_entries(cJSON *o, entry *v, size_t n)
{
    if (n) /* an empty directory has no array at all: qsort must not see NULL */
        qsort(v, n, sizeof *v, by_name);
    cJSON *arr = cJSON_CreateArray();
    size_t shown = 0, cost = 0;
    for (size_t i = 0; i < n; i++) {
        cost += er_tools_json_cost(v[i].name, strlen(v[i].name)) + 48 +
                (v[i].target ? er_tools_json_cost(v[i].target, strlen(v[i].target)) + 12 : 0);
        if (shown == i && i < LIST_MAX && cost < ER_TOOLS_BUDGET) {
            shown++;
            cJSON *e = cJSON_CreateObject();
            er_tools_add_text(e, "name", v[i].name, strlen(v[i].name), 1024);
            er_json_add_str(e, "type", v[i].type);
            if (strcmp(v[i].type, "dir") != 0)
                er_json_add_num(e, "size", (double)v[i].size);
            if (v[i].target)
                er_tools_add_text(e, "target", v[i].target, strlen(v[i].target), 1024);
            er_json_append(arr, e);
        }
        free(v[i].name);
        free(v[i].target);
    }
    er_json_add(o, "entries", arr);
    er_json_add_num(o, "count", (double)n);
    er_json_add_bool(o, "truncated", shown < n);
}

static int list_body(cJSON *o, const target *t, const cJSON *args, er_error *err)
{
    struct stat st;
    if (stat(t->abs, &st) == 0 && !S_ISDIR(st.st_mode))
        return er_error_set(err, ER_EINVAL, "cannot list %s: Not a directory", t->rel);
    int fd;
    int rc = er_workspace_open(&fd, t->ws, t->abs, O_RDONLY | O_DIRECTORY, err);
    if (rc)
        return rc;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return er_error_set(err, ER_EIO, "cannot list %s: %s", t->rel, strerror(errno));
    }
    entry *v;
    list_filter f = { .hidden = er_json_bool(args, "hidden", false) };
    if (!er_json_bool(args, "no_ignore", false))
        f.ig = er_ignore_new(t->ws->root, t->abs);
    size_t n = read_entries(d, t, &f, &v);
    closedir(d);
    er_ignore_free(f.ig);
    er_buf_release(&f.path);
    if (target_cancelled(t)) {
        add_entries(o, v, n); /* frees them */
        free(v);
        return er_error_set(err, ER_ECANCELLED, "list_dir: cancelled");
    }
    er_json_add_str(o, "path", t->rel);
    add_entries(o, v, n);
    free(v);
    er_json_add_num(o, "ignored", (double)f.ignored);
    er_json_add_num(o, "hidden_skipped", (double)f.hidden_skipped);
    return 0;
}

static int run_list(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return on_path(ctx, args, out, list_body, err);
}

static const er_tool fs_tools[] = {
    { "read_file",
      "Read a text file of the workspace with numbered lines (1-based). Give start/end for a "
      "range of a long file; the result says the total line count.",
      "{\"type\":\"object\",\"properties\":{"
      "\"path\":{\"type\":\"string\",\"description\":\"file path, relative to the workspace\"},"
      "\"start\":{\"type\":\"integer\",\"description\":\"first line to show (default 1)\"},"
      "\"end\":{\"type\":\"integer\",\"description\":\"last line to show, inclusive (default: "
      "end of file)\"}},"
      "\"required\":[\"path\"],\"additionalProperties\":false}",
      ER_PERM_READ, "show PATH[:START[-END]]", run_read, .idempotent = true },
    { "write_file",
      "Create or overwrite a file in the workspace with the given content (parent directories "
      "are created). Returns a unified diff against the previous content.",
      "{\"type\":\"object\",\"properties\":{"
      "\"path\":{\"type\":\"string\",\"description\":\"file path, relative to the workspace\"},"
      "\"content\":{\"type\":\"string\",\"description\":\"the complete new content\"}},"
      "\"required\":[\"path\",\"content\"],\"additionalProperties\":false}",
      ER_PERM_WRITE, "write PATH CONTENT...", run_write,
      .idempotent = true }, /* the whole content: writing it twice leaves the same file */
    { "edit_file",
      "Replace an exact piece of text in a file. old must match exactly once (include enough "
      "surrounding lines) unless replace_all is set. Returns a unified diff of the change.",
      "{\"type\":\"object\",\"properties\":{"
      "\"path\":{\"type\":\"string\",\"description\":\"file path, relative to the workspace\"},"
      "\"old\":{\"type\":\"string\",\"description\":\"exact text to replace, without line "
      "numbers\"},"
      "\"new\":{\"type\":\"string\",\"description\":\"replacement text\"},"
      "\"replace_all\":{\"type\":\"boolean\",\"description\":\"replace every occurrence "
      "(default false)\"}},"
      "\"required\":[\"path\",\"old\",\"new\"],\"additionalProperties\":false}",
      ER_PERM_WRITE, "edit PATH OLD NEW", run_edit,
      .idempotent = false }, /* its second run would meet its own result */
    { "list_dir",
      "List a directory of the workspace: names sorted, with type (file, dir, symlink) and size. "
      "Hidden names and what git ignores are left out (counted) unless asked for.",
      "{\"type\":\"object\",\"properties\":{"
      "\"path\":{\"type\":\"string\",\"description\":\"directory, relative to the workspace "
      "(default: its root)\"},"
      "\"hidden\":{\"type\":\"boolean\",\"description\":\"show hidden names (default "
      "false)\"},"
      "\"no_ignore\":{\"type\":\"boolean\",\"description\":\"show what .gitignore, .ignore "
      "or .errandignore leave out (default false)\"}},"
      "\"required\":[],\"additionalProperties\":false}",
      ER_PERM_READ, "ls [PATH]", run_list, .idempotent = true },
};

const er_tool_family er_tools_fs = { "fs", fs_tools, ER_ARRAY_LEN(fs_tools) };
