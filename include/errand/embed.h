/* embed.h — files compiled into the binary (migrations, the routing examples).
 * Paths are relative to src/: "store/migrations/sqlite/001_init.sql". */
#ifndef ERRAND_EMBED_H
#define ERRAND_EMBED_H

#include <stddef.h>

typedef struct er_embedded_file {
    const char *path;
    const char *data; /* NUL-terminated */
    size_t len;
} er_embedded_file;

extern const er_embedded_file er_embedded_files[];
extern const size_t er_embedded_nfiles;

/* BORROWED static entry, or NULL. */
const er_embedded_file *er_embedded_find(const char *path);

#endif
