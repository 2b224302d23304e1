# "Summarise unread mail from carol and draft a reply" with the scripted fake
# model against the real Dovecot: the email agent searches, reads, and saves a
# threaded reply in Drafts after the user's y on the terminal (reading mail
# tainted the run, so even a draft is asked for); nothing is sent.  Needs the
# dovecot fixture (backend.e2e.mail_draft); skipped elsewhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

if [ "${ERRAND_TEST_MAIL_SERVERS:-}" != 1 ]; then
  echo "skipped: needs the dovecot fixture (ctest -R backend.e2e.mail_draft)"
  exit 77
fi
IMAP="imap://127.0.0.1:$ERRAND_TEST_IMAP_PORT"
export ERRAND_TEST_ALICE_PW=alicepw
mkdir -p "$XDG_CONFIG_HOME/errand"
cat > "$XDG_CONFIG_HOME/errand/config" <<CONF
[mail.t]
imap_url = $IMAP/
smtp_url = smtp://127.0.0.1:$ERRAND_TEST_SMTP_PORT
user = alice@example.test
password_env = ERRAND_TEST_ALICE_PW
CONF
imap() { curl -s -u "$1:${1%%@*}pw" "$IMAP/${3:-INBOX}" -X "$2" | tr -d '\r'; }
count() { imap "$1" "UID SEARCH ${3:-ALL}" "${2:-INBOX}" | sed 's/^\* SEARCH//' | wc -w; }

mid="<e2e-draft-$$@example.test>"
printf 'From: Carol <carol@example.test>\r\nTo: alice@example.test\r\nSubject: Lunch on Friday?\r\nMessage-ID: %s\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n\r\nShall we have lunch on Friday at noon?\r\n' \
  "$mid" > "$T/carol.eml"
curl -s -u alice@example.test:alicepw "$IMAP/INBOX" -T "$T/carol.eml" || fail "cannot append"
uid=$(imap alice@example.test "UID SEARCH HEADER Message-ID \"$mid\"" | sed 's/^\* SEARCH *//' | awk '{print $1}')
imap alice@example.test "UID STORE $uid -FLAGS.SILENT (\\Seen)" > /dev/null
sent_before=$(count alice@example.test Sent) bob_before=$(count bob@example.test)

ID="INBOX:$uid" $PY - > "$T/s.json" <<'EOF'
import json, os
i = os.environ["ID"]
print(json.dumps({"turns": [
  {"match": '"tool_call_id":"m3"', "text": "Carol asks to have lunch on Friday at noon. I saved a reply in Drafts."},
  {"match": '"tool_call_id":"m2"', "tool_calls": [{"id": "m3", "name": "mail_draft", "arguments": {
      "to": "carol@example.test", "subject": "Re: Lunch on Friday?", "body": "Yes, noon works for me.",
      "reply_to": i}}]},
  {"match": '"tool_call_id":"m1"', "tool_calls": [{"id": "m2", "name": "mail_read", "arguments": {"id": i}}]},
  {"match": "You are the email agent", "tool_calls": [{"id": "m1", "name": "mail_search",
      "arguments": {"from": "carol", "unread": True}}]},
]}))
EOF
start_fake "$T/s.json"
use_openai
out=$(printf 'y\n' | script -qec "$ERRAND ask --agent email 'summarise unread mail from carol and draft a reply'" /dev/null); rc=$?
expect_eq "exit 0" "$rc" 0
expect_contains "the draft is asked for" "$out" "wants to call mail_draft"
expect_contains "the answer" "$out" "saved a reply in Drafts"
check "the search result reached the model" grep -q "INBOX:$uid" "$FAKE_REC"
# OpenSMTPD answers 250 before it delivers: wait for its queue to drain, so a
# send that got through would be counted below.
bash "$ERRAND_TEST_SERVERS/dovecot.sh" settle "$ERRAND_TEST_MAIL_STATE" || fail "the SMTP queue did not drain"
expect_eq "a threaded draft is in Drafts" "$(count alice@example.test Drafts "HEADER In-Reply-To \"$mid\"")" 1
expect_eq "nothing in Sent" "$(count alice@example.test Sent)" "$sent_before"
expect_eq "nothing delivered" "$(count bob@example.test)" "$bob_before"
expect_eq "the mail is still unread" "$(count alice@example.test INBOX "UNSEEN HEADER Message-ID \"$mid\"")" 1
finish
