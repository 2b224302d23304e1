/* common.h — attributes and small macros shared by every module. */
#ifndef ERRAND_COMMON_H
#define ERRAND_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#if defined(__GNUC__) || defined(__clang__)
#define ER_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define ER_UNUSED            __attribute__((unused))
#define ER_NORETURN          __attribute__((noreturn))
#else
#define ER_PRINTF(fmt, args)
#define ER_UNUSED
#define ER_NORETURN
#endif

#define ER_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Length of a textual id (UUIDv7, 36 chars) plus its NUL. */
#define ER_ID_LEN 37

#define ER_VERSION "0.1.0"

#endif
