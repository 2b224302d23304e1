/* netguard.h — the SSRF guard every outbound fetch of a tool goes through.
 *
 * A tool's HTTP request (er_http_req without .configured_endpoint) may only
 * use http:// or https://, and may only connect to a public address: loopback,
 * private (RFC 1918, IPv6 unique-local), link-local (incl. the cloud metadata
 * address 169.254.169.254), CGNAT (100.64/10), multicast, unspecified,
 * broadcast, reserved and documentation ranges are refused — for IPv6 too,
 * and for IPv4 addresses embedded in IPv6 ones (::ffff:a.b.c.d mapped,
 * ::a.b.c.d compatible, 64:ff9b::/96 NAT64, 2002::/16 6to4).  The check is
 * made on the address the name resolved to, in the HTTP client's connect
 * callback (src/http/client.c), so the connection goes to the address that
 * was checked: no second lookup, no DNS rebinding.  Redirects are not
 * followed by the client; each hop is a new request, checked again.
 *
 * The one escape is an allow list, the setting web.allow_hosts: host names
 * (matched case-insensitively against the URL's host, exactly or as
 * ".suffix" for a domain and its subdomains) and addresses or CIDR blocks
 * (v4 or v6, matched against the resolved address).
 *
 * The LLM provider, the search provider and the OpenID Connect issuer are
 * configured endpoints (their URLs come from the operator, not from a model or
 * a page): they are not guarded, so a local model at 127.0.0.1 keeps working.
 *
 * Pure functions; thread-safe. */
#ifndef ERRAND_NETGUARD_H
#define ERRAND_NETGUARD_H

#include "common.h"
#include "error.h"

#include <sys/socket.h>

typedef struct er_netguard er_netguard;

/* Parses a comma- or space-separated allow list (NULL or "": nothing is
 * allowed beyond public addresses).  ER_EINVAL names a bad entry.  OWNED:
 * er_netguard_free. */
int er_netguard_new(er_netguard **out, const char *allow_hosts, er_error *err);
void er_netguard_free(er_netguard *g);

/* What kind of non-public address sa is ("loopback", "private", "link-local",
 * "metadata", "CGNAT", "multicast", …), or NULL for a public one. */
const char *er_netguard_classify(const struct sockaddr *sa);

/* 0 when a connection to sa, reached through the URL host `host`, may be
 * made: a public address, or one the allow list names (by host or by
 * address).  Otherwise ER_EDENIED with a message naming the address, its kind
 * and the setting to change.  g may be NULL (an empty allow list). */
int er_netguard_check(const er_netguard *g, const char *host, const struct sockaddr *sa,
                      er_error *err);

/* 0 for an http:// or https:// URL with a host; ER_EDENIED for any other
 * scheme (file://, gopher://, ftp://…), ER_EINVAL for no URL at all. */
int er_netguard_check_scheme(const char *url, er_error *err);

#endif
