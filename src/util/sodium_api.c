/* sodium_api.c — the libsodium loader (see sodium_api.h). */
#include "sodium_api.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>

er_sodium_api er_sodium;

#define SYM(f, n)                     \
    {                                 \
        n, offsetof(er_sodium_api, f) \
    }
static const er_dl_sym syms[] = {
    SYM(init, "sodium_init"),
    SYM(secretbox_easy, "crypto_secretbox_easy"),
    SYM(secretbox_open_easy, "crypto_secretbox_open_easy"),
    SYM(randombytes_buf, "randombytes_buf"),
    SYM(memzero, "sodium_memzero"),
};
#undef SYM

static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;

static void load(void)
{
    static const char *const names[] = { "libsodium.so.23", "libsodium.so", NULL };
    if (er_dl_load(names, syms, ER_ARRAY_LEN(syms), &er_sodium, "install libsodium23", &load_err) ==
            0 &&
        er_sodium.init() < 0)
        er_error_set(&load_err, ER_EUNAVAIL, "libsodium failed to initialise");
}

int er_sodium_load(er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code)
        return er_error_set(err, load_err.code, "%s", load_err.msg);
    return 0;
}
