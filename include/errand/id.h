/* id.h — time-ordered unique ids (UUIDv7, RFC 9562). */
#ifndef ERRAND_ID_H
#define ERRAND_ID_H

#include "common.h"

/* Writes a 36-char UUIDv7 and NUL into out. Thread-safe; monotonic within a process. */
void er_id_new(char out[ER_ID_LEN]);
bool er_id_valid(const char *s);

#endif
