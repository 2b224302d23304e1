/* checkpoint.c — the before-contents of the files a task's file tools changed,
 * and `errand undo` (checkpoint.h).
 *
 * A checkpoint directory holds index.jsonl, one line per write:
 *   {"path", "root", "step", "agent"?, "existed"?, "mode"?, "before"?, "after", "ts"}
 * "existed" and "mode", and "before" (a blob file name beside the index) when
 * the file existed, only on the first write of a path in a step: what the
 * file was when the step began; "after" is the SHA-256 of what each write
 * left, so undo can tell the file changed since.  Lines without "step" (older
 * versions kept the first write of the whole task) are step 0.  Beside the
 * index, "undone" marks the whole task undone and "undone_from" (a step
 * number) the steps from it on.  The index is flocked while read and
 * appended, so parallel calls number the blobs once. */
#include "errand/checkpoint.h"
#include "errand/file_replace.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/config.h"
#include "errand/digest.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define ABSENT "absent" /* the "after" of a file that is not there */

static bool valid_id(const char *id)
{
    if (er_str_empty(id) || strlen(id) > 64)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

/* $XDG_DATA_HOME/errand/checkpoints, made when make. OWNED. */
static char *base_dir(bool make, er_error *err)
{
    char *data = er_xdg_dir("data", make, err);
    if (!data)
        return NULL;
    char *dir = er_xasprintf("%s/checkpoints", data);
    free(data);
    if (make && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        er_error_set(err, ER_EIO, "cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

/* The whole of an open file, up to max bytes. */
static int read_fd(int fd, er_buf *out, size_t max, const char *what, er_error *err)
{
    er_buf_init(out, max);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        if (er_buf_append(out, chunk, (size_t)n) != 0) {
            er_buf_release(out);
            return er_error_set(err, ER_ETOOBIG, "%s is over %zu MB", what, max >> 20);
        }
    if (n < 0) {
        er_buf_release(out);
        return er_error_set(err, ER_EIO, "cannot read %s: %s", what, strerror(errno));
    }
    if (!out->ptr)
        er_buf_puts(out, "");
    return 0;
}

static int write_file(const char *path, const char *data, size_t len, unsigned mode, er_error *err)
{
    return er_file_replace(path, data, len, mode, false, err);
}

/* The index's lines as a JSON array (lines that do not parse are skipped: a
 * write cut by a crash). */
static cJSON *parse_index(const char *text)
{
    cJSON *all = cJSON_CreateArray();
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        cJSON *line = cJSON_ParseWithLength(p, len);
        if (line && cJSON_IsObject(line))
            er_json_append(all, line);
        else
            cJSON_Delete(line);
        p += len + (nl != NULL);
    }
    return all;
}

static int rec_step(const cJSON *e)
{
    return (int)er_json_int(e, "step", 0, 0, INT_MAX);
}

/* Whether path has a line at step already (the one that kept its content). */
static bool seen_at(const cJSON *index, const char *path, int step)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, index) if (rec_step(e) == step &&
                                     er_str_eq(er_json_str(e, "path"), path)) return true;
    return false;
}

typedef struct rec {
    const er_checkpoint_at *at;
    const char *rel, *root;
    bool existed;
    const char *old;
    size_t olen;
    unsigned mode;
    char after[65];
} rec;

/* Under the index's lock: keeps the before-content the first time in the
 * step, appends the line. */
static int append_locked(int fd, const char *dir, const rec *r, er_error *err)
{
    er_buf text;
    int rc = read_fd(fd, &text, 64u * 1024 * 1024, "the checkpoint index", err);
    if (rc)
        return rc;
    cJSON *index = parse_index(text.ptr);
    er_buf_release(&text);
    int step = r->at->step > 0 ? r->at->step : 0;
    bool first = !seen_at(index, r->rel, step);
    int nblobs = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, index) nblobs += er_json_str(e, "before") != NULL;
    cJSON_Delete(index);
    cJSON *line = cJSON_CreateObject();
    er_json_add_str(line, "path", r->rel);
    er_json_add_str(line, "root", r->root);
    er_json_add_num(line, "ts", (double)er_time_ms());
    er_json_add_str(line, "after", r->after);
    er_json_add_num(line, "step", step);
    if (!er_str_empty(r->at->agent))
        er_json_add_str(line, "agent", r->at->agent);
    if (first) {
        er_json_add_bool(line, "existed", r->existed);
        er_json_add_num(line, "mode", r->mode);
        if (r->existed) {
            char name[32];
            snprintf(name, sizeof name, "b%d", nblobs);
            char *blob = er_xasprintf("%s/%s", dir, name);
            rc = write_file(blob, r->old, r->olen, 0600, err);
            free(blob);
            er_json_add_str(line, "before", name);
        }
    }
    if (rc == 0) {
        char *s = cJSON_PrintUnformatted(line);
        size_t n = strlen(s);
        s[n] = '\n'; /* replaces the NUL: written with its length */
        if (write(fd, s, n + 1) != (ssize_t)(n + 1))
            rc = er_error_set(err, ER_EIO, "cannot append to the checkpoint index: %s",
                              strerror(errno));
        free(s);
    }
    cJSON_Delete(line);
    return rc;
}

int er_checkpoint_record(const er_checkpoint_at *at, const char *root, const char *rel,
                         bool existed, const char *old, size_t olen, unsigned mode,
                         const char *next, size_t nlen, er_error *err)
{
    char after[65];
    int rc = er_sha256_hex(next ? next : "", nlen, after, err);
    return rc ? rc : er_checkpoint_record_seen(at, root, rel, existed, old, olen, mode, after, err);
}

int er_checkpoint_record_seen(const er_checkpoint_at *at, const char *root, const char *rel,
                              bool existed, const char *old, size_t olen, unsigned mode,
                              const char *after, er_error *err)
{
    if (!at || !valid_id(at->task_id))
        return er_error_set(err, ER_EINVAL, "a checkpoint needs a task id");
    if (existed && olen > ER_CHECKPOINT_FILE_MAX)
        return er_error_set(err, ER_ETOOBIG,
                            "%s is over %u MB, too large to keep for `errand undo`; change it "
                            "with `run` instead",
                            rel, ER_CHECKPOINT_FILE_MAX >> 20);
    rec r = { at, rel, root, existed, old, olen, mode, { 0 } };
    snprintf(r.after, sizeof r.after, "%s", after ? after : ABSENT);
    int rc = 0;
    char *base = base_dir(true, err);
    if (!base)
        return err->code ? err->code : ER_EIO;
    char *dir = er_xasprintf("%s/%s", base, at->task_id);
    free(base);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = er_error_set(err, ER_EIO, "cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return rc;
    }
    char *path = er_xasprintf("%s/index.jsonl", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = er_error_set(err, ER_EIO, "cannot open %s: %s", path, strerror(errno));
    else if (flock(fd, LOCK_EX) != 0)
        rc = er_error_set(err, ER_EIO, "cannot lock %s: %s", path, strerror(errno));
    else
        rc = append_locked(fd, dir, &r, err);
    if (fd >= 0)
        close(fd); /* releases the lock */
    free(path);
    free(dir);
    return rc;
}

/* ---- reading checkpoints back ---- */

static cJSON *load_index(const char *dir, er_error *err)
{
    char *path = er_xasprintf("%s/index.jsonl", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0) {
        er_error_set(err, ER_ENOTFOUND, "no checkpoint index in %s", dir);
        return NULL;
    }
    er_buf text;
    flock(fd, LOCK_SH);
    int rc = read_fd(fd, &text, 64u * 1024 * 1024, "the checkpoint index", err);
    close(fd);
    if (rc)
        return NULL;
    cJSON *index = parse_index(text.ptr);
    er_buf_release(&text);
    return index;
}

/* The lines still in force are those of steps below this: 0 once the whole
 * task was undone, N once steps N.. were, INT_MAX before any undo. */
static int live_limit(const char *dir)
{
    char *mark = er_xasprintf("%s/undone", dir);
    bool whole = access(mark, F_OK) == 0;
    free(mark);
    if (whole)
        return 0;
    char *from = er_xasprintf("%s/undone_from", dir);
    int fd = open(from, O_RDONLY | O_CLOEXEC);
    free(from);
    if (fd < 0)
        return INT_MAX;
    char text[32] = "";
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    long v = n > 0 ? strtol(text, NULL, 10) : 0;
    return v > 0 && v < INT_MAX ? (int)v : INT_MAX;
}

static void add_unique(cJSON *arr, const char *s)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) if (er_str_eq(x->valuestring, s)) return;
    er_json_append(arr, cJSON_CreateString(s));
}

static int by_value(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* [{"step", "agents", "files", "undone"}] in step order. OWNED. */
static cJSON *steps_of(const cJSON *index, int limit)
{
    int n = cJSON_GetArraySize(index), k = 0;
    int *steps = er_xcalloc(n ? (size_t)n : 1, sizeof *steps);
    const cJSON *e;
    cJSON_ArrayForEach(e, index)
    {
        int st = rec_step(e), i = 0;
        while (i < k && steps[i] != st)
            i++;
        if (i == k)
            steps[k++] = st;
    }
    qsort(steps, (size_t)k, sizeof *steps, by_value);
    cJSON *out = cJSON_CreateArray();
    for (int i = 0; i < k; i++) {
        cJSON *st = cJSON_CreateObject(), *agents = cJSON_CreateArray(),
              *files = cJSON_CreateArray();
        cJSON_ArrayForEach(e, index) if (rec_step(e) == steps[i])
        {
            add_unique(files, er_json_str(e, "path"));
            if (er_json_str(e, "agent"))
                add_unique(agents, er_json_str(e, "agent"));
        }
        er_json_add_num(st, "step", steps[i]);
        er_json_add(st, "agents", agents);
        er_json_add(st, "files", files);
        er_json_add_bool(st, "undone", steps[i] >= limit);
        er_json_append(out, st);
    }
    free(steps);
    return out;
}

/* {"id", "created_ms", "root", "files", "undone", "undone_from"?, "steps"} of
 * one checkpoint, or NULL. */
static cJSON *describe(const char *base, const char *id)
{
    char *dir = er_xasprintf("%s/%s", base, id);
    er_error err = { 0 };
    cJSON *index = load_index(dir, &err);
    cJSON *d = NULL;
    if (index && cJSON_GetArraySize(index) > 0) {
        const cJSON *first = cJSON_GetArrayItem(index, 0);
        int limit = live_limit(dir), live = 0;
        d = cJSON_CreateObject();
        er_json_add_str(d, "id", id);
        er_json_add_num(d, "created_ms", er_json_num(first, "ts", 0));
        er_json_add_str(d, "root", er_json_str(first, "root") ? er_json_str(first, "root") : "");
        cJSON *files = cJSON_CreateArray();
        const cJSON *e;
        cJSON_ArrayForEach(e, index)
        {
            add_unique(files, er_json_str(e, "path"));
            live += rec_step(e) < limit;
        }
        er_json_add(d, "files", files);
        er_json_add_bool(d, "undone", live == 0);
        if (limit > 0 && limit < INT_MAX && live)
            er_json_add_num(d, "undone_from", limit);
        er_json_add(d, "steps", steps_of(index, limit));
    }
    cJSON_Delete(index);
    free(dir);
    return d;
}

static int newest_first(const void *a, const void *b)
{
    double x = er_json_num(*(cJSON *const *)a, "created_ms", 0);
    double y = er_json_num(*(cJSON *const *)b, "created_ms", 0);
    return (x < y) - (x > y);
}

int er_checkpoint_list(cJSON **out, er_error *err)
{
    *out = cJSON_CreateArray();
    char *base = base_dir(false, err);
    if (!base)
        return err->code;
    DIR *d = opendir(base);
    if (!d) {
        free(base);
        return 0; /* none yet */
    }
    cJSON **items = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!valid_id(de->d_name))
            continue;
        cJSON *c = describe(base, de->d_name);
        if (!c)
            continue;
        items = er_xrealloc(items, (n + 1) * sizeof *items);
        items[n++] = c;
    }
    closedir(d);
    free(base);
    if (n)
        qsort(items, n, sizeof *items, newest_first);
    for (size_t i = 0; i < n; i++)
        er_json_append(*out, items[i]);
    free(items);
    return 0;
}

/* The checkpoint undo means: id or its unique prefix, else the newest not undone. */
static int pick(const cJSON *all, const char *id, const cJSON **out, er_error *err)
{
    *out = NULL;
    const cJSON *c;
    int hits = 0;
    cJSON_ArrayForEach(c, all)
    {
        const char *cid = er_json_str(c, "id");
        if (id ? er_str_starts(cid, id) : !er_json_bool(c, "undone", false)) {
            if (id && strcmp(cid, id) == 0) {
                *out = c;
                return 0;
            }
            if (!*out)
                *out = c;
            hits++;
            if (!id)
                return 0;
        }
    }
    if (hits > 1)
        return er_error_set(err, ER_EINVAL, "'%s' names %d checkpoints; give more of the id", id,
                            hits);
    if (!*out)
        return id ? er_error_set(err, ER_ENOTFOUND,
                                 "no checkpoint '%s' (errand undo --list shows them)", id)
                  : er_error_set(err, ER_ENOTFOUND,
                                 "nothing to undo: no task changed files "
                                 "since the last undo");
    return 0;
}

int er_checkpoint_file_hash(const char *path, char out[65], er_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        snprintf(out, 65, "%s", ABSENT);
        return 0;
    }
    if (fd < 0)
        return er_error_set(err, ER_EIO, "cannot read %s: %s", path, strerror(errno));
    er_buf b;
    int rc = read_fd(fd, &b, 1024u * 1024 * 1024, path, err);
    close(fd);
    if (rc == 0)
        rc = er_sha256_hex(b.ptr, b.len, out, err);
    er_buf_release(&b);
    return rc;
}

/* ---- undoing from a step ---- */

/* One checkpoint opened for an undo from step `from`. */
typedef struct span {
    char *dir;
    cJSON *index;
    int limit;    /* live_limit */
    int from;     /* the first step undone */
    cJSON *paths; /* the files live lines of steps from.. changed, in order */
} span;

static bool in_force(const span *sp, const cJSON *e)
{
    return rec_step(e) < sp->limit;
}

/* The line that kept path's content when the first step from `from` on that
 * changed it began. */
static const cJSON *before_of(const span *sp, const char *path)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, sp->index) if (in_force(sp, e) && rec_step(e) >= sp->from &&
                                         er_str_eq(er_json_str(e, "path"), path) &&
                                         cJSON_HasObjectItem(e, "existed")) return e;
    return NULL;
}

/* The last "after" in force for path. */
static const char *last_after(const span *sp, const char *path)
{
    const char *after = NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, sp->index) if (in_force(sp, e) && er_str_eq(er_json_str(e, "path"), path))
        after = er_json_str(e, "after");
    return after;
}

static int span_open(span *sp, const char *base, const char *id, int from, er_error *err)
{
    *sp = (span){ 0 };
    sp->dir = er_xasprintf("%s/%s", base, id);
    sp->index = load_index(sp->dir, err);
    if (!sp->index)
        return err->code;
    sp->limit = live_limit(sp->dir);
    sp->from = from > 0 ? from : 0;
    sp->paths = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, sp->index) if (in_force(sp, e) && rec_step(e) >= sp->from)
        add_unique(sp->paths, er_json_str(e, "path"));
    return 0;
}

static void span_close(span *sp)
{
    free(sp->dir);
    cJSON_Delete(sp->index);
    cJSON_Delete(sp->paths);
}

/* Puts one file back as it was before the first undone step that changed it. */
static int restore(const char *dir, const cJSON *first, const er_workspace *ws, const char *path,
                   cJSON *rep, er_error *err)
{
    const char *rel = er_json_str(first, "path");
    if (!er_json_bool(first, "existed", false)) {
        if (unlink(path) != 0 && errno != ENOENT)
            return er_error_set(err, ER_EIO, "cannot remove %s: %s", path, strerror(errno));
        er_json_append(cJSON_GetObjectItem(rep, "removed"), cJSON_CreateString(rel));
        return 0;
    }
    char *blob = er_xasprintf("%s/%s", dir, er_json_str(first, "before"));
    int fd = open(blob, O_RDONLY | O_CLOEXEC);
    free(blob);
    if (fd < 0)
        return er_error_set(err, ER_EIO, "the checkpoint's copy of %s is missing", rel);
    er_buf b;
    int rc = read_fd(fd, &b, ER_CHECKPOINT_FILE_MAX, rel, err);
    close(fd);
    /* A command may have removed its directory: made again beneath the root,
     * never through a symlink put in its way. */
    if (rc == 0)
        rc = er_workspace_mkdirs(ws, path, err);
    if (rc) {
        er_buf_release(&b);
        return rc;
    }
    rc = write_file(path, b.ptr, b.len, (unsigned)er_json_num(first, "mode", 0644), err);
    er_buf_release(&b);
    if (rc == 0)
        er_json_append(cJSON_GetObjectItem(rep, "restored"), cJSON_CreateString(rel));
    return rc;
}

/* Which files changed since the task wrote them, into rep's "changed". */
static int find_changed(const span *sp, const char *root, cJSON *rep, er_error *err)
{
    cJSON *changed = cJSON_CreateArray();
    er_json_add(rep, "changed", changed);
    const cJSON *f;
    cJSON_ArrayForEach(f, sp->paths)
    {
        char *path = er_xasprintf("%s/%s", root, f->valuestring);
        char now[65];
        int rc = er_checkpoint_file_hash(path, now, err);
        free(path);
        if (rc)
            return rc;
        if (!er_str_eq(now, last_after(sp, f->valuestring)))
            er_json_append(changed, cJSON_CreateString(f->valuestring));
    }
    return 0;
}

/* "step N" or "the task" for messages. */
static void what(char *out, size_t n, int from, const char *id)
{
    if (from > 0)
        snprintf(out, n, "step %d of task %s", from, id);
    else
        snprintf(out, n, "task %s", id);
}

/* Why there is nothing to undo from sp->from, or 0. */
static int check_undoable(const span *sp, const char *id, er_error *err)
{
    char w[120];
    what(w, sizeof w, sp->from, id);
    if (sp->limit < INT_MAX && sp->from >= sp->limit)
        return sp->limit == 0 || sp->from == 0
                   ? er_error_set(err, ER_ECONFLICT, "checkpoint %s was undone already", id)
                   : er_error_set(err, ER_ECONFLICT,
                                  "steps %d and later of task %s were undone already", sp->limit,
                                  id);
    if (!cJSON_GetArraySize(sp->paths))
        return er_error_set(err, ER_ENOTFOUND,
                            "%s changed no file from then on (errand undo --list shows its "
                            "steps)",
                            w);
    return 0;
}

/* Writes what is undone now: the whole task when nothing earlier stays. */
static int mark_undone(const span *sp, er_error *err)
{
    bool earlier = false;
    const cJSON *e;
    cJSON_ArrayForEach(e, sp->index) earlier |= in_force(sp, e) && rec_step(e) < sp->from;
    char *mark = er_xasprintf("%s/%s", sp->dir, earlier ? "undone_from" : "undone");
    char text[32];
    if (earlier)
        snprintf(text, sizeof text, "%d\n", sp->from);
    else
        snprintf(text, sizeof text, "%lld\n", (long long)er_time_ms());
    int rc = write_file(mark, text, strlen(text), 0600, err);
    free(mark);
    return rc;
}

static int undo_span(const span *sp, const char *id, const char *root, bool force, cJSON *rep,
                     er_error *err)
{
    int rc = check_undoable(sp, id, err);
    if (rc == 0)
        rc = find_changed(sp, root, rep, err);
    int nchanged = cJSON_GetArraySize(cJSON_GetObjectItem(rep, "changed"));
    if (rc == 0 && nchanged && !force) {
        er_buf names = ER_BUF_INIT;
        const cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(rep, "changed"))
            er_buf_printf(&names, "%s%s", names.len ? ", " : "", f->valuestring);
        char w[120];
        what(w, sizeof w, sp->from, id);
        rc = er_error_set(err, ER_ECONFLICT,
                          "not undone: %s changed since task %s wrote %s (nothing was touched; "
                          "--force puts back the content from before %s anyway)",
                          names.ptr, id, nchanged == 1 ? "it" : "them",
                          sp->from > 0 ? w : "the task");
        er_buf_release(&names);
    }
    er_workspace ws = { 0 };
    if (rc == 0)
        rc = er_workspace_init(&ws, root, err);
    const cJSON *f;
    cJSON_ArrayForEach(f, sp->paths)
    {
        if (rc)
            break;
        const cJSON *first = before_of(sp, f->valuestring);
        if (!first) {
            rc = er_error_set(err, ER_EIO, "the checkpoint of task %s keeps no copy of %s", id,
                              f->valuestring);
            break;
        }
        char *path = er_xasprintf("%s/%s", ws.root, f->valuestring);
        rc = restore(sp->dir, first, &ws, path, rep, err);
        free(path);
    }
    if (ws.root)
        er_workspace_release(&ws);
    return rc ? rc : mark_undone(sp, err);
}

/* The checkpoint named (or the newest not undone) and the base directory. */
static int find(const char *id, cJSON **all, const cJSON **c, char **base, er_error *err)
{
    *base = NULL;
    int rc = er_checkpoint_list(all, err);
    if (rc == 0)
        rc = pick(*all, id, c, err);
    if (rc == 0 && !(*base = base_dir(false, err)))
        rc = err->code ? err->code : ER_EIO;
    return rc;
}

int er_checkpoint_undo(const char *id, int from_step, bool force, cJSON **out, er_error *err)
{
    *out = NULL;
    cJSON *all = NULL;
    const cJSON *c = NULL;
    char *base;
    int rc = find(id, &all, &c, &base, err);
    span sp = { 0 };
    if (rc == 0)
        rc = span_open(&sp, base, er_json_str(c, "id"), from_step, err);
    if (rc == 0) {
        *out = cJSON_CreateObject();
        er_json_add_str(*out, "id", er_json_str(c, "id"));
        er_json_add_str(*out, "root", er_json_str(c, "root"));
        er_json_add_num(*out, "step", sp.from);
        er_json_add(*out, "restored", cJSON_CreateArray());
        er_json_add(*out, "removed", cJSON_CreateArray());
        rc = undo_span(&sp, er_json_str(c, "id"), er_json_str(c, "root"), force, *out, err);
    }
    span_close(&sp);
    free(base);
    cJSON_Delete(all);
    return rc;
}

int er_checkpoint_plan(const char *id, int from_step, cJSON **out, er_error *err)
{
    *out = NULL;
    cJSON *all = NULL;
    const cJSON *c = NULL;
    char *base;
    int rc = find(id, &all, &c, &base, err);
    span sp = { 0 };
    if (rc == 0)
        rc = span_open(&sp, base, er_json_str(c, "id"), from_step, err);
    cJSON *p = NULL;
    if (rc == 0) {
        p = cJSON_CreateObject();
        er_json_add_str(p, "id", er_json_str(c, "id"));
        er_json_add_str(p, "root", er_json_str(c, "root"));
        er_json_add_num(p, "created_ms", er_json_num(c, "created_ms", 0));
        er_json_add_num(p, "step", sp.from);
        bool undone = sp.limit < INT_MAX && sp.from >= sp.limit;
        er_json_add_bool(p, "undone", undone || er_json_bool(c, "undone", false));
        er_json_add(p, "steps", cJSON_Duplicate(er_json_arr(c, "steps"), true));
        cJSON *restore = cJSON_CreateArray(), *remove = cJSON_CreateArray();
        const cJSON *f;
        if (!undone)
            cJSON_ArrayForEach(f, sp.paths) er_json_append(
                er_json_bool(before_of(&sp, f->valuestring), "existed", false) ? restore : remove,
                cJSON_CreateString(f->valuestring));
        er_json_add(p, "restore", restore);
        er_json_add(p, "remove", remove);
        rc = find_changed(&sp, er_json_str(c, "root"), p, err);
    }
    if (rc == 0)
        *out = p;
    else
        cJSON_Delete(p);
    span_close(&sp);
    free(base);
    cJSON_Delete(all);
    return rc;
}
