#!/bin/bash
# man.sh - the manual pages: each renders with `man --warnings -l` and with
# `groff -man -ww -z` without a warning; replygate.conf(5) documents exactly
# the parser's configuration names, in its order, each with the parser's
# default; every long option that a program's --help lists is in its page;
# every subcommand of replygate has its section in replygate(1).
#
# usage: man.sh DOCS_DIR CONFIG_NAMES REPLYGATE DELIVER MILTER LMTPD
set -u
. "$(dirname "$0")/../lib/tap.sh"
docs=$1 names_prog=$2 rg=$3 deliver=$4 milter=$5 lmtpd=$6
export LC_ALL=C MANWIDTH=1000 MAN_KEEP_FORMATTING=
unset MANPAGER PAGER

for page in replygate.1 replygate.conf.5 replygate-deliver.8 replygate-lmtpd.8 replygate-milter.8 replygate-app.7; do
    out=$(man --warnings -l "$docs/$page" 2>&1 >/dev/null); rc=$?
    tap_is "man --warnings -l $page: no warnings" "$rc:$out" "0:"
    out=$(groff -man -ww -z "$docs/$page" 2>&1); rc=$?
    tap_is "groff -man -ww -z $page: no warnings" "$rc:$out" "0:"
    text=$(man -l "$docs/$page" 2>/dev/null | col -b)
    tap_like "$page renders a NAME section" "$text" '^NAME'
done

# --- replygate.conf(5) and the parser -------------------------------------
parser=$("$names_prog"); rc=$?
tap_is "config-names runs" "$rc" 0
want=$(printf '%s\n' "$parser" | cut -f1)
# Under PARAMETERS every name is ".TP" then ".B name".
got=$(awk '/^\.SH / { in_p = ($2 == "PARAMETERS") }
           in_p && prev == ".TP" && $1 == ".B" { print $2 }
           { prev = $0 }' "$docs/replygate.conf.5")
tap_is "replygate.conf(5) lists the parser's names, in its order" "$got" "$want"

conf_text=$(man -l "$docs/replygate.conf.5" 2>/dev/null | col -b)
while IFS=$'\t' read -r name def; do
    # The entry: the line naming it, then its one-line body (MANWIDTH=1000).
    body=$(printf '%s\n' "$conf_text" | awk -v n="$name" '
        found { sub(/^[ \t]+/, ""); print; exit } $1 == n && NF == 1 { found = 1 }')
    case $def in
    required) pat='^\(required' ;;
    none) pat='^\(default: none' ;;
    *) pat="^\\(default: $(printf '%s' "$def" | sed 's/[][\.*^$+?(){}|/]/\\&/g')\\)" ;;
    esac
    tap_like "replygate.conf(5): $name, default $def" "$body" "$pat"
done <<<"$parser"

# --- every option a program lists is documented ---------------------------
# long_options - the --long names in a --help text
long_options() { grep -oE -- '--[a-z][a-z-]+' | sort -u | grep -vxE -- '--help(-all)?'; }

# check_options LABEL PAGE HELP-TEXT
check_options() {
    local label=$1 page=$2 help=$3 missing= opt
    text=$(man -l "$docs/$page" 2>/dev/null | col -b)
    for opt in $(printf '%s\n' "$help" | long_options); do
        printf '%s\n' "$text" | grep -qF -- "$opt" || missing+=" $opt"
    done
    tap_is "$label: every --option in --help is in $page" "${missing# }" ""
}

help=$("$deliver" --help 2>&1)
tap_like "replygate-deliver --help lists options" "$help" '--config'
check_options "replygate-deliver" replygate-deliver.8 "$help"
help=$("$milter" --help 2>&1)
tap_like "replygate-milter --help lists options" "$help" '--config'
check_options "replygate-milter" replygate-milter.8 "$help"
help=$("$lmtpd" --help 2>&1)
tap_like "replygate-lmtpd --help lists options" "$help" '--config'
check_options "replygate-lmtpd" replygate-lmtpd.8 "$help"
for prog in "$deliver" "$milter" "$lmtpd" "$rg"; do
    out=$("$prog" --version 2>&1); rc=$?
    tap_like "$(basename "$prog") --version" "$rc:$out" "^0:$(basename "$prog") [0-9]+\.[0-9]+"
done

rg_text=$(man -l "$docs/replygate.1" 2>/dev/null | col -b)
subs=$("$rg" --help | awk '/^subcommands:/ { on = 1; next } on && NF { print $1 } on && !NF { exit }')
tap_like "replygate --help lists subcommands" "$subs" 'address'
for sub in $subs; do
    tap_like "replygate(1) has a section for $sub" "$rg_text" "^   replygate $sub( |\$)"
    check_options "replygate $sub" replygate.1 "$("$rg" "$sub" --help 2>&1)"
done
tap_done
