/* fuzz_tool_validate.c — er_tool_validate (src/tools/registry.c), which
 * checks a model's tool-call arguments before any tool runs.  The input is
 * the arguments' JSON text, as a model would send it; it is checked against
 * every registered tool, and against a tool whose schema is the input itself
 * (so schemas of any shape meet arguments of any shape).
 * Invariants: the result is 0 or EINVAL (EINTERNAL only for a schema that is
 * no JSON); anything but an object is refused; an accepted object has every
 * required argument. */
#include "fuzz.h"
#include "errand/json.h"
#include "errand/tool.h"

typedef struct ctx {
    const cJSON *args;
} ctx;

static void check_required(const er_tool *t, const cJSON *args)
{
    cJSON *schema = cJSON_Parse(t->parameters ? t->parameters : "{}");
    const cJSON *r;
    cJSON_ArrayForEach(r, er_json_arr(schema, "required")) if (cJSON_IsString(r))
        FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(args, r->valuestring) != NULL);
    cJSON_Delete(schema);
}

static int validate_one(const er_tool *t, void *payload)
{
    const ctx *c = payload;
    er_error err = { 0 };
    int rc = er_tool_validate(t, c->args, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EINVAL || rc == ER_EINTERNAL);
    if (!cJSON_IsObject(c->args))
        FUZZ_CHECK(rc == ER_EINVAL);
    if (rc == 0)
        check_required(t, c->args);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *args = NULL;
    if (er_json_parse(&args, (const char *)data, size, NULL) != 0)
        return 0;
    ctx c = { args };
    er_tool_each(validate_one, &c);
    char *schema = fuzz_cstr(data, size);
    er_tool self = {
        "fuzz_self", "its schema is the input", schema, ER_PERM_READ, NULL, NULL, false
    };
    validate_one(&self, &c);
    free(schema);
    cJSON_Delete(args);
    return 0;
}
