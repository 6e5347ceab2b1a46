"""Output lost when a program exits the moment it has written (issue 9, item 5).

    python bench/exit_loss.py [--runs 200] [--burners 2] [--parallel 1] [--lines 5000]

Each run starts ``seq 1 LINES`` as a session's program, waits for it to end,
and checks that the session's log holds every line, and that tmux's screen
shows the last one. ``--burners`` CPU-bound processes run meanwhile (the loss
shows on a busy machine); ``--parallel`` sessions run at once. Prints how many
runs lost output, in the log and on the screen.

Before the launcher stayed alive until tmux had read everything, a few runs in
forty lost the tail with two burners on two cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tmuxagent

BURN = "while True: pass"


def check(session: tmuxagent.Session, lines: int, expected: bytes) -> tuple[bool, bool]:
    """(log complete, screen shows the last line) once the program has ended."""
    session.wait_exit(timeout=30)
    log = session.log_path.read_bytes()
    screen = session.capture(lines=10).lines
    return log.startswith(expected), str(lines) in screen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--burners", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args()
    expected = b"".join(b"%d\r\n" % i for i in range(1, args.lines + 1))
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(args.burners)]
    lost_log = lost_screen = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        server = tmuxagent.Server(Path(tmp) / "sock")
        try:
            # Killing the last session ends the server, and the next start can
            # race its exit: a session that lives throughout keeps it up.
            server.start("keeper", ["cat"])
            done = 0
            while done < args.runs:
                batch = range(done, min(args.runs, done + args.parallel))
                sessions = [server.start(f"e{i}", ["seq", "1", str(args.lines)]) for i in batch]
                for session in sessions:
                    log_ok, screen_ok = check(session, args.lines, expected)
                    lost_log += not log_ok
                    lost_screen += not screen_ok
                    session.kill()
                done += len(sessions)
        finally:
            server.kill_all()
            for burner in burners:
                burner.kill()
                burner.wait()
    took = time.monotonic() - started
    print(
        f"{args.runs} runs of seq 1 {args.lines}, {args.burners} CPU burners on "
        f"{os.cpu_count()} cores, {args.parallel} at a time ({took:.1f} s): "
        f"log lost the tail in {lost_log}, the screen in {lost_screen}"
    )


if __name__ == "__main__":
    main()
