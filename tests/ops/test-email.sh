#!/bin/bash
# test-email.sh - `replygate test-email` on the local stack (Postfix with
# the milter, the agent, PostgreSQL, syslog): end to end it prints every hop
# with its timing and the row; each broken hop is named with exit 1 - a
# forged --to (RCPT), the milter stopped (Postfix's 4xx), the database down
# (pipe(8) defers), and a mail.log that is not there.
#
# RG_TRANSPORT=lmtp runs the same cases through the LMTP door.
# usage: test-email.sh SOURCE_DIR BUILD_DIR
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
. "$(dirname "$0")/../lib/tap.sh"
src=$1 build=$2
dir=$(mktemp -d /tmp/rg-ops-testemail.XXXXXX)
STACK_SRC=$src
. "$src/scripts/lib/stack.sh"
cleanup() { stack_down "$dir" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT

stack_up "$dir" "$(pf_free_port)" "$build" >"$dir.up.log" 2>&1 ||
    { cat "$dir.up.log"; rm -f "$dir.up.log"; tap_bail "the stack did not come up"; }
rm -f "$dir.up.log"
if [ "$RG_TRANSPORT" = lmtp ]; then
    DELIVERED='postfix/(replygate-lmtp/)?lmtp\[[0-9]+\]'
else
    DELIVERED='postfix/pipe\[[0-9]+\]'
fi
AGENT=$RG_AGENT_IDENT
echo "# door: $RG_TRANSPORT"
te() {
    pf_run "$dir" "$RG_BIN/replygate" test-email --config "$RG_CONFIG" \
        --server "127.0.0.1:$RG_PORT" --maillog "$dir/mail.log" "$@" 2>&1
}
show() { printf '%s\n' "$1" | sed 's/^/#   /'; }

# --- end to end ----------------------------------------------------------
out=$(te --timeout 30); rc=$?
tap_is "end to end: exit 0" "$rc" 0
show "$out"
tap_like "the SMTP dialogue is printed with timings" "$out" '^ +\+[0-9.]+ms  S: 220 '
for cmd in 'EHLO ' 'STARTTLS' 'MAIL FROM:<' 'RCPT TO:<reply\+test-1-[0-9a-f]{40}-0@' 'DATA'; do
    tap_like "C: $cmd" "$out" "ms  C: $cmd"
done
tap_like "the TLS session is printed" "$out" 'ms  TLS: TLSv1\.[23] [A-Z0-9_-]+ \([0-9]+ bits\)'
tap_like "an IP address is not verified by default, and it says so" "$out" 'TLS: .*, not verified \(--tls-verify to verify\)'
tap_like "OK smtp with its time" "$out" '^OK smtp \([0-9.]+ ms\)$'
qid=$(printf '%s\n' "$out" | sed -n 's/^OK queue \([0-9A-Za-z]*\)$/\1/p')
tap_like "OK queue with the queue id" "$qid" '^[0-9A-Za-z]+$'
tap_like "the 250 reply names the same queue id" "$out" "S: 250 .*queued as $qid"
tap_like "mail.log: the agent's line for it" "$out" \
    "ms  .* $AGENT\\[[0-9]+\\]: $qid: message-id=<replygate-test\\..*status=stored"
tap_like "mail.log: $RG_TRANSPORT says sent" "$out" "ms  .* $DELIVERED: $qid: .*status=sent"
tap_like "OK mail.log" "$out" '^OK mail\.log \([0-9.]+ ms\)$'
tap_like "processor: processing line, with the queue id" "$out" "ms  \\[[-0-9T:.]+ INFO \\([0-9]+\\) \\($qid\\) #\\] replygate: processing <replygate-test\\."
tap_like "processor: moving to success" "$out" "ms  .*DEBUG \\([0-9]+\\) \\($qid\\) #\\] Moving .* => $dir/spool/success"
tap_like "OK processor" "$out" '^OK processor \([0-9.]+ ms\)$'
tap_like "database: the row, with the milter's TLS facts" "$out" \
    'replygate.messages: id=[0-9]+ kind=test target=1 user=0 source=envelope tls=TLSv1\.[23] cipher=[A-Z0-9_-]+ is_test=t '
tap_like "OK database" "$out" '^OK database \([0-9.]+ ms\)$'
tap_like "the total time" "$out" '^stored: the test reply went from SMTP to its row in [0-9.]+ ms$'
mid=$(printf '%s\n' "$out" | sed -n 's/^test-email: .* message-id=<\(.*\)>$/\1/p')
tap_is "the row is really there, marked as a test" \
    "$(pg_value "SELECT count(*) FROM replygate.messages WHERE message_id = '$mid' AND key_kind = 'test' AND is_test")" 1
tap_is "the application never sees it" \
    "$(pg_value "SELECT count(*) FROM replygate.processed_replies WHERE message_id = '$mid'")" 0

# --- TLS: a host name is verified; nothing is sent before the handshake ---
# The stack's certificate is self-signed for localhost.
te_host() {
    "$RG_BIN/replygate" test-email --config "$RG_CONFIG" --maillog "$dir/mail.log" --timeout 20 "$@" 2>&1
}
out=$(te_host --server "localhost:$RG_PORT"); rc=$?
tap_is "a host name, self-signed certificate: exit 1" "$rc" 1
tap_like "  verified by default, and refused" "$out" \
    '^FAIL smtp: starttls: the certificate does not verify for localhost: self.signed certificate'
tap_is "  no MAIL, RCPT or DATA was sent" "$(printf '%s\n' "$out" | grep -cE 'C: (MAIL|RCPT|DATA)')" 0
out=$(te_host --server "localhost:$RG_PORT" --tls-ca "$dir/tls/cert.pem"); rc=$?
tap_is "a host name with --tls-ca naming its CA: exit 0" "$rc" 0
tap_like "  the certificate is verified" "$out" 'TLS: .*, verified'
out=$(te_host --server "localhost:$RG_PORT" --no-tls-verify); rc=$?
tap_is "a host name with --no-tls-verify: exit 0, reported only" "$rc:$(printf '%s\n' "$out" | grep -c 'not verified')" "0:1"
out=$(te_host --server "127.0.0.1:$RG_PORT" --tls-verify --tls-ca "$dir/tls/cert.pem"); rc=$?
tap_is "--tls-verify for an address the certificate does not name: exit 1" "$rc" 1
tap_like "  refused before MAIL" "$out" '^FAIL smtp: starttls: the certificate does not verify for 127\.0\.0\.1'
# A server that sends a line after its 220 to STARTTLS, before the handshake
# (the STARTTLS injection): test-email stops, and sends nothing more.
fake=$(pf_free_port)
python3 - "$fake" "$dir/fake.log" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(10)
log = open(sys.argv[2], "w")
c.sendall(b"220 fake ESMTP\r\n")
buf = b""
try:
    while True:
        data = c.recv(4096)
        if not data:
            break
        buf += data
        log.write(data.decode(errors="replace")); log.flush()
        if buf.upper().startswith(b"EHLO") and b"\n" in buf:
            c.sendall(b"250-fake\r\n250 STARTTLS\r\n"); buf = b""
        elif buf.upper().startswith(b"STARTTLS"):
            c.sendall(b"220 go ahead\r\n250 injected before the handshake\r\n"); buf = b""
except Exception:
    pass
PY
fake_pid=$!
for _ in $(seq 100); do ss -Htln "sport = :$fake" | grep -q . && break; sleep 0.1; done
out=$(te_host --server "127.0.0.1:$fake" --timeout 5); rc=$?
wait $fake_pid 2>/dev/null
tap_is "STARTTLS injection: exit 1" "$rc" 1
tap_like "  named" "$out" '^FAIL smtp: starttls: the server sent [0-9]+ bytes after its 220 to STARTTLS'
tap_is "  the server got only EHLO and STARTTLS" "$(tr -d '\r' <"$dir/fake.log" | cut -d' ' -f1 | xargs)" "EHLO STARTTLS"

# --- a forged key: RCPT ---------------------------------------------------
forged=reply+test-1-0000000000000000000000000000000000000000-0@$RG_DOMAIN
out=$(te --to "$forged" --timeout 10); rc=$?
tap_is "forged key: exit 1" "$rc" 1
tap_like "forged key: the RCPT hop is named with the 550" "$out" \
    '^FAIL smtp: rcpt: RCPT TO:<[^>]+> answered 550 5\.1\.1 '

# --- a mail.log that is not there -----------------------------------------
out=$(pf_run "$dir" "$RG_BIN/replygate" test-email --config "$RG_CONFIG" \
    --server "127.0.0.1:$RG_PORT" --maillog "$dir/no-such.log" --timeout 10 2>&1); rc=$?
tap_is "no mail.log: exit 1" "$rc" 1
tap_like "no mail.log: the mail.log hop is named" "$out" '^FAIL mail\.log: .*no-such\.log'

# --- the database down: pipe(8) defers -------------------------------------
pg_stop
out=$(te --timeout 20); rc=$?
tap_is "database down: exit 1" "$rc" 1
tap_like "database down: the mail.log hop says deferred" "$out" \
    '^FAIL mail\.log: Postfix says status=deferred'
tap_like "database down: the agent's 4.3.0 is shown" "$out" "$AGENT"'\[[0-9]+\]: [0-9A-Za-z]+: .*status=deferred \(4\.3\.0 '
pg_restart

# --- the milter stopped ---------------------------------------------------
stack_milter_stop "$dir"
out=$(te --timeout 10); rc=$?
tap_is "milter stopped: exit 1" "$rc" 1
tap_like "milter stopped: the SMTP hop is named with Postfix's 4xx" "$out" \
    '^FAIL smtp: [a-z]+: .*answered 4[0-9][0-9] '
tap_is "milter stopped: no queue id was given" "$(printf '%s\n' "$out" | grep -c '^OK queue')" 0
out=$("$RG_BIN/replygate" test-email --config "$RG_CONFIG" --server "127.0.0.1:1" --timeout 5 2>&1); rc=$?
tap_is "nothing listening: exit 1" "$rc" 1
tap_like "nothing listening: the connect step is named" "$out" '^FAIL smtp: connect: cannot connect to 127\.0\.0\.1:1'
out=$("$RG_BIN/replygate" test-email --config "$RG_CONFIG" extra 2>&1); rc=$?
tap_is "an extra argument: usage, exit 64" "$rc" 64
tap_done
