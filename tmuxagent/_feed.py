"""A session's output read as a pty's is (``spawn``'s transport).

:class:`Output` reads the session's log from its first byte, without the
launcher's sentinels, and says when it has ended (the program ended and all
it wrote was read): ``expect()`` reads it in its own thread, with no hand-off.
:class:`Feed` makes it a descriptor (``child_fd``), for ``select``, ``poll``,
asyncio and ``os.read``: a thread copies the output into a pipe and closes
it at the end, so they see output and EOF as on a pty.
"""

from __future__ import annotations

import os
import select
import threading
import time

from ._launch import strip_sentinels
from ._poll import LOG_INTERVAL, Every
from .errors import NoSuchSession, ServerNotRunning, TmuxAgentError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .session import Session

#: Seconds between looks at a session whose program gave no sign of ending.
FEED_LOOK = 5.0


def readable(fd: int, timeout: float | None, use_poll: bool) -> bool:
    """Whether ``fd`` has something to read within ``timeout`` seconds."""
    if use_poll:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        return bool(poller.poll(None if timeout is None else max(0.0, timeout) * 1000))
    ready, _, _ = select.select([fd], [], [], timeout if timeout is None else max(0.0, timeout))
    return bool(ready)


class Output:
    """What a session's program wrote, from the first byte, read in turn.

    It refers to the session, not to a spawn, so that a spawn nobody refers
    to any more is collected. One thread reads it at a time.
    """

    def __init__(self, session: Session) -> None:
        from ._wake import Wake

        self._session = session
        self._files = session.files
        self._stream = self._files.open_log(0)
        self._wake = Wake(self._files.log)
        self._wake.sleep(0)  # the watch (and the process's inotify descriptor) now
        self._ready = b""  # read, not taken yet
        self._held = b""  # what may be the start of a sentinel: read again with what follows
        # The launcher's sentinel says when the program has ended; a slow
        # look at the session covers a launcher that could not write it.
        self._look = Every(0.05, backoff=1.5, most=FEED_LOOK, due_now=True)
        self._ended = False

    def read(
        self, size: int, timeout: float | None, stop: threading.Event | None = None
    ) -> bytes | None:
        """Up to ``size`` bytes, waiting at most ``timeout`` seconds (None: no
        limit) for any. None when nothing came in time (or ``stop`` was set),
        ``b""`` once all output has been read and the program has ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._ready:
                taken, self._ready = self._ready[:size], self._ready[size:]
                return taken
            data = self._files.read_on(self._stream, 65536)
            if data:
                before = len(self._held) + len(data)
                self._ready, self._held = strip_sentinels(self._held + data)
                if len(self._ready) + len(self._held) < before:
                    self._look = Every(0.05, due_now=True)  # a sentinel: the end is near
                continue
            if self._ended:  # the last of it is in: what seemed a sentinel's start was output
                self._ready, self._held = self._held, b""
                if self._ready:
                    continue
                return b""
            if self._look.due() and not self._alive():
                try:
                    self._session._host.complete_log(self._files)
                except TmuxAgentError:  # the log is as complete as it will get
                    pass
                self._ended = True
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if (left is not None and left <= 0) or (stop is not None and stop.is_set()):
                return None
            self._wake.sleep(LOG_INTERVAL if left is None else min(LOG_INTERVAL, left))

    def close(self) -> None:
        self._stream.close()

    def _alive(self) -> bool:
        """Whether the program runs; True when tmux does not answer now (a
        busy server: the next look decides, the output does not end)."""
        try:
            return self._session.status().alive
        except (NoSuchSession, ServerNotRunning):
            return False
        except TmuxAgentError:
            return True


class Feed:
    """``output`` as a pipe, read as a pty is: once :meth:`start` is called,
    a thread copies it in and closes the pipe at the end, and only the
    thread reads ``output``. The pipe is made at once, in the caller's
    thread: a process that makes spawns in turn gets the same descriptor
    numbers each time, as with ptys."""

    def __init__(self, output: Output, name: str) -> None:
        self.fd, self._write_fd = os.pipe()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(output,), daemon=True, name=f"tmuxagent-feed-{name}"
        )

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def start(self) -> None:
        if not self.started:
            self._thread.start()

    def close(self) -> None:
        """Close the reading end and wait (up to 5 s) for the thread to let
        go of the rest, as a pty's descriptors would all be gone."""
        self._stop.set()
        if self.fd >= 0:
            os.close(self.fd)  # a write blocked on a full pipe fails now
            self.fd = -1
        if not self.started:
            os.close(self._write_fd)
        elif self._thread is not threading.current_thread():
            self._thread.join(5.0)

    def _run(self, output: Output) -> None:
        try:
            while not self._stop.is_set():
                data = output.read(65536, None, self._stop)
                if data is None:
                    continue
                if not data:
                    return
                _write_all(self._write_fd, data)
        except (OSError, ValueError):  # the reader left (or the output was closed)
            pass
        finally:
            os.close(self._write_fd)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]
