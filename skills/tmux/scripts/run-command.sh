#!/usr/bin/env bash
# Runs COMMAND in an agent shell session and prints only its output; the
# command's exit status follows on stderr as [exit status N] when it is not 0.
# Exit: 0 the command finished (whatever its status), 1 timed out (it keeps
# running: 'tmuxagent.sh wait NAME --prompt --timeout S' waits for it), 2 bad
# call, 3 busy or no session.
# Usage: run-command.sh NAME 'COMMAND' [--timeout S] [--json]   (default 30 s)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() {
    echo "usage: run-command.sh NAME 'COMMAND' [--timeout S] [--json]  (quote COMMAND as one argument)" >&2
    exit 2
}
[ $# -ge 2 ] || usage
name="$1"
command="$2"
shift 2
if [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+([.][0-9]*)?$ ]]; then
    set -- --timeout "$1"  # the older form: a bare TIMEOUT
fi
opts=()
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) [ $# -ge 2 ] || usage; opts+=("$1" "$2"); shift 2 ;;
        -?*) opts+=("$1"); shift ;;  # any other option of 'tmuxagent run'
        *) usage ;;
    esac
done
exec "$here/tmuxagent.sh" run ${opts[@]+"${opts[@]}"} -- "$name" "$command"
