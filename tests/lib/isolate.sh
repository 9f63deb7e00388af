# isolate.sh - run the sourcing script in namespaces of its own; source it
# first thing, before the script does anything else:
#
#   . "$(dirname "$0")/../lib/isolate.sh"
#
# The first time it is sourced it runs the script again, with the same
# arguments, inside new network, mount and PID namespaces (unshare(1)), with
# the loopback interface up, and returns the script's exit status. There:
# - 127.0.0.1 (and all of 127/8) belongs to this run alone, so suites that
#   start Postfix, PostgreSQL, OpenDKIM or a resolver on fixed loopback ports
#   can run side by side, and with whatever else the host runs;
# - the script is PID 1 of its namespace: every process it leaves behind
#   (a Postfix master, a PostgreSQL, a milter) is killed when it ends, even
#   when meson kills the test at its time-out (--kill-child);
# - mounts made by the test (a private /etc/resolv.conf, ...) vanish with it.
# The file system is the host's: tests still keep their files in their own
# temporary folders. Needs root, unshare(1) and ip(8) (util-linux, iproute2).
# RG_ISOLATED=1 in the environment marks a run that is already inside.

if [ -z "${RG_ISOLATED:-}" ]; then
    export RG_ISOLATED=1
    # The script is $0, run again by bash with the arguments it was given.
    exec unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private \
        -- /bin/bash -c 'ip link set lo up || exit 1; exec /bin/bash "$0" "$@"' "$0" "$@"
fi
