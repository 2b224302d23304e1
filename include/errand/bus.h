/* bus.h — the message bus: publish to an exchange with a routing key; consume a
 * queue with ack / retry / reject.
 *
 * The topology is the seed's and fixed here: exchanges "supervisor" (direct),
 * "agent" (topic), "results" (fanout) and the dead-letter exchange; queues
 * supervisor.tasks, agent.<name> for each agent of the registry (agent.h:
 * er_agents[]), agent.results and the dead-letter queue.  A handler that returns ER_BUS_RETRY gets the message
 * again (attempts + 1) until ER_BUS_MAX_ATTEMPTS, then it is dead-lettered.
 * Backend by URL: NULL or "inproc://" in-process, "amqp://…" / "amqps://…"
 * RabbitMQ (query: publish_timeout_ms=N, heartbeat=S, cacert=PATH for amqps,
 * queue_type=classic|quorum: the type of the queues it declares).
 *
 * Delivery is at least once: a handler can see a message twice (a worker died
 * after the handler ran but before the ack reached the broker), so handlers must
 * be idempotent.  Retry and dead-lettering live in bus.c, once for all backends:
 *  - RETRY: the message is republished straight to its queue (at the tail) with
 *    attempts + 1 and the original acked; at ER_BUS_MAX_ATTEMPTS it is
 *    dead-lettered instead.  There is no delay between attempts.
 *  - REJECT: dead-lettered at once.
 *  - A dead letter goes to ER_EXCHANGE_DEAD → ER_QUEUE_DEAD with its body and
 *    attempts unchanged and the queue it died in as its routing key, so it can be
 *    re-driven with er_bus_publish(bus, "", msg->routing_key, …).
 *  - A redelivered message (its worker died before acking, or the consumer lost
 *    its connection) counts as an attempt: the broker says *whether* a message
 *    was delivered before, not how often, so bus.c does not run the handler on
 *    it but republishes a copy with attempts + 1 (or dead-letters it at
 *    ER_BUS_MAX_ATTEMPTS).  A message that kills every worker it reaches thus
 *    ends in the dead-letter queue after MAX attempts; the cost is one more
 *    publish per redelivery, and handlers see `redelivered` only on backends
 *    that do not count (none today).
 *  - A message whose consumer lost its connection while the handler ran is
 *    redelivered, possibly to another worker at once: msg->lost is raised, and
 *    the handler must stop acting on it (its verdict is dropped).
 *  - Whoever consumes may watch dead letters as they happen
 *    (er_bus_on_dead_letter): a task whose message is dead-lettered is over, and
 *    the reason is known only there. */
#ifndef ERRAND_BUS_H
#define ERRAND_BUS_H

#include "common.h"
#include "error.h"

typedef struct er_bus er_bus;

#define ER_BUS_MAX_ATTEMPTS 5

#define ER_EXCHANGE_SUPERVISOR "supervisor"
#define ER_EXCHANGE_AGENT      "agent"
#define ER_EXCHANGE_RESULTS    "results"
#define ER_EXCHANGE_DEAD       "errand.dlx"
#define ER_QUEUE_SUPERVISOR    "supervisor.tasks"
#define ER_QUEUE_RESULTS       "agent.results"
#define ER_QUEUE_DEAD          "errand.dead"
#define ER_KEY_SUPERVISOR      "tasks"  /* routing key on the supervisor exchange */
#define ER_AGENT_QUEUE_PREFIX  "agent." /* an agent's queue and routing key: agent.<name> */

typedef enum { ER_EXCHANGE_DIRECT, ER_EXCHANGE_TOPIC, ER_EXCHANGE_FANOUT } er_exchange_type;

typedef struct er_bus_exchange {
    const char *name;
    er_exchange_type type;
} er_bus_exchange;

typedef struct er_bus_binding {
    const char *queue;
    const char *exchange;
    const char *key; /* binding key ("agent.code", "#", "") */
} er_bus_binding;

/* The fixed topology.  Exchanges: a static table.  Bindings: one per queue,
 * in the order a task passes the queues (supervisor.tasks, the agents' queues
 * in registry order, agent.results), the dead-letter queue last; built on
 * first use, BORROWED for the process; *n gets their number. */
extern const er_bus_exchange er_bus_exchanges[];
extern const size_t er_bus_nexchanges;
const er_bus_binding *er_bus_bindings(size_t *n);
/* Every queue of the topology, in the bindings' order, NULL-terminated: what
 * doctor, the metrics and the tests iterate.  BORROWED for the process. */
const char *const *er_bus_queue_names(void);

#define ER_BUS_MAX_BODY (64u << 20) /* publish past this → ER_ETOOBIG */

typedef struct er_bus_msg {
    const char *queue;
    const char *exchange;
    const char *routing_key;
    const void *body;
    size_t len;
    int attempts;     /* 1 on first delivery */
    bool redelivered; /* the broker delivered it before (a consumer died) */
    /* Raised (by the bus, on another thread) once the connection this message came
     * on is gone: the broker hands it to another consumer, and whatever this
     * handler does next is done twice.  NULL on backends that cannot lose one. */
    const volatile int *lost;
    /* A handler returning RETRY or REJECT may say why here (BORROWED, NULL: not
     * said); a dead letter carries the reason to er_bus_on_dead_letter. */
    er_error *why;
} er_bus_msg;

typedef enum {
    ER_BUS_ACK = 0, /* done with it */
    ER_BUS_RETRY,   /* failed, try again later (dead-lettered after max attempts) */
    ER_BUS_REJECT,  /* poison: dead-letter now */
    ER_BUS_REQUEUE  /* not failed, only not done here (the worker is shutting down): back
                         to the queue as it is; it does not count as an attempt beyond the
                         redelivered floor */
} er_bus_verdict;

/* Runs on a consumer thread owned by the bus. */
typedef er_bus_verdict (*er_bus_handler)(const er_bus_msg *msg, void *payload);

/* Connects and declares the topology (idempotent).  NULL or "" means in-process.
 * Unknown scheme → ER_EINVAL; a backend compiled out → ER_EINVAL naming the CMake
 * option; broker unreachable → ER_EUNAVAIL; credentials refused → ER_EAUTH. */
int er_bus_open(er_bus **out, const char *url, er_error *err);
/* Stops consumers (a message in hand is finished), joins their threads, frees.
 * Accepts NULL. */
void er_bus_close(er_bus *bus);
const char *er_bus_scheme(const er_bus *bus);
/* True when messages never leave this process (in-process backend): whoever
 * publishes must also run the consumers in this process. */
bool er_bus_is_local(const er_bus *bus);
/* The same for the bus a URL would open, without opening it (false for a URL
 * that names no backend). */
bool er_bus_url_is_local(const char *url);
/* Routes body to the queues bound to exchange under key (exchange "" sends
 * straight to the queue named key).  Returns once the message is stored
 * (RabbitMQ: persistent and confirmed by the broker; retried across reconnects
 * up to publish_timeout_ms).  No bound queue → dropped, as in AMQP.  Unknown
 * exchange or queue → ER_ENOTFOUND.  Thread-safe. */
int er_bus_publish(er_bus *bus, const char *exchange, const char *key, const void *body, size_t len,
                   er_error *err);
/* Starts `concurrency` consumer threads on queue, calling fn for each message;
 * at most `concurrency` messages are in hand at once.  fn runs on a bus-owned
 * thread; msg and its strings are BORROWED for the call only. */
int er_bus_consume(er_bus *bus, const char *queue, int concurrency, er_bus_handler fn,
                   void *payload, er_error *err);
/* Called in the consuming process each time a message is dead-lettered, with
 * the message (its queue and body) and why, in words for a user: "its worker
 * died or lost the broker at each of 5 attempts".  Runs on the consumer thread
 * before the dead letter is published; a second call replaces the first. */
typedef void (*er_bus_dead_fn)(const er_bus_msg *msg, const char *reason, void *payload);
void er_bus_on_dead_letter(er_bus *bus, er_bus_dead_fn fn, void *payload);
/* Asks consumers to stop taking new messages (returns at once; er_bus_close joins).
 * Messages not yet in hand stay in (or go back to) their queue. */
void er_bus_stop(er_bus *bus);
/* Messages waiting (not counting those in hand) and consumers attached (one per
 * er_bus_consume call, whatever its concurrency); -1 when the backend cannot tell. */
int er_bus_queue_info(er_bus *bus, const char *queue, long *depth, long *consumers, er_error *err);
/* Drops every waiting message of queue (operators: clear the dead letters;
 * tests: start clean).  *purged (may be NULL) gets how many. */
int er_bus_purge(er_bus *bus, const char *queue, long *purged, er_error *err);
int er_bus_ping(er_bus *bus, er_error *err);

/* Queue of an agent ("code" → "agent.code") and its routing key on the agent exchange. */
void er_bus_agent_queue(const char *agent, char *out, size_t outsize);

#endif
