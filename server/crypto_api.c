/* crypto_api.c — the entry-point table of OpenSSL's libcrypto. */
#define SRV_CRYPTO_NO_REDIRECT
#include "crypto_api.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>

srv_crypto_api srv_crypto;

#define SYM(f)                          \
    {                                   \
#f, offsetof(srv_crypto_api, f) \
    }
static const er_dl_sym syms[] = {
    SYM(SHA256),
    SYM(SHA1),
    SYM(HMAC),
    SYM(EVP_sha256),
    SYM(CRYPTO_memcmp),
    SYM(EVP_EncodeBlock),
    SYM(BN_bin2bn),
    SYM(BN_num_bits),
    SYM(BN_free),
    SYM(OSSL_PARAM_BLD_new),
    SYM(OSSL_PARAM_BLD_push_BN),
    SYM(OSSL_PARAM_BLD_to_param),
    SYM(OSSL_PARAM_BLD_free),
    SYM(OSSL_PARAM_free),
    SYM(EVP_PKEY_CTX_new_from_name),
    SYM(EVP_PKEY_CTX_free),
    SYM(EVP_PKEY_fromdata_init),
    SYM(EVP_PKEY_fromdata),
    SYM(EVP_PKEY_free),
    SYM(EVP_MD_CTX_new),
    SYM(EVP_MD_CTX_free),
    SYM(EVP_DigestVerifyInit),
    SYM(EVP_DigestVerify),
    SYM(EVP_DigestInit_ex),
    SYM(EVP_DigestUpdate),
    SYM(EVP_DigestFinal_ex),
    SYM(EVP_MD_CTX_copy_ex),
};
#undef SYM

static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;

static void load(void)
{
    static const char *const names[] = { "libcrypto.so.3", "libcrypto.so", NULL };
    er_dl_load(names, syms, sizeof syms / sizeof syms[0], &srv_crypto, "install libssl3",
               &load_err);
}

int srv_crypto_load(er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code && err)
        *err = load_err;
    return load_err.code;
}
