/* json.c — cJSON helpers: insertion that cannot leak, typed lookup, capped parse. */
#include "errand/json.h"
#include "errand/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void er_json_add(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return;
    if (!obj || !cJSON_AddItemToObject(obj, key, item))
        cJSON_Delete(item);
}

void er_json_add_str(cJSON *obj, const char *key, const char *val)
{
    er_json_add(obj, key, val ? cJSON_CreateString(val) : cJSON_CreateNull());
}

void er_json_add_num(cJSON *obj, const char *key, double val)
{
    er_json_add(obj, key, cJSON_CreateNumber(val));
}

void er_json_add_bool(cJSON *obj, const char *key, bool val)
{
    er_json_add(obj, key, cJSON_CreateBool(val));
}

void er_json_append(cJSON *arr, cJSON *item)
{
    if (!item)
        return;
    if (!arr || !cJSON_AddItemToArray(arr, item))
        cJSON_Delete(item);
}

const char *er_json_str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

double er_json_num(const cJSON *obj, const char *key, double def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(it) ? it->valuedouble : def;
}

int64_t er_json_int(const cJSON *obj, const char *key, int64_t def, int64_t lo, int64_t hi)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(it) || isnan(it->valuedouble))
        return def;
    /* (double)lo and (double)hi round outward for 64-bit limits, so whatever
     * passes both tests converts exactly. */
    if (it->valuedouble <= (double)lo)
        return lo;
    if (it->valuedouble >= (double)hi)
        return hi;
    return (int64_t)it->valuedouble;
}

bool er_json_bool(const cJSON *obj, const char *key, bool def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(it) ? cJSON_IsTrue(it) : def;
}

const cJSON *er_json_obj(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(it) ? it : NULL;
}

const cJSON *er_json_arr(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(it) ? it : NULL;
}

int er_json_parse(cJSON **out, const char *s, size_t len, er_error *err)
{
    const char *end = NULL;
    *out = NULL;
    if (!s || !len)
        return er_error_set(err, ER_EPROTO, "empty JSON text");
    cJSON *j = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (!j) {
        size_t pos = end && end >= s ? (size_t)(end - s) : 0;
        return er_error_set(err, ER_EPROTO, "invalid JSON at byte %zu of %zu", pos, len);
    }
    /* Trailing garbage after a complete value is an error too, a NUL byte
     * (and whatever follows it) included. */
    while (end && (size_t)(end - s) < len && *end && strchr(" \t\r\n", *end))
        end++;
    if (end && (size_t)(end - s) < len) {
        size_t pos = (size_t)(end - s);
        cJSON_Delete(j);
        return er_error_set(err, ER_EPROTO, "invalid JSON: trailing data at byte %zu", pos);
    }
    *out = j;
    return 0;
}

char *er_json_print(const cJSON *item)
{
    char *s = cJSON_PrintUnformatted(item);
    if (!s)
        s = er_xstrdup("null");
    return s;
}

int er_json_escape(er_buf *b, const char *s, size_t len)
{
    int rc = er_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; !rc && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        rc = er_buf_append(b, s + i - run, run);
        run = 0;
        if (rc)
            break;
        switch (c) {
        case '"': rc = er_buf_puts(b, "\\\""); break;
        case '\\': rc = er_buf_puts(b, "\\\\"); break;
        case '\n': rc = er_buf_puts(b, "\\n"); break;
        case '\r': rc = er_buf_puts(b, "\\r"); break;
        case '\t': rc = er_buf_puts(b, "\\t"); break;
        default: rc = er_buf_printf(b, "\\u%04x", c); break;
        }
    }
    if (!rc)
        rc = er_buf_append(b, s + len - run, run);
    return rc ? rc : er_buf_putc(b, '"');
}
