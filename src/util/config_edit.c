/* config_edit.c — one section of the config file replaced or removed
 * (config_edit.h). */
#include "errand/config_edit.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/file_replace.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int er_config_edit_path(char **out, const er_config *cfg, er_error *err)
{
    *out = NULL;
    if (cfg->config_path) {
        *out = er_xstrdup(cfg->config_path);
        return 0;
    }
    char *dir = er_xdg_dir("config", true, err);
    if (!dir)
        return err ? err->code : ER_EIO;
    *out = er_xasprintf("%s/config", dir);
    free(dir);
    return 0;
}

/* The section a line opens ("[mcp.x]  # note" → "mcp.x"), into name; false
 * for any other line. */
static bool header_of(const char *line, char *name, size_t cap)
{
    line += strspn(line, " \t");
    if (*line != '[')
        return false;
    const char *end = strchr(line, ']');
    if (!end)
        return false;
    const char *s = line + 1;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    const char *e = end;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    snprintf(name, cap, "%.*s", (int)(e - s), s);
    return true;
}

/* The file's text without [section]; *found says whether it was there. */
static int read_without(const char *path, const char *section, er_buf *out, bool *found,
                        er_error *err)
{
    *found = false;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT
                   ? 0
                   : er_error_set(err, ER_EIO, "cannot read %s: %s", path, strerror(errno));
    char *line = NULL, name[256];
    size_t cap = 0;
    bool skipping = false;
    while (getline(&line, &cap, f) >= 0) {
        if (header_of(line, name, sizeof name))
            skipping = strcmp(name, section) == 0;
        *found |= skipping;
        if (!skipping)
            er_buf_puts(out, line);
    }
    free(line);
    int failed = ferror(f);
    fclose(f);
    return failed ? er_error_set(err, ER_EIO, "cannot read %s", path) : 0;
}

bool er_config_file_has(const char *path, const char *section)
{
    er_buf b = ER_BUF_INIT;
    bool found = false;
    read_without(path, section, &b, &found, NULL);
    er_buf_release(&b);
    return found;
}

static int write_atomically(const char *path, const er_buf *text, er_error *err)
{
    struct stat st;
    unsigned mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0600;
    return er_file_replace(path, text->ptr ? text->ptr : "", text->len, mode, true, err);
}

int er_config_file_put(const char *path, const char *section, const er_strv *keys,
                       const er_strv *values, er_error *err)
{
    for (size_t i = 0; keys && i < keys->n; i++)
        if (strpbrk(keys->v[i], "\r\n=") || strpbrk(values->v[i], "\r\n"))
            return er_error_set(err, ER_EINVAL, "%s.%s: a value cannot hold a line break", section,
                                keys->v[i]);
    er_buf text = ER_BUF_INIT;
    bool found = false;
    int rc = read_without(path, section, &text, &found, err);
    if (rc == 0 && !found && !keys)
        rc = er_error_set(err, ER_ENOTFOUND, "there is no [%s] in %s", section, path);
    if (rc == 0 && keys) {
        while (text.len >= 2 && text.ptr[text.len - 1] == '\n' && text.ptr[text.len - 2] == '\n')
            text.len--;
        if (text.len && text.ptr[text.len - 1] != '\n')
            er_buf_putc(&text, '\n');
        er_buf_printf(&text, "%s[%s]\n", text.len ? "\n" : "", section);
        for (size_t i = 0; i < keys->n; i++) {
            const char *v = values->v[i];
            size_t vl = strlen(v);
            bool quote = vl >= 2 && v[0] == '"' && v[vl - 1] == '"';
            er_buf_printf(&text, "%s = %s%s%s\n", keys->v[i], quote ? "\"" : "", v,
                          quote ? "\"" : "");
        }
    }
    if (rc == 0)
        rc = write_atomically(path, &text, err);
    er_buf_release(&text);
    return rc;
}
