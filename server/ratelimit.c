/* ratelimit.c — requests per user and endpoint, counted in the cache seam so
 * that every server sharing Redis shares the limit (in-process otherwise).
 *
 * A sliding-window counter: one atomic counter per fixed window
 * (rate_limit:{who}:{endpoint}:{window index}, expiring after two windows) and
 * the estimate previous * (share of the previous window still inside the last
 * W seconds) + current.  It behaves like a token bucket holding `limit`
 * tokens refilled over the window, with two cache calls and no read-modify-
 * write race (the cache offers atomic increments, not compare-and-set).
 * Refused requests are taken back out of the count, so a client that keeps
 * knocking is let in again as the window slides, and Retry-After says when. */
#include "server.h"
#include "errand/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int64_t previous_count(er_cache *c, const char *key)
{
    char *v = NULL;
    long n = 0;
    if (er_cache_get(c, key, &v, NULL, NULL) == 0 && er_str_to_long(v, &n) != 0)
        n = 0;
    free(v);
    return n;
}

/* Milliseconds until one more request would fit, given the counts seen. */
static int64_t wait_ms(int64_t limit, int64_t window, int64_t elapsed, int64_t prev, int64_t cur)
{
    if (cur > limit) {
        /* Not before the next window, where this window's cur - 1 is "previous". */
        double keep = cur - 1 > 0 ? (double)(limit - 1) / (double)(cur - 1) : 1.0;
        return (window - elapsed) + (int64_t)ceil((double)window * (1.0 - keep));
    }
    double t = (double)(window - elapsed) - (double)(limit - cur) * (double)window / (double)prev;
    return t > 0 ? (int64_t)ceil(t) : 0;
}

int srv_ratelimit(srv *s, const char *who, const char *endpoint, int *retry_after_s)
{
    int64_t limit = s->cfg->rate_limit;
    int64_t window = (s->cfg->rate_window > 0 ? s->cfg->rate_window : 1) * 1000;
    er_cache *c;
    er_error err = { 0 };
    if (limit <= 0)
        return 0;
    if (er_env_cache(s->env, &c, &err)) {
        er_log(ER_LOG_WARN, "ratelimit", "not limiting: %s", err.msg);
        return 0;
    }
    int64_t now = er_time_ms(), idx = now / window, elapsed = now - idx * window;
    char cur_key[256], prev_key[256];
    snprintf(cur_key, sizeof cur_key, "rate_limit:%s:%s:%lld", who, endpoint, (long long)idx);
    snprintf(prev_key, sizeof prev_key, "rate_limit:%s:%s:%lld", who, endpoint, (long long)idx - 1);
    int64_t cur = 0;
    if (er_cache_incr(c, cur_key, 1, 2 * window, &cur, &err)) {
        er_log(ER_LOG_WARN, "ratelimit", "not limiting: %s", err.msg);
        return 0;
    }
    int64_t prev = previous_count(c, prev_key);
    double estimate = (double)prev * (double)(window - elapsed) / (double)window + (double)cur;
    if (estimate <= (double)limit)
        return 0;
    int64_t ignored;
    er_cache_incr(c, cur_key, -1, 0, &ignored, NULL);
    int64_t ms = wait_ms(limit, window, elapsed, prev, cur);
    *retry_after_s = (int)((ms + 999) / 1000);
    if (*retry_after_s < 1)
        *retry_after_s = 1;
    return 1;
}
