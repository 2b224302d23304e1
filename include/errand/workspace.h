/* workspace.h — confinement of file tools to the workspace root.
 *
 * Every path a tool receives goes through er_workspace_resolve(): it is taken
 * relative to the root (or absolute), resolved with realpath semantics — `..`,
 * `.` and symlinks — and refused unless the result lies inside the root.  A
 * path that does not exist yet (a file to create) is checked through its
 * deepest existing parent; the missing part may not contain `..` and may not
 * pass through a dangling symlink.  Errors name the path and the root:
 * "path '../x' is outside the workspace /abs/root".
 *
 * Between the check and the use another process may swap a directory or the
 * file for a symlink.  The tools therefore open what they resolved with
 * er_workspace_open() and make directories with er_workspace_mkdirs(): the
 * kernel resolves the path again beneath the root (openat2 RESOLVE_BENEATH),
 * so the swap gets a refusal, not a file outside.
 *
 * errand's own files (own_files.h) are refused wherever they are, inside the
 * root too: "path 'data/errand/jwt.secret' is inside errand's data directory
 * …".  Walks skip them (er_workspace_denied). */
#ifndef ERRAND_WORKSPACE_H
#define ERRAND_WORKSPACE_H

#include "common.h"
#include "error.h"
#include "own_files.h"

typedef struct er_workspace {
    char *root; /* canonical absolute root, no trailing slash (except "/") */
    size_t rootlen;
    er_own_files own; /* refused wherever they are */
} er_workspace;

/* Canonicalises root (which must exist and be a directory); ER_ENOTFOUND
 * otherwise.  Guards errand's XDG directories (own_files.h). */
int er_workspace_init(er_workspace *ws, const char *root, er_error *err);
/* Guards the files cfg names as well (its database, config and log files). */
void er_workspace_guard(er_workspace *ws, const er_config *cfg);
void er_workspace_release(er_workspace *ws);

/* BORROWED: the own file abs (canonical) is or lies in, or NULL. */
const er_own_file *er_workspace_denied(const er_workspace *ws, const char *abs);

/* OWNED *out: the canonical absolute path of `path` inside the workspace.
 * ER_EDENIED when it escapes, ER_EINVAL for an empty or over-long path,
 * ER_EIO when a component cannot be examined. */
int er_workspace_resolve(char **out, const er_workspace *ws, const char *path, er_error *err);

/* Opens abs (from er_workspace_resolve) with open(2) flags, resolving it again
 * beneath the root so that a symlink put in its way since then cannot lead
 * outside (ER_EDENIED).  Where openat2 is missing the final component is not
 * followed (O_NOFOLLOW) and the opened file's real path is checked instead.
 * OWNED *out descriptor; ER_ENOTFOUND when it does not exist, ER_EIO else. */
int er_workspace_open(int *out, const er_workspace *ws, const char *abs, int flags, er_error *err);

/* Creates the directories of abs that do not exist yet, below the root, one
 * component at a time without following symlinks. */
int er_workspace_mkdirs(const er_workspace *ws, const char *abs, er_error *err);

/* True when abs (canonical) is the root or lies beneath it. */
bool er_workspace_contains(const er_workspace *ws, const char *abs);

/* BORROWED pointer into abs: the path relative to the root, "." for the root
 * itself, abs unchanged when it is outside. */
const char *er_workspace_rel(const er_workspace *ws, const char *abs);

#endif
