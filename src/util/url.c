/* url.c — backend URL parsing (RFC 3986 subset: what DATABASE_URL & co. use). */
#include "errand/url.h"
#include "errand/buf.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static char *decode(const char *s, size_t n)
{
    char *out = er_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

void er_url_release(er_url *u)
{
    free(u->scheme);
    free(u->user);
    free(u->password);
    free(u->host);
    free(u->path);
    free(u->query);
    free(u->raw);
    memset(u, 0, sizeof *u);
}

static int parse_authority(er_url *u, const char *a, size_t n, er_error *err)
{
    const char *at = memrchr(a, '@', n);
    if (at) {
        const char *colon = memchr(a, ':', (size_t)(at - a));
        if (colon) {
            u->user = decode(a, (size_t)(colon - a));
            u->password = decode(colon + 1, (size_t)(at - colon - 1));
        } else {
            u->user = decode(a, (size_t)(at - a));
        }
        n -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    const char *hend = a + n;
    const char *portp = NULL;
    if (n && a[0] == '[') { /* [::1]:5432 */
        const char *rb = memchr(a, ']', n);
        if (!rb)
            return er_error_set(err, ER_EINVAL, "bad IPv6 host in URL");
        u->host = er_xstrndup(a + 1, (size_t)(rb - a - 1));
        if (rb + 1 < hend && rb[1] == ':')
            portp = rb + 2;
    } else {
        const char *colon = memchr(a, ':', n);
        u->host = er_xstrndup(a, colon ? (size_t)(colon - a) : n);
        if (colon)
            portp = colon + 1;
    }
    if (portp && portp < hend) {
        long port = 0;
        for (const char *p = portp; p < hend; p++) {
            if (!isdigit((unsigned char)*p))
                return er_error_set(err, ER_EINVAL, "bad port in URL");
            port = port * 10 + (*p - '0');
            if (port > 65535)
                return er_error_set(err, ER_EINVAL, "port out of range in URL");
        }
        u->port = (int)port;
    }
    if (u->host && !*u->host) {
        free(u->host);
        u->host = NULL;
    }
    return 0;
}

int er_url_parse(er_url *u, const char *text, er_error *err)
{
    memset(u, 0, sizeof *u);
    if (er_str_empty(text))
        return er_error_set(err, ER_EINVAL, "empty URL");
    const char *colon = strchr(text, ':');
    if (!colon || colon == text)
        return er_error_set(err, ER_EINVAL, "'%s' is not a URL (expected scheme://…)", text);
    for (const char *p = text; p < colon; p++) {
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
            return er_error_set(err, ER_EINVAL, "'%s' is not a URL (bad scheme)", text);
    }
    u->raw = er_xstrdup(text);
    u->scheme = er_xstrndup(text, (size_t)(colon - text));
    for (char *p = u->scheme; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *rest = colon + 1;
    const char *q = strchr(rest, '?');
    size_t restlen = q ? (size_t)(q - rest) : strlen(rest);
    if (q)
        u->query = er_xstrdup(q + 1);
    if (restlen >= 2 && rest[0] == '/' && rest[1] == '/') {
        const char *a = rest + 2;
        const char *slash = memchr(a, '/', restlen - 2);
        size_t alen = slash ? (size_t)(slash - a) : restlen - 2;
        int rc = parse_authority(u, a, alen, err);
        if (rc) {
            er_url_release(u);
            return rc;
        }
        u->path = slash ? decode(slash, restlen - 2 - alen) : er_xstrdup("");
    } else {
        u->path = decode(rest, restlen); /* sqlite::memory:, sqlite:relative.db */
    }
    return 0;
}

char *er_url_query_get(const er_url *u, const char *name)
{
    if (!u->query)
        return NULL;
    size_t nl = strlen(name);
    const char *p = u->query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=')
            return decode(p + nl + 1, len - nl - 1);
        if (len == nl && strncmp(p, name, nl) == 0)
            return er_xstrdup("");
        p += len + (amp ? 1 : 0);
    }
    return NULL;
}

char *er_url_with_query(const char *text, const char *name, const char *value)
{
    const char *q = strchr(text, '?');
    er_url u = { .query = q ? (char *)q + 1 : NULL };
    char *had = er_url_query_get(&u, name);
    if (had) {
        free(had);
        return er_xstrdup(text);
    }
    const char *sep = !q ? "?" : q[1] && text[strlen(text) - 1] != '&' ? "&" : "";
    return er_xasprintf("%s%s%s=%s", text, sep, name, value);
}

/* ends: what ends the authority besides the end of s. */
static bool password_in(const char *s, const char *ends, size_t *user_len, size_t *pw_len)
{
    size_t n = strcspn(s, ends);
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '@')
            at = s + i;
    const char *colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
    if (!colon)
        return false;
    *user_len = (size_t)(colon - s);
    *pw_len = (size_t)(at - colon - 1);
    return true;
}

bool er_url_password_at(const char *s, size_t *user_len, size_t *pw_len)
{
    /* Where er_url_parse ends the authority (a path, a query), or where the
     * text around a URL resumes. */
    return password_in(s, "/? \t\r\n\"'<>`", user_len, pw_len);
}

void er_url_mask_text(const char *text, char *out, size_t outsize)
{
    size_t o = 0;
    if (!outsize)
        return;
    while (*text && o + 1 < outsize) {
        size_t ul, pl;
        if (strncmp(text, "://", 3) == 0 && er_url_password_at(text + 3, &ul, &pl)) {
            int n = snprintf(out + o, outsize - o, "://%.*s:***", (int)ul, text + 3);
            o = n < 0 || (size_t)n >= outsize - o ? outsize - 1 : o + (size_t)n;
            text += 3 + ul + 1 + pl;
            continue;
        }
        out[o++] = *text++;
    }
    out[o] = '\0';
}

char *er_url_redacted(const char *text)
{
    if (!text)
        return NULL;
    /* One URL: its authority as er_url_parse reads it, whatever it holds. */
    const char *sep = strstr(text, "://");
    size_t ul, pl;
    if (!sep || !password_in(sep + 3, "/?", &ul, &pl))
        return er_xstrdup(text);
    const char *pw = sep + 3 + ul + 1;
    return er_xasprintf("%.*s***%s", (int)(pw - text), text, pw + pl);
}

void er_url_encode(er_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            er_buf_putc(b, (char)c);
        else
            er_buf_printf(b, "%%%02X", c);
    }
}

void er_url_param(er_buf *b, const char *name, const char *value)
{
    if (b->len && b->ptr[b->len - 1] != '?')
        er_buf_putc(b, '&');
    er_buf_puts(b, name);
    er_buf_putc(b, '=');
    er_url_encode(b, value);
}
