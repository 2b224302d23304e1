/* pool.c — the threads that run the handlers of SRV_SLOW routes (they wait on
 * the network: an identity provider, say) while their connection is
 * suspended, so that a slow peer cannot stall libmicrohttpd's event threads. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/log.h"

#include <pthread.h>
#include <stdlib.h>

#define SLOW_THREADS 4

typedef struct job {
    struct job *next;
    srv_req *r;
} job;

struct srv_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* work arrived, or the pool went idle */
    job *head, *tail;
    int busy; /* queued + running */
    bool stop;
    pthread_t threads[SLOW_THREADS];
    int nthreads;
};

static void *pool_main(void *arg)
{
    struct srv_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->cond, &p->lock);
        job *j = p->head;
        if (!j)
            break;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        srv_req *r = j->r;
        free(j);
        er_log_set_context(NULL, r->request_id);
        r->route->fn(r);
        er_log_set_context(NULL, NULL);
        srv_resume(r); /* r belongs to MHD again from here on */
        pthread_mutex_lock(&p->lock);
        p->busy--;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

bool srv_pool_submit(struct srv_pool *p, srv_req *r)
{
    pthread_mutex_lock(&p->lock);
    if (p->stop || p->nthreads == 0) {
        pthread_mutex_unlock(&p->lock);
        return false;
    }
    job *j = er_xcalloc(1, sizeof *j);
    j->r = r;
    srv_suspend(r);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->busy++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return true;
}

struct srv_pool *srv_pool_new(void)
{
    struct srv_pool *p = er_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (int i = 0; i < SLOW_THREADS; i++)
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, p) == 0)
            p->nthreads++;
    return p;
}

void srv_pool_free(struct srv_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    while (p->busy > 0)
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
