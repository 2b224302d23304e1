/* fuzz.h — what every fuzz target shares: the libFuzzer entry point's
 * prototype, an invariant check that crashes (so both libFuzzer and the
 * standalone driver report it with the input that caused it), and small
 * helpers to turn raw bytes into the strings the parsers take.
 *
 * A target is tests/fuzz/fuzz_<name>.c defining LLVMFuzzerTestOneInput; it is
 * linked either with driver.c (corpus replay plus seeded mutations, run by
 * ctest) or with -fsanitize=fuzzer (coverage-guided, `make fuzz`).  Targets
 * must not leak, print on success, or keep state between inputs beyond what
 * the library itself keeps (the default routing model, the logger). */
#ifndef ERRAND_TEST_FUZZ_H
#define ERRAND_TEST_FUZZ_H

#include "errand/alloc.h"
#include "errand/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the code under test must keep: abort() with the place and the
 * condition, which libFuzzer and the driver both treat as a crash. */
#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* OWNED NUL-terminated copy of the input (embedded NULs stay: C-string
 * parsers see the text up to the first one, as they would from a file). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = er_xmalloc(size + 1);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* The outcome of a fallible call: 0, or a known negative code with a
 * non-empty, terminated message. */
static inline void fuzz_check_result(int rc, const er_error *err)
{
    FUZZ_CHECK(rc <= 0 && rc >= ER_EINTERNAL);
    if (rc < 0) {
        FUZZ_CHECK(err->code == rc);
        FUZZ_CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
        FUZZ_CHECK(err->msg[0] != '\0');
    }
}

/* Splits the input at its first NUL byte into two texts (the second empty
 * when there is none); both pointers borrow from data. */
static inline void fuzz_split2(const uint8_t *data, size_t size, const char **a, size_t *alen,
                               const char **b, size_t *blen)
{
    const uint8_t *nul = size ? memchr(data, '\0', size) : NULL;
    *a = (const char *)data;
    *alen = nul ? (size_t)(nul - data) : size;
    *b = nul ? (const char *)nul + 1 : (const char *)data + size;
    *blen = nul ? size - *alen - 1 : 0;
}

#endif
