/* test_secret.c — the secret key (environment, key file) and secretbox
 * sealing (include/errand/secret.h). */
#include "check.h"
#include "errand/alloc.h"
#include "errand/secret.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char hex_a[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static char tmpdir[] = "/tmp/errand-test-secret-XXXXXX";

static void test_parse(void)
{
    er_error err;
    er_secret_key k;
    CHECK_OK(er_secret_key_parse(&k, hex_a, &err));
    CHECK(k.k[0] == 0 && k.k[1] == 1 && k.k[31] == 0x1f);
    char padded[100];
    snprintf(padded, sizeof padded, "  %s\n", hex_a);
    CHECK_OK(er_secret_key_parse(&k, padded, &err));
    CHECK_INT(er_secret_key_parse(&k, "abcd", &err), ER_EINVAL);
    CHECK(strstr(err.msg, "64 hex digits") != NULL);
    char bad[65];
    memcpy(bad, hex_a, 65);
    bad[10] = 'g';
    CHECK_INT(er_secret_key_parse(&k, bad, &err), ER_EINVAL);
}

static void test_seal(void)
{
    er_error err;
    er_secret_key k, other;
    CHECK_OK(er_secret_key_parse(&k, hex_a, &err));
    CHECK_OK(er_secret_key_parse(
        &other, "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &err));
    const char *plain = "{\"refresh_token\":\"1//secret-refresh\"}";
    er_buf a, b, out;
    er_buf_init(&a, 4096);
    er_buf_init(&b, 4096);
    er_buf_init(&out, 4096);
    CHECK_OK(er_secret_seal(&a, &k, plain, strlen(plain), &err));
    CHECK_OK(er_secret_seal(&b, &k, plain, strlen(plain), &err));
    CHECK_INT(a.len, 1 + 24 + 16 + strlen(plain));
    CHECK(a.ptr[0] == 1);
    /* A fresh nonce each time, and no plaintext in the sealed bytes. */
    CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) != 0);
    CHECK(memmem(a.ptr, a.len, "secret-refresh", 14) == NULL);

    CHECK_OK(er_secret_open(&out, &k, a.ptr, a.len, &err));
    CHECK(out.len == strlen(plain) && memcmp(out.ptr, plain, out.len) == 0);
    er_buf_reset(&out);
    CHECK_INT(er_secret_open(&out, &other, a.ptr, a.len, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "another key") != NULL);
    CHECK_INT(out.len, 0);
    a.ptr[a.len - 1] ^= 1; /* altered ciphertext */
    CHECK_INT(er_secret_open(&out, &k, a.ptr, a.len, &err), ER_EAUTH);
    CHECK_INT(er_secret_open(&out, &k, a.ptr, 30, &err), ER_EPROTO);
    b.ptr[0] = 9; /* unknown version */
    CHECK_INT(er_secret_open(&out, &k, b.ptr, b.len, &err), ER_EPROTO);
    /* Empty secrets seal too. */
    er_buf_reset(&a);
    CHECK_OK(er_secret_seal(&a, &k, "", 0, &err));
    CHECK_OK(er_secret_open(&out, &k, a.ptr, a.len, &err));
    CHECK_INT(out.len, 0);
    er_buf_release(&a);
    er_buf_release(&b);
    er_secret_buf_wipe(&out);
    er_secret_key_wipe(&k);
    CHECK(k.k[0] == 0 && k.k[5] == 0);
}

static void test_key_file(void)
{
    er_error err;
    er_secret_key k1, k2;
    char *path = er_xasprintf("%s/secret.key", tmpdir);
    /* Created on first use, mode 0600, then read back the same. */
    CHECK_OK(er_secret_key_file(&k1, path, &err));
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK_OK(er_secret_key_file(&k2, path, &err));
    CHECK(memcmp(k1.k, k2.k, sizeof k1.k) == 0);

    /* Looser permissions are refused, naming the fix. */
    CHECK(chmod(path, 0644) == 0);
    CHECK_INT(er_secret_key_file(&k2, path, &err), ER_EDENIED);
    CHECK(strstr(err.msg, "readable by others") && strstr(err.msg, "chmod 600"));
    CHECK(chmod(path, 0640) == 0);
    CHECK_INT(er_secret_key_file(&k2, path, &err), ER_EDENIED);
    CHECK(chmod(path, 0600) == 0);

    /* A damaged file is an error, never silently replaced. */
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, "not a key\n", 10) == 10);
    close(fd);
    CHECK_INT(er_secret_key_file(&k2, path, &err), ER_EINVAL);
    CHECK(strstr(err.msg, path) != NULL);
    unlink(path);

    /* A symlink is not followed. */
    char *target = er_xasprintf("%s/elsewhere", tmpdir);
    fd = open(target, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0 && write(fd, hex_a, 64) == 64);
    close(fd);
    CHECK(symlink(target, path) == 0);
    CHECK(er_secret_key_file(&k2, path, &err) != 0);
    unlink(path);
    unlink(target);
    free(target);

    /* The environment wins over the key file; without it, DATA/secret.key. */
    setenv("ERRAND_SECRET_KEY", hex_a, 1);
    CHECK_OK(er_secret_key_load(&k1, &err));
    CHECK(k1.k[31] == 0x1f);
    setenv("ERRAND_SECRET_KEY", "short", 1);
    CHECK_INT(er_secret_key_load(&k1, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "ERRAND_SECRET_KEY") != NULL);
    unsetenv("ERRAND_SECRET_KEY");
    setenv("XDG_DATA_HOME", tmpdir, 1);
    CHECK_OK(er_secret_key_load(&k1, &err));
    char *data_key = er_xasprintf("%s/errand/secret.key", tmpdir);
    CHECK(stat(data_key, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK_OK(er_secret_key_file(&k2, data_key, &err));
    CHECK(memcmp(k1.k, k2.k, sizeof k1.k) == 0);
    unlink(data_key);
    free(data_key);
    free(path);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_parse();
    test_seal();
    test_key_file();
    char *cmd = er_xasprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    free(cmd);
    return check_done();
}
