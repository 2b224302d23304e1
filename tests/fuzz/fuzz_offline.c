/* fuzz_offline.c — the offline backend's command parser
 * (er_offline_parse_command, src/llm/offline_cmd.c): a user's line against
 * the offline forms of every registered tool, and of a few extra tools whose
 * schemas use every type the coercion knows.
 * Invariants: the result is 0, ENOTFOUND, EINVAL or ETOOBIG (EINTERNAL would
 * mean a broken form in a table); on success the tool is one of those offered
 * and its arguments are an object that passes er_tool_validate. */
#include "fuzz.h"
#include "errand/offline.h"
#include "errand/tool.h"

#define MAX_TOOLS 64

static const er_tool extra[] = {
    { "fuzz_types", "Every coercion",
      "{\"type\":\"object\",\"properties\":{\"count\":{\"type\":\"integer\"},"
      "\"ratio\":{\"type\":\"number\"},\"flag\":{\"type\":\"boolean\"},"
      "\"ids\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
      "\"opts\":{\"type\":\"object\"},\"maybe\":{\"type\":[\"number\",\"null\"]}},"
      "\"required\":[\"count\"]}",
      ER_PERM_READ, "types COUNT [RATIO] [FLAG] [IDS] [OPTS] [MAYBE]", NULL },
    { "fuzz_literal", "Literal words",
      "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"}}}",
      ER_PERM_WRITE, "git commit MESSAGE...", NULL },
    { "fuzz_nested", "Arrays of arrays",
      "{\"type\":\"object\",\"properties\":{\"grid\":{\"type\":\"array\","
      "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"number\"}}},"
      "\"labels\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}}}}",
      ER_PERM_READ, "grid GRID [LABELS]", NULL },
};

typedef struct table {
    er_tool v[MAX_TOOLS];
    size_t n;
} table;

static int add_tool(const er_tool *t, void *payload)
{
    table *tab = payload;
    FUZZ_CHECK(tab->n < MAX_TOOLS);
    tab->v[tab->n++] = *t;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static table tools;
    if (!tools.n) {
        er_tool_each(add_tool, &tools);
        for (size_t i = 0; i < ER_ARRAY_LEN(extra); i++)
            add_tool(&extra[i], &tools);
    }
    char *line = fuzz_cstr(data, size);
    const er_tool *t = NULL;
    cJSON *args = NULL;
    er_error err = { 0 };
    int rc = er_offline_parse_command(tools.v, tools.n, line, &t, &args, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_ENOTFOUND || rc == ER_EINVAL || rc == ER_ETOOBIG);
    FUZZ_CHECK((rc == 0) == (t != NULL) && (rc == 0) == (args != NULL));
    if (rc == 0) {
        FUZZ_CHECK(t >= tools.v && t < tools.v + tools.n && t->offline);
        FUZZ_CHECK(cJSON_IsObject(args));
        er_error verr = { 0 };
        int vrc = er_tool_validate(t, args, &verr);
        if (vrc)
            fprintf(stderr, "fuzz_offline: %s\n", verr.msg);
        FUZZ_CHECK(vrc == 0);
    }
    cJSON_Delete(args);
    free(line);
    return 0;
}
