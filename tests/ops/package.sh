#!/bin/bash
# package.sh - the Debian package (issue 18): scripts/package builds
# replygate_<version>_amd64.deb with dpkg-buildpackage; lintian finds no
# error in it (the warnings kept are explained in debian/replygate.lintian-
# overrides); and in a brand-new Debian 12 root (scripts/fresh-root) it goes
# through install -> README's set-up -> a reply stored through each door ->
# upgrade -> remove -> purge (tests/ops/package-root.sh checks files, user,
# units and Postfix's files after each step). The "previous build" of the
# upgrade is the same build with a lower version. Under scripts/test in CI
# this runs inside a fresh root itself: the root made here is nested.
#
# Slow (a package build and a root with Postfix): its own suite, "package".
# Needs the network to the Debian archive, so it runs in the host's network.
#
# usage: package.sh SOURCE_DIR
set -u
src=$1
. "$src/tests/lib/tap.sh"
T=$(mktemp -d /tmp/rg-package.XXXXXX)
chmod 755 "$T"  # lintian runs as nobody
trap 'rm -rf "$T"' EXIT

out=$("$src/scripts/package" --output "$T" 2>&1); rc=$?
deb=$(printf '%s\n' "$out" | tail -1)
tap_is "scripts/package: exit 0" "$rc" 0
version=$(sed -n "s/^  version : '\([^']*\)',$/\1/p" "$src/meson.build")
tap_is "it makes replygate_<version>_amd64.deb" "$(basename "$deb")" "replygate_${version}_amd64.deb"
[ -f "$deb" ] || { printf '%s\n' "$out" | tail -30 | sed 's/^/# /' | tee /dev/stderr; tap_bail "no package"; }
tap_like "dh_auto_test ran the unit suites" "$out" 'package: test: Ok: +[1-9]'
tap_like "  and no other suite" "$(printf '%s\n' "$out" | grep 'package: test: [0-9]*/' | grep -vcE '[:+]unit[ +]')" '^0$'

# lintian: errors fail; the warnings printed here are those not overridden.
# It runs in $T, which user nobody may enter (meson's folder may be in
# root's home, as in CI's fresh root, and lintian would stop there).
lint=$(cd "$T" && su nobody -s /bin/sh -c "lintian --fail-on error --tag-display-limit 0 '$deb'" 2>&1); rc=$?
printf '%s\n' "$lint" | sed 's/^/#   lintian: /'
tap_is "lintian: no error (exit 0)" "$rc" 0
tap_is "lintian: no E: line" "$(printf '%s\n' "$lint" | grep -c '^E: ')" 0

# The previous build: the same files under a lower version.
mkdir "$T/old"
dpkg-deb -R "$deb" "$T/old"
sed -i "s/^Version: .*/Version: ${version}~prev/" "$T/old/DEBIAN/control"
dpkg-deb -b "$T/old" "$T/replygate_${version}~prev_amd64.deb" >/dev/null
tap_check "the previous build is made" test -f "$T/replygate_${version}~prev_amd64.deb"

out=$("$src/scripts/fresh-root" --copy "$T/replygate_${version}~prev_amd64.deb" --copy "$deb" \
    "bash tests/ops/package-root.sh replygate_${version}~prev_amd64.deb replygate_${version}_amd64.deb" 2>&1)
rc=$?
# The root's TAP lines become this script's cases; the rest are comments.
while IFS= read -r line; do
    case $line in
    "ok "*) tap_ok "fresh root: ${line#ok * - }" ;;
    "not ok "*) tap_not_ok "fresh root: ${line#not ok * - }" ;;
    "1.."*) ;;
    "Bail out!"*) tap_not_ok "fresh root: $line" ;;
    *) echo "# $line" ;;
    esac
done <<<"$out"
tap_is "the fresh root's run: exit 0" "$rc" 0
tap_done
