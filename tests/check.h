/* check.h — the tiny assertion kit every unit test uses.
 *
 * CHECK(cond) records a failure with file:line and goes on; CHECK_OK(call)
 * expects 0 from a call that fills `err` and prints err.msg otherwise.
 * main() ends with `return check_done();`. */
#ifndef ERRAND_TEST_CHECK_H
#define ERRAND_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        check_count++;                                                               \
        if (!(cond)) {                                                               \
            check_failures++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_OK(call)                                                                           \
    do {                                                                                         \
        check_count++;                                                                           \
        int check_rc_ = (call);                                                                  \
        if (check_rc_ != 0) {                                                                    \
            check_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call, check_rc_, \
                    err.msg);                                                                    \
        }                                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        check_count++;                                                                             \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                           \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", expected \"%s\"\n", __FILE__,  \
                    __LINE__, #a, check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                       \
    do {                                                                                      \
        check_count++;                                                                        \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                       \
        if (check_a_ != check_b_) {                                                           \
            check_failures++;                                                                 \
            fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %lld, expected %lld\n", __FILE__, \
                    __LINE__, #a, check_a_, check_b_);                                        \
        }                                                                                     \
    } while (0)

static inline int check_done(void)
{
    if (check_failures) {
        fprintf(stderr, "%d of %d checks failed\n", check_failures, check_count);
        return 1;
    }
    printf("%d checks passed\n", check_count);
    return 0;
}

#endif
