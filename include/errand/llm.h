/* llm.h — chat with tools, streaming tokens and usage, whatever the provider.
 *
 * Messages use one neutral shape (OpenAI's chat shape), converted at the backend
 * edge:
 *   {"role":"user","content":"…"}
 *   {"role":"assistant","content":"…"|null,"tool_calls":[{"id":"…","name":"…","arguments":"{…}"}]}
 *   {"role":"tool","tool_call_id":"…","name":"…","content":"…"}
 *     (content starting "error:" is a failed or denied call: Anthropic's is_error)
 * Tools: [{"name":"…","description":"…","parameters":{JSON schema}}].
 * Backend by name: "openai" (any OpenAI-compatible endpoint), "anthropic", "offline". */
#ifndef ERRAND_LLM_H
#define ERRAND_LLM_H

#include "common.h"
#include "error.h"
#include "config.h"
#include <cjson/cJSON.h>
#include <string.h>

typedef struct er_llm er_llm;

/* input_tokens counts every input token, cached or not, whatever the
 * provider's own split (Anthropic reports cache reads and writes beside its
 * input_tokens; OpenAI inside prompt_tokens). */
typedef struct er_llm_usage {
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cached_tokens;      /* of the input: read from the provider's prompt cache */
    int64_t cache_write_tokens; /* of the input: written to the prompt cache */
} er_llm_usage;

/* {"input", "output", "cached", "cache_write"}: how the step records and the
 * cassettes keep a usage (OWNED). */
cJSON *er_llm_usage_json(const er_llm_usage *u);
/* The reverse; a missing or NULL object reads as nothing used. */
void er_llm_usage_from_json(er_llm_usage *u, const cJSON *j);

typedef struct er_llm_tool_call {
    char *id;
    char *name;
    char *arguments; /* JSON object text as the model produced it (may be invalid) */
    bool bad_utf8;   /* the arguments held bytes that are not UTF-8 (now U+FFFD): they
                          are not what the model meant, so the call must not run */
} er_llm_tool_call;

/* Text deltas as they arrive (streaming); called on the calling thread. */
typedef void (*er_llm_token_fn)(const char *text, size_t len, void *payload);

typedef struct er_llm_request {
    const char *model;       /* NULL: the provider's configured default */
    const char *system;      /* system prompt or NULL */
    const cJSON *messages;   /* BORROWED array, neutral shape */
    const cJSON *tools;      /* BORROWED array or NULL */
    const char *tool_choice; /* NULL auto, "required", or a tool's name to force */
    int max_tokens;          /* 0: provider default */
    bool stream;
    er_llm_token_fn on_token; /* used when stream is true */
    void *payload;
    const volatile int *cancel; /* nonzero aborts the request with ER_ECANCELLED */
    int64_t deadline_ms;        /* er_mono_ms() instant the request (retries included) may
                                   not pass, ER_ETIMEDOUT: a time budget; 0: llm.timeout only */
    /* A streamed answer cut off midway (connection lost, idle, the stream's end
     * missing, an error event) is asked for again, within llm.retries and the
     * deadline; before the new attempt's first token this is called when tokens
     * of the lost one were already passed to on_token.  NULL: nothing to undo. */
    void (*on_restart)(void *payload);
} er_llm_request;

typedef struct er_llm_response {
    char *text;              /* OWNED, "" when the model only called tools */
    er_llm_tool_call *calls; /* OWNED array */
    size_t ncalls;
    er_llm_usage usage;
    char *stop_reason; /* "stop", "tool_calls", "length", "refusal", … */
    char *model;       /* as reported by the provider, or NULL */
    size_t bad_utf8;   /* bytes of text that were not UTF-8 (now U+FFFD) */
} er_llm_response;

struct er_agent_def; /* agent.h */

/* Opens the provider the configuration selects (er_config_llm_provider).
 * agents: the agents a route may name (NULL-terminated, like er_agents; NULL
 * for none), BORROWED until er_llm_close.  The offline backend routes plain
 * commands by their tools and lists them in its help; models ignore them (the
 * router's prompt and route tool name the agents to a model). */
int er_llm_open(er_llm **out, const er_config *cfg, const struct er_agent_def *const *agents,
                er_error *err);
/* Opens a named provider ("openai", "anthropic", "offline"). */
int er_llm_open_named(er_llm **out, const char *name, const er_config *cfg,
                      const struct er_agent_def *const *agents, er_error *err);
void er_llm_close(er_llm *llm);
const char *er_llm_name(const er_llm *llm);
/* A tool message's content that reports a failed or denied call ("error: …"). */
static inline bool er_llm_tool_failed(const char *content)
{
    return content && strncmp(content, "error:", 6) == 0;
}
/* A provider's default model, without opening it (NULL: unknown provider). */
const char *er_llm_default_model(const char *provider);
/* The model requests use when they name none. */
const char *er_llm_model(const er_llm *llm);
/* Thread-safe: several threads may chat on one handle at once.  What comes
 * back is valid UTF-8 whatever the provider sent: bytes that are not become
 * U+FFFD (counted in bad_utf8 and flagged per call). */
int er_llm_chat(er_llm *llm, const er_llm_request *req, er_llm_response *out, er_error *err);
/* Cheap reachability check (a models list, or nothing for offline). */
int er_llm_ping(er_llm *llm, er_error *err);
void er_llm_response_release(er_llm_response *r);

#endif
