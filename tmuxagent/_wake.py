"""Sleeping until a file is written: inotify on Linux, else a plain sleep.

A wait for output looks at the session's log every few milliseconds
(``LOG_INTERVAL``); between looks it sleeps in :meth:`Wake.sleep`, which
ends early when the log is written, so new output is seen within a fraction
of a millisecond instead of half an interval later on average.

One inotify descriptor serves the whole process and is never closed (closing
one that has seen events waited 5-14 ms here, for the kernel to retire its
watches); each log waited on keeps its watch until the file goes. Events for
other files (an earlier wait's log) are read and slept through.

A process that makes one call (the CLI) watches only once a wait has gone on
for WATCH_AFTER seconds: loading ctypes costs it about 3 ms, and ending a
process with watches another 5-10 ms, more than a short wait gains. Where
inotify is missing or refuses (another OS, no watches left), it sleeps.
"""

from __future__ import annotations

import _thread
import os
import select
import struct
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ctypes import CDLL

#: Seconds a wait of a one-call process (the CLI) sleeps on a timer before
#: it watches.
WATCH_AFTER = 1.0

_IN_MODIFY = 0x002
_IN_ATTRIB = 0x004
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)

_inotify: tuple[int, CDLL] | None = None  # the descriptor, and libc
_making = _thread.allocate_lock()  # one descriptor, whichever thread comes first
_unavailable = sys.platform != "linux"


class Wake:
    """``wake = Wake(path)``: ``wake.sleep(s)`` sleeps ``s`` seconds, or until
    the file at ``path`` is written (or removed), if that is sooner. With
    ``later``, a watch is set up only after WATCH_AFTER seconds."""

    __slots__ = ("_path", "_wd", "_watch_at")

    def __init__(self, path: str, *, later: bool = False) -> None:
        self._path = path
        self._wd: int | None = None  # None: no watch yet; -1: none to be had
        self._watch_at = time.monotonic() + (WATCH_AFTER if later else 0.0)

    def sleep(self, seconds: float) -> None:
        if self._wd is None and time.monotonic() >= self._watch_at:
            self._wd = _watch(self._path)
        if _inotify is None or self._wd is None or self._wd < 0:
            time.sleep(seconds)
            return
        fd = _inotify[0]
        end = time.monotonic() + seconds
        poll = select.poll()
        poll.register(fd, select.POLLIN)
        while True:
            left = end - time.monotonic()
            if left <= 0 or not poll.poll(left * 1000):
                return
            if self._wd in _events(fd):
                return


def _events(fd: int) -> set[int]:
    """The watches that had events since the last look (read, so gone)."""
    found: set[int] = set()
    while True:
        try:
            data = os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            return found
        if not data:
            return found
        at = 0
        while at + _EVENT.size <= len(data):
            wd, _mask, _cookie, size = _EVENT.unpack_from(data, at)
            found.add(wd)
            at += _EVENT.size + size


def _watch(path: str) -> int:
    """A watch on ``path`` (its number) in the process's inotify descriptor, or -1."""
    global _inotify, _unavailable  # noqa: PLW0603 - one descriptor per process, made on first use
    if _unavailable:
        return -1
    try:
        with _making:
            if _inotify is None:
                _inotify = _new_inotify()
            if _inotify is None:
                _unavailable = True
                return -1
        fd, libc = _inotify
        events = _IN_MODIFY | _IN_ATTRIB | _IN_DELETE_SELF | _IN_MOVE_SELF
        return int(libc.inotify_add_watch(fd, os.fsencode(path), events))
    except (OSError, AttributeError):
        _unavailable = True
        return -1


def _new_inotify() -> tuple[int, CDLL] | None:
    """An inotify descriptor and libc (None: not to be had)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    fd = int(libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
    return (fd, libc) if fd >= 0 else None
