#!/bin/bash
# limits.sh - the agent's resource limits (issue 13 item 2), no database
# needed: every case here is decided before a row would be written.
#
#   1. delivery_memory_limit and delivery_cpu_limit become the agent's
#      RLIMIT_AS and RLIMIT_CPU (soft, and hard 10 s later), read from
#      /proc/PID/limits of an agent waiting for its message; 0 sets none;
#   2. an agent over delivery_cpu_limit refuses the message (65, 5.3.4) and
#      keeps it in failure/ with its reason, never dies of the hard limit and
#      never defers (75); --dry-run prints the refusal as JSON;
#   3. a message over a structural limit is refused the same way, through a
#      real delivery, and kept in failure/;
#   4. an agent over delivery_memory_limit defers (75, 4.3.0) and leaves no
#      copy behind;
#   5. the same bytes for the same recipient out of the same queue file (the
#      ORCPT case Postfix's duplicate filter misses) are not judged twice:
#      exit 0 with a mail.log line, no second copy; while the first runs, the
#      second defers; another queue id and a replay are judged again.
# Figures (time, peak memory) are printed, never asserted.
#
# Environment: RG_DELIVER (the agent), RG_SRC (source tree).
set -u
SRC=${RG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DELIVER=${RG_DELIVER:-$SRC/build/pipe-agent/replygate-deliver}
. "$SRC/tests/lib/tap.sh"

T=$(mktemp -d /tmp/rg-limits.XXXXXX) || tap_bail "mktemp failed"
waiter=
cleanup() {
    [ -n "$waiter" ] && kill "$waiter" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

SECRET=0123456789abcdef0123456789abcdef-limits-test
printf '%s\n' "$SECRET" >"$T/secrets"
chmod 600 "$T/secrets"
SPOOL=$T/spool
mac=$(printf 'i-1-5' | openssl dgst -sha256 -hmac "$SECRET" -r | cut -c1-40)
ADDR="reply+i-1-$mac-5@reply.example.com"

# write_config FILE [EXTRA LINES...]
write_config() {
    local file=$1 line
    shift
    {
        echo "reply_domain = reply.example.com"
        echo "secrets_file = $T/secrets"
        echo "database = postgresql:///replygate_limits_never_used?host=$T/nosuchdir"
        echo "spool_directory = $SPOOL"
        echo "processor_log = $T/replygate.log"
        for line in "$@"; do echo "$line"; done
    } >"$file"
}

# count FOLDER - messages (not .reason files) in a spool folder
count() {
    find "$SPOOL/$1" -type f ! -name '*.reason' 2>/dev/null | wc -l
}

# limit_of PID NAME - "soft hard" of one line of /proc/PID/limits
limit_of() {
    awk -v name="$2" 'index($0, name) == 1 { n = split(substr($0, 27), f, " +"); print f[1], f[2] }' \
        "/proc/$1/limits"
}

# waiting_agent CONFIG - start an agent that waits for its message on a
# FIFO; sets waiter once it has applied its limits (it sleeps in read)
waiting_agent() {
    rm -f "$T/fifo"
    mkfifo "$T/fifo"
    "$DELIVER" --config "$1" -q QWAIT -f bob@example.org -r "$ADDR" <"$T/fifo" >/dev/null 2>&1 &
    waiter=$!
    exec 7>"$T/fifo"
    for _ in $(seq 100); do
        sleep 0.1
        [ "$(readlink "/proc/$waiter/exe")" = "$(readlink -f "$DELIVER")" ] || continue
        [ "$(awk '/^State/ {print $2}' "/proc/$waiter/status")" = S ] && return 0
    done
    return 1
}

# stop_agent - end the waiting agent (an empty message) and reap it
stop_agent() {
    exec 7>&-
    wait "$waiter" 2>/dev/null
    waiter=
}

asan=
grep -q __asan_init "$DELIVER" && asan=1

# --- 1. the limits in place ----------------------------------------------------------
write_config "$T/set.conf" "delivery_memory_limit = 3000000000" "delivery_cpu_limit = 7"
if waiting_agent "$T/set.conf"; then
    if [ -n "$asan" ]; then
        tap_is "AddressSanitizer build: no RLIMIT_AS set" \
            "$(limit_of "$waiter" "Max address space")" "unlimited unlimited"
    else
        tap_is "delivery_memory_limit = 3000000000 is RLIMIT_AS" \
            "$(limit_of "$waiter" "Max address space")" "3000000000 3000000000"
    fi
    tap_is "delivery_cpu_limit = 7 is RLIMIT_CPU 7 s, hard 17 s" \
        "$(limit_of "$waiter" "Max cpu time")" "7 17"
else
    tap_not_ok "an agent waiting for its message" "it never got there"
fi
stop_agent
write_config "$T/none.conf" "delivery_memory_limit = 0" "delivery_cpu_limit = 0"
if waiting_agent "$T/none.conf"; then
    tap_is "0 sets no RLIMIT_AS" "$(limit_of "$waiter" "Max address space")" "unlimited unlimited"
    tap_is "0 sets no RLIMIT_CPU" "$(limit_of "$waiter" "Max cpu time")" "unlimited unlimited"
else
    tap_not_ok "an agent waiting for its message (no limits)" "it never got there"
fi
stop_agent
write_config "$T/default.conf"
if waiting_agent "$T/default.conf"; then
    tap_is "by default RLIMIT_CPU is 60 s, hard 70 s" "$(limit_of "$waiter" "Max cpu time")" "60 70"
else
    tap_not_ok "an agent waiting for its message (defaults)" "it never got there"
fi
stop_agent

rm -rf "$SPOOL" # the waiting agents' empty messages

# --- 2. over delivery_cpu_limit: refused and kept, never killed ----------------------------
# 40 MB of bytes that are invalid in the declared charset cost several
# seconds of processor time to convert (each one is replaced by U+FFFD, and
# the converter starts again after it); reading and spooling them cost a
# fraction of that. The limit is one second.
write_config "$T/cpu.conf" "delivery_cpu_limit = 1" "max_message_size = 200000000" \
    "delivery_memory_limit = 0"
python3 - "$T/cpu.eml" "$ADDR" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: Bob <bob@example.org>\nTo: %s\nSubject: heavy\nMessage-ID: <cpu@example.org>\n"
            b"Content-Type: text/plain; charset=iso-2022-jp\n\n" % sys.argv[2].encode())
    for _ in range(40):
        f.write(b"\x81" * (1024 * 1024))
PY
start=$(date +%s.%N)
/usr/bin/time -f '%U %S %M' -o "$T/time" "$DELIVER" --config "$T/cpu.conf" -q QCPU \
    -f bob@example.org -r "$ADDR" <"$T/cpu.eml" >"$T/out" 2>&1
rc=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
read -r user sys peak < <(tail -1 "$T/time") 2>/dev/null
echo "# over delivery_cpu_limit = 1: ${took} s, ${user:-?} s user, ${sys:-?} s system, peak $(( ${peak:-0} / 1024 )) MB"
tap_is "over delivery_cpu_limit: exit 65, not killed, not deferred" "$rc" 65
tap_like "over delivery_cpu_limit: first line" "$(head -1 "$T/out")" \
    '^5\.3\.4 message too complex: over the processing time limit$'
tap_is "over delivery_cpu_limit: the message is in failure/, nothing in new/" \
    "$(count failure) $(count new)" "1 0"
reason=$(cat "$SPOOL"/failure/*.reason 2>/dev/null)
tap_like "over delivery_cpu_limit: its reason names the limit" "$reason" \
    '^5\.3\.4 message too complex: over the processing time limit \(delivery_cpu_limit = 1 s\)$'
tap_is "over delivery_cpu_limit: the kept copy is the whole message" \
    "$(cmp -s "$T/cpu.eml" "$(find "$SPOOL/failure" -type f ! -name '*.reason')" && echo same)" same
"$DELIVER" --dry-run --config "$T/cpu.conf" -q QCPU -f bob@example.org -r "$ADDR" \
    <"$T/cpu.eml" >"$T/out" 2>&1
rc=$?
tap_is "over delivery_cpu_limit, --dry-run: exit 65" "$rc" 65
tap_is "over delivery_cpu_limit, --dry-run: the JSON says so" \
    "$(jq -r '"\(.exit) \(.status)"' "$T/out" 2>&1)" \
    "65 5.3.4 message too complex: over the processing time limit"
tap_is "--dry-run kept nothing" "$(count failure) $(count new)" "1 0"
rm -f "$T/cpu.eml"
rm -rf "$SPOOL"

# --- 3. over a structural limit: refused and kept, through a real delivery -----------------
write_config "$T/plain.conf" "delivery_memory_limit = 0"
python3 - "$T/parts.eml" "$ADDR" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: Bob <bob@example.org>\nTo: %s\nSubject: parts\nMessage-ID: <parts@example.org>\n"
            b"Content-Type: multipart/mixed; boundary=p\n\n" % sys.argv[2].encode())
    f.write(b"--p\n\n" * 400000 + b"--p--\n")
PY
/usr/bin/time -f '%e %M' -o "$T/time" "$DELIVER" --config "$T/plain.conf" -q QPARTS \
    -f bob@example.org -r "$ADDR" <"$T/parts.eml" >"$T/out" 2>&1
rc=$?
read -r took peak < <(tail -1 "$T/time") 2>/dev/null
echo "# 400,000 empty MIME parts: ${took:-?} s, peak $(( ${peak:-0} / 1024 )) MB"
tap_is "400,000 MIME parts: exit 65, never 75" "$rc" 65
tap_is "400,000 MIME parts: first line" "$(head -1 "$T/out")" \
    "5.3.4 message too complex: more than 10000 MIME parts"
tap_is "400,000 MIME parts: kept in failure/ with its reason" \
    "$(count failure) $(count new) $(cat "$SPOOL"/failure/*.reason 2>/dev/null)" \
    "1 0 5.3.4 message too complex: more than 10000 MIME parts"
rm -rf "$SPOOL"

# --- 5. the same message again to the same recipient from the same queue file ---------------
# Postfix delivers one recipient once per ORCPT value; the second delivery of
# the same bytes must cost neither a parse nor a second copy in failure/.
rm -rf "$SPOOL"
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/plain.conf" -q QDUP -f bob@example.org -r "$ADDR" \
    <"$T/parts.eml" >"$T/out" 2>"$T/err"
tap_is "first delivery: refused (65)" "$?" 65
/usr/bin/time -f '%e %M' -o "$T/time" env REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/plain.conf" \
    -q QDUP -f bob@example.org -r "$(echo "$ADDR" | tr a-z A-Z)" <"$T/parts.eml" >"$T/out" 2>"$T/err"
rc=$?
read -r took peak < <(tail -1 "$T/time") 2>/dev/null
echo "# the repeated delivery: ${took:-?} s, peak $(( ${peak:-0} / 1024 )) MB"
tap_is "the same again (recipient in another case): exit 0, nothing printed" "$rc/$(cat "$T/out")" "0/"
tap_like "the same again: mail.log says duplicate, why" "$(cat "$T/err")" \
    'QDUP: message-id=<.*>, status=duplicate \(found before parsing: delivered to this recipient from this queue file before'
tap_is "the same again: one copy in failure/" "$(count failure)" 1
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/plain.conf" -q QDUP2 -f bob@example.org -r "$ADDR" \
    <"$T/parts.eml" >"$T/out" 2>"$T/err"
tap_is "the same bytes from another queue file: judged again (65)" "$?" 65
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/plain.conf" -q REPLAY -f bob@example.org -r "$ADDR" \
    <"$T/parts.eml" >"$T/out" 2>"$T/err"
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/plain.conf" -q REPLAY -f bob@example.org -r "$ADDR" \
    <"$T/parts.eml" >"$T/out" 2>"$T/err"
tap_is "a replay (queue id REPLAY) is always judged again (65)" "$?" 65
# While another delivery of it runs (its marker locked), the second defers.
rawsha=$(sha256sum <"$T/parts.eml" | cut -c1-64)
key=$(printf '%s\0%s\0%s' QBUSY "$(echo "$ADDR" | tr A-Z a-z)" "$rawsha" | sha256sum | cut -c1-64)
marker=$SPOOL/seen/$(date -u +%Y%m%d)/$key
mkdir -p "$(dirname "$marker")"
flock -o "$marker" sleep 10 &
locker=$!
for _ in $(seq 50); do [ -e "$marker" ] && break; sleep 0.1; done
sleep 0.3
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/plain.conf" -q QBUSY -f bob@example.org -r "$ADDR" \
    <"$T/parts.eml" >"$T/out" 2>"$T/err"
rc=$?
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
tap_is "while the same delivery runs: deferred (75)" "$rc" 75
tap_like "while the same delivery runs: mail.log says why" "$(cat "$T/err")" \
    'being delivered to this recipient right now'
REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/plain.conf" -q QBUSY -f bob@example.org -r "$ADDR" \
    <"$T/parts.eml" >"$T/out" 2>"$T/err"
tap_is "once it is over, the retry is judged (65)" "$?" 65
rm -rf "$SPOOL"

# --- 4. over delivery_memory_limit: deferred, no copy left ---------------------------------
# The limit is what the agent uses while it waits for its message plus 40 MB;
# a 90 MB message needs more than that just to be read.
if [ -z "$asan" ]; then
    write_config "$T/mem.conf" "delivery_memory_limit = 0" "max_message_size = 200000000"
    vm=
    if waiting_agent "$T/mem.conf"; then
        vm=$(awk '/^VmSize/ {print $2}' "/proc/$waiter/status")
    fi
    stop_agent
    rm -rf "$SPOOL"
    write_config "$T/mem.conf" "delivery_memory_limit = $(( (vm + 40000) * 1024 ))" \
        "max_message_size = 200000000"
    { printf 'From: bob@example.org\nTo: %s\nSubject: oom\nMessage-ID: <oom@example.org>\n\n' "$ADDR"
      head -c 90000000 /dev/zero | tr '\0' a; } |
        "$DELIVER" --config "$T/mem.conf" -q QOOM -f bob@example.org -r "$ADDR" >"$T/out" 2>&1
    rc=${PIPESTATUS[1]}
    tap_is "over delivery_memory_limit (${vm} KB + 40 MB): exit 75" "$rc" 75
    tap_like "over delivery_memory_limit: first line" "$(head -1 "$T/out")" '^4\.3\.0 out of memory'
    tap_is "over delivery_memory_limit: no copy left in the spool" \
        "$(find "$SPOOL" -type f 2>/dev/null | wc -l)" 0
fi
tap_done
