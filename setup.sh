#!/usr/bin/env bash
# Prepares this checkout: tmux and Python's venv module (through apt-get when
# they are missing and we may), a virtualenv in .venv, and tmuxagent installed
# into it with its test tools, byte-compiled. Safe to run again, also after a
# failed run: it only does what is missing, and remakes a broken .venv.
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3}
say() { echo "setup: $*" >&2; }

if ! command -v "$python" >/dev/null 2>&1 ||
    ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "tmuxagent needs Python 3.11 or newer ('$python' is older or missing); set PYTHON=/path/to/python3.11"
    exit 1
fi

# What a fresh Debian or Ubuntu lacks: tmux, and venv with ensurepip (python3-venv).
missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    minor=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    missing+=("python$minor-venv")
fi
# For the remote-host tests (a real sshd on 127.0.0.1): OpenSSH, when we may
# install it; without it those tests are skipped.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
fi
if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo=(sudo)
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ ${#sudo[@]} -gt 0 ]; }; then
        say "installing ${missing[*]} with ${sudo[*]:+sudo }apt-get"
        log=$(mktemp)
        trap 'rm -f "$log"' EXIT
        if ! { "${sudo[@]}" apt-get update -qq &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            say "apt-get failed (above); install ${missing[*]} and run this again"
            exit 1
        fi
        rm -f "$log"
    else
        say "missing: ${missing[*]}; install them (e.g. 'sudo apt-get install ${missing[*]}'; on macOS 'brew install tmux') and run this again"
        exit 1
    fi
fi

version=$(tmux -V | sed -n 's/^tmux \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
if [ -n "$version" ] && [ "$(echo "$version" | awk '{ print ($1 > 3 || ($1 == 3 && $2 >= 2)) }')" != 1 ]; then
    say "$(tmux -V) is too old; tmuxagent needs tmux 3.2 or newer"
    exit 1
fi

if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then  # e.g. a pyenv Python
    say "'$python' has no venv module (with ensurepip); install it for that Python, or set PYTHON=/usr/bin/python3"
    exit 1
fi

# A .venv left by a failed run (no pip: python3-venv was missing) or made by
# a Python that is gone is remade rather than reused (a dangling link too).
if { [ -e .venv ] || [ -L .venv ]; } && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    say "remaking .venv (it has no working python or pip)"
    rm -rf .venv
fi
if [ ! -e .venv ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# The CLI starts once per agent step: compiled now, not on every call (a
# machine may forbid writing bytecode at run time: PYTHONDONTWRITEBYTECODE).
.venv/bin/python -m compileall -q tmuxagent >/dev/null

say "ready ($(tmux -V), $(.venv/bin/python --version))"
say "to call it as 'tmuxagent': export PATH=\"$PWD/.venv/bin:\$PATH\""
