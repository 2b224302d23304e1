/* mime.c — reading messages with GMime, writing drafts (see mime.h). */
#include "errand/mime.h"
#include "errand/alloc.h"
#include "errand/extract.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/strv.h"
#include "gmime_api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define G er_gmime

static GMimeMessage *parse(const char *raw, size_t len)
{
    GMimeStream *s = G.stream_mem_new_with_buffer(raw, len);
    GMimeParser *p = G.parser_new_with_stream(s);
    GMimeMessage *m = G.parser_construct_message(p, NULL);
    G.object_unref(p);
    G.object_unref(s);
    return m;
}

static char *addresses(InternetAddressList *l)
{
    if (!l)
        return er_xstrdup("");
    char *s = G.address_list_to_string(l, NULL, FALSE);
    char *r = er_xstrdup(s ? s : "");
    G.free(s);
    return r;
}

static char *header(GMimeMessage *m, const char *name)
{
    const char *v = G.object_get_header((GMimeObject *)m, name);
    return er_xstrdup(v ? v : "");
}

void er_mime_summary(const char *raw, size_t len, char **from, char **to, char **subject,
                     char **date, char **message_id)
{
    er_error e = { 0 };
    GMimeMessage *m = er_gmime_load(&e) == 0 ? parse(raw, len) : NULL;
    if (!m) {
        *from = er_xstrdup("");
        *to = er_xstrdup("");
        *subject = er_xstrdup("");
        *date = er_xstrdup("");
        *message_id = er_xstrdup("");
        return;
    }
    *from = addresses(G.message_get_from(m));
    *to = addresses(G.message_get_to(m));
    const char *s = G.message_get_subject(m), *id = G.message_get_message_id(m);
    *subject = er_xstrdup(s ? s : "");
    *date = header(m, "Date");
    *message_id = id ? er_xasprintf("<%s>", id) : er_xstrdup("");
    G.object_unref(m);
}

/* ---- walking the parts ---- */

typedef struct walk {
    er_buf plain, html;
    cJSON *attachments;
    int part; /* attachments seen so far */
    int want; /* er_mime_attachment: the one to copy out, else -1 */
    er_buf *content;
    char *filename;
    bool found;
} walk;

static void decoded(GMimePart *part, er_buf *out)
{
    GMimeDataWrapper *w = G.part_get_content(part);
    if (!w)
        return;
    GMimeStream *s = G.stream_mem_new();
    G.data_wrapper_write_to_stream(w, s);
    GByteArray *a = G.stream_mem_get_byte_array((GMimeStreamMem *)s);
    if (a)
        er_buf_append(out, a->data, a->len);
    G.object_unref(s);
}

static void on_part(GMimeObject *parent, GMimeObject *obj, gpointer payload)
{
    (void)parent;
    walk *w = payload;
    GMimeContentType *ct = G.object_get_content_type(obj);
    if (!ct || G.content_type_is_type(ct, "multipart", "*") ||
        G.content_type_is_type(ct, "message", "*"))
        return;
    GMimePart *part = (GMimePart *)obj;
    bool attachment = G.part_is_attachment(part) || !G.content_type_is_type(ct, "text", "*");
    if (!attachment) {
        bool html = G.content_type_is_type(ct, "text", "html");
        er_buf *dst = html ? &w->html : &w->plain;
        char *t = G.text_part_get_text((GMimeTextPart *)part);
        if (t) {
            if (dst->len)
                er_buf_puts(dst, "\n\n");
            for (const char *p = t; *p; p++) /* CRLF is the wire's, not the text's */
                if (*p != '\r' || p[1] != '\n')
                    er_buf_putc(dst, *p);
            G.free(t);
        }
        return;
    }
    int n = w->part++;
    const char *fn = G.part_get_filename(part);
    if (w->want >= 0) {
        if (n == w->want) {
            decoded(part, w->content);
            w->filename = er_xstrdup(fn ? fn : "attachment");
            w->found = true;
        }
        return;
    }
    er_buf body;
    er_buf_init(&body, 0);
    decoded(part, &body);
    char *type = G.content_type_get_mime_type(ct);
    cJSON *a = cJSON_CreateObject();
    er_json_add_num(a, "part", n);
    er_json_add_str(a, "filename", fn ? fn : "");
    er_json_add_str(a, "content_type", type ? type : "");
    er_json_add_num(a, "size", (double)body.len);
    er_json_append(w->attachments, a);
    G.free(type);
    er_buf_release(&body);
}

static void html_text(er_buf *out, const er_buf *html)
{
    er_extract x;
    er_error e = { 0 };
    if (er_extract_html(&x, html->ptr, html->len, "utf-8", NULL, &e) == 0)
        er_buf_append(out, x.text.ptr, x.text.len);
    er_extract_release(&x);
}

int er_mime_parse(cJSON **out, const char *raw, size_t len, er_error *err)
{
    *out = NULL;
    int rc = er_gmime_load(err);
    if (rc)
        return rc;
    GMimeMessage *m = parse(raw, len);
    if (!m)
        return er_error_set(err, ER_EPROTO, "not an Internet message");
    walk w = { .attachments = cJSON_CreateArray(), .want = -1 };
    er_buf_init(&w.plain, 0);
    er_buf_init(&w.html, 0);
    G.message_foreach(m, on_part, &w);
    cJSON *o = cJSON_CreateObject();
    er_json_add(o, "from", cJSON_CreateString(""));
    char *f = addresses(G.message_get_from(m)), *t = addresses(G.message_get_to(m)),
         *c = addresses(G.message_get_cc(m));
    cJSON_ReplaceItemInObject(o, "from", cJSON_CreateString(f));
    er_json_add_str(o, "to", t);
    er_json_add_str(o, "cc", c);
    free(f);
    free(t);
    free(c);
    const char *s = G.message_get_subject(m), *id = G.message_get_message_id(m);
    er_json_add_str(o, "subject", s ? s : "");
    static const char *const hdrs[][2] = { { "date", "Date" },
                                           { "in_reply_to", "In-Reply-To" },
                                           { "references", "References" } };
    for (size_t i = 0; i < ER_ARRAY_LEN(hdrs); i++) {
        char *v = header(m, hdrs[i][1]);
        er_json_add_str(o, hdrs[i][0], v);
        free(v);
    }
    char *mid = id ? er_xasprintf("<%s>", id) : er_xstrdup("");
    er_json_add_str(o, "message_id", mid);
    free(mid);
    er_buf text;
    er_buf_init(&text, 0);
    bool from_html = w.plain.len == 0 && w.html.len > 0;
    if (from_html)
        html_text(&text, &w.html);
    else
        er_buf_append(&text, w.plain.ptr, w.plain.len);
    er_json_add(o, "text", cJSON_CreateString(er_buf_cstr(&text)));
    er_json_add_str(o, "text_from", from_html ? "html" : "plain");
    er_json_add(o, "attachments", w.attachments);
    er_buf_release(&text);
    er_buf_release(&w.plain);
    er_buf_release(&w.html);
    G.object_unref(m);
    *out = o;
    return 0;
}

int er_mime_attachment(er_buf *out, char **filename, const char *raw, size_t len, int part,
                       er_error *err)
{
    *filename = NULL;
    int rc = er_gmime_load(err);
    if (rc)
        return rc;
    GMimeMessage *m = parse(raw, len);
    if (!m)
        return er_error_set(err, ER_EPROTO, "not an Internet message");
    walk w = { .want = part, .content = out };
    er_buf_init(&w.plain, 0);
    er_buf_init(&w.html, 0);
    G.message_foreach(m, on_part, &w);
    er_buf_release(&w.plain);
    er_buf_release(&w.html);
    G.object_unref(m);
    if (!w.found)
        return er_error_set(err, ER_ENOTFOUND, "the message has no attachment %d", part);
    *filename = w.filename;
    return 0;
}

/* ---- writing ---- */

char *er_mime_new_message_id(const char *from)
{
    char id[ER_ID_LEN];
    er_id_new(id);
    const char *at = from ? strrchr(from, '@') : NULL;
    size_t dl = at ? strcspn(at + 1, "> \t") : 0;
    if (!dl)
        return er_xasprintf("<%s@errand.invalid>", id);
    return er_xasprintf("<%s@%.*s>", id, (int)dl, at + 1);
}

static bool has_8bit(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(er_buf *out, const unsigned char *p, size_t n, size_t wrap)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        er_buf_putc(out, b64[v >> 18 & 63]);
        er_buf_putc(out, b64[v >> 12 & 63]);
        er_buf_putc(out, i + 1 < n ? b64[v >> 6 & 63] : '=');
        er_buf_putc(out, i + 2 < n ? b64[v & 63] : '=');
        if (wrap && (col += 4) >= wrap && i + 3 < n) {
            er_buf_puts(out, "\r\n");
            col = 0;
        }
    }
}

/* RFC 2047 B-encoded words of at most 45 input bytes, cut at UTF-8 boundaries. */
static void encoded_words(er_buf *out, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t take = 0;
        while (i + take < n) {
            size_t sl = er_utf8_seq((const unsigned char *)s + i + take, n - i - take);
            if (!sl)
                sl = 1;
            if (take + sl > 45)
                break;
            take += sl;
        }
        er_buf_puts(out, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
        base64(out, (const unsigned char *)s + i, take, 0);
        er_buf_puts(out, "?=");
        i += take;
    }
}

static int put_header(er_buf *out, const char *name, const char *value, bool words, er_error *err)
{
    if (er_str_empty(value))
        return 0;
    if (strpbrk(value, "\r\n"))
        return er_error_set(err, ER_EINVAL, "%s: line breaks are not allowed in a header", name);
    er_buf_printf(out, "%s: ", name);
    if (words && has_8bit(value))
        encoded_words(out, value);
    else
        er_buf_puts(out, value);
    return er_buf_puts(out, "\r\n");
}

int er_mime_build(er_buf *out, const er_mime_draft *d, er_error *err)
{
    if (er_str_empty(d->to))
        return er_error_set(err, ER_EINVAL, "a message needs a To address");
    er_strv check = ER_STRV_INIT;
    int rc = er_mime_addresses(&check, d->to, err);
    if (!rc && !er_str_empty(d->cc))
        rc = er_mime_addresses(&check, d->cc, err);
    er_strv_free(&check);
    if (rc)
        return rc;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char *mid = d->message_id ? NULL : er_mime_new_message_id(d->from);
    const char *body = d->body ? d->body : "";
    rc = put_header(out, "From", d->from, false, err);
    if (!rc)
        rc = put_header(out, "To", d->to, false, err);
    if (!rc)
        rc = put_header(out, "Cc", d->cc, false, err);
    if (!rc)
        rc = put_header(out, "Subject", d->subject, true, err);
    if (!rc)
        rc = put_header(out, "Date", date, false, err);
    if (!rc)
        rc = put_header(out, "Message-ID", d->message_id ? d->message_id : mid, false, err);
    if (!rc)
        rc = put_header(out, "In-Reply-To", d->in_reply_to, false, err);
    if (!rc)
        rc = put_header(out, "References", d->references, false, err);
    free(mid);
    if (rc)
        return rc;
    er_buf_puts(out,
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                "Content-Transfer-Encoding: base64\r\nUser-Agent: errand/" ER_VERSION "\r\n\r\n");
    /* The body with CRLF line ends, then base64: safe for any text and line length. */
    er_buf crlf = ER_BUF_INIT;
    for (const char *p = body; *p; p++) {
        if (*p == '\n' && (p == body || p[-1] != '\r'))
            er_buf_putc(&crlf, '\r');
        er_buf_putc(&crlf, *p);
    }
    base64(out, (const unsigned char *)(crlf.ptr ? crlf.ptr : ""), crlf.len, 76);
    er_buf_release(&crlf);
    return er_buf_puts(out, "\r\n");
}

int er_mime_addresses(er_strv *out, const char *list, er_error *err)
{
    const char *p = list;
    while (p && *p) {
        bool quoted = false;
        int angle = 0;
        const char *start = p;
        for (; *p && (quoted || angle || *p != ','); p++) {
            if (*p == '"')
                quoted = !quoted;
            else if (!quoted && *p == '<')
                angle++;
            else if (!quoted && *p == '>' && angle)
                angle--;
        }
        char *item = er_xstrndup(start, (size_t)(p - start));
        if (*p == ',')
            p++;
        char *lt = strrchr(item, '<'), *addr = er_str_trim(lt ? lt + 1 : item);
        char *gt = strchr(addr, '>');
        if (gt)
            *gt = '\0';
        addr = er_str_trim(addr);
        if (*addr) {
            const char *at = strchr(addr, '@');
            if (!at || at == addr || !at[1] || strpbrk(addr, " \t\r\n<>,;\"")) {
                int rc = er_error_set(err, ER_EINVAL, "'%s' is not an email address", addr);
                free(item);
                return rc;
            }
            er_strv_push(out, addr);
        }
        free(item);
    }
    return 0;
}
