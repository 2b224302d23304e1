/* log.h — JSON-lines logging with levels, per-thread task/trace ids and redaction.
 *
 * The sink is stderr by default; the TUI points it at a file.  Every line is one
 * JSON object: ts, level, component, msg, task_id and trace_id (those set on the
 * calling thread, null when none is).  Registered secrets and anything that looks like an API key or
 * bearer token are replaced by "***" before any sink sees them. */
#ifndef ERRAND_LOG_H
#define ERRAND_LOG_H

#include "common.h"
#include <stdio.h>

typedef enum { ER_LOG_DEBUG = 0, ER_LOG_INFO, ER_LOG_WARN, ER_LOG_ERROR, ER_LOG_OFF } er_log_level;

extern int er_log_threshold; /* set once at start-up */

#define er_log(level, component, ...)                                      \
    do {                                                                   \
        if ((int)(level) >= er_log_threshold || er_log_tracing(component)) \
            er_log_write((level), (component), __VA_ARGS__);               \
    } while (0)

void er_log_write(er_log_level level, const char *component, const char *fmt, ...) ER_PRINTF(3, 4);
bool er_log_tracing(const char *component);

/* Start-up configuration (not thread-safe; call before threads start). */
int er_log_parse_level(const char *name, er_log_level *out);
void er_log_set_level(er_log_level level);
void er_log_set_trace(const char *components); /* "bus,llm" */
/* Opens path for append; NULL means stderr.  Returns 0 or ER_EIO. */
int er_log_set_file(const char *path);
/* Secrets (API keys, passwords) to mask; copied. */
void er_log_add_secret(const char *secret);
/* Per-thread context shown on every line; NULL clears. */
void er_log_set_context(const char *task_id, const char *trace_id);
/* The calling thread's context ("" when none), to restore after a set. */
void er_log_get_context(char task_id[40], char trace_id[40]);
/* Masks secrets in s into out (used by every sink and by `errand doctor`). */
void er_log_redact(const char *s, char *out, size_t outsize);

#endif
