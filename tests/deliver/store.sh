#!/bin/bash
# store.sh - replygate-deliver against a real PostgreSQL (issue 3, SPEC 5, 6, 8).
#
# Starts a throwaway PostgreSQL (tests/lib/pg.sh), migrates it, and delivers
# messages the way pipe(8) does: message on stdin, -q -f -r -c on the command
# line. Checks the exit status and first line of every outcome of SPEC
# section 5, the stored row and attachment bytes, exactly-once storage, the
# NOTIFY, the spool folders, the processor log and the mail.log line (copied
# to stderr with REPLYGATE_LOG_STDERR=1), and that migrate twice changes nothing.
#
# Environment: RG_DELIVER (the agent), RG_CLI (replygate), RG_SRC (source tree).
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${RG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DELIVER=${RG_DELIVER:-$SRC/build/pipe-agent/replygate-deliver}
CLI=${RG_CLI:-$SRC/build/cli/replygate}
. "$SRC/tests/lib/tap.sh"
. "$SRC/tests/lib/pg.sh"

T=$(mktemp -d /tmp/rg-store.XXXXXX) || tap_bail "mktemp failed"
FULL_MOUNTED=
cleanup() {
    [ -n "$FULL_MOUNTED" ] && umount "$T/full"
    pg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT

pg_start || tap_bail "cannot start PostgreSQL"

SECRET=0123456789abcdef0123456789abcdef-store-test
printf '%s\n' "$SECRET" >"$T/secrets"
chmod 600 "$T/secrets"
mkdir -p "$T/log"
SPOOL=$T/spool
PLOG=$T/log/replygate.log

# write_config FILE [EXTRA LINES...] - a configuration for this test
write_config() {
    local file=$1 line
    shift
    {
        echo "reply_domain = reply.example.com"
        echo "secrets_file = $T/secrets"
        echo "database = $PG_CONNINFO"
        echo "spool_directory = $SPOOL"
        echo "processor_log = $PLOG"
        echo "max_message_size = 100000"
        for line in "$@"; do echo "$line"; done
    } >"$file"
}
CFG=$T/replygate.conf
write_config "$CFG"

# address KIND TARGET USER - a signed reply address, the mac from openssl itself
address() {
    local mac
    mac=$(printf '%s' "$1-$2-$3" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.*= *//' | cut -c1-40)
    echo "reply+$1-$2-$mac-$3@reply.example.com"
}
ADDR=$(address i 1 5)
# trace_mac QUEUE VERSION CIPHER BITS - the mac of a signed X-Replygate-TLS header
# (lib/trace.h): HMAC-SHA256 over the NUL-separated fields, from openssl itself
trace_mac() {
    printf 'X-Replygate-TLS\0%s\0%s\0%s\0%s' "$@" | openssl dgst -sha256 -hmac "$SECRET" |
        sed 's/.*= *//' | cut -c1-40
}

# deliver CONFIG MESSAGE-FILE QUEUE-ID [RECIPIENT] [SENDER] - run the agent
# like pipe(8); sets RC, OUT (stdout), ERR (stderr: the mail.log lines)
deliver() {
    local cfg=$1 msg=$2 qid=$3 rcpt=${4:-$ADDR} sender=${5-bob@example.org}
    REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$cfg" -q "$qid" -f "$sender" -r "$rcpt" \
        -c 192.0.2.10 <"$msg" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

# count FOLDER - the messages in a spool folder (not the .reason files)
count() { find "$SPOOL/$1" -type f ! -name '*.reason' 2>/dev/null | wc -l; }
# rows - the stored messages
rows() { pg_value "SELECT count(*) FROM replygate.messages"; }
# schema_dump - the schema, without pg_dump's random \restrict key
schema_dump() { "$PG_BIN/pg_dump" -s "$PG_CONNINFO" | grep -v '^\\\(un\)\?restrict' | md5sum; }

# message FILE MESSAGE-ID SUBJECT BODY [EXTRA HEADER LINE] - a plain reply
message() {
    local file=$1 mid=$2 subject=$3 body=$4 extra=${5:-}
    {
        printf 'From: Bob Example <bob@example.org>\n'
        printf 'To: %s\n' "$ADDR"
        printf 'Subject: %s\n' "$subject"
        printf 'Date: Sat, 21 Nov 2026 15:13:00 +0000\n'
        [ -n "$mid" ] && printf 'Message-ID: <%s>\n' "$mid"
        printf 'In-Reply-To: <issue-1@app.example.com>\n'
        printf 'MIME-Version: 1.0\n'
        [ -n "$extra" ] && printf '%s\n' "$extra"
        printf 'Content-Type: text/plain; charset=utf-8\n\n%s\n' "$body"
    } >"$file"
}

# --- migrate -----------------------------------------------------------------
out=$("$CLI" migrate --config "$CFG" 2>&1); rc=$?
tap_is "migrate: exit 0" "$rc" 0
tap_like "migrate: says what it applied" "$out" "^applied 0001_init\.sql"
dump1=$(schema_dump)
n1=$(pg_value "SELECT count(*) FROM replygate.schema_migrations")
out=$("$CLI" migrate --config "$CFG" 2>&1); rc=$?
dump2=$(schema_dump)
n2=$(pg_value "SELECT count(*) FROM replygate.schema_migrations")
tap_is "migrate twice: exit 0" "$rc" 0
tap_like "migrate twice: nothing to apply" "$out" "^nothing to apply"
tap_is "migrate twice: schema unchanged" "$dump2" "$dump1"
tap_is "migrate twice: schema_migrations unchanged" "$n2" "$n1"
REPLYGATE_SQL_DIR=$T/nowhere "$CLI" migrate --config "$CFG" >/dev/null 2>&1
tap_is "migrate: a missing sql dir is an error" "$?" 78
# Two hosts installing at once: the advisory lock lets one apply, the other
# then finds nothing to do.
pg_value "CREATE DATABASE parallel" >/dev/null
for i in 1 2 3; do
    "$CLI" migrate --database "host=$PG_DIR dbname=parallel user=postgres" >"$T/par$i.out" 2>&1 &
done
par_rcs=
for job in $(jobs -p); do wait "$job"; par_rcs="$par_rcs$?"; done
tap_is "migrate in parallel: all exit 0" "$par_rcs" 000
tap_is "migrate in parallel: applied once" "$(cat "$T"/par*.out | grep -c '^applied 0001_init.sql')" 1

# --- a reply with an attachment is stored --------------------------------------
head -c 3000 /dev/urandom >"$T/blob.bin"
printf '\0\r\n\377' >>"$T/blob.bin"
{
    printf 'Received: from mail.example.org (mail.example.org [192.0.2.10])\n'
    printf '\tby mx.example.com (Postfix) with ESMTPS id ED4DD1041E2\n'
    printf '\tfor <%s>; Sat, 21 Nov 2026 15:13:01 +0000 (UTC)\n' "$ADDR"
    printf 'X-Replygate-TLS: version=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; queue=ED4DD1041E2; mac=%s\n' \
        "$(trace_mac ED4DD1041E2 TLSv1.3 TLS_AES_256_GCM_SHA384 256)"
    printf 'From: Bob Example <bob@example.org>\n'
    printf 'To: %s\n' "$ADDR"
    printf "Subject: Re: [app] Issue #1 '); DROP TABLE replygate.messages; --\n"
    printf 'Date: Sat, 21 Nov 2026 15:13:00 +0000\n'
    printf 'Message-ID: <m1@example.org>\n'
    printf 'In-Reply-To: <issue-1@app.example.com>\n'
    printf 'References: <issue-1@app.example.com>\n'
    printf 'MIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="b1"\n\n'
    printf -- '--b1\nContent-Type: text/plain; charset=utf-8\n\n'
    printf 'Looks good to me, ship it.\n\n> the quoted notification\n'
    printf -- '--b1\nContent-Type: application/octet-stream; name="blob.bin"\n'
    printf 'Content-Disposition: attachment; filename="blob.bin"\n'
    printf 'Content-Transfer-Encoding: base64\n\n'
    base64 "$T/blob.bin"
    printf -- '--b1--\n'
} >"$T/m1.eml"
deliver "$CFG" "$T/m1.eml" ED4DD1041E2
tap_is "stored: exit 0" "$RC" 0
tap_is "stored: nothing on stdout" "$OUT" ""
tap_is "stored: one row" "$(rows)" 1
row=$(pg_value "SELECT concat_ws('|', kind, target, \"user\", source, sender, recipient, queue_id,
    client_address, tls_version, tls_cipher, message_id, from_name, from_address, in_reply_to,
    attachment_count) FROM replygate.processed_replies")
tap_is "stored: row fields" "$row" \
    "i|1|5|envelope|bob@example.org|$ADDR|ED4DD1041E2|192.0.2.10|TLSv1.3|TLS_AES_256_GCM_SHA384|m1@example.org|Bob Example|bob@example.org|issue-1@app.example.com|1"
tap_is "stored: subject verbatim" \
    "$(pg_value "SELECT subject FROM replygate.messages")" \
    "Re: [app] Issue #1 '); DROP TABLE replygate.messages; --"
tap_is "stored: reply_text" "$(pg_value "SELECT reply_text FROM replygate.messages")" \
    "Looks good to me, ship it."
tap_like "stored: body_text has the quote" "$(pg_value "SELECT body_text FROM replygate.messages")" \
    "the quoted notification"
tap_like "stored: quoted_text has the quote" "$(pg_value "SELECT quoted_text FROM replygate.messages")" \
    "the quoted notification"
tap_is "stored: date" "$(pg_value "SELECT date AT TIME ZONE 'UTC' FROM replygate.messages")" \
    "2026-11-21 15:13:00"
tap_is "stored: references" "$(pg_value "SELECT message_references FROM replygate.messages")" \
    "{issue-1@app.example.com}"
tap_is "stored: tls_bits" "$(pg_value "SELECT tls_bits FROM replygate.messages")" 256
tap_is "stored: raw size and sha256" \
    "$(pg_value "SELECT raw_size || ' ' || raw_sha256 FROM replygate.messages")" \
    "$(stat -c %s "$T/m1.eml") $(sha256sum "$T/m1.eml" | cut -c1-64)"
tap_is "stored: committed_at >= received_at" \
    "$(pg_value "SELECT committed_at >= received_at FROM replygate.messages")" t
want_hex=$(od -An -tx1 -v "$T/blob.bin" | tr -d ' \n')
got_hex=$(pg_value "SELECT encode(data, 'hex') FROM replygate.attachments" | tr -d '\n')
tap_is "attachment: bytes come back byte for byte" "$got_hex" "$want_hex"
tap_is "attachment: size, sha256, name, type, inline" \
    "$(pg_value "SELECT concat_ws('|', size, sha256, filename, content_type, inline) FROM replygate.attachments")" \
    "$(stat -c %s "$T/blob.bin")|$(sha256sum "$T/blob.bin" | cut -c1-64)|blob.bin|application/octet-stream|f"
tap_is "spool: the raw message is in success/" "$(count success)" 1
tap_check "spool: the success/ copy is the message byte for byte" \
    cmp -s "$T/m1.eml" "$(find "$SPOOL/success" -type f | head -1)"
tap_is "spool: new/ and tmp/ are empty" "$(count new)$(count tmp)" 00
tap_like "spool: maildir name time.VdevIinoMusec.host" "$(ls "$SPOOL/success")" \
    '^[0-9]+\.V[0-9a-f]+I[0-9a-f]+M[0-9]{6}\.[^/]+$'
tap_is "spool: the file is not readable by others" \
    "$(( 0$(stat -c %a "$(find "$SPOOL/success" -type f | head -1)") & 7 ))" 0
id1=$(pg_value "SELECT id FROM replygate.messages")
tap_like "mail.log: the stored line" "$ERR" \
    "^ED4DD1041E2: message-id=<m1@example.org>, key=i-1-5, source=envelope, reply=$id1, attachments=1, status=stored$"
stamp='^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}'
plog=$(cat "$PLOG")
tap_like "processor log: processing" "$plog" \
    "$stamp INFO \([0-9]+\) \(ED4DD1041E2\) #\] replygate: processing <m1@example.org>$"
tap_like "processor log: Matched" "$plog" \
    "$stamp DEBUG \([0-9]+\) \(ED4DD1041E2\) #\] Matched $SPOOL/new/[0-9]+\.V[0-9a-f]+I"
tap_like "processor log: Moving => success" "$plog" \
    "$stamp DEBUG \([0-9]+\) \(ED4DD1041E2\) #\] Moving $SPOOL/new/[^ ]+ => $SPOOL/success$"

# --- the same message again stores nothing ---------------------------------------
# (Another queue id: a second MX host, or another transaction. Out of the
# same queue file it would not even be parsed again: limits.sh.)
deliver "$CFG" "$T/m1.eml" ED4DD1041E3
tap_is "second delivery: exit 0" "$RC" 0
tap_is "second delivery: nothing on stdout" "$OUT" ""
tap_is "second delivery: still one row" "$(rows)" 1
tap_is "second delivery: still one attachment" \
    "$(pg_value "SELECT count(*) FROM replygate.attachments")" 1
tap_like "second delivery: mail.log says duplicate" "$ERR" \
    "reply=$id1, attachments=1, status=duplicate$"
# The same Message-ID to another recipient is another reply.
deliver "$CFG" "$T/m1.eml" Q2 "$(address i 1 6)"
tap_is "same Message-ID, other recipient: stored" "$RC/$(rows)" "0/2"
# Relays may fold the case of the recipient: still the same reply.
deliver "$CFG" "$T/m1.eml" Q2 "$(echo "$ADDR" | tr a-z A-Z)"
tap_is "same Message-ID, recipient in upper case: nothing new" "$RC/$(rows)" "0/2"
# Postfix routes user@domain. as user@domain: the same recipient, not a second row.
deliver "$CFG" "$T/m1.eml" Q2 "$ADDR."
tap_is "same Message-ID, recipient with a trailing dot: nothing new" "$RC/$(rows)" "0/2"

# --- concurrent deliveries: the same message ten times at once is one row ------------------
message "$T/race.eml" "race@example.org" "race" "Delivered by two MX hosts at once."
race_pids=()
for i in $(seq 10); do
    REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$CFG" -q "QRACE$i" -f bob@example.org -r "$ADDR" \
        <"$T/race.eml" >"$T/race$i.out" 2>"$T/race$i.err" &
    race_pids+=($!) # not `jobs -p`: a job that has already ended may be missing from it
done
race_rcs=
for pid in "${race_pids[@]}"; do wait "$pid"; race_rcs="$race_rcs$?"; done
tap_is "concurrent: all ten exit 0" "$race_rcs" 0000000000
tap_is "concurrent: one row" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'race@example.org'")" 1
tap_is "concurrent: one stored, nine duplicates" \
    "$(cat "$T"/race*.err | grep -c 'status=stored$')/$(cat "$T"/race*.err | grep -c 'status=duplicate$')" "1/9"
# Text that is not UTF-8 (an 8-bit envelope sender) is stored with replacements.
message "$T/latin.eml" "latin@example.org" "latin" "Envelope in Latin-1."
deliver "$CFG" "$T/latin.eml" QLATIN "$ADDR" "$(printf 'b\351b@example.org')"
tap_is "8-bit sender: stored" "$RC" 0
tap_is "8-bit sender: replaced, valid UTF-8" \
    "$(pg_value "SELECT sender FROM replygate.messages WHERE message_id = 'latin@example.org'")" \
    "b�b@example.org"
# An 8-bit envelope recipient (the key in To:): the second delivery looked
# for the stored row with the raw bytes, failed with SQLSTATE 22021 and
# deferred a reply that was stored already.
message "$T/latin-rcpt.eml" "latin-rcpt@example.org" "latin rcpt" "Recipient in Latin-1."
deliver "$CFG" "$T/latin-rcpt.eml" QLATIN2 "$(printf 'caf\351@reply.example.com')"
tap_is "8-bit recipient: stored" "$RC" 0
deliver "$CFG" "$T/latin-rcpt.eml" QLATIN2 "$(printf 'caf\351@reply.example.com')"
tap_is "8-bit recipient: the second delivery is a duplicate, not deferred" "$RC/$OUT" "0/"
tap_is "8-bit recipient: one row" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'latin-rcpt@example.org'")" 1

# --- many attachments: up to 32 in the one statement, more the long way ------------------
# many_attachments FILE MESSAGE-ID N - a reply with N small attachments
many_attachments() {
    local file=$1 mid=$2 n=$3 i
    {
        printf 'From: bob@example.org\nTo: %s\nSubject: %s attachments\n' "$ADDR" "$n"
        printf 'Message-ID: <%s>\nMIME-Version: 1.0\n' "$mid"
        printf 'Content-Type: multipart/mixed; boundary="bb"\n\n'
        printf -- '--bb\nContent-Type: text/plain\n\nSee the files.\n'
        for i in $(seq "$n"); do
            printf -- '--bb\nContent-Type: text/plain; name="f%d.txt"\n' "$i"
            printf 'Content-Disposition: attachment; filename="f%d.txt"\n\nfile %d\n' "$i" "$i"
        done
        printf -- '--bb--\n'
    } >"$file"
}
for n in 3 40; do
    many_attachments "$T/many$n.eml" "many$n@example.org" "$n"
    deliver "$CFG" "$T/many$n.eml" "QM$n"
    tap_is "$n attachments: exit 0" "$RC" 0
    tap_is "$n attachments: stored in order with their bytes" \
        "$(pg_value "SELECT string_agg(a.position || '=' || a.filename || ':' || convert_from(a.data, 'UTF8'), ',' ORDER BY a.position)
                     FROM replygate.attachments a JOIN replygate.messages m ON m.id = a.reply_id
                    WHERE m.message_id = 'many$n@example.org'")" \
        "$(for i in $(seq "$n"); do printf '%d=f%d.txt:file %d,' "$i" "$i" "$i"; done | sed 's/,$//')"
    deliver "$CFG" "$T/many$n.eml" "QM$n"
    tap_is "$n attachments: a second delivery adds none" \
        "$RC/$(pg_value "SELECT count(*) FROM replygate.attachments a JOIN replygate.messages m ON m.id = a.reply_id WHERE m.message_id = 'many$n@example.org'")" \
        "0/$n"
done

# --- a message without a Message-ID is keyed by its fingerprint ----------------------
message "$T/nomid.eml" "" "no id" "A reply without a Message-ID."
deliver "$CFG" "$T/nomid.eml" Q3
tap_is "no Message-ID: exit 0" "$RC" 0
tap_is "no Message-ID: keyed by the fingerprint (SPEC section 8, computed by tests/lib/fingerprint.py)" \
    "$(pg_value "SELECT message_id || ' ' || fingerprint FROM replygate.messages WHERE subject = 'no id'")" \
    "sha256:$("$SRC/tests/lib/fingerprint.py" <"$T/nomid.eml") $("$SRC/tests/lib/fingerprint.py" <"$T/nomid.eml")"
deliver "$CFG" "$T/nomid.eml" Q3
tap_is "no Message-ID: a second delivery stores nothing" \
    "$RC/$(pg_value "SELECT count(*) FROM replygate.messages WHERE subject = 'no id'")" "0/1"

# A Message-ID too long for the unique index (random, so it does not compress)
# used to fail the INSERT with SQLSTATE 54000 and defer on every retry.
message "$T/longmid.eml" "$(head -c 6000 /dev/urandom | base64 -w0 | tr -d '+/=')@example.org" \
    "long id" "A reply with an 8 KB Message-ID."
deliver "$CFG" "$T/longmid.eml" QLONG
tap_is "Message-ID over 998 bytes: stored, not deferred" "$RC/$OUT" "0/"
tap_is "Message-ID over 998 bytes: keyed by the fingerprint" \
    "$(pg_value "SELECT message_id || ' ' || message_id_hashed FROM replygate.messages WHERE subject = 'long id'")" \
    "sha256:$("$SRC/tests/lib/fingerprint.py" <"$T/longmid.eml") true"
deliver "$CFG" "$T/longmid.eml" QLONG
tap_is "Message-ID over 998 bytes: a second delivery stores nothing" \
    "$RC/$(pg_value "SELECT count(*) FROM replygate.messages WHERE subject = 'long id'")" "0/1"

# --- the NOTIFY ----------------------------------------------------------------------
rm -f "$T/go"
{
    echo "LISTEN replygate_reply;"
    for _ in $(seq 300); do [ -e "$T/go" ] && break; sleep 0.1; done
    echo "SELECT 1;"
} | "$PG_BIN/psql" -X -q "$PG_CONNINFO" >"$T/listen.out" 2>&1 &
listener=$!
for _ in $(seq 100); do
    [ "$(pg_value "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")" = 1 ] && break
    sleep 0.1
done
message "$T/n.eml" "notify@example.org" "notify" "A reply someone listens for."
deliver "$CFG" "$T/n.eml" Q4
idn=$(pg_value "SELECT id FROM replygate.messages WHERE message_id = 'notify@example.org'")
touch "$T/go"
wait "$listener"
tap_like "NOTIFY: the listener gets replygate_reply with the id" "$(cat "$T/listen.out")" \
    "notification \"replygate_reply\" with payload \"$idn\" received"

# --- dry-run writes nothing ------------------------------------------------------------
message "$T/dry.eml" "dry@example.org" "dry" "Only looking."
before="$(rows) $(count success) $(count failure) $(wc -c <"$PLOG")"
"$DELIVER" --config "$CFG" --dry-run -q Q5 -f bob@example.org -r "$ADDR" \
    <"$T/dry.eml" >"$T/out" 2>"$T/err"
rc=$?
tap_is "dry-run: exit 0" "$rc" 0
tap_like "dry-run: one JSON object with exit 0" "$(cat "$T/out")" '^\{.*"exit": ?0 ?\}$'
tap_is "dry-run: no row, no spool file, no log line" \
    "$(rows) $(count success) $(count failure) $(wc -c <"$PLOG")" "$before"
{ printf 'From: a@example.org\nSubject: big\n\n'; head -c 120000 /dev/zero | tr '\0' 'x'; echo; } >"$T/big.eml"
"$DELIVER" --config "$CFG" --dry-run -f bob@example.org -r "$ADDR" <"$T/big.eml" >"$T/out" 2>&1
rc=$?
tap_is "dry-run: too big exits 65" "$rc" 65
tap_like "dry-run: too big says 5.3.4" "$(cat "$T/out")" '"status": ?"5\.3\.4 message too big"'
"$DELIVER" --config "$T/missing.conf" --dry-run -f bob@example.org -r "$ADDR" <"$T/dry.eml" >"$T/out" 2>&1
rc=$?
tap_is "dry-run: a broken configuration exits 75" "$rc" 75
tap_like "dry-run: a broken configuration says 4.3.5" "$(cat "$T/out")" '"status": ?"4\.3\.5 '

# --- permanent failures land in failure/ with the reason ------------------------------
# check_reject LABEL FILE EXIT DSN-REGEX [RECIPIENT] [SENDER]
check_reject() {
    local label=$1 file=$2 want_rc=$3 want_dsn=$4 rcpt=${5:-$ADDR} sender=${6-bob@example.org}
    local rows_before failures_before reason
    rows_before=$(rows)
    failures_before=$(count failure)
    deliver "$CFG" "$file" "QR$TAP_N" "$rcpt" "$sender"
    tap_is "$label: exit $want_rc" "$RC" "$want_rc"
    tap_like "$label: first line" "$(printf '%s\n' "$OUT" | head -1)" "$want_dsn"
    tap_is "$label: kept in failure/, nothing stored" \
        "$(count failure) $(rows) $(count new)" "$((failures_before + 1)) $rows_before 0"
    reason=$(cat "$(ls -t "$SPOOL"/failure/*.reason | head -1)")
    tap_like "$label: the reason beside it" "$reason" "$want_dsn"
    tap_like "$label: mail.log says rejected" "$ERR" "status=rejected \(${want_dsn#^}"
    tap_like "$label: processor log moves it to failure/" "$(tail -2 "$PLOG" | head -1)" \
        "Moving $SPOOL/new/[^ ]+ => $SPOOL/failure$"
    tap_like "$label: a refusal row, stage delivery, with the queue id (after_queue_refusal = bounce)" \
        "$(pg_value "SELECT concat_ws('|', stage, enhanced_code || ' ' || reason, sender, queue_id) FROM replygate.refusals ORDER BY id DESC LIMIT 1")" \
        "^delivery\|${want_dsn#^}.*\|${sender//./\\.}\|QR[0-9]+$"
    tap_like "$label: the processor log names the refusal row" "$(tail -1 "$PLOG")" \
        "Refusal [0-9]+: ${want_dsn#^}"
}
printf '\nthis is no message at all\nand it has no header either\n' >"$T/garbage.eml"
check_reject "unparsable" "$T/garbage.eml" 65 '^5\.6\.0 '
check_reject "empty input" /dev/null 65 '^5\.6\.0 '
message "$T/empty.eml" "empty@example.org" "empty" "> only the quote
> of the notification"
check_reject "empty reply" "$T/empty.eml" 65 '^5\.6\.0 the reply is empty'
message "$T/nokey.eml" "nokey@example.org" "no key" "A reply to a forged address."
sed -i "s/^To: .*/To: someone@example.org/" "$T/nokey.eml"
check_reject "no valid key" "$T/nokey.eml" 67 '^5\.1\.1 ' \
    "reply+i-1-0000000000000000000000000000000000000000-5@reply.example.com"
message "$T/auto.eml" "auto@example.org" "Out of office" "I am away." "Auto-Submitted: auto-replied"
check_reject "auto-submitted" "$T/auto.eml" 77 '^5\.7\.1 '
message "$T/bounce.eml" "bounce@example.org" "Undelivered" "A bounce."
check_reject "null sender" "$T/bounce.eml" 77 '^5\.7\.1 ' "$ADDR" ""
check_reject "over max_message_size" "$T/big.eml" 65 '^5\.3\.4 message too big'
tap_is "over max_message_size: failure/ keeps the first max_message_size bytes" \
    "$(stat -c %s "$(ls -t "$SPOOL"/failure/* | grep -v '\.reason$' | head -1)")" 100000

# --- temporary failures defer and keep no spool copy ---------------------------------------
# The first line (the text a sender sees in a delay notice) is generic; the
# details, which name paths, database errors and file modes, go only to
# mail.log and the processor log (issue 13 item 7).
# check_defer LABEL CONFIG FILE DETAIL-REGEX (^4.3.x ...: the code, then the details)
check_defer() {
    local label=$1 cfg=$2 file=$3 want_dsn=$4 before code generic
    before="$(count success) $(count failure) $(count new) $(count tmp)"
    deliver "$cfg" "$file" "QD$TAP_N"
    code=$(printf '%s' "$want_dsn" | sed -E 's/^\^?(4\\?\.3\\?\.[0-9]).*/\1/; s/\\//g')
    generic="$code temporary problem at the receiving site, delivery deferred"
    [ "$code" = 4.3.5 ] && generic="4.3.5 configuration problem at the receiving site, delivery deferred"
    tap_is "$label: exit 75" "$RC" 75
    tap_is "$label: first line is generic" "$(printf '%s\n' "$OUT" | head -1)" "$generic"
    tap_like "$label: mail.log has the details" "$ERR" "status=deferred \(${want_dsn#^}"
    tap_is "$label: the spool holds no copy" \
        "$(count success) $(count failure) $(count new) $(count tmp)" "$before"
}
message "$T/later.eml" "later@example.org" "later" "Stored once the database is back."
pg_stop
check_defer "database stopped" "$CFG" "$T/later.eml" '^4\.3\.0 database unreachable'
pg_restart || tap_bail "PostgreSQL did not restart"
deliver "$CFG" "$T/later.eml" QLATER
tap_is "database back: the retry is stored once" \
    "$RC/$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'later@example.org'")" "0/1"

# Errors the server raises in the middle of the transaction: a test trigger
# raises the SQLSTATE named in the subject ("raise 40001").
pg_psql -c "CREATE FUNCTION replygate.test_raise() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    IF NEW.subject LIKE 'raise %' THEN
        RAISE EXCEPTION 'raised by the test' USING ERRCODE = substr(NEW.subject, 7);
    END IF;
    RETURN NEW;
END \$\$;
CREATE TRIGGER test_raise BEFORE INSERT ON replygate.messages
    FOR EACH ROW EXECUTE FUNCTION replygate.test_raise();" >/dev/null
for state in 40001:4.3.0 40P01:4.3.0 53100:4.3.0 53200:4.3.0 57P01:4.3.0 08006:4.3.0 55P03:4.3.0 \
    57014:4.3.0 25006:4.3.0 42501:4.3.5 42P01:4.3.5 28000:4.3.5 3D000:4.3.5 23505:4.3.0 23502:4.3.0 \
    XX000:4.3.0 P0001:4.3.0; do
    message "$T/raise.eml" "raise-${state%%:*}@example.org" "raise ${state%%:*}" "A reply the server refuses for now."
    check_defer "SQLSTATE ${state%%:*}" "$CFG" "$T/raise.eml" "^${state#*:} database: .*SQLSTATE ${state%%:*}"
done
# A lock held by someone else: database_lock_timeout, set with SET LOCAL.
write_config "$T/lock.conf" "database_lock_timeout = 1s"
rm -f "$T/unlock"
{
    echo "BEGIN; LOCK TABLE replygate.messages IN ACCESS EXCLUSIVE MODE;"
    for _ in $(seq 300); do [ -e "$T/unlock" ] && break; sleep 0.1; done
    echo "COMMIT;"
} | "$PG_BIN/psql" -X -q "$PG_CONNINFO" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 100); do
    [ "$(pg_value "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'replygate.messages'::regclass")" = 1 ] && break
    sleep 0.1
done
message "$T/lock.eml" "lock@example.org" "lock" "Waiting for a lock."
check_defer "lock not available" "$T/lock.conf" "$T/lock.eml" '^4\.3\.0 database: .*SQLSTATE 55P03'
touch "$T/unlock"
wait "$locker"
deliver "$T/lock.conf" "$T/lock.eml" QLOCK
tap_is "lock released: the retry is stored" "$RC" 0
pg_psql -c "DROP TRIGGER test_raise ON replygate.messages; DROP FUNCTION replygate.test_raise()" >/dev/null

pg_value "CREATE DATABASE unmigrated" >/dev/null
write_config "$T/unmigrated.conf"
sed -i "s|^database = .*|database = host=$PG_DIR dbname=unmigrated user=postgres|" "$T/unmigrated.conf"
message "$T/u.eml" "u@example.org" "u" "To a database without the schema."
check_defer "database not migrated" "$T/unmigrated.conf" "$T/u.eml" '^4\.3\.5 .*(relation "replygate\.(messages|user_addresses)"|schema "replygate") does not exist'
# A schema from before 0004_store.sql (an upgraded MX host, `replygate
# migrate` not run yet): without replygate.store_reply() the reply waits for
# the operator, and is stored once the schema is migrated.
pg_value "CREATE DATABASE behind" >/dev/null
mkdir "$T/sql-behind"
for f in "$SRC"/sql/0*.sql; do
    [[ "$(basename "$f")" < 0004_store.sql ]] && cp "$f" "$T/sql-behind/"
done
"$CLI" migrate --sql-dir "$T/sql-behind" --database "host=$PG_DIR dbname=behind user=postgres" \
    >/dev/null 2>&1
write_config "$T/behind.conf"
sed -i "s|^database = .*|database = host=$PG_DIR dbname=behind user=postgres|" "$T/behind.conf"
message "$T/behind.eml" "behind@example.org" "behind" "To a schema before 0004."
check_defer "schema before 0004" "$T/behind.conf" "$T/behind.eml" \
    '^4\.3\.5 .*function replygate\.store_reply\(.*\) does not exist'
"$CLI" migrate --database "host=$PG_DIR dbname=behind user=postgres" >/dev/null 2>&1
deliver "$T/behind.conf" "$T/behind.eml" QBEHIND
tap_is "schema before 0004: stored once migrated" \
    "$RC/$("$PG_BIN/psql" -X -A -t "host=$PG_DIR dbname=behind user=postgres" -c "SELECT count(*) FROM replygate.messages WHERE message_id = 'behind@example.org'")" "0/1"
write_config "$T/nodb.conf"
sed -i "s|^database = .*|database = host=$PG_DIR dbname=nosuchdb user=postgres|" "$T/nodb.conf"
check_defer "no such database: a configuration mistake" "$T/nodb.conf" "$T/u.eml" \
    '^4\.3\.5 database refuses the login: FATAL: +database "nosuchdb" does not exist'

# A database that never answers (a host that accepts the connection and says
# nothing): one connect time-out (10 s), not one for each time the delivery
# needs the connection. A message of 64 KB or more asks twice: its
# duplicate check before parsing, then its insert.
SILENT_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[2], "w").close()
s.settimeout(60)
held = []
end = time.time() + 60
try:
    while time.time() < end:
        held.append(s.accept()[0])
except OSError:
    pass
' "$SILENT_PORT" "$T/silent.ready" &
SILENT_PID=$!
for _ in $(seq 100); do [ -e "$T/silent.ready" ] && break; sleep 0.1; done
write_config "$T/silent.conf"
sed -i "s|^database = .*|database = host=127.0.0.1 port=$SILENT_PORT dbname=replygate user=postgres|" \
    "$T/silent.conf"
message "$T/silent.eml" "silent@example.org" "silent" "$(head -c 70000 /dev/zero | tr '\0' 'x' | fold -w 70)"
start=$SECONDS
check_defer "a database that never answers" "$T/silent.conf" "$T/silent.eml" \
    '^4\.3\.0 database unreachable: no answer within 10 seconds'
# The first ask (the duplicate check) comes before the processor log's
# "processing" line and waits the time-out; the insert's ask comes after it
# and must fail at once (the old code waited the time-out again).
ms() { date -d "$(sed -n 's/^\[\([0-9T:.-]*\) .*/\1/p' <<<"$1" | tr T ' ')" +%s%3N; }
qid=QD$((TAP_N - 4))
p_line=$(grep -F "($qid) #] replygate: processing <silent@example.org>" "$PLOG" | tail -1)
d_line=$(grep -F "($qid) #] replygate: deferred: 4.3.0 database unreachable" "$PLOG" | tail -1)
gap=$(( $(ms "$d_line") - $(ms "$p_line") ))
echo "# the delivery took $((SECONDS - start)) s; from \"processing\" to the deferral: $gap ms"
tap_check "a database that never answers: the insert's ask is answered from the first time-out" \
    test -n "$p_line" -a -n "$d_line" -a "$gap" -lt 5000
kill "$SILENT_PID" 2>/dev/null
wait "$SILENT_PID" 2>/dev/null

write_config "$T/typo.conf" "reply_domian = reply.example.com"
check_defer "broken configuration (unknown name)" "$T/typo.conf" "$T/u.eml" \
    '^4\.3\.5 configuration error: .*reply_domian'
check_defer "missing configuration file" "$T/missing.conf" "$T/u.eml" '^4\.3\.5 configuration error'
cp "$T/secrets" "$T/open-secrets"
chmod 644 "$T/open-secrets"
write_config "$T/open.conf"
sed -i "s|^secrets_file = .*|secrets_file = $T/open-secrets|" "$T/open.conf"
check_defer "secrets readable by others" "$T/open.conf" "$T/u.eml" \
    '^4\.3\.5 configuration error: .*open-secrets'
write_config "$T/nospool.conf"
sed -i "s|^spool_directory = .*|spool_directory = /dev/null/spool|" "$T/nospool.conf"
check_defer "spool not writable" "$T/nospool.conf" "$T/u.eml" '^4\.3\.0 spool: '

# A full spool file system: a 64 KiB tmpfs and a 90 KB message.
mkdir -p "$T/full"
if mount -t tmpfs -o size=64k,mode=0755 tmpfs "$T/full" 2>"$T/mount.err"; then
    FULL_MOUNTED=1
    write_config "$T/full.conf"
    sed -i "s|^spool_directory = .*|spool_directory = $T/full/spool|" "$T/full.conf"
    mkdir -p "$T/full/spool/tmp" "$T/full/spool/new" "$T/full/spool/success" "$T/full/spool/failure"
    { printf 'From: bob@example.org\nTo: %s\nSubject: full\nMessage-ID: <full@example.org>\n\n' "$ADDR"
      head -c 67500 /dev/urandom | base64; } >"$T/full.eml"
    deliver "$T/full.conf" "$T/full.eml" QFULL
    tap_is "spool disk full: exit 75" "$RC" 75
    tap_is "spool disk full: first line (generic)" "$OUT" \
        "4.3.0 temporary problem at the receiving site, delivery deferred"
    tap_like "spool disk full: mail.log has the details" "$ERR" '4\.3\.0 spool: .*No space left on device'
    tap_is "spool disk full: no partial file left, nothing stored" \
        "$(find "$T/full/spool" -path "$T/full/spool/metrics" -prune -o -type f -print | wc -l)/$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'full@example.org'")" "0/0"
    # Too big, and its first max_message_size bytes do not fit in failure/:
    # it used to bounce (65) with no copy kept anywhere.
    deliver "$T/full.conf" "$T/big.eml" QFULLBIG
    tap_is "spool disk full, message too big: deferred (75), not bounced" "$RC" 75
    tap_is "spool disk full, message too big: first line (generic)" "$OUT" \
        "4.3.0 temporary problem at the receiving site, delivery deferred"
    tap_like "spool disk full, message too big: mail.log has the details" "$ERR" \
        '4\.3\.0 spool: .*No space left on device'
    tap_is "spool disk full, message too big: no partial file left" \
        "$(find "$T/full/spool" -path "$T/full/spool/metrics" -prune -o -type f -print | wc -l)" 0
    mount -o remount,size=1m "$T/full"
    deliver "$T/full.conf" "$T/full.eml" QFULL
    tap_is "spool disk full: stored once there is room" \
        "$RC/$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'full@example.org'")" "0/1"
    umount "$T/full" && FULL_MOUNTED=
else
    tap_not_ok "spool disk full: cannot mount a tmpfs to fill" "$(cat "$T/mount.err")"
fi

# Out of memory: measure the agent's address space while it waits for its
# message, then give it 40 MB more than that and a 90 MB message to read.
# Standard output and error go to one file, as in pipe(8): the first line
# must still be the DSN text, not GLib's complaint.
write_config "$T/oom.conf"
sed -i "s|^max_message_size = .*|max_message_size = 200000000|" "$T/oom.conf"
mkfifo "$T/fifo"
exec 7<>"$T/fifo"
"$DELIVER" --config "$T/oom.conf" -q QWAIT -f bob@example.org -r "$ADDR" <"$T/fifo" >"$T/wait.out" 2>&1 &
waiter=$!
# Waiting means: the agent itself runs (not the shell before exec), it
# sleeps, and its size stays the same for a tenth of a second.
vm=
for _ in $(seq 100); do
    sleep 0.1
    [ "$(readlink "/proc/$waiter/exe")" = "$(readlink -f "$DELIVER")" ] || continue
    [ "$(awk '/^State/ {print $2}' "/proc/$waiter/status")" = S ] || continue
    now=$(awk '/^VmSize/ {print $2}' "/proc/$waiter/status")
    [ -n "$vm" ] && [ "$now" = "$vm" ] && break
    vm=$now
done
# The same waiting agent shows what an abort (a failed assertion) does.
kill -ABRT "$waiter"
wait "$waiter"
tap_is "abort: exit 75" "$?" 75
tap_like "abort: first line" "$(head -1 "$T/wait.out")" '^4\.3\.0 out of memory or internal error'
exec 7>&-
before="$(count success) $(count failure) $(count new) $(count tmp)"
{ printf 'From: bob@example.org\nTo: %s\nSubject: oom\nMessage-ID: <oom@example.org>\n\n' "$ADDR"
  head -c 90000000 /dev/zero | tr '\0' a; } |
    (ulimit -v $((vm + 40000)) && exec "$DELIVER" --config "$T/oom.conf" -q QOOM -f bob@example.org -r "$ADDR") \
        >"$T/out" 2>&1
rc=${PIPESTATUS[1]}
tap_is "out of memory: exit 75 (address space ${vm} KB + 40 MB)" "$rc" 75
tap_like "out of memory: first line" "$(head -1 "$T/out")" '^4\.3\.0 out of memory'
tap_is "out of memory: the spool holds no copy, nothing stored" \
    "$(count success) $(count failure) $(count new) $(count tmp)/$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'oom@example.org'")" \
    "$before/0"

"$DELIVER" --config "$CFG" -q QU -f bob@example.org <"$T/u.eml" >"$T/out" 2>/dev/null
tap_is "usage error (no -r): exit 75, never a bounce" "$?/$(head -c 5 "$T/out")" "75/4.3.5"
"$DELIVER" --no-such-option <"$T/u.eml" >"$T/out" 2>/dev/null
tap_is "unknown option: exit 75, never a bounce" "$?/$(head -c 5 "$T/out")" "75/4.3.5"

# --- a processor log that cannot be opened does not stop delivery -------------------------
write_config "$T/nolog.conf"
sed -i "s|^processor_log = .*|processor_log = /dev/null/replygate.log|" "$T/nolog.conf"
message "$T/nolog.eml" "nolog@example.org" "nolog" "Stored without a processor log."
deliver "$T/nolog.conf" "$T/nolog.eml" QNOLOG
tap_is "processor log unavailable: still stored" \
    "$RC/$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'nolog@example.org'")" "0/1"
tap_like "processor log unavailable: mail.log warns" "$ERR" "warning: QNOLOG: cannot open processor log"

# --- the X-Replygate-TLS header counts only when signed for this queue id --------------
# tls MID - "version cipher bits" stored for a Message-ID, "null" for each missing
tls() {
    pg_value "SELECT concat_ws(' ', coalesce(tls_version, 'null'), coalesce(tls_cipher, 'null'), coalesce(tls_bits::text, 'null')) FROM replygate.messages WHERE message_id = '$1'"
}
good_mac=$(trace_mac QTLS1 TLSv1.3 TLS_AES_128_GCM_SHA256 128)
message "$T/tls-unsigned.eml" "tls-unsigned@example.org" "tls" "Unsigned header." \
    "X-Replygate-TLS: version=TLSv9.9; cipher=FORGED; bits=4096"
deliver "$CFG" "$T/tls-unsigned.eml" QTLS0
tap_is "tls: an unsigned header is stored as no TLS" "$RC/$(tls tls-unsigned@example.org)" "0/null null null"
tap_like "tls: an unsigned header is noted in mail.log" "$ERR" \
    "warning: QTLS0: ignored an X-Replygate-TLS header: not five parameters"
message "$T/tls-otherq.eml" "tls-otherq@example.org" "tls" "Signed for another queue id." \
    "X-Replygate-TLS: version=TLSv1.3; cipher=TLS_AES_128_GCM_SHA256; bits=128; queue=QTLS1; mac=$good_mac"
deliver "$CFG" "$T/tls-otherq.eml" QTLS2
tap_is "tls: a header signed for another queue id is ignored" "$RC/$(tls tls-otherq@example.org)" "0/null null null"
tap_like "tls: ... and noted in mail.log" "$ERR" "warning: QTLS2: ignored an X-Replygate-TLS header: queue id differs"
message "$T/tls-forged.eml" "tls-forged@example.org" "tls" "Forged fields, a real mac." \
    "X-Replygate-TLS: version=TLSv9.9; cipher=TLS_AES_128_GCM_SHA256; bits=128; queue=QTLS1; mac=$good_mac"
deliver "$CFG" "$T/tls-forged.eml" QTLS1
tap_is "tls: changed fields under a real mac are ignored" "$RC/$(tls tls-forged@example.org)" "0/null null null"
tap_like "tls: ... and noted in mail.log" "$ERR" "warning: QTLS1: ignored an X-Replygate-TLS header: mac does not verify"
message "$T/tls-two.eml" "tls-two@example.org" "tls" "A forged header, then the milter's." \
    "X-Replygate-TLS: version=TLSv9.9; cipher=FORGED; bits=1; queue=QTLS1; mac=0000000000000000000000000000000000000000
X-Replygate-TLS: version=TLSv1.3; cipher=TLS_AES_128_GCM_SHA256; bits=128; queue=QTLS1; mac=$good_mac"
deliver "$CFG" "$T/tls-two.eml" QTLS1
tap_is "tls: beside a forged header, the signed one counts" "$RC/$(tls tls-two@example.org)" \
    "0/TLSv1.3 TLS_AES_128_GCM_SHA256 128"
tap_unlike_warning=$(printf '%s\n' "$ERR" | grep -c 'warning: QTLS1: ignored')
tap_is "tls: a verified header logs no warning" "$tap_unlike_warning" 0

# --- log lines never carry raw control characters from a message ----------------------
message "$T/esc.eml" "evil$(printf '\033')x@example.org" "esc" "Escape me."
deliver "$CFG" "$T/esc.eml" QESC
tap_like "escaping: mail.log shows \\x1b, not the byte" "$ERR" 'message-id=<evil\\x1[bB]x@example.org>'
tap_is "escaping: no ESC byte in the processor log" "$(grep -c "$(printf '\033')" "$PLOG")" 0

# --- libpq is loaded only to store (lib/pq-lazy.c) ----------------------------------
# The loader's own record (LD_DEBUG=files) of what one process opened.
tap_is "lazy libpq: the agent is not linked with libpq" \
    "$(readelf -d "$DELIVER" | grep -c 'NEEDED.*libpq')" 0
message "$T/lazy.eml" "lazy-1@example.org" "lazy" "Loaded when needed."
LD_DEBUG=files "$DELIVER" --config "$CFG" --dry-run -q QLAZY -f bob@example.org -r "$ADDR" \
    <"$T/lazy.eml" >/dev/null 2>"$T/ld-dry"
tap_is "lazy libpq: --dry-run never loads it" "$(grep -c 'file=libpq.so' "$T/ld-dry")" 0
LD_DEBUG=files REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$CFG" -q QLAZY -f bob@example.org \
    -r "$ADDR" <"$T/lazy.eml" >"$T/out" 2>"$T/ld-store"
tap_is "lazy libpq: storing loads it and stores the reply" \
    "$?/$(grep -c 'file=libpq.so.5 \[0\];  dynamically loaded' "$T/ld-store")/$(grep -c 'message-id=<lazy-1@example.org>.*status=stored' "$T/ld-store")" "0/1/1"
# A libpq that cannot be loaded: the database is unreachable, the reply deferred.
PQ_FILE=$(ldconfig -p | sed -n 's/^[[:space:]]*libpq\.so\.5 (libc6,x86-64) => //p' | head -1)
message "$T/lazy2.eml" "lazy-2@example.org" "lazy" "Deferred without libpq."
if [ -n "$PQ_FILE" ] && mount --bind /dev/null "$(readlink -f "$PQ_FILE")" 2>"$T/mount.err"; then
    REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$CFG" -q QLAZY2 -f bob@example.org \
        -r "$ADDR" <"$T/lazy2.eml" >"$T/out" 2>"$T/err"
    rc=$?
    umount "$(readlink -f "$PQ_FILE")"
    tap_is "lazy libpq: a missing libpq defers (75, 4.3.0), nothing stored" \
        "$rc/$(head -c 5 "$T/out")/$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'lazy-2@example.org'")" \
        "75/4.3.0/0"
    tap_like "lazy libpq: mail.log says why" "$(cat "$T/err")" 'cannot load libpq\.so\.5'
else
    tap_not_ok "lazy libpq: cannot hide libpq for the test: $(cat "$T/mount.err")"
fi

# --- ICU only for a domain outside ASCII, never libcrypto (icu-lazy.c, crypto-lite.c) ---
tap_is "lazy ICU: the agent is linked with neither ICU nor libcrypto" \
    "$(readelf -d "$DELIVER" | grep -c 'NEEDED.*\(libicu\|libcrypto\)')" 0
tap_is "lazy ICU: an ASCII reply loads neither" \
    "$(grep -c 'file=libicuuc\|file=libcrypto' "$T/ld-dry")" 0
# U+FF4D (fullwidth m): UTS #46 maps reply.example.co<U+FF4D> to the reply domain.
WIDE_ADDR=${ADDR%@*}@$(printf 'reply.example.co\xef\xbd\x8d')
message "$T/wide.eml" "wide-1@example.org" "wide" "A domain outside ASCII."
LD_DEBUG=files "$DELIVER" --config "$CFG" --dry-run -q QWIDE -f bob@example.org -r "$WIDE_ADDR" \
    <"$T/wide.eml" >"$T/out" 2>"$T/ld-wide"
tap_is "lazy ICU: a domain outside ASCII loads ICU and is folded to the reply domain" \
    "$?/$(grep -c 'file=libicuuc.so.[0-9]* \[0\];  dynamically loaded' "$T/ld-wide")/$(grep -o '"status": "2.0.0 reply accepted' "$T/out")" \
    '0/1/"status": "2.0.0 reply accepted'
# An ICU that cannot be loaded is the installation's fault: deferred, nothing kept.
ICU_FILE=$(ldconfig -p | sed -n 's/^[[:space:]]*libicuuc\.so\.[0-9]* (libc6,x86-64) => //p' | head -1)
if [ -n "$ICU_FILE" ] && mount --bind /dev/null "$(readlink -f "$ICU_FILE")" 2>"$T/mount.err"; then
    REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$CFG" -q QWIDE2 -f bob@example.org \
        -r "$WIDE_ADDR" <"$T/wide.eml" >"$T/out" 2>"$T/err"
    rc=$?
    "$DELIVER" --config "$CFG" --dry-run -q QWIDE3 -f bob@example.org -r "$WIDE_ADDR" \
        <"$T/wide.eml" >"$T/dry-out" 2>"$T/dry-err"
    dry_rc=$?
    umount "$(readlink -f "$ICU_FILE")"
    tap_is "lazy ICU: a missing ICU defers (75, 4.3.0)" "$rc/$(head -c 5 "$T/out")" "75/4.3.0"
    tap_is "lazy ICU: --dry-run says 75 and why on stderr" \
        "$dry_rc/$(grep -o '"exit": 75' "$T/dry-out")/$(grep -c 'cannot load libicuuc' "$T/dry-err")" \
        '75/"exit": 75/1'
    tap_like "lazy ICU: mail.log says why" "$(cat "$T/err")" 'cannot load libicuuc\.so\.[0-9]+'
    tap_is "lazy ICU: no spool copy is left behind" \
        "$(grep -rl 'wide-1@example.org' "$SPOOL" | wc -l)" 0
else
    tap_not_ok "lazy ICU: cannot hide ICU for the test: $(cat "$T/mount.err")"
fi

# --- 0005_lz4.sql: long texts and attachments compressed with LZ4 ------------
# A reply of 40 KB of text: its values are compressed when the row is written,
# with LZ4 where the server has it (0005), and come back unchanged.
for i in $(seq 800); do printf 'Line %d of a long reply, the same words again and again.\n' "$i"; done \
    >"$T/long.txt"
for i in $(seq 400); do printf '%d,a log line that compresses well,%d\n' "$i" "$((i * 7))"; done \
    >"$T/long.csv"
{
    printf 'From: Bob Example <bob@example.org>\nTo: %s\nSubject: Re: long\n' "$ADDR"
    printf 'Message-ID: <lz4-1@example.org>\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="b1"\n\n'
    printf -- '--b1\nContent-Type: text/plain; charset=utf-8\n\n'
    cat "$T/long.txt"
    printf -- '--b1\nContent-Type: text/csv; name="long.csv"\n'
    printf 'Content-Disposition: attachment; filename="long.csv"\n'
    printf 'Content-Transfer-Encoding: base64\n\n'
    base64 "$T/long.csv"
    printf -- '--b1--\n'
} >"$T/lz4.eml"
deliver "$CFG" "$T/lz4.eml" QLZ4
want=$(pg_value "SELECT CASE WHEN 'lz4' = ANY (enumvals) THEN 'lz4' ELSE 'pglz' END
    FROM pg_settings WHERE name = 'default_toast_compression'")
tap_is "0005: the long reply is stored (exit 0)" "$RC" 0
tap_is "0005: body_text, reply_text and the attachment compressed with $want" \
    "$(pg_value "SELECT concat_ws(' ', pg_column_compression(m.body_text),
        pg_column_compression(m.reply_text), pg_column_compression(a.data))
        FROM replygate.messages m JOIN replygate.attachments a ON a.reply_id = m.id
        WHERE m.message_id = 'lz4-1@example.org'")" "$want $want $want"
tap_is "0005: reply_text comes back unchanged" \
    "$(pg_value "SELECT md5(reply_text || E'\n') FROM replygate.messages
        WHERE message_id = 'lz4-1@example.org'")" "$(md5sum <"$T/long.txt" | cut -c1-32)"
tap_is "0005: the attachment comes back byte for byte" \
    "$(pg_value "SELECT a.sha256 = encode(sha256(a.data), 'hex') FROM replygate.attachments a
        JOIN replygate.messages m ON a.reply_id = m.id
        WHERE m.message_id = 'lz4-1@example.org'")/$(pg_value "SELECT a.sha256 FROM
        replygate.attachments a JOIN replygate.messages m ON a.reply_id = m.id
        WHERE m.message_id = 'lz4-1@example.org'")" "t/$(sha256sum <"$T/long.csv" | cut -c1-64)"

"$DELIVER" --version >"$T/out"
tap_like "--version" "$(cat "$T/out")" '^replygate-deliver [0-9]'

tap_done
