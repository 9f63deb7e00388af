#!/bin/bash
# milter.sh - the milter behind a real private Postfix (scripts/lib/stack.sh):
# the cases that only Postfix itself can show.
#
# 1. SMTPUTF8: with smtputf8_enable = yes Postfix folds reply.<U+017F>lack...
#    and reply.slac<U+212A>... (KELVIN SIGN) into the reply domain; the milter
#    must call them ours too: 530 5.7.0 over plain text, and over TLS a good
#    key is stored.
# 2. rate_limit_per_key = 5 (picked up without SIGHUP): ten replies to one key
#    in ten seconds give five stored and five 450 4.7.1 at RCPT, logged in
#    Postfix's shape.
# 3. non_smtpd_milters: a local sendmail(1) submission to a reply address no
#    longer loops in maildrop ("can't reject recipient in non-smtpd(8)
#    submission"): the milter passes it on, and it leaves the queue.
# 4. Authentication-Results claiming authserv_id, forged by the sender, are
#    gone from the message Postfix delivers; another host's stays.
#
# Environment (set by meson): SRC, the source tree; BUILD, the build tree.
set -u
. "$(dirname "$0")/../lib/isolate.sh" # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
. "$SRC/tests/lib/tap.sh"
# A reply domain with an s and a k, for the long s and the Kelvin sign.
export RG_DOMAIN=reply.slack.localhost
. "$SRC/scripts/lib/stack.sh"
unset MAIL_CONFIG

T=$(mktemp -d /tmp/rg-e2e-milter.XXXXXX)
chmod 755 "$T"
D=$T/stack
cleanup() {
    stack_down "$D" >/dev/null 2>&1
    if [ -n "${RG_TEST_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

PORT=$(pf_free_port)
if ! stack_up "$D" "$PORT" "$BUILD" >"$T/stack_up.log" 2>&1; then
    sed 's/^/# /' "$T/stack_up.log"
    tap_bail "the stack did not start"
fi
MAILLOG=$D/mail.log
postconf -c "$D/postfix" -e smtputf8_enable=yes
pf_run "$D" postfix -c "$D/postfix" reload >/dev/null 2>&1

rg() { "$RG_BIN/replygate" "$@"; }
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
re() { printf "%s" "$1" | sed "s/[][\\.*^$+?(){}|]/\\\\&/g"; }

# wait_sql SQL WANT [SECONDS] - until the query gives WANT; prints the last value
wait_sql() {
    local got
    for _ in $(seq $((${3:-30} * 10))); do
        got=$(sql "$1")
        [ "$got" = "$2" ] && break
        sleep 0.1
    done
    printf '%s' "$got"
}

# smtp TLS RCPT MESSAGE_ID - one SMTPUTF8 transaction with Python's smtplib,
# STARTTLS first when TLS is "tls"; prints "RCPT <code> <text>" or "DATA <code> <text>"
smtp() {
    /usr/bin/python3 - "$PORT" "$1" "$2" "$3" <<'EOF'
import smtplib, ssl, sys
port, tls, rcpt, mid = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.example.org")
if tls == "tls":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo("client.example.org")
code, text = s.mail("bob@example.org", ["SMTPUTF8"])
code, text = s.rcpt(rcpt)
if code >= 400:
    print("RCPT", code, text.decode())
    sys.exit(0)
msg = ("From: Bob <bob@example.org>\r\nTo: %s\r\nSubject: Re: issue 1\r\n"
       "Message-ID: <%s>\r\n\r\nA reply over SMTPUTF8.\r\n" % (rcpt, mid))
code, text = s.data(msg.encode("utf-8"))
print("DATA", code, text.decode())
s.quit()
EOF
}

KEY=$(rg address --config "$RG_CONFIG" i 1 5)
LOCAL=${KEY%@*}
RUN=m-$$-$(date +%s)

# --- 1. SMTPUTF8: the folded domains are ours ------------------------------------
long_s=$(printf 'reply.\xc5\xbflack.localhost')
kelvin=$(printf 'reply.slac\xe2\x84\xaa.localhost')
for pair in "long s (U+017F)|$long_s" "Kelvin sign (U+212A)|$kelvin"; do
    label=${pair%%|*} domain=${pair#*|}
    got=$(smtp plain "$LOCAL@$domain" "$RUN-plain-${#label}@example.org")
    tap_like "SMTPUTF8, $label, plain text: 530 5.7.0 from the milter" "$got" \
        '^RCPT 530 5\.7\.0 Must issue a STARTTLS command first'
done
got=$(smtp tls "$LOCAL@$long_s" "$RUN-longs@example.org")
tap_like "SMTPUTF8, long s, TLS and a good key: queued" "$got" '^DATA 250 '
got=$(wait_sql "SELECT kind || '-' || target || '-' || \"user\" FROM replygate.processed_replies WHERE message_id = '$RUN-longs@example.org'" "i-1-5")
tap_is "SMTPUTF8, long s: stored under the key" "$got" "i-1-5"
got=$(smtp tls "reply+i-1-0000000000000000000000000000000000000000-5@$kelvin" \
    "$RUN-kelvin-bad@example.org")
tap_like "SMTPUTF8, Kelvin sign, TLS and a forged key: 550 5.1.1 from the milter" "$got" \
    '^RCPT 550 5\.1\.1 '

# --- 2. ten replies to one key in ten seconds, rate_limit_per_key = 5 ---------------
echo "rate_limit_per_key = 5" >>"$RG_CONFIG"
# No SIGHUP: the milter notices the changed file within a second.
for _ in $(seq 50); do grep -q 'configuration reloaded.*changed on disk' "$MAILLOG" && break; sleep 0.1; done
tap_like "rate limit: the configuration reloaded by itself" \
    "$(grep 'configuration reloaded' "$MAILLOG" | tail -1)" 'changed on disk'
KEY2=$(rg address --config "$RG_CONFIG" i 2 5)
deferred=0 queued=0
start=$(date +%s)
for n in $(seq 10); do
    swaks --server "127.0.0.1:$PORT" --helo client.example.org --from bob@example.org --tls \
        --timeout 30 --to "$KEY2" --header "Subject: Re: loop $n" \
        --header "Message-Id: <$RUN-rate-$n@example.org>" --body "Reply $n." >"$T/rate.$n" 2>&1
    if grep -Eq '^<(\*\*|~\*) +450 4\.7\.1' "$T/rate.$n"; then deferred=$((deferred + 1)); fi
    if grep -Eq '^<~ +250 2\.0\.0 Ok: queued' "$T/rate.$n"; then queued=$((queued + 1)); fi
    sleep 0.5
done
echo "# rate limit: ten replies sent in $(($(date +%s) - start)) s"
tap_is "rate limit: 5 queued, 5 deferred with 450 4.7.1 at RCPT" "$queued $deferred" "5 5"
got=$(wait_sql "SELECT count(*) FROM replygate.processed_replies WHERE target = 2 AND message_id LIKE '$RUN-rate-%'" 5)
tap_is "rate limit: 5 stored" "$got" 5
tap_like "rate limit: logged in Postfix's shape by the milter" \
    "$(grep 'replygate/milter' "$MAILLOG" | grep ' 450 4.7.1 ' | tail -1)" \
    "NOQUEUE: reject: RCPT from unknown\\[127\\.0\\.0\\.1\\]: 450 4\\.7\\.1 <$(re "$KEY2")>: Recipient address rejected: too many messages for this reply key \\(5 an hour\\), try again later; from=<bob@example\\.org> to=<$(re "$KEY2")>$"
tap_like "rate limit: and by Postfix's smtpd" "$(grep 'postfix/smtpd' "$MAILLOG" | grep 'milter-reject' | tail -1)" \
    "milter-reject: RCPT from .*: 450 4\\.7\\.1 <$(re "$KEY2")>"

# --- 3. non_smtpd_milters and a local submission -----------------------------------
postconf -c "$D/postfix" -e 'non_smtpd_milters = $smtpd_milters'
pf_run "$D" postfix -c "$D/postfix" reload >/dev/null 2>&1
sleep 1
KEY3=$(rg address --config "$RG_CONFIG" i 3 5)
printf 'From: root@localhost\nTo: %s\nSubject: Re: issue 3\nMessage-ID: <%s-local@example.org>\n\nA reply from cron.\n' \
    "$KEY3" "$RUN" | pf_run "$D" sendmail -C "$D/postfix" -f root@localhost "$KEY3"
tap_is "sendmail(1): accepted into maildrop" "$?" 0
for _ in $(seq 300); do
    [ -z "$(find "$D/queue/maildrop" -type f 2>/dev/null)" ] &&
        grep -q "pass: END-OF-MESSAGE from localhost\[127.0.0.1\]" "$MAILLOG" && break
    sleep 0.1
done
tap_is "sendmail(1): the message left maildrop (no loop)" \
    "$(find "$D/queue/maildrop" -type f | wc -l)" 0
tap_is "sendmail(1): no \"can't reject recipient in non-smtpd(8) submission\"" \
    "$(grep -c "can't reject recipient" "$MAILLOG")" 0
tap_like "sendmail(1): the milter passed it on, and said so" \
    "$(grep 'replygate/milter' "$MAILLOG" | grep 'non-SMTP' | tail -1)" \
    "pass: END-OF-MESSAGE from localhost\\[127\\.0\\.0\\.1\\]: non-SMTP submission: nothing may be refused here, the delivery agent judges it; from=<root@localhost> to=<$(re "$KEY3")>"
# The agent judges it: stored, or deferred (it came without TLS) - either way not looping.
for _ in $(seq 300); do
    grep -q "replygate/deliver.*$RUN-local@example.org" "$MAILLOG" && break
    sleep 0.1
done
echo "# sendmail(1): the agent said: $(grep "replygate/deliver.*$RUN-local@example.org" "$MAILLOG" | tail -1 | sed 's/.*replygate\/deliver\[[0-9]*\]: //')"
tap_like "sendmail(1): the delivery agent judged it" \
    "$(grep "replygate/deliver" "$MAILLOG" | grep -c "$RUN-local@example.org")" '^[1-9]'
postconf -c "$D/postfix" -X non_smtpd_milters
pf_run "$D" postfix -c "$D/postfix" reload >/dev/null 2>&1

# --- 4. forged Authentication-Results gone, another host's kept -----------------------
echo "authserv_id = mx.reply.test" >>"$RG_CONFIG"
for _ in $(seq 50); do
    [ "$(grep -c 'configuration reloaded.*changed on disk' "$MAILLOG")" -ge 2 ] && break
    sleep 0.1
done
KEY4=$(rg address --config "$RG_CONFIG" i 4 5)
swaks --server "127.0.0.1:$PORT" --helo client.example.org --from bob@example.org --tls \
    --timeout 30 --to "$KEY4" \
    --header "Authentication-Results: mx.reply.test; dmarc=pass header.from=example.org" \
    --header "Authentication-Results: other.example.net; dkim=pass header.d=example.org" \
    --header "Authentication-Results: (forged) MX.REPLY.TEST 1; spf=pass" \
    --header "Subject: Re: issue 4" --header "Message-Id: <$RUN-ar@example.org>" \
    --body "Trust me." >"$T/ar" 2>&1
tap_like "Authentication-Results: queued" "$(grep '^<~ *250 2\.0\.0 Ok: queued' "$T/ar")" 'queued'
got=$(wait_sql "SELECT count(*) FROM replygate.processed_replies WHERE message_id = '$RUN-ar@example.org'" 1)
tap_is "Authentication-Results: stored" "$got" 1
copy=$(grep -l "$RUN-ar@example.org" "$D"/spool/success/* 2>/dev/null | head -1)
tap_is "Authentication-Results: the two claiming mx.reply.test are gone from the delivered message" \
    "$(grep -ci '^Authentication-Results:.*mx\.reply\.test' "$copy" 2>&1)" 0
tap_is "Authentication-Results: another host's is still there" \
    "$(grep -c '^Authentication-Results: other\.example\.net' "$copy" 2>&1)" 1

tap_done
