#!/usr/bin/env bash
# Waits until output that appeared after your last input matches REGEX (Python re,
# multiline). Never matches the echo of what you typed, nor older output.
# Usage: wait-for-text.sh NAME REGEX [TIMEOUT_SECONDS]   (default 30)
# Exit: 0 matched (prints the line), 1 timed out (prints the screen), 3 program exited.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: wait-for-text.sh NAME REGEX [TIMEOUT_SECONDS]  (quote the REGEX as one argument)" >&2
    exit 2
fi
exec "$here/tmuxagent.sh" wait --text="$2" --timeout="${3:-30}" -- "$1"
