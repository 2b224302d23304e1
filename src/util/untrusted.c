/* untrusted.c — the fence around outside text (see untrusted.h). */
#include "errand/untrusted.h"
#include "errand/str.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static void put_attr(er_buf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\n' || *s == '\r' || *s == '>' || *s == '<')
            er_buf_printf(out, "%%%02X", (unsigned char)*s);
        else
            er_buf_putc(out, *s);
    }
}

void er_untrusted_fence(er_buf *out, const char *kind, const char *source, const char *text,
                        size_t len)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = er_mono_ns() * 0x9e3779b97f4a7c15ull;
    char id[17];
    snprintf(id, sizeof id, "%016llx", (unsigned long long)r);
    er_buf_printf(out, ER_UNTRUSTED_OPEN " kind=\"%s\" source=\"", kind);
    put_attr(out, source);
    er_buf_printf(out, "\" id=\"%s\">>>\n", id);
    for (size_t i = 0; i < len; i++) {
        /* "<<<" would let the text fake a marker: "<< <" cannot */
        if (text[i] == '<' && i + 2 < len && text[i + 1] == '<' && text[i + 2] == '<') {
            er_buf_puts(out, "<< ");
            i++;
            continue;
        }
        er_buf_putc(out, text[i]);
    }
    if (len && text[len - 1] != '\n')
        er_buf_putc(out, '\n');
    er_buf_printf(out, ER_UNTRUSTED_CLOSE " id=\"%s\">>>", id);
}
