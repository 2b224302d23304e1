/* mail_analyze.h — the email analyzer's offline scorer: importance,
 * category, sentiment and action items of a message from small word lists.
 *
 * Transparent by design: every score comes with the words that made it
 * (reasons), so a user can see why a message was called urgent.  No model,
 * no network; the model-based analysis is the analyzer subagent's. */
#ifndef ERRAND_MAIL_ANALYZE_H
#define ERRAND_MAIL_ANALYZE_H

#include "common.h"
#include <cjson/cJSON.h>

/* OWNED: {importance: "high"|"normal"|"low", importance_score, category,
 * category_scores: {name: n}, sentiment: "positive"|"negative"|"neutral",
 * sentiment_score, reasons: [..], action_items: [{text, due}]} for a
 * message's subject, sender and text (UTF-8; any may be NULL).  action_items'
 * text is the sender's sentence, to be fenced by the caller. */
cJSON *er_mail_analyze(const char *subject, const char *from, const char *text);

#endif
