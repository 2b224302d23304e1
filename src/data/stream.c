/* stream.c — a data file as a stream of UTF-8 bytes.
 *
 * A UTF-8 byte order mark is dropped; one of UTF-16 means the file is
 * converted from UTF-16 with iconv, as is any file given an `encoding`.
 * Otherwise the bytes must be UTF-8: they are checked as they pass (cheaply:
 * ASCII runs are skipped eight bytes at a time), and the first bad byte stops
 * the load with its line and what to do. */
#include "errand/alloc.h"
#include "data_int.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAW_CHUNK (1u << 20)

struct er_stream {
    int fd;
    char *path, *display;
    char *encoding; /* iconv's name of the source encoding, or NULL */
    iconv_t cd;
    char *raw; /* converted streams: bytes read, not yet converted */
    size_t rlen;
    bool raw_eof;
    size_t bom;    /* bytes of byte order mark at the start */
    char carry[4]; /* unconverted streams: an incomplete UTF-8 tail */
    size_t ncarry;
    uint64_t offset; /* bytes handed out so far */
    er_error err;
};

const er_error *er_stream_error(const er_stream *st)
{
    return &st->err;
}

static ssize_t read_full(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Line of a byte offset of the (raw) file, counted again: only for messages. */
static long line_of(const er_stream *st, uint64_t off)
{
    int fd = open(st->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[65536];
    long line = 1;
    uint64_t pos = 0;
    ssize_t n;
    while (pos < off && (n = read(fd, buf, sizeof buf)) > 0) {
        size_t take = (uint64_t)n < off - pos ? (size_t)n : (size_t)(off - pos);
        for (size_t i = 0; i < take; i++)
            line += buf[i] == '\n';
        pos += (size_t)n;
    }
    close(fd);
    return line;
}

/* Length of the valid UTF-8 prefix of p[0..n); *incomplete is set when what
 * stops it is a sequence cut by the end of the buffer. */
static size_t utf8_valid(const unsigned char *p, size_t n, bool *incomplete)
{
    size_t i = 0;
    *incomplete = false;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
        if (len == 0 || c > 0xF4)
            return i;
        if (i + len > n) {
            for (size_t k = i + 1; k < n; k++)
                if ((p[k] & 0xC0) != 0x80)
                    return i;
            *incomplete = true;
            return i;
        }
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] > 0x9F) ||
            (c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] > 0x8F))
            return i;
        i += len;
    }
    return i;
}

static ssize_t not_utf8(er_stream *st, uint64_t off, unsigned char byte)
{
    er_error_set(&st->err, ER_EINVAL,
                 "%s:%ld: not UTF-8 (byte 0x%02X); give its encoding, "
                 "e.g. encoding=latin1 or cp1252, to convert it",
                 st->display, line_of(st, off + st->bom), byte);
    return ER_EINVAL;
}

static ssize_t read_utf8(er_stream *st, char *buf, size_t cap)
{
    if (cap <= sizeof st->carry)
        return er_error_set(&st->err, ER_EINTERNAL, "stream: read buffer too small");
    memcpy(buf, st->carry, st->ncarry);
    ssize_t n = read_full(st->fd, buf + st->ncarry, cap - st->ncarry);
    if (n < 0)
        return er_error_set(&st->err, ER_EIO, "cannot read %s: %s", st->display, strerror(errno));
    size_t total = st->ncarry + (size_t)n;
    bool incomplete;
    size_t ok = utf8_valid((const unsigned char *)buf, total, &incomplete);
    if (ok < total && !(incomplete && n > 0))
        return not_utf8(st, st->offset + ok, (unsigned char)buf[ok]);
    st->ncarry = total - ok;
    memcpy(st->carry, buf + ok, st->ncarry);
    st->offset += ok;
    return (ssize_t)ok;
}

static ssize_t read_converted(er_stream *st, char *buf, size_t cap)
{
    for (;;) {
        if (!st->raw_eof && st->rlen < RAW_CHUNK / 2) {
            ssize_t n = read_full(st->fd, st->raw + st->rlen, RAW_CHUNK - st->rlen);
            if (n < 0)
                return er_error_set(&st->err, ER_EIO, "cannot read %s: %s", st->display,
                                    strerror(errno));
            st->raw_eof = n == 0;
            st->rlen += (size_t)n;
        }
        char *in = st->raw, *out = buf;
        size_t inleft = st->rlen, outleft = cap;
        size_t r = iconv(st->cd, &in, &inleft, &out, &outleft);
        int e = errno;
        memmove(st->raw, in, inleft);
        st->rlen = inleft;
        size_t made = cap - outleft;
        st->offset += made;
        if (r == (size_t)-1 && e == EILSEQ)
            return er_error_set(&st->err, ER_EINVAL,
                                "%s: a byte sequence is not valid %s "
                                "(after %llu bytes of text); check the encoding",
                                st->display, st->encoding, (unsigned long long)st->offset);
        if (made > 0)
            return (ssize_t)made;
        if (st->raw_eof && st->rlen > 0)
            return er_error_set(&st->err, ER_EINVAL, "%s ends inside a %s character", st->display,
                                st->encoding);
        if (st->raw_eof)
            return 0;
    }
}

ssize_t er_stream_read(void *stream, char *buf, size_t cap)
{
    er_stream *st = stream;
    if (st->err.code)
        return st->err.code;
    return st->encoding ? read_converted(st, buf, cap) : read_utf8(st, buf, cap);
}

/* Looks at the start for a byte order mark; sets bom and, for UTF-16, the
 * encoding. */
static int read_bom(er_stream *st, er_error *err)
{
    unsigned char b[3] = { 0 };
    ssize_t n = pread(st->fd, b, 3, 0);
    if (n < 0)
        return er_error_set(err, ER_EIO, "cannot read %s: %s", st->display, strerror(errno));
    st->bom = 0;
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        st->bom = 3;
    } else if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
        st->bom = 2;
        free(st->encoding);
        st->encoding = er_xstrdup(b[0] == 0xFF ? "UTF-16LE" : "UTF-16BE");
    }
    return 0;
}

int er_stream_rewind(er_stream *st, er_error *err)
{
    if (lseek(st->fd, (off_t)st->bom, SEEK_SET) < 0)
        return er_error_set(err, ER_EIO, "cannot read %s again: %s", st->display, strerror(errno));
    st->rlen = st->ncarry = 0;
    st->raw_eof = false;
    st->offset = 0;
    er_error_clear(&st->err);
    if (st->encoding)
        iconv(st->cd, NULL, NULL, NULL, NULL);
    return 0;
}

int er_stream_open(er_stream **out, const char *path, const char *display, const char *encoding,
                   er_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return er_error_set(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "cannot open %s: %s",
                            display, strerror(errno));
    er_stream *st = er_xcalloc(1, sizeof *st);
    st->fd = fd;
    st->path = er_xstrdup(path);
    st->display = er_xstrdup(display);
    st->encoding = encoding && *encoding && strcasecmp(encoding, "utf-8") != 0 &&
                           strcasecmp(encoding, "utf8") != 0
                       ? er_xstrdup(encoding)
                       : NULL;
    st->cd = (iconv_t)-1;
    int rc = read_bom(st, err);
    if (rc == 0 && st->encoding) {
        st->cd = iconv_open("UTF-8", st->encoding);
        if (st->cd == (iconv_t)-1)
            rc = er_error_set(err, ER_EINVAL,
                              "unknown encoding '%s' (try latin1, cp1252, "
                              "utf-16, shift_jis; `iconv -l` lists them)",
                              st->encoding);
        st->raw = er_xmalloc(RAW_CHUNK);
    }
    if (rc == 0)
        rc = er_stream_rewind(st, err);
    if (rc) {
        er_stream_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void er_stream_close(er_stream *st)
{
    if (!st)
        return;
    if (st->cd != (iconv_t)-1)
        iconv_close(st->cd);
    close(st->fd);
    free(st->raw);
    free(st->path);
    free(st->display);
    free(st->encoding);
    free(st);
}

char *er_stream_peek(er_stream *st, size_t want, size_t *got, er_error *err)
{
    char *buf = er_xmalloc(want + 1);
    size_t n = 0;
    while (n + 8 < want) {
        ssize_t r = er_stream_read(st, buf + n, want - n);
        if (r < 0 && r != ER_EINVAL) {
            free(buf);
            *err = st->err;
            return NULL;
        }
        if (r <= 0)
            break; /* a bad byte is reported by the real read */
        n += (size_t)r;
    }
    buf[n] = '\0';
    *got = n;
    if (er_stream_rewind(st, err) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
