/* routes_openai.c — an OpenAI-compatible face on errand: POST
 * /v1/chat/completions and GET /v1/models, so OpenAI client libraries and chat
 * UIs can use errand as if it were a model.
 *
 * "model" names an agent, or "errand" for the supervisor's routing.  The last
 * message (the user's) is the request; earlier ones are put before it as a
 * transcript, since these clients send the whole conversation every time.
 * The route runs on the pool (SRV_SLOW): it submits the task and follows its
 * events.  Without "stream" it waits for the end and answers one
 * chat.completion.  With it, the answer is a Server-Sent Events response whose
 * body a follower thread feeds as tokens arrive: libmicrohttpd pulls from a
 * callback, which suspends the connection while nothing is ready and is
 * resumed when something is.  The server keeps the open streams (s->streams):
 * libmicrohttpd must not stop with a connection suspended, so a stop first
 * ends every stream (srv_openai_end_streams). */
#include "server.h"
#include "mhd_api.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/tasks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUPERVISOR_MODEL "errand"
#define MAX_MESSAGES     256
#define STREAM_CHUNK_MAX (1024 * 1024)

static const char *const follow_kinds[] = { "token", "end", NULL };

/* ---- the request ---- */

/* The text of a message's content: a string, or an array of text parts. */
static bool content_text(const cJSON *content, er_buf *out)
{
    if (cJSON_IsString(content)) {
        er_buf_puts(out, content->valuestring);
        return true;
    }
    if (!cJSON_IsArray(content))
        return false;
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const char *t = er_json_str(part, "text");
        if (!er_str_eq(er_json_str(part, "type"), "text") || !t)
            return false;
        er_buf_puts(out, t);
    }
    return true;
}

/* The request text from messages, or a reply already made (returns its status). */
static int request_text(srv_req *r, const cJSON *msgs, char **out)
{
    int n = cJSON_GetArraySize(msgs);
    if (!cJSON_IsArray(msgs) || n == 0)
        return srv_reply_error(r, 400, "messages", "messages must be a non-empty array");
    if (n > MAX_MESSAGES)
        return srv_reply_error(r, 400, "messages", "at most %d messages", MAX_MESSAGES);
    const cJSON *last = cJSON_GetArrayItem(msgs, n - 1);
    if (!er_str_eq(er_json_str(last, "role"), "user"))
        return srv_reply_error(r, 400, "messages", "the last message must be the user's");
    er_buf b = ER_BUF_INIT;
    if (n > 1)
        er_buf_puts(&b, "Earlier in this conversation:\n");
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        const char *role = er_json_str(m, "role");
        if (!er_str_eq(role, "user") && !er_str_eq(role, "system") &&
            !er_str_eq(role, "assistant")) {
            er_buf_release(&b);
            return srv_reply_error(r, 400, "messages",
                                   "message %d: role must be system, user "
                                   "or assistant",
                                   i);
        }
        if (i == n - 1 && n > 1)
            er_buf_puts(&b, "\nThe request now:\n");
        else if (n > 1)
            er_buf_printf(&b, "%s: ", role);
        if (!content_text(cJSON_GetObjectItemCaseSensitive(m, "content"), &b)) {
            er_buf_release(&b);
            return srv_reply_error(r, 400, "messages", "message %d: content must be text", i);
        }
        if (i < n - 1)
            er_buf_putc(&b, '\n');
        i++;
    }
    *out = er_buf_detach(&b);
    return 0;
}

/* ---- following the task ---- */

typedef struct follow {
    srv *s;
    char task_id[ER_ID_LEN];
    er_follow *f;
    int64_t deadline_ms;
} follow;

/* The next event of the task (tokens and its end), or NULL after timeout_ms. */
static cJSON *next_event(follow *fo, int timeout_ms)
{
    cJSON *ev = NULL;
    if (er_follow_next(fo->f, timeout_ms, &ev) != 0)
        return NULL;
    return ev;
}

static bool own_end(const follow *fo, const cJSON *ev)
{
    return er_str_eq(er_json_str(ev, "kind"), "end") &&
           er_str_eq(er_json_str(ev, "task_id"), fo->task_id);
}

/* Submits the chat with follow set up first, so no event is missed. */
static int start(srv_req *r, follow *fo, const char *text, const char *agent, er_error *err)
{
    fo->s = r->s;
    er_id_new(fo->task_id);
    int rc = er_follow_open(&fo->f, r->s->env, fo->task_id, follow_kinds, err);
    if (rc)
        return rc;
    char task[ER_ID_LEN], conv[ER_ID_LEN];
    rc = srv_chat_submit(r->s, &r->user, text, NULL, agent, fo->task_id, task, conv, err);
    if (rc) {
        er_follow_close(fo->f);
        fo->f = NULL;
        return rc;
    }
    const er_config *cfg = r->s->cfg;
    fo->deadline_ms = er_mono_ms() + (cfg->max_seconds + cfg->deadline_margin + 30) * 1000;
    return 0;
}

static void add_usage(cJSON *j, const cJSON *end)
{
    int64_t in = er_json_int(end, "tokens_in", 0, 0, INT64_MAX);
    int64_t out = er_json_int(end, "tokens_out", 0, 0, INT64_MAX);
    cJSON *u = cJSON_CreateObject();
    er_json_add_num(u, "prompt_tokens", (double)in);
    er_json_add_num(u, "completion_tokens", (double)out);
    er_json_add_num(u, "total_tokens", (double)(in + out));
    er_json_add(j, "usage", u);
}

static cJSON *completion_head(const follow *fo, const char *model, const char *object)
{
    cJSON *j = cJSON_CreateObject();
    char *id = er_xasprintf("chatcmpl-%s", fo->task_id);
    er_json_add_str(j, "id", id);
    free(id);
    er_json_add_str(j, "object", object);
    er_json_add_num(j, "created", (double)(er_time_ms() / 1000));
    er_json_add_str(j, "model", model);
    return j;
}

/* ---- without streaming ---- */

static int answer_whole(srv_req *r, follow *fo, const char *model)
{
    cJSON *end = NULL;
    while (!end && er_mono_ms() < fo->deadline_ms) {
        cJSON *ev = next_event(fo, 1000);
        if (ev && own_end(fo, ev))
            end = ev;
        else
            cJSON_Delete(ev);
    }
    er_follow_close(fo->f);
    if (!end)
        return srv_reply_error(r, 504, NULL,
                               "task %s did not end in time; follow it at "
                               "/api/v1/tasks/%s",
                               fo->task_id, fo->task_id);
    const cJSON *d = er_json_obj(end, "data");
    int status;
    if (!er_str_eq(er_json_str(d, "status"), "done")) {
        status = srv_reply_error(r, 502, NULL, "task %s %s: %s", fo->task_id,
                                 er_json_str(d, "status") ? er_json_str(d, "status") : "ended",
                                 er_json_str(d, "error") ? er_json_str(d, "error") : "no reason");
    } else {
        cJSON *j = completion_head(fo, model, "chat.completion");
        cJSON *choices = cJSON_CreateArray(), *c = cJSON_CreateObject(),
              *msg = cJSON_CreateObject();
        er_json_add_num(c, "index", 0);
        er_json_add_str(msg, "role", "assistant");
        er_json_add_str(msg, "content", er_json_str(d, "answer") ? er_json_str(d, "answer") : "");
        er_json_add(c, "message", msg);
        er_json_add_str(c, "finish_reason", "stop");
        er_json_append(choices, c);
        er_json_add(j, "choices", choices);
        add_usage(j, d);
        status = srv_reply_json(r, 200, j);
    }
    cJSON_Delete(end);
    return status;
}

/* ---- streaming ---- */

typedef struct stream {
    struct stream *next; /* in the server's list, under its lock */
    struct srv_streams *reg;
    follow fo;
    char *model;
    struct MHD_Connection *conn;
    pthread_mutex_t lock;
    er_buf out;     /* SSE bytes not yet taken by libmicrohttpd */
    bool done;      /* the follower wrote the last chunk */
    bool suspended; /* the reader suspended the connection, waiting for bytes */
    bool gone;      /* libmicrohttpd freed its side: stop */
    bool stopping;  /* the server is stopping: the follower ends */
    bool started;
    pthread_t thread;
} stream;

struct srv_streams {
    pthread_mutex_t lock;
    stream *head;
    bool closing; /* no new streams */
};

static void push(stream *st, const char *data, size_t len, bool last)
{
    pthread_mutex_lock(&st->lock);
    if (st->done) { /* ended by a stop: nothing more goes out */
        pthread_mutex_unlock(&st->lock);
        return;
    }
    if (er_buf_append(&st->out, data, len))
        er_log(ER_LOG_WARN, "server",
               "chat completion stream of task %s: a chunk was dropped "
               "(the client reads too slowly)",
               st->fo.task_id);
    st->done |= last;
    if (st->suspended && !st->gone) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    }
    pthread_mutex_unlock(&st->lock);
}

static void push_chunk(stream *st, const char *content, const char *finish, const cJSON *end)
{
    cJSON *j = completion_head(&st->fo, st->model, "chat.completion.chunk");
    cJSON *choices = cJSON_CreateArray(), *c = cJSON_CreateObject(), *delta = cJSON_CreateObject();
    er_json_add_num(c, "index", 0);
    if (content)
        er_json_add_str(delta, "content", content);
    else if (!finish)
        er_json_add_str(delta, "role", "assistant");
    er_json_add(c, "delta", delta);
    er_json_add_str(c, "finish_reason", finish);
    er_json_append(choices, c);
    er_json_add(j, "choices", choices);
    if (end)
        add_usage(j, end);
    char *text = er_json_print(j);
    cJSON_Delete(j);
    char *line = er_xasprintf("data: %s\n\n", text);
    free(text);
    push(st, line, strlen(line), false);
    free(line);
}

static void push_error(stream *st, const char *msg)
{
    cJSON *j = cJSON_CreateObject(), *e = cJSON_CreateObject();
    er_json_add_str(e, "message", msg);
    er_json_add_str(e, "type", "task_failed");
    er_json_add(j, "error", e);
    char *text = er_json_print(j);
    cJSON_Delete(j);
    char *line = er_xasprintf("data: %s\n\n", text);
    free(text);
    push(st, line, strlen(line), false);
    free(line);
}

static bool is_gone(stream *st)
{
    pthread_mutex_lock(&st->lock);
    bool g = st->gone || st->stopping;
    pthread_mutex_unlock(&st->lock);
    return g;
}

/* The follower: the task's own tokens become chunks, its end the last one. */
static void *feed(void *arg)
{
    stream *st = arg;
    push_chunk(st, NULL, NULL, NULL); /* the role first, as OpenAI does */
    bool ended = false;
    while (!ended && !is_gone(st) && er_mono_ms() < st->fo.deadline_ms) {
        cJSON *ev = next_event(&st->fo, 500);
        if (!ev)
            continue;
        const cJSON *d = er_json_obj(ev, "data");
        if (er_str_eq(er_json_str(ev, "kind"), "token") &&
            er_str_eq(er_json_str(ev, "task_id"), st->fo.task_id) && er_json_str(d, "text")) {
            push_chunk(st, er_json_str(d, "text"), NULL, NULL);
        } else if (own_end(&st->fo, ev)) {
            ended = true;
            if (er_str_eq(er_json_str(d, "status"), "done")) {
                push_chunk(st, NULL, "stop", d);
            } else {
                char *why =
                    er_xasprintf("task %s %s: %s", st->fo.task_id, er_json_str(d, "status"),
                                 er_json_str(d, "error") ? er_json_str(d, "error") : "no reason");
                push_error(st, why);
                free(why);
            }
        }
        cJSON_Delete(ev);
    }
    if (!ended)
        push_error(st, "the task did not end in time");
    static const char last[] = "data: [DONE]\n\n";
    push(st, last, sizeof last - 1, true);
    return NULL;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *st = cls;
    pthread_mutex_lock(&st->lock);
    ssize_t n = 0;
    if (st->out.len) {
        n = (ssize_t)(st->out.len < max ? st->out.len : max);
        memcpy(buf, st->out.ptr, (size_t)n);
        er_buf_consume(&st->out, (size_t)n);
    } else if (st->done) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing yet: off the event loop until push() resumes it. */
        st->suspended = true;
        MHD_suspend_connection(st->conn);
    }
    pthread_mutex_unlock(&st->lock);
    return n;
}

static void free_stream(void *cls)
{
    stream *st = cls;
    if (st->reg) {
        pthread_mutex_lock(&st->reg->lock);
        for (stream **p = &st->reg->head; *p; p = &(*p)->next)
            if (*p == st) {
                *p = st->next;
                break;
            }
        pthread_mutex_unlock(&st->reg->lock);
    }
    pthread_mutex_lock(&st->lock);
    st->gone = true;
    pthread_mutex_unlock(&st->lock);
    if (st->started)
        pthread_join(st->thread, NULL);
    er_follow_close(st->fo.f);
    er_buf_release(&st->out);
    pthread_mutex_destroy(&st->lock);
    free(st->model);
    free(st);
}

static int answer_stream(srv_req *r, follow *fo, const char *model)
{
    stream *st = er_xcalloc(1, sizeof *st);
    st->fo = *fo;
    st->model = er_xstrdup(model);
    st->conn = r->conn;
    pthread_mutex_init(&st->lock, NULL);
    er_buf_init(&st->out, STREAM_CHUNK_MAX);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                                  read_stream, st, free_stream);
    if (!resp) {
        free_stream(st);
        return srv_reply_error(r, 500, NULL, "cannot start the stream");
    }
    pthread_mutex_lock(&r->s->streams->lock);
    bool closing = r->s->streams->closing;
    if (!closing) {
        st->reg = r->s->streams;
        st->next = st->reg->head;
        st->reg->head = st;
    }
    pthread_mutex_unlock(&r->s->streams->lock);
    if (closing) {
        MHD_destroy_response(resp); /* frees st */
        return srv_reply_error(r, 503, NULL, "the server is stopping");
    }
    st->started = pthread_create(&st->thread, NULL, feed, st) == 0;
    if (!st->started)
        push(st, "data: [DONE]\n\n", 14, true);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    r->upgrade = resp; /* http.c sends a prepared response as it is */
    r->ctype = "text/event-stream";
    r->status = 200;
    return 200;
}

int srv_route_openai_chat(srv_req *r)
{
    const cJSON *b = r->body;
    const char *model = er_json_str(b, "model");
    if (!model)
        return srv_reply_error(r, 400, "model",
                               "model is required: an agent's name, or "
                               "\"" SUPERVISOR_MODEL "\" to let errand route");
    const char *agent = er_str_eq(model, SUPERVISOR_MODEL) ? NULL : model;
    if (agent && !er_agent_find(agent))
        return srv_reply_error(r, 404, "model",
                               "no model '%s': use \"" SUPERVISOR_MODEL
                               "\" or an agent's name (GET /v1/models)",
                               model);
    const cJSON *stream_flag = cJSON_GetObjectItemCaseSensitive(b, "stream");
    if (stream_flag && !cJSON_IsBool(stream_flag))
        return srv_reply_error(r, 400, "stream", "stream must be true or false");
    char *text = NULL;
    int bad = request_text(r, cJSON_GetObjectItemCaseSensitive(b, "messages"), &text);
    if (bad)
        return bad;
    follow fo = { 0 };
    er_error err = { 0 };
    int rc = start(r, &fo, text, agent, &err);
    free(text);
    if (rc)
        return srv_reply_err(r, &err);
    return cJSON_IsTrue(stream_flag) ? answer_stream(r, &fo, model) : answer_whole(r, &fo, model);
}

int srv_route_openai_models(srv_req *r)
{
    cJSON *j = cJSON_CreateObject(), *data = cJSON_CreateArray();
    er_json_add_str(j, "object", "list");
    for (size_t i = 0; i <= er_agent_count(); i++) {
        const char *name = i == 0 ? SUPERVISOR_MODEL : er_agents[i - 1]->name;
        cJSON *m = cJSON_CreateObject();
        er_json_add_str(m, "id", name);
        er_json_add_str(m, "object", "model");
        er_json_add_num(m, "created", 0);
        er_json_add_str(m, "owned_by", "errand");
        er_json_append(data, m);
    }
    er_json_add(j, "data", data);
    return srv_reply_json(r, 200, j);
}

void srv_openai_init(srv *s)
{
    s->streams = er_xcalloc(1, sizeof *s->streams);
    pthread_mutex_init(&s->streams->lock, NULL);
}

void srv_openai_end_streams(srv *s)
{
    if (!s->streams)
        return;
    static const char bye[] = "data: {\"error\":{\"message\":\"the server is stopping\","
                              "\"type\":\"server_stopping\"}}\n\ndata: [DONE]\n\n";
    pthread_mutex_lock(&s->streams->lock);
    s->streams->closing = true;
    for (stream *st = s->streams->head; st; st = st->next) {
        pthread_mutex_lock(&st->lock);
        st->stopping = true;
        if (!st->done)
            er_buf_append(&st->out, bye, sizeof bye - 1);
        st->done = true;
        if (st->suspended && !st->gone) {
            st->suspended = false;
            MHD_resume_connection(st->conn);
        }
        pthread_mutex_unlock(&st->lock);
    }
    pthread_mutex_unlock(&s->streams->lock);
}

void srv_openai_free(srv *s)
{
    if (!s->streams)
        return;
    pthread_mutex_destroy(&s->streams->lock);
    free(s->streams);
    s->streams = NULL;
}
