/* sessions.c — who is still allowed in.  An access token (a JWT) names a
 * user and a session; both are checked on every request against the store:
 * a deleted user's token stops working, a demoted admin loses the role at
 * once (the role comes from the store, never from the token), and a revoked
 * session (logout, `errand user revoke`, the API token it came from revoked)
 * ends its access tokens with it.
 *
 * What the store says is cached for TTL_MS, and dropped as soon as a change
 * is seen: a poller reads the store's log of auth changes (written by
 * triggers, whoever made the change: `errand user`, another server, SQL)
 * every POLL_MS, forgets what it cached about the user, token or session and
 * closes the WebSockets that were opened with it.  PostgreSQL may commit
 * sequence values out of order, so each poll reads a few seqs back and skips
 * those it has handled.
 *
 * Threads: lookups on any request thread; the poller on its own. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/store_auth.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define TTL_MS          30000
#define POLL_MS         1000
#define LOOKBACK        64  /* seqs read again, for late commits */
#define RECENT          256 /* seqs remembered as handled */
#define BUCKETS         1024
#define MAX_ENTRIES     20000
#define PRUNE_EVERY_MS  (3600 * 1000LL)
#define KEEP_CHANGES_MS (24 * 3600 * 1000LL)

typedef struct entry {
    struct entry *next;
    char id[ER_ID_LEN];
    bool is_session;
    bool gone;                /* no such user or session */
    srv_user user;            /* a user's: id, name, admin */
    char owner[ER_ID_LEN];    /* a session's user */
    char token_id[ER_ID_LEN]; /* the API token it came from */
    int64_t expires_ms, revoked_ms;
    int64_t fetched_ms;
} entry;

struct srv_sessions {
    srv *s;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    entry *buckets[BUCKETS];
    size_t n;
    uint64_t gen; /* bumped by every forget */
    int64_t high; /* the highest seq handled */
    int64_t recent[RECENT];
    size_t nrecent;
    int64_t pruned_ms;
    bool stop;
    bool running;
    pthread_t poller;
};

static size_t bucket(const char *id)
{
    uint32_t h = 2166136261u;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h % BUCKETS;
}

/* ---- the cache (under the lock) ---- */

static void clear_all(srv_sessions *c)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        while (c->buckets[i]) {
            entry *e = c->buckets[i];
            c->buckets[i] = e->next;
            free(e);
        }
    }
    c->n = 0;
}

static entry *find(srv_sessions *c, const char *id, bool is_session)
{
    for (entry *e = c->buckets[bucket(id)]; e; e = e->next)
        if (e->is_session == is_session && strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

static void drop(srv_sessions *c, const char *id)
{
    for (entry **pp = &c->buckets[bucket(id)]; *pp;) {
        entry *e = *pp;
        if (strcmp(e->id, id) == 0) {
            *pp = e->next;
            free(e);
            c->n--;
        } else {
            pp = &e->next;
        }
    }
}

/* A change: what fetches started before it found must not be stored either. */
static void forget(srv_sessions *c, const char *id)
{
    c->gen++;
    drop(c, id);
}

/* Stores what was fetched, unless a change came in meanwhile (gen moved). */
static void put(srv_sessions *c, const entry *fetched, uint64_t gen)
{
    if (c->gen != gen)
        return;
    drop(c, fetched->id);
    if (c->n >= MAX_ENTRIES)
        clear_all(c);
    entry *e = er_xmalloc(sizeof *e);
    *e = *fetched;
    size_t b = bucket(e->id);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->n++;
}

/* A fresh cached entry copied into out, or false. */
static bool cached(srv_sessions *c, const char *id, bool is_session, entry *out, uint64_t *gen)
{
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, id, is_session);
    bool hit = e && er_mono_ms() - e->fetched_ms < TTL_MS;
    if (hit)
        *out = *e;
    *gen = c->gen;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

static void remember(srv_sessions *c, const entry *e, uint64_t gen)
{
    pthread_mutex_lock(&c->lock);
    put(c, e, gen);
    pthread_mutex_unlock(&c->lock);
}

/* ---- lookups ---- */

static int fetch_user(srv *s, const char *id, entry *out, er_error *err)
{
    er_store *st;
    er_user u;
    int rc = er_env_store(s->env, &st, err);
    if (!rc)
        rc = er_store_user_get(st, id, &u, err);
    if (rc && rc != ER_ENOTFOUND)
        return rc;
    out->gone = rc == ER_ENOTFOUND;
    if (!out->gone) {
        srv_user_from(&out->user, &u);
        er_user_release(&u);
    }
    return 0;
}

int srv_sessions_user(srv *s, const char *user_id, srv_user *out, er_error *err)
{
    entry e;
    uint64_t gen;
    if (!cached(s->sessions, user_id, false, &e, &gen)) {
        memset(&e, 0, sizeof e);
        er_strlcpy(e.id, user_id, sizeof e.id);
        int rc = fetch_user(s, user_id, &e, err);
        if (rc)
            return rc;
        e.fetched_ms = er_mono_ms();
        remember(s->sessions, &e, gen);
    }
    if (e.gone)
        return er_error_set(err, ER_EAUTH, "the token's user no longer exists");
    er_strlcpy(out->id, e.user.id, sizeof out->id);
    er_strlcpy(out->name, e.user.name, sizeof out->name);
    out->admin = e.user.admin; /* the stored role, not the token's claim */
    return 0;
}

static int fetch_session(srv *s, const char *id, entry *out, er_error *err)
{
    er_store *st;
    er_session ses;
    int rc = er_env_store(s->env, &st, err);
    if (!rc)
        rc = er_store_session_get(st, id, &ses, err);
    if (rc && rc != ER_ENOTFOUND)
        return rc;
    out->gone = rc == ER_ENOTFOUND;
    if (!out->gone) {
        memcpy(out->owner, ses.user_id, ER_ID_LEN);
        memcpy(out->token_id, ses.api_token_id, ER_ID_LEN);
        out->expires_ms = ses.expires_ms;
        out->revoked_ms = ses.revoked_ms;
    }
    return 0;
}

int srv_sessions_check(srv *s, const char *session_id, const char *user_id,
                       char token_id_out[ER_ID_LEN], er_error *err)
{
    entry e;
    uint64_t gen;
    if (!cached(s->sessions, session_id, true, &e, &gen)) {
        memset(&e, 0, sizeof e);
        er_strlcpy(e.id, session_id, sizeof e.id);
        e.is_session = true;
        int rc = fetch_session(s, session_id, &e, err);
        if (rc)
            return rc;
        e.fetched_ms = er_mono_ms();
        remember(s->sessions, &e, gen);
    }
    if (e.gone || strcmp(e.owner, user_id) != 0)
        return er_error_set(err, ER_EAUTH, "the token's session does not exist (log in again)");
    if (e.revoked_ms)
        return er_error_set(err, ER_EAUTH, "the token's session was revoked (log in again)");
    if (e.expires_ms <= er_time_ms())
        return er_error_set(err, ER_EAUTH, "the token's session has ended (log in again)");
    memcpy(token_id_out, e.token_id, ER_ID_LEN);
    return 0;
}

void srv_sessions_forget(srv *s, const char *id)
{
    pthread_mutex_lock(&s->sessions->lock);
    forget(s->sessions, id);
    pthread_mutex_unlock(&s->sessions->lock);
}

/* ---- the poller ---- */

static bool handled(srv_sessions *c, int64_t seq)
{
    size_t n = c->nrecent < RECENT ? c->nrecent : RECENT;
    for (size_t i = 0; i < n; i++)
        if (c->recent[i] == seq)
            return true;
    return false;
}

static int on_change(const er_auth_change *ch, void *payload)
{
    srv_sessions *c = payload;
    if (handled(c, ch->seq))
        return 0;
    c->recent[c->nrecent++ % RECENT] = ch->seq;
    if (ch->seq > c->high)
        c->high = ch->seq;
    srv_sessions_forget(c->s, ch->subject);
    int closed = srv_ws_close_for(c->s, ch->kind, ch->subject);
    er_log(ER_LOG_INFO, "auth", "%s %s changed or revoked%s", ch->kind, ch->subject,
           closed ? "; its WebSockets closed" : "");
    return 0;
}

static void poll_once(srv_sessions *c)
{
    er_store *st;
    er_error err = { 0 };
    if (er_env_store(c->s->env, &st, &err) ||
        er_store_auth_changes(st, c->high > LOOKBACK ? c->high - LOOKBACK : 0, 1000, on_change, c,
                              &err)) {
        er_log(ER_LOG_WARN, "auth", "cannot read auth changes: %s", err.msg);
        return;
    }
    int64_t now = er_time_ms();
    if (now - c->pruned_ms >= PRUNE_EVERY_MS) {
        c->pruned_ms = now;
        er_store_auth_changes_prune(st, now - KEEP_CHANGES_MS, NULL);
    }
}

/* A change committed before this server started concerns none of its
 * connections (they authenticate against what the store says now): it is
 * only remembered as handled, so the first poll's look back does not close
 * the sockets of a user whose role changed just before a restart. */
static int prime_change(const er_auth_change *ch, void *payload)
{
    srv_sessions *c = payload;
    if (!handled(c, ch->seq))
        c->recent[c->nrecent++ % RECENT] = ch->seq;
    return 0;
}

static void *poll_main(void *arg)
{
    srv_sessions *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += POLL_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
        if (c->stop)
            break;
        pthread_mutex_unlock(&c->lock);
        poll_once(c); /* takes the lock itself, per change */
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int srv_sessions_start(srv *s, er_error *err)
{
    srv_sessions *c = er_xcalloc(1, sizeof *c);
    c->s = s;
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    c->pruned_ms = er_time_ms() - PRUNE_EVERY_MS + 60000; /* the first prune a minute in */
    s->sessions = c;
    er_store *st;
    int rc = er_env_store(s->env, &st, err);
    if (!rc)
        rc = er_store_auth_changes_last(st, &c->high, err);
    if (!rc)
        rc = er_store_auth_changes(st, c->high > LOOKBACK ? c->high - LOOKBACK : 0, 1000,
                                   prime_change, c, err);
    if (!rc && pthread_create(&c->poller, NULL, poll_main, c) != 0)
        rc = er_error_set(err, ER_EINTERNAL, "cannot start the auth change poller");
    c->running = rc == 0;
    return rc;
}

void srv_sessions_stop(srv *s)
{
    srv_sessions *c = s->sessions;
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (c->running)
        pthread_join(c->poller, NULL);
    clear_all(c);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
    s->sessions = NULL;
}
