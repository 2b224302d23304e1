/* log.c — JSON-lines logger with level filter, per-thread context and redaction.
 *
 * Configured once at start-up (level, trace list, sink, secrets); after that the
 * only shared mutable state is the sink, guarded by one mutex. */
#include "errand/log.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/url.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int er_log_threshold = ER_LOG_WARN;

static FILE *sink; /* NULL: stderr */
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static char trace_list[256]; /* ",bus,llm," */
static char *secrets[16];
static size_t nsecrets;
static _Thread_local char ctx_task[40];
static _Thread_local char ctx_trace[40];

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

int er_log_parse_level(const char *name, er_log_level *out)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(level_names); i++) {
        if (name && strcasecmp(name, level_names[i]) == 0) {
            *out = (er_log_level)i;
            return 0;
        }
    }
    if (name && strcasecmp(name, "warning") == 0) {
        *out = ER_LOG_WARN;
        return 0;
    }
    return -1;
}

void er_log_set_level(er_log_level level)
{
    er_log_threshold = (int)level;
}

void er_log_set_trace(const char *components)
{
    trace_list[0] = '\0';
    if (er_str_empty(components))
        return;
    snprintf(trace_list, sizeof trace_list, ",%s,", components);
}

bool er_log_tracing(const char *component)
{
    if (!trace_list[0] || !component)
        return false;
    char key[64];
    snprintf(key, sizeof key, ",%s,", component);
    return strstr(trace_list, key) != NULL || strstr(trace_list, ",all,") != NULL;
}

int er_log_set_file(const char *path)
{
    FILE *f = NULL;
    if (path) {
        f = fopen(path, "a");
        if (!f)
            return -9; /* ER_EIO */
        setvbuf(f, NULL, _IOLBF, 0);
    }
    pthread_mutex_lock(&sink_lock);
    if (sink)
        fclose(sink);
    sink = f;
    pthread_mutex_unlock(&sink_lock);
    return 0;
}

void er_log_add_secret(const char *secret)
{
    /* Short values would mask ordinary words. */
    if (er_str_empty(secret) || strlen(secret) < 6 || nsecrets >= ER_ARRAY_LEN(secrets))
        return;
    for (size_t i = 0; i < nsecrets; i++)
        if (strcmp(secrets[i], secret) == 0)
            return;
    secrets[nsecrets++] = er_xstrdup(secret);
}

void er_log_set_context(const char *task_id, const char *trace_id)
{
    er_strlcpy(ctx_task, task_id ? task_id : "", sizeof ctx_task);
    er_strlcpy(ctx_trace, trace_id ? trace_id : "", sizeof ctx_trace);
}

void er_log_get_context(char task_id[40], char trace_id[40])
{
    er_strlcpy(task_id, ctx_task, 40);
    er_strlcpy(trace_id, ctx_trace, 40);
}

static bool token_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' ||
           c == '/' || c == '=';
}

/* Length of a secret-looking token starting at s, after a known marker; 0 if none. */
static size_t marker_len(const char *s, size_t *skip)
{
    static const char *const markers[] = {
        "Bearer ",      "bearer ",   "x-api-key: ", "X-Api-Key: ",       "api_key=",
        "apikey=",      "password=", "token=",      "access_token\":\"", "refresh_token\":\"",
        "api_key\":\"",
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(markers); i++) {
        size_t m = strlen(markers[i]);
        if (strncmp(s, markers[i], m) == 0) {
            *skip = m;
            return m;
        }
    }
    /* Provider key shapes: sk-…, sk-ant-… */
    if (strncmp(s, "sk-", 3) == 0) {
        size_t n = 3;
        while (token_char(s[n]))
            n++;
        if (n >= 12) {
            *skip = 0;
            return 1;
        }
    }
    return 0;
}

void er_log_redact(const char *s, char *out, size_t outsize)
{
    size_t o = 0;
    if (!outsize)
        return;
    while (*s && o + 1 < outsize) {
        bool hit = false;
        for (size_t i = 0; i < nsecrets; i++) {
            size_t n = strlen(secrets[i]);
            if (strncmp(s, secrets[i], n) == 0) {
                for (const char *r = "***"; *r && o + 1 < outsize; r++)
                    out[o++] = *r;
                s += n;
                hit = true;
                break;
            }
        }
        if (hit)
            continue;
        size_t ul, pl;
        if (strncmp(s, "://", 3) == 0 && er_url_password_at(s + 3, &ul, &pl)) {
            /* A URL's password, whichever setting or message it came from. */
            for (size_t i = 0; i < 3 + ul + 1 && o + 1 < outsize; i++)
                out[o++] = s[i];
            for (const char *r = "***"; *r && o + 1 < outsize; r++)
                out[o++] = *r;
            s += 3 + ul + 1 + pl;
            continue;
        }
        size_t skip;
        if (marker_len(s, &skip)) {
            for (size_t i = 0; i < skip && o + 1 < outsize; i++)
                out[o++] = s[i];
            s += skip;
            size_t n = 0;
            while (token_char(s[n]))
                n++;
            if (n) {
                for (const char *r = "***"; *r && o + 1 < outsize; r++)
                    out[o++] = *r;
                s += n;
            }
            continue;
        }
        out[o++] = *s++;
    }
    out[o] = '\0';
}

static void put_id(er_buf *line, const char *key, const char *id)
{
    if (id[0])
        er_buf_printf(line, ",\"%s\":\"%s\"", key, id);
    else
        er_buf_printf(line, ",\"%s\":null", key);
}

void er_log_write(er_log_level level, const char *component, const char *fmt, ...)
{
    char msg[2048], clean[2048], ts[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    er_log_redact(msg, clean, sizeof clean);
    er_time_iso(er_time_ms(), ts, sizeof ts);

    er_buf line = ER_BUF_INIT;
    er_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":", ts,
                  level_names[level <= ER_LOG_ERROR ? level : ER_LOG_ERROR]);
    er_json_escape(&line, component ? component : "", strlen(component ? component : ""));
    er_buf_puts(&line, ",\"msg\":");
    er_json_escape(&line, clean, strlen(clean));
    /* Always present, so every line can be filtered by them. */
    put_id(&line, "task_id", ctx_task);
    put_id(&line, "trace_id", ctx_trace);
    er_buf_puts(&line, "}\n");

    pthread_mutex_lock(&sink_lock);
    FILE *f = sink ? sink : stderr;
    fwrite(line.ptr, 1, line.len, f);
    fflush(f);
    pthread_mutex_unlock(&sink_lock);
    er_buf_release(&line);
}
