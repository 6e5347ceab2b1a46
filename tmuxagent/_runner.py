"""The one way tmuxagent talks to tmux: a ``tmux`` client process per call.

Every call names the socket explicitly (``-S``), has a timeout, ignores the
user's ``~/.tmux.conf`` and turns tmux's complaints into tmuxagent errors.
Nothing else in the package spawns tmux or signals the processes in its
panes, so a remote transport (SSH) later replaces this module only.

Agents run the CLI once per step, so this module avoids ``subprocess`` (and
what it imports): :func:`spawn` is ``posix_spawn`` plus ``poll``.
"""

from __future__ import annotations

import os
import select
import time

from .errors import TmuxError, TmuxNotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

#: tmux's stderr when nothing listens on the socket.
_NO_SERVER = (
    "no server running",
    "error connecting to",
    "server exited unexpectedly",
    "lost server",
)
_SIGKILL = 9  # the same number on every POSIX system
_GONE = (b"Z", b"X")  # process states: zombie, dead


class ServerNotRunning(TmuxError):
    """No tmux server answers on the socket (never started, or killed)."""


class CommandFailed(TmuxError):
    """tmux ran and reported an error (``stderr`` holds its words)."""

    def __init__(self, args: Sequence[str], stderr: str, stdout: str = "") -> None:
        self.args_ = list(args)
        self.stderr = stderr
        self.stdout = stdout
        first = stderr.strip().splitlines()[0] if stderr.strip() else "unknown error"
        super().__init__(f"tmux {args[0] if args else ''} failed: {first}")


class SpawnTimeout(Exception):
    """The child did not finish in time (it has been killed)."""


def spawn(
    argv: Sequence[str], *, env: dict[str, str], input: bytes = b"", timeout: float
) -> tuple[int, bytes, bytes]:
    """Run ``argv`` with ``input`` on stdin; return (exit code, stdout, stderr).

    Raises FileNotFoundError if the program does not exist and SpawnTimeout
    (after killing the child) if it runs longer than ``timeout`` seconds.
    """
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = os.posix_spawnp(
            argv[0],
            list(argv),
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, in_r, 0),
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, err_w, 2),
            ],
        )
    except BaseException:
        for fd in (in_w, out_r, err_r):
            os.close(fd)
        raise
    finally:
        for fd in (in_r, out_w, err_w):
            os.close(fd)
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    poller = select.poll()
    poller.register(out_r, select.POLLIN)
    poller.register(err_r, select.POLLIN)
    pending = memoryview(input)
    if pending:
        os.set_blocking(in_w, False)
        poller.register(in_w, select.POLLOUT)
    else:
        os.close(in_w)
    open_fds = {out_r, err_r} | ({in_w} if pending else set())
    deadline = time.monotonic() + timeout
    try:
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, _SIGKILL)
                raise SpawnTimeout
            for fd, _event in poller.poll(left * 1000):
                if fd == in_w:
                    try:
                        written = os.write(in_w, pending[:65536])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        written = len(pending)
                    pending = pending[written:]
                    if pending:
                        continue
                else:
                    data = os.read(fd, 65536)
                    if data:
                        chunks[fd].append(data)
                        continue
                poller.unregister(fd)
                os.close(fd)
                open_fds.discard(fd)
    finally:
        for fd in open_fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks[out_r]), b"".join(chunks[err_r])


def escape_arg(arg: str) -> str:
    """Protect an argument from tmux's own command parser.

    tmux treats an argument that *ends* in ``;`` as a command separator, even
    with ``send-keys -l`` (``'a;'`` types ``a``). A backslash before the final
    ``;`` makes tmux keep it literally; nothing else in an argv argument is
    interpreted.
    """
    if arg.endswith(";"):
        return arg[:-1] + "\\;"
    return arg


def format_escape(text: str) -> str:
    """Escape ``#`` for arguments that tmux expands as formats."""
    return text.replace("#", "##")


class Runner:
    """Runs tmux client commands against one server socket."""

    def __init__(
        self,
        socket_path: str,
        *,
        timeout: float = 10.0,
        binary: str = "tmux",
        config: str | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self.binary = binary
        self.config = config or "/dev/null"
        env = dict(os.environ)
        # A client started from inside another tmux must not think it is nested.
        env.pop("TMUX", None)
        env.pop("TMUX_PANE", None)
        self._env = env

    def base_command(self) -> list[str]:
        """The argv prefix of every call (also what a human runs to attach)."""
        return [self.binary, "-u", "-S", self.socket_path]

    def run(
        self,
        *commands: Sequence[str],
        input: bytes = b"",
        timeout: float | None = None,
        revive: bool = True,
    ) -> str:
        """Run one or more tmux commands in a single client call.

        Several commands are chained with tmux's ``;`` separator and run in
        order by the server, atomically with respect to the programs' output.
        Returns what tmux printed on stdout (decoded as UTF-8).
        """
        argv = [*self.base_command(), "-f", self.config]
        for i, command in enumerate(commands):
            if i:
                argv.append(";")
            argv.extend(escape_arg(a) for a in command)
        limit = self.timeout if timeout is None else timeout
        try:
            code, out, err = spawn(argv, env=self._env, input=input, timeout=limit)
        except FileNotFoundError:
            raise TmuxNotFound(self.binary) from None
        except SpawnTimeout:
            what = " ; ".join(c[0] for c in commands if c)
            raise TmuxError(
                f"tmux did not answer within {limit:g}s ({what}); the server may be "
                f"stuck: 'tmuxagent -S {self.socket_path} kill --all' restarts it"
            ) from None
        if code != 0:
            stderr = err.decode("utf-8", "replace")
            if any(s in stderr for s in _NO_SERVER):
                if revive and self._revive_socket():
                    return self.run(*commands, input=input, timeout=timeout, revive=False)
                raise ServerNotRunning(
                    f"no tmuxagent server is running on {self.socket_path}; "
                    "'tmuxagent start NAME' starts one"
                )
            flat = [a for c in commands for a in (*c, ";")][:-1]
            raise CommandFailed(flat, stderr, out.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace")

    def _revive_socket(self) -> bool:
        """Bring back a server whose socket file was deleted.

        The server keeps running, unreachable; SIGUSR1 makes tmux create its
        socket again. The server is found by the socket path on its command
        line (tmux names its server process 'tmux: server').
        """
        import signal

        if os.path.exists(self.socket_path):
            return False
        for pid in self.server_pids():
            self.signal_process(pid, signal.SIGUSR1)
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                if os.path.exists(self.socket_path):
                    return True
                time.sleep(0.01)
        return False

    def server_pids(self) -> list[int]:
        """The tmux server process(es) started on this socket (by its command line)."""
        wanted = os.fsencode(self.socket_path)
        found = []
        for pid in _pids():
            if pid == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/comm", "rb") as f:
                    if f.read().strip() != b"tmux: server":
                        continue
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                if wanted in argv and os.stat(f"/proc/{pid}").st_uid == os.getuid():
                    found.append(pid)
            except OSError:
                continue
        return found

    def signal_group(self, pgid: int, sig: int) -> None:
        """Send ``sig`` to a process group on the host that runs tmux."""
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def signal_process(self, pid: int, sig: int) -> None:
        """Send ``sig`` to one process on the host that runs tmux."""
        if pid > 0:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def descendants(self, *pids: int) -> list[int]:
        """The processes started by ``pids``, their children, and so on.

        Read before a pane is killed: a program that left the pane's process
        group (``setsid``) is still found through its parent.
        """
        children: dict[int, list[int]] = {}
        for child in _pids():
            fields = _stat(child)
            if fields and len(fields) > 1:
                children.setdefault(int(fields[1]), []).append(child)
        found: list[int] = []
        todo = list(pids)
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def processes_with_env(self, name: str, value: str) -> list[int]:
        """Processes (of this user) whose environment holds ``name=value``.

        Programs that daemonize leave the pane's process tree, but keep the
        environment tmuxagent gave them.
        """
        wanted = f"{name}={value}".encode()
        found = []
        for pid in _pids():
            if pid == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if wanted in f.read().split(b"\0"):
                        found.append(pid)
            except OSError:
                continue
        return found

    def writers_idle(self, path: str) -> bool | None:
        """Whether the processes writing ``path`` (their stdout) have nothing left.

        That is: each is asleep in a read of its input, so everything it was
        given is written. None when this host cannot tell (no /proc).
        """
        if not os.path.isdir("/proc"):
            return None
        for pid in _pids():
            try:
                if os.readlink(f"/proc/{pid}/fd/1") != path:
                    continue
                with open(f"/proc/{pid}/wchan", "rb") as f:
                    wchan = f.read()
            except OSError:
                continue
            fields = _stat(pid)
            if not fields or fields[0] != b"S" or b"read" not in wchan:
                return False
        return True

    def process_alive(self, pid: int) -> bool:
        """Whether ``pid`` is running (and not a zombie)."""
        fields = _stat(pid)
        return fields is not None and fields[0] not in _GONE

    def group_alive(self, pgid: int) -> bool:
        """Whether a process group still has a live (non-zombie) member.

        Killed panes can linger as zombies where nobody reaps orphans (PID 1
        of many containers), so a plain ``killpg(pgid, 0)`` is not enough.
        """
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        for pid in _pids():
            fields = _stat(pid)
            if fields and len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in _GONE:
                return True
        return not os.path.isdir("/proc")


def _pids() -> list[int]:
    try:
        return [int(e) for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []


def _stat(pid: int) -> list[bytes] | None:
    """``/proc/PID/stat`` after the command name: state, ppid, pgrp, ... (None: gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2 :].split()  # the name may hold spaces and parens
