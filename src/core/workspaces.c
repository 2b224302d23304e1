/* workspaces.c — each server user's own workspace, approvals by role, and
 * the start-up check that keeps errand's files out of every workspace (see
 * workspaces.h). */
#include "errand/workspaces.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/own_files.h"
#include "errand/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define USER_ID_MAX 64

char *er_workspaces_root(const er_config *cfg)
{
    if (!er_str_empty(cfg->workspaces))
        return er_path_canonical(cfg->workspaces);
    /* Beside errand's data directory, never in it: $XDG_DATA_HOME/errand-workspaces. */
    char *data = er_xdg_dir("data", false, NULL);
    char *root = er_xasprintf("%s-workspaces", data ? data : "errand");
    char *canon = er_path_canonical(root);
    free(data);
    free(root);
    return canon;
}

/* User ids are UUIDs: anything else could climb out of the root. */
static bool safe_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > USER_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '-' || id[i] == '_'))
            return false;
    return true;
}

/* mkdir mode 0700 unless it exists as a real directory (not a symlink). */
static int make_private(const char *dir, er_error *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return er_error_set(err, ER_EIO, "cannot create the workspace %s: %s", dir,
                            strerror(errno));
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return er_error_set(err, ER_EDENIED,
                            "workspace %s is not a directory (a symlink or a "
                            "file is in its place); not using it",
                            dir);
    return 0;
}

int er_workspace_for_user(char **out, const er_config *cfg, const char *user_id, er_error *err)
{
    *out = NULL;
    if (!safe_id(user_id))
        return er_error_set(err, ER_EINVAL, "user id '%.64s' cannot name a workspace",
                            user_id ? user_id : "");
    char *root = er_workspaces_root(cfg);
    /* The root's parents as needed (their mode is not ours to choose). */
    for (char *p = root + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(root, 0755);
            *p = '/';
        }
    }
    int rc = mkdir(root, 0700) != 0 && errno != EEXIST
                 ? er_error_set(err, ER_EIO, "cannot create server.workspaces %s: %s", root,
                                strerror(errno))
                 : 0;
    char *dir = er_xasprintf("%s/%s", root, user_id);
    if (!rc)
        rc = make_private(dir, err);
    free(root);
    if (rc) {
        free(dir);
        return rc;
    }
    *out = dir;
    return 0;
}

/* Which classes wait for an admin: server.admin_approval, for users who
 * are not admins. */
static int approvers(er_task_place *p, er_env *env, const char *user_id, er_error *err)
{
    const char *list = er_env_config(env)->admin_approval;
    if (er_str_empty(list))
        return 0;
    er_store *st;
    er_user u;
    int rc = er_env_store(env, &st, err);
    if (!rc)
        rc = er_store_user_get(st, user_id, &u, err);
    if (rc)
        return rc;
    bool admin = er_str_eq(u.role, "admin");
    er_user_release(&u);
    for (const char *w = list; !admin && *w;) {
        size_t n = strcspn(w, ", ");
        char name[16];
        er_perm perm;
        if (n < sizeof name) {
            memcpy(name, w, n);
            name[n] = '\0';
            if (er_perm_parse(name, &perm) == 0)
                p->admin_approves[perm] = true;
        }
        w += n;
        w += strspn(w, ", ");
    }
    return 0;
}

int er_task_place_init(er_task_place *out, er_env *env, const char *user_id, bool server,
                       er_error *err)
{
    memset(out, 0, sizeof *out);
    out->server = server;
    const er_config *cfg = er_env_config(env);
    if (!server) {
        out->workspace = er_xstrdup(cfg->workspace);
        return 0;
    }
    int rc = er_workspace_for_user(&out->workspace, cfg, user_id, err);
    if (!rc)
        rc = approvers(out, env, user_id, err);
    if (rc)
        er_task_place_release(out);
    return rc;
}

void er_task_place_release(er_task_place *p)
{
    free(p->workspace);
    p->workspace = NULL;
}

int er_workspaces_check(const er_config *cfg, bool with_local, er_error *err)
{
    er_own_files own;
    er_own_files_init(&own, cfg);
    char *root = er_workspaces_root(cfg);
    int rc = er_own_files_check_dir(&own, root, "server.workspaces", err);
    if (!rc && with_local)
        rc = er_own_files_check_dir(&own, cfg->workspace, "the workspace", err);
    free(root);
    er_own_files_release(&own);
    return rc;
}
