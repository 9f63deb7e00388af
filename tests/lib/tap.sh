# tap.sh - TAP output for shell test suites; source it, then call ok/fail.
#
#   . "$(dirname "$0")/../lib/tap.sh"
#   tap_check "label" test "$got" = "$want"     # runs the command
#   tap_is "label" "$got" "$want"               # compares, prints got and want
#   tap_done                                    # the plan line and exit status
TAP_N=0
TAP_FAILED=0

tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - ${1//$'\n'/ }"; }
tap_not_ok() {
    TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - ${1//$'\n'/ }"
    shift
    # every line of a diagnostic is a comment, a multi-line "got" too
    for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}
tap_check() {
    local label=$1; shift
    if "$@"; then tap_ok "$label"; else tap_not_ok "$label" "command failed: $*"; fi
}
tap_is() {
    if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_not_ok "$1" "got:  $2" "want: $3"; fi
}
tap_like() {   # label text grep-ERE
    if printf '%s' "$2" | grep -Eq -- "$3"; then tap_ok "$1"; else tap_not_ok "$1" "got:  $2" "want match: $3"; fi
}
tap_bail() { echo "Bail out! $1"; exit 1; }
tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
