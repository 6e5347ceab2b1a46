"""Appends a pane's output to its log: tmux's ``pipe-pane`` runs it.

:func:`command` reads what tmux passes on (stdin) and appends it to
``output.log``. Beside the bytes, it keeps:

``timing``
    ``seconds offset`` lines: by ``seconds`` (since the epoch) the log had
    reached ``offset``. A line once output pauses for :data:`TIMING_PAUSE`
    and at least every :data:`TIMING_EVERY` seconds of steady output, so
    that any session can be replayed with its timing (``record --cast``).
    It is kept to a quarter of the log's limit (its oldest lines go).
``log.state``
    One fixed-size line, rewritten in place (it needs no new disk space):
    ``start unrecorded errno limit``. Bytes before ``start`` were dropped to
    keep the log under ``limit`` bytes (0: no limit): the log's offsets stay
    the same, the oldest part becomes a hole in the file (``start`` is saved
    before the hole is made). ``unrecorded`` bytes could not be written (a
    full disk: ``errno``) since the last note.

When a write fails, the bytes are counted and the writer goes on reading,
so the program never blocks; once the log can be written again (tried with
the next output, and every second), it gets a visible line
``[tmuxagent: N bytes of output were not recorded here: ...]``. A writer
started again for a live pane (its predecessor was killed) begins with
``[tmuxagent: output may be missing here ...]``. Each note starts with CAN,
which ends any escape sequence the lost bytes left open.

While it runs, the writer holds an exclusive ``flock`` on ``log.state``:
a writer that replaces another one waits for the old one to finish, so the
log is never written out of order. Its stdout is the log, so the host can
tell when it has written all it was given.

It must not import anything but the stdlib (it runs with ``python -I -S``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import sys
import time

LOG = "output.log"
STATE = "log.state"
#: ``start unrecorded errno limit``, fixed width: it is rewritten in place.
STATE_FORMAT = "%019d %019d %05d %019d\n"
STATE_SIZE = len(STATE_FORMAT % (0, 0, 0, 0))
TIMING = "timing"
#: A timing line at least this often while output streams (seconds).
TIMING_EVERY = 0.05
#: A timing line once the output has paused this long (seconds).
TIMING_PAUSE = 0.005
#: Seconds between tries to write to a full disk while no output comes.
RETRY_EVERY = 1.0
#: Once the log holds more than its limit, it is cut to this part of it, so
#: that the oldest output is dropped in large steps, not at every write.
KEEP = 0.75
_BLOCK = 4096
#: Where a note starts: CAN ends an escape sequence left open by lost bytes.
_NOTE_START = "\x18\r\n"


#: The most bytes of output a session's log keeps, unless told otherwise.
DEFAULT_LOG_LIMIT = 100 * 1024 * 1024
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_log_limit(value: int | str, source: str = "") -> int:
    """A log size limit: bytes, or a number with K, M, G or T (binary units:
    ``100M`` is 100 MiB); 0 keeps all output. UsageError otherwise, naming
    ``source`` (where the value came from) if given."""
    if isinstance(value, int) and not isinstance(value, bool):
        number, unit = value, 1
    elif isinstance(value, str):
        text = value.strip().upper().removesuffix("IB").removesuffix("B")
        digits = text.rstrip("KMGT")
        unit = _UNITS.get(text[len(digits) :], 0)
        number = int(digits) if digits.isdigit() and digits.isascii() and len(digits) < 19 else -1
    else:
        number, unit = -1, 0
    limit = number * unit
    if number < 0 or not unit or (limit and limit < 1 << 16) or limit >= 1 << 62:
        from .errors import UsageError, shown

        where = f" in {source}" if source else ""
        raise UsageError(
            f"invalid log limit {shown(value)}{where}: give bytes or a size such as 100M or 2G "
            "(at least 64K; 0 keeps all output)"
        )
    return limit


def unrecorded_note(count: int | None, code: int = 0) -> bytes:
    """The line put in the log where output could not be written: ``count``
    bytes (None: an unknown amount, the writer had stopped), ``code`` the errno."""
    if count is None:
        text = "output may be missing here: the log's writer had stopped"
    else:
        text = f"{count} bytes of output were not recorded here: {os.strerror(code)}"
    return f"{_NOTE_START}[tmuxagent: {text}]\r\n".encode()


class LogState:
    """What ``log.state`` says (see the module's docstring)."""

    __slots__ = ("start", "unrecorded", "code", "limit")

    def __init__(self, start: int = 0, unrecorded: int = 0, code: int = 0, limit: int = 0) -> None:
        self.start = start
        self.unrecorded = unrecorded
        self.code = code
        self.limit = limit

    def line(self) -> bytes:
        return (STATE_FORMAT % (self.start, self.unrecorded, self.code, self.limit)).encode()


def read_state(path: str) -> LogState:
    """The state in a ``log.state`` file (zeros if there is none)."""
    raw = b""
    for _ in range(3):  # rewritten in place: read until two reads agree
        try:
            with open(path, "rb") as f:
                first, second = f.read(STATE_SIZE), os.pread(f.fileno(), STATE_SIZE, 0)
        except OSError:
            return LogState()
        raw = first
        if first == second:
            break
    try:
        return LogState(*(int(v) for v in raw.split()))
    except (ValueError, TypeError):
        return LogState()


def command(python: str, root: str, limit: int, *, resumed: bool = False) -> list[str]:
    """The ``pipe-pane`` command (as argv) that writes the log in ``root``.

    The writer is loaded from its cached bytecode (as the launcher is):
    compiling this file, as running it as a script does, would leave more
    than 1 MB in every writer for as long as its session lives.
    """
    return [python, "-I", "-S", "-c", _BOOT, __file__, root, str(limit), str(int(resumed))]


_BOOT = (
    "import sys; from importlib.machinery import SourceFileLoader; m = type(sys)('logwriter'); "
    "SourceFileLoader('logwriter', sys.argv[1]).exec_module(m); m.main(*sys.argv[2:])"
)


def _punch(fd: int, end: int) -> int:
    """Free the file's bytes before ``end`` (a hole: offsets stay as they
    were); 0, or the errno (the filesystem may not know holes)."""
    import ctypes  # only once there is something to drop

    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    falloc_fl_keep_size, falloc_fl_punch_hole = 0x01, 0x02
    if libc.fallocate(fd, falloc_fl_keep_size | falloc_fl_punch_hole, 0, end) == 0:
        return 0
    return ctypes.get_errno()


class Writer:
    def __init__(self, root: str, limit: int) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
        self.log = os.open(os.path.join(root, LOG), flags, 0o600)
        path = os.path.join(root, STATE)
        self.state_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        # A writer this one replaces may still be passing on its last bytes.
        fcntl.flock(self.state_fd, fcntl.LOCK_EX)
        self.timing = os.open(os.path.join(root, TIMING), flags, 0o600)
        self.size = os.fstat(self.log).st_size
        self.state = read_state(path)
        self.state.limit = limit
        self.timed = self.size  # the log's size at the last timing line
        self._noted = 0.0  # when the last timing line was written
        self._save_state()  # sized at start: later rewrites need no new blocks

    def _save_state(self) -> None:
        try:
            os.pwrite(self.state_fd, self.state.line(), 0)
        except OSError:
            pass  # read_state gives zeros: the log is read as it is

    def _write(self, data: bytes) -> int:
        """Write as much of ``data`` as the disk takes; returns how much."""
        view = memoryview(data)
        done = 0
        while done < len(view):
            try:
                done += os.write(self.log, view[done:])
            except InterruptedError:
                continue
            except OSError as exc:
                self.state.code = exc.errno or errno.EIO
                break
        self.size += done
        return done

    def note(self, text: bytes) -> bool:
        """Append a note whole (a part of one is taken back); False if it failed."""
        written = self._write(text)
        if written < len(text):
            self.size -= written
            try:
                os.ftruncate(self.log, self.size)
            except OSError:
                pass
            return False
        return True

    def append(self, data: bytes) -> None:
        state = self.state
        if state.unrecorded and not self.flush_unrecorded():
            state.unrecorded += len(data)
            self._save_state()
            return
        written = self._write(data)
        if written < len(data):
            state.unrecorded += len(data) - written
            self._save_state()
        if time.time() - self._noted >= TIMING_EVERY:
            self.note_time()
        if state.limit and self.size - state.start > state.limit:
            self._drop_oldest()

    def flush_unrecorded(self) -> bool:
        """Write the note of what could not be written; whether it went in."""
        state = self.state
        if not self.note(unrecorded_note(state.unrecorded, state.code)):
            return False
        state.unrecorded = state.code = 0
        self._save_state()
        return True

    def note_time(self) -> None:
        now = time.time()
        try:
            os.write(self.timing, f"{now:.6f} {self.size}\n".encode())
        except OSError:
            return  # the log matters more; a replay loses some timing
        self._noted = now
        self.timed = self.size

    def _drop_oldest(self) -> None:
        state = self.state
        end = (self.size - int(state.limit * KEEP)) // _BLOCK * _BLOCK
        if end <= state.start:
            return
        before = state.start
        state.start = end  # first: a reader that finds the hole also finds the new start
        self._save_state()
        if _punch(self.log, end) != 0:
            state.start, state.limit = before, 0  # no holes here: keep everything
            self._save_state()
            return
        timing_size = os.fstat(self.timing).st_size
        if timing_size > max(state.limit // 4, 1 << 20):  # the oldest timing lines go too
            _punch(self.timing, timing_size // 2 // _BLOCK * _BLOCK)

    def run(self) -> None:
        """Pass on stdin until it ends."""
        while True:
            if self.state.unrecorded:
                wait: float | None = RETRY_EVERY
            elif self.timed != self.size:
                wait = TIMING_PAUSE  # then note when the output paused
            else:
                wait = None
            try:
                if wait is not None and not select.select([0], [], [], wait)[0]:
                    if self.state.unrecorded:
                        self.flush_unrecorded()
                    else:
                        self.note_time()
                    continue
                data = os.read(0, 1 << 16)
            except InterruptedError:
                continue
            if not data:
                if self.timed != self.size:
                    self.note_time()
                return
            self.append(data)


def main(root: str, limit: str, resumed: str = "0") -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file size limit: a failed write
    writer = Writer(root, int(limit))
    os.dup2(writer.log, 1)  # see the module's docstring
    if resumed == "1" and writer.size:
        writer.note(unrecorded_note(None))
    writer.run()


if __name__ == "__main__":
    main(*sys.argv[1:])
