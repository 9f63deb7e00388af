#!/bin/bash
# package-root.sh - the Debian package's life in a brand-new Debian 12 root
# (run there by tests/ops/package.sh through scripts/fresh-root, with the two
# packages in /root and the committed tree in the current folder).
#
# It follows README's "Installing on a real MX: the Debian package" command
# by command, and checks after each step the files, the user, the units and
# Postfix's own main.cf and master.cf:
#   1. install: Postfix as a real MX has it (debconf "Internet Site"), then
#      `apt-get install ./OLD.deb` (which brings what the package Depends on)
#      and PostgreSQL;
#   2. set-up: the database, reply_domain, `replygate migrate`, the milter
#      started, `replygate postfix-setup` (a running Postfix is reloaded only
#      after the milter answered), a reply sent with swaks over STARTTLS is
#      stored (`replygate replies`), one without STARTTLS gets 530;
#   3. the LMTP door: replygate-lmtpd started, `postfix-setup --transport
#      lmtp`, a reply stored through it;
#   4. upgrade to NEW.deb: configuration, secret, spool, database and Postfix
#      kept; `replygate migrate` has nothing left to do; a reply still stored;
#   5. remove: Postfix's files exactly as before postfix-setup;
#   6. purge: nothing of replygate left but its system user.
# What the package must hold is read from the tree (every unit of
# postfix-conf/, every page of docs/, every sql/ file, both doors' .cf
# files), so a file added there and not packaged fails here.
#
# Steps 1 and the tool installs need the Debian archive, so they run in the
# host's network; from step 2 on the script runs again (--isolated) in a
# network namespace of its own, so Postfix on port 25 and PostgreSQL on 5432
# meet nothing else. The root runs no init: services are started the way
# README says for a host without systemd.
#
# usage: package-root.sh [--isolated] OLD.deb NEW.deb
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
isolated=0
[ "${1:-}" = --isolated ] && { isolated=1; shift; }
old=$1 new=$2
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >>/root/apt.log 2>&1; }
pf_sum() { md5sum /etc/postfix/main.cf /etc/postfix/master.cf | cut -d' ' -f1 | xargs; }

# What the package must install, from the tree: the programs, each unit,
# manual page, schema file and door's Postfix lines, the logrotate file and
# the conffile.
files=(/usr/sbin/replygate-milter /usr/sbin/replygate-deliver /usr/sbin/replygate-lmtpd
       /usr/bin/replygate /usr/share/replygate/postfix-conf-apply
       /etc/logrotate.d/replygate /etc/replygate/replygate.conf)
for f in postfix-conf/*.service postfix-conf/*.timer; do files+=("/lib/systemd/system/${f#postfix-conf/}"); done
for f in docs/*.[1-8]; do s=${f##*.}; files+=("/usr/share/man/man$s/${f#docs/}.gz"); done
for f in sql/*.sql; do files+=("/usr/share/replygate/$f"); done
for f in postfix-conf/*.cf postfix-conf/pipe/*.cf postfix-conf/lmtp/*.cf; do
    case $f in */main.cf|*/main-*.cf|*/master*.cf) files+=("/usr/share/replygate/$f") ;; esac
done
present() { local f n=0; for f in "${files[@]}"; do [ -e "$f" ] && n=$((n + 1)); done; echo "$n"; }
missing() { local f; for f in "${files[@]}"; do [ -e "$f" ] || printf '%s ' "$f"; done; }

# Every program the package ships must find its libraries (${shlibs:Depends}).
libs_ok() {
    local p
    for p in /usr/sbin/replygate-milter /usr/sbin/replygate-deliver /usr/sbin/replygate-lmtpd /usr/bin/replygate; do
        "$p" --version >/dev/null 2>&1 || { echo "$p --version fails"; return 1; }
    done
}

if [ $isolated = 0 ]; then
    # --- 1. install ------------------------------------------------------------
    # This root runs no init: no package may start a service here (a
    # container's policy); services are started by hand below.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    apt_get update || tap_bail "apt-get update: $(tail -5 /root/apt.log)"
    echo "postfix postfix/main_mailer_type select Internet Site" | debconf-set-selections
    echo "postfix postfix/mailname string mx.example.net" | debconf-set-selections
    apt_get install --no-install-recommends postfix || tap_bail "apt-get install postfix: $(tail -5 /root/apt.log)"
    pf_sum >/root/pf-before

    apt_get install --no-install-recommends "/root/$old"
    tap_is "install: apt-get install ./$old" "$?" 0
    tap_is "install: every file in place (programs, units, pages, schema, both doors)" "$(missing)" ""
    tap_check "install: every program finds its libraries" libs_ok
    tap_check "install: Depends brings the public suffix list libpsl reads" \
        test -f /usr/share/publicsuffix/public_suffix_list.dafsa
    tap_like "install: replygate.conf and the logrotate file are conffiles" \
        "$(dpkg-query -W -f='${Conffiles}' replygate | awk '{ print $1 }' | xargs)" \
        '/etc/logrotate.d/replygate /etc/replygate/replygate.conf'
    tap_like "install: user and group replygate" "$(getent passwd replygate | cut -d: -f1,7)" '^replygate:/usr/sbin/nologin$'
    tap_is "install: folders and the secret, with their modes" \
        "$(stat -c '%n %U:%G %a' /var/spool/replygate /var/spool/replygate/new /var/log/mail-replies \
            /var/spool/postfix/replygate /etc/replygate/secrets | xargs)" \
        "/var/spool/replygate replygate:replygate 750 /var/spool/replygate/new replygate:replygate 750 /var/log/mail-replies replygate:adm 2750 /var/spool/postfix/replygate replygate:postfix 2750 /etc/replygate/secrets root:replygate 640"
    tap_like "install: a secret of 64 hex digits" "$(cat /etc/replygate/secrets)" '^[0-9a-f]{64}$'
    tap_check "install: the milter's unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/replygate-milter.service
    tap_is "install: the LMTP service and the metrics timer are not enabled" \
        "$(ls /etc/systemd/system/*.wants/ 2>/dev/null | grep -cE 'replygate-(lmtpd|metrics)')" 0
    tap_check "install: the daily purge's timer is enabled" test -L /etc/systemd/system/timers.target.wants/replygate-purge.timer
    tap_is "install: Postfix's main.cf and master.cf untouched" "$(pf_sum)" "$(cat /root/pf-before)"
    tap_is "install: the shipped conffile names no reply_domain" "$(grep -c '^reply_domain' /etc/replygate/replygate.conf)" 0

    # README's local database, and the test's own tools: swaks with its TLS
    # modules, ip(8) for the loopback of the network namespace.
    apt_get install --no-install-recommends postgresql
    tap_is "install: apt-get install postgresql" "$?" 0
    apt_get install --no-install-recommends swaks libnet-ssleay-perl libio-socket-ssl-perl iproute2 ||
        tap_bail "apt-get install swaks iproute2: $(tail -5 /root/apt.log)"

    unshare --net --fork --kill-child -- /bin/bash -c 'ip link set lo up && exec /bin/bash "$0" --isolated "$@"' \
        "$0" "$old" "$new"
    tap_is "the isolated steps: exit 0" "$?" 0
    tap_done
    exit
fi

pf_before=$(cat /root/pf-before)
# The administrator's commands run from a folder every user may enter (the
# tree is in root's home, where runuser's users could not read their cwd).
nsql=$(ls sql/*.sql | wc -l)
cd /tmp
# The services a real MX runs already (here without systemd), before the
# administrator's steps begin.
pg=$(ls /etc/postgresql)
pg_ctlcluster "$pg" main start || tap_bail "pg_ctlcluster $pg main start failed"
postfix start 2>&1 | sed 's/^/#   /'
tap_check "set-up: Postfix runs (postfix start, as a real MX's Postfix runs)" postfix status

stamp=$(date +%s).$$
# send N TLS - one reply with swaks, with or without STARTTLS; prints swaks' output
send() {
    local addr
    addr=$(replygate address i "$1" 5)
    swaks --server 127.0.0.1:25 --helo client.example.org --from bob@example.org --to "$addr" \
        ${2:+--tls} --header "Subject: Re: [example/app] issue $1" \
        --header "Message-Id: <pkg-$stamp.$1@example.org>" \
        --header "In-Reply-To: <reply+i-$1@example.com>" \
        --body "Reply number $1 from the package test.

On Sun, Nov 22, 2026 at 1:05 PM Example App <notifications@example.com> wrote:
> issue $1" 2>&1
}
# stored N - is reply N in the database, as `replygate replies` shows it?
stored() {
    local i
    for i in $(seq 1 120); do
        runuser -u replygate -- replygate replies --json 2>/dev/null |
            grep -F "pkg-$stamp.$1@example.org" | grep -qF "Reply number $1 from the package test." && return 0
        # A loaded machine: a delivery deferred once is tried again now, not
        # after Postfix's 300 s back-off (the reply must still get stored).
        [ $((i % 30)) = 0 ] && postqueue -f
        sleep 1
    done
    echo "# reply $1 not stored; the queue:"; postqueue -p | sed 's/^/#   /'
    tail -5 /var/log/mail-replies/* 2>/dev/null | sed 's/^/#   /'
    return 1
}

# --- 2. set up, README's commands -------------------------------------------------
# (`editor /etc/replygate/replygate.conf`: set reply_domain)
sed -i 's/^#reply_domain = .*/reply_domain = reply.mx.example.net/' /etc/replygate/replygate.conf
secret=$(md5sum </etc/replygate/secrets)
runuser -u postgres -- createuser replygate
tap_is "set-up: runuser -u postgres -- createuser replygate" "$?" 0
runuser -u postgres -- createdb -O replygate replygate
tap_is "set-up: runuser -u postgres -- createdb -O replygate replygate" "$?" 0
out=$(runuser -u replygate -- replygate migrate 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
tap_is "set-up: runuser -u replygate -- replygate migrate" "$rc" 0
tap_is "set-up: it applied every schema file" \
    "$(runuser -u postgres -- psql -At -d replygate -c 'SELECT count(*) FROM replygate.schema_migrations' 2>&1)" \
    "$nsql"
# The milter, as README says for a host without systemd.
replygate-milter -u replygate
tap_is "set-up: replygate-milter -u replygate (no systemd here)" "$?" 0
out=$(replygate postfix-setup 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
tap_is "set-up: replygate postfix-setup: exit 0" "$rc" 0
tap_like "set-up: postfix-setup reloaded the running Postfix after the milter answered" "$out" \
    'reloaded Postfix \(the milter answered'
tap_like "set-up: the per-milter form" "$(postconf -h smtpd_milters)" \
    '\{ unix:replygate/milter\.sock, default_action=accept'
tap_like "set-up: the pipe service runs /usr/sbin/replygate-deliver" \
    "$(postconf -M replygate/unix)" 'argv=/usr/sbin/replygate-deliver --config /etc/replygate/replygate.conf'
out=$(send 1 tls)
tap_like "pipe door: swaks over STARTTLS gets 250" "$out" '<~ *250 2\.0\.0 Ok: queued'
tap_check "pipe door: the reply is stored (replygate replies)" stored 1
tap_like "pipe door: the same without STARTTLS gets 530" "$(send 2)" '<\*\* *530 5\.7\.0'
out=$(runuser -u replygate -- replygate replies 2>&1)
tap_like "pipe door: replygate replies prints its text" "$out" 'Reply number 1 from the package test\.'

# --- 3. the LMTP door ----------------------------------------------------------------
# replygate-lmtpd(8) by hand, as README says (no systemd here), from root's
# shell with its umask 022: the socket is 0660 all the same, so that lmtp(8),
# as user postfix, reaches it.
(umask 022 && replygate-lmtpd -u replygate)
tap_is "lmtp door: replygate-lmtpd -u replygate (umask 022, no systemd here)" "$?" 0
out=$(replygate postfix-setup --transport lmtp 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
tap_is "lmtp door: replygate postfix-setup --transport lmtp: exit 0" "$rc" 0
tap_like "lmtp door: Postfix delivers over lmtp(8) to the service's socket" \
    "$(postconf -h transport_maps)" 'lmtp'
tap_is "lmtp door: the pipe service is gone from master.cf" "$(postconf -M replygate/unix)" ""
out=$(send 3 tls)
tap_like "lmtp door: swaks over STARTTLS gets 250" "$out" '<~ *250 2\.0\.0 Ok: queued'
tap_check "lmtp door: the reply is stored (replygate replies)" stored 3
pf_setup=$(pf_sum)
echo "a reply" >/var/spool/replygate/success/1795957546.V1I1M1.mx
chown replygate: /var/spool/replygate/success/1795957546.V1I1M1.mx

# --- 4. upgrade ----------------------------------------------------------------------
apt_get install --no-install-recommends "/root/$new"
tap_is "upgrade: apt-get install ./$new" "$?" 0
want=${new#replygate_}
tap_is "upgrade: the new version" "$(dpkg-query -W -f='${Version}' replygate)" "${want%_*}"
tap_is "upgrade: the conffile keeps the administrator's reply_domain" \
    "$(grep '^reply_domain' /etc/replygate/replygate.conf)" "reply_domain = reply.mx.example.net"
tap_is "upgrade: the same secret" "$(md5sum </etc/replygate/secrets)" "$secret"
tap_check "upgrade: the spool keeps its files" test -f /var/spool/replygate/success/1795957546.V1I1M1.mx
tap_is "upgrade: Postfix as postfix-setup left it" "$(pf_sum)" "$pf_setup"
tap_is "upgrade: every file in place" "$(missing)" ""
out=$(runuser -u replygate -- replygate migrate 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
tap_is "upgrade: replygate migrate (as README says after every upgrade): exit 0" "$rc" 0
tap_check "upgrade: the database keeps the replies" stored 1
# The running services take the new programs (systemd restarts a running
# milter; here they are restarted by hand).
kill "$(cat /run/replygate-milter.pid)" "$(cat /run/replygate-lmtpd.pid)" 2>/dev/null
sleep 2
replygate-milter -u replygate && (umask 022 && replygate-lmtpd -u replygate)
tap_is "upgrade: the new milter and LMTP service start" "$?" 0
out=$(send 4 tls)
tap_like "upgrade: swaks over STARTTLS gets 250" "$out" '<~ *250 2\.0\.0 Ok: queued'
tap_check "upgrade: a new reply is stored" stored 4

# --- 5. remove -------------------------------------------------------------------------
# The services are stopped first (systemd's unit does that on removal).
kill "$(cat /run/replygate-milter.pid)" "$(cat /run/replygate-lmtpd.pid)" 2>/dev/null
apt_get remove replygate
tap_is "remove: apt-get remove" "$?" 0
tap_is "remove: Postfix's main.cf and master.cf are exactly as before postfix-setup" "$(pf_sum)" "$pf_before"
tap_is "remove: no replygate service or milter left in Postfix" \
    "$(postconf -M | grep -c replygate)$(postconf -h smtpd_milters | grep -c replygate)" "00"
tap_is "remove: programs, pages and units gone; the two conffiles stay" "$(present)" 2
tap_check "remove: the secret and the spool stay" test -f /etc/replygate/secrets -a -d /var/spool/replygate/success
tap_like "remove: the user stays" "$(getent passwd replygate)" '^replygate:'
tap_check "remove: Postfix still runs" postfix status

# --- 6. purge ----------------------------------------------------------------------------
apt_get purge replygate
tap_is "purge: apt-get purge" "$?" 0
tap_is "purge: no file of replygate left" \
    "$(ls -d /etc/replygate /var/spool/replygate /var/log/mail-replies /var/lib/replygate \
        /var/spool/postfix/replygate /lib/systemd/system/replygate* /usr/share/replygate \
        /usr/share/man/man*/replygate* 2>/dev/null | xargs)" ""
status=$(dpkg-query -W -f='${db:Status-Status}' replygate 2>/dev/null)
tap_is "purge: not installed (dpkg forgot it)" "${status:-not-installed}" "not-installed"
tap_like "purge: the user stays, as Debian keeps system users" "$(getent passwd replygate)" '^replygate:'
tap_is "purge: Postfix's main.cf and master.cf as before postfix-setup" "$(pf_sum)" "$pf_before"
tap_is "purge: the database stays (never dropped)" \
    "$(runuser -u postgres -- psql -At -d replygate -c 'SELECT count(*) FROM replygate.messages' 2>&1)" 3

postfix stop >/dev/null 2>&1
pg_ctlcluster "$pg" main stop
tap_done
