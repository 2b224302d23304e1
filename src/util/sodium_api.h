/* sodium_api.h — libsodium, loaded on first use (see errand/dl.h): only runs
 * that read or write a stored secret need it.  Private to src/util/secret.c. */
#ifndef ERRAND_SODIUM_API_H
#define ERRAND_SODIUM_API_H

#include "errand/error.h"
#include <sodium.h>

typedef struct er_sodium_api {
    __typeof__(sodium_init) *init;
    __typeof__(crypto_secretbox_easy) *secretbox_easy;
    __typeof__(crypto_secretbox_open_easy) *secretbox_open_easy;
    __typeof__(randombytes_buf) *randombytes_buf;
    __typeof__(sodium_memzero) *memzero;
} er_sodium_api;

extern er_sodium_api er_sodium;
/* Loads libsodium once (thread-safe) and initialises it; ER_EUNAVAIL when
 * it is missing or cannot initialise. */
int er_sodium_load(er_error *err);

#endif
