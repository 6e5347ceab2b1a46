#!/usr/bin/env bash
# Prints everything the program wrote since the last read (nothing lost to scrolling).
# Usage: read-output.sh NAME
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/tmuxagent.sh" read "$@"
