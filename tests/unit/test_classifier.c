/* test_classifier.c — the offline router's classifier: held-out accuracy and
 * 5-fold cross-validation on the embedded routing examples, token normalisation,
 * training errors, clause splitting and the routing decision. */
#include "check.h"
#include "errand/buf.h"
#include "errand/classifier.h"
#include "errand/compound.h"
#include "errand/embed.h"
#include "errand/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXAMPLES 4096
#define FOLDS        5

typedef struct example {
    char label[ER_CLASSIFIER_LABEL_MAX];
    const char *text; /* into the embedded file */
    size_t len;
    size_t nth; /* index among the examples of its label */
} example;

static example examples[MAX_EXAMPLES];
static size_t nexamples;
static const char *agents[] = { "code", "research", "data", "email", "browser" };

static int agent_index(const char *label)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(agents); i++)
        if (strcmp(agents[i], label) == 0)
            return (int)i;
    return -1;
}

/* The test reads the file the way the product does: from the embedded table. */
static void load_examples(void)
{
    const er_embedded_file *f = er_embedded_find("llm/routing.tsv");
    CHECK(f != NULL);
    if (!f)
        return;
    size_t per_label[ER_ARRAY_LEN(agents)] = { 0 };
    const char *p = f->data, *end = f->data + f->len;
    while (p < end && nexamples < MAX_EXAMPLES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end, *tab = memchr(p, '\t', (size_t)(eol - p));
        if (p != eol && *p != '#' && tab) {
            example *e = &examples[nexamples];
            size_t ln = (size_t)(tab - p);
            CHECK(ln < sizeof e->label);
            memcpy(e->label, p, ln < sizeof e->label ? ln : 0);
            int a = agent_index(e->label);
            CHECK(a >= 0);
            if (a >= 0) {
                e->text = tab + 1;
                e->len = (size_t)(eol - tab - 1);
                e->nth = per_label[a]++;
                nexamples++;
            }
        }
        p = nl ? nl + 1 : end;
    }
    for (size_t i = 0; i < ER_ARRAY_LEN(agents); i++) {
        printf("%-9s %zu examples\n", agents[i], per_label[i]);
        CHECK(per_label[i] >= 100);
    }
}

/* A model trained on every example outside fold `fold` (nth % FOLDS). */
static er_classifier *train_without(size_t fold)
{
    er_buf tsv = ER_BUF_INIT;
    er_error err = { 0 };
    for (size_t i = 0; i < nexamples; i++)
        if (examples[i].nth % FOLDS != fold)
            er_buf_printf(&tsv, "%s\t%.*s\n", examples[i].label, (int)examples[i].len,
                          examples[i].text);
    er_classifier *c = NULL;
    CHECK_OK(er_classifier_train(&c, tsv.ptr, tsv.len, &err));
    er_buf_release(&tsv);
    return c;
}

/* Trains without fold `fold`, tests on the fold,
 * and returns the accuracy; confusion[truth][predicted] is accumulated. */
static double run_fold(size_t fold, size_t confusion[5][5])
{
    er_classifier *c = train_without(fold);
    if (!c)
        return 0;
    size_t right = 0, total = 0;
    for (size_t i = 0; i < nexamples; i++) {
        const example *e = &examples[i];
        if (e->nth % FOLDS != fold)
            continue;
        er_class_result r;
        er_classifier_predict(c, e->text, e->len, &r);
        const char *got = er_classifier_label(c, (size_t)r.best);
        int t = agent_index(e->label), g = agent_index(got);
        total++;
        right += t == g;
        if (confusion && t >= 0 && g >= 0)
            confusion[t][g]++;
        if (confusion && t != g)
            printf("  miss: %-8s -> %-8s (%.2f) %.*s\n", e->label, got, r.confidence, (int)e->len,
                   e->text);
    }
    er_classifier_free(c);
    return total ? (double)right / (double)total : 0;
}

static void print_confusion(size_t m[5][5])
{
    printf("%-10s", "truth\\got");
    for (size_t j = 0; j < 5; j++)
        printf("%9s", agents[j]);
    printf("\n");
    for (size_t i = 0; i < 5; i++) {
        printf("%-10s", agents[i]);
        for (size_t j = 0; j < 5; j++)
            printf("%9zu", m[i][j]);
        printf("\n");
    }
}

static void test_held_out(void)
{
    size_t confusion[5][5] = { { 0 } };
    double acc = run_fold(FOLDS - 1, confusion);
    printf("held-out accuracy (every %dth example of each agent): %.1f %%\n", FOLDS, acc * 100);
    print_confusion(confusion);
    CHECK(acc >= 0.90);
}

static void test_cross_validation(void)
{
    double sum = 0;
    for (size_t k = 0; k < FOLDS; k++) {
        double acc = run_fold(k, NULL);
        printf("fold %zu: %.1f %%\n", k, acc * 100);
        sum += acc;
    }
    printf("%d-fold cross-validation: %.1f %%\n", FOLDS, sum / FOLDS * 100);
    CHECK(sum / FOLDS >= 0.90);
}

/* Calibration, over all folds: the mean confidence should be close to the
 * accuracy (a posterior that means what it says), and clearly higher for right
 * answers than for wrong ones, or the compound threshold means nothing. */
static void test_calibration(void)
{
    double conf[2] = { 0, 0 }; /* [wrong], [right] */
    size_t count[2] = { 0, 0 };
    for (size_t fold = 0; fold < FOLDS; fold++) {
        er_classifier *c = train_without(fold);
        for (size_t i = 0; c && i < nexamples; i++) {
            if (examples[i].nth % FOLDS != fold)
                continue;
            er_class_result r;
            er_classifier_predict(c, examples[i].text, examples[i].len, &r);
            int ok = strcmp(er_classifier_label(c, (size_t)r.best), examples[i].label) == 0;
            conf[ok] += r.confidence;
            count[ok]++;
        }
        er_classifier_free(c);
    }
    size_t n = count[0] + count[1];
    CHECK(n == nexamples);
    double accuracy = (double)count[1] / (double)n, mean = (conf[0] + conf[1]) / (double)n;
    double right = conf[1] / (double)(count[1] ? count[1] : 1);
    double wrong = conf[0] / (double)(count[0] ? count[0] : 1);
    printf("mean confidence %.3f vs accuracy %.3f; right answers %.2f, wrong ones %.2f\n", mean,
           accuracy, right, wrong);
    CHECK(mean > accuracy - 0.05 && mean < accuracy + 0.05);
    CHECK(right > ER_COMPOUND_MIN_CONFIDENCE);
    CHECK(right - wrong > 0.2);
}

/* Requests phrased differently from every training example. */
static const struct {
    const char *agent, *text;
} sanity[] = {
    { "data", "summarise the quarterly numbers in q2_sales.csv" },
    { "data", "what's the median delivery time in shipments.tsv" },
    { "data", "plot the weekly totals from totals.json as a bar chart" },
    { "code", "there's a bug somewhere in lexer.c, find it" },
    { "code", "run the test suite and fix whatever fails" },
    { "code", "why does main.rs not compile" },
    { "email", "search my inbox for the invoices from march" },
    { "email", "send a note to carol@example.com saying the report is ready" },
    { "email", "any unread mail from my accountant?" },
    { "browser", "take a screenshot of https://example.org/pricing" },
    { "browser", "click the login button on the page and fill in the form" },
    { "browser", "what's trending on google trends this week" },
    { "research", "what does the latest research say about microdosing" },
    { "research", "who was the first person to climb everest" },
    { "research", "fact check the claim that humans have five senses" },
};

static void test_sanity(void)
{
    const er_classifier *c = NULL;
    er_error err = { 0 };
    CHECK_OK(er_classifier_default(&c, &err));
    if (!c)
        return;
    for (size_t i = 0; i < ER_ARRAY_LEN(agents); i++)
        CHECK(er_classifier_label_index(c, agents[i]) >= 0);
    CHECK_INT(er_classifier_nlabels(c), ER_ARRAY_LEN(agents));
    for (size_t i = 0; i < ER_ARRAY_LEN(sanity); i++) {
        er_class_result r;
        er_classifier_predict(c, sanity[i].text, strlen(sanity[i].text), &r);
        const char *got = er_classifier_label(c, (size_t)r.best);
        if (strcmp(got, sanity[i].agent) != 0)
            fprintf(stderr, "sanity: '%s' went to %s (%.2f), expected %s\n", sanity[i].text, got,
                    r.confidence, sanity[i].agent);
        CHECK_STR(got, sanity[i].agent);
        double sum = 0;
        for (size_t l = 0; l < r.nlabels; l++)
            sum += r.scores[l];
        CHECK(sum > 0.999 && sum < 1.001);
        CHECK(r.confidence == r.scores[r.best]);
    }
    const er_classifier *again = NULL;
    CHECK_OK(er_classifier_default(&again, &err));
    CHECK(again == c);
}

/* Token normalisation, seen through tiny models whose only distinguishing
 * evidence is the normalised token. */
static const char *predict_tiny(const char *tsv, const char *text)
{
    static char label[ER_CLASSIFIER_LABEL_MAX];
    er_classifier *c = NULL;
    er_error err = { 0 };
    CHECK_OK(er_classifier_train(&c, tsv, strlen(tsv), &err));
    if (!c)
        return "";
    er_class_result r;
    er_classifier_predict(c, text, strlen(text), &r);
    snprintf(label, sizeof label, "%s", er_classifier_label(c, (size_t)r.best));
    er_classifier_free(c);
    return label;
}

static void test_normalisation(void)
{
    const char *urls = "web\tfetch https://a.example.com/x?y=1\nfile\tfetch notes.txt\n";
    CHECK_STR(predict_tiny(urls, "fetch http://other.org/some/page"), "web");
    CHECK_STR(predict_tiny(urls, "fetch www.wikipedia.org"), "web");
    CHECK_STR(predict_tiny(urls, "fetch bbc.co.uk"), "web");
    CHECK_STR(predict_tiny(urls, "fetch report.pdf"), "file");
    CHECK_STR(predict_tiny(urls, "fetch deploy.sh"), "file");
    const char *mail = "person\tping bob@example.com\nnumber\tping 42\n";
    CHECK_STR(predict_tiny(mail, "ping carol.smith@mail.example.org"), "person");
    CHECK_STR(predict_tiny(mail, "ping 3.14159"), "number");
    CHECK_STR(predict_tiny(mail, "ping $1,200"), "number");
    const char *ext = "table\topen notes.csv\ncode\topen notes.py\n";
    CHECK_STR(predict_tiny(ext, "open budget.csv"), "table");
    CHECK_STR(predict_tiny(ext, "open src/deep/path/app.py"), "code");
    CHECK_STR(predict_tiny(ext, "OPEN Budget.CSV"), "table");
    const char *plural = "mail\tread the email\nweb\tread the page\n";
    CHECK_STR(predict_tiny(plural, "read emails"), "mail");
    CHECK_STR(predict_tiny(plural, "Read Pages!"), "web");
    const char *ident = "code\tcall parse_args now\nprose\tcall mom now\n";
    CHECK_STR(predict_tiny(ident, "call getUserData"), "code");
    CHECK_STR(predict_tiny(ident, "call free_list()"), "code");
}

static void test_train_errors(void)
{
    er_classifier *c = NULL;
    er_error err = { 0 };
    const char *no_tab = "# comment\n\ncode\tfix it\nresearch what is x\n";
    CHECK_INT(er_classifier_train(&c, no_tab, strlen(no_tab), &err), ER_EINVAL);
    CHECK(strstr(err.msg, "line 4") != NULL);
    CHECK(c == NULL);
    CHECK_INT(er_classifier_train(&c, "# only comments\n", 16, &err), ER_EINVAL);
    CHECK_INT(er_classifier_train(&c, NULL, 0, &err), ER_EINVAL);
    CHECK_INT(er_classifier_train(&c, "code\t  \n", 8, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "empty text") != NULL);
    CHECK_INT(er_classifier_train(&c, "co\0de\tfix it\n", 13, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "control character") != NULL);
    er_buf many = ER_BUF_INIT;
    for (int i = 0; i <= ER_CLASSIFIER_MAX_LABELS; i++)
        er_buf_printf(&many, "label%d\texample %d\n", i, i);
    CHECK_INT(er_classifier_train(&c, many.ptr, many.len, &err), ER_EINVAL);
    er_buf_release(&many);
    /* CRLF files, blank lines with spaces and a last line without newline. */
    const char *crlf = "a\tone two\r\n   \r\nb\tthree four\r\na\tone five";
    CHECK_OK(er_classifier_train(&c, crlf, strlen(crlf), &err));
    if (c) {
        CHECK_INT(er_classifier_nlabels(c), 2);
        CHECK_STR(er_classifier_label(c, 1), "b");
        CHECK_INT(er_classifier_examples(c, 0), 2);
        CHECK(er_classifier_label(c, 2) == NULL);
        CHECK_INT(er_classifier_label_index(c, "b"), 1);
        CHECK_INT(er_classifier_label_index(c, "zz"), -1);
        er_class_result r;
        er_classifier_predict(c, "", 0, &r); /* no evidence: the priors */
        CHECK_STR(er_classifier_label(c, (size_t)r.best), "a");
        CHECK(r.scores[0] > 0.6 && r.scores[0] < 0.7);
        er_classifier_free(c);
    }
    er_classifier_free(NULL);
}

static void check_clauses(const char *text, size_t want, const char *const *expect)
{
    er_span sp[ER_COMPOUND_MAX_STEPS];
    size_t n = er_compound_split(text, strlen(text), sp, ER_COMPOUND_MAX_STEPS);
    CHECK_INT(n, want);
    for (size_t i = 0; i < n && i < want; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)sp[i].len, text + sp[i].off);
        CHECK_STR(buf, expect[i]);
    }
}

static void test_split(void)
{
    check_clauses("summarise https://example.com/article and email it to bob@example.com", 2,
                  (const char *const[]){ "summarise https://example.com/article",
                                         "email it to bob@example.com" });
    check_clauses("Load sales.csv, then plot revenue by month; send the chart to ann@x.org.", 3,
                  (const char *const[]){ "Load sales.csv", "plot revenue by month",
                                         "send the chart to ann@x.org" });
    check_clauses("find the bug and then fix it", 2,
                  (const char *const[]){ "find the bug", "fix it" });
    check_clauses("scrape the prices from shop.example.com and save them as prices.csv", 2,
                  (const char *const[]){ "scrape the prices from shop.example.com",
                                         "save them as prices.csv" });
    check_clauses("search my inbox for fish and chips receipts", 1,
                  (const char *const[]){ "search my inbox for fish and chips receipts" });
    check_clauses("email bob \"lunch; then coffee and send me a note\"", 1,
                  (const char *const[]){ "email bob \"lunch; then coffee and send me a note\"" });
    check_clauses("  \t ", 0, NULL);
    check_clauses("; and then ;", 0, NULL);
    er_span one[2];
    const char *many = "a; b; c; d";
    CHECK_INT(er_compound_split(many, strlen(many), one, 2), 2);
    CHECK_INT(one[1].off, 3);
    CHECK_INT(one[1].len, 7); /* the rest stays in the last clause */
    CHECK(er_compound_refers_back("email it to bob", 15));
    CHECK(er_compound_refers_back("send the summary to ann", 23));
    CHECK(er_compound_refers_back("save the amounts to x.csv", 25));
    CHECK(!er_compound_refers_back("email bob about lunch", 21));
    CHECK(!er_compound_refers_back("send kitten pics", 16)); /* "it" inside a word */
}

static void step_text(const char *text, const er_compound_step *st, char *buf, size_t size)
{
    snprintf(buf, size, "%.*s", (int)st->span.len, text + st->span.off);
}

static void test_route(void)
{
    const er_classifier *c = NULL;
    er_error err = { 0 };
    CHECK_OK(er_classifier_default(&c, &err));
    if (!c)
        return;
    er_compound_plan r;
    char buf[256];
    const char *two = "summarise https://example.com/article and email it to bob@example.com";
    er_compound_route(c, two, strlen(two), &r);
    CHECK_INT(r.nsteps, 2);
    CHECK_STR(er_classifier_label(c, (size_t)r.steps[0].label), "research");
    CHECK_STR(er_classifier_label(c, (size_t)r.steps[1].label), "email");
    CHECK_INT(r.steps[0].depends_on, -1);
    CHECK_INT(r.steps[1].depends_on, 0);
    step_text(two, &r.steps[1], buf, sizeof buf);
    CHECK_STR(buf, "email it to bob@example.com");
    CHECK(r.steps[1].confidence >= ER_COMPOUND_MIN_CONFIDENCE);

    /* Same agent twice: one step with the whole request. */
    const char *same = "find the bug in parser.c and then run the tests";
    er_compound_route(c, same, strlen(same), &r);
    CHECK_INT(r.nsteps, 1);
    CHECK_STR(er_classifier_label(c, (size_t)r.steps[0].label), "code");
    step_text(same, &r.steps[0], buf, sizeof buf);
    CHECK_STR(buf, same);

    /* Neighbouring clauses for one agent merge; an independent clause has no dependency. */
    const char *three = "fix the failing test in test_io.py, then run the linter; "
                        "and then take a screenshot of https://example.com";
    er_compound_route(c, three, strlen(three), &r);
    CHECK_INT(r.nsteps, 2);
    CHECK_STR(er_classifier_label(c, (size_t)r.steps[0].label), "code");
    step_text(three, &r.steps[0], buf, sizeof buf);
    CHECK_STR(buf, "fix the failing test in test_io.py, then run the linter");
    CHECK_STR(er_classifier_label(c, (size_t)r.steps[1].label), "browser");
    CHECK_INT(r.steps[1].depends_on, -1);

    /* A long paste stays one step whatever it contains. */
    er_buf paste = ER_BUF_INIT;
    er_buf_puts(&paste, "summarise https://example.com/article and email it to bob@example.com; ");
    while (paste.len <= ER_COMPOUND_SPLIT_MAX)
        er_buf_puts(&paste, "int x = 1; ");
    er_compound_route(c, paste.ptr, paste.len, &r);
    CHECK_INT(r.nsteps, 1);
    CHECK_INT(r.steps[0].span.len, paste.len - 1); /* trailing blank trimmed */
    er_buf_release(&paste);

    const char *blank = "   ";
    er_compound_route(c, blank, 3, &r);
    CHECK_INT(r.nsteps, 1);
    CHECK_INT(r.steps[0].span.len, 0);
    CHECK(r.steps[0].confidence < ER_COMPOUND_MIN_CONFIDENCE);
}

int main(void)
{
    load_examples();
    test_held_out();
    test_cross_validation();
    test_calibration();
    test_sanity();
    test_normalisation();
    test_train_errors();
    test_split();
    test_route();
    return check_done();
}
