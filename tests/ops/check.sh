#!/bin/bash
# check.sh - `replygate check` tells the truth about the milter's reach on
# the local stack (issue 14): every case that breaks replies or fences them
# less than it seems gives a FAIL or a WARN and never the OK line it would
# otherwise print:
#   - a postconf -P override (-o smtpd_milters=...) that drops the milter
#     from an smtpd on port 25;
#   - the milter in the plain form, and with default_action=tempfail on an
#     smtpd that also takes other domains;
#   - non_smtpd_milters = $smtpd_milters;
#   - relay_recipient_maps without the reply addresses;
#   - a socket user postfix may not open (root can), and a hung milter
#     (the socket still accepts connections);
#   - the database as the agent's user (peer-style role), not as root.
#
# usage: check.sh SOURCE_DIR BUILD_DIR
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
set -u
. "$(dirname "$0")/../lib/tap.sh"
src=$1 build=$2
dir=$(mktemp -d /tmp/rg-ops-check.XXXXXX)
STACK_SRC=$src
. "$src/scripts/lib/stack.sh"
cleanup() { stack_down "$dir" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT

stack_up "$dir" "$(pf_free_port)" "$build" >"$dir.up.log" 2>&1 ||
    { cat "$dir.up.log"; rm -f "$dir.up.log"; tap_bail "the stack did not come up"; }
rm -f "$dir.up.log"
pcf() { postconf -c "$dir/postfix" "$@"; }
chk() { env -u PGUSER -u PGHOST -u PGDATABASE "$RG_BIN/replygate" check --config "$RG_CONFIG" --postfix-config "$dir/postfix" 2>&1; }
# lines OUT ERE - the lines of a check that match
lines() { printf '%s\n' "$1" | grep -E -- "$2"; }
reset() {
    cp "$dir/main.cf.orig" "$dir/postfix/main.cf"
    cp "$dir/master.cf.orig" "$dir/postfix/master.cf"
}
cp "$dir/postfix/main.cf" "$dir/main.cf.orig"
cp "$dir/postfix/master.cf" "$dir/master.cf.orig"
form_ok='^OK +Postfix .* asks the milter in the per-milter form'

# --- the stack as made: all OK ---------------------------------------------
out=$(chk); rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
tap_is "the stack: exit 0" "$rc" 0
tap_like "the stack: the milter is asked in the per-milter form (an smtpd for reply mail only)" \
    "$out" "$form_ok.*reply mail only"
tap_like "the stack: non_smtpd_milters OK" "$out" '^OK +Postfix non_smtpd_milters does not ask the milter'
tap_like "the stack: relay_recipient_maps OK (empty)" "$out" '^OK +Postfix relay_recipient_maps is empty'
tap_like "the stack: the socket answers as user postfix" "$out" \
    '^OK +milter socket unix:.* answers a milter negotiation as user postfix'
tap_like "the stack: database checked (as user replygate)" "$out" '^OK +database reachable'

# --- a postconf -P override that drops the milter from a port-25 smtpd --------
pcf -M "127.0.0.2:smtp/inet=127.0.0.2:smtp inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:8891"
pcf -e "relay_domains = $RG_DOMAIN other.example.org"
out=$(chk); rc=$?
tap_is "-o smtpd_milters without the milter on port 25: exit 1" "$rc" 1
tap_like "  FAIL names the service and the override" "$(lines "$out" '^FAIL')" \
    'FAIL +Postfix 127\.0\.0\.2:smtp/inet overrides smtpd_milters \(postconf -P: inet:127\.0\.0\.1:8891\) without the replygate milter'
reset

# --- the plain form, on an smtpd that takes other domains ----------------------
pcf -e "smtpd_milters = unix:replygate/milter.sock" "milter_default_action = tempfail" \
    "relay_domains = $RG_DOMAIN other.example.org"
out=$(chk)
tap_like "plain form: WARN, with the global default_action" "$(lines "$out" '^WARN')" \
    'plain form: it follows the global milter_default_action \(tempfail\).*4xx for every domain'
tap_is "plain form: no OK line for the form" "$(lines "$out" "$form_ok" | wc -l)" 0
reset

# --- per-milter default_action=tempfail on a shared smtpd -----------------------
pcf -e "relay_domains = $RG_DOMAIN other.example.org"
out=$(chk)
tap_like "shared smtpd with default_action=tempfail: WARN" "$(lines "$out" '^WARN')" \
    'default_action=tempfail: while it is down or hung, mail for every domain there is answered 4xx'
tap_is "  no OK line for the form" "$(lines "$out" "$form_ok" | wc -l)" 0
pcf -e "smtpd_milters = { unix:replygate/milter.sock, default_action=accept }"
tap_like "shared smtpd with default_action=accept: OK" "$(chk)" "$form_ok, default_action=accept"
reset

# --- non_smtpd_milters = $smtpd_milters ------------------------------------------
pcf -e 'non_smtpd_milters = $smtpd_milters'
out=$(chk)
tap_like "non_smtpd_milters = \$smtpd_milters: WARN" "$(lines "$out" '^WARN')" \
    'non_smtpd_milters .* includes the replygate milter'
tap_is "  no OK line for it" "$(lines "$out" 'non_smtpd_milters does not' | wc -l)" 0
reset

# --- relay_recipient_maps ---------------------------------------------------------
pcf -e "relay_recipient_maps = inline:{ bob@other.example.org=x }"
out=$(chk); rc=$?
tap_is "relay_recipient_maps without reply addresses: exit 1" "$rc" 1
tap_like "  FAIL: smtpd would refuse them" "$(lines "$out" '^FAIL')" \
    "relay_recipient_maps .* has no entry for reply addresses of $RG_DOMAIN.*User unknown in relay recipient table"
addr=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 1 5)
pf_start "$dir" >/dev/null 2>&1
tap_like "  and smtpd does refuse one" \
    "$(swaks --server "127.0.0.1:$RG_PORT" --from bob@example.org --to "$addr" --tls 2>&1 | grep -E '^ *<[~*-]* +5[0-9][0-9] ')" \
    'User unknown in relay recipient table'
pcf -e "relay_recipient_maps = inline:{ bob@other.example.org=x, @$RG_DOMAIN=x }"
tap_like "  with @$RG_DOMAIN in the table: OK" "$(chk)" "^OK +Postfix relay_recipient_maps accepts reply addresses of $RG_DOMAIN"
reset
pf_start "$dir" >/dev/null 2>&1

# --- the socket: postfix may not open it, root may ----------------------------
sock=$dir/queue/replygate/milter.sock
chmod 0755 "$sock"
tap_check "root can still connect to the socket (what the old check did)" \
    python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('$sock')"
out=$(chk); rc=$?
tap_is "socket mode 0755: exit 1" "$rc" 1
tap_like "  FAIL: not as user postfix" "$(lines "$out" '^FAIL')" \
    'milter socket unix:.* does not answer as user postfix: connect to .*: Permission denied'
chmod 0770 "$sock"

# --- a hung milter: the socket accepts, nothing answers --------------------------
kill -STOP "$(cat "$dir/milter.pid")"
out=$(chk); rc=$?
kill -CONT "$(cat "$dir/milter.pid")"
tap_is "milter hung (SIGSTOP): exit 1" "$rc" 1
tap_like "  FAIL: no answer to the negotiation" "$(lines "$out" '^FAIL')" 'no answer to the milter negotiation'

# --- the database as the agent's user ----------------------------------------------
pg_psql -c "CREATE ROLE replygate LOGIN" -c "GRANT USAGE ON SCHEMA replygate TO replygate" \
    -c "GRANT SELECT ON ALL TABLES IN SCHEMA replygate TO replygate" >/dev/null
sed -i "s|^database = .*|database = host=$PG_DIR dbname=replygate|" "$RG_CONFIG"
tap_check "as root, that conninfo has no role (root)" \
    sh -c "! env -u PGUSER psql -X -q 'host=$PG_DIR dbname=replygate' -c 'SELECT 1' >/dev/null 2>&1"
out=$(chk)
tap_like "check connects as user replygate: OK" "$out" '^OK +database reachable and migrated'
out=$(env -u PGUSER -u PGHOST -u PGDATABASE "$RG_BIN/replygate" check --config "$RG_CONFIG" --postfix-config "$dir/postfix" --user postfix 2>&1)
tap_like "  and as another user (--user postfix) it fails" "$(lines "$out" '^FAIL')" 'database .* is not reachable'
tap_done
