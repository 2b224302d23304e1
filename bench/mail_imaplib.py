#!/usr/bin/env python3
"""mail_imaplib.py — the Python side of the mail benchmark (bench/mail.py):
the same listing errand_mailbench does, with the standard library.  It logs
in, selects the folder read-only, searches ALL, and fetches the newest LIMIT
messages' UID, flags, size and the five headers a listing shows in one
UID FETCH (BODY.PEEK, so nothing is marked read), then decodes those headers
with the email package (RFC 2047 words, charsets) as errand does with GMime.

    mail_imaplib.py HOST PORT USER PASSWORD FOLDER LIMIT

Prints {seconds, count, unread, newest_subject} as errand_mailbench does."""
import email.parser, email.policy, imaplib, json, re, sys, time

FIELDS = "FROM TO SUBJECT DATE MESSAGE-ID"


def main():
    host, port, user, password, folder, limit = sys.argv[1:7]
    limit = int(limit)
    t0 = time.monotonic()
    im = imaplib.IMAP4(host, int(port))
    im.login(user, password)
    im.select(folder, readonly=True)
    typ, data = im.uid("SEARCH", None, "ALL")
    uids = data[0].split()
    newest = uids[-limit:][::-1]
    typ, data = im.uid("FETCH", b",".join(newest).decode(),
                       "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (%s)])" % FIELDS)
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    rows = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, headers = item
        uid = int(re.search(rb"UID (\d+)", meta).group(1))
        msg = parser.parsebytes(headers)
        rows[uid] = {"from": str(msg["from"] or ""), "to": str(msg["to"] or ""),
                     "subject": str(msg["subject"] or ""), "date": str(msg["date"] or ""),
                     "message_id": str(msg["message-id"] or ""),
                     "unread": b"\\Seen" not in meta,
                     "size": int(re.search(rb"RFC822.SIZE (\d+)", meta).group(1))}
    ordered = [rows[int(u)] for u in newest if int(u) in rows]
    seconds = time.monotonic() - t0
    im.logout()
    print(json.dumps({"seconds": seconds, "count": len(ordered),
                      "unread": sum(r["unread"] for r in ordered),
                      "newest_subject": ordered[0]["subject"] if ordered else ""}))


if __name__ == "__main__":
    main()
