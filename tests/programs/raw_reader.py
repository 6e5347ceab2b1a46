"""Reads the terminal in raw mode and saves every byte it gets to argv[1].

Stops at Ctrl-] (0x1d), then prints 'GOT <n>' (n bytes before it). Raw mode
means no echo and no line editing: the file holds exactly what arrived.
With --bracketed it asks the terminal for bracketed paste, as editors do.
"""

from __future__ import annotations

import os
import sys
import termios
import tty

out = sys.argv[1]
fd = sys.stdin.fileno()
saved = termios.tcgetattr(fd)
tty.setraw(fd)
data = b""
if "--bracketed" in sys.argv:
    sys.stdout.write("\x1b[?2004h")
print("ready", end="\r\n", flush=True)
try:
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
        if b"\x1d" in data:
            data = data[: data.index(b"\x1d")]
            break
finally:
    termios.tcsetattr(fd, termios.TCSADRAIN, saved)
with open(out, "wb") as f:
    f.write(data)
print(f"GOT {len(data)}", flush=True)
