/* inproc.c — the in-process bus: one FIFO per queue of the fixed topology,
 * exchanges routed by type (direct, topic, fanout), consumed by bus-owned
 * threads.  Nothing outlives the handle: this is the single-process mode, where
 * whoever publishes also runs the consumers.
 *
 * Threads: any thread may publish; each er_bus_consume call owns `concurrency`
 * threads, started by the first message its queue gets: a one-shot command
 * declares consumers for every queue and uses three.  Publishers and consumers
 * meet only at a queue's mutex (one per queue); the list of consumer groups has
 * the bus mutex.  A publish → handler hop
 * is a malloc, a lock and, when a consumer sleeps, one futex wake. */
#include "errand/alloc.h"
#include "errand/backend/bus_backend.h"
#include "errand/log.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct imsg {
    struct imsg *next;
    const char *exchange; /* a topology name or "": static storage */
    const char *key;      /* into data[] */
    int attempts;
    bool redelivered;
    size_t len;
    char data[]; /* body, NUL, key, NUL */
} imsg;

typedef struct iqueue {
    const char *name;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    imsg *head, *tail; /* head is also peeked without the lock: atomic stores */
    long depth;
    long groups;         /* consumer groups with live threads */
    int sleeping;        /* consumers in cond_wait: publish signals only then */
    struct igroup *idle; /* groups whose threads wait for a first message */
} iqueue;

typedef struct iroute {
    const er_bus_exchange *exchange;
    const char *key;
    iqueue *queue;
} iroute;

typedef struct inproc_bus inproc_bus;

typedef struct igroup {
    struct igroup *next;
    inproc_bus *bus;
    iqueue *queue;
    er_bus_raw_handler fn;
    void *payload;
    pthread_t *threads;
    int want;     /* threads to run */
    int nthreads; /* started; under queue->mu */
    int live;     /* threads still running or yet to start; under queue->mu */
    struct igroup *next_idle;
} igroup;

struct inproc_bus {
    er_bus base;
    iqueue *queues;
    size_t nqueues;
    iroute *routes;
    size_t nroutes;
    atomic_bool stopping;
    pthread_mutex_t mu; /* groups */
    igroup *groups;
};

/* How long an idle consumer polls its queue before sleeping on the condvar. */

static inproc_bus *to_inproc(er_bus *bus)
{
    assert(bus->be == &er_bus_inproc_backend);
    return (inproc_bus *)bus;
}

static iqueue *find_queue(inproc_bus *b, const char *name)
{
    for (size_t i = 0; i < b->nqueues; i++)
        if (strcmp(b->queues[i].name, name) == 0)
            return &b->queues[i];
    return NULL;
}

static const er_bus_exchange *find_exchange(const char *name)
{
    for (size_t i = 0; i < er_bus_nexchanges; i++)
        if (strcmp(er_bus_exchanges[i].name, name) == 0)
            return &er_bus_exchanges[i];
    return NULL;
}

static int inproc_open(er_bus **out, const er_url *url, er_error *err)
{
    (void)url;
    (void)err;
    inproc_bus *b = er_xcalloc(1, sizeof *b);
    b->base.be = &er_bus_inproc_backend;
    size_t nbindings;
    er_bus_bindings(&nbindings);
    b->queues = er_xcalloc(nbindings, sizeof *b->queues);
    b->routes = er_xcalloc(nbindings, sizeof *b->routes);
    pthread_mutex_init(&b->mu, NULL);
    atomic_init(&b->stopping, false);
    *out = &b->base;
    return 0;
}

/* Builds the queues and routes from the topology tables (the "declare"). */
static int inproc_declare(er_bus *bus, er_error *err)
{
    inproc_bus *b = to_inproc(bus);
    if (b->nqueues)
        return 0;
    size_t nbindings;
    const er_bus_binding *bindings = er_bus_bindings(&nbindings);
    for (size_t i = 0; i < nbindings; i++) {
        const er_bus_binding *bd = &bindings[i];
        iqueue *q = find_queue(b, bd->queue);
        if (!q) {
            q = &b->queues[b->nqueues++];
            q->name = bd->queue;
            pthread_mutex_init(&q->mu, NULL);
            pthread_cond_init(&q->cv, NULL);
        }
        const er_bus_exchange *ex = find_exchange(bd->exchange);
        if (!ex)
            return er_error_set(err, ER_EINTERNAL, "binding of '%s' names unknown exchange '%s'",
                                bd->queue, bd->exchange);
        b->routes[b->nroutes++] = (iroute){ ex, bd->key, q };
    }
    return 0;
}

static imsg *msg_new(const char *exchange, const char *key, const void *body, size_t len,
                     int attempts)
{
    size_t klen = strlen(key);
    imsg *m = er_xmalloc(sizeof *m + len + 1 + klen + 1);
    m->next = NULL;
    m->exchange = exchange;
    m->attempts = attempts;
    m->redelivered = false;
    m->len = len;
    memcpy(m->data, body, len);
    m->data[len] = '\0';
    char *k = m->data + len + 1;
    memcpy(k, key, klen + 1);
    m->key = k;
    return m;
}

static void start_idle(iqueue *q);

static void push(iqueue *q, imsg *m)
{
    pthread_mutex_lock(&q->mu);
    if (q->idle)
        start_idle(q);
    if (q->tail)
        q->tail->next = m;
    else
        __atomic_store_n(&q->head, m, __ATOMIC_RELAXED);
    q->tail = m;
    q->depth++;
    bool wake = q->sleeping > 0;
    pthread_mutex_unlock(&q->mu);
    if (wake)
        pthread_cond_signal(&q->cv);
}

static bool route_matches(const iroute *r, const char *key)
{
    switch (r->exchange->type) {
    case ER_EXCHANGE_DIRECT: return strcmp(r->key, key) == 0;
    case ER_EXCHANGE_TOPIC: return er_bus_topic_match(r->key, key);
    case ER_EXCHANGE_FANOUT: return true;
    }
    return false;
}

static int inproc_publish(er_bus *bus, const char *exchange, const char *key, const void *body,
                          size_t len, int attempts, er_error *err)
{
    inproc_bus *b = to_inproc(bus);
    if (!*exchange) {
        iqueue *q = find_queue(b, key);
        if (q)
            push(q, msg_new("", key, body, len, attempts));
        else
            er_log(ER_LOG_DEBUG, "bus", "dropped a message for unknown queue '%s'", key);
        return 0;
    }
    const er_bus_exchange *ex = find_exchange(exchange);
    if (!ex)
        return er_error_set(err, ER_ENOTFOUND, "no exchange '%s' on the bus", exchange);
    iqueue *targets[b->nroutes ? b->nroutes : 1];
    size_t n = 0;
    for (size_t i = 0; i < b->nroutes; i++) {
        const iroute *r = &b->routes[i];
        if (r->exchange != ex || !route_matches(r, key))
            continue;
        size_t j = 0;
        while (j < n && targets[j] != r->queue) /* a queue gets one copy, like AMQP */
            j++;
        if (j == n)
            targets[n++] = r->queue;
    }
    if (n == 0)
        er_log(ER_LOG_DEBUG, "bus", "dropped a message on '%s' with key '%s': no queue is bound",
               exchange, key);
    for (size_t i = 0; i < n; i++)
        push(targets[i], msg_new(ex->name, key, body, len, attempts));
    return 0;
}

/* Waits for the next message of g's queue; NULL when the group must stop. */
static imsg *take(igroup *g)
{
    iqueue *q = g->queue;
    /* No spinning before sleeping: a process runs a dozen consumer threads that are
     * mostly idle, and yielding in all of them costs more CPU than a futex wake. */
    pthread_mutex_lock(&q->mu);
    while (!q->head && !atomic_load(&g->bus->stopping)) {
        q->sleeping++;
        pthread_cond_wait(&q->cv, &q->mu);
        q->sleeping--;
    }
    imsg *m = NULL;
    if (!atomic_load(&g->bus->stopping)) {
        m = q->head;
        __atomic_store_n(&q->head, m->next, __ATOMIC_RELAXED);
        if (!m->next)
            q->tail = NULL;
        q->depth--;
        m->next = NULL;
    } else if (--g->live == 0) {
        q->groups--;
    }
    pthread_mutex_unlock(&q->mu);
    return m;
}

static void *consumer_main(void *arg)
{
    igroup *g = arg;
    imsg *m;
    while ((m = take(g)) != NULL) {
        er_bus_msg msg = {
            .queue = g->queue->name,
            .exchange = m->exchange,
            .routing_key = m->key,
            .body = m->data,
            .len = m->len,
            .attempts = m->attempts,
            .redelivered = m->redelivered,
        };
        er_bus_verdict v = g->fn(&msg, g->payload);
        if (v == ER_BUS_RETRY) {
            m->redelivered = true; /* the generic layer could not requeue it: keep it */
            push(g->queue, m);
        } else {
            free(m);
        }
    }
    return NULL;
}

static void join_group(igroup *g)
{
    for (int i = 0; i < g->nthreads; i++)
        pthread_join(g->threads[i], NULL);
    free(g->threads);
    free(g);
}

/* Starts the threads of q's waiting groups, with q->mu held: they block on it
 * in take() until the caller lets go. */
static void start_idle(iqueue *q)
{
    igroup *g;
    while ((g = q->idle) != NULL) {
        q->idle = g->next_idle;
        while (g->nthreads < g->want &&
               pthread_create(&g->threads[g->nthreads], NULL, consumer_main, g) == 0)
            g->nthreads++;
        if (g->nthreads < g->want) {
            er_log(ER_LOG_ERROR, "bus", "cannot start consumer threads for '%s': %d of %d run",
                   q->name, g->nthreads, g->want);
            g->live -= g->want - g->nthreads;
            if (g->live == 0)
                q->groups--;
        }
    }
}

static int inproc_consume(er_bus *bus, const char *queue, int concurrency, er_bus_raw_handler fn,
                          void *payload, er_error *err)
{
    inproc_bus *b = to_inproc(bus);
    iqueue *q = find_queue(b, queue);
    if (!q)
        return er_error_set(err, ER_ENOTFOUND, "no queue '%s' on the bus", queue);
    if (atomic_load(&b->stopping))
        return er_error_set(err, ER_ECANCELLED, "the bus is stopping; cannot consume '%s'", queue);
    igroup *g = er_xcalloc(1, sizeof *g);
    g->bus = b;
    g->queue = q;
    g->fn = fn;
    g->payload = payload;
    g->want = concurrency;
    g->threads = er_xcalloc((size_t)concurrency, sizeof *g->threads);
    pthread_mutex_lock(&b->mu);
    g->next = b->groups;
    b->groups = g;
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_lock(&q->mu);
    g->live = concurrency;
    q->groups++;
    g->next_idle = q->idle;
    q->idle = g;
    if (q->head) /* messages wait already */
        start_idle(q);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static void inproc_stop(er_bus *bus)
{
    inproc_bus *b = to_inproc(bus);
    atomic_store(&b->stopping, true);
    for (size_t i = 0; i < b->nqueues; i++) {
        iqueue *q = &b->queues[i];
        pthread_mutex_lock(&q->mu); /* no consumer is between its check and its wait */
        for (igroup *g = q->idle; g; g = g->next_idle) { /* they never start now */
            g->live = 0;
            q->groups--;
        }
        q->idle = NULL;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
}

static void inproc_close(er_bus *bus)
{
    inproc_bus *b = to_inproc(bus);
    inproc_stop(bus);
    pthread_mutex_lock(&b->mu);
    igroup *g = b->groups;
    b->groups = NULL;
    pthread_mutex_unlock(&b->mu);
    while (g) {
        igroup *next = g->next;
        join_group(g);
        g = next;
    }
    for (size_t i = 0; i < b->nqueues; i++) {
        iqueue *q = &b->queues[i];
        for (imsg *m = q->head, *next; m; m = next) {
            next = m->next;
            free(m);
        }
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->cv);
    }
    pthread_mutex_destroy(&b->mu);
    free(b->queues);
    free(b->routes);
    free(b);
}

static int inproc_queue_info(er_bus *bus, const char *queue, long *depth, long *consumers,
                             er_error *err)
{
    iqueue *q = find_queue(to_inproc(bus), queue);
    if (!q)
        return er_error_set(err, ER_ENOTFOUND, "no queue '%s' on the bus", queue);
    pthread_mutex_lock(&q->mu);
    *depth = q->depth;
    *consumers = q->groups;
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static int inproc_purge(er_bus *bus, const char *queue, long *purged, er_error *err)
{
    iqueue *q = find_queue(to_inproc(bus), queue);
    if (!q)
        return er_error_set(err, ER_ENOTFOUND, "no queue '%s' on the bus", queue);
    pthread_mutex_lock(&q->mu);
    imsg *m = q->head;
    *purged = q->depth;
    __atomic_store_n(&q->head, NULL, __ATOMIC_RELAXED);
    q->tail = NULL;
    q->depth = 0;
    pthread_mutex_unlock(&q->mu);
    while (m) {
        imsg *next = m->next;
        free(m);
        m = next;
    }
    return 0;
}

static int inproc_ping(er_bus *bus, er_error *err)
{
    (void)bus;
    (void)err;
    return 0;
}

const er_bus_backend er_bus_inproc_backend = {
    .version = ER_BUS_BACKEND_VERSION,
    .scheme = "inproc",
    .open = inproc_open,
    .close = inproc_close,
    .declare = inproc_declare,
    .publish = inproc_publish,
    .consume = inproc_consume,
    .stop = inproc_stop,
    .queue_info = inproc_queue_info,
    .ping = inproc_ping,
    .purge = inproc_purge,
    .local = true,
};
