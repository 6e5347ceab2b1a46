#!/usr/bin/env bash
# Prepares this checkout: tmux (through apt-get when it is missing and we may),
# a virtualenv in .venv, and tmuxagent installed into it with its test tools.
# Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v tmux >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "setup: installing tmux with apt-get" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
    elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        echo "setup: installing tmux with sudo apt-get" >&2
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
    else
        echo "setup: tmux is not installed; install tmux 3.2 or newer (e.g. 'sudo apt-get install tmux', 'brew install tmux') and run this again" >&2
        exit 1
    fi
fi

version=$(tmux -V | sed -n 's/^tmux \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
if [ -n "$version" ] && [ "$(echo "$version" | awk '{ print ($1 > 3 || ($1 == 3 && $2 >= 2)) }')" != 1 ]; then
    echo "setup: $(tmux -V) is too old; tmuxagent needs tmux 3.2 or newer" >&2
    exit 1
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: tmuxagent needs Python 3.11 or newer ('$python' is older or missing); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
echo "setup: ready ($(tmux -V), $(.venv/bin/python --version)); the CLI is .venv/bin/tmuxagent" >&2
