#!/bin/bash
# units.sh - the systemd unit of the milter and the logrotate file of the
# processor log: `systemd-analyze verify` accepts the unit offline with no
# complaint (its man: links resolve to our pages), the unit has the keys the
# issue asks for (user replygate, -f with Type=notify and a watchdog, before
# postfix@-.service, SIGHUP reload, the
# sandbox, a read-write path only for the socket folder), and
# `systemd-analyze security` rates it; `logrotate -d` accepts the logrotate
# file and a forced run really rotates a processor log.
#
# usage: units.sh SOURCE_DIR MILTER
set -u
. "$(dirname "$0")/../lib/tap.sh"
src=$1 milter=$2
# The logrotate file names the user replygate: on a new machine no other test
# may have made it yet.
. "$src/tests/lib/postfix.sh"
pf_ensure_user
unit=$src/postfix-conf/replygate-milter.service
rotate=$src/postfix-conf/replygate.logrotate
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# key NAME - the value of a key in the unit (the last one wins, as in systemd)
key() { sed -n "s/^$1=//p" "$unit" | tail -1; }

tap_is "Type=notify" "$(key Type)" notify
tap_like "WatchdogSec= is set" "$(key WatchdogSec)" '^[0-9]+s$'
tap_like "ordered before Debian's postfix@-.service" "$(key Before)" '(^| )postfix@-\.service( |$)'
tap_is "User=replygate" "$(key User)" replygate
tap_like "ExecStart runs replygate-milter in the foreground (-f)" "$(key ExecStart)" \
    '^/[^ ]*/replygate-milter( .*)? -f( |$)'
tap_is "ExecStart has no -u: the milter never holds root to drop" \
    "$(key ExecStart | grep -cE -- ' -u( |$)')" 0
tap_is "ExecReload sends SIGHUP" "$(key ExecReload)" '/bin/kill -HUP $MAINPID'
for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes; do
    tap_is "$k" "$(key "${k%%=*}")" "${k#*=}"
done
rw=$(grep -c '^ReadWritePaths=' "$unit")
tap_is "one ReadWritePaths line" "$rw" 1
# The socket folder of the default milter_socket, unix:/var/spool/postfix/replygate/milter.sock.
tap_is "ReadWritePaths is only the socket's folder and the counters' folder" \
    "$(key ReadWritePaths)" "/var/spool/postfix/replygate -/var/spool/replygate/metrics"
tap_is "no other writable paths" "$(grep -cE '^(ReadWriteDirectories|BindPaths|StateDirectory|LogsDirectory)=' "$unit")" 0

# systemd-analyze verify works without a running systemd; it wants the
# program to exist and the Documentation= pages to open, so point it at the
# built milter and at a man tree made of docs/.
mkdir -p "$dir/man/man5" "$dir/man/man8" "$dir/unit"
cp "$src"/docs/*.5 "$dir/man/man5/"
cp "$src"/docs/*.8 "$dir/man/man8/"
sed "s#^ExecStart=[^ ]*#ExecStart=$milter#" "$unit" > "$dir/unit/replygate-milter.service"
out=$(MANPATH=$dir/man SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
    "$dir/unit/replygate-milter.service" 2>&1); rc=$?
tap_is "systemd-analyze verify: no complaint" "$rc:$out" "0:"
# The check can fail: a misspelt key is reported.
sed 's/^ProtectHome=yes/ProtectHomme=yes/' "$dir/unit/replygate-milter.service" \
    > "$dir/unit/broken.service"
out=$(MANPATH=$dir/man systemd-analyze verify "$dir/unit/broken.service" 2>&1)
tap_like "systemd-analyze verify reports a misspelt key (the check can fail)" "$out" \
    "Unknown key 'ProtectHomme'"
out=$(systemd-analyze --offline=true security "$dir/unit/replygate-milter.service" 2>&1)
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
tap_like "systemd-analyze security: exposure level below 4 (got ${level:-none})" \
    "${level:-99}" '^[0-3]\.[0-9]$'

# The metrics job and its timer (replygate metrics --write every minute).
mkdir -p "$dir/man/man1"
cp "$src"/docs/*.1 "$dir/man/man1/"
rg_cli=$(cd "$(dirname "$milter")/../cli" && pwd)/replygate
sed "s#^ExecStart=[^ ]*#ExecStart=$rg_cli#" "$src/postfix-conf/replygate-metrics.service" \
    >"$dir/unit/replygate-metrics.service"
cp "$src/postfix-conf/replygate-metrics.timer" "$dir/unit/"
out=$(MANPATH=$dir/man SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
    "$dir/unit/replygate-metrics.service" "$dir/unit/replygate-metrics.timer" 2>&1); rc=$?
tap_is "systemd-analyze verify: the metrics service and timer, no complaint" "$rc:$out" "0:"
tap_like "the metrics service writes the textfile" \
    "$(sed -n 's/^ExecStart=//p' "$src/postfix-conf/replygate-metrics.service")" ' metrics --write( |$)'
tap_is "the timer runs it every minute" "$(sed -n 's/^OnUnitActiveSec=//p' "$src/postfix-conf/replygate-metrics.timer")" 1min

# --- logrotate -----------------------------------------------------------
out=$(logrotate -d -s "$dir/state.d" "$rotate" 2>&1); rc=$?
tap_is "logrotate -d accepts the file" "$rc" 0
tap_is "logrotate -d: no error" "$(printf '%s\n' "$out" | grep -ci 'error')" 0
tap_like "it rotates the processor log's folder" "$out" 'rotating pattern: /var/log/mail-replies/\*\.log'
tap_like "it creates the new log 0640 for replygate" "$(cat "$rotate")" 'create 0640 replygate '

# A real rotation of a log in a temp folder, as the current user.
mkdir -p "$dir/logs"
me=$(id -un) grp=$(id -gn)
sed -e "s#/var/log/mail-replies/#$dir/logs/#" -e "s/ replygate adm/ $me $grp/" "$rotate" \
    > "$dir/rotate.conf"
echo '[2026-11-22T13:05:46.306 INFO (6178) (ED4DD1041E2) #] replygate: processing <abc@example.org>' \
    > "$dir/logs/replygate.log"
out=$(logrotate -f -s "$dir/state" "$dir/rotate.conf" 2>&1); rc=$?
tap_is "logrotate -f rotates" "$rc:$out" "0:"
rotated=$(ls "$dir/logs" | grep -c '^replygate\.log-[0-9]\{8\}')
tap_is "the old log is kept under a dated name" "$rotated" 1
tap_is "a new empty log is created" "$(stat -c '%s %a' "$dir/logs/replygate.log" 2>&1)" "0 640"
