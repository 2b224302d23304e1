/* redis.c — the Redis cache backend (hiredis 0.14, blocking API).
 *
 * URL: redis://[[user]:password@]host[:port][/db][?connect_timeout_ms=N&timeout_ms=N].
 *
 * Commands go over a small pool of connections (up to POOL_MAX, made on
 * demand, reused LIFO), each used by one thread at a time.  A pooled
 * connection that the server closed (a restart) is noticed before use and
 * replaced; a connection lost in the middle of a command is re-made once and
 * the command retried when repeating it is harmless (GET, SET, DEL, PING).
 *
 * Each subscription owns a connection and a thread that delivers messages in
 * order.  When Redis goes away the thread reconnects with backoff and
 * subscribes again; what was published meanwhile is lost (pub/sub keeps no
 * history), which is why callers poll the store as a backstop.
 *
 * Redis's pub/sub ignores SELECT: a channel is shared by every database of a
 * server.  Keys are not, so two deployments on /1 and /2 of one Redis would
 * keep their data apart but see each other's events.  Channels outside
 * database 0 are therefore sent as "dbN:channel" and handed back without the
 * prefix; database 0 keeps the bare names. */
#include "errand/backend/cache_backend.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/str.h"

#include <assert.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define POOL_MAX             8
#define DEFAULT_CONNECT_MS   2000
#define DEFAULT_TIMEOUT_MS   5000
#define RESUB_CONNECT_MAX_MS 1000 /* keeps unsubscribe prompt while reconnecting */
#define RESUB_BACKOFF_MIN_MS 50
#define RESUB_BACKOFF_MAX_MS 1000

/* Atomic "add, and set the TTL only if this created the key". */
static const char INCR_SCRIPT[] =
    "local created = redis.call('EXISTS', KEYS[1]) == 0\n"
    "local v = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
    "if created and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
    "return v\n";

typedef struct rcache {
    er_cache base;
    char *host;
    int port;
    char *user;     /* NULL: AUTH with the password only */
    char *password; /* NULL: no AUTH */
    long db;
    char chan_prefix[24]; /* "dbN:" for db N > 0, else "" (see the file comment) */
    char *addr;           /* "host:port" for messages */
    int connect_ms, timeout_ms;

    pthread_mutex_t mu; /* guards the pool */
    pthread_cond_t freed;
    redisContext *idle[POOL_MAX];
    int nidle;
    int nconn; /* idle + in use */
    atomic_int nsubs;
    /* After a connect that failed slowly (a timeout: the host is unreachable, not
     * refusing), command connections fail fast until then (er_mono_ms): a worker
     * streaming tokens would otherwise wait connect_ms for every token.  A refused
     * connect costs nothing, so it never trips this and a restarted Redis is used
     * at once. */
    _Atomic int64_t down_until;
} rcache;

typedef struct rsub {
    er_cache_sub base;
    rcache *rc;
    char *channel; /* as the caller gave it */
    char *target;  /* sent to Redis: the channel, or an escaped glob */
    bool pattern;
    er_cache_msg_fn fn;
    void *payload;
    redisContext *ctx; /* owned by the thread once it runs */
    int wake;          /* eventfd rung by unsubscribe */
    pthread_t thread;
} rsub;

/* One command: argv with lengths, and whether repeating it is harmless. */
typedef struct cmd {
    const char *what; /* for messages: "GET 'key'" style context */
    const char *key;
    bool idempotent;
    int argc;
    const char *argv[6];
    size_t lens[6];
    /* Longer commands (MGET): argc arguments here instead of argv, lens. */
    const char **xargv;
    const size_t *xlens;
} cmd;

static rcache *from_cache(er_cache *c)
{
    assert(c && c->be == &er_cache_redis_backend);
    return (rcache *)c;
}

static struct timeval ms_tv(int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    return tv;
}

static bool sigpipe_ignored;
static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;

static void check_sigpipe(void)
{
    struct sigaction sa;
    sigpipe_ignored = sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

/* hiredis writes with write(2): a peer that went away would raise SIGPIPE and
 * kill the process.  Unless the process ignores SIGPIPE (errand does, from the
 * start: then the four extra syscalls per command are skipped), block it around
 * each command and swallow what it caused. */
static redisReply *command(redisContext *ctx, int argc, const char **argv, const size_t *lens)
{
    pthread_once(&sigpipe_once, check_sigpipe);
    if (sigpipe_ignored)
        return redisCommandArgv(ctx, argc, argv, lens);
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    redisReply *reply = redisCommandArgv(ctx, argc, argv, lens);
    int saved = errno;
    if (!was_pending) {
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE)) {
            struct timespec zero = { 0, 0 };
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
            }
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return reply;
}

static bool reply_is(const redisReply *r, const char *prefix)
{
    return r->type == REDIS_REPLY_ERROR && r->str && er_str_starts(r->str, prefix);
}

/* Converts an error reply into an er_error, once, at the edge. */
static int reply_error(const rcache *rc, const char *what, const redisReply *r, er_error *err)
{
    if (reply_is(r, "NOAUTH") || reply_is(r, "WRONGPASS"))
        return er_error_set(err, ER_EAUTH,
                            "Redis at '%s' refused %s: %s — check the password in the Redis URL",
                            rc->addr, what, r->str);
    if (strstr(r->str, "not an integer") || strstr(r->str, "overflow") || reply_is(r, "WRONGTYPE"))
        return er_error_set(err, ER_EINVAL, "%s: %s", what, r->str);
    if (reply_is(r, "LOADING") || reply_is(r, "BUSY") || reply_is(r, "MASTERDOWN") ||
        reply_is(r, "TRYAGAIN") || reply_is(r, "OOM") || reply_is(r, "READONLY"))
        return er_error_set(err, ER_EUNAVAIL, "Redis at '%s' cannot serve %s now: %s", rc->addr,
                            what, r->str);
    return er_error_set(err, ER_EINTERNAL, "Redis at '%s' refused %s: %s", rc->addr, what, r->str);
}

/* The reason a command got no reply, as an er_error. */
static int io_error(const rcache *rc, const char *what, const redisContext *ctx, int errnum,
                    er_error *err)
{
    if (ctx->err == REDIS_ERR_IO && (errnum == EAGAIN || errnum == EWOULDBLOCK))
        return er_error_set(err, ER_ETIMEDOUT, "Redis at '%s' did not answer %s within %d ms",
                            rc->addr, what, rc->timeout_ms);
    return er_error_set(err, ER_EUNAVAIL, "lost the connection to Redis at '%s' during %s: %s",
                        rc->addr, what, ctx->errstr);
}

/* Runs one setup command on a fresh connection (AUTH, SELECT, PING). */
static int setup_command(rcache *rc, redisContext *ctx, int argc, const char **argv,
                         const char *what, int code_on_refusal, er_error *err)
{
    redisReply *r = command(ctx, argc, argv, NULL);
    if (!r)
        return io_error(rc, what, ctx, errno, err);
    int ret = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        ret = reply_error(rc, what, r, err);
        if (ret != ER_EAUTH && code_on_refusal)
            ret = er_error_set(err, code_on_refusal, "Redis at '%s' refused %s: %s", rc->addr, what,
                               r->str);
    }
    freeReplyObject(r);
    return ret;
}

static int authenticate(rcache *rc, redisContext *ctx, er_error *err)
{
    if (rc->password) {
        const char *argv[3] = { "AUTH", rc->user ? rc->user : rc->password, rc->password };
        int rcode =
            setup_command(rc, ctx, rc->user ? 3 : 2, argv, "the credentials", ER_EAUTH, err);
        if (rcode)
            return rcode;
    }
    if (rc->db) {
        char db[24];
        snprintf(db, sizeof db, "%ld", rc->db);
        const char *argv[2] = { "SELECT", db };
        return setup_command(rc, ctx, 2, argv, "SELECT of the database in the URL", ER_EINVAL, err);
    }
    return 0;
}

/* A new, authenticated connection with the command timeout set. */
static int connect_ctx(rcache *rc, int connect_ms, redisContext **out, er_error *err)
{
    *out = NULL;
    redisContext *ctx = redisConnectWithTimeout(rc->host, rc->port, ms_tv(connect_ms));
    if (!ctx)
        return er_error_set(err, ER_EINTERNAL, "cannot allocate a Redis connection");
    if (ctx->err) {
        er_error_set(err, ER_EUNAVAIL, "cannot connect to Redis at '%s': %s — is it running?",
                     rc->addr, ctx->errstr);
        redisFree(ctx);
        return ER_EUNAVAIL;
    }
    redisSetTimeout(ctx, ms_tv(rc->timeout_ms));
    redisEnableKeepAlive(ctx);
    int ret = authenticate(rc, ctx, err);
    if (ret) {
        redisFree(ctx);
        return ret;
    }
    *out = ctx;
    return 0;
}

/* ---- the command pool ---- */

#define FAIL_FAST_MS 1000

/* connect_ctx for command connections, failing fast while Redis is known unreachable. */
static int pool_connect(rcache *rc, redisContext **out, er_error *err)
{
    int64_t now = er_mono_ms(), until = atomic_load(&rc->down_until);
    if (now < until) {
        *out = NULL;
        return er_error_set(err, ER_EUNAVAIL,
                            "cannot connect to Redis at '%s': no answer "
                            "within %d ms a moment ago — is it reachable?",
                            rc->addr, rc->connect_ms);
    }
    int ret = connect_ctx(rc, rc->connect_ms, out, err);
    int64_t took = er_mono_ms() - now;
    if ((ret == ER_EUNAVAIL || ret == ER_ETIMEDOUT) && took >= rc->connect_ms / 2)
        atomic_store(&rc->down_until, er_mono_ms() + FAIL_FAST_MS);
    return ret;
}

static void pool_put(rcache *rc, redisContext *ctx)
{
    pthread_mutex_lock(&rc->mu);
    if (ctx)
        rc->idle[rc->nidle++] = ctx;
    else
        rc->nconn--; /* the caller dropped it: room for a new one */
    pthread_cond_signal(&rc->freed);
    pthread_mutex_unlock(&rc->mu);
}

static int pool_get(rcache *rc, redisContext **out, er_error *err)
{
    pthread_mutex_lock(&rc->mu);
    while (rc->nidle == 0 && rc->nconn >= POOL_MAX)
        pthread_cond_wait(&rc->freed, &rc->mu);
    if (rc->nidle) {
        *out = rc->idle[--rc->nidle];
        pthread_mutex_unlock(&rc->mu);
        return 0;
    }
    rc->nconn++;
    pthread_mutex_unlock(&rc->mu);
    int ret = pool_connect(rc, out, err);
    if (ret)
        pool_put(rc, NULL);
    return ret;
}

/* An idle connection has nothing to read; anything there (EOF, RST) means the
 * server dropped it, and sending on it would lose the command. */
static bool still_open(const redisContext *ctx)
{
    struct pollfd p = { .fd = ctx->fd, .events = POLLIN | POLLRDHUP };
    return !ctx->err && poll(&p, 1, 0) == 0;
}

static int run(rcache *rc, cmd *k, redisReply **out, er_error *err)
{
    redisContext *ctx;
    int ret = pool_get(rc, &ctx, err);
    if (ret)
        return ret;
    for (int attempt = 0; !ret; attempt++) {
        if (!still_open(ctx)) {
            redisFree(ctx);
            if ((ret = pool_connect(rc, &ctx, err)))
                break;
        }
        redisReply *r =
            command(ctx, k->argc, k->xargv ? k->xargv : k->argv, k->xlens ? k->xlens : k->lens);
        if (r) {
            pool_put(rc, ctx);
            if (r->type != REDIS_REPLY_ERROR) {
                *out = r;
                return 0;
            }
            ret = reply_error(rc, k->what, r, err);
            freeReplyObject(r);
            return ret;
        }
        ret = io_error(rc, k->what, ctx, errno, err);
        redisFree(ctx); /* poisoned: a late reply would answer the next command */
        if (ret == ER_ETIMEDOUT || !k->idempotent || attempt > 0)
            break;
        er_log(ER_LOG_INFO, "cache", "%s; reconnecting once", err ? err->msg : "connection lost");
        ret = pool_connect(rc, &ctx, err);
    }
    pool_put(rc, NULL);
    return ret;
}

static int run_key(rcache *rc, const char *verb, cmd *k, redisReply **out, er_error *err)
{
    char what[160];
    snprintf(what, sizeof what, "%s of key '%.120s'", verb, k->key);
    k->what = what;
    int ret = run(rc, k, out, err);
    k->what = NULL;
    return ret;
}

/* ---- key/value ---- */

static int rd_get(er_cache *c, const char *key, char **out, size_t *len, er_error *err)
{
    rcache *rc = from_cache(c);
    cmd k = { .key = key,
              .idempotent = true,
              .argc = 2,
              .argv = { "GET", key },
              .lens = { 3, strlen(key) } };
    redisReply *r;
    int ret = run_key(rc, k.argv[0], &k, &r, err);
    if (ret)
        return ret;
    if (r->type == REDIS_REPLY_NIL)
        ret = er_error_set(err, ER_ENOTFOUND, "cache key '%s' not found", key);
    else if (r->type != REDIS_REPLY_STRING)
        ret = er_error_set(err, ER_EPROTO, "Redis at '%s' answered GET with reply type %d",
                           rc->addr, r->type);
    else {
        *out = er_xmalloc(r->len + 1);
        memcpy(*out, r->str, r->len);
        (*out)[r->len] = '\0';
        if (len)
            *len = r->len;
    }
    freeReplyObject(r);
    return ret;
}

static int rd_mget(er_cache *c, const char *const *keys, size_t n, char **vals, size_t *lens,
                   er_error *err)
{
    rcache *rc = from_cache(c);
    if (n >= INT_MAX)
        return er_error_set(err, ER_ETOOBIG, "MGET of %zu keys", n);
    const char **argv = er_xcalloc(n + 1, sizeof *argv);
    size_t *alens = er_xcalloc(n + 1, sizeof *alens);
    argv[0] = "MGET";
    alens[0] = 4;
    for (size_t i = 0; i < n; i++) {
        argv[i + 1] = keys[i];
        alens[i + 1] = strlen(keys[i]);
    }
    cmd k = {
        .key = keys[0], .idempotent = true, .argc = (int)n + 1, .xargv = argv, .xlens = alens
    };
    redisReply *r;
    int ret = run_key(rc, "MGET", &k, &r, err);
    free(argv);
    free(alens);
    if (ret)
        return ret;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
        ret = er_error_set(err, ER_EPROTO,
                           "Redis at '%s' answered MGET of %zu keys with reply "
                           "type %d",
                           rc->addr, n, r->type);
    for (size_t i = 0; !ret && i < n; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING)
            continue; /* nil: absent */
        vals[i] = er_xmalloc(e->len + 1);
        memcpy(vals[i], e->str, e->len);
        vals[i][e->len] = '\0';
        lens[i] = e->len;
    }
    freeReplyObject(r);
    return ret;
}

static int rd_set(er_cache *c, const char *key, const void *val, size_t len, int64_t ttl_ms,
                  er_error *err)
{
    rcache *rc = from_cache(c);
    char ttl[24];
    int n = snprintf(ttl, sizeof ttl, "%" PRId64, ttl_ms);
    cmd k = { .key = key,
              .idempotent = true,
              .argc = ttl_ms > 0 ? 5 : 3,
              .argv = { "SET", key, val, "PX", ttl },
              .lens = { 3, strlen(key), len, 2, (size_t)n } };
    redisReply *r;
    int ret = run_key(rc, k.argv[0], &k, &r, err);
    if (!ret)
        freeReplyObject(r);
    return ret;
}

static int rd_del(er_cache *c, const char *key, er_error *err)
{
    rcache *rc = from_cache(c);
    cmd k = { .key = key,
              .idempotent = true,
              .argc = 2,
              .argv = { "DEL", key },
              .lens = { 3, strlen(key) } };
    redisReply *r;
    int ret = run_key(rc, k.argv[0], &k, &r, err);
    if (!ret)
        freeReplyObject(r);
    return ret;
}

static int rd_incr(er_cache *c, const char *key, int64_t by, int64_t ttl_ms, int64_t *out,
                   er_error *err)
{
    rcache *rc = from_cache(c);
    char sby[24], sttl[24];
    int nby = snprintf(sby, sizeof sby, "%" PRId64, by);
    int nttl = snprintf(sttl, sizeof sttl, "%" PRId64, ttl_ms);
    /* Not idempotent: a retry after a lost reply could count twice. */
    cmd k = { .key = key,
              .idempotent = false,
              .argc = 6,
              .argv = { "EVAL", INCR_SCRIPT, "1", key, sby, sttl },
              .lens = { 4, sizeof INCR_SCRIPT - 1, 1, strlen(key), (size_t)nby, (size_t)nttl } };
    redisReply *r;
    int ret = run_key(rc, "INCRBY", &k, &r, err);
    if (ret)
        return ret;
    if (r->type == REDIS_REPLY_INTEGER)
        *out = (int64_t)r->integer;
    else
        ret = er_error_set(err, ER_EPROTO, "Redis at '%s' answered INCRBY with reply type %d",
                           rc->addr, r->type);
    freeReplyObject(r);
    return ret;
}

static int rd_publish(er_cache *c, const char *channel, const void *msg, size_t len, er_error *err)
{
    rcache *rc = from_cache(c);
    char what[160];
    snprintf(what, sizeof what, "PUBLISH to channel '%.120s'", channel);
    char *wire = er_xasprintf("%s%s", rc->chan_prefix, channel);
    /* Not retried after a lost reply: subscribers may already have it. */
    cmd k = { .what = what,
              .key = wire,
              .idempotent = false,
              .argc = 3,
              .argv = { "PUBLISH", wire, msg },
              .lens = { 7, strlen(wire), len } };
    redisReply *r;
    int ret = run(rc, &k, &r, err);
    if (!ret)
        freeReplyObject(r);
    free(wire);
    return ret;
}

static int rd_ping(er_cache *c, er_error *err)
{
    rcache *rc = from_cache(c);
    cmd k = { .what = "PING", .idempotent = true, .argc = 1, .argv = { "PING" }, .lens = { 4 } };
    redisReply *r;
    int ret = run(rc, &k, &r, err);
    if (!ret)
        freeReplyObject(r);
    return ret;
}

/* ---- subscriptions ---- */

/* Our patterns are plain prefixes; Redis's are globs, so quote glob characters. */
static char *glob_for_prefix(const char *prefix, size_t len)
{
    char *g = er_xmalloc(2 * len + 2), *o = g;
    for (size_t i = 0; i < len; i++) {
        if (strchr("*?[]\\", prefix[i]))
            *o++ = '\\';
        *o++ = prefix[i];
    }
    *o++ = '*';
    *o = '\0';
    return g;
}

/* Connects, subscribes and waits for Redis to confirm, so the subscription is
 * live when this returns. */
static int sub_connect(rsub *s, int connect_ms, er_error *err)
{
    rcache *rc = s->rc;
    redisContext *ctx;
    int ret = connect_ctx(rc, connect_ms, &ctx, err);
    if (ret)
        return ret;
    const char *verb = s->pattern ? "PSUBSCRIBE" : "SUBSCRIBE";
    const char *argv[2] = { verb, s->target };
    redisReply *r = command(ctx, 2, argv, NULL);
    char what[160];
    snprintf(what, sizeof what, "%s to '%.120s'", verb, s->channel);
    if (!r)
        ret = io_error(rc, what, ctx, errno, err);
    else if (r->type == REDIS_REPLY_ERROR)
        ret = reply_error(rc, what, r, err);
    else if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        ret = er_error_set(err, ER_EPROTO, "Redis at '%s' answered %s with reply type %d", rc->addr,
                           what, r->type);
    freeReplyObject(r);
    if (ret) {
        redisFree(ctx);
        return ret;
    }
    s->ctx = ctx;
    return 0;
}

static void sub_dispatch(rsub *s, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || !r->element[0]->str)
        return;
    const char *kind = r->element[0]->str;
    const redisReply *ch = NULL, *msg = NULL;
    if (strcmp(kind, "message") == 0 && r->elements == 3) {
        ch = r->element[1];
        msg = r->element[2];
    } else if (strcmp(kind, "pmessage") == 0 && r->elements == 4) {
        ch = r->element[2];
        msg = r->element[3];
    }
    /* hiredis NUL-terminates string replies, as the callback contract wants. */
    if (ch && msg && ch->type == REDIS_REPLY_STRING && msg->type == REDIS_REPLY_STRING) {
        size_t plen = strlen(s->rc->chan_prefix);
        const char *name =
            strncmp(ch->str, s->rc->chan_prefix, plen) == 0 ? ch->str + plen : ch->str;
        s->fn(name, msg->str, msg->len, s->payload);
    }
}

/* Delivers messages until unsubscribe rings (returns true) or the connection
 * fails (returns false, reason in s->ctx->errstr). */
static bool sub_pump(rsub *s)
{
    for (;;) {
        void *reply = NULL;
        while (redisGetReplyFromReader(s->ctx, &reply) == REDIS_OK && reply) {
            sub_dispatch(s, reply);
            freeReplyObject(reply);
            reply = NULL;
        }
        if (s->ctx->err)
            return false;
        struct pollfd p[2] = { { .fd = s->wake, .events = POLLIN },
                               { .fd = s->ctx->fd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return false;
        if (p[0].revents)
            return true;
        if (p[1].revents && redisBufferRead(s->ctx) != REDIS_OK)
            return false;
    }
}

/* Sleeps ms unless unsubscribe rings first (then returns true). */
static bool sub_wait(rsub *s, int ms)
{
    struct pollfd p = { .fd = s->wake, .events = POLLIN };
    return poll(&p, 1, ms) > 0;
}

/* Reconnects with exponential backoff; returns true if told to stop. */
static bool sub_reconnect(rsub *s)
{
    int delay = RESUB_BACKOFF_MIN_MS;
    int connect_ms =
        s->rc->connect_ms < RESUB_CONNECT_MAX_MS ? s->rc->connect_ms : RESUB_CONNECT_MAX_MS;
    for (;;) {
        if (sub_wait(s, delay))
            return true;
        er_error e;
        er_error_clear(&e);
        if (sub_connect(s, connect_ms, &e) == 0)
            return false;
        er_log(ER_LOG_DEBUG, "cache", "resubscribing to '%s': %s", s->channel, e.msg);
        delay = delay * 2 < RESUB_BACKOFF_MAX_MS ? delay * 2 : RESUB_BACKOFF_MAX_MS;
    }
}

static void *sub_main(void *arg)
{
    rsub *s = arg;
    /* This thread only reads; a write on a dead socket while resubscribing
     * must not kill the process. */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    while (!sub_pump(s)) {
        er_log(ER_LOG_WARN, "cache",
               "subscription to '%s' lost its connection to Redis at '%s' (%s); reconnecting — "
               "messages published until then are lost (pub/sub keeps no history)",
               s->channel, s->rc->addr, s->ctx->errstr);
        redisFree(s->ctx);
        s->ctx = NULL;
        if (sub_reconnect(s))
            break;
        er_log(ER_LOG_INFO, "cache", "subscription to '%s' on Redis at '%s' is live again",
               s->channel, s->rc->addr);
    }
    if (s->ctx)
        redisFree(s->ctx);
    s->ctx = NULL;
    return NULL;
}

static void sub_free(rsub *s)
{
    if (s->wake >= 0)
        close(s->wake);
    free(s->channel);
    free(s->target);
    free(s);
}

static int rd_subscribe(er_cache *c, const char *channel, er_cache_msg_fn fn, void *payload,
                        er_cache_sub **out, er_error *err)
{
    rcache *rc = from_cache(c);
    rsub *s = er_xcalloc(1, sizeof *s);
    size_t len = strlen(channel);
    s->rc = rc;
    s->channel = er_xstrdup(channel);
    s->pattern = channel[len - 1] == '*';
    char *wire = er_xasprintf("%s%s", rc->chan_prefix, channel);
    s->target = s->pattern ? glob_for_prefix(wire, strlen(wire) - 1) : er_xstrdup(wire);
    free(wire);
    s->fn = fn;
    s->payload = payload;
    s->wake = eventfd(0, EFD_CLOEXEC);
    if (s->wake < 0) {
        int e = errno;
        sub_free(s);
        return er_error_set(err, ER_EINTERNAL, "cannot create an eventfd: %s", strerror(e));
    }
    int ret = sub_connect(s, rc->connect_ms, err);
    if (!ret && (ret = pthread_create(&s->thread, NULL, sub_main, s)) != 0) {
        redisFree(s->ctx);
        ret =
            er_error_set(err, ER_EINTERNAL, "cannot start a subscriber thread: %s", strerror(ret));
    }
    if (ret) {
        sub_free(s);
        return ret;
    }
    atomic_fetch_add(&rc->nsubs, 1);
    *out = &s->base;
    return 0;
}

static void rd_unsubscribe(er_cache_sub *sub)
{
    rsub *s = (rsub *)sub;
    assert(!pthread_equal(pthread_self(), s->thread) && "unsubscribe from its own callback");
    uint64_t one = 1;
    while (write(s->wake, &one, sizeof one) < 0 && errno == EINTR) {
    }
    pthread_join(s->thread, NULL);
    atomic_fetch_sub(&s->rc->nsubs, 1);
    sub_free(s);
}

/* ---- lifetime ---- */

static int parse_ms(const er_url *url, const char *name, int def, int *out, er_error *err)
{
    char *v = er_url_query_get(url, name);
    long ms = def;
    int ret = v ? er_str_to_long(v, &ms) : 0;
    free(v);
    if (ret || ms <= 0 || ms > 600000)
        return er_error_set(err, ER_EINVAL,
                            "Redis URL: %s must be a number of milliseconds (1–600000)", name);
    *out = (int)ms;
    return 0;
}

static int parse_url(rcache *rc, const er_url *url, er_error *err)
{
    const char *db = url->path[0] == '/' ? url->path + 1 : url->path;
    if (*db && (er_str_to_long(db, &rc->db) || rc->db < 0))
        return er_error_set(err, ER_EINVAL,
                            "Redis URL: bad database '%s' — expected redis://host:port/N", db);
    if (rc->db > 0)
        snprintf(rc->chan_prefix, sizeof rc->chan_prefix, "db%ld:", rc->db);
    rc->host = er_xstrdup(url->host ? url->host : "127.0.0.1");
    rc->port = url->port ? url->port : 6379;
    rc->addr = er_xasprintf("%s:%d", rc->host, rc->port);
    if (!er_str_empty(url->password)) {
        rc->password = er_xstrdup(url->password);
        rc->user = er_str_empty(url->user) ? NULL : er_xstrdup(url->user);
    }
    int ret = parse_ms(url, "connect_timeout_ms", DEFAULT_CONNECT_MS, &rc->connect_ms, err);
    return ret ? ret : parse_ms(url, "timeout_ms", DEFAULT_TIMEOUT_MS, &rc->timeout_ms, err);
}

static void rd_close(er_cache *c)
{
    rcache *rc = from_cache(c);
    assert(atomic_load(&rc->nsubs) == 0 && "er_cache_close() with live subscriptions");
    assert(rc->nidle == rc->nconn && "er_cache_close() during a command");
    for (int i = 0; i < rc->nidle; i++)
        redisFree(rc->idle[i]);
    pthread_cond_destroy(&rc->freed);
    pthread_mutex_destroy(&rc->mu);
    free(rc->host);
    free(rc->user);
    free(rc->password);
    free(rc->addr);
    free(rc);
}

static int rd_open(er_cache **out, const er_url *url, er_error *err)
{
    rcache *rc = er_xcalloc(1, sizeof *rc);
    rc->base.be = &er_cache_redis_backend;
    pthread_mutex_init(&rc->mu, NULL);
    pthread_cond_init(&rc->freed, NULL);
    atomic_init(&rc->nsubs, 0);
    atomic_init(&rc->down_until, 0);
    /* Connect now, so a wrong URL or password shows at start-up, not on first use. */
    int ret = parse_url(rc, url, err);
    if (!ret)
        ret = rd_ping(&rc->base, err);
    if (ret) {
        rd_close(&rc->base);
        return ret;
    }
    *out = &rc->base;
    return 0;
}

const er_cache_backend er_cache_redis_backend = {
    .version = ER_CACHE_BACKEND_VERSION,
    .scheme = "redis",
    .open = rd_open,
    .close = rd_close,
    .get = rd_get,
    .mget = rd_mget,
    .set = rd_set,
    .del = rd_del,
    .incr = rd_incr,
    .publish = rd_publish,
    .subscribe = rd_subscribe,
    .unsubscribe = rd_unsubscribe,
    .ping = rd_ping,
};
