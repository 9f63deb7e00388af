#!/bin/bash
# root-links.sh - root never follows a link that the replygate user can plant
# (issue 13 item 3): `replygate replay` run as root, and the agent's own
# processor log. Each attack is set up as the unprivileged user replygate
# (setpriv), against files of root's that replygate cannot read or write; the
# test shows it fails. No database and no Postfix: every case is decided
# before a row would be written.
#
#   1. a dangling link as the processor log, pointing where root keeps a file
#      (the stand-in for /etc/ld.so.preload): replay must not create the
#      target, nor give it to replygate;
#   2. a link in failure/ to a root-only file: replay must not read it, so no
#      copy of its bytes may appear anywhere replygate can read; the same
#      through an explicit path, and for a .reason link;
#   3. a hard link in failure/ to a root-only file (where the kernel still
#      allows one: fs.protected_hardlinks = 0), and a FIFO in failure/;
#   4. a link as the processor log of an existing target: root must not
#      append to it; the agent (as replygate) does not follow it either;
#   5. the processor log that replay creates belongs to replygate, from the
#      start, and the real cases still work: a replayed message is processed.
#
# usage: root-links.sh SOURCE_DIR BUILD_DIR
set -u
. "$(dirname "$0")/../lib/tap.sh"
src=${1:-${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}}
build=${2:-${BUILD:-$src/build}}
CLI=$build/cli/replygate
DELIVER=$build/pipe-agent/replygate-deliver

[ "$(id -u)" = 0 ] || tap_bail "needs root (replay as root is what is tested)"
id replygate >/dev/null 2>&1 || tap_bail "needs the user replygate (scripts/install or useradd)"

T=$(mktemp -d /tmp/rg-root-links.XXXXXX) || tap_bail "mktemp failed"
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
# as_replygate CMD... - run a command as the unprivileged user
as_replygate() { setpriv --reuid replygate --regid replygate --clear-groups -- "$@"; }

SECRET_TEXT="root-only-$$-$(date +%s%N)"
ROOT=$T/root                       # root's own folder: replygate may not enter
install -d -m 700 "$ROOT"
# Shaped like a message pipe(8) spooled, so that a replay that followed a
# link would hand it to the agent, which would keep a copy in the spool.
printf 'Return-Path: <root@example.org>\nX-Original-To: reply@reply.example.com\nFrom: root@example.org\nSubject: %s\n\n%s\n' \
    "$SECRET_TEXT" "$SECRET_TEXT" >"$ROOT/secret"
chmod 600 "$ROOT/secret"
echo "root's own file" >"$ROOT/existing"
chmod 644 "$ROOT/existing"

SPOOL=$T/spool
LOGDIR=$T/log
for f in "" /tmp /new /success /failure; do install -d -o replygate -g replygate -m 750 "$SPOOL$f"; done
install -d -o replygate -g replygate -m 750 "$LOGDIR"
secret=0123456789abcdef0123456789abcdef-links-test
printf '%s\n' "$secret" >"$T/secrets"
chown replygate:replygate "$T/secrets"
chmod 600 "$T/secrets"
cat >"$T/replygate.conf" <<CONF
reply_domain = reply.example.com
secrets_file = $T/secrets
database = postgresql:///replygate_links_never_used?host=$T/nosuchdir
spool_directory = $SPOOL
processor_log = $LOGDIR/replygate.log
delivery_memory_limit = 0
CONF
chmod 644 "$T/replygate.conf"
replay() { "$CLI" replay --config "$T/replygate.conf" --deliver "$DELIVER" "$@" 2>&1; }

# leaked - does any file replygate can reach hold root's secret text?
leaked() {
    grep -rl --binary-files=text "$SECRET_TEXT" "$SPOOL" "$LOGDIR" 2>/dev/null | head -1
}

# --- 1. the processor log as a dangling link to root's file ----------------------------
as_replygate ln -s "$ROOT/preload" "$LOGDIR/replygate.log"
printf 'From: bob@example.org\nSubject: x\n\nhello\n' | as_replygate tee "$SPOOL/failure/1.V1I1M1.test" >/dev/null
out=$(replay "$SPOOL/failure")
tap_check "dangling log link: root's target was not created" test ! -e "$ROOT/preload"
tap_like "dangling log link: replay says the log is refused and goes on" "$out" \
    "processor log .*symbolic link; going on without it"
tap_is "dangling log link: the link is still a link" "$(stat -c %F "$LOGDIR/replygate.log")" \
    "symbolic link"
rm -f "$LOGDIR/replygate.log"
rm -f "$SPOOL"/*/*

# --- 2. a link in failure/ to a root-only file ------------------------------------------
as_replygate ln -s "$ROOT/secret" "$SPOOL/failure/2.V1I1M1.test"
out=$(replay "$SPOOL/failure")
tap_like "failure/ link: refused by name" "$out" \
    "failure/2\\.V1I1M1\\.test: refused: a symbolic link, which is never followed"
tap_is "failure/ link: no copy of root's file in the spool or the log folder" "$(leaked)" ""
out=$(replay "$SPOOL/failure/2.V1I1M1.test")
tap_like "failure/ link named on the command line: refused too" "$out" "refused: a symbolic link"
tap_is "failure/ link named on the command line: no copy" "$(leaked)" ""
rm -f "$SPOOL"/*/*
# A real message whose .reason is a link to root's file (an oversized
# message's reason would stop the replay; root's file must not be read).
printf 'Return-Path: <bob@example.org>\nX-Original-To: reply@reply.example.com\nFrom: bob@example.org\nSubject: x\n\nhello\n' |
    as_replygate tee "$SPOOL/failure/3.V1I1M1.test" >/dev/null
as_replygate ln -s "$ROOT/secret" "$SPOOL/failure/3.V1I1M1.test.reason"
out=$(replay "$SPOOL/failure")
tap_like "a .reason link is not read: the message itself is replayed" "$out" \
    "3\\.V1I1M1\\.test: refused \\(exit 67\\)"
tap_is ".reason link: no copy of root's file" "$(leaked)" ""
rm -f "$SPOOL"/*/*

# --- 3. a hard link and a FIFO in failure/ ---------------------------------------------
# Made by root here: with fs.protected_hardlinks = 0 replygate could link
# any file it can name (/etc/shadow); what replay must judge is the file.
if ln "$ROOT/secret" "$SPOOL/failure/4.V1I1M1.test"; then
    out=$(replay "$SPOOL/failure")
    tap_like "failure/ hard link to root's file: refused" "$out" \
        "4\\.V1I1M1\\.test: refused: not a file of the spool's user"
    rm -f "$SPOOL/failure/4.V1I1M1.test"
    tap_is "failure/ hard link: no copy of root's file" "$(leaked)" ""
fi
as_replygate mkfifo "$SPOOL/failure/5.V1I1M1.test"
out=$(timeout 30 "$CLI" replay --config "$T/replygate.conf" --deliver "$DELIVER" "$SPOOL/failure" 2>&1)
rc=$?
tap_is "failure/ FIFO: replay does not hang on it" "$rc" 1
tap_like "failure/ FIFO: refused" "$out" "5\\.V1I1M1\\.test: refused: not a regular file"
rm -f "$SPOOL"/*/*

# --- 4. the processor log as a link to an existing file ----------------------------------
rm -f "$LOGDIR/replygate.log"
as_replygate ln -s "$ROOT/existing" "$LOGDIR/replygate.log"
printf 'Return-Path: <bob@example.org>\nX-Original-To: reply@reply.example.com\nFrom: bob@example.org\nSubject: x\n\nhello\n' |
    as_replygate tee "$SPOOL/failure/5.V1I1M1.test" >/dev/null
out=$(replay "$SPOOL/failure")
tap_is "log link to an existing file: root did not append to it" "$(cat "$ROOT/existing")" \
    "root's own file"
tap_is "log link to an existing file: nor changed its owner" "$(stat -c %U "$ROOT/existing")" root
printf 'From: bob@example.org\nTo: reply@reply.example.com\nSubject: x\n\nhello\n' >"$T/plain.eml"
chmod 644 "$T/plain.eml"
as_replygate env REPLYGATE_LOG_STDERR=1 "$DELIVER" --config "$T/replygate.conf" -q QLINK \
    -f bob@example.org -r reply@reply.example.com <"$T/plain.eml" >"$T/out" 2>&1
tap_like "the agent does not follow the log link either" "$(cat "$T/out")" \
    "cannot open processor log .*symbolic link"
rm -f "$LOGDIR/replygate.log"
rm -rf "${SPOOL:?}"/*/*

# --- 5. what replay creates, and that replay still works ---------------------------------
printf 'Return-Path: <bob@example.org>\nX-Original-To: reply@reply.example.com\nFrom: bob@example.org\nSubject: x\n\nhello\n' |
    as_replygate tee "$SPOOL/failure/6.V1I1M1.test" >/dev/null
out=$(replay "$SPOOL/failure")
tap_like "a plain failure/ file is replayed (the agent refuses it: no key)" "$out" \
    "6\\.V1I1M1\\.test: refused \\(exit 67\\)"
tap_is "the processor log replay created belongs to replygate, mode 0640" \
    "$(stat -c '%U:%G %a %F' "$LOGDIR/replygate.log" 2>&1)" "replygate:replygate 640 regular file"
tap_like "the processor log has the replay line" "$(cat "$LOGDIR/replygate.log")" \
    "replygate: replay .*6\\.V1I1M1\\.test"
tap_done
