"""A small terminal emulator that turns a program's raw output into text.

tmuxagent keeps every byte a program writes (the session log). To show that
output to an agent, or to match a wait against it, the bytes must be rendered
the way a terminal would: readline redraws the line it edits with cursor
movements, progress bars rewrite themselves after ``\\r``, full-screen
programs position the cursor everywhere, and terminal queries must vanish.
Stripping escape sequences gets all of that wrong, so this module emulates
the subset of xterm that matters for text: cursor motion, erasing, scrolling
regions, insert/delete, wrapping, wide characters and the alternate screen.
Colours and other attributes are dropped, and so are C1 control characters
(as tmux drops them): the text it makes holds no control characters.

Lines that scroll off the top of the main screen go to :attr:`Terminal.history`
(wrapped rows joined into one logical line), so nothing that scrolls away is
lost; :meth:`Terminal.lines` adds what is on the screen now.

The emulator may start in the middle of a stream (at the moment input was
sent): cells it has never seen are "unknown" and are left out at the start of
a line, so the echo of a command typed after a prompt renders without it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._cells import UNKNOWN, char_width, grid_lines, render_row, utf8_tail

_TOKEN = re.compile(
    rb"([^\x00-\x1a\x1c-\x1f\x1b\x7f]+)"  # 1: printable text (UTF-8 bytes)
    rb"|\x1b\[([0-?]*)([ -/]*)([@-~])"  # 2-4: CSI params, intermediates, final
    rb"|\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\)"  # 5: OSC body
    rb"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS/SOS/PM/APC strings: ignored
    # Sequences cut short by ESC, CAN or SUB: dropped, as tmux drops them (a
    # run of them in one step: garbage such as ESC ESC ESC... must be cheap).
    rb"|(?:\x1b(?:[ -/]*+|\[[0-?]*+[ -/]*+)(?=[\x18\x1a\x1b])"
    rb"|\x1b\][^\x07\x18\x1a\x1b]*+(?=[\x18\x1a]|\x1b[^\\])"
    rb"|\x1b[PX^_][^\x1b]*+(?=\x1b[^\\]))++"
    rb"|\x1b([ -/]*)([0-OQ-WYZ\\`-~])"  # 6-7: other escapes (not [ ] P X ^ _)
    rb"|([\x00-\x1a\x1c-\x1f\x7f])"  # 8: C0 control characters
)
_INCOMPLETE = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x1b]*\x1b?|[ -/]*)?\Z"
)
#: Plain ASCII lines: the bulk of most output, rendered in one step.
_PLAIN_LINES = re.compile(rb"(?:[ -~]*\r\n)+")
#: An escape sequence still unterminated after this many bytes is garbage.
_MAX_PENDING = 65536


class Terminal:
    """Renders a byte stream into lines of text.

    ``cols``/``rows`` are the pane's size; ``x``/``y`` where the cursor was
    when the stream starts, and ``continues_line`` says that the text before
    (shown elsewhere) ended in that line. ``fresh`` means the stream is the
    program's output from its very start: the screen is blank, not unknown.
    ``on_osc`` is called with the body of each OSC sequence (``ESC ] body
    BEL``), at its place in the stream.
    """

    def __init__(
        self,
        cols: int = 80,
        rows: int = 24,
        *,
        x: int = 0,
        y: int = 0,
        continues_line: bool = False,
        fresh: bool = False,
        on_osc: Callable[[bytes], None] | None = None,
    ) -> None:
        self.cols = max(2, cols)
        self.rows = max(1, rows)
        self.on_osc = on_osc
        self.history: list[str] = []
        # Wrapped rows that scrolled off, awaiting their line's end (a list: a
        # long line's rows, added to one string one by one, would be quadratic).
        self._partial: list[str] = []
        blank = " " if fresh else UNKNOWN
        self._grid = [[blank] * self.cols for _ in range(self.rows)]
        self._wrapped = [False] * self.rows
        self.x = min(max(0, x), self.cols - 1)
        self.y = min(max(0, y), self.rows - 1)
        if continues_line:
            # The stream starts in the middle of a line whose start was shown
            # already: that line ends here even if nothing more is written to it.
            self._grid[self.y][0] = ""
        self._pending_wrap = False
        self._top = 0
        self._bottom = self.rows - 1
        self._saved = (0, 0)
        self._main: tuple[list[list[str]], list[bool], tuple[int, int]] | None = None
        self._autowrap = True
        self._last = " "
        self._buf = b""

    # -- input -------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Bytes held back because they end in an unfinished sequence."""
        return len(self._buf)

    @property
    def alternate(self) -> bool:
        """True while a full-screen program uses the alternate screen."""
        return self._main is not None

    def feed(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        n = len(buf)
        pos = 0
        match = _TOKEN.match
        while pos < n:
            m = match(buf, pos)
            if m is None:
                # Matched in place: copying the rest for each stray ESC is quadratic.
                if n - pos < _MAX_PENDING and _INCOMPLETE.match(buf, pos):
                    break
                pos += 1  # a stray ESC: drop it
                continue
            kind = m.lastindex
            end = m.end()
            if (kind in {1, 8}) and self._can_scroll_fast():
                plain = _PLAIN_LINES.match(buf, pos)
                if plain is not None and self._plain_lines(buf[pos : plain.end()]):
                    pos = plain.end()
                    continue
            if kind == 1:
                if end == n:
                    tail = utf8_tail(m.group(1))
                    if tail:
                        end -= tail
                        if end == pos:
                            break
                self._print(buf[pos:end].decode("utf-8", "replace"))
            elif kind == 8:
                self._control(buf[pos])
            elif kind == 4:
                self._csi(m.group(2), m.group(3), m.group(4))
            elif kind == 5:
                if self.on_osc is not None:
                    self.on_osc(m.group(5))
            elif kind == 7:
                self._esc(m.group(6), m.group(7))
            pos = end
        self._buf = buf[pos:]

    # -- output ------------------------------------------------------------

    def _render(self, row: int, keep: int = 0) -> str:
        return render_row(self._grid[row], self._wrapped[row], keep)

    def lines(self) -> list[str]:
        """The screen as logical lines (wrapped rows joined).

        Untouched rows above the first output are left out, as are blank rows
        below both the cursor and the last text. The cursor's row keeps its
        spaces up to the cursor, so a prompt such as ``'$ '`` stays whole.
        While a full-screen program shows the alternate screen, its rows come
        after the main screen's lines (so earlier lines keep their places).
        """
        # A full row's cursor stays on its last cell, which was written: keep it.
        cursor = (self.x + self._pending_wrap, self.y)
        if self._main is None:
            return grid_lines(self._grid, self._wrapped, cursor, "".join(self._partial))
        grid, wrapped, saved = self._main
        main = grid_lines(grid, wrapped, saved, "".join(self._partial))
        return [*main, *grid_lines(self._grid, self._wrapped, cursor, "")]

    def text(self) -> str:
        return "\n".join([*self.history, *self.lines()])

    # -- printing ----------------------------------------------------------

    def _print(self, s: str) -> None:
        if not s.isascii():
            for ch in s:
                self._put_wide(ch)
            return
        cols = self.cols
        self._last = s[-1]
        start, end = 0, len(s)  # indexes: cutting s row by row would be quadratic
        while start < end:
            if self._pending_wrap:
                self._wrap()
            row = self._grid[self.y]
            x = self.x
            take = min(end - start, cols - x)
            if not self._autowrap and take < end - start:
                s, start, end = s[start : start + take - 1] + s[-1], 0, take
            row[x : x + take] = s[start : start + take]
            start += take
            if x + take >= cols:
                self.x = cols - 1
                self._pending_wrap = self._autowrap
            else:
                self.x = x + take

    def _can_scroll_fast(self) -> bool:
        return (
            self.x == 0
            and self.y == self.rows - 1
            and self._main is None
            and not self._pending_wrap
            and self._top == 0
            and self._bottom == self.rows - 1
            and all(c in (" ", UNKNOWN) for c in self._grid[self.y])
        )

    def _plain_lines(self, chunk: bytes) -> bool:
        """Fast path for ``line\r\n...`` written at the bottom of the main screen.

        Equivalent to printing each line and scrolling, which is what ``seq``,
        ``cat`` and most logs do; returns False when the general path is needed.
        """
        cols, rows = self.cols, self.rows
        lines = chunk.decode("ascii").split("\r\n")
        lines.pop()
        if lines and max(map(len, lines)) > cols:
            return False
        above = rows - 1
        old = min(len(lines), above)
        for row in range(old):
            if any(c != UNKNOWN for c in self._grid[row]):
                self._emit(row)
        new = len(lines) - old
        if new:
            self.history.append("".join(self._partial) + lines[0].rstrip(" "))
            self._partial = []
            rest = lines[1:new]  # without trailing spaces (rarely there: rstrip costs)
            self.history.extend([ln.rstrip(" ") for ln in rest] if b" \r" in chunk else rest)
        shown = lines[new:]
        self._grid = [
            *self._grid[old:above],
            *(list(line.ljust(cols)) for line in shown),
            self._blank(),
        ]
        self._wrapped = [*self._wrapped[old:above], *([False] * len(shown)), False]
        if lines[-1]:
            self._last = lines[-1][-1]
        return True

    def _put_wide(self, ch: str) -> None:
        width = char_width(ch)
        if width < 0:
            return  # C1 controls and the like: tmux does not show them either
        if width == 0:
            x = self.x if self._pending_wrap else self.x - 1
            if x >= 0:
                self._grid[self.y][x] += ch
            return
        if self._pending_wrap or (width == 2 and self.x >= self.cols - 1):
            if self._autowrap:
                if not self._pending_wrap:
                    self._grid[self.y][self.x] = ""  # the cell a wide char skipped
                self._wrap()
            else:
                self.x = self.cols - width
        row = self._grid[self.y]
        row[self.x] = ch
        if width == 2:
            row[self.x + 1] = ""
        self._last = ch
        if self.x + width >= self.cols:
            self.x = self.cols - 1
            self._pending_wrap = self._autowrap
        else:
            self.x += width

    def _wrap(self) -> None:
        self._wrapped[self.y] = True
        self._pending_wrap = False
        self.x = 0
        self._index()

    # -- motion and scrolling ----------------------------------------------

    def _index(self) -> None:
        if self.y == self._bottom:
            self._scroll_up(1)
        elif self.y < self.rows - 1:
            self.y += 1

    def _reverse_index(self) -> None:
        if self.y == self._top:
            self._scroll_down(1)
        elif self.y > 0:
            self.y -= 1

    def _blank(self) -> list[str]:
        return [" "] * self.cols

    def _emit(self, row: int) -> None:
        text = self._render(row)
        if self._wrapped[row]:
            self._partial.append(text)
        else:
            self._partial.append(text)
            self.history.append("".join(self._partial))
            self._partial = []

    def _scroll_up(self, n: int, *, emit: bool = True) -> None:
        top, bottom = self._top, self._bottom
        n = min(n, bottom - top + 1)
        # Like tmux, a line scrolled out of any region of the main screen goes
        # to history (apt and friends scroll a region above a progress bar).
        emit = emit and self._main is None
        for _ in range(n):
            if emit and any(c != UNKNOWN for c in self._grid[top]):
                self._emit(top)
            del self._grid[top]
            del self._wrapped[top]
            self._grid.insert(bottom, self._blank())
            self._wrapped.insert(bottom, False)

    def _scroll_down(self, n: int) -> None:
        top, bottom = self._top, self._bottom
        n = min(n, bottom - top + 1)
        for _ in range(n):
            del self._grid[bottom]
            del self._wrapped[bottom]
            self._grid.insert(top, self._blank())
            self._wrapped.insert(top, False)

    def _move(self, x: int | None = None, y: int | None = None) -> None:
        self._pending_wrap = False
        if x is not None:
            self.x = min(max(0, x), self.cols - 1)
        if y is not None:
            self.y = min(max(0, y), self.rows - 1)

    def _control(self, byte: int) -> None:
        if byte == 0x0D:  # CR
            self._move(x=0)
        elif byte in (0x0A, 0x0B, 0x0C):  # LF VT FF
            self._pending_wrap = False
            self._wrapped[self.y] = False  # an explicit newline ends the line here
            self._index()
        elif byte == 0x08:  # BS
            self._move(x=self.x - 1)
        elif byte == 0x09 and not self._pending_wrap:  # HT (at the last column: stay)
            self._move(x=(self.x // 8 + 1) * 8)

    def _erase(self, row: int, start: int, end: int) -> None:
        cells = self._grid[row]
        cells[start:end] = [" "] * (end - start)
        if start == 0 and end >= self.cols:
            self._wrapped[row] = False  # only a wholly erased row stops wrapping

    def _erase_display(self, mode: int) -> None:
        if mode == 0:
            self._erase(self.y, self.x, self.cols)
            for row in range(self.y + 1, self.rows):
                self._erase(row, 0, self.cols)
        elif mode == 1:
            for row in range(self.y):
                self._erase(row, 0, self.cols)
            self._erase(self.y, 0, self.x + 1)
        else:
            if self._main is None:
                # Like tmux's scroll-on-clear: a cleared screen goes to history.
                last = max(
                    (r for r in range(self.rows) if "".join(self._grid[r]).strip(" \0")),
                    default=-1,
                )
                for row in range(last + 1):
                    if any(c != UNKNOWN for c in self._grid[row]):
                        self._emit(row)
            for row in range(self.rows):
                self._erase(row, 0, self.cols)

    def _set_mode(self, params: bytes, on: bool) -> None:
        for code in params.lstrip(b"?").split(b";"):
            if code in (b"1049", b"1047", b"47"):
                if on and self._main is None:
                    self._main = (self._grid, self._wrapped, (self.x, self.y))
                    self._grid = [self._blank() for _ in range(self.rows)]
                    self._wrapped = [False] * self.rows
                elif not on and self._main is not None:
                    self._grid, self._wrapped, cursor = self._main
                    self._main = None
                    if code == b"1049":
                        self._move(*cursor)
            elif code == b"7":
                self._autowrap = on

    def _csi(self, raw: bytes, inter: bytes, final_b: bytes) -> None:
        final = final_b.decode()
        if raw.startswith(b"?"):
            if final in "hl" and not inter:
                self._set_mode(raw, final == "h")
            return
        if inter or raw[:1] in (b"<", b"=", b">"):
            return  # DECSCUSR, queries, private sequences: no effect on text
        try:
            args = [int(p) if p else 0 for p in raw.split(b";")] if raw else []
        except ValueError:
            return
        a = args[0] if args else 0
        # Counts beyond the screen mean "all of it" (and must not allocate more).
        n = min(a or 1, self.cols * self.rows)
        x, y = self.x, self.y
        if final == "m":
            return
        if final == "A":
            self._move(y=max(self._top if y >= self._top else 0, y - n))
        elif final in "Be":
            self._move(y=min(self._bottom if y <= self._bottom else self.rows - 1, y + n))
        elif final in "Ca":
            self._move(x=x + n)
        elif final == "D":
            self._move(x=x - n)
        elif final == "E":
            self._move(x=0, y=y + n)
        elif final == "F":
            self._move(x=0, y=y - n)
        elif final in "G`":
            self._move(x=n - 1)
        elif final == "d":
            self._move(y=n - 1)
        elif final in "Hf":
            col = args[1] if len(args) > 1 and args[1] else 1
            self._move(x=col - 1, y=n - 1)
        elif final == "J":
            self._erase_display(a)
        elif final == "K":
            if a == 0:
                self._erase(y, x, self.cols)
            elif a == 1:
                self._erase(y, 0, x + 1)
            else:
                self._erase(y, 0, self.cols)
        elif final == "X":
            self._erase(y, x, min(self.cols, x + n))
        elif final == "P":
            row = self._grid[y]
            del row[x : x + n]
            row.extend(" " * (self.cols - len(row)))
        elif final == "@":
            row = self._grid[y]
            row[x:x] = " " * n
            del row[self.cols :]
        elif final in "LM" and self._top <= y <= self._bottom:
            saved_top = self._top
            self._top = y
            if final == "L":
                self._scroll_down(n)
            else:
                self._scroll_up(n, emit=False)  # deleted lines vanish
            self._top = saved_top
            self._move(x=0)
        elif final == "S":
            self._scroll_up(n)
        elif final == "T":
            self._scroll_down(n)
        elif final == "r":
            top = (args[0] or 1) - 1 if args else 0
            bottom = (args[1] if len(args) > 1 and args[1] else self.rows) - 1
            if 0 <= top < bottom < self.rows:
                self._top, self._bottom = top, bottom
                self._move(x=0, y=0)
        elif final == "b":  # repeat: tmux stops at the end of the line
            self._print(self._last * min(n, self.cols - x))
        elif final == "s":
            self._saved = (x, y)
        elif final == "u":
            self._move(*self._saved)

    def _esc(self, inter: bytes, final_b: bytes) -> None:
        if inter:
            return  # character set designations and the like
        final = final_b.decode()
        if final == "7":
            self._saved = (self.x, self.y)
        elif final == "8":
            self._move(*self._saved)
        elif final == "M":
            self._pending_wrap = False
            self._reverse_index()
        elif final == "D":
            self._pending_wrap = False
            self._index()
        elif final == "E":
            self._move(x=0)
            self._index()
        elif final == "c":
            self._main = None
            self._top, self._bottom = 0, self.rows - 1
            self._erase_display(2)
            self._move(0, 0)


def render(data: bytes, cols: int = 80, rows: int = 24) -> str:
    """The text a terminal of that size shows for ``data`` (with scrollback)."""
    term = Terminal(cols, rows, fresh=True)
    term.feed(data)
    return term.text()
