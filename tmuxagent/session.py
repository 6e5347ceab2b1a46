"""One program running in a tmux pane, and everything an agent does with it."""

from __future__ import annotations

import itertools
import os
import time

from ._names import session_target, validate_name
from ._runner import CommandFailed, Runner, ServerNotRunning, format_escape
from ._state import Mark, ReadCursor, SessionFiles
from ._struct import Struct
from .errors import (
    NoSuchSession,
    ProgramExited,
    SessionBusy,
    SessionError,
    TmuxError,
    UsageError,
    WaitTimeout,
)
from .keys import validate_keys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from pathlib import Path
    from typing import Any, TextIO

    from ._output import OutputWatch
    from .server import Server

#: tmuxagent's history-limit: no pane keeps more scrollback than this.
HISTORY_LINES = 50_000

#: What ``read`` returns at most before it cuts out the middle.
DEFAULT_READ_CHARS = 500_000

#: A live program that has written nothing for this long is called idle.
IDLE_AFTER = 5.0

_FIELDS = (
    "session_name",
    "pane_id",
    "pane_pid",
    "pane_dead",
    "pane_dead_status",
    "pane_dead_signal",
    "pane_width",
    "pane_height",
    "cursor_x",
    "cursor_y",
    "alternate_on",
    "session_created",
    "session_attached",
    "pane_pipe",
    "pane_current_path",
    "@tmuxagent_dir",
    "pid",
)
PANE_FORMAT = "\x1f".join(f"#{{{f}}}" for f in _FIELDS)
_buffers = itertools.count(1)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


class Pane(Struct):
    """Facts about a session's pane, parsed from one line of PANE_FORMAT."""

    __slots__ = (
        "tmux_name", "id", "pid", "dead", "exit_status", "signal", "cols", "rows", "x", "y",
        "alternate", "created", "attached", "piped", "cwd", "state_dir", "server_pid",
    )  # fmt: skip

    def __init__(self, line: str) -> None:
        f = line.split("\x1f")
        self.tmux_name: str = f[0]
        self.id: str = f[1]
        self.pid: int = _int(f[2]) or 0
        self.dead: bool = f[3] == "1"
        self.exit_status: int | None = _int(f[4]) if self.dead else None
        self.signal: int | None = _int(f[5]) if self.dead else None
        self.cols: int = _int(f[6]) or 80
        self.rows: int = _int(f[7]) or 24
        self.x: int = _int(f[8]) or 0
        self.y: int = _int(f[9]) or 0
        self.alternate: bool = f[10] == "1"
        self.created: int = _int(f[11]) or 0
        self.attached: int = _int(f[12]) or 0
        self.piped: bool = f[13] == "1"
        self.cwd: str = f[14]
        self.state_dir: str = f[15]
        self.server_pid: int = _int(f[16]) or 0

    @property
    def status_pending(self) -> bool:
        """Dead, but tmux has not recorded how the program ended (yet)."""
        return self.dead and self.exit_status is None and self.signal is None


class SessionInfo(Struct):
    """What ``status`` and ``list`` report about a session."""

    __slots__ = (
        "name", "command", "pid", "alive", "exit_status", "signal", "cols", "rows", "idle",
        "created", "cwd", "attached", "shell", "recording", "log", "last_output", "output_bytes",
    )  # fmt: skip

    def __init__(
        self,
        *,
        name: str,
        command: str,
        pid: int,
        alive: bool,
        exit_status: int | None,
        signal: int | None,
        cols: int,
        rows: int,
        idle: float,
        created: float,
        cwd: str,
        attached: bool,
        shell: bool,
        recording: bool,
        log: str,
        last_output: float,
        output_bytes: int,
    ) -> None:
        self.name = name
        self.command = command
        self.pid = pid
        self.alive = alive
        self.exit_status = exit_status
        self.signal = signal
        self.cols = cols
        self.rows = rows
        self.idle = idle
        self.created = created
        self.cwd = cwd
        self.attached = attached
        self.shell = shell
        self.recording = recording
        self.log = log
        self.last_output = last_output  # when the program last wrote (epoch seconds)
        self.output_bytes = output_bytes  # how much it has written so far

    def describe(self, now: float | None = None) -> str:
        """The session's status in a few words, as ``list`` and the dashboard show it:
        ``running``, ``idle 12s``, ``exited 3``, ``killed (SIGKILL)``."""
        if not self.alive:
            if self.signal:
                return f"killed ({signal_name(self.signal)})"
            return f"exited {self.exit_status}"
        quiet = (time.time() if now is None else now) - self.last_output
        return f"idle {_duration(quiet)}" if quiet >= IDLE_AFTER else "running"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: size as 'COLSxROWS', created as ISO 8601."""
        data = self._asdict()
        data["size"] = f"{self.cols}x{self.rows}"
        data["idle"] = round(self.idle, 1)
        data["created"] = _iso(self.created)
        data["last_output"] = _iso(self.last_output)
        return data


class RunResult(Struct):
    """What a command run in the agent shell printed, and how it ended."""

    __slots__ = ("output", "exit_code", "cwd")

    def __init__(self, output: str, exit_code: int, cwd: str) -> None:
        self.output = output
        self.exit_code = exit_code
        self.cwd = cwd


class Capture(Struct):
    """The screen (optionally with scrollback) and where the cursor is."""

    __slots__ = ("text", "cursor_x", "cursor_y", "cols", "rows", "alive")

    def __init__(
        self, text: str, cursor_x: int, cursor_y: int, cols: int, rows: int, alive: bool
    ) -> None:
        self.text = text
        self.cursor_x = cursor_x
        self.cursor_y = cursor_y
        self.cols = cols
        self.rows = rows
        self.alive = alive

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n") if self.text else []

    def __str__(self) -> str:
        return self.text


def _duration(seconds: float) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``: short, for tables."""
    whole = max(0, int(seconds))
    for unit, size, below in (("s", 1, 120), ("m", 60, 7200), ("h", 3600, 172800)):
        if whole < below:
            return f"{whole // size}{unit}"
    return f"{whole // 86400}d"


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(when))


def signal_name(number: int | None) -> str | None:
    """``9`` to ``'SIGKILL'``."""
    if not number:
        return None
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _wait_quiet(files: SessionFiles, quiet: float, deadline: float) -> None:
    size = files.log_size()
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.005)
        now_size = files.log_size()
        if now_size != size:
            size, since = now_size, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def _sleep_until(deadline: float, interval: float) -> None:
    time.sleep(max(0.0, min(interval, deadline - time.monotonic())))


class Session:
    """A tmuxagent session on a :class:`~tmuxagent.Server`, by name.

    Every method asks tmux for the current state first, so a Session object
    stays valid across restarts of its program and reports a missing session
    with :class:`~tmuxagent.NoSuchSession`.
    """

    #: Seconds to let a program take in typed text before Enter is pressed.
    enter_settle = 0.02
    #: How often Enter is pressed again when the program shows no reaction.
    enter_retries = 2

    def __init__(self, server: Server, name: str) -> None:
        self.server = server
        self.name = validate_name(name)
        self._target = session_target(name)

    def __repr__(self) -> str:
        return f"Session({self.name!r}, socket={str(self.server.socket_path)!r})"

    # -- lookups ---------------------------------------------------------------

    def _pane(self) -> Pane:
        runner = self.server._runner
        try:
            out = runner.run(
                [
                    "list-panes", "-s", "-t", self._target,
                    "-f", "#{@tmuxagent_pane}", "-F", PANE_FORMAT,
                ]
            )  # fmt: skip
        except ServerNotRunning:
            raise NoSuchSession(self.name, server_running=False) from None
        except CommandFailed as exc:
            if "can't find" in exc.stderr:
                raise NoSuchSession(self.name) from None
            raise
        line = out.split("\n", 1)[0]
        if not line:
            raise SessionError(
                f"session {self.name!r} was not started by tmuxagent; "
                "use 'tmuxagent start' to create sessions it can drive"
            )
        pane = Pane(line)
        if not os.path.isdir(pane.state_dir):
            raise SessionError(
                f"the files of session {self.name!r} are gone ({pane.state_dir or 'no path'}); "
                f"'tmuxagent kill {shell_quote(self.name)}' and start it again"
            )
        if pane.status_pending:
            pane = settle_status(self.server._runner, pane)
        if not pane.piped and not pane.dead:
            self._attach_pipe(pane.id, self._files(pane))
        return pane

    def _run_on_pane(
        self, *commands: list[str], input: bytes = b"", timeout: float | None = None
    ) -> str:
        """Run tmux commands aimed at the pane; a pane that just vanished is NoSuchSession."""
        try:
            return self.server._runner.run(*commands, input=input, timeout=timeout)
        except CommandFailed as exc:
            if "can't find" in exc.stderr:
                raise NoSuchSession(self.name) from None
            raise

    def _live(self) -> Pane:
        pane = self._pane()
        if pane.dead:
            raise ProgramExited(self.name, pane.exit_status, signal_name(pane.signal))
        return pane

    @staticmethod
    def _files(pane: Pane) -> SessionFiles:
        return SessionFiles(pane.state_dir)

    def _attach_pipe(self, pane_id: str, files: SessionFiles) -> None:
        self.server._runner.run(["pipe-pane", "-t", pane_id, pipe_command(files)])

    @property
    def files(self) -> SessionFiles:
        """The session's state files (log, marks, metadata)."""
        return self._files(self._pane())

    @property
    def log_path(self) -> Path:
        """The lossless log of everything the program wrote."""
        from pathlib import Path

        return Path(self.files.log)

    # -- input -----------------------------------------------------------------

    def _mark(self, files: SessionFiles, pane: Pane, text: str) -> int:
        offset = files.log_size()
        files.write_mark(Mark(offset, text, pane.x, pane.y, time.time()))
        return offset

    def _type(self, pane: Pane, text: str, *, bracketed: bool) -> None:
        """Write ``text`` to the pane as typed (or pasted) input, exactly.

        The text goes to tmux on stdin (``load-buffer -``), never through tmux's
        command parser, so a trailing ``;``, a word like ``Enter`` and any
        length arrive as they are. ``paste-buffer -p`` brackets the text only
        if the program asked for bracketed paste; without ``bracketed``, ``-r``
        keeps line feeds as line feeds, as ``send-keys -l`` would.
        """
        data = text.encode("utf-8", "surrogateescape")
        if not data:
            return
        name = f"tmuxagent-{os.getpid()}-{next(_buffers)}"
        paste = ["paste-buffer", "-d", "-b", name, "-t", pane.id]
        paste.append("-p" if bracketed else "-r")
        self._run_on_pane(
            ["load-buffer", "-b", name, "-"],
            paste,
            input=data,
            timeout=self.server._runner.timeout + len(data) / 100_000,
        )

    def _wait_growth(self, files: SessionFiles, size: int, limit: float) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if files.log_size() > size:
                return True
            time.sleep(0.003)
        return files.log_size() > size

    def _settle(self, files: SessionFiles, before: int, limit: float) -> bool:
        """Wait until the echo of typed text has arrived and gone quiet.

        Returns False when the program showed nothing at all (no echo).
        """
        deadline = time.monotonic() + limit
        size = before
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            now_size = files.log_size()
            now = time.monotonic()
            if now_size != size:
                size, quiet_since = now_size, now
            elif size > before and now - quiet_since >= self.enter_settle:
                return True
            time.sleep(0.003)
        return size > before

    def _enter(
        self, pane: Pane, files: SessionFiles, before: int, typed: int, retry: bool = True
    ) -> None:
        """Press Enter after typed text, so that the program really submits it.

        Full-screen programs (Ink-based agent CLIs among them) ignore an Enter
        that arrives in the same burst as the text. So: wait for the echo to
        settle, press Enter, and press it again (at most ``enter_retries``
        times) if the program showed the text but shows no reaction at all to
        Enter. A program that does not display its input (a password prompt,
        a raw reader) gets exactly one Enter.
        """
        echoed = typed > 0 and self._settle(files, before, 0.25 + typed / 50_000)
        retries = self.enter_retries if echoed and retry else 0
        for attempt in range(retries + 1):
            size = files.log_size()
            self._run_on_pane(["send-keys", "-t", pane.id, "Enter"])
            if attempt == retries or self._wait_growth(files, size, 0.6):
                return

    def send(self, text: str, *, enter: bool = False, retry_enter: bool = True) -> None:
        """Type ``text`` exactly, then press Enter if ``enter``.

        If the program showed the text but no reaction to Enter, Enter is
        pressed again (see :meth:`_enter`); ``retry_enter=False`` presses once.
        """
        self._input(text, enter, retry_enter, bracketed=False)

    def paste(self, text: str, *, enter: bool = False, retry_enter: bool = True) -> None:
        """Paste ``text`` (any size) as one bracketed paste; Enter if ``enter``."""
        self._input(text, enter, retry_enter, bracketed=True)

    def _input(self, text: str, enter: bool, retry_enter: bool, *, bracketed: bool) -> None:
        if not isinstance(text, str):
            raise UsageError(f"text to send must be a str, not {type(text).__name__}")
        pane = self._live()
        files = self._files(pane)
        before = self._mark(files, pane, text + ("\n" if enter else ""))
        self._type(pane, text, bracketed=bracketed)
        if enter:
            self._enter(pane, files, before, len(text), retry_enter)

    def keys(self, *keys: str) -> None:
        """Press named keys (``Enter``, ``C-c``, ``Up``, ``F5``...) in order."""
        names = validate_keys(keys)
        pane = self._live()
        self._mark(self._files(pane), pane, "")
        self._run_on_pane(["send-keys", "-t", pane.id, *names])

    # -- output ----------------------------------------------------------------

    def _capture_text(self, pane_id: str, args: list[str]) -> str:
        return self.server._runner.run(["capture-pane", "-p", "-J", "-t", pane_id, *args])

    def capture(
        self, *, lines: int | None = None, history: bool = False, ansi: bool = False
    ) -> Capture:
        """The screen now; with ``lines`` the last N lines including scrollback,
        with ``history`` all of the scrollback. Works on an exited program too."""
        if lines is not None and lines < 1:
            raise UsageError("--lines must be at least 1")
        if lines is not None and lines > HISTORY_LINES:
            lines, history = None, True  # more than tmux keeps: all of it
        pane = self._pane()
        args = ["-e"] if ansi else []
        if history:
            args += ["-S", "-"]
        elif lines is not None:
            args += ["-S", f"-{lines}"]
        elif pane.dead:
            args += ["-S", "-1"]  # see tidy_rows
        rows = tidy_rows(self._capture_text(pane.id, args), pane.dead)
        if lines is not None:
            rows = rows[-lines:]
        return Capture("\n".join(rows), pane.x, pane.y, pane.cols, pane.rows, not pane.dead)

    def _screen_tail(self, count: int = 15) -> str:
        try:
            return "\n".join(self.capture().lines[-count:])
        except SessionError:
            return ""

    def read(self, *, max_chars: int = DEFAULT_READ_CHARS) -> str:
        """All output since the previous ``read`` (or since start), as text.

        Lossless: output that scrolled far off the screen is included. Above
        ``max_chars`` the middle is left out, with a note naming the full log.
        """
        if max_chars < 100:
            raise UsageError(f"the read limit must be at least 100 characters, not {max_chars}")
        from ._output import render_range

        pane = self._pane()
        files = self._files(pane)
        if pane.dead:
            self._complete_log(files)
        with files.read_cursor() as lock:
            cursor = lock.cursor
            end = files.log_size()
            if end <= cursor.offset:
                return ""
            rendered = render_range(
                files, cursor.offset, end,
                cols=pane.cols, rows=pane.rows, x=cursor.x, y=cursor.y,
                mid_line=cursor.mid_line, max_chars=max_chars,
            )  # fmt: skip
            text = rendered.text
            mid_line = not text.endswith("\n") if text else cursor.mid_line
            offset = cursor.offset + rendered.consumed
            lock.save(ReadCursor(offset, rendered.x, rendered.y, mid_line))
            return text

    def transcript(self, *, max_chars: int = DEFAULT_READ_CHARS) -> str:
        """All output since the start, as text; ``read``'s cursor stays put."""
        from ._output import render_range

        pane = self._pane()
        files = self._files(pane)
        if pane.dead:
            self._complete_log(files)
        end = files.log_size()
        return render_range(files, 0, end, cols=pane.cols, rows=pane.rows, max_chars=max_chars).text

    # -- waiting ---------------------------------------------------------------

    def _complete_log(self, files: SessionFiles, limit: float = 3.0) -> None:
        """After the program ended: wait until all it wrote is in the log.

        tmux passes output to the log's writer (``cat``, through pipe-pane)
        asynchronously, so the last bytes may be on their way when the pane is
        already reported dead. Two tmux round trips make sure tmux has handed
        over what it had; then the writer must be idle, waiting for more.
        """
        runner = self.server._runner
        for _ in range(2):
            try:
                runner.run(["display", "-p", ""])
            except TmuxError:
                break
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            idle = runner.writers_idle(files.log)
            if idle is None:  # cannot tell here: wait for a quiet spell instead
                _wait_quiet(files, 0.25, deadline)
                return
            if idle:
                return
            time.sleep(0.003)

    def _check_alive(self, files: SessionFiles, watch: OutputWatch) -> Pane:
        """The pane now; if the program has ended, all it wrote is taken in."""
        pane = self._pane()
        if pane.dead:
            self._complete_log(files)
            watch.poll()
        return pane

    def wait_text(self, pattern: str | re.Pattern[str], *, timeout: float = 30.0) -> re.Match[str]:
        """Wait until output after the last input matches ``pattern``.

        ``pattern`` is a Python regex (multiline: ``^`` and ``$`` match at line
        boundaries). Only output that appeared after the last input sent by
        tmuxagent counts, and never the echo of that input. Returns the match.
        Raises WaitTimeout, or ProgramExited if the program ends first.
        """
        from ._output import OutputWatch

        _check_timeout(timeout)
        regex = compile_pattern(pattern)
        pane = self._pane()
        files = self._files(pane)
        deadline = time.monotonic() + timeout
        check_every = 0.1
        next_check = time.monotonic() + check_every
        if pane.dead:
            self._complete_log(files)
        with OutputWatch(files, files.mark(), pane.cols, pane.rows) as watch:
            watch.poll()
            while True:
                match = watch.search(regex)
                if match is not None:
                    return match
                if pane.dead:
                    raise ProgramExited(self.name, pane.exit_status, signal_name(pane.signal))
                now = time.monotonic()
                if now >= deadline:
                    raise WaitTimeout(
                        f"text matching /{regex.pattern}/", timeout, self._screen_tail()
                    )
                while not watch.poll():
                    now = time.monotonic()
                    if now >= next_check:
                        pane = self._check_alive(files, watch)
                        check_every = min(check_every * 1.5, 1.0)
                        next_check = now + check_every
                        if pane.dead:
                            break
                    if now >= deadline:
                        break
                    _sleep_until(deadline, 0.004)

    def wait_idle(self, seconds: float, *, timeout: float | None = None) -> None:
        """Wait until the screen has not changed for ``seconds``."""
        if not 0 < seconds < 1e9:  # also refuses nan and inf
            raise UsageError(f"the idle period must be a positive number of seconds, not {seconds}")
        limit = seconds + 30.0 if timeout is None else _check_timeout(timeout)
        if limit < seconds:
            raise UsageError(f"timeout ({limit:g}s) is shorter than the idle period ({seconds:g}s)")
        pane = self._live()
        files = self._files(pane)
        start = time.monotonic()
        deadline = start + limit
        size = files.log_size()
        digest = self._digest(pane.id)
        changed = start
        next_check = start + 0.25
        while True:
            now = time.monotonic()
            if now - changed >= seconds:
                return
            if now >= deadline:
                raise WaitTimeout(
                    f"the screen to stay unchanged for {seconds:g}s", limit, self._screen_tail()
                )
            new_size = files.log_size()
            if new_size != size or now >= next_check:
                size = new_size
                if now >= next_check:
                    self._live()
                    next_check = now + 0.25
                new_digest = self._digest(pane.id)
                if new_digest != digest:
                    digest, changed = new_digest, time.monotonic()
            _sleep_until(min(deadline, changed + seconds), 0.02)

    def _digest(self, pane_id: str) -> bytes:
        import hashlib

        text = self._capture_text(pane_id, [])
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    def wait_exit(self, *, timeout: float = 30.0) -> int:
        """Wait until the program ends; returns its exit status (-N: signal N)."""
        deadline = time.monotonic() + _check_timeout(timeout)
        interval = 0.01
        while True:
            pane = self._pane()
            now = time.monotonic()
            if pane.dead:
                self._complete_log(self._files(pane))  # when this returns, all output is in
                if pane.signal:
                    return -pane.signal
                return pane.exit_status if pane.exit_status is not None else -1
            if now >= deadline:
                raise WaitTimeout("the program to exit", timeout, self._screen_tail())
            _sleep_until(deadline, interval)
            interval = min(interval * 1.5, 0.25)

    # -- the agent shell -------------------------------------------------------

    def _shell_files(self, pane: Pane, verb: str) -> SessionFiles:
        files = self._files(pane)
        if not files.meta().get("shell"):
            raise UsageError(
                f"session {self.name!r} does not run the tmuxagent shell, so '{verb}' "
                "cannot tell when a command ends; use send + wait, or start a "
                "session without COMMAND"
            )
        return files

    def run(self, command: str, *, timeout: float = 30.0) -> RunResult:
        """Run ``command`` in the agent shell; return its output and exit code.

        The session must have been started without a command (the agent shell).
        On timeout the command keeps running: :meth:`wait_prompt` waits for it,
        ``keys('C-c')`` interrupts it.
        """
        from ._output import last_prompt_offset

        _check_timeout(timeout)
        if not command.strip():
            raise UsageError("run needs a command")
        pane = self._live()
        files = self._shell_files(pane, "run")
        if last_prompt_offset(files, files.mark().offset) is None:
            raise SessionBusy(self.name)
        text = command.strip("\n")
        before = self._mark(files, pane, text + "\n")
        mark = files.mark()
        # As a paste, so that readline takes it literally: a tab in the command
        # would otherwise complete file names, and lines would run one by one.
        self._type(pane, text, bracketed=True)
        self._enter(pane, files, before, len(text))
        return self._await_prompt(files, mark, pane, timeout, f"{command!r} to finish")

    def wait_prompt(self, *, timeout: float = 30.0) -> RunResult:
        """Wait until the agent shell's prompt is back after the last input.

        That is: the command typed last (with ``send``, or a ``run`` that
        timed out) has finished. Returns its output, exit code and directory.
        """
        _check_timeout(timeout)
        pane = self._pane()
        files = self._shell_files(pane, "wait --prompt")
        return self._await_prompt(files, files.mark(), pane, timeout, "the shell prompt")

    def _await_prompt(
        self, files: SessionFiles, mark: Mark, pane: Pane, timeout: float, what: str
    ) -> RunResult:
        from ._output import OutputWatch

        deadline = time.monotonic() + timeout
        with OutputWatch(files, mark, pane.cols, pane.rows) as watch:
            next_check = time.monotonic() + 0.2
            while True:
                watch.poll()
                if watch.prompts:
                    prompt = watch.prompts[0]
                    return RunResult(prompt.output, prompt.exit_code, prompt.cwd)
                now = time.monotonic()
                if now >= next_check or pane.dead:
                    pane = self._check_alive(files, watch)
                    if pane.dead and not watch.prompts:
                        raise ProgramExited(self.name, pane.exit_status, signal_name(pane.signal))
                    next_check = now + 0.2
                if now >= deadline:
                    name = shell_quote(self.name)
                    raise WaitTimeout(
                        f"{what} (it keeps running: 'tmuxagent wait {name} --prompt' "
                        f"waits for it, 'tmuxagent keys {name} C-c' interrupts it)",
                        timeout,
                        self._screen_tail(),
                    )
                _sleep_until(deadline, 0.004)

    # -- status and end --------------------------------------------------------

    def start_recording(self) -> None:
        """Keep the time of every output from now on (see :meth:`write_cast`).

        A recording that starts mid-session begins with the screen as it is.
        """
        from . import _record

        pane = self._live()
        files = self._files(pane)
        if _record.is_recording(files):
            return
        screen = self._capture_text(pane.id, ["-e"]).rstrip("\n").split("\n")
        replay = "\x1b[H\x1b[2J" + "\r\n".join(screen) + f"\x1b[{pane.y + 1};{pane.x + 1}H"
        command = _record.begin(
            files,
            started=time.time(),
            offset=files.log_size(),
            cols=pane.cols,
            rows=pane.rows,
            screen=replay,
        )
        self.server._runner.run(command)

    def stop_recording(self) -> None:
        from . import _record

        _record.stop(self._files(self._pane()))

    def write_cast(self, out: TextIO) -> int:
        """Write the recording as asciicast v2 (``asciinema play`` plays it).

        Returns the number of events. Raises SessionError if the session was
        never recorded.
        """
        from . import _record

        files = self._files(self._pane())
        if _record.recording_info(files) is None:
            name = shell_quote(self.name)
            raise SessionError(
                f"session {self.name!r} is not recorded; 'tmuxagent record {name}' "
                "starts recording it (or start sessions with --record)"
            )
        return _record.write_cast(files, self.name, out)

    def signal(self, signum: int) -> None:
        """Send signal ``signum`` to the program (not to what it started)."""
        pane = self._live()
        self.server._runner.signal_process(pane.pid, signum)

    def resize(self, cols: int, rows: int) -> None:
        """Change the window's size; programs get SIGWINCH as in a terminal."""
        from .server import parse_size

        cols, rows = parse_size((cols, rows))
        self._pane()
        self.server._runner.run(
            ["resize-window", "-t", self._target, "-x", str(cols), "-y", str(rows)]
        )

    def status(self) -> SessionInfo:
        return self.server._info(self._pane())

    def kill(self) -> None:
        """End the program, and whatever it started, and forget the session.

        Processes that detached completely (double-forked daemons, whose
        parent is no longer in the pane) are out of reach, as in a terminal.
        """
        pane = self._pane()
        runner = self.server._runner
        files = self._files(pane)
        started = [] if pane.dead else runner.descendants(pane.pid)
        started += runner.processes_with_env("TMUXAGENT_SESSION_ID", files.session_id)
        try:
            runner.run(["kill-session", "-t", self._target])
        except (CommandFailed, ServerNotRunning):
            pass  # it ended on its own meanwhile
        reap(runner, [] if pane.dead else [pane.pid], sorted(set(started)))
        files.remove()

    def attach_command(self, *, read_only: bool = False) -> list[str]:
        """The command a human runs to watch (and take over) this session."""
        self._pane()
        cmd = [*self.server._runner.base_command(), "attach", "-t", self._target]
        return [*cmd, "-r"] if read_only else cmd


def tidy_rows(text: str, dead: bool) -> list[str]:
    """Captured rows without trailing blanks; for a dead pane, tmux's note last.

    To print "Pane is dead", tmux scrolls the screen up one line (so capture
    a dead pane with one line of history) and writes at the bottom row: the
    blank rows between the program's last output and the note go.
    """
    rows = [row.rstrip() for row in text.split("\n")]
    while rows and not rows[-1]:
        rows.pop()
    if dead and rows and rows[-1].startswith("Pane is dead"):
        note = rows.pop()
        while rows and not rows[-1]:
            rows.pop()
        rows.append(note)
    return rows


def settle_status(runner: Runner, pane: Pane) -> Pane:
    """Get the exit status of a pane that has just died.

    tmux 3.3a marks the pane dead when the terminal closes and records the
    status when it reaps the child; it sometimes misses the SIGCHLD and
    leaves the program a zombie with no status at all. A SIGCHLD of our
    own makes it look again.
    """
    import signal

    deadline = time.monotonic() + 2.0
    while pane.status_pending and time.monotonic() < deadline:
        time.sleep(0.02)
        runner.signal_process(pane.server_pid, signal.SIGCHLD)
        out = runner.run(["display", "-p", "-t", pane.id, PANE_FORMAT])
        pane = Pane(out.split("\n", 1)[0])
    return pane


def _check_timeout(timeout: float) -> float:
    if not 0 <= timeout < 1e9:  # also refuses NaN and infinity
        raise UsageError(f"the timeout must be 0 or more seconds, not {timeout:g}")
    return timeout


def shell_quote(word: str) -> str:
    """``word`` as it must be typed in a shell (for commands shown in messages)."""
    import shlex

    return shlex.quote(word)


def compile_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    import re

    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise UsageError(f"invalid regex {pattern!r}: {exc}") from None


def pipe_command(files: SessionFiles) -> str:
    """The ``pipe-pane`` command that appends the pane's output to its log."""
    import shlex

    # pipe-pane expands formats (#) and then strftime (%) in its command.
    return format_escape(f"exec cat >> {shlex.quote(files.log)}").replace("%", "%%")


def reap(runner: Runner, panes: list[int], started: list[int], grace: float = 1.0) -> None:
    """Make sure killed panes leave nothing running.

    ``panes`` are the panes' process ids (each leads its process group),
    ``started`` what they had started, found before the kill (some programs
    leave the group with ``setsid``). tmux hangs up the pane's terminal, which
    ends almost every program; whatever survives gets SIGTERM, then SIGKILL.
    """
    import signal

    def alive(target: tuple[bool, int]) -> bool:
        group, pid = target
        return runner.group_alive(pid) if group else runner.process_alive(pid)

    def survivors(candidates: list[tuple[bool, int]], limit: float) -> list[tuple[bool, int]]:
        deadline = time.monotonic() + limit
        while True:
            candidates = [target for target in candidates if alive(target)]
            if not candidates or time.monotonic() >= deadline:
                return candidates
            time.sleep(0.02)

    pending = survivors(
        [(True, pid) for pid in panes] + [(False, pid) for pid in started], grace / 2
    )
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not pending:
            return
        for group, pid in pending:
            if group:
                runner.signal_group(pid, sig)
            else:
                runner.signal_process(pid, sig)
        pending = survivors(pending, grace / 2)
