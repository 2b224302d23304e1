/* classifier.h — the offline brain's text classifier (src/llm/classifier.c).
 *
 * A multinomial naive Bayes model over lower-cased word unigrams and bigrams of a
 * normalised token stream: URLs and bare domains become <url>, e-mail addresses
 * <email>, numbers <num>, file names their extension (".csv") plus <file>,
 * identifiers (snake_case, camelCase, f()) <ident> plus their parts, plural "s" is
 * stripped.  Features count once per text (binarised), which suits short requests.
 *
 * Training text is TSV, one example a line: label<TAB>text; '#' lines and blank
 * lines are comments.  The default model is trained lazily, once per process, from
 * the embedded src/llm/routing.tsv (a few hundred examples; well under 5 ms).
 * Compound requests (one step per clause) are compound.h's, on top of it.
 *
 * Threads: a trained model is immutable; predict may run on any number of
 * threads at once.  Nothing allocates per token. */
#ifndef ERRAND_CLASSIFIER_H
#define ERRAND_CLASSIFIER_H

#include "common.h"
#include "error.h"

#define ER_CLASSIFIER_MAX_LABELS 16
#define ER_CLASSIFIER_LABEL_MAX  32 /* bytes of a label, with its NUL */

typedef struct er_classifier er_classifier;

typedef struct er_class_result {
    int best;                                /* index of the most probable label */
    double confidence;                       /* its posterior probability */
    double scores[ER_CLASSIFIER_MAX_LABELS]; /* posterior of every label; sums to 1 */
    size_t nlabels;
} er_class_result;

/* Trains from TSV text (len bytes, need not be NUL-terminated); at most 65535
 * examples (ER_ETOOBIG).  ER_EINVAL naming
 * the line when a line has no TAB, an empty label or text, a label too long, or
 * more than ER_CLASSIFIER_MAX_LABELS labels; ER_EINVAL when there is no example.
 * OWNED: free with er_classifier_free(). */
int er_classifier_train(er_classifier **out, const char *tsv, size_t len, er_error *err);
void er_classifier_free(er_classifier *c);

/* The process-wide model trained from the embedded llm/routing.tsv on first use
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

#endif
