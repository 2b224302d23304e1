/* offline.h — the offline LLM backend's brain, exposed for tests and front ends.
 *
 * The offline backend (er_llm_offline_backend, src/llm/offline.c) answers chat
 * requests without a model:
 *   - tool_choice "route" (the supervisor): one `route` tool call (id
 *     "offline-1") for the last user message, with the arguments
 *     {"steps":[{"agent","request","depends_on","confidence"}…],
 *      "confidence","scores":{agent:p…},"method":"naive-bayes"}:
 *     steps as er_compound_route decides them (compound.h), depends_on the
 *     index of the step whose result a step needs or -1; confidence that of the
 *     least confident step; scores the posteriors for the whole request.
 *     When the message is a whole plain command (below) of exactly one
 *     agent's own tools (of the agents given to er_llm_open), that agent gets
 *     it as one step with confidence 1 and "method":"command" (scores still
 *     given): no guessing needed — unless it reads as prose
 *     (er_offline_reads_as_prose: "describe the code" fits
 *     `describe TABLE [COLUMNS]` but is a request to classify);
 *   - last message a user command whose first word is an offered tool's command
 *     word (its er_tool.offline form): one tool call "offline-1" with the
 *     arguments parsed from the words;
 *   - last message a tool result: text presenting it (er_offline_result_text;
 *     when the user's command ended in the word --json, pretty JSON instead;
 *     long output elided), no tool call, which ends the agent's turn;
 *   - anything else: help text listing the offline commands and how to
 *     configure a real model.
 * Usage is counted in whitespace-separated words: input = words of the system
 * prompt, every message's content and tool-call arguments; output = words of the
 * answer text and the produced arguments.
 *
 * Command forms (er_tool.offline), e.g. "grep PATTERN [PATH]": the first word is
 * the command (the tool's name is accepted too, case-insensitively); upper-case
 * words are parameters, matched to the schema property of the same name (any
 * case, '-' for '_') or else to the property at that position; [X] is optional;
 * a final word ending in "..." takes the rest of the line verbatim; other
 * lower-case words are literals the line must repeat.  A parameter word may
 * carry optional suffix parameters, each after one punctuation character and
 * nested: "show PATH[:START[-END]]" reads "src/main.c:10-20" as path
 * "src/main.c", start 10, end 20, and "src/main.c:10" as path and start.  A
 * suffix is split off at the last occurrence of its character, and only when
 * the text after it gives every later part a value of its type; otherwise it
 * stays in the word ("notes:v2.txt" is a path when START is an integer).  Values are words, or
 * "…" / '…' quoted strings (a quote opens only at the start of a word; \" and \\
 * escape inside double quotes); they are coerced to the property's schema type:
 * integer, number, boolean (true/false/yes/no/on/off/1/0), array (JSON, or
 * comma-separated) or object (JSON). */
#ifndef ERRAND_OFFLINE_H
#define ERRAND_OFFLINE_H

#include "common.h"
#include "agent.h"
#include "error.h"
#include "llm.h"
#include "tool.h"
#include <cjson/cJSON.h>

/* Cap on a tool result shown as the answer; the rest is elided. */
#define ER_OFFLINE_RESULT_MAX (16 * 1024)

/* Parses a command line against the offline forms of tools[0..n) (tools whose
 * offline is NULL are skipped).  0: *tool_out is the matching entry of tools
 * (BORROWED) and *args_out the arguments object (OWNED: cJSON_Delete).
 * ER_ENOTFOUND: no tool has that command word.  ER_EINVAL: the command matched
 * but its arguments did not (missing, extra, wrong type, unterminated quote);
 * the message names the problem and ends with the usage. */
int er_offline_parse_command(const er_tool *tools, size_t n, const char *line,
                             const er_tool **tool_out, cJSON **args_out, er_error *err);

/* Does a line that fits t's form read as an English sentence rather than a
 * command?  True when its first argument word, or two of them, are words of
 * prose (the, a, my, this, it, to, …; quoted words and the form's literals
 * do not count): "describe the code", "write an email to bob".  Routing
 * leaves such lines to the classifier. */
bool er_offline_reads_as_prose(const er_tool *t, const char *line);

/* A tool's JSON result as text for a person: single values as aligned
 * "name: value" lines (underscores read as blanks, nulls left out, empty lists
 * "none"), lists of objects as tables with upper-case headers (numbers right
 * aligned; wider than 100 columns or 8 keys: a block of lines per item),
 * texts of several lines as text under their name, control characters as
 * '?'.  OWNED, "" for NULL. */
char *er_offline_result_text(const cJSON *result);

/* Answers req the way the offline backend does, with the tools it may call given
 * explicitly (the backend passes the offered tools it finds with er_tool_find;
 * tests pass their own) and the agents a route may name (the backend passes
 * those given to er_llm_open; NULL-terminated, or NULL for none).  Fills out
 * (release with er_llm_response_release); streams the text through
 * req->on_token when req->stream.  ER_EINVAL for a request without messages,
 * or a route request without a user message; ER_ECANCELLED when *req->cancel
 * becomes nonzero. */
int er_offline_answer(const er_tool *tools, size_t n, const er_agent_def *const *agents,
                      const er_llm_request *req, er_llm_response *out, er_error *err);

#endif
