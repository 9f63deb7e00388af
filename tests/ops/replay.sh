#!/bin/bash
# replay.sh - `replygate replay` on the local stack (scripts/lib/stack.sh):
#   1. after a database outage: a message in failure/ is deferred while the
#      database is down (exit 75, the file stays), stored once it is back,
#      moved to success/ with its processor log lines, and replaying it again
#      (and the same bytes as an .eml with -f/-r) still leaves one row;
#   2. after a key rotation the agent had not seen: the agent refuses the
#      reply into failure/ (67), the secret is added, and replay stores it;
#   3. a message without pipe(8)'s envelope headers needs -f and -r.
#
# usage: replay.sh SOURCE_DIR BUILD_DIR
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
. "$(dirname "$0")/../lib/tap.sh"
src=$1 build=$2
dir=$(mktemp -d /tmp/rg-ops-replay.XXXXXX)
STACK_SRC=$src
. "$src/scripts/lib/stack.sh"
cleanup() { stack_down "$dir" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT

RG_MILTER=0 stack_up "$dir" "$(pf_free_port)" "$build" >"$dir.up.log" 2>&1 ||
    { cat "$dir.up.log"; rm -f "$dir.up.log"; tap_bail "the stack did not come up"; }
rm -f "$dir.up.log"
rg() { pf_run "$dir" "$RG_BIN/replygate" "$@"; }
spool=$dir/spool
plog=$dir/log/replygate.log
rows() { pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = '$1'"; }

addr=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 7 5)
# message MESSAGE-ID RECIPIENT - a reply as pipe(8) hands it over with
# flags=DOR: Return-Path, X-Original-To and Delivered-To on top
message() {
    cat <<EOM
Return-Path: <bob@example.org>
X-Original-To: $2
Delivered-To: $2
From: Bob <bob@example.org>
To: $2
Subject: Re: issue 7
Message-ID: <$1>
Date: Sun, 22 Nov 2026 13:05:46 +0000
Content-Type: text/plain; charset=utf-8

The fix works for me, thanks.

On Sun, Nov 22, 2026 at 1:00 PM Example <notifications@example.com> wrote:
> Alice fixed issue 7.
EOM
}

# The spool's folders, as the install script makes them.
for f in tmp new success failure; do install -d -o replygate -g replygate -m 750 "$spool/$f"; done

# --- 1. a database outage ------------------------------------------------
name=1795957546.V801I2a4M306412.replaytest
message outage-1@example.org "$addr" >"$spool/failure/$name"
echo "4.3.0 database unreachable (crafted by the test)" >"$spool/failure/$name.reason"
chown replygate:replygate "$spool/failure/$name" "$spool/failure/$name.reason"

pg_stop
out=$(rg replay --config "$RG_CONFIG" "$spool/failure/$name" 2>&1); rc=$?
tap_is "database down: replay exits 75" "$rc" 75
tap_like "database down: the line says deferred with the agent's 4.3.0" "$out" \
    "failure/$name: deferred: 4\\.3\\.0"
tap_check "database down: the file stays in failure/" test -f "$spool/failure/$name"
tap_check "database down: its .reason stays" test -f "$spool/failure/$name.reason"
tap_is "database down: the agent's own copy is gone (Postfix-style retry)" \
    "$(ls "$spool/new" "$spool/success" | grep -c '^[0-9]')" 0

pg_restart
out=$(rg replay --config "$RG_CONFIG" "$spool/failure" 2>&1); rc=$?
tap_is "database back: replaying the failure/ folder exits 0 ($out)" "$rc" 0
tap_like "the line says stored with the envelope from the headers" "$out" \
    "$name: stored \\(from=<bob@example.org> to=<${addr//+/\\+}>\\)"
tap_is "one row" "$(rows outage-1@example.org)" 1
tap_is "stored with queue id REPLAY and the envelope" \
    "$(pg_value "SELECT queue_id || ' ' || sender || ' ' || recipient FROM replygate.processed_replies WHERE message_id = 'outage-1@example.org'")" \
    "REPLAY bob@example.org $addr"
tap_like "the reply text is the reply" \
    "$(pg_value "SELECT reply_text FROM replygate.processed_replies WHERE message_id = 'outage-1@example.org'")" \
    '^The fix works for me, thanks\.$'
tap_check "the file moved to success/" test -f "$spool/success/$name"
tap_check "failure/ no longer has it" test ! -e "$spool/failure/$name"
tap_check "its .reason is gone" test ! -e "$spool/failure/$name.reason"
same=0
for f in "$spool"/success/*; do cmp -s "$f" "$spool/success/$name" && same=$((same + 1)); done
tap_is "success/ holds the message once (the agent's copy is not doubled)" "$same" 1
tap_like "processor log: replay line" "$(cat "$plog")" \
    "INFO \\([0-9]+\\) \\(NOQUEUE\\) #\\] replygate: replay $spool/failure/$name"
tap_like "processor log: the agent's processing line" "$(cat "$plog")" \
    'replygate: processing <outage-1@example.org>'
tap_like "processor log: moving it to success" "$(cat "$plog")" \
    "DEBUG \\([0-9]+\\) \\(NOQUEUE\\) #\\] Moving $spool/failure/$name => $spool/success\$"
tap_like "mail.log: the agent's line with queue id REPLAY" "$(cat "$dir/mail.log")" \
    'replygate/deliver\[[0-9]+\]: REPLAY: message-id=<outage-1@example.org>, key=i-7-5, .*status=stored'

out=$(rg replay --config "$RG_CONFIG" "$spool/success/$name" 2>&1); rc=$?
tap_is "replaying it again exits 0" "$rc" 0
tap_is "replaying it again: still one row" "$(rows outage-1@example.org)" 1
tap_like "mail.log: the second one is a duplicate" "$(cat "$dir/mail.log")" \
    'REPLAY: message-id=<outage-1@example.org>.*status=duplicate'
message outage-1@example.org "$addr" | sed '1,3d' >"$dir/saved.eml"
out=$(rg replay --config "$RG_CONFIG" -f bob@example.org -r "$addr" "$dir/saved.eml" 2>&1); rc=$?
tap_is "the same message as an .eml with -f/-r: exit 0" "$rc" 0
tap_is "the same message as an .eml: still one row" "$(rows outage-1@example.org)" 1
tap_check "an .eml from elsewhere stays where it is" test -f "$dir/saved.eml"

# --- 2. a key signed with a secret the agent did not have yet --------------
new_secret=$(openssl rand -hex 32)
mac=$(printf %s i-8-5 | openssl dgst -sha256 -hmac "$new_secret" | sed 's/.*= //' | cut -c1-40)
addr8=reply+i-8-$mac-5@$RG_DOMAIN
message rotated-1@example.org "$addr8" >"$dir/rotated.eml"
out=$(pf_run "$dir" setpriv --reuid=replygate --regid=replygate --init-groups -- \
    "$RG_BIN/replygate-deliver" --config "$RG_CONFIG" -q ROT1 -f bob@example.org -r "$addr8" \
    <"$dir/rotated.eml"); rc=$?
tap_is "unknown secret: the agent refuses with 67" "$rc:$out" "67:$(echo "$out" | head -1)"
failed=$(grep -lx 'Message-ID: <rotated-1@example.org>' "$spool"/failure/* 2>/dev/null | head -1)
tap_like "the agent kept it in failure/" "$failed" "^$spool/failure/[^/]+\$"
out=$(rg replay --config "$RG_CONFIG" "$failed" 2>&1); rc=$?
tap_is "replay before the fix: refused again, exit 1" "$rc" 1
tap_check "refused again: still in failure/" test -f "$failed"
tap_check "refused again: with its reason" test -s "$failed.reason"
tap_is "refused again: no second copy in failure/" \
    "$(grep -lx 'Message-ID: <rotated-1@example.org>' "$spool"/failure/* | wc -l)" 1
tap_is "refused again: nothing stored" "$(rows rotated-1@example.org)" 0
# The fix: the new secret signs, the old one still verifies.
{ echo "$new_secret"; cat "$dir/etc/secrets"; } >"$dir/etc/secrets.new"
cat "$dir/etc/secrets.new" >"$dir/etc/secrets"
out=$(rg replay --config "$RG_CONFIG" "$failed" 2>&1); rc=$?
tap_is "after adding the secret: replay exits 0 ($out)" "$rc" 0
tap_is "after adding the secret: one row" "$(rows rotated-1@example.org)" 1
tap_check "after adding the secret: moved to success/" \
    test -f "$spool/success/$(basename "$failed")"

# --- 3. no envelope headers ----------------------------------------------
message bare-1@example.org "$addr" | sed '1,3d' >"$dir/bare.eml"
out=$(rg replay --config "$RG_CONFIG" "$dir/bare.eml" 2>&1); rc=$?
tap_is "no Return-Path and no -f: exit 1" "$rc" 1
tap_like "no Return-Path: it says to give -f" "$out" 'give -f SENDER'
tap_is "no Return-Path: nothing stored" "$(rows bare-1@example.org)" 0
# A message too big keeps only its first max_message_size bytes in failure/:
# replaying them used to store a cut reply as if it were whole.
name=1795957547.V801I2a4M306413.replaytest
message big-1@example.org "$addr" >"$spool/failure/$name"
echo "5.3.4 message too big (over max_message_size = 100; only the first 100 bytes are kept)" \
    >"$spool/failure/$name.reason"
chown replygate:replygate "$spool/failure/$name" "$spool/failure/$name.reason"
out=$(rg replay --config "$RG_CONFIG" "$spool/failure/$name" 2>&1); rc=$?
tap_is "a cut message too big: replay refuses, exit 1" "$rc" 1
tap_like "a cut message too big: it says why" "$out" 'refused: only the first bytes'
tap_is "a cut message too big: nothing stored, still in failure/" \
    "$(rows big-1@example.org)/$(ls "$spool/failure/$name" "$spool/failure/$name.reason" | wc -l)" "0/2"
out=$(rg replay --config "$RG_CONFIG" "$dir/missing.eml" 2>&1); rc=$?
tap_like "a missing file is reported" "$rc:$out" '^75:.*missing\.eml: deferred'
out=$(rg replay --config "$RG_CONFIG" 2>&1); rc=$?
tap_is "no PATH: usage, exit 64" "$rc" 64
tap_done
