/* proc.h — reading other processes' facts from /proc. */
#ifndef ERRAND_PROC_H
#define ERRAND_PROC_H

#include "common.h"

/* Field `field` (numbered as in proc(5): 4 the parent pid, 22 the start time
 * in clock ticks after boot) of /proc/PID/stat.  False when the process is
 * gone or the field is not a number.  Async-signal-safe (open, read, close
 * only): a fork of a threaded process may call it. */
bool er_proc_stat_field(long pid, int field, unsigned long long *out);

#endif
