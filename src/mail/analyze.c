/* analyze.c — the offline mail scorer (see mail_analyze.h). */
#include "errand/mail_analyze.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct weighted {
    const char *word; /* lower case; matched at word starts */
    int weight;
} weighted;

static const weighted importance_words[] = {
    { "urgent", 3 },       { "asap", 3 },          { "immediately", 2 },
    { "deadline", 2 },     { "important", 2 },     { "action required", 3 },
    { "by tomorrow", 2 },  { "today", 1 },         { "overdue", 3 },
    { "final notice", 3 }, { "please review", 1 }, { "please confirm", 1 },
    { "unsubscribe", -2 }, { "newsletter", -2 },   { "no-reply", -1 },
    { "noreply", -1 },     { "promotion", -2 },    { "% off", -2 },
    { "digest", -1 },
};

static const struct {
    const char *name;
    const char *words[10];
} categories[] = {
    { "finance", { "invoice", "payment", "receipt", "bank", "refund", "salary", "tax", NULL } },
    { "meeting",
      { "meeting", "agenda", "calendar", "call at", "reschedule", "lunch", "invite", "réunion",
        NULL } },
    { "security",
      { "password", "verify your", "login", "security alert", "2fa", "suspicious", "account locked",
        NULL } },
    { "newsletter", { "unsubscribe", "newsletter", "digest", "view in browser", "weekly", NULL } },
    { "work",
      { "report", "project", "deliverable", "review", "release", "quarterly", "contract", NULL } },
};

static const weighted sentiment_words[] = {
    { "thank", 2 },         { "great", 2 },          { "happy", 2 },     { "congratulations", 3 },
    { "glad", 2 },          { "appreciate", 2 },     { "excellent", 2 }, { "pleased", 2 },
    { "sorry", -1 },        { "unfortunately", -2 }, { "problem", -2 },  { "complaint", -3 },
    { "disappointed", -3 }, { "angry", -3 },         { "failed", -2 },   { "issue", -1 },
    { "overdue", -2 },      { "cancel", -1 },
};

static const char *const action_cues[] = {
    "please ",   "could you",    "can you",     "would you",       "need you to",
    "make sure", "don't forget", "remember to", "action required", "let me know",
    "send me",   "reply by",     "due ",
};

static const char *const due_cues[] = {
    "by ", "before ", "until ", "due ", "no later than ", "on ",
};

static const char *const when_words[] = {
    "today",   "tonight",   "tomorrow", "monday",    "tuesday",    "wednesday", "thursday",
    "friday",  "saturday",  "sunday",   "next week", "end of day", "eod",       "end of the week",
    "january", "february",  "march",    "april",     "may",        "june",      "july",
    "august",  "september", "october",  "november",  "december",
};

/* Occurrences of word in lower-cased text, at word starts. */
static int count_word(const char *text, const char *word)
{
    int n = 0;
    size_t wl = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + wl, word))
        if (p == text || !isalnum((unsigned char)p[-1]))
            n++;
    return n;
}

static char *lower(const char *a, const char *b, const char *c)
{
    char *s = er_xasprintf("%s\n%s\n%s", a ? a : "", b ? b : "", c ? c : "");
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

/* A due date named after a cue in the sentence: "Friday", "2026-12-10", "12 December". */
static char *due_in(const char *sentence)
{
    for (size_t c = 0; c < ER_ARRAY_LEN(due_cues); c++) {
        for (const char *p = strstr(sentence, due_cues[c]); p; p = strstr(p + 1, due_cues[c])) {
            const char *w = p + strlen(due_cues[c]);
            if (isdigit((unsigned char)*w)) {
                size_t n = strspn(w, "0123456789-./");
                if (n >= 2)
                    return er_xstrndup(w, n);
            }
            for (size_t i = 0; i < ER_ARRAY_LEN(when_words); i++)
                if (strncmp(w, when_words[i], strlen(when_words[i])) == 0)
                    return er_xstrdup(when_words[i]);
        }
    }
    return NULL;
}

/* Sentences of the text that ask for something, with any due date. */
static void action_items(cJSON *arr, const char *text)
{
    const char *p = text ? text : "";
    int found = 0;
    while (*p && found < 10) {
        size_t n = strcspn(p, ".!?\n");
        char *orig = er_xstrndup(p, n), *low = lower(NULL, NULL, orig);
        const char *l = low + 2; /* lower() joined three parts with newlines */
        bool ask = false;
        for (size_t i = 0; i < ER_ARRAY_LEN(action_cues) && !ask; i++)
            ask = strstr(l, action_cues[i]) != NULL;
        if (ask && n > 3) {
            cJSON *it = cJSON_CreateObject();
            char *due = due_in(l);
            char *t = orig;
            while (isspace((unsigned char)*t))
                t++;
            er_json_add_str(it, "text", t);
            er_json_add_str(it, "due", due);
            free(due);
            er_json_append(arr, it);
            found++;
        }
        free(orig);
        free(low);
        p += n;
        while (*p && strchr(".!?\n", *p))
            p++;
    }
}

cJSON *er_mail_analyze(const char *subject, const char *from, const char *text)
{
    char *all = lower(subject, from, text);
    cJSON *o = cJSON_CreateObject(), *reasons = cJSON_CreateArray();
    int imp = 0;
    for (size_t i = 0; i < ER_ARRAY_LEN(importance_words); i++) {
        int n = count_word(all, importance_words[i].word);
        if (!n)
            continue;
        imp += importance_words[i].weight * (n > 2 ? 2 : 1);
        char *r = er_xasprintf("importance %+d: \"%s\"", importance_words[i].weight,
                               importance_words[i].word);
        er_json_append(reasons, cJSON_CreateString(r));
        free(r);
    }
    er_json_add_str(o, "importance", imp >= 3 ? "high" : imp <= -2 ? "low" : "normal");
    er_json_add_num(o, "importance_score", imp);
    cJSON *cs = cJSON_CreateObject();
    const char *best = "other";
    int best_n = 0;
    for (size_t c = 0; c < ER_ARRAY_LEN(categories); c++) {
        int n = 0;
        for (size_t w = 0; categories[c].words[w]; w++)
            n += count_word(all, categories[c].words[w]);
        if (n)
            er_json_add_num(cs, categories[c].name, n);
        if (n > best_n) {
            best_n = n;
            best = categories[c].name;
        }
    }
    er_json_add_str(o, "category", best);
    er_json_add(o, "category_scores", cs);
    int sent = 0;
    for (size_t i = 0; i < ER_ARRAY_LEN(sentiment_words); i++) {
        int n = count_word(all, sentiment_words[i].word);
        if (!n)
            continue;
        sent += sentiment_words[i].weight * n;
        char *r = er_xasprintf("sentiment %+d: \"%s\"", sentiment_words[i].weight,
                               sentiment_words[i].word);
        er_json_append(reasons, cJSON_CreateString(r));
        free(r);
    }
    er_json_add_str(o, "sentiment", sent >= 2 ? "positive" : sent <= -2 ? "negative" : "neutral");
    er_json_add_num(o, "sentiment_score", sent);
    er_json_add(o, "reasons", reasons);
    cJSON *items = cJSON_CreateArray();
    action_items(items, text);
    er_json_add(o, "action_items", items);
    free(all);
    return o;
}
