/* xlsx.c — a sheet of an Office Open XML workbook (.xlsx) as a row source.
 *
 * The workbook is a zip (libzip) of XML parts (libxml2's streaming reader, so
 * a big sheet is never held whole): xl/workbook.xml names the sheets and
 * their relationship ids, xl/_rels/workbook.xml.rels maps those to parts,
 * xl/sharedStrings.xml holds the text cells refer to by index, and
 * xl/styles.xml says which number formats are dates (cells store dates as
 * day counts since 1899-12-30).  The first row is the header when it looks
 * like one (as for CSV).  A row's "line" is its row number in the sheet. */
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/str.h"
#include "errand/xml.h"
#include "data_int.h"
#include "zip_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PART_MAX (256u * 1024 * 1024) /* uncompressed bytes read from one part */

struct part;

typedef struct xlsx {
    er_src base;
    zip_t *zip;
    char *sheet_part;
    char **strings; /* shared strings */
    size_t nstrings;
    bool *date_style; /* per cellXfs index */
    size_t nstyles;
    bool header;
    /* the sheet being read */
    struct part *io;
    xmlTextReaderPtr rd;
    er_buf text;
    size_t *off, *len_of; /* per column; SIZE_MAX: empty */
    er_cell *cells;
    size_t ccols, width;
    char problem[128];
} xlsx;

static const char *name_of(xmlTextReaderPtr r)
{
    const xmlChar *n = xmlTextReaderConstLocalName(r);
    return n ? (const char *)n : "";
}

static char *attr(xmlTextReaderPtr r, const char *name)
{
    xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)name);
    char *s = v ? er_xstrdup((const char *)v) : NULL;
    if (v)
        er_xml_free(v);
    return s;
}

/* ---- parts ---- */

typedef struct part { /* a part being read: the zip entry and the bytes taken */
    zip_file_t *f;
    uint64_t read;
} part;

static int part_read(void *ctx, char *buf, int len)
{
    part *p = ctx;
    if (p->read >= PART_MAX)
        return -1;
    zip_int64_t n = er_zip.zip_fread(p->f, buf, (zip_uint64_t)len);
    if (n > 0)
        p->read += (uint64_t)n;
    return n < 0 ? -1 : (int)n;
}

static int part_close(void *ctx)
{
    (void)ctx;
    return 0;
}

/* A streaming reader over a part of the zip; ER_ENOTFOUND when it is absent. */
static int open_part(xlsx *x, const char *name, part *p, xmlTextReaderPtr *out, er_error *err)
{
    p->read = 0;
    p->f = er_zip.zip_fopen(x->zip, name, 0);
    if (!p->f)
        return er_error_set(err, ER_ENOTFOUND, "%s: the workbook has no %s", x->base.display, name);
    *out =
        xmlReaderForIO(part_read, part_close, p, name, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    if (!*out) {
        er_zip.zip_fclose(p->f);
        return er_error_set(err, ER_EINVAL, "%s: cannot read %s", x->base.display, name);
    }
    return 0;
}

static void close_part(part *p, xmlTextReaderPtr r)
{
    xmlFreeTextReader(r);
    er_zip.zip_fclose(p->f);
}

static bool is_start(xmlTextReaderPtr r)
{
    return xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT;
}

/* ---- workbook: which part is the sheet ---- */

static int sheet_rel_id(xlsx *x, const char *want, char **rid, er_error *err)
{
    part p;
    xmlTextReaderPtr r;
    int rc = open_part(x, "xl/workbook.xml", &p, &r, err);
    if (rc)
        return rc;
    er_buf names = ER_BUF_INIT;
    while (!*rid && xmlTextReaderRead(r) == 1) {
        if (!is_start(r) || strcmp(name_of(r), "sheet") != 0)
            continue;
        char *name = attr(r, "name"), *id = attr(r, "r:id");
        if (!id)
            id = attr(r, "id");
        er_buf_printf(&names, "%s%s", names.len ? ", " : "", name ? name : "?");
        if (!want || er_str_eq(name, want)) {
            *rid = id;
            id = NULL;
        }
        free(name);
        free(id);
    }
    close_part(&p, r);
    if (!*rid)
        rc = want ? er_error_set(err, ER_ENOTFOUND, "%s has no sheet '%s' (sheets: %s)",
                                 x->base.display, want, er_buf_cstr(&names))
                  : er_error_set(err, ER_EINVAL, "%s has no sheets", x->base.display);
    er_buf_release(&names);
    return rc;
}

static int sheet_part(xlsx *x, const char *sheet, er_error *err)
{
    char *rid = NULL;
    int rc = sheet_rel_id(x, sheet, &rid, err);
    part p;
    xmlTextReaderPtr r;
    if (rc == 0)
        rc = open_part(x, "xl/_rels/workbook.xml.rels", &p, &r, err);
    if (rc) {
        free(rid);
        return rc;
    }
    while (!x->sheet_part && xmlTextReaderRead(r) == 1) {
        if (!is_start(r) || strcmp(name_of(r), "Relationship") != 0)
            continue;
        char *id = attr(r, "Id"), *target = attr(r, "Target");
        if (er_str_eq(id, rid) && target)
            x->sheet_part =
                target[0] == '/' ? er_xstrdup(target + 1) : er_xasprintf("xl/%s", target);
        free(id);
        free(target);
    }
    close_part(&p, r);
    free(rid);
    return x->sheet_part ? 0
                         : er_error_set(err, ER_EINVAL, "%s: the sheet's part is not listed",
                                        x->base.display);
}

/* ---- shared strings and styles ---- */

/* The text of the element the reader is on (its <t> descendants), up to its end. */
static void element_text(xmlTextReaderPtr r, const char *end, er_buf *out)
{
    if (xmlTextReaderIsEmptyElement(r))
        return;
    bool in_t = false;
    while (xmlTextReaderRead(r) == 1) {
        int type = xmlTextReaderNodeType(r);
        const char *n = name_of(r);
        if (type == XML_READER_TYPE_END_ELEMENT && strcmp(n, end) == 0)
            return;
        if (type == XML_READER_TYPE_ELEMENT && strcmp(n, "rPh") == 0) {
            /* phonetic hints are not part of the text */
            int depth = 1;
            while (depth && xmlTextReaderRead(r) == 1)
                if (strcmp(name_of(r), "rPh") == 0)
                    depth += xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT ? 1 : -1;
            continue;
        }
        if (strcmp(n, "t") == 0 || strcmp(n, "v") == 0)
            in_t = type == XML_READER_TYPE_ELEMENT && !xmlTextReaderIsEmptyElement(r);
        else if (in_t &&
                 (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE)) {
            const xmlChar *v = xmlTextReaderConstValue(r);
            er_buf_puts(out, v ? (const char *)v : "");
        }
    }
}

static int read_strings(xlsx *x, er_error *err)
{
    part p;
    xmlTextReaderPtr r;
    int rc = open_part(x, "xl/sharedStrings.xml", &p, &r, err);
    if (rc == ER_ENOTFOUND)
        return 0; /* a workbook of numbers only */
    if (rc)
        return rc;
    size_t cap = 0;
    er_buf s = ER_BUF_INIT;
    while (xmlTextReaderRead(r) == 1) {
        if (!is_start(r) || strcmp(name_of(r), "si") != 0)
            continue;
        er_buf_reset(&s);
        element_text(r, "si", &s);
        if (x->nstrings == cap) {
            cap = cap ? cap * 2 : 1024;
            x->strings = er_xrealloc(x->strings, cap * sizeof *x->strings);
        }
        x->strings[x->nstrings++] = er_xstrdup(er_buf_cstr(&s));
    }
    er_buf_release(&s);
    close_part(&p, r);
    return 0;
}

/* Built-in number formats that show dates or times (ECMA-376 18.8.30). */
static bool builtin_date(long id)
{
    return (id >= 14 && id <= 22) || (id >= 45 && id <= 47) || (id >= 27 && id <= 36) ||
           (id >= 50 && id <= 58);
}

/* A custom format code shows a date when it has d, m, y or h outside quotes
 * and brackets (colours like [Red] are not dates). */
static bool code_is_date(const char *code)
{
    bool quoted = false, bracket = false;
    for (const char *p = code; p && *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == '[')
            bracket = true;
        else if (!quoted && *p == ']')
            bracket = false;
        else if (!quoted && !bracket && *p == '\\')
            p += p[1] != '\0';
        else if (!quoted && !bracket && strchr("dmyhDMYH", *p))
            return true;
    }
    return false;
}

static int read_styles(xlsx *x, er_error *err)
{
    part p;
    xmlTextReaderPtr r;
    int rc = open_part(x, "xl/styles.xml", &p, &r, err);
    if (rc == ER_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    long custom_dates[256];
    size_t ncustom = 0, cap = 0;
    bool in_xfs = false;
    while (xmlTextReaderRead(r) == 1) {
        const char *n = name_of(r);
        if (strcmp(n, "cellXfs") == 0)
            in_xfs = is_start(r) && !xmlTextReaderIsEmptyElement(r);
        if (!is_start(r))
            continue;
        if (strcmp(n, "numFmt") == 0) {
            char *id = attr(r, "numFmtId"), *code = attr(r, "formatCode");
            long v;
            if (id && er_str_to_long(id, &v) == 0 && code_is_date(code) && ncustom < 256)
                custom_dates[ncustom++] = v;
            free(id);
            free(code);
        } else if (in_xfs && strcmp(n, "xf") == 0) {
            char *id = attr(r, "numFmtId");
            long v = -1;
            if (id)
                er_str_to_long(id, &v);
            free(id);
            bool date = builtin_date(v);
            for (size_t i = 0; i < ncustom && !date; i++)
                date = custom_dates[i] == v;
            if (x->nstyles == cap) {
                cap = cap ? cap * 2 : 64;
                x->date_style = er_xrealloc(x->date_style, cap * sizeof *x->date_style);
            }
            x->date_style[x->nstyles++] = date;
        }
    }
    close_part(&p, r);
    return 0;
}

/* ---- cells ---- */

/* Column index of a reference like "BC12" (0-based), or -1. */
static long column_of(const char *ref)
{
    long c = 0;
    const char *p = ref;
    for (; p && *p >= 'A' && *p <= 'Z'; p++)
        c = c * 26 + (*p - 'A' + 1);
    return p == ref || c > 16384 ? -1 : c - 1;
}

/* A date serial (days since 1899-12-30) as ISO text. */
static void put_date(er_buf *b, double serial)
{
    double days = floor(serial);
    double secs = round((serial - days) * 86400.0);
    if (secs >= 86400) {
        days += 1;
        secs -= 86400;
    }
    /* days from 1970-01-01, then civil-from-days (Howard Hinnant's algorithm) */
    long z = (long)days - 25569 + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    er_buf_printf(b, "%04ld-%02ld-%02ld", y, m, d);
    if (secs > 0) {
        long s = (long)secs;
        er_buf_printf(b, " %02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    }
}

static void set_cell(xlsx *x, long col, const char *type, long style, const char *raw)
{
    if (col < 0 || (size_t)col >= x->ccols)
        return;
    size_t start = x->text.len;
    long idx;
    double num;
    if (er_str_eq(type, "s")) {
        if (er_str_to_long(raw, &idx) != 0 || idx < 0 || (size_t)idx >= x->nstrings)
            return;
        er_buf_puts(&x->text, x->strings[idx]);
    } else if (er_str_eq(type, "b")) {
        er_buf_puts(&x->text, er_str_eq(raw, "1") ? "true" : "false");
    } else if (er_str_eq(type, "e")) {
        snprintf(x->problem, sizeof x->problem, "cell %c%ld holds the error %s; loaded as NULL",
                 (char)('A' + col % 26), x->base.line, raw);
        x->base.problem = x->problem;
        return;
    } else if (!type || er_str_eq(type, "n")) {
        if (style >= 0 && (size_t)style < x->nstyles && x->date_style[style] &&
            er_str_to_double(raw, &num) == 0)
            put_date(&x->text, num);
        else
            er_buf_puts(&x->text, raw);
    } else {
        er_buf_puts(&x->text, raw); /* str (formula text), inlineStr */
    }
    x->off[col] = start;
    x->len_of[col] = x->text.len - start;
    if ((size_t)col + 1 > x->width)
        x->width = (size_t)col + 1;
}

static void ensure_cols(xlsx *x, size_t n)
{
    if (n <= x->ccols)
        return;
    size_t c = n < 64 ? 64 : n * 2;
    x->off = er_xrealloc(x->off, c * sizeof *x->off);
    x->len_of = er_xrealloc(x->len_of, c * sizeof *x->len_of);
    x->cells = er_xrealloc(x->cells, c * sizeof *x->cells);
    for (size_t i = x->ccols; i < c; i++)
        x->off[i] = SIZE_MAX;
    x->ccols = c;
}

/* One <c> element: its type, style and value. */
static void read_cell(xlsx *x, long *next_col)
{
    char *ref = attr(x->rd, "r"), *type = attr(x->rd, "t"), *s = attr(x->rd, "s");
    long col = ref ? column_of(ref) : *next_col, style = -1;
    if (s)
        er_str_to_long(s, &style);
    *next_col = col + 1;
    if (col >= 0)
        ensure_cols(x, (size_t)col + 1);
    er_buf v = ER_BUF_INIT;
    element_text(x->rd, "c", &v);
    if (v.len)
        set_cell(x, col, type, style, er_buf_cstr(&v));
    er_buf_release(&v);
    free(ref);
    free(type);
    free(s);
}

/* The next <row>: 1, or 0 at the end of sheetData. */
static int read_row(xlsx *x)
{
    while (xmlTextReaderRead(x->rd) == 1) {
        if (!is_start(x->rd) || strcmp(name_of(x->rd), "row") != 0)
            continue;
        char *rn = attr(x->rd, "r");
        long r;
        x->base.line = rn && er_str_to_long(rn, &r) == 0 ? r : x->base.line + 1;
        free(rn);
        x->base.problem = NULL;
        er_buf_reset(&x->text);
        for (size_t i = 0; i < x->ccols; i++)
            x->off[i] = SIZE_MAX;
        x->width = 0;
        if (xmlTextReaderIsEmptyElement(x->rd))
            return 1;
        long next = 0;
        while (xmlTextReaderRead(x->rd) == 1) {
            int type = xmlTextReaderNodeType(x->rd);
            const char *n = name_of(x->rd);
            if (type == XML_READER_TYPE_END_ELEMENT && strcmp(n, "row") == 0)
                break;
            if (type == XML_READER_TYPE_ELEMENT && strcmp(n, "c") == 0)
                read_cell(x, &next);
        }
        for (size_t i = 0; i < x->width; i++)
            x->cells[i] = x->off[i] == SIZE_MAX
                              ? (er_cell){ NULL, 0 }
                              : (er_cell){ x->text.ptr + x->off[i], x->len_of[i] };
        return 1;
    }
    return 0;
}

static int start_sheet(xlsx *x, er_error *err)
{
    if (x->rd)
        close_part(x->io, x->rd);
    x->rd = NULL;
    x->base.line = 0;
    int rc = open_part(x, x->sheet_part, x->io, &x->rd, err);
    return rc;
}

static int src_next(er_src *s, const er_cell **cells, size_t *n, er_error *err)
{
    (void)err;
    xlsx *x = (xlsx *)s;
    for (;;) {
        if (!read_row(x))
            return 0;
        if (x->width == 0)
            continue; /* a row of formatting only */
        *cells = x->cells;
        *n = x->width;
        return 1;
    }
}

static int src_rewind(er_src *s, er_error *err)
{
    xlsx *x = (xlsx *)s;
    int rc = start_sheet(x, err);
    const er_cell *cells;
    size_t n;
    if (rc == 0 && x->header)
        src_next(s, &cells, &n, err);
    return rc;
}

static void src_close(er_src *s)
{
    xlsx *x = (xlsx *)s;
    if (x->rd)
        close_part(x->io, x->rd);
    if (x->zip)
        er_zip.zip_discard(x->zip);
    for (size_t i = 0; i < x->nstrings; i++)
        free(x->strings[i]);
    free(x->strings);
    free(x->date_style);
    free(x->sheet_part);
    er_buf_release(&x->text);
    free(x->off);
    free(x->len_of);
    free(x->cells);
    er_src_release(s);
    free(x->io);
    free(x);
}

static const er_src_ops xlsx_ops = { src_next, src_rewind, src_close };

static bool header_like(const er_cell *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!cells[i].p || er_infer_is_null(cells[i].p, cells[i].n))
            continue;
        er_infer in;
        er_infer_init(&in);
        er_infer_value(&in, cells[i].p, cells[i].n);
        if (er_infer_type(&in) != ER_DT_TEXT)
            return false;
    }
    return true;
}

static int read_header(xlsx *x, int header, er_error *err)
{
    int rc = start_sheet(x, err);
    const er_cell *cells;
    size_t n;
    if (rc == 0 && src_next(&x->base, &cells, &n, err) == 0)
        return er_error_set(err, ER_EINVAL, "%s: the sheet is empty; nothing to load",
                            x->base.display);
    if (rc)
        return rc;
    x->header = header < 0 ? header_like(cells, n) : header == 1;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "column_%zu", i + 1);
        if (x->header && cells[i].p)
            er_src_add_column(&x->base, cells[i].p, cells[i].n);
        else
            er_src_add_column(&x->base, name, strlen(name));
    }
    return 0;
}

static int open_zip(xlsx *x, const char *path, er_error *err)
{
    int code = 0;
    x->zip = er_zip.zip_open(path, ZIP_RDONLY, &code);
    if (x->zip)
        return 0;
    zip_error_t ze;
    er_zip.zip_error_init_with_code(&ze, code);
    int rc = er_error_set(err, ER_EINVAL, "%s is not a readable .xlsx workbook (%s)",
                          x->base.display, er_zip.zip_error_strerror(&ze));
    er_zip.zip_error_fini(&ze);
    return rc;
}

int er_xlsx_src_open(er_src **out, const er_data_load_opts *o, er_error *err)
{
    int rc = er_zip_load(err);
    if (rc == 0)
        rc = er_xml_load(err);
    if (rc)
        return rc;
    xlsx *x = er_xcalloc(1, sizeof *x);
    x->base.ops = &xlsx_ops;
    x->base.display = o->display;
    x->base.format = er_xstrdup("xlsx");
    x->io = er_xcalloc(1, sizeof *x->io);
    x->base.notes = cJSON_CreateArray();
    rc = open_zip(x, o->path, err);
    if (rc == 0)
        rc = sheet_part(x, o->sheet, err);
    if (rc == 0)
        rc = read_strings(x, err);
    if (rc == 0)
        rc = read_styles(x, err);
    if (rc == 0)
        rc = read_header(x, o->header, err);
    if (rc == 0)
        rc = src_rewind(&x->base, err);
    if (rc) {
        src_close(&x->base);
        return rc;
    }
    *out = &x->base;
    return 0;
}
