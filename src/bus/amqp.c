/* amqp.c — the RabbitMQ bus backend (librabbitmq-c 0.11): durable topology,
 * persistent confirmed publishes, manual acks, reconnection.
 *
 * Connections and threads (librabbitmq is called under one lock per connection):
 *  - The publisher connection (channel 1 in confirm mode) is shared by every
 *    thread that publishes, with confirms pipelined; declare, queue_info, purge
 *    and ping run on it too: see amqp_publish.c.  It never consumes: librabbitmq
 *    0.11 reads confirms as plain frames and would swallow deliveries.
 *  - Each er_bus_consume owns a connection and threads of its own: see
 *    amqp_consumer.c. */
#include "amqp_internal.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/str.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS         5000
#define RPC_TIMEOUT_MS             15000 /* declares, login, close: a dead broker cannot hang us */
#define DEFAULT_HEARTBEAT_S        30
#define DEFAULT_PUBLISH_TIMEOUT_MS 15000

static struct timeval ms_tv(long ms)
{
    return (struct timeval){ ms / 1000, (ms % 1000) * 1000 };
}

/* ---- errors ---- */

static int unavail(const amqp_bus *b, const char *reason, er_error *err)
{
    return er_error_set(err, ER_EUNAVAIL, "cannot connect to RabbitMQ at '%s': %s — is it running?",
                        b->where, reason);
}

static int server_code(int code)
{
    switch (code) {
    case AMQP_ACCESS_REFUSED:
    case AMQP_NOT_ALLOWED: return ER_EAUTH;
    case AMQP_NOT_FOUND: return ER_ENOTFOUND;
    case AMQP_PRECONDITION_FAILED:
    case AMQP_RESOURCE_LOCKED: return ER_ECONFLICT;
    default: return ER_EUNAVAIL;
    }
}

/* The library's or the broker's words for a failed reply; *code gets an ER_E* code. */
static const char *reply_reason(amqp_rpc_reply_t r, int *code, char *buf, size_t size)
{
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
        *code = r.library_error == AMQP_STATUS_TIMEOUT ? ER_ETIMEDOUT : ER_EUNAVAIL;
        return amqp_error_string2(r.library_error);
    }
    *code = ER_EPROTO;
    if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION)
        return "no reply";
    int amqp_code = 0;
    amqp_bytes_t text = amqp_empty_bytes;
    if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = r.reply.decoded;
        amqp_code = m->reply_code;
        text = m->reply_text;
    } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = r.reply.decoded;
        amqp_code = m->reply_code;
        text = m->reply_text;
    }
    *code = server_code(amqp_code);
    snprintf(buf, size, "%.*s", (int)text.len, (const char *)text.bytes);
    return buf;
}

/* Converts a failed RPC reply; `what` says what we were doing. */
int er_amqp_reply_error(const amqp_bus *b, amqp_rpc_reply_t r, const char *what, er_error *err)
{
    char buf[200];
    int code;
    const char *why = reply_reason(r, &code, buf, sizeof buf);
    return er_error_set(err, code, "RabbitMQ at '%s': %s: %s", b->where, what, why);
}

int er_amqp_check_reply(const amqp_bus *b, amqp_connection_state_t c, const char *what,
                        er_error *err)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
    return r.reply_type == AMQP_RESPONSE_NORMAL ? 0 : er_amqp_reply_error(b, r, what, err);
}

/* ---- connections ---- */

static int login(const amqp_bus *b, amqp_connection_state_t c, int heartbeat, er_error *err)
{
    amqp_rpc_reply_t r = amqp_login(c, b->vhost, 0, AMQP_DEFAULT_FRAME_SIZE, heartbeat,
                                    AMQP_SASL_METHOD_PLAIN, b->user, b->password);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        return unavail(b, amqp_error_string2(r.library_error), err);
    char buf[200];
    int code;
    const char *why = reply_reason(r, &code, buf, sizeof buf);
    if (code != ER_EAUTH)
        return er_error_set(err, code, "RabbitMQ at '%s': login: %s", b->where, why);
    return er_error_set(err, code, "RabbitMQ at '%s' refused user '%s' on vhost '%s': %s", b->where,
                        b->user, b->vhost, why);
}

void er_amqp_conn_close(amqp_connection_state_t c, bool graceful)
{
    if (!c)
        return;
    if (graceful) {
        amqp_channel_close(c, CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(c);
}

/* A non-blocking TCP connection with a timeout.  librabbitmq's own connect
 * loses the reason (errno is left at EINPROGRESS), and "connection refused" is
 * the message users need. */
static int tcp_connect(const amqp_bus *b, int *out, er_error *err)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", b->port);
    int gai = getaddrinfo(b->host, port, &hints, &res);
    if (gai != 0)
        return unavail(b, gai_strerror(gai), err);
    int e = ETIMEDOUT, fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        struct pollfd p = { fd, POLLOUT, 0 };
        socklen_t len = sizeof e;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            e = 0;
        else if (errno != EINPROGRESS)
            e = errno;
        else if (poll(&p, 1, CONNECT_TIMEOUT_MS) <= 0)
            e = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
            e = errno;
        if (e) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        char buf[128];
        return unavail(b, strerror_r(e, buf, sizeof buf), err);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out = fd;
    return 0;
}

static int socket_open(const amqp_bus *b, amqp_connection_state_t c, er_error *err)
{
    if (!b->tls) {
        amqp_socket_t *s = amqp_tcp_socket_new(c);
        int fd = -1;
        if (!s)
            return er_error_set(err, ER_EINTERNAL, "cannot allocate an AMQP socket");
        int rc = tcp_connect(b, &fd, err);
        if (rc == 0)
            amqp_tcp_socket_set_sockfd(s, fd); /* closed by amqp_destroy_connection */
        return rc;
    }
    amqp_socket_t *s = amqp_ssl_socket_new(c);
    if (!s)
        return er_error_set(err, ER_EINTERNAL, "cannot allocate an AMQP TLS socket");
    if (b->cacert && amqp_ssl_socket_set_cacert(s, b->cacert) != AMQP_STATUS_OK)
        return er_error_set(err, ER_EINVAL, "cannot load the CA certificate '%s'", b->cacert);
    struct timeval tv = ms_tv(CONNECT_TIMEOUT_MS);
    int st = amqp_socket_open_noblock(s, b->host, b->port, &tv);
    return st == AMQP_STATUS_OK ? 0 : unavail(b, amqp_error_string2(st), err);
}

/* Connects, logs in and opens channel 1. */
int er_amqp_conn_open(const amqp_bus *b, int heartbeat, amqp_connection_state_t *out, er_error *err)
{
    *out = NULL;
    amqp_connection_state_t c = amqp_new_connection();
    if (!c)
        return er_error_set(err, ER_EINTERNAL, "cannot allocate an AMQP connection");
    int rc = socket_open(b, c, err);
    if (!rc) {
        struct timeval rpc = ms_tv(RPC_TIMEOUT_MS);
        amqp_set_handshake_timeout(c, &rpc);
        amqp_set_rpc_timeout(c, &rpc);
        rc = login(b, c, heartbeat, err);
    }
    if (!rc) {
        amqp_channel_open(c, CHANNEL);
        rc = er_amqp_check_reply(b, c, "opening a channel", err);
    }
    if (rc) {
        amqp_destroy_connection(c);
        return rc;
    }
    *out = c;
    return 0;
}

static const char *type_name(er_exchange_type t)
{
    switch (t) {
    case ER_EXCHANGE_DIRECT: return "direct";
    case ER_EXCHANGE_TOPIC: return "topic";
    case ER_EXCHANGE_FANOUT: return "fanout";
    }
    return "direct";
}

/* Every queue is durable, neither exclusive nor auto-deleted, and carries no
 * priority or length limit: all of that is allowed for quorum queues, whose
 * only extra argument is their type.  Dead-lettering (x-dead-letter-exchange)
 * works for both types. */
static int declare_queue(const amqp_bus *b, amqp_connection_state_t c, const er_bus_binding *bd,
                         er_error *err)
{
    amqp_table_entry_t args[2];
    int n = 0;
    /* Agent queues dead-letter on their own too (basic.reject without requeue). */
    if (strcmp(bd->exchange, ER_EXCHANGE_AGENT) == 0) {
        args[n].key = amqp_cstring_bytes("x-dead-letter-exchange");
        args[n].value.kind = AMQP_FIELD_KIND_UTF8;
        args[n++].value.value.bytes = amqp_cstring_bytes(ER_EXCHANGE_DEAD);
    }
    if (b->quorum) {
        args[n].key = amqp_cstring_bytes("x-queue-type");
        args[n].value.kind = AMQP_FIELD_KIND_UTF8;
        args[n++].value.value.bytes = amqp_cstring_bytes("quorum");
    }
    amqp_queue_declare(c, CHANNEL, amqp_cstring_bytes(bd->queue), 0, 1, 0, 0,
                       (amqp_table_t){ n, n ? args : NULL });
    char what[128];
    snprintf(what, sizeof what, "declaring queue '%s'", bd->queue);
    int rc = er_amqp_check_reply(b, c, what, err);
    if (rc != ER_ECONFLICT)
        return rc;
    er_log(ER_LOG_WARN, "bus", "%s", err ? err->msg : what); /* the broker's own words */
    return er_error_set(err, rc,
                        "queue '%s' on RabbitMQ at '%s' exists with other arguments "
                        "than bus.queue_type=%s makes: set the type it was made with, or drain "
                        "and delete it",
                        bd->queue, b->where, b->quorum ? "quorum" : "classic");
}

/* Is exchange ex bound to queue (or is queue NULL: everything)? */
static bool needed(const er_bus_exchange *ex, const char *queue)
{
    size_t n;
    const er_bus_binding *bindings = er_bus_bindings(&n);
    for (size_t i = 0; queue && i < n; i++)
        if (strcmp(bindings[i].queue, queue) == 0 && strcmp(bindings[i].exchange, ex->name) == 0)
            return true;
    return !queue;
}

/* Durable exchanges and queues and their bindings; idempotent.  With a queue,
 * only that queue, its bindings and their exchanges. */
int er_amqp_declare_topology(const amqp_bus *b, amqp_connection_state_t c, const char *queue,
                             er_error *err)
{
    char what[160];
    for (size_t i = 0; i < er_bus_nexchanges; i++) {
        const er_bus_exchange *ex = &er_bus_exchanges[i];
        if (!needed(ex, queue))
            continue;
        amqp_exchange_declare(c, CHANNEL, amqp_cstring_bytes(ex->name),
                              amqp_cstring_bytes(type_name(ex->type)), 0, 1, 0, 0,
                              amqp_empty_table);
        snprintf(what, sizeof what, "declaring exchange '%s'", ex->name);
        int rc = er_amqp_check_reply(b, c, what, err);
        if (rc)
            return rc;
    }
    size_t nbindings;
    const er_bus_binding *bindings = er_bus_bindings(&nbindings);
    for (size_t i = 0; i < nbindings; i++) {
        const er_bus_binding *bd = &bindings[i];
        if (queue && strcmp(bd->queue, queue) != 0)
            continue;
        bool first = true;
        for (size_t j = 0; j < i; j++)
            first = first && strcmp(bindings[j].queue, bd->queue) != 0;
        int rc = first ? declare_queue(b, c, bd, err) : 0;
        if (rc)
            return rc;
        amqp_queue_bind(c, CHANNEL, amqp_cstring_bytes(bd->queue), amqp_cstring_bytes(bd->exchange),
                        amqp_cstring_bytes(bd->key), amqp_empty_table);
        snprintf(what, sizeof what, "binding '%s' to '%s'", bd->queue, bd->exchange);
        if ((rc = er_amqp_check_reply(b, c, what, err)))
            return rc;
    }
    return 0;
}

/* ---- RPCs on the publisher connection ---- */

/* The publisher declares the whole topology on every new connection (so that a
 * broker that lost it gets it back): opening the bus is connecting it. */
static int op_declare(amqp_bus *b, amqp_connection_state_t c, void *arg, er_error *err)
{
    (void)b;
    (void)c;
    (void)arg;
    (void)err;
    return 0;
}

static int amqp_declare(er_bus *bus, er_error *err)
{
    return er_amqp_pub_rpc(to_amqp(bus), op_declare, NULL, err);
}

typedef struct info_args {
    const char *queue;
    long depth, consumers;
    bool purge;
} info_args;

static int op_info(amqp_bus *b, amqp_connection_state_t c, void *arg, er_error *err)
{
    info_args *a = arg;
    char what[128];
    snprintf(what, sizeof what, "%s queue '%s'", a->purge ? "purging" : "asking about", a->queue);
    if (a->purge) {
        amqp_queue_purge_ok_t *ok = amqp_queue_purge(c, CHANNEL, amqp_cstring_bytes(a->queue));
        if (!ok)
            return er_amqp_check_reply(b, c, what, err);
        a->depth = (long)ok->message_count;
        return 0;
    }
    amqp_queue_declare_ok_t *ok =
        amqp_queue_declare(c, CHANNEL, amqp_cstring_bytes(a->queue), 1, 0, 0, 0, amqp_empty_table);
    if (!ok)
        return er_amqp_check_reply(b, c, what, err);
    a->depth = (long)ok->message_count;
    a->consumers = (long)ok->consumer_count;
    return 0;
}

static int amqp_queue_info(er_bus *bus, const char *queue, long *depth, long *consumers,
                           er_error *err)
{
    info_args a = { queue, -1, -1, false };
    int rc = er_amqp_pub_rpc(to_amqp(bus), op_info, &a, err);
    *depth = a.depth;
    *consumers = a.consumers;
    return rc;
}

static int amqp_purge(er_bus *bus, const char *queue, long *purged, er_error *err)
{
    info_args a = { queue, 0, -1, true };
    int rc = er_amqp_pub_rpc(to_amqp(bus), op_info, &a, err);
    *purged = a.depth;
    return rc;
}

static int amqp_ping(er_bus *bus, er_error *err)
{
    info_args a = { ER_QUEUE_SUPERVISOR, -1, -1, false };
    return er_amqp_pub_rpc(to_amqp(bus), op_info, &a, err);
}

/* ---- open / close ---- */

static int query_long(const er_url *u, const char *name, long lo, long hi, long *out, er_error *err)
{
    char *v = er_url_query_get(u, name);
    if (!v)
        return 0;
    long n;
    int rc = er_str_to_long(v, &n);
    free(v);
    if (rc || n < lo || n > hi)
        return er_error_set(err, ER_EINVAL, "bus URL: %s must be a number in %ld..%ld", name, lo,
                            hi);
    *out = n;
    return 0;
}

/* queue_type=classic|quorum; *quorum is left alone when absent. */
static int query_queue_type(const er_url *u, bool *quorum, er_error *err)
{
    char *v = er_url_query_get(u, "queue_type");
    if (!v)
        return 0;
    int rc = 0;
    if (strcasecmp(v, "quorum") == 0 || strcasecmp(v, "classic") == 0)
        *quorum = strcasecmp(v, "quorum") == 0;
    else
        rc = er_error_set(err, ER_EINVAL,
                          "bus URL: queue_type must be classic or quorum, not "
                          "'%s'",
                          v);
    free(v);
    return rc;
}

static void amqp_close(er_bus *bus)
{
    amqp_bus *b = to_amqp(bus);
    atomic_store(&b->closing, true);
    er_amqp_consumers_close(b);
    er_amqp_pub_close(b);
    pthread_mutex_destroy(&b->cons_mu);
    free(b->host);
    free(b->user);
    free(b->password);
    free(b->vhost);
    free(b->cacert);
    free(b);
}

static int amqp_open(er_bus **out, const er_url *u, er_error *err)
{
    *out = NULL;
    long heartbeat = DEFAULT_HEARTBEAT_S, timeout = DEFAULT_PUBLISH_TIMEOUT_MS;
    int rc = er_amqp_load(err);
    if (rc)
        return rc;
    rc = query_long(u, "heartbeat", 0, 3600, &heartbeat, err);
    bool quorum = false;
    if (!rc)
        rc = query_long(u, "publish_timeout_ms", 0, 3600 * 1000, &timeout, err);
    if (!rc)
        rc = query_queue_type(u, &quorum, err);
    if (rc)
        return rc;
    amqp_bus *b = er_xcalloc(1, sizeof *b);
    b->base.be = &er_bus_amqp_backend;
    b->tls = strcmp(u->scheme, "amqps") == 0;
    b->host = er_xstrdup(u->host ? u->host : "localhost");
    b->port = u->port ? u->port : b->tls ? 5671 : 5672;
    b->user = er_xstrdup(u->user ? u->user : "guest");
    b->password = er_xstrdup(u->password ? u->password : "guest");
    /* "amqp://h" and "amqp://h/" mean the default vhost "/"; "/%2F" decodes to "//". */
    b->vhost = er_xstrdup(strlen(u->path) > 1 ? u->path + 1 : "/");
    b->cacert = er_url_query_get(u, "cacert");
    b->heartbeat = (int)heartbeat;
    b->quorum = quorum;
    b->publish_timeout_ms = (int)timeout;
    snprintf(b->where, sizeof b->where, "%s:%d", b->host, b->port);
    atomic_init(&b->stopping, false);
    atomic_init(&b->closing, false);
    er_amqp_pub_init(b);
    pthread_mutex_init(&b->cons_mu, NULL);
    *out = &b->base;
    return 0;
}

const er_bus_backend er_bus_amqp_backend = {
    .version = ER_BUS_BACKEND_VERSION,
    .scheme = "amqp",
    .open = amqp_open,
    .close = amqp_close,
    .declare = amqp_declare,
    .publish = er_amqp_publish,
    .consume = er_amqp_consume,
    .stop = er_amqp_stop,
    .queue_info = amqp_queue_info,
    .ping = amqp_ping,
    .purge = amqp_purge,
    .local = false,
};
