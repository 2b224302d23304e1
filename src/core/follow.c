/* follow.c — a task's events, handed from the cache's delivery thread to the
 * front end's thread through a small queue. */
#include "errand/tasks.h"
#include "errand/alloc.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct node {
    struct node *next;
    cJSON *ev;
} node;

struct er_follow {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    node *head, *tail;
    er_cache_sub *sub;
    const char *const *kinds; /* NULL: all */
};

/* Is msg of a kind the reader wants?  Read off the text, not parsed: events.c
 * writes "kind" before "data", so the first "kind" is the event's own. */
static bool wanted(const er_follow *f, const char *msg, size_t len)
{
    static const char key[] = "\"kind\":\"";
    if (!f->kinds)
        return true;
    const char *p = memmem(msg, len, key, sizeof key - 1);
    if (!p)
        return true; /* not in events.c's shape: the reader decides */
    p += sizeof key - 1;
    const char *end = memchr(p, '"', len - (size_t)(p - msg));
    if (!end)
        return true;
    for (const char *const *k = f->kinds; *k; k++)
        if (strlen(*k) == (size_t)(end - p) && memcmp(*k, p, (size_t)(end - p)) == 0)
            return true;
    return false;
}

static void on_event(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    er_follow *f = payload;
    if (!wanted(f, msg, len))
        return;
    cJSON *ev = NULL;
    if (er_json_parse(&ev, msg, len, NULL))
        return;
    node *n = er_xcalloc(1, sizeof *n);
    n->ev = ev;
    pthread_mutex_lock(&f->lock);
    if (f->tail)
        f->tail->next = n;
    else
        f->head = n;
    f->tail = n;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

int er_follow_open(er_follow **out, er_env *env, const char *root_id, const char *const *kinds,
                   er_error *err)
{
    er_cache *cache;
    int rc = er_env_cache(env, &cache, err);
    if (rc)
        return rc;
    er_follow *f = er_xcalloc(1, sizeof *f);
    f->kinds = kinds;
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    char channel[64];
    er_event_channel(root_id, channel, sizeof channel);
    rc = er_cache_subscribe(cache, channel, on_event, f, &f->sub, err);
    if (rc) {
        er_follow_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

int er_follow_next(er_follow *f, int timeout_ms, cJSON **out)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int rc = 0;
    pthread_mutex_lock(&f->lock);
    while (!f->head) {
        if (timeout_ms == 0) {
            rc = ER_ETIMEDOUT;
            break;
        }
        if (timeout_ms < 0)
            pthread_cond_wait(&f->cond, &f->lock);
        else if (pthread_cond_timedwait(&f->cond, &f->lock, &deadline) != 0 && !f->head) {
            rc = ER_ETIMEDOUT;
            break;
        }
    }
    if (!rc) {
        node *n = f->head;
        f->head = n->next;
        if (!f->head)
            f->tail = NULL;
        *out = n->ev;
        free(n);
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

void er_follow_close(er_follow *f)
{
    if (!f)
        return;
    er_cache_unsubscribe(f->sub);
    while (f->head) {
        node *n = f->head;
        f->head = n->next;
        cJSON_Delete(n->ev);
        free(n);
    }
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
