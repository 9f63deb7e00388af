#!/bin/bash
# pgbouncer.sh - the agent through a real PgBouncer (Debian 12's 1.18) in
# transaction mode, started here in front of a throwaway PostgreSQL (issue
# 14): unnamed statements, BEGIN / SET LOCAL / COMMIT in one pipeline and no
# session state let 30 deliveries at once share 2 server connections; a
# refusal row and a duplicate go through it too; database_lock_timeout holds
# (SET LOCAL, not a startup option, which PgBouncer refuses); no setting
# leaks into the pooled session; PgBouncer's "no more connections allowed"
# gives the agent's "database has too many clients" text.
#
# Environment: RG_DELIVER, RG_CLI, RG_SRC.
set -u
SRC=${RG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DELIVER=${RG_DELIVER:-$SRC/build/pipe-agent/replygate-deliver}
CLI=${RG_CLI:-$SRC/build/cli/replygate}
PGBOUNCER=${PGBOUNCER:-/usr/sbin/pgbouncer}
. "$SRC/tests/lib/tap.sh"
. "$SRC/tests/lib/pg.sh"

[ -x "$PGBOUNCER" ] || tap_bail "pgbouncer not installed (scripts/deps test)"
T=$(mktemp -d /tmp/rg-bouncer.XXXXXX) || tap_bail "mktemp failed"
chmod 755 "$T"
BOUNCER_PID=
HOLDERS=()
cleanup() {
    local p
    for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "$BOUNCER_PID" ] && kill "$BOUNCER_PID" 2>/dev/null && wait "$BOUNCER_PID" 2>/dev/null
    pg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
pg_start || tap_bail "cannot start PostgreSQL"
"$CLI" migrate --create-roles --database "$PG_CONNINFO" >/dev/null || tap_bail "migrate failed"
pg_psql -c "CREATE ROLE rg_agent LOGIN IN ROLE replygate_writer" >/dev/null

# PgBouncer refuses to run as root: it runs as postgres, on a unix socket in $T.
mkdir -p "$T/bouncer"
cat >"$T/bouncer/pgbouncer.ini" <<EOF
[databases]
replygate = host=$PG_DIR dbname=replygate
[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $T/bouncer
auth_type = trust
auth_file = $T/bouncer/users.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 40
logfile = $T/bouncer/pgbouncer.log
pidfile =
admin_users = postgres
ignore_startup_parameters = extra_float_digits
EOF
printf '"rg_agent" ""\n"postgres" ""\n' >"$T/bouncer/users.txt"
chown -R postgres: "$T/bouncer"
runuser -u postgres -- "$PGBOUNCER" "$T/bouncer/pgbouncer.ini" >"$T/bouncer/stdout" 2>&1 &
BOUNCER_PID=$!
for _ in $(seq 100); do [ -S "$T/bouncer/.s.PGSQL.6432" ] && break; sleep 0.1; done
[ -S "$T/bouncer/.s.PGSQL.6432" ] || { sed 's/^/# /' "$T/bouncer/stdout" "$T/bouncer/pgbouncer.log"; tap_bail "pgbouncer did not start"; }
BOUNCED="host=$T/bouncer port=6432 dbname=replygate user=rg_agent"
admin() { "$PG_BIN/psql" -X -q -A -t -F' ' "host=$T/bouncer port=6432 dbname=pgbouncer user=postgres" -c "$1"; }

SECRET=0123456789abcdef0123456789abcdef-bouncer-test
printf '%s\n' "$SECRET" >"$T/secrets"
chmod 600 "$T/secrets"
# write_config FILE [EXTRA...]
write_config() {
    local f=$1 l
    shift
    {
        echo "reply_domain = reply.example.com"
        echo "secrets_file = $T/secrets"
        echo "database = $BOUNCED"
        echo "spool_directory = $T/spool"
        echo "processor_log = $T/replygate.log"
        for l in "$@"; do echo "$l"; done
    } >"$f"
}
CFG=$T/replygate.conf
write_config "$CFG"
address() {
    local mac
    mac=$(printf '%s' "$1-$2-$3" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.*= *//' | cut -c1-40)
    echo "reply+$1-$2-$mac-$3@reply.example.com"
}
# message FILE N BODY
message() {
    printf 'From: bob@example.org\nTo: %s\nSubject: pooled %s\nDate: Sun, 06 Dec 2026 12:00:00 +0000\nMessage-ID: <pooled%s@example.org>\n\n%s\n' \
        "$(address i "$2" 5)" "$2" "$2" "$3" >"$1"
}

# deferred - the details of the last deferral in mail.log's words (the first
# line the sender reads is the generic text)
deferred() { sed -n 's/.*status=deferred (\(.*\))$/\1/p' "$T/err" | tail -1; }

# --- 30 deliveries at once through 2 server connections ----------------------------------------
for i in $(seq 30); do message "$T/m$i.eml" "$i" "Reply number $i through the pooler."; done
for i in $(seq 30); do
    REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$CFG" -q "QB$i" -f bob@example.org -r "$(address i "$i" 5)" \
        <"$T/m$i.eml" >"$T/out$i" 2>"$T/err$i" &
done
rcs=
for job in $(jobs -p); do
    [ "$job" = "$BOUNCER_PID" ] && continue
    wait "$job"; rcs="$rcs$?"
done
tap_is "30 at once through PgBouncer: every one exit 0" "$rcs" "$(printf '0%.0s' $(seq 30))"
tap_is "30 at once: 30 rows" "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id LIKE 'pooled%'")" 30
tap_is "30 at once: every recipient recorded" "$(pg_value "SELECT count(*) FROM replygate.reply_recipients")" 30
tap_is "30 at once: no error from the pooler (prepared statements, pipeline, SET LOCAL)" \
    "$(cat "$T"/out* | tr -d '\n')$(grep -ci 'error' "$T"/err* | grep -vc ':0$')" "0"
servers=$(pg_value "SELECT count(*) FROM pg_stat_activity WHERE usename = 'rg_agent'")
tap_like "the server saw at most default_pool_size = 2 connections of the agent (now $servers)" "$servers" '^[0-2]$'
tap_like "PgBouncer served them in transaction mode" "$(admin "SHOW POOLS" | grep '^replygate rg_agent')" \
    "transaction$"

# --- a duplicate and a refusal through it ---------------------------------------------------------
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$CFG" -q QDUP -f bob@example.org -r "$(address i 1 5)" \
    <"$T/m1.eml" >"$T/out" 2>"$T/err"
tap_is "a duplicate through PgBouncer: exit 0, one row" \
    "$?/$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'pooled1@example.org'")" "0/1"
tap_like "a duplicate: logged" "$(cat "$T/err")" "QDUP: .*status=duplicate$"
message "$T/empty.eml" 99 "> only the quote"
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$CFG" -q QEMPTY -f bob@example.org -r "$(address i 99 5)" \
    <"$T/empty.eml" >"$T/out" 2>"$T/err"
tap_is "a refusal through PgBouncer: 65 and its row" \
    "$?/$(pg_value "SELECT stage || ' ' || queue_id FROM replygate.refusals")" "65/delivery QEMPTY"

# --- no session state: SET LOCAL only ---------------------------------------------------------------
tap_is "no setting leaks into the pooled session" \
    "$("$PG_BIN/psql" -X -A -t "$BOUNCED" -c "SHOW lock_timeout" -c "SHOW statement_timeout" | tr '\n' ' ')" "0 0 "
mkfifo "$T/lock"
exec 7<>"$T/lock"
"$PG_BIN/psql" -X -q "$PG_CONNINFO" <"$T/lock" >/dev/null 2>&1 &
HOLDERS+=($!)
echo "BEGIN; LOCK TABLE replygate.messages IN ACCESS EXCLUSIVE MODE;" >&7
for _ in $(seq 100); do
    [ "$(pg_value "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'replygate.messages'::regclass")" = 1 ] && break
    sleep 0.1
done
write_config "$T/lock.conf" "database_lock_timeout = 1s"
message "$T/lock.eml" 100 "Waiting for a lock."
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/lock.conf" -q QLOCK -f bob@example.org -r "$(address i 100 5)" \
    <"$T/lock.eml" >"$T/out" 2>"$T/err"
tap_like "database_lock_timeout through PgBouncer: SET LOCAL holds, deferred with 55P03" \
    "$?/$(deferred)" '^75/4\.3\.0 database: .*SQLSTATE 55P03'
echo "COMMIT;" >&7
exec 7>&-
sed "s|^database = .*|database = $BOUNCED options='-c lock_timeout=1000'|" "$CFG" >"$T/options.conf"
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/options.conf" -q QOPT -f bob@example.org -r "$(address i 100 5)" \
    <"$T/lock.eml" >"$T/out" 2>"$T/err"
tap_like "a startup option instead: PgBouncer refuses it (why the agent uses SET LOCAL)" \
    "$?/$(deferred)" '^75/4\.3\.0 .*unsupported startup parameter'

# --- too many clients ---------------------------------------------------------------------------
admin "SET max_client_conn = 3" >/dev/null
for i in 1 2 3; do
    ( echo "SELECT 1;"; sleep 30 ) | "$PG_BIN/psql" -X -q "$BOUNCED" >/dev/null 2>&1 &
    HOLDERS+=($!)
done
for _ in $(seq 100); do [ "$(admin "SHOW CLIENTS" | grep -c '^C ')" -ge 4 ] && break; sleep 0.1; done
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$CFG" -q QFULL -f bob@example.org -r "$(address i 101 5)" \
    <"$T/lock.eml" >"$T/out" 2>"$T/err"
tap_like "past max_client_conn: deferred as \"too many clients\", not \"unreachable\"" \
    "$?/$(deferred)" '^75/4\.3\.0 database has too many clients: .*no more connections allowed'

tap_done
