/* ignore.c — git's ignore rules for the search tools (see ignore.h).
 *
 * The rules of each level are kept in file order and tried last to first, so
 * the first hit is the one git would take.  A name pattern without magic is
 * compared as a string and "*.ext" as a suffix: those two forms are most of
 * what real ignore files hold, and every entry of a walk meets them all. */
#include "errand/ignore.h"
#include "errand/alloc.h"
#include "errand/glob.h"
#include "errand/str.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define IGNORE_FILE_MAX (4u * 1024 * 1024)

/* Files read in each directory, lowest precedence first. */
static const char *const dir_files[] = { ".gitignore", ".ignore", ".errandignore" };

enum rule_kind { NAME_LITERAL, NAME_SUFFIX, NAME_GLOB, PATH_LITERAL, PATH_GLOB };

typedef struct rule {
    char *pat; /* without '!', a leading '/' or the trailing '/' */
    size_t len;
    enum rule_kind kind;
    bool negate, dir_only;
} rule;

typedef struct level {
    char *base; /* its directory relative to the top: "" or "a/b" */
    size_t baselen;
    rule *v;
    size_t n, cap;
} level;

struct er_ignore {
    char *top; /* absolute, no trailing slash except "/" */
    size_t toplen;
    level *levels;
    size_t n, cap;
};

static bool has_magic(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strchr("*?[\\", s[i]))
            return true;
    return false;
}

/* One line of an ignore file into lv (nothing for a blank or comment line). */
static void parse_line(level *lv, const char *s, size_t n)
{
    if (n == 0 || s[0] == '#')
        return;
    /* Trailing blanks go unless the last one is escaped with a backslash. */
    while (n && s[n - 1] == ' ' && !(n >= 2 && s[n - 2] == '\\'))
        n--;
    rule r = { 0 };
    if (n && s[0] == '!') {
        r.negate = true;
        s++;
        n--;
    }
    if (n && s[n - 1] == '/') {
        r.dir_only = true;
        n--;
    }
    bool anchored = memchr(s, '/', n) != NULL;
    if (n && s[0] == '/') {
        s++;
        n--;
    }
    if (n == 0)
        return;
    if (anchored)
        r.kind = has_magic(s, n) ? PATH_GLOB : PATH_LITERAL;
    else if (!has_magic(s, n))
        r.kind = NAME_LITERAL;
    else if (s[0] == '*' && n > 1 && !has_magic(s + 1, n - 1))
        r.kind = NAME_SUFFIX;
    else
        r.kind = NAME_GLOB;
    r.pat = er_xstrndup(s, n);
    r.len = n;
    if (lv->n == lv->cap) {
        lv->cap = lv->cap ? lv->cap * 2 : 16;
        lv->v = er_xrealloc(lv->v, lv->cap * sizeof *lv->v);
    }
    lv->v[lv->n++] = r;
}

static void parse_text(level *lv, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        parse_line(lv, p, n);
        p += n + 1;
    }
}

/* A regular file's text (never through a symlink), or NULL. */
static char *read_small(int dirfd, const char *name, size_t *len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= IGNORE_FILE_MAX) {
        text = er_xmalloc((size_t)st.st_size + 1);
        ssize_t n = read(fd, text, (size_t)st.st_size);
        if (n < 0) {
            free(text);
            text = NULL;
        } else {
            text[n] = '\0';
            *len = (size_t)n;
        }
    }
    close(fd);
    return text;
}

static level *push_level(er_ignore *ig, const char *base)
{
    if (ig->n == ig->cap) {
        ig->cap = ig->cap ? ig->cap * 2 : 16;
        ig->levels = er_xrealloc(ig->levels, ig->cap * sizeof *ig->levels);
    }
    level *lv = &ig->levels[ig->n++];
    memset(lv, 0, sizeof *lv);
    lv->base = er_xstrdup(base);
    lv->baselen = strlen(base);
    return lv;
}

static void add_file(er_ignore *ig, const char *path)
{
    size_t len = 0;
    char *text = path ? read_small(AT_FDCWD, path, &len) : NULL;
    level *lv = push_level(ig, "");
    if (text)
        parse_text(lv, text, len);
    free(text);
}

/* abs relative to the top, or NULL when it is not below it. */
static const char *below_top(const er_ignore *ig, const char *abs)
{
    if (strcmp(ig->top, "/") == 0)
        return abs[0] == '/' ? abs + 1 : NULL;
    if (strncmp(abs, ig->top, ig->toplen) != 0)
        return NULL;
    if (abs[ig->toplen] == '\0')
        return abs + ig->toplen;
    return abs[ig->toplen] == '/' ? abs + ig->toplen + 1 : NULL;
}

unsigned er_ignore_file_bit(const char *name)
{
    if (name[0] != '.')
        return 0;
    for (size_t i = 0; i < ER_ARRAY_LEN(dir_files); i++)
        if (strcmp(name, dir_files[i]) == 0)
            return 1u << i;
    return 0;
}

void er_ignore_enter(er_ignore *ig, int dirfd, const char *abs)
{
    er_ignore_enter_listed(ig, dirfd, abs, ~0u);
}

void er_ignore_enter_listed(er_ignore *ig, int dirfd, const char *abs, unsigned present)
{
    const char *rel = below_top(ig, abs);
    level *lv = push_level(ig, rel ? rel : "");
    if (!rel)
        return; /* above the top: its files do not apply; the level keeps the stack even */
    for (size_t i = 0; i < ER_ARRAY_LEN(dir_files); i++) {
        size_t len = 0;
        if (!(present & (1u << i)))
            continue;
        char *text = read_small(dirfd, dir_files[i], &len);
        if (text)
            parse_text(lv, text, len);
        free(text);
    }
}

static void free_level(level *lv)
{
    for (size_t i = 0; i < lv->n; i++)
        free(lv->v[i].pat);
    free(lv->v);
    free(lv->base);
}

void er_ignore_leave(er_ignore *ig)
{
    if (ig->n)
        free_level(&ig->levels[--ig->n]);
}

void er_ignore_push_text(er_ignore *ig, const char *base, const char *text, size_t len)
{
    parse_text(push_level(ig, base), text, len);
}

static bool rule_hits(const rule *r, const char *path, const char *name, size_t namelen,
                      bool is_dir)
{
    if (r->dir_only && !is_dir)
        return false;
    switch (r->kind) {
    case NAME_LITERAL: return namelen == r->len && memcmp(name, r->pat, namelen) == 0;
    case NAME_SUFFIX:
        return namelen >= r->len - 1 &&
               memcmp(name + namelen - (r->len - 1), r->pat + 1, r->len - 1) == 0;
    case NAME_GLOB: return er_glob_segment(r->pat, r->len, name, namelen, false);
    case PATH_LITERAL: return strcmp(path, r->pat) == 0;
    case PATH_GLOB: return er_glob_match_path(r->pat, path, false);
    }
    return false;
}

bool er_ignore_match(const er_ignore *ig, const char *abs, bool is_dir)
{
    const char *rel = below_top(ig, abs);
    if (!rel || !*rel)
        return false;
    const char *slash = strrchr(rel, '/');
    const char *name = slash ? slash + 1 : rel;
    size_t namelen = strlen(name);
    for (size_t l = ig->n; l-- > 0;) {
        const level *lv = &ig->levels[l];
        const char *path = rel;
        if (lv->baselen) {
            if (strncmp(rel, lv->base, lv->baselen) != 0 || rel[lv->baselen] != '/')
                continue;
            path = rel + lv->baselen + 1;
        }
        for (size_t i = lv->n; i-- > 0;)
            if (rule_hits(&lv->v[i], path, name, namelen, is_dir))
                return !lv->v[i].negate;
    }
    return false;
}

/* ---- finding the repository and the user's excludes ---- */

static bool exists_at(const char *dir, const char *name, struct stat *st)
{
    char *p = er_xasprintf("%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
    bool ok = lstat(p, st) == 0;
    free(p);
    return ok;
}

/* OWNED: the directory holding .git at or above dir, or NULL. */
static char *find_repo(const char *dir)
{
    char *d = er_xstrdup(dir);
    for (;;) {
        struct stat st;
        if (exists_at(d, ".git", &st))
            return d;
        char *slash = strrchr(d, '/');
        if (!slash || strcmp(d, "/") == 0)
            break;
        if (slash == d)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    free(d);
    return NULL;
}

static char *chomp(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* OWNED: the repository's common git directory (a worktree's `.git` file
 * names its own; that one's `commondir` leads to the shared one). */
static char *git_common_dir(const char *repo)
{
    char *dotgit = er_xasprintf("%s/.git", repo);
    struct stat st;
    if (lstat(dotgit, &st) == 0 && S_ISDIR(st.st_mode))
        return dotgit;
    size_t len = 0;
    char *text = read_small(AT_FDCWD, dotgit, &len);
    free(dotgit);
    if (!text || strncmp(text, "gitdir:", 7) != 0) {
        free(text);
        return NULL;
    }
    const char *g = text + 7;
    while (*g == ' ')
        g++;
    chomp(text);
    char *gitdir = g[0] == '/' ? er_xstrdup(g) : er_xasprintf("%s/%s", repo, g);
    free(text);
    char *cpath = er_xasprintf("%s/commondir", gitdir);
    char *common = read_small(AT_FDCWD, cpath, &len);
    free(cpath);
    if (!common)
        return gitdir;
    chomp(common);
    char *out = common[0] == '/' ? er_xstrdup(common) : er_xasprintf("%s/%s", gitdir, common);
    free(common);
    free(gitdir);
    return out;
}

/* Sets *value (OWNED, replacing) to core.excludesFile when path's config sets it. */
static void config_excludes(const char *path, char **value)
{
    size_t len = 0;
    char *text = path ? read_small(AT_FDCWD, path, &len) : NULL;
    if (!text)
        return;
    bool core = false;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '[') {
            char *end = strchr(s, ']');
            core = end && end - s == 5 && strncasecmp(s + 1, "core", 4) == 0;
            continue;
        }
        if (!core || strncasecmp(s, "excludesfile", 12) != 0)
            continue;
        s += 12;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s++ != '=')
            continue;
        while (*s == ' ' || *s == '\t')
            s++;
        bool quoted = *s == '"';
        s += quoted;
        char *e = quoted ? strchr(s, '"') : s + strcspn(s, "#;");
        if (!e)
            continue;
        *e = '\0';
        chomp(s);
        free(*value);
        *value = er_xstrdup(s);
    }
    free(text);
}

/* OWNED: the global excludes file git would read, or NULL. */
static char *global_excludes(const char *common)
{
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
    char *xdgdir = !er_str_empty(xdg)    ? er_xstrdup(xdg)
                   : !er_str_empty(home) ? er_xasprintf("%s/.config", home)
                                         : NULL;
    char *value = NULL, *p;
    if (xdgdir) {
        config_excludes(p = er_xasprintf("%s/git/config", xdgdir), &value);
        free(p);
    }
    if (!er_str_empty(home)) {
        config_excludes(p = er_xasprintf("%s/.gitconfig", home), &value);
        free(p);
    }
    if (common) {
        config_excludes(p = er_xasprintf("%s/config", common), &value);
        free(p);
    }
    char *out = NULL;
    if (value && er_str_starts(value, "~/") && !er_str_empty(home))
        out = er_xasprintf("%s/%s", home, value + 2);
    else if (value && value[0])
        out = er_xstrdup(value);
    else if (!value && xdgdir)
        out = er_xasprintf("%s/git/ignore", xdgdir);
    free(value);
    free(xdgdir);
    return out;
}

er_ignore *er_ignore_new(const char *top_floor, const char *dir)
{
    er_ignore *ig = er_xcalloc(1, sizeof *ig);
    char *repo = find_repo(dir);
    char *common = repo ? git_common_dir(repo) : NULL;
    ig->top = repo ? repo : er_xstrdup(top_floor);
    ig->toplen = strlen(ig->top);
    if (!below_top(ig, dir)) { /* the floor is not above dir: start at dir */
        free(ig->top);
        ig->top = er_xstrdup(dir);
        ig->toplen = strlen(ig->top);
    }
    char *global = global_excludes(common);
    add_file(ig, global);
    free(global);
    char *exclude = common ? er_xasprintf("%s/info/exclude", common) : NULL;
    add_file(ig, exclude);
    free(exclude);
    free(common);
    /* Every directory from the top down to dir, each read as the walk would. */
    const char *rel = below_top(ig, dir);
    char *path = er_xstrdup(ig->top);
    for (const char *s = rel;;) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            er_ignore_enter(ig, fd, path);
            close(fd);
        } else {
            push_level(ig, "");
        }
        if (!s || !*s)
            break;
        size_t n = strcspn(s, "/");
        char *next = er_xasprintf("%s/%.*s", strcmp(path, "/") == 0 ? "" : path, (int)n, s);
        free(path);
        path = next;
        s += n + (s[n] == '/');
    }
    free(path);
    return ig;
}

void er_ignore_free(er_ignore *ig)
{
    if (!ig)
        return;
    while (ig->n)
        er_ignore_leave(ig);
    free(ig->levels);
    free(ig->top);
    free(ig);
}
