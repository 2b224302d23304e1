/* provider.h — what the network LLM backends (openai.c, anthropic.c) share:
 * HTTP settings taken from the configuration, one POST path for streamed and
 * buffered answers, an accumulator that turns either into an er_llm_response,
 * and the mapping of HTTP failures to error codes and messages.
 * Private to src/llm/ (and tests/fuzz/, which feeds answer bodies to
 * er_llm_remote_parse). */
#ifndef ERRAND_LLM_PROVIDER_H
#define ERRAND_LLM_PROVIDER_H

#include "errand/backend/llm_backend.h"
#include "errand/buf.h"
#include "errand/sse.h"

#define ER_LLM_MAX_CALLS      128  /* tool calls in one answer */
#define ER_LLM_MAX_CALL_INDEX 1024 /* highest stream index accepted */

/* Immutable after er_llm_net_init, so chats on several threads share it. */
typedef struct er_llm_net {
    const char *provider; /* "openai", for messages */
    const char *key_env;  /* "OPENAI_API_KEY", for the hint */
    char *base_url;       /* without a trailing '/' */
    char *headers[6];     /* NULL-terminated header lines, OWNED */
    long timeout_ms;
    int retries;
} er_llm_net;

/* base_url falls back to def_base; extra: header lines (NULL-terminated, copied). */
void er_llm_net_init(er_llm_net *n, const char *provider, const char *key_env, const char *base_url,
                     const char *def_base, const er_config *cfg, const char *const *extra);
void er_llm_net_release(er_llm_net *n);

typedef struct er_llm_acc_call {
    int key; /* the provider's index for it */
    er_buf id, name, args;
} er_llm_acc_call;

typedef struct er_llm_acc er_llm_acc;
/* A provider's handler for one parsed stream event (data is the event's JSON). */
typedef int (*er_llm_event_fn)(er_llm_acc *a, const char *event, const cJSON *data, er_error *err);

struct er_llm_acc {
    const er_llm_net *net;
    const er_llm_request *req;
    er_llm_event_fn on_event;
    er_sse sse;
    er_buf text;
    er_llm_acc_call *calls;
    size_t ncalls, capcalls;
    er_llm_usage usage;
    char *stop_reason;  /* OWNED */
    char *model;        /* OWNED */
    bool done;          /* the stream's end marker arrived */
    int mode;           /* streamed body: 0 unknown yet, 1 SSE, 2 plain JSON */
    bool bad_data;      /* the answer itself was wrong (not its transport) */
    bool passed_tokens; /* text went to req->on_token */
    bool refused;       /* the model declined (OpenAI's "refusal"): stop_reason
                                    "refusal", its words the text */
    er_buf json;        /* the body, when a server ignored "stream": true */
};

void er_llm_acc_init(er_llm_acc *a, const er_llm_net *net, const er_llm_request *req,
                     er_llm_event_fn on_event);
void er_llm_acc_release(er_llm_acc *a);
/* Appends answer text and passes it to req->on_token when streaming. */
int er_llm_acc_text(er_llm_acc *a, const char *s, size_t n, er_error *err);
/* The call with this key, appended when new; NULL with err set past the caps. */
er_llm_acc_call *er_llm_acc_get_call(er_llm_acc *a, int key, er_error *err);
int er_llm_acc_append(er_llm_acc *a, er_buf *b, const char *s, er_error *err);
void er_llm_acc_set(char **field, const char *s);
/* Moves the result into out (stop_reason defaults from the calls). */
void er_llm_acc_finish(er_llm_acc *a, er_llm_response *out);

/* Request building.  Adds under a constant key (not copied); frees item when
 * the add fails. */
void er_llm_add(cJSON *obj, const char *key, cJSON *item);
/* A string value as a reference (no copy: the caller's tree outlives the
 * request); any other value as its JSON text; missing or null as "". */
cJSON *er_llm_text_ref(const cJSON *v);
/* A reference to a tool's JSON schema, or an empty object schema. */
cJSON *er_llm_schema_ref(const cJSON *params);

/* The handle of every network backend. */
typedef struct er_llm_remote {
    er_llm base;
    er_llm_net net;
} er_llm_remote;

/* What differs between the wire formats. */
typedef struct er_llm_wire {
    const char *chat_path; /* appended to the base URL */
    const char *models_path;
    /* OWNED request body, or NULL with err set. */
    char *(*build)(const er_llm_request *req, size_t *len, er_error *err);
    er_llm_event_fn on_event;                                        /* one parsed stream event */
    int (*parse)(er_llm_acc *a, const cJSON *answer, er_error *err); /* a buffered answer */
} er_llm_wire;

/* The wire formats of openai.c and anthropic.c. */
extern const er_llm_wire er_llm_openai_wire;
extern const er_llm_wire er_llm_anthropic_wire;

/* A network backend's handle (arguments as er_llm_net_init). */
er_llm *er_llm_remote_open(const er_llm_backend *be, const char *provider, const char *key_env,
                           const char *base_url, const char *def_base, const er_config *cfg,
                           const char *const *extra);
void er_llm_remote_close(er_llm *llm);
/* One chat in wire format w: build, POST, stream or parse, assemble. */
int er_llm_remote_chat(er_llm *llm, const er_llm_wire *w, const er_llm_request *req,
                       er_llm_response *out, er_error *err);
int er_llm_remote_ping(er_llm *llm, const er_llm_wire *w, er_error *err);
/* What er_llm_remote_chat does with a 2xx answer, without the network: when
 * req->stream the body is fed to the stream parser in pieces of at most chunk
 * bytes (0: at once), else it is parsed as one buffered answer.  Fills out
 * (er_llm_response_release) on success.  For tests and fuzzing. */
int er_llm_remote_parse(const er_llm_wire *w, const er_llm_net *net, const er_llm_request *req,
                        const char *body, size_t len, size_t chunk, er_llm_response *out,
                        er_error *err);

/* POSTs body to base_url + path.  Streaming requests feed every SSE event to
 * a->on_event; others return the parsed answer in *json (OWNED), and so do
 * streaming requests that a server answered with plain JSON anyway.  HTTP
 * failures come back mapped (er_llm_net_status_error). */
int er_llm_net_post(er_llm_acc *a, const char *path, const char *body, size_t len, cJSON **json,
                    er_error *err);
/* GETs base_url + path; 0 on a 2xx answer. */
int er_llm_net_ping(const er_llm_net *n, const char *path, er_error *err);
/* Maps a non-2xx answer to a code and a message naming the cause (location:
 * where a 3xx pointed, or NULL). */
int er_llm_net_status_error(const er_llm_net *n, const char *model, long status, const er_buf *body,
                            const char *location, int attempts, er_error *err);

#endif
