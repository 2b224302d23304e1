/* json.h — thin helpers over cJSON: safe insertion, typed lookup, capped parsing. */
#ifndef ERRAND_JSON_H
#define ERRAND_JSON_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include <cjson/cJSON.h>

/* Insertion that frees the item when the add fails (cJSON leaks otherwise).
 * A NULL string value adds JSON null. */
void er_json_add(cJSON *obj, const char *key, cJSON *item);
void er_json_add_str(cJSON *obj, const char *key, const char *val);
void er_json_add_num(cJSON *obj, const char *key, double val);
void er_json_add_bool(cJSON *obj, const char *key, bool val);
void er_json_append(cJSON *arr, cJSON *item);

/* BORROWED from obj; NULL when missing or of another type. */
const char *er_json_str(const cJSON *obj, const char *key);
/* def when missing or not a number. */
double er_json_num(const cJSON *obj, const char *key, double def);
/* A number as an integer, truncated toward zero and clamped to [lo, hi]; def
 * when missing or not a number.  For numbers from outside: a plain cast of a
 * double outside the target type's range is undefined behaviour. */
int64_t er_json_int(const cJSON *obj, const char *key, int64_t def, int64_t lo, int64_t hi);
bool er_json_bool(const cJSON *obj, const char *key, bool def);
const cJSON *er_json_obj(const cJSON *obj, const char *key);
const cJSON *er_json_arr(const cJSON *obj, const char *key);

/* Parses len bytes; ER_EPROTO with the position on bad JSON. OWNED. */
int er_json_parse(cJSON **out, const char *s, size_t len, er_error *err);
/* Appends s (len bytes) as a quoted JSON string; invalid UTF-8 passes through
 * byte for byte (cJSON does the same). */
int er_json_escape(er_buf *b, const char *s, size_t len);
/* OWNED: unformatted text; aborts on OOM. */
char *er_json_print(const cJSON *item);

#endif
