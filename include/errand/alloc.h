/* alloc.h — allocation that aborts on out-of-memory, like every anchor codebase.
 * What can really fail (untrusted input sizes) is capped elsewhere (er_buf). */
#ifndef ERRAND_ALLOC_H
#define ERRAND_ALLOC_H

#include "common.h"

void *er_xmalloc(size_t n);
void *er_xcalloc(size_t n, size_t size);
void *er_xrealloc(void *p, size_t n);
char *er_xstrdup(const char *s); /* NULL in, NULL out */
char *er_xstrndup(const char *s, size_t n);
char *er_xasprintf(const char *fmt, ...) ER_PRINTF(1, 2);

/* For long-running processes (errand serve, errand worker): keep freed memory
 * instead of handing it back to the kernel after every burst of work. */
void er_alloc_keep_freed_memory(void);

#endif
