/* bus_backend.h — for bus backend authors only. */
#ifndef ERRAND_BUS_BACKEND_H
#define ERRAND_BUS_BACKEND_H

#include "../bus.h"
#include "../url.h"

#define ER_BUS_BACKEND_VERSION 1

/* What a backend hands the generic layer for each delivery; the verdict it gets
 * back is final for the backend: ACK means "remove it" (the generic layer has
 * already republished or dead-lettered it where needed). */
typedef er_bus_verdict (*er_bus_raw_handler)(const er_bus_msg *msg, void *payload);

typedef struct er_bus_backend {
    int version;
    const char *scheme;      /* "inproc", "amqp" */
    int (*open)(er_bus **out, const er_url *url, er_error *err);
    void (*close)(er_bus *bus);
    /* Declares er_bus_exchanges / er_bus_bindings (idempotent). */
    int (*declare)(er_bus *bus, er_error *err);
    /* exchange "" publishes straight to the queue named by key.  attempts is carried
     * with the message (AMQP header "x-errand-attempts"). Persistent and confirmed
     * where the backend can. */
    int (*publish)(er_bus *bus, const char *exchange, const char *key, const void *body,
                   size_t len, int attempts, er_error *err);
    int (*consume)(er_bus *bus, const char *queue, int concurrency, er_bus_raw_handler fn,
                   void *payload, er_error *err);
    void (*stop)(er_bus *bus);
    int (*queue_info)(er_bus *bus, const char *queue, long *depth, long *consumers,
                      er_error *err);
    int (*ping)(er_bus *bus, er_error *err);
} er_bus_backend;

struct er_bus {
    const er_bus_backend *be;
};

extern const er_bus_backend er_bus_inproc_backend;
#ifdef ERRAND_WITH_AMQP
extern const er_bus_backend er_bus_amqp_backend;
#endif

#endif
