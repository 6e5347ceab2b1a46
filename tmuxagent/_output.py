"""Reading a session's output stream: what came after an input, minus its echo.

An :class:`OutputWatch` follows the session log from the point where input
was last sent (a :class:`~tmuxagent._files.Mark`), renders the new bytes with
the terminal emulator, and hands out the lines that the program wrote in
response, leaving out the echo of what was typed. Waits and ``run`` are built
on it (the agent shell's prompts: ``_shell.py``); ``read`` uses :func:`render_range`.
"""

from __future__ import annotations

from ._records import Struct
from ._term import Terminal
from .errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import IO, Self

    from ._files import Mark, SessionFiles

#: Lines of earlier output kept in view when searching new output, so a
#: pattern spanning several lines still matches.
_OVERLAP = 200


class EchoFilter:
    """Removes the echo of typed input from the lines that follow it.

    Shells and REPLs echo input in order, at the start of the new output,
    possibly with a continuation prompt before each line (``... ``): those
    leading lines are dropped while they end with the input's lines in turn.
    Full-screen programs draw the input elsewhere (an input box, a
    transcript); input lines that were not found in order are then dropped
    wherever a line contains them (only lines of three or more characters, so
    that short answers such as ``y`` cannot hide real output).
    """

    def __init__(self, text: str) -> None:
        parts = text.split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        self._expected = parts
        self.skip: int | None = None if parts else 0
        self._floating: list[str] = []

    @staticmethod
    def _is_echo(expected: str, line: str) -> bool:
        # Whitespace compared loosely: a typed tab is echoed as spaces.
        want = " ".join(expected.split())
        if not want:
            return len(line.strip()) <= 4  # an empty line, or a bare prompt
        return " ".join(line.split()).endswith(want)  # after a prompt, if any

    def _resolve(self, lines: list[str]) -> int:
        """Count leading echo lines; sets :attr:`skip` once that is certain."""
        i = 0
        for k, expected in enumerate(self._expected):
            if i >= len(lines):
                return i  # the rest of the echo has not arrived yet
            line = lines[i]
            last = i == len(lines) - 1
            if self._is_echo(expected, line):
                i += 1
                continue
            if last and " ".join(expected.split()).startswith(" ".join(line.split())):
                return i + 1  # the echo is still being drawn
            self._floating = [e.strip() for e in self._expected[k:] if len(e.strip()) >= 3]
            self.skip = i
            return i
        if i < len(lines):
            self.skip = i
        return i

    def apply(self, window: list[str], start: int = 0) -> list[str]:
        """``window`` without echo; it holds the lines from number ``start`` on.

        Until the echo is resolved, ``start`` must be 0.
        """
        skip = self.skip if self.skip is not None else self._resolve(window)
        out = window[max(0, skip - start) :]
        if self._floating:
            out = [ln for ln in out if not any(e in ln for e in self._floating)]
        return out


class OutputWatch:
    """Follows the log from a mark; renders and filters what arrives."""

    def __init__(self, files: SessionFiles, mark: Mark, cols: int, rows: int) -> None:
        self._file: IO[bytes] = files.open_log(mark.offset)
        self.offset = mark.offset
        self.term = Terminal(
            cols, rows, x=mark.x, y=mark.y, fresh=mark.offset == 0, on_osc=self.on_osc
        )
        self.echo = EchoFilter(mark.text)
        self._searched = 0  # history lines already searched without a match

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def poll(self) -> bool:
        """Take in whatever the program wrote since the last poll."""
        data = self._file.read()
        if not data:
            return False
        self.offset += len(data)
        self.term.feed(data)
        return True

    def lines(self, start: int = 0) -> list[str]:
        """Output lines after the echo, from history line ``start`` on."""
        if self.echo.skip is None:
            start = 0
        term = self.term
        return self.echo.apply([*term.history[start:], *term.lines()], start)

    def text(self) -> str:
        return "\n".join(self.lines())

    def search(self, regex: re.Pattern[str]) -> re.Match[str] | None:
        """Search new output (plus some earlier lines) for ``regex``."""
        start = max(0, self._searched - _OVERLAP)
        match = regex.search("\n".join(self.lines(start)))
        if match is None:
            self._searched = len(self.term.history)
        return match

    def on_osc(self, body: bytes) -> None:
        """Called with each OSC sequence's body, where it comes in the stream."""


class Rendered(Struct):
    __slots__ = ("text", "consumed", "x", "y")

    def __init__(self, text: str, consumed: int, x: int, y: int) -> None:
        self.text = text
        self.consumed = consumed  # bytes taken from the log (unfinished sequences stay)
        self.x = x
        self.y = y


def render_range(
    files: SessionFiles,
    start: int,
    end: int,
    *,
    cols: int,
    rows: int,
    x: int = 0,
    y: int = 0,
    mid_line: bool = False,
    max_chars: int,
) -> Rendered:
    """Render ``log[start:end]`` as text, cut to head and tail above ``max_chars``.

    ``x``, ``y`` and ``mid_line`` continue where the previous render ended, so
    that consecutive renders join into the same text as one would.
    """
    size = end - start
    budget = max(4 * max_chars, 1 << 20)
    if size <= budget:
        term = Terminal(cols, rows, x=x, y=y, continues_line=mid_line, fresh=start == 0)
        term.feed(files.read_log(start, end))
        text = term.text()
        consumed = size - term.pending
        cursor = (term.x, term.y)
        if len(text) <= max_chars:
            return Rendered(text, consumed, *cursor)
        omitted = f"{len(text) - max_chars} characters"
        head, tail = text[: max_chars // 2], text[-(max_chars // 2) :]
    else:
        half = budget // 2
        head_term = Terminal(cols, rows, x=x, y=y, continues_line=mid_line, fresh=start == 0)
        head_term.feed(files.read_log(start, start + half))
        tail_term = Terminal(cols, rows)
        tail_term.feed(files.read_log(end - half, end))
        head = head_term.text()[: max_chars // 2]
        tail = tail_term.text()[-(max_chars // 2) :]
        consumed = size - tail_term.pending
        cursor = (tail_term.x, tail_term.y)
        omitted = f"about {size - 2 * half} bytes"
    # Cut at line ends so no line comes back half.
    head = head[: head.rfind("\n") + 1] if "\n" in head else head
    tail = tail[tail.find("\n") + 1 :] if "\n" in tail else tail
    note = (
        f"[... tmuxagent: {omitted} of output left out here; "
        f"the full log is {files.log} (bytes {start}-{end}) ...]\n"
    )
    return Rendered(head + note + tail, consumed, *cursor)


def compile_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` as a multiline regex (``^`` and ``$`` at line ends), or UsageError."""
    import re

    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise UsageError(f"invalid regex {pattern!r}: {exc}") from None
