#!/bin/bash
# run.sh - the milter suite: replygate-milter driven by miltertest Lua scripts.
#
#   run.sh MILTER_BINARY
#
# It writes a configuration and a secrets file (mode 0600) into a temporary
# folder, signs reply addresses with `openssl dgst -sha256 -hmac` (a known
# answer independent of the library), starts the milter in the foreground on
# a unix socket there, and runs each Lua script with the addresses in its
# environment: one TAP line per script. A script's "-- log: TEXT" lines must
# each appear (as fixed text) among the mail.log lines the milter wrote while
# it ran; "-- nolog" means it wrote no decision at all. Then SIGHUP (a good
# configuration, new secrets, a broken configuration), SIGTERM, the daemon
# with its pid file, -u, and start-up failures. Every milter it starts is
# stopped on exit. RG_TEST_KEEP=1 keeps the folder (logs) for a look.
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
MILTER=$1
command -v miltertest >/dev/null || tap_bail "miltertest is not installed (scripts/deps installs it)"

dir=$(mktemp -d /tmp/rg-milter.XXXXXX)
chmod 755 "$dir"
pids=()
MT_RUNNER=()
STARTER=() # a command start_milter runs the milter through (setpriv ... --)
# cleanup - stop every milter this suite started, then remove the folder
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    if [ -n "${RG_TEST_KEEP:-}" ]; then echo "# kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

secret1='milter-test-secret-one-0123456789abcdef'
secret2='milter-test-secret-two-0123456789abcdef'
printf '# test secrets\n%s\n' "$secret1" >"$dir/secrets"
mkdir -p "$dir/spool"
chmod 600 "$dir/secrets"

# mac - the first 40 hex digits of HMAC-SHA256(secret, text)
mac() { printf %s "$2" | openssl dgst -sha256 -hmac "$1" | sed 's/.*= //' | cut -c1-40; }
mac1=$(mac "$secret1" i-1-5)
export KEY_ADDR="reply+i-1-$mac1-5@reply.example.com"
# The same address with the mac's first digit changed.
first=${mac1:0:1}
[ "$first" = 0 ] && other=1 || other=0
export KEY_TAMPERED="reply+i-1-$other${mac1:1}-5@reply.example.com"
# The unique Message-ID form of SPEC section 3 item 9, and one with a '+' in its suffix.
export KEY_UNIQUE="reply+i-1-$mac1-5.20261206T120000Z.8f3a@reply.example.com"
export KEY_UNIQUE_BAD="reply+i-1-$mac1-5.a+b@reply.example.com"
# trace_headers SECRET - export TLS_HEADER_TLSv1_2 and _3: the signed X-Replygate-TLS
# values (lib/trace.h) that the milter must add for queue id 4F2A21041E3 (lib.lua's
# QUEUE_ID) and lib.lua's cipher and bits, when SECRET signs
trace_headers() {
    local v m
    for v in TLSv1.2 TLSv1.3; do
        m=$(printf 'X-Replygate-TLS\0%s\0%s\0%s\0%s' 4F2A21041E3 "$v" TLS_AES_256_GCM_SHA384 256 |
            openssl dgst -sha256 -hmac "$1" | sed 's/.*= //' | cut -c1-40)
        export "TLS_HEADER_${v//./_}=version=$v; cipher=TLS_AES_256_GCM_SHA384; bits=256; queue=4F2A21041E3; mac=$m"
    done
}
trace_headers "$secret1"
KEY2_ADDR="reply+p-42-$(mac "$secret2" p-42-7)-7@reply.example.com"
export DEDICATED="reply@reply.example.com"
export STATIC="support@reply.example.com"
export NOREPLY="noreply@reply.example.com"
export MT_LIB="$here/lib.lua"

# write_conf FILE SOCKET [LINE...] - a configuration with extra lines
write_conf() {
    local file=$1 socket=$2
    shift 2
    {
        echo "reply_domain = reply.example.com, reply.example.net"
        echo "secrets_file = $dir/secrets"
        echo "require_tls = yes"
        echo "tls_min_version = TLSv1.2"
        echo "noreply_address = $NOREPLY"
        echo "static_address = $STATIC s 7"
        echo "milter_socket = unix:$socket"
        echo "authserv_id = mx.example.com"
        echo "spool_directory = $dir/spool"
        # No database in this suite: refusal rows are dropped (refusals.sh has one).
        echo "database = host=$dir/no-database dbname=replygate connect_timeout=1"
        printf '%s\n' "$@"
    } >"$file"
}

# start_milter NAME CONF [ARGS...] - start a milter with -f; sets $pid, log in $dir/NAME.log.
# Ready means its "started" line: the socket appears before privileges are dropped.
start_milter() {
    local name=$1 conf=$2 socket
    shift 2
    socket=$(sed -n 's/^milter_socket = unix://p' "$conf")
    "${STARTER[@]}" "$MILTER" --config "$conf" -f "$@" >"$dir/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
        [ -S "$socket" ] && grep -q '^started ' "$dir/$name.log" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# wait_log LOG TEXT - wait up to 10 s for TEXT (fixed) in LOG
wait_log() {
    for _ in $(seq 100); do
        grep -qF -- "$2" "$1" && return 0
        sleep 0.1
    done
    return 1
}

# wait_gone PID - wait up to 15 s for a process to end; its status in $status
wait_gone() {
    for _ in $(seq 150); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then status=timeout; return 1; fi
    wait "$1" 2>/dev/null
    status=$?
    return 0
}

# expand - put the test addresses into a "-- log:" line
expand() {
    local text=$1
    text=${text//@KEY_TAMPERED@/$KEY_TAMPERED}
    text=${text//@KEY@/$KEY_ADDR}
    text=${text//@KEY_UNIQUE_BAD@/$KEY_UNIQUE_BAD}
    text=${text//@NOREPLY@/$NOREPLY}
    printf '%s' "$text"
}

# run_script LABEL LOG SOCKET SCRIPT [VAR=VALUE...] [-- LOGTEXT...] - one TAP line
run_script() {
    local label=$1 log=$2 socket=$3 script=$4 before out rc new line problems=()
    local -a envs=() wants=()
    shift 4
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    # Addresses overridden for this script are the ones its "-- log:" lines mean.
    local e KEY_ADDR=$KEY_ADDR KEY_TAMPERED=$KEY_TAMPERED
    for e in "${envs[@]}"; do
        case $e in
        KEY_ADDR=*) KEY_ADDR=${e#*=} ;;
        KEY_TAMPERED=*) KEY_TAMPERED=${e#*=} ;;
        esac
    done
    [ $# -gt 0 ] && shift
    wants=("$@")
    while IFS= read -r line; do wants+=("$(expand "$line")"); done \
        < <(sed -n 's/^-- log: //p' "$here/$script")
    before=$(wc -l <"$log")
    # MT_RUNNER (an array) runs miltertest as another user, e.g. setpriv ... --
    # MT_DIR: where another user reads the scripts (a fresh root's /root is 0700)
    out=$(env MILTER_SOCKET="unix:$socket" MT_LIB="${MT_DIR:-$here}/lib.lua" "${envs[@]}" \
        "${MT_RUNNER[@]}" miltertest -s "${MT_DIR:-$here}/$script" 2>&1)
    rc=$?
    new=$(tail -n +"$((before + 1))" "$log")
    [ "$rc" -eq 0 ] || problems+=("miltertest exit $rc: $out")
    for line in "${wants[@]}"; do
        printf '%s\n' "$new" | grep -qF -- "$line" || problems+=("missing log line: $line")
    done
    if grep -q '^-- nolog' "$here/$script" &&
        printf '%s\n' "$new" | grep -Eq ': (reject|discard|strip): '; then
        problems+=("unexpected decision logged")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        tap_ok "$label"
    else
        tap_not_ok "$label" "${problems[@]}" "log lines written meanwhile:" "$new"
    fi
}

# --- the decisions, one script each ----------------------------------------
write_conf "$dir/main.conf" "$dir/milter.sock"
start_milter main "$dir/main.conf" || tap_bail "the milter did not start: $(cat "$dir/main.log")"
main_pid=$pid
main_log=$dir/main.log
export MILTER_PID=$main_pid
M=("$main_log" "$dir/milter.sock")

run_script "no STARTTLS: 530 5.7.0 at RCPT" "${M[@]}" tls-none.lua
run_script "client without a name logged as unknown[addr]; IPv6" "${M[@]}" unknown-host.lua
run_script "TLSv1, TLSv1.1, SSLv3, unknown, tls_min_version TLSv1.2: 530 5.7.0" "${M[@]}" tls-old.lua
run_script "TLSv1.2 and TLSv1.3 accepted" "${M[@]}" tls-min.lua
run_script "{tls_version} from the MAIL FROM macros" "${M[@]}" tls-at-mail.lua
run_script "valid key accepted, X-Replygate-TLS added" "${M[@]}" key-valid.lua
run_script "tampered key: 550 5.1.1 at RCPT" "${M[@]}" key-tampered.lua
run_script "upper-cased key accepted" "${M[@]}" key-upper.lua
run_script "unique Message-ID form of a key accepted; bad suffix 550 5.1.1" "${M[@]}" key-unique.lua
run_script "every one-character change of the key refused with 550 5.1.1" "${M[@]}" mutations.lua
run_script "malformed and unknown local parts: 550 5.1.1, hostile text escaped" "${M[@]}" \
    key-malformed.lua
run_script "a 900-byte address: 550 5.1.1 all the same" "${M[@]}" long-address.lua
run_script "dedicated address accepted" "${M[@]}" dedicated.lua
run_script "dedicated address, key only in References: accepted and kept" "${M[@]}" \
    dedicated-references.lua
run_script "dedicated address, unique form in a quoted References: accepted and kept" \
    "${M[@]}" dedicated-unique-references.lua
run_script "dedicated address, no key in the message: 550 5.1.1 after the headers" "${M[@]}" \
    dedicated-keyless.lua
run_script "dedicated address without a key beside a key or a foreign recipient: removed" \
    "${M[@]}" dedicated-mixed.lua
run_script "dedicated address without a key beside the no-reply address: discarded" "${M[@]}" \
    dedicated-noreply.lua
run_script "static address accepted" "${M[@]}" static.lua
run_script "foreign domain untouched (no TLS, auto-submitted, forged header)" "${M[@]}" foreign.lua
run_script "auto-submitted beside another domain (shared MX): only our recipients removed" \
    "${M[@]}" autosubmit-shared.lua
run_script "no-reply only: discarded at end of message" "${M[@]}" noreply-discard.lua
run_script "no-reply beside a key: recipient removed" "${M[@]}" noreply-mixed.lua
run_script "forged X-Replygate-* headers deleted, the real one added" "${M[@]}" forged-header.lua
run_script "no queue id {i} at end of message: no X-Replygate-TLS added, a warning" "${M[@]}" \
    no-queue-id.lua
run_script "non-SMTP submission (no {rcpt_mailer}, {rcpt_host}): nothing refused, forged header gone" \
    "${M[@]}" nonsmtp.lua
run_script "1,000 RCPTs of one address folded; past 20 distinct of ours 452 4.5.3" "${M[@]}" \
    recipients.lua
run_script "Authentication-Results claiming authserv_id deleted wherever they stand; others kept" \
    "${M[@]}" authres.lua

# --- bounded work per message, with the CPU it cost -------------------------
# cpu_ticks PID - user + system CPU of a process so far, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# bounded LABEL VAR=VALUE... - one bounded.lua message; prints the milter's CPU
bounded() {
    local label=$1 t0 t1 hz
    shift
    hz=$(getconf CLK_TCK)
    t0=$(cpu_ticks "$main_pid")
    run_script "$label: answered, the padded forged headers still deleted" "${M[@]}" bounded.lua \
        "$@" -- "4F2A21041E3: strip: END-OF-MESSAGE"
    t1=$(cpu_ticks "$main_pid")
    # A figure, not an assertion: the milter's CPU for the whole message.
    echo "# milter CPU for $label: $(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}') s;" \
        "peak memory of the process so far: $(awk '/^VmHWM/ {print $2, $3}' "/proc/$main_pid/status")"
}
bounded "1,000 RCPTs of reply@ and 1,200,000 small headers (10.8 MB on the wire)" BOUND_RCPTS=1000 \
    BOUND_HEADERS=1200000
bounded "80,000 distinct X-Replygate-* names" BOUND_NAMES=80000
if grep -qF "4F2A21041E3: strip: END-OF-MESSAGE from mail.example.org[192.0.2.10]: 80001 inbound X-Replygate-* header(s) removed" "$main_log"; then
    tap_ok "80,000 distinct X-Replygate-* names: all 80,001 deleted, counted in the log line"
else
    tap_not_ok "80,000 distinct X-Replygate-* names: all 80,001 deleted, counted in the log line" \
        "$(grep 'strip:' "$main_log" | tail -2)"
fi

# Every auto-submitted rule of SPEC section 4 and its negatives:
# label | header name | value | envelope sender | want | reason
while IFS='|' read -r label name value sender want reason; do
    [ -n "$label" ] || continue
    logs=()
    if [ "$want" = reject ]; then
        logs=("4F2A21041E3: reject: END-OF-MESSAGE from mail.example.org[192.0.2.10]: 550 5.7.1 Auto-submitted message refused ($reason); from=<${sender#<}")
        logs[0]="${logs[0]%>}"
        logs[0]="${logs[0]}> to=<$KEY_ADDR>"
    fi
    run_script "auto-submitted: $label -> $want" "${M[@]}" autosubmit.lua \
        AS_NAME="$name" AS_VALUE="$value" AS_SENDER="$sender" AS_WANT="$want" -- "${logs[@]}"
done <<'EOT'
Auto-Submitted: auto-replied|Auto-Submitted|auto-replied|<bob@example.org>|reject|Auto-Submitted: auto-replied
Auto-Submitted: auto-generated (comment)|auto-submitted|Auto-Generated (by a robot)|<bob@example.org>|reject|Auto-Submitted: Auto-Generated
Auto-Submitted: no|Auto-Submitted|no|<bob@example.org>|pass|
Auto-Submitted: No (by hand)|Auto-Submitted|No (by hand)|<bob@example.org>|pass|
X-Autoreply: yes|X-Autoreply|yes|<bob@example.org>|reject|X-Autoreply: yes
X-Autoreply: no|X-Autoreply|no|<bob@example.org>|pass|
X-Autorespond present|X-Autorespond|vacation|<bob@example.org>|reject|X-Autorespond: vacation
X-FC-Machinegenerated: true|X-FC-Machinegenerated|true|<bob@example.org>|reject|X-FC-Machinegenerated: true
Precedence: bulk|Precedence|bulk|<bob@example.org>|reject|Precedence: bulk
Precedence: junk|Precedence|junk|<bob@example.org>|reject|Precedence: junk
Precedence: list|Precedence|LIST|<bob@example.org>|reject|Precedence: list
Precedence: auto_reply|Precedence|auto_reply|<bob@example.org>|reject|Precedence: auto_reply
X-Precedence: bulk|X-Precedence|bulk|<bob@example.org>|reject|X-Precedence: bulk
Precedence: first-class|Precedence|first-class|<bob@example.org>|pass|
null sender <>|||<>|reject|null envelope sender (a bounce or DSN)
sender MAILER-DAEMON|||<MAILER-DAEMON@example.org>|reject|envelope sender is MAILER-DAEMON
sender postmaster|||<postmaster@example.org>|reject|envelope sender is postmaster
a person|||<bob@example.org>|pass|
EOT

# --- rate limits, and Authentication-Results left to a verifier first --------
write_conf "$dir/rate.conf" "$dir/rate.sock" "rate_limit_per_key = 5" \
    "rate_limit_per_sender = 8" "milter_remove_authentication_results = no"
if start_milter rate "$dir/rate.conf"; then
    run_script "milter_remove_authentication_results = no: none deleted" "$dir/rate.log" \
        "$dir/rate.sock" authres-keep.lua
    run_script "rate limits: 5 to a key pass, 5 get 450 4.7.1; the sender's 9th 450 4.7.1" \
        "$dir/rate.log" "$dir/rate.sock" ratelimit.lua
    kill -TERM "$pid"
else
    tap_not_ok "rate limits: the milter starts" "$(cat "$dir/rate.log")"
fi

# --- decision counters --------------------------------------------------------
# prom_value FILE RESULT - a counter's value in the milter's metrics file
prom_value() {
    sed -n "s/^replygate_milter_decisions_total{result=\"$2\"} //p" "$1" 2>/dev/null
}
# counters_are FILE "result=n ..." - wait up to 15 s (written every 5 s) for these values
counters_are() {
    local file=$1 want=$2 got pair
    for _ in $(seq 150); do
        got=
        for pair in $want; do got+="${pair%%=*}=$(prom_value "$file" "${pair%%=*}") "; done
        [ "$got" = "$want " ] && return 0
        sleep 0.1
    done
    printf '%s\n' "$got"
    return 1
}
mkdir -p "$dir/count-spool"
write_conf "$dir/count.conf" "$dir/count.sock" "spool_directory = $dir/count-spool"
prom=$dir/count-spool/metrics/milter.prom
results="accept fold non_smtp reject_tls reject_key defer_recipients defer_rate_key defer_rate_sender reject_auto_submitted discard_auto_submitted remove_auto_submitted reject_keyless remove_keyless discard_noreply remove_noreply strip_headers tempfail"
# want_counts N - every result's expected value after counted.lua ran N times
want_counts() {
    local r n out=
    for r in $results; do
        case $r in
        accept) n=7 ;;
        fold | reject_key | reject_tls | strip_headers | reject_keyless | discard_noreply | \
            remove_noreply | reject_auto_submitted | remove_auto_submitted | non_smtp) n=1 ;;
        *) n=0 ;;
        esac
        out+="$r=$((n * $1)) "
    done
    printf '%s' "${out% }"
}
if start_milter count "$dir/count.conf"; then
    count_pid=$pid
    if got=$(counters_are "$prom" "$(want_counts 0)"); then
        tap_ok "counters: milter.prom lists every result at 0 after the start"
    else
        tap_not_ok "counters: milter.prom lists every result at 0 after the start" "got: $got"
    fi
    for round in 1 2; do
        run_script "counters: a known set of decisions, round $round" "$dir/count.log" \
            "$dir/count.sock" counted.lua
        if got=$(counters_are "$prom" "$(want_counts "$round")"); then
            tap_ok "counters move by exactly the decisions made (round $round)"
        else
            tap_not_ok "counters move by exactly the decisions made (round $round)" \
                "want: $(want_counts "$round")" "got:  $got"
        fi
    done
    tap_is "counters: milter.prom is mode 0644" "$(stat -c %a "$prom")" 644
    kill -TERM "$count_pid"
    wait_gone "$count_pid"
    tap_is "counters: written once more at exit, unchanged" \
        "$(prom_value "$prom" accept) $(prom_value "$prom" reject_tls)" "14 2"
else
    tap_not_ok "counters: the milter starts" "$(cat "$dir/count.log")"
fi

# --- SIGHUP -----------------------------------------------------------------
# reload_main CONF - copy CONF over the running configuration and send SIGHUP
reload_main() {
    [ "$1" = "$dir/main.conf" ] || cp "$1" "$dir/main.conf"
    kill -HUP "$main_pid"
}

write_conf "$dir/discard.conf" "$dir/milter.sock" "auto_submitted_action = discard"
before=$(grep -c 'configuration reloaded' "$main_log")
reload_main "$dir/discard.conf"
for _ in $(seq 100); do
    [ "$(grep -c 'configuration reloaded' "$main_log")" -gt "$before" ] && break
    sleep 0.1
done
run_script "SIGHUP: auto_submitted_action = discard takes effect" "${M[@]}" autosubmit.lua \
    AS_NAME=Auto-Submitted AS_VALUE=auto-replied AS_SENDER="<bob@example.org>" AS_WANT=discard \
    -- "4F2A21041E3: discard: END-OF-MESSAGE from mail.example.org[192.0.2.10]: Auto-submitted message discarded (Auto-Submitted: auto-replied); from=<bob@example.org> to=<$KEY_ADDR>"

# New secrets: the second secret signs, the first still verifies (rotation).
run_script "before the new secrets, their address is refused" "${M[@]}" key-tampered.lua \
    KEY_TAMPERED="$KEY2_ADDR"
printf '%s\n%s\n' "$secret2" "$secret1" >"$dir/secrets.new"
chmod 600 "$dir/secrets.new"
mv "$dir/secrets.new" "$dir/secrets"
before=$(grep -c 'configuration reloaded' "$main_log")
reload_main "$dir/main.conf"
trace_headers "$secret2"
for _ in $(seq 100); do
    [ "$(grep -c 'configuration reloaded' "$main_log")" -gt "$before" ] && break
    sleep 0.1
done
run_script "SIGHUP: secrets reloaded, the new secret's address accepted" "${M[@]}" key-valid.lua \
    KEY_ADDR="$KEY2_ADDR"
run_script "SIGHUP: the old secret's address still accepted" "${M[@]}" key-valid.lua
run_script "SIGHUP in the middle of a transaction drops nothing" "${M[@]}" reload-midconn.lua

# A broken configuration keeps the old one and says why.
printf 'reply_domain = reply.example.com\nreply_domian = typo.example.com\n' >"$dir/broken.conf"
reload_main "$dir/broken.conf"
if wait_log "$main_log" "reload failed, keeping the previous configuration: $dir/main.conf:2: unknown name \"reply_domian\""; then
    tap_ok "SIGHUP with a broken configuration: logged with file, line and name"
else
    tap_not_ok "SIGHUP with a broken configuration: logged with file, line and name" \
        "got: $(tail -3 "$main_log")"
fi
tap_check "SIGHUP with a broken configuration: still running" kill -0 "$main_pid"
run_script "SIGHUP with a broken configuration: the old one still decides" "${M[@]}" key-tampered.lua
write_conf "$dir/main.conf" "$dir/milter.sock"
chmod 644 "$dir/secrets"
kill -HUP "$main_pid"
if wait_log "$main_log" "$dir/secrets has mode 0644"; then
    tap_ok "SIGHUP with secrets readable by others: refused, naming file and mode"
else
    tap_not_ok "SIGHUP with secrets readable by others: refused, naming file and mode" \
        "got: $(tail -3 "$main_log")"
fi
chmod 600 "$dir/secrets"
run_script "SIGHUP with unsafe secrets: the old ones still decide" "${M[@]}" key-valid.lua \
    KEY_ADDR="$KEY2_ADDR"

# Eight clients at once while SIGHUP arrives every 10 ms: libmilter's own
# signal thread would stop the milter on a SIGHUP it caught (see main.c).
storm_pids=()
for n in $(seq 8); do
    MILTER_SOCKET="unix:$dir/milter.sock" STORM_ROUNDS=1000 \
        miltertest -s "$here/storm.lua" >"$dir/storm.$n" 2>&1 &
    storm_pids+=("$!")
done
hups=0
while kill -0 "${storm_pids[0]}" 2>/dev/null && [ "$hups" -lt 2000 ]; do
    kill -HUP "$main_pid"
    hups=$((hups + 1))
    sleep 0.01
done
storm_failed=()
for n in $(seq 8); do
    wait "${storm_pids[$((n - 1))]}" || storm_failed+=("client $n: $(tail -2 "$dir/storm.$n")")
done
if [ ${#storm_failed[@]} -eq 0 ] && kill -0 "$main_pid" 2>/dev/null; then
    tap_ok "8 concurrent clients x 1000 transactions through $hups SIGHUPs: all right"
else
    tap_not_ok "8 concurrent clients x 1000 transactions through $hups SIGHUPs: all right" \
        "${storm_failed[@]}" "milter alive: $(kill -0 "$main_pid" 2>/dev/null && echo yes || echo no)" \
        "$(tail -5 "$main_log")"
fi

# --- rotation without SIGHUP --------------------------------------------------
# replygate.conf(5)'s two-phase rotation, followed exactly, with no signal:
# the new secret is added below the signing one (verify-only), then put first.
# The milter notices the changed files by itself: a key that does not verify
# makes it look at once, and it looks every second anyway.
rot=$dir/rot
mkdir -p "$rot"
printf '%s\n' "$secret1" >"$rot/secrets"
chmod 600 "$rot/secrets"
write_conf "$rot/rot.conf" "$rot/rot.sock" "secrets_file = $rot/secrets"
if start_milter rot "$rot/rot.conf"; then
    rot_pid=$pid
    trace_headers "$secret1"
    run_script "rotation: before, the new secret's address is refused" "$dir/rot.log" \
        "$rot/rot.sock" key-tampered.lua KEY_TAMPERED="$KEY2_ADDR"
    # Phase 1 (every MX host, then the application): verify-only, below the signing one.
    (umask 077 && printf '%s\n' "$secret2" >"$rot/secrets.new")
    cat "$rot/secrets" "$rot/secrets.new" >"$rot/secrets.tmp"
    chmod 600 "$rot/secrets.tmp"
    mv "$rot/secrets.tmp" "$rot/secrets"
    run_script "rotation phase 1, at once, no SIGHUP: the new secret's address accepted" \
        "$dir/rot.log" "$rot/rot.sock" key-valid.lua KEY_ADDR="$KEY2_ADDR"
    run_script "rotation phase 1: the old secret's address still accepted" "$dir/rot.log" \
        "$rot/rot.sock" key-valid.lua
    # Phase 2: the new secret signs (first line); the old one still verifies.
    before=$(grep -c 'reloaded.*changed on disk' "$dir/rot.log")
    cat "$rot/secrets.new" "$rot/secrets" | awk '!seen[$0]++' >"$rot/secrets.tmp"
    chmod 600 "$rot/secrets.tmp"
    mv "$rot/secrets.tmp" "$rot/secrets"
    for _ in $(seq 50); do
        [ "$(grep -c 'reloaded.*changed on disk' "$dir/rot.log")" -gt "$before" ] && break
        sleep 0.1
    done
    trace_headers "$secret2"
    run_script "rotation phase 2 (seen within a second): the trace header signed with the new secret" \
        "$dir/rot.log" "$rot/rot.sock" key-valid.lua KEY_ADDR="$KEY2_ADDR"
    run_script "rotation phase 2: the old secret's address still accepted" "$dir/rot.log" \
        "$rot/rot.sock" key-valid.lua
    # The configuration too: discard instead of reject, no signal.
    before=$(grep -c 'reloaded.*changed on disk' "$dir/rot.log")
    write_conf "$rot/rot.conf" "$rot/rot.sock" "secrets_file = $rot/secrets" \
        "auto_submitted_action = discard"
    for _ in $(seq 50); do
        [ "$(grep -c 'reloaded.*changed on disk' "$dir/rot.log")" -gt "$before" ] && break
        sleep 0.1
    done
    run_script "a changed configuration is picked up within a second without SIGHUP" \
        "$dir/rot.log" "$rot/rot.sock" autosubmit.lua AS_NAME=Precedence AS_VALUE=bulk \
        AS_SENDER="<bob@example.org>" AS_WANT=discard
    tap_is "rotation: no SIGHUP was involved" "$(grep -c '(SIGHUP)' "$dir/rot.log")" 0
    kill -TERM "$rot_pid"
    trace_headers "$secret2"
else
    tap_not_ok "rotation: the milter starts" "$(cat "$dir/rot.log")"
fi

# --- SIGTERM ----------------------------------------------------------------
t0=$(date +%s%N)
kill -TERM "$main_pid"
wait_gone "$main_pid"
ms=$((($(date +%s%N) - t0) / 1000000))
tap_is "SIGTERM: exits 0" "$status" 0
# libmilter's accept loop would notice smfi_stop() only after its poll timeout (5 s).
if [ "$ms" -lt 2000 ]; then tap_ok "SIGTERM: gone in ${ms} ms"; else tap_not_ok "SIGTERM: gone in ${ms} ms" "want under 2000 ms"; fi
tap_check "SIGTERM: socket file removed" test ! -e "$dir/milter.sock"
tap_check "SIGTERM: logged" grep -qF "stopped" "$main_log"

# --- require_tls = no -------------------------------------------------------
write_conf "$dir/notls.conf" "$dir/notls.sock" "require_tls = no"
if start_milter notls "$dir/notls.conf"; then
    run_script "require_tls = no: plain text accepted, nothing added, forged header gone" \
        "$dir/notls.log" "$dir/notls.sock" notls-allowed.lua
    kill -TERM "$pid"
else
    tap_not_ok "require_tls = no: the milter starts" "$(cat "$dir/notls.log")"
fi

# --- the daemon and its pid file, with -p ----------------------------------
# Relative paths on purpose: the daemon works in / and must still find them.
(cd "$dir" && exec "$MILTER" --config main.conf -p unix:daemon.sock -P milter.pid) \
    >"$dir/daemon.out" 2>&1
rc=$?
tap_is "without -f: the starting process exits 0" "$rc" 0
for _ in $(seq 100); do [ -s "$dir/milter.pid" ] && [ -S "$dir/daemon.sock" ] && break; sleep 0.1; done
dpid=$(cat "$dir/milter.pid" 2>/dev/null)
if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
    pids+=("$dpid")
    tap_ok "without -f: the pid file names a running daemon"
    tap_check "without -f: the daemon is in a session of its own" \
        test "$(ps -o sid= -p "$dpid" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')"
    : >"$dir/daemon.log"
    run_script "the daemon decides on the -p socket" "$dir/daemon.log" "$dir/daemon.sock" \
        key-valid.lua
    # SIGHUP re-reads the relative --config: discard instead of reject now.
    write_conf "$dir/main.conf" "$dir/milter.sock" "auto_submitted_action = discard"
    kill -HUP "$dpid"
    sleep 1
    run_script "the daemon reloads its relative --config on SIGHUP" "$dir/daemon.log" \
        "$dir/daemon.sock" autosubmit.lua AS_NAME=Precedence AS_VALUE=bulk \
        AS_SENDER="<bob@example.org>" AS_WANT=discard
    kill -TERM "$dpid"
    for _ in $(seq 150); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$dpid" 2>/dev/null; then
        tap_not_ok "the daemon ends on SIGTERM, removes its pid file and socket" "still running"
    else
        tap_check "the daemon ends on SIGTERM, removes its pid file and socket" \
            test ! -e "$dir/milter.pid" -a ! -e "$dir/daemon.sock"
    fi
else
    tap_not_ok "without -f: the pid file names a running daemon" "pid file: '$dpid'" \
        "$(cat "$dir/daemon.out")"
fi

# --- -u: privileges dropped once the socket is open ------------------------
write_conf "$dir/user.conf" "$dir/user.sock"
if [ "$(id -u)" -eq 0 ]; then
    if start_milter user "$dir/user.conf" -u nobody; then
        tap_is "-u nobody: runs as nobody" \
            "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")" \
            "$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)"
        tap_is "-u nobody: the socket belongs to nobody" "$(stat -c %U "$dir/user.sock")" nobody
        run_script "-u nobody: decides" "$dir/user.log" "$dir/user.sock" tls-none.lua
        kill -TERM "$pid"
    else
        tap_not_ok "-u nobody: starts" "$(cat "$dir/user.log")"
    fi
else
    out=$("$MILTER" --config "$dir/user.conf" -f -u root 2>&1)
    rc=$?
    tap_like "-u root without being root: refused" "$rc:$out" '^75:.*cannot become root'
fi

# --- the socket: mode and group whatever the umask, no link followed --------
# socket_is PATH - "mode owner group" of a socket
socket_is() { stat -c '%a %U %G' "$1" 2>&1; }
if [ "$(id -u)" -eq 0 ] && getent group postfix >/dev/null && id postfix >/dev/null 2>&1; then
    getent group replygate >/dev/null || groupadd --system replygate
    getent passwd replygate >/dev/null ||
        useradd --system --gid replygate --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin replygate
    AS_POSTFIX=(setpriv --reuid=postfix --regid=postfix --init-groups --)
    # Copies of the scripts user postfix can read, wherever the tree lives.
    mkdir -p "$dir/lua"
    cp "$here"/*.lua "$dir/lua/"
    chmod 755 "$dir/lua"
    chmod 644 "$dir"/lua/*.lua
    # Secrets the milter may read once it runs as replygate.
    cp "$dir/secrets" "$dir/sock-secrets"
    chown root:replygate "$dir/sock-secrets"
    chmod 640 "$dir/sock-secrets"
    # From a root shell with umask 022, -u replygate, in a folder that is not setgid.
    mkdir -p "$dir/sock-u"
    chown replygate:root "$dir/sock-u"
    chmod 755 "$dir/sock-u"
    write_conf "$dir/sock-u.conf" "$dir/sock-u/milter.sock" "secrets_file = $dir/sock-secrets"
    umask_before=$(umask)
    umask 022
    started=no
    start_milter sock-u "$dir/sock-u.conf" -u replygate && started=yes
    umask "$umask_before"
    if [ "$started" = yes ]; then
        tap_is "-u replygate from root with umask 022: socket 0660 replygate:postfix" \
            "$(socket_is "$dir/sock-u/milter.sock")" "660 replygate postfix"
        MT_RUNNER=("${AS_POSTFIX[@]}") MT_DIR=$dir/lua
        run_script "-u replygate from root with umask 022: user postfix connects and is answered" \
            "$dir/sock-u.log" "$dir/sock-u/milter.sock" tls-none.lua
        MT_RUNNER=() MT_DIR=
        kill -TERM "$pid"
        wait_gone "$pid"
    else
        tap_not_ok "-u replygate from root with umask 022: starts" "$(cat "$dir/sock-u.log")"
    fi
    # By hand as replygate, umask 022, in the folder the install makes (setgid postfix).
    mkdir -p "$dir/sock-hand"
    chown replygate:postfix "$dir/sock-hand"
    chmod 2750 "$dir/sock-hand"
    write_conf "$dir/sock-hand.conf" "$dir/sock-hand/milter.sock" \
        "secrets_file = $dir/sock-secrets"
    umask 022
    started=no
    STARTER=(setpriv --reuid=replygate --regid=replygate --init-groups --)
    start_milter sock-hand "$dir/sock-hand.conf" && started=yes
    STARTER=()
    umask "$umask_before"
    if [ "$started" = yes ]; then
        tap_is "by hand as replygate with umask 022: socket 0660 replygate:postfix" \
            "$(socket_is "$dir/sock-hand/milter.sock")" "660 replygate postfix"
        MT_RUNNER=("${AS_POSTFIX[@]}") MT_DIR=$dir/lua
        run_script "by hand as replygate: user postfix connects and is answered" \
            "$dir/sock-hand.log" "$dir/sock-hand/milter.sock" tls-none.lua
        MT_RUNNER=() MT_DIR=
        kill -TERM "$pid"
        wait_gone "$pid"
    else
        tap_not_ok "by hand as replygate with umask 022: starts" "$(cat "$dir/sock-hand.log")"
    fi
    # As replygate where the group cannot be set: refused, saying what to do.
    chmod 755 "$dir/sock-u"
    chown replygate:replygate "$dir/sock-u"
    out=$(umask 022 && setpriv --reuid=replygate --regid=replygate --init-groups -- \
        "$MILTER" --config "$dir/sock-u.conf" -f 2>&1)
    rc=$?
    tap_like "as replygate in a folder not setgid postfix: refused (78), naming the fix" \
        "$rc:$out" "^78:.*cannot give $dir/sock-u/milter.sock to group postfix.*setgid postfix"

    # A link planted by the -u user, who may write the socket's folder, while
    # root starts the milter: the owner change must never follow it to the
    # target (root's file). The planter swaps a link in as fast as it can.
    mkdir -p "$dir/plant"
    chown replygate:replygate "$dir/plant"
    chmod 755 "$dir/plant"
    echo "root's file" >"$dir/plant-target"
    chmod 600 "$dir/plant-target"
    write_conf "$dir/plant.conf" "$dir/plant/milter.sock"
    # The planter reacts to the socket's creation (inotify), between bind()
    # and the owner change: against the code before this test, it won within
    # a few starts.
    setpriv --reuid=replygate --regid=replygate --init-groups -- /usr/bin/python3 \
        "$here/plant-link.py" "$dir/plant" "$dir/plant-target" &
    planter=$!
    pids+=("$planter")
    outcomes=()
    sleep 0.5
    for n in $(seq 40); do
        rm -f "$dir/plant/milter.sock"
        "$MILTER" --config "$dir/plant.conf" -f -u replygate >"$dir/plant.log" 2>&1 &
        p=$!
        for _ in $(seq 30); do
            grep -qE '^started |no longer the socket|cannot open milter socket' "$dir/plant.log" && break
            kill -0 "$p" 2>/dev/null || break
            sleep 0.05
        done
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
        if grep -q 'no longer the socket' "$dir/plant.log"; then outcomes+=(refused)
        elif grep -q '^started ' "$dir/plant.log"; then outcomes+=(started)
        else outcomes+=(bind-failed); fi
        [ "$(stat -c %U "$dir/plant-target")" = root ] || break
    done
    kill "$planter" 2>/dev/null
    wait "$planter" 2>/dev/null
    echo "# planted-link race, 40 starts: $(printf '%s\n' "${outcomes[@]}" | sort | uniq -c | tr '\n' ' ')"
    tap_is "a link planted in the socket folder: root's file never given away" \
        "$(stat -c '%U %a' "$dir/plant-target")" "root 600"
else
    echo "# socket tests skipped: they need root and the users postfix and replygate"
fi

# --- start-up failures ------------------------------------------------------
out=$("$MILTER" --config "$dir/broken.conf" -f 2>&1)
rc=$?
tap_like "broken configuration at start: exit 78 naming file, line and name" "$rc:$out" \
    "^78:.*broken.conf:2: unknown name \"reply_domian\""
chmod 644 "$dir/secrets"
out=$("$MILTER" --config "$dir/main.conf" -f 2>&1)
rc=$?
tap_like "secrets readable by others at start: exit 78 naming file and mode" "$rc:$out" \
    "^78:.*$dir/secrets has mode 0644"
chmod 600 "$dir/secrets"
out=$("$MILTER" --config "$dir/main.conf" -f -p "unix:$dir/no/such/folder/m.sock" 2>&1)
rc=$?
tap_like "socket in a missing folder: refused, naming it" "$rc:$out" "^78:.*$dir/no/such/folder"
out=$("$MILTER" --config "$dir/main.conf" -f -u no-such-user-rg 2>&1)
rc=$?
tap_like "unknown -u user: exit 67" "$rc:$out" '^67:.*no-such-user-rg'
out=$("$MILTER" --bogus 2>&1)
rc=$?
tap_like "unknown option: exit 64" "$rc:$out" '^64:.*bogus'
out=$("$MILTER" --version)
rc=$?
tap_like "--version" "$rc:$out" '^0:replygate-milter [0-9]+\.[0-9]+\.[0-9]+$'
out=$("$MILTER" --help)
rc=$?
tap_like "--help names -p, -f and -u" "$rc:$(echo $out)" '^0:.*-p, --socket.*-f, --foreground.*-u, --user'

tap_done
