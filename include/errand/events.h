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

#define ER_CHANNEL_ALL "events"
#define ER_CHANNEL_CONTROL "control"

/* Stores (unless kind is "token") and publishes.  TAKES data (may be NULL).
 * With a step_key already stored, nothing is stored or published again. */
int er_event_emit(er_env *env, const char *root_id, const char *task_id,
                  const char *step_key, const char *kind, cJSON *data, er_error *err);
/* Publishes a streamed text delta on the root's channel (not stored). */
void er_event_token(er_env *env, const char *root_id, const char *task_id,
                    const char *agent, const char *text, size_t len);
void er_event_channel(const char *root_id, char *out, size_t outsize);

#endif
