"""The CLI's standard output: values that programs choose shown with their
control characters escaped, JSON, and ``read``'s text delivered exactly,
with the read cursor moved no further than the output got.

A file on a full disk takes part of the output, a closed stdout none: the
cursor moves past the pieces written whole, so the next ``read`` gives the
rest again. A reader that closes its pipe early (``read NAME | head -3``)
may have thrown away whatever it took: then the cursor does not move at all.
"""

from __future__ import annotations

import errno
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._read import ReadStream


def print_text(text: str) -> None:
    """``text`` on stdout, as a line."""
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


#: C0 and C1 control characters and DEL, as Python writes them in a repr.
ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
ESCAPES.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
#: What JSON leaves raw with ensure_ascii=False: DEL and the C1 controls.
JSON_ESCAPES = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def visible(value: object) -> str:
    """A value that programs choose (a directory, a command, a message), shown
    in text output: its control characters escaped, so that the terminal
    reading it cannot obey them (set its title, colour, forge lines)."""
    return str(value).translate(ESCAPES)


def dump_json(data: Any) -> str:
    """JSON text with DEL and C1 escaped as well (they can only be in strings)."""
    import json

    text = json.dumps(data, ensure_ascii=False)
    return text if text.isascii() and "\x7f" not in text else text.translate(JSON_ESCAPES)


def print_json(data: Any) -> None:
    sys.stdout.write(dump_json(data) + "\n")


def deliver(stream: ReadStream) -> None:
    """Write ``stream``'s pieces to stdout; mark as delivered those that got
    there (OSError, after marking, when one did not)."""
    check_open()
    out = sys.stdout
    out.flush()
    errors = "replace" if out.errors in (None, "strict") else out.errors
    count = 0
    try:
        for text in stream:
            data = memoryview(text.encode(out.encoding or "utf-8", errors))
            while data:
                data = data[os.write(1, data) :]
            count += 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:  # the reader quit: what it took is unknown
            stream.delivered(count)
        raise
    stream.delivered(count)


def check_open() -> None:
    """OSError if stdout was closed when the CLI started."""
    if _STDOUT_CLOSED[0]:
        raise OSError(errno.EBADF, "standard output is closed: nothing was read")


#: Whether stdout was closed when the CLI started (its fd now holds /dev/null).
_STDOUT_CLOSED = [False]


def guard_standard_fds() -> None:
    """Put /dev/null on a closed stdin, stdout or stderr: else the next file
    opened gets its number, and output meant for stdout would go into it."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:  # the lowest free number: fd itself, unless a lower one is free too
                os.dup2(null, fd)
                os.close(null)
            if fd == 1:
                _STDOUT_CLOSED[0] = True
    # Python leaves sys.stdin/stdout/stderr None for a descriptor closed at start.
    for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115
