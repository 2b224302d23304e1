/* fake.c — what the fake backends share: counting calls by operation and
 * failing the ones a test planned (fake_backends.h). */
#include "fake_backends.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS   24
#define MAX_PLANS 8

typedef struct plan {
    bool live;
    bool always;
    char op[32];     /* "" for any */
    char match[160]; /* "" for any */
    long left;       /* matching calls to let through before the one that fails */
    int code;
} plan;

typedef struct op_count {
    const char *op; /* static strings: the wrappers' literals */
    long n;
} op_count;

struct fake {
    pthread_mutex_t lock;
    const char *what; /* "store", "bus", "cache": for messages */
    op_count ops[MAX_OPS];
    size_t nops;
    long total;
    long failed;
    plan plans[MAX_PLANS];
};

fake *fake_new(const char *what)
{
    fake *f = er_xcalloc(1, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    f->what = what;
    return f;
}

void fake_free(fake *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static void count(fake *f, const char *op)
{
    f->total++;
    for (size_t i = 0; i < f->nops; i++) {
        if (strcmp(f->ops[i].op, op) == 0) {
            f->ops[i].n++;
            return;
        }
    }
    if (f->nops < MAX_OPS)
        f->ops[f->nops++] = (op_count){ op, 1 };
}

static bool plan_matches(const plan *p, const char *op, const char *text)
{
    return p->live && (!p->op[0] || strcmp(p->op, op) == 0) &&
           (!p->match[0] || strstr(text, p->match) != NULL);
}

int fake_hit(fake *f, const char *op, const char *text, er_error *err)
{
    int code = 0;
    pthread_mutex_lock(&f->lock);
    count(f, op);
    /* Every waiting plan counts the call; the first that comes due fails it. */
    for (size_t i = 0; i < MAX_PLANS; i++) {
        plan *p = &f->plans[i];
        if (!plan_matches(p, op, text ? text : ""))
            continue;
        if (!p->always && p->left-- > 0)
            continue;
        if (code) {
            p->left = 0; /* due as well: it fails the next matching call */
            continue;
        }
        code = p->code;
        p->live = p->always;
    }
    if (code)
        f->failed++;
    long n = f->total;
    pthread_mutex_unlock(&f->lock);
    if (code)
        er_error_set(err, code, "fake %s: %s (call %ld) failed as planned", f->what, op, n);
    return code;
}

static void add_plan(fake *f, const char *op, const char *match, long nth, bool always, int code)
{
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < MAX_PLANS; i++) {
        plan *p = &f->plans[i];
        if (p->live)
            continue;
        *p = (plan){ .live = true, .always = always, .left = nth - 1, .code = code };
        er_strlcpy(p->op, op ? op : "", sizeof p->op);
        er_strlcpy(p->match, match ? match : "", sizeof p->match);
        break;
    }
    pthread_mutex_unlock(&f->lock);
}

void fake_fail(fake *f, const char *op, const char *match, long nth, int code)
{
    add_plan(f, op, match, nth < 1 ? 1 : nth, false, code);
}

void fake_fail_always(fake *f, const char *op, const char *match, int code)
{
    add_plan(f, op, match, 1, true, code);
}

void fake_heal(fake *f)
{
    pthread_mutex_lock(&f->lock);
    memset(f->plans, 0, sizeof f->plans);
    pthread_mutex_unlock(&f->lock);
}

long fake_calls(fake *f, const char *op)
{
    long n = 0;
    pthread_mutex_lock(&f->lock);
    if (!op)
        n = f->total;
    for (size_t i = 0; op && i < f->nops; i++)
        if (strcmp(f->ops[i].op, op) == 0)
            n = f->ops[i].n;
    pthread_mutex_unlock(&f->lock);
    return n;
}

long fake_failed(fake *f)
{
    pthread_mutex_lock(&f->lock);
    long n = f->failed;
    pthread_mutex_unlock(&f->lock);
    return n;
}
