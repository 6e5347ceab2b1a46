"""``run 'seq 1 40000'``: a command with a lot of output, against a capture loop.

    python bench/run.py [--runs 10]

Timed, each in turn, from the call to the command's whole output in hand:

- ``api``: ``Session.run("seq 1 40000")`` in the agent shell;
- ``cli``: ``tmuxagent run sh 'seq 1 40000'``, one process;
- ``capture loop``: plain tmux and bash (``PS1='$ '``): ``send-keys`` the
  command and Enter, then ``capture-pane -p -S -`` every 10 ms until the
  prompt is back: what agents hand-roll. tmux keeps 2,000 lines of history
  by default, so most lines are gone by the time it looks.

Prints the median of each and how many of the 40,000 lines each got. Goal
(issue 11): the API within 45 ms, with every line.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tmuxagent

CLI = shutil.which("tmuxagent") or str(Path(sys.executable).parent / "tmuxagent")
COUNT = 40_000
COMMAND = f"seq 1 {COUNT}"


def got(text: str) -> int:
    """How many of the numbers 1..COUNT are lines of ``text``."""
    wanted = {str(n) for n in range(1, COUNT + 1)}
    return len(wanted & set(text.split("\n")))


def capture_loop(socket: str) -> tuple[float, int]:
    tmux = ["tmux", "-S", socket]
    started = time.perf_counter()
    subprocess.run([*tmux, "send-keys", "-t", "=plain:", COMMAND, "Enter"], check=True)
    while True:
        time.sleep(0.01)
        screen = subprocess.run(
            [*tmux, "capture-pane", "-p", "-S", "-", "-t", "=plain:"],
            capture_output=True, text=True, check=True,
        ).stdout.rstrip("\n")  # fmt: skip
        lines = screen.split("\n")
        if lines[-1] == "$" and lines[-2] == str(COUNT):  # the prompt is back
            elapsed = time.perf_counter() - started
            subprocess.run([*tmux, "clear-history", "-t", "=plain:"], check=True)
            return elapsed, got(screen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    # The CLI is timed as installed: byte-compiled (not under PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(Path(tmuxagent.__file__).parent, quiet=1)
    results: dict[str, list[tuple[float, int]]] = {"api": [], "cli": [], "capture loop": []}
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        socket = os.path.join(tmp, "s")
        plain = os.path.join(tmp, "plain")
        server = tmuxagent.Server(socket)
        env = {**os.environ, "TMUXAGENT_SOCKET": socket}
        try:
            sh = server.start("sh")
            subprocess.run(
                ["tmux", "-S", plain, "-f", "/dev/null", "new-session", "-d", "-s", "plain",
                 "-x", "80", "-y", "24", "env", "PS1=$ ", "bash", "--norc", "--noprofile"],
                check=True,
            )  # fmt: skip
            for _ in range(args.runs):
                started = time.perf_counter()
                output = sh.run(COMMAND).output
                results["api"].append((time.perf_counter() - started, got(output)))
                started = time.perf_counter()
                output = subprocess.run(
                    [CLI, "run", "sh", COMMAND], capture_output=True, text=True, env=env, check=True
                ).stdout
                results["cli"].append((time.perf_counter() - started, got(output)))
                results["capture loop"].append(capture_loop(plain))
        finally:
            server.kill_all()
            subprocess.run(["tmux", "-S", plain, "kill-server"], check=False)
    print(f"{COMMAND}: {args.runs} runs each, medians")
    for label, runs in results.items():
        ms = statistics.median(t for t, _ in runs) * 1000
        lines = statistics.median(n for _, n in runs)
        print(f"  {label:<14} {ms:8.1f} ms   {lines:8.0f} of {COUNT} lines")
    print("goal (issue 11): api <= 45 ms, every line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
