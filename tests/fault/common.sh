# common.sh - what the fault and load suites share; source it.
#
#   . "$SRC/tests/fault/common.sh"
#   fault_up NAME        # a whole stack (scripts/lib/stack.sh) in a fresh
#                        # /tmp/rg-NAME.XXXXXX; sets T D PORT ADDR MAILLOG PLOG
#                        # and stops everything on exit
#   sql SQL              # one value from the stack's database
#   wait_for SECONDS WANT CMD...   # run CMD every 0.2 s until it prints WANT;
#                        # prints the last output
#   queue_count [QUEUE]  # messages in Postfix's queue (all, or "deferred", ...)
#   send N CONNS PREFIX [ARGS]     # N replies over CONNS STARTTLS connections
#                        # (smtpclient.py); prints the number accepted (250)
#   rows PREFIX          # rows whose Message-ID starts with PREFIX.
#   distinct PREFIX      # distinct Message-IDs among them
#   log_count ERE        # mail.log lines matching ERE
# The door is RG_TRANSPORT (pipe, the default, or lmtp); after fault_up:
#   AGENT               # the agent's mail.log ident (replygate/deliver or /lmtpd)
#   DELIVERY            # an ERE for Postfix's delivery lines to replygate
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
. "$SRC/tests/lib/tap.sh"
. "$SRC/scripts/lib/stack.sh"
SMTP_CLIENT=$SRC/tests/fault/smtpclient.py
export RG_TRANSPORT=${RG_TRANSPORT:-pipe}
if [ "$RG_TRANSPORT" = lmtp ]; then
    DELIVERY='postfix/(replygate-lmtp/)?lmtp\[[0-9]+\]: .*relay=[^,]*lmtp\.sock'
else
    DELIVERY='postfix/pipe\[[0-9]+\]: .*relay=replygate,'
fi
FAULT_CLEANUP=()

# fault_cleanup - stop every stack and undo every mount, then remove T
fault_cleanup() {
    local c
    for c in "${FAULT_CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1; done
    stack_down "$D" >/dev/null 2>&1
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}

# fault_up NAME - start a stack for this suite
fault_up() {
    T=$(mktemp -d "/tmp/rg-$1.XXXXXX")
    chmod 755 "$T"
    D=$T/stack
    trap fault_cleanup EXIT
    PORT=$(pf_free_port)
    if ! stack_up "$D" "$PORT" "$BUILD" >"$T/up.log" 2>&1; then
        sed 's/^/# /' "$T/up.log"
        tap_bail "the stack did not start"
    fi
    MAILLOG=$D/mail.log
    PLOG=$D/log/replygate.log
    AGENT=$RG_AGENT_IDENT
    echo "# door: $RG_TRANSPORT"
    ADDR=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 1 5)
}

sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

wait_for() {
    local seconds=$1 want=$2 got i
    shift 2
    for i in $(seq $((seconds * 5))); do
        got=$("$@")
        [ "$got" = "$want" ] && break
        sleep 0.2
    done
    printf '%s' "$got"
}

queue_count() {
    postqueue -c "$D/postfix" -j 2>/dev/null |
        jq -s --arg q "${1:-}" '[.[] | select($q == "" or .queue_name == $q)] | length'
}

send() {
    local n=$1 conns=$2 prefix=$3
    shift 3
    python3 "$SMTP_CLIENT" send --port "$PORT" --to "$ADDR" --count "$n" --connections "$conns" \
        --prefix "$prefix" "$@" >"$T/send-$prefix.txt" 2>"$T/send-$prefix.err"
    sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$T/send-$prefix.txt"
}

rows() { sql "SELECT count(*) FROM replygate.messages WHERE message_id LIKE '$1.%'"; }
distinct() { sql "SELECT count(DISTINCT message_id) FROM replygate.messages WHERE message_id LIKE '$1.%'"; }
log_count() { grep -c -E -- "$1" "$MAILLOG" 2>/dev/null || true; }
