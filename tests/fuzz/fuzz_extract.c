/* fuzz_extract.c — what a web page can make of the page readers (src/web):
 * er_extract_html and er_extract_feed on any bytes, with and without a
 * header charset.  Invariants: they return 0 or a known code; the text is
 * NUL-terminated at its length, holds no NUL, and is valid UTF-8 when a
 * charset was given (converted first); links are absolute http(s) URLs. */
#include "fuzz.h"
#include "errand/extract.h"
#include "errand/json.h"
#include "errand/str.h"

#include <strings.h>

static void check_text(const er_extract *x)
{
    FUZZ_CHECK(x->text.len == 0 || (x->text.ptr && x->text.ptr[x->text.len] == '\0'));
    FUZZ_CHECK(x->text.len == 0 || strlen(x->text.ptr) == x->text.len);
    const cJSON *l;
    cJSON_ArrayForEach(l, x->links)
    {
        const char *u = er_json_str(l, "url");
        FUZZ_CHECK(u && strncasecmp(u, "http", 4) == 0);
    }
    FUZZ_CHECK(cJSON_GetArraySize(x->links) <= ER_EXTRACT_MAX_LINKS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    er_extract x;
    er_error err = { 0 };
    const char *in = (const char *)data;
    int rc = er_extract_html(&x, in, size, NULL, "http://fuzz.test/a/b", &err);
    fuzz_check_result(rc, &err);
    if (rc == ER_EUNAVAIL)
        return 0; /* no libxml2 here */
    check_text(&x);
    er_extract_release(&x);
    rc = er_extract_html(&x, in, size, size % 2 ? "iso-8859-1" : "shift_jis", NULL, &err);
    fuzz_check_result(rc, &err);
    check_text(&x);
    er_extract_release(&x);
    rc = er_extract_feed(&x, in, size, "http://fuzz.test/feed", &err);
    fuzz_check_result(rc, &err);
    check_text(&x);
    er_extract_release(&x);
    return 0;
}
