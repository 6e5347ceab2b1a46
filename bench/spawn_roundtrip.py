"""One ``sendline`` -> ``expect`` round trip: tmuxagent.spawn against pexpect.spawn.

    python bench/spawn_roundtrip.py [--rounds 200]

Both drive ``cat`` with the echo off (``echo=False``) and no delay before
sending (``delaybeforesend = None``): each round sends a numbered line and
expects it back. Prints the median and p90 of each, from the same run.
Goal (issue 12): tmuxagent at most 1 ms (pexpect on a pty: about 0.25 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import pexpect

import tmuxagent


def rounds(child: pexpect.spawnbase.SpawnBase, count: int) -> list[float]:
    child.delaybeforesend = None
    times = []
    for i in range(count):
        started = time.perf_counter()
        child.sendline(f"line {i}")
        child.expect_exact(f"line {i}\r\n")
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        server = tmuxagent.Server(os.path.join(tmp, "s"))
        try:
            ours = tmuxagent.spawn("cat", echo=False, server=server, timeout=10)
            results["tmuxagent.spawn"] = rounds(ours, args.rounds)
            ours.close()
        finally:
            server.kill_all()
    theirs = pexpect.spawn("cat", echo=False, timeout=10)
    results["pexpect.spawn (pty)"] = rounds(theirs, args.rounds)
    theirs.close()
    print(f"sendline -> expect round trip, {args.rounds} rounds each")
    for label, times in results.items():
        ms = sorted(t * 1000 for t in times)
        p90 = ms[int(len(ms) * 0.9) - 1]
        print(f"  {label:<22} median {statistics.median(ms):7.2f} ms   p90 {p90:7.2f} ms")
    print("goal (issue 12): tmuxagent <= 1 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
