"""Prints a line, then exits with the status given as argv[1] (after argv[2] seconds)."""

from __future__ import annotations

import sys
import time

print(f"about to exit with {sys.argv[1]}", flush=True)
if len(sys.argv) > 2:
    time.sleep(float(sys.argv[2]))
sys.exit(int(sys.argv[1]))
