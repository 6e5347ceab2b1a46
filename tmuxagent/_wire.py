"""Frames on a byte stream: what crosses the SSH channel to a remote host.

A frame is a kind (one byte), a length (four bytes, big-endian) and that
many bytes. The host greets with HELLO; the client sends one REQUEST, then
the verb's standard input (STDIN frames, then STDIN_END) and SIGNAL frames
for Ctrl-C; the host answers with STDOUT and STDERR frames as the verb
writes, then EXIT. Nothing in a frame is ever run through a shell.

The payloads are bytes and NUL-separated words (no argument can hold a
NUL): a CLI call pays for no JSON or struct module.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _socket import socket

HEADER_SIZE = 5
#: The largest frame either end accepts.
MAX_FRAME = 64 << 20

HELLO = b"H"  # host, first: its code id (no hello: no server behind the channel)
REQUEST = b"R"  # client: code id, host as named, its ssh to attach, the argv: NUL-separated
STDIN = b"I"  # client: bytes for the verb's standard input
STDIN_END = b"i"  # client: the end of that input
SIGNAL = b"S"  # client: the user pressed Ctrl-C
STDOUT = b"O"  # host: what the verb wrote to its standard output
STDERR = b"E"  # host: ... and to its standard error
EXIT = b"X"  # host: the verb's exit status in digits (empty: another version asked)
API = b"A"  # client, instead of REQUEST: code id, then JSON options (Server(host=...))
CALL = b"C"  # client: JSON [session name or null, method, args, kwargs]
RESULT = b"r"  # host: JSON {"value": ...} or {"error": ...}


class ProtocolError(Exception):
    """The other end sent something that is not a frame."""


def words(*items: str) -> bytes:
    return "\0".join(items).encode("utf-8", "surrogateescape")


def split_words(data: bytes) -> list[str]:
    return data.decode("utf-8", "surrogateescape").split("\0")


class Wire:
    """Frames over a connected socket (one sender at a time)."""

    def __init__(self, sock: socket) -> None:
        self.sock = sock
        self._buffer = bytearray()

    def send(self, kind: bytes, data: bytes = b"") -> None:
        self.sock.sendall(kind + len(data).to_bytes(4, "big") + data)

    def buffered(self) -> bool:
        """Whether bytes of a next frame were read already (poll cannot tell)."""
        return bool(self._buffer)

    def read(self, deadline: float | None = None) -> tuple[bytes, bytes] | None:
        """The next frame as (kind, data); None when the other end closed
        between frames. ProtocolError for a frame cut short or too big;
        TimeoutError when it is not whole by ``deadline`` (time.monotonic())."""
        while True:
            if len(self._buffer) >= HEADER_SIZE:
                size = int.from_bytes(self._buffer[1:HEADER_SIZE], "big")
                if size > MAX_FRAME:
                    raise ProtocolError(f"a frame of {size} bytes")
                end = HEADER_SIZE + size
                if len(self._buffer) >= end:
                    kind, data = bytes(self._buffer[:1]), bytes(self._buffer[HEADER_SIZE:end])
                    del self._buffer[:end]
                    return kind, data
            if deadline is not None:  # for the whole frame: not a timeout per recv
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no whole frame in time")
                self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            finally:
                if deadline is not None:
                    self.sock.settimeout(None)  # (nothing else is bound by it)
            if not chunk:
                if self._buffer:
                    raise ProtocolError("the connection closed inside a frame")
                return None
            self._buffer += chunk
