#!/usr/bin/env bash
# Pastes a file (or stdin) as one bracketed paste: multi-line code, any size.
# Usage: paste.sh NAME [FILE|-] [--enter]
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/tmuxagent.sh" paste "$@"
