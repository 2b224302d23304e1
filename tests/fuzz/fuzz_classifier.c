/* fuzz_classifier.c — the offline router's text handling (classifier.h):
 * the tokenizer and predictor, the clause splitter, the back-reference test
 * and the routing decision, on the default model; and the TSV training
 * reader, with the input as training text.
 * Invariants: posteriors are probabilities that sum to 1 and the best label
 * has the highest; clauses are in order, inside the text, trimmed and at most
 * max; a route has 1..ER_COMPOUND_MAX_STEPS steps inside the text, with labels
 * in range and dependencies only on earlier steps. */
#include "fuzz.h"
#include "errand/classifier.h"
#include "errand/compound.h"

#include <ctype.h>
#include <math.h>

static void check_result(const er_classifier *c, const er_class_result *r)
{
    FUZZ_CHECK(r->nlabels == er_classifier_nlabels(c));
    FUZZ_CHECK(r->best >= 0 && (size_t)r->best < r->nlabels);
    double sum = 0;
    for (size_t l = 0; l < r->nlabels; l++) {
        FUZZ_CHECK(r->scores[l] >= 0 && r->scores[l] <= 1);
        FUZZ_CHECK(r->scores[l] <= r->scores[r->best]);
        sum += r->scores[l];
    }
    FUZZ_CHECK(fabs(sum - 1) < 1e-9);
    FUZZ_CHECK(r->confidence == r->scores[r->best]);
}

static bool trim_char(char ch)
{
    return isspace((unsigned char)ch) || ch == ',' || ch == ';' || ch == '.';
}

static void check_split(const char *text, size_t len, size_t max)
{
    er_span sp[ER_COMPOUND_MAX_STEPS + 2];
    size_t n = er_compound_split(text, len, sp, max);
    FUZZ_CHECK(n <= max);
    size_t end = 0;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(sp[i].len > 0);
        FUZZ_CHECK(sp[i].off >= end && sp[i].off + sp[i].len <= len);
        FUZZ_CHECK(!trim_char(text[sp[i].off]) && !trim_char(text[sp[i].off + sp[i].len - 1]));
        end = sp[i].off + sp[i].len;
    }
}

static void check_route(const er_classifier *c, const char *text, size_t len)
{
    er_compound_plan r;
    er_compound_route(c, text, len, &r);
    check_result(c, &r.whole);
    FUZZ_CHECK(r.nsteps >= 1 && r.nsteps <= ER_COMPOUND_MAX_STEPS);
    for (size_t i = 0; i < r.nsteps; i++) {
        const er_compound_step *st = &r.steps[i];
        FUZZ_CHECK(st->span.off + st->span.len <= len);
        FUZZ_CHECK(st->label >= 0 && (size_t)st->label < er_classifier_nlabels(c));
        FUZZ_CHECK(st->confidence >= 0 && st->confidence <= 1);
        FUZZ_CHECK(st->depends_on >= -1 && st->depends_on < (int)i);
        FUZZ_CHECK(i == 0 || st->span.off >= r.steps[i - 1].span.off + r.steps[i - 1].span.len);
    }
    if (r.nsteps > 1)
        for (size_t i = 0; i < r.nsteps; i++)
            FUZZ_CHECK(r.steps[i].confidence >= ER_COMPOUND_MIN_CONFIDENCE);
}

/* The input as training text: a model it makes must predict sanely. */
static void check_training(const char *text, size_t len)
{
    er_classifier *m = NULL;
    er_error err = { 0 };
    int rc = er_classifier_train(&m, text, len, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EINVAL || rc == ER_ETOOBIG);
    FUZZ_CHECK((rc == 0) == (m != NULL));
    if (!m)
        return;
    size_t n = er_classifier_nlabels(m);
    FUZZ_CHECK(n >= 1 && n <= ER_CLASSIFIER_MAX_LABELS);
    for (size_t i = 0; i < n; i++) {
        const char *label = er_classifier_label(m, i);
        FUZZ_CHECK(label && label[0] && strlen(label) < ER_CLASSIFIER_LABEL_MAX);
        FUZZ_CHECK(er_classifier_label_index(m, label) == (int)i);
        FUZZ_CHECK(er_classifier_examples(m, i) >= 1);
    }
    er_class_result r;
    er_classifier_predict(m, text, len, &r);
    check_result(m, &r);
    er_classifier_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const er_classifier *c = NULL;
    er_error err = { 0 };
    FUZZ_CHECK(er_classifier_default(&c, &err) == 0);
    const char *text = (const char *)data;
    er_class_result r;
    er_classifier_predict(c, text, size, &r);
    check_result(c, &r);
    for (size_t max = 0; max <= ER_COMPOUND_MAX_STEPS + 2; max += 3)
        check_split(text, size, max);
    (void)er_compound_refers_back(text, size);
    check_route(c, text, size);
    check_training(text, size);
    return 0;
}
