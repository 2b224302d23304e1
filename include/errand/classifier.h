/* classifier.h — the offline router's text classifier.
 *
 * A multinomial naive Bayes model over lower-cased word unigrams and bigrams of a
 * normalised token stream: URLs and bare domains become <url>, e-mail addresses
 * <email>, numbers <num>, file names their extension (".csv") plus <file>,
 * identifiers (snake_case, camelCase, f()) <ident> plus their parts, plural "s" is
 * stripped.  Features count once per text (binarised), which suits short requests.
 *
 * Training text is TSV, one example a line: label<TAB>text; '#' lines and blank
 * lines are comments.  The default model is trained lazily, once per process, from
 * the embedded src/core/routing.tsv (a few hundred examples; well under 5 ms).
 *
 * On top of the model: er_classifier_split cuts a compound request into clauses
 * ("… and then …", "…, then …", "… and email it to …", "; " …) and
 * er_classifier_route decides the steps: a compound plan only when the clauses go
 * to different labels, each with good confidence; otherwise one step.
 *
 * Threads: a trained model is immutable; predict and route may run on any number
 * of threads at once.  Nothing allocates per token. */
#ifndef ERRAND_CLASSIFIER_H
#define ERRAND_CLASSIFIER_H

#include "common.h"
#include "error.h"

#define ER_CLASSIFIER_MAX_LABELS 16
#define ER_CLASSIFIER_LABEL_MAX 32     /* bytes of a label, with its NUL */
#define ER_ROUTE_MAX_STEPS 8
/* A clause must reach this posterior for a compound plan to be made. */
#define ER_ROUTE_MIN_CONFIDENCE 0.7
/* Longer requests are one step: they are pastes (code, logs, mail) whose
 * semicolons and "then"s do not join separate jobs. */
#define ER_ROUTE_SPLIT_MAX 2048

typedef struct er_classifier er_classifier;

typedef struct er_class_result {
    int best;                                  /* index of the most probable label */
    double confidence;                         /* its posterior probability */
    double scores[ER_CLASSIFIER_MAX_LABELS];   /* posterior of every label; sums to 1 */
    size_t nlabels;
} er_class_result;

/* Trains from TSV text (len bytes, need not be NUL-terminated); at most 65535
 * examples (ER_ETOOBIG).  ER_EINVAL naming
 * the line when a line has no TAB, an empty label or text, a label too long, or
 * more than ER_CLASSIFIER_MAX_LABELS labels; ER_EINVAL when there is no example.
 * OWNED: free with er_classifier_free(). */
int er_classifier_train(er_classifier **out, const char *tsv, size_t len, er_error *err);
void er_classifier_free(er_classifier *c);

/* The process-wide model trained from the embedded core/routing.tsv on first use
 * (pthread_once).  BORROWED: lives until exit.  A failure is remembered and
 * returned again by every call. */
int er_classifier_default(const er_classifier **out, er_error *err);

size_t er_classifier_nlabels(const er_classifier *c);
/* BORROWED from the model; labels are numbered in order of first appearance. */
const char *er_classifier_label(const er_classifier *c, size_t i);
/* Index of a label, or -1. */
int er_classifier_label_index(const er_classifier *c, const char *label);
/* Number of training examples seen for label i. */
size_t er_classifier_examples(const er_classifier *c, size_t i);

/* Classifies len bytes of text.  Only the first few hundred features count;
 * a text with no known word gets the label priors. */
void er_classifier_predict(const er_classifier *c, const char *text, size_t len,
                           er_class_result *out);

/* A slice of a request: text + off, len bytes. */
typedef struct er_span {
    size_t off;
    size_t len;
} er_span;

/* Splits a request into at most max clauses at conjunctions outside double
 * quotes; each clause is trimmed of blanks and of the joining punctuation.
 * Returns the number of clauses (0 for blank text, 1 when nothing splits). */
size_t er_classifier_split(const char *text, size_t len, er_span *out, size_t max);

/* True when a clause refers back to an earlier result ("it", "them", "that",
 * "the summary", "the results" …). */
bool er_classifier_refers_back(const char *text, size_t len);

typedef struct er_route_step {
    er_span span;          /* the step's request, a slice of the routed text */
    int label;             /* label index */
    double confidence;     /* posterior of label for that slice */
    int depends_on;        /* index of the earlier step whose result it needs, or -1 */
} er_route_step;

typedef struct er_route {
    er_route_step steps[ER_ROUTE_MAX_STEPS];
    size_t nsteps;         /* >= 1 for any text */
    er_class_result whole; /* the whole request's classification */
} er_route;

/* Decides the steps for a request: one step (the whole text, the whole label)
 * unless it is at most ER_ROUTE_SPLIT_MAX bytes and its clauses go to different
 * labels, each with at least
 * ER_ROUTE_MIN_CONFIDENCE; then adjacent clauses with the same label merge into
 * one step, and a step that refers back depends on the one before it. */
void er_classifier_route(const er_classifier *c, const char *text, size_t len, er_route *out);

#endif
