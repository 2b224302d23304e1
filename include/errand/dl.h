/* dl.h — load a shared library on first use and fill a table of its entry points.
 *
 * Client libraries that drag in heavy dependencies (libpq: Kerberos, LDAP, GnuTLS;
 * librabbitmq: OpenSSL; libcurl) are not linked: a run that never uses them
 * should not pay for loading them (milliseconds of start-up, megabytes of RSS). */
#ifndef ERRAND_DL_H
#define ERRAND_DL_H

#include "common.h"
#include "error.h"

typedef struct er_dl_sym {
    const char *name;
    size_t offset; /* of the pointer in the api struct */
} er_dl_sym;

/* Opens the first of names (NULL-terminated) that loads and stores each symbol's
 * address into api.  hint is added to the error ("install libpq5").  Not
 * thread-safe by itself: callers wrap it in pthread_once. */
int er_dl_load(const char *const *names, const er_dl_sym *syms, size_t nsyms, void *api,
               const char *hint, er_error *err);

#endif
