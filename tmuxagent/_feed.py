"""A session's output as a pipe, read as a pty is (``spawn``'s ``child_fd``).

A thread copies the session's log into the pipe, without the launcher's
sentinels, and closes it once the program has ended and all it wrote is in:
``select``, ``poll``, asyncio and ``os.read`` then see output and EOF as on
a pty.
"""

from __future__ import annotations

import os
import select
import threading

from ._launch import strip_sentinels
from ._poll import LOG_INTERVAL, Every
from .errors import NoSuchSession, ServerNotRunning, TmuxAgentError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

    from ._files import SessionFiles
    from ._wake import Wake
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


class Feed:
    """A session's output as a pipe, read as a pty is: a thread copies the
    log into it (without the launcher's sentinels) and closes it once the
    program has ended and all it wrote is in. It refers to the session, not
    to the spawn, so a spawn nobody refers to any more is collected."""

    def __init__(self, session: Session) -> None:
        from ._wake import Wake

        # Every descriptor is made here, in order, not in the thread: a
        # process that makes spawns in turn gets the same numbers each time.
        files = session.files
        stream = files.open_log(0)
        try:
            self.fd, self._write_fd = os.pipe()
        except BaseException:
            stream.close()
            raise
        wake = Wake(files.log)
        wake.sleep(0)  # the watch (and the process's inotify descriptor) now
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(session, files, stream, wake), daemon=True,
            name=f"tmuxagent-feed-{session.name}",
        )  # fmt: skip
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self.fd >= 0:
            os.close(self.fd)  # a write blocked on a full pipe fails now
            self.fd = -1
        if self._thread is not threading.current_thread():
            self._thread.join(5.0)  # its descriptors closed too, as a pty's would be

    def _run(self, session: Session, files: SessionFiles, stream: IO[bytes], wake: Wake) -> None:
        try:
            self._copy(session, files, stream, wake)
        except (OSError, NoSuchSession, ServerNotRunning):  # the reader left; the session went
            pass
        finally:
            stream.close()
            os.close(self._write_fd)

    def _copy(self, session: Session, files: SessionFiles, stream: IO[bytes], wake: Wake) -> None:
        held = b""
        # The launcher's sentinel says when the program has ended; a slow
        # look at the session covers a launcher that could not write it.
        look = Every(0.05, backoff=1.5, most=FEED_LOOK, due_now=True)
        ended = False
        while not self._stop.is_set():
            data = files.read_on(stream, 65536)
            if data:
                before = len(held) + len(data)
                out, held = strip_sentinels(held + data)
                if len(out) + len(held) < before:
                    look = Every(0.05, due_now=True)  # a sentinel: the end is near
                _write_all(self._write_fd, out)
                continue
            if ended:  # the last of it is in: what seemed a sentinel's start was output
                _write_all(self._write_fd, held)
                return
            if look.due() and not self._alive(session):
                session._host.complete_log(files)
                ended = True
                continue
            wake.sleep(LOG_INTERVAL)

    @staticmethod
    def _alive(session: Session) -> bool:
        """Whether the program runs; True when tmux does not answer now (a
        busy server: the next look decides, the output does not end)."""
        try:
            return session.status().alive
        except (NoSuchSession, ServerNotRunning):
            raise
        except TmuxAgentError:
            return True


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]
