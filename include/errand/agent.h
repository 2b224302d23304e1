/* agent.h — the deep agents as data: name, queue, prompt, subagents, tools.
 *
 * One shared runtime (runtime.h) runs every agent.  The definitions are const
 * tables in src/agents/<name>.c, listed in er_agents[] (src/core/registry.c),
 * the one list of agents: adding an agent is its file and its entry there.
 * Everything else follows from the list: the bus's queues and bindings
 * (er_bus_queue_names), the worker stages (er_worker_stages: `errand worker`,
 * its help, the TUI's monitor), doctor's and the metrics' queue lists, and
 * the agents the offline brain routes to (handed to er_llm_open). */
#ifndef ERRAND_AGENT_H
#define ERRAND_AGENT_H

#include "common.h"

typedef struct er_subagent_def {
    const char *name;
    const char *description;  /* shown to the parent in the `task` tool */
    const char *prompt;       /* its system prompt */
    const char *const *tools; /* NULL-terminated tool names */
    bool read_only;           /* workspace is read-only for it */
} er_subagent_def;

typedef struct er_agent_def {
    const char *name;        /* "code" → queue agent.code */
    const char *description; /* one line, for routing and /agents */
    const char *prompt;      /* system prompt */
    const er_subagent_def *subagents;
    size_t nsubagents;
    const char *const *tools; /* NULL-terminated tool names of its own */
    const char *offline_help; /* what it can do without an LLM */
} er_agent_def;

/* NULL-terminated list of every agent, in the order they are shown. */
extern const er_agent_def *const er_agents[];
const er_agent_def *er_agent_find(const char *name);
const er_subagent_def *er_subagent_find(const er_agent_def *a, const char *name);
/* How many agents er_agents[] lists. */
size_t er_agent_count(void);

#endif
