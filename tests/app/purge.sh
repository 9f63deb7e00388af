#!/bin/bash
# purge.sh - retention and deletion (issue 18 item 2, issue 16 item 3)
# against a real PostgreSQL and the real agent:
#   - messages of several ages, then purge: exactly the old ones go, from the
#     database and from the spool;
#   - --expired applies replygate.conf's retention, also as the writer role
#     (replygate.purge_expired), which cannot shorten it;
#   - a purge by user (rows, refusals, failure/ files and their .reason,
#     user_addresses), by key, by Message-ID; --dry-run changes nothing;
#   - replay after purge stores nothing (the tombstone);
#   - a half-moved spool (a file with no row, a row with no file) does not
#     stop it, and no link is followed;
#   - a purge running during delivery loses nothing;
#   - the systemd service and timer pass systemd-analyze verify.
#
# Environment: RG_DELIVER, RG_CLI, RG_SRC.
set -u
SRC=${RG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DELIVER=${RG_DELIVER:-$SRC/build/pipe-agent/replygate-deliver}
CLI=${RG_CLI:-$SRC/build/cli/replygate}
. "$SRC/tests/lib/tap.sh"
. "$SRC/tests/lib/pg.sh"

T=$(mktemp -d /tmp/rg-purge.XXXXXX) || tap_bail "mktemp failed"
trap 'pg_cleanup; rm -rf "$T"' EXIT
pg_start || tap_bail "cannot start PostgreSQL"

SECRET=0123456789abcdef0123456789abcdef-purge-test
printf '%s\n' "$SECRET" >"$T/secrets"
chmod 600 "$T/secrets"
SPOOL=$T/spool
write_config() {
    local file=$1 line
    shift
    {
        echo "reply_domain = reply.example.com"
        echo "secrets_file = $T/secrets"
        echo "database = $PG_CONNINFO"
        echo "spool_directory = $SPOOL"
        echo "processor_log = $T/replygate.log"
        for line in "$@"; do echo "$line"; done
    } >"$file"
}
CFG=$T/replygate.conf
write_config "$CFG"
"$CLI" migrate --create-roles --database "$PG_CONNINFO" >/dev/null || tap_bail "migrate failed"
pg_psql -c "CREATE ROLE rg_agent LOGIN IN ROLE replygate_writer; CREATE ROLE rg_owner LOGIN IN ROLE replygate_owner" >/dev/null

address() {
    local mac
    mac=$(printf '%s' "$1-$2-$3" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.*= *//' | cut -c1-40)
    echo "reply+$1-$2-$mac-$3@reply.example.com"
}
# send MESSAGE-ID KIND TARGET USER [BODY] - a reply delivered as pipe(8)
# hands it over (X-Original-To and Delivered-To on top); prints nothing
send() {
    local to
    to=$(address "$2" "$3" "$4")
    printf 'X-Original-To: %s\nDelivered-To: %s\nFrom: bob@example.org\nTo: %s\nSubject: %s\nMessage-ID: <%s>\n\n%s\n' \
        "$to" "$to" "$to" "$1" "$1" "${5:-A reply.}" >"$T/m.eml"
    "$DELIVER" --config "$CFG" -q "Q$RANDOM" -f bob@example.org -r "$to" <"$T/m.eml" >"$T/out" 2>&1
}
rows() { pg_value "SELECT coalesce(string_agg(message_id, ' ' ORDER BY message_id), '') FROM replygate.messages"; }
files() { # FOLDER - the Message-IDs of the copies in a spool folder
    local f
    for f in "$SPOOL/$1"/*; do
        [ -f "$f" ] && [ "${f%.reason}" = "$f" ] && sed -n 's/^Message-ID: <\(.*\)>$/\1/p' "$f"
    done | sort | tr '\n' ' ' | sed 's/ $//'
}
# age MESSAGE-ID DAYS - make a reply and its spool copy that many days old
age() {
    local f
    pg_value "UPDATE replygate.messages SET received_at = now() - interval '$2 days' WHERE message_id = '$1'" >/dev/null
    for f in $(grep -l "^Message-ID: <$1>$" "$SPOOL"/success/* "$SPOOL"/failure/* 2>/dev/null); do
        touch -d "$2 days ago" "$f"
        [ -f "$f.reason" ] && touch -d "$2 days ago" "$f.reason"
    done
}

# --- several ages, then purge --older-than -----------------------------------------
for n in 1 2 3 4; do send "age$n@example.org" i "$n" 5; done
age age1@example.org 400; age age2@example.org 100; age age3@example.org 10
out=$("$CLI" purge --config "$CFG" --older-than 90d --dry-run 2>&1); rc=$?
tap_is "dry-run: exit 0" "$rc" 0
tap_like "dry-run: names the replies that would go" "$out" "would remove reply [0-9]+ \(key i-1-5, message-id <age1@example.org>\)"
tap_like "dry-run: names the files that would go" "$out" "would remove success/[^ ]+"
tap_like "dry-run: the summary" "$(echo $out)" "would remove 2 replies .*would remove 2 files from success/"
tap_is "dry-run: nothing went" "$(rows)|$(files success)" \
    "age1@example.org age2@example.org age3@example.org age4@example.org|age1@example.org age2@example.org age3@example.org age4@example.org"
out=$("$CLI" purge --config "$CFG" --older-than 90d 2>&1); rc=$?
tap_is "older than 90 days: exit 0" "$rc" 0
tap_is "older than 90 days: exactly the two old ones went, from both places" "$(rows)|$(files success)" \
    "age3@example.org age4@example.org|age3@example.org age4@example.org"
tap_is "older than 90 days: a tombstone for each" \
    "$(pg_value "SELECT string_agg(message_id || ':' || reason, ' ' ORDER BY message_id) FROM replygate.tombstones")" \
    "age1@example.org:purge --older-than 90d age2@example.org:purge --older-than 90d"
tap_like "older than 90 days: the summary" "$out" "^removed 2 replies \(a tombstone each\)"

# --- replay after purge: no row -------------------------------------------------------
send "gone@example.org" i 9 5 "Delete me."
cp "$(grep -l '^Message-ID: <gone@example.org>$' "$SPOOL"/success/*)" "$T/gone.eml"
"$CLI" purge --config "$CFG" --message-id gone@example.org >/dev/null 2>&1
tap_is "purge --message-id: row and copy gone" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'gone@example.org'")/$(grep -l 'gone@example.org' "$SPOOL"/success/* 2>/dev/null | wc -l)" "0/0"
out=$("$CLI" replay --config "$CFG" --deliver "$DELIVER" "$T/gone.eml" 2>&1)
tap_like "replay after purge: the agent answers success" "$out" "stored"
tap_is "replay after purge: still no row (the tombstone)" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'gone@example.org'")" 0
tap_like "replay after purge: mail.log says it was deleted before" "$(cat "$T/replygate.log")" \
    "replygate: processing <gone@example.org>"

# --- by user: rows, refusals, failure/ copies, user_addresses ------------------------------
pg_psql -c "CREATE TABLE IF NOT EXISTS replygate.user_addresses (user_id numeric(20,0) NOT NULL, address text NOT NULL)" >/dev/null
pg_psql -c "INSERT INTO replygate.user_addresses VALUES (7, 'carol@example.org'), (7, 'carol@example.net'), (8, 'dave@example.org')" >/dev/null
send "u7a@example.org" i 20 7; send "u7b@example.org" p 21 7; send "u8@example.org" i 22 8
send "u7empty@example.org" i 23 7 "> only the quote"   # refused: 5.6.0, kept in failure/
send "u8empty@example.org" i 24 8 "> only the quote"
tap_is "by user: two refusals were kept in failure/ with their reason" \
    "$(files failure)|$(ls "$SPOOL"/failure/*.reason | wc -l)" "u7empty@example.org u8empty@example.org|2"
out=$("$CLI" purge --config "$CFG" --user 7 2>&1); rc=$?
tap_is "by user: exit 0" "$rc" 0
tap_is "by user: user 7's replies went, user 8's stayed" \
    "$(pg_value "SELECT string_agg(message_id, ' ' ORDER BY message_id) FROM replygate.messages WHERE message_id LIKE 'u%'")" \
    "u8@example.org"
tap_is "by user: user 7's refusal row went" \
    "$(pg_value "SELECT string_agg(message_id, ' ' ORDER BY message_id) FROM replygate.refusals")" \
    "u8empty@example.org"
tap_is "by user: user 7's failure/ copy and .reason went" \
    "$(files failure)|$(ls "$SPOOL"/failure/*.reason | wc -l)" "u8empty@example.org|1"
tap_is "by user: user 7's success/ copies went" "$(files success | tr ' ' '\n' | grep -c '^u7')" 0
tap_is "by user: user 7's addresses went" \
    "$(pg_value "SELECT string_agg(address, ' ') FROM replygate.user_addresses")" "dave@example.org"
tap_like "by user: the summary" "$out" "removed 2 replies .*1 refusal, 0 tombstones, 2 user addresses"
out=$("$CLI" purge --config "$CFG" --key i-22-8 2>&1)
tap_is "by key: that reply and its copy" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'u8@example.org'")/$(files success | grep -c u8@)" "0/0"
out=$("$CLI" purge --config "$CFG" --user 7 --database "host=$PG_DIR dbname=replygate user=rg_agent" 2>&1); rc=$?
tap_like "by user as the writer: refused, with the fix" "$rc/$out" "^1/.*permission denied.*replygate_owner"
out=$("$CLI" purge --config "$CFG" --key nonsense 2>&1); rc=$?
tap_is "a malformed --key is a usage error" "$rc" 64
out=$("$CLI" purge --config "$CFG" 2>&1); rc=$?
tap_is "no selector is a usage error" "$rc" 64
out=$("$CLI" purge --config "$CFG" --expired --user 5 2>&1); rc=$?
tap_is "--expired with a selector is a usage error" "$rc" 64

# --- a half-moved spool, and links ------------------------------------------------------------
send "half1@example.org" i 30 5; send "half2@example.org" i 31 5
age half1@example.org 50; age half2@example.org 50
rm "$(grep -l '^Message-ID: <half1@example.org>$' "$SPOOL"/success/*)"   # a row with no file
pg_value "DELETE FROM replygate.messages WHERE message_id = 'half2@example.org'" >/dev/null  # a file with no row
printf 'orphan\n' >"$SPOOL/failure/1.orphan.reason"; touch -d '50 days ago' "$SPOOL/failure/1.orphan.reason"
echo secret >"$T/outside"; ln -s "$T/outside" "$SPOOL/success/link"; touch -h -d '50 days ago' "$SPOOL/success/link"
mkdir "$SPOOL/success/adir"
out=$("$CLI" purge --config "$CFG" --older-than 40d 2>&1); rc=$?
tap_is "half-moved: exit 0" "$rc" 0
tap_is "half-moved: the row without a file went" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'half1@example.org'")" 0
tap_is "half-moved: the file without a row went" "$(files success | grep -c half2)" 0
tap_is "half-moved: an old .reason without its message went" "$(ls "$SPOOL"/failure | grep -c orphan)" 0
tap_is "links: the file a link points to is untouched, the link not followed" "$(cat "$T/outside")" secret
tap_is "links: a folder in success/ is left alone" "$(test -d "$SPOOL/success/adir" && echo yes)" yes
rm -f "$SPOOL/success/link"; rmdir "$SPOOL/success/adir"

# --- --expired: the configuration's retention, also as the writer -------------------------------
send "exp-old@example.org" i 40 5; send "exp-new@example.org" i 41 5
send "exp-refused@example.org" i 42 5 "> only the quote"
age exp-old@example.org 20; age exp-new@example.org 2; age exp-refused@example.org 20
pg_value "UPDATE replygate.refusals SET refused_at = now() - interval '20 days' WHERE message_id = 'exp-refused@example.org'" >/dev/null
pg_value "UPDATE replygate.tombstones SET deleted_at = now() - interval '20 days' WHERE message_id = 'age1@example.org'" >/dev/null
write_config "$T/short.conf" "database_keep = 10d" "refusals_keep = 10d" "tombstones_keep = 10d" \
    "spool_keep_success = 5d" "spool_keep_failure = 15d"
sed -i "s|^database = .*|database = host=$PG_DIR dbname=replygate user=rg_agent|" "$T/short.conf"
out=$("$CLI" purge --config "$T/short.conf" --expired 2>&1); rc=$?
tap_is "expired as the writer: exit 0" "$rc" 0
tap_like "expired as the writer: it may not shorten the retention, and says so" "$out" \
    "the database keeps another retention than .*short.conf says"
tap_is "expired as the writer: the database's 365 days applied, no reply went" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id LIKE 'exp-%'")" 2
tap_is "expired as the writer: the spool's own retention applied (copies older than 5d, 15d)" \
    "$(files success | tr ' ' '\n' | grep -c '^exp-')/$(files failure | grep -c exp-refused)" "1/0"
sed -i "s|user=rg_agent|user=rg_owner|" "$T/short.conf"
out=$("$CLI" purge --config "$T/short.conf" --expired 2>&1); rc=$?
tap_is "expired as the owner: exit 0, no complaint" "$rc/$(printf '%s\n' "$out" | grep -c 'another retention')" "0/0"
tap_is "expired as the owner: the retention is the file's now" \
    "$(pg_value "SELECT database_keep || ' ' || refusals_keep || ' ' || tombstones_keep FROM replygate.settings")" \
    "10 days 10 days 10 days"
tap_is "expired: the old reply went, the new one stayed" \
    "$(pg_value "SELECT string_agg(message_id, ' ') FROM replygate.messages WHERE message_id LIKE 'exp-%'")" \
    "exp-new@example.org"
tap_is "expired: the old refusal row went" \
    "$(pg_value "SELECT count(*) FROM replygate.refusals WHERE message_id = 'exp-refused@example.org'")" 0
tap_is "expired: the old tombstone went, the others stayed" \
    "$(pg_value "SELECT count(*) FROM replygate.tombstones WHERE message_id = 'age1@example.org'")/$(pg_value "SELECT count(*) > 0 FROM replygate.tombstones WHERE message_id = 'exp-old@example.org'")" "0/t"
sed -i "s|user=rg_owner|user=rg_agent|" "$T/short.conf"
send "exp-later@example.org" i 43 5; age exp-later@example.org 12
out=$("$CLI" purge --config "$T/short.conf" --expired 2>&1); rc=$?
tap_is "expired as the writer, once the owner set 10 days: the 12-day-old reply went" \
    "$rc/$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'exp-later@example.org'")" "0/0"
tap_like "--expired --dry-run counts" "$("$CLI" purge --config "$T/short.conf" --expired --dry-run 2>&1)" \
    "^would remove 0 replies"

# --- a purge running during delivery loses nothing -------------------------------------------------
before=$(pg_value "SELECT count(*) FROM replygate.messages")
( for i in $(seq 10); do "$CLI" purge --config "$CFG" --older-than 1h >/dev/null 2>&1
                          "$CLI" purge --config "$T/short.conf" --expired >/dev/null 2>&1; done ) &
purger=$!
for i in $(seq 40); do
    to=$(address i $((1000 + i)) 5)
    printf 'X-Original-To: %s\nFrom: bob@example.org\nTo: %s\nSubject: during %s\nMessage-ID: <during%s@example.org>\n\nWhile purging.\n' \
        "$to" "$to" "$i" "$i" >"$T/during$i.eml"
    "$DELIVER" --config "$CFG" -q "QD$i" -f bob@example.org -r "$to" <"$T/during$i.eml" >"$T/during$i.out" 2>&1 &
done
wait
tap_is "during delivery: all 40 stored" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id LIKE 'during%'")" 40
tap_is "during delivery: all 40 copies in success/" "$(files success | tr ' ' '\n' | grep -c '^during')" 40
tap_is "during delivery: nothing left in new/ or tmp/" "$(find "$SPOOL/new" "$SPOOL/tmp" -type f | wc -l)" 0

# --- the systemd service and timer -------------------------------------------------------------
mkdir -p "$T/units" "$T/man/man1" "$T/man/man5"
cp "$SRC"/docs/*.1 "$T/man/man1/"; cp "$SRC"/docs/*.5 "$T/man/man5/"
sed "s#^ExecStart=[^ ]*#ExecStart=$CLI#" "$SRC/postfix-conf/replygate-purge.service" >"$T/units/replygate-purge.service"
cp "$SRC/postfix-conf/replygate-purge.timer" "$T/units/"
out=$(cd "$T/units" && MANPATH=$T/man SYSTEMD_LOG_LEVEL=notice systemd-analyze verify replygate-purge.timer replygate-purge.service 2>&1); rc=$?
tap_is "systemd-analyze verify: the service and the timer" "$rc:$out" "0:"
tap_like "the timer runs daily" "$(cat "$SRC/postfix-conf/replygate-purge.timer")" "^OnCalendar=daily$"
tap_like "the service runs purge --expired" "$(grep '^ExecStart=' "$SRC/postfix-conf/replygate-purge.service")" \
    "replygate purge --expired"

tap_done
