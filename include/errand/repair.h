/* repair.h — what the agent runtime does when the model misbehaves.
 *
 * Real models answer badly every day.  Each kind of bad answer has one
 * outcome, and none is a crash, a hang or a side effect without approval:
 *
 *   the model's answer                         outcome
 *   a call to a tool that does not exist,      the call is not run; the model gets
 *   or one this (sub)agent was not given        "error: …" saying what was wrong
 *   arguments that are not JSON / not UTF-8    (a repair turn); a run whose model
 *   arguments that do not match the schema     gets it wrong ER_REPAIR_TURNS + 1
 *   calls cut off by the output limit          steps in a row fails, naming the
 *     (finish_reason "length")                 last mistake
 *   an empty answer                            a user message asks for one (a
 *   a text answer cut off by the output limit  repair turn); the parts of a cut
 *                                              answer are joined
 *   the same failing call again                the second failure says a third try
 *                                              ends the run; the third is not run:
 *                                              the run fails
 *   two calls with one id                      the very same call twice is run
 *                                              once; different calls get ids made
 *                                              unique (id_2, …) and both run
 *   two calls of one answer changing one file  the first that succeeds stands,
 *                                              later ones are refused (they would
 *                                              race): the model re-reads the file
 *                                              and sends one change
 *
 * Threads: an er_repair belongs to one run. */
#ifndef ERRAND_REPAIR_H
#define ERRAND_REPAIR_H

#include "common.h"
#include "llm.h"
#include "tool.h"
#include <cjson/cJSON.h>

/* Repair turns a run gives its model before it fails. */
#define ER_REPAIR_TURNS 2
/* Times one exact call may fail; the next identical one ends the run. */
#define ER_REPAIR_SAME_FAILURES 2
#define ER_REPAIR_MAX_WRITES    64

typedef struct er_repair {
    int mistakes;   /* steps in a row with a malformed answer */
    char last[240]; /* what was wrong with the last one */
    struct {
        uint64_t sig; /* hash of the call (name, canonical arguments) */
        int n;        /* how many times it failed */
    } failed[64];
    size_t nfailed;
} er_repair;

/* The files changed by the calls of one answer (a subagent's answers, run
 * while one of its parent's calls runs, have their own). */
typedef struct er_repair_writes {
    char *path[ER_REPAIR_MAX_WRITES]; /* canonical, OWNED */
    char *by[ER_REPAIR_MAX_WRITES];   /* the call's id, OWNED */
    size_t n;
} er_repair_writes;

void er_repair_init(er_repair *rp);
void er_repair_writes_release(er_repair_writes *w);

/* Duplicated call ids in resp: an exact repeat (id, name, arguments) is
 * dropped, another call gets its id made unique.  Returns how many changed. */
size_t er_repair_call_ids(er_llm_response *resp);

/* ---- one answer's calls ---- */

/* "error: …" (OWNED) when the answer was cut off by the output limit and its
 * calls must not run, else NULL. */
char *er_repair_cut_call(const er_llm_response *resp, const er_llm_tool_call *c);
/* "error: …" (OWNED) when c's arguments were not UTF-8, else NULL. */
char *er_repair_bad_utf8(const er_llm_tool_call *c);
/* "error: …" (OWNED) naming the tools there are, for a call to one that is not
 * among them (tools: NULL-terminated names, plus the built-ins given). */
char *er_repair_unknown_tool(const char *name, const char *scope, const char *const *tools,
                             const char *const *builtins, bool read_only);
/* For a write tool (perm WRITE) with a "path": "error: …" (OWNED) when an
 * earlier call of the same answer changed that file, else NULL.  workspace
 * resolves the path (NULL: compared as written). */
char *er_repair_write_conflict(const er_repair_writes *w, const char *workspace, const er_tool *t,
                               const cJSON *args);
/* Records that call_id of a write tool changed its "path" (it succeeded). */
void er_repair_wrote(er_repair_writes *w, const char *workspace, const er_tool *t,
                     const cJSON *args, const char *call_id);

/* ---- failures and mistakes ---- */

/* Before running c: nonzero when this exact call already failed
 * ER_REPAIR_SAME_FAILURES times (*why then says so: the run ends). */
int er_repair_check_repeat(const er_repair *rp, const er_llm_tool_call *c, char *why,
                           size_t whylen);
/* After a well-formed call c ran (or was refused) with result *content: a
 * failure is counted, and the one that reaches the limit gets a warning
 * appended to *content (reallocated).  Malformed calls count as mistakes
 * (er_repair_end_step), not here. */
void er_repair_note_result(er_repair *rp, const er_llm_tool_call *c, char **content);
/* The end of a step: mistake (first line of what was wrong, or NULL when the
 * step was well formed).  Nonzero when the run must end: *why says why. */
int er_repair_end_step(er_repair *rp, const char *mistake, char *why, size_t whylen);

/* The user message of a repair turn for an answer without calls that is empty
 * or cut off, or NULL when it is a proper final answer.  *mistake gets a short
 * description.  BORROWED static text. */
const char *er_repair_final_answer(const er_llm_response *resp, const char **mistake);

#endif
