/* walk.c — the workspace walk (see walk.h).
 *
 * Names are read with their d_type, so most entries cost no stat call; a
 * file system that does not fill it in gets one fstatat.  Each directory is
 * opened with openat(parent, name, O_NOFOLLOW) from a descriptor the walk
 * already holds, the start one through er_workspace_open: no path is ever
 * resolved again from the root.  A directory is listed before its ignore
 * files are read, so only those it holds are opened. */
#include "errand/walk.h"
#include "errand/alloc.h"
#include "errand/buf.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A directory's entries: names in one arena (no allocation per entry),
 * found by offset while it grows and by pointer once sorted. */
typedef struct name {
    union {
        size_t off;
        const char *s;
    } u;
    enum er_walk_type type;
} name;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const name *)a)->u.s, ((const name *)b)->u.s);
}

bool er_walk_cancelled(er_walker *w)
{
    if (!w->cancelled && w->cancel && *w->cancel)
        w->stop = w->cancelled = true;
    return w->cancelled;
}

static enum er_walk_type type_of(int dirfd, const char *entry, unsigned char d_type)
{
    switch (d_type) {
    case DT_REG: return ER_WALK_FILE;
    case DT_DIR: return ER_WALK_DIR;
    case DT_UNKNOWN: {
        struct stat st;
        if (fstatat(dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return ER_WALK_OTHER;
        return S_ISREG(st.st_mode)   ? ER_WALK_FILE
               : S_ISDIR(st.st_mode) ? ER_WALK_DIR
                                     : ER_WALK_OTHER;
    }
    default: return ER_WALK_OTHER; /* symlinks among them: never followed */
    }
}

/* The entries of dirfd, sorted; their names live in arena.  *ignore_files:
 * the bits of the ignore files among them (hidden or not).  Read with
 * getdents64 on dirfd itself: its offset matters to nothing else (every
 * other use is an openat beneath it), so there is no dup, no DIR and none
 * of the calls fdopendir makes per directory. */
static size_t list_names(er_walker *w, int dirfd, name **out, er_buf *arena, unsigned *ignore_files)
{
    /* On the stack only while listing: the walk below does not nest in it. */
    union {
        struct dirent64 align;
        char bytes[32768];
    } buf;
    size_t n = 0, cap = 0;
    name *v = NULL;
    *ignore_files = 0;
    ssize_t got;
    /* A directory of millions of entries is a long loop of its own. */
    while (!er_walk_cancelled(w) && (got = getdents64(dirfd, buf.bytes, sizeof buf.bytes)) > 0) {
        for (size_t off = 0; off < (size_t)got;) {
            const struct dirent64 *de = (const struct dirent64 *)(buf.bytes + off);
            off += de->d_reclen;
            const char *s = de->d_name;
            if (s[0] == '.') {
                if (s[1] == '\0' || (s[1] == '.' && s[2] == '\0') || strcmp(s, ".git") == 0)
                    continue;
                *ignore_files |= er_ignore_file_bit(s);
                if (!w->hidden) {
                    w->hidden_skipped++;
                    continue;
                }
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                v = er_xrealloc(v, cap * sizeof *v);
            }
            v[n].u.off = arena->len;
            er_buf_append(arena, s, strlen(s) + 1);
            v[n].type = type_of(dirfd, s, de->d_type);
            n++;
        }
    }
    for (size_t i = 0; i < n; i++)
        v[i].u.s = arena->ptr + v[i].u.off;
    if (n)
        qsort(v, n, sizeof *v, by_name);
    *out = v;
    return n;
}

/* Walks the directory open as dirfd, whose path is in path; enter: push its
 * ignore files (the start's were pushed by er_ignore_new). */
static void walk_dir(er_walker *w, int dirfd, er_buf *path, int depth, bool enter)
{
    name *names = NULL;
    er_buf arena = ER_BUF_INIT;
    unsigned ignore_files;
    size_t n = list_names(w, dirfd, &names, &arena, &ignore_files);
    if (enter && w->ig)
        er_ignore_enter_listed(w->ig, dirfd, path->ptr, ignore_files);
    size_t base = path->len;
    bool at_root = base == 1 && path->ptr[0] == '/';
    for (size_t i = 0; i < n; i++) {
        if (!w->stop && ++w->visited > ER_WALK_VISIT_MAX)
            w->stop = true;
        er_walk_cancelled(w); /* one read of a flag: at every entry */
        if (!w->stop) {
            if (!at_root)
                er_buf_putc(path, '/');
            er_buf_puts(path, names[i].u.s);
            bool is_dir = names[i].type == ER_WALK_DIR;
            if (er_workspace_denied(w->ws, path->ptr)) {
                /* errand's own files: not even counted */
            } else if (w->ig && er_ignore_match(w->ig, path->ptr, is_dir)) {
                w->ignored++;
            } else {
                w->visit(w, dirfd, names[i].u.s, path->ptr, er_workspace_rel(w->ws, path->ptr),
                         names[i].type);
                if (is_dir && depth < ER_WALK_DEPTH_MAX && !w->stop) {
                    int fd = openat(dirfd, names[i].u.s,
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    if (fd >= 0) {
                        walk_dir(w, fd, path, depth + 1, true);
                        close(fd);
                    }
                }
            }
            path->len = base;
            path->ptr[base] = '\0';
        }
    }
    if (enter && w->ig)
        er_ignore_leave(w->ig);
    free(names);
    er_buf_release(&arena);
}

void er_walk(er_walker *w, const char *start)
{
    int fd;
    if (er_walk_cancelled(w) ||
        er_workspace_open(&fd, w->ws, start, O_RDONLY | O_DIRECTORY, NULL) != 0)
        return;
    w->ig = w->no_ignore ? NULL : er_ignore_new(w->ws->root, start);
    er_buf path = ER_BUF_INIT;
    er_buf_puts(&path, start);
    walk_dir(w, fd, &path, 0, false);
    er_buf_release(&path);
    er_ignore_free(w->ig);
    w->ig = NULL;
    close(fd);
}
