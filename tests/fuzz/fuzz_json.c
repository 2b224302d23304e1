/* fuzz_json.c — er_json_parse and er_json_escape (src/util/json.c), the
 * front door for every JSON text that comes from a provider, a tool call or a
 * client.  Invariants: only EPROTO fails; printing a parsed value and parsing
 * the print gives the same print (a fixed point after one round); the typed
 * lookups never return the wrong type; a value followed by more bytes (even
 * after a NUL) is refused; escaping any text without NUL bytes
 * gives a JSON string that parses back to exactly that text. */
#include "fuzz.h"
#include "errand/buf.h"
#include "errand/json.h"

static void check_lookups(const cJSON *j)
{
    static const char *const keys[] = { "type", "content", "choices", "error", "" };
    for (size_t i = 0; i < ER_ARRAY_LEN(keys); i++) {
        const cJSON *o = er_json_obj(j, keys[i]), *a = er_json_arr(j, keys[i]);
        FUZZ_CHECK(!o || cJSON_IsObject(o));
        FUZZ_CHECK(!a || cJSON_IsArray(a));
        (void)er_json_str(j, keys[i]);
        (void)er_json_num(j, keys[i], 0);
        (void)er_json_bool(j, keys[i], false);
    }
}

/* Parses the print of j; OWNED. */
static cJSON *reparse(const cJSON *j, char **text)
{
    cJSON *out = NULL;
    er_error err = { 0 };
    *text = er_json_print(j);
    FUZZ_CHECK(er_json_parse(&out, *text, strlen(*text), &err) == 0);
    return out;
}

/* Numbers may change their spelling once (1e400 prints as null); after that,
 * printing is a fixed point. */
static void check_round_trip(const cJSON *j)
{
    char *once, *twice, *thrice;
    cJSON *again = reparse(j, &once);
    cJSON *third = reparse(again, &twice);
    thrice = er_json_print(third);
    FUZZ_CHECK(strcmp(twice, thrice) == 0);
    cJSON_Delete(third);
    cJSON_Delete(again);
    free(once);
    free(twice);
    free(thrice);
}

/* Anything after a complete value is trailing data, a NUL byte included. */
static void check_trailing(const char *s, size_t len)
{
    static const char tail[] = " \0}";
    char *t = er_xmalloc(len + sizeof tail);
    memcpy(t, s, len);
    memcpy(t + len, tail, sizeof tail);
    cJSON *j = NULL;
    FUZZ_CHECK(er_json_parse(&j, t, len + sizeof tail - 1, NULL) == ER_EPROTO);
    FUZZ_CHECK(j == NULL);
    free(t);
}

static void check_escape(const char *s, size_t len)
{
    if (memchr(s, '\0', len))
        return; /* a C string ends there: cJSON cannot give it back */
    er_buf b;
    er_buf_init(&b, 0);
    FUZZ_CHECK(er_json_escape(&b, s, len) == 0);
    cJSON *j = NULL;
    er_error err = { 0 };
    FUZZ_CHECK(er_json_parse(&j, b.ptr, b.len, &err) == 0);
    FUZZ_CHECK(cJSON_IsString(j));
    FUZZ_CHECK(strlen(j->valuestring) == len && memcmp(j->valuestring, s, len) == 0);
    cJSON_Delete(j);
    er_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    cJSON *j = NULL;
    er_error err = { 0 };
    int rc = er_json_parse(&j, s, size, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EPROTO);
    FUZZ_CHECK((rc == 0) == (j != NULL));
    if (j) {
        check_lookups(j);
        check_round_trip(j);
        check_trailing(s, size);
        cJSON_Delete(j);
    }
    check_escape(s, size);
    return 0;
}
