/* alloc.c — allocation that aborts on out-of-memory. */
#include "errand/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static ER_NORETURN void oom(size_t n)
{
    fprintf(stderr, "errand: out of memory allocating %zu bytes\n", n);
    abort();
}

void *er_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *er_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *er_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *er_xstrdup(const char *s)
{
    return s ? er_xstrndup(s, strlen(s)) : NULL;
}

char *er_xstrndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *p = er_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *er_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    char *p = er_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* glibc hands the free memory at the top of a thread's heap back to the kernel
 * (madvise) as soon as it passes 128 KiB, and a server or worker frees about
 * that much after each batch of work (SQLite's savepoints, a task's JSON): each
 * give-back is a TLB shootdown on every CPU, then page faults to take the memory
 * again.  Measured: 20 % of errand serve's CPU per chat, 15 % of a worker's per
 * task.  The thresholds are the ceilings glibc's own adaptive ones would reach. */
void er_alloc_keep_freed_memory(void)
{
#ifdef M_TRIM_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}
