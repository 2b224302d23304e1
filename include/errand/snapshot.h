/* snapshot.h — the workspace as it was before a `run` command, so that what
 * the command changes joins the task's checkpoint (checkpoint.h) and
 * `errand undo` can put it back.
 *
 * A command's writes cannot be seen one by one as the file tools' are, so
 * before it runs every file the walk sees (walk.h: hidden files too; `.git`,
 * what the ignore rules leave out and errand's own files are skipped) is
 * stat'ed and its content read into memory, up to a total (sandbox.undo_mb);
 * after it, the workspace is walked again: a file whose size, mtime, inode or
 * mode moved and whose content differs was modified, one missing was
 * deleted, one new was created — each recorded in the checkpoint.
 *
 * Limits, said in the result rather than hidden: past ER_SNAPSHOT_FILES_MAX
 * files nothing is snapshotted ("not checkpointed: …"); a file over
 * ER_CHECKPOINT_FILE_MAX, or past the total, is stat'ed but not kept, and
 * if the command changes it the result names it as not undoable.  Symlinks,
 * directories (their creation or removal) and files in ignored directories
 * are not recorded: undo does recreate the directories a restored file needs.
 *
 * Not thread-safe: one snapshot belongs to one tool call. */
#ifndef ERRAND_SNAPSHOT_H
#define ERRAND_SNAPSHOT_H

#include "checkpoint.h"
#include "common.h"
#include "error.h"
#include "workspace.h"
#include <cjson/cJSON.h>

#define ER_SNAPSHOT_FILES_MAX  50000
#define ER_SNAPSHOT_MB_DEFAULT 64

typedef struct er_snapshot er_snapshot;

/* Takes the snapshot of ws, keeping at most max_bytes of content.  OWNED
 * *out: er_snapshot_free.  When the workspace has too many files *out is a
 * snapshot that records nothing and er_snapshot_note says why; cancel
 * (may be NULL) gives ER_ECANCELLED. */
int er_snapshot_take(er_snapshot **out, const er_workspace *ws, uint64_t max_bytes,
                     const volatile int *cancel, er_error *err);

/* After the command: records in at's checkpoint (its task's, at its step)
 * every file it modified, deleted or created, and adds to result
 * {"checkpoint": {"task", "step"?,
 * "modified", "deleted", "created", "not_undoable": [...]}} or {"checkpoint":
 * "not checkpointed: …"}, nothing when nothing changed. */
int er_snapshot_record(er_snapshot *s, const er_checkpoint_at *at, cJSON *result, er_error *err);

/* BORROWED: why nothing is recorded, or NULL. */
const char *er_snapshot_note(const er_snapshot *s);

/* How many files the snapshot holds. */
size_t er_snapshot_files(const er_snapshot *s);

/* Accepts NULL. */
void er_snapshot_free(er_snapshot *s);

#endif
