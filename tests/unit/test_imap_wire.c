/* test_imap_wire.c — errand's IMAP answer reader (imap_wire.h) over a
 * scripted transport: answers handed over in pieces of every size (literals
 * split across reads), a server that hangs up mid-answer, a folder's answer
 * of thousands of envelopes (the sizes libcurl's custom commands cut), an
 * untagged EXPUNGE and unsolicited flag changes in the middle, NO and BAD,
 * and the FETCH items a listing reads.
 *
 * With the dovecot fixture (backend.mail.imap_wire: ERRAND_TEST_IMAP_PORT,
 * ERRAND_TEST_MAIL_SERVERS=1, ERRAND_TEST_MAIL_STATE), the IMAP backend's
 * listing through it against a real Dovecot: a folder of 300 messages (an
 * answer far past what libcurl handed back), 8-bit and folded subjects that
 * only travel as literals, and a listing after the server dropped the
 * connection (doveadm kick).  As dave, in a folder of his own: test_mail
 * counts only his INBOX. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/imap_wire.h"
#include "errand/mail.h"

/* A server that answers each command with script, "$T" replaced by the
 * command's tag, in pieces of chunk bytes; past its end, closed. */
typedef struct fake {
    const char *script;
    size_t chunk;
    er_buf answer, sent;
    size_t off;
} fake;

static int fake_send(void *ud, const char *p, size_t len, er_error *err)
{
    (void)err;
    fake *f = ud;
    er_buf_append(&f->sent, p, len);
    size_t tl = strcspn(p, " ");
    er_buf_reset(&f->answer);
    f->off = 0;
    for (const char *s = f->script; *s; s++) {
        if (s[0] == '$' && s[1] == 'T') {
            er_buf_append(&f->answer, p, tl);
            s++;
        } else {
            er_buf_putc(&f->answer, *s);
        }
    }
    return 0;
}

static int fake_recv(void *ud, char *buf, size_t cap, size_t *got, er_error *err)
{
    (void)err;
    fake *f = ud;
    size_t n = f->answer.len - f->off;
    if (n > f->chunk)
        n = f->chunk;
    if (n > cap)
        n = cap;
    memcpy(buf, f->answer.ptr + f->off, n);
    f->off += n;
    *got = n;
    return 0;
}

static void fake_init(fake *f, er_imap_conn *c, const char *script, size_t chunk)
{
    memset(f, 0, sizeof *f);
    f->script = script;
    f->chunk = chunk;
    er_imap_io io = { fake_recv, fake_send, f };
    er_imap_conn_init(c, &io, 1 << 20);
}

static void fake_release(fake *f, er_imap_conn *c)
{
    er_buf_release(&f->answer);
    er_buf_release(&f->sent);
    er_imap_conn_release(c);
}

/* What a listing keeps of each FETCH response, as text: "uid seen size|header". */
typedef struct seen_list {
    er_buf text;
    size_t fetches, others, bad;
} seen_list;

static int on_resp(const char *resp, size_t len, void *ud, er_error *err)
{
    (void)err;
    seen_list *s = ud;
    er_imap_fetch f;
    int r = er_imap_fetch_parse(resp, len, &f);
    if (r == 1) {
        s->fetches++;
        er_buf_printf(&s->text, "%lu %d %d %zu|%s\n", f.uid, f.seen, f.deleted, f.size,
                      f.header ? f.header : "-");
    } else if (r == 0) {
        s->others++;
    } else {
        s->bad++;
    }
    er_imap_fetch_release(&f);
    return 0;
}

/* Two envelopes with literals: an 8-bit subject, one with a line break, a
 * quoted name with escapes, a group, NIL fields. */
static const char envelopes[] =
    "* 1 FETCH (UID 7 FLAGS (\\Seen $Label) RFC822.SIZE 1234 ENVELOPE "
    "(\"Tue, 10 Nov 2026 10:00:00 +0000\" {6}\r\nCaf\xc3\xa9!"
    " ((\"Erin \\\"E\\\" Smith\" NIL \"erin\" \"example.test\")) NIL NIL "
    "((NIL NIL \"team\" NIL)(\"=?utf-8?q?J=C3=BCrgen?=\" NIL \"j\" \"example.org\")(NIL NIL NIL "
    "NIL)) "
    "NIL NIL NIL \"<m7@example.test>\"))\r\n"
    "* 2 FETCH (UID 9 RFC822.SIZE 88 FLAGS (\\Deleted) ENVELOPE "
    "(NIL {17}\r\nfirst\r\n second\r\nx NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"
    "$T OK Fetch completed.\r\n";

static const char envelopes_expected[] =
    "7 1 0 1234|From: \"Erin \\\"E\\\" Smith\" <erin@example.test>\r\n"
    "To: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\n"
    "Subject: Caf\xc3\xa9!\r\nDate: Tue, 10 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <m7@example.test>\r\n\r\n\n"
    "9 0 1 88|From: \r\nTo: \r\nSubject: first second x\r\nDate: \r\nMessage-ID: \r\n\r\n\n";

static void test_pieces(void)
{
    /* the same answer whole, byte by byte and in pieces that cut the
     * literals' announcements, their bytes and their line breaks */
    size_t chunks[] = { 1 << 16, 1, 2, 3, 5, 7, 13, 64 };
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
        fake f;
        er_imap_conn c;
        fake_init(&f, &c, envelopes, chunks[i]);
        seen_list s = { ER_BUF_INIT, 0, 0, 0 };
        er_error err = { 0 };
        CHECK_OK(er_imap_command(&c, "UID FETCH 7:9 (UID FLAGS RFC822.SIZE ENVELOPE)", on_resp, &s,
                                 &err));
        CHECK_STR(er_buf_cstr(&f.sent), "e1 UID FETCH 7:9 (UID FLAGS RFC822.SIZE ENVELOPE)\r\n");
        CHECK_INT(s.fetches, 2);
        CHECK_INT(s.bad, 0);
        CHECK_STR(er_buf_cstr(&s.text), envelopes_expected);
        CHECK_INT(c.in.len, 0); /* nothing left over for the next command */
        er_buf_release(&s.text);
        fake_release(&f, &c);
    }
}

static void test_frame(void)
{
    size_t scan = 0, n = 0;
    const char *a = "* 1 FETCH (BODY[] {5}\r\nab";
    CHECK_INT(er_imap_frame(a, strlen(a), 0, &scan, &n), 0);
    CHECK(scan > 0); /* resumes past the literal's start */
    const char *b = "* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n* 2";
    CHECK_INT(er_imap_frame(b, strlen(b), 0, &scan, &n), 1);
    CHECK_INT(n, strlen(b) - 3);
    CHECK_INT(scan, 0);
    /* a literal announcing more than the cap */
    const char *c = "* 1 FETCH (BODY[] {99999999}\r\n";
    scan = 0;
    CHECK_INT(er_imap_frame(c, strlen(c), 1000, &scan, &n), ER_ETOOBIG);
    /* "{5}" inside a quoted string ends no line: only at a line's end */
    const char *d = "* OK {5} not a literal\r\n";
    scan = 0;
    CHECK_INT(er_imap_frame(d, strlen(d), 0, &scan, &n), 1);
    CHECK_INT(n, strlen(d));
}

static void test_closed(void)
{
    /* the connection ends inside the second response's literal */
    static const char cut[] = "* 1 FETCH (UID 3 FLAGS () ENVELOPE (NIL \"a\" NIL NIL NIL NIL NIL "
                              "NIL NIL NIL))\r\n* 2 FETCH (UID 4 FLAGS () ENVELOPE (NIL {40}\r\n"
                              "half a subj";
    fake f;
    er_imap_conn c;
    fake_init(&f, &c, cut, 10);
    seen_list s = { ER_BUF_INIT, 0, 0, 0 };
    er_error err = { 0 };
    int rc = er_imap_command(&c, "UID FETCH 3:4 (UID FLAGS ENVELOPE)", on_resp, &s, &err);
    CHECK_INT(rc, ER_EUNAVAIL);
    CHECK(strstr(err.msg, "closed the connection") && strstr(err.msg, "FETCH"));
    CHECK_INT(s.fetches, 1); /* what came whole was handed on */
    CHECK(c.broken);
    /* nothing more is sent on a broken connection */
    size_t sent = f.sent.len;
    CHECK_INT(er_imap_command(&c, "NOOP", NULL, NULL, &err), ER_EUNAVAIL);
    CHECK_INT(f.sent.len, sent);
    er_buf_release(&s.text);
    fake_release(&f, &c);

    /* a BYE before closing: its words in the error */
    fake_init(&f, &c, "* BYE Disconnected for inactivity.\r\n", 1 << 16);
    rc = er_imap_command(&c, "UID SEARCH ALL", NULL, NULL, &err);
    CHECK_INT(rc, ER_EUNAVAIL);
    CHECK(strstr(err.msg, "Disconnected for inactivity") != NULL);
    CHECK_INT(c.delivered, 0); /* nothing of an answer: worth asking again */
    fake_release(&f, &c);
}

static void test_huge(void)
{
    /* 3000 envelopes, an EXPUNGE, unsolicited flag changes (no UID) and an
     * EXISTS among them: far past the 55 lines and 16 KB libcurl hands back */
    enum { N = 3000 };
    er_buf script = ER_BUF_INIT;
    for (int i = 1; i <= N; i++) {
        er_buf_printf(&script,
                      "* %d FETCH (UID %d FLAGS (%s) RFC822.SIZE %d ENVELOPE (\"Mon, 7 Dec 2026 "
                      "10:00:00 +0000\" \"Subject number %d\" ((\"Sender %d\" NIL \"s%d\" "
                      "\"example.test\")) NIL NIL ((NIL NIL \"alice\" \"example.test\")) NIL NIL "
                      "NIL \"<%d@example.test>\"))\r\n",
                      i, i + 100, i % 3 ? "\\Seen" : "", 1000 + i, i, i, i, i);
        if (i == N / 2)
            er_buf_puts(&script, "* 17 EXPUNGE\r\n* 40 FETCH (FLAGS (\\Seen))\r\n* 2999 "
                                 "EXISTS\r\n");
    }
    er_buf_puts(&script, "$T OK Fetch completed (0.120 + 0.000 secs).\r\n");
    CHECK(script.len > 16 * 1024 * 20);
    fake f;
    er_imap_conn c;
    fake_init(&f, &c, er_buf_cstr(&script), 1000);
    seen_list s = { ER_BUF_INIT, 0, 0, 0 };
    er_error err = { 0 };
    CHECK_OK(er_imap_command(&c, "UID FETCH 101:3100 (UID FLAGS RFC822.SIZE ENVELOPE)", on_resp, &s,
                             &err));
    CHECK_INT(s.fetches, N);
    CHECK_INT(s.others, 3);
    CHECK_INT(s.bad, 0);
    CHECK_INT(c.delivered, N + 3);
    CHECK(strstr(er_buf_cstr(&s.text),
                 "3100 0 0 4000|From: \"Sender 3000\" <s3000@example.test>") != NULL);
    CHECK(strstr(er_buf_cstr(&s.text), "Subject: Subject number 1500\r\n") != NULL);
    CHECK(strstr(er_buf_cstr(&s.text), "Subject: Subject number 1501\r\n") != NULL);
    /* the reader holds one response at a time, not the answer */
    CHECK(c.in.cap < 4 * 65536);
    er_buf_release(&s.text);
    fake_release(&f, &c);

    /* one response over the cap: ETOOBIG, the connection is given up */
    fake_init(&f, &c, er_buf_cstr(&script), 1 << 16);
    c.max = 200;
    CHECK_INT(er_imap_command(&c, "UID FETCH 1:* (ENVELOPE)", NULL, NULL, &err), ER_ETOOBIG);
    CHECK(c.broken);
    fake_release(&f, &c);
    er_buf_release(&script);
}

static void test_status(void)
{
    fake f;
    er_imap_conn c;
    er_error err = { 0 };
    /* NO with the server's words; other tags' lines and continuations skipped */
    fake_init(&f, &c,
              "+ go ahead\r\nx9 OK not ours\r\n$T NO [NONEXISTENT] Mailbox doesn't exist: Nope\r\n",
              4);
    CHECK_INT(er_imap_command(&c, "EXAMINE \"Nope\"", NULL, NULL, &err), ER_EPROTO);
    CHECK(strstr(err.msg, "EXAMINE") && strstr(err.msg, "Mailbox doesn't exist: Nope"));
    CHECK(!c.broken);
    /* the same connection goes on: the next command has the next tag */
    f.script = "* SEARCH 1 2 3\r\n$T OK Search completed.\r\n";
    seen_list s = { ER_BUF_INIT, 0, 0, 0 };
    CHECK_OK(er_imap_command(&c, "UID SEARCH ALL", on_resp, &s, &err));
    CHECK_INT(s.others, 1);
    CHECK(strstr(er_buf_cstr(&f.sent), "e2 UID SEARCH ALL\r\n") != NULL);
    f.script = "$T BAD Error in IMAP command: Unknown command.\r\n";
    CHECK_INT(er_imap_command(&c, "FROB", NULL, NULL, &err), ER_EPROTO);
    CHECK(strstr(err.msg, "BAD") != NULL);
    er_buf_release(&s.text);
    fake_release(&f, &c);
}

static void test_fetch_items(void)
{
    er_imap_fetch f;
    /* items we do not read (a header literal, MODSEQ, a body structure)
     * are stepped over, in any order */
    const char *a =
        "* 5 FETCH (MODSEQ (12) BODY[HEADER.FIELDS (FROM SUBJECT)] {9}\r\nFrom: x\r\n"
        " BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 5 1)"
        " UID 42 FLAGS (\\Seen \\Deleted) RFC822.SIZE 77)";
    CHECK_INT(er_imap_fetch_parse(a, strlen(a), &f), 1);
    CHECK_INT(f.uid, 42);
    CHECK(f.seen && f.deleted && f.has_flags);
    CHECK_INT(f.size, 77);
    CHECK(f.header == NULL);
    er_imap_fetch_release(&f);
    /* an unsolicited flag change: no UID */
    const char *b = "* 5 FETCH (FLAGS (\\Seen))";
    CHECK_INT(er_imap_fetch_parse(b, strlen(b), &f), 0);
    er_imap_fetch_release(&f);
    /* not a FETCH */
    const char *c = "* 3 EXPUNGE";
    CHECK_INT(er_imap_fetch_parse(c, strlen(c), &f), 0);
    er_imap_fetch_release(&f);
    /* malformed: a literal longer than the response, an unclosed list, a
     * quoted string without its end */
    const char *bad[] = { "* 1 FETCH (UID 4 ENVELOPE (NIL {500}\r\nshort))",
                          "* 1 FETCH (UID 4 FLAGS (\\Seen",
                          "* 1 FETCH (UID 4 ENVELOPE (\"never ends))" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_INT(er_imap_fetch_parse(bad[i], strlen(bad[i]), &f), -1);
        er_imap_fetch_release(&f);
    }
}

/* Python's imaplib, logged in as dave, runs script (c is the connection). */
static int as_dave(int port, const char *script)
{
    char *cmd =
        er_xasprintf("/usr/bin/python3 -c 'import imaplib; c = imaplib.IMAP4(\"127.0.0.1\", "
                     "%d); c.login(\"dave@example.test\", \"davepw\"); %s; c.logout()'",
                     port, script);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static void test_dovecot(int port, const char *state)
{
    enum { N = 300 };
    CHECK_INT(as_dave(port, "c.delete(\"Wirebox\")"), 0); /* left by a killed run, or not there */
    char *fill = er_xasprintf(
        "c.create(\"Wirebox\"); [c.append(\"Wirebox\", None, None, (\"From: \\\"Sender %%d\\\" "
        "<s%%d@example.test>\\r\\nTo: dave@example.test\\r\\nSubject: wire message %%d "
        "with a subject long enough to fill the line\\r\\nMessage-ID: <wire-%%d@example.test>"
        "\\r\\n\\r\\nx\\r\\n\" %% (i, i, i, i)).encode()) for i in range(%d)]; "
        "c.append(\"Wirebox\", \"(\\\\Seen)\", None, \"From: b@example.test\\r\\nSubject: "
        "Caf\\u00e9 \\u00fcber\\r\\nMessage-ID: <wire-8bit@example.test>\\r\\n\\r\\nx\\r\\n\""
        ".encode()); c.append(\"Wirebox\", None, None, b\"From: c@example.test\\r\\nSubject: "
        "folded\\r\\n  over two lines\\r\\nMessage-ID: <wire-fold@example.test>\\r\\n\\r\\nx"
        "\\r\\n\")",
        N);
    CHECK_INT(as_dave(port, fill), 0);
    free(fill);

    char *url = er_xasprintf("imap://127.0.0.1:%d/", port);
    er_mail_account a = { .imap_url = url, .user = "dave@example.test" };
    a.password = er_xstrdup("davepw");
    er_mail *m = NULL;
    er_error err = { 0 };
    CHECK_OK(er_mail_imap_backend.open(&m, &a, &err));
    free(a.password);
    if (!m) {
        free(url);
        return;
    }
    er_mail_query q = { .folder = "Wirebox", .limit = 1000 };
    for (int round = 0; round < 2; round++) {
        er_mail_summary *v = NULL;
        size_t n = 0;
        CHECK_OK(m->be->search(m, &q, &v, &n, &err));
        CHECK_INT(n, N + 2);
        if (n == N + 2) {
            CHECK_STR(v[0].subject, "folded over two lines");
            CHECK_STR(v[1].subject, "Caf\xc3\xa9 \xc3\xbc"
                                    "ber");
            CHECK(v[0].unread && !v[1].unread);
            CHECK_STR(v[2].subject, "wire message 299 with a subject long enough to fill the line");
            CHECK(strstr(v[2].from, "s299@example.test") != NULL);
            CHECK_STR(v[n - 1].message_id, "<wire-0@example.test>");
            size_t unread = 0;
            for (size_t i = 0; i < n; i++)
                unread += v[i].unread;
            CHECK_INT(unread, N + 1);
        }
        er_mail_summaries_free(v, n);
        if (round == 0) { /* the server drops every connection of dave's */
            char *kick = er_xasprintf(
                "doveadm -c '%s/dovecot.conf' kick dave@example.test >/dev/null", state);
            CHECK_INT(system(kick), 0);
            free(kick);
        }
    }
    /* looking changed nothing: the unread stay unread */
    er_mail_query unread = { .folder = "Wirebox", .unread = true, .limit = 1000 };
    er_mail_summary *v = NULL;
    size_t n = 0;
    CHECK_OK(m->be->search(m, &unread, &v, &n, &err));
    CHECK_INT(n, N + 1);
    er_mail_summaries_free(v, n);
    er_mail_close(m);
    free(url);
    CHECK_INT(as_dave(port, "c.delete(\"Wirebox\")"), 0);
}

int main(void)
{
    test_frame();
    test_pieces();
    test_closed();
    test_huge();
    test_status();
    test_fetch_items();
    const char *port = getenv("ERRAND_TEST_IMAP_PORT"), *live = getenv("ERRAND_TEST_MAIL_SERVERS");
    const char *state = getenv("ERRAND_TEST_MAIL_STATE");
    if (port && live && *live == '1' && state)
        test_dovecot((int)strtol(port, NULL, 10), state);
    return check_done();
}
