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
#   5. The spool on a full tmpfs: the agent exits 75, Postfix keeps the
#      replies, and once there is room every one is stored.
# Environment (set by meson): SRC, the source tree; BUILD, the build tree.
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
tap_like "PostgreSQL down: pipe(8) deferred with the agent's 4.3.0 (mail.log)" \
    "$(log_count "postfix/pipe.*relay=replygate.*dsn=4\.3\.0, status=deferred")" '^[1-9]'
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
swaks --server "127.0.0.1:$PORT" --helo client.example.org --from bob@example.org --tls \
    --to "$ADDR" --header "Subject: sleep-kill" --header "Message-Id: <$MID>" \
    --body "Killed once, stored once." >"$T/kill.swaks" 2>&1
sleeping=$(wait_for 60 1 sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'replygate-deliver' AND state = 'active' AND query LIKE '%INSERT INTO replygate.messages%'")
tap_is "SIGKILL: the agent is inside its INSERT (the trigger sleeps)" "$sleeping" 1
# Our own agent process: the one running this stack's copy of the program.
pid=$(ps -eo pid=,args= | awk -v b="$RG_BIN/replygate-deliver" '$2 == b {print $1}' | head -1)
if [ -n "$pid" ] && kill -KILL "$pid"; then
    tap_ok "SIGKILL: sent to replygate-deliver (pid $pid)"
else
    tap_not_ok "SIGKILL: sent to replygate-deliver" "no process of $RG_BIN/replygate-deliver"
fi
sql "DELETE FROM public.fault_flags" >/dev/null
tap_is "SIGKILL: the killed transaction is rolled back (no row)" \
    "$(wait_for 30 0 sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'replygate-deliver' AND query LIKE '%INSERT INTO replygate.messages%' AND state <> 'idle'")/$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID'")" "0/0"
tap_like "SIGKILL: Postfix deferred it (pipe: died with signal 9)" \
    "$(wait_for 30 1 log_count "postfix/pipe.*relay=replygate.*status=deferred.*signal 9")" '^[1-9]'
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
# The agent alone first: its exit status and first line.
printf 'From: bob@example.org\r\nTo: %s\r\nSubject: full\r\nMessage-ID: <%s.direct@example.org>\r\n\r\nno room\r\n' \
    "$ADDR" "$P" >"$T/full.eml"
out=$(runuser -u replygate -- "$RG_BIN/replygate-deliver" --config "$RG_CONFIG" -q FULL -f bob@example.org \
      -r "$ADDR" <"$T/full.eml" 2>/dev/null)
rc=$?
tap_is "full spool: the agent exits 75" "$rc" 75
tap_like "full spool: its first line is a 4.3.0 DSN text" "$(printf '%s' "$out" | head -1)" '^4\.3\.0 '
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
tap_is "room again: 20 raw copies in the tmpfs spool's success/" "$(find "$TMPFS/spool/success" -type f | wc -l)" 20
echo "# [${SECONDS}s] done"
tap_done
