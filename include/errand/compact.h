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
#include "store.h"
#include <cjson/cJSON.h>

/* The context window assumed for a model (tokens): the setting when it is
 * positive, else a known figure for common model names, else 8192. */
long er_compact_window(const er_config *cfg, const char *model);
/* A rough token count of text (about four bytes a token). */
int64_t er_compact_tokens(const char *text);

/* The history of task t's run (neutral message shape), compacted first when
 * it outgrows the window, as above.  lease (may be NULL): the event is
 * recorded only while it holds.  OWNED array, never NULL: an empty one for a
 * task without a conversation or a store; a compaction the model could not
 * write falls back to the offline cut for this run (stored nothing). */
cJSON *er_compact_history(er_env *env, const er_task *t, const cJSON *meta, const char *request,
                          const er_lease *lease);

#endif
