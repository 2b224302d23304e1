/* workspace.c — keeps file tools inside the workspace root (see workspace.h). */
#include "errand/workspace.h"
#include "errand/alloc.h"
#include "errand/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int er_workspace_init(er_workspace *ws, const char *root, er_error *err)
{
    ws->root = NULL;
    ws->rootlen = 0;
    ws->own = (er_own_files){ NULL, 0 };
    if (!root || !*root)
        return er_error_set(
            err, ER_EINVAL,
            "no workspace is set; configure workspace or run errand in a project directory");
    char *real = realpath(root, NULL);
    if (!real)
        return er_error_set(err, ER_ENOTFOUND, "workspace '%s' cannot be opened: %s", root,
                            strerror(errno));
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(real);
        return er_error_set(err, ER_ENOTFOUND, "workspace '%s' is not a directory", root);
    }
    ws->root = real;
    ws->rootlen = strlen(real);
    er_own_files_init(&ws->own, NULL);
    return 0;
}

void er_workspace_guard(er_workspace *ws, const er_config *cfg)
{
    er_own_files_release(&ws->own);
    er_own_files_init(&ws->own, cfg);
}

void er_workspace_release(er_workspace *ws)
{
    free(ws->root);
    ws->root = NULL;
    ws->rootlen = 0;
    er_own_files_release(&ws->own);
}

bool er_workspace_contains(const er_workspace *ws, const char *abs)
{
    return er_path_within(abs, ws->root);
}

const er_own_file *er_workspace_denied(const er_workspace *ws, const char *abs)
{
    return er_own_files_find(&ws->own, abs);
}

/* ER_EDENIED when abs is one of errand's own files. */
static int own_file(er_error *err, const er_workspace *ws, const char *abs, const char *path)
{
    const er_own_file *o = er_workspace_denied(ws, abs);
    if (!o)
        return 0;
    return er_error_set(err, ER_EDENIED,
                        "path '%s' is %s%s %s; the tools never touch errand's "
                        "own files",
                        path, o->dir ? "inside " : "", o->what, o->path);
}

const char *er_workspace_rel(const er_workspace *ws, const char *abs)
{
    if (!er_workspace_contains(ws, abs))
        return abs;
    if (strcmp(ws->root, "/") == 0)
        return abs[1] ? abs + 1 : ".";
    return abs[ws->rootlen] ? abs + ws->rootlen + 1 : ".";
}

static int outside(er_error *err, const er_workspace *ws, const char *path)
{
    return er_error_set(err, ER_EDENIED, "path '%s' is outside the workspace %s", path, ws->root);
}

/* Cuts the last component off cand (in place) and returns it (OWNED);
 * NULL when cand is the root. */
static char *split_last(char *cand)
{
    size_t n = strlen(cand);
    while (n > 1 && cand[n - 1] == '/')
        cand[--n] = '\0';
    char *slash = strrchr(cand, '/');
    if (!slash || n <= 1)
        return NULL;
    char *comp = er_xstrdup(slash + 1);
    if (slash == cand)
        slash[1] = '\0';
    else
        *slash = '\0';
    return comp;
}

/* Prepends comp to the not-yet-existing tail, refusing what realpath would
 * have had to interpret: `..` and dangling symlinks. */
static int push_missing(er_buf *tail, const char *parent, const char *comp, const char *path,
                        er_error *err)
{
    if (strcmp(comp, ".") == 0 || comp[0] == '\0')
        return 0;
    if (strcmp(comp, "..") == 0)
        return er_error_set(err, ER_ENOTFOUND,
                            "path '%s' uses '..' after a directory that does not exist", path);
    char *full = er_xasprintf("%s/%s", parent, comp);
    struct stat st;
    int exists = lstat(full, &st) == 0;
    free(full);
    if (exists && S_ISLNK(st.st_mode))
        return er_error_set(err, ER_EDENIED,
                            "path '%s' goes through the dangling symlink '%s'; not following it",
                            path, comp);
    er_buf joined = ER_BUF_INIT;
    er_buf_puts(&joined, comp);
    if (tail->len) {
        er_buf_putc(&joined, '/');
        er_buf_append(&joined, tail->ptr, tail->len);
    }
    er_buf_reset(tail);
    er_buf_append(tail, joined.ptr, joined.len);
    er_buf_release(&joined);
    return 0;
}

int er_workspace_resolve(char **out, const er_workspace *ws, const char *path, er_error *err)
{
    *out = NULL;
    if (!path || !*path)
        path = ".";
    if (strlen(path) >= PATH_MAX)
        return er_error_set(err, ER_EINVAL, "path is longer than %d bytes", PATH_MAX);
    char *cand = path[0] == '/' ? er_xstrdup(path) : er_xasprintf("%s/%s", ws->root, path);
    er_buf tail = ER_BUF_INIT;
    char *real = NULL;
    int rc = 0;
    while (!rc && !(real = realpath(cand, NULL))) {
        char *comp;
        if (errno == ENOTDIR) {
            rc = er_error_set(err, ER_EINVAL,
                              "path '%s' goes through a file as if it were a directory", path);
        } else if (errno != ENOENT) {
            rc = er_error_set(err, ER_EIO, "cannot resolve '%s': %s", path, strerror(errno));
        } else if (!(comp = split_last(cand))) {
            rc = er_error_set(err, ER_EIO, "cannot resolve '%s': no existing parent", path);
        } else {
            rc = push_missing(&tail, cand, comp, path, err);
            free(comp);
        }
    }
    free(cand);
    if (!rc && !er_workspace_contains(ws, real))
        rc = outside(err, ws, path);
    if (!rc && tail.len) {
        char *joined = er_xasprintf("%s%s%s", real, strcmp(real, "/") ? "/" : "", tail.ptr);
        free(real);
        real = joined;
    }
    if (!rc)
        rc = own_file(err, ws, real, path);
    er_buf_release(&tail);
    if (rc) {
        free(real);
        return rc;
    }
    *out = real;
    return 0;
}

/* ---- opening what was resolved ---- */

/* openat2 beneath dirfd; -1 with errno ENOSYS where the kernel lacks it. */
static int open_beneath(int dirfd, const char *rel, int flags)
{
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    int fd;
    /* EAGAIN: a concurrent rename made the kernel unsure; it asks for a retry. */
    for (int i = 0; i < 8; i++)
        if ((fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how)) >= 0 || errno != EAGAIN)
            break;
    return fd;
#else
    (void)dirfd;
    (void)rel;
    (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

/* Without openat2: no symlink as the last component, and the real path of
 * what was opened must lie inside the root. */
static int open_checked(const er_workspace *ws, int rootfd, const char *rel, int flags)
{
    int fd = openat(rootfd, rel, flags | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 && errno == ENOTDIR && (flags & O_DIRECTORY) &&
        fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        errno = ELOOP; /* a directory swapped for a symlink, as openat2 would say */
    if (fd < 0)
        return -1;
    char link[64], real[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, real, sizeof real - 1);
    if (n > 0) { /* without /proc there is nothing more to check */
        real[n] = '\0';
        if (!er_workspace_contains(ws, real)) {
            close(fd);
            errno = EXDEV;
            return -1;
        }
    }
    return fd;
}

static int open_error(er_error *err, const er_workspace *ws, const char *rel, int e)
{
    if (e == EXDEV || e == ELOOP)
        return er_error_set(err, ER_EDENIED,
                            "path '%s' now leads outside the workspace %s "
                            "(a symlink is in the way); not following it",
                            rel, ws->root);
    return er_error_set(err, e == ENOENT ? ER_ENOTFOUND : ER_EIO, "cannot open %s: %s", rel,
                        strerror(e));
}

int er_workspace_open(int *out, const er_workspace *ws, const char *abs, int flags, er_error *err)
{
    *out = -1;
    if (!er_workspace_contains(ws, abs))
        return outside(err, ws, abs);
    int rc = own_file(err, ws, abs, abs);
    if (rc)
        return rc;
    const char *rel = er_workspace_rel(ws, abs);
    int rootfd = open(ws->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return er_error_set(err, ER_EIO, "cannot open the workspace %s: %s", ws->root,
                            strerror(errno));
    int fd = open_beneath(rootfd, rel, flags | O_CLOEXEC);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) /* old kernel, or seccomp */
        fd = open_checked(ws, rootfd, rel, flags | O_CLOEXEC);
    int e = errno;
    close(rootfd);
    if (fd < 0)
        return open_error(err, ws, rel, e);
    /* A symlink swapped in since the check may point at errand's files
     * inside the root, which RESOLVE_BENEATH allows: look at what was opened. */
    char link[64], real[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, real, sizeof real - 1);
    if (n > 0) {
        real[n] = '\0';
        if ((rc = own_file(err, ws, real, rel)) != 0) {
            close(fd);
            return rc;
        }
    }
    *out = fd;
    return 0;
}

int er_workspace_mkdirs(const er_workspace *ws, const char *abs, er_error *err)
{
    if (!er_workspace_contains(ws, abs))
        return outside(err, ws, abs);
    int own = own_file(err, ws, abs, abs);
    if (own)
        return own;
    char *rel = er_xstrdup(er_workspace_rel(ws, abs));
    int fd = open(ws->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? er_error_set(err, ER_EIO, "cannot open the workspace %s: %s", ws->root,
                                   strerror(errno))
                    : 0;
    /* Every component but the last (the file itself). */
    for (char *comp = rel, *slash; rc == 0 && (slash = strchr(comp, '/')) != NULL;
         comp = slash + 1) {
        *slash = '\0';
        if (mkdirat(fd, comp, 0777) != 0 && errno != EEXIST)
            rc = er_error_set(err, ER_EIO, "cannot create the directory %s: %s", rel,
                              strerror(errno));
        int next = rc ? -1 : openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rc == 0 && next < 0)
            rc = errno == ELOOP || errno == ENOTDIR
                     ? er_error_set(err, ER_EDENIED,
                                    "path '%s' is not a directory inside the "
                                    "workspace (a symlink or a file is in the way)",
                                    rel)
                     : er_error_set(err, ER_EIO, "cannot open the directory %s: %s", rel,
                                    strerror(errno));
        close(fd);
        fd = next;
        *slash = '/';
    }
    if (fd >= 0)
        close(fd);
    free(rel);
    return rc;
}
