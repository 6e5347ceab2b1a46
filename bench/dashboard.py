"""The dashboard under load: CPU and time to show a change, vs a naive refresh.

    python bench/dashboard.py [--sessions 30] [--seconds 20] [--trials 15]

Starts N sessions that each print about 10 lines a second, runs ``tmuxagent
dashboard`` in a real terminal (a pane of another tmux server, 160x45), and
measures, for the dashboard's refresh and for a naive one (a ``capture-pane``
process per session per tick) in the same run:

- CPU: the dashboard process's user+system time over a window, as a share
  of one core (goal: under 15%), and with the tmux client processes it ran;
- latency: from a program printing a marker to the marker on the dashboard's
  screen (goal: under 250 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import tmuxagent

#: About 10 lines a second (a line, then 0.1 s of sleep).
TICKER = "while true; do date +%H:%M:%S.%N; sleep 0.1; done"
TRIGGER = """
import sys, time
while True:
    with open(sys.argv[1]) as f:
        token = f.read().strip()
    print(f"MARK {token} {time.time():.6f}", flush=True)
"""


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of process ``pid`` (with ``children``: plus
    those of the children it waited for: its tmux client processes)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(agents: tmuxagent.Server, outer: tmuxagent.Server, fifo: Path, naive: bool,
            seconds: float, trials: int, interval: float,
            ) -> tuple[tuple[float, float], list[float]]:  # fmt: skip
    argv = [sys.executable, "-m", "tmuxagent", "-S", str(agents.socket_path), "dashboard",
            "--interval", str(interval)]  # fmt: skip
    if naive:
        argv.append("--naive")
    dash = outer.start("naive" if naive else "dash", argv, size="160x45")
    dash.wait_text("sessions", timeout=60)
    dash.wait_text("MARK", timeout=60)  # the marker session's preview is up
    time.sleep(2)  # settle
    pid = dash.status().pid
    cpu0, all0, wall0 = cpu_seconds(pid), cpu_seconds(pid, True), time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - wall0
    share = ((cpu_seconds(pid) - cpu0) / wall, (cpu_seconds(pid, True) - all0) / wall)
    socket = str(outer.socket_path)
    latencies = []
    for trial in range(trials):
        token = f"{'n' if naive else 'd'}{trial}"
        threading.Thread(target=lambda t=token: fifo.write_text(t)).start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            screen = subprocess.run(
                ["tmux", "-S", socket, "capture-pane", "-p", "-t", f"={dash.name}:"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            seen = time.time()
            for line in screen.splitlines():
                if f"MARK {token} " in line:
                    stamp = line.split(f"MARK {token} ", 1)[1].split()[0]
                    latencies.append(seen - float(stamp.strip("│ ")))
                    break
            else:
                time.sleep(0.005)
                continue
            break
        time.sleep(0.3)
    dash.kill()
    return share, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--interval", type=float, default=0.1, help="the dashboard's --interval")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        agents = tmuxagent.Server(Path(tmp) / "agents.sock")
        outer = tmuxagent.Server(Path(tmp) / "human.sock")
        fifo = Path(tmp) / "trigger"
        os.mkfifo(fifo)
        try:
            agents.start("aaa-marker", [sys.executable, "-c", TRIGGER, str(fifo)])
            fifo.write_text("start")
            for i in range(args.sessions):
                agents.start(f"agent-{i:02d}", ["sh", "-c", TICKER])
            results = {
                "dashboard (shown, changed panes)": measure(
                    agents, outer, fifo, False, args.seconds, args.trials, args.interval
                ),
                "naive (capture-pane per pane)": measure(
                    agents, outer, fifo, True, args.seconds, args.trials, args.interval
                ),
            }
        finally:
            outer.kill_all()
            agents.kill_all()
    print(f"dashboard with {args.sessions} sessions printing ~10 lines/s each, 160x45 terminal")
    print(f"{'refresh':<36} {'CPU (one core)':>14} {'with tmux clients':>18} "
          f"{'latency median':>15} {'p90':>8}")  # fmt: skip
    for label, ((share, whole), latencies) in results.items():
        ms = sorted(v * 1000 for v in latencies)
        p90 = ms[max(0, int(len(ms) * 0.9) - 1)] if ms else float("nan")
        med = statistics.median(ms) if ms else float("nan")
        print(f"{label:<36} {share * 100:>13.1f}% {whole * 100:>17.1f}% "
              f"{med:>12.0f} ms {p90:>5.0f} ms")  # fmt: skip
    print("goals (issue 11): CPU under 15%, a change shown within 250 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
