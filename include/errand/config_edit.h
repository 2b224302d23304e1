/* config_edit.h — changes to the user's config file made by commands
 * (`errand mcp add|remove`): one [section] replaced or removed, the rest of
 * the file — comments, order, other sections — kept as written.
 *
 * The file is rewritten whole into a temporary file next to it and renamed
 * over it, so a crash leaves the old file or the new one, never half of one;
 * a new file is created 0600 (it may hold secrets), an existing one keeps its
 * mode. */
#ifndef ERRAND_CONFIG_EDIT_H
#define ERRAND_CONFIG_EDIT_H

#include "config.h"
#include "error.h"
#include "strv.h"

/* The file commands edit: the one that was read, else
 * $XDG_CONFIG_HOME/errand/config (its directory created).  OWNED. */
int er_config_edit_path(char **out, const er_config *cfg, er_error *err);

/* Whether path has a [section] header. */
bool er_config_file_has(const char *path, const char *section);

/* Removes [section] (its header and every line up to the next header) from
 * path and, when keys is not NULL, appends the section anew with keys[i] =
 * values[i] (a value that starts and ends with '"' is quoted once more, as
 * the reader strips one pair).  ER_ENOTFOUND when removing a section that is
 * not there; ER_EINVAL for a key or value with a line break. */
int er_config_file_put(const char *path, const char *section, const er_strv *keys,
                       const er_strv *values, er_error *err);

#endif
