/* offline_text.c — a tool's JSON result as text a person reads: the offline
 * brain's answer to a plain command (offline.h, er_offline_result_text).
 *
 * The shape is generic, because every agent's tools answer with JSON objects
 * of the same few kinds: single values become aligned "name: value" lines,
 * lists of objects become tables (or, too wide for one line each, a block of
 * "name: value" lines per item), texts of several lines (file text, command
 * output, diffs) are printed as text.  No tool needs its own formatter, so a
 * new tool reads well offline from its first day. */
#include "errand/offline.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/str.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A table wider than this is shown as one block per row; a cell longer than
 * CELL_MAX is cut; a list of strings longer than LIST_WIDTH goes one a line. */
#define TABLE_WIDTH 100
#define TABLE_COLS  8
#define CELL_MAX    48
#define LIST_WIDTH  80

static void put_value(er_buf *b, const cJSON *v, int indent);

/* Columns a UTF-8 string takes (one per character; wide characters are rare
 * in tool results and only cost alignment). */
static size_t width_of(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Text from a tool goes to a terminal: control characters other than tab and
 * newline (escape sequences) are shown as '?'; one_line also folds line ends. */
static void put_clean(er_buf *b, const char *s, bool one_line)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (one_line && (ch == '\n' || ch == '\t'))
            er_buf_putc(b, ' ');
        else
            er_buf_putc(b, (ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f ? '?' : *s);
    }
}

static void put_number(er_buf *b, double d)
{
    if (d == floor(d) && fabs(d) < 1e15)
        er_buf_printf(b, "%lld", (long long)d);
    else
        er_buf_printf(b, "%.6g", d);
}

static bool is_scalar(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v);
}

/* A value on one line: lists joined with ", ", objects as "k=v" pairs. */
static void put_inline(er_buf *b, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        put_clean(b, v->valuestring, true);
    } else if (cJSON_IsNumber(v)) {
        put_number(b, v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        er_buf_puts(b, cJSON_IsTrue(v) ? "yes" : "no");
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child)
                er_buf_puts(b, obj ? " " : ", ");
            if (obj && e->string)
                er_buf_printf(b, "%s=", e->string);
            put_inline(b, e);
        }
    }
}

/* A cell of a table: put_inline, cut at CELL_MAX columns.  OWNED. */
static char *cell_text(const cJSON *v)
{
    er_buf c = ER_BUF_INIT;
    put_inline(&c, v);
    char *s = er_buf_detach(&c);
    if (width_of(s) > CELL_MAX) {
        size_t cut = 0, w = 0;
        while (s[cut] && w < CELL_MAX - 1) {
            cut++;
            while (((unsigned char)s[cut] & 0xC0) == 0x80)
                cut++;
            w++;
        }
        s[cut] = '\0';
        char *cutdown = er_xasprintf("%s…", s);
        free(s);
        s = cutdown;
    }
    return s;
}

/* Strings of several lines, and lists of strings too long for one line. */
static bool is_block(const cJSON *v)
{
    if (cJSON_IsString(v))
        return strchr(v->valuestring, '\n') != NULL;
    if (!cJSON_IsArray(v) || !v->child)
        return false;
    size_t width = 0;
    for (const cJSON *e = v->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return false;
        width += width_of(e->valuestring) + 2;
    }
    return width > LIST_WIDTH;
}

static bool is_table(const cJSON *v)
{
    if (!cJSON_IsArray(v) || !v->child)
        return false;
    for (const cJSON *e = v->child; e; e = e->next)
        if (!cJSON_IsObject(e))
            return false;
    return true;
}

/* A list of lists of single values: the rows of a query's result. */
static bool is_grid(const cJSON *v)
{
    if (!cJSON_IsArray(v) || !v->child)
        return false;
    for (const cJSON *r = v->child; r; r = r->next) {
        if (!cJSON_IsArray(r))
            return false;
        for (const cJSON *e = r->child; e; e = e->next)
            if (!is_scalar(e))
                return false;
    }
    return true;
}

/* The sibling "columns" of a grid, when it is a list of names as long as
 * every row: the grid's header.  BORROWED, or NULL. */
static const cJSON *grid_header(const cJSON *o)
{
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(o, "columns");
    const cJSON *grid = NULL;
    for (const cJSON *v = o->child; v && !grid; v = v->next)
        if (is_grid(v))
            grid = v;
    if (!grid || !cJSON_IsArray(cols))
        return NULL;
    int n = cJSON_GetArraySize(cols);
    for (const cJSON *c = cols->child; c; c = c->next)
        if (!cJSON_IsString(c))
            return NULL;
    for (const cJSON *r = grid->child; r; r = r->next)
        if (cJSON_GetArraySize(r) != n)
            return NULL;
    return cols;
}

/* A grid as a list of objects keyed by the header's names (or "1", "2", …)
 * so that it is printed as a table.  OWNED. */
static cJSON *grid_rows(const cJSON *grid, const cJSON *header)
{
    cJSON *rows = cJSON_CreateArray();
    for (const cJSON *r = grid->child; r; r = r->next) {
        cJSON *row = cJSON_CreateObject();
        const cJSON *h = header ? header->child : NULL;
        int i = 1;
        for (const cJSON *e = r->child; e; e = e->next, i++) {
            char num[16];
            snprintf(num, sizeof num, "%d", i);
            cJSON_AddItemToObject(row, h ? h->valuestring : num, cJSON_Duplicate(e, 1));
            h = h ? h->next : NULL;
        }
        cJSON_AddItemToArray(rows, row);
    }
    return rows;
}

/* Shown on a "name: value" line: single values and short lists of them. */
static bool is_line(const cJSON *v)
{
    if (is_scalar(v))
        return !is_block(v);
    if (!cJSON_IsArray(v) || is_block(v) || is_grid(v))
        return false;
    for (const cJSON *e = v->child; e; e = e->next)
        if (!is_scalar(e))
            return false;
    return true;
}

static void put_indent(er_buf *b, int indent)
{
    for (int i = 0; i < indent; i++)
        er_buf_putc(b, ' ');
}

/* A key as a label: "files_searched" reads "files searched". */
static char *label_of(const char *key)
{
    char *s = er_xstrdup(key ? key : "");
    for (char *p = s; *p; p++)
        if (*p == '_')
            *p = ' ';
    return s;
}

/* The line fields of an object, labels aligned.  Nulls are left out. */
static void put_lines(er_buf *b, const cJSON *o, const cJSON *skip, int indent)
{
    size_t width = 0;
    for (const cJSON *v = o->child; v; v = v->next)
        if (is_line(v) && !cJSON_IsNull(v) && v != skip && strlen(v->string) > width)
            width = strlen(v->string);
    for (const cJSON *v = o->child; v; v = v->next) {
        if (!is_line(v) || cJSON_IsNull(v) || v == skip)
            continue;
        char *label = label_of(v->string);
        put_indent(b, indent);
        er_buf_printf(b, "%s:%*s ", label, (int)(width - strlen(label)), "");
        if (cJSON_IsArray(v) && !v->child)
            er_buf_puts(b, "none");
        else
            put_inline(b, v);
        er_buf_putc(b, '\n');
        free(label);
    }
}

static void put_text(er_buf *b, const cJSON *v, int indent)
{
    if (cJSON_IsString(v)) {
        put_clean(b, v->valuestring, false);
        if (b->len && b->ptr[b->len - 1] != '\n')
            er_buf_putc(b, '\n');
        return;
    }
    for (const cJSON *e = v->child; e; e = e->next) {
        put_indent(b, indent);
        put_inline(b, e);
        er_buf_putc(b, '\n');
    }
}

/* ---- tables ---- */

typedef struct table {
    const char *keys[TABLE_COLS + 1];
    size_t ncols;
    size_t width[TABLE_COLS + 1];
    bool numeric[TABLE_COLS + 1];
    bool too_wide;
} table;

static int column_of(const table *t, const char *key)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->keys[i], key) == 0)
            return (int)i;
    return -1;
}

/* The columns (keys in first-seen order), their widths, and whether the
 * table fits TABLE_WIDTH with at most TABLE_COLS columns. */
static void measure(table *t, const cJSON *rows)
{
    memset(t, 0, sizeof *t);
    for (const cJSON *r = rows->child; r; r = r->next)
        for (const cJSON *v = r->child; v; v = v->next) {
            int c = column_of(t, v->string);
            if (c < 0) {
                if (t->ncols == TABLE_COLS) {
                    t->too_wide = true;
                    return;
                }
                c = (int)t->ncols++;
                t->keys[c] = v->string;
                t->width[c] = width_of(v->string);
                t->numeric[c] = true;
            }
            char *s = cell_text(v);
            size_t w = width_of(s);
            t->width[c] = w > t->width[c] ? w : t->width[c];
            t->numeric[c] = t->numeric[c] && (cJSON_IsNumber(v) || cJSON_IsNull(v));
            free(s);
        }
    size_t total = 0;
    for (size_t c = 0; c < t->ncols; c++)
        total += t->width[c] + 2;
    t->too_wide = total > TABLE_WIDTH;
}

static void put_cell(er_buf *b, const char *s, size_t width, bool right, bool last)
{
    size_t pad = width - width_of(s);
    if (right)
        er_buf_printf(b, "%*s", (int)pad, "");
    er_buf_puts(b, s);
    if (!right && !last)
        er_buf_printf(b, "%*s", (int)pad, "");
    if (!last)
        er_buf_puts(b, "  ");
}

static void put_row_end(er_buf *b)
{
    while (b->len && b->ptr[b->len - 1] == ' ')
        b->len--;
    b->ptr[b->len] = '\0';
    er_buf_putc(b, '\n');
}

static void put_table(er_buf *b, const cJSON *rows, int indent, bool heads)
{
    table t;
    measure(&t, rows);
    if (t.too_wide) { /* one block of lines per row */
        for (const cJSON *r = rows->child; r; r = r->next) {
            if (r != rows->child)
                er_buf_putc(b, '\n');
            put_value(b, r, indent);
        }
        return;
    }
    for (size_t c = 0; heads && c < t.ncols; c++) {
        char *head = er_xstrdup(t.keys[c]);
        for (char *p = head; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if (c == 0)
            put_indent(b, indent);
        put_cell(b, head, t.width[c], t.numeric[c], c + 1 == t.ncols);
        free(head);
    }
    if (heads)
        put_row_end(b);
    for (const cJSON *r = rows->child; r; r = r->next) {
        put_indent(b, indent);
        for (size_t c = 0; c < t.ncols; c++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, t.keys[c]);
            char *s = v ? cell_text(v) : er_xstrdup("");
            put_cell(b, s, t.width[c], t.numeric[c], c + 1 == t.ncols);
            free(s);
        }
        put_row_end(b);
    }
}

/* ---- objects ---- */

/* An object: its line fields first, then each list, table, text or nested
 * object under its name. */
static void put_object(er_buf *b, const cJSON *o, int indent)
{
    const cJSON *header = grid_header(o);
    put_lines(b, o, header, indent);
    for (const cJSON *v = o->child; v; v = v->next) {
        if (is_line(v))
            continue;
        if (b->len)
            er_buf_putc(b, '\n');
        char *label = label_of(v->string);
        put_indent(b, indent);
        er_buf_printf(b, "%s:\n", label);
        free(label);
        if (cJSON_IsString(v)) {
            put_text(b, v, 0);
        } else if (is_grid(v)) {
            cJSON *rows = grid_rows(v, header);
            put_table(b, rows, indent + 2, header != NULL);
            cJSON_Delete(rows);
        } else {
            put_value(b, v, indent + 2);
        }
    }
}

static void put_value(er_buf *b, const cJSON *v, int indent)
{
    if (cJSON_IsObject(v)) {
        put_object(b, v, indent);
    } else if (is_table(v)) {
        put_table(b, v, indent, true);
    } else if (is_grid(v)) {
        cJSON *rows = grid_rows(v, NULL);
        put_table(b, rows, indent, false);
        cJSON_Delete(rows);
    } else if (cJSON_IsArray(v)) {
        for (const cJSON *e = v->child; e; e = e->next) {
            if (is_scalar(e)) {
                put_indent(b, indent);
                put_inline(b, e);
                er_buf_putc(b, '\n');
            } else {
                put_indent(b, indent);
                er_buf_puts(b, "-\n");
                put_value(b, e, indent + 2);
            }
        }
    } else if (cJSON_IsString(v)) {
        put_text(b, v, indent);
    } else {
        put_indent(b, indent);
        put_inline(b, v);
        er_buf_putc(b, '\n');
    }
}

char *er_offline_result_text(const cJSON *result)
{
    er_buf b = ER_BUF_INIT;
    if (result)
        put_value(&b, result, 0);
    return er_buf_detach(&b);
}
