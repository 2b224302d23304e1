#!/usr/bin/python3
"""smtp_maildir.py — an SMTP server for the mail tests that delivers like an MTA.

Each accepted message goes into MAILDIR_ROOT/<recipient>/Maildir/new (the
layout Dovecot's fixture reads), for every RCPT TO of a local user, and a copy
of the envelope is appended to MAILDIR_ROOT/smtp.log as one JSON line.  AUTH
is not offered: the client under test sends to 127.0.0.1 only.

    smtp_maildir.py PORT MAILDIR_ROOT
"""
import asyncio, json, mailbox, os, sys
from aiosmtpd.controller import Controller


class Deliver:
    def __init__(self, root):
        self.root = root

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not os.path.isdir(os.path.join(self.root, address)):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        for rcpt in envelope.rcpt_tos:
            box = mailbox.Maildir(os.path.join(self.root, rcpt, "Maildir"), create=True)
            box.add(mailbox.MaildirMessage(data))
        with open(os.path.join(self.root, "smtp.log"), "a") as log:
            log.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                                  "bytes": len(data)}) + "\n")
        return "250 2.0.0 delivered"


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    ctl = Controller(Deliver(root), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
