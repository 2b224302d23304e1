/* fuzz_mail.c — what the email agent reads from a mailbox: MIME messages
 * (er_mime_parse, er_mime_summary), address lists (er_mime_addresses) and the
 * offline scorer (er_mail_analyze).  Invariants: a parse fails only as
 * EPROTO and otherwise gives text, headers and an attachment list with
 * non-negative sizes; addresses come out with one '@' side each and no
 * spaces or brackets; the scorer always names one of its levels. */
#include "fuzz.h"
#include "errand/json.h"
#include "errand/mail_analyze.h"
#include "errand/mime.h"
#include "errand/strv.h"

static void check_message(const char *raw, size_t len)
{
    cJSON *m = NULL;
    er_error err = { 0 };
    int rc = er_mime_parse(&m, raw, len, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EPROTO || rc == ER_EUNAVAIL);
    if (rc == 0) {
        FUZZ_CHECK(er_json_str(m, "text") && er_json_str(m, "subject"));
        const cJSON *a;
        cJSON_ArrayForEach(a, er_json_arr(m, "attachments"))
            FUZZ_CHECK(er_json_num(a, "size", -1) >= 0);
        cJSON *s = er_mail_analyze(er_json_str(m, "subject"), er_json_str(m, "from"),
                                   er_json_str(m, "text"));
        const char *imp = er_json_str(s, "importance");
        FUZZ_CHECK(imp && (!strcmp(imp, "high") || !strcmp(imp, "normal") || !strcmp(imp, "low")));
        cJSON_Delete(s);
    }
    cJSON_Delete(m);
    char *f, *t, *subj, *d, *id;
    er_mime_summary(raw, len, &f, &t, &subj, &d, &id);
    FUZZ_CHECK(f && t && subj && d && id);
    free(f);
    free(t);
    free(subj);
    free(d);
    free(id);
}

static void check_addresses(const char *list)
{
    er_strv v = ER_STRV_INIT;
    er_error err = { 0 };
    int rc = er_mime_addresses(&v, list, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EINVAL);
    for (size_t i = 0; rc == 0 && i < v.n; i++) {
        const char *at = strchr(v.v[i], '@');
        FUZZ_CHECK(at && at != v.v[i] && at[1]);
        FUZZ_CHECK(!strpbrk(v.v[i], " \t\r\n<>,;\""));
    }
    er_strv_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    check_message((const char *)data, size);
    check_addresses(text);
    free(text);
    return 0;
}
