#!/bin/bash
# orcpt.sh - one recipient given many times with different DSN ORCPT values
# (issue 13 item 2, the suspected case, confirmed): Postfix's duplicate filter
# keys on the ORCPT too, so it delivers the message once per value. Through
# a real private Postfix, PostgreSQL, milter and agent (scripts/lib/stack.sh):
#   - a message over a structural limit, sent to one reply address with 30
#     ORCPT values: judged once (one 5.3.4 refusal, one copy in failure/, one
#     bounce), every other delivery a duplicate done at once;
#   - a real reply the same way: one row, the other deliveries duplicates.
# The time the agents took in all is printed, never compared.
# Environment (set by meson): SRC, the source tree; BUILD, the build tree.
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
. "$SRC/tests/lib/tap.sh"
. "$SRC/scripts/lib/stack.sh"
unset MAIL_CONFIG

T=$(mktemp -d /tmp/rg-orcpt.XXXXXX)
chmod 755 "$T"
D=$T/stack
trap 'stack_down "$D" >/dev/null 2>&1; rm -rf "$T"' EXIT
PORT=$(pf_free_port)
stack_up "$D" "$PORT" "$BUILD" >"$T/up.log" 2>&1 || { sed 's/^/# /' "$T/up.log"; tap_bail "the stack did not start"; }
MAILLOG=$D/mail.log
ADDR=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 1 5)
RUN=orcpt-$$-$(date +%s)
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

# send_orcpt MID KIND N - one transaction over STARTTLS: the reply address N
# times, each with its own ORCPT; KIND big (12,000 MIME parts) or reply.
# Prints the queue id and how many recipients Postfix accepted.
send_orcpt() {
    python3 - "$PORT" "$ADDR" "$1" "$2" "$3" <<'PY'
import smtplib, ssl, sys
port, addr, mid, kind, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
head = "From: bob@example.org\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n" % (addr, mid, mid)
if kind == "big":
    body = head + "Content-Type: multipart/mixed; boundary=p\r\n\r\n" + "--p\r\n\r\n" * 12000 + "--p--\r\n"
else:
    body = head + "\r\nThe one reply, sent to one address %d times.\r\n" % n
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.ehlo("client.example.org")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.ehlo("client.example.org")
s.mail("bob@example.org")
accepted = sum(1 for i in range(n)
               if s.rcpt(addr, options=["ORCPT=rfc822;x%d@example.org" % i])[0] == 250)
code, text = s.data(body.encode())
s.quit()
print(text.decode().split()[-1], accepted)
PY
}

# wait_lines QID N - wait up to 180 s until the agent logged N final lines
# for QID (a delivery that found another one of the same running was
# deferred, and Postfix retries it within a minimal_backoff_time of 10 s)
wait_lines() {
    for _ in $(seq 360); do
        [ "$(grep "replygate/deliver\[[0-9]*\]: $1: " "$MAILLOG" |
            grep -cE 'status=(rejected|stored|duplicate)')" -ge "$2" ] && break
        sleep 0.5
    done
}

read -r qid accepted < <(send_orcpt "$RUN.big@example.org" big 30)
tap_check "30 ORCPT values: Postfix accepted more than one of them ($accepted)" test "${accepted:-0}" -gt 1
wait_lines "$qid" "$accepted"
sleep 2
lines=$(grep "replygate/deliver\[[0-9]*\]: $qid: " "$MAILLOG")
echo "# deferred while another delivery of the same ran: $(printf '%s\n' "$lines" | grep -c 'status=deferred')"
tap_is "over a limit, $accepted times: judged once (one 5.3.4 refusal)" \
    "$(printf '%s\n' "$lines" | grep -c 'status=rejected (5\.3\.4 message too complex')" 1
tap_is "over a limit: every other delivery is a duplicate, done before any parsing" \
    "$(printf '%s\n' "$lines" | grep -c 'status=duplicate (found before parsing: delivered to this recipient from this queue file')" \
    "$((accepted - 1))"
tap_is "over a limit: one copy in failure/" \
    "$(grep -l "^Message-ID: <$RUN.big@example.org>" "$D"/spool/failure/* 2>/dev/null | wc -l)" 1
tap_is "over a limit: Postfix bounces it once" \
    "$(grep -c "postfix/pipe.*$qid: .*status=bounced" "$MAILLOG")" 1

read -r qid accepted < <(send_orcpt "$RUN.reply@example.org" reply 30)
wait_lines "$qid" "$accepted"
sleep 2
lines=$(grep "replygate/deliver\[[0-9]*\]: $qid: " "$MAILLOG")
tap_is "a reply, $accepted times: one row" \
    "$(sql "SELECT count(*) FROM replygate.messages WHERE message_id = '$RUN.reply@example.org'")" 1
tap_is "a reply: stored once, the rest duplicates" \
    "$(printf '%s\n' "$lines" | grep -c 'status=stored') $(printf '%s\n' "$lines" | grep -c 'status=duplicate')" \
    "1 $((accepted - 1))"
tap_done
