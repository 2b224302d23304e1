/* imap.c — the IMAP/SMTP mail backend over libcurl.
 *
 * Reading goes through one easy handle per er_mail, so its IMAP connection
 * (and selected mailbox) is reused between commands.  libcurl hands literals
 * back only for its own FETCH form (URL ";UID=n;SECTION=…"), which uses
 * BODY[] and so marks a message read: the backend notes which messages were
 * unread first and clears \Seen again afterwards, so looking never changes a
 * mailbox.  TLS: imaps:// and smtps:// are implicit TLS; smtp:// off
 * loopback requires STARTTLS; plain imap:// is refused off loopback
 * (er_mail_check_url). */
#include "errand/mail.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/mime.h"
#include "errand/str.h"
#include "../http/curl_api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define READ_MAX      ((size_t)32 << 20) /* one message, or one command's answer */
#define CONNECT_S     15L
#define TOTAL_S       120L
#define DEFAULT_LIMIT 20
/* Messages per UID FETCH: libcurl 7.88 hands back the lines of a custom
 * command's answer only while they fit its 16 KB receive buffer (measured: of
 * 300 "UID FLAGS RFC822.SIZE" lines 20 came back, of 300 envelopes 4), and
 * fails an answer whose lines add up past 300 KB.  The listing starts with
 * ENVELOPE_BATCH and sizes each next batch so its answer should come to
 * ENVELOPE_BYTES, from the bytes per message of the last one. */
#define ENVELOPE_BATCH 12
#define ENVELOPE_BYTES 10000
#define ENVELOPE_MAX   64
#define META_BATCH     100
#define SEARCH_WINDOW  1500 /* UIDs per SEARCH: its one answer line stays under 16 KB */

typedef struct imap {
    er_mail base;
    const er_curl_api *C;
    CURL *easy;
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

/* Common options of every transfer; the caller adds its own. */
static void prepare(imap *im, const char *url, bool smtp)
{
    const er_curl_api *C = im->C;
    C->easy_reset(im->easy);
    im->errbuf[0] = '\0';
    C->easy_setopt(im->easy, CURLOPT_URL, url);
    C->easy_setopt(im->easy, CURLOPT_ERRORBUFFER, im->errbuf);
    C->easy_setopt(im->easy, CURLOPT_NOSIGNAL, 1L);
    C->easy_setopt(im->easy, CURLOPT_CONNECTTIMEOUT, CONNECT_S);
    C->easy_setopt(im->easy, CURLOPT_TIMEOUT, TOTAL_S);
    C->easy_setopt(im->easy, CURLOPT_PROTOCOLS_STR, smtp ? "smtp,smtps" : "imap,imaps");
    if (!(smtp ? im->smtp_lo : im->imap_lo))
        C->easy_setopt(im->easy, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (im->user)
        C->easy_setopt(im->easy, CURLOPT_USERNAME, im->user);
    if (im->password)
        C->easy_setopt(im->easy, CURLOPT_PASSWORD, im->password);
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

static void imap_close(er_mail *m)
{
    imap *im = as_imap(m);
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

/* A cursor over one FETCH line.  cut: the line ended where a literal began
 * (libcurl hands back only the lines of an answer, not literals). */
typedef struct cursor {
    const char *p, *end;
    bool cut, bad;
} cursor;

static void skip_sp(cursor *c)
{
    while (c->p < c->end && *c->p == ' ')
        c->p++;
}

/* An nstring: NIL, or a quoted string into out (unescaped); a literal cuts. */
static void nstring(cursor *c, er_buf *out)
{
    skip_sp(c);
    if (c->end - c->p >= 3 && strncasecmp(c->p, "NIL", 3) == 0) {
        c->p += 3;
        return;
    }
    if (c->p < c->end && *c->p == '{') {
        c->cut = true;
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
            er_buf_putc(out, *c->p);
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
    if (c->p < c->end && *c->p == '{')
        c->cut = true;
    else
        c->bad = true;
    return false;
}

/* An envelope address list, as header text: "Name" <box@host>, … (RFC 2047
 * words are left for GMime to decode, outside quotes). */
static void addresses(cursor *c, er_buf *out)
{
    skip_sp(c);
    if (c->end - c->p >= 3 && strncasecmp(c->p, "NIL", 3) == 0) {
        c->p += 3;
        return;
    }
    if (!expect(c, '('))
        return;
    for (skip_sp(c); !c->cut && !c->bad && c->p < c->end && *c->p == '(';) {
        er_buf name = ER_BUF_INIT, box = ER_BUF_INIT, host = ER_BUF_INIT;
        c->p++;
        nstring(c, &name);
        nstring(c, NULL); /* source route */
        nstring(c, &box);
        nstring(c, &host);
        expect(c, ')');
        if (!c->cut && !c->bad && box.len && host.len) { /* not a group marker */
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

/* The summary of one "* n FETCH (UID u FLAGS (…) RFC822.SIZE s ENVELOPE (…))"
 * line into the entry of mt with its UID; false when the line cannot be
 * used whole (a literal, or not in that order): the caller falls back. */
static bool envelope_line(const char *line, size_t len, const char *folder, meta *mt,
                          er_mail_summary *v, unsigned char *done, size_t n)
{
    const char *env = memmem(line, len, "ENVELOPE (", 10);
    meta got;
    if (!env || !memmem(line, (size_t)(env - line), "FLAGS (", 7) || !meta_line(line, len, &got))
        return false;
    size_t i = 0;
    while (i < n && mt[i].uid != got.uid)
        i++;
    if (i == n)
        return false;
    if (done[i]) { /* twice: one of them came out of a literal; trust neither */
        done[i] = 2;
        return false;
    }
    unsigned long uid = got.uid;
    mt[i] = got;
    cursor c = { .p = env + 9, .end = line + len };
    er_buf date = ER_BUF_INIT, subject = ER_BUF_INIT, from = ER_BUF_INIT, to = ER_BUF_INIT,
           mid = ER_BUF_INIT;
    expect(&c, '(');
    nstring(&c, &date);
    nstring(&c, &subject);
    er_buf skip = ER_BUF_INIT;
    addresses(&c, &from);
    addresses(&c, &skip); /* sender */
    addresses(&c, &skip); /* reply-to */
    addresses(&c, &to);
    addresses(&c, &skip); /* cc */
    addresses(&c, &skip); /* bcc */
    er_buf_release(&skip);
    nstring(&c, NULL); /* in-reply-to */
    nstring(&c, &mid);
    expect(&c, ')');
    bool ok = !c.cut && !c.bad;
    if (ok) {
        er_buf h = ER_BUF_INIT;
        er_buf_printf(&h, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n\r\n",
                      er_buf_cstr(&from), er_buf_cstr(&to), er_buf_cstr(&subject),
                      er_buf_cstr(&date), er_buf_cstr(&mid));
        er_mail_summary *s = &v[i];
        s->id = er_xasprintf("%s:%lu", folder, uid);
        s->unread = !mt[i].seen;
        s->size = mt[i].size;
        er_mime_summary(h.ptr, h.len, &s->from, &s->to, &s->subject, &s->date, &s->message_id);
        er_buf_release(&h);
        done[i] = 1;
    }
    er_buf_release(&date);
    er_buf_release(&subject);
    er_buf_release(&from);
    er_buf_release(&to);
    er_buf_release(&mid);
    return ok;
}
/* The summaries of the messages envelope_line could not read, one message
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
 * SEARCH answers in one line, which libcurl cuts past 16 KB (a few thousand
 * UIDs), so a folder is searched in UID windows from the top down until
 * limit matched; a window without its "* SEARCH" line fails the whole. */
static int newest_matches(imap *im, const char *url, const char *folder, const er_mail_query *q,
                          size_t limit, unsigned long lowest, unsigned long below, meta **out,
                          size_t *nout, er_error *err)
{
    er_buf cmd = ER_BUF_INIT, b;
    er_buf_init(&b, READ_MAX);
    int rc = 0;
    unsigned long next = below;
    if (!next) {
        er_buf_puts(&cmd, "STATUS ");
        rc = quote(&cmd, folder, err);
        er_buf_puts(&cmd, " (UIDNEXT)");
        if (!rc && imap_do(im, url, er_buf_cstr(&cmd), &b, &(er_error){ 0 }) == 0) {
            const char *u = strstr(er_buf_cstr(&b), "UIDNEXT ");
            next = u ? strtoul(u + 8, NULL, 10) : 0;
        }
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
            rc = imap_do(im, url, er_buf_cstr(&cmd), &b, err);
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

/* The summaries of the k messages of mt into v (flags and sizes into mt):
 * UID FETCH of flags, size and ENVELOPE in ranges, nothing marked read,
 * decoded by GMime; what that cannot carry (literals: 8-bit or multi-line
 * header values, or lines libcurl lost) is fetched one message at a time.
 * A message expunged meanwhile is left without an id. */
static int summaries_of(imap *im, const char *url, const char *folder, meta *mt, size_t k,
                        er_mail_summary *v, er_error *err)
{
    er_buf cmd = ER_BUF_INIT, b;
    er_buf_init(&b, READ_MAX);
    unsigned char *done = er_xcalloc(k ? k : 1, 1);
    int rc = 0;
    /* In batches small enough for libcurl (ENVELOPE_BYTES); a line lost
     * anyway leaves its message to summaries_one_by_one. */
    size_t batch = ENVELOPE_BATCH;
    for (size_t at = 0, nb = 0; !rc && at < k; at += nb) {
        nb = k - at < batch ? k - at : batch;
        er_buf set = ER_BUF_INIT;
        uid_set(&set, mt + at, nb);
        er_buf_printf(&cmd, "UID FETCH %s (UID FLAGS RFC822.SIZE ENVELOPE)", er_buf_cstr(&set));
        er_buf_release(&set);
        er_buf_reset(&b);
        er_error berr = { 0 };
        int brc = imap_do(im, url, er_buf_cstr(&cmd), &b, &berr);
        er_buf_release(&cmd);
        if (brc == ER_EAUTH || brc == ER_EUNAVAIL || brc == ER_ETIMEDOUT) {
            rc = er_error_set(err, brc, "%s", berr.msg);
            break;
        }
        /* another failure (an answer too large): those go one by one */
        for (const char *p = er_buf_cstr(&b); !brc && (p = strstr(p, " FETCH (")) != NULL;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            while (len && (p[len - 1] == '\r'))
                len--;
            envelope_line(p, len, folder, mt + at, v + at, done + at, nb);
            p = nl ? nl + 1 : p + len;
        }
        size_t got = 0;
        for (size_t i = at; i < at + nb; i++)
            got += done[i] == 1;
        if (brc || got < nb) /* lines lost: smaller from now on */
            batch = batch / 2 ? batch / 2 : 1;
        else if (b.len)
            batch = ENVELOPE_BYTES / (b.len / nb + 1);
        batch = batch < 1 ? 1 : batch > ENVELOPE_MAX ? ENVELOPE_MAX : batch;
    }
    if (!rc && k) {
        for (size_t i = 0; i < k; i++)
            if (done[i] == 2) /* seen twice: drop what was read, fetch it alone */
                er_mail_summary_release(&v[i]);
        rc = summaries_one_by_one(im, folder, mt, k, done, v, err);
    }
    er_buf_release(&b);
    free(done);
    return rc;
}

/* Newest first: the matches' UIDs, then their summaries. */
static int imap_search(er_mail *m, const er_mail_query *q, er_mail_summary **out, size_t *nout,
                       er_error *err)
{
    imap *im = as_imap(m);
    const char *folder = er_str_empty(q->folder) ? "INBOX" : q->folder;
    size_t limit = q->limit ? q->limit : DEFAULT_LIMIT;
    char *url = folder_url(im, folder, NULL);
    size_t k = 0;
    meta *mt = NULL;
    int rc = newest_matches(im, url, folder, q, limit, 1, 0, &mt, &k, err);
    er_mail_summary *v = er_xcalloc(k ? k : 1, sizeof *v);
    if (!rc)
        rc = summaries_of(im, url, folder, mt, k, v, err);
    free(url);
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
 * envelope batches, one by one what those lose).  Flags of the older ones
 * come back with CHANGEDSINCE when the server keeps mod-sequences, else all
 * of them, in windows small enough for libcurl's 16 KB cut and checked:
 * a window whose answer may have been cut is asked again in halves.  What
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
    char *url = er_xasprintf("%s/", im->imap_base);
    er_buf_puts(&cmd, "STATUS ");
    int rc = quote(&cmd, folder, err);
    size_t base = cmd.len;
    er_buf_puts(&cmd, " (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)");
    if (!rc) {
        er_error e = { 0 };
        rc = imap_do(im, url, er_buf_cstr(&cmd), &b, &e);
        if (rc) { /* no CONDSTORE: ask again without the mod-sequence */
            cmd.len = base;
            er_buf_puts(&cmd, " (UIDVALIDITY UIDNEXT MESSAGES)");
            b.len = 0;
            rc = imap_do(im, url, er_buf_cstr(&cmd), &b, err);
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
    free(url);
    er_buf_release(&b);
    er_buf_release(&cmd);
    return rc;
}

/* Lines per flags window.  libcurl 7.88 fails ("Too large response
 * headers") or drops lines of an answer of a couple of hundred short FETCH
 * lines (measured against Dovecot: 120 whole, 201 failed); a window that
 * fails that way, or answers with more lines than this, is asked again in
 * halves. */
#define FLAGS_BATCH 100

typedef struct flags_pass {
    imap *im;
    const char *url, *folder;
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
    int rc = imap_do(fp->im, fp->url, cmd, &b, &werr);
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
static int fetch_new(imap *im, const char *url, const char *folder, unsigned long first,
                     unsigned long below, size_t max, er_mail_delta *d, size_t *nfound,
                     er_error *err)
{
    meta *mt = NULL;
    size_t k = 0;
    int rc = newest_matches(im, url, folder, NULL, max, first, below, &mt, &k, err);
    er_mail_summary *v = er_xcalloc(k ? k : 1, sizeof *v);
    if (!rc)
        rc = summaries_of(im, url, folder, mt, k, v, err);
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
    char *url = folder_url(im, folder, NULL);
    bool complete = full ? (size_t)st.messages <= max : state->complete;
    size_t arrived = 0;
    unsigned long first = full ? 1 : (unsigned long)state->next;
    rc = fetch_new(im, url, folder, first, (unsigned long)st.next, full ? max : SIZE_MAX, d,
                   &arrived, err);
    if (!rc && !full && state->next > 1) {
        /* flags of the messages cached before; and which of them are gone */
        flags_pass fp = { im, url, folder, 0, d };
        bool condstore = st.modseq != 0 && state->modseq != 0;
        bool expunged = st.messages != state->count + (int64_t)arrived;
        meta *present = NULL;
        size_t np = 0;
        if (!condstore || expunged)
            rc = newest_matches(im, url, folder, NULL, SIZE_MAX, 1, (unsigned long)state->next,
                                &present, &np, err);
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
            rc = fetch_new(im, url, folder, 1, (unsigned long)st.next, max, d, &arrived, err);
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
    free(url);
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
