/* fuzz_offline.c — the offline backend's command parser
 * (er_offline_parse_command, src/llm/offline_cmd.c): a user's line against
 * the offline forms of every registered tool, and of a few extra tools whose
 * schemas use every type the coercion knows; then whole offline answers
 * (src/llm/offline.c) with the input as the user's request, routed and not,
 * and as a tool's result.
 * Invariants: the result is 0, ENOTFOUND, EINVAL or ETOOBIG (EINTERNAL would
 * mean a broken form in a table); on success the tool is one of those offered
 * and its arguments are an object that passes er_tool_validate; answers are
 * complete, streamed text equals text, route arguments are 1..8 JSON steps. */
#include "fuzz.h"
#include "errand/agent.h"
#include "errand/buf.h"
#include "errand/classifier.h"
#include "errand/compound.h"
#include "errand/json.h"
#include "errand/offline.h"
#include "errand/str.h"
#include "errand/tool.h"

#define MAX_TOOLS 64

static const er_tool extra[] = {
    { "fuzz_types", "Every coercion",
      "{\"type\":\"object\",\"properties\":{\"count\":{\"type\":\"integer\"},"
      "\"ratio\":{\"type\":\"number\"},\"flag\":{\"type\":\"boolean\"},"
      "\"ids\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
      "\"opts\":{\"type\":\"object\"},\"maybe\":{\"type\":[\"number\",\"null\"]}},"
      "\"required\":[\"count\"]}",
      ER_PERM_READ, "types COUNT [RATIO] [FLAG] [IDS] [OPTS] [MAYBE]", NULL, false },
    { "fuzz_literal", "Literal words",
      "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"}}}", ER_PERM_WRITE,
      "git commit MESSAGE...", NULL, false },
    { "fuzz_nested", "Arrays of arrays",
      "{\"type\":\"object\",\"properties\":{\"grid\":{\"type\":\"array\","
      "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"number\"}}},"
      "\"labels\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}}}}",
      ER_PERM_READ, "grid GRID [LABELS]", NULL, false },
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

static void collect(const char *text, size_t len, void *payload)
{
    er_buf_append(payload, text, len);
}

/* A whole offline answer to messages (the input is in them): complete, its
 * streamed text equal to its text; a route call's arguments are JSON with
 * 1..ER_COMPOUND_MAX_STEPS steps; a tool result "error: …" a failure with a
 * reason. */
static void check_answer(const table *tools, cJSON *messages, const char *tool_choice)
{
    er_buf streamed;
    er_buf_init(&streamed, 0);
    er_llm_request req = { .messages = messages,
                           .tool_choice = tool_choice,
                           .stream = true,
                           .on_token = collect,
                           .payload = &streamed };
    er_llm_response r;
    er_error err = { 0 };
    memset(&r, 0, sizeof r);
    int rc = er_offline_answer(tools->v, tools->n, er_agents, &req, &r, &err);
    fuzz_check_result(rc, &err);
    /* A tool's "error: …" fails the task with its reason (offline, the user's
     * command failed); anything else is answered. */
    const cJSON *last = cJSON_GetArrayItem(messages, cJSON_GetArraySize(messages) - 1);
    if (!tool_choice && er_str_eq(er_json_str(last, "role"), "tool") &&
        er_llm_tool_failed(er_json_str(last, "content"))) {
        FUZZ_CHECK(rc == ER_EINVAL || rc == ER_EDENIED);
        er_buf_release(&streamed);
        return;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(r.text && r.stop_reason && strcmp(r.text, er_buf_cstr(&streamed)) == 0);
    FUZZ_CHECK(r.ncalls <= 1);
    if (tool_choice) {
        FUZZ_CHECK(r.ncalls == 1 && strcmp(r.calls[0].name, "route") == 0);
        cJSON *args = NULL;
        FUZZ_CHECK(er_json_parse(&args, r.calls[0].arguments, strlen(r.calls[0].arguments), &err) ==
                   0);
        int n = cJSON_GetArraySize(er_json_arr(args, "steps"));
        FUZZ_CHECK(n >= 1 && n <= ER_COMPOUND_MAX_STEPS);
        cJSON_Delete(args);
    }
    er_llm_response_release(&r);
    er_buf_release(&streamed);
}

static cJSON *message(const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "role", role);
    er_json_add_str(m, "content", content);
    return m;
}

/* The input as a user's request (routed and answered) and as a tool's result. */
static void check_answers(const table *tools, const char *text)
{
    cJSON *msgs = cJSON_CreateArray();
    er_json_append(msgs, message("user", text));
    check_answer(tools, msgs, "route");
    check_answer(tools, msgs, NULL);
    cJSON *call = cJSON_CreateObject();
    er_json_add_str(call, "id", "offline-1");
    er_json_add_str(call, "name", "read_file");
    er_json_add_str(call, "arguments", "{}");
    cJSON *calls = cJSON_CreateArray();
    er_json_append(calls, call);
    cJSON *assistant = message("assistant", NULL);
    er_json_add(assistant, "tool_calls", calls);
    er_json_append(msgs, assistant);
    cJSON *result = message("tool", text);
    er_json_add_str(result, "tool_call_id", "offline-1");
    er_json_append(msgs, result);
    check_answer(tools, msgs, NULL);
    cJSON_Delete(msgs);
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
    check_answers(&tools, line);
    free(line);
    return 0;
}
