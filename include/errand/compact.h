/* compact.h — conversations that outgrow the model's context window.
 *
 * A task's run gets its conversation's earlier messages as history.  When
 * those, the agent's system prompt and the request together would pass
 * llm.compact_at percent of the model's window (llm.context_window, or what
 * is known for the model), the older messages are summarised by the model
 * (offline: each cut short, with a marker saying so) and the summary stands
 * in for them: the history becomes the summary, fenced as data, followed by
 * the recent messages verbatim.  The request itself (the latest instruction)
 * is never part of what is summarised.
 *
 * The summary is stored (store_compact.h) and recorded as the task's
 * "compaction" event; the messages stay in the store, unchanged.  Later tasks
 * of the conversation (resumed with -c / -r, after a restart, on another
 * worker) start from the latest summary and the messages after it, and compact
 * again when those outgrow the window.  A process that dies while the model
 * summarises has stored nothing, and the next run compacts anew. */
#ifndef ERRAND_COMPACT_H
#define ERRAND_COMPACT_H

#include "common.h"
#include "env.h"
#include "llm.h"
#include "store.h"
#include <cjson/cJSON.h>

/* The context window assumed for a model (tokens): the setting when it is
 * positive, else a known figure for common model names, else 8192. */
long er_compact_window(const er_config *cfg, const char *model);
/* The compaction threshold (tokens): llm.compact_at percent (10–95, default
 * 80) of the model's window. */
long er_compact_limit(const er_config *cfg, const char *model);
/* A rough token count of text (about four bytes a token). */
int64_t er_compact_tokens(const char *text);
/* The tokens a request would carry: the system prompt, the messages and the
 * tool schemas as printed JSON (any may be NULL). */
int64_t er_compact_request_tokens(const char *system, const cJSON *messages, const cJSON *specs);

/* The history of task t's run (neutral message shape), compacted first when
 * it outgrows the window, as above.  lease (may be NULL): the event is
 * recorded only while it holds.  OWNED array, never NULL: an empty one for a
 * task without a conversation or a store; a compaction the model could not
 * write falls back to the offline cut for this run (stored nothing). */
cJSON *er_compact_history(er_env *env, const er_task *t, const cJSON *meta, const char *request,
                          const er_lease *lease);

/* What the supervisor routes with: the conversation's latest summary (fenced
 * as data) and its last `limit` messages after it, task t's own left out;
 * never compacts (the agent's run does).  OWNED array, never NULL. */
cJSON *er_compact_recent(er_env *env, const er_task *t, const cJSON *meta, int limit);

/* One long task: a run's own messages (msgs: the history and the request in
 * msgs[0, head), then the steps: assistant turns with their tool calls, tool
 * results) grow with every step.  When the request (system, msgs, specs)
 * would pass limit tokens, the older steps are folded into one summary: the
 * model writes it (llm offline or failing: each step cut short, said so),
 * prev (the summary standing at msgs[head] after an earlier compaction, or
 * NULL) folded in with them.  The newest steps that fit in a third of what
 * the fixed part (system, schemas, history, request) leaves are kept
 * verbatim, the last step always; the summary gets a quarter; the cut falls at
 * the start of a step, so a tool call never parts from its result.
 *
 * Returns the compaction as a record (OWNED; NULL: nothing to fold):
 * {"messages" (how many from msgs[head] it replaces), "summary", "model",
 * "steps", "tokens_before", "limit"}.  The
 * runtime records it as the step's event, so a replay applies the same one
 * instead of asking the model again. */
cJSON *er_compact_steps(er_llm *llm, long limit, const char *system, const cJSON *msgs,
                        const cJSON *specs, int head, const char *prev);
/* msgs[head, head + messages) replaced by the record's summary, fenced as
 * data; false (msgs unchanged) when the record does not fit msgs. */
bool er_compact_steps_apply(cJSON *msgs, int head, const cJSON *rec);

#endif
