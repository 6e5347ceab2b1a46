"""``tmuxagent.spawn``: the pexpect API, with a tmux pane as the transport.

pexpect's matching lives in ``SpawnBase`` (``expect``, ``expect_exact``,
``before``/``after``/``match``, ``TIMEOUT``/``EOF``, ``readline``...); a
transport only reads and writes. Here the program is an ordinary tmuxagent
session: it reads from the session's log (every byte, from the first) and
writes through tmuxagent's exact input. So a script can ``expect()`` its way
through a program while a human watches the same pane, attaches, or sees it
on the dashboard::

    child = tmuxagent.spawn("python3 -q", encoding="utf-8")
    child.expect(">>> ")
    child.sendline("6 * 7")
    child.expect("42")
    child.close()
"""

from __future__ import annotations

import itertools
import math
import os
import shlex
import signal
import time
from typing import Any

from pexpect.exceptions import EOF, TIMEOUT, ExceptionPexpect
from pexpect.spawnbase import SpawnBase

from ._launch import strip_sentinels
from ._poll import Every, poll_until
from .errors import NoSuchSession, TmuxAgentError
from .server import Server
from .session import Session

_names = itertools.count(1)

_CONTROL = {"@": 0, "`": 0, "[": 27, "{": 27, "\\": 28, "|": 28, "]": 29, "}": 29,
            "^": 30, "~": 30, "_": 31, "?": 127}  # fmt: skip


class spawn(SpawnBase):
    """Start ``command`` in a new tmuxagent session and drive it like pexpect.

    ``command`` and ``args`` work as in ``pexpect.spawn`` (a string is split
    like a shell would, without running one). ``dimensions`` is (rows, cols).
    ``name`` names the session (default ``spawn-PROGRAM-N``); ``server`` picks
    the tmux server (default: tmuxagent's own). ``close()`` ends the program
    and removes the session, unless ``keep_session`` is true.
    """

    def __init__(
        self,
        command: str,
        args: list[str] | None = None,
        timeout: float | None = 30,
        maxread: int = 2000,
        searchwindowsize: int | None = None,
        logfile: Any = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        encoding: str | None = None,
        codec_errors: str = "strict",
        dimensions: tuple[int, int] | None = None,
        *,
        name: str | None = None,
        server: Server | None = None,
        keep_session: bool = False,
    ) -> None:
        super().__init__(
            timeout=timeout,
            maxread=maxread,
            searchwindowsize=searchwindowsize,
            logfile=logfile,
            encoding=encoding,
            codec_errors=codec_errors,
        )
        argv = [command, *args] if args else shlex.split(command)
        if not argv:
            raise ExceptionPexpect("The command was not found or was not executable: ''.")
        self.command = argv[0]
        self.args = argv
        self.name = name or f"spawn-{os.path.basename(argv[0])}-{os.getpid()}-{next(_names)}"
        self.server = server or Server()
        rows, cols = dimensions or (24, 80)
        run_env = None
        if env is not None:  # pexpect replaces the environment; so do we
            run_env = dict(env)
        self.session: Session = self.server.start(
            self.name, argv, cwd=cwd, env=run_env, size=(cols, rows), replace_env=env is not None
        )
        self.keep_session = keep_session
        info = self.session.status()
        self.pid = info.pid
        self._files = self.session.files
        self._stream = self._files.open_log(0)
        self._held = b""  # what may be the start of the launcher's sentinel
        self.closed = False
        self._settled = False
        self.terminated = False
        self.exitstatus: int | None = None
        self.signalstatus: int | None = None
        self.status: int | None = None
        self.delaybeforesend: float | None = 0.05
        self.delayafterterminate = 0.1

    def __str__(self) -> str:
        return "\n".join(
            [
                repr(self),
                f"command: {self.command}",
                f"args: {self.args!r}",
                f"session: {self.name!r} on {self.server.socket_path}",
                f"buffer (last 100 chars): {self.buffer[-100:]!r}",
                f"before (last 100 chars): {self.before[-100:] if self.before else ''!r}",
                f"after: {self.after!r}",
                f"match: {self.match!r}",
                f"exitstatus: {self.exitstatus}",
                f"signalstatus: {self.signalstatus}",
            ]
        )

    # -- reading: the transport behind expect() ---------------------------------

    def read_nonblocking(self, size: int = 1, timeout: float | None = -1) -> Any:
        """Up to ``size`` new bytes of output, waiting at most ``timeout``.

        Raises TIMEOUT when nothing came, EOF when the program has ended and
        everything it wrote has been read.
        """
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if timeout == -1:
            timeout = self.timeout
        alive = Every(0.05, due_now=True)

        def ready() -> bytes | None:
            data = self._read(size)
            if data or not alive.due() or self.isalive():
                return data or None
            if not self._settled:  # the last output may be on its way: wait for it
                self._settled = True
                try:
                    self.session.wait_exit(timeout=5)
                except TmuxAgentError:
                    pass
                data = self._read(size)
                if data:
                    return data
            if self._held:  # the program's, after all
                data, self._held = self._held, b""
                return data
            self.flag_eof = True
            raise EOF("End Of File (EOF). The program has exited.")

        data = poll_until(ready, math.inf if timeout is None else timeout, interval=0.002)
        if data is None:
            raise TIMEOUT("Timeout exceeded.")
        text = self._decoder.decode(data, final=False)
        self._log(text, "read")
        return text

    def _read(self, size: int) -> bytes:
        """Up to ``size`` bytes of output, without the launcher's end sentinel."""
        data, self._held = strip_sentinels(self._held + self._files.read_on(self._stream, size))
        return data

    # -- writing ----------------------------------------------------------------

    def send(self, s: str | bytes) -> int:
        """Type ``s`` into the program exactly; returns the number of bytes."""
        if self.delaybeforesend is not None:
            time.sleep(self.delaybeforesend)
        s = self._coerce_send_string(s)
        self._log(s, "send")
        data = self._encoder.encode(s, final=False)
        if isinstance(data, str):  # pragma: no cover - the null coder passes bytes
            data = data.encode()
        self._write(data)
        return len(data)

    def _write(self, data: bytes) -> None:
        try:
            self.session.send(data.decode("utf-8", "surrogateescape"))
        except TmuxAgentError as exc:
            raise ExceptionPexpect(str(exc)) from exc

    def sendline(self, s: str | bytes = "") -> int:
        s = self._coerce_send_string(s)
        return self.send(s + self.linesep)

    def sendcontrol(self, char: str) -> int:
        """Send a control character: ``sendcontrol('c')`` is Ctrl-C."""
        char = char.lower()
        code = ord(char) - ord("a") + 1 if "a" <= char <= "z" else _CONTROL.get(char)
        if code is None:
            return 0
        byte = bytes([code])
        self._log(self._decoder.decode(byte) if self.encoding else byte, "send")
        self._write(byte)
        return 1

    def sendeof(self) -> None:
        """Ctrl-D: end of input for a program that reads whole lines."""
        self.sendcontrol("d")

    def sendintr(self) -> None:
        """Ctrl-C: the terminal sends SIGINT to the program."""
        self.sendcontrol("c")

    def write(self, s: str | bytes) -> None:
        self.send(s)

    def writelines(self, sequence: list[Any]) -> None:
        for s in sequence:
            self.write(s)

    # -- the program's life -------------------------------------------------------

    def isalive(self) -> bool:
        """True while the program runs; afterwards exitstatus/signalstatus are set."""
        if self.terminated:
            return False
        try:
            info = self.session.status()
        except NoSuchSession:
            self._ended(None, signal.SIGHUP)
            return False
        if info.alive:
            return True
        self._ended(info.exit_status, info.signal)
        return False

    def _ended(self, exit_status: int | None, signal_number: int | None) -> None:
        self.terminated = True
        self.exitstatus = None if signal_number else exit_status
        self.signalstatus = signal_number or None
        self.status = (signal_number or 0) | ((exit_status or 0) << 8)

    def wait(self) -> int | None:
        """Wait for the program to end; returns its exit status."""
        poll_until(lambda: not self.isalive(), math.inf, interval=0.01, backoff=1.5, most=0.2)
        return self.exitstatus

    def kill(self, sig: int) -> None:
        """Send signal ``sig`` to the program."""
        if self.isalive():
            self.session.signal(sig)

    def terminate(self, force: bool = False) -> bool:
        """SIGHUP, SIGCONT, SIGINT in turn (SIGKILL with ``force``) until it ends."""
        if not self.isalive():
            return True
        for sig in (signal.SIGHUP, signal.SIGCONT, signal.SIGINT):
            self.kill(sig)
            time.sleep(self.delayafterterminate)
            if not self.isalive():
                return True
        if force:
            self.kill(signal.SIGKILL)
            time.sleep(self.delayafterterminate)
            return not self.isalive()
        return False

    def close(self, force: bool = True) -> None:
        """End the program and its session (see ``keep_session``)."""
        if self.closed:
            return
        if not self.keep_session:
            alive = self.isalive()
            try:
                self.session.kill()
            except NoSuchSession:
                pass
            if alive:
                self._ended(None, signal.SIGHUP)
        self._stream.close()
        self.closed = True

    # -- terminal size ---------------------------------------------------------------

    def getwinsize(self) -> tuple[int, int]:
        info = self.session.status()
        return info.rows, info.cols

    def setwinsize(self, rows: int, cols: int) -> None:
        self.session.resize(cols, rows)

    def isatty(self) -> bool:
        return True
