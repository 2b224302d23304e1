/* test_testrun.c — the test-output parsers on real captured output
 * (tests/data/tools/: pytest 7.2, unittest of Python 3.11, ctest 3.25,
 * go test of Go 1.19, cargo test of Rust 1.95, node 20's test runner via npm),
 * and the `test` tool on real projects: the debugger fixtures (a Makefile and
 * a unittest suite, before and after their documented one-line fixes) and a
 * small CMake/ctest project. */
#include "check.h"
#include "tools_util.h"
#include "errand/sandbox.h"
#include "errand/str.h"

static er_error err;

static cJSON *parse(const char *parser, const char *file)
{
    char *text = tu_data(file);
    cJSON *r = er_test_parse(parser, text);
    free(text);
    return r;
}

static void check_counts(const cJSON *r, int passed, int failed)
{
    CHECK_INT(er_json_num(r, "passed", -1), passed);
    CHECK_INT(er_json_num(r, "failed", -1), failed);
}

/* The failure named name (exactly), or NULL. */
static const cJSON *failure(const cJSON *r, const char *name)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, er_json_arr(r, "failures"))
    {
        if (er_str_eq(er_json_str(f, "name"), name))
            return f;
    }
    return NULL;
}

static void check_failure(const cJSON *r, const char *name, const char *in_output,
                          const char *not_in_output)
{
    const cJSON *f = failure(r, name);
    if (!f)
        fprintf(stderr, "no failure named '%s'\n", name);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(tu_contains(er_json_str(f, "output"), in_output));
    if (not_in_output)
        CHECK(!tu_contains(er_json_str(f, "output"), not_in_output));
}

static void test_python_parsers(void)
{
    cJSON *r = parse("pytest", "pytest.out");
    CHECK_STR(er_json_str(r, "parser"), "pytest");
    check_counts(r, 1, 2);
    CHECK_INT(cJSON_GetArraySize(er_json_arr(r, "failures")), 2);
    check_failure(r, "tests/test_calc.py::CalcTest::test_mul", "AssertionError: 7 != 6", "boom");
    check_failure(r, "tests/test_calc.py::CalcTest::test_error", "RuntimeError: boom", "7 != 6");
    cJSON_Delete(r);
    r = parse("pytest", "pytest_ok.out");
    check_counts(r, 1, 0);
    CHECK_INT(cJSON_GetArraySize(er_json_arr(r, "failures")), 0);
    cJSON_Delete(r);
    r = parse("unittest", "unittest.out");
    check_counts(r, 1, 2);
    check_failure(r, "test_calc.CalcTest.test_mul", "AssertionError: 7 != 6", "Ran 3");
    check_failure(r, "test_calc.CalcTest.test_error", "RuntimeError: boom", "7 != 6");
    cJSON_Delete(r);
    r = parse("unittest", "unittest_ok.out");
    check_counts(r, 1, 0);
    cJSON_Delete(r);
}

static void test_build_tool_parsers(void)
{
    cJSON *r = parse("ctest", "ctest.out");
    check_counts(r, 1, 3);
    check_failure(r, "bad", "expected 3, got 2", "Start");
    check_failure(r, "bad_too", "expected 3, got 2", NULL);
    CHECK(failure(r, "seg") != NULL);
    CHECK(!tu_contains(er_json_str(failure(r, "seg"), "output"), "tests passed"));
    cJSON_Delete(r);
    r = parse("go", "go_test.out");
    check_counts(r, 2, 2);
    check_failure(r, "TestMul", "Mul(2, 3) = 7, want 6", "neg broken");
    check_failure(r, "TestSub", "neg broken", "want 6");
    cJSON_Delete(r);
    r = parse("go", "go_test_short.out");
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "passed"))); /* no -v: unknown */
    CHECK_INT(er_json_num(r, "failed", -1), 2);
    check_failure(r, "TestMul", "Mul(2, 3) = 7, want 6", "neg broken");
    check_failure(r, "TestSub", "neg broken", "want 6");
    cJSON_Delete(r);
    r = parse("go", "go_test_build_fail.out");
    check_counts(r, 1, 1);
    check_failure(r, "example.com/calc [build failed]", "syntax error: unexpected }", NULL);
    cJSON_Delete(r);
    r = parse("cargo", "cargo_test.out");
    check_counts(r, 1, 1);
    check_failure(r, "tests::muls", "left: 7", "test result");
    cJSON_Delete(r);
    r = parse("cargo", "cargo_test_ok.out");
    check_counts(r, 3, 0); /* 2 unit tests + 1 doc test */
    cJSON_Delete(r);
    r = parse("tap", "npm_node_test.out");
    check_counts(r, 1, 1);
    check_failure(r, "muls", "6 !== 7", NULL);
    cJSON_Delete(r);
}

static void test_generic(void)
{
    cJSON *r =
        er_test_parse("generic", "cc -o t t.c\nFAIL: max_of({1, 2, 9}) = 2\n2 passed, 1 failed\n");
    check_counts(r, 2, 1);
    CHECK(failure(r, "FAIL: max_of({1, 2, 9}) = 2") != NULL);
    cJSON_Delete(r);
    r = er_test_parse("pytest", "something else entirely\n");
    CHECK_STR(er_json_str(r, "parser"), "generic");
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "passed")));
    cJSON_Delete(r);
    CHECK_STR(er_test_parser_for("python3 -m pytest -q"), "pytest");
    CHECK_STR(er_test_parser_for("cmake --build build && ctest --test-dir build"), "ctest");
    CHECK_STR(er_test_parser_for("make test"), "generic");
    CHECK_STR(er_test_parser_for("cargo test"), "cargo");
    CHECK_STR(er_test_parser_for("cd x && go test -v ./..."), "go");
    /* A command we cannot place (make test, a script) running a runner we
     * know: its output is read with that runner's parser. */
    static const struct {
        const char *file, *parser;
        int passed, failed;
    } known[] = {
        { "pytest.out", "pytest", 1, 2 },    { "unittest.out", "unittest", 1, 2 },
        { "ctest.out", "ctest", 1, 3 },      { "go_test.out", "go", 2, 2 },
        { "cargo_test.out", "cargo", 1, 1 }, { "npm_node_test.out", "tap", 1, 1 },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(known); i++) {
        r = parse("generic", known[i].file);
        CHECK_STR(er_json_str(r, "parser"), known[i].parser);
        check_counts(r, known[i].passed, known[i].failed);
        cJSON_Delete(r);
    }
    r = parse("generic", "unittest.out");
    check_failure(r, "test_calc.CalcTest.test_mul", "AssertionError: 7 != 6", "Ran 3");
    cJSON_Delete(r);
}

/* Absurd counts are capped instead of overflowing (found by reading the
 * parsers for fuzz_testparse; UBSan: signed integer overflow). */
static void test_huge_counts(void)
{
    cJSON *r = er_test_parse("unittest", "Ran 3 tests\n\nFAILED (failures=9223372036854775807, "
                                         "errors=9223372036854775807)\n");
    CHECK(er_json_num(r, "failed", -1) == 2e9);
    cJSON_Delete(r);
    r = er_test_parse("ctest", "50% tests passed, -9223372036854775808 tests failed out of "
                               "9223372036854775807\n");
    check_counts(r, 1000000000, 0);
    cJSON_Delete(r);
}

static char *copy_fixture(const char *name)
{
    char *ws = tu_tempdir("testrun");
    char *cmd = er_xasprintf("cp -R '%s/tests/fixtures/%s/.' '%s'", ERRAND_SOURCE_DIR, name, ws);
    CHECK(system(cmd) == 0);
    free(cmd);
    return ws;
}

static cJSON *run_tests(const char *ws, const char *args)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = NULL;
    int rc = tu_call(&r, "test", &ctx, args, &err);
    if (rc)
        fprintf(stderr, "test tool: %s\n", err.msg);
    CHECK_INT(rc, 0);
    return r;
}

/* The fixture's README names the one-line fix; apply it with edit_file. */
static void apply_fix(const char *ws, const char *path, const char *old, const char *new_text)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *args = cJSON_CreateObject();
    er_json_add_str(args, "path", path);
    er_json_add_str(args, "old", old);
    er_json_add_str(args, "new", new_text);
    char *text = er_json_print(args);
    cJSON_Delete(args);
    cJSON *r;
    CHECK_OK(tu_call(&r, "edit_file", &ctx, text, &err));
    CHECK_INT(er_json_num(r, "changed_lines", 0), 2);
    cJSON_Delete(r);
    free(text);
}

static void test_buggy_c(void)
{
    char *ws = copy_fixture("buggy_c");
    char *readme = tu_read(ws, "README.md");
    CHECK(readme && er_str_starts(readme, "<!-- FIX") && tu_contains(readme, "i < n - 1"));
    free(readme);
    cJSON *r = run_tests(ws, "{}");
    CHECK_STR(er_json_str(r, "command"), "make test");
    CHECK(er_json_bool(r, "detected", false));
    CHECK(er_json_num(r, "exit_code", 0) != 0);
    check_counts(r, 2, 1);
    check_failure(r, "FAIL: max_of({1, 2, 9}) = 2, expected 9", "", NULL);
    CHECK(tu_contains(er_json_str(r, "output_tail"), "2 passed, 1 failed"));
    cJSON_Delete(r);
    apply_fix(ws, "stats.c", "i < n - 1", "i < n");
    r = run_tests(ws, "{}");
    CHECK_INT(er_json_num(r, "exit_code", -1), 0);
    check_counts(r, 3, 0);
    cJSON_Delete(r);
    tu_rmrf(ws);
    free(ws);
}

static void test_buggy_py(void)
{
    char *ws = copy_fixture("buggy_py");
    cJSON *r = run_tests(ws, "{}");
    const char *cmd = er_json_str(r, "command");
    CHECK(tu_contains(cmd, "unittest") || tu_contains(cmd, "pytest"));
    CHECK(er_json_num(r, "exit_code", 0) != 0);
    check_counts(r, 1, 2);
    CHECK_INT(cJSON_GetArraySize(er_json_arr(r, "failures")), 2);
    char *text = er_json_print(r);
    CHECK(tu_contains(text, "test_runs_of_spaces") && tu_contains(text, "7 != 2"));
    free(text);
    cJSON_Delete(r);
    apply_fix(ws, "textstats.py", "text.split(\" \")", "text.split()");
    r = run_tests(ws, "{}");
    CHECK_INT(er_json_num(r, "exit_code", -1), 0);
    check_counts(r, 3, 0);
    cJSON_Delete(r);
    /* An explicit command is run as given. */
    r = run_tests(ws, "{\"cmd\":\"python3 -m unittest\"}");
    CHECK(!er_json_bool(r, "detected", true));
    CHECK_STR(er_json_str(r, "parser"), "unittest");
    check_counts(r, 3, 0);
    cJSON_Delete(r);
    tu_rmrf(ws);
    free(ws);
}

static void test_ctest_project(void)
{
    char *cmake = er_sandbox_which("cmake");
    if (!cmake) {
        printf("skip: no cmake\n");
        return;
    }
    free(cmake);
    char *ws = tu_tempdir("ctest");
    tu_write(ws, "CMakeLists.txt",
             "cmake_minimum_required(VERSION 3.20)\nproject(t C)\n"
             "enable_testing()\nadd_executable(good good.c)\n"
             "add_executable(bad bad.c)\nadd_test(NAME good COMMAND good)\n"
             "add_test(NAME bad COMMAND bad)\n");
    tu_write(ws, "good.c", "int main(void) { return 0; }\n");
    tu_write(ws, "bad.c",
             "#include <stdio.h>\nint main(void) { puts(\"wrong answer\"); return 1; }\n");
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK_OK(tu_call(&r, "run", &ctx, "{\"cmd\":\"cmake -S . -B build >/dev/null\"}", &err));
    CHECK_INT(er_json_num(r, "exit_code", -1), 0);
    cJSON_Delete(r);
    r = run_tests(ws, "{}");
    CHECK(tu_contains(er_json_str(r, "command"), "ctest --test-dir build"));
    CHECK_STR(er_json_str(r, "parser"), "ctest");
    check_counts(r, 1, 1);
    check_failure(r, "bad", "wrong answer", NULL);
    cJSON_Delete(r);
    tu_rmrf(ws);
    free(ws);
}

static void test_nothing_to_run(void)
{
    char *ws = tu_tempdir("notests");
    tu_write(ws, "README", "no tests here\n");
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK(tu_call(&r, "test", &ctx, "{}", &err) == ER_ENOTFOUND);
    CHECK(tu_contains(err.msg, "give the command as cmd (offline: test CMD...)"));
    tu_rmrf(ws);
    free(ws);
}

static const char pytest_style[] = "def test_good():\n    assert True\n\n"
                                   "def test_bad():\n    assert 1 == 2\n";

/* pytest-style tests where the python3 on PATH lacks pytest but a pytest
 * command exists: that is used, not unittest (which would find nothing). */
static void test_pytest_command(void)
{
    char *pytest = er_sandbox_which("pytest");
    if (!pytest) {
        printf("skip: no pytest command\n");
        return;
    }
    char *ws = tu_tempdir("pytestcmd");
    char *dir = er_xasprintf("%s/tests", ws), *bin = er_xasprintf("%s/.bin", ws);
    CHECK(mkdir(dir, 0755) == 0 && mkdir(bin, 0755) == 0);
    tu_write(ws, "tests/test_x.py", pytest_style);
    /* A python3 without pytest (it cannot even import it), and pytest itself. */
    tu_write(ws, ".bin/python3", "#!/bin/sh\nexit 1\n");
    char *py = er_xasprintf("%s/python3", bin), *link = er_xasprintf("%s/pytest", bin);
    CHECK(chmod(py, 0755) == 0 && symlink(pytest, link) == 0);
    char *old = er_xstrdup(getenv("PATH"));
    char *path = er_xasprintf("%s:/usr/bin:/bin", bin);
    setenv("PATH", path, 1);
    cJSON *r = run_tests(ws, "{}");
    setenv("PATH", old, 1);
    CHECK_STR(er_json_str(r, "command"), "pytest -q");
    check_counts(r, 1, 1);
    CHECK(failure(r, "tests/test_x.py::test_bad") != NULL);
    cJSON_Delete(r);
    tu_rmrf(ws);
    free(ws);
    free(dir);
    free(bin);
    free(py);
    free(link);
    free(old);
    free(path);
    free(pytest);
}

/* A runner that finds no tests exits 0 with nothing to count: the result says so. */
static void test_no_tests_found(void)
{
    char *ws = tu_tempdir("nonefound");
    char *dir = er_xasprintf("%s/tests", ws);
    CHECK(mkdir(dir, 0755) == 0);
    tu_write(ws, "tests/test_x.py", pytest_style);
    cJSON *r = run_tests(ws, "{\"cmd\":\"python3 -m unittest discover -s tests\"}");
    check_counts(r, 0, 0);
    CHECK(tu_contains(er_json_str(r, "note"), "no tests ran"));
    cJSON_Delete(r);
    r = run_tests(ws, "{\"cmd\":\"echo 2 passed, 0 failed\"}");
    CHECK(er_json_str(r, "note") == NULL);
    cJSON_Delete(r);
    tu_rmrf(ws);
    free(ws);
    free(dir);
}

int main(void)
{
    test_python_parsers();
    test_build_tool_parsers();
    test_generic();
    test_huge_counts();
    test_buggy_c();
    test_buggy_py();
    test_ctest_project();
    test_nothing_to_run();
    test_pytest_command();
    test_no_tests_found();
    return check_done();
}
