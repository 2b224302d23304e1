/* checkpoint.h — what the file tools changed, so `errand undo` can put it back.
 *
 * Before write_file or edit_file replaces or creates a file of the workspace,
 * the file's content (or that it did not exist) is kept the first time the
 * task touches it, and after every write the SHA-256 of what the tool wrote.
 * A checkpoint is one top-level task's record: every file it changed, as it
 * was before the task.  Undoing it restores those files (and removes the ones
 * the task created), refusing, file by file named, when a file changed since
 * the task last wrote it unless forced.
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

/* Records that task_id is about to write next[0..nlen) over root/rel, which
 * existed with old[0..olen) and mode (existed false: old is ignored). */
int er_checkpoint_record(const char *task_id, const char *root, const char *rel, bool existed,
                         const char *old, size_t olen, unsigned mode, const char *next, size_t nlen,
                         er_error *err);

/* The same for a change seen after the fact (a command's, snapshot.h): after
 * is the SHA-256 (hex) of what the file is now, NULL when it is gone. */
int er_checkpoint_record_seen(const char *task_id, const char *root, const char *rel, bool existed,
                              const char *old, size_t olen, unsigned mode, const char *after,
                              er_error *err);

/* What undo compares with: the SHA-256 (hex) of the file at path, or
 * "absent" when there is none. */
int er_checkpoint_file_hash(const char *path, char out[65], er_error *err);

/* The checkpoints, newest first: [{"id", "created_ms", "root", "files": [...],
 * "undone": bool}].  OWNED: cJSON_Delete. */
int er_checkpoint_list(cJSON **out, er_error *err);

/* Undoes checkpoint id (a task id or a unique prefix of one; NULL: the newest
 * not undone yet).  *out (OWNED, cJSON_Delete) says what was done:
 * {"id", "restored": [...], "removed": [...]} and, when refused,
 * {"changed": [...]}.  ER_ENOTFOUND: no such checkpoint or nothing to undo;
 * ER_ECONFLICT: a file changed since (nothing touched) unless force. */
int er_checkpoint_undo(const char *id, bool force, cJSON **out, er_error *err);

/* What undoing checkpoint id (as er_checkpoint_undo picks it) would do,
 * touching nothing: OWNED *out {"id", "root", "created_ms", "undone",
 * "restore": [...], "remove": [...], "changed": [files changed since]}. */
int er_checkpoint_plan(const char *id, cJSON **out, er_error *err);

#endif
