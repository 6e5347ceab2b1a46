"""Behaves like Ink-based agent CLIs: an Enter that arrives in the same read()
as other text is taken as part of a paste (a newline), not as "submit".

Shows '> BUFFER' while typing; prints 'SUBMITTED: BUFFER' on a lone Enter.
"""

from __future__ import annotations

import os
import sys
import termios
import tty

fd = sys.stdin.fileno()
saved = termios.tcgetattr(fd)
tty.setraw(fd)
buffer = ""


def show(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


show("ready\r\n> ")
try:
    while True:
        chunk = os.read(fd, 65536).decode()
        if chunk == "\x03":
            break
        if chunk == "\r":
            show(f"\r\nSUBMITTED: {buffer}\r\n> ")
            buffer = ""
            continue
        text = chunk.replace("\r", "\n")
        buffer += text
        show(text.replace("\n", "\r\n"))
finally:
    termios.tcsetattr(fd, termios.TCSADRAIN, saved)
