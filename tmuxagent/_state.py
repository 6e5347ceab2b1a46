"""The files tmuxagent keeps for each session, in a private directory.

``output.log``
    Every byte the program wrote, from its first one, appended by tmux's
    ``pipe-pane``. The lossless record behind ``read``, waits and ``run``.
``timing``
    For recorded sessions: ``seconds offset`` lines, one per chunk of output.
``meta.json``
    Name, command and creation time, written once by ``start``.
``input.json``
    Where the log stood when tmuxagent last sent input, and what was sent:
    waits only look at output after that point, minus the echo of the input.
``read.json``
    How far ``read`` has got (the read cursor), under a lock.

Several CLI processes may act on one session at once; every file is replaced
atomically or guarded by ``flock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from .errors import UsageError


class Mark(NamedTuple):
    """The state of the stream when input was last sent."""

    offset: int
    text: str = ""
    x: int = 0
    y: int = 0
    time: float = 0.0


class ReadCursor(NamedTuple):
    offset: int = 0
    x: int = 0
    y: int = 0


def secure_dir(path: Path, *, what: str = "directory") -> Path:
    """Create ``path`` private (0700), or check that it is.

    Refuses a directory owned by someone else, or one that others can enter:
    whoever can reach a tmux socket can type into every pane behind it.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError as exc:
        raise UsageError(f"cannot create {what} {path}: {exc.strerror}") from None
    if st.st_uid != os.getuid():
        raise UsageError(
            f"refusing {what} {path}: it belongs to uid {st.st_uid}, not to you; "
            "set TMUXAGENT_SOCKET_DIR to a directory of your own"
        )
    if st.st_mode & 0o077:
        raise UsageError(
            f"refusing {what} {path}: others can access it (mode {st.st_mode & 0o777:o}); "
            f"'chmod 700 {path}' or set TMUXAGENT_SOCKET_DIR"
        )
    return path


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class SessionFiles:
    """Paths and small helpers for one session's state directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = root / "output.log"
        self.timing = root / "timing"
        self.meta_path = root / "meta.json"
        self.mark_path = root / "input.json"
        self.cursor_path = root / "read.json"
        self.launch_path = root / "launch.json"

    @classmethod
    def create(cls, state_root: Path) -> SessionFiles:
        secure_dir(state_root, what="state directory")
        unique = f"{time.time_ns():x}-{os.getpid():x}-{os.urandom(3).hex()}"
        root = state_root / unique
        root.mkdir(mode=0o700)
        files = cls(root)
        files.log.touch(mode=0o600)
        return files

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- the log ---------------------------------------------------------------

    def log_size(self) -> int:
        try:
            return self.log.stat().st_size
        except FileNotFoundError:
            return 0

    def log_mtime(self) -> float | None:
        try:
            return self.log.stat().st_mtime
        except FileNotFoundError:
            return None

    def read_log(self, start: int, end: int | None = None) -> bytes:
        try:
            with open(self.log, "rb") as f:
                f.seek(start)
                return f.read() if end is None else f.read(max(0, end - start))
        except FileNotFoundError:
            return b""

    # -- metadata, marks, cursors ----------------------------------------------

    def write_meta(self, meta: dict[str, Any]) -> None:
        _write_json(self.meta_path, meta)

    def meta(self) -> dict[str, Any]:
        data = _read_json(self.meta_path)
        return data if isinstance(data, dict) else {}

    def write_mark(self, mark: Mark) -> None:
        _write_json(self.mark_path, mark._asdict())

    def mark(self) -> Mark:
        data = _read_json(self.mark_path)
        if not isinstance(data, dict):
            return Mark(0)
        try:
            return Mark(**data)
        except TypeError:
            return Mark(0)

    @contextlib.contextmanager
    def read_cursor(self) -> Iterator[list[ReadCursor]]:
        """Hold the read lock; yields a one-item list to put the new cursor in."""
        lock_path = self.root / "read.lock"
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = _read_json(self.cursor_path)
            try:
                cursor = ReadCursor(**data) if isinstance(data, dict) else ReadCursor()
            except TypeError:
                cursor = ReadCursor()
            box = [cursor]
            yield box
            if box[0] != cursor:
                _write_json(self.cursor_path, box[0]._asdict())
