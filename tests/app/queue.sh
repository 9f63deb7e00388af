#!/bin/bash
# queue.sh - the application's side of the schema (issue 16, SPEC section 8)
# against a real PostgreSQL: migration 0002 over a database an agent of the
# previous version filled and keeps filling (rolling upgrade), the roles and
# their exact grants, the queue functions (claim, ack, fail, extend, forget)
# with three psycopg2 workers and injected failures, expired leases,
# max_attempts, the out-of-order commit that skips a reply for an
# `id > last_seen` reader but not for claim(), tombstones, refusals with
# their NOTIFY, test rows left out of the views, and the attachments view.
#
# Environment: RG_CLI (replygate), RG_SRC (source tree).
set -u
SRC=${RG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
CLI=${RG_CLI:-$SRC/build/cli/replygate}
PY=/usr/bin/python3
. "$SRC/tests/lib/tap.sh"
. "$SRC/tests/lib/pg.sh"

T=$(mktemp -d /tmp/rg-queue.XXXXXX) || tap_bail "mktemp failed"
BG=()
cleanup() {
    local p
    for p in "${BG[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    pg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
pg_start || tap_bail "cannot start PostgreSQL"

# as ROLE SQL - one value, as a login role (trust on the test socket)
as() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "host=$PG_DIR dbname=replygate user=$1" -c "$2" 2>&1; }

# --- migrate --create-roles ------------------------------------------------------
# Roles belong to the cluster: this runs first, on a database of its own.
pg_psql -c "CREATE ROLE rg_plain LOGIN" -c "CREATE ROLE rg_creator LOGIN CREATEROLE" \
    -c "CREATE DATABASE fresh OWNER rg_creator" >/dev/null
out=$("$CLI" migrate --create-roles --database "host=$PG_DIR dbname=fresh user=rg_plain" 2>&1); rc=$?
tap_is "create-roles without CREATEROLE: exit 77" "$rc" 77
tap_like "create-roles without CREATEROLE: prints the SQL for the administrator" "$(echo $out)" \
    "CREATE ROLE replygate_owner NOLOGIN;.*CREATE ROLE replygate_writer NOLOGIN;.*CREATE ROLE replygate_app NOLOGIN;.*GRANT replygate_owner TO \"rg_plain\";"
tap_is "create-roles without CREATEROLE: no role, no schema made" \
    "$(pg_value "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'replygate\_%'")/$("$PG_BIN/psql" -X -A -t "host=$PG_DIR dbname=fresh user=postgres" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'replygate'")" "0/0"
# Every schema file of the tree, in order; the last one's number is the
# version these programs are built for (sql/meson.build).
SQL_FILES=$(cd "$SRC/sql" && ls 0*.sql)
SQL_LAST=$(printf '%s\n' "$SQL_FILES" | tail -1)
SQL_VERSION=${SQL_LAST:0:4}
out=$("$CLI" migrate --create-roles --database "host=$PG_DIR dbname=fresh user=rg_creator" 2>&1); rc=$?
tap_is "create-roles with CREATEROLE: exit 0" "$rc:$out" "0:$(printf 'applied %s\n' $SQL_FILES)"
tap_is "create-roles with CREATEROLE: the three roles, NOLOGIN" \
    "$(pg_value "SELECT string_agg(rolname || ':' || rolcanlogin, ' ' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'replygate\_%'")" \
    "replygate_app:false replygate_owner:false replygate_writer:false"
tap_is "create-roles with CREATEROLE: the schema belongs to replygate_owner, grants exact" \
    "$("$PG_BIN/psql" -X -A -t "host=$PG_DIR dbname=fresh user=postgres" -c "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'replygate'")/$("$PG_BIN/psql" -X -A -t "host=$PG_DIR dbname=fresh user=postgres" -c "SELECT count(*) FROM replygate.grant_problems()")" \
    "replygate_owner/0"
tap_is "create-roles twice: nothing to apply, exit 0" \
    "$("$CLI" migrate --create-roles --database "host=$PG_DIR dbname=fresh user=rg_creator" 2>&1; echo ":$?")" \
    "nothing to apply: the schema is at $SQL_LAST
:0"

# --- the previous version's schema, filled by the previous version's agent -----
mkdir "$T/sql1"
cp "$SRC/sql/0001_init.sql" "$T/sql1/"
"$CLI" migrate --database "$PG_CONNINFO" --sql-dir "$T/sql1" >/dev/null ||
    tap_bail "cannot apply 0001"
# The statements of the 0001 agent (pipe-agent/store.c before 0002), verbatim.
old_insert() { # MESSAGE-ID RECIPIENT TARGET RAW_SHA256
    pg_value "WITH m AS (INSERT INTO replygate.messages (message_id, message_id_hashed, recipient,
        queue_id, client_address, sender, key_kind, key_target, key_user, key_source, subject,
        body_text, reply_text, raw_size, raw_sha256)
        VALUES ('$1', false, '$2', 'QOLD', '192.0.2.1', 'bob@example.org', 'i', $3, 5, 'envelope',
                'old', 'old body', 'old body', 10, '$4')
        ON CONFLICT (message_id, recipient) DO NOTHING RETURNING id)
        SELECT id, pg_notify('replygate_reply', id::text) FROM m" | cut -d'|' -f1
}
old_existing() { pg_value "SELECT id FROM replygate.messages WHERE message_id = '$1' AND recipient = '$2'"; }
old_insert old1@example.org reply+i-1-aaaa-5@reply.example.com 1 sha1 >/dev/null
old_insert old1@example.org reply@reply.example.com 1 sha2 >/dev/null
old_insert old2@example.org reply@reply.example.com 2 sha3 >/dev/null

out=$("$CLI" migrate --database "$PG_CONNINFO" 2>&1); rc=$?
tap_is "0002 applies over rows of the previous version" "$rc" 0
tap_like "0002: migrate says so" "$out" "applied 0002_"
tap_is "0002: the old rows are kept, marked done (not handed out again)" \
    "$(pg_value "SELECT string_agg(state || '/' || fingerprint, ' ' ORDER BY id) FROM replygate.messages")" \
    "done/legacy:reply+i-1-aaaa-5@reply.example.com done/legacy:reply@reply.example.com done/legacy:reply@reply.example.com"
tap_is "0002: the new unique key exists" \
    "$(pg_value "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'messages_reply_key'")" \
    "UNIQUE (message_id, key_kind, key_target, key_user, fingerprint)"
tap_is "0002: the schema made by 0001 as postgres now belongs to replygate_owner" \
    "$(pg_value "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'replygate'")" replygate_owner
tap_is "0002: every old row's recipient is recorded" \
    "$(pg_value "SELECT count(*) FROM replygate.reply_recipients")" 3

# The previous agent keeps working during the rolling upgrade.
id=$(old_insert old3@example.org reply+i-3-aaaa-5@reply.example.com 3 sha4)
tap_like "rolling upgrade: the old agent's INSERT ... ON CONFLICT (message_id, recipient) stores" "$id" '^[0-9]+$'
tap_is "rolling upgrade: its row gets a fingerprint, a recipient row and state new" \
    "$(pg_value "SELECT m.fingerprint || ' ' || m.state || ' ' || r.recipient FROM replygate.messages m JOIN replygate.reply_recipients r ON r.reply_id = m.id WHERE m.id = $id")" \
    "legacy:reply+i-3-aaaa-5@reply.example.com new reply+i-3-aaaa-5@reply.example.com"
tap_is "rolling upgrade: its retry is a duplicate (no row), and it finds the first" \
    "$(old_insert old3@example.org reply+i-3-aaaa-5@reply.example.com 3 sha4)/$(old_existing old3@example.org reply+i-3-aaaa-5@reply.example.com)" \
    "/$id"

# --- roles: created, and exactly SPEC section 8's matrix -------------------------
pg_psql -c "CREATE ROLE rg_agent LOGIN IN ROLE replygate_writer;
            CREATE ROLE rg_app LOGIN IN ROLE replygate_app;
            CREATE ROLE rg_owner LOGIN IN ROLE replygate_owner;
            CREATE ROLE rg_other LOGIN" >/dev/null
"$CLI" migrate --database "$PG_CONNINFO" >/dev/null
tap_is "grants: no problem reported once the roles exist" \
    "$(pg_value "SELECT count(*) FROM replygate.grant_problems()")" 0
tap_is "grants: everything in the schema belongs to replygate_owner" \
    "$(pg_value "SELECT count(*) FROM pg_class WHERE relnamespace = 'replygate'::regnamespace AND relkind IN ('r','v','S') AND relowner <> 'replygate_owner'::regrole")/$(pg_value "SELECT count(*) FROM pg_proc WHERE pronamespace = 'replygate'::regnamespace AND proowner <> 'replygate_owner'::regrole")/$(pg_value "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'replygate'")" \
    "0/0/replygate_owner"
tap_is "grants: replygate_app holds exactly the views, the queue functions and user_addresses" \
    "$(pg_value "SELECT string_agg(kind || ' ' || object || ' ' || privilege, '; ' ORDER BY kind, object, privilege) FROM replygate.granted_privileges() WHERE role = 'replygate_app'")" \
    "function replygate.ack(bigint,uuid) EXECUTE; function replygate.claim(text,integer,interval) EXECUTE; function replygate.extend(bigint,uuid,interval) EXECUTE; function replygate.fail(bigint,uuid,text,timestamp with time zone) EXECUTE; function replygate.forget(bigint) EXECUTE; schema replygate USAGE; table replygate.processed_replies SELECT; table replygate.refused_replies SELECT; table replygate.reply_attachments SELECT; table replygate.user_addresses DELETE; table replygate.user_addresses INSERT; table replygate.user_addresses SELECT; table replygate.user_addresses UPDATE"
tap_is "grants: replygate_writer inserts and reads what delivery needs, nothing more" \
    "$(pg_value "SELECT string_agg(kind || ' ' || object || ' ' || privilege, '; ' ORDER BY kind, object, privilege) FROM replygate.granted_privileges() WHERE role = 'replygate_writer'")" \
    "function replygate.grant_problems() EXECUTE; function replygate.purge_expired(integer,boolean) EXECUTE; function replygate.record_refusal(text,integer,text,text,text,text,text,text,numeric,numeric,text,text,text,text) EXECUTE; function replygate.refusal_counts() EXECUTE; function replygate.store_reply(text,boolean,text,text,text,text,text,numeric,numeric,text,text,text,text,timestamp with time zone,text,text[],text,text,text,text,text,text,integer,bigint,text,text,boolean,text,text,text,text,text,text,boolean,boolean,boolean,boolean,boolean,text,text) EXECUTE; schema replygate USAGE; table replygate.attachments INSERT; table replygate.messages INSERT; table replygate.messages SELECT; table replygate.reply_recipients INSERT; table replygate.reply_recipients SELECT; table replygate.schema_migrations SELECT; table replygate.settings SELECT; table replygate.tombstones SELECT; table replygate.user_addresses SELECT"
tap_is "grants: PUBLIC may execute no replygate function" \
    "$(pg_value "SELECT count(*) FROM replygate.granted_privileges() WHERE role = 'PUBLIC'")" 0
tap_like "grants: the app cannot read the table" "$(as rg_app "SELECT count(*) FROM replygate.messages")" \
    "permission denied for table messages"
tap_like "grants: the app cannot write a refusal" \
    "$(as rg_app "SELECT replygate.record_refusal('rcpt',550,'5.1.1','x',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)")" \
    "permission denied for function record_refusal"
tap_like "grants: the app cannot store a reply" \
    "$(as rg_app "SELECT replygate.store_reply('m', false, 'r', NULL, NULL, '', 'i', 1, 5, NULL, NULL, NULL, NULL, NULL, NULL, '{}', '', '', '', NULL, NULL, NULL, NULL, 1, NULL, 'f', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, false, NULL, NULL)")" \
    "permission denied for function store_reply"
tap_like "grants: the writer cannot claim" "$(as rg_agent "SELECT * FROM replygate.claim('w', 1, '1 minute')")" \
    "permission denied for function claim"
tap_like "grants: the writer cannot delete" "$(as rg_agent "DELETE FROM replygate.messages")" \
    "permission denied for table messages"
tap_like "grants: the writer has no DDL" "$(as rg_agent "CREATE TABLE replygate.x (a int)")" \
    "permission denied for schema replygate"
tap_like "grants: another role sees nothing" "$(as rg_other "SELECT count(*) FROM replygate.processed_replies")" \
    "permission denied for schema replygate"
# The check can fail: an extra grant is reported, and the next migrate removes it.
pg_psql -c "GRANT DELETE ON replygate.messages TO replygate_writer" >/dev/null
tap_is "grants: an extra privilege is reported" \
    "$(pg_value "SELECT * FROM replygate.grant_problems()")" \
    "replygate_writer holds DELETE on table replygate.messages, which SPEC section 8 does not give it"
"$CLI" migrate --database "$PG_CONNINFO" >/dev/null
tap_is "grants: migrate puts the matrix back" "$(pg_value "SELECT count(*) FROM replygate.grant_problems()")" 0

# new_reply MESSAGE-ID FINGERPRINT [IS_TEST] [BODY_HTML] - a row as the new
# agent stores it (as the writer), printing its id
new_reply() {
    as rg_agent "WITH m AS (INSERT INTO replygate.messages (message_id, sender, key_kind, key_target,
        key_user, fingerprint, raw_sha256, is_test, body_text, reply_text, body_html)
        VALUES ('$1', 'bob@example.org', 'i', 7, 5, '$2', 'raw-$1-$2', ${3:-false}, 'b', 'b', ${4:-NULL})
        ON CONFLICT (message_id, key_kind, key_target, key_user, fingerprint) DO NOTHING RETURNING id),
        r AS (INSERT INTO replygate.reply_recipients (reply_id, recipient) SELECT id, 'reply@reply.example.com' FROM m)
        SELECT id FROM m"
}

# --- the queue: three workers, injected failures, 500 replies ---------------------
pg_psql -c "UPDATE replygate.messages SET state = 'done'" >/dev/null
pg_psql -c "UPDATE replygate.settings SET max_attempts = 100, retry_delay = '0'" >/dev/null
as rg_agent "INSERT INTO replygate.messages (message_id, sender, key_kind, key_target, key_user, fingerprint)
             SELECT 'bulk' || g || '@example.org', 'bob@example.org', 'i', g, 5, 'fp' FROM generate_series(1, 500) g" >/dev/null
"$PY" "$SRC/tests/app/workers.py" drain "host=$PG_DIR dbname=replygate user=rg_app" 3 10 "$T/acks" \
    2>"$T/workers.err"
tap_is "three workers: they ran without an error" "$(cat "$T/workers.err")" ""
tap_is "three workers: 500 acks" "$(wc -l <"$T/acks")" 500
tap_is "three workers: each reply acked exactly once" "$(cut -d' ' -f1 "$T/acks" | sort -u | wc -l)" 500
tap_is "three workers: all 500 done" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id LIKE 'bulk%' AND state = 'done'")" 500
tap_is "three workers: every worker took a share" "$(cut -d' ' -f2 "$T/acks" | sort -u | wc -l)" 3
tap_like "three workers: failures and expired leases were retried (attempts > 1 seen)" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id LIKE 'bulk%' AND attempts > 1")" '^[1-9][0-9]*$'

# --- a lease that expires comes back; extend keeps it ----------------------------------
pg_psql -c "UPDATE replygate.settings SET max_attempts = 3, retry_delay = '1 hour'" >/dev/null
a=$(new_reply lease@example.org fpA)
b=$(new_reply extend@example.org fpB)
first=$(as rg_app "SELECT id || ' ' || claim_token FROM replygate.claim('w1', 10, '4 seconds') ORDER BY id")
tok_a=$(printf '%s\n' "$first" | awk -v id="$a" '$1 == id {print $2}')
tok_b=$(printf '%s\n' "$first" | awk -v id="$b" '$1 == id {print $2}')
tap_is "lease: both claimed by w1" "$(printf '%s\n' "$first" | wc -l)" 2
tap_is "lease: extend keeps b" "$(as rg_app "SELECT replygate.extend($b, '$tok_b', '1 hour')")" t
tap_is "lease: nothing to claim while the leases run" "$(as rg_app "SELECT count(*) FROM replygate.claim('w2', 10, '1 minute')")" 0
sleep 4.5
second=$(as rg_app "SELECT id || ' ' || claim_token || ' ' || attempts || ' ' || last_error FROM replygate.claim('w2', 10, '1 minute')")
tap_like "lease: the expired one comes back to w2, as attempt 2" "$second" "^$a [0-9a-f-]+ 2 lease of w1 expired$"
tap_is "lease: the extended one does not" "$(printf '%s\n' "$second" | wc -l)" 1
tap_is "lease: w1's late ack is refused" "$(as rg_app "SELECT replygate.ack($a, '$tok_a')")" f
tok_a2=$(printf '%s\n' "$second" | cut -d' ' -f2)
tap_is "lease: w2's ack counts" "$(as rg_app "SELECT replygate.ack($a, '$tok_a2')")" t
tap_is "lease: acked once only" "$(as rg_app "SELECT replygate.ack($a, '$tok_a2')")" f
tap_is "fail: b is put back with its error" \
    "$(as rg_app "SELECT replygate.fail($b, '$tok_b', 'the tracker said 503')")/$(pg_value "SELECT state || ' ' || last_error || ' ' || (retry_at > now() + interval '50 minutes') FROM replygate.messages WHERE id = $b")" \
    "t/new the tracker said 503 true"
tap_is "fail: not handed out before retry_at" "$(as rg_app "SELECT count(*) FROM replygate.claim('w3', 10, '1 minute')")" 0

# --- max_attempts ends in failed -------------------------------------------------------
c=$(new_reply attempts@example.org fpC)
for i in 1 2 3; do
    tok=$(as rg_app "SELECT claim_token FROM replygate.claim('w$i', 1, '1 minute') WHERE id = $c")
    as rg_app "SELECT replygate.fail($c, '$tok', 'failure $i', now())" >/dev/null
done
tap_is "max_attempts: three failures of three end in failed" \
    "$(pg_value "SELECT state || ' ' || attempts || ' ' || last_error FROM replygate.messages WHERE id = $c")" \
    "failed 3 failure 3"
d=$(new_reply expiry@example.org fpD)
for i in 1 2 3; do
    as rg_app "SELECT id FROM replygate.claim('x$i', 1, '0.2 seconds') WHERE id = $d" >/dev/null
    sleep 0.3
done
as rg_app "SELECT count(*) FROM replygate.claim('x4', 10, '1 minute')" >/dev/null
tap_is "max_attempts: an expired lease counts as an attempt" \
    "$(pg_value "SELECT state || ' ' || attempts || ' ' || last_error FROM replygate.messages WHERE id = $d")" \
    "failed 3 lease of x3 expired on attempt 3 of 3"

# --- the out-of-order commit -------------------------------------------------------------
pg_psql -c "UPDATE replygate.messages SET state = 'done' WHERE state <> 'done'" >/dev/null
last_seen=$(pg_value "SELECT max(id) FROM replygate.messages")
mkfifo "$T/slow"
exec 7<>"$T/slow"
"$PG_BIN/psql" -X -q -A -t "host=$PG_DIR dbname=replygate user=rg_agent" <"$T/slow" >"$T/slow.out" 2>&1 &
BG+=($!)
echo "BEGIN; INSERT INTO replygate.messages (message_id, sender, key_kind, key_target, key_user, fingerprint) VALUES ('slow@example.org', 'b', 'i', 1, 5, 'fpS') RETURNING id;" >&7
for _ in $(seq 50); do [ -s "$T/slow.out" ] && break; sleep 0.1; done
slow=$(head -1 "$T/slow.out")
fast=$(new_reply fast@example.org fpF)
tap_like "out of order: the slow transaction took the lower id" "$slow<$fast" '^[0-9]+<[0-9]+$'
[ "$slow" -lt "$fast" ] || tap_not_ok "out of order: ids" "slow $slow fast $fast"
seen=$(as rg_app "SELECT string_agg(id::text, ' ') FROM replygate.processed_replies WHERE id > $last_seen")
tap_is "out of order: an id > last_seen reader sees only the fast one" "$seen" "$fast"
got1=$(as rg_app "SELECT id || ' ' || claim_token FROM replygate.claim('q', 10, '1 minute')")
tap_is "out of order: claim() hands out the fast one" "$(echo "$got1" | cut -d' ' -f1)" "$fast"
as rg_app "SELECT replygate.ack($fast, '$(echo "$got1" | cut -d' ' -f2)')" >/dev/null
echo "COMMIT;" >&7
for _ in $(seq 50); do grep -q COMMIT "$T/slow.out" 2>/dev/null && break; sleep 0.1; done
exec 7>&-
seen=$(as rg_app "SELECT coalesce(string_agg(id::text, ' '), '') FROM replygate.processed_replies WHERE id > $fast")
tap_is "out of order: the reader, now at id $fast, never sees the slow one" "$seen" ""
tap_is "out of order: claim() still hands it out" \
    "$(as rg_app "SELECT id FROM replygate.claim('q', 10, '1 minute')")" "$slow"

# --- tombstones: forget, then the same reply again ------------------------------------
e=$(new_reply forget@example.org fpE)
tap_is "forget: true for a reply the app sees" "$(as rg_app "SELECT replygate.forget($e)")" t
tap_is "forget: false the second time" "$(as rg_app "SELECT replygate.forget($e)")" f
tap_is "forget: a tombstone with the same unique key" \
    "$(pg_value "SELECT concat_ws(' ', message_id, key_kind, key_target, key_user, fingerprint, reply_id, reason) FROM replygate.tombstones")" \
    "forget@example.org i 7 5 fpE $e forget"
tap_is "forget: the same reply is never stored again" "$(new_reply forget@example.org fpE)" ""
tap_like "forget: a different message with that Message-ID still is" "$(new_reply forget@example.org fpE2)" '^[0-9]+$'
old_insert old1@example.org reply+i-1-aaaa-5@reply.example.com 1 sha1 >/dev/null
gone=$(pg_value "SELECT id FROM replygate.messages WHERE message_id = 'old1@example.org' AND recipient LIKE 'reply+%'")
pg_value "SELECT count(*) FROM replygate.bury(ARRAY[$gone], 'purge')" >/dev/null
tap_is "forget: an old agent's retry of a buried reply stores nothing" \
    "$(old_insert old1@example.org reply+i-1-aaaa-5@reply.example.com 1 sha1)/$(old_existing old1@example.org reply+i-1-aaaa-5@reply.example.com)" "/"
# The race: forget() commits while a redelivery waits on the row it deletes.
f=$(new_reply race@example.org fpR)
exec 8> >("$PG_BIN/psql" -X -q "host=$PG_DIR dbname=replygate user=rg_app" >"$T/forget.out" 2>&1)
echo "BEGIN; SELECT replygate.forget($f);" >&8
# Wait for the states themselves, not for times, so that a loaded machine
# cannot reorder the race: forget() has run and holds its transaction open,
# then the redelivery's INSERT waits on its lock, then forget() commits.
for _ in $(seq 600); do
    [ "$(pg_value "SELECT count(*) FROM pg_stat_activity WHERE usename = 'rg_app' AND state = 'idle in transaction'")" -ge 1 ] && break
    sleep 0.1
done
(
    for _ in $(seq 600); do
        [ "$(pg_value "SELECT count(*) FROM pg_stat_activity WHERE usename = 'rg_agent' AND wait_event_type = 'Lock'")" -ge 1 ] && break
        sleep 0.1
    done
    echo "COMMIT;" >&8
) &
committer=$!
race=$("$PG_BIN/psql" -X -q -A -t "host=$PG_DIR dbname=replygate user=rg_agent" 2>&1 -c "
    WITH m AS (INSERT INTO replygate.messages (message_id, sender, key_kind, key_target, key_user, fingerprint)
               VALUES ('race@example.org', 'b', 'i', 7, 5, 'fpR')
               ON CONFLICT (message_id, key_kind, key_target, key_user, fingerprint) DO NOTHING RETURNING id)
    SELECT id FROM m")
wait "$committer"
exec 8>&-
tap_like "forget race: the waiting INSERT is refused at commit (RG001)" "$race" "was deleted while it was being stored"
tap_is "forget race: no row came back" "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = 'race@example.org'")" 0

# --- test rows and the attachments view ------------------------------------------------------
t=$(new_reply test@example.org fpT true)
tap_is "test rows: not in processed_replies" "$(as rg_app "SELECT count(*) FROM replygate.processed_replies WHERE id = $t")" 0
tap_is "test rows: never claimed" "$(as rg_app "SELECT count(*) FROM replygate.claim('w', 100, '1 minute') WHERE id = $t")" 0
tap_is "test rows: forget cannot reach them" "$(as rg_app "SELECT replygate.forget($t)")" f
h=$(new_reply html@example.org fpH false "'<p><img src=\"cid:image001.png@01D9\"> and cid:part2x</p>'")
pg_psql -c "INSERT INTO replygate.attachments (reply_id, position, filename, content_type, content_id, size, sha256, inline, data) VALUES
    ($h, 1, 'image001.png', 'image/png', 'image001.png@01D9', 3, 'x', false, '\\x010203'),
    ($h, 2, 'b.pdf', 'application/pdf', 'part2', 1, 'y', false, '\\x04'),
    ($h, 3, 'c.png', 'image/png', NULL, 1, 'z', true, '\\x05'),
    ($t, 1, 't.txt', 'text/plain', NULL, 1, 'w', false, '\\x06')" >/dev/null
tap_is "attachments view: inline for a cid: reference, not for a prefix of another" \
    "$(as rg_app "SELECT string_agg(position || '=' || inline || ':' || encode(data, 'hex'), ' ' ORDER BY position) FROM replygate.reply_attachments WHERE reply_id = $h")" \
    "1=true:010203 2=false:04 3=true:05"
tap_is "attachments view: a test row's attachments are left out" \
    "$(as rg_app "SELECT count(*) FROM replygate.reply_attachments WHERE reply_id = $t")" 0

# --- refusals: the function, the view, the NOTIFY --------------------------------------------
"$PY" "$SRC/tests/app/workers.py" listen "host=$PG_DIR dbname=replygate user=rg_app" replygate_refusal 8 >"$T/notify" &
BG+=($!)
for _ in $(seq 50); do grep -q listening "$T/notify" && break; sleep 0.1; done
ids=
for stage in rcpt headers message delivery; do
    ids="$ids $(as rg_agent "SELECT replygate.record_refusal('$stage', 550, '5.7.1', 'refused at $stage', 'bob@example.org', 'reply@reply.example.com', 'bob@example.org', 'i', 18446744073709551615, 5, 'r-$stage@example.org', '192.0.2.1', 'mail.example.org', 'Q$stage')")"
done
tap_like "refusals: record_refusal returns each id" "$ids" '^( [0-9]+){4}$'
tap_is "refusals: the application's view shows each stage" \
    "$(as rg_app "SELECT string_agg(stage || ':' || reason || ':' || target::text, ' ' ORDER BY id) FROM replygate.refused_replies")" \
    "rcpt:refused at rcpt:18446744073709551615 headers:refused at headers:18446744073709551615 message:refused at message:18446744073709551615 delivery:refused at delivery:18446744073709551615"
tap_like "refusals: an unknown stage is refused" \
    "$(as rg_agent "SELECT replygate.record_refusal('smtp', 550, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")" \
    "refusals_stage_check"
long=$(head -c 5000 /dev/zero | tr '\0' x)
as rg_agent "SELECT replygate.record_refusal('delivery', NULL, '5.6.0', '$long', '$long', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)" >/dev/null
tap_is "refusals: outsiders' texts are cut to a bound" \
    "$(pg_value "SELECT length(reason) || ' ' || length(sender) FROM replygate.refusals ORDER BY id DESC LIMIT 1")" "1000 998"
for _ in $(seq 50); do [ "$(grep -c '^[0-9]' "$T/notify")" -ge 5 ] && break; sleep 0.1; done
tap_is "refusals: one NOTIFY replygate_refusal per row, carrying its id" \
    "$(grep '^[0-9]' "$T/notify" | head -4 | tr '\n' ' ')" "$(echo $ids) "

# --- replygate check: the schema version and the grants ---------------------------------------
printf 'x%.0s' $(seq 40) >"$T/secrets"
chmod 600 "$T/secrets"
# check_as ROLE - the database lines of `replygate check` with that role in `database`
check_as() {
    printf 'reply_domain = reply.example.com\nsecrets_file = %s\ndatabase = host=%s dbname=replygate user=%s\nspool_directory = %s/spool\nprocessor_log = %s/log\n' \
        "$T/secrets" "$PG_DIR" "$1" "$T" "$T" >"$T/check.conf"
    "$CLI" check --config "$T/check.conf" --sql-dir "$SRC/sql" 2>&1 |
        grep -E 'schema version|database role|roles|database reachable'
}
out=$(check_as rg_agent)
tap_like "check: the schema version is the program's" "$out" "^OK +schema version $SQL_VERSION, the one this program expects$"
tap_like "check: the grants are exactly SPEC's" "$out" "^OK +roles replygate_owner, replygate_writer and replygate_app have exactly SPEC section 8's grants$"
tap_like "check: the agent's role is a writer" "$out" "^OK +database role rg_agent is a member of replygate_writer$"
tap_like "check: a superuser in database is a warning" "$(check_as postgres)" "^WARN +database role postgres is a superuser"
tap_like "check: a role that is no writer fails" "$(check_as rg_app)" "^FAIL +database role rg_app is not a member of replygate_writer"
pg_psql -c "GRANT UPDATE ON replygate.messages TO replygate_app" >/dev/null
tap_like "check: an extra grant fails, named" "$(check_as rg_agent)" \
    "^FAIL +database roles: replygate_app holds UPDATE on table replygate.messages, which SPEC section 8 does not give it; fix: run: replygate migrate --create-roles"
"$CLI" migrate --database "$PG_CONNINFO" >/dev/null
pg_psql -c "INSERT INTO replygate.schema_migrations (version) VALUES ('9999_from_the_future.sql')" >/dev/null
tap_like "check: a newer schema (rolling upgrade) is a warning" "$(check_as rg_agent)" \
    "^WARN +schema version 9999 is newer than this program's $SQL_VERSION; fix: upgrade replygate on this host"
pg_psql -c "DELETE FROM replygate.schema_migrations WHERE version >= '0002'" >/dev/null
tap_like "check: an older schema fails" "$(check_as rg_agent)" \
    "^FAIL +schema version 0001 is older than this program's $SQL_VERSION; fix: run: replygate migrate"
for f in $SQL_FILES; do
    [ "$f" = 0001_init.sql ] ||
        pg_psql -c "INSERT INTO replygate.schema_migrations (version) VALUES ('$f')" >/dev/null
done

# --- applying again changes nothing --------------------------------------------------------------
dump() { "$PG_BIN/pg_dump" -s "$PG_CONNINFO" | grep -v '^\\\(un\)\?restrict' | md5sum; }
before=$(dump)
out=$("$CLI" migrate --database "$PG_CONNINFO" 2>&1)
tap_like "migrate again: nothing to apply" "$out" "nothing to apply"
tap_is "migrate again: schema and grants unchanged" "$(dump)" "$before"

tap_done
