#!/usr/bin/env bash
# Presses named keys, in order. Unknown names are refused (exit 2), never typed.
# Usage: send-keys.sh NAME KEY...   e.g. Enter Escape Tab BSpace C-c C-d M-x Up Down PageUp F5 y
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/tmuxagent.sh" keys "$@"
