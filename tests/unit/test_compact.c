/* test_compact.c — one long task's steps folded into a summary (compact.h):
 * nothing folded under the threshold; past it, the oldest steps go, the
 * request and the newest steps stay verbatim, a call never parts from its
 * result, the same steps give the same record, and applying a record that
 * does not fit leaves the messages alone.  No model here: the offline cut. */
#include "check.h"
#include "errand/compact.h"
#include "errand/json.h"

#include <stdio.h>
#include <string.h>

static void add(cJSON *msgs, const char *role, const char *content, const char *call)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "role", role);
    er_json_add_str(m, "content", content);
    if (call && strcmp(role, "assistant") == 0) {
        cJSON *calls = cJSON_CreateArray(), *c = cJSON_CreateObject();
        er_json_add_str(c, "id", call);
        er_json_add_str(c, "name", "read_file");
        er_json_add_str(c, "arguments", "{\"path\":\"a.c\"}");
        er_json_append(calls, c);
        er_json_add(m, "tool_calls", calls);
    } else if (call) {
        er_json_add_str(m, "tool_call_id", call);
        er_json_add_str(m, "name", "read_file");
    }
    er_json_append(msgs, m);
}

/* The request, then n steps: a call and its long result. */
static cJSON *steps(int n)
{
    cJSON *msgs = cJSON_CreateArray();
    add(msgs, "user", "REQUEST: read every file", NULL);
    char id[16], body[1200];
    for (int i = 1; i <= n; i++) {
        snprintf(id, sizeof id, "c%d", i);
        add(msgs, "assistant", NULL, id);
        memset(body, 'x', sizeof body - 1);
        body[sizeof body - 1] = '\0';
        memcpy(body, id, strlen(id));
        add(msgs, "tool", body, id);
    }
    return msgs;
}

/* Every result right after its call. */
static bool paired(const cJSON *msgs)
{
    int n = cJSON_GetArraySize(msgs);
    for (int i = 0; i < n; i++) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        const char *id = er_json_str(m, "tool_call_id");
        if (!id)
            continue;
        const cJSON *prev = cJSON_GetArrayItem(msgs, i - 1);
        const cJSON *calls = er_json_arr(prev, "tool_calls");
        if (!calls || strcmp(er_json_str(cJSON_GetArrayItem(calls, 0), "id"), id) != 0)
            return false;
    }
    return true;
}

int main(void)
{
    cJSON *msgs = steps(3);
    CHECK(er_compact_steps(NULL, 100000, "system", msgs, NULL, 1, NULL) == NULL);
    cJSON_Delete(msgs);

    msgs = steps(40); /* about 12k tokens */
    long limit = 6000;
    cJSON *rec = er_compact_steps(NULL, limit, "system", msgs, NULL, 1, NULL);
    CHECK(rec != NULL);
    cJSON *again = er_compact_steps(NULL, limit, "system", msgs, NULL, 1, NULL);
    char *a = er_json_print(rec), *b = er_json_print(again);
    CHECK_STR(a, b); /* what a replay would compute is what was recorded */
    free(a);
    free(b);
    cJSON_Delete(again);
    int folded = (int)er_json_int(rec, "messages", 0, 0, 1000);
    CHECK(folded > 0 && folded % 2 == 0); /* whole steps */
    CHECK(strstr(er_json_str(rec, "summary"), "compacted without a model") != NULL);
    CHECK(er_compact_steps_apply(msgs, 1, rec));
    CHECK(er_compact_request_tokens("system", msgs, NULL) <= limit);
    CHECK_STR(er_json_str(cJSON_GetArrayItem(msgs, 0), "content"), "REQUEST: read every file");
    CHECK(strstr(er_json_str(cJSON_GetArrayItem(msgs, 1), "content"), "task-steps-summary") !=
          NULL);
    CHECK_STR(er_json_str(cJSON_GetArrayItem(msgs, 2), "role"), "assistant");
    CHECK(paired(msgs));
    const cJSON *last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    CHECK_STR(er_json_str(last, "tool_call_id"), "c40"); /* the newest step verbatim */

    /* Compacted again, the earlier summary folds into the new one. */
    cJSON *more = steps(40);
    for (int i = 1; i < cJSON_GetArraySize(more); i++)
        er_json_append(msgs, cJSON_Duplicate(cJSON_GetArrayItem(more, i), true));
    cJSON_Delete(more);
    cJSON *rec2 =
        er_compact_steps(NULL, limit, "system", msgs, NULL, 1, er_json_str(rec, "summary"));
    CHECK(rec2 != NULL);
    int n = cJSON_GetArraySize(msgs);
    CHECK(er_compact_steps_apply(msgs, 1, rec2));
    CHECK(cJSON_GetArraySize(msgs) < n);
    CHECK(paired(msgs));
    CHECK(er_compact_request_tokens("system", msgs, NULL) <= limit);

    /* A record that does not fit these messages changes nothing. */
    cJSON *bad = cJSON_CreateObject();
    er_json_add_num(bad, "messages", 10000);
    er_json_add_str(bad, "summary", "x");
    n = cJSON_GetArraySize(msgs);
    CHECK(!er_compact_steps_apply(msgs, 1, bad));
    CHECK(cJSON_GetArraySize(msgs) == n);
    cJSON_Delete(bad);
    cJSON_Delete(rec2);
    cJSON_Delete(rec);
    cJSON_Delete(msgs);
    return check_done();
}
