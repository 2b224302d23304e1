/* snapshot.c — the workspace before a `run`, compared after it, the changes
 * recorded in the task's checkpoint (snapshot.h). */
#include "errand/snapshot.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/checkpoint.h"
#include "errand/digest.h"
#include "errand/json.h"
#include "errand/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct entry {
    char *rel;
    struct stat st;
    char *data; /* the content, or NULL when not kept (too large, past the total) */
    size_t len;
    bool seen; /* found again after the command */
} entry;

struct er_snapshot {
    const er_workspace *ws;
    entry *v;
    size_t n, cap;
    uint64_t kept, max_bytes;
    const volatile int *cancel;
    char *note; /* why nothing is recorded */
    int rc;     /* a read that failed during the walk */
    er_error err;
};

/* The whole of a regular file opened beneath dirfd, up to max bytes. */
static int read_at(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    er_buf b;
    er_buf_init(&b, max);
    char chunk[65536];
    ssize_t r;
    int rc = 0;
    while (rc == 0 && (r = read(fd, chunk, sizeof chunk)) != 0)
        if (r < 0 ? errno != EINTR : er_buf_append(&b, chunk, (size_t)r) != 0)
            rc = -1;
    close(fd);
    if (rc) {
        er_buf_release(&b);
        return -1;
    }
    *len = b.len;
    *out = b.ptr ? b.ptr : er_xstrdup("");
    return 0;
}

static void take_visit(er_walker *w, int dirfd, const char *name, const char *abs, const char *rel,
                       enum er_walk_type type)
{
    (void)abs;
    er_snapshot *s = w->payload;
    struct stat st;
    if (type != ER_WALK_FILE || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
        return;
    if (s->n == ER_SNAPSHOT_FILES_MAX) {
        s->note = er_xasprintf("not checkpointed: the workspace has over %d files (undo "
                               "covers the file tools' writes only)",
                               ER_SNAPSHOT_FILES_MAX);
        w->stop = true;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = er_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    entry *e = &s->v[s->n++];
    *e = (entry){ .rel = er_xstrdup(rel), .st = st };
    uint64_t size = (uint64_t)st.st_size;
    if (size <= ER_CHECKPOINT_FILE_MAX && s->kept + size <= s->max_bytes &&
        read_at(dirfd, name, ER_CHECKPOINT_FILE_MAX, &e->data, &e->len) == 0)
        s->kept += e->len;
}

static int by_rel(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->rel, ((const entry *)b)->rel);
}

static void walk(er_snapshot *s,
                 void (*visit)(er_walker *, int, const char *, const char *, const char *,
                               enum er_walk_type),
                 void *payload)
{
    er_walker w = {
        .ws = s->ws, .cancel = s->cancel, .hidden = true, .visit = visit, .payload = payload
    };
    er_walk(&w, s->ws->root);
    if (w.cancelled && !s->rc)
        s->rc = er_error_set(&s->err, ER_ECANCELLED, "cancelled");
}

int er_snapshot_take(er_snapshot **out, const er_workspace *ws, uint64_t max_bytes,
                     const volatile int *cancel, er_error *err)
{
    er_snapshot *s = er_xcalloc(1, sizeof *s);
    *s = (er_snapshot){ .ws = ws, .max_bytes = max_bytes, .cancel = cancel };
    walk(s, take_visit, s);
    if (s->rc) {
        int rc = er_error_set(err, s->rc, "%s", s->err.msg);
        er_snapshot_free(s);
        *out = NULL;
        return rc;
    }
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, by_rel);
    s->cancel = NULL; /* what a cancelled command changed is still recorded */
    *out = s;
    return 0;
}

size_t er_snapshot_files(const er_snapshot *s)
{
    return s ? s->n : 0;
}

const char *er_snapshot_note(const er_snapshot *s)
{
    return s ? s->note : NULL;
}

/* ---- after the command ---- */

typedef struct diff {
    er_snapshot *s;
    const er_checkpoint_at *at;
    cJSON *modified, *deleted, *created, *not_undoable;
} diff;

static void add_name(cJSON *list, const char *rel)
{
    er_json_append(list, cJSON_CreateString(rel));
}

static void fail(diff *d, const er_error *e)
{
    if (!d->s->rc)
        d->s->rc = er_error_set(&d->s->err, e->code, "%s", e->msg);
}

/* The file is now after (hex SHA-256, NULL: gone); it was e (NULL: absent). */
static void record(diff *d, const entry *e, const char *rel, const char *after, cJSON *list)
{
    if (e && !e->data) {
        add_name(d->not_undoable, rel);
        return;
    }
    er_error err = { 0 };
    if (er_checkpoint_record_seen(d->at, d->s->ws->root, rel, e != NULL, e ? e->data : NULL,
                                  e ? e->len : 0, e ? (unsigned)e->st.st_mode & 07777 : 0644, after,
                                  &err))
        fail(d, &err);
    else
        add_name(list, rel);
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void after_visit(er_walker *w, int dirfd, const char *name, const char *abs, const char *rel,
                        enum er_walk_type type)
{
    diff *d = w->payload;
    struct stat st;
    if (d->s->rc || type != ER_WALK_FILE || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
        return;
    entry key = { .rel = (char *)rel };
    entry *e = d->s->n ? bsearch(&key, d->s->v, d->s->n, sizeof *d->s->v, by_rel) : NULL;
    if (e) {
        e->seen = true;
        if (same_stat(&e->st, &st))
            return;
    }
    char after[65];
    er_error err = { 0 };
    if (er_checkpoint_file_hash(abs, after, &err)) {
        fail(d, &err);
        return;
    }
    if (e && e->data) {
        char before[65];
        if (er_sha256_hex(e->data, e->len, before, &err)) {
            fail(d, &err);
            return;
        }
        if (strcmp(before, after) == 0 && (e->st.st_mode & 07777) == (st.st_mode & 07777))
            return; /* touched, or written back the same */
    }
    record(d, e, rel, after, e ? d->modified : d->created);
}

int er_snapshot_record(er_snapshot *s, const er_checkpoint_at *at, cJSON *result, er_error *err)
{
    if (s->note) {
        er_json_add_str(result, "checkpoint", s->note);
        return 0;
    }
    diff d = {
        s, at, cJSON_CreateArray(), cJSON_CreateArray(), cJSON_CreateArray(), cJSON_CreateArray()
    };
    walk(s, after_visit, &d);
    for (size_t i = 0; i < s->n && !s->rc; i++)
        if (!s->v[i].seen)
            record(&d, &s->v[i], s->v[i].rel, NULL, d.deleted);
    int changes = cJSON_GetArraySize(d.modified) + cJSON_GetArraySize(d.deleted) +
                  cJSON_GetArraySize(d.created) + cJSON_GetArraySize(d.not_undoable);
    if (s->rc || !changes) {
        cJSON_Delete(d.modified);
        cJSON_Delete(d.deleted);
        cJSON_Delete(d.created);
        cJSON_Delete(d.not_undoable);
        return s->rc ? er_error_set(err, s->rc, "checkpoint: %s", s->err.msg) : 0;
    }
    cJSON *c = cJSON_CreateObject();
    er_json_add_str(c, "task", at->task_id);
    if (at->step > 0)
        er_json_add_num(c, "step", at->step);
    er_json_add(c, "modified", d.modified);
    er_json_add(c, "deleted", d.deleted);
    er_json_add(c, "created", d.created);
    if (cJSON_GetArraySize(d.not_undoable))
        er_json_add(c, "not_undoable", d.not_undoable);
    else
        cJSON_Delete(d.not_undoable);
    er_json_add(result, "checkpoint", c);
    return 0;
}

void er_snapshot_free(er_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].rel);
        free(s->v[i].data);
    }
    free(s->v);
    free(s->note);
    free(s);
}
