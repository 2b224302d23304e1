/* conns.c — slow clients must not take the server: a deadline for request
 * headers, and a global cap that always leaves room for a new connection
 * (a health check, a user) by closing the oldest half-open one.
 *
 * libmicrohttpd's idle timeout restarts at every byte, so a client trickling
 * a header byte every few seconds keeps its connection for ever, and about a
 * thousand such clients used to fill every slot (the per-IP limit is
 * libmicrohttpd's own, set in http.c).  Here every connection is tracked from
 * accept: while it waits for a request's headers it is on a list ordered by
 * when it started waiting; the headers arriving take it off, the request's end
 * puts it back (keep-alive: the next request's headers are due in time too).
 * A watchdog shuts down those past server.header_timeout_ms, and a new
 * connection that finds the server near server.max_connections shuts down the
 * oldest waiting one.  An upgraded (WebSocket) connection is never touched.
 *
 * shutdown(2), not close: libmicrohttpd owns the descriptor and closes it
 * itself once it sees the end.  It tells us (NOTIFY_CLOSED) before it closes
 * the descriptor, under the same lock, so a descriptor reused by a newer
 * connection is never shut down by mistake. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define WATCH_MS      100
#define WARN_EVERY_MS 10000

typedef struct conn {
    struct conn *prev, *next; /* the waiting list, oldest first */
    int fd;
    int64_t since_ms; /* when it started waiting for headers */
    bool waiting;
    bool upgraded;
} conn;

struct srv_conns {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    conn *head, *tail;   /* waiting for headers, oldest first */
    long total;          /* connections open */
    long soft_cap;       /* from here on, a new one evicts the oldest waiting */
    int64_t deadline_ms; /* server.header_timeout_ms */
    long closed;         /* cut off since the last warning */
    int64_t warned_ms;
    bool stop;
    bool watching;
    pthread_t watchdog;
};

static void unlink_waiting(srv_conns *c, conn *k)
{
    if (!k->waiting)
        return;
    if (k->prev)
        k->prev->next = k->next;
    else
        c->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    else
        c->tail = k->prev;
    k->prev = k->next = NULL;
    k->waiting = false;
}

static void push_waiting(srv_conns *c, conn *k)
{
    unlink_waiting(c, k);
    if (k->upgraded)
        return;
    k->since_ms = er_mono_ms();
    k->waiting = true;
    k->prev = c->tail;
    if (c->tail)
        c->tail->next = k;
    else
        c->head = k;
    c->tail = k;
}

/* Under the lock: libmicrohttpd sees the end and closes it (NOTIFY_CLOSED). */
static void cut_off(srv_conns *c, conn *k)
{
    unlink_waiting(c, k);
    shutdown(k->fd, SHUT_RDWR);
    c->closed++;
    int64_t now = er_mono_ms();
    if (now - c->warned_ms >= WARN_EVERY_MS) {
        er_log(ER_LOG_WARN, "http",
               "closed %ld connection(s) that did not send their request "
               "headers in time or were the oldest half-open ones at the connection cap "
               "(server.header_timeout_ms, server.max_connections)",
               c->closed);
        c->warned_ms = now;
        c->closed = 0;
    }
}

static void *watch_main(void *arg)
{
    srv_conns *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += WATCH_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
        int64_t now = er_mono_ms();
        while (c->head && now - c->head->since_ms >= c->deadline_ms)
            cut_off(c, c->head);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Descriptors the rest of the process may need (store, broker, cache, LLM,
 * sandboxed commands) beside the connections. */
#define FD_RESERVE 256

long srv_conns_limit(const er_config *cfg)
{
    long max = cfg->max_connections > 0 ? cfg->max_connections : 1024;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return max;
    if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < (rlim_t)(max + FD_RESERVE)) {
        rl.rlim_cur = rl.rlim_max; /* as many as this process may have */
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)(max + FD_RESERVE) > rl.rlim_cur) {
        long fit =
            rl.rlim_cur > FD_RESERVE * 2 ? (long)rl.rlim_cur - FD_RESERVE : (long)rl.rlim_cur / 2;
        er_log(ER_LOG_WARN, "http",
               "server.max_connections %ld does not fit the %llu open files "
               "this process may have (ulimit -n): using %ld",
               max, (unsigned long long)rl.rlim_cur, fit);
        max = fit;
    }
    return max;
}

int srv_conns_new(srv_conns **out, const er_config *cfg)
{
    srv_conns *c = er_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    long max = srv_conns_limit(cfg);
    long reserve = max / 8 > 2 ? max / 8 : 2;
    c->soft_cap = max > reserve ? max - reserve : 1;
    c->deadline_ms = cfg->header_timeout_ms > 0 ? cfg->header_timeout_ms : 10000;
    c->warned_ms = er_mono_ms() - WARN_EVERY_MS;
    c->watching = pthread_create(&c->watchdog, NULL, watch_main, c) == 0;
    *out = c;
    return c->watching ? 0 : ER_EINTERNAL;
}

void srv_conns_free(srv_conns *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (c->watching)
        pthread_join(c->watchdog, NULL);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void srv_conns_notify(void *cls, struct MHD_Connection *mc, void **ctx,
                      enum MHD_ConnectionNotificationCode toe)
{
    srv_conns *c = cls;
    pthread_mutex_lock(&c->lock);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn *k = er_xcalloc(1, sizeof *k);
        k->fd = ci ? ci->connect_fd : -1;
        *ctx = k;
        c->total++;
        /* Room for the newcomer: the oldest half-open connection goes. */
        if (c->total > c->soft_cap && c->head)
            cut_off(c, c->head);
        if (k->fd >= 0)
            push_waiting(c, k);
    } else if (*ctx) {
        conn *k = *ctx;
        unlink_waiting(c, k);
        c->total--;
        free(k);
        *ctx = NULL;
    }
    pthread_mutex_unlock(&c->lock);
}

static conn *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void srv_conns_headers_done(srv_conns *c, struct MHD_Connection *mc)
{
    conn *k = conn_of(mc);
    if (!k)
        return;
    pthread_mutex_lock(&c->lock);
    unlink_waiting(c, k);
    pthread_mutex_unlock(&c->lock);
}

void srv_conns_request_done(srv_conns *c, struct MHD_Connection *mc, bool upgraded)
{
    conn *k = conn_of(mc);
    if (!k)
        return;
    pthread_mutex_lock(&c->lock);
    k->upgraded = k->upgraded || upgraded;
    push_waiting(c, k);
    pthread_mutex_unlock(&c->lock);
}
