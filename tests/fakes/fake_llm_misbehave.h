/* fake_llm_misbehave.h — the scripted misbehaviours of fake_llm: what real
 * models and servers do wrong, one named per script turn, for the tests of
 * errand's defences (include/errand/repair.h, router.h, llm.h, http.h).
 *
 * A turn says "misbehave": NAME (or a list of names).  Most rewrite a copy of
 * the turn before its answer is built, in either wire format:
 *
 *   refusal             the model declines: OpenAI's message "refusal" (content
 *                       null), Anthropic's stop_reason "refusal"; the turn's
 *                       text is the refusal
 *   length              cut by the output limit: finish_reason "length"
 *                       (Anthropic "max_tokens"), the last tool call's
 *                       arguments cut in half
 *   non_utf8            bytes that are not UTF-8 (0xff, a lone 0xc3, 0xed 0xa0
 *                       0x80: a surrogate) in the text and every string
 *                       argument
 *   dup_ids             every tool call has the first one's id
 *   empty               no text, no tool call
 *   ignore_tool_choice  a forced tool (the request's tool_choice) is ignored:
 *                       only the turn's text is answered, as servers without
 *                       tool_choice support do
 *
 * and some act on the transport (fake_llm.c asks for them):
 *
 *   stream_error        a streamed answer stops halfway with the provider's
 *                       error event (overloaded); a buffered one is a 529/503
 *   stall_midway        a streamed answer stops sending halfway for the turn's
 *                       stall_ms (default 60 s), the connection kept open
 *   redirect            307 to the turn's "location" (default an https URL of
 *                       another host), nothing else
 *
 * Header-only (every tests/fakes/ C file is a program). */
#ifndef ERRAND_TEST_FAKE_LLM_MISBEHAVE_H
#define ERRAND_TEST_FAKE_LLM_MISBEHAVE_H

#include "fake_llm_wire.h"

static void set_field(cJSON *o, const char *key, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    er_json_add(o, key, v);
}

static void mb_refusal(cJSON *t, const cJSON *req)
{
    (void)req;
    const char *text = er_json_str(t, "text");
    set_field(t, "refusal", cJSON_CreateString(text ? text : "I can't help with that."));
    cJSON_DeleteItemFromObjectCaseSensitive(t, "text");
    cJSON_DeleteItemFromObjectCaseSensitive(t, "tool_calls");
    set_field(t, "finish_reason", cJSON_CreateString("refusal"));
}

static void mb_length(cJSON *t, const cJSON *req)
{
    (void)req;
    set_field(t, "finish_reason", cJSON_CreateString("length"));
    cJSON *calls = cJSON_GetObjectItemCaseSensitive(t, "tool_calls");
    cJSON *last = cJSON_IsArray(calls) && cJSON_GetArraySize(calls) > 0
                      ? cJSON_GetArrayItem(calls, cJSON_GetArraySize(calls) - 1)
                      : NULL;
    if (!last)
        return;
    char *args = call_args(last);
    args[strlen(args) / 2] = '\0';
    set_field(last, "arguments", cJSON_CreateString(args));
    free(args);
}

/* Bytes no UTF-8 decoder accepts, appended to s. */
static char *with_bad_bytes(const char *s)
{
    return er_xasprintf("%s \xff caf\xc3 \xed\xa0\x80 end", s);
}

static void spoil_strings(cJSON *o)
{
    cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (cJSON_IsString(it)) {
            char *bad = with_bad_bytes(it->valuestring);
            cJSON_SetValuestring(it, bad);
            free(bad);
        } else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            spoil_strings(it);
        }
    }
}

static void mb_non_utf8(cJSON *t, const cJSON *req)
{
    (void)req;
    const char *text = er_json_str(t, "text");
    if (text) {
        char *bad = with_bad_bytes(text);
        set_field(t, "text", cJSON_CreateString(bad));
        free(bad);
    }
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(t, "tool_calls"))
    {
        cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "arguments");
        if (cJSON_IsObject(a))
            spoil_strings(a);
    }
}

static void mb_dup_ids(cJSON *t, const cJSON *req)
{
    (void)req;
    const char *first = NULL;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(t, "tool_calls"))
    {
        if (!first) {
            first = er_json_str(c, "id");
            if (!first) {
                set_field(c, "id", cJSON_CreateString("call_dup"));
                first = "call_dup";
            }
            continue;
        }
        set_field(c, "id", cJSON_CreateString(first));
    }
}

static void mb_empty(cJSON *t, const cJSON *req)
{
    (void)req;
    cJSON_DeleteItemFromObjectCaseSensitive(t, "text");
    cJSON_DeleteItemFromObjectCaseSensitive(t, "tool_calls");
}

static void mb_ignore_tool_choice(cJSON *t, const cJSON *req)
{
    const cJSON *choice = cJSON_GetObjectItemCaseSensitive(req, "tool_choice");
    if (choice && !cJSON_IsNull(choice))
        cJSON_DeleteItemFromObjectCaseSensitive(t, "tool_calls");
}

static const struct {
    const char *name;
    void (*rewrite)(cJSON *turn, const cJSON *request); /* NULL: fake_llm.c acts */
} misbehaviours[] = {
    { "refusal", mb_refusal },   { "length", mb_length },
    { "non_utf8", mb_non_utf8 }, { "dup_ids", mb_dup_ids },
    { "empty", mb_empty },       { "ignore_tool_choice", mb_ignore_tool_choice },
    { "stream_error", NULL },    { "stall_midway", NULL },
    { "redirect", NULL },
};

/* The names a turn's "misbehave" gives (a string or a list of them). */
static int misbehave_names(const cJSON *turn, const char **out, int max)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(turn, "misbehave");
    if (cJSON_IsString(m)) {
        out[0] = m->valuestring;
        return 1;
    }
    int n = 0;
    const cJSON *it, *list = cJSON_IsArray(m) ? m : NULL;
    cJSON_ArrayForEach(it, list) if (n < max) out[n++] =
        cJSON_IsString(it) ? it->valuestring : "(not a string)";
    return n;
}

/* The turn as it is to be answered (OWNED copy with its misbehaviours applied),
 * or NULL (*unknown set) when it names one this fake does not know. */
static cJSON *misbehave_turn(const cJSON *turn, const cJSON *request, const char **unknown)
{
    const char *names[16];
    int n = misbehave_names(turn, names, 16);
    cJSON *t = cJSON_Duplicate(turn, true);
    for (int k = 0; k < n; k++) {
        size_t i = 0;
        while (i < ER_ARRAY_LEN(misbehaviours) && strcmp(misbehaviours[i].name, names[k]) != 0)
            i++;
        if (i == ER_ARRAY_LEN(misbehaviours)) {
            *unknown = names[k];
            cJSON_Delete(t);
            return NULL;
        }
        if (misbehaviours[i].rewrite)
            misbehaviours[i].rewrite(t, request);
    }
    return t;
}

/* Whether the turn asks for misbehaviour name. */
static bool misbehaves(const cJSON *turn, const char *name)
{
    const char *names[16];
    int n = misbehave_names(turn, names, 16);
    for (int k = 0; k < n; k++)
        if (strcmp(names[k], name) == 0)
            return true;
    return false;
}

#endif
