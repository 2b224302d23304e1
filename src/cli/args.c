/* args.c — option parsing from the command tables (GNU style: --name=value,
 * --name value, -x, -x value, -xvalue, "--" ends options). */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/str.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cli_opt *find_long(const cli_opt *opts, const char *name, size_t len)
{
    for (size_t i = 0; opts && opts[i].name; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static const cli_opt *find_short(const cli_opt *opts, char c)
{
    for (size_t i = 0; opts && opts[i].name; i++)
        if (opts[i].short_name && opts[i].short_name == c)
            return &opts[i];
    return NULL;
}

size_t cli_distance(const char *a, const char *b)
{
    return er_str_distance(a, b);
}

/* The long option nearest to name[0..len) in either table, within two edits
 * (and fewer than the name's length), or NULL. */
static const cli_opt *nearest_long(const cli_opt *opts, const cli_opt *globals, const char *name,
                                   size_t len)
{
    char typed[32];
    if (len >= sizeof typed)
        return NULL;
    memcpy(typed, name, len);
    typed[len] = '\0';
    const cli_opt *best = NULL;
    size_t bd = 3;
    const cli_opt *tables[] = { opts, globals };
    for (size_t t = 0; t < 2; t++) {
        for (size_t i = 0; tables[t] && tables[t][i].name; i++) {
            size_t d = cli_distance(typed, tables[t][i].name);
            if (d < bd && d < strlen(tables[t][i].name)) {
                bd = d;
                best = &tables[t][i];
            }
        }
    }
    return best;
}

/* Every occurrence is kept, in order: -o may be given many times (each one
 * applies); for other options cli_value() takes the last one given. */
static int add_value(cli_args *out, const cli_opt *o, const char *v)
{
    if (out->nopts >= CLI_MAX_OPTS)
        return -1;
    out->opts[out->nopts] = o;
    out->values[out->nopts++] = v;
    return 0;
}

int cli_parse(cli_args *out, const char *cmd, const cli_opt *opts, const cli_opt *globals, int argc,
              char **argv, bool stop_at_pos, int *consumed)
{
    int i = 0;
    bool only_pos = false;
    for (; i < argc; i++) {
        char *arg = argv[i];
        if (only_pos || arg[0] != '-' || arg[1] == '\0') {
            if (stop_at_pos)
                break;
            if (out->npos >= CLI_MAX_POS)
                return cli_usage_error(cmd, "too many arguments");
            out->pos[out->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        const cli_opt *o;
        const char *value = NULL;
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(opts, name, len);
            if (!o)
                o = find_long(globals, name, len);
            const cli_opt *near = o ? NULL : nearest_long(opts, globals, name, len);
            if (near)
                return cli_usage_error(cmd, "unknown option '--%.*s'; did you mean '--%s'?",
                                       (int)len, name, near->name);
            if (!o)
                return cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
            if (eq)
                value = eq + 1;
        } else {
            o = find_short(opts, arg[1]);
            if (!o)
                o = find_short(globals, arg[1]);
            if (o && o->arg && arg[2]) /* -n5, -opolicy.exec=allow: the value attached */
                value = arg + 2;
            else if (!o || arg[2])
                return cli_usage_error(cmd, "unknown option '%s'", arg);
        }
        if (o->arg && !value) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, "option '--%s' needs a value (%s)", o->name, o->arg);
            value = argv[++i];
        } else if (!o->arg && value) {
            return cli_usage_error(cmd, "option '--%s' takes no value", o->name);
        }
        if (add_value(out, o, o->arg ? value : "1"))
            return cli_usage_error(cmd, "too many options");
    }
    if (consumed)
        *consumed = i;
    return 0;
}

const char *cli_value(const cli_args *a, const char *name)
{
    for (size_t i = a->nopts; i-- > 0;) /* the last one given wins */
        if (strcmp(a->opts[i]->name, name) == 0)
            return a->values[i];
    return NULL;
}

bool cli_flag(const cli_args *a, const char *name)
{
    return cli_value(a, name) != NULL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("errand: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'errand %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return EXIT_USAGE;
}

char *cli_join(const cli_args *a, size_t from)
{
    er_buf b = ER_BUF_INIT;
    if (a->npos == from + 1 && strcmp(a->pos[from], "-") == 0) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            er_buf_append(&b, chunk, n);
        char *s = er_buf_detach(&b);
        return er_str_trim(s);
    }
    for (size_t i = from; i < a->npos; i++)
        er_buf_printf(&b, "%s%s", i > from ? " " : "", a->pos[i]);
    /* "   " asks for nothing, as "" does: callers test for an empty request. */
    return er_str_trim(er_buf_detach(&b));
}
