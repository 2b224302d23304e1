/* cassette.c — record LLM exchanges to a file and play them back (cassette.h).
 * A player is also an LLM backend ("replay", llm_backend.h): the seam opens
 * it instead of a provider, so nothing above the seam knows it is a replay. */
#include "errand/cassette.h"
#include "errand/alloc.h"
#include "errand/backend/llm_backend.h"
#include "errand/buf.h"
#include "errand/config.h"
#include "errand/digest.h"
#include "errand/http_tape.h"
#include "errand/json.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CASSETTE_MAX (256u * 1024 * 1024) /* bytes of a cassette read for replay */

typedef struct entry {
    char key[65];
    cJSON *response; /* OWNED */
    bool used;
} entry;

struct er_cassette {
    char *path;
    pthread_mutex_t lock;
    int out;        /* recorder: O_APPEND, one write per line; -1 for a player */
    entry *entries; /* player */
    size_t n;
    long served;
};

/* The part of a request that decides the answer. OWNED. */
static cJSON *request_json(const er_llm_request *req)
{
    cJSON *r = cJSON_CreateObject();
    er_json_add_str(r, "system", req->system ? req->system : "");
    er_json_add(r, "messages", cJSON_Duplicate(req->messages, true));
    er_json_add(r, "tools", req->tools ? cJSON_Duplicate(req->tools, true) : cJSON_CreateArray());
    er_json_add_str(r, "tool_choice", req->tool_choice ? req->tool_choice : "");
    return r;
}

static bool hex_run(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Masks the random ids of untrusted-data fences (untrusted.h), whatever the
 * JSON escaping around them: a replayed page is fenced with a new id, and the
 * request is the same one. */
static void mask_fence_ids(char *text)
{
    for (char *p = text; (p = strstr(p, "id=")) != NULL;) {
        p += 3;
        char *q = p;
        while (*q == '\\')
            q++;
        if (*q != '"' || !hex_run(q + 1, 16)) /* stops at the NUL too */
            continue;
        char *end = q + 17;
        while (*end == '\\')
            end++;
        if (strncmp(end, "\">>>", 4) == 0)
            memset(q + 1, 'x', 16);
    }
}

static int request_key(const er_llm_request *req, char key[65], er_error *err)
{
    cJSON *r = request_json(req);
    char *text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    mask_fence_ids(text);
    int rc = er_sha256_hex(text, strlen(text), key, err);
    free(text);
    return rc;
}

static cJSON *response_json(const er_llm_response *resp)
{
    cJSON *d = cJSON_CreateObject();
    er_json_add_str(d, "text", resp->text ? resp->text : "");
    cJSON *calls = cJSON_CreateArray();
    for (size_t i = 0; i < resp->ncalls; i++) {
        cJSON *c = cJSON_CreateObject();
        er_json_add_str(c, "id", resp->calls[i].id);
        er_json_add_str(c, "name", resp->calls[i].name);
        er_json_add_str(c, "arguments", resp->calls[i].arguments);
        er_json_append(calls, c);
    }
    er_json_add(d, "tool_calls", calls);
    if (resp->stop_reason)
        er_json_add_str(d, "stop_reason", resp->stop_reason);
    if (resp->model)
        er_json_add_str(d, "model", resp->model);
    er_json_add(d, "usage", er_llm_usage_json(&resp->usage));
    return d;
}

static char *dup_or(const char *s, const char *def)
{
    return er_xstrdup(s ? s : def);
}

static void response_from_json(er_llm_response *out, const cJSON *d)
{
    memset(out, 0, sizeof *out);
    out->text = dup_or(er_json_str(d, "text"), "");
    const cJSON *calls = er_json_arr(d, "tool_calls");
    out->ncalls = (size_t)cJSON_GetArraySize(calls);
    out->calls = er_xcalloc(out->ncalls ? out->ncalls : 1, sizeof *out->calls);
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, calls)
    {
        out->calls[i].id = dup_or(er_json_str(c, "id"), "");
        out->calls[i].name = dup_or(er_json_str(c, "name"), "");
        out->calls[i].arguments = dup_or(er_json_str(c, "arguments"), "{}");
        i++;
    }
    if (er_json_str(d, "stop_reason"))
        out->stop_reason = er_xstrdup(er_json_str(d, "stop_reason"));
    if (er_json_str(d, "model"))
        out->model = er_xstrdup(er_json_str(d, "model"));
    er_llm_usage_from_json(&out->usage, er_json_obj(d, "usage"));
}

/* ---- opening ---- */

static int load(er_cassette *c, er_error *err)
{
    FILE *f = fopen(c->path, "r");
    if (!f)
        return er_error_set(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO,
                            "cannot read the cassette '%s': %s", c->path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, total = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        total += (size_t)len;
        if (total > CASSETTE_MAX) {
            rc = er_error_set(err, ER_ETOOBIG, "the cassette '%s' is over %u MB", c->path,
                              CASSETTE_MAX >> 20);
            break;
        }
        if (len <= 1)
            continue;
        cJSON *e = cJSON_Parse(line);
        const char *kind = er_json_str(e, "kind");
        if (kind && !er_str_eq(kind, "llm")) {
            cJSON_Delete(e); /* a tool's HTTP exchange (http_tape.h) */
            continue;
        }
        const char *key = er_json_str(e, "key");
        const cJSON *resp = er_json_obj(e, "response");
        if (!key || strlen(key) != 64 || !resp) {
            rc = er_error_set(err, ER_EINVAL,
                              "the cassette '%s' is not one (line %ld is not an exchange "
                              "errand recorded)",
                              c->path, lineno);
        } else {
            c->entries = er_xrealloc(c->entries, (c->n + 1) * sizeof *c->entries);
            entry *en = &c->entries[c->n++];
            memcpy(en->key, key, 65);
            en->response = cJSON_Duplicate(resp, true);
            en->used = false;
        }
        cJSON_Delete(e);
    }
    free(line);
    fclose(f);
    return rc;
}

int er_cassette_open(er_cassette **out, const char *path, bool replay, er_error *err)
{
    *out = NULL;
    er_cassette *c = er_xcalloc(1, sizeof *c);
    c->path = er_xstrdup(path);
    c->out = -1;
    pthread_mutex_init(&c->lock, NULL);
    int rc = 0;
    if (replay) {
        rc = load(c, err);
    } else if ((c->out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        rc = er_error_set(err, ER_EIO, "cannot write the cassette '%s': %s", path, strerror(errno));
    }
    if (rc) {
        er_cassette_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void er_cassette_close(er_cassette *c)
{
    if (!c)
        return;
    if (c->out >= 0)
        close(c->out);
    for (size_t i = 0; i < c->n; i++)
        cJSON_Delete(c->entries[i].response);
    free(c->entries);
    pthread_mutex_destroy(&c->lock);
    free(c->path);
    free(c);
}

/* ---- recording and playing ---- */

int er_cassette_record(er_cassette *c, const er_llm_request *req, const er_llm_response *resp,
                       er_error *err)
{
    char key[65];
    int rc = request_key(req, key, err);
    if (rc)
        return rc;
    cJSON *e = cJSON_CreateObject();
    er_json_add_str(e, "kind", "llm");
    er_json_add_str(e, "key", key);
    cJSON *r = request_json(req);
    if (req->model)
        er_json_add_str(r, "model", req->model);
    er_json_add(e, "request", r);
    er_json_add(e, "response", response_json(resp));
    er_buf line = ER_BUF_INIT;
    char *text = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    er_buf_puts(&line, text);
    er_buf_puts(&line, "\n");
    free(text);
    /* One write per line on an O_APPEND file: the lines of the processes
     * sharing a cassette (networked workers) do not interleave. */
    pthread_mutex_lock(&c->lock);
    ssize_t w = write(c->out, line.ptr, line.len);
    pthread_mutex_unlock(&c->lock);
    if (w != (ssize_t)line.len)
        rc = er_error_set(err, ER_EIO, "cannot write the cassette '%s': %s", c->path,
                          w < 0 ? strerror(errno) : "short write");
    er_buf_release(&line);
    return rc;
}

int er_cassette_play(er_cassette *c, const er_llm_request *req, er_llm_response *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    char key[65];
    int rc = request_key(req, key, err);
    if (rc)
        return rc;
    const cJSON *found = NULL;
    pthread_mutex_lock(&c->lock);
    long nth = ++c->served;
    const cJSON *last = NULL; /* the last answer of the key, if all were used */
    for (size_t i = 0; i < c->n && !found; i++) {
        if (strcmp(c->entries[i].key, key) != 0)
            continue;
        last = c->entries[i].response;
        if (!c->entries[i].used) {
            c->entries[i].used = true;
            found = c->entries[i].response;
        }
    }
    if (!found) /* the same run again on a long-lived worker */
        found = last;
    pthread_mutex_unlock(&c->lock);
    char missed[320];
    if (!found && er_http_tape_missed(missed, sizeof missed))
        return er_error_set(err, ER_ENOTFOUND,
                            "the cassette '%s' has no answer for %s (a tool's request), nor for "
                            "LLM request %ld after it: the run differs from the recorded one; "
                            "record it again with --record",
                            c->path, missed, nth);
    if (!found)
        return er_error_set(err, ER_ENOTFOUND,
                            "the cassette '%s' has no answer for LLM request %ld (key %.12s): "
                            "the run differs from the recorded one; record it again with "
                            "--record",
                            c->path, nth, key);
    response_from_json(out, found);
    if (req->stream && req->on_token && out->text[0])
        req->on_token(out->text, strlen(out->text), req->payload);
    return 0;
}

/* ---- the replay backend ---- */

typedef struct replay_llm {
    er_llm base;
    er_cassette *tape;
} replay_llm;

static int replay_chat(er_llm *llm, const er_llm_request *req, er_llm_response *out, er_error *err)
{
    return er_cassette_play(((replay_llm *)llm)->tape, req, out, err);
}

static void replay_close(er_llm *llm)
{
    replay_llm *r = (replay_llm *)llm;
    er_cassette_close(r->tape);
    free(r);
}

static int replay_open(er_llm **out, const er_config *cfg, er_error *err)
{
    *out = NULL;
    if (!cfg || er_str_empty(cfg->llm_replay))
        return er_error_set(err, ER_EINVAL, "replaying needs a cassette (--replay FILE)");
    er_cassette *tape;
    int rc = er_cassette_open(&tape, cfg->llm_replay, true, err);
    if (rc)
        return rc;
    replay_llm *r = er_xcalloc(1, sizeof *r);
    r->tape = tape;
    *out = &r->base;
    return 0;
}

const er_llm_backend er_llm_replay_backend = {
    .version = ER_LLM_BACKEND_VERSION,
    .name = "replay",
    .open = replay_open,
    .close = replay_close,
    .chat = replay_chat,
    .ping = NULL,
};
