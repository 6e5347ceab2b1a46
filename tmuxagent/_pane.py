"""A session's pane: what tmux says about it, and finding it by session name.

:func:`list_panes` asks tmux for every field of :data:`FIELDS` and reads
the answer back into :class:`Pane` objects with named attributes. Add a field
by adding one row to the table. :class:`SessionPane` finds the pane and files of
a session by name, for every call afresh.
"""

from __future__ import annotations

import os

from ._names import session_target
from ._poll import PROCESS_INTERVAL, poll_until
from ._records import Struct
from .errors import (
    CommandFailed,
    NoSuchSession,
    ProgramExited,
    ServerNotRunning,
    SessionError,
    shell_quote,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._files import SessionFiles
    from ._host import Host


def _number(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


#: (attribute, tmux format variable, kind). Kinds: 'str'; 'int' (0 when
#: missing); 'int?' (None when missing); 'flag' ('1' is True); 'people':
#: the clients in a list that have a terminal (a client without one, named
#: ``client-PID`` by tmux, is a program's control-mode connection, such as
#: a spawn's).
FIELDS = (
    ("tmux_name", "session_name", "str"),
    ("id", "pane_id", "str"),
    ("pane_pid", "pane_pid", "int"),
    ("dead", "pane_dead", "flag"),
    ("exit_status", "pane_dead_status", "int?"),
    ("signal", "pane_dead_signal", "int?"),
    ("cols", "pane_width", "int"),
    ("rows", "pane_height", "int"),
    ("x", "cursor_x", "int"),
    ("y", "cursor_y", "int"),
    ("alternate", "alternate_on", "flag"),
    ("created", "session_created", "int"),
    ("attached", "session_attached_list", "people"),
    ("piped", "pane_pipe", "flag"),
    ("cwd", "pane_current_path", "str"),
    ("state_dir", "@tmuxagent_dir", "str"),
    ("server_pid", "pid", "int"),
    ("tty", "pane_tty", "str"),
    ("session_id", "session_id", "str"),
)


def list_panes(host: Host, command: list[str]) -> list[Pane]:
    """The panes a tmux ``command`` (``list-panes``, ``display -p``) describes.

    Programs choose much of what comes back (their directory; anything in the
    server can rename a session or set an option), newlines and separators
    included: the separator is random for each call, so that no value can
    pose as one, or start a pane of its own.
    """
    sep = f"\x1f{os.urandom(6).hex()}\x1f"
    fields = sep + sep.join(f"#{{{variable}}}" for _, variable, _ in FIELDS)
    values = host.tmux([*command, fields]).split(sep)[1:]
    count = len(FIELDS)
    panes = []
    for start in range(0, len(values) - count + 1, count):
        record = values[start : start + count]
        record[-1] = record[-1].removesuffix("\n")  # tmux ends each pane's line
        panes.append(Pane(record, host))
    return panes


class Pane(Struct):
    """Facts about a session's pane, one value per field of :data:`FIELDS`,
    and ``pid``: the program's (``pane_pid`` is its launcher's, tmux's child)."""

    __slots__ = (*(name for name, _, _ in FIELDS), "_pid", "_host")

    tmux_name: str
    id: str
    pane_pid: int
    dead: bool
    exit_status: int | None
    signal: int | None
    cols: int
    rows: int
    x: int
    y: int
    alternate: bool
    created: int
    attached: int
    piped: bool
    cwd: str
    state_dir: str
    server_pid: int
    tty: str
    session_id: str

    def __init__(self, values: list[str], host: Host | None = None) -> None:
        for (name, _, kind), text in zip(FIELDS, values, strict=True):
            value: object
            if kind == "str":
                value = text
            elif kind == "flag":
                value = text == "1"
            elif kind == "int?":
                value = _number(text)
            elif kind == "people":
                value = sum(1 for c in text.split(",") if c and not c.startswith("client-"))
            else:
                value = _number(text) or 0
            setattr(self, name, value)
        self._pid: int | None = None
        self._host = host
        if not self.dead:  # only a dead pane has an exit status
            self.exit_status = self.signal = None
        self.cols = self.cols or 80
        self.rows = self.rows or 24

    @property
    def pid(self) -> int:
        """The program's pid: looked up when first asked (most verbs never
        ask), from the launcher's file; ``pane_pid`` without a host."""
        if self._pid is None:
            host, alive = self._host, not self.dead
            self._pid = self.pane_pid
            if host is not None:
                self._pid = host.program_pid(self.state_dir, self.pane_pid, alive)
        return self._pid

    def _asdict(self) -> dict[str, Any]:
        facts = {name: getattr(self, name) for name, _, _ in FIELDS}
        facts["pid"] = self.pid
        return facts

    @property
    def status_pending(self) -> bool:
        """Dead, but tmux has not recorded how the program ended (yet)."""
        return self.dead and self.exit_status is None and self.signal is None


def settle_status(host: Host, pane: Pane) -> Pane:
    """Get the exit status of a pane that has just died.

    tmux 3.3a marks the pane dead when the terminal closes and records the
    status when it reaps the child; it sometimes misses the SIGCHLD and
    leaves the program a zombie with no status at all. A SIGCHLD of our
    own makes it look again.
    """
    import signal

    def look() -> Pane | None:
        nonlocal pane
        host.signal(pane.server_pid, signal.SIGCHLD)
        found = list_panes(host, ["display", "-p", "-t", pane.id])
        if not found:  # gone meanwhile
            return pane
        pane = found[0]
        return None if pane.status_pending else pane

    poll_until(look, 2.0, interval=PROCESS_INTERVAL)
    return pane


class SessionPane:
    """The pane and files of the session called ``name``, looked up afresh on
    every use (a session may end, restart or vanish between two calls)."""

    def __init__(self, host: Host, name: str) -> None:
        self.host = host
        self.name = name
        self.target = session_target(name)
        self._meta: tuple[str, dict[str, Any]] = ("", {})
        self._state_dir = ""  # where the files were when the pane was last found

    def find(self, *, again: bool = False) -> Pane:
        """The session's pane now (NoSuchSession if there is none).

        ``again``: the caller found it before, in the same call (a wait
        checking that the program still runs; every find of a host that is
        ``one_call``). If the server has stopped since, that is
        ServerNotRunning (exit 4), unless the session was killed first (its
        last one: the server went with it).
        """
        host = self.host
        command = ["list-panes", "-s", "-t", self.target, "-f", "#{@tmuxagent_pane}", "-F"]
        try:
            found = list_panes(host, command)
        except ServerNotRunning:
            files = host.files(self._state_dir) if again or host.one_call else None
            if files is not None and not files.ended:
                raise
            raise NoSuchSession(self.name, server_running=False) from None
        except CommandFailed as exc:
            if _gone(exc):
                raise NoSuchSession(self.name) from None
            raise
        if not found:
            raise SessionError(
                f"session {self.name!r} was not started by tmuxagent; "
                "use 'tmuxagent start' to create sessions it can drive"
            )
        pane = found[0]
        self._state_dir = pane.state_dir
        return settle_status(host, pane) if pane.status_pending else pane

    def made(self, state_dir: str) -> None:
        """The caller has just made this session, with its files in ``state_dir``
        (for the checks of a find ``again``)."""
        self._state_dir = state_dir

    def lookup(self, *, again: bool = False) -> tuple[Pane, SessionFiles]:
        """The pane now, and the session's files; reattaches a lost log pipe."""
        host = self.host
        pane = self.find(again=again)
        files = host.files(pane.state_dir)
        if files is None:
            raise SessionError(
                f"the files of session {self.name!r} are gone ({pane.state_dir or 'no path'}); "
                f"'tmuxagent kill {shell_quote(self.name)}' and start it again"
            )
        if not pane.piped and not pane.dead:  # its writer stopped: output may be lost
            host.reattach_log(files, pane.id)
        return pane, files

    def meta(self, files: SessionFiles) -> dict[str, Any]:
        """The session's metadata: written once by ``start``, so read once."""
        if self._meta[0] != files.root:  # first use, or a new session of this name
            self._meta = (files.root, files.meta())
        return self._meta[1]

    def pane(self, *, again: bool = False) -> Pane:
        """The pane now (with the checks of :meth:`lookup`)."""
        return self.lookup(again=again)[0]

    def live(self, *, again: bool = False) -> tuple[Pane, SessionFiles]:
        """As :meth:`lookup`, for a program that must still run (else ProgramExited)."""
        pane, files = self.lookup(again=again)
        if pane.dead:
            raise ProgramExited(self.name, pane.exit_status, pane.signal)
        return pane, files

    def tmux(self, *commands: list[str]) -> str:
        """tmux commands aimed at the pane."""
        with vanishing(self.name):
            return self.host.tmux(*commands)

    def complete(self) -> tuple[Pane, SessionFiles]:
        """The pane and files; if the program has ended, with all its output in the log."""
        pane, files = self.lookup()
        if pane.dead:
            self.host.complete_log(files)
        return pane, files


class vanishing:
    """``with vanishing(name):`` a pane that vanished mid-call is NoSuchSession."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, CommandFailed) and _gone(exc):
            raise NoSuchSession(self.name) from None


def _gone(exc: CommandFailed) -> bool:
    """Whether tmux refused a command because its target session is gone
    ("no current target": the server has no session left, and is exiting)."""
    return "can't find" in exc.stderr or "no current target" in exc.stderr
