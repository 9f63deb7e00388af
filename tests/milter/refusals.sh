#!/bin/bash
# refusals.sh - the milter's refusals become rows of replygate.refusals, and
# the database never holds up a refusal.
#
#   refusals.sh MILTER_BINARY SOURCE_DIR REPLYGATE_BINARY
#
# A throwaway PostgreSQL (tests/lib/pg.sh) with the schema: `replygate
# migrate` when the database migration sql/0002_*.sql that defines
# replygate.record_refusal() is in the tree, else a local draft of that
# function with the pinned signature. Then:
# - one refusal of each stage (refusals.lua) gives one row each, with the
#   stage, codes, sender, recipient, From, Message-ID, client and queue id;
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

# --- the schema ---------------------------------------------------------------
if ls "$SRC"/sql/0002_*.sql >/dev/null 2>&1 &&
    grep -q 'FUNCTION replygate.record_refusal' "$SRC"/sql/0002_*.sql; then
    out=$("$RG" migrate --config "$dir/milter.conf" --sql-dir "$SRC/sql" 2>&1)
    tap_is "replygate migrate (sql/0002 defines record_refusal)" "$?" 0 || tap_bail "$out"
else
    # A draft of the pinned function until sql/0002 is in the tree.
    pg_psql >/dev/null <<'SQL' || tap_bail "cannot create the draft schema"
CREATE SCHEMA replygate;
CREATE TABLE replygate.refusals (
    id bigserial PRIMARY KEY, refused_at timestamptz NOT NULL DEFAULT now(),
    stage text NOT NULL CHECK (stage IN ('rcpt', 'headers', 'message', 'delivery')),
    smtp_code integer NOT NULL, enhanced_code text, reason text, sender text, recipient text,
    from_address text, key_kind text, key_target numeric, key_user numeric, message_id text,
    client_address text, client_name text, queue_id text);
CREATE FUNCTION replygate.record_refusal(stage text, smtp_code integer, enhanced_code text,
    reason text, sender text, recipient text, from_address text, key_kind text,
    key_target numeric, key_user numeric, message_id text, client_address text,
    client_name text, queue_id text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = replygate, pg_temp AS $$
DECLARE new_id bigint;
BEGIN
    INSERT INTO replygate.refusals (stage, smtp_code, enhanced_code, reason, sender, recipient,
        from_address, key_kind, key_target, key_user, message_id, client_address, client_name,
        queue_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id INTO new_id;
    PERFORM pg_notify('replygate_refusal', new_id::text);
    RETURN new_id;
END $$;
SQL
    tap_ok "the draft of replygate.record_refusal() (sql/0002 is not in the tree yet)"
fi

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
run_lua "one refusal of each stage, database up" refusals.lua
want="rcpt|530|5.7.0|bob@example.org|$KEY_ADDR|192.0.2.10|mail.example.org|4F2A21041E3
rcpt|550|5.1.1|bob@example.org|$KEY_TAMPERED|192.0.2.10|mail.example.org|4F2A21041E3
headers|550|5.1.1|bob@example.org|$DEDICATED|bob@example.org|keyless-1@example.org|192.0.2.10|mail.example.org|4F2A21041E3
headers|550|5.7.1|bob@example.org|$KEY_ADDR|bob@example.org|auto-1@example.org|192.0.2.10|mail.example.org|4F2A21041E3
message|550|5.1.1|bob@example.org|$DEDICATED|bob@example.org|mixed-1@example.org|192.0.2.10|mail.example.org|4F2A21041E3"
wait_rows 5
tap_is "a row for each refusal: stage, codes, sender, recipient, From, Message-ID, client, queue id" \
    "$(rows)" "$want"
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
