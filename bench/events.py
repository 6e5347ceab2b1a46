"""What ``tmuxagent events`` costs while nothing happens, and how soon it sees a question.

    python bench/events.py [--sessions 30] [--seconds 20]

Starts that many idle sessions (Python REPLs at their prompts), then runs
``tmuxagent events`` for the given time and measures the CPU it used, and
the tmux server's, as a share of one core. The baseline, in the same run:
the same sessions watched naively, every state looked at four times a
second (``Server.states()`` of all). Then one session asks a question and
the time until ``events`` prints it is measured (median of 10).
Goals (issue 13): under 2% of a core; a question seen within 1 s.
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time

import tmuxagent


def cpu_of(pid: int) -> float:
    """Seconds of CPU process ``pid`` has used (user and system)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        socket = os.path.join(tmp, "s")
        server = tmuxagent.Server(socket)
        try:
            for i in range(args.sessions):
                server.start(f"repl{i}", ["python3", "-q"], wait=">>> ")
            tmux_pid = server.sessions()[0] and int(
                server.host.tmux(["display", "-p", "#{pid}"]).strip()
            )
            time.sleep(2)  # all quiet
            command = [sys.executable, "-m", "tmuxagent", "-S", socket, "events"]
            before = cpu_of(tmux_pid)
            watcher = subprocess.Popen([*command, "--timeout", str(args.seconds + 1)],
                                       stdout=subprocess.PIPE)  # fmt: skip
            time.sleep(args.seconds)
            used = cpu_of(watcher.pid)
            tmux_used = cpu_of(tmux_pid) - before
            watcher.wait()
            naive_before, tmux_before = time.process_time(), cpu_of(tmux_pid)
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                server.states()
                time.sleep(0.25)
            naive = time.process_time() - naive_before
            naive_tmux = cpu_of(tmux_pid) - tmux_before
            delays = []
            watcher = subprocess.Popen([*command, "repl0"], stdout=subprocess.PIPE, text=True)
            assert watcher.stdout is not None
            time.sleep(1.5)
            session = server.session("repl0")
            for _ in range(10):
                asked = time.monotonic()
                session.send('input("Go on? [y/N] ")', enter=True)
                while True:
                    select.select([watcher.stdout], [], [], 10)
                    line = watcher.stdout.readline()
                    if '"asking"' in line:
                        break
                delays.append(time.monotonic() - asked)
                session.send("y", enter=True)
                session.wait_state("ready", timeout=10)
                time.sleep(0.5)
            watcher.kill()
            watcher.wait()
        finally:
            server.kill_all()
    share = 100 / args.seconds
    print(f"{args.sessions} idle sessions, {args.seconds:g} s each, one run")
    for label, own, tmux in (("tmuxagent events", used, tmux_used),
                             ("naive states() loop", naive, naive_tmux)):  # fmt: skip
        print(f"  {label:<21} {own * share:5.2f}% of a core (+ tmux {tmux * share:.2f}%)")
    print(
        f"  question -> event: median {statistics.median(delays) * 1000:.0f} ms, "
        f"most {max(delays) * 1000:.0f} ms (10 questions; includes the echo of the input)"
    )
    print("goals (issue 13): under 2% of a core; a question seen within 1 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
