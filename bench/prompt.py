"""Prompt waits: how soon ``wait_text`` sees a prompt (a last line with no
line break after it), against an older tmuxagent in the same run.

    python bench/prompt.py [--trials 20] [--runs 3] [--against DIR]

A program prints ``P<time>> `` (its clock in the prompt) and waits for input,
either in a plain read of its terminal (``input()`` without readline) or as
readline does: the terminal in non-canonical mode without echo, and
``select()`` before each read, echoing what it read, until the line ends.
The waiter sends a line and waits for the next prompt; the latency is from
the print to the waiter's return.
``--against DIR`` runs the same in a checkout of another version (e.g. a
``git worktree`` of an older commit), interleaved run by run. Medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROGRAM = r"""
import os, select, sys, termios, time
poll = sys.argv[1] == "poll"
if poll:  # as readline sets it
    mode = termios.tcgetattr(0)
    mode[3] &= ~(termios.ICANON | termios.ECHO)
    termios.tcsetattr(0, termios.TCSANOW, mode)
while True:
    sys.stdout.write("P%.6f> " % time.time()); sys.stdout.flush()
    line = b""
    while not line.endswith(b"\n"):
        if poll:
            select.select([0], [], [])
        data = os.read(0, 1024)
        if not data:
            sys.exit()
        line += data
        if poll:  # readline echoes what it reads itself
            os.write(1, data)
"""


def measure(mode: str, trials: int) -> list[float]:
    import tmuxagent

    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        server = tmuxagent.Server(os.path.join(tmp, "s"))
        try:
            session = server.start("p", [sys.executable, "-c", PROGRAM, mode])
            session.wait_text(r"P[\d.]+> $")
            results = []
            for _ in range(trials):
                session.send("x", enter=True)
                match = session.wait_text(r"P([\d.]+)> $", timeout=10)
                results.append(time.time() - float(match.group(1)))
            return results
        finally:
            server.kill_all()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", help="a checkout of another tmuxagent version")
    parser.add_argument("--one", choices=["read", "poll"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one measurement, printed for the parent
        print(" ".join(f"{v:.6f}" for v in measure(args.one, args.trials)))
        return 0
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    versions = [("this", here)]
    if args.against:
        versions.append(("against", os.path.abspath(args.against)))
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        for mode in ("read", "poll"):
            for label, root in versions:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", mode, "--trials", str(args.trials)],
                    env={**os.environ, "PYTHONPATH": root}, capture_output=True, text=True,
                    check=True, cwd=root,
                ).stdout  # fmt: skip
                results.setdefault((mode, label), []).extend(float(v) for v in out.split())
    print(f"prompt wait latency (API), medians of {args.runs} runs x {args.trials} trials, ms")
    for (mode, label), values in results.items():
        print(f"  {mode:<5} {label:<8} {statistics.median(values) * 1000:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
