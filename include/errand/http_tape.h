/* http_tape.h — the tools' HTTP exchanges recorded into the run's cassette
 * and played back from it (cassette.h holds the LLM side).
 *
 * `--record FILE` (llm.record) appends, beside the LLM exchanges, one line
 * per HTTP request a tool made through er_http_request:
 *   {"kind": "http", "method", "url", "body_sha256", "status",
 *    "content_type"?, "location"?, "header"?, "authenticate"?,
 *    "body" | "body_b64", "error"?, "code"?}
 * `--replay FILE` answers those requests from the file: no socket is opened
 * and the SSRF guard is not consulted (nothing goes out).  A request is found
 * by method, URL and the SHA-256 of its body; the recordings of one request
 * are played in order, the last one again once all were; a request the
 * cassette lacks fails with ER_ENOTFOUND naming its method and URL.
 *
 * Secrets never reach the file: request headers (Authorization, API keys)
 * and request bodies are not written (only the body's hash); query
 * parameters and userinfo that carry credentials are replaced by "REDACTED"
 * in the URL (before matching too, so a replay finds them); string values
 * of JSON answers under a key naming a token, secret or password, and a kept
 * response header naming a session or a token (Mcp-Session-Id), are
 * replaced the same way.  Requests an LLM backend makes (.untaped) are not
 * taped here: the cassette keeps their exchanges at the LLM's level.
 *
 * The tape is process-wide, set once at start-up before threads start (like
 * the configuration); recording and playing are thread-safe. */
#ifndef ERRAND_HTTP_TAPE_H
#define ERRAND_HTTP_TAPE_H

#include "http.h"

/* Starts taping into path (replay false: appended to) or playing from it
 * (replay true: read whole; ER_ENOTFOUND when missing).  A second call
 * replaces the first. */
int er_http_tape_start(const char *path, bool replay, er_error *err);
void er_http_tape_stop(void);

/* True while recording or replaying: the tools then skip their caches of
 * pages and search results, so that every exchange is in the cassette and a
 * replay gets the recorded one, not what another run cached. */
bool er_http_tape_active(void);

/* For er_http_request: true when req is answered from the tape (*rc is then
 * its result, out filled as the recorded answer). */
bool er_http_tape_play(const er_http_req *req, er_http_resp *out, int *rc, er_error *err);
/* For er_http_request: true when req's answer should be recorded; then it
 * calls er_http_tape_record with what came back (streamed: the bytes
 * on_data received). */
bool er_http_tape_recording(const er_http_req *req);
void er_http_tape_record(const er_http_req *req, const er_http_resp *resp, const er_buf *streamed,
                         int rc, const er_error *err);

/* The last request the cassette lacked ("METHOD URL") into out: false when
 * none did.  A run usually fails a step later, on the LLM request that
 * carried the failed tool result; its message names this one too. */
bool er_http_tape_missed(char *out, size_t n);

/* The URL as the tape writes it: credentials in the userinfo and the query
 * replaced by "REDACTED".  OWNED. */
char *er_http_tape_url(const char *url);

#endif
