/* fuzz_url.c — backend URL parsing (src/util/url.c): er_url_parse, query
 * lookups and the redaction used in logs.  Invariants: only EINVAL fails; a
 * parsed URL has a lower-case scheme, a path, a port in range and its raw
 * text; a query value is found only in a URL with a query; redaction hides
 * any password the parser found and leaves URLs without one as they were. */
#include "fuzz.h"
#include "errand/url.h"

#include <ctype.h>

static void check_parsed(const er_url *u, const char *text)
{
    FUZZ_CHECK(u->scheme && u->scheme[0]);
    for (const char *p = u->scheme; *p; p++)
        FUZZ_CHECK(!isupper((unsigned char)*p));
    FUZZ_CHECK(u->path != NULL);
    FUZZ_CHECK(u->port >= 0 && u->port <= 65535);
    FUZZ_CHECK(u->raw && strcmp(u->raw, text) == 0);
    FUZZ_CHECK(!u->host || u->host[0]);
    static const char *const names[] = { "sslmode", "vhost", "db", "", "a" };
    for (size_t i = 0; i < ER_ARRAY_LEN(names); i++) {
        char *v = er_url_query_get(u, names[i]);
        FUZZ_CHECK(!v || u->query);
        free(v);
    }
}

static void check_redacted(const er_url *u, const char *text, bool parsed)
{
    char *r = er_url_redacted(text);
    FUZZ_CHECK(r != NULL);
    if (parsed && u->password && strstr(text, "://"))
        FUZZ_CHECK(strstr(r, ":***@") != NULL);
    if (!strchr(text, '@'))
        FUZZ_CHECK(strcmp(r, text) == 0);
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    er_url u;
    er_error err = { 0 };
    int rc = er_url_parse(&u, text, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EINVAL);
    if (rc == 0)
        check_parsed(&u, text);
    check_redacted(&u, text, rc == 0);
    if (rc == 0)
        er_url_release(&u);
    free(text);
    return 0;
}
