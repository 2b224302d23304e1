/* env.h — the process's handles: configuration and lazily opened backends.
 *
 * Start-up is lazy: a backend is opened (and libcurl or a network client loaded)
 * the first time something asks for it.  Getters are thread-safe and return the
 * same BORROWED handle each time, valid until er_env_close(). */
#ifndef ERRAND_ENV_H
#define ERRAND_ENV_H

#include "common.h"
#include "error.h"
#include "config.h"
#include "store.h"
#include "bus.h"
#include "cache.h"
#include "llm.h"
#include "memory.h"

typedef struct er_env er_env;

/* TAKES cfg (released by er_env_close). */
int er_env_new(er_env **out, er_config *cfg, er_error *err);
void er_env_close(er_env *env);
er_config *er_env_config(er_env *env);
/* Opens and migrates the store on first use. */
int er_env_store(er_env *env, er_store **out, er_error *err);
int er_env_bus(er_env *env, er_bus **out, er_error *err);
int er_env_cache(er_env *env, er_cache **out, er_error *err);
int er_env_llm(er_env *env, er_llm **out, er_error *err);
/* Shared memory over the store (opened with it; memory.* settings). */
int er_env_memory(er_env *env, er_memory **out, er_error *err);
/* The process's browsers (browser_pool.h), set up on first use from the
 * browser.* settings; no browser starts until a tool asks for one. */
typedef struct er_browser_pool er_browser_pool;
int er_env_browsers(er_env *env, er_browser_pool **out, er_error *err);
/* The configured MCP servers (mcp.h), connected to as agents ask for them. */
struct er_mcp;
int er_env_mcp(er_env *env, struct er_mcp **out, er_error *err);
/* Hands env handles it would otherwise open on first use — fake backends in
 * tests (tests/fakes/backends/), or handles an embedder opened itself.  TAKES
 * each one that is not NULL (er_env_close closes it); call before anything
 * asks env for that handle.  A store is used as it is: migrate it first. */
void er_env_adopt(er_env *env, er_store *st, er_bus *bus, er_cache *cache);
/* The local user's id (created on first use). */
int er_env_user_id(er_env *env, char out[ER_ID_LEN], er_error *err);
/* Process-wide cancellation: *flag is set to 1 when a cancel for task_id arrives on
 * the "control" channel (from any process sharing the cache), or when the store
 * says the task has ended (polled: cancelled, or failed by the watchdog, by a
 * process that shares only the store).  The flag must stay valid until
 * er_env_unwatch_cancel(env, flag). */
int er_env_watch_cancel(er_env *env, const char *task_id, volatile int *flag, er_error *err);
void er_env_unwatch_cancel(er_env *env, volatile int *flag);
/* Calls fn(env, payload) every interval_ms on a thread of the environment,
 * until er_env_close stops and joins it (before it closes the handles fn may
 * use).  One ticker per environment: later calls change nothing. */
int er_env_tick(er_env *env, int interval_ms, void (*fn)(er_env *env, void *payload), void *payload,
                er_error *err);
/* Sets the flags watching task_id in this process (what the control channel does). */
void er_env_cancel_local(er_env *env, const char *task_id);
/* Asks the consumers to stop taking messages (returns at once). */
void er_env_stop(er_env *env);
/* Closes the bus: waits until the consumers have finished (or handed back) the
 * messages in hand; the other handles stay open.  er_env_close does it too. */
void er_env_drain(er_env *env);
/* A worker's shutdown cannot wait any longer: raises every cancellation flag
 * watched now or later and marks the environment interrupted, so handlers hand
 * their messages back to the queue (ER_BUS_REQUEUE) instead of ending the tasks. */
void er_env_interrupt(er_env *env);
bool er_env_interrupted(er_env *env);

#endif
