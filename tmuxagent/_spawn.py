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

import atexit
import itertools
import math
import os
import shlex
import shutil
import signal
import time
import weakref
from typing import Any

from pexpect.exceptions import EOF, TIMEOUT, ExceptionPexpect
from pexpect.spawnbase import SpawnBase

from ._control import Guard, Keyboard
from ._feed import Feed, Output, readable
from ._pane import Pane, vanishing
from ._poll import poll_until
from .errors import NoSuchSession, TmuxAgentError
from .server import Server
from .session import Session

_names = itertools.count(1)
#: The spawns not closed yet: closed at exit, before Python tears down the
#: modules that ending a session needs (a spawn an exception still holds).
_open: weakref.WeakSet[spawn] = weakref.WeakSet()


@atexit.register
def _close_open() -> None:
    for child in list(_open):
        try:
            child.close()
        except Exception:  # the others still get closed
            pass


_CONTROL = {"@": 0, "`": 0, "[": 27, "{": 27, "\\": 28, "|": 28, "]": 29, "}": 29,
            "^": 30, "~": 30, "_": 31, "?": 127}  # fmt: skip


class spawn(SpawnBase):
    """Start ``command`` in a new tmuxagent session and drive it like pexpect.

    The arguments are ``pexpect.spawn``'s, in its order: ``command`` and
    ``args`` (a string is split like a shell would, without running one;
    ``args`` must be a list), ``env`` replaces the environment, ``echo=False``
    starts with the terminal's echo off, ``ignore_sighup`` has the program
    ignore SIGHUP, ``dimensions`` is (rows, cols), ``use_poll`` picks poll()
    over select(). ``preexec_fn`` cannot be had: the program starts in a
    tmux pane, not in a fork of this process. ``spawn(None)`` makes an
    object that runs nothing (for subclasses that call :meth:`_spawn`).

    Keyword-only: ``name`` names the session (default ``spawn-PROGRAM-N``),
    ``server`` picks the tmux server (default: tmuxagent's own). ``close()``
    (or the object's end, when nothing refers to it any more) ends the
    program and removes the session, unless ``keep_session`` is true.
    ``child_fd`` (``fileno()``) reads the program's output, as a pty would:
    for ``select``, asyncio (``expect(..., async_=True)``) and ``os.read``.
    """

    def __init__(
        self,
        command: str | None,
        args: list[str] | None = [],  # noqa: B006 - pexpect's default, never changed
        timeout: float | None = 30,
        maxread: int = 2000,
        searchwindowsize: int | None = None,
        logfile: Any = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        ignore_sighup: bool = False,
        echo: bool = True,
        preexec_fn: Any = None,
        encoding: str | None = None,
        codec_errors: str = "strict",
        dimensions: tuple[int, int] | None = None,
        use_poll: bool = False,
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
        self.cwd = cwd
        self.env = env
        self.echo = echo
        self.ignore_sighup = ignore_sighup
        self.use_poll = use_poll
        self.session_name = name
        self.server = server
        self.keep_session = keep_session
        self.session: Session | None = None
        self.pid: int | None = None
        self._output: Output | None = None  # what the program wrote, read by expect()
        self._feed: Feed | None = None  # the same as a descriptor, once child_fd is asked for
        self._pane: Pane | None = None  # found on the first send
        self._keyboard: Keyboard | None = None
        self._guard: Guard | None = None  # ends the session if this process is killed
        self.delayafterterminate = 0.1
        if command is None:
            self.command: str | None = None
            self.args: list[str] | None = None
            self.name = "<pexpect factory incomplete>"
        else:
            self._spawn(command, args, preexec_fn, dimensions)

    def _spawn(
        self, command: str, args: list[str] | None = [],  # noqa: B006 - as pexpect's
        preexec_fn: Any = None, dimensions: tuple[int, int] | None = None,
    ) -> None:  # fmt: skip
        """Start the program (``__init__`` does, unless ``command`` is None)."""
        if isinstance(command, int):
            raise ExceptionPexpect(
                "Command is an int type. If this is a file descriptor then maybe you want "
                "to use fdpexpect.fdspawn which takes an existing file descriptor instead "
                "of a command string."
            )
        if not isinstance(args, list):
            raise TypeError("The argument, args, must be a list.")
        if preexec_fn is not None:
            raise ExceptionPexpect(
                "tmuxagent.spawn cannot run preexec_fn: the program starts in a tmux pane, "
                "not in a fork of this process"
            )
        if isinstance(command, bytes):
            command = command.decode("utf-8", "surrogateescape")
        argv = [command, *args] if args else shlex.split(command)
        found = shutil.which(argv[0], path=(self.env or os.environ).get("PATH")) if argv else None
        if found is None:
            raise ExceptionPexpect(
                f"The command was not found or was not executable: {argv[0] if argv else ''}."
            )
        argv[0] = self.command = found
        self.args = argv
        self.name = "<" + " ".join(argv) + ">"
        session_name = self.session_name or (
            f"spawn-{os.path.basename(found)}-{os.getpid()}-{next(_names)}"
        )
        self.session_name = session_name
        self.server = self.server or Server()
        rows, cols = dimensions or (24, 80)
        run = argv
        if self.ignore_sighup:  # sh sets SIGHUP ignored; the program keeps that through exec
            run = ["/bin/sh", "-c", 'trap "" HUP; exec "$@"', "sh", *argv]
        if self.session is not None:
            raise ExceptionPexpect("this spawn runs a program already")
        try:
            self.session = self.server.start(
                session_name, run, cwd=self.cwd, env=self.env, size=(cols, rows),
                replace_env=self.env is not None,
            )  # fmt: skip
        except TmuxAgentError as exc:
            raise ExceptionPexpect(str(exc)) from exc
        self._owner = os.getpid()
        self.terminated = False
        self.closed = False  # from here on, close() ends what was made
        _open.add(self)
        try:
            pane = self._pane = self.session._at.pane()
            self.pid = pane.pid
            self._keyboard = Keyboard(self.session, pane.id)
            if not self.keep_session:  # ends with this process, as a pty's child gets its hangup
                self._guard = self.session._host.guard(pane.session_id, pane.server_pid)
            if not self.echo:  # as pexpect: best effort (the program may be gone already)
                self.session._host.set_echo(pane.tty, False)
            self._output = Output(self.session)
            self._feed = Feed(self._output, session_name)
        except BaseException as exc:
            self.close()
            if isinstance(exc, TmuxAgentError):
                raise ExceptionPexpect(str(exc)) from exc
            raise

    def __del__(self) -> None:
        # As pexpect's child goes when its spawn does (the pty closes): the
        # session and its program end, unless kept.
        try:
            self.close()
        except Exception:  # nothing to tell, at collection time
            pass

    def __str__(self) -> str:
        return "\n".join(
            [
                repr(self),
                f"command: {self.command}",
                f"args: {self.args!r}",
                f"session: {self.session_name!r} on {self.server and self.server.socket_path}",
                f"buffer (last 100 chars): {self.buffer[-100:]!r}",
                f"before (last 100 chars): {self.before[-100:] if self.before else ''!r}",
                f"after: {self.after!r}",
                f"match: {self.match!r}",
                f"exitstatus: {self.exitstatus}",
                f"signalstatus: {self.signalstatus}",
            ]
        )

    def _live(self) -> Session:
        if self.session is None:
            raise ExceptionPexpect("this spawn runs nothing (it was made with command None)")
        return self.session

    # -- reading: the transport behind expect() ---------------------------------

    @property
    def child_fd(self) -> int:
        """The descriptor that reads the program's output: a pipe a thread
        feeds from when it is first asked for (until then expect() reads the
        output itself, with no thread to hand it over); -1 once closed."""
        if self._feed is None:
            return -1
        self._feed.start()
        return self._feed.fd

    @child_fd.setter
    def child_fd(self, fd: int) -> None:
        pass  # pexpect's SpawnBase sets -1, for a spawn that has not started

    def fileno(self) -> int:
        """The descriptor that reads the program's output (``child_fd``)."""
        return self.child_fd

    def read_nonblocking(self, size: int = 1, timeout: float | None = -1) -> Any:
        """Up to ``size`` bytes of output, waiting at most ``timeout`` for any.

        Raises TIMEOUT when nothing came, EOF when the program has ended and
        everything it wrote has been read.
        """
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if timeout == -1:
            timeout = self.timeout
        if self._feed is not None and not self._feed.started and self._output is not None:
            data = self._output.read(size, timeout)
        elif not readable(self.child_fd, timeout, self.use_poll):
            data = None
        else:
            try:
                data = os.read(self.child_fd, size)
            except OSError:
                data = b""
        if data is None:
            raise TIMEOUT("Timeout exceeded.")
        if not data:
            self.flag_eof = True
            self.isalive()  # the exit status, as pexpect sets it at EOF
            raise EOF("End Of File (EOF). The program has exited.")
        text = self._decoder.decode(data, final=False)
        self._log(text, "read")
        return text

    def eof(self) -> bool:
        """Whether EOF was seen: the program ended and all it wrote was read."""
        return bool(self.flag_eof)

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
        """Type ``data``: over the spawn's standing connection to tmux
        (:class:`~._control.Keyboard`), else in one tmux call. The pane is the same for
        the session's whole life, and expect() reads the output itself (no
        wait of the session's starts at this input)."""
        from ._input import type_text

        session = self._live()
        try:
            # Pane ids are a server's: one that was restarted numbers anew.
            if self._pane is None or not session._host.process_alive(self._pane.server_pid):
                self._pane = session._at.pane()
            if self._keyboard is not None and self._keyboard.type(self._pane.id, data):
                return
            with vanishing(session.name):
                type_text(session._host, self._pane, data.decode("utf-8", "surrogateescape"),
                          bracketed=False)  # fmt: skip
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
        self._log(byte.decode(self.encoding, "replace") if self.encoding else byte, "send")
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
        if self.terminated or self.session is None:
            return False
        try:
            info = self.session.status()
        except NoSuchSession:
            self._ended(None, signal.SIGHUP)
            return False
        except TmuxAgentError as exc:  # tmux does not answer: pexpect's kind of error
            raise ExceptionPexpect(f"isalive() could not tell: {exc}") from exc
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
            self._live().signal(sig)

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
        """End the program and its session (see ``keep_session``), and stop
        reading: ``child_fd`` is closed."""
        if self.closed:
            return
        self.closed = True
        mine = getattr(self, "_owner", None) == os.getpid()  # not a forked child's to end
        ended = False
        try:
            if self.session is not None and not self.keep_session and mine:
                alive = self.isalive()
                try:
                    self.session.kill()
                except NoSuchSession:
                    pass
                ended = True
                if alive:
                    self._ended(None, signal.SIGHUP)
        finally:  # a tmux that does not answer keeps no descriptor of ours open
            # ...and if it did not end the session, the guard will, once it answers.
            self._let_go(end_later=not ended)

    def _let_go(self, *, end_later: bool = False) -> None:
        waiting = getattr(self, "async_pw_transport", None)  # expect(..., async_=True)'s
        if waiting is not None:
            self.async_pw_transport = None
            try:
                waiting[1].close()
            except RuntimeError:  # its event loop has ended
                pass
        if self._keyboard is not None:
            self._keyboard.close()
        if self._guard is not None:
            self._guard.close(run=end_later)
        if self._feed is not None:
            self._feed.close()
            self._feed = None
        if self._output is not None:
            self._output.close()
            self._output = None

    # -- the terminal ----------------------------------------------------------------

    def getwinsize(self) -> tuple[int, int]:
        info = self._live().status()
        return info.rows, info.cols

    def setwinsize(self, rows: int, cols: int) -> None:
        self._live().resize(cols, rows)

    def isatty(self) -> bool:
        return self.session is not None

    def getecho(self) -> bool:
        """Whether the program's terminal echoes what is typed (``stty echo``)."""
        on = self._live()._host.echo_on(self._terminal())
        if on is None:
            raise ExceptionPexpect("the program's terminal cannot be reached from here")
        return on

    def setecho(self, state: bool) -> None:
        """Turn the terminal's echo on or off, as ``stty echo``/``-echo``
        would: a program that sets its own terminal modes may undo it."""
        if not self._live()._host.set_echo(self._terminal(), bool(state)):
            raise ExceptionPexpect("the program's terminal cannot be reached from here")

    def _terminal(self) -> str:
        if self._pane is None:
            self._pane = self._live()._at.pane()
        return self._pane.tty

    def waitnoecho(self, timeout: float | None = -1) -> bool:
        """Wait until the terminal's echo is off (a password prompt); False
        at ``timeout`` (default: the spawn's)."""
        if timeout == -1:
            timeout = self.timeout
        off = poll_until(lambda: not self.getecho(), math.inf if timeout is None else timeout,
                         interval=0.05)  # fmt: skip
        return bool(off)

    def interact(self, escape_character: Any = None, input_filter: Any = None,
                 output_filter: Any = None) -> None:  # fmt: skip
        """Hand this terminal to the user: attach to the session, until they
        detach (the tmux prefix, then ``d``). Unlike pexpect there is no
        escape character and no filters: tmux carries the keys."""
        if input_filter is not None or output_filter is not None:
            raise ExceptionPexpect("tmuxagent's interact takes no filters: tmux carries the keys")
        import subprocess

        subprocess.run(self._live().attach_command(), check=False)
