/* snapshotbench.c — what checkpointing a `run` costs (snapshot.h): the
 * snapshot of a workspace before the command and the walk after it, on a
 * tree that did not change (the common case: the walk and the stats, no
 * content hashed).
 *
 *   errand_snapshotbench DIR [REPEAT] [MAX_MB]
 *
 * Prints one JSON object: {files, kept_mb, take_ms, after_ms} (best of
 * REPEAT runs, default 5; MAX_MB as sandbox.undo_mb, default 64). */
#include "errand/json.h"
#include "errand/snapshot.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: errand_snapshotbench DIR [REPEAT] [MAX_MB]\n");
        return 2;
    }
    int repeat = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    long mb = argc > 3 ? strtol(argv[3], NULL, 10) : ER_SNAPSHOT_MB_DEFAULT;
    er_workspace ws;
    er_error err = { 0 };
    if (er_workspace_init(&ws, argv[1], &err)) {
        fprintf(stderr, "errand_snapshotbench: %s\n", err.msg);
        return 1;
    }
    double take = 1e18, after = 1e18;
    int files = 0;
    for (int i = 0; i < (repeat > 0 ? repeat : 1); i++) {
        er_snapshot *s;
        double t0 = now_ms();
        if (er_snapshot_take(&s, &ws, (uint64_t)mb << 20, NULL, &err)) {
            fprintf(stderr, "errand_snapshotbench: %s\n", err.msg);
            return 1;
        }
        double t1 = now_ms();
        cJSON *into = cJSON_CreateObject();
        /* No task id is needed: nothing changed, so nothing is recorded. */
        if (er_snapshot_record(s, &(er_checkpoint_at){ "bench", 1, NULL }, into, &err)) {
            fprintf(stderr, "errand_snapshotbench: %s\n", err.msg);
            return 1;
        }
        double t2 = now_ms();
        if (t1 - t0 < take)
            take = t1 - t0;
        if (t2 - t1 < after)
            after = t2 - t1;
        files = (int)er_snapshot_files(s);
        cJSON_Delete(into);
        er_snapshot_free(s);
    }
    printf("{\"files\": %d, \"take_ms\": %.1f, \"after_ms\": %.1f}\n", files, take, after);
    er_workspace_release(&ws);
    return 0;
}
