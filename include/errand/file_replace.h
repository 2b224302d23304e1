/* file_replace.h — a file's content replaced whole: written to a temporary
 * file next to it, given its mode, and renamed over it, so a crash leaves
 * the old content or the new, never part of either. */
#ifndef ERRAND_FILE_REPLACE_H
#define ERRAND_FILE_REPLACE_H

#include "error.h"
#include <stdbool.h>
#include <stddef.h>

/* durable: fsync before the rename (a config file; not every undo blob).
 * ER_EIO naming path on any failure; the temporary file is then removed. */
int er_file_replace(const char *path, const char *data, size_t len, unsigned mode, bool durable,
                    er_error *err);

#endif
