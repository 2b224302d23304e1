#!/usr/bin/env bash
# dovecot.sh — a throwaway mail server pair on 127.0.0.1 for the mail tests:
# Dovecot (IMAP, port ERRAND_TEST_IMAP_PORT, default 10143) over Maildirs in
# STATE_DIR/mail, and OpenSMTPD (SMTP, port ERRAND_TEST_SMTP_PORT, default
# 10025) delivering into the same Maildirs as the vmail user.
#
#   dovecot.sh start STATE_DIR   fresh mailboxes for alice, bob, carol, dave and erin@example.test
#                                (passwords alicepw, bobpw, …): the e2e tests use alice and
#                                bob, test_mail carol and dave, its networked run (the
#                                metadata cache in Redis) erin, so their counts never meet
#   dovecot.sh settle STATE_DIR  wait until OpenSMTPD has delivered (or refused) every
#                                envelope it accepted: it answers 250 before delivering
#   dovecot.sh stop STATE_DIR    stop both by their PIDs
#
# Both drop privileges themselves (Dovecot to vmail; OpenSMTPD to its
# opensmtpd/opensmtpq users, and to vmail to deliver), so start needs root;
# vmail is created when missing.  OpenSMTPD's spool (/var/spool/smtpd) and
# control socket (/run/smtpd.sock) are compiled in, and it refuses to start
# while another smtpd holds that socket, so it runs in a private mount
# namespace with STATE_DIR/smtp/spool and STATE_DIR/smtp/run bound over those
# two paths: each checkout's instance has its own queue and the host's stay
# untouched (only the empty mount point /var/spool/smtpd is created).
# No TLS: loopback only.
set -euo pipefail

IMAP_PORT=${ERRAND_TEST_IMAP_PORT:-10143}
SMTP_PORT=${ERRAND_TEST_SMTP_PORT:-10025}
cmd=${1:-}
state=${2:-}
if [ -z "$cmd" ] || [ -z "$state" ]; then
    echo "usage: $0 start|settle|stop STATE_DIR" >&2
    exit 2
fi
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
    [ -x /usr/sbin/smtpd ] || { echo "OpenSMTPD is not installed (apt-get install opensmtpd)" >&2; exit 1; }
    command -v unshare >/dev/null || { echo "unshare (util-linux) is missing" >&2; exit 1; }
    [ "$(id -u)" -eq 0 ] || { echo "the mail fixture needs root (Dovecot switches to vmail)" >&2; exit 1; }
    id vmail >/dev/null 2>&1 ||
        useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin vmail
    stop_pid "$mpid"
    stop_pid "$spid"
    rm -rf "$state"
    mkdir -p "$state/run" "$state/state" "$state/mail" "$state/smtp/spool" "$state/smtp/run"
    chmod 755 "$state"
    chmod 711 "$state/smtp/spool" # smtpd refuses a spool with any other mode
    local uid
    uid=$(id -u vmail)
    for u in alice bob carol dave erin; do
        mkdir -p "$state/mail/$u@example.test/Maildir/"{cur,new,tmp}
        echo "$u@example.test:{PLAIN}${u}pw::::::" >>"$state/users"
        echo "$u@example.test vmail" >>"$state/smtp/vusers"
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
    # A RCPT outside vusers is refused at RCPT time (a 5xx), as a real MX does.
    cat >"$state/smtp/smtpd.conf" <<CONF
table vusers file:$state/smtp/vusers
listen on 127.0.0.1 port $SMTP_PORT
action "deliver" maildir "$state/mail/%{dest}/Maildir" virtual <vusers>
match from any for domain "example.test" action "deliver"
CONF
    chmod 644 "$state/smtp/smtpd.conf" "$state/smtp/vusers"
    local check
    check=$(/usr/sbin/smtpd -n -f "$state/smtp/smtpd.conf" 2>&1) ||
        { echo "bad $state/smtp/smtpd.conf: $check" >&2; exit 1; }
    mkdir -p /var/spool/smtpd
    # unshare and sh exec, so the PID is smtpd's own; -d keeps it in the
    # foreground, logging every envelope and delivery (settle reads them).
    setsid unshare --mount --propagation private sh -c \
        'mount --bind "$1/spool" /var/spool/smtpd && mount --bind "$1/run" /run &&
         exec /usr/sbin/smtpd -d -f "$1/smtpd.conf"' sh "$state/smtp" \
        >"$state/smtp/smtpd.log" 2>&1 </dev/null &
    echo $! >"$spid"
    for _ in $(seq 100); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$IMAP_PORT") 2>/dev/null &&
           (exec 3<>/dev/tcp/127.0.0.1/"$SMTP_PORT") 2>/dev/null; then
            echo "dovecot up on 127.0.0.1:$IMAP_PORT, smtp on 127.0.0.1:$SMTP_PORT"
            return 0
        fi
        sleep 0.1
    done
    echo "mail servers did not come up; see $state/dovecot.log and $state/smtp/smtpd.log" >&2
    tail -n 20 "$state/dovecot.log" "$state/smtp/smtpd.log" >&2 || true
    stop
    exit 1
}

stop() {
    stop_pid "$mpid"
    stop_pid "$spid"
}

# Settled when every envelope accepted ("smtp envelope") has its final
# delivery line (result=Ok or PermFail; a TempFail would be retried).
settle() {
    local log=$state/smtp/smtpd.log accepted=0 done=0
    [ -f "$log" ] || { echo "no smtpd log in $state: is the fixture running?" >&2; exit 1; }
    for _ in $(seq 200); do
        accepted=$(grep -c ' smtp envelope evpid=' "$log" || true)
        done=$(grep -cE ' delivery evpid=.* result=(Ok|PermFail)' "$log" || true)
        [ "$done" -ge "$accepted" ] && return 0
        sleep 0.05
    done
    echo "smtpd still holds $((accepted - done)) envelope(s) after 10 s; see $log" >&2
    exit 1
}

case "$cmd" in
start) start ;;
settle) settle ;;
stop) stop ;;
*) echo "usage: $0 start|settle|stop STATE_DIR" >&2; exit 2 ;;
esac
