/* fuzz_testparse.c — the test-runner output parsers (er_test_parse,
 * src/tools/testparse.c) on arbitrary output, with every parser name, an
 * unknown one and none; and er_test_parser_for on the text as a command.
 * Invariants: a result names a known parser; passed and failed are null or
 * non-negative whole numbers; failures are at most 50 {name, output} strings. */
#include "fuzz.h"
#include "errand/json.h"
#include "errand/tool_families.h"

#include <math.h>

static const char *const parsers[] = { "pytest", "unittest", "ctest", "go", "cargo",
                                       "tap",    "generic",  "bogus", NULL };

static bool known(const char *name)
{
    for (size_t i = 0; name && i < 7; i++)
        if (strcmp(name, parsers[i]) == 0)
            return true;
    return false;
}

static void check_count(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    FUZZ_CHECK(cJSON_IsNull(v) || cJSON_IsNumber(v));
    if (cJSON_IsNumber(v))
        FUZZ_CHECK(v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble));
}

static void check_result(const cJSON *o)
{
    FUZZ_CHECK(cJSON_IsObject(o));
    FUZZ_CHECK(known(er_json_str(o, "parser")));
    check_count(o, "passed");
    check_count(o, "failed");
    const cJSON *failures = er_json_arr(o, "failures");
    FUZZ_CHECK(failures && cJSON_GetArraySize(failures) <= 50);
    const cJSON *f;
    cJSON_ArrayForEach(f, failures)
    {
        FUZZ_CHECK(er_json_str(f, "name") != NULL);
        FUZZ_CHECK(er_json_str(f, "output") != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    for (size_t i = 0; i < ER_ARRAY_LEN(parsers); i++) {
        cJSON *o = er_test_parse(parsers[i], text);
        check_result(o);
        cJSON_Delete(o);
    }
    FUZZ_CHECK(known(er_test_parser_for(text)));
    free(text);
    return 0;
}
