"""Reading a session's output stream: what came after an input, minus its echo.

An :class:`OutputWatch` follows the session log from the point where input
was last sent (a :class:`~tmuxagent._files.Mark`), renders the new bytes with
the terminal emulator, and hands out the lines that the program wrote in
response, leaving out the echo of what was typed (:class:`EchoFilter`) and,
for a wait after another one, what that one's match consumed. Waits and
``run`` are built on it (the agent shell's prompts: ``_shell.py``); ``read``
has its own (``_read.py``).
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right

from ._poll import SETTLE, SETTLE_READING, Deadline
from ._records import Struct
from ._search import NotMainThread, Overrun, SearchProcess, run_until
from ._term import Terminal
from .errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any, Self

    from ._files import Mark, SessionFiles

#: Lines of earlier output kept in view when searching new output, so a
#: pattern spanning several lines still matches.
_OVERLAP = 200
#: What full-screen programs send to redraw: cursor up or to a place, erase
#: the screen, reverse index, the alternate screen.
_REDRAW = re.compile(rb"\x1b\[[0-9;]*[ABHfdJ]|\x1b\[\?(?:1049|1047|47)h|\x1bM")
#: What may stand around an input field's text: box borders, block cursors.
_FRAME = " |" + "".join(map(chr, range(0x2500, 0x2580))) + "\u2588\u258c\u2590"
#: How far a file's time may lag behind the clock (one tick of the coarse
#: clock that older kernels stamp files with, at 250 Hz).
_MTIME_LAG = 0.005
#: A search that the deadline stopped after this many seconds, and half the
#: timeout, is the pattern's fault (not a late output's): UsageError.
_SLOW = 0.25


def _words(text: str) -> str:
    """Whitespace compared loosely: a typed tab is echoed as spaces."""
    return " ".join(text.split())


class EchoFilter:
    """The echo of typed input, recognised by where it is drawn.

    Shells and REPLs echo input in order at the cursor, where the output
    starts (``x`` is its column then: a prompt there may be redrawn): output
    line ``k`` is the echo of input line ``k`` while it ends with it, after a
    prompt (``... ``, a continuation prompt). A blank input line's echo is an
    empty line or a bare prompt seen in this echo. The first line that is not
    its input line's echo ends it. An echo line stays echo only while it
    still shows the input: a program that writes over it is heard.

    Full-screen programs draw the input elsewhere, in an input field that
    they redraw (Ink-based agent CLIs): when the output starts with no echo,
    a line that shows nothing but an input line (three characters or more),
    after a prompt of three characters at most, is that field if it is boxed
    (box borders around it) or the program redraws. No other line is ever
    left out, whatever it contains.
    """

    def __init__(self, text: str, x: int = 0) -> None:
        parts = text.split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        self._expected = [_words(part) for part in parts]
        self._x = x
        self._prompts = {""}
        self._field = [e for e in self._expected if len(e) >= 3]
        #: Leading lines that are echo, once that is certain (None: not yet).
        self.skip: int | None = None if parts else 0
        self._drawing = 0  # leading lines taken for echo until then
        #: Whether the program redraws (set by the watch).
        self.redraws = False

    def _echoes(self, k: int, line: str) -> bool:
        """Whether output line ``k`` shows the echo of input line ``k``."""
        want, got = self._expected[k], _words(line)
        if not want:
            return len(got) <= self._x if k == 0 else got in self._prompts
        if not got.endswith(want):
            return False
        prompt = got[: len(got) - len(want)]
        return k > 0 or len(prompt.rstrip()) <= self._x

    def _drawn_so_far(self, k: int, line: str) -> bool:
        """Whether ``line``, the last one, may be the echo of line ``k`` being drawn."""
        got = _words(line)
        cuts = [0, *(i + 1 for i, ch in enumerate(got) if ch == " ")]
        return any(self._expected[k].startswith(got[i:]) and i <= max(self._x, 8) for i in cuts)

    def resolve(self, lines: list[str]) -> None:
        """Find the echo at the start of ``lines`` (the output from the cursor on)."""
        if self.skip is not None:
            return
        count = len(self._expected)
        for k in range(1, min(count, len(lines))):  # the continuation prompts
            want, got = self._expected[k], _words(lines[k])
            if want and got.endswith(want):
                self._prompts.add(got[: len(got) - len(want)].strip())
        for k in range(count):
            if k >= len(lines):
                self._drawing = k  # the rest of the echo has not come yet
                return
            if self._echoes(k, lines[k]):
                continue
            if k == len(lines) - 1 and self._drawn_so_far(k, lines[k]):
                self._drawing = k + 1
                return
            self.skip = k
            return
        if count < len(lines):
            self.skip = count
        else:
            self._drawing = count

    def apply(self, window: list[str], start: int = 0) -> list[str]:
        """``window`` without echo; it holds the lines from number ``start`` on.

        Until the echo is resolved, ``start`` must be 0.
        """
        if self.skip is None:
            self.resolve(window)
        if self.skip is not None and (self.skip or not self._field):
            # Only the echo's own lines can go (see drops): the rest is kept
            # whole, without a look at each of (maybe) 40,000 lines.
            cut = max(0, self.skip - start)
            head = enumerate(window[:cut], start)
            return [line for i, line in head if not self._echoes(i, line)] + window[cut:]
        return [line for i, line in enumerate(window, start) if not self.drops(i, line)]

    def drops(self, index: int, line: str) -> bool:
        """Whether output line number ``index`` is echo (after :meth:`resolve`)."""
        if self.skip is None:
            return index < self._drawing
        if index < self.skip:
            return self._echoes(index, line)
        if self.skip or not self._field:
            return False
        inner = line.strip(_FRAME)
        if not self.redraws and inner == line.strip(" "):
            return False  # neither redrawn nor boxed: a line like any other
        shown = _words(inner)
        for want in self._field:
            if shown.endswith(want):
                prompt = shown[: len(shown) - len(want)]
                if not prompt or (prompt.endswith(" ") and len(prompt) <= 4):
                    return True
        return False


class _Segment(Struct):
    """Part of a line that a search sees: line ``index`` from column ``col``."""

    __slots__ = ("index", "col", "text")

    def __init__(self, index: int, col: int, text: str) -> None:
        self.index = index
        self.col = col
        self.text = text


#: The most bytes of log taken in at once (so that memory stays bounded).
POLL_BYTES = 1 << 17
#: Of a line that never ends, a wait keeps the last rows (once it has twice this many).
PARTIAL_ROWS = 5_000
#: A wait forgets the lines it has searched once it holds twice this many.
KEEP_LINES = 10_000


class History(list[str]):
    """The lines that scrolled off a watch's terminal: a list that can forget
    its oldest lines and still numbers the others as before, so that a wait
    on endless output keeps only what later searches look at."""

    forgotten = 0  # lines dropped from the front

    def forget(self, upto: int) -> None:
        """Drop the lines numbered below ``upto``."""
        count = upto - self.forgotten
        if count > 0:
            del self[:count]
            self.forgotten = upto

    def __len__(self) -> int:
        return self.forgotten + super().__len__()

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):  # only [start:] is asked for
            start = max(0, (index.start or 0) - self.forgotten)
            return super().__getitem__(slice(start, None))
        return super().__getitem__(index - self.forgotten if index >= 0 else index)


class OutputWatch:
    """Follows the log from a mark; renders and filters what arrives.

    ``resume`` is where the previous wait's match ended, ``(offset, line,
    col)``: the log offset it had read, and the position in the lines that
    this mark's output renders to. What was there then, up to that position,
    is not searched again, unless the program has changed it since.
    """

    def __init__(
        self,
        files: SessionFiles,
        mark: Mark,
        cols: int,
        rows: int,
        resume: tuple[int, int, int] | None = None,
    ) -> None:
        self.files = files
        self._file: IO[bytes] = files.open_log(mark.offset)
        self.offset = self.start = mark.offset
        # The cursor's line is always the first one, even if nothing is written
        # to it: the echo is looked for there.
        fresh = mark.offset == 0
        self.term = Terminal(
            cols, rows, x=mark.x, y=mark.y, continues_line=not fresh, fresh=fresh,
            on_osc=self.on_osc,
        )  # fmt: skip
        self.term.history = self.history = History()
        self.echo = EchoFilter(mark.text, mark.x)
        self._searched = 0  # history lines already searched without a match
        #: The program has ended and all its output is in: nothing more will come.
        self.final = False
        #: How the program waits for input now (see ``Host.input_wait``), if known.
        self.input_wait: Callable[[], str | None] | None = None
        #: Where the match that :meth:`search` returned ended: (offset, line, col).
        self.matched_at = (mark.offset, 0, 0)
        self._candidate: tuple[object, float] | None = None
        self._helper: SearchProcess | None = None
        self._seen: tuple[int, int, int, dict[int, str]] | None = None
        if resume is not None and resume[0] >= mark.offset:
            try:
                self._replay(resume[0] - mark.offset, resume[1])
            except BaseException:
                self.close()
                raise
            history = len(self.term.history)
            screen = {history + i: line for i, line in enumerate(self.term.lines())}
            self._seen = (history, resume[1], resume[2], screen)

    def _replay(self, size: int, line: int) -> None:
        """Take in ``size`` bytes the previous wait saw (its match ended on
        ``line``), a part at a time, keeping only the lines searched again."""
        history = self.history
        while size > 0:
            data = self._file.read(min(size, POLL_BYTES))
            if not data:
                return
            size -= len(data)
            self._take(data)
            if len(history) - history.forgotten > 2 * KEEP_LINES:
                if self.echo.skip is None:
                    self.lines()  # finds where the echo ends
                history.forget(max(0, min(len(history), line) - _OVERLAP))

    def close(self) -> None:
        self._file.close()
        if self._helper is not None:
            self._helper.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take(self, data: bytes) -> None:
        self.offset += len(data)
        if not self.echo.redraws and _REDRAW.search(data):
            self.echo.redraws = True
        self.term.feed(data)

    def poll(self) -> bool:
        """Take in whatever the program wrote since the last poll."""
        data = self.files.read_on(self._file, POLL_BYTES)
        if not data:
            return False
        self.offset = self._file.tell() - len(data)  # past a dropped part, if any
        self._take(data)
        partial = self.term._partial  # the wrapped rows of a line with no end yet
        if len(partial) > 2 * PARTIAL_ROWS:  # an endless line: its start goes
            del partial[:-PARTIAL_ROWS]
        return True

    @property
    def pending(self) -> bool:
        """Whether a match waits to be confirmed (see :meth:`search`)."""
        return self._candidate is not None

    def _all(self, start: int) -> list[str]:
        term = self.term
        lines = [*term.history[start:], *term.lines()]
        if self.echo.skip is None:
            self.echo.resolve(lines if start == 0 else [*term.history, *term.lines()])
        return lines

    def lines(self, start: int = 0) -> list[str]:
        """Output lines after the echo, from history line ``start`` on."""
        if self.echo.skip is None:
            start = 0
        return self.echo.apply(self._all(start), start)

    def text(self) -> str:
        return "\n".join(self.lines())

    def output(self, upto: int | None = None) -> str:
        """The output after the echo so far, or up to line ``upto`` (where a
        match ended: that line whole, as far as it is written, as ``wait``
        prints it). Lines that a long wait forgot are named in a note at the
        start."""
        start = self.history.forgotten
        out = []
        if start:
            out.append(f"[tmuxagent: {start} earlier lines are left out here; 'read' has them]")
        drops = self.echo.drops
        for i, line in enumerate(self._all(start), start):
            if upto is not None and i >= upto:
                out.append(line)
                break
            if not drops(i, line):
                out.append(line)
        return "\n".join(out)

    def _segments(self, start: int) -> list[_Segment]:
        """What a search sees from line ``start`` on: no echo, nothing consumed."""
        out = []
        drops = self.echo.drops
        for i, line in enumerate(self._all(start), start):
            if drops(i, line):
                continue
            col = 0
            if self._seen is not None:  # (trailing spaces come and go with the cursor)
                history, upto, at, screen = self._seen
                if i < upto and (i < history or screen.get(i, "").rstrip() == line.rstrip()):
                    continue  # consumed, and unchanged since
                if i == upto and (
                    i < history or screen.get(i, "")[:at].rstrip() == line[:at].rstrip()
                ):
                    col = at
            out.append(_Segment(i, col, line[col:]))
        return out

    def search(
        self, regex: re.Pattern[str], deadline: Deadline | None = None
    ) -> re.Match[str] | None:
        """Search new output (plus some earlier lines) for ``regex``.

        A match that ends on the last line, which the program may still be
        writing, counts once it has stayed the same for SETTLE seconds of the
        log's time, or the program waits for input, or has ended. Where it
        ended: :attr:`matched_at`.
        Raises UsageError when ``deadline`` came during a search that ran for
        most of the time (the pattern backtracks catastrophically).
        """
        start = 0 if self.echo.skip is None else max(0, self._searched - _OVERLAP)
        if self._seen is not None:
            start = max(start, min(self._seen[0], self._seen[1]))
        segments = self._segments(start)
        text = "\n".join(seg.text for seg in segments)
        match = self._run(regex, text, deadline)
        if match is None:
            self._searched = len(self.term.history)
            self._candidate = None
            if len(self.history) - self.history.forgotten > 2 * KEEP_LINES:  # memory stays bounded
                self.history.forget(max(0, self._searched - _OVERLAP))
            return None
        starts, pos = [], 0
        for seg in segments:
            starts.append(pos)
            pos += len(seg.text) + 1

        def where(at: int) -> tuple[int, int]:
            if not segments:  # an empty match in no text
                return (self._seen[1], self._seen[2]) if self._seen else (0, 0)
            seg = max(0, bisect_right(starts, at) - 1)
            return segments[seg].index, segments[seg].col + at - starts[seg]

        end = where(match.end())
        if "\n" not in text[match.end() :] and not self.final:
            key = (where(match.start()), end, match.group())
            now = time.monotonic()
            if self._candidate is None or self._candidate[0] != key:
                since = now
                size, written = self.files.log_stat()
                if size == self.offset:  # all read: the match has stood since the last write
                    since -= max(0.0, time.time() - written - _MTIME_LAG)
                self._candidate = (key, since)
            still = now - self._candidate[1]
            if still < SETTLE and not self._reading(still):
                return None
        self._candidate = None
        self.matched_at = (self.offset, *end)
        return match

    def _reading(self, still: float) -> bool:
        """Whether the program waits for input, the log read to its end and
        still for ``still`` seconds: then the last line is what it will be."""
        if self.input_wait is None or self.files.log_size() != self.offset:
            return False
        how = self.input_wait()
        return how == "poll" or (how == "read" and still >= SETTLE_READING)

    def _run(
        self, regex: re.Pattern[str], text: str, deadline: Deadline | None
    ) -> re.Match[str] | None:
        """``regex.search(text)``, stopped at ``deadline``."""
        if deadline is None:
            return regex.search(text)
        try:
            try:
                return run_until(deadline, lambda: regex.search(text))
            except NotMainThread:
                if self._helper is None:
                    self._helper = SearchProcess(regex)
                return self._helper.search(text, deadline)
        except Overrun as exc:
            self._helper = None  # it was stopped
            if exc.ran < max(_SLOW, deadline.seconds / 2):
                return None  # the deadline came: a timeout like any other
            raise UsageError(
                f"the pattern /{_short(regex.pattern)}/ took longer than the timeout "
                f"({deadline.seconds:g}s) to search {len(text)} characters; it backtracks "
                "catastrophically: make it simpler (no nested repeats such as (a+)+)"
            ) from None

    def on_osc(self, body: bytes) -> None:
        """Called with each OSC sequence's body, where it comes in the stream."""


def _short(pattern: str, most: int = 60) -> str:
    return pattern if len(pattern) <= most else pattern[:most] + "..."


def compile_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` as a multiline regex (``^`` and ``$`` at line ends), or UsageError."""
    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        reason = str(exc)
    except OverflowError:  # a{4294967296}
        reason = "a repeat count is too large"
    except RecursionError:  # a thousand nested groups
        reason = "it nests too deeply"
    raise UsageError(f"invalid regex {_short(pattern)!r}: {reason}")
