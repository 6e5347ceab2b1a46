"""The output stream: wait latency, throughput and scale, each against a baseline.

    python bench/stream.py latency [--trials 20]
    python bench/stream.py throughput [--mb 50]
    python bench/stream.py scale [--sessions 200]
    python bench/stream.py all

latency: from the moment a program prints a marker to the moment a waiter
sees it: ``tmuxagent wait --text`` (a CLI process, as agents run it), the
Python API's ``wait_text``, a tmux control-mode client reading ``%output``
(the other streaming path tmux offers), and a 0.5 s ``capture-pane`` polling
loop (what agent skills do today). Goal: tmuxagent median under 20 ms.

throughput: a program writes N MB as fast as it can into a pane; the session
log must hold every byte (checked by hash), compared with the same program
piped to ``cat > file``; plus how fast the terminal emulator renders it.

scale: N sessions on one server; ``tmuxagent list --json`` must stay under
100 ms (median of 10 runs).
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import tmuxagent
from tmuxagent._term import Terminal

CLI = shutil.which("tmuxagent") or str(Path(sys.executable).parent / "tmuxagent")

TRIGGER = """
import sys, time
fifo = sys.argv[1]
while True:
    with open(fifo) as f:
        token = f.read().strip()
    print(f"MARK {token} {time.time():.6f}", flush=True)
"""


def summary(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p90 = ms[max(0, int(len(ms) * 0.9) - 1)]
    return f"median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms   (n={len(ms)})"


def printed_at(line: str) -> float:
    return float(line.split()[2])


class Bench:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.socket = tmp / "bench.sock"
        self.server = tmuxagent.Server(self.socket)
        self.env = {**os.environ, "TMUXAGENT_SOCKET": str(self.socket)}

    def close(self) -> None:
        self.server.kill_all()

    # -- latency -------------------------------------------------------------------

    def latency(self, trials: int) -> None:
        fifo = self.tmp / "trigger.fifo"
        os.mkfifo(fifo)
        session = self.server.start("trig", [sys.executable, "-c", TRIGGER, str(fifo)])
        counter = iter(range(1, 1_000_000))

        def fire(token: int, delay: float) -> None:
            time.sleep(delay)
            with open(fifo, "w") as f:
                f.write(str(token))

        def via_cli() -> float:
            token = next(counter)
            proc = subprocess.Popen(
                [CLI, "wait", "trig", "--text", f"^MARK {token} ", "--timeout", "10"],
                stdout=subprocess.PIPE, text=True, env=self.env,
            )  # fmt: skip
            fire(token, 0.3)  # the waiter is up and watching by then
            assert proc.stdout is not None
            line = proc.stdout.readline()
            seen = time.time()
            proc.wait()
            return seen - printed_at(line)

        def via_api() -> float:
            token = next(counter)
            threading.Thread(target=fire, args=(token, 0.1)).start()
            match = session.wait_text(rf"^MARK {token} \S+", timeout=10)
            return time.time() - printed_at(match.group())

        def via_polling() -> float:
            token = next(counter)
            pattern = re.compile(rf"^MARK {token} \S+", re.M)
            threading.Thread(target=fire, args=(token, 0.1 + (token % 10) * 0.05)).start()
            while True:  # what a skill's wait-for-text loop does
                screen = subprocess.run(
                    ["tmux", "-S", str(self.socket), "capture-pane", "-p", "-t", "=trig:"],
                    capture_output=True, text=True, check=True,
                ).stdout  # fmt: skip
                found = pattern.search(screen)
                if found:
                    return time.time() - printed_at(found.group())
                time.sleep(0.5)

        control = subprocess.Popen(
            ["tmux", "-S", str(self.socket), "-C", "attach", "-r", "-t", "=trig:"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

        def via_control_mode() -> float:
            token = next(counter)
            threading.Thread(target=fire, args=(token, 0.1)).start()
            assert control.stdout is not None
            for line in control.stdout:
                if line.startswith("%output") and f"MARK {token} " in line:
                    seen = time.time()
                    text = line.split(" ", 2)[2].replace("\\015", "").replace("\\012", "")
                    return seen - printed_at(text[text.index("MARK") :])
            raise RuntimeError("control mode ended")

        results = {}
        for label, method in (
            ("tmuxagent wait (CLI)", via_cli),
            ("Session.wait_text (API)", via_api),
            ("control mode %output", via_control_mode),
            ("capture-pane every 0.5 s", via_polling),
        ):
            results[label] = [method() for _ in range(trials)]
        control.terminate()
        print("wait latency: from the program's print to the waiter seeing it")
        for label, values in results.items():
            print(f"  {label:<26} {summary(values)}")

    # -- throughput ----------------------------------------------------------------

    def throughput(self, megabytes: int) -> None:
        make_block = (
            "b''.join(b'%07d tmuxagent throughput test line of printable text\\n' % i "
            "for i in range(1000))"
        )
        line = eval(make_block)  # the writer builds the very same block
        repeat = megabytes * 1_000_000 // len(line) + 1
        writer = (
            "import sys\n"
            f"block = {make_block}\n"
            f"for _ in range({repeat}): sys.stdout.buffer.write(block)\n"
            "sys.stdout.flush()\n"
        )
        expected = hashlib.sha256((line * repeat).replace(b"\n", b"\r\n")).hexdigest()
        size = len(line) * repeat
        # Baseline: the same program into cat, into a file.
        out = self.tmp / "cat.out"
        start = time.perf_counter()
        with open(out, "wb") as f:
            producer = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE)
            subprocess.run(["cat"], stdin=producer.stdout, stdout=f, check=True)
            producer.wait()
        cat_seconds = time.perf_counter() - start
        # Baseline: a plain tmux pane with nothing attached to its output.
        tmux = ["tmux", "-S", str(self.tmp / "plain.sock"), "-f", "/dev/null"]
        start = time.perf_counter()
        subprocess.run([*tmux, "new-session", "-d", sys.executable, "-c", writer], check=True,
                       capture_output=True)  # fmt: skip
        while (
            subprocess.run([*tmux, "has-session"], capture_output=True, check=False).returncode == 0
        ):
            time.sleep(0.01)
        plain_seconds = time.perf_counter() - start
        # tmuxagent: into a pane; the log must end up complete.
        start = time.perf_counter()
        session = self.server.start("flood", [sys.executable, "-c", writer + "input()\n"])
        log = session.log_path
        target = size + line.count(b"\n") * repeat
        while log.stat().st_size < target:
            time.sleep(0.01)
        pane_seconds = time.perf_counter() - start
        digest = hashlib.sha256(log.read_bytes()[:target]).hexdigest()
        start = time.perf_counter()
        term = Terminal(120, 40)
        with open(log, "rb") as f:
            while chunk := f.read(1 << 20):
                term.feed(chunk)
        render_seconds = time.perf_counter() - start
        mb = size / 1e6
        print(f"throughput: {mb:.0f} MB written as fast as possible")
        print(f"  program | cat > file          {mb / cat_seconds:8.1f} MB/s")
        print(f"  program in a plain tmux pane  {mb / plain_seconds:8.1f} MB/s")
        print(f"  program in a tmux pane -> log {mb / pane_seconds:8.1f} MB/s   "
              f"complete and in order: {digest == expected}")  # fmt: skip
        print(f"  log rendered as text (read)   {mb / render_seconds:8.1f} MB/s   "
              f"({len(term.history)} lines)")  # fmt: skip
        session.kill()

    # -- scale ---------------------------------------------------------------------

    def scale(self, sessions: int) -> None:
        start = time.perf_counter()
        for i in range(sessions):
            self.server.start(f"s{i:03d}", ["sleep", "3600"])
        started = time.perf_counter() - start
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            out = subprocess.run(
                [CLI, "list", "--json"], capture_output=True, env=self.env, check=True
            ).stdout
            times.append(time.perf_counter() - t0)
        count = out.count(b'"name"')
        capture = []
        for _ in range(10):
            t0 = time.perf_counter()
            subprocess.run([CLI, "capture", "s100"], capture_output=True, env=self.env, check=True)
            capture.append(time.perf_counter() - t0)
        print(f"scale: {sessions} sessions on one server (started in {started:.1f} s)")
        print(f"  tmuxagent list --json ({count} listed)  {summary(times)}   goal < 100 ms")
        print(f"  tmuxagent capture (one of them)     {summary(capture)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["latency", "throughput", "scale", "all"])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args()
    # The CLI is timed as installed: byte-compiled (not under PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(Path(tmuxagent.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp))
        try:
            if args.what in ("latency", "all"):
                bench.latency(args.trials)
            if args.what in ("throughput", "all"):
                bench.throughput(args.mb)
            if args.what in ("scale", "all"):
                bench.scale(args.sessions)
        finally:
            bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
