/* mail_cache.h — where the mail seam keeps message metadata between
 * searches: one interface, two homes chosen by the mode.
 *
 * Local mode: the store (store_mail.h: tables mail_sync, mail_meta), the only
 * thing that outlives a one-shot command.  Networked mode (the account names
 * a shared cache, REDIS_URL): the cache seam (cache.h), so every worker reads
 * and refreshes one copy.  Its keys, next to the seed's (cache.h):
 *
 *   email:{account}:{id}            one message's summary, JSON
 *                                   (from, to, subject, date, day,
 *                                   message_id, unread, deleted, size,
 *                                   sort_key, labels); TTL cache_ttl
 *   email:{account}:{scope}:index   the scope's sync state (UIDVALIDITY,
 *                                   UIDNEXT, HIGHESTMODSEQ, count; or Gmail's
 *                                   historyId), a generation number and its
 *                                   ids newest first with their sort keys,
 *                                   JSON, written whole by one SET; TTL
 *                                   cache_ttl
 *   email:{account}:{scope}:lock    the refresh lease: taken with INCR (the
 *                                   one who counts 1 holds it), deleted when
 *                                   done, expiring after 60 s if its holder died
 *
 * {scope} is the IMAP folder, or "*" for a mailbox-wide scope (Gmail, whose
 * history covers every label).  IMAP ids end in ":UID" digits and Gmail's
 * are hex, so neither meets the ":index" and ":lock" keys.  {account} is the
 * account's name; the index records what the name pointed at (user and
 * server), and a name moved to another mailbox starts its cache again.
 *
 * Concurrency (networked): readers take no lock.  A refresh that found
 * changes takes the lease, checks that the index is still the generation it
 * refreshed from (else ER_ECONFLICT: refresh again from the newer one),
 * writes new summaries, then the index, then deletes what left.  An index
 * naming a summary that is gone (expired, evicted, or deleted by a refresh
 * that overtook the reader) is read again; still gone, the scope's index is
 * dropped and the search goes to the server.
 *
 * Not thread-safe: one per er_mail. */
#ifndef ERRAND_MAIL_CACHE_H
#define ERRAND_MAIL_CACHE_H

#include "mail.h"

/* Summaries and indexes in the shared cache live this long after their last
 * write (a [mail.NAME] cache_ttl overrides, in seconds). */
#define ER_MAIL_CACHE_TTL_S (7 * 24 * 3600)

typedef struct er_mail_cache er_mail_cache;

typedef struct er_mail_cache_ops {
    const char *name; /* "store", "cache": for messages */
    /* The scope's state: all zero (and *found false) before its first refresh. */
    int (*state)(er_mail_cache *c, const char *scope, er_mail_sync *out, bool *found,
                 er_error *err);
    /* Applies d and records state.  ER_ECONFLICT: another worker refreshed
     * the scope since state() read it; nothing was written. */
    int (*apply)(er_mail_cache *c, const char *scope, const er_mail_sync *state,
                 const er_mail_delta *d, er_error *err);
    /* As er_store_mail_query (store_mail.h). */
    int (*query)(er_mail_cache *c, const char *scope, const er_mail_query *q, const char *label,
                 const char *const *exclude, er_mail_summary **out, size_t *n, er_error *err);
    void (*close)(er_mail_cache *c);
} er_mail_cache_ops;

struct er_mail_cache {
    const er_mail_cache_ops *ops; /* first member of each implementation's struct */
};

/* The account's cache: in acct->cache when set (networked), else in
 * acct->store; *out NULL when it has neither.  origin: what the account
 * points at (a cache of another mailbox under the same name is not used). */
int er_mail_cache_open(er_mail_cache **out, const er_mail_account *acct, const char *origin,
                       er_error *err);
void er_mail_cache_close(er_mail_cache *c);

/* The two implementations (src/mail/mail_cache.c, mail_cache_shared.c).
 * BORROWED st / cache; account and origin are copied. */
er_mail_cache *er_mail_cache_store_new(struct er_store *st, const char *account);
er_mail_cache *er_mail_cache_shared_new(struct er_cache *cache, const char *account,
                                        const char *origin, int64_t ttl_ms);

#endif
