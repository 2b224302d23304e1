/* steps.c — how a tool step reads for a person: "read_file README.md:1-40"
 * rather than its JSON arguments, and what to show under it once it is done
 * (the diff a write made, the first lines a command printed).  Shared by the
 * progress lines of `ask`, the REPL and the TUI's chat. */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 60

/* The first line of s, at most max bytes (whole characters), "…" when cut. */
static void put_first_line(er_buf *b, const char *s, size_t max)
{
    size_t n = strcspn(s, "\n");
    bool cut = n > max || s[n] == '\n';
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    er_buf_append(b, s, n);
    if (cut)
        er_buf_puts(b, "…");
}

static void put_value(er_buf *b, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        put_first_line(b, v->valuestring, VALUE_MAX);
    } else {
        char *j = er_json_print(v);
        put_first_line(b, j, VALUE_MAX);
        free(j);
    }
}

char *cli_call_label(const char *tool, const char *arguments)
{
    er_buf b = ER_BUF_INIT;
    cJSON *args = NULL;
    if (arguments)
        er_json_parse(&args, arguments, strlen(arguments), NULL);
    const char *path = er_json_str(args, "path");
    er_buf_puts(&b, tool ? tool : "?");
    if (er_str_eq(tool, "run") && er_json_str(args, "cmd")) {
        er_buf_puts(&b, " `");
        put_first_line(&b, er_json_str(args, "cmd"), 2 * VALUE_MAX);
        er_buf_putc(&b, '`');
    } else if (er_str_eq(tool, "read_file") && path) {
        er_buf_printf(&b, " %s", path);
        int64_t from = er_json_int(args, "start", 0, 0, INT32_MAX);
        int64_t to = er_json_int(args, "end", 0, 0, INT32_MAX);
        if (from || to)
            er_buf_printf(&b, ":%lld-%s", (long long)(from ? from : 1), to ? "" : "end");
        if (to)
            er_buf_printf(&b, "%lld", (long long)to);
    } else if (path && (er_str_eq(tool, "write_file") || er_str_eq(tool, "edit_file"))) {
        er_buf_printf(&b, " %s", path);
    } else if (cJSON_IsObject(args)) {
        /* Anything else: its values in order, each one short line. */
        const cJSON *it;
        cJSON_ArrayForEach(it, args)
        {
            er_buf_putc(&b, ' ');
            put_value(&b, it);
        }
    } else if (arguments && *arguments && strcmp(arguments, "{}") != 0) {
        er_buf_putc(&b, ' ');
        put_first_line(&b, arguments, VALUE_MAX);
    }
    cJSON_Delete(args);
    return er_buf_detach(&b);
}

/* Up to max lines of s; *more gets how many were left out. */
static char *head_lines(const char *s, size_t max, size_t *more)
{
    size_t n = 0, i = 0, len = strlen(s);
    while (len && s[len - 1] == '\n')
        len--;
    while (i < len && n < max) {
        const char *nl = memchr(s + i, '\n', len - i);
        i = nl ? (size_t)(nl - s) + 1 : len;
        n++;
    }
    size_t rest = 0;
    for (size_t j = i; j < len; j++)
        rest += s[j] == '\n';
    *more = i < len ? rest + 1 : 0;
    size_t keep = i && s[i - 1] == '\n' ? i - 1 : i;
    return keep ? er_xstrndup(s, keep) : NULL;
}

char *cli_result_head(const cJSON *data, size_t max_lines, size_t *more)
{
    *more = 0;
    const char *content = er_json_str(data, "content");
    if (!content || er_json_bool(data, "is_error", false))
        return NULL;
    cJSON *r = NULL;
    char *out = NULL;
    if (er_json_parse(&r, content, strlen(content), NULL) == 0 && cJSON_IsObject(r)) {
        /* The part a person looks for first: the change, the output. */
        const cJSON *lines = cJSON_GetObjectItemCaseSensitive(r, "lines");
        if (er_str_eq(er_json_str(r, "diff"), "new file") && cJSON_IsNumber(lines)) {
            int64_t n = er_json_int(r, "lines", 0, 0, INT64_MAX);
            out = er_xasprintf("new file, %lld line%s", (long long)n, n == 1 ? "" : "s");
        }
        static const char *const fields[] = { "diff", "stdout", "answer", "text", "content" };
        for (size_t i = 0; !out && i < ER_ARRAY_LEN(fields); i++) {
            const char *v = er_json_str(r, fields[i]);
            if (v && *v)
                out = head_lines(v, max_lines, more);
        }
    } else if (*content) {
        out = head_lines(content, max_lines, more);
    }
    cJSON_Delete(r);
    return out;
}

char *cli_result_error(const cJSON *data)
{
    const char *content = er_json_str(data, "content");
    if (!er_json_bool(data, "is_error", false) && !(content && strncmp(content, "error: ", 7) == 0))
        return NULL;
    er_buf b = ER_BUF_INIT;
    put_first_line(&b, content ? content + (strncmp(content, "error: ", 7) == 0 ? 7 : 0) : "failed",
                   200);
    return er_buf_detach(&b);
}
