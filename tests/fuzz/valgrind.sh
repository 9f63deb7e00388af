#!/bin/bash
# valgrind.sh - the exe_wrapper of `meson test --setup valgrind`.
#
#   valgrind.sh PROGRAM [ARGS...]
#
# A compiled test program runs under valgrind memcheck directly. A test
# script (corpus, cli) runs as it is, but every argument and environment
# value that names a compiled program of this build (RG_VALGRIND_ROOT) is
# replaced by a small script that runs that program under valgrind: so
# replygate-deliver is checked on every message of the corpus, and bash and
# jq are not. Any memcheck error or definitely lost block makes the program
# exit 1 (--error-exitcode), which the suite reports as a failing case; the
# reports stay in $RG_VALGRIND_LOGS (default /tmp/rg-valgrind) and the paths
# of those with errors are printed on stderr at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${RG_VALGRIND_ROOT:-}
logs=${RG_VALGRIND_LOGS:-/tmp/rg-valgrind}
mkdir -p "$logs"
vg=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --num-callers=30
    --suppressions="$here/valgrind.supp" --gen-suppressions=all)

# is_ours PATH - a compiled program (ELF) inside the build tree?
is_ours() {
    [ -n "$root" ] && [ -f "$1" ] && [ -x "$1" ] || return 1
    case "$1" in "$root"/*) ;; *) return 1 ;; esac
    [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

if [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    log="$logs/$(basename "$1").%p.log"
    "${vg[@]}" --log-file="$log" "$@"
    rc=$?
    grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost|Invalid|uninitialised' "$logs/$(basename "$1")".*.log \
        2>/dev/null | sed 's/^/valgrind report: /' >&2
    exit $rc
fi

wrap=$(mktemp -d /tmp/rg-vgwrap.XXXXXX)
trap 'rm -rf "$wrap"' EXIT
# wrapper_for PATH - a script that runs PATH under valgrind; prints its path
wrapper_for() {
    local w="$wrap/$(basename "$1")"
    {
        echo '#!/bin/bash'
        printf 'exec'
        printf ' %q' "${vg[@]}" "--log-file=$logs/$(basename "$1").%p.log" "$1"
        echo ' "$@"'
    } > "$w"
    chmod 755 "$w"
    echo "$w"
}
args=()
for a in "$@"; do
    if is_ours "$a"; then args+=("$(wrapper_for "$a")"); else args+=("$a"); fi
done
while IFS='=' read -r name value; do
    is_ours "$value" && export "$name=$(wrapper_for "$value")"
done < <(env | grep -E '^[A-Za-z_][A-Za-z0-9_]*=/' )
"${args[@]}"
rc=$?
grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost' "$logs"/*.log 2>/dev/null |
    sed 's/^/# valgrind report with errors: /' >&2
exit $rc
