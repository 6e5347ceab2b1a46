#!/usr/bin/env bash
# Waits until the screen has not changed for SECONDS (default 2): for programs
# whose output you cannot predict. Exit 1 if it never settles within TIMEOUT.
# Usage: wait-idle.sh NAME [SECONDS] [TIMEOUT_SECONDS]
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
    echo "usage: wait-idle.sh NAME [SECONDS] [TIMEOUT_SECONDS]" >&2
    exit 2
fi
exec "$here/tmuxagent.sh" wait --idle="${2:-2}" --timeout="${3:-60}" -- "$1"
