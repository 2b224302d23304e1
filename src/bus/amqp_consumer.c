/* amqp_consumer.c — RabbitMQ consumers: one connection per er_bus_consume,
 * driven by an I/O thread, and `concurrency` worker threads running the handler.
 *
 * The I/O thread owns the connection: it reads deliveries, sends acks and
 * heartbeats, and after the connection drops reconnects with backoff,
 * re-declares the topology and consumes again.  Workers take deliveries from
 * `todo` and hand verdicts back on `done`, waking the I/O thread through an
 * eventfd.  Verdicts carry the connection generation: after a reconnect, stale
 * delivery tags are dropped (the broker redelivers those messages), which is one
 * reason delivery is at least once.  The handlers still running on a dropped
 * connection's messages are told (er_bus_msg.lost): the broker may have handed
 * them to another worker already.  Prefetch = concurrency, so the broker never
 * hands us more than the workers can hold.
 *
 * RabbitMQ closes a channel whose delivery stays unacked past consumer_timeout
 * (30 min by default in 3.10): handlers that run longer need it raised on the
 * broker, or the message is redelivered after the reconnect. */
#ifdef ERRAND_WITH_AMQP /* CMake drops amqp.c without AMQP; this file guards itself */

#include "amqp_internal.h"
#include "errand/alloc.h"
#include "errand/log.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define IO_POLL_MS 1000 /* the I/O thread services heartbeats at least this often */

/* One delivery: from the I/O thread to a worker (todo) and back (done). */
typedef struct work {
    struct work *next;
    struct work *next_busy; /* on consumer.busy while a worker runs it */
    int lost;               /* er_bus_msg.lost: its connection is gone */
    uint64_t tag;
    unsigned gen; /* connection generation it came from */
    int attempts;
    bool redelivered;
    bool has_env; /* env not yet destroyed */
    er_bus_verdict verdict;
    amqp_envelope_t env;  /* owned; destroyed by the worker */
    char *exchange, *key; /* into strings[] */
    char strings[];
} work;

struct consumer {
    struct consumer *next;
    amqp_bus *bus;
    char *queue;
    int concurrency;
    er_bus_raw_handler fn;
    void *payload;
    pthread_t io;
    pthread_t *workers;
    int nworkers;
    int efd;            /* wakes the I/O thread */
    pthread_mutex_t mu; /* todo, done, stop, workers_gone */
    pthread_cond_t cv;  /* workers wait for todo or stop */
    work *todo_head, *todo_tail;
    work *busy; /* in a worker's hands */
    work *done;
    bool stop;
    bool workers_gone;
    /* I/O thread only (the creating thread until the I/O thread starts): */
    amqp_connection_state_t conn;
    unsigned gen;
    bool cancelled;
    char tag[256];
};

/* ---- consumers: worker threads ---- */

static void wake(consumer *c)
{
    uint64_t one = 1;
    ssize_t n = write(c->efd, &one, sizeof one);
    (void)n; /* EAGAIN means a wake-up is already pending */
}

static void *worker_main(void *arg)
{
    consumer *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->stop && !c->todo_head)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop) {
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        work *w = c->todo_head;
        c->todo_head = w->next;
        if (!c->todo_head)
            c->todo_tail = NULL;
        w->next_busy = c->busy;
        c->busy = w;
        pthread_mutex_unlock(&c->mu);
        amqp_bytes_t body = w->env.message.body;
        er_bus_msg m = {
            .queue = c->queue,
            .exchange = w->exchange,
            .routing_key = w->key,
            .body = body.bytes ? body.bytes : "",
            .len = body.len,
            .attempts = w->attempts,
            .redelivered = w->redelivered,
            .lost = &w->lost,
        };
        w->verdict = c->fn(&m, c->payload);
        amqp_destroy_envelope(&w->env);
        w->has_env = false;
        pthread_mutex_lock(&c->mu);
        for (work **pp = &c->busy; *pp; pp = &(*pp)->next_busy) {
            if (*pp == w) {
                *pp = w->next_busy;
                break;
            }
        }
        w->next = c->done;
        c->done = w;
        pthread_mutex_unlock(&c->mu);
        wake(c);
    }
}

/* ---- consumers: the I/O thread ---- */

/* An integer field of any width (other clients may write the header); 1 otherwise. */
static long long field_int(const amqp_field_value_t *v)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8: return v->value.i8;
    case AMQP_FIELD_KIND_U8: return v->value.u8;
    case AMQP_FIELD_KIND_I16: return v->value.i16;
    case AMQP_FIELD_KIND_U16: return v->value.u16;
    case AMQP_FIELD_KIND_I32: return v->value.i32;
    case AMQP_FIELD_KIND_U32: return v->value.u32;
    case AMQP_FIELD_KIND_I64: return v->value.i64;
    case AMQP_FIELD_KIND_U64: return v->value.u64 > INT_MAX ? INT_MAX : (long long)v->value.u64;
    default: return 1;
    }
}

/* Attempts carried by the message (header x-errand-attempts), at least 1. */
static int header_attempts(const amqp_basic_properties_t *p)
{
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return 1;
    size_t klen = strlen(ATTEMPTS_HEADER);
    for (int i = 0; i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (e->key.len != klen || memcmp(e->key.bytes, ATTEMPTS_HEADER, klen) != 0)
            continue;
        long long v = field_int(&e->value);
        return v < 1 ? 1 : v > INT_MAX ? INT_MAX : (int)v;
    }
    return 1;
}

static void free_work_list(work *w)
{
    while (w) {
        work *next = w->next;
        if (w->has_env)
            amqp_destroy_envelope(&w->env);
        free(w);
        w = next;
    }
}

/* Hands a delivery to the workers, or straight back once we cancelled. */
static void dispatch(consumer *c, amqp_envelope_t *env)
{
    if (c->cancelled) {
        amqp_basic_nack(c->conn, CHANNEL, env->delivery_tag, 0, 1);
        amqp_destroy_envelope(env);
        return;
    }
    size_t el = env->exchange.len, kl = env->routing_key.len;
    work *w = er_xmalloc(sizeof *w + el + 1 + kl + 1);
    w->next = w->next_busy = NULL;
    w->lost = 0;
    w->tag = env->delivery_tag;
    w->gen = c->gen;
    w->redelivered = env->redelivered;
    w->attempts = header_attempts(&env->message.properties);
    w->exchange = w->strings;
    w->key = w->strings + el + 1;
    if (el)
        memcpy(w->exchange, env->exchange.bytes, el);
    if (kl)
        memcpy(w->key, env->routing_key.bytes, kl);
    w->exchange[el] = '\0';
    w->key[kl] = '\0';
    w->env = *env;
    w->has_env = true;
    pthread_mutex_lock(&c->mu);
    if (c->todo_tail)
        c->todo_tail->next = w;
    else
        c->todo_head = w;
    c->todo_tail = w;
    pthread_mutex_unlock(&c->mu);
    pthread_cond_signal(&c->cv);
}

/* Sends the verdicts workers left on `done` (stale generations are dropped). */
static int flush_verdicts(consumer *c, er_error *err)
{
    pthread_mutex_lock(&c->mu);
    work *d = c->done;
    c->done = NULL;
    pthread_mutex_unlock(&c->mu);
    int st = AMQP_STATUS_OK;
    for (work *next; d; d = next) {
        next = d->next;
        if (st == AMQP_STATUS_OK && c->conn && d->gen == c->gen) {
            if (d->verdict == ER_BUS_ACK)
                st = amqp_basic_ack(c->conn, CHANNEL, d->tag, 0);
            else if (d->verdict == ER_BUS_RETRY)
                st = amqp_basic_nack(c->conn, CHANNEL, d->tag, 0, 1);
            else
                st = amqp_basic_reject(c->conn, CHANNEL, d->tag, 0);
        }
        free(d);
    }
    if (st != AMQP_STATUS_OK)
        return er_error_set(err, ER_EUNAVAIL, "acking on '%s': %s", c->queue,
                            amqp_error_string2(st));
    return 0;
}

/* Stop taking deliveries; what no worker took goes back to the queue now. */
static int cancel(consumer *c, er_error *err)
{
    amqp_basic_cancel(c->conn, CHANNEL, amqp_cstring_bytes(c->tag));
    int rc = er_amqp_check_reply(c->bus, c->conn, "cancelling the consumer", err);
    if (rc)
        return rc;
    c->cancelled = true;
    pthread_mutex_lock(&c->mu);
    work *w = c->todo_head;
    c->todo_head = c->todo_tail = NULL;
    pthread_mutex_unlock(&c->mu);
    for (work *x = w; x; x = x->next)
        amqp_basic_nack(c->conn, CHANNEL, x->tag, 0, 1);
    free_work_list(w);
    return 0;
}

/* A frame that is not a delivery: only cancels and closes matter. */
static int other_frame(consumer *c, er_error *err)
{
    amqp_frame_t f;
    int st = amqp_simple_wait_frame(c->conn, &f);
    if (st != AMQP_STATUS_OK)
        return er_error_set(err, ER_EUNAVAIL, "reading from RabbitMQ: %s", amqp_error_string2(st));
    if (f.frame_type != AMQP_FRAME_METHOD)
        return 0;
    amqp_method_t *m = &f.payload.method;
    if (m->id == AMQP_BASIC_CANCEL_METHOD)
        return er_error_set(err, ER_EUNAVAIL, "RabbitMQ cancelled the consumer of '%s'", c->queue);
    if (m->id == AMQP_CHANNEL_CLOSE_METHOD || m->id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_rpc_reply_t r = { .reply_type = AMQP_RESPONSE_SERVER_EXCEPTION, .reply = *m };
        return er_amqp_reply_error(c->bus, r, "consuming", err);
    }
    return 0;
}

/* Waits for the socket or a wake-up, then reads what arrived (also sends heartbeats). */
static int read_one(consumer *c, er_error *err)
{
    amqp_connection_state_t conn = c->conn;
    if (!amqp_frames_enqueued(conn) && !amqp_data_in_buffer(conn)) {
        struct pollfd p[2] = { { amqp_get_sockfd(conn), POLLIN, 0 }, { c->efd, POLLIN, 0 } };
        if (poll(p, 2, IO_POLL_MS) < 0 && errno != EINTR)
            return er_error_set(err, ER_EIO, "poll: %s", strerror(errno));
        uint64_t v;
        if ((p[1].revents & POLLIN) && read(c->efd, &v, sizeof v) < 0 && errno != EAGAIN)
            return er_error_set(err, ER_EIO, "eventfd: %s", strerror(errno));
    }
    amqp_maybe_release_buffers(conn);
    amqp_envelope_t env;
    struct timeval zero = { 0, 0 };
    amqp_rpc_reply_t r = amqp_consume_message(conn, &env, &zero, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        dispatch(c, &env);
        return 0;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE)
        return other_frame(c, err);
    return er_amqp_reply_error(c->bus, r, "waiting for messages", err);
}

/* Drives one connection: 1 when finished (close joined the workers), <0 when
 * the connection broke. */
static int session(consumer *c, er_error *err)
{
    for (;;) {
        int rc = flush_verdicts(c, err);
        if (rc)
            return rc;
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop, gone = c->workers_gone;
        pthread_mutex_unlock(&c->mu);
        if (stop && !c->cancelled && (rc = cancel(c, err)))
            return rc;
        if (gone) {
            if ((rc = flush_verdicts(c, err)))
                return rc;
            er_amqp_conn_close(c->conn, true);
            c->conn = NULL;
            return 1;
        }
        if ((rc = read_one(c, err)))
            return rc;
    }
}

static int consumer_connect(consumer *c, er_error *err)
{
    const amqp_bus *b = c->bus;
    amqp_connection_state_t conn;
    int rc = er_amqp_conn_open(b, b->heartbeat, &conn, err);
    if (rc)
        return rc;
    char what[128];
    /* Its own queue only: the publisher declares the rest on each of its connections. */
    if (!(rc = er_amqp_declare_topology(b, conn, c->queue, err))) {
        amqp_basic_qos(conn, CHANNEL, 0, (uint16_t)c->concurrency, 0);
        rc = er_amqp_check_reply(b, conn, "setting the prefetch window", err);
    }
    if (!rc) {
        amqp_basic_consume_ok_t *ok =
            amqp_basic_consume(conn, CHANNEL, amqp_cstring_bytes(c->queue), amqp_empty_bytes, 0, 0,
                               0, amqp_empty_table);
        snprintf(what, sizeof what, "consuming '%s'", c->queue);
        rc = ok ? 0 : er_amqp_check_reply(b, conn, what, err);
        if (ok)
            snprintf(c->tag, sizeof c->tag, "%.*s", (int)ok->consumer_tag.len,
                     (const char *)ok->consumer_tag.bytes);
    }
    if (rc) {
        amqp_destroy_connection(conn);
        return rc;
    }
    c->conn = conn;
    c->gen++;
    c->cancelled = false;
    return 0;
}

/* The connection broke: forget it and the deliveries no worker took, and tell
 * the workers running the others that the broker takes those back. */
static void drop_connection(consumer *c)
{
    er_amqp_conn_close(c->conn, false);
    c->conn = NULL;
    pthread_mutex_lock(&c->mu);
    work *w = c->todo_head;
    c->todo_head = c->todo_tail = NULL;
    int n = 0;
    for (work *b = c->busy; b; b = b->next_busy, n++)
        __atomic_store_n(&b->lost, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->mu);
    free_work_list(w);
    if (n)
        er_log(ER_LOG_WARN, "bus",
               "%d message%s in hand from '%s' will be redelivered: their "
               "handlers are told to stop",
               n, n == 1 ? "" : "s", c->queue);
}

static bool stopped(consumer *c, bool *gone)
{
    pthread_mutex_lock(&c->mu);
    bool stop = c->stop;
    *gone = c->workers_gone;
    pthread_mutex_unlock(&c->mu);
    return stop;
}

/* Sleeps up to ms, or until er_bus_stop / er_bus_close wakes us. */
static void wait_wake(consumer *c, long ms)
{
    struct pollfd p = { c->efd, POLLIN, 0 };
    if (poll(&p, 1, (int)ms) > 0) {
        uint64_t v;
        ssize_t n = read(c->efd, &v, sizeof v);
        (void)n;
    }
}

static void *io_main(void *arg)
{
    consumer *c = arg;
    er_error err = { 0 };
    long backoff = BACKOFF_MIN_MS;
    for (;;) {
        if (c->conn) {
            if (session(c, &err) > 0)
                break;
            er_log(ER_LOG_WARN, "bus", "consumer of '%s' lost its connection: %s; reconnecting",
                   c->queue, err.msg);
            drop_connection(c);
        }
        bool gone;
        if (stopped(c, &gone)) {
            if (gone)
                break;
            wait_wake(c, IO_POLL_MS); /* no reconnecting once stopped: wait for close */
            continue;
        }
        wait_wake(c, er_amqp_jitter(backoff));
        if (stopped(c, &gone))
            continue;
        if (consumer_connect(c, &err) == 0) {
            er_log(ER_LOG_INFO, "bus", "consumer of '%s' reconnected to RabbitMQ at '%s'", c->queue,
                   c->bus->where);
            backoff = BACKOFF_MIN_MS;
        } else {
            er_log(ER_LOG_DEBUG, "bus", "consumer of '%s': %s", c->queue, err.msg);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        }
    }
    pthread_mutex_lock(&c->mu);
    work *w = c->done;
    c->done = NULL;
    pthread_mutex_unlock(&c->mu);
    free_work_list(w); /* verdicts of a connection that is gone */
    return NULL;
}

/* ---- consumers: lifecycle ---- */

static void consumer_free(consumer *c)
{
    er_amqp_conn_close(c->conn, false);
    free_work_list(c->todo_head);
    free_work_list(c->done);
    if (c->efd >= 0)
        close(c->efd);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->workers);
    free(c->queue);
    free(c);
}

static void consumer_request_stop(consumer *c)
{
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_mutex_unlock(&c->mu);
    pthread_cond_broadcast(&c->cv);
    wake(c);
}

/* Joins the workers first (each finishes the message in hand), then lets the
 * I/O thread send their verdicts and close the connection. */
static void consumer_join(consumer *c, bool io_started)
{
    consumer_request_stop(c);
    for (int i = 0; i < c->nworkers; i++)
        pthread_join(c->workers[i], NULL);
    pthread_mutex_lock(&c->mu);
    c->workers_gone = true;
    pthread_mutex_unlock(&c->mu);
    wake(c);
    if (io_started)
        pthread_join(c->io, NULL);
}

static int start_threads(consumer *c, er_error *err)
{
    c->workers = er_xcalloc((size_t)c->concurrency, sizeof *c->workers);
    for (int i = 0; i < c->concurrency; i++) {
        if (pthread_create(&c->workers[i], NULL, worker_main, c) != 0) {
            consumer_join(c, false);
            return er_error_set(err, ER_EINTERNAL, "cannot start worker threads for '%s'",
                                c->queue);
        }
        c->nworkers++;
    }
    if (pthread_create(&c->io, NULL, io_main, c) != 0) {
        consumer_join(c, false);
        return er_error_set(err, ER_EINTERNAL, "cannot start the I/O thread for '%s'", c->queue);
    }
    return 0;
}

int er_amqp_consume(er_bus *bus, const char *queue, int concurrency, er_bus_raw_handler fn,
                    void *payload, er_error *err)
{
    amqp_bus *b = to_amqp(bus);
    if (atomic_load(&b->stopping))
        return er_error_set(err, ER_ECANCELLED, "the bus is stopping; cannot consume '%s'", queue);
    consumer *c = er_xcalloc(1, sizeof *c);
    c->bus = b;
    c->queue = er_xstrdup(queue);
    c->concurrency = concurrency;
    c->fn = fn;
    c->payload = payload;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = c->efd < 0 ? er_error_set(err, ER_EINTERNAL, "eventfd: %s", strerror(errno)) : 0;
    if (!rc)
        rc = consumer_connect(c, err); /* first connection here, so errors reach the caller */
    if (!rc)
        rc = start_threads(c, err);
    if (rc) {
        consumer_free(c);
        return rc;
    }
    pthread_mutex_lock(&b->cons_mu);
    c->next = b->consumers;
    b->consumers = c;
    pthread_mutex_unlock(&b->cons_mu);
    return 0;
}

void er_amqp_stop(er_bus *bus)
{
    amqp_bus *b = to_amqp(bus);
    atomic_store(&b->stopping, true);
    pthread_mutex_lock(&b->cons_mu);
    for (consumer *c = b->consumers; c; c = c->next)
        consumer_request_stop(c);
    pthread_mutex_unlock(&b->cons_mu);
}

void er_amqp_consumers_close(amqp_bus *b)
{
    pthread_mutex_lock(&b->cons_mu);
    consumer *c = b->consumers;
    b->consumers = NULL;
    pthread_mutex_unlock(&b->cons_mu);
    while (c) {
        consumer *next = c->next;
        consumer_join(c, true);
        consumer_free(c);
        c = next;
    }
}

#endif
