/* secret.c — the secret key and secretbox sealing (see secret.h). */
#include "errand/secret.h"
#include "errand/alloc.h"
#include "errand/config.h"
#include "errand/str.h"
#include "sodium_api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEALED_VERSION 1
#define HEX_LEN        (2 * ER_SECRET_KEY_BYTES)

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int er_secret_key_parse(er_secret_key *out, const char *hex, er_error *err)
{
    while (*hex == ' ' || *hex == '\t' || *hex == '\n' || *hex == '\r')
        hex++;
    size_t len = strlen(hex);
    while (len && (hex[len - 1] == ' ' || hex[len - 1] == '\t' || hex[len - 1] == '\n' ||
                   hex[len - 1] == '\r'))
        len--;
    if (len != HEX_LEN)
        return er_error_set(err, ER_EINVAL, "a secret key is %d hex digits, not %zu characters",
                            HEX_LEN, len);
    for (size_t i = 0; i < ER_SECRET_KEY_BYTES; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            er_secret_key_wipe(out);
            return er_error_set(err, ER_EINVAL, "a secret key is %d hex digits (0-9, a-f)",
                                HEX_LEN);
        }
        out->k[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

void er_secret_key_wipe(er_secret_key *k)
{
    volatile unsigned char *p = k->k;
    for (size_t i = 0; i < sizeof k->k; i++)
        p[i] = 0;
}

/* O_EXCL: of two processes starting at once, one writes and both read its key. */
static int create_key_file(const char *path, er_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST
                   ? 0
                   : er_error_set(err, ER_EIO, "cannot create the secret key file '%s': %s", path,
                                  strerror(errno));
    int rc = er_sodium_load(err);
    unsigned char raw[ER_SECRET_KEY_BYTES];
    char hex[HEX_LEN + 2];
    if (!rc) {
        er_sodium.randombytes_buf(raw, sizeof raw);
        for (size_t i = 0; i < sizeof raw; i++)
            snprintf(hex + 2 * i, 3, "%02x", raw[i]);
        hex[HEX_LEN] = '\n';
        if (write(fd, hex, HEX_LEN + 1) != HEX_LEN + 1 || fsync(fd) != 0)
            rc = er_error_set(err, ER_EIO, "cannot write the secret key file '%s': %s", path,
                              strerror(errno));
        er_sodium.memzero(raw, sizeof raw);
        er_sodium.memzero(hex, sizeof hex);
    }
    close(fd);
    if (rc)
        unlink(path);
    return rc;
}

static int check_key_file(int fd, const char *path, er_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return er_error_set(err, ER_EIO, "cannot stat '%s': %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return er_error_set(err, ER_EDENIED, "the secret key file '%s' is not a regular file",
                            path);
    if (sb.st_uid != geteuid())
        return er_error_set(err, ER_EDENIED,
                            "the secret key file '%s' belongs to another user (uid %ld); "
                            "refusing to use it",
                            path, (long)sb.st_uid);
    if (sb.st_mode & 077)
        return er_error_set(err, ER_EDENIED,
                            "the secret key file '%s' is readable by others (mode %04o); "
                            "refusing to use it: run `chmod 600 %s`",
                            path, (unsigned)(sb.st_mode & 07777), path);
    return 0;
}

int er_secret_key_file(er_secret_key *out, const char *path, er_error *err)
{
    int rc = create_key_file(path, err);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return er_error_set(err, ER_EIO, "cannot open the secret key file '%s': %s", path,
                            strerror(errno));
    rc = check_key_file(fd, path, err);
    char text[HEX_LEN + 64];
    ssize_t n = rc ? 0 : read(fd, text, sizeof text - 1);
    close(fd);
    if (rc)
        return rc;
    if (n < 0)
        return er_error_set(err, ER_EIO, "cannot read '%s': %s", path, strerror(errno));
    text[n] = '\0';
    rc = er_secret_key_parse(out, text, err);
    if (rc)
        er_error_prefix(err, "secret key file '%s'", path);
    volatile char *t = text;
    for (size_t i = 0; i < sizeof text; i++)
        t[i] = 0;
    return rc;
}

int er_secret_key_load(er_secret_key *out, er_error *err)
{
    const char *env = getenv("ERRAND_SECRET_KEY");
    if (!er_str_empty(env)) {
        int rc = er_secret_key_parse(out, env, err);
        if (rc)
            er_error_prefix(err, "ERRAND_SECRET_KEY");
        return rc;
    }
    char *dir = er_xdg_dir("data", true, err);
    if (!dir)
        return err ? err->code : ER_EIO;
    char *path = er_xasprintf("%s/secret.key", dir);
    free(dir);
    int rc = er_secret_key_file(out, path, err);
    free(path);
    return rc;
}

int er_secret_seal(er_buf *out, const er_secret_key *key, const void *plain, size_t len,
                   er_error *err)
{
    int rc = er_sodium_load(err);
    if (rc)
        return rc;
    size_t total = 1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *sealed = er_xmalloc(total);
    sealed[0] = SEALED_VERSION;
    unsigned char *nonce = sealed + 1;
    er_sodium.randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    if (er_sodium.secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, plain, len, nonce, key->k) !=
        0)
        rc = er_error_set(err, ER_EINTERNAL, "libsodium could not seal a secret");
    if (!rc)
        rc = er_buf_append(out, sealed, total);
    free(sealed);
    return rc;
}

int er_secret_open(er_buf *out, const er_secret_key *key, const void *sealed, size_t len,
                   er_error *err)
{
    int rc = er_sodium_load(err);
    if (rc)
        return rc;
    const unsigned char *s = sealed;
    size_t head = 1 + crypto_secretbox_NONCEBYTES;
    if (len < head + crypto_secretbox_MACBYTES || s[0] != SEALED_VERSION)
        return er_error_set(err, ER_EPROTO, "stored secret is not in errand's sealed form");
    size_t plen = len - head - crypto_secretbox_MACBYTES;
    unsigned char *plain = er_xmalloc(plen + 1);
    if (er_sodium.secretbox_open_easy(plain, s + head, len - head, s + 1, key->k) != 0)
        rc = er_error_set(err, ER_EAUTH,
                          "cannot decrypt a stored secret: it was sealed with another key "
                          "(did ERRAND_SECRET_KEY or the key file change?) or was altered");
    if (!rc)
        rc = er_buf_append(out, plain, plen);
    er_sodium.memzero(plain, plen + 1);
    free(plain);
    return rc;
}

void er_secret_buf_wipe(er_buf *b)
{
    volatile char *p = b->ptr;
    for (size_t i = 0; p && i < b->cap; i++)
        p[i] = 0;
    er_buf_release(b);
}

int er_secret_random(void *out, size_t n, er_error *err)
{
    int rc = er_sodium_load(err);
    if (!rc)
        er_sodium.randombytes_buf(out, n);
    return rc;
}
