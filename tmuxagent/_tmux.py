"""Talking to tmux: a ``tmux`` client process per call, and tmux's syntax.

Every call names the socket explicitly (``-S``), has a timeout, ignores the
user's ``~/.tmux.conf`` and turns tmux's complaints into tmuxagent errors.
Only the host (``_host.py``) makes a :class:`Runner`; the rest of the package
asks the host.

Agents run the CLI once per step, so this module avoids ``subprocess`` (and
what it imports): :func:`spawn` is ``posix_spawn`` plus ``poll``.
"""

from __future__ import annotations

import os
import select
import time

from ._poll import TMUX_TIMEOUT
from .errors import CommandFailed, ServerNotRunning, TmuxError, TmuxNotFound

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
                os.close(fd)
                open_fds.discard(fd)
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

    def base_command(self) -> list[str]:
        """The argv prefix of every call (also what a human runs to attach)."""
        return [self.binary, "-u", "-S", self.socket_path]

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
                raise ServerNotRunning(
                    f"no tmuxagent server is running on {self.socket_path}; "
                    "'tmuxagent start NAME' starts one"
                )
            flat = [a for c in commands for a in (*c, ";")][:-1]
            raise CommandFailed(flat, stderr, out.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace")
