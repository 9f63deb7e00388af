#!/bin/bash
# refusals.sh - the milter's refusals become rows of replygate.refusals, and
# the database never holds up a refusal.
#
#   refusals.sh MILTER_BINARY SOURCE_DIR REPLYGATE_BINARY
#
# A throwaway PostgreSQL (tests/lib/pg.sh) with the schema of `replygate
# migrate` (sql/0002 defines replygate.record_refusal()). Then:
# - one refusal of each stage (refusals.lua) gives one row each, with the
#   stage, codes, sender, recipient, From, Message-ID, client and queue id,
#   and a NOTIFY replygate_refusal with its id;
# - with the database stopped, the same refusals are answered all the same
#   (the time they took is printed, not asserted), mail.log says the rows
#   wait, and once the database is back every row is written;
# - with the table locked, 1,500 refusals in a row are all answered, the
#   queue fills, and the rows that did not fit are counted as dropped.
set -u
. "$(dirname "$0")/../lib/isolate.sh" # own network, mount and PID namespaces
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/pg.sh"
MILTER=$1 SRC=$2 RG=$3
command -v miltertest >/dev/null || tap_bail "miltertest is not installed"

dir=$(mktemp -d /tmp/rg-refusals.XXXXXX)
chmod 755 "$dir"
pids=()
# cleanup - stop the milters, the lock holder and PostgreSQL, remove the folders
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    pg_cleanup
    if [ -n "${RG_TEST_KEEP:-}" ]; then echo "# kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

pg_start || tap_bail "PostgreSQL did not start"

secret='refusals-test-secret-0123456789abcdef01'
printf '%s\n' "$secret" >"$dir/secrets"
chmod 600 "$dir/secrets"
mac() { printf %s "$2" | openssl dgst -sha256 -hmac "$1" | sed 's/.*= //' | cut -c1-40; }
m=$(mac "$secret" i-1-5)
export KEY_ADDR="reply+i-1-$m-5@reply.example.com"
[ "${m:0:1}" = 0 ] && o=1 || o=0
export KEY_TAMPERED="reply+i-1-$o${m:1}-5@reply.example.com"
export DEDICATED="reply@reply.example.com" STATIC="support@reply.example.com"
export NOREPLY="noreply@reply.example.com" MT_LIB="$here/lib.lua"
export MILTER_SOCKET="unix:$dir/milter.sock"
mkdir -p "$dir/spool"
cat >"$dir/milter.conf" <<EOF
reply_domain = reply.example.com
secrets_file = $dir/secrets
spool_directory = $dir/spool
database = $PG_CONNINFO
milter_socket = unix:$dir/milter.sock
EOF

# --- the schema: the real migrations (sql/0002 defines record_refusal) ---------
out=$("$RG" migrate --config "$dir/milter.conf" --sql-dir "$SRC/sql" 2>&1)
rc=$?
tap_is "replygate migrate (sql/0002 defines replygate.record_refusal)" "$rc" 0 || tap_bail "$out"

# start_milter - the milter in the foreground; sets $pid
start_milter() {
    : >"$dir/milter.log"
    "$MILTER" --config "$dir/milter.conf" -f >>"$dir/milter.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
        [ -S "$dir/milter.sock" ] && grep -q '^started ' "$dir/milter.log" && return 0
        sleep 0.1
    done
    return 1
}

# stop_milter - SIGTERM and wait
stop_milter() {
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

# rows - the refusal rows, one line each, in order
rows() {
    pg_value "SELECT concat_ws('|', stage, smtp_code, enhanced_code, sender, recipient,
                  from_address, message_id, client_address, client_name,
                  coalesce(queue_id, '-')) FROM replygate.refusals ORDER BY id"
}

# wait_rows N [SECONDS] - wait until there are at least N rows
wait_rows() {
    for _ in $(seq $((${2:-20} * 10))); do
        [ "$(pg_value 'SELECT count(*) FROM replygate.refusals')" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# run_lua LABEL SCRIPT [VAR=VALUE...] - miltertest; one TAP line; prints the time taken
run_lua() {
    local label=$1 script=$2 t0 out rc
    shift 2
    t0=$(date +%s%N)
    out=$(env "$@" miltertest -s "$here/$script" 2>&1)
    rc=$?
    echo "# $label: answered in $((($(date +%s%N) - t0) / 1000000)) ms"
    tap_is "$label" "$rc:$out" "0:"
}

start_milter || tap_bail "the milter did not start: $(cat "$dir/milter.log")"
# A LISTEN replygate_refusal session (psycopg2) writing down each NOTIFY's payload.
/usr/bin/python3 - "$PG_CONNINFO" "$dir/notified" <<'PY' &
import select, sys, time
import psycopg2
conn = psycopg2.connect(sys.argv[1])
conn.autocommit = True
conn.cursor().execute("LISTEN replygate_refusal")
out = open(sys.argv[2], "w", buffering=1)
out.write("listening\n")
end = time.time() + 60
while time.time() < end:
    if select.select([conn], [], [], 1) == ([], [], []):
        continue
    conn.poll()
    while conn.notifies:
        out.write(conn.notifies.pop(0).payload + "\n")
PY
listener=$!
pids+=("$listener")
for _ in $(seq 100); do grep -q listening "$dir/notified" 2>/dev/null && break; sleep 0.1; done
run_lua "one refusal of each stage, database up" refusals.lua
want="rcpt|530|5.7.0|bob@example.org|$KEY_ADDR|192.0.2.10|mail.example.org|4F2A21041E3
rcpt|550|5.1.1|bob@example.org|$KEY_TAMPERED|192.0.2.10|mail.example.org|4F2A21041E3
headers|550|5.1.1|bob@example.org|$DEDICATED|bob@example.org|keyless-1@example.org|192.0.2.10|mail.example.org|4F2A21041E3
headers|550|5.7.1|bob@example.org|$KEY_ADDR|bob@example.org|auto-1@example.org|192.0.2.10|mail.example.org|4F2A21041E3
message|550|5.1.1|bob@example.org|$DEDICATED|bob@example.org|mixed-1@example.org|192.0.2.10|mail.example.org|4F2A21041E3"
wait_rows 5
tap_is "a row for each refusal: stage, codes, sender, recipient, From, Message-ID, client, queue id" \
    "$(rows)" "$want"
for _ in $(seq 100); do [ "$(grep -c '^[0-9]' "$dir/notified")" -ge 5 ] && break; sleep 0.1; done
tap_is "NOTIFY replygate_refusal with each row's id" \
    "$(grep '^[0-9]' "$dir/notified" | tr '\n' ' ')" \
    "$(pg_value "SELECT string_agg(id::text, ' ' ORDER BY id) FROM replygate.refusals") "
kill "$listener" 2>/dev/null
tap_like "the rows carry the reply texts" \
    "$(pg_value "SELECT string_agg(reason, ' / ' ORDER BY id) FROM replygate.refusals")" \
    '^Must issue a STARTTLS command first / <reply\+.*unknown or expired reply address / .*no reply key in the message / Auto-submitted message refused \(Auto-Submitted: auto-replied\) / recipient removed: no reply key in the message$'

# --- the database down ----------------------------------------------------------
# The rows wait in the queue (at most 1,024) while the database cannot be
# reached, so a restart loses none.
pg_stop
run_lua "database stopped: every refusal answered all the same" refusals.lua
for _ in $(seq 300); do grep -q 'waiting (at most' "$dir/milter.log" && break; sleep 0.1; done
tap_like "database stopped: mail.log says the rows wait, and why" \
    "$(grep 'refusal rows: .* waiting' "$dir/milter.log" | head -1)" \
    'refusal rows: [0-9]+ waiting \(at most 1024 are kept\) for the database: database unreachable'
pg_restart || tap_bail "PostgreSQL did not restart"
run_lua "database back" refusals.lua
if wait_rows 15 60; then
    tap_ok "database back: the rows of the outage written too, none lost"
else
    tap_not_ok "database back: the rows of the outage written too, none lost" \
        "rows: $(pg_value 'SELECT count(*) FROM replygate.refusals')" "$(tail -5 "$dir/milter.log")"
fi
tap_is "database back: exactly one row per refusal" \
    "$(pg_value 'SELECT count(*) FROM replygate.refusals')" 15
tap_like "database back: said in mail.log" "$(cat "$dir/milter.log")" \
    'refusal rows: the database is reachable again'
stop_milter

# --- a database that hangs: the queue fills, refusals go on -----------------------
start_milter || tap_bail "the milter did not restart: $(cat "$dir/milter.log")"
before=$(pg_value 'SELECT count(*) FROM replygate.refusals')
"$PG_BIN/psql" -X -q "$PG_CONNINFO" -c \
    "BEGIN; LOCK TABLE replygate.refusals IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT" \
    >/dev/null 2>&1 &
locker=$!
pids+=("$locker")
sleep 1
run_lua "table locked: 1,500 refusals in a row all answered" refusals-many.lua REFUSALS_N=1500
wait "$locker"
for _ in $(seq 300); do grep -q 'with the queue full' "$dir/milter.log" && break; sleep 0.1; done
stop_milter
dropped=$(sed -n 's/.*(\([0-9]*\) with the queue full.*/\1/p' "$dir/milter.log" | tail -1)
tap_like "table locked: rows beyond the queue dropped and counted (${dropped:-none} with the queue full)" \
    "${dropped:-0}" '^[1-9][0-9]*$'
after=$(pg_value 'SELECT count(*) FROM replygate.refusals')
echo "# table locked: $((after - before)) of 1500 rows written, the rest dropped"
tap_check "table locked: fewer rows than refusals, none beyond them" \
    test "$((after - before))" -lt 1500

tap_done
