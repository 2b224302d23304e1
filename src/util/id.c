/* id.c — UUIDv7 (RFC 9562): 48-bit millisecond time, then randomness, with a
 * per-process counter so ids made in the same millisecond still sort. */
#include "errand/id.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_ms;
static uint16_t seq; /* 12 bits of rand_a, bumped within one millisecond */

void er_id_new(char out[ER_ID_LEN])
{
    uint8_t r[10];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* getrandom on Linux only fails before the pool is ready; mix the clock in. */
        uint64_t t = er_mono_ns();
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)(i * 151);
    }
    pthread_mutex_lock(&lock);
    int64_t ms = er_time_ms();
    if (ms <= last_ms) {
        ms = last_ms;
        seq = (uint16_t)((seq + 1) & 0x0fff);
        if (seq == 0)
            ms = ++last_ms;
    } else {
        seq = (uint16_t)(((r[0] << 8) | r[1]) & 0x07ff); /* leave room to count up */
        last_ms = ms;
    }
    uint16_t a = seq;
    pthread_mutex_unlock(&lock);

    uint8_t b[16];
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)((uint64_t)ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | ((a >> 8) & 0x0f));
    b[7] = (uint8_t)(a & 0xff);
    b[8] = (uint8_t)(0x80 | (r[2] & 0x3f));
    memcpy(b + 9, r + 3, 7);
    snprintf(out, ER_ID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

bool er_id_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}
