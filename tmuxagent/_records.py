"""The records tmuxagent returns: a session's status, a command's result, a screen.

Plain data with a ``repr``, equality and ``_asdict()``: :class:`Struct` gives
what NamedTuple would, without importing dataclasses or typing, which would
cost the CLI more than a tmux round trip. Subclasses list their fields in
``__slots__`` and write a typed ``__init__``.
"""

from __future__ import annotations

import time

from .errors import signal_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._files import SessionFiles
    from ._host import Host
    from ._pane import Pane


class Struct:
    """Base of the records: ``repr``, ``==`` and ``_asdict()`` from ``__slots__``."""

    __slots__: tuple[str, ...] = ()

    def _asdict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._asdict().items())
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._asdict() == other._asdict()

    __hash__ = None  # type: ignore[assignment]


#: A live program that has written nothing for this long is called idle.
IDLE_AFTER = 5.0


class SessionInfo(Struct):
    """What ``status`` and ``list`` report about a session."""

    __slots__ = (
        "name", "command", "pid", "alive", "exit_status", "signal", "cols", "rows", "idle",
        "created", "cwd", "attached", "shell", "recording", "log", "last_output", "output_bytes",
    )  # fmt: skip

    def __init__(
        self,
        *,
        name: str,
        command: str,
        pid: int,
        alive: bool,
        exit_status: int | None,
        signal: int | None,
        cols: int,
        rows: int,
        idle: float,
        created: float,
        cwd: str,
        attached: bool,
        shell: bool,
        recording: bool,
        log: str,
        last_output: float,
        output_bytes: int,
    ) -> None:
        self.name = name
        self.command = command
        self.pid = pid
        self.alive = alive
        self.exit_status = exit_status
        self.signal = signal
        self.cols = cols
        self.rows = rows
        self.idle = idle
        self.created = created
        self.cwd = cwd
        self.attached = attached
        self.shell = shell
        self.recording = recording
        self.log = log
        self.last_output = last_output  # when the program last wrote (epoch seconds)
        self.output_bytes = output_bytes  # how much it has written so far

    def describe(self, now: float | None = None) -> str:
        """The session's status in a few words, as ``list`` and the dashboard show it:
        ``running``, ``idle 12s``, ``exited 3``, ``killed (SIGKILL)``."""
        if not self.alive:
            if self.signal:
                return f"killed ({signal_name(self.signal)})"
            return f"exited {self.exit_status}"
        quiet = (time.time() if now is None else now) - self.last_output
        return f"idle {_duration(quiet)}" if quiet >= IDLE_AFTER else "running"

    def age(self, now: float | None = None) -> str:
        """How long ago the session started, in a few characters: ``42s``, ``5m``."""
        return _duration((time.time() if now is None else now) - self.created)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: size as 'COLSxROWS', created as ISO 8601."""
        data = self._asdict()
        data["size"] = f"{self.cols}x{self.rows}"
        data["idle"] = round(self.idle, 1)
        data["created"] = _iso(self.created)
        data["last_output"] = _iso(self.last_output)
        return data


class RunResult(Struct):
    """What a command run in the agent shell printed, and how it ended."""

    __slots__ = ("output", "exit_code", "cwd")

    def __init__(self, output: str, exit_code: int, cwd: str) -> None:
        self.output = output
        self.exit_code = exit_code
        self.cwd = cwd


class Capture(Struct):
    """The screen (optionally with scrollback) and where the cursor is."""

    __slots__ = ("text", "cursor_x", "cursor_y", "cols", "rows", "alive")

    def __init__(
        self, text: str, cursor_x: int, cursor_y: int, cols: int, rows: int, alive: bool
    ) -> None:
        self.text = text
        self.cursor_x = cursor_x
        self.cursor_y = cursor_y
        self.cols = cols
        self.rows = rows
        self.alive = alive

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n") if self.text else []

    def __str__(self) -> str:
        return self.text


def session_info(
    host: Host, pane: Pane, files: SessionFiles | None, meta: dict[str, Any]
) -> SessionInfo:
    """What ``status`` and ``list`` report, from the pane, the files (None: they
    are gone) and the metadata."""
    import shlex

    from ._names import decode_name

    argv = meta.get("command") or []
    if argv:
        command = shlex.join(argv)
    elif meta.get("shell"):
        command = "bash (agent shell)"
    else:
        command = "? (its files are gone)"
    created = float(meta.get("created") or pane.created)
    size, mtime = files.log_stat() if files else (0, 0.0)
    mtime = mtime or created
    return SessionInfo(
        name=meta.get("name") or decode_name(pane.tmux_name),
        command=command,
        pid=pane.pid,
        alive=not pane.dead,
        exit_status=pane.exit_status,
        signal=pane.signal,
        cols=pane.cols,
        rows=pane.rows,
        idle=max(0.0, time.time() - mtime),
        last_output=mtime,
        output_bytes=size,
        created=created,
        cwd=pane.cwd or meta.get("cwd", ""),  # a dead pane has no directory
        attached=pane.attached > 0,
        shell=bool(meta.get("shell")),
        recording=host.is_recording(files) if files else False,
        log=files.log if files else "",
    )


def _duration(seconds: float) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``: short, for tables."""
    whole = max(0, int(seconds))
    for unit, size, below in (("s", 1, 120), ("m", 60, 7200), ("h", 3600, 172800)):
        if whole < below:
            return f"{whole // size}{unit}"
    return f"{whole // 86400}d"


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(when))
