/* test_cache.c — conformance suite for the cache seam, run once per backend.
 *
 * The backend is $ERRAND_TEST_CACHE_URL (unset: in-process).  Keys and
 * channels carry a random per-run prefix, so a shared server needs no flush.
 * Against Redis the suite also restarts the server (through the fixture script
 * named by $ERRAND_TEST_REDIS_SCRIPT and $ERRAND_TEST_REDIS_STATE) and checks
 * that commands and subscriptions come back.
 *
 * Waits are generous lower bounds or deadlines for things that must happen;
 * nothing asserts how fast anything is. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/cache.h"
#include "errand/id.h"
#include "errand/str.h"
#include "errand/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 10000
#define MAX_MSGS    256

static const char *cache_url; /* NULL: in-process */
static bool is_redis;
static char prefix[64];
static er_cache *cache;

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* "<prefix><name>" into buf: every key and channel of this run. */
static const char *name(char *buf, size_t size, const char *n)
{
    snprintf(buf, size, "%s%s", prefix, n);
    return buf;
}

/* ---- a subscriber that records what it gets ---- */

typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    char *chans[MAX_MSGS];
    char *msgs[MAX_MSGS];
    size_t lens[MAX_MSGS];
    bool terminated[MAX_MSGS]; /* msg[len] == '\0', as the contract promises */
} collector;

static void collector_init(collector *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static void collector_release(collector *c)
{
    for (int i = 0; i < c->n && i < MAX_MSGS; i++) {
        free(c->chans[i]);
        free(c->msgs[i]);
    }
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

static void collect(const char *channel, const char *msg, size_t len, void *payload)
{
    collector *c = payload;
    pthread_mutex_lock(&c->mu);
    if (c->n < MAX_MSGS) {
        c->chans[c->n] = er_xstrdup(channel);
        c->msgs[c->n] = er_xmalloc(len + 1);
        memcpy(c->msgs[c->n], msg, len + 1);
        c->lens[c->n] = len;
        c->terminated[c->n] = msg[len] == '\0';
    }
    c->n++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* True once c has at least n messages; false if the deadline passed first. */
static bool wait_for(collector *c, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DEADLINE_MS / 1000;
    pthread_mutex_lock(&c->mu);
    while (c->n < n && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0) {
    }
    bool ok = c->n >= n;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static int count(collector *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* ---- key/value ---- */

static void test_get_set_del(void)
{
    er_error err;
    char k[128], *v = NULL;
    size_t len = 99;
    name(k, sizeof k, "kv");
    CHECK(er_cache_get(cache, k, &v, &len, &err) == ER_ENOTFOUND);
    CHECK(v == NULL);
    CHECK_OK(er_cache_set(cache, k, "hello", 5, 0, &err));
    CHECK_OK(er_cache_get(cache, k, &v, &len, &err));
    CHECK_STR(v, "hello");
    CHECK_INT(len, 5);
    free(v);
    CHECK_OK(er_cache_set(cache, k, "bye", 3, 0, &err));
    CHECK_OK(er_cache_get(cache, k, &v, NULL, &err));
    CHECK_STR(v, "bye");
    free(v);
    CHECK_OK(er_cache_del(cache, k, &err));
    CHECK(er_cache_get(cache, k, &v, NULL, &err) == ER_ENOTFOUND);
    CHECK(strstr(err.msg, k) != NULL);
    CHECK_OK(er_cache_del(cache, k, &err)); /* absent: fine */
    CHECK(er_cache_set(cache, "", "x", 1, 0, &err) == ER_EINVAL);
    CHECK(er_cache_get(cache, "", &v, NULL, &err) == ER_EINVAL);
    CHECK_OK(er_cache_ping(cache, &err));
}

static void test_mget(void)
{
    er_error err;
    char a[128], b[128], gone[128];
    name(a, sizeof a, "mget-a");
    name(b, sizeof b, "mget-b");
    name(gone, sizeof gone, "mget-gone");
    CHECK_OK(er_cache_set(cache, a, "one", 3, 0, &err));
    CHECK_OK(er_cache_set(cache, b, "t\0o", 3, 0, &err));
    const char *keys[] = { a, gone, b, a };
    char *vals[4];
    size_t lens[4];
    CHECK_OK(er_cache_mget(cache, keys, 4, vals, lens, &err));
    CHECK_STR(vals[0], "one");
    CHECK_INT(lens[0], 3);
    CHECK(vals[1] == NULL);
    CHECK_INT(lens[1], 0);
    CHECK(vals[2] && lens[2] == 3 && memcmp(vals[2], "t\0o", 3) == 0);
    CHECK_STR(vals[3], "one");
    for (int i = 0; i < 4; i++)
        free(vals[i]);
    CHECK_OK(er_cache_mget(cache, keys, 4, vals, NULL, &err)); /* lens may be NULL */
    CHECK_STR(vals[3], "one");
    for (int i = 0; i < 4; i++)
        free(vals[i]);
    CHECK_OK(er_cache_mget(cache, keys, 0, vals, lens, &err));
    const char *bad[] = { a, "" };
    CHECK(er_cache_mget(cache, bad, 2, vals, lens, &err) == ER_EINVAL);
    CHECK(vals[0] == NULL && vals[1] == NULL);
    CHECK_OK(er_cache_del(cache, a, &err));
    CHECK_OK(er_cache_del(cache, b, &err));
}

static void test_binary(void)
{
    er_error err;
    char k[128], *v = NULL;
    size_t len = 0;
    const char val[] = { 'a', '\0', 'b', (char)0xff, '\n', '\0', 'z' };
    name(k, sizeof k, "bin");
    CHECK_OK(er_cache_set(cache, k, val, sizeof val, 0, &err));
    CHECK_OK(er_cache_get(cache, k, &v, &len, &err));
    CHECK_INT(len, sizeof val);
    CHECK(v && memcmp(v, val, sizeof val) == 0 && v[sizeof val] == '\0');
    free(v);
    CHECK_OK(er_cache_set(cache, k, "", 0, 0, &err)); /* empty is a value, not absence */
    CHECK_OK(er_cache_get(cache, k, &v, &len, &err));
    CHECK_STR(v, "");
    CHECK_INT(len, 0);
    free(v);
}

static void test_ttl(void)
{
    er_error err;
    char gone[128], kept[128], reset[128], *v = NULL;
    name(gone, sizeof gone, "ttl-gone");
    name(kept, sizeof kept, "ttl-kept");
    name(reset, sizeof reset, "ttl-reset");
    CHECK_OK(er_cache_set(cache, gone, "v", 1, 50, &err));
    CHECK_OK(er_cache_set(cache, kept, "v", 1, 60000, &err));
    CHECK_OK(er_cache_set(cache, reset, "a", 1, 50, &err));
    CHECK_OK(er_cache_set(cache, reset, "b", 1, 0, &err)); /* a plain set drops the TTL */
    sleep_ms(200);
    CHECK(er_cache_get(cache, gone, &v, NULL, &err) == ER_ENOTFOUND);
    CHECK_OK(er_cache_get(cache, kept, &v, NULL, &err));
    CHECK_STR(v, "v");
    free(v);
    CHECK_OK(er_cache_get(cache, reset, &v, NULL, &err));
    CHECK_STR(v, "b");
    free(v);
    CHECK(er_cache_set(cache, kept, "v", 1, -1, &err) == ER_EINVAL);

    /* Many short-lived keys, then more sets: the expired ones stay unreadable. */
    char k[128], n[32];
    for (int i = 0; i < 300; i++) {
        snprintf(n, sizeof n, "short-%d", i);
        CHECK_OK(er_cache_set(cache, name(k, sizeof k, n), "x", 1, 50, &err));
    }
    sleep_ms(200);
    for (int i = 0; i < 300; i++) {
        snprintf(n, sizeof n, "other-%d", i);
        CHECK_OK(er_cache_set(cache, name(k, sizeof k, n), "y", 1, 0, &err));
    }
    CHECK(er_cache_get(cache, name(k, sizeof k, "short-7"), &v, NULL, &err) == ER_ENOTFOUND);
    CHECK_OK(er_cache_get(cache, name(k, sizeof k, "other-7"), &v, NULL, &err));
    CHECK_STR(v, "y");
    free(v);
}

static void test_incr(void)
{
    er_error err;
    char k[128], created[128], existing[128], bad[128], *v = NULL;
    int64_t out = 0;
    name(k, sizeof k, "ctr");
    CHECK_OK(er_cache_incr(cache, k, 5, 0, &out, &err));
    CHECK_INT(out, 5);
    CHECK_OK(er_cache_incr(cache, k, -7, 0, &out, &err));
    CHECK_INT(out, -2);
    CHECK_OK(er_cache_get(cache, k, &v, NULL, &err));
    CHECK_STR(v, "-2");
    free(v);

    /* The TTL applies when incr creates the key, never to a key already there. */
    name(created, sizeof created, "ctr-created");
    name(existing, sizeof existing, "ctr-existing");
    CHECK_OK(er_cache_incr(cache, created, 1, 50, &out, &err));
    CHECK_INT(out, 1);
    CHECK_OK(er_cache_set(cache, existing, "41", 2, 0, &err));
    CHECK_OK(er_cache_incr(cache, existing, 1, 50, &out, &err));
    CHECK_INT(out, 42);
    sleep_ms(200);
    CHECK(er_cache_get(cache, created, &v, NULL, &err) == ER_ENOTFOUND);
    CHECK_OK(er_cache_get(cache, existing, &v, NULL, &err));
    CHECK_STR(v, "42");
    free(v);

    name(bad, sizeof bad, "ctr-bad");
    const char *not_ints[] = { "abc", "", "1.5", " 1", "05", "99999999999999999999" };
    for (size_t i = 0; i < ER_ARRAY_LEN(not_ints); i++) {
        CHECK_OK(er_cache_set(cache, bad, not_ints[i], strlen(not_ints[i]), 0, &err));
        CHECK_INT(er_cache_incr(cache, bad, 1, 0, &out, &err), ER_EINVAL);
        CHECK_OK(er_cache_get(cache, bad, &v, NULL, &err));
        CHECK_STR(v, not_ints[i]); /* untouched */
        free(v);
    }
    CHECK_OK(er_cache_set(cache, bad, "9223372036854775807", 19, 0, &err));
    CHECK_INT(er_cache_incr(cache, bad, 1, 0, &out, &err), ER_EINVAL);
    CHECK_INT(er_cache_incr(cache, bad, -1, -5, &out, &err), ER_EINVAL);
}

#define INCR_THREADS 4
#define INCR_EACH    1000

static void *incr_worker(void *arg)
{
    const char *k = arg;
    er_error err;
    int64_t out;
    for (int i = 0; i < INCR_EACH; i++) {
        if (er_cache_incr(cache, k, 1, 0, &out, &err) != 0) {
            fprintf(stderr, "incr failed: %s\n", err.msg);
            return (void *)1;
        }
    }
    return NULL;
}

static void test_incr_concurrent(void)
{
    er_error err;
    char k[128];
    int64_t out = 0;
    name(k, sizeof k, "ctr-concurrent");
    pthread_t t[INCR_THREADS];
    for (int i = 0; i < INCR_THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, incr_worker, k) == 0);
    for (int i = 0; i < INCR_THREADS; i++) {
        void *res = NULL;
        pthread_join(t[i], &res);
        CHECK(res == NULL);
    }
    CHECK_OK(er_cache_incr(cache, k, 0, 0, &out, &err));
    CHECK_INT(out, INCR_THREADS * INCR_EACH);
}

/* ---- publish / subscribe ---- */

static void test_pubsub_order(void)
{
    er_error err;
    char ch[128], other[128];
    collector col;
    collector_init(&col);
    name(ch, sizeof ch, "order");
    name(other, sizeof other, "order-other");
    CHECK_OK(er_cache_publish(cache, ch, "nobody", 6, &err)); /* no subscribers: fine */
    er_cache_sub *sub = NULL;
    CHECK_OK(er_cache_subscribe(cache, ch, collect, &col, &sub, &err));
    /* Active on return: the very first publish arrives. */
    for (int i = 0; i < 200; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "m%d", i);
        CHECK_OK(er_cache_publish(cache, ch, msg, (size_t)n, &err));
        if (i == 100)
            CHECK_OK(er_cache_publish(cache, other, "x", 1, &err));
    }
    const char bin[] = { 'n', '\0', 'l' };
    CHECK_OK(er_cache_publish(cache, ch, bin, sizeof bin, &err));
    CHECK(wait_for(&col, 201));
    sleep_ms(50);
    er_cache_unsubscribe(sub);
    CHECK_INT(count(&col), 201); /* nothing from order-other */
    int in_order = 0, terminated = 0;
    for (int i = 0; i < 200 && i < col.n; i++) {
        char want[32];
        snprintf(want, sizeof want, "m%d", i);
        in_order += strcmp(col.msgs[i], want) == 0 && strcmp(col.chans[i], ch) == 0;
        terminated += col.terminated[i];
    }
    CHECK_INT(in_order, 200);
    CHECK_INT(terminated, 200);
    CHECK(col.n > 200 && col.lens[200] == sizeof bin && memcmp(col.msgs[200], bin, 3) == 0);
    collector_release(&col);
}

static void test_patterns(void)
{
    er_error err;
    char pat[128], glob[128], exact[128], c[128];
    collector pc, gc, ec;
    collector_init(&pc);
    collector_init(&gc);
    collector_init(&ec);
    er_cache_sub *ps = NULL, *gs = NULL, *es = NULL;
    CHECK_OK(er_cache_subscribe(cache, name(pat, sizeof pat, "ev:*"), collect, &pc, &ps, &err));
    /* Glob characters in a prefix are literal. */
    CHECK_OK(
        er_cache_subscribe(cache, name(glob, sizeof glob, "odd?[x]*"), collect, &gc, &gs, &err));
    CHECK_OK(er_cache_subscribe(cache, name(exact, sizeof exact, "ev:"), collect, &ec, &es, &err));
    const char *chans[] = {
        "ev:a", "other:a", "ev:b", "ev", "ev:", "oddZ[x]1", "odd?[x]1", "odd?x1"
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(chans); i++)
        CHECK_OK(
            er_cache_publish(cache, name(c, sizeof c, chans[i]), chans[i], strlen(chans[i]), &err));
    /* A last message on each: once it arrives, everything before it has. */
    CHECK_OK(er_cache_publish(cache, name(c, sizeof c, "ev:end"), "end", 3, &err));
    CHECK_OK(er_cache_publish(cache, name(c, sizeof c, "odd?[x]end"), "end", 3, &err));
    CHECK(wait_for(&pc, 4) && wait_for(&gc, 2) && wait_for(&ec, 1));
    CHECK_INT(count(&pc), 4);
    CHECK_INT(count(&gc), 2);
    CHECK_INT(count(&ec), 1);
    if (count(&pc) == 4) {
        CHECK_STR(pc.msgs[0], "ev:a");
        CHECK_STR(pc.chans[0], name(c, sizeof c, "ev:a"));
        CHECK_STR(pc.msgs[1], "ev:b");
        CHECK_STR(pc.msgs[2], "ev:");
        CHECK_STR(pc.chans[3], name(c, sizeof c, "ev:end"));
    }
    if (count(&gc) == 2)
        CHECK_STR(gc.msgs[0], "odd?[x]1");
    if (count(&ec) == 1)
        CHECK_STR(ec.msgs[0], "ev:");
    er_cache_unsubscribe(ps);
    er_cache_unsubscribe(gs);
    er_cache_unsubscribe(es);
    er_cache_unsubscribe(NULL);
    collector_release(&pc);
    collector_release(&gc);
    collector_release(&ec);
}

/* A callback that takes its time, to catch unsubscribe returning too early. */
typedef struct slow {
    atomic_int entered;
    atomic_int finished;
    atomic_int calls;
} slow;

static void slow_cb(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    (void)msg;
    (void)len;
    slow *s = payload;
    atomic_fetch_add(&s->calls, 1);
    atomic_store(&s->entered, 1);
    sleep_ms(300);
    atomic_store(&s->finished, 1);
}

static void *publish_once(void *arg)
{
    er_error err;
    const char *ch = arg;
    if (er_cache_publish(cache, ch, "slow", 4, &err) != 0)
        fprintf(stderr, "publish failed: %s\n", err.msg);
    return NULL;
}

static void test_unsubscribe_waits(void)
{
    er_error err;
    char ch[128];
    name(ch, sizeof ch, "slow");
    slow *s = er_xcalloc(1, sizeof *s); /* freed right after unsubscribe: ASan checks */
    collector control;
    collector_init(&control);
    er_cache_sub *sub = NULL, *csub = NULL;
    CHECK_OK(er_cache_subscribe(cache, ch, slow_cb, s, &sub, &err));
    CHECK_OK(er_cache_subscribe(cache, ch, collect, &control, &csub, &err));
    pthread_t t; /* in-process delivery runs in the publisher: publish elsewhere */
    CHECK(pthread_create(&t, NULL, publish_once, ch) == 0);
    for (int i = 0; i < DEADLINE_MS && !atomic_load(&s->entered); i++)
        sleep_ms(1);
    CHECK(atomic_load(&s->entered));
    er_cache_unsubscribe(sub);
    CHECK(atomic_load(&s->finished));
    pthread_join(t, NULL);

    CHECK_OK(er_cache_publish(cache, ch, "after", 5, &err));
    CHECK(wait_for(&control, 2));
    CHECK_INT(atomic_load(&s->calls), 1);
    free(s);
    er_cache_unsubscribe(csub);
    collector_release(&control);
}

#define MANY 40

static void test_many_subscribers(void)
{
    er_error err;
    char ch[128], pat[128];
    name(ch, sizeof ch, "many:x");
    name(pat, sizeof pat, "many:*");
    collector *cols = er_xcalloc(MANY, sizeof *cols);
    er_cache_sub *subs[MANY];
    for (int i = 0; i < MANY; i++) {
        collector_init(&cols[i]);
        CHECK_OK(
            er_cache_subscribe(cache, i % 4 == 3 ? pat : ch, collect, &cols[i], &subs[i], &err));
    }
    for (int m = 0; m < 10; m++) {
        char msg[16];
        int n = snprintf(msg, sizeof msg, "%d", m);
        CHECK_OK(er_cache_publish(cache, ch, msg, (size_t)n, &err));
    }
    int complete = 0;
    for (int i = 0; i < MANY; i++) {
        bool ok = wait_for(&cols[i], 10) && count(&cols[i]) == 10;
        for (int m = 0; ok && m < 10; m++) {
            char want[16];
            snprintf(want, sizeof want, "%d", m);
            ok = strcmp(cols[i].msgs[m], want) == 0;
        }
        complete += ok;
    }
    CHECK_INT(complete, MANY);
    /* Unsubscribing in a different order than subscribing leaves the rest intact. */
    for (int i = 0; i < MANY; i += 2)
        er_cache_unsubscribe(subs[i]);
    CHECK_OK(er_cache_publish(cache, ch, "last", 4, &err));
    int got_last = 0;
    for (int i = 1; i < MANY; i += 2)
        got_last += wait_for(&cols[i], 11);
    CHECK_INT(got_last, MANY / 2);
    for (int i = 1; i < MANY; i += 2)
        er_cache_unsubscribe(subs[i]);
    for (int i = 0; i < MANY; i++)
        collector_release(&cols[i]);
    free(cols);
}

/* ---- opening ---- */

#ifdef ERRAND_WITH_REDIS
/* A server that accepts connections (the kernel does, from the backlog) and
 * never answers: opening must give up with ER_ETIMEDOUT, not hang. */
static void test_silent_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t salen = sizeof sa;
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 8) == 0 &&
          getsockname(fd, (struct sockaddr *)&sa, &salen) == 0);
    char *url = er_xasprintf("redis://127.0.0.1:%d/0?timeout_ms=200", ntohs(sa.sin_port));
    er_error err;
    er_cache *c = NULL;
    CHECK_INT(er_cache_open(&c, url, &err), ER_ETIMEDOUT);
    CHECK(strstr(err.msg, "did not answer") != NULL);
    CHECK(c == NULL);
    free(url);
    close(fd);
}
#endif

static void test_urls(void)
{
    er_error err;
    er_cache *c = NULL;
    CHECK_OK(er_cache_open(&c, NULL, &err));
    CHECK_STR(c ? er_cache_scheme(c) : NULL, "inproc");
    er_cache_close(c);
    CHECK_OK(er_cache_open(&c, "inproc://", &err));
    er_cache_close(c);
    er_cache_close(NULL);

    CHECK_INT(er_cache_open(&c, "memcached://127.0.0.1:11211", &err), ER_EINVAL);
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "memcached") && strstr(err.msg, "inproc://") &&
          strstr(err.msg, "redis://"));
    CHECK_INT(er_cache_open(&c, "not a url", &err), ER_EINVAL);
    CHECK(strstr(err.msg, "cache URL: ") == err.msg);
    /* Without an er_error the code is the same: a bad URL, not an internal error. */
    CHECK_INT(er_cache_open(&c, "not a url", NULL), ER_EINVAL);
    CHECK_INT(er_cache_open(&c, "inproc://somewhere/else", &err), ER_EINVAL);

    /* Nothing listens on port 1: refused at once, with a hint. */
    int rc = er_cache_open(&c, "redis://127.0.0.1:1/0", &err);
#ifdef ERRAND_WITH_REDIS
    CHECK_INT(rc, ER_EUNAVAIL);
    CHECK(strstr(err.msg, "'127.0.0.1:1'") && strstr(err.msg, "is it running"));
    CHECK_INT(er_cache_open(&c, "redis://127.0.0.1:1/notadb", &err), ER_EINVAL);
    CHECK_INT(er_cache_open(&c, "redis://127.0.0.1:1/0?timeout_ms=x", &err), ER_EINVAL);
    test_silent_server();
#else
    CHECK_INT(rc, ER_EINVAL);
    CHECK(strstr(err.msg, "ERRAND_WITH_REDIS") != NULL);
#endif
    CHECK(c == NULL);
}


/* The test server's URL with the password or database swapped. */
static char *redis_url_with(const char *userinfo, const char *db)
{
    er_url u;
    er_error err;
    if (er_url_parse(&u, cache_url, &err) != 0)
        return NULL;
    char *s = er_xasprintf("redis://%s%s:%d/%s", userinfo, u.host ? u.host : "127.0.0.1",
                           u.port ? u.port : 6379, db);
    er_url_release(&u);
    return s;
}

static void test_redis_refusals(void)
{
    er_error err;
    er_cache *c = NULL;
    char *bad_pass = redis_url_with(":wrong-password@", "0");
    char *bad_db = redis_url_with("", "100000");
    CHECK_INT(er_cache_open(&c, bad_pass, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "wrong-password") == NULL); /* secrets never in messages */
    CHECK_INT(er_cache_open(&c, bad_db, &err), ER_EINVAL);
    CHECK(c == NULL);
    free(bad_pass);
    free(bad_db);
}

/* Pub/sub ignores SELECT in Redis itself; errand keeps each database's
 * channels apart, and hands channel names back as they were given. */
static void test_redis_db_channels(void)
{
    er_error err;
    er_cache *a = NULL, *b = NULL;
    char *url_a = redis_url_with("", "13"), *url_b = redis_url_with("", "14");
    CHECK_OK(er_cache_open(&a, url_a, &err));
    CHECK_OK(er_cache_open(&b, url_b, &err));
    char ch[128], pat[128];
    name(ch, sizeof ch, "dbsep");
    name(pat, sizeof pat, "dbs*");
    collector ca, cb, cbp;
    collector_init(&ca);
    collector_init(&cb);
    collector_init(&cbp);
    er_cache_sub *sa = NULL, *sb = NULL, *sbp = NULL;
    CHECK_OK(er_cache_subscribe(a, ch, collect, &ca, &sa, &err));
    CHECK_OK(er_cache_subscribe(b, ch, collect, &cb, &sb, &err));
    CHECK_OK(er_cache_subscribe(b, pat, collect, &cbp, &sbp, &err));
    CHECK_OK(er_cache_publish(a, ch, "for-a", 5, &err));
    CHECK_OK(er_cache_publish(b, ch, "for-b", 5, &err));
    CHECK(wait_for(&ca, 1));
    CHECK(wait_for(&cb, 1));
    CHECK(wait_for(&cbp, 1));
    sleep_ms(100);
    er_cache_unsubscribe(sa);
    er_cache_unsubscribe(sb);
    er_cache_unsubscribe(sbp);
    CHECK_INT(count(&ca), 1);
    CHECK_INT(count(&cb), 1);
    CHECK_INT(count(&cbp), 1);
    CHECK(ca.n == 1 && strcmp(ca.msgs[0], "for-a") == 0 && strcmp(ca.chans[0], ch) == 0);
    CHECK(cb.n == 1 && strcmp(cb.msgs[0], "for-b") == 0 && strcmp(cb.chans[0], ch) == 0);
    CHECK(cbp.n == 1 && strcmp(cbp.msgs[0], "for-b") == 0 && strcmp(cbp.chans[0], ch) == 0);
    collector_release(&ca);
    collector_release(&cb);
    collector_release(&cbp);
    er_cache_close(a);
    er_cache_close(b);
    free(url_a);
    free(url_b);
}

static int run_script(const char *verb)
{
    const char *script = getenv("ERRAND_TEST_REDIS_SCRIPT");
    const char *state = getenv("ERRAND_TEST_REDIS_STATE");
    char *cmd = er_xasprintf("bash '%s' %s '%s' >/dev/null", script, verb, state);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static void test_redis_restart(void)
{
    if (!getenv("ERRAND_TEST_REDIS_SCRIPT") || !getenv("ERRAND_TEST_REDIS_STATE")) {
        fprintf(stderr, "skipping the restart test: ERRAND_TEST_REDIS_SCRIPT/STATE not set\n");
        return;
    }
    er_error err;
    char k[128], ch[128], *v = NULL;
    int64_t out = 0;
    name(k, sizeof k, "restart");
    name(ch, sizeof ch, "restart");
    collector col;
    collector_init(&col);
    er_cache_sub *sub = NULL;
    CHECK_OK(er_cache_subscribe(cache, ch, collect, &col, &sub, &err));
    CHECK_OK(er_cache_set(cache, k, "before", 6, 0, &err));

    CHECK_INT(run_script("stop"), 0);
    int rc = er_cache_get(cache, k, &v, NULL, &err);
    CHECK_INT(rc, ER_EUNAVAIL);
    CHECK(er_error_retryable(rc) && strstr(err.msg, "is it running"));
    CHECK_INT(run_script("start"), 0);

    /* The server kept nothing (no persistence); what matters is that it answers. */
    CHECK_OK(er_cache_set(cache, k, "after", 5, 0, &err));
    CHECK_OK(er_cache_get(cache, k, &v, NULL, &err));
    CHECK_STR(v, "after");
    free(v);
    char ctr[128];
    CHECK_OK(er_cache_incr(cache, name(ctr, sizeof ctr, "restart-ctr"), 3, 0, &out, &err));
    CHECK_INT(out, 3);

    /* The subscriber resubscribes on its own; publish until it hears. */
    for (int i = 0; i < DEADLINE_MS / 50 && count(&col) == 0; i++) {
        CHECK_OK(er_cache_publish(cache, ch, "again", 5, &err));
        sleep_ms(50);
    }
    CHECK(count(&col) > 0);
    if (count(&col) > 0)
        CHECK_STR(col.msgs[0], "again");
    er_cache_unsubscribe(sub);
    collector_release(&col);
}

int main(void)
{
    cache_url = getenv("ERRAND_TEST_CACHE_URL");
    if (er_str_empty(cache_url))
        cache_url = NULL;
    char id[ER_ID_LEN];
    er_id_new(id);
    snprintf(prefix, sizeof prefix, "errand-test:%s:", id);

    er_error err;
    CHECK_OK(er_cache_open(&cache, cache_url, &err));
    if (!cache)
        return check_done();
    is_redis = strcmp(er_cache_scheme(cache), "redis") == 0;
    printf("cache backend: %s\n", er_cache_scheme(cache));

    test_get_set_del();
    test_mget();
    test_binary();
    test_ttl();
    test_incr();
    test_incr_concurrent();
    test_pubsub_order();
    test_patterns();
    test_unsubscribe_waits();
    test_many_subscribers();
    test_urls();
    if (is_redis) {
        test_redis_refusals();
        test_redis_db_channels();
        test_redis_restart();
    }
    er_cache_close(cache);
    return check_done();
}
