/* offline_cmd.c — plain commands for the offline brain: "grep TODO src" becomes
 * a call of the tool whose offline form is "grep PATTERN [PATH]", with
 * {"pattern":"TODO","path":"src"} coerced to the tool's JSON schema.  The form
 * language is documented in offline.h. */
#include "errand/offline.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Values come from a user's line; nothing longer is a sensible argument word. */
#define WORD_MAX (64 * 1024)

/* ---- the form: "grep PATTERN [PATH]" ---- */

typedef struct form_word {
    char word[64];   /* as written, without [ ], ... and a suffix */
    char name[64];   /* parameter name lower-cased, or the literal */
    bool param;      /* upper-case: a schema property */
    bool optional;   /* [X] */
    bool rest;       /* X...: the rest of the line */
    char suffix[64]; /* "[:START[-END]]" after a parameter, or "" */
} form_word;

/* Sets word, name and param from the text s..e of one form word. */
static void name_word(form_word *out, const char *s, const char *e)
{
    bool upper = false, lower = false;
    size_t n = 0;
    for (const char *q = s; q < e && n + 1 < sizeof out->name; q++) {
        upper |= isupper((unsigned char)*q) != 0;
        lower |= islower((unsigned char)*q) != 0;
        out->name[n++] = *q == '-' ? '_' : (char)tolower((unsigned char)*q);
    }
    out->name[n] = '\0';
    out->param = upper && !lower;
    snprintf(out->word, sizeof out->word, "%.*s", (int)(e - s), s);
    if (!out->param) /* literals keep their spelling */
        memcpy(out->name, out->word, sizeof out->name);
}

/* Reads the next word of a form; false at its end. */
static bool next_form_word(const char **p, form_word *out)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (!*s)
        return false;
    const char *e = s;
    while (*e && *e != ' ')
        e++;
    *p = e;
    memset(out, 0, sizeof *out);
    if (*s == '[' && e[-1] == ']') {
        out->optional = true;
        s++;
        e--;
    }
    if (e - s > 3 && memcmp(e - 3, "...", 3) == 0) {
        out->rest = true;
        e -= 3;
    }
    const char *bracket = memchr(s, '[', (size_t)(e - s));
    if (bracket && bracket > s && !out->rest) {
        snprintf(out->suffix, sizeof out->suffix, "%.*s", (int)(e - bracket), bracket);
        e = bracket;
    }
    name_word(out, s, e);
    return true;
}

/* A parameter word with optional suffix parameters, "PATH[:START[-END]]":
 * part 0 is the word itself; part i > 0 follows the character sep[i] and is
 * only there when part i - 1 is. */
#define CHAIN_MAX 4

typedef struct chain {
    size_t n;
    char sep[CHAIN_MAX];
    form_word part[CHAIN_MAX];
    const cJSON *prop[CHAIN_MAX]; /* their schema properties */
    const char *key[CHAIN_MAX];   /* and names */
} chain;

/* Reads fw and its suffix into c; false when the suffix is malformed. */
static bool read_chain(const form_word *fw, chain *c)
{
    const char *s = fw->suffix;
    size_t open = 0;
    memset(c, 0, sizeof *c);
    c->part[c->n++] = *fw;
    while (*s == '[') {
        if (c->n == CHAIN_MAX || !ispunct((unsigned char)s[1]) || s[1] == '[' || s[1] == ']')
            return false;
        c->sep[c->n] = s[1];
        const char *e = s += 2;
        while (*e && *e != '[' && *e != ']')
            e++;
        name_word(&c->part[c->n], s, e);
        if (!c->part[c->n++].param)
            return false;
        open++;
        s = e;
    }
    while (open && *s == ']') {
        s++;
        open--;
    }
    return open == 0 && *s == '\0';
}

/* ---- the line: words with "…" and '…' quoting ---- */

static size_t skip_blanks(const char *s, size_t i)
{
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    return i;
}

/* Appends the quoted string opening at s[*i]; ER_EINVAL when it never closes. */
static int read_quoted(const char *s, size_t *i, er_buf *out, er_error *err)
{
    char q = s[*i];
    size_t j = *i + 1;
    for (; s[j] && s[j] != q; j++) {
        if (q == '"' && s[j] == '\\' && (s[j + 1] == '"' || s[j + 1] == '\\'))
            j++;
        if (er_buf_putc(out, s[j]) < 0)
            return er_error_set(err, ER_ETOOBIG, "a word is longer than %d bytes", WORD_MAX);
    }
    if (!s[j])
        return er_error_set(err, ER_EINVAL, "unterminated %c quote", q);
    *i = j + 1;
    return 0;
}

/* Reads the word at *pos into out: 1, 0 at the end of the line, or an error. */
static int next_word(const char *s, size_t *pos, er_buf *out, er_error *err)
{
    size_t i = skip_blanks(s, *pos);
    er_buf_reset(out);
    if (!s[i]) {
        *pos = i;
        return 0;
    }
    bool word_start = true;
    while (s[i] && !isspace((unsigned char)s[i])) {
        int rc = 0;
        if (word_start && (s[i] == '"' || s[i] == '\''))
            rc = read_quoted(s, &i, out, err);
        else if (er_buf_putc(out, s[i++]) < 0)
            rc = er_error_set(err, ER_ETOOBIG, "a word is longer than %d bytes", WORD_MAX);
        if (rc < 0)
            return rc;
        word_start = false;
    }
    *pos = i;
    return 1;
}

/* ---- values ---- */

static const char *schema_type(const cJSON *prop)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(prop, "type");
    if (cJSON_IsString(t))
        return t->valuestring;
    const cJSON *e;
    cJSON_ArrayForEach(e, t)
    { /* ["integer", "null"] */
        if (cJSON_IsString(e) && strcmp(e->valuestring, "null") != 0)
            return e->valuestring;
    }
    return "string";
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1", "y" };
    static const char *const no[] = { "false", "no", "off", "0", "n" };
    for (size_t i = 0; i < ER_ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    return ER_EINVAL;
}

static int coerce(const cJSON *prop, const char *v, cJSON **out);

/* "a,b,c" (or a JSON array) as an array of the item type. */
static int coerce_array(const cJSON *prop, const char *v, cJSON **out)
{
    if (*v == '[')
        return er_json_parse(out, v, strlen(v), NULL) == 0 && cJSON_IsArray(*out) ? 0 : ER_EINVAL;
    const cJSON *items = er_json_obj(prop, "items");
    cJSON *arr = cJSON_CreateArray();
    while (*v) {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);
        char *item = er_xstrndup(v, n);
        cJSON *val = NULL;
        int rc = coerce(items, er_str_trim(item), &val);
        free(item);
        if (rc < 0) {
            cJSON_Delete(arr);
            return rc;
        }
        er_json_append(arr, val);
        v += n + (comma != NULL);
    }
    *out = arr;
    return 0;
}

/* Converts a word to the property's schema type; ER_EINVAL when it is not one. */
static int coerce(const cJSON *prop, const char *v, cJSON **out)
{
    const char *type = schema_type(prop);
    long l;
    double d;
    bool b;
    *out = NULL;
    if (strcmp(type, "integer") == 0) {
        if (er_str_to_long(v, &l) < 0)
            return ER_EINVAL;
        *out = cJSON_CreateNumber((double)l);
    } else if (strcmp(type, "number") == 0) {
        if (er_str_to_double(v, &d) < 0)
            return ER_EINVAL;
        *out = cJSON_CreateNumber(d);
    } else if (strcmp(type, "boolean") == 0) {
        if (parse_bool(v, &b) < 0)
            return ER_EINVAL;
        *out = cJSON_CreateBool(b);
    } else if (strcmp(type, "array") == 0) {
        return coerce_array(prop, v, out);
    } else if (strcmp(type, "object") == 0) {
        if (er_json_parse(out, v, strlen(v), NULL) < 0 || !cJSON_IsObject(*out)) {
            cJSON_Delete(*out);
            *out = NULL;
            return ER_EINVAL;
        }
    } else {
        *out = cJSON_CreateString(v);
    }
    return 0;
}

/* ---- matching one tool ---- */

typedef struct match {
    const er_tool *tool;
    const char *line;
    size_t pos;    /* into line */
    cJSON *schema; /* the tool's parameters, parsed */
    cJSON *args;
    size_t nparams; /* parameter words seen so far */
    er_buf word;
    bool options_done; /* "--" seen: no more option words */
} match;

static const char *option_text(const match *m, char *buf, size_t size);

static int usage_error(const match *m, er_error *err, const char *problem)
{
    char opts[256];
    return er_error_set(err, ER_EINVAL, "%s: %s; usage: %s%s", m->tool->name, problem,
                        m->tool->offline, option_text(m, opts, sizeof opts));
}

/* The schema property a parameter word stands for: same name, else the one at
 * position pos. */
static const cJSON *find_property(const match *m, const form_word *fw, size_t pos,
                                  const char **name)
{
    const cJSON *props = er_json_obj(m->schema, "properties");
    const cJSON *p;
    size_t i = 0;
    cJSON_ArrayForEach(p, props)
    {
        char norm[64];
        size_t n = 0;
        for (const char *q = p->string; *q && n + 1 < sizeof norm; q++)
            norm[n++] = *q == '-' ? '_' : (char)tolower((unsigned char)*q);
        norm[n] = '\0';
        if (strcmp(norm, fw->name) == 0)
            break;
    }
    if (!p) {
        cJSON_ArrayForEach(p, props)
        {
            if (i++ == pos)
                break;
        }
    }
    if (p)
        *name = p->string;
    return p;
}

/* Sets part i of c to v in vals; ER_EINVAL when v is not of its type. */
static int set_part(const chain *c, size_t i, const char *v, cJSON *vals)
{
    cJSON *val = NULL;
    if (coerce(c->prop[i], v, &val) < 0)
        return ER_EINVAL;
    er_json_add(vals, c->key[i], val);
    return 0;
}

/* Sets parts i… of c from v (cut in place): part i takes v up to the last
 * occurrence of part i+1's separator when what follows sets parts i+1…, else
 * all of v.  So "a:b.c:10-20" is a:b.c, 10, 20 and "notes:v2" stays whole
 * when the part after ':' must be a number. */
static int set_chain(const chain *c, size_t i, char *v, cJSON *vals)
{
    char *cut = i + 1 < c->n ? strrchr(v, c->sep[i + 1]) : NULL;
    if (cut) {
        cJSON *parts = cJSON_CreateObject();
        *cut = '\0';
        if (set_part(c, i, v, parts) == 0 && set_chain(c, i + 1, cut + 1, parts) == 0) {
            cJSON *item;
            while ((item = parts->child) != NULL)
                cJSON_AddItemToObject(vals, item->string, cJSON_DetachItemViaPointer(parts, item));
            cJSON_Delete(parts);
            return 0;
        }
        cJSON_Delete(parts);
        *cut = c->sep[i + 1];
    }
    return set_part(c, i, v, vals);
}

/* The rest of the line, verbatim, or unquoted when it is one quoted word. */
static int take_rest(match *m, er_error *err)
{
    size_t start = skip_blanks(m->line, m->pos), pos = start;
    char *rest = er_xstrdup(m->line + start);
    er_str_trim(rest);
    er_buf_reset(&m->word);
    if ((*rest == '"' || *rest == '\'') && next_word(m->line, &pos, &m->word, NULL) == 1 &&
        !m->line[skip_blanks(m->line, pos)]) {
        free(rest);
        rest = er_buf_detach(&m->word);
    }
    er_buf_reset(&m->word);
    int rc = er_buf_puts(&m->word, rest);
    free(rest);
    m->pos = strlen(m->line);
    return rc < 0 ? er_error_set(err, rc, "%s: the text is too long", m->tool->name) : 0;
}

/* Looks up the schema properties of every part of c. */
static int chain_props(match *m, chain *c, er_error *err)
{
    for (size_t i = 0; i < c->n; i++) {
        c->prop[i] = find_property(m, &c->part[i], m->nparams + i, &c->key[i]);
        if (!c->prop[i])
            return er_error_set(err, ER_EINTERNAL,
                                "%s: offline form '%s' names no parameter "
                                "'%s'",
                                m->tool->name, m->tool->offline, c->part[i].name);
    }
    m->nparams += c->n;
    return 0;
}

/* Fills one parameter (and its suffix parameters) from the line; 1 when a value
 * was set, 0 when an optional one was absent. */
static int take_param(match *m, const form_word *fw, er_error *err)
{
    chain c;
    if (!read_chain(fw, &c))
        return er_error_set(err, ER_EINTERNAL,
                            "%s: offline form '%s' has a malformed suffix "
                            "'%s'",
                            m->tool->name, m->tool->offline, fw->suffix);
    int rc = chain_props(m, &c, err);
    if (rc < 0)
        return rc;
    rc = fw->rest ? take_rest(m, err) : next_word(m->line, &m->pos, &m->word, err);
    if (rc < 0)
        return rc;
    bool absent = fw->rest ? m->word.len == 0 : rc == 0;
    char problem[160];
    if (absent) {
        snprintf(problem, sizeof problem, "missing %s", fw->word);
        return fw->optional ? 0 : usage_error(m, err, problem);
    }
    char *v = er_xstrdup(er_buf_cstr(&m->word));
    rc = set_chain(&c, 0, v, m->args);
    free(v);
    if (rc < 0) {
        const char *type = schema_type(c.prop[0]);
        snprintf(problem, sizeof problem, "%s must be %s %s, not '%.40s'", fw->word,
                 strchr("aeiou", type[0]) ? "an" : "a", type, er_buf_cstr(&m->word));
        return usage_error(m, err, problem);
    }
    return 1;
}

/* A literal word of the form: ER_ENOTFOUND when the line does not repeat it
 * (another tool may share the command word). */
static int take_literal(match *m, const form_word *fw, er_error *err)
{
    size_t pos = m->pos;
    int rc = next_word(m->line, &pos, &m->word, err);
    if (rc < 0)
        return rc;
    if (rc == 1 && strcasecmp(er_buf_cstr(&m->word), fw->name) == 0) {
        m->pos = pos;
        return 0;
    }
    return fw->optional ? 0 : ER_ENOTFOUND;
}

static bool command_matches(const er_tool *t, const char *word)
{
    const char *form = t->offline;
    size_t n = strcspn(form, " ");
    return (strlen(word) == n && strncasecmp(word, form, n) == 0) || strcasecmp(word, t->name) == 0;
}

/* ---- options: "grep -i -C 2 --type c PATTERN" ---- */

/* The one-letter options Unix search tools agree on, each taken only when
 * the tool's schema has the property (or the property=value) it stands for. */
static const struct short_option {
    char letter;
    const char *property;
    const char *value; /* fixed value, or NULL: a boolean, or the next word */
} short_options[] = {
    { 'i', "ignore_case", NULL },
    { 'S', "smart_case", NULL },
    { 'F', "fixed_strings", NULL },
    { 'U', "multiline", NULL },
    { 'C', "context", NULL },
    { 'A', "after", NULL },
    { 'B', "before", NULL },
    { 't', "type", NULL },
    { 'g', "glob", NULL },
    { 'm', "max_results", NULL },
    { 'l', "output_mode", "files_with_matches" },
    { 'c', "output_mode", "count" },
};

/* Long options that stand for a property=value. */
static const struct long_option {
    const char *name;
    const char *property;
    const char *value;
} long_options[] = {
    { "files-with-matches", "output_mode", "files_with_matches" },
    { "count", "output_mode", "count" },
};

/* " (options: -i -C N …)" for the short options the tool takes, or "". */
static const char *option_text(const match *m, char *buf, size_t size)
{
    const cJSON *props = er_json_obj(m->schema, "properties");
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ER_ARRAY_LEN(short_options) && n + 32 < size; i++) {
        const cJSON *prop = er_json_obj(props, short_options[i].property);
        if (!prop)
            continue;
        bool flag = short_options[i].value || strcmp(schema_type(prop), "boolean") == 0;
        const char *arg = flag ? ""
                          : strcmp(schema_type(prop), "string") == 0
                              ? (short_options[i].letter == 't' ? " TYPE" : " GLOB")
                              : " N";
        n += (size_t)snprintf(buf + n, size - n, "%s-%c%s",
                              n ? " " : " (options: ", short_options[i].letter, arg);
    }
    if (n)
        snprintf(buf + n, size - n, ", --NAME[=VALUE] for any parameter)");
    return buf;
}

/* Sets property to v (a fixed value, the text after '=' or the next word). */
static int set_option(match *m, const char *property, const char *fixed, const char *inline_v,
                      er_error *err)
{
    const cJSON *prop = er_json_obj(er_json_obj(m->schema, "properties"), property);
    const char *type = schema_type(prop);
    char problem[160];
    char *v = NULL;
    if (fixed)
        v = er_xstrdup(fixed);
    else if (inline_v)
        v = er_xstrdup(inline_v);
    else if (strcmp(type, "boolean") == 0)
        v = er_xstrdup("true");
    else if (next_word(m->line, &m->pos, &m->word, err) == 1)
        v = er_xstrdup(er_buf_cstr(&m->word));
    if (!v) {
        snprintf(problem, sizeof problem, "option for %s needs a value", property);
        return usage_error(m, err, problem);
    }
    cJSON *val = NULL;
    int rc = coerce(prop, v, &val);
    if (rc < 0) {
        snprintf(problem, sizeof problem, "%s must be %s %s, not '%.40s'", property,
                 strchr("aeiou", type[0]) ? "an" : "a", type, v);
        free(v);
        return usage_error(m, err, problem);
    }
    free(v);
    cJSON_DeleteItemFromObjectCaseSensitive(m->args, property);
    er_json_add(m->args, property, val);
    return 0;
}

/* The option word w: its property, fixed value and inline value; false when
 * it is not an option of this tool (then it is an ordinary word). */
static bool read_option(const match *m, const char *w, const char **property, const char **fixed,
                        char *inline_v, size_t vsize, char *name, size_t nsize)
{
    const cJSON *props = er_json_obj(m->schema, "properties");
    inline_v[0] = '\0';
    *fixed = NULL;
    if (w[1] == '-') {
        const char *eq = strchr(w + 2, '=');
        size_t n = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
        if (n == 0 || n >= nsize)
            return false;
        for (size_t i = 0; i < ER_ARRAY_LEN(long_options); i++)
            if (strlen(long_options[i].name) == n && strncmp(w + 2, long_options[i].name, n) == 0 &&
                er_json_obj(props, long_options[i].property)) {
                *property = long_options[i].property;
                *fixed = long_options[i].value;
                return true;
            }
        for (size_t i = 0; i < n; i++)
            name[i] = w[2 + i] == '-' ? '_' : w[2 + i];
        name[n] = '\0';
        if (!er_json_obj(props, name))
            return false;
        *property = name;
        if (eq)
            snprintf(inline_v, vsize, "%s", eq + 1);
        return true;
    }
    for (size_t i = 0; i < ER_ARRAY_LEN(short_options); i++) {
        if (short_options[i].letter != w[1] || !er_json_obj(props, short_options[i].property))
            continue;
        const cJSON *prop = er_json_obj(props, short_options[i].property);
        bool flag = short_options[i].value || strcmp(schema_type(prop), "boolean") == 0;
        if (w[2] && flag) /* "-in" is no option of ours: a word */
            return false;
        *property = short_options[i].property;
        *fixed = short_options[i].value;
        if (w[2]) /* "-C2" */
            snprintf(inline_v, vsize, "%s", w + 2);
        return true;
    }
    return false;
}

/* Takes the option words at the current position; "--" ends them.  A quoted
 * word or one no option of the tool knows is left for the form. */
static int take_options(match *m, er_error *err)
{
    while (!m->options_done) {
        size_t start = skip_blanks(m->line, m->pos), pos = m->pos;
        if (m->line[start] != '-' || !m->line[start + 1] ||
            isspace((unsigned char)m->line[start + 1]))
            return 0;
        int rc = next_word(m->line, &pos, &m->word, err);
        if (rc < 0)
            return rc;
        const char *w = er_buf_cstr(&m->word);
        if (strcmp(w, "--") == 0) {
            m->pos = pos;
            m->options_done = true;
            return 0;
        }
        const char *property, *fixed;
        char inline_v[256], name[64];
        if (!read_option(m, w, &property, &fixed, inline_v, sizeof inline_v, name, sizeof name))
            return 0;
        char *prop = er_xstrdup(property);
        m->pos = pos;
        rc = set_option(m, prop, fixed, inline_v[0] ? inline_v : NULL, err);
        free(prop);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Walks the form after its command word. */
static int match_form(match *m, er_error *err)
{
    const char *f = m->tool->offline;
    form_word fw;
    next_form_word(&f, &fw); /* the command word, already matched */
    while (next_form_word(&f, &fw)) {
        int rc = fw.param ? take_options(m, err) : 0;
        if (rc == 0)
            rc = fw.param ? take_param(m, &fw, err) : take_literal(m, &fw, err);
        if (rc < 0)
            return rc;
    }
    int rc = take_options(m, err);
    if (rc < 0)
        return rc;
    size_t pos = m->pos;
    rc = next_word(m->line, &pos, &m->word, err);
    if (rc < 0)
        return rc;
    char problem[160];
    snprintf(problem, sizeof problem, "unexpected '%.60s'", er_buf_cstr(&m->word));
    return rc ? usage_error(m, err, problem) : 0;
}

static int match_tool(const er_tool *t, const char *line, size_t pos, cJSON **args_out,
                      er_error *err)
{
    match m = { .tool = t, .line = line, .pos = pos };
    er_buf_init(&m.word, WORD_MAX);
    m.schema = cJSON_Parse(t->parameters ? t->parameters : "{}");
    m.args = cJSON_CreateObject();
    int rc = m.schema
                 ? match_form(&m, err)
                 : er_error_set(err, ER_EINTERNAL, "%s: its parameter schema is not JSON", t->name);
    cJSON_Delete(m.schema);
    er_buf_release(&m.word);
    if (rc < 0) {
        cJSON_Delete(m.args);
        return rc;
    }
    *args_out = m.args;
    return 0;
}

int er_offline_parse_command(const er_tool *tools, size_t n, const char *line,
                             const er_tool **tool_out, cJSON **args_out, er_error *err)
{
    er_buf cmd;
    size_t pos = 0;
    int rc = ER_ENOTFOUND;
    *tool_out = NULL;
    *args_out = NULL;
    er_buf_init(&cmd, WORD_MAX);
    if (next_word(line ? line : "", &pos, &cmd, NULL) != 1) {
        er_buf_release(&cmd);
        return er_error_set(err, ER_ENOTFOUND, "no command given");
    }
    er_error first = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (!tools[i].offline || !command_matches(&tools[i], er_buf_cstr(&cmd)))
            continue;
        er_error e = { 0 };
        rc = match_tool(&tools[i], line, pos, args_out, &e);
        if (rc == 0) {
            *tool_out = &tools[i];
            break;
        }
        if (!first.code && rc != ER_ENOTFOUND)
            first = e;
    }
    if (rc < 0 && first.code)
        rc = er_error_set(err, first.code, "%s", first.msg);
    else if (rc < 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no offline command '%s'", er_buf_cstr(&cmd));
    er_buf_release(&cmd);
    return rc;
}

/* ---- prose that happens to fit a form ---- */

/* Words of English prose that are nobody's argument: articles, determiners,
 * pronouns, a few prepositions.  Words SQL and shell commands are full of
 * (from, in, on, by, and, or, with, as, for, if, all) are not among them. */
static const char *const prose_words[] = {
    "a",     "an",      "the",      "this",      "that",       "these",  "those", "my",
    "your",  "our",     "their",    "his",       "her",        "its",    "it",    "i",
    "me",    "you",     "we",       "us",        "they",       "them",   "he",    "him",
    "she",   "myself",  "yourself", "ourselves", "themselves", "itself", "to",    "of",
    "about", "whether", "how",      "why",       "what",       "which",  "who",   "please",
};

static bool is_prose_word(const char *w, const char *form)
{
    size_t n = strlen(w);
    while (n && strchr(",.:;!?", w[n - 1]))
        n--;
    bool prose = false;
    for (size_t i = 0; i < ER_ARRAY_LEN(prose_words) && !prose; i++)
        prose = strlen(prose_words[i]) == n && strncasecmp(w, prose_words[i], n) == 0;
    form_word fw;
    while (prose && next_form_word(&form, &fw))
        prose = fw.param || strlen(fw.name) != n || strncasecmp(w, fw.name, n) != 0;
    return prose;
}

bool er_offline_reads_as_prose(const er_tool *t, const char *line)
{
    er_buf w;
    size_t pos = 0;
    int words = 0, hits = 0;
    bool first = false;
    er_buf_init(&w, WORD_MAX);
    if (next_word(line ? line : "", &pos, &w, NULL) == 1) { /* the command word */
        for (;;) {
            size_t start = skip_blanks(line, pos);
            if (next_word(line, &pos, &w, NULL) != 1)
                break;
            /* A quoted word is a value as written, whatever its words. */
            bool quoted = line[start] == '"' || line[start] == '\'';
            if (!quoted && is_prose_word(er_buf_cstr(&w), t->offline ? t->offline : "")) {
                hits++;
                first |= words == 0;
            }
            words++;
        }
    }
    er_buf_release(&w);
    return first || hits >= 2;
}
