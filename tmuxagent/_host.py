"""The host: everything that must happen where tmux runs, behind one interface.

tmux calls, the sessions' files (logs, marks, read cursors), the programs'
processes, the launcher that starts each program and the writer that logs
its output all belong to the machine that runs the tmux server. :class:`Host`
is the interface to them and :class:`~._local.LocalHost` is this machine. Sessions,
waits, rendering, the CLI and the dashboard only ever ask a Host (they never
spawn tmux, open a session's file by path or signal a process themselves), so
a remote host is one more implementation of this class. The one exception is
``attach``: a human's terminal runs the command that :meth:`attach_argv` gives.
"""

from __future__ import annotations

import os

from ._files import SessionFiles, secure_dir
from ._poll import DRAIN_TIMEOUT
from .errors import UsageError, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any, TextIO

    from ._control import Control, Guard
    from ._tty import TerminalInput

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
#: The agent shell's start-up file (see agent.bashrc).
AGENT_BASHRC = os.path.join(_PACKAGE, "agent.bashrc")


def absolute(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def default_socket() -> str:
    """``$TMUXAGENT_SOCKET``, else ``<dir>/default`` in a private directory:
    ``$TMUXAGENT_SOCKET_DIR``, else ``${XDG_RUNTIME_DIR:-/tmp}/tmuxagent-$UID``.

    A variable set to the empty string counts as unset, as in the shell's
    ``${VAR:-default}``: ``TMUXAGENT_SOCKET= tmuxagent list`` is the default server.
    """
    explicit = os.environ.get("TMUXAGENT_SOCKET")
    if explicit:
        return absolute(explicit)
    base = os.environ.get("TMUXAGENT_SOCKET_DIR") or os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"tmuxagent-{os.getuid()}"
    )
    return os.path.join(secure_dir(absolute(base), what="socket directory"), "default")


def session_environment(
    env: Mapping[str, str] | None, name: str, socket: str, replace: bool, session_id: str
) -> dict[str, str]:
    """The environment of a new session's program: this process's (unless
    ``replace``) with tmuxagent's variables, then ``env``."""
    if replace:
        environment: dict[str, str] = {}
    else:
        inherited = ("TMUX", "TMUX_PANE", "TMUXAGENT_PROMPT_TOKEN")
        environment = {k: v for k, v in os.environ.items() if k not in inherited}
        if not any(environment.get(k) for k in ("LC_ALL", "LC_CTYPE", "LANG")):
            environment["LANG"] = "C.UTF-8"  # or unicode arrives as '?'
        environment["TMUXAGENT_SOCKET"] = socket
        environment["TMUXAGENT_SESSION"] = name
        # What kill looks for in processes that left the pane's process tree.
        environment["TMUXAGENT_SESSION_ID"] = session_id
    for key, value in (env or {}).items():
        if not key or "=" in key or "\0" in key or "\0" in value:
            raise UsageError(f"invalid environment variable {shown(key)}")
        environment[key] = value
    return environment


class Host:
    """Where a tmuxagent server's tmux runs: the interface, with nothing behind it.

    Every method may raise :class:`~tmuxagent.TmuxError` when the host or its
    tmux cannot be reached.
    """

    #: The tmux server's socket, on the host.
    socket_path: str
    #: The directory that holds every session's files, on the host.
    state_root: str
    #: Seconds one tmux call may take.
    tmux_timeout: float
    #: Whether all calls through this host make up one call of its user (a
    #: CLI verb): then a server that stops after answering stopped mid-call.
    one_call = False

    # -- tmux ------------------------------------------------------------------

    def tmux(
        self, *commands: Sequence[str], input: bytes = b"", timeout: float | None = None
    ) -> str:
        """Run tmux commands in one client call; returns what tmux printed."""
        raise NotImplementedError

    def control(self, target: str) -> Control:
        """A standing connection to tmux (control mode), attached to the
        session ``target``: for a caller that sends many commands."""
        raise NotImplementedError

    def guard(self, session_id: str, server_pid: int) -> Guard:
        """Something that kills session ``session_id`` (of the server
        ``server_pid``) when this process ends, even killed (SIGKILL),
        unless it is closed first."""
        raise NotImplementedError

    def attach_argv(self) -> list[str]:
        """The command (without ``attach ...``) a human runs to reach the server."""
        raise NotImplementedError

    # -- starting programs -----------------------------------------------------

    def prepare(self, cwd: str) -> None:
        """Make ready to start a session in ``cwd``: UsageError when ``cwd`` is
        not a directory, or the socket's directory cannot be made."""
        raise NotImplementedError

    def program(self, command: Sequence[str] | None, path: str | None, cwd: str) -> list[str]:
        """The argv that runs ``command`` in ``cwd`` (the agent shell when None).

        Raises UsageError when the program cannot be found on ``path``.
        """
        raise NotImplementedError

    def launch_error(self, files: SessionFiles, launcher_pid: int) -> str | None:
        """Wait until a new session's launcher has started its program (None),
        or failed to: then why, in one line."""
        raise NotImplementedError

    def create_files(self, session_id: str, meta: dict[str, Any]) -> SessionFiles:
        """A new session's files (``session_id`` from SessionFiles.new_id), with
        its metadata written."""
        raise NotImplementedError

    def launcher(
        self, files: SessionFiles, argv: list[str], env: dict[str, str], cwd: str
    ) -> list[str]:
        """The command for ``new-session`` that runs ``argv`` with ``env`` in ``cwd``."""
        raise NotImplementedError

    def log_pipe(self, files: SessionFiles, limit: int, *, resumed: bool = False) -> str:
        """The ``pipe-pane`` command that appends a pane's output to its log,
        keeping at most ``limit`` bytes of it (0: all); ``resumed``: it starts
        again after its writer stopped (the log says that output may be missing)."""
        raise NotImplementedError

    def reattach_log(self, files: SessionFiles, pane_id: str) -> None:
        """Start the log's writer again for a live pane whose writer stopped."""
        raise NotImplementedError

    # -- sessions' files ---------------------------------------------------------

    def files(self, state_dir: str) -> SessionFiles | None:
        """The files of an existing session (None when they are gone)."""
        raise NotImplementedError

    def complete_log(self, files: SessionFiles, limit: float = DRAIN_TIMEOUT) -> None:
        """After the program ended: wait until all it wrote is in the log."""
        raise NotImplementedError

    # -- terminals and processes -----------------------------------------------

    def terminal(self, path: str) -> TerminalInput | None:
        """A pane's terminal (``#{pane_tty}``), to see what its program has not
        read yet (None: it cannot be watched from here)."""
        raise NotImplementedError

    def echoes(self, pid: int) -> bool:
        """Whether the terminal of the pane's program ``pid`` shows typed text
        (False only in line mode with echo off; True when unknown)."""
        raise NotImplementedError

    def set_echo(self, tty: str, on: bool) -> bool:
        """Turn the echo of a pane's terminal (``#{pane_tty}``) on or off;
        False when it cannot be reached."""
        raise NotImplementedError

    def echo_on(self, tty: str) -> bool | None:
        """Whether a pane's terminal echoes (None: it cannot be told)."""
        raise NotImplementedError

    def input_wait(self, pid: int) -> str | None:
        """How the terminal's foreground program (of the pane's program
        ``pid``) waits for input: "poll", "read", or None (it does not, or
        that cannot be told)."""
        raise NotImplementedError

    def program_pid(self, state_dir: str, pane_pid: int, alive: bool) -> int:
        """The pid of a session's program (``pane_pid`` is its launcher's)."""
        raise NotImplementedError

    def process_alive(self, pid: int) -> bool:
        """Whether process ``pid`` runs on the host (not a zombie)."""
        raise NotImplementedError

    def signal(self, pid: int, signum: int) -> None:
        """Send a signal to one process on the host."""
        raise NotImplementedError

    def end_session(self, files: SessionFiles | None, target: str, pid: int | None) -> None:
        """Kill the session ``target``, what its program (``pid``) started, its
        files (None: they are gone already)."""
        raise NotImplementedError

    def end_server(self, pids: list[int]) -> None:
        """Kill the server, its live programs (``pids``) and what they started."""
        raise NotImplementedError

    def end_unresponsive(self) -> None:
        """Kill a server that does not answer, and everything it ran."""
        raise NotImplementedError

    # -- recording ---------------------------------------------------------------

    def start_recording(
        self, files: SessionFiles, *, started: float, offset: int, cols: int, rows: int, screen: str
    ) -> None:
        """Mark where a recording starts (see ``_record.py``)."""
        raise NotImplementedError

    def stop_recording(self, files: SessionFiles) -> bool:
        """End the recording; False when there was none to end."""
        raise NotImplementedError

    def recording(self, files: SessionFiles) -> dict[str, Any] | None:
        """The recording's header (None: never recorded)."""
        raise NotImplementedError

    def is_recording(self, files: SessionFiles) -> bool:
        raise NotImplementedError

    def write_cast(self, files: SessionFiles, title: str, out: TextIO, cols: int, rows: int) -> int:
        """Write the recording (without one: all of the log, at ``cols`` x
        ``rows``) as asciicast v2; returns the number of events."""
        raise NotImplementedError
