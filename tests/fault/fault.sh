#!/bin/bash
# fault.sh - faults against the real stack: nothing lost, nothing stored twice.
#
# One stack (scripts/lib/stack.sh: Postfix, milter, agent, PostgreSQL) and:
#   1. PostgreSQL stopped while 200 replies arrive: all 200 deferred in
#      Postfix's queue (postqueue -j), none bounced; after the restart and
#      postqueue -f, exactly 200 rows.
#   2. The milter stopped: Postfix answers 4xx and accepts nothing unfiltered.
#   3. The agent killed with SIGKILL inside its transaction (a test trigger
#      sleeps in the INSERT): Postfix retries and the reply is stored once.
#   4. The same message delivered twice: one row.
#   5. The spool on a full tmpfs: the agent exits 75 (the LMTP service
#      answers 451), Postfix keeps the replies, and once there is room every
#      one is stored.
# With RG_TRANSPORT=lmtp the same cases run through lmtp(8) and
# replygate-lmtpd (in case 3 the service itself is killed), and three more:
#   6. the pool exhausted (lmtp_pool_size = 1 and a held lock): 451, not a
#      hang; deferred, then stored once;
#   7. SIGTERM while 200 replies arrive: the service drains and exits, is
#      started again, and every reply is stored exactly once;
#   8. the service's PostgreSQL connections under load stay within
#      lmtp_pool_size.
# Environment (set by meson): SRC, the source tree; BUILD, the build tree;
# RG_TRANSPORT, the delivery door (pipe or lmtp).
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/fault/common.sh"

# The small file system for case 5 must exist before Postfix starts: its
# processes live in a mount namespace copied at start (tests/lib/postfix.sh).
TMPFS=$(mktemp -d /tmp/rg-fault-tmpfs.XXXXXX)
chmod 755 "$TMPFS"
mount -t tmpfs -o size=2m,mode=755 tmpfs "$TMPFS" || tap_bail "cannot mount a tmpfs on $TMPFS"
FAULT_CLEANUP+=("umount '$TMPFS'; rmdir '$TMPFS'")
fault_up fault
RUN=f$$
# until_true SECONDS CMD... - run CMD every 0.2 s until it succeeds
until_true() {
    local i n=$(($1 * 5))
    shift
    for i in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}
# at_least N CMD... - does CMD print a number of at least N?
at_least() { local n=$1; shift; [ "$("$@")" -ge "$n" ] 2>/dev/null; }
echo "# stack on 127.0.0.1:$PORT in $T"

# --- 1. PostgreSQL stopped while 200 replies arrive ---------------------------
echo "# [${SECONDS}s] 1. PostgreSQL stopped while 200 replies arrive"
P=$RUN-pgdown
pg_stop
accepted=$(send 200 10 "$P")
tap_is "PostgreSQL down: Postfix accepted all 200 replies (250 after DATA)" "$accepted" 200
got=$(wait_for 180 200 queue_count deferred)
tap_is "PostgreSQL down: all 200 deferred in Postfix's queue (postqueue -j)" "$got" 200
reasons=$(postqueue -c "$D/postfix" -j | jq -r '.recipients[].delay_reason' | sed 's/[0-9]\{1,\}/N/g' | sort | uniq -c | sort -rn | head -3)
echo "# delay reasons: $(echo "$reasons" | tr '\n' ';')"
tap_like "PostgreSQL down: $RG_TRANSPORT deferred with the agent's 4.3.0 (mail.log)" \
    "$(log_count "$DELIVERY.*dsn=4\.3\.0, status=deferred")" '^[1-9]'
tap_is "PostgreSQL down: none bounced (mail.log status=bounced)" "$(log_count 'status=bounced')" 0
tap_is "PostgreSQL down: no bounce (null sender) in the queue" \
    "$(postqueue -c "$D/postfix" -j | jq -s '[.[] | select(.sender == "")] | length')" 0
tap_is "PostgreSQL down: the spool's new/ holds no copy" "$(find "$D/spool/new" -type f | wc -l)" 0
pg_restart || tap_bail "PostgreSQL did not start again"
postqueue -c "$D/postfix" -f
got=$(wait_for 240 200 rows "$P")
tap_is "PostgreSQL back, postqueue -f: exactly 200 rows" "$got" 200
tap_is "PostgreSQL back: 200 distinct Message-IDs" "$(distinct "$P")" 200
tap_is "PostgreSQL back: the queue is empty" "$(wait_for 60 0 queue_count)" 0

# --- 2. the milter stopped: 4xx, nothing accepted unfiltered --------------------
echo "# [${SECONDS}s] 2. the milter stopped"
P=$RUN-nomilter
stack_milter_stop "$D"
before=$(queue_count)
send 3 1 "$P" >/dev/null
codes=$(awk 'NF == 3 {print $2}' "$T/send-$P.txt" | sort -u | tr '\n' ' ')
tap_like "milter stopped: Postfix answers 4xx" "$codes" '^(4[0-9][0-9] )+$'
sleep 2
tap_is "milter stopped: nothing queued" "$(queue_count)" "$before"
tap_is "milter stopped: nothing stored" "$(rows "$P")" 0
stack_milter_start "$D" || tap_bail "the milter did not start again"
P=$RUN-milterback
tap_is "milter back: accepted again" "$(send 3 1 "$P")" 3
tap_is "milter back: stored" "$(wait_for 60 3 rows "$P")" 3

# --- 3. SIGKILL inside the transaction -----------------------------------------
echo "# [${SECONDS}s] 3. the agent killed with SIGKILL in its transaction"
# A backend notices a vanished client while it sleeps only with this check on.
sql "ALTER DATABASE replygate SET client_connection_check_interval = '200ms'" >/dev/null
sql "CREATE TABLE public.fault_flags (name text PRIMARY KEY);
     INSERT INTO public.fault_flags VALUES ('sleep');
     -- The trigger runs as the agent's role, a writer that reads nothing else.
     GRANT SELECT ON public.fault_flags TO PUBLIC;
     CREATE FUNCTION public.fault_sleep() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN
         IF NEW.subject = 'sleep-kill' AND EXISTS (SELECT 1 FROM public.fault_flags WHERE name = 'sleep') THEN
             PERFORM pg_sleep(120);
         END IF;
         RETURN NEW;
     END \$\$;
     CREATE TRIGGER fault_sleep BEFORE INSERT ON replygate.messages
         FOR EACH ROW EXECUTE FUNCTION public.fault_sleep();" >"$T/trigger.log"
MID=$RUN.kill@example.org
if [ "$RG_TRANSPORT" = lmtp ]; then
    APP=replygate-lmtpd
    # The setting above takes effect in new connections: a fresh pool.
    stack_lmtpd_start "$D" >/dev/null 2>&1 || tap_bail "replygate-lmtpd did not start again"
else
    APP=replygate-deliver
fi
swaks --server "127.0.0.1:$PORT" --helo client.example.org --from bob@example.org --tls \
    --to "$ADDR" --header "Subject: sleep-kill" --header "Message-Id: <$MID>" \
    --body "Killed once, stored once." >"$T/kill.swaks" 2>&1
sleeping=$(wait_for 60 1 sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$APP' AND state = 'active' AND query LIKE '%replygate.store_reply(%'")
tap_is "SIGKILL: the $APP is inside its INSERT (the trigger sleeps)" "$sleeping" 1
if [ "$RG_TRANSPORT" = lmtp ]; then
    # The resident service itself, mid-transaction, with its whole pool.
    pid=$(cat "$D/lmtpd.pid" 2>/dev/null)
else
    # Our own agent process: the one running this stack's copy of the program.
    pid=$(ps -eo pid=,args= | awk -v b="$RG_BIN/replygate-deliver" '$2 == b {print $1}' | head -1)
fi
if [ -n "$pid" ] && kill -KILL "$pid"; then
    tap_ok "SIGKILL: sent to $APP (pid $pid)"
else
    tap_not_ok "SIGKILL: sent to $APP" "no process of $RG_BIN/$APP"
fi
sql "DELETE FROM public.fault_flags" >/dev/null
tap_is "SIGKILL: the killed transaction is rolled back (no row)" \
    "$(wait_for 30 0 sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$APP' AND query LIKE '%replygate.store_reply(%' AND state <> 'idle'")/$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID'")" "0/0"
if [ "$RG_TRANSPORT" = lmtp ]; then
    tap_like "SIGKILL: Postfix deferred it (lmtp: lost connection)" \
        "$(wait_for 30 1 log_count "$DELIVERY.*status=deferred.*(lost connection|Connection reset|closed)")" '^[1-9]'
    stack_lmtpd_start "$D" >/dev/null 2>&1 || tap_bail "replygate-lmtpd did not start again"
else
    tap_like "SIGKILL: Postfix deferred it (pipe: died with signal 9)" \
        "$(wait_for 30 1 log_count "$DELIVERY.*status=deferred.*signal 9")" '^[1-9]'
fi
postqueue -c "$D/postfix" -f
tap_is "SIGKILL: retried and stored exactly once" "$(wait_for 60 1 sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID'")" 1
left=$(find "$D/spool/new" -type f | wc -l)
echo "# after the SIGKILL, the spool's new/ holds $left file(s) the killed agent left behind"
sql "DROP TRIGGER fault_sleep ON replygate.messages; DROP FUNCTION public.fault_sleep(); DROP TABLE public.fault_flags" >/dev/null

# --- 4. the same message twice --------------------------------------------------
echo "# [${SECONDS}s] 4. the same message delivered twice"
MID=$RUN.twice@example.org
# The same e-mail: swaks would write a new Date each time, which makes
# another message (SPEC section 8's fingerprint).
date=$(date -R)
for i in 1 2; do
    swaks --server "127.0.0.1:$PORT" --helo client.example.org --from bob@example.org --tls \
        --to "$ADDR" --header "Subject: twice" --header "Message-Id: <$MID>" --header "Date: $date" \
        --body "Sent twice, stored once." >"$T/twice$i.swaks" 2>&1
done
tap_is "twice: both accepted by Postfix" "$(grep -c 'queued as' "$T"/twice?.swaks | awk -F: '{s += $2} END {print s}')" 2
tap_is "twice: the agent said stored, then duplicate" \
    "$(wait_for 60 "1 1" sh -c "echo \$(grep -c 'message-id=<$MID>.*status=stored' '$MAILLOG') \$(grep -c 'message-id=<$MID>.*status=duplicate' '$MAILLOG')")" "1 1"
tap_is "twice: one row" "$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID'")" 1
tap_is "twice: both deliveries ended as sent (none deferred or bounced)" \
    "$(grep -F "$(sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p' "$T/twice1.swaks" | head -1): to=" "$MAILLOG" | grep -c 'status=sent')$(grep -F "$(sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p' "$T/twice2.swaks" | head -1): to=" "$MAILLOG" | grep -c 'status=sent')" 11

# --- 5. the spool's file system is full -----------------------------------------
echo "# [${SECONDS}s] 5. the spool on a full tmpfs"
P=$RUN-full
mkdir -p "$TMPFS/spool/new" "$TMPFS/spool/success" "$TMPFS/spool/failure"
chown -R replygate:replygate "$TMPFS/spool"
chmod -R 750 "$TMPFS/spool"
sed -i "s#^spool_directory = .*#spool_directory = $TMPFS/spool#" "$RG_CONFIG"
dd if=/dev/zero of="$TMPFS/filler" bs=64k >/dev/null 2>&1
tap_is "full spool: the file system is full" "$(df --output=avail -k "$TMPFS" | tail -1 | tr -d ' ')" 0
if [ "$RG_TRANSPORT" = lmtp ]; then
    # The service picks up the changed configuration by itself.
    tap_like "full spool: replygate-lmtpd reloaded the configuration" \
        "$(wait_for 30 1 log_count "$AGENT.*configuration reloaded")" '^[1-9]'
    out=$(SRC=$SRC python3 - "$D/queue/replygate/lmtp.sock" "$ADDR" "$P" <<'PY'
import os, sys
sys.path.insert(0, os.environ["SRC"] + "/tests/lmtp")
from lmtpclient import transaction
msg = "From: bob@example.org\nTo: %s\nSubject: full\nMessage-ID: <%s.direct@example.org>\n\nno room\n" % (sys.argv[2], sys.argv[3])
rcpts, replies = transaction(sys.argv[1], "bob@example.org", [sys.argv[2]], msg, xforward="IDENT=FULL")
print(replies[0][1][0])
PY
)
    tap_like "full spool: the service answers 451 4.3.0" "$out" '^451 4\.3\.0 '
else
    # The agent alone first: its exit status and first line.
    printf 'From: bob@example.org\r\nTo: %s\r\nSubject: full\r\nMessage-ID: <%s.direct@example.org>\r\n\r\nno room\r\n' \
        "$ADDR" "$P" >"$T/full.eml"
    out=$(runuser -u replygate -- "$RG_BIN/replygate-deliver" --config "$RG_CONFIG" -q FULL -f bob@example.org \
          -r "$ADDR" <"$T/full.eml" 2>/dev/null)
    rc=$?
    tap_is "full spool: the agent exits 75" "$rc" 75
    tap_like "full spool: its first line is a 4.3.0 DSN text" "$(printf '%s' "$out" | head -1)" '^4\.3\.0 '
fi
accepted=$(send 20 2 "$P")
tap_is "full spool: Postfix accepted 20 replies" "$accepted" 20
got=$(wait_for 120 20 queue_count deferred)
tap_is "full spool: all 20 deferred, none lost" "$got" 20
tap_is "full spool: nothing stored meanwhile" "$(rows "$P")" 0
tap_is "full spool: none bounced" "$(log_count 'status=bounced')" 0
rm -f "$TMPFS/filler"
postqueue -c "$D/postfix" -f
tap_is "room again, postqueue -f: all 20 stored" "$(wait_for 120 20 rows "$P")" 20
tap_is "room again: the queue is empty" "$(wait_for 60 0 queue_count)" 0
# The LMTP door moves a copy into success/ just after its 250: wait for it.
tmpfs_success() { find "$TMPFS/spool/success" -type f | wc -l; }
tap_is "room again: 20 raw copies in the tmpfs spool's success/" "$(wait_for 30 20 tmpfs_success)" 20
sed -i "s#^spool_directory = .*#spool_directory = $D/spool#" "$RG_CONFIG"

if [ "$RG_TRANSPORT" = lmtp ]; then
    # --- 6. the pool exhausted: 451, not a hang --------------------------------
    echo "# [${SECONDS}s] 6. the pool exhausted"
    P=$RUN-pool
    printf 'lmtp_pool_size = 1\nlmtp_pool_wait = 2s\n' >>"$RG_CONFIG"
    stack_lmtpd_start "$D" >/dev/null 2>&1 || tap_bail "replygate-lmtpd did not start again"
    # A lock the first delivery waits on while it holds the one connection.
    mkfifo "$T/lock.in"
    psql -X -q <"$T/lock.in" >/dev/null 2>&1 &
    locker=$!
    exec 7>"$T/lock.in"
    echo "BEGIN; LOCK TABLE replygate.messages IN ACCESS EXCLUSIVE MODE;" >&7
    start=$SECONDS
    tap_is "pool exhausted: Postfix accepted 5 replies" "$(send 5 5 "$P")" 5
    tap_check "pool exhausted: deliveries deferred with 4.3.0 'no database connection free'" \
        until_true 120 grep -q -E "$AGENT.*status=deferred \(4\.3\.0 no database connection free" "$MAILLOG"
    tap_like "pool exhausted: Postfix logs 451 deferrals, nothing bounced" \
        "$(log_count "$DELIVERY.*dsn=4\.3\.0, status=deferred.*451 4\.3\.0")/$(log_count 'status=bounced')" '^[1-9][0-9]*/0$'
    echo "# pool exhausted: the first deferral $((SECONDS - start)) s after sending"
    echo "COMMIT;" >&7
    exec 7>&-
    wait "$locker"
    postqueue -c "$D/postfix" -f
    tap_is "pool exhausted, lock released, postqueue -f: 5 rows, each once" \
        "$(wait_for 120 5 rows "$P")/$(distinct "$P")" "5/5"
    sed -i '/^lmtp_pool_size\|^lmtp_pool_wait/d' "$RG_CONFIG"

    # --- 7. SIGTERM during load: none lost ----------------------------------------
    echo "# [${SECONDS}s] 7. SIGTERM while 200 replies arrive"
    P=$RUN-term
    stack_lmtpd_start "$D" >/dev/null 2>&1 || tap_bail "replygate-lmtpd did not start again"
    send 200 10 "$P" >"$T/term-sent" &
    sender=$!
    until_true 120 at_least 20 grep -c -E "$AGENT.*<$P\..*status=stored" "$MAILLOG"
    lpid=$(cat "$D/lmtpd.pid")
    kill -TERM "$lpid"
    for i in $(seq 600); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
    tap_check "SIGTERM: the service drained and exited" test ! -d "/proc/$lpid"
    tap_like "SIGTERM: it said so in mail.log" "$(log_count "$AGENT.*stopping: [0-9]+ sessions")" '^[1-9]'
    rm -f "$D/lmtpd.pid"
    sleep 2  # Postfix defers what arrives meanwhile
    stack_lmtpd_start "$D" >/dev/null 2>&1 || tap_bail "replygate-lmtpd did not start again"
    wait "$sender"
    tap_is "SIGTERM: Postfix accepted all 200" "$(cat "$T/term-sent")" 200
    postqueue -c "$D/postfix" -f
    tap_is "SIGTERM: all 200 stored exactly once" "$(wait_for 300 200 rows "$P")/$(distinct "$P")" "200/200"
    tap_is "SIGTERM: none bounced" "$(log_count 'status=bounced')" 0
    tap_is "SIGTERM: the queue is empty" "$(wait_for 60 0 queue_count)" 0

    # --- 8. PostgreSQL connections under load ---------------------------------------
    echo "# [${SECONDS}s] 8. the pool's connections under load"
    P=$RUN-conns
    send 300 20 "$P" >"$T/conns-sent" &
    sender=$!
    max=0
    deadline=$((SECONDS + 600))
    while { kill -0 "$sender" 2>/dev/null || [ "$(rows "$P")" -lt 300 ]; } && [ $SECONDS -lt $deadline ]; do
        n=$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'replygate-lmtpd'")
        [ "$n" -gt "$max" ] && max=$n
        sleep 0.2
    done
    wait "$sender"
    tap_is "under load: all 300 stored" "$(wait_for 120 300 rows "$P")" 300
    tap_check "under load: at most lmtp_pool_size = 4 PostgreSQL connections (max seen $max)" \
        test "$max" -ge 1 -a "$max" -le 4
fi
echo "# [${SECONDS}s] done"
tap_done
