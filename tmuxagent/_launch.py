"""Runs first in every new pane, then becomes the session's program.

tmux gives every pane the environment of the server, which was fixed when
the first session started. tmuxagent wants each program to run in the
environment, directory and argv of the ``start`` that asked for it, exactly,
with no shell in between; this script reads that from a file and ``exec``s,
so the program keeps the pane's pid and its exit status reaches tmux.

Run with ``python -I -S``: it must not import anything but the stdlib.
If the program cannot be started, the reason goes to the pane (the program's
stderr, so ``capture`` and ``read`` show it) and to ``launch.error`` in the
session's directory, beside its log.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    os.unlink(path)  # it holds the environment: do not leave it lying around
    argv = spec["argv"]
    env = spec["env"]
    # The terminal is tmux's, whatever the caller's was; its size is the pane's.
    for name in ("TERM", "TMUX", "TMUX_PANE"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    try:
        os.chdir(spec["cwd"])
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        message = f"tmuxagent: cannot run {argv[0]!r}: {exc.strerror}\n"
        sys.stderr.write(message)
        error = os.path.join(os.path.dirname(path), "launch.error")
        try:
            fd = os.open(error, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            os.write(fd, message.encode("utf-8", "replace"))
            os.close(fd)
        except OSError:
            pass  # the pane shows it anyway
        sys.exit(127)


if __name__ == "__main__":
    main()
