"""How long one agent step takes: tmuxagent's hot verbs against baselines.

Prints, side by side from one run, the median wall time of ``tmuxagent
capture``, ``send`` and ``keys`` (each a fresh process, as an agent's bash
tool runs it), of an empty Python start (``python3 -c pass``) and of a raw
``tmux capture-pane``. The goal: each verb within 3x an empty Python start.

``--against DIR`` times the same verbs of another checkout too (DIR holds its
``tmuxagent`` package), e.g. the code before a change::

    git worktree add /tmp/before HEAD~5
    python bench/cli_latency.py --runs 40 --against /tmp/before

Both packages are byte-compiled first, and every round runs each command
once, in turn, so that the machine's noise falls on all of them alike.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
#: What the installed ``tmuxagent`` script runs, with the package from a given checkout
#: (older checkouts have no ``run``).
ENTRY = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "import tmuxagent.cli as c; sys.exit(getattr(c, 'run', c.main)())"
)


def cli(checkout: Path, socket: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", ENTRY, str(checkout), "-S", str(socket), *args]


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--against", type=Path, help="another checkout to time as well")
    args = parser.parse_args()

    checkouts = {"tmuxagent": HERE}
    if args.against:
        checkouts["baseline"] = args.against.resolve()
    for checkout in checkouts.values():
        # Without .pyc files (PYTHONDONTWRITEBYTECODE) every call compiles the package.
        compileall.compile_dir(checkout / "tmuxagent", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        cases: dict[str, list[str]] = {"python3 -c pass": [sys.executable, "-c", "pass"]}
        sockets = []
        for label, checkout in checkouts.items():
            socket = Path(tmp) / label
            sockets.append((checkout, socket))
            subprocess.run(
                cli(checkout, socket, "start", "bench", "--", "cat"),
                stdout=subprocess.DEVNULL,
                check=True,
            )
            if label == "tmuxagent":
                cases["tmux capture-pane"] = [
                    "tmux", "-S", str(socket), "capture-pane", "-p", "-t", "=bench:",
                ]  # fmt: skip
            for verb in (["capture", "bench"], ["send", "bench", "x"], ["keys", "bench", "BSpace"]):
                cases[f"{label} {verb[0]}"] = cli(checkout, socket, *verb)
        try:
            for argv in cases.values():  # warm up caches
                for _ in range(3):
                    timed(argv)
            results: dict[str, list[float]] = {label: [] for label in cases}
            for _ in range(args.runs):
                for label, argv in cases.items():
                    results[label].append(timed(argv))
        finally:
            for checkout, socket in sockets:
                subprocess.run(cli(checkout, socket, "kill", "--all"), check=False)
    base = statistics.median(results["python3 -c pass"])
    print(f"{args.runs} runs each, interleaved; medians")
    print(f"{'command':<22} {'median ms':>10} {'p90 ms':>8} {'x python':>9}")
    worst = 0.0
    for label, times in results.items():
        med = statistics.median(times)
        p90 = sorted(times)[int(len(times) * 0.9) - 1]
        ratio = med / base
        if label.startswith("tmuxagent"):
            worst = max(worst, ratio)
        print(f"{label:<22} {med:>10.1f} {p90:>8.1f} {ratio:>8.1f}x")
    print(f"goal: each tmuxagent verb <= 3.0x python3 -c pass; worst here {worst:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
