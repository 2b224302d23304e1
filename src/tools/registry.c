/* registry.c — every tool family, and the schema checks shared by all tools.
 * Adding a family is one line in `families`. */
#include "errand/tool.h"
#include "errand/json.h"
#include "errand/mcp.h"
#include "errand/str.h"
#include "errand/tool_families.h"

#include <math.h>
#include <string.h>

/* Each family is a const table in its own module (src/tools/<family>.c). */
static const er_tool_family *const families[] = {
    &er_tools_fs,     &er_tools_search,  &er_tools_exec,     &er_tools_lint,
    &er_tools_test,   &er_tools_web,     &er_tools_research, &er_tools_data,
    &er_tools_memory, &er_tools_browser, &er_tools_mail,
};

static const er_tool_family *family_at(size_t i)
{
    return i < ER_ARRAY_LEN(families) ? families[i] : (const er_tool_family *)-1;
}

int er_tool_each(int (*fn)(const er_tool *t, void *payload), void *payload)
{
    for (size_t i = 0;; i++) {
        const er_tool_family *f = family_at(i);
        if (f == (const er_tool_family *)-1)
            break;
        if (!f)
            continue;
        for (size_t j = 0; j < f->ntools; j++) {
            int rc = fn(&f->tools[j], payload);
            if (rc)
                return rc;
        }
    }
    return 0;
}

struct find_ctx {
    const char *name;
    const er_tool *found;
};

static int find_one(const er_tool *t, void *payload)
{
    struct find_ctx *c = payload;
    if (strcmp(t->name, c->name) == 0) {
        c->found = t;
        return 1;
    }
    return 0;
}

const er_tool *er_tool_find(const char *name)
{
    struct find_ctx c = { name, NULL };
    if (name)
        er_tool_each(find_one, &c);
    return c.found;
}

bool er_tool_untrusted(const er_tool *t)
{
    return t && (t->perm == ER_PERM_NETWORK || er_tools_memory_untrusted(t) ||
                 er_mcp_is_tool_name(t->name));
}

cJSON *er_tool_spec(const er_tool *t)
{
    cJSON *spec = cJSON_CreateObject();
    er_json_add_str(spec, "name", t->name);
    er_json_add_str(spec, "description", t->description);
    cJSON *params = cJSON_Parse(t->parameters ? t->parameters : "{}");
    /* A broken schema is a programming error caught by test_tools. */
    er_json_add(spec, "parameters", params ? params : cJSON_CreateObject());
    return spec;
}

static bool type_matches(const char *type, const cJSON *v)
{
    if (!type)
        return true;
    if (strcmp(type, "string") == 0)
        return cJSON_IsString(v);
    if (strcmp(type, "integer") == 0) /* no cast: one out of range is undefined */
        return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
               v->valuedouble == floor(v->valuedouble);
    if (strcmp(type, "number") == 0)
        return cJSON_IsNumber(v);
    if (strcmp(type, "boolean") == 0)
        return cJSON_IsBool(v);
    if (strcmp(type, "array") == 0)
        return cJSON_IsArray(v);
    if (strcmp(type, "object") == 0)
        return cJSON_IsObject(v);
    return true;
}

static int check_property(const er_tool *t, const char *name, const cJSON *schema, const cJSON *v,
                          er_error *err)
{
    const char *type = er_json_str(schema, "type");
    if (!type_matches(type, v))
        return er_error_set(err, ER_EINVAL, "%s: argument '%s' must be %s %s", t->name, name,
                            type && strchr("aeiou", type[0]) ? "an" : "a", type);
    const cJSON *en = er_json_arr(schema, "enum");
    if (en && cJSON_IsString(v)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, en)
        {
            if (cJSON_IsString(e) && strcmp(e->valuestring, v->valuestring) == 0)
                return 0;
        }
        return er_error_set(err, ER_EINVAL,
                            "%s: argument '%s' is '%s', not one of the allowed values", t->name,
                            name, v->valuestring);
    }
    return 0;
}

int er_tool_validate(const er_tool *t, const cJSON *args, er_error *err)
{
    if (!cJSON_IsObject(args))
        return er_error_set(err, ER_EINVAL, "%s: arguments must be a JSON object", t->name);
    cJSON *schema = cJSON_Parse(t->parameters ? t->parameters : "{}");
    if (!schema)
        return er_error_set(err, ER_EINTERNAL, "%s: its parameter schema is not JSON", t->name);
    int rc = 0;
    const cJSON *req = er_json_arr(schema, "required");
    const cJSON *r;
    cJSON_ArrayForEach(r, req)
    {
        if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(args, r->valuestring)) {
            rc = er_error_set(err, ER_EINVAL, "%s: missing required argument '%s'", t->name,
                              r->valuestring);
            break;
        }
    }
    const cJSON *props = er_json_obj(schema, "properties");
    const cJSON *a;
    cJSON_ArrayForEach(a, args)
    {
        if (rc)
            break;
        const cJSON *ps = props ? cJSON_GetObjectItemCaseSensitive(props, a->string) : NULL;
        if (!ps) {
            if (er_json_bool(schema, "additionalProperties", true) == false)
                rc = er_error_set(err, ER_EINVAL, "%s: unknown argument '%s'", t->name, a->string);
            continue;
        }
        rc = check_property(t, a->string, ps, a, err);
    }
    cJSON_Delete(schema);
    return rc;
}

bool er_tool_idempotent(const er_tool *t)
{
    return t->idempotent || t->perm == ER_PERM_READ;
}

char *er_tool_preview(const er_tool_ctx *ctx, const er_tool *t, const cJSON *args)
{
    static const struct {
        const char *tool;
        char *(*preview)(const er_tool_ctx *ctx, const cJSON *args);
    } previews[] = {
        { "write_file", er_fs_preview_write },
        { "edit_file", er_fs_preview_edit },
        { "run", er_exec_preview },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(previews); i++)
        if (strcmp(previews[i].tool, t->name) == 0)
            return previews[i].preview(ctx, args);
    return NULL;
}
