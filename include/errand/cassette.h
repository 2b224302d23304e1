/* cassette.h — LLM traffic recorded to a file and played back from it.
 *
 * `--record FILE` (llm.record) appends every exchange of a run: one JSON
 * object per line, {"kind": "llm", "key", "request": {"system", "messages", "tools",
 * "tool_choice", "model"}, "response": {"text", "tool_calls", "stop_reason",
 * "usage", "model"}}.  `--replay FILE` (llm.replay) opens no provider: each
 * request is answered with the recorded response of the same key (the SHA-256
 * of the request's system prompt, messages, tools and tool choice, with the
 * random ids of untrusted-data fences masked — not the model or provider, so a replay needs no key), the recordings of one key used
 * in order, the last one again once all were (a long-lived worker replaying
 * the same run twice).  A request the cassette lacks fails, saying so: a run replays
 * deterministically or not at all.
 *
 * Lines of another kind are the tools' HTTP exchanges (http_tape.h), played
 * by the HTTP client; lines without a kind (older cassettes) are the LLM's.
 *
 * Thread-safe: a player and a recorder may be used by several threads. */
#ifndef ERRAND_CASSETTE_H
#define ERRAND_CASSETTE_H

#include "llm.h"

typedef struct er_cassette er_cassette;

/* replay false: FILE is appended to (created when missing). replay true: FILE
 * is read whole; ER_ENOTFOUND when missing, ER_EINVAL when not a cassette. */
int er_cassette_open(er_cassette **out, const char *path, bool replay, er_error *err);
void er_cassette_close(er_cassette *c);

/* Appends one exchange. */
int er_cassette_record(er_cassette *c, const er_llm_request *req, const er_llm_response *resp,
                       er_error *err);

/* The next recorded answer to req (OWNED: er_llm_response_release); streamed
 * through req->on_token when req->stream.  ER_ENOTFOUND when the cassette
 * holds none for it. */
int er_cassette_play(er_cassette *c, const er_llm_request *req, er_llm_response *out,
                     er_error *err);

#endif
