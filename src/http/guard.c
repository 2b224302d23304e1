/* guard.c — the SSRF guard (see netguard.h): which addresses a tool's fetch
 * may connect to, and the web.allow_hosts escape.
 *
 * Ranges are tables, not if-chains, so the list can be read against the
 * registries (IANA's special-purpose address registries for IPv4 and IPv6). */
#include "errand/netguard.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- address classes ---- */

typedef struct v4_range {
    uint32_t net;
    int bits;
    const char *kind;
} v4_range;

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

/* First match wins: the metadata address before its link-local block. */
static const v4_range v4_ranges[] = {
    { V4(169, 254, 169, 254), 32, "cloud metadata" },
    { V4(0, 0, 0, 0), 8, "unspecified (\"this network\")" },
    { V4(10, 0, 0, 0), 8, "private (10.0.0.0/8)" },
    { V4(100, 64, 0, 0), 10, "CGNAT (100.64.0.0/10)" },
    { V4(127, 0, 0, 0), 8, "loopback" },
    { V4(169, 254, 0, 0), 16, "link-local" },
    { V4(172, 16, 0, 0), 12, "private (172.16.0.0/12)" },
    { V4(192, 0, 0, 0), 24, "reserved (IETF protocol assignments)" },
    { V4(192, 0, 2, 0), 24, "documentation" },
    { V4(192, 88, 99, 0), 24, "reserved (6to4 relay)" },
    { V4(192, 168, 0, 0), 16, "private (192.168.0.0/16)" },
    { V4(198, 18, 0, 0), 15, "reserved (benchmarking)" },
    { V4(198, 51, 100, 0), 24, "documentation" },
    { V4(203, 0, 113, 0), 24, "documentation" },
    { V4(224, 0, 0, 0), 4, "multicast" },
    { V4(255, 255, 255, 255), 32, "broadcast" },
    { V4(240, 0, 0, 0), 4, "reserved (240.0.0.0/4)" },
};

typedef struct v6_range {
    uint8_t net[16];
    int bits;
    const char *kind;
} v6_range;

static const v6_range v6_ranges[] = {
    { { 0 }, 128, "unspecified" },
    { { [15] = 1 }, 128, "loopback" },
    { { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 },
      128,
      "cloud metadata" }, /* fd00:ec2::254 */
    { { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, "private (local NAT64)" },
    { { 0x01, 0x00 }, 64, "reserved (discard)" },
    { { 0x20, 0x01, 0x00, 0x00 }, 32, "reserved (Teredo)" },
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, "documentation" },
    { { 0xfc }, 7, "private (unique local)" },
    { { 0xfe, 0x80 }, 10, "link-local" },
    { { 0xfe, 0xc0 }, 10, "private (site-local)" },
    { { 0xff }, 8, "multicast" },
};

static bool prefix_match(const uint8_t *a, const uint8_t *net, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)whole) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (net[whole] & mask);
}

static const char *classify_v4(uint32_t a)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(v4_ranges); i++) {
        uint32_t mask = v4_ranges[i].bits ? 0xffffffffu << (32 - v4_ranges[i].bits) : 0;
        if ((a & mask) == v4_ranges[i].net)
            return v4_ranges[i].kind;
    }
    return NULL;
}

static uint32_t v4_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), if any. */
static bool embedded_v4(const uint8_t *a, uint32_t *out)
{
    static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
    static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
    static const uint8_t zero[12] = { 0 };
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 ||
        (memcmp(a, zero, 12) == 0 && v4_at(a + 12) > 1)) {
        *out = v4_at(a + 12);
        return true;
    }
    if (a[0] == 0x20 && a[1] == 0x02) { /* 2002:AABB:CCDD::/48 */
        *out = v4_at(a + 2);
        return true;
    }
    return false;
}

static const char *classify_v6(const uint8_t *a)
{
    uint32_t v4;
    if (embedded_v4(a, &v4))
        return classify_v4(v4);
    for (size_t i = 0; i < ER_ARRAY_LEN(v6_ranges); i++)
        if (prefix_match(a, v6_ranges[i].net, v6_ranges[i].bits))
            return v6_ranges[i].kind;
    return NULL;
}

const char *er_netguard_classify(const struct sockaddr *sa)
{
    if (!sa)
        return "unknown";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        return classify_v4(ntohl(s4->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        return classify_v6(s6->sin6_addr.s6_addr);
    }
    return "not an internet address";
}

/* ---- the allow list ---- */

typedef struct entry {
    bool is_host;
    char host[256]; /* lower-case; ".example.com" also matches subdomains */
    int family;     /* AF_INET / AF_INET6 for blocks */
    uint8_t net[16];
    int bits;
} entry;

struct er_netguard {
    entry *v;
    size_t n;
};

/* "a.b.c.d[/n]", "v6[/n]" or "[v6]" into e; false when it is not an address. */
static bool parse_block(const char *s, entry *e)
{
    char text[128];
    er_strlcpy(text, s, sizeof text);
    char *slash = strchr(text, '/');
    long bits = -1;
    if (slash) {
        *slash = '\0';
        if (er_str_to_long(slash + 1, &bits) != 0)
            return false;
    }
    char *addr = text;
    size_t len = strlen(addr);
    if (addr[0] == '[' && len > 2 && addr[len - 1] == ']') {
        addr[len - 1] = '\0';
        addr++;
    }
    if (inet_pton(AF_INET, addr, e->net) == 1) {
        e->family = AF_INET;
        e->bits = bits < 0 ? 32 : (int)bits;
        return bits <= 32;
    }
    if (inet_pton(AF_INET6, addr, e->net) == 1) {
        e->family = AF_INET6;
        e->bits = bits < 0 ? 128 : (int)bits;
        return bits <= 128;
    }
    return false;
}

static bool valid_host(const char *s)
{
    if (!*s || strlen(s) > 253)
        return false;
    for (const char *p = *s == '.' ? s + 1 : s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
            return false;
    return true;
}

static int parse_entry(const char *word, entry *e, er_error *err)
{
    memset(e, 0, sizeof *e);
    if (parse_block(word, e))
        return 0;
    if (strchr(word, '/') || strchr(word, ':') || !valid_host(word))
        return er_error_set(err, ER_EINVAL,
                            "web.allow_hosts: '%s' is neither a host name nor "
                            "an address or CIDR block (e.g. 127.0.0.1, 10.0.0.0/8, ::1, "
                            "intranet.example)",
                            word);
    e->is_host = true;
    for (size_t i = 0; word[i] && i + 1 < sizeof e->host; i++)
        e->host[i] = (char)tolower((unsigned char)word[i]);
    return 0;
}

int er_netguard_new(er_netguard **out, const char *allow_hosts, er_error *err)
{
    er_netguard *g = er_xcalloc(1, sizeof *g);
    char *copy = er_xstrdup(allow_hosts ? allow_hosts : "");
    char *save = NULL;
    int rc = 0;
    for (char *w = strtok_r(copy, ", \t", &save); w && !rc; w = strtok_r(NULL, ", \t", &save)) {
        g->v = er_xrealloc(g->v, (g->n + 1) * sizeof *g->v);
        rc = parse_entry(w, &g->v[g->n], err);
        g->n += rc == 0;
    }
    free(copy);
    if (rc) {
        er_netguard_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void er_netguard_free(er_netguard *g)
{
    if (!g)
        return;
    free(g->v);
    free(g);
}

static bool host_matches(const entry *e, const char *host)
{
    size_t hl = strlen(host), el = strlen(e->host);
    if (e->host[0] != '.')
        return strcasecmp(e->host, host) == 0;
    /* ".example.com": the domain itself and every name under it */
    if (strcasecmp(e->host + 1, host) == 0)
        return true;
    return hl > el && strcasecmp(host + hl - el, e->host) == 0;
}

/* The address as 4 or 16 bytes; an IPv4-mapped IPv6 address as its IPv4 one. */
static int address_bytes(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family != AF_INET6)
        return 0;
    const uint8_t *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
    if (memcmp(a, mapped, 12) == 0) {
        memcpy(out, a + 12, 4);
        return AF_INET;
    }
    memcpy(out, a, 16);
    return AF_INET6;
}

static bool allowed(const er_netguard *g, const char *host, const struct sockaddr *sa)
{
    uint8_t a[16];
    int family = address_bytes(sa, a);
    for (size_t i = 0; g && i < g->n; i++) {
        const entry *e = &g->v[i];
        if (e->is_host ? host && host_matches(e, host)
                       : family == e->family && prefix_match(a, e->net, e->bits))
            return true;
    }
    return false;
}

static void address_text(const struct sockaddr *sa, char *out, size_t n)
{
    const void *a = sa->sa_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (!inet_ntop(sa->sa_family, a, out, (socklen_t)n))
        er_strlcpy(out, "?", n);
}

int er_netguard_check(const er_netguard *g, const char *host, const struct sockaddr *sa,
                      er_error *err)
{
    char h[256] = "";
    if (host) { /* "[::1]" as the URL writes it */
        size_t len = strlen(host);
        bool br = len > 2 && host[0] == '[' && host[len - 1] == ']';
        snprintf(h, sizeof h, "%.*s", (int)(br ? len - 2 : len), br ? host + 1 : host);
    }
    const char *kind = er_netguard_classify(sa);
    if (!kind || (sa && allowed(g, h, sa)))
        return 0;
    char addr[INET6_ADDRSTRLEN] = "?";
    if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6))
        address_text(sa, addr, sizeof addr);
    return er_error_set(err, ER_EDENIED,
                        "refused to fetch from '%s' (%s): a %s address; tools may reach public "
                        "addresses only — add the host or address to web.allow_hosts to allow it",
                        h[0] ? h : addr, addr, kind);
}

int er_netguard_check_scheme(const char *url, er_error *err)
{
    if (er_str_empty(url))
        return er_error_set(err, ER_EINVAL, "no URL given");
    const char *colon = strchr(url, ':');
    size_t n = colon ? (size_t)(colon - url) : 0;
    bool http = (n == 4 && strncasecmp(url, "http", 4) == 0) ||
                (n == 5 && strncasecmp(url, "https", 5) == 0);
    if (http && strncmp(colon, "://", 3) == 0 && colon[3] && colon[3] != '/')
        return 0;
    if (http)
        return er_error_set(err, ER_EINVAL, "bad URL '%.200s': no host", url);
    if (!colon || n == 0)
        return er_error_set(err, ER_EINVAL,
                            "bad URL '%.200s': give an absolute http:// or "
                            "https:// URL",
                            url);
    return er_error_set(err, ER_EDENIED,
                        "refused URL '%.200s': the %.*s scheme is not allowed; "
                        "tools fetch http:// and https:// only",
                        url, (int)(n > 16 ? 16 : n), url);
}
