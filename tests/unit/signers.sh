#!/bin/bash
# signers.sh - the published test vectors (docs/test-vectors.json) against
# replygate's own C code (`replygate address`, `message-id`, `verify`) and
# against every reference signer of docs/signers/, each run by its own
# interpreter: python3, ruby, node and go (scripts/deps installs them; a
# missing one fails, since a signer that is not run is not shipped).
#
#   signers.sh REPLYGATE SOURCE_ROOT
#
# Each secrets file of the vectors is written byte for byte (CRLF, comments,
# blank lines, several secrets) into a mode 0600 file in a temporary folder.
# Every signing, Message-ID and rotation vector and every refusal is checked.
# The signers run in their --batch mode (one process per secrets file, the
# vectors on standard input, tab-separated); the C code once per vector.
# One TAP case per implementation and group; a failure lists what differed.
set -u
. "$(dirname "$0")/../lib/tap.sh"
RG=$1
SRC=$2
vectors=$SRC/docs/test-vectors.json
signers=$SRC/docs/signers
dir=$(mktemp -d /tmp/rg-signers.XXXXXX)
trap 'rm -rf "$dir"' EXIT
domain=$(jq -r .domain "$vectors") || tap_bail "cannot read $vectors"

names=(c python ruby node go)
declare -A cmd=([python]="python3 $signers/replygate_sign.py" [ruby]="ruby $signers/replygate_sign.rb"
    [node]="node $signers/replygate_sign.js")
missing=()
for tool in python3 ruby node go; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -eq 0 ]; then
    tap_ok "python3, ruby, node and go are installed"
else
    tap_not_ok "python3, ruby, node and go are installed" "missing: ${missing[*]} (scripts/deps installs them)"
fi
if command -v go >/dev/null; then
    # Offline, GOPATH mode, the caches in the temporary folder.
    if GOCACHE=$dir/gocache GOPATH=$dir/gopath GOFLAGS=-buildvcs=false GOPROXY=off GO111MODULE=off \
        go build -o "$dir/replygate_sign_go" "$signers/replygate_sign.go" 2>"$dir/go-build.err"; then
        cmd[go]=$dir/replygate_sign_go
    else
        tap_not_ok "go build docs/signers/replygate_sign.go" "$(cat "$dir/go-build.err")"
    fi
fi

# c_line SECRETS LINE - the C code's answer to one tab-separated line
c_line() {
    local secrets=$1 line=$2 f=() rest out
    printf 'reply_domain = %s\nsecrets_file = %s\n' "$domain" "$secrets" >"$dir/c.conf"
    rest=$line
    while [[ $rest == *$'\t'* ]]; do f+=("${rest%%$'\t'*}"); rest=${rest#*$'\t'}; done
    f+=("$rest")
    if [ ${#f[@]} -eq 4 ] && [ "${f[3]}" = - ]; then
        out=$("$RG" message-id --config "$dir/c.conf" "${f[@]:0:3}" 2>&1)
    elif [ ${#f[@]} -eq 4 ]; then
        out=$("$RG" message-id --config "$dir/c.conf" --suffix "${f[3]}" "${f[@]:0:3}" 2>&1)
    else
        out=$("$RG" address --config "$dir/c.conf" "${f[@]}" 2>&1)
    fi || out="error: $out"
    printf '%s\n' "$out"
}

# run IMPL SECRETS - answer every line of standard input, one line each;
# exit status 127 when the implementation cannot run
run() {
    local impl=$1 secrets=$2 line
    if [ "$impl" = c ]; then
        while IFS= read -r line; do c_line "$secrets" "$line"; done
        return 0
    fi
    [ -n "${cmd[$impl]:-}" ] || return 127
    ${cmd[$impl]} "$secrets" "$domain" --batch 2>&1
}

# verify ADDRESS SECRETS - replygate verify's JSON and exit status
verify() {
    printf 'reply_domain = %s\nsecrets_file = %s\n' "$domain" "$2" >"$dir/v.conf"
    "$RG" verify --config "$dir/v.conf" "$1"
}

# compare LABEL INPUT_FILE WANT_FILE GOT_FILE - one TAP line
compare() {
    local problems=() i
    mapfile -t input <"$2"
    mapfile -t want <"$3"
    mapfile -t got <"$4"
    for ((i = 0; i < ${#want[@]}; i++)); do
        [ "${got[i]:-}" = "${want[i]}" ] ||
            problems+=("$(printf '%s' "${input[i]}" | tr '\t' ' '): got [${got[i]:-}], want [${want[i]}]")
    done
    [ ${#got[@]} -eq ${#want[@]} ] || problems+=("got ${#got[@]} lines, want ${#want[@]}")
    if [ ${#problems[@]} -eq 0 ]; then tap_ok "$1"; else tap_not_ok "$1" "${problems[@]}"; fi
}

groups=$(jq '.secrets_files | length' "$vectors")
for ((g = 0; g < groups; g++)); do
    label=$(jq -r ".secrets_files[$g].label" "$vectors")
    secrets=$dir/secrets-$g
    jq -j ".secrets_files[$g].content" "$vectors" >"$secrets"
    chmod 600 "$secrets"
    jq -r ".secrets_files[$g] | (.sign[] | [.kind, .target, .user]),
        (.message_ids[] | [.kind, .target, .user, .suffix]) | join(\"\t\")" "$vectors" >"$dir/in-$g"
    jq -r ".secrets_files[$g] | (.sign[] | .address), (.message_ids[] | .message_id)" \
        "$vectors" >"$dir/want-$g"
    for impl in "${names[@]}"; do
        run "$impl" "$secrets" <"$dir/in-$g" >"$dir/got-$impl-$g"
        compare "$impl signs the vectors of \"$label\"" "$dir/in-$g" "$dir/want-$g" "$dir/got-$impl-$g"
    done
    # Rotation: every secret verifies, anything else is refused (the C code
    # is the verifier; the signers only sign).
    problems=()
    while IFS=$'\x1f' read -r address valid kind target user; do
        out=$(verify "$address" "$secrets"); rc=$?
        if [ "$valid" = true ]; then
            want="{\"valid\": true, \"kind\": \"$kind\", \"target\": $target, \"user\": $user}"
            [ "$rc:$out" = "0:$want" ] || problems+=("$address: got $rc:$out, want 0:$want")
        else
            [ "$rc" = 1 ] || problems+=("$address: got $rc:$out, want refused")
        fi
    done < <(jq -r ".secrets_files[$g].verify[] | [.address, .valid, .kind, .target, .user]
        | map(tostring) | join(\"\u001f\")" "$vectors")
    while IFS= read -r id; do
        bare=${id#<}
        out=$(verify "${bare%>}" "$secrets"); rc=$?
        [ "$rc" = 0 ] || problems+=("Message-ID $id: got $rc:$out, want valid")
    done < <(jq -r ".secrets_files[$g].message_ids[].message_id" "$vectors")
    if [ ${#problems[@]} -eq 0 ]; then
        tap_ok "replygate verify, \"$label\": every secret verifies, others refused"
    else
        tap_not_ok "replygate verify, \"$label\"" "${problems[@]}"
    fi
done

# Refusals: target or user above 2^64-1, leading zeros, bad kinds, bad
# suffixes; and secrets files without a usable secret.
first=$dir/secrets-0
jq -r '(.refused[] | [.kind, .target, .user]), (.refused_suffixes[] | ["i", "1", "5", .suffix])
    | join("\t")' "$vectors" >"$dir/in-refused"
n_files=$(jq '.refused_files | length' "$vectors")
for ((f = 0; f < n_files; f++)); do
    jq -j ".refused_files[$f].content" "$vectors" >"$dir/bad-secrets-$f"
    chmod 600 "$dir/bad-secrets-$f"
done
for impl in "${names[@]}"; do
    problems=()
    run "$impl" "$first" <"$dir/in-refused" >"$dir/got-refused-$impl"
    mapfile -t input <"$dir/in-refused"
    mapfile -t got <"$dir/got-refused-$impl"
    for ((i = 0; i < ${#input[@]}; i++)); do
        [[ ${got[i]:-} == error:* ]] ||
            problems+=("$(printf '%s' "${input[i]}" | tr '\t' ' '): got [${got[i]:-}], want an error")
    done
    for ((f = 0; f < n_files; f++)); do
        if out=$(printf 'i\t1\t5\n' | run "$impl" "$dir/bad-secrets-$f") && [[ $out != error:* ]]; then
            problems+=("secrets file, $(jq -r ".refused_files[$f].why" "$vectors"): got [$out]")
        fi
    done
    if [ ${#problems[@]} -eq 0 ]; then
        tap_ok "$impl refuses every refused vector"
    else
        tap_not_ok "$impl refuses every refused vector" "${problems[@]}"
    fi
done

# A fresh Message-ID from each implementation has the form, and verifies.
for impl in "${names[@]}"; do
    id=$(printf 'p\t18446744073709551615\t7\t-\n' | run "$impl" "$first")
    bare=${id#<}
    out=$(verify "${bare%>}" "$first"); rc=$?
    if printf '%s' "$id" | grep -Eq '^<reply\+p-18446744073709551615-[0-9a-f]{40}-7\.[0-9]{8}T[0-9]{6}Z\.[0-9a-f]{16}@reply\.example\.com>$' &&
        [ "$rc:$out" = '0:{"valid": true, "kind": "p", "target": 18446744073709551615, "user": 7}' ]; then
        tap_ok "$impl makes a fresh Message-ID that replygate verify accepts"
    else
        tap_not_ok "$impl makes a fresh Message-ID that replygate verify accepts" "got [$id]" \
            "verify: $rc:$out"
    fi
done
tap_done
