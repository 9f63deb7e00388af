#!/bin/bash
# install.sh - scripts/install on a shared production MX, as a Postfix
# administrator would see it (issue 14): a real Postfix at /etc/postfix with
# an administrator-tuned main.cf and master.cf, OpenDKIM running as a second
# milter, a real PostgreSQL, and replygate installed into the real paths -
# all inside this test's own mount and network namespaces (isolate.sh, and
# tmpfs over /etc/postfix, /etc/replygate, /usr/local, /var/spool/postfix,
# /var/spool/replygate, /var/log, /var/lib/replygate, ...), so the host's
# files are never touched.
#
# It checks that the install:
# - never runs apt-get, scripts/deps, a compiler, or pg_ctl/pg_ctlcluster
#   (shims on PATH record any call), and leaves a running PostgreSQL running;
# - writes the milter in the per-milter form with default_action=accept, beside
#   OpenDKIM, and touches no global milter_* setting (the administrator's
#   milter_default_action, non_smtpd_milters, milter_protocol stay);
# - does not reload Postfix while the milter does not answer as user postfix,
#   and reloads once it does;
# - ships maxproc 10, and on a re-run keeps the administrator's maxproc, pipe
#   flags, per-milter options and milter_default_action ("0 changes");
# - keeps mail for other domains flowing while the milter is stopped or hung;
# - with --listener refuses an address the primary smtpd holds (nothing
#   changed, the fix named), and on a free one adds a dedicated smtpd with
#   default_action=tempfail there only: with the milter stopped, reply mail
#   gets 4xx on the listener while other mail on the primary gets 250;
# - refuses to chown/chmod through a spool folder replaced by a link by the
#   unprivileged user replygate (the attack fails);
# - and that scripts/uninstall gives back the administrator's main.cf and
#   master.cf.
#
# usage: install.sh SOURCE_DIR BUILD_DIR
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
set -u
. "$(dirname "$0")/../lib/tap.sh"
src=$1 build=$2
. "$src/tests/lib/pg.sh"
T=$(mktemp -d /tmp/rg-ops-install.XXXXXX)
chmod 755 "$T"
cleanup() {
    [ -f "$T/milter.pid" ] && kill -CONT "$(cat "$T/milter.pid")" 2>/dev/null
    [ -f "$T/milter.pid" ] && kill "$(cat "$T/milter.pid")" 2>/dev/null
    postfix stop >/dev/null 2>&1
    [ -f "$T/opendkim.pid" ] && kill "$(cat "$T/opendkim.pid")" 2>/dev/null
    [ -f "$T/rsyslog.pid" ] && kill "$(cat "$T/rsyslog.pid")" 2>/dev/null
    pg_cleanup
    sleep 0.5
    rm -rf "$T"
}
trap cleanup EXIT

# --- a private system: the real paths, on tmpfs, in this mount namespace ----
cp -a /etc/postfix "$T/etc-postfix"
for d in /etc/postfix /etc/replygate /usr/local /var/spool/postfix /var/lib/postfix \
    /var/spool/replygate /var/lib/replygate /var/log /etc/logrotate.d /var/lib/prometheus; do
    mkdir -p "$d" 2>/dev/null
    mount -t tmpfs -o mode=755 rg-install "$d" || tap_bail "cannot mount a tmpfs on $d"
done
cp -a "$T/etc-postfix/." /etc/postfix/
rm -f /etc/postfix/main.cf
getent group replygate >/dev/null || groupadd --system replygate
getent passwd replygate >/dev/null ||
    useradd --system --gid replygate --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin replygate

# Shims: the install must never call these.
mkdir -p "$T/shims"
for p in apt-get apt aptitude pg_ctlcluster pg_ctl pg_createcluster ninja \
    systemctl service invoke-rc.d; do
    printf '#!/bin/sh\necho "%s $*" >>%s/called\nexit 1\n' "$p" "$T" >"$T/shims/$p"
    chmod 755 "$T/shims/$p"
done
# meson asks dpkg and gcc what machine this is: only that is let through.
for p in dpkg gcc cc; do
    real=$(command -v "$p") || continue
    printf '#!/bin/sh\ncase "$1" in --print-architecture|-dumpmachine|--version) exec %s "$@" ;; esac\necho "%s $*" >>%s/called\nexit 1\n' \
        "$real" "$p" "$T" >"$T/shims/$p"
    chmod 755 "$T/shims/$p"
done
: >"$T/called"
export PATH=$T/shims:$PATH

# PostgreSQL, already running before the install (an application's database).
pg_start >/dev/null || tap_bail "PostgreSQL did not start"
pg_pid=$(head -1 "$PG_DIR/data/postmaster.pid")

# syslog: replygate's programs log through syslog_socket to this rsyslogd,
# Postfix writes its own lines (maillog_file); both into /var/log/mail.log.
cat >"$T/rsyslog.conf" <<EOF
global(workDirectory="$T")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$T/log.sock" RateLimit.Interval="0")
mail.* action(type="omfile" file="/var/log/mail.log" template="RSYSLOG_TraditionalFileFormat")
EOF
rsyslogd -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" || tap_bail "rsyslogd did not start"

# OpenDKIM, verifying only: the administrator's milter on inet:127.0.0.1:8891.
cat >"$T/opendkim.conf" <<EOF
Mode v
Socket inet:8891@127.0.0.1
PidFile $T/opendkim.pid
UserID opendkim
Syslog no
EOF
getent passwd opendkim >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin opendkim
opendkim -x "$T/opendkim.conf" || tap_bail "OpenDKIM did not start"

# The administrator's Postfix: tuned main.cf and master.cf.
mkdir -p /etc/ssl-admin
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mx.example.net" \
    -addext "subjectAltName=DNS:mx.example.net" -keyout "$T/mx.key" -out "$T/mx.pem" >/dev/null 2>&1
cat >/etc/postfix/main.cf <<EOF
# The administrator's main.cf.
compatibility_level = 3.6
myhostname = mx.example.net
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = /var/log/mail.log
smtpd_milters = inet:127.0.0.1:8891
non_smtpd_milters = \$smtpd_milters
milter_default_action = accept
milter_protocol = 6
relay_domains = lists.example.net
transport_maps = inline:{ lists.example.net=discard: }
smtpd_tls_cert_file = $T/mx.pem
smtpd_tls_key_file = $T/mx.key
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtp_host_lookup = native
local_transport = error:no local delivery
alias_maps =
alias_database =
EOF
# Debian's master.cf, unchrooted (no copies of /etc in this queue folder).
awk '/^[a-z0-9]/ && NF >= 8 { $5 = "n" } { print }' /etc/postfix/master.cf.proto >/etc/postfix/master.cf
postconf -M postlog/unix-dgram="postlog unix-dgram n - n - 1 postlogd"
postfix set-permissions >/dev/null 2>&1
postfix check >"$T/check.log" 2>&1 || { sed 's/^/# /' "$T/check.log"; tap_bail "postfix check"; }
postfix start >/dev/null 2>&1 || tap_bail "postfix did not start"
cp /etc/postfix/main.cf "$T/main.cf.admin"
cp /etc/postfix/master.cf "$T/master.cf.admin"

swaks_to() { # PORT TO [swaks args] - the server's last reply line
    local port=$1 to=$2
    shift 2
    swaks --server "127.0.0.1:$port" --from bob@example.org --to "$to" --timeout 60 "$@" 2>&1 |
        grep -E '^ *<[~*-]* +[0-9]{3} ' | grep -vE '^ *<[~*-]* +221 ' | tail -1 | sed -E 's/^ *<[~*-]* +//'
}
mail_log_count() { grep -c -- "$1" /var/log/mail.log 2>/dev/null; }
snapshot() { md5sum /etc/postfix/main.cf /etc/postfix/master.cf; }
install_rg() {
    "$src/scripts/install" --build "$build" --domain reply.example.net \
        --database "host=$PG_DIR dbname=replygate user=postgres" "$@" >"$T/install.out" 2>&1
}

# --- 1. install while the milter is not running -----------------------------
reloads=$(mail_log_count 'reload -- version')
install_rg; rc=$?
sed 's/^/#   /' "$T/install.out"
tap_is "install without a running milter: exit 75 (Postfix not reloaded)" "$rc" 75
tap_like "it says why it did not reload" "$(cat "$T/install.out")" \
    'not reloading Postfix: the milter does not answer on unix:/var/spool/postfix/replygate/milter.sock as user postfix'
tap_is "Postfix was not reloaded" "$(mail_log_count 'reload -- version')" "$reloads"
tap_is "no apt-get, dpkg, pg_ctl*, compiler or systemctl was called" "$(cat "$T/called")" ""
tap_is "the running PostgreSQL still runs (same pid)" \
    "$(kill -0 "$pg_pid" 2>/dev/null && head -1 "$PG_DIR/data/postmaster.pid")" "$pg_pid"
tap_is "smtpd_milters: OpenDKIM kept, replygate in the per-milter form with accept" \
    "$(postconf -h smtpd_milters)" \
    "inet:127.0.0.1:8891, { unix:replygate/milter.sock, default_action=accept, connect_timeout=5s, command_timeout=10s, content_timeout=30s }"
tap_is "the administrator's global milter settings are untouched" \
    "$(postconf -nh milter_default_action milter_protocol non_smtpd_milters | tr '\n' '|')" \
    'accept|6|$smtpd_milters|'
tap_is "no milter macro list was written" "$(postconf -n | grep -c '^milter_.*_macros')" 0
tap_is "the pipe service: maxproc 10, flags DORXq, null_sender empty" \
    "$(postconf -M replygate/unix | awk '{ print $7, $9, $10 }')" "10 flags=DORXq null_sender="
tap_is "the secret and the spool" \
    "$(stat -c '%a %U:%G' /etc/replygate/secrets /var/spool/replygate /var/spool/replygate/new | tr '\n' ' ')" \
    "640 root:replygate 750 replygate:replygate 750 replygate:replygate "
tap_is "programs in /usr/local, units in /usr/local/lib/systemd/system, none in /etc/systemd" \
    "$(ls /usr/local/sbin | xargs) | $(ls /usr/local/lib/systemd/system | xargs) | $(ls /etc/systemd/system/replygate* 2>/dev/null)" \
    "replygate-deliver replygate-lmtpd replygate-milter | replygate-lmtpd.service replygate-metrics.service replygate-metrics.timer replygate-milter.service replygate-purge.service replygate-purge.timer | "
echo "syslog_socket = $T/log.sock" >>/etc/replygate/replygate.conf

# --- 2. the milter started: the install reloads -------------------------------
start_milter() { # UMASK
    (umask "$1"; exec setpriv --reuid=replygate --regid=replygate --init-groups -- \
        /usr/local/sbin/replygate-milter -f --config /etc/replygate/replygate.conf \
        </dev/null >>"$T/milter.out" 2>&1) &
    echo $! >"$T/milter.pid"
    for _ in $(seq 100); do [ -S /var/spool/postfix/replygate/milter.sock ] && return 0; sleep 0.1; done
    return 1
}
stop_milter() {
    kill -CONT "$(cat "$T/milter.pid")" 2>/dev/null
    kill "$(cat "$T/milter.pid")" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$(cat "$T/milter.pid")" 2>/dev/null || break; sleep 0.1; done
    rm -f "$T/milter.pid" /var/spool/postfix/replygate/milter.sock
}
start_milter 007 || tap_bail "the milter did not start: $(cat "$T/milter.out")"
install_rg; rc=$?
sed 's/^/#   /' "$T/install.out"
tap_is "install with the milter answering: exit 0" "$rc" 0
tap_like "it reloaded Postfix after the milter answered as postfix" "$(cat "$T/install.out")" \
    'reloaded Postfix \(the milter answered as user postfix first\)'
for _ in $(seq 50); do [ "$(mail_log_count 'reload -- version')" -gt "$reloads" ] && break; sleep 0.1; done
tap_is "Postfix's master logged one reload" "$(mail_log_count 'reload -- version')" "$((reloads + 1))"

# --- 3. mail: a reply is stored; other domains do not wait for the milter -----
addr=$(/usr/local/bin/replygate address --config /etc/replygate/replygate.conf i 7 5)
tap_like "a reply over STARTTLS is queued" "$(swaks_to 25 "$addr" --tls --header 'Message-ID: <inst-1@example.org>')" '^250 '
for _ in $(seq 100); do
    [ "$(pg_value "SELECT count(*) FROM replygate.processed_replies WHERE message_id = 'inst-1@example.org'" 2>/dev/null)" = 1 ] && break
    sleep 0.2
done
tap_is "and stored" "$(pg_value "SELECT count(*) FROM replygate.processed_replies WHERE message_id = 'inst-1@example.org'")" 1
tap_like "a forged reply address is refused at RCPT" \
    "$(swaks_to 25 "reply+i-7-0000000000000000000000000000000000000000-5@reply.example.net" --tls)" '^550 5\.1\.1'
kill -STOP "$(cat "$T/milter.pid")"
start=$SECONDS
tap_like "milter hung (SIGSTOP): mail to another domain is accepted" \
    "$(swaks_to 25 someone@lists.example.net)" '^250 '
tap_like "  within the per-milter timeouts (took $((SECONDS - start)) s)" "$((SECONDS - start))" '^([0-9]|[1-3][0-9])$'
stop_milter
tap_like "milter stopped: mail to another domain is accepted at once" \
    "$(swaks_to 25 someone@lists.example.net)" '^250 '
tap_like "milter stopped: reply mail is accepted too (the agent checks it after the queue)" \
    "$(swaks_to 25 "$addr" --tls --header 'Message-ID: <inst-2@example.org>')" '^250 '
start_milter 007 || tap_bail "the milter did not start again"

# --- 4. the administrator tunes; a re-run keeps every edit --------------------
postconf -M "replygate/unix=$(postconf -M replygate/unix | awk '{ $7 = 4; sub(/flags=DORXq/, "flags=DORXhq"); print }')"
postconf -e 'smtpd_milters = inet:127.0.0.1:8891, { unix:replygate/milter.sock, default_action=accept, command_timeout=20s }' \
    'milter_default_action = tempfail'
before=$(snapshot)
install_rg; rc=$?
tap_is "re-run after the administrator's edits: exit 0" "$rc" 0
tap_like "re-run: Postfix reports 0 changes" "$(cat "$T/install.out")" 'postfix-conf: 0 changes'
tap_is "re-run: main.cf and master.cf are byte for byte the administrator's" "$(snapshot)" "$before"
tap_is "  maxproc 4 and flags DORXhq kept" "$(postconf -M replygate/unix | awk '{ print $7, $9 }')" "4 flags=DORXhq"
tap_is "  the per-milter options and milter_default_action kept" \
    "$(postconf -h smtpd_milters milter_default_action | tr '\n' '|')" \
    "inet:127.0.0.1:8891, { unix:replygate/milter.sock, default_action=accept, command_timeout=20s }|tempfail|"
postconf -e 'milter_default_action = accept'

# --- 5. the dedicated listener -----------------------------------------------
before=$(snapshot)
install_rg --listener 127.0.0.1:25; rc=$?
tap_is "--listener on the primary's address: refused (69)" "$rc" 69
tap_like "  it names the change to make: restrict the primary listener, or postmulti" \
    "$(cat "$T/install.out")" 'restrict the primary listener.*'
tap_like "  ... or postmulti" "$(cat "$T/install.out")" 'postmulti'
tap_is "  and changes nothing" "$(snapshot)" "$before"
# A listener of another program on every address of a port is not free either.
python3 -c 'import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 2626)); s.listen(); time.sleep(60)' &
busy=$!
sleep 0.5
install_rg --listener 127.0.0.2:2626; rc=$?
kill $busy 2>/dev/null
tap_is "--listener on a port another program holds on every address: refused" "$rc:$(snapshot)" "69:$before"
install_rg --listener 127.0.0.2:2525; rc=$?
sed 's/^/#   /' "$T/install.out"
tap_is "--listener 127.0.0.2:2525 (free): exit 0" "$rc" 0
tap_is "  the listener, with the milter there only" \
    "$(postconf -M 127.0.0.2:2525/inet | awk '{ $1 = $1; print }')" \
    '127.0.0.2:2525 inet n - n - - smtpd -o syslog_name=postfix/replygate -o smtpd_milters=$replygate_milters'
tap_is "  replygate_milters: default_action=tempfail" "$(postconf -h replygate_milters)" \
    "{ unix:replygate/milter.sock, default_action=tempfail, connect_timeout=5s, command_timeout=10s, content_timeout=30s }"
for _ in $(seq 50); do ss -Htln 'sport = :2525' | grep -q . && break; sleep 0.1; done
tap_like "  the listener answers, and checks replies (forged key: 550)" \
    "$(swaks_to 2525 "reply+i-7-0000000000000000000000000000000000000000-5@reply.example.net" --server 127.0.0.2:2525 --tls)" '^550 5\.1\.1'
stop_milter
tap_like "milter stopped: reply mail on the listener gets 4xx" \
    "$(swaks --server 127.0.0.2:2525 --from bob@example.org --to "$addr" --tls 2>&1 | grep -E '^ *<[~*-]* +[0-9]{3} ' | grep -v ' 221 ' | tail -1)" ' 4[0-9][0-9] '
start=$SECONDS
tap_like "milter stopped: other mail on the primary gets 250 at once" \
    "$(swaks_to 25 someone@lists.example.net)" '^250 '
tap_like "  (took $((SECONDS - start)) s)" "$((SECONDS - start))" '^[0-2]$'
start_milter 007 || tap_bail "the milter did not start again"

# --- 6. a spool folder replaced by a link, by user replygate ---------------------
echo "root's file" >/etc/rg-target
chmod 600 /etc/rg-target
runuser -u replygate -- sh -c 'mv /var/spool/replygate/new /var/spool/replygate/new.old && ln -s /etc/rg-target /var/spool/replygate/new'
install_rg; rc=$?
tap_is "a spool/new replaced by a link: the install refuses (exit 1)" "$rc" 1
tap_like "  naming the link" "$(cat "$T/install.out")" \
    '/var/spool/replygate/new is a symbolic link; not following it'
tap_is "  the link's target keeps owner and mode" "$(stat -c '%U:%G %a' /etc/rg-target)" "root:root 600"
rm /var/spool/replygate/new && mv /var/spool/replygate/new.old /var/spool/replygate/new

# --- 7. uninstall gives the administrator's files back -------------------------
install_rg >/dev/null 2>&1
postconf -e 'milter_protocol = 6'
"$src/scripts/uninstall" >"$T/uninstall.out" 2>&1; rc=$?
sed 's/^/#   /' "$T/uninstall.out"
tap_is "uninstall: exit 0" "$rc" 0
tap_is "uninstall: main.cf is the administrator's again" "$(diff "$T/main.cf.admin" /etc/postfix/main.cf)" ""
tap_is "uninstall: master.cf is the administrator's again" "$(diff "$T/master.cf.admin" /etc/postfix/master.cf)" ""
tap_is "still no apt-get, dpkg, pg_ctl*, compiler or systemctl called" "$(cat "$T/called")" ""
tap_done
