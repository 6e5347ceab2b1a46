"""Talking to tmux: a ``tmux`` client process per call, the socket it talks
to, and tmux's syntax.

Every call names the socket explicitly (``-S``), has a timeout, ignores the
user's ``~/.tmux.conf`` and turns tmux's complaints into tmuxagent errors;
the socket is checked to be the caller's own first (:class:`Socket`). Only
the host (``_host.py``) makes a :class:`Runner` and a :class:`Socket`; the
rest of the package asks the host.

Agents run the CLI once per step, so this module avoids ``subprocess`` (and
what it imports): :func:`spawn` is ``posix_spawn`` plus ``poll``.
"""

from __future__ import annotations

import os
import select
import time

from ._poll import TMUX_TIMEOUT, poll_until
from .errors import (
    CommandFailed,
    ForeignServer,
    ServerNotRunning,
    TmuxError,
    TmuxNotFound,
    UsageError,
    shown,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._control import Control, Guard

#: tmux's stderr when nothing listens on the socket.
_NO_SERVER = (
    "no server running",
    "error connecting to",
    "server exited unexpectedly",
    "lost server",
)
_SIGKILL = 9  # the same number on every POSIX system


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
            # Its own process group: a Ctrl-C at the terminal is ours to handle
            # (we end the client when we give up), not a kill in mid-command.
            setpgroup=0,
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
                open_fds.discard(fd)  # first: a Ctrl-C between the two must not
                os.close(fd)  # have the finally close it again (EBADF, or another's fd)
    except BaseException:
        # A timeout, or Ctrl-C while tmux hangs: do not wait for it to answer.
        os.kill(pid, _SIGKILL)
        raise
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


_found: dict[str, str] = {}


def locate(binary: str) -> str:
    """``binary``'s absolute path on PATH, looked up once per process (and
    first when this module loads), so that a caller that changes PATH later
    (pexpect code does, for the programs it runs) still reaches tmux.
    Relative entries of PATH are skipped. As given when it has a slash or
    is not found (running it then says it is missing)."""
    if "/" in binary:
        return binary
    if binary not in _found:
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            path = os.path.join(folder, binary)
            if os.path.isabs(folder) and os.access(path, os.X_OK) and not os.path.isdir(path):
                _found[binary] = path
                break
        else:
            return binary
    return _found[binary]


locate("tmux")


class Runner:
    """Runs tmux client commands against one server socket."""

    def __init__(
        self,
        socket_path: str,
        *,
        timeout: float = TMUX_TIMEOUT,
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
        self._answered = False  # the server has answered a call of ours

    def base_command(self) -> list[str]:
        """tmux and the socket, as a human runs them to attach (the calls run
        tmux where :func:`locate` found it)."""
        return [self.binary, "-u", "-S", self.socket_path]

    def control(self, target: str) -> Control:
        """A control-mode connection attached to session ``target``."""
        from ._control import Control

        flags = "no-output,ignore-size"
        argv = [locate(self.binary), "-u", "-S", self.socket_path, "-f", self.config, "-C",
                "attach-session", "-t", escape_arg(target), "-f", flags]  # fmt: skip
        return Control(argv, self._env, self.timeout)

    def guard(self, session_id: str, server_pid: int) -> Guard:
        """A process that kills session ``session_id`` (``$N``) when this
        process ends, if it is still of the server ``server_pid`` (ids start
        again in a new server). By id, not by a pane: a window linked into
        another session would make a pane stand for that one."""
        from ._control import Guard

        if not (session_id.startswith("$") and session_id[1:].isdigit()):
            raise ValueError(f"not a session id: {session_id!r}")
        argv = [locate(self.binary), "-u", "-S", self.socket_path, "-f", self.config,
                "if-shell", "-F", "-t", session_id, f"#{{==:#{{pid}},{server_pid}}}",
                f"kill-session -t '{session_id}'"]  # fmt: skip
        return Guard(argv, self._env)

    def run(
        self,
        *commands: Sequence[str],
        input: bytes = b"",
        timeout: float | None = None,
    ) -> str:
        """Run one or more tmux commands in a single client call.

        Several commands are chained with tmux's ``;`` separator and run in
        order by the server, atomically with respect to the programs' output.
        Returns what tmux printed on stdout (decoded as UTF-8).
        """
        argv = [locate(self.binary), "-u", "-S", self.socket_path, "-f", self.config]
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
                f"tmux did not answer within {round(limit, 1):g}s ({what}); the server may be "
                f"stuck: 'tmuxagent -S {self.socket_path} kill --all' restarts it"
            ) from None
        if code != 0:
            stderr = err.decode("utf-8", "replace")
            if any(s in stderr for s in _NO_SERVER):
                raise self.not_running()
            self._answered = True  # and refused the command
            flat = [a for c in commands for a in (*c, ";")][:-1]
            raise CommandFailed(flat, stderr, out.decode("utf-8", "replace"))
        self._answered = True
        return out.decode("utf-8", "replace")

    def not_running(self) -> ServerNotRunning:
        """The error for a server that is not there (any more)."""
        if self._answered:
            return ServerNotRunning(
                f"the tmuxagent server on {self.socket_path} has stopped (it answered "
                "earlier), and its sessions with it; 'tmuxagent start NAME' starts a new one"
            )
        return ServerNotRunning(
            f"no tmuxagent server is running on {self.socket_path}; "
            "'tmuxagent start NAME' starts one"
        )


#: Seconds before the processes are looked through again for a server whose
#: socket was deleted, after a look found none and no socket was seen since
#: (a dashboard on a server that does not run asks ten times a second).
REVIVE_AGAIN = 5.0


class Socket:
    """The socket at ``path``: checked to be the caller's own, and brought
    back when it was deleted under a running server."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._path_checked = False
        self._none_at = -REVIVE_AGAIN  # when a look for a server found none

    def check_path(self) -> None:
        """ForeignServer if another user could put a socket of theirs (or the
        lock file tmux makes beside it) where this one is, or swap a directory
        on the way to it: checked before every first call, since a check of
        the socket alone cannot catch a swap between the check and tmux's
        connect."""
        from ._files import unsafe_path

        reason = unsafe_path(os.path.dirname(self.path))
        if reason:
            raise ForeignServer(
                f"refusing the tmux socket {self.path}: {reason}, so another user "
                "could put a server of theirs in its place; use a directory of your own "
                "(-S, or TMUXAGENT_SOCKET_DIR)"
            )
        self._path_checked = os.path.isdir(os.path.dirname(self.path))

    def check_kind(self) -> None:
        """UsageError if something other than a socket is where the socket
        goes (say, a directory given to -S): before anything is made for it."""
        import stat

        try:
            mode = os.stat(self.path).st_mode
        except OSError:
            return  # none yet (tmux makes it), or tmux will say why not
        if not stat.S_ISSOCK(mode):
            kinds = {stat.S_IFDIR: "a directory", stat.S_IFREG: "a file"}
            raise UsageError(
                f"the socket path (-S) {shown(self.path, 200)} is "
                f"{kinds.get(stat.S_IFMT(mode), 'a special file')}, not a socket: "
                "give the path of a socket, or of one for tmux to make"
            )

    def check(self) -> bool:
        """Whether the socket exists; TmuxError if it is not the caller's own.

        tmux lets root into every user's server, and a user into a server of
        theirs that granted access: a socket of someone else's (planted where
        others can write, such as /tmp) would hear every key sent and run
        every program started, as its owner. The socket file is made by the
        server, so its owner is the server's.
        """
        import stat

        from ._files import owned_lstat

        if not self._path_checked:
            self.check_path()
        try:
            st = owned_lstat(self.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ForeignServer(f"refusing the tmux socket {self.path}: {exc.strerror}") from None
        if not stat.S_ISSOCK(st.st_mode):
            raise ForeignServer(f"refusing {self.path}: it is not a socket")
        if st.st_uid != os.geteuid():
            raise ForeignServer(
                f"refusing the tmux server at {self.path}: it belongs to uid "
                f"{st.st_uid}, not to you (uid {os.geteuid()}), and would see everything sent "
                "to it; use a socket of your own (-S in a directory only you can write)"
            )
        self._none_at = -REVIVE_AGAIN  # a server is there: if its socket goes, look for it
        return True

    def revive(self, *, starting: bool = False) -> bool:
        """Bring back a server whose socket file was deleted.

        The server keeps running, unreachable; SIGUSR1 makes tmux create its
        socket again. Before a call that may start a server (``starting``),
        the processes are always looked through: a second server must not be.
        """
        import signal

        from . import _procs

        if os.path.exists(self.path):
            return False
        if not starting and time.monotonic() < self._none_at + REVIVE_AGAIN:
            return False
        servers = _procs.tmux_servers(self.path)
        if not servers:
            self._none_at = time.monotonic()
            return False
        # A server another call is starting right now has no socket yet, and
        # SIGUSR1 would disturb it: give it a moment to make its own.
        if poll_until(lambda: os.path.exists(self.path), 0.5, interval=0.01):
            return True
        for pid in servers:
            _procs.send(pid, signal.SIGUSR1)
            if poll_until(lambda: os.path.exists(self.path), 2.0, interval=0.01):
                return True
        return False
