/* body.c — request bodies: the headers a JSON body must come with (type,
 * size within server.max_body), then parsing and validation against the
 * route's fields, with a 400 that names the field that is wrong: unknown
 * fields, wrong types, empty or over-long strings, invalid UTF-8, missing
 * required fields. */
#include "server.h"

#include <stdio.h>
#include <strings.h>


static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xc2) || (n == 3 && *p > 0xf4))
            return false;
        unsigned cp = n ? (*p & (0x3f >> n)) : *p;
        p++;
        for (int i = 0; i < n; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*p & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff)
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
    case SRV_T_STRING:
        return cJSON_IsString(v);
    case SRV_T_OBJECT:
        return cJSON_IsObject(v);
    case SRV_T_BOOL:
        return cJSON_IsBool(v);
    case SRV_T_INT:
        return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble;
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
    cJSON_ArrayForEach(v, obj) {
        const srv_field *f = field_named(fields, v->string);
        if (!f)
            return srv_reply_error(r, 400, v->string, "unknown field '%.64s'", v->string);
        if (cJSON_IsNull(v) && !f->required)
            continue;
        if (!type_ok(v, f->type))
            return srv_reply_error(r, 400, f->name, "field '%s' must be %s", f->name,
                                   type_name(f->type));
        if (f->type == SRV_T_STRING && !utf8_valid(v->valuestring))
            return srv_reply_error(r, 400, f->name, "field '%s' is not valid UTF-8", f->name);
        if (f->type == SRV_T_STRING && f->max_len && strlen(v->valuestring) > f->max_len)
            return srv_reply_error(r, 400, f->name, "field '%s' is longer than %zu bytes",
                                   f->name, f->max_len);
        if (f->type == SRV_T_STRING && f->required && !v->valuestring[0])
            return srv_reply_error(r, 400, f->name, "field '%s' is empty", f->name);
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
        return srv_reply_error(r, 413, NULL, "the body is %ld bytes; the limit is %ld "
                                             "(server.max_body)", len, max);
    return 0;
}

int srv_body_parse(srv_req *r)
{
    cJSON *j = NULL;
    er_error err = { 0 };
    int status = 0;
    if (r->in.len == 0)
        status = srv_reply_error(r, 400, NULL, "the body is empty; expected a JSON object");
    else if (srv_json_parse(&j, r->in.ptr, r->in.len, &err))
        status = srv_reply_error(r, 400, NULL, "the body is not valid JSON: %s", err.msg);
    else if (!cJSON_IsObject(j))
        status = srv_reply_error(r, 400, NULL, "the body must be a JSON object");
    else if (r->route->flags & SRV_BODY)
        status = validate(r, j);
    if (status)
        cJSON_Delete(j);
    else
        r->body = j;
    return status;
}
