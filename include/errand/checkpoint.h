/* checkpoint.h — what the file tools changed, so `errand undo` can put it back.
 *
 * Before write_file or edit_file replaces or creates a file of the workspace,
 * the file's content (or that it did not exist) is kept the first time each
 * step of the task touches it, and after every write the SHA-256 of what the
 * tool wrote.  A checkpoint is one top-level task's record: every file it
 * changed, step by step (the step of the task's own agent: a subagent's
 * changes belong to the step that delegated to it, and name the subagent).
 * Undoing it restores those files as they were before the task, or before
 * step N of it (undoing steps N..last, newest first: each file gets the
 * content it had when step N or the first later step that changed it began),
 * and removes the ones created since, refusing, file by file named, when a
 * file changed since the task last wrote it unless forced.  Steps undone stay
 * undone: a later undo covers only the earlier steps.  Records of older
 * versions carry no step: they count as step 0, undone with the whole task.
 *
 * Checkpoints live in $XDG_DATA_HOME/errand/checkpoints/TASK/ (errand's own
 * files: no tool can read or change them).  The index of a checkpoint is
 * appended under an exclusive flock: a task's parallel tool calls and the
 * processes of one host share it.  What a `run` command changes joins
 * the task's checkpoint too: the workspace is snapshotted before it
 * (snapshot.h) and compared after; a file it deleted is restored, one it
 * created removed.  Commands run by `test` and `lint` are not checkpointed. */
#ifndef ERRAND_CHECKPOINT_H
#define ERRAND_CHECKPOINT_H

#include "common.h"
#include "error.h"
#include <cjson/cJSON.h>

#define ER_CHECKPOINT_FILE_MAX (16u * 1024 * 1024) /* bytes of one file kept */

/* Who changes a file: the task, its step, the agent or subagent. */
typedef struct er_checkpoint_at {
    const char *task_id;
    int step;          /* the top-level agent's step (1, 2, …); 0: not known */
    const char *agent; /* "code" or "code/writer"; NULL: not known */
} er_checkpoint_at;

/* Records that at->task_id is about to write next[0..nlen) over root/rel, which
 * existed with old[0..olen) and mode (existed false: old is ignored). */
int er_checkpoint_record(const er_checkpoint_at *at, const char *root, const char *rel,
                         bool existed, const char *old, size_t olen, unsigned mode,
                         const char *next, size_t nlen, er_error *err);

/* The same for a change seen after the fact (a command's, snapshot.h): after
 * is the SHA-256 (hex) of what the file is now, NULL when it is gone. */
int er_checkpoint_record_seen(const er_checkpoint_at *at, const char *root, const char *rel,
                              bool existed, const char *old, size_t olen, unsigned mode,
                              const char *after, er_error *err);

/* What undo compares with: the SHA-256 (hex) of the file at path, or
 * "absent" when there is none. */
int er_checkpoint_file_hash(const char *path, char out[65], er_error *err);

/* The checkpoints, newest first: [{"id", "created_ms", "root", "files": [...],
 * "undone": bool, "undone_from"?: N, "steps": [{"step", "agents": [...],
 * "files": [...], "undone": bool}]}].  OWNED: cJSON_Delete. */
int er_checkpoint_list(cJSON **out, er_error *err);

/* Undoes checkpoint id (a task id or a unique prefix of one; NULL: the newest
 * not undone yet) from step from_step on (0: the whole task).  *out (OWNED,
 * cJSON_Delete) says what was done: {"id", "root", "step", "restored": [...],
 * "removed": [...]} and, when refused, {"changed": [...]}.  ER_ENOTFOUND: no
 * such checkpoint, or nothing changed in those steps; ER_ECONFLICT: undone
 * already, or a file changed since (nothing touched) unless force. */
int er_checkpoint_undo(const char *id, int from_step, bool force, cJSON **out, er_error *err);

/* What undoing checkpoint id from from_step (as er_checkpoint_undo picks
 * it) would do, touching nothing: OWNED *out {"id", "root", "created_ms",
 * "undone", "step", "steps" (as er_checkpoint_list's), "restore": [...],
 * "remove": [...], "changed": [files changed since]}; "restore" and "remove"
 * are empty when those steps were undone already. */
int er_checkpoint_plan(const char *id, int from_step, cJSON **out, er_error *err);

#endif
