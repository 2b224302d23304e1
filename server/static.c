/* static.c — the web interface's built files (web/, `make web`), served at
 * `/` from server.web_root: the right content type, the gzip copy the build
 * wrote beside each file when the client takes gzip, hashed assets cached for
 * good and index.html revalidated, and a strict Content-Security-Policy on
 * every page.  The app routes in the browser (after the '#'), so `/` is its
 * one page; any other path is a built file or the API's JSON 404.  When the
 * files are not there, `/` says how to build them.
 *
 * Paths are checked before any file is opened: only [A-Za-z0-9._-] segments,
 * none starting with a dot, so nothing outside the root (no "..", no hidden
 * file) can be named; symbolic links are not followed. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (16u << 20)

/* script-src 'self': no inline script, no eval, so text a model wrote can
 * never run even if it reached the page as markup.  connect-src 'self'
 * allows the same host's ws:// (CSP 3). */
#define CSP                                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " \
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "           \
    "form-action 'self'; frame-ancestors 'none'"
#define PAGE_HEADERS                       \
    "Content-Security-Policy: " CSP "\r\n" \
    "X-Frame-Options: DENY\r\n"            \
    "Referrer-Policy: no-referrer\r\n"     \
    "Cross-Origin-Opener-Policy: same-origin\r\n"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    { "html", "text/html; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "json", "application/json" },
    { "map", "application/json" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "ico", "image/x-icon" },
    { "webmanifest", "application/manifest+json" },
    { "woff2", "font/woff2" },
    { "txt", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < ER_ARRAY_LEN(types); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return NULL;
}

bool srv_static_path_ok(const char *path)
{
    if (path[0] != '/')
        return false;
    bool seg_start = true;
    for (const char *p = path + 1; *p; p++) {
        char c = *p;
        if (c == '/') {
            if (seg_start)
                return false; /* "//" */
            seg_start = true;
            continue;
        }
        if (seg_start && c == '.')
            return false; /* ".", "..", hidden files */
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
        seg_start = false;
    }
    return true;
}

/* The whole of root/rel into out; ER_ENOTFOUND when it is not a regular file. */
static int read_file(const char *root, const char *rel, er_buf *out)
{
    char full[4096];
    if ((size_t)snprintf(full, sizeof full, "%s/%s", root, rel) >= sizeof full)
        return ER_ENOTFOUND;
    int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ER_ENOTFOUND;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE) {
        close(fd);
        return ER_ENOTFOUND;
    }
    char chunk[16384];
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || er_buf_append(out, chunk, (size_t)n)) {
            rc = ER_ENOTFOUND;
            break;
        }
    }
    close(fd);
    return rc;
}

static bool takes_gzip(srv_req *r)
{
    const char *ae = srv_header(r, "Accept-Encoding");
    return ae && strstr(ae, "gzip") && !strstr(ae, "gzip;q=0");
}

/* rel (no leading slash) with its gzip copy when the client takes it. */
static int send_file(srv_req *r, const char *root, const char *rel, const char *cache)
{
    const char *ctype = content_type(rel);
    er_buf body = ER_BUF_INIT;
    char gz[512], extra[1024];
    bool zipped = false;
    if (takes_gzip(r) && (size_t)snprintf(gz, sizeof gz, "%s.gz", rel) < sizeof gz)
        zipped = read_file(root, gz, &body) == 0;
    if (!zipped) {
        er_buf_reset(&body);
        if (read_file(root, rel, &body) != 0) {
            er_buf_release(&body);
            return 0;
        }
    }
    snprintf(extra, sizeof extra, "%sCache-Control: %s\r\nVary: Accept-Encoding\r\n%s",
             strncmp(ctype ? ctype : "", "text/html", 9) == 0 ? PAGE_HEADERS : "", cache,
             zipped ? "Content-Encoding: gzip\r\n" : "");
    r->cache_set = true;
    int status =
        srv_reply(r, 200, ctype ? ctype : "application/octet-stream", extra, body.ptr, body.len);
    er_buf_release(&body);
    return status;
}

static int not_built(srv_req *r)
{
    static const char msg[] =
        "The web interface is not built.\n"
        "Build it with `make web` (Node.js and npm: cd web && npm ci && npm run build),\n"
        "then point server.web_root (ERRAND_WEB_ROOT) at web/dist, or install errand\n"
        "(`make install` puts it in share/errand/web).  The API is at /api/v1/openapi.json.\n";
    return srv_reply(r, 503, "text/plain; charset=utf-8", NULL, msg, sizeof msg - 1);
}

const char *srv_static_root(const srv *s)
{
    return s->cfg->web_root ? s->cfg->web_root : ERRAND_WEB_DIR;
}

int srv_static_serve(srv_req *r)
{
    const char *root = srv_static_root(r->s);
    /* The app routes after the '#': "/" is its only page. */
    if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/index.html") == 0) {
        int status = send_file(r, root, "index.html", "no-cache");
        return status ? status : not_built(r);
    }
    if (!srv_static_path_ok(r->path))
        return 0;
    const char *rel = r->path + 1;
    /* Vite names what it builds under assets/ by content hash. */
    bool hashed = strncmp(rel, "assets/", 7) == 0;
    return send_file(r, root, rel, hashed ? "public, max-age=31536000, immutable" : "no-cache");
}
