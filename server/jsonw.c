/* jsonw.c — writing JSON straight into an er_buf, for the answers on the hot
 * path (a task with its steps, task lists).  Building them with cJSON costs an
 * allocation per value and a sprintf + sscanf per number; stored event data,
 * already JSON text written by er_event_emit, is spliced in as it is. */
#include "server.h"


/* A comma unless the value opens its container (or follows a key). */
static void sep(er_buf *b)
{
    char last = b->len ? b->ptr[b->len - 1] : '\0';
    if (last != '{' && last != '[' && last != ':' && last != '\0')
        er_buf_putc(b, ',');
}

void srv_jw_key(er_buf *b, const char *key)
{
    sep(b);
    er_json_escape(b, key, strlen(key));
    er_buf_putc(b, ':');
}

void srv_jw_open(er_buf *b, const char *key, char bracket)
{
    if (key)
        srv_jw_key(b, key);
    else
        sep(b);
    er_buf_putc(b, bracket);
}

void srv_jw_close(er_buf *b, char bracket)
{
    er_buf_putc(b, bracket);
}

void srv_jw_str(er_buf *b, const char *key, const char *val)
{
    srv_jw_key(b, key);
    if (val)
        er_json_escape(b, val, strlen(val));
    else
        er_buf_puts(b, "null");
}

void srv_jw_int(er_buf *b, const char *key, int64_t v)
{
    char num[24];
    size_t i = sizeof num;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        num[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        num[--i] = '-';
    srv_jw_key(b, key);
    er_buf_append(b, num + i, sizeof num - i);
}

void srv_jw_time(er_buf *b, const char *key, int64_t ms)
{
    char ts[32];
    er_time_iso(ms, ts, sizeof ts);
    srv_jw_str(b, key, ts);
}

/* JSON text we wrote ourselves (event data): spliced as it is when it looks
 * like a JSON value, else carried as a string. */
void srv_jw_raw(er_buf *b, const char *key, const char *json)
{
    srv_jw_key(b, key);
    if (!json) {
        er_buf_puts(b, "null");
        return;
    }
    char c = json[0];
    if (c == '{' || c == '[' || c == '"')
        er_buf_puts(b, json);
    else
        er_json_escape(b, json, strlen(json));
}
