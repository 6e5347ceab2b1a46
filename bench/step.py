"""One agent step in a REPL, against the baselines, in one run.

    python bench/step.py [--steps 30] [--repl readline|line]

A step types ``print(N * 7)`` and Enter into a Python REPL and returns once
the result is seen. Timed, each in turn on the same REPL:

- ``api``: ``Session.send(..., enter=True, wait=...)``, one call;
- ``cli 1``: ``tmuxagent send NAME --enter TEXT --wait REGEX``, one process;
- ``cli 2``: ``tmuxagent send`` then ``tmuxagent wait --text``, two processes
  (the loop before issue 11);
- ``libtmux``: libtmux's ``send_keys`` then ``capture_pane`` every 10 ms until
  the screen changes, then the last number on it: the usual hand-rolled
  loop. The echo of the input or the previous step's result can be what it
  takes: it counts the wrong results (each value comes twice in a row).

``--repl line`` runs a REPL that reads whole lines (its terminal in line
mode, as ``input()`` without readline): there Enter goes in with the text,
with no quiet period. Prints the median of each and the wrong results. Goals (issue 11): CLI one
process <= 35 ms, API <= 10 ms, 0 wrong.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libtmux

import tmuxagent

CLI = shutil.which("tmuxagent") or str(Path(sys.executable).parent / "tmuxagent")
NUMBER = r"^\d+$"
PY = ["python3", "-q"]
#: Reads lines (no readline): its terminal stays in line mode.
LINE_REPL = [sys.executable, "-c", "while True: print(eval(input('>>> ')))"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repl", choices=["readline", "line"], default="readline")
    args = parser.parse_args()
    # The CLI is timed as installed: byte-compiled (not under PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(Path(tmuxagent.__file__).parent, quiet=1)
    argv = PY if args.repl == "readline" else LINE_REPL
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        socket = os.path.join(tmp, "s")
        server = tmuxagent.Server(socket)
        try:
            py = server.start("py", argv, wait=">>> $")
            pane = libtmux.Server(socket_path=socket).sessions[0].active_pane
            assert pane is not None
            times: dict[str, list[float]] = {"api": [], "cli 1": [], "cli 2": [], "libtmux": []}
            wrong = {name: 0 for name in times}
            for step in range(args.steps):
                value = 7 * (step // 2)  # each value twice in a row
                text = f"print({step // 2} * 7)"
                for name, took in times.items():
                    start = time.perf_counter()
                    got = run_step(name, py, pane, socket, text)
                    took.append((time.perf_counter() - start) * 1000)
                    wrong[name] += got != str(value)
                    py.wait_text(">>> $")  # the REPL is back before the next one
        finally:
            server.kill_all()
    print(f"one REPL step (print(N * 7) + Enter until the result shows), {args.repl} REPL, "
          f"{args.steps} steps each")  # fmt: skip
    print(f"{'how':10} {'median ms':>10} {'wrong':>6}")
    for name, values in times.items():
        print(f"{name:10} {statistics.median(values):10.1f} {wrong[name]:6d}")
    return 0


def run_step(name: str, py: tmuxagent.Session, pane: libtmux.Pane, socket: str, text: str) -> str:
    """One step; the result it saw."""
    if name == "api":
        sent = py.send(text, enter=True, wait=NUMBER)
        assert sent.match is not None
        return sent.match.group()
    if name == "cli 1":
        out = subprocess.run(
            [CLI, "-S", socket, "send", "py", "--enter", text, "--wait", NUMBER],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return out.strip().split("\n")[-1]
    if name == "cli 2":
        subprocess.run([CLI, "-S", socket, "send", "py", "--enter", text], check=True)
        out = subprocess.run(
            [CLI, "-S", socket, "wait", "py", "--text", NUMBER],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return out.strip()
    before = screen(pane)
    pane.send_keys(text, enter=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.01)
        now = screen(pane)
        if now != before:  # something changed: the loop takes the last number shown
            numbers = [ln for ln in now if re.match(NUMBER, ln)]
            return numbers[-1] if numbers else ""
    return ""


def screen(pane: libtmux.Pane) -> list[str]:
    lines = pane.capture_pane()
    return lines if isinstance(lines, list) else [lines]


if __name__ == "__main__":
    sys.exit(main())
