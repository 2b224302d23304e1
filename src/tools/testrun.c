/* testrun.c — the `test` tool: finds how the project runs its tests (when the
 * model does not say), runs that in the sandbox with the workspace writable,
 * and answers with a summary parsed from the output (testparse.c): passed,
 * failed, and each failure with its own output, plus the tail of the log. */
#include "errand/tool_families.h"
#include "errand/sandbox.h"
#include "errand/json.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_TIMEOUT_DEFAULT 300
#define TEST_KEEP            (256 * 1024)
#define TAIL_KEEP            4000
#define CMD_MAX              (16 * 1024)

/* ---- looking at the workspace ---- */

static bool has_file(const er_workspace *ws, const char *rel, bool dir)
{
    char *p = er_xasprintf("%s/%s", ws->root, rel);
    struct stat st;
    bool ok = stat(p, &st) == 0 && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
    free(p);
    return ok;
}

/* True when the file's text (first 256 KB) contains needle at a line start
 * (line_start) or anywhere. */
static bool file_has(const er_workspace *ws, const char *rel, const char *needle, bool line_start)
{
    /* Beneath the root, and only a regular file: a named pipe called
     * pyproject.toml must not hang the detection. */
    char *p = er_xasprintf("%s/%s", ws->root, rel);
    int fd;
    int rc = er_workspace_open(&fd, ws, p, O_RDONLY | O_NONBLOCK, NULL);
    free(p);
    struct stat st;
    if (rc != 0)
        return false;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    char *buf = er_xmalloc(256 * 1024 + 1);
    ssize_t n = read(fd, buf, 256 * 1024);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    bool found = false;
    for (char *q = strstr(buf, needle); q && !found; q = strstr(q + 1, needle))
        found = !line_start || q == buf || q[-1] == '\n';
    free(buf);
    return found;
}

/* A directory holding test*.py files (tests/, test/). */
static bool has_py_tests(const er_workspace *ws, const char *rel)
{
    char *p = er_xasprintf("%s/%s", ws->root, rel);
    DIR *d = opendir(p);
    free(p);
    bool found = false;
    struct dirent *de;
    while (d && !found && (de = readdir(d)) != NULL)
        found = er_str_starts(de->d_name, "test") && er_str_ends(de->d_name, ".py");
    if (d)
        closedir(d);
    return found;
}

static bool make_test_target(const er_workspace *ws)
{
    static const char *const names[] = { "GNUmakefile", "makefile", "Makefile" };
    for (size_t i = 0; i < ER_ARRAY_LEN(names); i++)
        if (has_file(ws, names[i], false) &&
            (file_has(ws, names[i], "test:", true) || file_has(ws, names[i], "test :", true)))
            return true;
    return false;
}

static bool pytest_config(const er_workspace *ws)
{
    return has_file(ws, "pytest.ini", false) || has_file(ws, "conftest.py", false) ||
           file_has(ws, "pyproject.toml", "[tool.pytest", true) ||
           file_has(ws, "setup.cfg", "[tool:pytest]", true) ||
           file_has(ws, "tox.ini", "[pytest]", true);
}

/* Whether `python3 -m pytest` works here (pytest may not be installed). */
static bool pytest_available(const er_workspace *ws, const er_tool_ctx *ctx)
{
    const char *argv[] = { "python3", "-c", "import pytest", NULL };
    er_sandbox_opts o;
    er_tools_sandbox_opts(&o, ctx, ws);
    o.workspace_read_only = true;
    o.network = false;
    o.timeout_s = 30;
    o.keep = 4096;
    er_sandbox_result r;
    er_error e;
    if (er_sandbox_run(&r, &o, argv, &e) != 0)
        return false;
    bool ok = r.signal == 0 && r.exit_code == 0;
    er_sandbox_result_release(&r);
    return ok;
}

static const char *python_command(const er_workspace *ws, const er_tool_ctx *ctx)
{
    bool tests_dir = has_py_tests(ws, "tests") || has_py_tests(ws, "test");
    bool top = has_py_tests(ws, ".");
    if (!pytest_config(ws) && !tests_dir && !top)
        return NULL;
    if (pytest_available(ws, ctx))
        return "python3 -m pytest -q";
    /* pytest installed for another Python than the python3 on PATH (a pyenv
     * or venv python3 without it, the system's /usr/bin/pytest). */
    er_sandbox_opts o;
    er_tools_sandbox_opts(&o, ctx, ws);
    char *pytest = er_sandbox_which_in(&o, "pytest");
    free(pytest);
    if (pytest)
        return "pytest -q";
    /* unittest imports tests/ as a package only when it has __init__.py;
     * otherwise it must start there. */
    if (tests_dir && !top) {
        const char *dir = has_py_tests(ws, "tests") ? "tests" : "test";
        char *init = er_xasprintf("%s/__init__.py", dir);
        bool pkg = has_file(ws, init, false);
        free(init);
        if (!pkg)
            return strcmp(dir, "tests") == 0 ? "python3 -m unittest discover -v -s tests"
                                             : "python3 -m unittest discover -v -s test";
    }
    return "python3 -m unittest discover -v";
}

static bool ctest_build_dir(const er_workspace *ws)
{
    return has_file(ws, "CMakeLists.txt", false) &&
           has_file(ws, "build/CTestTestfile.cmake", false);
}

/* The project's test command, or NULL. */
static const char *detect_command(const er_workspace *ws, const er_tool_ctx *ctx)
{
    if (ctest_build_dir(ws))
        return "cmake --build build && ctest --test-dir build --output-on-failure";
    if (make_test_target(ws))
        return "make test";
    const char *py = python_command(ws, ctx);
    if (py)
        return py;
    if (has_file(ws, "package.json", false) && file_has(ws, "package.json", "\"test\"", false))
        return "npm test";
    if (has_file(ws, "go.mod", false))
        return "go test -v ./...";
    if (has_file(ws, "Cargo.toml", false))
        return "cargo test";
    if (has_file(ws, "CMakeLists.txt", false) && file_has(ws, "CMakeLists.txt", "add_test", false))
        return "cmake -S . -B build && cmake --build build && ctest --test-dir build "
               "--output-on-failure";
    return NULL;
}

/* ---- the result ---- */

static cJSON *test_json(const char *cmd, bool detected, const er_sandbox_result *r,
                        size_t fail_keep, int max_failures)
{
    const char *parser = er_test_parser_for(cmd);
    cJSON *o = er_test_parse(parser, r->out.ptr);
    er_json_add_str(o, "command", cmd);
    er_json_add_bool(o, "detected", detected);
    if (r->signal)
        er_json_add_num(o, "signal", r->signal);
    else
        er_json_add_num(o, "exit_code", r->exit_code);
    er_json_add_bool(o, "timed_out", r->timed_out);
    er_json_add_num(o, "duration_ms", (double)r->duration_ms);
    er_json_add_str(o, "sandbox", r->sandbox);
    er_json_add_num(o, "output_bytes", (double)r->out_total);
    size_t tail = r->out.len > TAIL_KEEP ? r->out.len - TAIL_KEEP : 0;
    while (tail > 0 && tail < r->out.len && ((unsigned char)r->out.ptr[tail] & 0xC0) == 0x80)
        tail++;
    er_tools_add_text(o, "output_tail", r->out.ptr + tail, r->out.len - tail, TAIL_KEEP);
    if (er_json_num(o, "passed", -1) == 0 && er_json_num(o, "failed", -1) == 0)
        er_json_add_str(o, "note",
                        "no tests ran: the runner found none; check the command and "
                        "the names of the test files and functions");
    cJSON *fails = cJSON_GetObjectItemCaseSensitive(o, "failures");
    while (cJSON_GetArraySize(fails) > max_failures)
        cJSON_DeleteItemFromArray(fails, max_failures);
    cJSON *f;
    cJSON_ArrayForEach(f, fails)
    {
        const char *out = er_json_str(f, "output");
        if (out && strlen(out) > fail_keep) {
            char *copy = er_xstrdup(out);
            cJSON_DeleteItemFromObject(f, "output");
            er_tools_add_text(f, "output", copy, strlen(copy), fail_keep);
            free(copy);
        }
    }
    return o;
}

typedef struct test_out {
    const char *cmd;
    bool detected;
    const er_sandbox_result *r;
} test_out;

/* Each level keeps fewer failures and less of their output. */
static cJSON *build_test(int level, void *payload)
{
    static const struct {
        size_t keep;
        int max;
    } levels[] = {
        { 4000, 50 },
        { 1500, 20 },
        { 500, 10 },
        { 200, 5 },
    };
    const test_out *to = payload;
    return test_json(to->cmd, to->detected, to->r, levels[level].keep, levels[level].max);
}

static int run_test(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    double t = er_json_num(args, "timeout_s", TEST_TIMEOUT_DEFAULT);
    if (t < 1 || t > ER_SANDBOX_TIMEOUT_MAX)
        return er_error_set(err, ER_EINVAL, "timeout_s must be between 1 and %d seconds",
                            ER_SANDBOX_TIMEOUT_MAX);
    const char *cmd = er_json_str(args, "cmd");
    if (cmd && strlen(cmd) > CMD_MAX)
        return er_error_set(err, ER_ETOOBIG, "test: cmd is over %d bytes", CMD_MAX);
    er_workspace ws;
    int rc = er_tools_can_exec(ctx, err);
    if (rc || (rc = er_tools_workspace(&ws, ctx, err)))
        return rc;
    bool detected = er_str_empty(cmd);
    if (detected && !(cmd = detect_command(&ws, ctx))) {
        rc = er_error_set(err, ER_ENOTFOUND,
                          "test: found no test command in %s (looked for a CMake build dir, a "
                          "Makefile test target, pytest/unittest tests, package.json, go.mod, "
                          "Cargo.toml); give the command as cmd (offline: test CMD...)",
                          ws.root);
        er_workspace_release(&ws);
        return rc;
    }
    er_sandbox_opts o;
    er_tools_sandbox_opts(&o, ctx, &ws);
    o.timeout_s = (int)t;
    o.keep = TEST_KEEP;
    o.max_memory = 4ull << 30;
    o.merge_stderr = true;
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    er_sandbox_result r;
    test_out to = { cmd, detected, &r };
    if ((rc = er_sandbox_run(&r, &o, argv, err)) == 0)
        rc = er_tools_emit_fitting(out, build_test, 4, &to, err);
    if (rc == 0 || rc == ER_ECANCELLED)
        er_sandbox_result_release(&r);
    er_workspace_release(&ws);
    return rc;
}

static const er_tool test_tools[] = {
    { "test",
      "Run the project's tests in the sandbox and summarise them: passed, failed, each failure "
      "with its output, and the tail of the log. Without cmd the command is detected (CMake "
      "build dir → ctest, Makefile test target → make test, pytest or unittest, npm test, go "
      "test, cargo test).",
      "{\"type\":\"object\",\"properties\":{"
      "\"cmd\":{\"type\":\"string\",\"description\":\"test command to run with /bin/sh in the "
      "workspace (default: detected)\"},"
      "\"timeout_s\":{\"type\":\"integer\",\"description\":\"wall-clock limit in seconds, 1-600 "
      "(default 300)\"}},"
      "\"required\":[],\"additionalProperties\":false}",
      ER_PERM_EXEC, "test [CMD...]", run_test,
      .idempotent = false }, /* the command is the caller's: it may do anything */
};

const er_tool_family er_tools_test = { "test", test_tools, ER_ARRAY_LEN(test_tools) };
