/* charset.c — labels to iconv names and conversion to UTF-8 (see charset.h). */
#include "errand/charset.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/str.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* WHATWG's label → encoding mapping, for the labels seen in practice; any
 * other label iconv knows is passed through as written. */
static const struct {
    const char *label, *name;
} aliases[] = {
    { "utf-8", "UTF-8" },
    { "utf8", "UTF-8" },
    { "unicode-1-1-utf-8", "UTF-8" },
    { "us-ascii", "WINDOWS-1252" },
    { "ascii", "WINDOWS-1252" },
    { "iso-8859-1", "WINDOWS-1252" },
    { "iso8859-1", "WINDOWS-1252" },
    { "latin1", "WINDOWS-1252" },
    { "l1", "WINDOWS-1252" },
    { "windows-1252", "WINDOWS-1252" },
    { "cp1252", "WINDOWS-1252" },
    { "x-cp1252", "WINDOWS-1252" },
    { "shift_jis", "CP932" },
    { "shift-jis", "CP932" },
    { "sjis", "CP932" },
    { "x-sjis", "CP932" },
    { "ms_kanji", "CP932" },
    { "windows-31j", "CP932" },
    { "csshiftjis", "CP932" },
    { "euc-jp", "EUC-JP" },
    { "iso-2022-jp", "ISO-2022-JP" },
    { "gb2312", "GB18030" },
    { "gbk", "GB18030" },
    { "gb18030", "GB18030" },
    { "big5", "BIG5-HKSCS" },
    { "euc-kr", "CP949" },
    { "ks_c_5601-1987", "CP949" },
    { "koi8-r", "KOI8-R" },
    { "koi8-u", "KOI8-U" },
    { "windows-1251", "WINDOWS-1251" },
    { "iso-8859-2", "ISO-8859-2" },
    { "iso-8859-15", "ISO-8859-15" },
    { "utf-16", "UTF-16LE" },
    { "utf-16le", "UTF-16LE" },
    { "utf-16be", "UTF-16BE" },
};

const char *er_charset_name(const char *label)
{
    if (er_str_empty(label))
        return NULL;
    for (size_t i = 0; i < ER_ARRAY_LEN(aliases); i++)
        if (strcasecmp(label, aliases[i].label) == 0)
            return aliases[i].name;
    iconv_t cd = iconv_open("UTF-8", label);
    if (cd == (iconv_t)-1)
        return NULL;
    iconv_close(cd);
    return label;
}

void er_charset_from_content_type(const char *ct, char *out, size_t n)
{
    out[0] = '\0';
    const char *p = ct ? strcasestr(ct, "charset=") : NULL;
    if (!p)
        return;
    p += strlen("charset=");
    size_t skip = *p == '"' || *p == '\'', len = strcspn(p + skip, "\"'; \t");
    if (len >= n)
        len = n - 1;
    memcpy(out, p + skip, len);
    out[len] = '\0';
}

const char *er_charset_bom(const char *data, size_t len, size_t *bom_len)
{
    const unsigned char *d = (const unsigned char *)data;
    *bom_len = 0;
    if (len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF) {
        *bom_len = 3;
        return "UTF-8";
    }
    if (len >= 2 && d[0] == 0xFF && d[1] == 0xFE) {
        *bom_len = 2;
        return "UTF-16LE";
    }
    if (len >= 2 && d[0] == 0xFE && d[1] == 0xFF) {
        *bom_len = 2;
        return "UTF-16BE";
    }
    return NULL;
}

/* Runs iconv over the whole input; each byte it cannot take becomes U+FFFD. */
static void convert(iconv_t cd, const char *data, size_t len, er_buf *out)
{
    char chunk[8192];
    char *in = (char *)data;
    size_t left = len;
    while (left > 0) {
        char *o = chunk;
        size_t room = sizeof chunk;
        size_t r = iconv(cd, &in, &left, &o, &room);
        er_buf_append(out, chunk, (size_t)(o - chunk));
        if (r != (size_t)-1 || errno == E2BIG)
            continue;
        /* EILSEQ, or EINVAL for a sequence cut at the end */
        er_buf_puts(out, "\xEF\xBF\xBD");
        in++;
        left--;
        iconv(cd, NULL, NULL, NULL, NULL); /* back to the initial shift state */
    }
    char *o = chunk;
    size_t room = sizeof chunk;
    iconv(cd, NULL, NULL, &o, &room);
    er_buf_append(out, chunk, (size_t)(o - chunk));
}

/* NUL bytes would end the C string every later stage sees. */
static void replace_nuls(er_buf *b)
{
    if (!memchr(b->ptr, '\0', b->len))
        return;
    er_buf fixed = ER_BUF_INIT;
    for (size_t i = 0; i < b->len; i++) {
        if (b->ptr[i])
            er_buf_putc(&fixed, b->ptr[i]);
        else
            er_buf_puts(&fixed, "\xEF\xBF\xBD");
    }
    er_buf_release(b);
    *b = fixed;
}

int er_charset_to_utf8(char **out, size_t *out_len, const char *data, size_t len,
                       const char *charset, er_error *err)
{
    size_t bom;
    const char *from = er_charset_bom(data, len, &bom);
    if (!from)
        from = er_charset_name(charset);
    if (!from)
        from = "UTF-8";
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return er_error_set(err, ER_EINVAL, "cannot convert from the charset '%s'", from);
    er_buf b = ER_BUF_INIT;
    er_buf_init(&b, 0);
    convert(cd, data + bom, len - bom, &b);
    iconv_close(cd);
    er_buf_putc(&b, '\0');
    b.len--;
    replace_nuls(&b);
    *out_len = b.len;
    *out = er_buf_detach(&b);
    return 0;
}
