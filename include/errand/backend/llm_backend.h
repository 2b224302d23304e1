/* llm_backend.h — for LLM backend authors only. */
#ifndef ERRAND_LLM_BACKEND_H
#define ERRAND_LLM_BACKEND_H

#include "../llm.h"

#define ER_LLM_BACKEND_VERSION 1

typedef struct er_llm_backend {
    int version;
    const char *name; /* "openai", "anthropic", "offline" */
    int (*open)(er_llm **out, const er_config *cfg, er_error *err);
    void (*close)(er_llm *llm);
    int (*chat)(er_llm *llm, const er_llm_request *req, er_llm_response *out, er_error *err);
    int (*ping)(er_llm *llm, er_error *err);
} er_llm_backend;

struct er_llm {
    const er_llm_backend *be;
    char *model;                              /* default model, OWNED by the generic layer */
    const struct er_agent_def *const *agents; /* given to er_llm_open, BORROWED; may be NULL */
    struct er_cassette *tape; /* llm.record: every exchange appended (cassette.h); OWNED by
                                 the generic layer, NULL when not recording */
};

extern const er_llm_backend er_llm_openai_backend;
extern const er_llm_backend er_llm_anthropic_backend;
extern const er_llm_backend er_llm_offline_backend;
extern const er_llm_backend er_llm_replay_backend; /* llm.replay (cassette.h) */

#endif
