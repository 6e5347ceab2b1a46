#!/usr/bin/env bash
# Waits, typing nothing, until the screen has not changed for SECONDS (default
# 2): for programs whose output you cannot predict. Exit 1 if it never settles
# within the timeout (default 60 s), 3 if the program exited. To type and then
# wait, give send-text.sh, send-keys.sh or paste.sh '--wait-idle S' instead.
# Usage: wait-idle.sh NAME [SECONDS] [--timeout S]
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() {
    echo "usage: wait-idle.sh NAME [SECONDS] [--timeout S]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
name="$1"
shift
seconds=2
if [ $# -gt 0 ] && [[ $1 != -* ]]; then
    seconds="$1"
    shift
fi
if [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+([.][0-9]*)?$ ]]; then
    set -- --timeout "$1"  # the older form: a bare TIMEOUT
fi
opts=(--timeout 60)
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) [ $# -ge 2 ] || usage; opts+=("$1" "$2"); shift 2 ;;
        -?*) opts+=("$1"); shift ;;  # any other option of 'tmuxagent wait'
        *) usage ;;
    esac
done
exec "$here/tmuxagent.sh" wait --idle="$seconds" "${opts[@]}" -- "$name"
