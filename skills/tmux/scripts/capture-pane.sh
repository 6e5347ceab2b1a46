#!/usr/bin/env bash
# Prints the session's screen as text (what a human would see now).
# Usage: capture-pane.sh NAME [--lines N | --all] [--ansi] [--json]
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/tmuxagent.sh" capture "$@"
