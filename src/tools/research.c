/* research.c — the research tool family: cite_check, the validator's tool.
 *
 * A citation is checked mechanically: the page is fetched (or taken from the
 * cache, where the summarizer's fetch left it) and the quote looked for in
 * its main text, normalised (cite.h).  A quote that is not there comes back
 * with a "flag" — "not found in source [N]" — which the runtime makes sure
 * the final answer carries (runtime.h), so an unsupported claim is never
 * kept silently, whatever the model writes. */
#include "errand/alloc.h"
#include "errand/cite.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/tool_families.h"
#include "errand/untrusted.h"
#include "web_tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTE_SHOWN 160

static char *flag_text(long ref, const char *quote, const char *url)
{
    char ref_text[32] = "";
    if (ref > 0)
        snprintf(ref_text, sizeof ref_text, " [%ld]", ref);
    return er_xasprintf("not found in source%s: \"%.*s%s\" is not in %s", ref_text, QUOTE_SHOWN,
                        quote, strlen(quote) > QUOTE_SHOWN ? "…" : "", url);
}

static cJSON *check_result(const cJSON *args, const cJSON *page, const er_cite_match *m)
{
    const char *url = er_json_str(args, "url"), *quote = er_json_str(args, "quote");
    long ref = (long)er_json_int(args, "ref", 0, 0, 100000);
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "url", url);
    if (ref)
        er_json_add_num(o, "ref", (double)ref);
    er_json_add_str(o, "claim", er_json_str(args, "claim"));
    er_json_add_str(o, "quote", quote);
    er_json_add_bool(o, "found", m->found);
    er_json_add_bool(o, "cached", er_json_bool(page, "cached", false));
    if (m->found) {
        er_buf fenced = ER_BUF_INIT;
        er_untrusted_fence(&fenced, "sentence of a web page", er_json_str(page, "final_url"),
                           m->sentence, strlen(m->sentence));
        er_json_add_str(o, "sentence", er_buf_cstr(&fenced));
        er_buf_release(&fenced);
    } else {
        char *flag = flag_text(ref, quote, url);
        er_json_add_str(o, "flag", flag);
        free(flag);
    }
    return o;
}

static int run_cite(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *quote = er_json_str(args, "quote");
    if (er_str_empty(quote) || strlen(quote) < 3)
        return er_error_set(err, ER_EINVAL,
                            "cite_check: give the quote (at least 3 characters) "
                            "that the source should contain");
    cJSON *page = NULL;
    int rc = er_web_tools_fetch(ctx, er_json_str(args, "url"), &page, err);
    if (rc)
        return rc;
    er_cite_match m;
    er_cite_find(&m, er_json_str(page, "text"), quote);
    cJSON *o = check_result(args, page, &m);
    rc = er_tools_emit(out, o, err);
    cJSON_Delete(o);
    er_cite_match_release(&m);
    cJSON_Delete(page);
    return rc;
}

static const er_tool research_tools[] = {
    { "cite_check",
      "Check a citation mechanically: fetch the cited page (or reuse it from the cache) and "
      "report whether the quote occurs in its main text (whitespace, case and quote marks "
      "normalised), with the sentence around it. A quote not found comes back with a flag "
      "that the final answer must carry.",
      "{\"type\":\"object\",\"properties\":{"
      "\"url\":{\"type\":\"string\",\"description\":\"the cited source\"},"
      "\"quote\":{\"type\":\"string\",\"description\":\"the supporting passage, word for word\"},"
      "\"claim\":{\"type\":\"string\",\"description\":\"the claim the quote should support\"},"
      "\"ref\":{\"type\":\"integer\",\"description\":\"the citation's number [n] in the "
      "answer\"}},"
      "\"required\":[\"url\",\"quote\"],\"additionalProperties\":false}",
      ER_PERM_NETWORK, "cite URL QUOTE...", run_cite, true },
};

const er_tool_family er_tools_research = { "research", research_tools,
                                           ER_ARRAY_LEN(research_tools) };
