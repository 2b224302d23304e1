/* sse.c — Server-Sent Events parsing for the streaming LLM providers.
 *
 * Complete lines inside a chunk are parsed in place; only a line split across
 * chunks is copied, so a stream costs one copy of its data (into the event). */
#include "errand/sse.h"

#include <string.h>

#define SSE_DEFAULT_MAX ((size_t)1 << 20)

void er_sse_init(er_sse *p, size_t max, er_sse_event_fn fn, void *payload)
{
    memset(p, 0, sizeof *p);
    p->max = max ? max : SSE_DEFAULT_MAX;
    er_buf_init(&p->line, p->max);
    er_buf_init(&p->data, p->max);
    er_buf_init(&p->event, 256);
    p->fn = fn;
    p->payload = payload;
}

void er_sse_release(er_sse *p)
{
    er_buf_release(&p->line);
    er_buf_release(&p->data);
    er_buf_release(&p->event);
}

bool er_sse_pending(const er_sse *p)
{
    return p->line.len > 0 || p->data.len > 0;
}

static int dispatch(er_sse *p, er_error *err)
{
    int rc = 0;
    /* An event without data lines is no event (but resets the name). */
    if (p->data.len > 0) {
        p->data.len--; /* the '\n' after the last data line */
        p->data.ptr[p->data.len] = '\0';
        const char *name = p->event.len ? er_buf_cstr(&p->event) : "message";
        rc = p->fn(name, p->data.ptr, p->data.len, err, p->payload);
    }
    er_buf_reset(&p->data);
    er_buf_reset(&p->event);
    return rc;
}

static int too_big(er_sse *p, er_error *err, const char *what)
{
    return er_error_set(err, ER_ETOOBIG, "event stream %s is longer than %zu bytes", what, p->max);
}

/* One line, without its terminator. */
static int process_line(er_sse *p, const char *s, size_t n, er_error *err)
{
    if (n == 0)
        return dispatch(p, err);
    /* A line that came whole in one chunk is parsed in place, but the cap
     * holds for it too, as for one split across chunks. */
    if (n > p->max)
        return too_big(p, err, "line");
    if (s[0] == ':')
        return 0;
    const char *colon = memchr(s, ':', n);
    size_t flen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = (size_t)(s + n - v);
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(s, "data", 4) == 0) {
        if (er_buf_append(&p->data, v, vlen) || er_buf_putc(&p->data, '\n'))
            return too_big(p, err, "event");
    } else if (flen == 5 && memcmp(s, "event", 5) == 0) {
        er_buf_reset(&p->event);
        if (er_buf_append(&p->event, v, vlen))
            return too_big(p, err, "event name");
    }
    return 0; /* id, retry and unknown fields do not concern us */
}

/* Skips a UTF-8 byte-order mark at the start of the stream, even one split
 * across chunks; returns how many bytes of s it consumed. */
static size_t skip_bom(er_sse *p, const char *s, size_t len, er_error *err, int *rc)
{
    static const char bom[] = "\xEF\xBB\xBF";
    size_t i = 0;
    while (p->bom_seen < 3 && i < len && s[i] == bom[p->bom_seen]) {
        p->bom_seen++;
        i++;
    }
    if (p->bom_seen == 3 || i == len)
        return i;
    /* Not a BOM after all: those bytes start the first line. */
    *rc = er_buf_append(&p->line, bom, p->bom_seen) ? too_big(p, err, "line") : 0;
    p->bom_seen = 3;
    return i;
}

int er_sse_feed(er_sse *p, const char *chunk, size_t len, er_error *err)
{
    size_t i = 0;
    if (p->bom_seen < 3) {
        int rc = 0;
        i = skip_bom(p, chunk, len, err, &rc);
        if (rc)
            return rc;
    }
    if (p->skip_lf && i < len) {
        if (chunk[i] == '\n')
            i++;
        p->skip_lf = false;
    }
    while (i < len) {
        const char *s = chunk + i;
        size_t rest = len - i, n = 0;
        while (n < rest && s[n] != '\n' && s[n] != '\r')
            n++;
        if (n == rest) { /* no terminator yet: keep the partial line */
            if (er_buf_append(&p->line, s, n))
                return too_big(p, err, "line");
            return 0;
        }
        int rc;
        if (p->line.len) {
            if (er_buf_append(&p->line, s, n))
                return too_big(p, err, "line");
            rc = process_line(p, p->line.ptr, p->line.len, err);
            er_buf_reset(&p->line);
        } else {
            rc = process_line(p, s, n, err);
        }
        if (rc)
            return rc;
        i += n + 1;
        if (s[n] == '\r') {
            if (i < len && chunk[i] == '\n')
                i++;
            else if (i == len)
                p->skip_lf = true;
        }
    }
    return 0;
}
