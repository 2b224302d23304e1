/* jail.c — the filesystem a sandboxed command sees, as bubblewrap options
 * (see jail.h). */
#include "errand/jail.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Top-level directories beside /usr: symlinks into it on a merged-/usr
 * system, directories of their own on an older one. */
static const char *const root_dirs[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };

/* /etc entries programs read when they run (see jail.h for what is left out,
 * and why).  Each is a mount, and mounts are most of what a jail costs to
 * set up: what only administration tools read (ldconfig's ld.so.conf, the
 * ca-certificates hooks, CPAN's /etc/perl, local terminfo or magic
 * overrides) stays out. */
static const char *const etc_entries[] = {
    "alternatives", "debian_version", "fonts",           "gai.conf",      "group",
    "host.conf",    "hostname",       "hosts",           "ld.so.cache",   "locale.alias",
    "localtime",    "mime.types",     "networks",        "nsswitch.conf", "os-release",
    "passwd",       "protocols",      "python3",         "resolv.conf",   "services",
    "shells",       "ssl/certs",      "ssl/openssl.cnf", "timezone",      "xml",
};
/* Versioned directories: /etc/python3.11, /etc/java-17-openjdk. */
static const char *const etc_prefixes[] = { "python3.", "java-" };

static void push2(er_strv *av, const char *a, const char *b)
{
    er_strv_push(av, a);
    er_strv_push(av, b);
}

static void push3(er_strv *av, const char *a, const char *b, const char *c)
{
    er_strv_push(av, a);
    er_strv_push(av, b);
    er_strv_push(av, c);
}

static void root_binds(er_strv *av)
{
    push3(av, "--ro-bind", "/usr", "/usr");
    for (size_t i = 0; i < ER_ARRAY_LEN(root_dirs); i++) {
        struct stat st;
        char target[PATH_MAX];
        if (lstat(root_dirs[i], &st) != 0)
            continue;
        ssize_t n = S_ISLNK(st.st_mode) ? readlink(root_dirs[i], target, sizeof target - 1) : -1;
        if (n > 0) {
            target[n] = '\0';
            push3(av, "--symlink", target, root_dirs[i]);
        } else if (S_ISDIR(st.st_mode)) {
            push3(av, "--ro-bind", root_dirs[i], root_dirs[i]);
        }
    }
}

static void etc_bind(er_strv *av, const char *name)
{
    char *p = er_xasprintf("/etc/%s", name);
    push3(av, "--ro-bind-try", p, p);
    free(p);
}

static void etc_binds(er_strv *av)
{
    push2(av, "--perms", "0755");
    push2(av, "--dir", "/etc");
    for (size_t i = 0; i < ER_ARRAY_LEN(etc_entries); i++)
        etc_bind(av, etc_entries[i]);
    DIR *d = opendir("/etc");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        for (size_t i = 0; i < ER_ARRAY_LEN(etc_prefixes); i++)
            if (er_str_starts(de->d_name, etc_prefixes[i]) && !strchr(de->d_name, '/'))
                etc_bind(av, de->d_name);
    if (d)
        closedir(d);
    push3(av, "--symlink", "../proc/self/mounts", "/etc/mtab");
}

/* The paths of sandbox.expose, each bound read-only where it exists. */
static void expose_binds(er_strv *av, const char *list)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        char *one = er_xstrndup(p, n);
        char *path = er_str_trim(one);
        if (path[0] == '/')
            push3(av, "--ro-bind-try", path, path);
        free(one);
        p += n + (p[n] == ',');
    }
}

static void size_next(er_strv *av, uint64_t bytes)
{
    if (!bytes)
        return;
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)bytes);
    push2(av, "--size", num);
}

bool er_jail_shows(const er_jail *j, const char *abs)
{
    if (j->workspace && er_path_within(abs, j->workspace))
        return true;
    if (er_path_within(abs, "/usr") || er_path_within(abs, "/etc"))
        return true;
    for (size_t i = 0; i < ER_ARRAY_LEN(root_dirs); i++)
        if (er_path_within(abs, root_dirs[i]))
            return true;
    for (const char *p = j->expose; p && *p;) {
        size_t n = strcspn(p, ",");
        char *one = er_xstrndup(p, n);
        bool in = er_path_within(abs, er_str_trim(one));
        free(one);
        if (in)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* Whether another of errand's directories holds entry i (covering that one
 * covers it; a mount inside the cover would fail on its read-only tmpfs). */
static bool inside_other(const er_own_files *own, size_t i)
{
    for (size_t k = 0; k < own->n; k++)
        if (k != i && own->v[k].dir && strcmp(own->v[k].path, own->v[i].path) != 0 &&
            er_path_within(own->v[i].path, own->v[k].path))
            return true;
    return false;
}

/* errand's own files inside what is shown: an empty read-only tmpfs over a
 * directory, /dev/null over a file. */
static void cover_own(er_strv *av, const er_jail *j)
{
    for (size_t i = 0; j->own && i < j->own->n; i++) {
        const er_own_file *o = &j->own->v[i];
        struct stat st;
        if (!er_jail_shows(j, o->path) || inside_other(j->own, i) || stat(o->path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            size_next(av, 4096);
            push2(av, "--tmpfs", o->path);
            push2(av, "--remount-ro", o->path);
        } else {
            push3(av, "--ro-bind", "/dev/null", o->path);
        }
    }
}

void er_jail_args(er_strv *av, const er_jail *j)
{
    er_strv_push(av, "--unshare-all");
    if (j->network)
        er_strv_push(av, "--share-net");
    static const char *const session[] = { "--die-with-parent", "--new-session", "--cap-drop",
                                           "ALL", NULL };
    er_strv_push_all(av, session);
    root_binds(av);
    etc_binds(av);
    expose_binds(av, j->expose);
    push2(av, "--dev", "/dev");
    size_next(av, j->tmp_bytes);
    push2(av, "--tmpfs", "/dev/shm");
    push2(av, "--proc", "/proc");
    size_next(av, j->tmp_bytes);
    push2(av, "--tmpfs", "/tmp");
    push2(av, "--dir", ER_JAIL_HOME);
    push2(av, "--dir", "/var");
    push3(av, "--symlink", "../tmp", "/var/tmp");
    if (j->workspace) {
        /* After /tmp, so that a workspace under /tmp shows. */
        push3(av, j->workspace_read_only ? "--ro-bind" : "--bind", j->workspace, j->workspace);
    }
    cover_own(av, j);
    push2(av, "--remount-ro", "/dev");
    push2(av, "--remount-ro", "/");
    if (j->workspace)
        push2(av, "--chdir", j->workspace);
}
