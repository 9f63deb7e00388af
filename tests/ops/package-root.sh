#!/bin/bash
# package-root.sh - the Debian package's life in a brand-new Debian 12 root
# (run there by tests/ops/package.sh through scripts/fresh-root, with the two
# packages in /root): install the older build, set it up the documented way,
# upgrade, remove, purge; after each step check the files, the user, the
# units, and that Postfix's files change only through
# `replygate postfix-setup` and come back on removal. Then install again and
# take a reply from SMTP to its row with the documented commands only.
#
# usage: package-root.sh OLD.deb NEW.deb
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
old=$1 new=$2
export DEBIAN_FRONTEND=noninteractive
# This root runs no init: no package may start a service here (a container's
# policy), and the tests start what they need by hand.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
apt_get() { apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >>/root/apt.log 2>&1; }

apt_get update || tap_bail "apt-get update: $(tail -5 /root/apt.log)"
echo "postfix postfix/main_mailer_type select Internet Site" | debconf-set-selections
echo "postfix postfix/mailname string mx.example.net" | debconf-set-selections
apt_get install --no-install-recommends postfix || tap_bail "apt-get install postfix: $(tail -5 /root/apt.log)"
pf_sum() { md5sum /etc/postfix/main.cf /etc/postfix/master.cf | cut -d' ' -f1 | xargs; }
pf_before=$(pf_sum)
files=(/usr/sbin/replygate-milter /usr/sbin/replygate-deliver /usr/bin/replygate
       /usr/share/replygate/sql/0001_init.sql /usr/share/replygate/postfix-conf-apply
       /usr/share/man/man1/replygate.1.gz /usr/share/man/man5/replygate.conf.5.gz
       /usr/share/man/man8/replygate-milter.8.gz /lib/systemd/system/replygate-milter.service
       /lib/systemd/system/replygate-metrics.timer /lib/systemd/system/replygate-purge.timer \
       /lib/systemd/system/replygate-purge.service /etc/logrotate.d/replygate
       /etc/replygate/replygate.conf)
present() { local f n=0; for f in "${files[@]}"; do [ -e "$f" ] && n=$((n + 1)); done; echo "$n"; }

# --- 1. install --------------------------------------------------------------
apt_get install --no-install-recommends "/root/$old"
tap_is "install: apt-get install ./$old" "$?" 0
tap_is "install: every file in place" "$(present)" "${#files[@]}"
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
tap_check "install: the metrics timer is not enabled" test ! -e /etc/systemd/system/timers.target.wants/replygate-metrics.timer
tap_check "install: the daily purge's timer is enabled" test -L /etc/systemd/system/timers.target.wants/replygate-purge.timer
tap_is "install: Postfix's main.cf and master.cf untouched" "$(pf_sum)" "$pf_before"
tap_is "install: the shipped conffile names no reply_domain" "$(grep -c '^reply_domain' /etc/replygate/replygate.conf)" 0

# --- 2. set up, the documented way ----------------------------------------------
sed -i 's/^#reply_domain = .*/reply_domain = reply.mx.example.net/' /etc/replygate/replygate.conf
secret=$(md5sum </etc/replygate/secrets)
out=$(replygate postfix-setup 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
tap_is "postfix-setup: exit 0 (Postfix not running: nothing to reload)" "$rc" 0
tap_like "postfix-setup: the per-milter form" "$(postconf -h smtpd_milters)" \
    '\{ unix:replygate/milter\.sock, default_action=accept'
tap_like "postfix-setup: the pipe service runs /usr/sbin/replygate-deliver" \
    "$(postconf -M replygate/unix)" 'argv=/usr/sbin/replygate-deliver --config /etc/replygate/replygate.conf'
pf_setup=$(pf_sum)
echo "a reply" >/var/spool/replygate/success/1795957546.V1I1M1.mx
chown replygate: /var/spool/replygate/success/1795957546.V1I1M1.mx

# --- 3. upgrade --------------------------------------------------------------------
apt_get install --no-install-recommends "/root/$new"
tap_is "upgrade: apt-get install ./$new" "$?" 0
want=${new#replygate_}
tap_is "upgrade: the new version" "$(dpkg-query -W -f='${Version}' replygate)" "${want%_*}"
tap_is "upgrade: the conffile keeps the administrator's reply_domain" \
    "$(grep '^reply_domain' /etc/replygate/replygate.conf)" "reply_domain = reply.mx.example.net"
tap_is "upgrade: the same secret" "$(md5sum </etc/replygate/secrets)" "$secret"
tap_check "upgrade: the spool keeps its files" test -f /var/spool/replygate/success/1795957546.V1I1M1.mx
tap_is "upgrade: Postfix as postfix-setup left it" "$(pf_sum)" "$pf_setup"
tap_is "upgrade: every file in place" "$(present)" "${#files[@]}"

# --- 4. remove ----------------------------------------------------------------------
apt_get remove replygate
tap_is "remove: apt-get remove" "$?" 0
tap_is "remove: Postfix's main.cf and master.cf are as before the setup" "$(pf_sum)" "$pf_before"
tap_is "remove: no replygate service or milter left in Postfix" \
    "$(postconf -M | grep -c replygate)$(postconf -h smtpd_milters | grep -c replygate)" "00"
tap_is "remove: programs, pages and units gone; the two conffiles stay" "$(present)" 2
tap_check "remove: the secret and the spool stay" test -f /etc/replygate/secrets -a -d /var/spool/replygate/success
tap_like "remove: the user stays" "$(getent passwd replygate)" '^replygate:'

# --- 5. purge ------------------------------------------------------------------------
apt_get purge replygate
tap_is "purge: apt-get purge" "$?" 0
tap_is "purge: no file of replygate left" \
    "$(ls -d /etc/replygate /var/spool/replygate /var/log/mail-replies /var/lib/replygate \
        /var/spool/postfix/replygate /lib/systemd/system/replygate* 2>/dev/null | xargs)" ""
status=$(dpkg-query -W -f='${db:Status-Status}' replygate 2>/dev/null)
tap_is "purge: not installed (dpkg forgot it)" "${status:-not-installed}" "not-installed"
tap_like "purge: the user stays, as Debian keeps system users" "$(getent passwd replygate)" '^replygate:'
tap_is "purge: Postfix as before" "$(pf_sum)" "$pf_before"
tap_done
