#!/bin/bash
# e2e.sh - the end-to-end suite: a real Postfix, PostgreSQL, milter and agent
# on loopback, driven by swaks (issue 5's eight cases and issue 4's Postfix
# cases), plus scripts/install twice and scripts/uninstall, and scripts/up and
# scripts/down. Every case checks Postfix's answer (swaks), the database rows
# (psql) and the mail.log and processor log lines in SPEC section 6's shape.
#
# The same cases run through either delivery door: RG_TRANSPORT=pipe (the
# default: pipe(8) and replygate-deliver) or RG_TRANSPORT=lmtp (lmtp(8) and
# the resident replygate-lmtpd); only the log idents and the Postfix service
# differ between the two.
#
# Environment (set by meson): SRC, the source tree; BUILD, the build tree;
# RG_TRANSPORT, the door.
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
. "$SRC/tests/lib/tap.sh"
. "$SRC/scripts/lib/stack.sh"
unset MAIL_CONFIG
export RG_TRANSPORT=${RG_TRANSPORT:-pipe}
echo "# door: $RG_TRANSPORT"

T=$(mktemp -d /tmp/rg-e2e.XXXXXX)
chmod 755 "$T"
D=$T/stack
UP_DIR=$T/up
cleanup() {
    stack_down "$D" >/dev/null 2>&1
    [ -d "$UP_DIR" ] && REPLYGATE_LOCAL_DIR=$UP_DIR "$SRC/scripts/down" >/dev/null 2>&1
    [ -n "${INSTALL_PG_DB:-}" ] && true
    rm -rf "$T"
}
trap cleanup EXIT

PORT=$(pf_free_port)
if ! stack_up "$D" "$PORT" "$BUILD" >"$T/stack_up.log" 2>&1; then
    cat "$T/stack_up.log" | sed 's/^/# /'
    tap_bail "the stack did not start"
fi
MAILLOG=$D/mail.log
AGENT=$RG_AGENT_IDENT  # replygate/deliver or replygate/lmtpd (stack_load)
if [ "$RG_TRANSPORT" = lmtp ]; then
    # lmtp(8) logs as the service's name, relay=the socket.
    DELIVERED="postfix/(replygate-lmtp/)?lmtp\[[0-9]+\]: %s: to=<%s>, relay=[^,]*lmtp\.sock[^,]*, .*dsn=2\.0\.0, status=sent"
else
    DELIVERED="postfix/pipe\[[0-9]+\]: %s: to=<%s>, relay=replygate, .*dsn=2\.0\.0, status=sent"
fi
PLOG=$D/log/replygate.log
RUN=e2e-$$-$(date +%s)

# re - text as an ERE that matches exactly that text
re() { printf "%s" "$1" | sed "s/[][\\.*^$+?(){}|]/\\\\&/g"; }

# rg - the replygate command of the stack
rg() { "$RG_BIN/replygate" "$@"; }

# sql - one value from the stack's database
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

# send FILE SWAKS-ARGS... - one SMTP transaction; the transcript goes to FILE
send() {
    local out=$1
    shift
    swaks --server "127.0.0.1:$PORT" --helo client.example.org --from bob@example.org \
        --timeout 30 "$@" >"$T/$out" 2>&1
    return 0
}

# answer FILE CMD - the server's final answer to an SMTP command in a transcript:
# swaks prints the command after "->" (or "~>" under TLS) and the answer after
# "<-" ("<~", and "<**" / "<~*" for errors)
answer() {
    awk -v cmd="$2" '
        /^ *(->|~>) / { last = $0; sub(/^ *(->|~>) /, "", last); next }
        /^ *(<-|<~|<\*\*|<~\*) / {
            line = $0; sub(/^ *(<-|<~|<\*\*|<~\*) +/, "", line)
            if (index(last, cmd) == 1 && line !~ /^[0-9][0-9][0-9]-/) { print line; exit }
        }' "$T/$1"
}

# queue_id FILE - the queue id in "250 2.0.0 Ok: queued as ID"
queue_id() { sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' "$T/$1" | head -1; }

# wait_sql SQL WANT [SECONDS] - until the query gives WANT; prints the last value
wait_sql() {
    local got i
    for i in $(seq $((${3:-30} * 10))); do
        got=$(sql "$1")
        [ "$got" = "$2" ] && break
        sleep 0.1
    done
    printf '%s' "$got"
}

# log_line FILE ERE - the first line of a log that matches (after a short wait)
log_line() {
    local i
    for i in $(seq 100); do
        grep -Em1 -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# check_log LABEL FILE ERE - one TAP case: a log line matches
check_log() {
    if log_line "$2" "$3" >/dev/null; then
        tap_ok "$1"
    else
        tap_not_ok "$1" "no line of $(basename "$2") matches: $3" "last lines:" \
            "$(tail -8 "$2" 2>/dev/null)"
    fi
}

# running PID - is the process there and not a zombie? (A daemon whose parent
# exited is reparented to PID 1, which on some machines never reaps it.)
running() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s:0:1}" != Z ]; }

# stored_count MSGID - the rows stored for a Message-ID
stored_count() { sql "SELECT count(*) FROM replygate.processed_replies WHERE message_id = '$1'"; }

ADDR=$(rg address --config "$RG_CONFIG" i 1 5)
QUOTE="On Sun, Nov 22, 2026 at 1:05 PM Example App <notifications@example.com> wrote:
> Alice opened issue #1: the reply gate is closed."
E='[A-Za-z]{3} [ 0-9][0-9] [0-9:]{8} [^ ]+'   # syslog's "Nov 22 13:05:45 host"

# --- 1. a reply over STARTTLS is stored -----------------------------------
echo "# [${SECONDS}s] 1. a reply over STARTTLS is stored"
MID1=$RUN.1@example.org
send 1 --tls --to "$ADDR" --header "Subject: Re: The reply gate is closed (#1)" \
    --header "Message-Id: <$MID1>" --body "Sounds good, merging it now.

$QUOTE"
QID1=$(queue_id 1)
tap_like "1. STARTTLS reply: accepted after DATA (Postfix's 250)" "$(answer 1 .)" '^250 2\.0\.0 Ok: queued as [0-9A-Z]+'
got=$(wait_sql "SELECT count(*) FROM replygate.processed_replies WHERE message_id = '$MID1'" 1)
tap_is "1. STARTTLS reply: one row in processed_replies" "$got" 1
tap_is "1. STARTTLS reply: key, source, queue id and reply_text" \
    "$(sql "SELECT kind||'-'||target||'-'||\"user\"||' '||source||' '||queue_id||' '||reply_text FROM replygate.processed_replies WHERE message_id = '$MID1'")" \
    "i-1-5 envelope $QID1 Sounds good, merging it now."
tap_like "1. STARTTLS reply: TLS version and cipher stored" \
    "$(sql "SELECT tls_version||' '||tls_cipher FROM replygate.processed_replies WHERE message_id = '$MID1'")" \
    '^TLSv1\.[23] [A-Z0-9_-]+$'
check_log "1. mail.log: Postfix smtpd took it over TLS" "$MAILLOG" \
    "^$E postfix/smtpd\[[0-9]+\]: Anonymous TLS connection established from [^ ]*\[127\.0\.0\.1\]: TLSv1\.[23]"
tap_is "1. the stored TLS version and cipher are what Postfix negotiated" \
    "$(sql "SELECT tls_version||' with cipher '||tls_cipher FROM replygate.processed_replies WHERE message_id = '$MID1'")" \
    "$(grep -m1 'postfix/smtpd.*Anonymous TLS connection established' "$MAILLOG" | sed -n 's/.*: \(TLSv[0-9.]* with cipher [^ ]*\) .*/\1/p')"
check_log "1. mail.log: $AGENT stored it (SPEC 6 shape)" "$MAILLOG" \
    "^$E $AGENT\[[0-9]+\]: $QID1: message-id=<$(re "$MID1")>, key=i-1-5, source=envelope, reply=[0-9]+, attachments=0, status=stored$"
check_log "1. mail.log: $RG_TRANSPORT delivered it, status=sent" "$MAILLOG" \
    "^$E $(printf "$DELIVERED" "$QID1" "$(re "$ADDR")")"
check_log "1. processor log: processing" "$PLOG" \
    "^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3} INFO \([0-9]+\) \($QID1\) #\] replygate: processing <$(re "$MID1")>$"
spool_file=$(grep -A2 -F "processing <$MID1>" "$PLOG" | sed -n 's/.* Matched \(.*\)$/\1/p')
tap_like "1. processor log: Matched the spool file" "$spool_file" "^$(re "$D")/spool/new/[^/]+$"
check_log "1. processor log: Moving ... => success" "$PLOG" \
    "^\[[0-9T:.-]+ DEBUG \([0-9]+\) \($QID1\) #\] Moving $(re "${spool_file:-none}") => $(re "$D")/spool/success$"
tap_check "1. spool: the raw message is in success/" test -f "$D/spool/success/$(basename "${spool_file:-none}")"

# --- 2. without STARTTLS: 530 at RCPT, nothing stored ----------------------
echo "# [${SECONDS}s] 2. without STARTTLS: 530 at RCPT, nothing stored"
MID2=$RUN.2@example.org
send 2 --to "$ADDR" --header "Subject: Re: The reply gate is closed (#1)" \
    --header "Message-Id: <$MID2>" --body "Sounds good, merging it now."
tap_like "2. no STARTTLS: RCPT answered 530 5.7.0" "$(answer 2 'RCPT TO')" \
    '^530 5\.7\.0 Must issue a STARTTLS command first'
check_log "2. mail.log: replygate/milter NOQUEUE reject line" "$MAILLOG" \
    "^$E replygate/milter\[[0-9]+\]: NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 530 5\.7\.0 Must issue a STARTTLS command first; from=<bob@example\.org> to=<$(re "$ADDR")>"
check_log "2. mail.log: Postfix logs the milter's reject" "$MAILLOG" \
    "^$E postfix/smtpd\[[0-9]+\]: NOQUEUE: milter-reject: RCPT from [^ ]*\[127\.0\.0\.1\]: 530 5\.7\.0 .*to=<$(re "$ADDR")>"

# --- 3. a forged key: 550 at RCPT ----------------------------------------
echo "# [${SECONDS}s] 3. a forged key: 550 at RCPT"
mac=$(echo "$ADDR" | sed 's/^reply+i-1-\([0-9a-f]*\)-5@.*/\1/')
first=${mac:0:1}
[ "$first" = 0 ] && swap=1 || swap=0
FORGED=reply+i-1-$swap${mac:1}-5@$RG_DOMAIN
MID3=$RUN.3@example.org
send 3 --tls --to "$FORGED" --header "Message-Id: <$MID3>" --body "Let me in."
tap_like "3. forged key: RCPT answered 550 5.1.1" "$(answer 3 'RCPT TO')" \
    "^550 5\.1\.1 <$(re "$FORGED")>: Recipient address rejected: unknown or expired reply address"
check_log "3. mail.log: replygate/milter NOQUEUE reject line" "$MAILLOG" \
    "^$E replygate/milter\[[0-9]+\]: NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.1\.1 .*; from=<bob@example\.org> to=<$(re "$FORGED")>"

# --- 4. an auto-reply: 550 after DATA -----------------------------------
echo "# [${SECONDS}s] 4. an auto-reply: 550 after DATA"
MID4=$RUN.4@example.org
send 4 --tls --to "$ADDR" --header "Subject: Out of office" --header "Auto-Submitted: auto-replied" \
    --header "Message-Id: <$MID4>" --body "I am away until Monday."
tap_like "4. auto-reply: RCPT accepted" "$(answer 4 'RCPT TO')" '^250 '
tap_like "4. auto-reply: 550 5.7.1 after DATA" "$(answer 4 .)" \
    '^550 5\.7\.1 Auto-submitted message refused \(Auto-Submitted: auto-replied\)'
check_log "4. mail.log: replygate/milter reject line with the reason" "$MAILLOG" \
    "^$E replygate/milter\[[0-9]+\]: [0-9A-Z]+: reject: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: 550 5\.7\.1 Auto-submitted message refused \(Auto-Submitted: auto-replied\); from=<bob@example\.org> to=<$(re "$ADDR")>$"
check_log "4. mail.log: Postfix logs milter-reject" "$MAILLOG" \
    "^$E postfix/cleanup\[[0-9]+\]: [0-9A-Z]+: milter-reject: [A-Z-]+ from [^ ]*\[127\.0\.0\.1\]: 5\.7\.1 Auto-submitted message refused"

# --- 5. an attachment: the same bytes are stored -------------------------
echo "# [${SECONDS}s] 5. an attachment: the same bytes are stored"
head -c 70000 /dev/urandom >"$T/data.bin"
want_sha=$(sha256sum "$T/data.bin" | cut -d' ' -f1)
MID5=$RUN.5@example.org
send 5 --tls --to "$ADDR" --header "Subject: Re: logs" --header "Message-Id: <$MID5>" \
    --body "Here is the dump you asked for." \
    --attach-type application/octet-stream --attach-name dump.bin --attach "@$T/data.bin"
QID5=$(queue_id 5)
got=$(wait_sql "SELECT attachment_count FROM replygate.processed_replies WHERE message_id = '$MID5'" 1)
tap_is "5. attachment: stored with one attachment" "$got" 1
tap_is "5. attachment: name, size and the SHA-256 of the stored bytes" \
    "$(sql "SELECT a.filename||' '||a.size||' '||encode(sha256(a.data), 'hex')||' '||a.sha256 FROM replygate.attachments a JOIN replygate.messages m ON m.id = a.reply_id WHERE m.message_id = '$MID5'")" \
    "dump.bin 70000 $want_sha $want_sha"
sql "SELECT encode(a.data, 'base64') FROM replygate.attachments a JOIN replygate.messages m ON m.id = a.reply_id WHERE m.message_id = '$MID5'" |
    base64 -d >"$T/data.back"
tap_check "5. attachment: byte for byte (cmp)" cmp -s "$T/data.bin" "$T/data.back"
check_log "5. mail.log: attachments=1, status=stored" "$MAILLOG" \
    "^$E $AGENT\[[0-9]+\]: ${QID5:-none}: message-id=<$(re "$MID5")>, key=i-1-5, source=envelope, reply=[0-9]+, attachments=1, status=stored$"

# --- 6. the dedicated address, key in References --------------------------
echo "# [${SECONDS}s] 6. the dedicated address, key in References"
KEYADDR=$(rg address --config "$RG_CONFIG" i 9 7)
MID6=$RUN.6@example.org
send 6 --tls --to "reply@$RG_DOMAIN" --header "Subject: Re: issue 9" --header "Message-Id: <$MID6>" \
    --header "In-Reply-To: <$KEYADDR>" --header "References: <thread-9@example.com> <$KEYADDR>" \
    --body "Replying to the thread."
QID6=$(queue_id 6)
tap_like "6. dedicated address: accepted" "$(answer 6 .)" '^250 2\.0\.0 Ok: queued as'
got=$(wait_sql "SELECT kind||'-'||target||'-'||\"user\"||' '||source FROM replygate.processed_replies WHERE message_id = '$MID6'" "i-9-7 references")
tap_is "6. dedicated address: stored with key i-9-7 from references" "$got" "i-9-7 references"
check_log "6. mail.log: source=references" "$MAILLOG" \
    "^$E $AGENT\[[0-9]+\]: ${QID6:-none}: message-id=<$(re "$MID6")>, key=i-9-7, source=references, reply=[0-9]+, attachments=0, status=stored$"

# --- 6c. the unique Message-ID form of a notification (SPEC 3 item 9) ------
echo "# [${SECONDS}s] 6c. the unique Message-ID form: in References, and as the recipient"
UNIQUE_ID=$(rg message-id --config "$RG_CONFIG" i 9 8)
UNIQUE=${UNIQUE_ID#<}
UNIQUE=${UNIQUE%>}
MID6C=$RUN.6c@example.org
send 6c --tls --to "reply@$RG_DOMAIN" --header "Subject: Re: issue 9" --header "Message-Id: <$MID6C>" \
    --header "In-Reply-To: <thread-9@example.com>" \
    --header "References: \"<thread-9@example.com>,$UNIQUE_ID\"" --body "Replying from Exchange."
tap_like "6c. unique Message-ID in a quoted References: accepted" "$(answer 6c .)" '^250 2\.0\.0 Ok: queued as'
got=$(wait_sql "SELECT kind||'-'||target||'-'||\"user\"||' '||source FROM replygate.processed_replies WHERE message_id = '$MID6C'" "i-9-8 references")
tap_is "6c. unique Message-ID in References: stored with key i-9-8" "$got" "i-9-8 references"
MID6D=$RUN.6d@example.org
send 6d --tls --to "$UNIQUE" --header "Subject: Re: issue 9" --header "Message-Id: <$MID6D>" \
    --body "Replying to the notification's own id."
tap_like "6c. RCPT to the unique form: accepted by the milter" "$(answer 6d 'RCPT TO')" '^250 '
got=$(wait_sql "SELECT kind||'-'||target||'-'||\"user\"||' '||source FROM replygate.processed_replies WHERE message_id = '$MID6D'" "i-9-8 envelope")
tap_is "6c. RCPT to the unique form: stored with key i-9-8 from the envelope" "$got" "i-9-8 envelope"

# --- 6b. the dedicated address without any key: 550 after DATA, no bounce --
echo "# [${SECONDS}s] 6b. the dedicated address without any key: 550 after DATA"
MID6B=$RUN.6b@example.org
send 6b --tls --to "reply@$RG_DOMAIN" --header "Subject: Re: something" \
    --header "Message-Id: <$MID6B>" --body "Which thread was this again?"
tap_like "6b. dedicated address, no key: RCPT accepted" "$(answer 6b 'RCPT TO')" '^250 '
tap_like "6b. dedicated address, no key: 550 5.1.1 after DATA" "$(answer 6b .)" \
    "^550 5\.1\.1 <$(re "reply@$RG_DOMAIN")>: Recipient address rejected: no reply key in the message"
check_log "6b. mail.log: replygate/milter reject line (SPEC 6 shape)" "$MAILLOG" \
    "^$E replygate/milter\[[0-9]+\]: [0-9A-Z]+: reject: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: 550 5\.1\.1 <$(re "reply@$RG_DOMAIN")>: Recipient address rejected: no reply key in the message; from=<bob@example\.org> to=<$(re "reply@$RG_DOMAIN")>$"

# --- 7. the no-reply address: discarded, logged, nothing stored ------------
echo "# [${SECONDS}s] 7. the no-reply address: discarded, logged, nothing stored"
MID7=$RUN.7@example.org
send 7 --tls --to "$RG_NOREPLY" --header "Subject: Re: your notification" \
    --header "Message-Id: <$MID7>" --body "Thanks!"
QID7=$(queue_id 7)
tap_like "7. no-reply: the sender is told 250 (no backscatter)" "$(answer 7 .)" '^250 '
check_log "7. mail.log: Postfix discards it on the milter's word" "$MAILLOG" \
    "^$E postfix/cleanup\[[0-9]+\]: ${QID7:-none}: milter-discard: END-OF-MESSAGE from [^ ]*\[127\.0\.0\.1\]: milter triggers DISCARD action"
check_log "7. mail.log: replygate/milter logs the discard" "$MAILLOG" \
    "^$E replygate/milter\[[0-9]+\]: ${QID7:-none}: discard: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: .*; from=<bob@example\.org> to=<$(re "$RG_NOREPLY")>$"

# --- 2, 3, 4, 6b, 7: nothing stored (checked after the queue had time) ---
echo "# [${SECONDS}s] 2, 3, 4, 6b, 7: nothing stored (checked after the queue had time)"
sleep 1
for m in 2:$MID2 3:$MID3 4:$MID4 6b:$MID6B 7:$MID7; do
    tap_is "${m%%:*}. nothing stored for <${m#*:}>" "$(stored_count "${m#*:}")" 0
    tap_is "${m%%:*}. the agent never saw it (processor log, mail.log)" \
        "$(grep -cF "<${m#*:}>" "$PLOG") $(grep -F "<${m#*:}>" "$MAILLOG" | grep -c "$AGENT")" "0 0"
done
tap_is "all: no reply went to failure/ or was bounced" \
    "$(ls "$D/spool/failure" | wc -l) $(grep -c 'status=bounced' "$MAILLOG")" "0 0"

# --- 8. replygate check: passes, then fails with the milter stopped -------
echo "# [${SECONDS}s] 8. replygate check: passes, then fails with the milter stopped"
rg check --config "$RG_CONFIG" --postfix-config "$D/postfix" >"$T/check1" 2>&1
status=$?
tap_is "8. replygate check passes on the test stack (exit 0)" "$status" 0
tap_is "8. replygate check: no FAIL line" "$(grep -c '^FAIL' "$T/check1")" 0
[ "$status" = 0 ] || sed 's/^/# /' "$T/check1"
tap_like "8. replygate check: milter line OK" "$(grep 'milter socket' "$T/check1")" '^OK +milter socket unix:.* answers a milter negotiation as user postfix'
# check_fails LABEL ERE [check options] - replygate check exits 1 with a FAIL
# line that matches ERE
check_fails() {
    local label=$1 ere=$2 out status
    shift 2
    out=$(rg check --config "$RG_CONFIG" --postfix-config "$D/postfix" "$@" 2>&1)
    status=$?
    tap_like "8. check fails: $label" "exit=$status $(printf '%s\n' "$out" | grep '^FAIL')" \
        "^exit=1 FAIL +$ere"
}
chmod 644 "$D/etc/secrets"
check_fails "secrets readable by others" "secrets file .*secrets has mode 0644.*; fix: make it mode 0640"
chmod 640 "$D/etc/secrets"
milters=$(postconf -c "$D/postfix" -h smtpd_milters)
postconf -c "$D/postfix" -e "smtpd_milters ="
check_fails "smtpd_milters without the milter" "no Postfix smtpd service asks the milter .*; fix: replygate postfix-setup"
postconf -c "$D/postfix" -e "smtpd_milters = $milters"
mkdir "$T/sql"
cp "$SRC"/sql/[0-9][0-9][0-9][0-9]_*.sql "$T/sql/"
echo "SELECT 1;" >"$T/sql/9999_future.sql"
check_fails "a schema file not applied" "database reachable, but 1 schema file is not applied, from 9999_future\.sql; fix: run: replygate migrate" --sql-dir "$T/sql"
chown root: "$D/spool"
check_fails "spool not writable by replygate" "spool .*/spool is not writable by user replygate; fix: "
chown replygate: "$D/spool"
chown root: "$D/spool/new"
check_fails "spool/new left to root" "spool folder .*/spool/new is not writable by user replygate; fix: "
chown replygate: "$D/spool/new"
mkdir -p "$T/tls-soon"
openssl req -x509 -newkey rsa:2048 -nodes -days 5 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$T/tls-soon/key.pem" -out "$T/tls-soon/cert.pem" >/dev/null 2>&1
pf_cert "$T/tls-other" mx.elsewhere.example >/dev/null 2>&1
postconf -c "$D/postfix" -e "smtpd_tls_cert_file = $T/tls-soon/cert.pem" "smtpd_tls_key_file = $T/tls-soon/key.pem"
check_fails "certificate expiring in 5 days" "TLS certificate .*cert\.pem expires within 14 days"
postconf -c "$D/postfix" -e "smtpd_tls_cert_file = $T/tls-other/cert.pem" "smtpd_tls_key_file = $T/tls-other/key.pem"
check_fails "certificate for another host" "TLS certificate .*cert\.pem does not name the host localhost"
postconf -c "$D/postfix" -e "smtpd_tls_cert_file = $T/tls-other/cert.pem" "smtpd_tls_key_file = $D/tls/key.pem"
check_fails "key of another certificate" "TLS key .*key\.pem is not the key of certificate"
postconf -c "$D/postfix" -e "smtpd_tls_cert_file = $D/tls/cert.pem" "smtpd_tls_key_file = $D/tls/key.pem"
rg check --config "$RG_CONFIG" --postfix-config "$D/postfix" >/dev/null 2>&1
tap_is "8. check passes again once everything is put back" "$?" 0

stack_milter_stop "$D"
rg check --config "$RG_CONFIG" --postfix-config "$D/postfix" >"$T/check2" 2>&1
tap_is "8. replygate check with the milter stopped exits 1" "$?" 1
tap_like "8. replygate check names the milter and the fix" "$(grep '^FAIL' "$T/check2")" \
    '^FAIL +milter socket unix:.* does not answer as user postfix: .*; fix: start replygate-milter'

# --- issue 4: milter stopped -> 4xx, nothing accepted unfiltered ---------
echo "# [${SECONDS}s] issue 4: milter stopped -> 4xx, nothing accepted unfiltered"
MID9=$RUN.9@example.org
send 9 --tls --to "$ADDR" --header "Subject: Re: while the milter is down" \
    --header "Message-Id: <$MID9>" --body "Will this get through?"
tap_like "milter down: Postfix answers 4xx (TLS session)" "$(grep -E '^ *(<\*\*|<~\*) +[0-9]{3} ' "$T/9" | head -1)" \
    '^ *(<\*\*|<~\*) +4[0-9][0-9] 4\.[0-9]\.[0-9]'
send 9p --to "$ADDR" --header "Message-Id: <$MID9.p>" --body "And without TLS?"
tap_like "milter down: Postfix answers 4xx (plain session)" "$(grep -E '^ *(<\*\*|<~\*) +[0-9]{3} ' "$T/9p" | head -1)" \
    '^ *(<\*\*|<~\*) +4[0-9][0-9] 4\.[0-9]\.[0-9]'
tap_is "milter down: nothing queued in the plain session" "$(queue_id 9p)" ""
tap_is "milter down: nothing queued (no 'queued as')" "$(queue_id 9)" ""
check_log "milter down: mail.log says Postfix cannot reach the milter" "$MAILLOG" \
    "^$E postfix/smtpd\[[0-9]+\]: warning: connect to Milter service unix:replygate/milter\.sock: "
tap_is "milter down: the queue is empty (postqueue -j)" \
    "$(postqueue -c "$D/postfix" -j 2>/dev/null | wc -l)" 0
sleep 1
tap_is "milter down: nothing stored" "$(stored_count "$MID9") $(stored_count "$MID9.p")" "0 0"
stack_milter_start "$D" >/dev/null 2>&1
send 9b --tls --to "$ADDR" --header "Subject: Re: after the milter is back" \
    --header "Message-Id: <$MID9.b>" --body "And now?"
got=$(wait_sql "SELECT count(*) FROM replygate.processed_replies WHERE message_id = '$MID9.b'" 1)
tap_is "milter back: the next reply is stored" "$got" 1

# --- replygate replies on the stack ---------------------------------------
echo "# [${SECONDS}s] replygate replies on the stack"
tap_like "replies: text lists the STARTTLS reply" "$(rg replies --config "$RG_CONFIG" --limit 50)" \
    "i-1-5 \(envelope\) from <bob@example\.org> TLSv1\.[23]"
tap_is "replies --kind i --json: one object per stored reply" \
    "$(rg replies --config "$RG_CONFIG" --kind i --json --limit 50 | jq -s 'length')" \
    "$(sql "SELECT count(*) FROM replygate.processed_replies WHERE kind = 'i'")"
tap_is "replies --json: the reply_text of case 1" \
    "$(rg replies --config "$RG_CONFIG" --json --limit 50 | jq -r "select(.message_id == \"$MID1\") | .reply_text")" \
    "Sounds good, merging it now."
tap_is "replies --since 1h counts every reply, --since 0s none" \
    "$(rg replies --config "$RG_CONFIG" --since 1h --json --limit 100 | wc -l) $(rg replies --config "$RG_CONFIG" --since 0s --json | wc -l)" \
    "$(sql 'SELECT count(*) FROM replygate.processed_replies') 0"
rg replies --config "$RG_CONFIG" --since 5x >/dev/null 2>&1
tap_is "replies --since 5x is a usage error (64)" "$?" 64
rg replies --config "$RG_CONFIG" --follow --json --limit 0 >"$T/follow" 2>&1 &
follow_pid=$!
# Send only once it listens: LISTEN, the first query, then idle.
wait_sql "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'replygate-replies' AND state = 'idle'" t >/dev/null
MID10=$RUN.10@example.org
send 10 --tls --to "$ADDR" --header "Subject: Re: follow" --header "Message-Id: <$MID10>" --body "Followed."
for _ in $(seq 100); do grep -q "$MID10" "$T/follow" && break; sleep 0.1; done
kill "$follow_pid" 2>/dev/null
wait "$follow_pid" 2>/dev/null
tap_is "replies --follow prints a reply as it is stored" \
    "$(jq -r .message_id "$T/follow" 2>/dev/null)" "$MID10"

# --- scripts/install twice, then scripts/uninstall ------------------------
echo "# [${SECONDS}s] scripts/install twice, then scripts/uninstall"
# Against a scratch Postfix config and a staging root, with a database of its own.
PFX=$T/pf-admin
ROOT=$T/root
mkdir -p "$PFX" "$ROOT"
cat >"$PFX/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $T/pf-admin-queue
myhostname = mx.example.net
smtpd_milters = inet:127.0.0.1:8891
relay_domains = lists.example.net
smtpd_tls_cert_file = /etc/ssl/admin/mx.pem
smtpd_tls_key_file = /etc/ssl/admin/mx.key
EOF
cp /etc/postfix/master.cf "$PFX/master.cf"
cp -a "$PFX" "$T/pf-admin.orig"
psql -X -q -c "CREATE DATABASE replygate_install" >/dev/null 2>&1
snapshot() {
    (cd "$ROOT" && find . -printf '%p %y %m %u %g\n' | sort
     find . -type f -print0 | sort -z | xargs -0 -r md5sum
     cd "$PFX" && md5sum main.cf master.cf)
}
"$SRC/scripts/install" --build "$BUILD" --root "$ROOT" --postfix-config "$PFX" --transport "$RG_TRANSPORT" \
    --database "host=$PG_DIR dbname=replygate_install user=postgres" >"$T/install1" 2>&1
tap_is "install: first run succeeds" "$?" 0
snapshot >"$T/snap1"
"$SRC/scripts/install" --build "$BUILD" --root "$ROOT" --postfix-config "$PFX" --transport "$RG_TRANSPORT" \
    --database "host=$PG_DIR dbname=replygate_install user=postgres" >"$T/install2" 2>&1
tap_is "install: second run succeeds" "$?" 0
snapshot >"$T/snap2"
tap_is "install: the second run changes no file, owner or mode" "$(diff "$T/snap1" "$T/snap2")" ""
tap_is "install: the second run reports no change" \
    "$(grep -v -e 'postfix-conf: 0 changes' -e 'migrate: nothing to apply' -e 'install: done' "$T/install2")" ""
MILTER_ITEM="{ unix:replygate/milter.sock, default_action=accept, connect_timeout=5s, command_timeout=10s, content_timeout=30s }"
if [ "$RG_TRANSPORT" = lmtp ]; then
    tap_is "install: Postfix has the lmtp service, the per-milter form (accept) and the admin's own settings" \
        "$(postconf -c "$PFX" -h smtpd_milters milter_default_action relay_domains replygate-lmtp_destination_recipient_limit transport_maps | tr '\n' '|')$(postconf -c "$PFX" -M replygate-lmtp/unix | grep -c 'lmtp -o lmtp_send_xforward_command=yes')$(postconf -c "$PFX" -M replygate/unix | wc -l)" \
        "inet:127.0.0.1:8891, $MILTER_ITEM|tempfail|lists.example.net, reply.mx.example.net|50|inline:{ reply.mx.example.net=replygate-lmtp:unix:replygate/lmtp.sock }|10"
    tap_is "install: the lmtp service's clients restart after 1000 deliveries, not all together after 100" \
        "$(postconf -c "$PFX" -P replygate-lmtp/unix/max_use)" "replygate-lmtp/unix/max_use = 1000"
    tap_check "install: systemd unit for the LMTP service written (under the prefix)" \
        grep -q "^ExecStart=/usr/local/sbin/replygate-lmtpd" "$ROOT/usr/local/lib/systemd/system/replygate-lmtpd.service"
else
    tap_is "install: Postfix has the service, the per-milter form (accept) and the admin's own settings" \
        "$(postconf -c "$PFX" -h smtpd_milters milter_default_action relay_domains replygate_destination_recipient_limit | tr '\n' '|')$(postconf -c "$PFX" -M replygate/unix | grep -c ' 10 *pipe flags=DORXq null_sender= user=replygate')" \
        "inet:127.0.0.1:8891, $MILTER_ITEM|tempfail|lists.example.net, reply.mx.example.net|1|1"
fi
tap_is "install: secret 0640 root:replygate, spool 0750 replygate" \
    "$(stat -c '%a %U:%G' "$ROOT/etc/replygate/secrets" "$ROOT/var/spool/replygate" | tr '\n' ' ')" \
    "640 root:replygate 750 replygate:replygate "
tap_is "install: the schema is migrated" \
    "$(psql -X -A -t -d replygate_install -c 'SELECT count(*) FROM replygate.schema_migrations' 2>&1)" \
    "$(ls "$SRC/sql" | grep -c '^[0-9]\{4\}_.*\.sql$')"
tap_check "install: systemd unit for the milter written (under the prefix, not /etc/systemd)" \
    grep -q "^ExecStart=/usr/local/sbin/replygate-milter" "$ROOT/usr/local/lib/systemd/system/replygate-milter.service"
tap_is "install: the administrator's certificate is kept, none is made" \
    "$(postconf -c "$PFX" -h smtpd_tls_cert_file smtpd_tls_key_file | tr "\n" " ")$(ls "$ROOT/etc/replygate/tls" 2>/dev/null)" \
    "/etc/ssl/admin/mx.pem /etc/ssl/admin/mx.key "
# A change by hand after the install wins over the uninstall.
postconf -c "$PFX" -e "milter_protocol = 4"
"$SRC/scripts/uninstall" --root "$ROOT" --postfix-config "$PFX" --purge >"$T/uninstall" 2>&1
tap_is "uninstall: succeeds" "$?" 0
tap_is "uninstall: the administrator's later milter_protocol = 4 stays" \
    "$(postconf -c "$PFX" -nh milter_protocol)" 4
postconf -c "$PFX" -X milter_protocol
tap_is "uninstall: Postfix's main.cf and master.cf are as before (that line aside)" \
    "$(diff -r "$T/pf-admin.orig" "$PFX")" ""
tap_is "uninstall --purge: no file left in the staging root" "$(cd "$ROOT" && find . -type f)" ""
psql -X -q -d postgres -c "DROP DATABASE replygate_install" >/dev/null 2>&1

# --- scripts/up and scripts/down (the first README command) ---------------
echo "# [${SECONDS}s] scripts/up and scripts/down (the first README command)"
UP_PORT=$(pf_free_port)
# A folder another user made first (issue 13 item 7), or a link, is refused
# before anything is installed or started.
install -d -o nobody -m 755 "$T/theirs"
REPLYGATE_LOCAL_DIR=$T/theirs "$SRC/scripts/up" >"$T/up0" 2>&1
tap_like "scripts/up: a folder of another user's is refused" "$?:$(cat "$T/up0")" \
    '^1:scripts/up: .*/theirs must belong to root and be writable by root only'
install -d -m 777 "$T/open"
REPLYGATE_LOCAL_DIR=$T/open "$SRC/scripts/up" >"$T/up0" 2>&1
tap_like "scripts/up: a folder others may write is refused" "$?:$(cat "$T/up0")" '^1:.*writable by root only'
ln -s "$T/elsewhere" "$T/link"
REPLYGATE_LOCAL_DIR=$T/link "$SRC/scripts/up" >"$T/up0" 2>&1
tap_like "scripts/up: a link is refused" "$?:$(cat "$T/up0")" '^1:.*is not a folder \(a link\?\)'
tap_check "scripts/up: nothing was made through the link" test ! -e "$T/elsewhere"
REPLYGATE_LOCAL_DIR=$UP_DIR REPLYGATE_LOCAL_PORT=$UP_PORT BUILD_DIR=$BUILD REPLYGATE_NO_BUILD=1 \
    "$SRC/scripts/up" >"$T/up1" 2>&1
tap_is "scripts/up: exits 0" "$?" 0
tap_like "scripts/up: the STARTTLS reply is queued" "$(cat "$T/up1")" 'queued as [0-9A-Z]+'
tap_like "scripts/up: the plain reply is refused 530" "$(cat "$T/up1")" '530 5\.7\.0'
tap_like "scripts/up: the auto-reply is refused 550" "$(cat "$T/up1")" '550 5\.7\.1'
tap_like "scripts/up: prints the mail.log line status=stored" "$(cat "$T/up1")" "$AGENT"'\[[0-9]+\]: [0-9A-Z]+: .*status=stored'
tap_like "scripts/up: prints the processor log" "$(cat "$T/up1")" 'Moving .* => .*/success'
paste=$(grep '^export REPLYGATE_CONFIG=' "$T/up1")
tap_like "scripts/up: prints the line to paste" "$paste" '^export REPLYGATE_CONFIG=/'
(
    eval "$paste"
    replygate replies | grep -c '^#[0-9]'
    replygate check >/dev/null 2>&1; echo "check=$?"
    psql -X -A -t -c 'SELECT count(*) FROM replygate.processed_replies'
) >"$T/pasted" 2>&1
tap_is "scripts/up: after the pasted line, replies, check and psql work" \
    "$(tr '\n' ' ' <"$T/pasted")" "1 check=0 1 "
REPLYGATE_LOCAL_DIR=$UP_DIR REPLYGATE_LOCAL_PORT=$UP_PORT BUILD_DIR=$BUILD REPLYGATE_NO_BUILD=1 \
    "$SRC/scripts/up" >"$T/up2" 2>&1
tap_is "scripts/up: a second run works" "$?" 0
tap_like "scripts/up: the second run stores its reply" "$(cat "$T/up2")" 'status=stored'
up_pg=$(cat "$UP_DIR/pg.dir" 2>/dev/null || echo none)
# The daemons of the up stack by pid: Postfix's master, the milter, rsyslogd
# and the postmaster (whose command lines need not name the folder).
up_pids=$(cat "$UP_DIR/queue/pid/master.pid" "$UP_DIR/milter.pid" "$UP_DIR/rsyslog.pid" 2>/dev/null | tr -s " \n" " ")
up_pids="$up_pids $(head -1 "$up_pg/data/postmaster.pid" 2>/dev/null)"
DAEMONS=4
if [ "$RG_TRANSPORT" = lmtp ]; then
    up_pids="$up_pids $(cat "$UP_DIR/lmtpd.pid" 2>/dev/null)"
    DAEMONS=5
fi
tap_is "scripts/down: the pids of the up stack were found" "$(echo $up_pids | tr ' ' '\n' | grep -c '^[0-9][0-9]*$')" "$DAEMONS"
REPLYGATE_LOCAL_DIR=$UP_DIR "$SRC/scripts/down" >"$T/down" 2>&1
tap_is "scripts/down: exits 0" "$?" 0
sleep 0.5
tap_is "scripts/down: no process of the stack is left" \
    "$(ps -eo args | grep -F "$UP_DIR" | grep -v grep | wc -l) $(ps -eo args | grep -F "$up_pg" | grep -v grep | wc -l)" "0 0"
alive=
for p in $up_pids; do running "$p" && alive="$alive $p"; done
tap_is "scripts/down: master, milter, rsyslogd and postmaster are gone" "$alive" ""

# The test stack itself stops cleanly too.
st_pids="$(cat "$D/queue/pid/master.pid" "$D/milter.pid" "$D/rsyslog.pid" 2>/dev/null | tr -s " \n" " ") $(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)"
# (rsyslogd writes its pid without a newline: each file on its own)
[ "$RG_TRANSPORT" = lmtp ] && st_pids="$st_pids $(cat "$D/lmtpd.pid" 2>/dev/null)"
echo "# the test stack's daemons: $st_pids"
stack_down "$D" >/dev/null 2>&1
alive=
for p in $st_pids; do running "$p" && alive="$alive $p"; done
tap_is "stack_down: every daemon of the test stack is gone" "$(echo $st_pids | wc -w) $alive" "$DAEMONS "

tap_done
