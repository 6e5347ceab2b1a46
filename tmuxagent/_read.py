"""``read`` and ``transcript``: the log rendered as text.

``read`` gives the output since the previous read, in pieces: the read
cursor (``SessionFiles.read_cursor``) moves past a piece only once the caller
says it was delivered, so output that never reached its reader (a full
disk, a closed stdout) comes again with the next read. The text is rendered
in one go, as one piece would be; it is cut into pieces only where the text
before the cut can no longer change (a line ended, nothing below it), so the
pieces join into exactly that text. Output the log dropped (its size limit)
is named where it would have been.
"""

from __future__ import annotations

from ._files import ReadCursor
from ._records import Struct
from ._term import Terminal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from ._files import SessionFiles, _CursorLock
    from ._pane import Pane

#: Where pieces may end: this many bytes of log in, then twice as many...
FIRST_PIECE = 4096
_MOST_PIECE = 1 << 20


def _size(count: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.4g} {unit}"
    return f"{count} bytes"


def dropped_note(count: int, limit: int, *, mid_line: bool = False) -> str:
    """The line that stands for output the log dropped (its size limit)."""
    kept = f"the last {_size(limit)}" if limit else "less"
    return (
        f"{chr(10) if mid_line else ''}[tmuxagent: {count} bytes of older output were dropped "
        f"here: the log keeps {kept} (start --log-limit)]\n"
    )


def line_start(data: bytes) -> int:
    """Where the first whole line of ``data`` begins (what comes before was
    cut by a dropped part: it would read as something else)."""
    newline = data.find(b"\n", 0, _MOST_PIECE)
    return newline + 1 if newline != -1 else 0


class _Piece:
    __slots__ = ("text", "cursor")

    def __init__(self, text: str, cursor: ReadCursor) -> None:
        self.text = text
        self.cursor = cursor  # where the next read starts once this piece is delivered


class ReadStream:
    """``with ReadStream(files, pane, max_chars) as stream:`` iterate over the
    pieces (str), then :meth:`delivered` how many of them reached the reader.
    The read lock is held meanwhile."""

    def __init__(self, files: SessionFiles, pane: Pane, max_chars: int) -> None:
        self._files = files
        self._pane = pane
        self._max_chars = max_chars
        self._lock: _CursorLock | None = None
        self._pieces: list[_Piece] = []

    def __enter__(self) -> ReadStream:
        self._lock = self._files.read_cursor().__enter__()
        try:
            self._pieces = self._render(self._lock.cursor)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._lock is not None
        self._lock.__exit__(*exc)

    def __iter__(self) -> Iterator[str]:
        return (piece.text for piece in self._pieces)

    def __len__(self) -> int:
        return len(self._pieces)

    def delivered(self, count: int) -> None:
        """The first ``count`` pieces reached the reader: the cursor moves past them."""
        assert self._lock is not None
        if count > 0:
            self._lock.save(self._pieces[min(count, len(self._pieces)) - 1].cursor)

    def _render(self, cursor: ReadCursor) -> list[_Piece]:
        files, pane, max_chars = self._files, self._pane, self._max_chars
        end = files.log_size()
        if end <= cursor.offset:
            return []
        if end - cursor.offset > _budget(max_chars):
            rendered = render_range(files, cursor, end, cols=pane.cols, rows=pane.rows,
                                    max_chars=max_chars)  # fmt: skip
            return [_Piece(rendered.text, rendered.after)]
        data = files.read_log(cursor.offset, end)
        state = files.log_state()  # after reading: what was dropped meanwhile is known
        note = ""
        if cursor.offset < state.start:
            cut = state.start - cursor.offset
            cut += line_start(data[cut:])
            note = dropped_note(cut, state.limit, mid_line=cursor.mid_line)
            data = data[cut:]
            cursor = ReadCursor(cursor.offset + cut)
        term = Terminal(pane.cols, pane.rows, x=cursor.x, y=cursor.y,
                        continues_line=cursor.mid_line, fresh=cursor.offset == 0)  # fmt: skip
        safe: list[tuple[int, str, int]] = []  # (bytes fed, text so far, cursor row)
        at, step = 0, FIRST_PIECE
        while at < len(data):
            stop = min(len(data), at + step)
            newline = data.rfind(b"\n", at, stop)
            stop = newline + 1 if stop < len(data) and newline != -1 else stop
            term.feed(data[at:stop])
            at, step = stop, min(step * 2, _MOST_PIECE)
            if at < len(data) and _settled(term):
                safe.append((at, term.text(), term.y))
        text = term.text()
        after = _after(term, end, cursor, text)
        if len(note) + len(text) > max_chars:
            return [_Piece(note + cut_middle(text, max_chars, files, cursor.offset, end), after)]
        pieces, done = [], 0
        for fed, before, row in safe:
            if len(before) > done and text.startswith(before):
                piece = text[done : len(before)]
                pieces.append(_Piece(piece, ReadCursor(cursor.offset + fed, 0, row, False)))
                done = len(before)
        pieces.append(_Piece(text[done:], after))
        pieces[0].text = note + pieces[0].text
        return pieces


def _settled(term: Terminal) -> bool:
    """Whether the text so far is final unless the program moves the cursor
    back up: a line just ended, nothing below, no sequence half read."""
    return term.x == 0 and not term.pending and term.lines()[-1:] == [""]


def _after(term: Terminal, end: int, cursor: ReadCursor, text: str) -> ReadCursor:
    """Where the next read starts after everything ``term`` was fed (up to ``end``)."""
    mid_line = not text.endswith("\n") if text else cursor.mid_line
    return ReadCursor(end - term.pending, term.x, term.y, mid_line)


def _budget(max_chars: int) -> int:
    """The most bytes of log rendered whole; above, only its head and tail."""
    return max(4 * max_chars, 1 << 20)


def cut_middle(text: str, max_chars: int, files: SessionFiles, start: int, end: int) -> str:
    """``text`` cut to about ``max_chars``: its head and tail, and between them a
    note naming where in the log (bytes ``start`` to ``end``) the rest is."""
    head, tail = text[: max_chars // 2], text[-(max_chars // 2) :]
    return _join(head, f"{len(text) - max_chars} characters", tail, files, start, end)


def _join(head: str, omitted: str, tail: str, files: SessionFiles, start: int, end: int) -> str:
    # Cut at line ends so no line comes back half.
    head = head[: head.rfind("\n") + 1] if "\n" in head else head
    tail = tail[tail.find("\n") + 1 :] if "\n" in tail else tail
    note = (
        f"[... tmuxagent: {omitted} of output left out here; "
        f"the full log is {files.log} (bytes {start}-{end}) ...]\n"
    )
    return head + note + tail


class Rendered(Struct):
    __slots__ = ("text", "after")

    def __init__(self, text: str, after: ReadCursor) -> None:
        self.text = text
        self.after = after  # where the next read goes on


def render_range(
    files: SessionFiles, cursor: ReadCursor, end: int, *, cols: int, rows: int, max_chars: int
) -> Rendered:
    """Render the log from ``cursor`` to ``end`` as text, cut to head and tail
    above ``max_chars`` (only those are rendered when the log is very long)."""
    start = cursor.offset
    size = end - start
    if size <= _budget(max_chars):
        term = Terminal(cols, rows, x=cursor.x, y=cursor.y, continues_line=cursor.mid_line,
                        fresh=start == 0)  # fmt: skip
        term.feed(files.read_log(start, end))
        text = term.text()
        if len(text) > max_chars:
            text = cut_middle(text, max_chars, files, start, end)
        return Rendered(text, _after(term, end, cursor, text))
    half = _budget(max_chars) // 2
    head_term = Terminal(cols, rows, x=cursor.x, y=cursor.y, continues_line=cursor.mid_line,
                         fresh=start == 0)  # fmt: skip
    head_term.feed(files.read_log(start, start + half))
    tail_term = Terminal(cols, rows)
    tail_term.feed(files.read_log(end - half, end))
    head = head_term.text()[: max_chars // 2]
    tail = tail_term.text()[-(max_chars // 2) :]
    text = _join(head, f"about {size - 2 * half} bytes", tail, files, start, end)
    return Rendered(text, _after(tail_term, end, cursor, text))


def transcript(files: SessionFiles, pane: Pane, max_chars: int) -> str:
    """All the output the log holds, as text (what was dropped, named)."""
    state, end = files.log_state(), files.log_size()
    start, note = 0, ""
    if state.start:
        start = state.start + line_start(files.read_log(state.start, state.start + _MOST_PIECE))
        note = dropped_note(start, state.limit)
    rendered = render_range(files, ReadCursor(start), end, cols=pane.cols, rows=pane.rows,
                            max_chars=max_chars)  # fmt: skip
    return note + rendered.text
