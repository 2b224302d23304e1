/* test_guard_proxy.c — the guarding proxy the WebKit backend sends its
 * page's traffic through, spoken to over raw sockets as a browser would:
 * an allowed fixture host is forwarded (plain and tunnelled), the metadata
 * address, a private one and loopback when not allowed are refused with 403
 * before any connection leaves, the caller's own rule applies, and stop ends
 * open tunnels. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/guard_proxy.h"
#include "errand/str.h"
#include "fakes/fake_proc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static fake_proc site;

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Everything the peer sends until it closes (or 5 s pass, or stop_at is
 * seen). */
static char *read_until(int fd, const char *stop_at)
{
    er_buf b = ER_BUF_INIT;
    char chunk[4096];
    for (;;) {
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, 5000) <= 0)
            break;
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0)
            break;
        er_buf_append(&b, chunk, (size_t)r);
        if (stop_at && strstr(er_buf_cstr(&b), stop_at))
            break;
    }
    return er_buf_detach(&b);
}

/* One request through the proxy; the whole answer. */
static char *ask(er_guard_proxy *p, const char *request)
{
    int fd = dial(er_guard_proxy_port(p));
    CHECK(fd >= 0);
    if (fd < 0)
        return er_xstrdup("");
    CHECK(send(fd, request, strlen(request), MSG_NOSIGNAL) == (ssize_t)strlen(request));
    char *out = read_until(fd, NULL);
    close(fd);
    return out;
}

static int site_hits(const char *path)
{
    FILE *f = fopen(site.record, "r");
    char line[1024];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strcmp(er_str_trim(line), path) == 0;
    if (f)
        fclose(f);
    return n;
}

static char *get(er_guard_proxy *p, const char *host, const char *path)
{
    char *req = er_xasprintf("GET http://%s%s HTTP/1.1\r\nHost: %s\r\n"
                             "Proxy-Connection: keep-alive\r\n\r\n",
                             host, path, host);
    char *out = ask(p, req);
    free(req);
    return out;
}

static bool refused(const char *answer, const char *why)
{
    return er_str_starts(answer, "HTTP/1.1 403") && strstr(answer, why);
}

static void test_allowed_and_refused(void)
{
    er_error err = { 0 };
    er_netguard *g = NULL;
    CHECK_OK(er_netguard_new(&g, "127.0.0.1", &err));
    er_guard_proxy *p = NULL;
    CHECK_OK(er_guard_proxy_start(&p, g, &err));
    char host[64], msg[256];
    snprintf(host, sizeof host, "127.0.0.1:%d", site.port);

    char *a = get(p, host, "/browser/article.html?x=1#frag");
    CHECK(er_str_starts(a, "HTTP/1.1 200"));
    CHECK(strstr(a, "Skerry Light") != NULL);
    free(a);
    CHECK(site_hits("/browser/article.html") == 1);
    CHECK(!er_guard_proxy_take_refusal(p, msg, sizeof msg) && msg[0] == '\0');

    a = get(p, "169.254.169.254", "/latest/meta-data/");
    CHECK(refused(a, "169.254.169.254"));
    free(a);
    CHECK(er_guard_proxy_take_refusal(p, msg, sizeof msg) && strstr(msg, "web.allow_hosts"));
    CHECK(!er_guard_proxy_take_refusal(p, msg, sizeof msg)); /* taken: forgotten */

    a = get(p, "10.1.2.3:8080", "/admin");
    CHECK(refused(a, "private"));
    free(a);
    a = ask(p, "CONNECT 169.254.169.254:443 HTTP/1.1\r\nHost: 169.254.169.254:443\r\n\r\n");
    CHECK(refused(a, "169.254.169.254"));
    free(a);
    a = ask(p, "CONNECT [fd00::1]:443 HTTP/1.1\r\n\r\n");
    CHECK(refused(a, "fd00::1"));
    free(a);
    CHECK(er_guard_proxy_refused(p) == 4);
    CHECK(er_guard_proxy_refused_url(p, "http://10.1.2.3:8080/admin#x", msg, sizeof msg) &&
          strstr(msg, "10.1.2.3"));
    /* taken before: forgotten */
    CHECK(!er_guard_proxy_refused_url(p, "http://169.254.169.254/latest/meta-data/", msg,
                                      sizeof msg));
    CHECK(er_guard_proxy_refused_url(p, "https://169.254.169.254/any/page", msg, sizeof msg));
    CHECK(er_guard_proxy_refused_url(p, "https://[FD00::1]:443/", msg, sizeof msg));
    CHECK(!er_guard_proxy_refused_url(p, "http://169.254.169.254/other", msg, sizeof msg));
    CHECK(!er_guard_proxy_refused_url(p, "https://169.254.169.254:8443/", msg, sizeof msg));
    CHECK(er_guard_proxy_take_refusal(p, msg, sizeof msg) && strstr(msg, "private"));

    /* a tunnel to the allowed host carries a request of its own */
    int fd = dial(er_guard_proxy_port(p));
    char *req = er_xasprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host);
    CHECK(send(fd, req, strlen(req), MSG_NOSIGNAL) > 0);
    free(req);
    a = read_until(fd, "\r\n\r\n");
    CHECK(er_str_starts(a, "HTTP/1.1 200"));
    free(a);
    req = er_xasprintf("GET /browser/form.html HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                       host);
    CHECK(send(fd, req, strlen(req), MSG_NOSIGNAL) > 0);
    free(req);
    a = read_until(fd, NULL);
    CHECK(er_str_starts(a, "HTTP/1.1 200") && strstr(a, "<form"));
    free(a);
    close(fd);
    CHECK(site_hits("/browser/form.html") == 1);

    /* not a proxy request */
    a = ask(p, "GET /browser/article.html HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(er_str_starts(a, "HTTP/1.1 400"));
    free(a);
    a = ask(p, "CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n"); /* no port */
    CHECK(er_str_starts(a, "HTTP/1.1 400"));
    free(a);
    CHECK(site_hits("/browser/article.html") == 1);

    /* stop ends a tunnel left open */
    fd = dial(er_guard_proxy_port(p));
    req = er_xasprintf("CONNECT %s HTTP/1.1\r\n\r\n", host);
    CHECK(send(fd, req, strlen(req), MSG_NOSIGNAL) > 0);
    free(req);
    a = read_until(fd, "\r\n\r\n");
    CHECK(er_str_starts(a, "HTTP/1.1 200"));
    free(a);
    int64_t t0 = er_mono_ms();
    er_guard_proxy_stop(p);
    CHECK(er_mono_ms() - t0 < 3000);
    a = read_until(fd, NULL);
    CHECK(a[0] == '\0');
    free(a);
    close(fd);
    er_netguard_free(g);
}

/* The allow list by name: localhost passes, the same server by its address
 * does not, and never reaches it. */
static void test_by_name(void)
{
    er_error err = { 0 };
    er_netguard *g = NULL;
    CHECK_OK(er_netguard_new(&g, "localhost", &err));
    er_guard_proxy *p = NULL;
    CHECK_OK(er_guard_proxy_start(&p, g, &err));
    char host[64];
    snprintf(host, sizeof host, "localhost:%d", site.port);
    char *a = get(p, host, "/browser/colors.html");
    CHECK(er_str_starts(a, "HTTP/1.1 200"));
    free(a);
    snprintf(host, sizeof host, "127.0.0.1:%d", site.port);
    a = get(p, host, "/browser/spa.html");
    CHECK(refused(a, "loopback"));
    free(a);
    CHECK(site_hits("/browser/colors.html") == 1);
    CHECK(site_hits("/browser/spa.html") == 0);
    er_guard_proxy_stop(p);

    /* no allow list at all: loopback refused */
    CHECK_OK(er_guard_proxy_start(&p, NULL, &err));
    a = get(p, host, "/browser/spa.html");
    CHECK(refused(a, "loopback"));
    free(a);
    CHECK(site_hits("/browser/spa.html") == 0);
    er_guard_proxy_stop(p);
    er_netguard_free(g);
}

static bool refuse_beacons(void *arg, const char *url, er_error *err)
{
    (*(int *)arg)++;
    if (!strstr(url, "beacon"))
        return false;
    er_error_set(err, ER_EDENIED, "blocked by browser_block");
    return true;
}

static void test_refuse_hook(void)
{
    er_error err = { 0 };
    er_netguard *g = NULL;
    CHECK_OK(er_netguard_new(&g, "127.0.0.1", &err));
    er_guard_proxy *p = NULL;
    CHECK_OK(er_guard_proxy_start(&p, g, &err));
    int seen = 0;
    er_guard_proxy_set_refuse(p, refuse_beacons, &seen);
    char host[64], msg[256];
    snprintf(host, sizeof host, "127.0.0.1:%d", site.port);
    char *a = get(p, host, "/browser/beacon-image");
    CHECK(refused(a, "blocked by browser_block"));
    free(a);
    CHECK(site_hits("/browser/beacon-image") == 0);
    a = get(p, host, "/browser/beacon.html");
    CHECK(refused(a, "browser_block"));
    free(a);
    a = get(p, host, "/browser/scroll.html");
    CHECK(er_str_starts(a, "HTTP/1.1 200"));
    free(a);
    CHECK(seen == 3);
    CHECK(er_guard_proxy_take_refusal(p, msg, sizeof msg) && strstr(msg, "browser_block"));
    er_guard_proxy_stop(p);
    er_netguard_free(g);
}

int main(void)
{
    const char *args[] = { "--root", ERRAND_SOURCE_DIR "/tests/fixtures/web", NULL };
    int rc = fake_proc_start(&site, "fake_site", args);
    if (rc == 77)
        return 77;
    if (rc != 0) {
        fprintf(stderr, "cannot start fake_site\n");
        return 1;
    }
    test_allowed_and_refused();
    test_by_name();
    test_refuse_hook();
    fake_proc_stop(&site);
    return check_done();
}
