/* store.h — durable state: users, conversations, messages, tasks, task events,
 * agent configs.  What everyone above the seam calls.
 *
 * The backend is chosen once by URL scheme in er_store_open (sqlite://, postgresql://).
 * The handle is thread-safe: any thread may call any function.
 * Row structs handed to list callbacks are BORROWED for the duration of the call. */
#ifndef ERRAND_STORE_H
#define ERRAND_STORE_H

#include "common.h"
#include "error.h"

typedef struct er_store er_store;

typedef enum {
    ER_TASK_QUEUED = 0,
    ER_TASK_ROUTED,
    ER_TASK_RUNNING,
    ER_TASK_DONE,
    ER_TASK_FAILED,
    ER_TASK_CANCELLED
} er_task_status;

const char *er_task_status_name(er_task_status s);
int er_task_status_parse(const char *name, er_task_status *out);
static inline bool er_task_status_final(er_task_status s)
{
    return s >= ER_TASK_DONE;
}

typedef struct er_user {
    char id[ER_ID_LEN];
    char *name;
    char *role; /* "admin" or "user" */
    int64_t created_ms;
} er_user;

typedef struct er_conversation {
    char id[ER_ID_LEN];
    char user_id[ER_ID_LEN];
    char *title;
    int64_t created_ms;
    int64_t updated_ms;
} er_conversation;

typedef struct er_message {
    int64_t id;
    char conversation_id[ER_ID_LEN];
    char task_id[ER_ID_LEN]; /* "" when none */
    char *role;              /* "user", "assistant" */
    char *content;
    int64_t created_ms;
} er_message;

typedef struct er_task {
    char id[ER_ID_LEN];
    char parent_id[ER_ID_LEN];       /* "" for a top-level task */
    char conversation_id[ER_ID_LEN]; /* "" when none */
    char user_id[ER_ID_LEN];
    char trace_id[ER_ID_LEN];
    char *agent; /* NULL until routed */
    char *request;
    char *result; /* the final answer */
    char *error;  /* why it failed */
    char *meta;   /* JSON object text: options, routing decision */
    er_task_status status;
    int64_t tokens_in;
    int64_t tokens_out;
    int64_t created_ms;
    int64_t updated_ms;
    int attempt;         /* attempts taken so far (leases below); 0 before */
    int64_t deadline_ms; /* wall clock; 0 until it first runs (leases below) */
} er_task;

typedef struct er_event {
    int64_t id; /* increasing: the order events happened in */
    char task_id[ER_ID_LEN];
    char *step_key; /* idempotency key ("llm:3"), or NULL */
    char *kind;     /* "routed", "llm", "tool_call", "tool_result", ... */
    char *data;     /* JSON text */
    int64_t created_ms;
} er_event;

typedef struct er_task_filter {
    const char *user_id;   /* NULL: any */
    const char *parent_id; /* NULL: any; "" top-level only */
    const char *conversation_id;
    int status; /* -1: any */
    int limit;  /* 0: 100 */
    bool open;  /* only those not ended (queued, routed, running) */
} er_task_filter;

typedef int (*er_user_fn)(const er_user *u, void *payload); /* nonzero stops */
typedef int (*er_conv_fn)(const er_conversation *c, void *payload);
typedef int (*er_msg_fn)(const er_message *m, void *payload);
typedef int (*er_task_fn)(const er_task *t, void *payload);
typedef int (*er_event_fn)(const er_event *e, void *payload);

/* url: "sqlite:///path/to/db", "sqlite::memory:", "postgresql://…".  Opening
 * does not migrate; call er_store_migrate (the CLI does on start). */
int er_store_open(er_store **out, const char *url, er_error *err);
void er_store_close(er_store *st);
const char *er_store_scheme(const er_store *st);
int er_store_ping(er_store *st, er_error *err);
/* Applies missing migrations in order; *applied gets how many (may be NULL). */
int er_store_migrate(er_store *st, int *applied, er_error *err);
int er_store_schema_version(er_store *st, int *out, er_error *err);
/* Highest migration version compiled in for this store's dialect. */
int er_store_latest_version(const er_store *st);
/* Runs fn inside one transaction: the store calls fn makes on this thread join
 * it (one commit for several writes).  Commits when fn returns 0, rolls back
 * otherwise and returns fn's code.  fn must not wait for other threads that
 * use the store. */
typedef int (*er_store_tx_fn)(er_store *st, void *payload, er_error *err);
int er_store_transaction(er_store *st, er_store_tx_fn fn, void *payload, er_error *err);
/* Runs fn with one view of the store: the queries fn makes on this thread
 * read one snapshot and (SQLite) share one read transaction, so one lock is
 * taken instead of one per query.  For reads only: fn must not write.  Returns
 * fn's code. */
int er_store_read(er_store *st, er_store_tx_fn fn, void *payload, er_error *err);

/* Users.  ensure: creates the user or finds it by name; a non-NULL role
 * ("admin", "user") replaces the stored one, NULL keeps it ("user" when new). */
int er_store_user_ensure(er_store *st, const char *name, const char *role, char id_out[ER_ID_LEN],
                         er_error *err);
int er_store_user_get(er_store *st, const char *id_or_name, er_user *out, er_error *err);
int er_store_user_list(er_store *st, er_user_fn fn, void *payload, er_error *err);
/* Changes the role of an existing user ("admin", "user"); ER_ENOTFOUND. */
int er_store_user_set_role(er_store *st, const char *id_or_name, const char *role, er_error *err);
/* Deletes a user with their conversations, API tokens and sessions (tasks
 * keep their rows); ER_ENOTFOUND. */
int er_store_user_delete(er_store *st, const char *id_or_name, er_error *err);
void er_user_release(er_user *u);

/* Conversations and messages.  create: ER_ENOTFOUND when user_id is not a user.
 * list: most recently active first; user_id NULL lists all; limit <= 0: no limit.
 * msg_append: ER_ENOTFOUND when there is no such conversation. */
int er_store_conv_create(er_store *st, const char *user_id, const char *title,
                         char id_out[ER_ID_LEN], er_error *err);
int er_store_conv_get(er_store *st, const char *id, er_conversation *out, er_error *err);
int er_store_conv_list(er_store *st, const char *user_id, int limit, er_conv_fn fn, void *payload,
                       er_error *err);
int er_store_msg_append(er_store *st, const char *conv_id, const char *role, const char *content,
                        const char *task_id, er_error *err);
/* Oldest first; limit 0 means all, otherwise the newest `limit` messages. */
int er_store_msg_list(er_store *st, const char *conv_id, int limit, er_msg_fn fn, void *payload,
                      er_error *err);
/* Deletes a conversation with its messages (its tasks keep their rows);
 * ER_ENOTFOUND. */
int er_store_conv_delete(er_store *st, const char *id, er_error *err);
void er_conversation_release(er_conversation *c);

/* Tasks.  create fills t->id (when empty), created_ms and updated_ms;
 * ER_EEXISTS when a task with that id exists. */
int er_store_task_create(er_store *st, er_task *t, er_error *err);
int er_store_task_get(er_store *st, const char *id, er_task *out, er_error *err);
int er_store_task_list(er_store *st, const er_task_filter *f, er_task_fn fn, void *payload,
                       er_error *err);
/* Moves a task's status forward and sets whichever of the fields are non-NULL
 * (agent, result, error, meta) and adds the token counts.  Status only moves
 * forward: a move to an earlier or equal-and-final status gives ER_ECONFLICT and
 * changes nothing.  to == current non-final status is allowed (field update). */
typedef struct er_task_update {
    const char *agent;
    const char *result;
    const char *error;
    const char *meta;
    int64_t tokens_in;
    int64_t tokens_out;
    int attempt; /* nonzero: only if the task's attempt (leases below) is still this
                        one, else ER_ECONFLICT: a stale attempt's outcome is dropped */
} er_task_update;
int er_store_task_advance(er_store *st, const char *id, er_task_status to,
                          const er_task_update *upd, er_error *err);
int er_store_task_status(er_store *st, const char *id, er_task_status *out, er_error *err);
/* Which of ids[0..n) have ended (done, failed or cancelled, here or by another
 * process: a user's cancel, the watchdog): out[i] set for each (n <=
 * ER_STORE_IDS_MAX).  One statement for them all, so a process watching many
 * running tasks polls the store once, not once per task. */
#define ER_STORE_IDS_MAX 31 /* + the status: the backends bind at most 32 parameters */
int er_store_tasks_ended(er_store *st, const char (*ids)[ER_ID_LEN], size_t n, bool *out,
                         er_error *err);
/* How many tasks (top-level and children) have each status: counts[status]. */
int er_store_task_counts(er_store *st, int64_t counts[ER_TASK_CANCELLED + 1], er_error *err);
void er_task_release(er_task *t);
/* An OWNED copy of t (a list callback's row is BORROWED): release with er_task_release. */
void er_task_copy(er_task *out, const er_task *t);

/* Task events.  With a step_key, adding is idempotent: a second add with the same
 * (task_id, step_key) changes nothing and sets *id_out to 0.  ER_ENOTFOUND when
 * the task is not stored (a task is a row before it has events). */
int er_store_event_add(er_store *st, const char *task_id, const char *step_key, const char *kind,
                       const char *data_json, int64_t *id_out, er_error *err);
int er_store_event_list(er_store *st, const char *task_id, int64_t after_id, er_event_fn fn,
                        void *payload, er_error *err);
/* ER_ENOTFOUND when no event has that key. out released with er_event_release. */
int er_store_event_find(er_store *st, const char *task_id, const char *step_key, er_event *out,
                        er_error *err);
void er_event_release(er_event *e);

/* Task leases: who may act for a task (fencing).  A worker about to run a task
 * takes it: the task moves to running, its attempt number goes up by one, and
 * every earlier attempt has lost it, however alive it thinks it is (a worker
 * frozen past the broker's heartbeat, cut off by a partition, whose message
 * went to another worker).  An attempt records its steps with
 * er_store_event_add_leased, which stores the row only while the lease holds,
 * in the same statement; and checks er_store_lease_check before each side
 * effect.  A task that has ended holds no lease at all.
 *
 * The first take also sets the task's deadline (now + budget_ms; later takes
 * keep it): a task still open past it was lost by every worker, and whoever
 * notices fails it (er_store_tasks_overdue lists them). */
typedef struct er_lease {
    char task_id[ER_ID_LEN];
    int attempt;         /* 1 for the first attempt */
    int64_t deadline_ms; /* the task's deadline, wall clock; 0: none */
} er_lease;
/* owner: who takes it (er_owner_self()), kept for messages; budget_ms <= 0: no
 * deadline.  ER_ECONFLICT when the task has ended, ER_ENOTFOUND when there is
 * no such task. */
int er_store_task_take(er_store *st, const char *id, const char *owner, int64_t budget_ms,
                       er_lease *out, er_error *err);
/* 0 while lease is the task's current attempt and the task has not ended;
 * otherwise ER_ECONFLICT, the message saying what became of it. */
int er_store_lease_check(er_store *st, const er_lease *lease, er_error *err);
/* er_store_event_add for the lease's task, stored only if the lease holds when
 * the statement runs: ER_ECONFLICT (nothing stored) once it was lost.  With a
 * step key stored before (by an earlier attempt): 0 and *id_out 0, as there. */
int er_store_event_add_leased(er_store *st, const er_lease *lease, const char *step_key,
                              const char *kind, const char *data_json, int64_t *id_out,
                              er_error *err);
/* Tasks not ended whose deadline is before now_ms, oldest first, at most limit. */
int er_store_tasks_overdue(er_store *st, int64_t now_ms, int limit, er_task_fn fn, void *payload,
                           er_error *err);

/* Task waits: a task parked on a person's answer to an approval request holds
 * no worker (waits.h).  The attempt that parks it records the wait under its
 * lease; whoever ends the wait (the answer, its expiry) deletes the row, which
 * only one of them can, and sends the task back to its agent.  A parked task
 * stays running; its deadline (leases above) does not run while it waits. */
typedef struct er_task_wait {
    char task_id[ER_ID_LEN];
    char *call_id;  /* the tool call that waits */
    char *step_key; /* the event the answer is recorded as */
    char *tool;
    bool admin_only; /* only an administrator's answer counts */
    int64_t created_ms;
    int64_t expires_ms; /* unanswered by then: denied */
} er_task_wait;
typedef int (*er_wait_fn)(const er_task_wait *w, void *payload); /* nonzero stops */
/* Records w for the lease's task (w->task_id is ignored): ER_ECONFLICT when the
 * lease is lost; a wait already recorded for the task is kept (*fresh false). */
int er_store_wait_park(er_store *st, const er_lease *lease, const er_task_wait *w, bool *fresh,
                       er_error *err);
/* The task's wait; ER_ENOTFOUND when it waits for nothing. */
int er_store_wait_get(er_store *st, const char *task_id, er_task_wait *out, er_error *err);
/* Ends the wait of task_id for call_id and moves the task's deadline on by the
 * time it waited.  ER_ENOTFOUND when there is none (never parked, or ended by
 * another answer a moment before): then the caller must not resume the task. */
int er_store_wait_end(er_store *st, const char *task_id, const char *call_id, er_error *err);
/* Waits past their expiry at now_ms, or whose task has ended, at most limit. */
int er_store_waits_due(er_store *st, int64_t now_ms, int limit, er_wait_fn fn, void *payload,
                       er_error *err);
void er_task_wait_release(er_task_wait *w);

/* Agent configs: one JSON object per agent name. */
int er_store_agent_config_get(er_store *st, const char *agent, char **json_out, er_error *err);
int er_store_agent_config_set(er_store *st, const char *agent, const char *json, er_error *err);

#endif
