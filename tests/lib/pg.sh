# pg.sh - a throwaway PostgreSQL 15 for tests; source it from a test script.
#
#   . "$SRC/tests/lib/pg.sh"
#   pg_start             # initdb + start in a fresh mktemp dir under /tmp; sets
#                        #   PG_DIR      the temp dir (also the unix socket dir)
#                        #   PG_CONNINFO "host=$PG_DIR dbname=replygate user=postgres"
#                        #   PGHOST, PGDATABASE, PGUSER exported (psql, libpq)
#                        # and creates the database "replygate". Listens on the
#                        # unix socket in PG_DIR only (listen_addresses = ''),
#                        # trust authentication on that socket, fsync on.
#                        # Returns non-zero (with a message on stderr) on failure.
#   pg_psql ARGS...      # psql -X -q -v ON_ERROR_STOP=1 against PG_CONNINFO
#   pg_value SQL         # one value, unaligned, no headers
#   pg_stop              # stop the server (fast); keeps PG_DIR so pg_restart works
#   pg_restart           # start the stopped server again in the same PG_DIR
#   pg_cleanup           # stop if running, remove PG_DIR (put it in trap ... EXIT)
#   pg_ensure_installed  # fail with a message when PostgreSQL 15 is missing
#
# As root the server runs as the postgres user (runuser), because PostgreSQL
# refuses root; otherwise it runs as the calling user. PG_DIR is mode 755 so
# that other users (the agent's "replygate" user) can reach the socket.
# Several suites may run at once: every server has its own directory.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_CONNINFO=

# pg_ensure_installed - PostgreSQL 15 must be there (scripts/deps installs it;
# a test never runs apt-get itself)
pg_ensure_installed() {
    [ -x "$PG_BIN/initdb" ] && return 0
    echo "pg.sh: PostgreSQL 15 not found in $PG_BIN (run scripts/deps test)" >&2
    return 1
}

# pg_as_owner - run a command as the server's owner, from a directory it can enter
pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# pg_start - create and start a fresh server with the database "replygate"
pg_start() {
    pg_ensure_installed || return 1
    PG_DIR=$(mktemp -d /tmp/rg-pg.XXXXXX) || return 1
    chmod 755 "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
    pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
        { echo "pg.sh: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; return 1; }
    cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$PG_DIR'
fsync = on
synchronous_commit = on
max_connections = 100
logging_collector = off
CONF
    pg_restart || return 1
    PG_CONNINFO="host=$PG_DIR dbname=replygate user=postgres"
    export PG_DIR PG_CONNINFO PGHOST="$PG_DIR" PGDATABASE=replygate PGUSER=postgres
    "$PG_BIN/psql" -X -q -h "$PG_DIR" -U postgres -d postgres -c "CREATE DATABASE replygate" \
        >/dev/null || { echo "pg.sh: cannot create database replygate" >&2; return 1; }
}

# pg_restart - start the server in PG_DIR (after pg_stop, or the first time)
pg_restart() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        >/dev/null 2>&1 ||
        { echo "pg.sh: server did not start:" >&2; tail -20 "$PG_DIR/server.log" >&2; return 1; }
}

# pg_stop - stop the server quickly, keeping its data
pg_stop() {
    [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1
}

# pg_cleanup - stop the server and remove everything it had
pg_cleanup() {
    [ -n "$PG_DIR" ] || return 0
    pg_stop
    rm -rf "$PG_DIR"
    PG_DIR=
}

# pg_psql - psql against the test database, stopping at the first error
pg_psql() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$PG_CONNINFO" "$@"
}

# pg_value - the single value a query returns
pg_value() {
    "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$PG_CONNINFO" -c "$1"
}
