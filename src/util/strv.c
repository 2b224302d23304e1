/* strv.c — NULL-terminated string vectors (see strv.h). */
#include "errand/strv.h"
#include "errand/alloc.h"

#include <stdlib.h>

void er_strv_push(er_strv *s, const char *x)
{
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->v = er_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = er_xstrdup(x);
    s->v[s->n] = NULL;
}

void er_strv_push_all(er_strv *s, const char *const *list)
{
    for (; list && *list; list++)
        er_strv_push(s, *list);
}

void er_strv_free(er_strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}
