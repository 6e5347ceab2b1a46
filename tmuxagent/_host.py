"""The host: everything that must happen where tmux runs, behind one interface.

tmux calls, the sessions' files (logs, marks, read cursors), the programs'
processes, the launcher that starts each program and the writer that logs
its output all belong to the machine that runs the tmux server. :class:`Host`
is the interface to them and :class:`LocalHost` is this machine. Sessions,
waits, rendering, the CLI and the dashboard only ever ask a Host (they never
spawn tmux, open a session's file by path or signal a process themselves), so
a remote host is one more implementation of this class. The one exception is
``attach``: a human's terminal runs the command that :meth:`attach_argv` gives.
"""

from __future__ import annotations

import os
import sys

from ._files import SessionFiles, secure_dir
from ._poll import DRAIN_TIMEOUT, TMUX_TIMEOUT, Deadline, call_limit, poll_until
from ._tmux import Runner, Socket, format_escape
from .errors import CannotRun, CommandFailed, ServerNotRunning, TmuxError, UsageError, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO

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

    def input_wait(self, pid: int) -> str | None:
        """How the terminal's foreground program (of the pane's program
        ``pid``) waits for input: "poll", "read", or None (it does not, or
        that cannot be told)."""
        raise NotImplementedError

    def program_pid(self, state_dir: str, pane_pid: int, alive: bool) -> int:
        """The pid of a session's program (``pane_pid`` is its launcher's)."""
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


class LocalHost(Host):
    """This machine: tmux client processes, files on disk, /proc."""

    def __init__(
        self, socket_path: str, *, timeout: float = TMUX_TIMEOUT, config: str | None = None
    ) -> None:
        self.socket_path = socket_path
        self.state_root = socket_path + ".tmuxagent"
        self.tmux_timeout = timeout
        self._runner = Runner(socket_path, timeout=timeout, config=config)
        self.socket = Socket(socket_path)

    def __repr__(self) -> str:
        return f"LocalHost({self.socket_path!r})"

    # -- tmux ------------------------------------------------------------------

    def tmux(
        self, *commands: Sequence[str], input: bytes = b"", timeout: float | None = None
    ) -> str:
        # A server whose socket was deleted gets it back first: else a command
        # that starts a server (new-session) would start a second one.
        # Within a wait, no call outlasts the wait's deadline (calls_within).
        socket = self.socket
        existed = socket.check() or (socket.revive() and socket.check())
        limit = call_limit(self.tmux_timeout if timeout is None else timeout)
        try:
            return self._runner.run(*commands, input=input, timeout=limit)
        finally:
            if not existed:  # a server was started: another user may have raced us to it
                socket.check()

    def attach_argv(self) -> list[str]:
        return self._runner.base_command()

    # -- starting programs -----------------------------------------------------

    def prepare(self, cwd: str) -> None:
        import errno
        import stat

        where = f"working directory {shown(cwd)}"
        try:
            mode = os.stat(cwd).st_mode
        except OSError as exc:
            why = {
                errno.ENOENT: "does not exist",
                errno.ENOTDIR: "is not a directory (a part of its path is a file)",
            }
            problem = why.get(exc.errno or 0, f"is unusable: {exc.strerror}")
            raise UsageError(f"{where} {problem}") from None
        if not stat.S_ISDIR(mode):
            raise UsageError(f"{where} is not a directory")
        if not os.access(cwd, os.X_OK):
            raise UsageError(f"{where} cannot be entered: no search (x) permission")
        parent = os.path.dirname(self.socket_path)
        self.socket.check_path()  # before making anything on the way
        self.socket.check_kind()
        try:
            os.makedirs(parent, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {parent}: {exc.strerror}") from None
        self.socket.check_path()

    def program(self, command: Sequence[str] | None, path: str | None, cwd: str) -> list[str]:
        import shutil

        if not command:
            bash = shutil.which("bash", path=path)
            if bash is None:
                raise UsageError("bash was not found on PATH; the agent shell needs it")
            return [bash, "--noprofile", "--rcfile", AGENT_BASHRC, "-i"]
        argv = [str(word) for word in command]
        program = argv[0]
        if "/" in program:
            candidate = os.path.join(cwd, program)
            if not os.path.exists(candidate):
                raise UsageError(f"cannot run {shown(program)}: no such file")
            if os.path.isdir(candidate):
                raise CannotRun(f"cannot run {shown(program)}: it is a directory", program)
            if not os.access(candidate, os.X_OK):
                raise CannotRun(f"cannot run {shown(program)}: it is not executable", program)
        elif shutil.which(program, path=path) is None:
            hint = (
                "; give the program and its arguments as separate words "
                "(tmuxagent start NAME -- python3 -q), or use sh -c '...'"
                if " " in program
                else ""
            )
            raise UsageError(f"command not found: {shown(program)}{hint}")
        return argv

    def launch_error(self, files: SessionFiles, launcher_pid: int) -> str | None:
        from . import _procs

        ended = _procs.wait_started(files.program_pid, launcher_pid) == "ended"
        why = files.launch_error()
        if why is None and ended:
            why = "tmuxagent's launcher ended before it started the program"
        return why

    def create_files(self, session_id: str, meta: dict[str, Any]) -> SessionFiles:
        files = SessionFiles.create(self.state_root, session_id)
        try:
            files.write_meta(meta)
        except BaseException:
            files.remove()
            raise
        return files

    def launcher(
        self, files: SessionFiles, argv: list[str], env: dict[str, str], cwd: str
    ) -> list[str]:
        from ._launch import command

        files.write_launch({"argv": argv, "env": env, "cwd": cwd})
        return command(sys.executable, files.launch_path)

    def log_pipe(self, files: SessionFiles, limit: int, *, resumed: bool = False) -> str:
        import shlex

        from ._logwriter import command

        writer = command(sys.executable, files.root, limit, resumed=resumed)
        errors = os.path.join(files.root, "logwriter.errors")
        # pipe-pane expands formats (#) and then strftime (%) in its command.
        # umask: what the writer and the shell make is private.
        run = f"umask 077; exec {shlex.join(writer)} 2>>{shlex.quote(errors)}"
        return format_escape(run).replace("%", "%%")

    def reattach_log(self, files: SessionFiles, pane_id: str) -> None:
        import fcntl

        from ._files import NEW_FILE

        lock = os.open(os.path.join(files.root, "reattach.lock"), NEW_FILE & ~os.O_EXCL, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one reattach, one note
            if self.tmux(["display", "-p", "-t", pane_id, "#{pane_pipe}#{pane_dead}"]) != "00\n":
                return  # reattached meanwhile, or the program ended
            pipe = self.log_pipe(files, files.log_state().limit, resumed=True)
            self.tmux(["pipe-pane", "-o", "-t", pane_id, pipe])
        finally:
            os.close(lock)

    # -- sessions' files ---------------------------------------------------------

    def files(self, state_dir: str) -> SessionFiles | None:
        # state_dir comes from tmux (a session option), which anything running
        # in the server can set: only a directory that start made is believed.
        if not state_dir or os.path.dirname(state_dir) != self.state_root:
            return None
        if not SessionFiles.valid_id(os.path.basename(state_dir)):
            return None
        return SessionFiles(state_dir) if self._private_dir(state_dir) else None

    @staticmethod
    def _private_dir(path: str) -> bool:
        """A real directory (not a link) of the caller's that only they can enter."""
        import stat

        try:
            st = os.lstat(path)
        except OSError:
            return False
        return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077

    def complete_log(self, files: SessionFiles, limit: float = DRAIN_TIMEOUT) -> None:
        from . import _procs

        # tmux hands output to the log's writer (through pipe-pane)
        # asynchronously: two round trips make sure it has passed on what it
        # had; then the writer must be idle, waiting for more.
        for _ in range(2):
            try:
                self.tmux(["display", "-p", ""])
            except TmuxError:
                break
        deadline = Deadline(limit)
        idle = _procs.writers_idle(files.log)
        if idle is None:  # cannot tell here: wait for quiet
            files.wait_quiet(0.25, deadline)
        elif not idle:
            poll_until(lambda: _procs.writers_idle(files.log), deadline, interval=0.003)

    # -- terminals and processes -----------------------------------------------

    def terminal(self, path: str) -> TerminalInput | None:
        from ._tty import TerminalInput

        return TerminalInput.open(path)

    def echoes(self, pid: int) -> bool:
        from ._tty import echoes

        return echoes(pid)

    def input_wait(self, pid: int) -> str | None:
        from ._tty import input_wait

        return input_wait(pid)

    def program_pid(self, state_dir: str, pane_pid: int, alive: bool) -> int:
        files = self.files(state_dir)
        if files is None:
            return pane_pid
        pid = files.program_pid()
        if pid is not None:  # the usual case: no more than a small file read
            return pid or pane_pid
        from . import _procs

        return _procs.wait_program_pid(files.program_pid, pane_pid, alive)

    def signal(self, pid: int, signum: int) -> None:
        from . import _procs

        _procs.send(pid, signum)

    def end_session(self, files: SessionFiles | None, target: str, pid: int | None) -> None:
        from . import _procs

        started = _procs.descendants(pid) if pid else []
        if files is not None:
            started += _procs.with_env("TMUXAGENT_SESSION_ID", files.session_id)
        server = 0
        if files is not None:  # waits that see the server go know the session went first
            files.note_ended()
        try:
            kill = ["kill-session", "-t", target]
            found = self.tmux(["display", "-p", "-t", target, "#{pid}"], kill, ["ls", "-F", "x"])
            server = 0 if found.split()[1:] else int(found.split()[0])
        except (CommandFailed, ServerNotRunning):
            pass  # it ended on its own meanwhile
        _procs.reap([pid] if pid else [], sorted(set(started)))
        if server:  # that was the last session: do not let a next call catch the server leaving
            poll_until(lambda: not _procs.alive(server), 1.0, interval=0.002)
        if files is not None:
            files.remove()

    def end_server(self, pids: list[int]) -> None:
        import shutil

        from . import _procs

        started = _procs.descendants(*pids)
        started += _procs.with_env("TMUXAGENT_SOCKET", self.socket_path)
        try:
            self.tmux(["kill-server"])
        except (ServerNotRunning, CommandFailed):
            pass
        _procs.reap(pids, sorted(set(started)))
        if self._private_dir(self.state_root):
            shutil.rmtree(self.state_root, ignore_errors=True)

    def end_unresponsive(self) -> None:
        import shutil
        import signal

        from . import _procs

        started = _procs.with_env("TMUXAGENT_SOCKET", self.socket_path)
        for pid in _procs.tmux_servers(self.socket_path):
            _procs.send(pid, signal.SIGKILL)
        _procs.reap([], started)
        if self._private_dir(self.state_root):
            shutil.rmtree(self.state_root, ignore_errors=True)
        if self.socket.check():  # the caller's own: the server behind it is dead
            try:
                os.unlink(self.socket_path)
            except OSError:
                pass

    # -- recording ---------------------------------------------------------------

    def start_recording(
        self, files: SessionFiles, *, started: float, offset: int, cols: int, rows: int, screen: str
    ) -> None:
        from . import _record

        header = {"started": started, "offset": offset, "cols": cols, "rows": rows}
        _record.begin(files, {**header, "screen": screen})

    def stop_recording(self, files: SessionFiles) -> bool:
        from . import _record

        return _record.stop(files)

    def recording(self, files: SessionFiles) -> dict[str, Any] | None:
        from . import _record

        return _record.recording_info(files)

    def is_recording(self, files: SessionFiles) -> bool:
        from . import _record

        return _record.is_recording(files)

    def write_cast(self, files: SessionFiles, title: str, out: TextIO, cols: int, rows: int) -> int:
        from . import _record

        return _record.write_cast(files, title, out, cols, rows)
