/* test_llm_anthropic.c — the Anthropic Messages backend against fake_llm: the
 * shared behaviour (llm_cases.h) plus the conversion to Anthropic's shape:
 * top-level system prompt, tool_use / tool_result blocks, merged tool results,
 * input_schema, tool_choice, max_tokens and the version/key headers. */
#include "llm_cases.h"

static const cJSON *at(const cJSON *arr, int i)
{
    return cJSON_GetArrayItem(arr, i);
}

static void test_open(void)
{
    er_error err = { 0 };
    er_config cfg;
    memset(&cfg, 0, sizeof cfg);
    er_llm *llm = NULL;
    /* Anthropic's API without a key: said at once. */
    CHECK_INT(er_llm_open_named(&llm, "anthropic", &cfg, NULL, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "ANTHROPIC_API_KEY is not set") != NULL);
    CHECK(llm == NULL);
    cfg.anthropic_api_key = "sk-ant-test-open";
    CHECK_OK(er_llm_open(&llm, &cfg, NULL, &err));
    CHECK_STR(er_llm_name(llm), "anthropic");
    CHECK_STR(er_llm_model(llm), "claude-sonnet-4-5");
    er_llm_close(llm);
}

static const char conversation[] =
    "[{\"role\":\"system\",\"content\":\"Extra rules.\"},"
    "{\"role\":\"user\",\"content\":\"[roundtrip] weather and time?\"},"
    "{\"role\":\"assistant\",\"content\":\"Checking.\",\"tool_calls\":["
    "{\"id\":\"call_w1\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},"
    "{\"id\":\"call_t1\",\"name\":\"get_time\",\"arguments\":\"not json\"}]},"
    "{\"role\":\"tool\",\"tool_call_id\":\"call_w1\",\"name\":\"get_weather\","
    "\"content\":\"sunny, 21C\"},"
    "{\"role\":\"tool\",\"tool_call_id\":\"call_t1\",\"name\":\"get_time\","
    "\"content\":\"error: the user denied this get_time call\"},"
    "{\"role\":\"user\",\"content\":\"thanks\"}]";

static void check_assistant(const cJSON *m)
{
    const cJSON *blocks = er_json_arr(m, "content");
    CHECK_STR(er_json_str(m, "role"), "assistant");
    CHECK_INT(cJSON_GetArraySize(blocks), 3);
    CHECK_STR(er_json_str(at(blocks, 0), "type"), "text");
    CHECK_STR(er_json_str(at(blocks, 0), "text"), "Checking.");
    const cJSON *use = at(blocks, 1);
    CHECK_STR(er_json_str(use, "type"), "tool_use");
    CHECK_STR(er_json_str(use, "id"), "call_w1");
    CHECK_STR(er_json_str(use, "name"), "get_weather");
    CHECK_STR(er_json_str(er_json_obj(use, "input"), "city"), "Paris");
    /* Arguments that are not JSON still give the object the API requires. */
    CHECK(er_json_obj(at(blocks, 2), "input") != NULL);
}

static void check_tool_results(const cJSON *m)
{
    const cJSON *blocks = er_json_arr(m, "content");
    CHECK_STR(er_json_str(m, "role"), "user");
    CHECK_INT(cJSON_GetArraySize(blocks), 3); /* both results and the follow-up text */
    CHECK_STR(er_json_str(at(blocks, 0), "type"), "tool_result");
    CHECK_STR(er_json_str(at(blocks, 0), "tool_use_id"), "call_w1");
    CHECK_STR(er_json_str(at(blocks, 0), "content"), "sunny, 21C");
    CHECK_STR(er_json_str(at(blocks, 1), "tool_use_id"), "call_t1");
    /* A denied (failed) call is flagged as an error for the model; a good one is not. */
    CHECK(er_json_bool(at(blocks, 1), "is_error", false));
    CHECK(cJSON_GetObjectItem(at(blocks, 0), "is_error") == NULL);
    CHECK_STR(er_json_str(at(blocks, 2), "type"), "text");
    CHECK_STR(er_json_str(at(blocks, 2), "text"), "thanks");
}

static void check_request(const cJSON *rec)
{
    const cJSON *body = er_json_obj(rec, "body"), *hdr = er_json_obj(rec, "headers");
    const cJSON *msgs = er_json_arr(body, "messages");
    CHECK_STR(er_json_str(rec, "path"), "/v1/messages");
    CHECK_STR(er_json_str(body, "model"), "claude-sonnet-4-5");
    CHECK_STR(er_json_str(body, "system"), "You are terse.\n\nExtra rules.");
    CHECK_INT(er_json_num(body, "max_tokens", 0), 4096);
    CHECK(er_json_bool(body, "stream", false));
    CHECK_INT(cJSON_GetArraySize(msgs), 3);
    CHECK_STR(er_json_str(at(msgs, 0), "content"), "[roundtrip] weather and time?");
    check_assistant(at(msgs, 1));
    check_tool_results(at(msgs, 2));

    const cJSON *t0 = at(er_json_arr(body, "tools"), 0);
    CHECK_STR(er_json_str(t0, "name"), "get_weather");
    CHECK_STR(er_json_str(t0, "description"), "Weather for a city");
    CHECK(cJSON_GetObjectItem(t0, "parameters") == NULL);
    CHECK_STR(at(er_json_arr(er_json_obj(t0, "input_schema"), "required"), 0)->valuestring, "city");
    const cJSON *choice = er_json_obj(body, "tool_choice");
    CHECK_STR(er_json_str(choice, "type"), "tool");
    CHECK_STR(er_json_str(choice, "name"), "get_weather");

    CHECK_STR(er_json_str(hdr, "x-api-key"), LLM_TEST_KEY);
    CHECK_STR(er_json_str(hdr, "anthropic-version"), "2023-06-01");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(hdr, "authorization")));
}

static void test_shape(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    tokens tok = { ER_BUF_INIT, 0 };
    chat_opts o = { .messages = conversation,
                    .system = "You are terse.",
                    .tools = weather_tools,
                    .tool_choice = "get_weather",
                    .stream = true };
    CHECK_OK(do_chat(fx->llm, &o, &tok, &r, &err));
    CHECK_STR(r.text, "It is sunny in Paris.");
    CHECK_STR(er_buf_cstr(&tok.text), "It is sunny in Paris.");
    CHECK_STR(r.stop_reason, "stop"); /* end_turn, in the neutral name */
    er_llm_response_release(&r);
    er_buf_release(&tok.text);
    cJSON *rec = fake_llm_last_record(&fx->fake, "[roundtrip]");
    check_request(rec);
    cJSON_Delete(rec);

    rec = fake_llm_last_record(&fx->fake, "[calls]");
    CHECK_STR(er_json_str(er_json_obj(er_json_obj(rec, "body"), "tool_choice"), "type"), "any");
    cJSON_Delete(rec);

    chat_opts small = { .messages = "[{\"role\":\"user\",\"content\":\"[plain] short\"}]",
                        .max_tokens = 50 };
    CHECK_OK(do_chat(fx->llm, &small, NULL, &r, &err));
    er_llm_response_release(&r);
    rec = fake_llm_last_record(&fx->fake, "[plain] short");
    CHECK_INT(er_json_num(er_json_obj(rec, "body"), "max_tokens", 0), 50);
    CHECK(cJSON_GetObjectItem(er_json_obj(rec, "body"), "system") == NULL);
    cJSON_Delete(rec);
}

int main(void)
{
    test_open();
    return llm_test_main("anthropic", "ANTHROPIC_API_KEY", test_shape);
}
