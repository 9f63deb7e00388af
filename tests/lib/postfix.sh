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
#   pf_log_start DIR                # a syslog daemon of its own writing DIR/mail.log
#   pf_run DIR CMD...               # run CMD so that its syslog(3) lines reach
#                                   #   DIR/mail.log (see below)
#   pf_start DIR                    # postfix start (with pf_log_start first)
#   pf_stop DIR                     # postfix stop, then the syslog daemon
#   pf_destroy DIR                  # pf_stop and unregister the instance
#   pf_free_port                    # a TCP port nothing listens on
#   pf_wait_log DIR ERE [SECONDS]   # wait until a mail.log line matches
#
# Why a syslog daemon per instance: mail.log is where an operator looks, and
# replygate-milter and replygate-deliver log through syslog(3), which always
# writes to /dev/log. This machine has no syslog daemon, and tests run side by
# side, so each instance gets an rsyslogd that listens on DIR/log.sock, and
# every process of the instance (master and its children, the milter) runs in
# a mount namespace of its own where DIR/log.sock is bind-mounted on /dev/log.
# Postfix itself then logs through syslog too, so one DIR/mail.log holds the
# Postfix lines and the replygate lines in the order they happened, exactly as
# /var/log/mail.log would on a Debian MX.

PF_SRC=${PF_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PF_SYSTEM_MAIN_CF=/etc/postfix/main.cf

# pf_ensure_installed - postfix, rsyslog, swaks and openssl, with apt-get
pf_ensure_installed() {
    local missing=() p
    for p in postfix rsyslog swaks openssl; do
        [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
              "${missing[@]}" >/dev/null 2>&1; } ||
        { echo "postfix.sh: cannot install ${missing[*]}" >&2; return 1; }
}

# pf_ensure_user - the unprivileged user the pipe service and the milter run as
pf_ensure_user() {
    getent group replygate >/dev/null || groupadd --system replygate
    getent passwd replygate >/dev/null ||
        useradd --system --gid replygate --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin --comment "replygate reply agent" replygate
}

# pf_locked - run a command holding the lock on the system main.cf, since
# several instances register themselves at the same time
pf_locked() {
    mkdir -p /etc/postfix /run/lock
    (flock 9 && "$@") 9>/run/lock/replygate-postfix.lock
}

# pf_register - list DIR/postfix in the system main.cf's
# alternate_config_directories, which postfix(1), postqueue(1) and postsuper(1)
# demand before they accept -c. A missing main.cf (Debian's "No configuration")
# is created with that one parameter; nothing else of it is touched.
pf_register_locked() {
    local dir=$1 cur
    if [ ! -f "$PF_SYSTEM_MAIN_CF" ]; then
        cat >"$PF_SYSTEM_MAIN_CF" <<EOF
# Created by replygate's tests/lib/postfix.sh: this host had no Postfix
# configuration. Only alternate_config_directories is maintained here, so that
# private Postfix instances (postfix -c DIR) may run.
compatibility_level = 3.6
EOF
    fi
    cur=$(postconf -c /etc/postfix -nh alternate_config_directories 2>/dev/null || true)
    case " ${cur//,/ } " in *" $dir "*) return 0 ;; esac
    postconf -c /etc/postfix -e "alternate_config_directories = ${cur:+$cur }$dir"
}
pf_register() { pf_locked pf_register_locked "$1"; }

# pf_unregister - take DIR/postfix out of alternate_config_directories again
pf_unregister_locked() {
    local dir=$1 cur out= d
    [ -f "$PF_SYSTEM_MAIN_CF" ] || return 0
    cur=$(postconf -c /etc/postfix -nh alternate_config_directories 2>/dev/null || true)
    for d in ${cur//,/ }; do [ "$d" = "$dir" ] || out="${out:+$out }$d"; done
    [ "$out" = "$cur" ] && return 0
    if [ -n "$out" ]; then
        postconf -c /etc/postfix -e "alternate_config_directories = $out"
    else
        postconf -c /etc/postfix -X alternate_config_directories
    fi
}
pf_unregister() { pf_locked pf_unregister_locked "$1"; }

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
    pf_register "$dir/postfix"
}

# pf_log_start - start the instance's own rsyslogd (idempotent)
pf_log_start() {
    local dir=$1 i
    if [ -f "$dir/rsyslog.pid" ] && kill -0 "$(cat "$dir/rsyslog.pid")" 2>/dev/null; then
        return 0
    fi
    mkdir -p "$dir/rsyslog"
    rm -f "$dir/log.sock"
    cat >"$dir/rsyslog.conf" <<EOF
# The syslog daemon of one private Postfix instance (tests/lib/postfix.sh).
global(workDirectory="$dir/rsyslog")
# Not /dev/log: the instance's processes find this socket there through a
# bind mount in their own mount namespace.
module(load="imuxsock" SysSock.Use="off")
# No rate limit: load tests log thousands of lines a second, and a dropped
# line would make a test of the logs fail for the wrong reason.
input(type="imuxsock" Socket="$dir/log.sock" RateLimit.Interval="0")
# Facility mail, in the traditional format of /var/log/mail.log.
mail.* action(type="omfile" file="$dir/mail.log" template="RSYSLOG_TraditionalFileFormat")
EOF
    touch "$dir/mail.log"
    rsyslogd -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" 2>"$dir/rsyslog.err" ||
        { echo "postfix.sh: rsyslogd failed:" >&2; cat "$dir/rsyslog.err" >&2; return 1; }
    for i in $(seq 50); do
        [ -S "$dir/log.sock" ] && return 0
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

# pf_run - run a command in a mount namespace where /dev/log is DIR/log.sock.
# /dev/log must exist to be a mount point; when the host has no syslog daemon
# it is created as an empty file, which to syslog(3) is the same as missing.
pf_run() {
    local dir=$1
    shift
    [ -e /dev/log ] || [ -L /dev/log ] || touch /dev/log
    unshare --mount --propagation private -- /bin/sh -c \
        'mount --bind "$0" /dev/log && exec "$@"' "$dir/log.sock" "$@"
}

# pf_start - start the instance (and its syslog daemon)
pf_start() {
    local dir=$1
    pf_log_start "$dir" || return 1
    postfix -c "$dir/postfix" check >"$dir/check.log" 2>&1 ||
        { echo "postfix.sh: postfix check failed:" >&2; cat "$dir/check.log" >&2; return 1; }
    if postfix -c "$dir/postfix" status >/dev/null 2>&1; then
        pf_run "$dir" postfix -c "$dir/postfix" reload >/dev/null 2>&1
        return 0
    fi
    pf_run "$dir" postfix -c "$dir/postfix" start >"$dir/start.log" 2>&1 ||
        { echo "postfix.sh: postfix start failed:" >&2; cat "$dir/start.log" >&2; return 1; }
}

# pf_stop - stop the instance and its syslog daemon (safe when not running)
pf_stop() {
    local dir=$1 pid i
    if [ -f "$dir/postfix/main.cf" ] &&
        postfix -c "$dir/postfix" status >/dev/null 2>&1; then
        pid=$(cat "$dir/queue/pid/master.pid" 2>/dev/null | tr -d ' ')
        pf_run "$dir" postfix -c "$dir/postfix" stop >/dev/null 2>&1 || true
        # postfix stop returns before every child has gone; wait for master.
        for i in $(seq 100); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    pf_log_stop "$dir"
}

# pf_destroy - stop the instance and take it out of the system main.cf
pf_destroy() {
    local dir=$1
    pf_stop "$dir"
    pf_unregister "$dir/postfix"
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
