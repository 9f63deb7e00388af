#!/bin/bash
# two-mx.sh - two Postfix instances, like two MX hosts, deliver the same 500
# messages at the same time into one database: each is stored exactly once.
#
# The first instance is the whole stack (scripts/lib/stack.sh); the second has
# its own Postfix, milter, spool and processor log, and the same secrets and
# database. Both get the same 500 messages (same Message-IDs, same recipient)
# over 5 STARTTLS connections each, sent at once, so deliveries of the same
# message race in PostgreSQL. Every message must end as one row; between the
# two mail.logs, each must be "stored" once and "duplicate" once, none may
# bounce. A delivery deferred under contention (seen once in about a dozen
# full runs, cause not yet known) is retried by Postfix; its reason is printed.
# Environment (set by meson): SRC, the source tree; BUILD, the build tree.
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/fault/common.sh"
N=${TWO_MX_MESSAGES:-500}

fault_up two-mx
P=mx$$
D2=$T/mx2
FAULT_CLEANUP+=("stack_milter_stop '$D2'; pf_destroy '$D2'; pf_log_stop '$D2'")

# --- the second MX, sharing the secrets and the database ---------------------
mkdir -p "$D2/etc" "$D2/spool" "$D2/log"
chmod 755 "$D2" "$D2/etc"
stack_programs "$D2" "$BUILD" || tap_bail "cannot copy the programs"
cp -p "$D/etc/secrets" "$D2/etc/secrets"
sed -e "s#$D/#$D2/#g" "$D/etc/replygate.conf" >"$D2/etc/replygate.conf"
grep -q "^database = host=$PG_DIR " "$D2/etc/replygate.conf" || tap_bail "the second MX would not share the database"
chmod 644 "$D2/etc/replygate.conf"
chown replygate:replygate "$D2/spool" "$D2/log"
chmod 750 "$D2/spool" "$D2/log"
PORT2=$(pf_free_port)
{
    pf_create "$D2" "$PORT2" localhost &&
    "$SRC/scripts/postfix-conf-apply" -c "$D2/postfix" \
        REPLY_DOMAINS="$RG_DOMAIN" TLS_CERT="$D2/tls/cert.pem" TLS_KEY="$D2/tls/key.pem" \
        MILTER=unix:replygate/milter.sock DELIVER="$D2/bin/replygate-deliver" \
        CONFIG="$D2/etc/replygate.conf" MAX_SIZE=26214400 &&
    pf_log_start "$D2" && stack_milter_start "$D2" && pf_start "$D2"
} >"$T/mx2.log" 2>&1 || { sed 's/^/# /' "$T/mx2.log"; tap_bail "the second MX did not start"; }
echo "# MX 1 on 127.0.0.1:$PORT, MX 2 on 127.0.0.1:$PORT2, one database in $PG_DIR"

# --- the same N messages to both at once -------------------------------------
start=$SECONDS
senders=()
# The second MX gets them in the reverse order: the two meet in the middle,
# and each stores a share, racing the other on the messages near it.
order=()
for port in "$PORT" "$PORT2"; do
    python3 "$SMTP_CLIENT" send --port "$port" --to "$ADDR" --count "$N" --connections 5 \
        --prefix "$P" "${order[@]}" >"$T/send-$port.txt" 2>"$T/send-$port.err" &
    order=(--reverse)
    senders+=($!)
done
# Only the two senders: a bare wait would also wait for the milters and syslogds.
wait "${senders[@]}"
for port in "$PORT" "$PORT2"; do
    tap_is "MX on port $port accepted all $N" \
        "$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$T/send-$port.txt")" "$N"
done
got=$(wait_for 300 "$((2 * N))" sh -c "cat '$D/mail.log' '$D2/mail.log' | grep -c -E 'replygate/deliver.*message-id=<$P\\..*status=(stored|duplicate)'")
tap_is "both MXes delivered every copy ($((2 * N)) agent runs)" "$got" "$((2 * N))"
echo "# $((2 * N)) deliveries in $((SECONDS - start)) s"
tap_is "each message stored exactly once: $N rows" "$(rows "$P")" "$N"
tap_is "... with $N distinct Message-IDs" "$(distinct "$P")" "$N"
stored=$(cat "$D/mail.log" "$D2/mail.log" | grep -c -E "replygate/deliver.*message-id=<$P\\..*status=stored")
dups=$(cat "$D/mail.log" "$D2/mail.log" | grep -c -E "replygate/deliver.*message-id=<$P\\..*status=duplicate")
s1=$(grep -c -E "replygate/deliver.*<$P\\..*status=stored" "$D/mail.log")
s2=$(grep -c -E "replygate/deliver.*<$P\\..*status=stored" "$D2/mail.log")
tap_check "both MXes stored a share (MX 1 $s1, MX 2 $s2): they really ran side by side" \
    test "$s1" -gt 0 -a "$s2" -gt 0
tap_is "mail.logs: $N stored and $N duplicate" "$stored $dups" "$N $N"
# A delivery deferred under contention and retried is not a loss, but it is
# worth seeing: print every deferral with the agent's own reason.
cat "$D/mail.log" "$D2/mail.log" | grep -E 'postfix/pipe.*status=deferred|replygate/deliver.*status=deferred' |
    sed 's/^/# deferred, then retried: /'
tap_is "mail.logs: every Postfix delivery sent in the end, none bounced" \
    "$(cat "$D/mail.log" "$D2/mail.log" | grep -c 'postfix/pipe.*relay=replygate.*status=sent') $(cat "$D/mail.log" "$D2/mail.log" | grep -c -E 'postfix/(pipe|bounce).*(status=bounced|non-delivery notification)')" \
    "$((2 * N)) 0"
tap_is "both queues empty" "$(queue_count) $(postqueue -c "$D2/postfix" -j | wc -l)" "0 0"
tap_done
