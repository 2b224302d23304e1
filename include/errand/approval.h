/* approval.h — asking the requester before a side-effecting tool runs.
 *
 * The runtime publishes an "approval_request" event ({call_id, tool, arguments,
 * perm, agent, approver, and when there are some reason and preview}) on
 * the task's root channel and waits for an answer on
 * channel "approval:{task_id}": {"call_id": "…", "decision": "allow" | "deny" |
 * "always", "by": USER-ID, "admin": BOOL}.  Any front end following the task
 * (REPL, TUI, WebSocket client) may answer, in any process: the cache's
 * pub/sub carries it.
 *
 * approver is "requester" or "admin".  A request that needs an admin (a
 * server task of a user who is not one, for a class in server.admin_approval:
 * workspaces.h) takes only answers marked admin: the server marks an answer
 * with its user's role, and a local front end's (er_approval_answer) is the
 * local user's, who owns everything.  Other answers are ignored (and logged);
 * the server refuses them before they are sent.
 *
 * A worker does not wait for the answer: it parks the task (park.h), and the
 * answer functions below resume it; er_approval_ask is the waiting form, for
 * a run without a lease or when the store cannot record the wait. */
#ifndef ERRAND_APPROVAL_H
#define ERRAND_APPROVAL_H

#include "common.h"
#include "env.h"
#include "config.h"

typedef enum { ER_APPROVAL_DENY = 0, ER_APPROVAL_ALLOW, ER_APPROVAL_ALWAYS } er_approval_decision;

typedef struct er_approval_req {
    const char *root_id;
    const char *task_id;
    const char *call_id;
    const char *tool;
    const char *arguments; /* JSON text */
    er_perm perm;
    const char *agent;
    int64_t timeout_ms;
    const volatile int *cancel;
    bool admin_only;     /* only an administrator's answer counts */
    const char *reason;  /* why it is asked although the policy or --yes would allow it
                                (it follows untrusted content), or NULL */
    const char *preview; /* what the call would change (er_tool_preview), or NULL */
} er_approval_req;

/* Publishes req's "approval_request" event (what er_approval_ask and a parked
 * task, park.h, both do). */
int er_approval_announce(er_env *env, const er_approval_req *req, er_error *err);
/* Waits for the answer; a timeout or cancellation is a DENY (with *why set). */
int er_approval_ask(er_env *env, const er_approval_req *req, er_approval_decision *out,
                    const char **why, er_error *err);
/* Publishes an answer of the local user (what the terminal front ends call). */
int er_approval_answer(er_env *env, const char *task_id, const char *call_id,
                       er_approval_decision d, er_error *err);
/* Publishes the answer of user by_id, an admin or not (what the server calls). */
int er_approval_answer_as(er_env *env, const char *task_id, const char *call_id,
                          er_approval_decision d, const char *by_id, bool by_admin, er_error *err);
const char *er_approval_name(er_approval_decision d);
int er_approval_parse(const char *s, er_approval_decision *out);

#endif
