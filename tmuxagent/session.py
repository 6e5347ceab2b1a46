"""One program running in a tmux pane, and everything an agent does with it.

:class:`Session` is the face; the work is done by one module per concern:
``_input`` (typing, Enter), ``_screen`` (captures), ``_output`` (the log as
text, minus echo), ``_waits`` (waits followed to their deadline), ``_shell``
(the agent shell's prompts), all of it through the session's host
(``_host``), where tmux, the files and the processes are.
"""

from __future__ import annotations

import time

from . import _screen
from ._names import validate_name
from ._pane import SessionPane, vanishing
from ._poll import DEFAULT_TIMEOUT
from ._records import session_info
from .errors import NoSuchSession, SessionError, UsageError, shell_quote, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from pathlib import Path
    from typing import TextIO

    from ._files import Mark, SessionFiles
    from ._host import Host
    from ._input import Sent
    from ._pane import Pane
    from ._read import ReadStream
    from ._records import Capture, RunResult, SessionInfo
    from ._states import State
    from .server import Server

#: What ``read`` returns at most before it cuts out the middle.
DEFAULT_READ_CHARS = 500_000


class Session:
    """A tmuxagent session on a :class:`~tmuxagent.Server`, by name.

    Every method asks tmux for the current state first, so a Session object
    stays valid across restarts of its program and reports a missing session
    with :class:`~tmuxagent.NoSuchSession`.
    """

    def __init__(self, server: Server, name: str) -> None:
        self.server = server
        self.name = validate_name(name)
        self._host: Host = server.host
        #: Finds the pane and files afresh for every call.
        self._at = SessionPane(self._host, self.name)
        #: What :meth:`Server.start` saw when asked to wait (``.output``), else None.
        self.started: Sent | None = None

    def __repr__(self) -> str:
        return f"Session({self.name!r}, socket={str(self.server.socket_path)!r})"

    @property
    def files(self) -> SessionFiles:
        """The session's state files (log, marks, metadata)."""
        return self._at.lookup()[1]

    @property
    def log_path(self) -> Path:
        """The lossless log of everything the program wrote."""
        from pathlib import Path

        return Path(self.files.log)

    # -- input -----------------------------------------------------------------

    def send(
        self, text: str, *, enter: bool = False, retry_enter: bool = True,
        wait: str | re.Pattern[str] | None = None, wait_idle: float | None = None,
        wait_prompt: bool = False, timeout: float = DEFAULT_TIMEOUT,
    ) -> Sent:  # fmt: skip
        """Type ``text`` exactly, then press Enter if ``enter``; then, if asked,
        wait: one step in one call.

        Enter goes in once the program has taken in the text. It is pressed
        a second time (never more) only when the program can be seen to have
        dropped it: it read the Enter together with text it had not read yet
        (what Ink-based CLIs take for a paste), then showed the text and
        nothing else (see ``_input.press_enter``); ``retry_enter=False``
        never presses it again. Returns what was done: ``.enter``, and
        ``.retried`` when Enter was pressed twice.

        With ``wait`` (a regex, as :meth:`wait_text` takes it), ``wait_idle``
        (seconds of a still screen) or ``wait_prompt`` (the agent shell's
        prompt back, as :meth:`wait_prompt`), within ``timeout`` seconds:
        ``.output`` is what the program printed after the input, without its
        echo (up to the line where ``.match`` ends, for ``wait``; with
        ``.exit_code`` for ``wait_prompt``). A bad regex or timeout types
        nothing.
        """
        return self._step(text, False, enter, retry_enter, wait, wait_idle, wait_prompt, timeout)

    def paste(
        self, text: str, *, enter: bool = False, retry_enter: bool = True,
        wait: str | re.Pattern[str] | None = None, wait_idle: float | None = None,
        wait_prompt: bool = False, timeout: float = DEFAULT_TIMEOUT,
    ) -> Sent:  # fmt: skip
        """Paste ``text`` (any size) as one bracketed paste; Enter if ``enter``
        (as :meth:`send` presses it, and says so); a wait as :meth:`send`'s."""
        return self._step(text, True, enter, retry_enter, wait, wait_idle, wait_prompt, timeout)

    def _step(
        self, text: str, bracketed: bool, enter: bool, retry: bool,
        wait: str | re.Pattern[str] | None, idle: float | None, prompt: bool, timeout: float,
        keys: list[str] | None = None,
    ) -> Sent:  # fmt: skip
        """Type ``text`` or press ``keys``, then wait if asked (see :meth:`send`)."""
        after = None
        if wait is not None or idle is not None or prompt:
            from ._waits import StepWait

            after = StepWait(wait, idle, timeout, self if prompt else None)
        found = self._at.live()  # and the wait goes on from the same look
        if keys:
            mark, sent = self._press(keys, found)
        else:
            mark, sent = self._type_input(
                text, bracketed=bracketed, enter=enter, retry=retry, live=found
            )
        return sent if after is None else after.finish(self, mark, sent, found)

    def _type_input(
        self, text: str, *, bracketed: bool, enter: bool, retry: bool = True,
        live: tuple[Pane, SessionFiles] | None = None, at_prompt: bool = False,
    ) -> tuple[Mark, Sent]:  # fmt: skip
        """Note the input (waits start after it), type it, press Enter if
        asked; the mark noted, and what was done with Enter. ``at_prompt``:
        the agent shell is known to wait at its prompt (``run``): readline
        takes a bracketed paste and the Enter after it in one read, so both
        go in one tmux call."""
        from . import _input

        if not isinstance(text, str):
            raise UsageError(f"text to send must be a str, not {type(text).__name__}")
        if bracketed:  # what arrives, and so what its echo will be
            # A CRLF pair is one line break (tmux would press Enter for each half).
            text = _input.neutralise_paste(text.replace("\r\n", "\n"))
        pane, files = live or self._at.live()
        # A terminal in line mode with echo off (a password, 'stty -echo')
        # shows nothing of what is typed: no line of the output is its echo.
        # (Only a line ended by Enter reaches the program; and the next input
        # replaces this mark.)
        shown = text
        if enter:
            shown = text + "\n" if self._host.echoes(pane.pid) else ""
        mark = files.note_input(shown, pane.x, pane.y)
        # readline takes a bracketed paste whatever the pane's mode says (output
        # can turn that off): the agent shell always gets its brackets.
        always = bracketed and bool(self._at.meta(files).get("shell"))
        sent = _input.Sent()
        with vanishing(self.name):
            # Line mode, or readline after a paste: Enter in the same call.
            at_once = enter and ((at_prompt and always) or _input.line_mode(self._host, pane.tty))
            _input.type_text(
                self._host, pane, text, bracketed=bracketed, always=always, enter=at_once
            )
            if at_once:
                sent = _input.Sent(enter=True)
            elif enter:
                sent = _input.press_enter(
                    self._host, files, pane, pane.tty, mark.offset, text, retry=retry
                )
        return mark, sent

    def keys(
        self, *keys: str, wait: str | re.Pattern[str] | None = None,
        wait_idle: float | None = None, wait_prompt: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Sent:  # fmt: skip
        """Press named keys (``Enter``, ``C-c``, ``Up``, ``F5``...) in order;
        then, if asked, wait as :meth:`send` does."""
        from .keys import validate_keys

        names = validate_keys(keys)
        return self._step("", False, False, False, wait, wait_idle, wait_prompt, timeout, names)

    def _press(self, names: list[str], found: tuple[Pane, SessionFiles]) -> tuple[Mark, Sent]:
        from ._input import Sent

        pane, files = found
        mark = files.note_input("", pane.x, pane.y)
        self._at.tmux(["send-keys", "-t", pane.id, *names])
        return mark, Sent()

    # -- output ----------------------------------------------------------------

    def capture(
        self, *, lines: int | None = None, history: bool = False, ansi: bool = False
    ) -> Capture:
        """The screen now; with ``lines`` the last N lines including scrollback,
        with ``history`` all of the scrollback. Works on an exited program too."""
        if lines is not None and lines < 1:
            raise UsageError("--lines must be at least 1")
        return _screen.capture(self._host, self._at.pane(), lines=lines, history=history, ansi=ansi)

    def read(self, *, max_chars: int = DEFAULT_READ_CHARS) -> str:
        """All output since the previous ``read`` (or since start), as text.

        Lossless: output that scrolled far off the screen is included. Above
        ``max_chars`` the middle is left out, with a note naming the full log.
        """
        with self.read_stream(max_chars=max_chars) as stream:
            text = "".join(stream)
            stream.delivered(len(stream))
        return text

    def read_stream(self, *, max_chars: int = DEFAULT_READ_CHARS) -> ReadStream:
        """:meth:`read` for callers that pass the output on and may fail to:
        ``with session.read_stream() as stream:`` iterate over its pieces
        (str), then ``stream.delivered(n)``: the next read starts after the
        first ``n`` pieces (nothing is skipped that did not reach its reader).
        """
        if max_chars < 100:
            raise UsageError(f"the read limit must be at least 100 characters, not {max_chars}")
        from ._read import ReadStream

        pane, files = self._at.complete()
        return ReadStream(files, pane, max_chars)

    def transcript(self, *, max_chars: int = DEFAULT_READ_CHARS) -> str:
        """All output since the start, as text; ``read``'s cursor stays put."""
        from ._read import transcript

        pane, files = self._at.complete()
        return transcript(files, pane, max_chars)

    # -- waiting ---------------------------------------------------------------

    def wait_text(
        self, pattern: str | re.Pattern[str], *, timeout: float = DEFAULT_TIMEOUT
    ) -> re.Match[str]:
        """Wait until new output matches ``pattern``; returns the match.

        ``pattern`` is a Python regex (multiline: ``^`` and ``$`` match at line
        boundaries). Only output after the last input sent by tmuxagent
        counts, never the echo of that input, and only what comes after the
        previous wait's match (since that input): successive waits walk
        forward through the output, as pexpect's ``expect`` does. A match
        that ends on a line the program may still be writing counts once that
        line is finished, or the output has stopped for a moment (SETTLE).
        Raises WaitTimeout, ProgramExited if the program ends first, or
        UsageError for a pattern that is not a regex, or that keeps searching
        past the timeout (it backtracks catastrophically).
        """
        from . import _waits

        return _waits.wait_text(self, pattern, timeout=timeout)

    def wait_idle(self, seconds: float, *, timeout: float | None = None) -> None:
        """Wait until the screen has not changed for ``seconds``."""
        from . import _waits

        return _waits.wait_idle(self, seconds, timeout=timeout)

    def wait_exit(self, *, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Wait until the program ends; returns its exit status (-N: signal N).

        When it returns, everything the program wrote is in the log.
        """
        from . import _waits

        return _waits.wait_exit(self, timeout=timeout)

    def state(self) -> State:
        """What the program is doing: ``working``, ``ready`` (for input),
        ``asking`` (a question), ``idle`` or ``exited``, with the detail,
        and which profile's rule said so (see :mod:`tmuxagent._profiles`)."""
        from ._states import states

        found = states(self._host, [self.status()]).get(self.name)
        if found is None:
            raise NoSuchSession(self.name)
        return found

    def wait_state(self, *states: str, timeout: float = DEFAULT_TIMEOUT) -> State:
        """Wait until :meth:`state` is one of ``states``; returns it.

        Raises WaitTimeout, or ProgramExited if the program ends and
        ``exited`` is not one of ``states``.
        """
        from ._states import parse_states, wait_state

        return wait_state(self, parse_states(",".join(states)), timeout)

    # -- the agent shell -------------------------------------------------------

    def run(self, command: str, *, timeout: float = DEFAULT_TIMEOUT) -> RunResult:
        """Run ``command`` in the agent shell; return its output and exit code.

        The session must have been started without a command (the agent shell).
        On timeout the command keeps running: :meth:`wait_prompt` waits for it,
        ``keys('C-c')`` interrupts it.
        """
        from . import _waits

        return _waits.run(self, command, timeout=timeout)

    def wait_prompt(self, *, timeout: float = DEFAULT_TIMEOUT) -> RunResult:
        """Wait until the agent shell's prompt is back after the last input.

        That is: the command typed last (with ``send``, or a ``run`` that
        timed out) has finished. Returns its output, exit code and directory:
        all of it, whatever a text wait matched meanwhile, and the same again
        if asked again. A text wait after it starts at that prompt.
        """
        from . import _waits

        return _waits.wait_prompt(self, timeout=timeout)

    # -- status and end --------------------------------------------------------

    def start_recording(self) -> None:
        """Keep the time of every output from now on (see :meth:`write_cast`).

        A recording that starts mid-session begins with the screen as it is.
        """
        pane, files = self._at.live()
        if self._host.is_recording(files):
            return
        self._host.start_recording(
            files, started=time.time(), offset=files.log_size(),
            cols=pane.cols, rows=pane.rows, screen=_screen.replay(self._host, pane),
        )  # fmt: skip

    def stop_recording(self) -> None:
        """End the recording: SessionError when none is under way."""
        files = self.files
        if not self._host.stop_recording(files):
            how = "it was stopped already" if self._host.recording(files) else "none was started"
            raise SessionError(
                f"session {self.name!r} is not being recorded ({how}); "
                f"'tmuxagent record {shell_quote(self.name)}' starts a recording"
            )

    @property
    def recorded(self) -> bool:
        """Whether a recording was started (:meth:`start_recording`, ``--record``)."""
        return self._host.recording(self.files) is not None

    def write_cast(self, out: TextIO) -> int:
        """Write the output as asciicast v2 (``asciinema play`` plays it), with
        the pauses it had; returns the number of events.

        With a recording (:meth:`start_recording`), from its start to its
        stop; else all that the log holds, at the window's size now (a size
        change during the session is not kept).
        """
        pane, files = self._at.complete()
        return self._host.write_cast(files, self.name, out, pane.cols, pane.rows)

    def save_cast(self, path: str) -> int:
        """:meth:`write_cast` into a new file at ``path``, readable by its
        owner only (it holds all the program printed); UsageError if it
        cannot be written."""
        from ._files import PrivateOutput

        try:
            with PrivateOutput(path) as out:
                return self.write_cast(out)
        except OSError as exc:
            raise UsageError(f"cannot write {shown(path)}: {exc.strerror}") from None

    def signal(self, signum: int) -> None:
        """Send signal ``signum`` to the program (not to what it started)."""
        pane, _ = self._at.live()
        self._host.signal(pane.pid, signum)

    def resize(self, cols: int, rows: int) -> None:
        """Change the window's size; programs get SIGWINCH as in a terminal."""
        cols, rows = _screen.parse_size((cols, rows))
        self._at.pane()
        self._at.tmux(["resize-window", "-t", self._at.target, "-x", str(cols), "-y", str(rows)])

    def status(self) -> SessionInfo:
        pane, files = self._at.lookup()
        return session_info(self._host, pane, files, self._at.meta(files))

    def kill(self) -> None:
        """End the program, and whatever it started, and forget the session.

        Processes that detached completely (double-forked daemons, whose
        parent is no longer in the pane) are out of reach, as in a terminal.
        """
        pane = self._at.find()  # the files may be gone: kill it all the same
        files = self._host.files(pane.state_dir)
        self._host.end_session(files, self._at.target, None if pane.dead else pane.pid)

    def attach_command(self, *, read_only: bool = False) -> list[str]:
        """The command a human runs to watch (and take over) this session."""
        self._at.pane()
        cmd = [*self._host.attach_argv(), "attach", "-t", self._at.target]
        return [*cmd, "-r"] if read_only else cmd
