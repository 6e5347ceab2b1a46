"""This machine as the host: tmux client processes, files on disk, /proc
(see :class:`~._host.Host`, the interface)."""

from __future__ import annotations

import os
import sys

from ._files import SessionFiles
from ._host import AGENT_BASHRC, Host
from ._poll import DRAIN_TIMEOUT, TMUX_TIMEOUT, Deadline, call_limit, poll_until
from ._tmux import Runner, Socket, format_escape
from .errors import CannotRun, CommandFailed, ServerNotRunning, TmuxError, UsageError, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO

    from ._control import Control, Guard
    from ._tty import TerminalInput


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
        starting = any(c[:1] == ["new-session"] for c in commands)
        existed = socket.check() or (socket.revive(starting=starting) and socket.check())
        if not existed and not starting:
            raise self._runner.not_running()  # no server to ask, nor to start: no tmux to run
        limit = call_limit(self.tmux_timeout if timeout is None else timeout)
        try:
            return self._runner.run(*commands, input=input, timeout=limit)
        finally:
            if not existed:  # a server was started: another user may have raced us to it
                socket.check()

    def control(self, target: str) -> Control:
        if not self.socket.check():
            raise ServerNotRunning(f"no tmuxagent server is running on {self.socket_path}")
        return self._runner.control(target)

    def guard(self, session_id: str, server_pid: int) -> Guard:
        return self._runner.guard(session_id, server_pid)

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

    def set_echo(self, tty: str, on: bool) -> bool:
        from ._tty import set_echo

        return set_echo(tty, on)

    def echo_on(self, tty: str) -> bool | None:
        from ._tty import echo_on

        return echo_on(tty)

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

    def process_alive(self, pid: int) -> bool:
        from . import _procs

        return _procs.alive(pid)

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
        # The server itself: with a client attached (a person's, a spawn's
        # connection) it outlives kill-server's answer for a moment, and a
        # server started meanwhile would reach the old one and fail.
        started += _procs.tmux_servers(self.socket_path)
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
