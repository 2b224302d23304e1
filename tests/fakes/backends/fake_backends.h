/* fake_backends.h — fake store, bus and cache backends, for the tests of the
 * error paths of everything above the seams: a fake counts calls and can fail
 * call N.
 *
 * A fake wraps a real handle (a SQLite store, an in-process bus or cache) and
 * forwards every operation to it, counting each by name.  A test plans
 * failures: the nth call from now of an operation whose text contains a given
 * string fails with a code and a message, without reaching the real handle.
 * Operations are the names of the backend struct's fields ("exec", "query",
 * "transaction", "table_exists", "publish", "consume", "get", "set" …); the text
 * a call is matched on is its SQL (store), "EXCHANGE KEY" for a publish and the
 * queue otherwise (bus), its key or channel (cache), "" when it has none.
 * Calls inside a store transaction go through the fake too.
 *
 * Thread-safe: consumers and subscribers run on threads of their own.  Hand a
 * fake to an environment with er_env_adopt (env.h). */
#ifndef ERRAND_FAKE_BACKENDS_H
#define ERRAND_FAKE_BACKENDS_H

#include "errand/bus.h"
#include "errand/cache.h"
#include "errand/error.h"
#include "errand/store.h"

/* The counters and planned failures of one wrapped handle. */
typedef struct fake fake;

/* Wraps inner (TAKES it: closing the fake closes it).  *ctl_out is BORROWED
 * until the fake is closed. */
void fake_store_wrap(er_store **out, er_store *inner, fake **ctl_out);
void fake_bus_wrap(er_bus **out, er_bus *inner, fake **ctl_out);
void fake_cache_wrap(er_cache **out, er_cache *inner, fake **ctl_out);

/* Calls of op so far, failed ones included (op NULL: of every operation). */
long fake_calls(fake *f, const char *op);
/* Calls that planned failures failed so far. */
long fake_failed(fake *f);
/* The nth call from now (1: the next) of op (NULL: any) whose text contains
 * match (NULL: any text) fails with code.  Each plan fails one call; several
 * may wait at once (at most 8). */
void fake_fail(fake *f, const char *op, const char *match, long nth, int code);
/* Every such call fails with code, from now until fake_heal. */
void fake_fail_always(fake *f, const char *op, const char *match, int code);
/* Drops every plan. */
void fake_heal(fake *f);

/* ---- for the wrappers (fake.c) ---- */
fake *fake_new(const char *what);
void fake_free(fake *f);
/* Counts a call of op on text; 0, or the planned code with err set. */
int fake_hit(fake *f, const char *op, const char *text, er_error *err);

#endif
