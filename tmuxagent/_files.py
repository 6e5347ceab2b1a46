"""The files tmuxagent keeps for each session, in a private directory.

They live where tmux runs; only the host (``_host.py``) makes a
:class:`SessionFiles` (for a path it has checked).

``output.log``
    Every byte the program wrote, from its first one, appended by tmux's
    ``pipe-pane``. The lossless record behind ``read``, waits and ``run``.
``recording.json``, ``timing-ID``
    For recorded sessions: the recording's start, and ``seconds offset`` lines
    noted as the log grows (see ``_record.py``).
``meta.json``
    Name, command and creation time, written once by ``start``.
``input``
    Where the log stood when tmuxagent last sent input, and what was sent:
    waits only look at output after that point, minus the echo of the input.
``read``
    How far ``read`` has got (the read cursor), changed under a lock.

Several CLI processes may act on one session at once: files are replaced
atomically, and the read cursor is guarded by ``flock``. The hot path (send,
keys, capture) needs neither json nor pathlib, which cost more to import than
the work itself.
"""

from __future__ import annotations

import os
import stat
import time

from ._poll import LOG_INTERVAL, Deadline, poll_until
from .errors import ForeignServer, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, TextIO

    from ._logwriter import LogState
    from .errors import TmuxAgentError


class Mark:
    """The state of the stream when input was last sent."""

    __slots__ = ("offset", "text", "x", "y", "time")

    def __init__(
        self, offset: int, text: str = "", x: int = 0, y: int = 0, time: float = 0.0
    ) -> None:
        self.offset = offset
        self.text = text
        self.x = x
        self.y = y
        self.time = time

    def __repr__(self) -> str:
        return f"Mark({self.offset}, {self.text!r}, x={self.x}, y={self.y})"


class ReadCursor:
    """Where the next ``read`` starts: the log offset, where the terminal's
    cursor was, and whether the text read so far ended in mid-line."""

    __slots__ = ("offset", "x", "y", "mid_line")

    def __init__(self, offset: int = 0, x: int = 0, y: int = 0, mid_line: bool = False) -> None:
        self.offset = offset
        self.x = x
        self.y = y
        self.mid_line = mid_line


#: Flags for a file tmuxagent creates: never through a link, never one that exists.
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def owned_lstat(path: str) -> os.stat_result:
    """``os.stat`` of ``path``, followed through a final symlink only if the
    link is the caller's own (another user's link could be repointed later)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        if st.st_uid != os.geteuid():
            raise PermissionError(0, f"it is a link that belongs to uid {st.st_uid}")
        st = os.stat(path)
    return st


def unsafe_path(directory: str) -> str | None:
    """Why another user could change what ``directory`` holds, or where the
    path to it leads; None when no one else can.

    Every directory and link on the way from ``/`` (as given, and as the
    links resolve) must be the caller's or root's. Others may write to none
    of them, except to a sticky one above the last (such as ``/tmp``): they
    cannot rename or remove what is not theirs there. What does not exist yet
    is not judged (check again once it is made).
    """
    euid = os.geteuid()
    for path in (os.path.abspath(directory), os.path.realpath(directory)):
        parts = path.split("/")[1:]
        steps = ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts)) if parts[i]]
        for i, step in enumerate(steps):
            try:
                st = os.lstat(step)
            except FileNotFoundError:
                break
            if st.st_uid not in (euid, 0):
                return f"{step} belongs to uid {st.st_uid}"
            if stat.S_ISLNK(st.st_mode):
                continue  # where it leads is checked as the path resolves
            if not stat.S_ISDIR(st.st_mode):
                return f"{step} is not a directory"
            sticky_above = st.st_mode & stat.S_ISVTX and i < len(steps) - 1
            if st.st_mode & 0o022 and not sticky_above:
                return f"others can write to {step}"
    return None


def secure_dir(
    path: str, *, what: str = "directory", error: type[TmuxAgentError] = UsageError
) -> str:
    """Create ``path`` private (0700), or check that it is; else ``error``.

    Refuses a directory owned by someone else, or one that others can enter
    (whoever can reach a tmux socket can type into every pane behind it), a
    symlink that another user owns (checked without following it), and a
    path on which another user could swap a directory (:func:`unsafe_path`).
    """
    reason = unsafe_path(path)
    if reason:
        raise error(f"refusing {what} {path}: {reason}; use a directory of your own")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = owned_lstat(path)
    except OSError as exc:
        raise error(f"refusing {what} {path}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise error(f"refusing {what} {path}: it is not a directory")
    if st.st_uid != os.geteuid():
        raise error(
            f"refusing {what} {path}: it belongs to uid {st.st_uid}, not to you; "
            "use a directory of your own (TMUXAGENT_SOCKET_DIR, or -S elsewhere)"
        )
    if st.st_mode & 0o077:
        raise error(
            f"refusing {what} {path}: others can access it (mode {st.st_mode & 0o777:o}); "
            f"'chmod 700 {path}', or use a directory of your own"
        )
    return path


def replace_file(path: str, data: bytes) -> None:
    """Make ``path`` hold ``data``, 0600, atomically: written to a new file of
    an unguessable name beside it, then renamed over it (a link at ``path`` is
    replaced, never followed)."""
    tmp = f"{path}.{os.urandom(6).hex()}.tmp"
    try:
        _write(tmp, NEW_FILE, data)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):  # a full disk says which file it could not write
            raise OSError(exc.errno, exc.strerror, path) from None
        raise


def _write(path: str, flags: int, data: bytes) -> None:
    fd = os.open(path, flags, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


class PrivateOutput:
    """``with PrivateOutput(path) as out:`` a text file that becomes ``path``
    once complete: 0600, written beside it under an unguessable name, then
    renamed over it (a link at ``path`` is replaced, never followed). Nothing
    is left behind on an error."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._tmp = os.path.join(
            os.path.dirname(os.path.abspath(path)),
            f".{os.path.basename(path)}.{os.urandom(6).hex()}.tmp",
        )
        self._file: TextIO | None = None

    def __enter__(self) -> TextIO:
        self._file = open(os.open(self._tmp, NEW_FILE, 0o600), "w", encoding="utf-8")
        return self._file

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        assert self._file is not None
        try:
            self._file.close()
            if exc is None:
                os.replace(self._tmp, self.path)
        finally:
            if os.path.lexists(self._tmp):
                os.unlink(self._tmp)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


class SessionFiles:
    """Paths and small helpers for one session's state directory."""

    def __init__(self, root: str) -> None:
        # Made often (watchers look at every session's log a few times a
        # second): plain joins, for a root that is a directory's path.
        base = root.rstrip("/") + "/"
        self.root = root
        self.log = base + "output.log"
        self.meta_path = base + "meta.json"
        self.mark_path = base + "input"
        self.cursor_path = base + "read"
        self.launch_path = base + "launch.json"
        #: Where the launcher notes its program's pid (``_launch.PID_FILE``).
        self.pid_path = base + "program.pid"
        #: Why the launcher could not start the program (``_launch._cannot_start``).
        self.error_path = base + "launch.error"
        #: There once the session is being killed.
        self.ended_path = base + "ended"
        self.state_path = base + "log.state"
        self.timing_path = base + "timing"

    @staticmethod
    def new_id() -> str:
        """A name for a new session's directory, unique on this host."""
        return f"{time.time_ns():x}-{os.getpid():x}-{os.urandom(3).hex()}"

    @staticmethod
    def valid_id(name: str) -> bool:
        """Whether ``name`` has the form :meth:`new_id` gives."""
        parts = name.split("-")
        return len(parts) == 3 and all(p and p.isascii() and p.isalnum() for p in parts)

    @property
    def session_id(self) -> str:
        return os.path.basename(self.root)

    @classmethod
    def create(cls, state_root: str, session_id: str) -> SessionFiles:
        secure_dir(state_root, what="state directory", error=ForeignServer)
        root = os.path.join(state_root, session_id)
        os.mkdir(root, 0o700)
        files = cls(root)
        try:  # on a full disk: nothing half made is left
            from ._logwriter import LogState

            for path, data in (
                (files.log, b""),
                (files.timing_path, b""),
                (files.state_path, LogState().line()),
            ):
                fd = os.open(path, NEW_FILE, 0o600)
                try:
                    if data and os.write(fd, data) != len(data):
                        raise OSError(28, os.strerror(28))  # ENOSPC, as a short write means
                finally:
                    os.close(fd)
        except BaseException:
            files.remove()
            raise
        return files

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)

    # -- the log ---------------------------------------------------------------

    def log_size(self) -> int:
        try:
            return os.stat(self.log).st_size
        except FileNotFoundError:
            return 0

    def log_state(self) -> LogState:
        """What the log's writer says: output dropped to keep the log's size
        limit, and output it could not write (a full disk)."""
        from ._logwriter import read_state

        return read_state(self.state_path)

    def log_stat(self) -> tuple[int, float]:
        """The log's size and when it last grew (0, 0.0 when it is gone)."""
        try:
            st = os.stat(self.log)
        except OSError:
            return 0, 0.0
        return st.st_size, st.st_mtime

    def open_log(self, offset: int) -> IO[bytes]:
        """The log, open for reading from ``offset`` on (the caller closes it)."""
        f = open(self.log, "rb")  # noqa: SIM115 - returned to the caller
        f.seek(offset)
        return f

    def program_pid(self) -> int | None:
        """The program's pid as its launcher noted it: 0 once it was reaped,
        None before it was noted (or in a session of an older tmuxagent)."""
        raw = _read(self.pid_path)
        return int(raw) if raw and raw.strip().isdigit() else None  # empty: being written

    def launch_error(self) -> str | None:
        """Why the program could not be started, in one line (None: it was)."""
        raw = _read(self.error_path)
        line = raw.decode("utf-8", "replace").strip().split("\n")[0] if raw else ""
        return line.removeprefix("tmuxagent: ")[:500] or None

    def note_ended(self) -> None:
        """Note that the session is being killed (see :attr:`ended`)."""
        try:
            os.close(os.open(self.ended_path, NEW_FILE, 0o600))
        except OSError:
            pass  # noted already, or the files are gone

    @property
    def ended(self) -> bool:
        """Whether the session was killed (a wait that sees its server go
        then reports the session gone, not the server)."""
        return os.path.exists(self.ended_path)

    def read_on(self, log: IO[bytes], size: int = -1) -> bytes:
        """Read on from ``log`` (an :meth:`open_log`), past any part the log
        dropped meanwhile (its size limit: a hole, which reads as NULs)."""
        at = log.tell()
        data = log.read(size)
        if data[:1] == b"\0":  # a program may write NULs too: look
            start = self.log_state().start
            if start > at:
                log.seek(start)
                data = log.read(size)
        return data

    def wait_growth(self, size: int, deadline: Deadline | float) -> bool:
        """Wait until the log is bigger than ``size``; False at the deadline."""
        return poll_until(lambda: self.log_size() > size, deadline, interval=LOG_INTERVAL) is True

    def wait_quiet(self, quiet: float, deadline: Deadline | float, *, after: int = -1) -> int:
        """Wait until the log is bigger than ``after`` and has not grown for ``quiet``
        seconds, or for the deadline. Returns the log's size then."""
        seen = [self.log_size(), time.monotonic()]

        def still() -> bool:
            size, now = self.log_size(), time.monotonic()
            if size != seen[0]:
                seen[:] = [size, now]
                return False
            return size > after and now - seen[1] >= quiet

        poll_until(still, deadline, interval=LOG_INTERVAL)
        return int(seen[0])

    def read_log(self, start: int, end: int | None = None) -> bytes:
        try:
            with open(self.log, "rb") as f:
                f.seek(start)
                return f.read() if end is None else f.read(max(0, end - start))
        except FileNotFoundError:
            return b""

    # -- metadata, marks, cursors ----------------------------------------------

    def write_launch(self, spec: dict[str, Any]) -> None:
        """What the launcher runs: argv, environment, directory (it deletes the file)."""
        import json

        fd = os.open(self.launch_path, NEW_FILE, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            json.dump(spec, f)

    def write_meta(self, meta: dict[str, Any]) -> None:
        import json

        replace_file(self.meta_path, json.dumps(meta, ensure_ascii=False).encode())

    def meta(self) -> dict[str, Any]:
        import json

        raw = _read(self.meta_path)
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return data if isinstance(data, dict) else {}

    def note_input(self, text: str, x: int, y: int) -> Mark:
        """Mark where the log stands as ``text`` is about to be typed, the cursor
        at (x, y): waits start there and leave out the echo."""
        mark = Mark(self.log_size(), text, x, y, time.time())
        self.write_mark(mark)
        return mark

    def write_mark(self, mark: Mark) -> None:
        head = f"{mark.offset} {mark.x} {mark.y} {mark.time!r}\n"
        data = head.encode() + mark.text.encode("utf-8", "surrogatepass")
        try:
            replace_file(self.mark_path, data)
        except OSError as exc:  # a full disk (this program's?): C-c must still go in
            import errno

            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            _write(self.mark_path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, data)  # in place

    def mark(self) -> Mark:
        raw = _read(self.mark_path)
        if not raw:
            return Mark(0)
        head, _, text = raw.partition(b"\n")
        try:
            offset, x, y, when = head.split()
            return Mark(
                int(offset), text.decode("utf-8", "surrogatepass"), int(x), int(y), float(when)
            )
        except ValueError:
            return Mark(0)

    def note_match(self, mark: Mark, offset: int, line: int, col: int) -> None:
        """Note where a wait's match ended, in the output after ``mark``: the
        log offset read by then, and the line and column in that output's
        lines (file ``matched``). The next wait starts there, until new input."""
        # One record of fixed width, written over the last in one write: a
        # wait pays no new file for it (a reader sees the old or the new one).
        record = f"{mark.offset:020d} {mark.time!r:>32} {offset:020d} {line:012d} {col:012d}\n"
        path = os.path.join(self.root, "matched")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                os.pwrite(fd, record.encode(), 0)
            finally:
                os.close(fd)
        except OSError:
            pass  # the session is gone, or the disk full: the next wait starts at the input

    def matched(self, mark: Mark) -> tuple[int, int, int] | None:
        """``(offset, line, col)`` of :meth:`note_match` for ``mark``; None if
        input came since (or no wait has matched)."""
        raw = _read(os.path.join(self.root, "matched"))
        try:
            offset, when, upto, line, col = (raw or b"").split()
            if int(offset) != mark.offset or float(when) != mark.time:
                return None
            return int(upto), int(line), int(col)
        except ValueError:
            return None

    def read_cursor(self) -> _CursorLock:
        """Hold the read lock; ``with files.read_cursor() as lock: lock.cursor``."""
        return _CursorLock(self)


class _CursorLock:
    def __init__(self, files: SessionFiles) -> None:
        self._files = files
        self._fd = -1
        self.cursor = ReadCursor()

    def __enter__(self) -> _CursorLock:
        import fcntl

        lock = os.path.join(self._files.root, "read.lock")
        self._fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        raw = _read(self._files.cursor_path)
        try:
            offset, x, y, mid_line = (int(v) for v in (raw or b"0 0 0 0").split())
            self.cursor = ReadCursor(offset, x, y, bool(mid_line))
        except ValueError:
            self.cursor = ReadCursor()
        return self

    def save(self, cursor: ReadCursor) -> None:
        self.cursor = cursor
        line = f"{cursor.offset} {cursor.x} {cursor.y} {int(cursor.mid_line)}"
        replace_file(self._files.cursor_path, line.encode())

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)  # closing releases the lock
