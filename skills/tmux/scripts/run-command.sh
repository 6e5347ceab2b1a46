#!/usr/bin/env bash
# Runs COMMAND in an agent shell session and prints only its output; the
# command's exit status follows on stderr as [exit status N] when it is not 0.
# Usage: run-command.sh NAME COMMAND [TIMEOUT_SECONDS]   (add --json via tmuxagent.sh run)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 2 ]; then
    echo "usage: run-command.sh NAME COMMAND [TIMEOUT_SECONDS]" >&2
    exit 2
fi
exec "$here/tmuxagent.sh" run --timeout="${3:-30}" -- "$1" "$2"
