/* events.h — task events: stored as rows and published for followers.
 *
 * Channel "events:{root_task_id}" carries every event of a task and its
 * children (tokens included, which are not stored); channel "events" carries
 * step events of all tasks (monitors); "control" carries cancellations;
 * "approval:{task_id}" carries answers to approval requests.
 * Published messages are JSON: {"id","task_id","root","kind","data","ts"}. */
#ifndef ERRAND_EVENTS_H
#define ERRAND_EVENTS_H

#include "common.h"
#include "error.h"
#include "env.h"
#include <cjson/cJSON.h>

#define ER_CHANNEL_ALL     "events"
#define ER_CHANNEL_CONTROL "control"

/* Stores (unless kind is "token") and publishes.  TAKES data (may be NULL).
 * With a step_key already stored, nothing is stored or published again. */
int er_event_emit(er_env *env, const char *root_id, const char *task_id, const char *step_key,
                  const char *kind, cJSON *data, er_error *err);
/* er_event_emit by an attempt that holds lease (NULL: none; task_id must be the
 * lease's task): nothing is stored or published, and ER_ECONFLICT returned, once
 * the attempt has lost the task (store.h, leases).  *stored (may be NULL) says
 * whether this call stored it: false for a step key an earlier attempt stored,
 * whose recorded value the caller must then adopt, never its own. */
int er_event_emit_leased(er_env *env, const er_lease *lease, const char *root_id,
                         const char *task_id, const char *step_key, const char *kind, cJSON *data,
                         bool *stored, er_error *err);
/* Publishes a streamed text delta on the root's channel (not stored). */
void er_event_token(er_env *env, const char *root_id, const char *task_id, const char *agent,
                    const char *text, size_t len);
void er_event_channel(const char *root_id, char *out, size_t outsize);

#endif
