/* text.c — the helpers the page readers share (see web_internal.h). */
#include "web_internal.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *web_attr(const xmlNode *n, const char *name)
{
    if (!n || n->type != XML_ELEMENT_NODE)
        return NULL;
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (a->name && strcasecmp((const char *)a->name, name) == 0) {
            const xmlNode *v = a->children;
            return v && v->content ? (const char *)v->content : "";
        }
    }
    return NULL;
}

const char *web_tag(const xmlNode *n)
{
    return n && n->type == XML_ELEMENT_NODE && n->name ? (const char *)n->name : "";
}

bool web_is(const xmlNode *n, const char *tag)
{
    return strcasecmp(web_tag(n), tag) == 0;
}

void web_text_init(web_text *t, er_buf *out)
{
    memset(t, 0, sizeof *t);
    t->out = out;
}

static void pay_breaks(web_text *t)
{
    if (t->started && t->breaks) {
        /* no trailing blanks before a line break */
        while (t->out->len && t->out->ptr[t->out->len - 1] == ' ')
            t->out->len--;
        for (int i = 0; i < t->breaks; i++)
            er_buf_putc(t->out, '\n');
        t->space = false;
    }
    t->breaks = 0;
}

void web_text_words(web_text *t, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (isspace((unsigned char)s[i])) {
            t->space = true;
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && !isspace((unsigned char)s[j]))
            j++;
        pay_breaks(t);
        if (t->space && t->started && t->out->len && t->out->ptr[t->out->len - 1] != '\n')
            er_buf_putc(t->out, ' ');
        er_buf_append(t->out, s + i, j - i);
        t->started = true;
        t->space = false;
        i = j;
    }
}

void web_text_raw(web_text *t, const char *s, size_t len)
{
    if (!len)
        return;
    pay_breaks(t);
    er_buf_append(t->out, s, len);
    t->started = true;
    t->space = false;
}

void web_text_break(web_text *t, int n)
{
    if (n > t->breaks)
        t->breaks = n > 2 ? 2 : n;
    t->space = false;
}

void web_text_prefix(web_text *t, const char *prefix)
{
    if (t->started && !t->breaks)
        t->breaks = 1;
    pay_breaks(t);
    er_buf_puts(t->out, prefix);
    t->started = true;
    t->space = false;
}

static void node_text_rec(const xmlNode *n, web_text *t, size_t max, int depth)
{
    for (const xmlNode *c = n->children; c && t->out->len < max; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                web_text_words(t, (const char *)c->content, strlen((const char *)c->content));
        } else if (c->type == XML_ELEMENT_NODE && depth < WEB_MAX_DEPTH && !web_is(c, "script") &&
                   !web_is(c, "style") && !web_is(c, "template")) {
            if (web_is(c, "br"))
                t->space = true;
            node_text_rec(c, t, max, depth + 1);
        }
    }
}

void web_node_text(const xmlNode *n, er_buf *out, size_t max)
{
    web_text t;
    web_text_init(&t, out);
    if (n)
        node_text_rec(n, &t, max, 0);
}

char *web_resolve(const char *href, const char *base)
{
    if (er_str_empty(href))
        return NULL;
    char *trimmed = er_str_trim(er_xstrdup(href));
    xmlChar *abs = xmlBuildURI((const xmlChar *)trimmed, (const xmlChar *)(base ? base : ""));
    free(trimmed);
    if (!abs)
        return NULL;
    char *url = NULL;
    const char *s = (const char *)abs;
    if (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0)
        url = er_xstrndup(s, strcspn(s, "#"));
    er_xml_free(abs);
    return url;
}

void web_add_link(cJSON *links, er_buf *seen, const char *url, const char *text)
{
    if (!url || cJSON_GetArraySize(links) >= ER_EXTRACT_MAX_LINKS)
        return;
    size_t n = strlen(url);
    for (const char *p = er_buf_cstr(seen); (p = strstr(p, url)) != NULL; p += n)
        if ((p == seen->ptr || p[-1] == '\n') && p[n] == '\n')
            return;
    er_buf_puts(seen, url);
    er_buf_putc(seen, '\n');
    cJSON *l = cJSON_CreateObject();
    er_json_add_str(l, "url", url);
    er_json_add_str(l, "text", text ? text : "");
    er_json_append(links, l);
}

void web_set_once(char **field, const char *s)
{
    if (*field || !s)
        return;
    er_buf b = ER_BUF_INIT;
    web_text t;
    web_text_init(&t, &b);
    web_text_words(&t, s, strlen(s));
    if (b.len)
        *field = er_buf_detach(&b);
    er_buf_release(&b);
}
