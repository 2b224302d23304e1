/* store_history.h — the browser agent's history of extracted data (table
 * browser_history): dated snapshots of what a page showed, kept so the trend
 * finder (trends.h) can say what changed between two of them.
 *
 * A snapshot belongs to a source, a name the user or the agent gives to what
 * is watched ("hn", "oil-prices"); its rows are the page's data (a JSON
 * array as browser_extract gives it) and so untrusted text.  Snapshots are
 * only ever added; the newest ones are read back by source. */
#ifndef ERRAND_STORE_HISTORY_H
#define ERRAND_STORE_HISTORY_H

#include "store.h"

/* A snapshot's rows at most, in JSON bytes. */
#define ER_SNAPSHOT_ROWS_MAX (4 * 1024 * 1024)

typedef struct er_snapshot {
    char id[ER_ID_LEN];
    char *source;
    char *url;
    char *task_id;    /* the task that took it, or NULL */
    int64_t taken_ms; /* Unix time in ms */
    int64_t count;    /* rows */
    char *rows;       /* a JSON array */
} er_snapshot;

/* Stores s (source, url, rows required; task_id may be NULL; taken_ms 0 is
 * now) and fills in s->id (and s->taken_ms).  ER_EINVAL for a missing field
 * or rows that are not a JSON array, ER_ETOOBIG past ER_SNAPSHOT_ROWS_MAX. */
int er_store_snapshot_add(er_store *st, er_snapshot *s, er_error *err);

/* Up to limit snapshots of source taken at or before before_ms (0: any
 * time), newest first.  OWNED *out: er_snapshots_free(*out, *n). */
int er_store_snapshots(er_store *st, const char *source, int64_t before_ms, int limit,
                       er_snapshot **out, size_t *n, er_error *err);
void er_snapshots_free(er_snapshot *s, size_t n);

/* Every source with its number of snapshots and the time of the newest,
 * newest first. */
typedef struct er_snapshot_source {
    char *source;
    int64_t count;
    int64_t latest_ms;
} er_snapshot_source;
int er_store_snapshot_sources(er_store *st, er_snapshot_source **out, size_t *n, er_error *err);
void er_snapshot_sources_free(er_snapshot_source *s, size_t n);

#endif
