/* audit.h — the audit log: every side-effecting tool call (write, exec, send,
 * and every MCP call), allowed or refused, with who approved it, appended to a
 * hash-chained file.
 *
 * One JSON object per line in audit.path (default $XDG_DATA_HOME/errand/
 * audit.jsonl).  Each entry carries "prev", the hash of the entry before it
 * ("" for the first), and ends in "hash": the SHA-256 of prev, a newline and
 * the line's text up to (not including) ,"hash".  A changed entry no longer
 * matches its hash; a removed one breaks the next entry's prev.  The hash of
 * the last entry and the count are also kept in audit.path + ".head", so a
 * log cut short is noticed too (unless both files are rewritten: the chain
 * proves order and integrity, not who holds the file).
 *
 * Appends take an exclusive flock on the file, so the threads and processes
 * of one host (workers, the server, `ask`) write one chain.  In networked
 * mode each host writes its own file unless audit.path points at shared
 * storage that honours flock. */
#ifndef ERRAND_AUDIT_H
#define ERRAND_AUDIT_H

#include "common.h"
#include "error.h"
#include <cjson/cJSON.h>

typedef struct er_audit_entry {
    const char *task_id;
    const char *user_id;
    const char *agent;
    const char *tool;
    const char *perm;      /* permission class name */
    const char *arguments; /* JSON text (long ones are cut; their SHA-256 is kept) */
    const char *approval;  /* "policy", "yes", "always", "user", "denied", "policy-deny" */
    const char *outcome;   /* "ok", "error", "refused" */
} er_audit_entry;

/* Appends one entry to the log at path (created 0600 with its directory). */
int er_audit_append(const char *path, const er_audit_entry *e, er_error *err);

typedef struct er_audit_report {
    long entries;      /* lines read */
    long bad_line;     /* first broken entry (1-based), 0: none */
    char head[65];     /* hash of the last entry */
    char problem[256]; /* what is wrong at bad_line (or with the head) */
} er_audit_report;

/* Checks the chain from the first entry to the head.  0 with report->bad_line
 * 0 when intact; ER_ECONFLICT (report says where and what) when not; ER_EIO
 * when the file cannot be read (a missing log is empty and intact). */
int er_audit_verify(const char *path, er_audit_report *report, er_error *err);

/* The log's path for a configuration value (NULL: the default).  OWNED. */
char *er_audit_path(const char *configured, er_error *err);

#endif
