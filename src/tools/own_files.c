/* own_files.c — where errand keeps its own files, so that no tool goes there
 * (see own_files.h). */
#include "errand/own_files.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/str.h"
#include "errand/url.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool er_path_within(const char *abs, const char *base)
{
    if (strcmp(base, "/") == 0)
        return abs[0] == '/';
    size_t n = strlen(base);
    return strncmp(abs, base, n) == 0 && (abs[n] == '\0' || abs[n] == '/');
}

/* Drops the last component of a canonical path, in place ("/" stays). */
static void drop_last(char *p)
{
    char *slash = strrchr(p, '/');
    if (slash == p)
        p[1] = '\0';
    else if (slash)
        *slash = '\0';
}

/* Appends the components of tail to base (OWNED result), resolving "." and
 * ".." lexically: they name nothing on disk yet. */
static char *join_missing(char *base, const char *tail)
{
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, base);
    free(base);
    for (const char *c = tail; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 2 && strncmp(c, "..", 2) == 0) {
            drop_last(b.ptr);
            b.len = strlen(b.ptr);
        } else if (n && !(n == 1 && c[0] == '.')) {
            if (b.len && b.ptr[b.len - 1] != '/')
                er_buf_putc(&b, '/');
            er_buf_append(&b, c, n);
        }
        c += n;
        c += strspn(c, "/");
    }
    return er_buf_detach(&b);
}

char *er_path_canonical(const char *path)
{
    char cwd[PATH_MAX];
    char *abs = path[0] == '/' ? er_xstrdup(path)
                               : er_xasprintf("%s/%s", getcwd(cwd, sizeof cwd) ? cwd : "/", path);
    char *real = realpath(abs, NULL);
    if (real) {
        free(abs);
        return real;
    }
    /* The deepest existing ancestor, resolved; the rest as written. */
    size_t cut = strlen(abs);
    while (!real && cut > 0) {
        while (cut > 0 && abs[cut - 1] != '/')
            cut--;
        if (cut == 0)
            break;
        char *head = er_xstrndup(abs, cut > 1 ? cut - 1 : 1);
        real = realpath(head, NULL);
        free(head);
        if (!real)
            cut--;
    }
    char *out = join_missing(real ? real : er_xstrdup("/"), abs + cut);
    free(abs);
    return out;
}

static void add(er_own_files *f, const char *path, const char *what, bool dir)
{
    if (er_str_empty(path))
        return;
    f->v = er_xrealloc(f->v, (f->n + 1) * sizeof *f->v);
    f->v[f->n++] = (er_own_file){ er_path_canonical(path), what, dir };
}

/* The database file of a sqlite:// URL and the files SQLite keeps beside it. */
static void add_database(er_own_files *f, const char *url_text)
{
    er_url u;
    if (!url_text || er_url_parse(&u, url_text, NULL) != 0)
        return;
    if (strcmp(u.scheme, "sqlite") == 0 && u.path[0] == '/') {
        static const char *const sides[] = { "", "-wal", "-shm", "-journal" };
        for (size_t i = 0; i < ER_ARRAY_LEN(sides); i++) {
            char *p = er_xasprintf("%s%s", u.path, sides[i]);
            add(f, p, "errand's database", false);
            free(p);
        }
    }
    er_url_release(&u);
}

void er_own_files_init(er_own_files *out, const er_config *cfg)
{
    static const struct {
        const char *kind, *what;
    } dirs[] = {
        { "data", "errand's data directory" },
        { "config", "errand's config directory" },
        { "state", "errand's state directory" },
    };
    out->v = NULL;
    out->n = 0;
    for (size_t i = 0; i < ER_ARRAY_LEN(dirs); i++) {
        char *d = er_xdg_dir(dirs[i].kind, false, NULL);
        add(out, d, dirs[i].what, true);
        free(d);
    }
    if (!cfg)
        return;
    add_database(out, cfg->database_url);
    add(out, cfg->config_path, "errand's config file", false);
    add(out, cfg->log_file, "errand's log file", false);
}

void er_own_files_release(er_own_files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].path);
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

const er_own_file *er_own_files_find(const er_own_files *f, const char *abs)
{
    for (size_t i = 0; f && i < f->n; i++) {
        const er_own_file *o = &f->v[i];
        if (o->dir ? er_path_within(abs, o->path) : strcmp(abs, o->path) == 0)
            return o;
    }
    return NULL;
}

int er_own_files_check_dir(const er_own_files *f, const char *dir, const char *what, er_error *err)
{
    if (er_str_empty(dir))
        return 0;
    char *real = er_path_canonical(dir);
    int rc = 0;
    for (size_t i = 0; !rc && i < f->n; i++) {
        const er_own_file *o = &f->v[i];
        if (er_path_within(o->path, real))
            rc = er_error_set(err, ER_EDENIED,
                              "%s %s contains %s %s; keep errand's files out "
                              "of every workspace (choose another directory)",
                              what, real, o->what, o->path);
        else if (o->dir && er_path_within(real, o->path))
            rc = er_error_set(err, ER_EDENIED,
                              "%s %s lies inside %s %s; keep errand's files "
                              "out of every workspace (choose another directory)",
                              what, real, o->what, o->path);
    }
    free(real);
    return rc;
}
