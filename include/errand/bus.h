/* bus.h — the message bus: publish to an exchange with a routing key; consume a
 * queue with ack / retry / reject.
 *
 * The topology is the seed's and fixed here: exchanges "supervisor" (direct),
 * "agent" (topic), "results" (fanout) and the dead-letter exchange; queues
 * supervisor.tasks, agent.{code,research,data,email,browser}, agent.results and
 * the dead-letter queue.  A handler that returns ER_BUS_RETRY gets the message
 * again (attempts + 1) until ER_BUS_MAX_ATTEMPTS, then it is dead-lettered.
 * Backend by URL: NULL or "inproc://" in-process, "amqp://…" RabbitMQ. */
#ifndef ERRAND_BUS_H
#define ERRAND_BUS_H

#include "common.h"
#include "error.h"

typedef struct er_bus er_bus;

#define ER_BUS_MAX_ATTEMPTS 5

#define ER_EXCHANGE_SUPERVISOR "supervisor"
#define ER_EXCHANGE_AGENT "agent"
#define ER_EXCHANGE_RESULTS "results"
#define ER_EXCHANGE_DEAD "errand.dlx"
#define ER_QUEUE_SUPERVISOR "supervisor.tasks"
#define ER_QUEUE_RESULTS "agent.results"
#define ER_QUEUE_DEAD "errand.dead"
#define ER_KEY_SUPERVISOR "tasks"          /* routing key on the supervisor exchange */

typedef enum { ER_EXCHANGE_DIRECT, ER_EXCHANGE_TOPIC, ER_EXCHANGE_FANOUT } er_exchange_type;

typedef struct er_bus_exchange {
    const char *name;
    er_exchange_type type;
} er_bus_exchange;

typedef struct er_bus_binding {
    const char *queue;
    const char *exchange;
    const char *key;       /* binding key ("agent.code", "#", "") */
} er_bus_binding;

/* The fixed topology (static tables). */
extern const er_bus_exchange er_bus_exchanges[];
extern const size_t er_bus_nexchanges;
extern const er_bus_binding er_bus_bindings[];
extern const size_t er_bus_nbindings;

typedef struct er_bus_msg {
    const char *queue;
    const char *exchange;
    const char *routing_key;
    const void *body;
    size_t len;
    int attempts;          /* 1 on first delivery */
    bool redelivered;      /* the broker delivered it before (a consumer died) */
} er_bus_msg;

typedef enum {
    ER_BUS_ACK = 0,   /* done with it */
    ER_BUS_RETRY,     /* failed, try again later (dead-lettered after max attempts) */
    ER_BUS_REJECT     /* poison: dead-letter now */
} er_bus_verdict;

/* Runs on a consumer thread owned by the bus. */
typedef er_bus_verdict (*er_bus_handler)(const er_bus_msg *msg, void *payload);

int er_bus_open(er_bus **out, const char *url, er_error *err);
/* Stops consumers (a message in hand is finished), joins their threads, frees. */
void er_bus_close(er_bus *bus);
const char *er_bus_scheme(const er_bus *bus);
int er_bus_publish(er_bus *bus, const char *exchange, const char *key, const void *body,
                   size_t len, er_error *err);
/* Starts `concurrency` consumer threads on queue, calling fn for each message. */
int er_bus_consume(er_bus *bus, const char *queue, int concurrency, er_bus_handler fn,
                   void *payload, er_error *err);
/* Asks consumers to stop taking new messages (returns at once; er_bus_close joins). */
void er_bus_stop(er_bus *bus);
/* Messages waiting and consumers attached; -1 when the backend cannot tell. */
int er_bus_queue_info(er_bus *bus, const char *queue, long *depth, long *consumers,
                      er_error *err);
int er_bus_ping(er_bus *bus, er_error *err);

/* Queue of an agent ("code" → "agent.code") and its routing key on the agent exchange. */
void er_bus_agent_queue(const char *agent, char *out, size_t outsize);

#endif
