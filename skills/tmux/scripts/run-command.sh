#!/usr/bin/env bash
# Runs COMMAND in an agent shell session and prints only its output; the
# command's exit status follows on stderr as [exit status N] when it is not 0.
# Exit: 0 the command finished (whatever its status), 1 timed out (it keeps
# running: 'tmuxagent.sh wait NAME --prompt' waits for it), 3 busy or no session.
# Usage: run-command.sh NAME 'COMMAND' [TIMEOUT_SECONDS]   (JSON: tmuxagent.sh run NAME --json ...)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 2 ] || [ $# -gt 3 ] || { [ $# -eq 3 ] && ! [[ $3 =~ ^[0-9]+([.][0-9]*)?$ ]]; }; then
    echo "usage: run-command.sh NAME 'COMMAND' [TIMEOUT_SECONDS]  (quote COMMAND as one argument)" >&2
    exit 2
fi
exec "$here/tmuxagent.sh" run --timeout="${3:-30}" -- "$1" "$2"
