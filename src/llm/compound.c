/* compound.c — compound requests: clause splitting and the routing decision.
 *
 * "summarise https://example.com/a and email it to bob@example.com" is two jobs
 * for two agents.  The splitter cuts at conjunctions that join whole requests;
 * the router only believes the cut when the clauses classify to different agents
 * with good confidence, so a request like "find the bug and then fix it" stays one
 * step for one agent. */
#include "errand/compound.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Connectors that end one clause and start the next.  Scanning is left to right
 * and the first entry matching at a position wins, so longer forms come first. */
static const char *const connectors[] = {
    ", and then ",   " and then ",    ", then ",           ". then ",
    "; then ",       " then ",        ", and after that ", " and after that ",
    ", after that ", ". after that ", ", and afterwards ", " and afterwards ",
    ", afterwards ", ", and also ",   " and also ",        "; ",
};

/* "… and <verb> …" starts a new clause only for verbs that hand a result on to
 * another kind of job (mail it, save it, chart it). */
static const char *const verb_joins[] = { " and ", ", and ", ", ", " & " };
static const char *const hand_on_verbs[] = {
    "email", "e-mail", "mail", "send",  "forward", "reply",     "draft",
    "save",  "export", "plot", "chart", "graph",   "visualise", "visualize",
};

static bool word_at(const char *s, size_t n, const char *w)
{
    size_t m = strlen(w);
    if (m > n || strncasecmp(s, w, m) != 0)
        return false;
    return m == n || !isalnum((unsigned char)s[m]);
}

static bool prefix_ci(const char *s, size_t n, const char *p)
{
    size_t m = strlen(p);
    return m <= n && strncasecmp(s, p, m) == 0;
}

/* Length of the connector starting at s, or 0. */
static size_t connector_at(const char *s, size_t n)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(connectors); i++)
        if (prefix_ci(s, n, connectors[i]))
            return strlen(connectors[i]);
    for (size_t i = 0; i < ER_ARRAY_LEN(verb_joins); i++) {
        if (!prefix_ci(s, n, verb_joins[i]))
            continue;
        size_t j = strlen(verb_joins[i]);
        for (size_t v = 0; v < ER_ARRAY_LEN(hand_on_verbs); v++)
            if (word_at(s + j, n - j, hand_on_verbs[v]))
                return j;
    }
    return 0;
}

static bool trim_char(char ch)
{
    return isspace((unsigned char)ch) || ch == ',' || ch == ';' || ch == '.';
}

/* Appends text[start, end) trimmed, when anything is left. */
static void push_clause(const char *text, size_t start, size_t end, er_span *out, size_t *n)
{
    while (start < end && trim_char(text[start]))
        start++;
    while (end > start && trim_char(text[end - 1]))
        end--;
    if (end > start) {
        out[*n].off = start;
        out[*n].len = end - start;
        (*n)++;
    }
}

size_t er_compound_split(const char *text, size_t len, er_span *out, size_t max)
{
    size_t n = 0, start = 0;
    bool quoted = false;
    if (!text || !max)
        return 0;
    for (size_t i = 0; i < len && n + 1 < max; i++) {
        if (text[i] == '"')
            quoted = !quoted;
        if (quoted)
            continue;
        size_t c = connector_at(text + i, len - i);
        if (!c)
            continue;
        push_clause(text, start, i, out, &n);
        start = i + c;
        /* Every connector ends in a blank, which may also open the next one:
         * "; and then …". */
        i = start - 2;
    }
    push_clause(text, start, len, out, &n);
    return n;
}

/* Words that point back at an earlier step's result. */
static const char *const back_pronouns[] = { "it", "them", "that", "this", "those", "these" };
static const char *const back_nouns[] = {
    "result",  "results", "summary", "output", "findings", "answer",     "answers",     "list",
    "table",   "chart",   "graph",   "plot",   "report",   "screenshot", "screenshots", "file",
    "files",   "data",    "numbers", "totals", "prices",   "links",      "headlines",   "titles",
    "matches", "amounts", "figures", "values", "items",    "rows",       "details",     "page",
    "pdf",     "csv",     "text",    "notes",
};

static bool any_word(const char *s, size_t n, const char *const *words, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++)
        if (word_at(s, n, words[i]))
            return true;
    return false;
}

bool er_compound_refers_back(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && isalnum((unsigned char)text[i - 1]))
            continue; /* only at the start of a word */
        const char *s = text + i;
        size_t n = len - i;
        if (any_word(s, n, back_pronouns, ER_ARRAY_LEN(back_pronouns)))
            return true;
        if (word_at(s, n, "the") && n > 4 &&
            any_word(s + 4, n - 4, back_nouns, ER_ARRAY_LEN(back_nouns)))
            return true;
    }
    return false;
}

/* Fills out->steps from the clauses when they make a real compound plan:
 * every clause confident, at least two different labels after merging
 * neighbours that go to the same label.  False leaves out->nsteps at 0. */
static bool plan_compound(const er_classifier *c, const char *text, const er_span *cl, size_t n,
                          er_compound_plan *out)
{
    er_class_result r;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        er_classifier_predict(c, text + cl[i].off, cl[i].len, &r);
        if (r.confidence < ER_COMPOUND_MIN_CONFIDENCE) {
            out->nsteps = 0;
            return false;
        }
        er_compound_step *prev = k ? &out->steps[k - 1] : NULL;
        if (prev && prev->label == r.best) {
            prev->span.len = cl[i].off + cl[i].len - prev->span.off;
            if (r.confidence < prev->confidence)
                prev->confidence = r.confidence;
            continue;
        }
        er_compound_step *st = &out->steps[k++];
        st->span = cl[i];
        st->label = r.best;
        st->confidence = r.confidence;
        st->depends_on =
            prev && er_compound_refers_back(text + cl[i].off, cl[i].len) ? (int)(k - 2) : -1;
    }
    out->nsteps = k;
    if (k < 2) {
        out->nsteps = 0;
        return false;
    }
    return true;
}

void er_compound_route(const er_classifier *c, const char *text, size_t len, er_compound_plan *out)
{
    er_span clauses[ER_COMPOUND_MAX_STEPS];
    memset(out, 0, sizeof *out);
    if (!text)
        len = 0;
    er_classifier_predict(c, text, len, &out->whole);
    size_t n = len <= ER_COMPOUND_SPLIT_MAX
                   ? er_compound_split(text, len, clauses, ER_COMPOUND_MAX_STEPS)
                   : 0;
    if (n >= 2 && plan_compound(c, text, clauses, n, out))
        return;
    size_t start = 0, end = len;
    while (start < end && isspace((unsigned char)text[start]))
        start++;
    while (end > start && isspace((unsigned char)text[end - 1]))
        end--;
    out->nsteps = 1;
    out->steps[0].span.off = start;
    out->steps[0].span.len = end - start;
    out->steps[0].label = out->whole.best;
    out->steps[0].confidence = out->whole.confidence;
    out->steps[0].depends_on = -1;
}
