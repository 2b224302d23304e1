/* test_llm_openai.c — the OpenAI-compatible backend against fake_llm: answers,
 * streaming, tool calls, retries, error mapping, cancellation, and the exact
 * request shape on the wire (system message, tool_calls, tools, headers). */
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
    CHECK_INT(er_llm_open_named(&llm, "bogus", &cfg, NULL, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "'bogus'") && strstr(err.msg, "openai, anthropic, offline"));
    CHECK(llm == NULL);

    /* OpenAI's own endpoint without a key: said at once, not by a 401 (or a DNS error) later. */
    cfg.llm = "openai";
    CHECK_INT(er_llm_open(&llm, &cfg, NULL, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "OPENAI_API_KEY is not set") != NULL);
    CHECK(llm == NULL);
    cfg.openai_base_url = "http://127.0.0.1:11434/v1"; /* a local server needs none */
    CHECK_OK(er_llm_open(&llm, &cfg, NULL, &err));
    er_llm_close(llm);
    cfg.openai_base_url = NULL;
    cfg.llm = NULL;

    cfg.openai_api_key = "sk-test-open";
    CHECK_OK(er_llm_open(&llm, &cfg, NULL, &err));
    CHECK_STR(er_llm_name(llm), "openai");
    CHECK_STR(er_llm_model(llm), "gpt-4o-mini");
    er_llm_close(llm);

    cfg.model = "my-local-model";
    CHECK_OK(er_llm_open_named(&llm, "openai", &cfg, NULL, &err));
    CHECK_STR(er_llm_model(llm), "my-local-model");
    er_llm_close(llm);
}

static void test_plain_shape(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    chat_opts o = { .messages = "[{\"role\":\"user\",\"content\":\"[plain] shape\"}]",
                    .system = "You are terse." };
    CHECK_OK(do_chat(fx->llm, &o, NULL, &r, &err));
    er_llm_response_release(&r);
    cJSON *rec = fake_llm_last_record(&fx->fake, "[plain] shape");
    const cJSON *body = er_json_obj(rec, "body"), *hdr = er_json_obj(rec, "headers");
    const cJSON *msgs = er_json_arr(body, "messages");
    CHECK_STR(er_json_str(rec, "path"), "/v1/chat/completions");
    CHECK_STR(er_json_str(body, "model"), "gpt-4o-mini");
    CHECK_INT(cJSON_GetArraySize(msgs), 2);
    CHECK_STR(er_json_str(at(msgs, 0), "role"), "system");
    CHECK_STR(er_json_str(at(msgs, 0), "content"), "You are terse.");
    CHECK_STR(er_json_str(at(msgs, 1), "role"), "user");
    CHECK(cJSON_GetObjectItem(body, "stream") == NULL);
    CHECK(cJSON_GetObjectItem(body, "tools") == NULL);
    CHECK_STR(er_json_str(hdr, "authorization"), "Bearer " LLM_TEST_KEY);
    CHECK_STR(er_json_str(hdr, "content-type"), "application/json");
    cJSON_Delete(rec);
}

static const char roundtrip[] =
    "[{\"role\":\"user\",\"content\":\"[roundtrip] weather in Paris?\"},"
    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_w1\","
    "\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]},"
    "{\"role\":\"tool\",\"tool_call_id\":\"call_w1\",\"name\":\"get_weather\","
    "\"content\":\"sunny, 21C\"}]";

static void check_roundtrip_request(const cJSON *body)
{
    const cJSON *msgs = er_json_arr(body, "messages");
    CHECK_INT(cJSON_GetArraySize(msgs), 3);
    const cJSON *asst = at(msgs, 1), *tool = at(msgs, 2);
    const cJSON *call = at(er_json_arr(asst, "tool_calls"), 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(asst, "content")));
    CHECK_STR(er_json_str(call, "id"), "call_w1");
    CHECK_STR(er_json_str(call, "type"), "function");
    CHECK_STR(er_json_str(er_json_obj(call, "function"), "name"), "get_weather");
    CHECK_STR(er_json_str(er_json_obj(call, "function"), "arguments"), "{\"city\":\"Paris\"}");
    CHECK_STR(er_json_str(tool, "role"), "tool");
    CHECK_STR(er_json_str(tool, "tool_call_id"), "call_w1");
    CHECK_STR(er_json_str(tool, "content"), "sunny, 21C");

    const cJSON *t0 = at(er_json_arr(body, "tools"), 0);
    const cJSON *fn = er_json_obj(t0, "function");
    CHECK_STR(er_json_str(t0, "type"), "function");
    CHECK_STR(er_json_str(fn, "name"), "get_weather");
    CHECK_STR(er_json_str(fn, "description"), "Weather for a city");
    CHECK_STR(
        cJSON_GetArrayItem(er_json_arr(er_json_obj(fn, "parameters"), "required"), 0)->valuestring,
        "city");
    const cJSON *choice = er_json_obj(body, "tool_choice");
    CHECK_STR(er_json_str(choice, "type"), "function");
    CHECK_STR(er_json_str(er_json_obj(choice, "function"), "name"), "get_weather");
    CHECK(er_json_bool(body, "stream", false));
    CHECK(er_json_bool(er_json_obj(body, "stream_options"), "include_usage", false));
    CHECK_INT(er_json_num(body, "max_tokens", 0), 50);
}

static void test_roundtrip_shape(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    tokens tok = { ER_BUF_INIT, 0 };
    chat_opts o = { .messages = roundtrip,
                    .tools = weather_tools,
                    .tool_choice = "get_weather",
                    .stream = true,
                    .max_tokens = 50 };
    CHECK_OK(do_chat(fx->llm, &o, &tok, &r, &err));
    CHECK_STR(r.text, "It is sunny in Paris.");
    CHECK_STR(er_buf_cstr(&tok.text), "It is sunny in Paris.");
    er_llm_response_release(&r);
    er_buf_release(&tok.text);
    cJSON *rec = fake_llm_last_record(&fx->fake, "[roundtrip]");
    check_roundtrip_request(er_json_obj(rec, "body"));
    cJSON_Delete(rec);

    rec = fake_llm_last_record(&fx->fake, "[calls]");
    CHECK_STR(er_json_str(er_json_obj(rec, "body"), "tool_choice"), "required");
    cJSON_Delete(rec);
}

static void test_openai_specifics(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    /* Buffered answers carry arguments as a string: invalid JSON passes through too. */
    CHECK_OK(ask(fx->llm, "[badargs]", false, &r, &err));
    CHECK(r.ncalls == 1 && strcmp(r.calls[0].arguments, "{\"city\": \"Par") == 0);
    er_llm_response_release(&r);

    /* Local servers (Ollama, llama.cpp) take no key: no Authorization header then. */
    er_llm *nokey = open_variant(fx, fx->base, NULL, 10, 0);
    CHECK_INT(ask(nokey, "[nokey]", false, &r, &err), ER_EAUTH);
    er_llm_close(nokey);
    cJSON *rec = fake_llm_last_record(&fx->fake, "[nokey]");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(er_json_obj(rec, "headers"), "authorization")));
    cJSON_Delete(rec);
}

static void specific_cases(llm_fixture *fx)
{
    test_plain_shape(fx);
    test_roundtrip_shape(fx);
    test_openai_specifics(fx);
}

int main(void)
{
    test_open();
    return llm_test_main("openai", "OPENAI_API_KEY", specific_cases);
}
