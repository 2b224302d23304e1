/* test_lint.c — the linter-output parsers on real captured output
 * (tests/data/tools/, made by gcc 12, cppcheck 2.10, Python 3.11 py_compile,
 * pyflakes 2.5 (Python 3.11.2), shellcheck 0.9 and node 20 on the project machine), and the
 * lint tool on real broken files. */
#include "check.h"
#include "tools_util.h"
#include "errand/sandbox.h"
#include "errand/str.h"

static er_error err;

/* The diagnostic of arr at file:line, or NULL. */
static const cJSON *diag_at(const cJSON *arr, const char *file, int line, const char *tool)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, arr)
    {
        if (er_str_eq(er_json_str(d, "file"), file) && er_json_num(d, "line", 0) == line &&
            (!tool || er_str_eq(er_json_str(d, "tool"), tool)))
            return d;
    }
    return NULL;
}

static cJSON *parse_file(const char *format, const char *tool, const char *name, const char *root)
{
    char *text = tu_data(name);
    cJSON *arr = cJSON_CreateArray();
    size_t n = er_lint_parse(arr, format, tool, text, root);
    CHECK_INT(n, cJSON_GetArraySize(arr));
    free(text);
    return arr;
}

static void check_diag(const cJSON *d, int col, const char *severity, const char *msg_part)
{
    CHECK(d != NULL);
    if (!d)
        return;
    if (col)
        CHECK_INT(er_json_num(d, "column", 0), col);
    else
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "column")));
    CHECK_STR(er_json_str(d, "severity"), severity);
    CHECK(tu_contains(er_json_str(d, "message"), msg_part));
}

static void test_gcc(void)
{
    cJSON *a = parse_file("gcc", "gcc", "gcc.out", NULL);
    CHECK_INT(cJSON_GetArraySize(a), 6);
    check_diag(diag_at(a, "bad.c", 6, NULL), 17, "error", "expected");
    check_diag(diag_at(a, "bad.c", 5, NULL), 9, "warning", "unused variable");
    check_diag(diag_at(a, "warn.c", 15, NULL), 14, "warning", "format");
    check_diag(diag_at(a, "inc.c", 1, NULL), 10, "error", "missing.h: No such file");
    cJSON_Delete(a);
    a = parse_file("gcc", "cppcheck", "cppcheck.out", NULL);
    CHECK_INT(cJSON_GetArraySize(a), 10);
    check_diag(diag_at(a, "warn.c", 7, NULL), 16, "error", "Uninitialized variable: y [uninitvar]");
    check_diag(diag_at(a, "bad.c", 5, NULL), 9, "style", "Unused variable");
    check_diag(diag_at(a, "warn.c", 15, NULL), 5, "warning", "invalidPrintfArgType_s");
    CHECK_STR(er_json_str(cJSON_GetArrayItem(a, 0), "tool"), "cppcheck");
    cJSON_Delete(a);
}

static void test_python(void)
{
    cJSON *a = parse_file("python", "py_compile", "py_compile.out", NULL);
    CHECK_INT(cJSON_GetArraySize(a), 1);
    check_diag(diag_at(a, "bad.py", 5, "py_compile"), 0, "error", "SyntaxError: invalid syntax");
    cJSON_Delete(a);
    a = parse_file("pyflakes", "pyflakes", "pyflakes.out", NULL);
    CHECK_INT(cJSON_GetArraySize(a), 4);
    check_diag(diag_at(a, "bad.py", 5, NULL), 15, "error", "invalid syntax");
    check_diag(diag_at(a, "flakes.py", 1, NULL), 1, "warning", "'os' imported but unused");
    check_diag(diag_at(a, "flakes.py", 6, NULL), 12, "warning", "undefined name");
    cJSON_Delete(a);
    /* Syntax errors whose wording says nothing of syntax (pyflakes 2.5 on
     * Python 3.11): errors all the same, told by the caret under the source. */
    a = parse_file("pyflakes", "pyflakes", "pyflakes_syntax.out", NULL);
    CHECK_INT(cJSON_GetArraySize(a), 5);
    check_diag(diag_at(a, "b.py", 3, NULL), 5, "error", "expected ':'");
    check_diag(diag_at(a, "d.py", 1, NULL), 5, "error", "'(' was never closed");
    check_diag(diag_at(a, "e.py", 3, NULL), 1, "error", "inconsistent use of tabs");
    check_diag(diag_at(a, "g.py", 1, NULL), 1, "error", "Missing parentheses");
    check_diag(diag_at(a, "u.py", 1, NULL), 1, "warning", "'os' imported but unused");
    cJSON_Delete(a);
}

static void test_shell_node(void)
{
    cJSON *a = parse_file("gcc", "shellcheck", "shellcheck.out", NULL);
    CHECK_INT(cJSON_GetArraySize(a), 5);
    check_diag(diag_at(a, "bad.sh", 2, NULL), 12, "note", "SC2035");
    cJSON *last = cJSON_GetArrayItem(a, 4);
    CHECK_INT(er_json_num(last, "line", 0), 6);
    check_diag(last, 9, "warning", "== in place of = is undefined");
    cJSON_Delete(a);
    a = parse_file("node", "node", "node_check.out", "/tmp/codetools-cap/lint");
    CHECK_INT(cJSON_GetArraySize(a), 1);
    check_diag(diag_at(a, "bad.js", 2, "node"), 14, "error", "SyntaxError: Unexpected token ';'");
    cJSON_Delete(a);
}

static void test_lint_tool(const char *ws)
{
    tu_write(ws, "broken.c",
             "#include <stdio.h>\n\nint main(void)\n{\n    printf(\"hi\\n\")\n"
             "    return 0;\n}\n");
    tu_write(ws, "broken.py", "def f(x):\n    return x\n\nif True\n    f(1)\n");
    tu_write(ws, "fine.sh", "#!/bin/sh\necho \"$1\"\n");
    tu_write(ws, "notes.txt", "not code\n");
    er_tool_ctx ctx = tu_ctx(ws);
    ctx.workspace_read_only = true; /* lint only reads */
    cJSON *r;
    CHECK_OK(
        tu_call(&r, "lint", &ctx, "{\"path\":\"broken.c broken.py fine.sh notes.txt\"}", &err));
    const cJSON *d = er_json_arr(r, "diagnostics");
    const cJSON *c = diag_at(d, "broken.c", 5, "gcc");
    CHECK(c != NULL);
    CHECK_STR(er_json_str(c, "severity"), "error");
    CHECK(tu_contains(er_json_str(c, "message"), "expected"));
    const cJSON *p = diag_at(d, "broken.py", 4, "py_compile");
    CHECK(p != NULL);
    CHECK_STR(er_json_str(p, "severity"), "error");
    CHECK(er_json_num(er_json_obj(r, "summary"), "errors", 0) >= 2);
    CHECK_INT(er_json_num(er_json_obj(r, "summary"), "files", 0), 3);
    char *text = er_json_print(r);
    CHECK(tu_contains(text, "\"unsupported\":[\"notes.txt\"]"));
    CHECK(tu_contains(text, "\"gcc\"") && tu_contains(text, "\"py_compile\""));
    CHECK(!tu_contains(text, "fine.sh\",\"line")); /* shellcheck finds nothing in it */
    free(text);
    cJSON_Delete(r);
    /* Linting wrote nothing into the workspace (no __pycache__). */
    CHECK(!tu_exists(ws, "__pycache__"));
    /* A whole directory, and a path outside. */
    CHECK_OK(tu_call(&r, "lint", &ctx, "{\"path\":\".\"}", &err));
    CHECK_INT(er_json_num(er_json_obj(r, "summary"), "files", 0), 3);
    cJSON_Delete(r);
    CHECK(tu_call(&r, "lint", &ctx, "{\"path\":\"../x.c\"}", &err) == ER_EDENIED);
    CHECK(tu_call(&r, "lint", &ctx, "{\"path\":\"notes.txt\"}", &err) == ER_EINVAL);
}

/* With only gcc on PATH, the other linters are reported as skipped. */
static void test_missing_linters(const char *ws)
{
    char *gcc = er_sandbox_which("gcc");
    if (!gcc) {
        printf("skip: no gcc\n");
        return;
    }
    /* In the workspace: the sandbox has its own /tmp, so a bin dir there is invisible. */
    char *bin = er_xasprintf("%s/.bin", ws);
    CHECK(mkdir(bin, 0755) == 0);
    char *link = er_xasprintf("%s/gcc", bin);
    CHECK(symlink(gcc, link) == 0);
    char *old = er_xstrdup(getenv("PATH"));
    setenv("PATH", bin, 1);
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK_OK(tu_call(&r, "lint", &ctx, "{\"path\":\"broken.c fine.sh\"}", &err));
    setenv("PATH", old, 1);
    char *text = er_json_print(r);
    CHECK(tu_contains(text, "{\"tool\":\"cppcheck\",\"reason\":\"cppcheck is not installed"));
    CHECK(tu_contains(text, "{\"tool\":\"shellcheck\",\"reason\":\"shellcheck is not installed"));
    CHECK(diag_at(er_json_arr(r, "diagnostics"), "broken.c", 5, "gcc") != NULL);
    free(text);
    cJSON_Delete(r);
    unlink(link);
    tu_rmrf(bin);
    free(link);
    free(bin);
    free(old);
    free(gcc);
}

/* Scripts without an extension are linted by their #! line; other
 * extensionless files are not. */
static void test_shebang(const char *ws)
{
    char *dir = er_xasprintf("%s/bin", ws);
    CHECK(mkdir(dir, 0755) == 0);
    tu_write(ws, "bin/deploy", "#!/bin/bash\ncd \"$1\"\n");
    tu_write(ws, "bin/gen", "#!/usr/bin/env python3\nif True\n    pass\n");
    tu_write(ws, "bin/NOTES", "just words\n");
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK_OK(tu_call(&r, "lint", &ctx, "{\"path\":\"bin/deploy bin/gen bin/NOTES\"}", &err));
    const cJSON *d = er_json_arr(r, "diagnostics");
    char *shellcheck = er_sandbox_which("shellcheck");
    if (shellcheck) {
        const cJSON *sh = diag_at(d, "bin/deploy", 2, "shellcheck");
        CHECK(sh != NULL);
        CHECK(tu_contains(er_json_str(sh, "message"), "SC2164"));
    }
    free(shellcheck);
    const cJSON *py = diag_at(d, "bin/gen", 2, "py_compile");
    CHECK(py != NULL);
    CHECK_STR(er_json_str(py, "severity"), "error");
    char *text = er_json_print(r);
    CHECK(tu_contains(text, "\"unsupported\":[\"bin/NOTES\"]"));
    free(text);
    CHECK_INT(er_json_num(er_json_obj(r, "summary"), "files", 0), 2);
    cJSON_Delete(r);
    /* ... and found when a directory is linted. */
    CHECK_OK(tu_call(&r, "lint", &ctx, "{\"path\":\"bin\"}", &err));
    CHECK_INT(er_json_num(er_json_obj(r, "summary"), "files", 0), 2);
    cJSON_Delete(r);
    tu_rmrf(dir);
    free(dir);
}

/* Linting runs no code of the workspace: a py_compile.py there is not what
 * checks the Python files (`python3 -m py_compile` would have run it). */
static void test_no_workspace_code(const char *ws)
{
    char *dir = er_xasprintf("%s/pyws", ws);
    CHECK(mkdir(dir, 0755) == 0);
    tu_write(dir, "py_compile.py",
             "import sys\nprint('WORKSPACE CODE RAN', file=sys.stderr)\n"
             "sys.exit(1)\n");
    tu_write(dir, "bad.py", "if x\n    pass\n");
    er_tool_ctx ctx = tu_ctx(dir);
    ctx.workspace_read_only = true;
    cJSON *r;
    CHECK_OK(tu_call(&r, "lint", &ctx, "{\"path\":\"bad.py\"}", &err));
    char *text = er_json_print(r);
    CHECK(!tu_contains(text, "WORKSPACE CODE RAN"));
    free(text);
    const cJSON *d = diag_at(er_json_arr(r, "diagnostics"), "bad.py", 1, "py_compile");
    CHECK(d != NULL);
    CHECK(tu_contains(er_json_str(d, "message"), "SyntaxError"));
    cJSON_Delete(r);
    CHECK(!tu_exists(dir, "__pycache__"));
    tu_rmrf(dir);
    free(dir);
}

/* Without gcc, clang checks the C files; with neither, the skip says so. */
static void test_clang_instead(const char *ws)
{
    char *clang = er_sandbox_which("clang");
    if (!clang) {
        printf("skip: no clang\n");
        return;
    }
    char *bin = er_xasprintf("%s/.bin-clang", ws);
    CHECK(mkdir(bin, 0755) == 0);
    char *link = er_xasprintf("%s/clang", bin);
    CHECK(symlink(clang, link) == 0);
    char *old = er_xstrdup(getenv("PATH"));
    setenv("PATH", bin, 1);
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK_OK(tu_call(&r, "lint", &ctx, "{\"path\":\"broken.c\"}", &err));
    const cJSON *c = diag_at(er_json_arr(r, "diagnostics"), "broken.c", 5, "clang");
    CHECK(c != NULL);
    CHECK_STR(er_json_str(c, "severity"), "error");
    CHECK(tu_contains(er_json_str(c, "message"), "expected ';'"));
    char *text = er_json_print(r);
    CHECK(tu_contains(text, "\"ran\":[\"clang\"]"));
    CHECK(!tu_contains(text, "\"tool\":\"gcc\""));
    free(text);
    cJSON_Delete(r);
    unlink(link);
    setenv("PATH", ws, 1); /* neither compiler */
    CHECK_OK(tu_call(&r, "lint", &ctx, "{\"path\":\"broken.c\"}", &err));
    text = er_json_print(r);
    CHECK(tu_contains(text, "\"reason\":\"neither gcc nor clang is installed"));
    free(text);
    cJSON_Delete(r);
    setenv("PATH", old, 1);
    tu_rmrf(bin);
    free(link);
    free(bin);
    free(old);
    free(clang);
}

/* The compiler runs in the jail: a workspace file that #includes a file
 * outside by its absolute path (the token-signing key, ~/.env) gets "No such
 * file or directory", and not one line of it reaches the diagnostics (gcc
 * quoted it back when the jail showed the whole host). */
static void test_include_leak(const char *ws)
{
    if (strcmp(er_sandbox_kind(), "bwrap") != 0) {
        printf("skip: no bwrap, so no jail for the compiler\n");
        return;
    }
    char *outside = tu_hostdir("lint-secret");
    tu_write(outside, "jwt.secret", "SIGNINGKEY4711 more;\n");
    tu_write(outside, "dot.env", "int AWS_SECRET = KEYMATERIAL;\n");
    char *src = er_xasprintf("#include \"%s/jwt.secret\"\n#include \"%s/dot.env\"\nint x;\n",
                             outside, outside);
    tu_write(ws, "leak.c", src);
    free(src);
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r;
    CHECK_OK(tu_call(&r, "lint", &ctx, "{\"path\":\"leak.c\"}", &err));
    char *text = er_json_print(r);
    CHECK(!tu_contains(text, "SIGNINGKEY") && !tu_contains(text, "KEYMATERIAL"));
    CHECK(tu_contains(text, "No such file or directory"));
    free(text);
    cJSON_Delete(r);
    tu_rmrf(outside);
    free(outside);
}

int main(void)
{
    test_gcc();
    test_python();
    test_shell_node();
    char *ws = tu_tempdir("lint");
    test_lint_tool(ws);
    test_missing_linters(ws);
    test_clang_instead(ws);
    test_shebang(ws);
    test_no_workspace_code(ws);
    test_include_leak(ws);
    tu_rmrf(ws);
    free(ws);
    return check_done();
}
