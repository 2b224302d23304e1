/* store_compact.h — the store's part of conversation compaction (compact.h):
 * summaries of a conversation's older messages.
 *
 * A compaction covers the conversation's messages up to and including one
 * message id; the messages themselves are never changed or deleted, so the
 * full history stays readable (errand conv show, the API).  A compaction is
 * one INSERT: a process that dies while the model writes the summary leaves
 * nothing half-done, and the next request compacts again. */
#ifndef ERRAND_STORE_COMPACT_H
#define ERRAND_STORE_COMPACT_H

#include "store.h"

typedef struct er_compaction {
    int64_t id;
    char conversation_id[ER_ID_LEN];
    int64_t through_msg_id; /* the newest message the summary covers */
    char *summary;
    char task_id[ER_ID_LEN]; /* the task whose request set it off; "" none */
    char *model;             /* who wrote it ("offline": truncated, not summarised) */
    int64_t messages;        /* messages it covers, earlier compactions' included */
    int64_t tokens_before;   /* estimated tokens of what it replaces */
    int64_t created_ms;
} er_compaction;

/* Stores c (c->created_ms is set; c->id is not read).  ER_ENOTFOUND when there is no
 * such conversation. */
int er_store_compaction_add(er_store *st, er_compaction *c, er_error *err);
/* The conversation's compaction covering the most messages; ER_ENOTFOUND
 * when it has none.  out released with er_compaction_release. */
int er_store_compaction_latest(er_store *st, const char *conv_id, er_compaction *out,
                               er_error *err);
void er_compaction_release(er_compaction *c);
/* The conversation's messages with an id above after_id, oldest first (what
 * a compaction does not cover).  Rows BORROWED for the call, as in store.h. */
int er_store_msg_list_after(er_store *st, const char *conv_id, int64_t after_id, er_msg_fn fn,
                            void *payload, er_error *err);

#endif
