/* amqp_internal.h — what the RabbitMQ backend's files share: amqp.c
 * (connections, topology, RPCs, open/close), amqp_publish.c (the shared,
 * pipelined publisher connection) and amqp_consumer.c (consumer connections and
 * their threads).  Private to src/bus. */
#ifndef ERRAND_BUS_AMQP_INTERNAL_H
#define ERRAND_BUS_AMQP_INTERNAL_H

#include "errand/backend/bus_backend.h"
#include "errand/str.h"

#include "amqp_api.h"
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>

#define CHANNEL         1 /* the one channel of every connection */
#define ATTEMPTS_HEADER "x-errand-attempts"
#define BACKOFF_MIN_MS  100 /* reconnect backoff, doubling up to the max */
#define BACKOFF_MAX_MS  2000

typedef struct consumer consumer;

typedef struct amqp_bus {
    er_bus base;
    char *host, *user, *password, *vhost, *cacert;
    int port;
    bool tls;
    char where[300]; /* "host:port" for messages */
    int heartbeat;   /* seconds, consumer connections */
    bool quorum;     /* declare quorum queues (query queue_type=quorum) */
    int publish_timeout_ms;
    atomic_bool stopping; /* er_bus_stop: no new consumers */
    atomic_bool closing;  /* er_bus_close began: stop retrying */
    /* The publisher connection (amqp_publish.c); pub_mu guards these. */
    pthread_mutex_t pub_mu;
    pthread_cond_t pub_cv; /* a publish was settled, or the reader left */
    amqp_connection_state_t pub;
    unsigned pub_gen;             /* bumped when pub is dropped */
    uint64_t pub_seq;             /* last publish sequence number on pub */
    struct pub_wait *pub_waiting; /* publishes waiting for their confirm */
    bool pub_reading;             /* a thread reads pub's frames or runs an RPC on it */
    bool pub_broken;              /* pub failed; dropped by the next thread free to */
    er_error pub_why;             /* why pub broke */
    pthread_mutex_t cons_mu;      /* consumers */
    consumer *consumers;
} amqp_bus;

/* A backoff step with jitter (half to all of ms), so that many clients that lost
 * the broker together do not come back in lockstep. */
static inline long er_amqp_jitter(long ms)
{
    return ms / 2 + (long)(er_mono_ns() % (uint64_t)(ms / 2 + 1));
}

static inline amqp_bus *to_amqp(er_bus *bus)
{
    assert(bus->be == &er_bus_amqp_backend);
    return (amqp_bus *)bus;
}

/* amqp.c */
/* Connects, logs in and opens CHANNEL; heartbeat in seconds (0: none). */
int er_amqp_conn_open(const amqp_bus *b, int heartbeat, amqp_connection_state_t *out,
                      er_error *err);
/* Accepts NULL; graceful sends channel.close and connection.close first. */
void er_amqp_conn_close(amqp_connection_state_t c, bool graceful);
/* Declares the fixed topology on c (idempotent); with a queue, only that queue,
 * its bindings and their exchanges (what a consumer of it needs). */
int er_amqp_declare_topology(const amqp_bus *b, amqp_connection_state_t c, const char *queue,
                             er_error *err);
/* A failed RPC reply as an er_error; `what` says what we were doing. */
int er_amqp_reply_error(const amqp_bus *b, amqp_rpc_reply_t r, const char *what, er_error *err);
/* 0, or the error of the last RPC on c. */
int er_amqp_check_reply(const amqp_bus *b, amqp_connection_state_t c, const char *what,
                        er_error *err);

/* amqp_publish.c */
typedef int (*er_amqp_pub_op)(amqp_bus *b, amqp_connection_state_t c, void *arg, er_error *err);
void er_amqp_pub_init(amqp_bus *b);
void er_amqp_pub_close(amqp_bus *b);
/* Persistent, confirmed; retried across reconnects up to publish_timeout_ms. */
int er_amqp_publish(er_bus *bus, const char *exchange, const char *key, const void *body,
                    size_t len, int attempts, er_error *err);
/* Runs op (an RPC) on the publisher connection, alone, connecting first. */
int er_amqp_pub_rpc(amqp_bus *b, er_amqp_pub_op op, void *arg, er_error *err);

/* amqp_consumer.c */
int er_amqp_consume(er_bus *bus, const char *queue, int concurrency, er_bus_raw_handler fn,
                    void *payload, er_error *err);
void er_amqp_stop(er_bus *bus);
/* Stops, joins and frees every consumer of b (messages in hand are finished). */
void er_amqp_consumers_close(amqp_bus *b);

#endif
