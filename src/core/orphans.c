/* orphans.c — ending the tasks of local errand processes that died (see orphans.h). */
#include "errand/orphans.h"
#include "errand/alloc.h"
#include "errand/bus.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/proc.h"
#include "errand/store.h"
#include "errand/str.h"
#include "errand/tasks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OWNER_MAX 256
#define REAP_MAX  1000

static char self_owner[OWNER_MAX];
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

/* When a process started (field 22 of /proc/PID/stat, clock ticks after
 * boot): with the pid it names one process for the life of the boot. */
static bool start_ticks(long pid, unsigned long long *out)
{
    return er_proc_stat_field(pid, 22, out);
}

static void boot_id(char *out, size_t outsize)
{
    er_strlcpy(out, "-", outsize);
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (f) {
        if (fgets(out, (int)outsize, f))
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
}

static void self_init(void)
{
    char host[128] = "-", boot[64];
    if (gethostname(host, sizeof host) != 0 || !*host)
        er_strlcpy(host, "-", sizeof host);
    host[strcspn(host, " ")] = '\0';
    boot_id(boot, sizeof boot);
    unsigned long long start = 0;
    long pid = (long)getpid();
    start_ticks(pid, &start);
    snprintf(self_owner, sizeof self_owner, "%s %s %ld %llu", host, boot, pid, start);
}

const char *er_owner_self(void)
{
    pthread_once(&self_once, self_init);
    return self_owner;
}

bool er_owner_alive(const char *owner)
{
    char host[128], boot[64], my_host[128], my_boot[64];
    long pid;
    unsigned long long start, now;
    if (!owner || sscanf(owner, "%127s %63s %ld %llu", host, boot, &pid, &start) != 4 || pid <= 0)
        return true; /* not one of ours to judge */
    if (sscanf(er_owner_self(), "%127s %63s", my_host, my_boot) != 2 ||
        strcmp(host, my_host) != 0 || strcmp(boot, my_boot) != 0)
        return true; /* another machine, or before a reboot we cannot tell */
    return start_ticks(pid, &now) && now == start;
}

typedef struct orphan {
    char id[ER_ID_LEN];
    long pid;
} orphan;

typedef struct orphan_list {
    orphan *v;
    size_t n;
} orphan_list;

static int collect(const er_task *t, void *payload)
{
    orphan_list *l = payload;
    cJSON *meta = t->meta ? cJSON_Parse(t->meta) : NULL;
    const char *owner = er_json_str(meta, "owner");
    if (owner && !er_owner_alive(owner) && l->n < REAP_MAX) {
        orphan *o = &l->v[l->n++];
        memcpy(o->id, t->id, ER_ID_LEN);
        if (sscanf(owner, "%*s %*s %ld", &o->pid) != 1)
            o->pid = 0;
    }
    cJSON_Delete(meta);
    return 0;
}

/* Its children go with it: nothing else would end them. */
static void end_orphan(er_env *env, er_store *st, const orphan *o)
{
    er_task t;
    if (er_store_task_get(st, o->id, &t, NULL) != 0)
        return;
    char *why = er_xasprintf("interrupted: the errand process that ran it (pid %ld) ended before "
                             "it finished, killed or crashed; its recorded steps are in "
                             "`errand task show %s`",
                             o->pid, t.id);
    er_task_outcome out = { .status = ER_TASK_FAILED, .error_code = ER_EUNAVAIL, .error = why };
    if (er_task_finish(env, &t, &out, NULL) == 0)
        er_log(ER_LOG_WARN, "tasks", "task %s: %s", t.id, why);
    er_task_finish_children(env, t.id, &out);
    free(why);
    er_task_release(&t);
}

int er_tasks_reap_orphans(er_env *env, er_error *err)
{
    /* From the configuration, not by opening the bus: `task list` has no
     * business connecting to a broker. */
    if (!er_bus_url_is_local(er_env_config(env)->rabbitmq_url))
        return 0;
    er_store *st;
    int rc = er_env_store(env, &st, err);
    if (rc)
        return rc;
    orphan_list l = { er_xcalloc(REAP_MAX, sizeof *l.v), 0 };
    er_task_filter f = { .status = -1, .open = true, .limit = REAP_MAX };
    rc = er_store_task_list(st, &f, collect, &l, err);
    er_task_wait w;
    for (size_t i = 0; !rc && i < l.n; i++) {
        /* A parked task needs no process: whoever answers it, or its expiry, runs it on. */
        if (er_store_wait_get(st, l.v[i].id, &w, NULL) == 0)
            er_task_wait_release(&w);
        else
            end_orphan(env, st, &l.v[i]);
    }
    free(l.v);
    return rc;
}
