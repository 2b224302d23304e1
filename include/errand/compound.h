/* compound.h — compound requests for the offline brain: clause splitting and
 * the routing decision (src/llm/compound.c), on top of the classifier.
 *
 * "summarise https://example.com/a and email it to bob@example.com" is two
 * jobs for two agents.  er_compound_split cuts a request into clauses ("… and
 * then …", "…, then …", "… and email it to …", "; " …) and er_compound_route
 * decides the steps: a compound plan only when the clauses go to different
 * labels, each with good confidence; otherwise one step.
 *
 * Threads: no state; route may run on any number of threads at once with one
 * model (classifier.h). */
#ifndef ERRAND_COMPOUND_H
#define ERRAND_COMPOUND_H

#include "common.h"
#include "classifier.h"

#define ER_COMPOUND_MAX_STEPS 8
/* A clause must reach this posterior for a compound plan to be made. */
#define ER_COMPOUND_MIN_CONFIDENCE 0.7
/* Longer requests are one step: they are pastes (code, logs, mail) whose
 * semicolons and "then"s do not join separate jobs. */
#define ER_COMPOUND_SPLIT_MAX 2048

/* A slice of a request: text + off, len bytes. */
typedef struct er_span {
    size_t off;
    size_t len;
} er_span;

/* Splits a request into at most max clauses at conjunctions outside double
 * quotes; each clause is trimmed of blanks and of the joining punctuation.
 * Returns the number of clauses (0 for blank text, 1 when nothing splits). */
size_t er_compound_split(const char *text, size_t len, er_span *out, size_t max);

/* True when a clause refers back to an earlier result ("it", "them", "that",
 * "the summary", "the results" …). */
bool er_compound_refers_back(const char *text, size_t len);

typedef struct er_compound_step {
    er_span span;      /* the step's request, a slice of the routed text */
    int label;         /* label index */
    double confidence; /* posterior of label for that slice */
    int depends_on;    /* index of the earlier step whose result it needs, or -1 */
} er_compound_step;

typedef struct er_compound_plan {
    er_compound_step steps[ER_COMPOUND_MAX_STEPS];
    size_t nsteps;         /* >= 1 for any text */
    er_class_result whole; /* the whole request's classification */
} er_compound_plan;

/* Decides the steps for a request: one step (the whole text, the whole label)
 * unless it is at most ER_COMPOUND_SPLIT_MAX bytes and its clauses go to
 * different labels, each with at least ER_COMPOUND_MIN_CONFIDENCE; then
 * adjacent clauses with the same label merge into one step, and a step that
 * refers back depends on the one before it. */
void er_compound_route(const er_classifier *c, const char *text, size_t len, er_compound_plan *out);

#endif
