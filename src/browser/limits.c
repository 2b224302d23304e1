/* limits.c — memory and process limits of a browser instance
 * (browser_limits.h). */
#include "errand/browser_limits.h"
#include "errand/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Chromium does not start with less data address space than this. */
#define DATA_FLOOR (1024ull * 1024 * 1024)

static pthread_once_t said_once = PTHREAD_ONCE_INIT;

static void say_rlimits_only(void)
{
    er_log(ER_LOG_WARN, "browser",
           "no control group can be made here (no delegated cgroup v2 subtree with the memory "
           "and pids controllers, no writable cgroup v1): a browser's memory is limited per "
           "process only (RLIMIT_DATA), not as a whole");
}

void er_browser_limits_prepare(er_browser_limits *l, uint64_t memory, long pids)
{
    memset(l, 0, sizeof *l);
    l->memory = memory;
    l->pids = pids;
    if (!memory && !pids)
        return;
    er_cgroup_limits lim = { memory, pids };
    l->cg = er_cgroup_new(&lim);
    if (!l->cg) {
        pthread_once(&said_once, say_rlimits_only);
        l->data_rlimit = memory && memory < DATA_FLOOR ? DATA_FLOOR : memory;
    }
}

void er_browser_limits_enter(const er_browser_limits *l)
{
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    if (l->data_rlimit) {
        struct rlimit data = { l->data_rlimit, l->data_rlimit };
        setrlimit(RLIMIT_DATA, &data);
    }
    const char *const *files = l->cg ? er_cgroup_join_files(l->cg) : NULL;
    for (size_t i = 0; files && files[i]; i++) {
        int fd = open(files[i], O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t w = write(fd, "0", 1);
            (void)w; /* not joined: the limits of the parent's group still hold */
            close(fd);
        }
    }
}

bool er_browser_limits_oom(er_browser_limits *l)
{
    return l->cg && er_cgroup_oom(l->cg);
}

const char *er_browser_limits_kind(const er_browser_limits *l)
{
    if (!l->cg)
        return "rlimits only";
    return strcmp(er_cgroup_kind(l->cg), "v1") == 0 ? "cgroup v1" : "cgroup v2";
}

void er_browser_limits_release(er_browser_limits *l)
{
    er_cgroup_free(l->cg);
    l->cg = NULL;
}
