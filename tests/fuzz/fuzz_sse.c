/* fuzz_sse.c — the Server-Sent Events parser (src/llm/sse.c) on arbitrary
 * bytes.  The stream is parsed whole, byte by byte, and in pieces whose sizes
 * come from the input; every way must give the same events, the same result
 * and the same pending state, since a network may split a stream anywhere.
 * Each is done with the default cap and with a small one (64 bytes), so the
 * ER_ETOOBIG paths run too. */
#include "fuzz.h"
#include "errand/buf.h"
#include "errand/sse.h"

#define SMALL_CAP 64

/* Every event as "name\0data\0", so two runs compare as bytes. */
static int collect(const char *event, const char *data, size_t len, er_error *err, void *payload)
{
    (void)err;
    er_buf *out = payload;
    FUZZ_CHECK(event && data);
    FUZZ_CHECK(data[len] == '\0');
    er_buf_append(out, event, strlen(event) + 1);
    er_buf_append(out, data, len + 1);
    return 0;
}

typedef struct outcome {
    er_buf events;
    int rc;
    bool pending;
} outcome;

/* Parses data in pieces: sizes[i % nsizes] bytes each (0 in sizes: whole). */
static void parse(outcome *o, size_t cap, const uint8_t *data, size_t size, const uint8_t *sizes,
                  size_t nsizes)
{
    er_sse p;
    er_error err = { 0 };
    er_buf_init(&o->events, 0);
    er_sse_init(&p, cap, collect, &o->events);
    o->rc = 0;
    for (size_t off = 0, i = 0; off < size && !o->rc; i++) {
        size_t n = nsizes ? sizes[i % nsizes] : size;
        if (n == 0 || n > size - off)
            n = size - off;
        o->rc = er_sse_feed(&p, (const char *)data + off, n, &err);
        off += n;
    }
    fuzz_check_result(o->rc, &err);
    FUZZ_CHECK(o->rc == 0 || o->rc == ER_ETOOBIG);
    o->pending = o->rc == 0 && er_sse_pending(&p);
    er_sse_release(&p);
}

static void same(const outcome *a, const outcome *b)
{
    FUZZ_CHECK(a->rc == b->rc);
    FUZZ_CHECK(a->pending == b->pending);
    FUZZ_CHECK(a->events.len == b->events.len);
    FUZZ_CHECK(a->events.len == 0 || memcmp(a->events.ptr, b->events.ptr, a->events.len) == 0);
}

static void release(outcome *o)
{
    er_buf_release(&o->events);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t one[] = { 1 };
    /* Piece sizes from the input's first bytes (1..16), so the fuzzer steers the cuts. */
    uint8_t sizes[8];
    size_t nsizes = size < sizeof sizes ? size : sizeof sizes;
    for (size_t i = 0; i < nsizes; i++)
        sizes[i] = (uint8_t)(1 + data[i] % 16);
    static const size_t caps[] = { 0, SMALL_CAP };
    for (size_t c = 0; c < ER_ARRAY_LEN(caps); c++) {
        outcome whole, bytes, cuts;
        parse(&whole, caps[c], data, size, NULL, 0);
        parse(&bytes, caps[c], data, size, one, 1);
        parse(&cuts, caps[c], data, size, sizes, nsizes);
        same(&whole, &bytes);
        same(&whole, &cuts);
        release(&whole);
        release(&bytes);
        release(&cuts);
    }
    return 0;
}
