/* error.h — the one error type: a code callers act on and a message users read.
 *
 * Fallible calls return 0 or a negative ER_E* code and, when given an er_error,
 * fill in a one-line message.  The layer that knows the cause writes the
 * message; callers may prefix context with er_error_prefix(). */
#ifndef ERRAND_ERROR_H
#define ERRAND_ERROR_H

#include "common.h"

enum {
    ER_OK = 0,
    ER_EINVAL = -1,     /* bad input from the caller or the user */
    ER_ENOTFOUND = -2,  /* no such row, key, file, agent, tool */
    ER_EUNAVAIL = -3,   /* backend or provider unreachable (retryable) */
    ER_ETIMEDOUT = -4,  /* deadline passed (retryable) */
    ER_ETOOBIG = -5,    /* input over its cap */
    ER_ECANCELLED = -6, /* cancelled by the user */
    ER_EAUTH = -7,      /* credentials refused (401/403, login denied) */
    ER_EPROTO = -8,     /* peer spoke garbage: malformed JSON, SSE, frames */
    ER_EIO = -9,        /* local I/O failed: disk, file permissions */
    ER_EDENIED = -10,   /* policy refused the action */
    ER_EEXISTS = -11,   /* already there */
    ER_EBUDGET = -12,   /* step, token or time budget exhausted */
    ER_ECONFLICT = -13, /* state moved on (e.g. task status only moves forward) */
    ER_EINTERNAL = -14  /* a bug or an unexpected library failure */
};

typedef struct er_error {
    int code;
    char msg[256];
} er_error;

/* Sets err (if not NULL) and returns code, so `return er_error_set(...)` works. */
int er_error_set(er_error *err, int code, const char *fmt, ...) ER_PRINTF(3, 4);
/* Prepends "context: " to the existing message (nothing when err is NULL).
 * It returns nothing on purpose: with no err there is no code to return, so
 * the caller returns the code it already holds. */
void er_error_prefix(er_error *err, const char *fmt, ...) ER_PRINTF(2, 3);
void er_error_clear(er_error *err);
/* Short stable name of a code: "EINVAL", ... */
const char *er_error_name(int code);
/* The code of a name from er_error_name, 0 when unknown. */
int er_error_from_name(const char *name);
/* True for codes worth retrying: ER_EUNAVAIL, ER_ETIMEDOUT. */
bool er_error_retryable(int code);

#endif
