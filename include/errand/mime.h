/* mime.h — reading and writing Internet messages (RFC 5322, MIME).
 *
 * Parsing goes through GMime (loaded on first use, see dl.h): multipart
 * trees, quoted-printable and base64, RFC 2047 encoded words and charsets
 * all come out as UTF-8.  HTML bodies become text through er_extract_html,
 * which drops hidden text and comments.  Drafts are written here: one
 * text/plain UTF-8 part, headers checked for line breaks (no header can be
 * smuggled in through a subject or an address). */
#ifndef ERRAND_MIME_H
#define ERRAND_MIME_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include <cjson/cJSON.h>

/* OWNED *out: {from, to, cc, subject, date, message_id, in_reply_to,
 * references, text, text_from ("plain" or "html"), attachments:[{part,
 * filename, content_type, size}]}.  ER_EUNAVAIL without GMime, ER_EPROTO
 * when raw is not a message. */
int er_mime_parse(cJSON **out, const char *raw, size_t len, er_error *err);

/* Decoded From, To, Subject, Date and Message-ID of a header block (each
 * OWNED, "" when absent); all "" when GMime is missing. */
void er_mime_summary(const char *raw, size_t len, char **from, char **to, char **subject,
                     char **date, char **message_id);

/* The decoded content of attachment number part (as er_mime_parse counts
 * them) into out, its file name into *filename (OWNED).  ER_ENOTFOUND. */
int er_mime_attachment(er_buf *out, char **filename, const char *raw, size_t len, int part,
                       er_error *err);

typedef struct er_mime_draft {
    const char *from, *to, *cc, *subject, *body;
    const char *in_reply_to, *references; /* replies; NULL otherwise */
    const char *message_id;               /* NULL: a new one is made (see er_mime_new_message_id) */
} er_mime_draft;

/* A new Message-ID, "<UUID@domain>" with the domain of from.  OWNED. */
char *er_mime_new_message_id(const char *from);

/* The message as RFC 5322 text with CRLF line ends.  ER_EINVAL for a line
 * break in a header value or a missing To. */
int er_mime_build(er_buf *out, const er_mime_draft *d, er_error *err);

/* The bare addresses ("a@b") of a header list like "Ann <a@b>, c@d". */
struct er_strv;
int er_mime_addresses(struct er_strv *out, const char *list, er_error *err);

#endif
