/* feed.c — RSS 2.0, RSS 1.0 (RDF) and Atom feeds as text (see extract.h).
 *
 * The XML parser runs without network access and without substituting
 * external entities; libxml2's own limits stop entity-expansion bombs.
 * Summaries that carry HTML (RSS descriptions, Atom type="html") are read
 * with the HTML parser and turned into text. */
#include "web_internal.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *local_name(const xmlNode *n)
{
    return n && n->type == XML_ELEMENT_NODE && n->name ? (const char *)n->name : "";
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (strcmp(local_name(c), name) == 0)
            return c;
    return NULL;
}

/* The text of an element, whitespace collapsed; OWNED or NULL. */
static char *text_of(const xmlNode *n)
{
    if (!n)
        return NULL;
    er_buf b = ER_BUF_INIT;
    web_node_text(n, &b, 64 * 1024);
    char *s = b.len ? er_buf_detach(&b) : NULL;
    er_buf_release(&b);
    return s;
}

/* HTML markup (escaped inside the feed) as plain text, into t. */
static void html_text(web_text *t, const char *html)
{
    htmlDocPtr doc = htmlReadMemory(html, (int)strlen(html), NULL, "UTF-8",
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                        HTML_PARSE_NONET);
    if (!doc)
        return;
    er_buf b = ER_BUF_INIT;
    for (const xmlNode *n = doc->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            web_node_text(n, &b, 64 * 1024);
    web_text_words(t, b.ptr ? b.ptr : "", b.len);
    er_buf_release(&b);
    xmlFreeDoc(doc);
}

/* An Atom <link>: the alternate one (no rel, or rel="alternate"). */
static const char *atom_link(const xmlNode *entry)
{
    for (const xmlNode *c = entry->children; c; c = c->next) {
        if (strcmp(local_name(c), "link") != 0)
            continue;
        const char *rel = web_attr(c, "rel");
        if (!rel || strcmp(rel, "alternate") == 0)
            return web_attr(c, "href");
    }
    return NULL;
}

typedef struct item_view {
    const char *title_tag, *date_tags[3], *summary_tags[3];
} item_view;

static const item_view rss_view = { "title",
                                    { "pubDate", "date", NULL },
                                    { "description", "encoded", NULL } };
static const item_view atom_view = { "title",
                                     { "published", "updated", NULL },
                                     { "summary", "content", NULL } };

static void write_item(er_extract *out, web_text *t, er_buf *seen, const xmlNode *item,
                       const item_view *v, const char *base, bool atom)
{
    char *title = text_of(child(item, v->title_tag));
    web_text_break(t, 2);
    web_text_prefix(t, "## ");
    web_text_words(t, title ? title : "(untitled)", strlen(title ? title : "(untitled)"));
    web_text_break(t, 1);
    for (size_t i = 0; v->date_tags[i]; i++) {
        char *date = text_of(child(item, v->date_tags[i]));
        if (date) {
            web_text_words(t, date, strlen(date));
            web_text_break(t, 1);
            free(date);
            break;
        }
    }
    char *link_text = atom ? NULL : text_of(child(item, "link"));
    char *url = web_resolve(atom ? atom_link(item) : link_text, base);
    if (url) {
        web_text_words(t, url, strlen(url));
        web_text_break(t, 1);
        web_add_link(out->links, seen, url, title);
    }
    for (size_t i = 0; v->summary_tags[i]; i++) {
        char *summary = text_of(child(item, v->summary_tags[i]));
        if (!summary)
            continue;
        /* RSS descriptions are HTML by custom; Atom says so with type. */
        const char *type = web_attr(child(item, v->summary_tags[i]), "type");
        if (!atom || (type && strstr(type, "html")))
            html_text(t, summary);
        else
            web_text_words(t, summary, strlen(summary));
        free(summary);
        break;
    }
    out->nitems++;
    free(title);
    free(link_text);
    free(url);
}

/* The items of a feed's root: RSS channel items, RDF items, Atom entries. */
static void write_feed(er_extract *out, const xmlNode *root, const char *base)
{
    bool atom = strcmp(local_name(root), "feed") == 0;
    const xmlNode *channel = atom ? root : child(root, "channel");
    char *title = text_of(child(channel, "title"));
    web_set_once(&out->title, title);
    free(title);
    web_text t;
    web_text_init(&t, &out->text);
    er_buf seen = ER_BUF_INIT;
    /* RSS 2.0 items sit in the channel, RSS 1.0 items beside it */
    const xmlNode *holders[] = { channel, root };
    for (size_t h = 0; h < (atom ? 1 : 2); h++) {
        if (!holders[h] || (h == 1 && holders[0] == holders[1]))
            continue;
        for (const xmlNode *c = holders[h]->children; c; c = c->next) {
            const char *name = local_name(c);
            if (strcmp(name, atom ? "entry" : "item") == 0)
                write_item(out, &t, &seen, c, atom ? &atom_view : &rss_view, base, atom);
        }
    }
    er_buf_release(&seen);
}

int er_extract_feed(er_extract *out, const char *xml, size_t len, const char *base_url,
                    er_error *err)
{
    memset(out, 0, sizeof *out);
    er_buf_init(&out->text, 0);
    out->links = cJSON_CreateArray();
    int rc = er_xml_load(err);
    if (rc)
        return rc;
    if (len > INT32_MAX)
        return er_error_set(err, ER_ETOOBIG, "the document is too large to parse");
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, base_url, NULL,
                                  XML_PARSE_RECOVER | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                      XML_PARSE_NONET | XML_PARSE_NOCDATA);
    const xmlNode *root = NULL;
    for (const xmlNode *n = doc ? doc->children : NULL; n && !root; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            root = n;
    if (!root) {
        if (doc)
            xmlFreeDoc(doc);
        return er_error_set(err, ER_EPROTO, "the document is not well-formed XML");
    }
    out->charset = er_xstrdup(doc->encoding ? (const char *)doc->encoding : "UTF-8");
    const char *name = local_name(root);
    bool feed = strcmp(name, "rss") == 0 || strcmp(name, "feed") == 0 || strcmp(name, "RDF") == 0;
    if (feed)
        write_feed(out, root, base_url);
    else
        web_node_text(root, &out->text, SIZE_MAX);
    xmlFreeDoc(doc);
    return feed ? 0 : er_error_set(err, ER_ENOTFOUND, "the XML document is not a feed");
}
