#!/usr/bin/env bash
# Waits, typing nothing, until output that appeared after your last input (and
# after the previous wait's match) matches REGEX (Python re, multiline). Never
# matches the echo of what you typed, nor older output. To type and then wait,
# give send-text.sh, send-keys.sh or paste.sh '--wait REGEX' instead.
# Usage: wait-for-text.sh NAME REGEX [--timeout S]   (default 30 s)
# Exit: 0 matched (prints the line), 1 timed out (prints the screen),
# 2 bad call or regex, 3 the program exited.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() {
    echo "usage: wait-for-text.sh NAME REGEX [--timeout S]  (quote the REGEX as one argument)" >&2
    exit 2
}
[ $# -ge 2 ] || usage
name="$1"
regex="$2"
shift 2
if [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+([.][0-9]*)?$ ]]; then
    set -- --timeout "$1"  # the older form: a bare TIMEOUT
fi
opts=()
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) [ $# -ge 2 ] || usage; opts+=("$1" "$2"); shift 2 ;;
        -?*) opts+=("$1"); shift ;;  # any other option of 'tmuxagent wait'
        *) usage ;;
    esac
done
exec "$here/tmuxagent.sh" wait --text="$regex" ${opts[@]+"${opts[@]}"} -- "$name"
