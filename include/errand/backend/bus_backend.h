/* bus_backend.h — for bus backend authors only. */
#ifndef ERRAND_BUS_BACKEND_H
#define ERRAND_BUS_BACKEND_H

#include "../bus.h"
#include "../url.h"

/* Raised whenever fields are appended to er_bus_backend: version N has every
 * field up to the "version N" mark below.
 *   1  scheme … ping
 *   2  purge, local */
#define ER_BUS_BACKEND_VERSION 2

/* What a backend hands the generic layer for each delivery.  The verdict it gets
 * back is final for the backend: ACK means "remove it" (the generic layer has
 * already republished or dead-lettered it where needed); RETRY means "put it
 * back in the queue as it is, marked redelivered" (the generic layer could not
 * republish it, e.g. the broker is down); REJECT means "discard it" (a broker
 * may dead-letter it itself).  msg->attempts is what travelled with the message
 * (1 when nothing did); the generic layer applies the redelivered floor. */
typedef er_bus_verdict (*er_bus_raw_handler)(const er_bus_msg *msg, void *payload);

typedef struct er_bus_backend {
    int version;
    const char *scheme; /* "inproc", "amqp" */
    int (*open)(er_bus **out, const er_url *url, er_error *err);
    void (*close)(er_bus *bus);
    /* Declares er_bus_exchanges / er_bus_bindings (idempotent). */
    int (*declare)(er_bus *bus, er_error *err);
    /* exchange "" publishes straight to the queue named by key.  attempts is carried
     * with the message (AMQP header "x-errand-attempts"). Persistent and confirmed
     * where the backend can. */
    int (*publish)(er_bus *bus, const char *exchange, const char *key, const void *body, size_t len,
                   int attempts, er_error *err);
    int (*consume)(er_bus *bus, const char *queue, int concurrency, er_bus_raw_handler fn,
                   void *payload, er_error *err);
    void (*stop)(er_bus *bus);
    int (*queue_info)(er_bus *bus, const char *queue, long *depth, long *consumers, er_error *err);
    int (*ping)(er_bus *bus, er_error *err);
    /* ---- version 2 ---- */
    int (*purge)(er_bus *bus, const char *queue, long *purged, er_error *err);
    bool local; /* messages never leave the process (er_bus_is_local) */
} er_bus_backend;

struct er_bus_sub; /* a wrapped handler; owned by bus.c */

/* First member of every backend's handle; backends zero-fill it (calloc) and set be. */
struct er_bus {
    const er_bus_backend *be;
    struct er_bus_sub *subs; /* bus.c only: freed after be->close */
    er_bus_dead_fn on_dead;  /* bus.c only (er_bus_on_dead_letter) */
    void *on_dead_payload;
};

/* AMQP topic matching for backends that route themselves: words split on '.',
 * '*' matches exactly one word, '#' zero or more. */
bool er_bus_topic_match(const char *pattern, const char *key);

extern const er_bus_backend er_bus_inproc_backend;
#ifdef ERRAND_WITH_AMQP
extern const er_bus_backend er_bus_amqp_backend;
#endif

#endif
