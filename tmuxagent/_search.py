"""Searches stopped at a deadline: a regex search can take longer than any
wait allows (``(a+)+$`` on a long line), and nothing else would stop it.

In the main thread :func:`run_until` stops the search with a SIGALRM timer;
outside it, where no signal can, the search runs in a :class:`SearchProcess`.
Only waits for text load this module, so the CLI's other verbs do not pay
for it.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable
    from typing import TypeVar

    from ._poll import Deadline

    T = TypeVar("T")


class Overrun(Exception):
    """:func:`run_until` stopped its work at the deadline, after ``ran`` seconds."""

    def __init__(self, ran: float) -> None:
        self.ran = ran
        super().__init__(f"stopped at the deadline after {ran:.3g}s")


class NotMainThread(Exception):
    """:func:`run_until` cannot stop work outside the main thread."""


def run_until(deadline: Deadline, work: Callable[[], T], *, grace: float = 0.05) -> T:
    """``work()``, stopped with :class:`Overrun` if it runs past ``deadline``
    (plus ``grace``, so that the last look at the deadline gets its chance).

    A SIGALRM timer interrupts it: Python runs signal handlers between
    bytecodes, and CPython's ``re`` checks for signals while it matches. Only
    the main thread gets signals: elsewhere it raises :class:`NotMainThread`
    before doing anything. A SIGALRM handler and timer of the caller's are
    put back afterwards (a timer that came due meanwhile fires at once).
    """
    import signal

    started = time.monotonic()
    active = [True]

    def expire(signum: int, frame: object) -> None:
        if active[0]:
            raise Overrun(time.monotonic() - started)

    try:
        old_handler = signal.signal(signal.SIGALRM, expire)
    except (ValueError, AttributeError):  # not the main thread; no SIGALRM here
        raise NotMainThread from None
    old_delay, old_interval = signal.setitimer(
        signal.ITIMER_REAL, max(deadline.end - started, 0.0) + grace
    )
    try:
        return work()
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(old_delay - (time.monotonic() - started), 1e-6)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


class SearchProcess:
    """Searches for one pattern in a helper process that can be stopped.

    For waits outside the main thread, where no signal can interrupt a
    search (and ``re`` holds the GIL: a runaway search would stop every
    thread). The match found is then taken again in this process, at the
    position found: that costs what the helper spent at that position only.
    """

    # Each search arms a timer of the helper's own: SIGALRM ends it at the
    # deadline even if its caller is gone (a helper never outlives a search).
    _CODE = (
        "import os, re, signal, sys\n"
        "try:  # killed with its caller (PR_SET_PDEATHSIG, SIGKILL)\n"
        "    import _ctypes\n"
        "    _ctypes.call_function(_ctypes.dlsym(_ctypes.dlopen(None), 'prctl'), (1, 9, 0, 0, 0))\n"
        "except Exception:\n"
        "    pass\n"
        "if os.getppid() != int(sys.argv[1]):\n"
        "    sys.exit()\n"
        "i, o = sys.stdin.buffer, sys.stdout.buffer\n"
        "def get():\n"
        "    size = i.readline()\n"
        "    return i.read(int(size)).decode('utf-8', 'surrogatepass') if size else None\n"
        "p = re.compile(get(), int(i.readline()))\n"
        "while (limit := i.readline()) and (text := get()) is not None:\n"
        "    signal.setitimer(signal.ITIMER_REAL, float(limit))\n"
        "    m = p.search(text)\n"
        "    signal.setitimer(signal.ITIMER_REAL, 0)\n"
        "    o.write(b'%d\\n' % (m.start() if m else -1)); o.flush()\n"
    )

    def __init__(self, regex: re.Pattern[str]) -> None:
        import os
        import subprocess
        import sys

        self._regex = regex
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", self._CODE, str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        pattern = regex.pattern.encode("utf-8", "surrogatepass")
        self._send(b"%d\n%s%d\n" % (len(pattern), pattern, regex.flags))

    def _send(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(data)
        self._proc.stdin.flush()

    def search(self, text: str, deadline: Deadline) -> re.Match[str] | None:
        import select

        started = time.monotonic()
        data = text.encode("utf-8", "surrogatepass")
        wait = max(0.0, deadline.end - started) + 0.05
        self._send(b"%.3f\n%d\n%s" % (wait + 0.05, len(data), data))
        out = self._proc.stdout
        assert out is not None
        if not select.select([out], [], [], wait)[0]:
            self.close()
            raise Overrun(time.monotonic() - started)
        found = int(out.readline() or b"-1")
        return None if found < 0 else self._regex.match(text, found)

    def close(self) -> None:
        self._proc.kill()
        self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                pipe.close()
