/* router.h — the supervisor's intent analysis: which agent(s) get a request.
 *
 * The decision comes from the LLM through a forced `route` tool call; the
 * offline brain answers that call with its trained classifier (src/llm/:
 * classifier.h, compound.h), so the same code path serves both.  A model whose
 * answer cannot be used as a decision — no route call (text, another tool, a
 * server that ignores tool_choice), arguments that are not JSON, no steps, an
 * unknown agent, a dependency that is not an earlier step (a cycle), a refusal —
 * does not fail the task: the offline classifier decides instead, with method
 * "fallback" and the reason kept. */
#ifndef ERRAND_ROUTER_H
#define ERRAND_ROUTER_H

#include "common.h"
#include "env.h"
#include "llm.h"
#include <cjson/cJSON.h>

typedef struct er_route_step {
    char *agent;
    char *request;
    int depends_on;    /* index of an earlier step whose result this needs, or -1 */
    double confidence; /* this step's own, 0..1, or -1 when none was given */
} er_route_step;

typedef struct er_route {
    er_route_step *steps;
    size_t nsteps;
    double confidence;  /* 0..1, or -1 when the model gave none */
    char *method;       /* "llm", "naive-bayes", "command", "forced", "fallback" */
    char *reason;       /* "fallback": why the model's decision was set aside; else NULL */
    char *classifier;   /* "fallback": the offline method that decided; else NULL */
    cJSON *scores;      /* OWNED per-agent scores or NULL */
    int64_t tokens_in;  /* what the decision cost (the routing model call); */
    int64_t tokens_out; /* counted in the task's usage by the aggregator */
    er_llm_usage usage; /* the routing model call's usage, cached tokens included */
} er_route;

/* history: BORROWED earlier conversation messages or NULL. */
int er_router_decide(er_env *env, const char *request, const cJSON *history, er_route *out,
                     er_error *err);
/* A one-step decision for --agent NAME. */
int er_route_forced(er_route *out, const char *agent, const char *request, er_error *err);
cJSON *er_route_to_json(const er_route *r);
int er_route_from_json(er_route *out, const cJSON *j, er_error *err);
void er_route_release(er_route *r);
/* The route tool's JSON schema (agents enumerated), OWNED. */
cJSON *er_router_tool_spec(void);

#endif
