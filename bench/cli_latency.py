"""How long one agent step takes: tmuxagent's hot verbs against baselines.

Prints, side by side from one run, the median wall time of ``tmuxagent
capture``, ``send`` and ``keys`` (each a fresh process, as an agent's bash
tool runs it), of an empty Python start (``python3 -c pass``) and of a raw
``tmux capture-pane``. The goal: each verb within 3x an empty Python start.

    python bench/cli_latency.py [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tmuxagent


def timed(argv: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    cli = shutil.which("tmuxagent") or str(Path(sys.executable).parent / "tmuxagent")
    with tempfile.TemporaryDirectory() as tmp:
        socket = Path(tmp) / "bench.sock"
        server = tmuxagent.Server(socket)
        session = server.start("bench", ["cat"])
        env = {**os.environ, "TMUXAGENT_SOCKET": str(socket)}
        python = [sys.executable, "-c", "pass"]
        cases = [
            ("python3 -c pass", python),
            (
                "tmux capture-pane",
                ["tmux", "-S", str(socket), "capture-pane", "-p", "-t", "=bench:"],
            ),
            ("tmuxagent capture", [cli, "capture", "bench"]),
            ("tmuxagent send", [cli, "send", "bench", "x"]),
            ("tmuxagent keys", [cli, "keys", "bench", "BSpace"]),
        ]
        try:
            for _, argv in cases:  # warm up caches
                timed(argv, 3, env)
            results = {label: timed(argv, args.runs, env) for label, argv in cases}
        finally:
            session.kill()
            server.kill_all()
    base = statistics.median(results["python3 -c pass"])
    print(f"{'command':<20} {'median ms':>10} {'p90 ms':>8} {'x python':>9}")
    worst = 0.0
    for label, times in results.items():
        med = statistics.median(times)
        p90 = sorted(times)[int(len(times) * 0.9) - 1]
        ratio = med / base
        if label.startswith("tmuxagent"):
            worst = max(worst, ratio)
        print(f"{label:<20} {med:>10.1f} {p90:>8.1f} {ratio:>8.1f}x")
    print(f"goal: each tmuxagent verb <= 3.0x python3 -c pass; worst here {worst:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
