/* stmt_cache.c — SQL text → prepared statement, for the backends.
 *
 * Store calls are on the hot path and the domain modules use a small, fixed
 * set of SQL texts, so each backend prepares a statement once and finds it
 * again here by its text.  Open addressing with linear probing; entries are
 * never removed one by one (a backend clears the whole cache on reconnect). */
#include "store_int.h"
#include "errand/alloc.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static er_stmt_slot *find_slot(er_stmt_slot *slots, size_t cap, const char *sql)
{
    size_t i = hash_sql(sql) & (cap - 1);
    while (slots[i].sql && strcmp(slots[i].sql, sql) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

void *er_stmt_cache_get(const er_stmt_cache *c, const char *sql)
{
    if (c->cap == 0)
        return NULL;
    return find_slot(c->slots, c->cap, sql)->val;
}

static void grow(er_stmt_cache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 64;
    er_stmt_slot *slots = er_xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].sql)
            *find_slot(slots, cap, c->slots[i].sql) = c->slots[i];
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
}

void er_stmt_cache_put(er_stmt_cache *c, const char *sql, void *val)
{
    if ((c->n + 1) * 2 > c->cap) /* keep the load under one half */
        grow(c);
    er_stmt_slot *s = find_slot(c->slots, c->cap, sql);
    if (!s->sql) {
        s->sql = er_xstrdup(sql);
        c->n++;
    }
    s->val = val;
}

void er_stmt_cache_clear(er_stmt_cache *c, void (*free_val)(void *val))
{
    for (size_t i = 0; i < c->cap; i++) {
        if (c->slots[i].sql) {
            if (free_val)
                free_val(c->slots[i].val);
            free(c->slots[i].sql);
        }
    }
    free(c->slots);
    c->slots = NULL;
    c->cap = 0;
    c->n = 0;
}
