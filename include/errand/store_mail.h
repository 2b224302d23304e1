/* store_mail.h — the mail seam's message-metadata cache (tables mail_sync,
 * mail_meta): the envelopes of an account's messages and where their last
 * incremental refresh stood, per scope (an IMAP folder, or '' for a
 * mailbox-wide Gmail history).  The header fields are the senders' text. */
#ifndef ERRAND_STORE_MAIL_H
#define ERRAND_STORE_MAIL_H

#include "store.h"
#include "mail.h"

/* The scope's state; all zero (and *found false) before its first refresh. */
int er_store_mail_sync_get(er_store *st, const char *account, const char *scope, er_mail_sync *out,
                           bool *found, er_error *err);

/* Applies d and records state, in one transaction. */
int er_store_mail_apply(er_store *st, const char *account, const char *scope,
                        const er_mail_sync *state, const er_mail_delta *d, er_error *err);

/* The newest messages of the scope matching q (from, to, subject as
 * case-insensitive substrings, since/before on the Date's day, message_id,
 * unread), skipping deleted ones and, when label is set, those without it
 * or (exclude, may be NULL) with it.  q->text and q->references are not
 * looked at: the caller asks the server for those. */
int er_store_mail_query(er_store *st, const char *account, const char *scope,
                        const er_mail_query *q, const char *label, const char *const *exclude,
                        er_mail_summary **out, size_t *n, er_error *err);

/* A query's since/before day (YYYY-MM-DD) as the number YYYYMMDD both cache
 * homes compare with, 0 when malformed. */
int64_t er_mail_day_number(const char *ymd);

#endif
