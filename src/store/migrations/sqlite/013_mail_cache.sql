-- 013_mail_cache.sql (SQLite) — the mail seam's message-metadata cache
-- (include/errand/store_mail.h): envelopes of the messages of a mailbox, kept
-- so that searches answer without asking the server for every header, and
-- refreshed incrementally from where the last refresh stood.
--
-- mail_sync: per account and scope (an IMAP folder; '' for Gmail, whose
-- history covers the whole mailbox) the server's markers at the last
-- refresh: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and the message count (IMAP)
-- or the mailbox historyId (Gmail, in modseq).  complete = 1 when every
-- message of the scope is cached, not only the newest.
CREATE TABLE mail_sync (
    account   TEXT NOT NULL,
    scope     TEXT NOT NULL,
    validity  INTEGER NOT NULL DEFAULT 0,
    next_uid  INTEGER NOT NULL DEFAULT 0,
    modseq    INTEGER NOT NULL DEFAULT 0,
    count     INTEGER NOT NULL DEFAULT 0,
    complete  INTEGER NOT NULL DEFAULT 0,
    synced_ms INTEGER NOT NULL,
    PRIMARY KEY (account, scope)
);
-- mail_meta: one row per cached message; the header fields are the
-- senders' text (untrusted).  sort_key orders newest first (the UID, or
-- Gmail's internalDate); day is the Date header's YYYYMMDD (0: unparsable);
-- labels is ' INBOX UNREAD ' (Gmail).
CREATE TABLE mail_meta (
    account    TEXT NOT NULL,
    scope      TEXT NOT NULL,
    id         TEXT NOT NULL,
    sort_key   INTEGER NOT NULL,
    from_addr  TEXT NOT NULL,
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    date       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    labels     TEXT NOT NULL DEFAULT '',
    unread     INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    size       INTEGER NOT NULL,
    PRIMARY KEY (account, scope, id)
);
CREATE INDEX mail_meta_order ON mail_meta (account, scope, sort_key);
