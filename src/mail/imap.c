/* imap.c — the IMAP/SMTP mail backend over libcurl.
 *
 * Listing (STATUS, SEARCH, FETCH of flags, sizes and envelopes) goes over a
 * connection libcurl opens and logs in (CURLOPT_CONNECT_ONLY, so its TLS,
 * STARTTLS and authentication) on which errand sends the commands and reads
 * the answers itself (imap_wire.h): one command for a whole range, read as
 * it streams, where libcurl's custom commands cut an answer past 16 KB.  The
 * rest goes through a second easy handle per er_mail, its IMAP connection
 * (and selected mailbox) reused between commands.  libcurl hands literals
 * back only for its own FETCH form (URL ";UID=n;SECTION=…"), which uses
 * BODY[] and so marks a message read: the backend notes which messages were
 * unread first and clears \Seen again afterwards, so looking never changes a
 * mailbox.  TLS: imaps:// and smtps:// are implicit TLS; smtp:// off
 * loopback requires STARTTLS; plain imap:// is refused off loopback
 * (er_mail_check_url). */
#include "errand/mail.h"
#include "errand/alloc.h"
#include "errand/imap_wire.h"
#include "errand/log.h"
#include "errand/mime.h"
#include "errand/str.h"
#include "../http/curl_api.h"
#include "gmime_api.h"

#include <ctype.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define READ_MAX      ((size_t)32 << 20) /* one message, or one command's answer */
#define CONNECT_S     15L
#define TOTAL_S       120L
#define DEFAULT_LIMIT 20
/* Messages per UID FETCH through libcurl (the fallback one message at a
 * time): it hands back the lines of a custom command's answer only while
 * they fit its 16 KB receive buffer. */
#define META_BATCH 100
/* UIDs per SEARCH: a search stops at the window that fills the limit, so a
 * page of a large folder does not search all of it. */
#define SEARCH_WINDOW 5000
/* Characters of UID set per FETCH command: servers cap a command line
 * (Dovecot at 64 KB). */
#define SET_CHARS 16000

typedef struct imap {
    er_mail base;
    const er_curl_api *C;
    CURL *easy;
    /* the listing's own connection, opened on first use */
    CURL *wire;
    curl_socket_t wire_fd;
    er_imap_conn conn;
    char *selected;        /* the folder EXAMINEd there, or NULL */
    unsigned long uidnext; /* its UIDNEXT when examined (0: not told) */
    pthread_t warm;        /* loading GMime meanwhile (mime_warm) */
    bool warming;
    char *imap_base; /* scheme://host[:port], no path */
    char *smtp_url;
    char *user, *password;
    bool imap_lo, smtp_lo;
    char errbuf[CURL_ERROR_SIZE];
} imap;

static imap *as_imap(er_mail *m)
{
    return (imap *)m;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    return er_buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

typedef struct upload {
    const char *p;
    size_t len, off;
} upload;

static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
    upload *u = ud;
    size_t want = size * n, left = u->len - u->off;
    if (want > left)
        want = left;
    memcpy(dst, u->p + u->off, want);
    u->off += want;
    return want;
}

static int curl_fail(imap *im, CURLcode rc, const char *what, er_error *err)
{
    const char *detail = im->errbuf[0] ? im->errbuf : im->C->easy_strerror(rc);
    int code = ER_EPROTO;
    switch (rc) {
    case CURLE_LOGIN_DENIED: code = ER_EAUTH; break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR: code = ER_EUNAVAIL; break;
    case CURLE_OPERATION_TIMEDOUT: code = ER_ETIMEDOUT; break;
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: code = ER_EDENIED; break;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR: code = ER_ETOOBIG; break;
    default: break;
    }
    return er_error_set(err, code, "%s: %s", what, detail);
}

/* Common options of every transfer on handle h; the caller adds its own. */
static void prepare_handle(imap *im, CURL *h, const char *url, bool smtp)
{
    const er_curl_api *C = im->C;
    C->easy_reset(h);
    im->errbuf[0] = '\0';
    C->easy_setopt(h, CURLOPT_URL, url);
    C->easy_setopt(h, CURLOPT_ERRORBUFFER, im->errbuf);
    C->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    C->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_S);
    C->easy_setopt(h, CURLOPT_TIMEOUT, TOTAL_S);
    C->easy_setopt(h, CURLOPT_PROTOCOLS_STR, smtp ? "smtp,smtps" : "imap,imaps");
    if (!(smtp ? im->smtp_lo : im->imap_lo))
        C->easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (im->user)
        C->easy_setopt(h, CURLOPT_USERNAME, im->user);
    if (im->password)
        C->easy_setopt(h, CURLOPT_PASSWORD, im->password);
}

static void prepare(imap *im, const char *url, bool smtp)
{
    prepare_handle(im, im->easy, url, smtp);
}

/* One IMAP command: custom (NULL: what the URL says) against url; the
 * untagged answer (or the fetched literal) into out. */
static int imap_do(imap *im, const char *url, const char *custom, er_buf *out, er_error *err)
{
    prepare(im, url, false);
    const er_curl_api *C = im->C;
    if (custom)
        C->easy_setopt(im->easy, CURLOPT_CUSTOMREQUEST, custom);
    C->easy_setopt(im->easy, CURLOPT_WRITEFUNCTION, on_write);
    C->easy_setopt(im->easy, CURLOPT_WRITEDATA, out);
    CURLcode rc = C->easy_perform(im->easy);
    if (rc != CURLE_OK)
        return curl_fail(im, rc, custom ? custom : "IMAP", err);
    return 0;
}

/* ---- the listing's connection ---- */

static int quote(er_buf *b, const char *s, er_error *err);

/* Waits until the wire's socket can be read (or written); the deadline is
 * the one a whole libcurl transfer has, counted from the last progress. */
static int wire_wait(imap *im, bool out, er_error *err)
{
    struct pollfd pfd = { .fd = (int)im->wire_fd, .events = out ? POLLOUT : POLLIN };
    int n = poll(&pfd, 1, (int)(TOTAL_S * 1000));
    if (n == 0)
        return er_error_set(err, ER_ETIMEDOUT, "the IMAP server did not answer for %ld s", TOTAL_S);
    if (n < 0)
        return er_error_set(err, ER_EUNAVAIL, "IMAP connection: waiting failed");
    return 0;
}

static int wire_recv(void *ud, char *buf, size_t cap, size_t *got, er_error *err)
{
    imap *im = ud;
    for (;;) {
        CURLcode rc = im->C->easy_recv(im->wire, buf, cap, got);
        if (rc == CURLE_OK)
            return 0; /* *got == 0: closed */
        if (rc != CURLE_AGAIN)
            return er_error_set(err, ER_EUNAVAIL, "IMAP connection: %s", im->C->easy_strerror(rc));
        int w = wire_wait(im, false, err);
        if (w)
            return w;
    }
}

static int wire_send(void *ud, const char *p, size_t len, er_error *err)
{
    imap *im = ud;
    while (len) {
        size_t sent = 0;
        CURLcode rc = im->C->easy_send(im->wire, p, len, &sent);
        if (rc == CURLE_AGAIN) {
            int w = wire_wait(im, true, err);
            if (w)
                return w;
            continue;
        }
        if (rc != CURLE_OK)
            return er_error_set(err, ER_EUNAVAIL, "IMAP connection: %s", im->C->easy_strerror(rc));
        p += sent;
        len -= sent;
    }
    return 0;
}

static void wire_close(imap *im)
{
    /* libcurl logs out on cleanup and waits for the answer: not on a
     * connection out of step or gone, where that could wait for minutes */
    if (im->wire && im->conn.broken)
        shutdown((int)im->wire_fd, SHUT_RDWR);
    if (im->wire)
        im->C->easy_cleanup(im->wire);
    im->wire = NULL;
    er_imap_conn_release(&im->conn);
    free(im->selected);
    im->selected = NULL;
}

/* Connects and logs in as every transfer does (prepare's options), then
 * leaves the connection to the reader. */
static int wire_open(imap *im, er_error *err)
{
    const er_curl_api *C = im->C;
    im->wire = C->easy_init();
    if (!im->wire)
        return er_error_set(err, ER_EINTERNAL, "cannot create a libcurl handle");
    char *url = er_xasprintf("%s/", im->imap_base);
    prepare_handle(im, im->wire, url, false);
    free(url);
    /* connect, TLS and login under prepare's deadlines; then the reader
     * keeps its own (wire_wait) */
    C->easy_setopt(im->wire, CURLOPT_CONNECT_ONLY, 1L);
    CURLcode rc = C->easy_perform(im->wire);
    if (rc == CURLE_OK &&
        (C->easy_getinfo(im->wire, CURLINFO_ACTIVESOCKET, &im->wire_fd) != CURLE_OK ||
         im->wire_fd == CURL_SOCKET_BAD))
        rc = CURLE_COULDNT_CONNECT;
    if (rc != CURLE_OK) {
        int code = curl_fail(im, rc, "IMAP", err);
        C->easy_cleanup(im->wire);
        im->wire = NULL;
        return code;
    }
    er_imap_io io = { wire_recv, wire_send, im };
    er_imap_conn_init(&im->conn, &io, READ_MAX);
    return 0;
}

typedef struct examined {
    unsigned long uidnext;
} examined;

static int on_examine(const char *resp, size_t len, void *ud, er_error *err)
{
    (void)err;
    examined *x = ud;
    const char *u = memmem(resp, len, "[UIDNEXT ", 9);
    if (u)
        x->uidnext = strtoul(u + 9, NULL, 10);
    return 0;
}

static int wire_examine(imap *im, const char *folder, er_error *err);

/* One command on the wire, in folder (EXAMINEd first unless it is the one
 * there; NULL: none needed).  A connection the server dropped while idle
 * (its autologout) is opened again once, when nothing of the answer came. */
static int wire_command(imap *im, const char *folder, const char *cmd, er_imap_response_fn fn,
                        void *ud, er_error *err)
{
    int rc = 0;
    if (folder && (!im->selected || strcmp(im->selected, folder) != 0) &&
        (rc = wire_examine(im, folder, err)) != 0)
        return rc;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh = im->wire == NULL;
        if (fresh && (rc = wire_open(im, err)) != 0)
            return rc;
        if (fresh && folder) { /* a new connection has nothing selected */
            er_buf ex = ER_BUF_INIT;
            er_buf_puts(&ex, "EXAMINE ");
            rc = quote(&ex, folder, err);
            if (!rc)
                rc = er_imap_command(&im->conn, er_buf_cstr(&ex), NULL, NULL, err);
            er_buf_release(&ex);
            if (!rc)
                im->selected = er_xstrdup(folder);
        }
        if (!rc)
            rc = er_imap_command(&im->conn, cmd, fn, ud, err);
        if (rc && im->conn.broken) {
            bool retry = !fresh && im->conn.delivered == 0 && rc == ER_EUNAVAIL;
            wire_close(im);
            if (retry) {
                er_log(ER_LOG_DEBUG, "mail", "IMAP connection lost while idle: opening it again");
                continue;
            }
        }
        return rc;
    }
    return rc;
}

/* Selects folder read-only on the wire (looking never changes a mailbox),
 * noting its UIDNEXT. */
static int wire_examine(imap *im, const char *folder, er_error *err)
{
    free(im->selected);
    im->selected = NULL;
    er_buf ex = ER_BUF_INIT;
    er_buf_puts(&ex, "EXAMINE ");
    int rc = quote(&ex, folder, err);
    examined x = { 0 };
    if (!rc)
        rc = wire_command(im, NULL, er_buf_cstr(&ex), on_examine, &x, err);
    er_buf_release(&ex);
    if (!rc) {
        im->selected = er_xstrdup(folder);
        im->uidnext = x.uidnext;
    }
    return rc;
}

static int on_collect(const char *resp, size_t len, void *ud, er_error *err)
{
    er_buf *out = ud;
    if (er_buf_append(out, resp, len) || er_buf_puts(out, "\r\n"))
        return er_error_set(err, ER_ETOOBIG, "the IMAP answer is over %zu bytes", out->max);
    return 0;
}

/* One command on the wire, its untagged answer as text into out (as
 * imap_do gives it). */
static int wire_do(imap *im, const char *folder, const char *cmd, er_buf *out, er_error *err)
{
    return wire_command(im, folder, cmd, on_collect, out, err);
}

/* Mailbox names go into URL paths: percent-encode all but unreserved bytes. */
static char *folder_url(const imap *im, const char *folder, const char *suffix)
{
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b, "%s/", im->imap_base);
    for (const unsigned char *p = (const unsigned char *)folder; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            er_buf_putc(&b, (char)*p);
        else
            er_buf_printf(&b, "%%%02X", *p);
    }
    if (suffix)
        er_buf_puts(&b, suffix);
    return er_buf_detach(&b);
}

/* An IMAP quoted string; ER_EINVAL for line breaks, which no quoted string
 * may hold (and which would end the command). */
static int quote(er_buf *b, const char *s, er_error *err)
{
    if (strpbrk(s, "\r\n"))
        return er_error_set(err, ER_EINVAL, "search text must not contain line breaks");
    er_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            er_buf_putc(b, '\\');
        er_buf_putc(b, *s);
    }
    return er_buf_putc(b, '"');
}

/* "FOLDER:UID" → folder (OWNED) and uid. */
static int split_id(const char *id, char **folder, unsigned long *uid, er_error *err)
{
    const char *colon = id ? strrchr(id, ':') : NULL;
    char *end = NULL;
    unsigned long v = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || colon == id || !end || *end || v == 0 || !isdigit((unsigned char)colon[1]))
        return er_error_set(err, ER_EINVAL,
                            "'%s' is not a message id (FOLDER:UID, as "
                            "mail_search returns)",
                            id ? id : "");
    *folder = er_xstrndup(id, (size_t)(colon - id));
    *uid = v;
    return 0;
}

/* Flags are atoms or \atoms only: nothing that could end or extend a command. */
static int check_flags(const char *flags, er_error *err)
{
    for (const char *p = flags; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("\\$ -_", *p))
            return er_error_set(err, ER_EINVAL,
                                "flag list '%s': use words like \\Seen, "
                                "\\Flagged or $Label",
                                flags);
    return 0;
}

/* ---- open / close ---- */

/* A listing decodes its headers with GMime, whose loading (dlopen of it
 * and GLib, g_mime_init: tens of milliseconds) overlaps the connection,
 * login and search when it starts in a thread of its own; the first decode
 * waits for it (er_gmime_load runs once). */
static void *load_mime(void *unused)
{
    (void)unused;
    er_gmime_load(NULL);
    return NULL;
}

static void mime_warm(imap *im)
{
    if (!im->warming)
        im->warming = pthread_create(&im->warm, NULL, load_mime, NULL) == 0;
}

static void imap_close(er_mail *m)
{
    imap *im = as_imap(m);
    if (im->warming)
        pthread_join(im->warm, NULL);
    wire_close(im);
    if (im->easy)
        im->C->easy_cleanup(im->easy);

    if (im->password) {
        explicit_bzero(im->password, strlen(im->password));
        free(im->password);
    }
    free(im->imap_base);
    free(im->smtp_url);
    free(im->user);
    free(im);
}

static int imap_open(er_mail **out, const er_mail_account *acct, er_error *err)
{
    const er_curl_api *C = NULL;
    int rc = er_curl_get(&C, err);
    if (rc)
        return rc;
    bool ilo = false, slo = false;
    if ((rc = er_mail_check_url(acct->imap_url, &ilo, err)) ||
        (acct->smtp_url && (rc = er_mail_check_url(acct->smtp_url, &slo, err))))
        return rc;
    imap *im = er_xcalloc(1, sizeof *im);
    im->base.be = &er_mail_imap_backend;
    im->C = C;
    im->imap_lo = ilo;
    im->smtp_lo = slo;
    /* The base is scheme://authority: folders are appended per command. */
    const char *auth = strstr(acct->imap_url, "://") + 3, *slash = strchr(auth, '/');
    im->imap_base = slash ? er_xstrndup(acct->imap_url, (size_t)(slash - acct->imap_url))
                          : er_xstrdup(acct->imap_url);
    im->smtp_url = acct->smtp_url ? er_xstrdup(acct->smtp_url) : NULL;
    im->user = acct->user ? er_xstrdup(acct->user) : NULL;
    im->password = acct->password ? er_xstrdup(acct->password) : NULL;
    im->easy = C->easy_init();
    if (!im->easy) {
        imap_close(&im->base);
        return er_error_set(err, ER_EINTERNAL, "cannot create a libcurl handle");
    }
    *out = &im->base;
    return 0;
}

/* ---- folders ---- */

/* The mailbox name at the end of a LIST line: a quoted string or an atom. */
static char *list_name(const char *line, size_t len)
{
    const char *end = line + len, *p = memchr(line, ')', len);
    if (!p)
        return NULL;
    p++;
    while (p < end && *p == ' ')
        p++;
    /* the hierarchy delimiter: "x" or NIL */
    if (p < end && *p == '"') {
        p++;
        while (p < end && *p != '"')
            p += (*p == '\\') ? 2 : 1;
        p++;
    } else {
        while (p < end && *p != ' ')
            p++;
    }
    while (p < end && *p == ' ')
        p++;
    if (p >= end)
        return NULL;
    if (*p != '"')
        return er_xstrndup(p, (size_t)(end - p));
    er_buf b = ER_BUF_INIT;
    for (p++; p < end && *p != '"'; p++) {
        if (*p == '\\' && p + 1 < end)
            p++;
        er_buf_putc(&b, *p);
    }
    return er_buf_detach(&b);
}

static int imap_folders(er_mail *m, er_strv *out, er_error *err)
{
    imap *im = as_imap(m);
    er_buf b;
    er_buf_init(&b, READ_MAX);
    char *url = er_xasprintf("%s/", im->imap_base);
    int rc = imap_do(im, url, NULL, &b, err);
    free(url);
    for (const char *p = er_buf_cstr(&b); !rc && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t ll = len;
        while (ll && (p[ll - 1] == '\r'))
            ll--;
        if (ll > 7 && strncmp(p, "* LIST ", 7) == 0 && !memmem(p, ll, "\\Noselect", 9)) {
            char *name = list_name(p, ll);
            if (name)
                er_strv_push(out, name);
            free(name);
        }
        p += nl ? len + 1 : len;
    }
    er_buf_release(&b);
    return rc;
}

/* ---- search ---- */

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* YYYY-MM-DD → IMAP's date (7-Dec-2026), compared with the Date header
 * (SENTSINCE) rather than the arrival date, which is what a user means. */
static int imap_date(er_buf *b, const char *field, const char *day, er_error *err)
{
    int y, mo, d;
    char tail;
    if (sscanf(day, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || mo < 1 || mo > 12 || d < 1 ||
        d > 31)
        return er_error_set(err, ER_EINVAL, "%s: '%s' is not a date (YYYY-MM-DD)", field, day);
    return er_buf_printf(b, " %s %d-%s-%04d",
                         strcmp(field, "since") == 0 ? "SENTSINCE" : "SENTBEFORE", d,
                         months[mo - 1], y);
}

static int search_command(er_buf *b, const er_mail_query *q, er_error *err)
{
    struct {
        const char *key, *val;
    } text[] = {
        { "FROM", q->from }, { "TO", q->to }, { "SUBJECT", q->subject }, { "TEXT", q->text }
    };
    bool utf8 = false;
    for (size_t i = 0; i < ER_ARRAY_LEN(text); i++)
        for (const char *p = text[i].val; p && *p; p++)
            utf8 |= (unsigned char)*p >= 0x80;
    er_buf_puts(b, utf8 ? "UID SEARCH CHARSET UTF-8" : "UID SEARCH");
    size_t base = b->len;
    int rc = 0;
    for (size_t i = 0; i < ER_ARRAY_LEN(text) && !rc; i++) {
        if (er_str_empty(text[i].val))
            continue;
        er_buf_printf(b, " %s ", text[i].key);
        rc = quote(b, text[i].val, err);
    }
    if (!rc && !er_str_empty(q->message_id)) {
        er_buf_puts(b, " HEADER Message-ID ");
        rc = quote(b, q->message_id, err);
    }
    if (!rc && !er_str_empty(q->references)) {
        er_buf_puts(b, " HEADER References ");
        rc = quote(b, q->references, err);
    }
    if (!rc && !er_str_empty(q->since))
        rc = imap_date(b, "since", q->since, err);
    if (!rc && !er_str_empty(q->before))
        rc = imap_date(b, "before", q->before, err);
    if (!rc && q->unread)
        er_buf_puts(b, " UNSEEN");
    /* Messages marked deleted are gone to the user (and a failed send's copy
     * in Sent is marked so). */
    if (!rc)
        er_buf_puts(b, " UNDELETED");
    (void)base;
    return rc;
}

/* Numbers after "* SEARCH" (or after `word` in general) into uids. */
static size_t parse_search(const char *text, unsigned long **uids)
{
    size_t n = 0, cap = 0;
    *uids = NULL;
    const char *p = strstr(text, "* SEARCH");
    if (!p)
        return 0;
    for (p += 8; *p && *p != '\r' && *p != '\n';) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            *uids = er_xrealloc(*uids, cap * sizeof **uids);
        }
        (*uids)[n++] = v;
        p = end;
    }
    return n;
}

typedef struct meta {
    unsigned long uid;
    bool seen, deleted;
    size_t size;
} meta;

/* UID, FLAGS and RFC822.SIZE of one "* n FETCH (…)" line, read up to its
 * ENVELOPE if it has one; false without a UID. */
static bool meta_line(const char *line, size_t len, meta *out)
{
    const char *env = memmem(line, len, "ENVELOPE (", 10);
    size_t head = env ? (size_t)(env - line) : len;
    const char *u = memmem(line, head, "UID ", 4), *sz = memmem(line, head, "RFC822.SIZE ", 12);
    const char *fl = memmem(line, head, "FLAGS (", 7);
    if (!u)
        return false;
    out->uid = strtoul(u + 4, NULL, 10);
    out->size = sz ? strtoul(sz + 12, NULL, 10) : 0;
    const char *fe = fl ? memchr(fl, ')', head - (size_t)(fl - line)) : NULL;
    size_t fl_len = fe ? (size_t)(fe - fl) : 0;
    out->seen = fl_len && memmem(fl, fl_len, "\\Seen", 5) != NULL;
    out->deleted = fl_len && memmem(fl, fl_len, "\\Deleted", 8) != NULL;
    return out->uid != 0;
}

/* Calls fn for each "* n FETCH (…)" line of an answer, without its CRLF. */
typedef void (*fetch_line_fn)(const char *line, size_t len, void *ud);

static void each_fetch_line(const char *text, fetch_line_fn fn, void *ud)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t ll = len;
        while (ll && p[ll - 1] == '\r')
            ll--;
        if (ll > 2 && p[0] == '*' && memmem(p, ll, " FETCH (", 8))
            fn(p, ll, ud);
        p += nl ? len + 1 : len;
    }
}

typedef struct meta_set {
    meta *v;
    size_t n;
} meta_set;

static void on_meta_line(const char *line, size_t len, void *ud)
{
    meta_set *set = ud;
    meta got;
    if (!meta_line(line, len, &got))
        return;
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i].uid == got.uid)
            set->v[i] = got;
}

/* UID FLAGS RFC822.SIZE of uids (a set like "3,5,9") from "* n FETCH (…)" lines. */
static int fetch_meta(imap *im, const char *folder, const char *set, meta *out, size_t n,
                      er_error *err)
{
    er_buf b;
    er_buf_init(&b, READ_MAX);
    char *url = folder_url(im, folder, NULL);
    char *cmd = er_xasprintf("UID FETCH %s (UID FLAGS RFC822.SIZE)", set);
    int rc = imap_do(im, url, cmd, &b, err);
    free(url);
    free(cmd);
    if (!rc)
        each_fetch_line(er_buf_cstr(&b), on_meta_line, &(meta_set){ out, n });
    er_buf_release(&b);
    return rc;
}

/* Clears \Seen again on the messages that were unread before we looked. */
static void restore_unseen(imap *im, const char *folder, const meta *m, size_t n)
{
    er_buf set = ER_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        if (!m[i].seen)
            er_buf_printf(&set, "%s%lu", set.len ? "," : "", m[i].uid);
    if (set.len) {
        er_buf ignore;
        er_buf_init(&ignore, READ_MAX);
        er_error e = { 0 };
        char *url = folder_url(im, folder, NULL);
        char *cmd = er_xasprintf("UID STORE %s -FLAGS.SILENT (\\Seen)", er_buf_cstr(&set));
        if (imap_do(im, url, cmd, &ignore, &e))
            er_log(ER_LOG_WARN, "mail", "could not keep messages unread: %s", e.msg);
        free(url);
        free(cmd);
        er_buf_release(&ignore);
    }
    er_buf_release(&set);
}

static int fetch_section(imap *im, const char *folder, unsigned long uid, const char *section,
                         er_buf *out, er_error *err)
{
    char suffix[160];
    snprintf(suffix, sizeof suffix, ";UID=%lu%s%s", uid, section ? ";SECTION=" : "",
             section ? section : "");
    char *url = folder_url(im, folder, suffix);
    int rc = imap_do(im, url, NULL, out, err);
    free(url);
    return rc;
}

/* ---- the listing ---- */

/* uids (any order) as an IMAP sequence set of ranges, "3:7,9,12:40": a
 * command that names 10,000 messages one by one is too long for servers. */
static void uid_set(er_buf *b, const meta *m, size_t n)
{
    unsigned long *v = er_xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = m[i].uid;
    for (size_t i = 1; i < n; i++) /* n is at most a few thousand; usually sorted */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            unsigned long t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[j + 1] <= v[j] + 1)
            j++;
        if (j > i)
            er_buf_printf(b, "%s%lu:%lu", b->len ? "," : "", v[i], v[j]);
        else
            er_buf_printf(b, "%s%lu", b->len ? "," : "", v[i]);
        i = j + 1;
    }
    free(v);
}

/* The summaries of the messages the envelopes did not give, one message
 * at a time: flags and sizes (into all), then BODY[HEADER] (which marks a
 * message read, so unread ones are made unread again). */
static int summaries_one_by_one(imap *im, const char *folder, meta *all, size_t n,
                                const unsigned char *done, er_mail_summary *v, er_error *err)
{
    meta *mt = er_xcalloc(n ? n : 1, sizeof *mt);
    size_t *at = er_xcalloc(n ? n : 1, sizeof *at);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (done[i] != 1) {
            mt[k] = all[i];
            mt[k].seen = true;
            at[k++] = i;
        }
    int rc = 0;
    er_log(ER_LOG_DEBUG, "mail", "listing %s: %zu of %zu messages one by one", folder, k, n);
    for (size_t from = 0; !rc && from < k; from += META_BATCH) {
        size_t nb = k - from < META_BATCH ? k - from : META_BATCH;
        er_buf set = ER_BUF_INIT;
        uid_set(&set, mt + from, nb);
        rc = fetch_meta(im, folder, er_buf_cstr(&set), mt + from, nb, err);
        er_buf_release(&set);
    }
    for (size_t i = 0; i < k && !rc; i++) {
        er_buf h;
        er_buf_init(&h, READ_MAX);
        rc = fetch_section(im, folder, mt[i].uid, "HEADER", &h, err);
        if (!rc && h.len) {
            er_mail_summary *s = &v[at[i]];
            s->id = er_xasprintf("%s:%lu", folder, mt[i].uid);
            s->unread = !mt[i].seen;
            s->size = mt[i].size;
            er_mime_summary(h.ptr, h.len, &s->from, &s->to, &s->subject, &s->date, &s->message_id);
            all[at[i]] = mt[i];
        }
        er_buf_release(&h);
    }
    if (k)
        restore_unseen(im, folder, mt, k);
    free(at);
    free(mt);
    return rc;
}

/* The UIDs from lowest up to below (0: the folder's UIDNEXT) that match q
 * (NULL: every message, \Deleted ones too), at most limit, newest first.
 * A folder is searched in UID windows from the top down until limit
 * matched; a window without its "* SEARCH" line fails the whole. */
static int newest_matches(imap *im, const char *folder, const er_mail_query *q, size_t limit,
                          unsigned long lowest, unsigned long below, meta **out, size_t *nout,
                          er_error *err)
{
    er_buf cmd = ER_BUF_INIT, b;
    er_buf_init(&b, READ_MAX);
    int rc = 0;
    unsigned long next = below;
    if (!next) { /* examined afresh: its UIDNEXT now */
        rc = wire_examine(im, folder, err);
        next = rc ? 0 : im->uidnext;
    }
    if (lowest < 1)
        lowest = 1;
    size_t cap = limit < 256 ? limit : 256, k = 0;
    meta *mt = er_xcalloc(cap ? cap : 1, sizeof *mt);
    /* without UIDNEXT: one window over everything from lowest */
    unsigned long high = next > 1 ? next - 1 : 0;
    bool open_top = next == 0;
    if (high < lowest)
        high = 0; /* nothing in range */
    while (!rc && (high || open_top) && k < limit) {
        unsigned long low = high > SEARCH_WINDOW ? high - SEARCH_WINDOW + 1 : 1;
        if (low < lowest)
            low = lowest;
        er_buf_reset(&cmd);
        er_buf_reset(&b);
        if (q)
            rc = search_command(&cmd, q, err);
        else
            er_buf_puts(&cmd, "UID SEARCH");
        if (!rc && open_top)
            er_buf_printf(&cmd, " UID %lu:*", lowest);
        else if (!rc)
            er_buf_printf(&cmd, " UID %lu:%lu", low, high);
        if (!rc)
            rc = wire_do(im, folder, er_buf_cstr(&cmd), &b, err);
        if (!rc && !strstr(er_buf_cstr(&b), "* SEARCH"))
            rc = er_error_set(err, ER_EPROTO, "the IMAP server's SEARCH in '%s' came back empty",
                              folder);
        unsigned long *uids = NULL;
        size_t n = rc ? 0 : parse_search(er_buf_cstr(&b), &uids);
        for (size_t i = n; i > 0 && k < limit; i--) /* ascending: newest last */
            if (uids[i - 1] >= low && (open_top || uids[i - 1] <= high) && uids[i - 1] >= lowest) {
                if (k == cap) {
                    cap *= 2;
                    mt = er_xrealloc(mt, cap * sizeof *mt);
                    memset(mt + k, 0, (cap - k) * sizeof *mt);
                }
                mt[k++].uid = uids[i - 1];
            }
        free(uids);
        if (open_top)
            break;
        high = low > lowest ? low - 1 : 0;
    }
    er_buf_release(&cmd);
    er_buf_release(&b);
    if (rc) {
        free(mt);
        return rc;
    }
    *out = mt;
    *nout = k;
    return 0;
}

typedef struct uid_at {
    unsigned long uid;
    size_t i; /* in the listing's order */
} uid_at;

/* What one listing's FETCH answers go into: mt, v and done (1: summarised)
 * of k messages; by_uid: where each UID is, in UID order. */
typedef struct listing {
    const char *folder;
    meta *mt;
    er_mail_summary *v;
    unsigned char *done;
    size_t k;
    uid_at *by_uid;
} listing;

static int uid_at_cmp(const void *a, const void *b)
{
    unsigned long x = ((const uid_at *)a)->uid, y = ((const uid_at *)b)->uid;
    return x < y ? -1 : x > y;
}

static size_t listing_find(const listing *l, unsigned long uid)
{
    size_t lo = 0, hi = l->k;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        unsigned long u = l->by_uid[mid].uid;
        if (u == uid)
            return l->by_uid[mid].i;
        if (u < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* One "* n FETCH (UID FLAGS RFC822.SIZE ENVELOPE)" response into its
 * message's summary, decoded by GMime; other responses (an EXPUNGE, a flag
 * change of another message) pass by. */
static int on_envelope(const char *resp, size_t len, void *ud, er_error *err)
{
    (void)err;
    listing *l = ud;
    er_imap_fetch f;
    if (er_imap_fetch_parse(resp, len, &f) == 1 && f.header && f.has_flags) {
        size_t i = listing_find(l, f.uid);
        if (i != SIZE_MAX) {
            er_mail_summary *s = &l->v[i];
            er_mail_summary_release(s);
            l->mt[i].seen = f.seen;
            l->mt[i].deleted = f.deleted;
            l->mt[i].size = f.size;
            s->id = er_xasprintf("%s:%lu", l->folder, f.uid);
            s->unread = !f.seen;
            s->size = f.size;
            er_mime_summary(f.header, strlen(f.header), &s->from, &s->to, &s->subject, &s->date,
                            &s->message_id);
            l->done[i] = 1;
        }
    }
    er_imap_fetch_release(&f);
    return 0;
}

/* The summaries of the k messages of mt into v (flags and sizes into mt):
 * one UID FETCH of flags, size and ENVELOPE for them all (more only when
 * the UID set is too long for one command line), nothing marked read,
 * read as it streams; what did not come (a parse failure) is fetched one
 * message at a time.  A message expunged meanwhile is left without an id. */
static int summaries_of(imap *im, const char *folder, meta *mt, size_t k, er_mail_summary *v,
                        er_error *err)
{
    listing l = {
        folder, mt, v, er_xcalloc(k ? k : 1, 1), k, er_xcalloc(k ? k : 1, sizeof(uid_at))
    };
    for (size_t i = 0; i < k; i++)
        l.by_uid[i] = (uid_at){ mt[i].uid, i };
    qsort(l.by_uid, k, sizeof *l.by_uid, uid_at_cmp);
    int rc = 0;
    er_buf cmd = ER_BUF_INIT;
    for (size_t at = 0; !rc && at < k;) {
        /* ranges of consecutive UIDs, as many as fit one command line */
        er_buf_reset(&cmd);
        er_buf_puts(&cmd, "UID FETCH ");
        size_t base = cmd.len;
        while (at < k && cmd.len - base < SET_CHARS) {
            unsigned long first = l.by_uid[at].uid, last = first;
            while (at + 1 < k && l.by_uid[at + 1].uid <= last + 1)
                last = l.by_uid[++at].uid;
            at++;
            if (cmd.len > base)
                er_buf_putc(&cmd, ',');
            if (last > first)
                er_buf_printf(&cmd, "%lu:%lu", first, last);
            else
                er_buf_printf(&cmd, "%lu", first);
        }
        er_buf_puts(&cmd, " (UID FLAGS RFC822.SIZE ENVELOPE)");
        rc = wire_command(im, folder, er_buf_cstr(&cmd), on_envelope, &l, err);
    }
    er_buf_release(&cmd);
    if (!rc && k)
        rc = summaries_one_by_one(im, folder, mt, k, l.done, v, err);
    free(l.done);
    free(l.by_uid);
    return rc;
}

/* Newest first: the matches' UIDs, then their summaries. */
static int imap_search(er_mail *m, const er_mail_query *q, er_mail_summary **out, size_t *nout,
                       er_error *err)
{
    imap *im = as_imap(m);
    const char *folder = er_str_empty(q->folder) ? "INBOX" : q->folder;
    size_t limit = q->limit ? q->limit : DEFAULT_LIMIT;
    mime_warm(im);
    size_t k = 0;
    meta *mt = NULL;
    int rc = newest_matches(im, folder, q, limit, 1, 0, &mt, &k, err);
    er_mail_summary *v = er_xcalloc(k ? k : 1, sizeof *v);
    if (!rc)
        rc = summaries_of(im, folder, mt, k, v, err);
    free(mt);
    size_t got = 0;
    for (size_t i = 0; i < k; i++) /* in order, without the vanished (expunged meanwhile) */
        if (v[i].id)
            v[got++] = v[i];
    if (rc) {
        er_mail_summaries_free(v, got);
        return rc;
    }
    *out = v;
    *nout = got;
    return 0;
}

/* ---- fetch, append, flags, move ---- */

static int imap_fetch(er_mail *m, const char *id, er_buf *raw, er_error *err)
{
    imap *im = as_imap(m);
    char *folder = NULL;
    unsigned long uid = 0;
    int rc = split_id(id, &folder, &uid, err);
    if (rc)
        return rc;
    meta mt = { .uid = uid, .seen = true };
    char set[32];
    snprintf(set, sizeof set, "%lu", uid);
    rc = fetch_meta(im, folder, set, &mt, 1, err);
    if (!rc && mt.size == 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no message %s", id);
    if (!rc)
        rc = fetch_section(im, folder, uid, NULL, raw, err);
    if (!rc && !mt.seen)
        restore_unseen(im, folder, &mt, 1);
    free(folder);
    return rc;
}

static int store(imap *im, const char *folder, unsigned long uid, const char *what, er_error *err)
{
    er_buf b;
    er_buf_init(&b, READ_MAX);
    char *url = folder_url(im, folder, NULL);
    /* "UID STORE n …" and "UID MOVE n …": the verb is the first word of what. */
    const char *sp = strchr(what, ' ');
    char *cmd = er_xasprintf("UID %.*s %lu%s", (int)(sp - what), what, uid, sp);
    int rc = imap_do(im, url, cmd, &b, err);
    free(url);
    free(cmd);
    er_buf_release(&b);
    return rc;
}

static int imap_flag(er_mail *m, const char *id, const char *flags, bool add, er_error *err)
{
    imap *im = as_imap(m);
    char *folder = NULL;
    unsigned long uid = 0;
    int rc = check_flags(flags, err);
    if (!rc)
        rc = split_id(id, &folder, &uid, err);
    if (rc)
        return rc;
    char *what = er_xasprintf("STORE %cFLAGS.SILENT (%s)", add ? '+' : '-', flags);
    rc = store(im, folder, uid, what, err);
    free(what);
    free(folder);
    return rc;
}

static int imap_move(er_mail *m, const char *id, const char *folder_to, char **new_id,
                     er_error *err)
{
    (void)new_id; /* COPYUID is not passed on by libcurl */
    imap *im = as_imap(m);
    char *folder = NULL;
    unsigned long uid = 0;
    int rc = split_id(id, &folder, &uid, err);
    if (rc)
        return rc;
    er_buf q = ER_BUF_INIT;
    er_buf_puts(&q, "MOVE ");
    rc = quote(&q, folder_to, err);
    if (!rc)
        rc = store(im, folder, uid, er_buf_cstr(&q), err);
    er_buf_release(&q);
    free(folder);
    return rc;
}

/* The Message-ID header of raw, for finding an appended copy again. */
static char *raw_message_id(const char *raw, size_t len)
{
    for (const char *p = raw, *end = raw + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (ll == 0 || (ll == 1 && p[0] == '\r'))
            break;
        if (ll > 11 && strncasecmp(p, "Message-ID:", 11) == 0) {
            const char *v = p + 11;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = (size_t)(p + ll - v);
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            return er_xstrndup(v, vl);
        }
        p += ll + 1;
    }
    return NULL;
}

static int imap_append(er_mail *m, const char *folder, const char *flags, const char *raw,
                       size_t len, er_error *err)
{
    imap *im = as_imap(m);
    int rc = check_flags(flags ? flags : "", err);
    if (rc)
        return rc;
    char *url = folder_url(im, folder, NULL);
    prepare(im, url, false);
    upload u = { raw, len, 0 };
    er_buf b;
    er_buf_init(&b, READ_MAX);
    const er_curl_api *C = im->C;
    C->easy_setopt(im->easy, CURLOPT_UPLOAD, 1L);
    C->easy_setopt(im->easy, CURLOPT_READFUNCTION, on_read);
    C->easy_setopt(im->easy, CURLOPT_READDATA, &u);
    C->easy_setopt(im->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    C->easy_setopt(im->easy, CURLOPT_WRITEFUNCTION, on_write);
    C->easy_setopt(im->easy, CURLOPT_WRITEDATA, &b);
    CURLcode cc = C->easy_perform(im->easy);
    free(url);
    er_buf_release(&b);
    if (cc != CURLE_OK)
        return curl_fail(im, cc, "IMAP APPEND", err);
    /* libcurl's APPEND always sets \Seen and hides APPENDUID: find the copy
     * by its Message-ID and give it the flags asked for. */
    char *mid = raw_message_id(raw, len);
    if (mid) {
        er_mail_query q = { .folder = folder, .message_id = mid, .limit = 1 };
        er_buf cmd = ER_BUF_INIT, out;
        er_buf_init(&out, READ_MAX);
        rc = search_command(&cmd, &q, err);
        char *furl = folder_url(im, folder, NULL);
        if (!rc)
            rc = imap_do(im, furl, er_buf_cstr(&cmd), &out, err);
        unsigned long *uids = NULL;
        size_t n = rc ? 0 : parse_search(er_buf_cstr(&out), &uids);
        if (n) {
            char *what = er_xasprintf("STORE FLAGS.SILENT (%s)", flags ? flags : "");
            rc = store(im, folder, uids[n - 1], what, err);
            free(what);
        }
        free(uids);
        free(furl);
        er_buf_release(&cmd);
        er_buf_release(&out);
        free(mid);
    }
    return rc;
}

/* ---- send ---- */

static int imap_send(er_mail *m, const char *from, const er_strv *rcpts, const char *raw,
                     size_t len, er_error *err)
{
    imap *im = as_imap(m);
    if (!im->smtp_url)
        return er_error_set(err, ER_EINVAL, "this mail account has no smtp_url: it cannot send");
    if (!rcpts->n)
        return er_error_set(err, ER_EINVAL, "no recipients");
    const er_curl_api *C = im->C;
    prepare(im, im->smtp_url, true);
    struct curl_slist *to = NULL;
    for (size_t i = 0; i < rcpts->n; i++)
        to = C->slist_append(to, rcpts->v[i]);
    char *mf = er_xasprintf("<%s>", from);
    upload u = { raw, len, 0 };
    er_buf b;
    er_buf_init(&b, READ_MAX);
    C->easy_setopt(im->easy, CURLOPT_MAIL_FROM, mf);
    C->easy_setopt(im->easy, CURLOPT_MAIL_RCPT, to);
    C->easy_setopt(im->easy, CURLOPT_UPLOAD, 1L);
    C->easy_setopt(im->easy, CURLOPT_READFUNCTION, on_read);
    C->easy_setopt(im->easy, CURLOPT_READDATA, &u);
    C->easy_setopt(im->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    C->easy_setopt(im->easy, CURLOPT_WRITEFUNCTION, on_write);
    C->easy_setopt(im->easy, CURLOPT_WRITEDATA, &b);
    CURLcode cc = C->easy_perform(im->easy);
    C->slist_free_all(to);
    free(mf);
    er_buf_release(&b);
    if (cc != CURLE_OK)
        return curl_fail(im, cc, "SMTP", err);
    return 0;
}


/* ---- the metadata cache's refresh ----
 *
 * STATUS gives UIDVALIDITY, UIDNEXT, MESSAGES and (CONDSTORE) HIGHESTMODSEQ
 * without selecting.  New messages are the UIDs from the last UIDNEXT on,
 * found and summarised by the listing's own machinery (windowed SEARCH,
 * one FETCH of envelopes, one by one what that loses), all on the wire
 * connection.  Flags of the older ones come back with CHANGEDSINCE when the
 * server keeps mod-sequences, else all of them, in windows of FLAGS_BATCH
 * and checked: a window that fails or lacks a message is asked again in
 * halves.  What
 * was expunged is told by the survivors' UIDs, and only when they add up to
 * the server's count; when they do not, the folder's cache starts again
 * rather than losing rows of messages that are still there. */

typedef struct folder_status {
    int64_t validity, next, messages, modseq;
} folder_status;

static int64_t status_item(const char *line, const char *name)
{
    const char *p = strstr(line, name);
    return p ? strtoll(p + strlen(name), NULL, 10) : 0;
}

static int folder_status_of(imap *im, const char *folder, folder_status *st, er_error *err)
{
    er_buf b, cmd = ER_BUF_INIT;
    er_buf_init(&b, READ_MAX);
    er_buf_puts(&cmd, "STATUS ");
    int rc = quote(&cmd, folder, err);
    size_t base = cmd.len;
    er_buf_puts(&cmd, " (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)");
    /* STATUS of the folder examined on the wire tells that session's view,
     * which moves on (to mail added meanwhile) only at a command there */
    if (!rc && im->selected && strcmp(im->selected, folder) == 0)
        rc = wire_do(im, folder, "NOOP", &b, err);
    if (!rc) {
        er_error e = { 0 };
        rc = wire_do(im, NULL, er_buf_cstr(&cmd), &b, &e);
        if (rc) { /* no CONDSTORE: ask again without the mod-sequence */
            cmd.len = base;
            er_buf_puts(&cmd, " (UIDVALIDITY UIDNEXT MESSAGES)");
            b.len = 0;
            rc = wire_do(im, NULL, er_buf_cstr(&cmd), &b, err);
        }
    }
    const char *line = rc ? NULL : strstr(er_buf_cstr(&b), "* STATUS ");
    const char *items = line ? strrchr(line, '(') : NULL;
    if (!rc && !items)
        rc = er_error_set(err, ER_EPROTO, "the IMAP server gave no STATUS for '%s'", folder);
    if (!rc) {
        st->validity = status_item(items, "UIDVALIDITY ");
        st->next = status_item(items, "UIDNEXT ");
        st->messages = status_item(items, "MESSAGES ");
        st->modseq = status_item(items, "HIGHESTMODSEQ ");
        if (st->validity <= 0 || st->next <= 0)
            rc =
                er_error_set(err, ER_EPROTO, "the IMAP server's STATUS of '%s' lacks UIDs", folder);
    }
    er_buf_release(&b);
    er_buf_release(&cmd);
    return rc;
}

/* Messages per flags window: each answer is read whole (imap_wire.h), the
 * windows only bound its size.  A window that fails otherwise than by the
 * connection, or answers with more lines than this, is asked again in
 * halves. */
#define FLAGS_BATCH 5000

typedef struct flags_pass {
    imap *im;
    const char *folder;
    int64_t modseq; /* CHANGEDSINCE, or 0: every message's flags */
    er_mail_delta *d;
} flags_pass;

/* Flags of the UIDs lo..hi as flags_only rows.  want (ascending, or NULL):
 * the messages there, each of which must answer when modseq is 0. */
static int flags_window(const flags_pass *fp, unsigned long lo, unsigned long hi, const meta *want,
                        size_t nwant, er_error *err)
{
    er_buf b;
    er_buf_init(&b, READ_MAX);
    char *cmd = fp->modseq ? er_xasprintf("UID FETCH %lu:%lu (UID FLAGS) (CHANGEDSINCE %lld)", lo,
                                          hi, (long long)fp->modseq)
                           : er_xasprintf("UID FETCH %lu:%lu (UID FLAGS)", lo, hi);
    er_error werr = { 0 };
    int rc = wire_do(fp->im, fp->folder, cmd, &b, &werr);
    free(cmd);
    bool whole = rc == 0;
    if (rc == ER_EAUTH || rc == ER_EUNAVAIL || rc == ER_ETIMEDOUT || (rc && lo == hi)) {
        er_buf_release(&b);
        return er_error_set(err, rc, "%s", werr.msg);
    }
    rc = 0; /* another failure (an answer too large): asked again in halves */
    meta *got = NULL;
    size_t ngot = 0;
    if (whole) { /* the lines in order of the answer */
        meta_set all = { er_xcalloc(nwant + 1, sizeof(meta)), 0 };
        size_t cap = nwant + 1;
        for (const char *p = er_buf_cstr(&b); (p = strstr(p, " FETCH (")) != NULL;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            meta m;
            if (meta_line(p, len, &m) && m.uid >= lo && m.uid <= hi) {
                if (all.n == cap) {
                    cap *= 2;
                    all.v = er_xrealloc(all.v, cap * sizeof(meta));
                }
                all.v[all.n++] = m;
            }
            p += len;
        }
        got = all.v;
        ngot = all.n;
    }
    whole = whole && ngot <= FLAGS_BATCH;
    for (size_t i = 0; !rc && whole && !fp->modseq && i < nwant; i++) {
        bool found = false;
        for (size_t j = 0; j < ngot && !found; j++)
            found = got[j].uid == want[i].uid;
        whole = found || (lo == hi); /* alone and silent: expunged meanwhile */
    }
    er_buf_release(&b);
    if (!rc && !whole && lo < hi) {
        free(got);
        unsigned long mid = lo + (hi - lo) / 2;
        size_t split = 0;
        while (split < nwant && want[split].uid <= mid)
            split++;
        er_log(ER_LOG_DEBUG, "mail", "flags of %s %lu:%lu: asking again in halves", fp->folder, lo,
               hi);
        rc = flags_window(fp, lo, mid, want, split, err);
        return rc ? rc : flags_window(fp, mid + 1, hi, want + split, nwant - split, err);
    }
    for (size_t i = 0; !rc && i < ngot; i++) {
        er_mail_meta *m = er_mail_delta_add(fp->d);
        m->s.id = er_xasprintf("%s:%lu", fp->folder, got[i].uid);
        m->s.unread = !got[i].seen;
        m->deleted = got[i].deleted;
        m->flags_only = true;
    }
    free(got);
    return rc;
}

/* Flags of the cached messages (UIDs below below).  present (ascending, or
 * NULL with a mod-sequence): the messages that are there. */
static int flags_of(const flags_pass *fp, unsigned long below, const meta *present, size_t n,
                    er_error *err)
{
    if (!present) /* CHANGEDSINCE answers only the changed: one window, split as needed */
        return below > 1 ? flags_window(fp, 1, below - 1, NULL, 0, err) : 0;
    int rc = 0;
    for (size_t at = 0; !rc && at < n; at += FLAGS_BATCH) {
        size_t nb = n - at < FLAGS_BATCH ? n - at : FLAGS_BATCH;
        rc = flags_window(fp, present[at].uid, present[at + nb - 1].uid, present + at, nb, err);
    }
    return rc;
}

/* The summaries of the messages from first up to below, at most max of
 * them (the newest), into d. */
static int fetch_new(imap *im, const char *folder, unsigned long first, unsigned long below,
                     size_t max, er_mail_delta *d, size_t *nfound, er_error *err)
{
    meta *mt = NULL;
    size_t k = 0;
    int rc = newest_matches(im, folder, NULL, max, first, below, &mt, &k, err);
    er_mail_summary *v = er_xcalloc(k ? k : 1, sizeof *v);
    if (!rc)
        rc = summaries_of(im, folder, mt, k, v, err);
    for (size_t i = 0; i < k; i++) {
        if (rc || !v[i].id) {
            er_mail_summary_release(&v[i]);
            continue;
        }
        er_mail_meta *m = er_mail_delta_add(d);
        m->s = v[i];
        m->deleted = mt[i].deleted;
        m->sort_key = (int64_t)mt[i].uid;
    }
    *nfound = k;
    free(v);
    free(mt);
    return rc;
}

static int meta_by_uid(const void *a, const void *b)
{
    unsigned long x = ((const meta *)a)->uid, y = ((const meta *)b)->uid;
    return x < y ? -1 : x > y;
}

static int imap_refresh(er_mail *m, const char *folder, er_mail_sync *state, size_t max,
                        er_mail_delta *d, char **label, er_error *err)
{
    imap *im = as_imap(m);
    *label = NULL;
    folder_status st;
    int rc = folder_status_of(im, folder, &st, err);
    if (rc)
        return rc;
    if (state->validity && state->validity != st.validity)
        er_log(ER_LOG_INFO, "mail", "UIDVALIDITY of '%s' changed: its cache starts again", folder);
    if (state->validity != st.validity) {
        memset(state, 0, sizeof *state);
        d->reset = true;
    }
    bool full = state->validity == 0;
    if (!full && st.next == state->next && st.messages == state->count && st.modseq != 0 &&
        st.modseq == state->modseq)
        return 0; /* nothing arrived, left or changed */
    mime_warm(im);
    bool complete = full ? (size_t)st.messages <= max : state->complete;
    size_t arrived = 0;
    unsigned long first = full ? 1 : (unsigned long)state->next;
    rc = fetch_new(im, folder, first, (unsigned long)st.next, full ? max : SIZE_MAX, d, &arrived,
                   err);
    if (!rc && !full && state->next > 1) {
        /* flags of the messages cached before; and which of them are gone */
        flags_pass fp = { im, folder, 0, d };
        bool condstore = st.modseq != 0 && state->modseq != 0;
        bool expunged = st.messages != state->count + (int64_t)arrived;
        meta *present = NULL;
        size_t np = 0;
        if (!condstore || expunged)
            rc = newest_matches(im, folder, NULL, SIZE_MAX, 1, (unsigned long)state->next, &present,
                                &np, err);
        if (!rc && present)
            qsort(present, np, sizeof *present, meta_by_uid);
        fp.modseq = condstore ? state->modseq : 0;
        if (!rc)
            rc = flags_of(&fp, (unsigned long)state->next, condstore ? NULL : present, np, err);
        if (!rc && present && (int64_t)(np + arrived) != st.messages) {
            /* the survivors and the new do not add up to the server's count
             * (an answer cut, or mail moving meanwhile): pruning on that
             * could drop messages still there, so the cache starts again */
            er_log(ER_LOG_INFO, "mail",
                   "'%s': %zu cached and %zu new messages, the server counts %lld: its cache "
                   "starts again",
                   folder, np, arrived, (long long)st.messages);
            er_mail_delta_release(d);
            d->reset = true;
            memset(state, 0, sizeof *state);
            complete = (size_t)st.messages <= max;
            rc = fetch_new(im, folder, 1, (unsigned long)st.next, max, d, &arrived, err);
        } else if (!rc && present) {
            d->prune = true;
            d->prune_below = state->next;
            for (size_t i = 0; i < np; i++) {
                char *id = er_xasprintf("%s:%lu", folder, present[i].uid);
                er_strv_push(&d->keep, id);
                free(id);
            }
        }
        free(present);
    }
    if (rc)
        return rc;
    state->validity = st.validity;
    state->next = st.next;
    state->modseq = st.modseq;
    state->count = st.messages;
    state->complete = complete;
    return 0;
}

const er_mail_backend er_mail_imap_backend = {
    .version = ER_MAIL_BACKEND_VERSION,
    .scheme = "imap",
    .open = imap_open,
    .close = imap_close,
    .folders = imap_folders,
    .search = imap_search,
    .fetch = imap_fetch,
    .append = imap_append,
    .send = imap_send,
    .flag = imap_flag,
    .move = imap_move,
    .refresh = imap_refresh,
};
