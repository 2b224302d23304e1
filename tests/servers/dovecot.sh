#!/usr/bin/env bash
# dovecot.sh — a throwaway mail server pair on 127.0.0.1 for the mail tests:
# Dovecot (IMAP, port ERRAND_TEST_IMAP_PORT, default 10143) over Maildirs in
# STATE_DIR/mail, and an SMTP server (tests/fakes/smtp_maildir.py, port
# ERRAND_TEST_SMTP_PORT, default 10025) that delivers into the same Maildirs.
#
#   dovecot.sh start STATE_DIR   fresh mailboxes for alice, bob, carol and dave@example.test
#                                (passwords alicepw, bobpw, …): the e2e tests use alice and
#                                bob, test_mail carol and dave, so their counts never meet
#   dovecot.sh stop STATE_DIR    stop both by their PIDs
#
# Dovecot drops to the vmail user for mail access, so start needs root (the
# user is created when missing).  No TLS: loopback only.
set -euo pipefail

IMAP_PORT=${ERRAND_TEST_IMAP_PORT:-10143}
SMTP_PORT=${ERRAND_TEST_SMTP_PORT:-10025}
cmd=${1:-}
state=${2:-}
if [ -z "$cmd" ] || [ -z "$state" ]; then
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mpid=$state/run/master.pid
spid=$state/smtp.pid

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pid() {
    local f=$1
    alive "$f" || { rm -f "$f"; return 0; }
    local pid
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
}

start() {
    command -v dovecot >/dev/null || { echo "dovecot is not installed (apt-get install dovecot-imapd)" >&2; exit 1; }
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
        { echo "aiosmtpd is missing (apt-get install python3-aiosmtpd)" >&2; exit 1; }
    [ "$(id -u)" -eq 0 ] || { echo "the mail fixture needs root (Dovecot switches to vmail)" >&2; exit 1; }
    id vmail >/dev/null 2>&1 ||
        useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin vmail
    stop_pid "$mpid"
    stop_pid "$spid"
    rm -rf "$state"
    mkdir -p "$state/run" "$state/state" "$state/mail"
    chmod 755 "$state"
    local uid
    uid=$(id -u vmail)
    for u in alice bob carol dave; do
        mkdir -p "$state/mail/$u@example.test/Maildir/"{cur,new,tmp}
        echo "$u@example.test:{PLAIN}${u}pw::::::" >>"$state/users"
    done
    chown -R vmail:vmail "$state/mail"
    cat >"$state/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $state/run
state_dir = $state/state
instance_name = errand-test-$IMAP_PORT
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = $state/dovecot.log
mail_location = maildir:$state/mail/%u/Maildir
first_valid_uid = $uid
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $state/users
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=$state/mail/%u
}
namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
CONF
    # Its stdio must not hold the caller's pipes open (ctest waits for them).
    dovecot -c "$state/dovecot.conf" </dev/null >/dev/null 2>&1
    # setpriv execs (runuser would stay as a parent): the PID is the server's.
    setsid setpriv --reuid=vmail --regid=vmail --init-groups /usr/bin/python3 "$here/../fakes/smtp_maildir.py" "$SMTP_PORT" \
        "$state/mail" >"$state/smtp.log.err" 2>&1 </dev/null &
    echo $! >"$spid"
    for _ in $(seq 100); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$IMAP_PORT") 2>/dev/null &&
           (exec 3<>/dev/tcp/127.0.0.1/"$SMTP_PORT") 2>/dev/null; then
            echo "dovecot up on 127.0.0.1:$IMAP_PORT, smtp on 127.0.0.1:$SMTP_PORT"
            return 0
        fi
        sleep 0.1
    done
    echo "mail servers did not come up; see $state/dovecot.log and $state/smtp.log.err" >&2
    tail -n 20 "$state/dovecot.log" "$state/smtp.log.err" >&2 || true
    stop
    exit 1
}

stop() {
    stop_pid "$mpid"
    stop_pid "$spid"
}

case "$cmd" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
