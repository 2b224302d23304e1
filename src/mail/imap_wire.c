/* imap_wire.c — framing and reading of IMAP answers, and the FETCH items a
 * listing uses (see imap_wire.h). */
#include "errand/imap_wire.h"
#include "errand/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RECV_CHUNK 65536
#define MAX_DEPTH  64 /* nested parentheses skipped in an item we do not read */

void er_imap_conn_init(er_imap_conn *c, const er_imap_io *io, size_t max)
{
    memset(c, 0, sizeof *c);
    c->io = *io;
    c->max = max;
    er_buf_init(&c->in, 0); /* bounded per response by max instead */
}

void er_imap_conn_release(er_imap_conn *c)
{
    er_buf_release(&c->in);
    memset(c, 0, sizeof *c);
}

/* The size of the literal announced at the end of line[0..n), or -1. */
static long long literal_at_end(const char *line, size_t n)
{
    if (n && line[n - 1] == '\r')
        n--;
    if (n < 3 || line[n - 1] != '}')
        return -1;
    size_t i = n - 1;
    if (i && line[i - 1] == '+') /* LITERAL+ form, as a server may echo it */
        i--;
    size_t digits_end = i;
    while (i && line[i - 1] >= '0' && line[i - 1] <= '9')
        i--;
    if (i == digits_end || !i || line[i - 1] != '{' || digits_end - i > 18)
        return -1;
    long long v = 0;
    for (size_t k = i; k < digits_end; k++)
        v = v * 10 + (line[k] - '0');
    return v;
}

int er_imap_frame(const char *p, size_t len, size_t max, size_t *scan, size_t *out)
{
    size_t at = *scan;
    while (at < len) {
        /* at is the start of a line of this response (after a literal, the
         * rest of the line that announced it) */
        const char *nl = memchr(p + at, '\n', len - at);
        if (!nl) {
            if (max && len > max)
                return ER_ETOOBIG;
            *scan = at;
            return 0;
        }
        size_t end = (size_t)(nl - p) + 1;
        long long lit = literal_at_end(p + at, end - 1 - at);
        if (max && end > max)
            return ER_ETOOBIG;
        if (lit < 0) {
            *out = end;
            *scan = 0;
            return 1;
        }
        if (max && (unsigned long long)lit > max - (end < max ? end : max))
            return ER_ETOOBIG;
        at = end + (size_t)lit;
    }
    if (max && at > max)
        return ER_ETOOBIG;
    *scan = at;
    return 0;
}

static bool is_tagged(const char *resp, size_t len, const char *tag, size_t tl)
{
    return len > tl && memcmp(resp, tag, tl) == 0 && resp[tl] == ' ';
}

int er_imap_command(er_imap_conn *c, const char *cmd, er_imap_response_fn fn, void *ud,
                    er_error *err)
{
    if (c->broken)
        return er_error_set(err, ER_EUNAVAIL, "the IMAP connection was lost");
    char tag[16];
    size_t tl = (size_t)snprintf(tag, sizeof tag, "e%u", ++c->tag);
    c->delivered = 0;
    char *line = er_xasprintf("%s %s\r\n", tag, cmd);
    int rc = c->io.send(c->io.ud, line, strlen(line), err);
    free(line);
    if (rc) {
        c->broken = true;
        return rc;
    }
    /* the first word of cmd (after UID) names it in errors */
    const char *verb = strncasecmp(cmd, "UID ", 4) == 0 ? cmd + 4 : cmd;
    int vl = (int)strcspn(verb, " ");
    int cb_rc = 0;
    char bye[200] = "";
    size_t start = 0;
    for (;;) {
        size_t n = 0;
        int fr;
        while ((fr = er_imap_frame(c->in.ptr + start, c->in.len - start, c->max, &c->scan, &n)) ==
               1) {
            const char *resp = c->in.ptr + start;
            size_t rl = n;
            start += n;
            while (rl && (resp[rl - 1] == '\n' || resp[rl - 1] == '\r'))
                rl--;
            if (is_tagged(resp, rl, tag, tl)) {
                const char *st = resp + tl + 1;
                size_t sl = rl - tl - 1;
                if (!cb_rc && !(sl >= 2 && strncasecmp(st, "OK", 2) == 0))
                    /* the server's words: "NO [TRYCREATE] Mailbox doesn't exist" */
                    cb_rc = er_error_set(err, ER_EPROTO, "IMAP %.*s: %.*s", vl, verb,
                                         (int)(sl > 300 ? 300 : sl), st);
                er_buf_consume(&c->in, start);
                return cb_rc;
            }
            if (rl >= 2 && resp[0] == '*' && resp[1] == ' ') {
                bool is_bye = rl >= 6 && strncasecmp(resp + 2, "BYE ", 4) == 0;
                if (is_bye)
                    snprintf(bye, sizeof bye, ": %.*s", (int)(rl - 6 > 150 ? 150 : rl - 6),
                             resp + 6);
                else /* a BYE alone: the server hung up before answering */
                    c->delivered++;
                if (fn && !cb_rc)
                    cb_rc = fn(resp, rl, ud, err);
            }
            /* "+ …" (a continuation: no command here sends a literal) and
             * other tags' lines are not ours: skipped */
        }
        if (fr < 0) {
            c->broken = true;
            return er_error_set(err, fr, "IMAP %.*s: one response of the server is over %zu bytes",
                                vl, verb, c->max);
        }
        /* keep only the incomplete response, then read on */
        er_buf_consume(&c->in, start);
        start = 0;
        char chunk[RECV_CHUNK];
        size_t got = 0;
        rc = c->io.recv(c->io.ud, chunk, sizeof chunk, &got, err);
        if (!rc && got == 0)
            rc = er_error_set(err, ER_EUNAVAIL,
                              "the IMAP server closed the connection in the middle of "
                              "the answer to %.*s%s",
                              vl, verb, bye);
        if (rc) {
            c->broken = true;
            return rc;
        }
        er_buf_append(&c->in, chunk, got);
    }
}

/* ---- FETCH items ---- */

/* A cursor over one response, literals included. */
typedef struct cursor {
    const char *p, *end;
    bool bad;
} cursor;

static void skip_sp(cursor *c)
{
    while (c->p < c->end && *c->p == ' ')
        c->p++;
}

static bool word_is(cursor *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || strncasecmp(c->p, w, n) != 0)
        return false;
    const char *after = c->p + n;
    return after == c->end || *after == ' ' || *after == ')' || *after == '(';
}

/* A literal "{n}\r\n" + n bytes: its bytes, or NULL (c->bad). */
static const char *literal(cursor *c, size_t *n)
{
    const char *p = c->p + 1;
    unsigned long long v = 0;
    int digits = 0;
    while (p < c->end && *p >= '0' && *p <= '9' && digits < 18) {
        v = v * 10 + (unsigned long long)(*p++ - '0');
        digits++;
    }
    if (p < c->end && *p == '+')
        p++;
    if (!digits || p >= c->end || *p != '}') {
        c->bad = true;
        return NULL;
    }
    p++;
    if (p < c->end && *p == '\r')
        p++;
    if (p >= c->end || *p != '\n' || v > (unsigned long long)(c->end - p - 1)) {
        c->bad = true;
        return NULL;
    }
    p++;
    *n = (size_t)v;
    c->p = p + v;
    return p;
}

/* Header text of s: CR, LF and NUL cannot stay in one header line; a line
 * break before white space is folding (dropped, as unfolding does), any
 * other becomes a space. */
static void put_header_text(er_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\r' || ch == '\0')
            continue;
        if (ch == '\n') {
            if (!(i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t')))
                er_buf_putc(out, ' ');
            continue;
        }
        er_buf_putc(out, ch);
    }
}

/* An nstring: NIL, a quoted string or a literal; its text into out (NULL:
 * skipped). */
static void nstring(cursor *c, er_buf *out)
{
    skip_sp(c);
    if (word_is(c, "NIL")) {
        c->p += 3;
        return;
    }
    if (c->p < c->end && *c->p == '{') {
        size_t n = 0;
        const char *s = literal(c, &n);
        if (s && out)
            put_header_text(out, s, n);
        return;
    }
    if (c->p >= c->end || *c->p != '"') {
        c->bad = true;
        return;
    }
    for (c->p++; c->p < c->end && *c->p != '"'; c->p++) {
        if (*c->p == '\\' && c->p + 1 < c->end)
            c->p++;
        if (out)
            put_header_text(out, c->p, 1);
    }
    if (c->p >= c->end)
        c->bad = true;
    else
        c->p++;
}

static bool expect(cursor *c, char ch)
{
    skip_sp(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    c->bad = true;
    return false;
}

static unsigned long long number(cursor *c)
{
    skip_sp(c);
    unsigned long long v = 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && c->p - start < 19)
        v = v * 10 + (unsigned long long)(*c->p++ - '0');
    if (c->p == start)
        c->bad = true;
    return v;
}

/* Any value we do not read: an atom or number, a string, a literal, or a
 * parenthesised list of them. */
static void skip_value(cursor *c, int depth)
{
    skip_sp(c);
    if (c->p >= c->end || depth > MAX_DEPTH) {
        c->bad = true;
        return;
    }
    if (*c->p == '"' || *c->p == '{') {
        nstring(c, NULL);
        return;
    }
    if (*c->p == '(') {
        c->p++;
        for (skip_sp(c); !c->bad && c->p < c->end && *c->p != ')'; skip_sp(c))
            skip_value(c, depth + 1);
        expect(c, ')');
        return;
    }
    const char *start = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '(' && *c->p != ')' && *c->p != '"' &&
           *c->p != '{')
        c->p++;
    if (c->p == start)
        c->bad = true;
}

/* An envelope address list as header text: "Name" <box@host>, … (RFC 2047
 * words in a name are left for the MIME reader, outside quotes). */
static void addresses(cursor *c, er_buf *out)
{
    skip_sp(c);
    if (word_is(c, "NIL")) {
        c->p += 3;
        return;
    }
    if (!expect(c, '('))
        return;
    for (skip_sp(c); !c->bad && c->p < c->end && *c->p == '(';) {
        er_buf name = ER_BUF_INIT, box = ER_BUF_INIT, host = ER_BUF_INIT;
        c->p++;
        nstring(c, &name);
        nstring(c, NULL); /* source route */
        nstring(c, &box);
        nstring(c, &host);
        expect(c, ')');
        if (!c->bad && out && box.len && host.len) { /* not a group marker */
            if (out->len)
                er_buf_puts(out, ", ");
            if (name.len && strstr(er_buf_cstr(&name), "=?"))
                er_buf_printf(out, "%s ", er_buf_cstr(&name));
            else if (name.len) {
                er_buf_putc(out, '"');
                for (size_t i = 0; i < name.len; i++) {
                    if (name.ptr[i] == '"' || name.ptr[i] == '\\')
                        er_buf_putc(out, '\\');
                    er_buf_putc(out, name.ptr[i]);
                }
                er_buf_puts(out, "\" ");
            }
            er_buf_printf(out, "<%s@%s>", er_buf_cstr(&box), er_buf_cstr(&host));
        }
        er_buf_release(&name);
        er_buf_release(&box);
        er_buf_release(&host);
        skip_sp(c);
    }
    expect(c, ')');
}

/* ENVELOPE (date subject from sender reply-to to cc bcc in-reply-to
 * message-id) as header text. */
static char *envelope(cursor *c)
{
    er_buf date = ER_BUF_INIT, subject = ER_BUF_INIT, from = ER_BUF_INIT, to = ER_BUF_INIT,
           mid = ER_BUF_INIT;
    expect(c, '(');
    nstring(c, &date);
    nstring(c, &subject);
    addresses(c, &from);
    addresses(c, NULL); /* sender */
    addresses(c, NULL); /* reply-to */
    addresses(c, &to);
    addresses(c, NULL); /* cc */
    addresses(c, NULL); /* bcc */
    nstring(c, NULL);   /* in-reply-to */
    nstring(c, &mid);
    expect(c, ')');
    char *h = NULL;
    if (!c->bad)
        h = er_xasprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n\r\n",
                         er_buf_cstr(&from), er_buf_cstr(&to), er_buf_cstr(&subject),
                         er_buf_cstr(&date), er_buf_cstr(&mid));
    er_buf_release(&date);
    er_buf_release(&subject);
    er_buf_release(&from);
    er_buf_release(&to);
    er_buf_release(&mid);
    return h;
}

static void flags(cursor *c, er_imap_fetch *out)
{
    if (!expect(c, '('))
        return;
    out->has_flags = true;
    for (skip_sp(c); !c->bad && c->p < c->end && *c->p != ')'; skip_sp(c)) {
        const char *start = c->p;
        while (c->p < c->end && *c->p != ' ' && *c->p != ')' && *c->p != '(')
            c->p++;
        size_t n = (size_t)(c->p - start);
        if (n == 0) {
            c->bad = true;
            break;
        }
        if (n == 5 && strncasecmp(start, "\\Seen", 5) == 0)
            out->seen = true;
        else if (n == 8 && strncasecmp(start, "\\Deleted", 8) == 0)
            out->deleted = true;
    }
    expect(c, ')');
}

/* The name of a FETCH item: an atom, with a section in brackets
 * ("BODY[HEADER.FIELDS (FROM)]") and a partial range ("<0>") kept whole. */
static size_t item_name(cursor *c)
{
    const char *start = c->p;
    int bracket = 0;
    while (c->p < c->end && (bracket || (*c->p != ' ' && *c->p != '(' && *c->p != ')'))) {
        if (*c->p == '[')
            bracket++;
        else if (*c->p == ']' && bracket)
            bracket--;
        c->p++;
    }
    return (size_t)(c->p - start);
}

int er_imap_fetch_parse(const char *resp, size_t len, er_imap_fetch *out)
{
    memset(out, 0, sizeof *out);
    cursor c = { resp, resp + len, false };
    if (len < 2 || resp[0] != '*' || resp[1] != ' ')
        return 0;
    c.p += 2;
    const char *seq = c.p;
    while (c.p < c.end && *c.p >= '0' && *c.p <= '9')
        c.p++;
    if (c.p == seq || c.end - c.p < 8 || strncasecmp(c.p, " FETCH (", 8) != 0)
        return 0;
    c.p += 8;
    bool has_uid = false;
    for (skip_sp(&c); !c.bad && c.p < c.end && *c.p != ')'; skip_sp(&c)) {
        const char *name = c.p;
        size_t nl = item_name(&c);
        if (nl == 0) {
            c.bad = true;
            break;
        }
        if (nl == 3 && strncasecmp(name, "UID", 3) == 0) {
            out->uid = (unsigned long)number(&c);
            has_uid = out->uid != 0;
        } else if (nl == 5 && strncasecmp(name, "FLAGS", 5) == 0) {
            skip_sp(&c);
            flags(&c, out);
        } else if (nl == 11 && strncasecmp(name, "RFC822.SIZE", 11) == 0) {
            out->size = (size_t)number(&c);
        } else if (nl == 8 && strncasecmp(name, "ENVELOPE", 8) == 0) {
            skip_sp(&c);
            free(out->header);
            out->header = envelope(&c);
        } else {
            skip_value(&c, 0);
        }
    }
    if (!c.bad)
        expect(&c, ')');
    if (c.bad)
        return -1;
    return has_uid ? 1 : 0;
}

void er_imap_fetch_release(er_imap_fetch *f)
{
    free(f->header);
    f->header = NULL;
}
