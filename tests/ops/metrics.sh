#!/bin/bash
# metrics.sh - `replygate metrics` on the local stack (issue 18): messages
# sent through Postfix move each counter by exactly their number, and the
# numbers equal what the database and the spool hold:
#   3 replies stored           stored +3, spool success +3
#   the first one again        duplicates +1, stored +0
#   an empty reply             spool failure +1 (refused after the queue)
#   2 replies, database down   deferrals{reason="database"} +2, database_up 0
#   the database back          stored +2
#   a forged key at RCPT       the milter's reject_key decisions +1 (its milter.prom)
# and --write replaces metrics_textfile through a rename, mode 0644.
#
# usage: metrics.sh SOURCE_DIR BUILD_DIR
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
set -u
. "$(dirname "$0")/../lib/tap.sh"
src=$1 build=$2
dir=$(mktemp -d /tmp/rg-ops-metrics.XXXXXX)
STACK_SRC=$src
. "$src/scripts/lib/stack.sh"
cleanup() { stack_down "$dir" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT

stack_up "$dir" "$(pf_free_port)" "$build" >"$dir.up.log" 2>&1 ||
    { cat "$dir.up.log"; rm -f "$dir.up.log"; tap_bail "the stack did not come up"; }
rm -f "$dir.up.log"
scrape() { env -u PGUSER -u PGHOST -u PGDATABASE "$RG_BIN/replygate" metrics --config "$RG_CONFIG"; }
# value TEXT SERIES - the value of one series ("name" or "name{labels}")
value() { printf '%s\n' "$1" | awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }'; }
delta() { echo $(($(value "$2" "$3") - $(value "$1" "$3"))); }
addr=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 42 7)
# swaks replaces its own Message-Id only when given in its spelling: with
# "Message-ID" the message would carry two, the first new each time, and be
# another e-mail by SPEC section 8's fingerprint.
send() { # MESSAGE-ID [swaks args]
    local mid=$1
    shift
    swaks --server "127.0.0.1:$RG_PORT" --tls --from bob@example.org --to "$addr" \
        --header "Message-Id: <$mid>" --header "Date: Sun, 22 Nov 2026 13:05:45 +0000" \
        --header "Subject: Re: metrics" "$@" </dev/null >>"$dir/swaks.log" 2>&1
}
count_log() { grep -cE -- "$1" "$dir/mail.log"; }
wait_log_count() { # ERE N
    for _ in $(seq 300); do [ "$(count_log "$1")" -ge "$2" ] && return 0; sleep 0.1; done
    return 1
}

m0=$(scrape); rc=$?
tap_is "metrics: exit 0" "$rc" 0
printf '%s\n' "$m0" | sed 's/^/#   /'
for name in replygate_replies_stored_total replygate_duplicates_total \
    'replygate_deferrals_total{reason="database"}' 'replygate_spool_files{folder="success"}' \
    'replygate_spool_bytes{folder="failure"}' replygate_database_up; do
    tap_like "metrics: $name present" "$(value "$m0" "$name")" '^[0-9]+$'
done
tap_is "database up" "$(value "$m0" replygate_database_up)" 1
tap_like "every line is a comment or a sample" \
    "$(printf '%s\n' "$m0" | grep -vcE '^(# (HELP|TYPE) replygate_[a-z_]+ .+|replygate_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+)$')" '^0$'

# --- 3 replies stored --------------------------------------------------------
for i in 1 2 3; do send "metrics-$i@example.org" --body "Reply number $i."; done
wait_log_count 'replygate/deliver.*status=stored' 3 || tap_not_ok "3 stored in mail.log"
m1=$(scrape)
tap_is "3 sent: stored +3" "$(delta "$m0" "$m1" replygate_replies_stored_total)" 3
tap_is "3 sent: spool success +3" "$(delta "$m0" "$m1" 'replygate_spool_files{folder="success"}')" 3
tap_is "3 sent: duplicates +0" "$(delta "$m0" "$m1" replygate_duplicates_total)" 0
tap_is "stored equals the database's count" "$(value "$m1" replygate_replies_stored_total)" \
    "$(pg_value 'SELECT count(*) FROM replygate.messages')"
tap_is "spool bytes equal du's count of success/" "$(value "$m1" 'replygate_spool_bytes{folder="success"}')" \
    "$(find "$dir/spool/success" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"

# --- the first one again: a duplicate ----------------------------------------
send "metrics-1@example.org" --body "Reply number 1."
wait_log_count 'replygate/deliver.*status=duplicate' 1 || tap_not_ok "duplicate in mail.log"
m2=$(scrape)
tap_is "the same reply again: duplicates +1" "$(delta "$m1" "$m2" replygate_duplicates_total)" 1
tap_is "the same reply again: stored +0" "$(delta "$m1" "$m2" replygate_replies_stored_total)" 0

# --- an empty reply: refused after the queue -----------------------------------
send "metrics-empty@example.org" --body " " </dev/null
wait_log_count 'replygate/deliver.*metrics-empty.*status=rejected' 1 || tap_not_ok "empty reply rejected in mail.log"
m3=$(scrape)
tap_is "an empty reply: spool failure +1" "$(delta "$m2" "$m3" 'replygate_spool_files{folder="failure"}')" 1
tap_is "  stored +0" "$(delta "$m2" "$m3" replygate_replies_stored_total)" 0
if [ "$(pg_value "SELECT to_regclass('replygate.refusals') IS NOT NULL")" = t ]; then
    tap_is "refusals in delivery equal the database's rows" \
        "$(printf '%s\n' "$m3" | awk '/^replygate_refusals_total\{stage="delivery"/ { s += $2 } END { print s + 0 }')" \
        "$(pg_value "SELECT count(*) FROM replygate.refusals WHERE stage = 'delivery'")"
else
    tap_is "no refusals table yet: no refusals series" "$(printf '%s\n' "$m3" | grep -c '^replygate_refusals_total')" 0
fi

# --- 2 replies while the database is down --------------------------------------
pg_stop
before=$(count_log 'replygate/deliver.*status=deferred')
send "metrics-4@example.org" --body "Reply number 4."
send "metrics-5@example.org" --body "Reply number 5."
wait_log_count 'replygate/deliver.*status=deferred' $((before + 2)) || tap_not_ok "2 deferred in mail.log"
postsuper -c "$dir/postfix" -h ALL >/dev/null 2>&1   # no retry while we count
m4=$(scrape)
tap_is "2 sent, database down: deferrals{database} +2" \
    "$(delta "$m3" "$m4" 'replygate_deferrals_total{reason="database"}')" 2
tap_is "  other reasons +0" \
    "$(( $(delta "$m3" "$m4" 'replygate_deferrals_total{reason="configuration"}') + $(delta "$m3" "$m4" 'replygate_deferrals_total{reason="other"}') ))" 0
tap_is "  database_up 0" "$(value "$m4" replygate_database_up)" 0
tap_is "  the deferral counts file" "$(cat "$dir/spool/metrics/deferrals")" \
    "database $(value "$m4" 'replygate_deferrals_total{reason="database"}')"
pg_restart
postsuper -c "$dir/postfix" -H ALL >/dev/null 2>&1
postqueue -c "$dir/postfix" -f
wait_log_count 'replygate/deliver.*status=stored' 5 || tap_not_ok "5 stored in mail.log"
m5=$(scrape)
tap_is "the database back: stored +2" "$(delta "$m3" "$m5" replygate_replies_stored_total)" 2
tap_is "  database_up 1" "$(value "$m5" replygate_database_up)" 1

# --- the milter's decisions ------------------------------------------------------
# The milter writes its counters at most every 5 s: the forged key's count is
# read from its own result, so decisions of earlier messages that reach the
# file late do not count here.
key_rejects() { value "$1" 'replygate_milter_decisions_total{result="reject_key"}' | sed 's/^absent$/0/'; }
for _ in $(seq 100); do [ -f "$dir/spool/metrics/milter.prom" ] && break; sleep 0.1; done
tap_check "the milter writes spool/metrics/milter.prom" test -f "$dir/spool/metrics/milter.prom"
d0=$(key_rejects "$(scrape)")
swaks --server "127.0.0.1:$RG_PORT" --tls --from bob@example.org \
    --to "reply+i-42-0000000000000000000000000000000000000000-7@$RG_DOMAIN" >>"$dir/swaks.log" 2>&1
for _ in $(seq 150); do [ "$(key_rejects "$(scrape)")" -gt "$d0" ] && break; sleep 0.1; done
sleep 6 # one more write of the counters: nothing more may come
tap_is "a forged key at RCPT: the milter's reject_key decisions +1" \
    "$(($(key_rejects "$(scrape)") - d0))" 1
mkdir -p "$dir/spool/metrics"
printf '# HELP replygate_milter_decisions_total x\nreplygate_milter_decisions_total{result="test"} 5\nnot_ours 1\n' \
    >"$dir/spool/metrics/lmtp.prom"
m6=$(scrape)
tap_is "a resident program's .prom: its replygate_ lines copied" \
    "$(value "$m6" 'replygate_milter_decisions_total{result="test"}')" 5
tap_is "  and nothing else of it" "$(value "$m6" not_ours)" absent
rm -f "$dir/spool/metrics/lmtp.prom"

# --- --write ---------------------------------------------------------------------
mkdir -p "$dir/textfile"
echo "metrics_textfile = $dir/textfile/replygate.prom" >>"$RG_CONFIG"
env -u PGUSER -u PGHOST -u PGDATABASE "$RG_BIN/replygate" metrics --config "$RG_CONFIG" --write
tap_is "--write: exit 0" "$?" 0
tap_is "--write: the file, mode 0644, no temporary file left" \
    "$(stat -c %a "$dir/textfile/replygate.prom") $(ls "$dir/textfile" | xargs)" "644 replygate.prom"
tap_is "--write: the same numbers" "$(value "$(cat "$dir/textfile/replygate.prom")" replygate_replies_stored_total)" \
    "$(value "$m5" replygate_replies_stored_total)"
sed -i "s|^metrics_textfile = .*|metrics_textfile = $dir/nofolder/replygate.prom|" "$RG_CONFIG"
out=$("$RG_BIN/replygate" metrics --config "$RG_CONFIG" --write 2>&1); rc=$?
tap_is "--write into a missing folder: exit 73" "$rc" 73
tap_like "  names the folder and the fix" "$out" "nofolder does not exist: install prometheus-node-exporter"
tap_done
