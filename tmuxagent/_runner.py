"""The one way tmuxagent talks to tmux: a ``tmux`` client process per call.

Every call names the socket explicitly (``-S``), has a timeout, ignores the
user's ``~/.tmux.conf`` and turns tmux's complaints into tmuxagent errors.
Nothing else in the package spawns tmux, so a remote transport (SSH) later
replaces this module only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from .errors import TmuxError, TmuxNotFound

#: tmux's stderr when nothing listens on the socket.
_NO_SERVER = (
    "no server running",
    "error connecting to",
    "server exited unexpectedly",
    "lost server",
)


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
        socket_path: Path,
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
        return [self.binary, "-u", "-S", str(self.socket_path)]

    def run(
        self,
        *commands: Sequence[str],
        input: bytes | None = None,
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
            proc = subprocess.run(
                argv,
                input=input if input is not None else b"",
                capture_output=True,
                timeout=limit,
                env=self._env,
                check=False,
            )
        except FileNotFoundError:
            raise TmuxNotFound(self.binary) from None
        except subprocess.TimeoutExpired:
            what = " ; ".join(c[0] for c in commands if c)
            raise TmuxError(
                f"tmux did not answer within {limit:g}s ({what}); the server may be "
                f"stuck: 'tmuxagent -S {self.socket_path} kill --all' restarts it"
            ) from None
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            if any(s in stderr for s in _NO_SERVER):
                if revive and self._revive_socket():
                    return self.run(*commands, input=input, timeout=timeout, revive=False)
                raise ServerNotRunning(
                    f"no tmuxagent server is running on {self.socket_path}; "
                    "'tmuxagent start NAME' starts one"
                )
            flat = [a for c in commands for a in (*c, ";")][:-1]
            raise CommandFailed(flat, stderr, proc.stdout.decode("utf-8", "replace"))
        return proc.stdout.decode("utf-8", "replace")

    def _revive_socket(self) -> bool:
        """Bring back a server whose socket file was deleted.

        The server keeps running, unreachable; SIGUSR1 makes tmux create its
        socket again. The server is found by the socket path on its command
        line (tmux names its server process 'tmux: server').
        """
        if self.socket_path.exists():
            return False
        wanted = os.fsencode(str(self.socket_path))
        try:
            entries = [e for e in os.listdir("/proc") if e.isdigit()]
        except OSError:
            return False
        for entry in entries:
            try:
                with open(f"/proc/{entry}/comm", "rb") as f:
                    if not f.read().startswith(b"tmux"):
                        continue
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if wanted not in argv or os.stat(f"/proc/{entry}").st_uid != os.getuid():
                continue
            self.signal_process(int(entry), signal.SIGUSR1)
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                if self.socket_path.exists():
                    return True
                time.sleep(0.01)
        return False

    def signal_group(self, pgid: int, sig: int) -> None:
        """Send ``sig`` to a process group on the host that runs tmux."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    def signal_process(self, pid: int, sig: int) -> None:
        """Send ``sig`` to one process on the host that runs tmux."""
        if pid > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

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
        try:
            entries = os.listdir("/proc")
        except OSError:
            return True
        for entry in entries:
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parens.
            fields = stat[stat.rfind(b")") + 2 :].split()
            if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
                return True
        return False
