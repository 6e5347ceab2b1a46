#!/usr/bin/env bash
# Runs the tmuxagent CLI, wherever it is installed. The other scripts call this.
# Usage: tmuxagent.sh VERB [ARGS...]   (see: tmuxagent.sh --help)
set -u
if command -v tmuxagent >/dev/null 2>&1; then
    exec tmuxagent "$@"
fi
for py in python3 python; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import tmuxagent' >/dev/null 2>&1; then
        exec "$py" -m tmuxagent "$@"
    fi
done
echo "tmuxagent: not installed: in a tmuxagent checkout run ./setup.sh and put its .venv/bin on PATH, or 'pip install /path/to/tmuxagent' (needs tmux 3.2+, Python 3.11+)" >&2
exit 4
