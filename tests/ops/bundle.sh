#!/bin/bash
# bundle.sh - `replygate bundle` on the local stack (scripts/lib/stack.sh):
# after a reply went through Postfix and the agent, the bundle lists its
# files, each holds what it should (postconf -n, the replygate lines of
# master.cf, the redacted configuration, the replygate lines and Postfix's
# lines of reply-domain queue ids in mail.log and no others, the processor
# log, spool counts, the migration level, `replygate check`), --lines bounds
# the logs, and neither the secret, a database password (conninfo or URI
# form) nor the mac of a reply address is anywhere in it; a processor log
# that user replygate replaced by a link to a root-only file is not followed.
#
# usage: bundle.sh SOURCE_DIR BUILD_DIR
set -u
. "$(dirname "$0")/../lib/isolate.sh"  # own network, mount and PID namespaces
. "$(dirname "$0")/../lib/tap.sh"
src=$1 build=$2
dir=$(mktemp -d /tmp/rg-ops-bundle.XXXXXX)
STACK_SRC=$src
. "$src/scripts/lib/stack.sh"
cleanup() { stack_down "$dir" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT

RG_MILTER=0 stack_up "$dir" "$(pf_free_port)" "$build" >"$dir.up.log" 2>&1 ||
    { cat "$dir.up.log"; rm -f "$dir.up.log"; tap_bail "the stack did not come up"; }
rm -f "$dir.up.log"
secret=$(grep -v '^#' "$dir/etc/secrets" | head -1)
db_pw=Db-Pass-4711-conninfo
uri_pw=Uri-Pass-0815-uri
# Trust authentication ignores the password, so the stack still connects.
sed -i "s|^database = .*|database = host=$PG_DIR dbname=replygate user=postgres password=$db_pw|" \
    "$RG_CONFIG"

# One reply through Postfix, so that mail.log and the processor log have lines.
addr=$("$RG_BIN/replygate" address --config "$RG_CONFIG" i 3 5)
swaks --server "127.0.0.1:$RG_PORT" --tls --from bob@example.org --to "$addr" \
    --header "Message-ID: <bundle-1@example.org>" --header "Subject: Re: issue 3" \
    --body "Works for me." >"$dir/swaks.log" 2>&1
tap_check "the reply was delivered (mail.log)" pf_wait_log "$dir" \
    'replygate/deliver\[[0-9]+\]: [0-9A-F]+: message-id=<bundle-1@example.org>.*status=stored' 60
# A line of some other program in the same log must stay out of the bundle,
# and so must Postfix's lines of another domain's mail.
logger -u "$dir/log.sock" -p mail.info -t otherdaemon "not replygate: leave me out"
logger -u "$dir/log.sock" -p mail.info -t 'postfix/smtpd[77]' "4FA2B10C3D: client=other.example.net[192.0.2.7]"
logger -u "$dir/log.sock" -p mail.info -t 'postfix/smtp[78]' \
    "4FA2B10C3D: to=<someone@other.example.org>, relay=none, delay=1, status=sent (other domain)"
logger -u "$dir/log.sock" -p mail.info -t 'postfix/smtpd[77]' \
    "NOQUEUE: reject: RCPT from x[192.0.2.8]: 554 5.7.1 <bob@other.example.org>: Relay access denied; from=<a@b.example> to=<bob@other.example.org>"
pf_wait_log "$dir" 'Relay access denied' 10
qid=$(sed -n 's/.*replygate\/deliver\[[0-9]*\]: \([0-9A-F]*\): message-id=<bundle-1@example.org>.*/\1/p' "$dir/mail.log")
mac=$(printf '%s' "$addr" | sed 's/^[^-]*-[0-9]*-\([0-9a-f]*\)-.*/\1/')
# A refused message in failure/.
install -d -o replygate -g replygate -m 750 "$dir/spool/failure"
echo "Subject: x" >"$dir/spool/failure/1795957546.V1I1M1.test"
echo "5.1.1 no key" >"$dir/spool/failure/1795957546.V1I1M1.test.reason"

out=$(pf_run "$dir" "$RG_BIN/replygate" bundle --config "$RG_CONFIG" --postfix-config "$dir/postfix" \
    --maillog "$dir/mail.log" -o "$dir/b.tar.gz" 2>&1); rc=$?
tap_is "bundle exits 0" "$rc" 0
tap_like "it names the bundle" "$out" "^wrote $dir/b.tar.gz"
want="check.txt mail.log master-cf.txt migrations.txt postconf-n.txt processor.log replygate.conf spool.txt version.txt"
got=$(tar -tzf "$dir/b.tar.gz" | grep -v '/$' | sed 's|.*/||' | sort | xargs)
tap_is "the bundle's files" "$got" "$want"
listed=$(printf '%s\n' "$out" | grep -v '^wrote ' | grep -v '/$' | grep / | sed 's|.*/||' | sort | xargs)
tap_is "the printed list is the bundle's content" "$listed" "$want"
tap_is "the bundle is readable by its owner only" "$(stat -c %a "$dir/b.tar.gz")" 600
mkdir "$dir/x"
tar -xzf "$dir/b.tar.gz" -C "$dir/x"
b=$(echo "$dir"/x/replygate-bundle-*)

tap_is "the secret is nowhere in it" "$(grep -rlF -- "$secret" "$dir/x" | wc -l)" 0
tap_is "nor in the compressed file" "$(zcat "$dir/b.tar.gz" | grep -caF -- "$secret")" 0
tap_is "the database password is nowhere in it" "$(grep -rlF -- "$db_pw" "$dir/x" | wc -l)" 0
tap_like "replygate.conf: the password is redacted" "$(cat "$b/replygate.conf")" \
    "^database = host=$PG_DIR dbname=replygate user=postgres password=REDACTED\$"
tap_like "replygate.conf: the rest is there" "$(cat "$b/replygate.conf")" "^reply_domain = $RG_DOMAIN\$"
tap_like "postconf-n.txt: relay_domains" "$(cat "$b/postconf-n.txt")" "^relay_domains = .*$RG_DOMAIN"
tap_like "postconf-n.txt: the recipient limit" "$(cat "$b/postconf-n.txt")" \
    '^replygate_destination_recipient_limit = 1$'
tap_like "master-cf.txt: the pipe service" "$(cat "$b/master-cf.txt")" '^replygate +unix .*pipe.*flags=DORXq'
tap_is "master-cf.txt: only replygate lines" \
    "$(grep -v '^#' "$b/master-cf.txt" | grep -vc replygate)" 0
tap_like "mail.log: the agent's line" "$(cat "$b/mail.log")" \
    'replygate/deliver\[[0-9]+\]: [0-9A-F]+: message-id=<bundle-1@example.org>'
tap_like "mail.log: Postfix's smtpd line" "$(cat "$b/mail.log")" 'postfix/smtpd\[[0-9]+\]: '
tap_is "mail.log: no other program's lines" "$(grep -c otherdaemon "$b/mail.log")" 0
tap_is "mail.log: every line of the reply's queue id ($qid)" "$(grep -c " $qid: " "$b/mail.log")" \
    "$(grep -c " $qid: " "$dir/mail.log")"
tap_is "mail.log: no line of another domain's queue id, nor its NOQUEUE reject" \
    "$(grep -cE '4FA2B10C3D|other\.example\.org' "$b/mail.log")" 0
tap_is "mail.log: only lines of reply mail (queue ids of the reply domain, replygate's)" \
    "$(grep -vcE " $qid: | replygate/" "$b/mail.log")" 0
tap_is "the reply address's mac is nowhere in it" "$(grep -rlF -- "$mac" "$dir/x" | wc -l)" 0
tap_is "  nor in the compressed file" "$(zcat "$dir/b.tar.gz" | grep -caF -- "$mac")" 0
tap_like "  the address is there, its mac redacted" "$(cat "$b/mail.log")" \
    'to=<reply\+i-3-MAC-REDACTED-5@'"$RG_DOMAIN"'>'
tap_like "processor.log: the delivery" "$(cat "$b/processor.log")" \
    'INFO \([0-9]+\) \('"$qid"'\) #\] replygate: processing <bundle-1@example.org>'
tap_like "spool.txt: one in success/" "$(cat "$b/spool.txt")" '^success +1$'
tap_like "spool.txt: one in failure/ (its .reason not counted)" "$(cat "$b/spool.txt")" '^failure +1$'
level=$(ls "$src/sql" | grep -E '^[0-9]{4}_.*\.sql$' | sort | tail -1)
tap_like "migrations.txt: the level" "$(cat "$b/migrations.txt")" "^level: $level\$"
tap_like "check.txt: replygate check ran" "$(cat "$b/check.txt")" '^(OK|WARN|FAIL) '
tap_like "version.txt" "$(cat "$b/version.txt")" '^replygate [0-9]+\.[0-9]+'

# --lines bounds each log.
out=$(pf_run "$dir" "$RG_BIN/replygate" bundle --config "$RG_CONFIG" --maillog "$dir/mail.log" \
    --lines 3 -o "$dir/b3.tar.gz" 2>&1); rc=$?
tap_is "--lines 3: exit 0" "$rc" 0
tap_is "--lines 3: mail.log has 3 lines" \
    "$(tar -xzOf "$dir/b3.tar.gz" --wildcards '*/mail.log' | wc -l)" 3
tap_is "--lines 3: they are the last ones" \
    "$(tar -xzOf "$dir/b3.tar.gz" --wildcards '*/mail.log' | tail -1)" \
    "$(grep -E " $qid: | replygate/" "$dir/mail.log" | tail -1 | sed -E 's/-[0-9a-f]{40}-/-MAC-REDACTED-/g')"

# A processor log that user replygate replaced by a link to a root-only file.
echo "TOP-SECRET-ROOT-ONLY" >"$dir/root-only"
chmod 600 "$dir/root-only"
runuser -u replygate -- sh -c "mv '$dir/log/replygate.log' '$dir/log/old.log' && ln -s '$dir/root-only' '$dir/log/replygate.log'"
out=$("$RG_BIN/replygate" bundle --config "$RG_CONFIG" --maillog "$dir/mail.log" -o "$dir/b-link.tar.gz" 2>&1); rc=$?
tap_is "processor log replaced by a link: still a bundle (exit 0)" "$rc" 0
tap_is "  the link's target is not in it" "$(zcat "$dir/b-link.tar.gz" | grep -caF TOP-SECRET-ROOT-ONLY)" 0
tap_like "  processor.log says why" "$(tar -xzOf "$dir/b-link.tar.gz" --wildcards '*/processor.log')" \
    'a symbolic link, not followed'
runuser -u replygate -- sh -c "rm '$dir/log/replygate.log' && mv '$dir/log/old.log' '$dir/log/replygate.log'"

# A password in a URI.
sed -i "s|^database = .*|database = postgresql://postgres:$uri_pw@/replygate?host=$PG_DIR|" "$RG_CONFIG"
out=$("$RG_BIN/replygate" bundle --config "$RG_CONFIG" --maillog "$dir/mail.log" \
    -o "$dir/b-uri.tar.gz" 2>&1); rc=$?
tap_is "URI form: exit 0" "$rc" 0
tap_is "URI form: the password is nowhere in it" "$(zcat "$dir/b-uri.tar.gz" | grep -caF -- "$uri_pw")" 0
tap_like "URI form: redacted in place" \
    "$(tar -xzOf "$dir/b-uri.tar.gz" --wildcards '*/replygate.conf')" \
    "^database = postgresql://postgres:REDACTED@/replygate\\?host=$PG_DIR\$"
tap_like "URI form: the database was still read" \
    "$(tar -xzOf "$dir/b-uri.tar.gz" --wildcards '*/migrations.txt')" "^level: $level\$"
tap_is "URI form: the secret is nowhere in it" "$(zcat "$dir/b-uri.tar.gz" | grep -caF -- "$secret")" 0

# A broken configuration still gives a bundle, saying why.
out=$("$RG_BIN/replygate" bundle --config "$dir/none.conf" -o "$dir/b-none.tar.gz" 2>&1); rc=$?
tap_is "no configuration: still a bundle (exit 0)" "$rc" 0
tap_like "no configuration: replygate.conf says why" \
    "$(tar -xzOf "$dir/b-none.tar.gz" --wildcards '*/replygate.conf')" 'does not load'
out=$("$RG_BIN/replygate" bundle --config "$RG_CONFIG" extra 2>&1); rc=$?
tap_is "an extra argument: usage, exit 64" "$rc" 64
tap_done
