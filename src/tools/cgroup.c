/* cgroup.c — a memory and pids control group per sandboxed command, v1 or
 * v2, beneath errand's own cgroup (see cgroup.h). */
#include "errand/cgroup.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_MOUNT  "/sys/fs/cgroup"
#define REMOVE_MS 2000 /* for killed members to leave */

struct er_cgroup {
    bool v2;
    char *dirs[2]; /* v1: memory, pids (either may be NULL); v2: dirs[0] */
    char *procs[2];
    const char *join[3]; /* the non-NULL procs, NULL-terminated */
};

static atomic_uint seq; /* names of the groups of this process */
static atomic_bool warned;

/* OWNED: our path in the v1 hierarchy of controller, or in the v2 one when
 * controller is NULL ("/…"); NULL when /proc/self/cgroup has none. */
static char *own_path(const char *controller)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    char *line = NULL, *found = NULL;
    size_t cap = 0;
    while (f && !found && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *list = c1 + 1;
        bool match = !controller ? strncmp(line, "0:", 2) == 0 && *list == '\0' : false;
        for (const char *p = list; controller && *p && !match;) {
            size_t n = strcspn(p, ",");
            match = n == strlen(controller) && strncmp(p, controller, n) == 0;
            p += n + (p[n] == ',');
        }
        if (match)
            found = er_xstrdup(c2 + 1);
    }
    free(line);
    if (f)
        fclose(f);
    return found;
}

static bool put(const char *dir, const char *file, const char *text)
{
    char *p = er_xasprintf("%s/%s", dir, file);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    free(p);
    if (fd < 0)
        return false;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok;
}

/* The value after key in a "key value" file (memory.events, oom_control). */
static long long stat_value(const char *dir, const char *file, const char *key)
{
    char *p = er_xasprintf("%s/%s", dir, file);
    FILE *f = fopen(p, "re");
    free(p);
    char name[64];
    long long v, found = -1;
    while (f && fscanf(f, "%63s %lld", name, &v) == 2)
        if (strcmp(name, key) == 0)
            found = v;
    if (f)
        fclose(f);
    return found;
}

static long long read_num(const char *dir, const char *file)
{
    char *p = er_xasprintf("%s/%s", dir, file);
    FILE *f = fopen(p, "re");
    free(p);
    long long v = -1;
    if (f && fscanf(f, "%lld", &v) != 1)
        v = -1;
    if (f)
        fclose(f);
    return v;
}

/* mkdir -p of base/errand, then the run's own leaf; OWNED leaf or NULL. */
static char *make_leaf(const char *base, bool v2)
{
    char *parent = er_xasprintf("%s/errand", base);
    bool ok = mkdir(parent, 0755) == 0 || errno == EEXIST;
    /* v2: the controllers reach a group only through its parent's subtree. */
    if (ok && v2 && !put(parent, "cgroup.subtree_control", "+memory +pids"))
        ok = false;
    char *leaf = NULL;
    if (ok) {
        leaf = er_xasprintf("%s/%ld-%u", parent, (long)getpid(), atomic_fetch_add(&seq, 1));
        if (mkdir(leaf, 0755) != 0) {
            free(leaf);
            leaf = NULL;
        }
    }
    free(parent);
    return leaf;
}

static char *v1_group(const char *controller)
{
    char *mount = er_xasprintf(CG_MOUNT "/%s", controller);
    char *own = access(mount, W_OK) == 0 ? own_path(controller) : NULL;
    char *base = own ? er_xasprintf("%s%s", mount, strcmp(own, "/") ? own : "") : NULL;
    char *leaf = base ? make_leaf(base, false) : NULL;
    free(mount);
    free(own);
    free(base);
    return leaf;
}

static bool v1_setup(er_cgroup *cg, const er_cgroup_limits *lim)
{
    char num[32];
    if ((cg->dirs[0] = v1_group("memory")) != NULL && lim->memory) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)lim->memory);
        bool ok = put(cg->dirs[0], "memory.limit_in_bytes", num);
        put(cg->dirs[0], "memory.memsw.limit_in_bytes", num); /* no swapping past it */
        if (!ok) {
            rmdir(cg->dirs[0]);
            free(cg->dirs[0]);
            cg->dirs[0] = NULL;
        }
    }
    if ((cg->dirs[1] = v1_group("pids")) != NULL && lim->pids) {
        snprintf(num, sizeof num, "%ld", lim->pids);
        if (!put(cg->dirs[1], "pids.max", num)) {
            rmdir(cg->dirs[1]);
            free(cg->dirs[1]);
            cg->dirs[1] = NULL;
        }
    }
    return cg->dirs[0] || cg->dirs[1];
}

static bool v2_setup(er_cgroup *cg, const er_cgroup_limits *lim)
{
    if (access(CG_MOUNT "/cgroup.controllers", R_OK) != 0)
        return false;
    char *own = own_path(NULL);
    char *base = own ? er_xasprintf(CG_MOUNT "%s", strcmp(own, "/") ? own : "") : NULL;
    free(own);
    /* Where processes live (ours) this fails, except at the root: then the
     * cgroup was not delegated to us and we leave it alone. */
    if (base)
        put(base, "cgroup.subtree_control", "+memory +pids");
    char *leaf = base ? make_leaf(base, true) : NULL;
    free(base);
    if (!leaf)
        return false;
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)lim->memory);
    bool ok = !lim->memory || put(leaf, "memory.max", num);
    put(leaf, "memory.swap.max", "0");
    snprintf(num, sizeof num, "%ld", lim->pids);
    ok = ok && (!lim->pids || put(leaf, "pids.max", num));
    if (!ok) {
        rmdir(leaf);
        free(leaf);
        return false;
    }
    cg->v2 = true;
    cg->dirs[0] = leaf;
    return true;
}

er_cgroup *er_cgroup_new(const er_cgroup_limits *lim)
{
    er_cgroup *cg = er_xcalloc(1, sizeof *cg);
    if (!v1_setup(cg, lim) && !v2_setup(cg, lim)) {
        free(cg);
        if (!atomic_exchange(&warned, true))
            er_log(ER_LOG_WARN, "sandbox",
                   "no cgroup can be made for commands here (cgroup v1 "
                   "memory/pids or a delegated v2 cgroup); their memory is limited per "
                   "process only");
        return NULL;
    }
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        if (cg->dirs[i]) {
            cg->procs[i] = er_xasprintf("%s/cgroup.procs", cg->dirs[i]);
            cg->join[n++] = cg->procs[i];
        }
    }
    cg->join[n] = NULL;
    return cg;
}

const char *const *er_cgroup_join_files(const er_cgroup *cg)
{
    return cg->join;
}

const char *er_cgroup_kind(const er_cgroup *cg)
{
    return cg->v2 ? "v2" : "v1";
}

size_t er_cgroup_kill(er_cgroup *cg)
{
    size_t n = 0;
    if (cg->v2)
        put(cg->dirs[0], "cgroup.kill", "1"); /* Linux 5.14+; the loop below otherwise */
    for (int i = 0; i < 2; i++) {
        FILE *f = cg->procs[i] ? fopen(cg->procs[i], "re") : NULL;
        long pid;
        while (f && fscanf(f, "%ld", &pid) == 1) {
            kill((pid_t)pid, SIGKILL);
            n++;
        }
        if (f)
            fclose(f);
    }
    return n;
}

bool er_cgroup_oom(er_cgroup *cg)
{
    const char *mem = cg->dirs[0];
    if (!mem)
        return false;
    if (cg->v2)
        return stat_value(mem, "memory.events", "oom_kill") > 0;
    long long kills = stat_value(mem, "memory.oom_control", "oom_kill");
    return kills > 0 || (kills < 0 && read_num(mem, "memory.failcnt") > 0);
}

void er_cgroup_free(er_cgroup *cg)
{
    if (!cg)
        return;
    for (int i = 0; i < 2; i++) {
        if (!cg->dirs[i])
            continue;
        /* Killed members leave the group once reaped, and a memory group
         * some time after its last process: retry, soon at first. */
        int64_t give_up = er_mono_ms() + REMOVE_MS;
        for (useconds_t pause = 200; er_mono_ms() < give_up;
             pause = pause < 10000 ? 2 * pause : pause) {
            er_cgroup_kill(cg);
            if (rmdir(cg->dirs[i]) == 0 || errno == ENOENT)
                break;
            usleep(pause);
        }
        free(cg->dirs[i]);
        free(cg->procs[i]);
        cg->dirs[i] = cg->procs[i] = NULL;
    }
    free(cg);
}
