/* test_offline.c — the offline LLM backend: route answers for the supervisor,
 * plain commands parsed onto tools (quoting, optional and rest-of-line words,
 * literals, type coercion), tool results presented as answers, help text,
 * streaming, cancellation and usage.  The tests pass their own er_tool table
 * to er_offline_parse_command and er_offline_answer, and call the backend only
 * through er_llm_offline_backend; the registry's agents (and their tools) are
 * handed in, as er_llm_open hands them, only where routing plain commands and
 * the help need them. */
#include "check.h"
#include "errand/agent.h"
#include "errand/backend/llm_backend.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/offline.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const er_tool tools[] = {
    { "fs_grep", "Search files for a regular expression. Lists matching lines.",
      "{\"type\":\"object\",\"properties\":{\"pattern\":{\"type\":\"string\"},"
      "\"path\":{\"type\":\"string\"},\"max_results\":{\"type\":\"integer\"}},"
      "\"required\":[\"pattern\"]}",
      ER_PERM_READ, "grep PATTERN [PATH] [MAX_RESULTS]", NULL, false },
    /* CMD is not a property name: it stands for the first property. */
    { "exec_run", "Run a shell command in the sandbox",
      "{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"string\"},"
      "\"timeout\":{\"type\":\"number\"}}}",
      ER_PERM_EXEC, "run CMD...", NULL, false },
    { "web_fetch", "Fetch a web page",
      "{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"},"
      "\"raw\":{\"type\":\"boolean\"},\"timeout\":{\"type\":[\"number\",\"null\"]}}}",
      ER_PERM_NETWORK, "fetch URL [RAW] [TIMEOUT]", NULL, false },
    { "git_commit", "Commit staged changes",
      "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"}}}", ER_PERM_WRITE,
      "git commit MESSAGE...", NULL, false },
    { "git_log", "Show recent commits",
      "{\"type\":\"object\",\"properties\":{\"limit\":{\"type\":\"integer\"}}}", ER_PERM_READ,
      "git log [LIMIT]", NULL, false },
    { "mail_label", "Label messages",
      "{\"type\":\"object\",\"properties\":{\"labels\":{\"type\":\"array\","
      "\"items\":{\"type\":\"string\"}},\"ids\":{\"type\":\"array\","
      "\"items\":{\"type\":\"integer\"}}}}",
      ER_PERM_WRITE, "label LABELS [IDS]", NULL, false },
    { "config_set", "Set options",
      "{\"type\":\"object\",\"properties\":{\"options\":{\"type\":\"object\"}}}", ER_PERM_WRITE,
      "set OPTIONS", NULL, false },
    /* Suffix parameters: "src/main.c:10-20". */
    { "fs_read", "Read a file",
      "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
      "\"start\":{\"type\":\"integer\"},\"end\":{\"type\":\"integer\"}}}",
      ER_PERM_READ, "show PATH[:START[-END]]", NULL, false },
    { "net_probe",
      "Connect to a port of a host and report whether the connection was accepted, "
      "how long it took and what was answered. Long first sentence.",
      "{\"type\":\"object\",\"properties\":{\"host\":{\"type\":\"string\"},"
      "\"port\":{\"type\":\"integer\"},\"note\":{\"type\":\"string\"}}}",
      ER_PERM_NETWORK, "probe [HOST[:PORT]] [NOTE...]", NULL, false },
    { "secret_tool", "Only for models", "{}", ER_PERM_READ, NULL, NULL, false },
};
#define NTOOLS ER_ARRAY_LEN(tools)

/* Parses line; on success returns the tool's name and the arguments as text. */
static int parse(const char *line, const char **name, char **args, er_error *err)
{
    const er_tool *t = NULL;
    cJSON *a = NULL;
    *name = NULL;
    *args = NULL;
    int rc = er_offline_parse_command(tools, NTOOLS, line, &t, &a, err);
    if (rc == 0) {
        *name = t->name;
        *args = er_json_print(a);
        cJSON_Delete(a);
    } else {
        CHECK(t == NULL && a == NULL);
    }
    return rc;
}

static void check_parse(const char *line, const char *tool, const char *args)
{
    er_error err = { 0 };
    const char *name;
    char *got;
    CHECK_OK(parse(line, &name, &got, &err));
    CHECK_STR(name, tool);
    CHECK_STR(got, args);
    free(got);
}

static void check_parse_fails(const char *line, int code, const char *msg_part)
{
    er_error err = { 0 };
    const char *name;
    char *got;
    CHECK_INT(parse(line, &name, &got, &err), code);
    if (!strstr(err.msg, msg_part))
        fprintf(stderr, "'%s': message '%s' lacks '%s'\n", line, err.msg, msg_part);
    CHECK(strstr(err.msg, msg_part) != NULL);
    free(got);
}

static void test_parse_words(void)
{
    check_parse("grep TODO", "fs_grep", "{\"pattern\":\"TODO\"}");
    check_parse("  grep   TODO   src/  ", "fs_grep", "{\"pattern\":\"TODO\",\"path\":\"src/\"}");
    check_parse("grep 'hello world' src 20", "fs_grep",
                "{\"pattern\":\"hello world\",\"path\":\"src\",\"max_results\":20}");
    check_parse("grep \"say \\\"hi\\\" \\\\ bye\" .", "fs_grep",
                "{\"pattern\":\"say \\\"hi\\\" \\\\ bye\",\"path\":\".\"}");
    check_parse("grep '' .", "fs_grep", "{\"pattern\":\"\",\"path\":\".\"}");
    check_parse("grep \"it's\"", "fs_grep", "{\"pattern\":\"it's\"}");
    check_parse("grep Bob's", "fs_grep",
                "{\"pattern\":\"Bob's\"}"); /* an apostrophe, not a quote */
    check_parse("GREP x", "fs_grep", "{\"pattern\":\"x\"}");
    check_parse("fs_grep x", "fs_grep", "{\"pattern\":\"x\"}"); /* the tool's name works too */
    check_parse("grep -n\tfoo", "fs_grep", "{\"pattern\":\"-n\",\"path\":\"foo\"}");
}

static void test_parse_rest_and_literals(void)
{
    check_parse("run make -j2 'all'  ", "exec_run", "{\"command\":\"make -j2 'all'\"}");
    check_parse("run \"ls -la /tmp\"", "exec_run", "{\"command\":\"ls -la /tmp\"}");
    check_parse("run echo \"a\" \"b\"", "exec_run", "{\"command\":\"echo \\\"a\\\" \\\"b\\\"\"}");
    check_parse("run cat <<EOF\nline 1\nEOF", "exec_run",
                "{\"command\":\"cat <<EOF\\nline 1\\nEOF\"}");
    check_parse("git commit fix the parser", "git_commit", "{\"message\":\"fix the parser\"}");
    check_parse("git LOG 5", "git_log", "{\"limit\":5}");
    check_parse("git log", "git_log", "{}");
    check_parse_fails("git push origin", ER_ENOTFOUND, "git");
    check_parse_fails("run   ", ER_EINVAL, "missing CMD");
}

static void test_parse_types(void)
{
    check_parse("fetch https://example.com yes", "web_fetch",
                "{\"url\":\"https://example.com\",\"raw\":true}");
    check_parse("fetch https://example.com OFF 2.5", "web_fetch",
                "{\"url\":\"https://example.com\",\"raw\":false,\"timeout\":2.5}");
    check_parse("label 'work,to do'", "mail_label", "{\"labels\":[\"work\",\"to do\"]}");
    check_parse("label 'a, b ,c' 3,4", "mail_label",
                "{\"labels\":[\"a\",\"b\",\"c\"],\"ids\":[3,4]}");
    check_parse("label '[\"x\"]' [7]", "mail_label", "{\"labels\":[\"x\"],\"ids\":[7]}");
    check_parse("set '{\"theme\":\"dark\"}'", "config_set", "{\"options\":{\"theme\":\"dark\"}}");
    check_parse_fails("label a 3,x", ER_EINVAL, "IDS must be an array");
    check_parse_fails("set dark", ER_EINVAL, "OPTIONS must be an object");
    check_parse_fails("fetch https://example.com maybe", ER_EINVAL, "RAW must be a boolean");
    check_parse_fails("grep a b ten", ER_EINVAL, "MAX_RESULTS must be an integer, not 'ten'");
    check_parse_fails("grep a b 1.5", ER_EINVAL, "must be an integer");
    check_parse_fails("fetch x y 1e999", ER_EINVAL, "TIMEOUT must be a number");
}

static void test_parse_errors(void)
{
    check_parse_fails("grep", ER_EINVAL, "fs_grep: missing PATTERN; usage: grep PATTERN [PATH]");
    check_parse_fails("grep a b 3 d", ER_EINVAL, "unexpected 'd'");
    check_parse_fails("grep 'abc", ER_EINVAL, "unterminated ' quote");
    check_parse_fails("grep \"abc\\\"", ER_EINVAL, "unterminated \" quote");
    check_parse_fails("frobnicate x", ER_ENOTFOUND, "no offline command 'frobnicate'");
    check_parse_fails("secret_tool", ER_ENOTFOUND, "secret_tool"); /* no offline form */
    check_parse_fails("", ER_ENOTFOUND, "no command");
    check_parse_fails(NULL, ER_ENOTFOUND, "no command");
    check_parse_fails("please grep for TODO", ER_ENOTFOUND, "please");
    /* A form naming a parameter the schema lacks is a bug in the tool table. */
    const er_tool bad = {
        "bad", "", "{\"properties\":{}}", ER_PERM_READ, "bad THING", NULL, false
    };
    const er_tool *t;
    cJSON *a;
    er_error err = { 0 };
    CHECK_INT(er_offline_parse_command(&bad, 1, "bad x", &t, &a, &err), ER_EINTERNAL);
    CHECK(strstr(err.msg, "THING") || strstr(err.msg, "thing"));
}

static void test_parse_suffixes(void)
{
    check_parse("show src/main.c:10-20", "fs_read",
                "{\"path\":\"src/main.c\",\"start\":10,\"end\":20}");
    check_parse("show src/main.c:10", "fs_read", "{\"path\":\"src/main.c\",\"start\":10}");
    check_parse("show src/main.c", "fs_read", "{\"path\":\"src/main.c\"}");
    check_parse("show my-file.c:7", "fs_read", "{\"path\":\"my-file.c\",\"start\":7}");
    /* The last separator is the one; a colon earlier belongs to the path. */
    check_parse("show a:b.c:3-4", "fs_read", "{\"path\":\"a:b.c\",\"start\":3,\"end\":4}");
    /* What follows a separator must fit the parameters' types, else it stays. */
    check_parse("show notes:v2.txt", "fs_read", "{\"path\":\"notes:v2.txt\"}");
    check_parse("show x.c:1-y", "fs_read", "{\"path\":\"x.c:1-y\"}");
    check_parse("show x.c:", "fs_read", "{\"path\":\"x.c:\"}");
    check_parse("show 'my file.c:2-3'", "fs_read",
                "{\"path\":\"my file.c\",\"start\":2,\"end\":3}");
    check_parse_fails("show", ER_EINVAL, "missing PATH; usage: show PATH[:START[-END]]");
    check_parse_fails("show a.c:1 b", ER_EINVAL, "unexpected 'b'");
    /* An optional word with a suffix, followed by more words. */
    check_parse("probe", "net_probe", "{}");
    check_parse("probe example.com:8080 hello there", "net_probe",
                "{\"host\":\"example.com\",\"port\":8080,\"note\":\"hello there\"}");
    check_parse("probe [::1]:80", "net_probe", "{\"host\":\"[::1]\",\"port\":80}");
    check_parse("probe localhost x", "net_probe", "{\"host\":\"localhost\",\"note\":\"x\"}");
    /* Malformed suffixes are bugs in the tool table. */
    const char *bad_forms[] = { "bad PATH[x", "bad PATH[:start]", "bad PATH[:START",
                                "bad PATH[:A[:B[:C[:D]]]]" };
    for (size_t i = 0; i < ER_ARRAY_LEN(bad_forms); i++) {
        const er_tool bad = { "bad",
                              "",
                              "{\"properties\":{\"path\":{},\"a\":{},\"b\":{},\"c\":{},"
                              "\"d\":{},\"start\":{}}}",
                              ER_PERM_READ,
                              bad_forms[i],
                              NULL,
                              false };
        const er_tool *t;
        cJSON *a;
        er_error err = { 0 };
        CHECK_INT(er_offline_parse_command(&bad, 1, "bad x", &t, &a, &err), ER_EINTERNAL);
        CHECK(strstr(err.msg, "malformed suffix") != NULL);
    }
}

/* ---- answers ---- */

static cJSON *messages(const char *const *pairs, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i + 1 < n; i += 2) {
        cJSON *m = cJSON_CreateObject();
        er_json_add_str(m, "role", pairs[i]);
        er_json_add_str(m, "content", pairs[i + 1]);
        if (strcmp(pairs[i], "tool") == 0) {
            er_json_add_str(m, "tool_call_id", "offline-1");
            er_json_add_str(m, "name", "fs_grep");
        }
        er_json_append(arr, m);
    }
    return arr;
}

static int answer(const char *const *pairs, size_t n, er_llm_request *req, er_llm_response *out,
                  er_error *err)
{
    cJSON *msgs = messages(pairs, n);
    req->messages = msgs;
    int rc = er_offline_answer(tools, NTOOLS, er_agents, req, out, err);
    req->messages = NULL;
    cJSON_Delete(msgs);
    return rc;
}

static void test_answer_command(void)
{
    er_llm_request req = { .system = "You are the code agent." };
    er_llm_response out;
    er_error err = { 0 };
    const char *convo[] = { "user", "hello", "assistant", "hi", "user", "grep TODO src" };
    CHECK_OK(answer(convo, 6, &req, &out, &err));
    CHECK_INT(out.ncalls, 1);
    if (out.ncalls == 1) {
        CHECK_STR(out.calls[0].id, "offline-1");
        CHECK_STR(out.calls[0].name, "fs_grep");
        CHECK_STR(out.calls[0].arguments, "{\"pattern\":\"TODO\",\"path\":\"src\"}");
    }
    CHECK_STR(out.text, "");
    CHECK_STR(out.stop_reason, "tool_calls");
    CHECK_STR(out.model, "offline");
    CHECK_INT(out.usage.input_tokens, 5 + 1 + 1 + 3); /* system, three messages */
    CHECK_INT(out.usage.output_tokens, 1);            /* the arguments, one word */
    er_llm_response_release(&out);
    /* ... but the words of a command that changes something are its own. */
    const char *run[] = { "user", "run ls --json" };
    CHECK_OK(answer(run, 2, &req, &out, &err));
    CHECK_INT(out.ncalls, 1);
    if (out.ncalls == 1)
        CHECK_STR(out.calls[0].arguments, "{\"command\":\"ls --json\"}");
    er_llm_response_release(&out);
}

static void check_help(const char *text)
{
    for (size_t i = 0; i < NTOOLS; i++)
        if (tools[i].offline)
            CHECK(strstr(text, tools[i].offline) != NULL);
    CHECK(strstr(text, "Only for models") == NULL);
    CHECK(strstr(text, "Search files for a regular expression\n") != NULL);
    /* A long first sentence is whole, wrapped under the descriptions. */
    CHECK(strstr(text, "Connect to a port of a host") != NULL);
    CHECK(strstr(text, "accepted") != NULL);
    CHECK(strstr(text, "answered") != NULL);
    CHECK(strstr(text, "was...") == NULL);
    for (const char *l = text; *l;) {
        size_t len = strcspn(l, "\n");
        CHECK(len <= 110); /* the last line of help names a URL */
        l += len + (l[len] == '\n');
    }
    CHECK(strstr(text, "ERRAND_LLM=openai") != NULL);
    CHECK(strstr(text, "OPENAI_API_KEY") != NULL);
    CHECK(strstr(text, "ERRAND_LLM=anthropic") != NULL);
    CHECK(strstr(text, "ANTHROPIC_API_KEY") != NULL);
    CHECK(strstr(text, "OPENAI_BASE_URL=http://127.0.0.1:11434/v1") != NULL);
}

static void test_answer_help(void)
{
    er_llm_request req = { 0 };
    er_llm_response out;
    er_error err = { 0 };
    const char *unknown[] = { "user", "please find the bug in parser.c" };
    CHECK_OK(answer(unknown, 2, &req, &out, &err));
    CHECK_INT(out.ncalls, 0);
    CHECK_STR(out.stop_reason, "stop");
    check_help(out.text);
    CHECK(out.usage.output_tokens > 20);
    er_llm_response_release(&out);

    const char *bad[] = { "user", "grep a b ten" };
    CHECK_OK(answer(bad, 2, &req, &out, &err));
    CHECK_INT(out.ncalls, 0);
    CHECK(strncmp(out.text, "fs_grep: MAX_RESULTS must be an integer", 39) == 0);
    /* A typo gets its usage, not the whole help again. */
    CHECK(strstr(out.text, "(help lists the commands; ") != NULL);
    CHECK(strstr(out.text, "ERRAND_LLM=openai") == NULL);
    er_llm_response_release(&out);

    /* The command's --json is not an argument. */
    const char *json[] = { "user", "grep TODO src --json" };
    CHECK_OK(answer(json, 2, &req, &out, &err));
    CHECK_INT(out.ncalls, 1);
    if (out.ncalls == 1)
        CHECK_STR(out.calls[0].arguments, "{\"pattern\":\"TODO\",\"path\":\"src\"}");
    er_llm_response_release(&out);

    const char *after_assistant[] = { "user", "grep x", "assistant", "done" };
    CHECK_OK(answer(after_assistant, 4, &req, &out, &err));
    CHECK_INT(out.ncalls, 0);
    check_help(out.text);
    er_llm_response_release(&out);

    CHECK_INT(answer(NULL, 0, &req, &out, &err), ER_EINVAL);
    CHECK(out.text == NULL && out.calls == NULL);
}

static void check_result_of(const char *command, const char *content, const char *want)
{
    er_llm_request req = { 0 };
    er_llm_response out;
    er_error err = { 0 };
    const char *convo[] = { "user", command, "tool", content };
    CHECK_OK(answer(convo, 4, &req, &out, &err));
    CHECK_INT(out.ncalls, 0);
    CHECK_STR(out.stop_reason, "stop");
    CHECK_STR(out.text, want);
    er_llm_response_release(&out);
}

/* With --json: pretty JSON, long texts as text after it. */
static void check_result(const char *content, const char *want)
{
    check_result_of("grep x --json", content, want);
}

static void test_answer_result_text(void)
{
    /* Single values as aligned lines, lists of objects as tables. */
    check_result_of(
        "ls",
        "{\"path\":\".\",\"entries\":[{\"name\":\"d\",\"type\":\"dir\"},"
        "{\"name\":\"f.txt\",\"type\":\"file\",\"size\":6},"
        "{\"name\":\"x.csv\",\"type\":\"file\",\"size\":1200}],"
        "\"count\":3,\"truncated\":false,\"hidden_skipped\":0,\"why\":null}",
        "path:           .\ncount:          3\ntruncated:      no\nhidden skipped: 0\n\n"
        "entries:\n  NAME   TYPE  SIZE\n  d      dir\n  f.txt  file     6\n"
        "  x.csv  file  1200");
    /* Short lists on one line, empty ones "none", fractions to 6 digits;
     * texts of several lines as text, control characters as '?'. */
    check_result_of("show a.c",
                    "{\"ran\":[\"gcc\",\"cppcheck\"],\"found\":[],\"mean\":1.4142135,"
                    "\"content\":\"  1\\tint x;\\n  2\\t\\u001b[31mred\\n\"}",
                    "ran:   gcc, cppcheck\nfound: none\nmean:  1.41421\n\ncontent:\n  1\tint x;\n"
                    "  2\t?[31mred");
    /* A table too wide for a line: a block of lines per row; nested objects
     * indented under their name, lists of objects in a cell as k=v. */
    check_result_of(
        "describe t",
        "{\"columns\":[{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
        "\"h\":8,\"i\":9}],\"top\":{\"v\":[{\"x\":1,\"y\":[{\"k\":1,\"n\":2}]}]}}",
        "columns:\n  a: 1\n  b: 2\n  c: 3\n  d: 4\n  e: 5\n  f: 6\n  g: 7\n  h: 8\n  i: 9\n"
        "\ntop:\n\n  v:\n    X  Y\n    1  k=1 n=2");
    /* --json is the flag only as a word of its own at the end. */
    check_result_of("grep x--json", "{\"n\":1}", "n: 1");
    check_result_of("grep x --json  ", "{\"n\":1}", "{\n  \"n\": 1\n}");
}

static void test_answer_result(void)
{
    check_result("{\"matches\":[{\"file\":\"a.c\",\"line\":3}],\"n\":1}",
                 "{\n  \"matches\": [{\n      \"file\": \"a.c\",\n      \"line\": 3\n    }],\n"
                 "  \"n\": 1\n}");
    check_result("  a.c:3: TODO fix\n\n", "a.c:3: TODO fix");
    check_result("\"just a JSON string\"", "\"just a JSON string\"");
    check_result("{not json", "{not json");
    check_result(" \n", "fs_grep finished with no output.");
    /* Texts of several lines are shown as text after the rest, control
     * characters other than tab and newline as '?'. */
    check_result("{\"path\":\"a.c\","
                 "\"content\":\"  1\\tint x;\\n  2\\t\\u001b[31mred\\n\",\"n\":2}",
                 "{\n  \"path\": \"a.c\",\n  \"n\": 2\n}\n\ncontent:\n  1\tint x;\n  2\t?[31mred");
    check_result("{\"stdout\":\"a\\nb\",\"stderr\":\"c\\n\"}", "stdout:\na\nb\n\nstderr:\nc");
    /* Lists of strings: on one line when they fit, else one a line. */
    check_result("{\"ran\":[\"gcc\",\"cppcheck\"]}", "{\n  \"ran\": [\"gcc\", \"cppcheck\"]\n}");
    check_result("{\"matches\":[\"src/a_rather_long_file_name.c:10:first matching line\","
                 "\"src/b.c:20:second matching line\"],\"count\":2}",
                 "{\n  \"count\": 2\n}\n\nmatches:\n  src/a_rather_long_file_name.c:10:first "
                 "matching line\n  src/b.c:20:second matching line");

    /* Long output is elided at a line end, saying how much was left out. */
    er_buf big = ER_BUF_INIT;
    while (big.len < 3 * ER_OFFLINE_RESULT_MAX)
        er_buf_printf(&big, "line %zu of a long listing\n", big.len);
    er_llm_request req = { 0 };
    er_llm_response out;
    er_error err = { 0 };
    const char *convo[] = { "tool", big.ptr };
    CHECK_OK(answer(convo, 2, &req, &out, &err));
    size_t len = strlen(out.text);
    CHECK(len > ER_OFFLINE_RESULT_MAX / 2 && len < ER_OFFLINE_RESULT_MAX + 64);
    const char *tail = strstr(out.text, "\n... (");
    CHECK(tail != NULL);
    CHECK(tail && strstr(tail, "more bytes not shown") != NULL);
    CHECK(strncmp(out.text, big.ptr, (size_t)(tail - out.text)) == 0);
    er_llm_response_release(&out);

    /* One enormous line of two-byte characters is cut between characters. */
    er_buf_reset(&big);
    er_buf_putc(&big, 'x'); /* so that the cap falls inside a character */
    while (big.len < 2 * ER_OFFLINE_RESULT_MAX)
        er_buf_puts(&big, "\xc3\xa9");
    convo[1] = big.ptr;
    CHECK_OK(answer(convo, 2, &req, &out, &err));
    tail = strstr(out.text, "\n... (");
    CHECK(tail && (tail - out.text) % 2 == 1 && tail - out.text >= ER_OFFLINE_RESULT_MAX - 3);
    er_llm_response_release(&out);
    er_buf_release(&big);
}

static void test_answer_route(void)
{
    er_llm_request req = { .tool_choice = "route" };
    er_llm_response out;
    er_error err = { 0 };
    const char *single[] = { "user", "plot revenue by month from sales.csv", "assistant", "ok",
                             "user", "take a screenshot of example.com" };
    CHECK_OK(answer(single, 6, &req, &out, &err));
    CHECK_INT(out.ncalls, 1);
    CHECK_STR(out.stop_reason, "tool_calls");
    cJSON *args = NULL;
    if (out.ncalls == 1) {
        CHECK_STR(out.calls[0].name, "route");
        CHECK_STR(out.calls[0].id, "offline-1");
        CHECK_OK(
            er_json_parse(&args, out.calls[0].arguments, strlen(out.calls[0].arguments), &err));
    }
    const cJSON *steps = er_json_arr(args, "steps");
    CHECK_INT(cJSON_GetArraySize(steps), 1);
    const cJSON *s0 = cJSON_GetArrayItem(steps, 0);
    CHECK_STR(er_json_str(s0, "agent"), "browser");
    CHECK_STR(er_json_str(s0, "request"), "take a screenshot of example.com");
    CHECK_INT(er_json_num(s0, "depends_on", 99), -1);
    CHECK_STR(er_json_str(args, "method"), "naive-bayes");
    const cJSON *scores = er_json_obj(args, "scores"), *sc;
    double sum = 0;
    cJSON_ArrayForEach(sc, scores) sum += sc->valuedouble;
    CHECK_INT(cJSON_GetArraySize(scores), 5);
    CHECK(sum > 0.99 && sum < 1.01);
    double conf = er_json_num(args, "confidence", -1);
    CHECK(conf > 0.5 && conf <= 1);
    CHECK(conf == er_json_num(scores, "browser", -2));
    cJSON_Delete(args);
    er_llm_response_release(&out);
}

static void test_answer_route_compound(void)
{
    er_llm_request req = { .tool_choice = "route" };
    er_llm_response out;
    er_error err = { 0 };
    const char *two[] = { "user",
                          "summarise https://example.com/article and email it to bob@example.com" };
    CHECK_OK(answer(two, 2, &req, &out, &err));
    cJSON *args = NULL;
    if (out.ncalls == 1)
        CHECK_OK(
            er_json_parse(&args, out.calls[0].arguments, strlen(out.calls[0].arguments), &err));
    const cJSON *steps = er_json_arr(args, "steps");
    CHECK_INT(cJSON_GetArraySize(steps), 2);
    const cJSON *s0 = cJSON_GetArrayItem(steps, 0), *s1 = cJSON_GetArrayItem(steps, 1);
    CHECK_STR(er_json_str(s0, "agent"), "research");
    CHECK_STR(er_json_str(s0, "request"), "summarise https://example.com/article");
    CHECK_INT(er_json_num(s0, "depends_on", 99), -1);
    CHECK_STR(er_json_str(s1, "agent"), "email");
    CHECK_STR(er_json_str(s1, "request"), "email it to bob@example.com");
    CHECK_INT(er_json_num(s1, "depends_on", 99), 0);
    double c0 = er_json_num(s0, "confidence", -1), c1 = er_json_num(s1, "confidence", -1);
    CHECK(er_json_num(args, "confidence", -1) == (c0 < c1 ? c0 : c1));
    cJSON_Delete(args);
    er_llm_response_release(&out);

    const char *none[] = { "assistant", "hello" };
    CHECK_INT(answer(none, 2, &req, &out, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "no user message") != NULL);
}

/* A whole plain command goes to the agent whose tools have it (the registry's
 * code tools here), whatever the classifier would guess. */
static void test_answer_route_command(void)
{
    er_llm_request req = { .tool_choice = "route" };
    er_llm_response out;
    er_error err = { 0 };
    const char *lines[] = { "show notes.txt:1-5", "  grep invoice mail ", "lint" };
    const char *want[] = { "show notes.txt:1-5", "grep invoice mail", "lint" };
    for (size_t i = 0; i < ER_ARRAY_LEN(lines); i++) {
        const char *msg[] = { "user", lines[i] };
        CHECK_OK(answer(msg, 2, &req, &out, &err));
        cJSON *args = NULL;
        if (out.ncalls == 1)
            CHECK_OK(
                er_json_parse(&args, out.calls[0].arguments, strlen(out.calls[0].arguments), &err));
        CHECK_STR(er_json_str(args, "method"), "command");
        CHECK(er_json_num(args, "confidence", 0) == 1);
        CHECK_INT(cJSON_GetArraySize(er_json_obj(args, "scores")), 5);
        const cJSON *steps = er_json_arr(args, "steps");
        CHECK_INT(cJSON_GetArraySize(steps), 1);
        CHECK_STR(er_json_str(cJSON_GetArrayItem(steps, 0), "agent"), "code");
        CHECK_STR(er_json_str(cJSON_GetArrayItem(steps, 0), "request"), want[i]);
        cJSON_Delete(args);
        er_llm_response_release(&out);
    }
    /* Not a whole command (grep takes two words): the classifier splits it. */
    const char *compound[] = { "user", "grep TODO src and email it to bob@example.com" };
    CHECK_OK(answer(compound, 2, &req, &out, &err));
    CHECK(out.ncalls == 1 && strstr(out.calls[0].arguments, "\"naive-bayes\"") != NULL);
    CHECK(out.ncalls == 1 && strstr(out.calls[0].arguments, "\"email\"") != NULL);
    er_llm_response_release(&out);
}

/* Lines that fit a form but read as English prose are not commands. */
static void test_reads_as_prose(void)
{
    static const struct {
        const er_tool *tool;
        const char *line;
        bool prose;
    } cases[] = {
        { &tools[0], "grep invoice mail", false },
        { &tools[0], "grep the mail", true }, /* the first argument word */
        { &tools[1], "run make -j2 all", false },
        { &tools[1], "run the numbers", true },
        { &tools[1], "run echo it works", false }, /* one prose word, not first */
        { &tools[1], "run lighthouse on my site and tell me the score", true }, /* two */
        { &tools[1], "run \"the\" 'my site'", false }, /* quoted words are values */
        { &tools[1], "run select a from t where b in (1, 2) and c = 'x'", false },
        { &tools[1], "run This, please", true },   /* any case, punctuation dropped */
        { &tools[3], "git commit fix it", false }, /* "commit" is the form's literal */
        { &tools[0], "grep", false },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(cases); i++) {
        if (er_offline_reads_as_prose(cases[i].tool, cases[i].line) != cases[i].prose)
            fprintf(stderr, "prose? '%s'\n", cases[i].line);
        CHECK(er_offline_reads_as_prose(cases[i].tool, cases[i].line) == cases[i].prose);
    }
}

/* A short request that happens to fit a form (the registry's code and data
 * tools) goes where the classifier sends it; the command itself still routes
 * without guessing. */
static void test_answer_route_prose(void)
{
    er_llm_request req = { .tool_choice = "route" };
    er_llm_response out;
    er_error err = { 0 };
    static const char *const cases[][3] = {
        { "describe the code", "naive-bayes", "code" },
        { "load the page", "naive-bayes", "browser" },
        { "write an email to bob", "naive-bayes", "email" },
        { "describe this function", "naive-bayes", "code" },
        { "describe sales", "command", "data" },
        { "load sales.csv", "command", "data" },
        { "chart bar sales region revenue", "command", "data" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(cases); i++) {
        const char *msg[] = { "user", cases[i][0] };
        CHECK_OK(answer(msg, 2, &req, &out, &err));
        cJSON *args = NULL;
        if (out.ncalls == 1)
            CHECK_OK(
                er_json_parse(&args, out.calls[0].arguments, strlen(out.calls[0].arguments), &err));
        const cJSON *step = cJSON_GetArrayItem(er_json_arr(args, "steps"), 0);
        if (!er_str_eq(er_json_str(args, "method"), cases[i][1]) ||
            !er_str_eq(er_json_str(step, "agent"), cases[i][2]))
            fprintf(stderr, "route '%s': %s by %s\n", cases[i][0], er_json_str(step, "agent"),
                    er_json_str(args, "method"));
        CHECK_STR(er_json_str(args, "method"), cases[i][1]);
        CHECK_STR(er_json_str(step, "agent"), cases[i][2]);
        cJSON_Delete(args);
        er_llm_response_release(&out);
    }
}

typedef struct stream_sink {
    er_buf text;
    int chunks;
    volatile int *cancel_after_first;
} stream_sink;

static void on_token(const char *text, size_t len, void *payload)
{
    stream_sink *s = payload;
    er_buf_append(&s->text, text, len);
    s->chunks++;
    if (s->cancel_after_first)
        *s->cancel_after_first = 1;
}

static void test_streaming(void)
{
    stream_sink sink = { ER_BUF_INIT, 0, NULL };
    er_llm_request req = { .stream = true, .on_token = on_token, .payload = &sink };
    er_llm_response out;
    er_error err = { 0 };
    const char *unknown[] = { "user", "what can you do?" };
    CHECK_OK(answer(unknown, 2, &req, &out, &err));
    CHECK_STR(er_buf_cstr(&sink.text), out.text);
    CHECK(sink.chunks >= 2); /* the help text is longer than one chunk */
    CHECK(sink.chunks <= 8);
    er_llm_response_release(&out);

    /* A tool call streams no text. */
    er_buf_reset(&sink.text);
    sink.chunks = 0;
    const char *cmd[] = { "user", "grep x" };
    CHECK_OK(answer(cmd, 2, &req, &out, &err));
    CHECK_INT(sink.chunks, 0);
    er_llm_response_release(&out);

    /* Cancelled before: nothing happens; cancelled while streaming: stops. */
    volatile int cancel = 1;
    req.cancel = &cancel;
    CHECK_INT(answer(unknown, 2, &req, &out, &err), ER_ECANCELLED);
    cancel = 0;
    sink.chunks = 0;
    sink.cancel_after_first = &cancel;
    CHECK_INT(answer(unknown, 2, &req, &out, &err), ER_ECANCELLED);
    CHECK_INT(sink.chunks, 1);
    CHECK(out.text == NULL);
    er_buf_release(&sink.text);
}

/* The backend struct itself: open, chat, ping, close, with the empty registry. */
static void test_backend(void)
{
    const er_llm_backend *be = &er_llm_offline_backend;
    CHECK_STR(be->name, "offline");
    CHECK_INT(be->version, ER_LLM_BACKEND_VERSION);
    er_llm *llm = NULL;
    er_error err = { 0 };
    CHECK_OK(be->open(&llm, NULL, &err));
    CHECK(llm && llm->be == be);
    llm->agents = er_agents; /* what er_llm_open does with the agents it is given */
    CHECK_OK(be->ping(llm, &err));

    cJSON *specs = cJSON_CreateArray();
    const char *names[] = { "write_todos", "task", "fs_grep" };
    for (size_t i = 0; i < ER_ARRAY_LEN(names); i++) {
        cJSON *s = cJSON_CreateObject();
        er_json_add_str(s, "name", names[i]);
        er_json_append(specs, s);
    }
    cJSON *msgs = messages((const char *[]){ "user", "grep TODO" }, 2);
    er_llm_request req = { .messages = msgs, .tools = specs };
    er_llm_response out;
    CHECK_OK(be->chat(llm, &req, &out, &err));
    CHECK_INT(out.ncalls, 0); /* fs_grep is not registered in this build */
    CHECK(out.text && strstr(out.text, "No commands are available offline") != NULL);
    /* ... but says which commands do work, and where they go. */
    CHECK(out.text && strstr(out.text, "Plain commands go to the code agent:") != NULL);
    CHECK(out.text && strstr(out.text, "  grep PATTERN [PATH]") != NULL);
    er_llm_response_release(&out);

    req.tool_choice = "route";
    CHECK_OK(be->chat(llm, &req, &out, &err));
    CHECK_INT(out.ncalls, 1);
    CHECK(out.ncalls && strstr(out.calls[0].arguments, "\"agent\":\"code\"") != NULL);
    CHECK(out.ncalls && strstr(out.calls[0].arguments, "\"method\":\"command\"") != NULL);
    er_llm_response_release(&out);

    /* Given no agents, the backend knows none: no command routing, no
     * commands of other agents in the help (it reads no registry itself). */
    llm->agents = NULL;
    CHECK_OK(be->chat(llm, &req, &out, &err));
    CHECK(out.ncalls && strstr(out.calls[0].arguments, "\"method\":\"naive-bayes\"") != NULL);
    er_llm_response_release(&out);
    req.tool_choice = NULL;
    CHECK_OK(be->chat(llm, &req, &out, &err));
    CHECK(out.text && strstr(out.text, "No commands are available offline") != NULL);
    CHECK(out.text && strstr(out.text, "Plain commands go to") == NULL);
    er_llm_response_release(&out);
    cJSON_Delete(msgs);
    cJSON_Delete(specs);
    be->close(llm);
}

int main(void)
{
    test_parse_words();
    test_parse_rest_and_literals();
    test_parse_types();
    test_parse_errors();
    test_parse_suffixes();
    test_answer_command();
    test_answer_help();
    test_answer_result();
    test_answer_result_text();
    test_answer_route();
    test_answer_route_compound();
    test_answer_route_command();
    test_reads_as_prose();
    test_answer_route_prose();
    test_streaming();
    test_backend();
    return check_done();
}
