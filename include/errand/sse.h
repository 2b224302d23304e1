/* sse.h — incremental Server-Sent Events parser (the WHATWG event-stream format).
 *
 * Feed the body in chunks of any size, split anywhere; each complete event
 * (ended by a blank line) is handed to the callback with its event name
 * ("message" when the stream named none) and its data lines joined by '\n'.
 * Lines may end in "\n", "\r\n" or "\r"; comment lines (":…") and fields other
 * than event/data are skipped.  A line or an event's data longer than the cap
 * is ER_ETOOBIG.  Not thread-safe: one parser per stream. */
#ifndef ERRAND_SSE_H
#define ERRAND_SSE_H

#include "common.h"
#include "error.h"
#include "buf.h"

/* data is NUL-terminated and BORROWED for the call.  Return 0 to go on, or a
 * negative ER_E* code (with err filled) to stop: er_sse_feed returns it. */
typedef int (*er_sse_event_fn)(const char *event, const char *data, size_t len, er_error *err,
                               void *payload);

typedef struct er_sse {
    er_buf line;      /* a line split across chunks */
    er_buf data;      /* data of the event being read */
    er_buf event;     /* its event name */
    bool skip_lf;     /* the last chunk ended in '\r' */
    uint8_t bom_seen; /* bytes of the optional byte-order mark seen (3: past it) */
    size_t max;
    er_sse_event_fn fn;
    void *payload;
} er_sse;

/* max caps a line and an event's data (0: 1 MiB). */
void er_sse_init(er_sse *p, size_t max, er_sse_event_fn fn, void *payload);
int er_sse_feed(er_sse *p, const char *chunk, size_t len, er_error *err);
/* True when the stream stopped in the middle of an event (bytes not yet
 * dispatched): a cut-off stream, by the format's rules the event is dropped. */
bool er_sse_pending(const er_sse *p);
void er_sse_release(er_sse *p);

#endif
