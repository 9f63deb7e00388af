#!/bin/bash
# conf-apply.sh - scripts/postfix-conf-apply on a scratch Postfix
# configuration (no Postfix runs): values are taken literally ("&" in a path
# used to be replaced by the matched word, issue 13 item 7), a second run
# changes nothing, an installation by the version before this one (the
# global milter_default_action = tempfail, the macro lists, the plain
# milter) is brought to the per-milter form with the administrator's values
# back, --remove restores the administrator's main.cf and master.cf, and a
# switch of doors replaces the reply domains' transport table, with or
# without a state file.
#
# usage: conf-apply.sh SOURCE_DIR
set -u
src=$1
. "$src/tests/lib/tap.sh"
T=$(mktemp -d /tmp/rg-conf-apply.XXXXXX)
trap 'rm -rf "$T"' EXIT
apply="$src/scripts/postfix-conf-apply"
mkdir "$T/pf"
cat >"$T/pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $T/queue
myhostname = mx.example.net
smtpd_milters = inet:127.0.0.1:8891
milter_default_action = accept
relay_domains = lists.example.net
smtpd_tls_cert_file = /etc/ssl/admin/mx.pem
smtpd_tls_key_file = /etc/ssl/admin/mx.key
EOF
cp /usr/share/postfix/master.cf.dist "$T/pf/master.cf"
cp -a "$T/pf" "$T/pf.orig"
words=(REPLY_DOMAINS=reply.mx.example.net TLS_CERT=auto TLS_KEY=auto MILTER=unix:replygate/milter.sock
       "DELIVER=/opt/r&d/sbin/replygate-deliver" "CONFIG=/etc/a&b/replygate.conf" MAX_SIZE=1000)

out=$("$apply" -c "$T/pf" -s "$T/state" "${words[@]}" 2>&1); rc=$?
tap_is "apply: exit 0" "$rc" 0
entry=$(postconf -c "$T/pf" -M replygate/unix)
tap_like "& in a value is taken literally (argv)" "$entry" 'argv=/opt/r&d/sbin/replygate-deliver --config /etc/a&b/replygate\.conf '
tap_is "  nowhere replaced by the word" "$(printf '%s' "$entry" | grep -c '@DELIVER@\|@CONFIG@')" 0
out=$("$apply" -c "$T/pf" -s "$T/state" "${words[@]}" 2>&1)
tap_is "a second run: 0 changes" "$out" "postfix-conf: 0 changes"
out=$("$apply" -c "$T/pf" -s "$T/state" --remove "${words[@]}" 2>&1); rc=$?
tap_is "--remove: exit 0" "$rc" 0
tap_is "--remove: main.cf and master.cf as before" "$(diff -r "$T/pf.orig" "$T/pf")" ""

# An installation by the previous version: what it wrote, and its state file.
postconf -c "$T/pf" -e "relay_domains = lists.example.net reply.mx.example.net" \
    "transport_maps = inline:{reply.mx.example.net=replygate:}" \
    "smtpd_milters = inet:127.0.0.1:8891 unix:replygate/milter.sock" \
    "milter_default_action = tempfail" "milter_protocol = 6" \
    "milter_rcpt_macros = {tls_version} {cipher} {cipher_bits} {rcpt_addr}" \
    "replygate_destination_recipient_limit = 1"
postconf -c "$T/pf" -M "replygate/unix=replygate unix - n n - - pipe flags=DORq user=replygate size=1000 argv=/opt/r&d/sbin/replygate-deliver --config /etc/a&b/replygate.conf -q \${queue_id} -f \${sender} -r \${original_recipient} -c \${client_address}"
printf '%s\t%s\n' milter_default_action accept 'milter_default_action=' tempfail \
    milter_protocol '<unset>' 'milter_protocol=' 6 \
    'smtpd_milters+=' unix:replygate/milter.sock \
    'milter_rcpt_macros+=' '{tls_version}' 'milter_rcpt_macros+=' '{cipher}' \
    'milter_rcpt_macros+=' '{cipher_bits}' 'milter_rcpt_macros+=' '{rcpt_addr}' >"$T/state"
out=$("$apply" -c "$T/pf" -s "$T/state" "${words[@]}" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
tap_is "upgrade from the previous version: exit 0" "$rc" 0
tap_is "  the administrator's milter_default_action is back, milter_protocol gone" \
    "$(postconf -c "$T/pf" -nh milter_default_action)|$(postconf -c "$T/pf" -n milter_protocol)" "accept|"
tap_is "  no macro list left" "$(postconf -c "$T/pf" -n | grep -c '^milter_.*_macros')" 0
tap_is "  the plain milter became the per-milter form, OpenDKIM kept" "$(postconf -c "$T/pf" -h smtpd_milters)" \
    "inet:127.0.0.1:8891, { unix:replygate/milter.sock, default_action=accept, connect_timeout=5s, command_timeout=10s, content_timeout=30s }"
tap_like "  the master.cf entry it wrote is left alone (no state for it: it may be the administrator's)" \
    "$(postconf -c "$T/pf" -M replygate/unix)" ' - +pipe flags=DORq '
out=$("$apply" -c "$T/pf" -s "$T/state" "${words[@]}" 2>&1)
tap_is "  and a run after it: 0 changes" "$out" "postfix-conf: 0 changes"

# Switching doors replaces the reply domains' table in place. The state file
# of that older version has no line for the table it wrote; a second table
# behind the first would never be read (Postfix takes the first answer).
lmtp_table="inline:{ reply.mx.example.net=replygate-lmtp:unix:replygate/lmtp.sock }"
out=$("$apply" -c "$T/pf" -s "$T/state" "${words[@]}" TRANSPORT=lmtp 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
tap_is "TRANSPORT=lmtp over the older install: exit 0" "$rc" 0
tap_is "  one table for the reply domain, to the LMTP door" \
    "$(postconf -c "$T/pf" -h transport_maps)" "$lmtp_table"
out=$("$apply" -c "$T/pf" -s "$T/state" "${words[@]}" 2>&1)
tap_is "  a run without TRANSPORT= keeps the LMTP door: 0 changes" "$out" "postfix-conf: 0 changes"

# Without a state file at all (a run by hand): the same, both ways, and a
# run without TRANSPORT= keeps the door it finds.
mkdir "$T/pf3"
cp "$T/pf.orig/main.cf" "$T/pf.orig/master.cf" "$T/pf3/"
postconf -c "$T/pf3" -e "transport_maps = inline:{ lists.example.net=discard: }"
"$apply" -c "$T/pf3" "${words[@]}" >/dev/null 2>&1
out=$("$apply" -c "$T/pf3" "${words[@]}" TRANSPORT=lmtp 2>&1); rc=$?
tap_is "no state file, TRANSPORT=lmtp after pipe: exit 0" "$rc" 0
tap_is "  the administrator's table first, then the LMTP door's alone" \
    "$(postconf -c "$T/pf3" -h transport_maps)" "inline:{ lists.example.net=discard: }, $lmtp_table"
out=$("$apply" -c "$T/pf3" "${words[@]}" 2>&1)
tap_is "  a run without TRANSPORT= keeps it: 0 changes" "$out" "postfix-conf: 0 changes"
"$apply" -c "$T/pf3" "${words[@]}" TRANSPORT=pipe >/dev/null 2>&1
tap_is "  TRANSPORT=pipe switches back in place" "$(postconf -c "$T/pf3" -h transport_maps)" \
    "inline:{ lists.example.net=discard: }, inline:{ reply.mx.example.net=replygate: }"
# The two tables an older version left on a switch without a state file:
# one is enough, the door asked for.
postconf -c "$T/pf3" -e "transport_maps = inline:{ lists.example.net=discard: }, inline:{ reply.mx.example.net=replygate: }, $lmtp_table"
"$apply" -c "$T/pf3" "${words[@]}" TRANSPORT=lmtp >/dev/null 2>&1
tap_is "  two door tables left by an older switch become one" "$(postconf -c "$T/pf3" -h transport_maps)" \
    "inline:{ lists.example.net=discard: }, $lmtp_table"
# The same two tables, and no TRANSPORT=: the first one's door stays (it is
# the one Postfix reads), the second goes, and a run after that changes nothing.
postconf -c "$T/pf3" -e "transport_maps = inline:{ reply.mx.example.net=replygate: }, $lmtp_table"
"$apply" -c "$T/pf3" "${words[@]}" >/dev/null 2>&1
tap_is "  without TRANSPORT=: the first door table stays, the second goes" \
    "$(postconf -c "$T/pf3" -h transport_maps)" "inline:{ reply.mx.example.net=replygate: }"
out=$("$apply" -c "$T/pf3" "${words[@]}" 2>&1)
tap_is "  and a run after it: 0 changes" "$out" "postfix-conf: 0 changes"
# A table the administrator wrote that sends other domains too is theirs,
# whether its entries are parted by commas or by white space alone.
postconf -c "$T/pf3" -e "transport_maps = inline:{ reply.mx.example.net=replygate:, lists.example.net=discard: }"
"$apply" -c "$T/pf3" "${words[@]}" TRANSPORT=lmtp >/dev/null 2>&1
tap_is "  a mixed table of the administrator's stays, ours is added after it" \
    "$(postconf -c "$T/pf3" -h transport_maps)" \
    "inline:{ reply.mx.example.net=replygate:, lists.example.net=discard: }, $lmtp_table"
mixed="inline:{ reply.mx.example.net=replygate-lmtp:unix:replygate/lmtp.sock other.example=smtp:[relay.example] }"
postconf -c "$T/pf3" -e "transport_maps = $mixed"
"$apply" -c "$T/pf3" "${words[@]}" TRANSPORT=pipe >/dev/null 2>&1
tap_is "  so is one parted by white space (other.example keeps its route)" \
    "$(postconf -c "$T/pf3" -h transport_maps)" "$mixed, inline:{ reply.mx.example.net=replygate: }"
"$apply" -c "$T/pf3" "${words[@]}" --remove >/dev/null 2>&1
tap_is "  and --remove without a state file leaves it" "$(postconf -c "$T/pf3" -h transport_maps)" "$mixed"
# Braces around an entry, and upper case, are the same door table.
postconf -c "$T/pf3" -e "transport_maps = inline:{ { Reply.MX.example.net = replygate: } }"
"$apply" -c "$T/pf3" "${words[@]}" TRANSPORT=lmtp >/dev/null 2>&1
tap_is "  a braced, upper-case door table is switched in place" \
    "$(postconf -c "$T/pf3" -h transport_maps)" "$lmtp_table"
# Two reply domains, in another order: the same table.
words2=("${words[@]}")
words2[0]=REPLY_DOMAINS=reply.mx.example.net,reply.example.org
postconf -c "$T/pf3" -e "transport_maps = inline:{ reply.example.org=replygate:, reply.mx.example.net=replygate: }"
"$apply" -c "$T/pf3" "${words2[@]}" TRANSPORT=lmtp >/dev/null 2>&1
tap_is "  two reply domains in another order: switched in place" "$(postconf -c "$T/pf3" -h transport_maps)" \
    "inline:{ reply.mx.example.net=replygate-lmtp:unix:replygate/lmtp.sock, reply.example.org=replygate-lmtp:unix:replygate/lmtp.sock }"

# With a state file: a door table edited by hand stays when TRANSPORT= names
# its own door, and --remove takes out a door table it has no line for.
mkdir "$T/pf4"
cp "$T/pf.orig/main.cf" "$T/pf.orig/master.cf" "$T/pf4/"
"$apply" -c "$T/pf4" -s "$T/state4" "${words[@]}" TRANSPORT=lmtp >/dev/null 2>&1
edited="inline:{ reply.mx.example.net=replygate-lmtp:inet:[127.0.0.1]:2424 }"
postconf -c "$T/pf4" -e "transport_maps = $edited"
out=$("$apply" -c "$T/pf4" -s "$T/state4" "${words[@]}" TRANSPORT=lmtp 2>&1)
tap_is "state file: a hand-edited LMTP table stays with TRANSPORT=lmtp: 0 changes" "$out" "postfix-conf: 0 changes"
tap_is "  the edit is there" "$(postconf -c "$T/pf4" -h transport_maps)" "$edited"
postconf -c "$T/pf4" -e "transport_maps = inline:{reply.mx.example.net=replygate:}"
grep -v '^transport_maps+=' "$T/state4" >"$T/state4.new" && mv "$T/state4.new" "$T/state4"
"$apply" -c "$T/pf4" -s "$T/state4" --remove "${words[@]}" >/dev/null 2>&1
tap_is "  --remove takes out a door table with no state line" "$(postconf -c "$T/pf4" -n transport_maps)" ""
tap_done
