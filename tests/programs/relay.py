"""A relay, as ssh or ``docker exec -it`` are: runs argv[2:] on a terminal of
its own and passes bytes both ways, each after argv[1] seconds (the network).

It reads what is typed at once (its terminal in raw mode) and waits again at
once, while the program behind it may still be reading.
"""

from __future__ import annotations

import heapq
import os
import pty
import select
import sys
import time
import tty

delay = float(sys.argv[1])
tty.setraw(0)
pid, far = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
due: list[tuple[float, int, int, bytes]] = []  # (when, order, to fd, data)
order = 0
while True:
    while due and due[0][0] <= time.monotonic():
        _, _, to, data = heapq.heappop(due)
        os.write(to, data)
    wait = max(0.0, due[0][0] - time.monotonic()) if due else None
    ready, _, _ = select.select([0, far], [], [], wait)
    for fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:  # one side has ended: what is on its way still arrives
            for _, _, to, late in sorted(due):
                os.write(to, late)
            sys.exit(0)
        order += 1
        heapq.heappush(due, (time.monotonic() + delay, order, far if fd == 0 else 1, data))
