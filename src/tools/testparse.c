/* testparse.c — reading test runners' output: how many passed and failed, and
 * which tests failed with what output.  One parser per runner (pytest,
 * unittest, ctest, go test, cargo test, TAP from node --test; for a command
 * we cannot place, like make test, the first of them to find counts) and a generic
 * one (a plain "N passed, N failed" line, FAIL lines) that every parser falls
 * back to when it finds no summary.  Pure functions over captured text,
 * checked against real output saved in tests/data/tools/. */
#include "errand/tool_families.h"
#include "errand/json.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define FAILURES_MAX        50
#define FAILURE_OUTPUT_KEEP 4000
/* Counts read from the output are capped, so that adding and subtracting
 * them cannot overflow (no suite runs a billion tests). */
#define COUNT_MAX 1000000000L

typedef struct text {
    char *copy;
    char **L;
    size_t n;
} text;

typedef struct summary {
    long passed, failed; /* -1: unknown */
    cJSON *failures;
} summary;

static void text_split(text *t, const char *s)
{
    t->copy = er_xstrdup(s ? s : "");
    size_t cap = 64;
    t->L = er_xmalloc(cap * sizeof *t->L);
    t->n = 0;
    for (char *p = t->copy; p;) {
        char *nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
            if (nl > p && nl[-1] == '\r')
                nl[-1] = '\0';
        }
        if (t->n == cap)
            t->L = er_xrealloc(t->L, (cap *= 2) * sizeof *t->L);
        t->L[t->n++] = p;
        p = nl ? nl + 1 : NULL;
    }
}

static void text_free(text *t)
{
    free(t->L);
    free(t->copy);
}

/* Adds a failure whose output is lines [from, to) joined. */
static void add_failure(summary *s, const char *name, size_t nlen, const text *t, size_t from,
                        size_t to)
{
    if (cJSON_GetArraySize(s->failures) >= FAILURES_MAX)
        return;
    er_buf out = ER_BUF_INIT;
    for (size_t i = from; i < to && i < t->n; i++) {
        er_buf_puts(&out, t->L[i]);
        er_buf_putc(&out, '\n');
    }
    cJSON *f = cJSON_CreateObject();
    er_tools_add_text(f, "name", name, nlen, 500);
    er_tools_add_text(f, "output", out.ptr, out.len, FAILURE_OUTPUT_KEEP);
    er_json_append(s->failures, f);
    er_buf_release(&out);
}

/* The number at p, as a count: 0 .. COUNT_MAX; *end (when not NULL) is set
 * as by strtol. */
static long count_at(const char *p, char **end)
{
    long v = strtol(p, end, 10);
    return v < 0 ? 0 : v > COUNT_MAX ? COUNT_MAX : v;
}

/* "N word" pairs like "2 failed, 1 passed": the count before word, or -1. */
static long count_before(const char *line, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = strstr(line, word); p; p = strstr(p + 1, word)) {
        if (p - line < 2 || p[-1] != ' ' || !isdigit((unsigned char)p[-2]))
            continue;
        if (isalpha((unsigned char)p[wl]))
            continue;
        const char *d = p - 2;
        while (d > line && isdigit((unsigned char)d[-1]))
            d--;
        return count_at(d, NULL);
    }
    return -1;
}

static long nz(long v)
{
    return v < 0 ? 0 : v;
}

/* ---- generic: "N passed, N failed" alone on a line; FAIL lines ---- */

static bool plain_summary(const char *line, long *passed, long *failed)
{
    const char *p = line;
    const char *colon = strchr(p, ':');
    if (colon && !strchr(colon + 1, ':') && colon - p < 40) /* "Summary: 2 passed, ..." */
        p = colon + 1;
    while (*p == ' ')
        p++;
    char *end;
    long a = count_at(p, &end);
    if (end == p || !er_str_starts(end, " passed, "))
        return false;
    p = end + 9;
    long b = count_at(p, &end);
    if (end == p || !er_str_starts(end, " failed"))
        return false;
    end += 7;
    if (*end && !er_str_starts(end, ", "))
        return false;
    *passed = a;
    *failed = b;
    return true;
}

static void parse_generic(summary *s, const text *t)
{
    for (size_t i = 0; i < t->n; i++) {
        long p, f;
        if (plain_summary(t->L[i], &p, &f)) {
            s->passed = p;
            s->failed = f;
        }
    }
    for (size_t i = 0; i < t->n; i++)
        if (er_str_starts(t->L[i], "FAIL") || er_str_starts(t->L[i], "not ok "))
            add_failure(s, t->L[i], strlen(t->L[i]), t, i, i + 1);
}

/* ---- pytest ---- */

static bool is_sep_title(const char *line, char c, const char **title, size_t *tlen)
{
    size_t lead = strspn(line, (char[]){ c, 0 });
    size_t len = strlen(line);
    if (lead < 3 || len < lead + 2 || line[len - 1] != c || line[lead] != ' ')
        return false;
    size_t trail = 0;
    while (trail < len && line[len - 1 - trail] == c)
        trail++;
    *title = line + lead + 1;
    *tlen = len - lead - trail - 2;
    return trail >= 3 && len > lead + trail + 2;
}

/* pytest titles the failure of "tests/t.py::Class::test" as "Class.test". OWNED. */
static char *pytest_title(const char *nodeid, size_t idlen)
{
    const char *p = nodeid, *end = nodeid + idlen;
    for (const char *q = nodeid; q + 1 < end; q++) {
        if (q[0] == ':' && q[1] == ':') {
            p = q + 2;
            break;
        }
    }
    er_buf b = ER_BUF_INIT;
    while (p < end) {
        if (p + 1 < end && p[0] == ':' && p[1] == ':') {
            er_buf_putc(&b, '.');
            p += 2;
        } else {
            er_buf_putc(&b, *p++);
        }
    }
    if (!b.ptr)
        er_buf_puts(&b, "");
    return er_buf_detach(&b);
}

/* Adds the failure of nodeid with its "___ title ___" block from FAILURES. */
static void pytest_failure(summary *s, const text *t, const char *nodeid, size_t idlen)
{
    char *want = pytest_title(nodeid, idlen);
    size_t from = 0, to = 0;
    for (size_t i = 0; i < t->n && !to; i++) {
        const char *title;
        size_t tl;
        bool sep = is_sep_title(t->L[i], '_', &title, &tl);
        if (from && (sep || t->L[i][0] == '='))
            to = i;
        else if (!from && sep && tl == strlen(want) && strncmp(title, want, tl) == 0)
            from = i + 1;
    }
    add_failure(s, nodeid, idlen, t, from, from ? (to ? to : t->n) : 0);
    free(want);
}

/* "2 failed, 1 passed in 0.02s", maybe between rows of '='. */
static bool pytest_summary(const char *l)
{
    l += strspn(l, "= ");
    return (isdigit((unsigned char)*l) || er_str_starts(l, "no tests ran")) && strstr(l, " in ") &&
           (strstr(l, " passed") || strstr(l, " failed") || strstr(l, " error") ||
            strstr(l, " skipped") || strstr(l, "no tests ran"));
}

static void parse_pytest(summary *s, const text *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *l = t->L[i];
        if (pytest_summary(l)) {
            long p = count_before(l, "passed"), f = count_before(l, "failed");
            long e = count_before(l, "error"), e2 = count_before(l, "errors");
            s->passed = nz(p);
            s->failed = nz(f) + nz(e) + nz(e2);
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        const char *l = t->L[i];
        const char *id = er_str_starts(l, "FAILED ")  ? l + 7
                         : er_str_starts(l, "ERROR ") ? l + 6
                                                      : NULL;
        if (!id)
            continue;
        const char *dash = strstr(id, " - ");
        pytest_failure(s, t, id, dash ? (size_t)(dash - id) : strlen(id));
    }
}

/* ---- unittest ---- */

static bool is_rule(const char *l, char c)
{
    return strlen(l) >= 20 && strspn(l, (char[]){ c, 0 }) == strlen(l);
}

/* The number after key in "FAILED (failures=1, errors=2)", 0 when absent;
 * "failures=" does not match inside "expected failures=". */
static long field(const char *l, const char *key)
{
    for (const char *p = strstr(l, key); p; p = strstr(p + 1, key))
        if (p > l && (p[-1] == '(' || (p - l >= 2 && p[-1] == ' ' && p[-2] == ',')))
            return count_at(p + strlen(key), NULL);
    return 0;
}

static void parse_unittest(summary *s, const text *t)
{
    long ran = -1;
    for (size_t i = 0; i < t->n; i++) {
        const char *l = t->L[i];
        if (er_str_starts(l, "Ran ") && strstr(l, " test"))
            ran = count_at(l + 4, NULL);
        if (ran >= 0 && (er_str_starts(l, "OK") || er_str_starts(l, "FAILED"))) {
            long fails =
                field(l, "failures=") + field(l, "errors=") + field(l, "unexpected successes=");
            s->failed = fails;
            s->passed = ran - fails - field(l, "skipped=") - field(l, "expected failures=");
        }
    }
    for (size_t i = 0; i + 1 < t->n; i++) {
        const char *l = t->L[i];
        if (!is_rule(l, '=') ||
            !(er_str_starts(t->L[i + 1], "FAIL: ") || er_str_starts(t->L[i + 1], "ERROR: ")))
            continue;
        const char *name = strchr(t->L[i + 1], ' ') + 1;
        const char *paren = strchr(name, '(');
        const char *close = paren ? strchr(paren, ')') : NULL;
        size_t j = i + 2 < t->n && is_rule(t->L[i + 2], '-') ? i + 3 : i + 2;
        size_t k = j;
        while (k < t->n && !is_rule(t->L[k], '=') && !is_rule(t->L[k], '-'))
            k++;
        if (paren && close)
            add_failure(s, paren + 1, (size_t)(close - paren - 1), t, j, k);
        else
            add_failure(s, name, strlen(name), t, j, k);
    }
}

/* ---- ctest ---- */

/* "2/4 Test #2: bad ......***Failed  0.01 sec": the name, and whether it failed. */
static bool ctest_result(const char *l, const char **name, size_t *nlen, bool *failed)
{
    const char *p = strstr(l, " Test");
    if (!p || !isdigit((unsigned char)l[0]) || !(p = strstr(p, ": ")))
        return false;
    *name = p + 2;
    const char *dots = strstr(*name, " ..");
    if (!dots)
        return false;
    *nlen = (size_t)(dots - *name);
    *failed = strstr(dots, "***") != NULL || strstr(dots, "Not Run") != NULL;
    return strstr(dots, "Passed") || *failed;
}

static void parse_ctest(summary *s, const text *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *l = t->L[i];
        const char *q = strstr(l, "% tests passed, ");
        if (q && strstr(q, " out of ")) {
            long failed = count_at(q + 16, NULL);
            long total = count_at(strstr(q, " out of ") + 8, NULL);
            s->failed = failed;
            s->passed = total - failed;
        } else if (strstr(l, "No tests were found")) {
            s->passed = s->failed = 0;
        }
        const char *name;
        size_t nlen;
        bool failed;
        if (!ctest_result(l, &name, &nlen, &failed) || !failed)
            continue;
        size_t k = i + 1;
        while (k < t->n && !er_str_starts(t->L[k], "    Start ") &&
               !strstr(t->L[k], "% tests passed") &&
               !(isdigit((unsigned char)t->L[k][0]) && strstr(t->L[k], " Test")))
            k++;
        while (k > i + 1 && t->L[k - 1][0] == '\0')
            k--;
        add_failure(s, name, nlen, t, i + 1, k);
    }
}

/* ---- go test ---- */

static void go_failure(summary *s, const text *t, size_t at, const char *name, size_t nlen)
{
    /* With -v the test's output comes between "=== RUN   Name" and its
     * "--- FAIL"; without -v it follows, indented. */
    size_t from = at;
    for (size_t k = at; k > 0 && at - k < 200; k--) {
        const char *l = t->L[k - 1];
        if (er_str_starts(l, "=== RUN   ") && strncmp(l + 10, name, nlen) == 0 && !l[10 + nlen]) {
            from = k;
            break;
        }
        if (!isspace((unsigned char)l[0]) && !er_str_starts(l, "=== "))
            break;
    }
    size_t to = at + 1;
    while (to < t->n && isspace((unsigned char)t->L[to][0]))
        to++;
    add_failure(s, name, nlen, t, from, to);
}

static void parse_go(summary *s, const text *t)
{
    long passed = 0, failed = 0;
    bool any = false, verbose = false;
    for (size_t i = 0; i < t->n; i++) {
        const char *l = t->L[i];
        verbose |= er_str_starts(l, "=== RUN   ");
        if (er_str_starts(l, "--- PASS: ")) {
            passed++, any = true;
        } else if (er_str_starts(l, "--- FAIL: ")) {
            const char *name = l + 10, *sp = strchr(name, ' ');
            failed++, any = true;
            go_failure(s, t, i, name, sp ? (size_t)(sp - name) : strlen(name));
        } else if (er_str_starts(l, "FAIL\t") && strstr(l, "failed]")) {
            /* A package that did not build: its "# pkg" block holds the errors. */
            size_t from = i;
            while (from > 0 && i - from < 50 && !er_str_starts(t->L[from - 1], "# "))
                from--;
            bool found = from > 0 && er_str_starts(t->L[from - 1], "# ");
            failed++, any = true;
            add_failure(s, l + 5, strlen(l + 5), t, found ? from - 1 : i, i);
        }
    }
    if (any) {
        /* Without -v passing tests are not listed, only packages. */
        s->passed = verbose ? passed : -1;
        s->failed = failed;
    }
}

/* ---- cargo test ---- */

static void parse_cargo(summary *s, const text *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *l = t->L[i];
        if (er_str_starts(l, "test result: ")) {
            s->passed = nz(s->passed) + nz(count_before(l, "passed"));
            s->failed = nz(s->failed) + nz(count_before(l, "failed"));
        }
        if (!er_str_starts(l, "---- ") || !er_str_ends(l, " ----"))
            continue;
        const char *name = l + 5, *sp = strstr(name, " stdout ----");
        size_t k = i + 1;
        while (k < t->n && !er_str_starts(t->L[k], "---- ") && strcmp(t->L[k], "failures:") != 0)
            k++;
        add_failure(s, name, sp ? (size_t)(sp - name) : strlen(name) - 5, t, i + 1, k);
    }
}

/* ---- TAP (node --test) ---- */

static void parse_tap(summary *s, const text *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *l = t->L[i];
        if (er_str_starts(l, "# pass "))
            s->passed = count_at(l + 7, NULL);
        else if (er_str_starts(l, "# fail "))
            s->failed = count_at(l + 7, NULL);
        if (!er_str_starts(l, "not ok "))
            continue;
        const char *dash = strstr(l, " - ");
        const char *name = dash ? dash + 3 : l;
        size_t k = i + 1;
        while (k < t->n && isspace((unsigned char)t->L[k][0]))
            k++;
        add_failure(s, name, strlen(name), t, i + 1, k);
    }
}

/* ---- dispatch ---- */

static const struct {
    const char *name;
    void (*parse)(summary *s, const text *t);
} parsers[] = {
    { "pytest", parse_pytest },   { "unittest", parse_unittest }, { "ctest", parse_ctest },
    { "go", parse_go },           { "cargo", parse_cargo },       { "tap", parse_tap },
    { "generic", parse_generic },
};

const char *er_test_parser_for(const char *cmd)
{
    static const struct {
        const char *needle, *parser;
    } hints[] = {
        { "pytest", "pytest" }, { "unittest", "unittest" }, { "ctest", "ctest" },
        { "go test", "go" },    { "cargo test", "cargo" },  { "node --test", "tap" },
        { "npm test", "tap" },  { "npm run test", "tap" },
    };
    for (size_t i = 0; cmd && i < ER_ARRAY_LEN(hints); i++) {
        /* At a word start: "cargo test" is not "go test". */
        for (const char *p = strstr(cmd, hints[i].needle); p; p = strstr(p + 1, hints[i].needle))
            if (p == cmd || strchr(" \t;&|(/.", p[-1]))
                return hints[i].parser;
    }
    return "generic";
}

/* Runs parser i over t into a fresh *s; true when it found a summary (counts
 * or, unless need_counts, failures alone). */
static bool try_parser(summary *s, const text *t, size_t i, bool need_counts)
{
    *s = (summary){ -1, -1, cJSON_CreateArray() };
    parsers[i].parse(s, t);
    if (s->passed >= 0 || s->failed >= 0 || (!need_counts && cJSON_GetArraySize(s->failures) > 0))
        return true;
    cJSON_Delete(s->failures);
    return false;
}

cJSON *er_test_parse(const char *parser, const char *output)
{
    text t;
    text_split(&t, output);
    summary s = { -1, -1, NULL };
    const char *used = NULL;
    size_t generic = ER_ARRAY_LEN(parsers) - 1;
    for (size_t i = 0; i < generic && !used; i++)
        if (parser && strcmp(parsers[i].name, parser) == 0 && try_parser(&s, &t, i, false))
            used = parsers[i].name;
    /* A command we do not know (make test, a script) often runs a runner we
     * do: the first parser that finds its counts in the output says which. */
    bool unknown = !parser || strcmp(parser, "generic") == 0;
    for (size_t i = 0; i < generic && !used && unknown; i++)
        if (try_parser(&s, &t, i, true))
            used = parsers[i].name;
    if (!used) {
        s = (summary){ -1, -1, cJSON_CreateArray() };
        parse_generic(&s, &t);
        used = "generic";
    }
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "parser", used);
    er_json_add(o, "passed",
                s.passed >= 0 ? cJSON_CreateNumber((double)s.passed) : cJSON_CreateNull());
    er_json_add(o, "failed",
                s.failed >= 0 ? cJSON_CreateNumber((double)s.failed) : cJSON_CreateNull());
    er_json_add(o, "failures", s.failures);
    text_free(&t);
    return o;
}
