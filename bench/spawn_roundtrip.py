"""One ``sendline`` -> ``expect`` round trip: tmuxagent.spawn against pexpect.spawn.

    python bench/spawn_roundtrip.py [--rounds 400]

Both drive ``cat`` with the echo off (``echo=False``) and no delay before
sending (``delaybeforesend = None``): each round sends a numbered line and
expects it back, the two in turns of 20 rounds. Prints the median and p90
of each, from the same run.
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


def rounds(child: pexpect.spawnbase.SpawnBase, start: int, count: int) -> list[float]:
    times = []
    for i in range(start, start + count):
        started = time.perf_counter()
        child.sendline(f"line {i}")
        child.expect_exact(f"line {i}\r\n")
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    block = 20
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        server = tmuxagent.Server(os.path.join(tmp, "s"))
        try:
            children: dict[str, pexpect.spawnbase.SpawnBase] = {
                "tmuxagent.spawn": tmuxagent.spawn("cat", echo=False, server=server, timeout=10),
                "pexpect.spawn (pty)": pexpect.spawn("cat", echo=False, timeout=10),
            }
            results: dict[str, list[float]] = {label: [] for label in children}
            for child in children.values():
                child.delaybeforesend = None
                rounds(child, -1, 1)  # the first send makes tmuxagent's connection
            # In turns of a few rounds each: a busy moment of this shared
            # machine falls on both alike.
            for start in range(0, args.rounds, block):
                for label, child in children.items():
                    results[label] += rounds(child, start, min(block, args.rounds - start))
            for child in children.values():
                child.close()
        finally:
            server.kill_all()
    print(f"sendline -> expect round trip, {args.rounds} rounds each, in turns of {block}")
    for label, times in results.items():
        ms = sorted(t * 1000 for t in times)
        p90 = ms[int(len(ms) * 0.9) - 1]
        print(f"  {label:<22} median {statistics.median(ms):7.2f} ms   p90 {p90:7.2f} ms")
    ratio = statistics.median(results["tmuxagent.spawn"]) / statistics.median(
        results["pexpect.spawn (pty)"]
    )
    print(f"  ratio of medians: {ratio:.1f}x")
    print("goal (issue 12): tmuxagent <= 1 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
