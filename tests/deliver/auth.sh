#!/bin/bash
# auth.sh - who sent a reply, stored (issue 17): replygate-deliver against a
# real, throwaway PostgreSQL (tests/lib/pg.sh), the way pipe(8) runs it.
#
# - the verifiers' results of our authserv-id land in the columns spf, dkim,
#   dkim_domain, dmarc, from_domain, aligned and authserv_id of
#   replygate.processed_replies; another host's header never counts;
# - sender_policy = require-dmarc-pass refuses with exit 77 and 5.7.1, keeps
#   the message in failure/ with its reason, and stores a pass;
# - from_check: from_verified and sender_verified from replygate.user_addresses
#   (filled as the application would), require refuses with 5.7.1, user 0 is
#   not checked, and a database that is down defers;
# - action_kinds: an empty body to an action kind is stored with action true,
#   to another kind refused with 5.6.0;
# - --dry-run shows auth, from_verified and action, and reads the database
#   only under from_check = require.
# The real verifiers (OpenDKIM, OpenDMARC) are in tests/e2e/auth.sh.
#
# Environment: RG_DELIVER (the agent), RG_CLI (replygate), RG_SRC (source tree).
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
SRC=${RG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DELIVER=${RG_DELIVER:-$SRC/build/pipe-agent/replygate-deliver}
CLI=${RG_CLI:-$SRC/build/cli/replygate}
. "$SRC/tests/lib/tap.sh"
. "$SRC/tests/lib/pg.sh"

T=$(mktemp -d /tmp/rg-auth-store.XXXXXX) || tap_bail "mktemp failed"
cleanup() {
    pg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT

pg_start || tap_bail "cannot start PostgreSQL"

SECRET=0123456789abcdef0123456789abcdef-auth-test
printf '%s\n' "$SECRET" >"$T/secrets"
chmod 600 "$T/secrets"
SPOOL=$T/spool
ID=mx.example.com

# write_config FILE [EXTRA LINES...] - a configuration for this test
write_config() {
    local file=$1 line
    shift
    {
        echo "reply_domain = reply.example.com"
        echo "secrets_file = $T/secrets"
        echo "database = host=$PG_DIR dbname=replygate user=rg_writer"
        echo "spool_directory = $SPOOL"
        echo "processor_log = $T/replygate.log"
        echo "authserv_id = $ID"
        echo "action_kinds = u"
        for line in "$@"; do echo "$line"; done
    } >"$file"
}
write_config "$T/record.conf"
write_config "$T/dmarc.conf" "sender_policy = require-dmarc-pass"
write_config "$T/from.conf" "from_check = require"
write_config "$T/none.conf" "authserv_id ="

# address KIND TARGET USER - a signed reply address, the mac from openssl itself
address() {
    local mac
    mac=$(printf '%s' "$1-$2-$3" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.*= *//' | cut -c1-40)
    echo "reply+$1-$2-$mac-$3@reply.example.com"
}
ADDR=$(address i 1 5)
UNSUB=$(address u 1 5)

# message FILE MESSAGE-ID FROM BODY [HEADER LINES...] - a reply to ADDR
message() {
    local file=$1 mid=$2 from=$3 body=$4 line
    shift 4
    {
        for line in "$@"; do printf '%s\n' "$line"; done
        printf 'From: %s\nTo: %s\nSubject: Re: issue 1\n' "$from" "$ADDR"
        printf 'Date: Sat, 21 Nov 2026 15:13:00 +0000\nMessage-ID: <%s>\n' "$mid"
        printf 'Content-Type: text/plain; charset=utf-8\n\n%s' "$body"
    } >"$file"
}

# deliver CONFIG FILE [RECIPIENT] [SENDER] - run the agent like pipe(8); sets RC, OUT, ERR
deliver() {
    REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$1" -q Q1 -f "${4-bob@example.org}" \
        -r "${3:-$ADDR}" -c 192.0.2.10 <"$2" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

# dry CONFIG FILE [RECIPIENT] - --dry-run; sets RC and OUT (the JSON)
dry() {
    "$DELIVER" --config "$1" --dry-run -q Q1 -f bob@example.org -r "${3:-$ADDR}" \
        <"$2" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
}

# row MESSAGE-ID COLUMNS - one stored row's columns, '|'-separated, NULL as "-"
row() {
    pg_value "SELECT concat_ws('|', $(printf '%s' "$2" | sed "s/\([a-z_]*\)/coalesce(\1::text, '-')/g"))
              FROM replygate.processed_replies WHERE message_id = '$1'"
}

# failed_reason - the reason file of the newest refusal in failure/
failed_reason() { cat "$(ls -t "$SPOOL"/failure/*.reason 2>/dev/null | head -1)" 2>/dev/null; }

out=$("$CLI" migrate --create-roles --database "$PG_CONNINFO" 2>&1)
tap_like "migrate applies 0003_auth.sql" "$out" "applied 0003_auth\.sql"
# The agent connects as a writer, the application as replygate_app (SPEC 8).
pg_psql -c "CREATE ROLE rg_writer LOGIN IN ROLE replygate_writer" \
    -c "CREATE ROLE rg_app LOGIN IN ROLE replygate_app" >/dev/null
# as ROLE SQL - one statement as that login
as() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "host=$PG_DIR dbname=replygate user=$1" -c "$2" 2>&1; }

AR_PASS=(
    "Authentication-Results: $ID; dkim=pass (2048-bit key) header.d=example.org header.i=@example.org"
    "Authentication-Results: $ID; spf=pass smtp.mailfrom=bob@example.org"
    "Authentication-Results: $ID; dmarc=pass (p=reject dis=none) header.from=example.org")
AR_FORGED=("Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=bob@example.org; dkim=pass header.d=example.org; dmarc=pass header.from=example.org")
AUTH_COLS="authserv_id,spf,dkim,dkim_domain,dmarc,from_domain,aligned"

# --- the verifiers' results are stored ----------------------------------------
message "$T/pass.eml" pass@example.org "Bob <bob@example.org>" "Sounds good." "${AR_PASS[@]}"
deliver "$T/record.conf" "$T/pass.eml"
tap_is "results of our id: stored (exit 0)" "$RC" 0
tap_is "results of our id: the columns" "$(row pass@example.org "$AUTH_COLS")" \
    "$ID|pass|pass|example.org|pass|example.org|true"
message "$T/forged.eml" forged@example.org "Bob <bob@example.org>" "Sounds good." "${AR_FORGED[@]}"
deliver "$T/record.conf" "$T/forged.eml"
tap_is "another host's pass: stored as not checked by us" "$(row forged@example.org "$AUTH_COLS")" \
    "$ID|-|-|-|-|example.org|false"
message "$T/fail.eml" fail@example.org "Bob <bob@example.org>" "Sounds good." \
    "Authentication-Results: $ID; dkim=fail header.d=example.org; spf=softfail smtp.mailfrom=example.org" \
    "Authentication-Results: $ID; dmarc=fail header.from=example.org"
deliver "$T/record.conf" "$T/fail.eml"
tap_is "a DMARC fail under record: stored with it" "$(row fail@example.org "$AUTH_COLS")" \
    "$ID|softfail|fail|-|fail|example.org|false"
message "$T/unconf.eml" unconf@example.org "Bob <bob@example.org>" "Sounds good." "${AR_PASS[@]}"
deliver "$T/none.conf" "$T/unconf.eml"
tap_is "without authserv_id nothing is read" "$(row unconf@example.org "$AUTH_COLS")" \
    "-|-|-|-|-|example.org|-"

message "$T/broken.eml" broken@example.org "Bob <bob@example.org>" "Sounds good." \
    "Authentication-Results: $ID; dmarc=pass (not closed header.from=example.org"
deliver "$T/record.conf" "$T/broken.eml"
tap_is "a field of our id that does not parse: stored, nothing read from it" \
    "$RC:$(row broken@example.org dmarc)" "0:-"
tap_like "a field of our id that does not parse: mail.log warns" "$ERR" \
    "Q1: ignored an Authentication-Results field of $ID: a comment is not closed"

# --- sender_policy = require-dmarc-pass ----------------------------------------
message "$T/p1.eml" p1@example.org "Bob <bob@example.org>" "Sounds good." "${AR_PASS[@]}"
deliver "$T/dmarc.conf" "$T/p1.eml"
tap_is "require-dmarc-pass: a pass is stored" "$RC:$(row p1@example.org dmarc)" "0:pass"
n_fail=$(ls "$SPOOL/failure" 2>/dev/null | grep -vc '\.reason$')
message "$T/p2.eml" p2@example.org "Bob <bob@example.org>" "Sounds good." "${AR_FORGED[@]}"
deliver "$T/dmarc.conf" "$T/p2.eml"
tap_is "require-dmarc-pass: a forged pass is refused with 77" "$RC" 77
tap_is "require-dmarc-pass: the DSN line" "$OUT" \
    "5.7.1 sender policy: a DMARC pass is required, and $ID recorded no DMARC result for example.org"
tap_is "require-dmarc-pass: nothing stored" "$(row p2@example.org dmarc)" ""
tap_is "require-dmarc-pass: kept in failure/" "$(ls "$SPOOL/failure" | grep -vc '\.reason$')" \
    "$((n_fail + 1))"
tap_like "require-dmarc-pass: with its reason" "$(failed_reason)" "^5\.7\.1 sender policy"
tap_like "require-dmarc-pass: mail.log says rejected" "$ERR" \
    "^Q1: message-id=<p2@example\.org>, key=i-1-5, .*status=rejected \(5\.7\.1 sender policy"
message "$T/p3.eml" p3@example.org "Bob <bob@example.org>" "Sounds good." \
    "Authentication-Results: $ID; dmarc=pass header.from=other.example"
deliver "$T/dmarc.conf" "$T/p3.eml"
tap_is "require-dmarc-pass: a pass for another domain is refused" "$RC:$OUT" \
    "77:5.7.1 sender policy: a DMARC pass is required, and the DMARC result is for other.example, not for the From domain example.org"
write_config "$T/broken.conf" "sender_policy = require-dmarc-pass" "authserv_id ="
message "$T/p4.eml" p4@example.org "Bob <bob@example.org>" "Sounds good." "${AR_PASS[@]}"
deliver "$T/broken.conf" "$T/p4.eml"
tap_is "require-dmarc-pass without authserv_id: a configuration error defers" "$RC:$OUT" \
    "75:4.3.5 configuration problem at the receiving site, delivery deferred"
tap_like "  mail.log names the mistake" "$ERR" \
    'status=deferred \(4\.3\.5 configuration error: .*needs "authserv_id"'

# --- from_check ----------------------------------------------------------------
# The application's table, filled by the application's role: user 5 may
# write from two addresses.
tap_is "user_addresses: the application fills it" \
    "$(as rg_app "INSERT INTO replygate.user_addresses (user_id, address)
                   VALUES (5, 'Bob@Example.org'), (5, 'bob@work.example'), (6, 'carol@other.example')")" ""
tap_like "user_addresses: one address once per user, in any case" \
    "$(as rg_app "INSERT INTO replygate.user_addresses (user_id, address) VALUES (5, 'BOB@example.ORG')")" \
    "duplicate key value violates unique constraint \"user_addresses_user_address_key\""
tap_is "user_addresses: the documented upsert (replygate-app(7)) keeps one row" \
    "$(as rg_app "INSERT INTO replygate.user_addresses (user_id, address) VALUES (5, 'BOB@example.ORG')
                   ON CONFLICT (user_id, lower(address)) DO NOTHING")|$(pg_value "SELECT count(*) FROM replygate.user_addresses WHERE user_id = 5")" "|2"
tap_like "user_addresses: an address is local@domain" \
    "$(as rg_app "INSERT INTO replygate.user_addresses (user_id, address) VALUES (5, 'bob')")" \
    "violates check constraint"
tap_like "user_addresses: the writer reads it and may not change it" \
    "$(as rg_writer "SELECT count(*) FROM replygate.user_addresses")|$(as rg_writer "DELETE FROM replygate.user_addresses")" \
    "^3\|.*permission denied for table user_addresses"
tap_is "user_addresses: the application reads the new columns" \
    "$(as rg_app "SELECT count(*) FROM replygate.processed_replies WHERE dmarc = 'pass' AND authserv_id = '$ID'")" 2
message "$T/f1.eml" f1@example.org "Bob <bob@example.org>" "Sounds good."
deliver "$T/record.conf" "$T/f1.eml" "$ADDR" BOB@example.ORG
tap_is "from_check record: From and sender are user 5's (any case)" \
    "$RC:$(row f1@example.org from_verified,sender_verified)" "0:true|true"
message "$T/f2.eml" f2@example.org "Carol <carol@other.example>" "I was forwarded this."
deliver "$T/record.conf" "$T/f2.eml" "$ADDR" carol@other.example
tap_is "from_check record: another user's address is stored as not verified" \
    "$RC:$(row f2@example.org from_verified,sender_verified)" "0:false|false"
message "$T/f3.eml" f3@example.org "Bob <bob@example.org>" "Sounds good."
deliver "$T/record.conf" "$T/f3.eml" "$ADDR" carol@other.example
tap_is "from_check record: From and sender are judged apart" \
    "$RC:$(row f3@example.org from_verified,sender_verified)" "0:true|false"
# Under record the insert itself does the lookup (store.c, check_addresses).
printf 'To: %s\nSubject: no From\nMessage-ID: <f3a@example.org>\n\nhello\n' "$ADDR" >"$T/f3a.eml"
deliver "$T/record.conf" "$T/f3a.eml" "$ADDR" BOB@work.example
tap_is "from_check record: no From is not verified; the sender still is" \
    "$RC:$(row f3a@example.org from_verified,sender_verified)" "0:false|true"
message "$T/f3b.eml" f3b@example.org "Bob <bob@example.org>" "Sounds good."
deliver "$T/record.conf" "$T/f3b.eml" "$ADDR" bob
tap_is "from_check record: a sender that is no address is unknown (NULL)" \
    "$RC:$(row f3b@example.org from_verified,sender_verified)" "0:true|-"
message "$T/f4.eml" f4@example.org "Carol <carol@other.example>" "I was forwarded this."
deliver "$T/from.conf" "$T/f4.eml" "$ADDR" carol@other.example
tap_is "from_check require: refused with 77 and a clear 5.7.1" "$RC:$OUT" \
    "77:5.7.1 from check: carol@other.example is not an address of user 5 of this reply address; reply from your own address"
tap_is "from_check require: nothing stored" "$(row f4@example.org from_verified)" ""
tap_like "from_check require: kept in failure/ with its reason" "$(failed_reason)" \
    "^5\.7\.1 from check: carol@other\.example"
message "$T/f5.eml" f5@example.org "Bob at work <bob@work.example>" "Sounds good."
deliver "$T/from.conf" "$T/f5.eml" "$ADDR" bounce+srs=x@forwarder.example
tap_is "from_check require: From decides, a forwarder's sender does not" \
    "$RC:$(row f5@example.org from_verified,sender_verified)" "0:true|false"
{
    printf 'To: %s\nSubject: no From\nMessage-ID: <f6@example.org>\n\nhello\n' "$ADDR"
} >"$T/f6.eml"
deliver "$T/from.conf" "$T/f6.eml"
tap_is "from_check require: no From is refused" "$RC:$OUT" \
    "77:5.7.1 from check: the message has no From address; reply from your own address"
STATIC=support@reply.example.com
write_config "$T/static.conf" "from_check = require" "static_address = $STATIC s 1"
message "$T/f7.eml" f7@example.org "Anyone <anyone@example.net>" "Help!"
deliver "$T/static.conf" "$T/f7.eml" "$STATIC" anyone@example.net
tap_is "from_check require: a static address (user 0) is not checked" \
    "$RC:$(row f7@example.org from_verified,sender_verified)" "0:-|-"
pg_stop
message "$T/f8.eml" f8@example.org "Bob <bob@example.org>" "Sounds good."
deliver "$T/from.conf" "$T/f8.eml"
tap_like "from_check: a database that is down defers" "$RC:$OUT" '^75:4\.3\.0 '
dry "$T/from.conf" "$T/f8.eml"
tap_like "dry run under from_check require, database down: 75" "$RC:$OUT" \
    '^75:\{.*"status": "4\.3\.0 from check: '
dry "$T/record.conf" "$T/f8.eml"
tap_like "dry run under from_check record needs no database" "$RC:$OUT" \
    '^0:\{.*"from_verified": null, .*"action": false'
pg_restart || tap_bail "PostgreSQL did not come back"
dry "$T/from.conf" "$T/f4.eml"
tap_like "dry run under from_check require reads the table" "$RC:$OUT" \
    '^77:\{.*"from_verified": false, .*"status": "5\.7\.1 from check: carol@other\.example'
tap_is "dry run writes nothing" "$(row f4@example.org from_verified)" ""

# --- action_kinds --------------------------------------------------------------
{
    printf 'From: Bob <bob@example.org>\nTo: %s\nSubject: unsubscribe\n' "$UNSUB"
    printf 'Message-ID: <u1@example.org>\n\n'
} >"$T/u1.eml"
deliver "$T/record.conf" "$T/u1.eml" "$UNSUB"
tap_is "action kind, empty body: stored" "$RC" 0
tap_is "action kind, empty body: kind, target, user, action, reply_text" \
    "$(row u1@example.org "kind,target,user_id,action,reply_text")" "u|1|5|true|"
dry "$T/record.conf" "$T/u1.eml" "$UNSUB"
tap_like "action kind: the dry run says action true" "$RC:$OUT" '^0:\{.*"action": true'
message "$T/u2.eml" u2@example.org "Bob <bob@example.org>" ""
deliver "$T/record.conf" "$T/u2.eml"
tap_like "another kind, empty body: refused with 5.6.0" "$RC:$OUT" '^65:5\.6\.0 the reply is empty'
tap_is "a reply is stored with action false" "$(row pass@example.org action)" "false"

# --- the dry run's auth object -------------------------------------------------
dry "$T/record.conf" "$T/pass.eml"
tap_like "dry run: the auth object" "$OUT" \
    "\"auth\": \\{\"authserv_id\": \"$ID\", \"spf\": \"pass\", \"spf_domain\": \"example.org\", \"dkim\": \"pass\", \"dkim_domain\": \"example.org\", \"dmarc\": \"pass\", \"dmarc_domain\": \"example.org\", \"from_domain\": \"example.org\", \"aligned\": true, \"ignored\": null\\}"
dry "$T/none.conf" "$T/pass.eml"
tap_like "dry run without authserv_id: auth is null" "$OUT" '"auth": null'

# --- libpsl only to align without DMARC (lib/psl-lazy.c) ------------------------
# The pipe agent loads the public suffix list's library when it needs it: a
# passing DKIM d= that is not the From domain, and no DMARC verdict.
tap_is "lazy libpsl: the agent is not linked with libpsl" \
    "$(readelf -d "$DELIVER" | grep -c 'NEEDED.*libpsl')" 0
LD_DEBUG=files "$DELIVER" --config "$T/record.conf" --dry-run -q Q1 -f bob@example.org \
    -r "$ADDR" <"$T/pass.eml" >"$T/out" 2>"$T/ld-pass"
tap_is "lazy libpsl: a DMARC pass aligns without it" \
    "$(grep -c 'file=libpsl' "$T/ld-pass")/$(grep -c '"aligned": true' "$T/out")" "0/1"
message "$T/sub.eml" sub@example.org "Bob <bob@example.org>" "Sounds good." \
    "Authentication-Results: $ID; dkim=pass header.d=mail.example.org header.i=@mail.example.org"
LD_DEBUG=files "$DELIVER" --config "$T/record.conf" --dry-run -q Q1 -f bob@example.org \
    -r "$ADDR" <"$T/sub.eml" >"$T/out" 2>"$T/ld-sub"
tap_is "lazy libpsl: a DKIM pass for a subdomain loads it and aligns by the list" \
    "$(grep -c 'file=libpsl.so.5 \[0\];  dynamically loaded' "$T/ld-sub")/$(grep -o '"dkim_domain": "mail.example.org", "dmarc": null, "dmarc_domain": null, "from_domain": "example.org", "aligned": true' "$T/out" | wc -l)" "1/1"
# A library that cannot be loaded is the installation's fault: deferred.
PSL_FILE=$(ldconfig -p | sed -n 's/^[[:space:]]*libpsl\.so\.5 (libc6,x86-64) => //p' | head -1)
if [ -n "$PSL_FILE" ] && mount --bind /dev/null "$(readlink -f "$PSL_FILE")" 2>"$T/mount.err"; then
    deliver "$T/record.conf" "$T/sub.eml"
    umount "$(readlink -f "$PSL_FILE")"
    tap_is "lazy libpsl: a missing libpsl defers (75, 4.3.0)" "$RC/${OUT:0:5}" "75/4.3.0"
    tap_like "lazy libpsl: mail.log says why" "$ERR" 'cannot load libpsl\.so\.5'
    tap_is "lazy libpsl: nothing stored meanwhile" "$(row sub@example.org aligned)" ""
    deliver "$T/record.conf" "$T/sub.eml"
    tap_is "lazy libpsl: the retry stores it, aligned" "$RC/$(row sub@example.org aligned)" "0/true"
else
    tap_not_ok "lazy libpsl: cannot hide libpsl for the test: $(cat "$T/mount.err")"
fi

tap_done
