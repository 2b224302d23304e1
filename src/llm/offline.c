/* offline.c — PLACEHOLDER for the offline rules brain, only so the llm branch
 * links.  The real backend is written on another branch; at merge, take that
 * file and drop this one.  It answers every chat with "offline placeholder". */
#include "errand/backend/llm_backend.h"
#include "errand/alloc.h"

#include <stdlib.h>

static int offline_open(er_llm **out, const er_config *cfg, er_error *err)
{
    (void)cfg, (void)err;
    *out = er_xcalloc(1, sizeof **out);
    return 0;
}

static void offline_close(er_llm *llm)
{
    free(llm);
}

static int offline_chat(er_llm *llm, const er_llm_request *req, er_llm_response *out,
                        er_error *err)
{
    (void)llm, (void)err;
    out->text = er_xstrdup("offline placeholder");
    out->stop_reason = er_xstrdup("stop");
    if (req->stream && req->on_token)
        req->on_token(out->text, 19, req->payload);
    return 0;
}

const er_llm_backend er_llm_offline_backend = {
    .version = ER_LLM_BACKEND_VERSION,
    .name = "offline",
    .open = offline_open,
    .close = offline_close,
    .chat = offline_chat,
    .ping = NULL,
};
