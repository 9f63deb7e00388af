#!/bin/bash
# protocol.sh - replygate-lmtpd driven directly, with no Postfix (issue 15).
#
# Starts a throwaway PostgreSQL (tests/lib/pg.sh), migrates it with
# `replygate migrate`, and runs protocol.py, which starts the service and
# prints TAP. With RG_VALGRIND=1 the service runs under valgrind (memcheck,
# leak check) for the same cases; RG_SESSIONS sets how many sessions the
# "in a row" case opens (1,000 by default).
#
# Environment: RG_LMTPD (the service), RG_CLI (replygate), RG_SRC (source tree).
set -u
SRC=${RG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
LMTPD=${RG_LMTPD:-$SRC/build/pipe-agent/replygate-lmtpd}
CLI=${RG_CLI:-$SRC/build/cli/replygate}
. "$SRC/tests/lib/tap.sh"
. "$SRC/tests/lib/pg.sh"

T=$(mktemp -d /tmp/rg-lmtp.XXXXXX) || tap_bail "mktemp failed"
cleanup() {
    pg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT

pg_start || tap_bail "cannot start PostgreSQL"
printf 'reply_domain = reply.example.com\ndatabase = %s\n' "$PG_CONNINFO" >"$T/migrate.conf"
"$CLI" migrate --config "$T/migrate.conf" >/dev/null 2>&1 || tap_bail "migrate failed"
rm -f "$T/migrate.conf"

WRAPPER=
if [ "${RG_VALGRIND:-0}" = 1 ]; then
    command -v valgrind >/dev/null || tap_bail "valgrind not installed"
    WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite"
    WRAPPER="$WRAPPER --errors-for-leak-kinds=definite --num-callers=30"
    WRAPPER="$WRAPPER --suppressions=$SRC/tests/fuzz/valgrind.supp"
fi
export LMTPD SRC T PG_DIR PG_CONNINFO PG_BIN LMTPD_WRAPPER="$WRAPPER"
python3 "$SRC/tests/lmtp/protocol.py"
