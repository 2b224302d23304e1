/* launch.c — a browser's process and profile, and the checks on its
 * requests, shared by the backends (see launch.h). */
#include "launch.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/json.h"
#include "errand/glob.h"
#include "errand/str.h"
#include "errand/url.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 20

const char *er_browser_find_binary(const char *given, const char *const *candidates)
{
    if (given)
        return access(given, X_OK) == 0 ? given : NULL;
    for (size_t i = 0; candidates[i]; i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

int er_browser_proc_profile(er_browser_proc *p, const char *name, er_error *err)
{
    const char *tmp = getenv("TMPDIR");
    if (er_str_empty(tmp))
        tmp = "/tmp";
    p->profile = er_xasprintf("%s/errand-%s-XXXXXX", tmp, name);
    if (!mkdtemp(p->profile)) {
        int rc = er_error_set(err, ER_EIO, "cannot make a browser profile in %s: %s", tmp,
                              strerror(errno));
        free(p->profile);
        p->profile = NULL;
        return rc;
    }
    char *t = er_xasprintf("%s/tmp", p->profile);
    mkdir(t, 0700);
    free(t);
    p->log = er_xasprintf("%s/browser.log", p->profile);
    return 0;
}

void er_browser_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Made before fork: the child of a threaded process may not allocate. */
char **er_browser_proc_env(const er_browser_proc *p, const char *const *extra)
{
    extern char **environ;
    size_t n = 0, nx = 0;
    while (environ[n])
        n++;
    while (extra && extra[nx])
        nx++;
    char **v = er_xcalloc(n + nx + 2, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!er_str_starts(environ[i], "TMPDIR="))
            v[k++] = er_xstrdup(environ[i]);
    v[k++] = er_xasprintf("TMPDIR=%s/tmp", p->profile);
    for (size_t i = 0; i < nx; i++)
        v[k++] = er_xstrdup(extra[i]);
    return v;
}

void er_browser_proc_limit(er_browser_proc *p, uint64_t memory, long pids)
{
    er_browser_limits_prepare(&p->limits, memory, pids);
}

int er_browser_proc_spawn(er_browser_proc *p, char *const *argv, char *const *envp,
                          const char *what, er_error *err)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0); /* stopped as a group: its helpers too */
        er_browser_limits_enter(&p->limits);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives errand */
        int in = open("/dev/null", O_RDONLY),
            out = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        execve(argv[0], argv, envp);
        _exit(127);
    }
    if (pid < 0)
        return er_error_set(err, ER_EIO, "cannot start %s: %s", what, strerror(errno));
    p->pid = pid;
    return 0;
}

bool er_browser_proc_exited(er_browser_proc *p)
{
    if (p->reaped)
        return true;
    if (p->pid > 0 && waitpid(p->pid, &p->status, WNOHANG) == p->pid)
        p->reaped = true;
    return p->reaped;
}

void er_browser_proc_last_line(const er_browser_proc *p, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = p->log ? fopen(p->log, "r") : NULL;
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!er_str_empty(er_str_trim(line)))
            er_strlcpy(out, line, n);
    fclose(f);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void er_browser_proc_release(er_browser_proc *p)
{
    if (p->pid > 0 && !er_browser_proc_exited(p)) {
        kill(-p->pid, SIGTERM);
        for (int i = 0; i < 150 && !er_browser_proc_exited(p); i++)
            nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
        if (!er_browser_proc_exited(p)) {
            kill(-p->pid, SIGKILL);
            if (waitpid(p->pid, &p->status, 0) == p->pid)
                p->reaped = true;
        }
    }
    if (p->pid > 0)
        kill(-p->pid, SIGKILL);            /* helpers that outlived the browser process */
    er_browser_limits_release(&p->limits); /* and any that left the process group */
    if (p->profile)
        nftw(p->profile, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(p->profile);
    free(p->log);
    p->profile = p->log = NULL;
}

int er_browser_guard_url(const er_netguard *g, const char *url, er_error *err)
{
    if (er_str_starts(url, "data:") || er_str_starts(url, "blob:") || er_str_starts(url, "about:"))
        return 0;
    int rc = er_netguard_check_scheme(url, err);
    if (rc)
        return rc;
    er_url u;
    if ((rc = er_url_parse(&u, url, err)) != 0)
        return rc;
    char host[256];
    size_t hl = u.host ? strlen(u.host) : 0;
    bool br = hl > 2 && u.host[0] == '[';
    snprintf(host, sizeof host, "%.*s", (int)(br ? hl - 2 : hl), br ? u.host + 1 : u.host);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &ai);
    if (gai != 0)
        rc = er_error_set(err, ER_EUNAVAIL, "cannot resolve '%s': %s", host, gai_strerror(gai));
    for (struct addrinfo *a = ai; a && rc == 0; a = a->ai_next)
        rc = er_netguard_check(g, u.host, a->ai_addr, err); /* every address the browser may pick */
    if (ai)
        freeaddrinfo(ai);
    er_url_release(&u);
    return rc;
}

int er_browser_decode_data(const cJSON *answer, er_buf *out, const char *what, const char *browser,
                           er_error *err)
{
    const char *data = er_json_str(answer, "data");
    int rc = data ? er_base64_decode(out, data, strlen(data)) : ER_EPROTO;
    if (rc == ER_ETOOBIG)
        return er_error_set(err, rc, "the %s is larger than %zu bytes", what, out->max);
    if (rc)
        return er_error_set(err, ER_EPROTO, "%s sent a %s that is not base64", browser, what);
    return 0;
}

void er_browser_filter_init(er_browser_filter *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char **copy_list(const char *const *v, size_t n)
{
    char **c = er_xcalloc(n + 1, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = er_xstrdup(v[i]);
    return c;
}

void er_browser_filter_release(er_browser_filter *f)
{
    free_list(f->patterns, f->npatterns);
    free_list(f->types, f->ntypes);
    pthread_mutex_destroy(&f->lock);
}

void er_browser_filter_set(er_browser_filter *f, const char *const *patterns, size_t npatterns,
                           const char *const *types, size_t ntypes)
{
    char **p = copy_list(patterns, npatterns), **t = copy_list(types, ntypes);
    pthread_mutex_lock(&f->lock);
    char **oldp = f->patterns, **oldt = f->types;
    size_t nop = f->npatterns, not = f->ntypes;
    f->patterns = p;
    f->npatterns = npatterns;
    f->types = t;
    f->ntypes = ntypes;
    pthread_mutex_unlock(&f->lock);
    free_list(oldp, nop);
    free_list(oldt, not );
}

static bool type_is(const char *type, const char *want)
{
    bool scripted = strcasecmp(want, "fetch") == 0 || strcasecmp(want, "xhr") == 0;
    if (scripted)
        return strcasecmp(type, "fetch") == 0 || strcasecmp(type, "xhr") == 0;
    return strcasecmp(type, want) == 0;
}

bool er_browser_filter_blocks(er_browser_filter *f, const char *url, const char *type)
{
    bool hit = false;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->ntypes && !hit; i++)
        hit = type && type_is(type, f->types[i]);
    for (size_t i = 0; i < f->npatterns && !hit; i++)
        hit = er_glob_segment(f->patterns[i], strlen(f->patterns[i]), url, strlen(url), false);
    pthread_mutex_unlock(&f->lock);
    return hit;
}
