/* fuzz_config.c — the INI configuration file parser (src/util/config.c).
 * er_config_load reads a path, so the input goes into a memfd and is read
 * back through /proc/self/fd.  Invariants: failures are EINVAL, ENOTFOUND or
 * ETOOBIG; a loaded configuration written out again as INI (every value
 * quoted) loads to the same settings. */
#include "fuzz.h"
#include "errand/buf.h"
#include "errand/config.h"

#include <sys/mman.h>
#include <unistd.h>

/* The environment overrides the file: none of it may leak into the run. */
static void clear_environment(void)
{
    for (size_t i = 0; i < er_config_nkeys; i++)
        if (er_config_keys[i].env)
            unsetenv(er_config_keys[i].env);
    setenv("HOME", "/nonexistent-fuzz-home", 1);
    unsetenv("XDG_DATA_HOME");
    setenv("USER", "fuzz", 1);
}

static int load_text(er_config *cfg, const char *text, size_t len, er_error *err)
{
    int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        FUZZ_CHECK(w > 0);
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int rc = er_config_load(cfg, path, err);
    close(fd);
    return rc;
}

/* Every setting as "[section]\nkey = \"value\"" lines; an unset one as "",
 * which unsets a default. */
static void write_ini(er_buf *out, const er_config *cfg)
{
    for (size_t i = 0; i < er_config_nkeys; i++) {
        const er_config_key *k = &er_config_keys[i];
        char *v = er_config_get_text(cfg, k, false);
        er_buf_printf(out, "[%s]\n%s = \"%s\"\n", k->section, k->key, v ? v : "");
        free(v);
    }
}

static void check_same(const er_config *a, const er_config *b)
{
    for (size_t i = 0; i < er_config_nkeys; i++) {
        char *x = er_config_get_text(a, &er_config_keys[i], false);
        char *y = er_config_get_text(b, &er_config_keys[i], false);
        FUZZ_CHECK((x == NULL) == (y == NULL));
        FUZZ_CHECK(!x || strcmp(x, y) == 0);
        free(x);
        free(y);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool cleared;
    if (!cleared) {
        clear_environment();
        cleared = true;
    }
    er_config cfg;
    er_error err = { 0 };
    int rc = load_text(&cfg, (const char *)data, size, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EINVAL || rc == ER_ENOTFOUND || rc == ER_ETOOBIG);
    if (rc)
        return 0;
    FUZZ_CHECK(cfg.config_path && cfg.user && cfg.workspace && cfg.database_url);
    (void)er_config_llm_provider(&cfg);
    er_buf ini;
    er_buf_init(&ini, 0);
    write_ini(&ini, &cfg);
    er_config again;
    rc = load_text(&again, ini.ptr ? ini.ptr : "", ini.len, &err);
    /* A value may fill a line once quoted; the cap says so. */
    FUZZ_CHECK(rc == 0 || rc == ER_ETOOBIG);
    if (rc == 0) {
        check_same(&cfg, &again);
        er_config_release(&again);
    }
    er_buf_release(&ini);
    er_config_release(&cfg);
    return 0;
}
