# postfix.sh - a private Postfix instance with its own mail.log, for tests,
# scripts/up and the benchmarks; source it.
#
#   . "$SRC/tests/lib/postfix.sh"
#   pf_create DIR PORT [HOSTNAME]   # a new instance under DIR:
#                                   #   DIR/postfix   config_directory (main.cf, master.cf)
#                                   #   DIR/queue     queue_directory
#                                   #   DIR/data      data_directory
#                                   #   DIR/tls       cert.pem, key.pem (self-signed)
#                                   #   DIR/mail.log  Postfix's and replygate's lines
#                                   # listening on 127.0.0.1:PORT, no local delivery,
#                                   # no relaying; apply postfix-conf/ on top of it.
#   pf_log_start DIR                # a syslog daemon of its own on DIR/log.sock,
#                                   #   writing DIR/mail.log
#   pf_run DIR CMD...               # run CMD (kept for older callers: the
#                                   #   programs find DIR/log.sock through
#                                   #   replygate.conf's syslog_socket)
#   pf_start DIR                    # postfix start (with pf_log_start first)
#   pf_stop DIR                     # postfix stop, then the syslog daemon
#   pf_destroy DIR                  # pf_stop (the name of older callers)
#   pf_allow_local_submission DIR   # let users other than root submit to the
#                                   #   instance with sendmail -C DIR/postfix
#                                   #   (only inside tests/lib/isolate.sh)
#   pf_free_port                    # a TCP port nothing listens on
#   pf_wait_log DIR ERE [SECONDS]   # wait until a mail.log line matches
#
# One mail.log per instance, with Postfix's and replygate's lines in the
# order they happened, as /var/log/mail.log holds them on a Debian MX, and
# without the host's /dev/log (a new machine or a container has none):
# - Postfix writes its own lines with maillog_file = DIR/mail.log (Postfix
#   3.4+, through its postlogd service);
# - replygate's programs send theirs to the socket replygate.conf's
#   syslog_socket names, DIR/log.sock, where an rsyslogd of the instance's own
#   listens and appends them to the same file, in the same line format.
# Nothing outside DIR is written: postfix -c DIR, postqueue -c DIR and
# postsuper -c DIR need no alternate_config_directories entry in the host's
# main.cf when they run as root, which the tests do.

PF_SRC=${PF_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# pf_ensure_installed - postfix, rsyslog, swaks and openssl must be there
# (scripts/deps installs them; a test never runs apt-get itself)
pf_ensure_installed() {
    local missing=() p
    for p in postfix rsyslog swaks openssl; do
        [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "postfix.sh: missing packages: ${missing[*]} (run scripts/deps test)" >&2
    return 1
}

# pf_ensure_user - the unprivileged user the pipe service and the milter run as
pf_ensure_user() {
    getent group replygate >/dev/null || groupadd --system replygate
    getent passwd replygate >/dev/null ||
        useradd --system --gid replygate --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin --comment "replygate reply agent" replygate
}

# pf_allow_local_submission - sendmail(1) and postdrop(1) run by a user other
# than root accept -C DIR/postfix only when the default main.cf lists it in
# alternate_config_directories. The host's /etc/postfix is never touched for
# that: inside the test's own mount namespace (tests/lib/isolate.sh) a copy
# of it, kept in DIR, is mounted over /etc/postfix, and the entry goes there.
pf_allow_local_submission() {
    local dir=$1 etc=$1/etc-postfix cur
    if [ -z "${RG_ISOLATED:-}" ]; then
        echo "postfix.sh: pf_allow_local_submission needs tests/lib/isolate.sh" >&2
        return 1
    fi
    if ! mountpoint -q /etc/postfix; then
        mkdir -p "$etc"
        cp -a /etc/postfix/. "$etc/"
        [ -f "$etc/main.cf" ] || echo "compatibility_level = 3.6" >"$etc/main.cf"
        mount --bind "$etc" /etc/postfix || return 1
    fi
    cur=$(postconf -c /etc/postfix -nh alternate_config_directories 2>/dev/null || true)
    case " ${cur//,/ } " in *" $dir/postfix "*) return 0 ;; esac
    postconf -c /etc/postfix -e "alternate_config_directories = ${cur:+$cur }$dir/postfix"
}

# pf_free_port - a port on 127.0.0.1 that nothing listens on
pf_free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        ss -Htln "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return 0; }
    done
}

# pf_cert - a self-signed certificate for HOSTNAME and the other names given
pf_cert() {
    local dir=$1 host=$2 san="DNS:$2" n
    shift 2
    for n in "$@"; do san+=",DNS:$n"; done
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$host" \
        -addext "subjectAltName=$san" -keyout "$dir/key.pem" -out "$dir/cert.pem" \
        >/dev/null 2>&1 || { echo "postfix.sh: openssl req failed" >&2; return 1; }
    chmod 600 "$dir/key.pem"
    chmod 644 "$dir/cert.pem"
}

# pf_create - a new private instance in DIR on 127.0.0.1:PORT
pf_create() {
    local dir=$1 port=$2 host=${3:-localhost}
    pf_ensure_installed || return 1
    pf_ensure_user
    mkdir -p "$dir/postfix" "$dir/queue" "$dir/data" "$dir/tls"
    # The pipe agent (user replygate) and Postfix's daemons (user postfix)
    # must be able to walk into the instance.
    chmod 755 "$dir"
    chown postfix: "$dir/data"
    pf_cert "$dir/tls" "$host" || return 1
    cat >"$dir/postfix/main.cf" <<EOF
# A private Postfix instance made by replygate's tests/lib/postfix.sh.
# replygate's own settings (postfix-conf/main.cf) are applied on top.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
# Only loopback, only the port in master.cf, never a real port 25.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = $host
mydomain = $host
myorigin = \$myhostname
# No local mailboxes and no trusted networks: the instance accepts mail only
# for the reply domains (relay_domains), and relays nothing.
mydestination =
mynetworks =
local_recipient_maps =
local_transport = error:no local delivery
alias_maps =
alias_database =
biff = no
# Postfix's own lines, beside replygate's (see the top of tests/lib/postfix.sh).
maillog_file = $dir/mail.log
maillog_file_prefixes = $dir
# Tests must not wait for DNS that this machine does not have.
smtp_host_lookup = native
disable_dns_lookups = yes
smtpd_peername_lookup = no
# A queue that retries soon, for fault tests that restart a server.
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 60s
EOF
    # Every service unchrooted: a chroot would need copies of /etc files in
    # the queue directory, which a throwaway instance does not have.
    cat >"$dir/postfix/master.cf" <<EOF
# A private Postfix instance made by replygate's tests/lib/postfix.sh.
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
local      unix  - n n -     - local
virtual    unix  - n n -     - virtual
lmtp       unix  - - n -     - lmtp
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
    echo "$port" >"$dir/port"
}

# pf_log_start - start the instance's own rsyslogd (idempotent)
pf_log_start() {
    local dir=$1 i host
    if [ -f "$dir/rsyslog.pid" ] && kill -0 "$(cat "$dir/rsyslog.pid")" 2>/dev/null; then
        return 0
    fi
    mkdir -p "$dir/rsyslog"
    rm -f "$dir/log.sock"
    host=$(postconf -c "$dir/postfix" -h myhostname 2>/dev/null || echo localhost)
    cat >"$dir/rsyslog.conf" <<EOF
# The syslog daemon of one private Postfix instance (tests/lib/postfix.sh).
# The host name is the instance's myhostname, as Postfix's own lines have it.
global(workDirectory="$dir/rsyslog" localHostname="$host")
# Not /dev/log: replygate's programs find this socket through syslog_socket.
module(load="imuxsock" SysSock.Use="off")
# No rate limit: load tests log thousands of lines a second, and a dropped
# line would make a test of the logs fail for the wrong reason.
input(type="imuxsock" Socket="$dir/log.sock" RateLimit.Interval="0")
# Facility mail, in the format Postfix's maillog_file writes ("Dec 06 ..."),
# appended to the file Postfix writes too. ioBufferSize: with the default 4 KiB
# a batch of lines is written in 4096-byte pieces that cut lines in two, and
# a line of Postfix's appended between two pieces broke a line of ours (the
# security suite's "whole syslog line" case failed once in CI). A batch fits
# in 1 MB, so each write(2) is whole lines, and O_APPEND keeps it in one piece.
template(name="postfixlike" type="string"
         string="%timegenerated:::date-rfc3164-buggyday% %hostname% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\n")
mail.* action(type="omfile" file="$dir/mail.log" template="postfixlike" ioBufferSize="1m")
EOF
    touch "$dir/mail.log"
    rsyslogd -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" 2>"$dir/rsyslog.err" ||
        { echo "postfix.sh: rsyslogd failed:" >&2; cat "$dir/rsyslog.err" >&2; return 1; }
    for i in $(seq 50); do
        # The agent (user replygate) and the milter must be able to send.
        [ -S "$dir/log.sock" ] && chmod 666 "$dir/log.sock" && return 0
        sleep 0.1
    done
    echo "postfix.sh: rsyslogd did not create $dir/log.sock" >&2
    return 1
}

# pf_log_stop - stop the instance's rsyslogd
pf_log_stop() {
    local dir=$1 pid i
    [ -f "$dir/rsyslog.pid" ] || return 0
    pid=$(cat "$dir/rsyslog.pid")
    if kill "$pid" 2>/dev/null; then
        for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/rsyslog.pid"
}

# pf_run - run a command; its mail.log lines reach DIR/mail.log through the
# syslog_socket of the replygate.conf it reads (older callers wrapped their
# commands in it when the lines had to go through /dev/log)
pf_run() {
    shift
    "$@"
}

# pf_start - start the instance (and its syslog daemon)
pf_start() {
    local dir=$1
    pf_log_start "$dir" || return 1
    postfix -c "$dir/postfix" check >"$dir/check.log" 2>&1 ||
        { echo "postfix.sh: postfix check failed:" >&2; cat "$dir/check.log" >&2; return 1; }
    if postfix -c "$dir/postfix" status >/dev/null 2>&1; then
        postfix -c "$dir/postfix" reload >/dev/null 2>&1
        return 0
    fi
    postfix -c "$dir/postfix" start >"$dir/start.log" 2>&1 ||
        { echo "postfix.sh: postfix start failed:" >&2; cat "$dir/start.log" >&2; return 1; }
}

# pf_stop - stop the instance and its syslog daemon (safe when not running)
pf_stop() {
    local dir=$1 pid i
    if [ -f "$dir/postfix/main.cf" ] &&
        postfix -c "$dir/postfix" status >/dev/null 2>&1; then
        pid=$(cat "$dir/queue/pid/master.pid" 2>/dev/null | tr -d ' ')
        postfix -c "$dir/postfix" stop >/dev/null 2>&1 || true
        # postfix stop returns before every child has gone; wait for master.
        for i in $(seq 100); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    pf_log_stop "$dir"
}

# pf_destroy - stop the instance (nothing outside DIR is left to undo)
pf_destroy() {
    pf_stop "$1"
}

# pf_wait_log - wait until a line of DIR/mail.log matches ERE
pf_wait_log() {
    local dir=$1 ere=$2 secs=${3:-30} i
    for i in $(seq $((secs * 10))); do
        grep -Eq -- "$ere" "$dir/mail.log" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
