/* amqp_publish.c — the RabbitMQ backend's publisher: one connection per bus,
 * shared by every thread, with pipelined publisher confirms.
 *
 * Any thread writes its publish under pub_mu and then waits for the broker's
 * confirm of its sequence number.  One waiting thread at a time is the reader:
 * it polls the socket with pub_mu released (so that others keep publishing),
 * reads what arrived and settles every waiter an ack or nack covers (one ack
 * may cover many: `multiple`).  Threads publishing at once thus share round
 * trips and the broker's disk syncs instead of queueing behind each other's
 * confirm.
 *
 * Only the reader, or a thread that finds none, may close the connection (the
 * reader polls its socket unlocked); a failed write only marks it broken.  The
 * publishes still waiting on a connection that is dropped are lost and sent
 * again on the next one: delivery is at least once.  RPCs on the connection
 * (declare, queue info, purge) take the reader role too; librabbitmq queues the
 * confirm frames they read past, and the next reader takes them from there.
 *
 * The connection runs without heartbeats: librabbitmq services them only inside
 * its own calls and this connection idles between publishes; a connection that
 * died while idle shows up as a failed write or read, and is made again. */
#ifdef ERRAND_WITH_AMQP /* CMake drops amqp.c without AMQP; this file guards itself */

#include "amqp_internal.h"
#include "errand/log.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#define CONFIRM_TIMEOUT_MS 15000
#define READ_SLICE_MS      50 /* a reader re-checks for a broken connection this often */

enum { PUB_PENDING, PUB_ACKED, PUB_NACKED, PUB_LOST };

struct pub_wait {
    struct pub_wait *next;
    uint64_t seq;
    unsigned gen;
    int state;
};

typedef struct pub_args {
    const char *exchange, *key;
    const void *body;
    size_t len;
    int attempts;
} pub_args;

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the connection (caller holds pub_mu) ---- */

/* Closes pub; its pending publishes are lost.  Caller holds the reader role, or
 * no thread holds it. */
static void drop(amqp_bus *b)
{
    if (!b->pub)
        return;
    er_amqp_conn_close(b->pub, false);
    b->pub = NULL;
    b->pub_broken = false;
    for (struct pub_wait *w = b->pub_waiting; w; w = w->next)
        if (w->state == PUB_PENDING && w->gen == b->pub_gen)
            w->state = PUB_LOST;
    b->pub_gen++;
    pthread_cond_broadcast(&b->pub_cv);
}

static void broken(amqp_bus *b, const er_error *why)
{
    b->pub_broken = true;
    b->pub_why = *why;
}

static int connect_pub(amqp_bus *b, er_error *err)
{
    amqp_connection_state_t c;
    int rc = er_amqp_conn_open(b, 0, &c, err);
    if (rc)
        return rc;
    rc = er_amqp_declare_topology(b, c, NULL, err); /* a broker may have lost it */
    if (!rc) {
        amqp_confirm_select(c, CHANNEL);
        rc = er_amqp_check_reply(b, c, "enabling publisher confirms", err);
    }
    if (rc) {
        er_amqp_conn_close(c, false);
        return rc;
    }
    b->pub = c;
    b->pub_seq = 0;
    return 0;
}

/* A usable connection: a broken one is dropped (by the reader, if there is one:
 * waits for it) and a missing one made.  *fresh: it was made here. */
static int ready(amqp_bus *b, bool have_role, bool *fresh, er_error *err)
{
    while (b->pub_broken && b->pub_reading && !have_role)
        pthread_cond_wait(&b->pub_cv, &b->pub_mu);
    if (b->pub_broken)
        drop(b);
    *fresh = !b->pub;
    return b->pub ? 0 : connect_pub(b, err);
}

static void take_role(amqp_bus *b)
{
    while (b->pub_reading)
        pthread_cond_wait(&b->pub_cv, &b->pub_mu);
    b->pub_reading = true;
}

static void leave_role(amqp_bus *b)
{
    b->pub_reading = false;
    pthread_cond_broadcast(&b->pub_cv);
}

/* ---- reading confirms (caller holds pub_mu and the reader role) ---- */

static void settle(amqp_bus *b, uint64_t tag, bool multiple, int state)
{
    for (struct pub_wait *w = b->pub_waiting; w; w = w->next)
        if (w->state == PUB_PENDING && w->gen == b->pub_gen &&
            (w->seq == tag || (multiple && w->seq < tag)))
            w->state = state;
}

static int handle_frame(amqp_bus *b, const amqp_frame_t *f, er_error *err)
{
    if (f->frame_type != AMQP_FRAME_METHOD)
        return 0;
    const amqp_method_t *m = &f->payload.method;
    if (m->id == AMQP_BASIC_ACK_METHOD) {
        const amqp_basic_ack_t *a = m->decoded;
        settle(b, a->delivery_tag, a->multiple, PUB_ACKED);
    } else if (m->id == AMQP_BASIC_NACK_METHOD) {
        const amqp_basic_nack_t *n = m->decoded;
        settle(b, n->delivery_tag, n->multiple, PUB_NACKED);
    } else if (m->id == AMQP_CHANNEL_CLOSE_METHOD || m->id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_rpc_reply_t r = { .reply_type = AMQP_RESPONSE_SERVER_EXCEPTION, .reply = *m };
        return er_amqp_reply_error(b, r, "publishing", err);
    }
    return 0;
}

/* Waits up to ms for frames (pub_mu released meanwhile) and settles the
 * publishes they confirm. */
static int read_frames(amqp_bus *b, long ms, er_error *err)
{
    amqp_connection_state_t c = b->pub;
    if (!amqp_frames_enqueued(c) && !amqp_data_in_buffer(c)) {
        struct pollfd p = { amqp_get_sockfd(c), POLLIN, 0 };
        pthread_mutex_unlock(&b->pub_mu);
        int n = poll(&p, 1, (int)ms);
        pthread_mutex_lock(&b->pub_mu);
        if (n <= 0 || b->pub_broken)
            return 0;
    }
    for (;;) {
        amqp_frame_t f;
        struct timeval zero = { 0, 0 };
        int st = amqp_simple_wait_frame_noblock(c, &f, &zero);
        if (st == AMQP_STATUS_TIMEOUT)
            break;
        if (st != AMQP_STATUS_OK)
            return er_error_set(err, ER_EUNAVAIL,
                                "RabbitMQ at '%s': waiting for publish "
                                "confirms: %s",
                                b->where, amqp_error_string2(st));
        int rc = handle_frame(b, &f, err);
        if (rc)
            return rc;
    }
    amqp_maybe_release_buffers(c);
    pthread_cond_broadcast(&b->pub_cv);
    return 0;
}

/* One turn as the reader: reads, or drops the connection when it broke. */
static void read_turn(amqp_bus *b, long ms)
{
    b->pub_reading = true;
    er_error e = { 0 };
    if (!b->pub_broken && read_frames(b, ms, &e))
        broken(b, &e);
    if (b->pub_broken)
        drop(b);
    leave_role(b);
}

/* ---- publishing ---- */

static int send_one(amqp_bus *b, const pub_args *a, er_error *err)
{
    amqp_table_entry_t h = { .key = amqp_cstring_bytes(ATTEMPTS_HEADER) };
    h.value.kind = AMQP_FIELD_KIND_I32;
    h.value.value.i32 = a->attempts;
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG;
    p.delivery_mode = 2; /* persistent */
    p.headers = (amqp_table_t){ 1, &h };
    amqp_bytes_t body = { a->len, (void *)a->body };
    int st = amqp_basic_publish(b->pub, CHANNEL, amqp_cstring_bytes(a->exchange),
                                amqp_cstring_bytes(a->key), 0, 0, &p, body);
    if (st != AMQP_STATUS_OK) {
        er_error_set(err, ER_EUNAVAIL, "RabbitMQ at '%s': publishing: %s", b->where,
                     amqp_error_string2(st));
        broken(b, err);
        return err->code;
    }
    b->pub_seq++;
    return 0;
}

static void wait_turn(amqp_bus *b, int64_t deadline)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (deadline - er_mono_ms()) * 1000000LL;
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    pthread_cond_timedwait(&b->pub_cv, &b->pub_mu, &ts);
}

/* Publishes and waits for the confirm.  *sent: the message reached a connection
 * that was already up (so a failure now is worth an immediate retry). */
static int publish_once(amqp_bus *b, const pub_args *a, bool *sent, er_error *err)
{
    bool fresh;
    int rc = ready(b, false, &fresh, err);
    if (!rc)
        rc = send_one(b, a, err);
    *sent = !rc && !fresh;
    if (rc)
        return rc;
    struct pub_wait w = { b->pub_waiting, b->pub_seq, b->pub_gen, PUB_PENDING };
    b->pub_waiting = &w;
    int64_t deadline = er_mono_ms() + CONFIRM_TIMEOUT_MS;
    while (w.state == PUB_PENDING) {
        int64_t left = deadline - er_mono_ms();
        if (left <= 0) {
            er_error_set(err, ER_ETIMEDOUT,
                         "RabbitMQ at '%s' did not confirm a publish "
                         "within %d s",
                         b->where, CONFIRM_TIMEOUT_MS / 1000);
            broken(b, err); /* a connection that stopped confirming is no use */
            break;
        }
        if (b->pub_reading)
            wait_turn(b, er_mono_ms() + (left < READ_SLICE_MS ? left : READ_SLICE_MS));
        else
            read_turn(b, left < READ_SLICE_MS ? (long)left : READ_SLICE_MS);
    }
    struct pub_wait **pp = &b->pub_waiting;
    while (*pp != &w)
        pp = &(*pp)->next;
    *pp = w.next;
    switch (w.state) {
    case PUB_ACKED: return 0;
    case PUB_NACKED:
        return er_error_set(err, ER_EUNAVAIL, "RabbitMQ at '%s' refused (nacked) a message",
                            b->where);
    case PUB_LOST:
        *err = b->pub_why;
        return err->code ? err->code
                         : er_error_set(err, ER_EUNAVAIL,
                                        "RabbitMQ at '%s': "
                                        "the connection was lost",
                                        b->where);
    default: return err->code;
    }
}

int er_amqp_publish(er_bus *bus, const char *exchange, const char *key, const void *body,
                    size_t len, int attempts, er_error *err)
{
    amqp_bus *b = to_amqp(bus);
    pub_args a = { exchange, key, body, len, attempts };
    int64_t deadline = er_mono_ms() + b->publish_timeout_ms;
    long backoff = BACKOFF_MIN_MS;
    bool retried_at_once = false;
    er_error e = { 0 };
    pthread_mutex_lock(&b->pub_mu);
    for (;;) {
        bool sent;
        int rc = publish_once(b, &a, &sent, &e);
        if (rc == 0)
            break;
        if (sent && !retried_at_once && er_error_retryable(rc)) {
            retried_at_once = true; /* it went stale while idle: try a new one now */
            continue;
        }
        int64_t left = deadline - er_mono_ms();
        if (!er_error_retryable(rc) || atomic_load(&b->closing) || left <= 0) {
            pthread_mutex_unlock(&b->pub_mu);
            if (err)
                *err = e;
            return rc;
        }
        er_log(backoff == BACKOFF_MIN_MS ? ER_LOG_WARN : ER_LOG_DEBUG, "bus",
               "%s; retrying for "
               "up to %ld s",
               e.msg, (long)(left + 999) / 1000);
        long pause = er_amqp_jitter(backoff);
        pthread_mutex_unlock(&b->pub_mu);
        sleep_ms(pause < left ? pause : (long)left);
        pthread_mutex_lock(&b->pub_mu);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    pthread_mutex_unlock(&b->pub_mu);
    return 0;
}

/* ---- RPCs, alone on the connection ---- */

int er_amqp_pub_rpc(amqp_bus *b, er_amqp_pub_op op, void *arg, er_error *err)
{
    pthread_mutex_lock(&b->pub_mu);
    take_role(b);
    int rc;
    for (int attempt = 0;; attempt++) {
        bool fresh;
        rc = ready(b, true, &fresh, err);
        if (rc)
            break;
        if ((rc = op(b, b->pub, arg, err)) == 0)
            break;
        broken(b, err); /* a failed RPC closed the channel */
        drop(b);
        if (fresh || attempt > 0 || !er_error_retryable(rc))
            break; /* else: it went stale while idle; once more on a new one */
    }
    leave_role(b);
    pthread_mutex_unlock(&b->pub_mu);
    return rc;
}

void er_amqp_pub_init(amqp_bus *b)
{
    pthread_mutex_init(&b->pub_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->pub_cv, &ca);
    pthread_condattr_destroy(&ca);
}

void er_amqp_pub_close(amqp_bus *b)
{
    pthread_mutex_lock(&b->pub_mu);
    assert(!b->pub_waiting && !b->pub_reading && "er_bus_close() during a publish");
    er_amqp_conn_close(b->pub, !b->pub_broken);
    b->pub = NULL;
    pthread_mutex_unlock(&b->pub_mu);
    pthread_cond_destroy(&b->pub_cv);
    pthread_mutex_destroy(&b->pub_mu);
}

#endif
