#!/bin/bash
# stack.sh - the application's side through a real Postfix, milter, agent
# and PostgreSQL on loopback (scripts/lib/stack.sh), whose programs log in as
# a member of replygate_writer only:
#   - one SMTP transaction to the keyed and the dedicated address: one row,
#     both recipients recorded, the second logged status=duplicate;
#   - issue 13's suspected ORCPT duplicate, checked on this Postfix: the
#     same recipient with a different DSN ORCPT each time passes Postfix's
#     duplicate filter, and every delivery after the first is found before
#     it is parsed (with the agent's processor time printed as a figure);
#   - a refusal after the queue with after_queue_refusal = bounce (Postfix
#     bounces) and = keep (Postfix delivers, no bounce), each a refusal row
#     and a NOTIFY replygate_refusal;
#   - purge, then replay: no row.
#
# Environment (set by meson): SRC, BUILD.
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
PY=/usr/bin/python3
. "$SRC/tests/lib/tap.sh"
. "$SRC/scripts/lib/stack.sh"
unset MAIL_CONFIG

T=$(mktemp -d /tmp/rg-appstack.XXXXXX)
chmod 755 "$T"
D=$T/stack
LISTENER=
cleanup() {
    [ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null && wait "$LISTENER" 2>/dev/null
    stack_down "$D" >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
PORT=$(pf_free_port)
stack_up "$D" "$PORT" "$BUILD" >"$T/stack_up.log" 2>&1 ||
    { sed 's/^/# /' "$T/stack_up.log"; tap_bail "the stack did not start"; }
MAILLOG=$D/mail.log
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
wait_sql() { # SQL WANT [SECONDS]
    local got i
    for i in $(seq $((${3:-60} * 10))); do
        got=$(sql "$1")
        [ "$got" = "$2" ] && break
        sleep 0.1
    done
    printf '%s' "$got"
}
# wait_log ERE COUNT [SECONDS] - until mail.log has COUNT matching lines
wait_log() {
    local i
    for i in $(seq $((${3:-60} * 10))); do
        [ "$(grep -Ec -- "$1" "$MAILLOG")" -ge "$2" ] && break
        sleep 0.1
    done
    grep -Ec -- "$1" "$MAILLOG"
}
address() { "$RG_BIN/replygate" address --config "$RG_CONFIG" "$@"; }
KEYED=$(address i 16 5)
BARE=reply@$RG_DOMAIN

# smtp MESSAGE-FILE RCPT... - one STARTTLS transaction with Python's smtplib;
# "RCPT|ORCPT" gives a DSN ORCPT; prints each RCPT's code, then DATA's
smtp() {
    "$PY" - "$PORT" "$@" <<'EOF'
import smtplib, sys
port, message, rcpts = int(sys.argv[1]), open(sys.argv[2], 'rb').read(), sys.argv[3:]
s = smtplib.SMTP('127.0.0.1', port, timeout=60)
s.ehlo('client.example.org'); s.starttls(); s.ehlo('client.example.org')
s.mail('bob@example.org')
ok = 0
for r in rcpts:
    addr, _, orcpt = r.partition('|')
    code, _ = s.rcpt(addr, ['NOTIFY=NEVER', 'ORCPT=rfc822;' + orcpt] if orcpt else [])
    print('rcpt', code)
    ok += code == 250
if ok:
    code, msg = s.data(message)
    print('data', code, msg.decode())
s.quit()
EOF
}

# --- keyed + dedicated address in one transaction: one row ----------------------------
RUN=appstack-$$-$(date +%s)
cat >"$T/both.eml" <<EOF
From: Bob <bob@example.org>
To: $KEYED, $BARE
Subject: Re: issue 16
Date: Sun, 06 Dec 2026 12:00:00 +0000
Message-ID: <both-$RUN@example.org>

Posted once, please.
EOF
out=$(smtp "$T/both.eml" "$KEYED" "$BARE")
tap_like "keyed + dedicated: both RCPTs and DATA accepted" "$(echo $out)" "^rcpt 250 rcpt 250 data 250 "
tap_is "keyed + dedicated: both deliveries done" \
    "$(wait_log "both-$RUN@example.org.*status=(stored|duplicate)" 2)" 2
tap_is "keyed + dedicated: one row" \
    "$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = 'both-$RUN@example.org'")" 1
tap_is "keyed + dedicated: both recipients recorded, shown to the application" \
    "$(sql "SELECT array_to_string(ARRAY(SELECT unnest(recipients) ORDER BY 1), ' ') FROM replygate.processed_replies WHERE message_id = 'both-$RUN@example.org'")" \
    "$(printf '%s\n%s\n' "$KEYED" "$BARE" | sort | tr '\n' ' ' | sed 's/ $//')"
tap_is "keyed + dedicated: one logged stored, the other duplicate" \
    "$(grep -o "both-$RUN@example.org>.*status=[a-z]*" "$MAILLOG" | sed 's/.*status=//' | sort | tr '\n' ' ')" \
    "duplicate stored "

# --- the ORCPT duplicate ---------------------------------------------------------------------
{
    printf 'From: Bob <bob@example.org>\nTo: %s\nSubject: big\nMessage-ID: <orcpt-%s@example.org>\n\n' "$KEYED" "$RUN"
    for i in $(seq 20000); do echo "line $i of a reply large enough to be looked up first"; done
} >"$T/orcpt.eml"
rcpts=()
for i in $(seq 30); do rcpts+=("$KEYED|x$i@example.org"); done
out=$(smtp "$T/orcpt.eml" "${rcpts[@]}")
accepted=$(printf '%s\n' "$out" | grep -c '^rcpt 250')
tap_like "ORCPT: Postfix accepted the RCPTs ($accepted of 30; the milter may cap them)" "$accepted" '^[1-9][0-9]*$'
delivered=$(wait_log "orcpt-$RUN@example.org.*status=(stored|duplicate)" "$accepted" 120)
tap_is "ORCPT: Postfix's duplicate filter let every one through: $accepted deliveries of one message" \
    "$delivered" "$accepted"
tap_is "ORCPT: one row" "$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = 'orcpt-$RUN@example.org'")" 1
# Postfix runs several deliveries at once: those that started before the
# first committed parse and meet the row at store time; the later ones are
# found before parsing.
# Found before parsing: by the marker of this queue file and recipient
# (spool/seen), or by the fingerprint already stored (store_seen).
early=$(grep -c "orcpt-$RUN@example.org>, \(reply=[0-9]*, \)\?status=duplicate (found before parsing" "$MAILLOG")
late=$(grep -c "orcpt-$RUN@example.org>, key=.*status=duplicate$" "$MAILLOG")
echo "# $accepted deliveries: 1 stored, $late duplicates that raced the first and were parsed, $early found before parsing"
tap_is "ORCPT: every delivery after the first is a duplicate, stored once" \
    "$(grep -c "orcpt-$RUN@example.org>.*status=stored" "$MAILLOG")/$((early + late))" "1/$((accepted - 1))"
tap_like "ORCPT: those after the first commit were found before parsing ($early)" "$early" '^[1-9][0-9]*$'
tap_is "ORCPT: no spool copy but the first" \
    "$(grep -l "orcpt-$RUN@example.org" "$D"/spool/success/* 2>/dev/null | wc -l)/$(find "$D/spool/new" -type f | wc -l)" "1/0"
# The figure: the agent's processor time for the first delivery (parsed)
# and for a redelivery found before parsing, the same message on stdin.
deliver_cpu() {
    /usr/bin/time -f '%U %S' -o "$T/time" setpriv --reuid=replygate --regid=replygate --init-groups \
        "$RG_BIN/replygate-deliver" --config "$RG_CONFIG" -q "$1" -f bob@example.org -r "$KEYED" \
        <"$T/orcpt.eml" >/dev/null 2>&1
    awk '{printf "%.0f", ($1 + $2) * 1000}' "$T/time"
}
sed -i "s/^Message-ID: .*/Message-ID: <cpu-$RUN@example.org>/" "$T/orcpt.eml"
first=$(deliver_cpu QCPU1)
again=$(deliver_cpu QCPU2)
echo "# figure: agent processor time for a $(stat -c %s "$T/orcpt.eml")-byte reply: ${first} ms parsed and stored, ${again} ms as a duplicate found before parsing"
tap_like "ORCPT: the redelivery was found before parsing (the figure above is not asserted)" \
    "$(grep "QCPU2: message-id=<cpu-$RUN@example.org>" "$MAILLOG")" "status=duplicate \(found before parsing\)"

# --- refusals after the queue: bounce and keep ---------------------------------------------------
"$PY" "$SRC/tests/app/workers.py" listen "$PG_CONNINFO" replygate_refusal 600 >"$T/notify" &
LISTENER=$!
for _ in $(seq 100); do grep -q listening "$T/notify" && break; sleep 0.1; done
cat >"$T/empty.eml" <<EOF
From: Bob <bob@example.org>
To: $KEYED
Subject: Re: issue 16
Message-ID: <empty-$RUN@example.org>

> only the quoted notification
EOF
out=$(smtp "$T/empty.eml" "$KEYED")
qid=$(printf '%s\n' "$out" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p')
tap_is "bounce: Postfix bounces the empty reply (5.6.0)" \
    "$(wait_log "$qid: .*dsn=5\.6\.0, status=bounced" 1)" 1
tap_is "bounce: a refusal row, stage delivery" \
    "$(wait_sql "SELECT stage || ' ' || enhanced_code || ' ' || queue_id FROM replygate.refused_replies WHERE message_id = 'empty-$RUN@example.org'" "delivery 5.6.0 $qid")" \
    "delivery 5.6.0 $qid"
echo "after_queue_refusal = keep" >>"$RG_CONFIG"
sed -i "s/^Message-ID: .*/Message-ID: <kept-$RUN@example.org>/" "$T/empty.eml"
out=$(smtp "$T/empty.eml" "$KEYED")
qid2=$(printf '%s\n' "$out" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p')
tap_is "keep: Postfix delivers (status=sent): no bounce to a sender who may be forged" \
    "$(wait_log "$qid2: .*status=sent" 1)/$(grep -c "$qid2: .*status=bounced" "$MAILLOG")" "1/0"
tap_like "keep: the agent logged status=kept" "$(grep "$qid2: message-id=<kept-" "$MAILLOG")" "status=kept \(5\.6\.0 "
tap_is "keep: a refusal row, stage delivery" \
    "$(sql "SELECT stage || ' ' || enhanced_code || ' ' || queue_id FROM replygate.refused_replies WHERE message_id = 'kept-$RUN@example.org'")" \
    "delivery 5.6.0 $qid2"
kept=$(grep -l "kept-$RUN@example.org" "$D"/spool/failure/* | head -1)
tap_like "keep: the message is in failure/ with its reason" "$(cat "$kept.reason" 2>&1)" "^5\.6\.0 the reply is empty"
ids=$(sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM replygate.refusals WHERE message_id IN ('empty-$RUN@example.org', 'kept-$RUN@example.org')")
for _ in $(seq 100); do [ "$(grep -c '^[0-9]' "$T/notify")" -ge 2 ] && break; sleep 0.1; done
tap_is "each refusal sent NOTIFY replygate_refusal with its id" "$(grep '^[0-9]' "$T/notify" | tr '\n' ' ' | sed 's/ $//')" "$ids"
sed -i '/^after_queue_refusal/d' "$RG_CONFIG"

# --- purge, then replay: no row --------------------------------------------------------------------
cat >"$T/gone.eml" <<EOF
From: Bob <bob@example.org>
To: $KEYED
Subject: Re: issue 16
Date: Sun, 06 Dec 2026 12:00:00 +0000
Message-ID: <gone-$RUN@example.org>

Delete me later.
EOF
smtp "$T/gone.eml" "$KEYED" >/dev/null
tap_is "purge then replay: stored first" \
    "$(wait_sql "SELECT count(*) FROM replygate.messages WHERE message_id = 'gone-$RUN@example.org'" 1)" 1
copy=$(grep -l "gone-$RUN@example.org" "$D"/spool/success/* | head -1)
cp "$copy" "$T/gone-copy.eml"
out=$("$RG_BIN/replygate" purge --config "$RG_CONFIG" --database "$PG_CONNINFO" --message-id "gone-$RUN@example.org" 2>&1)
tap_like "purge --message-id: the row and the spool copy went" "$(echo $out)" \
    "removed 1 reply .*removed 1 file from success/"
out=$("$RG_BIN/replygate" replay --config "$RG_CONFIG" "$T/gone-copy.eml" 2>&1)
tap_like "replay of the saved copy: the agent counts it as done" "$out" "stored"
tap_is "replay after purge: no row" \
    "$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = 'gone-$RUN@example.org'")" 0
tap_like "replay after purge: mail.log names the tombstone" \
    "$(grep "REPLAY: message-id=<gone-$RUN@example.org>" "$MAILLOG")" "status=duplicate \(deleted before: a tombstone\)"
smtp "$T/gone.eml" "$KEYED" >/dev/null
tap_is "a redelivery through Postfix after purge: no row either" \
    "$(wait_log "gone-$RUN@example.org>.*tombstone" 2)/$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = 'gone-$RUN@example.org'")" "2/0"

# --- the stack's programs use a writer login ---------------------------------------------------------
out=$("$RG_BIN/replygate" check --config "$RG_CONFIG" --postfix-config "$D/postfix" 2>&1)
tap_like "check: the agent's role is a writer" "$out" "OK +database role replygate is a member of replygate_writer"
tap_like "check: the grants are SPEC's" "$out" "OK +roles replygate_owner, replygate_writer and replygate_app have exactly"

tap_done
