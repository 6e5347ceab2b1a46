"""A raw-mode program with an input line, that logs every read() it makes.

argv[1] is the log: one JSON line per read, ``{"t": SECONDS, "data": TEXT}``
(monotonic time, the bytes as latin-1), so a test sees exactly how many Enters
arrived, and how they were grouped. Shows 'ready', then '> ' and what is
typed; an Enter (CR) submits the line: 'SUBMITTED: LINE' and a new '> '.
Stops at Ctrl-] (0x1d) and prints 'GOT <n>' (n bytes read before it).

--slow S    after an Enter, show nothing at all for S seconds (busy), then submit
--deaf S    once input comes, read nothing for S seconds (busy when it came)
--burst     as Ink-based agent CLIs: an Enter that comes in the same read as
            other text is a line break in the input, not a submit
--chew S    after each read, show nothing for S seconds (a slow TUI)
"""

from __future__ import annotations

import json
import os
import select
import sys
import termios
import time
import tty


def option(name: str) -> float:
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else 0.0


def show(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


log = open(sys.argv[1], "a", encoding="utf-8")  # noqa: SIM115 - open for the whole run
slow, deaf, burst = option("--slow"), option("--deaf"), "--burst" in sys.argv
chew = option("--chew")
fd = sys.stdin.fileno()
saved = termios.tcgetattr(fd)
tty.setraw(fd)
line = ""
total = 0
show("ready\r\n> ")
if deaf:
    select.select([fd], [], [])  # input has come (select leaves it unread)
    time.sleep(deaf)
try:
    while True:
        chunk = os.read(fd, 65536)
        log.write(json.dumps({"t": time.monotonic(), "data": chunk.decode("latin-1")}) + "\n")
        log.flush()
        if not chunk:
            break
        if b"\x1d" in chunk:
            total += chunk.index(b"\x1d")
            break
        total += len(chunk)
        time.sleep(chew)
        text = chunk.decode("utf-8", "replace")
        if burst and text != "\r":  # one read, one paste: CR is a line break in it
            line += text.replace("\r", "\n")
            show(text.replace("\r", "\r\n"))
            continue
        for char in text:
            if char != "\r":
                line += char
                show(char)
                continue
            time.sleep(slow)
            show(f"\r\nSUBMITTED: {line.strip()}\r\n> ")
            line = ""
finally:
    termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    log.close()
show(f"\r\nGOT {total}\r\n")
