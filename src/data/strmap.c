/* strmap.c — a small open-addressing map from byte strings to indexes: JSON
 * keys to columns, values to their counts. */
#include "errand/alloc.h"
#include "data_int.h"

#include <stdlib.h>
#include <string.h>

uint64_t er_hash(const void *p, size_t n)
{
    /* FNV-1a, then a final mix so that low bits depend on every byte. */
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void er_strmap_init(er_strmap *m)
{
    memset(m, 0, sizeof *m);
}

void er_strmap_release(er_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->lens);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t slot_of(const er_strmap *m, const char *key, size_t len)
{
    size_t i = (size_t)er_hash(key, len) & (m->cap - 1);
    while (m->keys[i] && !(m->lens[i] == len && memcmp(m->keys[i], key, len) == 0))
        i = (i + 1) & (m->cap - 1);
    return i;
}

size_t er_strmap_get(const er_strmap *m, const char *key, size_t len)
{
    if (!m->cap)
        return SIZE_MAX;
    size_t i = slot_of(m, key, len);
    return m->keys[i] ? m->vals[i] : SIZE_MAX;
}

static void grow(er_strmap *m)
{
    er_strmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->keys = er_xcalloc(m->cap, sizeof *m->keys);
    m->lens = er_xcalloc(m->cap, sizeof *m->lens);
    m->vals = er_xcalloc(m->cap, sizeof *m->vals);
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.keys[i])
            continue;
        size_t j = slot_of(m, old.keys[i], old.lens[i]);
        m->keys[j] = old.keys[i];
        m->lens[j] = old.lens[i];
        m->vals[j] = old.vals[i];
    }
    free(old.keys);
    free(old.lens);
    free(old.vals);
}

void er_strmap_put(er_strmap *m, const char *key, size_t len, size_t val)
{
    if ((m->n + 1) * 4 > m->cap * 3)
        grow(m);
    size_t i = slot_of(m, key, len);
    if (!m->keys[i]) {
        m->keys[i] = er_xmalloc(len + 1);
        memcpy(m->keys[i], key, len);
        m->keys[i][len] = '\0';
        m->lens[i] = len;
        m->n++;
    }
    m->vals[i] = val;
}

uint64_t er_data_hash(const void *p, size_t n)
{
    return er_hash(p, n);
}
