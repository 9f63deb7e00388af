#!/bin/bash
# unique.sh - what the agent stores once, and what it refuses, against a real
# PostgreSQL (issues 13, 14, 16, 18; SPEC sections 5 and 8):
#   - one reply per e-mail and key: the keyed and the dedicated address, two
#     MX hosts (other trace headers), a retry; every recipient recorded; a
#     different message that reuses a Message-ID is its own row;
#   - a tombstone (forget) stops a redelivery; a big redelivery is found
#     before parsing;
#   - the Date in UTC, out of range dropped with a warning;
#   - SQLSTATE classes 22 and 54 refused (5.6.0, kept in failure/), the
#     statement_timeout and "too many clients" texts;
#   - after_queue_refusal = bounce | keep, each with its refusal row and NOTIFY;
#   - spool_keep_success = 0, duplicates keep no spool copy;
#   - test-email's marked Message-ID is stored with is_test, out of the views.
#
# Environment: RG_DELIVER (the agent), RG_CLI (replygate), RG_SRC (source tree).
set -u
SRC=${RG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DELIVER=${RG_DELIVER:-$SRC/build/pipe-agent/replygate-deliver}
CLI=${RG_CLI:-$SRC/build/cli/replygate}
FP=$SRC/tests/lib/fingerprint.py
. "$SRC/tests/lib/tap.sh"
. "$SRC/tests/lib/pg.sh"

T=$(mktemp -d /tmp/rg-unique.XXXXXX) || tap_bail "mktemp failed"
BG=()
cleanup() {
    local p
    for p in "${BG[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    pg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
pg_start || tap_bail "cannot start PostgreSQL"

SECRET=0123456789abcdef0123456789abcdef-unique-test
printf '%s\n' "$SECRET" >"$T/secrets"
chmod 600 "$T/secrets"
SPOOL=$T/spool
PLOG=$T/replygate.log
# write_config FILE [EXTRA LINES...]
write_config() {
    local file=$1 line
    shift
    {
        echo "reply_domain = reply.example.com"
        echo "secrets_file = $T/secrets"
        echo "database = $PG_CONNINFO"
        echo "spool_directory = $SPOOL"
        echo "processor_log = $PLOG"
        for line in "$@"; do echo "$line"; done
    } >"$file"
}
CFG=$T/replygate.conf
write_config "$CFG"
"$CLI" migrate --config "$CFG" >/dev/null || tap_bail "migrate failed"

address() {
    local mac
    mac=$(printf '%s' "$1-$2-$3" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.*= *//' | cut -c1-40)
    echo "reply+$1-$2-$mac-$3@reply.example.com"
}
ADDR=$(address i 13 5)
BARE=reply@reply.example.com
# deliver CONFIG FILE QUEUE-ID [RECIPIENT] - like pipe(8); sets RC, OUT, ERR
deliver() {
    REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$1" -q "$3" -f bob@example.org -r "${4:-$ADDR}" \
        -c 192.0.2.10 <"$2" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}
# deferred - the details of the last deferral, as mail.log has them (the
# first line the sender reads is the generic text)
deferred() { printf '%s\n' "$ERR" | sed -n 's/.*status=deferred (\(.*\))$/\1/p' | tail -1; }
# hop FILE MX RECIPIENT - the message as pipe(8) on host MX hands it over:
# Postfix's Received, Delivered-To and X-Original-To of that hop on top
hop() {
    printf 'Return-Path: <bob@example.org>\nDelivered-To: %s\nX-Original-To: %s\n' "$3" "$3"
    printf 'Received: from mail.example.org (mail.example.org [192.0.2.10])\n\tby %s (Postfix) with ESMTPS id Q%s\n\tfor <%s>; Sat, 21 Nov 2026 15:13:01 +0000 (UTC)\n' \
        "$2" "$RANDOM" "$3"
    cat "$1"
}
# message FILE MESSAGE-ID BODY [DATE] [EXTRA HEADER]
message() {
    {
        printf 'From: Bob Example <bob@example.org>\nTo: %s\nSubject: Re: issue 13\n' "$ADDR"
        printf 'Date: %s\n' "${4:-Sat, 21 Nov 2026 15:13:00 +0000}"
        [ -n "$2" ] && printf 'Message-ID: <%s>\n' "$2"
        printf 'References: <%s>\n' "$(address i 13 5 | sed 's/@/.20261206T120000Z.8f3a@/')"
        [ -n "${5:-}" ] && printf '%s\n' "$5"
        printf 'Content-Type: text/plain; charset=utf-8\n\n%s\n' "$3"
    } >"$1"
}
count() { find "$SPOOL/$1" -type f ! -name '*.reason' 2>/dev/null | wc -l; }
q() { pg_value "$1"; }

# --- one e-mail, one row -----------------------------------------------------------
message "$T/one.eml" one@example.org "Ship it."
hop "$T/one.eml" mx1.example.com "$ADDR" >"$T/one-mx1-keyed.eml"
hop "$T/one.eml" mx1.example.com "$BARE" >"$T/one-mx1-bare.eml"
hop "$T/one.eml" mx2.example.com "$ADDR" >"$T/one-mx2-keyed.eml"
deliver "$CFG" "$T/one-mx1-keyed.eml" QKEYED
tap_is "keyed address: stored" "$RC/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'one@example.org'")" "0/1"
id=$(q "SELECT id FROM replygate.messages WHERE message_id = 'one@example.org'")
tap_is "the fingerprint is SPEC section 8's (tests/lib/fingerprint.py)" \
    "$(q "SELECT fingerprint FROM replygate.messages WHERE id = $id")" "$("$FP" <"$T/one.eml")"
deliver "$CFG" "$T/one-mx1-bare.eml" QBARE "$BARE"
tap_is "keyed + dedicated address: still one row" \
    "$RC/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'one@example.org'")" "0/1"
tap_like "dedicated address: logged status=duplicate with the row's id" "$ERR" \
    "^QBARE: message-id=<one@example.org>, key=i-13-5, source=to, reply=$id, attachments=0, status=duplicate$"
deliver "$CFG" "$T/one-mx2-keyed.eml" QMX2
tap_is "through a second MX host (other Received, Delivered-To): still one row" \
    "$RC/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'one@example.org'")" "0/1"
tap_is "both recipients are recorded, the view lists them" \
    "$(q "SELECT array_to_string(recipients, ' ') FROM replygate.processed_replies WHERE id = $id")" \
    "$ADDR $BARE"
tap_is "the view's recipient is the first that carried it" \
    "$(q "SELECT recipient FROM replygate.processed_replies WHERE id = $id")" "$ADDR"
tap_is "duplicates keep no spool copy: one in success/" "$(count success)" 1
message "$T/other.eml" one@example.org "A different reply that reuses the Message-ID."
deliver "$CFG" "$T/other.eml" QOTHER
tap_is "a different message reusing the Message-ID: its own row, not dropped" \
    "$RC/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'one@example.org'")" "0/2"
tap_is "... and it is what it says" \
    "$(q "SELECT reply_text FROM replygate.messages WHERE message_id = 'one@example.org' AND id <> $id")" \
    "A different reply that reuses the Message-ID."
deliver "$CFG" "$T/one-mx1-keyed.eml" QKEYED2
tap_is "the first one again: a duplicate" "$RC/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'one@example.org'")" "0/2"

# --- tombstones -----------------------------------------------------------------------
pg_psql -c "SELECT replygate.forget($id)" >/dev/null
deliver "$CFG" "$T/one-mx1-keyed.eml" QAGAIN
tap_is "after forget: a redelivery stores nothing, exit 0" \
    "$RC/$OUT/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'one@example.org'")" "0//1"
tap_like "after forget: logged as a duplicate of a tombstone" "$ERR" "status=duplicate \(deleted before: a tombstone\)$"
deliver "$CFG" "$T/one-mx1-bare.eml" QAGAIN2 "$BARE"
tap_is "after forget: nor through the other recipient" \
    "$RC/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'one@example.org'")" "0/1"

# --- a big redelivery is found before parsing -------------------------------------------
{ printf 'From: bob@example.org\nTo: %s\nSubject: big\nMessage-ID: <big@example.org>\n' "$ADDR"
  printf 'Content-Type: text/plain\n\n'; for i in $(seq 3000); do echo "line $i of a long reply"; done; } >"$T/big.eml"
deliver "$CFG" "$T/big.eml" QBIG1
tap_is "big message: stored, parsed" "$RC" 0
deliver "$CFG" "$T/big.eml" QBIG2
tap_like "big message again: a duplicate found before parsing" "$ERR" \
    "^QBIG2: message-id=<big@example.org>, reply=[0-9]+, status=duplicate \(found before parsing\)$"
tap_is "big message again: no spool copy, one row" \
    "$(find "$SPOOL" -type f -newer "$T/big.eml" | xargs -r grep -l 'line 2999' | wc -l)/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'big@example.org'")" "1/1"
deliver "$CFG" "$T/big.eml" QBIG3 "$BARE"
tap_like "big message to another recipient: parsed (that recipient is new)" "$ERR" \
    "QBIG3: message-id=<big@example.org>, key=i-13-5, .*status=duplicate$"

# --- dates -----------------------------------------------------------------------
message "$T/d1.eml" d1@example.org "A date at +2359." "Sat, 21 Nov 2026 15:13:00 +2359"
deliver "$CFG" "$T/d1.eml" QD1
tap_is "Date +2359: stored in UTC (was SQLSTATE 22009, deferred for five days)" \
    "$RC/$(q "SELECT to_char(date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM replygate.messages WHERE message_id = 'd1@example.org'")" \
    "0/2026-11-20 15:14"
message "$T/d2.eml" d2@example.org "A date past 9999 in UTC." "Fri, 31 Dec 9999 23:59:00 -2359"
deliver "$CFG" "$T/d2.eml" QD2
tap_is "Date past 9999 in UTC: stored without a date" \
    "$RC/$(q "SELECT coalesce(date::text, 'null') FROM replygate.messages WHERE message_id = 'd2@example.org'")" "0/null"
tap_like "... with a warning in mail.log" "$ERR" "warning: QD2: the Date header cannot be told in UTC"

# --- SQLSTATE classes 22 and 54: refused, kept -------------------------------------------
pg_psql -c "CREATE FUNCTION replygate.test_raise() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    IF NEW.subject LIKE 'raise %' THEN
        RAISE EXCEPTION 'raised by the test' USING ERRCODE = substr(NEW.subject, 7, 5);
    END IF;
    IF NEW.subject = 'sleep' THEN PERFORM pg_sleep(5); END IF;
    RETURN NEW;
END \$\$;
CREATE TRIGGER test_raise BEFORE INSERT ON replygate.messages
    FOR EACH ROW EXECUTE FUNCTION replygate.test_raise();" >/dev/null
for state in 22021 22P02 54000 54001; do
    sed "s/^Subject: .*/Subject: raise $state/; s/^Message-ID: .*/Message-ID: <raise-$state@example.org>/" \
        "$T/one.eml" >"$T/raise.eml"
    failures=$(count failure)
    deliver "$CFG" "$T/raise.eml" "QR$state"
    tap_is "SQLSTATE $state: refused permanently (65), not deferred" "$RC" 65
    tap_is "SQLSTATE $state: the sender reads a generic 5.6.0, no database words" "$OUT" \
        "5.6.0 the message cannot be stored"
    tap_is "SQLSTATE $state: kept in failure/" "$(count failure)" "$((failures + 1))"
    tap_like "SQLSTATE $state: the reason file has the details" \
        "$(cat "$(ls -t "$SPOOL"/failure/*.reason | head -1)")" "cannot store this message: .*SQLSTATE $state"
    tap_is "SQLSTATE $state: a refusal row with the generic text" \
        "$(q "SELECT concat_ws('|', stage, smtp_code, enhanced_code, reason, queue_id) FROM replygate.refusals ORDER BY id DESC LIMIT 1")" \
        "delivery|554|5.6.0|the message cannot be stored|QR$state"
done
sed "s/^Subject: .*/Subject: sleep/; s/^Message-ID: .*/Message-ID: <sleep@example.org>/" "$T/one.eml" >"$T/sleep.eml"
write_config "$T/slow.conf" "database_statement_timeout = 1s"
deliver "$T/slow.conf" "$T/sleep.eml" QSLOW
tap_like "database_statement_timeout: SET LOCAL cancels the statement, deferred 4.3.0 (57014)" \
    "$RC/$(deferred)" "^75/4\.3\.0 database: .*SQLSTATE 57014"
tap_is "  the sender reads the generic text" "$OUT" \
    "4.3.0 temporary problem at the receiving site, delivery deferred"
pg_psql -c "DROP TRIGGER test_raise ON replygate.messages; DROP FUNCTION replygate.test_raise()" >/dev/null
pg_psql -c "CREATE ROLE limited LOGIN CONNECTION LIMIT 0 IN ROLE replygate_writer" >/dev/null 2>&1 ||
    pg_psql -c "CREATE ROLE limited LOGIN CONNECTION LIMIT 0" >/dev/null
write_config "$T/limited.conf"
sed -i "s|^database = .*|database = host=$PG_DIR dbname=replygate user=limited|" "$T/limited.conf"
deliver "$T/limited.conf" "$T/d1.eml" QLIMIT
tap_like "too many clients: its own text, not \"database unreachable\"" "$RC/$(deferred)" \
    '^75/4\.3\.0 database has too many clients: FATAL: +too many connections for role "limited"$'

# --- after_queue_refusal -------------------------------------------------------------------
"/usr/bin/python3" "$SRC/tests/app/workers.py" listen "$PG_CONNINFO" replygate_refusal 300 >"$T/notify" &
BG+=($!)
for _ in $(seq 100); do grep -q listening "$T/notify" && break; sleep 0.1; done
message "$T/empty.eml" empty@example.org "> only the quote"
before=$(q "SELECT count(*) FROM replygate.refusals")
deliver "$CFG" "$T/empty.eml" QBOUNCE
tap_is "bounce (default): exit 65 with 5.6.0, Postfix bounces" "$RC/${OUT%%:*}" "65/5.6.0 the reply is empty"
r1=$(q "SELECT id FROM replygate.refusals ORDER BY id DESC LIMIT 1")
tap_is "bounce: the refusal row as well" \
    "$(q "SELECT concat_ws('|', stage, smtp_code, enhanced_code, reason, sender, recipient, from_address, kind, target, \"user\", message_id, client_address, queue_id) FROM replygate.refused_replies WHERE id = $r1")" \
    "delivery|554|5.6.0|the reply is empty: write above the quoted text|bob@example.org|$ADDR|bob@example.org|i|13|5|empty@example.org|192.0.2.10|QBOUNCE"
write_config "$T/keep.conf" "after_queue_refusal = keep"
failures=$(count failure)
deliver "$T/keep.conf" "$T/empty.eml" QKEEP
tap_is "keep: exit 0 and nothing on stdout: no bounce to a sender who may be forged" "$RC/$OUT" "0/"
tap_is "keep: the message is kept in failure/ with its reason" "$(count failure)" "$((failures + 1))"
tap_like "keep: the reason" "$(cat "$(ls -t "$SPOOL"/failure/*.reason | head -1)")" "^5\.6\.0 the reply is empty"
tap_like "keep: mail.log says kept" "$ERR" "^QKEEP: message-id=<empty@example.org>, key=i-13-5, .*status=kept \(5\.6\.0 the reply is empty"
r2=$(q "SELECT id FROM replygate.refusals ORDER BY id DESC LIMIT 1")
tap_is "keep: the refusal row for the application" \
    "$(q "SELECT concat_ws('|', stage, enhanced_code, queue_id) FROM replygate.refused_replies WHERE id = $r2")" \
    "delivery|5.6.0|QKEEP"
message "$T/nokey.eml" nokey@example.org "To nobody."
sed -i "s/^To: .*/To: someone@example.org/; /^References:/d" "$T/nokey.eml"
deliver "$T/keep.conf" "$T/nokey.eml" QKEEP2 "reply+i-1-0000000000000000000000000000000000000000-5@reply.example.com"
tap_is "keep: no valid key, exit 0 too" "$RC/$OUT" "0/"
tap_is "keep: its row has no key" \
    "$(q "SELECT concat_ws('|', enhanced_code, coalesce(kind, 'null'), smtp_code) FROM replygate.refused_replies ORDER BY id DESC LIMIT 1")" \
    "5.1.1|null|550"
for _ in $(seq 50); do [ "$(grep -c '^[0-9]' "$T/notify")" -ge 3 ] && break; sleep 0.1; done
tap_is "NOTIFY replygate_refusal carries each refusal's id" \
    "$(grep '^[0-9]' "$T/notify" | tail -3 | tr '\n' ' ')" \
    "$r1 $r2 $(q "SELECT max(id) FROM replygate.refusals") "
# keep, and the refusal cannot be written: defer, no copy kept
pg_psql -c "REVOKE EXECUTE ON FUNCTION replygate.record_refusal(text,integer,text,text,text,text,text,text,numeric,numeric,text,text,text,text) FROM PUBLIC" >/dev/null
pg_psql -c "CREATE ROLE norefusal LOGIN; GRANT USAGE ON SCHEMA replygate TO norefusal" >/dev/null
write_config "$T/keep-nodb.conf" "after_queue_refusal = keep"
sed -i "s|^database = .*|database = host=$PG_DIR dbname=replygate user=norefusal|" "$T/keep-nodb.conf"
failures=$(count failure)
deliver "$T/keep-nodb.conf" "$T/empty.eml" QKEEP3
tap_like "keep, refusal not writable: deferred, since nobody would hear of it" "$RC/$(deferred)" \
    '^75/4\.3\.5 database: .*permission denied for function record_refusal'
tap_is "keep, refusal not writable: no copy left in failure/" "$(count failure)" "$failures"
write_config "$T/bounce-nodb.conf"
sed -i "s|^database = .*|database = host=$PG_DIR dbname=replygate user=norefusal|" "$T/bounce-nodb.conf"
deliver "$T/bounce-nodb.conf" "$T/empty.eml" QBOUNCE2
tap_is "bounce, refusal not writable: still refused (65), never deferred for a log row" \
    "$RC/$(count failure)" "65/$((failures + 1))"
tap_like "bounce, refusal not writable: mail.log says so" "$ERR" \
    "warning: QBOUNCE2: the refusal is not in the database: .*permission denied"

# --- spool_keep_success = 0 ------------------------------------------------------------
write_config "$T/nocopy.conf" "spool_keep_success = 0"
message "$T/nocopy.eml" nocopy@example.org "No copy of me on disk."
before=$(count success)
deliver "$T/nocopy.conf" "$T/nocopy.eml" QNOCOPY
tap_is "spool_keep_success = 0: stored" "$RC/$(q "SELECT count(*) FROM replygate.messages WHERE message_id = 'nocopy@example.org'")" "0/1"
tap_is "spool_keep_success = 0: no copy in success/ or new/" "$(count success)/$(count new)" "$before/0"
tap_like "spool_keep_success = 0: the processor log says it was removed" "$(tail -1 "$PLOG")" \
    "Removed $SPOOL/new/[^ ]+ \(spool_keep_success = 0\)$"

# --- test-email's mark ----------------------------------------------------------------------
stem="1700000000.0000002a"
mac=$(printf 'replygate-test\0%s\0%s' "$stem" mx.example.com | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.*= *//' | cut -c1-40)
message "$T/test.eml" "replygate-test.$stem.$mac@mx.example.com" "This is a test reply."
deliver "$CFG" "$T/test.eml" QTEST
tap_is "a marked test message: stored with is_test" \
    "$RC/$(q "SELECT is_test FROM replygate.messages WHERE message_id LIKE 'replygate-test.%'")" "0/t"
tap_is "a marked test message: not in processed_replies" \
    "$(q "SELECT count(*) FROM replygate.processed_replies WHERE message_id LIKE 'replygate-test.%'")" 0
message "$T/forged.eml" "replygate-test.$stem.0000000000000000000000000000000000000000@mx.example.com" "Hide me."
deliver "$CFG" "$T/forged.eml" QFORGED
tap_is "a forged mark (wrong mac): a reply like any other" \
    "$RC/$(q "SELECT count(*) FROM replygate.processed_replies WHERE message_id LIKE 'replygate-test.$stem.0000%'")" "0/1"

# --- the server's own "too many clients" (max_connections, last) --------------------------
# Two slots for ordinary roles: two idle sessions fill them, and the agent
# (an ordinary role) gets PostgreSQL's "remaining connection slots are
# reserved" at connect time, with no SQLSTATE to go by.
for p in "${BG[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done  # the listener
BG=()
pg_psql -c "ALTER SYSTEM SET max_connections = 5" -c "ALTER SYSTEM SET superuser_reserved_connections = 3" >/dev/null
pg_stop && pg_restart || tap_bail "PostgreSQL did not restart"
pg_psql -c "CREATE ROLE ordinary LOGIN SUPERUSER" -c "ALTER ROLE ordinary NOSUPERUSER" >/dev/null 2>&1 ||
    pg_psql -c "CREATE ROLE ordinary LOGIN" >/dev/null
# The sessions live until the test ends (pg_cleanup stops their backends),
# and the agent runs only once both hold their slots.
for i in 1 2; do
    # A connection of ours that polls below takes a slot for a moment, and
    # may turn a session away: each tries again, a bounded number of times.
    (
        for _ in $(seq 100); do
            "$PG_BIN/psql" -X -q "host=$PG_DIR dbname=replygate user=ordinary" \
                -c "SELECT pg_sleep(600)" >/dev/null 2>>"$T/ordinary$i.err" && break
            sleep 0.2
        done
    ) &
    BG+=($!)
done
for _ in $(seq 600); do
    [ "$(pg_value "SELECT count(*) FROM pg_stat_activity WHERE usename = 'ordinary'")" = 2 ] && break
    sleep 0.1
done
held=$(pg_value "SELECT count(*) FROM pg_stat_activity WHERE usename = 'ordinary'")
tap_is "max_connections reached: both ordinary slots are taken" "$held" 2
[ "$held" = 2 ] || { cat "$T"/ordinary*.err
    pg_value "SELECT string_agg(coalesce(usename, backend_type), ', ') FROM pg_stat_activity"; } | sed 's/^/# /'
write_config "$T/ordinary.conf"
sed -i "s|^database = .*|database = host=$PG_DIR dbname=replygate user=ordinary|" "$T/ordinary.conf"
deliver "$T/ordinary.conf" "$T/d1.eml" QSLOTS
tap_like "max_connections reached: \"too many clients\", from the server's words" "$RC/$(deferred)" \
    '^75/4\.3\.0 database has too many clients: FATAL: +remaining connection slots are reserved'

tap_done
