/* strv.h — a growable NULL-terminated vector of strings, as execve(2) and
 * bubblewrap's command lines want them.  Each string is copied in; the
 * vector owns them. */
#ifndef ERRAND_STRV_H
#define ERRAND_STRV_H

#include "common.h"

typedef struct er_strv {
    char **v; /* NULL-terminated once anything was pushed; NULL before */
    size_t n, cap;
} er_strv;

#define ER_STRV_INIT \
    {                \
        NULL, 0, 0   \
    }

void er_strv_push(er_strv *s, const char *x);
/* Pushes every string of a NULL-terminated list. */
void er_strv_push_all(er_strv *s, const char *const *list);
void er_strv_free(er_strv *s);

#endif
