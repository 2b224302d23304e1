/* fake_llm.c — a scripted LLM server speaking the OpenAI Chat Completions and
 * Anthropic Messages wire protocols, streamed (SSE) or not, for tests and
 * benchmarks.  It answers from a JSON script and can misbehave on request:
 * error statuses, Retry-After, delays, stalls, malformed or cut-off answers.
 *
 *   fake_llm --script FILE [--port N] [--port-file F] [--record F.jsonl] [--api-key K]
 *
 * Script: {"turns": [TURN, …]}.  A request takes the first unused turn whose
 * "match" is a substring of its body ("repeat": true turns are never used up).
 * TURN: text, tool_calls [{id,name,arguments}], usage {input,output,cached,
 * cache_write} (input counts them all, as errand does), status,
 * message, retry_after, delay_ms, stall_ms, chunk_delay_ms,
 * malformed: "json" | "truncate" | "sse" | "no_done", ignore_stream (answer
 * with plain JSON even when asked to stream, as some servers do),
 * finish_reason, refusal, misbehave (fake_llm_misbehave.h: refusal, length,
 * non_utf8, dup_ids, empty, ignore_tool_choice, stream_error, stall_midway,
 * redirect), capture: PREFIX (the word after PREFIX in the request replaces
 * every "{{capture}}" in the turn's strings: one turn answers many tasks with
 * their own file names, as the soak tests need),
 * echo (true: answer with the text of the last message; "ID": with tool call
 * ID's result).
 * POST /v1/embeddings answers with deterministic vectors (fake_llm_embed.h).
 * --gullible on: obey the orders found in the last message before the script
 * (fake_llm_gullible.h); --gullible decode (or json): also in the strings of a
 * tool result that is JSON, read with \" as a quote.
 * Record: one JSON line per request (n, path, headers, body, turn, t_recv_ns,
 * t_done_ns, t_first_byte_ns when streamed, t_wall_ms: the wall clock when it
 * arrived), flushed as written.  SIGTERM/SIGINT stop it cleanly. */
#include "fake_llm_misbehave.h"
#include "fake_llm_wire.h"
#include "fake_llm_gullible.h"
#include "fake_llm_embed.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST ((size_t)64 << 20)

typedef struct fake {
    cJSON *script;
    const cJSON *turns;
    bool *used;
    const char *api_key;
    FILE *record;
    int nreq;
    bool gullible; /* --gullible on */
    pthread_mutex_t lock;
} fake;

/* One request being answered. */
typedef struct exchange {
    reply r; /* what the answer depends on */
    struct mg_connection *conn;
    const char *path;
    er_buf body;
    cJSON *json; /* the parsed request, or NULL */
    cJSON *turn; /* the turn as answered (its misbehaviours applied), OWNED */
    int turn_idx;
    cJSON *own_turn; /* a turn made here (gullible orders, echo), freed after */
    uint64_t t_recv;
    uint64_t t_first; /* first streamed chunk written (benchmarks: time to first token) */
    int64_t t_wall;   /* er_time_ms() when it arrived */
} exchange;

/* The SSE events of a streamed answer, kept apart so they can be spaced out,
 * cut short or garbled. */
static fake F = { .lock = PTHREAD_MUTEX_INITIALIZER };
static volatile sig_atomic_t stopping;
static atomic_int stopped;
static int stop_pipe[2];

static void sleep_ms_always(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void sleep_ms(long ms)
{
    for (long left = ms; left > 0 && !stopping; left -= 10) {
        struct timespec ts = { 0, (left < 10 ? left : 10) * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* ---- plain responses ---- */

static void send_response(exchange *x, int status, const char *ctype, const char *extra,
                          const char *body, size_t len)
{
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
                  mg_get_response_code_text(x->conn, status), ctype, len, extra ? extra : "");
    er_buf_append(&b, body, len);
    mg_write(x->conn, b.ptr, b.len);
    er_buf_release(&b);
}

static void send_json(exchange *x, int status, const char *extra, cJSON *j)
{
    char *s = er_json_print(j);
    send_response(x, status, "application/json", extra, s, strlen(s));
    free(s);
    cJSON_Delete(j);
}

/* An error in the provider's own format, with Retry-After when asked. */
static void send_error(exchange *x, int status, const char *msg, long retry_after)
{
    char extra[64] = "";
    if (retry_after >= 0)
        snprintf(extra, sizeof extra, "Retry-After: %ld\r\n", retry_after);
    send_json(x, status, extra, error_body(x->r.p, status, msg));
}

/* Writes the headers and half the body, then closes the connection. */
static void send_truncated(exchange *x, const char *body, size_t len)
{
    mg_printf(x->conn,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n",
              len);
    mg_write(x->conn, body, len / 2);
    mg_disable_connection_keep_alive(x->conn);
}

static void answer_plain(exchange *x)
{
    if (malformed(&x->r, "json") || malformed(&x->r, "sse")) {
        static const char bad[] =
            "{\"id\": \"fake\", \"choices\": [{\"message\": {\"content\": \"unterm";
        send_response(x, 200, "application/json", NULL, bad, sizeof bad - 1);
        return;
    }
    cJSON *j = x->r.p == OPENAI ? openai_answer(&x->r) : anthropic_answer(&x->r);
    if (malformed(&x->r, "truncate")) {
        char *s = er_json_print(j);
        send_truncated(x, s, strlen(s));
        free(s);
        cJSON_Delete(j);
        return;
    }
    send_json(x, 200, NULL, j);
}

static void write_chunk(exchange *x, const char *p, size_t n)
{
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b, "%zx\r\n", n);
    er_buf_append(&b, p, n);
    er_buf_puts(&b, "\r\n");
    mg_write(x->conn, b.ptr, b.len);
    if (!x->t_first && memchr(p, '"', n)) /* skip empty keep-alive chunks */
        x->t_first = er_mono_ns();
    er_buf_release(&b);
}

/* Garbage lines the SSE rules skip, then a data line that is not JSON. */
static void garble(events *ev)
{
    static const char junk[] = ": a comment\nthis line is garbage\nretry: soon\n"
                               "data: {\"choices\": [{\"delta\": {\"content\": \n\n";
    size_t at = ev->n > 1 ? ev->ends[0] : 0;
    er_buf rest = ER_BUF_INIT;
    er_buf_append(&rest, ev->text.ptr + at, ev->text.len - at);
    ev->text.len = at;
    er_buf_puts(&ev->text, junk);
    er_buf_append(&ev->text, rest.ptr, rest.len);
    for (size_t i = ev->n > 1 ? 1 : 0; i < ev->n; i++)
        ev->ends[i] += sizeof junk - 1;
    er_buf_release(&rest);
}

/* Halfway through a stream (fake_llm_misbehave.h): an error event ends it, or
 * the fake goes quiet with the connection open.  True when the rest is not sent. */
static bool midway(exchange *x)
{
    if (misbehaves(x->r.turn, "stall_midway")) {
        sleep_ms(turn_num(&x->r, "stall_ms", 60000));
        return true;
    }
    if (!misbehaves(x->r.turn, "stream_error"))
        return false;
    const char *ev =
        x->r.p == OPENAI
            ? "data: {\"error\":{\"message\":\"The server is overloaded\","
              "\"type\":\"server_error\"}}\n\n"
            : "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
              "\"message\":\"Overloaded\"}}\n\n";
    write_chunk(x, ev, strlen(ev));
    return true;
}

static void answer_stream(exchange *x)
{
    events ev = { .text = ER_BUF_INIT };
    if (x->r.p == OPENAI)
        openai_stream(&x->r, &ev);
    else
        anthropic_stream(&x->r, &ev);
    if (malformed(&x->r, "sse") || malformed(&x->r, "json"))
        garble(&ev);
    size_t n = ev.n, total = ev.text.len;
    if (malformed(&x->r, "no_done") && n > 0) {
        n--;
        total = n ? ev.ends[n - 1] : 0;
    }
    bool cut = malformed(&x->r, "truncate");
    if (cut)
        total = ev.text.len / 2;
    mg_printf(x->conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                       "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n");
    long gap = turn_num(&x->r, "chunk_delay_ms", 0);
    size_t sent = 0;
    for (size_t i = 0; i < n && sent < total && !stopping; i++) {
        size_t end = ev.ends[i] < total ? ev.ends[i] : total;
        bool half = i + 1 == (n + 1) / 2;
        if (gap > 0 || i + 1 == n || end == total || half) {
            write_chunk(x, ev.text.ptr + sent, end - sent);
            sent = end;
            if (gap > 0)
                sleep_ms(gap);
        }
        if (half && midway(x))
            break;
    }
    if (sent < total && misbehaves(x->r.turn, "stream_error"))
        cut = false; /* the error event ended the stream properly */
    if (cut)
        mg_disable_connection_keep_alive(x->conn);
    else
        mg_write(x->conn, "0\r\n\r\n", 5);
    er_buf_release(&ev.text);
}

/* ---- requests ---- */

/* Replaces {{capture}} in every string below o with word. */
static void fill_capture(cJSON *o, const char *word)
{
    cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (cJSON_IsString(it) && strstr(it->valuestring, "{{capture}}")) {
            er_buf b = ER_BUF_INIT;
            for (const char *p = it->valuestring, *hit; *p; p = hit + 11) {
                if (!(hit = strstr(p, "{{capture}}"))) {
                    er_buf_puts(&b, p);
                    break;
                }
                er_buf_append(&b, p, (size_t)(hit - p));
                er_buf_puts(&b, word);
            }
            cJSON_SetValuestring(it, er_buf_cstr(&b));
            er_buf_release(&b);
        } else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            fill_capture(it, word);
        }
    }
}

/* A turn's "capture": the word (letters, digits, - _ .) after its prefix in
 * the request body fills the turn's {{capture}} placeholders. */
static void apply_capture(cJSON *turn, const char *body)
{
    const char *prefix = er_json_str(turn, "capture");
    const char *at = prefix && *prefix && body ? strstr(body, prefix) : NULL;
    if (!at)
        return;
    at += strlen(prefix);
    size_t n = strspn(at, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");
    char *word = er_xstrndup(at, n);
    fill_capture(turn, word);
    free(word);
}

static void send_models(exchange *x)
{
    cJSON *m = obj(), *data = cJSON_CreateArray(), *root = obj();
    add(m, "id", cJSON_CreateString("fake-model"));
    if (x->r.p == OPENAI) {
        add(m, "object", cJSON_CreateString("model"));
        add(m, "owned_by", cJSON_CreateString("fake_llm"));
        add(root, "object", cJSON_CreateString("list"));
    } else {
        add(m, "type", cJSON_CreateString("model"));
        add(m, "display_name", cJSON_CreateString("Fake model"));
        add(root, "has_more", cJSON_CreateFalse());
    }
    er_json_append(data, m);
    add(root, "data", data);
    send_json(x, 200, NULL, root);
}

static int read_body(exchange *x)
{
    char tmp[16384];
    for (;;) {
        int n = mg_read(x->conn, tmp, sizeof tmp);
        if (n <= 0)
            return n == 0 ? 0 : -1;
        if (er_buf_append(&x->body, tmp, (size_t)n) != 0)
            return -1;
    }
}

static bool key_ok(const exchange *x)
{
    if (!F.api_key)
        return true;
    if (x->r.p == OPENAI) {
        const char *h = mg_get_header(x->conn, "Authorization");
        return h && er_str_starts(h, "Bearer ") && strcmp(h + 7, F.api_key) == 0;
    }
    const char *h = mg_get_header(x->conn, "x-api-key");
    return h && strcmp(h, F.api_key) == 0;
}

static void pick_turn(exchange *x)
{
    int i = 0;
    const cJSON *t;
    pthread_mutex_lock(&F.lock);
    cJSON_ArrayForEach(t, F.turns)
    {
        const char *m = er_json_str(t, "match");
        bool fits = !m || (x->body.ptr && strstr(x->body.ptr, m));
        if (fits && (!F.used[i] || er_json_bool(t, "repeat", false))) {
            F.used[i] = true;
            x->r.turn = t;
            x->turn_idx = i;
            break;
        }
        i++;
    }
    pthread_mutex_unlock(&F.lock);
}

/* The gullible model's orders come before the script; an {"echo": true} turn
 * becomes one whose text is the last message's. */
static void special_turn(exchange *x)
{
    if (F.gullible && (x->own_turn = gullible_turn(x->json)) != NULL) {
        x->r.turn = x->own_turn;
        return;
    }
    pick_turn(x);
    const cJSON *echo = x->r.turn ? cJSON_GetObjectItemCaseSensitive(x->r.turn, "echo") : NULL;
    if (cJSON_IsTrue(echo) || cJSON_IsString(echo)) {
        x->own_turn = cJSON_Duplicate(x->r.turn, true);
        char *text = gullible_echo(x->json, cJSON_IsString(echo) ? echo->valuestring : NULL);
        cJSON_ReplaceItemInObjectCaseSensitive(x->own_turn, "text", cJSON_CreateString(text));
        if (!cJSON_GetObjectItemCaseSensitive(x->own_turn, "text"))
            er_json_add_str(x->own_turn, "text", text);
        free(text);
        x->r.turn = x->own_turn;
    }
}

static void answer_chat(exchange *x)
{
    if (er_json_parse(&x->json, x->body.ptr, x->body.len, NULL) != 0) {
        send_error(x, 400, "fake_llm: the request body is not JSON", -1);
        return;
    }
    x->r.model = er_json_str(x->json, "model") ? er_json_str(x->json, "model") : "fake-model";
    x->r.request_len = x->body.len;
    x->r.include_usage =
        er_json_bool(er_json_obj(x->json, "stream_options"), "include_usage", false);
    special_turn(x);
    if (!x->r.turn) {
        send_error(x, 500, "fake_llm: script exhausted", -1);
        return;
    }
    const char *unknown = NULL;
    if (!(x->turn = misbehave_turn(x->r.turn, x->json, &unknown))) {
        char *msg = er_xasprintf("fake_llm: no misbehaviour named '%s'", unknown);
        send_error(x, 500, msg, -1);
        free(msg);
        return;
    }
    apply_capture(x->turn, x->body.ptr);
    x->r.turn = x->turn;
    bool stall_first = !misbehaves(x->turn, "stall_midway");
    sleep_ms(turn_num(&x->r, "delay_ms", 0) + (stall_first ? turn_num(&x->r, "stall_ms", 0) : 0));
    long status = turn_num(&x->r, "status", 0);
    bool stream =
        er_json_bool(x->json, "stream", false) && !er_json_bool(x->r.turn, "ignore_stream", false);
    if (!status && !stream && misbehaves(x->turn, "stream_error"))
        status = x->r.p == OPENAI ? 503 : 529; /* a buffered answer's form of it */
    if (misbehaves(x->turn, "redirect")) {
        const char *to = turn_str(&x->r, "location");
        char *extra = er_xasprintf("Location: %s\r\n",
                                   to ? to : "https://llm.example.invalid/v1/chat/completions");
        send_response(x, 307, "text/plain", extra, "moved\n", 6);
        free(extra);
    } else if (status) {
        const char *msg = turn_str(&x->r, "message");
        send_error(x, (int)status, msg ? msg : "fake_llm: scripted failure",
                   turn_num(&x->r, "retry_after", -1));
    } else if (stream) {
        answer_stream(x);
    } else {
        answer_plain(x);
    }
}

static void answer_embeddings(exchange *x, const char *method)
{
    if (!key_ok(x)) {
        send_error(x, 401, "Incorrect API key provided", -1);
        return;
    }
    if (strcmp(method, "POST") != 0) {
        send_error(x, 405, "fake_llm: method not allowed", -1);
        return;
    }
    if (!x->json)
        x->json = cJSON_ParseWithLength(x->body.ptr ? x->body.ptr : "", x->body.len);
    const char *msg = "we could not parse the JSON body of your request";
    cJSON *answer = x->json ? fake_embed_answer(x->json, &msg) : NULL;
    if (answer)
        send_json(x, 200, NULL, answer);
    else
        send_error(x, 400, msg, -1);
}

static void route(exchange *x, const char *method)
{
    const char *path = x->path;
    bool models = strcmp(path, "/v1/models") == 0 || strcmp(path, "/models") == 0;
    bool openai =
        strcmp(path, "/v1/chat/completions") == 0 || strcmp(path, "/chat/completions") == 0;
    bool anthropic = strcmp(path, "/v1/messages") == 0 ||
                     (models && (mg_get_header(x->conn, "anthropic-version") ||
                                 mg_get_header(x->conn, "x-api-key")));
    bool embeddings = strcmp(path, "/v1/embeddings") == 0 || strcmp(path, "/embeddings") == 0;
    x->r.p = anthropic ? ANTHROPIC : OPENAI;
    if (read_body(x) != 0)
        send_error(x, 413, "fake_llm: request body too large or unreadable", -1);
    else if (embeddings)
        answer_embeddings(x, method);
    else if (!models && !openai && !anthropic)
        send_error(x, 404, "fake_llm: no such endpoint", -1);
    else if (!key_ok(x))
        send_error(x, 401, x->r.p == OPENAI ? "Incorrect API key provided" : "invalid x-api-key",
                   -1);
    else if (strcmp(method, models ? "GET" : "POST") != 0)
        send_error(x, 405, "fake_llm: method not allowed", -1);
    else if (models)
        send_models(x);
    else
        answer_chat(x);
}

static void record(exchange *x)
{
    static const char *const names[] = { "authorization", "x-api-key", "anthropic-version",
                                         "content-type" };
    if (!F.record)
        return;
    cJSON *r = obj(), *h = obj();
    add(r, "n", cJSON_CreateNumber(x->r.n));
    add(r, "path", cJSON_CreateString(x->path));
    for (size_t i = 0; i < ER_ARRAY_LEN(names); i++) {
        const char *v = mg_get_header(x->conn, names[i]);
        add(h, names[i], v ? cJSON_CreateString(v) : cJSON_CreateNull());
    }
    add(r, "headers", h);
    add(r, "body",
        x->json ? x->json : (x->body.len ? cJSON_CreateString(x->body.ptr) : cJSON_CreateNull()));
    x->json = NULL;
    add(r, "turn", cJSON_CreateNumber(x->turn_idx));
    if (x->own_turn && er_json_bool(x->own_turn, "gullible", false))
        add(r, "gullible", cJSON_Duplicate(er_json_arr(x->own_turn, "tool_calls"), true));
    add(r, "t_recv_ns", cJSON_CreateNumber((double)x->t_recv));
    add(r, "t_done_ns", cJSON_CreateNumber((double)er_mono_ns()));
    add(r, "t_wall_ms", cJSON_CreateNumber((double)x->t_wall));
    if (x->t_first)
        add(r, "t_first_byte_ns", cJSON_CreateNumber((double)x->t_first));
    char *s = er_json_print(r);
    pthread_mutex_lock(&F.lock);
    fprintf(F.record, "%s\n", s);
    fflush(F.record);
    pthread_mutex_unlock(&F.lock);
    free(s);
    cJSON_Delete(r);
}

static int on_request(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    exchange x = { .conn = conn, .turn_idx = -1, .t_recv = er_mono_ns(), .t_wall = er_time_ms() };
    x.path = ri->local_uri ? ri->local_uri : "";
    er_buf_init(&x.body, MAX_REQUEST);
    pthread_mutex_lock(&F.lock);
    x.r.n = ++F.nreq;
    pthread_mutex_unlock(&F.lock);
    route(&x, ri->request_method ? ri->request_method : "");
    record(&x);
    cJSON_Delete(x.own_turn);
    cJSON_Delete(x.json);
    cJSON_Delete(x.turn);
    er_buf_release(&x.body);
    return 200;
}

/* ---- start-up ---- */

typedef struct options {
    const char *script, *port, *port_file, *record, *api_key, *gullible;
} options;

static ER_NORETURN void usage_exit(const char *why)
{
    fprintf(stderr,
            "fake_llm: %s\nusage: fake_llm --script FILE [--port N] [--port-file F] "
            "[--record F.jsonl] [--api-key KEY] [--gullible on|decode|json]\n",
            why);
    exit(2);
}

static void parse_args(options *o, int argc, char **argv)
{
    static const struct {
        const char *flag;
        size_t off;
    } flags[] = {
        { "--script", offsetof(options, script) },
        { "--port", offsetof(options, port) },
        { "--port-file", offsetof(options, port_file) },
        { "--record", offsetof(options, record) },
        { "--api-key", offsetof(options, api_key) },
        { "--gullible", offsetof(options, gullible) },
    };
    for (int i = 1; i < argc; i += 2) {
        size_t f = 0;
        while (f < ER_ARRAY_LEN(flags) && strcmp(argv[i], flags[f].flag) != 0)
            f++;
        if (f == ER_ARRAY_LEN(flags) || i + 1 >= argc)
            usage_exit(f == ER_ARRAY_LEN(flags) ? "unknown option" : "option without a value");
        *(const char **)((char *)o + flags[f].off) = argv[i + 1];
    }
    if (!o->script)
        usage_exit("--script is required");
}

static void load_script(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        usage_exit("cannot open the script");
    er_buf b = ER_BUF_INIT;
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        er_buf_append(&b, tmp, n);
    fclose(f);
    er_error err = { 0 };
    if (er_json_parse(&F.script, b.ptr, b.len, &err) != 0 ||
        !(F.turns = er_json_arr(F.script, "turns"))) {
        fprintf(stderr, "fake_llm: %s: %s\n", path, err.msg[0] ? err.msg : "no \"turns\" array");
        exit(2);
    }
    er_buf_release(&b);
    F.used = er_xcalloc((size_t)cJSON_GetArraySize(F.turns) + 1, sizeof *F.used);
}

/* CivetWeb's listener polls with a 2 s timeout and only then sees the stop
 * flag; connecting to it wakes it, so SIGTERM ends the fake at once. */
static void *wake_listener(void *arg)
{
    int port = *(int *)arg;
    while (!atomic_load(&stopped)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (fd >= 0) {
            connect(fd, (struct sockaddr *)&sa, sizeof sa);
            close(fd);
        }
        sleep_ms_always(20);
    }
    return NULL;
}

/* The signal may land on any thread (sanitizer runtimes add their own), so
 * the handler only raises the flag and wakes main through a pipe. */
static void on_stop_signal(int sig)
{
    (void)sig;
    stopping = 1;
    ssize_t n = write(stop_pipe[1], "x", 1);
    (void)n;
}

static void install_stop_handler(void)
{
    if (pipe(stop_pipe) != 0)
        usage_exit("cannot create a pipe");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void write_port_file(const char *path, int port)
{
    char *tmp = er_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "fake_llm: cannot write %s\n", path);
        exit(1);
    }
    free(tmp);
}

int main(int argc, char **argv)
{
    options o = { .port = "0" };
    parse_args(&o, argc, argv);
    load_script(o.script);
    F.api_key = o.api_key;
    F.gullible = er_str_eq(o.gullible, "on") || er_str_eq(o.gullible, "decode") ||
                 er_str_eq(o.gullible, "json");
    gullible_decode = er_str_eq(o.gullible, "decode") || er_str_eq(o.gullible, "json");
    if (o.record && !(F.record = fopen(o.record, "w")))
        usage_exit("cannot open the record file");
    install_stop_handler();
    char *listen = er_xasprintf("127.0.0.1:%s", o.port);
    const char *opts[] = {
        "listening_ports",   listen, "num_threads",           "16",    "tcp_nodelay", "1",
        "enable_keep_alive", "yes",  "keep_alive_timeout_ms", "10000", NULL
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&cb, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "fake_llm: cannot listen on %s\n", listen);
        return 1;
    }
    mg_set_request_handler(ctx, "**", on_request, NULL);
    struct mg_server_port port;
    if (mg_get_server_ports(ctx, 1, &port) < 1)
        usage_exit("no listening port");
    if (o.port_file)
        write_port_file(o.port_file, port.port);
    char c;
    while (read(stop_pipe[0], &c, 1) < 0 && !stopping)
        ;
    stopping = 1;
    pthread_t waker;
    bool waking = pthread_create(&waker, NULL, wake_listener, &port.port) == 0;
    mg_stop(ctx);
    atomic_store(&stopped, 1);
    if (waking)
        pthread_join(waker, NULL);
    mg_exit_library();
    if (F.record)
        fclose(F.record);
    cJSON_Delete(F.script);
    free(F.used);
    free(listen);
    return 0;
}
