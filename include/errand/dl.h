/* dl.h — load a shared library on first use and fill a table of its entry points.
 *
 * Client libraries that drag in heavy dependencies (libpq: Kerberos, LDAP, GnuTLS;
 * librabbitmq: OpenSSL; libcurl) are not linked: a run that never uses them
 * should not pay for loading them (milliseconds of start-up, megabytes of RSS). */
#ifndef ERRAND_DL_H
#define ERRAND_DL_H

#include "common.h"
#include "error.h"

#include <pthread.h>

typedef struct er_dl_sym {
    const char *name;
    size_t offset; /* of the pointer in the api struct */
} er_dl_sym;

/* Opens the first of names (NULL-terminated) that loads and stores each symbol's
 * address into api.  hint is added to the error ("install libpq5").  Not
 * thread-safe by itself: callers wrap it in er_dl_load_once (or pthread_once). */
int er_dl_load(const char *const *names, const er_dl_sym *syms, size_t nsyms, void *api,
               const char *hint, er_error *err);

/* A library loaded at most once per process: the first er_dl_load_once runs load
 * (which fills err, usually through er_dl_load) and every call, then and
 * later, returns its outcome.  Initialise as { PTHREAD_ONCE_INIT, { 0, "" } }. */
typedef struct er_dl_once {
    pthread_once_t once;
    er_error err;
} er_dl_once;

int er_dl_load_once(er_dl_once *o, void (*load)(void), er_error *err);

#endif
