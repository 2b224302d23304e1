/* extract.c — the main text of an HTML page (see extract.h).
 *
 * Four passes over libxml2's tree: annotate (what is never text, per-node
 * text and link-text sizes, the page's metadata), score (paragraphs hand
 * their score to their ancestors), choose the content root, and write it out
 * as structured plain text.  Per-node figures hang off xmlNode._private,
 * which libxml2 leaves to the application. */
#include "web_internal.h"
#include "errand/alloc.h"
#include "errand/charset.h"
#include "errand/json.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Paragraphs shorter than this (characters) do not vote for a root. */
#define MIN_PARAGRAPH 25
/* An <article>/<main> with at least this much text is the root outright. */
#define MIN_ARTICLE 200

typedef struct nstat {
    double score;
    size_t text; /* characters of visible text below (whitespace collapsed) */
    size_t link; /* of which inside links */
    size_t commas;
    bool scored; /* has an initial score */
    bool skip;   /* never text */
} nstat;

typedef struct page {
    er_extract *out;
    nstat *st;
    size_t nst, cap;
    const xmlNode **elems; /* every element, document order */
    size_t nelems, elems_cap;
    char *base;  /* for links: <base href> or the page URL */
    char *h1;    /* first <h1> text, a title fallback */
    er_buf seen; /* links already listed */
} page;

static nstat *st_of(const page *p, const xmlNode *n)
{
    uintptr_t i = n && n->type == XML_ELEMENT_NODE ? (uintptr_t)n->_private : 0;
    return i ? &p->st[i - 1] : NULL;
}

/* ---- what is never text ---- */

static const char *const drop_tags[] = {
    "script", "style",  "noscript", "template", "svg",     "math",   "canvas", "iframe",
    "object", "embed",  "nav",      "aside",    "footer",  "header", "form",   "button",
    "input",  "select", "textarea", "label",    "dialog",  "menu",   "head",   "title",
    "meta",   "link",   "figure",   "img",      "picture", "video",  "audio",  "map",
    "area",   "frame",  "frameset", "applet",
};

static const char *const drop_roles[] = {
    "navigation", "banner",  "contentinfo", "complementary", "dialog", "alertdialog", "search",
    "menu",       "menubar", "toolbar",     "tablist",       "alert",  "status",      "form",
};

/* class/id words that mark boxes around the content, never the content */
static const char *const drop_words[] = {
    "ad",       "ads",        "adv",      "advert",     "advertisement", "advertising",
    "sponsor",  "sponsored",  "promo",    "promoted",   "banner",        "cookie",
    "cookies",  "consent",    "gdpr",     "newsletter", "subscribe",     "subscription",
    "signup",   "share",      "sharing",  "social",     "related",       "recommended",
    "trending", "popular",    "sidebar",  "widget",     "comment",       "comments",
    "disqus",   "replies",    "reply",    "respond",    "footer",        "nav",
    "navbar",   "navigation", "menu",     "breadcrumb", "breadcrumbs",   "masthead",
    "popup",    "modal",      "overlay",  "toolbar",    "pagination",    "pager",
    "skip",     "byline",     "author",   "meta",       "tags",          "tag",
    "hidden",   "sr",         "visually", "screen",     "outbrain",      "taboola",
    "paywall",  "donate",     "print",
};

/* words in longer class names ("commentlist", "cookiebar") */
static const char *const drop_stems[] = {
    "comment",    "cookie",  "consent", "advert", "sponsor",   "newsletter",
    "breadcrumb", "sidebar", "social",  "footer", "masthead",  "popup",
    "banner",     "related", "share",   "promo",  "subscribe", "disqus",
};

static bool in_list(const char *s, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(s, v[i]) == 0)
            return true;
    return false;
}

/* Does a class or id value carry a word of drop_words, or a stem? */
static bool unlikely_names(const char *v)
{
    if (er_str_empty(v))
        return false;
    char word[64];
    const char *p = v;
    while (*p) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        size_t n = 0;
        while (isalnum((unsigned char)p[n]))
            n++;
        if (!n)
            break;
        snprintf(word, sizeof word, "%.*s", (int)(n < 63 ? n : 63), p);
        if (in_list(word, drop_words, ER_ARRAY_LEN(drop_words)))
            return true;
        for (size_t i = 0; i < ER_ARRAY_LEN(drop_stems); i++)
            if (strcasestr(word, drop_stems[i]))
                return true;
        p += n;
    }
    return false;
}

static bool hidden(const xmlNode *n)
{
    if (web_attr(n, "hidden") || er_str_eq(web_attr(n, "aria-hidden"), "true"))
        return true;
    const char *style = web_attr(n, "style");
    if (style) {
        char compact[256];
        size_t k = 0;
        for (const char *s = style; *s && k + 1 < sizeof compact; s++)
            if (!isspace((unsigned char)*s))
                compact[k++] = (char)tolower((unsigned char)*s);
        compact[k] = '\0';
        if (strstr(compact, "display:none") || strstr(compact, "visibility:hidden") ||
            strstr(compact, "font-size:0") || strstr(compact, "opacity:0;") ||
            er_str_ends(compact, "opacity:0"))
            return true;
    }
    return false;
}

static bool content_tag(const xmlNode *n)
{
    return web_is(n, "article") || web_is(n, "main") || web_is(n, "body") || web_is(n, "html");
}

static bool never_text(const xmlNode *n)
{
    const char *tag = web_tag(n);
    if (in_list(tag, drop_tags, ER_ARRAY_LEN(drop_tags)) || hidden(n))
        return true;
    const char *role = web_attr(n, "role");
    if (role && in_list(role, drop_roles, ER_ARRAY_LEN(drop_roles)))
        return true;
    if (content_tag(n) || er_str_eq(role, "main"))
        return false;
    return unlikely_names(web_attr(n, "class")) || unlikely_names(web_attr(n, "id"));
}

/* ---- pass 1: annotate ---- */

static size_t collapsed_len(const char *s, size_t *commas)
{
    size_t n = 0;
    bool space = false;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = true;
            continue;
        }
        n += 1 + (space && n);
        space = false;
        *commas += *s == ',';
    }
    return n;
}

static void meta_tag(page *p, const xmlNode *n)
{
    const char *name = web_attr(n, "property");
    if (!name)
        name = web_attr(n, "name");
    const char *content = web_attr(n, "content");
    if (!name || !content)
        return;
    er_extract *x = p->out;
    if (strcasecmp(name, "og:title") == 0)
        web_set_once(&x->title, content);
    else if (strcasecmp(name, "author") == 0 || strcasecmp(name, "article:author") == 0 ||
             strcasecmp(name, "dc.creator") == 0)
        web_set_once(&x->byline, er_str_starts(content, "http") ? NULL : content);
    else if (strcasecmp(name, "article:published_time") == 0 || strcasecmp(name, "date") == 0 ||
             strcasecmp(name, "dc.date") == 0 || strcasecmp(name, "pubdate") == 0 ||
             strcasecmp(name, "publish-date") == 0)
        web_set_once(&x->published, content);
    else if (strcasecmp(name, "og:url") == 0 && !x->canonical)
        x->canonical = web_resolve(content, p->base);
}

static void short_text(const xmlNode *n, char **field)
{
    if (*field)
        return;
    er_buf b = ER_BUF_INIT;
    web_node_text(n, &b, 300);
    if (b.len && b.len < 200)
        *field = er_buf_detach(&b);
    er_buf_release(&b);
}

/* The page's metadata, from the element at hand. */
static void metadata(page *p, const xmlNode *n)
{
    er_extract *x = p->out;
    const char *rel = web_attr(n, "rel");
    if (web_is(n, "title")) {
        short_text(n, &x->title);
    } else if (web_is(n, "meta")) {
        meta_tag(p, n);
    } else if (web_is(n, "base") && web_attr(n, "href")) {
        char *b = web_resolve(web_attr(n, "href"), p->base);
        if (b) {
            free(p->base);
            p->base = b;
        }
    } else if (web_is(n, "link") && rel && strcasecmp(rel, "canonical") == 0 && !x->canonical) {
        x->canonical = web_resolve(web_attr(n, "href"), p->base);
    } else if (web_is(n, "time") && web_attr(n, "datetime")) {
        web_set_once(&x->published, web_attr(n, "datetime"));
    } else if (web_is(n, "h1")) {
        short_text(n, &p->h1);
    } else if (web_is(n, "html") && web_attr(n, "lang")) {
        web_set_once(&x->lang, web_attr(n, "lang"));
    }
    const char *cls = web_attr(n, "class");
    if ((rel && strcasecmp(rel, "author") == 0) ||
        (cls && (strcasestr(cls, "byline") || strcasestr(cls, "author-name"))))
        short_text(n, &x->byline);
}

static nstat *new_stat(page *p, xmlNode *n)
{
    if (p->nst == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->st = er_xrealloc(p->st, p->cap * sizeof *p->st);
    }
    memset(&p->st[p->nst], 0, sizeof p->st[p->nst]);
    n->_private = (void *)(uintptr_t)++p->nst;
    if (p->nelems == p->elems_cap) {
        p->elems_cap = p->elems_cap ? p->elems_cap * 2 : 256;
        p->elems = er_xrealloc(p->elems, p->elems_cap * sizeof *p->elems);
    }
    p->elems[p->nelems++] = n;
    return &p->st[p->nst - 1];
}

/* Sizes of the visible text below n; fills its stat. */
static void annotate(page *p, xmlNode *n, int depth, bool in_link)
{
    size_t idx = p->nst;
    new_stat(p, n);
    metadata(p, n);
    bool skip = never_text(n);
    bool link = in_link || web_is(n, "a");
    size_t text = 0, ltext = 0, commas = 0;
    for (xmlNode *c = n->children; c && depth < WEB_MAX_DEPTH; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            annotate(p, c, depth + 1, link);
            const nstat *cs = &p->st[(uintptr_t)c->_private - 1];
            if (!cs->skip) {
                text += cs->text;
                ltext += cs->link;
                commas += cs->commas;
            }
        } else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t len = collapsed_len((const char *)c->content, &commas);
            text += len;
            ltext += link ? len : 0;
        }
    }
    nstat *s = &p->st[idx]; /* p->st may have moved */
    s->skip = skip;
    s->text = text;
    s->link = ltext;
    s->commas = commas;
}

/* ---- pass 2: score ---- */

static double link_density(const nstat *s)
{
    return s->text ? (double)s->link / (double)s->text : 0;
}

static double class_weight(const xmlNode *n)
{
    static const char *const good[] = {
        "article", "body", "content", "entry", "main",  "page",
        "post",    "text", "blog",    "story", "prose", "markdown"
    };
    double w = 0;
    const char *names[] = { web_attr(n, "class"), web_attr(n, "id") };
    for (size_t i = 0; i < ER_ARRAY_LEN(names); i++) {
        if (!names[i])
            continue;
        if (unlikely_names(names[i]))
            w -= 25;
        for (size_t g = 0; g < ER_ARRAY_LEN(good); g++)
            if (strcasestr(names[i], good[g])) {
                w += 25;
                break;
            }
    }
    return w;
}

static double tag_weight(const xmlNode *n)
{
    static const struct {
        const char *tag;
        double w;
    } weights[] = {
        { "div", 5 }, { "article", 10 },   { "main", 10 },    { "section", 3 }, { "pre", 3 },
        { "td", 3 },  { "blockquote", 3 }, { "address", -3 }, { "ol", -3 },     { "ul", -3 },
        { "dl", -3 }, { "dd", -3 },        { "dt", -3 },      { "li", -3 },     { "form", -3 },
        { "h1", -5 }, { "h2", -5 },        { "h3", -5 },      { "h4", -5 },     { "th", -5 },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(weights); i++)
        if (web_is(n, weights[i].tag))
            return weights[i].w;
    return 0;
}

static bool has_block_child(const xmlNode *n)
{
    static const char *const blocks[] = { "p",  "div", "section", "article",    "table",
                                          "ul", "ol",  "pre",     "blockquote", "h1",
                                          "h2", "h3",  "h4" };
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && in_list(web_tag(c), blocks, ER_ARRAY_LEN(blocks)))
            return true;
    return false;
}

static bool paragraph_like(const xmlNode *n)
{
    if (web_is(n, "p") || web_is(n, "pre") || web_is(n, "td") || web_is(n, "blockquote"))
        return true;
    return (web_is(n, "div") || web_is(n, "section")) && !has_block_child(n);
}

/* Is n or an ancestor never text? */
static bool under_skip(const page *p, const xmlNode *n)
{
    for (; n && n->type == XML_ELEMENT_NODE; n = n->parent)
        if (st_of(p, n)->skip)
            return true;
    return false;
}

static void score_paragraphs(page *p)
{
    for (size_t i = 0; i < p->nelems; i++) {
        const xmlNode *n = p->elems[i];
        const nstat *s = st_of(p, n);
        if (!paragraph_like(n) || s->text < MIN_PARAGRAPH || under_skip(p, n))
            continue;
        double score = 1 + (double)s->commas + (double)(s->text / 100 > 3 ? 3 : s->text / 100);
        static const double share[] = { 1, 0.5, 1.0 / 6 };
        const xmlNode *a = n->parent;
        for (size_t level = 0; level < ER_ARRAY_LEN(share) && a && a->type == XML_ELEMENT_NODE;
             level++, a = a->parent) {
            nstat *as = st_of(p, a);
            if (!as->scored) {
                as->scored = true;
                as->score = tag_weight(a) + class_weight(a);
            }
            as->score += score * share[level];
        }
    }
}

/* ---- pass 3: the root ---- */

static const xmlNode *best_article(const page *p)
{
    const xmlNode *best = NULL;
    size_t most = 0;
    for (size_t i = 0; i < p->nelems; i++) {
        const xmlNode *n = p->elems[i];
        if (!(web_is(n, "article") || web_is(n, "main") || er_str_eq(web_attr(n, "role"), "main")))
            continue;
        const nstat *s = st_of(p, n);
        if (s->text - s->link > most && !under_skip(p, n)) {
            most = s->text - s->link;
            best = n;
        }
    }
    /* a <main> around one <article>: the article */
    if (best && !web_is(best, "article")) {
        for (size_t i = 0; i < p->nelems; i++) {
            const xmlNode *n = p->elems[i];
            const nstat *s = st_of(p, n);
            if (web_is(n, "article") && s->text * 10 >= most * 8 && !under_skip(p, n)) {
                for (const xmlNode *a = n->parent; a; a = a->parent)
                    if (a == best)
                        return n;
            }
        }
    }
    return most >= MIN_ARTICLE ? best : NULL;
}

static const xmlNode *top_candidate(const page *p)
{
    const xmlNode *top = NULL;
    double best = 0;
    for (size_t i = 0; i < p->nelems; i++) {
        const nstat *s = st_of(p, p->elems[i]);
        if (!s->scored)
            continue;
        double final = s->score * (1 - link_density(s));
        if (final > best) {
            best = final;
            top = p->elems[i];
        }
    }
    return top;
}

static bool sibling_belongs(const page *p, const xmlNode *sib, const xmlNode *top)
{
    const nstat *s = st_of(p, sib), *t = st_of(p, top);
    if (s->skip)
        return false;
    double threshold = t->score * 0.2 > 10 ? t->score * 0.2 : 10;
    if (s->scored && s->score * (1 - link_density(s)) >= threshold)
        return true;
    if (!web_is(sib, "p"))
        return false;
    return (s->text > 80 && link_density(s) < 0.25) || (s->text > 0 && s->link == 0 && s->commas);
}

/* ---- pass 4: write the text ---- */

typedef struct writer {
    page *p;
    web_text t;
    const xmlNode *root;
} writer;

static void write_node(writer *w, const xmlNode *n, int depth, bool pre);

static void write_children(writer *w, const xmlNode *n, int depth, bool pre)
{
    for (const xmlNode *c = n->children; c && depth < WEB_MAX_DEPTH; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            const char *s = (const char *)c->content;
            if (!s)
                continue;
            if (pre)
                web_text_raw(&w->t, s, strlen(s));
            else
                web_text_words(&w->t, s, strlen(s));
        } else if (c->type == XML_ELEMENT_NODE) {
            write_node(w, c, depth + 1, pre);
        }
    }
}

/* A box of mostly links inside the content (related articles, tag lists). */
static bool link_box(const writer *w, const xmlNode *n)
{
    static const char *const boxes[] = { "ul", "ol", "div", "section", "dl", "table" };
    if (n == w->root || !in_list(web_tag(n), boxes, ER_ARRAY_LEN(boxes)))
        return false;
    const nstat *s = st_of(w->p, n);
    return s->text > 0 && link_density(s) > 0.5;
}

/* The heading that repeats the page's title is the title, not text. */
static bool title_heading(const writer *w, const xmlNode *n)
{
    const char *title = w->p->out->title;
    if (!web_is(n, "h1") || !title)
        return false;
    er_buf b = ER_BUF_INIT;
    web_node_text(n, &b, 400);
    bool same = b.len && strstr(title, er_buf_cstr(&b)) != NULL;
    er_buf_release(&b);
    return same;
}

static void write_link(writer *w, const xmlNode *n, int depth, bool pre)
{
    const char *href = web_attr(n, "href");
    char *url = href ? web_resolve(href, w->p->base) : NULL;
    if (url) {
        er_buf text = ER_BUF_INIT;
        web_node_text(n, &text, 200);
        web_add_link(w->p->out->links, &w->p->seen, url, er_buf_cstr(&text));
        er_buf_release(&text);
        free(url);
    }
    write_children(w, n, depth, pre);
}

static bool data_table(const xmlNode *table)
{
    /* rows of two or more cells, and no table inside (layout tables nest) */
    bool cells2 = false;
    for (const xmlNode *a = table->children; a; a = a->next) {
        const xmlNode *rows = web_is(a, "tr") ? table : a;
        if (web_is(a, "table"))
            return false;
        for (const xmlNode *r = rows == table ? a : a->children; r; r = r->next) {
            int cells = 0;
            for (const xmlNode *c = r->children; c; c = c->next) {
                if (web_is(c, "td") || web_is(c, "th"))
                    cells++;
                for (const xmlNode *d = c->children; d; d = d->next)
                    if (web_is(d, "table"))
                        return false;
            }
            cells2 |= cells >= 2;
            if (rows == table)
                break;
        }
    }
    return cells2;
}

static void write_row(writer *w, const xmlNode *tr, int depth)
{
    web_text_prefix(&w->t, "|");
    for (const xmlNode *c = tr->children; c; c = c->next) {
        if (!web_is(c, "td") && !web_is(c, "th"))
            continue;
        web_text_words(&w->t, " ", 1);
        er_buf cell = ER_BUF_INIT;
        web_node_text(c, &cell, 2000);
        web_text_words(&w->t, cell.len ? cell.ptr : "-", cell.len ? cell.len : 1);
        er_buf_release(&cell);
        web_text_words(&w->t, " |", 2);
        (void)depth;
    }
    web_text_break(&w->t, 1);
}

static void write_table(writer *w, const xmlNode *n, int depth)
{
    web_text_break(&w->t, 2);
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (web_is(c, "caption")) {
            write_children(w, c, depth + 1, false);
            web_text_break(&w->t, 1);
        } else if (web_is(c, "tr")) {
            write_row(w, c, depth);
        } else if (c->type == XML_ELEMENT_NODE) { /* thead, tbody, tfoot */
            for (const xmlNode *r = c->children; r; r = r->next)
                if (web_is(r, "tr"))
                    write_row(w, r, depth);
        }
    }
    web_text_break(&w->t, 2);
}

static void write_list_item(writer *w, const xmlNode *n, int depth, bool pre)
{
    const xmlNode *list = n->parent;
    char prefix[24] = "- ";
    if (list && web_is(list, "ol")) {
        int k = 1;
        for (const xmlNode *s = list->children; s && s != n; s = s->next)
            k += web_is(s, "li");
        snprintf(prefix, sizeof prefix, "%d. ", k);
    }
    web_text_prefix(&w->t, prefix);
    write_children(w, n, depth, pre);
    web_text_break(&w->t, 1);
}

static int heading_level(const xmlNode *n)
{
    const char *t = web_tag(n);
    return (t[0] == 'h' || t[0] == 'H') && t[1] >= '1' && t[1] <= '6' && !t[2] ? t[1] - '0' : 0;
}

static const char *const block_tags[] = {
    "p",    "div", "section", "article", "main",       "blockquote", "address",
    "dl",   "dt",  "dd",      "details", "summary",    "fieldset",   "center",
    "body", "ul",  "ol",      "hr",      "figcaption",
};

static void write_node(writer *w, const xmlNode *n, int depth, bool pre)
{
    const nstat *s = st_of(w->p, n);
    if ((s && s->skip && n != w->root) || link_box(w, n) || title_heading(w, n))
        return;
    int level = heading_level(n);
    if (web_is(n, "br")) {
        web_text_break(&w->t, 1);
    } else if (web_is(n, "a")) {
        write_link(w, n, depth, pre);
    } else if (level) {
        web_text_break(&w->t, 2);
        static const char *const marks[] = {
            "", "# ", "## ", "### ", "#### ", "##### ", "###### "
        };
        web_text_prefix(&w->t, marks[level]);
        write_children(w, n, depth, false);
        web_text_break(&w->t, 2);
    } else if (web_is(n, "pre")) {
        web_text_break(&w->t, 2);
        web_text_prefix(&w->t, "```\n");
        write_children(w, n, depth, true);
        er_buf *o = w->t.out;
        while (o->len && o->ptr[o->len - 1] == '\n') /* the block's own last line end */
            o->ptr[--o->len] = '\0';
        web_text_break(&w->t, 1);
        web_text_prefix(&w->t, "```");
        web_text_break(&w->t, 2);
    } else if (web_is(n, "li")) {
        write_list_item(w, n, depth, pre);
    } else if (web_is(n, "table") && data_table(n)) {
        write_table(w, n, depth);
    } else if (web_is(n, "tr") || web_is(n, "td") || web_is(n, "th") || web_is(n, "table") ||
               in_list(web_tag(n), block_tags, ER_ARRAY_LEN(block_tags))) {
        int gap = web_is(n, "p") || web_is(n, "blockquote") || web_is(n, "ul") || web_is(n, "ol") ||
                          web_is(n, "hr")
                      ? 2
                      : 1;
        web_text_break(&w->t, gap);
        write_children(w, n, depth, pre);
        web_text_break(&w->t, gap);
    } else {
        write_children(w, n, depth, pre);
    }
}

/* ---- the whole ---- */

static const xmlNode *doc_root(const xmlDoc *doc)
{
    for (const xmlNode *n = doc->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

static const xmlNode *find_body(const xmlDoc *doc)
{
    for (const xmlNode *n = doc_root(doc); n; n = n->next)
        for (const xmlNode *c = n->children; c; c = c->next)
            if (web_is(c, "body"))
                return c;
    return doc_root(doc);
}

static void write_roots(page *p, const xmlNode *root, bool with_siblings)
{
    writer w = { .p = p, .root = root };
    web_text_init(&w.t, &p->out->text);
    if (!with_siblings || !root->parent || root->parent->type != XML_ELEMENT_NODE) {
        write_node(&w, root, 0, false);
        return;
    }
    for (const xmlNode *s = root->parent->children; s; s = s->next) {
        if (s->type != XML_ELEMENT_NODE || (s != root && !sibling_belongs(p, s, root)))
            continue;
        w.root = s;
        write_node(&w, s, 0, false);
        web_text_break(&w.t, 2);
    }
}

static void extract_doc(page *p, xmlDoc *doc)
{
    xmlNode *top = (xmlNode *)doc_root(doc);
    if (top)
        while (top->prev)
            top = top->prev;
    for (xmlNode *n = top; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            annotate(p, n, 0, false);
    if (!p->out->title && p->h1)
        p->out->title = er_xstrdup(p->h1);
    score_paragraphs(p);
    const xmlNode *root = best_article(p);
    bool siblings = false;
    if (!root) {
        root = top_candidate(p);
        siblings = root != NULL;
    }
    if (!root)
        root = find_body(doc);
    if (root)
        write_roots(p, root, siblings);
    while (p->out->text.len && isspace((unsigned char)p->out->text.ptr[p->out->text.len - 1]))
        p->out->text.ptr[--p->out->text.len] = '\0';
}

static void init_out(er_extract *out)
{
    memset(out, 0, sizeof *out);
    er_buf_init(&out->text, 0);
    out->links = cJSON_CreateArray();
}

int er_extract_html(er_extract *out, const char *html, size_t len, const char *charset,
                    const char *base_url, er_error *err)
{
    init_out(out);
    int rc = er_xml_load(err);
    if (rc)
        return rc;
    if (len > INT32_MAX)
        return er_error_set(err, ER_ETOOBIG, "the page is too large to parse");
    if (len == 0)
        return 0; /* an empty page has no text */
    /* A charset the header named wins over the document's <meta>: convert
     * first and tell the parser it is UTF-8.  Otherwise libxml2 reads the
     * BOM or <meta> itself. */
    const char *label = er_charset_name(charset);
    char *utf8 = NULL;
    size_t ulen = 0;
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
               HTML_PARSE_COMPACT;
    if (label && er_charset_to_utf8(&utf8, &ulen, html, len, label, NULL) == 0) {
        opts |= HTML_PARSE_IGNORE_ENC;
    } else if (memchr(html, '\0', len)) {
        /* libxml2 stops reading at a NUL byte: what follows would vanish */
        utf8 = er_xmalloc(len + 1);
        for (size_t i = 0; i < len; i++)
            utf8[i] = html[i] ? html[i] : ' ';
        utf8[len] = '\0';
        ulen = len;
    }
    if (utf8 && ulen == 0) { /* nothing but a byte-order mark */
        free(utf8);
        return 0;
    }
    bool converted = (opts & HTML_PARSE_IGNORE_ENC) != 0;
    htmlDocPtr doc = htmlReadMemory(utf8 ? utf8 : html, (int)(utf8 ? ulen : len), base_url,
                                    converted ? "UTF-8" : NULL, opts);
    if (!doc) {
        free(utf8);
        return er_error_set(err, ER_EPROTO, "the page could not be parsed as HTML");
    }
    page p = { .out = out, .base = er_xstrdup(base_url ? base_url : "") };
    er_buf_init(&p.seen, 0);
    out->charset = er_xstrdup(converted       ? label
                              : doc->encoding ? (const char *)doc->encoding
                                              : "UTF-8");
    extract_doc(&p, doc);
    xmlFreeDoc(doc);
    free(utf8);
    free(p.st);
    free(p.elems);
    free(p.base);
    free(p.h1);
    er_buf_release(&p.seen);
    return 0;
}

int er_extract_available(er_error *err)
{
    return er_xml_load(err);
}

void er_extract_release(er_extract *x)
{
    if (!x)
        return;
    free(x->title);
    free(x->canonical);
    free(x->byline);
    free(x->published);
    free(x->lang);
    free(x->charset);
    er_buf_release(&x->text);
    cJSON_Delete(x->links);
    memset(x, 0, sizeof *x);
}
