/* error.c — the one error type: setting, prefixing, naming codes. */
#include "errand/error.h"
#include "errand/url.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int er_error_set(er_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages reach users (task errors, API answers): never a URL's password. */
    er_url_mask_text(msg, err->msg, sizeof err->msg);
    return code;
}

void er_error_prefix(er_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg], msg[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    snprintf(msg, sizeof msg, "%s: %s", prefix, old);
    er_url_mask_text(msg, err->msg, sizeof err->msg);
}

void er_error_clear(er_error *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

const char *er_error_name(int code)
{
    static const char *const names[] = {
        "OK",      "EINVAL",     "ENOTFOUND", "EUNAVAIL",  "ETIMEDOUT",
        "ETOOBIG", "ECANCELLED", "EAUTH",     "EPROTO",    "EIO",
        "EDENIED", "EEXISTS",    "EBUDGET",   "ECONFLICT", "EINTERNAL",
    };
    if (code > 0 || (size_t)-code >= ER_ARRAY_LEN(names))
        return "EUNKNOWN";
    return names[-code];
}

int er_error_from_name(const char *name)
{
    for (int code = -1; name && code >= ER_EINTERNAL; code--)
        if (strcmp(er_error_name(code), name) == 0)
            return code;
    return 0;
}

bool er_error_retryable(int code)
{
    return code == ER_EUNAVAIL || code == ER_ETIMEDOUT;
}
