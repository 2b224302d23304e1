/* bus.c — the bus seam: the fixed topology, the choice of backend by URL scheme,
 * and the retry / dead-letter policy, written once for every backend.
 *
 * Backends only move bytes: they hand each delivery to dispatch() below, which
 * runs the user's handler and turns its verdict into a republish (RETRY), a
 * dead letter (REJECT, or RETRY past ER_BUS_MAX_ATTEMPTS) or a plain ack.  This is
 * the only file that dereferences bus->be. */
#include "errand/bus.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/backend/bus_backend.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/url.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const er_bus_exchange er_bus_exchanges[] = {
    { ER_EXCHANGE_SUPERVISOR, ER_EXCHANGE_DIRECT },
    { ER_EXCHANGE_AGENT, ER_EXCHANGE_TOPIC },
    { ER_EXCHANGE_RESULTS, ER_EXCHANGE_FANOUT },
    { ER_EXCHANGE_DEAD, ER_EXCHANGE_FANOUT },
};
const size_t er_bus_nexchanges = ER_ARRAY_LEN(er_bus_exchanges);

/* One binding per queue, in the order a task passes them, the dead letters
 * last; fanout bindings carry no key.  The agent queues come from the agent
 * registry (agent.h), so that adding an agent is its definition and its entry
 * in er_agents[]; built once, on first use, and never freed. */
static er_bus_binding *bindings;
static size_t nbindings;
static const char **queue_names; /* NULL-terminated: the bindings' queues */
static pthread_once_t topology_once = PTHREAD_ONCE_INIT;

static void build_topology(void)
{
    size_t max = er_agent_count() + 3;
    bindings = er_xcalloc(max, sizeof *bindings);
    queue_names = er_xcalloc(max + 1, sizeof *queue_names);
    bindings[nbindings++] =
        (er_bus_binding){ ER_QUEUE_SUPERVISOR, ER_EXCHANGE_SUPERVISOR, ER_KEY_SUPERVISOR };
    for (size_t i = 0; er_agents[i]; i++) {
        char *queue = er_xasprintf(ER_AGENT_QUEUE_PREFIX "%s", er_agents[i]->name);
        bindings[nbindings++] = (er_bus_binding){ queue, ER_EXCHANGE_AGENT, queue };
    }
    bindings[nbindings++] = (er_bus_binding){ ER_QUEUE_RESULTS, ER_EXCHANGE_RESULTS, "" };
    bindings[nbindings++] = (er_bus_binding){ ER_QUEUE_DEAD, ER_EXCHANGE_DEAD, "" };
    for (size_t i = 0; i < nbindings; i++)
        queue_names[i] = bindings[i].queue;
}

const er_bus_binding *er_bus_bindings(size_t *n)
{
    pthread_once(&topology_once, build_topology);
    *n = nbindings;
    return bindings;
}

const char *const *er_bus_queue_names(void)
{
    pthread_once(&topology_once, build_topology);
    return queue_names;
}

/* Backends by scheme; a NULL backend was compiled out by `option`. */
static const struct {
    const char *scheme;
    const er_bus_backend *be;
    const char *option;
} schemes[] = {
    { "inproc", &er_bus_inproc_backend, NULL },
#ifdef ERRAND_WITH_AMQP
    { "amqp", &er_bus_amqp_backend, NULL },
    { "amqps", &er_bus_amqp_backend, NULL },
#else
    { "amqp", NULL, "ERRAND_WITH_AMQP" },
    { "amqps", NULL, "ERRAND_WITH_AMQP" },
#endif
};

/* A user handler wrapped by dispatch(); freed by er_bus_close after be->close. */
struct er_bus_sub {
    struct er_bus_sub *next;
    er_bus *bus;
    er_bus_handler fn;
    void *payload;
};

static const er_bus_exchange *find_exchange(const char *name)
{
    for (size_t i = 0; i < er_bus_nexchanges; i++)
        if (strcmp(er_bus_exchanges[i].name, name) == 0)
            return &er_bus_exchanges[i];
    return NULL;
}

static bool known_queue(const char *name)
{
    for (const char *const *q = er_bus_queue_names(); *q; q++)
        if (strcmp(*q, name) == 0)
            return true;
    return false;
}

static int check_queue(const char *queue, er_error *err)
{
    if (er_str_empty(queue))
        return er_error_set(err, ER_EINVAL, "no queue name given");
    if (!known_queue(queue))
        return er_error_set(err, ER_ENOTFOUND,
                            "no queue '%s' on the bus (agent queues are " ER_AGENT_QUEUE_PREFIX
                            "<name>; "
                            "others: %s, %s, %s)",
                            queue, ER_QUEUE_SUPERVISOR, ER_QUEUE_RESULTS, ER_QUEUE_DEAD);
    return 0;
}

static int find_backend(const er_url *u, const er_bus_backend **out, er_error *err)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(schemes); i++) {
        if (strcmp(schemes[i].scheme, u->scheme) != 0)
            continue;
        if (!schemes[i].be)
            return er_error_set(err, ER_EINVAL,
                                "this errand was built without %s:// support; rebuild with "
                                "-D%s=ON or use inproc://",
                                u->scheme, schemes[i].option);
        *out = schemes[i].be;
        return 0;
    }
    return er_error_set(err, ER_EINVAL,
                        "unknown bus URL scheme '%s': use inproc:// (in-process) or "
                        "amqp://user:pass@host:port/vhost (RabbitMQ; amqps:// for TLS)",
                        u->scheme);
}

int er_bus_open(er_bus **out, const char *url, er_error *err)
{
    *out = NULL;
    er_url u;
    int rc = er_url_parse(&u, er_str_empty(url) ? "inproc://" : url, err);
    if (rc) {
        er_error_prefix(err, "bus URL");
        return rc;
    }
    const er_bus_backend *be = NULL;
    rc = find_backend(&u, &be, err);
    if (rc == 0)
        rc = be->open(out, &u, err);
    er_url_release(&u);
    if (rc)
        return rc;
    (*out)->be = be;
    (*out)->subs = NULL;
    (*out)->on_dead = NULL;
    rc = be->declare(*out, err);
    if (rc) {
        er_bus_close(*out);
        *out = NULL;
    }
    return rc;
}

void er_bus_close(er_bus *bus)
{
    if (!bus)
        return;
    struct er_bus_sub *s = __atomic_load_n(&bus->subs, __ATOMIC_ACQUIRE);
    bus->be->close(bus); /* joins every thread that could still call a sub */
    while (s) {
        struct er_bus_sub *next = s->next;
        free(s);
        s = next;
    }
}

const char *er_bus_scheme(const er_bus *bus)
{
    return bus->be->scheme;
}

bool er_bus_is_local(const er_bus *bus)
{
    return bus->be->version >= 2 && bus->be->local;
}

bool er_bus_url_is_local(const char *url)
{
    er_url u;
    if (er_url_parse(&u, er_str_empty(url) ? "inproc://" : url, NULL))
        return false;
    const er_bus_backend *be = NULL;
    bool local = find_backend(&u, &be, NULL) == 0 && be->version >= 2 && be->local;
    er_url_release(&u);
    return local;
}

int er_bus_publish(er_bus *bus, const char *exchange, const char *key, const void *body, size_t len,
                   er_error *err)
{
    if (!exchange)
        return er_error_set(err, ER_EINVAL, "publish: no exchange given");
    if (!body && len)
        return er_error_set(err, ER_EINVAL, "publish: no body given");
    if (len > ER_BUS_MAX_BODY)
        return er_error_set(err, ER_ETOOBIG, "message of %zu bytes is over the bus limit of %u",
                            len, ER_BUS_MAX_BODY);
    if (!key)
        key = "";
    if (!*exchange) {
        int rc = check_queue(key, err);
        if (rc)
            return rc;
    } else if (!find_exchange(exchange)) {
        return er_error_set(
            err, ER_ENOTFOUND, "no exchange '%s' on the bus (known: %s, %s, %s, %s)", exchange,
            ER_EXCHANGE_SUPERVISOR, ER_EXCHANGE_AGENT, ER_EXCHANGE_RESULTS, ER_EXCHANGE_DEAD);
    }
    return bus->be->publish(bus, exchange, key, body ? body : "", len, 1, err);
}

/* RETRY below the limit: a fresh copy at the tail of the same queue. */
static er_bus_verdict republish(er_bus *bus, const er_bus_msg *m)
{
    er_error err = { 0 };
    int rc = bus->be->publish(bus, "", m->queue, m->body, m->len, m->attempts + 1, &err);
    if (rc) {
        er_log(ER_LOG_WARN, "bus",
               "cannot requeue a message on '%s' for attempt %d: %s; "
               "returning it to the queue as it is",
               m->queue, m->attempts + 1, err.msg);
        return ER_BUS_RETRY;
    }
    er_log(ER_LOG_DEBUG, "bus", "message on '%s' failed attempt %d of %d; requeued", m->queue,
           m->attempts, ER_BUS_MAX_ATTEMPTS);
    return ER_BUS_ACK;
}

void er_bus_on_dead_letter(er_bus *bus, er_bus_dead_fn fn, void *payload)
{
    /* Consumer threads of earlier er_bus_consume calls may be reading it. */
    __atomic_store_n(&bus->on_dead_payload, payload, __ATOMIC_RELAXED);
    __atomic_store_n(&bus->on_dead, fn, __ATOMIC_RELEASE);
}

static er_bus_verdict dead_letter(er_bus *bus, const er_bus_msg *m, const char *reason)
{
    if (strcmp(m->queue, ER_QUEUE_DEAD) == 0) {
        /* Dead-lettering a dead letter would loop forever: drop it instead. */
        er_log(ER_LOG_WARN, "bus", "dropped a message from '%s' (%s)", m->queue, reason);
        return ER_BUS_REJECT;
    }
    er_bus_dead_fn fn = __atomic_load_n(&bus->on_dead, __ATOMIC_ACQUIRE);
    if (fn) /* before the publish: once dead-lettered, the message is out of our hands */
        fn(m, reason, __atomic_load_n(&bus->on_dead_payload, __ATOMIC_RELAXED));
    er_error err = { 0 };
    int rc = bus->be->publish(bus, ER_EXCHANGE_DEAD, m->queue, m->body, m->len, m->attempts, &err);
    if (rc) {
        er_log(ER_LOG_ERROR, "bus",
               "cannot dead-letter a message from '%s' (%s): %s; "
               "returning it to the queue",
               m->queue, reason, err.msg);
        return ER_BUS_RETRY;
    }
    er_log(ER_LOG_WARN, "bus", "dead-lettered a message from '%s' to '%s' after %d attempt%s: %s",
           m->queue, ER_QUEUE_DEAD, m->attempts, m->attempts == 1 ? "" : "s", reason);
    return ER_BUS_ACK;
}

/* Why the last attempt failed, for the dead letter: the handler's words if it
 * gave any. */
static er_bus_verdict dead_after(er_bus *bus, const er_bus_msg *m, const char *what)
{
    char reason[400];
    if (m->why && m->why->msg[0])
        snprintf(reason, sizeof reason, "%s: %s", what, m->why->msg);
    else
        snprintf(reason, sizeof reason, "%s", what);
    return dead_letter(bus, m, reason);
}

/* The raw handler every backend calls: the whole retry / dead-letter policy. */
static er_bus_verdict dispatch(const er_bus_msg *raw, void *payload)
{
    struct er_bus_sub *s = payload;
    er_bus_msg m = *raw;
    er_error why = { 0 };
    m.why = &why;
    if (m.attempts < 1)
        m.attempts = 1;
    if (m.redelivered) {
        /* A worker died holding it (or lost the broker): that was an attempt.
         * Classic queues keep no delivery count, so count it here with a fresh
         * copy carrying attempts + 1; otherwise a message that kills its worker
         * every time would be redelivered for ever instead of dead-lettered. */
        if (m.attempts < ER_BUS_MAX_ATTEMPTS)
            return republish(s->bus, &m);
        char reason[160];
        snprintf(reason, sizeof reason,
                 "its worker died or lost the broker at each of its %d "
                 "attempts",
                 m.attempts);
        return dead_letter(s->bus, &m, reason);
    }
    er_bus_verdict v = s->fn(&m, s->payload);
    switch (v) {
    case ER_BUS_ACK: return ER_BUS_ACK;
    case ER_BUS_RETRY: {
        if (m.attempts < ER_BUS_MAX_ATTEMPTS)
            return republish(s->bus, &m);
        char what[80];
        snprintf(what, sizeof what, "it failed at each of its %d attempts", m.attempts);
        return dead_after(s->bus, &m, what);
    }
    case ER_BUS_REJECT: return dead_after(s->bus, &m, "the handler rejected it");
    case ER_BUS_REQUEUE: return ER_BUS_RETRY; /* to the backend: put it back as it is */
    }
    return dead_letter(s->bus, &m, "the handler returned an invalid verdict");
}

int er_bus_consume(er_bus *bus, const char *queue, int concurrency, er_bus_handler fn,
                   void *payload, er_error *err)
{
    int rc = check_queue(queue, err);
    if (rc)
        return rc;
    if (concurrency < 1 || concurrency > 1024)
        return er_error_set(err, ER_EINVAL, "consume '%s': concurrency %d is not in 1..1024", queue,
                            concurrency);
    if (!fn)
        return er_error_set(err, ER_EINVAL, "consume '%s': no handler given", queue);
    struct er_bus_sub *s = er_xcalloc(1, sizeof *s);
    s->bus = bus;
    s->fn = fn;
    s->payload = payload;
    rc = bus->be->consume(bus, queue, concurrency, dispatch, s, err);
    if (rc) {
        free(s);
        return rc;
    }
    /* Lock-free push: consume may be called from several threads. */
    s->next = __atomic_load_n(&bus->subs, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&bus->subs, &s->next, s, false, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
        ;
    return 0;
}

void er_bus_stop(er_bus *bus)
{
    if (bus)
        bus->be->stop(bus);
}

int er_bus_queue_info(er_bus *bus, const char *queue, long *depth, long *consumers, er_error *err)
{
    long d = -1, c = -1;
    er_error scratch = { 0 };
    if (!err)
        err = &scratch; /* callers that only want the numbers pass NULL; backends write it */
    int rc = check_queue(queue, err);
    if (rc == 0)
        rc = bus->be->queue_info(bus, queue, &d, &c, err);
    if (depth)
        *depth = d;
    if (consumers)
        *consumers = c;
    return rc;
}

int er_bus_purge(er_bus *bus, const char *queue, long *purged, er_error *err)
{
    long n = 0;
    int rc = check_queue(queue, err);
    if (rc == 0 && bus->be->version < 2)
        rc = er_error_set(err, ER_EINVAL, "the %s bus cannot purge queues", bus->be->scheme);
    else if (rc == 0)
        rc = bus->be->purge(bus, queue, &n, err);
    if (purged)
        *purged = rc ? 0 : n;
    return rc;
}

int er_bus_ping(er_bus *bus, er_error *err)
{
    return bus->be->ping(bus, err);
}

void er_bus_agent_queue(const char *agent, char *out, size_t outsize)
{
    snprintf(out, outsize, ER_AGENT_QUEUE_PREFIX "%s", agent);
}

/* Is the rest of the pattern (from p) all '#' words, i.e. able to match nothing? */
static bool only_hashes(const char *p)
{
    for (;;) {
        if (p[0] != '#' || (p[1] != '.' && p[1] != '\0'))
            return false;
        if (p[1] == '\0')
            return true;
        p += 2;
    }
}

/* p and k each point at the start of a word. */
static bool match_from(const char *p, const char *k)
{
    for (;;) {
        const char *pe = strchrnul(p, '.');
        if (pe - p == 1 && *p == '#') {
            if (!*pe)
                return true;
            for (const char *w = k;;) { /* '#' takes 0, 1, 2, … words of the key */
                if (match_from(pe + 1, w))
                    return true;
                const char *dot = strchr(w, '.');
                if (!dot)
                    return false;
                w = dot + 1;
            }
        }
        const char *ke = strchrnul(k, '.');
        bool star = pe - p == 1 && *p == '*';
        if (!star && (pe - p != ke - k || memcmp(p, k, (size_t)(pe - p)) != 0))
            return false;
        if (!*ke)
            return !*pe || only_hashes(pe + 1);
        if (!*pe)
            return false;
        p = pe + 1;
        k = ke + 1;
    }
}

bool er_bus_topic_match(const char *pattern, const char *key)
{
    return match_from(pattern, key);
}
