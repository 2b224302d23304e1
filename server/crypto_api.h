/* crypto_api.h — OpenSSL's libcrypto (hashes, HMAC, RSA signatures), loaded
 * on first use (see errand/dl.h).
 *
 * The server's tokens need it (`errand serve`, `errand user token`); a run of
 * anything else should not load it.
 * Include this instead of the library's headers: calls keep their usual
 * names and go through the table, which srv_crypto_load() fills. */
#ifndef ERRAND_CRYPTO_API_H
#define ERRAND_CRYPTO_API_H

#include "errand/error.h"
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

typedef struct srv_crypto_api {
    __typeof__(SHA256) *SHA256;
    __typeof__(SHA1) *SHA1;
    __typeof__(HMAC) *HMAC;
    __typeof__(EVP_sha256) *EVP_sha256;
    __typeof__(CRYPTO_memcmp) *CRYPTO_memcmp;
    __typeof__(EVP_EncodeBlock) *EVP_EncodeBlock;
    __typeof__(BN_bin2bn) *BN_bin2bn;
    __typeof__(BN_num_bits) *BN_num_bits;
    __typeof__(BN_free) *BN_free;
    __typeof__(OSSL_PARAM_BLD_new) *OSSL_PARAM_BLD_new;
    __typeof__(OSSL_PARAM_BLD_push_BN) *OSSL_PARAM_BLD_push_BN;
    __typeof__(OSSL_PARAM_BLD_to_param) *OSSL_PARAM_BLD_to_param;
    __typeof__(OSSL_PARAM_BLD_free) *OSSL_PARAM_BLD_free;
    __typeof__(OSSL_PARAM_free) *OSSL_PARAM_free;
    __typeof__(EVP_PKEY_CTX_new_from_name) *EVP_PKEY_CTX_new_from_name;
    __typeof__(EVP_PKEY_CTX_free) *EVP_PKEY_CTX_free;
    __typeof__(EVP_PKEY_fromdata_init) *EVP_PKEY_fromdata_init;
    __typeof__(EVP_PKEY_fromdata) *EVP_PKEY_fromdata;
    __typeof__(EVP_PKEY_free) *EVP_PKEY_free;
    __typeof__(EVP_MD_CTX_new) *EVP_MD_CTX_new;
    __typeof__(EVP_MD_CTX_free) *EVP_MD_CTX_free;
    __typeof__(EVP_DigestVerifyInit) *EVP_DigestVerifyInit;
    __typeof__(EVP_DigestVerify) *EVP_DigestVerify;
    __typeof__(EVP_DigestInit_ex) *EVP_DigestInit_ex;
    __typeof__(EVP_DigestUpdate) *EVP_DigestUpdate;
    __typeof__(EVP_DigestFinal_ex) *EVP_DigestFinal_ex;
    __typeof__(EVP_MD_CTX_copy_ex) *EVP_MD_CTX_copy_ex;
} srv_crypto_api;

extern srv_crypto_api srv_crypto;
/* Loads the library once (thread-safe); ER_EUNAVAIL when it is missing. */
int srv_crypto_load(er_error *err);

#ifndef SRV_CRYPTO_NO_REDIRECT
#define SHA256                     (srv_crypto.SHA256)
#define SHA1                       (srv_crypto.SHA1)
#define HMAC                       (srv_crypto.HMAC)
#define EVP_sha256                 (srv_crypto.EVP_sha256)
#define CRYPTO_memcmp              (srv_crypto.CRYPTO_memcmp)
#define EVP_EncodeBlock            (srv_crypto.EVP_EncodeBlock)
#define BN_bin2bn                  (srv_crypto.BN_bin2bn)
#define BN_num_bits                (srv_crypto.BN_num_bits)
#define BN_free                    (srv_crypto.BN_free)
#define OSSL_PARAM_BLD_new         (srv_crypto.OSSL_PARAM_BLD_new)
#define OSSL_PARAM_BLD_push_BN     (srv_crypto.OSSL_PARAM_BLD_push_BN)
#define OSSL_PARAM_BLD_to_param    (srv_crypto.OSSL_PARAM_BLD_to_param)
#define OSSL_PARAM_BLD_free        (srv_crypto.OSSL_PARAM_BLD_free)
#define OSSL_PARAM_free            (srv_crypto.OSSL_PARAM_free)
#define EVP_PKEY_CTX_new_from_name (srv_crypto.EVP_PKEY_CTX_new_from_name)
#define EVP_PKEY_CTX_free          (srv_crypto.EVP_PKEY_CTX_free)
#define EVP_PKEY_fromdata_init     (srv_crypto.EVP_PKEY_fromdata_init)
#define EVP_PKEY_fromdata          (srv_crypto.EVP_PKEY_fromdata)
#define EVP_PKEY_free              (srv_crypto.EVP_PKEY_free)
#define EVP_MD_CTX_new             (srv_crypto.EVP_MD_CTX_new)
#define EVP_MD_CTX_free            (srv_crypto.EVP_MD_CTX_free)
#define EVP_DigestVerifyInit       (srv_crypto.EVP_DigestVerifyInit)
#define EVP_DigestVerify           (srv_crypto.EVP_DigestVerify)
#define EVP_DigestInit_ex          (srv_crypto.EVP_DigestInit_ex)
#define EVP_DigestUpdate           (srv_crypto.EVP_DigestUpdate)
#define EVP_DigestFinal_ex         (srv_crypto.EVP_DigestFinal_ex)
#define EVP_MD_CTX_copy_ex         (srv_crypto.EVP_MD_CTX_copy_ex)
#endif

#endif
