/* lint.c — the `lint` tool: finds the language of each file by its extension
 * (or, for a script without one, its #! line),
 * runs the linters installed here in the read-only sandbox, and turns their
 * output into one list of diagnostics {file, line, column, severity, message,
 * tool}.  A linter that is not installed is reported in "skipped", never an
 * error: the model should still get what the others found.
 *
 * The parsers at the top are pure functions over captured text, checked
 * against real output saved in tests/data/tools/. */
#include "errand/tool_families.h"
#include "errand/sandbox.h"
#include "errand/json.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINT_FILES_MAX 500
#define DIAG_MAX       300
#define LINT_TIMEOUT_S 120

/* ---- parsing ---- */

typedef struct diag_sink {
    cJSON *arr;
    const char *tool;
    const char *root;
    size_t added;
} diag_sink;

static void add_diag(diag_sink *s, const char *file, size_t flen, long line, long col,
                     const char *severity, const char *msg, size_t mlen)
{
    size_t rl = s->root ? strlen(s->root) : 0;
    if (rl && flen > rl + 1 && strncmp(file, s->root, rl) == 0 && file[rl] == '/') {
        file += rl + 1;
        flen -= rl + 1;
    }
    while (flen > 2 && file[0] == '.' && file[1] == '/') {
        file += 2;
        flen -= 2;
    }
    cJSON *d = cJSON_CreateObject();
    er_tools_add_text(d, "file", file, flen, 1024);
    er_json_add_num(d, "line", (double)line);
    er_json_add(d, "column", col > 0 ? cJSON_CreateNumber((double)col) : cJSON_CreateNull());
    er_json_add_str(d, "severity", severity);
    er_tools_add_text(d, "message", msg, mlen, 1000);
    er_json_add_str(d, "tool", s->tool);
    er_json_append(s->arr, d);
    s->added++;
}

/* Reads digits at *p into *out and moves past them; false when none. */
static bool take_num(const char **p, long *out)
{
    if (!isdigit((unsigned char)**p))
        return false;
    long v = 0;
    while (isdigit((unsigned char)**p) && v < 100000000)
        v = v * 10 + (*(*p)++ - '0');
    *out = v;
    return true;
}

static const char *severity_of(const char **p)
{
    static const struct {
        const char *word, *sev;
    } words[] = {
        { "fatal error: ", "error" }, { "error: ", "error" },      { "warning: ", "warning" },
        { "note: ", "note" },         { "style: ", "style" },      { "performance: ", "style" },
        { "portability: ", "style" }, { "information: ", "note" }, { "info: ", "note" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(words); i++) {
        if (er_str_starts(*p, words[i].word)) {
            *p += strlen(words[i].word);
            return words[i].sev;
        }
    }
    return NULL;
}

/* FILE:LINE[:COL]: [SEVERITY: ]MESSAGE — one line, NUL-terminated.  A line
 * without a severity word gets `fallback` (NULL: the line is skipped). */
static void parse_gcc_line(diag_sink *s, const char *line, const char *fallback)
{
    if (!*line || isspace((unsigned char)*line) || er_str_starts(line, "In file included"))
        return;
    for (const char *c = strchr(line, ':'); c; c = strchr(c + 1, ':')) {
        const char *p = c + 1;
        long ln, col = 0;
        if (c == line || !take_num(&p, &ln) || *p != ':')
            continue;
        p++;
        const char *q = p;
        if (take_num(&q, &col) && *q == ':')
            p = q + 1;
        else
            col = 0;
        while (*p == ' ')
            p++;
        const char *sev = severity_of(&p);
        if (!sev && !fallback)
            return;
        if (!sev)
            sev = fallback;
        add_diag(s, line, (size_t)(c - line), ln, col, sev, p, strlen(p));
        return;
    }
}

static char **split_lines(char *text, size_t *n)
{
    size_t cap = 64;
    char **v = er_xmalloc(cap * sizeof *v);
    *n = 0;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (*n == cap)
            v = er_xrealloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = p;
        p = nl ? nl + 1 : NULL;
    }
    return v;
}

/* "SyntaxError: message": a dotted name ending in Error, then ": ". */
static bool error_line(const char *s)
{
    if (er_str_starts(s, "Sorry: "))
        s += 7;
    const char *c = strstr(s, ": ");
    if (!c || c - s < 5 || strncmp(c - 5, "Error", 5) != 0)
        return false;
    for (const char *p = s; p < c; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.')
            return false;
    return true;
}

/*   File "x.py", line 5 / code / caret / SyntaxError: message */
static void parse_python(diag_sink *s, char **L, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = L[i];
        while (*p == ' ')
            p++;
        if (!er_str_starts(p, "File \""))
            continue;
        const char *file = p + 6, *q = strstr(file, "\", line ");
        long ln;
        const char *num = q ? q + 8 : NULL;
        if (!q || !take_num(&num, &ln))
            continue;
        size_t j = i + 1;
        while (j < n && (L[j][0] == ' ' || L[j][0] == '\t'))
            j++;
        if (j < n && error_line(L[j])) {
            const char *msg = er_str_starts(L[j], "Sorry: ") ? L[j] + 7 : L[j];
            add_diag(s, file, (size_t)(q - file), ln, 0, "error", msg, strlen(msg));
            i = j;
        }
    }
}

/* FILE:LINE / code / caret / (blank) / SyntaxError: message */
static void parse_node(diag_sink *s, char **L, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        const char *c = strrchr(L[i], ':');
        const char *p = c ? c + 1 : NULL;
        long ln;
        if (!c || c == L[i] || !take_num(&p, &ln) || *p)
            continue;
        long col = 0;
        if (i + 2 < n && strchr(L[i + 2], '^') && strspn(L[i + 2], " ^~") == strlen(L[i + 2]))
            col = (long)(strchr(L[i + 2], '^') - L[i + 2]) + 1;
        for (size_t j = i + 1; j < n && j < i + 8; j++) {
            if (error_line(L[j])) {
                add_diag(s, L[i], (size_t)(c - L[i]), ln, col, "error", L[j], strlen(L[j]));
                i = j;
                break;
            }
        }
    }
}

/* A caret line: spaces or tabs, then '^'. */
static bool caret_line(const char *s)
{
    size_t sp = strspn(s, " \t");
    return s[sp] == '^' && strspn(s + sp, "^~ ") == strlen(s + sp);
}

/* pyflakes prints no severity: a syntax error is the one followed by the
 * source line and a caret ("expected ':'", "'(' was never closed", ...);
 * without them the wording tells (older versions); the rest are warnings. */
static const char *pyflakes_severity(char **L, size_t n, size_t i)
{
    if (i + 2 < n && caret_line(L[i + 2]))
        return "error";
    const char *p = L[i];
    return strstr(p, "syntax") || strstr(p, "unexpected") || strstr(p, "indent") ||
                   strstr(p, "problem decoding source")
               ? "error"
               : "warning";
}

size_t er_lint_parse(cJSON *arr, const char *format, const char *tool, const char *text,
                     const char *root)
{
    diag_sink s = { arr, tool, root, 0 };
    char *copy = er_xstrdup(text ? text : "");
    size_t n;
    char **L = split_lines(copy, &n);
    if (strcmp(format, "python") == 0) {
        parse_python(&s, L, n);
    } else if (strcmp(format, "node") == 0) {
        parse_node(&s, L, n);
    } else {
        bool flakes = strcmp(format, "pyflakes") == 0;
        for (size_t i = 0; i < n; i++)
            parse_gcc_line(&s, L[i], flakes ? pyflakes_severity(L, n, i) : NULL);
    }
    free(L);
    free(copy);
    return s.added;
}

/* ---- languages and linters ---- */

enum lang { LANG_C, LANG_CXX, LANG_PY, LANG_SH, LANG_JS, LANG_COUNT };

static int lang_of(const char *path)
{
    static const struct {
        const char *ext;
        int lang;
    } exts[] = {
        { ".c", LANG_C },     { ".h", LANG_C },     { ".cc", LANG_CXX }, { ".cpp", LANG_CXX },
        { ".cxx", LANG_CXX }, { ".hpp", LANG_CXX }, { ".py", LANG_PY },  { ".sh", LANG_SH },
        { ".bash", LANG_SH }, { ".js", LANG_JS },   { ".mjs", LANG_JS }, { ".cjs", LANG_JS },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(exts); i++)
        if (er_str_ends(path, exts[i].ext))
            return exts[i].lang;
    return -1;
}

typedef struct linter {
    int lang;
    const char *tool;        /* name shown in results */
    const char *const *exes; /* first found on PATH is used */
    const char *const *args; /* after the executable, before the files */
    const char *format;
    bool per_file;     /* node --check takes one file */
    bool include_dirs; /* add -Iinclude / -Isrc when they exist */
    bool instead;      /* runs only when the entry before it is not installed */
} linter;

#define LIST(...)         \
    (const char *const[]) \
    {                     \
        __VA_ARGS__, NULL \
    }

static const linter linters[] = {
    { LANG_C, "gcc", LIST("gcc"),
      LIST("-fsyntax-only", "-Wall", "-std=gnu11", "-fdiagnostics-plain-output", "-I."), "gcc",
      false, true, false },
    /* clang has no -fdiagnostics-plain-output; one compiler is enough. */
    { LANG_C, "clang", LIST("clang"),
      LIST("-fsyntax-only", "-Wall", "-std=gnu11", "-fno-color-diagnostics",
           "-fno-caret-diagnostics", "-I."),
      "gcc", false, true, true },
    { LANG_C, "cppcheck", LIST("cppcheck"),
      LIST("--enable=warning,style", "--quiet", "--inline-suppr",
           "--template={file}:{line}:{column}: {severity}: {message} [{id}]"),
      "gcc", false, true, false },
    { LANG_CXX, "g++", LIST("g++"),
      LIST("-fsyntax-only", "-Wall", "-fdiagnostics-plain-output", "-I."), "gcc", false, true,
      false },
    { LANG_CXX, "clang++", LIST("clang++"),
      LIST("-fsyntax-only", "-Wall", "-fno-color-diagnostics", "-fno-caret-diagnostics", "-I."),
      "gcc", false, true, true },
    /* Not `python3 -m py_compile`: that puts the workspace first on sys.path,
     * so a py_compile.py there would run.  -I keeps it off (and ignores
     * PYTHON* variables, hence the cache prefix set in the code). */
    { LANG_PY, "py_compile", LIST("python3"),
      LIST("-I", "-c",
           "import sys, py_compile; sys.pycache_prefix = '/tmp/.errand-pycache'; "
           "sys.exit(py_compile.main())"),
      "python", false, false, false },
    { LANG_PY, "pyflakes", LIST("pyflakes", "pyflakes3"), LIST(NULL), "pyflakes", false, false,
      false },
    { LANG_SH, "shellcheck", LIST("shellcheck"), LIST("-f", "gcc"), "gcc", false, false, false },
    { LANG_JS, "node", LIST("node", "nodejs"), LIST("--check"), "node", true, false, false },
};

typedef struct lint_run {
    const er_workspace *ws;
    const er_tool_ctx *ctx;
    cJSON *diags, *ran, *skipped, *notes;
} lint_run;

static void skip(lint_run *lr, const char *tool, const char *reason)
{
    cJSON *s = cJSON_CreateObject();
    er_json_add_str(s, "tool", tool);
    er_json_add_str(s, "reason", reason);
    er_json_append(lr->skipped, s);
}

static void build_argv(const char ***argv, size_t *argc, const linter *l, const char *exe,
                       const er_workspace *ws, char **files, size_t nfiles)
{
    size_t cap = 16 + nfiles;
    const char **v = er_xcalloc(cap, sizeof *v);
    size_t n = 0;
    v[n++] = exe;
    for (const char *const *a = l->args; *a; a++)
        v[n++] = *a;
    static const char *const incs[][2] = { { "include", "-Iinclude" }, { "src", "-Isrc" } };
    for (size_t i = 0; l->include_dirs && i < ER_ARRAY_LEN(incs); i++) {
        char *d = er_xasprintf("%s/%s", ws->root, incs[i][0]);
        struct stat st;
        if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
            v[n++] = incs[i][1];
        free(d);
    }
    for (size_t i = 0; i < nfiles; i++)
        v[n++] = files[i];
    v[n] = NULL;
    *argv = v;
    *argc = n;
}

/* Runs one linter over files; adds its diagnostics or a note on failure. */
static int run_linter(lint_run *lr, const linter *l, const char *exe, char **files, size_t nfiles,
                      er_error *err)
{
    static const char *const env[] = { "LC_ALL=C", "PYTHONPYCACHEPREFIX=/tmp/.errand-pycache",
                                       NULL };
    const char **argv;
    size_t argc;
    build_argv(&argv, &argc, l, exe, lr->ws, files, nfiles);
    er_sandbox_opts o;
    er_tools_sandbox_opts(&o, lr->ctx, lr->ws);
    o.workspace_read_only = true;
    o.network = false;
    o.timeout_s = LINT_TIMEOUT_S;
    o.keep = 512 * 1024;
    o.env = env;
    er_sandbox_result r;
    int rc = er_sandbox_run(&r, &o, argv, err);
    free(argv);
    if (rc)
        return rc;
    er_buf all = ER_BUF_INIT;
    er_buf_append(&all, r.out.ptr, r.out.len);
    er_buf_putc(&all, '\n');
    er_buf_append(&all, r.err.ptr, r.err.len);
    size_t found = er_lint_parse(lr->diags, l->format, l->tool, all.ptr, lr->ws->root);
    if (r.timed_out) {
        skip(lr, l->tool, "timed out");
    } else if ((r.signal || r.exit_code != 0) && found == 0) {
        char *note = er_xasprintf("%s exited %d without diagnostics we could read: %.300s", l->tool,
                                  r.signal ? 128 + r.signal : r.exit_code, er_str_trim(all.ptr));
        er_json_append(lr->notes, cJSON_CreateString(note));
        free(note);
    }
    er_buf_release(&all);
    er_sandbox_result_release(&r);
    return 0;
}

static int run_lang(lint_run *lr, int lang, char **files, size_t nfiles, er_error *err)
{
    bool prev_found = false;
    for (size_t i = 0; i < ER_ARRAY_LEN(linters); i++) {
        const linter *l = &linters[i];
        if (l->lang != lang || (l->instead && prev_found))
            continue;
        char *exe = NULL;
        er_sandbox_opts o;
        er_tools_sandbox_opts(&o, lr->ctx, lr->ws);
        for (const char *const *e = l->exes; *e && !exe; e++)
            exe = er_sandbox_which_in(&o, *e);
        prev_found = exe != NULL;
        bool has_stand_in = i + 1 < ER_ARRAY_LEN(linters) && linters[i + 1].instead;
        if (!exe && has_stand_in)
            continue; /* its stand-in says whether neither is there */
        if (!exe) {
            char *why = l->instead
                            ? er_xasprintf("neither %s nor %s is installed (not found on PATH)",
                                           linters[i - 1].exes[0], l->exes[0])
                            : er_xasprintf("%s is not installed (not found on PATH)", l->exes[0]);
            skip(lr, l->tool, why);
            free(why);
            continue;
        }
        er_json_append(lr->ran, cJSON_CreateString(l->tool));
        int rc = 0;
        for (size_t f = 0; rc == 0 && f < nfiles; f += l->per_file ? 1 : nfiles)
            rc = run_linter(lr, l, exe, files + f, l->per_file ? 1 : nfiles, err);
        free(exe);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- collecting the files ---- */

/* An executable script without an extension (bin/deploy) is known by its
 * #! line: sh/bash/dash/ksh, python, node. */
static int lang_of_shebang(const er_workspace *ws, const char *rel)
{
    const char *base = strrchr(rel, '/');
    if (strchr(base ? base + 1 : rel, '.'))
        return -1;
    char *abs = er_xasprintf("%s/%s", ws->root, rel);
    int fd;
    int rc = er_workspace_open(&fd, ws, abs, O_RDONLY | O_NONBLOCK, NULL);
    free(abs);
    if (rc)
        return -1;
    char line[128];
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, line, sizeof line - 1) : -1;
    close(fd);
    if (n < 3 || line[0] != '#' || line[1] != '!')
        return -1;
    line[n] = '\0';
    line[strcspn(line, "\n")] = '\0';
    /* The interpreter: the last word of "#!/usr/bin/env -S python3 -u" is an
     * option, so look at each word's base name. */
    static const struct {
        const char *name;
        int lang;
    } interp[] = {
        { "sh", LANG_SH },     { "bash", LANG_SH },    { "dash", LANG_SH }, { "ksh", LANG_SH },
        { "python", LANG_PY }, { "python3", LANG_PY }, { "node", LANG_JS }, { "nodejs", LANG_JS },
    };
    for (char *w = line + 2; *w;) {
        w += strspn(w, " \t");
        size_t len = strcspn(w, " \t");
        const char *b = w;
        for (const char *q = w; q < w + len; q++)
            if (*q == '/')
                b = q + 1;
        size_t bl = (size_t)(w + len - b);
        while (bl > 0 && (isdigit((unsigned char)b[bl - 1]) || b[bl - 1] == '.'))
            bl--; /* python3.11 */
        for (size_t i = 0; i < ER_ARRAY_LEN(interp); i++)
            if (strlen(interp[i].name) == bl && strncmp(b, interp[i].name, bl) == 0)
                return interp[i].lang;
        w += len;
    }
    return -1;
}

typedef struct file_set {
    char **v[LANG_COUNT];
    size_t n[LANG_COUNT];
    size_t total;
    cJSON *unsupported;
} file_set;

static void add_file(file_set *fs, const er_workspace *ws, const char *rel)
{
    int lang = lang_of(rel);
    if (lang < 0)
        lang = lang_of_shebang(ws, rel);
    if (lang < 0) {
        if (cJSON_GetArraySize(fs->unsupported) < 50)
            er_json_append(fs->unsupported, cJSON_CreateString(rel));
        return;
    }
    if (fs->total >= LINT_FILES_MAX)
        return;
    fs->v[lang] = er_xrealloc(fs->v[lang], (fs->n[lang] + 1) * sizeof(char *));
    /* "-x.c" would be read as an option by the linters. */
    fs->v[lang][fs->n[lang]++] = rel[0] == '-' ? er_xasprintf("./%s", rel) : er_xstrdup(rel);
    fs->total++;
}

static int add_path(file_set *fs, const er_workspace *ws, const char *path, er_error *err)
{
    char *abs;
    int rc = er_workspace_resolve(&abs, ws, path, err);
    if (rc)
        return rc;
    struct stat st;
    if (stat(abs, &st) != 0) {
        rc = er_error_set(err, ER_ENOTFOUND, "lint: %s does not exist", path);
    } else if (S_ISDIR(st.st_mode)) {
        char **v;
        size_t n = er_tools_list_files(&v, ws, abs, 5000);
        for (size_t i = 0; i < n; i++)
            if (lang_of(v[i]) >= 0 || lang_of_shebang(ws, v[i]) >= 0)
                add_file(fs, ws, v[i]);
        er_tools_free_list(v, n);
    } else {
        add_file(fs, ws, er_workspace_rel(ws, abs));
    }
    free(abs);
    return rc;
}

static int collect(file_set *fs, const er_workspace *ws, const char *paths, er_error *err)
{
    char *copy = er_xstrdup(paths);
    int rc = 0;
    for (char *p = copy; rc == 0 && *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char *end = p;
        while (*end && !isspace((unsigned char)*end))
            end++;
        char save = *end;
        *end = '\0';
        rc = add_path(fs, ws, p, err);
        *end = save;
        p = end;
    }
    free(copy);
    if (rc == 0 && fs->total == 0)
        rc = er_error_set(err, ER_EINVAL,
                          "lint: no C, C++, Python, shell or JavaScript files in "
                          "'%s'",
                          paths);
    return rc;
}

static void summarise(cJSON *o, cJSON *diags, size_t files)
{
    size_t errors = 0, warnings = 0, other = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, diags)
    {
        const char *sev = er_json_str(d, "severity");
        if (er_str_eq(sev, "error"))
            errors++;
        else if (er_str_eq(sev, "warning"))
            warnings++;
        else
            other++;
    }
    size_t total = (size_t)cJSON_GetArraySize(diags);
    while (cJSON_GetArraySize(diags) > DIAG_MAX)
        cJSON_DeleteItemFromArray(diags, DIAG_MAX);
    cJSON *s = cJSON_CreateObject();
    er_json_add_num(s, "files", (double)files);
    er_json_add_num(s, "errors", (double)errors);
    er_json_add_num(s, "warnings", (double)warnings);
    er_json_add_num(s, "other", (double)other);
    er_json_add_num(s, "diagnostics", (double)total);
    er_json_add_bool(s, "truncated", total > DIAG_MAX);
    er_json_add(o, "summary", s);
}

static int lint_all(cJSON *o, lint_run *lr, file_set *fs, er_error *err)
{
    int rc = 0;
    for (int lang = 0; lang < LANG_COUNT && rc == 0; lang++)
        if (fs->n[lang])
            rc = run_lang(lr, lang, fs->v[lang], fs->n[lang], err);
    if (rc)
        return rc;
    summarise(o, lr->diags, fs->total);
    er_json_add(o, "diagnostics", lr->diags);
    er_json_add(o, "ran", lr->ran);
    er_json_add(o, "skipped", lr->skipped);
    er_json_add(o, "notes", lr->notes);
    er_json_add(o, "unsupported", fs->unsupported);
    lr->diags = lr->ran = lr->skipped = lr->notes = fs->unsupported = NULL;
    return 0;
}

static int run_lint(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *paths = er_json_str(args, "path");
    if (er_str_empty(paths))
        paths = ".";
    er_workspace ws;
    int rc = er_tools_workspace(&ws, ctx, err);
    if (rc)
        return rc;
    file_set fs;
    memset(&fs, 0, sizeof fs);
    fs.unsupported = cJSON_CreateArray();
    lint_run lr = {
        &ws, ctx, cJSON_CreateArray(), cJSON_CreateArray(), cJSON_CreateArray(), cJSON_CreateArray()
    };
    cJSON *o = cJSON_CreateObject();
    if ((rc = collect(&fs, &ws, paths, err)) == 0 && (rc = lint_all(o, &lr, &fs, err)) == 0)
        rc = er_tools_emit(out, o, err);
    cJSON_Delete(o);
    cJSON_Delete(lr.diags);
    cJSON_Delete(lr.ran);
    cJSON_Delete(lr.skipped);
    cJSON_Delete(lr.notes);
    cJSON_Delete(fs.unsupported);
    for (int lang = 0; lang < LANG_COUNT; lang++)
        er_tools_free_list(fs.v[lang], fs.n[lang]);
    er_workspace_release(&ws);
    return rc;
}

static const er_tool lint_tools[] = {
    { "lint",
      "Check source files with the linters installed here (C: gcc (or clang) -fsyntax-only "
      "-Wall and cppcheck; C++: g++ (or clang++); Python: py_compile and pyflakes; shell: "
      "shellcheck; JavaScript: node --check). Returns diagnostics with file, line, column, "
      "severity and message; "
      "linters that are missing are listed as skipped. Reads only.",
      "{\"type\":\"object\",\"properties\":{"
      "\"path\":{\"type\":\"string\",\"description\":\"files or directories to check, separated "
      "by spaces (default: the whole workspace)\"}},"
      "\"required\":[],\"additionalProperties\":false}",
      ER_PERM_READ, "lint [PATH...]", run_lint, .idempotent = true },
};

const er_tool_family er_tools_lint = { "lint", lint_tools, ER_ARRAY_LEN(lint_tools) };
