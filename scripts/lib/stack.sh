# stack.sh - the whole replygate pipeline on loopback: a throwaway PostgreSQL,
# a private Postfix with postfix-conf/ applied, the milter, and the agent
# behind pipe(8), or with RG_TRANSPORT=lmtp the resident replygate-lmtpd
# behind lmtp(8). Sourced by scripts/up, scripts/down, tests/e2e and tests/fault.
#
#   . "$SRC/scripts/lib/stack.sh"
#   stack_up DIR PORT BUILD    # everything under DIR (made if missing), Postfix
#                              # on 127.0.0.1:PORT, programs copied from BUILD
#   stack_milter_start DIR     # (re)start the milter alone; stack_milter_stop DIR
#   stack_lmtpd_start DIR      # (re)start replygate-lmtpd alone; stack_lmtpd_stop DIR
#   stack_down DIR             # stop everything stack_up started
#   stack_load DIR             # set the variables below for a running stack
# RG_MILTER=0 before stack_up leaves the milter out (smtpd_milters unset).
# The stack's smtpd takes only reply mail, like the dedicated listener of
# postfix-conf/master-listener.cf, so the milter's per-milter default_action
# is tempfail there (RG_MILTER_ACTION=accept gives the shared MX's form).
# RG_TRANSPORT=lmtp before stack_up delivers through the LMTP door (the
# door is remembered in DIR/transport; pipe is the default).
#
# Variables after stack_up or stack_load:
#   RG_DIR RG_PORT RG_CONFIG RG_BIN (the copied programs) RG_DOMAIN RG_NOREPLY
#   RG_TRANSPORT (pipe or lmtp) RG_AGENT_IDENT (replygate/deliver or replygate/lmtpd)
#   PG_DIR PG_CONNINFO PGHOST PGDATABASE PGUSER (tests/lib/pg.sh)
#
# Layout of DIR:
#   bin/        replygate, replygate-deliver, replygate-milter (mode 755: the
#               build tree may sit where user replygate cannot enter)
#   etc/        replygate.conf, secrets (0640 root:replygate)
#   spool/      the agent's spool (replygate, 0750); log/ its processor log
#   postfix/ queue/ data/ tls/   the Postfix instance (tests/lib/postfix.sh)
#   queue/replygate/milter.sock  the milter socket, where smtpd finds it as
#               unix:replygate/milter.sock, relative to its queue directory
#   queue/replygate/lmtp.sock    replygate-lmtpd's socket (LMTP door), where
#               lmtp(8) finds it as unix:replygate/lmtp.sock
#   mail.log    Postfix's lines (maillog_file) and replygate's (through
#               syslog_socket = log.sock, the instance's rsyslogd)
#   pg.dir      the throwaway PostgreSQL's directory (tests/lib/pg.sh)

STACK_SRC=${STACK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
. "$STACK_SRC/tests/lib/pg.sh"
. "$STACK_SRC/tests/lib/postfix.sh"

RG_DOMAIN=${RG_DOMAIN:-reply.localhost}
RG_NOREPLY=${RG_NOREPLY:-noreply@$RG_DOMAIN}

# stack_load - the variables of a stack made by stack_up in DIR
stack_load() {
    RG_DIR=$1
    RG_PORT=$(cat "$RG_DIR/port" 2>/dev/null || true)
    RG_CONFIG=$RG_DIR/etc/replygate.conf
    RG_BIN=$RG_DIR/bin
    RG_TRANSPORT=$(cat "$RG_DIR/transport" 2>/dev/null || echo pipe)
    if [ "$RG_TRANSPORT" = lmtp ]; then RG_AGENT_IDENT=replygate/lmtpd; else RG_AGENT_IDENT=replygate/deliver; fi
    PG_DIR=$(cat "$RG_DIR/pg.dir" 2>/dev/null || true)
    PG_CONNINFO="host=$PG_DIR dbname=replygate user=postgres"
    export RG_DIR RG_PORT RG_CONFIG RG_BIN RG_TRANSPORT RG_AGENT_IDENT PG_DIR PG_CONNINFO
    export PGHOST=$PG_DIR PGDATABASE=replygate PGUSER=postgres
}

# stack_programs - copy the built programs where user replygate may run them
stack_programs() {
    local dir=$1 build=$2 p
    mkdir -p "$dir/bin"
    chmod 755 "$dir/bin"
    for p in cli/replygate pipe-agent/replygate-deliver pipe-agent/replygate-lmtpd \
        milter/replygate-milter; do
        [ -x "$build/$p" ] || { echo "stack.sh: $build/$p is not built" >&2; return 1; }
        install -m 755 "$build/$p" "$dir/bin/"
    done
}

# stack_config - the configuration, a fresh secret, spool and log folders
stack_config() {
    local dir=$1
    mkdir -p "$dir/etc" "$dir/spool" "$dir/log"
    chmod 755 "$dir/etc"
    if [ ! -s "$dir/etc/secrets" ]; then
        (umask 077 && openssl rand -hex 32 >"$dir/etc/secrets")
    fi
    chown root:replygate "$dir/etc/secrets"
    chmod 640 "$dir/etc/secrets"
    cat >"$dir/etc/replygate.conf" <<EOF
# replygate.conf of a local stack made by scripts/lib/stack.sh
reply_domain = $RG_DOMAIN
secrets_file = $dir/etc/secrets
database = host=$PG_DIR dbname=replygate user=replygate
spool_directory = $dir/spool
processor_log = $dir/log/replygate.log
noreply_address = $RG_NOREPLY
milter_socket = unix:$dir/queue/replygate/milter.sock
lmtp_socket = unix:$dir/queue/replygate/lmtp.sock
syslog_socket = $dir/log.sock
EOF
    chmod 644 "$dir/etc/replygate.conf"
    chown replygate:replygate "$dir/spool" "$dir/log"
    chmod 750 "$dir/spool" "$dir/log"
}

# stack_milter_start - start the milter as user replygate and wait for its
# socket. It runs as replygate from the start, in a setgid postfix folder,
# and makes its socket replygate:postfix 0660 whatever the umask: smtpd
# (group postfix) may connect, nobody else. Its mail.log lines go to the instance's
# syslog daemon through syslog_socket.
stack_milter_start() {
    local dir=$1 i
    stack_milter_stop "$dir"
    mkdir -p "$dir/queue/replygate"
    chown replygate:postfix "$dir/queue/replygate"
    chmod 2750 "$dir/queue/replygate"
    rm -f "$dir/queue/replygate/milter.sock"
    (
        umask 007
        exec setsid setpriv --reuid=replygate --regid=replygate --init-groups -- \
            "$dir/bin/replygate-milter" --config "$dir/etc/replygate.conf" -f \
            </dev/null >>"$dir/milter.out" 2>&1
    ) &
    echo $! >"$dir/milter.pid"
    for i in $(seq 100); do
        [ -S "$dir/queue/replygate/milter.sock" ] && return 0
        kill -0 "$(cat "$dir/milter.pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "stack.sh: the milter did not open its socket:" >&2
    tail -20 "$dir/milter.out" >&2
    return 1
}

# stack_milter_stop - SIGTERM the milter and wait for it to go
stack_milter_stop() {
    local dir=$1 pid i
    [ -f "$dir/milter.pid" ] || return 0
    pid=$(cat "$dir/milter.pid")
    if kill -TERM "$pid" 2>/dev/null; then
        for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/milter.pid"
}

# stack_lmtpd_start - start replygate-lmtpd as user replygate, like the
# milter (its socket 0660 in the setgid postfix folder: lmtp(8) may
# connect), and wait for its socket
stack_lmtpd_start() {
    local dir=$1 i
    stack_lmtpd_stop "$dir"
    mkdir -p "$dir/queue/replygate"
    chown replygate:postfix "$dir/queue/replygate"
    chmod 2750 "$dir/queue/replygate"
    rm -f "$dir/queue/replygate/lmtp.sock"
    (
        umask 007
        exec setsid setpriv --reuid=replygate --regid=replygate --init-groups -- \
            ${RG_LMTPD_WRAPPER:-} "$dir/bin/replygate-lmtpd" --config "$dir/etc/replygate.conf" -f \
            </dev/null >>"$dir/lmtpd.out" 2>&1
    ) &
    echo $! >"$dir/lmtpd.pid"
    for i in $(seq 300); do
        [ -S "$dir/queue/replygate/lmtp.sock" ] && return 0
        kill -0 "$(cat "$dir/lmtpd.pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "stack.sh: replygate-lmtpd did not open its socket:" >&2
    tail -20 "$dir/lmtpd.out" >&2
    return 1
}

# stack_lmtpd_stop - SIGTERM replygate-lmtpd, which finishes what is in
# flight, and wait for it to go
stack_lmtpd_stop() {
    local dir=$1 pid i
    [ -f "$dir/lmtpd.pid" ] || return 0
    pid=$(cat "$dir/lmtpd.pid")
    if kill -TERM "$pid" 2>/dev/null; then
        for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/lmtpd.pid"
}

# stack_up - build the whole stack in DIR and start it
stack_up() {
    local dir=$1 port=$2 build=$3
    mkdir -p "$dir"
    chmod 755 "$dir"
    RG_DIR=$dir
    stack_down "$dir" 2>/dev/null || true
    echo "${RG_TRANSPORT:-pipe}" >"$dir/transport"
    pf_ensure_user
    stack_programs "$dir" "$build" || return 1
    pg_start || return 1
    echo "$PG_DIR" >"$dir/pg.dir"
    stack_config "$dir"
    stack_load "$dir"
    # SPEC section 8's roles, made by the superuser, and the login the
    # stack's programs use: a member of replygate_writer (the agent, the
    # milter), and of replygate_app so that `replygate replies` works here.
    "$dir/bin/replygate" migrate --create-roles --database "$PG_CONNINFO" \
        --sql-dir "$STACK_SRC/sql" >"$dir/migrate.log" 2>&1 &&
        pg_psql -c "CREATE ROLE replygate LOGIN IN ROLE replygate_writer, replygate_app" \
            >>"$dir/migrate.log" 2>&1 ||
        { echo "stack.sh: replygate migrate failed:" >&2; cat "$dir/migrate.log" >&2; return 1; }
    pf_create "$dir" "$port" localhost || return 1
    RG_PORT=$port
    # With a state file, as `replygate postfix-setup` has: a later run with
    # the other TRANSPORT= (bench/run switches doors) retires this door's lines.
    "$STACK_SRC/scripts/postfix-conf-apply" -c "$dir/postfix" -s "$dir/postfix-conf.state" \
        REPLY_DOMAINS="$RG_DOMAIN" TLS_CERT="$dir/tls/cert.pem" TLS_KEY="$dir/tls/key.pem" \
        MILTER=unix:replygate/milter.sock DELIVER="$dir/bin/replygate-deliver" \
        CONFIG="$RG_CONFIG" MAX_SIZE=26214400 MILTER_ACTION="${RG_MILTER_ACTION:-tempfail}" \
        TRANSPORT="$RG_TRANSPORT" >"$dir/postfix-conf.log" ||
        { cat "$dir/postfix-conf.log" >&2; return 1; }
    pf_log_start "$dir" || return 1
    if [ "${RG_MILTER:-1}" = 0 ]; then
        # Without the milter (benchmarks measure what it adds).
        postconf -c "$dir/postfix" -X smtpd_milters
    else
        stack_milter_start "$dir" || return 1
    fi
    if [ "$RG_TRANSPORT" = lmtp ]; then
        stack_lmtpd_start "$dir" || return 1
    fi
    pf_start "$dir" || return 1
}

# stack_down - stop what stack_up started; the files stay for a look
stack_down() {
    local dir=$1
    [ -d "$dir" ] || return 0
    stack_milter_stop "$dir"
    stack_lmtpd_stop "$dir"
    [ -f "$dir/postfix/main.cf" ] && pf_destroy "$dir"
    pf_log_stop "$dir"
    if [ -f "$dir/pg.dir" ]; then
        PG_DIR=$(cat "$dir/pg.dir")
        [ -d "$PG_DIR" ] && pg_cleanup
        rm -f "$dir/pg.dir"
    fi
    return 0
}
