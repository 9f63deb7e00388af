#!/bin/bash
# agent-tls.sh - the agent enforces what the milter enforces (issue 14),
# through a real private Postfix, PostgreSQL, milter and agent on loopback
# (scripts/lib/stack.sh), require_tls = yes:
#   1. the milter stopped, smtpd_milters in the shared form with
#      default_action=accept: a reply over TLS is stored with the TLS version
#      and cipher Postfix logged (from its Received header), and mail.log says
#      the milter did not see it; a plain-text reply is not stored, but
#      refused after the queue (5.7.0) and kept in failure/, with a mail.log
#      warning that names the cause;
#   2. a reply submitted on the host with sendmail(1) (pickup): refused, the
#      warning names pickup;
#   3. the milter running but left out of this smtpd by a master.cf override
#      (postconf -P): plain text refused after the queue, TLS stored;
#   4. postsuper -r: a reply that came over TLS through the milter, deferred
#      (database down) and requeued under a new queue id, is still stored with
#      its TLS data (the trace header verifies for the queue id its smtpd
#      Received header names).
# Environment (set by meson): SRC, the source tree; BUILD, the build tree.
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
. "$SRC/tests/lib/tap.sh"
. "$SRC/scripts/lib/stack.sh"
unset MAIL_CONFIG

T=$(mktemp -d /tmp/rg-agent-tls.XXXXXX)
chmod 755 "$T"
D=$T/stack
trap 'stack_down "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT
PORT=$(pf_free_port)
stack_up "$D" "$PORT" "$BUILD" >"$T/up.log" 2>&1 || { sed 's/^/# /' "$T/up.log"; tap_bail "the stack did not start"; }
MAILLOG=$D/mail.log
ADDR=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 1 5)
RUN=tls-$$-$(date +%s)
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
pf() { postconf -c "$D/postfix" "$@"; }
reload() { postfix -c "$D/postfix" reload >/dev/null 2>&1; sleep 1; }

# send MID [--tls] - a reply with this Message-ID through smtpd
send() {
    local mid=$1
    shift
    swaks --server "127.0.0.1:$PORT" --helo client.example.org --from bob@example.org \
        --to "$ADDR" --header "Message-ID: <$mid>" --header "Subject: $mid" \
        --body "A reply, $mid." --timeout 30 "$@" >"$T/swaks.out" 2>&1
}

# agent_line MID - wait up to 30 s for the agent's mail.log line about MID
agent_line() {
    for _ in $(seq 60); do
        grep -q "replygate/deliver.*message-id=<$1>" "$MAILLOG" && break
        sleep 0.5
    done
    grep "replygate/deliver.*message-id=<$1>" "$MAILLOG" | tail -1
}

# queue_id LINE - the queue id a replygate/deliver line starts with
queue_id() { printf '%s' "$1" | sed -E 's/.*replygate\/deliver\[[0-9]+\]: ([0-9A-Za-z]+): .*/\1/'; }

# stored MID - "version cipher" stored for MID, or "none"
stored() {
    sql "SELECT coalesce(tls_version, 'null') || ' ' || coalesce(tls_cipher, 'null') FROM replygate.messages WHERE message_id = '$1'" |
        grep . || echo none
}

# kept MID - is MID kept in failure/ with a 5.7.0 reason?
kept() {
    local f
    f=$(grep -l "^Message-ID: <$1>" "$D"/spool/failure/* 2>/dev/null | head -1)
    [ -n "$f" ] && grep -q '^5\.7\.0 ' "$f.reason"
}

# --- 1. milter down, default_action=accept ---------------------------------------------
pf "smtpd_milters = { unix:replygate/milter.sock, default_action=accept }"
stack_milter_stop "$D"
reload
send "$RUN.down-tls@example.org" --tls
line=$(agent_line "$RUN.down-tls@example.org")
qid=$(queue_id "$line")
tap_like "milter down, TLS: stored" "$line" 'status=stored'
logged=$(grep -E "postfix/smtpd\[[0-9]+\]: Anonymous TLS connection established" "$MAILLOG" | tail -1 |
    sed -E 's/.*: (TLSv[0-9.]+) with cipher ([A-Za-z0-9_-]+) .*/\1 \2/')
tap_is "milter down, TLS: the stored version and cipher are what Postfix logged" \
    "$(stored "$RUN.down-tls@example.org")" "$logged"
tap_like "milter down, TLS: mail.log says the milter did not see it" "$(cat "$MAILLOG")" \
    "replygate/deliver.*warning: $qid: no X-Replygate-TLS header verifies: the milter did not see this message"
send "$RUN.down-plain@example.org"
tap_like "milter down, plain text: accepted at SMTP time (250)" "$(grep -E '^<- +250 .*queued' "$T/swaks.out")" '250'
line=$(agent_line "$RUN.down-plain@example.org")
qid=$(queue_id "$line")
tap_like "milter down, plain text: refused after the queue (5.7.0)" "$line" \
    'status=rejected \(5\.7\.0 this address accepts replies sent over TLS only\)'
tap_is "milter down, plain text: not stored" "$(stored "$RUN.down-plain@example.org")" none
tap_check "milter down, plain text: kept in failure/ with its reason" kept "$RUN.down-plain@example.org"
tap_like "milter down, plain text: the warning names the cause" "$(cat "$MAILLOG")" \
    "warning: $qid: require_tls = yes, but this reply shows no TLS: received by smtpd without TLS and without the milter's X-Replygate-TLS header: a postconf -P override of smtpd_milters, or the milter did not answer"
tap_like "milter down, plain text: Postfix bounces it after the queue (after_queue_refusal = bounce)" \
    "$(grep "postfix/pipe.*$qid" "$MAILLOG" | tail -1)" 'dsn=5\.7\.0, status=bounced'

# --- 2. sendmail(1) on the host -----------------------------------------------------------
MID=$RUN.sendmail@example.org
printf 'From: bob@example.org\nTo: %s\nSubject: sendmail\nMessage-ID: <%s>\n\nSubmitted on the host.\n' \
    "$ADDR" "$MID" | /usr/sbin/sendmail -C "$D/postfix" -f bob@example.org "$ADDR"
line=$(agent_line "$MID")
qid=$(queue_id "$line")
tap_like "sendmail(1): refused after the queue (5.7.0)" "$line" 'status=rejected \(5\.7\.0 '
tap_is "sendmail(1): not stored" "$(stored "$MID")" none
tap_like "sendmail(1): the warning names pickup" "$(cat "$MAILLOG")" \
    "warning: $qid: require_tls = yes, but this reply shows no TLS: submitted on this host \\(pickup, sendmail\\(1\\)\\)"

# --- 3. the milter up, but left out of this smtpd by postconf -P -----------------------------
stack_milter_start "$D" >/dev/null 2>&1
pf "smtpd_milters = { unix:replygate/milter.sock, default_action=tempfail }"
pf -P "127.0.0.1:$PORT/inet/smtpd_milters="
reload
send "$RUN.override-plain@example.org"
line=$(agent_line "$RUN.override-plain@example.org")
tap_like "postconf -P override, plain text: refused after the queue" "$line" 'status=rejected \(5\.7\.0 '
send "$RUN.override-tls@example.org" --tls
tap_like "postconf -P override, TLS: stored" "$(agent_line "$RUN.override-tls@example.org")" 'status=stored'
tap_like "postconf -P override, TLS: with its TLS version" "$(stored "$RUN.override-tls@example.org")" \
    '^TLSv1\.[23] '
pf -PX "127.0.0.1:$PORT/inet/smtpd_milters"
reload

# --- 4. postsuper -r: requeued under a new queue id ------------------------------------------
MID=$RUN.requeued@example.org
pg_stop >/dev/null 2>&1
send "$MID" --tls
line=$(agent_line "$MID")
first=$(queue_id "$line")
tap_like "requeue: deferred while the database is down" "$line" 'status=deferred'
postsuper -c "$D/postfix" -r ALL >/dev/null 2>&1
pg_restart >/dev/null 2>&1
postqueue -c "$D/postfix" -f
for _ in $(seq 60); do
    grep -q "replygate/deliver.*message-id=<$MID>.*status=stored" "$MAILLOG" && break
    sleep 0.5
done
line=$(grep "replygate/deliver.*message-id=<$MID>.*status=stored" "$MAILLOG" | tail -1)
tap_like "requeue: stored after postsuper -r" "$line" 'status=stored'
tap_check "requeue: under a new queue id" test "$(queue_id "$line")" != "$first"
tap_like "requeue: with its TLS data from the milter's header" "$(stored "$MID")" \
    '^TLSv1\.[23] [A-Z0-9_-]+$'
tap_is "requeue: no warning about a missing trace header" \
    "$(grep -c "warning: $(queue_id "$line"): no X-Replygate-TLS" "$MAILLOG")" 0
tap_done
