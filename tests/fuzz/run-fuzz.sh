#!/bin/bash
# run-fuzz.sh - build the libFuzzer targets with clang and run each for a while.
#
#   run-fuzz.sh OUTDIR [SECONDS]
#
# Builds the targets with clang -fsanitize=fuzzer,address,undefined straight
# from the sources (lib/*.c and pipe-agent/*.c but files with a main(), with the
# pkg-config flags of GLib, GMime, libpq, libcrypto, libpsl and ICU) into OUTDIR, then runs
# each target for SECONDS (default $FUZZ_SECONDS or 30) over a copy of its
# committed seed corpus (corpus/NAME/), with NAME.dict as its dictionary when
# there is one. One TAP case per build and per run.
# A crash, a leak, undefined behaviour or a slow input is a failure: the
# input is printed in base64, so it can be fixed and added to corpus/NAME/.
# Objects are compiled again only when a source or header is newer.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/../lib/tap.sh"

out=${1:?usage: run-fuzz.sh OUTDIR [SECONDS]}
seconds=${2:-${FUZZ_SECONDS:-30}}
targets=(message address config autosubmit authres)
mkdir -p "$out/obj"
work=$(mktemp -d /tmp/rg-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null; then
    tap_not_ok "clang is installed" "no $cc in PATH (scripts/deps installs clang)"
    tap_done; exit 1
fi
pkgs="glib-2.0 gmime-3.0 libpq libcrypto libpsl icu-uc"
# shellcheck disable=SC2207
cflags=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
        -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE
        '-DG_LOG_DOMAIN="replygate"' '-DREPLYGATE_VERSION="fuzz"'
        '-DREPLYGATE_SYSCONFDIR="/etc/replygate"' '-DREPLYGATE_DATADIR="/usr/share/replygate"'
        "-DREPLYGATE_SOURCE_DIR=\"$src\"" -I"$src/lib" -I"$src/pipe-agent" -I"$here"
        $(pkg-config --cflags $pkgs))
# shellcheck disable=SC2207
libs=($(pkg-config --libs $pkgs))

# newest_header - the modification time of the newest header the objects use
newest_header() {
    stat -c %Y "$src"/lib/*.h "$src"/pipe-agent/*.h "$here"/*.h | sort -n | tail -1
}

# compile SRC OBJ - compile when OBJ is missing or older than SRC or a header
compile() {
    if [ -f "$2" ] && [ "$(stat -c %Y "$2")" -ge "$(stat -c %Y "$1")" ] &&
       [ "$(stat -c %Y "$2")" -ge "$hdr_time" ]; then
        return 0
    fi
    "$cc" "${cflags[@]}" -c "$1" -o "$2" 2>>"$work/build.log"
}

hdr_time=$(newest_header)
objs=()
build_ok=1
for f in "$src"/lib/*.c "$src"/pipe-agent/*.c; do
    # Programs (deliver.c, or any other file with a main) are not library code.
    grep -q -E '^(int )?main ?\(' "$f" && continue
    o="$out/obj/$(basename "$(dirname "$f")")-$(basename "$f" .c).o"
    compile "$f" "$o" || build_ok=0
    objs+=("$o")
done
if [ "$build_ok" = 1 ]; then
    tap_ok "compile lib/ and pipe-agent/ with clang and the sanitizers"
else
    tap_not_ok "compile lib/ and pipe-agent/ with clang and the sanitizers" \
        "$(grep -m5 error "$work/build.log")"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export G_SLICE=always-malloc
for t in "${targets[@]}"; do
    bin="$out/fuzz-$t"
    o="$out/obj/fuzz-$t.o"
    if ! compile "$here/fuzz-$t.c" "$o" ||
       ! "$cc" -fsanitize=fuzzer,address,undefined -o "$bin" "$o" "${objs[@]}" "${libs[@]}" \
            2>>"$work/build.log"; then
        tap_not_ok "fuzz-$t: build" "$(grep -m5 -E 'error|undefined' "$work/build.log")"
        continue
    fi
    tap_ok "fuzz-$t: build"
    mkdir -p "$work/corpus-$t" "$work/crash-$t"
    # The first folder collects new inputs; the committed seeds are only read.
    dict=()
    [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$work/crash-$t/" "${dict[@]}" \
        "$work/corpus-$t" "$here/corpus/$t" > "$work/fuzz-$t.log" 2>&1
    rc=$?
    runs=$(sed -n "s/^stat::number_of_executed_units: *//p" "$work/fuzz-$t.log" | tail -1)
    artifact=$(find "$work/crash-$t" -type f | head -1)
    if [ "$rc" = 0 ] && [ -z "$artifact" ]; then
        tap_ok "fuzz-$t: ${seconds}s, ${runs:-?} inputs, no crash"
    else
        lines=("exit $rc after ${runs:-?} inputs")
        while IFS= read -r l; do lines+=("$l"); done < <(grep -E -m12 \
            'ERROR|SUMMARY|runtime error|#[0-9]+ 0x|Deadly|timeout|leak' "$work/fuzz-$t.log")
        if [ -n "$artifact" ]; then
            lines+=("input ($(basename "$artifact")), base64:")
            while IFS= read -r l; do lines+=("$l"); done < <(head -c 4096 "$artifact" | base64)
            mkdir -p "$out/crashes"
            cp "$artifact" "$out/crashes/$t-$(basename "$artifact")"
            lines+=("kept in $out/crashes/; fix, then add it to tests/fuzz/corpus/$t/")
        fi
        tap_not_ok "fuzz-$t: ${seconds}s" "${lines[@]}"
    fi
done
tap_done
