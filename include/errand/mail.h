/* mail.h — mailboxes: one interface over IMAP/SMTP (and, later, Gmail's API).
 *
 * An account is a [mail.NAME] section of the configuration (config.h):
 *   imap_url       imaps://imap.example.com/ (imap:// only to a loopback host)
 *   smtp_url       smtps://… or smtp://…:587 (STARTTLS required off loopback)
 *   user           login name (also the sender when `from` is unset)
 *   password_env   environment variable holding the password, or
 *   password_file  a file holding it (first line)
 *   from           the From address of drafts
 *   sent, drafts   folder names (default Sent, Drafts)
 *   cache          on (default) or off: the message-metadata cache
 *                  (mail_cache.h), refreshed incrementally before each search
 *   cache_ttl      seconds a summary stays in the shared cache (networked
 *                  mode) after its last write (default 7 days)
 * or, for Gmail (Gmail's REST API, after `errand auth gmail NAME`):
 *   provider       "gmail"
 *   credential     the authorisation's name (default: the account's name)
 *   from           as above (sent and drafts default to SENT and DRAFT)
 * The backend is chosen once, by provider or the scheme of imap_url, in
 * er_mail_open; nothing above the seam branches on it.
 *
 * A message id is "FOLDER:UID" (IMAP) or Gmail's id; callers treat it as
 * opaque text.
 * Not thread-safe: one er_mail per thread (tools open one per call). */
#ifndef ERRAND_MAIL_H
#define ERRAND_MAIL_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include "config.h"
#include "strv.h"

typedef struct er_mail er_mail;

/* A resolved account: BORROWED strings from the configuration, except
 * name and password (OWNED; the password is wiped by er_mail_account_release). */
typedef struct er_mail_account {
    char *name;
    const char *imap_url, *smtp_url, *user, *from, *sent, *drafts;
    char *password;
    /* provider = "gmail": the authorisation (`errand auth gmail NAME`) named
     * by credential (default: the account's name), used through cfg and a
     * store the caller sets before er_mail_open (BORROWED). */
    const char *provider, *credential;
    const er_config *cfg;
    struct er_store *store;
    /* The shared cache (networked mode: REDIS_URL), BORROWED, or NULL: the
     * metadata cache is kept there when set, else in the store. */
    struct er_cache *cache;
} er_mail_account;

/* Common search fields; NULL/false/0 fields do not restrict. */
typedef struct er_mail_query {
    const char *folder; /* NULL: INBOX */
    const char *from, *to, *subject, *text;
    const char *since, *before; /* YYYY-MM-DD */
    const char *message_id;     /* exact Message-ID header, with or without <> */
    const char *references;     /* a Message-ID the References header holds */
    bool unread;
    size_t limit; /* newest first; 0: 20 */
} er_mail_query;

/* One message's envelope as found by a search.  OWNED strings. */
typedef struct er_mail_summary {
    char *id, *from, *to, *subject, *date, *message_id;
    bool unread;
    size_t size;
} er_mail_summary;

/* ---- incremental refresh, for the metadata cache (mail_cache.h) ---- */

/* Where a refresh stood, for one scope: a folder, or the whole mailbox when
 * the backend's refresh_mailbox is set (Gmail's history is mailbox-wide).
 * All zero before the first refresh. */
typedef struct er_mail_sync {
    int64_t validity; /* IMAP UIDVALIDITY */
    int64_t next;     /* IMAP UIDNEXT */
    int64_t modseq;   /* IMAP HIGHESTMODSEQ (0: no CONDSTORE), or Gmail's historyId */
    int64_t count;    /* messages in the folder (IMAP) */
    bool complete;    /* every message of the scope is cached, not only the newest */
} er_mail_sync;

/* One message's cached metadata. */
typedef struct er_mail_meta {
    er_mail_summary s; /* OWNED strings; only id, unread when flags_only */
    int64_t sort_key;  /* newest highest: the UID, or Gmail's internalDate */
    char *labels;      /* OWNED " INBOX UNREAD " (Gmail), or NULL */
    bool deleted;      /* IMAP \Deleted: hidden from searches */
    bool flags_only;   /* an update of unread, deleted and labels of a cached message */
} er_mail_meta;

/* What changed since the last refresh. */
typedef struct er_mail_delta {
    bool reset; /* drop the scope's cache first (UIDVALIDITY changed, history expired) */
    er_mail_meta *v;
    size_t n, cap;
    er_strv removed; /* ids no longer in the scope */
    /* prune: of the rows whose sort_key is below prune_below, only the ids in
     * keep are still there (what a listing of the survivors says). */
    bool prune;
    int64_t prune_below;
    er_strv keep;
} er_mail_delta;

/* Appends a row to d (zeroed) and returns it. */
er_mail_meta *er_mail_delta_add(er_mail_delta *d);
void er_mail_delta_release(er_mail_delta *d);
/* YYYYMMDD of an RFC 5322 Date (0 when it cannot be read). */
int er_mail_date_day(const char *date);

#define ER_MAIL_BACKEND_VERSION 3
typedef struct er_mail_backend {
    int version;        /* fields are only ever appended */
    const char *scheme; /* "imap": matches imap:// and imaps:// */
    int (*open)(er_mail **out, const er_mail_account *acct, er_error *err);
    void (*close)(er_mail *m);
    /* Folder names into out. */
    int (*folders)(er_mail *m, er_strv *out, er_error *err);
    /* Matches, newest first, at most q->limit. */
    int (*search)(er_mail *m, const er_mail_query *q, er_mail_summary **out, size_t *n,
                  er_error *err);
    /* The raw RFC 5322 message, without changing its read state. */
    int (*fetch)(er_mail *m, const char *id, er_buf *raw, er_error *err);
    /* Stores raw in folder with exactly the given IMAP flags ("\\Draft \\Seen";
     * "" leaves it unread).  raw needs a Message-ID header for flags to be set. */
    int (*append)(er_mail *m, const char *folder, const char *flags, const char *raw, size_t len,
                  er_error *err);
    /* Hands raw to the submission server for the recipients. */
    int (*send)(er_mail *m, const char *from, const er_strv *rcpts, const char *raw, size_t len,
                er_error *err);
    /* Adds (add) or removes the flags ("\\Seen") of a message. */
    int (*flag)(er_mail *m, const char *id, const char *flags, bool add, er_error *err);
    /* Moves a message to folder; *new_id (OWNED) is its id there when known. */
    int (*move)(er_mail *m, const char *id, const char *folder, char **new_id, er_error *err);
    /* Version 2. */
    /* The provider files what send hands it under sent by itself: no copy
     * is recorded first, a retry finds the sent one by its Message-ID. */
    bool files_sent;
    /* The ids of id's conversation, oldest first, when the provider keeps
     * threads (NULL: callers follow References). */
    int (*thread)(er_mail *m, const char *id, er_strv *ids, er_error *err);
    /* Version 3. */
    /* Brings *state up to the server's and puts the changes since it into d
     * (a state of zeros: everything, newest first, at most max messages; the
     * state says whether that was all).  With refresh_mailbox, *label
     * (OWNED) is what the folder is within the mailbox: a label id the
     * cached rows carry.  NULL: no cache for this backend. */
    int (*refresh)(er_mail *m, const char *folder, er_mail_sync *state, size_t max,
                   er_mail_delta *d, char **label, er_error *err);
    bool refresh_mailbox; /* one state for the whole mailbox, folders being labels */
} er_mail_backend;

struct er_mail {
    const er_mail_backend *be; /* first member of every backend's struct */
    /* Set by er_mail_open when the account keeps a metadata cache. */
    struct er_mail_cache *cache;
    size_t cache_max;
};

/* Resolves account (NULL: mail.account, else the first configured one) from
 * cfg, reading the password from its variable or file.  ER_ENOTFOUND names
 * the missing account or setting. */
int er_mail_account_resolve(er_mail_account *out, const er_config *cfg, const char *account,
                            er_error *err);
void er_mail_account_release(er_mail_account *a);
/* Names of the configured accounts, in the order first set. */
void er_mail_account_names(er_strv *out, const er_config *cfg);

/* TLS rule shared by the backends: plain imap://, smtp:// only to a loopback
 * host; smtp:// elsewhere gets STARTTLS required.  ER_EDENIED otherwise. */
int er_mail_check_url(const char *url, bool *loopback, er_error *err);

int er_mail_open(er_mail **out, const er_mail_account *acct, er_error *err);
void er_mail_close(er_mail *m);
int er_mail_folders(er_mail *m, er_strv *out, er_error *err);
/* Answers from the metadata cache, refreshed first, when the account has
 * one and the query needs no body text; from the server otherwise. */
int er_mail_search(er_mail *m, const er_mail_query *q, er_mail_summary **out, size_t *n,
                   er_error *err);
void er_mail_summaries_free(er_mail_summary *v, size_t n);
/* Frees one summary's strings and zeroes it. */
void er_mail_summary_release(er_mail_summary *s);
int er_mail_fetch(er_mail *m, const char *id, er_buf *raw, er_error *err);
int er_mail_append(er_mail *m, const char *folder, const char *flags, const char *raw, size_t len,
                   er_error *err);
int er_mail_send(er_mail *m, const char *from, const er_strv *rcpts, const char *raw, size_t len,
                 er_error *err);
int er_mail_flag(er_mail *m, const char *id, const char *flags, bool add, er_error *err);
int er_mail_move(er_mail *m, const char *id, const char *folder, char **new_id, er_error *err);

/* The IMAP/SMTP backend (src/mail/imap.c). */
extern const er_mail_backend er_mail_imap_backend;
/* Gmail's REST API (src/mail/gmail.c): folders are labels, ids Gmail's. */
extern const er_mail_backend er_mail_gmail_backend;

#endif
