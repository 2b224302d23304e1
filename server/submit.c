/* submit.c — group commit of POST /api/v1/chat.
 *
 * Storing a chat is three inserts and a commit; under load the commits (WAL
 * writes of the same few B-tree pages, over and over) are the cost.  Chats
 * that arrive together are therefore stored together: the request is
 * suspended and queued; one thread takes everything queued and hands it to
 * er_task_submit_many (one transaction, a savepoint each, then one publish
 * each), replies to each request and resumes it.  When the server is idle a
 * batch is a single chat and nothing waits: the thread takes whatever is there
 * as soon as it is free, it never holds requests back to fill a batch. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_BATCH 256

typedef struct pending {
    struct pending *next;
    srv_req *r;
    er_submit sub;
} pending;

struct srv_batch {
    srv *s;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pending *head, *tail;
    bool stop;
    bool running; /* the thread is up */
    pthread_t thread;
};

static void reply_one(srv_req *r, const er_submit_result *res)
{
    if (res->rc) {
        srv_reply_err(r, &res->err);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "task_id", res->task_id);
    er_json_add_str(j, "conversation_id", res->conv_id);
    er_json_add_str(j, "status", "queued");
    char loc[96];
    snprintf(loc, sizeof loc, "Location: /api/v1/tasks/%s\r\n", res->task_id);
    r->extra = loc;
    srv_reply_json(r, 202, j);
    r->extra = NULL;
}

/* Stores, publishes and answers a list taken off the queue. */
static void run_batch(struct srv_batch *b, pending *list)
{
    size_t n = 0;
    for (pending *p = list; p; p = p->next)
        n++;
    er_submit *subs = er_xcalloc(n, sizeof *subs);
    er_submit_result *res = er_xcalloc(n, sizeof *res);
    size_t i = 0;
    for (pending *p = list; p; p = p->next)
        subs[i++] = p->sub;
    er_task_submit_many(b->s->env, subs, n, res);
    i = 0;
    while (list) {
        pending *p = list;
        list = p->next;
        reply_one(p->r, &res[i++]);
        srv_resume(p->r);
        free(p);
    }
    free(subs);
    free(res);
}

static void *batch_main(void *arg)
{
    struct srv_batch *b = arg;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->head && !b->stop)
            pthread_cond_wait(&b->cond, &b->lock);
        if (!b->head)
            break;
        /* Take up to MAX_BATCH from the head. */
        pending *list = b->head, *last = list;
        for (int n = 1; n < MAX_BATCH && last->next; n++)
            last = last->next;
        b->head = last->next;
        if (!b->head)
            b->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&b->lock);
        run_batch(b, list);
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

void srv_batch_start(srv *s)
{
    struct srv_batch *b = er_xcalloc(1, sizeof *b);
    b->s = s;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    b->running = pthread_create(&b->thread, NULL, batch_main, b) == 0;
    if (!b->running)
        er_log(ER_LOG_WARN, "submit", "no batching thread: chats are stored one by one");
    s->batch = b;
}

void srv_batch_stop(srv *s)
{
    struct srv_batch *b = s->batch;
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->stop = true;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    if (b->running)
        pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    free(b);
    s->batch = NULL;
}

void srv_batch_submit(srv_req *r, const er_submit *sub)
{
    struct srv_batch *b = r->s->batch;
    pending *p = er_xcalloc(1, sizeof *p);
    p->r = r;
    p->sub = *sub;
    pthread_mutex_lock(&b->lock);
    if (b->stop || !b->running) {
        /* Shutting down (or no thread): store it here, now. */
        pthread_mutex_unlock(&b->lock);
        er_submit_result res;
        er_task_submit_many(r->s->env, sub, 1, &res);
        reply_one(r, &res);
        free(p);
        return;
    }
    srv_suspend(r);
    if (b->tail)
        b->tail->next = p;
    else
        b->head = p;
    b->tail = p;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
}
