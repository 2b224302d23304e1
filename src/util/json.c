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

/* Escaped into a small local buffer, appended a chunk at a time: strings are
 * escaped byte by byte on the server's hot answers (task results, steps). */
int er_json_escape(er_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char out[512];
    size_t n = 0;
    out[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (n > sizeof out - 8) { /* room for the longest escape, \u00XX */
            int rc = er_buf_append(b, out, n);
            if (rc)
                return rc;
            n = 0;
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        out[n++] = '\\';
        switch (c) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '\n': out[n++] = 'n'; break;
        case '\r': out[n++] = 'r'; break;
        case '\t': out[n++] = 't'; break;
        default:
            memcpy(out + n, "u00", 3);
            out[n + 3] = hex[c >> 4];
            out[n + 4] = hex[c & 15];
            n += 5;
            break;
        }
    }
    out[n++] = '"';
    return er_buf_append(b, out, n);
}
