/* pool.c — the browsers of a process, one per session (see browser_pool.h). */
#include "errand/browser_pool.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/str.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct slot {
    struct slot *next;
    char *session;
    er_browser *browser; /* NULL while it is being started */
    bool busy;
    int uses;
    int64_t last_used;
} slot;

struct er_browser_pool {
    er_browser_pool_opts o;
    er_netguard *guard;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    slot *slots; /* guarded by lock */
};

void er_browser_pool_opts_from_config(er_browser_pool_opts *o, const er_config *cfg)
{
    memset(o, 0, sizeof *o);
    o->browser.engine = cfg->browser_engine;
    o->browser.binary = cfg->browser_binary;
    o->browser.headless =
        !(er_str_eq(cfg->browser_headless, "false") || er_str_eq(cfg->browser_headless, "no") ||
          er_str_eq(cfg->browser_headless, "0"));
    o->browser.page_timeout_ms = (int)(cfg->browser_page_timeout * 1000);
    o->browser.command_timeout_ms = (int)(cfg->browser_command_timeout * 1000);
    o->browser.memory_max = (uint64_t)(cfg->browser_memory_max > 0 ? cfg->browser_memory_max : 0)
                            << 20;
    o->browser.pids_max = cfg->browser_max_processes > 0 ? cfg->browser_max_processes : 0;
    o->allow_hosts = cfg->web_allow_hosts;
    o->max_instances = (int)cfg->browser_max_instances;
    o->recycle_after = (int)cfg->browser_recycle_after;
}

int er_browser_pool_new(er_browser_pool **out, const er_browser_pool_opts *o, er_error *err)
{
    *out = NULL;
    er_browser_pool *p = er_xcalloc(1, sizeof *p);
    p->o = *o;
    p->o.browser.engine = er_xstrdup(o->browser.engine);
    p->o.browser.binary = er_xstrdup(o->browser.binary);
    p->o.allow_hosts = NULL;
    if (p->o.max_instances <= 0)
        p->o.max_instances = 2;
    if (p->o.recycle_after <= 0)
        p->o.recycle_after = 500;
    if (p->o.browser.command_timeout_ms <= 0)
        p->o.browser.command_timeout_ms = 10000;
    int rc = er_netguard_new(&p->guard, o->allow_hosts, err);
    if (rc) {
        free((char *)p->o.browser.engine);
        free((char *)p->o.browser.binary);
        free(p);
        return rc;
    }
    p->o.browser.guard = p->guard;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    *out = p;
    return 0;
}

void er_browser_pool_free(er_browser_pool *p)
{
    if (!p)
        return;
    while (p->slots) {
        slot *s = p->slots;
        p->slots = s->next;
        er_browser_close(s->browser);
        free(s->session);
        free(s);
    }
    er_netguard_free(p->guard);
    free((char *)p->o.browser.engine);
    free((char *)p->o.browser.binary);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static slot *find(er_browser_pool *p, const char *session)
{
    for (slot *s = p->slots; s; s = s->next)
        if (strcmp(s->session, session) == 0)
            return s;
    return NULL;
}

static int count(er_browser_pool *p)
{
    int n = 0;
    for (slot *s = p->slots; s; s = s->next)
        n++;
    return n;
}

static void unlink_slot(er_browser_pool *p, slot *gone)
{
    for (slot **s = &p->slots; *s; s = &(*s)->next)
        if (*s == gone) {
            *s = gone->next;
            return;
        }
}

/* The least recently used idle slot, or NULL.  Called with lock held. */
static slot *idle_lru(er_browser_pool *p)
{
    slot *best = NULL;
    for (slot *s = p->slots; s; s = s->next)
        if (!s->busy && (!best || s->last_used < best->last_used))
            best = s;
    return best;
}

static bool wait_until(er_browser_pool *p, const struct timespec *until)
{
    return pthread_cond_timedwait(&p->cond, &p->lock, until) != ETIMEDOUT;
}

/* Makes room for one more browser; called with lock held.  The evicted one
 * is returned to be closed outside the lock. */
static int make_room(er_browser_pool *p, const struct timespec *until, slot **evicted,
                     er_error *err)
{
    *evicted = NULL;
    while (count(p) >= p->o.max_instances) {
        slot *s = idle_lru(p);
        if (s) {
            unlink_slot(p, s);
            *evicted = s;
            return 0;
        }
        if (!wait_until(p, until))
            return er_error_set(err, ER_EUNAVAIL,
                                "all %d browsers are busy "
                                "(browser.max_instances): try again later",
                                p->o.max_instances);
    }
    return 0;
}

static void close_slot(slot *s)
{
    if (!s)
        return;
    er_browser_close(s->browser);
    free(s->session);
    free(s);
}

static struct timespec deadline(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000 + 1;
    return t;
}

/* Finds or creates session's slot and marks it busy; called with lock held. */
static int claim(er_browser_pool *p, const char *session, slot **out, slot **evicted, er_error *err)
{
    struct timespec until = deadline(p->o.browser.command_timeout_ms);
    slot *s;
    while ((s = find(p, session)) && s->busy)
        if (!wait_until(p, &until))
            return er_error_set(err, ER_EUNAVAIL,
                                "the browser of session '%s' stays busy "
                                "with another call",
                                session);
    if (!s) {
        int rc = make_room(p, &until, evicted, err);
        if (rc)
            return rc;
        s = er_xcalloc(1, sizeof *s);
        s->session = er_xstrdup(session);
        s->next = p->slots;
        p->slots = s;
    }
    s->busy = true;
    *out = s;
    return 0;
}

int er_browser_pool_take(er_browser_pool *p, const char *session, er_browser **out, bool *fresh,
                         char *why, size_t whysize, er_error *err)
{
    *out = NULL;
    *fresh = false;
    why[0] = '\0';
    slot *s = NULL, *evicted = NULL;
    pthread_mutex_lock(&p->lock);
    int rc = claim(p, session, &s, &evicted, err);
    pthread_mutex_unlock(&p->lock);
    close_slot(evicted);
    if (rc)
        return rc;
    /* The slot is ours (busy): start or replace its browser outside the lock. */
    if (s->browser && !er_browser_alive(s->browser)) {
        er_strlcpy(why, "the session's browser had died and was replaced", whysize);
        er_log(ER_LOG_WARN, "browser", "session %s: browser died; starting a new one", session);
    } else if (s->browser && s->uses >= p->o.recycle_after) {
        er_strlcpy(why, "the session's browser was recycled (browser.recycle_after)", whysize);
    }
    if (why[0]) {
        er_browser_close(s->browser);
        s->browser = NULL;
        s->uses = 0;
    }
    if (!s->browser) {
        rc = er_browser_open(&s->browser, &p->o.browser, err);
        *fresh = rc == 0;
    }
    pthread_mutex_lock(&p->lock);
    if (rc) {
        unlink_slot(p, s);
        pthread_cond_broadcast(&p->cond);
    } else {
        s->uses++;
        *out = s->browser;
    }
    pthread_mutex_unlock(&p->lock);
    if (rc)
        close_slot(s);
    return rc;
}

void er_browser_pool_give(er_browser_pool *p, er_browser *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&p->lock);
    for (slot *s = p->slots; s; s = s->next)
        if (s->browser == b) {
            s->busy = false;
            s->last_used = er_mono_ms();
        }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

bool er_browser_pool_end(er_browser_pool *p, const char *session)
{
    pthread_mutex_lock(&p->lock);
    slot *s;
    struct timespec until = deadline(p->o.browser.command_timeout_ms);
    while ((s = find(p, session)) && s->busy)
        if (!wait_until(p, &until))
            break;
    if (s && !s->busy)
        unlink_slot(p, s);
    else
        s = NULL;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    close_slot(s);
    return s != NULL;
}

int er_browser_pool_count(er_browser_pool *p)
{
    pthread_mutex_lock(&p->lock);
    int n = count(p);
    pthread_mutex_unlock(&p->lock);
    return n;
}
