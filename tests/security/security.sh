#!/bin/bash
# security.sh - the security suite against the real stack (issue 6).
#
# A private Postfix, PostgreSQL, milter and agent on loopback
# (scripts/lib/stack.sh), plus the agent run straight on files:
#   - 10,000 random changes of a valid address are all refused at RCPT
#     (test-mutations checks another 10,000 in-process, with more kinds of edit);
#   - a subject "'); DROP TABLE replygate.messages; --" is stored verbatim;
#   - a forged X-Replygate-TLS header is never stored as TLS data: through
#     Postfix and the milter, submitted locally with sendmail(1) (no milter),
#     a real signed header replayed for another queue id, or the agent alone;
#   - CR, LF and other control characters from a message never reach
#     mail.log, the agent's log lines or the processor log unescaped;
#   - the agent runs as user replygate, and nothing it writes (spool files,
#     failure reasons, processor log) is readable by others, even under
#     umask 000.
# Environment (set by meson): SRC, the source tree; BUILD, the build tree.
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
. "$SRC/tests/lib/tap.sh"
. "$SRC/scripts/lib/stack.sh"
SMTP="python3 $SRC/tests/fault/smtpclient.py"
SAMPLE=${SECURITY_RCPT_SAMPLE:-10000}

T=$(mktemp -d /tmp/rg-security.XXXXXX)
chmod 755 "$T"
D=$T/stack
trap 'stack_down "$D" >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
PORT=$(pf_free_port)
stack_up "$D" "$PORT" "$BUILD" >"$T/up.log" 2>&1 || { sed 's/^/# /' "$T/up.log"; tap_bail "the stack did not start"; }
MAILLOG=$D/mail.log
PLOG=$D/log/replygate.log
# The local user below (nobody) submits with sendmail -C.
pf_allow_local_submission "$D" || tap_bail "cannot let a local user submit to the instance"
ADDR=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 1 5)
RUN=sec-$$-$(date +%s)

sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
# wait_sql SQL WANT - poll up to 30 s until the query gives WANT; print the value
wait_sql() {
    local got i
    for i in $(seq 300); do got=$(sql "$1"); [ "$got" = "$2" ] && break; sleep 0.1; done
    printf '%s' "$got"
}
# swaks_tls ARGS - one message over STARTTLS to the stack
swaks_tls() {
    swaks --server "127.0.0.1:$PORT" --helo client.example.org --from bob@example.org --tls \
        --timeout 30 "$@" >>"$T/swaks.log" 2>&1
}

# --- random changes of a valid address at RCPT -------------------------------
# smtpd slows down and hangs up on clients that make many errors; this client
# makes nothing but errors on purpose, so the limits are lifted for the test.
postconf -c "$D/postfix" -e smtpd_soft_error_limit=1000000 smtpd_hard_error_limit=1000000 \
    smtpd_error_sleep_time=0s
postfix -c "$D/postfix" reload >/dev/null 2>&1
sleep 1
echo "# $SAMPLE random changes of $ADDR at RCPT, through Postfix and the milter"
start=$SECONDS
$SMTP rcpt-mutations --port "$PORT" --address "$ADDR" --count "$SAMPLE" --seed 20261122 \
    --per-connection 1000 >"$T/rcpt.txt" 2>"$T/rcpt.err"
echo "# $SAMPLE RCPT commands in $((SECONDS - start)) s"
tap_is "RCPT: the valid address itself is accepted" "$(head -1 "$T/rcpt.txt" | cut -d' ' -f1)" 250
accepted=$(tail -n +2 "$T/rcpt.txt" | awk '$1 < 400' | head -5)
total=$(tail -n +2 "$T/rcpt.txt" | wc -l)
codes=$(tail -n +2 "$T/rcpt.txt" | awk '{print $1}' | sort | uniq -c | awk '{printf "%s×%s ", $2, $1}')
if [ "$total" = "$SAMPLE" ] && [ -z "$accepted" ]; then
    tap_ok "RCPT: $SAMPLE random changes all refused ($codes)"
else
    tap_not_ok "RCPT: $SAMPLE random changes all refused" "answered: $total ($codes)" \
        "accepted: $accepted" "$(tail -3 "$T/rcpt.err")"
fi
n550=$(tail -n +2 "$T/rcpt.txt" | awk '$1 == 550' | wc -l)
tap_check "RCPT: most changes reach the milter's 550 5.1.1 ($n550 of $SAMPLE)" test "$n550" -ge $((SAMPLE / 2))

# --- SQL in the subject, stored verbatim --------------------------------------
SUBJ="'); DROP TABLE replygate.messages; --"
MID=$RUN.sql@example.org
swaks_tls --to "$ADDR" --header "Subject: $SUBJ" --header "Message-Id: <$MID>" \
    --body "Robert'); DROP TABLE students;-- says hello"
got=$(wait_sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID'" 1)
tap_is "SQL subject: stored once" "$got" 1
tap_is "SQL subject: stored verbatim" \
    "$(sql "SELECT subject FROM replygate.processed_replies WHERE message_id = '$MID'")" "$SUBJ"
tap_is "SQL subject: reply_text verbatim" \
    "$(sql "SELECT reply_text FROM replygate.processed_replies WHERE message_id = '$MID'")" \
    "Robert'); DROP TABLE students;-- says hello"
tap_is "SQL subject: replygate.messages still exists" \
    "$(sql "SELECT to_regclass('replygate.messages') IS NOT NULL")" t

# --- a forged X-Replygate-TLS -------------------------------------------------
MID=$RUN.tls@example.org
swaks_tls --to "$ADDR" --header "Subject: forged tls" --header "Message-Id: <$MID>" \
    --header "X-Replygate-TLS: version=TLSv9.9; cipher=FORGED-CIPHER; bits=4096" \
    --body "I claim a better cipher than I had."
wait_sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID'" 1 >/dev/null
tap_like "forged X-Replygate-TLS through Postfix: the real TLS version and cipher are stored" \
    "$(sql "SELECT tls_version || ' ' || tls_cipher || ' ' || coalesce(tls_bits::text, '-') FROM replygate.messages WHERE message_id = '$MID'")" \
    '^TLSv1\.[23] [A-Z0-9_-]+ [0-9-]+$'
tap_is "forged X-Replygate-TLS through Postfix: nothing of it stored" \
    "$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID' AND (tls_version = 'TLSv9.9' OR tls_cipher LIKE '%FORGED%' OR body_text LIKE '%FORGED%')")" 0
# A local user of the MX host submits with sendmail(1): pickup and cleanup, no
# smtpd, so smtpd_milters never sees the message and nothing strips the header.
# With require_tls = yes the agent refuses it (issue 14: pickup's Received is on
# top and no trace header verifies), and never stores it as TLS data.
# wait_agent MID - wait up to 30 s for the agent's mail.log line about MID
wait_agent() {
    for _ in $(seq 60); do
        grep -q "replygate/deliver.*message-id=<$1>" "$MAILLOG" && break
        sleep 0.5
    done
    grep "replygate/deliver.*message-id=<$1>" "$MAILLOG" | tail -1
}
MID=$RUN.local-tls@example.org
printf 'From: mallory@localhost\nTo: %s\nSubject: local forged tls\nMessage-ID: <%s>\nX-Replygate-TLS: version=TLSv9.9; cipher=FORGED-CIPHER; bits=4096\n\nsubmitted on the host\n' \
    "$ADDR" "$MID" | runuser -u nobody -- /usr/sbin/sendmail -C "$D/postfix" -f mallory@localhost "$ADDR"
tap_like "forged X-Replygate-TLS by a local user (sendmail, no smtpd): refused, require_tls = yes" \
    "$(wait_agent "$MID")" 'status=rejected \(5\.7\.0 '
tap_is "forged X-Replygate-TLS by a local user: nothing stored" \
    "$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID'")" 0
tap_like "mail.log names the cause: pickup" "$(cat "$MAILLOG")" \
    'replygate/deliver.*warning: [0-9A-Z]+: require_tls = yes, but this reply shows no TLS: submitted on this host \(pickup
# The same local user replays a real, signed header copied from a message that
# came through the milter: it was signed for that message's queue id, not this one.
real=$(grep -rhE -m1 '^X-Replygate-TLS: .*; mac=' "$D/spool/success" 2>/dev/null | head -1 | tr -d '\r')
tap_like "a stored message carries the milter's signed header" "$real" \
    '^X-Replygate-TLS: version=TLSv1\.[23]; cipher=[A-Za-z0-9_.+/-]*; bits=[0-9]+; queue=[A-Za-z0-9]+; mac=[0-9a-f]{40}$'
MID=$RUN.local-replay@example.org
printf 'From: mallory@localhost\nTo: %s\nSubject: local replayed tls\nMessage-ID: <%s>\n%s\n\nreplayed on the host\n' \
    "$ADDR" "$MID" "$real" | runuser -u nobody -- /usr/sbin/sendmail -C "$D/postfix" -f mallory@localhost "$ADDR"
tap_like "a signed header replayed by a local user (another queue id): refused" \
    "$(wait_agent "$MID")" 'status=rejected \(5\.7\.0 '
tap_is "a signed header replayed by a local user: nothing stored" \
    "$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$MID'")" 0
# Without TLS on the SMTP side there is no header to trust, whatever the client sends:
# the milter refuses the recipient before DATA (require_tls = yes), so only the
# agent alone is left to look at.

# --- the agent alone (no milter): run it straight on files --------------------
DIRECT=$T/direct
mkdir -p "$DIRECT"
chmod 755 "$DIRECT"
sed -e "s#^spool_directory = .*#spool_directory = $DIRECT/spool#" \
    -e "s#^processor_log = .*#processor_log = $DIRECT/replygate.log#" "$RG_CONFIG" >"$DIRECT/replygate.conf"
# deliver FILE QID - the agent as pipe(8) would run it, as root with umask 000
deliver() {
    (umask 000 && REPLYGATE_LOG_STDERR=1 "$RG_BIN/replygate-deliver" --config "$DIRECT/replygate.conf" \
        -q "$2" -f bob@example.org -r "$ADDR" <"$1" >>"$DIRECT/stdout" 2>>"$DIRECT/stderr")
}
MID=$RUN.direct-tls@example.org
printf 'From: bob@example.org\r\nTo: %s\r\nSubject: direct\r\nMessage-ID: <%s>\r\nX-Replygate-TLS: version=TLSv9.9; cipher=FORGED\033[31m; bits=1\r\n\r\nstraight to the agent\r\n' \
    "$ADDR" "$MID" >"$T/direct-tls.eml"
deliver "$T/direct-tls.eml" DIRECT1
stored=$(sql "SELECT coalesce(tls_version, 'null') || ' ' || coalesce(tls_cipher, 'null') FROM replygate.messages WHERE message_id = '$MID'")
# The agent believes only a header signed for its own queue id (lib/trace.h):
# whoever reaches it without the milter cannot make one.
tap_is "agent alone: a forged X-Replygate-TLS is not stored as TLS data" "$stored" "null null"
tap_like "agent alone: the forged header is noted in mail.log" "$(cat "$DIRECT/stderr")" \
    'warning: DIRECT1: ignored an X-Replygate-TLS header'

# --- control characters never reach the logs unescaped ------------------------
i=0
for mid in $'ctl\033[31mred\007bell@example.org' $'ctl\rcr@example.org' $'del\177x\001y@example.org' \
           $'tab\there@example.org'; do
    i=$((i + 1))
    for way in direct smtp; do
        printf 'From: bob@example.org\r\nTo: %s\r\nSubject: ctl %d\r\nMessage-ID: <%s%s>\r\n\r\nreply %d\r\n' \
            "$ADDR" "$i" "$way" "$mid" "$i" >"$T/ctl$i-$way.eml"
    done
    deliver "$T/ctl$i-direct.eml" CTL$i
    # The same through Postfix, raw bytes and all.
    $SMTP send --port "$PORT" --to "$ADDR" --count 1 --prefix "ctl$i" --keep-message-id \
        --file "$T/ctl$i-smtp.eml" >/dev/null 2>&1
done
# A folded Message-ID, and an auto-reply whose reason carries control characters
# (refused, so its reason is logged).
printf 'From: bob@example.org\r\nTo: %s\r\nSubject: folded\r\nMessage-ID: <folded\r\n\tline@example.org>\r\n\r\nfolded\r\n' "$ADDR" >"$T/ctl-folded.eml"
deliver "$T/ctl-folded.eml" CTLF
printf 'From: bob@example.org\r\nTo: %s\r\nAuto-Submitted: auto\033[2Jreplied\001\r\nMessage-ID: <auto\007x@example.org>\r\n\r\naway\r\n' "$ADDR" >"$T/ctl-auto.eml"
deliver "$T/ctl-auto.eml" CTLA
printf 'From: bob@example.org\r\nTo: %s\r\nMessage-ID: <empty\033x@example.org>\r\n\r\n> only a quote\r\n' "$ADDR" >"$T/ctl-empty.eml"
deliver "$T/ctl-empty.eml" CTLE
sleep 2
# bad_bytes FILE - lines with a control character other than the newline
bad_bytes() { LC_ALL=C grep -n -P '[\x00-\x08\x0a-\x1f\x7f]' "$1" | grep -v '^$' | head -3; LC_ALL=C grep -c -P '\r' "$1" | grep -v '^0$'; }
# Each log line must also start the way its format says (no line was split).
tap_is "agent's log lines (stderr): no raw control characters" "$(LC_ALL=C grep -n -P '[\x00-\x08\x0b-\x1f\x7f]' "$DIRECT/stderr" | head -3)" ""
tap_is "agent's log lines (stderr): every line is a whole log line" \
    "$(grep -v -E '^(warning: )?(DIRECT1|CTL[0-9A-Z]+|NOQUEUE): ' "$DIRECT/stderr" | head -3)" ""
tap_like "agent's log lines: the escaped Message-ID is there" "$(cat "$DIRECT/stderr")" 'ctl\\?[^[:cntrl:]]*red'
tap_is "processor log (direct): no raw control characters" "$(LC_ALL=C grep -n -P '[\x00-\x08\x0b-\x1f\x7f]' "$DIRECT/replygate.log" | head -3)" ""
tap_is "processor log (direct): every line starts with [time" \
    "$(grep -v -E '^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$DIRECT/replygate.log" | head -3)" ""
tap_is "processor log (stack): no raw control characters" "$(LC_ALL=C grep -n -P '[\x00-\x08\x0b-\x1f\x7f]' "$PLOG" | head -3)" ""
tap_is "processor log (stack): every line starts with [time" \
    "$(grep -v -E '^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$PLOG" | head -3)" ""
tap_is "mail.log: no raw control characters" "$(LC_ALL=C grep -n -P '[\x00-\x08\x0b-\x1f\x7f]' "$MAILLOG" | head -3)" ""
tap_is "mail.log: every replygate line is a whole syslog line" \
    "$(grep -v -E '^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} ' "$MAILLOG" | head -3)" ""
tap_is "the control-character messages are stored, by the stack and the agent alone (8)" \
    "$(wait_sql "SELECT count(*) FROM replygate.messages WHERE subject LIKE 'ctl %'" 8)" 8

# --- who writes, and with which modes ----------------------------------------
# others_can_read DIR... - files or folders whose mode lets "other" in
others_can_read() { find "$@" \( -perm -o=r -o -perm -o=w -o -perm -o=x \) -print 2>/dev/null | head -5; }
# metrics/ holds only decision counters, 0644 by the pinned "Counters"
# interface (the spool folder, 0750, still keeps others out); everything else
# in the spool is personal data.
tap_is "stack: spool files and folders are closed to others (metrics/ aside)" \
    "$(others_can_read "$D/spool" | grep -v "^$D/spool/metrics\(/\|$\)")" ""
tap_is "stack: the spool folder itself keeps others out" "$(others_can_read "$D/spool" -maxdepth 0)" ""
tap_is "stack: processor log is closed to others" "$(others_can_read "$PLOG")" ""
owners=$(find "$D/spool" -type f -printf '%u\n' | sort -u | tr '\n' ' ')
tap_is "stack: pipe(8) ran the agent as user replygate (owner of its spool files)" "$owners" "replygate "
tap_check "stack: success/ holds the stored messages" test -n "$(ls "$D/spool/success")"
tap_is "agent under umask 000: spool files and folders are closed to others" "$(others_can_read "$DIRECT/spool")" ""
tap_is "agent under umask 000: processor log is closed to others" "$(others_can_read "$DIRECT/replygate.log")" ""
tap_check "agent under umask 000: failure/ holds the refused ones with reasons" \
    test -n "$(ls "$DIRECT/spool/failure/"*.reason 2>/dev/null)"
tap_done
