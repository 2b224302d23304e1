/* tool.h — tools agents can call: name, description, JSON-schema parameters,
 * permission class, and run(args) → text (usually JSON).
 *
 * Tools are const tables, one per family (src/tools/<family>.c), listed in
 * src/tools/registry.c.  A tool never checks policy: the runtime does, before
 * run() is called, from the tool's perm.  A tool reports bad arguments and
 * failures through err; the runtime hands that message back to the model. */
#ifndef ERRAND_TOOL_H
#define ERRAND_TOOL_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include "config.h"
#include <cjson/cJSON.h>

typedef struct er_env er_env;

typedef struct er_tool_ctx {
    er_env *env; /* store, cache, config: see env.h */
    const char *task_id;
    const char *agent;          /* agent or subagent running the tool */
    const char *workspace;      /* absolute root for file tools */
    bool workspace_read_only;   /* the analyzer's view */
    bool network_granted;       /* programs run/test start get the network
                                    (policy.exec_network) */
    bool server;                /* a task from errand serve: commands never run unconfined
                                    unless sandbox.fallback = limits (sandbox.h) */
    const volatile int *cancel; /* nonzero: stop soon with ER_ECANCELLED */
    bool tainted;               /* outside text is in the run's context (er_tool_untrusted):
                                    what the tool stores is marked untrusted */
    const struct er_tool *tool; /* the tool being run (an MCP tool finds its server by it) */
    int step; /* the step of the task's own agent the call belongs to (a subagent's: the
                 step that delegated to it), for `errand undo --step`; 0: none */
} er_tool_ctx;

/* Output cap for a tool's result text; tools elide beyond it. */
#define ER_TOOL_OUTPUT_MAX (256 * 1024)

typedef int (*er_tool_run_fn)(const er_tool_ctx *ctx, const cJSON *args, er_buf *out,
                              er_error *err);

typedef struct er_tool {
    const char *name;
    const char *description;
    const char *parameters; /* JSON schema (an object), as text */
    er_perm perm;
    /* Offline command form, e.g. "grep PATTERN [PATH]": upper-case words are the
     * schema's properties in order, [ ] marks optional ones, a final word ending
     * in "..." takes the rest of the line.  NULL: not offered offline. */
    const char *offline;
    er_tool_run_fn run;
    /* Safe to run again when a crash left a call unfinished (its worker died
     * after it started and before its result was recorded): it reads, fetches,
     * or sets a state whole, like write_file with the full content.  Such a call
     * is run again by the attempt that takes the task over.  Left false, a tool
     * that changes the world (edit_file, run, send) runs at most once: the
     * interrupted call is reported to the model and in the task's result, and
     * not repeated.  Tools that only read (ER_PERM_READ) count as idempotent
     * whatever this says (er_tool_idempotent). */
    bool idempotent;
} er_tool;

/* Whether a tool's results carry text from outside (web pages, search
 * results, mail, MCP results, …): the tools of the network class and the
 * tools of MCP servers (mcp.h) do.  They fence that
 * text as data (untrusted.h), and once one has run the run is tainted: every
 * write, exec or send call needs the user's own approval, whatever the policy
 * or --yes say (DESIGN.md: outside text is never instructions). */
bool er_tool_untrusted(const er_tool *t);

/* What a call of t with args would change, computed without changing
 * anything, for the approval question: the diff a write_file or edit_file
 * would make, the command, directory, sandbox, network and timeout of a run.
 * OWNED text, or NULL when t has no preview. */
char *er_tool_preview(const er_tool_ctx *ctx, const er_tool *t, const cJSON *args);

typedef struct er_tool_family {
    const char *name;
    const er_tool *tools;
    size_t ntools;
} er_tool_family;

/* BORROWED static table entry, or NULL. */
const er_tool *er_tool_find(const char *name);
/* Calls fn for every registered tool; nonzero from fn stops. */
int er_tool_each(int (*fn)(const er_tool *t, void *payload), void *payload);
/* The schema for the model: {"name","description","parameters"}. OWNED. */
cJSON *er_tool_spec(const er_tool *t);
/* May an interrupted call of t run again?  ER_PERM_READ tools and those marked
 * idempotent. */
bool er_tool_idempotent(const er_tool *t);
/* Checks args against the tool's schema (required properties, primitive types,
 * enums); ER_EINVAL with a message naming the field. */
int er_tool_validate(const er_tool *t, const cJSON *args, er_error *err);

#endif
