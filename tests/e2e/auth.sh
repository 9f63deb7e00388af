#!/bin/bash
# auth.sh - who really sent it (issue 17), end to end with the real verifiers:
# Debian's OpenDKIM and OpenDMARC as milters beside replygate-milter in front
# of a real Postfix, the agent behind pipe(8), a real PostgreSQL, and a DNS
# resolver of the test's own (dnsmasq from dnsmasq-base) answering on
# 127.0.0.1:53 inside this test's network namespace, with the DKIM key, SPF
# and DMARC policy of the test domain sender.example.
#
# The mail comes from 192.0.2.2 (inside the domain's SPF) or 192.0.2.3
# (outside it), addresses this test puts on its own loopback interface:
# OpenDKIM's InternalHosts and OpenDMARC's IgnoreHosts default to 127.0.0.1,
# whose mail they would not verify, and libspf2 (OpenDMARC's SPF) passes any
# client in 127.0.0.0/8 ("localhost is always allowed") without asking DNS,
# so a loopback client could never fail SPF. Messages are signed by dkimpy's
# dkimsign (python3-dkim), a signer independent of OpenDKIM.
#
# Both compositions of issue 17's "Pinned":
#   A  smtpd_milters = replygate, opendkim, opendmarc; replygate deletes every
#      inbound Authentication-Results claiming authserv_id;
#   B  smtpd_milters = opendkim, opendmarc, replygate; OpenDKIM removes them
#      (RemoveARFrom = the authserv-id and RemoveARAll = yes, or RemoveARAll
#      alone, which applies to fields of its AuthservID), and replygate's
#      deletion is off (milter_remove_authentication_results = no), since it
#      would delete the verifiers' own headers. With RemoveARFrom alone
#      OpenDKIM removes only fields that carry a DKIM result (a control).
# In each: a signed message passes and is stored with dmarc=pass; a tampered
# and an unsigned one from the domain fail; forged headers claiming our
# authserv-id never reach the agent and never count. A forged DMARC pass
# counts when nothing removes it and OpenDMARC does not judge the message (a
# client in its IgnoreHosts, 192.0.2.4 here, such as a backup MX): control
# cases show it, so the removal cases can fail. OpenDMARC 1.4.2 itself
# ignores results below the first Received field, and writes its own verdict,
# which outweighs a forged pass in the agent (pipe-agent/auth.c).
#
# Environment (set by meson): SRC, the source tree; BUILD, the build tree.
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
. "$SRC/tests/lib/tap.sh"
. "$SRC/scripts/lib/stack.sh"
unset MAIL_CONFIG

T=$(mktemp -d /tmp/rg-e2e-auth.XXXXXX)
chmod 755 "$T"
D=$T/stack
ID=mx.replygate.test   # the authserv-id of our verifiers
DOMAIN=sender.example  # the test domain that signs and publishes SPF and DMARC
DKIM_PORT=8891
DMARC_PORT=8893

# stop_pidfile FILE - stop the process whose id FILE holds, and wait for it
stop_pidfile() {
    local pid i
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    rm -f "$1"
}
cleanup() {
    stop_pidfile "$T/opendkim.pid"
    stop_pidfile "$T/opendmarc.pid"
    stop_pidfile "$T/dnsmasq.pid"
    stack_down "$D" >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT

for p in opendkim opendmarc opendkim-genkey opendkim-testkey dkimsign dnsmasq swaks; do
    command -v "$p" >/dev/null || PATH=$PATH:/usr/sbin command -v "$p" >/dev/null ||
        tap_bail "$p is not installed (scripts/deps test installs it)"
done
PATH=$PATH:/usr/sbin

# --- the resolver ---------------------------------------------------------------
# /etc/resolv.conf is replaced in this test's mount namespace only (isolate.sh
# made it private): OpenDMARC's SPF lookups go through libresolv. OpenDKIM
# uses libunbound and is pointed at the resolver with Nameservers.
printf 'nameserver 127.0.0.1\noptions attempts:2 timeout:2\n' >"$T/resolv.conf"
if [ -e /etc/resolv.conf ]; then
    mount --bind "$T/resolv.conf" /etc/resolv.conf || tap_bail "cannot bind-mount resolv.conf"
fi # without the file libresolv asks 127.0.0.1 anyway

mkdir -p "$T/dkim"
opendkim-genkey -b 2048 -d "$DOMAIN" -s sel -D "$T/dkim" || tap_bail "opendkim-genkey failed"
# The public key's TXT record, in strings of at most 255 bytes.
record=$(tr -d '\n' <"$T/dkim/sel.txt" | grep -o '"[^"]*"' | tr -d '"\n')
chunks=
while [ -n "$record" ]; do
    chunks+=",\"${record:0:250}\""
    record=${record:250}
done
cat >"$T/dnsmasq.conf" <<EOF
# The test's resolver: only the records below, nothing from elsewhere.
keep-in-foreground
no-resolv
no-hosts
no-poll
listen-address=127.0.0.1
bind-interfaces
port=53
user=root
pid-file=$T/dnsmasq.pid
log-queries
log-facility=$T/dnsmasq.log
local=/example/
local=/test/
local=/2.0.192.in-addr.arpa/
txt-record=sel._domainkey.$DOMAIN$chunks
txt-record=$DOMAIN,"v=spf1 ip4:192.0.2.2 -all"
txt-record=_dmarc.$DOMAIN,"v=DMARC1; p=reject; adkim=r; aspf=r"
EOF
dnsmasq -C "$T/dnsmasq.conf" 2>"$T/dnsmasq.err" &
for i in $(seq 100); do
    ss -Hlun 'sport = :53' 2>/dev/null | grep -q . && break
    sleep 0.1
done
ss -Hlun 'sport = :53' | grep -q . || tap_bail "dnsmasq did not start: $(cat "$T/dnsmasq.err")"
# The two clients' addresses, on this namespace's loopback interface.
for a in 192.0.2.2 192.0.2.3 192.0.2.4; do
    ip addr add "$a/32" dev lo || tap_bail "cannot add $a to lo"
done
printf 'Nameservers 127.0.0.1\n' >"$T/testkey.conf"
out=$(opendkim-testkey -x "$T/testkey.conf" -d "$DOMAIN" -s sel -k "$T/dkim/sel.private" -vvv 2>&1)
tap_like "the resolver serves the DKIM key (opendkim-testkey)" "$out" "key OK"

# --- the stack ------------------------------------------------------------------
PORT=$(pf_free_port)
if ! stack_up "$D" "$PORT" "$BUILD" >"$T/stack_up.log" 2>&1; then
    sed 's/^/# /' "$T/stack_up.log"
    tap_bail "the stack did not start"
fi
MAILLOG=$D/mail.log
BASE_CONF=$(cat "$RG_CONFIG")
# The verifiers log to mail.log too, through the stack's syslog socket bound
# over /dev/log in this test's private mount namespace (when there is one).
[ -e /dev/log ] && mount --bind "$D/log.sock" /dev/log

# rg_config LINES... - the stack's configuration with these lines added
rg_config() {
    { printf '%s\n' "$BASE_CONF"; printf '%s\n' "$@"; } >"$RG_CONFIG"
}

# start_opendkim [EXTRA LINES...] - (re)start OpenDKIM, verifying only
start_opendkim() {
    stop_pidfile "$T/opendkim.pid"
    {
        echo "Mode v"
        echo "Socket inet:$DKIM_PORT@127.0.0.1"
        echo "PidFile $T/opendkim.pid"
        echo "AuthservID $ID"
        echo "Nameservers 127.0.0.1"
        echo "Syslog yes"
        echo "SyslogSuccess yes"
        echo "LogWhy yes"
        printf '%s\n' "$@"
    } >"$T/opendkim.conf"
    opendkim -f -x "$T/opendkim.conf" >>"$T/opendkim.out" 2>&1 &
    wait_port "$DKIM_PORT" || tap_bail "opendkim did not start: $(tail -5 "$T/opendkim.out")"
}

# start_opendmarc - start OpenDMARC, trusting our authserv-id's results
start_opendmarc() {
    stop_pidfile "$T/opendmarc.pid"
    printf '127.0.0.1\n192.0.2.4\n' >"$T/dmarc-ignore"
    cat >"$T/opendmarc.conf" <<EOF
Socket inet:$DMARC_PORT@127.0.0.1
PidFile $T/opendmarc.pid
Background false
AuthservID $ID
TrustedAuthservIDs $ID
IgnoreHosts $T/dmarc-ignore
SPFSelfValidate true
PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat
RejectFailures false
FailureReports false
Syslog true
EOF
    opendmarc -f -c "$T/opendmarc.conf" >>"$T/opendmarc.out" 2>&1 &
    wait_port "$DMARC_PORT" || tap_bail "opendmarc did not start: $(tail -5 "$T/opendmarc.out")"
}

# wait_port PORT - until something listens on 127.0.0.1:PORT
wait_port() {
    local i
    for i in $(seq 100); do
        ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

# milters ORDER... - set smtpd_milters in this order (replygate, opendkim,
# opendmarc) and reload Postfix
milters() {
    local list= m
    for m in "$@"; do
        case $m in
        replygate) list+="${list:+, }unix:replygate/milter.sock" ;;
        opendkim) list+="${list:+, }inet:127.0.0.1:$DKIM_PORT" ;;
        opendmarc) list+="${list:+, }inet:127.0.0.1:$DMARC_PORT" ;;
        esac
    done
    postconf -c "$D/postfix" -e "smtpd_milters = $list"
    postfix -c "$D/postfix" reload >/dev/null 2>&1
    sleep 1 # the reload reaches smtpd with its next process
}

ADDR=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 1 5)
RUN=auth-$$-$(date +%s)
N=0

# new_message NAME - a reply from bob@sender.example, unsigned, in $T/NAME.eml;
# sets MID to its Message-ID
new_message() {
    N=$((N + 1))
    MID=$RUN.$N@$DOMAIN
    printf 'From: Bob <bob@%s>\nTo: %s\nSubject: Re: issue 1\nDate: %s\nMessage-ID: <%s>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nSounds good, merging it now (%s).\n' \
        "$DOMAIN" "$ADDR" "$(date -R)" "$MID" "$1" >"$T/$1.eml"
}

# sign NAME - sign $T/NAME.eml with the domain's key, in place (rsa-sha256,
# relaxed/simple)
sign() {
    dkimsign sel "$DOMAIN" "$T/dkim/sel.private" <"$T/$1.eml" >"$T/$1.signed" &&
        grep -q '^DKIM-Signature:' "$T/$1.signed" && mv "$T/$1.signed" "$T/$1.eml"
}

# forge NAME - put forged Authentication-Results claiming our id on top: an
# SPF pass, DKIM and DMARC passes, and a DMARC pass alone (which OpenDKIM's
# own clean-up, for fields with a DKIM result of its id, leaves alone)
forge() {
    {
        printf 'Authentication-Results: %s; spf=pass (forged) smtp.mailfrom=bob@%s\n' "$ID" "$DOMAIN"
        printf 'Authentication-Results: %s; dkim=pass (forged) header.d=%s;\n\tdmarc=pass (forged) header.from=%s\n' \
            "$ID" "$DOMAIN" "$DOMAIN"
        printf 'Authentication-Results: %s; dmarc=pass (forged) header.from=%s\n' "$ID" "$DOMAIN"
        cat "$T/$1.eml"
    } >"$T/$1.forged" && mv "$T/$1.forged" "$T/$1.eml"
}

# forged_left MID - how many forged fields the stored message still has
forged_left() {
    local copy
    copy=$(spool_copy "$1")
    [ -n "$copy" ] || { echo "no copy"; return; }
    grep -c '(forged)' "$copy"
}

# send NAME FROM-ADDRESS - send $T/NAME.eml over STARTTLS from 192.0.2.2 or .3
send() {
    swaks --server "127.0.0.1:$PORT" --local-interface "$2" --helo client.sender.example \
        --from "bob@$DOMAIN" --to "$ADDR" --tls --timeout 60 --data "@$T/$1.eml" \
        >"$T/$1.swaks" 2>&1
    QID=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' "$T/$1.swaks" | head -1)
}

# sql - one value from the stack's database
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

# stored MID - the auth columns of the stored row, after waiting for it:
# spf|dkim|dkim_domain|dmarc|from_domain|aligned, NULL as "-"
stored() {
    local q got i
    q="SELECT concat_ws('|', coalesce(spf, '-'), coalesce(dkim, '-'), coalesce(dkim_domain, '-'),
         coalesce(dmarc, '-'), coalesce(from_domain, '-'), coalesce(aligned::text, '-'))
       FROM replygate.processed_replies WHERE message_id = '$1'"
    for i in $(seq 300); do
        got=$(sql "$q")
        [ -n "$got" ] && break
        grep -q "$QID: .*status=\(bounced\|deferred\)" "$MAILLOG" 2>/dev/null && break
        sleep 0.1
    done
    printf '%s' "$got"
}

# spool_copy MID - the spool file (success/) of a stored message
spool_copy() { grep -l -F "Message-ID: <$1>" "$D"/spool/success/* 2>/dev/null | head -1; }

# explain LABEL - on failure, the lines that say why
explain() {
    echo "# $1: swaks: $(grep -E '^ *<[~*-]* *[245][0-9][0-9] ' "$T/$2.swaks" | tail -2 | tr '\n' ' ')"
    grep -E "($QID|opendkim|opendmarc)" "$MAILLOG" 2>/dev/null | tail -8 | sed 's/^/#   /'
}

# case_stored LABEL NAME WANT - the row of the last message sent is WANT
case_stored() {
    local got
    got=$(stored "$MID")
    if [ "$got" = "$3" ]; then
        tap_ok "$1"
    else
        tap_not_ok "$1" "got:  $got" "want: $3"
        explain "$1" "$2"
    fi
}

start_opendkim
start_opendmarc
rg_config "authserv_id = $ID"
stack_milter_start "$D" >/dev/null || tap_bail "the milter did not restart"

# ================================================================================
echo "# [${SECONDS}s] composition A: replygate first, deleting forged headers"
milters replygate opendkim opendmarc

new_message a-signed && sign a-signed && send a-signed 192.0.2.2
case_stored "A: signed, from inside SPF: stored with spf, dkim and dmarc pass" a-signed \
    "pass|pass|$DOMAIN|pass|$DOMAIN|true"
copy=$(spool_copy "$MID")
tap_is "A: the stored message carries our verifiers' fields: dkim, spf and dmarc" \
    "$(grep -i -A1 "^Authentication-Results: $ID;" "$copy" | grep -o -E '(dkim|spf|dmarc)=pass' | sort | tr '\n' ' ')" \
    "dkim=pass dmarc=pass spf=pass "

new_message a-dkim-only && sign a-dkim-only && send a-dkim-only 192.0.2.3
case_stored "A: signed, from outside SPF: dmarc=pass through DKIM alone (OpenDMARC saw OpenDKIM's header)" \
    a-dkim-only "fail|pass|$DOMAIN|pass|$DOMAIN|true"

new_message a-tampered && sign a-tampered
sed -i 's/merging it now/deleting it now/' "$T/a-tampered.eml"
send a-tampered 192.0.2.3
case_stored "A: signed, then tampered with: dkim and dmarc fail" a-tampered \
    "fail|fail|-|fail|$DOMAIN|false"

new_message a-unsigned && send a-unsigned 192.0.2.3
case_stored "A: unsigned, from outside SPF: dmarc fail" a-unsigned "fail|-|-|fail|$DOMAIN|false"

new_message a-forged && forge a-forged && send a-forged 192.0.2.3
case_stored "A: forged passes claiming our id never count: dmarc fail" a-forged \
    "fail|-|-|fail|$DOMAIN|false"
tap_is "A: no forged field reached the agent" "$(forged_left "$MID")" 0

new_message a-ignored && forge a-ignored && send a-ignored 192.0.2.4
case_stored "A: forged, from a client OpenDMARC ignores: no DMARC result at all" a-ignored \
    "-|-|-|-|$DOMAIN|false"
tap_is "A: no forged field reached the agent either" "$(forged_left "$MID")" 0

echo "# [${SECONDS}s] composition A under sender_policy = require-dmarc-pass"
rg_config "authserv_id = $ID" "sender_policy = require-dmarc-pass"
stack_milter_start "$D" >/dev/null || tap_bail "the milter did not restart"
new_message a-require-pass && sign a-require-pass && send a-require-pass 192.0.2.2
case_stored "A, require-dmarc-pass: the signed message is stored" a-require-pass \
    "pass|pass|$DOMAIN|pass|$DOMAIN|true"
new_message a-require-forged && forge a-require-forged && send a-require-forged 192.0.2.3
stored "$MID" >/dev/null
line=$(grep -E "postfix/pipe\[[0-9]+\]: $QID: .*status=bounced" "$MAILLOG")
tap_like "A, require-dmarc-pass: the forged one is refused by the agent with 5.7.1" "$line" \
    "dsn=5\.7\.1, status=bounced \(sender policy: a DMARC pass is required, and $ID found dmarc=fail for $DOMAIN ?\)"
tap_is "A, require-dmarc-pass: nothing stored for it" \
    "$(sql "SELECT count(*) FROM replygate.processed_replies WHERE message_id = '$MID'")" 0

echo "# [${SECONDS}s] control: replygate first with its deletion off"
rg_config "authserv_id = $ID" "milter_remove_authentication_results = no"
stack_milter_start "$D" >/dev/null || tap_bail "the milter did not restart"
new_message a-control && forge a-control && send a-control 192.0.2.3
case_stored "control A: with the deletion off, OpenDMARC's own verdict outweighs a forged pass" \
    a-control "fail|-|-|fail|$DOMAIN|false"
tap_is "control A: ... but the forged fields reach the agent" "$(forged_left "$MID")" 2
new_message a-control-ignored && forge a-control-ignored && send a-control-ignored 192.0.2.4
case_stored "control A: ... and without OpenDMARC's verdict the forged pass counts (why it must go)" \
    a-control-ignored "pass|-|-|pass|$DOMAIN|true"

# ================================================================================
echo "# [${SECONDS}s] composition B: OpenDKIM first with RemoveARFrom and RemoveARAll"
rg_config "authserv_id = $ID" "milter_remove_authentication_results = no"
stack_milter_start "$D" >/dev/null || tap_bail "the milter did not restart"
start_opendkim "RemoveARFrom $ID" "RemoveARAll yes"
milters opendkim opendmarc replygate

new_message b-signed && sign b-signed && send b-signed 192.0.2.2
case_stored "B: signed, from inside SPF: stored with dmarc pass" b-signed \
    "pass|pass|$DOMAIN|pass|$DOMAIN|true"

new_message b-tampered && sign b-tampered
sed -i 's/merging it now/deleting it now/' "$T/b-tampered.eml"
send b-tampered 192.0.2.3
case_stored "B: tampered: dkim and dmarc fail" b-tampered "fail|fail|-|fail|$DOMAIN|false"

new_message b-unsigned && send b-unsigned 192.0.2.3
case_stored "B: unsigned: dmarc fail" b-unsigned "fail|-|-|fail|$DOMAIN|false"

new_message b-forged && forge b-forged && send b-forged 192.0.2.3
case_stored "B: forged passes claiming our id never count: dmarc fail" b-forged \
    "fail|-|-|fail|$DOMAIN|false"
tap_is "B: no forged field reached the agent" "$(forged_left "$MID")" 0

new_message b-ignored && forge b-ignored && send b-ignored 192.0.2.4
case_stored "B: forged, from a client OpenDMARC ignores: no DMARC result at all" b-ignored \
    "-|-|-|-|$DOMAIN|false"

echo "# [${SECONDS}s] control: OpenDKIM first with RemoveARFrom alone"
start_opendkim "RemoveARFrom $ID"
new_message b-control && forge b-control && send b-control 192.0.2.4
case_stored "control B: with RemoveARFrom alone a forged pass counts (RemoveARAll is needed)" \
    b-control "pass|-|-|pass|$DOMAIN|true"
tap_is "control B: ... it keeps the forged fields without a DKIM result" "$(forged_left "$MID")" 2

echo "# [${SECONDS}s] composition B with RemoveARAll alone (OpenDKIM's AuthservID is the id)"
start_opendkim "RemoveARAll yes"
new_message b-all && forge b-all && send b-all 192.0.2.4
case_stored "B, RemoveARAll alone: forged passes never count" b-all "-|-|-|-|$DOMAIN|false"
tap_is "B, RemoveARAll alone: no forged field reached the agent" "$(forged_left "$MID")" 0
new_message b-all-signed && sign b-all-signed && send b-all-signed 192.0.2.2
case_stored "B, RemoveARAll alone: a signed message is stored with dmarc pass" b-all-signed \
    "pass|pass|$DOMAIN|pass|$DOMAIN|true"

tap_done
