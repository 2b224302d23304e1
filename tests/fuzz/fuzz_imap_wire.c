/* fuzz_imap_wire.c — an IMAP server's answer as errand's own reader takes it
 * (er_imap_command, er_imap_frame, er_imap_fetch_parse; src/mail/imap_wire.c).
 * The input's first byte picks the size of the pieces the answer arrives in,
 * the rest is the answer to the first command (tag e1); past its end the
 * server has closed.  Invariants: the same responses and the same result
 * whole and in pieces; only the reader's known codes; a parsed FETCH has a
 * UID, and its envelope header is five CRLF-ended lines and a blank one. */
#include "fuzz.h"
#include "errand/buf.h"
#include "errand/imap_wire.h"

typedef struct server {
    const char *p;
    size_t len, off, chunk;
} server;

static int srv_send(void *ud, const char *p, size_t len, er_error *err)
{
    (void)ud, (void)p, (void)len, (void)err;
    return 0;
}

static int srv_recv(void *ud, char *buf, size_t cap, size_t *got, er_error *err)
{
    (void)err;
    server *s = ud;
    size_t n = s->len - s->off;
    if (n > s->chunk)
        n = s->chunk;
    if (n > cap)
        n = cap;
    memcpy(buf, s->p + s->off, n);
    s->off += n;
    *got = n;
    return 0;
}

static int on_resp(const char *resp, size_t len, void *ud, er_error *err)
{
    (void)err;
    er_buf *seen = ud;
    FUZZ_CHECK(len >= 2 && resp[0] == '*');
    er_imap_fetch f;
    int r = er_imap_fetch_parse(resp, len, &f);
    FUZZ_CHECK(r >= -1 && r <= 1);
    if (r == 1) {
        FUZZ_CHECK(f.uid != 0);
        if (f.header) {
            size_t crlf = 0;
            for (const char *h = f.header; *h; h++) {
                if (*h == '\n')
                    FUZZ_CHECK(h > f.header && h[-1] == '\r');
                if (*h == '\r') {
                    FUZZ_CHECK(h[1] == '\n');
                    crlf++;
                }
            }
            FUZZ_CHECK(crlf == 6);
        }
    }
    er_buf_printf(seen, "%d %lu %d %d %zu %s|", r, f.uid, f.seen, f.deleted, f.size,
                  f.header ? f.header : "");
    er_imap_fetch_release(&f);
    er_buf_append(seen, resp, len);
    return er_buf_putc(seen, '\n');
}

static int run(const char *p, size_t len, size_t chunk, er_buf *seen, size_t *delivered)
{
    server s = { p, len, 0, chunk };
    er_imap_io io = { srv_recv, srv_send, &s };
    er_imap_conn c;
    er_imap_conn_init(&c, &io, 4096);
    er_error err = { 0 };
    int rc =
        er_imap_command(&c, "UID FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)", on_resp, seen, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EPROTO || rc == ER_EUNAVAIL || rc == ER_ETOOBIG);
    FUZZ_CHECK(c.broken == (rc == ER_EUNAVAIL || rc == ER_ETOOBIG));
    *delivered = c.delivered;
    er_imap_conn_release(&c);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = 1 + data[0] % 64;
    const char *p = (const char *)data + 1;
    size_t len = size - 1;
    er_buf whole = ER_BUF_INIT, pieces = ER_BUF_INIT;
    size_t dw = 0, dp = 0;
    int rw = run(p, len, len ? len : 1, &whole, &dw);
    int rp = run(p, len, chunk, &pieces, &dp);
    FUZZ_CHECK(rw == rp && dw == dp);
    FUZZ_CHECK(whole.len == pieces.len &&
               (!whole.len || memcmp(whole.ptr, pieces.ptr, whole.len) == 0));
    /* framing alone agrees with the reader on where the first response ends */
    size_t scan = 0, n = 0;
    int fr = er_imap_frame(p, len, 4096, &scan, &n);
    FUZZ_CHECK(fr == 0 || fr == 1 || fr == ER_ETOOBIG);
    if (fr == 1)
        FUZZ_CHECK(n > 0 && n <= len && p[n - 1] == '\n');
    er_buf_release(&whole);
    er_buf_release(&pieces);
    return 0;
}
