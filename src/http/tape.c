/* tape.c — the tools' HTTP exchanges in the run's cassette (http_tape.h).
 * Lines of another kind (the LLM's, cassette.c) are skipped on loading, and
 * cassette.c skips these: both read the same file. */
#include "errand/http_tape.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/digest.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAPE_MAX (256u * 1024 * 1024) /* bytes of a cassette read for replay */
#define REDACTED "REDACTED"

typedef struct exchange {
    cJSON *line; /* OWNED: the recorded line */
    bool used;
} exchange;

/* Set at start-up (http_tape.h), read by every thread after. */
static struct {
    pthread_mutex_t lock;
    char *path;
    int out; /* recording: O_APPEND, one write per line; -1 otherwise */
    bool replay;
    exchange *played; /* replaying */
    size_t n;
    char missed[320]; /* "METHOD URL" of the last request the cassette lacked, or "" */
} tape = { PTHREAD_MUTEX_INITIALIZER, NULL, -1, false, NULL, 0, "" };

/* A query parameter or JSON key whose value is a credential. */
static bool secret_name(const char *name, size_t len)
{
    static const char *const words[] = { "token", "secret", "password", "passwd", "key",
                                         "auth",  "sig",    "session",  "code",   "credential" };
    char low[64];
    if (len >= sizeof low)
        len = sizeof low - 1;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[len] = '\0';
    for (size_t i = 0; i < ER_ARRAY_LEN(words); i++)
        if (strstr(low, words[i]))
            return true;
    return false;
}

char *er_http_tape_url(const char *url)
{
    er_buf b = ER_BUF_INIT;
    const char *p = url;
    const char *scheme = strstr(url, "://");
    if (scheme) {
        const char *auth = scheme + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', alen);
        er_buf_append(&b, url, (size_t)(auth - url));
        if (at) { /* user:password@ — neither is the tape's business */
            er_buf_puts(&b, REDACTED "@");
            auth = at + 1;
            alen = strcspn(auth, "/?#");
        }
        er_buf_append(&b, auth, alen);
        p = auth + alen;
    }
    const char *q = strchr(p, '?');
    if (!q) {
        er_buf_puts(&b, p);
        return er_buf_detach(&b);
    }
    er_buf_append(&b, p, (size_t)(q + 1 - p));
    for (const char *s = q + 1; *s && *s != '#';) {
        size_t len = strcspn(s, "&#");
        const char *eq = memchr(s, '=', len);
        if (eq && secret_name(s, (size_t)(eq - s))) {
            er_buf_append(&b, s, (size_t)(eq + 1 - s));
            er_buf_puts(&b, REDACTED);
        } else {
            er_buf_append(&b, s, len);
        }
        s += len;
        if (*s == '&')
            er_buf_putc(&b, *s++);
        else if (*s == '#')
            er_buf_puts(&b, s);
    }
    return er_buf_detach(&b);
}

/* Replaces credentials in a JSON answer; true when one was. */
static bool redact_json(cJSON *j)
{
    bool any = false;
    cJSON *c;
    cJSON_ArrayForEach(c, j)
    {
        if (c->string && cJSON_IsString(c) && secret_name(c->string, strlen(c->string))) {
            cJSON_SetValuestring(c, REDACTED);
            any = true;
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            any |= redact_json(c);
        }
    }
    return any;
}

static const char *method_of(const er_http_req *req)
{
    return req->method ? req->method : (req->body ? "POST" : "GET");
}

static int body_hash(const er_http_req *req, char out[65], er_error *err)
{
    return er_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0, out, err);
}

/* ---- start and stop ---- */

static void clear_locked(void)
{
    if (tape.out >= 0)
        close(tape.out);
    tape.out = -1;
    for (size_t i = 0; i < tape.n; i++)
        cJSON_Delete(tape.played[i].line);
    free(tape.played);
    tape.played = NULL;
    tape.n = 0;
    free(tape.path);
    tape.path = NULL;
    tape.replay = false;
    tape.missed[0] = '\0';
}

static int load_locked(const char *path, er_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return er_error_set(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO,
                            "cannot read the cassette '%s': %s", path, strerror(errno));
    char *text = NULL;
    size_t cap = 0, total = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&text, &cap, f)) >= 0) {
        total += (size_t)len;
        if (total > TAPE_MAX) {
            rc = er_error_set(err, ER_ETOOBIG, "the cassette '%s' is over %u MB", path,
                              TAPE_MAX >> 20);
            break;
        }
        cJSON *line = cJSON_Parse(text);
        if (!er_str_eq(er_json_str(line, "kind"), "http") || !er_json_str(line, "url")) {
            cJSON_Delete(line); /* the LLM's lines (cassette.c checks those) */
            continue;
        }
        tape.played = er_xrealloc(tape.played, (tape.n + 1) * sizeof *tape.played);
        tape.played[tape.n++] = (exchange){ line, false };
    }
    free(text);
    fclose(f);
    return rc;
}

int er_http_tape_start(const char *path, bool replay, er_error *err)
{
    pthread_mutex_lock(&tape.lock);
    clear_locked();
    int rc = 0;
    if (replay)
        rc = load_locked(path, err);
    else if ((tape.out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
        rc = er_error_set(err, ER_EIO, "cannot write the cassette '%s': %s", path, strerror(errno));
    if (rc == 0) {
        tape.path = er_xstrdup(path);
        tape.replay = replay;
    } else {
        clear_locked();
    }
    pthread_mutex_unlock(&tape.lock);
    return rc;
}

void er_http_tape_stop(void)
{
    pthread_mutex_lock(&tape.lock);
    clear_locked();
    pthread_mutex_unlock(&tape.lock);
}

bool er_http_tape_active(void)
{
    return tape.out >= 0 || tape.replay;
}

/* ---- recording ---- */

bool er_http_tape_recording(const er_http_req *req)
{
    return tape.out >= 0 && !req->untaped;
}

static void add_opt(cJSON *o, const char *key, const char *val)
{
    if (val)
        er_json_add_str(o, key, val);
}

static void add_body(cJSON *line, const char *body, size_t len, const char *content_type)
{
    if (len &&
        (body[0] == '{' || body[0] == '[' || (content_type && strstr(content_type, "json")))) {
        cJSON *j = cJSON_ParseWithLength(body, len);
        if (j && redact_json(j)) {
            char *text = cJSON_PrintUnformatted(j);
            er_json_add_str(line, "body", text);
            free(text);
            cJSON_Delete(j);
            return;
        }
        cJSON_Delete(j);
    }
    if (er_utf8_check(body, len) == len && !memchr(body, '\0', len)) {
        char *text = er_xstrndup(body, len);
        er_json_add_str(line, "body", text);
        free(text);
        return;
    }
    er_buf b64 = ER_BUF_INIT;
    er_base64_encode(&b64, body, len, false);
    er_json_add_str(line, "body_b64", b64.ptr ? b64.ptr : "");
    er_buf_release(&b64);
}

void er_http_tape_record(const er_http_req *req, const er_http_resp *resp, const er_buf *streamed,
                         int rc, const er_error *err)
{
    char hash[65];
    er_error e = { 0 };
    if (body_hash(req, hash, &e))
        return;
    cJSON *line = cJSON_CreateObject();
    er_json_add_str(line, "kind", "http");
    er_json_add_str(line, "method", method_of(req));
    char *url = er_http_tape_url(req->url);
    er_json_add_str(line, "url", url);
    free(url);
    er_json_add_str(line, "body_sha256", hash);
    if (rc) {
        er_json_add_num(line, "code", rc);
        er_json_add_str(line, "error", err->msg);
    } else {
        er_json_add_num(line, "status", (double)resp->status);
        add_opt(line, "content_type", resp->content_type);
        if (resp->location) {
            char *loc = er_http_tape_url(resp->location);
            er_json_add_str(line, "location", loc);
            free(loc);
        }
        /* A kept header naming a session or a token (Mcp-Session-Id) is one:
         * the client only sends it back, which a replay does not check. */
        if (resp->header && req->want_header &&
            secret_name(req->want_header, strlen(req->want_header)))
            er_json_add_str(line, "header", REDACTED);
        else
            add_opt(line, "header", resp->header);
        add_opt(line, "authenticate", resp->authenticate);
        const er_buf *body = resp->streamed && streamed ? streamed : &resp->body;
        add_body(line, body->ptr ? body->ptr : "", body->len, resp->content_type);
        er_json_add_bool(line, "streamed", resp->streamed);
    }
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: written with its length */
    /* One write per line on an O_APPEND file, as cassette.c does: lines of
     * parallel requests and processes do not interleave. */
    pthread_mutex_lock(&tape.lock);
    ssize_t w = tape.out >= 0 ? write(tape.out, text, n + 1) : (ssize_t)(n + 1);
    pthread_mutex_unlock(&tape.lock);
    if (w != (ssize_t)(n + 1))
        er_log(ER_LOG_WARN, "http", "cannot write the cassette '%s': %s", tape.path,
               w < 0 ? strerror(errno) : "short write");
    free(text);
}

/* ---- playing ---- */

/* The next recorded answer to method url hash (the last again once all were
 * played), duplicated: OWNED or NULL. */
static cJSON *next_answer(const char *method, const char *url, const char *hash)
{
    cJSON *found = NULL, *last = NULL;
    pthread_mutex_lock(&tape.lock);
    for (size_t i = 0; i < tape.n && !found; i++) {
        const cJSON *l = tape.played[i].line;
        if (!er_str_eq(er_json_str(l, "method"), method) ||
            !er_str_eq(er_json_str(l, "url"), url) ||
            !er_str_eq(er_json_str(l, "body_sha256"), hash))
            continue;
        last = tape.played[i].line;
        if (!tape.played[i].used) {
            tape.played[i].used = true;
            found = last;
        }
    }
    if (!found)
        found = last;
    cJSON *copy = found ? cJSON_Duplicate(found, true) : NULL;
    pthread_mutex_unlock(&tape.lock);
    return copy;
}

static char *dup_opt(const cJSON *l, const char *key)
{
    const char *v = er_json_str(l, key);
    return v ? er_xstrdup(v) : NULL;
}

/* Hands the recorded body over as the live transfer would have. */
static int play_body(const er_http_req *req, const cJSON *l, er_http_resp *out, er_error *err)
{
    er_buf body = ER_BUF_INIT;
    const char *b64 = er_json_str(l, "body_b64");
    if (b64)
        er_base64_decode(&body, b64, strlen(b64));
    else
        er_buf_puts(&body, er_json_str(l, "body") ? er_json_str(l, "body") : "");
    int rc = 0;
    if (req->on_data && out->status >= 200 && out->status < 300) {
        if (body.len) {
            out->streamed = true;
            rc = req->on_data(body.ptr, body.len, err, req->payload);
        }
    } else if (body.len && er_buf_append(&out->body, body.ptr, body.len) != 0) {
        rc = er_error_set(err, ER_ETOOBIG, "the answer from '%s' is over %zu bytes", req->url,
                          out->body.max);
    }
    er_buf_release(&body);
    return rc;
}

bool er_http_tape_play(const er_http_req *req, er_http_resp *out, int *rc, er_error *err)
{
    if (!tape.replay || req->untaped)
        return false;
    char hash[65];
    if ((*rc = body_hash(req, hash, err)) != 0)
        return true;
    const char *method = method_of(req);
    char *url = er_http_tape_url(req->url);
    cJSON *l = next_answer(method, url, hash);
    out->attempts = 1;
    if (!l) {
        *rc = er_error_set(err, ER_ENOTFOUND,
                           "the cassette '%s' has no answer for %s %s: the run differs from "
                           "the recorded one; record it again with --record",
                           tape.path, method, url);
        er_log(ER_LOG_WARN, "http", "%s", err->msg);
        pthread_mutex_lock(&tape.lock);
        snprintf(tape.missed, sizeof tape.missed, "%s %s", method, url);
        pthread_mutex_unlock(&tape.lock);
    } else if (er_json_str(l, "error")) {
        *rc = er_error_set(err, (int)er_json_num(l, "code", ER_EUNAVAIL), "%s",
                           er_json_str(l, "error"));
    } else {
        out->status = (long)er_json_num(l, "status", 0);
        out->content_type = dup_opt(l, "content_type");
        out->location = dup_opt(l, "location");
        out->header = req->want_header ? dup_opt(l, "header") : NULL;
        out->authenticate = dup_opt(l, "authenticate");
        *rc = play_body(req, l, out, err);
    }
    free(url);
    cJSON_Delete(l);
    return true;
}

bool er_http_tape_missed(char *out, size_t n)
{
    pthread_mutex_lock(&tape.lock);
    snprintf(out, n, "%s", tape.missed);
    pthread_mutex_unlock(&tape.lock);
    return out[0] != '\0';
}
