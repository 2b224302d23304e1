/* walk.h — the directory walk under glob, grep and the lint file list: depth
 * first in byte order of names (a stable, sorted result), symlinks never
 * followed, every directory opened beneath the one above it without
 * following a link (so a swap cannot lead the walk outside the workspace),
 * `.git` never entered, errand's own files skipped, hidden names (a leading
 * '.') skipped unless asked for, and git's ignore rules (ignore.h) applied
 * unless asked not to.  The caller's cancel flag is read at every entry. */
#ifndef ERRAND_WALK_H
#define ERRAND_WALK_H

#include "common.h"
#include "ignore.h"
#include "workspace.h"

#define ER_WALK_VISIT_MAX 1000000
#define ER_WALK_DEPTH_MAX 64

enum er_walk_type { ER_WALK_FILE, ER_WALK_DIR, ER_WALK_OTHER };

typedef struct er_walker er_walker;
struct er_walker {
    const er_workspace *ws;
    const volatile int *cancel;
    bool hidden;    /* enter and report hidden names */
    bool no_ignore; /* no ignore rules */
    /* Called for every entry below the start (not the start itself); dirfd
     * holds it under name. */
    void (*visit)(er_walker *w, int dirfd, const char *name, const char *abs, const char *rel,
                  enum er_walk_type type);
    void *payload;
    /* Set by the walk. */
    size_t visited;
    size_t ignored; /* entries left out by an ignore rule */
    size_t hidden_skipped;
    bool stop; /* a cap was reached or the visitor asked to stop */
    bool cancelled;
    er_ignore *ig;
};

/* Walks below start (absolute, canonical, a directory inside the workspace). */
void er_walk(er_walker *w, const char *start);
/* Reads the cancel flag into w->stop/w->cancelled; true once cancelled. */
bool er_walk_cancelled(er_walker *w);

#endif
