"""Input: text typed exactly, pastes that cannot end themselves, and an Enter
that the program really gets.

Before any input, the session notes where the log stands, where the cursor is
and what is about to be typed (``SessionFiles.note_input``): waits start there
and leave out the echo.
"""

from __future__ import annotations

import itertools
import os

from ._poll import Deadline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._files import SessionFiles
    from ._host import Host
    from ._pane import Pane

#: Seconds to let a program take in typed text before Enter is pressed.
ENTER_SETTLE = 0.02
#: How often Enter is pressed again when the program shows no reaction.
ENTER_RETRIES = 2
#: Seconds to wait for any reaction to Enter before pressing it again.
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


def type_text(host: Host, pane: Pane, text: str, *, bracketed: bool, always: bool = False) -> None:
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
    """
    if bracketed:
        text = neutralise_paste(text)
    data = text.encode("utf-8", "surrogateescape")
    if not data:
        return
    name = f"tmuxagent-{os.getpid()}-{next(_buffers)}"
    paste = ["paste-buffer", "-d", "-b", name, "-t", pane.id, "-p" if bracketed else "-r"]
    if bracketed and always:  # without -p, so that tmux does not bracket it again
        data = b"\x1b[200~" + data + b"\x1b[201~"
        paste.pop()
    host.tmux(
        ["load-buffer", "-b", name, "-"],
        paste,
        input=data,
        timeout=host.tmux_timeout + len(data) / 100_000,
    )


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


def press_enter(
    host: Host,
    files: SessionFiles,
    pane: Pane,
    before: int,
    typed: int,
    *,
    retry: bool = True,
) -> None:
    """Press Enter after ``typed`` characters, so that the program submits them.

    Full-screen programs (Ink-based agent CLIs among them) ignore an Enter
    that arrives in the same burst as the text. So: wait for the echo (the
    log growing past ``before``) to settle, press Enter, and with ``retry``
    press it again (at most ENTER_RETRIES times) if the program showed the
    text but shows no reaction at all to Enter. A program that does not display its input (a
    password prompt, a raw reader) gets exactly one Enter.
    """
    echoed = False
    if typed > 0:
        limit = Deadline(0.25 + typed / 50_000)
        echoed = files.wait_quiet(ENTER_SETTLE, limit, after=before) > before
    last = ENTER_RETRIES if echoed and retry else 0
    for attempt in range(last + 1):
        size = files.log_size()
        host.tmux(["send-keys", "-t", pane.id, "Enter"])
        if attempt == last or files.wait_growth(size, ENTER_REACTION):
            return
