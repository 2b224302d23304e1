/* workspaces.h — where a task works and who answers its approval requests.
 *
 * A task submitted through errand serve (meta "server", tasks.h) belongs to
 * one of many users: it works in that user's own workspace,
 * ROOT/USER-ID under server.workspaces (default
 * $XDG_DATA_HOME/errand-workspaces), made on first use with mode 0700, so
 * no user sees another's files; and when its user is not an admin, its
 * approval requests for the permission classes server.admin_approval lists
 * wait for an administrator's answer (approval.h).  Its commands never run
 * unconfined (sandbox.h).  Any other task (errand ask, the TUI, a worker
 * serving them) works in agent.workspace and its requester answers.
 *
 * serve and worker check at start-up that no workspace they use contains
 * errand's own files or lies inside them (own_files.h) and refuse to start
 * otherwise. */
#ifndef ERRAND_WORKSPACES_H
#define ERRAND_WORKSPACES_H

#include "common.h"
#include "config.h"
#include "env.h"
#include "error.h"

typedef struct er_task_place {
    char *workspace;                    /* OWNED absolute directory */
    bool server;                        /* a task from errand serve */
    bool admin_approves[ER_PERM_COUNT]; /* its requests of that class wait for an admin */
} er_task_place;

/* Fills out for a task of user_id (server: from errand serve).  For a server
 * task the user's workspace is made when missing and the user's role read
 * from the store.  ER_EINVAL for a user id that cannot name a directory,
 * ER_EIO when the workspace cannot be made. */
int er_task_place_init(er_task_place *out, er_env *env, const char *user_id, bool server,
                       er_error *err);
void er_task_place_release(er_task_place *p);

/* OWNED: server.workspaces, or its default. */
char *er_workspaces_root(const er_config *cfg);

/* OWNED *out: ROOT/USER-ID, made (with ROOT) when missing, mode 0700; a
 * symlink or a file in its place is refused (ER_EDENIED). */
int er_workspace_for_user(char **out, const er_config *cfg, const char *user_id, er_error *err);

/* The start-up check: the users' root, and agent.workspace too when
 * with_local, neither contains errand's own files nor lies inside them. */
int er_workspaces_check(const er_config *cfg, bool with_local, er_error *err);

#endif
