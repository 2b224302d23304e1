/* imap_wire.h — errand's own reader of IMAP answers (RFC 9051 / 3501).
 *
 * libcurl hands back a custom command's answer only line by line and cuts it
 * (lines dropped past its 16 KB buffer, "Too large response headers" past a
 * few hundred KB), and never hands back literals.  The IMAP backend therefore
 * lets libcurl open and log in a connection (CURLOPT_CONNECT_ONLY: its TLS,
 * STARTTLS, proxy and authentication) and speaks the reading commands on it
 * itself: one command for a whole range, its answer framed here response by
 * response as the bytes arrive, literals ({n}) included, each response handed
 * on whole and then dropped, so memory stays at one response.
 *
 * The transport is two callbacks, so the reader is tested (and fuzzed) with
 * answers cut anywhere, servers that hang up, and huge folders. */
#ifndef ERRAND_IMAP_WIRE_H
#define ERRAND_IMAP_WIRE_H

#include "buf.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct er_imap_io {
    /* Up to cap bytes into buf; *got = 0: the server closed the connection.
     * Blocks until something arrives or its own deadline passes. */
    int (*recv)(void *ud, char *buf, size_t cap, size_t *got, er_error *err);
    /* All of p, or an error. */
    int (*send)(void *ud, const char *p, size_t len, er_error *err);
    void *ud;
} er_imap_io;

typedef struct er_imap_conn {
    er_imap_io io;
    er_buf in;        /* received and not yet handed on */
    size_t scan;      /* framing of the response at in's start resumes here */
    size_t max;       /* one response longer than this fails ER_ETOOBIG */
    unsigned tag;     /* the last command's tag number */
    size_t delivered; /* untagged responses but BYE the last command handed on */
    bool broken;      /* out of step with the server: only closing helps */
} er_imap_conn;

/* One untagged response ("* …"), from its '*' to before its final line
 * break, literals inside as they came.  Non-zero stops handing on (the rest
 * of the answer is still read, so the connection stays usable) and becomes
 * er_imap_command's result. */
typedef int (*er_imap_response_fn)(const char *resp, size_t len, void *ud, er_error *err);

void er_imap_conn_init(er_imap_conn *c, const er_imap_io *io, size_t max);
void er_imap_conn_release(er_imap_conn *c);

/* Sends "TAG cmd\r\n" (cmd: one line, no literals) and reads the answer up
 * to its tagged status, handing each untagged response to fn (may be NULL).
 * 0 on OK; ER_EPROTO on NO or BAD (the server's words in err); ER_EUNAVAIL
 * when the server closes first (c->broken); ER_ETOOBIG for a response over
 * c->max; the transport's own errors as they are. */
int er_imap_command(er_imap_conn *c, const char *cmd, er_imap_response_fn fn, void *ud,
                    er_error *err);

/* Framing: whether p[0..len) starts with a whole response.  1: *out is its
 * length up to and including its final line break; 0: more bytes needed,
 * *scan (0 at first) remembers how far it got; ER_ETOOBIG: a literal or line
 * over max. */
int er_imap_frame(const char *p, size_t len, size_t max, size_t *scan, size_t *out);

/* What a listing needs of one "* n FETCH (…)" response. */
typedef struct er_imap_fetch {
    unsigned long uid;
    bool has_flags, seen, deleted;
    size_t size;
    /* ENVELOPE as header text: From, To, Subject, Date and Message-ID lines
     * and the blank line (RFC 2047 words left for the MIME reader); OWNED,
     * NULL without an ENVELOPE item. */
    char *header;
} er_imap_fetch;

/* 1: a FETCH response with a UID, parsed into out; 0: another response, or
 * a FETCH without UID (an unsolicited flag change); -1: a FETCH response
 * that is malformed.  out is zeroed first; release it in every case. */
int er_imap_fetch_parse(const char *resp, size_t len, er_imap_fetch *out);
void er_imap_fetch_release(er_imap_fetch *f);

#endif
