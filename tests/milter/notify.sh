#!/bin/bash
# notify.sh - systemd's notify protocol and watchdog, without systemd.
#
#   notify.sh MILTER_BINARY
#
# A fresh root has no systemd, so a small listener plays its part: it binds
# a unix datagram socket, the milter gets it as $NOTIFY_SOCKET with
# WATCHDOG_USEC, and every line the milter sends is written down with the
# time it came. The milter must say READY=1 once its socket answers, ping
# WATCHDOG=1 only after a real milter round trip on that socket (a stopped
# process, or a socket that no longer answers while the process runs, sends
# none), say RELOADING=1 and READY=1 around a SIGHUP and STOPPING=1 on
# SIGTERM, and stay silent for a WATCHDOG_PID that is not its own.
# (systemd-analyze verify of the unit is in the ops suite, tests/ops/units.sh.)
set -u
. "$(dirname "$0")/../lib/isolate.sh" # own network, mount and PID namespaces
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
MILTER=$1

dir=$(mktemp -d /tmp/rg-notify.XXXXXX)
chmod 755 "$dir"
pids=()
# cleanup - stop the milters and listeners started here, remove the folder
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    if [ -n "${RG_TEST_KEEP:-}" ]; then echo "# kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

printf '%s\n' 'notify-test-secret-0123456789abcdef0123' >"$dir/secrets"
chmod 600 "$dir/secrets"
mkdir -p "$dir/spool"
cat >"$dir/milter.conf" <<EOF
reply_domain = reply.example.com
secrets_file = $dir/secrets
spool_directory = $dir/spool
database = host=$dir/no-database dbname=replygate connect_timeout=1
milter_socket = unix:$dir/milter.sock
EOF

# listen NAME SOCKET - the stand-in for systemd: every line received into $dir/NAME.log
listen() {
    /usr/bin/python3 -c '
import socket, sys, time
path, out = sys.argv[1], open(sys.argv[2], "a", buffering=1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
out.write("%.3f LISTENING\n" % time.monotonic())
while True:
    for line in s.recv(65536).decode(errors="replace").split("\n"):
        out.write("%.3f %s\n" % (time.monotonic(), line))
' "$2" "$dir/$1.log" &
    pids+=("$!")
    for _ in $(seq 50); do grep -q LISTENING "$dir/$1.log" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# count LOG TEXT - lines of a listener's log that are exactly TEXT
count() { awk -v t="$2" '$2 == t' "$dir/$1.log" 2>/dev/null | wc -l; }

# wait_count LOG TEXT N [SECONDS] - wait until TEXT came at least N times
wait_count() {
    local i
    for i in $(seq $((${4:-10} * 10))); do
        [ "$(count "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}

# start NAME ENV... - the milter in the foreground with these variables; sets $pid
start() {
    local name=$1
    shift
    env "$@" "$MILTER" --config "$dir/milter.conf" -f >"$dir/$name.out" 2>&1 &
    pid=$!
    pids+=("$pid")
}

# stop PID - SIGTERM and wait for it to go (the next milter uses the same socket)
stop() {
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
}

# --- READY=1, and WATCHDOG=1 after each round trip ------------------------
listen sd "$dir/notify.sock" || tap_bail "the listener did not start"
start main NOTIFY_SOCKET="$dir/notify.sock" WATCHDOG_USEC=1500000
main=$pid
if wait_count sd READY=1 1; then
    tap_ok "READY=1 once the socket answers"
else
    tap_not_ok "READY=1 once the socket answers" "$(cat "$dir/sd.log")" "$(cat "$dir/main.out")"
fi
tap_check "READY=1 came after the socket was made" test -S "$dir/milter.sock"
tap_is "READY=1 sent once" "$(count sd READY=1)" 1
if wait_count sd WATCHDOG=1 4 10; then
    tap_ok "WATCHDOG=1 about every 0.5 s with WatchdogSec=1.5s"
else
    tap_not_ok "WATCHDOG=1 about every 0.5 s with WatchdogSec=1.5s" "$(tail -5 "$dir/sd.log")"
fi

# A stopped milter answers no round trip and sends no ping: systemd would
# kill and restart it after WatchdogSec.
kill -STOP "$main"
sleep 0.3
before=$(count sd WATCHDOG=1)
sleep 2
tap_is "SIGSTOP: no WATCHDOG=1 for 2 s" "$(count sd WATCHDOG=1)" "$before"
kill -CONT "$main"
if wait_count sd WATCHDOG=1 $((before + 2)) 5; then
    tap_ok "SIGCONT: the pings come back"
else
    tap_not_ok "SIGCONT: the pings come back" "$(tail -5 "$dir/sd.log")"
fi

# Not a timer: with the process running but its socket gone from the
# folder (no round trip possible), no ping.
mv "$dir/milter.sock" "$dir/moved.sock"
sleep 0.6
before=$(count sd WATCHDOG=1)
sleep 2
tap_is "no round trip on the socket: no WATCHDOG=1 while the process runs" \
    "$(count sd WATCHDOG=1)" "$before"
tap_check "meanwhile the process runs" kill -0 "$main"
tap_like "and says why in mail.log" "$(cat "$dir/main.out")" \
    "watchdog: no milter round trip on unix:$dir/milter.sock \\(cannot connect"
mv "$dir/moved.sock" "$dir/milter.sock"
if wait_count sd WATCHDOG=1 $((before + 2)) 5; then
    tap_ok "the socket back: the pings come back"
else
    tap_not_ok "the socket back: the pings come back" "$(tail -5 "$dir/sd.log")"
fi

# SIGHUP: RELOADING=1, then READY=1 again.
kill -HUP "$main"
if wait_count sd RELOADING=1 1 && wait_count sd READY=1 2; then
    tap_ok "SIGHUP: RELOADING=1, then READY=1"
else
    tap_not_ok "SIGHUP: RELOADING=1, then READY=1" "$(grep -v WATCHDOG "$dir/sd.log")"
fi
kill -TERM "$main"
if wait_count sd STOPPING=1 1; then tap_ok "SIGTERM: STOPPING=1"; else
    tap_not_ok "SIGTERM: STOPPING=1" "$(grep -v WATCHDOG "$dir/sd.log")"
fi
for _ in $(seq 50); do kill -0 "$main" 2>/dev/null || break; sleep 0.1; done
wait "$main"
tap_is "SIGTERM: exit 0" "$?" 0

# --- an abstract socket name, and a WATCHDOG_PID that is not ours ----------
abstract="@rg-notify-$$-$RANDOM"
listen abstract "$abstract" || tap_bail "the abstract listener did not start"
start other NOTIFY_SOCKET="$abstract" WATCHDOG_USEC=1500000 WATCHDOG_PID=1
if wait_count abstract READY=1 1; then
    tap_ok "an abstract \$NOTIFY_SOCKET (@name): READY=1"
else
    tap_not_ok "an abstract \$NOTIFY_SOCKET (@name): READY=1" "$(cat "$dir/abstract.log")" \
        "$(cat "$dir/other.out")"
fi
sleep 2
tap_is "WATCHDOG_PID of another process: no WATCHDOG=1" "$(count abstract WATCHDOG=1)" 0
stop "$pid"

# --- without $NOTIFY_SOCKET nothing is probed -------------------------------
start plain
sleep 2
tap_is "without \$NOTIFY_SOCKET: no watchdog lines" \
    "$(grep -c watchdog "$dir/plain.out")" 0
stop "$pid"

tap_done
