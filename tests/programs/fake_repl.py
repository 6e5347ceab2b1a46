"""A tiny line-based REPL with a prompt: a deterministic stand-in for a real one.

Commands: 'echo TEXT', 'sleep SECONDS', 'count N' (prints 1..N), 'exit CODE';
anything else is answered with 'unknown: ...'.
"""

from __future__ import annotations

import sys
import time

PROMPT = "fake> "

while True:
    sys.stdout.write(PROMPT)
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        print("bye")
        sys.exit(0)
    word, _, rest = line.rstrip("\n").partition(" ")
    if word == "echo":
        print(rest)
    elif word == "sleep":
        time.sleep(float(rest))
        print("slept")
    elif word == "count":
        for i in range(1, int(rest) + 1):
            print(i)
    elif word == "exit":
        sys.exit(int(rest))
    else:
        print(f"unknown: {line.rstrip()}")
