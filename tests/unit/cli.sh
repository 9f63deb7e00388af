#!/bin/bash
# cli.sh - `replygate address`, `message-id` and `verify` from the command
# line: the known answer from `openssl dgst -sha256 -hmac`, upper case
# accepted, every one-character change refused, unsafe secrets refused, the
# unique Message-ID form (SPEC section 3 item 9), 2^64-1 and above.
set -u
. "$(dirname "$0")/../lib/tap.sh"
RG=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
secret='test-secret-0123456789abcdef0123456789'
printf '%s\n' "$secret" > "$dir/secrets"
chmod 600 "$dir/secrets"
cat > "$dir/replygate.conf" <<EOT
reply_domain = reply.example.com
secrets_file = $dir/secrets
EOT
cfg=(--config "$dir/replygate.conf")

addr=$("$RG" address "${cfg[@]}" i 1 5); rc=$?
tap_is "address exits 0" "$rc" 0
mac=$(printf %s i-1-5 | openssl dgst -sha256 -hmac "$secret" | sed 's/.*= //' | cut -c1-40)
tap_is "address mac is openssl's HMAC of i-1-5" "$addr" "reply+i-1-$mac-5@reply.example.com"

out=$("$RG" verify "${cfg[@]}" "$addr"); rc=$?
tap_is "verify accepts it" "$rc:$out" '0:{"valid": true, "kind": "i", "target": 1, "user": 5}'
upper=$(printf %s "$addr" | tr a-z A-Z)
out=$("$RG" verify "${cfg[@]}" "$upper"); rc=$?
tap_is "verify accepts the upper-cased form" "$rc" 0

# Every one-character change: each position replaced by a character it is not.
accepted=""
for ((i = 0; i < ${#addr}; i++)); do
    c=${addr:i:1}
    case $c in [0-8]) n=$((c + 1)) ;; 9) n=0 ;; [a-y]) n=$(printf %s "$c" | tr a-y b-z) ;; *) n=x ;; esac
    changed="${addr:0:i}$n${addr:i+1}"
    if "$RG" verify "${cfg[@]}" "$changed" >/dev/null; then accepted="$accepted $changed"; fi
done
tap_is "every one-character change is refused" "${accepted:-none}" none

out=$("$RG" verify "${cfg[@]}" "reply+i-1-$mac-5@example.com"); rc=$?
tap_like "a foreign domain is refused with a reason" "$rc:$out" '^1:\{"valid": false, "reason": "not in a reply domain"\}$'
out=$("$RG" verify "${cfg[@]}" "reply++i-1-$mac-5@reply.example.com"); rc=$?
tap_like "a doubled separator is refused" "$rc:$out" '^1:.*"valid": false.*malformed kind'

chmod 644 "$dir/secrets"
out=$("$RG" address "${cfg[@]}" i 1 5 2>&1); rc=$?
tap_like "secrets readable by others: refused, naming file and mode" "$rc:$out" "^78:.*$dir/secrets has mode 0644"
chmod 600 "$dir/secrets"

printf 'short\n' > "$dir/short"; chmod 600 "$dir/short"
sed "s|^secrets_file.*|secrets_file = $dir/short|" "$dir/replygate.conf" > "$dir/short.conf"
out=$("$RG" address --config "$dir/short.conf" i 1 5 2>&1); rc=$?
tap_like "a secret shorter than 32 bytes is refused" "$rc:$out" '^78:.*at least 32'

printf 'reply_domian = x\n' > "$dir/bad.conf"
out=$("$RG" verify --config "$dir/bad.conf" "$addr" 2>&1); rc=$?
tap_like "a bad configuration names file, line and name" "$rc:$out" "^78:.*bad.conf:1: unknown name \"reply_domian\""

out=$(REPLYGATE_CONFIG="$dir/replygate.conf" "$RG" address i 1 5); rc=$?
tap_is "\$REPLYGATE_CONFIG is used without --config" "$rc:$out" "0:$addr"

# The unique Message-ID form of SPEC section 3 item 9.
id1=$("$RG" message-id "${cfg[@]}" i 1 5); rc=$?
tap_like "message-id: <local part>.<UTC time>.<16 hex>@domain" "$rc:$id1" \
    "^0:<reply\+i-1-$mac-5\.[0-9]{8}T[0-9]{6}Z\.[0-9a-f]{16}@reply\.example\.com>\$"
id2=$("$RG" message-id "${cfg[@]}" i 1 5)
[ "$id1" != "$id2" ] && differ=yes || differ="no: both $id1"
tap_is "message-id: two calls give two ids" "$differ" yes
out=$("$RG" verify "${cfg[@]}" "$id1"); rc=$?
tap_is "verify accepts the Message-ID form as the same key" "$rc:$out" \
    '0:{"valid": true, "kind": "i", "target": 1, "user": 5}'
out=$("$RG" message-id "${cfg[@]}" --suffix 1733450000.a_b-c i 18446744073709551615 0); rc=$?
mac_max=$(printf %s i-18446744073709551615-0 | openssl dgst -sha256 -hmac "$secret" | sed 's/.*= //' | cut -c1-40)
tap_is "message-id --suffix, target 2^64-1, user 0" "$rc:$out" \
    "0:<reply+i-18446744073709551615-$mac_max-0.1733450000.a_b-c@reply.example.com>"
out=$("$RG" message-id "${cfg[@]}" --suffix 'a+b' i 1 5 2>&1); rc=$?
tap_like "message-id: a suffix with '+' is refused" "$rc:$out" '^64:.*unique suffix'
out=$("$RG" message-id "${cfg[@]}" i 99999999999999999999 5 2>&1); rc=$?
tap_like "message-id: a target above 2^64-1 is refused" "$rc:$out" '^64:.*target'
out=$("$RG" address "${cfg[@]}" i 18446744073709551616 5 2>&1); rc=$?
tap_like "address: 2^64 is refused" "$rc:$out" '^64:.*target'
out=$("$RG" verify "${cfg[@]}" "reply+i-1-$mac-5.a+b@reply.example.com"); rc=$?
tap_like "verify refuses a bad suffix" "$rc:$out" '^1:.*unique suffix'

for sub in address message-id verify; do
    out=$("$RG" "$sub" --help); rc=$?
    tap_like "$sub --help" "$rc:$out" "^0:Usage:"
done
out=$("$RG" --help); rc=$?
tap_like "replygate --help lists subcommands" "$rc:$out" "^0:usage: replygate"
out=$("$RG" nonsense 2>&1); rc=$?
tap_is "an unknown subcommand is a usage error" "$rc" 64
out=$("$RG" address "${cfg[@]}" I 1 5 2>&1); rc=$?
tap_like "an upper-case kind is refused when signing" "$rc:$out" '^64:.*lower-case'
tap_done
