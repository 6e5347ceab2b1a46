"""Input: text typed exactly, pastes that cannot end themselves, and an Enter
that the program really gets.

Before any input, the session notes where the log stands, where the cursor is
and what is about to be typed (``SessionFiles.note_input``): waits start there
and leave out the echo.

Enter is pressed once the program has taken in the text, and pressed again
at most once, only when the program can be seen to have dropped it
(:func:`press_enter`).
"""

from __future__ import annotations

import itertools
import os
import time

from ._poll import LOG_INTERVAL, Deadline, poll_until
from ._records import Struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

    from ._files import SessionFiles
    from ._host import Host
    from ._pane import Pane
    from ._tty import TerminalInput

#: Seconds of quiet output (the echo done) before Enter is pressed after text.
ENTER_SETTLE = 0.02
#: Seconds to wait for the echo of the text (then Enter goes in anyway; plus
#: a second per 50,000 characters).
ENTER_ECHO_LIMIT = 0.25
#: Seconds to wait for the program to read the text (then Enter goes in anyway).
ENTER_READ_LIMIT = 1.0
#: Seconds to wait, after Enter went in behind text still unread, for the
#: program to read them (else it gets no second Enter).
ENTER_BUSY_LIMIT = 3.0
#: Seconds without any output that count as no reaction to Enter.
ENTER_REACTION = 0.6

_buffers = itertools.count(1)

#: A paste's start and end inside pasted text, after ESC [ or an 8-bit CSI (a
#: character, or a raw byte kept by surrogateescape): removed, as kitty does.
_PASTE_MARKS = tuple(csi + n for csi in ("\x1b[", "\x9b", "\udc9b") for n in ("200~", "201~"))
#: Then each replaced by a space, as xterm does (its default list has these
#: and more): ESC and CSI, so that no sequence is left or joined up by the
#: removal; C-c, C-\, C-z (signals) and C-s, C-q (flow control), which the tty
#: acts on even inside a paste (measured: after C-c, C-\ or C-z bash took the
#: rest as typed keys). Other controls are mere text inside a paste: kept.
_PASTE_UNSAFE = "\x1b\x9b\udc9b\x03\x1c\x1a\x13\x11"


def neutralise_paste(text: str) -> str:
    """``text`` without what could end or escape a bracketed paste.

    Linear (``str.replace``, no loop over characters, no fixed point to
    reach); ``text`` itself when there is nothing to change, the usual case.
    """
    unsafe = [char for char in _PASTE_UNSAFE if char in text]
    if not unsafe:
        return text
    for mark in _PASTE_MARKS:
        if mark[0] in unsafe:
            text = text.replace(mark, "")
    for char in unsafe:
        text = text.replace(char, " ")
    return text


def type_text(
    host: Host, pane: Pane, text: str, *, bracketed: bool, always: bool = False, enter: bool = False
) -> None:
    """Write ``text`` to the pane as typed (or pasted) input, exactly.

    The text goes to tmux on stdin (``load-buffer -``), never through tmux's
    command parser, so a trailing ``;``, a word like ``Enter`` and any
    length arrive as they are. ``paste-buffer -p`` brackets the text only
    if the program asked for bracketed paste; without ``bracketed``, ``-r``
    keeps line feeds as line feeds, as ``send-keys -l`` would. A
    ``bracketed`` paste is neutralised first (:func:`neutralise_paste`), so
    that it cannot end itself and be taken as typed keys.

    ``always`` brackets it whatever the pane's mode says: for a program
    known to read bracketed pastes at any time (readline), since output can
    turn the mode off (``ESC[?2004l``) and make a paste typed lines.

    ``enter`` presses Enter in the same tmux call, right after the text: for
    a terminal in line mode, where the kernel collects the line (see
    :func:`line_mode`).
    """
    ask = [["send-keys", "-t", pane.id, "Enter"]] if enter else []
    if bracketed:
        text = neutralise_paste(text)
    data = text.encode("utf-8", "surrogateescape")
    if not data:
        if ask:
            host.tmux(*ask)
        return
    name = f"tmuxagent-{os.getpid()}-{next(_buffers)}"
    paste = ["paste-buffer", "-d", "-b", name, "-t", pane.id, "-p" if bracketed else "-r"]
    if bracketed and always:  # without -p, so that tmux does not bracket it again
        data = b"\x1b[200~" + data + b"\x1b[201~"
        paste.pop()
    host.tmux(
        ["load-buffer", "-b", name, "-"],
        paste,
        *ask,
        input=data,
        timeout=host.tmux_timeout + len(data) / 100_000,
    )


def line_mode(host: Host, tty: str) -> bool:
    """Whether the pane's terminal ``tty`` is in line mode (canonical: the
    kernel collects each line; no readline, no TUI). Then Enter can follow
    the text at once: the program gets the whole line when it reads, and
    there is nothing to wait for (False when the terminal cannot be seen)."""
    term = host.terminal(tty)
    if term is None:
        return False
    try:
        return not term.raw()
    finally:
        term.close()


class held_interrupt:
    """``with held_interrupt():`` a Ctrl-C (SIGINT) that comes inside is raised
    once the block is done, not in its middle: for a step that must not be
    left half done (a command typed, its Enter not pressed yet). Outside the
    main thread, where Python delivers no signal, it holds nothing."""

    def __enter__(self) -> None:
        import signal

        self._got = False
        try:
            self._old = signal.signal(signal.SIGINT, self._note)
        except ValueError:  # not the main thread
            self._old = None

    def _note(self, signum: int, frame: object) -> None:
        self._got = True

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        import signal

        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        if self._got and exc is None:
            raise KeyboardInterrupt


class Sent(Struct):
    """What ``send``, ``paste`` and ``keys`` did, and saw when asked to wait.

    ``enter``: Enter was pressed. ``retried``: it was pressed a second time,
    because the program had dropped the first (see :func:`press_enter`).
    With a wait: ``output``, what the program printed after the input
    (without its echo), up to the end of the ``match`` for a text wait;
    ``exit_code`` for the agent shell's prompt. None without.
    """

    __slots__ = ("enter", "retried", "output", "match", "exit_code")

    def __init__(self, enter: bool = False, retried: bool = False) -> None:
        self.enter = enter
        self.retried = retried
        self.output: str | None = None
        self.match: re.Match[str] | None = None
        self.exit_code: int | None = None


def press_enter(
    host: Host,
    files: SessionFiles,
    pane: Pane,
    tty: str,
    before: int,
    text: str,
    *,
    retry: bool = True,
) -> Sent:
    """Press Enter after ``text`` was typed, so that the program submits it.

    Full-screen programs (Ink-based agent CLIs among them) take an Enter
    that arrives in the same read as text for part of a paste, not for
    "submit". So where the pane's terminal (``tty``) can be watched and the
    program reads keys (raw mode), Enter goes in once the program has taken
    the text (:func:`_wait_taken`: read it all, echoed, and waits again or
    went quiet): then it reads the Enter on its own. Elsewhere, once the
    echo of the text (the log growing past ``before``) has been quiet for
    ENTER_SETTLE.

    With ``retry``, Enter is pressed once more, and only when all of these
    hold: the program had still not read the text after ENTER_READ_LIMIT
    seconds, so Enter went in behind it; the program then read the text
    and the Enter together; after the echo it showed nothing at all for
    ENTER_REACTION seconds but the text, on the row above an empty cursor
    row (the Enter became a line break in its input); and the program is
    back waiting for input (not running, nor asleep on anything else). A
    program that had read the text before Enter got a lone Enter: if it
    shows nothing for a while it is busy with it, and gets no second one.
    An Enter that the program has not read yet is never repeated (it will
    read it), nor one typed into a program that reads lines (the kernel ends
    the line), nor one into a terminal that cannot be watched (another
    host): there a dropped Enter is the caller's to see and press.
    """
    read_limit = Deadline(ENTER_READ_LIMIT + len(text) / 50_000)
    echo_limit = Deadline(ENTER_ECHO_LIMIT + len(text) / 50_000)
    term = host.terminal(tty)
    try:
        pending = 0
        if term is not None and term.raw():
            if text:
                _wait_taken(host, files, pane, term, before, text, echo_limit)
            term.wait_read(read_limit)
            pending = term.unread()
        elif text:
            files.wait_quiet(ENTER_SETTLE, echo_limit, after=before)
        size = files.log_size()
        host.tmux(["send-keys", "-t", pane.id, "Enter"])
        if term is None or not retry or not pending or not term.wait_read(ENTER_BUSY_LIMIT):
            return Sent(enter=True)
        if not _dropped(host, files, pane, size, text):
            return Sent(enter=True)
        host.tmux(["send-keys", "-t", pane.id, "Enter"])
        return Sent(enter=True, retried=True)
    finally:
        if term is not None:
            term.close()


def _wait_taken(
    host: Host,
    files: SessionFiles,
    pane: Pane,
    term: TerminalInput,
    before: int,
    text: str,
    deadline: Deadline,
) -> None:
    """Wait until a program reading keys has taken in ``text``, typed after
    the log stood at ``before``: it has read all of it and either shows the
    end of the text and waits for input again (readline and most REPLs: well
    within a millisecond), or its output has been quiet for ENTER_SETTLE
    since it began to echo (a program that cannot be seen waiting, or does
    not echo the text as typed). Then an Enter comes in a read of its own.
    At the deadline, Enter goes in anyway (a program that echoes nothing).

    The echo must be as long as the text at least, with the text's last
    characters among its last 4 KB: a relay (ssh, ``docker exec``) reads
    everything at once and waits again at once, while the program behind it
    is still reading; unrelated output can make the log grow before the
    text has even reached the program."""
    seen = [files.log_size(), time.monotonic()]
    end = text[-3:]
    tail = end.encode("utf-8", "surrogateescape") if end.isprintable() else b""
    whole = before + len(text.encode("utf-8", "surrogateescape"))  # an echo this long at least
    echoed = False

    def taken() -> bool:
        nonlocal echoed
        size, now = files.log_size(), time.monotonic()
        if size != seen[0]:
            seen[:] = [size, now]
        if size <= before or term.unread():
            return False
        if now - seen[1] >= ENTER_SETTLE:
            return True
        if tail and not echoed and size >= whole:
            echoed = tail in files.read_log(max(before, size - 4096), size)
        return echoed and host.input_wait(pane.pid) is not None

    poll_until(taken, deadline, interval=0.0005, backoff=2.0, most=LOG_INTERVAL)


def _dropped(host: Host, files: SessionFiles, pane: Pane, size: int, text: str) -> bool:
    """After a program read typed text and Enter in one go (the log was at
    ``size`` then): whether it shows the text and nothing else, and waits."""
    files.wait_quiet(ENTER_SETTLE, Deadline(ENTER_ECHO_LIMIT + len(text) / 50_000), after=size)
    if files.wait_growth(files.log_size(), ENTER_REACTION):
        return False  # a reaction
    return _enter_became_newline(host, pane, text) and host.input_wait(pane.pid) is not None


def _enter_became_newline(host: Host, pane: Pane, text: str) -> bool:
    """Whether the end of ``text`` ends the row above the cursor, which is at
    the start of an empty row."""
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    if not lines:
        return False
    tail = lines[-1][-20:]
    where = ["display", "-p", "-t", pane.id, "#{cursor_x} #{cursor_y}"]
    head, _, screen = host.tmux(where, ["capture-pane", "-p", "-t", pane.id]).partition("\n")
    try:
        x, y = (int(n) for n in head.split())
    except ValueError:
        return False
    rows = screen.split("\n")
    if not 0 <= y < len(rows):
        return False
    # The text on the row above, the cursor at the start of an empty row:
    # the Enter was taken for a line break inside the input (a TUI that saw
    # it arrive with the text, as a paste). A program that shows the text
    # and just waits (for the network, a timer) has submitted it.
    return x == 0 and not rows[y].strip() and y > 0 and rows[y - 1].rstrip().endswith(tail)
