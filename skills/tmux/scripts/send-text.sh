#!/usr/bin/env bash
# Types TEXT into the session exactly as given (';', quotes, '$', unicode, any length).
# Usage: send-text.sh NAME [--enter] [--] TEXT
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/tmuxagent.sh" send "$@"
