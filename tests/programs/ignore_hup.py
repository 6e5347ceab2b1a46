"""Ignores SIGHUP (as a careless daemon would) and writes its pid to argv[1]."""

from __future__ import annotations

import os
import signal
import sys

signal.signal(signal.SIGHUP, signal.SIG_IGN)
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
print("ignoring SIGHUP", flush=True)
while True:
    signal.pause()
