/* body.c — request bodies: the headers a JSON body must come with (type,
 * size within server.max_body), then parsing and validation against the
 * route's fields, with a 400 that names the field that is wrong: unknown
 * fields, wrong types, empty or over-long strings, invalid UTF-8, missing
 * required fields. */
#include "server.h"

#include <stdio.h>
#include <strings.h>


bool srv_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xc2) || (n == 3 && *p > 0xf4))
            return false;
        unsigned cp = n ? (*p & (0x3f >> n)) : *p;
        p++;
        for (int i = 0; i < n; i++, p++) {
            if (p >= end || (*p & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*p & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && cp < 0x10000) || cp > 0x10ffff)
            return false;
    }
    return true;
}

static const char *type_name(srv_type t)
{
    static const char *const names[] = { "a string", "an object", "a boolean", "an integer" };
    return names[t];
}

static bool type_ok(const cJSON *v, srv_type t)
{
    switch (t) {
    case SRV_T_STRING: return cJSON_IsString(v);
    case SRV_T_OBJECT: return cJSON_IsObject(v);
    case SRV_T_BOOL: return cJSON_IsBool(v);
    case SRV_T_INT: return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble;
    }
    return false;
}

static const srv_field *field_named(const srv_field *fields, const char *name)
{
    for (size_t i = 0; fields && fields[i].name; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* Every field known, of its type and size; required ones present. */
static int validate(srv_req *r, const cJSON *obj)
{
    const srv_field *fields = r->route->body;
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        const srv_field *f = field_named(fields, v->string);
        if (!f)
            return srv_reply_error(r, 400, v->string, "unknown field '%.64s'", v->string);
        if (cJSON_IsNull(v) && !f->required)
            continue;
        if (!type_ok(v, f->type))
            return srv_reply_error(r, 400, f->name, "field '%s' must be %s", f->name,
                                   type_name(f->type));
        if (f->type == SRV_T_STRING && f->max_len && strlen(v->valuestring) > f->max_len)
            return srv_reply_error(r, 400, f->name, "field '%s' is longer than %zu bytes", f->name,
                                   f->max_len);
        if (f->type == SRV_T_STRING && f->required && !v->valuestring[0])
            return srv_reply_error(r, 400, f->name, "field '%s' is empty", f->name);
    }
    /* cJSON keeps both of {"message":"a","message":"b"}; which one counts
     * would be anyone's guess. */
    for (size_t i = 0; fields && fields[i].name; i++) {
        int n = 0;
        cJSON_ArrayForEach(v, obj) n += strcmp(v->string, fields[i].name) == 0;
        if (n > 1)
            return srv_reply_error(r, 400, fields[i].name, "field '%s' is given %d times",
                                   fields[i].name, n);
    }
    for (size_t i = 0; fields && fields[i].name; i++)
        if (fields[i].required && !cJSON_GetObjectItemCaseSensitive(obj, fields[i].name))
            return srv_reply_error(r, 400, fields[i].name, "field '%s' is required",
                                   fields[i].name);
    return 0;
}

/* On the headers of a body route: JSON declared, size within the cap. */
int srv_body_headers(srv_req *r)
{
    const char *ct = srv_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] && ct[16] != ';' && ct[16] != ' '))
        return srv_reply_error(r, 415, NULL, "send the body as Content-Type: application/json");
    const char *cl = srv_header(r, "Content-Length");
    long len = 0;
    long max = r->s->cfg->max_body;
    if (cl && er_str_to_long(cl, &len) == 0 && len > max)
        return srv_reply_error(r, 413, NULL,
                               "the body is %ld bytes; the limit is %ld "
                               "(server.max_body)",
                               len, max);
    return 0;
}

bool srv_json_has_nul(const char *s, size_t len)
{
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        if (!in_str) {
            in_str = s[i] == '"';
        } else if (esc) {
            esc = false;
            if (s[i] == 'u' && len - i > 4 && memcmp(s + i + 1, "0000", 4) == 0)
                return true;
        } else if (s[i] == '\\') {
            esc = true;
        } else if (s[i] == '"') {
            in_str = false;
        }
    }
    return false;
}

static bool str_utf8(const char *s)
{
    return !s || srv_utf8_valid(s, strlen(s));
}

static bool tree_utf8(const cJSON *v)
{
    if (!str_utf8(v->string) || (cJSON_IsString(v) && !str_utf8(v->valuestring)))
        return false;
    const cJSON *c;
    cJSON_ArrayForEach(c, v) if (!tree_utf8(c)) return false;
    return true;
}

/* The body is not UTF-8: a 400 naming the top-level field it is in, when the
 * field's own name is readable (the message must not echo the bad bytes). */
static int not_utf8(srv_req *r, const cJSON *obj)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) if (!tree_utf8(v) && str_utf8(v->string)) return srv_reply_error(
        r, 400, v->string, "field '%.64s' is not valid UTF-8", v->string);
    return srv_reply_error(r, 400, NULL, "the body is not valid UTF-8");
}

int srv_body_parse(srv_req *r)
{
    cJSON *j = NULL;
    er_error err = { 0 };
    int status = 0;
    if (r->in.len == 0)
        status = srv_reply_error(r, 400, NULL, "the body is empty; expected a JSON object");
    else if (srv_json_has_nul(r->in.ptr, r->in.len))
        status = srv_reply_error(r, 400, NULL,
                                 "the body has a NUL character (\\u0000) in a "
                                 "string; NUL is not allowed");
    else if (srv_json_parse(&j, r->in.ptr, r->in.len, &err))
        status = srv_reply_error(r, 400, NULL, "the body is not valid JSON: %s", err.msg);
    else if (!cJSON_IsObject(j))
        status = srv_reply_error(r, 400, NULL, "the body must be a JSON object");
    else if (!srv_utf8_valid(r->in.ptr, r->in.len))
        status = not_utf8(r, j);
    else if (r->route->flags & SRV_BODY)
        status = validate(r, j);
    if (status)
        cJSON_Delete(j);
    else
        r->body = j;
    return status;
}
