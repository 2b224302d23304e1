/* fuzz_lint.c — the linter output parsers (er_lint_parse, src/tools/lint.c)
 * on arbitrary output, in every format, with and without a workspace root.
 * Invariants: the count returned is the number of diagnostics added; each is
 * {file, line >= 0, column null or > 0, a known severity, message, tool}. */
#include "fuzz.h"
#include "errand/json.h"
#include "errand/tool_families.h"

static const char *const formats[] = { "gcc", "pyflakes", "python", "node" };
static const char *const severities[] = { "error", "warning", "note", "style" };

static void check_diag(const cJSON *d)
{
    FUZZ_CHECK(er_json_str(d, "file") != NULL);
    FUZZ_CHECK(er_json_num(d, "line", -1) >= 0);
    const cJSON *col = cJSON_GetObjectItemCaseSensitive(d, "column");
    FUZZ_CHECK(cJSON_IsNull(col) || (cJSON_IsNumber(col) && col->valuedouble > 0));
    const char *sev = er_json_str(d, "severity");
    bool ok = false;
    for (size_t i = 0; sev && i < ER_ARRAY_LEN(severities); i++)
        ok |= strcmp(sev, severities[i]) == 0;
    FUZZ_CHECK(ok);
    FUZZ_CHECK(er_json_str(d, "message") != NULL);
    FUZZ_CHECK(er_json_str(d, "tool") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    for (size_t f = 0; f < ER_ARRAY_LEN(formats); f++) {
        for (int with_root = 0; with_root < 2; with_root++) {
            cJSON *arr = cJSON_CreateArray();
            size_t n =
                er_lint_parse(arr, formats[f], "fuzz", text, with_root ? "/work/project" : NULL);
            FUZZ_CHECK(n == (size_t)cJSON_GetArraySize(arr));
            const cJSON *d;
            cJSON_ArrayForEach(d, arr) check_diag(d);
            cJSON_Delete(arr);
        }
    }
    free(text);
    return 0;
}
