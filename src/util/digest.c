/* digest.c — SHA-256 through libcrypto, loaded on first use (see digest.h). */
#include "errand/digest.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

typedef struct crypto_api {
    unsigned char *(*SHA256)(const unsigned char *d, size_t n, unsigned char *md);
} crypto_api;

static crypto_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;

static void load(void)
{
    static const char *const names[] = { "libcrypto.so.3", "libcrypto.so", NULL };
    static const er_dl_sym syms[] = { { "SHA256", offsetof(crypto_api, SHA256) } };
    er_dl_load(names, syms, ER_ARRAY_LEN(syms), &api, "install libssl3", &load_err);
}

int er_sha256(const void *data, size_t len, unsigned char out[32], er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code)
        return er_error_set(err, load_err.code, "%s", load_err.msg);
    api.SHA256(data, len, out);
    return 0;
}

int er_sha256_hex(const void *data, size_t len, char out[65], er_error *err)
{
    unsigned char md[32];
    int rc = er_sha256(data, len, md, err);
    if (rc)
        return rc;
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}
