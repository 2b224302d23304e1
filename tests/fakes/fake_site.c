/* fake_site.c — a small web site on 127.0.0.1 for the fetch_url tests and the
 * prompt-injection corpus: static files, plus pages that misbehave.
 *
 *   fake_site --root DIR [--port N] [--port-file F] [--record F.log]
 *
 * Files under DIR are served with a type by extension (.html text/html,
 * NAME.latin1.html as ISO-8859-1 by header, NAME.sjis.html with no charset in
 * the header, .txt, .json, .rss/.xml, .atom, .pdf).  Special paths:
 *   /gzip/PATH        PATH compressed, Content-Encoding: gzip
 *   /deflate/PATH     PATH compressed, Content-Encoding: deflate
 *   /redirect/N       302 → /redirect/N-1 … /redirect/0 → /site/news.html
 *   /loop/a, /loop/b  302 to each other
 *   /to-loopback      302 → http://127.0.0.1:PORT/site/news.html (absolute)
 *   /big              50 MB of HTML paragraphs, chunked, until the client stops
 *   /slow             answers after 5 s
 *   /status/N         HTTP N
 * --record writes each request's path, one a line.  SIGTERM stops it. */
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/str.h"

#include "fake_server.h"

#include <civetweb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static struct {
    const char *root;
    int port;
    FILE *record;
    pthread_mutex_t lock;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void reply(struct mg_connection *c, int status, const char *ctype, const char *extra,
                  const char *body, size_t len)
{
    mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
              mg_get_response_code_text(c, status), ctype, len, extra ? extra : "");
    mg_write(c, body, len);
}

static void redirect(struct mg_connection *c, const char *to)
{
    char extra[512];
    snprintf(extra, sizeof extra, "Location: %s\r\n", to);
    reply(c, 302, "text/html", extra, "moved", 5);
}

static const char *type_of(const char *path)
{
    static const struct {
        const char *suffix, *type;
    } types[] = {
        { ".latin1.html", "text/html; charset=iso-8859-1" },
        { ".sjis.html", "text/html" },
        { ".html", "text/html; charset=utf-8" },
        { ".txt", "text/plain; charset=utf-8" },
        { ".json", "application/json" },
        { ".rss", "application/rss+xml" },
        { ".atom", "application/atom+xml" },
        { ".xml", "application/xml" },
        { ".pdf", "application/pdf" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(types); i++)
        if (er_str_ends(path, types[i].suffix))
            return types[i].type;
    return "application/octet-stream";
}

/* The file at root/path (no "..") into b; false when there is none. */
static bool read_file(const char *path, er_buf *b)
{
    if (strstr(path, ".."))
        return false;
    char *full = er_xasprintf("%s%s", S.root, path);
    FILE *f = fopen(full, "rb");
    free(full);
    if (!f)
        return false;
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        er_buf_append(b, tmp, n);
    fclose(f);
    return true;
}

static void compressed(struct mg_connection *c, const char *path, bool gzip)
{
    er_buf b = ER_BUF_INIT;
    if (!read_file(path, &b)) {
        reply(c, 404, "text/plain", NULL, "no such file", 12);
        return;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, gzip ? 31 : 15, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&z, b.len) + 64;
    unsigned char *out = er_xmalloc(cap);
    z.next_in = (unsigned char *)b.ptr;
    z.avail_in = (uInt)b.len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    char extra[128];
    snprintf(extra, sizeof extra, "Content-Encoding: %s\r\n", gzip ? "gzip" : "deflate");
    reply(c, 200, type_of(path), extra, (const char *)out, len);
    free(out);
    er_buf_release(&b);
}

/* 50 MB of paragraphs; the client is expected to stop reading long before. */
static void big(struct mg_connection *c)
{
    mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
    static const char head[] = "<html><head><title>A very long page</title></head><body><article>";
    mg_send_chunk(c, head, sizeof head - 1);
    static const char para[] = "<p>This sentence is one of very many on a page that goes on "
                               "for fifty megabytes, so that a reader must cut it.</p>\n";
    enum { BLOCK = 64 * 1024 };
    char *block = er_xmalloc(BLOCK); /* not on CivetWeb's small thread stack */
    size_t n = 0;
    while (n + sizeof para < BLOCK) {
        memcpy(block + n, para, sizeof para - 1);
        n += sizeof para - 1;
    }
    size_t sent = 0;
    while (sent < (size_t)50 << 20 && !fake_stopping && mg_send_chunk(c, block, (unsigned)n) > 0)
        sent += n;
    free(block);
    if (sent < (size_t)50 << 20)
        return; /* the reader hung up */
    mg_send_chunk(c, "</article></body></html>", 24);
    mg_send_chunk(c, "", 0);
}

static bool special(struct mg_connection *c, const char *path)
{
    char to[300];
    int n;
    if (er_str_starts(path, "/gzip/") || er_str_starts(path, "/deflate/")) {
        bool gzip = er_str_starts(path, "/gzip/");
        compressed(c, path + (gzip ? 5 : 8), gzip);
    } else if (sscanf(path, "/redirect/%d", &n) == 1) {
        if (n > 0)
            snprintf(to, sizeof to, "/redirect/%d", n - 1);
        redirect(c, n > 0 ? to : "/site/news.html");
    } else if (strcmp(path, "/loop/a") == 0 || strcmp(path, "/loop/b") == 0) {
        redirect(c, path[6] == 'a' ? "/loop/b" : "/loop/a");
    } else if (strcmp(path, "/to-loopback") == 0) {
        snprintf(to, sizeof to, "http://127.0.0.1:%d/site/news.html", S.port);
        redirect(c, to);
    } else if (strcmp(path, "/big") == 0) {
        big(c);
    } else if (strcmp(path, "/slow") == 0) {
        fake_nap(5000);
        reply(c, 200, "text/html", NULL, "<p>late</p>", 11);
    } else if (sscanf(path, "/status/%d", &n) == 1 && n >= 200 && n < 600) {
        reply(c, n, "text/plain", NULL, "status page", 11);
    } else {
        return false;
    }
    return true;
}

static int on_request(struct mg_connection *c, void *cb)
{
    (void)cb;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *path = ri->local_uri ? ri->local_uri : "/";
    if (S.record) {
        pthread_mutex_lock(&S.lock);
        fprintf(S.record, "%s\n", path);
        fflush(S.record);
        pthread_mutex_unlock(&S.lock);
    }
    if (special(c, path))
        return 200;
    er_buf b = ER_BUF_INIT;
    if (read_file(path, &b))
        reply(c, 200, type_of(path), NULL, b.ptr ? b.ptr : "", b.len);
    else
        reply(c, 404, "text/html", NULL, "<h1>Not found</h1>", 18);
    er_buf_release(&b);
    return 200;
}

int main(int argc, char **argv)
{
    const char *port = "0", *port_file = NULL, *record = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--root") == 0)
            S.root = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)
            port = argv[i + 1];
        else if (strcmp(argv[i], "--port-file") == 0)
            port_file = argv[i + 1];
        else if (strcmp(argv[i], "--record") == 0)
            record = argv[i + 1];
    }
    if (!S.root) {
        fprintf(stderr, "usage: fake_site --root DIR [--port N] [--port-file F] [--record F]\n");
        return 2;
    }
    if (record && !(S.record = fopen(record, "w")))
        return 2;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", port);
    const char *opts[] = { "listening_ports", listen, "num_threads", "16", NULL };
    struct mg_callbacks cbs;
    memset(&cbs, 0, sizeof cbs);
    signal(SIGPIPE, SIG_IGN);
    struct mg_context *ctx = mg_start(&cbs, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "fake_site: cannot listen on %s\n", listen);
        return 1;
    }
    mg_set_request_handler(ctx, "/", on_request, NULL);
    S.port = fake_publish_port(ctx, port_file);
    fake_serve_until_stopped(ctx);
    if (S.record)
        fclose(S.record);
    return 0;
}
