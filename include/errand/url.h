/* url.h — parse backend URLs: scheme://user:pass@host:port/path?query. */
#ifndef ERRAND_URL_H
#define ERRAND_URL_H

#include "common.h"
#include "error.h"

typedef struct er_url {
    char *scheme;   /* lower-case, never NULL */
    char *user;     /* percent-decoded, or NULL */
    char *password; /* percent-decoded, or NULL */
    char *host;     /* or NULL (sqlite:///path, inproc://) */
    int port;       /* 0 when absent */
    char *path;     /* decoded, "" when absent; for sqlite:///a/b it is "/a/b" */
    char *query;    /* raw, without '?', or NULL */
    char *raw;      /* the text as given */
} er_url;

int er_url_parse(er_url *out, const char *text, er_error *err);
void er_url_release(er_url *url);
/* Value of name in the query string (decoded), OWNED, or NULL. */
char *er_url_query_get(const er_url *url, const char *name);
/* text with "name=value" added to its query, unless the query already has name
 * (what the URL says wins).  value must need no percent-encoding.  OWNED. */
char *er_url_with_query(const char *text, const char *name, const char *value);
/* The URL with the password replaced by "***", for logs and `errand doctor`. OWNED. */
char *er_url_redacted(const char *text);
/* The one place URL passwords are found in free text.  s points just after a
 * "://": true when "user:password@" follows, with the lengths of the user
 * and the password (the password runs to the last '@' of the authority). */
bool er_url_password_at(const char *s, size_t *user_len, size_t *pw_len);
/* Copies text into out (NUL-terminated, cut to outsize) with the password of
 * every URL in it replaced by "***".  Error messages and log lines go
 * through it, so a URL setting's password never reaches a user or a log. */
void er_url_mask_text(const char *text, char *out, size_t outsize);

/* Appends s percent-encoded (every byte but RFC 3986's unreserved ones). */
struct er_buf;
void er_url_encode(struct er_buf *b, const char *s);
/* Appends "name=value" (value encoded) to a query or form body, after '&'
 * unless b is empty or ends in '?'. */
void er_url_param(struct er_buf *b, const char *name, const char *value);

#endif
