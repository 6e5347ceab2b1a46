"""Cells to text: how wide a character is, and how grid rows become lines.

The terminal (``_term.py``) keeps its screen as rows of cells, one string per
column: a character (with any combining marks), ``""`` for the second half
of a wide character, or :data:`UNKNOWN` for a cell it has never seen (it may
start in the middle of a stream). This module turns rows into text.
"""

from __future__ import annotations

import unicodedata

UNKNOWN = "\0"


def utf8_tail(data: bytes) -> int:
    """Number of bytes at the end of ``data`` that start an unfinished UTF-8 char."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # continuation byte: keep looking for the lead
            continue
        if byte >= 0xF0:
            need = 4
        elif byte >= 0xE0:
            need = 3
        elif byte >= 0xC0:
            need = 2
        else:
            return 0
        return back if back < need else 0
    return 0


#: Not shown at all, as tmux does not show them: C1 controls (U+0080-U+009F,
#: which would otherwise reach the caller's terminal), line and paragraph
#: separators (surrogates cannot come from UTF-8). tmux drops unassigned code
#: points too, but by the C library's Unicode version, not Python's: they stay,
#: so that characters newer than Python's tables do not vanish.
_INVISIBLE = frozenset(("Cc", "Zl", "Zp", "Cs"))


def char_width(ch: str) -> int:
    """Columns a character takes: 0 (combining), 1 or 2 (wide); -1: not shown."""
    if ch.isascii():
        return 1
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf") or unicodedata.combining(ch):
        return 0
    if category in _INVISIBLE:
        return -1
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def render_row(cells: list[str], wrapped: bool, keep: int = 0) -> str:
    """A row as text; ``keep`` cells survive the trailing-space strip."""
    text = "".join(cells)
    if keep:
        keep = len("".join(cells[:keep]))  # cells to characters
    if text.startswith(UNKNOWN):
        cut = len(text) - len(text.lstrip(UNKNOWN))
        text = text[cut:]
        keep = max(0, keep - cut)
    text = text.replace(UNKNOWN, " ")
    if wrapped:
        return text
    stripped = text.rstrip(" ")
    return text[:keep] if len(stripped) < keep else stripped


def grid_lines(
    grid: list[list[str]], wrapped: list[bool], cursor: tuple[int, int] | None, partial: str
) -> list[str]:
    rows = len(grid)
    first = 0
    while first < rows and grid[first].count(UNKNOWN) == len(grid[first]):
        first += 1
    last = cursor[1] if cursor is not None else -1
    for row in range(rows - 1, last, -1):
        if "".join(grid[row]).strip(" " + UNKNOWN):
            last = row
            break
    out: list[str] = []
    current = partial if first == 0 else ""
    for row in range(first, last + 1):
        keep = cursor[0] if cursor is not None and row == cursor[1] else 0
        current += render_row(grid[row], wrapped[row], keep)
        if not wrapped[row] or row == last:
            out.append(current)
            current = ""
    return out
