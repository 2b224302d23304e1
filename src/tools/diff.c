/* diff.c — unified diffs for write_file and edit_file results (see diff.h).
 *
 * Edits made by an agent are usually local, so the common head and tail are
 * trimmed before the quadratic LCS runs on what is left; past a cell budget
 * the middle is shown as removed-then-added, which is correct if not minimal. */
#include "errand/diff.h"
#include "errand/alloc.h"

#include <stdlib.h>
#include <string.h>

#define CONTEXT       3
#define LCS_CELLS_MAX (4u * 1000 * 1000)

typedef struct line {
    const char *p;
    size_t len; /* including the '\n' when there is one */
} line;

typedef struct lines {
    line *v;
    size_t n;
} lines;

typedef struct op {
    char kind; /* ' ', '-', '+' */
    size_t ai, bi;
} op;

typedef struct script {
    op *v;
    size_t n, cap;
} script;

static lines split_lines(const char *s, size_t len)
{
    lines L = { NULL, 0 };
    size_t cap = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) + 1 : len;
        if (L.n == cap) {
            cap = cap ? cap * 2 : 64;
            L.v = er_xrealloc(L.v, cap * sizeof *L.v);
        }
        L.v[L.n].p = s + i;
        L.v[L.n].len = end - i;
        L.n++;
        i = end;
    }
    return L;
}

static bool same(const line *x, const line *y)
{
    return x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

static void push(script *S, char kind, size_t ai, size_t bi)
{
    if (S->n == S->cap) {
        S->cap = S->cap ? S->cap * 2 : 64;
        S->v = er_xrealloc(S->v, S->cap * sizeof *S->v);
    }
    S->v[S->n++] = (op){ kind, ai, bi };
}

/* Edit script for A[a0..a1) → B[b0..b1) by LCS, or replace-all when too big. */
static void diff_middle(script *S, const lines *A, size_t a0, size_t a1, const lines *B, size_t b0,
                        size_t b1)
{
    size_t na = a1 - a0, nb = b1 - b0;
    if (na == 0 || nb == 0 || (na + 1) * (nb + 1) > LCS_CELLS_MAX) {
        for (size_t i = a0; i < a1; i++)
            push(S, '-', i, 0);
        for (size_t j = b0; j < b1; j++)
            push(S, '+', 0, j);
        return;
    }
    size_t W = nb + 1;
    uint32_t *T = er_xcalloc((na + 1) * W, sizeof *T);
    /* T[i][j] = LCS length of A[a0+i..a1) and B[b0+j..b1). */
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            T[i * W + j] = same(&A->v[a0 + i], &B->v[b0 + j])
                               ? T[(i + 1) * W + j + 1] + 1
                               : (T[(i + 1) * W + j] >= T[i * W + j + 1] ? T[(i + 1) * W + j]
                                                                         : T[i * W + j + 1]);
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (same(&A->v[a0 + i], &B->v[b0 + j])) {
            push(S, ' ', a0 + i++, b0 + j++);
        } else if (T[(i + 1) * W + j] >= T[i * W + j + 1]) {
            push(S, '-', a0 + i++, 0);
        } else {
            push(S, '+', 0, b0 + j++);
        }
    }
    for (; i < na; i++)
        push(S, '-', a0 + i, 0);
    for (; j < nb; j++)
        push(S, '+', 0, b0 + j);
    free(T);
}

static void put_line(er_buf *out, char kind, const line *l)
{
    er_buf_putc(out, kind);
    er_buf_append(out, l->p, l->len);
    if (l->len == 0 || l->p[l->len - 1] != '\n')
        er_buf_puts(out, "\n\\ No newline at end of file\n");
}

static void put_range(er_buf *out, char sign, size_t start, size_t count)
{
    /* An empty range names the line before it, as GNU diff does. */
    er_buf_printf(out, "%c%zu", sign, count ? start + 1 : start);
    if (count != 1)
        er_buf_printf(out, ",%zu", count);
}

/* One hunk covering script entries [s, e). */
static void put_hunk(er_buf *out, const script *S, size_t s, size_t e, const lines *A,
                     const lines *B)
{
    size_t astart = SIZE_MAX, bstart = SIZE_MAX, acount = 0, bcount = 0;
    /* Where each side starts: the first entry that touches it, else the position
     * implied by the entries before s. */
    size_t apos = 0, bpos = 0;
    for (size_t k = 0; k < s; k++) {
        if (S->v[k].kind != '+')
            apos++;
        if (S->v[k].kind != '-')
            bpos++;
    }
    for (size_t k = s; k < e; k++) {
        if (S->v[k].kind != '+') {
            if (astart == SIZE_MAX)
                astart = S->v[k].ai;
            acount++;
        }
        if (S->v[k].kind != '-') {
            if (bstart == SIZE_MAX)
                bstart = S->v[k].bi;
            bcount++;
        }
    }
    er_buf_puts(out, "@@ ");
    put_range(out, '-', astart == SIZE_MAX ? apos : astart, acount);
    er_buf_putc(out, ' ');
    put_range(out, '+', bstart == SIZE_MAX ? bpos : bstart, bcount);
    er_buf_puts(out, " @@\n");
    for (size_t k = s; k < e; k++) {
        const op *o = &S->v[k];
        put_line(out, o->kind, o->kind == '+' ? &B->v[o->bi] : &A->v[o->ai]);
    }
}

static void put_hunks(er_buf *out, const script *S, const lines *A, const lines *B)
{
    size_t k = 0;
    while (k < S->n) {
        while (k < S->n && S->v[k].kind == ' ')
            k++;
        if (k == S->n)
            break;
        size_t s = k > CONTEXT ? k - CONTEXT : 0;
        size_t last = k; /* last changed entry in this hunk */
        for (size_t j = k; j < S->n; j++) {
            if (S->v[j].kind != ' ') {
                last = j;
            } else if (j - last > 2 * CONTEXT) {
                break;
            }
        }
        size_t e = last + 1 + CONTEXT < S->n ? last + 1 + CONTEXT : S->n;
        put_hunk(out, S, s, e, A, B);
        k = last + 1;
    }
}

size_t er_diff_unified(er_buf *out, const char *path, const char *a, size_t alen, const char *b,
                       size_t blen)
{
    lines A = split_lines(a, alen), B = split_lines(b, blen);
    size_t pre = 0;
    while (pre < A.n && pre < B.n && same(&A.v[pre], &B.v[pre]))
        pre++;
    size_t suf = 0;
    while (suf < A.n - pre && suf < B.n - pre && same(&A.v[A.n - 1 - suf], &B.v[B.n - 1 - suf]))
        suf++;
    script S = { NULL, 0, 0 };
    for (size_t i = 0; i < pre; i++)
        push(&S, ' ', i, i);
    diff_middle(&S, &A, pre, A.n - suf, &B, pre, B.n - suf);
    for (size_t i = 0; i < suf; i++)
        push(&S, ' ', A.n - suf + i, B.n - suf + i);
    size_t changed = 0;
    for (size_t k = 0; k < S.n; k++)
        changed += S.v[k].kind != ' ';
    if (changed) {
        er_buf_printf(out, "--- a/%s\n+++ b/%s\n", path, path);
        put_hunks(out, &S, &A, &B);
    }
    free(S.v);
    free(A.v);
    free(B.v);
    return changed;
}
