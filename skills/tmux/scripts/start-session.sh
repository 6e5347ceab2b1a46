#!/usr/bin/env bash
# Starts a program in a new tmux session and prints how a human can watch it.
# Usage: start-session.sh NAME [--cwd DIR] [--env K=V]... [-- COMMAND [ARG...]]
#   no COMMAND: an agent shell (bash, no pager, exit codes kept; use run-command.sh)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/tmuxagent.sh" start "$@"
