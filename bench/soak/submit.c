/* submit.c — the soak's steady stream of tasks (errand_soak_submit): submits
 * tasks through liberrand as `errand ask` does (the row first, then a
 * publisher-confirmed message), at a fixed rate, without waiting for them to
 * end.  Configuration comes from the environment like errand's.
 *
 *   errand_soak_submit --count N --out FILE [--rate PER_S] [--threads T]
 *                      [--agent NAME] [--prefix P] [--stop-file F]
 *
 * Task i asks "soak task P<i>: ..." (the fake LLM's script takes P<i> for the
 * file it writes).  FILE gets one line per attempt, flushed as written:
 *   confirmed<TAB>TASK_ID<TAB>MARKER      submit returned 0: stored and confirmed
 *   unconfirmed<TAB>TASK_ID<TAB>MARKER<TAB>WHY   it did not (the broker was down…);
 *                                          the same marker is submitted again
 * A submission that fails is retried every 200 ms (a new task id each time)
 * until it is confirmed, as a user would.  Once F exists no new task is
 * started (those begun are finished).  Prints {"confirmed", "unconfirmed"}. */
#include "errand/alloc.h"
#include "errand/env.h"
#include "errand/id.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/tasks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct stream {
    er_env *env;
    const char *agent, *prefix, *stop_file;
    long count, threads;
    double rate;
    FILE *out;
    pthread_mutex_t mu; /* out */
    atomic_long next, confirmed, unconfirmed;
    uint64_t t0; /* er_mono_ns at the start */
} stream;

static void nap_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
    nanosleep(&ts, NULL);
}

static void record(stream *s, const char *what, const char *id, const char *marker, const char *why)
{
    pthread_mutex_lock(&s->mu);
    fprintf(s->out, "%s\t%s\t%s%s%s\n", what, id, marker, why ? "\t" : "", why ? why : "");
    fflush(s->out);
    pthread_mutex_unlock(&s->mu);
}

static void submit_one(stream *s, long i)
{
    char marker[64], request[160];
    snprintf(marker, sizeof marker, "%s%ld", s->prefix, i);
    snprintf(request, sizeof request, "soak task %s: write your file", marker);
    for (;;) {
        char id[ER_ID_LEN];
        er_id_new(id);
        er_submit sub = { .request = request, .agent = s->agent, .task_id = id };
        er_error err = { 0 };
        if (er_task_submit(s->env, &sub, NULL, NULL, &err) == 0) {
            record(s, "confirmed", id, marker, NULL);
            atomic_fetch_add(&s->confirmed, 1);
            return;
        }
        record(s, "unconfirmed", id, marker, err.msg);
        atomic_fetch_add(&s->unconfirmed, 1);
        nap_ns(200000000ULL);
    }
}

static void *submitter(void *arg)
{
    stream *s = arg;
    for (;;) {
        long i = atomic_fetch_add(&s->next, 1);
        if (i >= s->count || (s->stop_file && access(s->stop_file, F_OK) == 0))
            return NULL;
        if (s->rate > 0) { /* task i is due at t0 + i / rate */
            uint64_t due = s->t0 + (uint64_t)((double)i / s->rate * 1e9), now = er_mono_ns();
            if (due > now)
                nap_ns(due - now);
        }
        submit_one(s, i);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: errand_soak_submit --count N --out FILE [--rate PER_S] "
                    "[--threads T] [--agent NAME] [--prefix P] [--stop-file F]\n");
    return 2;
}

static int parse(stream *s, const char **out, int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        long x = 0;
        if (strcmp(o, "--out") == 0)
            *out = v;
        else if (strcmp(o, "--stop-file") == 0)
            s->stop_file = v;
        else if (strcmp(o, "--agent") == 0)
            s->agent = v;
        else if (strcmp(o, "--prefix") == 0)
            s->prefix = v;
        else if (strcmp(o, "--rate") == 0 && er_str_to_double(v, &s->rate) == 0 && s->rate >= 0)
            continue;
        else if (er_str_to_long(v, &x) == 0 && x > 0 && strcmp(o, "--count") == 0)
            s->count = x;
        else if (er_str_to_long(v, &x) == 0 && x > 0 && strcmp(o, "--threads") == 0)
            s->threads = x;
        else
            return -1;
    }
    return argc % 2 == 1 && *out && s->count > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    stream s = { .agent = "code", .prefix = "", .threads = 4, .mu = PTHREAD_MUTEX_INITIALIZER };
    const char *out = NULL;
    if (parse(&s, &out, argc, argv))
        return usage();
    er_error err = { 0 };
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    char uid[ER_ID_LEN];
    if (er_config_load(cfg, NULL, &err) || er_env_new(&s.env, cfg, &err) ||
        er_env_user_id(s.env, uid, &err)) { /* opens and migrates the store */
        fprintf(stderr, "errand_soak_submit: %s\n", err.msg);
        return 1;
    }
    if (!(s.out = fopen(out, "a"))) {
        fprintf(stderr, "errand_soak_submit: cannot open %s\n", out);
        return 1;
    }
    s.t0 = er_mono_ns();
    pthread_t *t = er_xcalloc((size_t)s.threads, sizeof *t);
    for (long i = 0; i < s.threads; i++)
        pthread_create(&t[i], NULL, submitter, &s);
    for (long i = 0; i < s.threads; i++)
        pthread_join(t[i], NULL);
    printf("{\"confirmed\": %ld, \"unconfirmed\": %ld}\n", atomic_load(&s.confirmed),
           atomic_load(&s.unconfirmed));
    fclose(s.out);
    free(t);
    er_env_close(s.env);
    return 0;
}
